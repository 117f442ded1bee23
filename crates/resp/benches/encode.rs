//! Micro-benchmarks of the reply encoder `Out`: the replies of one pipelined batch of 32
//! commands (bulk strings of 3 bytes and of 4 KiB, copied and shared, integers, `+OK`,
//! doubles), an LRANGE-like array of 100 bulks, and an HGETALL-like map in RESP2 (a flat array)
//! and RESP3 (`%`).
//!
//! Run with `cargo bench -p rustis-resp --bench encode`.
//!
//! Each iteration clears one output buffer and encodes into it again, as a connection reuses its
//! buffer after every write, so buffer growth is not what is measured. Sharing is on, as in the
//! connection loop, so `bulk_shared` references values of `SHARE_MIN` bytes or more. Throughput is in replies
//! (or array elements) per second, except for the 4 KiB bulks, which are in bytes.

use bytes::Bytes;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use rustis_resp::Out;

/// Replies per batch, as with `redis-benchmark -P 32`.
const PIPELINE: usize = 32;

/// Benchmarks `encode` writing into a reused `Out` that speaks RESP3 when `resp3`.
fn case(c: &mut Criterion, name: &str, resp3: bool, tp: Throughput, encode: impl Fn(&mut Out)) {
    let mut group = c.benchmark_group(if resp3 {
        "encode resp3"
    } else {
        "encode resp2"
    });
    group.throughput(tp);
    let mut out = Out::new(resp3);
    out.share = true;
    group.bench_function(name, |b| {
        b.iter(|| {
            out.clear();
            encode(black_box(&mut out));
            black_box(out.buf.len())
        })
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let n = PIPELINE as u64;
    let small = b"xxx";
    let big = vec![b'x'; 4096];
    // INCR-like counters and ZSCORE-like scores of assorted magnitudes.
    let ints: Vec<i64> = (0..PIPELINE as i64).map(|i| i * 7919 - 40_000).collect();
    let doubles: Vec<f64> = (0..PIPELINE).map(|i| i as f64 * 1.25 + 0.1).collect();

    case(c, "32 bulk 3B", false, Throughput::Elements(n), |o| {
        for _ in 0..PIPELINE {
            o.bulk(small);
        }
    });
    case(
        c,
        "32 bulk 4KiB",
        false,
        Throughput::Bytes((PIPELINE * big.len()) as u64),
        |o| {
            for _ in 0..PIPELINE {
                o.bulk(&big);
            }
        },
    );
    // GET of a 4 KiB value stored as `StrValue::Shared`: a header and a reference, no copy.
    let big_shared = Bytes::from(big.clone());
    case(
        c,
        "32 bulk_shared 4KiB",
        false,
        Throughput::Bytes((PIPELINE * big.len()) as u64),
        |o| {
            for _ in 0..PIPELINE {
                o.bulk_shared(&big_shared);
            }
        },
    );
    case(c, "32 int", false, Throughput::Elements(n), |o| {
        for &i in &ints {
            o.int(i);
        }
    });
    case(c, "32 ok", false, Throughput::Elements(n), |o| {
        for _ in 0..PIPELINE {
            o.ok();
        }
    });
    case(
        c,
        "LRANGE 100 bulks",
        false,
        Throughput::Elements(100),
        |o| {
            o.array(100);
            for _ in 0..100 {
                o.bulk(small);
            }
        },
    );
    for resp3 in [false, true] {
        case(c, "32 double", resp3, Throughput::Elements(n), |o| {
            for &d in &doubles {
                o.double(d);
            }
        });
        // HGETALL of a 16-field hash: `%16` and 32 bulks in RESP3, `*32` and 32 bulks in RESP2.
        case(c, "map 16 pairs", resp3, Throughput::Elements(16), |o| {
            o.map(16);
            for _ in 0..16 {
                o.bulk(b"field:12");
                o.bulk(small);
            }
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
