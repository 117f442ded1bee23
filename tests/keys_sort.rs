//! SORT and SORT_RO over TCP, on 1 and 4 threads (STORE to a key on another shard), against
//! replies recorded from redis-server 7.0.15.

use rustis_tests::TestServer;

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn sort_matches_redis_reply_for_reply() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut raw = server.raw();
        for (args, want) in SORT_CASES {
            let got = raw.cmd(args);
            assert_eq!(show(&got), show(want), "threads={threads} command={args:?}");
        }
    }
}

#[test]
fn sort_by_and_get_patterns_match_redis_reply_for_reply() {
    // The pattern keys (w_1, d_2, ...) spread over the shards: on 4 threads SORT reads keys
    // it could not declare from other shards, and STORE writes to yet another.
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut raw = server.raw();
        for (args, want) in PATTERN_CASES {
            let got = raw.cmd(args);
            assert_eq!(show(&got), show(want), "threads={threads} command={args:?}");
        }
    }
}

#[test]
fn sort_sorted_sets_and_hash_fields_match_redis_reply_for_reply() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut raw = server.raw();
        for (args, want) in ZSET_HASH_CASES {
            let got = raw.cmd(args);
            assert_eq!(show(&got), show(want), "threads={threads} command={args:?}");
        }
    }
}

#[test]
fn sort_patterns_see_earlier_pipelined_writes_and_not_later_ones() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut raw = server.raw();
        raw.cmd(&["rpush", "l", "1", "2", "3"]);
        // One write: the SET before SORT lands first, the SET after it does not show.
        let mut req = Vec::new();
        for args in [
            &["set", "w_2", "-1"][..],
            &["sort", "l", "by", "w_*", "get", "#", "get", "w_*"][..],
            &["set", "w_2", "9"][..],
            &["sort_ro", "l", "by", "w_*", "get", "w_*"][..],
        ] {
            req.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
            for a in args {
                req.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
            }
        }
        raw.send(&req);
        let replies: Vec<String> = (0..4).map(|_| show(&raw.read_reply())).collect();
        assert_eq!(
            replies,
            [
                "+OK\r\n",
                "*6\r\n$1\r\n2\r\n$2\r\n-1\r\n$1\r\n1\r\n$-1\r\n$1\r\n3\r\n$-1\r\n",
                "+OK\r\n",
                "*3\r\n$-1\r\n$-1\r\n$1\r\n9\r\n",
            ],
            "threads={threads}"
        );
    }
}

#[test]
fn sort_patterns_read_whole_cross_shard_writes() {
    // While one client MSETs the weights of every element (an atomic write over several
    // shards), SORT ... GET w_* must see all old or all new values, never a mix.
    let server = TestServer::start(4);
    let mut raw = server.raw();
    raw.cmd(&["rpush", "l", "a", "b", "c", "d", "e", "f"]);
    let addr = server.addr;
    let writer = std::thread::spawn(move || {
        let mut c = redis::Client::open(format!("redis://{addr}"))
            .and_then(|c| c.get_connection())
            .expect("connect");
        for i in 0..300 {
            let v = i.to_string();
            let pairs: Vec<(String, &str)> = ["a", "b", "c", "d", "e", "f"]
                .iter()
                .map(|e| (format!("w_{e}"), v.as_str()))
                .collect();
            let _: () = redis::cmd("MSET").arg(&pairs).query(&mut c).expect("mset");
        }
    });
    for _ in 0..300 {
        let got = raw.cmd(&["sort", "l", "by", "nosort", "get", "w_*"]);
        let text = show(&got);
        // Each value: its payload line, or `$-1` for nil (before the first MSET).
        let values: Vec<&str> = text
            .split("\r\n")
            .skip(1)
            .filter(|l| !l.is_empty() && (*l == "$-1" || !l.starts_with('$')))
            .collect();
        assert_eq!(values.len(), 6, "{text:?}");
        assert!(
            values.iter().all(|v| *v == values[0]),
            "mixed read: {text:?}"
        );
    }
    writer.join().expect("writer");
}

#[test]
fn sort_patterns_on_one_shard_by_hash_tag() {
    // Keys sharing a hash tag share a shard: SORT runs there without another round.
    let server = TestServer::start(4);
    let mut raw = server.raw();
    raw.cmd(&["rpush", "{u}l", "1", "2"]);
    raw.cmd(&["mset", "{u}w_1", "2", "{u}w_2", "1", "{u}d_1", "x"]);
    assert_eq!(
        show(&raw.cmd(&["sort", "{u}l", "by", "{u}w_*", "get", "{u}d_*", "store", "{u}dst"])),
        ":2\r\n"
    );
    assert_eq!(
        show(&raw.cmd(&["lrange", "{u}dst", "0", "-1"])),
        "*2\r\n$0\r\n\r\n$1\r\nx\r\n"
    );
}

