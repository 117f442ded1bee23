//! The append-only file: every type, expiries and cross-shard work (MSET, EXEC, scripts,
//! RENAME, FLUSHDB, SWAPDB) survive a restart from the AOF; concurrent writers' final state is
//! what a restart loads; BGREWRITEAOF under concurrent writes loses nothing; an AOF directory
//! written by redis-server 7.0.15 loads with the same data; `appendfsync always` has the
//! record on disk before the reply; a truncated tail loads (or refuses, with
//! `aof-load-truncated no`); CONFIG SET appendonly turns it on and off. On 1 and 4 threads.

use std::path::Path;
use std::time::{Duration, Instant};

use rustis_runtime::Config;
use rustis_tests::{show, spread, RawConn, Reference, TempDir, TestServer, THREADS};

fn config_in(dir: &Path, extra: &[(&str, &str)]) -> Config {
    let mut config = Config::default();
    config
        .set("dir", dir.to_str().expect("UTF-8"), true)
        .expect("dir");
    config.set("appendonly", "yes", true).expect("appendonly");
    for (k, v) in extra {
        config.set(k, v, true).expect("setting");
    }
    config
}

fn start_aof(threads: usize, dir: &Path, extra: &[(&str, &str)]) -> TestServer {
    TestServer::start_opts(threads, None, config_in(dir, extra))
}

/// Everything a client can see of the dataset, one line per key, for comparisons: database,
/// key, type, value (collections in a canonical order) and absolute expiry.
fn state(c: &mut redis::Connection) -> Vec<String> {
    let mut out = Vec::new();
    for db in 0..16 {
        redis::cmd("SELECT").arg(db).query::<()>(c).unwrap();
        let mut keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(c).unwrap();
        keys.sort();
        for k in keys {
            let t: String = redis::cmd("TYPE").arg(&k).query(c).unwrap();
            let v = match t.as_str() {
                "string" => format!(
                    "{:?}",
                    redis::cmd("GET").arg(&k).query::<Vec<u8>>(c).unwrap()
                ),
                "list" => format!(
                    "{:?}",
                    redis::cmd("LRANGE")
                        .arg(&k)
                        .arg(0)
                        .arg(-1)
                        .query::<Vec<Vec<u8>>>(c)
                        .unwrap()
                ),
                "set" => {
                    let mut m: Vec<Vec<u8>> = redis::cmd("SMEMBERS").arg(&k).query(c).unwrap();
                    m.sort();
                    format!("{m:?}")
                }
                "hash" => {
                    let mut m: Vec<(Vec<u8>, Vec<u8>)> =
                        redis::cmd("HGETALL").arg(&k).query(c).unwrap();
                    m.sort();
                    format!("{m:?}")
                }
                "zset" => format!(
                    "{:?}",
                    redis::cmd("ZRANGE")
                        .arg(&k)
                        .arg(0)
                        .arg(-1)
                        .arg("WITHSCORES")
                        .query::<Vec<Vec<u8>>>(c)
                        .unwrap()
                ),
                "stream" => format!(
                    "{:?} {:?}",
                    redis::cmd("XRANGE")
                        .arg(&k)
                        .arg("-")
                        .arg("+")
                        .query::<redis::Value>(c)
                        .unwrap(),
                    redis::cmd("XINFO")
                        .arg("GROUPS")
                        .arg(&k)
                        .query::<redis::Value>(c)
                        .unwrap()
                ),
                other => other.to_string(),
            };
            let at: i64 = redis::cmd("PEXPIRETIME").arg(&k).query(c).unwrap();
            out.push(format!("{db} {} {t} {v} {at}", String::from_utf8_lossy(&k)));
        }
    }
    redis::cmd("SELECT").arg(0).query::<()>(c).unwrap();
    out
}

/// Commands that build every type, with expiries and commands the AOF must rewrite.
fn single_key_writes(c: &mut RawConn) {
    for args in [
        &["SET", "s", "v"][..],
        &["SET", "s:ex", "v", "EX", "1000"],
        &["SETEX", "s:setex", "1000", "v"],
        &["SET", "s:short", "v", "PX", "1"],
        &["APPEND", "s", "w"],
        &["INCRBYFLOAT", "s:float", "1.25"],
        &["INCR", "s:int"],
        &["RPUSH", "l", "a", "b", "c", "d"],
        &["LPOP", "l"],
        &["SADD", "set", "1", "2", "3", "4", "5"],
        &["SPOP", "set"],
        &["SPOP", "set", "2"],
        &["HSET", "h", "f1", "v1", "f2", "v2"],
        &["HINCRBYFLOAT", "h", "f3", "0.5"],
        &["ZADD", "z", "1", "a", "2", "b", "3.5", "c"],
        &["ZPOPMIN", "z"],
        &["XADD", "x", "*", "f", "v"],
        &["XADD", "x", "*", "g", "w"],
        &["XADD", "x", "MAXLEN", "=", "5", "*", "h", "u"],
        &["XGROUP", "CREATE", "x", "grp", "0"],
        &[
            "XREADGROUP",
            "GROUP",
            "grp",
            "c1",
            "COUNT",
            "1",
            "STREAMS",
            "x",
            ">",
        ],
        &["PFADD", "hll", "a", "b", "c"],
        &["SETBIT", "bits", "7", "1"],
        &["EXPIRE", "l", "5000"],
        &["PEXPIRE", "h", "500000"],
        &["EXPIREAT", "z", "4000000000"],
        &["SET", "gone", "x"],
        &["DEL", "gone"],
        &["SET", "persisted", "x", "EX", "100"],
        &["PERSIST", "persisted"],
        &["SELECT", "3"],
        &["SET", "in3", "x"],
        &["RPUSH", "l3", "x"],
        &["SELECT", "4"],
        &["SET", "in4", "y"],
        &["SELECT", "0"],
    ] {
        let r = c.cmd(args);
        assert!(!r.starts_with(b"-"), "{args:?}: {}", show(&r));
    }
}

