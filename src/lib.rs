//! The harness of the over-TCP integration tests in `tests/`: starts a real Rustis server
//! in-process on a free loopback port and talks to it with the `redis` crate or raw bytes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustis_runtime::{Config, ServerHandle, ServerOptions};
pub use rustis_storage::ManualClock;

/// A server for one test; it stops when dropped.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The clock it reads (a wall clock unless started with [`TestServer::start_with_clock`]).
    pub clock: Option<ManualClock>,
    handle: Option<ServerHandle>,
    /// The server's own empty `dir`, removed when it stops.
    dir: Option<PathBuf>,
}

/// A fresh empty directory under the system's temp dir, removed on drop. `tag` names it, after
/// the process id and a counter, so that tests running at once never share one.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("rustis-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create a temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A new empty directory for one test server's `dir`, so that a `dump.rdb` lying in the
/// directory the tests run from cannot stop the server from starting.
fn fresh_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rustis-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the server's dir");
    dir
}

impl TestServer {
    /// Starts a server with `threads` threads on 127.0.0.1 and a free port.
    pub fn start(threads: usize) -> TestServer {
        Self::start_opts(threads, None, Config::default())
    }

    /// Starts a server whose expiry clock the test moves by hand.
    pub fn start_with_clock(threads: usize, clock: ManualClock) -> TestServer {
        Self::start_opts(threads, Some(clock), Config::default())
    }

    /// Starts a server with a given configuration (its port and bind are overridden; its `dir`
    /// too, to a fresh empty directory, unless the configuration names one). Like the
    /// redis-server [`Reference`] starts, it has no save points (`save ""`) unless the
    /// configuration sets some other than Redis's default.
    pub fn start_opts(
        threads: usize,
        clock: Option<ManualClock>,
        mut config: Config,
    ) -> TestServer {
        config.set("port", "0", true).expect("port");
        config.set("bind", "127.0.0.1", true).expect("bind");
        if config.get("save") == Config::default().get("save") {
            config.set("save", "", true).expect("save");
        }
        let mut dir = None;
        if config.get("dir") == Some(".") {
            let d = fresh_dir();
            config
                .set("dir", d.to_str().expect("a UTF-8 temp dir"), true)
                .expect("dir");
            dir = Some(d);
        }
        let mut opts = ServerOptions {
            config,
            threads,
            ..Default::default()
        };
        if let Some(c) = &clock {
            opts.clock = Arc::new(c.clone());
        }
        let handle = rustis_runtime::start(opts).expect("server starts");
        TestServer {
            addr: handle.addr(),
            clock,
            handle: Some(handle),
            dir,
        }
    }

    /// A `redis` crate connection.
    pub fn client(&self) -> redis::Connection {
        let client = redis::Client::open(format!("redis://{}/", self.addr)).expect("client");
        client.get_connection().expect("connect")
    }

    /// A raw connection for exact-bytes checks.
    pub fn raw(&self) -> RawConn {
        RawConn::connect(self.addr)
    }

