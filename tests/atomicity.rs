//! Multi-key commands are atomic across shards: no client ever observes half of an MSET.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rustis_tests::TestServer;

const KEYS: [&str; 8] = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"];

#[test]
fn concurrent_mset_and_mget_never_see_half_a_write() {
    let server = TestServer::start(4);
    let done = Arc::new(AtomicBool::new(false));
    {
        let mut c = server.client();
        let pairs: Vec<(&str, i64)> = KEYS.iter().map(|k| (*k, 0)).collect();
        redis::cmd("MSET").arg(&pairs).query::<()>(&mut c).unwrap();
    }
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let mut c = server.client();
            std::thread::spawn(move || {
                for i in 0..1500i64 {
                    let v = i * 2 + w;
                    let pairs: Vec<(&str, i64)> = KEYS.iter().map(|k| (*k, v)).collect();
                    redis::cmd("MSET").arg(&pairs).query::<()>(&mut c).unwrap();
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let mut c = server.client();
            let done = done.clone();
            std::thread::spawn(move || {
                let mut reads = 0u64;
                while !done.load(Ordering::Relaxed) || reads < 100 {
                    let vals: Vec<i64> = redis::cmd("MGET").arg(&KEYS[..]).query(&mut c).unwrap();
                    assert!(vals.iter().all(|v| *v == vals[0]), "torn read: {vals:?}");
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().unwrap() >= 100);
    }
    // Every key holds the last value one of the writers wrote, all the same.
    let mut c = server.client();
    let vals: Vec<i64> = redis::cmd("MGET").arg(&KEYS[..]).query(&mut c).unwrap();
    assert!(
        vals.iter().all(|v| *v == vals[0]) && (vals[0] == 2998 || vals[0] == 2999),
        "{vals:?}"
    );
}

#[test]
fn a_key_read_alone_after_an_mset_reply_sees_the_write() {
    // Once MSET has replied, every shard has applied its part: reads of single keys from
    // another connection (possibly served by another thread) see every new value.
    let server = TestServer::start(4);
    let mut w = server.client();
    let mut r = server.client();
    for i in 0..300i64 {
        let pairs: Vec<(&str, i64)> = KEYS.iter().map(|k| (*k, i)).collect();
        redis::cmd("MSET").arg(&pairs).query::<()>(&mut w).unwrap();
        for k in KEYS {
            let v: i64 = redis::cmd("GET").arg(k).query(&mut r).unwrap();
            assert_eq!(v, i, "{k}");
        }
    }
}

#[test]
fn concurrent_deletes_count_each_key_once() {
    let server = TestServer::start(4);
    for round in 0..50 {
        let mut c = server.client();
        let pairs: Vec<(&str, i64)> = KEYS.iter().map(|k| (*k, round)).collect();
        redis::cmd("MSET").arg(&pairs).query::<()>(&mut c).unwrap();
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let mut c = server.client();
                std::thread::spawn(move || {
                    redis::cmd("DEL")
                        .arg(&KEYS[..])
                        .query::<i64>(&mut c)
                        .unwrap()
                })
            })
            .collect();
        let total: i64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(total, KEYS.len() as i64, "round {round}");
    }
}
