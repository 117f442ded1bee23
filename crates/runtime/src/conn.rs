//! The connection loop: read, parse every complete command, dispatch them as one batch, write
//! all replies with one write.

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
use crate::dispatch;
use crate::session::Session;
use crate::worker::Worker;

const READ_CHUNK: usize = 16 * 1024;

/// Serves one connection until it closes, is killed, or the server stops.
pub(crate) async fn serve(w: Rc<Worker>, stream: TcpStream, peer: SocketAddr) {
    let shared = w.shared.clone();
    let _ = stream.set_nodelay(true);
    let laddr = stream.local_addr().unwrap_or(peer);
    let id = shared.client_id();
    let kill = Rc::new(Notify::new());
    let info = Rc::new(RefCell::new(ClientInfo {
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
        kill: kill.clone(),
    }));
    w.clients.borrow_mut().add(info.clone());
    let mut sess = Session {
        id,
        db: 0,
        closing: false,
        last_cmd: "NULL",
        info: info.clone(),
    };
    let max_bulk = shared.config().get_i64("proto-max-bulk-len").max(1) as usize;
    let mut parser = Parser::with_max_bulk(max_bulk);
    // The read buffer is allocated on the first read, so idle connections cost little.
    let mut rbuf = BytesMut::new();
    let mut out = Out::new(false);
    let mut cmds = Vec::new();
    let mut stream = stream;
    'conn: loop {
        tokio::select! {
            r = stream.readable() => if r.is_err() { break 'conn },
            _ = kill.notified() => break 'conn,
        }
        let need = parser.need();
        let want = need.saturating_sub(rbuf.len()).max(READ_CHUNK);
        if rbuf.capacity() - rbuf.len() < want / 2 {
            rbuf.reserve(want);
        }
        match stream.try_read_buf(&mut rbuf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => break,
        }
        let parsed = parser.parse_batch(&mut rbuf, &mut cmds);
        if !cmds.is_empty() {
            dispatch::run(&w, &mut sess, &mut cmds, &mut out).await;
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
        if !out.buf.is_empty() {
            if stream.write_all(&out.buf).await.is_err() {
                break;
            }
            out.buf.clear();
            dispatch::trim(&mut out.buf);
        }
        dispatch::trim(&mut rbuf);
        if sess.closing {
            break;
        }
    }
    w.clients.borrow_mut().remove(id);
    shared.connected.fetch_sub(1, Ordering::Relaxed);
}
