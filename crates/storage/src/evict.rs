//! Choosing keys to evict under `maxmemory`, as Redis's `evict.c` chooses them, within one
//! shard.
//!
//! The runtime decides *when* a shard must free memory (its share of `maxmemory`, see
//! `crates/runtime/src/evict.rs`); this module decides *which* key goes: [`Shard::evict_one`]
//! picks one key by the `maxmemory-policy` and deletes it through the write path
//! ([`crate::Db::evict`], reported as [`crate::ChangeKind::Evicted`]), so WATCH, keyspace
//! notifications and the AOF see it like any other deletion.
//!
//! The LRU, LFU and TTL policies use Redis's approximation: sample `maxmemory-samples` keys
//! of every database (only keys with a TTL for the `volatile-*` ones), keep the best
//! candidates seen so far in a pool of 16 that survives between calls, and evict the best one
//! that still exists. The random policies take a random key from the databases in turn.
//! It must not know about threads, clients or how memory is measured.

use crate::shard::Shard;
use crate::DbIndex;

/// `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// Never evict: writes get `-OOM` over the limit.
    #[default]
    NoEviction,
    /// Least recently used among all keys.
    AllkeysLru,
    /// Least frequently used among all keys.
    AllkeysLfu,
    /// Any key.
    AllkeysRandom,
    /// Least recently used among keys with a TTL.
    VolatileLru,
    /// Least frequently used among keys with a TTL.
    VolatileLfu,
    /// Any key with a TTL.
    VolatileRandom,
    /// The key with a TTL that expires soonest.
    VolatileTtl,
}

impl Policy {
    /// The policy named as `maxmemory-policy` names it.
    pub fn parse(name: &str) -> Option<Policy> {
        Some(match name {
            "noeviction" => Policy::NoEviction,
            "allkeys-lru" => Policy::AllkeysLru,
            "allkeys-lfu" => Policy::AllkeysLfu,
            "allkeys-random" => Policy::AllkeysRandom,
            "volatile-lru" => Policy::VolatileLru,
            "volatile-lfu" => Policy::VolatileLfu,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            _ => return None,
        })
    }

    /// Whether keys count accesses (LFU) rather than stamp the time of the last one.
    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::AllkeysLfu | Policy::VolatileLfu)
    }

    /// Whether the policy picks by access time or frequency (Redis's
    /// `MAXMEMORY_FLAG_NO_SHARED_INTEGERS`).
    pub fn tracks_access(self) -> bool {
        matches!(
            self,
            Policy::AllkeysLru | Policy::VolatileLru | Policy::AllkeysLfu | Policy::VolatileLfu
        )
    }

    /// Whether only keys with a TTL may be evicted.
    pub fn volatile_only(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }
}

/// The eviction settings a shard copies from the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvictConfig {
    /// `maxmemory-policy`.
    pub policy: Policy,
    /// `maxmemory-samples`: keys sampled per database per choice.
    pub samples: usize,
    /// `lfu-log-factor`.
    pub lfu_log_factor: u32,
    /// `lfu-decay-time` (minutes).
    pub lfu_decay_time: u32,
    /// `maxmemory` is set with an LRU or LFU policy: small integers are not shared objects
    /// in Redis then (each needs its own access time), which OBJECT REFCOUNT shows.
    pub no_shared_integers: bool,
}

impl Default for EvictConfig {
    fn default() -> Self {
        EvictConfig {
            policy: Policy::NoEviction,
            samples: 5,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            no_shared_integers: false,
        }
    }
}

impl EvictConfig {
    /// What accesses record in each key under these settings.
    pub fn access(&self) -> crate::table::Access {
        if self.policy.is_lfu() {
            crate::table::Access::Lfu {
                log_factor: self.lfu_log_factor,
                decay_minutes: self.lfu_decay_time,
            }
        } else {
            crate::table::Access::Lru
        }
    }
}

/// How many candidates the pool keeps (Redis's `EVPOOL_SIZE`).
const POOL_SIZE: usize = 16;

/// The best eviction candidates seen so far, ascending by score (the last is evicted first).
#[derive(Default)]
pub struct Pool {
    entries: Vec<(u64, DbIndex, Box<[u8]>)>,
}

