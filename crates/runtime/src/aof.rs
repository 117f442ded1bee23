//! The append-only file: Redis 7.0's multi-part AOF (a directory holding a base file, the
//! incremental files written since, and a manifest naming them), written by one writer thread
//! that every shard feeds, loaded at startup, rewritten without fork. See
//! docs/persistence.md, "The append-only file".
//!
//! **What is logged.** Each shard logs its own changes, on its own thread, at the moment they
//! happen, as records that name only keys of that shard: a deterministic command verbatim
//! (with the absolute expiry of any key it gave a relative one, as `PEXPIREAT`), a command
//! whose effect is not a function of its arguments and the keys' values (SPOP, XADD's
//! generated ID, the commands that claim stream entries) by its effect, an expired or evicted
//! key as `DEL`, and a change made outside any command (the part of a multi-key command that
//! ran here, a cross-shard command's write-back, a blocked client served) as the key's new
//! state (`SET`, `RESTORE ... REPLACE ABSTTL`, or `DEL`). A write-path listener collects the
//! keys a command changed, so a command that changed nothing logs nothing.
//!
//! **Order.** Records go into one channel, read by the writer thread, which appends them in
//! channel order. A record is sent by the thread that made the change, right after it, so the
//! records of one key (always one shard's) are in the channel in the order the key changed.
//! Every record names keys of one shard only, except the all-shard commands (FLUSHALL,
//! FLUSHDB, SWAPDB), which every shard logs verbatim while the command holds every shard
//! locked. Replaying the file in order therefore applies each key's changes in the order they
//! happened, and reaches the same dataset.
//!
//! **Blocks.** An EXEC or a script is one `MULTI` ... `EXEC` block: the writer holds its
//! records (those of its thread while it runs without yielding, or those tagged with its
//! transaction id on every thread, see [`in_tx`]) until [`Block`] goes, which is before the
//! transaction releases its locks. FUNCTION commands are logged verbatim ([`log_function`]).

use std::cell::{Cell, RefCell};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rustis_commands::registry::{CommandSpec, Run};
use rustis_commands::Out;
use rustis_storage::{Change, ChangeKind, DbIndex, KeyListener, ListenerId, Shard, Value};
use tokio::sync::oneshot;

use crate::worker::{TxId, Worker};

// ---- Capture: what each shard thread logs. ----

thread_local! {
    /// Whether this thread logs (one flag test per command while the AOF is off).
    static ON: Cell<bool> = const { Cell::new(false) };
    static LOCAL: RefCell<Local> = RefCell::new(Local::default());
}

#[derive(Default)]
struct Local {
    tx: Option<Sender<WMsg>>,
    state: Option<Arc<AofState>>,
    thread: usize,
    listener: Option<ListenerId>,
    /// Changes seen by the listener and not logged yet, in order.
    changed: Vec<(DbIndex, Vec<u8>, ChangeKind)>,
    /// The transaction whose work this thread is running now ([`in_tx`]): its records are
    /// tagged with it, so that the writer can put them in the transaction's block.
    op: Option<TxId>,
}

/// Collects the changes of its shard for the thread's capture.
struct AofListener;

impl KeyListener for AofListener {
    fn on_change(&mut self, c: &Change<'_>) {
        LOCAL.with(|l| {
            if let Ok(mut l) = l.try_borrow_mut() {
                l.changed.push((c.db, c.key.to_vec(), c.kind));
            }
        });
    }
}

/// Whether this thread logs its changes.
#[inline]
pub(crate) fn on() -> bool {
    ON.with(Cell::get)
}

/// Makes this thread log (or stop logging) as the server's AOF state says: registers or
/// removes the shard's listener. Run on every thread at startup, and on each shard under the
/// all-shard lock when the AOF is turned on or off.
pub(crate) fn sync(w: &Worker) {
    let tx = w.shared.aof.sender();
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        match (tx, l.listener) {
            (Some(tx), None) => {
                let id = w
                    .shard
                    .borrow_mut()
                    .add_listener(|_| Box::new(AofListener) as Box<dyn KeyListener>);
                l.listener = Some(id);
                l.tx = Some(tx);
                l.state = Some(w.shared.aof.clone());
                l.thread = w.id;
                l.changed.clear();
                ON.with(|o| o.set(true));
            }
            (None, Some(id)) => {
                w.shard.borrow_mut().remove_listener(id);
                l.listener = None;
                l.tx = None;
                l.state = None;
                l.changed.clear();
                ON.with(|o| o.set(false));
            }
            (Some(tx), Some(_)) => l.tx = Some(tx),
            (None, None) => {}
        }
    });
}

fn take_changed() -> Vec<(DbIndex, Vec<u8>, ChangeKind)> {
    LOCAL.with(|l| std::mem::take(&mut l.borrow_mut().changed))
}

fn send(db: DbIndex, bytes: Vec<u8>) {
    send_rec(db, bytes, false, Tag::Current);
}

/// Which transaction a record is tagged with.
#[derive(Clone, Copy)]
enum Tag {
    /// The one this thread is running work of now, if any.
    Current,
    /// None: the record is not part of any transaction's work.
    Untagged,
    /// This one.
    Tx(Option<TxId>),
}

fn send_rec(db: DbIndex, bytes: Vec<u8>, global: bool, tag: Tag) {
    LOCAL.with(|l| {
        let l = l.borrow();
        if let (Some(tx), Some(st)) = (&l.tx, &l.state) {
            st.sent.fetch_add(1, Ordering::Relaxed);
            let op = match tag {
                Tag::Current => l.op,
                Tag::Untagged => None,
                Tag::Tx(t) => t,
            };
            let _ = tx.send(WMsg::Rec {
                from: l.thread,
                op,
                db,
                bytes,
                global,
            });
        }
    });
}

/// Runs `f`, work of transaction `tx` on this thread (a part, a command, a write-back), with
/// the records it makes tagged with `tx`: when `tx` has an open block ([`Block::begin_tx`]),
/// the writer puts them in it. Changes made here before, outside the transaction, are logged
/// first, untagged; those `f` leaves unlogged are logged, tagged, before it returns (so
/// before its reply tells the transaction's thread it ran).
pub(crate) fn in_tx<T>(w: &Worker, tx: Option<TxId>, f: impl FnOnce() -> T) -> T {
    if tx.is_none() || !on() {
        return f();
    }
    settle(w);
    let prev = LOCAL.with(|l| std::mem::replace(&mut l.borrow_mut().op, tx));
    let r = f();
    settle(w);
    LOCAL.with(|l| l.borrow_mut().op = prev);
    r
}

/// [`in_tx`] for a caller that holds the shard borrowed: only the tagging (a command run by
/// `exec_on` logs what it changed itself, and logs what was pending before it first).
pub(crate) fn in_tx_locked<T>(tx: Option<TxId>, f: impl FnOnce() -> T) -> T {
    if tx.is_none() || !on() {
        return f();
    }
    let prev = LOCAL.with(|l| std::mem::replace(&mut l.borrow_mut().op, tx));
    let r = f();
    LOCAL.with(|l| l.borrow_mut().op = prev);
    r
}

/// Logs the changes made on this thread's shard and not logged yet (if the shard is not
/// borrowed now; otherwise whoever holds it logs them).
pub(crate) fn settle(w: &Worker) {
    if on() {
        if let Ok(mut shard) = w.shard.try_borrow_mut() {
            flush_pending(&mut shard);
        }
    }
}

/// While alive, a MULTI/EXEC block in the file: the writer holds its records and writes them
/// together when the guard goes, so a file cut short never holds part of it.
///
/// Two kinds. A **thread block** ([`Block::begin`]) holds everything this thread logs
/// meanwhile: for work that runs without yielding (EXEC inline, a script on one shard), so
/// that nothing else of this thread is logged in between. A **transaction block**
/// ([`Block::begin_tx`]) holds the records tagged with its transaction, on whichever thread
/// they were made ([`in_tx`]): for a cross-shard EXEC or script, which holds the locks of
/// every key it touches until after the guard goes (the guard must be dropped before the
/// unlock), so no record about those keys from outside the transaction can come between.
/// Records of other threads, and this thread's untagged ones, go on meanwhile; they name
/// other keys, so their place relative to the block does not matter.
pub(crate) struct Block(Option<Option<TxId>>);

impl Block {
    pub(crate) fn begin() -> Block {
        Block::open(None)
    }

    /// The block of transaction `tx`; begun after its locks are granted and before any of its
    /// work runs, dropped before they are released.
    pub(crate) fn begin_tx(tx: TxId) -> Block {
        Block::open(Some(tx))
    }

    fn open(tx: Option<TxId>) -> Block {
        if !on() {
            return Block(None);
        }
        LOCAL.with(|l| {
            let l = l.borrow();
            if let Some(s) = &l.tx {
                let _ = s.send(WMsg::Begin(l.thread, tx));
            }
        });
        Block(Some(tx))
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        if let Some(tx) = self.0 {
            LOCAL.with(|l| {
                let l = l.borrow();
                if let Some(s) = &l.tx {
                    let _ = s.send(WMsg::End(l.thread, tx));
                }
            });
        }
    }
}

/// Marks this thread's cut of a rewrite: what it logs from now on goes to the new
/// incremental file. Run in each shard's part under the all-shard lock.
pub(crate) fn cut(w: &Worker) {
    LOCAL.with(|l| {
        let l = l.borrow();
        if let Some(tx) = &l.tx {
            let _ = tx.send(WMsg::Cut(w.id));
        }
    });
}

/// A command as RESP, the form of every record.
pub(crate) fn resp(args: &[&[u8]]) -> Vec<u8> {
    let mut b = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    b.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        b.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        b.extend_from_slice(a);
        b.extend_from_slice(b"\r\n");
    }
    b
}

/// Logs the changes made on this shard outside any command (and not logged yet) as the
/// keys' current state.
pub(crate) fn flush_pending(shard: &mut Shard) {
    if !on() {
        return;
    }
    let changed = take_changed();
    if changed.is_empty() {
        return;
    }
    log_states(shard, changed);
}

