//! Blocking list commands over TCP with several clients: wake-ups, FIFO order across threads,
//! timeouts, disconnects, CLIENT UNBLOCK and wake-ups by LMOVE from another shard. Every case
//! runs on one thread and on four (where the clients and keys spread over the threads); the
//! expected replies are redis-server 7.0.15's.

use std::time::{Duration, Instant};

use rustis_tests::{check, each, encode, RawConn, TestServer, THREADS};

fn reply(c: &mut RawConn, want: &[u8]) {
    let got = c.read_reply();
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want));
}

fn arr2(a: &str, b: &str) -> Vec<u8> {
    format!("*2\r\n${}\r\n{a}\r\n${}\r\n{b}\r\n", a.len(), b.len()).into_bytes()
}

#[test]
fn a_push_wakes_the_blocked_client() {
    each(|s| {
        let mut a = s.raw();
        let mut b = s.raw();
        a.send_cmd(&["BLPOP", "k", "0"]);
        s.wait_blocked(1);
        let list = String::from_utf8_lossy(&b.cmd(&["CLIENT", "LIST"])).to_string();
        assert!(
            list.lines()
                .any(|l| l.contains(" flags=b ") && l.contains(" cmd=blpop ")),
            "{list}"
        );
        check(&mut b, &["RPUSH", "k", "x"], b":1\r\n");
        reply(&mut a, &arr2("k", "x"));
        s.wait_blocked(0);
        check(&mut b, &["EXISTS", "k"], b":0\r\n");
        // BRPOP takes from the tail.
        a.send_cmd(&["BRPOP", "k", "0"]);
        s.wait_blocked(1);
        check(&mut b, &["LPUSH", "k", "1", "2"], b":2\r\n");
        reply(&mut a, &arr2("k", "1"));
        check(&mut b, &["LRANGE", "k", "0", "-1"], b"*1\r\n$1\r\n2\r\n");
    });
}

#[test]
fn clients_blocked_on_a_key_are_served_in_order() {
    each(|s| {
        let mut clients: Vec<RawConn> = (0..4).map(|_| s.raw()).collect();
        for (i, c) in clients.iter_mut().enumerate() {
            c.send_cmd(&["BLPOP", "q", "0"]);
            s.wait_blocked(i + 1);
        }
        let mut p = s.raw();
        // One push of several elements serves the waiters after it completes, oldest first.
        check(&mut p, &["RPUSH", "q", "e0", "e1", "e2"], b":3\r\n");
        for (i, c) in clients.iter_mut().take(3).enumerate() {
            reply(c, &arr2("q", &format!("e{i}")));
        }
        s.wait_blocked(1);
        check(&mut p, &["RPUSH", "q", "e3"], b":1\r\n");
        reply(&mut clients[3], &arr2("q", "e3"));
        check(&mut p, &["EXISTS", "q"], b":0\r\n");
    });
}

#[test]
fn a_client_blocked_on_several_keys_takes_the_first_that_fills() {
    each(|s| {
        let mut a = s.raw();
        let mut b = s.raw();
        // With data, the first non-empty key in argument order wins.
        check(&mut b, &["RPUSH", "c", "c1"], b":1\r\n");
        check(&mut b, &["RPUSH", "d", "d1"], b":1\r\n");
        check(&mut a, &["BLPOP", "a", "d", "c", "0"], &arr2("d", "d1"));
        // Without, the first key that receives data.
        check(&mut b, &["DEL", "c"], b":1\r\n");
        a.send_cmd(&["BLPOP", "a", "b", "c", "0"]);
        s.wait_blocked(1);
        check(&mut b, &["RPUSH", "c", "x"], b":1\r\n");
        reply(&mut a, &arr2("c", "x"));
        s.wait_blocked(0);
        // The other keys no longer hold the client: a later push stays in its list.
        check(&mut b, &["RPUSH", "a", "y"], b":1\r\n");
        check(&mut b, &["LLEN", "a"], b":1\r\n");
    });
}

#[test]
fn timeouts_have_sub_second_precision() {
    each(|s| {
        let mut a = s.raw();
        let t = Instant::now();
        check(&mut a, &["BLPOP", "k", "0.2"], b"*-1\r\n");
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(190), "{took:?}");
        assert!(took < Duration::from_millis(1500), "{took:?}");
        check(
            &mut a,
            &["BLMOVE", "k", "j", "LEFT", "LEFT", "0.05"],
            b"*-1\r\n",
        );
        check(&mut a, &["BRPOPLPUSH", "k", "j", "0.05"], b"*-1\r\n");
        check(
            &mut a,
            &["BLMPOP", "0.05", "2", "k", "j", "LEFT"],
            b"*-1\r\n",
        );
        assert!(a.cmd(&["HELLO", "3"]).starts_with(b"%"));
        check(&mut a, &["BLPOP", "k", "0.05"], b"_\r\n");
        check(
            &mut a,
            &["BLMOVE", "k", "j", "LEFT", "LEFT", "0.05"],
            b"_\r\n",
        );
        s.wait_blocked(0);
    });
}

