//! Randomized differential tests: random command sequences run against Rustis and against
//! redis-server 7.0.15, and every reply compared byte for byte. Each family has its own
//! generator, biased towards the cases that have state (consumer groups and their pending
//! lists; geo sets searched, stored and searched again) and sprinkled with bad input, so the
//! error paths are compared too. A mismatch names the seed, the thread count and the last
//! commands, which is enough to replay it.
//!
//! Only time-independent commands are generated: IDs are explicit (`ms-seq` or `ms-*`, never
//! `*`), claims use a minimum idle time of 0, and the replies that carry idle times (XPENDING's
//! extended form, XINFO CONSUMERS) are left out.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use rustis_tests::{reply_len, show, RawConn, Reference, TestServer, THREADS};

/// Commands per seed and family: enough to reach trimmed, deleted and re-claimed states.
const STEPS: usize = 1500;
const SEEDS: [u64; 2] = [7, 20261202];

/// A connection to each server, and the commands sent so far.
struct Pair {
    ours: RawConn,
    theirs: RawConn,
    seed: u64,
    threads: usize,
    history: Vec<String>,
}

impl Pair {
    fn new(ours: &TestServer, theirs: &Reference, seed: u64, threads: usize) -> Pair {
        let mut p = Pair {
            ours: ours.raw(),
            theirs: theirs.conn(),
            seed,
            threads,
            history: Vec::new(),
        };
        p.same(&["FLUSHALL".to_string()]);
        p
    }

    fn replies(&mut self, args: &[String]) -> (Vec<u8>, Vec<u8>) {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        self.history.push(a.join(" "));
        (self.ours.cmd(&a), self.theirs.cmd(&a))
    }

    fn fail(&self, what: &str, ours: &[u8], theirs: &[u8]) -> ! {
        let from = self.history.len().saturating_sub(12);
        panic!(
            "{what} (seed {}, {} threads), after:\n  {}\nrustis:       {}\nredis-server: {}",
            self.seed,
            self.threads,
            self.history[from..].join("\n  "),
            show(ours),
            show(theirs)
        );
    }

    /// Sends `args` to both servers; the replies must be the same bytes.
    fn same(&mut self, args: &[String]) {
        let (ours, theirs) = self.replies(args);
        if ours != theirs {
            self.fail("replies differ", &ours, &theirs);
        }
    }

    /// Sends `args` to both servers; the replies must be arrays with the same elements, in any
    /// order (for replies whose order Redis leaves unspecified).
    fn same_set(&mut self, args: &[String]) {
        let (ours, theirs) = self.replies(args);
        if ours == theirs {
            return;
        }
        match (elements(&ours), elements(&theirs)) {
            (Some(mut a), Some(mut b)) => {
                a.sort();
                b.sort();
                if a != b {
                    self.fail("elements differ", &ours, &theirs);
                }
            }
            _ => self.fail("replies differ", &ours, &theirs),
        }
    }
}

/// The elements of an array reply, each as its own bytes; None if `reply` is not an array.
fn elements(reply: &[u8]) -> Option<Vec<Vec<u8>>> {
    if reply.first() != Some(&b'*') {
        return None;
    }
    let end = reply.windows(2).position(|w| w == b"\r\n")?;
    let n: usize = std::str::from_utf8(&reply[1..end]).ok()?.parse().ok()?;
    let mut rest = &reply[end + 2..];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let len = reply_len(rest)?;
        out.push(rest[..len].to_vec());
        rest = &rest[len..];
    }
    Some(out)
}

fn pick<'a>(rng: &mut SmallRng, from: &[&'a str]) -> &'a str {
    from[rng.gen_range(0..from.len())]
}

fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// Runs `family` for every seed on 1 and 4 threads against one reference server.
fn differential(family: fn(&mut Pair, &mut SmallRng)) {
    let reference = Reference::start();
    for threads in THREADS {
        let server = TestServer::start(threads);
        for seed in SEEDS {
            let mut pair = Pair::new(&server, &reference, seed, threads);
            let mut rng = SmallRng::seed_from_u64(seed);
            family(&mut pair, &mut rng);
        }
    }
}

// --- streams ---------------------------------------------------------------------------

/// Stream keys: on 4 threads they land on different shards.
const STREAMS: &[&str] = &["s:a", "s:b", "{s}c"];
const GROUPS: &[&str] = &["g1", "g2", "nogroup"];
const CONSUMERS: &[&str] = &["alice", "bob", "carol"];

