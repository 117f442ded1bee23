//! Persistence against redis-server 7.0.15: DUMP payloads byte for byte for every type and
//! encoding whose bytes depend only on the value, RESTORE of each server's payloads by the
//! other, RESTORE's options and errors, RDB files written by each server loaded by the other,
//! a SAVE/restart round trip, and BGSAVE's point-in-time cut while writes go on. The test
//! starts its own redis-server and fails if there is none on PATH.

use std::path::Path;
use std::time::{Duration, Instant};

use rustis_runtime::Config;
use rustis_tests::{show, RawConn, Reference, TempDir, TestServer, THREADS};

fn start_in(threads: usize, dir: &Path) -> TestServer {
    let mut config = Config::default();
    config
        .set("dir", dir.to_str().expect("UTF-8"), true)
        .expect("dir");
    TestServer::start_opts(threads, None, config)
}

/// Elements that are not numbers and do not compress.
fn noise(i: usize, len: usize) -> String {
    let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (b'a' + (x % 26) as u8) as char
        })
        .collect()
}

/// Commands that build one key of each type and encoding; each key's name says what it is.
fn dataset() -> Vec<Vec<String>> {
    let mut cmds: Vec<Vec<String>> = Vec::new();
    let mut c = |v: &[&str]| cmds.push(v.iter().map(|s| s.to_string()).collect());
    c(&["SET", "s:int8", "12"]);
    c(&["SET", "s:int16", "-1000"]);
    c(&["SET", "s:int32", "2000000000"]);
    c(&["SET", "s:int64", "9000000000000"]);
    c(&["SET", "s:numstr", "007"]);
    c(&["SET", "s:emb", "hello world"]);
    c(&["SET", "s:raw", &noise(1, 100)]);
    c(&["SET", "s:lzf", &"abcabcabcabc".repeat(20)]);
    c(&["SET", "s:long", &"0123456789".repeat(500)]);
    c(&["SET", "s:longnoise", &noise(2, 3000)]);
    c(&["SET", "s:empty", ""]);
    c(&["SET", "s:float", "10.5"]);
    c(&["INCRBYFLOAT", "s:float", "0.25"]);
    c(&["APPEND", "s:append", "xyz"]);
    c(&["PFADD", "s:hll", "a", "b", "c", "d"]);
    c(&["SET", "s:ttl", "v", "PX", "100000000"]);
    c(&[
        "RPUSH",
        "l:small",
        "a",
        "1",
        "-2",
        "300",
        "70000",
        "5000000000",
        "",
        "x",
    ]);
    let big: Vec<String> = (0..3000).map(|i| format!("element-{i}")).collect();
    let mut v = vec!["RPUSH".to_string(), "l:nodes".to_string()];
    v.extend(big.iter().cloned());
    cmds.push(v);
    let mut v = vec!["RPUSH".to_string(), "l:noisy".to_string()];
    v.extend((0..200).map(|i| noise(i, 60)));
    cmds.push(v);
    let mut c = |v: &[&str]| cmds.push(v.iter().map(|s| s.to_string()).collect());
    c(&["LPUSH", "l:lpush", "a", "b", "c"]);
    c(&["SADD", "set:int16", "3", "1", "2", "-7"]);
    c(&["SADD", "set:int32", "1", "100000"]);
    c(&["SADD", "set:int64", "1", "1000000000000"]);
    c(&["SADD", "set:str", "a", "b", "c"]);
    c(&[
        "HSET",
        "h:small",
        "f1",
        "v1",
        "f2",
        "123",
        "f3",
        &"x".repeat(30),
    ]);
    // More than redis-server 7.0.15's compiled-in hash-max-listpack-entries (512).
    let mut v = vec!["HSET".to_string(), "h:big".to_string()];
    for i in 0..600 {
        v.push(format!("field{i}"));
        v.push(format!("value{i}"));
    }
    cmds.push(v);
    let mut c = |v: &[&str]| cmds.push(v.iter().map(|s| s.to_string()).collect());
    c(&[
        "ZADD", "z:small", "1", "one", "2.5", "two", "-3", "three", "1e300", "big", "inf", "top",
        "-0", "negzero", "0.1", "tenth",
    ]);
    let mut v = vec!["ZADD".to_string(), "z:big".to_string()];
    for i in 0..200 {
        v.push(format!("{}", i as f64 * 1.5 - 7.0));
        v.push(format!("member{i}"));
    }
    cmds.push(v);
    cmds
}

/// Keys whose DUMP depends only on the value: Redis's own bytes for them are reproducible.
const BYTE_EXACT: &[&str] = &[
    "s:int8",
    "s:int16",
    "s:int32",
    "s:int64",
    "s:numstr",
    "s:emb",
    "s:raw",
    "s:lzf",
    "s:long",
    "s:longnoise",
    "s:empty",
    "s:float",
    "s:append",
    "s:hll",
    "s:ttl",
    "l:small",
    "l:nodes",
    "l:noisy",
    "l:lpush",
    "set:int16",
    "set:int32",
    "set:int64",
    "h:small",
    "z:small",
    "z:big",
];

fn fill(c: &mut RawConn) {
    for cmd in dataset() {
        let args: Vec<&str> = cmd.iter().map(|s| s.as_str()).collect();
        let r = c.cmd(&args);
        assert!(!r.starts_with(b"-"), "{args:?}: {}", show(&r));
    }
}

fn keys() -> Vec<String> {
    let mut k: Vec<String> = dataset().into_iter().map(|c| c[1].clone()).collect();
    k.sort();
    k.dedup();
    k
}

/// [`contents`] where `raw` and `embstr` are one: a string loaded or restored is `embstr` up to
/// 44 bytes in Redis too, whatever it was when saved.
fn loose(c: &mut RawConn, key: &str) -> String {
    contents(c, key)
        .replace("$3\r\nraw\r\n", "str")
        .replace("$6\r\nembstr\r\n", "str")
}

