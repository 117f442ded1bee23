//! Micro-benchmarks of the keyspace table through `Db`: lookups of random existing keys, misses
//! and overwrites in a database of 100,000 and of 1,000,000 keys (16-byte `key:%012d` keys,
//! 3-byte values, as `redis-benchmark -r` makes them), and a pipelined batch of 32 lookups with
//! and without [`Db::prefetch`] over the batch's keys first, both bare and with each GET's reply
//! encoded between the lookups as the server does.
//!
//! Run with `cargo bench -p rustis-storage --bench keyspace`.
//!
//! The 100k-key table (about 9 MB) fits in this machine's 32 MiB L3 but not in L2; the 1M-key
//! one does not fit in cache at all, so its lookups go to memory. Keys are looked up in a fixed
//! pseudo-random order. The benchmark uses the system allocator, not the server's jemalloc, so
//! node placement differs somewhat from the server's.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rustis_resp::Out;
use rustis_storage::string::{itoa_buf, StrValue};
use rustis_storage::{Db, Value};

/// Commands per batch, as with `redis-benchmark -P 32`.
const PIPELINE: usize = 32;
/// How many random keys each benchmark cycles through: far more than a cache holds, so the
/// lookups are not served by lines that earlier iterations brought in.
const N_LOOKUPS: usize = 1 << 20;

type Key = [u8; 16];

/// Key `i` in redis-benchmark's form, `key:%012d`.
fn key(i: usize) -> Key {
    let mut k = *b"key:000000000000";
    let mut v = i;
    for b in k[4..].iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
    k
}

fn value(v: &[u8]) -> Value {
    Value::Str(StrValue::from_bytes(v))
}

/// A database of `n` keys, with any incremental rehash finished (as the server's cron does
/// between batches), since [`Db::prefetch`] does nothing while a rehash is under way.
fn filled(n: usize) -> Db {
    let mut db = Db::new();
    for i in 0..n {
        db.insert(&key(i), value(b"xxx"), None);
    }
    while db.rehash_step(1024) {}
    db
}

/// `N_LOOKUPS` keys drawn with a fixed seed by `pick` from 0..n.
fn random_keys(n: usize, seed: u64, pick: impl Fn(usize) -> Key) -> Vec<Key> {
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..N_LOOKUPS).map(|_| pick(rng.gen_range(0..n))).collect()
}

/// A 16-byte key that is not in the database.
fn missing_key(i: usize) -> Key {
    let mut k = key(i);
    k[..4].copy_from_slice(b"nok:");
    k
}

/// GET's work for one key: look it up, encode the bulk or null reply, count the hit or miss.
fn get_reply(db: &mut Db, key: &[u8], out: &mut Out) {
    let r = db.get_str(key);
    let hit = matches!(r, Ok(Some(_)));
    match r {
        Ok(Some(s)) => {
            let mut scratch = itoa_buf::Buffer::new();
            out.bulk(s.as_bytes(&mut scratch));
        }
        _ => out.null(),
    }
    db.count_lookup(hit);
}

fn bench_size(c: &mut Criterion, label: &str, n: usize) {
    let mut db = filled(n);
    let hits = random_keys(n, 1, key);
    let misses = random_keys(n, 2, missing_key);
    assert!(hits.iter().take(1000).all(|k| db.get(k).is_some()));
    assert!(misses.iter().take(1000).all(|k| db.get(k).is_none()));
    let mut group = c.benchmark_group(format!("keyspace {label}"));

    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("get hit", |b| {
        b.iter(|| {
            i = (i + 1) % N_LOOKUPS;
            db.get(&hits[i]).is_some()
        })
    });
    group.bench_function("get miss", |b| {
        b.iter(|| {
            i = (i + 1) % N_LOOKUPS;
            db.get(&misses[i]).is_some()
        })
    });
    group.bench_function("insert overwrite", |b| {
        b.iter(|| {
            i = (i + 1) % N_LOOKUPS;
            db.insert(&hits[i], value(b"yyy"), None)
        })
    });

    // One pipelined batch: the next 32 keys of the random sequence.
    group.throughput(Throughput::Elements(PIPELINE as u64));
    let mut batch = 0;
    let mut next_batch = move || {
        batch = (batch + PIPELINE) % N_LOOKUPS;
        batch..batch + PIPELINE
    };
    for prefetch in [false, true] {
        let name = if prefetch { " prefetched" } else { "" };
        group.bench_function(format!("32 lookups{name}"), |b| {
            b.iter(|| {
                let keys = &hits[next_batch()];
                if prefetch {
                    db.prefetch(keys.iter().map(|k| &k[..]));
                }
                let mut found = 0;
                for k in keys {
                    found += db.get(black_box(k)).is_some() as usize;
                }
                found
            })
        });
        let mut out = Out::new(false);
        group.bench_function(format!("32 GET + reply{name}"), |b| {
            b.iter(|| {
                let keys = &hits[next_batch()];
                out.clear();
                if prefetch {
                    db.prefetch(keys.iter().map(|k| &k[..]));
                }
                for k in keys {
                    get_reply(&mut db, black_box(k), &mut out);
                }
                out.buf.len()
            })
        });
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    bench_size(c, "100k", 100_000);
    bench_size(c, "1M", 1_000_000);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
