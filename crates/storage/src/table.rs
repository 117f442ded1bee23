//! `Table`: the keyspace hash table of one database on one shard.
//!
//! A chained hash table with power-of-two bucket arrays and Redis's incremental rehashing: when
//! it grows or shrinks, a second array is allocated and buckets move over a few at a time, on
//! each access and on the periodic tick, so no single command pays for moving a million keys.
//!
//! It exists (rather than a `hashbrown` map) for two things Redis's keyspace guarantees and an
//! open-addressing map cannot: a SCAN cursor (reverse-binary bucket order) that returns every
//! key present for the whole scan at least once even while the table grows, shrinks or
//! rehashes, and cheap sampling of buckets for active expiry and RANDOMKEY.
//!
//! It must not know about expiry times or values: `Db` owns those rules.

use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use rand::Rng;

use crate::db::Entry;

/// A key's bytes, inline when short (most keys) so that a key costs one allocation (its node)
/// instead of two, and the LRU clock (seconds) when the key was last accessed, for OBJECT
/// IDLETIME. The clock sits in each variant so that it shares the 24 bytes the key takes
/// anyway instead of padding the node into the next allocator size class.
enum KeyBuf {
    Inline {
        lru: u32,
        len: u8,
        buf: [u8; KEY_INLINE_MAX],
    },
    Heap {
        lru: u32,
        bytes: Box<[u8]>,
    },
}

/// Keys up to this long live inside their node: the most that keeps `KeyBuf` at 24 bytes. It
/// covers the usual short keys (`key:000000012345`, `user:1234567890`).
const KEY_INLINE_MAX: usize = 18;

impl KeyBuf {
    fn new(key: &[u8], lru: u32) -> KeyBuf {
        if key.len() <= KEY_INLINE_MAX {
            let mut buf = [0u8; KEY_INLINE_MAX];
            buf[..key.len()].copy_from_slice(key);
            KeyBuf::Inline {
                lru,
                len: key.len() as u8,
                buf,
            }
        } else {
            KeyBuf::Heap {
                lru,
                bytes: key.into(),
            }
        }
    }

    fn lru(&self) -> u32 {
        match self {
            KeyBuf::Inline { lru, .. } | KeyBuf::Heap { lru, .. } => *lru,
        }
    }

    fn set_lru(&mut self, clock: u32) {
        match self {
            KeyBuf::Inline { lru, .. } | KeyBuf::Heap { lru, .. } => *lru = clock,
        }
    }
}

/// A key being looked up, zero-padded like an inline key's buffer, so that comparing it with
/// an inline key is one fixed-size comparison instead of a `memcmp` call per node.
struct Probe<'a> {
    key: &'a [u8],
    padded: [u8; KEY_INLINE_MAX],
}

impl<'a> Probe<'a> {
    #[inline]
    fn new(key: &'a [u8]) -> Probe<'a> {
        let mut padded = [0u8; KEY_INLINE_MAX];
        if key.len() <= KEY_INLINE_MAX {
            padded[..key.len()].copy_from_slice(key);
        }
        Probe { key, padded }
    }
}

impl KeyBuf {
    /// Whether this is the probed key. An inline buffer is zero past the key (`KeyBuf::new`),
    /// as the probe's is, so equal lengths and equal buffers mean equal keys.
    #[inline]
    fn matches(&self, p: &Probe) -> bool {
        match self {
            KeyBuf::Inline { len, buf, .. } => *len as usize == p.key.len() && *buf == p.padded,
            KeyBuf::Heap { bytes, .. } => **bytes == *p.key,
        }
    }
}

impl std::ops::Deref for KeyBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            KeyBuf::Inline { len, buf, .. } => &buf[..*len as usize],
            KeyBuf::Heap { bytes, .. } => bytes,
        }
    }
}

/// One stored key: 80 bytes, one jemalloc size class below what a separate `lru` field or a
/// bigger `Value` would cost (see `nodes_stay_small`).
struct Node {
    key: KeyBuf,
    entry: Entry,
    next: Option<Box<Node>>,
}

/// One bucket array; `buckets.len()` is 0 or a power of two.
#[derive(Default)]
struct Arr {
    buckets: Vec<Option<Box<Node>>>,
    used: usize,
}