/// An ID near the ones the generator adds, or a malformed one now and then.
fn stream_id(rng: &mut SmallRng, top: u64) -> String {
    match rng.gen_range(0..20) {
        0 => "-".into(),
        1 => "+".into(),
        2 => "bad-id".into(),
        3 => format!("({}", rng.gen_range(0..=top + 1)),
        4 => format!("{}", rng.gen_range(0..=top + 1)),
        _ => format!("{}-{}", rng.gen_range(0..=top + 1), rng.gen_range(0..3)),
    }
}

fn stream_step(p: &mut Pair, rng: &mut SmallRng, top: &mut u64) {
    let key = match rng.gen_range(0..40) {
        0 => "str".to_string(), // holds a string: WRONGTYPE
        1 | 2 => "missing".to_string(),
        _ => pick(rng, STREAMS).to_string(),
    };
    let group = pick(rng, GROUPS).to_string();
    let consumer = pick(rng, CONSUMERS).to_string();
    let count = rng.gen_range(0..6).to_string();
    match rng.gen_range(0..100) {
        0..=29 => {
            // XADD with an explicit, mostly increasing ID, sometimes trimming.
            let mut a = args(&["XADD", &key]);
            if rng.gen_ratio(1, 10) {
                a.push("NOMKSTREAM".into());
            }
            match rng.gen_range(0..8) {
                0 => a.extend(args(&["MAXLEN", "~", &rng.gen_range(0..20).to_string()])),
                1 => a.extend(args(&["MAXLEN", "=", &rng.gen_range(0..20).to_string()])),
                2 => a.extend(args(&["MINID", &top.saturating_sub(5).to_string()])),
                3 => a.extend(args(&["MAXLEN", "~", "3", "LIMIT", "2"])),
                _ => {}
            }
            let id = match rng.gen_range(0..10) {
                0 => format!("{}-*", *top + 1),
                1 => stream_id(rng, *top),
                _ => format!("{}-{}", *top + 1, rng.gen_range(0..2)),
            };
            *top += 1;
            a.push(id);
            let fields = if rng.gen_ratio(1, 20) {
                a.push("f".into()); // an odd number of field/value arguments
                0
            } else {
                rng.gen_range(1..4)
            };
            for f in 0..fields {
                a.push(format!("f{f}"));
                a.push(rng.gen_range(0..1000).to_string());
            }
            p.same(&a);
        }
        30..=34 => p.same(&args(&["XLEN", &key])),
        35..=42 => {
            let cmd = pick(rng, &["XRANGE", "XREVRANGE"]);
            let (lo, hi) = (stream_id(rng, *top), stream_id(rng, *top));
            let mut a = args(&[cmd, &key, &lo, &hi]);
            if rng.gen_ratio(1, 2) {
                a.extend(args(&["COUNT", &count]));
            }
            p.same(&a);
        }
        43..=46 => {
            let id = stream_id(rng, *top);
            p.same(&args(&["XDEL", &key, &id, &stream_id(rng, *top)]));
        }
        47..=49 => {
            let mut a = args(&["XTRIM", &key]);
            match rng.gen_range(0..3) {
                0 => a.extend(args(&["MAXLEN", "~", &rng.gen_range(0..10).to_string()])),
                1 => a.extend(args(&["MAXLEN", &rng.gen_range(0..10).to_string()])),
                _ => a.extend(args(&["MINID", "=", &stream_id(rng, *top)])),
            }
            p.same(&a);
        }
        50..=53 => {
            let id = pick(rng, &["$", "0", "-"]).to_string();
            let id = if id == "-" { stream_id(rng, *top) } else { id };
            let mut a = args(&["XGROUP", "CREATE", &key, &group, &id]);
            if rng.gen_ratio(1, 3) {
                a.push("MKSTREAM".into());
            }
            if rng.gen_ratio(1, 4) {
                a.extend(args(&["ENTRIESREAD", &rng.gen_range(0..10).to_string()]));
            }
            p.same(&a);
        }
        54..=55 => {
            let id = stream_id(rng, *top);
            p.same(&args(&["XGROUP", "SETID", &key, &group, &id]));
        }
        56 => p.same(&args(&["XGROUP", "DESTROY", &key, &group])),
        57..=58 => p.same(&args(&[
            "XGROUP",
            "CREATECONSUMER",
            &key,
            &group,
            &consumer,
        ])),
        59 => p.same(&args(&["XGROUP", "DELCONSUMER", &key, &group, &consumer])),
        60..=71 => {
            let mut a = args(&["XREADGROUP", "GROUP", &group, &consumer]);
            if rng.gen_ratio(1, 2) {
                a.extend(args(&["COUNT", &count]));
            }
            if rng.gen_ratio(1, 6) {
                a.push("NOACK".into());
            }
            let id = if rng.gen_ratio(3, 4) {
                ">".to_string()
            } else {
                stream_id(rng, *top)
            };
            a.extend(args(&["STREAMS", &key, &id]));
            p.same(&a);
        }
        72..=77 => {
            let mut a = args(&["XACK", &key, &group]);
            for _ in 0..rng.gen_range(1..4) {
                a.push(stream_id(rng, *top));
            }
            p.same(&a);
        }
        78..=80 => p.same(&args(&["XPENDING", &key, &group])),
        81..=83 => {
            let mut a = args(&["XCLAIM", &key, &group, &consumer, "0"]);
            for _ in 0..rng.gen_range(1..4) {
                a.push(stream_id(rng, *top));
            }
            if rng.gen_ratio(1, 2) {
                a.push("JUSTID".into());
            }
            p.same(&a);
        }
        84..=86 => {
            let start = stream_id(rng, *top);
            let mut a = args(&["XAUTOCLAIM", &key, &group, &consumer, "0", &start]);
            if rng.gen_ratio(1, 2) {
                a.extend(args(&["COUNT", &count]));
            }
            if rng.gen_ratio(1, 2) {
                a.push("JUSTID".into());
            }
            p.same(&a);
        }
        87..=89 => {
            let mut a = args(&["XREAD"]);
            if rng.gen_ratio(1, 2) {
                a.extend(args(&["COUNT", &count]));
            }
            let other = pick(rng, STREAMS);
            a.extend(args(&["STREAMS", &key, other]));
            a.push(stream_id(rng, *top));
            a.push(stream_id(rng, *top));
            p.same(&a);
        }
        90..=92 => p.same(&args(&["XINFO", "GROUPS", &key])),
        93..=95 => p.same(&args(&["XINFO", "STREAM", &key])),
        96 => {
            let id = format!("{}-5", *top + rng.gen_range(0..3));
            p.same(&args(&["XSETID", &key, &id]));
        }
        97 => p.same(&args(&["TYPE", &key])),
        _ => p.same(&args(&["SET", "str", "text"])),
    }
}