/// A key's type, encoding and contents, in an order-free form.
fn contents(c: &mut RawConn, key: &str) -> String {
    let ty = show(&c.cmd(&["TYPE", key]));
    let enc = show(&c.cmd(&["OBJECT", "ENCODING", key]));
    let body = match ty.as_str() {
        "+string\r\n" => show(&c.cmd(&["GET", key])),
        "+list\r\n" => show(&c.cmd(&["LRANGE", key, "0", "-1"])),
        "+set\r\n" => {
            let mut m = show(&c.cmd(&["SMEMBERS", key]))
                .split("\r\n")
                .map(str::to_string)
                .collect::<Vec<_>>();
            m.sort();
            m.join(",")
        }
        "+hash\r\n" => {
            let mut m = show(&c.cmd(&["HGETALL", key]))
                .split("\r\n")
                .map(str::to_string)
                .collect::<Vec<_>>();
            m.sort();
            m.join(",")
        }
        "+zset\r\n" => show(&c.cmd(&["ZRANGE", key, "0", "-1", "WITHSCORES"])),
        _ => String::new(),
    };
    let ttl = show(&c.cmd(&["PTTL", key]));
    let has_ttl = if ttl.starts_with(":-") {
        ttl
    } else {
        "ttl".into()
    };
    format!("{ty}{enc}{body}{has_ttl}")
}

fn bulk_payload(reply: &[u8]) -> Vec<u8> {
    assert_eq!(reply[0], b'$', "{}", show(reply));
    let nl = reply.iter().position(|&b| b == b'\n').unwrap();
    reply[nl + 1..reply.len() - 2].to_vec()
}

#[test]
fn dump_matches_redis_byte_for_byte_and_payloads_restore_both_ways() {
    let rdir = TempDir::new("dump");
    let reference = Reference::start_with(Some(&rdir.0), &[]);
    let mut r = reference.conn();
    fill(&mut r);
    for threads in THREADS {
        let s = TestServer::start(threads);
        let mut c = s.raw();
        fill(&mut c);
        for key in keys() {
            assert_eq!(contents(&mut c, &key), contents(&mut r, &key), "{key}");
            let ours = c.cmd(&["DUMP", &key]);
            let theirs = r.cmd(&["DUMP", &key]);
            if BYTE_EXACT.contains(&key.as_str()) {
                assert_eq!(show(&ours), show(&theirs), "DUMP {key} ({threads} threads)");
            }
            // Each server restores the other's payload to the same contents.
            let restored = format!("{key}:restored");
            let p = bulk_payload(&theirs);
            let ok = c.cmd_bytes(&[b"RESTORE", restored.as_bytes(), b"0", &p]);
            assert_eq!(show(&ok), "+OK\r\n", "RESTORE {key} from redis");
            let p = bulk_payload(&ours);
            let ok = r.cmd_bytes(&[b"RESTORE", restored.as_bytes(), b"0", &p, b"REPLACE"]);
            assert_eq!(show(&ok), "+OK\r\n", "redis RESTORE {key} from rustis");
            let mut a = contents(&mut c, &restored);
            let mut b = contents(&mut r, &restored);
            // RESTORE with ttl 0 stores no expiry, whatever the payload's key had.
            a = a.replace(":-1\r\n", "");
            b = b.replace(":-1\r\n", "");
            assert_eq!(a, b, "restored {key}");
            let orig = loose(&mut r, &key)
                .replace(":-1\r\n", "")
                .replace("ttl", "");
            let a = loose(&mut c, &restored).replace(":-1\r\n", "");
            assert_eq!(a, orig, "restored {key} equals the original");
        }
    }
}

#[test]
fn dump_honours_rdbcompression() {
    let rdir = TempDir::new("nocomp");
    let reference = Reference::start_with(Some(&rdir.0), &[]);
    let mut r = reference.conn();
    for threads in THREADS {
        let s = TestServer::start(threads);
        let mut c = s.raw();
        let v = "abcabcabcabc".repeat(20);
        for conn in [&mut c, &mut r] {
            assert_eq!(
                conn.cmd(&["CONFIG", "SET", "rdbcompression", "no"]),
                b"+OK\r\n"
            );
            conn.cmd(&["SET", "k", &v]);
            conn.cmd(&["RPUSH", "l", &v, &v]);
        }
        assert_eq!(show(&c.cmd(&["DUMP", "k"])), show(&r.cmd(&["DUMP", "k"])));
        assert_eq!(show(&c.cmd(&["DUMP", "l"])), show(&r.cmd(&["DUMP", "l"])));
        for conn in [&mut c, &mut r] {
            conn.cmd(&["CONFIG", "SET", "rdbcompression", "yes"]);
            conn.cmd(&["DEL", "k", "l"]);
        }
    }
}

/// `(args, payload)`: RESTORE calls whose replies must equal redis-server's.
fn restore_cases(good: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut bad_crc = good.to_vec();
    let n = bad_crc.len();
    bad_crc[n - 1] ^= 0xff;
    let mut newer = good.to_vec();
    newer[n - 10] = 11;
    // A body that is not a value, with a correct footer.
    let mut garbage = vec![0xEE, 1, 2, 3];
    garbage.extend_from_slice(&10u16.to_le_bytes());
    let crc = rustis_persist::CRC64.checksum(&garbage);
    garbage.extend_from_slice(&crc.to_le_bytes());
    // A string claiming far more bytes than the payload has.
    let mut long = vec![0u8, 0x80, 0x7f, 0xff, 0xff, 0xff, b'a'];
    long.extend_from_slice(&10u16.to_le_bytes());
    let crc = rustis_persist::CRC64.checksum(&long);
    long.extend_from_slice(&crc.to_le_bytes());
    let b = |v: &[&[u8]]| v.iter().map(|x| x.to_vec()).collect::<Vec<_>>();
    vec![
        b(&[b"RESTORE", b"new", b"0", good]),
        b(&[b"RESTORE", b"new", b"0", good]),
        b(&[b"RESTORE", b"new", b"0", good, b"REPLACE"]),
        b(&[b"RESTORE", b"n2", b"-1", good]),
        b(&[b"RESTORE", b"n2", b"x", good]),
        b(&[b"RESTORE", b"n2", b"0", b"short"]),
        b(&[b"RESTORE", b"n2", b"0", &bad_crc]),
        b(&[b"RESTORE", b"n2", b"0", &newer]),
        b(&[b"RESTORE", b"n2", b"0", &garbage]),
        b(&[b"RESTORE", b"n2", b"0", &long]),
        b(&[b"RESTORE", b"n2", b"0", good, b"FOO"]),
        b(&[b"RESTORE", b"n2", b"0", good, b"IDLETIME", b"-1"]),
        b(&[b"RESTORE", b"n2", b"0", good, b"IDLETIME", b"x"]),
        b(&[b"RESTORE", b"n2", b"0", good, b"FREQ", b"256"]),
        b(&[
            b"RESTORE",
            b"n2",
            b"0",
            good,
            b"FREQ",
            b"1",
            b"IDLETIME",
            b"1",
        ]),
        b(&[b"RESTORE", b"n3", b"0", good, b"IDLETIME", b"1000"]),
        b(&[b"OBJECT", b"IDLETIME", b"n3"]),
        b(&[b"RESTORE", b"n4", b"1", good, b"ABSTTL"]),
        b(&[b"EXISTS", b"n4"]),
        b(&[b"RESTORE", b"new", b"1", good, b"ABSTTL", b"REPLACE"]),
        b(&[b"EXISTS", b"new"]),
        b(&[b"RESTORE", b"n5", b"100000", good]),
        b(&[b"PTTL", b"n5"]),
        b(&[b"RESTORE", b"n6", b"0", good, b"FREQ", b"5"]),
        b(&[b"GET", b"n6"]),
        b(&[b"DUMP", b"missing"]),
        b(&[b"RESTORE"]),
    ]
}

