//! Client-side caching (`CLIENT TRACKING`), as Redis 7.0's `tracking.c`: the keys a tracking
//! client read are remembered, and when one of them changes the client (or the client it
//! redirects to) is sent an invalidation.
//!
//! Where things live (see docs/tracking.md):
//! - **The tracking table** (key → the clients that read it) is kept per shard, on the thread
//!   that owns the key, in this module's thread-local [`State`]. A read remembers its keys where
//!   it runs (`worker::exec_on`, a multi-key part), so a write that follows it on that shard is
//!   sure to find it; no lock is taken.
//! - **Invalidations** are found by a write-path listener on every shard (installed on every
//!   thread when a client first turns tracking on, as Redis creates its table then), so every
//!   change of a key — any command, expiry, eviction, a script, MULTI/EXEC, a cross-shard
//!   command's check-in — is seen. The listener sends a [`Note`] into the target connection's
//!   inbox through its `Pusher` (the path pub/sub pushes take), from whichever thread owns the
//!   key; the receiving connection frames it for its protocol (RESP3 push, or a pub/sub message
//!   on `__redis__:invalidate` for a RESP2 subscriber it was redirected to).
//! - **A client's tracking state** (flags, redirection) is an `Arc<Client>` of atomics, shared
//!   by its connection and the tables that name it. Its per-command state (`CLIENT CACHING`,
//!   BCAST prefixes) is kept on its own thread; a tracking connection does not migrate.
//! - **BCAST prefixes** are copied to every thread (a message to each, answered before `OK`);
//!   each thread collects the keys changed under a prefix and sends them as one message once
//!   the work in hand is done (a local task), as Redis does before it sleeps.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{BufMut, Bytes, BytesMut};
use hashbrown::HashMap;
use rustis_commands::args::eq_ic;
use rustis_commands::registry::{flags, Run};
use rustis_commands::ConnCmd;
use rustis_commands::{CommandSpec, Out};
use rustis_storage::{Change, ChangeKind, KeyListener};

use crate::session::{Pusher, Session};
use crate::worker::Worker;

const ON: u32 = 1;
const BCAST: u32 = 2;
const OPTIN: u32 = 4;
const OPTOUT: u32 = 8;
const NOLOOP: u32 = 16;
const BROKEN: u32 = 32;

/// The server-wide figures (INFO) and the table's size limit.
#[derive(Default)]
pub(crate) struct Global {
    /// `tracking-table-max-keys` (0: no limit).
    pub max_keys: AtomicU64,
    /// Keys in all the shards' tables, and client entries under them.
    pub keys: AtomicU64,
    pub items: AtomicU64,
    /// Clients with tracking on.
    pub clients: AtomicU64,
    /// Distinct BCAST prefixes (counted by thread 0's copy of the prefix table).
    pub prefixes: AtomicU64,
    /// Whether every thread's listener is installed (once, when tracking is first used).
    installed: AtomicBool,
}

impl Global {
    pub fn load(&self, cfg: &crate::config::Config) {
        self.max_keys.store(
            cfg.get_i64("tracking-table-max-keys").max(0) as u64,
            Ordering::Relaxed,
        );
    }
}

/// One client's tracking state, shared with the tables that name it.
pub(crate) struct Client {
    id: u64,
    pusher: Pusher,
    flags: AtomicU32,
    /// The client its invalidations go to (`REDIRECT`), with a handle to push to it.
    redirect: Mutex<Option<(u64, Pusher)>>,
}

impl Client {
    fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    fn redirect_id(&self) -> u64 {
        self.redirect
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map_or(0, |r| r.0)
    }

    /// Sends an invalidation whose value part (keys array, or a null) is `payload`.
    fn send(&self, payload: Bytes) {
        let redirect = self
            .redirect
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match redirect {
            Some((id, p)) => {
                if !p.note(Note::Invalidate {
                    payload,
                    redirected: true,
                }) {
                    self.flags.fetch_or(BROKEN, Ordering::Relaxed);
                    self.pusher.note(Note::RedirBroken(id));
                }
            }
            None => {
                self.pusher.note(Note::Invalidate {
                    payload,
                    redirected: false,
                });
            }
        }
    }
}

/// What an invalidation pushes into a connection's inbox; the connection frames it for its own
/// protocol when it writes it ([`frame`]).
pub(crate) enum Note {
    Invalidate { payload: Bytes, redirected: bool },
    RedirBroken(u64),
}

