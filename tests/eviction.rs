//! `maxmemory` and its eviction policies over TCP: what each policy keeps, that `noeviction`
//! refuses writes with redis-server 7.0.15's exact bytes, and that a write storm stays within
//! a small margin of the limit. Every case runs on one thread and on four.
//!
//! The in-process test server has no allocator figure, so its memory is the keys' estimate
//! (MEMORY USAGE summed over the keys); limits are set in multiples of one key's estimate.

use rustis_storage::ManualClock;
use rustis_tests::{check, cmd_text, show, RawConn, Reference, TestServer, THREADS};

/// One key's estimate as MEMORY USAGE reports it.
fn usage(c: &mut RawConn, key: &str) -> u64 {
    let r = cmd_text(c, &["MEMORY", "USAGE", key]);
    r.trim_start_matches(':')
        .trim()
        .parse()
        .expect("an integer")
}

fn info_field(c: &mut RawConn, section: &str, field: &str) -> u64 {
    let text = cmd_text(c, &["INFO", section]);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {text}"))
}

fn exists(c: &mut RawConn, key: &str) -> bool {
    c.cmd(&["EXISTS", key]) == b":1\r\n"
}

/// Sets `maxmemory` to `per_key` times `keys`, with `policy`.
fn limit(c: &mut RawConn, bytes: u64, policy: &str) {
    check(
        c,
        &[
            "CONFIG",
            "SET",
            "maxmemory",
            &bytes.to_string(),
            "maxmemory-policy",
            policy,
            "maxmemory-samples",
            "10",
        ],
        b"+OK\r\n",
    );
}

/// Values of one size, so every key has the same estimate.
const VALUE: &str =
    "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv";

fn fill(c: &mut RawConn, prefix: &str, n: usize, ttl: bool) {
    for i in 0..n {
        let k = format!("{prefix}{i:05}");
        if ttl {
            c.send_cmd(&["SET", &k, VALUE, "EX", "100000"]);
        } else {
            c.send_cmd(&["SET", &k, VALUE]);
        }
    }
    for _ in 0..n {
        let r = c.read_reply();
        assert_eq!(show(&r), "+OK\r\n");
    }
}

fn per_key(c: &mut RawConn) -> u64 {
    check(c, &["SET", "probe:00000", VALUE], b"+OK\r\n");
    let n = usage(c, "probe:00000");
    check(c, &["DEL", "probe:00000"], b":1\r\n");
    n
}

/// The bytes `noeviction` answers over the limit are redis-server's, for a plain write, a
/// write queued in MULTI (and the EXEC that follows), a script's write, and a read and a
/// delete go on.
#[test]
fn noeviction_refuses_writes_with_redis_bytes() {
    let cases: &[&[&str]] = &[
        &["CONFIG", "SET", "maxmemory", "1"],
        &["SET", "b", "2"],
        &["GET", "a"],
        &["APPEND", "a", "x"],
        &["MULTI"],
        &["SET", "c", "3"],
        &["GET", "a"],
        &["EXEC"],
        &["MULTI"],
        &["GET", "a"],
        &["EXEC"],
        &["EVAL", "return redis.call('set', 'd', '1')", "0"],
        &["EVAL", "return redis.call('get', 'a')", "0"],
        &["DEL", "a"],
        &["CONFIG", "SET", "maxmemory", "0"],
        &["SET", "b", "2"],
    ];
    let reference = Reference::start();
    let mut r = reference.conn();
    check(&mut r, &["SET", "a", "1"], b"+OK\r\n");
    let want: Vec<Vec<u8>> = cases.iter().map(|c| r.cmd(c)).collect();
    assert_eq!(
        show(&want[1]),
        "-OOM command not allowed when used memory > 'maxmemory'.\r\n"
    );
    for t in THREADS {
        let s = TestServer::start(t);
        let mut c = s.raw();
        check(&mut c, &["SET", "a", "1"], b"+OK\r\n");
        for (args, want) in cases.iter().zip(&want) {
            check(&mut c, args, want);
        }
        // Refusals count in the command's statistics, as Redis's rejected_calls.
        let stats = cmd_text(&mut c, &["INFO", "commandstats"]);
        assert!(stats.contains("cmdstat_set:calls=2,"), "{stats}");
        assert!(stats.contains("rejected_calls=2,failed_calls=0"), "{stats}");
        let errs = cmd_text(&mut c, &["INFO", "errorstats"]);
        assert!(errs.contains("errorstat_OOM:count="), "{errs}");
    }
}

