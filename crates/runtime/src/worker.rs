//! `Worker`: one thread's state — its shard, its clients, its end of the mesh — and how it runs
//! the messages other threads send it.
//!
//! **Architecture Invariant.** A worker's shard is touched only on its own thread. Other
//! threads reach it only through a [`Msg`] on the mesh; nothing here is shared or locked.
//!
//! Key locks (for commands that span shards) live here too: a transaction locks its keys on
//! every shard it touches, in ascending shard order, so two transactions can never wait on each
//! other in a cycle. While a key is locked, work that touches it waits in this worker's FIFO
//! queue; when the queue is empty and nothing is locked (the common case) work runs at once.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use rustis_commands::registry::{Partial, Run};
use rustis_commands::txn::{HiddenFn, Keys, LocalKeys};
use rustis_commands::{CommandSpec, Out, ShardCtx};
use rustis_storage::{DbIndex, Shard};
use tokio::sync::{mpsc, oneshot};

use crate::clients::Clients;
use crate::mesh::{BatchWait, Doorbell, Replies, ReplyTo};
use crate::shared::Shared;

/// One command bound for a shard.
pub(crate) struct Item {
    pub spec: &'static CommandSpec,
    pub db: DbIndex,
    pub args: Vec<Bytes>,
    /// The sender's client-side caching tag, if it tracks (`tracking.rs`).
    pub track: Option<crate::tracking::Tag>,
}

/// The replies to a batch: their bytes, and where each reply ends.
///
/// It travels boxed, both ways: a connection hands the box of its previous reply from a shard
/// along with its next batch for that shard (see [`Msg::Batch`]), the shard clears it and writes
/// into it, and it comes back in [`Msg::Replied`]. So the box and its buffers are allocated once
/// per connection and shard, and every mesh message stays small: a message moves through the
/// queue and the reply slots several times per hop, and at 168 bytes (this struct inline) each
/// move was a `memcpy` call.
#[derive(Default)]
pub(crate) struct BatchReply {
    pub buf: BytesMut,
    pub ends: Vec<usize>,
    /// Per item: how long it ran, in nanoseconds (for the sender's statistics, see `stats`).
    pub nanos: Vec<u64>,
    /// The batch's items, handed back untouched: their arguments are freed on the sender's
    /// thread, where they were allocated (and where the read buffer they point into has its
    /// reference count), rather than here, and the vector is reused for the next batch.
    pub items: Vec<Item>,
    /// Large values the replies reference instead of copying, with their offsets in `buf`
    /// (see `Out::bulk_shared`); the sender sends them from where they are stored.
    pub shared: Vec<(usize, Bytes)>,
    // ---- Undeclared keys (SORT BY/GET patterns): see docs/transactions.md. ----
    /// Commands of the batch that asked for keys this shard could not give them (index in the
    /// batch, the keys): they wrote no reply, and the coordinator runs them again on the
    /// cross-shard path.
    pub retry: Vec<(usize, NeededKeys)>,
}

/// Undeclared keys a command asked for, as `(db, key)`.
pub(crate) type NeededKeys = Vec<(DbIndex, Bytes)>;

/// A transaction's identity: the coordinating thread in the top bits, a counter below.
pub(crate) type TxId = u64;

/// Work run on another thread, with access to that thread's worker.
pub(crate) type CallFn = Box<dyn FnOnce(&Worker) -> Partial + Send>;

/// One shard's part of a cross-shard command. It may run more than once (a try that ran it
/// and was then given up discards its result; see `dispatch::run_locked`), so it must only
/// read when it may be given up.
pub(crate) type PartFn = Arc<dyn Fn(&Worker) -> Partial + Send + Sync>;

