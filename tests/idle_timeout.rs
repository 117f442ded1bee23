//! `timeout`: a client idle for longer than it is closed, except one blocked in a command.

use rustis_tests::{check, cmd_text, RawConn, TestServer, THREADS};

/// Reads until the server closes `c`, asserting that nothing arrives first.
fn assert_closed_by_server(mut c: RawConn) {
    let rest = c.read_to_close();
    assert!(rest.is_empty(), "unexpected bytes: {rest:?}");
}

#[test]
fn an_idle_client_is_closed_after_timeout_seconds() {
    for t in THREADS {
        let s = TestServer::start(t);
        let mut admin = s.raw();
        check(&mut admin, &["CONFIG", "SET", "timeout", "1"], b"+OK\r\n");
        check(
            &mut admin,
            &["CONFIG", "GET", "timeout"],
            b"*2\r\n$7\r\ntimeout\r\n$1\r\n1\r\n",
        );
        let mut idle = s.raw();
        check(&mut idle, &["PING"], b"+PONG\r\n");
        // The server closes it within a second or two; RawConn's read timeout bounds the wait.
        assert_closed_by_server(idle);
        // Back to 0: clients stay however long they idle (the admin connection, idle while the
        // other was being closed, may have gone too; a new one is used).
        let mut admin = s.raw();
        check(&mut admin, &["CONFIG", "SET", "timeout", "0"], b"+OK\r\n");
        check(&mut admin, &["PING"], b"+PONG\r\n");
    }
}

#[test]
fn a_blocked_client_outlives_the_idle_timeout() {
    // One thread: one sweep looks at every client, so when the idle client that connected
    // after the blocked one is closed, the blocked one has been idle longer and was spared.
    let s = TestServer::start(1);
    let mut admin = s.raw();
    check(&mut admin, &["CONFIG", "SET", "timeout", "1"], b"+OK\r\n");
    let mut blocked = s.raw();
    blocked.send(&rustis_tests::encode(&[b"BLPOP", b"queue", b"0"]));
    // Wait until the server has it blocked.
    while !cmd_text(&mut admin, &["CLIENT", "LIST"]).contains("flags=b") {
        std::thread::yield_now();
    }
    let mut idle = s.raw();
    check(&mut idle, &["PING"], b"+PONG\r\n");
    assert_closed_by_server(idle);
    let mut pusher = s.raw();
    check(&mut pusher, &["RPUSH", "queue", "job"], b":1\r\n");
    assert_eq!(
        blocked.read_reply(),
        b"*2\r\n$5\r\nqueue\r\n$3\r\njob\r\n".to_vec()
    );
}