/// The frame a connection writes for `note`, if any (Redis's `sendTrackingMessage`).
pub(crate) fn frame(sess: &Session, note: Note) -> Option<Bytes> {
    let mut b = BytesMut::new();
    match note {
        Note::RedirBroken(id) => {
            if sess.resp() < 3 {
                return None;
            }
            b.put_slice(b">2\r\n$21\r\ntracking-redir-broken\r\n");
            b.put_slice(format!(":{id}\r\n").as_bytes());
        }
        Note::Invalidate {
            payload,
            redirected,
        } => {
            if sess.resp() >= 3 {
                b.put_slice(b">2\r\n$10\r\ninvalidate\r\n");
            } else if redirected && sess.pubsub.total() > 0 {
                b.put_slice(b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n");
            } else {
                return None;
            }
            b.put_slice(&payload);
        }
    }
    Some(b.freeze())
}

/// Who runs the command on a shard, when it is a tracking client: `remember` says whether its
/// read keys go into the table (OPTIN/OPTOUT and `CLIENT CACHING` decided at dispatch).
#[derive(Clone)]
pub(crate) struct Tag {
    client: Arc<Client>,
    remember: bool,
    /// Whether the command's reply is written straight where it runs (inline, or an item of
    /// a batch), so that its own invalidations follow its reply there, as Redis sends them
    /// right after the command; inside EXEC or a script they go after the whole reply.
    direct: bool,
    /// For a script (EVAL, FCALL and their variants): its declared keys, which a read command
    /// it calls remembers instead of its own keys, as Redis tracks the caller's keys.
    script: Option<Arc<Vec<Bytes>>>,
}

impl Tag {
    /// The tag for a command whose reply is written where it runs.
    pub(crate) fn direct(mut self) -> Tag {
        self.direct = true;
        self
    }
}

/// A tracking connection's state kept on its own thread.
struct Local {
    client: Arc<Client>,
    /// `CLIENT CACHING yes|no` given for the next command.
    caching: bool,
    prefixes: BTreeSet<Vec<u8>>,
}

struct Prefix {
    prefix: Vec<u8>,
    clients: Vec<Arc<Client>>,
    /// Keys changed since the last broadcast, with the id of the client that changed each
    /// last (0: none), for NOLOOP.
    keys: BTreeMap<Vec<u8>, u64>,
}

#[derive(Default)]
struct State {
    worker: Weak<Worker>,
    /// This shard's tracking table: key → the clients that read it.
    table: HashMap<Vec<u8>, Vec<Arc<Client>>>,
    /// This thread's copy of the BCAST prefix table.
    prefixes: Vec<Prefix>,
    /// This thread's tracking connections.
    sessions: HashMap<u64, Local>,
    /// A flush happened: every tracking connection of this thread gets a null.
    flushed: bool,
    /// A task to send broadcasts and flush nulls is scheduled.
    scheduled: bool,
    /// Broadcasts wait for the transaction holding locks on this shard to end.
    after_unlock: bool,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::default();
    static CALLER: RefCell<Option<Tag>> = const { RefCell::new(None) };
    static ANY: Cell<bool> = const { Cell::new(false) };
    /// Invalidations of the running direct command for its own client, written after its
    /// reply ([`write_own`]).
    static OWN: RefCell<Vec<Bytes>> = const { RefCell::new(Vec::new()) };
}

/// Writes the running command's own invalidations after its reply (RESP3; a RESP2 client
/// without redirection gets none).
pub(crate) fn write_own(out: &mut Out) {
    if !ANY.with(|a| a.get()) {
        return;
    }
    OWN.with(|o| {
        let mut o = o.borrow_mut();
        for p in o.drain(..) {
            if out.resp3 {
                out.raw(b">2\r\n$10\r\ninvalidate\r\n");
                out.raw(&p);
            }
        }
    });
}

pub(crate) fn install(w: &Rc<Worker>) {
    STATE.with(|s| s.borrow_mut().worker = Rc::downgrade(w));
    if w.shared.tracking.installed.load(Ordering::Relaxed) {
        add_listener(w);
    }
}

fn add_listener(w: &Worker) {
    ANY.with(|a| {
        if !a.get() {
            a.set(true);
            w.shard.borrow_mut().add_listener(|_| Box::new(Invalidator));
        }
    });
}

/// The tag of the command `spec` that `sess` is about to run; `None` unless it tracks. Also
/// ends `CLIENT CACHING`'s effect, which lasts one command (or one transaction).
pub(crate) fn begin(sess: &Session, spec: &CommandSpec, args: &[Bytes]) -> Option<Tag> {
    if !ANY.with(|a| a.get()) {
        return None;
    }
    let script = matches!(spec.run, Run::Conn(ConnCmd::Script(_))).then(|| {
        let pos = spec.key_positions(args).unwrap_or_default();
        Arc::new(pos.iter().filter_map(|&i| args.get(i).cloned()).collect())
    });
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let l = s.sessions.get_mut(&sess.id)?;
        let f = l.client.flags();
        let remember =
            f & BCAST == 0 && !((f & OPTIN != 0 && !l.caching) || (f & OPTOUT != 0 && l.caching));
        // Redis keeps it after CLIENT and while a transaction is open (EXEC ends it).
        let keep = spec.name == "client"
            || spec.name == "multi"
            || (sess.in_multi() && spec.name != "exec" && spec.name != "discard");
        if !keep {
            l.caching = false;
        }
        Some(Tag {
            client: l.client.clone(),
            remember,
            direct: false,
            script,
        })
    })
}

