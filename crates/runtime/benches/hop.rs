//! Micro-benchmark of the cross-shard hop, through the public API: an in-process server on
//! loopback, one client connection, and a pipeline whose keys alternate between shard 0 and
//! shard 1 (so the connection never migrates, and every read sends exactly one batch to the
//! other thread). The same pipeline against a one-thread server has no hop; the difference
//! between the `threads2` and `threads1` rows is the hop's cost (plus the second thread's
//! scheduling), for a batch of `P / 2` remote commands per round trip.
//!
//! Run with `cargo bench -p rustis-runtime --bench hop`.

use std::io::{Read, Write};
use std::net::TcpStream;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rustis_runtime::routing::shard_of;
use rustis_runtime::{start, Config, ServerHandle, ServerOptions};

fn server(threads: usize) -> ServerHandle {
    let mut config = Config::default();
    config.set("port", "0", true).expect("port");
    config.set("bind", "127.0.0.1", true).expect("bind");
    start(ServerOptions {
        config,
        threads,
        ..Default::default()
    })
    .expect("server starts")
}

/// `n` keys that alternate between shard 0 and shard 1 of a two-shard server.
fn alternating_keys(n: usize) -> Vec<String> {
    let mut keys = Vec::with_capacity(n);
    let mut i = 0u64;
    while keys.len() < n {
        let k = format!("key:{i:012}");
        if shard_of(k.as_bytes(), 2) == keys.len() % 2 {
            keys.push(k);
        }
        i += 1;
    }
    keys
}

fn get(key: &str) -> Vec<u8> {
    format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len()).into_bytes()
}

/// Sends `req` and reads until `reply_len` bytes came back.
fn round_trip(conn: &mut TcpStream, req: &[u8], buf: &mut [u8], reply_len: usize) {
    conn.write_all(req).expect("write");
    let mut got = 0;
    while got < reply_len {
        let n = conn.read(&mut buf[got..]).expect("read");
        assert!(n > 0, "server closed the connection");
        got += n;
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("hop");
    for pipeline in [2usize, 32] {
        let keys = alternating_keys(pipeline);
        // Every key holds a 3-byte value: each reply is "$3\r\nabc\r\n".
        let mut setup = Vec::new();
        for k in &keys {
            setup.extend_from_slice(
                format!("*3\r\n$3\r\nSET\r\n${}\r\n{k}\r\n$3\r\nabc\r\n", k.len()).as_bytes(),
            );
        }
        let req: Vec<u8> = keys.iter().flat_map(|k| get(k)).collect();
        let reply_len = pipeline * b"$3\r\nabc\r\n".len();
        g.throughput(Throughput::Elements(pipeline as u64));
        for threads in [1usize, 2] {
            let handle = server(threads);
            let mut conn = TcpStream::connect(handle.addr()).expect("connect");
            conn.set_nodelay(true).expect("nodelay");
            let mut buf = vec![0u8; 64 * 1024];
            round_trip(&mut conn, &setup, &mut buf, pipeline * b"+OK\r\n".len());
            g.bench_function(format!("get/pipeline{pipeline}/threads{threads}"), |b| {
                b.iter(|| round_trip(&mut conn, &req, &mut buf, reply_len))
            });
            drop(conn);
            handle.shutdown();
            handle.wait();
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
