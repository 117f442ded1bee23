//! Snapshots: SAVE, BGSAVE (without fork), LASTSAVE, `save` points, SHUTDOWN's save, INFO's
//! persistence fields, and loading the RDB file at startup. The format itself is
//! `rustis_persist`; this is how the shards take part. See docs/persistence.md.
//!
//! **The cut.** A snapshot is one point in time for every shard: its first step runs on every
//! shard under the all-shard lock (`LockSet::All`, through `dispatch::run_locked`), the same
//! lock FLUSHALL and every multi-key command take, so no cross-shard command is half-applied
//! in it and every shard's part is taken at the same point of the one serialization order.
//!
//! **SAVE** encodes each shard whole under that lock and writes the file (the server waits, as
//! Redis's SAVE blocks it).
//!
//! **BGSAVE** only registers a write-path listener on each shard under the lock (O(1) per
//! shard). The lock is then released and each shard's snapshot task encodes its keys a bounded
//! slice at a time (walking its tables with the SCAN cursor, which visits every key present
//! for the whole walk), yielding to the thread's other work between slices. Writes keep going:
//! before a key of the cut changes or goes (`KeyListener::before_change`), its old entry is
//! encoded first, so what is written is the value at the cut. A key is of the cut unless it
//! was created after it (`fresh`: a change reported with no `before_change` first) or is
//! already written (`written`); a flush or swap of a database reports every key of it first,
//! after which nothing in that database's table belongs to the cut (`closed`). When every shard
//! is done, a helper thread writes the file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rustis_commands::persist::rdb_options;
use rustis_commands::Out;
use rustis_persist::file::{self, Aux, FileWriter};
use rustis_persist::Encoder;
use rustis_storage::{DbIndex, Entry, KeyListener, ListenerId, Shard};
use tokio::sync::oneshot;

use crate::dispatch::{run_locked, Parts};
use crate::worker::{LockSet, PartFn, Worker};

/// Keys (and SCAN steps) one slice of a background snapshot takes before the shard's thread
/// does other work.
const SLICE_KEYS: usize = 1000;

/// Server-wide persistence state (INFO persistence, LASTSAVE, the save points).
pub(crate) struct PersistState {
    /// Unix seconds of the last successful save (startup counts as one, as in Redis).
    pub last_save: AtomicI64,
    /// A background save is running.
    pub bg_running: AtomicBool,
    /// A FLUSHALL asked the running background save to be abandoned (Redis kills its child).
    pub bg_abort: AtomicBool,
    /// Whether the last background save succeeded.
    pub bg_last_ok: AtomicBool,
    /// Unix seconds the running background save started.
    pub bg_started: AtomicI64,
    /// Seconds the last background save took, -1 if none ran.
    pub bg_last_secs: AtomicI64,
    /// Unix seconds of the last background save attempt (failed ones are retried after 5 s).
    pub bg_last_try: AtomicI64,
    /// Successful saves since startup (`rdb_saves`).
    pub saves: AtomicU64,
    /// The write count (sum of the threads' `dirty`) at the last save's cut.
    pub dirty_at_save: AtomicU64,
    /// Keys loaded from the RDB file at startup, and keys it had that were already expired.
    pub loaded_keys: AtomicU64,
    pub loaded_expired: AtomicU64,
}

impl PersistState {
    pub fn new(now_secs: i64) -> Self {
        PersistState {
            last_save: AtomicI64::new(now_secs),
            bg_running: AtomicBool::new(false),
            bg_abort: AtomicBool::new(false),
            bg_last_ok: AtomicBool::new(true),
            bg_started: AtomicI64::new(-1),
            bg_last_secs: AtomicI64::new(-1),
            bg_last_try: AtomicI64::new(0),
            saves: AtomicU64::new(0),
            dirty_at_save: AtomicU64::new(0),
            loaded_keys: AtomicU64::new(0),
            loaded_expired: AtomicU64::new(0),
        }
    }
}

