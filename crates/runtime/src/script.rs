//! Scripts and functions on the thread-per-core engine: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO,
//! FCALL, FCALL_RO, SCRIPT and FUNCTION.
//!
//! Each thread has its own Lua engine (`rustis_scripting::Engine`, created on first use).
//! Script and library loads are made on every thread's engine: the thread that runs the
//! command loads first and replies; the others get the same load as a message, applied before
//! their engine next runs anything (loads are deterministic, so every engine ends up with
//! the same scripts and libraries). A message posted before the reply is in every other
//! thread's queue before any request that reply can cause, and a thread drains its queue
//! before it runs a request, so SCRIPT LOAD followed by EVALSHA on any connection finds it.
//!
//! A script runs on the thread of the connection that sent it (or, forwarded, on the thread
//! that owns its keys), in one of four modes
//! (docs/transactions.md, "Scripts and functions"):
//! - **Local**: every key it declares lives on this thread's shard (always, with one
//!   thread). It runs without a message and without yielding, like Redis. If it reaches a key
//!   of another shard, or one another transaction holds, it stops (`Abort`), its writes are
//!   undone from the pre-images taken before each first write, and it runs again in `All`.
//! - **Keys**: its declared keys live on several shards. They are locked through the one
//!   ordering of cross-shard work; each command runs on its shard as the lock holder (this
//!   thread waits for the reply, serving its own mesh queue meanwhile). Reaching a key it did
//!   not lock stops it as in `Local`, with the same undo, and it runs again in `All`.
//! - **All**: every shard locked whole, in ascending order: it may touch any key. A script
//!   that once left its declared keys runs this way from then on (per thread), and so does
//!   every script inside a cross-shard MULTI/EXEC.

use std::cell::RefCell;
use std::collections::HashSet;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use rustis_commands::registry::{flags, Partial, PubSubCmd, Run, ScriptCall};
use rustis_commands::txn::{check_in, check_out};
use rustis_commands::{CommandSpec, ConnCmd, Out, ShardCtx};
use rustis_scripting::{
    Abort, CallOpts, Engine, EngineConfig, EvalKind, Host, LogLevel, Outcome, RunInfo,
};
use rustis_storage::{DbIndex, Entry};

use crate::dispatch::{by_shard, lock_all, txn_plan, txn_run, REGISTRY};
use crate::routing::shard_of;
use crate::session::Session;
use crate::worker::{LockSet, TxId, Worker};

/// The cap on each Lua state's memory: a script that allocates without bound fails with
/// Lua's "not enough memory" instead of taking the server's.
const LUA_MEMORY_LIMIT: usize = 1 << 30;

const SHUTTING_DOWN: &str = "ERR server is shutting down";

/// A load every thread's engine must make.
#[derive(Clone)]
enum Sync {
    /// A script body (SCRIPT LOAD, or EVAL of a new script).
    Script(Bytes),
    /// SCRIPT FLUSH.
    FlushScripts,
    /// A FUNCTION LOAD / DELETE / FLUSH / RESTORE command line that succeeded.
    Function(Vec<Bytes>),
}

/// One thread's scripting state.
#[derive(Default)]
pub(crate) struct Scripting {
    engine: RefCell<Option<Engine>>,
    /// Loads made on other threads, not yet applied here.
    pending: RefCell<Vec<Sync>>,
    /// Scripts (by SHA) and functions (by name) that reached keys outside what they declared:
    /// they run with every shard locked.
    roaming: RefCell<HashSet<String>>,
    /// The engine's library and function counts after its last use, for FUNCTION STATS while
    /// a script holds the engine.
    counts: std::cell::Cell<rustis_scripting::FunctionStats>,
}

impl Scripting {
    /// `used_memory_lua` and `number_of_cached_scripts` of this thread's engine, after the
    /// loads other threads made (a SCRIPT FLUSH elsewhere shows here at once).
    pub(crate) fn figures(w: &Worker) -> (usize, usize) {
        let figures = |e: &mut Engine| (e.used_memory_lua(), e.cached_scripts());
        let engine_exists = matches!(
            w.scripting.engine.try_borrow().map(|e| e.is_some()),
            Ok(true)
        );
        if engine_exists || !w.scripting.pending.borrow().is_empty() {
            try_with_engine(w, figures).unwrap_or((0, 0))
        } else {
            (0, 0)
        }
    }
}

/// Runs `f` on this thread's engine, creating it on first use and applying the loads other
/// threads made first.
fn with_engine<T>(w: &Worker, f: impl FnOnce(&mut Engine) -> T) -> T {
    let mut slot = w.scripting.engine.borrow_mut();
    engine_of(w, &mut slot, f)
}

/// [`with_engine`], or `None` when the engine is running a script already (a message handled
/// while that script waits for another shard).
fn try_with_engine<T>(w: &Worker, f: impl FnOnce(&mut Engine) -> T) -> Option<T> {
    let mut slot = w.scripting.engine.try_borrow_mut().ok()?;
    Some(engine_of(w, &mut slot, f))
}