impl Pool {
    /// Offers a candidate: kept if the pool has room or it beats the worst kept one.
    fn offer(&mut self, score: u64, db: DbIndex, key: &[u8]) {
        if self.entries.iter().any(|(_, d, k)| *d == db && **k == *key) {
            return;
        }
        if self.entries.len() >= POOL_SIZE {
            if score <= self.entries[0].0 {
                return;
            }
            self.entries.remove(0);
        }
        let at = self.entries.partition_point(|(s, _, _)| *s <= score);
        self.entries.insert(at, (score, db, key.into()));
    }

    /// Forgets every candidate (after a flush or a policy change they mean nothing).
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// How many buckets a sample may walk to find keys with a TTL among keys without, before it
/// gives up for this round (the walk resumes elsewhere next time).
fn volatile_walk(samples: usize, keys: usize, expires: usize) -> usize {
    // Enough buckets to see `samples` volatile keys on average, at least ten per sample.
    let ratio = keys.checked_div(expires.max(1)).unwrap_or(1).max(1);
    (samples * 10).max(samples.saturating_mul(ratio).saturating_mul(2))
}

impl Shard {
    /// Sets every database's access recording to what `self.config.evict` asks (LRU clock or
    /// LFU counter); run when the policy or the LFU settings change. The pool is emptied.
    pub fn sync_access(&mut self) {
        let access = self.config.evict.access();
        for db in &mut self.dbs {
            if db.access() != access {
                db.set_access(access);
            }
        }
        self.evict_pool.clear();
    }

    /// Evicts one key by the policy; returns its database and name, or `None` when the
    /// policy allows none (noeviction, or no key with a TTL for a `volatile-*` policy).
    pub fn evict_one(&mut self) -> Option<(DbIndex, Vec<u8>)> {
        let cfg = self.config.evict;
        let volatile = cfg.policy.volatile_only();
        let key = match cfg.policy {
            Policy::NoEviction => return None,
            Policy::AllkeysRandom | Policy::VolatileRandom => {
                let n = self.dbs.len();
                let mut found = None;
                for _ in 0..n {
                    let i = self.evict_next_db % n;
                    self.evict_next_db = self.evict_next_db.wrapping_add(1);
                    let db = self.db(i);
                    if db.is_empty() || (volatile && db.expires_count() == 0) {
                        continue;
                    }
                    let t = db.table();
                    let mut pick: Option<Vec<u8>> = None;
                    let mut rng = rand::thread_rng();
                    // The walk stops at the first key it may take, so it may be as long as the
                    // table: it costs what finding a random key in a sparse table costs.
                    t.sample(&mut rng, 1, usize::MAX, |k, _, e| {
                        if volatile && e.expire().is_none() {
                            return false;
                        }
                        pick = Some(k.to_vec());
                        true
                    });
                    if let Some(k) = pick {
                        found = Some((i, k));
                        break;
                    }
                }
                found
            }
            _ => self.pool_pick(cfg, volatile),
        };
        let (db, key) = key?;
        self.db(db).evict(&key).then_some((db, key))
    }

