//! Generic key commands over TCP, on 1 and 4 threads, against replies recorded from
//! redis-server 7.0.15.

use std::collections::HashSet;

use rustis_tests::{run_cases, show, TestServer};

#[test]
fn key_commands_match_redis_reply_for_reply() {
    for threads in [1, 4] {
        run_cases(threads, KEY_CASES);
    }
}

/// Parses a SCAN reply: the next cursor and the keys.
fn parse_scan(reply: &[u8]) -> (String, Vec<String>) {
    let text = String::from_utf8_lossy(reply).into_owned();
    let lines: Vec<&str> = text.split("\r\n").collect();
    // *2, $n, cursor, *k, then $len/key pairs.
    let cursor = lines[2].to_string();
    let keys = lines[4..]
        .chunks(2)
        .filter(|c| c.len() == 2 && c[0].starts_with('$'))
        .map(|c| c[1].to_string())
        .collect();
    (cursor, keys)
}

fn scan_all(raw: &mut rustis_tests::RawConn, extra: &[&str]) -> Vec<String> {
    let mut cursor = "0".to_string();
    let mut all = Vec::new();
    loop {
        let mut args = vec!["scan", cursor.as_str()];
        args.extend_from_slice(extra);
        let (next, keys) = parse_scan(&raw.cmd(&args));
        all.extend(keys);
        cursor = next;
        if cursor == "0" {
            return all;
        }
    }
}

#[test]
fn scan_walks_every_shard_and_filters() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut raw = server.raw();
        assert_eq!(raw.cmd(&["scan", "0"]), b"*2\r\n$1\r\n0\r\n*0\r\n");
        for i in 0..500 {
            raw.cmd(&["set", &format!("k{i}"), "v"]);
        }
        for i in 0..20 {
            raw.cmd(&["rpush", &format!("l{i}"), "v"]);
        }
        let all: HashSet<String> = scan_all(&mut raw, &[]).into_iter().collect();
        assert_eq!(all.len(), 520, "threads={threads}");
        let lists = scan_all(&mut raw, &["type", "list", "count", "7"]);
        assert_eq!(lists.len(), 20);
        let m = scan_all(&mut raw, &["match", "k1?", "count", "1000"]);
        let m: HashSet<String> = m.into_iter().collect();
        assert_eq!(m.len(), 10);
        assert!(m.contains("k10") && m.contains("k19"));
    }
}

#[test]
fn a_small_keyspace_comes_back_in_one_scan_call() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut raw = server.raw();
        for k in ["a", "b", "c"] {
            raw.cmd(&["set", k, "1"]);
        }
        let (cursor, keys) = parse_scan(&raw.cmd(&["scan", "0"]));
        assert_eq!(cursor, "0", "threads={threads}");
        let keys: HashSet<String> = keys.into_iter().collect();
        assert_eq!(keys.len(), 3);
        // COUNT bounds a call (roughly, as in Redis): the walk then resumes where it stopped.
        for i in 0..100 {
            raw.cmd(&["set", &format!("k{i}"), "1"]);
        }
        let (cursor, keys) = parse_scan(&raw.cmd(&["scan", "0", "count", "5"]));
        assert_ne!(cursor, "0");
        assert!(keys.len() < 103);
    }
}

#[test]
fn scan_returns_every_key_present_for_the_whole_scan_while_the_keyspace_grows() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut raw = server.raw();
        for i in 0..300 {
            raw.cmd(&["set", &format!("old{i}"), "v"]);
        }
        let mut seen = HashSet::new();
        let mut cursor = "0".to_string();
        let mut added = 0;
        loop {
            let (next, keys) = parse_scan(&raw.cmd(&["scan", &cursor, "count", "5"]));
            seen.extend(keys);
            // Grow the keyspace (and its tables) during the scan.
            for _ in 0..10 {
                raw.cmd(&["set", &format!("new{added}"), "v"]);
                added += 1;
            }
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        for i in 0..300 {
            assert!(
                seen.contains(&format!("old{i}")),
                "threads={threads} missed old{i}"
            );
        }
    }
}

