//! A connection's query buffer: the bytes read and not yet run, sized as Redis sizes its
//! client query buffer (`networking.c`, `clientsCronResizeQueryBuffer`), and what CLIENT LIST
//! shows of it (`qbuf`, `qbuf-free`).
//!
//! - A read makes room for 16 KB (`PROTO_IOBUF_LEN`), or for the rest of a bulk still
//!   arriving. Once a round's commands have run, an empty buffer gets its 16 KB back for the
//!   next read (reusing its allocation when nothing else holds it); after a round that read a
//!   big argument (32 KB or more, `PROTO_MBULK_BIG_ARG`) it gets room for another one of that
//!   size, as Redis assumes "that if we saw a fat argument we'll see another one likely".
//! - The thread's cron looks at each connection's buffer every 100 ms: one wasting more than
//!   4 KB is freed when its client has been idle for more than 2 seconds, and trimmed to its
//!   recent peak (never below what it holds or the bulk in progress) when it is over 32 KB
//!   (`PROTO_RESIZE_THRESHOLD`) and twice that peak. The peak then restarts from what it
//!   holds.
//!
//! The connection takes the buffer out of its `Session` while it reads and runs commands and
//! puts it back before it waits, so the cron only finds it between rounds.

use std::rc::Rc;
use std::time::Duration;

use bytes::BytesMut;

use crate::session::Session;
use crate::worker::Worker;

/// The room made for one read (Redis's `PROTO_IOBUF_LEN`).
pub(crate) const IOBUF_LEN: usize = 16 * 1024;
/// An argument this big gets a buffer of its own size (Redis's `PROTO_MBULK_BIG_ARG`).
pub(crate) const BIG_ARG: usize = 32 * 1024;
/// A buffer above this size is trimmed when its peak is under half of it
/// (Redis's `PROTO_RESIZE_THRESHOLD`).
const RESIZE_THRESHOLD: usize = 32 * 1024;
/// A buffer with less free room than this is left as it is.
const MIN_WASTE: usize = 4 * 1024;
/// A client idle for longer than this loses its empty buffer.
const IDLE_FREE: Duration = Duration::from_secs(2);

/// The query buffer as it waits in the `Session` between rounds.
#[derive(Default)]
pub(crate) struct QueryBuf {
    pub buf: BytesMut,
    /// The most it held, or was made room for, since the cron last looked.
    pub peak: usize,
    /// Bytes the buffer must hold before the command in progress can advance (a bulk still
    /// arriving): the cron never trims below it.
    pub need: usize,
}

/// Notes that a read is about to fill the buffer up to `len + room`.
pub(crate) fn note_read(sess: &Session, len: usize, room: usize) {
    let mut q = sess.qbuf.borrow_mut();
    q.peak = q.peak.max(len + room);
}

/// Readies an emptied buffer for the next read once a round has run: room for another big
/// argument of `big` bytes if the round read one, else for one ordinary read.
pub(crate) fn refill(buf: &mut BytesMut, big: usize) {
    if buf.is_empty() {
        buf.reserve(if big >= BIG_ARG { big } else { IOBUF_LEN });
    }
}

/// Puts the buffer back in the session before the connection waits.
pub(crate) fn park(sess: &Session, buf: &mut BytesMut, need: usize) {
    let mut q = sess.qbuf.borrow_mut();
    q.buf = std::mem::take(buf);
    q.need = need;
    sess.qbuf_shown.set((q.buf.len(), q.buf.capacity()));
}

/// Takes the buffer out of the session when the connection wakes.
pub(crate) fn take(sess: &Session) -> BytesMut {
    std::mem::take(&mut sess.qbuf.borrow_mut().buf)
}

/// The cron's look at one connection's buffer (Redis's `clientsCronResizeQueryBuffer`).
fn resize(sess: &Session) {
    let Ok(mut q) = sess.qbuf.try_borrow_mut() else {
        return;
    };
    let (len, cap) = (q.buf.len(), q.buf.capacity());
    if cap - len > MIN_WASTE {
        if sess.last_active().elapsed() > IDLE_FREE {
            q.buf = copy_with_room(&q.buf, 0);
        } else if cap > RESIZE_THRESHOLD && cap / 2 > q.peak {
            let keep = len.max(q.peak).max(q.need);
            q.buf = copy_with_room(&q.buf, keep - len);
        }
    }
    q.peak = len.max(q.need);
    sess.qbuf_shown.set((q.buf.len(), q.buf.capacity()));
}

/// A copy of `buf`'s bytes in an allocation of their size plus `room` (none if both are 0).
fn copy_with_room(buf: &BytesMut, room: usize) -> BytesMut {
    let mut b = BytesMut::new();
    if buf.len() + room > 0 {
        b.reserve(buf.len() + room);
        b.extend_from_slice(buf);
    }
    b
}

/// Every connection of this thread, from the thread's 100 ms cron.
pub(crate) fn cron(w: &Rc<Worker>) {
    for c in w.clients.borrow().iter() {
        resize(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refill_keeps_room_for_a_big_argument() {
        let mut b = BytesMut::new();
        refill(&mut b, 400_000);
        assert!(b.capacity() >= 400_000);
        let mut b = BytesMut::new();
        refill(&mut b, 100);
        assert!(b.capacity() >= IOBUF_LEN && b.capacity() < 2 * IOBUF_LEN);
    }

    #[test]
    fn copy_keeps_the_bytes_and_the_room() {
        let mut b = BytesMut::with_capacity(100_000);
        b.extend_from_slice(b"*1\r\n$4\r\nPI");
        let c = copy_with_room(&b, 16);
        assert_eq!(&c[..], &b[..]);
        assert!(c.capacity() >= b.len() + 16 && c.capacity() < 1000);
        assert_eq!(copy_with_room(&BytesMut::new(), 0).capacity(), 0);
    }
}