/// Cross-shard work: multi-key commands, EXEC and scripts whose keys span shards, RENAME
/// across shards, a blocked pop served by a push, FLUSHDB and SWAPDB.
fn cross_shard_writes(s: &TestServer, threads: usize) {
    let mut c = s.raw();
    let k = spread("cs", 4, threads);
    let (a, b, d, e) = (&k[0], &k[1], &k[2], &k[3]);
    for args in [
        vec!["MSET", a, "1", b, "2", d, "3", e, "4"],
        vec!["DEL", a, d],
        vec!["MSET", a, "x", d, "y"],
        vec!["RENAME", b, "renamed"],
        vec!["MULTI"],
        vec!["INCR", a.as_str()],
        vec!["SET", e, "from-exec"],
        vec!["RPUSH", "exec-list", "p", "q"],
        vec!["EXEC"],
        vec![
            "EVAL",
            "redis.call('set', KEYS[1], 'lua'); redis.call('rpush', KEYS[2], 'r'); \
             redis.call('sadd', KEYS[3], redis.call('get', KEYS[4])); return 1",
            "4",
            a,
            b,
            "lua-set",
            d,
        ],
        vec!["SELECT", "5"],
        vec!["SET", "swap-me", "5"],
        vec!["SELECT", "6"],
        vec!["SET", "flushed", "6"],
        vec!["FLUSHDB"],
        vec!["SET", "after-flush", "6"],
        vec!["SWAPDB", "5", "7"],
        // All-shard commands inside a transaction over every shard.
        vec!["SELECT", "8"],
        vec!["MSET", a, "8", b, "8", d, "8"],
        vec!["MULTI"],
        vec!["SET", e, "gone"],
        vec!["FLUSHDB"],
        vec!["SET", a, "kept"],
        vec!["SWAPDB", "8", "9"],
        vec!["SET", b, "in8"],
        vec!["EXEC"],
        vec!["SELECT", "0"],
    ] {
        let args: Vec<&str> = args.iter().map(|s| s.as_ref()).collect();
        let r = c.cmd(&args);
        assert!(!r.starts_with(b"-"), "{args:?}: {}", show(&r));
    }
    // A blocked pop served by a push from another client.
    let mut blocked = s.raw();
    blocked.send_cmd(&["BLPOP", "wait-list", "0"]);
    s.wait_blocked(1);
    c.cmd(&["RPUSH", "wait-list", "one", "two"]);
    assert_eq!(
        show(&blocked.read_reply()),
        "*2\r\n$9\r\nwait-list\r\n$3\r\none\r\n"
    );
}

#[test]
fn a_restart_loads_every_type_expiry_and_cross_shard_write_from_the_aof() {
    for threads in THREADS {
        let dir = TempDir::new("restart");
        let before = {
            let s = start_aof(threads, &dir.0, &[]);
            let mut c = s.raw();
            single_key_writes(&mut c);
            cross_shard_writes(&s, threads);
            // The key with a 1 ms expiry is gone (and logged as gone).
            let deadline = Instant::now() + Duration::from_secs(5);
            while c.cmd(&["EXISTS", "s:short"]) != b":0\r\n" {
                assert!(Instant::now() < deadline);
                std::thread::sleep(Duration::from_millis(2));
            }
            state(&mut s.client())
        };
        assert!(before.len() > 20, "{before:?}");
        let manifest =
            std::fs::read_to_string(dir.0.join("appendonlydir").join("appendonly.aof.manifest"))
                .unwrap();
        assert_eq!(
            manifest,
            "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
        );
        // EXEC and scripts are MULTI/EXEC blocks, whichever shards their keys are on.
        let incr = std::fs::read(dir.0.join("appendonlydir/appendonly.aof.1.incr.aof")).unwrap();
        let multi = b"*1\r\n$5\r\nMULTI\r\n";
        let blocks = incr.windows(multi.len()).filter(|w| w == multi).count();
        assert_eq!(blocks, 3, "the EXECs and the script, {threads} threads");
        // Any thread count loads it.
        for t in [1, 3] {
            let s = start_aof(t, &dir.0, &[]);
            assert_eq!(
                state(&mut s.client()),
                before,
                "{threads} threads, then {t}"
            );
        }
    }
}

#[test]
fn a_restart_has_what_concurrent_writers_left() {
    for threads in THREADS {
        let dir = TempDir::new("concurrent");
        let before = {
            let s = start_aof(threads, &dir.0, &[]);
            let keys = spread("c", 4, threads.max(4));
            let workers: Vec<_> = (0..4)
                .map(|w| {
                    let addr = s.addr;
                    let keys = keys.clone();
                    std::thread::spawn(move || {
                        let mut c = RawConn::connect(addr);
                        for i in 0..300 {
                            let v = format!("{w}-{i}");
                            // Cross-shard units and single-key writes on the same keys.
                            c.cmd(&["MSET", &keys[0], &v, &keys[1], &v, &keys[2], &v]);
                            c.cmd(&["INCR", &keys[3]]);
                            c.cmd(&["RPUSH", "log", &v]);
                            c.cmd(&["MULTI"]);
                            c.cmd(&["SET", &keys[2], &v]);
                            c.cmd(&["INCR", &keys[3]]);
                            c.cmd(&["RPUSH", &keys[1], &v]);
                            c.cmd(&["DEL", &keys[1]]);
                            c.cmd(&["EXEC"]);
                            c.cmd(&[
                                "EVAL",
                                "redis.call('incr', KEYS[1]); redis.call('set', KEYS[2], ARGV[1])",
                                "2",
                                &keys[3],
                                &keys[0],
                                &v,
                            ]);
                        }
                    })
                })
                .collect();
            for w in workers {
                w.join().unwrap();
            }
            state(&mut s.client())
        };
        let s = start_aof(threads, &dir.0, &[]);
        assert_eq!(state(&mut s.client()), before, "{threads} threads");
    }
}