impl Arr {
    fn with_size(n: usize) -> Arr {
        let mut buckets = Vec::with_capacity(n);
        buckets.resize_with(n, || None);
        Arr { buckets, used: 0 }
    }

    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }
}

/// The smallest bucket array.
const MIN_SIZE: usize = 4;
/// How many empty buckets one rehash step may skip before it stops, as Redis bounds it.
const EMPTY_VISITS: usize = 10;

/// The load factor (in thousandths) up to which a table may be kept from growing for memory
/// (Redis's `HASHTABLE_MAX_LOAD_FACTOR`, 1.618).
const MAX_LOAD_PER_MILLE: usize = 1618;

/// Decides whether a table may allocate this many more bytes for a bigger bucket array.
pub type ExpandGuard = fn(usize) -> bool;

thread_local! {
    /// This thread's [`ExpandGuard`] (set by the server from `maxmemory`; none: always).
    static EXPAND_GUARD: std::cell::Cell<Option<ExpandGuard>> =
        const { std::cell::Cell::new(None) };
}

/// Sets what decides, on this thread, whether a table may grow its bucket array by `n`
/// bytes (see [`Table`]'s insertions); `None` lets it always.
pub fn set_expand_guard(f: Option<ExpandGuard>) {
    EXPAND_GUARD.set(f);
}

fn expand_allowed(more: usize) -> bool {
    EXPAND_GUARD.get().is_none_or(|f| f(more))
}

/// A chained hash table of keys to entries with incremental rehashing and a stable SCAN cursor.
#[derive(Default)]
pub struct Table {
    arr: [Arr; 2],
    /// Next bucket of `arr[0]` to move into `arr[1]`; `None` when not rehashing.
    rehash_idx: Option<usize>,
    hasher: RandomState,
    /// The LRU clock in seconds that accesses stamp keys with.
    clock: u32,
    /// What an access writes into a key's `lru` word (see [`Access`]).
    access: Access,
    /// A xorshift state for LFU's probabilistic increments (no `Rng` borrow on lookups).
    lfu_rng: u64,
}

/// What a key's 32-bit `lru` word holds, as Redis's 24-bit `robj.lru` does: under an LRU (or
/// no) `maxmemory-policy` the clock in seconds of the last access; under an LFU policy the
/// time of the last decrement in minutes (16 bits) above an 8-bit logarithmic access counter.
/// Switching modes does not convert the words: like Redis, old keys read oddly until touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// Stamp the clock (OBJECT IDLETIME, LRU eviction).
    #[default]
    Lru,
    /// Count accesses (OBJECT FREQ, LFU eviction) with `lfu-log-factor` and `lfu-decay-time`.
    Lfu {
        /// `lfu-log-factor`: how slowly the counter grows.
        log_factor: u32,
        /// `lfu-decay-time`: minutes per decrement when a key is not accessed (0: never).
        decay_minutes: u32,
    },
}

/// The counter a new key starts with under LFU, so it is not evicted before it had a chance
/// to be read (Redis's `LFU_INIT_VAL`).
pub const LFU_INIT_VAL: u32 = 5;

/// The LFU clock: minutes, 16 bits (Redis's `LFUGetTimeInMinutes`).
fn lfu_minutes(clock_secs: u32) -> u32 {
    (clock_secs / 60) & 0xffff
}

/// The counter of an LFU word after decay at `clock_secs` (Redis's `LFUDecrAndReturn`).
pub fn lfu_decayed(word: u32, clock_secs: u32, decay_minutes: u32) -> u32 {
    // A word written in LRU mode reads as an odd time here (the mode changed): mask it.
    let ldt = (word >> 8) & 0xffff;
    let counter = word & 0xff;
    if decay_minutes == 0 {
        return counter;
    }
    let now = lfu_minutes(clock_secs);
    let elapsed = if now >= ldt {
        now - ldt
    } else {
        65535 - ldt + now
    };
    let periods = elapsed / decay_minutes;
    counter.saturating_sub(periods)
}

impl Table {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    fn hash(&self, key: &[u8]) -> usize {
        self.hasher.hash_one(key) as usize
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.arr[0].used + self.arr[1].used
    }

