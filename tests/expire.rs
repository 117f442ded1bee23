//! Expiry over TCP with an injected clock: lazy expiry at the exact boundary, TTL
//! rounding, the EXPIRE conditions, active expiry without reads, and the INFO counters.

use std::time::{Duration, Instant};

use rustis_tests::{show, ManualClock, TestServer};

const T0: u64 = 1_700_000_000_000;

fn info_field(raw: &mut rustis_tests::RawConn, section: &str, field: &str) -> String {
    let text = show(&raw.cmd(&["info", section]));
    text.split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(|v| v.to_string()))
        .unwrap_or_default()
}

#[test]
fn keys_expire_exactly_at_their_time() {
    for threads in [1, 4] {
        let clock = ManualClock::new(T0);
        let server = TestServer::start_with_clock(threads, clock.clone());
        let mut raw = server.raw();
        assert_eq!(raw.cmd(&["set", "a", "1", "px", "100"]), b"+OK\r\n");
        assert_eq!(raw.cmd(&["setex", "b", "1", "x"]), b"+OK\r\n");
        assert_eq!(raw.cmd(&["psetex", "c", "1000", "x"]), b"+OK\r\n");
        assert_eq!(raw.cmd(&["pttl", "a"]), b":100\r\n");
        assert_eq!(raw.cmd(&["pttl", "b"]), b":1000\r\n");
        clock.advance(99);
        assert_eq!(raw.cmd(&["get", "a"]), b"$1\r\n1\r\n");
        assert_eq!(raw.cmd(&["pttl", "a"]), b":1\r\n");
        assert_eq!(raw.cmd(&["ttl", "a"]), b":0\r\n");
        clock.advance(1);
        assert_eq!(raw.cmd(&["get", "a"]), b"$-1\r\n");
        assert_eq!(raw.cmd(&["ttl", "a"]), b":-2\r\n");
        assert_eq!(raw.cmd(&["exists", "a", "b", "c"]), b":2\r\n");
        clock.advance(900);
        // Every kind of access misses an expired key, on every shard.
        assert_eq!(raw.cmd(&["mget", "b", "c"]), b"*2\r\n$-1\r\n$-1\r\n");
        assert_eq!(raw.cmd(&["keys", "*"]), b"*0\r\n");
        assert_eq!(raw.cmd(&["scan", "0"]), b"*2\r\n$1\r\n0\r\n*0\r\n");
        assert_eq!(raw.cmd(&["randomkey"]), b"$-1\r\n");
        assert_eq!(raw.cmd(&["append", "b", "z"]), b":1\r\n");
        assert_eq!(raw.cmd(&["ttl", "b"]), b":-1\r\n");
        assert_eq!(raw.cmd(&["incr", "c"]), b":1\r\n");
        assert_eq!(raw.cmd(&["rename", "b", "c"]), b"+OK\r\n");
    }
}

#[test]
fn ttl_rounds_and_absolute_times_are_exact() {
    let clock = ManualClock::new(T0);
    let server = TestServer::start_with_clock(1, clock.clone());
    let mut raw = server.raw();
    raw.cmd(&["set", "k", "v"]);
    assert_eq!(raw.cmd(&["pexpire", "k", "1500"]), b":1\r\n");
    assert_eq!(raw.cmd(&["ttl", "k"]), b":2\r\n");
    assert_eq!(raw.cmd(&["pexpiretime", "k"]), b":1700000001500\r\n");
    assert_eq!(raw.cmd(&["expiretime", "k"]), b":1700000002\r\n");
    clock.advance(1001);
    assert_eq!(raw.cmd(&["ttl", "k"]), b":0\r\n");
    assert_eq!(raw.cmd(&["pttl", "k"]), b":499\r\n");
    assert_eq!(raw.cmd(&["expireat", "k", "1700000100"]), b":1\r\n");
    assert_eq!(raw.cmd(&["pttl", "k"]), b":98999\r\n");
    assert_eq!(
        raw.cmd(&["set", "k", "v", "exat", "1700000005"]),
        b"+OK\r\n"
    );
    assert_eq!(raw.cmd(&["pttl", "k"]), b":3999\r\n");
    assert_eq!(raw.cmd(&["set", "k", "w", "keepttl"]), b"+OK\r\n");
    assert_eq!(raw.cmd(&["pttl", "k"]), b":3999\r\n");
    assert_eq!(raw.cmd(&["getex", "k", "px", "50"]), b"$1\r\nw\r\n");
    assert_eq!(raw.cmd(&["pttl", "k"]), b":50\r\n");
    // A time in the past deletes the key at once (and GETEX still returns the value).
    assert_eq!(raw.cmd(&["getex", "k", "pxat", "1"]), b"$1\r\nw\r\n");
    assert_eq!(raw.cmd(&["exists", "k"]), b":0\r\n");
    raw.cmd(&["set", "k", "v"]);
    assert_eq!(raw.cmd(&["pexpireat", "k", "1700000001001"]), b":1\r\n");
    assert_eq!(raw.cmd(&["exists", "k"]), b":0\r\n");
}

