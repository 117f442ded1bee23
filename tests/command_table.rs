//! The command table against redis-server 7.0.15: COMMAND INFO and COMMAND DOCS of every
//! command and subcommand Rustis serves must equal the reference server's in every field but
//! the summary (ours are in our own words), in RESP2 and RESP3; COMMAND COUNT, LIST, GETKEYS
//! and GETKEYSANDFLAGS must reply as it does. The test starts its own redis-server and fails
//! if there is none on PATH.

use rustis_tests::{show, RawConn, Reference, TestServer, THREADS};

/// A parsed reply, keeping the RESP3 type of every aggregate and string.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(String),
    Null,
    Array(Vec<Val>),
    Set(Vec<Val>),
    Map(Vec<(Val, Val)>),
}

fn parse(buf: &[u8]) -> Val {
    let (v, n) = parse_at(buf, 0);
    assert_eq!(n, buf.len(), "trailing bytes after a reply");
    v
}

fn parse_at(buf: &[u8], at: usize) -> (Val, usize) {
    let end = at + buf[at..].windows(2).position(|w| w == b"\r\n").unwrap();
    let line = std::str::from_utf8(&buf[at + 1..end]).unwrap().to_string();
    let next = end + 2;
    let n = || line.parse::<i64>().unwrap();
    match buf[at] {
        b'+' => (Val::Simple(line), next),
        b'-' => (Val::Error(line), next),
        b':' => (Val::Int(n()), next),
        b'_' => (Val::Null, next),
        b'$' if n() < 0 => (Val::Null, next),
        b'*' if n() < 0 => (Val::Null, next),
        b'$' => {
            let len = n() as usize;
            let s = String::from_utf8_lossy(&buf[next..next + len]).into_owned();
            (Val::Bulk(s), next + len + 2)
        }
        b'*' | b'~' => {
            let mut items = Vec::new();
            let mut pos = next;
            for _ in 0..n() {
                let (v, p) = parse_at(buf, pos);
                items.push(v);
                pos = p;
            }
            let v = if buf[at] == b'*' {
                Val::Array(items)
            } else {
                Val::Set(items)
            };
            (v, pos)
        }
        b'%' => {
            let mut items = Vec::new();
            let mut pos = next;
            for _ in 0..n() {
                let (k, p) = parse_at(buf, pos);
                let (v, p) = parse_at(buf, p);
                items.push((k, v));
                pos = p;
            }
            (Val::Map(items), pos)
        }
        c => panic!("unexpected reply type {:?}", c as char),
    }
}

fn text(v: &Val) -> &str {
    match v {
        Val::Bulk(s) | Val::Simple(s) => s,
        other => panic!("not a string: {other:?}"),
    }
}

fn strings(v: &Val) -> Vec<String> {
    match v {
        Val::Array(items) | Val::Set(items) => items.iter().map(|i| text(i).to_string()).collect(),
        other => panic!("not a list: {other:?}"),
    }
}

/// A COMMAND INFO entry with its subcommands reduced to `ours` and sorted by name (Redis lists
/// them in hash order).
fn normalize_info(v: &Val, ours: &[String]) -> Val {
    let Val::Array(fields) = v else {
        return v.clone();
    };
    let mut fields = fields.clone();
    if let Val::Array(subs) = &fields[9] {
        let mut subs: Vec<Val> = subs
            .iter()
            .filter(|s| {
                let Val::Array(f) = s else { return false };
                ours.iter().any(|o| o == text(&f[0]))
            })
            .map(|s| normalize_info(s, ours))
            .collect();
        subs.sort_by_key(|s| match s {
            Val::Array(f) => text(&f[0]).to_string(),
            _ => String::new(),
        });
        fields[9] = Val::Array(subs);
    }
    Val::Array(fields)
}

/// A COMMAND DOCS map without its summary, its subcommands reduced to `ours`, sorted by name.
/// In RESP2 maps are flat arrays; `resp3` says which form to read.
fn normalize_docs(v: &Val, ours: &[String], resp3: bool) -> Vec<(String, Val)> {
    let pairs: Vec<(Val, Val)> = match v {
        Val::Map(p) => p.clone(),
        Val::Array(flat) if !resp3 => flat
            .chunks(2)
            .map(|c| (c[0].clone(), c[1].clone()))
            .collect(),
        other => panic!("not a docs map: {other:?}"),
    };
    let mut out = Vec::new();
    for (k, v) in pairs {
        let key = text(&k).to_string();
        match key.as_str() {
            "summary" => {}
            "subcommands" => {
                let subs = normalize_docs(&v, &[], resp3);
                let mut kept: Vec<(String, Val)> = subs
                    .into_iter()
                    .filter(|(name, _)| ours.contains(name))
                    .map(|(name, d)| {
                        let inner = normalize_docs(&d, ours, resp3);
                        (
                            name,
                            Val::Array(
                                inner
                                    .into_iter()
                                    .map(|(k, v)| Val::Array(vec![Val::Bulk(k), v]))
                                    .collect(),
                            ),
                        )
                    })
                    .collect();
                kept.sort_by(|a, b| a.0.cmp(&b.0));
                out.push((
                    key,
                    Val::Array(
                        kept.into_iter()
                            .map(|(k, v)| Val::Array(vec![Val::Bulk(k), v]))
                            .collect(),
                    ),
                ));
            }
            _ => out.push((key, v)),
        }
    }
    out
}

