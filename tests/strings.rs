//! String commands over TCP, on 1 and 4 threads, against replies recorded from redis-server
//! 7.0.15.

use rustis_tests::{run_cases, TestServer};

#[test]
fn string_commands_match_redis_reply_for_reply() {
    for threads in [1, 4] {
        run_cases(threads, STRING_CASES);
    }
}

#[test]
fn msetnx_is_all_or_nothing_across_shards() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut raw = server.raw();
        assert_eq!(raw.cmd(&["set", "e", "x"]), b"+OK\r\n");
        let args = [
            "msetnx", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6",
        ];
        assert_eq!(raw.cmd(&args), b":0\r\n");
        assert_eq!(raw.cmd(&["exists", "a", "b", "c", "d", "f"]), b":0\r\n");
        assert_eq!(raw.cmd(&["del", "e"]), b":1\r\n");
        assert_eq!(raw.cmd(&args), b":1\r\n");
        assert_eq!(
            raw.cmd(&["mget", "a", "b", "c", "d", "e", "f"]),
            b"*6\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n"
        );
        // A key named twice: the last value wins, as in Redis.
        assert_eq!(raw.cmd(&["msetnx", "g", "1", "g", "2"]), b":1\r\n");
        assert_eq!(raw.cmd(&["get", "g"]), b"$1\r\n2\r\n");
    }
}

#[test]
fn lcs_reads_keys_on_different_shards() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut raw = server.raw();
        raw.cmd(&["set", "a", "ohmytext"]);
        raw.cmd(&["set", "b", "mynewtext"]);
        raw.cmd(&["set", "c", "mynewtext"]);
        assert_eq!(raw.cmd(&["lcs", "a", "b"]), b"$6\r\nmytext\r\n");
        assert_eq!(raw.cmd(&["lcs", "a", "c", "len"]), b":6\r\n");
        assert_eq!(raw.cmd(&["hello", "3"])[..1], *b"%");
        // RESP3: IDX is a map.
        assert_eq!(
            raw.cmd(&["lcs", "a", "b", "idx", "minmatchlen", "4"]),
            b"%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n"
        );
        assert_eq!(raw.cmd(&["getex", "nokey"]), b"_\r\n");
        assert_eq!(raw.cmd(&["getdel", "nokey"]), b"_\r\n");
    }
}

#[test]
fn string_encodings_follow_redis() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    let enc = |raw: &mut rustis_tests::RawConn, k: &str| raw.cmd(&["object", "encoding", k]);
    raw.cmd(&["set", "i", "-12345"]);
    assert_eq!(enc(&mut raw, "i"), b"$3\r\nint\r\n");
    raw.cmd(&["append", "i", "6"]);
    assert_eq!(enc(&mut raw, "i"), b"$3\r\nraw\r\n");
    assert_eq!(raw.cmd(&["incr", "i"]), b":-123455\r\n");
    assert_eq!(enc(&mut raw, "i"), b"$3\r\nint\r\n");
    raw.cmd(&["set", "s", "short"]);
    assert_eq!(enc(&mut raw, "s"), b"$6\r\nembstr\r\n");
    raw.cmd(&["setrange", "s", "0", "S"]);
    assert_eq!(enc(&mut raw, "s"), b"$3\r\nraw\r\n");
    assert_eq!(raw.cmd(&["get", "s"]), b"$5\r\nShort\r\n");
    raw.cmd(&["incrbyfloat", "f", "10"]);
    assert_eq!(enc(&mut raw, "f"), b"$6\r\nembstr\r\n");
}

#[test]
fn incrbyfloat_uses_long_double_precision() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    assert_eq!(raw.cmd(&["incrbyfloat", "f", "0.1"]), b"$3\r\n0.1\r\n");
    assert_eq!(raw.cmd(&["incrbyfloat", "f", "0.2"]), b"$3\r\n0.3\r\n");
    assert_eq!(raw.cmd(&["incrbyfloat", "f", "-0.3"]), b"$1\r\n0\r\n");
    assert_eq!(raw.cmd(&["set", "g", "1e308"]), b"+OK\r\n");
    assert_eq!(
        raw.cmd(&["incrbyfloat", "g", "1e308"])[..12],
        *b"$309\r\n199999"
    );
    assert_eq!(
        raw.cmd(&["incrbyfloat", "g", "inf"]),
        b"-ERR increment would produce NaN or Infinity\r\n"
    );
}