fn unix_secs(w: &Worker) -> i64 {
    (w.shared.clock.now_ms() / 1000) as i64
}

/// One database's part of one shard's snapshot.
#[derive(Default)]
struct DbPart {
    keys: u64,
    expires: u64,
    bytes: Vec<u8>,
}

/// One shard's part of a snapshot, and the shard's write count at the cut.
pub(crate) struct ShardPart {
    dbs: Vec<DbPart>,
    dirty: u64,
    err: Option<String>,
}

type KeySet = HashSet<Box<[u8]>, foldhash::fast::RandomState>;

/// One database's side of a background snapshot.
#[derive(Default)]
struct SnapDb {
    /// Keys of the cut already encoded.
    written: KeySet,
    /// Keys created after the cut.
    fresh: KeySet,
    /// Flushed or swapped since the cut: every key of the cut was encoded then, and nothing in
    /// the table belongs to the cut any more.
    closed: bool,
}

/// What a background snapshot shares between the shard's snapshot task and its write-path
/// listener (both on the shard's thread; the lock is never contended).
struct SnapState {
    dbs: Vec<SnapDb>,
    parts: Vec<DbPart>,
    enc: Encoder,
    err: Option<String>,
}

impl SnapState {
    /// Encodes `key` if it belongs to the cut and is not written yet.
    fn save(&mut self, db: DbIndex, key: &[u8], e: &Entry) {
        let Some(d) = self.dbs.get_mut(db) else {
            return;
        };
        if d.closed || d.written.contains(key) || d.fresh.contains(key) {
            return;
        }
        d.written.insert(key.into());
        let part = &mut self.parts[db];
        part.keys += 1;
        part.expires += u64::from(e.expire().is_some());
        if let Err(err) =
            file::write_entry(&mut self.enc, &mut part.bytes, key, &e.value, e.expire())
        {
            self.err.get_or_insert(err.to_string());
        }
    }
}

fn lock(s: &Mutex<SnapState>) -> std::sync::MutexGuard<'_, SnapState> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// The copy-on-write hook: saves a pending key's entry as it was at the cut, before it changes.
struct CowListener(Arc<Mutex<SnapState>>);

impl KeyListener for CowListener {
    fn before_change(&mut self, db: DbIndex, key: &[u8], old: &Entry) {
        lock(&self.0).save(db, key, old);
    }

    fn on_change(&mut self, change: &rustis_storage::Change<'_>) {
        use rustis_storage::ChangeKind;
        let mut st = lock(&self.0);
        let Some(d) = st.dbs.get_mut(change.db) else {
            return;
        };
        match change.kind {
            ChangeKind::Flushed | ChangeKind::Swapped(_) => d.closed = true,
            // A key of the cut that changes was written by `before_change` first; any other
            // key reported here was created after the cut.
            _ => {
                if !d.closed && !d.written.contains(change.key) {
                    d.fresh.insert(change.key.into());
                }
            }
        }
    }
}

/// A shard's running background snapshot.
pub(crate) struct ShardSnap {
    state: Arc<Mutex<SnapState>>,
    listener: ListenerId,
    /// Per database: the SCAN cursor, and whether the walk has ended.
    cursors: Vec<(u64, bool)>,
    done: oneshot::Sender<ShardPart>,
}

/// Encodes every live key of a shard at once (SAVE's part, run under the all-shard lock).
fn encode_shard(shard: &mut Shard, dirty: u64) -> ShardPart {
    let mut enc = Encoder::new(rdb_options(&shard.config));
    let mut part = ShardPart {
        dbs: Vec::with_capacity(shard.dbs.len()),
        dirty,
        err: None,
    };
    for i in 0..shard.dbs.len() {
        let db = shard.db(i);
        let mut p = DbPart::default();
        // Keys whose time has passed but that are still there are written too, as Redis's
        // SAVE writes them: the load skips them and counts them as expired.
        for (k, e) in db.iter_with_expired() {
            p.keys += 1;
            p.expires += u64::from(e.expire().is_some());
            if let Err(err) = file::write_entry(&mut enc, &mut p.bytes, k, &e.value, e.expire()) {
                part.err.get_or_insert(err.to_string());
            }
        }
        part.dbs.push(p);
    }
    part
}

