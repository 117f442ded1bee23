//! `Db`: one database's keys on one shard, with lazy expiry. Every change of a key goes
//! through the write path (`crate::write`).
//!
//! A key whose time has passed is never returned: every lookup checks it and deletes it on the
//! spot (Redis's lazy expiry). The database keeps the time of the batch being executed (`now`),
//! set by the shard before each batch, so that all commands of a batch see one clock reading.

use rand::Rng;

use crate::table::Table;
use crate::value::Value;
use crate::write::{
    entry_mem, Book, ChangeKind, Effect, KeyListener, KeyMut, Kind, ListenerId, Version,
};
use crate::{DbIndex, OpError};

/// A key's value and its absolute expiry time in Unix milliseconds.
///
/// A stored entry is never reachable mutably from outside this crate: its value changes through
/// a [`KeyMut`] guard and its expiry through [`Db::set_expire`], so that every change runs the
/// write path (docs/write-path.md). An `Entry` owned outside a `Db` (fetched for a cross-shard
/// command, or about to be stored) is a plain value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The value.
    pub value: Value,
    /// When the key expires, in Unix milliseconds; 0 when it does not.
    expire_at: u64,
}

impl Entry {
    /// An entry holding `value`, expiring at `expire` (Unix milliseconds; `None`: never).
    pub fn new(value: Value, expire: Option<u64>) -> Self {
        Entry {
            value,
            expire_at: expire.unwrap_or(0),
        }
    }

    /// The expiry time, if any.
    pub fn expire(&self) -> Option<u64> {
        (self.expire_at != 0).then_some(self.expire_at)
    }

    /// Sets the expiry time of this (unstored) entry.
    pub fn set_expire(&mut self, expire: Option<u64>) {
        self.expire_at = expire.unwrap_or(0);
    }

    /// Whether the entry's time has passed at `now` (Unix milliseconds).
    pub fn is_expired(&self, now: u64) -> bool {
        self.expire_at != 0 && self.expire_at <= now
    }
}

/// One database's share of the keyspace on one shard.
#[derive(Default)]
pub struct Db {
    map: Table,
    /// The write path's state: expiry count, memory estimate, watched keys, listeners.
    book: Book,
    now: u64,
    /// Keys removed by expiry since start (`expired_keys` in INFO).
    pub expired_keys: u64,
    /// Lookups that found their key (`keyspace_hits`).
    pub hits: u64,
    /// Lookups that did not (`keyspace_misses`).
    pub misses: u64,
    /// Keys that clients are blocked on, and those that received a value (BLPOP and friends).
    pub blocked: crate::blocking::BlockedKeys,
    /// Where the active expiry cycle resumes its walk of the table.
    expire_cursor: u64,
    /// Running estimate of the remaining TTL of keys with one, in ms (`avg_ttl` in INFO).
    avg_ttl: u64,
    /// While a client pause holds (CLIENT PAUSE), expired keys are hidden from reads but not
    /// deleted, as Redis 7.0 keeps the dataset still during a pause.
    keep_expired: bool,
}

/// What one call of [`Db::active_expire`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExpireStats {
    /// Keys with a TTL that were looked at.
    pub sampled: usize,
    /// Keys deleted because their time had passed.
    pub expired: usize,
}

impl Db {
    /// An empty database (index 0 in change records).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty database that reports itself as database `idx` to listeners.
    pub fn with_index(idx: DbIndex) -> Self {
        let mut db = Self::default();
        db.book.idx = idx;
        db
    }

    /// Sets the time that expiry checks compare against, in Unix milliseconds.
    pub fn set_now(&mut self, now_ms: u64) {
        self.now = now_ms;
        self.map.set_clock((now_ms / 1000) as u32);
    }

    /// The time of the batch being executed, in Unix milliseconds.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Sets whether expired keys are kept (hidden from reads, not deleted) because a client
    /// pause holds; the shard sets it with the clock before each batch.
    pub fn set_keep_expired(&mut self, keep: bool) {
        self.keep_expired = keep;
    }