/// allkeys-lru evicts keys not read for longest: keys read after the fill survive a write
/// burst that evicts about half of the rest.
#[test]
fn allkeys_lru_keeps_recently_read_keys() {
    for t in THREADS {
        let clock = ManualClock::new(1_700_000_000_000);
        let s = TestServer::start_with_clock(t, clock.clone());
        let mut c = s.raw();
        let per = per_key(&mut c);
        fill(&mut c, "k:", 800, false);
        clock.advance(10_000);
        for i in (0..800).step_by(2) {
            c.cmd(&["GET", &format!("k:{i:05}")]);
        }
        clock.advance(10_000);
        limit(&mut c, per * 1000, "allkeys-lru");
        fill(&mut c, "new:", 400, false);
        let hot_kept = (0..800)
            .step_by(2)
            .filter(|i| exists(&mut c, &format!("k:{i:05}")))
            .count();
        let cold_kept = (1..800)
            .step_by(2)
            .filter(|i| exists(&mut c, &format!("k:{i:05}")))
            .count();
        assert!(info_field(&mut c, "stats", "evicted_keys") >= 150);
        assert!(hot_kept >= 390, "threads={t}: hot kept {hot_kept}/400");
        assert!(cold_kept <= 250, "threads={t}: cold kept {cold_kept}/400");
    }
}

/// allkeys-lfu evicts the least used keys: keys read many times survive; OBJECT FREQ shows
/// the counter and OBJECT IDLETIME is refused, as in Redis.
#[test]
fn allkeys_lfu_keeps_frequently_read_keys() {
    for t in THREADS {
        let s = TestServer::start(t);
        let mut c = s.raw();
        let per = per_key(&mut c);
        check(
            &mut c,
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
            b"+OK\r\n",
        );
        fill(&mut c, "k:", 800, false);
        for _ in 0..30 {
            for i in (0..800).step_by(2) {
                c.send_cmd(&["GET", &format!("k:{i:05}")]);
            }
            for _ in (0..800).step_by(2) {
                c.read_reply();
            }
        }
        let f: i64 = cmd_text(&mut c, &["OBJECT", "FREQ", "k:00000"])
            .trim_start_matches(':')
            .trim()
            .parse()
            .unwrap();
        assert!(f > 5, "freq {f}");
        check(&mut c, &["OBJECT", "FREQ", "k:00001"], b":5\r\n");
        check(&mut c, &["OBJECT", "IDLETIME", "k:00001"], b"-ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n");
        limit(&mut c, per * 1000, "allkeys-lfu");
        fill(&mut c, "new:", 400, false);
        let hot_kept = (0..800)
            .step_by(2)
            .filter(|i| exists(&mut c, &format!("k:{i:05}")))
            .count();
        assert!(hot_kept >= 390, "threads={t}: hot kept {hot_kept}/400");
        assert!(info_field(&mut c, "stats", "evicted_keys") >= 150);
    }
}

/// The volatile policies evict only keys with a TTL; once none is left, writes get -OOM.
#[test]
fn volatile_policies_never_touch_keys_without_ttl() {
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        for t in THREADS {
            let s = TestServer::start(t);
            let mut c = s.raw();
            let per = per_key(&mut c);
            fill(&mut c, "p:", 300, false);
            fill(&mut c, "v:", 300, true);
            limit(&mut c, per * 640, policy);
            // Writes of keys without a TTL evict the volatile ones, then are refused.
            let mut oom = 0;
            for i in 0..600 {
                let r = c.cmd(&["SET", &format!("q:{i:05}"), VALUE]);
                if r.starts_with(b"-OOM") {
                    oom += 1;
                }
            }
            assert!(oom > 0, "{policy} threads={t}");
            for i in 0..300 {
                assert!(exists(&mut c, &format!("p:{i:05}")), "{policy} threads={t}");
            }
            let volatile_left = (0..300)
                .filter(|i| exists(&mut c, &format!("v:{i:05}")))
                .count();
            assert!(volatile_left < 300, "{policy} threads={t}");
        }
    }
}

/// volatile-ttl evicts the keys that expire soonest first.
#[test]
fn volatile_ttl_evicts_the_soonest_expiring_first() {
    for t in THREADS {
        let s = TestServer::start(t);
        let mut c = s.raw();
        let per = per_key(&mut c);
        for i in 0..400 {
            let ttl = if i % 2 == 0 { "1000" } else { "900000" };
            check(
                &mut c,
                &["SET", &format!("k:{i:05}"), VALUE, "EX", ttl],
                b"+OK\r\n",
            );
        }
        limit(&mut c, per * 500, "volatile-ttl");
        fill(&mut c, "n:", 200, false);
        let long_kept = (1..400)
            .step_by(2)
            .filter(|i| exists(&mut c, &format!("k:{i:05}")))
            .count();
        assert!(long_kept >= 195, "threads={t}: long kept {long_kept}/200");
    }
}

