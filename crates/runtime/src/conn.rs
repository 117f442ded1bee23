//! The connection loop: read, parse every complete command, dispatch them as one batch, write
//! all replies with one write.
//!
//! A connection whose commands keep going to one other shard moves to that shard's thread
//! (connection migration): from then on its commands run inline there, without a hop per
//! request. It moves only between requests, when nothing of it is in flight.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::BytesMut;
use rustis_commands::Out;
use rustis_resp::Parser;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::clients::ClientInfo;
use crate::dispatch::{self, Affinity};
use crate::session::Session;
use crate::worker::{Msg, Worker};

const READ_CHUNK: usize = 16 * 1024;

/// The most one round of reads takes in before the batch is dispatched, bounding how long one
/// connection holds its thread and how much it buffers.
const MAX_READ: usize = 1024 * 1024;

/// Consecutive keyed commands, over one or more reads, that all went to the same other shard
/// before the connection moves there. High enough that random keys practically never trigger
/// it (2^-31 for a run of 32 with two shards); low enough that a pipelined client hammering
/// one key moves after its first read or two instead of sending thousands of commands across.
const MIGRATE_AFTER: u32 = 32;

/// A connection on its way to another thread: its socket and every bit of its state.
pub(crate) struct Migrant {
    stream: std::net::TcpStream,
    peer: SocketAddr,
    laddr: SocketAddr,
    id: u64,
    db: usize,
    resp3: bool,
    name: Vec<u8>,
    lib_name: Vec<u8>,
    lib_ver: Vec<u8>,
    created: Instant,
}

/// Serves a newly accepted connection.
pub(crate) async fn serve(w: Rc<Worker>, stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let laddr = stream.local_addr().unwrap_or(peer);
    let id = w.shared.client_id();
    let info = ClientInfo {
        id,
        addr: peer,
        laddr,
        name: Vec::new(),
        lib_name: Vec::new(),
        lib_ver: Vec::new(),
        created: Instant::now(),
        last_active: Instant::now(),
        db: 0,
        resp: 2,
        last_cmd: "NULL",
        kill: Rc::new(Notify::new()),
        blocked: None,
    };
    serve_loop(w, stream, info).await;
}

/// Takes over a connection that another thread handed to this one.
pub(crate) fn adopt(w: &Rc<Worker>, m: Migrant) {
    let Ok(stream) = TcpStream::from_std(m.stream) else {
        w.shared.connected.fetch_sub(1, Ordering::Relaxed);
        return;
    };
    let info = ClientInfo {
        id: m.id,
        addr: m.peer,
        laddr: m.laddr,
        name: m.name,
        lib_name: m.lib_name,
        lib_ver: m.lib_ver,
        created: m.created,
        last_active: Instant::now(),
        db: m.db,
        resp: if m.resp3 { 3 } else { 2 },
        last_cmd: "NULL",
        kill: Rc::new(Notify::new()),
        blocked: None,
    };
    tokio::task::spawn_local(serve_loop(w.clone(), stream, info));
}

