//! Blocking commands (BLPOP, BLMOVE, BLMPOP, BZPOPMIN, ...): waiting on keys that may live on
//! several shards, waking up in FIFO order, timeouts, disconnects and CLIENT UNBLOCK.
//!
//! The design, its wake-up protocol and why it cannot deadlock or lose an element are written
//! down in docs/blocking.md. In short:
//!
//! - A blocked command is one [`Waiter`], shared by every shard it waits on. Whoever serves it
//!   must first *claim* it (an atomic swap); only one claim ever succeeds, so a client is served
//!   at most once, and a shard claims on its own thread right before it pops, so no element is
//!   popped for a client that is gone.
//! - Each shard keeps, per key, the FIFO queue of [`Registration`]s waiting on it (on the
//!   worker, [`Blocked`]), and its `Db` records which waited keys received a value. After every
//!   command, batch and transaction step, the worker serves the waiters of those keys, skipping
//!   keys that a transaction holds locked until it unlocks them.
//! - The client's own thread registers on each shard (trying to serve at once, in key order),
//!   then waits for an [`Outcome`], its timeout, CLIENT UNBLOCK or its connection closing.
//!
//! **Architecture Invariant.** The only state shared between threads here is the `Waiter`
//! (an atomic flag and a channel sender); queues and keys stay on their shard's thread.

use std::collections::VecDeque;
use std::future::pending;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use hashbrown::HashMap;
use rustis_commands::blocking::{BlockingOps, Serve, ServeCtx};
use rustis_commands::registry::{Partial, Run};
use rustis_commands::{CommandSpec, Out, ShardCtx};
use rustis_storage::{DbIndex, Shard};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::dispatch;
use crate::routing::shard_of;
use crate::session::{Push, Session};
use crate::worker::{Item, Worker};

/// CLIENT UNBLOCK ... ERROR's reply to the unblocked client.
const UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

/// How a blocked command ended, sent to its client's thread by whoever claimed it.
pub(crate) enum Outcome {
    /// Served; the reply bytes.
    Reply(BytesMut),
    /// Served halfway; the client finishes by running this command (see [`Serve::Forward`]).
    Forward {
        spec: &'static CommandSpec,
        args: Vec<Bytes>,
    },
    /// CLIENT UNBLOCK: as a timeout, or with the UNBLOCKED error.
    Unblocked { error: bool },
}

/// One blocked command, shared by the shards it waits on.
pub(crate) struct Waiter {
    claimed: AtomicBool,
    tx: mpsc::UnboundedSender<Outcome>,
}

impl Waiter {
    /// Takes the waiter; true for exactly one caller over its life.
    pub fn claim(&self) -> bool {
        !self.claimed.swap(true, Ordering::AcqRel)
    }

    fn is_claimed(&self) -> bool {
        self.claimed.load(Ordering::Acquire)
    }

    /// Claims the waiter and tells its client; false if someone else had it.
    pub fn finish(&self, outcome: Outcome) -> bool {
        if !self.claim() {
            return false;
        }
        let _ = self.tx.send(outcome);
        true
    }
}

/// A waiter queued on one key of one shard.
struct Registration {
    waiter: Arc<Waiter>,
    ops: &'static BlockingOps,
    args: Arc<Vec<Bytes>>,
    /// The argument position of the key.
    pos: usize,
    db: DbIndex,
    resp3: bool,
    /// The client's client-side caching tag: serving it runs as that client (`tracking.rs`).
    track: Option<crate::tracking::Tag>,
}

/// A worker's blocked-client queues: per (database, key), registrations in arrival order.
#[derive(Default)]
pub(crate) struct Blocked {
    queues: HashMap<(DbIndex, Bytes), VecDeque<Registration>>,
}

/// What a blocked command carries to each shard it registers on.
struct Request {
    waiter: Arc<Waiter>,
    ops: &'static BlockingOps,
    args: Arc<Vec<Bytes>>,
    db: DbIndex,
    resp3: bool,
    track: Option<crate::tracking::Tag>,
}