/// The commands Rustis serves that redis-server 7.0.15 lacks (a later version's, kept for
/// clients that send them).
const NOT_IN_REFERENCE: &[&str] = &["client|no-touch", "client|setinfo"];

/// The commands Rustis serves as Redis 7.2 does (ZRANK/ZREVRANK WITHSCORE): their arity,
/// arguments and history are 7.2's.
const LATER: &[&str] = &["zrank", "zrevrank"];

fn hello3(c: &mut RawConn) {
    let r = c.cmd(&["HELLO", "3"]);
    assert!(r.starts_with(b"%"), "{}", show(&r));
}

#[test]
fn command_info_and_docs_match_redis_for_every_served_command() {
    let reference = Reference::start();
    for threads in THREADS {
        let server = TestServer::start(threads);
        for resp3 in [false, true] {
            let mut ours = server.raw();
            let mut theirs = reference.conn();
            if resp3 {
                hello3(&mut ours);
                hello3(&mut theirs);
            }
            let names = strings(&parse(&ours.cmd(&["COMMAND", "LIST"])));
            assert!(names.len() > 160, "{names:?}");
            let comparable: Vec<String> = names
                .iter()
                .filter(|n| !NOT_IN_REFERENCE.contains(&n.as_str()))
                .cloned()
                .collect();
            let count = parse(&ours.cmd(&["COMMAND", "COUNT"]));
            let top = names.iter().filter(|n| !n.contains('|')).count();
            assert_eq!(count, Val::Int(top as i64));
            let mut missing = Vec::new();
            for name in &names {
                let mine = parse(&ours.cmd(&["COMMAND", "INFO", name]));
                let reference_info = parse(&theirs.cmd(&["COMMAND", "INFO", name]));
                let (Val::Array(m), Val::Array(r)) = (&mine, &reference_info) else {
                    panic!("COMMAND INFO {name}: {mine:?} / {reference_info:?}");
                };
                if r[0] == Val::Null {
                    missing.push(name.as_str());
                    assert_ne!(m[0], Val::Null, "COMMAND INFO {name}");
                    continue;
                }
                let (mut m0, mut r0) = (
                    normalize_info(&m[0], &comparable),
                    normalize_info(&r[0], &comparable),
                );
                if LATER.contains(&name.as_str()) {
                    for v in [&mut m0, &mut r0] {
                        if let Val::Array(f) = v {
                            f[1] = Val::Null;
                        }
                    }
                }
                assert_eq!(
                    m0, r0,
                    "COMMAND INFO {name} (threads={threads} resp3={resp3})"
                );
                let mine = parse(&ours.cmd(&["COMMAND", "DOCS", name]));
                let reference_docs = parse(&theirs.cmd(&["COMMAND", "DOCS", name]));
                let pick = |v: &Val| -> Val {
                    match v {
                        Val::Map(p) => p[0].1.clone(),
                        Val::Array(f) => f[1].clone(),
                        other => panic!("{other:?}"),
                    }
                };
                let later = LATER.contains(&name.as_str());
                let keep = |d: Vec<(String, Val)>| -> Vec<(String, Val)> {
                    d.into_iter()
                        .filter(|(k, _)| !later || (k != "arguments" && k != "history"))
                        .collect()
                };
                assert_eq!(
                    keep(normalize_docs(&pick(&mine), &comparable, resp3)),
                    keep(normalize_docs(&pick(&reference_docs), &comparable, resp3)),
                    "COMMAND DOCS {name} (threads={threads} resp3={resp3})"
                );
            }
            assert_eq!(missing, NOT_IN_REFERENCE);
            // COMMAND and COMMAND INFO without names list every command, once.
            for args in [&["COMMAND"][..], &["COMMAND", "INFO"]] {
                let Val::Array(all) = parse(&ours.cmd(args)) else {
                    panic!("{args:?}")
                };
                let mut listed: Vec<String> = all
                    .iter()
                    .map(|e| match e {
                        Val::Array(f) => text(&f[0]).to_string(),
                        other => panic!("{other:?}"),
                    })
                    .collect();
                listed.sort();
                let mut want: Vec<String> =
                    names.iter().filter(|n| !n.contains('|')).cloned().collect();
                want.sort();
                assert_eq!(listed, want, "{args:?}");
            }
            let docs = parse(&ours.cmd(&["COMMAND", "DOCS"]));
            let n = match &docs {
                Val::Map(p) => p.len(),
                Val::Array(f) => f.len() / 2,
                other => panic!("{other:?}"),
            };
            assert_eq!(n, top);
        }
    }
}

