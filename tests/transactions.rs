//! MULTI, EXEC, DISCARD, WATCH and UNWATCH: replies byte for byte as redis-server 7.0.15 gives
//! them, on 1 and 4 threads with keys on several shards, and EXEC's atomicity under concurrent
//! clients.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rustis_tests::{check, check_all, reply_values, spread, TestServer};

#[test]
fn queued_commands_run_in_order_and_runtime_errors_do_not_abort() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut c = server.raw();
        let k = spread("q", 3, threads);
        let (s, t, l) = (&k[0][..], &k[1][..], &k[2][..]);
        check_all(
            &mut c,
            &[
                (&["SET", s, "x"], b"+OK\r\n"),
                (&["MULTI"], b"+OK\r\n"),
                (&["INCR", s], b"+QUEUED\r\n"),
                (&["LPUSH", s, "a"], b"+QUEUED\r\n"),
                (&["SET", t, "1"], b"+QUEUED\r\n"),
                (&["INCR", t], b"+QUEUED\r\n"),
                (&["MSET", s, "1", t, "2", l, "3"], b"+QUEUED\r\n"),
                (&["MGET", s, t, l], b"+QUEUED\r\n"),
                (&["RENAME", l, "{q0}moved"], b"+QUEUED\r\n"),
                (&["PING"], b"+QUEUED\r\n"),
                (
                    &["EXEC"],
                    b"*8\r\n-ERR value is not an integer or out of range\r\n\
-WRONGTYPE Operation against a key holding the wrong kind of value\r\n+OK\r\n:2\r\n+OK\r\n\
*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n+OK\r\n+PONG\r\n",
                ),
                (&["GET", "{q0}moved"], b"$1\r\n3\r\n"),
                (&["EXEC"], b"-ERR EXEC without MULTI\r\n"),
                (&["DISCARD"], b"-ERR DISCARD without MULTI\r\n"),
            ],
        );
    }
}

#[test]
fn errors_while_queueing_discard_the_transaction() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut c = server.raw();
        check_all(
            &mut c,
            &[
                (&["MULTI"], b"+OK\r\n"),
                (&["SET", "a", "1"], b"+QUEUED\r\n"),
                (
                    &["FOO", "bar"],
                    b"-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n",
                ),
                (
                    &["SET", "a"],
                    b"-ERR wrong number of arguments for 'set' command\r\n",
                ),
                (
                    &["EXEC"],
                    b"-EXECABORT Transaction discarded because of previous errors.\r\n",
                ),
                (&["EXISTS", "a"], b":0\r\n"),
                (&["MULTI"], b"+OK\r\n"),
                (&["MULTI"], b"-ERR MULTI calls can not be nested\r\n"),
                (
                    &["WATCH", "a"],
                    b"-ERR WATCH inside MULTI is not allowed\r\n",
                ),
                (&["SET", "a", "1"], b"+QUEUED\r\n"),
                (&["EXEC"], b"*1\r\n+OK\r\n"),
                (&["MULTI"], b"+OK\r\n"),
                (&["SET", "a", "2"], b"+QUEUED\r\n"),
                (&["DISCARD"], b"+OK\r\n"),
                (&["GET", "a"], b"$1\r\n1\r\n"),
                (&["MULTI"], b"+OK\r\n"),
                (
                    &["SHUTDOWN"],
                    b"-ERR Command not allowed inside a transaction\r\n",
                ),
                (
                    &["EXEC"],
                    b"-EXECABORT Transaction discarded because of previous errors.\r\n",
                ),
            ],
        );
    }
}

#[test]
fn blocking_commands_inside_multi_do_not_block() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut c = server.raw();
        let k = spread("b", 2, threads);
        check_all(
            &mut c,
            &[
                (&["MULTI"], b"+OK\r\n"),
                (&["BLPOP", &k[0], &k[1], "0"], b"+QUEUED\r\n"),
                (&["BZPOPMIN", &k[0], "0"], b"+QUEUED\r\n"),
                (&["EXEC"], b"*2\r\n*-1\r\n*-1\r\n"),
            ],
        );
        c.cmd(&["HELLO", "3"]);
        check_all(
            &mut c,
            &[
                (&["MULTI"], b"+OK\r\n"),
                (&["BLPOP", &k[0], "0"], b"+QUEUED\r\n"),
                (&["EXEC"], b"*1\r\n_\r\n"),
            ],
        );
    }
}