    /// Whether the table holds no keys.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of buckets (both arrays while rehashing).
    pub fn buckets(&self) -> usize {
        self.arr[0].buckets.len() + self.arr[1].buckets.len()
    }

    /// Whether an incremental rehash is in progress.
    pub fn is_rehashing(&self) -> bool {
        self.rehash_idx.is_some()
    }

    /// Moves up to `n` buckets from the old array to the new one; true if more remain.
    pub fn rehash(&mut self, n: usize) -> bool {
        let Some(mut idx) = self.rehash_idx else {
            return false;
        };
        let mut empty_visits = n * EMPTY_VISITS;
        let mut n = n;
        while n > 0 && self.arr[0].used > 0 {
            n -= 1;
            while self.arr[0].buckets[idx].is_none() {
                idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_idx = Some(idx);
                    return true;
                }
            }
            let mut chain = self.arr[0].buckets[idx].take();
            while let Some(mut node) = chain {
                chain = node.next.take();
                let b = self.hash(&node.key) & self.arr[1].mask();
                node.next = self.arr[1].buckets[b].take();
                self.arr[1].buckets[b] = Some(node);
                self.arr[0].used -= 1;
                self.arr[1].used += 1;
            }
            idx += 1;
        }
        if self.arr[0].used == 0 {
            self.arr[0] = std::mem::take(&mut self.arr[1]);
            self.rehash_idx = None;
            // Deletes during the rehash may have left the new array too big already.
            self.shrink_if_needed();
            return self.rehash_idx.is_some();
        }
        self.rehash_idx = Some(idx);
        true
    }

    fn step(&mut self) {
        if self.rehash_idx.is_some() {
            self.rehash(1);
        }
    }

    /// Starts a rehash into an array of `size` buckets (a power of two).
    fn resize_to(&mut self, size: usize) {
        if self.rehash_idx.is_some() || size == self.arr[0].buckets.len() {
            return;
        }
        if self.arr[0].buckets.is_empty() {
            self.arr[0] = Arr::with_size(size);
            return;
        }
        self.arr[1] = Arr::with_size(size);
        self.rehash_idx = Some(0);
    }

    fn grow_if_needed(&mut self) {
        if self.rehash_idx.is_some() {
            return;
        }
        let size = self.arr[0].buckets.len();
        if size == 0 {
            self.resize_to(MIN_SIZE);
        } else if self.arr[0].used >= size {
            let new_size = (self.arr[0].used + 1).next_power_of_two();
            // Redis's `dictExpandAllowed`: below its maximum load factor, a table does not
            // grow when the new bucket array would put the server over `maxmemory` (it
            // would only make keys be evicted); the chains get longer instead.
            let more = new_size * std::mem::size_of::<Option<Box<Node>>>();
            if self.arr[0].used * 1000 <= size * MAX_LOAD_PER_MILLE && !expand_allowed(more) {
                return;
            }
            self.resize_to(new_size);
        }
    }

    /// Shrinks the bucket array when it is less than a tenth full, as Redis does.
    pub fn shrink_if_needed(&mut self) {
        if self.rehash_idx.is_some() {
            return;
        }
        let size = self.arr[0].buckets.len();
        let used = self.arr[0].used;
        if size > MIN_SIZE && used * 10 < size {
            self.resize_to(used.next_power_of_two().max(MIN_SIZE));
        }
    }

    /// Starts loading into the cache what looking up each of `keys` will touch: the bucket
    /// slot, then the first node of its chain (the node holds the key and the entry head).
    /// A pipelined batch of lookups otherwise pays two cache misses per command one after
    /// another; issued together, the misses overlap. It changes nothing and reads nothing
    /// that a lookup would not.
    pub fn prefetch<'k>(&self, keys: impl Iterator<Item = &'k [u8]>) {
        const CHUNK: usize = 16;
        let a = &self.arr[0];
        if a.buckets.is_empty() || self.rehash_idx.is_some() {
            return;
        }
        let mask = a.mask();
        let mut slots = [0usize; CHUNK];
        let mut keys = keys.peekable();
        while keys.peek().is_some() {
            let mut n = 0;
            for k in keys.by_ref().take(CHUNK) {
                let i = self.hash(k) & mask;
                prefetch_line(&a.buckets[i] as *const _ as *const u8);
                slots[n] = i;
                n += 1;
            }
            for &i in &slots[..n] {
                if let Some(node) = a.buckets[i].as_deref() {
                    let p = node as *const Node as *const u8;
                    prefetch_line(p);
                    prefetch_line(p.wrapping_add(64));
                }
            }
        }
    }

    /// Where `key` is: the bucket array, and how many nodes into its chain.
    fn locate(&self, key: &[u8]) -> Option<(usize, usize, usize)> {
        if self.is_empty() {
            return None;
        }
        let h = self.hash(key);
        let probe = Probe::new(key);
        for t in 0..2 {
            let a = &self.arr[t];
            if a.buckets.is_empty() || (t == 1 && self.rehash_idx.is_none()) {
                continue;
            }
            let b = h & a.mask();
            let mut cur = a.buckets[b].as_deref();
            let mut depth = 0;
            while let Some(n) = cur {
                if n.key.matches(&probe) {
                    return Some((t, b, depth));
                }
                cur = n.next.as_deref();
                depth += 1;
            }
        }
        None
    }

    fn find(&self, key: &[u8]) -> Option<&Node> {
        let (t, b, depth) = self.locate(key)?;
        let mut n = self.arr[t].buckets[b].as_deref()?;
        for _ in 0..depth {
            n = n.next.as_deref()?;
        }
        Some(n)
    }

    fn find_mut(&mut self, key: &[u8]) -> Option<&mut Node> {
        // Look first, then borrow mutably, stepping to the node found without comparing keys
        // again: the borrow checker cannot follow a loop that returns a mutable reference from
        // one array and moves on to the other.
        let (t, b, depth) = self.locate(key)?;
        let mut n = self.arr[t].buckets[b].as_deref_mut()?;
        for _ in 0..depth {
            n = n.next.as_deref_mut()?;
        }
        Some(n)
    }

    /// The entry at `key`.
    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.find(key).map(|n| &n.entry)
    }

    /// The entry at `key`, after one incremental rehash step.
    pub fn get_stepping(&mut self, key: &[u8]) -> Option<&Entry> {
        self.step();
        let st = self.stamper();
        self.find_mut(key).map(|n| {
            n.key.set_lru(st.touch(n.key.lru()));
            &n.entry
        })
    }

    /// The entry at `key`, mutable, stamping it as accessed.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.step();
        let st = self.stamper();
        self.find_mut(key).map(|n| {
            n.key.set_lru(st.touch(n.key.lru()));
            &mut n.entry
        })
    }

    /// Sets the LRU clock (seconds) that accesses stamp keys with.
    pub fn set_clock(&mut self, secs: u32) {
        self.clock = secs;
    }

    /// Sets what accesses record (see [`Access`]).
    pub fn set_access(&mut self, access: Access) {
        self.access = access;
    }

    /// What accesses record.
    pub fn access(&self) -> Access {
        self.access
    }

    /// What one access writes, with this access's random draw taken (LFU only) before the
    /// lookup borrows the table.
    #[inline]
    fn stamper(&mut self) -> Stamper {
        let draw = match self.access {
            Access::Lru => 0.0,
            Access::Lfu { .. } => {
                // xorshift64*: a uniform draw in [0, 1) without borrowing an `Rng`.
                let mut x = self.lfu_rng | 1;
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                self.lfu_rng = x;
                (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
            }
        };
        Stamper {
            clock: self.clock,
            access: self.access,
            draw,
        }
    }

    /// The `lru` word a new key starts with.
    fn fresh_word(&self) -> u32 {
        match self.access {
            Access::Lru => self.clock,
            Access::Lfu { .. } => (lfu_minutes(self.clock) << 8) | LFU_INIT_VAL,
        }
    }

    /// The key's `lru` word, without counting this as an access.
    pub fn lru_word(&self, key: &[u8]) -> Option<u32> {
        self.find(key).map(|n| n.key.lru())
    }

    /// The key's LFU counter after decay (OBJECT FREQ), without counting this as an access;
    /// meaningful under [`Access::Lfu`].
    pub fn freq(&self, key: &[u8]) -> Option<u32> {
        let decay = match self.access {
            Access::Lfu { decay_minutes, .. } => decay_minutes,
            Access::Lru => 0,
        };
        self.find(key)
            .map(|n| lfu_decayed(n.key.lru(), self.clock, decay))
    }

    /// Sets the key's LFU counter (RESTORE ... FREQ); false if it is not stored.
    pub fn set_freq(&mut self, key: &[u8], freq: u8) -> bool {
        let word = (lfu_minutes(self.clock) << 8) | freq as u32;
        self.find_mut(key).map(|n| n.key.set_lru(word)).is_some()
    }

    /// How evictable an `lru` word makes its key under the current mode: the idle seconds
    /// under LRU, `255 - counter` under LFU (higher is evicted first, as in Redis's pool).
    pub fn idle_score(&self, word: u32) -> u64 {
        match self.access {
            Access::Lru => self.clock.wrapping_sub(word) as u64,
            Access::Lfu { decay_minutes, .. } => {
                255 - lfu_decayed(word, self.clock, decay_minutes) as u64
            }
        }
    }

    /// Calls `f(key, lru word, entry)` on the keys of consecutive buckets from a random one
    /// (Redis's `dictGetSomeKeys`), until `f` has accepted `want` keys (returned true) or
    /// `max_buckets` buckets were visited.
    pub fn sample(
        &self,
        rng: &mut impl Rng,
        want: usize,
        max_buckets: usize,
        mut f: impl FnMut(&[u8], u32, &Entry) -> bool,
    ) {
        let s0 = self.arr[0].buckets.len();
        let s1 = if self.rehash_idx.is_some() {
            self.arr[1].buckets.len()
        } else {
            0
        };
        let total = s0 + s1;
        if total == 0 || self.is_empty() || want == 0 {
            return;
        }
        let mut i = rng.gen_range(0..total);
        let mut taken = 0;
        for _ in 0..max_buckets.min(total) {
            let b = if i < s0 {
                &self.arr[0].buckets[i]
            } else {
                &self.arr[1].buckets[i - s0]
            };
            let mut cur = b.as_deref();
            while let Some(n) = cur {
                if f(&n.key, n.key.lru(), &n.entry) {
                    taken += 1;
                    if taken >= want {
                        return;
                    }
                }
                cur = n.next.as_deref();
            }
            i += 1;
            if i == total {
                i = 0;
            }
        }
    }

    /// Seconds since `key` was last accessed, without counting this as an access.
    pub fn idle_secs(&self, key: &[u8]) -> Option<u32> {
        self.find(key).map(|n| self.clock.wrapping_sub(n.key.lru()))
    }

    /// Makes `key` look last accessed `secs` seconds ago (RESTORE ... IDLETIME); false if it
    /// is not stored.
    pub fn set_idle_secs(&mut self, key: &[u8], secs: u32) -> bool {
        let clock = self.clock.wrapping_sub(secs);
        self.find_mut(key).map(|n| n.key.set_lru(clock)).is_some()
    }

    /// Stores `entry` at `key`; returns the entry it replaced.
    pub fn insert(&mut self, key: &[u8], entry: Entry) -> Option<Entry> {
        self.step();
        let st = self.stamper();
        if let Some(n) = self.find_mut(key) {
            n.key.set_lru(st.touch(n.key.lru()));
            return Some(std::mem::replace(&mut n.entry, entry));
        }
        let clock = self.fresh_word();
        self.grow_if_needed();
        let t = if self.rehash_idx.is_some() { 1 } else { 0 };
        let b = self.hash(key) & self.arr[t].mask();
        let a = &mut self.arr[t];
        let next = a.buckets[b].take();
        a.buckets[b] = Some(Box::new(Node {
            key: KeyBuf::new(key, clock),
            entry,
            next,
        }));
        a.used += 1;
        None
    }

    /// Removes `key`; returns its entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        if self.is_empty() {
            return None;
        }
        self.step();
        let (t, b, depth) = self.locate(key)?;
        let node = unlink(&mut self.arr[t].buckets[b], depth)?;
        self.arr[t].used -= 1;
        self.shrink_if_needed();
        Some(node.entry)
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        *self = Table {
            hasher: self.hasher,
            clock: self.clock,
            access: self.access,
            lfu_rng: self.lfu_rng,
            ..Table::default()
        };
    }

    /// Every key and entry, in bucket order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> + '_ {
        self.arr.iter().flat_map(|a| {
            a.buckets.iter().flat_map(|b| {
                let mut cur = b.as_deref();
                std::iter::from_fn(move || {
                    let n = cur?;
                    cur = n.next.as_deref();
                    Some((&n.key[..], &n.entry))
                })
            })
        })
    }

    /// Visits one bucket of the scan at `cursor` (every node that hashes to it in each array),
    /// calling `f` on each key; `f` returns false to delete the key. Returns the next cursor, 0
    /// when the walk is complete. This is Redis's `dictScan`: the cursor counts in reverse
    /// binary over the bucket bits, so a key that stays in the table is visited at least once
    /// whatever resizing happens between calls.
    pub fn scan(&mut self, cursor: u64, mut f: impl FnMut(&[u8], &mut Entry) -> bool) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let mut v = cursor as usize;
        let mut removed = [0usize; 2];
        let m0;
        if self.rehash_idx.is_none() {
            m0 = self.arr[0].mask();
            removed[0] += visit(&mut self.arr[0].buckets[v & m0], &mut f);
        } else {
            // The smaller array's bucket first, then every bucket of the larger one that its
            // keys can have moved to.
            let (small, large) = if self.arr[0].buckets.len() <= self.arr[1].buckets.len() {
                (0, 1)
            } else {
                (1, 0)
            };
            m0 = self.arr[small].mask();
            let m1 = self.arr[large].mask();
            removed[small] += visit(&mut self.arr[small].buckets[v & m0], &mut f);
            loop {
                removed[large] += visit(&mut self.arr[large].buckets[v & m1], &mut f);
                v = (((v | m0).wrapping_add(1)) & !m0) | (v & m0);
                if v & (m0 ^ m1) == 0 {
                    break;
                }
            }
        }
        self.arr[0].used -= removed[0];
        self.arr[1].used -= removed[1];
        v |= !m0;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v = v.reverse_bits();
        v as u64
    }

    /// A uniformly chosen non-empty bucket, then a uniformly chosen key in it (Redis's
    /// `dictGetRandomKey`).
    pub fn random_key(&mut self, rng: &mut impl Rng) -> Option<&[u8]> {
        if self.is_empty() {
            return None;
        }
        self.step();
        let (t, b) = loop {
            match self.rehash_idx {
                Some(idx) => {
                    let s0 = self.arr[0].buckets.len();
                    let s1 = self.arr[1].buckets.len();
                    // Buckets of the old array below `idx` are empty.
                    let i = rng.gen_range(idx..s0 + s1);
                    let (t, b) = if i >= s0 { (1, i - s0) } else { (0, i) };
                    if self.arr[t].buckets[b].is_some() {
                        break (t, b);
                    }
                }
                None => {
                    let b = rng.gen_range(0..self.arr[0].buckets.len());
                    if self.arr[0].buckets[b].is_some() {
                        break (0, b);
                    }
                }
            }
        };
        let head = self.arr[t].buckets[b].as_deref()?;
        let mut len = 0;
        let mut cur = Some(head);
        while let Some(n) = cur {
            len += 1;
            cur = n.next.as_deref();
        }
        let mut pick = rng.gen_range(0..len);
        let mut cur = head;
        while pick > 0 {
            cur = cur.next.as_deref()?;
            pick -= 1;
        }
        Some(&cur.key)
    }
}

