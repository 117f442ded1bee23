//! `Db`: one database's keys on one shard, with lazy expiry.
//!
//! A key whose time has passed is never returned: every lookup checks it and deletes it on the
//! spot (Redis's lazy expiry). The database keeps the time of the batch being executed (`now`),
//! set by the shard before each batch, so that all commands of a batch see one clock reading.

use rand::Rng;

use crate::table::Table;
use crate::value::Value;

/// A stored key: its value and its absolute expiry time in Unix milliseconds (0: none).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The value.
    pub value: Value,
    /// When the key expires, in Unix milliseconds; 0 when it does not.
    pub expire_at: u64,
}

impl Entry {
    /// The expiry time, if any.
    pub fn expire(&self) -> Option<u64> {
        (self.expire_at != 0).then_some(self.expire_at)
    }
}

/// One database's share of the keyspace on one shard.
#[derive(Default)]
pub struct Db {
    map: Table,
    /// How many keys have an expiry time.
    expires: usize,
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
    /// An empty database.
    pub fn new() -> Self {
        Self::default()
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

    /// Deletes `key` if its time has passed; true if it was deleted.
    fn expire_if_needed(&mut self, key: &[u8]) -> bool {
        if self.expires == 0 {
            return false;
        }
        let expired = match self.map.get(key) {
            Some(e) => e.expire_at != 0 && e.expire_at <= self.now,
            None => false,
        };
        if expired {
            self.map.remove(key);
            self.expires -= 1;
            self.expired_keys += 1;
        }
        expired
    }

    /// Starts loading the table memory that looking up `keys` will touch (see
    /// [`Table::prefetch`]); a batch calls it before running its commands one by one.
    pub fn prefetch<'k>(&self, keys: impl Iterator<Item = &'k [u8]>) {
        self.map.prefetch(keys);
    }

    /// The live entry at `key`.
    pub fn entry(&mut self, key: &[u8]) -> Option<&Entry> {
        self.expire_if_needed(key);
        self.map.get_stepping(key)
    }