#[test]
fn a_tiny_timeout_blocks_forever_and_client_unblock_ends_it() {
    each(|s| {
        let mut a = s.raw();
        let mut b = s.raw();
        let id = String::from_utf8_lossy(&a.cmd(&["CLIENT", "ID"]))
            .trim_start_matches(':')
            .trim()
            .to_string();
        // Redis rounds a timeout up to whole milliseconds (ceill): 0.0001 s waits 1 ms, while
        // -0.0001 s rounds to 0 ms, which blocks forever.
        check(&mut a, &["BLPOP", "k", "0.0001"], b"*-1\r\n");
        a.send_cmd(&["BLPOP", "k", "-0.0001"]);
        s.wait_blocked(1);
        std::thread::sleep(Duration::from_millis(100));
        s.wait_blocked(1);
        check(&mut b, &["CLIENT", "UNBLOCK", &id], b":1\r\n");
        reply(&mut a, b"*-1\r\n");
        check(&mut b, &["CLIENT", "UNBLOCK", &id], b":0\r\n");
        a.send_cmd(&["BLMOVE", "k", "j", "LEFT", "LEFT", "0"]);
        s.wait_blocked(1);
        check(&mut b, &["CLIENT", "UNBLOCK", &id, "ERROR"], b":1\r\n");
        reply(
            &mut a,
            b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n",
        );
        a.send_cmd(&["BLMPOP", "0", "1", "k", "LEFT"]);
        s.wait_blocked(1);
        check(&mut b, &["CLIENT", "UNBLOCK", &id, "TIMEOUT"], b":1\r\n");
        reply(&mut a, b"*-1\r\n");
        check(
            &mut b,
            &["CLIENT", "UNBLOCK", &id, "FOO"],
            b"-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n",
        );
        check(
            &mut b,
            &["CLIENT", "UNBLOCK", "x"],
            b"-ERR value is not an integer or out of range\r\n",
        );
        check(&mut b, &["CLIENT", "UNBLOCK", "999999"], b":0\r\n");
        // The unblocked client goes on as usual.
        check(&mut a, &["PING"], b"+PONG\r\n");
    });
}

#[test]
fn a_client_that_disconnects_is_no_longer_waiting() {
    each(|s| {
        let mut a = s.raw();
        a.send_cmd(&["BLPOP", "k", "0"]);
        let mut b = s.raw();
        b.send_cmd(&["BLPOP", "k", "0"]);
        s.wait_blocked(2);
        drop(a);
        s.wait_blocked(1);
        let mut p = s.raw();
        check(&mut p, &["RPUSH", "k", "x", "y"], b":2\r\n");
        reply(&mut b, &arr2("k", "x"));
        check(&mut p, &["LRANGE", "k", "0", "-1"], b"*1\r\n$1\r\ny\r\n");
        s.wait_blocked(0);
    });
}

#[test]
fn lmove_from_another_shard_serves_the_waiter() {
    each(|s| {
        let mut a = s.raw();
        let mut b = s.raw();
        // "source" and "target" live on different shards with four threads.
        a.send_cmd(&["BLPOP", "target", "0"]);
        s.wait_blocked(1);
        check(&mut b, &["RPUSH", "source", "x"], b":1\r\n");
        check(
            &mut b,
            &["LMOVE", "source", "target", "LEFT", "RIGHT"],
            b"$1\r\nx\r\n",
        );
        reply(&mut a, &arr2("target", "x"));
        check(&mut b, &["EXISTS", "source", "target"], b":0\r\n");
        // RPOPLPUSH too.
        a.send_cmd(&["BRPOP", "target", "0"]);
        s.wait_blocked(1);
        check(&mut b, &["RPUSH", "source", "y"], b":1\r\n");
        check(&mut b, &["RPOPLPUSH", "source", "target"], b"$1\r\ny\r\n");
        reply(&mut a, &arr2("target", "y"));
    });
}

