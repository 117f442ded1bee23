//! Pub/sub over TCP: every reply and every pushed frame compared byte for byte with what
//! redis-server 7.0.15 sends. Every case runs on one thread and on four; on four, subscribers
//! are spread over several connections so that publisher and subscribers sit on different
//! threads (the kernel spreads connections over the threads' listeners).

use rustis_tests::{check, check_all, each, encode, show, RawConn, Reference, TestServer};

/// A RESP2 pub/sub frame of bulk strings.
fn arr(parts: &[&str]) -> Vec<u8> {
    frame(b'*', parts)
}

/// A RESP3 push frame of bulk strings.
fn push(parts: &[&str]) -> Vec<u8> {
    frame(b'>', parts)
}

fn frame(kind: u8, parts: &[&str]) -> Vec<u8> {
    let mut v = vec![kind];
    v.extend(format!("{}\r\n", parts.len()).bytes());
    for p in parts {
        v.extend(format!("${}\r\n{p}\r\n", p.len()).bytes());
    }
    v
}

/// A (un)subscribe confirmation: `[kind, name, count]`.
fn conf(kind: u8, word: &str, name: &str, n: i64) -> Vec<u8> {
    let mut v = vec![kind];
    v.extend(
        format!(
            "3\r\n${}\r\n{word}\r\n${}\r\n{name}\r\n:{n}\r\n",
            word.len(),
            name.len()
        )
        .bytes(),
    );
    v
}

fn expect(c: &mut RawConn, want: &[u8]) {
    assert_eq!(show(&c.read_reply()), show(want));
}

#[test]
fn subscribe_publish_unsubscribe_in_resp2() {
    each(|s| {
        let mut sub = s.raw();
        let mut publ = s.raw();
        sub.send_cmd(&["SUBSCRIBE", "news", "sport"]);
        expect(&mut sub, &conf(b'*', "subscribe", "news", 1));
        expect(&mut sub, &conf(b'*', "subscribe", "sport", 2));
        // Subscribing again changes nothing and still confirms.
        sub.send_cmd(&["SUBSCRIBE", "news"]);
        expect(&mut sub, &conf(b'*', "subscribe", "news", 2));
        check(&mut publ, &["PUBLISH", "news", "hello"], b":1\r\n");
        check(&mut publ, &["PUBLISH", "nobody", "hello"], b":0\r\n");
        expect(&mut sub, &arr(&["message", "news", "hello"]));
        check(&mut publ, &["PUBLISH", "sport", ""], b":1\r\n");
        expect(&mut sub, &arr(&["message", "sport", ""]));
        sub.send_cmd(&["UNSUBSCRIBE", "news", "nothere"]);
        expect(&mut sub, &conf(b'*', "unsubscribe", "news", 1));
        expect(&mut sub, &conf(b'*', "unsubscribe", "nothere", 1));
        check(&mut publ, &["PUBLISH", "news", "x"], b":0\r\n");
        sub.send_cmd(&["UNSUBSCRIBE"]);
        expect(&mut sub, &conf(b'*', "unsubscribe", "sport", 0));
        // Unsubscribed from everything: back to normal mode.
        check(&mut sub, &["PING"], b"+PONG\r\n");
        check(
            &mut sub,
            &["UNSUBSCRIBE"],
            b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n",
        );
        check(
            &mut sub,
            &["PUNSUBSCRIBE"],
            b"*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n",
        );
        check(
            &mut sub,
            &["SUNSUBSCRIBE"],
            b"*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n",
        );
    });
}