impl Request {
    fn at(&self, pos: usize) -> Registration {
        Registration {
            waiter: self.waiter.clone(),
            ops: self.ops,
            args: self.args.clone(),
            pos,
            db: self.db,
            resp3: self.resp3,
            track: self.track.clone(),
        }
    }
}

impl Worker {
    /// Tries `reg` on this shard; on success (or an error for the client) sends the outcome.
    /// Returns false when the key cannot serve it yet.
    fn serve_one(&self, shard: &mut Shard, reg: &Registration, immediate: bool) -> Served {
        let mut out = Out::new(reg.resp3);
        let waiter = reg.waiter.clone();
        let mut claim = move || waiter.claim();
        let (id, n) = (self.id, self.n);
        let local = move |k: &[u8]| shard_of(k, n) == id;
        let _cx = crate::notify::Context::enter(&reg.args);
        // Served, the client is the one running: its own invalidations follow its reply.
        let _track = crate::tracking::Caller::enter(reg.track.clone());
        crate::aof::begin(shard);
        let served = {
            let mut sc = ServeCtx::new(ShardCtx::new(shard, reg.db), immediate, &mut claim, &local);
            (reg.ops.serve)(&mut sc, &reg.args, reg.pos, &mut out)
        };
        // The AOF logs what serving changed as the keys' new state.
        crate::aof::flush_pending(shard);
        match served {
            Serve::NotReady => Served::NotReady,
            Serve::Lost => Served::Gone,
            Serve::Done => {
                crate::tracking::write_own(&mut out);
                let _ = reg.waiter.tx.send(Outcome::Reply(out.buf));
                Served::Gone
            }
            Serve::Forward { spec, args } => {
                let _ = reg.waiter.tx.send(Outcome::Forward { spec, args });
                Served::Gone
            }
        }
    }

    /// Registers a blocked command on this shard for its keys at `positions` (all owned here),
    /// after trying to serve it from them in order. Returns true if it is settled (served here
    /// or claimed elsewhere) and need not register anywhere else.
    fn block_register(&self, mut req: Request, positions: Vec<usize>) -> bool {
        self.tick_clock();
        let mut shard = self.shard.borrow_mut();
        if let Some(prepare) = req.ops.prepare {
            // This shard's registrations get their own copy of the arguments, rewritten for
            // its keys (XREAD's `$`); the key names stay as they were.
            let mut args = (*req.args).clone();
            let mut ctx = ShardCtx::new(&mut shard, req.db);
            for &pos in &positions {
                prepare(&mut ctx, &mut args, pos);
            }
            req.args = Arc::new(args);
        }
        for &pos in &positions {
            if req.waiter.is_claimed() {
                return true;
            }
            // A locked key is checked once its transaction is over (below), so that the pop
            // never lands between a transaction's read and its write.
            if self.key_locked(req.db, &req.args[pos]) {
                continue;
            }
            if let Served::Gone = self.serve_one(&mut shard, &req.at(pos), true) {
                return true;
            }
        }
        let mut blocked = self.blocked.borrow_mut();
        for &pos in &positions {
            let key = &req.args[pos];
            let db = &mut shard.dbs[req.db].blocked;
            db.add(key);
            if self.key_locked(req.db, key) {
                db.mark_ready(key);
            }
            blocked
                .queues
                .entry((req.db, key.clone()))
                .or_default()
                .push_back(req.at(pos));
        }
        self.n_blocked.set(self.n_blocked.get() + positions.len());
        false
    }

    /// Removes a waiter's registrations for `positions` on this shard (after it ended).
    fn block_unregister(
        &self,
        waiter: &Arc<Waiter>,
        db: DbIndex,
        args: &[Bytes],
        positions: &[usize],
    ) {
        let mut shard = self.shard.borrow_mut();
        let mut blocked = self.blocked.borrow_mut();
        for &pos in positions {
            let key = &args[pos];
            let k = (db, key.clone());
            let Some(queue) = blocked.queues.get_mut(&k) else {
                continue;
            };
            let before = queue.len();
            queue.retain(|r| !Arc::ptr_eq(&r.waiter, waiter));
            for _ in queue.len()..before {
                shard.dbs[db].blocked.remove(key);
                self.n_blocked.set(self.n_blocked.get() - 1);
            }
            if queue.is_empty() {
                blocked.queues.remove(&k);
            }
        }
    }