#[test]
fn blmove_serves_and_pushes_across_shards() {
    each(|s| {
        let mut a = s.raw();
        let mut b = s.raw();
        a.send_cmd(&["BLMOVE", "source", "target", "LEFT", "RIGHT", "0"]);
        s.wait_blocked(1);
        check(&mut b, &["RPUSH", "source", "x", "y"], b":2\r\n");
        reply(&mut a, b"$1\r\nx\r\n");
        check(
            &mut b,
            &["LRANGE", "target", "0", "-1"],
            b"*1\r\n$1\r\nx\r\n",
        );
        check(
            &mut b,
            &["LRANGE", "source", "0", "-1"],
            b"*1\r\n$1\r\ny\r\n",
        );
        // A chain: BLMOVE into a key another client waits on serves that client too.
        check(&mut b, &["DEL", "source", "target"], b":2\r\n");
        let mut c = s.raw();
        a.send_cmd(&["BRPOPLPUSH", "source", "target", "0"]);
        s.wait_blocked(1);
        c.send_cmd(&["BLPOP", "target", "0"]);
        s.wait_blocked(2);
        check(&mut b, &["RPUSH", "source", "z"], b":1\r\n");
        reply(&mut a, b"$1\r\nz\r\n");
        reply(&mut c, &arr2("target", "z"));
        check(&mut b, &["EXISTS", "source", "target"], b":0\r\n");
    });
}

#[test]
fn blmove_to_a_destination_of_the_wrong_type_fails_and_keeps_the_element() {
    each(|s| {
        let mut a = s.raw();
        let mut b = s.raw();
        // Across shards (with four threads), then on one shard (a shared hash tag).
        for (src, dst) in [("source", "target"), ("{t}source", "{t}target")] {
            a.send_cmd(&["BLMOVE", src, dst, "LEFT", "RIGHT", "0"]);
            s.wait_blocked(1);
            check(&mut b, &["SET", dst, "str"], b"+OK\r\n");
            check(&mut b, &["RPUSH", src, "x", "y"], b":2\r\n");
            reply(
                &mut a,
                b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            );
            check(
                &mut b,
                &["LRANGE", src, "0", "-1"],
                b"*2\r\n$1\r\nx\r\n$1\r\ny\r\n",
            );
            s.wait_blocked(0);
        }
    });
}

#[test]
fn a_key_of_another_type_keeps_the_client_waiting() {
    each(|s| {
        let mut a = s.raw();
        let mut b = s.raw();
        a.send_cmd(&["BLPOP", "k", "0"]);
        s.wait_blocked(1);
        check(&mut b, &["SET", "k", "str"], b"+OK\r\n");
        check(&mut b, &["SADD", "k2", "m"], b":1\r\n");
        s.wait_blocked(1);
        check(&mut b, &["DEL", "k"], b":1\r\n");
        check(&mut b, &["RPUSH", "k", "x"], b":1\r\n");
        reply(&mut a, &arr2("k", "x"));
    });
}

#[test]
fn a_waiter_is_served_between_pipelined_commands() {
    each(|s| {
        let mut a = s.raw();
        let mut b = s.raw();
        a.send_cmd(&["BLPOP", "k", "0"]);
        s.wait_blocked(1);
        // As in Redis, the waiter is served right after the push, before the LPOP.
        let mut batch = encode(&[b"RPUSH", b"k", b"y"]);
        batch.extend(encode(&[b"LPOP", b"k"]));
        b.send(&batch);
        reply(&mut b, b":1\r\n");
        reply(&mut b, b"$-1\r\n");
        reply(&mut a, &arr2("k", "y"));
    });
}

