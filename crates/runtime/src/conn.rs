//! The connection loop: read, parse every complete command, dispatch them as one batch, write
//! all replies with one write.
//!
//! A connection whose commands keep going to one other shard moves to that shard's thread
//! (connection migration): from then on its commands run inline there, without a hop per
//! request. It moves only between requests, when nothing of it is in flight.
//!
//! While idle, a connection waits for its socket and for its inbox of pushes (frames it did
//! not ask for, and CLIENT KILL) at once; a push is written as soon as it is taken, which is
//! always between two replies.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::Ordering;

use bytes::BytesMut;
use rustis_commands::Out;
use rustis_resp::Parser;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::dispatch::{self, Affinity};
use crate::session::{Push, Session};
use crate::tls::TlsConn;
use crate::worker::{Msg, Worker};

/// The most one round of reads takes in before the batch is dispatched, bounding how long one
/// connection holds its thread and how much it buffers.
const MAX_READ: usize = 1024 * 1024;

/// Consecutive keyed commands, over one or more reads, that all went to the same other shard
/// before the connection moves there. High enough that random keys practically never trigger
/// it (2^-31 for a run of 32 with two shards); low enough that a pipelined client hammering
/// one key moves after its first read or two instead of sending thousands of commands across.
const MIGRATE_AFTER: u32 = 32;

/// A connection on its way to another thread: its socket and its whole state.
pub(crate) struct Migrant {
    stream: MigrantStream,
    sess: Session,
}

/// A connection's socket between two threads, with its TLS state if it has one.
pub(crate) enum MigrantStream {
    Plain(std::net::TcpStream),
    Tls(std::net::TcpStream, Box<rustls::ServerConnection>),
}

/// A connection's byte stream: a plain socket, or TLS over one (`tls::TlsConn`). The loop is
/// generic over it, so a plain connection runs the same code it would without TLS.
pub(crate) trait Transport: Sized {
    /// The socket underneath.
    fn tcp(&self) -> &TcpStream;
    /// Waits until a read may find something.
    async fn ready(&self) -> std::io::Result<()>;
    /// Reads into the spare room of `rbuf` without waiting (see [`read_some`]).
    fn read_some(&mut self, rbuf: &mut BytesMut) -> std::io::Result<(usize, bool)>;
    /// Writes as much of `out` as the socket takes at once, without waiting; returns how many
    /// bytes that was (0 where this transport cannot, see [`write_or_abort`]).
    fn write_now(&mut self, out: &Out) -> std::io::Result<usize>;
    /// Writes all of `out` but its first `skip` bytes.
    async fn write_out(&mut self, out: &Out, skip: usize) -> std::io::Result<()>;
    /// The stream as it travels to another thread.
    fn into_migrant(self) -> Option<MigrantStream>;
}

impl Transport for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
    async fn ready(&self) -> std::io::Result<()> {
        self.readable().await
    }
    fn read_some(&mut self, rbuf: &mut BytesMut) -> std::io::Result<(usize, bool)> {
        read_some(self, rbuf)
    }
    fn write_now(&mut self, out: &Out) -> std::io::Result<usize> {
        if out.has_shared() {
            return Ok(0);
        }
        match self.try_write(&out.buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(e),
        }
    }
    async fn write_out(&mut self, out: &Out, skip: usize) -> std::io::Result<()> {
        write_out(self, out, skip).await
    }
    fn into_migrant(self) -> Option<MigrantStream> {
        self.into_std().ok().map(MigrantStream::Plain)
    }
}

