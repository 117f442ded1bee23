//! Nothing pretends: settings that would promise a feature Rustis lacks are refused by CONFIG
//! SET and at startup, protected mode refuses non-loopback peers, and a data file that cannot
//! be loaded stops startup. docs/config.md is the user-facing list.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use rustis_runtime::{Config, ConfigError, ServerOptions, StartError};
use rustis_tests::{check, cmd_text, show, TempDir, TestServer, THREADS};
use socket2::{Domain, Socket, Type};

/// `(parameter, a value it refuses, why)`, the reason exactly as the error gives it.
const REFUSED: &[(&str, &str, &str)] = &[
    (
        "crash-memcheck-enabled",
        "yes",
        "there is no memory test on a crash: Rustis writes no crash report",
    ),
    (
        "maxmemory-clients",
        "10mb",
        "the memory of all clients together is not limited yet (each client's output is, by client-output-buffer-limit)",
    ),
    (
        "notify-keyspace-events",
        "KEm",
        "key-miss events (class m) are not delivered yet",
    ),
    ("masterauth", "pw", "replication is not implemented yet"),
    ("masteruser", "repl", "replication is not implemented yet"),
    (
        "tls-dh-params-file",
        "redis.dh",
        "rustls negotiates only ECDHE key exchange, so DH parameters would not be used",
    ),
    (
        "tls-key-file-pass",
        "secret",
        "encrypted private keys are not supported: give tls-key-file a decrypted key",
    ),
    (
        "tls-replication",
        "yes",
        "replication is not implemented yet",
    ),
    (
        "tls-client-cert-file",
        "client.crt",
        "there are no outgoing TLS connections (replication and cluster are not implemented yet)",
    ),
];

/// Immutable parameters with a refused value: startup refuses them (CONFIG SET says
/// "can't set immutable config" for them, as Redis does).
const REFUSED_AT_STARTUP_ONLY: &[(&str, &str, &str)] = &[
    (
        "replicaof",
        "127.0.0.1 6379",
        "replication is not implemented yet",
    ),
    (
        "slaveof",
        "127.0.0.1 6379",
        "replication is not implemented yet",
    ),
    (
        "cluster-enabled",
        "yes",
        "cluster mode is not implemented yet",
    ),
    (
        "loadmodule",
        "/usr/lib/redis/x.so",
        "modules are not supported",
    ),
    (
        "include",
        "/etc/redis/other.conf",
        "config files cannot include other files yet",
    ),
    (
        "unixsocket",
        "/tmp/redis.sock",
        "Unix sockets are not implemented yet",
    ),
];

fn unsupported(name: &str, why: &str) -> String {
    format!("'{name}' is not supported yet: {why} (see docs/config.md)")
}

#[test]
fn config_set_refuses_each_unenforced_setting_by_name_and_changes_nothing() {
    for t in THREADS {
        let s = TestServer::start(t);
        let mut c = s.raw();
        for (name, value, why) in REFUSED {
            let want = format!(
                "-ERR CONFIG SET failed (possibly related to argument '{name}') - {}\r\n",
                unsupported(name, why)
            );
            check(&mut c, &["CONFIG", "SET", name, value], want.as_bytes());
            // Whatever the letter case of the name, the error names the parameter.
            let upper = name.to_ascii_uppercase();
            check(&mut c, &["CONFIG", "SET", &upper, value], want.as_bytes());
        }
        // A multi-parameter CONFIG SET with one refused value sets none of them.
        check(
            &mut c,
            &["CONFIG", "SET", "hz", "20", "crash-memcheck-enabled", "yes"],
            format!(
                "-ERR CONFIG SET failed (possibly related to argument 'crash-memcheck-enabled') - {}\r\n",
                unsupported(
                    "crash-memcheck-enabled",
                    "there is no memory test on a crash: Rustis writes no crash report"
                )
            )
            .as_bytes(),
        );
        check(
            &mut c,
            &["CONFIG", "GET", "hz"],
            b"*2\r\n$2\r\nhz\r\n$2\r\n10\r\n",
        );
        // CONFIG GET claims nothing that is not done.
        check(
            &mut c,
            &["CONFIG", "GET", "save"],
            b"*2\r\n$4\r\nsave\r\n$0\r\n\r\n",
        );
        // Save points are enforced now: accepted, normalized, and malformed ones refused.
        check(
            &mut c,
            &["CONFIG", "SET", "save", "3600 1 300 100"],
            b"+OK\r\n",
        );
        check(
            &mut c,
            &["CONFIG", "GET", "save"],
            b"*2\r\n$4\r\nsave\r\n$14\r\n3600 1 300 100\r\n",
        );
        // Where snapshots go is protected from CONFIG SET, as in Redis 7.0.
        for name in ["dir", "dbfilename"] {
            check(
                &mut c,
                &["CONFIG", "SET", name, "x"],
                format!("-ERR CONFIG SET failed (possibly related to argument '{name}') - can't set protected config\r\n").as_bytes(),
            );
        }
        check(
            &mut c,
            &["CONFIG", "SET", "save", "3600"],
            b"-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters\r\n",
        );
        check(
            &mut c,
            &["CONFIG", "GET", "appendonly"],
            b"*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n",
        );
        check(
            &mut c,
            &["CONFIG", "GET", "requirepass"],
            b"*2\r\n$11\r\nrequirepass\r\n$0\r\n\r\n",
        );
        check(&mut c, &["CONFIG", "GET", "masterauth"], b"*0\r\n");
        // The values that promise nothing are accepted.
        for (name, value) in [
            ("save", ""),
            ("appendonly", "no"),
            ("maxmemory", "0"),
            ("maxmemory-policy", "noeviction"),
            ("timeout", "0"),
            ("requirepass", ""),
            ("notify-keyspace-events", ""),
        ] {
            check(&mut c, &["CONFIG", "SET", name, value], b"+OK\r\n");
        }
        check(&mut c, &["CONFIG", "SET", "daemonize", "yes"], b"-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config\r\n");
    }
}