/// Logs each changed key's state; false if some key's state could not be encoded.
fn log_states(shard: &mut Shard, changed: Vec<(DbIndex, Vec<u8>, ChangeKind)>) -> bool {
    let mut all = true;
    let mut done: Vec<(DbIndex, &[u8])> = Vec::new();
    for (db, key, kind) in &changed {
        match kind {
            ChangeKind::Flushed | ChangeKind::Swapped(_) => continue,
            ChangeKind::Expired => {
                send(*db, resp(&[b"DEL", key]));
                continue;
            }
            ChangeKind::Evicted => {
                evicted(*db, key);
                continue;
            }
            _ => {}
        }
        if done.iter().any(|(d, k)| d == db && *k == &key[..]) {
            continue;
        }
        done.push((*db, key));
        match state_record(shard, *db, key) {
            Some(rec) => send(*db, rec),
            None => all = false,
        }
    }
    all
}

/// The key's current state as one command: `SET` (with `PXAT`) for a string, `RESTORE ...
/// REPLACE ABSTTL` for the other types, `DEL` when it is gone.
fn state_record(shard: &mut Shard, db: DbIndex, key: &[u8]) -> Option<Vec<u8>> {
    let opts = rustis_commands::persist::rdb_options(&shard.config);
    let Some(e) = shard.dbs.get_mut(db)?.peek(key) else {
        return Some(resp(&[b"DEL", key]));
    };
    let at = e.expire();
    match &e.value {
        Value::Str(s) => {
            let v = s.to_vec();
            Some(match at {
                Some(t) => resp(&[b"SET", key, &v, b"PXAT", t.to_string().as_bytes()]),
                None => resp(&[b"SET", key, &v]),
            })
        }
        v => match rustis_persist::dump(v, opts) {
            Ok(payload) => Some(resp(&[
                b"RESTORE",
                key,
                at.unwrap_or(0).to_string().as_bytes(),
                &payload,
                b"REPLACE",
                b"ABSTTL",
            ])),
            Err(e) => {
                tracing::warn!("AOF: cannot log the new state of a key: {e}");
                None
            }
        },
    }
}

/// An evicted key's `DEL`, never part of a transaction's block: eviction frees memory
/// before a command, and may take any key of the shard, not only the transaction's.
fn evicted(db: DbIndex, key: &[u8]) {
    send_rec(db, resp(&[b"DEL", key]), false, Tag::Untagged);
}

/// How a command is logged once it changed something.
enum Form {
    /// Its arguments replay to the same effect.
    Verbatim,
    /// Verbatim, then the absolute expiry of each key it changed (it may set a relative one).
    Timed,
    /// XADD: its ID argument replaced by the ID it generated.
    Xadd,
    /// SPOP: `SREM` of the members it popped.
    Spop,
    /// Its effect depends on time or chance in ways its arguments do not fix: the keys'
    /// new state.
    State,
}

fn form(name: &str) -> Form {
    match name {
        "set" | "setex" | "psetex" | "getex" | "expire" | "pexpire" | "restore" => Form::Timed,
        "xadd" => Form::Xadd,
        "spop" => Form::Spop,
        "xreadgroup" | "xclaim" | "xautoclaim" | "srandmember" => Form::State,
        _ => Form::Verbatim,
    }
}

/// Before a command runs on this shard: changes made outside any command go first, untagged
/// (they were made before the work that follows, whatever transaction it belongs to).
#[inline]
pub(crate) fn begin(shard: &mut Shard) {
    if on() {
        let prev = LOCAL.with(|l| l.borrow_mut().op.take());
        flush_pending(shard);
        LOCAL.with(|l| l.borrow_mut().op = prev);
    }
}

/// After a command ran on this shard (its reply in `reply`): logs what it changed here.
pub(crate) fn end_command(
    shard: &mut Shard,
    spec: &CommandSpec,
    db: DbIndex,
    args: &[Bytes],
    reply: &[u8],
) {
    if !on() {
        return;
    }
    let changed = take_changed();
    if changed.is_empty() {
        return;
    }
    let mut real = false;
    for (kdb, key, kind) in &changed {
        match kind {
            ChangeKind::Expired => send(*kdb, resp(&[b"DEL", key])),
            ChangeKind::Evicted => evicted(*kdb, key),
            _ => real = true,
        }
    }
    if !real {
        return;
    }
    let argv: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
    let keyed = || {
        changed
            .iter()
            .filter(|c| !matches!(c.2, ChangeKind::Expired | ChangeKind::Evicted))
            .cloned()
            .collect::<Vec<_>>()
    };
    match form(spec.name) {
        Form::Verbatim => send(db, resp(&argv)),
        Form::Timed => {
            send(db, resp(&argv));
            let mut done: Vec<(DbIndex, &[u8])> = Vec::new();
            for (kdb, key, _) in &changed {
                if done.iter().any(|(d, k)| d == kdb && *k == &key[..]) {
                    continue;
                }
                done.push((*kdb, key));
                let at = shard
                    .dbs
                    .get_mut(*kdb)
                    .and_then(|d| d.peek(key))
                    .and_then(|e| e.expire());
                if let Some(t) = at {
                    send(*kdb, resp(&[b"PEXPIREAT", key, t.to_string().as_bytes()]));
                }
            }
        }
        Form::Xadd => match (xadd_id_pos(args), bulks(reply).first()) {
            (Some(i), Some(id)) => {
                let mut v = argv.clone();
                v[i] = id;
                send(db, resp(&v));
            }
            _ => {
                log_states(shard, keyed());
            }
        },
        Form::Spop => {
            let members = bulks(reply);
            if members.is_empty() {
                log_states(shard, keyed());
            } else {
                let mut v: Vec<&[u8]> = vec![b"SREM", &args[1]];
                v.extend(members);
                send(db, resp(&v));
            }
        }
        Form::State => {
            // A state that cannot be encoded (never, with every type in the RDB codec) falls
            // back to the command itself.
            if !log_states(shard, keyed()) {
                send(db, resp(&argv));
            }
        }
    }
}

/// The position of XADD's ID argument: after the key and the options.
fn xadd_id_pos(args: &[Bytes]) -> Option<usize> {
    let mut i = 2;
    while i < args.len() {
        let a = args[i].to_ascii_lowercase();
        match &a[..] {
            b"nomkstream" => i += 1,
            b"maxlen" | b"minid" => {
                i += 1;
                if args
                    .get(i)
                    .is_some_and(|x| &x[..] == b"~" || &x[..] == b"=")
                {
                    i += 1;
                }
                i += 1;
            }
            b"limit" => i += 2,
            _ => return Some(i),
        }
    }
    None
}

/// The bulk strings of a reply (a bulk, or an array or set of bulks).
fn bulks(reply: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut p = 0;
    while p < reply.len() {
        let Some(nl) = reply[p..].windows(2).position(|w| w == b"\r\n") else {
            break;
        };
        let line = &reply[p..p + nl];
        p += nl + 2;
        if line.first() == Some(&b'$') {
            let Some(n) = std::str::from_utf8(&line[1..])
                .ok()
                .and_then(|s| s.parse::<usize>().ok())
            else {
                continue;
            };
            if p + n > reply.len() {
                break;
            }
            out.push(&reply[p..p + n]);
            p += n + 2;
        }
    }
    out
}

/// An all-shard write command (FLUSHALL, FLUSHDB, SWAPDB) ran: logged once, verbatim, by
/// the thread that ran it over every shard, after every part ran and before any shard is
/// released; `tx` is the transaction (EXEC, script) it ran in, if any, whose block it joins.
/// (Its parts' flush and swap events are not logged by the shards.)
pub(crate) fn log_fanout(tx: Option<TxId>, spec: &CommandSpec, db: DbIndex, args: &[Bytes]) {
    if !on() || spec.flags & rustis_commands::registry::flags::WRITE == 0 {
        return;
    }
    let argv: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
    send_rec(db, resp(&argv), true, Tag::Tx(tx));
}

/// A FUNCTION LOAD, DELETE, FLUSH or RESTORE accepted by an engine: logged verbatim, as
/// Redis propagates it (called under the function list's lock, see `functions.rs`). It names
/// no key and goes to the file by the functions' own place in a rewrite's cut.
pub(crate) fn log_function(st: &AofState, args: &[Bytes]) {
    if let Some(tx) = st.sender() {
        let argv: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
        st.sent.fetch_add(1, Ordering::Relaxed);
        let _ = tx.send(WMsg::Function(resp(&argv)));
    }
}

/// Under `appendfsync always`: waits until everything logged so far is on disk. Returns at
/// once when nothing was logged since the last fsync.
pub(crate) async fn sync_always(w: &Worker) {
    let st = &w.shared.aof;
    if st.fsync.load(Ordering::Relaxed) != FSYNC_ALWAYS
        || st.sent.load(Ordering::Relaxed) <= st.synced.load(Ordering::Acquire)
    {
        return;
    }
    let Some(tx) = st.sender() else {
        return;
    };
    let (reply, rx) = oneshot::channel();
    if tx.send(WMsg::Sync(reply)).is_ok() {
        let _ = rx.await;
    }
}

// ---- The writer thread and the files. ----

pub(crate) const FSYNC_NO: u8 = 0;
pub(crate) const FSYNC_EVERYSEC: u8 = 1;
pub(crate) const FSYNC_ALWAYS: u8 = 2;

enum WMsg {
    /// A record: one or more commands for database `db`, from thread `from`, made as work of
    /// transaction `op` if any.
    Rec {
        from: usize,
        op: Option<TxId>,
        db: DbIndex,
        bytes: Vec<u8>,
        /// An all-shard command: every record held in an open block happened before it.
        global: bool,
    },
    /// Reply once everything before it is written (and fsynced under `always`).
    Sync(oneshot::Sender<bool>),
    /// A rewrite starts: open a new incremental file and list it in the manifest.
    Rotate(oneshot::Sender<Result<(), String>>),
    /// Thread `n` has taken its part of the rewrite's cut.
    Cut(usize),
    /// A FUNCTION command's record ([`log_function`]).
    Function(Vec<u8>),
    /// The rewrite has taken its copy of the function libraries: function records go to the
    /// new file from now on.
    FunctionsCut,
    /// Thread `n` starts (or ends) a block written as MULTI ... EXEC ([`Block`]): a thread
    /// block, or with a transaction, that transaction's block.
    Begin(usize, Option<TxId>),
    End(usize, Option<TxId>),
    /// The rewrite ended: its base file (None: it failed).
    /// A rewrite ended: its base file (and whether it is RDB), or none if it failed.
    Finish(Option<(PathBuf, bool)>, oneshot::Sender<Result<(), String>>),
    /// Write, fsync and stop.
    Stop(oneshot::Sender<()>),
}