#[test]
fn command_list_filters_like_redis() {
    let reference = Reference::start();
    let mut theirs = reference.conn();
    let cats = [
        "keyspace",
        "read",
        "write",
        "set",
        "sortedset",
        "list",
        "hash",
        "string",
        "bitmap",
        "hyperloglog",
        "geo",
        "stream",
        "pubsub",
        "admin",
        "fast",
        "slow",
        "blocking",
        "dangerous",
        "connection",
        "transaction",
        "scripting",
        "FAST",
        "nosuch",
    ];
    for threads in THREADS {
        let server = TestServer::start(threads);
        let mut ours = server.raw();
        let names = strings(&parse(&ours.cmd(&["COMMAND", "LIST"])));
        let mut filters: Vec<Vec<&str>> = cats
            .iter()
            .map(|c| vec!["COMMAND", "LIST", "FILTERBY", "ACLCAT", c])
            .collect();
        for p in ["*", "z*", "config|*", "*|get", "GET", "h?et", "*[xy]*"] {
            filters.push(vec!["COMMAND", "LIST", "FILTERBY", "PATTERN", p]);
        }
        filters.push(vec!["COMMAND", "LIST", "FILTERBY", "MODULE", "nosuch"]);
        for args in filters {
            let mut mine = strings(&parse(&ours.cmd(&args)));
            let mut want: Vec<String> = strings(&parse(&theirs.cmd(&args)))
                .into_iter()
                .filter(|n| names.contains(n))
                .collect();
            // The later version's subcommands match the filters their metadata says.
            mine.retain(|n| !NOT_IN_REFERENCE.contains(&n.as_str()));
            mine.sort();
            want.sort();
            assert_eq!(mine, want, "{args:?} on {threads} threads");
        }
        for args in [
            &["COMMAND", "LIST", "FILTERBY", "NOSUCH", "x"][..],
            &["COMMAND", "LIST", "FILTERBY", "ACLCAT"],
            &["COMMAND", "LIST", "x"],
            &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "read", "x"],
        ] {
            assert_eq!(show(&ours.cmd(args)), show(&theirs.cmd(args)), "{args:?}");
        }
    }
}