/// The client whose command runs on this thread's shard while it lives.
pub(crate) struct Caller(Option<Option<Tag>>);

impl Caller {
    pub(crate) fn enter(tag: Option<Tag>) -> Caller {
        if tag.is_none() && !ANY.with(|a| a.get()) {
            return Caller(None);
        }
        Caller(Some(CALLER.with(|c| c.replace(tag))))
    }
}

impl Drop for Caller {
    fn drop(&mut self) {
        if let Some(outer) = self.0.take() {
            let this = CALLER.with(|c| std::mem::replace(&mut *c.borrow_mut(), outer));
            // Own invalidations no reply took (a blocked client served after the command)
            // go the usual way.
            let left = OWN.with(|o| std::mem::take(&mut *o.borrow_mut()));
            if let Some(t) = this {
                for p in left {
                    t.client.send(p);
                }
            }
        }
    }
}

/// The caller's tag, to carry to a part of its work that runs on another thread.
pub(crate) fn current() -> Option<Tag> {
    if !ANY.with(|a| a.get()) {
        return None;
    }
    CALLER.with(|c| c.borrow().clone())
}

/// Whether `spec`'s keys are remembered when a tracking client runs it (read-only commands,
/// shard channels excepted).
pub(crate) fn reads(spec: &CommandSpec) -> bool {
    spec.flags & flags::READONLY != 0 && spec.flags & flags::PUBSUB == 0
}

/// After a command ran on this shard: a tracking caller's read keys go into the table.
pub(crate) fn after_command(spec: &CommandSpec, args: &[Bytes]) {
    if !ANY.with(|a| a.get()) || !reads(spec) {
        return;
    }
    let (remembers, script) = CALLER.with(|c| {
        c.borrow()
            .as_ref()
            .map_or((false, false), |t| (t.remember, t.script.is_some()))
    });
    if remembers {
        if script {
            remember(args, &[]);
        } else if let Ok(pos) = spec.key_positions(args) {
            remember(args, &pos);
        }
    }
}

/// Remembers `args[pos]` (keys of this shard a read command named) for the tracking caller;
/// inside a script, the script's declared keys that this shard owns instead.
pub(crate) fn remember(args: &[Bytes], pos: &[usize]) {
    if !ANY.with(|a| a.get()) {
        return;
    }
    let Some((client, script)) = CALLER.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|t| t.remember)
            .map(|t| (t.client.clone(), t.script.clone()))
    }) else {
        return;
    };
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let Some(w) = s.worker.upgrade() else { return };
        let g = &w.shared.tracking;
        let keys: Vec<&Bytes> = match &script {
            Some(keys) => keys
                .iter()
                .filter(|k| crate::routing::shard_of(k, w.n) == w.id)
                .collect(),
            None => pos.iter().filter_map(|&i| args.get(i)).collect(),
        };
        for key in keys {
            let ids = match s.table.get_mut(key.as_ref()) {
                Some(ids) => ids,
                None => {
                    g.keys.fetch_add(1, Ordering::Relaxed);
                    s.table.entry(key.to_vec()).or_default()
                }
            };
            if !ids.iter().any(|c| c.id == client.id) {
                ids.push(client.clone());
                g.items.fetch_add(1, Ordering::Relaxed);
            }
        }
        limit(&mut s, &w);
    });
}