    /// Deletes `key` if its time has passed; true if it was deleted. Used before a change of
    /// the key, so it deletes even while a pause keeps expired keys.
    #[inline(always)]
    fn expire_if_needed(&mut self, key: &[u8]) -> bool {
        if self.book.expires == 0 {
            return false;
        }
        self.expire_checked(key, false)
    }

    /// Before a read: true if `key`'s time has passed, in which case it is deleted, or, while
    /// a client pause keeps expired keys, left in place and to be treated as missing.
    #[inline(always)]
    fn expire_for_read(&mut self, key: &[u8]) -> bool {
        if self.book.expires == 0 {
            return false;
        }
        self.expire_checked(key, self.keep_expired)
    }

    /// [`Db::expire_if_needed`] once some key has an expiry time.
    #[inline(never)]
    fn expire_checked(&mut self, key: &[u8], keep: bool) -> bool {
        let expired = match self.map.get(key) {
            Some(e) => e.is_expired(self.now),
            None => false,
        };
        if expired && !keep {
            self.unlink(key, ChangeKind::Expired);
            self.expired_keys += 1;
        }
        expired
    }

    /// Removes `key` from the table through the write path, reporting `kind`.
    #[inline]
    fn unlink(&mut self, key: &[u8], kind: ChangeKind) -> Option<Entry> {
        let e = self.map.remove(key)?;
        if e.expire_at != 0 {
            self.book.expires -= 1;
        }
        if self.book.slow() {
            self.book.unlinked(key, &e, kind);
        }
        Some(e)
    }

