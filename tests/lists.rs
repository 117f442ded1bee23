//! List commands over TCP, each reply compared byte for byte with what redis-server 7.0.15
//! sends (the tables were recorded from it). Every case runs on one thread and on four, so the
//! multi-key commands (LMOVE, RPOPLPUSH, LMPOP) take their cross-shard paths too.

use rustis_tests::{check, check_all, each, RawConn, TestServer};

#[test]
fn list_commands_reply_like_redis() {
    each(|s| {
        let mut c = s.raw();
        let cases: &[(&[&str], &[u8])] = &[
            // Pushes, lengths, reads
            (&["rpush", "a", "1", "2", "3"], b":3\r\n"),
            (&["lpush", "a", "0", "-1"], b":5\r\n"),
            (&["lpushx", "a", "x"], b":6\r\n"),
            (&["rpushx", "a", "y", "z"], b":8\r\n"),
            (&["lpushx", "nokey", "x"], b":0\r\n"),
            (&["rpushx", "nokey", "x"], b":0\r\n"),
            (&["llen", "a"], b":8\r\n"),
            (&["llen", "nokey"], b":0\r\n"),
            (&["lrange", "a", "0", "-1"], b"*8\r\n$1\r\nx\r\n$2\r\n-1\r\n$1\r\n0\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\ny\r\n$1\r\nz\r\n"),
            (&["lrange", "a", "-3", "-2"], b"*2\r\n$1\r\n3\r\n$1\r\ny\r\n"),
            (&["lrange", "a", "5", "1"], b"*0\r\n"),
            (&["lrange", "a", "x", "1"], b"-ERR value is not an integer or out of range\r\n"),
            (&["lindex", "a", "0"], b"$1\r\nx\r\n"),
            (&["lindex", "a", "-1"], b"$1\r\nz\r\n"),
            (&["lindex", "a", "100"], b"$-1\r\n"),
            (&["lindex", "a", "-100"], b"$-1\r\n"),
            (&["lindex", "a", "x"], b"-ERR value is not an integer or out of range\r\n"),
            (&["lindex", "nokey", "x"], b"$-1\r\n"),
            (&["type", "a"], b"+list\r\n"),
            // Pops with and without count
            (&["lpop", "a"], b"$1\r\nx\r\n"),
            (&["rpop", "a"], b"$1\r\nz\r\n"),
            (&["lpop", "a", "2"], b"*2\r\n$2\r\n-1\r\n$1\r\n0\r\n"),
            (&["rpop", "a", "0"], b"*0\r\n"),
            (&["lpop", "a", "-1"], b"-ERR value is out of range, must be positive\r\n"),
            (&["lpop", "a", "x"], b"-ERR value is out of range, must be positive\r\n"),
            (&["lpop", "a", "1", "2"], b"-ERR wrong number of arguments for 'lpop' command\r\n"),
            (&["rpop", "a", "100"], b"*4\r\n$1\r\ny\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n"),
            (&["exists", "a"], b":0\r\n"),
            (&["lpop", "nokey"], b"$-1\r\n"),
            (&["lpop", "nokey", "2"], b"*-1\r\n"),
            (&["rpop", "nokey", "0"], b"*-1\r\n"),
            // LSET
            (&["rpush", "b", "a", "b", "c"], b":3\r\n"),
            (&["lset", "b", "0", "A"], b"+OK\r\n"),
            (&["lset", "b", "-1", "C"], b"+OK\r\n"),
            (&["lset", "b", "3", "x"], b"-ERR index out of range\r\n"),
            (&["lset", "b", "-4", "x"], b"-ERR index out of range\r\n"),
            (&["lset", "b", "x", "y"], b"-ERR value is not an integer or out of range\r\n"),
            (&["lset", "nokey", "0", "x"], b"-ERR no such key\r\n"),
            (&["lset", "nokey", "x", "x"], b"-ERR no such key\r\n"),
            (&["lrange", "b", "0", "-1"], b"*3\r\n$1\r\nA\r\n$1\r\nb\r\n$1\r\nC\r\n"),
            // LINSERT
            (&["linsert", "b", "before", "b", "x"], b":4\r\n"),
            (&["linsert", "b", "after", "C", "y"], b":5\r\n"),
            (&["linsert", "b", "AFTER", "nope", "y"], b":-1\r\n"),
            (&["linsert", "b", "middle", "b", "y"], b"-ERR syntax error\r\n"),
            (&["linsert", "nokey", "before", "b", "y"], b":0\r\n"),
            (&["lrange", "b", "0", "-1"], b"*5\r\n$1\r\nA\r\n$1\r\nx\r\n$1\r\nb\r\n$1\r\nC\r\n$1\r\ny\r\n"),
            // LREM
            (&["rpush", "c", "a", "b", "a", "c", "a", "b"], b":6\r\n"),
            (&["lrem", "c", "1", "a"], b":1\r\n"),
            (&["lrem", "c", "-1", "a"], b":1\r\n"),
            (&["lrem", "c", "0", "b"], b":2\r\n"),
            (&["lrem", "c", "x", "a"], b"-ERR value is not an integer or out of range\r\n"),
            (&["lrem", "nokey", "0", "a"], b":0\r\n"),
            (&["lrange", "c", "0", "-1"], b"*2\r\n$1\r\na\r\n$1\r\nc\r\n"),
            (&["lrem", "c", "0", "a"], b":1\r\n"),
            (&["lrem", "c", "0", "c"], b":1\r\n"),
            (&["exists", "c"], b":0\r\n"),
            // LTRIM
            (&["rpush", "d", "1", "2", "3", "4", "5", "6"], b":6\r\n"),
            (&["ltrim", "d", "1", "-2"], b"+OK\r\n"),
            (&["lrange", "d", "0", "-1"], b"*4\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n"),
            (&["ltrim", "d", "0", "0"], b"+OK\r\n"),
            (&["lrange", "d", "0", "-1"], b"*1\r\n$1\r\n2\r\n"),
            (&["ltrim", "d", "5", "10"], b"+OK\r\n"),
            (&["exists", "d"], b":0\r\n"),
            (&["ltrim", "nokey", "0", "1"], b"+OK\r\n"),
            (&["ltrim", "d", "x", "1"], b"-ERR value is not an integer or out of range\r\n"),
            // LPOS
            (&["rpush", "e", "a", "b", "c", "1", "2", "3", "c", "c"], b":8\r\n"),
            (&["lpos", "e", "c"], b":2\r\n"),
            (&["lpos", "e", "c", "rank", "2"], b":6\r\n"),
            (&["lpos", "e", "c", "rank", "-1"], b":7\r\n"),
            (&["lpos", "e", "c", "rank", "-3"], b":2\r\n"),
            (&["lpos", "e", "c", "rank", "4"], b"$-1\r\n"),
            (&["lpos", "e", "c", "count", "0"], b"*3\r\n:2\r\n:6\r\n:7\r\n"),
            (&["lpos", "e", "c", "count", "2"], b"*2\r\n:2\r\n:6\r\n"),
            (&["lpos", "e", "c", "count", "2", "rank", "-1"], b"*2\r\n:7\r\n:6\r\n"),
            (&["lpos", "e", "c", "count", "0", "maxlen", "7"], b"*2\r\n:2\r\n:6\r\n"),
            (&["lpos", "e", "c", "count", "0", "rank", "-1", "maxlen", "2"], b"*2\r\n:7\r\n:6\r\n"),
            (&["lpos", "e", "c", "rank", "-9223372036854775808"], b":7\r\n"),
            (&["lpos", "e", "z"], b"$-1\r\n"),
            (&["lpos", "e", "z", "count", "0"], b"*0\r\n"),
            (&["lpos", "nokey", "z"], b"$-1\r\n"),
            (&["lpos", "nokey", "z", "count", "1"], b"*0\r\n"),
            (&["lpos", "e", "c", "rank", "0"], b"-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n"),
            (&["lpos", "e", "c", "count", "-1"], b"-ERR COUNT can't be negative\r\n"),
            (&["lpos", "e", "c", "maxlen", "-1"], b"-ERR MAXLEN can't be negative\r\n"),
            (&["lpos", "e", "c", "rank"], b"-ERR syntax error\r\n"),
            (&["lpos", "e", "c", "foo", "1"], b"-ERR syntax error\r\n"),
            (&["lpos", "e", "c", "rank", "x"], b"-ERR value is not an integer or out of range\r\n"),
            (&["lpos", "e", "c", "MAXLEN", "x"], b"-ERR MAXLEN can't be negative\r\n"),
            (&["lpos", "e", "c", "COUNT", "x"], b"-ERR COUNT can't be negative\r\n"),
            (&["lpos", "e", "c", "foo", "x"], b"-ERR syntax error\r\n"),
            // LMOVE and RPOPLPUSH
            (&["rpush", "f", "1", "2", "3"], b":3\r\n"),
            (&["lmove", "f", "g", "left", "right"], b"$1\r\n1\r\n"),
            (&["lmove", "f", "g", "right", "left"], b"$1\r\n3\r\n"),
            (&["lmove", "f", "g", "LEFT", "LEFT"], b"$1\r\n2\r\n"),
            (&["lmove", "f", "g", "left", "right"], b"$-1\r\n"),
            (&["lrange", "g", "0", "-1"], b"*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n1\r\n"),
            (&["exists", "f"], b":0\r\n"),
            (&["lmove", "nokey", "g", "left", "left"], b"$-1\r\n"),
            (&["lmove", "g", "g", "left", "right"], b"$1\r\n2\r\n"),
            (&["lrange", "g", "0", "-1"], b"*3\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            (&["lmove", "g", "g", "up", "left"], b"-ERR syntax error\r\n"),
            (&["rpoplpush", "g", "h"], b"$1\r\n2\r\n"),
            (&["rpoplpush", "g", "g"], b"$1\r\n1\r\n"),
            (&["lrange", "g", "0", "-1"], b"*2\r\n$1\r\n1\r\n$1\r\n3\r\n"),
            (&["lrange", "h", "0", "-1"], b"*1\r\n$1\r\n2\r\n"),
            (&["rpoplpush", "nokey", "h"], b"$-1\r\n"),
            // LMPOP
            (&["lmpop", "2", "nokey", "g", "left"], b"*2\r\n$1\r\ng\r\n*1\r\n$1\r\n1\r\n"),
            (&["lmpop", "2", "nokey", "g", "right", "count", "10"], b"*2\r\n$1\r\ng\r\n*1\r\n$1\r\n3\r\n"),
            (&["exists", "g"], b":0\r\n"),
            (&["lmpop", "2", "nokey", "g", "left"], b"*-1\r\n"),
            (&["lmpop", "1", "h", "left", "count", "1"], b"*2\r\n$1\r\nh\r\n*1\r\n$1\r\n2\r\n"),
            (&["lmpop", "0", "h", "left"], b"-ERR numkeys should be greater than 0\r\n"),
            (&["lmpop", "x", "h", "left"], b"-ERR numkeys should be greater than 0\r\n"),
            (&["lmpop", "-1", "h", "left"], b"-ERR numkeys should be greater than 0\r\n"),
            (&["lmpop", "2", "h", "left"], b"-ERR syntax error\r\n"),
            (&["lmpop", "1", "h", "middle"], b"-ERR syntax error\r\n"),
            (&["lmpop", "1", "h", "left", "count", "0"], b"-ERR count should be greater than 0\r\n"),
            (&["lmpop", "1", "h", "left", "count"], b"-ERR syntax error\r\n"),
            (&["lmpop", "1", "h", "left", "count", "1", "count", "1"], b"-ERR syntax error\r\n"),
            (&["lmpop", "1", "h", "left", "foo"], b"-ERR syntax error\r\n"),
            // Wrong types
            (&["set", "str", "x"], b"+OK\r\n"),
            (&["lpush", "str", "a"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["rpushx", "str", "a"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["lpop", "str"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["llen", "str"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["lindex", "str", "0"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["lindex", "str", "x"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["lset", "str", "0", "a"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["lrange", "str", "0", "1"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["linsert", "str", "before", "a", "b"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["lrem", "str", "0", "a"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["ltrim", "str", "0", "1"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["lpos", "str", "a"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["lpos", "str", "a", "rank", "0"], b"-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n"),
            (&["lmove", "str", "h", "left", "left"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["lmove", "h", "str", "left", "left"], b"$-1\r\n"),
            (&["lmove", "nokey", "str", "left", "left"], b"$-1\r\n"),
            (&["rpush", "h", "x"], b":1\r\n"),
            (&["lmove", "h", "str", "left", "left"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["lmpop", "2", "nokey", "str", "left"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["lmpop", "2", "h", "str", "left"], b"*2\r\n$1\r\nh\r\n*1\r\n$1\r\nx\r\n"),
            (&["lmpop", "2", "str", "h", "left"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            // Blocking forms when data is there
            (&["rpush", "j", "a", "b"], b":2\r\n"),
            (&["blpop", "nokey", "j", "0"], b"*2\r\n$1\r\nj\r\n$1\r\na\r\n"),
            (&["brpop", "nokey", "j", "0"], b"*2\r\n$1\r\nj\r\n$1\r\nb\r\n"),
            (&["blpop", "nokey", "j", "0.01"], b"*-1\r\n"),
            (&["rpush", "j", "a", "b", "c"], b":3\r\n"),
            (&["blmove", "j", "k", "left", "right", "0"], b"$1\r\na\r\n"),
            (&["brpoplpush", "j", "k", "0"], b"$1\r\nc\r\n"),
            (&["blmpop", "0", "2", "nokey", "j", "left", "count", "5"], b"*2\r\n$1\r\nj\r\n*1\r\n$1\r\nb\r\n"),
            (&["blpop", "str", "0"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["blpop", "nokey", "str", "0.01"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["brpoplpush", "str", "k", "0"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["rpush", "j", "z"], b":1\r\n"),
            (&["blmove", "j", "str", "left", "left", "0"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["lrange", "j", "0", "-1"], b"*1\r\n$1\r\nz\r\n"),
            (&["blpop", "j", "x"], b"-ERR timeout is not a float or out of range\r\n"),
            (&["blpop", "j", "-1"], b"-ERR timeout is negative\r\n"),
            (&["blpop", "j", "inf"], b"-ERR timeout is negative\r\n"),
            (&["blpop", "j", "nan"], b"-ERR timeout is not a float or out of range\r\n"),
            (&["blpop", "j", "0x10"], b"*2\r\n$1\r\nj\r\n$1\r\nz\r\n"),
            (&["blmove", "j", "k", "middle", "left", "0"], b"-ERR syntax error\r\n"),
            (&["blmove", "j", "k", "left", "left", "x"], b"-ERR timeout is not a float or out of range\r\n"),
            (&["brpoplpush", "j", "k", "-1"], b"-ERR timeout is negative\r\n"),
            (&["blmpop", "x", "1", "j", "left"], b"-ERR timeout is not a float or out of range\r\n"),
            (&["blmpop", "0", "0", "j", "left"], b"-ERR numkeys should be greater than 0\r\n"),
            (&["blmpop", "0", "1", "j", "left", "count", "0"], b"-ERR count should be greater than 0\r\n"),
            (&["blmpop", "0", "2", "j", "left"], b"-ERR syntax error\r\n"),
            (&["blmpop", "x", "2", "a", "c", "middle", "COUNT", "-2"], b"-ERR syntax error\r\n"),
            (&["blmpop", "x", "2", "a", "c", "LEFT", "COUNT", "x"], b"-ERR count should be greater than 0\r\n"),
            (&["blmpop", "x", "2", "a", "c", "LEFT"], b"-ERR timeout is not a float or out of range\r\n"),
            (&["blmpop", "0", "x", "a", "c", "LEFT"], b"-ERR numkeys should be greater than 0\r\n"),
            (&["blpop", "j"], b"-ERR wrong number of arguments for 'blpop' command\r\n"),
            // Arity
            (&["lpush", "a"], b"-ERR wrong number of arguments for 'lpush' command\r\n"),
            (&["lpos", "a"], b"-ERR wrong number of arguments for 'lpos' command\r\n"),
            (&["linsert", "a", "before", "x"], b"-ERR wrong number of arguments for 'linsert' command\r\n"),
            (&["lmpop", "1", "a"], b"-ERR wrong number of arguments for 'lmpop' command\r\n"),
            (&["blmpop", "0", "1", "a"], b"-ERR wrong number of arguments for 'blmpop' command\r\n"),
        ];
        check_all(&mut c, cases);
    });
}

#[test]
fn list_replies_in_resp3() {
    each(|s| {
        let mut c = s.raw();
        assert!(c.cmd(&["HELLO", "3"]).starts_with(b"%"));
        let cases: &[(&[&str], &[u8])] = &[
            (&["rpush", "a", "x", "y"], b":2\r\n"),
            (&["lpop", "nokey"], b"_\r\n"),
            (&["lpop", "nokey", "1"], b"_\r\n"),
            (&["lpop", "a", "0"], b"*0\r\n"),
            (&["lindex", "nokey", "0"], b"_\r\n"),
            (&["lpos", "nokey", "a"], b"_\r\n"),
            (&["lpos", "a", "x", "count", "0"], b"*1\r\n:0\r\n"),
            (&["lmove", "nokey", "a", "left", "left"], b"_\r\n"),
            (&["lmpop", "1", "nokey", "left"], b"_\r\n"),
            (
                &["lmpop", "1", "a", "left"],
                b"*2\r\n$1\r\na\r\n*1\r\n$1\r\nx\r\n",
            ),
            (&["blpop", "nokey", "0.01"], b"_\r\n"),
            (&["blmove", "nokey", "a", "left", "left", "0.01"], b"_\r\n"),
            (&["blmpop", "0.01", "1", "nokey", "left"], b"_\r\n"),
            (&["brpoplpush", "nokey", "a", "0.01"], b"_\r\n"),
        ];
        check_all(&mut c, cases);
    });
}

#[test]
fn lmove_onto_itself_rotates() {
    each(|s| {
        let mut c = s.raw();
        check(&mut c, &["RPUSH", "l", "a"], b":1\r\n");
        check(
            &mut c,
            &["LMOVE", "l", "l", "LEFT", "RIGHT"],
            b"$1\r\na\r\n",
        );
        check(&mut c, &["LRANGE", "l", "0", "-1"], b"*1\r\n$1\r\na\r\n");
        check(
            &mut c,
            &["LMOVE", "l", "m", "LEFT", "RIGHT"],
            b"$1\r\na\r\n",
        );
        check(&mut c, &["EXISTS", "l"], b":0\r\n");
    });
}

#[test]
fn lmpop_takes_the_first_nonempty_key_across_shards() {
    each(|s| {
        let mut c = s.raw();
        // The keys spread over the shards with four threads.
        for k in ["b", "c", "d"] {
            check(&mut c, &["RPUSH", k, k, "2"], b":2\r\n");
        }
        check(
            &mut c,
            &["LMPOP", "4", "a", "c", "b", "d", "RIGHT", "COUNT", "5"],
            b"*2\r\n$1\r\nc\r\n*2\r\n$1\r\n2\r\n$1\r\nc\r\n",
        );
        check(
            &mut c,
            &["LMPOP", "3", "a", "c", "b", "LEFT"],
            b"*2\r\n$1\r\nb\r\n*1\r\n$1\r\nb\r\n",
        );
        check(&mut c, &["RPOPLPUSH", "b", "a"], b"$1\r\n2\r\n");
        check(&mut c, &["LRANGE", "a", "0", "-1"], b"*1\r\n$1\r\n2\r\n");
        check(&mut c, &["EXISTS", "b", "c"], b":0\r\n");
    });
}

/// A parsed reply, enough to compare set replies whatever their order.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
enum Reply {
    Line(Vec<u8>),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

fn parse_reply(b: &[u8]) -> (Reply, usize) {
    let end = b.windows(2).position(|w| w == b"\r\n").unwrap_or(b.len());
    let n = || -> i64 {
        std::str::from_utf8(&b[1..end])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(-1)
    };
    match b.first() {
        Some(b'$') if n() >= 0 => {
            let len = n() as usize;
            let start = end + 2;
            (
                Reply::Bulk(Some(b[start..start + len].to_vec())),
                start + len + 2,
            )
        }
        Some(b'$') => (Reply::Bulk(None), end + 2),
        Some(b'*' | b'~') if n() >= 0 => {
            let mut pos = end + 2;
            let mut items = Vec::new();
            for _ in 0..n() {
                let (r, used) = parse_reply(&b[pos..]);
                items.push(r);
                pos += used;
            }
            (Reply::Array(Some(items)), pos)
        }
        Some(b'*') => (Reply::Array(None), end + 2),
        _ => (Reply::Line(b[..end].to_vec()), end + 2),
    }
}

/// Sorts what a set reply holds: Redis's hash tables and ours order members differently.
fn normalize(cmd: &str, r: Reply) -> Reply {
    match (cmd, r) {
        ("smembers" | "sinter" | "sunion" | "sdiff", Reply::Array(Some(mut v))) => {
            v.sort();
            Reply::Array(Some(v))
        }
        ("sscan", Reply::Array(Some(mut v))) if v.len() == 2 => {
            if let Reply::Array(Some(m)) = &mut v[1] {
                m.sort();
            }
            Reply::Array(Some(v))
        }
        (_, r) => r,
    }
}

/// Random list and set commands (with every kind of bad argument) sent to Rustis and to a real
/// redis-server, replies compared. Runs only when `RUSTIS_DIFF_REDIS` names a redis-server to
/// compare with (e.g. `127.0.0.1:7777`, which it flushes); `RUSTIS_DIFF_SEED` and
/// `RUSTIS_DIFF_N` pick the sequence.
#[test]
fn differential_against_redis() {
    use rand::{Rng, SeedableRng};
    let Ok(addr) = std::env::var("RUSTIS_DIFF_REDIS") else {
        eprintln!("RUSTIS_DIFF_REDIS is not set: differential run skipped");
        return;
    };
    let seed: u64 = std::env::var("RUSTIS_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let n: usize = std::env::var("RUSTIS_DIFF_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let s = TestServer::start(4);
    let mut ours = s.raw();
    let mut theirs = RawConn::connect(addr.parse().expect("RUSTIS_DIFF_REDIS is host:port"));
    theirs.cmd(&["FLUSHALL"]);
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    const KEYS: &[&str] = &["a", "b", "c", "d", "str"];
    const VALS: &[&str] = &["1", "2", "3", "x", "y", "-1", "10"];
    const ENDS: &[&str] = &["LEFT", "RIGHT", "left", "middle"];
    const NUMS: &[&str] = &["0", "1", "-1", "2", "-2", "3", "x", "100", "-100"];
    const CMDS: &[&str] = &[
        "lpush",
        "rpush",
        "lpushx",
        "rpushx",
        "lpop",
        "rpop",
        "llen",
        "lindex",
        "lset",
        "linsert",
        "lrange",
        "lrem",
        "ltrim",
        "lpos",
        "lmove",
        "rpoplpush",
        "lmpop",
        "sadd",
        "srem",
        "sismember",
        "smismember",
        "scard",
        "smembers",
        "smove",
        "sinter",
        "sunion",
        "sdiff",
        "sinterstore",
        "sunionstore",
        "sdiffstore",
        "sintercard",
        "sscan",
        "del",
        "set",
        "blpop",
        "brpop",
        "blmove",
        "blmpop",
    ];
    for _ in 0..n {
        let mut pick = |v: &[&'static str]| v[rng.gen_range(0..v.len())];
        let c = pick(CMDS);
        let mut a: Vec<&str> = vec![c];
        let k = KEYS[rng.gen_range(0..KEYS.len())];
        match c {
            "lpush" | "rpush" | "lpushx" | "rpushx" | "sadd" | "srem" | "smismember" => {
                a.push(k);
                for _ in 0..rng.gen_range(1..4) {
                    a.push(VALS[rng.gen_range(0..VALS.len())]);
                }
            }
            "lpop" | "rpop" => {
                a.push(k);
                if rng.gen_bool(0.5) {
                    a.push(NUMS[rng.gen_range(0..NUMS.len())]);
                }
            }
            "llen" | "scard" | "smembers" | "del" => a.push(k),
            "lindex" | "lrange" | "ltrim" | "lrem" | "lset" => {
                a.push(k);
                a.push(NUMS[rng.gen_range(0..NUMS.len())]);
                a.push(if c == "lrange" || c == "ltrim" {
                    NUMS[rng.gen_range(0..NUMS.len())]
                } else {
                    VALS[rng.gen_range(0..VALS.len())]
                });
                if c == "lindex" {
                    a.pop();
                }
            }
            "linsert" => {
                a.extend([k, ["BEFORE", "after", "x"][rng.gen_range(0..3)]]);
                a.push(VALS[rng.gen_range(0..VALS.len())]);
                a.push(VALS[rng.gen_range(0..VALS.len())]);
            }
            "lpos" => {
                a.extend([k, VALS[rng.gen_range(0..VALS.len())]]);
                for _ in 0..rng.gen_range(0..3) {
                    a.push(["RANK", "COUNT", "MAXLEN", "foo"][rng.gen_range(0..4)]);
                    a.push(NUMS[rng.gen_range(0..NUMS.len())]);
                }
            }
            "lmove" | "blmove" => {
                a.extend([k, KEYS[rng.gen_range(0..KEYS.len())]]);
                a.push(ENDS[rng.gen_range(0..ENDS.len())]);
                a.push(ENDS[rng.gen_range(0..ENDS.len())]);
                if c == "blmove" {
                    a.push(["0.01", "x"][rng.gen_range(0..2)]);
                }
            }
            "rpoplpush" | "smove" => {
                a.extend([k, KEYS[rng.gen_range(0..KEYS.len())]]);
                if c == "smove" {
                    a.push(VALS[rng.gen_range(0..VALS.len())]);
                }
            }
            "lmpop" | "sintercard" | "blmpop" => {
                if c == "blmpop" {
                    a.push(["0.01", "x"][rng.gen_range(0..2)]);
                }
                a.push(["0", "1", "2", "3", "x"][rng.gen_range(0..5)]);
                for _ in 0..rng.gen_range(1..4) {
                    a.push(KEYS[rng.gen_range(0..KEYS.len())]);
                }
                if c != "sintercard" {
                    a.push(ENDS[rng.gen_range(0..ENDS.len())]);
                }
                if rng.gen_bool(0.4) {
                    a.push(["COUNT", "LIMIT"][rng.gen_range(0..2)]);
                    a.push(NUMS[rng.gen_range(0..NUMS.len())]);
                }
            }
            "sismember" => a.extend([k, VALS[rng.gen_range(0..VALS.len())]]),
            "sinter" | "sunion" | "sdiff" | "sinterstore" | "sunionstore" | "sdiffstore" => {
                for _ in 0..rng.gen_range(1..4) {
                    a.push(KEYS[rng.gen_range(0..KEYS.len())]);
                }
            }
            "sscan" => {
                a.extend([k, ["0", "x"][rng.gen_range(0..2)]]);
                if rng.gen_bool(0.3) {
                    a.extend(["MATCH", "1*"]);
                }
            }
            "set" => a.extend(["str", VALS[rng.gen_range(0..VALS.len())]]),
            _ => {
                // blpop, brpop
                for _ in 0..rng.gen_range(1..3) {
                    a.push(KEYS[rng.gen_range(0..KEYS.len())]);
                }
                a.push(["0.01", "x", "-1"][rng.gen_range(0..3)]);
            }
        }
        let want = normalize(c, parse_reply(&theirs.cmd(&a)).0);
        let got = normalize(c, parse_reply(&ours.cmd(&a)).0);
        assert_eq!(got, want, "reply to {a:?} (seed {seed})");
    }
}

#[test]
fn list_encoding_and_ttls_follow_redis() {
    // Lists are always quicklists in Redis 7.0; pops and rotations keep the TTL.
    each(|s| {
        let mut c = s.raw();
        let cases: &[(&[&str], &[u8])] = &[
            (&["rpush", "l", "a"], b":1\r\n"),
            (&["object", "encoding", "l"], b"$9\r\nquicklist\r\n"),
            (&["rpush", "tl", "a"], b":1\r\n"),
            (&["expire", "tl", "100"], b":1\r\n"),
            (&["lmove", "tl", "tl", "left", "right"], b"$1\r\na\r\n"),
            (&["ttl", "tl"], b":100\r\n"),
            (&["rpush", "tl2", "a", "b"], b":2\r\n"),
            (&["expire", "tl2", "100"], b":1\r\n"),
            (&["lpop", "tl2"], b"$1\r\na\r\n"),
            (&["ttl", "tl2"], b":100\r\n"),
        ];
        check_all(&mut c, cases);
    });
}
