//! Issue 20's evaluation of a completion-based I/O loop: the same minimal RESP server (PING,
//! SET, GET, CONFIG GET on one thread's hash map) served two ways, so that the only difference
//! is how bytes get in and out:
//!
//! - `epoll`: what Rustis does today, a Tokio current-thread runtime with a task per connection
//!   that reads, answers every complete command and writes (`read` and `write` system calls, and
//!   `epoll_wait` when every task is waiting);
//! - `uring`: one io_uring; each connection always has one receive or one send in flight, and
//!   the loop submits every new request and waits for completions in a single `io_uring_enter`.
//!
//! Usage: `uring-eval epoll|uring PORT`. It serves until killed. See README.md for the driver.

use std::collections::HashMap;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(6399);
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    match mode.as_str() {
        "epoll" => epoll::serve(listener),
        "uring" => uring::serve(listener),
        _ => {
            eprintln!("usage: uring-eval epoll|uring PORT");
            std::process::exit(2);
        }
    }
}

/// The keyspace and the command handling both loops share.
#[derive(Default)]
struct Store {
    map: HashMap<Vec<u8>, Vec<u8>>,
}

impl Store {
    /// Answers every complete command at the start of `input` into `out`, and returns how many
    /// bytes of `input` they took. Only RESP arrays of bulk strings (what redis-benchmark sends).
    fn serve(&mut self, input: &[u8], out: &mut Vec<u8>) -> usize {
        let mut pos = 0;
        let mut args: Vec<&[u8]> = Vec::with_capacity(4);
        while let Some(used) = parse(&input[pos..], &mut args) {
            self.run(&args, out);
            pos += used;
            args.clear();
        }
        pos
    }

    fn run(&mut self, args: &[&[u8]], out: &mut Vec<u8>) {
        let name = args.first().copied().unwrap_or_default();
        if name.eq_ignore_ascii_case(b"SET") && args.len() == 3 {
            self.map.insert(args[1].to_vec(), args[2].to_vec());
            out.extend_from_slice(b"+OK\r\n");
        } else if name.eq_ignore_ascii_case(b"GET") && args.len() == 2 {
            match self.map.get(args[1]) {
                Some(v) => {
                    out.push(b'$');
                    out.extend_from_slice(v.len().to_string().as_bytes());
                    out.extend_from_slice(b"\r\n");
                    out.extend_from_slice(v);
                    out.extend_from_slice(b"\r\n");
                }
                None => out.extend_from_slice(b"$-1\r\n"),
            }
        } else if name.eq_ignore_ascii_case(b"PING") {
            out.extend_from_slice(b"+PONG\r\n");
        } else if name.eq_ignore_ascii_case(b"CONFIG") {
            out.extend_from_slice(b"*0\r\n");
        } else {
            out.extend_from_slice(b"-ERR unknown command\r\n");
        }
    }
}

/// One RESP array of bulk strings at the start of `b`: its arguments into `args` and the bytes
/// it takes, or `None` if it is not complete yet.
fn parse<'a>(b: &'a [u8], args: &mut Vec<&'a [u8]>) -> Option<usize> {
    fn line(b: &[u8], at: usize) -> Option<(usize, usize)> {
        let end = at + b.get(at..)?.windows(2).position(|w| w == b"\r\n")?;
        let n = std::str::from_utf8(&b[at + 1..end]).ok()?.parse().ok()?;
        Some((n, end + 2))
    }
    if b.first()? != &b'*' {
        return None;
    }
    let (count, mut at) = line(b, 0)?;
    for _ in 0..count {
        if b.get(at)? != &b'$' {
            return None;
        }
        let (len, start) = line(b, at)?;
        if b.len() < start + len + 2 {
            return None;
        }
        args.push(&b[start..start + len]);
        at = start + len + 2;
    }
    Some(at)
}

mod epoll {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    pub fn serve(listener: TcpListener) {
        listener.set_nonblocking(true).expect("nonblocking");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .expect("runtime");
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let store = Rc::new(RefCell::new(Store::default()));
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    continue;
                };
                let _ = sock.set_nodelay(true);
                let store = store.clone();
                tokio::task::spawn_local(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    let mut filled = 0;
                    let mut out = Vec::with_capacity(16 * 1024);
                    loop {
                        if filled == buf.len() {
                            buf.resize(buf.len() * 2, 0);
                        }
                        match sock.read(&mut buf[filled..]).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => filled += n,
                        }
                        let used = store.borrow_mut().serve(&buf[..filled], &mut out);
                        buf.copy_within(used..filled, 0);
                        filled -= used;
                        if !out.is_empty() {
                            if sock.write_all(&out).await.is_err() {
                                return;
                            }
                            out.clear();
                        }
                    }
                });
            }
        });
    }
}