fn info_field(c: &mut RawConn, name: &str) -> String {
    let info = show(&c.cmd(&["INFO", "persistence"]));
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("{name} in {info}"))
        .to_string()
}

#[test]
fn bgrewriteaof_under_concurrent_writes_loses_nothing() {
    for threads in THREADS {
        let dir = TempDir::new("rewrite");
        let before = {
            let s = start_aof(threads, &dir.0, &[]);
            let mut c = s.raw();
            let mut pipe = Vec::new();
            for i in 0..5000 {
                pipe.extend(rustis_tests::encode(&[
                    b"SET",
                    format!("k{i}").as_bytes(),
                    b"old",
                ]));
            }
            c.send(&pipe);
            for _ in 0..5000 {
                c.read_reply();
            }
            let addr = s.addr;
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let st = stop.clone();
            let writer = std::thread::spawn(move || {
                let mut c = RawConn::connect(addr);
                let mut i = 0u64;
                while !st.load(std::sync::atomic::Ordering::Relaxed) || i < 2000 {
                    c.cmd(&["SET", &format!("k{}", i % 5000), &format!("new{i}")]);
                    c.cmd(&["RPUSH", "list", &i.to_string()]);
                    c.cmd(&[
                        "MSET",
                        &format!("m{}", i % 7),
                        "1",
                        &format!("n{}", i % 11),
                        "2",
                    ]);
                    i += 1;
                }
            });
            assert_eq!(
                show(&c.cmd(&["BGREWRITEAOF"])),
                "+Background append only file rewriting started\r\n"
            );
            let deadline = Instant::now() + Duration::from_secs(30);
            while info_field(&mut c, "aof_rewrite_in_progress") != "0" {
                assert!(Instant::now() < deadline, "the rewrite never ended");
                std::thread::sleep(Duration::from_millis(5));
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            writer.join().unwrap();
            assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok");
            assert_eq!(info_field(&mut c, "aof_rewrites"), "1");
            state(&mut s.client())
        };
        let aof = dir.0.join("appendonlydir");
        let manifest = std::fs::read_to_string(aof.join("appendonly.aof.manifest")).unwrap();
        assert_eq!(
            manifest,
            "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
        );
        let mut files: Vec<String> = std::fs::read_dir(&aof)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(
            files,
            [
                "appendonly.aof.2.base.rdb",
                "appendonly.aof.2.incr.aof",
                "appendonly.aof.manifest"
            ],
            "the old files are deleted"
        );
        let s = start_aof(threads, &dir.0, &[]);
        assert_eq!(state(&mut s.client()), before, "{threads} threads");
    }
}

#[test]
fn appendfsync_always_has_the_record_on_disk_before_the_reply() {
    for threads in THREADS {
        let dir = TempDir::new("always");
        let s = start_aof(threads, &dir.0, &[("appendfsync", "always")]);
        let mut c = s.raw();
        for i in 0..20 {
            let v = format!("value-{i}");
            assert_eq!(c.cmd(&["SET", &format!("key{i}"), &v]), b"+OK\r\n");
            // As a crash right after the reply would leave the disk: the record is there.
            let incr =
                std::fs::read(dir.0.join("appendonlydir/appendonly.aof.1.incr.aof")).unwrap();
            let needle = format!("$7\r\nvalue-{i}\r\n");
            let needle = if i >= 10 {
                format!("$8\r\nvalue-{i}\r\n")
            } else {
                needle
            };
            assert!(
                incr.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "record {i} not in the file after the reply"
            );
        }
        // A copy of the directory taken now (the server still running, as if killed) loads.
        let copy = TempDir::new("always-copy");
        let from = dir.0.join("appendonlydir");
        std::fs::create_dir_all(copy.0.join("appendonlydir")).unwrap();
        for e in std::fs::read_dir(&from).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), copy.0.join("appendonlydir").join(e.file_name())).unwrap();
        }
        let s2 = start_aof(threads, &copy.0, &[]);
        assert_eq!(s2.raw().cmd(&["GET", "key19"]), b"$8\r\nvalue-19\r\n");
        drop(s);
    }
}

#[test]
fn a_truncated_tail_loads_or_refuses_as_configured() {
    for threads in THREADS {
        let dir = TempDir::new("truncated");
        {
            let s = start_aof(threads, &dir.0, &[]);
            s.raw().cmd(&["SET", "kept", "1"]);
        }
        let incr = dir.0.join("appendonlydir/appendonly.aof.1.incr.aof");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&incr)
            .unwrap();
        std::io::Write::write_all(&mut f, b"*3\r\n$3\r\nSET\r\n$4\r\nlost\r\n$1").unwrap();
        drop(f);
        let len = std::fs::metadata(&incr).unwrap().len();
        let refused = rustis_runtime::start(rustis_runtime::ServerOptions {
            config: {
                let mut c = config_in(&dir.0, &[("aof-load-truncated", "no")]);
                c.set("port", "0", true).unwrap();
                c
            },
            threads,
            ..Default::default()
        });
        let e = refused.err().expect("refuses a truncated AOF");
        assert!(
            e.to_string()
                .contains("Unexpected end of file reading the append only file"),
            "{e}"
        );
        assert_eq!(
            std::fs::metadata(&incr).unwrap().len(),
            len,
            "not truncated"
        );
        let s = start_aof(threads, &dir.0, &[]);
        let mut c = s.raw();
        assert_eq!(c.cmd(&["GET", "kept"]), b"$1\r\n1\r\n");
        assert_eq!(c.cmd(&["EXISTS", "lost"]), b":0\r\n");
        assert!(
            std::fs::metadata(&incr).unwrap().len() < len,
            "the tail was cut"
        );
    }
}

