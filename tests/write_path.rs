//! The write path seen from a client: SWAPDB hands a waiting client the list that the swap
//! brought into its database, as redis-server 7.0.15 does, and a flush serves nobody. Every case
//! runs on one thread and on four.

use rustis_tests::{check, each};

#[test]
fn swapdb_serves_a_client_blocked_on_a_key_the_swap_brings() {
    each(|s| {
        let mut a = s.raw();
        let mut b = s.raw();
        a.send_cmd(&["BLPOP", "l", "0"]);
        s.wait_blocked(1);
        check(&mut b, &["SELECT", "1"], b"+OK\r\n");
        check(&mut b, &["RPUSH", "l", "x"], b":1\r\n");
        // A flush of the other database wakes nobody.
        check(&mut b, &["FLUSHDB"], b"+OK\r\n");
        check(&mut b, &["RPUSH", "l", "x"], b":1\r\n");
        check(&mut b, &["SWAPDB", "0", "1"], b"+OK\r\n");
        assert_eq!(a.read_reply(), b"*2\r\n$1\r\nl\r\n$1\r\nx\r\n");
        s.wait_blocked(0);
        check(&mut b, &["EXISTS", "l"], b":0\r\n");
        check(&mut b, &["SELECT", "0"], b"+OK\r\n");
        check(&mut b, &["EXISTS", "l"], b":0\r\n");
    });
}