    /// Starts loading the table memory that looking up `keys` will touch (see
    /// [`Table::prefetch`]); a batch calls it before running its commands one by one.
    pub fn prefetch<'k>(&self, keys: impl Iterator<Item = &'k [u8]>) {
        self.map.prefetch(keys);
    }

    /// The live entry at `key`.
    pub fn entry(&mut self, key: &[u8]) -> Option<&Entry> {
        if self.expire_for_read(key) {
            return None;
        }
        self.map.get_stepping(key)
    }

    /// The live value at `key`.
    pub fn get(&mut self, key: &[u8]) -> Option<&Value> {
        self.entry(key).map(|e| &e.value)
    }

    /// The live key `key`, opened for a change in place (the only way to change a stored
    /// value; see [`KeyMut`]).
    #[inline]
    pub fn modify<'a>(&'a mut self, key: &'a [u8]) -> Option<KeyMut<'a, Value>> {
        self.expire_if_needed(key);
        let e = self.map.get_mut(key)?;
        Some(KeyMut::new(
            key,
            e,
            &mut self.book,
            &mut self.blocked,
            false,
        ))
    }

    /// The live key `key` opened for a change in place as a `T` (a list, a set, ...);
    /// `WrongType` if it holds another type.
    #[inline]
    pub fn modify_as<'a, T: Kind>(
        &'a mut self,
        key: &'a [u8],
    ) -> Result<Option<KeyMut<'a, T>>, OpError> {
        self.expire_if_needed(key);
        let Some(e) = self.map.get_mut(key) else {
            return Ok(None);
        };
        if T::of(&e.value).is_none() {
            return Err(OpError::WrongType);
        }
        Ok(Some(KeyMut::new(
            key,
            e,
            &mut self.book,
            &mut self.blocked,
            false,
        )))
    }

    /// The live key `key` opened for a change in place as a `T`, first stored (without
    /// expiry) as `make()` if missing; `WrongType` if it holds another type. A key created
    /// here is reported once, as [`ChangeKind::Set`], when the guard drops; the caller must
    /// leave a collection non-empty or delete it.
    pub fn modify_or_insert_with<'a, T: Kind>(
        &'a mut self,
        key: &'a [u8],
        make: impl FnOnce() -> Value,
    ) -> Result<KeyMut<'a, T>, OpError> {
        self.expire_if_needed(key);
        let created = self.map.get(key).is_none();
        if created {
            self.map.insert(key, Entry::new(make(), None));
        }
        let Some(e) = self.map.get_mut(key) else {
            unreachable!("the key was just found or stored");
        };
        if T::of(&e.value).is_none() {
            debug_assert!(!created, "make() must build a value of the guard's type");
            return Err(OpError::WrongType);
        }
        Ok(KeyMut::new(
            key,
            e,
            &mut self.book,
            &mut self.blocked,
            created,
        ))
    }

    /// The live entry at `key`, without counting as an access (Redis's `LOOKUP_NOTOUCH`).
    pub fn peek(&mut self, key: &[u8]) -> Option<&Entry> {
        if self.expire_for_read(key) {
            return None;
        }
        self.map.get(key)
    }

    /// Seconds since `key` was last read or written (OBJECT IDLETIME), without counting this
    /// as an access; `None` if it does not exist.
    pub fn idle_secs(&mut self, key: &[u8]) -> Option<u64> {
        if self.expire_for_read(key) {
            return None;
        }
        self.map.idle_secs(key).map(u64::from)
    }

    /// The key's LFU counter after decay (OBJECT FREQ), without counting as an access.
    pub fn freq(&mut self, key: &[u8]) -> Option<u32> {
        if self.expire_for_read(key) {
            return None;
        }
        self.map.freq(key)
    }

    /// Sets the key's LFU counter (RESTORE ... FREQ); like the access time, not a change.
    pub fn set_freq(&mut self, key: &[u8], freq: u8) -> bool {
        self.map.set_freq(key, freq)
    }

    /// Sets what accesses record in each key (see [`crate::table::Access`]).
    pub fn set_access(&mut self, access: crate::table::Access) {
        self.map.set_access(access);
    }

    /// What accesses record in each key.
    pub fn access(&self) -> crate::table::Access {
        self.map.access()
    }

    /// The keyspace table, read-only, for sampling (eviction).
    pub fn table(&self) -> &Table {
        &self.map
    }

    /// Makes `key` look idle for `secs` seconds (RESTORE ... IDLETIME); an access time is not
    /// a change, so the write path is not involved.
    pub fn set_idle_secs(&mut self, key: &[u8], secs: u32) -> bool {
        self.map.set_idle_secs(key, secs)
    }

    /// Counts a keyspace hit or miss for INFO, as Redis does for read lookups.
    pub fn count_lookup(&mut self, hit: bool) {
        if hit {
            self.hits += 1;
        } else {
            self.misses += 1;
        }
    }

    /// Whether `key` exists (and has not expired).
    pub fn contains(&mut self, key: &[u8]) -> bool {
        !self.expire_for_read(key) && self.map.get(key).is_some()
    }

    /// Stores `value` at `key`, replacing what was there, with the expiry `expire_at` (`None`:
    /// no expiry). Reported as [`ChangeKind::Set`].
    #[inline]
    pub fn insert(&mut self, key: &[u8], value: Value, expire_at: Option<u64>) {
        if self.book.slow() {
            return self.insert_slow(key, value, expire_at);
        }
        let entry = Entry::new(value, expire_at);
        if entry.expire_at != 0 {
            self.book.expires += 1;
        }
        if let Some(old) = self.map.insert(key, entry) {
            if old.expire_at != 0 {
                self.book.expires -= 1;
            }
        }
        self.blocked.signal(key);
    }

    /// [`Db::insert`] when someone observes changes or memory is tracked.
    #[inline(never)]
    fn insert_slow(&mut self, key: &[u8], value: Value, expire_at: Option<u64>) {
        if self.book.observed() {
            if let Some(old) = self.map.get(key) {
                self.book.before(key, old);
            }
        }
        let entry = Entry::new(value, expire_at);
        if entry.expire_at != 0 {
            self.book.expires += 1;
        }
        if self.book.track_memory {
            self.book.used += entry_mem(key, &entry.value);
        }
        if let Some(old) = self.map.insert(key, entry) {
            if old.expire_at != 0 {
                self.book.expires -= 1;
            }
            if self.book.track_memory {
                self.book.used -= entry_mem(key, &old.value);
            }
        }
        self.blocked.signal(key);
        if self.book.observed() {
            self.book.after(key, ChangeKind::Set, None);
        }
    }

    /// Stores `value` at `key` and keeps the key's expiry time if it had one (`KEEPTTL`).
    pub fn insert_keep_ttl(&mut self, key: &[u8], value: Value) {
        let expire = self.peek(key).and_then(Entry::expire);
        self.insert(key, value, expire);
    }

    /// Stores `entry` (its value and expiry) at `key`, replacing what was there.
    pub fn insert_entry(&mut self, key: &[u8], entry: Entry) {
        let expire = entry.expire();
        self.insert(key, entry.value, expire);
    }

    /// Sets or clears the expiry of an existing key; false if the key does not exist.
    /// Reported as [`ChangeKind::ExpireSet`] or [`ChangeKind::ExpireCleared`] (nothing when
    /// clearing the expiry of a key that had none).
    pub fn set_expire(&mut self, key: &[u8], expire_at: Option<u64>) -> bool {
        self.expire_if_needed(key);
        let Some(e) = self.map.get_mut(key) else {
            return false;
        };
        let new = expire_at.unwrap_or(0);
        if e.expire_at == 0 && new == 0 {
            return true;
        }
        if self.book.observed() {
            self.book.before(key, e);
        }
        match (e.expire_at != 0, new != 0) {
            (false, true) => self.book.expires += 1,
            (true, false) => self.book.expires -= 1,
            _ => {}
        }
        e.expire_at = new;
        if self.book.observed() {
            let kind = if new == 0 {
                ChangeKind::ExpireCleared
            } else {
                ChangeKind::ExpireSet
            };
            self.book.after(key, kind, None);
        }
        true
    }

    /// Removes `key`, returning its entry if it existed (and had not expired). Reported as
    /// [`ChangeKind::Deleted`].
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        self.expire_if_needed(key);
        let e = self.unlink(key, ChangeKind::Deleted)?;
        // Clients blocked in XREADGROUP on a deleted stream are told (Redis signals a stream's
        // deletion as it signals a store).
        if let Value::Stream(_) = e.value {
            self.blocked.signal(key);
        }
        Some(e)
    }

    /// Takes `key`'s live entry out of the table for a cross-shard transaction that holds the
    /// key locked: the transaction reads and changes it on its coordinating thread without a
    /// copy. The pre-update hook sees the old entry now (a snapshot serializes it before any
    /// change); the change itself is reported when the entry comes back through
    /// [`Db::check_in`] or [`Db::checked_out_deleted`], or not at all if it comes back unchanged.
    /// While it is out, the key is locked: nothing that respects key locks can see it missing.
    pub fn check_out(&mut self, key: &[u8]) -> Option<Entry> {
        self.expire_if_needed(key);
        let e = self.map.remove(key)?;
        if e.expire_at != 0 {
            self.book.expires -= 1;
        }
        if self.book.slow() {
            if self.book.track_memory {
                self.book.used -= entry_mem(key, &e.value);
            }
            if self.book.observed() {
                self.book.before(key, &e);
            }
        }
        Some(e)
    }

    /// Puts back an entry taken by [`Db::check_out`]. With `changed`, it is reported as stored
    /// ([`ChangeKind::Set`], waking clients blocked on the key); otherwise it goes back as if it
    /// had never left.
    pub fn check_in(&mut self, key: &[u8], entry: Entry, changed: bool) {
        if entry.expire_at != 0 {
            self.book.expires += 1;
        }
        if self.book.track_memory {
            self.book.used += entry_mem(key, &entry.value);
        }
        let displaced = self.map.insert(key, entry);
        debug_assert!(
            displaced.is_none(),
            "a checked-out key was written meanwhile"
        );
        if changed {
            self.blocked.signal(key);
            if self.book.observed() {
                self.book.after(key, ChangeKind::Set, None);
            }
        }
    }

    /// Reports that a key taken by [`Db::check_out`] was deleted by its transaction
    /// ([`ChangeKind::Deleted`]).
    pub fn checked_out_deleted(&mut self, key: &[u8]) {
        if self.book.observed() {
            self.book.after(key, ChangeKind::Deleted, None);
        }
    }

    /// Removes `key` to free memory; true if it existed. Reported as
    /// [`ChangeKind::Evicted`].
    pub fn evict(&mut self, key: &[u8]) -> bool {
        self.unlink(key, ChangeKind::Evicted).is_some()
    }

    /// The number of keys, counting ones that expired but were not yet reclaimed, as Redis's
    /// DBSIZE does.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the database holds no keys.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// How many keys have an expiry time.
    pub fn expires_count(&self) -> usize {
        self.book.expires
    }

    /// The estimated bytes this database's keys use: the sum of
    /// [`crate::write::entry_mem`] over them, kept by the write path while memory tracking is
    /// on (docs/write-path.md); `None` while it is off.
    pub fn used_memory(&self) -> Option<usize> {
        self.book.track_memory.then_some(self.book.used)
    }

    /// Turns memory tracking on or off. Turning it on counts the keys once (O(n)); from then
    /// on every change keeps [`Db::used_memory`] exact with respect to the estimate. Off (the
    /// default), changes skip the arithmetic.
    pub fn set_memory_tracking(&mut self, on: bool) {
        if on && !self.book.track_memory {
            self.book.used = self.recount_memory();
        }
        self.book.track_memory = on;
        self.book.refresh();
    }

    /// Recomputes [`Db::used_memory`] by walking every key: O(n), for checks and tests.
    pub fn recount_memory(&self) -> usize {
        self.map.iter().map(|(k, e)| entry_mem(k, &e.value)).sum()
    }

    /// Reports a flush to the write path before it happens: the pre-update hook for every key,
    /// a version bump for every watched key that exists, then [`ChangeKind::Flushed`].
    fn announce_flush(&mut self) {
        if !self.book.observed() {
            return;
        }
        if self.book.has_listeners() {
            for (k, e) in self.map.iter() {
                self.book.before(k, e);
            }
        }
        let (map, now) = (&self.map, self.now);
        self.book
            .touch_all(|k| map.get(k).map(|e| removal_effect(e, now)));
        self.book.after(b"", ChangeKind::Flushed, None);
    }

    fn reset_contents(&mut self) {
        self.book.expires = 0;
        self.book.used = 0;
        self.expire_cursor = 0;
        self.avg_ttl = 0;
    }

    /// Removes every key and hands back the old table, so that the caller can free it
    /// elsewhere (FLUSHDB ASYNC). Reported as [`ChangeKind::Flushed`].
    pub fn take_all(&mut self) -> Table {
        self.announce_flush();
        signal_waited_streams(&mut self.blocked, &self.map);
        let mut fresh = Table::new();
        fresh.set_clock((self.now / 1000) as u32);
        let old = std::mem::replace(&mut self.map, fresh);
        self.reset_contents();
        old
    }

    /// Removes every key. Reported as [`ChangeKind::Flushed`].
    pub fn clear(&mut self) {
        self.announce_flush();
        signal_waited_streams(&mut self.blocked, &self.map);
        self.map.clear();
        self.reset_contents();
    }

    /// Exchanges the contents (keys, expiry state, memory estimate) of `a` and `b` (SWAPDB).
    /// What belongs to the database index stays: blocked and watched keys, listeners. Blocked
    /// keys that now hold a value become ready, watched keys that exist in either database are
    /// touched, and both databases report [`ChangeKind::Swapped`].
    pub fn swap_contents(a: &mut Db, b: &mut Db) {
        // Both sides judge which keys are past their time by the same clock.
        let now = a.now.max(b.now);
        a.set_now(now);
        b.set_now(now);
        for db in [&mut *a, &mut *b] {
            if db.book.has_listeners() {
                for (k, e) in db.map.iter() {
                    db.book.before(k, e);
                }
            }
        }
        std::mem::swap(&mut a.map, &mut b.map);
        std::mem::swap(&mut a.expire_cursor, &mut b.expire_cursor);
        std::mem::swap(&mut a.avg_ttl, &mut b.avg_ttl);
        a.book.swap_contents(&mut b.book);
        let (ia, ib) = (a.book.idx, b.book.idx);
        a.after_swap(&b.map, ib);
        b.after_swap(&a.map, ia);
    }

    /// The write path's work on one side of a swap with database `other`, whose table (the
    /// old contents of this one) is `other_map`.
    fn after_swap(&mut self, other_map: &Table, other: DbIndex) {
        let (map, now) = (&self.map, self.now);
        self.blocked.signal_existing(|k| map.get(k).is_some());
        // Streams that this index held before the swap are gone from it: their blocked
        // XREADGROUP clients are told, as Redis's `scanDatabaseForDeletedStreams` does.
        signal_waited_streams(&mut self.blocked, other_map);
        if self.book.observed() {
            self.book
                .touch_all(|k| swap_effect(other_map.get(k), map.get(k), now));
            self.book.after(b"", ChangeKind::Swapped(other), None);
        }
    }

    /// Every key and its entry, in table order, including keys whose time has passed but
    /// that were not removed yet (SAVE writes them, as Redis's does: loading skips them).
    pub fn iter_with_expired(&self) -> impl Iterator<Item = (&[u8], &Entry)> + '_ {
        self.map.iter()
    }

    /// Every live key and its entry, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> + '_ {
        let now = self.now;
        self.map.iter().filter(move |(_, e)| !e.is_expired(now))
    }

    /// One step of a SCAN over this database: calls `f` on the live keys of the bucket at
    /// `cursor` (deleting expired ones on the way) and returns the next cursor, 0 at the end.
    /// Every key present for the whole walk is visited at least once, however the table
    /// grows or shrinks between calls.
    pub fn scan(&mut self, cursor: u64, mut f: impl FnMut(&[u8], &Entry)) -> u64 {
        let (now, keep) = (self.now, self.keep_expired);
        let book = &mut self.book;
        let mut expired = 0;
        let next = self.map.scan(cursor, |k, e| {
            if e.is_expired(now) {
                if keep {
                    return true;
                }
                expired += 1;
                reclaim_expired(book, k, e);
                return false;
            }
            f(k, e);
            true
        });
        self.expired_keys += expired as u64;
        if expired > 0 {
            self.map.shrink_if_needed();
        }
        next
    }

    /// A random live key (RANDOMKEY), deleting expired keys it lands on.
    pub fn random_key(&mut self, rng: &mut impl Rng) -> Option<Vec<u8>> {
        // Every round either returns or deletes an expired key, so this ends (with `None` once
        // only expired keys were left), as Redis's `dbRandomKey` does. While a pause keeps
        // expired keys, a table holding only keys with a TTL may never give a live one: after
        // 100 tries the last key drawn is returned, as Redis does.
        let mut tries = 100;
        loop {
            let key = self.map.random_key(rng)?.to_vec();
            if !self.expire_for_read(&key) {
                return Some(key);
            }
            if self.keep_expired && self.book.expires == self.map.len() {
                tries -= 1;
                if tries == 0 {
                    return Some(key);
                }
            }
        }
    }

    /// One round of Redis's active expiry on this database: walks the table from where the
    /// last round stopped until it has sampled `sample` keys with a TTL (or looked at
    /// `sample * 20` buckets), deleting the expired ones, and updates the `avg_ttl` estimate.
    /// The caller repeats rounds while more than a quarter of the sample was expired.
    pub fn active_expire(&mut self, sample: usize) -> ExpireStats {
        let mut stats = ExpireStats::default();
        if self.book.expires == 0 {
            return stats;
        }
        let now = self.now;
        let mut ttl_sum: u64 = 0;
        let mut ttl_n: u64 = 0;
        let mut buckets = 0;
        let mut cursor = self.expire_cursor;
        let book = &mut self.book;
        while stats.sampled < sample && buckets < sample * 20 {
            cursor = self.map.scan(cursor, |k, e| {
                if e.expire_at == 0 {
                    return true;
                }
                stats.sampled += 1;
                if e.expire_at <= now {
                    stats.expired += 1;
                    reclaim_expired(book, k, e);
                    return false;
                }
                ttl_sum += e.expire_at - now;
                ttl_n += 1;
                true
            });
            buckets += 1;
            if cursor == 0 {
                break;
            }
        }
        self.expire_cursor = cursor;
        self.expired_keys += stats.expired as u64;
        if stats.expired > 0 {
            self.map.shrink_if_needed();
        }
        if let Some(avg) = ttl_sum.checked_div(ttl_n) {
            // Redis's running average: each round weighs 2%.
            self.avg_ttl = if self.avg_ttl == 0 {
                avg
            } else {
                (self.avg_ttl / 50) * 49 + avg / 50
            };
        }
        stats
    }

    /// The running estimate of the remaining TTL of keys with one, in ms (INFO's `avg_ttl`).
    pub fn avg_ttl(&self) -> u64 {
        if self.book.expires == 0 {
            0
        } else {
            self.avg_ttl
        }
    }

    /// Moves up to `n` buckets of an incremental rehash (Redis's `activerehashing`); true if
    /// more remain.
    pub fn rehash_step(&mut self, n: usize) -> bool {
        self.map.rehash(n)
    }

    /// Starts watching `key` (WATCH): from now on every change of it, including its deletion,
    /// expiry or a flush, gives it a new [`Db::version`]. Returns the current version. Watches
    /// are counted; each must be ended with [`Db::unwatch`].
    pub fn watch(&mut self, key: &[u8]) -> Version {
        self.book.watch(key)
    }

    /// Whether `key` is present but past its time, not yet removed: a watch taken now is
    /// *stale* (see [`Db::watch_holds`]).
    pub fn is_stale(&self, key: &[u8]) -> bool {
        self.map.get(key).is_some_and(|e| e.is_expired(self.now))
    }

    /// Whether a watch of `key` taken at `version` ([`Db::watch`]), stale or not
    /// ([`Db::is_stale`] then), still holds, as Redis's EXEC decides: any change of the key
    /// breaks it, except that the removal of a key already past its time (by expiry, FLUSHDB,
    /// SWAPDB) leaves a stale watch alone, and a key that passes its time after a fresh
    /// watch breaks that watch. `false` if `key` is not watched. Expires the key first if its
    /// time has passed.
    pub fn watch_holds(&mut self, key: &[u8], version: Version, stale: bool) -> bool {
        self.expire_if_needed(key);
        self.book.watch_holds(key, version, stale).unwrap_or(false)
    }

    /// Ends one watch of `key`.
    pub fn unwatch(&mut self, key: &[u8]) {
        self.book.unwatch(key);
    }

    /// The version of a watched key: different from an earlier reading if and only if the key
    /// was touched in between (a change, a deletion, an expiry, a flush, a swap). `None` if
    /// `key` is not watched. Reading it expires the key first if its time has passed, as
    /// Redis's EXEC treats a watched key that expired as touched.
    pub fn version(&mut self, key: &[u8]) -> Option<Version> {
        self.expire_if_needed(key);
        self.book.version(key)
    }

    /// The index this database reports in change records.
    pub fn index(&self) -> DbIndex {
        self.book.idx
    }

    /// Registers `listener` under `id` (see [`crate::Shard::add_listener`]).
    pub(crate) fn add_listener(&mut self, id: ListenerId, listener: Box<dyn KeyListener>) {
        self.book.add_listener_with_id(id, listener);
    }

    /// Removes the listener `id`, giving it back.
    pub(crate) fn remove_listener(&mut self, id: ListenerId) -> Option<Box<dyn KeyListener>> {
        self.book.remove_listener(id)
    }
}