fn streams(p: &mut Pair, rng: &mut SmallRng) {
    let mut top = 0;
    for _ in 0..STEPS {
        stream_step(p, rng, &mut top);
    }
}

#[test]
fn streams_match_redis() {
    differential(streams);
}

// --- geo -------------------------------------------------------------------------------

/// Geo keys: `{geo}` ones share a shard, `dst` and `far` need not.
const GEOKEYS: &[&str] = &["{geo}a", "{geo}b", "dst"];
const UNITS: &[&str] = &["m", "km", "km", "km", "mi", "ft"];

fn member(rng: &mut SmallRng) -> String {
    format!("m{}", rng.gen_range(0..25))
}

/// A coordinate pair, clustered around a few centres so searches find something; out of range
/// now and then.
fn lonlat(rng: &mut SmallRng) -> (String, String) {
    if rng.gen_ratio(1, 30) {
        return (
            format!("{:.6}", rng.gen_range(-200.0..200.0)),
            format!("{:.6}", rng.gen_range(-95.0..95.0)),
        );
    }
    let centres = [(13.361389, 38.115556), (-73.98, 40.75), (151.2, -33.86)];
    let (lon, lat) = centres[rng.gen_range(0..centres.len())];
    (
        format!("{:.6}", lon + rng.gen_range(-1.5..1.5)),
        format!("{:.6}", lat + rng.gen_range(-1.5..1.5)),
    )
}

fn radius(rng: &mut SmallRng) -> String {
    if rng.gen_ratio(1, 15) {
        return pick(rng, &["0", "-1", "abc"]).to_string();
    }
    pick(rng, &["10", "50", "150", "400"]).to_string()
}