/// A message on the mesh.
pub(crate) enum Msg {
    /// Commands from one read of one connection, all for keys this shard owns.
    Batch {
        items: Vec<Item>,
        resp3: bool,
        /// Where to write the replies (cleared first): the box of this connection's previous
        /// reply from this shard, or a new one.
        into: Box<BatchReply>,
        /// Where the replies go: a [`Msg::Replied`] to the sender's thread.
        reply: ReplyTo,
    },
    /// The replies to a batch this thread sent (see `mesh.rs`).
    Replied {
        token: usize,
        reply: Box<BatchReply>,
    },
    /// Lock keys (or the whole shard) for a transaction. The reply is `true` once they are
    /// held; with `try_only`, it is `false` at once when they cannot be granted right now, and
    /// nothing waits in the queue.
    Lock {
        tx: TxId,
        set: LockSet,
        try_only: bool,
        reply: oneshot::Sender<bool>,
    },
    /// Release a transaction's locks here (after a try round that did not get every shard).
    Unlock(TxId),
    /// Try to lock `set` for `tx` at once and, if granted, run `f` under the lock; with
    /// `release`, unlock right after. The reply is `None` if the lock could not be granted
    /// now (nothing ran, nothing waits).
    TryRun {
        tx: TxId,
        set: LockSet,
        release: bool,
        f: PartFn,
        reply: oneshot::Sender<Option<Partial>>,
    },
    /// Run a function here. With `tx`, it belongs to a transaction that holds its locks, so it
    /// runs at once; with `unlock`, the transaction's locks here are released afterwards.
    Call {
        tx: Option<TxId>,
        unlock: bool,
        f: CallFn,
        reply: oneshot::Sender<Partial>,
    },
    /// Take over a connection whose commands keep coming to this shard.
    /// Boxed: it is rare, and every message on the mesh is as large as its largest kind
    /// (a batch's message stays small enough to be moved without a `memcpy` call).
    Adopt(Box<crate::conn::Migrant>),
}

// Every message moves through the queue and the reply slots several times per hop: keep it
// small enough to move without a `memcpy` call (see `BatchReply`).
const _: () = assert!(std::mem::size_of::<Msg>() <= 72);

enum Queued {
    Batch {
        items: Vec<Item>,
        resp3: bool,
        into: Box<BatchReply>,
        reply: ReplyTo,
    },
    Lock {
        tx: TxId,
        set: LockSet,
        reply: oneshot::Sender<bool>,
    },
}

/// What a transaction locks on one shard.
#[derive(Clone, Debug)]
pub(crate) enum LockSet {
    /// These keys.
    Keys(Vec<(DbIndex, Bytes)>),
    /// The whole shard, every database (FLUSHALL, SWAPDB, KEYS, DBSIZE, ...): granted when no
    /// other transaction holds a key here, and while held, nothing else runs here.
    All,
}

#[derive(Default)]
struct Locks {
    held: hashbrown::HashMap<(DbIndex, Bytes), TxId>,
    /// The transaction holding the whole shard, if any.
    whole: Option<TxId>,
    by_tx: hashbrown::HashMap<TxId, Vec<(DbIndex, Bytes)>>,
    queue: VecDeque<Queued>,
}

impl Locks {
    fn idle(&self) -> bool {
        self.held.is_empty() && self.queue.is_empty() && self.whole.is_none()
    }

    fn keys_free<'a>(
        &self,
        mut keys: impl Iterator<Item = (DbIndex, &'a Bytes)>,
        tx: Option<TxId>,
    ) -> bool {
        if self.whole.is_some_and(|o| Some(o) != tx) {
            return false;
        }
        if self.held.is_empty() {
            return true;
        }
        keys.all(|(db, k)| match self.held.get(&(db, k.clone())) {
            None => true,
            Some(owner) => Some(*owner) == tx,
        })
    }

    fn set_free(&self, set: &LockSet, tx: TxId) -> bool {
        match set {
            LockSet::Keys(keys) => self.keys_free(keys.iter().map(|(d, k)| (*d, k)), Some(tx)),
            LockSet::All => self.whole.unwrap_or(tx) == tx && self.held.values().all(|o| *o == tx),
        }
    }

    fn items_free(&self, items: &[Item]) -> bool {
        if self.whole.is_some() {
            return false;
        }
        if self.held.is_empty() {
            return true;
        }
        items.iter().all(|it| {
            let pos = it.spec.key_positions(&it.args).unwrap_or_default();
            self.keys_free(pos.iter().map(|&i| (it.db, &it.args[i])), None)
        })
    }

    fn grant(&mut self, tx: TxId, set: LockSet) {
        match set {
            LockSet::Keys(keys) => {
                for k in &keys {
                    self.held.insert(k.clone(), tx);
                }
                self.by_tx.entry(tx).or_default().extend(keys);
            }
            LockSet::All => {
                self.whole = Some(tx);
                self.by_tx.entry(tx).or_default();
            }
        }
    }
}

