//! Starting the `rustis` binary the way Redis's own test suite starts redis-server: from a
//! config file (its tests/assets/default.conf directives), with the log lines the suite waits
//! for (` PID: <pid>`, `Ready to accept connections`, and on a port clash `Failed listening on
//! port`), a pid file written and removed, `logfile`, and shutdown on SIGTERM as
//! `shutdown-on-sigterm` says.

mod common;
use common::TempDir;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rustis");

/// A child killed on drop, in case a test fails before it exits.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Polls `path` until it contains `what` (or 20 s pass).
fn wait_for(path: &Path, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(what) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "no {what:?} in {path:?}:\n{text}"
        );
        std::thread::yield_now();
    }
}

/// Redis's tests/assets/default.conf, with this test's port, dir and pid file.
fn default_conf(dir: &Path, port: u16) -> String {
    format!(
        "# Redis configuration for testing.

always-show-logo yes
notify-keyspace-events KEA
daemonize no
pidfile {pid}
port {port}
timeout 0
bind 127.0.0.1
loglevel verbose
logfile ''
databases 16
latency-monitor-threshold 1
repl-diskless-sync-delay 0

# Note the infrastructure in server.tcl uses a dict, we can't provide several save directives
save 900 1

rdbcompression yes
dbfilename dump.rdb
dir {dir}

slave-serve-stale-data yes
appendonly no
appendfsync everysec
no-appendfsync-on-rewrite no
activerehashing yes

enable-protected-configs yes
enable-debug-command yes
enable-module-command yes

propagation-error-behavior panic",
        pid = dir.join("redis.pid").display(),
        dir = dir.display(),
    )
}

fn ping(port: u16) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap();
    buf[..n].to_vec()
}

fn start(dir: &Path, args: &[&str], stdout: &Path) -> Server {
    let out = std::fs::File::create(stdout).expect("stdout file");
    let child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn rustis");
    Server(child)
}

fn sigterm(pid: u32) {
    // SAFETY: sends a signal to a process this test started.
    unsafe {
        libc::kill(pid as i32, libc::SIGTERM);
    }
}

fn wait_exit(s: &mut Server) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(st) = s.0.try_wait().expect("wait") {
            return st;
        }
        assert!(Instant::now() < deadline, "rustis did not exit");
        std::thread::yield_now();
    }
}

#[test]
fn starts_from_redis_test_suites_default_conf_and_stops_on_sigterm_saving() {
    let dir = TempDir::new("default");
    let port = free_port();
    let conf = dir.0.join("redis.conf");
    std::fs::write(&conf, default_conf(&dir.0, port)).unwrap();
    let stdout = dir.0.join("stdout");
    let mut s = start(&dir.0, &[conf.to_str().unwrap(), "--threads", "2"], &stdout);
    let pid = s.0.id();
    let log = wait_for(&stdout, "Ready to accept connections");
    assert!(log.contains(&format!(" PID: {pid}\n")), "{log}");
    assert!(log.contains(&format!("Port: {port}\n")), "{log}");
    // Redis's line format: `<pid>:M <day> <mon> <year> <time> <level mark> <message>`.
    let ready = log
        .lines()
        .find(|l| l.ends_with("Ready to accept connections"))
        .unwrap();
    assert!(ready.starts_with(&format!("{pid}:M ")), "{ready}");
    assert!(ready.contains(" * Ready"), "{ready}");
    let pidfile = dir.0.join("redis.pid");
    assert_eq!(
        std::fs::read_to_string(&pidfile).unwrap(),
        format!("{pid}\n")
    );
    assert_eq!(ping(port), b"+PONG\r\n");
    sigterm(pid);
    let st = wait_exit(&mut s);
    assert!(st.success(), "{st:?}");
    let log = std::fs::read_to_string(&stdout).unwrap();
    assert!(
        log.contains("Received SIGTERM scheduling shutdown..."),
        "{log}"
    );
    // `save 900 1` is set, so the default SIGTERM behaviour saves, as Redis's does.
    assert!(log.contains("DB saved on disk"), "{log}");
    assert!(dir.0.join("dump.rdb").exists());
    assert!(!pidfile.exists(), "the pid file is removed at exit");
}