#[test]
fn watch_fails_exec_when_a_watched_key_changes() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut c = server.raw();
        let mut other = server.raw();
        let k = spread("w", 2, threads);
        let (a, b) = (&k[0][..], &k[1][..]);
        check(&mut c, &["SET", a, "1"], b"+OK\r\n");
        // Untouched: EXEC runs.
        check(&mut c, &["WATCH", a, b], b"+OK\r\n");
        check(&mut c, &["MULTI"], b"+OK\r\n");
        check(&mut c, &["GET", a], b"+QUEUED\r\n");
        check(&mut c, &["EXEC"], b"*1\r\n$1\r\n1\r\n");
        // Changed by another client, on another shard than the first watched key.
        check(&mut c, &["WATCH", a, b], b"+OK\r\n");
        check(&mut other, &["SET", b, "x"], b"+OK\r\n");
        check(&mut c, &["MULTI"], b"+OK\r\n");
        check(&mut c, &["SET", a, "2"], b"+QUEUED\r\n");
        check(&mut c, &["EXEC"], b"*-1\r\n");
        check(&mut c, &["GET", a], b"$1\r\n1\r\n");
        // Changed by the client itself.
        check(&mut c, &["WATCH", a], b"+OK\r\n");
        check(&mut c, &["SET", a, "5"], b"+OK\r\n");
        check(&mut c, &["MULTI"], b"+OK\r\n");
        check(&mut c, &["GET", a], b"+QUEUED\r\n");
        check(&mut c, &["EXEC"], b"*-1\r\n");
        // Flushed.
        check(&mut c, &["WATCH", a], b"+OK\r\n");
        check(&mut other, &["FLUSHALL"], b"+OK\r\n");
        check(&mut c, &["MULTI"], b"+OK\r\n");
        check(&mut c, &["PING"], b"+QUEUED\r\n");
        check(&mut c, &["EXEC"], b"*-1\r\n");
        // Deleted by expiry.
        check(&mut c, &["SET", a, "1", "PX", "1"], b"+OK\r\n");
        check(&mut c, &["WATCH", b], b"+OK\r\n");
        check(&mut other, &["SET", b, "1", "PX", "20"], b"+OK\r\n");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while other.cmd(&["PTTL", b]) != b":-2\r\n" {
            assert!(
                std::time::Instant::now() < deadline,
                "the key never expired"
            );
            std::thread::yield_now();
        }
        check(&mut c, &["MULTI"], b"+OK\r\n");
        check(&mut c, &["PING"], b"+QUEUED\r\n");
        check(&mut c, &["EXEC"], b"*-1\r\n");
        // UNWATCH and DISCARD forget the watches.
        check(&mut c, &["WATCH", a], b"+OK\r\n");
        check(&mut c, &["UNWATCH"], b"+OK\r\n");
        check(&mut other, &["SET", a, "6"], b"+OK\r\n");
        check(&mut c, &["MULTI"], b"+OK\r\n");
        check(&mut c, &["GET", a], b"+QUEUED\r\n");
        check(&mut c, &["EXEC"], b"*1\r\n$1\r\n6\r\n");
        check(&mut c, &["WATCH", a], b"+OK\r\n");
        check(&mut c, &["MULTI"], b"+OK\r\n");
        check(&mut c, &["DISCARD"], b"+OK\r\n");
        check(&mut other, &["SET", a, "7"], b"+OK\r\n");
        check(&mut c, &["MULTI"], b"+OK\r\n");
        check(&mut c, &["GET", a], b"+QUEUED\r\n");
        check(&mut c, &["EXEC"], b"*1\r\n$1\r\n7\r\n");
        // RESP3: the aborted EXEC is a null.
        c.cmd(&["HELLO", "3"]);
        check(&mut c, &["WATCH", a], b"+OK\r\n");
        check(&mut other, &["SET", a, "8"], b"+OK\r\n");
        check(&mut c, &["MULTI"], b"+OK\r\n");
        check(&mut c, &["GET", a], b"+QUEUED\r\n");
        check(&mut c, &["EXEC"], b"_\r\n");
    }
}

