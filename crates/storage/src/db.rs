//! `Db`: one database's keys on one shard, with lazy expiry.
//!
//! A key whose time has passed is never returned: every lookup checks it and deletes it on the
//! spot (Redis's lazy expiry). The database keeps the time of the batch being executed (`now`),
//! set by the shard before each batch, so that all commands of a batch see one clock reading.

use foldhash::fast::RandomState;
use hashbrown::HashMap;

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
    map: HashMap<Box<[u8]>, Entry, RandomState>,
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
}

impl Db {
    /// An empty database.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the time that expiry checks compare against, in Unix milliseconds.
    pub fn set_now(&mut self, now_ms: u64) {
        self.now = now_ms;
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

    /// The live entry at `key`.
    pub fn entry(&mut self, key: &[u8]) -> Option<&Entry> {
        self.expire_if_needed(key);
        self.map.get(key)
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
        self.map.contains_key(key)
    }

    /// Stores `value` at `key`, replacing what was there, with the expiry `expire_at` (`None`:
    /// no expiry).
    pub fn insert(&mut self, key: &[u8], value: Value, expire_at: Option<u64>) {
        self.blocked.signal(key);
        let expire_at = expire_at.unwrap_or(0);
        if expire_at != 0 {
            self.expires += 1;
        }
        let old = match self.map.get_mut(key) {
            Some(e) => Some(std::mem::replace(e, Entry { value, expire_at })),
            None => {
                self.map.insert(key.into(), Entry { value, expire_at });
                None
            }
        };
        if let Some(old) = old {
            if old.expire_at != 0 {
                self.expires -= 1;
            }
        }
    }

    /// Stores `value` at `key` and keeps the key's expiry time if it had one (`KEEPTTL`).
    pub fn insert_keep_ttl(&mut self, key: &[u8], value: Value) {
        self.expire_if_needed(key);
        match self.map.get_mut(key) {
            Some(e) => e.value = value,
            None => {
                self.map.insert(
                    key.into(),
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

    /// Removes every key.
    pub fn clear(&mut self) {
        self.map = HashMap::default();
        self.expires = 0;
    }

    /// Every live key and its entry, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> + '_ {
        let now = self.now;
        self.map
            .iter()
            .filter(move |(_, e)| e.expire_at == 0 || e.expire_at > now)
            .map(|(k, e)| (&k[..], e))
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