/// Runs `fut` (a command's work on the connection's thread) as `tag`'s: each time it is
/// polled, the caller is set for the synchronous work it does, and unset before other tasks
/// run.
pub(crate) async fn tagged<F: std::future::Future>(tag: Option<Tag>, fut: F) -> F::Output {
    let Some(tag) = tag else {
        return fut.await;
    };
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(move |cx| {
        let _g = Caller::enter(Some(tag.clone()));
        fut.as_mut().poll(cx)
    })
    .await
}

/// A closure sent to another thread runs as the sender's caller (or as nobody's).
pub(crate) fn carry_call(f: crate::worker::CallFn) -> crate::worker::CallFn {
    if !ANY.with(|a| a.get()) {
        return f;
    }
    let tag = current();
    Box::new(move |w: &Worker| {
        let _g = Caller::enter(tag);
        f(w)
    })
}

/// [`carry_call`] for a transaction's part.
pub(crate) fn carry_part(f: crate::worker::PartFn) -> crate::worker::PartFn {
    if !ANY.with(|a| a.get()) {
        return f;
    }
    let tag = current();
    Arc::new(move |w: &Worker| {
        let _g = Caller::enter(tag.clone());
        f(w)
    })
}

/// Keeps the tables within `tracking-table-max-keys`: keys of this shard's table go, their
/// clients invalidated as if they had changed (Redis's `trackingLimitUsedSlots`).
fn limit(s: &mut State, w: &Worker) {
    let g = &w.shared.tracking;
    let max = g.max_keys.load(Ordering::Relaxed);
    if max == 0 {
        return;
    }
    loop {
        let n = g.keys.load(Ordering::Relaxed);
        if n <= max {
            return;
        }
        let Some(key) = s.table.keys().next().cloned() else {
            return;
        };
        // Every thread trims at once (each has its own table, the count is the server's):
        // a key goes only once this thread has claimed one unit of the excess, so together
        // they drop exactly the excess, never more.
        if g.keys
            .compare_exchange(n, n - 1, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            continue;
        }
        invalidate_key(s, g, &key, None, false, true);
    }
}

/// Runs now and then on every thread: the table's limit after CONFIG SET lowered it.
pub(crate) fn cron(w: &Worker) {
    if !ANY.with(|a| a.get()) {
        return;
    }
    STATE.with(|s| limit(&mut s.borrow_mut(), w));
}

/// Sends the invalidation of `key` to the clients that read it, and forgets them.
/// `writer` is the client that changed it, for NOLOOP.
/// `claimed`: the key was already counted out of the server's total (see [`limit`]).
fn invalidate_key(
    s: &mut State,
    g: &Global,
    key: &[u8],
    writer: Option<u64>,
    direct: bool,
    claimed: bool,
) {
    let Some(clients) = s.table.remove(key) else {
        if claimed {
            g.keys.fetch_add(1, Ordering::Relaxed);
        }
        return;
    };
    if !claimed {
        g.keys.fetch_sub(1, Ordering::Relaxed);
    }
    g.items.fetch_sub(clients.len() as u64, Ordering::Relaxed);
    let mut payload: Option<Bytes> = None;
    for c in clients {
        let f = c.flags();
        if f & ON == 0 || f & BCAST != 0 {
            continue;
        }
        if f & NOLOOP != 0 && writer == Some(c.id) {
            continue;
        }
        let p = payload.get_or_insert_with(|| keys_array(std::iter::once(key), 1));
        if direct && writer == Some(c.id) && c.redirect_id() == 0 {
            OWN.with(|o| o.borrow_mut().push(p.clone()));
        } else {
            c.send(p.clone());
        }
    }
}

fn keys_array<'a>(keys: impl Iterator<Item = &'a [u8]>, n: usize) -> Bytes {
    let mut b = BytesMut::new();
    b.put_slice(format!("*{n}\r\n").as_bytes());
    for k in keys {
        b.put_slice(format!("${}\r\n", k.len()).as_bytes());
        b.put_slice(k);
        b.put_slice(b"\r\n");
    }
    b.freeze()
}

/// The write-path listener of every database of this thread's shard.
struct Invalidator;