#[test]
fn config_set_appendonly_turns_the_aof_on_and_off() {
    for threads in THREADS {
        let dir = TempDir::new("config-set");
        {
            let mut config = Config::default();
            config
                .set("dir", dir.0.to_str().unwrap(), true)
                .expect("dir");
            let s = TestServer::start_opts(threads, None, config);
            let mut c = s.raw();
            c.cmd(&["SET", "before", "1"]);
            c.cmd(&["RPUSH", "list", "a", "b"]);
            assert_eq!(info_field(&mut c, "aof_enabled"), "0");
            assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "yes"]), b"+OK\r\n");
            assert_eq!(info_field(&mut c, "aof_enabled"), "1");
            c.cmd(&["SET", "after", "2"]);
            let deadline = Instant::now() + Duration::from_secs(30);
            while info_field(&mut c, "aof_rewrite_in_progress") != "0" {
                assert!(Instant::now() < deadline);
                std::thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(
                c.cmd(&["CONFIG", "GET", "appendonly"]),
                b"*2\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n"
            );
        }
        let s = start_aof(threads, &dir.0, &[]);
        let mut c = s.raw();
        assert_eq!(c.cmd(&["GET", "before"]), b"$1\r\n1\r\n");
        assert_eq!(c.cmd(&["GET", "after"]), b"$1\r\n2\r\n");
        assert_eq!(
            c.cmd(&["LRANGE", "list", "0", "-1"]),
            b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
        );
        assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "no"]), b"+OK\r\n");
        assert_eq!(info_field(&mut c, "aof_enabled"), "0");
        c.cmd(&["SET", "unlogged", "3"]);
        drop(s);
        let s = start_aof(threads, &dir.0, &[]);
        assert_eq!(s.raw().cmd(&["EXISTS", "unlogged"]), b":0\r\n");
    }
}

#[test]
fn an_aof_written_by_redis_server_loads_with_the_same_data() {
    let dir = TempDir::new("reference");
    let expected = {
        let r = Reference::start_with(Some(&dir.0), &["--appendonly", "yes"]);
        let mut c = r.conn();
        single_key_writes(&mut c);
        for args in [
            &["MSET", "a", "1", "b", "2", "c", "3"][..],
            &["RENAME", "a", "renamed"],
            &["MULTI"],
            &["INCR", "b"],
            &["LPUSH", "ml", "x"],
            &["EXEC"],
            &[
                "EVAL",
                "redis.call('set', 'lua', 'y'); redis.call('incr', 'b')",
                "0",
            ],
            &["SELECT", "5"],
            &["SET", "in5", "z"],
            &["SWAPDB", "5", "6"],
            &["SELECT", "0"],
        ] {
            let r = c.cmd(args);
            assert!(!r.starts_with(b"-"), "{args:?}: {}", show(&r));
        }
        // A rewrite makes a base in RDB format; later writes go to the new incr file.
        assert_eq!(
            show(&c.cmd(&["BGREWRITEAOF"])),
            "+Background append only file rewriting started\r\n"
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while info_field(&mut c, "aof_rewrite_in_progress") != "0" {
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(5));
        }
        c.cmd(&["SET", "after-rewrite", "1"]);
        c.cmd(&["XADD", "x2", "*", "f", "v"]);
        let st = state(&mut r.client());
        drop(r);
        st
    };
    for threads in THREADS {
        let s = start_aof(threads, &dir.0, &[]);
        assert_eq!(state(&mut s.client()), expected, "{threads} threads");
    }
}

