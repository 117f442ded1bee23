//! The write path seen from a client: SWAPDB hands a waiting client the list that the swap
//! brought into its database, as redis-server 7.0.15 does, and a flush serves nobody. Every case
//! runs on one thread and on four.

use std::time::{Duration, Instant};

use rustis_tests::{check, each, encode, RawConn, TestServer};

fn send(c: &mut RawConn, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    c.send(&encode(&a));
}

/// Waits until the server reports `n` blocked clients.
fn wait_blocked(s: &TestServer, n: usize) {
    let mut c = s.raw();
    let want = format!("blocked_clients:{n}\r\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info = String::from_utf8_lossy(&c.cmd(&["INFO", "clients"])).to_string();
        if info.contains(&want) {
            return;
        }
        assert!(Instant::now() < deadline, "never got {want:?}: {info}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn swapdb_serves_a_client_blocked_on_a_key_the_swap_brings() {
    each(|s| {
        let mut a = s.raw();
        let mut b = s.raw();
        send(&mut a, &["BLPOP", "l", "0"]);
        wait_blocked(s, 1);
        check(&mut b, &["SELECT", "1"], b"+OK\r\n");
        check(&mut b, &["RPUSH", "l", "x"], b":1\r\n");
        // A flush of the other database wakes nobody.
        check(&mut b, &["FLUSHDB"], b"+OK\r\n");
        check(&mut b, &["RPUSH", "l", "x"], b":1\r\n");
        check(&mut b, &["SWAPDB", "0", "1"], b"+OK\r\n");
        assert_eq!(a.read_reply(), b"*2\r\n$1\r\nl\r\n$1\r\nx\r\n");
        wait_blocked(s, 0);
        check(&mut b, &["EXISTS", "l"], b":0\r\n");
        check(&mut b, &["SELECT", "0"], b"+OK\r\n");
        check(&mut b, &["EXISTS", "l"], b":0\r\n");
    });
}