/// Starts a background snapshot of a shard (run under the all-shard lock, so this instant is
/// the cut): the copy-on-write listener goes on and the shard's snapshot task is woken.
fn mark_shard(wk: &Worker) -> oneshot::Receiver<ShardPart> {
    let (tx, rx) = oneshot::channel();
    let mut shard = wk.shard.borrow_mut();
    let n_dbs = shard.dbs.len();
    let state = Arc::new(Mutex::new(SnapState {
        dbs: (0..n_dbs).map(|_| SnapDb::default()).collect(),
        parts: (0..n_dbs).map(|_| DbPart::default()).collect(),
        enc: Encoder::new(rdb_options(&shard.config)),
        err: None,
    }));
    let st = state.clone();
    let listener =
        shard.add_listener(move |_| Box::new(CowListener(st.clone())) as Box<dyn KeyListener>);
    *wk.snap.borrow_mut() = Some(ShardSnap {
        state,
        listener,
        cursors: vec![(0, false); n_dbs],
        done: tx,
    });
    drop(shard);
    wk.snap_wake.notify_one();
    rx
}

/// One slice of this shard's background snapshot, of about `budget` keys: whether it has
/// finished (or none runs), and how many keys (and bucket steps) it visited.
fn snapshot_slice(w: &Worker, budget: usize) -> (bool, usize) {
    let mut slot = w.snap.borrow_mut();
    let Some(snap) = slot.as_mut() else {
        return (true, 0);
    };
    let mut shard = w.shard.borrow_mut();
    shard.set_now(w.shared.clock.now_ms());
    let mut visited = 0;
    while visited < budget {
        let Some(i) = snap.cursors.iter().position(|c| !c.1) else {
            break;
        };
        let state = &snap.state;
        if lock(state).dbs[i].closed {
            snap.cursors[i] = (0, true);
            continue;
        }
        // Every key of the cut is either changed later (and written by the listener first) or
        // present for the whole walk, which SCAN's cursor then visits at least once.
        let next = shard.db(i).scan(snap.cursors[i].0, |k, e| {
            visited += 1;
            lock(state).save(i, k, e);
        });
        snap.cursors[i] = (next, next == 0);
        // A step over empty buckets counts too, so a sparse table cannot make a slice long.
        visited += 1;
    }
    if snap.cursors.iter().any(|c| !c.1) {
        return (false, visited);
    }
    let Some(snap) = slot.take() else {
        return (true, visited);
    };
    shard.remove_listener(snap.listener);
    let mut st = lock(&snap.state);
    let part = ShardPart {
        dbs: std::mem::take(&mut st.parts),
        dirty: 0,
        err: st.err.take(),
    };
    let _ = snap.done.send(part);
    (true, visited)
}

/// Each thread's snapshot task: runs background snapshots of its shard a slice at a time,
/// yielding to connections and the mesh between slices. With `rdb-key-save-delay` (Redis's
/// test knob: microseconds per key saved, nanoseconds when negative) each slice is one step
/// of the walk, followed by an asynchronous sleep of that much per key visited: the snapshot
/// is slowed down, the thread keeps serving.
pub(crate) async fn snapshot_task(w: Rc<Worker>) {
    loop {
        w.snap_wake.notified().await;
        loop {
            let delay = w.shared.config().get_i64("rdb-key-save-delay");
            let budget = if delay == 0 { SLICE_KEYS } else { 1 };
            let (done, visited) = snapshot_slice(&w, budget);
            if done {
                break;
            }
            let per_key = if delay > 0 {
                std::time::Duration::from_micros(delay as u64)
            } else {
                std::time::Duration::from_nanos(delay.unsigned_abs())
            };
            if delay == 0 {
                tokio::task::yield_now().await;
            } else {
                tokio::time::sleep(per_key.saturating_mul(visited.max(1) as u32)).await;
            }
        }
    }
}

