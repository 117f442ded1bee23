//! All-shard commands (FLUSHDB, FLUSHALL, SWAPDB, KEYS, SCAN, DBSIZE) are atomic with respect
//! to multi-key commands whose keys sit on different threads: a concurrent reader never sees
//! one shard before such a command and another after it.
//!
//! Each test runs a writer loop, an all-shard loop and a reader loop on three connections,
//! and fails on the first read that sees a partial state. They are bounded by the reader's
//! count of reads, never by time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use rustis_storage::slot::shard_of;
use rustis_tests::TestServer;

/// A loop body run on its own connection: the connection and the iteration number.
type Loop = Box<dyn FnMut(&mut redis::Connection, u64) + Send>;

/// Reads each checker makes; the race showed within a few hundred reads before it was fixed.
const READS: usize = 3000;

/// Two key names, derived from `base`, that live on different shards with `threads` threads.
fn split_pair(base: &str, threads: usize) -> (String, String) {
    let a = format!("{base}:a");
    for i in 0.. {
        let b = format!("{base}:b{i}");
        if shard_of(a.as_bytes(), threads) != shard_of(b.as_bytes(), threads) {
            return (a, b);
        }
    }
    unreachable!()
}

/// Runs `loops` (each repeated until the checker is done) beside `check`, which is called
/// [`READS`] times and panics on a partial state.
fn race(
    server: &TestServer,
    loops: Vec<Loop>,
    mut check: impl FnMut(&mut redis::Connection) + Send + 'static,
) {
    let done = Arc::new(AtomicBool::new(false));
    let workers: Vec<JoinHandle<()>> = loops
        .into_iter()
        .map(|mut f| {
            let mut c = server.client();
            let done = done.clone();
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !done.load(Ordering::Relaxed) {
                    f(&mut c, i);
                    i += 1;
                }
            })
        })
        .collect();
    let mut c = server.client();
    let checker = std::thread::spawn(move || {
        for _ in 0..READS {
            check(&mut c);
        }
    });
    let result = checker.join();
    done.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

fn mset_loop(a: String, b: String) -> Loop {
    Box::new(move |c, i| {
        redis::cmd("MSET")
            .arg(&a)
            .arg(i)
            .arg(&b)
            .arg(i)
            .query::<()>(c)
            .unwrap()
    })
}

fn cmd_loop(cmd: &'static [&'static str]) -> Loop {
    Box::new(move |c, _| {
        let mut r = redis::cmd(cmd[0]);
        for a in &cmd[1..] {
            r.arg(*a);
        }
        r.query::<redis::Value>(c).unwrap();
    })
}

fn mget_sees_whole_msets(threads: usize, other: &'static [&'static str]) {
    let server = TestServer::start(threads);
    let (a, b) = split_pair("m", threads);
    let (ra, rb) = (a.clone(), b.clone());
    race(&server, vec![mset_loop(a, b), cmd_loop(other)], move |c| {
        let v: Vec<Option<u64>> = redis::cmd("MGET").arg(&ra).arg(&rb).query(c).unwrap();
        assert_eq!(v[0], v[1], "MGET saw half of an MSET beside {other:?}");
    });
}

#[test]
fn flushdb_is_atomic_against_cross_shard_mset() {
    for threads in [2, 4] {
        mget_sees_whole_msets(threads, &["FLUSHDB"]);
    }
}

#[test]
fn flushall_is_atomic_against_cross_shard_mset() {
    for threads in [2, 4] {
        mget_sees_whole_msets(threads, &["FLUSHALL"]);
    }
}

#[test]
fn swapdb_is_atomic_against_cross_shard_mset() {
    // Database 1 holds its own whole pairs (written before the race); each SWAPDB exchanges
    // them with database 0's. A swap applied on one shard only would pair a key of one
    // database with a key of the other.
    for threads in [2, 4] {
        let server = TestServer::start(threads);
        let (a, b) = split_pair("s", threads);
        let mut c = server.client();
        redis::cmd("SELECT").arg(1).query::<()>(&mut c).unwrap();
        redis::cmd("MSET")
            .arg(&a)
            .arg(1_000_000)
            .arg(&b)
            .arg(1_000_000)
            .query::<()>(&mut c)
            .unwrap();
        let (ra, rb) = (a.clone(), b.clone());
        race(
            &server,
            vec![mset_loop(a, b), cmd_loop(&["SWAPDB", "0", "1"])],
            move |c| {
                let v: Vec<Option<u64>> = redis::cmd("MGET").arg(&ra).arg(&rb).query(c).unwrap();
                assert_eq!(v[0], v[1], "MGET saw half of a SWAPDB");
            },
        );
    }
}