impl KeyListener for Invalidator {
    fn on_change(&mut self, change: &Change<'_>) {
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            let Some(w) = s.worker.upgrade() else { return };
            match change.kind {
                ChangeKind::Swapped(_) => {}
                ChangeKind::Flushed => {
                    let g = &w.shared.tracking;
                    let n: u64 = s.table.values().map(|v| v.len() as u64).sum();
                    g.keys.fetch_sub(s.table.len() as u64, Ordering::Relaxed);
                    g.items.fetch_sub(n, Ordering::Relaxed);
                    s.table = HashMap::new();
                    s.flushed = true;
                    schedule(&mut s);
                }
                _ => {
                    // A key whose time passed was changed by nobody (Redis signals expiry
                    // and eviction without a client).
                    let (writer, direct) = match change.kind {
                        ChangeKind::Expired | ChangeKind::Evicted => (None, false),
                        _ => CALLER.with(|c| {
                            c.borrow()
                                .as_ref()
                                .map_or((None, false), |t| (Some(t.client.id), t.direct))
                        }),
                    };
                    let key = change.key;
                    let mut hit = false;
                    for p in s.prefixes.iter_mut() {
                        if key.starts_with(&p.prefix) {
                            p.keys.insert(key.to_vec(), writer.unwrap_or(0));
                            hit = true;
                        }
                    }
                    if hit {
                        schedule(&mut s);
                    }
                    if !s.table.is_empty() {
                        invalidate_key(&mut s, &w.shared.tracking, key, writer, direct, false);
                    }
                }
            }
        });
    }
}

/// Sends the broadcasts and flush nulls once this thread is done with the work in hand.
fn schedule(s: &mut State) {
    if s.scheduled {
        return;
    }
    s.scheduled = true;
    tokio::task::spawn_local(async {
        deliver();
    });
}

/// A transaction's locks went: what its commands changed is broadcast now.
pub(crate) fn unlocked(w: &Worker) {
    if !ANY.with(|a| a.get()) || w.in_transaction() {
        return;
    }
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        if std::mem::take(&mut s.after_unlock) {
            schedule(&mut s);
        }
    });
}

fn deliver() {
    let (flushed, sends, w) = STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.scheduled = false;
        // The keys a transaction changes go out in one message per prefix once it ends, as
        // Redis sends them after EXEC (its commands may come here one message at a time).
        if s.worker.upgrade().is_some_and(|w| w.in_transaction()) {
            s.after_unlock = true;
            return (Vec::new(), Vec::new(), None);
        }
        let mut sends: Vec<(Arc<Client>, Bytes)> = Vec::new();
        for p in s.prefixes.iter_mut() {
            if p.keys.is_empty() {
                continue;
            }
            let keys = std::mem::take(&mut p.keys);
            let all = keys_array(keys.keys().map(|k| k.as_slice()), keys.len());
            for c in &p.clients {
                if c.flags() & NOLOOP != 0 {
                    let mine: Vec<&[u8]> = keys
                        .iter()
                        .filter(|(_, &who)| who != c.id)
                        .map(|(k, _)| k.as_slice())
                        .collect();
                    if !mine.is_empty() {
                        let n = mine.len();
                        sends.push((c.clone(), keys_array(mine.into_iter(), n)));
                    }
                } else {
                    sends.push((c.clone(), all.clone()));
                }
            }
        }
        let flushed: Vec<Arc<Client>> = if std::mem::take(&mut s.flushed) {
            s.sessions.values().map(|l| l.client.clone()).collect()
        } else {
            Vec::new()
        };
        (flushed, sends, s.worker.upgrade())
    });
    for (c, p) in sends {
        c.send(p);
    }
    if let Some(w) = w {
        for c in flushed {
            if c.flags() & ON == 0 {
                continue;
            }
            // The null is the tracking client's own protocol's, wherever it goes.
            let resp3 = w
                .clients
                .try_borrow()
                .ok()
                .and_then(|cl| cl.get(c.id).map(|s| s.resp() >= 3))
                .unwrap_or(false);
            c.send(Bytes::from_static(if resp3 {
                b"_\r\n"
            } else {
                b"$-1\r\n"
            }));
        }
    }
}

// ---- Prefix table copies. ----

fn add_prefixes(client: Arc<Client>, prefixes: Vec<Vec<u8>>) -> crate::worker::CallFn {
    Box::new(move |wk: &Worker| {
        add_listener(wk);
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            for p in prefixes {
                match s.prefixes.iter_mut().find(|x| x.prefix == p) {
                    Some(x) => {
                        if !x.clients.iter().any(|c| c.id == client.id) {
                            x.clients.push(client.clone());
                        }
                    }
                    None => {
                        if wk.id == 0 {
                            wk.shared.tracking.prefixes.fetch_add(1, Ordering::Relaxed);
                        }
                        s.prefixes.push(Prefix {
                            prefix: p,
                            clients: vec![client.clone()],
                            keys: BTreeMap::new(),
                        });
                    }
                }
            }
        });
        Box::new(())
    })
}

