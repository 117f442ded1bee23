//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! MULTI puts the connection in a state where its commands are checked (known, arity, allowed
//! in a transaction) and queued instead of run; EXEC runs the queue atomically, DISCARD drops
//! it. WATCH records the version of keys on the shards that own them (`Db::watch`); EXEC fails
//! (a null reply) if any of them changed, which it checks under the same locks it runs under.
//!
//! How EXEC runs (docs/transactions.md, "MULTI/EXEC"):
//! - **Inline**, when every key of the queue and every watched key lives on this thread's
//!   shard, nothing there is locked or queued, and the queue's connection commands cannot
//!   suspend (PING, ECHO, SELECT): the watch check and every command run back to back on this
//!   thread, so nothing else can run in between. Blocked clients are served after the last.
//! - **Locked**, otherwise: the transaction locks, per shard, every key its commands and its
//!   watches name (the whole shard when a command needs every shard or reads keys it does not
//!   declare), through the one ordering of cross-shard work (`dispatch::lock_all`), checks the
//!   watches, runs the commands one after the other on their shards as the lock holder, and
//!   unlocks. Nothing can observe a partial state: every key it touches stays locked until the
//!   last command ran, and blocked clients woken by its changes are served after the unlock.

use std::rc::Rc;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use rustis_commands::args::parse_i64;
use rustis_commands::registry::{flags, Partial, Run};
use rustis_commands::txn::UNDECLARED_KEYS;
use rustis_commands::{CommandSpec, ConnCmd, Out, ShardCtx};
use rustis_storage::{DbIndex, Version};

use crate::admin;
use crate::dispatch::{self, lock_all, route, Target};
use crate::routing::shard_of;
use crate::session::Session;
use crate::worker::{LockSet, TxId, Worker};

/// The commands a connection queued since MULTI.
#[derive(Default)]
pub(crate) struct Multi {
    cmds: Vec<(&'static CommandSpec, Vec<Bytes>)>,
    /// A command was refused while queueing: EXEC discards the transaction.
    dirty: bool,
}

impl Multi {
    /// How many commands are queued (CLIENT LIST's `multi`).
    pub(crate) fn queued(&self) -> usize {
        self.cmds.len()
    }
}

/// A key the connection watches, its version when it started watching, and whether it was
/// then present but past its time (a stale watch: see `Db::watch_holds`).
pub(crate) struct Watched {
    db: DbIndex,
    key: Bytes,
    version: Version,
    stale: bool,
}

const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";
const SHUTTING_DOWN: &str = "ERR server is shutting down";

/// Whether `spec` runs at once even inside MULTI (instead of being queued).
pub(crate) fn runs_at_once(spec: &CommandSpec) -> bool {
    matches!(
        spec.run,
        Run::Conn(
            ConnCmd::Multi
                | ConnCmd::Exec
                | ConnCmd::Discard
                | ConnCmd::Watch
                | ConnCmd::Quit
                | ConnCmd::Reset
        )
    )
}

/// Queues a checked command inside MULTI, or refuses one Redis does not allow there; either
/// way writes the reply.
pub(crate) fn queue(sess: &Session, spec: &'static CommandSpec, args: Vec<Bytes>, out: &mut Out) {
    let mut m = sess.multi.borrow_mut();
    let Some(m) = m.as_mut() else {
        return;
    };
    if spec.flags & flags::NO_MULTI != 0 {
        m.dirty = true;
        return out.error("ERR Command not allowed inside a transaction");
    }
    m.cmds.push((spec, args));
    out.simple("QUEUED");
}

/// Refuses a command before it runs (as Redis's `rejectCommand`): an open transaction is
/// marked failed, and a refused EXEC discards it and says why.
pub(crate) fn reject(w: &Worker, sess: &Session, spec: &CommandSpec, error: &str, out: &mut Out) {
    if matches!(spec.run, Run::Conn(ConnCmd::Exec)) {
        reset(w, sess);
        // Redis's rejections are formatted without the ERR code (it is added when they are
        // sent alone); coded errors such as BUSY keep theirs.
        let error = error.strip_prefix('-').unwrap_or(error);
        let error = error.strip_prefix("ERR ").unwrap_or(error);
        return out.error(&format!(
            "EXECABORT Transaction discarded because of: {error}"
        ));
    }
    flag_error(sess);
    out.error(error);
}

/// Whether the open transaction queued a command flagged `denyoom` (EXEC is then refused
/// over `maxmemory`, as in Redis).
pub(crate) fn queued_denyoom(sess: &Session) -> bool {
    sess.multi.borrow().as_ref().is_some_and(|m| {
        m.cmds
            .iter()
            .any(|(spec, args)| spec.resolve(args).unwrap_or(spec).flags & flags::DENYOOM != 0)
    })
}

/// Whether any queued command satisfies `f` (CLIENT PAUSE WRITE holds an EXEC whose
/// transaction may write).
pub(crate) fn queued_any(
    sess: &Session,
    mut f: impl FnMut(&'static CommandSpec, &[Bytes]) -> bool,
) -> bool {
    sess.multi
        .borrow()
        .as_ref()
        .is_some_and(|m| m.cmds.iter().any(|(spec, args)| f(spec, args)))
}

/// The NOREPLICAS error, when `min-replicas-to-write` asks for replicas (Rustis has none).
pub(crate) const NOREPLICAS: &str = "NOREPLICAS Not enough good replicas to write.";

/// NOREPLICAS for a write command, or for an EXEC whose queue holds one (Redis's
/// `is_write_command` in `processCommand`), while writes need replicas.
pub(crate) fn no_replicas(w: &Worker, sess: &Session, spec: &CommandSpec) -> Option<&'static str> {
    if !w
        .shared
        .writes_need_replicas
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        return None;
    }
    let write = if matches!(spec.run, Run::Conn(ConnCmd::Exec)) {
        queued_any(sess, |spec, args| {
            spec.resolve(args).unwrap_or(spec).flags & flags::WRITE != 0
        })
    } else {
        spec.flags & flags::WRITE != 0
    };
    write.then_some(NOREPLICAS)
}