fn engine_of<T>(w: &Worker, slot: &mut Option<Engine>, f: impl FnOnce(&mut Engine) -> T) -> T {
    let engine = slot.get_or_insert_with(|| {
        let e = Engine::new(
            &REGISTRY,
            EngineConfig {
                memory_limit: LUA_MEMORY_LIMIT,
            },
        );
        let _ = w.shared.script_status[w.id].set(e.status());
        e
    });
    let pending = std::mem::take(&mut *w.scripting.pending.borrow_mut());
    for p in pending {
        match p {
            Sync::Script(body) => {
                let _ = engine.load_script(&body);
            }
            Sync::FlushScripts => engine.flush_scripts(),
            Sync::Function(args) => {
                let _ = engine.function_cmd(&args, &mut Out::new(false));
            }
        }
    }
    let r = f(engine);
    w.scripting.counts.set(engine.function_stats());
    r
}

/// This thread's library and function counts (see `Scripting::counts`).
pub(crate) fn function_counts(w: &Worker) -> rustis_scripting::FunctionStats {
    w.scripting.counts.get()
}

/// Makes the same load on every other thread's engine (see the module docs for why a reply
/// sent after this can be relied on).
fn broadcast(w: &Worker, what: Sync) {
    for s in (0..w.n).filter(|&s| s != w.id) {
        let what = what.clone();
        let f = Box::new(move |wk: &Worker| -> Partial {
            wk.scripting.pending.borrow_mut().push(what);
            Box::new(())
        });
        drop(w.send_call(s, None, false, f));
    }
}

/// Replaces every thread's libraries by `codes` (DEBUG RELOAD, DEBUG LOADAOF: what the files
/// hold), as a FUNCTION RESTORE ... FLUSH made everywhere; not logged to the AOF.
pub(crate) fn replace_libraries(w: &Worker, codes: Vec<Vec<u8>>) {
    w.shared.functions.replace(&codes);
    let args = restore_all(&codes);
    with_engine(w, |e| e.function_cmd(&args, &mut Out::new(false)));
    broadcast(w, Sync::Function(args));
}

/// `FUNCTION RESTORE <payload of codes> FLUSH`.
fn restore_all(codes: &[Vec<u8>]) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"FUNCTION"),
        Bytes::from_static(b"RESTORE"),
        Bytes::from(rustis_persist::file::function_payload(codes)),
        Bytes::from_static(b"FLUSH"),
    ]
}

/// At startup: this thread's engine starts with the libraries the server loaded.
pub(crate) fn preload_libraries(w: &Worker) {
    let codes = w.shared.functions.startup();
    if !codes.is_empty() {
        w.scripting
            .pending
            .borrow_mut()
            .insert(0, Sync::Function(restore_all(&codes)));
    }
}

/// SCRIPT and FUNCTION.
pub(crate) async fn admin(w: &Rc<Worker>, cmd: ConnCmd, args: &[Bytes], out: &mut Out) {
    let sub = args
        .get(1)
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    if cmd == ConnCmd::Function && sub == b"stats" && args.len() == 2 {
        let counts = with_engine(w, |e| e.function_stats());
        return crate::busy::function_stats(w, counts, out);
    }
    let start = out.buf.len();
    let outcome = with_engine(w, |e| match cmd {
        ConnCmd::Function => e.function_cmd(args, out),
        _ => e.script_cmd(args, out),
    });
    if outcome == Outcome::NotHandled {
        return kill(w, cmd, &sub, out);
    }
    let failed = out.buf[start..].first() == Some(&b'-');
    if failed {
        return;
    }
    match (cmd, sub.as_slice()) {
        (ConnCmd::ScriptAdmin, b"load") => broadcast(w, Sync::Script(args[2].clone())),
        (ConnCmd::ScriptAdmin, b"flush") => {
            broadcast(w, Sync::FlushScripts);
            w.scripting.roaming.borrow_mut().clear();
        }
        (ConnCmd::Function, b"load" | b"delete" | b"flush" | b"restore") => {
            // The list a save writes, and the AOF (see `functions.rs`).
            w.shared.functions.changed(&w.shared.aof, args);
            broadcast(w, Sync::Function(args.to_vec()))
        }
        _ => {}
    }
}

/// SCRIPT KILL, FUNCTION KILL (and SCRIPT DEBUG, which Rustis does not have).
pub(crate) fn kill(w: &Worker, cmd: ConnCmd, sub: &[u8], out: &mut Out) {
    if sub == b"debug" {
        return out.error("ERR SCRIPT DEBUG is not supported by Rustis");
    }
    let function = cmd == ConnCmd::Function;
    let running = w
        .shared
        .script_status
        .iter()
        .filter_map(|s| s.get())
        .find(|s| s.is_running());
    match running {
        None => out.error("NOTBUSY No scripts in execution right now."),
        // Redis checks for writes first, then which kind of run the command may stop.
        Some(s) if s.has_written() => out.error(
            "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
        ),
        Some(s) if s.is_function() != function => {
            if function {
                out.error(
                    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
                )
            } else {
                out.error(
                    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.",
                )
            }
        }
        Some(s) => {
            s.request_kill();
            out.ok();
        }
    }
}

