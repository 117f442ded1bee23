//! Pushes: frames a connection did not ask for (pub/sub messages, tracking invalidations),
//! sent to it by client id from another thread through `ServerHandle::push`. They must reach an
//! idle connection at once, go out between replies (never inside one, never before a reply
//! that was produced earlier), reach a client blocked in a command, and follow a connection
//! that moves to another thread. Every case runs on one thread and on four.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rustis_tests::{check, each, encode, show, RawConn, TestServer};

/// A RESP3 push frame carrying `text`.
fn frame(text: &str) -> Vec<u8> {
    format!(">2\r\n$4\r\ntest\r\n${}\r\n{text}\r\n", text.len()).into_bytes()
}

fn client_id(c: &mut RawConn) -> u64 {
    let r = c.cmd(&["CLIENT", "ID"]);
    String::from_utf8_lossy(&r[1..r.len() - 2])
        .parse()
        .expect("id")
}

fn push(s: &TestServer, id: u64, text: &str) -> bool {
    s.handle().push(id, frame(text))
}

#[test]
fn a_push_reaches_an_idle_connection_at_once() {
    each(|s| {
        let mut c = s.raw();
        let id = client_id(&mut c);
        assert!(push(s, id, "hello"));
        assert_eq!(c.read_reply(), frame("hello"));
        // Several pushes keep their order, and the connection serves commands after them.
        assert!(push(s, id, "one"));
        assert!(push(s, id, "two"));
        assert_eq!(c.read_reply(), frame("one"));
        assert_eq!(c.read_reply(), frame("two"));
        check(&mut c, &["PING"], b"+PONG\r\n");
        // Nobody has that id.
        assert!(!push(s, id + 1000, "nobody"));
        // A closed connection's id finds nobody either, once the server has seen it close.
        let mut gone = s.raw();
        let gone_id = client_id(&mut gone);
        drop(gone);
        let deadline = Instant::now() + Duration::from_secs(10);
        while push(s, gone_id, "late") {
            assert!(
                Instant::now() < deadline,
                "the closed client stays reachable"
            );
            std::thread::yield_now();
        }
    });
}

#[test]
fn pushes_go_between_a_pipelines_replies_in_order() {
    each(|s| {
        let mut c = s.raw();
        let id = client_id(&mut c);
        const N: usize = 3000;
        const PUSHES: usize = 200;
        let mut pipeline = Vec::new();
        for i in 0..N {
            let (k, v) = (format!("k{i}"), format!("v{i}"));
            pipeline.extend(encode(&[b"SET", k.as_bytes(), v.as_bytes()]));
            pipeline.extend(encode(&[b"GET", k.as_bytes()]));
        }
        std::thread::scope(|scope| {
            // Pushes race with the pipeline from another thread.
            let pusher = scope.spawn(|| {
                for j in 0..PUSHES {
                    assert!(push(s, id, &format!("p{j}")));
                }
            });
            c.send(&pipeline);
            let (mut replies, mut pushes) = (0, 0);
            while replies < 2 * N || pushes < PUSHES {
                let r = c.read_reply();
                if r.starts_with(b">") {
                    assert_eq!(
                        r,
                        frame(&format!("p{pushes}")),
                        "push {pushes} out of order"
                    );
                    pushes += 1;
                    continue;
                }
                let i = replies / 2;
                let want = if replies % 2 == 0 {
                    b"+OK\r\n".to_vec()
                } else {
                    let v = format!("v{i}");
                    format!("${}\r\n{v}\r\n", v.len()).into_bytes()
                };
                assert_eq!(r, want, "reply {replies}");
                replies += 1;
            }
            pusher.join().expect("pusher");
        });
        check(&mut c, &["PING"], b"+PONG\r\n");
    });
}