#[test]
fn startup_refuses_each_unenforced_setting_from_the_command_line_and_the_config_file() {
    for (name, value, why) in REFUSED.iter().chain(REFUSED_AT_STARTUP_ONLY) {
        // The command line sets parameters as `Config::set(name, value, true)`.
        let mut c = Config::default();
        let e = c.set(name, value, true).unwrap_err();
        assert_eq!(e, ConfigError::Unsupported(name.to_string(), leak(why)));
        assert_eq!(e.to_string(), unsupported(name, why));
        // A config file line: the error names the line and the directive.
        let mut c = Config::default();
        let line = format!("{name} {value}");
        let e = c.load_str(&format!("port 7000\n{line}\n")).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> '{line}'\n{}",
                unsupported(name, why)
            )
        );
    }
}

#[test]
fn enable_protected_configs_lets_config_set_change_dir_as_in_redis() {
    for t in THREADS {
        for setting in ["yes", "local"] {
            let mut cfg = Config::default();
            cfg.set("enable-protected-configs", setting, true).unwrap();
            let s = TestServer::start_opts(t, None, cfg);
            let mut c = s.raw();
            let dir = std::env::temp_dir().to_string_lossy().into_owned();
            check(
                &mut c,
                &["CONFIG", "SET", "dbfilename", "other.rdb"],
                b"+OK\r\n",
            );
            check(&mut c, &["CONFIG", "SET", "dir", &dir], b"+OK\r\n");
            check(
                &mut c,
                &["CONFIG", "GET", "dbfilename"],
                b"*2\r\n$10\r\ndbfilename\r\n$9\r\nother.rdb\r\n",
            );
            check(
                &mut c,
                &["CONFIG", "SET", "enable-protected-configs", "no"],
                b"-ERR CONFIG SET failed (possibly related to argument 'enable-protected-configs') - can't set immutable config\r\n",
            );
        }
    }
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// Connects to `server` from `source` (a loopback address other than 127.0.0.1 makes the
/// client remote to protected mode while staying on this machine).
fn connect_from(source: &str, server: SocketAddr) -> TcpStream {
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    let from: SocketAddr = format!("{source}:0").parse().expect("address");
    sock.bind(&from.into())
        .expect("bind the client's source address");
    sock.connect(&server.into()).expect("connect");
    let stream: TcpStream = sock.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    stream
}

fn read_until_closed(mut s: TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    s.read_to_end(&mut all)
        .expect("read until the server closes");
    all
}

const DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

fn stat(c: &mut rustis_tests::RawConn, field: &str) -> String {
    let info = cmd_text(c, &["INFO", "stats"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in {info}"))
        .to_string()
}

#[test]
fn protected_mode_denies_peers_other_than_127_0_0_1_until_turned_off() {
    for t in THREADS {
        let s = TestServer::start(t);
        let mut local = s.raw();
        check(&mut local, &["PING"], b"+PONG\r\n");
        let received = stat(&mut local, "total_connections_received");
        // 127.0.0.2 is loopback, but Redis (and Rustis) let in exactly 127.0.0.1 and ::1.
        let remote = connect_from("127.0.0.2", s.addr);
        assert_eq!(show(&read_until_closed(remote)), DENIED, "threads={t}");
        assert_eq!(stat(&mut local, "rejected_connections"), "1");
        assert_eq!(stat(&mut local, "total_connections_received"), received);
        check(
            &mut local,
            &["CONFIG", "GET", "protected-mode"],
            b"*2\r\n$14\r\nprotected-mode\r\n$3\r\nyes\r\n",
        );
        check(
            &mut local,
            &["CONFIG", "SET", "protected-mode", "no"],
            b"+OK\r\n",
        );
        let remote = connect_from("127.0.0.2", s.addr);
        let mut remote = rustis_tests::RawConn::from_stream(remote);
        check(&mut remote, &["PING"], b"+PONG\r\n");
        check(
            &mut local,
            &["CONFIG", "SET", "protected-mode", "yes"],
            b"+OK\r\n",
        );
        // A connection already in is kept; new ones are refused again.
        check(&mut remote, &["PING"], b"+PONG\r\n");
        let again = connect_from("127.0.0.2", s.addr);
        assert_eq!(show(&read_until_closed(again)), DENIED);
    }
}

#[test]
fn protected_mode_no_at_startup_lets_other_addresses_in() {
    for t in THREADS {
        let mut cfg = Config::default();
        cfg.set("protected-mode", "no", true)
            .expect("protected-mode");
        let s = TestServer::start_opts(t, None, cfg);
        let remote = connect_from("127.0.0.2", s.addr);
        let mut remote = rustis_tests::RawConn::from_stream(remote);
        check(&mut remote, &["SET", "k", "v"], b"+OK\r\n");
        check(&mut remote, &["GET", "k"], b"$1\r\nv\r\n");
    }
}

fn start_in(dir: &std::path::Path, dbfilename: Option<&str>) -> Result<(), StartError> {
    let mut config = Config::default();
    config.set("port", "0", true).expect("port");
    config.set("bind", "127.0.0.1", true).expect("bind");
    config
        .set("dir", dir.to_str().expect("UTF-8 path"), true)
        .expect("dir");
    if let Some(f) = dbfilename {
        config.set("dbfilename", f, true).expect("dbfilename");
    }
    let handle = rustis_runtime::start(ServerOptions {
        config,
        threads: 1,
        ..Default::default()
    })?;
    handle.shutdown();
    handle.wait();
    Ok(())
}

#[test]
fn a_data_file_that_cannot_be_loaded_stops_startup_naming_it() {
    let dir = TempDir::new("datafile");
    // No data file: the server starts.
    start_in(&dir.0, None).expect("starts without a data file");
    // A truncated RDB file at dir/dbfilename.
    let rdb = dir.0.join("dump.rdb");
    std::fs::write(&rdb, b"REDIS0010").expect("write dump.rdb");
    let e = start_in(&dir.0, None).expect_err("refuses to start over a truncated dump.rdb");
    assert!(matches!(&e, StartError::Load(p, _) if *p == rdb), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "could not load {}: unexpected end of data at offset 9; refusing to start without its data (see docs/persistence.md)",
            rdb.display()
        )
    );
    // Another dbfilename is looked for instead.
    start_in(&dir.0, Some("other.rdb")).expect("dump.rdb is not the configured file");
    std::fs::write(dir.0.join("other.rdb"), b"REDIS0010").expect("write other.rdb");
    let e = start_in(&dir.0, Some("other.rdb")).expect_err("refuses other.rdb");
    assert!(matches!(&e, StartError::Load(p, _) if p.ends_with("other.rdb")));
    std::fs::remove_file(&rdb).expect("remove dump.rdb");
    std::fs::remove_file(dir.0.join("other.rdb")).expect("remove other.rdb");
    // Redis 7's AOF (a manifest in dir/appendonlydir) is loaded only with appendonly yes, as
    // Redis does; with appendonly no the RDB file is the data (see tests/aof.rs).
    let aof = dir.0.join("appendonlydir");
    std::fs::create_dir_all(&aof).expect("appendonlydir");
    let manifest = aof.join("appendonly.aof.manifest");
    std::fs::write(&manifest, b"file appendonly.aof.1.base.rdb seq 1 type b\n").expect("manifest");
    start_in(&dir.0, None).expect("appendonly no ignores the AOF");
}
