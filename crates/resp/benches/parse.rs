//! Micro-benchmarks of the request parser: `Parser::parse_batch` over one connection's read
//! buffer holding what redis-benchmark sends with `-P 32` (32 pipelined SETs, 32 GETs), one SET
//! with a 4 KiB value, 32 inline `PING`s, and a batch of SETs that arrives in two reads and is
//! parsed incrementally.
//!
//! Run with `cargo bench -p rustis-resp --bench parse`.
//!
//! Throughput is in commands (elements) per second, except for the 4 KiB SET, which is in bytes:
//! its value is sliced out of the buffer, never copied, so bytes per second shows that.

use std::cell::RefCell;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rustis_resp::parse::Args;
use rustis_resp::Parser;

/// Commands per batch, as with `redis-benchmark -P 32`.
const PIPELINE: usize = 32;

/// One command as a RESP multibulk frame, as clients send it.
fn multibulk(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// A 16-byte key in redis-benchmark's `key:%012d` form.
fn key(i: usize) -> Vec<u8> {
    format!("key:{:012}", 12_345 + i).into_bytes()
}

fn pipelined_sets() -> Vec<u8> {
    (0..PIPELINE)
        .flat_map(|i| multibulk(&[b"SET", &key(i), b"xxx"]))
        .collect()
}

fn pipelined_gets() -> Vec<u8> {
    (0..PIPELINE)
        .flat_map(|i| multibulk(&[b"GET", &key(i)]))
        .collect()
}

/// Parses all of `input` from a fresh buffer per iteration (built outside the timing, as a read
/// fills it in the server) with one parser reused across iterations, as a connection reuses its
/// parser. The previous iteration's commands go back to the parser with `Parser::recycle`
/// outside the timing, as the server hands them back once they have run, so neither dropping
/// them nor allocating their argument vectors is timed.
///
/// Each iteration is timed on its own (`PerIteration`), which adds about 20 ns of clock reads
/// to every figure. Larger batches would be worse: criterion builds a whole batch of inputs
/// before parsing any, so they would be parsed from cold cache lines, while the server parses
/// a buffer that the kernel has just written (that roughly doubled the times measured).
fn bench_whole(c: &mut Criterion, name: &str, input: &[u8], n_cmds: usize, tp: Throughput) {
    check(input, &[input.len()], n_cmds);
    let mut group = c.benchmark_group("parse");
    group.throughput(tp);
    let (parser, ran) = recycling_parser(n_cmds);
    group.bench_function(name, |b| {
        b.iter_batched(
            || (BytesMut::from(input), recycle(&parser, &ran)),
            |(mut buf, mut cmds)| {
                let r = parser.borrow_mut().parse_batch(&mut buf, &mut cmds);
                *ran.borrow_mut() = cmds;
                (r, buf)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// A parser and the commands of the last batch it parsed. Both sit in `RefCell`s because the
/// setup closure (which recycles) and the timed closure (which parses) both use them; criterion
/// never runs the two at once.
fn recycling_parser(n_cmds: usize) -> (RefCell<Parser>, RefCell<Vec<Args>>) {
    (
        RefCell::new(Parser::new()),
        RefCell::new(Vec::with_capacity(n_cmds)),
    )
}

/// Hands the last batch's argument vectors back to the parser; returns the emptied command list.
fn recycle(parser: &RefCell<Parser>, ran: &RefCell<Vec<Args>>) -> Vec<Args> {
    let mut cmds = ran.take();
    let mut parser = parser.borrow_mut();
    for args in cmds.drain(..) {
        parser.recycle(args);
    }
    cmds
}

/// Checks, once and outside the timing, that feeding `input` cut at `ends` (the end of each
/// read) parses into `n_cmds` commands and leaves nothing behind, so a broken input cannot
/// quietly turn a benchmark into one of the error path.
fn check(input: &[u8], ends: &[usize], n_cmds: usize) {
    let (mut parser, mut buf, mut cmds) = (Parser::new(), BytesMut::new(), Vec::new());
    let mut start = 0;
    for &end in ends {
        buf.extend_from_slice(&input[start..end]);
        parser
            .parse_batch(&mut buf, &mut cmds)
            .expect("benchmark input parses");
        start = end;
    }
    assert_eq!((cmds.len(), buf.len()), (n_cmds, 0));
}

fn bench(c: &mut Criterion) {
    let sets = pipelined_sets();
    let gets = pipelined_gets();
    let big_set = multibulk(&[b"SET", &key(0), &vec![b'x'; 4096]]);
    let pings: Vec<u8> = b"PING\r\n".repeat(PIPELINE);
    let n = PIPELINE as u64;

    bench_whole(c, "32 SET", &sets, PIPELINE, Throughput::Elements(n));
    bench_whole(c, "32 GET", &gets, PIPELINE, Throughput::Elements(n));
    bench_whole(
        c,
        "1 SET 4KiB value",
        &big_set,
        1,
        Throughput::Bytes(big_set.len() as u64),
    );
    bench_whole(
        c,
        "32 inline PING",
        &pings,
        PIPELINE,
        Throughput::Elements(n),
    );

    // The same 32 SETs arriving in two reads, cut inside the key of the 17th command: the first
    // call parses 16 commands and keeps the partial frame's progress, the second resumes it.
    // Appending the second read to the buffer is timed too, as the server's read does it.
    let cut = sets.len() / 2 + 20;
    let (first, second) = (&sets[..cut], Bytes::copy_from_slice(&sets[cut..]));
    check(&sets, &[cut, sets.len()], PIPELINE);
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(n));
    let (parser, ran) = recycling_parser(PIPELINE);
    group.bench_function("32 SET in two reads", |b| {
        b.iter_batched(
            || {
                let mut buf = BytesMut::with_capacity(sets.len());
                buf.extend_from_slice(first);
                (buf, recycle(&parser, &ran))
            },
            |(mut buf, mut cmds)| {
                let mut parser = parser.borrow_mut();
                let r1 = parser.parse_batch(&mut buf, &mut cmds);
                buf.extend_from_slice(&second);
                let r2 = parser.parse_batch(&mut buf, &mut cmds);
                *ran.borrow_mut() = cmds;
                (r1, r2, buf)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