/// Marks the transaction (if one is open) as failed: a command was refused while queueing.
pub(crate) fn flag_error(sess: &Session) {
    if let Some(m) = sess.multi.borrow_mut().as_mut() {
        m.dirty = true;
    }
}

/// Runs MULTI, EXEC, DISCARD, WATCH or UNWATCH.
pub(crate) async fn run(
    w: &Rc<Worker>,
    sess: &Session,
    cmd: ConnCmd,
    args: &[Bytes],
    out: &mut Out,
) {
    match cmd {
        ConnCmd::Multi => {
            let mut m = sess.multi.borrow_mut();
            if m.is_some() {
                return out.error("ERR MULTI calls can not be nested");
            }
            *m = Some(Multi::default());
            out.ok();
        }
        ConnCmd::Discard => {
            if sess.multi.borrow_mut().take().is_none() {
                return out.error("ERR DISCARD without MULTI");
            }
            unwatch_all(w, sess);
            out.ok();
        }
        ConnCmd::Unwatch => {
            unwatch_all(w, sess);
            out.ok();
        }
        ConnCmd::Watch => {
            if sess.multi.borrow().is_some() {
                return out.error("ERR WATCH inside MULTI is not allowed");
            }
            watch(w, sess, &args[1..]).await;
            out.ok();
        }
        ConnCmd::Exec => exec(w, sess, out).await,
        _ => out.error("ERR internal routing error"),
    }
}

/// Forgets the transaction and the watches of a connection (RESET, disconnect).
pub(crate) fn reset(w: &Worker, sess: &Session) {
    sess.multi.borrow_mut().take();
    unwatch_all(w, sess);
}

async fn watch(w: &Worker, sess: &Session, keys: &[Bytes]) {
    let db = sess.db();
    for key in keys {
        let known = sess
            .watches
            .borrow()
            .iter()
            .any(|k| k.db == db && k.key == *key);
        if known {
            continue;
        }
        let s = shard_of(key, w.n);
        let k = key.clone();
        let f = Box::new(move |wk: &Worker| -> Partial {
            let mut shard = wk.shard_now();
            let d = shard.db(db);
            Box::new((d.watch(&k), d.is_stale(&k)))
        });
        let Ok(v) = w.send_call(s, None, false, f).await else {
            return;
        };
        let Ok(got) = v.downcast::<(Version, bool)>() else {
            return;
        };
        let (version, stale) = *got;
        sess.watches.borrow_mut().push(Watched {
            db,
            key: key.clone(),
            version,
            stale,
        });
    }
}

/// UNWATCH: ends every watch of the connection.
pub(crate) fn reset_watches(w: &Worker, sess: &Session) {
    unwatch_all(w, sess);
}

