//! Authentication against redis-server 7.0.15, byte for byte: `requirepass` set by CONFIG SET
//! and at startup, AUTH and HELLO ... AUTH with their errors, what a connection may run before
//! it authenticates (also for keys owned by other threads, in a pipeline, and in MULTI),
//! RESET logging out, the rejections counted in INFO, and protected mode lifted by a password.
//!
//! Each scenario runs against the reference and against Rustis on every thread count, and
//! the transcripts must be equal (HELLO's client id is masked: it differs between servers).

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use rustis_runtime::Config;
use rustis_tests::{encode, show, spread, RawConn, Reference, TestServer, THREADS};
use socket2::{Domain, Socket, Type};

/// Records `args` and its reply, with HELLO's `id` value masked.
fn say(log: &mut Vec<String>, c: &mut RawConn, args: &[&str]) {
    let reply = show(&c.cmd(args));
    log.push(format!("{args:?} -> {}", mask_id(&reply)));
}

fn mask_id(reply: &str) -> String {
    match reply.find("$2\r\nid\r\n:") {
        Some(i) => {
            let from = i + "$2\r\nid\r\n:".len();
            let end = from + reply[from..].find("\r\n").unwrap_or(0);
            format!("{}N{}", &reply[..from], &reply[end..])
        }
        None => reply.to_string(),
    }
}

/// A field of an INFO section, e.g. `errorstat_NOAUTH`, or the `rejected_calls` of a
/// `cmdstat_` line.
fn info_field(c: &mut RawConn, section: &str, line: &str, field: Option<&str>) -> String {
    let info = show(&c.cmd(&["INFO", section]));
    let Some(l) = info.lines().find(|l| l.starts_with(&format!("{line}:"))) else {
        return format!("{line}: absent");
    };
    match field {
        None => l.to_string(),
        Some(f) => l
            .split([':', ','])
            .find(|kv| kv.starts_with(&format!("{f}=")))
            .unwrap_or("")
            .to_string(),
    }
}

/// Runs `scenario` on the reference and on Rustis with every thread count; the transcripts
/// must be equal. The scenario gets a way to open connections and the thread count (for
/// keys owned by different threads).
fn same_as_redis(scenario: impl Fn(&dyn Fn() -> RawConn, usize) -> Vec<String>) {
    for t in THREADS {
        let reference = Reference::start();
        let addr = reference.addr();
        let want = scenario(&|| RawConn::connect(addr), t);
        drop(reference);
        let s = TestServer::start(t);
        let got = scenario(&|| RawConn::connect(s.addr), t);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "step {i} on {t} threads");
        }
        assert_eq!(got.len(), want.len(), "threads={t}");
    }
}

