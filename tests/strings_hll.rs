//! HyperLogLog commands over TCP (PFADD, PFCOUNT over several keys and shards, PFMERGE), on 1
//! and 4 threads. Registers, counts and even the stored bytes match redis-server 7.0.15.

use rustis_tests::{show, TestServer};

#[test]
fn hll_commands_match_redis_reply_for_reply() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut raw = server.raw();
        for (args, want) in HLL_CASES {
            let got = raw.cmd(args);
            assert_eq!(show(&got), show(want), "threads={threads} command={args:?}");
        }
    }
}

#[test]
fn counts_match_redis_through_the_dense_switch() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut raw = server.raw();
        // (step, PFCOUNT, length of the GET reply) recorded from redis-server 7.0.15.
        let expect = [
            (0, ":302\r\n", 721),
            (9, ":2979\r\n", 12314),
            (29, ":8958\r\n", 12314),
        ];
        for step in 0..30 {
            let els: Vec<String> = (0..300).map(|i| format!("e{}", step * 300 + i)).collect();
            let mut args = vec!["pfadd", "big"];
            args.extend(els.iter().map(|s| s.as_str()));
            raw.cmd(&args);
            if let Some((_, count, len)) = expect.iter().find(|(s, _, _)| *s == step) {
                assert_eq!(show(&raw.cmd(&["pfcount", "big"])), *count);
                assert_eq!(raw.cmd(&["get", "big"]).len(), *len);
            }
        }
        let els: Vec<String> = (0..100).map(|i| format!("x{i}")).collect();
        let mut args = vec!["pfadd", "other"];
        args.extend(els.iter().map(|s| s.as_str()));
        raw.cmd(&args);
        assert_eq!(raw.cmd(&["pfcount", "big", "other"]), b":9073\r\n");
        assert_eq!(raw.cmd(&["pfmerge", "dst", "big", "other"]), b"+OK\r\n");
        assert_eq!(raw.cmd(&["pfcount", "dst"]), b":9073\r\n");
    }
}

/// Recorded from redis-server 7.0.15: each command and its exact reply bytes.
pub const HLL_CASES: &[(&[&str], &[u8])] = &[
    (&["flushall"], b"+OK\r\n"),
    (&["pfadd", "h"], b":1\r\n"),
    (&["get", "h"], b"$18\r\nHYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff\r\n"),
    (&["pfcount", "h"], b":0\r\n"),
    (&["pfadd", "h", "a", "b", "c", "d", "e", "f", "g"], b":1\r\n"),
    (&["get", "h"], b"$38\r\nHYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80Fm\x80V\x0c\x80D<\x848\x80P\xb1\x84I\x8c\x80Bm\x80BZ\r\n"),
    (&["pfcount", "h"], b":7\r\n"),
    (&["get", "h"], b"$38\r\nHYLL\x01\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00Fm\x80V\x0c\x80D<\x848\x80P\xb1\x84I\x8c\x80Bm\x80BZ\r\n"),
    (&["pfadd", "h", "a"], b":0\r\n"),
    (&["pfadd", "h", "a", "b", "z"], b":1\r\n"),
    (&["get", "h"], b"$41\r\nHYLL\x01\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x80Fm\x80V\x0c\x80D<\x848\x80@\x8f\x80P \x84I\x8c\x80Bm\x80BZ\r\n"),
    (&["pfcount", "h"], b":8\r\n"),
    (&["pfcount", "nokey"], b":0\r\n"),
    (&["pfcount", "nokey", "h"], b":8\r\n"),
    (&["pfadd", "h2", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20"], b":1\r\n"),
    (&["pfcount", "h", "h2"], b":28\r\n"),
    (&["pfmerge", "m", "h", "h2"], b"+OK\r\n"),
    (&["pfcount", "m"], b":28\r\n"),
    (&["get", "m"], b"$98\r\nHYLL\x01\x00\x00\x00\x1c\x00\x00\x00\x00\x00\x00\x00A\xee\x84D\x11\x80@j\x80C\xa4\x80D>\x80@\xe2\x80@\xf5\x88B\x10\x80D\xd4\x80Ec\x80\x0c\x90@\xdb\x80CQ\x84\x02\x804\x80@\x8f\x80B\x8a\x8cA\x10\x80E$\x80@\x92\x80F\xc8\x84Eu\x80B\xd7\x80A<\x80@\xd4\x8c@\xb8\x80\x15\x84@\xc6\x80BZ\r\n"),
    (&["pfmerge", "m"], b"+OK\r\n"),
    (&["pfcount", "m"], b":28\r\n"),
    (&["pfmerge", "m2"], b"+OK\r\n"),
    (&["exists", "m2"], b":1\r\n"),
    (&["get", "m2"], b"$18\r\nHYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff\r\n"),
    (&["set", "s", "hello"], b"+OK\r\n"),
    (&["pfadd", "s", "a"], b"-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    (&["pfcount", "s"], b"-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    (&["pfcount", "s", "h"], b"-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    (&["pfmerge", "s", "h"], b"-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    (&["pfmerge", "h", "s"], b"-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    (&["lpush", "l", "a"], b":1\r\n"),
    (&["pfadd", "l", "a"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["pfcount", "l"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["pfmerge", "l", "h"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["object", "encoding", "h"], b"$3\r\nraw\r\n"),
    (&["type", "h"], b"+string\r\n"),
    (&["set", "bad", "HYLL"], b"+OK\r\n"),
    (&["pfcount", "bad"], b"-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
    (&["pfadd", "bad", "a"], b"-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"),
];