/// What removing `e` does to the watches of its key: nothing to a stale watch if it was past
/// its time, else a change.
fn removal_effect(e: &Entry, now: u64) -> Effect {
    if e.is_expired(now) {
        Effect::GONE_STALE
    } else {
        Effect::DIRTY
    }
}

/// What a SWAPDB that replaces `old` with `new` under a watched key does to its watches, as
/// Redis's `touchAllWatchedKeysInDb` decides (`None`: the key is in neither database).
fn swap_effect(old: Option<&Entry>, new: Option<&Entry>, now: u64) -> Option<Effect> {
    if old.is_none() && new.is_none() {
        return None;
    }
    let new_stale = new.map(|e| e.is_expired(now));
    Some(Effect {
        // A stale watch holds if the key is still logically absent, and stays stale if a
        // key past its time replaced it.
        on_stale: match new_stale {
            None => Some(false),
            Some(true) => Some(true),
            Some(false) => None,
        },
        // A fresh watch of an absent key holds if a key past its time replaced it, and is
        // stale from then on.
        on_fresh: (old.is_none() && new_stale == Some(true)).then_some(true),
    })
}

/// The write path's work for an expired key that a table walk is about to unlink.
fn reclaim_expired(book: &mut Book, key: &[u8], e: &Entry) {
    book.expires -= 1;
    if book.slow() {
        book.unlinked(key, e, ChangeKind::Expired);
    }
}