    /// Fills the pool from every database and takes its best candidate that still exists.
    fn pool_pick(&mut self, cfg: EvictConfig, volatile: bool) -> Option<(DbIndex, Vec<u8>)> {
        let samples = cfg.samples.max(1);
        const ATTEMPTS: usize = 4;
        for attempt in 0..ATTEMPTS {
            let mut any = false;
            let mut rng = rand::thread_rng();
            for i in 0..self.dbs.len() {
                let now = self.now();
                let db = &mut self.dbs[i];
                db.set_now(now);
                if db.is_empty() || (volatile && db.expires_count() == 0) {
                    continue;
                }
                any = true;
                let t = db.table();
                // The last attempt walks as far as it takes: a table left sparse by deletions
                // (it shrinks lazily) can hide its few keys from short walks.
                let walk = if attempt + 1 == ATTEMPTS {
                    usize::MAX
                } else if volatile {
                    volatile_walk(samples, t.len(), db.expires_count())
                } else {
                    samples * 10
                };
                let pool = &mut self.evict_pool;
                t.sample(&mut rng, samples, walk, |k, word, e| {
                    let expire = e.expire();
                    if volatile && expire.is_none() {
                        return false;
                    }
                    let score = match cfg.policy {
                        Policy::VolatileTtl => u64::MAX - expire.unwrap_or(u64::MAX),
                        _ => t.idle_score(word),
                    };
                    pool.offer(score, i, k);
                    true
                });
            }
            if !any {
                return None;
            }
            // The best candidate that still exists (a key may have gone since it was seen).
            while let Some((_, db, key)) = self.evict_pool.entries.pop() {
                if self.dbs[db].table().get(&key).is_some() {
                    return Some((db, key.into_vec()));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::string::StrValue;
    use crate::Value;

    fn shard(policy: Policy) -> Shard {
        let mut s = Shard::new(0, 1, 2);
        s.config.evict.policy = policy;
        s.sync_access();
        s.set_now(1_000_000_000);
        s
    }

    fn put(s: &mut Shard, db: DbIndex, key: &str, ttl: Option<u64>) {
        let now = s.now();
        s.db(db).insert(
            key.as_bytes(),
            Value::Str(StrValue::Int(1)),
            ttl.map(|t| now + t),
        );
    }

    #[test]
    fn noeviction_evicts_nothing() {
        let mut s = shard(Policy::NoEviction);
        put(&mut s, 0, "a", None);
        assert_eq!(s.evict_one(), None);
    }

    #[test]
    fn volatile_policies_never_touch_keys_without_ttl() {
        for p in [
            Policy::VolatileLru,
            Policy::VolatileLfu,
            Policy::VolatileRandom,
            Policy::VolatileTtl,
        ] {
            let mut s = shard(p);
            for i in 0..200 {
                put(&mut s, 0, &format!("p{i}"), None);
            }
            for i in 0..20 {
                put(&mut s, 1, &format!("v{i}"), Some(100_000 + i));
            }
            for _ in 0..20 {
                let (db, k) = s
                    .evict_one()
                    .unwrap_or_else(|| panic!("{p:?} {}", s.dbs[1].len()));
                assert_eq!(db, 1);
                assert!(k.starts_with(b"v"), "{p:?}");
            }
            assert_eq!(s.evict_one(), None, "{p:?}");
            assert_eq!(s.dbs[0].len(), 200);
        }
    }

    #[test]
    fn volatile_ttl_prefers_the_soonest_expiry() {
        let mut s = shard(Policy::VolatileTtl);
        s.config.evict.samples = 10;
        for i in 0..10u64 {
            put(&mut s, 0, &format!("k{i}"), Some(1000 * (i + 1)));
        }
        let (_, k) = s.evict_one().unwrap();
        assert_eq!(k, b"k0");
    }

    #[test]
    fn lru_prefers_the_idlest_key() {
        let mut s = shard(Policy::AllkeysLru);
        s.config.evict.samples = 10;
        for i in 0..10 {
            put(&mut s, 0, &format!("k{i}"), None);
        }
        // Ten seconds later every key but k3 is read.
        s.set_now(1_000_010_000);
        for i in 0..10 {
            if i != 3 {
                s.db(0).entry(format!("k{i}").as_bytes());
            }
        }
        let (_, k) = s.evict_one().unwrap();
        assert_eq!(k, b"k3");
    }

    #[test]
    fn lfu_counts_accesses_and_prefers_the_least_used() {
        let mut s = shard(Policy::AllkeysLfu);
        s.config.evict.samples = 10;
        for i in 0..10 {
            put(&mut s, 0, &format!("k{i}"), None);
        }
        for _ in 0..200 {
            for i in 0..10 {
                if i != 7 {
                    s.db(0).entry(format!("k{i}").as_bytes());
                }
            }
        }
        assert!(s.db(0).freq(b"k1").unwrap() > 5);
        assert_eq!(s.db(0).freq(b"k7"), Some(crate::table::LFU_INIT_VAL));
        let (_, k) = s.evict_one().unwrap();
        assert_eq!(k, b"k7");
    }
}
