//! `maxmemory`: when a shard must free memory, and when a command is refused with `-OOM`.
//!
//! Which key goes is the storage's choice (`rustis_storage::evict`); this module owns the
//! budget. Memory is measured as Redis's `used_memory` is, split in two parts so that no
//! thread reads another's data and no lock is taken on the data path (docs/memory.md):
//!
//! - each shard's **keys**: the storage's exact running estimate of its entries
//!   (`Shard::used_memory`, kept by the write path while `maxmemory` is set), which the
//!   shard's thread reads in O(1) and publishes in a relaxed atomic after each command;
//! - the **overhead**: what the allocator reports (jemalloc's `stats.allocated`) minus the
//!   keys' estimate — connection buffers, table bucket arrays, Lua, allocator rounding —
//!   recomputed by thread 0 every 100 ms and published the same way (0 when the allocator
//!   cannot tell, as in tests run on the system allocator).
//!
//! A shard's budget is `(maxmemory - overhead) / threads`. Before a command runs on a shard
//! (and every 100 ms) the shard evicts its own keys by the policy until it is within its
//! budget, within `maxmemory-eviction-tenacity`'s time limit (the periodic run finishes what
//! the limit cut short). A command flagged `denyoom` (and any command queued in MULTI but
//! EXEC/DISCARD/QUIT/RESET, and EXEC of a transaction holding one) is refused with Redis's
//! `-OOM` error when the published total is over `maxmemory` and either the policy is
//! `noeviction` or some shard could not evict enough. Evictions are deletions through the
//! write path: WATCH, keyspace events (`evicted`) and the AOF (`DEL`) see them.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use rustis_commands::registry::{flags, Run};
use rustis_commands::{CommandSpec, ConnCmd};
use rustis_storage::evict::Policy;
use rustis_storage::Shard;

use crate::config::Config;
use crate::session::Session;
use crate::worker::Worker;

/// Redis's error for a command refused over `maxmemory`.
pub(crate) const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// One thread's published figures, on its own cache line.
#[derive(Default)]
#[repr(align(64))]
struct Slot {
    /// The shard's keys' estimated bytes.
    used: AtomicU64,
    /// The shard is over its budget and its policy can evict nothing more.
    failed: AtomicBool,
    /// Keys this shard evicted (INFO `evicted_keys`).
    evicted: AtomicU64,
}

/// The memory limit's settings and the figures every thread publishes.
pub(crate) struct MemState {
    maxmemory: AtomicU64,
    noeviction: AtomicBool,
    /// How long one eviction run may take, in µs (from `maxmemory-eviction-tenacity`).
    time_limit_us: AtomicU64,
    /// The allocator's figure minus the keys' estimate, in bytes.
    overhead: AtomicU64,
    slots: Vec<Slot>,
}

thread_local! {
    /// Whether `maxmemory` is set (one flag test per command while it is not).
    static ON: Cell<bool> = const { Cell::new(false) };
    /// This thread's server state and thread number.
    static LOCAL: RefCell<Option<(Arc<MemState>, usize)>> = const { RefCell::new(None) };
}

impl MemState {
    /// The state for `n` threads.
    pub(crate) fn new(n: usize) -> Arc<MemState> {
        Arc::new(MemState {
            maxmemory: AtomicU64::new(0),
            noeviction: AtomicBool::new(true),
            time_limit_us: AtomicU64::new(500),
            overhead: AtomicU64::new(0),
            slots: (0..n).map(|_| Slot::default()).collect(),
        })
    }

    /// Copies the settings from the config (startup and CONFIG SET).
    pub(crate) fn load(&self, cfg: &Config) {
        let max = cfg
            .get("maxmemory")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        self.maxmemory.store(max, Relaxed);
        let policy = Policy::parse(cfg.get("maxmemory-policy").unwrap_or("noeviction"));
        self.noeviction
            .store(matches!(policy, None | Some(Policy::NoEviction)), Relaxed);
        let t = cfg.get_i64("maxmemory-eviction-tenacity").clamp(0, 100);
        self.time_limit_us.store(time_limit_us(t), Relaxed);
    }

    /// Keys evicted since startup (INFO `evicted_keys`).
    pub(crate) fn evicted(&self) -> u64 {
        self.slots.iter().map(|s| s.evicted.load(Relaxed)).sum()
    }

    /// The keys' estimate over every shard, as last published.
    fn keys_used(&self) -> u64 {
        self.slots.iter().map(|s| s.used.load(Relaxed)).sum()
    }

    /// Memory as the limit sees it: the keys' estimate plus the overhead.
    fn used(&self) -> u64 {
        self.keys_used() + self.overhead.load(Relaxed)
    }

    /// One shard's share of what the keys may use.
    fn budget(&self) -> u64 {
        let max = self.maxmemory.load(Relaxed);
        max.saturating_sub(self.overhead.load(Relaxed)) / self.slots.len().max(1) as u64
    }

    /// Whether a `denyoom` command is refused now.
    fn out_of_memory(&self) -> bool {
        let max = self.maxmemory.load(Relaxed);
        max != 0
            && self.used() > max
            && (self.noeviction.load(Relaxed) || self.slots.iter().any(|s| s.failed.load(Relaxed)))
    }
}

/// Redis's `evictionTimeLimitUs`: 50 µs per step up to 10, then 15 % more per step, and no
/// limit at 100.
fn time_limit_us(tenacity: i64) -> u64 {
    if tenacity <= 10 {
        return 50 * tenacity as u64;
    }
    if tenacity < 100 {
        return (500.0 * 1.15f64.powf(tenacity as f64 - 10.0)) as u64;
    }
    u64::MAX
}