/// Ends every watch of the connection on the shards that keep them; nothing waits for it.
fn unwatch_all(w: &Worker, sess: &Session) {
    let watches = std::mem::take(&mut *sess.watches.borrow_mut());
    if watches.is_empty() {
        return;
    }
    let mut by_shard: Vec<Vec<(DbIndex, Bytes)>> = (0..w.n).map(|_| Vec::new()).collect();
    for k in watches {
        by_shard[shard_of(&k.key, w.n)].push((k.db, k.key));
    }
    for (s, keys) in by_shard.into_iter().enumerate() {
        if keys.is_empty() {
            continue;
        }
        let f = Box::new(move |wk: &Worker| -> Partial {
            let mut shard = wk.shard.borrow_mut();
            for (db, k) in &keys {
                shard.dbs[*db].unwatch(k);
            }
            Box::new(())
        });
        drop(w.send_call(s, None, false, f));
    }
}

/// A watch as the shard that owns its key checks it: database, key, version, stale.
type WatchCheck = (DbIndex, Bytes, Version, bool);

/// Whether every watch of `keys` still holds (`Db::watch_holds`); runs on the shard that owns
/// them, with its clock read now.
fn watches_hold(wk: &Worker, keys: &[WatchCheck]) -> bool {
    let mut shard = wk.shard_now();
    keys.iter()
        .all(|(db, k, v, stale)| shard.db(*db).watch_holds(k, *v, *stale))
}

/// What EXEC needs locked, per shard.
struct Plan {
    /// Per shard: the keys its commands and watches name there.
    keys: Vec<Vec<(DbIndex, Bytes)>>,
    /// Some command needs every shard whole (FLUSHALL, KEYS, SORT ... BY with keys elsewhere).
    whole: bool,
    /// Some connection command in the queue may suspend (INFO, CLIENT, CONFIG ...).
    suspends: bool,
}