/// One access's update of a key's `lru` word (see [`Table::stamper`]).
#[derive(Clone, Copy)]
struct Stamper {
    clock: u32,
    access: Access,
    draw: f64,
}

impl Stamper {
    /// The word after an access: the clock (LRU), or the decayed counter incremented with
    /// probability `1 / ((counter - LFU_INIT_VAL) * log_factor + 1)` (Redis's `updateLFU`).
    #[inline]
    fn touch(self, old: u32) -> u32 {
        match self.access {
            Access::Lru => self.clock,
            Access::Lfu {
                log_factor,
                decay_minutes,
            } => {
                let mut counter = lfu_decayed(old, self.clock, decay_minutes);
                if counter < 255 {
                    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
                    if self.draw < 1.0 / (base * log_factor as f64 + 1.0) {
                        counter += 1;
                    }
                }
                (lfu_minutes(self.clock) << 8) | counter
            }
        }
    }
}

/// Removes the node `depth` nodes into the chain that starts at `slot`.
fn unlink(mut slot: &mut Option<Box<Node>>, depth: usize) -> Option<Box<Node>> {
    for _ in 0..depth {
        slot = &mut slot.as_mut()?.next;
    }
    let mut node = slot.take()?;
    *slot = node.next.take();
    Some(node)
}

