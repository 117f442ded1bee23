//! `Keys`: the view a read-modify-write command has of its keys, wherever they live.
//!
//! A [`crate::registry::TxnFn`] is written once against this trait. When all its keys live on
//! one shard it runs there on [`LocalKeys`], straight on the database. When they span shards,
//! the runtime locks them, copies their entries out of their shards ([`fetch`]) into
//! [`FetchedKeys`], runs the command on the copies, and sends back what changed ([`apply`]).

use bytes::Bytes;
use rand::rngs::SmallRng;
use rustis_storage::{Db, Entry, Shard, ShardConfig};

/// A command's keys, addressed by their position in the command's key list.
pub trait Keys {
    /// How many keys the command has (positions `0..len`).
    fn len(&self) -> usize;
    /// Whether the command has no keys.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The name of key `i`.
    fn key(&self, i: usize) -> &[u8];
    /// The database of key `i`.
    fn db_of(&self, i: usize) -> usize;
    /// Reads key `i`.
    fn get(&mut self, i: usize) -> Option<&Entry>;
    /// Key `i`, to be changed in place.
    fn get_mut(&mut self, i: usize) -> Option<&mut Entry>;
    /// Replaces key `i`.
    fn put(&mut self, i: usize, entry: Entry);
    /// Deletes key `i`; true if it existed.
    fn delete(&mut self, i: usize) -> bool;
    /// The time of this command, in Unix milliseconds.
    fn now(&self) -> u64;
    /// Randomness.
    fn rng(&mut self) -> &mut SmallRng;
    /// Encoding limits.
    fn config(&self) -> &ShardConfig;
}

/// Keys that all live on the shard the command runs on.
pub struct LocalKeys<'a> {
    shard: &'a mut Shard,
    /// The database of each key (most commands: all the selected one).
    dbs: Vec<usize>,
    keys: Vec<Bytes>,
}

impl<'a> LocalKeys<'a> {
    /// The keys `keys` of database `db` of `shard`.
    pub fn new(shard: &'a mut Shard, db: usize, keys: Vec<Bytes>) -> Self {
        let dbs = vec![db; keys.len()];
        LocalKeys { shard, dbs, keys }
    }

    /// The keys `keys` of `shard`, key `i` in database `dbs[i]` (COPY ... DB n).
    pub fn with_dbs(shard: &'a mut Shard, dbs: Vec<usize>, keys: Vec<Bytes>) -> Self {
        debug_assert_eq!(dbs.len(), keys.len());
        LocalKeys { shard, dbs, keys }
    }

    fn db(&mut self, i: usize) -> &mut Db {
        self.shard.db(self.dbs[i])
    }
}

impl Keys for LocalKeys<'_> {
    fn len(&self) -> usize {
        self.keys.len()
    }
    fn db_of(&self, i: usize) -> usize {
        self.dbs[i]
    }
    fn key(&self, i: usize) -> &[u8] {
        &self.keys[i]
    }
    fn get(&mut self, i: usize) -> Option<&Entry> {
        let key = self.keys[i].clone();
        self.db(i).entry(&key)
    }
    fn get_mut(&mut self, i: usize) -> Option<&mut Entry> {
        let key = self.keys[i].clone();
        self.db(i).entry_mut(&key)
    }
    fn put(&mut self, i: usize, entry: Entry) {
        let key = self.keys[i].clone();
        let expire = entry.expire();
        self.db(i).insert(&key, entry.value, expire);
    }
    fn delete(&mut self, i: usize) -> bool {
        let key = self.keys[i].clone();
        self.db(i).remove(&key).is_some()
    }
    fn now(&self) -> u64 {
        self.shard.now()
    }
    fn rng(&mut self) -> &mut SmallRng {
        &mut self.shard.rng
    }
    fn config(&self) -> &ShardConfig {
        &self.shard.config
    }
}

/// Copies of keys that live on several shards, taken while they are locked.
pub struct FetchedKeys {
    keys: Vec<Bytes>,
    /// The database of each key.
    dbs: Vec<usize>,
    /// For each key position, its slot in `entries` (a key named twice has one slot).
    slot_of: Vec<usize>,
    entries: Vec<Option<Entry>>,
    dirty: Vec<bool>,
    now: u64,
    rng: SmallRng,
    config: ShardConfig,
}

