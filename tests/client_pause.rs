//! CLIENT PAUSE and CLIENT UNPAUSE against redis-server 7.0.15, on 1 and 4 threads: the
//! replies (and errors) are the same bytes; a paused write waits, counted as a blocked client,
//! while reads go on, and runs once CLIENT UNPAUSE comes, also when the paused client is on
//! another thread than the one that paused; a pause ALL holds reads until it ends; a paused
//! client that disconnects or is killed is cleaned up and its command never runs; and while a
//! pause holds, expired keys are hidden but not deleted. Also ROLE, REPLICAOF, MODULE and
//! MIGRATE, which have nothing to do with pausing but are the same kind of server answer. The
//! test starts its own redis-server and fails if there is none on PATH.

use std::time::{Duration, Instant};

use rustis_tests::{show, spread, ManualClock, RawConn, Reference, TestServer, THREADS};

/// A connection that lives on the thread owning `key`: enough commands on that key move a
/// connection there (connection migration), and one already there stays.
fn conn_on(addr: std::net::SocketAddr, key: &str) -> RawConn {
    let mut c = RawConn::connect(addr);
    for _ in 0..3 {
        let mut batch = Vec::new();
        for _ in 0..40 {
            batch.extend_from_slice(&rustis_tests::encode(&[b"EXISTS", key.as_bytes()]));
        }
        c.send(&batch);
        for _ in 0..40 {
            assert_eq!(c.read_reply(), b":0\r\n");
        }
    }
    c
}

/// Polls INFO until `blocked_clients` is `n` (as Redis's own tests wait for it).
fn wait_blocked(c: &mut RawConn, n: usize) {
    let want = format!("blocked_clients:{n}\r\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info = show(&c.cmd(&["INFO", "clients"]));
        if info.contains(&want) {
            return;
        }
        assert!(Instant::now() < deadline, "never got {want:?}: {info}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The replies, in order, of the commands that need no waiting.
fn replies(c: &mut RawConn) -> Vec<String> {
    let cases: &[&[&str]] = &[
        &["CLIENT", "PAUSE"],
        &["CLIENT", "PAUSE", "abc"],
        &["CLIENT", "PAUSE", "-1"],
        &["CLIENT", "PAUSE", "10", "sometimes"],
        &["CLIENT", "PAUSE", "1", "WRITE", "extra"],
        &["CLIENT", "PAUSE", "0"],
        &["CLIENT", "PAUSE", "0", "all"],
        // The end overflows: Redis 7.0 takes it as already over.
        &["CLIENT", "PAUSE", "9223372036854775807"],
        &["CLIENT", "PAUSE", "100000", "write"],
        &["GET", "k"],
        &["CLIENT", "UNPAUSE"],
        &["CLIENT", "UNPAUSE"],
        &["CLIENT", "UNPAUSE", "now"],
        &["SET", "k", "v"],
        &["COMMAND", "INFO", "client|pause", "client|unpause"],
        &["COMMAND", "DOCS", "client|pause"],
        &["COMMAND", "DOCS", "client|unpause"],
        &["ROLE"],
        &["ROLE", "x"],
        &["REPLICAOF", "NO", "ONE"],
        &["SLAVEOF", "no", "one"],
        &["REPLICAOF", "no"],
        &["MODULE", "LIST"],
        &["MODULE", "HELP"],
        &["MODULE", "NOPE"],
        &["MODULE", "LOAD", "/nonexistent.so"],
        &["MODULE", "UNLOAD", "nothing"],
        // (A container's subcommands come in Redis's hash order: each is asked for.)
        &[
            "COMMAND",
            "INFO",
            "role",
            "replicaof",
            "slaveof",
            "module|list",
            "module|help",
        ],
        &[
            "COMMAND",
            "INFO",
            "module|load",
            "module|loadex",
            "module|unload",
        ],
        &["COMMAND", "DOCS", "role", "replicaof", "slaveof"],
        &[
            "COMMAND",
            "DOCS",
            "module|list",
            "module|load",
            "module|loadex",
            "module|unload",
        ],
        // MIGRATE with nothing to move, or refused before it would connect anywhere.
        &["MIGRATE", "127.0.0.1", "1", "nokey", "0", "5000"],
        &[
            "MIGRATE",
            "127.0.0.1",
            "1",
            "",
            "0",
            "5000",
            "COPY",
            "KEYS",
            "n1",
            "n2",
        ],
        &["MIGRATE", "127.0.0.1", "1", "", "0", "5000", "KEYS"],
        &["MIGRATE", "h", "1", "nokey", "0", "5000", "FOO"],
        &["MIGRATE", "h", "1", "nokey", "0", "5000", "AUTH"],
        &["MIGRATE", "h", "1", "nokey", "0", "5000", "AUTH2", "u"],
        &["MIGRATE", "h", "1", "k", "0", "5000", "KEYS", "a"],
        &["MIGRATE", "h", "1", "nokey", "x", "5000"],
        &["MIGRATE", "h", "1", "nokey", "0", "soon"],
        &["MIGRATE", "h", "1", "nokey", "0"],
    ];
    cases
        .iter()
        .map(|args| mask_summaries(&show(&c.cmd(args))))
        .collect()
}

/// COMMAND DOCS with each summary blanked: the summaries are ours, in our own words.
fn mask_summaries(reply: &str) -> String {
    let lines: Vec<&str> = reply.split("\r\n").collect();
    let mut out = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        out.push(lines[i]);
        if lines[i] == "summary" && i + 2 < lines.len() {
            out.push("$0");
            out.push("");
            i += 3;
            continue;
        }
        i += 1;
    }
    out.join("\r\n")
}

#[test]
fn client_pause_unpause_role_replicaof_and_module_reply_as_redis_server() {
    let reference = Reference::start();
    let want = replies(&mut reference.conn());
    for t in THREADS {
        let s = TestServer::start(t);
        let got = replies(&mut s.raw());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "threads {t}, case {i}");
        }
    }
}