#[test]
fn a_push_to_a_blocked_client_comes_before_its_reply() {
    each(|s| {
        let mut a = s.raw();
        let mut b = s.raw();
        let id = client_id(&mut a);
        a.send(&encode(&[b"BLPOP", b"q", b"0"]));
        // Poll until the server reports it blocked.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let info = String::from_utf8_lossy(&b.cmd(&["INFO", "clients"])).to_string();
            if info.contains("blocked_clients:1\r\n") {
                break;
            }
            assert!(Instant::now() < deadline, "never blocked: {info}");
            std::thread::yield_now();
        }
        assert!(push(s, id, "while-blocked"));
        check(&mut b, &["RPUSH", "q", "x"], b":1\r\n");
        assert_eq!(a.read_reply(), frame("while-blocked"));
        assert_eq!(a.read_reply(), b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n");
        // CLIENT KILL still ends it, now as a push of its own.
        a.send(&encode(&[b"BLPOP", b"q", b"0"]));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let info = String::from_utf8_lossy(&b.cmd(&["INFO", "clients"])).to_string();
            if info.contains("blocked_clients:1\r\n") {
                break;
            }
            assert!(Instant::now() < deadline, "never blocked: {info}");
            std::thread::yield_now();
        }
        check(
            &mut b,
            &["CLIENT", "KILL", "ID", &id.to_string()],
            b":1\r\n",
        );
        assert_eq!(a.read_to_close(), b"");
    });
}

#[test]
fn pushes_follow_a_connection_that_moves_to_its_keys_thread() {
    each(|s| {
        let mut c = s.raw();
        let id = client_id(&mut c);
        let done = AtomicBool::new(false);
        let mut pushes = 0;
        // Check a reply to a command, taking the pushes that come before it.
        let expect = |c: &mut RawConn, want: &[u8], pushes: &mut usize| loop {
            let r = c.read_reply();
            if !r.starts_with(b">") {
                assert_eq!(show(&r), show(want));
                return;
            }
            assert_eq!(show(&r), show(&frame(&format!("p{pushes}"))));
            *pushes += 1;
        };
        let sent = std::thread::scope(|scope| {
            // Pushes arrive all along; one made while the connection is between threads finds
            // nobody and is made again, so every frame is delivered once and in order.
            let pusher = scope.spawn(|| {
                let mut j = 0;
                while !done.load(Ordering::Relaxed) {
                    let text = format!("p{j}");
                    let deadline = Instant::now() + Duration::from_secs(10);
                    while !push(s, id, &text) {
                        if done.load(Ordering::Relaxed) {
                            return j;
                        }
                        assert!(Instant::now() < deadline, "client {id} unreachable");
                        std::thread::yield_now();
                    }
                    j += 1;
                }
                j
            });
            // Stops the pusher however this thread leaves the scope (a failed assertion too).
            struct Stop<'a>(&'a AtomicBool);
            impl Drop for Stop<'_> {
                fn drop(&mut self) {
                    self.0.store(true, Ordering::Relaxed);
                }
            }
            let stop = Stop(&done);
            // Keys used over and over: with four threads the connection moves to the thread of
            // each key that another thread owns.
            for key in ["a", "b", "c", "d", "e", "f"] {
                c.send(&encode(&[b"SET", key.as_bytes(), b"v"]));
                expect(&mut c, b"+OK\r\n", &mut pushes);
                for _ in 0..40 {
                    c.send(&encode(&[b"GET", key.as_bytes()]));
                    expect(&mut c, b"$1\r\nv\r\n", &mut pushes);
                }
            }
            drop(stop);
            pusher.join().expect("pusher")
        });
        while pushes < sent {
            assert_eq!(show(&c.read_reply()), show(&frame(&format!("p{pushes}"))));
            pushes += 1;
        }
        assert_eq!(client_id(&mut c), id);
        let list = String::from_utf8_lossy(&c.cmd(&["CLIENT", "LIST"])).to_string();
        assert_eq!(list.matches(" addr=").count(), 1, "{list}");
    });
}
