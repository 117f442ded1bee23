//! The clients connected to one thread (its registry of [`Session`]s), and the view of one that
//! CLIENT LIST and CLIENT INFO print. A client is found here by id from any thread: a message
//! to each thread looks it up in that thread's registry.

use std::rc::Rc;
use std::time::Instant;

use hashbrown::HashMap;

use crate::session::{Pusher, Session};

/// The clients of one thread, by id.
#[derive(Default)]
pub(crate) struct Clients {
    map: HashMap<u64, Rc<Session>>,
}

impl Clients {
    pub fn add(&mut self, c: Rc<Session>) {
        self.map.insert(c.id, c);
    }

    pub fn remove(&mut self, id: u64) {
        self.map.remove(&id);
    }

    pub fn get(&self, id: u64) -> Option<&Rc<Session>> {
        self.map.get(&id)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Rc<Session>> {
        self.map.values()
    }

    /// A handle to push to client `id`, if it is connected to this thread.
    pub fn pusher(&self, id: u64) -> Option<Pusher> {
        self.get(id).map(|c| c.pusher().clone())
    }
}

/// CLIENT LIST's `flags` for `c`, in Redis's order: `O` (MONITOR), `P` (subscribed), `x`
/// (in MULTI), `b` (blocked), else `N`.
fn flags(c: &Session) -> String {
    let mut f = String::new();
    if c.pubsub.monitoring() {
        f.push('O');
    }
    if c.pubsub.total() > 0 {
        f.push('P');
    }
    if c.in_multi() {
        f.push('x');
    }
    if c.blocked.borrow().is_some() || c.paused.get() {
        f.push('b');
    }
    f.push_str(&crate::tracking::flags_of(c).0);
    if f.is_empty() {
        f.push('N');
    }
    f
}

/// The line of the client asking (CLIENT LIST or CLIENT INFO) with its `qbuf`: what its query
/// buffer holds while it runs, the request itself (as RESP, as Redis's query buffer holds it),
/// in the buffer it was read into.
pub(crate) fn with_request(c: &Session, line: String, args: &[bytes::Bytes]) -> String {
    let mut n = 3 + args.len().to_string().len();
    for a in args {
        n += 1 + a.len().to_string().len() + 2 + a.len() + 2;
    }
    let cap = c.qbuf_shown.get().1.max(n);
    let (Some(from), Some(to)) = (line.find(" qbuf="), line.find(" argv-mem=")) else {
        return line;
    };
    format!(
        "{} qbuf={n} qbuf-free={}{}",
        &line[..from],
        cap - n,
        &line[to..]
    )
}

/// One line of CLIENT LIST (and CLIENT INFO) for `c`, in Redis 7's field order. `omem` is
/// the pub/sub frames waiting for it (a connection's replies are written before its next
/// request is read); `qbuf` and `qbuf-free` its query buffer (`qbuf.rs`); figures Rustis
/// does not keep per client (memory) are 0.
pub(crate) fn line(c: &Session) -> String {
    let now = Instant::now();
    let multi = c.multi.borrow().as_ref().map_or(-1, |m| m.queued() as i64);
    let (qlen, qcap) = c.qbuf_shown.get();
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={multi} qbuf={qlen} qbuf-free={} argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem={} tot-mem=0 events=r cmd={} user={} redir={} resp={} lib-name={} lib-ver={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd.get(),
        String::from_utf8_lossy(&c.name.borrow()),
        now.duration_since(c.created).as_secs(),
        now.duration_since(c.last_active()).as_secs(),
        flags(c),
        c.db(),
        c.pubsub.of_kind(crate::pubsub::Kind::Channel),
        c.pubsub.of_kind(crate::pubsub::Kind::Pattern),
        c.pubsub.of_kind(crate::pubsub::Kind::Shard),
        qcap - qlen,
        c.pubsub.queued(),
        c.last_cmd(),
        c.user.borrow().as_deref().unwrap_or("default"),
        crate::tracking::flags_of(c).1,
        c.resp(),
        String::from_utf8_lossy(&c.lib_name.borrow()),
        String::from_utf8_lossy(&c.lib_ver.borrow()),
    )
}