#[test]
fn a_failed_bgsave_stops_writes_with_misconf_until_a_save_succeeds() {
    const MISCONF: &str = "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.\r\n";
    for threads in THREADS {
        let dir = TempDir::new("misconf");
        let mut config = Config::default();
        config.set("dir", dir.0.to_str().unwrap(), true).unwrap();
        config.set("save", "3600 1", true).unwrap();
        let s = TestServer::start_opts(threads, None, config);
        let mut c = s.raw();
        assert_eq!(c.cmd(&["SET", "a", "1"]), b"+OK\r\n");
        // The snapshot cannot be written: its directory is gone.
        std::fs::remove_dir_all(&dir.0).unwrap();
        assert_eq!(c.cmd(&["BGSAVE"]), b"+Background saving started\r\n");
        let deadline = Instant::now() + Duration::from_secs(30);
        while info_field(&mut c, "rdb_bgsave_in_progress") != "0" {
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "err");
        assert_eq!(show(&c.cmd(&["SET", "a", "2"])), MISCONF);
        assert_eq!(show(&c.cmd(&["PING"])), MISCONF);
        assert_eq!(c.cmd(&["GET", "a"]), b"$1\r\n1\r\n", "reads go on");
        assert_eq!(c.cmd(&["MULTI"]), b"+OK\r\n");
        assert_eq!(show(&c.cmd(&["INCR", "a"])), MISCONF);
        assert_eq!(
            show(&c.cmd(&["EXEC"])),
            "-EXECABORT Transaction discarded because of previous errors.\r\n"
        );
        assert_eq!(
            c.cmd(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"]),
            b"+OK\r\n"
        );
        assert_eq!(c.cmd(&["SET", "a", "3"]), b"+OK\r\n");
        assert_eq!(
            c.cmd(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"]),
            b"+OK\r\n"
        );
        assert_eq!(show(&c.cmd(&["DEL", "a"])), MISCONF);
        // A save that succeeds lifts it.
        std::fs::create_dir_all(&dir.0).unwrap();
        assert_eq!(c.cmd(&["BGSAVE"]), b"+Background saving started\r\n");
        while info_field(&mut c, "rdb_bgsave_in_progress") != "0" {
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(c.cmd(&["SET", "a", "4"]), b"+OK\r\n");
        assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    }
}

#[test]
fn debug_reload_and_loadaof_replace_the_dataset_with_the_files() {
    for threads in THREADS {
        let dir = TempDir::new("debug");
        let s = start_aof(threads, &dir.0, &[("enable-debug-command", "yes")]);
        let mut c = s.raw();
        single_key_writes(&mut c);
        cross_shard_writes(&s, threads);
        let before = state(&mut s.client());
        assert_eq!(c.cmd(&["DEBUG", "RELOAD"]), b"+OK\r\n");
        assert_eq!(
            state(&mut s.client()),
            before,
            "DEBUG RELOAD, {threads} threads"
        );
        assert_eq!(c.cmd(&["DEBUG", "LOADAOF"]), b"+OK\r\n");
        assert_eq!(
            state(&mut s.client()),
            before,
            "DEBUG LOADAOF, {threads} threads"
        );
        // Nothing of the reloads was logged twice: a restart has the same data.
        drop(s);
        let s = start_aof(threads, &dir.0, &[("enable-debug-command", "yes")]);
        assert_eq!(state(&mut s.client()), before);
        assert_eq!(
            show(&s.raw().cmd(&["DEBUG", "NOPE"])),
            "-ERR unknown subcommand or wrong number of arguments for 'NOPE'. Try DEBUG HELP.\r\n"
        );
    }
}

/// The commands of an incremental file, in order (each as its arguments), and where each
/// starts in the file.
fn commands_of(data: &[u8]) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut p = 0;
    let line = |p: usize| {
        let nl = data[p..].windows(2).position(|w| w == b"\r\n").unwrap();
        (
            std::str::from_utf8(&data[p + 1..p + nl]).unwrap(),
            p + nl + 2,
        )
    };
    while p < data.len() {
        let start = p;
        let (n, next) = line(p);
        p = next;
        let mut args = Vec::new();
        for _ in 0..n.parse::<usize>().unwrap() {
            let (len, next) = line(p);
            let len: usize = len.parse().unwrap();
            args.push(String::from_utf8_lossy(&data[next..next + len]).into_owned());
            p = next + len + 2;
        }
        out.push((start, args));
    }
    out
}

/// A cross-shard EXEC, and a script whose keys span shards, are each one MULTI ... EXEC block
/// in the AOF holding every shard's part in the order they ran, and nothing of the writers
/// running meanwhile; Rustis and redis-server 7.0.15 load the file to the same data, and a
/// file cut inside the last block loads (on both) without any of that block.
#[test]
fn a_cross_shard_exec_or_script_is_one_multi_exec_block_in_the_aof() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    const ROUNDS: usize = 40;
    for threads in [2, 4] {
        let dir = TempDir::new("xblock");
        let k = spread("tx", 4, threads);
        let before = {
            let s = start_aof(threads, &dir.0, &[]);
            let stop = Arc::new(AtomicBool::new(false));
            let noise: Vec<_> = (0..3)
                .map(|n| {
                    let (addr, stop) = (s.addr, stop.clone());
                    std::thread::spawn(move || {
                        let mut c = RawConn::connect(addr);
                        let keys = spread(&format!("noise{n}-"), 4, threads);
                        let mut i = 0;
                        while !stop.load(Ordering::Relaxed) {
                            c.cmd(&["SET", &keys[i % 4], &i.to_string()]);
                            c.cmd(&["MSET", &keys[0], "m", &keys[1], "m", &keys[2], "m"]);
                            i += 1;
                        }
                    })
                })
                .collect();
            let mut c = s.raw();
            for i in 0..ROUNDS {
                let v = format!("e{i}");
                for args in [
                    vec!["MULTI"],
                    vec!["INCR", &k[0]],
                    vec!["RPUSH", &k[1], &v],
                    vec!["SET", &k[2], &v],
                    vec!["SADD", &k[3], &v],
                ] {
                    let want: &[u8] = if args[0] == "MULTI" {
                        b"+OK\r\n"
                    } else {
                        b"+QUEUED\r\n"
                    };
                    assert_eq!(c.cmd(&args), want);
                }
                assert!(c.cmd(&["EXEC"]).starts_with(b"*4\r\n"));
                let v = format!("s{i}");
                let r = c.cmd(&[
                    "EVAL",
                    "redis.call('incr', KEYS[1]); redis.call('rpush', KEYS[2], ARGV[1]); \
                     redis.call('set', KEYS[3], ARGV[1]); redis.call('sadd', KEYS[4], ARGV[1])",
                    "4",
                    &k[0],
                    &k[1],
                    &k[2],
                    &k[3],
                    &v,
                ]);
                assert!(!r.starts_with(b"-"), "{}", show(&r));
            }
            stop.store(true, Ordering::Relaxed);
            for n in noise {
                n.join().unwrap();
            }
            state(&mut s.client())
        };
        let incr_path = dir.0.join("appendonlydir/appendonly.aof.1.incr.aof");
        let data = std::fs::read(&incr_path).unwrap();
        let cmds = commands_of(&data);
        // Every block is one EXEC's or one script's four writes, in the order they ran; every
        // write of the transactions' keys is in a block.
        let ours = |c: &[String]| c.len() > 1 && k.contains(&c[1]);
        let mut blocks = Vec::new();
        let mut open: Option<Vec<Vec<String>>> = None;
        let mut last_multi = 0;
        for (at, c) in &cmds {
            match c[0].as_str() {
                "MULTI" => {
                    assert!(open.is_none(), "nested MULTI");
                    open = Some(Vec::new());
                    last_multi = *at;
                }
                "EXEC" => blocks.push(open.take().expect("EXEC without MULTI")),
                "SELECT" => {}
                _ => match open.as_mut() {
                    Some(b) => b.push(c.clone()),
                    None => assert!(!ours(c), "outside a block: {c:?}"),
                },
            }
        }
        assert!(open.is_none());
        assert_eq!(blocks.len(), 2 * ROUNDS, "{threads} threads");
        for (n, b) in blocks.iter().enumerate() {
            let v = format!("{}{}", if n % 2 == 0 { "e" } else { "s" }, n / 2);
            let names: Vec<String> = b
                .iter()
                .map(|c| format!("{} {}", c[0].to_uppercase(), c[1..].join(" ")))
                .collect();
            assert_eq!(
                names,
                [
                    format!("INCR {}", k[0]),
                    format!("RPUSH {} {v}", k[1]),
                    format!("SET {} {v}", k[2]),
                    format!("SADD {} {v}", k[3]),
                ],
                "block {n} on {threads} threads"
            );
        }
        // Rustis and redis-server load it to the same data.
        let copy = TempDir::new("xblock-copy");
        let copy_dir = |to: &Path| {
            std::fs::create_dir_all(to.join("appendonlydir")).unwrap();
            for e in std::fs::read_dir(dir.0.join("appendonlydir")).unwrap() {
                let e = e.unwrap();
                std::fs::copy(e.path(), to.join("appendonlydir").join(e.file_name())).unwrap();
            }
        };
        copy_dir(&copy.0);
        {
            let s = start_aof(threads, &dir.0, &[]);
            assert_eq!(state(&mut s.client()), before, "{threads} threads");
        }
        {
            let r = Reference::start_with(Some(&copy.0), &["--appendonly", "yes"]);
            assert_eq!(state(&mut r.client()), before, "redis-server");
        }
        // Cut inside the last block (after its MULTI and two of its writes): neither loads
        // any of it.
        let cut_at = cmds
            .iter()
            .position(|(at, _)| *at == last_multi)
            .map(|i| cmds[i + 3].0)
            .unwrap();
        for (d, redis) in [(&dir.0, false), (&copy.0, true)] {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(d.join("appendonlydir/appendonly.aof.1.incr.aof"))
                .unwrap();
            f.set_len(cut_at as u64).unwrap();
            drop(f);
            let check = |c: &mut RawConn| {
                let n = (2 * ROUNDS - 1).to_string();
                assert_eq!(
                    show(&c.cmd(&["GET", &k[0]])),
                    format!("${}\r\n{n}\r\n", n.len())
                );
                assert_eq!(show(&c.cmd(&["LLEN", &k[1]])), format!(":{n}\r\n"));
                assert_eq!(show(&c.cmd(&["SCARD", &k[3]])), format!(":{n}\r\n"));
            };
            if redis {
                let r = Reference::start_with(Some(d), &["--appendonly", "yes"]);
                check(&mut r.conn());
            } else {
                let s = start_aof(threads, d, &[]);
                check(&mut s.raw());
            }
        }
    }
}

/// FUNCTION LOAD, DELETE, FLUSH and RESTORE are logged and replayed at startup; DEBUG LOADAOF
/// keeps the libraries; a rewrite's base holds them (a library loaded after it is in the new
/// incremental file); redis-server 7.0.15 loads the directory with the same libraries.
#[test]
fn functions_are_logged_replayed_and_kept_by_rewrites() {
    let lib = |name: &str, ret: &str| {
        format!(
            "#!lua name={name}\nredis.register_function('f{name}', function() return '{ret}' end)"
        )
    };
    let check = |c: &mut RawConn, want: &[(&str, &str)]| {
        for (name, ret) in want {
            let f = format!("f{name}");
            assert_eq!(
                show(&c.cmd(&["FCALL", &f, "0"])),
                format!("${}\r\n{ret}\r\n", ret.len()),
                "{f}"
            );
        }
        let n = show(&c.cmd(&["FUNCTION", "STATS"]));
        assert!(
            n.contains(&format!("libraries_count\r\n:{}\r\n", want.len())),
            "{n}"
        );
    };
    let debug = [("enable-debug-command", "yes")];
    for threads in THREADS {
        let dir = TempDir::new("functions");
        let want = [("a", "2"), ("c", "3")];
        {
            let s = start_aof(threads, &dir.0, &debug);
            let mut c = s.raw();
            for args in [
                vec!["FUNCTION", "LOAD", &lib("a", "1")],
                vec!["FUNCTION", "LOAD", &lib("b", "1")],
                vec!["FUNCTION", "LOAD", "REPLACE", &lib("a", "2")],
                vec!["FUNCTION", "DELETE", "b"],
            ] {
                let r = c.cmd(&args);
                assert!(!r.starts_with(b"-"), "{args:?}: {}", show(&r));
            }
            let dump = c.cmd(&["FUNCTION", "DUMP"]);
            let nl = dump.iter().position(|&b| b == b'\n').unwrap();
            let payload = dump[nl + 1..dump.len() - 2].to_vec();
            assert_eq!(c.cmd(&["FUNCTION", "FLUSH"]), b"+OK\r\n");
            assert_eq!(
                c.cmd_bytes(&[b"FUNCTION", b"RESTORE", &payload]),
                b"+OK\r\n"
            );
            assert!(c
                .cmd(&["FUNCTION", "LOAD", &lib("c", "3")])
                .starts_with(b"$"));
            check(&mut c, &want);
            assert_eq!(c.cmd(&["DEBUG", "LOADAOF"]), b"+OK\r\n");
            for _ in 0..threads * 2 {
                check(&mut s.raw(), &want);
            }
        }
        let incr = std::fs::read(dir.0.join("appendonlydir/appendonly.aof.1.incr.aof")).unwrap();
        let logged: Vec<String> = commands_of(&incr)
            .into_iter()
            .filter(|(_, c)| c[0] == "FUNCTION")
            .map(|(_, c)| c[1].to_uppercase())
            .collect();
        assert_eq!(
            logged,
            ["LOAD", "LOAD", "LOAD", "DELETE", "FLUSH", "RESTORE", "LOAD"]
        );
        {
            let s = start_aof(threads, &dir.0, &debug);
            let mut c = s.raw();
            check(&mut c, &want);
            assert_eq!(
                show(&c.cmd(&["BGREWRITEAOF"])),
                "+Background append only file rewriting started\r\n"
            );
            let deadline = Instant::now() + Duration::from_secs(30);
            while info_field(&mut c, "aof_rewrite_in_progress") != "0" {
                assert!(Instant::now() < deadline);
                std::thread::sleep(Duration::from_millis(5));
            }
            assert!(c
                .cmd(&["FUNCTION", "LOAD", &lib("d", "4")])
                .starts_with(b"$"));
        }
        let want = [("a", "2"), ("c", "3"), ("d", "4")];
        let copy = TempDir::new("functions-copy");
        std::fs::create_dir_all(copy.0.join("appendonlydir")).unwrap();
        for e in std::fs::read_dir(dir.0.join("appendonlydir")).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), copy.0.join("appendonlydir").join(e.file_name())).unwrap();
        }
        {
            let s = start_aof(threads, &dir.0, &debug);
            check(&mut s.raw(), &want);
        }
        let r = Reference::start_with(Some(&copy.0), &["--appendonly", "yes"]);
        check(&mut r.conn(), &want);
    }
}