/// Reads what the socket holds into the spare room of `rbuf`; also says whether the read came
/// up short of that room, i.e. drained the socket.
///
/// A short read marks the socket not readable in Tokio's view, as a read that would block
/// does: otherwise the next wait returns at once and costs a `recv` that only says "nothing
/// there" (one extra system call per request without pipelining). Nothing is lost by it: data
/// that arrives after the read raises a new edge-triggered event, and Tokio keeps a readiness
/// it saw after the read started.
fn read_some(stream: &TcpStream, rbuf: &mut BytesMut) -> std::io::Result<(usize, bool)> {
    let room = rbuf.capacity() - rbuf.len();
    let mut short = None;
    let r = stream.try_io(tokio::io::Interest::READABLE, || {
        let n = stream.try_read_buf(rbuf)?;
        if n > 0 && n < room {
            short = Some(n);
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    });
    match short {
        Some(n) => Ok((n, true)),
        None => r.map(|n| (n, n < room)),
    }
}

/// Writes all of `out`: with one `write` when it is all in its buffer, else with vectored
/// writes that send the shared values from where they are stored.
async fn write_out(stream: &mut TcpStream, out: &Out) -> std::io::Result<()> {
    if !out.has_shared() {
        return stream.write_all(&out.buf).await;
    }
    /// At most this many slices per `writev` (Linux allows 1,024).
    const MAX_SLICES: usize = 64;
    let total: usize = out.pieces().map(<[u8]>::len).sum();
    let mut done = 0;
    let mut slices = Vec::with_capacity(MAX_SLICES);
    while done < total {
        slices.clear();
        let mut skip = done;
        for p in out.pieces() {
            if skip >= p.len() {
                skip -= p.len();
                continue;
            }
            slices.push(std::io::IoSlice::new(&p[skip..]));
            skip = 0;
            if slices.len() == MAX_SLICES {
                break;
            }
        }
        let n = stream.write_vectored(&slices).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        done += n;
    }
    Ok(())
}

async fn serve_loop(w: Rc<Worker>, mut stream: TcpStream, info: ClientInfo) {
    let shared = w.shared.clone();
    let id = info.id;
    let kill = info.kill.clone();
    let resp3 = info.resp == 3;
    let db = info.db;
    let info = Rc::new(RefCell::new(info));
    w.clients.borrow_mut().add(info.clone());
    let mut sess = Session {
        id,
        db,
        closing: false,
        last_cmd: "NULL",
        info: info.clone(),
    };
    let max_bulk = shared.config().get_i64("proto-max-bulk-len").max(1) as usize;
    let mut parser = Parser::with_max_bulk(max_bulk);
    // The read buffer is allocated on the first read, so idle connections cost little.
    let mut rbuf = BytesMut::new();
    let mut out = Out::new(resp3);
    // Large values go out by reference (`Out::bulk_shared`); `write_out` sends them.
    out.share = true;
    let mut cmds = Vec::new();
    let mut pending = dispatch::Pending::new(w.n);
    let mut streak: (usize, u32) = (w.id, 0);
    // One wait for CLIENT KILL for the connection's whole life, rather than a new one armed
    // and dropped around every read.
    let killed = kill.notified();
    tokio::pin!(killed);
    'conn: loop {
        tokio::select! {
            r = stream.readable() => if r.is_err() { break 'conn },
            _ = &mut killed => break 'conn,
        }
        // Read what the socket holds, up to MAX_READ per round: a read that fills the space
        // given to it is followed by another, so a deep pipeline of large values is parsed and
        // dispatched as one batch instead of one 16 KB slice at a time.
        let mut got = 0usize;
        let mut closed = false;
        loop {
            let need = parser.need();
            let want = need.saturating_sub(rbuf.len()).max(READ_CHUNK);
            if rbuf.capacity() - rbuf.len() < want / 2 {
                rbuf.reserve(want);
            }
            match read_some(&stream, &mut rbuf) {
                Ok((0, _)) => {
                    closed = true;
                    break;
                }
                Ok((n, drained)) => {
                    got += n;
                    if drained || got >= MAX_READ {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        if got == 0 {
            if closed {
                break;
            }
            continue;
        }
        let parsed = parser.parse_batch(&mut rbuf, &mut cmds);
        let mut affinity = Affinity::NoKeys;
        if !cmds.is_empty() {
            affinity = dispatch::run(
                &w,
                &mut sess,
                &mut pending,
                &mut cmds,
                &mut parser,
                &mut out,
                Some(&stream),
            )
            .await;
            let mut i = info.borrow_mut();
            i.last_active = Instant::now();
            i.last_cmd = sess.last_cmd;
        }
        if let Err(e) = parsed {
            tracing::debug!(client = id, "protocol error: {}", e.reply());
            out.raw(e.reply().as_bytes());
            out.raw(b"\r\n");
            sess.closing = true;
        }
        if !out.is_empty() {
            if write_out(&mut stream, &out).await.is_err() {
                break;
            }
            out.clear();
            dispatch::trim(&mut out.buf);
        }
        if rbuf.is_empty() {
            // Release the read buffer between requests, as Redis does with idle query buffers:
            // with thousands of connections, 16 KB each adds up, and an allocation from
            // jemalloc's thread cache on the next read is cheap.
            rbuf = BytesMut::new();
        }
        if sess.closing {
            break;
        }
        match affinity {
            Affinity::One(s, n) if s != w.id => {
                streak = if streak.0 == s {
                    (s, streak.1.saturating_add(n))
                } else {
                    (s, n)
                };
            }
            Affinity::NoKeys => {}
            _ => streak = (w.id, 0),
        }
        if streak.1 >= MIGRATE_AFTER && rbuf.is_empty() {
            // Nothing of this connection is in flight: no partial request, no unsent reply.
            let Ok(std_stream) = stream.into_std() else {
                break;
            };
            w.clients.borrow_mut().remove(id);
            let i = info.borrow();
            let m = Migrant {
                stream: std_stream,
                peer: i.addr,
                laddr: i.laddr,
                id,
                db: sess.db,
                resp3: out.resp3,
                name: i.name.clone(),
                lib_name: i.lib_name.clone(),
                lib_ver: i.lib_ver.clone(),
                created: i.created,
            };
            w.post(streak.0, Msg::Adopt(Box::new(m)));
            return;
        }
    }
    w.clients.borrow_mut().remove(id);
    shared.connected.fetch_sub(1, Ordering::Relaxed);
}