#[test]
fn expire_conditions_compare_with_the_current_ttl() {
    for threads in [1, 4] {
        let clock = ManualClock::new(T0);
        let server = TestServer::start_with_clock(threads, clock.clone());
        let mut raw = server.raw();
        raw.cmd(&["set", "k", "v"]);
        // No TTL counts as an infinite one: GT never applies, LT always does.
        assert_eq!(raw.cmd(&["expire", "k", "100", "gt"]), b":0\r\n");
        assert_eq!(raw.cmd(&["expire", "k", "100", "xx"]), b":0\r\n");
        assert_eq!(raw.cmd(&["expire", "k", "100", "lt"]), b":1\r\n");
        assert_eq!(raw.cmd(&["expire", "k", "50", "nx"]), b":0\r\n");
        assert_eq!(raw.cmd(&["expire", "k", "100", "gt"]), b":0\r\n");
        assert_eq!(raw.cmd(&["expire", "k", "101", "gt"]), b":1\r\n");
        assert_eq!(raw.cmd(&["expire", "k", "101", "lt"]), b":0\r\n");
        assert_eq!(raw.cmd(&["expire", "k", "99", "lt", "xx"]), b":1\r\n");
        assert_eq!(raw.cmd(&["pttl", "k"]), b":99000\r\n");
        assert_eq!(raw.cmd(&["persist", "k"]), b":1\r\n");
        assert_eq!(raw.cmd(&["persist", "k"]), b":0\r\n");
        assert_eq!(raw.cmd(&["expire", "k", "-1", "nx"]), b":1\r\n");
        assert_eq!(raw.cmd(&["exists", "k"]), b":0\r\n");
        assert_eq!(raw.cmd(&["expire", "k", "10"]), b":0\r\n");
    }
}

#[test]
fn active_expiry_reclaims_keys_nobody_reads() {
    for threads in [1, 4] {
        let clock = ManualClock::new(T0);
        let server = TestServer::start_with_clock(threads, clock.clone());
        let mut raw = server.raw();
        let n = 20_000;
        let mut batch = Vec::new();
        for i in 0..n {
            batch.extend(rustis_tests::encode(&[
                b"set",
                format!("key:{i}").as_bytes(),
                b"v",
                b"px",
                b"1000",
            ]));
        }
        raw.send(&batch);
        for _ in 0..n {
            raw.read_reply();
        }
        raw.cmd(&["set", "keep", "v"]);
        assert_eq!(raw.cmd(&["dbsize"]), format!(":{}\r\n", n + 1).into_bytes());
        assert_eq!(
            info_field(&mut raw, "keyspace", "db0").split(',').nth(1),
            Some("expires=20000")
        );
        clock.advance(1000);
        // No command touches the keys: only the per-shard expiry cycle can remove them.
        let start = Instant::now();
        loop {
            if raw.cmd(&["dbsize"]) == b":1\r\n" {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "threads={threads}: keys left"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(info_field(&mut raw, "stats", "expired_keys"), n.to_string());
        assert_eq!(
            info_field(&mut raw, "keyspace", "db0"),
            "keys=1,expires=0,avg_ttl=0"
        );
    }
}

#[test]
fn info_counts_hits_misses_and_avg_ttl() {
    let clock = ManualClock::new(T0);
    let server = TestServer::start_with_clock(1, clock.clone());
    let mut raw = server.raw();
    raw.cmd(&["set", "a", "1"]);
    raw.cmd(&["get", "a"]);
    raw.cmd(&["get", "nope"]);
    assert_eq!(info_field(&mut raw, "stats", "keyspace_hits"), "1");
    assert_eq!(info_field(&mut raw, "stats", "keyspace_misses"), "1");
    for i in 0..100 {
        raw.cmd(&["set", &format!("t{i}"), "v", "ex", "100"]);
    }
    // The estimate comes from the expiry cycle's samples; give it a few cycles.
    let start = Instant::now();
    loop {
        let db0 = info_field(&mut raw, "keyspace", "db0");
        let avg: u64 = db0
            .rsplit("avg_ttl=")
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if avg > 0 {
            assert!(avg <= 100_000, "{db0}");
            assert!(db0.starts_with("keys=101,expires=100,"), "{db0}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "avg_ttl never set: {db0}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn object_idletime_counts_from_the_last_access() {
    for threads in [1, 4] {
        let clock = ManualClock::new(T0);
        let server = TestServer::start_with_clock(threads, clock.clone());
        let mut raw = server.raw();
        raw.cmd(&["set", "a", "1"]);
        raw.cmd(&["set", "b", "1"]);
        clock.advance(5_000);
        assert_eq!(raw.cmd(&["object", "idletime", "a"]), b":5\r\n");
        // OBJECT itself does not count as an access.
        assert_eq!(raw.cmd(&["object", "idletime", "a"]), b":5\r\n");
        raw.cmd(&["get", "a"]);
        assert_eq!(raw.cmd(&["object", "idletime", "a"]), b":0\r\n");
        assert_eq!(raw.cmd(&["touch", "b", "nosuch"]), b":1\r\n");
        assert_eq!(raw.cmd(&["object", "idletime", "b"]), b":0\r\n");
        clock.advance(2_000);
        assert_eq!(raw.cmd(&["object", "idletime", "b"]), b":2\r\n");
    }
}

#[test]
fn time_reads_the_server_clock() {
    let clock = ManualClock::new(T0 + 250);
    let server = TestServer::start_with_clock(2, clock.clone());
    let mut raw = server.raw();
    assert_eq!(
        raw.cmd(&["time"]),
        b"*2\r\n$10\r\n1700000000\r\n$6\r\n250000\r\n"
    );
    assert_eq!(
        raw.cmd(&["time", "x"]),
        b"-ERR wrong number of arguments for 'time' command\r\n"
    );
}