fn remove_prefixes(id: u64) -> crate::worker::CallFn {
    Box::new(move |wk: &Worker| {
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            for p in s.prefixes.iter_mut() {
                p.clients.retain(|c| c.id != id);
            }
            let before = s.prefixes.len();
            s.prefixes.retain(|p| !p.clients.is_empty());
            if wk.id == 0 {
                let gone = (before - s.prefixes.len()) as u64;
                wk.shared
                    .tracking
                    .prefixes
                    .fetch_sub(gone, Ordering::Relaxed);
            }
        });
        Box::new(())
    })
}

fn on_all(
    w: &Worker,
    f: impl Fn() -> crate::worker::CallFn,
) -> Vec<tokio::sync::oneshot::Receiver<rustis_commands::registry::Partial>> {
    (0..w.n).map(|s| w.send_call(s, None, false, f())).collect()
}

async fn wait_all(rx: Vec<tokio::sync::oneshot::Receiver<rustis_commands::registry::Partial>>) {
    for r in rx {
        let _ = r.await;
    }
}

// ---- The connection's side. ----

/// Whether the connection must stay on its thread (its tracking state lives there).
pub(crate) fn pinned(id: u64) -> bool {
    ANY.with(|a| a.get()) && STATE.with(|s| s.borrow().sessions.contains_key(&id))
}

/// Turns tracking off (CLIENT TRACKING OFF, RESET, the end of the connection). Keys in the
/// tables that name it stay until they change, as in Redis: turned on again, the client is
/// invalidated for keys it read before (the same `Client` is kept while it is connected).
fn disable(
    w: &Worker,
    id: u64,
    gone: bool,
) -> Option<Vec<tokio::sync::oneshot::Receiver<rustis_commands::registry::Partial>>> {
    let was = STATE.with(|s| {
        let mut s = s.borrow_mut();
        let l = if gone {
            s.sessions.remove(&id)?
        } else {
            let l = s.sessions.get_mut(&id)?;
            l.caching = false;
            l.prefixes.clear();
            return Some(l.client.flags.swap(0, Ordering::Relaxed));
        };
        Some(l.client.flags.swap(0, Ordering::Relaxed))
    })?;
    if was & ON != 0 {
        w.shared.tracking.clients.fetch_sub(1, Ordering::Relaxed);
    }
    (was & BCAST != 0).then(|| on_all(w, || remove_prefixes(id)))
}

/// The connection ends or RESETs: tracking goes off without waiting for the other threads.
pub(crate) fn forget(w: &Worker, sess: &Session) {
    if ANY.with(|a| a.get()) {
        let _ = disable(w, sess.id, true);
    }
}

/// RESET: tracking goes off, as CLIENT TRACKING OFF.
pub(crate) async fn reset(w: &Worker, sess: &Session) {
    if ANY.with(|a| a.get()) {
        if let Some(rx) = disable(w, sess.id, false) {
            wait_all(rx).await;
        }
    }
}

/// CLIENT LIST's `t`, `R` and `B` flags and its `redir` field for `c`.
pub(crate) fn flags_of(c: &Session) -> (String, i64) {
    if !ANY.with(|a| a.get()) {
        return (String::new(), -1);
    }
    STATE.with(|s| {
        let s = s.borrow();
        let Some(l) = s.sessions.get(&c.id) else {
            return (String::new(), -1);
        };
        let f = l.client.flags();
        let mut out = String::new();
        if f & ON != 0 {
            out.push('t');
        }
        if f & BROKEN != 0 {
            out.push('R');
        }
        if f & BCAST != 0 {
            out.push('B');
        }
        (out, l.client.redirect_id() as i64)
    })
}

const SYNTAX: &str = "ERR syntax error";

/// CLIENT TRACKING | CACHING | GETREDIR | TRACKINGINFO (`sub` lowercased). False if `sub` is
/// none of them.
pub(crate) async fn client(
    w: &Rc<Worker>,
    sess: &Session,
    sub: &str,
    args: &[Bytes],
    out: &mut Out,
) -> bool {
    match sub {
        "tracking" if args.len() >= 3 => tracking(w, sess, args, out).await,
        "caching" if args.len() >= 3 => caching(sess, &args[2], out),
        "getredir" if args.len() == 2 => {
            let (on, redir) = info_of(sess.id);
            out.int(if on { redir as i64 } else { -1 });
        }
        "trackinginfo" if args.len() == 2 => trackinginfo(sess, out),
        _ => return false,
    }
    true
}