#[test]
fn keys_and_randomkey_cover_every_shard() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut raw = server.raw();
        assert_eq!(raw.cmd(&["randomkey"]), b"$-1\r\n");
        for k in ["a", "b", "c", "d", "e", "f", "g", "h"] {
            raw.cmd(&["set", k, "1"]);
        }
        raw.cmd(&["set", "", "empty"]);
        let reply = show(&raw.cmd(&["keys", "*"]));
        assert!(reply.starts_with("*9\r\n"), "{reply}");
        assert!(reply.contains("$0\r\n\r\n"));
        let reply = show(&raw.cmd(&["keys", "[a-c]"]));
        assert!(reply.starts_with("*3\r\n"), "{reply}");
        let mut seen = HashSet::new();
        for _ in 0..300 {
            seen.insert(raw.cmd(&["randomkey"]));
        }
        assert_eq!(seen.len(), 9, "threads={threads}");
        assert_eq!(raw.cmd(&["dbsize"]), b":9\r\n");
    }
}

#[test]
fn rename_and_copy_move_values_and_ttls_across_shards() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut raw = server.raw();
        raw.cmd(&["rpush", "a", "x", "y"]);
        raw.cmd(&["expire", "a", "100"]);
        assert_eq!(raw.cmd(&["rename", "a", "b"]), b"+OK\r\n");
        assert_eq!(raw.cmd(&["exists", "a"]), b":0\r\n");
        assert_eq!(raw.cmd(&["ttl", "b"]), b":100\r\n");
        assert_eq!(
            raw.cmd(&["lrange", "b", "0", "-1"]),
            b"*2\r\n$1\r\nx\r\n$1\r\ny\r\n"
        );
        assert_eq!(raw.cmd(&["copy", "b", "c"]), b":1\r\n");
        assert_eq!(raw.cmd(&["ttl", "c"]), b":100\r\n");
        assert_eq!(raw.cmd(&["rpush", "c", "z"]), b":3\r\n");
        assert_eq!(
            raw.cmd(&["lrange", "b", "0", "-1"]),
            b"*2\r\n$1\r\nx\r\n$1\r\ny\r\n"
        );
        assert_eq!(raw.cmd(&["renamenx", "b", "c"]), b":0\r\n");
        assert_eq!(raw.cmd(&["set", "d", "1"]), b"+OK\r\n");
        assert_eq!(raw.cmd(&["rename", "d", "c"]), b"+OK\r\n");
        assert_eq!(raw.cmd(&["type", "c"]), b"+string\r\n");
        assert_eq!(raw.cmd(&["ttl", "c"]), b":-1\r\n");
    }
}

#[test]
fn copy_into_another_database_on_any_shard() {
    // Replies recorded from redis-server 7.0.15. With four threads the source and destination
    // keys live on different shards, so COPY ... DB n runs as a cross-shard, cross-db Txn.
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut raw = server.raw();
        let cases: &[(&[&str], &[u8])] = &[
            (&["set", "a", "1"], b"+OK\r\n"),
            (&["pexpire", "a", "100000"], b":1\r\n"),
            (&["copy", "a", "b", "db", "1"], b":1\r\n"),
            (&["copy", "a", "a", "db", "1"], b":1\r\n"),
            (
                &["copy", "a", "a", "db", "0"],
                b"-ERR source and destination objects are the same\r\n",
            ),
            (
                &["copy", "a", "b", "db", "16"],
                b"-ERR DB index is out of range\r\n",
            ),
            (
                &["copy", "a", "b", "db", "-1"],
                b"-ERR DB index is out of range\r\n",
            ),
            (
                &["copy", "a", "b", "db", "x"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (&["copy", "a", "b", "db", "1"], b":0\r\n"),
            (&["copy", "a", "b", "db", "1", "replace"], b":1\r\n"),
            (&["exists", "b"], b":0\r\n"),
            (&["select", "1"], b"+OK\r\n"),
            (&["get", "b"], b"$1\r\n1\r\n"),
            (&["get", "a"], b"$1\r\n1\r\n"),
            (&["copy", "nokey", "b", "db", "0"], b":0\r\n"),
            (
                &["copy", "b", "c", "db", "1", "replace", "replace"],
                b":1\r\n",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(
                show(&raw.cmd(args)),
                show(want),
                "{args:?} on {threads} threads"
            );
        }
        // The copy keeps the source's time to live.
        let pttl = show(&raw.cmd(&["pttl", "b"]));
        assert!(pttl.starts_with(':') && pttl != ":-1\r\n", "{pttl}");
    }
}

#[test]
fn object_help_and_idletime() {
    let server = TestServer::start(1);
    let mut raw = server.raw();
    let help = show(&raw.cmd(&["object", "help"]));
    assert!(help.starts_with(
        "*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
    ));
    assert!(help.ends_with("+HELP\r\n+    Prints this help.\r\n"));
    raw.cmd(&["set", "k", "v"]);
    assert_eq!(raw.cmd(&["object", "idletime", "k"]), b":0\r\n");
}

#[test]
fn flush_async_empties_at_once_and_frees_in_the_background() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut raw = server.raw();
        let mut batch = Vec::new();
        for i in 0..5000 {
            batch.extend(rustis_tests::encode(&[
                b"set",
                format!("k{i}").as_bytes(),
                b"v",
            ]));
        }
        raw.send(&batch);
        for _ in 0..5000 {
            raw.read_reply();
        }
        raw.cmd(&["select", "1"]);
        raw.cmd(&["set", "x", "1"]);
        assert_eq!(raw.cmd(&["flushdb", "async"]), b"+OK\r\n");
        assert_eq!(raw.cmd(&["dbsize"]), b":0\r\n");
        raw.cmd(&["select", "0"]);
        assert_eq!(raw.cmd(&["dbsize"]), b":5000\r\n");
        assert_eq!(raw.cmd(&["flushall", "ASYNC"]), b"+OK\r\n");
        assert_eq!(raw.cmd(&["dbsize"]), b":0\r\n");
        assert_eq!(raw.cmd(&["set", "k1", "v"]), b"+OK\r\n");
        assert_eq!(raw.cmd(&["keys", "*"]), b"*1\r\n$2\r\nk1\r\n");
    }
}

