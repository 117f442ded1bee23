//! Engine tests against a small in-memory host. Expected bytes come from redis-server 7.0.15
//! running the same EVAL (see the generated case tables).

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use bytes::Bytes;
use rustis_commands::{CommandSpec, Out, Registry};

use crate::{Abort, CallOpts, Engine, EngineConfig, EvalKind, Host, Outcome};

mod eval_cases;
mod function_cases;

pub(crate) static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::new);

/// A few commands over strings and hashes, replying as Redis does.
#[derive(Default)]
pub(crate) struct FakeHost {
    strings: HashMap<Vec<u8>, Vec<u8>>,
    hashes: HashMap<Vec<u8>, BTreeMap<Vec<u8>, Vec<u8>>>,
    pub(crate) calls: Vec<Vec<Bytes>>,
    pub(crate) abort_on: Option<&'static str>,
    pub(crate) logs: Vec<Vec<u8>>,
}

fn bulk(v: &[u8]) -> Vec<u8> {
    let mut o = format!("${}\r\n", v.len()).into_bytes();
    o.extend_from_slice(v);
    o.extend_from_slice(b"\r\n");
    o
}

impl Host for FakeHost {
    fn call(
        &mut self,
        args: Vec<Bytes>,
        spec: &'static CommandSpec,
        opts: CallOpts,
        reply: &mut Out,
    ) -> Result<(), Abort> {
        assert!(reply.buf.is_empty() && reply.resp3 == opts.resp3);
        reply.raw(&self.answer(args, spec, opts)?);
        Ok(())
    }

    fn log(&mut self, _level: crate::LogLevel, msg: &[u8]) {
        self.logs.push(msg.to_vec());
    }
}

impl FakeHost {
    /// The whole reply to one call.
    fn answer(
        &mut self,
        args: Vec<Bytes>,
        spec: &'static CommandSpec,
        opts: CallOpts,
    ) -> Result<Vec<u8>, Abort> {
        if self.abort_on == Some(spec.name) {
            return Err(Abort);
        }
        self.calls.push(args.clone());
        let null: &[u8] = if opts.resp3 { b"_\r\n" } else { b"$-1\r\n" };
        Ok(match spec.name {
            "set" => {
                self.strings.insert(args[1].to_vec(), args[2].to_vec());
                b"+OK\r\n".to_vec()
            }
            "get" => match self.strings.get(&args[1][..]) {
                Some(v) => bulk(v),
                None => null.to_vec(),
            },
            "echo" => bulk(&args[1]),
            "del" => {
                let n = args[1..]
                    .iter()
                    .filter(|k| {
                        self.strings.remove(&k[..]).is_some() | self.hashes.remove(&k[..]).is_some()
                    })
                    .count();
                format!(":{n}\r\n").into_bytes()
            }
            "incr" => {
                let cur = self
                    .strings
                    .get(&args[1][..])
                    .cloned()
                    .unwrap_or(b"0".to_vec());
                match std::str::from_utf8(&cur)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
                {
                    Some(n) => {
                        self.strings
                            .insert(args[1].to_vec(), (n + 1).to_string().into_bytes());
                        format!(":{}\r\n", n + 1).into_bytes()
                    }
                    None => b"-ERR value is not an integer or out of range\r\n".to_vec(),
                }
            }
            "hset" => {
                let h = self.hashes.entry(args[1].to_vec()).or_default();
                let mut added = 0;
                for p in args[2..].chunks(2) {
                    if h.insert(p[0].to_vec(), p[1].to_vec()).is_none() {
                        added += 1;
                    }
                }
                format!(":{added}\r\n").into_bytes()
            }
            "hgetall" => {
                let h = self.hashes.get(&args[1][..]).cloned().unwrap_or_default();
                let mut o = if opts.resp3 {
                    format!("%{}\r\n", h.len()).into_bytes()
                } else {
                    format!("*{}\r\n", h.len() * 2).into_bytes()
                };
                for (k, v) in h {
                    o.extend(bulk(&k));
                    o.extend(bulk(&v));
                }
                o
            }
            other => format!("-ERR fake host has no '{other}'\r\n").into_bytes(),
        })
    }
}

