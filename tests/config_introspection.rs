//! The settings Redis's Tcl `unit/introspection` touches, compared with redis-server 7.0.15 byte
//! for byte: CONFIG SET of `port` and `bind` (listened on before the reply; a port in use
//! changes nothing), the checks Redis makes of `maxmemory-clients`, `replicaof`,
//! `proc-title-template` and `oom-score-adj-values`, the hidden `key-load-delay`, and
//! `repl-backlog-size`.

use rustis_tests::{RawConn, Reference, TestServer};

const THREADS: [usize; 2] = [1, 4];

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// The same commands on both servers give the same bytes.
fn same(ours: &mut RawConn, theirs: &mut RawConn, cmd: &[&str]) {
    let (a, b) = (ours.cmd(cmd), theirs.cmd(cmd));
    assert_eq!(
        String::from_utf8_lossy(&a),
        String::from_utf8_lossy(&b),
        "{cmd:?}"
    );
}

#[test]
fn config_checks_and_errors_match_redis() {
    let reference = Reference::start();
    for threads in THREADS {
        let server = TestServer::start(threads);
        let (mut ours, mut theirs) = (server.raw(), reference.conn());
        for cmd in [
            // Rolled back on the first bad one, with its error.
            &[
                "CONFIG",
                "SET",
                "maxmemory",
                "10000001",
                "maxmemory-clients",
                "200%",
                "client-query-buffer-limit",
                "invalid",
            ][..],
            &["CONFIG", "GET", "maxmemory"],
            &["CONFIG", "GET", "maxmemory-clients"],
            &["CONFIG", "SET", "maxmemory-clients", "x"],
            &["CONFIG", "SET", "maxmemory-clients", "0"],
            &["CONFIG", "GET", "replicaof"],
            &["CONFIG", "GET", "slaveof"],
            &["CONFIG", "SET", "replicaof", "127.0.0.1 abc"],
            &["CONFIG", "GET", "key-load-delay"],
            &["CONFIG", "GET", "key-load-*"],
            &["CONFIG", "SET", "repl-backlog-size", "10000002"],
            &["CONFIG", "GET", "repl-backlog-size"],
            &["CONFIG", "SET", "proc-title-template", "{invalid-var}"],
            &["CONFIG", "SET", "proc-title-template", "{title"],
            &["CONFIG", "SET", "proc-title-template", "{server-mode}"],
            &["CONFIG", "SET", "oom-score-adj-values", "1 2"],
            &["CONFIG", "SET", "oom-score-adj-values", "1 2 x"],
            &["CONFIG", "SET", "oom-score-adj-values", "1 2 3000"],
            &["CONFIG", "GET", "oom-score-adj"],
            &["CONFIG", "GET", "oom-score-adj-values"],
            &["CONFIG", "SET", "oom-score-adj", "maybe"],
            &["CONFIG", "GET", "set-proc-title"],
            &["CONFIG", "SET", "set-proc-title", "no"],
            &["CONFIG", "SET", "bind", "127.0.0.1"],
            &["CONFIG", "GET", "bind"],
        ] {
            same(&mut ours, &mut theirs, cmd);
        }
    }
}

#[test]
fn config_set_port_listens_before_answering_and_a_busy_port_changes_nothing() {
    let reference = Reference::start();
    for threads in THREADS {
        let server = TestServer::start(threads);
        let (mut ours, mut theirs) = (server.raw(), reference.conn());
        let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let busy_port = busy.local_addr().expect("addr").port().to_string();
        same(
            &mut ours,
            &mut theirs,
            &["CONFIG", "SET", "maxmemory", "10000001", "port", &busy_port],
        );
        same(&mut ours, &mut theirs, &["CONFIG", "GET", "maxmemory"]);
        let port = free_port();
        assert_eq!(
            ours.cmd(&["CONFIG", "SET", "port", &port.to_string()]),
            b"+OK\r\n"
        );
        // The new port answers on every thread's listener, and the connection that moved it
        // stays.
        for _ in 0..threads * 2 {
            let mut c = RawConn::connect(format!("127.0.0.1:{port}").parse().expect("addr"));
            assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
        }
        assert_eq!(
            ours.cmd(&["CONFIG", "GET", "port"]),
            format!(
                "*2\r\n$4\r\nport\r\n${}\r\n{port}\r\n",
                port.to_string().len()
            )
            .as_bytes()
        );
        assert_eq!(ours.cmd(&["PING"]), b"+PONG\r\n");
    }
}

#[test]
fn config_get_lists_replicaof_and_maxmemory_clients_but_not_hidden_ones() {
    let reference = Reference::start();
    let server = TestServer::start(1);
    let (mut ours, mut theirs) = (server.raw(), reference.conn());
    // The bulk strings of a flat reply, empty ones included; every other one is a name.
    let names = |reply: Vec<u8>| -> Vec<String> {
        let text = String::from_utf8_lossy(&reply).to_string();
        let lines: Vec<&str> = text.split("\r\n").collect();
        let bulks: Vec<String> = lines
            .windows(2)
            .filter(|w| w[0].starts_with('$'))
            .map(|w| w[1].to_string())
            .collect();
        let mut names: Vec<String> = bulks.chunks(2).map(|p| p[0].clone()).collect();
        names.sort();
        names
    };
    let cmd = ["CONFIG", "GET", "maxmemory", "maxmemory-c*", "*of"];
    assert_eq!(names(ours.cmd(&cmd)), names(theirs.cmd(&cmd)));
    let all = names(ours.cmd(&["CONFIG", "GET", "*"]));
    assert!(!all.contains(&"key-load-delay".to_string()));
    assert!(all.contains(&"proc-title-template".to_string()));
}