/// A storm of writes under allkeys-random keeps the keys within one key per shard of the
/// limit, evicting the rest, and every eviction is counted.
#[test]
fn a_write_storm_stays_within_the_limit() {
    for t in THREADS {
        let s = TestServer::start(t);
        let mut c = s.raw();
        let per = per_key(&mut c);
        let max = per * 500;
        limit(&mut c, max, "allkeys-random");
        fill(&mut c, "s:", 5000, false);
        // A shard's periodic run may still evict the key its last write put over its share:
        // read the count and the keys until they agree on one moment.
        let (dbsize, evicted) = loop {
            let before = info_field(&mut c, "stats", "evicted_keys");
            let dbsize: u64 = cmd_text(&mut c, &["DBSIZE"])
                .trim_start_matches(':')
                .trim()
                .parse()
                .unwrap();
            if info_field(&mut c, "stats", "evicted_keys") == before {
                break (dbsize, before);
            }
        };
        assert!(dbsize * per <= max + per * t as u64, "dbsize {dbsize}");
        assert!(dbsize * per >= max - per * 10 * t as u64, "dbsize {dbsize}");
        assert_eq!(evicted, 5000 - dbsize);
    }
}

/// An eviction is a deletion like any other: it fires the `evicted` keyspace event and
/// makes a WATCH on the key fail EXEC.
#[test]
fn an_eviction_fires_its_event_and_breaks_watch() {
    for t in THREADS {
        let s = TestServer::start(t);
        let mut c = s.raw();
        check(
            &mut c,
            &["CONFIG", "SET", "notify-keyspace-events", "Ee"],
            b"+OK\r\n",
        );
        let mut sub = s.raw();
        sub.cmd(&["SUBSCRIBE", "__keyevent@0__:evicted"]);
        check(&mut c, &["SET", "victim", VALUE, "EX", "10"], b"+OK\r\n");
        check(&mut c, &["WATCH", "victim"], b"+OK\r\n");
        // Far over the limit with one key that has a TTL: the shard's periodic run evicts it.
        limit(&mut c, 1, "volatile-ttl");
        let mut w = s.raw();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while exists(&mut w, "victim") {
            assert!(std::time::Instant::now() < deadline, "never evicted");
            std::thread::yield_now();
        }
        check(&mut c, &["MULTI"], b"+OK\r\n");
        check(&mut c, &["SET", "y", "1"], b"+QUEUED\r\n");
        let exec = c.cmd(&["EXEC"]);
        assert_eq!(show(&exec), "*-1\r\n");
        let msg = sub.read_reply();
        assert_eq!(
            show(&msg),
            "*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:evicted\r\n$6\r\nvictim\r\n"
        );
    }
}

/// The settings read back as Redis shows them, and bad values get Redis's errors.
#[test]
fn eviction_settings_read_back_and_are_checked() {
    for t in THREADS {
        let s = TestServer::start(t);
        let mut c = s.raw();
        limit(&mut c, 1 << 30, "volatile-lfu");
        check(
            &mut c,
            &["CONFIG", "GET", "maxmemory"],
            b"*2\r\n$9\r\nmaxmemory\r\n$10\r\n1073741824\r\n",
        );
        check(
            &mut c,
            &["CONFIG", "GET", "maxmemory-policy"],
            b"*2\r\n$16\r\nmaxmemory-policy\r\n$12\r\nvolatile-lfu\r\n",
        );
        check(&mut c, &["CONFIG", "SET", "maxmemory-samples", "0"], b"-ERR CONFIG SET failed (possibly related to argument 'maxmemory-samples') - argument must be between 1 and 2147483647 inclusive\r\n");
        check(&mut c, &["CONFIG", "SET", "maxmemory-eviction-tenacity", "101"], b"-ERR CONFIG SET failed (possibly related to argument 'maxmemory-eviction-tenacity') - argument must be between 0 and 100 inclusive\r\n");
        check(
            &mut c,
            &[
                "CONFIG",
                "SET",
                "lfu-log-factor",
                "1",
                "lfu-decay-time",
                "0",
            ],
            b"+OK\r\n",
        );
        // Under an LRU or LFU policy small integers are not shared objects, as in Redis.
        check(&mut c, &["SET", "n", "1"], b"+OK\r\n");
        check(&mut c, &["OBJECT", "REFCOUNT", "n"], b":1\r\n");
        let info = cmd_text(&mut c, &["INFO", "memory"]);
        assert!(info.contains("maxmemory:1073741824\r\n"), "{info}");
        assert!(info.contains("maxmemory_policy:volatile-lfu\r\n"), "{info}");
    }
}
