//! Hash commands over TCP, each reply compared byte for byte with what redis-server 7.0.15
//! sends (the expected bytes were recorded from it). Every case runs on one thread and on four.
//! Replies that depend on randomness are checked by their properties instead.

use rustis_tests::{cmd_text, run_cases_on_threads, TestServer, THREADS};

#[test]
fn hset_family_replies_like_redis() {
    run_cases_on_threads(&[
        (
            &["HSET", "h", "a", "1", "b"],
            Some(b"-ERR wrong number of arguments for 'hset' command\r\n"),
        ),
        (
            &["HMSET", "h", "a", "1", "b"],
            Some(b"-ERR wrong number of arguments for 'hmset' command\r\n"),
        ),
        (
            &["HSET", "h", "a", "1", "b", "2", "a", "3"],
            Some(b":2\r\n"),
        ),
        (
            &["HGETALL", "h"],
            Some(b"*4\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n"),
        ),
        (&["HSETNX", "h", "a", "5"], Some(b":0\r\n")),
        (&["HSETNX", "h", "c", "5"], Some(b":1\r\n")),
        (&["HSETNX", "new", "f", "v"], Some(b":1\r\n")),
        (&["HGET", "h", "a"], Some(b"$1\r\n3\r\n")),
        (&["HGET", "h", "zz"], Some(b"$-1\r\n")),
        (&["HGET", "nokey", "a"], Some(b"$-1\r\n")),
        (
            &["HMGET", "h", "a", "zz", "c"],
            Some(b"*3\r\n$1\r\n3\r\n$-1\r\n$1\r\n5\r\n"),
        ),
        (&["HMGET", "nokey", "a", "b"], Some(b"*2\r\n$-1\r\n$-1\r\n")),
        (&["HLEN", "h"], Some(b":3\r\n")),
        (&["HLEN", "nokey"], Some(b":0\r\n")),
        (&["HSTRLEN", "h", "a"], Some(b":1\r\n")),
        (&["HSTRLEN", "h", "zz"], Some(b":0\r\n")),
        (&["HEXISTS", "h", "a"], Some(b":1\r\n")),
        (&["HEXISTS", "h", "zz"], Some(b":0\r\n")),
        (&["HEXISTS", "nokey", "a"], Some(b":0\r\n")),
        (
            &["HKEYS", "h"],
            Some(b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"),
        ),
        (
            &["HVALS", "h"],
            Some(b"*3\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n5\r\n"),
        ),
        (&["HKEYS", "nokey"], Some(b"*0\r\n")),
        (&["HGETALL", "nokey"], Some(b"*0\r\n")),
        (&["HDEL", "h", "zz", "a"], Some(b":1\r\n")),
        (&["HDEL", "h", "b", "c"], Some(b":2\r\n")),
        (&["EXISTS", "h"], Some(b":0\r\n")),
    ]);
}

#[test]
fn hincrby_and_hincrbyfloat_reply_like_redis() {
    run_cases_on_threads(&[
        (&["HSET", "h", "a", "1", "s", "abc", "sp", " 1", "i", "9223372036854775807"], Some(b":4\r\n")),
        (&["HINCRBY", "h", "a", "10"], Some(b":11\r\n")),
        (&["HINCRBY", "h", "a", "x"], Some(b"-ERR value is not an integer or out of range\r\n")),
        (&["HINCRBY", "h", "a", "1.5"], Some(b"-ERR value is not an integer or out of range\r\n")),
        (&["HINCRBY", "h", "n", "-5"], Some(b":-5\r\n")),
        (&["HSET", "h", "i", "9223372036854775807"], Some(b":0\r\n")),
        (&["HINCRBY", "h", "i", "1"], Some(b"-ERR increment or decrement would overflow\r\n")),
        (&["HSET", "h", "s", "abc"], Some(b":0\r\n")),
        (&["HINCRBY", "h", "s", "1"], Some(b"-ERR hash value is not an integer\r\n")),
        (&["HINCRBYFLOAT", "h", "s", "1"], Some(b"-ERR hash value is not a float\r\n")),
        (&["HINCRBYFLOAT", "h", "f", "10.5"], Some(b"$4\r\n10.5\r\n")),
        (&["HINCRBYFLOAT", "h", "f", "0.1"], Some(b"$4\r\n10.6\r\n")),
        (&["HINCRBYFLOAT", "h", "f", "abc"], Some(b"-ERR value is not a valid float\r\n")),
        (&["HINCRBYFLOAT", "h", "f", "inf"], Some(b"-ERR value is NaN or Infinity\r\n")),
        (&["HINCRBYFLOAT", "h", "f", "-inf"], Some(b"-ERR value is NaN or Infinity\r\n")),
        (&["HINCRBYFLOAT", "h", "f", "nan"], Some(b"-ERR value is not a valid float\r\n")),
        (&["HINCRBYFLOAT", "h", "g", "5.0e3"], Some(b"$4\r\n5000\r\n")),
        (&["HINCRBYFLOAT", "h", "g", "1.23456789012345678"], Some(b"$22\r\n5001.23456789012345691\r\n")),
        (&["HINCRBYFLOAT", "h", "a", "-11"], Some(b"$1\r\n0\r\n")),
        (&["HSET", "h", "big", "1e400"], Some(b":1\r\n")),
        (&["HINCRBYFLOAT", "h", "big", "1"], Some(b"$401\r\n10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880\r\n")),
        (&["HINCRBYFLOAT", "h", "hex", "0x1p3"], Some(b"$1\r\n8\r\n")),
        (&["HINCRBYFLOAT", "h", "hex", "0x.8"], Some(b"$3\r\n8.5\r\n")),
        (&["HSET", "h", "huge", "1e4932"], Some(b":1\r\n")),
        (&["HINCRBYFLOAT", "h", "huge", "1e4932"], Some(b"-ERR increment would produce NaN or Infinity\r\n")),
        (&["HINCRBYFLOAT", "h", "huge", "-1e4932"], Some(b"$1\r\n0\r\n")),
        (&["HINCRBYFLOAT", "h", "z", "0.1"], Some(b"$3\r\n0.1\r\n")),
        (&["HINCRBYFLOAT", "h", "z", "0.2"], Some(b"$3\r\n0.3\r\n")),
        (&["HINCRBYFLOAT", "h", "z", "-0.3"], Some(b"$1\r\n0\r\n")),
        (&["HINCRBYFLOAT", "h", "w", "1e-20"], Some(b"$1\r\n0\r\n")),
        (&["HSET", "h", "e", "1e-5000"], Some(b":1\r\n")),
        (&["HINCRBYFLOAT", "h", "e", "0"], Some(b"-ERR hash value is not a float\r\n")),
        (&["HSET", "h", "sp", " 1"], Some(b":0\r\n")),
        (&["HINCRBYFLOAT", "h", "sp", "1"], Some(b"-ERR hash value is not a float\r\n")),
        (&["HINCRBY", "h", "sp", "1"], Some(b"-ERR hash value is not an integer\r\n")),
    ]);
}

#[test]
fn wrong_type_and_missing_keys_reply_like_redis() {
    run_cases_on_threads(&[
        (&["HSET", "h", "a", "1", "b", "2"], Some(b":2\r\n")),
        (&["SET", "str", "x"], Some(b"+OK\r\n")),
        (&["HGET", "str", "a"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["HSET", "str", "a", "1"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["HINCRBY", "str", "a", "1"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["HINCRBYFLOAT", "str", "a", "1"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["HINCRBYFLOAT", "str", "a", "x"], Some(b"-ERR value is not a valid float\r\n")),
        (&["HINCRBY", "str", "a", "x"], Some(b"-ERR value is not an integer or out of range\r\n")),
        (&["HGETALL", "str"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["HKEYS", "str"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["HLEN", "str"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["HRANDFIELD", "str"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["HRANDFIELD", "str", "1"], Some(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (&["HRANDFIELD", "str", "x"], Some(b"-ERR value is not an integer or out of range\r\n")),
        (&["HRANDFIELD", "nokey"], Some(b"$-1\r\n")),
        (&["HRANDFIELD", "nokey", "5"], Some(b"*0\r\n")),
        (&["HRANDFIELD", "nokey", "5", "WITHVALUES"], Some(b"*0\r\n")),
        (&["HRANDFIELD", "h", "0"], Some(b"*0\r\n")),
        (&["HRANDFIELD", "h", "0", "WITHVALUES"], Some(b"*0\r\n")),
        (&["HRANDFIELD", "h", "1", "withvalue"], Some(b"-ERR syntax error\r\n")),
        (&["HRANDFIELD", "h", "x", "withvalue"], Some(b"-ERR value is not an integer or out of range\r\n")),
        (&["HRANDFIELD", "h", "x"], Some(b"-ERR value is not an integer or out of range\r\n")),
        (&["HRANDFIELD", "h", "1", "withvalues", "extra"], Some(b"-ERR syntax error\r\n")),
        (&["HRANDFIELD", "h", "-9223372036854775808"], Some(b"-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n")),
        (&["HRANDFIELD", "h", "-9223372036854775807", "withvalues"], Some(b"-ERR value is out of range\r\n")),
        (&["HRANDFIELD", "h", "-4611686018427387904", "withvalues"], Some(b"-ERR value is out of range\r\n")),
        (&["HRANDFIELD", "h", "4611686018427387904", "withvalues"], Some(b"-ERR value is out of range\r\n")),
    ]);
}

#[test]
fn hrandfield_and_hscan_arguments_are_checked_like_redis() {
    run_cases_on_threads(&[
        (&["HSET", "h", "a", "1", "b", "2"], Some(b":2\r\n")),
        (
            &["HSCAN", "h", "0", "count", "0"],
            Some(b"-ERR syntax error\r\n"),
        ),
        (&["HSCAN", "h", "x"], Some(b"-ERR invalid cursor\r\n")),
        (
            &["HSCAN", "h", "0", "match"],
            Some(b"-ERR syntax error\r\n"),
        ),
        (
            &["HSCAN", "h", "0", "foo", "bar"],
            Some(b"-ERR syntax error\r\n"),
        ),
        (
            &["HSCAN", "h", "-1"],
            Some(b"*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"),
        ),
        (
            &["HSCAN", "h", "18446744073709551616"],
            Some(b"-ERR invalid cursor\r\n"),
        ),
        (&["HSCAN", "str", "0"], Some(b"*2\r\n$1\r\n0\r\n*0\r\n")),
        (&["HSCAN", "str", "x"], Some(b"-ERR invalid cursor\r\n")),
        (&["HSCAN", "nokey", "x"], Some(b"-ERR invalid cursor\r\n")),
        (
            &["HSCAN", "nokey", "0", "COUNT", "x"],
            Some(b"*2\r\n$1\r\n0\r\n*0\r\n"),
        ),
        (
            &["HSCAN", "str", "0", "COUNT", "x"],
            Some(b"*2\r\n$1\r\n0\r\n*0\r\n"),
        ),
        (
            &["HSCAN", "h", "0", "COUNT", "9223372036854775808"],
            Some(b"-ERR value is not an integer or out of range\r\n"),
        ),
        (
            &["HSCAN", "h", "0", "TYPE", "string"],
            Some(b"-ERR syntax error\r\n"),
        ),
        (
            &["HSCAN", "h", "0", "NOVALUES"],
            Some(b"-ERR syntax error\r\n"),
        ),
    ]);
}

#[test]
fn hscan_and_whole_hash_replies_like_redis() {
    run_cases_on_threads(&[
        (&["HSET", "h", "a", "1", "b", "2", "c", "3", "abc", "4"], Some(b":4\r\n")),
        (&["HSCAN", "h", "0"], Some(b"*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$3\r\nabc\r\n$1\r\n4\r\n")),
        (&["HSCAN", "h", "0", "MATCH", "a*"], Some(b"*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$3\r\nabc\r\n$1\r\n4\r\n")),
        (&["HSCAN", "h", "0", "MATCH", "a*", "COUNT", "1"], Some(b"*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$3\r\nabc\r\n$1\r\n4\r\n")),
        (&["HSCAN", "h", "+0"], Some(b"*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$3\r\nabc\r\n$1\r\n4\r\n")),
        (&["HSCAN", "h", ""], Some(b"*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$3\r\nabc\r\n$1\r\n4\r\n")),
        (&["HRANDFIELD", "h", "10"], Some(b"*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$3\r\nabc\r\n")),
        (&["HRANDFIELD", "h", "10", "WITHVALUES"], Some(b"*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$3\r\nabc\r\n$1\r\n4\r\n")),
        (&["HSET", "h", "longvalue", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], Some(b":1\r\n")),
        (&["HSET", "h2", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "v"], Some(b":1\r\n")),
        (&["HSET", "h3", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "v"], Some(b":1\r\n")),
        (&["TYPE", "h"], Some(b"+hash\r\n")),
    ]);
}

#[test]
fn resp3_replies_like_redis() {
    run_cases_on_threads(&[
        (&["HSET", "h3", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "v"], Some(b":1\r\n")),
        (&["HELLO", "3"], None),
        (&["HGETALL", "h3"], Some(b"%1\r\n$63\r\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n$1\r\nv\r\n")),
        (&["HGETALL", "nokey"], Some(b"%0\r\n")),
        (&["HRANDFIELD", "nokey"], Some(b"_\r\n")),
        (&["HRANDFIELD", "nokey", "1", "WITHVALUES"], Some(b"*0\r\n")),
        (&["HRANDFIELD", "h3", "1", "WITHVALUES"], Some(b"*1\r\n*2\r\n$63\r\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n$1\r\nv\r\n")),
        (&["HRANDFIELD", "h3", "-2", "WITHVALUES"], Some(b"*2\r\n*2\r\n$63\r\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n$1\r\nv\r\n*2\r\n$63\r\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n$1\r\nv\r\n")),
        (&["HMGET", "h3", "a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], Some(b"*2\r\n_\r\n$1\r\nv\r\n")),
        (&["HKEYS", "h3"], Some(b"*1\r\n$63\r\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n")),
        (&["HVALS", "h3"], Some(b"*1\r\n$1\r\nv\r\n")),
        (&["HSCAN", "h3", "0"], Some(b"*2\r\n$1\r\n0\r\n*2\r\n$63\r\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n$1\r\nv\r\n")),
        (&["HINCRBYFLOAT", "h3", "x", "1.5"], Some(b"$3\r\n1.5\r\n")),
        (&["HGET", "h3", "zz"], Some(b"_\r\n")),
    ]);
}

#[test]
fn encodings_follow_the_listpack_limits() {
    run_cases_on_threads(&[
        (&["HSET", "h", "a", "1"], Some(b":1\r\n")),
        (&["OBJECT", "ENCODING", "h"], Some(b"$8\r\nlistpack\r\n")),
        (
            &[
                "HSET",
                "h",
                "longvalue",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            ],
            Some(b":1\r\n"),
        ),
        (&["OBJECT", "ENCODING", "h"], Some(b"$8\r\nlistpack\r\n")),
        (&["HSET", "h", "longvalue", "x"], Some(b":0\r\n")),
        (&["OBJECT", "ENCODING", "h"], Some(b"$8\r\nlistpack\r\n")),
        (
            &[
                "HSET",
                "h2",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "v",
            ],
            Some(b":1\r\n"),
        ),
        (&["OBJECT", "ENCODING", "h2"], Some(b"$9\r\nhashtable\r\n")),
        (
            &[
                "HSET",
                "h3",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "v",
            ],
            Some(b":1\r\n"),
        ),
        (&["OBJECT", "ENCODING", "h3"], Some(b"$8\r\nlistpack\r\n")),
        (
            &["CONFIG", "SET", "hash-max-listpack-entries", "3"],
            Some(b"+OK\r\n"),
        ),
        (
            &["HSET", "h4", "a", "1", "b", "2", "c", "3"],
            Some(b":3\r\n"),
        ),
        (&["OBJECT", "ENCODING", "h4"], Some(b"$8\r\nlistpack\r\n")),
        (&["HSET", "h4", "c", "4"], Some(b":0\r\n")),
        (&["OBJECT", "ENCODING", "h4"], Some(b"$8\r\nlistpack\r\n")),
        (&["HSET", "h4", "d", "4"], Some(b":1\r\n")),
        (&["OBJECT", "ENCODING", "h4"], Some(b"$9\r\nhashtable\r\n")),
        (&["HDEL", "h4", "a", "b", "c"], Some(b":3\r\n")),
        (&["OBJECT", "ENCODING", "h4"], Some(b"$9\r\nhashtable\r\n")),
        (
            &["HSET", "h5", "a", "1", "b", "2", "c", "3", "d", "4"],
            Some(b":4\r\n"),
        ),
        (&["OBJECT", "ENCODING", "h5"], Some(b"$9\r\nhashtable\r\n")),
        (&["HINCRBY", "h6", "a", "1"], Some(b":1\r\n")),
        (&["OBJECT", "ENCODING", "h6"], Some(b"$8\r\nlistpack\r\n")),
        (
            &["CONFIG", "SET", "hash-max-listpack-entries", "0"],
            Some(b"+OK\r\n"),
        ),
        (&["HSET", "h7", "a", "1"], Some(b":1\r\n")),
        (&["OBJECT", "ENCODING", "h7"], Some(b"$9\r\nhashtable\r\n")),
        (
            &["CONFIG", "SET", "hash-max-listpack-entries", "128"],
            Some(b"+OK\r\n"),
        ),
        (
            &["CONFIG", "SET", "hash-max-listpack-value", "2"],
            Some(b"+OK\r\n"),
        ),
        (&["HSETNX", "h8", "abc", "1"], Some(b":1\r\n")),
        (&["OBJECT", "ENCODING", "h8"], Some(b"$9\r\nhashtable\r\n")),
        (&["HINCRBYFLOAT", "h9", "f", "1.5"], Some(b"$3\r\n1.5\r\n")),
        (&["OBJECT", "ENCODING", "h9"], Some(b"$9\r\nhashtable\r\n")),
        (
            &["CONFIG", "SET", "hash-max-listpack-value", "64"],
            Some(b"+OK\r\n"),
        ),
    ]);
}

/// Parses a flat RESP2 array of bulk strings (no nesting) into its items.
fn bulks(reply: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(reply).into_owned();
    let mut lines = text.split("\r\n");
    let head = lines.next().unwrap_or("");
    assert!(head.starts_with('*'), "not an array: {text}");
    let mut items = Vec::new();
    while let Some(l) = lines.next() {
        if l.starts_with('$') {
            items.push(lines.next().unwrap_or("").to_string());
        }
    }
    items
}

#[test]
fn hrandfield_picks_distinct_fields_or_repeats_with_negative_counts() {
    for t in THREADS {
        let s = TestServer::start(t);
        let mut c = s.raw();
        // A small (listpack) and a big (hashtable) hash.
        for (key, n) in [("small", 10), ("big", 300)] {
            for i in 0..n {
                let (f, v) = (format!("f{i}"), format!("v{i}"));
                c.cmd(&["HSET", key, &f, &v]);
            }
            for count in [1, 3, n / 2, n - 1, n, n + 5] {
                let got = bulks(&c.cmd(&["HRANDFIELD", key, &count.to_string()]));
                assert_eq!(got.len(), count.min(n), "{key} {count}");
                let distinct: std::collections::HashSet<_> = got.iter().collect();
                assert_eq!(distinct.len(), got.len(), "distinct fields");
                assert!(got.iter().all(|f| f.starts_with('f')));
            }
            let got = bulks(&c.cmd(&["HRANDFIELD", key, "-50", "WITHVALUES"]));
            assert_eq!(got.len(), 100);
            for pair in got.chunks(2) {
                assert_eq!(pair[0][1..], pair[1][1..], "a field with its own value");
            }
            let one = cmd_text(&mut c, &["HRANDFIELD", key]);
            assert!(one.starts_with('$') && one.contains("\r\nf"), "{one}");
        }
        // RESP3: pairs.
        c.cmd(&["HELLO", "3"]);
        let got = cmd_text(&mut c, &["HRANDFIELD", "small", "2", "WITHVALUES"]);
        assert!(got.starts_with("*2\r\n*2\r\n$"), "{got}");
    }
}

#[test]
fn hscan_walks_a_big_hash_in_steps_and_misses_nothing() {
    for t in THREADS {
        let s = TestServer::start(t);
        let mut c = s.raw();
        // More fields than hash-max-listpack-entries (512), so the hash is a table.
        for i in 0..600 {
            c.cmd(&["HSET", "h", &format!("f{i}"), "v"]);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = "0".to_string();
        let mut rounds = 0;
        loop {
            let reply = c.cmd(&["HSCAN", "h", &cursor, "COUNT", "20"]);
            let text = String::from_utf8_lossy(&reply).into_owned();
            let mut lines = text.split("\r\n");
            assert_eq!(lines.next(), Some("*2"));
            lines.next();
            cursor = lines.next().unwrap_or("0").to_string();
            let items = bulks(text.splitn(4, "\r\n").nth(3).unwrap_or("").as_bytes());
            for pair in items.chunks(2) {
                seen.insert(pair[0].clone());
            }
            // Deleting fields already returned must not make the scan skip others.
            if rounds % 3 == 0 {
                if let Some(f) = items.first() {
                    c.cmd(&["HDEL", "h", f]);
                }
            }
            rounds += 1;
            if cursor == "0" {
                break;
            }
        }
        assert!(rounds > 10, "the scan went in steps");
        assert_eq!(seen.len(), 600);
        let matched = bulks(&c.cmd(&["HSCAN", "h", "0", "MATCH", "f1?", "COUNT", "1000"])[..])
            .into_iter()
            .skip(1)
            .step_by(2)
            .count();
        assert!(matched <= 10);
    }
}

#[test]
fn hashes_convert_to_a_hash_table_past_the_limits() {
    // The conversion is invisible to clients but for OBJECT ENCODING (checked in the storage
    // unit tests); here every field must survive it.
    for t in THREADS {
        let s = TestServer::start(t);
        let mut c = s.raw();
        for i in 0..200 {
            c.cmd(&["HSET", "h", &format!("f{i}"), &i.to_string()]);
        }
        let long = "x".repeat(100);
        c.cmd(&["HSET", "h2", "a", "1"]);
        c.cmd(&["HSET", "h2", "b", &long]);
        assert_eq!(cmd_text(&mut c, &["HLEN", "h"]), ":200\r\n");
        assert_eq!(cmd_text(&mut c, &["HGET", "h", "f199"]), "$3\r\n199\r\n");
        assert_eq!(cmd_text(&mut c, &["HGET", "h2", "a"]), "$1\r\n1\r\n");
        assert_eq!(cmd_text(&mut c, &["HSTRLEN", "h2", "b"]), ":100\r\n");
        assert_eq!(
            cmd_text(&mut c, &["HINCRBYFLOAT", "h", "f10", "0.5"]),
            "$4\r\n10.5\r\n"
        );
        assert_eq!(cmd_text(&mut c, &["TYPE", "h"]), "+hash\r\n");
    }
}
