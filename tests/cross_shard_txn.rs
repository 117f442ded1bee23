//! Cross-shard read-modify-write commands (RENAME, LMOVE, SMOVE, SINTERSTORE, ...) take their
//! keys' entries out of the owning shards and put every one of them back: changed ones as
//! changed, the others exactly as they were, also when the command fails.

use rustis_storage::slot::shard_of;
use rustis_storage::ManualClock;
use rustis_tests::{check, TestServer};

/// `n` key names derived from `base`, each on a different shard with `threads` threads
/// (`n <= threads`).
fn spread(base: &str, n: usize, threads: usize) -> Vec<String> {
    assert!(n <= threads);
    let mut keys: Vec<String> = Vec::new();
    for i in 0.. {
        let k = format!("{base}{i}");
        if keys
            .iter()
            .all(|o| shard_of(o.as_bytes(), threads) != shard_of(k.as_bytes(), threads))
        {
            keys.push(k);
            if keys.len() == n {
                return keys;
            }
        }
    }
    unreachable!()
}

#[test]
fn a_failed_cross_shard_command_leaves_every_key_as_it_was() {
    for threads in [2, 4] {
        let server = TestServer::start(threads);
        let mut c = server.raw();
        let k = spread("f", 2, threads);
        let (list, text) = (&k[0][..], &k[1][..]);
        check(&mut c, &["RPUSH", list, "a", "b", "c"], b":3\r\n");
        check(&mut c, &["SET", text, "v"], b"+OK\r\n");
        check(
            &mut c,
            &["LMOVE", list, text, "LEFT", "LEFT"],
            b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        check(
            &mut c,
            &["LRANGE", list, "0", "-1"],
            b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
        );
        check(&mut c, &["GET", text], b"$1\r\nv\r\n");
        check(&mut c, &["EXPIRE", text, "100"], b":1\r\n");
        check(
            &mut c,
            &["SMOVE", text, list, "m"],
            b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        // The TTL came back with the entry.
        check(&mut c, &["TTL", text], b":100\r\n");
        check(&mut c, &["DBSIZE"], b":2\r\n");
    }
}

#[test]
fn cross_shard_commands_move_values_and_keep_their_sources() {
    for threads in [2, 4] {
        // A stopped clock, so that the TTL read back is exactly the one set.
        let server = TestServer::start_with_clock(threads, ManualClock::new(1_700_000_000_000));
        let mut c = server.raw();
        let k = spread("m", 2, threads);
        // The destination shares the first key's shard (its hash tag is that key).
        let dst = format!("{{{}}}dst", k[0]);
        let (a, b, dst) = (&k[0][..], &k[1][..], &dst[..]);
        check(&mut c, &["SADD", a, "x", "y", "z"], b":3\r\n");
        check(&mut c, &["SADD", b, "y", "z", "w"], b":3\r\n");
        check(&mut c, &["SINTERSTORE", dst, a, b], b":2\r\n");
        check(&mut c, &["SCARD", a], b":3\r\n");
        check(&mut c, &["SCARD", b], b":3\r\n");
        check(&mut c, &["SISMEMBER", dst, "y"], b":1\r\n");
        // RENAME moves the value, its TTL included, and the source is gone.
        check(&mut c, &["PEXPIRE", a, "500000"], b":1\r\n");
        check(&mut c, &["RENAME", a, dst], b"+OK\r\n");
        check(&mut c, &["EXISTS", a], b":0\r\n");
        check(&mut c, &["SCARD", dst], b":3\r\n");
        check(&mut c, &["PTTL", dst], b":500000\r\n");
        // A big list crosses shards whole.
        let big: Vec<String> = (0..10_000).map(|i| i.to_string()).collect();
        let mut args = vec!["RPUSH", b];
        check(&mut c, &["DEL", b], b":1\r\n");
        args.extend(big.iter().map(String::as_str));
        check(&mut c, &args, b":10000\r\n");
        check(&mut c, &["RENAME", b, a], b"+OK\r\n");
        check(&mut c, &["LLEN", a], b":10000\r\n");
        check(&mut c, &["LINDEX", a, "9999"], b"$4\r\n9999\r\n");
        check(&mut c, &["DBSIZE"], b":2\r\n");
    }
}