/// Makes ready every waited key that holds a stream in `map`: a flush or a swap is about to
/// delete it from the database whose waiters `blocked` are, or did, and its blocked XREADGROUP
/// clients are told (Redis's `scanDatabaseForDeletedStreams`).
fn signal_waited_streams(blocked: &mut crate::blocking::BlockedKeys, map: &Table) {
    if blocked.is_empty() {
        return;
    }
    blocked
        .signal_existing(|k| matches!(map.get(k), Some(e) if matches!(e.value, Value::Stream(_))));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::string::StrValue;

    fn s(v: &str) -> Value {
        Value::Str(StrValue::from_bytes(v.as_bytes()))
    }

    #[test]
    fn expired_keys_are_never_returned() {
        let mut db = Db::new();
        db.set_now(1000);
        db.insert(b"a", s("1"), Some(1500));
        db.insert(b"b", s("2"), None);
        assert_eq!(db.expires_count(), 1);
        assert!(db.get(b"a").is_some());
        db.set_now(1500);
        assert!(db.get(b"a").is_none());
        assert_eq!(db.expires_count(), 0);
        assert_eq!(db.expired_keys, 1);
        assert_eq!(db.len(), 1);
    }

    #[test]
    fn a_pause_hides_expired_keys_without_deleting_them() {
        let mut db = Db::new();
        db.set_now(1000);
        db.insert(b"a", s("1"), Some(1500));
        db.set_now(2000);
        db.set_keep_expired(true);
        assert!(db.get(b"a").is_none());
        assert!(!db.contains(b"a"));
        assert!(db.peek(b"a").is_none());
        let mut seen = 0;
        db.scan(0, |_, _| seen += 1);
        assert_eq!(seen, 0);
        assert_eq!((db.len(), db.expired_keys), (1, 0));
        db.set_keep_expired(false);
        assert!(db.get(b"a").is_none());
        assert_eq!((db.len(), db.expired_keys), (0, 1));
    }

    #[test]
    fn random_key_skips_and_deletes_expired_keys() {
        use rand::SeedableRng;
        let mut rng = rand::rngs::SmallRng::seed_from_u64(9);
        let mut db = Db::new();
        db.set_now(1000);
        for i in 0..500 {
            db.insert(format!("e{i}").as_bytes(), s("x"), Some(1001));
        }
        db.insert(b"live", s("1"), None);
        db.set_now(2000);
        assert_eq!(db.random_key(&mut rng), Some(b"live".to_vec()));
        db.remove(b"live");
        assert_eq!(db.random_key(&mut rng), None);
    }

    #[test]
    fn insert_replaces_and_tracks_expiry_count() {
        let mut db = Db::new();
        db.insert(b"a", s("1"), Some(10));
        db.insert(b"a", s("2"), None);
        assert_eq!(db.expires_count(), 0);
        db.insert_keep_ttl(b"a", s("3"));
        assert!(db.set_expire(b"a", Some(99)));
        db.insert_keep_ttl(b"a", s("4"));
        assert_eq!(db.entry(b"a").unwrap().expire(), Some(99));
        assert!(db.remove(b"a").is_some());
        assert_eq!(db.expires_count(), 0);
        assert!(!db.set_expire(b"a", Some(5)));
    }
}