#[test]
fn a_port_in_use_is_reported_with_redis_servers_lines() {
    // The default bind is Redis's `* -::*`: every IPv4 address (which a listener on 127.0.0.1
    // blocks), named `*` as redis-server names it.
    let dir = TempDir::new("busy");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let stdout = dir.0.join("stdout");
    let mut s = start(
        &dir.0,
        &["--port", &port.to_string(), "--save", ""],
        &stdout,
    );
    let st = wait_exit(&mut s);
    assert_eq!(st.code(), Some(1));
    let log = std::fs::read_to_string(&stdout).unwrap();
    assert!(
        log.contains(&format!(
            "Warning: Could not create server TCP listening socket *:{port}: bind: Address already in use"
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!("Failed listening on port {port} (TCP), aborting.")),
        "{log}"
    );
}

#[test]
fn a_second_server_on_the_port_of_a_running_one_is_refused() {
    let dir = TempDir::new("twice");
    let port = free_port();
    let (out1, out2) = (dir.0.join("stdout1"), dir.0.join("stdout2"));
    let args = [
        "--port",
        &port.to_string(),
        "--save",
        "",
        "--always-show-logo",
        "yes",
    ];
    let _first = start(&dir.0, &args, &out1);
    wait_for(&out1, "Ready to accept connections");
    let mut second = start(&dir.0, &args, &out2);
    assert_eq!(wait_exit(&mut second).code(), Some(1));
    let log = std::fs::read_to_string(&out2).unwrap();
    assert!(log.contains("Address already in use"), "{log}");
}

#[test]
fn logfile_and_loglevel_and_shutdown_on_sigterm_nosave() {
    let dir = TempDir::new("logfile");
    let port = free_port();
    let logfile = dir.0.join("rustis.log");
    let stdout = dir.0.join("stdout");
    let mut s = start(
        &dir.0,
        &[
            "--port",
            &port.to_string(),
            "--logfile",
            logfile.to_str().unwrap(),
            "--loglevel",
            "warning",
            "--save",
            "900 1",
            "--shutdown-on-sigterm",
            "nosave",
        ],
        &stdout,
    );
    // At `warning`, notice lines (the Ready line) are not written: poll for the server itself.
    wait_for(&logfile, "Server initialized");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "no server");
        std::thread::yield_now();
    }
    sigterm(s.0.id());
    assert!(wait_exit(&mut s).success());
    let log = std::fs::read_to_string(&logfile).unwrap();
    assert!(log.contains("Received SIGTERM"), "{log}");
    assert!(
        !log.contains("Ready to accept"),
        "notice lines are filtered: {log}"
    );
    assert!(!dir.0.join("dump.rdb").exists(), "nosave: no snapshot");
    assert_eq!(
        std::fs::read_to_string(&stdout).unwrap(),
        "",
        "nothing on stdout"
    );
}

#[test]
fn a_refused_directive_in_the_file_stops_startup_naming_the_line() {
    let dir = TempDir::new("refused");
    let conf = dir.0.join("redis.conf");
    std::fs::write(
        &conf,
        "port 0\nenable-debug-command yes\nreplicaof 127.0.0.1 6380\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .arg(&conf)
        .current_dir(&dir.0)
        .output()
        .expect("run rustis");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Reading the configuration file, at line 3\n>>> 'replicaof 127.0.0.1 6380'\n'replicaof' is not supported yet"),
        "{err}"
    );
}

#[test]
fn daemonize_detaches_writes_the_pid_file_and_logs_to_the_logfile() {
    let dir = TempDir::new("daemon");
    let port = free_port();
    let pidfile = dir.0.join("d.pid");
    let logfile = dir.0.join("d.log");
    let out = Command::new(BIN)
        .args([
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--daemonize",
            "yes",
            "--pidfile",
            pidfile.to_str().unwrap(),
            "--logfile",
            logfile.to_str().unwrap(),
        ])
        .current_dir(&dir.0)
        .output()
        .expect("run rustis");
    // The process started returns at once; the daemon goes on.
    assert!(out.status.success());
    let log = wait_for(&logfile, "Ready to accept connections");
    let text = wait_for(&pidfile, "\n");
    let pid: u32 = text.trim().parse().expect("a pid");
    assert!(log.contains(&format!("pid={pid},")), "{log}");
    assert_eq!(ping(port), b"+PONG\r\n");
    sigterm(pid);
    let deadline = Instant::now() + Duration::from_secs(20);
    while pidfile.exists() {
        assert!(Instant::now() < deadline, "the daemon did not stop");
        std::thread::yield_now();
    }
    wait_for(&logfile, "ready to exit, bye bye");
}

/// Arguments after the config file as redis-server takes them: a bare word before any
/// `--name` starts the appended line, and `--name value` in one argument goes in as written
/// (its quotes are the config file's), as Redis's suite checks ("wrong usage that we support
/// anyway").
#[test]
fn arguments_after_the_config_file_are_read_as_redis_server_reads_them() {
    let dir = TempDir::new("args");
    let port = free_port();
    let conf = dir.0.join("redis.conf");
    std::fs::write(&conf, format!("port {port}\nsave \"\"\n")).unwrap();
    let stdout = dir.0.join("stdout");
    let mut s = start(
        &dir.0,
        &[
            conf.to_str().unwrap(),
            "loglevel",
            "verbose",
            "--maxmemory '700mb'",
            "--maxmemory-policy 'volatile-lru'",
        ],
        &stdout,
    );
    wait_for(&stdout, "Ready to accept connections");
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    c.write_all(b"CONFIG GET loglevel\r\nCONFIG GET maxmemory\r\nCONFIG GET maxmemory-policy\r\n")
        .unwrap();
    let want: &[u8] = b"*2\r\n$8\r\nloglevel\r\n$7\r\nverbose\r\n*2\r\n$9\r\nmaxmemory\r\n$9\r\n734003200\r\n*2\r\n$16\r\nmaxmemory-policy\r\n$12\r\nvolatile-lru\r\n";
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while got.len() < want.len() {
        let n = c.read(&mut buf).expect("read");
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want));
    drop(c);
    sigterm(s.0.id());
    assert!(wait_exit(&mut s).success());
}