impl FetchedKeys {
    /// Builds the view from the fetched entry of every distinct key. `keys` is the command's
    /// key list and `slot_of[i]` the index in `entries` of key `i` (a key named twice, in the
    /// same database, has one slot).
    pub fn new(
        keys: Vec<Bytes>,
        dbs: Vec<usize>,
        slot_of: Vec<usize>,
        entries: Vec<Option<Entry>>,
        now: u64,
        rng: SmallRng,
        config: ShardConfig,
    ) -> Self {
        let dirty = vec![false; entries.len()];
        FetchedKeys {
            keys,
            dbs,
            slot_of,
            entries,
            dirty,
            now,
            rng,
            config,
        }
    }

    /// What changed, per distinct key slot: `Some(entry)` to store, `None` to delete.
    pub fn into_writes(self) -> Vec<(usize, Option<Entry>)> {
        self.entries
            .into_iter()
            .enumerate()
            .filter(|(i, _)| self.dirty[*i])
            .collect()
    }
}

impl Keys for FetchedKeys {
    fn len(&self) -> usize {
        self.keys.len()
    }
    fn db_of(&self, i: usize) -> usize {
        self.dbs[i]
    }
    fn key(&self, i: usize) -> &[u8] {
        &self.keys[i]
    }
    fn get(&mut self, i: usize) -> Option<&Entry> {
        self.entries[self.slot_of[i]].as_ref()
    }
    fn get_mut(&mut self, i: usize) -> Option<&mut Entry> {
        let s = self.slot_of[i];
        self.dirty[s] = true;
        self.entries[s].as_mut()
    }
    fn put(&mut self, i: usize, entry: Entry) {
        let s = self.slot_of[i];
        self.dirty[s] = true;
        self.entries[s] = Some(entry);
    }
    fn delete(&mut self, i: usize) -> bool {
        let s = self.slot_of[i];
        self.dirty[s] = true;
        self.entries[s].take().is_some()
    }
    fn now(&self) -> u64 {
        self.now
    }
    fn rng(&mut self) -> &mut SmallRng {
        &mut self.rng
    }
    fn config(&self) -> &ShardConfig {
        &self.config
    }
}

/// Copies the live entries of `keys` out of one shard (runs on that shard).
pub fn fetch(shard: &mut Shard, keys: &[(usize, Bytes)]) -> Vec<Option<Entry>> {
    keys.iter()
        .map(|(db, k)| shard.db(*db).entry(k).cloned())
        .collect()
}

/// Stores or deletes entries on one shard (runs on that shard). An entry whose collection is
/// empty is deleted, as Redis never keeps an empty list, set, hash or sorted set.
pub fn apply(shard: &mut Shard, writes: Vec<(usize, Bytes, Option<Entry>)>) {
    for (db, key, entry) in writes {
        let db = shard.db(db);
        match entry {
            Some(e) => {
                let expire = e.expire();
                db.insert(&key, e.value, expire);
            }
            None => {
                db.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rustis_storage::string::StrValue;
    use rustis_storage::Value;

    fn entry(v: &str) -> Entry {
        Entry {
            value: Value::Str(StrValue::from_bytes(v.as_bytes())),
            expire_at: 0,
        }
    }

    #[test]
    fn fetched_keys_share_a_slot_for_a_repeated_key() {
        let keys: Vec<Bytes> = vec!["a".into(), "b".into(), "a".into()];
        let mut f = FetchedKeys::new(
            keys,
            vec![0, 0, 0],
            vec![0, 1, 0],
            vec![Some(entry("1")), None],
            0,
            SmallRng::seed_from_u64(0),
            ShardConfig::default(),
        );
        assert!(f.delete(2));
        assert!(f.get(0).is_none());
        f.put(1, entry("2"));
        let writes = f.into_writes();
        assert_eq!(writes, vec![(0, None), (1, Some(entry("2")))]);
    }
}