fn plan(w: &Worker, sess: &Session, cmds: &[(&'static CommandSpec, Vec<Bytes>)]) -> Plan {
    let mut p = Plan {
        keys: (0..w.n).map(|_| Vec::new()).collect(),
        whole: false,
        suspends: false,
    };
    let mut db = sess.db();
    for (spec, args) in cmds {
        match spec.run {
            Run::Conn(ConnCmd::Select) => {
                if let Ok(i) = parse_i64(&args[1]) {
                    if i >= 0 && (i as usize) < w.shared.n_dbs {
                        db = i as usize;
                    }
                }
            }
            Run::Conn(ConnCmd::Ping | ConnCmd::Echo) => {}
            // A script may reach any key: with several shards it runs holding them all.
            Run::Conn(ConnCmd::Script(_)) => p.whole |= w.n > 1,
            Run::Conn(_) => p.suspends = true,
            Run::Fanout(_) => p.whole = true,
            _ => {
                if spec.flags & UNDECLARED_KEYS != 0 && w.n > 1 {
                    p.whole = true;
                }
                if let Ok(pos) = spec.key_positions(args) {
                    let dbs = spec
                        .dbs_of_keys(args, db, pos.len())
                        .unwrap_or_else(|_| vec![db; pos.len()]);
                    for (&i, d) in pos.iter().zip(dbs) {
                        if d < w.shared.n_dbs {
                            p.keys[shard_of(&args[i], w.n)].push((d, args[i].clone()));
                        }
                    }
                }
            }
        }
    }
    for k in sess.watches.borrow().iter() {
        p.keys[shard_of(&k.key, w.n)].push((k.db, k.key.clone()));
    }
    for keys in &mut p.keys {
        keys.sort_unstable();
        keys.dedup();
    }
    p
}

async fn exec(w: &Rc<Worker>, sess: &Session, out: &mut Out) {
    let Some(m) = sess.multi.borrow_mut().take() else {
        return out.error("ERR EXEC without MULTI");
    };
    if m.dirty {
        unwatch_all(w, sess);
        return out.error(EXECABORT);
    }
    let p = plan(w, sess, &m.cmds);
    let local = w.n == 1
        || (!p.whole
            && p.keys
                .iter()
                .enumerate()
                .all(|(s, k)| s == w.id || k.is_empty()));
    if local && !p.suspends && w.keys_free(&p.keys[w.id]) {
        exec_inline(w, sess, m, out).await;
    } else {
        exec_locked(w, sess, m, p, out).await;
    }
    unwatch_all(w, sess);
}

/// Every key on this shard, nothing locked in the way, no command that suspends: the whole
/// transaction runs without yielding.
async fn exec_inline(w: &Rc<Worker>, sess: &Session, m: Multi, out: &mut Out) {
    let held = {
        let watches = sess.watches.borrow();
        let keys: Vec<WatchCheck> = watches
            .iter()
            .map(|k| (k.db, k.key.clone(), k.version, k.stale))
            .collect();
        keys.is_empty() || watches_hold(w, &keys)
    };
    if !held {
        return out.null_array();
    }
    // Nothing else runs on this thread until it ends: what it logs is one block.
    let _block = crate::aof::Block::begin();
    out.array(m.cmds.len());
    for (spec, args) in m.cmds {
        sess.set_last_cmd(spec.resolve(&args).map_or(spec.name, |sub| sub.name));
        if let Some(e) = crate::acl::exec_check(w, sess, spec, &args) {
            let at = out.buf.len();
            out.error(&e);
            crate::stats::error_reply(&out.buf[at..]);
            continue;
        }
        // Each queued command is counted as it runs, as Redis's EXEC does (see stats.rs).
        let (t0, at) = (crate::stats::now(), out.buf.len());
        match spec.run {
            Run::Conn(cmd) => admin::run(w, sess, cmd, &args, out).await,
            _ => match spec.precheck.map_or(Ok(()), |check| check(&args)) {
                Err(e) => out.error(&e),
                Ok(()) => {
                    w.exec_in_tx(None, spec, sess.db(), &args, out);
                }
            },
        }
        let nanos = crate::stats::since(t0, crate::stats::now());
        crate::stats::ran(w, spec, &args, nanos, &out.buf[at..], Some(sess));
        feed_monitors(w, sess, spec, &args);
    }
    w.serve_ready();
}

/// Shows a command EXEC ran to MONITOR clients as it completes, as Redis's `call()` does for
/// each queued command; EXEC's own line follows them (fed by dispatch once EXEC has run).
fn feed_monitors(w: &Worker, sess: &Session, spec: &'static CommandSpec, args: &[Bytes]) {
    if let Some(line) = crate::pubsub::monitor_line(w, spec, args) {
        crate::pubsub::feed_monitors(w, sess, line);
    }
}

/// The reply bytes of a command run on another shard, with the large values it shares.
type Reply = (BytesMut, Vec<(usize, Bytes)>);

async fn exec_locked(w: &Rc<Worker>, sess: &Session, m: Multi, p: Plan, out: &mut Out) {
    let tx = w.new_tx();
    let groups: Vec<(usize, LockSet)> = if p.whole {
        (0..w.n).map(|s| (s, LockSet::All)).collect()
    } else {
        p.keys
            .into_iter()
            .enumerate()
            .filter(|(_, k)| !k.is_empty())
            .map(|(s, k)| (s, LockSet::Keys(k)))
            .collect()
    };
    if !lock_all(w, tx, &groups).await {
        return out.error(SHUTTING_DOWN);
    }
    let held = check_watches(w, sess, tx).await;
    // What the transaction logs, on every thread, is one block; it ends before the unlock.
    let block = crate::aof::Block::begin_tx(tx);
    if held {
        out.array(m.cmds.len());
        for (spec, args) in m.cmds {
            sess.set_last_cmd(spec.resolve(&args).map_or(spec.name, |sub| sub.name));
            if let Some(e) = crate::acl::exec_check(w, sess, spec, &args) {
                let at = out.buf.len();
                out.error(&e);
                crate::stats::error_reply(&out.buf[at..]);
                continue;
            }
            let (t0, at) = (crate::stats::now(), out.buf.len());
            // Kept for the statistics (and the slow log) once the command has run.
            let kept = args.clone();
            run_held(w, sess, tx, spec, args, out).await;
            let nanos = crate::stats::since(t0, crate::stats::now());
            crate::stats::ran(w, spec, &kept, nanos, &out.buf[at..], Some(sess));
            feed_monitors(w, sess, spec, &kept);
        }
    } else {
        out.null_array();
    }
    drop(block);
    for (s, _) in &groups {
        w.send_unlock(*s, tx);
    }
}

/// Checks every watch on its shard, under the transaction's locks.
async fn check_watches(w: &Worker, sess: &Session, tx: TxId) -> bool {
    let mut by_shard: Vec<Vec<WatchCheck>> = (0..w.n).map(|_| Vec::new()).collect();
    for k in sess.watches.borrow().iter() {
        by_shard[shard_of(&k.key, w.n)].push((k.db, k.key.clone(), k.version, k.stale));
    }
    let mut waits = Vec::new();
    for (s, keys) in by_shard.into_iter().enumerate() {
        if keys.is_empty() {
            continue;
        }
        let f = Box::new(move |wk: &Worker| -> Partial { Box::new(watches_hold(wk, &keys)) });
        waits.push(w.send_call(s, Some(tx), false, f));
    }
    let mut all = true;
    for rx in waits {
        let ok = match rx.await {
            Ok(part) => part.downcast::<bool>().map(|b| *b).unwrap_or(false),
            Err(_) => false,
        };
        all &= ok;
    }
    all
}

/// Runs one queued command as the holder of transaction `tx`'s locks.
async fn run_held(
    w: &Rc<Worker>,
    sess: &Session,
    tx: TxId,
    spec: &'static CommandSpec,
    args: Vec<Bytes>,
    out: &mut Out,
) {
    let db = sess.db();
    if let Run::Conn(ConnCmd::Script(call)) = spec.run {
        // The plan locked every shard whole for it (see `plan`).
        return crate::script::run(w, sess, call, &args, out, Some(tx)).await;
    }
    if let Run::Conn(cmd) = spec.run {
        return admin::run(w, sess, cmd, &args, out).await;
    }
    if let Some(check) = spec.precheck {
        if let Err(e) = check(&args) {
            return out.error(&e);
        }
    }
    if let Run::Fanout(ops) = spec.run {
        let args = Arc::new(args);
        let mut waits = Vec::with_capacity(w.n);
        for s in 0..w.n {
            let a = args.clone();
            let f = Box::new(move |wk: &Worker| -> Partial {
                let mut shard = wk.shard_now();
                crate::aof::begin(&mut shard);
                (ops.per_shard)(&mut ShardCtx::new(&mut shard, db), &a)
            });
            waits.push(w.send_call(s, Some(tx), false, f));
        }
        let mut parts = Vec::with_capacity(w.n);
        for rx in waits {
            match rx.await {
                Ok(p) => parts.push(p),
                Err(_) => return out.error(SHUTTING_DOWN),
            }
        }
        // Logged once, while the transaction holds every shard.
        crate::aof::log_fanout(Some(tx), spec, db, &args);
        return (ops.merge)(&args, parts, out);
    }
    match route(w, spec, &args, None) {
        Err(e) => out.error(&e),
        Ok(Target::One(s)) if s == w.id => {
            if let Some(need) = w.exec_in_tx(Some(tx), spec, db, &args, out) {
                if let Run::Txn(f) = spec.run {
                    dispatch::txn_held(w, tx, db, f, spec, args, need, out).await;
                }
            }
        }
        Ok(Target::One(s)) => {
            let resp3 = out.resp3;
            let a = args.clone();
            let f = Box::new(move |wk: &Worker| -> Partial {
                let mut o = Out::new(resp3);
                o.share = true;
                let need = wk.exec_in_tx(Some(tx), spec, db, &a, &mut o);
                let shared = o.take_shared();
                Box::new(((o.buf, shared), need))
            });
            let Ok(part) = w.send_call(s, Some(tx), false, f).await else {
                return out.error(SHUTTING_DOWN);
            };
            let Ok(r) = part.downcast::<(Reply, Option<Vec<(DbIndex, Bytes)>>)>() else {
                return out.error("ERR internal routing error");
            };
            let ((buf, shared), need) = *r;
            match need {
                None => out.extend_from(&buf, &shared, 0, buf.len()),
                Some(need) => {
                    if let Run::Txn(f) = spec.run {
                        dispatch::txn_held(w, tx, db, f, spec, args, need, out).await;
                    }
                }
            }
        }
        Ok(Target::Many(groups)) => match spec.run {
            Run::MultiKey(ops) => {
                let args = Arc::new(args);
                let mut waits = Vec::with_capacity(groups.len());
                for (s, pos) in &groups {
                    let (a, p) = (args.clone(), pos.clone());
                    let f = Box::new(move |wk: &Worker| -> Partial {
                        let mut shard = wk.shard_now();
                        (ops.per_shard)(&mut ShardCtx::new(&mut shard, db), &a, &p)
                    });
                    waits.push(w.send_call(*s, Some(tx), false, f));
                }
                let mut parts = Vec::with_capacity(groups.len());
                for ((_, pos), rx) in groups.into_iter().zip(waits) {
                    match rx.await {
                        Ok(p) => parts.push((pos, p)),
                        Err(_) => return out.error(SHUTTING_DOWN),
                    }
                }
                (ops.merge)(&args, parts, out);
            }
            Run::Txn(f) => dispatch::txn_held(w, tx, db, f, spec, args, Vec::new(), out).await,
            _ => out.error("ERR internal routing error"),
        },
    }
}
