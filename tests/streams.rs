//! Stream commands over TCP, each reply compared byte for byte with what redis-server 7.0.15
//! sends (the expected bytes were recorded from it), and blocked XREAD/XREADGROUP clients woken
//! by XADD, XGROUP DESTROY and DEL from other connections. Every case runs on one thread and on
//! four, where keys and clients spread over the threads.

use rustis_storage::ManualClock;
use rustis_tests::{check, each, run_cases_on_threads, show, RawConn, TestServer, THREADS};

fn reply(c: &mut RawConn, want: &[u8]) {
    let got = c.read_reply();
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want));
}

#[test]
fn xadd_ids_and_errors_reply_like_redis() {
    // XADD's ID forms, options and errors
    run_cases_on_threads(&[
        (&["XADD", "s", "1-1", "a", "1", "b", "2"], Some(b"$3\r\n1-1\r\n")),
        (&["XADD", "s", "1-1", "a", "1"], Some(b"-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n")),
        (&["XADD", "s", "1-*", "a", "1"], Some(b"$3\r\n1-2\r\n")),
        (&["XADD", "s", "5", "c", "3"], Some(b"$3\r\n5-0\r\n")),
        (&["XADD", "s", "0-0", "c", "3"], Some(b"-ERR The ID specified in XADD must be greater than 0-0\r\n")),
        (&["XADD", "s2", "0-*", "c", "3"], Some(b"$3\r\n0-1\r\n")),
        (&["XADD", "s", "5-*", "f", "v"], Some(b"$3\r\n5-1\r\n")),
        (&["XADD", "s", "18446744073709551615-*", "f", "v"], Some(b"$22\r\n18446744073709551615-0\r\n")),
        (&["XADD", "s"], Some(b"-ERR wrong number of arguments for 'xadd' command\r\n")),
        (&["XADD", "s", "*"], Some(b"-ERR wrong number of arguments for 'xadd' command\r\n")),
        (&["XADD", "s", "13", "a"], Some(b"-ERR wrong number of arguments for 'xadd' command\r\n")),
        (&["XADD", "s", "13", "a", "b", "c"], Some(b"-ERR wrong number of arguments for 'xadd' command\r\n")),
        (&["XADD", "s", "x", "a", "b"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XADD", "s", "1-x", "a", "b"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XADD", "s", "-1", "a", "b"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XADD", "s", "+", "a", "b"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XADD", "s", "NOMKSTREAM", "12", "a", "b"], Some(b"-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n")),
        (&["XADD", "nokey", "NOMKSTREAM", "12", "a", "b"], Some(b"$-1\r\n")),
        (&["EXISTS", "nokey"], Some(b":0\r\n")),
        (&["XADD", "s", "MAXLEN", "-1", "14", "a", "b"], Some(b"-ERR The MAXLEN argument must be >= 0.\r\n")),
        (&["XADD", "s", "MAXLEN", "x", "14", "a", "b"], Some(b"-ERR value is not an integer or out of range\r\n")),
        (&["XADD", "s", "MAXLEN", "1", "MINID", "1", "14", "a", "b"], Some(b"-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n")),
        (&["XADD", "s", "LIMIT", "10", "14", "a", "b"], Some(b"-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n")),
        (&["XADD", "s", "MAXLEN", "1", "LIMIT", "10", "14", "a", "b"], Some(b"-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n")),
        (&["XADD", "s", "MAXLEN", "~", "1", "LIMIT", "-1", "14", "a", "b"], Some(b"-ERR The LIMIT argument must be >= 0.\r\n")),
        (&["XADD", "s", "MINID", "-", "14", "a", "b"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XADD", "s", "MAXLEN", "2", "14", "a", "b"], Some(b"-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n")),
        (&["XLEN", "s"], Some(b":5\r\n")),
        (&["XRANGE", "s", "-", "+"], Some(b"*5\r\n*2\r\n$3\r\n1-1\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n")),
        (&["XADD", "s", "18446744073709551615-18446744073709551615", "a", "b"], Some(b"$41\r\n18446744073709551615-18446744073709551615\r\n")),
        (&["XADD", "s", "18446744073709551615-18446744073709551615", "a", "b"], Some(b"-ERR The stream has exhausted the last possible ID, unable to add more items\r\n")),
        (&["XADD", "s", "*", "a", "b"], Some(b"-ERR The stream has exhausted the last possible ID, unable to add more items\r\n")),
        (&["XADD", "s", "18446744073709551615-*", "a", "b"], Some(b"-ERR The stream has exhausted the last possible ID, unable to add more items\r\n")),
        (&["SET", "str", "x"], Some(b"+OK\r\n")),
        (&["XADD", "str", "1", "a", "b"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["XLEN", "str"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["XLEN", "nokey"], Some(b":0\r\n")),
        (&["TYPE", "s"], Some(b"+stream\r\n")),
        (&["OBJECT", "ENCODING", "s"], Some(b"$6\r\nstream\r\n")),
    ]);
}
#[test]
fn xrange_and_xrevrange_reply_like_redis() {
    // XRANGE and XREVRANGE: bounds, exclusive bounds, COUNT, errors
    run_cases_on_threads(&[
        (&["XADD", "s", "1-0", "a", "1"], Some(b"$3\r\n1-0\r\n")),
        (&["XADD", "s", "1-1", "b", "2"], Some(b"$3\r\n1-1\r\n")),
        (&["XADD", "s", "2-0", "c", "3"], Some(b"$3\r\n2-0\r\n")),
        (&["XADD", "s", "3-5", "d", "4", "e", "5"], Some(b"$3\r\n3-5\r\n")),
        (&["XRANGE", "s", "-", "+"], Some(b"*4\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n3-5\r\n*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n")),
        (&["XRANGE", "s", "1", "1"], Some(b"*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n")),
        (&["XRANGE", "s", "(1-0", "+"], Some(b"*3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n3-5\r\n*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n")),
        (&["XRANGE", "s", "-", "(3-5"], Some(b"*3\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n")),
        (&["XRANGE", "s", "(1-1", "(3-5"], Some(b"*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n")),
        (&["XRANGE", "s", "2", "+"], Some(b"*2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n3-5\r\n*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n")),
        (&["XRANGE", "s", "-", "+", "COUNT", "2"], Some(b"*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n")),
        (&["XRANGE", "s", "-", "+", "COUNT", "0"], Some(b"*-1\r\n")),
        (&["XRANGE", "s", "-", "+", "COUNT", "-3"], Some(b"*-1\r\n")),
        (&["XRANGE", "s", "-", "+", "COUNT", "x"], Some(b"-ERR value is not an integer or out of range\r\n")),
        (&["XRANGE", "s", "-", "+", "COUNT"], Some(b"-ERR syntax error\r\n")),
        (&["XRANGE", "s", "-", "+", "foo", "1"], Some(b"-ERR syntax error\r\n")),
        (&["XRANGE", "s", "x", "+"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XRANGE", "s", "-", "x"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XRANGE", "s", "(-", "+"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XRANGE", "s", "(", "+"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"], Some(b"-ERR invalid start ID for the interval\r\n")),
        (&["XRANGE", "s", "-", "(0-0"], Some(b"-ERR invalid end ID for the interval\r\n")),
        (&["XRANGE", "s", "3", "1"], Some(b"*0\r\n")),
        (&["XREVRANGE", "s", "+", "-"], Some(b"*4\r\n*2\r\n$3\r\n3-5\r\n*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n")),
        (&["XREVRANGE", "s", "+", "-", "COUNT", "1"], Some(b"*1\r\n*2\r\n$3\r\n3-5\r\n*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n")),
        (&["XREVRANGE", "s", "(3-5", "-"], Some(b"*3\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n")),
        (&["XREVRANGE", "s", "2", "1"], Some(b"*3\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n")),
        (&["XREVRANGE", "s", "-", "+"], Some(b"*0\r\n")),
        (&["XRANGE", "nokey", "-", "+"], Some(b"*0\r\n")),
        (&["XREVRANGE", "nokey", "+", "-"], Some(b"*0\r\n")),
        (&["SET", "str", "x"], Some(b"+OK\r\n")),
        (&["XRANGE", "str", "-", "+"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["XRANGE", "str", "x", "+"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
    ]);
}
#[test]
fn xdel_and_xtrim_reply_like_redis() {
    // XDEL and XTRIM, exact and approximate, with small nodes
    run_cases_on_threads(&[
        (&["CONFIG", "SET", "stream-node-max-entries", "3"], Some(b"+OK\r\n")),
        (&["XADD", "s", "1", "a", "1"], Some(b"$3\r\n1-0\r\n")),
        (&["XADD", "s", "2", "a", "1"], Some(b"$3\r\n2-0\r\n")),
        (&["XADD", "s", "3", "a", "1"], Some(b"$3\r\n3-0\r\n")),
        (&["XADD", "s", "4", "a", "1"], Some(b"$3\r\n4-0\r\n")),
        (&["XADD", "s", "5", "a", "1"], Some(b"$3\r\n5-0\r\n")),
        (&["XADD", "s", "6", "a", "1"], Some(b"$3\r\n6-0\r\n")),
        (&["XADD", "s", "7", "a", "1"], Some(b"$3\r\n7-0\r\n")),
        (&["XADD", "s", "8", "a", "1"], Some(b"$3\r\n8-0\r\n")),
        (&["XADD", "s", "9", "a", "1"], Some(b"$3\r\n9-0\r\n")),
        (&["XADD", "s", "10", "a", "1"], Some(b"$4\r\n10-0\r\n")),
        (&["XTRIM", "s"], Some(b"-ERR wrong number of arguments for 'xtrim' command\r\n")),
        (&["XTRIM", "s", "MAXLEN"], Some(b"-ERR wrong number of arguments for 'xtrim' command\r\n")),
        (&["XTRIM", "s", "FOO", "1"], Some(b"-ERR syntax error\r\n")),
        (&["XTRIM", "s", "MAXLEN", "5", "MINID", "1"], Some(b"-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n")),
        (&["XTRIM", "s", "MAXLEN", "~", "8"], Some(b":0\r\n")),
        (&["XLEN", "s"], Some(b":10\r\n")),
        (&["XTRIM", "s", "MAXLEN", "~", "5"], Some(b":3\r\n")),
        (&["XLEN", "s"], Some(b":7\r\n")),
        (&["XRANGE", "s", "-", "+", "COUNT", "1"], Some(b"*1\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n")),
        (&["XTRIM", "s", "MAXLEN", "=", "5"], Some(b":2\r\n")),
        (&["XLEN", "s"], Some(b":5\r\n")),
        (&["XTRIM", "s", "MINID", "~", "9"], Some(b":1\r\n")),
        (&["XLEN", "s"], Some(b":4\r\n")),
        (&["XTRIM", "s", "MINID", "9"], Some(b":2\r\n")),
        (&["XRANGE", "s", "-", "+"], Some(b"*2\r\n*2\r\n$3\r\n9-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$4\r\n10-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n")),
        (&["XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "1"], Some(b":1\r\n")),
        (&["XTRIM", "s", "MAXLEN", "0", "LIMIT", "1"], Some(b"-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n")),
        (&["XTRIM", "nokey", "MAXLEN", "0"], Some(b":0\r\n")),
        (&["XDEL", "s", "10", "10", "11"], Some(b":1\r\n")),
        (&["XDEL", "s", "x"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XDEL", "s", "1", "x"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XDEL", "nokey", "1"], Some(b":0\r\n")),
        (&["XLEN", "s"], Some(b":0\r\n")),
        (&["EXISTS", "s"], Some(b":1\r\n")),
        (&["XADD", "s", "MAXLEN", "~", "0", "11", "a", "1"], Some(b"$4\r\n11-0\r\n")),
        (&["XADD", "s", "MAXLEN", "0", "12", "a", "1"], Some(b"$4\r\n12-0\r\n")),
        (&["XLEN", "s"], Some(b":0\r\n")),
        (&["EXISTS", "s"], Some(b":1\r\n")),
        (&["SET", "str", "x"], Some(b"+OK\r\n")),
        (&["XDEL", "str", "1"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["XTRIM", "str", "MAXLEN", "1"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["CONFIG", "SET", "stream-node-max-entries", "100"], Some(b"+OK\r\n")),
    ]);
}
#[test]
fn xread_replies_like_redis() {
    // XREAD without BLOCK over streams that may live on different shards
    run_cases_on_threads(&[
        (&["XADD", "a", "1", "f", "1"], Some(b"$3\r\n1-0\r\n")),
        (&["XADD", "a", "2", "f", "2"], Some(b"$3\r\n2-0\r\n")),
        (&["XADD", "b", "1", "g", "1"], Some(b"$3\r\n1-0\r\n")),
        (&["XADD", "c", "5", "h", "1"], Some(b"$3\r\n5-0\r\n")),
        (&["XREAD", "STREAMS", "a", "0"], Some(b"*1\r\n*2\r\n$1\r\na\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n")),
        (&["XREAD", "COUNT", "1", "STREAMS", "a", "0"], Some(b"*1\r\n*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n")),
        (&["XREAD", "COUNT", "0", "STREAMS", "a", "0"], Some(b"*1\r\n*2\r\n$1\r\na\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n")),
        (&["XREAD", "COUNT", "-1", "STREAMS", "a", "1"], Some(b"*1\r\n*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n")),
        (&["XREAD", "STREAMS", "a", "b", "c", "nokey", "0", "0", "0", "0"], Some(b"*3\r\n*2\r\n$1\r\na\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n*2\r\n$1\r\nb\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\ng\r\n$1\r\n1\r\n*2\r\n$1\r\nc\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\nh\r\n$1\r\n1\r\n")),
        (&["XREAD", "STREAMS", "a", "b", "c", "1", "1", "5"], Some(b"*1\r\n*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n")),
        (&["XREAD", "STREAMS", "a", "b", "c", "$", "$", "$"], Some(b"*-1\r\n")),
        (&["XREAD", "STREAMS", "a", "b", "2", "0"], Some(b"*1\r\n*2\r\n$1\r\nb\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\ng\r\n$1\r\n1\r\n")),
        (&["XREAD", "STREAMS", "a", ">"], Some(b"-ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.\r\n")),
        (&["XREAD", "STREAMS", "a", "x"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XREAD", "STREAMS", "a", "-"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XREAD", "STREAMS", "a"], Some(b"-ERR wrong number of arguments for 'xread' command\r\n")),
        (&["XREAD", "STREAMS", "a", "b", "0"], Some(b"-ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.\r\n")),
        (&["XREAD", "COUNT", "x", "STREAMS", "a", "0"], Some(b"-ERR value is not an integer or out of range\r\n")),
        (&["XREAD", "BLOCK", "x", "STREAMS", "a", "0"], Some(b"-ERR timeout is not an integer or out of range\r\n")),
        (&["XREAD", "BLOCK", "-1", "STREAMS", "a", "0"], Some(b"-ERR timeout is negative\r\n")),
        (&["XREAD", "GROUP", "g", "c", "STREAMS", "a", "0"], Some(b"-ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.\r\n")),
        (&["XREAD", "NOACK", "STREAMS", "a", "0"], Some(b"-ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.\r\n")),
        (&["XREAD", "FOO", "STREAMS", "a", "0"], Some(b"-ERR syntax error\r\n")),
        (&["XREAD", "COUNT", "1", "a", "0"], Some(b"-ERR syntax error\r\n")),
        (&["XREAD", "BLOCK", "10", "STREAMS", "a", "b", "0", "0"], Some(b"*2\r\n*2\r\n$1\r\na\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n*2\r\n$1\r\nb\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\ng\r\n$1\r\n1\r\n")),
        (&["XREAD", "BLOCK", "10", "STREAMS", "a", "1"], Some(b"*1\r\n*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n")),
        (&["SET", "str", "x"], Some(b"+OK\r\n")),
        (&["XREAD", "STREAMS", "a", "str", "0", "0"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["XREAD", "STREAMS", "str", "a", "x", "0"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["XREAD", "BLOCK", "10", "STREAMS", "str", "0"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
    ]);
}
#[test]
fn consumer_groups_reply_like_redis() {
    // XGROUP, XREADGROUP, XACK, XPENDING, XINFO GROUPS and XSETID
    run_cases_on_threads(&[
        (&["XADD", "t", "1", "a", "b"], Some(b"$3\r\n1-0\r\n")),
        (&["XADD", "t", "2", "a", "b"], Some(b"$3\r\n2-0\r\n")),
        (&["XADD", "t", "3", "a", "b"], Some(b"$3\r\n3-0\r\n")),
        (&["XDEL", "t", "2"], Some(b":1\r\n")),
        (&["XGROUP", "HELP"], Some(b"*17\r\n+XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CREATE <key> <groupname> <id|$> [option]\r\n+    Create a new consumer group. Options are:\r\n+    * MKSTREAM\r\n+      Create the empty stream if it does not exist.\r\n+    * ENTRIESREAD entries_read\r\n+      Set the group's entries_read counter (internal use).\r\n+CREATECONSUMER <key> <groupname> <consumer>\r\n+    Create a new consumer in the specified group.\r\n+DELCONSUMER <key> <groupname> <consumer>\r\n+    Remove the specified consumer.\r\n+DESTROY <key> <groupname>\r\n+    Remove the specified group.\r\n+SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]\r\n+    Set the current group ID and entries_read counter.\r\n+HELP\r\n+    Prints this help.\r\n")),
        (&["XGROUP", "CREATE", "t", "g", "$"], Some(b"+OK\r\n")),
        (&["XGROUP", "CREATE", "t", "g", "$"], Some(b"-BUSYGROUP Consumer Group name already exists\r\n")),
        (&["XGROUP", "CREATE", "t", "g2", "0", "ENTRIESREAD", "1"], Some(b"+OK\r\n")),
        (&["XGROUP", "CREATE", "t", "g3", "0", "ENTRIESREAD", "-2"], Some(b"-ERR value for ENTRIESREAD must be positive or -1\r\n")),
        (&["XGROUP", "CREATE", "t", "g3", "0", "ENTRIESREAD", "x"], Some(b"-ERR value is not an integer or out of range\r\n")),
        (&["XGROUP", "CREATE", "nokey", "g", "0"], Some(b"-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n")),
        (&["XGROUP", "CREATE", "nokey", "g", "0", "MKSTREAM"], Some(b"+OK\r\n")),
        (&["XLEN", "nokey"], Some(b":0\r\n")),
        (&["XGROUP", "CREATE", "t", "g4", "bad"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XGROUP", "CREATE", "t", "g5", "0", "foo"], Some(b"-ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.\r\n")),
        (&["XGROUP", "CREATE", "t", "g5"], Some(b"-ERR wrong number of arguments for 'xgroup|create' command\r\n")),
        (&["XGROUP", "FOO", "t", "g5"], Some(b"-ERR unknown subcommand 'FOO'. Try XGROUP HELP.\r\n")),
        (&["XGROUP", "SETID", "t", "nog", "0"], Some(b"-NOGROUP No such consumer group 'nog' for key name 't'\r\n")),
        (&["XGROUP", "SETID", "t", "g", "1"], Some(b"+OK\r\n")),
        (&["XGROUP", "SETID", "t", "g", "1", "ENTRIESREAD", "1"], Some(b"+OK\r\n")),
        (&["XGROUP", "SETID", "t", "g", "1", "MKSTREAM"], Some(b"-ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.\r\n")),
        (&["XGROUP", "CREATECONSUMER", "t", "g", "alice"], Some(b":1\r\n")),
        (&["XGROUP", "CREATECONSUMER", "t", "g", "alice"], Some(b":0\r\n")),
        (&["XGROUP", "CREATECONSUMER", "t", "nog", "alice"], Some(b"-NOGROUP No such consumer group 'nog' for key name 't'\r\n")),
        (&["XGROUP", "DESTROY", "nokey2", "g"], Some(b"-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n")),
        (&["XINFO", "GROUPS", "t"], Some(b"*2\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n$-1\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n$-1\r\n")),
        (&["XREADGROUP", "GROUP", "g2", "bob", "STREAMS", "t", ">"], Some(b"*1\r\n*2\r\n$1\r\nt\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n")),
        (&["XREADGROUP", "GROUP", "g2", "bob", "STREAMS", "t", "0"], Some(b"*1\r\n*2\r\n$1\r\nt\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n")),
        (&["XREADGROUP", "GROUP", "g2", "bob", "STREAMS", "t", ">"], Some(b"*-1\r\n")),
        (&["XREADGROUP", "GROUP", "g2", "bob", "COUNT", "1", "STREAMS", "t", "0"], Some(b"*1\r\n*2\r\n$1\r\nt\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n")),
        (&["XREADGROUP", "GROUP", "g2", "bob", "STREAMS", "t", "1"], Some(b"*1\r\n*2\r\n$1\r\nt\r\n*1\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n")),
        (&["XREADGROUP", "GROUP", "g2", "carol", "STREAMS", "t", "0"], Some(b"*1\r\n*2\r\n$1\r\nt\r\n*0\r\n")),
        (&["XPENDING", "t", "g2"], Some(b"*4\r\n:2\r\n$3\r\n1-0\r\n$3\r\n3-0\r\n*1\r\n*2\r\n$3\r\nbob\r\n$1\r\n2\r\n")),
        (&["XPENDING", "t", "g2", "-", "+", "10", "nobody"], Some(b"*0\r\n")),
        (&["XPENDING", "t", "nog"], Some(b"-NOGROUP No such key 't' or consumer group 'nog'\r\n")),
        (&["XPENDING", "nokey3", "g"], Some(b"-NOGROUP No such key 'nokey3' or consumer group 'g'\r\n")),
        (&["XPENDING", "t", "g2", "-", "+"], Some(b"-ERR syntax error\r\n")),
        (&["XPENDING", "t", "g2", "-", "+", "x"], Some(b"-ERR value is not an integer or out of range\r\n")),
        (&["XPENDING", "t", "g2", "x", "+", "1"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XPENDING", "t", "g2", "IDLE", "x", "-", "+", "1"], Some(b"-ERR value is not an integer or out of range\r\n")),
        (&["XPENDING", "t", "g2", "IDLE", "1", "-", "+"], Some(b"-ERR syntax error\r\n")),
        (&["XACK", "t", "g2", "1-0", "5-0"], Some(b":1\r\n")),
        (&["XACK", "t", "g2", "x"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XACK", "t", "nog", "1"], Some(b":0\r\n")),
        (&["XACK", "nokey3", "g", "1"], Some(b":0\r\n")),
        (&["XPENDING", "t", "g2"], Some(b"*4\r\n:1\r\n$3\r\n3-0\r\n$3\r\n3-0\r\n*1\r\n*2\r\n$3\r\nbob\r\n$1\r\n1\r\n")),
        (&["XGROUP", "DELCONSUMER", "t", "g2", "bob"], Some(b":1\r\n")),
        (&["XGROUP", "DELCONSUMER", "t", "g2", "bob"], Some(b":0\r\n")),
        (&["XPENDING", "t", "g2"], Some(b"*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n")),
        (&["XGROUP", "DESTROY", "t", "g2"], Some(b":1\r\n")),
        (&["XGROUP", "DESTROY", "t", "g2"], Some(b":0\r\n")),
        (&["XINFO", "GROUPS", "t"], Some(b"*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n$-1\r\n")),
        (&["XREADGROUP", "STREAMS", "t", "0"], Some(b"-ERR wrong number of arguments for 'xreadgroup' command\r\n")),
        (&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "t", "$"], Some(b"-ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.\r\n")),
        (&["XREADGROUP", "GROUP", "nog", "c", "STREAMS", "t", ">"], Some(b"-NOGROUP No such key 't' or consumer group 'nog' in XREADGROUP with GROUP option\r\n")),
        (&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "nokey3", ">"], Some(b"-NOGROUP No such key 'nokey3' or consumer group 'g' in XREADGROUP with GROUP option\r\n")),
        (&["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "t", ">"], Some(b"*1\r\n*2\r\n$1\r\nt\r\n*1\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n")),
        (&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "t", ">"], Some(b"*-1\r\n")),
        (&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "t", ">"], Some(b"*-1\r\n")),
        (&["XDEL", "t", "3"], Some(b":1\r\n")),
        (&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "t", "0"], Some(b"*1\r\n*2\r\n$1\r\nt\r\n*1\r\n*2\r\n$3\r\n3-0\r\n*-1\r\n")),
        (&["XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "t", ">"], Some(b"*-1\r\n")),
        (&["XADD", "t", "4", "x", "y"], Some(b"$3\r\n4-0\r\n")),
        (&["XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "t", ">"], Some(b"*1\r\n*2\r\n$1\r\nt\r\n*1\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n")),
        (&["XPENDING", "t", "g"], Some(b"*4\r\n:1\r\n$3\r\n3-0\r\n$3\r\n3-0\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n1\r\n")),
        (&["XINFO", "GROUPS", "t"], Some(b"*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:2\r\n$7\r\npending\r\n:1\r\n$17\r\nlast-delivered-id\r\n$3\r\n4-0\r\n$12\r\nentries-read\r\n:3\r\n$3\r\nlag\r\n:1\r\n")),
        (&["XSETID", "t", "2"], Some(b"-ERR The ID specified in XSETID is smaller than the target stream top item\r\n")),
        (&["XSETID", "t", "5"], Some(b"+OK\r\n")),
        (&["XSETID", "t", "6", "ENTRIESADDED", "1"], Some(b"-ERR The entries_added specified in XSETID is smaller than the target stream length\r\n")),
        (&["XSETID", "t", "6", "ENTRIESADDED", "-1"], Some(b"-ERR entries_added must be positive\r\n")),
        (&["XSETID", "t", "6", "ENTRIESADDED", "10", "MAXDELETEDID", "2"], Some(b"+OK\r\n")),
        (&["XSETID", "t", "6", "MAXDELETEDID", "7"], Some(b"-ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id\r\n")),
        (&["XSETID", "t", "6", "FOO"], Some(b"-ERR syntax error\r\n")),
        (&["XSETID", "t", "-"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XSETID", "nokey3", "1"], Some(b"-ERR no such key\r\n")),
        (&["XINFO", "GROUPS", "t"], Some(b"*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:2\r\n$7\r\npending\r\n:1\r\n$17\r\nlast-delivered-id\r\n$3\r\n4-0\r\n$12\r\nentries-read\r\n:3\r\n$3\r\nlag\r\n:7\r\n")),
        (&["XINFO", "HELP"], Some(b"*9\r\n+XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CONSUMERS <key> <groupname>\r\n+    Show consumers of <groupname>.\r\n+GROUPS <key>\r\n+    Show the stream consumer groups.\r\n+STREAM <key> [FULL [COUNT <count>]\r\n+    Show information about the stream.\r\n+HELP\r\n+    Prints this help.\r\n")),
        (&["XINFO", "FOO", "t"], Some(b"-ERR unknown subcommand 'FOO'. Try XINFO HELP.\r\n")),
        (&["XINFO", "STREAM", "nokey3"], Some(b"-ERR no such key\r\n")),
        (&["XINFO", "GROUPS", "nokey3"], Some(b"-ERR no such key\r\n")),
        (&["XINFO", "CONSUMERS", "t", "nog"], Some(b"-NOGROUP No such consumer group 'nog' for key name 't'\r\n")),
        (&["SET", "str", "x"], Some(b"+OK\r\n")),
        (&["XINFO", "STREAM", "str"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["XGROUP", "CREATE", "str", "g", "0"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", "0"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["XACK", "str", "g", "1"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["XPENDING", "str", "g"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
    ]);
}
#[test]
fn xclaim_and_xautoclaim_reply_like_redis() {
    // XCLAIM's options and XAUTOCLAIM's cursor, deleted entries and errors
    run_cases_on_threads(&[
        (&["XADD", "t", "1", "a", "1"], Some(b"$3\r\n1-0\r\n")),
        (&["XADD", "t", "2", "b", "2"], Some(b"$3\r\n2-0\r\n")),
        (&["XADD", "t", "3", "c", "3"], Some(b"$3\r\n3-0\r\n")),
        (&["XADD", "t", "4", "d", "4"], Some(b"$3\r\n4-0\r\n")),
        (&["XGROUP", "CREATE", "t", "g", "0"], Some(b"+OK\r\n")),
        (&["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "t", ">"], Some(b"*1\r\n*2\r\n$1\r\nt\r\n*4\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$1\r\nd\r\n$1\r\n4\r\n")),
        (&["XCLAIM", "t", "g", "c2", "0", "1"], Some(b"*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n")),
        (&["XCLAIM", "t", "g", "c2", "0", "1", "JUSTID"], Some(b"*1\r\n$3\r\n1-0\r\n")),
        (&["XCLAIM", "t", "g", "c2", "0", "2", "3", "JUSTID", "RETRYCOUNT", "7"], Some(b"*2\r\n$3\r\n2-0\r\n$3\r\n3-0\r\n")),
        (&["XCLAIM", "t", "g", "c2", "3600000", "1", "2"], Some(b"*0\r\n")),
        (&["XCLAIM", "t", "g", "c2", "0", "9", "FORCE"], Some(b"*0\r\n")),
        (&["XCLAIM", "t", "g", "c2", "0", "4", "FOO"], Some(b"-ERR Unrecognized XCLAIM option 'FOO'\r\n")),
        (&["XCLAIM", "t", "g", "c2", "x", "1"], Some(b"-ERR Invalid min-idle-time argument for XCLAIM\r\n")),
        (&["XCLAIM", "t", "g", "c2", "0", "1", "IDLE", "x"], Some(b"-ERR Invalid IDLE option argument for XCLAIM\r\n")),
        (&["XCLAIM", "t", "g", "c2", "0", "1", "TIME", "x"], Some(b"-ERR Invalid TIME option argument for XCLAIM\r\n")),
        (&["XCLAIM", "t", "g", "c2", "0", "1", "RETRYCOUNT", "x"], Some(b"-ERR Invalid RETRYCOUNT option argument for XCLAIM\r\n")),
        (&["XCLAIM", "t", "g", "c2", "0", "1", "LASTID", "x"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XCLAIM", "t", "nog", "c2", "0", "1"], Some(b"-NOGROUP No such key 't' or consumer group 'nog'\r\n")),
        (&["XCLAIM", "nokey", "g", "c2", "0", "1"], Some(b"-NOGROUP No such key 'nokey' or consumer group 'g'\r\n")),
        (&["XDEL", "t", "4"], Some(b":1\r\n")),
        (&["XCLAIM", "t", "g", "c2", "0", "4"], Some(b"*0\r\n")),
        (&["XPENDING", "t", "g"], Some(b"*4\r\n:3\r\n$3\r\n1-0\r\n$3\r\n3-0\r\n*1\r\n*2\r\n$2\r\nc2\r\n$1\r\n3\r\n")),
        (&["XADD", "t", "5", "e", "5"], Some(b"$3\r\n5-0\r\n")),
        (&["XCLAIM", "t", "g", "c3", "0", "5", "FORCE", "JUSTID"], Some(b"*1\r\n$3\r\n5-0\r\n")),
        (&["XCLAIM", "t", "g", "c3", "0", "5", "LASTID", "9"], Some(b"*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n")),
        (&["XINFO", "GROUPS", "t"], Some(b"*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:3\r\n$7\r\npending\r\n:4\r\n$17\r\nlast-delivered-id\r\n$3\r\n9-0\r\n$12\r\nentries-read\r\n:4\r\n$3\r\nlag\r\n:1\r\n")),
        (&["XAUTOCLAIM", "t", "g", "c4", "0", "0"], Some(b"*3\r\n$3\r\n0-0\r\n*4\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n*0\r\n")),
        (&["XAUTOCLAIM", "t", "g", "c5", "0", "0", "COUNT", "1"], Some(b"*3\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*0\r\n")),
        (&["XAUTOCLAIM", "t", "g", "c5", "0", "0", "COUNT", "2", "JUSTID"], Some(b"*3\r\n$3\r\n3-0\r\n*2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n*0\r\n")),
        (&["XAUTOCLAIM", "t", "g", "c5", "0", "(1", "JUSTID"], Some(b"*3\r\n$3\r\n0-0\r\n*3\r\n$3\r\n2-0\r\n$3\r\n3-0\r\n$3\r\n5-0\r\n*0\r\n")),
        (&["XAUTOCLAIM", "t", "g", "c5", "0", "0", "COUNT", "0"], Some(b"-ERR COUNT must be > 0\r\n")),
        (&["XAUTOCLAIM", "t", "g", "c5", "0", "0", "COUNT", "x"], Some(b"-ERR COUNT must be > 0\r\n")),
        (&["XAUTOCLAIM", "t", "g", "c5", "0", "0", "FOO"], Some(b"-ERR syntax error\r\n")),
        (&["XAUTOCLAIM", "t", "g", "c5", "x", "0"], Some(b"-ERR Invalid min-idle-time argument for XAUTOCLAIM\r\n")),
        (&["XAUTOCLAIM", "t", "g", "c5", "0", "x"], Some(b"-ERR Invalid stream ID specified as stream command argument\r\n")),
        (&["XAUTOCLAIM", "t", "nog", "c5", "0", "0"], Some(b"-NOGROUP No such key 't' or consumer group 'nog'\r\n")),
        (&["XAUTOCLAIM", "nokey", "g", "c5", "0", "0"], Some(b"-NOGROUP No such key 'nokey' or consumer group 'g'\r\n")),
        (&["XDEL", "t", "2", "3"], Some(b":2\r\n")),
        (&["XAUTOCLAIM", "t", "g", "c6", "0", "0"], Some(b"*3\r\n$3\r\n0-0\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n*2\r\n$3\r\n2-0\r\n$3\r\n3-0\r\n")),
        (&["XPENDING", "t", "g"], Some(b"*4\r\n:2\r\n$3\r\n1-0\r\n$3\r\n5-0\r\n*1\r\n*2\r\n$2\r\nc6\r\n$1\r\n2\r\n")),
        (&["SET", "str", "x"], Some(b"+OK\r\n")),
        (&["XCLAIM", "str", "g", "c", "0", "1"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["XAUTOCLAIM", "str", "g", "c", "0", "0"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
    ]);
}
#[test]
fn streams_work_with_generic_commands() {
    // TYPE, OBJECT ENCODING, SCAN TYPE, COPY, RENAME, DEL and SORT of a stream
    run_cases_on_threads(&[
        (&["XADD", "{k}s", "1", "a", "b"], Some(b"$3\r\n1-0\r\n")),
        (&["XGROUP", "CREATE", "{k}s", "g", "0"], Some(b"+OK\r\n")),
        (&["TYPE", "{k}s"], Some(b"+stream\r\n")),
        (&["OBJECT", "ENCODING", "{k}s"], Some(b"$6\r\nstream\r\n")),
        (&["SCAN", "0", "TYPE", "stream"], Some(b"*2\r\n$1\r\n0\r\n*1\r\n$4\r\n{k}s\r\n")),
        (&["COPY", "{k}s", "{k}c"], Some(b":1\r\n")),
        (&["XRANGE", "{k}c", "-", "+"], Some(b"*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n")),
        (&["XINFO", "GROUPS", "{k}c"], Some(b"*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:1\r\n")),
        (&["RENAME", "{k}c", "{k}d"], Some(b"+OK\r\n")),
        (&["XLEN", "{k}d"], Some(b":1\r\n")),
        (&["COPY", "{k}s", "other"], Some(b":1\r\n")),
        (&["XLEN", "other"], Some(b":1\r\n")),
        (&["RENAME", "other", "other2"], Some(b"+OK\r\n")),
        (&["XLEN", "other2"], Some(b":1\r\n")),
        (&["SORT", "{k}s"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["SORT_RO", "{k}s"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["DEL", "{k}s", "{k}d", "other2"], Some(b":3\r\n")),
        (&["EXISTS", "{k}s"], Some(b":0\r\n")),
    ]);
}

#[test]
fn xinfo_stream_replies_like_redis() {
    // XINFO STREAM and STREAM FULL (without consumers, whose times vary), over several node layouts
    run_cases_on_threads(&[
        (&["XINFO", "STREAM", "s"], Some(b"-ERR no such key\r\n")),
        (&["XADD", "s", "1", "a", "1"], Some(b"$3\r\n1-0\r\n")),
        (&["XINFO", "STREAM", "s"], Some(b"*20\r\n$6\r\nlength\r\n:1\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n1-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:1\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n")),
        (&["CONFIG", "SET", "stream-node-max-entries", "2"], Some(b"+OK\r\n")),
        (&["XADD", "s", "2", "a", "1"], Some(b"$3\r\n2-0\r\n")),
        (&["XADD", "s", "3", "b", "2"], Some(b"$3\r\n3-0\r\n")),
        (&["XADD", "s", "4", "c", "3"], Some(b"$3\r\n4-0\r\n")),
        (&["XADD", "s", "256", "c", "3"], Some(b"$5\r\n256-0\r\n")),
        (&["XADD", "s", "65536", "c", "3"], Some(b"$7\r\n65536-0\r\n")),
        (&["XADD", "s", "65537", "c", "3"], Some(b"$7\r\n65537-0\r\n")),
        (&["XADD", "s", "65537-5", "c", "3"], Some(b"$7\r\n65537-5\r\n")),
        (&["XADD", "s", "18446744073709551615-0", "c", "3"], Some(b"$22\r\n18446744073709551615-0\r\n")),
        (&["XINFO", "STREAM", "s"], Some(b"*20\r\n$6\r\nlength\r\n:9\r\n$15\r\nradix-tree-keys\r\n:5\r\n$16\r\nradix-tree-nodes\r\n:15\r\n$17\r\nlast-generated-id\r\n$22\r\n18446744073709551615-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:9\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n")),
        (&["XDEL", "s", "3", "4"], Some(b":2\r\n")),
        (&["XINFO", "STREAM", "s"], Some(b"*20\r\n$6\r\nlength\r\n:7\r\n$15\r\nradix-tree-keys\r\n:4\r\n$16\r\nradix-tree-nodes\r\n:12\r\n$17\r\nlast-generated-id\r\n$22\r\n18446744073709551615-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n4-0\r\n$13\r\nentries-added\r\n:9\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n")),
        (&["XTRIM", "s", "MAXLEN", "3"], Some(b":4\r\n")),
        (&["XINFO", "STREAM", "s"], Some(b"*20\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:2\r\n$16\r\nradix-tree-nodes\r\n:5\r\n$17\r\nlast-generated-id\r\n$22\r\n18446744073709551615-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n4-0\r\n$13\r\nentries-added\r\n:9\r\n$23\r\nrecorded-first-entry-id\r\n$7\r\n65537-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$7\r\n65537-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n$10\r\nlast-entry\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n")),
        (&["XGROUP", "CREATE", "s", "g", "0"], Some(b"+OK\r\n")),
        (&["XGROUP", "CREATE", "s", "a", "$", "ENTRIESREAD", "3"], Some(b"+OK\r\n")),
        (&["XINFO", "STREAM", "s"], Some(b"*20\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:2\r\n$16\r\nradix-tree-nodes\r\n:5\r\n$17\r\nlast-generated-id\r\n$22\r\n18446744073709551615-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n4-0\r\n$13\r\nentries-added\r\n:9\r\n$23\r\nrecorded-first-entry-id\r\n$7\r\n65537-0\r\n$6\r\ngroups\r\n:2\r\n$11\r\nfirst-entry\r\n*2\r\n$7\r\n65537-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n$10\r\nlast-entry\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n")),
        (&["XINFO", "STREAM", "s", "FULL"], Some(b"*18\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:2\r\n$16\r\nradix-tree-nodes\r\n:5\r\n$17\r\nlast-generated-id\r\n$22\r\n18446744073709551615-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n4-0\r\n$13\r\nentries-added\r\n:9\r\n$23\r\nrecorded-first-entry-id\r\n$7\r\n65537-0\r\n$7\r\nentries\r\n*3\r\n*2\r\n$7\r\n65537-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$7\r\n65537-5\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n$6\r\ngroups\r\n*2\r\n*14\r\n$4\r\nname\r\n$1\r\na\r\n$17\r\nlast-delivered-id\r\n$22\r\n18446744073709551615-0\r\n$12\r\nentries-read\r\n:3\r\n$3\r\nlag\r\n:6\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n*14\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:3\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n")),
        (&["XINFO", "STREAM", "s", "FULL", "COUNT", "1"], Some(b"*18\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:2\r\n$16\r\nradix-tree-nodes\r\n:5\r\n$17\r\nlast-generated-id\r\n$22\r\n18446744073709551615-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n4-0\r\n$13\r\nentries-added\r\n:9\r\n$23\r\nrecorded-first-entry-id\r\n$7\r\n65537-0\r\n$7\r\nentries\r\n*1\r\n*2\r\n$7\r\n65537-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n$6\r\ngroups\r\n*2\r\n*14\r\n$4\r\nname\r\n$1\r\na\r\n$17\r\nlast-delivered-id\r\n$22\r\n18446744073709551615-0\r\n$12\r\nentries-read\r\n:3\r\n$3\r\nlag\r\n:6\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n*14\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:3\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n")),
        (&["XINFO", "STREAM", "s", "FULL", "COUNT", "0"], Some(b"*18\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:2\r\n$16\r\nradix-tree-nodes\r\n:5\r\n$17\r\nlast-generated-id\r\n$22\r\n18446744073709551615-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n4-0\r\n$13\r\nentries-added\r\n:9\r\n$23\r\nrecorded-first-entry-id\r\n$7\r\n65537-0\r\n$7\r\nentries\r\n*3\r\n*2\r\n$7\r\n65537-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$7\r\n65537-5\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n$6\r\ngroups\r\n*2\r\n*14\r\n$4\r\nname\r\n$1\r\na\r\n$17\r\nlast-delivered-id\r\n$22\r\n18446744073709551615-0\r\n$12\r\nentries-read\r\n:3\r\n$3\r\nlag\r\n:6\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n*14\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:3\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n")),
        (&["XINFO", "STREAM", "s", "FULL", "COUNT", "-5"], Some(b"*18\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:2\r\n$16\r\nradix-tree-nodes\r\n:5\r\n$17\r\nlast-generated-id\r\n$22\r\n18446744073709551615-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n4-0\r\n$13\r\nentries-added\r\n:9\r\n$23\r\nrecorded-first-entry-id\r\n$7\r\n65537-0\r\n$7\r\nentries\r\n*3\r\n*2\r\n$7\r\n65537-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$7\r\n65537-5\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n$6\r\ngroups\r\n*2\r\n*14\r\n$4\r\nname\r\n$1\r\na\r\n$17\r\nlast-delivered-id\r\n$22\r\n18446744073709551615-0\r\n$12\r\nentries-read\r\n:3\r\n$3\r\nlag\r\n:6\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n*14\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:3\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n")),
        (&["XINFO", "STREAM", "s", "FULL", "COUNT", "x"], Some(b"-ERR value is not an integer or out of range\r\n")),
        (&["XINFO", "STREAM", "s", "FULL", "x", "1"], Some(b"-ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.\r\n")),
        (&["XINFO", "STREAM", "s", "FOO"], Some(b"-ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.\r\n")),
        (&["XINFO", "STREAM", "s", "FULL", "COUNT"], Some(b"-ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.\r\n")),
        (&["XINFO", "STREAM", "s", "FULL", "COUNT", "1", "2"], Some(b"-ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.\r\n")),
        (&["XGROUP", "CREATE", "e", "g", "$", "MKSTREAM"], Some(b"+OK\r\n")),
        (&["XINFO", "STREAM", "e"], Some(b"*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n0-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:0\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:1\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n")),
        (&["XINFO", "STREAM", "e", "FULL"], Some(b"*18\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n0-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:0\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$7\r\nentries\r\n*0\r\n$6\r\ngroups\r\n*1\r\n*14\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n")),
        (&["CONFIG", "SET", "stream-node-max-entries", "100"], Some(b"+OK\r\n")),
    ]);
}

#[test]
fn a_stream_restored_from_before_7_0_gets_its_counters_as_redis_migrates_them() {
    // The payload of Redis's own test "Loading from legacy (Redis <= v6.2.x, rdb_ver < 10)
    // persistence", DUMPed by Redis 5 after XADD x 1-0 .. 6-0, XDEL x 3-0, XGROUP CREATE x g1 0
    // and g2 0, XREADGROUP GROUP g1 c11 COUNT 4 STREAMS x >, XTRIM x MAXLEN = 2. Every entry
    // counts as added, the first ID is the first live entry's, and each group's entries-read
    // is estimated from its last delivered ID.
    const PAYLOAD: &[u8] = b"\x0F\x01\x10\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\xC3\x40\x4A\x40\x57\x16\x57\x00\x00\x00\x23\x00\x02\x01\x04\x01\x01\x01\x84\x64\x61\x74\x61\x05\x00\x01\x03\x01\x00\x20\x01\x03\x81\x61\x02\x04\x20\x0A\x00\x01\x40\x0A\x00\x62\x60\x0A\x00\x02\x40\x0A\x00\x63\x60\x0A\x40\x22\x01\x81\x64\x20\x0A\x40\x39\x20\x0A\x00\x65\x60\x0A\x00\x05\x40\x0A\x00\x66\x20\x0A\x00\xFF\x02\x06\x00\x02\x02\x67\x31\x05\x00\x04\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x3E\xF7\x83\x43\x7A\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x3E\xF7\x83\x43\x7A\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x3E\xF7\x83\x43\x7A\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x3E\xF7\x83\x43\x7A\x01\x00\x00\x01\x01\x03\x63\x31\x31\x3E\xF7\x83\x43\x7A\x01\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x02\x67\x32\x00\x00\x00\x00\x09\x00\x3D\x52\xEF\x68\x67\x52\x1D\xFA";
    each(|s| {
        let mut c = s.raw();
        let got = c.cmd_bytes(&[b"RESTORE", b"x", b"0", PAYLOAD]);
        assert_eq!(show(&got), "+OK\r\n");
        check(&mut c, &["XINFO", "GROUPS", "x"], b"*2\r\n*12\r\n$4\r\nname\r\n$2\r\ng1\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:4\r\n$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:1\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:0\r\n$3\r\nlag\r\n:2\r\n");
        check(&mut c, &["XINFO", "STREAM", "x"], b"*20\r\n$6\r\nlength\r\n:2\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n6-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:2\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n5-0\r\n$6\r\ngroups\r\n:2\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$4\r\ndata\r\n$1\r\ne\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n6-0\r\n*2\r\n$4\r\ndata\r\n$1\r\nf\r\n");
    });
}

/// One stream's entries as a blocked XREAD(GROUP) is served them (RESP2): `[[key, entries]]`.
fn served(key: &str, entries: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut v = format!(
        "*1\r\n*2\r\n${}\r\n{key}\r\n*{}\r\n",
        key.len(),
        entries.len()
    );
    for (id, f, val) in entries {
        v += &format!(
            "*2\r\n${}\r\n{id}\r\n*2\r\n${}\r\n{f}\r\n${}\r\n{val}\r\n",
            id.len(),
            f.len(),
            val.len()
        );
    }
    v.into_bytes()
}

#[test]
fn xread_block_is_woken_by_xadd_from_another_connection() {
    each(|s| {
        let mut a = s.raw();
        let mut b = s.raw();
        // `$` on two streams (on two shards with four threads): the one that receives wins.
        a.send_cmd(&["XREAD", "BLOCK", "0", "STREAMS", "sa", "sb", "$", "$"]);
        s.wait_blocked(1);
        check(&mut b, &["XADD", "sb", "1", "f", "v"], b"$3\r\n1-0\r\n");
        reply(&mut a, &served("sb", &[("1-0", "f", "v")]));
        s.wait_blocked(0);
        // `$` means the last ID when it blocked: an existing stream's older entries are not
        // served, and an explicit ID is compared with what arrives.
        a.send_cmd(&["XREAD", "BLOCK", "0", "STREAMS", "sb", "$"]);
        s.wait_blocked(1);
        check(&mut b, &["XADD", "sb", "2", "g", "w"], b"$3\r\n2-0\r\n");
        reply(&mut a, &served("sb", &[("2-0", "g", "w")]));
        a.send_cmd(&["XREAD", "BLOCK", "0", "STREAMS", "sa", "5"]);
        s.wait_blocked(1);
        check(&mut b, &["XADD", "sa", "3", "x", "1"], b"$3\r\n3-0\r\n");
        check(&mut b, &["XADD", "sa", "6", "y", "2"], b"$3\r\n6-0\r\n");
        reply(&mut a, &served("sa", &[("6-0", "y", "2")]));
        // Several readers of one stream are all served the same entry.
        let mut c = s.raw();
        a.send_cmd(&["XREAD", "BLOCK", "0", "STREAMS", "sa", "$"]);
        s.wait_blocked(1);
        c.send_cmd(&["XREAD", "COUNT", "5", "BLOCK", "0", "STREAMS", "sa", "$"]);
        s.wait_blocked(2);
        check(&mut b, &["XADD", "sa", "7", "z", "3"], b"$3\r\n7-0\r\n");
        reply(&mut a, &served("sa", &[("7-0", "z", "3")]));
        reply(&mut c, &served("sa", &[("7-0", "z", "3")]));
        // With data already there, every stream that has some is in the reply, as without
        // BLOCK.
        check(
            &mut a,
            &["XREAD", "BLOCK", "0", "STREAMS", "sa", "sb", "6", "1"],
            b"*2\r\n*2\r\n$2\r\nsa\r\n*1\r\n*2\r\n$3\r\n7-0\r\n*2\r\n$1\r\nz\r\n$1\r\n3\r\n*2\r\n$2\r\nsb\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\ng\r\n$1\r\nw\r\n",
        );
        // A timeout is a null array; a key of another type is an error at once.
        check(
            &mut a,
            &["XREAD", "BLOCK", "20", "STREAMS", "none", "$"],
            b"*-1\r\n",
        );
        check(&mut b, &["SET", "str", "x"], b"+OK\r\n");
        check(
            &mut a,
            &["XREAD", "BLOCK", "0", "STREAMS", "str", "$"],
            b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        // RESP3: a map of one stream.
        a.cmd(&["HELLO", "3"]);
        a.send_cmd(&["XREAD", "BLOCK", "0", "STREAMS", "sx", "sb", "$", "$"]);
        s.wait_blocked(1);
        check(&mut b, &["XADD", "sb", "9", "f", "v"], b"$3\r\n9-0\r\n");
        reply(
            &mut a,
            b"%1\r\n$2\r\nsb\r\n*1\r\n*2\r\n$3\r\n9-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
        );
        check(
            &mut a,
            &["XREAD", "BLOCK", "20", "STREAMS", "none", "$"],
            b"_\r\n",
        );
    });
}

#[test]
fn xreadgroup_block_serves_new_entries_and_ends_with_the_group_or_key() {
    each(|s| {
        let mut a = s.raw();
        let mut b = s.raw();
        check(
            &mut b,
            &["XGROUP", "CREATE", "q", "grp", "$", "MKSTREAM"],
            b"+OK\r\n",
        );
        a.send_cmd(&[
            "XREADGROUP",
            "GROUP",
            "grp",
            "alice",
            "BLOCK",
            "0",
            "STREAMS",
            "q",
            ">",
        ]);
        s.wait_blocked(1);
        check(&mut b, &["XADD", "q", "5", "k", "v"], b"$3\r\n5-0\r\n");
        reply(&mut a, &served("q", &[("5-0", "k", "v")]));
        check(
            &mut b,
            &["XPENDING", "q", "grp"],
            b"*4\r\n:1\r\n$3\r\n5-0\r\n$3\r\n5-0\r\n*1\r\n*2\r\n$5\r\nalice\r\n$1\r\n1\r\n",
        );
        // Two consumers of one group: one entry goes to the first that blocked only.
        let mut c = s.raw();
        a.send_cmd(&[
            "XREADGROUP",
            "GROUP",
            "grp",
            "alice",
            "BLOCK",
            "0",
            "STREAMS",
            "q",
            ">",
        ]);
        s.wait_blocked(1);
        c.send_cmd(&[
            "XREADGROUP",
            "GROUP",
            "grp",
            "bob",
            "BLOCK",
            "0",
            "STREAMS",
            "q",
            ">",
        ]);
        s.wait_blocked(2);
        check(&mut b, &["XADD", "q", "6", "k", "w"], b"$3\r\n6-0\r\n");
        reply(&mut a, &served("q", &[("6-0", "k", "w")]));
        s.wait_blocked(1);
        check(&mut b, &["XADD", "q", "7", "k", "x"], b"$3\r\n7-0\r\n");
        reply(&mut c, &served("q", &[("7-0", "k", "x")]));
        // The group destroyed: NOGROUP. The stream deleted: UNBLOCKED.
        a.send_cmd(&[
            "XREADGROUP",
            "GROUP",
            "grp",
            "alice",
            "BLOCK",
            "0",
            "STREAMS",
            "q",
            ">",
        ]);
        s.wait_blocked(1);
        check(&mut b, &["XGROUP", "DESTROY", "q", "grp"], b":1\r\n");
        reply(
            &mut a,
            b"-NOGROUP the consumer group this client was blocked on no longer exists\r\n",
        );
        check(&mut b, &["XGROUP", "CREATE", "q", "grp", "$"], b"+OK\r\n");
        a.send_cmd(&[
            "XREADGROUP",
            "GROUP",
            "grp",
            "alice",
            "BLOCK",
            "0",
            "STREAMS",
            "q",
            ">",
        ]);
        s.wait_blocked(1);
        check(&mut b, &["DEL", "q"], b":1\r\n");
        reply(&mut a, b"-UNBLOCKED the stream key no longer exists\r\n");
        // A flush or a swap that takes the stream away ends the wait too.
        check(
            &mut b,
            &["XGROUP", "CREATE", "q", "grp", "$", "MKSTREAM"],
            b"+OK\r\n",
        );
        a.send_cmd(&[
            "XREADGROUP",
            "GROUP",
            "grp",
            "alice",
            "BLOCK",
            "0",
            "STREAMS",
            "q",
            ">",
        ]);
        s.wait_blocked(1);
        check(&mut b, &["FLUSHALL"], b"+OK\r\n");
        reply(&mut a, b"-UNBLOCKED the stream key no longer exists\r\n");
        check(
            &mut b,
            &["XGROUP", "CREATE", "q", "grp", "$", "MKSTREAM"],
            b"+OK\r\n",
        );
        a.send_cmd(&[
            "XREADGROUP",
            "GROUP",
            "grp",
            "alice",
            "BLOCK",
            "0",
            "STREAMS",
            "q",
            ">",
        ]);
        s.wait_blocked(1);
        check(&mut b, &["SWAPDB", "0", "1"], b"+OK\r\n");
        reply(&mut a, b"-UNBLOCKED the stream key no longer exists\r\n");
        check(&mut b, &["FLUSHALL"], b"+OK\r\n");
        // History (an ID instead of `>`) never blocks.
        check(
            &mut b,
            &["XGROUP", "CREATE", "q", "grp", "$", "MKSTREAM"],
            b"+OK\r\n",
        );
        check(
            &mut a,
            &[
                "XREADGROUP",
                "GROUP",
                "grp",
                "alice",
                "BLOCK",
                "0",
                "STREAMS",
                "q",
                "0",
            ],
            b"*1\r\n*2\r\n$1\r\nq\r\n*0\r\n",
        );
        check(
            &mut a,
            &[
                "XREADGROUP",
                "GROUP",
                "grp",
                "alice",
                "BLOCK",
                "20",
                "STREAMS",
                "q",
                ">",
            ],
            b"*-1\r\n",
        );
    });
}

/// One row of XPENDING's extended form.
fn idle_row(id: &str, consumer: &str, idle: u64, count: u64) -> String {
    format!(
        "*4\r\n${}\r\n{id}\r\n${}\r\n{consumer}\r\n:{idle}\r\n:{count}\r\n",
        id.len(),
        consumer.len()
    )
}

#[test]
fn delivery_times_follow_the_clock() {
    for t in THREADS {
        let clock = ManualClock::new(1_000_000);
        let s = TestServer::start_with_clock(t, clock.clone());
        let mut c = s.raw();
        // Auto IDs come from the clock; within one millisecond the sequence grows.
        check(
            &mut c,
            &["XADD", "s", "*", "f", "v"],
            b"$9\r\n1000000-0\r\n",
        );
        check(
            &mut c,
            &["XADD", "s", "*", "f", "w"],
            b"$9\r\n1000000-1\r\n",
        );
        check(&mut c, &["XGROUP", "CREATE", "s", "g", "0"], b"+OK\r\n");
        check(
            &mut c,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "alice",
                "COUNT",
                "1",
                "STREAMS",
                "s",
                ">",
            ],
            &served("s", &[("1000000-0", "f", "v")]),
        );
        clock.advance(5000);
        let one = |row: String| format!("*1\r\n{row}").into_bytes();
        check(
            &mut c,
            &["XPENDING", "s", "g", "-", "+", "10"],
            &one(idle_row("1000000-0", "alice", 5000, 1)),
        );
        check(
            &mut c,
            &["XPENDING", "s", "g", "IDLE", "6000", "-", "+", "10"],
            b"*0\r\n",
        );
        // Too recent for a claim of 6 s; old enough for one of 4 s, which counts a delivery.
        check(
            &mut c,
            &["XCLAIM", "s", "g", "bob", "6000", "1000000-0"],
            b"*0\r\n",
        );
        check(
            &mut c,
            &["XCLAIM", "s", "g", "bob", "4000", "1000000-0", "JUSTID"],
            b"*1\r\n$9\r\n1000000-0\r\n",
        );
        check(
            &mut c,
            &["XPENDING", "s", "g", "-", "+", "10"],
            &one(idle_row("1000000-0", "bob", 0, 1)),
        );
        // IDLE sets the delivery time in the past; TIME sets it outright (a future one is now).
        check(
            &mut c,
            &[
                "XCLAIM",
                "s",
                "g",
                "carol",
                "0",
                "1000000-0",
                "IDLE",
                "3000",
                "RETRYCOUNT",
                "9",
            ],
            b"*1\r\n*2\r\n$9\r\n1000000-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
        );
        check(
            &mut c,
            &["XPENDING", "s", "g", "-", "+", "10", "carol"],
            &one(idle_row("1000000-0", "carol", 3000, 9)),
        );
        check(
            &mut c,
            &[
                "XCLAIM",
                "s",
                "g",
                "carol",
                "0",
                "1000000-0",
                "TIME",
                "99999999",
                "JUSTID",
            ],
            b"*1\r\n$9\r\n1000000-0\r\n",
        );
        check(
            &mut c,
            &["XPENDING", "s", "g", "-", "+", "10"],
            &one(idle_row("1000000-0", "carol", 0, 9)),
        );
        // XAUTOCLAIM takes what has been idle long enough.
        clock.advance(2500);
        check(
            &mut c,
            &["XAUTOCLAIM", "s", "g", "dave", "3000", "0"],
            b"*3\r\n$3\r\n0-0\r\n*0\r\n*0\r\n",
        );
        check(
            &mut c,
            &["XAUTOCLAIM", "s", "g", "dave", "2000", "0", "JUSTID"],
            b"*3\r\n$3\r\n0-0\r\n*1\r\n$9\r\n1000000-0\r\n*0\r\n",
        );
        // Consumers' idle times: alice read at 1000000, bob and carol claimed at 1005000,
        // dave at 1007500.
        check(
            &mut c,
            &["XINFO", "CONSUMERS", "s", "g"],
            b"*4\r\n*6\r\n$4\r\nname\r\n$5\r\nalice\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:7500\r\n*6\r\n$4\r\nname\r\n$3\r\nbob\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:2500\r\n*6\r\n$4\r\nname\r\n$5\r\ncarol\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:2500\r\n*6\r\n$4\r\nname\r\n$4\r\ndave\r\n$7\r\npending\r\n:1\r\n$4\r\nidle\r\n:0\r\n",
        );
    }
}