/// The server's AOF state, shared by every thread (INFO persistence, the writer's channel).
pub(crate) struct AofState {
    sender: Mutex<Option<Sender<WMsg>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    pub enabled: AtomicBool,
    pub sent: AtomicU64,
    pub synced: AtomicU64,
    pub fsync: AtomicU8,
    /// `aof-timestamp-enabled`.
    pub timestamps: Arc<AtomicBool>,
    /// DEBUG AOF-FLUSH-SLEEP: microseconds the writer waits before each write.
    pub flush_sleep_us: AtomicU64,
    pub rewrite_running: AtomicBool,
    pub rewrite_scheduled: AtomicBool,
    pub rewrite_started: AtomicI64,
    pub last_rewrite_secs: AtomicI64,
    pub last_rewrite_ok: AtomicBool,
    pub rewrites: AtomicU64,
    pub rewrite_failures: AtomicU64,
    pub last_write_ok: AtomicBool,
    pub current_size: AtomicU64,
    pub base_size: AtomicU64,
    /// The size of the whole AOF after the last rewrite (or at startup): auto-rewrite grows
    /// from it.
    pub rewrite_base_size: AtomicU64,
    pub loaded: AtomicBool,
    /// Why write commands are refused (MISCONF): [`DISK_ERROR_RDB`] and [`DISK_ERROR_AOF`]
    /// bits; 0 nearly always, one atomic load per command.
    pub disk_error: AtomicU8,
    /// The last AOF write error, as `strerror` words it.
    write_error: Mutex<String>,
}

/// `stop-writes-on-bgsave-error yes`, save points set, and the last BGSAVE failed.
pub(crate) const DISK_ERROR_RDB: u8 = 1;
/// The last write (or fsync) of the AOF failed.
pub(crate) const DISK_ERROR_AOF: u8 = 2;

const MISCONF_RDB: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// The MISCONF error a write command (or PING) gets, if writes are refused now.
#[inline]
pub(crate) fn disk_error(w: &Worker, spec: &CommandSpec) -> Option<String> {
    let e = w.shared.aof.disk_error.load(Ordering::Relaxed);
    if e == 0 || (spec.flags & rustis_commands::registry::flags::WRITE == 0 && spec.name != "ping")
    {
        return None;
    }
    if e & DISK_ERROR_RDB != 0 {
        return Some(MISCONF_RDB.to_string());
    }
    let why = w
        .shared
        .aof
        .write_error
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    Some(format!("MISCONF Errors writing to the AOF file: {why}"))
}

/// Recomputes the RDB half of MISCONF from the configuration and the last BGSAVE.
pub(crate) fn refresh_rdb_error(shared: &crate::shared::Shared) {
    let deny = {
        let cfg = shared.config();
        cfg.get("stop-writes-on-bgsave-error") != Some("no") && !cfg.save_points().is_empty()
    } && !shared.persist.bg_last_ok.load(Ordering::Relaxed);
    if deny {
        shared
            .aof
            .disk_error
            .fetch_or(DISK_ERROR_RDB, Ordering::Relaxed);
    } else {
        shared
            .aof
            .disk_error
            .fetch_and(!DISK_ERROR_RDB, Ordering::Relaxed);
    }
}

/// `strerror`'s words for an I/O error (Rust's text without its " (os error N)").
fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

impl AofState {
    pub fn new() -> Arc<Self> {
        Arc::new(AofState {
            sender: Mutex::new(None),
            writer: Mutex::new(None),
            enabled: AtomicBool::new(false),
            sent: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            fsync: AtomicU8::new(FSYNC_EVERYSEC),
            timestamps: Arc::new(AtomicBool::new(false)),
            flush_sleep_us: AtomicU64::new(0),
            rewrite_running: AtomicBool::new(false),
            rewrite_scheduled: AtomicBool::new(false),
            rewrite_started: AtomicI64::new(-1),
            last_rewrite_secs: AtomicI64::new(-1),
            last_rewrite_ok: AtomicBool::new(true),
            rewrites: AtomicU64::new(0),
            rewrite_failures: AtomicU64::new(0),
            last_write_ok: AtomicBool::new(true),
            current_size: AtomicU64::new(0),
            base_size: AtomicU64::new(0),
            rewrite_base_size: AtomicU64::new(0),
            loaded: AtomicBool::new(false),
            disk_error: AtomicU8::new(0),
            write_error: Mutex::new(String::new()),
        })
    }

    fn sender(&self) -> Option<Sender<WMsg>> {
        self.sender
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reads `appendfsync` from the configuration.
    pub fn load_settings(&self, cfg: &crate::Config) {
        let f = match cfg.get("appendfsync") {
            Some("always") => FSYNC_ALWAYS,
            Some("no") => FSYNC_NO,
            _ => FSYNC_EVERYSEC,
        };
        self.fsync.store(f, Ordering::Relaxed);
        self.timestamps.store(
            cfg.get("aof-timestamp-enabled") == Some("yes"),
            Ordering::Relaxed,
        );
    }
}

/// Where the AOF lives: the directory and the base name of its files.
#[derive(Clone)]
pub(crate) struct AofPaths {
    pub dir: PathBuf,
    pub name: String,
}

impl AofPaths {
    pub fn of(cfg: &crate::Config) -> Self {
        let dir = Path::new(cfg.get("dir").unwrap_or(".")).join(
            cfg.get("appenddirname")
                .filter(|s| !s.is_empty())
                .unwrap_or("appendonlydir"),
        );
        let name = cfg
            .get("appendfilename")
            .filter(|s| !s.is_empty())
            .unwrap_or("appendonly.aof")
            .to_string();
        AofPaths { dir, name }
    }

    fn manifest(&self) -> PathBuf {
        self.dir.join(format!("{}.manifest", self.name))
    }
}

/// One file named by the manifest.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FileInfo {
    pub name: String,
    pub seq: u64,
    pub kind: char,
}

/// The manifest: the base file, the history files waiting to be deleted, the incremental
/// files in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Manifest {
    pub base: Option<FileInfo>,
    pub history: Vec<FileInfo>,
    pub incr: Vec<FileInfo>,
}

/// Why a manifest could not be read: Redis's reason, and the line it was read at.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ManifestError {
    pub reason: &'static str,
    pub line: Option<(usize, String)>,
}

impl ManifestError {
    fn new(reason: &'static str, line: Option<(usize, String)>) -> Self {
        ManifestError { reason, line }
    }

    /// Logs it as Redis does before it exits.
    fn log(&self) {
        tracing::warn!("\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
        if let Some((n, l)) = &self.line {
            tracing::warn!("Reading the manifest file, at line {n}\n");
            tracing::warn!(">>> '{l}'\n");
        }
        tracing::warn!("{}\n", self.reason);
    }
}

impl Manifest {
    /// Redis's text: `file <name> seq <n> type <b|h|i>` per line, base first; a name with
    /// blanks or special characters is quoted as `sdscatrepr` quotes it.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let mut line = |f: &FileInfo| {
            let needs_repr = f.name.bytes().any(|b| {
                matches!(b, b'\\' | b'"') || b.is_ascii_whitespace() || !(0x21..=0x7e).contains(&b)
            });
            let name = if needs_repr {
                crate::config::repr(&f.name)
            } else {
                f.name.clone()
            };
            s.push_str(&format!("file {} seq {} type {}\n", name, f.seq, f.kind));
        };
        if let Some(b) = &self.base {
            line(b);
        }
        for f in &self.history {
            line(f);
        }
        for f in &self.incr {
            line(f);
        }
        s
    }

    /// Reads a manifest as Redis 7.0's `aofLoadManifestFromFile` does. The error is what
    /// Redis logs: the line number and the line (when there is one), then the reason.
    pub fn parse(text: &[u8]) -> Result<Manifest, ManifestError> {
        /// Redis reads lines with a 1024-byte buffer: a longer line is an error.
        const MAX_LINE: usize = 1024;
        let mut m = Manifest::default();
        let mut max_incr = 0;
        if text.is_empty() {
            return Err(ManifestError::new("Found an empty AOF manifest", None));
        }
        let mut rest = text;
        let mut lineno = 0;
        while !rest.is_empty() {
            // `fgets`: at most MAX_LINE bytes, up to and including a newline.
            let cut = rest[..rest.len().min(MAX_LINE)]
                .iter()
                .position(|&b| b == b'\n')
                .map(|i| i + 1)
                .unwrap_or(rest.len().min(MAX_LINE));
            let raw = &rest[..cut];
            rest = &rest[cut..];
            lineno += 1;
            if raw.first() == Some(&b'#') {
                continue;
            }
            if !raw.contains(&b'\n') {
                return Err(ManifestError::new(
                    "The AOF manifest file contains too long line",
                    None,
                ));
            }
            let line = raw.trim_ascii_start();
            let line = {
                let mut l = line;
                while let Some((&last, head)) = l.split_last() {
                    if matches!(last, b' ' | b'\t' | b'\r' | b'\n') {
                        l = head;
                    } else {
                        break;
                    }
                }
                l
            };
            let shown = Some((lineno, String::from_utf8_lossy(line).into_owned()));
            let invalid = |shown| ManifestError::new("Invalid AOF manifest file format", shown);
            if line.is_empty() {
                return Err(invalid(shown));
            }
            let words = match rustis_resp::parse::split_args(line) {
                Some(w) if w.len() >= 6 && w.len().is_multiple_of(2) => w,
                _ => return Err(invalid(shown)),
            };
            let (mut name, mut seq, mut kind) = (None, 0u64, None);
            for kv in words.chunks(2) {
                let key = &kv[0];
                if key.eq_ignore_ascii_case(b"file") {
                    let n = String::from_utf8_lossy(&kv[1]).into_owned();
                    if n.contains('/') {
                        return Err(ManifestError::new(
                            "File can't be a path, just a filename",
                            shown,
                        ));
                    }
                    name = Some(n);
                } else if key.eq_ignore_ascii_case(b"seq") {
                    // `atoll`: the leading digits, 0 when there are none.
                    seq = kv[1]
                        .iter()
                        .take_while(|b| b.is_ascii_digit())
                        .fold(0u64, |n, &d| {
                            n.wrapping_mul(10).wrapping_add((d - b'0') as u64)
                        });
                } else if key.eq_ignore_ascii_case(b"type") {
                    kind = kv[1].first().map(|&b| b as char);
                }
            }
            let (Some(name), true, Some(kind)) = (name, seq != 0, kind) else {
                return Err(invalid(shown));
            };
            let f = FileInfo { name, seq, kind };
            match kind {
                'b' => {
                    if m.base.is_some() {
                        return Err(ManifestError::new(
                            "Found duplicate base file information",
                            shown,
                        ));
                    }
                    m.base = Some(f);
                }
                'h' => m.history.push(f),
                'i' => {
                    if seq <= max_incr {
                        return Err(ManifestError::new(
                            "Found a non-monotonic sequence number",
                            shown,
                        ));
                    }
                    max_incr = seq;
                    m.incr.push(f);
                }
                _ => return Err(ManifestError::new("Unknown AOF file type", shown)),
            }
        }
        Ok(m)
    }

    fn next_incr(&mut self, name: &str) -> FileInfo {
        let seq = self.incr.last().map_or(0, |f| f.seq) + 1;
        let f = FileInfo {
            name: format!("{name}.{seq}.incr.aof"),
            seq,
            kind: 'i',
        };
        self.incr.push(f.clone());
        f
    }

    /// The next base file: `.base.rdb`, or `.base.aof` (commands) with
    /// `aof-use-rdb-preamble no`.
    fn next_base(&mut self, name: &str, rdb: bool) -> FileInfo {
        let seq = self.base.as_ref().map_or(0, |f| f.seq) + 1;
        if let Some(mut old) = self.base.take() {
            old.kind = 'h';
            self.history.push(old);
        }
        let f = FileInfo {
            name: format!("{name}.{seq}.base.{}", if rdb { "rdb" } else { "aof" }),
            seq,
            kind: 'b',
        };
        self.base = Some(f.clone());
        f
    }
}