#[test]
fn requirepass_set_at_run_time_gates_new_connections_until_auth() {
    same_as_redis(|connect, threads| {
        let mut log = Vec::new();
        let keys = spread("k", 4, threads);
        let mut admin = connect();
        // No password yet: AUTH <password> is an error, AUTH default <anything> succeeds.
        say(&mut log, &mut admin, &["AUTH", "pw"]);
        say(&mut log, &mut admin, &["AUTH", "default", "anything"]);
        say(&mut log, &mut admin, &["AUTH", "nobody", "anything"]);
        say(&mut log, &mut admin, &["AUTH", "a", "b", "c"]);
        say(&mut log, &mut admin, &["AUTH"]);
        say(
            &mut log,
            &mut admin,
            &["CONFIG", "SET", "requirepass", "secret"],
        );
        say(&mut log, &mut admin, &["CONFIG", "GET", "requirepass"]);
        // A connection open before the password stays authenticated.
        for k in &keys {
            say(&mut log, &mut admin, &["SET", k, "v"]);
        }
        let mut c = connect();
        say(&mut log, &mut c, &["PING"]);
        for k in &keys {
            say(&mut log, &mut c, &["GET", k]);
        }
        let mut mget = vec!["MGET"];
        mget.extend(keys.iter().map(String::as_str));
        say(&mut log, &mut c, &mget);
        say(&mut log, &mut c, &["NOSUCHCOMMAND"]);
        say(&mut log, &mut c, &["GET"]);
        say(&mut log, &mut c, &["CONFIG", "NOSUCHSUB"]);
        say(&mut log, &mut c, &["MULTI"]);
        say(&mut log, &mut c, &["EVAL", "return 1", "0"]);
        say(&mut log, &mut c, &["SUBSCRIBE", "ch"]);
        say(&mut log, &mut c, &["HELLO"]);
        say(&mut log, &mut c, &["HELLO", "3"]);
        say(&mut log, &mut c, &["HELLO", "1"]);
        say(&mut log, &mut c, &["HELLO", "3", "AUTH", "default"]);
        say(
            &mut log,
            &mut c,
            &["HELLO", "3", "SETNAME", "early", "AUTH", "default", "no"],
        );
        say(&mut log, &mut c, &["AUTH", "wrong"]);
        say(&mut log, &mut c, &["AUTH", "default", "wrong"]);
        say(&mut log, &mut c, &["AUTH", "nobody", "secret"]);
        say(&mut log, &mut c, &["AUTH", "secret"]);
        say(&mut log, &mut c, &["CLIENT", "GETNAME"]);
        for k in &keys {
            say(&mut log, &mut c, &["GET", k]);
        }
        say(&mut log, &mut c, &mget);
        // RESET logs the connection out.
        say(&mut log, &mut c, &["RESET"]);
        say(&mut log, &mut c, &["GET", &keys[1]]);
        say(
            &mut log,
            &mut c,
            &["HELLO", "2", "AUTH", "default", "secret", "SETNAME", "n"],
        );
        say(&mut log, &mut c, &["CLIENT", "GETNAME"]);
        say(&mut log, &mut c, &["HELLO", "3"]);
        say(&mut log, &mut c, &["GET", &keys[2]]);
        // Before AUTH, frames are limited to 10 arguments of 16384 bytes.
        for frame in [&b"*100\r\n"[..], b"*1\r\n$100000000\r\n"] {
            let mut raw = connect();
            raw.send(frame);
            log.push(show(&raw.read_to_close()));
        }
        // The rejections count as in Redis.
        log.push(info_field(
            &mut admin,
            "errorstats",
            "errorstat_NOAUTH",
            None,
        ));
        log.push(info_field(
            &mut admin,
            "errorstats",
            "errorstat_WRONGPASS",
            None,
        ));
        log.push(info_field(
            &mut admin,
            "commandstats",
            "cmdstat_get",
            Some("rejected_calls"),
        ));
        log.push(info_field(
            &mut admin,
            "commandstats",
            "cmdstat_mget",
            Some("rejected_calls"),
        ));
        log.push(info_field(
            &mut admin,
            "commandstats",
            "cmdstat_auth",
            Some("failed_calls"),
        ));
        log
    });
}

#[test]
fn pipelines_and_transactions_see_the_connection_authenticate_in_order() {
    same_as_redis(|connect, threads| {
        let mut log = Vec::new();
        let keys = spread("p", 2, threads);
        let mut admin = connect();
        say(
            &mut log,
            &mut admin,
            &["CONFIG", "SET", "requirepass", "pw"],
        );
        say(
            &mut log,
            &mut admin,
            &["MSET", &keys[0], "a", &keys[1], "b"],
        );
        // One write: refused, then AUTH, then allowed.
        let mut c = connect();
        let mut req = Vec::new();
        for args in [
            &["GET", &keys[0]][..],
            &["AUTH", "pw"],
            &["GET", &keys[0]],
            &["GET", &keys[1]],
            &["RESET"],
            &["GET", &keys[1]],
        ] {
            req.extend(encode(
                &args.iter().map(|a| a.as_bytes()).collect::<Vec<_>>(),
            ));
        }
        c.send(&req);
        for _ in 0..6 {
            log.push(show(&c.read_reply()));
        }
        // AUTH inside MULTI is queued and runs at EXEC.
        say(&mut log, &mut c, &["AUTH", "pw"]);
        say(&mut log, &mut c, &["MULTI"]);
        say(&mut log, &mut c, &["AUTH", "wrong"]);
        say(&mut log, &mut c, &["GET", &keys[1]]);
        say(&mut log, &mut c, &["EXEC"]);
        // Removing the password lets everyone in; HELLO still checks the connection's flag.
        let mut late = connect();
        say(&mut log, &mut late, &["GET", &keys[0]]);
        say(&mut log, &mut admin, &["CONFIG", "SET", "requirepass", ""]);
        say(&mut log, &mut late, &["GET", &keys[0]]);
        say(&mut log, &mut late, &["HELLO", "2"]);
        say(&mut log, &mut late, &["AUTH", "x"]);
        let mut fresh = connect();
        say(&mut log, &mut fresh, &["HELLO", "2"]);
        log
    });
}

