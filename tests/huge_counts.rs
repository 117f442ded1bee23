//! A random pick with a huge repeating count (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER with a
//! negative count) cannot take the server down: Redis would stream such a reply until it runs
//! out of memory; Rustis refuses counts above `MAX_REPEATED_PICKS` with Redis's range error,
//! and answers normally below it.

use rustis_tests::{check, TestServer};

#[test]
fn huge_negative_random_counts_are_refused_and_the_server_keeps_answering() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut c = server.raw();
        check(&mut c, &["SADD", "s", "a"], b":1\r\n");
        check(&mut c, &["HSET", "h", "f", "v"], b":1\r\n");
        check(&mut c, &["ZADD", "z", "1", "m"], b":1\r\n");
        let range = b"-ERR value is out of range\r\n";
        for cmd in [
            &["SRANDMEMBER", "s", "-100000000000000"][..],
            &["HRANDFIELD", "h", "-100000000000000"][..],
            &["HRANDFIELD", "h", "-100000000000000", "WITHVALUES"][..],
            &["ZRANDMEMBER", "z", "-100000000000000"][..],
            &["ZRANDMEMBER", "z", "-100000000000000", "WITHSCORES"][..],
        ] {
            check(&mut c, cmd, range);
        }
        check(&mut c, &["PING"], b"+PONG\r\n");
        // Ordinary repeating counts still answer as Redis does.
        check(
            &mut c,
            &["SRANDMEMBER", "s", "-3"],
            b"*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n",
        );
        check(
            &mut c,
            &["HRANDFIELD", "h", "-2", "WITHVALUES"],
            b"*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\nf\r\n$1\r\nv\r\n",
        );
        check(&mut c, &["ZRANDMEMBER", "z", "-1"], b"*1\r\n$1\r\nm\r\n");
    }
}