/// Writes the manifest atomically: a temp file, fsynced, renamed over it, the directory
/// fsynced.
fn persist_manifest(paths: &AofPaths, m: &Manifest) -> std::io::Result<()> {
    let tmp = paths.dir.join(format!("temp-{}.manifest", paths.name));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(m.render().as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, paths.manifest())?;
    if let Ok(d) = File::open(&paths.dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// An incremental file being appended to.
struct Incr {
    file: File,
    /// The database its last command ran in (a SELECT precedes a record in another).
    db: Option<DbIndex>,
    buf: Vec<u8>,
    size: u64,
    dirty: bool,
    /// `aof-timestamp-enabled`: the server's switch, read per record.
    stamps: Arc<AtomicBool>,
    /// The second of the last `#TS:` annotation written.
    last_ts: u64,
}

impl Incr {
    fn open(path: &Path, stamps: Arc<AtomicBool>) -> std::io::Result<Incr> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(Incr {
            file,
            db: None,
            buf: Vec::new(),
            size,
            dirty: false,
            stamps,
            last_ts: 0,
        })
    }

    fn add(&mut self, db: DbIndex, bytes: &[u8]) {
        // With `aof-timestamp-enabled yes`, a `#TS:<unix seconds>` line before the first record
        // of each second, as Redis annotates its AOF (loading skips these lines).
        if self.stamps.load(Ordering::Relaxed) {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            if now > self.last_ts {
                self.buf
                    .extend_from_slice(format!("#TS:{now}\r\n").as_bytes());
                self.last_ts = now;
            }
        }
        self.select(db);
        self.buf.extend_from_slice(bytes);
    }

    /// A SELECT, unless `db` is the database the file's last record was in.
    fn select(&mut self, db: DbIndex) {
        if self.db != Some(db) {
            let d = db.to_string();
            self.buf
                .extend_from_slice(&resp(&[b"SELECT", d.as_bytes()]));
            self.db = Some(db);
        }
    }

    fn write(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let r = self.file.write_all(&self.buf);
        self.size += self.buf.len() as u64;
        self.buf.clear();
        self.dirty = true;
        r
    }

    fn fsync(&mut self) -> std::io::Result<()> {
        if self.dirty {
            self.dirty = false;
            self.file.sync_data()?;
        }
        Ok(())
    }
}

/// Records held for an open thread block: `(database, command)`.
type Held = Vec<(DbIndex, Vec<u8>)>;

/// Records held for an open transaction block: `(thread, database, command)`.
type TxHeld = Vec<(usize, DbIndex, Vec<u8>)>;

struct Writer {
    paths: AofPaths,
    n: usize,
    manifest: Manifest,
    cur: Incr,
    /// During a rewrite, until every thread has taken its cut: the previous file, for the
    /// records of threads not cut yet.
    old: Option<(Incr, Vec<bool>)>,
    state: Arc<AofState>,
    last_fsync: Instant,
    /// Per thread, an open thread block: its nesting depth and the records held for it.
    blocks: std::collections::HashMap<usize, (u32, Held)>,
    /// Per transaction, an open transaction block: its nesting depth and its records.
    txs: std::collections::HashMap<TxId, (u32, TxHeld)>,
    written: u64,
    base_size: u64,
    closed_size: u64,
}

impl Writer {
    fn sizes(&self) {
        let total = self.base_size
            + self.closed_size
            + self.cur.size
            + self.old.as_ref().map_or(0, |o| o.0.size);
        self.state.current_size.store(total, Ordering::Relaxed);
        self.state
            .base_size
            .store(self.base_size, Ordering::Relaxed);
    }

    fn flush(&mut self, fsync: bool) -> bool {
        // DEBUG AOF-FLUSH-SLEEP: the writer (its own thread) waits before writing what it
        // has, so that a test can see replies wait for the write under `appendfsync always`.
        let pause = self.state.flush_sleep_us.load(Ordering::Relaxed);
        if pause > 0 && !self.cur.buf.is_empty() {
            std::thread::sleep(Duration::from_micros(pause));
        }
        let mut err = self.cur.write().err();
        if let Some((o, _)) = self.old.as_mut() {
            err = err.or(o.write().err());
        }
        if fsync {
            err = err.or(self.cur.fsync().err());
            if let Some((o, _)) = self.old.as_mut() {
                err = err.or(o.fsync().err());
            }
            self.last_fsync = Instant::now();
        }
        let ok = err.is_none();
        if let Some(e) = err {
            tracing::warn!("Error writing to the AOF file: {e}");
            *self
                .state
                .write_error
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = strerror(&e);
            self.state
                .disk_error
                .fetch_or(DISK_ERROR_AOF, Ordering::Relaxed);
        } else if !self.state.last_write_ok.load(Ordering::Relaxed) {
            tracing::warn!("AOF write error looks solved, Redis can write again.");
            self.state
                .disk_error
                .fetch_and(!DISK_ERROR_AOF, Ordering::Relaxed);
        }
        self.state.last_write_ok.store(ok, Ordering::Relaxed);
        self.sizes();
        ok
    }

    fn run(mut self, rx: Receiver<WMsg>) {
        let mut syncs: Vec<oneshot::Sender<bool>> = Vec::new();
        loop {
            let policy = self.state.fsync.load(Ordering::Relaxed);
            let first = match rx.recv_timeout(Duration::from_millis(1000)) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => {
                    self.flush(true);
                    return;
                }
            };
            let mut msgs: Vec<WMsg> = first.into_iter().collect();
            while msgs.len() < 4096 {
                match rx.try_recv() {
                    Ok(m) => msgs.push(m),
                    Err(_) => break,
                }
            }
            let mut stop = None;
            for m in msgs {
                match m {
                    WMsg::Rec {
                        from,
                        op,
                        db,
                        bytes,
                        global,
                    } => {
                        self.written += 1;
                        if let Some(b) = op.and_then(|t| self.txs.get_mut(&t)) {
                            b.1.push((from, db, bytes));
                            continue;
                        }
                        if global && !(self.n == 1 && self.blocks.contains_key(&from)) {
                            // Never held (but with one thread, in that thread's block):
                            // records of other threads after it depend on it.
                            let open: Vec<usize> = self.blocks.keys().copied().collect();
                            for t in open {
                                self.write_held(t);
                            }
                            self.target(from).add(db, &bytes);
                            continue;
                        }
                        match self.blocks.get_mut(&from) {
                            Some((_, held)) => held.push((db, bytes)),
                            None => self.target(from).add(db, &bytes),
                        }
                    }
                    WMsg::Begin(t, None) => self.blocks.entry(t).or_default().0 += 1,
                    WMsg::Begin(t, Some(x)) => {
                        // What a thread block of this thread holds happened before.
                        self.write_held(t);
                        self.txs.entry(x).or_default().0 += 1;
                    }
                    WMsg::End(t, None) => {
                        let done = match self.blocks.get_mut(&t) {
                            Some((depth, _)) => {
                                *depth -= 1;
                                *depth == 0
                            }
                            None => false,
                        };
                        if done {
                            self.write_held(t);
                            self.blocks.remove(&t);
                        }
                    }
                    WMsg::End(_, Some(x)) => {
                        let done = match self.txs.get_mut(&x) {
                            Some((depth, _)) => {
                                *depth -= 1;
                                *depth == 0
                            }
                            None => false,
                        };
                        if done {
                            if let Some((_, held)) = self.txs.remove(&x) {
                                self.write_tx(held);
                            }
                        }
                    }
                    WMsg::Function(bytes) => {
                        self.written += 1;
                        let n = self.n;
                        self.target(n).buf.extend_from_slice(&bytes);
                    }
                    WMsg::FunctionsCut => {
                        let n = self.n;
                        if let Some((_, cut)) = self.old.as_mut() {
                            cut[n] = true;
                        }
                        self.close_old_if_cut();
                    }
                    WMsg::Sync(r) => syncs.push(r),
                    WMsg::Cut(t) => {
                        // What the thread holds in a block happened before its cut.
                        self.write_held(t);
                        if let Some((_, cut)) = self.old.as_mut() {
                            if let Some(c) = cut.get_mut(t) {
                                *c = true;
                            }
                        }
                        self.close_old_if_cut();
                    }
                    WMsg::Rotate(r) => {
                        self.flush(true);
                        let _ = r.send(self.rotate());
                    }
                    WMsg::Finish(base, r) => {
                        self.flush(true);
                        let _ = r.send(self.finish(base));
                    }
                    WMsg::Stop(r) => stop = Some(r),
                }
            }
            let fsync = match policy {
                FSYNC_ALWAYS => true,
                FSYNC_EVERYSEC => self.last_fsync.elapsed() >= Duration::from_secs(1),
                _ => false,
            };
            let ok = self.flush(fsync || stop.is_some());
            if fsync || policy != FSYNC_ALWAYS {
                self.state.synced.store(self.written, Ordering::Release);
            }
            for r in syncs.drain(..) {
                let _ = r.send(ok);
            }
            if let Some(r) = stop {
                let _ = r.send(());
                return;
            }
        }
    }

    /// Writes what thread `t`'s open block holds (as MULTI ... EXEC when more than one
    /// record); the block stays open for what comes next.
    fn write_held(&mut self, t: usize) {
        let held = match self.blocks.get_mut(&t) {
            Some((_, held)) if !held.is_empty() => std::mem::take(held),
            _ => return,
        };
        let f = self.target(t);
        if held.len() == 1 {
            f.add(held[0].0, &held[0].1);
            return;
        }
        // Redis propagates MULTI in the database of the block's first record: the SELECT
        // comes before it.
        f.select(held[0].0);
        f.buf.extend_from_slice(&resp(&[b"MULTI"]));
        for (db, b) in &held {
            f.add(*db, b);
        }
        f.buf.extend_from_slice(&resp(&[b"EXEC"]));
    }

    /// Writes a transaction block's records as one MULTI ... EXEC (one record alone, as it
    /// is). The file is that of the thread that made the first record: every thread whose
    /// keys the transaction touched is on the same side of a rewrite's cut, since the cut is
    /// taken under the all-shard lock, which waits for the transaction's locks to go, and
    /// those go only after the block ends.
    fn write_tx(&mut self, held: TxHeld) {
        let Some(&(first, _, _)) = held.first() else {
            return;
        };
        debug_assert!(held
            .iter()
            .all(|(t, _, _)| self.cut_of(*t) == self.cut_of(first)));
        let f = self.target(first);
        if held.len() == 1 {
            f.add(held[0].1, &held[0].2);
            return;
        }
        f.select(held[0].1);
        f.buf.extend_from_slice(&resp(&[b"MULTI"]));
        for (_, db, b) in &held {
            f.add(*db, b);
        }
        f.buf.extend_from_slice(&resp(&[b"EXEC"]));
    }

    /// Whether thread `t`'s records go to the new file of a running rewrite.
    fn cut_of(&self, t: usize) -> bool {
        self.old
            .as_ref()
            .is_none_or(|(_, cut)| cut.get(t).copied().unwrap_or(true))
    }

    /// The file a record of thread `from` goes to: during a rewrite, the old one until the
    /// thread has taken its cut.
    fn target(&mut self, from: usize) -> &mut Incr {
        match self.old.as_mut() {
            Some((o, cut)) if !cut.get(from).copied().unwrap_or(true) => o,
            _ => &mut self.cur,
        }
    }

    fn close_old_if_cut(&mut self) {
        if self
            .old
            .as_ref()
            .is_some_and(|(_, cut)| cut.iter().all(|c| *c))
        {
            if let Some((mut o, _)) = self.old.take() {
                let _ = o.write();
                let _ = o.fsync();
                self.closed_size += o.size;
            }
        }
    }

    fn rotate(&mut self) -> Result<(), String> {
        if let Some((mut o, _)) = self.old.take() {
            let _ = o.write();
            let _ = o.fsync();
            self.closed_size += o.size;
        }
        let mut m = self.manifest.clone();
        let f = m.next_incr(&self.paths.name);
        let new = Incr::open(&self.paths.dir.join(&f.name), self.state.timestamps.clone())
            .map_err(|e| {
                tracing::warn!("Can't open the append-only file {}: {e}", f.name);
                e.to_string()
            })?;
        persist_manifest(&self.paths, &m).map_err(|e| e.to_string())?;
        self.manifest = m;
        tracing::info!("Creating AOF incr file {} on background rewrite", f.name);
        let old = std::mem::replace(&mut self.cur, new);
        // One slot per thread, and one for the function records.
        self.old = Some((old, vec![false; self.n + 1]));
        Ok(())
    }

    fn finish(&mut self, base: Option<(PathBuf, bool)>) -> Result<(), String> {
        // Every thread took its cut before the snapshot ended.
        if let Some((mut o, _)) = self.old.take() {
            let _ = o.write();
            let _ = o.fsync();
        }
        let Some((tmp, rdb)) = base else {
            self.closed_size = self.closed_incr_sizes();
            return Err("the rewrite failed".into());
        };
        let mut m = self.manifest.clone();
        let b = m.next_base(&self.paths.name, rdb);
        let newest = m.incr.pop();
        for mut f in m.incr.drain(..) {
            f.kind = 'h';
            m.history.push(f);
        }
        m.incr.extend(newest);
        std::fs::rename(&tmp, self.paths.dir.join(&b.name)).map_err(|e| e.to_string())?;
        persist_manifest(&self.paths, &m).map_err(|e| e.to_string())?;
        for h in m.history.drain(..) {
            tracing::info!("Removing the history file {} in the background", h.name);
            let _ = std::fs::remove_file(self.paths.dir.join(&h.name));
        }
        let _ = persist_manifest(&self.paths, &m);
        self.manifest = m;
        self.base_size = std::fs::metadata(self.paths.dir.join(&b.name)).map_or(0, |m| m.len());
        self.closed_size = 0;
        self.sizes();
        self.state.rewrite_base_size.store(
            self.state.current_size.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
        Ok(())
    }

    fn closed_incr_sizes(&self) -> u64 {
        let n = self.manifest.incr.len();
        self.manifest.incr[..n.saturating_sub(1)]
            .iter()
            .map(|f| std::fs::metadata(self.paths.dir.join(&f.name)).map_or(0, |m| m.len()))
            .sum()
    }
}

/// Starts the writer over `manifest` (already on disk), appending to its last incremental
/// file, or to a new one (also added to the manifest) when it has none.
fn start_writer(
    state: &Arc<AofState>,
    paths: AofPaths,
    mut manifest: Manifest,
    n: usize,
    new_incr: bool,
) -> Result<(), String> {
    let name = if new_incr || manifest.incr.is_empty() {
        let f = manifest.next_incr(&paths.name);
        persist_manifest(&paths, &manifest).map_err(|e| e.to_string())?;
        tracing::info!("Creating AOF incr file {} on server start", f.name);
        f.name
    } else {
        let f = manifest
            .incr
            .last()
            .map(|f| f.name.clone())
            .unwrap_or_default();
        tracing::info!("Opening AOF incr file {} on server start", f);
        f
    };
    let cur = Incr::open(&paths.dir.join(&name), state.timestamps.clone()).map_err(|e| {
        tracing::warn!("Can't open the append-only file {name}: {e}");
        e.to_string()
    })?;
    let base_size = manifest.base.as_ref().map_or(0, |b| {
        std::fs::metadata(paths.dir.join(&b.name)).map_or(0, |m| m.len())
    });
    let closed_size = manifest.incr[..manifest.incr.len().saturating_sub(1)]
        .iter()
        .map(|f| std::fs::metadata(paths.dir.join(&f.name)).map_or(0, |m| m.len()))
        .sum();
    let writer = Writer {
        paths,
        n,
        manifest,
        cur,
        old: None,
        state: state.clone(),
        last_fsync: Instant::now(),
        blocks: Default::default(),
        txs: Default::default(),
        written: state.sent.load(Ordering::Relaxed),
        base_size,
        closed_size,
    };
    writer.sizes();
    state.rewrite_base_size.store(
        state.current_size.load(Ordering::Relaxed),
        Ordering::Relaxed,
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let h = std::thread::Builder::new()
        .name("rustis-aof".into())
        .spawn(move || writer.run(rx))
        .map_err(|e| e.to_string())?;
    *state.sender.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
    *state.writer.lock().unwrap_or_else(|e| e.into_inner()) = Some(h);
    state.enabled.store(true, Ordering::Relaxed);
    Ok(())
}

/// Stops the writer: everything sent is written and fsynced first.
pub(crate) fn stop_writer(state: &AofState) {
    let tx = state
        .sender
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    state.enabled.store(false, Ordering::Relaxed);
    state
        .disk_error
        .fetch_and(!DISK_ERROR_AOF, Ordering::Relaxed);
    if let Some(tx) = tx {
        let (r, rx) = oneshot::channel();
        if tx.send(WMsg::Stop(r)).is_ok() {
            let _ = rx.blocking_recv();
        }
    }
    if let Some(h) = state
        .writer
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    {
        let _ = h.join();
    }
}

/// An empty RDB file: the base of a new AOF over an empty dataset.
fn write_empty_base(path: &Path) -> std::io::Result<()> {
    let aux = rustis_persist::file::Aux {
        version: crate::admin::REDIS_VERSION.to_string(),
        ctime: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
        used_mem: 0,
        aof_base: true,
        functions: Vec::new(),
    };
    let f = File::create(path)?;
    let fw = rustis_persist::file::FileWriter::new(std::io::BufWriter::new(f), &aux, true)?;
    let (bw, _) = fw.finish()?;
    let f = bw.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()
}

// ---- Loading. ----

/// What loading found.
pub(crate) struct LoadReport {
    pub keys: u64,
    /// The function libraries the files hold.
    pub functions: Vec<Vec<u8>>,
}

/// At startup with `appendonly yes`: loads the AOF named by the manifest (if any) into the
/// shards, then starts the writer (creating a base and an incremental file when there was
/// no AOF). The error stops startup.
pub(crate) fn start_at_startup(
    cfg: &crate::Config,
    shards: &mut [Shard],
    state: &Arc<AofState>,
) -> Result<LoadReport, crate::StartError> {
    state.load_settings(cfg);
    let paths = AofPaths::of(cfg);
    let mpath = paths.manifest();
    let err = |e: String| crate::StartError::Load(mpath.clone(), e);
    let mut keys = 0;
    let mut functions = Vec::new();
    // As `aofLoadManifestFromDisk`: no directory or no manifest is an empty manifest (a new
    // AOF, or an old-style single file to migrate); one that does not parse stops startup.
    let mut manifest = match std::fs::read(&mpath) {
        Ok(text) => Manifest::parse(&text).map_err(|e| {
            e.log();
            err(e.reason.to_string())
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Manifest::default(),
        Err(e) => {
            let why = crate::config::io_reason(&e);
            tracing::warn!(
                "Fatal error: can't open the AOF manifest file {} for reading: {why}",
                mpath.display()
            );
            return Err(err(why));
        }
    };
    // An AOF of Redis before 7.0 (`dir`/`appendfilename`) is moved into the directory as the
    // base, as `loadAppendOnlyFiles` upgrades it.
    let old = Path::new(cfg.get("dir").unwrap_or(".")).join(&paths.name);
    if old.is_file() {
        let no_files = manifest.base.is_none() && manifest.incr.is_empty();
        let only_old_base = manifest.incr.is_empty()
            && manifest.base.as_ref().is_some_and(|b| b.name == paths.name)
            && !paths.dir.join(&paths.name).exists();
        if !paths.dir.is_dir() || no_files || only_old_base {
            upgrade_old_aof(&paths, &old, &mut manifest).map_err(err)?;
        }
    }
    if manifest.base.is_some() || !manifest.incr.is_empty() {
        // Every file the manifest names must be there, before anything is loaded.
        let mut total = 0;
        for f in manifest.base.iter().chain(manifest.incr.iter()) {
            match std::fs::metadata(paths.dir.join(&f.name)) {
                Ok(md) => total += md.len(),
                Err(e) => {
                    let why = crate::config::io_reason(&e);
                    tracing::warn!(
                        "Unable to obtain the AOF file {} length. stat: {why}",
                        f.name
                    );
                    return Err(err(format!(
                        "Unable to obtain the AOF file {} length. stat: {why}",
                        f.name
                    )));
                }
            }
        }
        if total > 0 {
            (keys, functions) = load_files(cfg, &paths, &manifest, shards).map_err(err)?;
            tracing::info!("DB loaded from append only file");
            state.loaded.store(true, Ordering::Relaxed);
        }
    }
    if manifest.base.is_none() && manifest.incr.is_empty() {
        std::fs::create_dir_all(&paths.dir).map_err(|e| {
            tracing::warn!(
                "Can't open or create append-only dir {}: {}",
                paths.dir.display(),
                crate::config::io_reason(&e)
            );
            err(e.to_string())
        })?;
        let rdb = cfg.get("aof-use-rdb-preamble") != Some("no");
        let b = manifest.next_base(&paths.name, rdb);
        let path = paths.dir.join(&b.name);
        let written = if rdb {
            write_empty_base(&path)
        } else {
            // No keys and no libraries: an AOF of no commands.
            File::create(&path).and_then(|f| f.sync_all())
        };
        written.map_err(|e| err(e.to_string()))?;
        tracing::info!("Creating AOF base file {} on server start", b.name);
    }
    start_writer(state, paths, manifest, shards.len(), false).map_err(err)?;
    Ok(LoadReport { keys, functions })
}

/// Moves a single-file AOF of Redis before 7.0 into the AOF directory as its base, with a
/// manifest naming it, as Redis 7.0's `aofUpgradePrepare` does (the manifest first, so an
/// interrupted upgrade is finished by the next start).
fn upgrade_old_aof(paths: &AofPaths, old: &Path, m: &mut Manifest) -> Result<(), String> {
    std::fs::create_dir_all(&paths.dir).map_err(|e| {
        let why = crate::config::io_reason(&e);
        tracing::warn!(
            "Can't open or create append-only dir {}: {why}",
            paths.dir.display()
        );
        why
    })?;
    m.base = Some(FileInfo {
        name: paths.name.clone(),
        seq: 1,
        kind: 'b',
    });
    persist_manifest(paths, m).map_err(|e| {
        let why = crate::config::io_reason(&e);
        tracing::warn!("Can't persist the AOF manifest: {why}");
        why
    })?;
    std::fs::rename(old, paths.dir.join(&paths.name)).map_err(|e| {
        let why = crate::config::io_reason(&e);
        tracing::warn!(
            "Error trying to move the old AOF file {} into dir {}: {why}",
            paths.name,
            paths.dir.display()
        );
        why
    })?;
    tracing::info!(
        "Successfully migrated an old-style AOF file ({}) into the AOF directory ({}).",
        paths.name,
        paths.dir.display()
    );
    Ok(())
}

/// Loads the base and incremental files of `m` into `shards`: every command is replayed on
/// one scratch shard that holds every key (so a command over keys of several shards runs
/// whole), with expiry stopped (its clock at 0) as Redis stops it while loading; the keys
/// then move to the shards that own them. FUNCTION commands (and a base's libraries) are
/// applied to a scratch Lua engine. Returns the number of keys and the libraries' codes.
pub(crate) fn load_files(
    cfg: &crate::Config,
    paths: &AofPaths,
    m: &Manifest,
    shards: &mut [Shard],
) -> Result<(u64, Vec<Vec<u8>>), String> {
    let mut engine = crate::functions::scratch_engine();
    let n_dbs = shards.first().map_or(16, |s| s.dbs.len());
    let mut scratch = Shard::new(0, 1, n_dbs);
    scratch.config = cfg.shard_config();
    scratch.set_now(0);
    let truncated_ok = cfg.get("aof-load-truncated") != Some("no");
    let mut files: Vec<(&FileInfo, bool)> = Vec::new();
    if let Some(b) = &m.base {
        files.push((b, true));
    }
    for f in &m.incr {
        files.push((f, false));
    }
    let count = files.len();
    for (i, (f, is_base)) in files.into_iter().enumerate() {
        let path = paths.dir.join(&f.name);
        let start = Instant::now();
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) => {
                let why = crate::config::io_reason(&e);
                tracing::warn!(
                    "Fatal error: can't open the append log file {} for reading: {why}",
                    f.name
                );
                return Err(format!(
                    "can't open the append log file {} for reading: {why}",
                    f.name
                ));
            }
        };
        let last = i + 1 == count;
        let outcome = load_one(
            &mut scratch,
            &mut engine,
            &data,
            &f.name,
            &path,
            truncated_ok,
            last,
        )?;
        let secs = start.elapsed().as_secs_f64();
        if is_base {
            tracing::info!("DB loaded from base file {}: {secs:.3} seconds", f.name);
        } else {
            tracing::info!("DB loaded from incr file {}: {secs:.3} seconds", f.name);
        }
        if outcome && !last {
            tracing::warn!("Fatal error: the truncated file is not the last file");
            return Err("the truncated file is not the last file".into());
        }
    }
    // Every key moves to the shard that owns it.
    let n = shards.len();
    let mut keys = 0;
    for d in 0..n_dbs {
        let table = scratch.db(d).take_all();
        for (k, e) in table.iter() {
            let s = crate::routing::shard_of(k, n);
            shards[s].db(d).insert_entry(k, e.clone());
            keys += 1;
        }
    }
    Ok((keys, crate::functions::codes_of(&engine)))
}

/// What one shard gets in a reload: `(database, key, entry)`.
type ShardKeys = Vec<(DbIndex, Vec<u8>, rustis_storage::Entry)>;

/// Replaces every shard's data with `parts` (one list per shard) under the all-shard lock
/// (with `flush` false, adds them to it, replacing keys of the same name). Nothing of it
/// reaches the AOF: the data is what the files already say.
async fn replace_dataset(w: &Rc<Worker>, parts: Vec<ShardKeys>, flush: bool) -> Result<(), String> {
    let parts: Arc<Mutex<Vec<Option<ShardKeys>>>> =
        Arc::new(Mutex::new(parts.into_iter().map(Some).collect()));
    crate::persist::on_every_shard(w, move |wk| {
        let mine = parts.lock().unwrap_or_else(|e| e.into_inner())[wk.id]
            .take()
            .unwrap_or_default();
        let mut shard = wk.shard_now();
        flush_pending(&mut shard);
        for i in (0..shard.dbs.len()).filter(|_| flush) {
            shard.db(i).clear();
        }
        for (d, k, e) in mine {
            if d < shard.dbs.len() {
                shard.db(d).insert_entry(&k, e);
            }
        }
        take_changed();
    })
    .await
    .ok_or_else(|| "ERR server is shutting down".to_string())?;
    Ok(())
}

/// DEBUG RELOAD's options, as Redis's.
#[derive(Clone, Copy)]
pub(crate) struct ReloadOpts {
    /// SAVE first (not with NOSAVE).
    pub save: bool,
    /// Empty the dataset and the function libraries before loading (not with NOFLUSH).
    pub flush: bool,
    /// MERGE: a key or library the file has and the server too is replaced by the file's
    /// (without it, that is an error).
    pub merge: bool,
}

/// DEBUG RELOAD: SAVE, then the dataset and the function libraries are replaced by what the
/// file holds (or, with NOFLUSH, it is added to them).
pub(crate) async fn debug_reload(w: &Rc<Worker>, opts: ReloadOpts) -> Result<(), String> {
    const FAILED: &str = "ERR Error trying to load the RDB dump";
    if opts.save {
        crate::persist::save(w).await?;
    }
    let (path, n, n_dbs, cfg) = {
        let c = w.shared.config();
        (c.rdb_path(), w.n, w.shared.n_dbs, c.shard_config())
    };
    let data = std::fs::read(&path).map_err(|e| format!("{FAILED}: {e}"))?;
    let now = w.shared.clock.now_ms();
    let mut parts: Vec<ShardKeys> = (0..n).map(|_| Vec::new()).collect();
    let loaded = rustis_persist::file::load(&data, &cfg, n_dbs, now, true, |k| {
        let s = crate::routing::shard_of(&k.key, n);
        parts[s].push((
            k.db,
            k.key,
            rustis_storage::Entry::new(k.value, k.expire_ms),
        ));
        true
    })
    .map_err(|e| format!("{FAILED}: {e}"))?;
    // The libraries first, as Redis loads them before the keys: the file's, or with NOFLUSH
    // the server's and the file's together (a library in both is an error without MERGE).
    let mut engine = crate::functions::scratch_engine();
    if !opts.flush {
        crate::functions::load_codes(&mut engine, &w.shared.functions.codes())
            .map_err(|e| format!("{FAILED}: {e}"))?;
    }
    crate::functions::merge_codes(&mut engine, &loaded.functions, opts.merge)
        .map_err(|e| format!("{FAILED}: {e}"))?;
    if !opts.flush && !opts.merge {
        // Redis stops at a key the server has already; here nothing is loaded then.
        let keys: Arc<Vec<ShardKeys>> = Arc::new(parts.clone());
        let dup = crate::persist::on_every_shard(w, move |wk| {
            let mut shard = wk.shard_now();
            keys[wk.id]
                .iter()
                .any(|(d, k, _)| *d < shard.dbs.len() && shard.db(*d).contains(k))
        })
        .await
        .ok_or_else(|| "ERR server is shutting down".to_string())?;
        if dup.into_iter().any(|d| d) {
            return Err(format!("{FAILED}: a key of the file exists already"));
        }
    }
    replace_dataset(w, parts, opts.flush).await?;
    crate::script::replace_libraries(w, crate::functions::codes_of(&engine));
    tracing::info!("DB reloaded by DEBUG RELOAD");
    Ok(())
}

/// DEBUG LOADAOF: what was logged is written out, then the dataset is replaced by what the
/// AOF's files hold.
pub(crate) async fn debug_loadaof(w: &Rc<Worker>) -> Result<(), String> {
    if let Some(tx) = w.shared.aof.sender() {
        let (r, rx) = oneshot::channel();
        if tx.send(WMsg::Sync(r)).is_ok() {
            let _ = rx.await;
        }
    }
    let cfg = w.shared.config().clone();
    let paths = AofPaths::of(&cfg);
    let m = match std::fs::read(paths.manifest()) {
        Ok(t) => Manifest::parse(&t).map_err(|e| format!("ERR {}", e.reason))?,
        Err(_) => Manifest::default(),
    };
    let mut scratch: Vec<Shard> = (0..w.n)
        .map(|id| {
            let mut s = Shard::new(id, w.n, w.shared.n_dbs);
            s.config = cfg.shard_config();
            s
        })
        .collect();
    let (_, functions) =
        load_files(&cfg, &paths, &m, &mut scratch).map_err(|e| format!("ERR {e}"))?;
    let mut parts: Vec<ShardKeys> = Vec::with_capacity(w.n);
    for mut s in scratch {
        let mut mine = Vec::new();
        for d in 0..s.dbs.len() {
            let table = s.db(d).take_all();
            for (k, e) in table.iter() {
                mine.push((d, k.to_vec(), e.clone()));
            }
        }
        parts.push(mine);
    }
    replace_dataset(w, parts, true).await?;
    crate::script::replace_libraries(w, functions);
    tracing::warn!("Append Only File loaded by DEBUG LOADAOF");
    Ok(())
}

/// Loads one file into `scratch` (its libraries and FUNCTION commands into `engine`).
/// Returns whether it was truncated (and loaded anyway).
fn load_one(
    scratch: &mut Shard,
    engine: &mut rustis_scripting::Engine,
    data: &[u8],
    name: &str,
    path: &Path,
    truncated_ok: bool,
    last: bool,
) -> Result<bool, String> {
    let mut p = 0usize;
    if data.starts_with(b"REDIS") {
        tracing::info!("Reading RDB base file on AOF loading...");
        let cfg = scratch.config.clone();
        let n_dbs = scratch.dbs.len();
        let loaded = rustis_persist::file::load(data, &cfg, n_dbs, 0, true, |k| {
            let db = scratch.db(k.db);
            if db.contains(&k.key) {
                return false;
            }
            db.insert(&k.key, k.value, k.expire_ms);
            true
        })
        .map_err(|e| {
            tracing::warn!("Error reading the RDB base file {name}, AOF loading aborted");
            e.to_string()
        })?;
        crate::functions::load_codes(engine, &loaded.functions).inspect_err(|_| {
            tracing::warn!("Error reading the RDB base file {name}, AOF loading aborted");
        })?;
        // An AOF of Redis before 7.0 with `aof-use-rdb-preamble yes` goes on with commands.
        tracing::info!("Reading the remaining AOF tail...");
        p = loaded.len;
    }
    let mut db = 0;
    let mut queue: Option<Vec<(DbIndex, Vec<Bytes>)>> = None;
    let mut valid_up_to = p;
    let mut valid_before_multi = 0usize;
    let mut out = Out::new(false);
    let fmterr = || {
        tracing::warn!("Bad file format reading the append only file {name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>");
        format!("Bad file format reading the append only file {name}")
    };
    let short = loop {
        if p >= data.len() {
            break queue.is_some();
        }
        // Annotations (`#TS:...`) are skipped.
        if data[p] == b'#' {
            match data[p..].iter().position(|&c| c == b'\n') {
                Some(nl) => {
                    p += nl + 1;
                    continue;
                }
                None => break true,
            }
        }
        let cmd = match parse_command(data, p) {
            Parse::Done(args, next) => {
                p = next;
                args
            }
            Parse::Short => break true,
            Parse::Bad => return Err(fmterr()),
        };
        let lname = cmd[0].to_ascii_lowercase();
        match &lname[..] {
            b"select" => {
                db = std::str::from_utf8(&cmd[1..].concat())
                    .ok()
                    .and_then(|s| s.parse::<usize>().ok())
                    .filter(|&d| d < scratch.dbs.len())
                    .ok_or_else(fmterr)?;
            }
            b"multi" => {
                valid_before_multi = valid_up_to;
                queue = Some(Vec::new());
            }
            b"exec" => {
                for (d, c) in queue.take().unwrap_or_default() {
                    replay(scratch, engine, d, &c, &mut out, name)?;
                }
            }
            _ => match queue.as_mut() {
                // A SELECT inside the block applies to what is queued after it.
                Some(q) => q.push((db, cmd)),
                None => replay(scratch, engine, db, &cmd, &mut out, name)?,
            },
        }
        valid_up_to = p;
    };
    if !short {
        return Ok(false);
    }
    if queue.is_some() && p >= data.len() {
        tracing::warn!("Revert incomplete MULTI/EXEC transaction in AOF file {name}");
        valid_up_to = valid_before_multi;
    }
    if truncated_ok && last {
        tracing::warn!("!!! Warning: short read while loading the AOF file {name}!!!");
        tracing::warn!("!!! Truncating the AOF {name} at offset {valid_up_to} !!!");
        match OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(valid_up_to as u64))
        {
            Ok(()) => {
                tracing::warn!("AOF {name} loaded anyway because aof-load-truncated is enabled");
                return Ok(true);
            }
            Err(e) => {
                tracing::warn!("Error truncating the AOF file {name}: {e}");
            }
        }
    }
    tracing::warn!("Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.");
    Err(format!(
        "Unexpected end of file reading the append only file {name}"
    ))
}

fn replay(
    scratch: &mut Shard,
    engine: &mut rustis_scripting::Engine,
    db: DbIndex,
    args: &[Bytes],
    out: &mut Out,
    name: &str,
) -> Result<(), String> {
    let Some(spec) = crate::dispatch::REGISTRY.lookup(&args[0]) else {
        let cmd = String::from_utf8_lossy(&args[0]);
        tracing::warn!("Unknown command '{cmd}' reading the append only file {name}");
        return Err(format!(
            "Unknown command '{cmd}' reading the append only file {name}"
        ));
    };
    if let Run::Conn(cmd) = spec.run {
        // FUNCTION LOAD, DELETE, FLUSH, RESTORE change the libraries; the other server-level
        // commands (SCRIPT LOAD) change nothing that is kept.
        if cmd == rustis_commands::ConnCmd::Function {
            crate::functions::replay(engine, args);
        }
        return Ok(());
    }
    // The checks dispatch makes before a command runs: a damaged file is refused, it never
    // reaches a handler with arguments it does not expect.
    let checked = if !spec.arity_ok(args.len()) {
        false
    } else if !spec.subcommands.is_empty() && args.len() >= 2 {
        spec.subcommand(&args[1])
            .is_some_and(|sub| sub.arity_ok(args.len()))
    } else {
        true
    };
    if !checked || spec.precheck.is_some_and(|check| check(args).is_err()) {
        let cmd = String::from_utf8_lossy(&args[0]);
        tracing::warn!("Bad arguments of '{cmd}' reading the append only file {name}");
        return Err(format!(
            "Bad arguments of '{cmd}' reading the append only file {name}"
        ));
    }
    out.buf.clear();
    crate::worker::exec_on(scratch, spec, db, args, out, &|_, _| false);
    Ok(())
}

enum Parse {
    Done(Vec<Bytes>, usize),
    Short,
    Bad,
}

/// One `*<n>\r\n($<len>\r\n<bytes>\r\n)*` command at `p`.
fn parse_command(data: &[u8], mut p: usize) -> Parse {
    fn line(data: &[u8], p: usize) -> Option<(&[u8], usize)> {
        let nl = data[p..].windows(2).position(|w| w == b"\r\n")?;
        Some((&data[p..p + nl], p + nl + 2))
    }
    fn num(b: &[u8]) -> Option<usize> {
        std::str::from_utf8(b).ok()?.parse().ok()
    }
    if data[p] != b'*' {
        return Parse::Bad;
    }
    let Some((l, next)) = line(data, p) else {
        return Parse::Short;
    };
    let Some(argc) = num(&l[1..]).filter(|&n| n >= 1) else {
        return Parse::Bad;
    };
    p = next;
    let mut args = Vec::with_capacity(argc.min(1024));
    for _ in 0..argc {
        if p >= data.len() {
            return Parse::Short;
        }
        if data[p] != b'$' {
            return Parse::Bad;
        }
        let Some((l, next)) = line(data, p) else {
            return Parse::Short;
        };
        let Some(len) = num(&l[1..]) else {
            return Parse::Bad;
        };
        p = next;
        if data.len() < p + len + 2 {
            return Parse::Short;
        }
        args.push(Bytes::copy_from_slice(&data[p..p + len]));
        p += len + 2;
    }
    Parse::Done(args, p)
}

// ---- Rewrites, turning the AOF on and off, INFO. ----

fn unix_secs(w: &Worker) -> i64 {
    (w.shared.clock.now_ms() / 1000) as i64
}

/// BGREWRITEAOF: its reply or its error.
pub(crate) async fn bgrewriteaof(w: &Rc<Worker>) -> Result<&'static str, String> {
    let st = &w.shared.aof;
    if st.rewrite_running.load(Ordering::Acquire) {
        return Err("ERR Background append only file rewriting already in progress".into());
    }
    if w.shared.persist.bg_running.load(Ordering::Acquire) {
        st.rewrite_scheduled.store(true, Ordering::Relaxed);
        return Ok("Background append only file rewriting scheduled");
    }
    start_rewrite(w, false).await?;
    Ok("Background append only file rewriting started")
}

