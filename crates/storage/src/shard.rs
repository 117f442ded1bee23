//! `Shard`: one thread's share of every database, plus what commands on it need (time,
//! randomness, the encoding limits from the config).

use rand::rngs::SmallRng;
use rand::SeedableRng;

use crate::write::{KeyListener, ListenerId};
use crate::{Db, DbIndex};

/// Settings that change how data is stored, copied into each shard so a shard never reads
/// shared state. `CONFIG SET` sends a new copy to every shard.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardConfig {
    /// `proto-max-bulk-len`: the largest string a command may build.
    pub proto_max_bulk_len: usize,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: usize,
    /// `list-max-listpack-size`.
    pub list_max_listpack_size: i64,
    /// `hash-max-listpack-entries`.
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value`.
    pub hash_max_listpack_value: usize,
    /// `zset-max-listpack-entries`.
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value`.
    pub zset_max_listpack_value: usize,
    /// `set-max-listpack-entries`.
    pub set_max_listpack_entries: usize,
    /// `set-max-listpack-value`.
    pub set_max_listpack_value: usize,
    /// `stream-node-max-bytes`.
    pub stream_node_max_bytes: usize,
    /// `stream-node-max-entries`.
    pub stream_node_max_entries: usize,
    /// `rdbcompression`: whether DUMP and snapshots LZF-compress long strings.
    pub rdb_compression: bool,
    /// `maxmemory-policy`, `maxmemory-samples`, `lfu-log-factor`, `lfu-decay-time`.
    pub evict: crate::evict::EvictConfig,
}

impl Default for ShardConfig {
    fn default() -> Self {
        ShardConfig {
            proto_max_bulk_len: 512 * 1024 * 1024,
            set_max_intset_entries: 512,
            list_max_listpack_size: -2,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
            rdb_compression: true,
            evict: crate::evict::EvictConfig::default(),
        }
    }
}

/// One thread's share of the keyspace. Owned by that thread alone; never shared.
pub struct Shard {
    /// This shard's number, `0..n_shards`.
    pub id: usize,
    /// How many shards the server has.
    pub n_shards: usize,
    /// One `Db` per database index. SWAPDB exchanges their contents with
    /// [`Shard::swap_dbs`]; the `Db` values themselves never move, since each keeps what belongs
    /// to its index (blocked and watched keys, listeners).
    pub dbs: Vec<Db>,
    /// Randomness for SPOP, SRANDMEMBER, RANDOMKEY and the like.
    pub rng: SmallRng,
    /// Encoding limits and other settings.
    pub config: ShardConfig,
    /// Where values too costly to free on this thread go (UNLINK, FLUSHALL ASYNC).
    pub lazyfree: LazyFree,
    /// Eviction candidates kept between choices (see `evict.rs`).
    pub(crate) evict_pool: crate::evict::Pool,
    /// The database the random policies look in next.
    pub(crate) evict_next_db: usize,
    now: u64,
    /// Whether a client pause keeps expired keys (see [`Shard::set_keep_expired`]).
    keep_expired: bool,
    next_listener: u64,
}

/// Anything the background-freeing thread can drop.
pub type Garbage = Box<dyn Send>;

/// A shard's end of the runtime's background-freeing thread: values too costly to drop on the
/// shard's thread (a huge collection, a flushed database) are sent there to be dropped, so the
/// shard does not stall (Redis's lazy free). Sending takes no lock. A shard the runtime gave no
/// thread to (unit tests) drops them where it is.
#[derive(Clone, Default)]
pub struct LazyFree {
    tx: Option<std::sync::mpsc::Sender<Garbage>>,
}

impl LazyFree {
    /// A handle that sends to the thread receiving from `tx`.
    pub fn new(tx: std::sync::mpsc::Sender<Garbage>) -> Self {
        LazyFree { tx: Some(tx) }
    }