/// Whether an EVAL, EVALSHA or FCALL may write, as Redis's `getCommandFlags` tells CLIENT
/// PAUSE WRITE: a script or function that declares its flags may write unless one is
/// `no-writes`; one without a shebang (or not found, which fails once the pause is over)
/// keeps the command's `may_replicate`.
pub(crate) fn may_write(w: &Worker, call: ScriptCall, args: &[Bytes]) -> bool {
    use rustis_scripting::ScriptFlags;
    let declared = match call {
        ScriptCall::Eval => rustis_scripting::parse_shebang(&args[1])
            .ok()
            .map(|(f, _)| f),
        ScriptCall::EvalSha => with_engine(w, |e| {
            let kind = EvalKind {
                by_sha: true,
                read_only: false,
            };
            e.eval_info(args, kind, &mut Probe).ok().map(|i| i.flags)
        }),
        ScriptCall::Fcall => with_engine(w, |e| {
            e.fcall_info(args, false, &mut Probe).ok().map(|i| i.flags)
        }),
        _ => return false,
    };
    match declared {
        Some(f) if !f.has(ScriptFlags::EVAL_COMPAT_MODE) => !f.has(ScriptFlags::NO_WRITES),
        _ => true,
    }
}

/// How a run holds the keyspace.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Local,
    Keys(TxId),
    All(TxId),
}

/// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, FCALL, FCALL_RO. `held`: the caller's transaction
/// already holds every shard whole (a script inside a cross-shard EXEC).
pub(crate) async fn run(
    w: &Rc<Worker>,
    sess: &Session,
    call: ScriptCall,
    args: &[Bytes],
    out: &mut Out,
    held: Option<TxId>,
) {
    let db = sess.db();
    if crate::pubsub::anyone_monitors(w) {
        crate::pubsub::feed_monitors(w, sess, crate::pubsub::monitor_repr(args));
    }
    let (eval, read_only, by_sha) = match call {
        ScriptCall::Eval => (true, false, false),
        ScriptCall::EvalRo => (true, true, false),
        ScriptCall::EvalSha => (true, false, true),
        ScriptCall::EvalShaRo => (true, true, true),
        ScriptCall::Fcall => (false, false, false),
        ScriptCall::FcallRo => (false, true, false),
    };
    let kind = EvalKind { by_sha, read_only };
    // What the run needs, checked as Redis checks it first (numkeys, NOSCRIPT, compilation,
    // flags); EVAL caches the body here (a cached body is found without hashing it).
    let info: Result<RunInfo, String> = with_engine(w, |e| {
        let mut probe = Probe;
        if eval {
            e.eval_info(args, kind, &mut probe)
        } else {
            e.fcall_info(args, read_only, &mut probe)
        }
    });
    let info = match info {
        Ok(i) => i,
        Err(e) => return out.error(&e),
    };
    if info.compiled {
        broadcast(w, Sync::Script(args[1].clone()));
    }
    // The declared keys choose the mode, and `Keys` locks them: with one thread, or under a
    // transaction that holds every shard, they are not needed.
    let declared: Vec<(DbIndex, Bytes)> = if w.n == 1 || held.is_some() {
        Vec::new()
    } else {
        args[info.keys.clone()]
            .iter()
            .map(|k| (db, k.clone()))
            .collect()
    };
    let mut mode = if let Some(tx) = held {
        Mode::All(tx)
    } else if w.n == 1 {
        Mode::Local
    } else if w.scripting.roaming.borrow().contains(&*info.name) {
        Mode::All(0)
    } else if declared.iter().all(|(_, k)| shard_of(k, w.n) == w.id) {
        Mode::Local
    } else {
        Mode::Keys(0)
    };
    // Every declared key on one other shard: run the script there, as a local run of that
    // thread, in one message (it comes back to be widened if it reaches further). A run there
    // has no connection, so a user with ACL restrictions runs it here, where they are checked.
    let forwardable = || crate::acl::unrestricted(w, sess);
    if let (Mode::Keys(_), Some((_, first))) = (mode, declared.first()) {
        let s = shard_of(first, w.n);
        if declared.iter().all(|(_, k)| shard_of(k, w.n) == s) && forwardable() {
            // EVALSHA carries the body, in case that thread has not yet applied its load.
            let body = if eval && by_sha {
                with_engine(w, |e| e.script_body(&info.name).cloned())
            } else {
                None
            };
            let a = args.to_vec();
            let resp3 = out.resp3;
            let f = Box::new(move |wk: &Worker| -> Partial {
                Box::new(run_forwarded(wk, eval, kind, body, &a, db, resp3))
            });
            let got = w.send_call(s, None, false, f).await;
            let got = got
                .ok()
                .and_then(|p| p.downcast::<Forwarded>().ok())
                .map(|b| *b);
            match got {
                Some(Forwarded::Done(buf, counted)) => {
                    commit_counts(w, Some(sess), counted);
                    return out.extend_from(&buf, &[], 0, buf.len());
                }
                Some(Forwarded::Widen) => {
                    w.scripting
                        .roaming
                        .borrow_mut()
                        .insert(info.name.to_string());
                    mode = Mode::All(0);
                }
                Some(Forwarded::NotThere) => {}
                None => return out.error(SHUTTING_DOWN),
            }
        }
    }
    loop {
        // Lock what the mode needs.
        let mut groups: Vec<(usize, LockSet)> = Vec::new();
        match &mut mode {
            Mode::Local => {}
            Mode::All(tx) if held.is_some() => {
                let _ = tx;
            }
            Mode::All(tx) => {
                *tx = w.new_tx();
                groups = (0..w.n).map(|s| (s, LockSet::All)).collect();
            }
            Mode::Keys(tx) => {
                *tx = w.new_tx();
                let mut by_shard: Vec<Vec<(DbIndex, Bytes)>> =
                    (0..w.n).map(|_| Vec::new()).collect();
                for (d, k) in &declared {
                    by_shard[shard_of(k, w.n)].push((*d, k.clone()));
                }
                for (s, mut keys) in by_shard.into_iter().enumerate() {
                    if !keys.is_empty() {
                        keys.sort_unstable();
                        keys.dedup();
                        groups.push((s, LockSet::Keys(keys)));
                    }
                }
            }
        }
        let tx = match mode {
            Mode::Local => 0,
            Mode::Keys(tx) | Mode::All(tx) => tx,
        };
        if !groups.is_empty() && !lock_all(w, tx, &groups).await {
            return out.error(SHUTTING_DOWN);
        }
        // What the run logs is one block in the AOF: this thread's (a local run does not
        // yield), or its transaction's on every thread (ended before the unlock). Inside a
        // cross-shard EXEC, the records join EXEC's block.
        let block = match mode {
            Mode::Local => Some(crate::aof::Block::begin()),
            Mode::Keys(tx) | Mode::All(tx) if held.is_none() => {
                Some(crate::aof::Block::begin_tx(tx))
            }
            _ => None,
        };
        let mut host = ScriptHost {
            oom: crate::evict::is_oom(w),
            w,
            rc: Some(w),
            sess: Some(sess),
            mode,
            db,
            // Only a run in `Keys` mode looks its keys up here.
            locked: if matches!(mode, Mode::Keys(_)) {
                declared.iter().cloned().collect()
            } else {
                HashSet::new()
            },
            undo: Vec::new(),
            captured: HashSet::new(),
            widen: false,
            gone: false,
            started: std::time::Instant::now(),
            busy_after: busy_after(w),
            busy: false,
            function: !eval,
            call: args,
            counted: Vec::new(),
            acl_open: false,
        };
        let outcome = with_engine(w, |e| {
            if eval {
                e.eval_prepared(&info, args, kind, &mut host, out)
            } else {
                e.fcall(args, read_only, &mut host, out)
            }
        });
        let widen = host.widen;
        let gone = host.gone;
        if host.busy {
            crate::busy::leave(w);
        }
        if outcome == Outcome::Aborted && widen {
            host.undo_all();
        } else {
            host.commit_counts();
        }
        drop(block);
        for (s, _) in &groups {
            w.send_unlock(*s, tx);
        }
        if mode == Mode::Local {
            w.serve_ready();
        }
        match outcome {
            Outcome::Aborted if widen && held.is_none() && !matches!(mode, Mode::All(_)) => {
                w.scripting
                    .roaming
                    .borrow_mut()
                    .insert(info.name.to_string());
                mode = Mode::All(0);
            }
            Outcome::Aborted => {
                if gone {
                    return out.error(SHUTTING_DOWN);
                }
                return out.error("ERR the script could not be run atomically; try again");
            }
            _ => return,
        }
    }
}

