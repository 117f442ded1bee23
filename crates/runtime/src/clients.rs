//! The clients connected to one thread, as CLIENT LIST and INFO see them.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use tokio::sync::Notify;

/// What is known about one connection.
pub(crate) struct ClientInfo {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub name: Vec<u8>,
    pub lib_name: Vec<u8>,
    pub lib_ver: Vec<u8>,
    pub created: Instant,
    pub last_active: Instant,
    pub db: usize,
    pub resp: u8,
    pub last_cmd: &'static str,
    /// Woken to close the connection (CLIENT KILL).
    pub kill: Rc<Notify>,
    /// The command it is blocked in, if any (CLIENT UNBLOCK).
    pub blocked: Option<std::sync::Arc<crate::blocking::Waiter>>,
}

impl ClientInfo {
    /// One line of CLIENT LIST, in Redis 7's field order.
    pub fn line(&self) -> String {
        let now = Instant::now();
        format!(
            "id={} addr={} laddr={} fd=-1 name={} age={} idle={} flags={} db={} sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.laddr,
            String::from_utf8_lossy(&self.name),
            now.duration_since(self.created).as_secs(),
            now.duration_since(self.last_active).as_secs(),
            if self.blocked.is_some() { "b" } else { "N" },
            self.db,
            self.last_cmd,
            self.resp,
            String::from_utf8_lossy(&self.lib_name),
            String::from_utf8_lossy(&self.lib_ver),
        )
    }
}

/// The clients of one thread.
#[derive(Default)]
pub(crate) struct Clients {
    pub list: Vec<Rc<RefCell<ClientInfo>>>,
}

impl Clients {
    pub fn add(&mut self, c: Rc<RefCell<ClientInfo>>) {
        self.list.push(c);
    }

    pub fn remove(&mut self, id: u64) {
        self.list.retain(|c| c.borrow().id != id);
    }
}