#[test]
fn module_load_replicaof_a_host_and_migrate_are_refused_clearly() {
    let reference = Reference::start_with(None, &["--enable-module-command", "yes"]);
    let mut r = reference.conn();
    for t in THREADS {
        let mut cfg = rustis_runtime::Config::default();
        cfg.set("enable-module-command", "yes", true).unwrap();
        let s = TestServer::start_opts(t, None, cfg);
        let mut c = s.raw();
        assert_eq!(
            show(&c.cmd(&["MODULE", "UNLOAD", "nothing"])),
            show(&r.cmd(&["MODULE", "UNLOAD", "nothing"]))
        );
        assert_eq!(
            show(&c.cmd(&["MODULE", "LOAD", "/nonexistent.so"])),
            "-ERR MODULE LOAD is not supported: Rustis does not load modules\r\n"
        );
        assert_eq!(show(&c.cmd(&["MODULE", "LIST"])), "*0\r\n");
    }
    let s = TestServer::start(1);
    let mut c = s.raw();
    assert_eq!(
        show(&c.cmd(&["REPLICAOF", "127.0.0.1", "6379"])),
        "-ERR REPLICAOF <host> <port> is not supported: Rustis does not replicate yet\r\n"
    );
    // MIGRATE of a key that exists is refused.
    assert_eq!(show(&c.cmd(&["SET", "k", "v"])), "+OK\r\n");
    assert_eq!(
        show(&c.cmd(&["MIGRATE", "127.0.0.1", "6379", "k", "0", "1000"])),
        "-ERR MIGRATE is not supported yet: Rustis cannot move keys to another server\r\n"
    );
}