#[test]
fn aof_use_rdb_preamble_no_writes_a_base_of_commands_that_both_servers_load() {
    for threads in THREADS {
        let dir = TempDir::new("preamble-no");
        let before = {
            let s = start_aof(threads, &dir.0, &[("aof-use-rdb-preamble", "no")]);
            let mut c = s.raw();
            single_key_writes(&mut c);
            c.cmd(&[
                "FUNCTION",
                "LOAD",
                "#!lua name=lib\nredis.register_function('f', function() return 1 end)",
            ]);
            assert_eq!(
                show(&c.cmd(&["BGREWRITEAOF"])),
                "+Background append only file rewriting started\r\n"
            );
            let deadline = Instant::now() + Duration::from_secs(30);
            while info_field(&mut c, "aof_rewrite_in_progress") != "0" {
                assert!(Instant::now() < deadline);
                std::thread::sleep(Duration::from_millis(5));
            }
            c.cmd(&["SET", "after", "1"]);
            state(&mut s.client())
        };
        let aof_dir = dir.0.join("appendonlydir");
        let manifest = std::fs::read_to_string(aof_dir.join("appendonly.aof.manifest")).unwrap();
        assert_eq!(
            manifest,
            "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
        );
        let base = std::fs::read(aof_dir.join("appendonly.aof.2.base.aof")).unwrap();
        assert!(
            base.starts_with(b"*3\r\n$8\r\nFUNCTION\r\n"),
            "{}",
            show(&base[..40])
        );
        let s = start_aof(threads, &dir.0, &[("aof-use-rdb-preamble", "no")]);
        assert_eq!(state(&mut s.client()), before, "{threads} threads");
        drop(s);
        let r = Reference::start_with(Some(&dir.0), &["--appendonly", "yes"]);
        assert_eq!(
            state(&mut r.client()),
            before,
            "redis-server, {threads} threads"
        );
    }
}