/// One thread's worker.
pub(crate) struct Worker {
    pub id: usize,
    pub n: usize,
    pub shard: RefCell<Shard>,
    pub clients: RefCell<Clients>,
    pub shared: Arc<Shared>,
    /// Commands executed on this thread's connections (INFO `total_commands_processed`).
    pub commands: Cell<u64>,
    locks: RefCell<Locks>,
    peers: Vec<Option<mpsc::UnboundedSender<Msg>>>,
    /// Every thread's doorbell, this one's included (`mesh.rs`).
    bells: Vec<Arc<Doorbell>>,
    /// Batches this thread sent, waiting for their replies.
    replies: Rc<RefCell<Replies>>,
    next_tx: Cell<u64>,
    /// Clients blocked on this shard's keys (see `blocking.rs`), and how many registrations.
    pub blocked: RefCell<crate::blocking::Blocked>,
    pub n_blocked: Cell<usize>,
    /// This thread's Lua engine and what it knows of other threads' loads.
    pub scripting: crate::script::Scripting,
    /// This thread's ends of the mesh queues, one per other thread.
    inbox: RefCell<Vec<mpsc::UnboundedReceiver<Msg>>>,
    /// Write commands run from this thread's connections (`rdb_changes_since_last_save`).
    pub dirty: Cell<u64>,
    /// This shard's running background snapshot, and the wake-up of its task (`persist.rs`).
    pub snap: RefCell<Option<crate::persist::ShardSnap>>,
    pub snap_wake: tokio::sync::Notify,
    /// This thread's accept loops, each with whether it is a TLS port's (CONFIG SET of
    /// `port` or `bind` replaces the plain ones, `server.rs`).
    pub accepts: RefCell<Vec<(tokio::task::JoinHandle<()>, bool)>>,
    /// Thread 0's task serving `metrics-port` (CONFIG SET of it replaces the task).
    pub metrics_task: RefCell<Option<tokio::task::JoinHandle<()>>>,
    /// The `Rc` this worker lives in, for work sent to it that starts tasks of its own.
    pub me: std::rc::Weak<Worker>,
}

impl Worker {
    pub fn new(
        id: usize,
        shard: Shard,
        shared: Arc<Shared>,
        peers: Vec<Option<mpsc::UnboundedSender<Msg>>>,
        inbox: Vec<mpsc::UnboundedReceiver<Msg>>,
        bells: Vec<Arc<Doorbell>>,
        me: std::rc::Weak<Worker>,
    ) -> Self {
        Worker {
            id,
            n: peers.len(),
            shard: RefCell::new(shard),
            clients: RefCell::new(Clients::default()),
            shared,
            commands: Cell::new(0),
            locks: RefCell::new(Locks::default()),
            peers,
            bells,
            replies: Default::default(),
            next_tx: Cell::new(0),
            blocked: RefCell::new(Default::default()),
            n_blocked: Cell::new(0),
            scripting: Default::default(),
            inbox: RefCell::new(inbox),
            dirty: Cell::new(0),
            snap: RefCell::new(None),
            snap_wake: tokio::sync::Notify::new(),
            accepts: RefCell::new(Vec::new()),
            metrics_task: RefCell::new(None),
            me,
        }
    }

    /// Runs every message already waiting in the mesh queues. Connection tasks call it before
    /// their own work, so another thread's batch never waits behind a whole round of this
    /// thread's connections (it would otherwise be served only when the mesh task's turn came).
    pub fn drain_inbox(self: &Rc<Self>) {
        if let Some(bell) = self.bells.get(self.id) {
            bell.draining();
        }
        loop {
            let msg = {
                let mut inbox = self.inbox.borrow_mut();
                inbox.iter_mut().find_map(|rx| rx.try_recv().ok())
            };
            match msg {
                Some(m) => self.handle(m),
                None => break,
            }
        }
    }

    /// A fresh transaction id, unique across threads without any shared counter.
    pub fn new_tx(&self) -> TxId {
        let c = self.next_tx.get() + 1;
        self.next_tx.set(c);
        ((self.id as u64) << 48) | c
    }