/// How a run forwarded to the thread of its keys ended.
enum Forwarded {
    /// The reply, and the commands the script called (counted by the caller).
    Done(bytes::BytesMut, Vec<Counted>),
    /// It reached a key that thread could not give it: undone, to run again with every
    /// shard locked.
    Widen,
    /// That thread's engine could not run it now (it is running a script itself, or it has
    /// not yet applied a load): nothing ran.
    NotThere,
}

/// Runs a script or function on this thread for a connection of another thread, as a local
/// run (see [`Mode::Local`]).
fn run_forwarded(
    w: &Worker,
    eval: bool,
    kind: EvalKind,
    body: Option<Bytes>,
    args: &[Bytes],
    db: DbIndex,
    resp3: bool,
) -> Forwarded {
    let block = crate::aof::Block::begin();
    let mut host = ScriptHost {
        oom: crate::evict::is_oom(w),
        w,
        rc: None,
        sess: None,
        mode: Mode::Local,
        db,
        locked: HashSet::new(),
        undo: Vec::new(),
        captured: HashSet::new(),
        widen: false,
        gone: false,
        started: std::time::Instant::now(),
        busy_after: busy_after(w),
        busy: false,
        function: !eval,
        call: args,
        counted: Vec::new(),
        acl_open: false,
    };
    let mut out = Out::new(resp3);
    let outcome = try_with_engine(w, |e| {
        if let Some(body) = &body {
            if !e.script_exists(args[1].as_ref()) && e.load_script(body).is_err() {
                return None;
            }
        } else if !eval {
            let mut probe = Probe;
            e.fcall_info(args, kind.read_only, &mut probe).ok()?;
        }
        Some(if eval {
            e.eval(args, kind, &mut host, &mut out)
        } else {
            e.fcall(args, kind.read_only, &mut host, &mut out)
        })
    })
    .flatten();
    if host.busy {
        crate::busy::leave(w);
    }
    let done = match outcome {
        None => Forwarded::NotThere,
        Some(Outcome::Aborted) => {
            host.undo_all();
            Forwarded::Widen
        }
        // The calls are counted on the connection's thread, with the script.
        Some(_) => Forwarded::Done(out.buf, std::mem::take(&mut host.counted)),
    };
    drop(block);
    w.serve_ready();
    done
}

/// `lua-time-limit` (Redis's `busy-reply-threshold`).
fn busy_after(w: &Worker) -> std::time::Duration {
    let ms = w
        .shared
        .lua_time_limit_ms
        .load(std::sync::atomic::Ordering::Relaxed);
    std::time::Duration::from_millis(ms)
}

