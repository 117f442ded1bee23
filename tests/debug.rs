//! DEBUG against redis-server 7.0.15: the dataset digest and the per-key digests equal the
//! reference's for the same data of every type (on 1 and 4 threads, where each shard digests
//! its own keys), and the replies of the other subcommands are the same bytes. DEBUG is refused
//! with Redis's error unless `enable-debug-command` allows it. The test starts its own
//! redis-server and fails if there is none on PATH.

use std::time::{Duration, Instant};

use rustis_runtime::Config;
use rustis_tests::{show, RawConn, Reference, TestServer, THREADS};

fn with_debug(threads: usize) -> TestServer {
    let mut cfg = Config::default();
    cfg.set("enable-debug-command", "yes", true).unwrap();
    TestServer::start_opts(threads, None, cfg)
}

/// Commands that build a dataset with every type and encoding, in two databases.
fn dataset() -> Vec<Vec<String>> {
    let mut cmds: Vec<Vec<String>> = Vec::new();
    let c = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    cmds.push(c(&["SET", "str", "hello"]));
    cmds.push(c(&["SET", "int", "12345"]));
    cmds.push(c(&["SET", "neg", "-7"]));
    cmds.push(c(&["SET", "ttl", "v", "EX", "1000"]));
    cmds.push(c(&["RPUSH", "list", "a", "b", "c", "1", "2"]));
    cmds.push(c(&["SADD", "intset", "1", "2", "3", "100", "-5"]));
    cmds.push(c(&["SADD", "set", "x", "y", "z"]));
    cmds.push(c(&[
        "ZADD", "zset", "1", "a", "2.5", "b", "-1", "c", "inf", "d", "0.1", "e",
    ]));
    cmds.push(c(&["HSET", "hash", "f1", "v1", "f2", "v2", "n", "3"]));
    cmds.push(c(&["XADD", "stream", "1-1", "a", "1", "b", "2"]));
    cmds.push(c(&["XADD", "stream", "2-0", "a", "3"]));
    cmds.push(c(&["XADD", "stream", "3-0", "other", "x", "y", "z"]));
    cmds.push(c(&["EXPIRE", "list", "5000"]));
    // Large values, in their big encodings.
    for i in 0..200 {
        let n = i.to_string();
        let m = format!("member-{i}");
        cmds.push(c(&["RPUSH", "biglist", &m]));
        cmds.push(c(&["SADD", "bigset", &m]));
        cmds.push(c(&["ZADD", "bigzset", &n, &m]));
        cmds.push(c(&["HSET", "bighash", &m, &n]));
        cmds.push(c(&["SET", &format!("k{i}"), &n]));
    }
    cmds.push(c(&["SELECT", "3"]));
    cmds.push(c(&["SET", "in3", "v"]));
    cmds.push(c(&["LPUSH", "list3", "q"]));
    cmds.push(c(&["SELECT", "0"]));
    cmds
}

fn load(c: &mut RawConn, cmds: &[Vec<String>]) {
    for cmd in cmds {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let r = c.cmd(&args);
        assert!(!r.starts_with(b"-"), "{args:?}: {}", show(&r));
    }
}

#[test]
fn debug_digest_equals_redis_servers_for_every_type_and_shard_count() {
    let reference = Reference::start_with(None, &["--enable-debug-command", "yes"]);
    let mut rc = reference.conn();
    let data = dataset();
    load(&mut rc, &data);
    let keys = [
        "str", "int", "neg", "ttl", "list", "intset", "set", "zset", "hash", "stream", "biglist",
        "bigset", "bigzset", "bighash", "nokey",
    ];
    let want_all = rc.cmd(&["DEBUG", "DIGEST"]);
    let mut values = vec!["DEBUG", "DIGEST-VALUE"];
    values.extend(keys);
    let want_values = rc.cmd(&values);
    for t in THREADS {
        let s = with_debug(t);
        let mut c = s.raw();
        assert_eq!(
            show(&c.cmd(&["DEBUG", "DIGEST"])),
            "+0000000000000000000000000000000000000000\r\n",
            "an empty dataset"
        );
        load(&mut c, &data);
        assert_eq!(show(&c.cmd(&values)), show(&want_values), "{t} threads");
        assert_eq!(
            show(&c.cmd(&["DEBUG", "DIGEST"])),
            show(&want_all),
            "{t} threads"
        );
        // The digest changes with the data, and comes back with it.
        c.cmd(&["SET", "str", "other"]);
        assert_ne!(show(&c.cmd(&["DEBUG", "DIGEST"])), show(&want_all));
        c.cmd(&["SET", "str", "hello"]);
        assert_eq!(show(&c.cmd(&["DEBUG", "DIGEST"])), show(&want_all));
    }
}