/// A connection from `source` (127.0.0.2 is loopback, but not local to protected mode).
fn connect_from(source: &str, server: SocketAddr) -> RawConn {
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    let from: SocketAddr = format!("{source}:0").parse().expect("address");
    sock.bind(&from.into()).expect("bind");
    sock.connect(&server.into()).expect("connect");
    let stream: TcpStream = sock.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    RawConn::from_stream(stream)
}

#[test]
fn a_password_lifts_protected_mode_and_startup_requirepass_is_enforced() {
    for t in THREADS {
        let mut cfg = Config::default();
        cfg.set("requirepass", "s3cret", true).expect("requirepass");
        let s = TestServer::start_opts(t, None, cfg);
        let mut remote = connect_from("127.0.0.2", s.addr);
        assert_eq!(
            show(&remote.cmd(&["PING"])),
            "-NOAUTH Authentication required.\r\n"
        );
        assert_eq!(show(&remote.cmd(&["AUTH", "s3cret"])), "+OK\r\n");
        assert_eq!(show(&remote.cmd(&["PING"])), "+PONG\r\n");
        let mut local = s.raw();
        assert_eq!(
            show(&local.cmd(&["CONFIG", "GET", "requirepass"])),
            "-NOAUTH Authentication required.\r\n"
        );
        assert_eq!(show(&local.cmd(&["AUTH", "default", "s3cret"])), "+OK\r\n");
        // Without the password, protected mode applies again to new remote connections.
        assert_eq!(
            show(&local.cmd(&["CONFIG", "SET", "requirepass", ""])),
            "+OK\r\n"
        );
        let mut denied = connect_from("127.0.0.2", s.addr);
        assert!(
            show(&denied.read_to_close()).starts_with("-DENIED Redis is running in protected mode")
        );
    }
}