/// Writes the file: `dir`/temp-<pid>-<n>.rdb, fsync, then renamed over `dir`/`dbfilename`.
fn write_file(
    path: &Path,
    parts: &[ShardPart],
    n_dbs: usize,
    aux: &Aux,
    checksum: bool,
) -> std::io::Result<()> {
    use std::sync::atomic::AtomicUsize;
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        "temp-{}-{}.rdb",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let f = std::fs::File::create(&tmp)?;
        let mut fw = FileWriter::new(std::io::BufWriter::new(f), aux, checksum)?;
        for db in 0..n_dbs {
            let keys: u64 = parts
                .iter()
                .map(|p| p.dbs.get(db).map_or(0, |d| d.keys))
                .sum();
            if keys == 0 {
                continue;
            }
            let expires: u64 = parts
                .iter()
                .map(|p| p.dbs.get(db).map_or(0, |d| d.expires))
                .sum();
            fw.select_db(db, keys, expires)?;
            for p in parts {
                if let Some(d) = p.dbs.get(db) {
                    fw.put(&d.bytes)?;
                }
            }
        }
        let (bw, _) = fw.finish()?;
        let f = bw.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// What a save writes where: the path, the AUX fields, whether to checksum.
fn target(w: &Worker) -> (PathBuf, Aux, bool) {
    let cfg = w.shared.config();
    let aux = Aux {
        version: crate::admin::REDIS_VERSION.to_string(),
        ctime: unix_secs(w),
        used_mem: w.shared.allocated.map_or(0, |f| f()) as i64,
        aof_base: false,
        functions: w.shared.functions.codes(),
    };
    (cfg.rdb_path(), aux, cfg.get("rdbchecksum") != Some("no"))
}

/// Runs `f` on every shard under the all-shard lock.
pub(crate) async fn on_every_shard<T: Send + 'static>(
    w: &Worker,
    f: impl Fn(&Worker) -> T + Send + Sync + 'static,
) -> Option<Vec<T>> {
    on_every_shard_locked(w, f).await
}

/// Runs `f` on every shard under the all-shard lock.
pub(crate) async fn on_every_shard_locked<T: Send + 'static>(
    w: &Worker,
    f: impl Fn(&Worker) -> T + Send + Sync + 'static,
) -> Option<Vec<T>> {
    let pf: PartFn =
        Arc::new(move |wk: &Worker| -> rustis_commands::registry::Partial { Box::new(f(wk)) });
    let parts: Vec<(usize, LockSet, PartFn)> =
        (0..w.n).map(|s| (s, LockSet::All, pf.clone())).collect();
    let results = run_locked(w, w.new_tx(), &parts, Parts::Write).await?;
    results
        .into_iter()
        .map(|p| p.downcast::<T>().ok().map(|b| *b))
        .collect()
}

fn finish_save(w: &Worker, dirty: u64) {
    let st = &w.shared.persist;
    st.last_save.store(unix_secs(w), Ordering::Relaxed);
    st.saves.fetch_add(1, Ordering::Relaxed);
    st.dirty_at_save.store(dirty, Ordering::Relaxed);
}