    /// Serves the waiters of keys that received values, if anyone waits on this shard.
    pub(crate) fn serve_ready(&self) {
        if self.n_blocked.get() == 0 {
            return;
        }
        let mut shard = self.shard.borrow_mut();
        self.serve_ready_on(&mut shard);
    }

    /// [`Worker::serve_ready`] with the shard already borrowed. Serving can make more keys
    /// ready (BLMOVE pushes), so it loops until none is left; keys locked by a transaction stay
    /// ready for after their unlock.
    pub(crate) fn serve_ready_on(&self, shard: &mut Shard) {
        if self.n_blocked.get() == 0 {
            return;
        }
        let mut deferred = Vec::new();
        loop {
            let mut ready = Vec::new();
            for (i, db) in shard.dbs.iter_mut().enumerate() {
                if db.blocked.has_ready() {
                    ready.extend(db.blocked.take_ready().into_iter().map(|k| (i, k)));
                }
            }
            if ready.is_empty() {
                break;
            }
            for (db, key) in ready {
                if self.key_locked(db, &key) || !self.serve_key(shard, db, &key) {
                    deferred.push((db, key));
                }
            }
        }
        for (db, key) in deferred {
            shard.dbs[db].blocked.mark_ready(&key);
        }
    }

    /// Serves the waiters of one key in the order they blocked, while it can serve them.
    /// Returns false if it stopped at a waiter whose other key here (BLMOVE's destination) a
    /// transaction holds locked: the key is served again after the unlock, so that the
    /// transaction sees no change it did not make, and the waiters keep their order.
    fn serve_key(&self, shard: &mut Shard, db: DbIndex, key: &[u8]) -> bool {
        let k = (db, Bytes::copy_from_slice(key));
        let mut blocked = self.blocked.borrow_mut();
        let Some(queue) = blocked.queues.get_mut(&k) else {
            return true;
        };
        let mut i = 0;
        while i < queue.len() {
            if !queue[i].waiter.is_claimed() && self.writes_locked_key(&queue[i], key) {
                return false;
            }
            let gone = queue[i].waiter.is_claimed()
                || matches!(self.serve_one(shard, &queue[i], false), Served::Gone);
            if gone {
                queue.remove(i);
                shard.dbs[db].blocked.remove(key);
                self.n_blocked.set(self.n_blocked.get() - 1);
            } else {
                // Not ready for this one (say, a BZPOPMIN waiter on a list): later waiters may
                // still be served.
                i += 1;
            }
        }
        if queue.is_empty() {
            blocked.queues.remove(&k);
        }
        true
    }

    /// Whether serving `reg` would write a key of this shard, other than the one it waits on
    /// (`waited`), that a transaction holds locked.
    fn writes_locked_key(&self, reg: &Registration, waited: &[u8]) -> bool {
        if self.locks_idle() {
            return false;
        }
        let Some(spec) = dispatch::REGISTRY.lookup(&reg.args[0]) else {
            return false;
        };
        spec.key_positions(&reg.args).is_ok_and(|positions| {
            positions.iter().any(|&p| {
                let k = &reg.args[p];
                k[..] != *waited && shard_of(k, self.n) == self.id && self.key_locked(reg.db, k)
            })
        })
    }
}

enum Served {
    NotReady,
    Gone,
}