/// The host for the checks before a run: nothing runs through it.
struct Probe;

impl Host for Probe {
    fn call(
        &mut self,
        _args: Vec<Bytes>,
        _spec: &'static CommandSpec,
        _opts: CallOpts,
        _out: &mut Out,
    ) -> Result<(), Abort> {
        Err(Abort)
    }
}

/// A pre-image: the entry a key had before the run first wrote it (`None`: it did not exist).
type PreImage = (usize, DbIndex, Bytes, Option<Entry>);

/// Runs the commands of one script run.
struct ScriptHost<'a> {
    w: &'a Worker,
    /// The worker as the connection's task holds it (to run its mesh queue while it waits on
    /// another shard); `None` for a run forwarded to the keys' thread, which never waits.
    rc: Option<&'a Rc<Worker>>,
    /// The calling connection; `None` for a forwarded run.
    sess: Option<&'a Session>,
    mode: Mode,
    /// The database the script selected (it starts at the caller's; SELECT in a script does
    /// not change the caller's).
    db: DbIndex,
    /// In `Keys`: the keys the run holds locked.
    locked: HashSet<(DbIndex, Bytes)>,
    /// What to restore if the run stops to go wider, in the order taken.
    undo: Vec<PreImage>,
    captured: HashSet<(DbIndex, Bytes)>,
    /// The run stopped because it reached a key its mode does not hold.
    widen: bool,
    /// The run stopped because the server is shutting down.
    gone: bool,
    /// When the run started, and after how long it makes the server busy (`lua-time-limit`).
    started: std::time::Instant,
    busy_after: std::time::Duration,
    /// Whether it made this thread busy, and runs a function rather than an EVAL script.
    busy: bool,
    function: bool,
    /// The caller's command (for FUNCTION STATS, should the run make the server busy).
    call: &'a [Bytes],
    /// The commands the run called: spec, arguments, run time, and the reply's start when it
    /// is an error (for `stats`).
    counted: Vec<Counted>,
    /// The server was over `maxmemory` when the run started (Redis's `script_oom`): its
    /// `denyoom` calls are refused.
    oom: bool,
    /// The calling user was found to be allowed everything (see `acl_check`).
    acl_open: bool,
}