    /// The live entry at `key`, mutable. Changing `expire_at` through it is not allowed; use
    /// [`Db::set_expire`] so the expiry count stays right.
    pub fn entry_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.expire_if_needed(key);
        self.map.get_mut(key)
    }

    /// The live value at `key`.
    pub fn get(&mut self, key: &[u8]) -> Option<&Value> {
        self.entry(key).map(|e| &e.value)
    }

    /// The live value at `key`, mutable.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Value> {
        self.entry_mut(key).map(|e| &mut e.value)
    }

    /// The live entry at `key`, without counting as an access (Redis's `LOOKUP_NOTOUCH`).
    pub fn peek(&mut self, key: &[u8]) -> Option<&Entry> {
        self.expire_if_needed(key);
        self.map.get(key)
    }

    /// Seconds since `key` was last read or written (OBJECT IDLETIME), without counting this
    /// as an access; `None` if it does not exist.
    pub fn idle_secs(&mut self, key: &[u8]) -> Option<u64> {
        self.expire_if_needed(key);
        self.map.idle_secs(key).map(u64::from)
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
        self.expire_if_needed(key);
        self.map.get(key).is_some()
    }

    /// Stores `value` at `key`, replacing what was there, with the expiry `expire_at` (`None`:
    /// no expiry).
    pub fn insert(&mut self, key: &[u8], value: Value, expire_at: Option<u64>) {
        self.blocked.signal(key);
        let expire_at = expire_at.unwrap_or(0);
        if expire_at != 0 {
            self.expires += 1;
        }
        if let Some(old) = self.map.insert(key, Entry { value, expire_at }) {
            if old.expire_at != 0 {
                self.expires -= 1;
            }
        }
    }

    /// Stores `value` at `key` and keeps the key's expiry time if it had one (`KEEPTTL`).
    pub fn insert_keep_ttl(&mut self, key: &[u8], value: Value) {
        self.blocked.signal(key);
        self.expire_if_needed(key);
        match self.map.get_mut(key) {
            Some(e) => e.value = value,
            None => {
                self.map.insert(
                    key,
                    Entry {
                        value,
                        expire_at: 0,
                    },
                );
            }
        }
    }

    /// Sets or clears the expiry of an existing key; false if the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], expire_at: Option<u64>) -> bool {
        self.expire_if_needed(key);
        let Some(e) = self.map.get_mut(key) else {
            return false;
        };
        let new = expire_at.unwrap_or(0);
        match (e.expire_at != 0, new != 0) {
            (false, true) => self.expires += 1,
            (true, false) => self.expires -= 1,
            _ => {}
        }
        e.expire_at = new;
        true
    }

    /// Removes `key`, returning its entry if it existed (and had not expired).
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        self.expire_if_needed(key);
        let e = self.map.remove(key)?;
        if e.expire_at != 0 {
            self.expires -= 1;
        }
        Some(e)
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
        self.expires
    }

    /// Removes every key and hands back the old table, so that the caller can free it
    /// elsewhere (FLUSHDB ASYNC).
    pub fn take_all(&mut self) -> Table {
        let mut fresh = Table::new();
        fresh.set_clock((self.now / 1000) as u32);
        let old = std::mem::replace(&mut self.map, fresh);
        self.expires = 0;
        self.expire_cursor = 0;
        self.avg_ttl = 0;
        old
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.map.clear();
        self.expires = 0;
        self.expire_cursor = 0;
        self.avg_ttl = 0;
    }

    /// Every live key and its entry, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> + '_ {
        let now = self.now;
        self.map
            .iter()
            .filter(move |(_, e)| e.expire_at == 0 || e.expire_at > now)
    }

    /// One step of a SCAN over this database: calls `f` on the live keys of the bucket at
    /// `cursor` (deleting expired ones on the way) and returns the next cursor, 0 at the end.
    /// Every key present for the whole walk is visited at least once, however the table
    /// grows or shrinks between calls.
    pub fn scan(&mut self, cursor: u64, mut f: impl FnMut(&[u8], &Entry)) -> u64 {
        let now = self.now;
        let mut expired = 0;
        let next = self.map.scan(cursor, |k, e| {
            if e.expire_at != 0 && e.expire_at <= now {
                expired += 1;
                return false;
            }
            f(k, e);
            true
        });
        self.expires -= expired;
        self.expired_keys += expired as u64;
        if expired > 0 {
            self.map.shrink_if_needed();
        }
        next
    }

    /// A random live key (RANDOMKEY), deleting expired keys it lands on.
    pub fn random_key(&mut self, rng: &mut impl Rng) -> Option<Vec<u8>> {
        // Every round either returns or deletes an expired key, so this ends (with `None` once
        // only expired keys were left), as Redis's `dbRandomKey` does.
        loop {
            let key = self.map.random_key(rng)?.to_vec();
            if !self.expire_if_needed(&key) {
                return Some(key);
            }
        }
    }

    /// One round of Redis's active expiry on this database: walks the table from where the
    /// last round stopped until it has sampled `sample` keys with a TTL (or looked at
    /// `sample * 20` buckets), deleting the expired ones, and updates the `avg_ttl` estimate.
    /// The caller repeats rounds while more than a quarter of the sample was expired.
    pub fn active_expire(&mut self, sample: usize) -> ExpireStats {
        let mut stats = ExpireStats::default();
        if self.expires == 0 {
            return stats;
        }
        let now = self.now;
        let mut ttl_sum: u64 = 0;
        let mut ttl_n: u64 = 0;
        let mut buckets = 0;
        let mut cursor = self.expire_cursor;
        while stats.sampled < sample && buckets < sample * 20 {
            cursor = self.map.scan(cursor, |_, e| {
                if e.expire_at == 0 {
                    return true;
                }
                stats.sampled += 1;
                if e.expire_at <= now {
                    stats.expired += 1;
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
        self.expires -= stats.expired;
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
        if self.expires == 0 {
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