/// Runs a blocking command for the connection `sess`: registers it on the shards of its keys,
/// waits, and writes its reply.
pub(crate) async fn block(
    w: &Rc<Worker>,
    sess: &Session,
    spec: &'static CommandSpec,
    ops: &'static BlockingOps,
    args: Vec<Bytes>,
    out: &mut Out,
    peer: Option<&TcpStream>,
) {
    let all_keys = match spec.key_positions(&args) {
        Ok(k) => k,
        Err(e) => return out.error(&e),
    };
    let positions = (ops.wait_keys)(&args);
    // A command that also writes a key it does not wait on, on another shard (BLMOVE with its
    // destination elsewhere), would be served in two steps by a shard (see `Serve::Forward`).
    // When data is already there, run its non-blocking form instead, as one transaction over
    // all its keys; block only if that found nothing.
    if let (Run::Txn(f), Some(&first)) = (&spec.run, positions.first()) {
        let home = shard_of(&args[first], w.n);
        let spans = all_keys
            .iter()
            .any(|p| !positions.contains(p) && shard_of(&args[*p], w.n) != home);
        if spans || (positions.len() > 1 && ops.whole_first.is_some_and(|f| f(&args))) {
            let mut now = Out::new(out.resp3);
            dispatch::txn(w, sess.db(), *f, spec, args.clone(), &mut now).await;
            // The non-blocking forms reply a null (bulk or array) when there is nothing.
            if !matches!(&now.buf[..], b"$-1\r\n" | b"*-1\r\n" | b"_\r\n") {
                out.buf.extend_from_slice(&now.buf);
                return;
            }
        }
    }
    let timeout = (ops.timeout_ms)(&args);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let waiter = Arc::new(Waiter {
        claimed: AtomicBool::new(false),
        tx,
    });
    let args = Arc::new(args);
    // Keys are tried in argument order, as Redis does; consecutive keys of one shard travel
    // together.
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for p in positions {
        let s = shard_of(&args[p], w.n);
        match groups.last_mut() {
            Some((g, v)) if *g == s => v.push(p),
            _ => groups.push((s, vec![p])),
        }
    }
    let mut registered: Vec<(usize, Vec<usize>)> = Vec::new();
    for (s, pos) in groups {
        let req = Request {
            waiter: waiter.clone(),
            ops,
            args: args.clone(),
            db: sess.db(),
            resp3: out.resp3,
            track: crate::tracking::current().map(crate::tracking::Tag::direct),
        };
        let p = pos.clone();
        let f = Box::new(move |wk: &Worker| -> Partial { Box::new(wk.block_register(req, p)) });
        let Ok(settled) = w.send_call(s, None, false, f).await else {
            waiter.claim();
            unregister(w, &waiter, sess.db(), &args, registered);
            return out.error("ERR server is shutting down");
        };
        if settled.downcast::<bool>().map_or(true, |b| *b) {
            break;
        }
        registered.push((s, pos));
    }

    let outcome = match rx.try_recv() {
        Ok(o) => Some(o),
        Err(_) => {
            w.shared.blocked_clients.fetch_add(1, Ordering::Relaxed);
            *sess.blocked.borrow_mut() = Some(waiter.clone());
            let timeout = sleep_ms(timeout);
            tokio::pin!(timeout);
            let o = loop {
                // The inbox first: a push that came before the outcome goes before the reply.
                tokio::select! {
                    biased;
                    p = sess.next_push() => match p {
                        // The replies before this command are all in `out` and its own has
                        // not started: the frames go between them, out with its reply.
                        Push::Frame(f) => out.raw(&f),
                        Push::Tracking(n) => {
                            if let Some(f) = crate::tracking::frame(sess, n) {
                                out.raw(&f);
                            }
                        }
                        Push::Kill => {
                            sess.close();
                            break if waiter.claim() { None } else { rx.recv().await };
                        }
                    },
                    o = rx.recv() => break o,
                    _ = &mut timeout => {
                        break if waiter.claim() {
                            Some(Outcome::Unblocked { error: false })
                        } else {
                            rx.recv().await
                        };
                    }
                    _ = peer_closed(peer) => {
                        sess.close();
                        break if waiter.claim() { None } else { rx.recv().await };
                    }
                }
            };
            *sess.blocked.borrow_mut() = None;
            w.shared.blocked_clients.fetch_sub(1, Ordering::Relaxed);
            o
        }
    };
    unregister(w, &waiter, sess.db(), &args, registered);
    match outcome {
        Some(Outcome::Reply(bytes)) => out.raw(&bytes),
        Some(Outcome::Forward { spec, args }) => forward(w, sess.db(), spec, args, out).await,
        Some(Outcome::Unblocked { error: false }) => (ops.timeout_reply)(out),
        Some(Outcome::Unblocked { error: true }) => out.error(UNBLOCKED),
        // The client went away: nothing to reply.
        None => {}
    }
}