    /// The shard, borrowed, with the clock read into it: how a part or call sent from another
    /// thread starts.
    pub fn shard_now(&self) -> std::cell::RefMut<'_, Shard> {
        let now = self.shared.clock.now_ms();
        let mut shard = self.shard.borrow_mut();
        shard.set_now(now);
        // A client pause keeps the dataset still: expired keys stay (pause.rs).
        shard.set_keep_expired(self.shared.pause.active() && self.shared.pause.at(now).is_some());
        shard
    }

    /// Whether no transaction holds or waits for anything here.
    pub fn locks_idle(&self) -> bool {
        self.locks.borrow().idle()
    }

    /// Whether a transaction holds locks here or waits for them (client-side caching's
    /// broadcasts wait for its end, see `tracking.rs`).
    pub fn in_transaction(&self) -> bool {
        !self.locks_idle()
    }

    /// Reads the clock into the shard: every command of the batch sees this time.
    pub fn tick_clock(&self) {
        drop(self.shard_now());
    }

    /// Whether a command for this shard may run inline right now: nothing queued, and none of
    /// its keys locked by a transaction.
    pub fn may_run_inline(&self, spec: &CommandSpec, db: DbIndex, args: &[Bytes]) -> bool {
        let locks = self.locks.borrow();
        if locks.idle() {
            return true;
        }
        if !locks.queue.is_empty() || locks.whole.is_some() {
            return false;
        }
        let pos = spec.key_positions(args).unwrap_or_default();
        locks.keys_free(pos.iter().map(|&i| (db, &args[i])), None)
    }

    /// Runs one command on this shard, writing its reply. If instead it asked for keys it did
    /// not declare and this shard cannot give them, it wrote nothing and they are returned.
    pub fn exec(
        &self,
        spec: &CommandSpec,
        db: DbIndex,
        args: &[Bytes],
        out: &mut Out,
    ) -> Option<NeededKeys> {
        let mut shard = self.shard.borrow_mut();
        let need = self.exec_here(&mut shard, spec, db, args, out);
        self.serve_ready_on(&mut shard);
        need
    }

    /// [`exec_on`], hiding from the command the undeclared keys a transaction holds locked.
    fn exec_here(
        &self,
        shard: &mut Shard,
        spec: &CommandSpec,
        db: DbIndex,
        args: &[Bytes],
        out: &mut Out,
    ) -> Option<NeededKeys> {
        let locks = self.locks.borrow();
        let hidden = |d: DbIndex, k: &[u8]| {
            locks.whole.is_some()
                || (!locks.held.is_empty()
                    && locks.held.contains_key(&(d, Bytes::copy_from_slice(k))))
        };
        exec_on(shard, spec, db, args, out, &hidden)
    }

    /// Runs one command on this shard for transaction `tx`, which holds what it needs here
    /// (or, with `None`, for a caller that checked nothing is locked in its way): the keys
    /// `tx` holds are visible to it, those of other transactions hidden. Blocked clients are
    /// not served here; they are when the transaction ends.
    pub fn exec_in_tx(
        &self,
        tx: Option<TxId>,
        spec: &CommandSpec,
        db: DbIndex,
        args: &[Bytes],
        out: &mut Out,
    ) -> Option<NeededKeys> {
        let mut shard = self.shard.borrow_mut();
        let locks = self.locks.borrow();
        let hidden = |d: DbIndex, k: &[u8]| {
            locks.whole.is_some_and(|o| Some(o) != tx)
                || (!locks.held.is_empty()
                    && locks
                        .held
                        .get(&(d, Bytes::copy_from_slice(k)))
                        .is_some_and(|o| Some(*o) != tx))
        };
        // A command of a transaction: the AOF tags what it logs with it.
        crate::aof::in_tx_locked(tx, || exec_on(&mut shard, spec, db, args, out, &hidden))
    }

    /// Whether none of `keys` is locked and nothing waits in the queue: a transaction may run
    /// them inline.
    pub fn keys_free(&self, keys: &[(DbIndex, Bytes)]) -> bool {
        let locks = self.locks.borrow();
        locks.idle()
            || (locks.queue.is_empty() && locks.keys_free(keys.iter().map(|(d, k)| (*d, k)), None))
    }

    /// Whether a transaction holds `key` of database `db` locked here.
    pub fn key_locked(&self, db: DbIndex, key: &[u8]) -> bool {
        let locks = self.locks.borrow();
        locks.whole.is_some()
            || (!locks.held.is_empty()
                && locks.held.contains_key(&(db, Bytes::copy_from_slice(key))))
    }

    fn run_batch(
        &self,
        items: Vec<Item>,
        resp3: bool,
        mut into: Box<BatchReply>,
    ) -> Box<BatchReply> {
        self.tick_clock();
        let mut buf = std::mem::take(&mut into.buf);
        buf.clear();
        let BatchReply {
            ends,
            nanos,
            retry,
            shared,
            ..
        } = &mut *into;
        ends.clear();
        ends.reserve(items.len());
        nanos.clear();
        nanos.reserve(items.len());
        retry.clear();
        shared.clear();
        // `Out::new` allocates nothing; its buffer is the one the batch brought. Large values
        // are shared: the sender's flush carries them over with `Out::extend_from`.
        let mut out = Out::new(resp3);
        out.buf = buf;
        out.share = true;
        if let Some(first) = items.first().filter(|_| items.len() > 1) {
            let db = first.db;
            crate::dispatch::prefetch_local(
                self,
                db,
                items
                    .iter()
                    .filter(|it| it.db == db)
                    .filter_map(|it| it.args.get(1)),
            );
        }
        let mut shard = self.shard.borrow_mut();
        // One clock reading per command: each one's end is the next one's start.
        let mut t0 = crate::stats::now();
        for (i, it) in items.iter().enumerate() {
            let _track = crate::tracking::Caller::enter(it.track.clone());
            let need = self.exec_here(&mut shard, it.spec, it.db, &it.args, &mut out);
            self.serve_ready_on(&mut shard);
            let t1 = crate::stats::now();
            nanos.push(crate::stats::since(t0, t1));
            t0 = t1;
            ends.push(out.buf.len());
            if let Some(need) = need {
                retry.push((i, need));
            }
        }
        into.shared = out.take_shared();
        into.buf = out.buf;
        into.items = items;
        into
    }

    /// Runs a batch now if it may, else queues it; the reply comes on the returned receiver.
    pub fn submit_batch(&self, items: Vec<Item>, resp3: bool, into: Box<BatchReply>) -> BatchWait {
        let token = self.replies.borrow_mut().open();
        let reply = ReplyTo {
            home: self.id,
            token,
        };
        self.accept_batch(items, resp3, into, reply);
        BatchWait::new(self.replies.clone(), token)
    }

    /// Sends a batch's replies where `to` says, once the events its commands published to
    /// other threads are delivered (see `pubsub::reply_after_events`).
    fn answer(&self, mark: u64, to: ReplyTo, r: Box<BatchReply>) {
        if crate::pubsub::settled_since(mark) {
            self.deliver(to, r);
            return;
        }
        let path = if to.home == self.id {
            ReplyPath::Here(self.replies.clone())
        } else {
            ReplyPath::There(
                self.peers.get(to.home).cloned().flatten(),
                self.bells.get(to.home).cloned(),
            )
        };
        crate::pubsub::after_events(mark, move || path.deliver(to, r));
    }

    fn deliver(&self, to: ReplyTo, r: Box<BatchReply>) {
        if to.home == self.id {
            crate::mesh::fill(&self.replies, to.token, Some(r));
        } else {
            self.post(
                to.home,
                Msg::Replied {
                    token: to.token,
                    reply: r,
                },
            );
        }
    }

    fn accept_batch(&self, items: Vec<Item>, resp3: bool, into: Box<BatchReply>, reply: ReplyTo) {
        let runnable = {
            let locks = self.locks.borrow();
            locks.queue.is_empty() && locks.items_free(&items)
        };
        if runnable {
            let mark = crate::pubsub::mark();
            let r = self.run_batch(items, resp3, into);
            self.answer(mark, reply, r);
        } else {
            self.locks.borrow_mut().queue.push_back(Queued::Batch {
                items,
                resp3,
                into,
                reply,
            });
        }
    }

    /// Grants a lock now if nothing is queued ahead of it and what it locks is free; else
    /// queues it, or with `try_only` refuses it (a try never waits, so it adds no edge to any
    /// chain of waits: see docs/transactions.md).
    fn accept_lock(&self, tx: TxId, set: LockSet, try_only: bool, reply: oneshot::Sender<bool>) {
        let mut locks = self.locks.borrow_mut();
        if locks.queue.is_empty() && locks.set_free(&set, tx) {
            locks.grant(tx, set);
            let _ = reply.send(true);
        } else if try_only {
            let _ = reply.send(false);
        } else {
            locks.queue.push_back(Queued::Lock { tx, set, reply });
        }
    }

    /// Locks `set` for `tx` if that can be done at once (nothing queued ahead, nothing held
    /// against it); a try never waits.
    pub fn try_lock(&self, tx: TxId, set: LockSet) -> bool {
        let mut locks = self.locks.borrow_mut();
        let free = locks.queue.is_empty() && locks.set_free(&set, tx);
        if free {
            locks.grant(tx, set);
        }
        free
    }

    /// [`Msg::TryRun`] on this thread.
    pub fn try_run(&self, tx: TxId, set: LockSet, release: bool, f: &PartFn) -> Option<Partial> {
        if !self.try_lock(tx, set) {
            return None;
        }
        let part = crate::aof::in_tx(self, Some(tx), || f(self));
        if release {
            self.unlock(tx);
        }
        self.serve_ready();
        Some(part)
    }

    /// [`Msg::TryRun`] on shard `s` (this one included).
    pub fn send_try_run(
        &self,
        s: usize,
        tx: TxId,
        set: LockSet,
        release: bool,
        f: PartFn,
    ) -> oneshot::Receiver<Option<Partial>> {
        let (reply, rx) = oneshot::channel();
        let f = crate::tracking::carry_part(f);
        if s == self.id {
            let _ = reply.send(self.try_run(tx, set, release, &f));
        } else {
            self.post(
                s,
                Msg::TryRun {
                    tx,
                    set,
                    release,
                    f,
                    reply,
                },
            );
        }
        rx
    }

    /// Releases a transaction's locks here and runs what was waiting for them, in order.
    pub fn unlock(&self, tx: TxId) {
        {
            let mut locks = self.locks.borrow_mut();
            if let Some(keys) = locks.by_tx.remove(&tx) {
                for k in keys {
                    locks.held.remove(&k);
                }
            }
            if locks.whole == Some(tx) {
                locks.whole = None;
            }
        }
        loop {
            let next = {
                let mut locks = self.locks.borrow_mut();
                let runnable = match locks.queue.front() {
                    None => false,
                    Some(Queued::Batch { items, .. }) => locks.items_free(items),
                    Some(Queued::Lock { tx, set, .. }) => locks.set_free(set, *tx),
                };
                if !runnable {
                    break;
                }
                locks.queue.pop_front()
            };
            match next {
                Some(Queued::Batch {
                    items,
                    resp3,
                    into,
                    reply,
                }) => {
                    let mark = crate::pubsub::mark();
                    let r = self.run_batch(items, resp3, into);
                    self.answer(mark, reply, r);
                }
                Some(Queued::Lock { tx, set, reply }) => {
                    self.locks.borrow_mut().grant(tx, set);
                    let _ = reply.send(true);
                }
                None => break,
            }
        }
        self.serve_ready();
        crate::tracking::unlocked(self);
    }

    /// Handles a message from another thread.
    pub fn handle(self: &Rc<Self>, msg: Msg) {
        match msg {
            Msg::Batch {
                items,
                resp3,
                into,
                reply,
            } => self.accept_batch(items, resp3, into, reply),
            Msg::Replied { token, reply } => crate::mesh::fill(&self.replies, token, Some(reply)),
            Msg::Lock {
                tx,
                set,
                try_only,
                reply,
            } => self.accept_lock(tx, set, try_only, reply),
            Msg::Unlock(tx) => self.unlock(tx),
            Msg::TryRun {
                tx,
                set,
                release,
                f,
                reply,
            } => {
                let mark = crate::pubsub::mark();
                let r = self.try_run(tx, set, release, &f);
                crate::pubsub::reply_after_events(mark, reply, r);
            }
            Msg::Call {
                tx,
                unlock,
                f,
                reply,
            } => {
                let mark = crate::pubsub::mark();
                // Its records belong to the transaction (the AOF's block for it).
                let r = crate::aof::in_tx(self, tx, || f(self));
                if unlock {
                    if let Some(tx) = tx {
                        self.unlock(tx);
                    }
                }
                self.serve_ready();
                // Keyspace events it published reach other threads before its reply does.
                crate::pubsub::reply_after_events(mark, reply, r);
            }
            Msg::Adopt(m) => crate::conn::adopt(self, *m),
        }
        // Changes made here outside a command (a write-back, a part of a multi-key command)
        // reach the AOF before anything else this thread does.
        if crate::aof::on() {
            if let Ok(mut shard) = self.shard.try_borrow_mut() {
                crate::aof::flush_pending(&mut shard);
            }
        }
    }

    /// Sends a batch to shard `s` (this one included), with the box to write its replies into
    /// (`Default::default()` will do); the replies come on the receiver.
    pub fn send_batch(
        &self,
        s: usize,
        items: Vec<Item>,
        resp3: bool,
        into: Box<BatchReply>,
    ) -> BatchWait {
        if s == self.id {
            return self.submit_batch(items, resp3, into);
        }
        let token = self.replies.borrow_mut().open();
        let reply = ReplyTo {
            home: self.id,
            token,
        };
        let sent = self.post(
            s,
            Msg::Batch {
                items,
                resp3,
                into,
                reply,
            },
        );
        if !sent {
            // That thread has stopped (shutdown): no reply will come.
            crate::mesh::fill(&self.replies, token, None);
        }
        BatchWait::new(self.replies.clone(), token)
    }

    /// Locks `set` on shard `s` for transaction `tx` (see [`Msg::Lock`] for `try_only`).
    pub fn send_lock(
        &self,
        s: usize,
        tx: TxId,
        set: LockSet,
        try_only: bool,
    ) -> oneshot::Receiver<bool> {
        let (reply, rx) = oneshot::channel();
        if s == self.id {
            self.accept_lock(tx, set, try_only, reply);
        } else {
            self.post(
                s,
                Msg::Lock {
                    tx,
                    set,
                    try_only,
                    reply,
                },
            );
        }
        rx
    }

    /// Releases transaction `tx`'s locks on shard `s` without waiting for it. Messages from
    /// one thread to another arrive in the order they were sent, so a lock request sent after
    /// it is handled after it.
    pub fn send_unlock(&self, s: usize, tx: TxId) {
        if s == self.id {
            self.unlock(tx);
        } else {
            self.post(s, Msg::Unlock(tx));
        }
    }

    /// Runs `f` on shard `s`'s thread (this one included).
    pub fn send_call(
        &self,
        s: usize,
        tx: Option<TxId>,
        unlock: bool,
        f: CallFn,
    ) -> oneshot::Receiver<Partial> {
        let (reply, rx) = oneshot::channel();
        // Work done for a tracking client elsewhere remembers its reads for that client.
        let f = crate::tracking::carry_call(f);
        if s == self.id {
            let r = crate::aof::in_tx(self, tx, || f(self));
            if unlock {
                if let Some(tx) = tx {
                    self.unlock(tx);
                }
            }
            self.serve_ready();
            let _ = reply.send(r);
        } else {
            self.post(
                s,
                Msg::Call {
                    tx,
                    unlock,
                    f,
                    reply,
                },
            );
        }
        rx
    }

    /// Sends a message to shard `s`'s thread.
    /// Posts `msg` to thread `s`, ringing it if it sleeps; false if that thread has stopped
    /// (shutdown: a reply sender in the message, dropped, then tells the waiting side).
    pub fn post(&self, s: usize, msg: Msg) -> bool {
        let Some(Some(peer)) = self.peers.get(s) else {
            return false;
        };
        if peer.send(msg).is_err() {
            return false;
        }
        if let Some(bell) = self.bells.get(s) {
            bell.posted();
        }
        true
    }
}