/// A write paused on another thread than the pausing client's waits, as a blocked client with
/// CLIENT LIST's `b` flag, while reads on its thread go on; CLIENT UNPAUSE lets it run.
/// Returns what was seen, to compare with redis-server's.
fn paused_write_scenario(addr: std::net::SocketAddr, keys: &[String]) -> Vec<String> {
    let mut seen = Vec::new();
    let mut pauser = conn_on(addr, &keys[0]);
    let mut writer = conn_on(addr, &keys[1]);
    let mut reader = conn_on(addr, &keys[1]);
    let id = show(&writer.cmd(&["CLIENT", "ID"]));
    let id = id.trim_start_matches(':').trim_end();
    seen.push(show(&pauser.cmd(&["CLIENT", "PAUSE", "100000", "WRITE"])));
    writer.send_cmd(&["SET", &keys[1], "written"]);
    wait_blocked(&mut pauser, 1);
    seen.push(show(&reader.cmd(&["GET", &keys[1]])));
    let list = show(&pauser.cmd(&["CLIENT", "LIST", "ID", id]));
    seen.push(format!("flags b: {}", list.contains(" flags=b ")));
    // A read-only transaction goes on; one that writes waits too.
    seen.push(show(&reader.cmd(&["MULTI"])));
    seen.push(show(&reader.cmd(&["GET", &keys[0]])));
    seen.push(show(&reader.cmd(&["EXEC"])));
    seen.push(show(&pauser.cmd(&["CLIENT", "UNPAUSE"])));
    seen.push(show(&writer.read_reply()));
    seen.push(show(&reader.cmd(&["GET", &keys[1]])));
    wait_blocked(&mut pauser, 0);
    seen
}

#[test]
fn a_paused_write_waits_on_any_thread_and_runs_after_unpause() {
    let reference = Reference::start();
    let keys = spread("pw", 2, 4);
    let want = paused_write_scenario(reference.addr(), &keys);
    assert_eq!(want[7], "+OK\r\n", "redis-server: {want:?}");
    for t in THREADS {
        let s = TestServer::start(t);
        let keys = spread("pw", 2, t);
        assert_eq!(paused_write_scenario(s.addr, &keys), want, "threads {t}");
    }
}

#[test]
fn pause_all_holds_reads_on_every_thread_until_it_ends() {
    for t in THREADS {
        let s = TestServer::start(t);
        let keys = spread("pa", 2, t);
        let mut pauser = conn_on(s.addr, &keys[0]);
        let mut reader = conn_on(s.addr, &keys[1]);
        let started = Instant::now();
        assert_eq!(
            show(&pauser.cmd(&["CLIENT", "PAUSE", "300", "ALL"])),
            "+OK\r\n"
        );
        // Every command waits, CLIENT UNPAUSE included, as in Redis 7.0.
        assert_eq!(show(&reader.cmd(&["GET", &keys[1]])), "$-1\r\n");
        assert!(
            started.elapsed() >= Duration::from_millis(290),
            "threads {t}"
        );
        assert_eq!(show(&pauser.cmd(&["CLIENT", "UNPAUSE"])), "+OK\r\n");
    }
}

#[test]
fn a_paused_client_that_disconnects_or_is_killed_is_cleaned_up() {
    for t in THREADS {
        let s = TestServer::start(t);
        let keys = spread("pk", 2, t);
        let addr = s.addr;
        let mut pauser = conn_on(addr, &keys[0]);
        assert_eq!(
            show(&pauser.cmd(&["CLIENT", "PAUSE", "100000", "WRITE"])),
            "+OK\r\n"
        );
        let mut gone = conn_on(addr, &keys[1]);
        gone.send_cmd(&["SET", "gone", "1"]);
        let mut killed = conn_on(addr, &keys[1]);
        let id = show(&killed.cmd(&["CLIENT", "ID"]));
        let id = id.trim_start_matches(':').trim_end().to_string();
        killed.send_cmd(&["SET", "killed", "1"]);
        wait_blocked(&mut pauser, 2);
        drop(gone);
        wait_blocked(&mut pauser, 1);
        assert_eq!(show(&pauser.cmd(&["CLIENT", "KILL", "ID", &id])), ":1\r\n");
        assert_eq!(killed.read_to_close(), b"");
        wait_blocked(&mut pauser, 0);
        assert_eq!(show(&pauser.cmd(&["CLIENT", "UNPAUSE"])), "+OK\r\n");
        assert_eq!(show(&pauser.cmd(&["EXISTS", "gone", "killed"])), ":0\r\n");
    }
}

