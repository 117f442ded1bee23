//! `Session`: the one record of a connection's state — who it is (id, addresses, when it
//! connected), what commands set on it (database, protocol, names), what it is doing (its last
//! command, the command it is blocked in, whether it is closing) and its inbox of pushes.
//!
//! The connection task and its thread's client registry (`clients.rs`) share it: commands
//! change it through the task, CLIENT LIST/INFO/KILL/UNBLOCK read it through the registry, and
//! connection migration moves it whole to another thread. It is never shared across threads
//! (the registry and the task are on the connection's thread); only its [`Pusher`] is.
//!
//! Fields that change while the connection runs are `Cell`s and `RefCell`s that are borrowed
//! only for a statement, never across an `.await`, so the registry can read them whenever the
//! connection task is suspended.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use rustis_storage::DbIndex;
use tokio::sync::mpsc;

use crate::blocking::Waiter;
use crate::multi::{Multi, Watched};

/// One connection's state.
pub(crate) struct Session {
    /// CLIENT ID: unique for the server's life.
    pub id: u64,
    /// The peer's address.
    pub addr: SocketAddr,
    /// The address the connection came in on.
    pub laddr: SocketAddr,
    /// When the connection was accepted.
    pub created: Instant,
    /// CLIENT SETNAME / HELLO SETNAME.
    pub name: RefCell<Vec<u8>>,
    /// CLIENT SETINFO LIB-NAME.
    pub lib_name: RefCell<Vec<u8>>,
    /// CLIENT SETINFO LIB-VER.
    pub lib_ver: RefCell<Vec<u8>>,
    /// The blocking command it waits in, if any (CLIENT UNBLOCK, CLIENT LIST's `b` flag).
    pub blocked: RefCell<Option<Arc<Waiter>>>,
    /// Whether a command of it waits for a client pause to end (CLIENT LIST's `b` flag).
    pub paused: Cell<bool>,
    /// The commands queued since MULTI, while a transaction is open.
    pub multi: RefCell<Option<Multi>>,
    /// The keys it WATCHes.
    pub watches: RefCell<Vec<Watched>>,
    /// Its socket, and whether its task waits for the next request with nothing read or
    /// unwritten: a thread busy in a long script answers such a connection itself (`busy.rs`).
    pub fd: Cell<i32>,
    /// Whether it may run commands that need authentication, and as which user (`None`:
    /// `default`) (`acl.rs`).
    pub authenticated: Cell<bool>,
    pub user: RefCell<Option<std::sync::Arc<str>>>,
    pub idle: Cell<bool>,
    db: Cell<DbIndex>,
    resp: Cell<u8>,
    closing: Cell<bool>,
    last_cmd: Cell<&'static str>,
    last_active: Cell<Instant>,
    pusher: Pusher,
    inbox: RefCell<mpsc::UnboundedReceiver<Push>>,
    /// Its subscriptions and the bytes of pub/sub frames waiting in its inbox.
    pub pubsub: crate::pubsub::SessState,
    /// Its query buffer while it waits (`qbuf.rs`), and that buffer's length and capacity
    /// as CLIENT LIST shows them (also while the connection has taken it to run commands).
    pub qbuf: RefCell<crate::qbuf::QueryBuf>,
    pub qbuf_shown: Cell<(usize, usize)>,
}

/// What can be sent to a connection that did not ask for it.
pub(crate) enum Push {
    /// Whole RESP frames, written between two replies (never inside one, and after every reply
    /// already produced). The sender encodes them for the connection's protocol.
    Frame(Bytes),
    /// Close the connection (CLIENT KILL).
    Kill,
    /// A client-side caching invalidation, framed by the connection for its protocol.
    Tracking(crate::tracking::Note),
}

/// Sends pushes to one connection, from any thread. Cheap to clone; holding one does not keep
/// the connection open. It stays valid when the connection moves to another thread.
#[derive(Clone)]
pub(crate) struct Pusher(
    mpsc::UnboundedSender<Push>,
    /// Woken by [`Pusher::kill`], for a connection stuck writing to a peer that does not read.
    std::sync::Arc<tokio::sync::Notify>,
);

impl Pusher {
    /// Queues frames for the connection; false if it has closed.
    pub fn push(&self, frame: Bytes) -> bool {
        self.0.send(Push::Frame(frame)).is_ok()
    }

    /// Queues an invalidation for the connection; false if it has closed.
    pub fn note(&self, n: crate::tracking::Note) -> bool {
        self.0.send(Push::Tracking(n)).is_ok()
    }