#[test]
fn restore_options_and_errors_match_redis() {
    let rdir = TempDir::new("restore");
    let reference = Reference::start_with(Some(&rdir.0), &[]);
    let mut r = reference.conn();
    r.cmd(&["SET", "src", "value"]);
    let good = bulk_payload(&r.cmd(&["DUMP", "src"]));
    for threads in THREADS {
        let s = TestServer::start(threads);
        let mut c = s.raw();
        r.cmd(&["DEL", "new", "n2", "n3", "n4", "n5", "n6"]);
        for case in restore_cases(&good) {
            let args: Vec<&[u8]> = case.iter().map(|a| a.as_slice()).collect();
            let mut ours = show(&c.cmd_bytes(&args));
            let mut theirs = show(&r.cmd_bytes(&args));
            if case[0] == b"PTTL" {
                // Both count down from 100000: compared within a second.
                let ms = |s: &str| s.trim_start_matches(':').trim_end().parse::<i64>().unwrap();
                assert!((ms(&ours) - ms(&theirs)).abs() < 1000, "{ours} {theirs}");
                ours = "pttl".into();
                theirs = "pttl".into();
            }
            assert_eq!(
                ours,
                theirs,
                "{:?}",
                String::from_utf8_lossy(&case.concat())
            );
        }
    }
}

fn wait_bgsave(c: &mut RawConn) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let info = show(&c.cmd(&["INFO", "persistence"]));
        if info.contains("rdb_bgsave_in_progress:0\r\n") {
            assert!(info.contains("rdb_last_bgsave_status:ok\r\n"), "{info}");
            return;
        }
        assert!(Instant::now() < deadline, "BGSAVE never finished");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn rdb_files_written_by_each_server_load_in_the_other() {
    for threads in THREADS {
        // Rustis -> redis-server.
        let dir = TempDir::new("to-redis");
        let s = start_in(threads, &dir.0);
        let mut c = s.raw();
        fill(&mut c);
        c.cmd(&["SELECT", "3"]);
        c.cmd(&["SET", "db3key", "x"]);
        c.cmd(&["SELECT", "0"]);
        assert_eq!(c.cmd(&["SAVE"]), b"+OK\r\n");
        let reference = Reference::start_with(Some(&dir.0), &[]);
        let mut r = reference.conn();
        assert_eq!(show(&r.cmd(&["DBSIZE"])), show(&c.cmd(&["DBSIZE"])));
        for key in keys() {
            assert_eq!(loose(&mut r, &key), loose(&mut c, &key), "{key}");
        }
        r.cmd(&["SELECT", "3"]);
        assert_eq!(r.cmd(&["GET", "db3key"]), b"$1\r\nx\r\n");
        drop(reference);

        // redis-server -> Rustis, with an expired key it must skip.
        let rdir = TempDir::new("from-redis");
        let reference = Reference::start_with(Some(&rdir.0), &[]);
        let mut r = reference.conn();
        fill(&mut r);
        r.cmd(&["SELECT", "5"]);
        r.cmd(&["SET", "db5key", "y"]);
        r.cmd(&["SELECT", "0"]);
        r.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
        r.cmd(&["SET", "gone", "z", "PX", "1"]);
        // Wait, without touching the key, until the server's clock is past its expiry.
        let micros = |c: &mut RawConn| -> u64 {
            let t = show(&c.cmd(&["TIME"]));
            let parts: Vec<&str> = t.split("\r\n").collect();
            parts[2].parse::<u64>().unwrap() * 1_000_000 + parts[4].parse::<u64>().unwrap()
        };
        let start = micros(&mut r);
        while micros(&mut r) < start + 2_000 {
            std::thread::yield_now();
        }
        assert_eq!(r.cmd(&["SAVE"]), b"+OK\r\n");
        let s = start_in(threads, &rdir.0);
        let mut c = s.raw();
        for key in keys() {
            assert_eq!(loose(&mut c, &key), loose(&mut r, &key), "{key}");
        }
        assert_eq!(c.cmd(&["EXISTS", "gone"]), b":0\r\n");
        c.cmd(&["SELECT", "5"]);
        assert_eq!(c.cmd(&["GET", "db5key"]), b"$1\r\ny\r\n");
    }
}

#[test]
fn save_and_bgsave_survive_a_restart() {
    for threads in THREADS {
        for how in ["SAVE", "BGSAVE"] {
            let dir = TempDir::new("roundtrip");
            let before: Vec<String>;
            {
                let s = start_in(threads, &dir.0);
                let mut c = s.raw();
                fill(&mut c);
                before = keys().iter().map(|k| loose(&mut c, k)).collect();
                let last = show(&c.cmd(&["LASTSAVE"]));
                let r = c.cmd(&[how]);
                if how == "SAVE" {
                    assert_eq!(r, b"+OK\r\n");
                } else {
                    assert_eq!(show(&r), "+Background saving started\r\n");
                    wait_bgsave(&mut c);
                }
                let info = show(&c.cmd(&["INFO", "persistence"]));
                assert!(info.contains("rdb_changes_since_last_save:0\r\n"), "{info}");
                assert!(info.contains("rdb_saves:1\r\n"), "{info}");
                assert!(show(&c.cmd(&["LASTSAVE"])) >= last);
            }
            let s = start_in(threads, &dir.0);
            let mut c = s.raw();
            for (k, b) in keys().iter().zip(&before) {
                assert_eq!(&loose(&mut c, k), b, "{k}: {how} with {threads} threads");
            }
            let info = show(&c.cmd(&["INFO", "persistence"]));
            assert!(
                info.contains(&format!("rdb_last_load_keys_loaded:{}\r\n", keys().len())),
                "{info}"
            );
        }
    }
}