#[test]
fn a_pause_keeps_expired_keys_until_it_ends() {
    for t in THREADS {
        let clock = ManualClock::new(1_000_000);
        let s = TestServer::start_with_clock(t, clock.clone());
        let mut c = s.raw();
        let stats = || -> String {
            let info = show(&s.raw().cmd(&["INFO", "stats"]));
            let line = info.lines().find(|l| l.starts_with("expired_keys:"));
            line.unwrap_or_default().to_string()
        };
        assert_eq!(show(&c.cmd(&["SET", "a", "1", "PX", "100"])), "+OK\r\n");
        assert_eq!(show(&c.cmd(&["SET", "b", "2", "PX", "100"])), "+OK\r\n");
        assert_eq!(
            show(&c.cmd(&["CLIENT", "PAUSE", "100000", "WRITE"])),
            "+OK\r\n"
        );
        clock.advance(1000);
        assert_eq!(show(&c.cmd(&["GET", "a"])), "$-1\r\n");
        assert_eq!(show(&c.cmd(&["EXISTS", "a", "b"])), ":0\r\n");
        assert_eq!(show(&c.cmd(&["DBSIZE"])), ":2\r\n");
        assert_eq!(stats(), "expired_keys:0");
        assert_eq!(show(&c.cmd(&["CLIENT", "UNPAUSE"])), "+OK\r\n");
        assert_eq!(show(&c.cmd(&["GET", "a"])), "$-1\r\n");
        assert_eq!(show(&c.cmd(&["GET", "b"])), "$-1\r\n");
        assert_eq!(stats(), "expired_keys:2");
        assert_eq!(show(&c.cmd(&["DBSIZE"])), ":0\r\n");
    }
}

/// The MONITOR lines of `cmds`, without their time and client address.
fn monitored(addr: std::net::SocketAddr, cmds: &[&[&str]]) -> Vec<String> {
    let mut monitor = RawConn::connect(addr);
    assert_eq!(show(&monitor.cmd(&["MONITOR"])), "+OK\r\n");
    let mut c = RawConn::connect(addr);
    for args in cmds {
        c.cmd(args);
    }
    cmds.iter()
        .map(|_| {
            let line = show(&monitor.read_reply());
            line.split_once("] ")
                .map_or(line.clone(), |(_, rest)| rest.to_string())
        })
        .collect()
}

#[test]
fn migrate_passwords_are_redacted_for_monitor_as_redis_server_does() {
    let cmds: &[&[&str]] = &[
        &["MIGRATE", "127.0.0.1", "1", "nokey", "0", "5000"],
        &[
            "MIGRATE",
            "127.0.0.1",
            "1",
            "nokey",
            "0",
            "5000",
            "AUTH",
            "pw",
        ],
        &[
            "MIGRATE",
            "127.0.0.1",
            "1",
            "nokey",
            "0",
            "5000",
            "COPY",
            "AUTH2",
            "u",
            "pw",
        ],
        &[
            "MIGRATE",
            "127.0.0.1",
            "1",
            "",
            "0",
            "5000",
            "AUTH",
            "pw",
            "KEYS",
            "a",
            "b",
        ],
    ];
    let reference = Reference::start();
    let want = monitored(reference.addr(), cmds);
    assert!(want[1].contains("\"(redacted)\""), "{want:?}");
    for t in THREADS {
        let s = TestServer::start(t);
        assert_eq!(monitored(s.addr, cmds), want, "threads {t}");
    }
}