type Counted = (&'static CommandSpec, Vec<Bytes>, u64, Vec<u8>, DbIndex);

/// Counts a run's calls on this thread, for the connection `sess` (see `stats`).
fn commit_counts(w: &Worker, sess: Option<&Session>, counted: Vec<Counted>) {
    for (spec, args, nanos, head, db) in counted {
        if let Some(line) = crate::pubsub::monitor_line(w, spec, &args) {
            crate::pubsub::feed_monitors_as(w, db, &"lua", line);
        }
        crate::stats::ran(w, spec, &args, nanos, &head, sess);
        if !head.is_empty() {
            crate::stats::script_call_failed(&head);
        }
    }
}

impl ScriptHost<'_> {
    fn tx(&self) -> Option<TxId> {
        match self.mode {
            Mode::Local => None,
            Mode::Keys(tx) | Mode::All(tx) => Some(tx),
        }
    }

    /// Stops the run so that it runs again holding every shard.
    fn widen<T>(&mut self) -> Result<T, Abort> {
        self.widen = true;
        Err(Abort)
    }

    /// Whether the run may touch `key` (of shard `s`) in its mode.
    fn may_touch(&self, s: usize, db: DbIndex, key: &Bytes) -> bool {
        match self.mode {
            Mode::All(_) => true,
            Mode::Local => self.w.n == 1 || (s == self.w.id && !self.w.key_locked(db, key)),
            Mode::Keys(_) => self.locked.contains(&(db, key.clone())),
        }
    }

    /// Whether writes must keep pre-images (a run that may stop to go wider).
    fn keeps_undo(&self) -> bool {
        self.w.n > 1 && !matches!(self.mode, Mode::All(_))
    }

    /// Runs `f` on shard `s` as this run's transaction and waits for it. This thread keeps
    /// serving its own mesh queue while it waits (another thread's run may be waiting on this
    /// one), but not its connections.
    fn on<T: Send + 'static>(
        &mut self,
        s: usize,
        f: impl FnOnce(&Worker) -> T + Send + 'static,
    ) -> Result<T, Abort> {
        if s == self.w.id {
            return Ok(crate::aof::in_tx(self.w, self.tx(), || f(self.w)));
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let call = Box::new(move |wk: &Worker| -> Partial {
            let v = f(wk);
            // What it changed reaches the AOF (in the run's block) before the run goes on.
            crate::aof::settle(wk);
            let _ = tx.send(v);
            Box::new(())
        });
        drop(self.w.send_call(s, self.tx(), false, call));
        let mut spins = 0u32;
        loop {
            match rx.try_recv() {
                Ok(v) => return Ok(v),
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    self.gone = true;
                    return Err(Abort);
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => {}
            }
            if let Some(rc) = self.rc {
                rc.drain_inbox();
            }
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }

    /// Takes the pre-images of the keys a write command is about to change, once per key.
    fn capture(&mut self, keys: &[(usize, DbIndex, Bytes)]) -> Result<(), Abort> {
        let fresh: Vec<(usize, DbIndex, Bytes)> = keys
            .iter()
            .filter(|(_, d, k)| !self.captured.contains(&(*d, k.clone())))
            .cloned()
            .collect();
        for (s, d, k) in fresh {
            self.captured.insert((d, k.clone()));
            let key = k.clone();
            let pre = self.on(s, move |wk: &Worker| {
                let mut shard = wk.shard_now();
                shard.dbs[d].peek(&key).cloned()
            })?;
            self.undo.push((s, d, k, pre));
        }
        Ok(())
    }

    /// Puts every key the run wrote back as it was before the run.
    fn undo_all(&mut self) {
        let undo = std::mem::take(&mut self.undo);
        for (s, d, k, pre) in undo.into_iter().rev() {
            let _ = self.on(s, move |wk: &Worker| {
                let mut shard = wk.shard.borrow_mut();
                let db = &mut shard.dbs[d];
                match pre {
                    Some(e) => db.insert_entry(&k, e),
                    None => {
                        db.remove(&k);
                    }
                }
                // The AOF logged the aborted run's commands; it logs the undo as states.
                crate::aof::flush_pending(&mut shard);
            });
        }
    }

    /// A connection command from a script: PING, ECHO, SELECT, COMMAND, and the HELP of
    /// CLIENT and CONFIG; INFO where it can be answered without waiting on other threads.
    fn conn(&mut self, cmd: ConnCmd, args: &[Bytes], out: &mut Out) -> Result<(), Abort> {
        match cmd {
            ConnCmd::Ping if args.len() == 1 => out.simple("PONG"),
            ConnCmd::Ping | ConnCmd::Echo => out.bulk(&args[1]),
            ConnCmd::PubSub(c @ (PubSubCmd::Publish | PubSubCmd::Spublish)) => {
                // Published as PUBLISH is: delivered here, sent to the other threads that
                // have subscribers, counted from this thread's mirror of theirs.
                let kind = if c == PubSubCmd::Spublish {
                    crate::pubsub::Kind::Shard
                } else {
                    crate::pubsub::Kind::Channel
                };
                let n = crate::pubsub::publish(self.w, kind, args[1].clone(), args[2].clone());
                out.int(n as i64);
            }
            ConnCmd::Select => match rustis_commands::args::parse_i64(&args[1]) {
                Ok(i) if i >= 0 && (i as usize) < self.w.shared.n_dbs => {
                    self.db = i as usize;
                    out.ok();
                }
                Ok(_) => out.error(rustis_storage::OpError::DbIndexOutOfRange.message()),
                Err(_) => out.error(rustis_storage::OpError::NotInteger.message()),
            },
            _ => {
                // A forwarded run has no connection: the commands that need one make it run
                // again on the connection's thread.
                let (Some(rc), Some(sess)) = (self.rc, self.sess) else {
                    self.widen = true;
                    return Err(Abort);
                };
                let pending = {
                    let fut = crate::admin::run(rc, sess, cmd, args, out);
                    let mut fut = std::pin::pin!(fut);
                    let mut cx = Context::from_waker(std::task::Waker::noop());
                    fut.as_mut().poll(&mut cx) == Poll::Pending
                };
                if pending {
                    out.error(&format!(
                        "ERR {} cannot be called from a script on a server with more than one thread",
                        cmd_name(args)
                    ));
                }
            }
        }
        Ok(())
    }
}

fn cmd_name(args: &[Bytes]) -> String {
    String::from_utf8_lossy(&args[0]).to_uppercase()
}

impl ScriptHost<'_> {
    fn call_inner(
        &mut self,
        args: &[Bytes],
        spec: &'static CommandSpec,
        opts: CallOpts,
        out: &mut Out,
    ) -> Result<(), Abort> {
        let db = self.db;
        if let Run::Conn(cmd) = spec.run {
            return self.conn(cmd, args, out);
        }
        if let Some(check) = spec.precheck {
            if let Err(e) = check(args) {
                out.error(&e);
                return Ok(());
            }
        }
        if let Run::Fanout(ops) = spec.run {
            if self.w.n > 1 && !matches!(self.mode, Mode::All(_)) {
                return self.widen();
            }
            let args = Arc::new(args.to_vec());
            let mut parts = Vec::with_capacity(self.w.n);
            for s in 0..self.w.n {
                let a = args.clone();
                parts.push(self.on(s, move |wk: &Worker| -> Partial {
                    let mut shard = wk.shard_now();
                    crate::aof::begin(&mut shard);
                    (ops.per_shard)(&mut ShardCtx::new(&mut shard, db), &a)
                })?);
            }
            // Logged once, while every shard is held (All mode).
            crate::aof::log_fanout(self.tx(), spec, db, &args);
            (ops.merge)(&args, parts, out);
            return Ok(());
        }
        let rewritten;
        let args = match spec.name {
            "sort" | "sort_ro" => match self.sort_for_script(args, spec.name == "sort_ro")? {
                Some(a) => {
                    rewritten = a;
                    &rewritten[..]
                }
                None => args,
            },
            // Redis refuses BLOCK from scripts outright for these two (the other blocking
            // commands run as their non-blocking forms).
            "xread" | "xreadgroup"
                if args[1..]
                    .iter()
                    .take_while(|a| !a.eq_ignore_ascii_case(b"streams"))
                    .any(|a| a.eq_ignore_ascii_case(b"block")) =>
            {
                out.error(&format!(
                    "ERR {} command is not allowed with BLOCK option from scripts",
                    String::from_utf8_lossy(&args[0])
                ));
                return Ok(());
            }
            _ => args,
        };
        // With one thread every key is here and nothing else holds it (see `may_touch`), and
        // nothing is undone (see `keeps_undo`): the command runs at once. Its key positions
        // are only checked, and only a key finder (or a subcommand's) can refuse them.
        if self.w.n == 1 {
            if spec.keys.is_some() || !spec.subcommands.is_empty() {
                if let Err(e) = spec.key_positions(args) {
                    out.error(&e);
                    return Ok(());
                }
            }
            if let Some(need) = self.w.exec_in_tx(self.tx(), spec, db, args, out) {
                return self.needs(spec, args, need, opts.resp3, out);
            }
            return Ok(());
        }
        let pos = match spec.key_positions(args) {
            Ok(p) => p,
            Err(e) => {
                out.error(&e);
                return Ok(());
            }
        };
        let dbs = spec
            .dbs_of_keys(args, db, pos.len())
            .unwrap_or_else(|_| vec![db; pos.len()]);
        let keys: Vec<(usize, DbIndex, Bytes)> = pos
            .iter()
            .zip(&dbs)
            .filter(|(_, d)| **d < self.w.shared.n_dbs)
            .map(|(&p, &d)| (shard_of(&args[p], self.w.n), d, args[p].clone()))
            .collect();
        if !keys.iter().all(|(s, d, k)| self.may_touch(*s, *d, k)) {
            return self.widen();
        }
        if spec.flags & flags::WRITE != 0 && self.keeps_undo() {
            self.capture(&keys)?;
        }
        let mut shards: Vec<usize> = keys.iter().map(|k| k.0).collect();
        shards.sort_unstable();
        shards.dedup();
        let tx = self.tx();
        let resp3 = opts.resp3;
        match shards[..] {
            [] | [_] => {
                let s = shards.first().copied().unwrap_or(self.w.id);
                let need = if s == self.w.id {
                    self.w.exec_in_tx(tx, spec, db, args, out)
                } else {
                    let a = args.to_vec();
                    let (buf, need) = self.on(s, move |wk: &Worker| {
                        let mut o = Out::new(resp3);
                        let need = wk.exec_in_tx(tx, spec, db, &a, &mut o);
                        (o.buf, need)
                    })?;
                    out.raw(&buf);
                    need
                };
                match need {
                    None => Ok(()),
                    Some(need) => self.needs(spec, args, need, resp3, out),
                }
            }
            _ => match spec.run {
                Run::MultiKey(ops) => {
                    let args = Arc::new(args.to_vec());
                    let groups = by_shard(self.w.n, pos.iter().map(|&p| (p, &args[p][..])));
                    let mut parts = Vec::with_capacity(groups.len());
                    for (s, p) in groups {
                        let (a, q) = (args.clone(), p.clone());
                        let part = self.on(s, move |wk: &Worker| -> Partial {
                            let mut shard = wk.shard_now();
                            (ops.per_shard)(&mut ShardCtx::new(&mut shard, db), &a, &q)
                        })?;
                        parts.push((p, part));
                    }
                    (ops.merge)(&args, parts, out);
                    Ok(())
                }
                Run::Txn(_) => self.txn(spec, args, Vec::new(), resp3, out),
                _ => {
                    out.error("ERR internal routing error");
                    Ok(())
                }
            },
        }
    }

    /// A command that read keys it does not declare (SORT ... BY) which its shard could not
    /// give it: it wrote nothing, and runs again over them, or the run goes wider.
    fn needs(
        &mut self,
        spec: &'static CommandSpec,
        args: &[Bytes],
        need: Vec<(DbIndex, Bytes)>,
        resp3: bool,
        out: &mut Out,
    ) -> Result<(), Abort> {
        match (self.mode, &spec.run) {
            (Mode::All(_), Run::Txn(_)) => self.txn(spec, args, need, resp3, out),
            _ => self.widen(),
        }
    }

    /// Counts the commands the run called (see `stats`), once it is known to stand.
    fn commit_counts(&mut self) {
        commit_counts(self.w, self.sess, std::mem::take(&mut self.counted));
    }
}

