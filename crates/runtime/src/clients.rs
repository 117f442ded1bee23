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

/// One line of CLIENT LIST (and CLIENT INFO) for `c`, in Redis 7's field order.
pub(crate) fn line(c: &Session) -> String {
    let now = Instant::now();
    format!(
        "id={} addr={} laddr={} fd=-1 name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
        c.id,
        c.addr,
        c.laddr,
        String::from_utf8_lossy(&c.name.borrow()),
        now.duration_since(c.created).as_secs(),
        now.duration_since(c.last_active()).as_secs(),
        if c.blocked.borrow().is_some() {
            "b"
        } else if c.pubsub.total() > 0 {
            "P"
        } else if c.pubsub.monitoring() {
            "O"
        } else {
            "N"
        },
        c.db(),
        c.pubsub.of_kind(crate::pubsub::Kind::Channel),
        c.pubsub.of_kind(crate::pubsub::Kind::Pattern),
        c.pubsub.of_kind(crate::pubsub::Kind::Shard),
        c.last_cmd(),
        c.resp(),
        String::from_utf8_lossy(&c.lib_name.borrow()),
        String::from_utf8_lossy(&c.lib_ver.borrow()),
    )
}