#[test]
fn bgsave_writes_the_dataset_as_of_its_start_while_writes_go_on() {
    for threads in THREADS {
        let dir = TempDir::new("cut");
        {
            let s = start_in(threads, &dir.0);
            let mut c = s.raw();
            let n = 20_000;
            let mut pipe = Vec::new();
            for i in 0..n {
                pipe.extend(rustis_tests::encode(&[
                    b"SET",
                    format!("k{i}").as_bytes(),
                    b"old",
                ]));
            }
            c.send(&pipe);
            for _ in 0..n {
                c.read_reply();
            }
            c.cmd(&["RPUSH", "list", "a", "b"]);
            c.cmd(&["SELECT", "1"]);
            c.cmd(&["SET", "db1key", "v1"]);
            c.cmd(&["SELECT", "0"]);
            assert_eq!(show(&c.cmd(&["BGSAVE"])), "+Background saving started\r\n");
            assert_eq!(
                show(&c.cmd(&["BGSAVE"])),
                "-ERR Background save already in progress\r\n"
            );
            // Everything after the reply is after the cut: overwrite, delete, add, flush.
            let mut pipe = Vec::new();
            for i in (0..n).rev() {
                let k = format!("k{i}");
                if i % 3 == 0 {
                    pipe.extend(rustis_tests::encode(&[b"DEL", k.as_bytes()]));
                } else {
                    pipe.extend(rustis_tests::encode(&[b"SET", k.as_bytes(), b"new"]));
                }
                pipe.extend(rustis_tests::encode(&[
                    b"SET",
                    format!("n{i}").as_bytes(),
                    b"x",
                ]));
            }
            pipe.extend(rustis_tests::encode(&[b"RPUSH", b"list", b"c"]));
            c.send(&pipe);
            for _ in 0..(2 * n + 1) {
                c.read_reply();
            }
            // A swap moves every key of both databases; the snapshot keeps them where they were.
            c.cmd(&["SWAPDB", "0", "1"]);
            c.cmd(&["SET", "after-swap", "x"]);
            // FLUSHDB in each (a FLUSHALL would abandon the save, as Redis's kills its child).
            c.cmd(&["FLUSHDB"]);
            c.cmd(&["SELECT", "1"]);
            c.cmd(&["FLUSHDB"]);
            c.cmd(&["SELECT", "0"]);
            wait_bgsave(&mut c);
        }
        let s = start_in(threads, &dir.0);
        let mut c = s.raw();
        assert_eq!(c.cmd(&["DBSIZE"]), b":20001\r\n");
        for i in [0, 1, 2, 999, 10_000, 19_999] {
            assert_eq!(c.cmd(&["GET", &format!("k{i}")]), b"$3\r\nold\r\n", "k{i}");
        }
        assert_eq!(c.cmd(&["EXISTS", "n0", "n19999"]), b":0\r\n");
        assert_eq!(
            show(&c.cmd(&["LRANGE", "list", "0", "-1"])),
            "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
        );
        assert_eq!(c.cmd(&["EXISTS", "after-swap", "db1key"]), b":0\r\n");
        c.cmd(&["SELECT", "1"]);
        assert_eq!(c.cmd(&["DBSIZE"]), b":1\r\n");
        assert_eq!(c.cmd(&["GET", "db1key"]), b"$2\r\nv1\r\n");
    }
}