#[test]
fn unlink_frees_large_values() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut raw = server.raw();
        let mut args = vec!["rpush".to_string(), "big".to_string()];
        for i in 0..1000 {
            args.push(i.to_string());
        }
        let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        assert_eq!(raw.cmd(&a), b":1000\r\n");
        raw.cmd(&["set", "small", "1"]);
        assert_eq!(raw.cmd(&["unlink", "big", "small", "nosuch"]), b":2\r\n");
        assert_eq!(raw.cmd(&["exists", "big", "small"]), b":0\r\n");
    }
}

/// Recorded from redis-server 7.0.15: each command and its exact reply bytes.
pub const KEY_CASES: &[(&[&str], &[u8])] = &[
    (&["flushall"], b"+OK\r\n"),
    (&["set", "k", "v"], b"+OK\r\n"),
    (&["expire", "k", "100"], b":1\r\n"),
    (&["ttl", "k"], b":100\r\n"),
    (&["expire", "k", "100", "nx"], b":0\r\n"),
    (&["expire", "k", "200", "xx"], b":1\r\n"),
    (&["ttl", "k"], b":200\r\n"),
    (&["expire", "k", "50", "gt"], b":0\r\n"),
    (&["expire", "k", "500", "gt"], b":1\r\n"),
    (&["ttl", "k"], b":500\r\n"),
    (&["expire", "k", "1000", "lt"], b":0\r\n"),
    (&["expire", "k", "10", "lt"], b":1\r\n"),
    (&["ttl", "k"], b":10\r\n"),
    (&["expire", "k", "10", "foo"], b"-ERR Unsupported option foo\r\n"),
    (&["expire", "k", "10", "nx", "xx"], b"-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"),
    (&["expire", "k", "10", "gt", "lt"], b"-ERR GT and LT options at the same time are not compatible\r\n"),
    (&["expire", "k", "10", "nx", "gt"], b"-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"),
    (&["expire", "k", "x"], b"-ERR value is not an integer or out of range\r\n"),
    (&["expire", "k", "9223372036854775"], b"-ERR invalid expire time in 'expire' command\r\n"),
    (&["pexpire", "k", "9223372036854775807"], b"-ERR invalid expire time in 'pexpire' command\r\n"),
    (&["expireat", "k", "9223372036854775"], b":1\r\n"),
    (&["expiretime", "k"], b":9223372036854775\r\n"),
    (&["persist", "k"], b":1\r\n"),
    (&["persist", "k"], b":0\r\n"),
    (&["ttl", "k"], b":-1\r\n"),
    (&["expire", "k", "10", "xx"], b":0\r\n"),
    (&["expire", "k", "10", "gt"], b":0\r\n"),
    (&["expire", "k", "10", "lt"], b":1\r\n"),
    (&["ttl", "k"], b":10\r\n"),
    (&["persist", "k"], b":1\r\n"),
    (&["expire", "k", "10", "nx"], b":1\r\n"),
    (&["expire", "nk", "10"], b":0\r\n"),
    (&["ttl", "nk"], b":-2\r\n"),
    (&["pttl", "nk"], b":-2\r\n"),
    (&["expiretime", "nk"], b":-2\r\n"),
    (&["pexpiretime", "nk"], b":-2\r\n"),
    (&["persist", "nk"], b":0\r\n"),
    (&["set", "k2", "v"], b"+OK\r\n"),
    (&["expiretime", "k2"], b":-1\r\n"),
    (&["pexpireat", "k2", "4000000000600"], b":1\r\n"),
    (&["pexpiretime", "k2"], b":4000000000600\r\n"),
    (&["expiretime", "k2"], b":4000000001\r\n"),
    (&["expire", "k2", "-1"], b":1\r\n"),
    (&["exists", "k2"], b":0\r\n"),
    (&["set", "k3", "v"], b"+OK\r\n"),
    (&["pexpireat", "k3", "1"], b":1\r\n"),
    (&["exists", "k3"], b":0\r\n"),
    (&["set", "k4", "v"], b"+OK\r\n"),
    (&["expire", "k4", "0"], b":1\r\n"),
    (&["exists", "k4"], b":0\r\n"),
    (&["expire", "k4", "-9223372036854775808"], b"-ERR invalid expire time in 'expire' command\r\n"),
    (&["expire", "k4", "-9223372036854775"], b":0\r\n"),
    (&["set", "m", "v"], b"+OK\r\n"),
    (&["move", "m", "0"], b"-ERR source and destination objects are the same\r\n"),
    (&["move", "m", "16"], b"-ERR DB index is out of range\r\n"),
    (&["move", "m", "x"], b"-ERR value is not an integer or out of range\r\n"),
    (&["move", "m", "-1"], b"-ERR DB index is out of range\r\n"),
    (&["move", "nk", "1"], b":0\r\n"),
    (&["move", "m", "1"], b":1\r\n"),
    (&["exists", "m"], b":0\r\n"),
    (&["select", "1"], b"+OK\r\n"),
    (&["get", "m"], b"$1\r\nv\r\n"),
    (&["set", "m", "other"], b"+OK\r\n"),
    (&["select", "0"], b"+OK\r\n"),
    (&["set", "m", "v2"], b"+OK\r\n"),
    (&["move", "m", "1"], b":0\r\n"),
    (&["select", "1"], b"+OK\r\n"),
    (&["get", "m"], b"$5\r\nother\r\n"),
    (&["select", "0"], b"+OK\r\n"),
    (&["set", "c1", "v"], b"+OK\r\n"),
    (&["expire", "c1", "1000"], b":1\r\n"),
    (&["copy", "c1", "c1"], b"-ERR source and destination objects are the same\r\n"),
    (&["copy", "c1", "c2", "db", "16"], b"-ERR DB index is out of range\r\n"),
    (&["copy", "c1", "c2", "db", "x"], b"-ERR value is not an integer or out of range\r\n"),
    (&["copy", "c1", "c2", "foo"], b"-ERR syntax error\r\n"),
    (&["copy", "c1", "c2", "replace", "db"], b"-ERR syntax error\r\n"),
    (&["copy", "c1", "c2"], b":1\r\n"),
    (&["ttl", "c2"], b":1000\r\n"),
    (&["get", "c2"], b"$1\r\nv\r\n"),
    (&["copy", "c1", "c2"], b":0\r\n"),
    (&["set", "c1", "new"], b"+OK\r\n"),
    (&["copy", "c1", "c2", "replace"], b":1\r\n"),
    (&["get", "c2"], b"$3\r\nnew\r\n"),
    (&["copy", "nk", "c3"], b":0\r\n"),
    (&["rename", "nk", "x"], b"-ERR no such key\r\n"),
    (&["rename", "nk", "nk"], b"-ERR no such key\r\n"),
    (&["rename", "c1", "c1"], b"+OK\r\n"),
    (&["renamenx", "c1", "c1"], b":0\r\n"),
    (&["rename", "c1", "r1"], b"+OK\r\n"),
    (&["get", "r1"], b"$3\r\nnew\r\n"),
    (&["exists", "c1"], b":0\r\n"),
    (&["ttl", "r1"], b":-1\r\n"),
    (&["set", "r2", "x"], b"+OK\r\n"),
    (&["renamenx", "r1", "r2"], b":0\r\n"),
    (&["renamenx", "r1", "r3"], b":1\r\n"),
    (&["get", "r3"], b"$3\r\nnew\r\n"),
    (&["rename", "r3", "r2"], b"+OK\r\n"),
    (&["get", "r2"], b"$3\r\nnew\r\n"),
    (&["swapdb", "0", "x"], b"-ERR invalid second DB index\r\n"),
    (&["swapdb", "x", "0"], b"-ERR invalid first DB index\r\n"),
    (&["swapdb", "0", "16"], b"-ERR DB index is out of range\r\n"),
    (&["swapdb", "0", "-1"], b"-ERR DB index is out of range\r\n"),
    (&["wait", "0", "-1"], b"-ERR timeout is negative\r\n"),
    (&["wait", "x", "0"], b"-ERR value is not an integer or out of range\r\n"),
    (&["wait", "0", "x"], b"-ERR timeout is not an integer or out of range\r\n"),
    (&["wait", "0", "0"], b":0\r\n"),
    (&["object", "foo", "k"], b"-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n"),
    (&["object", "encoding", "nk"], b"$-1\r\n"),
    (&["object", "freq", "k"], b"-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n"),
    (&["object", "refcount", "k"], b":1\r\n"),
    (&["object", "help", "x"], b"-ERR wrong number of arguments for 'object|help' command\r\n"),
    (&["object", "encoding"], b"-ERR wrong number of arguments for 'object|encoding' command\r\n"),
    (&["object"], b"-ERR wrong number of arguments for 'object' command\r\n"),
    (&["set", "int", "12"], b"+OK\r\n"),
    (&["object", "refcount", "int"], b":2147483647\r\n"),
    (&["set", "int2", "123456"], b"+OK\r\n"),
    (&["object", "refcount", "int2"], b":1\r\n"),
    (&["object", "encoding", "int2"], b"$3\r\nint\r\n"),
    (&["set", "emb", "12345678901234567890123456789012345678901234"], b"+OK\r\n"),
    (&["object", "encoding", "emb"], b"$6\r\nembstr\r\n"),
    (&["set", "raw", "123456789012345678901234567890123456789012345"], b"+OK\r\n"),
    (&["object", "encoding", "raw"], b"$3\r\nraw\r\n"),
    (&["rpush", "lst", "a"], b":1\r\n"),
    (&["object", "encoding", "lst"], b"$9\r\nquicklist\r\n"),
    (&["sadd", "st", "1"], b":1\r\n"),
    (&["object", "encoding", "st"], b"$6\r\nintset\r\n"),
    (&["type", "st"], b"+set\r\n"),
    (&["type", "lst"], b"+list\r\n"),
    (&["type", "nk"], b"+none\r\n"),
    (&["scan", "x"], b"-ERR invalid cursor\r\n"),
    (&["scan", "0", "count", "0"], b"-ERR syntax error\r\n"),
    (&["scan", "0", "count", "x"], b"-ERR value is not an integer or out of range\r\n"),
    (&["scan", "0", "match"], b"-ERR syntax error\r\n"),
    (&["scan", "0", "foo", "1"], b"-ERR syntax error\r\n"),
    (&["scan", "18446744073709551616"], b"-ERR invalid cursor\r\n"),
    (&["keys", "nomatch*"], b"*0\r\n"),
    (&["touch", "k", "int", "nk", "emb"], b":3\r\n"),
    (&["unlink", "k", "int", "nk", "emb"], b":3\r\n"),
    (&["exists", "k", "int"], b":0\r\n"),
    (&["del", "lst", "st"], b":2\r\n"),
    (&["flushdb"], b"+OK\r\n"),
    (&["randomkey"], b"$-1\r\n"),
    (&["set", "only", "v"], b"+OK\r\n"),
    (&["randomkey"], b"$4\r\nonly\r\n"),
    (&["keys", "o*"], b"*1\r\n$4\r\nonly\r\n"),
    (&["keys", "[a-o]nly"], b"*1\r\n$4\r\nonly\r\n"),
    (&["swapdb", "0", "1"], b"+OK\r\n"),
    (&["get", "only"], b"$-1\r\n"),
    (&["swapdb", "1", "0"], b"+OK\r\n"),
    (&["get", "only"], b"$1\r\nv\r\n"),
    (&["dbsize"], b":1\r\n"),
];
