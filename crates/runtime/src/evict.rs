//! `maxmemory`: when a shard must free memory, and when a command is refused with `-OOM`.
//!
//! Which key goes is the storage's choice (`rustis_storage::evict`); this module decides
//! when. Memory is what Redis calls `used_memory`, measured one of two ways, neither taking
//! a lock on the data path (docs/memory.md):
//!
//! - **the allocator's count** (the binary's counting jemalloc, `crates/server/src/alloc.rs`:
//!   every allocation adds its size class to a counter of its thread's own). The server is
//!   over when the sum is over `maxmemory`; before a command runs on a shard (and every
//!   100 ms) the shard evicts its own keys while the server is over, so the shards that are
//!   written to give up keys, as Redis's one keyspace would. A thread reads the sum at least
//!   every 16 checks and at every check once its last reading was within 1/32 of the limit.
//! - without one (the in-process test server on the system allocator), **the keys' exact
//!   estimate** (`Shard::used_memory`, kept by the storage's write path while `maxmemory`
//!   is set): each shard keeps its keys within `maxmemory / threads` and publishes its
//!   figure in a relaxed atomic of its own after each command.
//!
//! Eviction runs within `maxmemory-eviction-tenacity`'s time limit (the periodic run
//! finishes what the limit cut short). A command flagged `denyoom` (and any command queued
//! in MULTI but EXEC/DISCARD/QUIT/RESET, and EXEC of a transaction holding one) is refused
//! with Redis's `-OOM` error when the server is over `maxmemory` and the policy is
//! `noeviction` or the shards found nothing left to evict. Evictions are deletions through
//! the write path: WATCH, keyspace events (`evicted`) and the AOF (`DEL`) see them.

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
    slots: Vec<Slot>,
    /// The allocator's exact count of bytes in use, when the binary installed one: the limit
    /// is then checked against it, as Redis checks its `used_memory`.
    allocated: Option<fn() -> usize>,
}

thread_local! {
    /// Whether `maxmemory` is set (one flag test per command while it is not).
    static ON: Cell<bool> = const { Cell::new(false) };
    /// Whether memory is the allocator's count (no per-shard figures to publish).
    static EXACT: Cell<bool> = const { Cell::new(false) };
    /// This thread's server state and thread number.
    static LOCAL: RefCell<Option<(Arc<MemState>, usize)>> = const { RefCell::new(None) };
    /// The allocator's figure as this thread last read it, and how many checks ago.
    static SEEN: Cell<(u64, u32)> = const { Cell::new((0, 0)) };
}

/// With an allocator count, a thread reads it (a load per thread's counter) at least every
/// this many checks, and at every check once the last reading was near the limit.
const REREAD_EVERY: u32 = 16;

impl MemState {
    /// The state for `n` threads.
    pub(crate) fn new(n: usize, allocated: Option<fn() -> usize>) -> Arc<MemState> {
        Arc::new(MemState {
            maxmemory: AtomicU64::new(0),
            noeviction: AtomicBool::new(true),
            time_limit_us: AtomicU64::new(500),
            slots: (0..n).map(|_| Slot::default()).collect(),
            allocated,
        })
    }

