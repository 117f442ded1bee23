//! The global allocator: jemalloc, counting the bytes it hands out, as Redis's `zmalloc`
//! counts `used_memory`.
//!
//! jemalloc's own `stats.allocated` needs an `epoch` refresh that walks every arena, and moves
//! in steps of its thread caches' fills and flushes (tens of KB), too costly and too coarse
//! to check `maxmemory` before every command. So each allocation and free adds its size class
//! (`nallocx`, what jemalloc really reserves for it) to a counter of the calling thread's own:
//! an uncontended atomic add on a cache line no other thread writes, unless more threads than
//! slots share one. [`allocated`] sums the slots.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering::Relaxed};

use tikv_jemallocator::Jemalloc;

/// jemalloc, with every allocation counted.
pub struct Counting;

/// One counter per slot, each on its own cache lines.
#[repr(align(128))]
struct Slot(AtomicI64);

const SLOTS: usize = 64;

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: Slot = Slot(AtomicI64::new(0));
static COUNTS: [Slot; SLOTS] = [ZERO; SLOTS];
static NEXT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's slot (`usize::MAX` until its first allocation).
    static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// The bytes allocated now, by every thread.
pub fn allocated() -> usize {
    COUNTS.iter().map(|s| s.0.load(Relaxed)).sum::<i64>().max(0) as usize
}

/// What jemalloc reserves for `layout` (its size class).
#[inline]
fn class(layout: &Layout) -> i64 {
    let flags = if layout.align() > 16 {
        layout.align().trailing_zeros() as std::ffi::c_int
    } else {
        0
    };
    // SAFETY: `nallocx` only computes a size; it reads no memory of ours.
    unsafe { tikv_jemalloc_sys::nallocx(layout.size().max(1), flags) as i64 }
}

#[inline]
fn count(delta: i64) {
    // A thread being torn down (its slot gone) counts in slot 0.
    let i = SLOT
        .try_with(|s| {
            let mut i = s.get();
            if i == usize::MAX {
                i = NEXT.fetch_add(1, Relaxed) % SLOTS;
                s.set(i);
            }
            i
        })
        .unwrap_or(0);
    COUNTS[i].0.fetch_add(delta, Relaxed);
}

// SAFETY: every call is forwarded to jemalloc unchanged; the counting touches no memory
// handed out.
unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { Jemalloc.alloc(layout) };
        if !p.is_null() {
            count(class(&layout));
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { Jemalloc.alloc_zeroed(layout) };
        if !p.is_null() {
            count(class(&layout));
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-class(&layout));
        unsafe { Jemalloc.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { Jemalloc.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // SAFETY: the caller guarantees `new_size` with `layout`'s alignment is valid.
            let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            count(class(&new) - class(&layout));
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_are_counted_by_size_class_and_freed() {
        let before = allocated() as i64;
        let v: Vec<u8> = Vec::with_capacity(100_000);
        let during = allocated() as i64;
        drop(v);
        let after = allocated() as i64;
        // Other test threads allocate too: allow some slack.
        assert!(during - before >= 100_000, "{before} {during}");
        assert!((after - before).abs() < 50_000, "{before} {after}");
    }
}