#[test]
fn blmpop_serves_a_count_from_the_key_that_fills() {
    each(|s| {
        let mut a = s.raw();
        let mut b = s.raw();
        a.send_cmd(&["BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "2"]);
        s.wait_blocked(1);
        check(&mut b, &["RPUSH", "b", "1", "2", "3"], b":3\r\n");
        reply(&mut a, b"*2\r\n$1\r\nb\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n");
        check(&mut b, &["LRANGE", "b", "0", "-1"], b"*1\r\n$1\r\n1\r\n");
    });
}

#[test]
fn commands_after_a_blocking_one_wait_for_it() {
    each(|s| {
        let mut a = s.raw();
        let mut b = s.raw();
        let mut batch = encode(&[b"BLPOP", b"k", b"0"]);
        batch.extend(encode(&[b"PING"]));
        a.send(&batch);
        s.wait_blocked(1);
        check(&mut b, &["RPUSH", "k", "x"], b":1\r\n");
        reply(&mut a, &arr2("k", "x"));
        reply(&mut a, b"+PONG\r\n");
    });
}

#[test]
fn many_clients_on_many_keys_lose_nothing() {
    each(|s| {
        const N: usize = 16;
        let keys: Vec<String> = (0..4).map(|i| format!("q{i}")).collect();
        let handles: Vec<_> = (0..N)
            .map(|i| {
                let mut c = s.raw();
                let keys = keys.clone();
                std::thread::spawn(move || {
                    // Each client also waits on a key nobody pushes to, on another shard with
                    // four threads, so it is registered on two shards.
                    let never = format!("never{}", i % 3);
                    let args = ["BLPOP", &never, &keys[i % 4], "0"];
                    let r = c.cmd(&args);
                    String::from_utf8_lossy(&r).to_string()
                })
            })
            .collect();
        s.wait_blocked(N);
        let mut p = s.raw();
        for i in 0..N {
            let k = format!("q{}", i % 4);
            let v = format!("v{i}");
            p.cmd(&["RPUSH", &k, &v]);
        }
        let mut got: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        got.sort();
        got.dedup();
        assert_eq!(got.len(), N, "every element went to exactly one client");
        s.wait_blocked(0);
        for k in &keys {
            check(&mut p, &["LLEN", k], b":0\r\n");
        }
    });
}

#[test]
fn the_server_stops_with_clients_still_blocked() {
    for t in THREADS {
        let mut s = TestServer::start(t);
        let mut a = s.raw();
        a.send_cmd(&["BLPOP", "k", "0"]);
        let mut b = s.raw();
        b.send_cmd(&["BLMOVE", "k", "j", "LEFT", "LEFT", "0"]);
        s.wait_blocked(2);
        s.stop();
        assert_eq!(a.read_to_close(), b"");
    }
}

#[test]
fn client_kill_ends_a_blocked_client() {
    each(|s| {
        let mut a = s.raw();
        let id = String::from_utf8_lossy(&a.cmd(&["CLIENT", "ID"]))
            .trim_start_matches(':')
            .trim()
            .to_string();
        a.send_cmd(&["BLPOP", "k", "0"]);
        s.wait_blocked(1);
        let mut b = s.raw();
        check(&mut b, &["CLIENT", "KILL", "ID", &id], b":1\r\n");
        assert_eq!(a.read_to_close(), b"");
        s.wait_blocked(0);
        check(&mut b, &["RPUSH", "k", "x"], b":1\r\n");
        check(&mut b, &["LLEN", "k"], b":1\r\n");
    });
}

#[test]
fn concurrent_pushes_to_two_shards_serve_each_client_once() {
    each(|s| {
        const N: usize = 20;
        // "source" and "target" live on different shards with four threads: every client is
        // registered on both, and the two shards race to claim it.
        let waiters: Vec<_> = (0..N)
            .map(|_| {
                let mut c = s.raw();
                std::thread::spawn(move || {
                    String::from_utf8_lossy(&c.cmd(&["BLPOP", "source", "target", "0"])).to_string()
                })
            })
            .collect();
        s.wait_blocked(N);
        let pushers: Vec<_> = ["source", "target"]
            .into_iter()
            .map(|k| {
                let mut c = s.raw();
                std::thread::spawn(move || {
                    for i in 0..N / 2 {
                        c.cmd(&["RPUSH", k, &format!("{k}{i}")]);
                    }
                })
            })
            .collect();
        for p in pushers {
            p.join().unwrap();
        }
        let mut got: Vec<String> = waiters.into_iter().map(|h| h.join().unwrap()).collect();
        got.sort();
        got.dedup();
        assert_eq!(got.len(), N, "each element went to exactly one client");
        s.wait_blocked(0);
        let mut c = s.raw();
        check(&mut c, &["EXISTS", "source", "target"], b":0\r\n");
    });
}

#[test]
fn timeouts_racing_with_pushes_lose_no_element() {
    each(|s| {
        const N: usize = 30;
        let waiters: Vec<_> = (0..N)
            .map(|i| {
                let mut c = s.raw();
                std::thread::spawn(move || {
                    // Timeouts from 10 to 68 ms, racing with the pushes below.
                    let t = format!("0.{:03}", 10 + 2 * i);
                    c.cmd(&["BLPOP", "k", "other", &t])
                })
            })
            .collect();
        let mut p = s.raw();
        for i in 0..N {
            p.cmd(&["RPUSH", "k", &format!("v{i}")]);
            std::thread::sleep(Duration::from_millis(2));
        }
        let mut delivered = Vec::new();
        for h in waiters {
            let r = h.join().unwrap();
            if r != b"*-1\r\n" {
                delivered.push(String::from_utf8_lossy(&r).to_string());
            }
        }
        s.wait_blocked(0);
        let left = String::from_utf8_lossy(&p.cmd(&["LLEN", "k"])).to_string();
        let left: usize = left.trim_start_matches(':').trim().parse().unwrap();
        let n = delivered.len();
        delivered.sort();
        delivered.dedup();
        assert_eq!(delivered.len(), n, "no element delivered twice");
        assert_eq!(n + left, N, "every element delivered or still in the list");
    });
}