/// Runs one command on `shard`: the single place where a spec's `Run` kind meets a shard.
///
/// A `Txn` command that asks for undeclared keys this shard cannot give it (another shard's,
/// or `hidden` ones) writes nothing, and the keys it needs are returned.
pub(crate) fn exec_on(
    shard: &mut Shard,
    spec: &CommandSpec,
    db: DbIndex,
    args: &[Bytes],
    out: &mut Out,
    hidden: HiddenFn<'_>,
) -> Option<NeededKeys> {
    // Over `maxmemory`, the shard frees memory first (see evict.rs).
    crate::evict::before_command(shard);
    // Keyspace notifications name the command that changed a key.
    let _cx = crate::notify::Context::enter(args);
    // The AOF logs what the command changed here (one flag test while it is off).
    let aof = crate::aof::on();
    let start = out.buf.len();
    if aof {
        crate::aof::begin(shard);
    }
    let need = exec_run(shard, spec, db, args, out, hidden);
    // Client-side caching remembers the keys a tracking client read here.
    if need.is_none() {
        crate::tracking::after_command(spec, args);
    }
    crate::tracking::write_own(out);
    if aof && need.is_none() {
        crate::aof::end_command(shard, spec, db, args, &out.buf[start.min(out.buf.len())..]);
    }
    crate::evict::after_command(shard);
    need
}