#[test]
fn an_old_single_file_aof_with_an_rdb_preamble_is_migrated_into_the_directory() {
    // Redis 6 wrote `dir/appendonly.aof`: an RDB preamble, then commands.
    let src = TempDir::new("old-aof-src");
    let rdb = {
        let r = Reference::start_with(Some(&src.0), &[]);
        let mut c = r.conn();
        c.cmd(&["SET", "k1", "v1"]);
        c.cmd(&["RPUSH", "k2", "a", "b"]);
        c.cmd(&["SAVE"]);
        std::fs::read(src.0.join("dump.rdb")).unwrap()
    };
    for threads in THREADS {
        let dir = TempDir::new("old-aof");
        let mut old = rdb.clone();
        old.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$2\r\nk3\r\n$2\r\nv3\r\n");
        std::fs::write(dir.0.join("appendonly.aof"), &old).unwrap();
        let s = start_aof(threads, &dir.0, &[]);
        let mut c = s.raw();
        assert_eq!(show(&c.cmd(&["GET", "k1"])), "$2\r\nv1\r\n");
        assert_eq!(show(&c.cmd(&["LLEN", "k2"])), ":2\r\n");
        assert_eq!(show(&c.cmd(&["GET", "k3"])), "$2\r\nv3\r\n");
        assert!(!dir.0.join("appendonly.aof").exists());
        let aof_dir = dir.0.join("appendonlydir");
        assert!(aof_dir.join("appendonly.aof").exists());
        assert_eq!(
            std::fs::read_to_string(aof_dir.join("appendonly.aof.manifest")).unwrap(),
            "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
        );
    }
}