fn info_of(id: u64) -> (bool, u64) {
    STATE.with(|s| {
        s.borrow().sessions.get(&id).map_or((false, 0), |l| {
            (l.client.flags() & ON != 0, l.client.redirect_id())
        })
    })
}

async fn tracking(w: &Rc<Worker>, sess: &Session, args: &[Bytes], out: &mut Out) {
    let mut redir: i64 = 0;
    let mut redirect: Option<Pusher> = None;
    let mut options = 0u32;
    let mut prefixes: Vec<Vec<u8>> = Vec::new();
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        let a = &args[j];
        if eq_ic(a, "redirect") && more {
            j += 1;
            if redir != 0 {
                return out.error("ERR A client can only redirect to a single other client");
            }
            redir = match rustis_commands::args::parse_i64(&args[j]) {
                Ok(n) => n,
                Err(e) => return out.error(e.message()),
            };
            redirect = find_pusher(w, redir).await;
            if redirect.is_none() {
                return out.error("ERR The client ID you want redirect to does not exist");
            }
        } else if eq_ic(a, "bcast") {
            options |= BCAST;
        } else if eq_ic(a, "optin") {
            options |= OPTIN;
        } else if eq_ic(a, "optout") {
            options |= OPTOUT;
        } else if eq_ic(a, "noloop") {
            options |= NOLOOP;
        } else if eq_ic(a, "prefix") && more {
            j += 1;
            prefixes.push(args[j].to_vec());
        } else {
            return out.error(SYNTAX);
        }
        j += 1;
    }
    if eq_ic(&args[2], "on") {
        let cur = STATE.with(|s| {
            s.borrow()
                .sessions
                .get(&sess.id)
                .map(|l| (l.client.flags(), l.prefixes.clone()))
        });
        let (cur_flags, cur_prefixes) = cur.unwrap_or_default();
        if options & BCAST == 0 && !prefixes.is_empty() {
            return out.error("ERR PREFIX option requires BCAST mode to be enabled");
        }
        if cur_flags & ON != 0 && (cur_flags & BCAST != 0) != (options & BCAST != 0) {
            return out.error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
        }
        if options & BCAST != 0 && options & (OPTIN | OPTOUT) != 0 {
            return out.error("ERR OPTIN and OPTOUT are not compatible with BCAST");
        }
        if options & OPTIN != 0 && options & OPTOUT != 0 {
            return out.error("ERR You can't specify both OPTIN mode and OPTOUT mode");
        }
        if (options & OPTIN != 0 && cur_flags & OPTOUT != 0)
            || (options & OPTOUT != 0 && cur_flags & OPTIN != 0)
        {
            return out.error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.");
        }
        if options & BCAST != 0 {
            if let Some((e, go_on)) = collision(&cur_prefixes, &prefixes) {
                out.error(&e);
                // Redis 7.0.15 goes on after an overlap between two given prefixes found
                // past the first one (its check returns the index, taken as success): the
                // error is followed by tracking turned on and `+OK`. Kept, as Redis does it.
                if !go_on {
                    return;
                }
            }
        }
        enable(w, sess, redir, redirect, options, prefixes).await;
        out.ok();
    } else if eq_ic(&args[2], "off") {
        if let Some(rx) = disable(w, sess.id, false) {
            wait_all(rx).await;
        }
        out.ok();
    } else {
        out.error(SYNTAX);
    }
}

/// Redis's `checkPrefixCollisionsOrReply`: the error for the first prefix that overlaps one the
/// client has or another one given, and whether Redis goes on regardless (see the caller).
fn collision(have: &BTreeSet<Vec<u8>>, new: &[Vec<u8>]) -> Option<(String, bool)> {
    let overlap = |a: &[u8], b: &[u8]| {
        let n = a.len().min(b.len());
        a[..n] == b[..n]
    };
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    for (i, p) in new.iter().enumerate() {
        for h in have {
            if overlap(h, p) {
                let e = format!("ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.", s(p), s(h));
                return Some((e, false));
            }
        }
        for q in &new[i + 1..] {
            if overlap(p, q) {
                let e = format!("ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.", s(p), s(q));
                return Some((e, i != 0));
            }
        }
    }
    None
}