impl Host for ScriptHost<'_> {
    fn oom(&mut self) -> bool {
        self.oom
    }

    fn acl_check(&mut self, args: &[Bytes], spec: &'static CommandSpec) -> Result<(), String> {
        // A user who may run everything is asked about once per run: a run is atomic, so an
        // ACL change made meanwhile applies from the next run on.
        if self.acl_open {
            return Ok(());
        }
        if let Some(sess) = self.sess {
            if crate::acl::unrestricted(self.w, sess) {
                self.acl_open = true;
                return Ok(());
            }
        }
        match self.sess {
            // A refusal counts as the command's rejected call, as in Redis.
            Some(sess) => crate::acl::script_check(self.w, sess, spec, args)
                .inspect_err(|_| crate::stats::rejected(spec, args, b"")),
            None => Ok(()),
        }
    }

    fn call(
        &mut self,
        args: Vec<Bytes>,
        spec: &'static CommandSpec,
        opts: CallOpts,
        out: &mut Out,
    ) -> Result<(), Abort> {
        let t0 = crate::stats::now();
        let r = self.call_inner(&args, spec, opts, out);
        // Counted once the run is known to stand (a run that goes wider runs again).
        if r.is_ok() {
            let nanos = crate::stats::since(t0, crate::stats::now());
            let reply = &out.buf[..];
            let head = if reply.first() == Some(&b'-') {
                reply[..reply.len().min(64)].to_vec()
            } else {
                Vec::new()
            };
            self.counted.push((spec, args, nanos, head, self.db));
        }
        r
    }

    fn write_denied(&mut self) -> Option<String> {
        self.w
            .shared
            .writes_need_replicas
            .load(std::sync::atomic::Ordering::Relaxed)
            .then(|| crate::multi::NOREPLICAS.to_string())
    }

    fn tick(&mut self) {
        if !self.busy {
            if self.started.elapsed() < self.busy_after {
                return;
            }
            tracing::warn!(
                "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the {} command.",
                self.started.elapsed().as_millis(),
                if self.function { "FUNCTION KILL" } else { "SCRIPT KILL" }
            );
            self.busy = true;
            let run = self.function.then(|| crate::busy::BusyRun {
                name: self.call.get(1).cloned().unwrap_or_default(),
                command: self.call.to_vec(),
                started: self.started,
            });
            crate::busy::enter(self.w, run);
        }
        crate::busy::serve_idle(self.w);
    }

    fn log(&mut self, level: LogLevel, msg: &[u8]) {
        let msg = String::from_utf8_lossy(msg);
        match level {
            LogLevel::Debug | LogLevel::Verbose => tracing::debug!(target: "script", "{msg}"),
            LogLevel::Notice => tracing::info!(target: "script", "{msg}"),
            LogLevel::Warning => tracing::warn!(target: "script", "{msg}"),
        }
    }
}