#[test]
fn acl_users_are_checked_for_commands_keys_and_channels_everywhere() {
    same_as_redis(|connect, threads| {
        let mut log = Vec::new();
        let ok = spread("k", 3, threads);
        let no = spread("x", 3, threads);
        let mut admin = connect();
        for args in [
            &[
                "ACL",
                "SETUSER",
                "alice",
                "on",
                ">pw",
                "+@string",
                "-incr",
                "+mget",
                "+multi",
                "+exec",
                "+eval",
                "+publish",
                "+subscribe",
                "+acl|whoami",
                "+config|get",
                "~k*",
                "&news.*",
            ][..],
            &[
                "ACL",
                "SETUSER",
                "bob",
                "on",
                "nopass",
                "+get",
                "%R~r*",
                "(+set %W~w*)",
            ],
            &["ACL", "SETUSER", "bad", "+nosuch"],
            &["ACL", "SETUSER", "bad", "~a", "(+get"],
            &["ACL", "SETUSER", "bad", "allkeys", "~a"],
            &["ACL", "SETUSER", "bad", "#abc"],
            &["ACL", "SETUSER", "b d"],
            &["ACL", "GETUSER", "bob"],
            &["ACL", "GETUSER", "nobody"],
            &["ACL", "USERS"],
            &["ACL", "CAT"],
            &["ACL", "CAT", "nosuch"],
            &["ACL", "DELUSER", "default"],
            &["ACL", "WHOAMI"],
        ] {
            say(&mut log, &mut admin, args);
        }
        let mut a = connect();
        say(&mut log, &mut a, &["AUTH", "alice", "nope"]);
        say(&mut log, &mut a, &["AUTH", "alice", "pw"]);
        say(&mut log, &mut a, &["ACL", "WHOAMI"]);
        say(&mut log, &mut a, &["ACL", "USERS"]);
        say(&mut log, &mut a, &["CONFIG", "GET", "maxclients"]);
        say(&mut log, &mut a, &["CONFIG", "SET", "maxclients", "10"]);
        say(&mut log, &mut a, &["INCR", &ok[0]]);
        for k in ok.iter().chain(&no) {
            say(&mut log, &mut a, &["SET", k, "1"]);
            say(&mut log, &mut a, &["GET", k]);
        }
        say(&mut log, &mut a, &["MGET", &ok[0], &ok[1], &ok[2]]);
        say(&mut log, &mut a, &["MGET", &ok[0], &ok[1], &no[2]]);
        say(&mut log, &mut a, &["PUBLISH", "news.today", "hi"]);
        say(&mut log, &mut a, &["PUBLISH", "sport", "hi"]);
        say(&mut log, &mut a, &["SUBSCRIBE", "sport"]);
        // In MULTI a refused command fails the transaction when queued.
        say(&mut log, &mut a, &["MULTI"]);
        say(&mut log, &mut a, &["GET", &ok[1]]);
        say(&mut log, &mut a, &["GET", &no[1]]);
        say(&mut log, &mut a, &["EXEC"]);
        // Rules changed between MULTI and EXEC are applied at EXEC.
        say(&mut log, &mut a, &["MULTI"]);
        say(&mut log, &mut a, &["SET", &ok[0], "2"]);
        say(&mut log, &mut a, &["MGET", &ok[1], &ok[2]]);
        say(&mut log, &mut a, &["PUBLISH", "news.x", "m"]);
        say(&mut log, &mut a, &["GET", &ok[2]]);
        say(
            &mut log,
            &mut admin,
            &["ACL", "SETUSER", "alice", "-set", "resetchannels"],
        );
        say(&mut log, &mut a, &["EXEC"]);
        say(&mut log, &mut admin, &["ACL", "SETUSER", "alice", "+set"]);
        // Scripts: the commands a script calls are checked too.
        say(
            &mut log,
            &mut a,
            &["EVAL", "return redis.call('get', KEYS[1])", "1", &ok[2]],
        );
        say(
            &mut log,
            &mut a,
            &["EVAL", "return redis.pcall('get', KEYS[1])", "1", &no[2]],
        );
        say(
            &mut log,
            &mut a,
            &["EVAL", "return redis.pcall('get', ARGV[1])", "0", &no[2]],
        );
        say(
            &mut log,
            &mut a,
            &["EVAL", "return redis.pcall('incr', KEYS[1])", "1", &ok[2]],
        );
        say(
            &mut log,
            &mut a,
            &["EVAL", "return redis.pcall('publish', 'sport', 'x')", "0"],
        );
        // SORT's BY and GET patterns need access to every key.
        say(
            &mut log,
            &mut admin,
            &["ACL", "SETUSER", "alice", "+sort", "+lpush"],
        );
        say(&mut log, &mut a, &["LPUSH", &ok[0], "1"]);
        say(&mut log, &mut a, &["LPUSH", &ok[1], "1"]);
        say(&mut log, &mut a, &["SORT", &ok[1], "BY", "k*"]);
        say(
            &mut log,
            &mut a,
            &["SORT", &ok[1], "BY", "nosort", "GET", "#"],
        );
        say(
            &mut log,
            &mut a,
            &["SORT", &ok[1], "LIMIT", "0", "1", "BY", "nosort"],
        );
        say(&mut log, &mut a, &["SORT", &no[1], "BY", "k*"]);
        // Read and write key patterns, and selectors.
        let mut b = connect();
        say(&mut log, &mut b, &["AUTH", "bob", "anything"]);
        say(&mut log, &mut b, &["GET", "r1"]);
        say(&mut log, &mut b, &["SET", "r1", "v"]);
        say(&mut log, &mut b, &["SET", "w1", "v"]);
        say(&mut log, &mut b, &["GET", "w1"]);
        say(&mut log, &mut b, &["SET", "r1", "v", "GET"]);
        // Rules changed under an authenticated connection apply to its next command.
        say(&mut log, &mut admin, &["ACL", "SETUSER", "bob", "-get"]);
        say(&mut log, &mut b, &["GET", "r1"]);
        say(&mut log, &mut admin, &["ACL", "SETUSER", "bob", "off"]);
        say(&mut log, &mut b, &["SET", "w1", "v"]);
        let mut b2 = connect();
        say(&mut log, &mut b2, &["AUTH", "bob", "x"]);
        log.push(info_field(
            &mut admin,
            "errorstats",
            "errorstat_NOPERM",
            None,
        ));
        log.push(info_field(
            &mut admin,
            "commandstats",
            "cmdstat_get",
            Some("rejected_calls"),
        ));
        // ACL LOG: what was refused, without the parts that differ between servers.
        let entries = rustis_tests::reply_values(&admin.cmd(&["ACL", "LOG", "100"]));
        let mut kept = Vec::new();
        let mut skip = false;
        for v in entries {
            if !std::mem::take(&mut skip) {
                skip = v == "age-seconds" || v == "client-info";
                kept.push(v);
            }
        }
        log.push(kept.join(" "));
        for args in [
            &["ACL", "DRYRUN", "alice", "get", &ok[0]][..],
            &["ACL", "DRYRUN", "alice", "get", &no[0]],
            &["ACL", "DRYRUN", "alice", "incr", &ok[0]],
            &["ACL", "DRYRUN", "alice", "publish", "sport", "x"],
            &["ACL", "DRYRUN", "alice", "config", "get", "x"],
            &["ACL", "DRYRUN", "alice", "config", "set", "x", "y"],
            &["ACL", "DRYRUN", "alice", "get"],
            &["ACL", "DRYRUN", "alice", "nosuch"],
            &["ACL", "DRYRUN", "nobody", "get", "x"],
            &["ACL", "HELP"],
            &["ACL", "SAVE"],
            &["ACL", "LOAD"],
            &["ACL", "LOG", "RESET"],
            &["ACL", "LOG"],
            &["ACL", "NOSUCH"],
        ] {
            say(&mut log, &mut admin, args);
        }
        let pass = show(&admin.cmd(&["ACL", "GENPASS", "9"]));
        log.push(format!("GENPASS 9: {} chars", pass.len()));
        // acl-pubsub-default decides the channels of new users and selectors, and of `reset`.
        for args in [
            &["CONFIG", "SET", "acl-pubsub-default", "allchannels"][..],
            &["ACL", "SETUSER", "dave", "(+get)"],
            &["ACL", "GETUSER", "dave"],
            &["CONFIG", "SET", "acl-pubsub-default", "resetchannels"],
            &["ACL", "SETUSER", "dave", "reset"],
            &["ACL", "GETUSER", "dave"],
            &["CONFIG", "GET", "acl-pubsub-default"],
            &["CONFIG", "SET", "acl-pubsub-default", "some"],
            &["ACL", "DELUSER", "dave"],
        ] {
            say(&mut log, &mut admin, args);
        }
        // Revoking a channel closes the connections subscribed to it; keeping it does not.
        say(
            &mut log,
            &mut admin,
            &[
                "ACL",
                "SETUSER",
                "carol",
                "on",
                "nopass",
                "+subscribe",
                "+ping",
                "&news.*",
            ],
        );
        let mut sub = connect();
        say(&mut log, &mut sub, &["AUTH", "carol", "x"]);
        say(&mut log, &mut sub, &["SUBSCRIBE", "news.a"]);
        say(&mut log, &mut admin, &["ACL", "SETUSER", "carol", "&other"]);
        say(&mut log, &mut sub, &["PING"]);
        say(
            &mut log,
            &mut admin,
            &["ACL", "SETUSER", "carol", "resetchannels", "&other"],
        );
        log.push(format!("after revoking: {:?}", show(&sub.read_to_close())));
        say(&mut log, &mut admin, &["ACL", "DELUSER", "carol"]);
        // A connection deleting its own user gets its reply, then is closed.
        say(
            &mut log,
            &mut admin,
            &["ACL", "SETUSER", "eve", "on", "nopass", "+acl"],
        );
        let mut eve = connect();
        say(&mut log, &mut eve, &["AUTH", "eve", "x"]);
        say(&mut log, &mut eve, &["ACL", "DELUSER", "eve"]);
        log.push(format!(
            "after own DELUSER: {:?}",
            show(&eve.read_to_close())
        ));
        // Deleting a user closes its connections.
        say(&mut log, &mut admin, &["ACL", "DELUSER", "alice", "nobody"]);
        log.push(format!("after DELUSER: {:?}", show(&a.read_to_close())));
        say(&mut log, &mut admin, &["ACL", "USERS"]);
        // (ACL LIST names single commands in Redis's hash-table order: users with one each.)
        say(&mut log, &mut admin, &["ACL", "LIST"]);
        log
    });
}