    /// Drops `g` on the background thread, or here if there is none (or it has stopped: the
    /// value then comes back in the send's error and drops here).
    pub fn drop_later(&self, g: Garbage) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(g);
        }
    }
}

impl Shard {
    /// A shard with `n_dbs` empty databases.
    pub fn new(id: usize, n_shards: usize, n_dbs: usize) -> Self {
        Shard {
            id,
            n_shards,
            dbs: (0..n_dbs).map(Db::with_index).collect(),
            rng: SmallRng::from_entropy(),
            config: ShardConfig::default(),
            lazyfree: LazyFree::default(),
            evict_pool: Default::default(),
            evict_next_db: 0,
            now: 0,
            keep_expired: false,
            next_listener: 0,
        }
    }

    /// Sets the clock reading that the next commands see.
    pub fn set_now(&mut self, now_ms: u64) {
        self.now = now_ms;
    }

    /// Sets whether expired keys are kept: while a client pause holds, the dataset stays
    /// still, as in Redis 7.0: reads treat an expired key as missing but nothing deletes it
    /// (neither lazy nor active expiry), until the pause ends.
    pub fn set_keep_expired(&mut self, keep: bool) {
        self.keep_expired = keep;
    }

    /// Whether expired keys are kept because a client pause holds.
    pub fn keeps_expired(&self) -> bool {
        self.keep_expired
    }

    /// The clock reading of the batch being executed.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Database `idx`, with its clock set to this batch's time.
    pub fn db(&mut self, idx: DbIndex) -> &mut Db {
        let db = &mut self.dbs[idx];
        debug_assert_eq!(
            db.index(),
            idx,
            "a Db value was moved; SWAPDB uses swap_dbs"
        );
        db.set_now(self.now);
        db.set_keep_expired(self.keep_expired);
        db
    }

    /// Exchanges the contents of databases `a` and `b` (SWAPDB) through the write path (see
    /// [`Db::swap_contents`]).
    pub fn swap_dbs(&mut self, a: DbIndex, b: DbIndex) {
        if a == b {
            return;
        }
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = self.dbs.split_at_mut(hi);
        Db::swap_contents(&mut left[lo], &mut right[0]);
    }

    /// Registers a listener on every database: `make(i)` builds the one database `i` calls.
    /// Returns the id that [`Shard::remove_listener`] takes.
    pub fn add_listener(
        &mut self,
        mut make: impl FnMut(DbIndex) -> Box<dyn KeyListener>,
    ) -> ListenerId {
        self.next_listener += 1;
        let id = ListenerId(self.next_listener);
        for (i, db) in self.dbs.iter_mut().enumerate() {
            db.add_listener(id, make(i));
        }
        id
    }

    /// Removes the listener `id` from every database, giving back each database's one.
    pub fn remove_listener(&mut self, id: ListenerId) -> Vec<Box<dyn KeyListener>> {
        self.dbs
            .iter_mut()
            .filter_map(|db| db.remove_listener(id))
            .collect()
    }

    /// The estimated bytes the keys of every database use (see [`Db::used_memory`]); `None`
    /// while memory tracking is off.
    pub fn used_memory(&self) -> Option<usize> {
        self.dbs.iter().map(Db::used_memory).sum()
    }

    /// Turns memory tracking on or off for every database (see [`Db::set_memory_tracking`]).
    pub fn set_memory_tracking(&mut self, on: bool) {
        for db in &mut self.dbs {
            db.set_memory_tracking(on);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lazyfree_sends_to_its_thread_and_drops_in_place_without_one() {
        let (tx, rx) = std::sync::mpsc::channel::<Garbage>();
        let lazy = LazyFree::new(tx);
        lazy.drop_later(Box::new(vec![1u8; 10]));
        assert!(rx.try_recv().is_ok());
        // Without a thread, or with it gone, the value drops here and nothing panics.
        LazyFree::default().drop_later(Box::new(vec![1u8; 10]));
        drop(rx);
        lazy.drop_later(Box::new(vec![1u8; 10]));
    }
}