#[test]
fn save_points_and_shutdown_save() {
    for threads in THREADS {
        let dir = TempDir::new("points");
        {
            let s = start_in(threads, &dir.0);
            let mut c = s.raw();
            assert_eq!(c.cmd(&["CONFIG", "SET", "save", "1 1"]), b"+OK\r\n");
            c.cmd(&["SET", "a", "1"]);
            // The save point fires within a couple of seconds.
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let info = show(&c.cmd(&["INFO", "persistence"]));
                if info.contains("rdb_saves:1\r\n") && info.contains("rdb_bgsave_in_progress:0") {
                    break;
                }
                assert!(Instant::now() < deadline, "no save: {info}");
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(dir.0.join("dump.rdb").exists());
            c.cmd(&["CONFIG", "SET", "save", ""]);
            c.cmd(&["SET", "b", "2"]);
            // SHUTDOWN SAVE writes the last change, closing the connection without a reply.
            c.send_cmd(&["SHUTDOWN", "SAVE"]);
            assert_eq!(c.read_to_close(), b"");
        }
        let s = start_in(threads, &dir.0);
        let mut c = s.raw();
        assert_eq!(c.cmd(&["MGET", "a", "b"]), b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
        assert_eq!(
            c.cmd(&["SHUTDOWN", "SAVE", "NOSAVE"]),
            b"-ERR syntax error\r\n"
        );
        assert_eq!(c.cmd(&["BGSAVE", "NOW"]), b"-ERR syntax error\r\n");
    }
}

/// With save points set, FLUSHALL saves the emptied dataset at once, as redis-server 7.0.15
/// does: the change counter is 0 after it and a restart does not bring the keys back.
#[test]
fn flushall_with_save_points_saves_the_empty_dataset() {
    let field = |c: &mut RawConn, name: &str| {
        let info = show(&c.cmd(&["INFO", "persistence"]));
        let line = info
            .lines()
            .find(|l| l.starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("{name} missing: {info}"));
        line[name.len() + 1..].to_string()
    };
    let rdir = TempDir::new("flushref");
    let reference = Reference::start_with(Some(&rdir.0), &[]);
    let mut r = reference.conn();
    for threads in THREADS {
        let dir = TempDir::new("flushall");
        {
            let s = start_in(threads, &dir.0);
            let mut c = s.raw();
            for conn in [&mut c, &mut r] {
                assert_eq!(conn.cmd(&["CONFIG", "SET", "save", "3600 1"]), b"+OK\r\n");
                assert_eq!(
                    conn.cmd(&["MSET", "a", "1", "b", "2", "c", "3"]),
                    b"+OK\r\n"
                );
                assert_eq!(conn.cmd(&["SAVE"]), b"+OK\r\n");
                assert_eq!(conn.cmd(&["SET", "d", "4"]), b"+OK\r\n");
            }
            assert_eq!(field(&mut c, "rdb_changes_since_last_save"), "1");
            for conn in [&mut c, &mut r] {
                assert_eq!(conn.cmd(&["FLUSHALL"]), b"+OK\r\n");
            }
            for name in ["rdb_changes_since_last_save", "rdb_last_bgsave_status"] {
                assert_eq!(field(&mut c, name), field(&mut r, name), "{name}");
            }
            assert_eq!(field(&mut c, "rdb_changes_since_last_save"), "0");
            c.send_cmd(&["SHUTDOWN", "NOSAVE"]);
            assert_eq!(c.read_to_close(), b"");
        }
        let s = start_in(threads, &dir.0);
        assert_eq!(s.raw().cmd(&["DBSIZE"]), b":0\r\n", "{threads} threads");
    }
}

#[test]
fn lzf_output_matches_redis_on_varied_strings() {
    let rdir = TempDir::new("lzf");
    let reference = Reference::start_with(Some(&rdir.0), &[]);
    let mut r = reference.conn();
    let s = TestServer::start(1);
    let mut c = s.raw();
    // Strings from 21 bytes to 20 KB over small and large alphabets, with runs and repeats:
    // compressible, barely compressible and incompressible, past the 8 KiB back-reference
    // window and the 264-byte match limit.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..300 {
        let len = 21 + (next() % [100, 1000, 20_000][i % 3]) as usize;
        let alphabet = 1 + next() % [2, 4, 26, 255][i % 4];
        let mut v = Vec::with_capacity(len);
        while v.len() < len {
            match next() % 4 {
                0 if v.len() > 10 => {
                    let back = 1 + (next() as usize % v.len().min(9000));
                    let n = (next() % 300) as usize;
                    for _ in 0..n.min(len - v.len()) {
                        v.push(v[v.len() - back]);
                    }
                }
                1 => {
                    let b = (next() % alphabet) as u8;
                    let n = (next() % 50) as usize;
                    v.extend(std::iter::repeat_n(b, n.min(len - v.len())));
                }
                _ => v.push((next() % alphabet) as u8 + b'!'.min(255 - alphabet as u8)),
            }
        }
        let key = format!("k{i}");
        for conn in [&mut c, &mut r] {
            let set = conn.cmd_bytes(&[b"SET", key.as_bytes(), &v]);
            assert_eq!(set, b"+OK\r\n");
        }
        let ours = c.cmd(&["DUMP", &key]);
        let theirs = r.cmd(&["DUMP", &key]);
        assert!(ours == theirs, "DUMP of string {i} ({len} bytes) differs");
    }
}

/// Streams: with nodes cut by `stream-node-max-entries`, deleted entries inside nodes, a
/// trimmed head, consumer groups (one created empty, one with an ENTRIESREAD), DUMP equals
/// redis-server's bytes; with consumers and pending entries (whose times differ between the
/// servers) each server's payload restores on the other and dumps back to the same bytes.
#[test]
fn streams_dump_like_redis_and_restore_both_ways() {
    let rdir = TempDir::new("streams");
    let reference = Reference::start_with(Some(&rdir.0), &[]);
    let mut r = reference.conn();
    let build: &[&[&str]] = &[
        &["CONFIG", "SET", "stream-node-max-entries", "3"],
        &["XADD", "s", "1-1", "a", "1", "b", "2"],
        &["XADD", "s", "1-2", "a", "3", "b", "4"],
        &["XADD", "s", "2-1", "c", "5"],
        &["XADD", "s", "3-0", "a", "x", "b", "yy"],
        &["XADD", "s", "4-0", "a", "7", "b", "8"],
        &[
            "XADD",
            "s",
            "5-5",
            "name",
            "12345678901234567890",
            "z",
            "-7",
        ],
        &["XDEL", "s", "1-2", "5-5"],
        &["XADD", "s", "6-0", "a", "1", "b", "2"],
        &["XTRIM", "s", "MAXLEN", "4"],
        &["XGROUP", "CREATE", "s", "g1", "0"],
        &["XGROUP", "CREATE", "s", "g2", "$"],
        &["XGROUP", "SETID", "s", "g1", "2-1", "ENTRIESREAD", "3"],
        &["XADD", "long", "*", "f", &"v".repeat(100)],
        &["XGROUP", "CREATE", "empty", "g", "0", "MKSTREAM"],
        &["XADD", "c", "1-0", "f", "v"],
        &["XADD", "c", "2-0", "f", "w"],
        &["XGROUP", "CREATE", "c", "g", "0"],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "1",
            "STREAMS",
            "c",
            ">",
        ],
        &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "c", ">"],
        &["XGROUP", "CREATECONSUMER", "c", "g", "carol"],
    ];
    for args in build {
        assert!(!r.cmd(args).starts_with(b"-"), "redis {args:?}");
    }
    for threads in THREADS {
        let s = TestServer::start(threads);
        let mut c = s.raw();
        for args in build {
            assert!(!c.cmd(args).starts_with(b"-"), "rustis {args:?}");
        }
        for key in ["s", "empty"] {
            assert_eq!(
                show(&c.cmd(&["DUMP", key])),
                show(&r.cmd(&["DUMP", key])),
                "DUMP {key} ({threads} threads)"
            );
        }
        for key in ["s", "long", "empty", "c"] {
            let theirs = bulk_payload(&r.cmd(&["DUMP", key]));
            let restored = format!("{key}:r");
            assert_eq!(
                c.cmd_bytes(&[b"RESTORE", restored.as_bytes(), b"0", &theirs, b"REPLACE"]),
                b"+OK\r\n"
            );
            assert_eq!(bulk_payload(&c.cmd(&["DUMP", &restored])), theirs, "{key}");
            // What redis-server's payload restores to here reads as the original there.
            for view in [
                &["XINFO", "STREAM", "", "FULL"][..],
                &["XRANGE", "", "-", "+"],
            ] {
                let mut ours_view: Vec<&str> = view.to_vec();
                ours_view[2] = &restored;
                let mut theirs_view: Vec<&str> = view.to_vec();
                theirs_view[2] = key;
                assert_eq!(
                    show(&c.cmd(&ours_view)),
                    show(&r.cmd(&theirs_view)),
                    "{view:?} {key}"
                );
            }
            let ours = bulk_payload(&c.cmd(&["DUMP", key]));
            assert_eq!(
                r.cmd_bytes(&[b"RESTORE", restored.as_bytes(), b"0", &ours, b"REPLACE"]),
                b"+OK\r\n"
            );
            assert_eq!(
                bulk_payload(&r.cmd(&["DUMP", &restored])),
                ours,
                "{key} in redis"
            );
        }
    }
}