    /// Whether memory may be over `max`: with an allocator count, false without reading it
    /// when the last reading was well below and recent; otherwise it is read.
    fn maybe_over(&self, max: u64) -> bool {
        let Some(allocated) = self.allocated else {
            return self.used() > max;
        };
        let (seen, age) = SEEN.get();
        let margin = (max / 32).max(256 << 10);
        if age < REREAD_EVERY && seen != 0 && seen.saturating_add(margin) < max {
            SEEN.set((seen, age + 1));
            return false;
        }
        let now = allocated() as u64;
        SEEN.set((now.max(1), 0));
        now > max
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

    /// Memory as the limit sees it: the allocator's count, or without one the keys'
    /// estimate.
    fn used(&self) -> u64 {
        match self.allocated {
            Some(f) => f() as u64,
            None => self.keys_used(),
        }
    }

    /// One shard's share of what the keys may use (without an allocator count).
    fn budget(&self) -> u64 {
        self.maxmemory.load(Relaxed) / self.slots.len().max(1) as u64
    }

    /// Whether a `denyoom` command is refused now: over the limit, and the policy evicts
    /// nothing, or (with the allocator's count, which every shard checks against) every
    /// shard found nothing left to evict, or (with the keys' estimate, a budget per shard)
    /// some shard did.
    fn out_of_memory(&self) -> bool {
        let max = self.maxmemory.load(Relaxed);
        if max == 0 || !self.maybe_over(max) || self.used() <= max {
            return false;
        }
        let failed = |s: &Slot| s.failed.load(Relaxed);
        self.noeviction.load(Relaxed)
            || if self.allocated.is_some() {
                self.slots.iter().all(failed)
            } else {
                self.slots.iter().any(failed)
            }
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
    EXACT.set(m.allocated.is_some());
    let mut shard = w.shard.borrow_mut();
    shard.sync_access();
    // The keys' estimate is only needed without the allocator's count.
    shard.set_memory_tracking(on && m.allocated.is_none());
    let slot = &m.slots[w.id];
    slot.used
        .store(shard.used_memory().unwrap_or(0) as u64, Relaxed);
    slot.failed.store(false, Relaxed);
    drop(shard);
    // Redis's `dictExpandAllowed`: with the allocator's count, a keyspace table does not
    // grow its bucket array past `maxmemory`.
    rustis_storage::table::set_expand_guard(
        (on && m.allocated.is_some()).then_some(fits as rustis_storage::table::ExpandGuard),
    );
    LOCAL.with(|l| *l.borrow_mut() = Some((m, w.id)));
    // Lowering the limit frees memory at once, as Redis's CONFIG SET maxmemory does.
    SEEN.set((0, 0));
    if on {
        evict_here(w);
    }
}

/// Whether `more` bytes more stay within `maxmemory` (Redis's `overMaxmemoryAfterAlloc`,
/// negated), by the allocator's count.
fn fits(more: usize) -> bool {
    LOCAL.with(|l| match &*l.borrow() {
        Some((m, _)) => {
            let max = m.maxmemory.load(Relaxed);
            max == 0 || m.allocated.is_none_or(|f| (f() + more) as u64 <= max)
        }
        None => true,
    })
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
    if ON.get() && !EXACT.get() {
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
    // A client pause keeps the dataset still: nothing is evicted (pause.rs).
    if shard.keeps_expired() {
        return;
    }
    let Some((m, id)) = LOCAL.with(|l| l.borrow().clone()) else {
        return;
    };
    if let Some(allocated) = m.allocated {
        return make_room_exact(shard, &m, id, allocated);
    }
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

/// [`make_room`] with the allocator's count: this shard evicts its keys while the whole
/// server is over `maxmemory` (every shard does so before its commands, so the shards that
/// are written to give up keys, as the one keyspace of Redis would).
fn make_room_exact(shard: &mut Shard, m: &MemState, id: usize, allocated: fn() -> usize) {
    let max = m.maxmemory.load(Relaxed);
    let slot = &m.slots[id];
    if !m.maybe_over(max) {
        slot.failed.store(false, Relaxed);
        return;
    }
    let started = Instant::now();
    let limit = m.time_limit_us.load(Relaxed);
    let mut n = 0u64;
    let mut failed = false;
    while allocated() as u64 > max {
        if shard.evict_one().is_none() {
            failed = true;
            break;
        }
        n += 1;
        if n.is_multiple_of(16) && started.elapsed().as_micros() as u64 >= limit {
            break;
        }
    }
    if n > 0 {
        slot.evicted.fetch_add(n, Relaxed);
        crate::aof::flush_pending(shard);
        SEEN.set((allocated().max(1) as u64, 0));
    }
    slot.failed.store(failed, Relaxed);
}

/// The periodic part, every 100 ms on every thread: frees memory on an idle shard (after
/// CONFIG SET lowered the limit, or where a time limit stopped a run).
pub(crate) fn cron(w: &Worker) {
    if !ON.get() {
        return;
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
    // While a client pause holds, Redis evicts nothing and refuses nothing for memory.
    if w.shared.pause.active() && w.shared.pause.at(w.shared.clock.now_ms()).is_some() {
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
        // Redis frees memory before every command: with the allocator's count, this
        // thread's shard does so also before one that runs on no shard (INFO, PUBLISH), so
        // memory taken by clients' buffers is given back by keys without a write.
        if w.shared.mem.allocated.is_some() {
            evict_here(w);
        }
        return None;
    }
    is_oom(w).then_some(OOM)
}

/// This thread's shard frees memory if the server is over `maxmemory`, unless a
/// transaction holds keys here (it must not see them vanish) or the shard is in use.
fn evict_here(w: &Worker) {
    if let Ok(mut shard) = w.shard.try_borrow_mut() {
        if w.locks_idle() {
            make_room(&mut shard);
        }
    }
}

/// Whether the server is over `maxmemory` with nothing left to evict, after this thread's
/// shard freed what it could (a script records it when it starts, as Redis's `script_oom`).
pub(crate) fn is_oom(w: &Worker) -> bool {
    if !ON.get() {
        return false;
    }
    // With a budget per shard, this thread's shard frees what it can first. With the
    // allocator's count, the shards free memory before their own commands (so the keys of
    // the shards that are written to go, not those of the connection's thread).
    if w.shared.mem.allocated.is_none() {
        evict_here(w);
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
    fn budget_is_an_even_share_and_oom_needs_a_failed_shard() {
        let m = MemState::new(4, None);
        m.maxmemory.store(1000, Relaxed);
        assert_eq!(m.budget(), 250);
        m.slots[0].used.store(1100, Relaxed);
        m.noeviction.store(true, Relaxed);
        assert!(m.out_of_memory());
        m.noeviction.store(false, Relaxed);
        assert!(!m.out_of_memory());
        m.slots[1].failed.store(true, Relaxed);
        assert!(m.out_of_memory());
    }
}