#[test]
fn command_getkeys_and_errors_reply_like_redis() {
    let reference = Reference::start();
    let cases: &[&[&str]] = &[
        &["GET", "k"],
        &["MSET", "a", "1", "b", "2"],
        &["MSET", "a", "1", "b"],
        &["DEL", "a", "b", "c"],
        &["SET", "k", "v"],
        &["SET", "k", "v", "get"],
        &["SET", "k", "v", "EX", "10", "GET"],
        &["BITFIELD", "k", "GET", "u8", "0"],
        &["BITFIELD", "k", "GET", "u8", "0", "SET", "u8", "0", "1"],
        &["BITFIELD", "k", "OVERFLOW", "SAT", "GET", "u8", "0"],
        &["BITFIELD_RO", "k", "GET", "u8", "0"],
        &["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"],
        &["ZUNIONSTORE", "d", "0", "a"],
        &["ZUNIONSTORE", "d", "5", "a"],
        &["ZUNIONSTORE", "d", "x", "a"],
        &["ZUNION", "2", "a", "b"],
        &["ZINTERCARD", "1", "a", "LIMIT", "3"],
        &["ZDIFFSTORE", "d", "1", "a"],
        &["SINTERCARD", "2", "a", "b"],
        &["LMPOP", "2", "a", "b", "LEFT"],
        &["BLMPOP", "0", "2", "a", "b", "LEFT"],
        &["ZMPOP", "1", "a", "MIN"],
        &["BZMPOP", "0", "1", "a", "MIN"],
        &["SORT", "k"],
        &["SORT", "k", "BY", "w_*", "STORE", "d"],
        &["SORT", "k", "LIMIT", "0", "1", "STORE", "d", "GET", "#"],
        &["SORT_RO", "k", "BY", "x"],
        &["OBJECT", "ENCODING", "k"],
        &["OBJECT", "HELP"],
        &["OBJECT", "NOSUCH", "k"],
        &["OBJECT"],
        &["CONFIG", "GET", "x"],
        &["CONFIG"],
        &["COPY", "a", "b", "DB", "1"],
        &["BITOP", "AND", "d", "a", "b"],
        &["RENAME", "a", "b"],
        &["BLPOP", "a", "b", "0"],
        &["BRPOPLPUSH", "a", "b", "0"],
        &["LCS", "a", "b"],
        &["PFMERGE", "d", "a", "b"],
        &["PFCOUNT", "a", "b"],
        &["HSET", "h", "f", "v"],
        &["EXISTS", "a"],
        &["PING"],
        &["KEYS", "*"],
        &["NOSUCH", "a"],
        &["GET"],
        &["GET", "a", "b"],
        &["MIGRATE", "h", "1", "k", "0", "5000"],
        &["MIGRATE", "h", "1", "", "0", "5000"],
        &[
            "MIGRATE", "h", "1", "", "0", "5000", "COPY", "KEYS", "a", "b", "c",
        ],
        &[
            "MIGRATE", "h", "1", "", "0", "5000", "AUTH", "KEYS", "x", "KEYS", "a",
        ],
        &[
            "MIGRATE", "h", "1", "", "0", "5000", "AUTH2", "u", "KEYS", "x", "KEYS", "a",
        ],
        &["MIGRATE", "h", "1", "k", "0", "5000", "KEYS", "a"],
        &["MIGRATE", "h", "1", "", "0", "5000", "KEYS"],
    ];
    for threads in THREADS {
        let server = TestServer::start(threads);
        for resp3 in [false, true] {
            let mut ours = server.raw();
            let mut theirs = reference.conn();
            if resp3 {
                hello3(&mut ours);
                hello3(&mut theirs);
            }
            for case in cases {
                for sub in ["GETKEYS", "GETKEYSANDFLAGS"] {
                    let mut args = vec!["COMMAND", sub];
                    args.extend_from_slice(case);
                    assert_eq!(
                        show(&ours.cmd(&args)),
                        show(&theirs.cmd(&args)),
                        "{args:?} on {threads} threads, resp3={resp3}"
                    );
                }
            }
            for args in [
                &["COMMAND", "GETKEYS"][..],
                &["COMMAND", "GETKEYSANDFLAGS"],
                &["COMMAND", "COUNT", "x"],
                &["COMMAND", "NOSUCH"],
                &["COMMAND", "nosuch", "x"],
                &["COMMAND", "HELP"],
                &["COMMAND", "help", "x"],
                &["COMMAND", "INFO", "nosuch", "config|nosuch", "nosuch|get"],
                &["COMMAND", "DOCS", "nosuch", "config|nosuch"],
                &["COMMAND", "DOCS", "nosuch"],
                &["COMMAND", "INFO", "CONFIG|GET"],
            ] {
                let mine = ours.cmd(args);
                let want = theirs.cmd(args);
                if args.len() > 2 && args[1] == "INFO" && args[2] == "CONFIG|GET" {
                    let (Val::Array(m), Val::Array(w)) = (parse(&mine), parse(&want)) else {
                        panic!("{args:?}")
                    };
                    assert_eq!(
                        normalize_info(&m[0], &[]),
                        normalize_info(&w[0], &[]),
                        "{args:?}"
                    );
                    continue;
                }
                assert_eq!(show(&mine), show(&want), "{args:?} on {threads} threads");
            }
        }
    }
}

#[test]
fn every_served_subcommand_has_a_handler() {
    for threads in THREADS {
        let server = TestServer::start(threads);
        let mut c = server.raw();
        let names = strings(&parse(&c.cmd(&["COMMAND", "LIST"])));
        for name in names.iter().filter(|n| n.contains('|')) {
            let Val::Array(info) = parse(&c.cmd(&["COMMAND", "INFO", name])) else {
                panic!("{name}")
            };
            let Val::Array(fields) = &info[0] else {
                panic!("{name}")
            };
            let Val::Int(arity) = fields[1] else {
                panic!("{name}")
            };
            let (container, sub) = name.split_once('|').unwrap();
            let mut args = vec![container.to_string(), sub.to_string()];
            // CLIENT KILL and UNBLOCK name a client that does not exist; CLIENT PAUSE pauses
            // for no time (a long pause would hold the commands that follow).
            let filler = if name == "client|pause" {
                "0"
            } else {
                "999999"
            };
            while args.len() < arity.unsigned_abs() as usize {
                args.push(filler.into());
            }
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let reply = show(&c.cmd(&argv));
            assert!(
                !reply.starts_with("-ERR unknown subcommand")
                    && !reply.starts_with("-ERR wrong number of arguments"),
                "{argv:?} -> {reply}"
            );
        }
    }
}