pub(crate) fn engine() -> Engine {
    Engine::new(&REGISTRY, EngineConfig::default())
}

pub(crate) fn b(parts: &[&str]) -> Vec<Bytes> {
    parts
        .iter()
        .map(|s| Bytes::copy_from_slice(s.as_bytes()))
        .collect()
}

pub(crate) fn out_bytes(out: &Out) -> Vec<u8> {
    out.pieces().flatten().copied().collect()
}

/// Runs EVAL on `e` with a fresh host and returns the reply bytes.
pub(crate) fn eval_on(
    e: &mut Engine,
    script: &str,
    keys: &[&str],
    args: &[&str],
    resp3: bool,
) -> Vec<u8> {
    let mut line = b(&["EVAL", script]);
    line.push(Bytes::from(keys.len().to_string()));
    line.extend(b(keys));
    line.extend(b(args));
    let mut host = FakeHost::default();
    let mut out = Out::new(resp3);
    let r = e.eval(
        &line,
        EvalKind {
            by_sha: false,
            read_only: false,
        },
        &mut host,
        &mut out,
    );
    assert_eq!(r, Outcome::Done);
    out_bytes(&out)
}

#[test]
fn eval_replies_match_redis() {
    let mut e = engine();
    let mut failures = Vec::new();
    for (script, keys, args, resp3, want) in eval_cases::EVAL_CASES {
        let got = eval_on(&mut e, script, keys, args, *resp3);
        if got != *want {
            failures.push(format!(
                "{script:?} resp3={resp3}\n   want {:?}\n   got  {:?}",
                String::from_utf8_lossy(want),
                String::from_utf8_lossy(&got)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn run_cmd(
    e: &mut Engine,
    line: &[&str],
    kind: EvalKind,
    host: &mut FakeHost,
) -> (Outcome, Vec<u8>) {
    let mut out = Out::new(false);
    let r = e.eval(&b(line), kind, host, &mut out);
    (r, out_bytes(&out))
}

const EVAL: EvalKind = EvalKind {
    by_sha: false,
    read_only: false,
};
const EVALSHA: EvalKind = EvalKind {
    by_sha: true,
    read_only: false,
};
const EVAL_RO: EvalKind = EvalKind {
    by_sha: false,
    read_only: true,
};

fn script(e: &mut Engine, line: &[&str]) -> Vec<u8> {
    let mut out = Out::new(false);
    assert_eq!(e.script_cmd(&b(line), &mut out), Outcome::Done);
    out_bytes(&out)
}

#[test]
fn evalsha_finds_what_eval_and_script_load_cached() {
    let mut e = engine();
    let mut h = FakeHost::default();
    let sha = crate::sha1_hex(b"return 'x'");
    let (_, r) = run_cmd(&mut e, &["EVALSHA", &sha, "0"], EVALSHA, &mut h);
    assert_eq!(r, b"-NOSCRIPT No matching script. Please use EVAL.\r\n");
    run_cmd(&mut e, &["EVAL", "return 'x'", "0"], EVAL, &mut h);
    let (_, r) = run_cmd(
        &mut e,
        &["EVALSHA", &sha.to_uppercase(), "0"],
        EVALSHA,
        &mut h,
    );
    assert_eq!(r, b"$1\r\nx\r\n");
    let (_, r) = run_cmd(&mut e, &["EVALSHA", "abc", "0"], EVALSHA, &mut h);
    assert_eq!(r, b"-NOSCRIPT No matching script. Please use EVAL.\r\n");
    assert_eq!(e.cached_scripts(), 1);

    let loaded = script(&mut e, &["SCRIPT", "LOAD", "return 2"]);
    assert_eq!(
        loaded,
        b"$40\r\n7f923f79fe76194c868d7e1d0820de36700eb649\r\n"
    );
    assert_eq!(
        script(
            &mut e,
            &[
                "SCRIPT",
                "EXISTS",
                "7F923F79FE76194C868D7E1D0820DE36700EB649",
                "nope"
            ]
        ),
        b"*2\r\n:1\r\n:0\r\n"
    );
    assert_eq!(
        script(&mut e, &["SCRIPT", "FLUSH", "x"]),
        b"-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n"
    );
    assert_eq!(script(&mut e, &["SCRIPT", "FLUSH", "ASYNC"]), b"+OK\r\n");
    assert_eq!(e.cached_scripts(), 0);
    assert_eq!(script(&mut e, &["SCRIPT", "EXISTS", &sha]), b"*1\r\n:0\r\n");
    assert_eq!(
        script(&mut e, &["SCRIPT", "LOAD", "retur 1"]),
        &b"-ERR Error compiling script (new function): user_script:1: '=' expected near '1'\r\n"[..]
    );
    let mut out = Out::new(false);
    assert_eq!(
        e.script_cmd(&b(&["SCRIPT", "KILL"]), &mut out),
        Outcome::NotHandled
    );
    assert!(out.is_empty());
}

#[test]
fn numkeys_errors_are_redis_texts() {
    let mut e = engine();
    let mut h = FakeHost::default();
    for (n, want) in [
        (
            "2",
            "-ERR Number of keys can't be greater than number of args\r\n",
        ),
        ("-1", "-ERR Number of keys can't be negative\r\n"),
        ("x", "-ERR value is not an integer or out of range\r\n"),
        ("01", "-ERR value is not an integer or out of range\r\n"),
    ] {
        let (_, r) = run_cmd(&mut e, &["EVAL", "return 1", n, "a"], EVAL, &mut h);
        if n == "2" {
            let (_, r2) = run_cmd(&mut e, &["EVAL", "return 1", n], EVAL, &mut h);
            assert_eq!(String::from_utf8_lossy(&r2), want);
        } else {
            assert_eq!(String::from_utf8_lossy(&r), want);
        }
    }
}

#[test]
fn shebang_flags_and_errors() {
    let mut e = engine();
    let mut h = FakeHost::default();
    let cases: &[(&str, EvalKind, &str)] = &[
        ("#!lua flags=foo\nreturn 1", EVAL, "-ERR Unexpected flag in script shebang: foo\r\n"),
        ("#!luax\nreturn 1", EVAL, "-ERR Unexpected engine in script shebang: #!luax\r\n"),
        ("#!lua xx=1\nreturn 1", EVAL, "-ERR Unknown lua shebang option: xx=1\r\n"),
        ("#!lua", EVAL, "-ERR Invalid script shebang\r\n"),
        ("#!lua\nreturn redis.call('set','x','1')", EVAL, "+OK\r\n"),
        ("#!lua\nreturn 1", EVAL_RO, "-ERR Can not execute a script with write flag using *_ro command.\r\n"),
        ("#!lua flags=no-writes\nreturn 1", EVAL_RO, ":1\r\n"),
        (
            "#!lua flags=no-writes\nreturn redis.call('set','x','1')",
            EVAL,
            "-ERR Write commands are not allowed from read-only scripts. script: 1e0a0d2a3f3e5a3e0e39c7e0a5b2f4b1a8b71a43, on @user_script:2.\r\n",
        ),
        (
            "return redis.call('set','x',1)",
            EVAL_RO,
            "-ERR Write commands are not allowed from read-only scripts. script: 4cb91861d207e5689edc816618ab68f9d6de3b44, on @user_script:1.\r\n",
        ),
        ("#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 1", EVAL, ":1\r\n"),
        ("#!lua name=x\nreturn 1", EVAL, "-ERR Unknown lua shebang option: name=x\r\n"),
    ];
    for (body, kind, want) in cases {
        let (_, r) = run_cmd(&mut e, &["EVAL", body, "0"], *kind, &mut h);
        let want = want.replace(
            "1e0a0d2a3f3e5a3e0e39c7e0a5b2f4b1a8b71a43",
            &crate::sha1_hex(body.as_bytes()),
        );
        assert_eq!(String::from_utf8_lossy(&r), want, "{body}");
    }
    let info = e
        .eval_info(
            &b(&["EVAL", "#!lua flags=no-writes\nreturn 1", "1", "k", "a"]),
            EVAL,
            &mut h,
        )
        .unwrap();
    assert!(info.read_only);
    assert_eq!(info.keys, 3..4);
    assert_eq!(info.flags.0, crate::ScriptFlags::NO_WRITES);
}

#[test]
fn abort_stops_the_script_even_under_pcall() {
    let mut e = engine();
    for body in [
        "redis.call('set','a','1') return 1",
        "pcall(redis.call, 'set','a','1') return 2",
        "local ok = pcall(function() redis.call('set','a','1') end) return 3",
        "redis.pcall('set','a','1') return 4",
        "xpcall(function() redis.call('set','a','1') end, function() end) redis.call('get','a') return 5",
    ] {
        let mut h = FakeHost {
            abort_on: Some("set"),
            ..Default::default()
        };
        let (r, out) = run_cmd(&mut e, &["EVAL", body, "0"], EVAL, &mut h);
        assert_eq!(r, Outcome::Aborted, "{body}");
        assert!(out.is_empty(), "{body}");
        assert!(h.calls.is_empty(), "{body}: no command after the abort");
    }
    // The engine runs the next script normally.
    let mut h = FakeHost::default();
    assert_eq!(
        run_cmd(&mut e, &["EVAL", "return 1", "0"], EVAL, &mut h).1,
        b":1\r\n"
    );
}

#[test]
fn kill_stops_a_busy_script_and_pcall_cannot_catch_it() {
    struct Killer(FakeHost, std::sync::Arc<crate::RunStatus>, u32);
    impl Host for Killer {
        fn call(
            &mut self,
            a: Vec<Bytes>,
            s: &'static CommandSpec,
            o: CallOpts,
            r: &mut Out,
        ) -> Result<(), Abort> {
            self.0.call(a, s, o, r)
        }
        fn tick(&mut self) {
            assert!(self.1.is_running());
            self.2 += 1;
            if self.2 == 3 {
                self.1.request_kill();
            }
        }
    }
    let mut e = engine();
    for body in [
        "while true do end",
        "while true do pcall(function() while true do end end) end",
    ] {
        let mut h = Killer(FakeHost::default(), e.status(), 0);
        let mut out = Out::new(false);
        assert_eq!(
            e.eval(&b(&["EVAL", body, "0"]), EVAL, &mut h, &mut out),
            Outcome::Done
        );
        let text = String::from_utf8_lossy(&out_bytes(&out)).into_owned();
        assert!(
            text.starts_with("-ERR Script killed by user with SCRIPT KILL... script: "),
            "{text}"
        );
        assert!(!e.status().is_running());
    }
}

#[test]
fn memory_limit_fails_the_script_not_the_engine() {
    let mut e = Engine::new(
        &REGISTRY,
        EngineConfig {
            memory_limit: 4 << 20,
        },
    );
    let mut h = FakeHost::default();
    let body = "local t = {} for i = 1, 1e8 do t[i] = i end return 1";
    let (_, r) = run_cmd(&mut e, &["EVAL", body, "0"], EVAL, &mut h);
    let text = String::from_utf8_lossy(&r);
    assert!(
        text.starts_with("-ERR Error running script ") && text.contains("not enough memory"),
        "{text}"
    );
    assert!(e.used_memory_lua() < 4 << 20);
    assert_eq!(
        run_cmd(&mut e, &["EVAL", "return 7", "0"], EVAL, &mut h).1,
        b":7\r\n"
    );
}

#[test]
fn redis_log_reaches_the_host() {
    let mut e = engine();
    let mut h = FakeHost::default();
    run_cmd(
        &mut e,
        &["EVAL", "redis.log(redis.LOG_WARNING, 'a', 1, 'b')", "0"],
        EVAL,
        &mut h,
    );
    assert_eq!(h.logs, vec![b"a 1 b".to_vec()]);
}

/// Runs one command line of the scripting family on `e`, as the runtime will dispatch it.
pub(crate) fn dispatch(e: &mut Engine, line: &[&str], host: &mut FakeHost, resp3: bool) -> Vec<u8> {
    let args = b(line);
    let mut out = Out::new(resp3);
    let name = line[0].to_ascii_uppercase();
    let r = match name.as_str() {
        "FUNCTION" => e.function_cmd(&args, &mut out),
        "SCRIPT" => e.script_cmd(&args, &mut out),
        "FCALL" => e.fcall(&args, false, host, &mut out),
        "FCALL_RO" => e.fcall(&args, true, host, &mut out),
        "EVAL" => e.eval(&args, EVAL, host, &mut out),
        other => panic!("not a scripting command: {other}"),
    };
    assert_eq!(r, Outcome::Done, "{line:?}");
    out_bytes(&out)
}

#[test]
fn function_replies_match_redis() {
    let mut failures = Vec::new();
    for seq in function_cases::FUNCTION_CASES {
        let mut e = engine();
        let mut h = FakeHost::default();
        for (line, want) in seq.iter() {
            let got = dispatch(&mut e, line, &mut h, false);
            if got != *want {
                failures.push(format!(
                    "{line:?}\n   want {:?}\n   got  {:?}",
                    String::from_utf8_lossy(want),
                    String::from_utf8_lossy(&got)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The bulk string's payload in a reply `$n\r\n...\r\n`.
fn bulk_payload(reply: &[u8]) -> Vec<u8> {
    let start = reply.iter().position(|&c| c == b'\n').unwrap() + 1;
    reply[start..reply.len() - 2].to_vec()
}

#[test]
fn function_restore_accepts_redis_payloads() {
    // The DUMP redis-server gave for library `lib1` with add, add2, add3.
    let (line, dump) = function_cases::FUNCTION_CASES[9][1];
    assert_eq!(line, &["FUNCTION", "DUMP"]);
    let payload = Bytes::from(bulk_payload(dump));
    let mut e = engine();
    let mut h = FakeHost::default();
    let restore = |e: &mut Engine, mode: Option<&str>| {
        let mut args = vec![
            Bytes::from_static(b"FUNCTION"),
            Bytes::from_static(b"RESTORE"),
            payload.clone(),
        ];
        if let Some(m) = mode {
            args.push(Bytes::copy_from_slice(m.as_bytes()));
        }
        let mut out = Out::new(false);
        e.function_cmd(&args, &mut out);
        String::from_utf8_lossy(&out_bytes(&out)).into_owned()
    };
    assert_eq!(restore(&mut e, None), "+OK\r\n");
    assert_eq!(
        dispatch(&mut e, &["FCALL", "add", "0", "1", "2"], &mut h, false),
        b":3\r\n"
    );
    assert_eq!(
        restore(&mut e, None),
        "-ERR Library lib1 already exists\r\n"
    );
    assert_eq!(
        restore(&mut e, Some("append")),
        "-ERR Library lib1 already exists\r\n"
    );
    assert_eq!(restore(&mut e, Some("REPLACE")), "+OK\r\n");
    dispatch(&mut e, &["FUNCTION", "DELETE", "lib1"], &mut h, false);
    dispatch(
        &mut e,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=other\nredis.register_function('add', function() return 0 end)",
        ],
        &mut h,
        false,
    );
    assert_eq!(
        restore(&mut e, Some("replace")),
        "-ERR Function add already exists\r\n"
    );
    assert_eq!(restore(&mut e, Some("flush")), "+OK\r\n");
    assert_eq!(
        e.function_stats(),
        crate::FunctionStats {
            libraries: 1,
            functions: 3
        }
    );
    // Our own dump is the same bytes, and a corrupted one is refused.
    assert_eq!(e.dump_functions(), payload.to_vec());
    let mut bad = payload.to_vec();
    bad[3] ^= 1;
    let mut out = Out::new(false);
    e.function_cmd(
        &[
            Bytes::from_static(b"FUNCTION"),
            Bytes::from_static(b"RESTORE"),
            Bytes::from(bad),
        ],
        &mut out,
    );
    assert_eq!(
        out_bytes(&out),
        b"-ERR DUMP payload version or checksum are wrong\r\n"
    );
}

#[test]
fn fcall_runs_with_resp3_and_sees_keys_and_args() {
    let mut e = engine();
    let mut h = FakeHost::default();
    dispatch(&mut e, &["FUNCTION", "LOAD", "#!lua name=l\nredis.register_function('m', function(keys, args) redis.setresp(3) redis.call('hset', keys[1], 'f', args[1]) return redis.call('hgetall', keys[1]) end)"], &mut h, false);
    assert_eq!(
        dispatch(&mut e, &["FCALL", "m", "1", "h", "v"], &mut h, true),
        b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    assert_eq!(
        dispatch(&mut e, &["FCALL", "m", "1", "h", "v"], &mut h, false),
        b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    let info = e
        .fcall_info(&b(&["FCALL", "M", "1", "h", "v"]), false, &mut h)
        .unwrap();
    assert_eq!((&*info.name, info.keys, info.read_only), ("m", 3..4, false));
}

#[test]
fn a_host_panic_reaches_the_caller_after_lua_has_unwound() {
    struct Panicky;
    impl Host for Panicky {
        fn call(
            &mut self,
            _: Vec<Bytes>,
            _: &'static CommandSpec,
            _: CallOpts,
            _: &mut Out,
        ) -> Result<(), Abort> {
            panic!("host bug");
        }
    }
    let mut e = engine();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut out = Out::new(false);
        e.eval(
            &b(&["EVAL", "pcall(redis.call, 'get', 'x') return 1", "0"]),
            EVAL,
            &mut Panicky,
            &mut out,
        )
    }));
    assert!(r.is_err());
    assert!(!e.status().is_running());
    let mut h = FakeHost::default();
    assert_eq!(
        run_cmd(&mut e, &["EVAL", "return 2", "0"], EVAL, &mut h).1,
        b":2\r\n"
    );
}

#[test]
fn a_self_referencing_reply_stops_where_redis_stack_limit_does() {
    // redis-server 7.0.15 writes this many `*1` levels, then the error element.
    let mut e = engine();
    for (script, resp3, head, levels) in [
        (
            "local a = {}; local b = {a}; a[1] = b; return a",
            false,
            &b"*1\r\n"[..],
            7995,
        ),
        (
            "local a = {}; local b = {a}; a[1] = b; return {map={x=a}}",
            true,
            b"%1\r\n$1\r\nx\r\n",
            7992,
        ),
        (
            "local a = {}; local b = {a}; a[1] = b; return {set={[a]=true}}",
            true,
            b"~1\r\n",
            7992,
        ),
    ] {
        let got = eval_on(&mut e, script, &[], &[], resp3);
        assert!(got.starts_with(head), "{script}");
        let arrays = got.windows(4).filter(|w| *w == b"*1\r\n").count();
        assert_eq!(arrays, levels, "{script}");
        assert!(
            got.ends_with(b"*1\r\n-ERR reached lua stack limit\r\n"),
            "{script}"
        );
    }
}

#[test]
fn a_library_whose_load_code_loops_times_out() {
    let mut e = engine();
    let code = b"#!lua name=lib\nlocal a = 1\nwhile 1 do a = a + 1 end";
    let r = e.load_library(code, false, Some(std::time::Duration::from_millis(1)));
    assert_eq!(
        r,
        Err("ERR Error registering functions: ERR FUNCTION LOAD timeout".to_string())
    );
    assert_eq!(e.function_stats(), crate::FunctionStats::default());
    let ok = e.load_library(
        b"#!lua name=lib\nredis.register_function('f', function() return 1 end)",
        false,
        None,
    );
    assert_eq!(ok, Ok("lib".to_string()));
}

#[test]
fn deeply_nested_library_input_fails_without_overflowing_the_stack() {
    // The exact depths, where Redis's Lua stack checks fail, are pinned against
    // redis-server 7.0.15 in the generated EVAL cases.
    let mut e = engine();
    for (script, want) in [
        (
            "local t = cmsgpack.unpack(string.rep('\\145', 100000)) return t",
            "stack overflow (in function mp_decode_to_lua_array)",
        ),
        (
            "cjson.decode_max_depth(100000) return cjson.decode(string.rep('[', 100000))",
            "Found too many nested data structures (",
        ),
        (
            "cjson.encode_max_depth(100000) local t = {} local c = t for i = 1, 100000 do c[1] = {} c = c[1] end return cjson.encode(t)",
            "Cannot serialise, excessive nesting (",
        ),
    ] {
        let got = String::from_utf8_lossy(&eval_on(&mut e, script, &[], &[], false)).into_owned();
        assert!(got.starts_with("-ERR user_script:1: ") && got.contains(want), "{script}: {got}");
    }
}
