//! Set commands over TCP, each reply compared byte for byte with what redis-server 7.0.15
//! sends (the tables were recorded from it; sets whose order would differ hold integers, which
//! Redis keeps sorted). Every case runs on one thread and on four, so SMOVE, the set algebra and
//! its STORE forms take their cross-shard paths too.

use std::collections::BTreeSet;

use redis::Commands;
use rustis_tests::{check, check_all, each};

#[test]
fn set_commands_reply_like_redis() {
    each(|s| {
        let mut c = s.raw();
        let cases: &[(&[&str], &[u8])] = &[
            // SADD, SREM, membership, cardinality
            (&["sadd", "a", "3", "1", "2"], b":3\r\n"),
            (&["sadd", "a", "2", "4"], b":1\r\n"),
            (&["smembers", "a"], b"*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"),
            (&["scard", "a"], b":4\r\n"),
            (&["scard", "nokey"], b":0\r\n"),
            (&["sismember", "a", "1"], b":1\r\n"),
            (&["sismember", "a", "9"], b":0\r\n"),
            (&["sismember", "nokey", "1"], b":0\r\n"),
            (&["smismember", "a", "1", "9", "2"], b"*3\r\n:1\r\n:0\r\n:1\r\n"),
            (&["smismember", "nokey", "1", "2"], b"*2\r\n:0\r\n:0\r\n"),
            (&["srem", "a", "1", "9", "1"], b":1\r\n"),
            (&["srem", "nokey", "1"], b":0\r\n"),
            (&["smembers", "a"], b"*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"),
            (&["srem", "a", "2", "3", "4"], b":3\r\n"),
            (&["exists", "a"], b":0\r\n"),
            (&["smembers", "nokey"], b"*0\r\n"),
            // SPOP and SRANDMEMBER edges
            (&["sadd", "b", "5"], b":1\r\n"),
            (&["spop", "b", "0"], b"*0\r\n"),
            (&["spop", "b", "-1"], b"-ERR value is out of range, must be positive\r\n"),
            (&["spop", "b", "x"], b"-ERR value is out of range, must be positive\r\n"),
            (&["spop", "b", "1", "2"], b"-ERR syntax error\r\n"),
            (&["srandmember", "b"], b"$1\r\n5\r\n"),
            (&["srandmember", "b", "0"], b"*0\r\n"),
            (&["srandmember", "b", "5"], b"*1\r\n$1\r\n5\r\n"),
            (&["srandmember", "b", "-3"], b"*3\r\n$1\r\n5\r\n$1\r\n5\r\n$1\r\n5\r\n"),
            (&["srandmember", "b", "x"], b"-ERR value is not an integer or out of range\r\n"),
            (&["srandmember", "b", "-9223372036854775808"], b"-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"),
            (&["srandmember", "b", "1", "2"], b"-ERR syntax error\r\n"),
            (&["srandmember", "nokey"], b"$-1\r\n"),
            (&["srandmember", "nokey", "3"], b"*0\r\n"),
            (&["srandmember", "nokey", "-3"], b"*0\r\n"),
            (&["spop", "b"], b"$1\r\n5\r\n"),
            (&["exists", "b"], b":0\r\n"),
            (&["spop", "nokey"], b"$-1\r\n"),
            (&["spop", "nokey", "2"], b"*0\r\n"),
            (&["sadd", "b", "1", "2", "3"], b":3\r\n"),
            (&["spop", "b", "3"], b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
            (&["exists", "b"], b":0\r\n"),
            // Algebra over integer sets (reply order is by value, as for an intset)
            (&["sadd", "s1", "1", "2", "3", "4"], b":4\r\n"),
            (&["sadd", "s2", "3", "4", "5"], b":3\r\n"),
            (&["sadd", "s3", "4", "6"], b":2\r\n"),
            (&["sinter", "s1", "s2"], b"*2\r\n$1\r\n3\r\n$1\r\n4\r\n"),
            (&["sinter", "s1", "s2", "s3"], b"*1\r\n$1\r\n4\r\n"),
            (&["sinter", "s1", "nokey"], b"*0\r\n"),
            (&["sinter", "s1"], b"*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"),
            (&["sunion", "s1", "s2", "s3"], b"*6\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n"),
            (&["sunion", "nokey"], b"*0\r\n"),
            (&["sdiff", "s1", "s2"], b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            (&["sdiff", "s1", "s2", "s3"], b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            (&["sdiff", "nokey", "s1"], b"*0\r\n"),
            (&["sdiff", "s1", "nokey"], b"*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"),
            (&["sintercard", "2", "s1", "s2"], b":2\r\n"),
            (&["sintercard", "3", "s1", "s2", "s3"], b":1\r\n"),
            (&["sintercard", "2", "s1", "s2", "limit", "1"], b":1\r\n"),
            (&["sintercard", "2", "s1", "s2", "limit", "0"], b":2\r\n"),
            (&["sintercard", "1", "s1", "limit", "1", "limit", "3"], b":3\r\n"),
            (&["sintercard", "2", "s1", "nokey"], b":0\r\n"),
            (&["sintercard", "0", "s1"], b"-ERR numkeys should be greater than 0\r\n"),
            (&["sintercard", "x", "s1"], b"-ERR numkeys should be greater than 0\r\n"),
            (&["sintercard", "3", "s1", "s2"], b"-ERR Number of keys can't be greater than number of args\r\n"),
            (&["sintercard", "1", "s1", "limit", "-1"], b"-ERR LIMIT can't be negative\r\n"),
            (&["sintercard", "1", "s1", "limit", "x"], b"-ERR LIMIT can't be negative\r\n"),
            (&["sintercard", "1", "s1", "foo"], b"-ERR syntax error\r\n"),
            (&["sintercard", "1", "s1", "limit"], b"-ERR syntax error\r\n"),
            // STORE forms replace the destination and drop an empty result
            (&["sinterstore", "d", "s1", "s2"], b":2\r\n"),
            (&["smembers", "d"], b"*2\r\n$1\r\n3\r\n$1\r\n4\r\n"),
            (&["sunionstore", "d", "s1", "s2", "s3"], b":6\r\n"),
            (&["smembers", "d"], b"*6\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n"),
            (&["sdiffstore", "d", "s1", "s2", "s3"], b":2\r\n"),
            (&["smembers", "d"], b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            (&["sinterstore", "d", "s1", "nokey"], b":0\r\n"),
            (&["exists", "d"], b":0\r\n"),
            (&["sunionstore", "d", "nokey"], b":0\r\n"),
            (&["exists", "d"], b":0\r\n"),
            (&["sdiffstore", "s1", "s1", "s1"], b":0\r\n"),
            (&["exists", "s1"], b":0\r\n"),
            // SMOVE
            (&["sadd", "m1", "1", "2"], b":2\r\n"),
            (&["smove", "m1", "m2", "1"], b":1\r\n"),
            (&["smove", "m1", "m2", "1"], b":0\r\n"),
            (&["smove", "m1", "m2", "2"], b":1\r\n"),
            (&["exists", "m1"], b":0\r\n"),
            (&["smembers", "m2"], b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            (&["smove", "m2", "m2", "1"], b":1\r\n"),
            (&["smove", "m2", "m2", "9"], b":0\r\n"),
            (&["smove", "nokey", "m2", "1"], b":0\r\n"),
            // Wrong types
            (&["set", "str", "x"], b"+OK\r\n"),
            (&["sadd", "str", "a"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["srem", "str", "a"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["sismember", "str", "a"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["smismember", "str", "a"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["scard", "str"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["smembers", "str"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["spop", "str"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["srandmember", "str"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["srandmember", "str", "2"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["sscan", "str", "0"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["sadd", "m1", "1"], b":1\r\n"),
            (&["smove", "m1", "str", "1"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["smove", "str", "m1", "1"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["smove", "m1", "str", "9"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["smove", "nokey", "str", "9"], b":0\r\n"),
            (&["sinter", "s2", "nokey", "str"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["sinter", "str", "nokey"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["sunion", "nokey", "str"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["sdiff", "nokey", "str"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["sdiff", "s2", "str"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["sinterstore", "d", "s2", "str"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            (&["sinterstore", "str", "s2"], b":3\r\n"),
            (&["type", "str"], b"+set\r\n"),
            (&["sintercard", "2", "s2", "str"], b":3\r\n"),
            // SSCAN on a small set returns it all at once
            (&["sadd", "sc", "3", "1", "2"], b":3\r\n"),
            (&["sscan", "sc", "0"], b"*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
            (&["sscan", "sc", "0", "match", "1*"], b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\n1\r\n"),
            (&["sscan", "sc", "0", "count", "1"], b"*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
            (&["sscan", "sc", "-1"], b"*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
            (&["sscan", "sc", "18446744073709551615"], b"*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
            (&["sscan", "sc", "18446744073709551616"], b"-ERR invalid cursor\r\n"),
            (&["sscan", "sc", "x"], b"-ERR invalid cursor\r\n"),
            (&["sscan", "sc", "0", "count", "0"], b"-ERR syntax error\r\n"),
            (&["sscan", "sc", "0", "count", "x"], b"-ERR value is not an integer or out of range\r\n"),
            (&["sscan", "sc", "0", "match"], b"-ERR syntax error\r\n"),
            (&["sscan", "sc", "0", "type", "string"], b"-ERR syntax error\r\n"),
            (&["sscan", "sc", "0", "foo", "bar"], b"-ERR syntax error\r\n"),
            (&["sscan", "nokey", "0"], b"*2\r\n$1\r\n0\r\n*0\r\n"),
            // Arity
            (&["sadd", "a"], b"-ERR wrong number of arguments for 'sadd' command\r\n"),
            (&["sismember", "a"], b"-ERR wrong number of arguments for 'sismember' command\r\n"),
            (&["smismember", "a"], b"-ERR wrong number of arguments for 'smismember' command\r\n"),
            (&["smove", "a", "b"], b"-ERR wrong number of arguments for 'smove' command\r\n"),
            (&["sintercard", "1"], b"-ERR wrong number of arguments for 'sintercard' command\r\n"),
            (&["sinterstore", "d"], b"-ERR wrong number of arguments for 'sinterstore' command\r\n"),
        ];
        check_all(&mut c, cases);
    });
}

#[test]
fn set_replies_in_resp3() {
    each(|s| {
        let mut c = s.raw();
        assert!(c.cmd(&["HELLO", "3"]).starts_with(b"%"));
        let cases: &[(&[&str], &[u8])] = &[
            (&["sadd", "a", "1", "2"], b":2\r\n"),
            (&["smembers", "a"], b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            (&["smembers", "nokey"], b"~0\r\n"),
            (&["sinter", "a"], b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            (&["sunion", "nokey"], b"~0\r\n"),
            (&["sdiff", "a"], b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            (&["spop", "nokey"], b"_\r\n"),
            (&["spop", "nokey", "1"], b"~0\r\n"),
            (&["spop", "a", "0"], b"~0\r\n"),
            (&["srandmember", "nokey"], b"_\r\n"),
            (&["srandmember", "nokey", "1"], b"*0\r\n"),
            (&["srandmember", "a", "5"], b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            (&["smismember", "a", "1", "3"], b"*2\r\n:1\r\n:0\r\n"),
            (
                &["sscan", "a", "0"],
                b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n",
            ),
        ];
        check_all(&mut c, cases);
    });
}

fn set_of(v: Vec<String>) -> BTreeSet<String> {
    v.into_iter().collect()
}

#[test]
fn algebra_over_string_sets_across_shards() {
    each(|s| {
        let mut c = s.client();
        let _: i64 = c.sadd("a", &["x", "y", "z", "w"]).unwrap();
        let _: i64 = c.sadd("b", &["y", "z", "v"]).unwrap();
        let _: i64 = c.sadd("c", &["z", "u"]).unwrap();
        let inter: Vec<String> = c.sinter(&["a", "b", "c"]).unwrap();
        assert_eq!(set_of(inter), set_of(vec!["z".into()]));
        let union: Vec<String> = c.sunion(&["a", "b", "c"]).unwrap();
        assert_eq!(union.len(), 6);
        let diff: Vec<String> = c.sdiff(&["a", "b", "c"]).unwrap();
        assert_eq!(set_of(diff), set_of(vec!["x".into(), "w".into()]));
        let n: i64 = c.sunionstore("d", &["a", "b", "c"]).unwrap();
        assert_eq!(n, 6);
        let n: i64 = c.sdiffstore("a", &["a", "b"]).unwrap();
        assert_eq!(n, 2);
        let moved: i64 = c.smove("a", "c", "x").unwrap();
        assert_eq!(moved, 1);
        let cm: Vec<String> = c.smembers("c").unwrap();
        assert_eq!(set_of(cm), set_of(vec!["z".into(), "u".into(), "x".into()]));
        let card: i64 = redis::cmd("SINTERCARD")
            .arg(3)
            .arg("d")
            .arg("b")
            .arg("c")
            .query(&mut c)
            .unwrap();
        assert_eq!(card, 1);
    });
}

#[test]
fn spop_and_srandmember_are_random_and_sized() {
    each(|s| {
        let mut c = s.client();
        let members: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
        let _: i64 = c.sadd("s", &members).unwrap();
        let some: Vec<String> = c.srandmember_multiple("s", 50).unwrap();
        assert_eq!(set_of(some.clone()).len(), 50);
        let again: Vec<String> = c.srandmember_multiple("s", 50).unwrap();
        assert_ne!(some, again, "two draws of 50 out of 200 should differ");
        let rep: Vec<String> = redis::cmd("SRANDMEMBER")
            .arg("s")
            .arg(-500)
            .query(&mut c)
            .unwrap();
        assert_eq!(rep.len(), 500);
        assert!(rep.iter().all(|m| members.contains(m)));
        assert!(
            set_of(rep).len() < 500,
            "a negative count draws with repeats"
        );
        let popped: Vec<String> = redis::cmd("SPOP").arg("s").arg(150).query(&mut c).unwrap();
        assert_eq!(set_of(popped.clone()).len(), 150);
        let left: i64 = c.scard("s").unwrap();
        assert_eq!(left, 50);
        let rest: Vec<String> = redis::cmd("SPOP").arg("s").arg(100).query(&mut c).unwrap();
        let mut all = set_of(popped);
        all.extend(rest);
        assert_eq!(all, set_of(members));
        let exists: bool = c.exists("s").unwrap();
        assert!(!exists);
    });
}

#[test]
fn sscan_visits_every_member_of_a_big_set() {
    each(|s| {
        let mut c = s.client();
        let members: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
        let _: i64 = c.sadd("s", &members).unwrap();
        let mut cursor = 0u64;
        let mut seen = BTreeSet::new();
        let mut calls = 0;
        loop {
            let (next, got): (u64, Vec<String>) = redis::cmd("SSCAN")
                .arg("s")
                .arg(cursor)
                .arg("COUNT")
                .arg(100)
                .query(&mut c)
                .unwrap();
            seen.extend(got);
            calls += 1;
            // Removing members while scanning never hides one that stays.
            let _: i64 = c.srem("s", format!("m{}", calls * 7)).unwrap();
            if next == 0 {
                break;
            }
            cursor = next;
        }
        assert!(calls > 5, "a 1000-member set is scanned in several steps");
        for i in 0..1000 {
            if i % 7 != 0 || i / 7 > calls {
                assert!(seen.contains(&format!("m{i}")), "m{i} missed");
            }
        }
        let matched: (u64, Vec<String>) = redis::cmd("SSCAN")
            .arg("s")
            .arg(0)
            .arg("MATCH")
            .arg("m99*")
            .arg("COUNT")
            .arg(10000)
            .query(&mut c)
            .unwrap();
        assert_eq!(matched.0, 0);
        assert_eq!(
            set_of(matched.1),
            std::iter::once("m99".to_string())
                .chain((990..1000).map(|i| format!("m{i}")))
                .collect()
        );
    });
}

#[test]
fn set_encodings_and_ttls_follow_redis() {
    // intset while every member is a canonical integer and there are at most set-max-intset-entries; a set never goes back except when rebuilt (STORE forms, SMOVE into a new key); STORE forms drop the TTL.
    each(|s| {
        let mut c = s.raw();
        let cases: &[(&[&str], &[u8])] = &[
            (&["sadd", "s", "1", "2", "3"], b":3\r\n"),
            (&["object", "encoding", "s"], b"$6\r\nintset\r\n"),
            (&["sadd", "s", "a"], b":1\r\n"),
            (&["object", "encoding", "s"], b"$9\r\nhashtable\r\n"),
            (&["srem", "s", "a"], b":1\r\n"),
            (&["object", "encoding", "s"], b"$9\r\nhashtable\r\n"),
            (&["sadd", "t", "01"], b":1\r\n"),
            (&["object", "encoding", "t"], b"$9\r\nhashtable\r\n"),
            (
                &["config", "set", "set-max-intset-entries", "3"],
                b"+OK\r\n",
            ),
            (&["sadd", "u", "1", "2", "3"], b":3\r\n"),
            (&["object", "encoding", "u"], b"$6\r\nintset\r\n"),
            (&["sadd", "u", "4"], b":1\r\n"),
            (&["object", "encoding", "u"], b"$9\r\nhashtable\r\n"),
            (&["srem", "u", "4"], b":1\r\n"),
            (&["object", "encoding", "u"], b"$9\r\nhashtable\r\n"),
            (&["sinterstore", "v", "u", "u"], b":3\r\n"),
            (&["object", "encoding", "v"], b"$6\r\nintset\r\n"),
            (&["sunionstore", "w", "s", "t"], b":4\r\n"),
            (&["object", "encoding", "w"], b"$9\r\nhashtable\r\n"),
            (
                &["config", "set", "set-max-intset-entries", "512"],
                b"+OK\r\n",
            ),
            (&["sadd", "q", "1", "x"], b":2\r\n"),
            (&["smove", "q", "r", "1"], b":1\r\n"),
            (&["object", "encoding", "r"], b"$6\r\nintset\r\n"),
            (&["sadd", "ts", "1"], b":1\r\n"),
            (&["expire", "ts", "100"], b":1\r\n"),
            (&["sunionstore", "ts", "ts"], b":1\r\n"),
            (&["ttl", "ts"], b":-1\r\n"),
        ];
        check_all(&mut c, cases);
    });
}

#[test]
fn read_lookups_count_keyspace_hits_and_misses_like_redis() {
    each(|s| {
        let mut c = s.raw();
        c.cmd(&["RPUSH", "l", "a", "b"]);
        c.cmd(&["SADD", "s", "1", "x"]);
        c.cmd(&["SET", "str", "v"]);
        check(&mut c, &["CONFIG", "RESETSTAT"], b"+OK\r\n");
        let cmds: &[&[&str]] = &[
            &["LLEN", "l"],
            &["LLEN", "no"],
            &["LINDEX", "l", "0"],
            &["LINDEX", "no", "0"],
            &["LRANGE", "l", "0", "-1"],
            &["LRANGE", "no", "0", "1"],
            &["LPOS", "l", "a"],
            &["LPOS", "no", "a"],
            &["LINDEX", "str", "0"],
            &["SCARD", "s"],
            &["SCARD", "no"],
            &["SISMEMBER", "s", "1"],
            &["SISMEMBER", "no", "1"],
            &["SMISMEMBER", "s", "1", "2"],
            &["SMEMBERS", "s"],
            &["SMEMBERS", "no"],
            &["SRANDMEMBER", "s"],
            &["SRANDMEMBER", "no"],
            &["SRANDMEMBER", "s", "2"],
            &["SRANDMEMBER", "no", "-2"],
            &["SSCAN", "s", "0"],
            &["SSCAN", "no", "0"],
            &["SCARD", "str"],
            // Writes do not count.
            &["LPUSH", "l", "z"],
            &["LPOP", "l"],
            &["SADD", "s", "q"],
            &["SPOP", "no"],
        ];
        for args in cmds {
            c.cmd(args);
        }
        let info = String::from_utf8_lossy(&c.cmd(&["INFO", "stats"])).to_string();
        // What redis-server 7.0.15 reports after the same commands.
        assert!(info.contains("keyspace_hits:13\r\n"), "{info}");
        assert!(info.contains("keyspace_misses:10\r\n"), "{info}");
    });
}