/// Every reply compared byte for byte, in RESP2 and RESP3.
#[test]
fn debug_replies_are_redis_servers_bytes() {
    let reference = Reference::start_with(None, &["--enable-debug-command", "yes"]);
    let cases: &[&[&str]] = &[
        &["DEBUG", "PROTOCOL", "string"],
        &["DEBUG", "PROTOCOL", "integer"],
        &["DEBUG", "PROTOCOL", "double"],
        &["DEBUG", "PROTOCOL", "bignum"],
        &["DEBUG", "PROTOCOL", "null"],
        &["DEBUG", "PROTOCOL", "array"],
        &["DEBUG", "PROTOCOL", "set"],
        &["DEBUG", "PROTOCOL", "map"],
        &["DEBUG", "PROTOCOL", "attrib"],
        &["DEBUG", "PROTOCOL", "push"],
        &["DEBUG", "PROTOCOL", "verbatim"],
        &["DEBUG", "PROTOCOL", "TRUE"],
        &["DEBUG", "PROTOCOL", "false"],
        &["DEBUG", "PROTOCOL", "nope"],
        &["DEBUG", "ERROR", "ERR some\r\nerror"],
        &["DEBUG", "ERROR", "MYCODE text"],
        &["DEBUG", "LOG", "hello log"],
        &["DEBUG", "SLEEP", "0"],
        &["DEBUG", "SLEEP", "0.01"],
        &["DEBUG", "SET-ACTIVE-EXPIRE", "0"],
        &["DEBUG", "SET-ACTIVE-EXPIRE", "1"],
        &["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5gb"],
        &["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "x"],
        &["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"],
        &["DEBUG", "CHANGE-REPL-ID"],
        &["DEBUG", "OBJECT", "nokey"],
        &["DEBUG", "SET", "x"],
        &["DEBUG", "NOSUCH"],
        &["DEBUG", "OBJECT"],
        &["DEBUG", "JMAP"],
        &["DEBUG"],
        &["SET", "s", "v"],
        &["RPUSH", "l", "a", "b"],
        &["HSET", "h", "f", "v"],
        &["DEBUG", "LISTPACK", "l"],
        &["DEBUG", "LISTPACK", "h"],
        &["DEBUG", "LISTPACK", "nokey"],
        &["DEBUG", "QUICKLIST", "l"],
        &["DEBUG", "QUICKLIST", "s"],
        &["DEBUG", "QUICKLIST", "l", "1"],
        &["DEBUG", "POPULATE", "100"],
        &["DEBUG", "POPULATE", "10", "p", "3"],
        &["DEBUG", "POPULATE", "-1"],
        &["DEBUG", "POPULATE", "x"],
        &["DEBUG", "POPULATE", "5", "key"],
        &["DBSIZE"],
        &["GET", "key:7"],
        &["GET", "p:4"],
        &["DEBUG", "DIGEST-VALUE"],
        &["DEBUG", "DIGEST"],
    ];
    for t in THREADS {
        let s = with_debug(t);
        for proto in ["2", "3"] {
            let (mut rc, mut c) = (reference.conn(), s.raw());
            rc.cmd(&["FLUSHALL"]);
            rc.cmd(&["HELLO", proto]);
            c.cmd(&["HELLO", proto]);
            for case in cases {
                assert_eq!(
                    show(&c.cmd(case)),
                    show(&rc.cmd(case)),
                    "{case:?}, RESP{proto}, {t} threads"
                );
                // In RESP3 an attribute or a push comes with a real reply after it.
                if proto == "3" && (case.contains(&"attrib") || case.contains(&"push")) {
                    assert_eq!(show(&c.read_reply()), show(&rc.read_reply()), "{case:?}");
                }
            }
            c.cmd(&["FLUSHALL"]);
        }
    }
}

/// DEBUG OBJECT's line, but for the address and the LRU clock, which differ by nature.
#[test]
fn debug_object_reports_encoding_and_serialized_length_as_redis_does() {
    let reference = Reference::start_with(None, &["--enable-debug-command", "yes"]);
    let mut rc = reference.conn();
    let data = dataset();
    load(&mut rc, &data);
    let strip = |r: Vec<u8>| -> String {
        show(&r)
            .split(' ')
            .filter(|w| !w.starts_with("lru") && !w.starts_with("at:"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for t in THREADS {
        let s = with_debug(t);
        let mut c = s.raw();
        load(&mut c, &data);
        // (Not a stream: Rustis cannot serialize streams yet, so it shows 0 for them.)
        for key in [
            "str", "int", "ttl", "list", "intset", "set", "zset", "hash", "biglist", "bigset",
            "bigzset", "bighash",
        ] {
            assert_eq!(
                strip(c.cmd(&["DEBUG", "OBJECT", key])),
                strip(rc.cmd(&["DEBUG", "OBJECT", key])),
                "{key}, {t} threads"
            );
        }
    }
}

#[test]
fn debug_is_refused_unless_enable_debug_command_allows_it() {
    let reference = Reference::start_with(None, &["--enable-debug-command", "no"]);
    let want = reference.conn().cmd(&["DEBUG", "DIGEST"]);
    assert!(show(&want).starts_with("-ERR DEBUG command not allowed."));
    for t in THREADS {
        let s = TestServer::start(t);
        assert_eq!(show(&s.raw().cmd(&["DEBUG", "DIGEST"])), show(&want));
        // `local` lets a client on a loopback address in.
        let mut cfg = Config::default();
        cfg.set("enable-debug-command", "local", true).unwrap();
        let s = TestServer::start_opts(t, None, cfg);
        assert_eq!(
            show(&s.raw().cmd(&["DEBUG", "DIGEST"])),
            "+0000000000000000000000000000000000000000\r\n"
        );
    }
}

/// DEBUG SLEEP (which stops every thread at once) replies after the time asked, and every
/// connection is served again after it.
#[test]
fn debug_sleep_takes_its_time_and_the_server_serves_after_it() {
    for t in THREADS {
        let s = with_debug(t);
        let mut sleeper = s.raw();
        let mut others: Vec<RawConn> = (0..8).map(|_| s.raw()).collect();
        for o in &mut others {
            assert_eq!(o.cmd(&["PING"]), b"+PONG\r\n");
        }
        let start = Instant::now();
        sleeper.send_cmd(&["DEBUG", "SLEEP", "0.3"]);
        assert_eq!(sleeper.read_reply(), b"+OK\r\n");
        assert!(start.elapsed() >= Duration::from_millis(300));
        for o in &mut others {
            assert_eq!(o.cmd(&["PING"]), b"+PONG\r\n");
        }
    }
}

/// LOLWUT: the version line as redis-server's (RESP2 bulk, RESP3 verbatim), its argument
/// errors, and the art's captions.
#[test]
fn lolwut_answers_as_redis_server_does() {
    let reference = Reference::start_with(None, &["--enable-debug-command", "no"]);
    for t in THREADS {
        let s = TestServer::start(t);
        for proto in ["2", "3"] {
            let (mut rc, mut c) = (reference.conn(), s.raw());
            rc.cmd(&["HELLO", proto]);
            c.cmd(&["HELLO", proto]);
            for case in [
                &["LOLWUT"][..],
                &["LOLWUT", "VERSION", "7"],
                &["LOLWUT", "VERSION", "x"],
                &["LOLWUT", "VERSION", "5", "x"],
                &["LOLWUT", "VERSION", "6", "10", "y"],
                &["LOLWUT", "foo"],
            ] {
                assert_eq!(show(&c.cmd(case)), show(&rc.cmd(case)), "{case:?}");
            }
            let art = show(&c.cmd(&["LOLWUT", "VERSION", "5", "20", "4", "4"]));
            assert!(art.ends_with(
                "Georg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n\r\n"
            ));
            let art = show(&c.cmd(&["LOLWUT", "VERSION", "6", "30", "8"]));
            assert!(
                art.ends_with("by hikikomori. Redis ver. 7.0.15\n\r\n"),
                "{art}"
            );
        }
    }
}