    /// Asks the connection to close. It wakes wherever it waits: idle, or blocked in a command.
    pub fn kill(&self) {
        let _ = self.0.send(Push::Kill);
        self.1.notify_one();
    }

    /// Resolves once the connection is asked to close (a permit is kept if nobody waits).
    pub async fn killed(&self) {
        self.1.notified().await;
    }
}

impl Session {
    /// A new connection's state: database 0, RESP2, no name.
    pub fn new(id: u64, addr: SocketAddr, laddr: SocketAddr) -> Session {
        // Unbounded: a push never waits (its sender may be a shard, which must not block).
        // Output limits for slow readers belong in the sender's policy, which can see how far
        // behind the connection is.
        let (tx, rx) = mpsc::unbounded_channel();
        let now = Instant::now();
        Session {
            id,
            addr,
            laddr,
            created: now,
            name: RefCell::default(),
            lib_name: RefCell::default(),
            lib_ver: RefCell::default(),
            blocked: RefCell::new(None),
            paused: Cell::new(false),
            multi: RefCell::new(None),
            watches: RefCell::new(Vec::new()),
            fd: Cell::new(-1),
            authenticated: Cell::new(false),
            user: RefCell::new(None),
            idle: Cell::new(false),
            db: Cell::new(0),
            resp: Cell::new(2),
            closing: Cell::new(false),
            last_cmd: Cell::new("NULL"),
            last_active: Cell::new(now),
            pusher: Pusher(tx, Default::default()),
            inbox: RefCell::new(rx),
            pubsub: Default::default(),
            qbuf: RefCell::default(),
            qbuf_shown: Cell::new((0, 0)),
        }
    }

    /// The selected database.
    pub fn db(&self) -> DbIndex {
        self.db.get()
    }

    /// SELECT.
    pub fn set_db(&self, db: DbIndex) {
        self.db.set(db);
    }

    /// Whether a transaction is open (MULTI without EXEC or DISCARD yet).
    pub fn in_multi(&self) -> bool {
        self.multi.borrow().is_some()
    }

    /// The protocol version, 2 or 3.
    pub fn resp(&self) -> u8 {
        self.resp.get()
    }

    /// HELLO's protocol version.
    pub fn set_resp(&self, resp: u8) {
        self.resp.set(resp);
    }

    /// Whether the connection closes once its current replies are written.
    pub fn closing(&self) -> bool {
        self.closing.get()
    }

    /// Closes the connection once its current replies are written (QUIT, a protocol error,
    /// CLIENT KILL of itself, a peer gone while blocked).
    pub fn close(&self) {
        self.closing.set(true);
    }

    /// Refuses further pushes: a sender then sees the connection as gone (a tracking client
    /// redirected here gets `tracking-redir-broken`). Called when a closing connection writes
    /// its last replies, since Redis frees a client right after writing QUIT's reply, before
    /// it runs another client's command.
    pub fn close_inbox(&self) {
        self.inbox.borrow_mut().close();
    }

    /// The last command it ran (CLIENT LIST `cmd=`).
    pub fn last_cmd(&self) -> &'static str {
        self.last_cmd.get()
    }

    /// Records the command it runs.
    pub fn set_last_cmd(&self, name: &'static str) {
        self.last_cmd.set(name);
    }

    /// When it last ran a command (CLIENT LIST `idle=`).
    pub fn last_active(&self) -> Instant {
        self.last_active.get()
    }

    /// Records that it ran commands just now.
    pub fn touch(&self) {
        self.last_active.set(Instant::now());
    }

    /// A handle to push to this connection from anywhere.
    pub fn pusher(&self) -> &Pusher {
        &self.pusher
    }

    /// Waits for the next push. The inbox is borrowed only while polled, never across a
    /// suspension, and its sender lives in this session, so it never runs dry.
    pub async fn next_push(&self) -> Push {
        let p = poll_fn(|cx| self.inbox.borrow_mut().poll_recv(cx))
            .await
            .unwrap_or(Push::Kill);
        self.taken(&p);
        p
    }

    /// The next push if one is already waiting.
    pub fn try_push(&self) -> Option<Push> {
        let p = self.inbox.borrow_mut().try_recv().ok()?;
        self.taken(&p);
        Some(p)
    }

    /// Counts a frame out of the inbox (the pub/sub output buffer limit counts what waits).
    fn taken(&self, p: &Push) {
        if let Push::Frame(f) = p {
            self.pubsub.taken(f.len());
        }
    }
}