    /// Waits until the server reports `n` blocked clients (INFO's `blocked_clients`), polling
    /// as Redis's own tests do; fails after 10 s.
    pub fn wait_blocked(&self, n: usize) {
        let mut c = self.raw();
        let want = format!("blocked_clients:{n}\r\n");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let info = String::from_utf8_lossy(&c.cmd(&["INFO", "clients"])).to_string();
            if info.contains(&want) {
                return;
            }
            assert!(Instant::now() < deadline, "never got {want:?}: {info}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The running server's handle (for its test hooks, such as [`ServerHandle::push`]).
    pub fn handle(&self) -> &ServerHandle {
        self.handle.as_ref().expect("the server is running")
    }

    /// Stops the server and waits for it.
    pub fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.shutdown();
            h.wait();
        }
        if let Some(d) = self.dir.take() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Encodes a command as a RESP multibulk.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// A plain TCP connection that sends bytes and reads whole RESP replies.
pub struct RawConn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RawConn {
    /// Connects to `addr`.
    pub fn connect(addr: SocketAddr) -> RawConn {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        RawConn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Wraps a stream connected some other way (e.g. from a chosen source address).
    pub fn from_stream(stream: TcpStream) -> RawConn {
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        RawConn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Sends raw bytes.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Sends one command without reading its reply.
    pub fn send_cmd(&mut self, args: &[&str]) {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.send(&encode(&a));
    }

    /// Sends one command and returns its reply's exact bytes.
    pub fn cmd(&mut self, args: &[&str]) -> Vec<u8> {
        self.send_cmd(args);
        self.read_reply()
    }

    /// Sends one command given as bytes and returns its reply's exact bytes.
    pub fn cmd_bytes(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.send(&encode(args));
        self.read_reply()
    }

    /// Reads one complete RESP2/RESP3 reply and returns its bytes.
    pub fn read_reply(&mut self) -> Vec<u8> {
        loop {
            if let Some(n) = reply_len(&self.buf) {
                return self.buf.drain(..n).collect();
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("read");
            assert!(
                n > 0,
                "connection closed while waiting for a reply; got so far: {:?}",
                String::from_utf8_lossy(&self.buf)
            );
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads until the server closes the connection; returns everything read.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let mut all = std::mem::take(&mut self.buf);
        let mut chunk = [0u8; 65536];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return all,
                Ok(n) => all.extend_from_slice(&chunk[..n]),
                Err(e) => panic!("read failed before close: {e}"),
            }
        }
    }
}

/// The length of the first complete reply in `buf`, if it is complete.
pub fn reply_len(buf: &[u8]) -> Option<usize> {
    let line_end = buf.windows(2).position(|w| w == b"\r\n")?;
    let line = &buf[1..line_end];
    let after = line_end + 2;
    let num = || std::str::from_utf8(line).ok()?.parse::<i64>().ok();
    match buf.first()? {
        b'+' | b'-' | b':' | b',' | b'#' | b'_' | b'(' => Some(after),
        b'$' | b'=' | b'!' => {
            let n = num()?;
            if n < 0 {
                return Some(after);
            }
            let end = after + n as usize + 2;
            (buf.len() >= end).then_some(end)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = num()?;
            if n < 0 {
                return Some(after);
            }
            let count = if matches!(buf[0], b'%' | b'|') {
                n * 2
            } else {
                n
            };
            let mut pos = after;
            for _ in 0..count {
                pos += reply_len(&buf[pos..])?;
            }
            Some(pos)
        }
        _ => None,
    }
}

/// The thread counts every over-TCP test runs on: one (everything inline) and four (so the
/// cross-shard paths run too).
pub const THREADS: [usize; 2] = [1, 4];

/// Runs `f` against a fresh server with each of [`THREADS`].
pub fn each(f: impl Fn(&TestServer)) {
    for t in THREADS {
        let s = TestServer::start(t);
        f(&s);
    }
}

/// Reply bytes as text, for assertions whose failures a person reads.
pub fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Sends one command and asserts its exact reply.
pub fn check(c: &mut RawConn, args: &[&str], want: &[u8]) {
    let got = c.cmd(args);
    assert_eq!(show(&got), show(want), "reply to {args:?}");
}

/// Sends every case in order on one connection and asserts each exact reply.
pub fn check_all(c: &mut RawConn, cases: &[(&[&str], &[u8])]) {
    for (args, want) in cases {
        check(c, args, want);
    }
}

/// Runs `cases` in order on one connection to a fresh server with `threads` threads.
pub fn run_cases(threads: usize, cases: &[(&[&str], &[u8])]) {
    let server = TestServer::start(threads);
    let mut raw = server.raw();
    for (args, want) in cases {
        let got = raw.cmd(args);
        assert_eq!(show(&got), show(want), "threads={threads} command={args:?}");
    }
}

/// Runs each command in order on a fresh server for each of [`THREADS`]; a `None` reply is
/// not checked (HELLO's client id differs from Redis's).
pub fn run_cases_on_threads(cases: &[(&[&str], Option<&[u8]>)]) {
    for t in THREADS {
        let s = TestServer::start(t);
        let mut c = s.raw();
        for (args, want) in cases {
            let got = c.cmd(args);
            if let Some(want) = want {
                assert_eq!(show(&got), show(want), "reply to {args:?} on {t} threads");
            }
        }
    }
}

/// Sends one command and returns its reply as text.
pub fn cmd_text(c: &mut RawConn, args: &[&str]) -> String {
    show(&c.cmd(args))
}

/// `n` key names derived from `base`, each owned by a different shard with `threads` threads
/// (with fewer threads than keys, shards repeat: any names will do).
pub fn spread(base: &str, n: usize, threads: usize) -> Vec<String> {
    use rustis_storage::slot::shard_of;
    let mut keys: Vec<String> = Vec::new();
    for i in 0.. {
        let k = format!("{base}{i}");
        let distinct = keys
            .iter()
            .all(|o| shard_of(o.as_bytes(), threads) != shard_of(k.as_bytes(), threads));
        if distinct || threads < n {
            keys.push(k);
            if keys.len() == n {
                return keys;
            }
        }
    }
    unreachable!()
}

/// The value lines of a reply made of arrays and bulk strings: every line but the `*n` and
/// `$n` headers (`:n` and `+s` lines stay as they are).
pub fn reply_values(reply: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(reply)
        .split("\r\n")
        .filter(|l| !l.is_empty() && !l.starts_with('*') && !l.starts_with('$'))
        .map(str::to_string)
        .collect()
}

/// A redis-server 7.0.15 on a free port, in a fresh directory, killed on drop: the reference
/// that differential tests compare replies with. Panics if there is none on PATH (CI installs
/// it; so does `apt-get install redis-server`).
pub struct Reference {
    child: Child,
    addr: SocketAddr,
    _dir: PathBuf,
}

impl Reference {
    /// In a fresh directory, with neither snapshots nor an AOF.
    pub fn start() -> Reference {
        Self::start_with(None, &[])
    }

    /// In `dir` (a fresh directory if `None`), with `--save ""`, `--appendonly no` and then
    /// `args` (later settings win, as redis-server reads them). Waits until it answers PONG
    /// (not -LOADING), and checks that it is 7.0.15.
    pub fn start_with(dir: Option<&std::path::Path>, args: &[&str]) -> Reference {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = dir.map_or_else(fresh_dir, |d| d.to_path_buf());
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(args)
            .arg("--dir")
            .arg(&dir)
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server 7.0.15 must be on PATH for this test");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(s) = TcpStream::connect(addr) {
                // Still loading a big file answers -LOADING; wait for PONG.
                if RawConn::from_stream(s).cmd(&["PING"]) == b"+PONG\r\n" {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(5));
        }
        let r = Reference {
            child,
            addr,
            _dir: dir,
        };
        let version = show(&r.conn().cmd(&["INFO", "server"]));
        assert!(
            version.contains("redis_version:7.0.15\r\n"),
            "the reference must be redis-server 7.0.15"
        );
        r
    }

    /// A redis-rs connection to it.
    pub fn client(&self) -> redis::Connection {
        redis::Client::open(format!("redis://{}/", self.addr))
            .and_then(|c| c.get_connection())
            .expect("connect to redis-server")
    }

    pub fn conn(&self) -> RawConn {
        RawConn::connect(self.addr)
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