/// Calls `f` on every node of a chain, deleting those it rejects; returns how many it deleted.
fn visit(slot: &mut Option<Box<Node>>, f: &mut impl FnMut(&[u8], &mut Entry) -> bool) -> usize {
    let mut removed = 0;
    let mut slot = slot;
    loop {
        let keep = match slot {
            None => return removed,
            Some(n) => f(&n.key, &mut n.entry),
        };
        if keep {
            match slot {
                Some(n) => slot = &mut n.next,
                None => return removed,
            }
        } else if let Some(mut node) = slot.take() {
            *slot = node.next.take();
            removed += 1;
        }
    }
}

/// Asks the CPU to bring the cache line holding `p` closer; a hint, never a memory access
/// that can fault, so any address is fine.
#[inline(always)]
fn prefetch_line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 is only a hint: it does not read memory architecturally and cannot
    // fault, whatever the address; SSE is part of the x86_64 baseline.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use rand::SeedableRng;

    use super::*;
    use crate::string::StrValue;
    use crate::Value;

    #[test]
    fn keys_differing_only_in_trailing_zeros_or_length_stay_distinct() {
        let mut t = Table::new();
        let keys: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"a".to_vec(),
            b"a\0".to_vec(),
            b"a\0\0".to_vec(),
            vec![b'k'; KEY_INLINE_MAX],
            vec![b'k'; KEY_INLINE_MAX + 1],
            [vec![b'k'; KEY_INLINE_MAX], vec![0]].concat(),
        ];
        for (i, k) in keys.iter().enumerate() {
            t.insert(k, e(i as i64));
        }
        assert_eq!(t.len(), keys.len());
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(t.get(k), Some(&e(i as i64)), "{k:?}");
        }
        assert!(t.get(b"\0").is_none());
        assert!(t.remove(b"a\0").is_some());
        assert_eq!(t.get(b"a"), Some(&e(1)));
        assert_eq!(t.get(b"a\0\0"), Some(&e(3)));
    }

    #[test]
    fn prefetch_leaves_every_lookup_as_it_was() {
        let mut t = Table::new();
        t.prefetch([&b"nothing yet"[..]].into_iter());
        for i in 0..1000i64 {
            t.insert(format!("k{i}").as_bytes(), e(i));
            if i % 100 == 0 {
                // Also while an incremental rehash is under way.
                let keys: Vec<String> = (0..=i + 50).map(|j| format!("k{j}")).collect();
                t.prefetch(keys.iter().map(|k| k.as_bytes()));
            }
        }
        let keys: Vec<String> = (0..1100).map(|j| format!("k{j}")).collect();
        t.prefetch(keys.iter().map(|k| k.as_bytes()));
        assert_eq!(t.len(), 1000);
        for (j, k) in keys.iter().enumerate() {
            assert_eq!(t.get(k.as_bytes()).is_some(), j < 1000, "{k}");
        }
    }

    fn e(n: i64) -> Entry {
        Entry::new(Value::Str(StrValue::Int(n)), None)
    }

    #[test]
    fn insert_get_remove_across_rehashes() {
        let mut t = Table::new();
        for i in 0..10_000i64 {
            assert!(t.insert(i.to_string().as_bytes(), e(i)).is_none());
        }
        assert_eq!(t.len(), 10_000);
        for i in 0..10_000i64 {
            assert_eq!(t.get(i.to_string().as_bytes()), Some(&e(i)));
        }
        assert_eq!(t.insert(b"5", e(-5)), Some(e(5)));
        for i in 0..9_990i64 {
            assert!(t.remove(i.to_string().as_bytes()).is_some());
        }
        assert!(t.remove(b"1").is_none());
        assert_eq!(t.len(), 10);
        while t.rehash(100) {}
        assert!(t.buckets() < 100);
        assert_eq!(t.iter().count(), 10);
    }

    #[test]
    fn scan_returns_every_stable_key_while_the_table_grows() {
        let mut t = Table::new();
        for i in 0..1000i64 {
            t.insert(format!("k{i}").as_bytes(), e(i));
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut extra = 0i64;
        loop {
            cursor = t.scan(cursor, |k, _| {
                seen.insert(k.to_vec());
                true
            });
            // Grow the table (and keep it rehashing) in the middle of the walk.
            for _ in 0..3 {
                if extra < 5000 {
                    t.insert(format!("x{extra}").as_bytes(), e(extra));
                    extra += 1;
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1000 {
            assert!(seen.contains(format!("k{i}").as_bytes()), "missed k{i}");
        }
    }

    #[test]
    fn scan_returns_every_stable_key_while_the_table_shrinks() {
        let mut t = Table::new();
        for i in 0..5000i64 {
            t.insert(format!("k{i}").as_bytes(), e(i));
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut next_del = 100;
        loop {
            cursor = t.scan(cursor, |k, _| {
                seen.insert(k.to_vec());
                true
            });
            for _ in 0..40 {
                if next_del < 5000 {
                    t.remove(format!("k{next_del}").as_bytes());
                    next_del += 1;
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..100 {
            assert!(seen.contains(format!("k{i}").as_bytes()), "missed k{i}");
        }
    }

    #[test]
    fn nodes_stay_small() {
        // jemalloc's size classes go 64, 80, 96: a node must stay within 80 bytes, which is
        // what makes a short string key cost less than in Redis.
        assert!(
            std::mem::size_of::<Node>() <= 80,
            "{}",
            std::mem::size_of::<Node>()
        );
        assert_eq!(std::mem::size_of::<KeyBuf>(), 24);
        assert_eq!(std::mem::size_of::<Value>(), 40);
        let long = [b'x'; 40];
        let edge = [b'y'; KEY_INLINE_MAX];
        let over = [b'z'; KEY_INLINE_MAX + 1];
        let mut t = Table::new();
        t.set_clock(7);
        t.insert(&long, e(1));
        t.insert(b"short", e(2));
        t.insert(&edge, e(3));
        t.insert(&over, e(4));
        assert_eq!(t.get(&long), Some(&e(1)));
        assert_eq!(t.get(&edge), Some(&e(3)));
        assert_eq!(t.get(&over), Some(&e(4)));
        assert_eq!(
            t.iter().map(|(k, _)| k.len()).sum::<usize>(),
            45 + 2 * KEY_INLINE_MAX + 1
        );
        // The access clock lives in the key, inline or not.
        t.set_clock(10);
        assert_eq!(t.idle_secs(&long), Some(3));
        assert_eq!(t.idle_secs(b"short"), Some(3));
        t.get_mut(&long);
        t.get_stepping(b"short");
        assert_eq!(t.idle_secs(&long), Some(0));
        assert_eq!(t.idle_secs(b"short"), Some(0));
        assert_eq!(t.idle_secs(&over), Some(3));
        t.insert(&over, e(5));
        assert_eq!(t.idle_secs(&over), Some(0));
    }

    #[test]
    fn scan_can_delete_and_random_key_finds_keys() {
        let mut t = Table::new();
        for i in 0..100i64 {
            t.insert(format!("k{i}").as_bytes(), e(i));
        }
        let mut cursor = 0;
        loop {
            cursor = t.scan(cursor, |_, e| e.value != Value::Str(StrValue::Int(7)));
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(t.len(), 99);
        assert!(t.get(b"k7").is_none());
        let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
        let k = t.random_key(&mut rng).map(|k| k.to_vec()).unwrap();
        assert!(t.get(&k).is_some());
        let mut empty = Table::new();
        assert!(empty.random_key(&mut rng).is_none());
        assert_eq!(empty.scan(0, |_, _| true), 0);
    }
}