/// Recorded from redis-server 7.0.15: each command and its exact reply bytes.
pub const SORT_CASES: &[(&[&str], &[u8])] = &[
    (&["flushall"], b"+OK\r\n"),
    (&["rpush", "l", "3", "1", "2", "10", "-5", "1.5"], b":6\r\n"),
    (&["sort", "l"], b"*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$3\r\n1.5\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"),
    (&["sort", "l", "desc"], b"*6\r\n$2\r\n10\r\n$1\r\n3\r\n$1\r\n2\r\n$3\r\n1.5\r\n$1\r\n1\r\n$2\r\n-5\r\n"),
    (&["sort", "l", "limit", "1", "2"], b"*2\r\n$1\r\n1\r\n$3\r\n1.5\r\n"),
    (&["sort", "l", "limit", "-1", "2"], b"*2\r\n$2\r\n-5\r\n$1\r\n1\r\n"),
    (&["sort", "l", "limit", "1", "-1"], b"*5\r\n$1\r\n1\r\n$3\r\n1.5\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"),
    (&["sort", "l", "limit", "10", "2"], b"*0\r\n"),
    (&["sort", "l", "limit", "0", "0"], b"*0\r\n"),
    (&["sort", "l", "limit", "x", "1"], b"-ERR value is not an integer or out of range\r\n"),
    (&["sort", "l", "alpha"], b"*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$3\r\n1.5\r\n$2\r\n10\r\n$1\r\n2\r\n$1\r\n3\r\n"),
    (&["sort", "l", "alpha", "desc", "limit", "0", "3"], b"*3\r\n$1\r\n3\r\n$1\r\n2\r\n$2\r\n10\r\n"),
    (&["sort", "l", "by", "nosort"], b"*6\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\n2\r\n$2\r\n10\r\n$2\r\n-5\r\n$3\r\n1.5\r\n"),
    (&["sort", "l", "by", "nosort", "desc"], b"*6\r\n$3\r\n1.5\r\n$2\r\n-5\r\n$2\r\n10\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n3\r\n"),
    (&["sort", "l", "by", "nosort", "limit", "1", "2"], b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
    (&["sort", "l", "get", "#"], b"*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$3\r\n1.5\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"),
    (&["sort", "l", "get", "#", "get", "#"], b"*12\r\n$2\r\n-5\r\n$2\r\n-5\r\n$1\r\n1\r\n$1\r\n1\r\n$3\r\n1.5\r\n$3\r\n1.5\r\n$1\r\n2\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n3\r\n$2\r\n10\r\n$2\r\n10\r\n"),
    (&["sort", "l", "store", "dst"], b":6\r\n"),
    (&["lrange", "dst", "0", "-1"], b"*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$3\r\n1.5\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"),
    (&["sort", "l", "get", "#", "store", "dst"], b":6\r\n"),
    (&["lrange", "dst", "0", "-1"], b"*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$3\r\n1.5\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"),
    (&["sort", "l", "foo"], b"-ERR syntax error\r\n"),
    (&["sort", "l", "limit", "1"], b"-ERR syntax error\r\n"),
    (&["sort", "l", "store"], b"-ERR syntax error\r\n"),
    (&["sort", "nokey"], b"*0\r\n"),
    (&["sort", "nokey", "store", "dst"], b":0\r\n"),
    (&["exists", "dst"], b":0\r\n"),
    (&["rpush", "bad", "a", "1"], b":2\r\n"),
    (&["sort", "bad"], b"-ERR One or more scores can't be converted into double\r\n"),
    (&["sort", "bad", "alpha"], b"*2\r\n$1\r\n1\r\n$1\r\na\r\n"),
    (&["set", "s", "x"], b"+OK\r\n"),
    (&["sort", "s"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["sort_ro", "l"], b"*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$3\r\n1.5\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"),
    (&["sort_ro", "l", "store", "dst"], b"-ERR syntax error\r\n"),
    (&["sort_ro", "l", "desc", "limit", "0", "2"], b"*2\r\n$2\r\n10\r\n$1\r\n3\r\n"),
    (&["sadd", "st", "c", "a", "b"], b":3\r\n"),
    (&["sort", "st", "alpha"], b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"),
    (&["sort", "st", "by", "nosort", "store", "dst2"], b":3\r\n"),
    (&["lrange", "dst2", "0", "-1"], b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"),
    (&["rpush", "ws", "", " 2", "1"], b":3\r\n"),
    (&["sort", "ws"], b"*3\r\n$0\r\n\r\n$1\r\n1\r\n$2\r\n 2\r\n"),
    (&["rpush", "eq", "1", "01", "1.0"], b":3\r\n"),
    (&["sort", "eq"], b"*3\r\n$2\r\n01\r\n$1\r\n1\r\n$3\r\n1.0\r\n"),
];

/// Recorded from redis-server 7.0.15: SORT with BY and GET patterns naming other keys.
pub const PATTERN_CASES: &[(&[&str], &[u8])] = &[
    (&["flushall"], b"+OK\r\n"),
    (&["rpush", "l", "3", "1", "2"], b":3\r\n"),
    (&["mset", "w_1", "30", "w_2", "10", "w_3", "20"], b"+OK\r\n"),
    (
        &["sort", "l", "by", "w_*"],
        b"*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n1\r\n",
    ),
    (
        &["sort", "l", "by", "w_*", "desc"],
        b"*3\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\n2\r\n",
    ),
    (
        &["sort", "l", "by", "w_*", "get", "#"],
        b"*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n1\r\n",
    ),
    (
        &["sort", "l", "by", "w_*", "get", "d_*"],
        b"*3\r\n$-1\r\n$-1\r\n$-1\r\n",
    ),
    (&["mset", "d_1", "one", "d_2", "two"], b"+OK\r\n"),
    (
        &["sort", "l", "by", "w_*", "get", "d_*", "get", "#"],
        b"*6\r\n$3\r\ntwo\r\n$1\r\n2\r\n$-1\r\n$1\r\n3\r\n$3\r\none\r\n$1\r\n1\r\n",
    ),
    (
        &[
            "sort", "l", "by", "w_*", "get", "#", "get", "d_*", "limit", "1", "1",
        ],
        b"*2\r\n$1\r\n3\r\n$-1\r\n",
    ),
    (
        &["sort", "l", "by", "w_*", "limit", "1", "5", "get", "d_*"],
        b"*2\r\n$-1\r\n$3\r\none\r\n",
    ),
    (
        &["sort", "l", "by", "w_*", "get", "d_*", "store", "dst"],
        b":3\r\n",
    ),
    (
        &["lrange", "dst", "0", "-1"],
        b"*3\r\n$3\r\ntwo\r\n$0\r\n\r\n$3\r\none\r\n",
    ),
    (
        &["sort", "l", "get", "d_*", "get", "#", "store", "dst"],
        b":6\r\n",
    ),
    (
        &["lrange", "dst", "0", "-1"],
        b"*6\r\n$3\r\none\r\n$1\r\n1\r\n$3\r\ntwo\r\n$1\r\n2\r\n$0\r\n\r\n$1\r\n3\r\n",
    ),
    (
        &["sort", "l", "by", "missing_*"],
        b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n",
    ),
    (
        &["sort", "l", "by", "missing_*", "desc"],
        b"*3\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n",
    ),
    (
        &["sort", "l", "by", "w_*", "alpha"],
        b"*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n1\r\n",
    ),
    (
        &["sort", "l", "by", "w_*", "alpha", "desc", "limit", "0", "2"],
        b"*2\r\n$1\r\n1\r\n$1\r\n3\r\n",
    ),
    (&["set", "w_2", "abc"], b"+OK\r\n"),
    (
        &["sort", "l", "by", "w_*"],
        b"-ERR One or more scores can't be converted into double\r\n",
    ),
    (
        &["sort", "l", "by", "w_*", "alpha"],
        b"*3\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\n2\r\n",
    ),
    (
        &["sort", "l", "by", "w_*", "alpha", "get", "d_*"],
        b"*3\r\n$-1\r\n$3\r\none\r\n$3\r\ntwo\r\n",
    ),
    (
        &["sort", "l", "by", "nosort", "get", "d_*"],
        b"*3\r\n$-1\r\n$3\r\none\r\n$3\r\ntwo\r\n",
    ),
    (
        &[
            "sort", "l", "by", "nosort", "desc", "limit", "0", "2", "get", "d_*", "get", "#",
        ],
        b"*4\r\n$3\r\ntwo\r\n$1\r\n2\r\n$3\r\none\r\n$1\r\n1\r\n",
    ),
    (
        &["sort", "l", "by", "w_*", "by", "nosort"],
        b"*3\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\n2\r\n",
    ),
    (
        &["sort", "l", "by", "nosort", "by", "w_*"],
        b"*3\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\n2\r\n",
    ),
    (
        &["sort", "l", "get", "d_*->f"],
        b"*3\r\n$-1\r\n$-1\r\n$-1\r\n",
    ),
    (
        &["sort", "l", "get", "d_*->"],
        b"*3\r\n$-1\r\n$-1\r\n$-1\r\n",
    ),
    (&["set", "d_1->", "arrow"], b"+OK\r\n"),
    (
        &["sort", "l", "get", "d_*->"],
        b"*3\r\n$5\r\narrow\r\n$-1\r\n$-1\r\n",
    ),
    (&["sort", "l", "get", "d_"], b"*3\r\n$-1\r\n$-1\r\n$-1\r\n"),
    (&["sort", "l", "get", "#x"], b"*3\r\n$-1\r\n$-1\r\n$-1\r\n"),
    (
        &["sort", "l", "by", "w_*->f", "get", "#"],
        b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n",
    ),
    (&["rpush", "t", "c", "a", "b"], b":3\r\n"),
    (
        &["sort", "t", "by", "nokey_*", "alpha"],
        b"*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n",
    ),
    (
        &["sort", "t", "by", "nokey_*", "alpha", "desc"],
        b"*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n",
    ),
    (
        &["sort", "t", "by", "nokey_*", "alpha", "limit", "0", "3"],
        b"*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n",
    ),
    (&["mset", "w_a", "2", "w_b", "1", "w_c", "2"], b"+OK\r\n"),
    (
        &["sort", "t", "by", "w_*"],
        b"*3\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n",
    ),
    (
        &["sort", "t", "by", "w_*", "desc"],
        b"*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n",
    ),
    (
        &["sort", "t", "by", "w_*", "get", "w_*"],
        b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n2\r\n",
    ),
    (&["rpush", "wl", "1", "2"], b":2\r\n"),
    (
        &["sort", "t", "by", "wl", "get", "w_*"],
        b"*3\r\n$1\r\n2\r\n$1\r\n2\r\n$1\r\n1\r\n",
    ),
    (&["mset", "w_a", "0x10"], b"+OK\r\n"),
    (
        &["sort", "t", "by", "w_*"],
        b"*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n",
    ),
    (&["set", "w_2", "10"], b"+OK\r\n"),
    (&["sadd", "s", "3", "1", "2"], b":3\r\n"),
    (&["set", "w_3", "0"], b"+OK\r\n"),
    (
        &["sort", "s", "by", "w_*"],
        b"*3\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n",
    ),
    (
        &["sort", "s", "by", "w_*", "get", "d_*"],
        b"*3\r\n$-1\r\n$3\r\ntwo\r\n$3\r\none\r\n",
    ),
    (
        &["sort", "s", "by", "nosort", "desc"],
        b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n",
    ),
    (
        &["sort", "s", "by", "nosort", "get", "d_*", "store", "dst"],
        b":3\r\n",
    ),
    (
        &["lrange", "dst", "0", "-1"],
        b"*3\r\n$3\r\none\r\n$3\r\ntwo\r\n$0\r\n\r\n",
    ),
    (
        &["sort", "s", "get", "d_*", "get", "w_*", "store", "dst"],
        b":6\r\n",
    ),
    (
        &["lrange", "dst", "0", "-1"],
        b"*6\r\n$3\r\none\r\n$2\r\n30\r\n$3\r\ntwo\r\n$2\r\n10\r\n$0\r\n\r\n$1\r\n0\r\n",
    ),
    (
        &[
            "sort_ro", "l", "by", "w_*", "alpha", "get", "d_*", "get", "#",
        ],
        b"*6\r\n$-1\r\n$1\r\n3\r\n$3\r\ntwo\r\n$1\r\n2\r\n$3\r\none\r\n$1\r\n1\r\n",
    ),
    (
        &["sort_ro", "l", "get", "d_*", "limit", "0", "1"],
        b"*1\r\n$3\r\none\r\n",
    ),
    (
        &["sort_ro", "s", "by", "w_*", "get", "#"],
        b"*3\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n",
    ),
    (&["sort", "l", "by", "w_*", "store", "dst"], b":3\r\n"),
    (&["exists", "dst"], b":1\r\n"),
    (
        &["sort", "l", "by", "w_*", "limit", "5", "5", "store", "dst"],
        b":0\r\n",
    ),
    (&["exists", "dst"], b":0\r\n"),
    (&["sort", "nokey", "by", "w_*", "get", "d_*"], b"*0\r\n"),
    (
        &["sort", "l", "by", "w_*", "limit", "0", "0", "get", "d_*"],
        b"*0\r\n",
    ),
    (&["mset", "w_a", "1e999"], b"+OK\r\n"),
    (
        &["sort", "t", "by", "w_*"],
        b"-ERR One or more scores can't be converted into double\r\n",
    ),
    (&["set", "w_a", "2"], b"+OK\r\n"),
    (
        &["sort", "t", "by", "w_*", "get", "#", "get", "w_*"],
        b"*6\r\n$1\r\nb\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n2\r\n",
    ),
];

/// Recorded from redis-server 7.0.15: SORT of sorted sets (which it leaves in the skiplist
/// encoding), and BY/GET patterns reading hash fields (`h_*->f`).
pub const ZSET_HASH_CASES: &[(&[&str], &[u8])] = &[
    (&["flushall"], b"+OK\r\n"),
    (&["zadd", "z", "3", "c", "1", "a", "2", "b", "0", "d"], b":4\r\n"),
    (&["object", "encoding", "z"], b"$8\r\nlistpack\r\n"),
    (&["sort", "z", "alpha"], b"*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
    (&["object", "encoding", "z"], b"$8\r\nskiplist\r\n"),
    (&["sort", "z", "by", "nosort"], b"*4\r\n$1\r\nd\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"),
    (&["sort", "z", "by", "nosort", "desc"], b"*4\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n"),
    (&["sort", "z", "by", "nosort", "limit", "1", "2"], b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
    (&["sort", "z", "by", "nosort", "desc", "limit", "1", "2"], b"*2\r\n$1\r\nb\r\n$1\r\na\r\n"),
    (&["sort", "z", "by", "nosort", "desc", "limit", "3", "5"], b"*1\r\n$1\r\nd\r\n"),
    (&["sort", "z", "by", "nosort", "limit", "9", "1"], b"*0\r\n"),
    (&["hset", "h_a", "f", "3", "g", "x"], b":2\r\n"),
    (&["hset", "h_b", "f", "1", "g", "y"], b":2\r\n"),
    (&["hset", "h_c", "f", "2"], b":1\r\n"),
    (&["set", "h_d", "0"], b"+OK\r\n"),
    (&["sort", "z", "by", "h_*->f", "get", "#", "get", "h_*->g", "get", "h_*->f"], b"*12\r\n$1\r\nd\r\n$-1\r\n$-1\r\n$1\r\nb\r\n$1\r\ny\r\n$1\r\n1\r\n$1\r\nc\r\n$-1\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\nx\r\n$1\r\n3\r\n"),
    (&["sort", "z", "by", "h_*->f", "desc", "get", "h_*->g"], b"*4\r\n$1\r\nx\r\n$-1\r\n$1\r\ny\r\n$-1\r\n"),
    (&["sort", "z", "by", "h_*->nofield", "get", "#"], b"*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
    (&["sort", "z", "get", "h_*->f", "get", "h_*"], b"-ERR One or more scores can't be converted into double\r\n"),
    (&["sort_ro", "z", "by", "h_*->f", "limit", "0", "2", "get", "h_*->f"], b"*2\r\n$-1\r\n$1\r\n1\r\n"),
    (&["hset", "h_b", "f", "x"], b":0\r\n"),
    (&["sort", "z", "by", "h_*->f"], b"-ERR One or more scores can't be converted into double\r\n"),
    (&["zadd", "zbig", "1", "p", "2", "q"], b":2\r\n"),
    (&["object", "encoding", "zbig"], b"$8\r\nlistpack\r\n"),
    (&["sort_ro", "zbig", "by", "h_*->f"], b"*2\r\n$1\r\np\r\n$1\r\nq\r\n"),
    (&["object", "encoding", "zbig"], b"$8\r\nskiplist\r\n"),
    (&["zadd", "zz", "1", "m"], b":1\r\n"),
    (&["sort", "zz", "by", "nosort", "store", "dst"], b":1\r\n"),
    (&["lrange", "dst", "0", "-1"], b"*1\r\n$1\r\nm\r\n"),
    (&["object", "encoding", "zz"], b"$8\r\nskiplist\r\n"),
    (&["sadd", "hs", "a", "b"], b":2\r\n"),
    (&["sort", "hs", "by", "h_*->f", "alpha"], b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
    (&["sort", "hs", "by", "h_*->g", "get", "h_*->g", "store", "dst"], b"-ERR One or more scores can't be converted into double\r\n"),
    (&["lrange", "dst", "0", "-1"], b"*1\r\n$1\r\nm\r\n"),
];