#[test]
fn select_inside_multi_applies_to_the_commands_after_it() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut c = server.raw();
        check_all(
            &mut c,
            &[
                (&["MULTI"], b"+OK\r\n"),
                (&["SET", "k", "db0"], b"+QUEUED\r\n"),
                (&["SELECT", "1"], b"+QUEUED\r\n"),
                (&["SET", "k", "db1"], b"+QUEUED\r\n"),
                (&["EXEC"], b"*3\r\n+OK\r\n+OK\r\n+OK\r\n"),
                (&["GET", "k"], b"$3\r\ndb1\r\n"),
                (&["SELECT", "0"], b"+OK\r\n"),
                (&["GET", "k"], b"$3\r\ndb0\r\n"),
            ],
        );
    }
}

/// A client blocked on a key that a transaction fills and empties again sees only the state
/// after the transaction, as in Redis.
#[test]
fn blocked_clients_are_served_after_the_transaction() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut waiter = server.raw();
        let mut c = server.raw();
        let k = spread("l", 2, threads);
        waiter.send_cmd(&["BLPOP", &k[0], "0"]);
        server.wait_blocked(1);
        check_all(
            &mut c,
            &[
                (&["MULTI"], b"+OK\r\n"),
                (&["RPUSH", &k[0], "first"], b"+QUEUED\r\n"),
                (&["DEL", &k[0]], b"+QUEUED\r\n"),
                (&["SET", &k[1], "x"], b"+QUEUED\r\n"),
                (&["RPUSH", &k[0], "second"], b"+QUEUED\r\n"),
                (&["EXEC"], b"*4\r\n:1\r\n:1\r\n+OK\r\n:1\r\n"),
            ],
        );
        let want = format!("*2\r\n${}\r\n{}\r\n$6\r\nsecond\r\n", k[0].len(), k[0]);
        assert_eq!(waiter.read_reply(), want.as_bytes());
    }
}

/// EXEC over keys on every shard, against concurrent readers that would see a half-applied
/// transaction: MGET (atomic itself) and a read-only MULTI.
#[test]
fn a_cross_shard_exec_is_atomic() {
    for threads in [2, 4] {
        let server = TestServer::start(threads);
        let k = spread("a", threads.min(4), threads);
        let mut init = server.raw();
        for key in &k {
            check(&mut init, &["SET", key, "0"], b"+OK\r\n");
        }
        let stop = Arc::new(AtomicBool::new(false));
        let mut readers = Vec::new();
        for r in 0..2 {
            let (stop, k) = (stop.clone(), k.clone());
            let mut c = server.raw();
            readers.push(std::thread::spawn(move || {
                let mut seen = 0;
                while !stop.load(Ordering::Relaxed) {
                    let mut args = vec!["MGET"];
                    args.extend(k.iter().map(String::as_str));
                    let reply = if r == 0 {
                        c.cmd(&args)
                    } else {
                        c.cmd(&["MULTI"]);
                        for key in &k {
                            c.cmd(&["GET", key]);
                        }
                        c.cmd(&["EXEC"])
                    };
                    let values = reply_values(&reply);
                    assert!(
                        values.windows(2).all(|p| p[0] == p[1]),
                        "saw a partial transaction: {values:?}"
                    );
                    seen += 1;
                }
                seen
            }));
        }
        let mut w = server.raw();
        for _ in 0..300 {
            w.cmd(&["MULTI"]);
            for key in &k {
                w.cmd(&["INCR", key]);
            }
            let reply = w.cmd(&["EXEC"]);
            assert!(reply.starts_with(format!("*{}\r\n", k.len()).as_bytes()));
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            assert!(r.join().unwrap() > 0);
        }
        for key in &k {
            check(&mut init, &["GET", key], b"$3\r\n300\r\n");
        }
    }
}