/// The keys a listing command returns, as a sorted list.
fn listing(c: &mut redis::Connection, scan: bool) -> Vec<String> {
    let mut keys: Vec<String> = if scan {
        // One SCAN call over a keyspace this small walks every shard.
        let (cursor, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(0)
            .arg("COUNT")
            .arg(1000)
            .query(c)
            .unwrap();
        assert_eq!(cursor, 0, "one call covers this keyspace");
        keys
    } else {
        redis::cmd("KEYS").arg("*").query(c).unwrap()
    };
    keys.sort();
    keys
}

/// `KEYS *` and `SCAN` see exactly one of two keys that a cross-shard command keeps moving a
/// value between (RENAME, SMOVE), and both or neither of an MSET's pair under FLUSHDB.
fn listings_see_whole_moves(threads: usize, scan: bool) {
    // RENAME back and forth: exactly one of the two names exists at any time.
    let server = TestServer::start(threads);
    let (a, b) = split_pair("r", threads);
    let mut c = server.client();
    redis::cmd("SET")
        .arg(&a)
        .arg("v")
        .query::<()>(&mut c)
        .unwrap();
    let (fa, fb) = (a.clone(), b.clone());
    let (ra, rb) = (a.clone(), b.clone());
    race(
        &server,
        vec![Box::new(move |c, i| {
            let (from, to) = if i % 2 == 0 { (&fa, &fb) } else { (&fb, &fa) };
            redis::cmd("RENAME")
                .arg(from)
                .arg(to)
                .query::<()>(c)
                .unwrap();
        })],
        move |c| {
            let keys = listing(c, scan);
            assert!(
                keys == [ra.clone()] || keys == [rb.clone()],
                "saw {keys:?} during RENAME (scan: {scan})"
            );
        },
    );

    // SMOVE of a set's only member: the source disappears as the destination appears.
    let server = TestServer::start(threads);
    let (a, b) = split_pair("set", threads);
    let mut c = server.client();
    redis::cmd("SADD")
        .arg(&a)
        .arg("m")
        .query::<()>(&mut c)
        .unwrap();
    let (fa, fb) = (a.clone(), b.clone());
    let (ra, rb) = (a.clone(), b.clone());
    race(
        &server,
        vec![Box::new(move |c, i| {
            let (from, to) = if i % 2 == 0 { (&fa, &fb) } else { (&fb, &fa) };
            let moved: i64 = redis::cmd("SMOVE")
                .arg(from)
                .arg(to)
                .arg("m")
                .query(c)
                .unwrap();
            assert_eq!(moved, 1);
        })],
        move |c| {
            let keys = listing(c, scan);
            assert!(
                keys == [ra.clone()] || keys == [rb.clone()],
                "saw {keys:?} during SMOVE (scan: {scan})"
            );
        },
    );

    // MSET of a pair against FLUSHDB: both keys or neither.
    let server = TestServer::start(threads);
    let (a, b) = split_pair("p", threads);
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    race(
        &server,
        vec![mset_loop(a, b), cmd_loop(&["FLUSHDB"])],
        move |c| {
            let keys = listing(c, scan);
            assert!(
                keys.is_empty() || keys == both,
                "saw {keys:?} during MSET/FLUSHDB (scan: {scan})"
            );
        },
    );
}

#[test]
fn keys_sees_cross_shard_rename_smove_and_mset_whole() {
    for threads in [2, 4] {
        listings_see_whole_moves(threads, false);
    }
}

#[test]
fn scan_sees_cross_shard_rename_smove_and_mset_whole() {
    for threads in [2, 4] {
        listings_see_whole_moves(threads, true);
    }
}

#[test]
fn dbsize_counts_whole_msets() {
    for threads in [2, 4] {
        let server = TestServer::start(threads);
        let (a, b) = split_pair("d", threads);
        race(
            &server,
            vec![mset_loop(a, b), cmd_loop(&["FLUSHDB"])],
            |c| {
                let n: i64 = redis::cmd("DBSIZE").query(c).unwrap();
                assert!(n == 0 || n == 2, "DBSIZE saw {n} keys of a two-key MSET");
            },
        );
    }
}