#[test]
fn resp2_subscribed_mode_allows_only_pubsub_commands() {
    each(|s| {
        let mut c = s.raw();
        c.send_cmd(&["PSUBSCRIBE", "a*"]);
        expect(&mut c, &conf(b'*', "psubscribe", "a*", 1));
        check_all(
            &mut c,
            &[
                (&["PING"], b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"),
                (&["PING", "hi"], b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"),
                (&["PING", "a", "b"], b"-ERR wrong number of arguments for 'ping' command\r\n"),
                (&["GET", "k"], b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"),
                (&["CONFIG", "GET", "x"], b"-ERR Can't execute 'config|get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"),
                (&["NOSUCH"], b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n"),
                (&["GET"], b"-ERR wrong number of arguments for 'get' command\r\n"),
            ],
        );
        // RESET leaves subscribed mode and drops the subscription.
        check(&mut c, &["RESET"], b"+RESET\r\n");
        check(&mut c, &["PING"], b"+PONG\r\n");
        let mut p = s.raw();
        check(&mut p, &["PUBLISH", "abc", "x"], b":0\r\n");
        check(&mut p, &["PUBSUB", "NUMPAT"], b":0\r\n");
    });
}

#[test]
fn resp3_client_mixes_pushes_and_replies() {
    each(|s| {
        let mut c = s.raw();
        c.cmd(&["HELLO", "3"]);
        c.send_cmd(&["SUBSCRIBE", "ch"]);
        expect(&mut c, &conf(b'>', "subscribe", "ch", 1));
        check(&mut c, &["SET", "k", "v"], b"+OK\r\n");
        check(&mut c, &["GET", "k"], b"$1\r\nv\r\n");
        check(&mut c, &["PING"], b"+PONG\r\n");
        let mut p = s.raw();
        check(&mut p, &["PUBLISH", "ch", "m1"], b":1\r\n");
        expect(&mut c, &push(&["message", "ch", "m1"]));
        c.send_cmd(&["PSUBSCRIBE", "c?"]);
        expect(&mut c, &conf(b'>', "psubscribe", "c?", 2));
        check(&mut p, &["PUBLISH", "ch", "m2"], b":2\r\n");
        expect(&mut c, &push(&["message", "ch", "m2"]));
        expect(&mut c, &push(&["pmessage", "c?", "ch", "m2"]));
        check(&mut c, &["GET", "k"], b"$1\r\nv\r\n");
        c.send_cmd(&["UNSUBSCRIBE", "nope"]);
        expect(&mut c, &conf(b'>', "unsubscribe", "nope", 2));
        c.send_cmd(&["PUNSUBSCRIBE"]);
        expect(&mut c, &conf(b'>', "punsubscribe", "c?", 1));
        c.send_cmd(&["UNSUBSCRIBE"]);
        expect(&mut c, &conf(b'>', "unsubscribe", "ch", 0));
        check(
            &mut c,
            &["SUNSUBSCRIBE"],
            b">3\r\n$12\r\nsunsubscribe\r\n_\r\n:0\r\n",
        );
    });
}

#[test]
fn publish_counts_and_reaches_subscribers_on_every_thread_in_order() {
    each(|s| {
        const SUBS: usize = 12;
        const MSGS: usize = 200;
        let mut subs: Vec<RawConn> = (0..SUBS).map(|_| s.raw()).collect();
        for (i, c) in subs.iter_mut().enumerate() {
            if i % 2 == 0 {
                c.send_cmd(&["SUBSCRIBE", "orders"]);
                expect(c, &conf(b'*', "subscribe", "orders", 1));
            } else {
                c.send_cmd(&["PSUBSCRIBE", "ord*"]);
                expect(c, &conf(b'*', "psubscribe", "ord*", 1));
            }
        }
        let mut p = s.raw();
        // A pipeline of publishes: every reply counts every subscriber, on every thread.
        let mut pipeline = Vec::new();
        for i in 0..MSGS {
            pipeline.extend(encode(&[b"PUBLISH", b"orders", i.to_string().as_bytes()]));
        }
        p.send(&pipeline);
        for _ in 0..MSGS {
            assert_eq!(show(&p.read_reply()), format!(":{SUBS}\r\n"));
        }
        for (i, c) in subs.iter_mut().enumerate() {
            for m in 0..MSGS {
                let m = m.to_string();
                let want = if i % 2 == 0 {
                    arr(&["message", "orders", &m])
                } else {
                    arr(&["pmessage", "ord*", "orders", &m])
                };
                expect(c, &want);
            }
        }
        check(
            &mut p,
            &["PUBSUB", "NUMSUB", "orders", "ord*", "x"],
            b"*6\r\n$6\r\norders\r\n:6\r\n$4\r\nord*\r\n:0\r\n$1\r\nx\r\n:0\r\n",
        );
        check(&mut p, &["PUBSUB", "NUMPAT"], b":1\r\n");
        check(&mut p, &["PUBSUB", "CHANNELS"], b"*1\r\n$6\r\norders\r\n");
        let info = show(&p.cmd(&["INFO", "stats"]));
        assert!(
            info.contains(
                "\r\npubsub_channels:1\r\npubsub_patterns:1\r\npubsubshard_channels:0\r\n"
            ),
            "{info}"
        );
        check(&mut p, &["PUBSUB", "CHANNELS", "x*"], b"*0\r\n");
        // Disconnects drop subscriptions on whichever thread holds them.
        drop(subs);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while p.cmd(&["PUBLISH", "orders", "late"]) != b":0\r\n" {
            assert!(
                std::time::Instant::now() < deadline,
                "subscriptions outlive their clients"
            );
            std::thread::yield_now();
        }
        check(&mut p, &["PUBSUB", "NUMPAT"], b":0\r\n");
        check(&mut p, &["PUBSUB", "CHANNELS"], b"*0\r\n");
    });
}

#[test]
fn client_kill_drops_subscriptions() {
    each(|s| {
        let mut sub = s.raw();
        let id = show(&sub.cmd(&["CLIENT", "ID"]));
        let id = id.trim_start_matches(':').trim().to_string();
        sub.send_cmd(&["SUBSCRIBE", "a"]);
        expect(&mut sub, &conf(b'*', "subscribe", "a", 1));
        let mut admin = s.raw();
        check(&mut admin, &["CLIENT", "KILL", "ID", &id], b":1\r\n");
        assert_eq!(sub.read_to_close(), b"");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while admin.cmd(&["PUBSUB", "NUMSUB", "a"]) != b"*2\r\n$1\r\na\r\n:0\r\n" {
            assert!(
                std::time::Instant::now() < deadline,
                "the killed client stays subscribed"
            );
            std::thread::yield_now();
        }
    });
}

#[test]
fn shard_channels_are_apart_from_channels() {
    each(|s| {
        let mut sub = s.raw();
        sub.send_cmd(&["SSUBSCRIBE", "s1", "s2"]);
        expect(&mut sub, &conf(b'*', "ssubscribe", "s1", 1));
        expect(&mut sub, &conf(b'*', "ssubscribe", "s2", 2));
        sub.send_cmd(&["SUBSCRIBE", "s1"]);
        expect(&mut sub, &conf(b'*', "subscribe", "s1", 1));
        let mut p = s.raw();
        check(&mut p, &["SPUBLISH", "s1", "hi"], b":1\r\n");
        expect(&mut sub, &arr(&["smessage", "s1", "hi"]));
        check(&mut p, &["PUBLISH", "s1", "yo"], b":1\r\n");
        expect(&mut sub, &arr(&["message", "s1", "yo"]));
        check(
            &mut p,
            &["PUBSUB", "SHARDNUMSUB", "s1", "s3"],
            b"*4\r\n$2\r\ns1\r\n:1\r\n$2\r\ns3\r\n:0\r\n",
        );
        check(
            &mut p,
            &["PUBSUB", "SHARDCHANNELS", "s2"],
            b"*1\r\n$2\r\ns2\r\n",
        );
        sub.send_cmd(&["SUNSUBSCRIBE", "s1"]);
        expect(&mut sub, &conf(b'*', "sunsubscribe", "s1", 1));
        sub.send_cmd(&["SUNSUBSCRIBE"]);
        expect(&mut sub, &conf(b'*', "sunsubscribe", "s2", 0));
        sub.send_cmd(&["UNSUBSCRIBE"]);
        expect(&mut sub, &conf(b'*', "unsubscribe", "s1", 0));
        check(&mut sub, &["PING"], b"+PONG\r\n");
    });
}

#[test]
fn pubsub_help_and_errors() {
    each(|s| {
        let mut c = s.raw();
        check(
            &mut c,
            &["PUBSUB", "CHANNELS", "a", "b"],
            b"-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.\r\n",
        );
        check(
            &mut c,
            &["PUBSUB", "NUMPAT", "x"],
            b"-ERR wrong number of arguments for 'pubsub|numpat' command\r\n",
        );
        check(
            &mut c,
            &["PUBSUB", "NOPE"],
            b"-ERR unknown subcommand 'NOPE'. Try PUBSUB HELP.\r\n",
        );
        check(
            &mut c,
            &["SUBSCRIBE"],
            b"-ERR wrong number of arguments for 'subscribe' command\r\n",
        );
        check(
            &mut c,
            &["PUBLISH", "a"],
            b"-ERR wrong number of arguments for 'publish' command\r\n",
        );
        check(&mut c, &["PUBSUB", "NUMSUB"], b"*0\r\n");
        let help = c.cmd(&["PUBSUB", "HELP"]);
        assert!(show(&help).starts_with(
            "*14\r\n+PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
        ));
    });
}

#[test]
fn a_subscriber_that_never_reads_is_disconnected_at_its_limit() {
    each(|s: &TestServer| {
        let mut admin = s.raw();
        check(
            &mut admin,
            &[
                "CONFIG",
                "SET",
                "client-output-buffer-limit",
                "pubsub 1mb 0 0",
            ],
            b"+OK\r\n",
        );
        check(
            &mut admin,
            &["CONFIG", "GET", "client-output-buffer-limit"],
            b"*2\r\n$26\r\nclient-output-buffer-limit\r\n$59\r\nnormal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 0 0\r\n",
        );
        let mut slow = s.raw();
        slow.send_cmd(&["SUBSCRIBE", "flood"]);
        expect(&mut slow, &conf(b'*', "subscribe", "flood", 1));
        let mut fast = s.raw();
        fast.send_cmd(&["SUBSCRIBE", "other"]);
        expect(&mut fast, &conf(b'*', "subscribe", "other", 1));
        let big = "x".repeat(64 * 1024);
        let mut p = s.raw();
        // The slow subscriber never reads: once the kernel's buffers and then its limit fill
        // up, it is dropped. 1 GB is far more than any socket buffer.
        let mut sent = 0usize;
        loop {
            let n = p.cmd(&["PUBLISH", "flood", &big]);
            if n == b":0\r\n" {
                break;
            }
            sent += big.len();
            assert!(sent < 1 << 30, "the slow subscriber was never disconnected");
        }
        // The publisher and the other subscriber are served as usual.
        check(&mut p, &["PUBLISH", "other", "still here"], b":1\r\n");
        expect(&mut fast, &arr(&["message", "other", "still here"]));
        check(
            &mut p,
            &["PUBSUB", "NUMSUB", "flood"],
            b"*2\r\n$5\r\nflood\r\n:0\r\n",
        );
        // Its connection is closed: only admin, fast and p are left.
        let clients = show(&admin.cmd(&["CLIENT", "LIST"]));
        assert_eq!(clients.matches("id=").count(), 3, "{clients}");
        drop(slow);
        check(
            &mut admin,
            &[
                "CONFIG",
                "SET",
                "client-output-buffer-limit",
                "normal 1mb 0 0",
            ],
            b"+OK\r\n",
        );
        check(
            &mut admin,
            &["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 0"],
            b"-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration.\r\n",
        );
    });
}

/// The `(key, event)` pairs one command announces, in order.
type Events<'a> = &'a [(&'a str, &'a str)];

/// A pattern subscriber's frame for keyspace event `event` on `key` in database 0.
fn keyspace(key: &str, event: &str) -> Vec<u8> {
    arr(&["pmessage", "*", &format!("__keyspace@0__:{key}"), event])
}

fn keyevent(key: &str, event: &str) -> Vec<u8> {
    arr(&["pmessage", "*", &format!("__keyevent@0__:{event}"), key])
}

/// A subscriber to every channel, subscribed before it returns.
fn watcher(s: &TestServer) -> RawConn {
    let mut w = s.raw();
    w.send_cmd(&["PSUBSCRIBE", "*"]);
    expect(&mut w, &conf(b'*', "psubscribe", "*", 1));
    w
}

#[test]
fn keyspace_notifications_config_is_checked_and_shown_as_redis_does() {
    each(|s| {
        let mut c = s.raw();
        for (set, get) in [
            ("gKE", "gKE"),
            ("$lshzxeKE", "$lshzxeKE"),
            ("KA", "AK"),
            ("EA", "AE"),
            ("Egn$", "g$nE"),
            ("KEAn", "AKE"),
            ("", ""),
        ] {
            check(
                &mut c,
                &["CONFIG", "SET", "notify-keyspace-events", set],
                b"+OK\r\n",
            );
            let want = format!(
                "*2\r\n$22\r\nnotify-keyspace-events\r\n${}\r\n{get}\r\n",
                get.len()
            );
            check(
                &mut c,
                &["CONFIG", "GET", "notify-keyspace-events"],
                want.as_bytes(),
            );
        }
        check(
            &mut c,
            &["CONFIG", "SET", "notify-keyspace-events", "KQ"],
            b"-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.\r\n",
        );
    });
}

#[test]
fn keyspace_and_keyevent_notifications_follow_each_command() {
    each(|s| {
        let mut c = s.raw();
        check(
            &mut c,
            &["CONFIG", "SET", "notify-keyspace-events", "KEA"],
            b"+OK\r\n",
        );
        let mut w = watcher(s);
        // Each command's events, in Redis's order: keyspace then keyevent for each event.
        let cases: &[(&[&str], Events)] = &[
            (&["SET", "foo", "bar"], &[("foo", "set")]),
            (
                &["SET", "foo", "baz", "EX", "100"],
                &[("foo", "set"), ("foo", "expire")],
            ),
            (&["PERSIST", "foo"], &[("foo", "persist")]),
            (&["APPEND", "foo", "x"], &[("foo", "append")]),
            (&["INCR", "n"], &[("n", "incrby")]),
            (&["INCRBYFLOAT", "n", "1.5"], &[("n", "incrbyfloat")]),
            (&["LPUSH", "l", "a", "b"], &[("l", "lpush")]),
            (&["RPOP", "l"], &[("l", "rpop")]),
            (&["LPOP", "l"], &[("l", "lpop"), ("l", "del")]),
            (&["SADD", "s", "a"], &[("s", "sadd")]),
            (&["SPOP", "s"], &[("s", "spop"), ("s", "del")]),
            (&["HSET", "h", "f", "1"], &[("h", "hset")]),
            (&["HINCRBY", "h", "f", "2"], &[("h", "hincrby")]),
            (&["HDEL", "h", "f"], &[("h", "hdel"), ("h", "del")]),
            (&["ZADD", "z", "1", "a"], &[("z", "zadd")]),
            (&["ZADD", "z", "INCR", "1", "a"], &[("z", "zincr")]),
            (&["ZREM", "z", "a"], &[("z", "zrem"), ("z", "del")]),
            (
                &["RENAME", "foo", "{foo}bar"],
                &[("foo", "rename_from"), ("{foo}bar", "rename_to")],
            ),
            (&["EXPIRE", "{foo}bar", "-1"], &[("{foo}bar", "del")]),
            (&["DEL", "n", "nokey"], &[("n", "del")]),
        ];
        for (cmd, events) in cases {
            c.cmd(cmd);
            for (key, event) in events.iter() {
                expect(&mut w, &keyspace(key, event));
                expect(&mut w, &keyevent(key, event));
            }
        }
        // Only the classes asked for: a list change is announced, a string change is not.
        check(
            &mut c,
            &["CONFIG", "SET", "notify-keyspace-events", "El"],
            b"+OK\r\n",
        );
        c.cmd(&["SET", "foo", "bar"]);
        c.cmd(&["RPUSH", "l", "x"]);
        expect(&mut w, &keyevent("l", "rpush"));
        // New keys, once each.
        check(
            &mut c,
            &["CONFIG", "SET", "notify-keyspace-events", "En"],
            b"+OK\r\n",
        );
        c.cmd(&["SET", "k1", "v"]);
        c.cmd(&["SET", "k1", "w"]);
        c.cmd(&["SET", "k2", "v"]);
        expect(&mut w, &keyevent("k1", "new"));
        expect(&mut w, &keyevent("k2", "new"));
        // `A` with `n` reads back without the `n`, and new keys are still announced.
        check(
            &mut c,
            &["CONFIG", "SET", "notify-keyspace-events", "EAn"],
            b"+OK\r\n",
        );
        c.cmd(&["SET", "k3", "v"]);
        expect(&mut w, &keyevent("k3", "new"));
        expect(&mut w, &keyevent("k3", "set"));
        // Expired keys, found by a read or by the active expiry cycle.
        check(
            &mut c,
            &["CONFIG", "SET", "notify-keyspace-events", "Ex"],
            b"+OK\r\n",
        );
        c.cmd(&["SET", "gone", "1", "PX", "1"]);
        expect(&mut w, &keyevent("gone", "expired"));
        check(
            &mut c,
            &["CONFIG", "SET", "notify-keyspace-events", ""],
            b"+OK\r\n",
        );
        c.cmd(&["SET", "quiet", "1"]);
        check(&mut c, &["PUBLISH", "fence", "x"], b":1\r\n");
        expect(&mut w, &arr(&["pmessage", "*", "fence", "x"]));
    });
}

#[test]
fn client_reply_off_and_skip_drop_replies_but_not_pushes() {
    each(|s| {
        let mut c = s.raw();
        let mut pipeline = Vec::new();
        for cmd in [
            &["CLIENT", "REPLY", "OFF"][..],
            &["SET", "a", "1"],
            &["GET", "a"],
            &["NOSUCH"],
            &["CLIENT", "REPLY", "SKIP"],
            &["PING"],
            &["CLIENT", "REPLY", "ON"],
            &["GET", "a"],
            &["CLIENT", "REPLY", "SKIP"],
            &["GET", "a"],
            &["GET", "a"],
            &["CLIENT", "REPLY", "x"],
        ] {
            let a: Vec<&[u8]> = cmd.iter().map(|x| x.as_bytes()).collect();
            pipeline.extend(encode(&a));
        }
        c.send(&pipeline);
        for want in [
            &b"+OK\r\n"[..],
            b"$1\r\n1\r\n",
            b"$1\r\n1\r\n",
            b"-ERR syntax error\r\n",
        ] {
            expect(&mut c, want);
        }
        // Subscription confirmations and messages are pushes: they still arrive.
        c.send_cmd(&["CLIENT", "REPLY", "OFF"]);
        c.send_cmd(&["SUBSCRIBE", "x"]);
        expect(&mut c, &conf(b'*', "subscribe", "x", 1));
        let mut p = s.raw();
        check(&mut p, &["PUBLISH", "x", "hi"], b":1\r\n");
        expect(&mut c, &arr(&["message", "x", "hi"]));
    });
}

/// A MONITOR line with its time and address taken out: `[db] args`.
fn monitor_line(line: &[u8]) -> String {
    let text = show(line);
    let rest = text.strip_prefix('+').expect("a simple string");
    let (time, rest) = rest.split_once(' ').expect("a time");
    let (secs, micros) = time.split_once('.').expect("seconds.micros");
    assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{text}");
    let (db_addr, args) = rest.split_once("] ").expect("[db addr]");
    let db = db_addr
        .trim_start_matches('[')
        .split(' ')
        .next()
        .unwrap_or("");
    format!("[{db}] {args}")
}

#[test]
fn monitor_shows_every_clients_commands_on_every_thread() {
    each(|s| {
        let mut m = s.raw();
        check(&mut m, &["MONITOR"], b"+OK\r\n");
        // Several clients, so that some run on other threads than the monitor; each command's
        // line is read before the next command runs, so their order is known.
        let mut clients: Vec<RawConn> = (0..6).map(|_| s.raw()).collect();
        for (i, c) in clients.iter_mut().enumerate() {
            let key = format!("k{i}");
            check(c, &["SET", &key, "a\"b\\c\n\u{1}"], b"+OK\r\n");
            let want = format!("[0] \"SET\" \"{key}\" \"a\\\"b\\\\c\\n\\x01\"\r\n");
            assert_eq!(monitor_line(&m.read_reply()), want);
            // Administrative commands are not shown, nor commands that never ran.
            c.cmd(&["CONFIG", "GET", "port"]);
            c.cmd(&["NOSUCH"]);
            c.cmd(&["GET"]);
            // The database is the one the command left selected.
            check(c, &["SELECT", "3"], b"+OK\r\n");
            assert_eq!(monitor_line(&m.read_reply()), "[3] \"SELECT\" \"3\"\r\n");
            check(c, &["SELECT", "0"], b"+OK\r\n");
            assert_eq!(monitor_line(&m.read_reply()), "[0] \"SELECT\" \"0\"\r\n");
        }
        // A second MONITOR gets no reply; RESET ends monitoring (and is not shown to itself).
        m.send_cmd(&["MONITOR"]);
        check(&mut m, &["RESET"], b"+RESET\r\n");
        check(&mut clients[0], &["PING"], b"+PONG\r\n");
        check(&mut m, &["PING"], b"+PONG\r\n");
    });
}

#[test]
fn pipelined_publishes_mixed_with_other_commands_keep_order_and_counts() {
    each(|s| {
        let mut subs: Vec<RawConn> = (0..8).map(|_| s.raw()).collect();
        for c in subs.iter_mut() {
            c.send_cmd(&["SUBSCRIBE", "ch"]);
            expect(c, &conf(b'*', "subscribe", "ch", 1));
            c.send_cmd(&["SSUBSCRIBE", "sc"]);
            expect(c, &conf(b'*', "ssubscribe", "sc", 1));
        }
        let mut p = s.raw();
        let cmds: &[&[&str]] = &[
            &["PUBLISH", "ch", "1"],
            &["SPUBLISH", "sc", "2"],
            &["PUBLISH", "nobody", "x"],
            &["SET", "k", "v"],
            &["PUBLISH", "ch", "3"],
            &["PUBLISH", "ch"],
            &["PUBLISH", "ch", "4"],
            &["GET", "k"],
            &["PUBLISH", "ch", "5"],
        ];
        let mut pipeline = Vec::new();
        for cmd in cmds {
            let a: Vec<&[u8]> = cmd.iter().map(|x| x.as_bytes()).collect();
            pipeline.extend(encode(&a));
        }
        p.send(&pipeline);
        for want in [
            &b":8\r\n"[..],
            b":8\r\n",
            b":0\r\n",
            b"+OK\r\n",
            b":8\r\n",
            b"-ERR wrong number of arguments for 'publish' command\r\n",
            b":8\r\n",
            b"$1\r\nv\r\n",
            b":8\r\n",
        ] {
            expect(&mut p, want);
        }
        for c in subs.iter_mut() {
            expect(c, &arr(&["message", "ch", "1"]));
            expect(c, &arr(&["smessage", "sc", "2"]));
            for m in ["3", "4", "5"] {
                expect(c, &arr(&["message", "ch", m]));
            }
        }
    });
}

#[test]
fn client_kill_closes_a_subscriber_stuck_writing_to_a_peer_that_does_not_read() {
    each(|s| {
        let mut slow = s.raw();
        let id = show(&slow.cmd(&["CLIENT", "ID"]));
        let id = id.trim_start_matches(':').trim().to_string();
        slow.send_cmd(&["SUBSCRIBE", "flood"]);
        expect(&mut slow, &conf(b'*', "subscribe", "flood", 1));
        // 16 MB: more than the socket buffers hold, less than the default hard limit, and the
        // soft limit's 60 seconds do not pass: the connection stays stuck in a write.
        let big = "x".repeat(64 * 1024);
        let mut p = s.raw();
        for _ in 0..256 {
            check(&mut p, &["PUBLISH", "flood", &big], b":1\r\n");
        }
        check(&mut p, &["CLIENT", "KILL", "ID", &id], b":1\r\n");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while p.cmd(&["PUBSUB", "NUMSUB", "flood"]) != b"*2\r\n$5\r\nflood\r\n:0\r\n" {
            assert!(
                std::time::Instant::now() < deadline,
                "the killed subscriber is still there"
            );
            std::thread::yield_now();
        }
        drop(slow);
    });
}

#[test]
fn new_key_events_after_transactions_that_change_nothing() {
    each(|s| {
        let mut c = s.raw();
        check(
            &mut c,
            &["CONFIG", "SET", "notify-keyspace-events", "En"],
            b"+OK\r\n",
        );
        let mut w = watcher(s);
        // With four threads foo and bar live on different ones: RENAMENX and RENAME take the
        // cross-shard path, which checks both keys out and puts them back. (Recorded from
        // redis-server 7.0.15.)
        for (cmd, reply) in [
            (&["SET", "foo", "1"][..], &b"+OK\r\n"[..]),
            (&["SET", "bar", "1"], b"+OK\r\n"),
            (&["RENAMENX", "foo", "bar"], b":0\r\n"),
            (&["DEL", "foo"], b":1\r\n"),
            (&["SET", "foo", "2"], b"+OK\r\n"),
            (&["RENAME", "foo", "bar"], b"+OK\r\n"),
            (&["SET", "baz", "1"], b"+OK\r\n"),
        ] {
            check(&mut c, cmd, reply);
        }
        // RENAME's destination is new even though it existed: Redis deletes and adds it.
        for key in ["foo", "bar", "foo", "bar", "baz"] {
            expect(&mut w, &keyevent(key, "new"));
        }
        check(&mut c, &["PUBLISH", "fence", "x"], b":1\r\n");
        expect(&mut w, &arr(&["pmessage", "*", "fence", "x"]));
    });
}

/// Publishers on other connections (so, with several threads, on other threads than the
/// subscriber) pipeline `n` numbered PUBLISH commands each, right after the subscriber saw its
/// confirmation: every reply counts it, and it gets every message, each publisher's in order.
#[test]
fn a_publish_right_after_a_subscribe_confirmation_counts_it_on_every_thread() {
    for threads in [1, 2, 4] {
        let s = TestServer::start(threads);
        const N: usize = 300;
        let mut pubs: Vec<RawConn> = (0..4).map(|_| s.raw()).collect();
        for round in 0..5 {
            let ch = format!("fresh{round}");
            let mut sub = s.raw();
            sub.send_cmd(&["SUBSCRIBE", &ch]);
            expect(&mut sub, &conf(b'*', "subscribe", &ch, 1));
            for (j, p) in pubs.iter_mut().enumerate() {
                let mut pipeline = Vec::new();
                for i in 0..N {
                    let m = format!("{j}-{i}");
                    pipeline.extend(encode(&[b"PUBLISH", ch.as_bytes(), m.as_bytes()]));
                }
                p.send(&pipeline);
            }
            for p in pubs.iter_mut() {
                for _ in 0..N {
                    assert_eq!(show(&p.read_reply()), ":1\r\n", "{threads} threads");
                }
            }
            let mut next = [0usize; 4];
            for _ in 0..4 * N {
                let got = show(&sub.read_reply());
                let m = got.rsplit("\r\n").nth(1).unwrap_or_default().to_string();
                let (j, i) = m.split_once('-').expect("a numbered message");
                let (j, i): (usize, usize) = (j.parse().unwrap(), i.parse().unwrap());
                assert_eq!(i, next[j], "publisher {j}'s messages out of order: {got}");
                next[j] += 1;
            }
        }
    }
}

/// A SUBSCRIBE, or an UNSUBSCRIBE, sent while another connection publishes (pipelines of 10,
/// one after the other): the replies count the subscriber from some message on (or up to
/// some message), and it receives exactly the messages that counted it, in order, after its
/// SUBSCRIBE confirmation and before its UNSUBSCRIBE confirmation.
#[test]
fn subscriptions_racing_publishes_receive_exactly_what_counted_them() {
    for threads in [1, 2, 4] {
        let s = TestServer::start(threads);
        const CHUNK: usize = 10;
        const N: usize = 200 * CHUNK;
        for round in 0..6 {
            let mut sub = s.raw();
            let mut p = s.raw();
            let subscribing = round % 2 == 0;
            if !subscribing {
                sub.send_cmd(&["SUBSCRIBE", "race"]);
                expect(&mut sub, &conf(b'*', "subscribe", "race", 1));
            }
            let (started, halfway) = std::sync::mpsc::channel();
            let publisher = std::thread::spawn(move || {
                let mut counts = Vec::with_capacity(N);
                for chunk in 0..N / CHUNK {
                    let mut pipeline = Vec::new();
                    for i in chunk * CHUNK..(chunk + 1) * CHUNK {
                        pipeline.extend(encode(&[b"PUBLISH", b"race", i.to_string().as_bytes()]));
                    }
                    p.send(&pipeline);
                    counts.extend((0..CHUNK).map(|_| show(&p.read_reply())));
                    if chunk == 20 {
                        let _ = started.send(());
                    }
                }
                counts
            });
            halfway.recv().expect("the publisher started");
            if subscribing {
                sub.send_cmd(&["SUBSCRIBE", "race"]);
            } else {
                sub.send_cmd(&["UNSUBSCRIBE", "race"]);
            }
            let counts = publisher.join().expect("the publisher");
            let counted: Vec<usize> = (0..N).filter(|&i| counts[i] == ":1\r\n").collect();
            assert!(
                counts.iter().all(|c| c == ":0\r\n" || c == ":1\r\n"),
                "{counts:?}"
            );
            // The counted messages are one stretch: from the subscription on, or up to its end.
            if let (Some(&first), Some(&last)) = (counted.first(), counted.last()) {
                assert_eq!(
                    last - first + 1,
                    counted.len(),
                    "{threads} threads: {counts:?}"
                );
                if subscribing {
                    assert_eq!(last, N - 1);
                } else {
                    assert_eq!(first, 0);
                }
            }
            if subscribing {
                expect(&mut sub, &conf(b'*', "subscribe", "race", 1));
            }
            for &i in &counted {
                expect(&mut sub, &arr(&["message", "race", &i.to_string()]));
            }
            if subscribing {
                sub.send_cmd(&["PING"]);
                expect(&mut sub, &arr(&["pong", ""]));
            } else {
                expect(&mut sub, &conf(b'*', "unsubscribe", "race", 0));
                check(&mut sub, &["PING"], b"+PONG\r\n");
            }
        }
    }
}

/// Runs a stream script against redis-server and Rustis (1 and 4 threads) with a pattern
/// subscriber to every keyspace and keyevent channel, and compares every reply and every
/// event frame the subscriber got, in order.
#[test]
fn stream_commands_fire_redis_keyspace_events_for_consumers_and_trims() {
    let script = |open: &dyn Fn() -> RawConn| -> Vec<String> {
        let mut log = Vec::new();
        let mut c = open();
        log.push(show(&c.cmd(&["FLUSHALL"])));
        log.push(show(&c.cmd(&[
            "CONFIG",
            "SET",
            "notify-keyspace-events",
            "KEt",
        ])));
        let mut w = open();
        w.send_cmd(&["PSUBSCRIBE", "*"]);
        log.push(show(&w.read_reply()));
        let cmds: &[&[&str]] = &[
            &["XGROUP", "CREATE", "st", "g", "$", "MKSTREAM"],
            &["XGROUP", "CREATECONSUMER", "st", "g", "Bob"],
            &["XADD", "st", "1-1", "f", "A"],
            // Creates Alice, then finds her.
            &["XREADGROUP", "GROUP", "g", "Alice", "STREAMS", "st", ">"],
            &["XREADGROUP", "GROUP", "g", "Alice", "STREAMS", "st", "0"],
            // Creates Mike, who claims; a claim of nothing creates no one.
            &["XCLAIM", "st", "g", "Mike", "0", "1-1", "FORCE"],
            &["XCLAIM", "st", "g", "Nobody", "0", "9-9"],
            &["XGROUP", "DELCONSUMER", "st", "g", "Lee"],
            &["XAUTOCLAIM", "st", "g", "Bob", "0", "0"],
            &["XAUTOCLAIM", "st", "g", "Zed", "0", "0"],
            // A history read creates its consumer too.
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "Neo",
                "COUNT",
                "1",
                "STREAMS",
                "st",
                "0",
            ],
            // XADD's trim: `xtrim` after `xadd` only when it removed entries.
            &["XADD", "st", "MAXLEN", "1", "2-1", "f", "B"],
            &["XADD", "st", "MAXLEN", "5", "3-1", "f", "C"],
            &["XADD", "st", "MAXLEN", "~", "1", "4-1", "f", "D"],
            &["XADD", "st", "MINID", "4-1", "5-1", "f", "E"],
            &["XTRIM", "st", "MAXLEN", "0"],
            &["XGROUP", "DELCONSUMER", "st", "g", "Bob"],
            &["PUBLISH", "fence", "x"],
        ];
        for cmd in cmds {
            log.push(format!("{cmd:?} -> {}", show(&c.cmd(cmd))));
        }
        loop {
            let f = show(&w.read_reply());
            let done = f.contains("fence");
            log.push(f);
            if done {
                break;
            }
        }
        log
    };
    let reference = Reference::start();
    let want = script(&|| reference.conn());
    for t in [1, 4] {
        let s = TestServer::start(t);
        let got = script(&|| s.raw());
        assert_eq!(got, want, "on {t} threads");
    }
}