impl Transport for TlsConn {
    fn tcp(&self) -> &TcpStream {
        &self.tcp
    }
    async fn ready(&self) -> std::io::Result<()> {
        TlsConn::ready(self).await
    }
    fn read_some(&mut self, rbuf: &mut BytesMut) -> std::io::Result<(usize, bool)> {
        TlsConn::read_some(self, rbuf)
    }
    fn write_now(&mut self, _out: &Out) -> std::io::Result<usize> {
        // Everything goes through rustls's records; `write_out` does it.
        Ok(0)
    }
    async fn write_out(&mut self, out: &Out, skip: usize) -> std::io::Result<()> {
        self.write_all(pieces_from(out, skip)).await
    }
    fn into_migrant(self) -> Option<MigrantStream> {
        let tcp = self.tcp.into_std().ok()?;
        Some(MigrantStream::Tls(tcp, self.tls))
    }
}

/// Serves a newly accepted connection.
pub(crate) async fn serve(w: Rc<Worker>, stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let laddr = stream.local_addr().unwrap_or(peer);
    let sess = Session::new(w.shared.client_id(), peer, laddr);
    sess.authenticated
        .set(crate::acl::authenticated_at_start(&w));
    serve_loop(w, stream, sess).await;
}

/// Serves a connection accepted on a TLS port: the handshake first, as this task, so the
/// thread's other connections go on meanwhile. A failed handshake closes it.
pub(crate) async fn serve_tls(
    w: Rc<Worker>,
    stream: TcpStream,
    peer: SocketAddr,
    config: std::sync::Arc<rustls::ServerConfig>,
) {
    let _ = stream.set_nodelay(true);
    let laddr = stream.local_addr().unwrap_or(peer);
    // `timeout` applies to a client still in its handshake too, as in Redis (where the client
    // exists from accept on).
    let idle = w.shared.config().get_i64("timeout");
    let handshake = crate::tls::handshake(config, stream);
    let done = if idle > 0 {
        tokio::time::timeout(std::time::Duration::from_secs(idle as u64), handshake)
            .await
            .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
    } else {
        handshake.await
    };
    match done {
        Ok(conn) => {
            let sess = Session::new(w.shared.client_id(), peer, laddr);
            serve_loop(w, conn, sess).await;
        }
        Err(e) => {
            tracing::debug!("Error accepting a client connection: {e} (addr={peer} laddr={laddr})");
            w.shared.connected.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Takes over a connection that another thread handed to this one.
pub(crate) fn adopt(w: &Rc<Worker>, m: Migrant) {
    let (std_stream, tls) = match m.stream {
        MigrantStream::Plain(s) => (s, None),
        MigrantStream::Tls(s, tls) => (s, Some(tls)),
    };
    let Ok(stream) = TcpStream::from_std(std_stream) else {
        w.shared.connected.fetch_sub(1, Ordering::Relaxed);
        return;
    };
    match tls {
        None => tokio::task::spawn_local(serve_loop(w.clone(), stream, m.sess)),
        Some(tls) => {
            tokio::task::spawn_local(serve_loop(w.clone(), TlsConn::new(stream, tls), m.sess))
        }
    };
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
/// `out`'s pieces (see `Out::pieces`) without their first `skip` bytes.
fn pieces_from(out: &Out, mut skip: usize) -> impl Iterator<Item = &[u8]> + '_ {
    out.pieces().filter_map(move |p| {
        if skip >= p.len() {
            skip -= p.len();
            None
        } else {
            let rest = &p[skip..];
            skip = 0;
            Some(rest)
        }
    })
}

async fn write_out(stream: &mut TcpStream, out: &Out, skip: usize) -> std::io::Result<()> {
    if !out.has_shared() {
        return stream.write_all(&out.buf[skip..]).await;
    }
    /// At most this many slices per `writev` (Linux allows 1,024).
    const MAX_SLICES: usize = 64;
    let total = out.len();
    let mut done = skip;
    let mut slices = Vec::with_capacity(MAX_SLICES);
    while done < total {
        slices.clear();
        slices.extend(
            pieces_from(out, done)
                .take(MAX_SLICES)
                .map(std::io::IoSlice::new),
        );
        let n = stream.write_vectored(&slices).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        done += n;
    }
    Ok(())
}

/// [`write_out`], given up when an output buffer limit or CLIENT KILL closes the connection
/// meanwhile (a peer that does not read would otherwise keep it waiting for ever).
async fn write_or_abort<T: Transport>(
    sess: &Session,
    stream: &mut T,
    out: &Out,
) -> std::io::Result<()> {
    // Most replies fit in the socket's send buffer: written at once, nothing to wait for, and
    // the waits below (about 300 instructions to arm and drop) are not armed.
    let done = stream.write_now(out)?;
    if done == out.len() {
        return Ok(());
    }
    // What waits here counts toward the pubsub output buffer limit, as the inbox does.
    sess.pubsub.set_unsent(out.len() - done);
    let r = tokio::select! {
        r = stream.write_out(out, done) => r,
        _ = sess.pubsub.wait_abort() => Err(std::io::ErrorKind::ConnectionAborted.into()),
        _ = sess.pusher().killed() => Err(std::io::ErrorKind::ConnectionAborted.into()),
    };
    sess.pubsub.set_unsent(0);
    r
}

/// Moves every push already waiting, starting with `first`, into `out`; false if one of them
/// asks the connection to close.
fn take_pushes(sess: &Session, first: Push, out: &mut Out) -> bool {
    let mut next = Some(first);
    while let Some(p) = next {
        match p {
            Push::Frame(f) => out.raw(&f),
            Push::Tracking(n) => {
                if let Some(f) = crate::tracking::frame(sess, n) {
                    out.raw(&f);
                }
            }
            Push::Kill => return false,
        }
        next = sess.try_push();
    }
    true
}

async fn serve_loop<T: Transport>(w: Rc<Worker>, mut stream: T, sess: Session) {
    let shared = w.shared.clone();
    let id = sess.id;
    let mut out = Out::new(sess.resp() == 3);
    let mut sess = Rc::new(sess);
    w.clients.borrow_mut().add(sess.clone());
    let max_bulk = shared.config().get_i64("proto-max-bulk-len").max(1) as usize;
    let mut parser = Parser::with_max_bulk(max_bulk);
    let mut rbuf = BytesMut::new();
    // Large values go out by reference (`Out::bulk_shared`); `write_out` sends them.
    out.share = true;
    let mut cmds = Vec::new();
    let mut pending = dispatch::Pending::new(w.n);
    let mut streak: (usize, u32) = (w.id, 0);
    sess.fd.set(std::os::fd::AsRawFd::as_raw_fd(stream.tcp()));
    let mut pushed_last = false;
    let mut soft = crate::limits::SoftState::default();
    'conn: loop {
        sess.idle.set(rbuf.is_empty() && out.is_empty());
        // The query buffer waits in the session, where CLIENT LIST and the cron see it.
        crate::qbuf::park(&sess, &mut rbuf, parser.need());
        // Waiting for the socket and for pushes is the connection's only wait, so a push costs
        // a request nothing when there is none: the inbox is polled where CLIENT KILL's wake-up
        // was (KILL is itself a push).
        // Pushes first: a message already waiting when a request arrives was sent before it,
        // so it goes out before that request's reply. Right after writing pushes the socket
        // comes first, so that a stream of pushes cannot keep requests waiting.
        let push = if pushed_last {
            tokio::select! {
                biased;
                r = stream.ready() => {
                    if r.is_err() {
                        break 'conn;
                    }
                    None
                }
                p = sess.next_push() => Some(p),
            }
        } else {
            tokio::select! {
                biased;
                p = sess.next_push() => Some(p),
                r = stream.ready() => {
                    if r.is_err() {
                        break 'conn;
                    }
                    None
                }
            }
        };
        sess.idle.set(false);
        rbuf = crate::qbuf::take(&sess);
        pushed_last = push.is_some();
        if let Some(p) = push {
            // Every reply produced so far has been written: the frames go out now, between
            // that reply and the next.
            let open = take_pushes(&sess, p, &mut out);
            if !out.is_empty() {
                if write_or_abort(&sess, &mut stream, &out).await.is_err() {
                    break;
                }
                out.clear();
                dispatch::trim(&mut out.buf);
            }
            if !open {
                break;
            }
            continue;
        }
        // Read what the socket holds, up to MAX_READ per round: a read that fills the space
        // given to it is followed by another, so a deep pipeline of large values is parsed and
        // dispatched as one batch instead of one 16 KB slice at a time.
        let mut got = 0usize;
        let mut closed = false;
        // The largest argument read for in this round, if a big one (`qbuf::refill`).
        let mut big = 0usize;
        loop {
            let need = parser.need();
            let want = need.saturating_sub(rbuf.len()).max(crate::qbuf::IOBUF_LEN);
            if rbuf.capacity() - rbuf.len() < want / 2 {
                rbuf.reserve(want);
            }
            crate::qbuf::note_read(&sess, rbuf.len(), want);
            big = big.max(want);
            match stream.read_some(&mut rbuf) {
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
        parser.set_unauthenticated(crate::acl::refuses_unauthenticated(&w, &sess));
        let parsed = parser.parse_batch(&mut rbuf, &mut cmds);
        let mut affinity = Affinity::NoKeys;
        if !cmds.is_empty() {
            affinity = dispatch::run(
                &w,
                &sess,
                &mut pending,
                &mut cmds,
                &mut parser,
                &mut out,
                Some(stream.tcp()),
            )
            .await;
            sess.touch();
        }
        if let Err(e) = parsed {
            tracing::debug!(client = id, "protocol error: {}", e.reply());
            out.raw(e.reply().as_bytes());
            out.raw(b"\r\n");
            sess.close();
        }
        if crate::limits::output_refused(&shared.climits, &sess, &out, &mut soft) {
            break;
        }
        if sess.closing() {
            sess.close_inbox();
        }
        if !out.is_empty() {
            if write_or_abort(&sess, &mut stream, &out).await.is_err() {
                break;
            }
            out.clear();
            dispatch::trim(&mut out.buf);
        }
        // What is left unparsed is the start of a command still arriving.
        if crate::limits::query_refused(&shared.climits, &sess, &rbuf) {
            break;
        }
        // Room for the next read; the cron frees it once the client idles (`qbuf.rs`).
        crate::qbuf::refill(&mut rbuf, big);
        if sess.closing() {
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
        // A subscriber or monitor stays: it is registered on this thread (pubsub.rs).
        if streak.1 >= MIGRATE_AFTER
            && rbuf.is_empty()
            && !sess.pubsub.pinned()
            && !crate::tracking::pinned(id)
        {
            // Nothing of this connection is in flight: no partial request, no unsent reply.
            // Its state leaves this thread's registry and travels whole; pushes not yet taken
            // wait in its inbox, which travels with it.
            w.clients.borrow_mut().remove(id);
            match Rc::try_unwrap(sess) {
                Ok(moving) => {
                    let Some(std_stream) = stream.into_migrant() else {
                        shared.connected.fetch_sub(1, Ordering::Relaxed);
                        return;
                    };
                    let m = Migrant {
                        stream: std_stream,
                        sess: moving,
                    };
                    w.post(streak.0, Msg::Adopt(Box::new(m)));
                    return;
                }
                Err(still_shared) => {
                    // Something on this thread still holds the session (a CLIENT command of
                    // another connection reading it): stay, and try again after a new streak.
                    sess = still_shared;
                    w.clients.borrow_mut().add(sess.clone());
                    streak = (w.id, 0);
                }
            }
        }
    }
    crate::multi::reset(&w, &sess);
    crate::pubsub::forget(&w, &sess);
    crate::tracking::forget(&w, &sess);
    w.clients.borrow_mut().remove(id);
    shared.connected.fetch_sub(1, Ordering::Relaxed);
}