const LIB_A: &str =
    "#!lua name=liba\nredis.register_function('fa', function(keys, args) return 'a' end)";
const LIB_B: &str = "#!lua name=libb\nredis.register_function{function_name='fb', callback=function(keys, args) return 'b' end, flags={'no-writes'}, description='the b function, with a description long enough to be compressed by LZF in the RDB file'}";

/// FUNCTION LIST WITHCODE's reply for each of the two libraries (each server lists them in
/// its own order), and the library count.
fn libraries(c: &mut RawConn) -> String {
    let mut s = String::new();
    for name in ["liba", "libb"] {
        s += &show(&c.cmd(&["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", name]));
    }
    s + &show(&c.cmd(&["FUNCTION", "STATS"]))
}

/// The function libraries are in the RDB file (`FUNCTION2` records) both ways: a dump with
/// functions written by redis-server 7.0.15 loads into Rustis and one written by Rustis loads
/// into redis-server, with the same libraries; DEBUG RELOAD keeps them; a library that does
/// not compile stops startup.
#[test]
fn function_libraries_are_saved_and_loaded_both_ways_with_redis() {
    let rdir = TempDir::new("fn-theirs");
    let expected = {
        let reference = Reference::start_with(Some(&rdir.0), &[]);
        let mut r = reference.conn();
        for lib in [LIB_A, LIB_B] {
            assert!(r.cmd(&["FUNCTION", "LOAD", lib]).starts_with(b"$"));
        }
        r.cmd(&["SET", "k", "v"]);
        assert_eq!(r.cmd(&["SAVE"]), b"+OK\r\n");
        libraries(&mut r)
    };
    assert!(expected.contains("liba") && expected.contains("libb"));
    for threads in THREADS {
        let mut config = Config::default();
        config.set("dir", rdir.0.to_str().unwrap(), true).unwrap();
        config.set("enable-debug-command", "yes", true).unwrap();
        let s = TestServer::start_opts(threads, None, config);
        let mut c = s.raw();
        assert_eq!(libraries(&mut c), expected, "{threads} threads");
        assert_eq!(c.cmd(&["GET", "k"]), b"$1\r\nv\r\n");
        assert_eq!(c.cmd(&["DEBUG", "RELOAD"]), b"+OK\r\n");
        // Every thread's engine has them (connections land on every thread).
        for _ in 0..threads * 2 {
            let mut c = s.raw();
            assert_eq!(libraries(&mut c), expected, "after DEBUG RELOAD");
            assert_eq!(c.cmd(&["FCALL", "fa", "0"]), b"$1\r\na\r\n");
            assert_eq!(c.cmd(&["FCALL_RO", "fb", "0"]), b"$1\r\nb\r\n");
        }
    }
    // Rustis's file: loaded, changed, saved; redis-server loads it.
    let dir = TempDir::new("fn-ours");
    {
        let s = start_in(2, &dir.0);
        let mut c = s.raw();
        for lib in [LIB_B, LIB_A] {
            assert!(c.cmd(&["FUNCTION", "LOAD", lib]).starts_with(b"$"));
        }
        assert_eq!(c.cmd(&["SAVE"]), b"+OK\r\n");
        assert_eq!(libraries(&mut c), expected);
    }
    let reference = Reference::start_with(Some(&dir.0), &[]);
    let mut r = reference.conn();
    assert_eq!(
        libraries(&mut r),
        expected,
        "redis-server loads Rustis's file"
    );
    assert_eq!(r.cmd(&["FCALL", "fa", "0"]), b"$1\r\na\r\n");
    drop(r);
    drop(reference);
    // BGSAVE writes them too, and after FUNCTION FLUSH the file has none.
    for threads in THREADS {
        let dir = TempDir::new("fn-bgsave");
        {
            let s = start_in(threads, &dir.0);
            let mut c = s.raw();
            c.cmd(&["FUNCTION", "LOAD", LIB_A]);
            assert_eq!(
                c.cmd(&["BGSAVE"]),
                b"+Background saving started\r\n".to_vec()
            );
            let deadline = Instant::now() + Duration::from_secs(20);
            while !show(&c.cmd(&["INFO", "persistence"])).contains("rdb_bgsave_in_progress:0") {
                assert!(Instant::now() < deadline);
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        {
            let s = start_in(threads, &dir.0);
            let mut c = s.raw();
            assert_eq!(c.cmd(&["FCALL", "fa", "0"]), b"$1\r\na\r\n");
            c.cmd(&["FUNCTION", "FLUSH"]);
            assert_eq!(c.cmd(&["SAVE"]), b"+OK\r\n");
        }
        let s = start_in(threads, &dir.0);
        assert_eq!(show(&s.raw().cmd(&["FUNCTION", "LIST"])), "*0\r\n");
    }
    // A library that does not compile stops startup, naming the file.
    let dir = TempDir::new("fn-bad");
    {
        let aux = rustis_persist::file::Aux {
            version: "7.0.15".into(),
            ctime: 0,
            used_mem: 0,
            aof_base: false,
            functions: vec![b"#!lua name=bad\nthis is not lua".to_vec()],
        };
        let f = std::fs::File::create(dir.0.join("dump.rdb")).unwrap();
        let fw = rustis_persist::file::FileWriter::new(f, &aux, true).unwrap();
        fw.finish().unwrap();
    }
    let mut config = Config::default();
    config.set("dir", dir.0.to_str().unwrap(), true).unwrap();
    config.set("port", "0", true).unwrap();
    let refused = rustis_runtime::start(rustis_runtime::ServerOptions {
        config,
        threads: 1,
        ..Default::default()
    });
    let e = refused.err().expect("refuses a library that does not load");
    assert!(e.to_string().contains("dump.rdb"), "{e}");
    assert!(e.to_string().contains("Failed loading library"), "{e}");
}

/// DEBUG RELOAD's options, as Redis's: NOFLUSH adds the file to what the server has (a
/// library or key in both is an error, nothing loaded), with MERGE the file's replaces it,
/// NOSAVE loads the file as it is.
#[test]
fn debug_reload_options_merge_noflush_nosave() {
    let lib = |name: &str| {
        format!(
            "#!lua name={name}\nredis.register_function('{name}', function() return 'hello' end)"
        )
    };
    for threads in THREADS {
        let dir = TempDir::new("reload-opts");
        let mut config = Config::default();
        config.set("dir", dir.0.to_str().unwrap(), true).unwrap();
        config.set("enable-debug-command", "yes", true).unwrap();
        let s = TestServer::start_opts(threads, None, config);
        let mut c = s.raw();
        assert!(c.cmd(&["FUNCTION", "LOAD", &lib("test")]).starts_with(b"$"));
        let e = show(&c.cmd(&["DEBUG", "RELOAD", "NOFLUSH"]));
        assert!(
            e.starts_with("-ERR Error trying to load the RDB dump"),
            "{e}"
        );
        assert_eq!(c.cmd(&["DEBUG", "RELOAD", "NOFLUSH", "MERGE"]), b"+OK\r\n");
        assert_eq!(c.cmd(&["FCALL", "test", "0"]), b"$5\r\nhello\r\n");
        c.cmd(&["FUNCTION", "DELETE", "test"]);
        c.cmd(&["SET", "x", "1"]);
        c.cmd(&["FUNCTION", "LOAD", &lib("test1")]);
        assert_eq!(c.cmd(&["DEBUG", "RELOAD"]), b"+OK\r\n");
        c.cmd(&["FUNCTION", "LOAD", &lib("test2")]);
        c.cmd(&["SET", "y", "2"]);
        assert_eq!(
            c.cmd(&["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"]),
            b"+OK\r\n"
        );
        for _ in 0..threads * 2 {
            let mut c = s.raw();
            assert_eq!(c.cmd(&["FCALL", "test1", "0"]), b"$5\r\nhello\r\n");
            assert_eq!(c.cmd(&["FCALL", "test2", "0"]), b"$5\r\nhello\r\n");
            assert_eq!(c.cmd(&["MGET", "x", "y"]), b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
        }
        // A key in both without MERGE: an error, and nothing changed.
        let e = show(&c.cmd(&["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH"]));
        assert!(
            e.starts_with("-ERR Error trying to load the RDB dump"),
            "{e}"
        );
        // NOSAVE alone: the file as it is (without y and test2).
        assert_eq!(c.cmd(&["DEBUG", "RELOAD", "NOSAVE"]), b"+OK\r\n");
        assert_eq!(c.cmd(&["MGET", "x", "y"]), b"*2\r\n$1\r\n1\r\n$-1\r\n");
        assert!(c.cmd(&["FCALL", "test2", "0"]).starts_with(b"-"));
        assert_eq!(
            show(&c.cmd(&["DEBUG", "RELOAD", "FAST"])),
            "-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n"
        );
    }
}

/// A ziplist of `entries` as Redis 6 and older wrote it (strings only, short ones).
fn ziplist(entries: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut last = 10;
    let mut prev = 0u8;
    for e in entries {
        last = 10 + body.len();
        let raw_len = 2 + e.len();
        body.push(prev);
        body.push(e.len() as u8);
        body.extend_from_slice(e);
        prev = raw_len as u8;
    }
    let total = 10 + body.len() + 1;
    let mut zl = Vec::new();
    zl.extend((total as u32).to_le_bytes());
    zl.extend((last as u32).to_le_bytes());
    zl.extend((entries.len() as u16).to_le_bytes());
    zl.extend(body);
    zl.push(0xFF);
    zl
}

/// A DUMP payload of RDB version 9 holding a value of `ty` stored as one RDB string.
fn v9_payload(ty: u8, blob: &[u8]) -> Vec<u8> {
    let mut p = vec![ty, blob.len() as u8];
    p.extend_from_slice(blob);
    p.extend(9u16.to_le_bytes());
    let crc = rustis_persist::CRC64.checksum(&p);
    p.extend(crc.to_le_bytes());
    p
}

#[test]
fn ziplist_and_zipmap_payloads_of_old_versions_restore_and_corrupt_ones_are_refused_like_redis() {
    let reference = Reference::start();
    let mut r = reference.conn();
    let zl_list = ziplist(&[b"a", b"bb", b"ccc"]);
    let zl_hash = ziplist(&[b"f1", b"v1", b"f2", b"v2"]);
    let zl_zset = ziplist(&[b"m1", b"1.5", b"m2", b"2"]);
    let zipmap: &[u8] = &[
        2, 2, b'f', b'1', 2, 1, b'v', b'1', 0, 2, b'f', b'2', 2, 0, b'v', b'2', 0xFF,
    ];
    let dup_hash = ziplist(&[b"f1", b"v1", b"f1", b"v2"]);
    let mut bad_prevlen = zl_list.clone();
    bad_prevlen[10 + 4] = 9;
    let mut quicklist = vec![1u8, zl_list.len() as u8];
    quicklist.extend_from_slice(&zl_list);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("list", v9_payload(10, &zl_list)),
        ("hash", v9_payload(13, &zl_hash)),
        ("zset", v9_payload(12, &zl_zset)),
        ("zipmap", v9_payload(9, zipmap)),
        ("dup", v9_payload(13, &dup_hash)),
        ("prevlen", v9_payload(10, &bad_prevlen)),
        ("cut", v9_payload(10, &zl_list[..zl_list.len() - 1])),
        ("quicklist", {
            let mut p = vec![14u8];
            p.extend_from_slice(&quicklist);
            p.extend(9u16.to_le_bytes());
            let crc = rustis_persist::CRC64.checksum(&p);
            p.extend(crc.to_le_bytes());
            p
        }),
    ];
    for threads in THREADS {
        let s = TestServer::start(threads);
        let mut c = s.raw();
        for (key, payload) in &cases {
            r.cmd(&["DEL", key]);
            let args: [&[u8]; 5] = [b"RESTORE", key.as_bytes(), b"0", payload, b"REPLACE"];
            let ours = show(&c.cmd_bytes(&args));
            assert_eq!(ours, show(&r.cmd_bytes(&args)), "{key}");
            for read in [
                &["TYPE", key][..],
                &["LRANGE", key, "0", "-1"],
                &["HGETALL", key],
                &["ZRANGE", key, "0", "-1", "WITHSCORES"],
                &["OBJECT", "ENCODING", key],
            ] {
                assert_eq!(show(&c.cmd(read)), show(&r.cmd(read)), "{read:?}");
            }
        }
        assert_eq!(show(&c.cmd(&["PING"])), "+PONG\r\n");
    }
}

/// Redis's fuzzer findings that Rustis refuses whatever `sanitize-dump-payload` says (it always
/// checks payloads whole): an empty quicklist node, and a stream entry whose element count
/// (which reverse iteration steps back by) is wrong.
#[test]
fn corrupt_payloads_from_redis_fuzzer_are_refused_and_the_server_goes_on() {
    let empty_node: &[u8] = b"\x12\x01\x01\x00\x0a\x00\x8f\xc6\xc0\x57\x1c\x0a\xb3\x3c";
    let bad_lp_count = {
        let hex = "0f011000000173dedf7d9b00000000000000004042420000001800030100010201846974656d058576616c75650600010201000100010101000156010201220100010101825f3103050102012c010001010102010501ff038100000173dedf7dc70001076d7967726f75708100000173dedf7d9b000100000173dedf7d9b0000000000000000f97ddfde73010000010105416c696365eb7ddfde730100000100000173dedf7d9b00000000000000000900";
        let mut p: Vec<u8> = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        let crc = rustis_persist::CRC64.checksum(&p);
        p.extend(crc.to_le_bytes());
        p
    };
    let reference = Reference::start();
    let mut r = reference.conn();
    for threads in THREADS {
        let s = TestServer::start(threads);
        let mut c = s.raw();
        let args: [&[u8]; 5] = [b"RESTORE", b"l", b"0", empty_node, b"REPLACE"];
        assert_eq!(show(&c.cmd_bytes(&args)), show(&r.cmd_bytes(&args)));
        assert_eq!(show(&c.cmd_bytes(&args)), "-ERR Bad data format\r\n");
        let args: [&[u8]; 4] = [b"RESTORE", b"x", b"0", &bad_lp_count];
        assert_eq!(show(&c.cmd_bytes(&args)), "-ERR Bad data format\r\n");
        assert_eq!(show(&c.cmd(&["PING"])), "+PONG\r\n");
    }
}

#[test]
fn rdb_key_save_delay_slows_a_bgsave_down_without_stopping_the_server() {
    for threads in THREADS {
        let dir = TempDir::new("save-delay");
        let s = start_in(threads, &dir.0);
        let mut c = s.raw();
        for i in 0..50 {
            c.cmd(&["SET", &format!("k{i}"), "v"]);
        }
        // 50 keys at 100 ms each: several seconds, unless the delay is lifted.
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "100000"]);
        assert_eq!(show(&c.cmd(&["BGSAVE"])), "+Background saving started\r\n");
        let info = show(&c.cmd(&["INFO", "persistence"]));
        assert!(info.contains("rdb_bgsave_in_progress:1"), "{info}");
        let t = Instant::now();
        assert_eq!(show(&c.cmd(&["PING"])), "+PONG\r\n");
        assert!(t.elapsed() < Duration::from_millis(500));
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
        wait_bgsave(&mut c);
        let info = show(&c.cmd(&["INFO", "persistence"]));
        assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
        assert!(info.contains("rdb_changes_since_last_save:0\r\n"), "{info}");
        assert!(dir.0.join("dump.rdb").exists());
        std::fs::remove_file(dir.0.join("dump.rdb")).unwrap();
        // A FLUSHALL abandons a running BGSAVE, as Redis's kills its child: no file, the
        // status and the change counter as they were.
        for i in 0..50 {
            c.cmd(&["SET", &format!("k{i}"), "v"]);
        }
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "100000"]);
        c.cmd(&["BGSAVE"]);
        c.cmd(&["FLUSHALL"]);
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
        wait_bgsave(&mut c);
        let info = show(&c.cmd(&["INFO", "persistence"]));
        assert!(
            !info.contains("rdb_changes_since_last_save:0\r\n"),
            "{info}"
        );
        assert!(!dir.0.join("dump.rdb").exists());
        assert_eq!(show(&c.cmd(&["SET", "x", "y"])), "+OK\r\n");
    }
}