/// SAVE: the whole dataset, encoded under the all-shard lock and written before replying.
pub(crate) async fn save(w: &Worker) -> Result<(), String> {
    if w.shared.persist.bg_running.load(Ordering::Relaxed) {
        return Err("ERR Background save already in progress".into());
    }
    let parts = on_every_shard_locked(w, |wk| {
        let mut shard = wk.shard_now();
        encode_shard(&mut shard, wk.dirty.get())
    })
    .await
    .ok_or("ERR server is shutting down")?;
    if let Some(e) = parts.iter().find_map(|p| p.err.clone()) {
        tracing::warn!("SAVE failed: {e}");
        return Err(format!("ERR {e}"));
    }
    let (path, aux, checksum) = target(w);
    match write_file(&path, &parts, w.shared.n_dbs, &aux, checksum) {
        Ok(()) => {
            tracing::info!("DB saved on disk");
            finish_save(w, parts.iter().map(|p| p.dirty).sum());
            Ok(())
        }
        Err(e) => {
            tracing::warn!("Failed saving the DB: {e}");
            Err("ERR".into())
        }
    }
}

/// Starts a background save: takes the cut (every shard marked under the all-shard lock)
/// before returning, then encodes and writes in the background.
pub(crate) async fn bgsave(w: &Rc<Worker>) -> Result<(), String> {
    let st = &w.shared.persist;
    if st.bg_running.swap(true, Ordering::SeqCst) {
        return Err("ERR Background save already in progress".into());
    }
    // A rewrite of the AOF uses the same per-shard snapshot machinery.
    if w.shared.aof.rewrite_running.load(Ordering::SeqCst) {
        st.bg_running.store(false, Ordering::SeqCst);
        return Err("ERR An AOF log rewriting in progress: can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.".into());
    }
    st.bg_started.store(unix_secs(w), Ordering::Relaxed);
    st.bg_last_try.store(unix_secs(w), Ordering::Relaxed);
    st.bg_abort.store(false, Ordering::SeqCst);
    let marked = on_every_shard_locked(w, |wk| (wk.dirty.get(), mark_shard(wk))).await;
    let Some(marked) = marked else {
        st.bg_running.store(false, Ordering::Release);
        return Err("ERR server is shutting down".into());
    };
    // The function libraries as of the cut.
    let functions = w.shared.functions.codes();
    let w = w.clone();
    tokio::task::spawn_local(async move {
        let dirty: u64 = marked.iter().map(|m| m.0).sum();
        let mut parts = Vec::with_capacity(marked.len());
        for (_, rx) in marked {
            match rx.await {
                Ok(p) => parts.push(p),
                Err(_) => {
                    w.shared.persist.bg_running.store(false, Ordering::Release);
                    return;
                }
            }
        }
        // A FLUSHALL since the cut abandons the save, as Redis's kills its child: nothing is
        // written, the last save's status and the change counter stay as they were.
        if w.shared.persist.bg_abort.swap(false, Ordering::SeqCst) {
            tracing::warn!("Background saving abandoned: FLUSHALL emptied the dataset");
            w.shared.persist.bg_running.store(false, Ordering::Release);
            return;
        }
        let (path, mut aux, checksum) = target(&w);
        aux.functions = functions;
        let n_dbs = w.shared.n_dbs;
        let (tx, rx) = oneshot::channel();
        let err = parts.iter().find_map(|p| p.err.clone());
        let spawned = std::thread::Builder::new()
            .name("rustis-rdb".into())
            .spawn(move || {
                let r = match err {
                    Some(e) => Err(e),
                    None => {
                        write_file(&path, &parts, n_dbs, &aux, checksum).map_err(|e| e.to_string())
                    }
                };
                let _ = tx.send(r);
            });
        let result = match spawned {
            Ok(_) => rx.await.unwrap_or(Err("the writer thread stopped".into())),
            Err(e) => Err(e.to_string()),
        };
        let st = &w.shared.persist;
        st.bg_last_secs.store(
            unix_secs(&w) - st.bg_started.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
        match result {
            Ok(()) => {
                tracing::info!("Background saving terminated with success");
                finish_save(&w, dirty);
                st.bg_last_ok.store(true, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::warn!("Background saving error: {e}");
                st.bg_last_ok.store(false, Ordering::Relaxed);
            }
        }
        // `stop-writes-on-bgsave-error`: writes are refused (MISCONF) until a save succeeds.
        crate::aof::refresh_rdb_error(&w.shared);
        st.bg_running.store(false, Ordering::Release);
    });
    Ok(())
}

/// SAVE, BGSAVE [SCHEDULE], LASTSAVE.
pub(crate) async fn command(
    w: &Rc<Worker>,
    cmd: rustis_commands::ConnCmd,
    args: &[bytes::Bytes],
    out: &mut Out,
) {
    use rustis_commands::ConnCmd;
    match cmd {
        ConnCmd::Save => match save(w).await {
            Ok(()) => out.ok(),
            Err(e) => out.error(&e),
        },
        ConnCmd::Bgsave => {
            if args.len() > 1
                && !(args.len() == 2 && rustis_commands::args::eq_ic(&args[1], "schedule"))
            {
                return out.error(rustis_resp::errors::SYNTAX);
            }
            match bgsave(w).await {
                Ok(()) => out.simple("Background saving started"),
                Err(e) => out.error(&e),
            }
        }
        _ => out.int(w.shared.persist.last_save.load(Ordering::Relaxed)),
    }
}

/// The write count of every thread, summed.
async fn dirty_total(w: &Worker) -> Option<u64> {
    Some(
        crate::dispatch::on_every_thread(w, |wk| wk.dirty.get())
            .await?
            .into_iter()
            .sum(),
    )
}

/// INFO's `# Persistence` section.
pub(crate) async fn info(w: &Worker) -> String {
    let st = &w.shared.persist;
    let dirty = dirty_total(w)
        .await
        .unwrap_or(0)
        .saturating_sub(st.dirty_at_save.load(Ordering::Relaxed));
    let running = st.bg_running.load(Ordering::Relaxed);
    let current = if running {
        unix_secs(w) - st.bg_started.load(Ordering::Relaxed)
    } else {
        -1
    };
    format!(
        "# Persistence\r\nloading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\nrdb_changes_since_last_save:{dirty}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{current}\r\nrdb_saves:{}\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\n{}\r\n",
        u8::from(running),
        st.last_save.load(Ordering::Relaxed),
        if st.bg_last_ok.load(Ordering::Relaxed) { "ok" } else { "err" },
        st.bg_last_secs.load(Ordering::Relaxed),
        st.saves.load(Ordering::Relaxed),
        st.loaded_expired.load(Ordering::Relaxed),
        st.loaded_keys.load(Ordering::Relaxed),
        crate::aof::info(w),
    )
}

/// The `save` points (run on thread 0): once a second, starts a background save when one
/// point's seconds have passed since the last save with at least its changes, as Redis's
/// `serverCron` does (after a failed one, only once 5 seconds have passed).
pub(crate) async fn save_points(w: Rc<Worker>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let points = w.shared.config().save_points();
        let st = &w.shared.persist;
        if points.is_empty() || st.bg_running.load(Ordering::Relaxed) {
            continue;
        }
        let Some(total) = dirty_total(&w).await else {
            return;
        };
        let dirty = total.saturating_sub(st.dirty_at_save.load(Ordering::Relaxed));
        let now = unix_secs(&w);
        let since = now - st.last_save.load(Ordering::Relaxed);
        let retry_ok = st.bg_last_ok.load(Ordering::Relaxed)
            || now - st.bg_last_try.load(Ordering::Relaxed) > 5;
        if retry_ok
            && points
                .iter()
                .any(|&(secs, changes)| dirty >= changes && since >= secs as i64)
        {
            tracing::info!("{dirty} changes in {since} seconds. Saving...");
            let _ = bgsave(&w).await;
        }
    }
}

/// Before FLUSHALL (a valid one): a running BGSAVE is abandoned, as Redis kills its RDB child
/// before it empties the data; the snapshot streams on to its end and is not written.
pub(crate) fn before_flushall(w: &Worker, args: &[bytes::Bytes]) {
    let valid = match args.len() {
        1 => true,
        2 => args[1].eq_ignore_ascii_case(b"async") || args[1].eq_ignore_ascii_case(b"sync"),
        _ => false,
    };
    let st = &w.shared.persist;
    if valid && st.bg_running.load(Ordering::SeqCst) {
        st.bg_abort.store(true, Ordering::SeqCst);
    }
}

/// After FLUSHALL: with save points set, Redis saves the (now empty) dataset at once, so a
/// restart does not bring the flushed keys back and the change counter starts again from 0.
/// A failed save is only logged, as in Redis (FLUSHALL has already answered for the data).
pub(crate) async fn after_flushall(w: &Worker) {
    if w.shared.config().save_points().is_empty() {
        return;
    }
    if let Err(e) = save(w).await {
        tracing::warn!("The save after FLUSHALL failed: {e}");
    }
}

/// Whether SHUTDOWN with these flags saves: SAVE always, NOSAVE never, else when save points
/// are set.
pub(crate) fn shutdown_saves(w: &Worker, save: bool, nosave: bool) -> bool {
    save || (!nosave && !w.shared.config().save_points().is_empty())
}

/// Loads `cfg`'s RDB file, if there is one, into the shards (each key into the shard that owns
/// it). Returns how many keys were loaded and how many were already expired.
pub(crate) fn load_at_startup(
    cfg: &crate::Config,
    shards: &mut [Shard],
    now_ms: u64,
) -> Result<(u64, u64, Vec<Vec<u8>>), crate::StartError> {
    let path = cfg.rdb_path();
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0, Vec::new())),
        Err(e) => {
            let why = crate::config::io_reason(&e);
            tracing::warn!("Fatal error loading the DB: {why}. Exiting.");
            return Err(crate::StartError::Load(path, why));
        }
    };
    // As Redis logs a file it cannot read before it exits.
    let fail = |why: String| {
        tracing::warn!("Internal error in RDB reading {} -> {why}", path.display());
        // Redis then runs its RDB check, which reports the error again.
        tracing::warn!("--- RDB ERROR DETECTED --- {why}");
        tracing::warn!("Terminating server after rdb file reading failure.");
        crate::StartError::Load(path.clone(), why)
    };
    let n = shards.len();
    let shard_cfg = cfg.shard_config();
    let n_dbs = shards.first().map_or(0, |s| s.dbs.len());
    for s in shards.iter_mut() {
        s.set_now(now_ms);
    }
    let verify = cfg.get("rdbchecksum") != Some("no");
    let loaded = file::load(&data, &shard_cfg, n_dbs, now_ms, verify, |k| {
        let s = crate::routing::shard_of(&k.key, n);
        let db = shards[s].db(k.db);
        if db.contains(&k.key) {
            return false;
        }
        db.insert(&k.key, k.value, k.expire_ms);
        true
    })
    .map_err(|e| fail(e.to_string()))?;
    // The libraries must load (compile) as they would in redis-server.
    crate::functions::load_codes(&mut crate::functions::scratch_engine(), &loaded.functions)
        .map_err(fail)?;
    for (_, key) in &loaded.empty_keys {
        tracing::warn!(
            "rdbLoadObject skipping empty key: {}",
            String::from_utf8_lossy(key)
        );
    }
    if loaded.empty_keys.is_empty() {
        tracing::info!(
            "Done loading RDB, keys loaded: {}, keys expired: {}.",
            loaded.keys,
            loaded.expired
        );
    } else {
        tracing::info!(
            "Done loading RDB, keys loaded: {}, keys expired: {}, empty keys skipped: {}.",
            loaded.keys,
            loaded.expired,
            loaded.empty_keys.len()
        );
    }
    tracing::info!("DB loaded from disk");
    Ok((loaded.keys, loaded.expired, loaded.functions))
}