async fn find_pusher(w: &Rc<Worker>, id: i64) -> Option<Pusher> {
    let id = u64::try_from(id).ok()?;
    if let Some(p) = w.clients.borrow().pusher(id) {
        return Some(p);
    }
    let rx: Vec<_> = (0..w.n)
        .filter(|&s| s != w.id)
        .map(|s| {
            w.send_call(
                s,
                None,
                false,
                Box::new(move |wk: &Worker| Box::new(wk.clients.borrow().pusher(id))),
            )
        })
        .collect();
    for r in rx {
        if let Ok(part) = r.await {
            if let Ok(p) = part.downcast::<Option<Pusher>>() {
                if p.is_some() {
                    return *p;
                }
            }
        }
    }
    None
}

async fn enable(
    w: &Rc<Worker>,
    sess: &Session,
    redir: i64,
    redirect: Option<Pusher>,
    options: u32,
    prefixes: Vec<Vec<u8>>,
) {
    // The first client ever: every shard starts listening (Redis creates its table then).
    if !w.shared.tracking.installed.swap(true, Ordering::Relaxed) || !ANY.with(|a| a.get()) {
        let rx = on_all(w, || {
            Box::new(|wk: &Worker| {
                add_listener(wk);
                Box::new(())
            })
        });
        wait_all(rx).await;
    }
    let client = STATE.with(|s| {
        let mut s = s.borrow_mut();
        let l = s.sessions.entry(sess.id).or_insert_with(|| Local {
            client: Arc::new(Client {
                id: sess.id,
                pusher: sess.pusher().clone(),
                flags: AtomicU32::new(0),
                redirect: Mutex::new(None),
            }),
            caching: false,
            prefixes: BTreeSet::new(),
        });
        let old = l.client.flags();
        if old & ON == 0 {
            w.shared.tracking.clients.fetch_add(1, Ordering::Relaxed);
        }
        let keep = old & BCAST;
        l.client.flags.store(
            ON | keep | (options & (BCAST | OPTIN | OPTOUT | NOLOOP)),
            Ordering::Relaxed,
        );
        *l.client.redirect.lock().unwrap_or_else(|e| e.into_inner()) =
            redirect.map(|p| (redir as u64, p));
        let mut added = Vec::new();
        if options & BCAST != 0 {
            let want = if prefixes.is_empty() {
                vec![Vec::new()]
            } else {
                prefixes
            };
            for p in want {
                if l.prefixes.insert(p.clone()) {
                    added.push(p);
                }
            }
        }
        (l.client.clone(), added)
    });
    let (client, added) = client;
    if !added.is_empty() {
        let rx = on_all(w, || add_prefixes(client.clone(), added.clone()));
        wait_all(rx).await;
    }
}

fn caching(sess: &Session, opt: &[u8], out: &mut Out) {
    let r = STATE.with(|s| {
        let mut s = s.borrow_mut();
        let Some(l) = s.sessions.get_mut(&sess.id).filter(|l| l.client.flags() & ON != 0) else {
            return Err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
        };
        let f = l.client.flags();
        if eq_ic(opt, "yes") {
            if f & OPTIN == 0 {
                return Err("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
            }
        } else if eq_ic(opt, "no") {
            if f & OPTOUT == 0 {
                return Err("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
            }
        } else {
            return Err(SYNTAX);
        }
        l.caching = true;
        Ok(())
    });
    match r {
        Ok(()) => out.ok(),
        Err(e) => out.error(e),
    }
}

fn trackinginfo(sess: &Session, out: &mut Out) {
    let (f, redir, caching, prefixes) = STATE.with(|s| {
        s.borrow()
            .sessions
            .get(&sess.id)
            .map_or((0, 0, false, Vec::new()), |l| {
                (
                    l.client.flags(),
                    l.client.redirect_id(),
                    l.caching,
                    l.prefixes.iter().cloned().collect(),
                )
            })
    });
    let mut names: Vec<&str> = vec![if f & ON != 0 { "on" } else { "off" }];
    if f & BCAST != 0 {
        names.push("bcast");
    }
    if f & OPTIN != 0 {
        names.push("optin");
        if caching {
            names.push("caching-yes");
        }
    }
    if f & OPTOUT != 0 {
        names.push("optout");
        if caching {
            names.push("caching-no");
        }
    }
    if f & NOLOOP != 0 {
        names.push("noloop");
    }
    if f & BROKEN != 0 {
        names.push("broken_redirect");
    }
    out.map(3);
    out.bulk(b"flags");
    out.set(names.len());
    for n in names {
        out.bulk(n.as_bytes());
    }
    out.bulk(b"redirect");
    out.int(if f & ON != 0 { redir as i64 } else { -1 });
    out.bulk(b"prefixes");
    out.array(prefixes.len());
    for p in prefixes {
        out.bulk(&p);
    }
}