fn exec_run(
    shard: &mut Shard,
    spec: &CommandSpec,
    db: DbIndex,
    args: &[Bytes],
    out: &mut Out,
    hidden: HiddenFn<'_>,
) -> Option<NeededKeys> {
    match &spec.run {
        Run::Shard(f) => f(&mut ShardCtx::new(shard, db), args, out),
        Run::MultiKey(ops) => match spec.key_positions(args) {
            Ok(pos) => {
                let part = (ops.per_shard)(&mut ShardCtx::new(shard, db), args, &pos);
                (ops.merge)(args, vec![(pos, part)], out);
            }
            Err(e) => out.error(&e),
        },
        Run::Txn(f) => {
            let dbs = spec
                .key_positions(args)
                .and_then(|pos| Ok((spec.dbs_of_keys(args, db, pos.len())?, pos)))
                .and_then(|(dbs, pos)| {
                    if dbs.iter().any(|&d| d >= shard.dbs.len()) {
                        return Err(rustis_storage::OpError::DbIndexOutOfRange
                            .message()
                            .to_string());
                    }
                    Ok((dbs, pos))
                });
            match dbs {
                Ok((dbs, pos)) => {
                    let keys = pos.iter().map(|&i| args[i].clone()).collect();
                    let mut view = LocalKeys::with_dbs(shard, dbs, keys).hiding(hidden);
                    let start = out.buf.len();
                    f(&mut view, args, out);
                    if view.missing() {
                        // The command stopped before changing anything; drop what it wrote.
                        out.truncate(start);
                        return Some(view.into_needed());
                    }
                }
                Err(e) => out.error(&e),
            }
        }
        Run::Fanout(ops) => {
            let part = (ops.per_shard)(&mut ShardCtx::new(shard, db), args);
            (ops.merge)(args, vec![part], out);
        }
        Run::Conn(_) => {
            debug_assert!(false, "connection commands never reach a shard");
            out.error("ERR internal routing error");
        }
    }
    None
}