/// The WATCH retry loop that optimistic-locking clients run: concurrent increments through
/// WATCH/GET/MULTI/SET/EXEC never lose an update.
#[test]
fn watch_retry_loops_never_lose_an_update() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let per_client = 100;
        let clients: Vec<_> = (0..4)
            .map(|_| {
                let mut c = server.raw();
                std::thread::spawn(move || {
                    let mut retries = 0;
                    for _ in 0..per_client {
                        loop {
                            c.cmd(&["WATCH", "counter"]);
                            let v = c.cmd(&["GET", "counter"]);
                            let n: i64 = String::from_utf8_lossy(&v)
                                .split("\r\n")
                                .nth(1)
                                .and_then(|s| s.parse().ok())
                                .unwrap_or(0);
                            c.cmd(&["MULTI"]);
                            c.cmd(&["SET", "counter", &(n + 1).to_string()]);
                            if c.cmd(&["EXEC"]) == b"*1\r\n+OK\r\n" {
                                break;
                            }
                            retries += 1;
                        }
                    }
                    retries
                })
            })
            .collect();
        for c in clients {
            c.join().unwrap();
        }
        let mut c = server.raw();
        check(&mut c, &["GET", "counter"], b"$3\r\n400\r\n");
    }
}

#[test]
fn a_refused_exec_discards_the_transaction_and_says_why() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut c = server.raw();
        check_all(
            &mut c,
            &[
                (&["MULTI"], b"+OK\r\n"),
                (&["SET", "a", "1"], b"+QUEUED\r\n"),
                (
                    &["EXEC", "extra"],
                    b"-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n",
                ),
                (&["EXISTS", "a"], b":0\r\n"),
                (&["PING", "x"], b"$1\r\nx\r\n"),
            ],
        );
    }
}

/// A command that leaves a watched key as it was does not touch it: SMOVE of a member the
/// destination already has changes only the source.
#[test]
fn a_watch_holds_when_the_key_is_left_unchanged() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut c = server.raw();
        let mut other = server.raw();
        let k = spread("s", 2, threads);
        check(&mut c, &["SADD", &k[0], "a", "b"], b":2\r\n");
        check(&mut c, &["SADD", &k[1], "a"], b":1\r\n");
        check(&mut c, &["WATCH", &k[1]], b"+OK\r\n");
        check(&mut c, &["MULTI"], b"+OK\r\n");
        check(&mut c, &["SADD", &k[1], "c"], b"+QUEUED\r\n");
        check(&mut other, &["SMOVE", &k[0], &k[1], "a"], b":1\r\n");
        check(&mut c, &["EXEC"], b"*1\r\n:1\r\n");
        check(&mut c, &["SCARD", &k[1]], b":2\r\n");
        check(&mut c, &["SCARD", &k[0]], b":1\r\n");
    }
}

/// MONITOR shows MULTI, then each queued command as EXEC runs it, then EXEC, as Redis does;
/// a transaction that EXEC discards shows MULTI and EXEC only.
#[test]
fn monitor_shows_the_queued_commands_between_multi_and_exec() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut m = server.raw();
        check(&mut m, &["MONITOR"], b"+OK\r\n");
        let mut c = server.raw();
        let k = spread("mon", 2, threads);
        check(&mut c, &["MULTI"], b"+OK\r\n");
        check(&mut c, &["SET", &k[0], "bar"], b"+QUEUED\r\n");
        check(&mut c, &["SET", &k[1], "baz"], b"+QUEUED\r\n");
        check(&mut c, &["EXEC"], b"*2\r\n+OK\r\n+OK\r\n");
        check(&mut c, &["MULTI"], b"+OK\r\n");
        c.cmd(&["SYNTAX", "ERROR"]);
        c.cmd(&["EXEC"]);
        // Each line's arguments, after its time and client.
        let mut line = || {
            let l = String::from_utf8_lossy(&m.read_reply()).to_string();
            l[l.find("] ").expect("a monitor line") + 2..].to_string()
        };
        assert_eq!(line(), "\"MULTI\"\r\n");
        assert_eq!(line(), format!("\"SET\" \"{}\" \"bar\"\r\n", k[0]));
        assert_eq!(line(), format!("\"SET\" \"{}\" \"baz\"\r\n", k[1]));
        assert_eq!(line(), "\"EXEC\"\r\n");
        assert_eq!(line(), "\"MULTI\"\r\n");
        assert_eq!(line(), "\"EXEC\"\r\n");
    }
}