/// A rewrite's cut: under the all-shard lock, `at_cut` runs on each shard and its background
/// snapshot starts (as BGSAVE's does); the parts arrive when every shard has encoded its keys.
pub(crate) async fn snapshot_cut(w: &Rc<Worker>, at_cut: fn(&Worker)) -> Option<Vec<ShardPart>> {
    let marked = on_every_shard_locked(w, move |wk| {
        at_cut(wk);
        mark_shard(wk)
    })
    .await?;
    let mut parts = Vec::with_capacity(marked.len());
    for rx in marked {
        parts.push(rx.await.ok()?);
    }
    Some(parts)
}

/// Writes snapshot parts and the function libraries `functions` to `path` as an AOF base
/// (the `aof-base` AUX field set), through a temp file, fsynced, renamed, on a helper thread.
/// Rewrites the RDB file at `path` as AOF commands (`aof-use-rdb-preamble no`): the function
/// libraries as `FUNCTION LOAD`, then per database a `SELECT` and each key as
/// `RESTORE key <expiry ms|0> <payload> REPLACE ABSTTL` (any value, any type, in one command
/// that redis-server replays as well), written to a temporary file and renamed over it.
pub(crate) fn rdb_file_to_commands(
    path: &Path,
    n_dbs: usize,
    timestamp: bool,
) -> std::io::Result<()> {
    let data = std::fs::read(path)?;
    let cfg = rustis_storage::ShardConfig::default();
    let opts = rustis_persist::Options::default();
    let mut keys = Vec::new();
    let mut cur_db = None;
    let mut bad = None;
    let loaded = file::load(&data, &cfg, n_dbs, 0, false, |k| {
        if cur_db != Some(k.db) {
            keys.extend(crate::aof::resp(&[b"SELECT", k.db.to_string().as_bytes()]));
            cur_db = Some(k.db);
        }
        match rustis_persist::dump(&k.value, opts) {
            Ok(payload) => {
                let ttl = k.expire_ms.unwrap_or(0).to_string();
                keys.extend(crate::aof::resp(&[
                    b"RESTORE",
                    &k.key,
                    ttl.as_bytes(),
                    &payload,
                    b"REPLACE",
                    b"ABSTTL",
                ]));
            }
            Err(e) => bad = Some(e.to_string()),
        }
        true
    })
    .map_err(|e| std::io::Error::other(e.to_string()))?;
    if let Some(e) = bad {
        return Err(std::io::Error::other(e));
    }
    let mut out = Vec::with_capacity(keys.len());
    // With `aof-timestamp-enabled yes`, Redis's rewrite starts the base with one annotation.
    if timestamp {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        out.extend_from_slice(format!("#TS:{now}\r\n").as_bytes());
    }
    for code in &loaded.functions {
        out.extend(crate::aof::resp(&[b"FUNCTION", b"LOAD", code]));
    }
    out.extend(keys);
    let tmp = path.with_extension("cmds");
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        std::io::Write::write_all(&mut f, &out)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

pub(crate) async fn write_aof_base(
    w: &Worker,
    path: PathBuf,
    parts: Vec<ShardPart>,
    functions: Vec<Vec<u8>>,
    rdb: bool,
) -> Result<(), String> {
    if let Some(e) = parts.iter().find_map(|p| p.err.clone()) {
        return Err(e);
    }
    let (_, mut aux, checksum) = target(w);
    aux.aof_base = true;
    aux.functions = functions;
    let n_dbs = w.shared.n_dbs;
    let timestamp = w.shared.aof.timestamps.load(Ordering::Relaxed);
    let (tx, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("rustis-rdb".into())
        .spawn(move || {
            let mut r = write_file(&path, &parts, n_dbs, &aux, checksum);
            if r.is_ok() && !rdb {
                r = rdb_file_to_commands(&path, n_dbs, timestamp);
            }
            let _ = tx.send(r.map_err(|e| e.to_string()));
        })
        .map_err(|e| e.to_string())?;
    rx.await.unwrap_or(Err("the writer thread stopped".into()))
}