/// The receiving end of the mesh: runs every message other threads send here, when no
/// connection task has already picked it up (see [`Worker::drain_inbox`]).
pub(crate) async fn serve_mesh(w: Rc<Worker>) {
    let Some(bell) = w.bells.get(w.id).cloned() else {
        return;
    };
    let held = crate::mesh::BellFd(bell.clone());
    // SAFETY: the descriptor is the doorbell's eventfd, which `held` keeps open (it owns an
    // `Arc` of the doorbell) for as long as the registration lives, and it never changes.
    let registered = unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(held, tokio::io::Interest::READABLE)
    };
    let fd = match registered {
        Ok(fd) => fd,
        Err(e) => {
            tracing::warn!("the mesh's doorbell could not be registered: {e}");
            return;
        }
    };
    loop {
        // Rung: another thread posted while this one was parked (or about to be).
        let Ok(mut ready) = fd.readable().await else {
            return;
        };
        bell.clear();
        ready.clear_ready();
        w.drain_inbox();
    }
}

/// How a reply held back until events are delivered reaches the thread that waits for it.
enum ReplyPath {
    Here(Rc<RefCell<Replies>>),
    There(Option<mpsc::UnboundedSender<Msg>>, Option<Arc<Doorbell>>),
}

impl ReplyPath {
    fn deliver(self, to: ReplyTo, r: Box<BatchReply>) {
        match self {
            ReplyPath::Here(replies) => crate::mesh::fill(&replies, to.token, Some(r)),
            ReplyPath::There(Some(peer), bell) => {
                let msg = Msg::Replied {
                    token: to.token,
                    reply: r,
                };
                if peer.send(msg).is_ok() {
                    if let Some(bell) = bell {
                        bell.posted();
                    }
                }
            }
            ReplyPath::There(None, _) => {}
        }
    }
}