/// Applies the settings on this thread: its shard's access recording (LRU clock or LFU
/// counter), memory tracking while `maxmemory` is set. Run on every thread at startup and
/// after CONFIG SET, after the shard got its new `ShardConfig`.
pub(crate) fn sync(w: &Worker) {
    let m = w.shared.mem.clone();
    let on = m.maxmemory.load(Relaxed) != 0;
    ON.set(on);
    let mut shard = w.shard.borrow_mut();
    shard.sync_access();
    shard.set_memory_tracking(on);
    let slot = &m.slots[w.id];
    slot.used
        .store(shard.used_memory().unwrap_or(0) as u64, Relaxed);
    slot.failed.store(false, Relaxed);
    drop(shard);
    LOCAL.with(|l| *l.borrow_mut() = Some((m, w.id)));
}

/// Before a command runs on `shard`: frees memory if the shard is over its budget.
#[inline]
pub(crate) fn before_command(shard: &mut Shard) {
    if ON.get() {
        make_room(shard);
    }
}

/// After a command ran on `shard`: publishes what its keys now use.
#[inline]
pub(crate) fn after_command(shard: &Shard) {
    if ON.get() {
        publish(shard);
    }
}

#[inline(never)]
fn publish(shard: &Shard) {
    LOCAL.with(|l| {
        if let Some((m, id)) = &*l.borrow() {
            m.slots[*id]
                .used
                .store(shard.used_memory().unwrap_or(0) as u64, Relaxed);
        }
    });
}

/// Evicts this shard's keys until it is within its budget (or the policy allows no more, or
/// the time limit is reached), then publishes its figures.
#[inline(never)]
fn make_room(shard: &mut Shard) {
    let Some((m, id)) = LOCAL.with(|l| l.borrow().clone()) else {
        return;
    };
    let budget = m.budget();
    let mut used = shard.used_memory().unwrap_or(0) as u64;
    let mut failed = false;
    if used > budget {
        let started = Instant::now();
        let limit = m.time_limit_us.load(Relaxed);
        let mut n = 0u64;
        loop {
            if shard.evict_one().is_none() {
                failed = true;
                break;
            }
            n += 1;
            used = shard.used_memory().unwrap_or(0) as u64;
            if used <= budget {
                break;
            }
            // The periodic run goes on where the time limit stops this one.
            if n.is_multiple_of(16) && started.elapsed().as_micros() as u64 >= limit {
                break;
            }
        }
        if n > 0 {
            m.slots[id].evicted.fetch_add(n, Relaxed);
            crate::aof::flush_pending(shard);
        }
    }
    let slot = &m.slots[id];
    slot.used.store(used, Relaxed);
    slot.failed.store(failed, Relaxed);
}

/// The periodic part, every 100 ms on every thread: frees memory on an idle shard (after
/// CONFIG SET lowered the limit, or where a time limit stopped a run), and on thread 0
/// recomputes the overhead from the allocator.
pub(crate) fn cron(w: &Worker) {
    if !ON.get() {
        return;
    }
    if w.id == 0 {
        if let Some(allocated) = w.shared.allocated {
            let m = &w.shared.mem;
            let over = (allocated() as u64).saturating_sub(m.keys_used());
            m.overhead.store(over, Relaxed);
        }
    }
    let mut shard = w.shard_now();
    make_room(&mut shard);
}

/// Whether `spec` (with `args`) is refused over the limit, as Redis's `processCommand`
/// decides: it is `denyoom`, or it would be queued in MULTI (anything but EXEC, DISCARD,
/// QUIT and RESET), or it is EXEC of a transaction that holds a `denyoom` command.
pub(crate) fn refused(
    w: &Worker,
    sess: &Session,
    spec: &CommandSpec,
    args: &[Bytes],
) -> Option<&'static str> {
    if !ON.get() {
        return None;
    }
    let flagged = spec.resolve(args).unwrap_or(spec).flags & flags::DENYOOM != 0;
    let conn = match spec.run {
        Run::Conn(c) => Some(c),
        _ => None,
    };
    let queued = sess.in_multi()
        && !matches!(
            conn,
            Some(ConnCmd::Exec | ConnCmd::Discard | ConnCmd::Quit | ConnCmd::Reset)
        );
    let exec = matches!(conn, Some(ConnCmd::Exec)) && crate::multi::queued_denyoom(sess);
    if !(flagged || queued || exec) {
        return None;
    }
    is_oom(w).then_some(OOM)
}

/// Whether the server is over `maxmemory` with nothing left to evict, after this thread's
/// shard freed what it could (a script records it when it starts, as Redis's `script_oom`).
pub(crate) fn is_oom(w: &Worker) -> bool {
    if !ON.get() {
        return false;
    }
    if let Ok(mut shard) = w.shard.try_borrow_mut() {
        // A transaction holding keys here must not see them vanish.
        if w.locks_idle() {
            make_room(&mut shard);
        }
    }
    w.shared.mem.out_of_memory()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_limits_follow_redis() {
        assert_eq!(time_limit_us(0), 0);
        assert_eq!(time_limit_us(10), 500);
        assert_eq!(time_limit_us(11), 575);
        assert_eq!(time_limit_us(100), u64::MAX);
    }

    #[test]
    fn budget_splits_what_the_overhead_leaves() {
        let m = MemState::new(4);
        m.maxmemory.store(1000, Relaxed);
        m.overhead.store(200, Relaxed);
        assert_eq!(m.budget(), 200);
        m.slots[0].used.store(900, Relaxed);
        m.noeviction.store(true, Relaxed);
        assert!(m.out_of_memory());
        m.noeviction.store(false, Relaxed);
        assert!(!m.out_of_memory());
        m.slots[1].failed.store(true, Relaxed);
        assert!(m.out_of_memory());
    }
}