/// Starts a rewrite (the cut is taken before it returns); `enable` turns the AOF on at the
/// cut. The rest runs in the background.
pub(crate) async fn start_rewrite(w: &Rc<Worker>, enable: bool) -> Result<(), String> {
    let st = w.shared.aof.clone();
    if st.rewrite_running.swap(true, Ordering::AcqRel) {
        return Err("ERR Background append only file rewriting already in progress".into());
    }
    st.rewrite_scheduled.store(false, Ordering::Relaxed);
    st.rewrite_started.store(unix_secs(w), Ordering::Relaxed);
    let mut functions: Option<Vec<Vec<u8>>> = None;
    let paths = AofPaths::of(&w.shared.config());
    let fail = |e: String| {
        st.rewrite_running.store(false, Ordering::Release);
        e
    };
    if enable {
        std::fs::create_dir_all(&paths.dir).map_err(|e| fail(format!("ERR {e}")))?;
        let manifest = std::fs::read(paths.manifest())
            .ok()
            .and_then(|t| Manifest::parse(&t).ok())
            .unwrap_or_default();
        st.load_settings(&w.shared.config());
        // The base holds the libraries as they are when logging starts: the function records
        // after that are in the new file.
        functions = Some(w.shared.functions.at_cut(|codes| {
            start_writer(&st, paths.clone(), manifest, w.n, true)
                .map(|()| codes)
                .map_err(|e| fail(format!("ERR {e}")))
        })?);
    } else {
        let Some(tx) = st.sender() else {
            return Err(fail("ERR the append only file is off".into()));
        };
        let (r, rx) = oneshot::channel();
        let _ = tx.send(WMsg::Rotate(r));
        match rx.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(fail(format!("ERR {e}"))),
            Err(_) => return Err(fail("ERR the AOF writer stopped".into())),
        }
    }
    tracing::info!("Background append only file rewriting started");
    let parts = if enable {
        crate::persist::snapshot_cut(w, sync).await
    } else {
        crate::persist::snapshot_cut(w, cut).await
    };
    let Some(parts) = parts else {
        return Err(fail("ERR server is shutting down".into()));
    };
    // The base holds the libraries as of this mark among the function records.
    let functions = functions.unwrap_or_else(|| {
        w.shared.functions.at_cut(|codes| {
            if let Some(tx) = st.sender() {
                let _ = tx.send(WMsg::FunctionsCut);
            }
            codes
        })
    });
    let w = w.clone();
    tokio::task::spawn_local(async move {
        let st = w.shared.aof.clone();
        let tmp = paths
            .dir
            .join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
        let rdb = w.shared.config().get("aof-use-rdb-preamble") != Some("no");
        let result = crate::persist::write_aof_base(&w, tmp.clone(), parts, functions, rdb).await;
        let base = match &result {
            Ok(()) => Some((tmp.clone(), rdb)),
            Err(e) => {
                tracing::warn!("Background AOF rewrite failed: {e}");
                let _ = std::fs::remove_file(&tmp);
                None
            }
        };
        let finished = match st.sender() {
            Some(tx) => {
                let (r, rx) = oneshot::channel();
                let _ = tx.send(WMsg::Finish(base, r));
                rx.await.unwrap_or(Err("the AOF writer stopped".into()))
            }
            None => Err("the AOF writer stopped".into()),
        };
        st.last_rewrite_secs.store(
            unix_secs(&w) - st.rewrite_started.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
        match finished {
            Ok(()) => {
                tracing::info!("Background AOF rewrite finished successfully");
                st.last_rewrite_ok.store(true, Ordering::Relaxed);
                st.rewrites.fetch_add(1, Ordering::Relaxed);
                st.rewrite_failures.store(0, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::warn!("Background AOF rewrite terminated with error: {e}");
                st.last_rewrite_ok.store(false, Ordering::Relaxed);
                st.rewrite_failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        st.rewrite_running.store(false, Ordering::Release);
    });
    Ok(())
}

/// CONFIG SET appendonly: on starts a rewrite that turns logging on at its cut; off stops
/// logging on every shard under the all-shard lock, then the writer.
pub(crate) async fn set_enabled(w: &Rc<Worker>, on: bool) -> Result<(), String> {
    let st = w.shared.aof.clone();
    let enabled = st.enabled.load(Ordering::Relaxed);
    if on == enabled {
        return Ok(());
    }
    if on {
        return start_rewrite(w, true).await;
    }
    let tx = st.sender.lock().unwrap_or_else(|e| e.into_inner()).take();
    st.enabled.store(false, Ordering::Relaxed);
    for s in 0..w.n {
        let call = Box::new(|wk: &Worker| -> rustis_commands::registry::Partial {
            flush_pending(&mut wk.shard.borrow_mut());
            sync(wk);
            Box::new(())
        });
        let _ = w.send_call(s, None, false, call).await;
    }
    *st.sender.lock().unwrap_or_else(|e| e.into_inner()) = tx;
    let st2 = st.clone();
    let _ = tokio::task::spawn_blocking(move || stop_writer(&st2)).await;
    Ok(())
}

/// The automatic rewrite (run on thread 0): once a second, starts a scheduled rewrite, or one
/// when the AOF grew by `auto-aof-rewrite-percentage` over its size after the last rewrite
/// and is at least `auto-aof-rewrite-min-size`.
pub(crate) async fn cron(w: Rc<Worker>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let st = w.shared.aof.clone();
        if !st.enabled.load(Ordering::Relaxed)
            || st.rewrite_running.load(Ordering::Relaxed)
            || w.shared.persist.bg_running.load(Ordering::Relaxed)
        {
            continue;
        }
        if st.rewrite_scheduled.load(Ordering::Relaxed) {
            let _ = start_rewrite(&w, false).await;
            continue;
        }
        let (perc, min) = {
            let cfg = w.shared.config();
            (
                cfg.get_i64("auto-aof-rewrite-percentage"),
                cfg.get_i64("auto-aof-rewrite-min-size") as u64,
            )
        };
        let size = st.current_size.load(Ordering::Relaxed);
        let base = st.rewrite_base_size.load(Ordering::Relaxed).max(1);
        if perc > 0 && size > min {
            let growth = (size as i128 * 100 / base as i128) - 100;
            if growth >= perc as i128 {
                tracing::info!("Starting automatic rewriting of AOF on {growth}% growth");
                let _ = start_rewrite(&w, false).await;
            }
        }
    }
}

/// INFO persistence's AOF fields.
pub(crate) fn info(w: &Worker) -> String {
    let st = &w.shared.aof;
    let running = st.rewrite_running.load(Ordering::Relaxed);
    let enabled = st.enabled.load(Ordering::Relaxed);
    let current = if running {
        unix_secs(w) - st.rewrite_started.load(Ordering::Relaxed)
    } else {
        -1
    };
    let status = |b: &AtomicBool| {
        if b.load(Ordering::Relaxed) {
            "ok"
        } else {
            "err"
        }
    };
    let mut s = format!(
        "aof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\naof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{current}\r\naof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\naof_last_write_status:{}\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
        u8::from(enabled),
        u8::from(running),
        u8::from(st.rewrite_scheduled.load(Ordering::Relaxed)),
        st.last_rewrite_secs.load(Ordering::Relaxed),
        status(&st.last_rewrite_ok),
        st.rewrites.load(Ordering::Relaxed),
        st.rewrite_failures.load(Ordering::Relaxed),
        status(&st.last_write_ok),
    );
    if enabled {
        s.push_str(&format!(
            "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:0\r\naof_buffer_length:0\r\naof_pending_bio_fsync:0\r\naof_delayed_fsync:0\r\n",
            st.current_size.load(Ordering::Relaxed),
            st.base_size.load(Ordering::Relaxed),
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips_in_redis_format() {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n";
        let m = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(m.render(), text);
        let reason = |t: &str| Manifest::parse(t.as_bytes()).err().map(|e| e.reason);
        assert_eq!(
            reason("file a seq 2 type i\nfile b seq 1 type i\n"),
            Some("Found a non-monotonic sequence number")
        );
        assert_eq!(reason(""), Some("Found an empty AOF manifest"));
        assert_eq!(
            reason("file a seq 1 type b\n\nfile b seq 1 type i\n"),
            Some("Invalid AOF manifest file format")
        );
        assert_eq!(
            reason("file a seq 1 type b\nfile b seq 2 type b\n"),
            Some("Found duplicate base file information")
        );
        assert_eq!(
            reason("file a seq 1 type x\n"),
            Some("Unknown AOF file type")
        );
        assert_eq!(
            reason("file a seq 1\n"),
            Some("Invalid AOF manifest file format")
        );
        assert_eq!(
            reason("file a seq 1 type b x\n"),
            Some("Invalid AOF manifest file format")
        );
        assert_eq!(
            reason("file a seq 0 type b\n"),
            Some("Invalid AOF manifest file format")
        );
        assert_eq!(
            reason("file a/b seq 1 type b\n"),
            Some("File can't be a path, just a filename")
        );
        let long = format!("file {} seq 1 type b\n", "a".repeat(1100));
        assert_eq!(
            reason(&long),
            Some("The AOF manifest file contains too long line")
        );
        // Comments are skipped; quoted names (with blanks) round-trip.
        let spaced = "# c\nfile \" a b.aof\" seq 1 type b\n";
        let m = Manifest::parse(spaced.as_bytes()).unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, " a b.aof");
        assert_eq!(m.render(), "file \" a b.aof\" seq 1 type b\n");
    }

    #[test]
    fn commands_parse_and_short_reads_are_told_apart() {
        let data = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPI";
        let Parse::Done(args, next) = parse_command(data, 0) else {
            panic!("a whole command")
        };
        assert_eq!(args.len(), 2);
        assert!(matches!(parse_command(data, next), Parse::Short));
        assert!(matches!(parse_command(b"x", 0), Parse::Bad));
    }

    #[test]
    fn xadd_id_position_skips_options() {
        let a = |v: &[&str]| {
            v.iter()
                .map(|s| Bytes::from(s.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(xadd_id_pos(&a(&["XADD", "s", "*", "f", "v"])), Some(2));
        assert_eq!(
            xadd_id_pos(&a(&[
                "XADD",
                "s",
                "NOMKSTREAM",
                "MAXLEN",
                "~",
                "10",
                "LIMIT",
                "5",
                "*",
                "f",
                "v"
            ])),
            Some(8)
        );
        assert_eq!(bulks(b"$3\r\n1-1\r\n"), vec![&b"1-1"[..]]);
        assert_eq!(
            bulks(b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            vec![&b"a"[..], &b"b"[..]]
        );
    }
}