/// Drops a finished waiter's registrations on every shard it registered on. Fire and forget:
/// a registration left behind a little longer is skipped as claimed.
fn unregister(
    w: &Worker,
    waiter: &Arc<Waiter>,
    db: DbIndex,
    args: &Arc<Vec<Bytes>>,
    registered: Vec<(usize, Vec<usize>)>,
) {
    for (s, pos) in registered {
        let waiter = waiter.clone();
        let args = args.clone();
        let f = Box::new(move |wk: &Worker| -> Partial {
            wk.block_unregister(&waiter, db, &args, &pos);
            Box::new(())
        });
        drop(w.send_call(s, None, false, f));
    }
}

/// Finishes a command served halfway (a BLMOVE across shards) by running `spec` like any
/// command: on its keys' shard, or as a transaction when they span shards.
async fn forward(
    w: &Rc<Worker>,
    db: DbIndex,
    spec: &'static CommandSpec,
    args: Vec<Bytes>,
    out: &mut Out,
) {
    let pos = match spec.key_positions(&args) {
        Ok(p) => p,
        Err(e) => return out.error(&e),
    };
    let first = pos.first().map_or(w.id, |&p| shard_of(&args[p], w.n));
    let one_shard = pos.iter().all(|&p| shard_of(&args[p], w.n) == first);
    match (&spec.run, one_shard) {
        (Run::Txn(f), false) => dispatch::txn(w, db, *f, spec, args, out).await,
        _ => {
            let rx = w.send_batch(
                first,
                vec![Item {
                    spec,
                    db,
                    args,
                    track: crate::tracking::current(),
                }],
                out.resp3,
                Default::default(),
            );
            match rx.await {
                Some(r) => out.extend_from(&r.buf, &r.shared, 0, r.buf.len()),
                None => out.error("ERR server is shutting down"),
            }
        }
    }
}

async fn sleep_ms(ms: u64) {
    if ms == 0 {
        pending::<()>().await;
    }
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// Resolves when the peer closes its side. Pipelined bytes after the blocking command mean the
/// peer is alive; we then stop watching (they are read once the command ends).
/// Resolves when the peer of `peer` has closed the connection (never without a socket).
pub(crate) async fn peer_closed(peer: Option<&TcpStream>) {
    let Some(stream) = peer else {
        return pending().await;
    };
    let mut b = [0u8; 1];
    match stream.peek(&mut b).await {
        Ok(0) | Err(_) => {}
        Ok(_) => pending().await,
    }
}

/// CLIENT UNBLOCK: unblocks client `id` wherever it is; 1 if it was blocked.
pub(crate) async fn unblock_client(w: &Worker, id: u64, error: bool) -> i64 {
    let mut waits = Vec::with_capacity(w.n);
    for s in 0..w.n {
        let f = Box::new(move |wk: &Worker| -> Partial {
            let waiter = wk
                .clients
                .borrow()
                .get(id)
                .and_then(|c| c.blocked.borrow().clone());
            let done = waiter.is_some_and(|wt| wt.finish(Outcome::Unblocked { error }));
            Box::new(done as i64)
        });
        waits.push(w.send_call(s, None, false, f));
    }
    let mut n = 0;
    for rx in waits {
        if let Ok(p) = rx.await {
            n += p.downcast::<i64>().map_or(0, |b| *b);
        }
    }
    n
}