/// One step of a session: a command, or time passing (past every `PX 1` set before).
enum Step {
    Cmd(&'static [&'static str]),
    Pass,
}

/// WATCH of keys past their time with the active expiry off, as Redis's "stale keys" tests
/// do: a key that expires after WATCH breaks it, the removal of a key that was already past
/// its time (by a read, FLUSHDB, SWAPDB) does not, and a value that replaces it does.
fn stale_watch_session() -> Vec<Step> {
    use Step::{Cmd, Pass};
    let mut s = vec![Cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"])];
    let exec: [Step; 3] = [Cmd(&["MULTI"]), Cmd(&["PING"]), Cmd(&["EXEC"])];
    let mut case = |setup: Vec<Step>| {
        s.push(Cmd(&["FLUSHALL"]));
        s.push(Cmd(&["SELECT", "0"]));
        s.extend(setup);
        s.extend(exec.iter().map(|st| match st {
            Cmd(c) => Cmd(c),
            Pass => Pass,
        }));
    };
    // Expires after WATCH: broken.
    case(vec![
        Cmd(&["SET", "x", "1", "PX", "1"]),
        Cmd(&["WATCH", "x"]),
        Pass,
    ]);
    // Past its time at WATCH; untouched, read (removed), flushed: holds.
    case(vec![
        Cmd(&["SET", "x", "1", "PX", "1"]),
        Pass,
        Cmd(&["WATCH", "x"]),
    ]);
    case(vec![
        Cmd(&["SET", "x", "1", "PX", "1"]),
        Pass,
        Cmd(&["WATCH", "x"]),
        Cmd(&["EXISTS", "x"]),
    ]);
    case(vec![
        Cmd(&["SET", "x", "1", "PX", "1"]),
        Pass,
        Cmd(&["WATCH", "x"]),
        Cmd(&["FLUSHDB"]),
    ]);
    // Past its time at WATCH, then written, or removed and written: broken.
    case(vec![
        Cmd(&["SET", "x", "1", "PX", "1"]),
        Pass,
        Cmd(&["WATCH", "x"]),
        Cmd(&["SET", "x", "2"]),
    ]);
    case(vec![
        Cmd(&["SET", "x", "1", "PX", "1"]),
        Pass,
        Cmd(&["WATCH", "x"]),
        Cmd(&["EXISTS", "x"]),
        Cmd(&["SET", "x", "2"]),
    ]);
    // SWAPDB: a stale key replaced by none or by another stale key, no key replaced by a
    // stale one: holds; a live key swapped in: broken.
    case(vec![
        Cmd(&["SELECT", "1"]),
        Cmd(&["SET", "x", "1", "PX", "1"]),
        Pass,
        Cmd(&["WATCH", "x"]),
        Cmd(&["SWAPDB", "0", "1"]),
    ]);
    case(vec![
        Cmd(&["SET", "x", "1", "PX", "1"]),
        Pass,
        Cmd(&["SELECT", "1"]),
        Cmd(&["WATCH", "x"]),
        Cmd(&["SWAPDB", "0", "1"]),
    ]);
    case(vec![
        Cmd(&["SELECT", "1"]),
        Cmd(&["SET", "x", "1", "PX", "1"]),
        Cmd(&["SELECT", "0"]),
        Cmd(&["SET", "x", "2", "PX", "1"]),
        Pass,
        Cmd(&["SELECT", "1"]),
        Cmd(&["WATCH", "x"]),
        Cmd(&["SWAPDB", "0", "1"]),
    ]);
    case(vec![
        Cmd(&["SET", "x", "1"]),
        Cmd(&["SELECT", "1"]),
        Cmd(&["WATCH", "x"]),
        Cmd(&["SWAPDB", "0", "1"]),
    ]);
    // A fresh watch made stale by SWAPDB, then the key read away: holds.
    case(vec![
        Cmd(&["SET", "x", "1", "PX", "1"]),
        Pass,
        Cmd(&["SELECT", "1"]),
        Cmd(&["WATCH", "x"]),
        Cmd(&["SWAPDB", "0", "1"]),
        Cmd(&["EXISTS", "x"]),
    ]);
    s
}

#[test]
fn watch_of_keys_past_their_time_follows_redis() {
    let run = |c: &mut rustis_tests::RawConn, pass: &dyn Fn()| -> Vec<String> {
        stale_watch_session()
            .iter()
            .map(|st| match st {
                Step::Cmd(args) => rustis_tests::show(&c.cmd(args)),
                Step::Pass => {
                    pass();
                    String::new()
                }
            })
            .collect()
    };
    let reference = rustis_tests::Reference::start_with(None, &["--enable-debug-command", "yes"]);
    // redis-server runs on the wall clock: a few milliseconds pass.
    let want = run(&mut reference.conn(), &|| {
        std::thread::sleep(std::time::Duration::from_millis(3))
    });
    for threads in [1, 4] {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let clock = rustis_storage::ManualClock::new(now);
        let mut cfg = rustis_runtime::Config::default();
        cfg.set("enable-debug-command", "yes", true).unwrap();
        let server = TestServer::start_opts(threads, Some(clock.clone()), cfg);
        let got = run(&mut server.raw(), &|| clock.advance(10));
        assert_eq!(got, want, "{threads} threads");
    }
}

/// `min-replicas-to-write` is enforced: with no replica, writes get NOREPLICAS (also inside
/// MULTI, where the transaction then fails), an EXEC whose queue holds a write made before
/// the setting changed is discarded with the reason, and scripts that may write are refused
/// (a shebang script before it runs, an old-style one at its write).
#[test]
fn min_replicas_to_write_refuses_writes_with_no_replicas() {
    let session = |addr: std::net::SocketAddr| -> Vec<String> {
        let mut c = rustis_tests::RawConn::connect(addr);
        let mut other = rustis_tests::RawConn::connect(addr);
        let mut got = Vec::new();
        let mut run = |c: &mut rustis_tests::RawConn, args: &[&str]| {
            got.push(rustis_tests::show(&c.cmd(args)));
        };
        run(&mut c, &["SET", "xx", "1"]);
        run(&mut c, &["MULTI"]);
        run(&mut c, &["INCR", "xx"]);
        run(&mut other, &["CONFIG", "SET", "min-replicas-to-write", "2"]);
        run(&mut c, &["EXEC"]);
        run(&mut c, &["SET", "xx", "2"]);
        run(&mut c, &["GET", "xx"]);
        run(&mut c, &["PING"]);
        run(&mut c, &["MULTI"]);
        run(&mut c, &["GET", "xx"]);
        run(&mut c, &["EXEC"]);
        run(&mut c, &["MULTI"]);
        run(&mut c, &["SET", "xx", "3"]);
        run(&mut c, &["EXEC"]);
        run(
            &mut c,
            &[
                "EVAL",
                "#!lua flags=no-writes\nreturn redis.call('get','xx')",
                "1",
                "xx",
            ],
        );
        run(
            &mut c,
            &["EVAL", "return redis.call('get','xx')", "1", "xx"],
        );
        run(
            &mut c,
            &["EVAL", "#!lua\nreturn redis.call('get','xx')", "1", "xx"],
        );
        run(
            &mut c,
            &["EVAL", "return redis.call('set','xx','4')", "1", "xx"],
        );
        run(
            &mut c,
            &["EVAL", "return redis.pcall('set','xx','4')", "1", "xx"],
        );
        run(&mut c, &["CONFIG", "SET", "min-replicas-max-lag", "0"]);
        run(&mut c, &["SET", "xx", "5"]);
        run(&mut c, &["CONFIG", "SET", "min-replicas-max-lag", "10"]);
        // (A pattern lists them in Redis's hash order: each is asked for by name.)
        run(&mut c, &["CONFIG", "GET", "min-replicas-to-write"]);
        run(&mut c, &["CONFIG", "GET", "min-slaves-max-lag"]);
        run(&mut c, &["CONFIG", "SET", "min-slaves-to-write", "0"]);
        run(&mut c, &["SET", "xx", "6"]);
        run(&mut c, &["GET", "xx"]);
        got
    };
    let want = session(rustis_tests::Reference::start().addr());
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        assert_eq!(session(server.addr), want, "{threads} threads");
    }
}