/// Recorded from redis-server 7.0.15: each command and its exact reply bytes.
pub const STRING_CASES: &[(&[&str], &[u8])] = &[
    (&["flushall"], b"+OK\r\n"),
    (&["set", "s", "hello"], b"+OK\r\n"),
    (&["getex", "s"], b"$5\r\nhello\r\n"),
    (&["getex", "s", "ex", "0"], b"-ERR invalid expire time in 'getex' command\r\n"),
    (&["getex", "s", "ex", "-1"], b"-ERR invalid expire time in 'getex' command\r\n"),
    (&["getex", "s", "px", "9223372036854775807"], b"-ERR invalid expire time in 'getex' command\r\n"),
    (&["getex", "s", "ex", "9223372036854775"], b"-ERR invalid expire time in 'getex' command\r\n"),
    (&["getex", "s", "persist", "ex", "1"], b"-ERR syntax error\r\n"),
    (&["getex", "s", "ex", "1", "px", "1"], b"-ERR syntax error\r\n"),
    (&["getex", "s", "ex"], b"-ERR syntax error\r\n"),
    (&["getex", "s", "foo"], b"-ERR syntax error\r\n"),
    (&["getex", "nokey", "ex", "10"], b"$-1\r\n"),
    (&["getex", "s", "ex", "100"], b"$5\r\nhello\r\n"),
    (&["ttl", "s"], b":100\r\n"),
    (&["getex", "s", "persist"], b"$5\r\nhello\r\n"),
    (&["ttl", "s"], b":-1\r\n"),
    (&["getex", "s", "pxat", "1"], b"$5\r\nhello\r\n"),
    (&["exists", "s"], b":0\r\n"),
    (&["setex", "s", "0", "v"], b"-ERR invalid expire time in 'setex' command\r\n"),
    (&["setex", "s", "-1", "v"], b"-ERR invalid expire time in 'setex' command\r\n"),
    (&["setex", "s", "9223372036854775", "v"], b"-ERR invalid expire time in 'setex' command\r\n"),
    (&["psetex", "s", "0", "v"], b"-ERR invalid expire time in 'psetex' command\r\n"),
    (&["setex", "s", "x", "v"], b"-ERR value is not an integer or out of range\r\n"),
    (&["setex", "s", "100", "v"], b"+OK\r\n"),
    (&["ttl", "s"], b":100\r\n"),
    (&["set", "s", "v", "ex", "9223372036854775"], b"-ERR invalid expire time in 'set' command\r\n"),
    (&["set", "s", "v", "px", "9223372036854775807"], b"-ERR invalid expire time in 'set' command\r\n"),
    (&["set", "s", "v", "exat", "9223372036854775807"], b"-ERR invalid expire time in 'set' command\r\n"),
    (&["getdel", "s"], b"$1\r\nv\r\n"),
    (&["getdel", "s"], b"$-1\r\n"),
    (&["lpush", "l", "a"], b":1\r\n"),
    (&["getdel", "l"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["getex", "l"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["get", "l"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["getset", "l", "x"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["getset", "s1", "a"], b"$-1\r\n"),
    (&["getset", "s1", "b"], b"$1\r\na\r\n"),
    (&["setnx", "s1", "c"], b":0\r\n"),
    (&["setnx", "s2", "c"], b":1\r\n"),
    (&["append", "l", "x"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["append", "s1", "xyz"], b":4\r\n"),
    (&["append", "nk1", "123"], b":3\r\n"),
    (&["object", "encoding", "nk1"], b"$3\r\nint\r\n"),
    (&["object", "encoding", "s1"], b"$3\r\nraw\r\n"),
    (&["strlen", "s1"], b":4\r\n"),
    (&["strlen", "nk"], b":0\r\n"),
    (&["strlen", "l"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["setrange", "s1", "-1", "x"], b"-ERR offset is out of range\r\n"),
    (&["setrange", "s1", "536870912", "x"], b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"),
    (&["setrange", "s1", "1", "XY"], b":4\r\n"),
    (&["get", "s1"], b"$4\r\nbXYz\r\n"),
    (&["setrange", "nk2", "0", ""], b":0\r\n"),
    (&["exists", "nk2"], b":0\r\n"),
    (&["setrange", "s1", "0", ""], b":4\r\n"),
    (&["setrange", "nk2", "5", "a"], b":6\r\n"),
    (&["get", "nk2"], b"$6\r\n\x00\x00\x00\x00\x00a\r\n"),
    (&["setrange", "l", "0", "a"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["getrange", "s1", "0", "-1"], b"$4\r\nbXYz\r\n"),
    (&["getrange", "s1", "0", "1"], b"$2\r\nbX\r\n"),
    (&["substr", "s1", "0", "-100"], b"$1\r\nb\r\n"),
    (&["getrange", "s1", "-100", "-99"], b"$1\r\nb\r\n"),
    (&["getrange", "s1", "-1", "-5"], b"$0\r\n\r\n"),
    (&["getrange", "s1", "5", "1"], b"$0\r\n\r\n"),
    (&["getrange", "s1", "1", "100"], b"$3\r\nXYz\r\n"),
    (&["getrange", "nk", "0", "-1"], b"$0\r\n\r\n"),
    (&["getrange", "s1", "x", "1"], b"-ERR value is not an integer or out of range\r\n"),
    (&["getrange", "l", "0", "1"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["incr", "l"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["set", "n", "9223372036854775807"], b"+OK\r\n"),
    (&["incr", "n"], b"-ERR increment or decrement would overflow\r\n"),
    (&["decrby", "n", "-9223372036854775808"], b"-ERR decrement would overflow\r\n"),
    (&["incrby", "n", "x"], b"-ERR value is not an integer or out of range\r\n"),
    (&["set", "n", " 1"], b"+OK\r\n"),
    (&["incr", "n"], b"-ERR value is not an integer or out of range\r\n"),
    (&["set", "n", "1"], b"+OK\r\n"),
    (&["decrby", "n", "-9223372036854775808"], b"-ERR decrement would overflow\r\n"),
    (&["set", "n", "-1"], b"+OK\r\n"),
    (&["decrby", "n", "9223372036854775807"], b":-9223372036854775808\r\n"),
    (&["decrby", "n", "9223372036854775807"], b"-ERR increment or decrement would overflow\r\n"),
    (&["set", "n", "0x10"], b"+OK\r\n"),
    (&["incr", "n"], b"-ERR value is not an integer or out of range\r\n"),
    (&["set", "n", "10"], b"+OK\r\n"),
    (&["incr", "n"], b":11\r\n"),
    (&["decr", "n"], b":10\r\n"),
    (&["incrby", "n", "100"], b":110\r\n"),
    (&["decrby", "n", "5"], b":105\r\n"),
    (&["object", "encoding", "n"], b"$3\r\nint\r\n"),
    (&["incr", "nn"], b":1\r\n"),
    (&["decr", "nn2"], b":-1\r\n"),
    (&["set", "e", "5", "ex", "100"], b"+OK\r\n"),
    (&["incr", "e"], b":6\r\n"),
    (&["ttl", "e"], b":100\r\n"),
    (&["incrbyfloat", "e", "1.5"], b"$3\r\n7.5\r\n"),
    (&["ttl", "e"], b":100\r\n"),
    (&["incrbyfloat", "f", "0.1"], b"$3\r\n0.1\r\n"),
    (&["incrbyfloat", "f", "0.1"], b"$3\r\n0.2\r\n"),
    (&["incrbyfloat", "f", "0.2"], b"$3\r\n0.4\r\n"),
    (&["object", "encoding", "f"], b"$6\r\nembstr\r\n"),
    (&["set", "g", "10.5"], b"+OK\r\n"),
    (&["incrbyfloat", "g", "0.1"], b"$4\r\n10.6\r\n"),
    (&["incrbyfloat", "g", "x"], b"-ERR value is not a valid float\r\n"),
    (&["incrbyfloat", "g", " 1"], b"-ERR value is not a valid float\r\n"),
    (&["incrbyfloat", "g", "inf"], b"-ERR increment would produce NaN or Infinity\r\n"),
    (&["incrbyfloat", "g", "1e5000"], b"-ERR value is not a valid float\r\n"),
    (&["set", "h", "3"], b"+OK\r\n"),
    (&["incrbyfloat", "h", "-3"], b"$1\r\n0\r\n"),
    (&["object", "encoding", "h"], b"$6\r\nembstr\r\n"),
    (&["incrbyfloat", "l", "1"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["set", "h", "1e308"], b"+OK\r\n"),
    (&["incrbyfloat", "h", "1e308"], b"$309\r\n199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096\r\n"),
    (&["incrbyfloat", "h", "1.5e4932"], b"-ERR value is not a valid float\r\n"),
    (&["incrbyfloat", "h5", "1.5e400"], b"$401\r\n14999999999999999999787571258180632757602016556244109946451118100412878837797666939640857023786563371031417482152431247002932649329812161934081180095241362010316985074613896851030350220674205551715723142930094253381524366379501661822763313444432730033420723993367836898563414035343077389097880907026312693852238299714434056960340326194804979333637818033289525836178943417434805645751272530901454553088\r\n"),
    (&["mset", "a", "1", "b", "2", "c", "3"], b"+OK\r\n"),
    (&["msetnx", "a", "1", "x", "2"], b":0\r\n"),
    (&["msetnx", "x", "1", "y", "2"], b":1\r\n"),
    (&["mget", "x", "y", "a", "b", "c", "l", "nk"], b"*7\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$-1\r\n$-1\r\n"),
    (&["msetnx", "x"], b"-ERR wrong number of arguments for 'msetnx' command\r\n"),
    (&["msetnx", "x", "1", "y"], b"-ERR wrong number of arguments for 'msetnx' command\r\n"),
    (&["mset", "a"], b"-ERR wrong number of arguments for 'mset' command\r\n"),
    (&["set", "k1", "ohmytext"], b"+OK\r\n"),
    (&["set", "k2", "mynewtext"], b"+OK\r\n"),
    (&["lcs", "k1", "k2"], b"$6\r\nmytext\r\n"),
    (&["lcs", "k1", "k2", "len"], b":6\r\n"),
    (&["lcs", "k1", "k2", "idx"], b"*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"),
    (&["lcs", "k1", "k2", "idx", "minmatchlen", "4"], b"*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n"),
    (&["lcs", "k1", "k2", "idx", "withmatchlen"], b"*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n"),
    (&["lcs", "k1", "k2", "idx", "minmatchlen", "4", "withmatchlen"], b"*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"),
    (&["lcs", "k1", "k2", "len", "idx"], b"-ERR If you want both the length and indexes, please just use IDX.\r\n"),
    (&["lcs", "k1", "k2", "foo"], b"-ERR syntax error\r\n"),
    (&["lcs", "k1", "nk"], b"$0\r\n\r\n"),
    (&["lcs", "k1", "l"], b"-ERR The specified keys must contain string values\r\n"),
    (&["lcs", "k1", "k2", "minmatchlen", "x"], b"-ERR value is not an integer or out of range\r\n"),
    (&["lcs", "k1", "k2", "minmatchlen", "-5", "idx"], b"*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"),
    (&["set", "rs", "abc"], b"+OK\r\n"),
    (&["get", "rs"], b"$3\r\nabc\r\n"),
    (&["set", "x", "v", "nx"], b"$-1\r\n"),
    (&["set", "x", "v", "xx", "get"], b"$1\r\n1\r\n"),
    (&["set", "nkx", "v", "xx", "get"], b"$-1\r\n"),
    (&["set", "x", "v", "get", "nx"], b"$1\r\nv\r\n"),
    (&["set", "x", "v", "keepttl", "ex", "10"], b"-ERR syntax error\r\n"),
    (&["get", "x"], b"$1\r\nv\r\n"),
    (&["get", "nope"], b"$-1\r\n"),
    (&["getex", "nope"], b"$-1\r\n"),
    (&["incrbyfloat", "f", "1"], b"$3\r\n1.4\r\n"),
    (&["lcs", "k1", "k2", "idx"], b"*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"),
];

/// Large values may be sent from where they are stored (vectored writes) instead of being
/// copied into the reply buffer; the bytes on the wire must not change, whether the keys are
/// local, on another shard, or mixed in one pipeline with small replies and errors.
#[test]
fn large_values_come_back_byte_for_byte_in_pipelines() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut raw = server.raw();
        let sizes = [0usize, 3, 1023, 1024, 4096, 70_000];
        let mut pipeline = Vec::new();
        let mut expected = Vec::new();
        for (i, &n) in sizes.iter().enumerate() {
            let key = format!("big:{i}");
            let value: Vec<u8> = (0..n).map(|j| b'a' + ((i + j) % 26) as u8).collect();
            assert_eq!(raw.cmd_bytes(&[b"SET", key.as_bytes(), &value]), b"+OK\r\n");
            for _ in 0..2 {
                pipeline.extend(rustis_tests::encode(&[b"GET", key.as_bytes()]));
                expected.extend(format!("${n}\r\n").as_bytes());
                expected.extend(&value);
                expected.extend(b"\r\n");
            }
            pipeline.extend(rustis_tests::encode(&[b"INCR", key.as_bytes()]));
            expected.extend(b"-ERR value is not an integer or out of range\r\n");
            pipeline.extend(rustis_tests::encode(&[b"GET", b"missing"]));
            expected.extend(b"$-1\r\n");
        }
        raw.send(&pipeline);
        let mut got = Vec::new();
        while got.len() < expected.len() {
            got.extend(raw.read_reply());
        }
        assert!(
            got == expected,
            "pipelined replies differ on {threads} thread(s)"
        );
    }
}