/// The options a search's reply depends on. Returns whether the reply order is defined.
fn search_options(rng: &mut SmallRng, a: &mut Vec<String>, store: bool) -> bool {
    let sorted = match rng.gen_range(0..4) {
        0 => {
            a.push("ASC".into());
            true
        }
        1 => {
            a.push("DESC".into());
            true
        }
        _ => false,
    };
    let mut counted = false;
    if rng.gen_ratio(1, 2) {
        counted = true;
        a.extend(args(&["COUNT", &rng.gen_range(0..6).to_string()]));
        if rng.gen_ratio(1, 5) {
            a.push("ANY".into());
        }
    }
    if !store {
        for flag in ["WITHCOORD", "WITHDIST", "WITHHASH"] {
            if rng.gen_ratio(1, 3) {
                a.push(flag.into());
            }
        }
    }
    // COUNT without ANY sorts by distance even when no order is given.
    let any = a.iter().any(|s| s == "ANY");
    sorted || (counted && !any)
}

fn geo_step(p: &mut Pair, rng: &mut SmallRng) {
    let key = match rng.gen_range(0..40) {
        0 => "str".to_string(), // holds a string: WRONGTYPE
        1 | 2 => "missing".to_string(),
        _ => pick(rng, GEOKEYS).to_string(),
    };
    let unit = if rng.gen_ratio(1, 30) {
        "parsecs".to_string()
    } else {
        pick(rng, UNITS).to_string()
    };
    match rng.gen_range(0..100) {
        0..=29 => {
            let mut a = args(&["GEOADD", &key]);
            for opt in ["NX", "XX", "CH"] {
                if rng.gen_ratio(1, 8) {
                    a.push(opt.into());
                }
            }
            for _ in 0..rng.gen_range(1..4) {
                let (lon, lat) = lonlat(rng);
                a.extend([lon, lat, member(rng)]);
            }
            p.same(&a);
        }
        30..=37 => {
            let (m1, m2) = (member(rng), member(rng));
            let mut a = args(&["GEODIST", &key, &m1, &m2]);
            if rng.gen_ratio(2, 3) {
                a.push(unit);
            }
            p.same(&a);
        }
        38..=42 => {
            let (m1, m2) = (member(rng), member(rng));
            p.same(&args(&["GEOHASH", &key, &m1, &m2]));
        }
        43..=47 => {
            let (m1, m2) = (member(rng), member(rng));
            p.same(&args(&["GEOPOS", &key, &m1, &m2]));
        }
        48..=79 => {
            let store = rng.gen_ratio(1, 4);
            let mut a = if store {
                let dst = pick(rng, &["dst", "{geo}dst"]);
                args(&["GEOSEARCHSTORE", dst, &key])
            } else {
                args(&["GEOSEARCH", &key])
            };
            if rng.gen_ratio(1, 2) {
                a.extend(args(&["FROMMEMBER", &member(rng)]));
            } else {
                let (lon, lat) = lonlat(rng);
                a.extend(args(&["FROMLONLAT", &lon, &lat]));
            }
            if rng.gen_ratio(1, 2) {
                a.extend(args(&["BYRADIUS", &radius(rng), &unit]));
            } else {
                let (w, h) = (radius(rng), radius(rng));
                a.extend(args(&["BYBOX", &w, &h, &unit]));
            }
            let ordered = search_options(rng, &mut a, store);
            if store && rng.gen_ratio(1, 2) {
                a.push("STOREDIST".into());
            }
            if ordered || store {
                p.same(&a);
            } else {
                p.same_set(&a);
            }
        }
        80..=89 => {
            let by_member = rng.gen_ratio(1, 2);
            let mut a = if by_member {
                args(&["GEORADIUSBYMEMBER", &key, &member(rng)])
            } else {
                let (lon, lat) = lonlat(rng);
                args(&["GEORADIUS", &key, &lon, &lat])
            };
            a.extend([radius(rng), unit]);
            let store = rng.gen_ratio(1, 4);
            let ordered = search_options(rng, &mut a, store);
            if store {
                a.extend(args(&[pick(rng, &["STORE", "STOREDIST"]), "{geo}dst"]));
                p.same(&a);
            } else if ordered {
                p.same(&a);
            } else {
                p.same_set(&a);
            }
        }
        90..=95 => {
            let dst = pick(rng, &["dst", "{geo}dst"]);
            p.same(&args(&["ZRANGE", dst, "0", "-1", "WITHSCORES"]));
        }
        96..=97 => {
            let m = member(rng);
            p.same(&args(&["ZREM", &key, &m]));
        }
        _ => p.same(&args(&["SET", "str", "text"])),
    }
}

fn geo(p: &mut Pair, rng: &mut SmallRng) {
    for _ in 0..STEPS {
        geo_step(p, rng);
    }
}

#[test]
fn geo_matches_redis() {
    differential(geo);
}
