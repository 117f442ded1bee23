//! Active expiry: Redis's adaptive `activeExpireCycle`, run by each shard on its own keys.
//!
//! Lazy expiry (in `Db`) guarantees that no command sees an expired key; this cycle reclaims
//! the memory of expired keys that nobody reads. Each call walks every database's table from
//! where the last call stopped, sampling keys with a TTL in rounds of
//! [`KEYS_PER_ROUND`], and keeps going on a database while more than
//! [`ACCEPTABLE_STALE_PERCENT`] of a round was expired, until the time budget is spent.

use std::time::{Duration, Instant};

use crate::{ExpireStats, Shard};

/// Keys with a TTL sampled per round (Redis's `ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP`).
pub const KEYS_PER_ROUND: usize = 20;
/// A database gets another round while more than this share of a round had expired (Redis 7's
/// `active-expire-effort` 1 gives 10).
pub const ACCEPTABLE_STALE_PERCENT: usize = 10;
/// How often the runtime should call [`Shard::active_expire_cycle`] (Redis's `hz` 10).
pub const CYCLE_PERIOD: Duration = Duration::from_millis(100);
/// The time budget per call: a quarter of the period, as Redis allows itself 25% of the CPU.
pub const CYCLE_BUDGET: Duration = Duration::from_millis(25);
/// Buckets of an incremental rehash moved per database per call (Redis's
/// `activerehashing`, 1 ms worth in Redis; a fixed count here).
pub const REHASH_BUCKETS_PER_CYCLE: usize = 1000;

impl Shard {
    /// Runs one active expiry cycle over every database at time `now_ms`, spending at most
    /// `budget`, then advances any incremental rehash a little. Returns the totals.
    pub fn active_expire_cycle(&mut self, now_ms: u64, budget: Duration) -> ExpireStats {
        let start = Instant::now();
        let mut total = ExpireStats::default();
        self.set_now(now_ms);
        if self.keeps_expired() {
            return total;
        }
        'dbs: for db in &mut self.dbs {
            db.set_now(now_ms);
            let mut rounds = 0u32;
            loop {
                let s = db.active_expire(KEYS_PER_ROUND);
                total.sampled += s.sampled;
                total.expired += s.expired;
                rounds += 1;
                if s.sampled == 0 || s.expired * 100 <= s.sampled * ACCEPTABLE_STALE_PERCENT {
                    break;
                }
                // Reading the clock is not free: check it every 16 rounds, as Redis does.
                if rounds.is_multiple_of(16) && start.elapsed() >= budget {
                    break 'dbs;
                }
            }
        }
        for db in &mut self.dbs {
            db.rehash_step(REHASH_BUCKETS_PER_CYCLE);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::string::StrValue;
    use crate::Value;

    #[test]
    fn cycle_reclaims_expired_keys_without_reads() {
        let mut shard = Shard::new(0, 1, 2);
        shard.set_now(1000);
        for i in 0..50_000i64 {
            let db = shard.db(0);
            db.insert(
                format!("k{i}").as_bytes(),
                Value::Str(StrValue::Int(i)),
                Some(2000),
            );
        }
        for i in 0..100i64 {
            shard.db(0).insert(
                format!("p{i}").as_bytes(),
                Value::Str(StrValue::Int(i)),
                None,
            );
        }
        let s = shard.active_expire_cycle(1500, Duration::from_secs(10));
        assert_eq!(s.expired, 0);
        assert!(shard.dbs[0].avg_ttl() > 0 && shard.dbs[0].avg_ttl() <= 500);
        let mut cycles = 0;
        while shard.dbs[0].len() > 100 {
            shard.active_expire_cycle(2000, Duration::from_secs(10));
            cycles += 1;
            assert!(cycles < 100);
        }
        assert_eq!(shard.dbs[0].expires_count(), 0);
        assert_eq!(shard.dbs[0].expired_keys, 50_000);
        assert_eq!(shard.dbs[0].len(), 100);
    }
}
