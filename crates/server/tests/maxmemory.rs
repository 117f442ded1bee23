//! `maxmemory` in the real binary, whose allocator counts every byte (`alloc.rs`): a write
//! storm stays within a small margin of the limit as INFO's `used_memory` shows it, on one
//! thread and on two, and `noeviction` refuses writes with Redis's error.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rustis");

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(threads: usize, args: &[&str]) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dir = std::env::temp_dir();
    let child = Command::new(BIN)
        .args([
            "--port",
            &port.to_string(),
            "--threads",
            &threads.to_string(),
        ])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn rustis");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "rustis did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    Server { child, port }
}

struct Conn {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Conn {
    fn new(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        Conn {
            r: BufReader::new(s.try_clone().expect("clone")),
            w: s,
        }
    }

    fn send(&mut self, args: &[&[u8]]) {
        let mut v = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            v.extend(format!("${}\r\n", a.len()).bytes());
            v.extend_from_slice(a);
            v.extend_from_slice(b"\r\n");
        }
        self.w.write_all(&v).expect("write");
    }

    /// One reply: a line, or a bulk string's line and body.
    fn reply(&mut self) -> String {
        let mut line = String::new();
        self.r.read_line(&mut line).expect("read");
        if let Some(n) = line.strip_prefix('$') {
            let n: i64 = n.trim().parse().expect("length");
            if n < 0 {
                return line;
            }
            let mut body = vec![0u8; n as usize + 2];
            self.r.read_exact(&mut body).expect("body");
            return String::from_utf8_lossy(&body).into_owned();
        }
        line
    }

    fn cmd(&mut self, args: &[&str]) -> String {
        let a: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send(&a);
        self.reply()
    }

    fn field(&mut self, section: &str, name: &str) -> u64 {
        let info = self.cmd(&["INFO", section]);
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {info}"))
    }
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[test]
fn a_write_storm_stays_within_maxmemory_by_the_allocators_count() {
    const MAX: u64 = 8 << 20;
    for threads in [1, 2] {
        let s = start(
            threads,
            &["--maxmemory", "8mb", "--maxmemory-policy", "allkeys-lru"],
        );
        let mut c = Conn::new(s.port);
        let value = vec![b'v'; 100];
        let mut worst = 0;
        for round in 0..20 {
            for i in 0..5_000 {
                let k = format!("key:{round}:{i}");
                c.send(&[b"SET", k.as_bytes(), &value]);
            }
            for _ in 0..5_000 {
                assert_eq!(c.reply(), "+OK\r\n");
            }
            worst = worst.max(c.field("memory", "used_memory"));
        }
        // 100,000 keys of about 200 bytes would take 20 MB.
        assert!(worst <= MAX + MAX / 50, "threads={threads}: used {worst}");
        let evicted = c.field("stats", "evicted_keys");
        assert!(evicted > 30_000, "threads={threads}: evicted {evicted}");
        let rss = rss_kb(s.child.id()) * 1024;
        assert!(rss < MAX + (40 << 20), "threads={threads}: RSS {rss}");
        // Over the limit with noeviction: Redis's error, byte for byte.
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "1mb"]), "+OK\r\n");
        assert_eq!(
            c.cmd(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]),
            "+OK\r\n"
        );
        assert_eq!(
            c.cmd(&["SET", "one-more", "v"]),
            "-OOM command not allowed when used memory > 'maxmemory'.\r\n"
        );
        assert!(c.cmd(&["DEL", "key:0:0"]).starts_with(':'));
    }
}