impl ScriptHost<'_> {
    /// SORT of a set without an order (`BY` a pattern with no `*`) from a script sorts the
    /// elements anyway, as Redis does so that a script's result does not depend on the set's
    /// layout: the `BY` goes and `ALPHA` comes.
    /// Returns the arguments to run instead, or `None` to run them as they are.
    fn sort_for_script(
        &mut self,
        args: &[Bytes],
        read_only: bool,
    ) -> Result<Option<Vec<Bytes>>, Abort> {
        let Ok(o) = rustis_commands::sort::parse_sort(args, read_only) else {
            return Ok(None);
        };
        if !o.dont_sort || o.store.is_some() {
            return Ok(None);
        }
        let (db, key) = (self.db, args[1].clone());
        let s = shard_of(&key, self.w.n);
        if !self.may_touch(s, db, &key) {
            return Ok(None);
        }
        let is_set = self.on(s, move |wk: &Worker| {
            let mut shard = wk.shard_now();
            matches!(shard.dbs[db].get(&key), Some(rustis_storage::Value::Set(_)))
        })?;
        if !is_set {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(args.len() + 1);
        let mut i = 0;
        while i < args.len() {
            if i >= 2 && o.gets.contains(&(i + 1)) {
                out.extend_from_slice(&args[i..i + 2]);
                i += 2;
            } else if i >= 2 && args[i].eq_ignore_ascii_case(b"by") && i + 1 < args.len() {
                i += 2;
            } else if i >= 2 && args[i].eq_ignore_ascii_case(b"limit") && i + 2 < args.len() {
                out.extend_from_slice(&args[i..i + 3]);
                i += 3;
            } else {
                out.push(args[i].clone());
                i += 1;
            }
        }
        out.push(Bytes::from_static(b"ALPHA"));
        Ok(Some(out))
    }

    /// A `Txn` command over keys of several shards, all held by this run: its entries are
    /// checked out of their shards, it runs here, and they go back.
    fn txn(
        &mut self,
        spec: &'static CommandSpec,
        args: &[Bytes],
        mut extra: Vec<(DbIndex, Bytes)>,
        resp3: bool,
        out: &mut Out,
    ) -> Result<(), Abort> {
        let Run::Txn(f) = spec.run else {
            return self.widen();
        };
        for _ in 0..8 {
            // Each attempt answers into its own buffer: only the last one's reply stands.
            let mut o = Out::new(resp3);
            let plan = match txn_plan(self.w, self.db, spec, args, &extra) {
                Ok(p) => p,
                Err(e) => {
                    out.error(&e);
                    return Ok(());
                }
            };
            if !plan
                .key_groups
                .iter()
                .all(|(s, ks)| ks.iter().all(|(d, k)| self.may_touch(*s, *d, k)))
            {
                return self.widen();
            }
            let mut taken = Vec::with_capacity(plan.key_groups.len());
            for (s, ks) in plan.key_groups.clone() {
                taken.push(self.on(s, move |wk: &Worker| {
                    let mut shard = wk.shard_now();
                    check_out(&mut shard, &ks)
                })?);
            }
            let (back, more) = txn_run(self.w, plan, taken, f, args, &mut o);
            for (s, mine) in back {
                self.on(s, move |wk: &Worker| {
                    let mut shard = wk.shard.borrow_mut();
                    crate::aof::begin(&mut shard);
                    check_in(&mut shard, mine);
                    crate::aof::flush_pending(&mut shard);
                })?;
            }
            if more.is_empty() {
                out.raw(&o.buf);
                return Ok(());
            }
            extra.extend(more);
        }
        out.error("ERR the keys this command reads kept changing while it ran; try again");
        Ok(())
    }
}