#[test]
fn save_writes_keys_whose_time_passed_and_the_load_counts_them_as_expired() {
    for threads in THREADS {
        let dir = TempDir::new("expired-save");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        {
            // A minute ago, so the keys' time has passed for the restarted server's real clock.
            let clock = rustis_tests::ManualClock::new(now - 60_000);
            let mut config = Config::default();
            config.set("dir", dir.0.to_str().unwrap(), true).unwrap();
            config.set("enable-debug-command", "yes", true).unwrap();
            let s = TestServer::start_opts(threads, Some(clock.clone()), config);
            let mut c = s.raw();
            c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
            c.cmd(&["SET", "live", "v"]);
            for i in 0..10 {
                c.cmd(&["SET", &format!("gone{i}"), "v", "PX", "10"]);
            }
            clock.advance(100);
            assert_eq!(show(&c.cmd(&["SAVE"])), "+OK\r\n");
        }
        let s = start_in(threads, &dir.0);
        let mut c = s.raw();
        let info = show(&c.cmd(&["INFO", "persistence"]));
        assert!(info.contains("rdb_last_load_keys_expired:10\r\n"), "{info}");
        assert!(info.contains("rdb_last_load_keys_loaded:1\r\n"), "{info}");
        assert_eq!(show(&c.cmd(&["DBSIZE"])), ":1\r\n");
    }
}