mod uring {
    use super::*;
    use io_uring::{opcode, squeue, types, IoUring};

    /// A connection's state: it always has exactly one operation in flight.
    struct Conn {
        fd: RawFd,
        buf: Vec<u8>,
        filled: usize,
        out: Vec<u8>,
        sent: usize,
    }

    const ACCEPT: u64 = u64::MAX;
    const OP_RECV: u64 = 0;
    const OP_SEND: u64 = 1;

    fn recv(c: &Conn, id: usize) -> squeue::Entry {
        let spare = &c.buf[c.filled..];
        opcode::Recv::new(
            types::Fd(c.fd),
            spare.as_ptr() as *mut u8,
            spare.len() as u32,
        )
        .build()
        .user_data(((id as u64) << 1) | OP_RECV)
    }

    fn send(c: &Conn, id: usize) -> squeue::Entry {
        let rest = &c.out[c.sent..];
        opcode::Send::new(types::Fd(c.fd), rest.as_ptr(), rest.len() as u32)
            .build()
            .user_data(((id as u64) << 1) | OP_SEND)
    }

    pub fn serve(listener: TcpListener) {
        let mut ring = IoUring::new(4096).expect("io_uring");
        let lfd = listener.as_raw_fd();
        let accept = opcode::AcceptMulti::new(types::Fd(lfd))
            .build()
            .user_data(ACCEPT);
        // SAFETY: the listener outlives the ring's use of it (the process serves until killed).
        unsafe { ring.submission().push(&accept).expect("sq") };
        let mut conns: Vec<Option<Conn>> = Vec::new();
        let mut store = Store::default();
        let mut next: Vec<squeue::Entry> = Vec::new();
        loop {
            ring.submit_and_wait(1).expect("submit");
            for cqe in ring.completion() {
                let ud = cqe.user_data();
                let res = cqe.result();
                if ud == ACCEPT {
                    if res >= 0 {
                        // SAFETY: a file descriptor the kernel just gave us, owned from here.
                        let sock = unsafe { std::net::TcpStream::from_raw_fd(res) };
                        let _ = sock.set_nodelay(true);
                        std::mem::forget(sock);
                        let id = conns.iter().position(Option::is_none).unwrap_or_else(|| {
                            conns.push(None);
                            conns.len() - 1
                        });
                        let c = Conn {
                            fd: res,
                            buf: vec![0u8; 16 * 1024],
                            filled: 0,
                            out: Vec::with_capacity(16 * 1024),
                            sent: 0,
                        };
                        next.push(recv(&c, id));
                        conns[id] = Some(c);
                    }
                    if !io_uring::cqueue::more(cqe.flags()) {
                        next.push(
                            opcode::AcceptMulti::new(types::Fd(lfd))
                                .build()
                                .user_data(ACCEPT),
                        );
                    }
                    continue;
                }
                let id = (ud >> 1) as usize;
                let Some(c) = conns.get_mut(id).and_then(Option::as_mut) else {
                    continue;
                };
                if res <= 0 {
                    // SAFETY: closing the connection's own descriptor, with nothing in flight.
                    unsafe { libc_close(c.fd) };
                    conns[id] = None;
                    continue;
                }
                if ud & 1 == OP_RECV {
                    c.filled += res as usize;
                    let used = store.serve(&c.buf[..c.filled], &mut c.out);
                    c.buf.copy_within(used..c.filled, 0);
                    c.filled -= used;
                    if c.filled == c.buf.len() {
                        c.buf.resize(c.buf.len() * 2, 0);
                    }
                    if c.out.is_empty() {
                        next.push(recv(c, id));
                    } else {
                        next.push(send(c, id));
                    }
                } else {
                    c.sent += res as usize;
                    if c.sent < c.out.len() {
                        next.push(send(c, id));
                    } else {
                        c.out.clear();
                        c.sent = 0;
                        next.push(recv(c, id));
                    }
                }
            }
            let mut sq = ring.submission();
            for e in next.drain(..) {
                // SAFETY: every buffer an entry points into lives in its `Conn`, which stays in
                // place (its vectors are not resized) until that entry completes.
                unsafe { sq.push(&e).expect("sq full") };
            }
        }
    }

    extern "C" {
        #[link_name = "close"]
        fn libc_close(fd: RawFd) -> i32;
    }
}
