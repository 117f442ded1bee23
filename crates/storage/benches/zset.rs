//! Micro-benchmarks of the sorted-set structure: inserts, rank lookups, score-range counts and
//! removals on a skiplist-encoded set, and inserts on the small encoding.
//!
//! Run with `cargo bench -p rustis-storage --bench zset`.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use rustis_storage::zset::{ZSetLimits, ZSetValue};

const N: usize = 100_000;

fn member(i: usize) -> Vec<u8> {
    format!("member:{i}").into_bytes()
}

/// A pseudo-random but fixed score for member `i`.
fn score(i: usize) -> f64 {
    ((i * 7919) % 1_000_003) as f64
}

fn filled(n: usize) -> ZSetValue {
    let mut z = ZSetValue::new();
    for i in 0..n {
        z.insert(&member(i), score(i), ZSetLimits::default());
    }
    z
}

fn bench(c: &mut Criterion) {
    let z = filled(N);
    let limits = ZSetLimits::default();
    c.bench_function("zset insert 100k", |b| b.iter(|| black_box(filled(N))));
    c.bench_function("zset rank of a member (100k)", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 7) % N;
            black_box(z.rank(&member(i)))
        })
    });
    c.bench_function("zset member at a rank (100k)", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 7) % N;
            black_box(z.at(i))
        })
    });
    c.bench_function("zset count a score range (100k)", |b| {
        b.iter(|| {
            let lo = z.score_prefix(|s| s < 250_000.0);
            let hi = z.score_prefix(|s| s <= 750_000.0);
            black_box(hi - lo)
        })
    });
    c.bench_function("zset update 1k scores (100k)", |b| {
        b.iter_batched(
            || z.clone(),
            |mut z| {
                for i in 0..1000 {
                    z.insert(&member(i * 97), score(i), limits);
                }
                z
            },
            BatchSize::LargeInput,
        )
    });
    c.bench_function("zset insert 128 (listpack)", |b| {
        b.iter(|| black_box(filled(128)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