// ---- Active expiry. ----
/// Runs Redis's adaptive active expiry cycle on this thread's shard every
/// [`rustis_storage::expire::CYCLE_PERIOD`], within its CPU budget, reading the server clock
/// (so tests with a manual clock see it too).
pub(crate) async fn active_expiry(w: Rc<Worker>) {
    use rustis_storage::expire::{CYCLE_BUDGET, CYCLE_PERIOD};
    let mut tick = tokio::time::interval(CYCLE_PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        crate::evict::cron(&w);
        crate::qbuf::cron(&w);
        crate::pubsub::cron(&w);
        // DEBUG SET-ACTIVE-EXPIRE 0 pauses it; lazy expiry still hides expired keys.
        if !w
            .shared
            .debug
            .active_expire
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            continue;
        }
        let now = w.shared.clock.now_ms();
        let started = std::time::Instant::now();
        {
            let mut shard = w.shard.borrow_mut();
            // A client pause keeps expired keys: the cycle then deletes nothing (pause.rs).
            shard.set_keep_expired(w.shared.pause.active() && w.shared.pause.at(now).is_some());
            shard.active_expire_cycle(now, CYCLE_BUDGET);
            crate::aof::flush_pending(&mut shard);
        }
        // The latency monitor's `expire-cycle` event, as Redis records it.
        let ms = started.elapsed().as_millis() as u64;
        crate::latency::event_if_needed(&w, "expire-cycle", ms);
        // The tracking table's size limit (after CONFIG SET lowered it).
        crate::tracking::cron(&w);
    }
}
// ---- End of active expiry. ----