#[test]
fn user_directives_create_users_at_startup() {
    for t in THREADS {
        let mut cfg = Config::default();
        cfg.load_str(
            "user alice on >pw ~k* +get +acl|whoami\nuser default on >adminpw ~* &* +@all\nrequirepass ignored\n",
        )
        .expect("user directives");
        let s = TestServer::start_opts(t, None, cfg);
        let mut c = s.raw();
        rustis_tests::check_all(
            &mut c,
            &[
                (&["GET", "k1"], b"-NOAUTH Authentication required.\r\n"),
                (&["AUTH", "alice", "pw"], b"+OK\r\n"),
                (&["ACL", "WHOAMI"], b"$5\r\nalice\r\n"),
                (&["GET", "k1"], b"$-1\r\n"),
                (
                    &["GET", "x1"],
                    b"-NOPERM this user has no permissions to access one of the keys used as arguments\r\n",
                ),
                (
                    &["SET", "k1", "v"],
                    b"-NOPERM this user has no permissions to run the 'set' command\r\n",
                ),
            ],
        );
        // `requirepass` is applied first; `user default` then resets the default user.
        let mut d = s.raw();
        assert_eq!(
            show(&d.cmd(&["AUTH", "ignored"])),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        assert_eq!(show(&d.cmd(&["AUTH", "adminpw"])), "+OK\r\n");
    }
    let mut cfg = Config::default();
    let e = cfg.load_str("port 0\nuser bob on +nosuch\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        Config::default()
            .load_str("user bob on +nosuch")
            .unwrap_err()
            .to_string()
            .replace("line 1", "line 2")
    );
    assert!(
        e.to_string().contains(
            "Error in user declaration '+nosuch': Unknown command or category name in ACL"
        ),
        "{e}"
    );
    let e = Config::default()
        .load_str("user bob on\nuser bob off\n")
        .unwrap_err();
    assert!(e.to_string().contains("Duplicate user found"), "{e}");
}

#[test]
fn aclfile_is_loaded_at_startup_and_by_acl_load_and_written_by_acl_save() {
    for t in THREADS {
        let dir = std::env::temp_dir().join(format!("rustis-aclfile-{}-{t}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("users.acl");
        let path = file.to_str().expect("UTF-8 path").to_string();
        std::fs::write(
            &file,
            "user alice on >pw ~* +@all\n\nuser default on nopass ~* &* +@all\n",
        )
        .expect("write");
        let mut cfg = Config::default();
        cfg.set("aclfile", &path, true).expect("aclfile");
        let s = TestServer::start_opts(t, None, cfg);
        let mut admin = s.raw();
        let mut a = s.raw();
        assert_eq!(show(&a.cmd(&["AUTH", "alice", "pw"])), "+OK\r\n");
        assert_eq!(
            show(&admin.cmd(&["CONFIG", "SET", "aclfile", "x"])),
            "-ERR CONFIG SET failed (possibly related to argument 'aclfile') - can't set immutable config\r\n"
        );
        assert_eq!(
            show(&admin.cmd(&["ACL", "SETUSER", "bob", "on", ">b", "+get", "~k*"])),
            "+OK\r\n"
        );
        assert_eq!(show(&admin.cmd(&["ACL", "SAVE"])), "+OK\r\n");
        assert_eq!(
            std::fs::read_to_string(&file).expect("saved"),
            "user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~* resetchannels +@all\n\
             user bob on #3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d ~k* resetchannels -@all +get\n\
             user default on nopass ~* &* +@all\n"
        );
        // A file with errors changes nothing.
        std::fs::write(&file, "user carol on +nosuch\nfoo\nuser carol on\n").expect("write");
        assert_eq!(
            show(&admin.cmd(&["ACL", "LOAD"])),
            format!("-ERR {path}:1: Error in applying operation '+nosuch': Unknown command or category name in ACL. {path}:2 should start with user keyword followed by the username. WARNING: Duplicate user 'carol' found on line 3. WARNING: ACL errors detected, no change to the previously active ACL rules was performed\r\n")
        );
        assert_eq!(
            show(&admin.cmd(&["ACL", "USERS"])),
            "*3\r\n$5\r\nalice\r\n$3\r\nbob\r\n$7\r\ndefault\r\n"
        );
        // A good file replaces every user; alice's connection is closed.
        std::fs::write(&file, "user carol on nopass +@all ~*\n").expect("write");
        assert_eq!(show(&admin.cmd(&["ACL", "LOAD"])), "+OK\r\n");
        assert_eq!(show(&a.read_to_close()), "");
        assert_eq!(
            show(&admin.cmd(&["ACL", "USERS"])),
            "*2\r\n$5\r\ncarol\r\n$7\r\ndefault\r\n"
        );
        drop(s);
        // Users in both the config file and an ACL file are refused at startup.
        let mut cfg = Config::default();
        cfg.set("aclfile", &path, true).expect("aclfile");
        cfg.load_str("user x on").expect("user");
        cfg.set("port", "0", true).expect("port");
        let e = rustis_runtime::start(rustis_runtime::ServerOptions {
            config: cfg,
            threads: t,
            ..Default::default()
        })
        .err()
        .expect("refused");
        assert!(e.to_string().starts_with("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid."), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