#[test]
fn a_bad_manifest_stops_startup_with_redis_reason() {
    for (text, reason) in [
        ("", "Found an empty AOF manifest"),
        (
            "file a seq 1 type b\n\n",
            "Invalid AOF manifest file format",
        ),
        ("file a seq 1 type x\n", "Unknown AOF file type"),
        (
            "file a seq 1 type b\nfile b seq 2 type b\n",
            "Found duplicate base file information",
        ),
        (
            "file a seq 2 type i\nfile b seq 1 type i\n",
            "Found a non-monotonic sequence number",
        ),
    ] {
        let dir = TempDir::new("manifest");
        let aof_dir = dir.0.join("appendonlydir");
        std::fs::create_dir_all(&aof_dir).unwrap();
        std::fs::write(aof_dir.join("appendonly.aof.manifest"), text).unwrap();
        let refused = rustis_runtime::start(rustis_runtime::ServerOptions {
            config: {
                let mut c = config_in(&dir.0, &[]);
                c.set("port", "0", true).unwrap();
                c
            },
            threads: 1,
            ..Default::default()
        });
        let e = refused.err().expect("refuses the manifest");
        assert!(e.to_string().contains(reason), "{text:?}: {e}");
    }
}

#[test]
fn aof_timestamp_enabled_annotates_the_incr_file_and_a_command_base() {
    for threads in THREADS {
        let dir = TempDir::new("timestamps");
        {
            let s = start_aof(threads, &dir.0, &[("aof-use-rdb-preamble", "no")]);
            let mut c = s.raw();
            assert_eq!(
                show(&c.cmd(&["CONFIG", "SET", "aof-timestamp-enabled", "yes"])),
                "+OK\r\n"
            );
            c.cmd(&["SET", "foo", "bar"]);
            // What the writer has is on disk once a BGREWRITEAOF's rotation is done.
            c.cmd(&["BGREWRITEAOF"]);
            let deadline = Instant::now() + Duration::from_secs(30);
            while info_field(&mut c, "aof_rewrite_in_progress") != "0" {
                assert!(Instant::now() < deadline);
                std::thread::sleep(Duration::from_millis(5));
            }
            c.cmd(&["SET", "after", "1"]);
        }
        let aof_dir = dir.0.join("appendonlydir");
        let base = std::fs::read(aof_dir.join("appendonly.aof.2.base.aof")).unwrap();
        assert!(base.starts_with(b"#TS:"), "{}", show(&base));
        let incr = std::fs::read(aof_dir.join("appendonly.aof.2.incr.aof")).unwrap();
        assert!(incr.starts_with(b"#TS:"), "{}", show(&incr));
        let s = start_aof(threads, &dir.0, &[]);
        let mut c = s.raw();
        assert_eq!(show(&c.cmd(&["GET", "foo"])), "$3\r\nbar\r\n");
        assert_eq!(show(&c.cmd(&["GET", "after"])), "$1\r\n1\r\n");
    }
}

#[test]
fn debug_aof_flush_sleep_delays_the_write_and_the_reply_waits_for_it_under_always() {
    for threads in THREADS {
        let dir = TempDir::new("flush-sleep");
        let s = start_aof(
            threads,
            &dir.0,
            &[("appendfsync", "always"), ("enable-debug-command", "yes")],
        );
        let mut c = s.raw();
        assert_eq!(
            show(&c.cmd(&["DEBUG", "AOF-FLUSH-SLEEP", "300000"])),
            "+OK\r\n"
        );
        let incr = dir.0.join("appendonlydir/appendonly.aof.1.incr.aof");
        let before = std::fs::metadata(&incr).unwrap().len();
        let t = Instant::now();
        assert_eq!(show(&c.cmd(&["INCR", "n"])), ":1\r\n");
        assert!(
            t.elapsed() >= Duration::from_millis(300),
            "{:?}",
            t.elapsed()
        );
        assert!(std::fs::metadata(&incr).unwrap().len() > before);
        assert_eq!(show(&c.cmd(&["DEBUG", "AOF-FLUSH-SLEEP", "0"])), "+OK\r\n");
    }
}

/// A transaction's block starts with the SELECT of its database, then MULTI, as redis-server
/// writes it (Redis's "MULTI with FLUSHALL and AOF"): the incremental files of both hold the
/// same commands.
#[test]
fn a_transaction_block_selects_its_database_before_multi() {
    let session = |c: &mut RawConn| {
        for args in [
            &["SELECT", "3"][..],
            &["MULTI"],
            &["SET", "foo", "bar"],
            &["FLUSHALL"],
            &["EXEC"],
            &["SELECT", "4"],
            &["MULTI"],
            &["SET", "a", "1"],
            &["SELECT", "5"],
            &["SET", "b", "2"],
            &["EXEC"],
        ] {
            let r = c.cmd(args);
            assert!(!r.starts_with(b"-"), "{args:?}: {}", show(&r));
        }
    };
    let incr = |dir: &Path| {
        let data = std::fs::read(dir.join("appendonlydir/appendonly.aof.1.incr.aof")).unwrap();
        commands_of(&data)
            .into_iter()
            .map(|(_, c)| c.join(" ").to_uppercase())
            .collect::<Vec<_>>()
    };
    let dir = TempDir::new("selectmulti-ref");
    {
        let r = Reference::start_with(
            Some(&dir.0),
            &["--appendonly", "yes", "--appendfsync", "always"],
        );
        session(&mut r.conn());
    }
    let want = incr(&dir.0);
    for threads in THREADS {
        let dir = TempDir::new("selectmulti");
        {
            let s = start_aof(threads, &dir.0, &[("appendfsync", "always")]);
            session(&mut s.raw());
        }
        assert_eq!(incr(&dir.0), want, "{threads} threads");
    }
}
