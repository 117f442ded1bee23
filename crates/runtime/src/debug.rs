//! DEBUG: the server's test and inspection command, as Redis 7.0's `debugCommand` answers
//! it, for the subcommands Rustis can answer truthfully. It is refused unless
//! `enable-debug-command` allows the client (`yes`, or `local` from a loopback address), with
//! Redis's error.
//!
//! `run` is one `match` on the subcommand's name and argument count, as Redis's is: a
//! subcommand is added by adding an arm (RELOAD and LOADAOF run the AOF's code, `aof.rs`). A
//! subcommand Rustis does not have (SEGFAULT, HTSTATS, ...) gets Redis's
//! answer to an unknown one, and HELP lists only the ones it has.
//!
//! DEBUG DIGEST is Redis's dataset digest, computed the same way so that the same data gives
//! the same hex on both servers: every key's digest is SHA1-mixed from its name, type, value
//! (in order for lists and streams, XORed over elements for sets, hashes and sorted sets) and
//! whether it has a TTL, and the dataset's is the XOR of its keys' digests, mixed with each
//! non-empty database's number. XOR does not care about order, so each shard digests its own
//! keys and the caller folds the shards' parts together.

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use rustis_commands::args::{eq_ic, strtod};
use rustis_commands::Out;
use rustis_storage::{Entry, Value};

use crate::session::Session;
use crate::worker::Worker;

/// The server-wide switches DEBUG sets.
pub(crate) struct DebugState {
    /// DEBUG SET-ACTIVE-EXPIRE: whether the threads' active expiry cycles run (lazy expiry
    /// always does).
    pub active_expire: AtomicBool,
}

impl Default for DebugState {
    fn default() -> Self {
        DebugState {
            active_expire: AtomicBool::new(true),
        }
    }
}

/// Redis's error for DEBUG when `enable-debug-command` does not allow the client.
const NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

/// HELP's lines: Redis's, for the subcommands Rustis has.
const HELP: &[&str] = &[
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
];

/// DEBUG <subcommand> [<arg> ...]
pub(crate) async fn run(w: &Rc<Worker>, sess: &Session, args: &[Bytes], out: &mut Out) {
    let setting = w
        .shared
        .config()
        .get("enable-debug-command")
        .map(str::to_string);
    let local = crate::server::is_loopback_peer(sess.addr.ip());
    if !crate::config::protected_action_allowed(setting.as_deref(), local) {
        return out.error(NOT_ALLOWED);
    }
    let sub = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
    let argc = args.len();
    match sub.as_str() {
        "help" if argc == 2 => crate::admin::help(out, "DEBUG", HELP),
        "config-rewrite-force-all" if argc == 2 => {
            let result = match &w.shared.config_file {
                Some(path) => w.shared.config().rewrite_file(path, true),
                // Redis opens a file named by a null path: ENOENT.
                None => Err("No such file or directory".to_string()),
            };
            match result {
                Ok(()) => out.ok(),
                Err(e) => out.error(&format!("ERR CONFIG-REWRITE-FORCE-ALL failed: {e}")),
            }
        }
        "log" if argc == 3 => {
            tracing::warn!("DEBUG LOG: {}", String::from_utf8_lossy(&args[2]));
            out.ok();
        }
        "error" if argc == 3 => {
            // No line breaks inside an error line, as Redis maps them to spaces.
            let text: Vec<u8> = args[2]
                .iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
                .collect();
            let mut line = Vec::with_capacity(text.len() + 3);
            line.push(b'-');
            line.extend_from_slice(&text);
            line.extend_from_slice(b"\r\n");
            out.raw(&line);
        }
        "sleep" if argc == 3 => {
            sleep_all(w, strtod(&args[2]).value).await;
            out.ok();
        }
        "aof-flush-sleep" if argc == 3 => {
            let us = atoi(&args[2]).max(0) as u64;
            w.shared.aof.flush_sleep_us.store(us, Ordering::Relaxed);
            out.ok();
        }
        "set-skip-checksum-validation" if argc == 3 => {
            let skip = atoi(&args[2]) != 0;
            rustis_commands::persist::SKIP_CHECKSUM_VALIDATION.store(skip, Ordering::Relaxed);
            out.ok();
        }
        "set-active-expire" if argc == 3 => {
            let on = atoi(&args[2]) != 0;
            w.shared.debug.active_expire.store(on, Ordering::Relaxed);
            out.ok();
        }
        "quicklist-packed-threshold" if argc == 3 => {
            // Rustis's lists have no plain nodes whose threshold this would move: list
            // commands behave the same either way, so the size is checked as Redis checks
            // it and has no other effect.
            let ok = crate::config::parse_memory(&String::from_utf8_lossy(&args[2]))
                .is_some_and(|sz| sz <= (1u64 << 32) - (1 << 20));
            if ok {
                out.ok();
            } else {
                out.error("ERR argument must be a memory value bigger than 1 and smaller than 4gb");
            }
        }
        "change-repl-id" if argc == 2 => {
            // There is no replication, so there are no replication IDs to change (INFO shows
            // none); the command is answered as Redis answers it.
            tracing::warn!("Changing replication IDs after receiving DEBUG change-repl-id");
            out.ok();
        }
        "stringmatch-test" if argc == 2 => {
            stringmatch_fuzz();
            out.simple("Apparently Redis did not crash: test passed");
        }
        "protocol" if argc == 3 => protocol(&args[2], out),
        "digest" if argc == 2 => {
            let hex = dataset_digest(w).await;
            out.simple(&hex);
        }
        "digest-value" => {
            out.array(argc - 2);
            for key in &args[2..] {
                let key = key.clone();
                let db = sess.db();
                let d = on_key_shard(w, &key.clone(), move |wk| {
                    let mut shard = wk.shard_now();
                    let mut digest = [0u8; 20];
                    if let Some(e) = shard.db(db).peek(&key) {
                        value_digest(&mut digest, e);
                    }
                    digest
                })
                .await;
                out.simple(&hex(&d.unwrap_or([0; 20])));
            }
        }
        "object" if argc == 3 => {
            let key = args[2].clone();
            let db = sess.db();
            let line = on_key_shard(w, &args[2], move |wk| {
                let mut shard = wk.shard_now();
                let opts = rustis_commands::persist::rdb_options(&shard.config);
                let d = shard.db(db);
                let idle = d.idle_secs(&key)?;
                let e = d.peek(&key)?;
                Some(object_line(e, idle, opts))
            })
            .await
            .flatten();
            match line {
                Some(l) => out.simple(&l),
                None => out.error("ERR no such key"),
            }
        }
        "listpack" if argc == 3 => inspect(w, sess, &args[2], "listpack", out).await,
        "quicklist" if argc == 3 || argc == 4 => inspect(w, sess, &args[2], "quicklist", out).await,
        "populate" if (3..=5).contains(&argc) => populate(w, sess, args, out).await,
        "reload" | "loadaof" if sub == "reload" || argc == 2 => {
            let mut opts = crate::aof::ReloadOpts {
                save: true,
                flush: true,
                merge: false,
            };
            for a in &args[2..] {
                match a.to_ascii_lowercase().as_slice() {
                    b"merge" => opts.merge = true,
                    b"noflush" => opts.flush = false,
                    b"nosave" => opts.save = false,
                    _ => {
                        return out.error(
                            "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
                        )
                    }
                }
            }
            let done = if sub == "reload" {
                crate::aof::debug_reload(w, opts).await
            } else {
                crate::aof::debug_loadaof(w).await
            };
            match done {
                Ok(()) => out.ok(),
                Err(e) => out.error(&e),
            }
        }
        _ => out.error(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(&args[1])
        )),
    }
}

/// C's `atoi`: an optional sign and the digits that follow, 0 when there are none.
fn atoi(s: &[u8]) -> i64 {
    let s = s.trim_ascii_start();
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for &c in digits.iter().take_while(|c| c.is_ascii_digit()) {
        n = n.wrapping_mul(10).wrapping_add((c - b'0') as i64);
    }
    if neg {
        -n
    } else {
        n
    }
}

/// Runs `f` on the thread that owns `key`; `None` if the server is stopping.
async fn on_key_shard<T: Send + 'static>(
    w: &Worker,
    key: &[u8],
    f: impl FnOnce(&Worker) -> T + Send + 'static,
) -> Option<T> {
    let s = crate::routing::shard_of(key, w.n);
    let call =
        Box::new(move |wk: &Worker| -> rustis_commands::registry::Partial { Box::new(f(wk)) });
    let part = w.send_call(s, None, false, call).await.ok()?;
    part.downcast::<T>().ok().map(|b| *b)
}

/// DEBUG SLEEP: stops the whole server for `secs` seconds, as Redis's single thread stops:
/// every thread sleeps at the same time (the others first, then this one), so no client is
/// served meanwhile. This is the one shard callback that blocks, because blocking is what
/// it is for.
async fn sleep_all(w: &Worker, secs: f64) {
    let micros = (secs * 1_000_000.0) as i64;
    if micros <= 0 {
        return;
    }
    let d = Duration::from_micros(micros as u64);
    let mut waits = Vec::with_capacity(w.n);
    let others = (0..w.n).filter(|&s| s != w.id);
    for s in others.chain(std::iter::once(w.id)) {
        let call = Box::new(move |_: &Worker| -> rustis_commands::registry::Partial {
            std::thread::sleep(d);
            Box::new(())
        });
        waits.push(w.send_call(s, None, false, call));
    }
    for rx in waits {
        let _ = rx.await;
    }
}

/// DEBUG PROTOCOL <type>: Redis's test reply of each type, in the connection's protocol.
fn protocol(name: &[u8], out: &mut Out) {
    if eq_ic(name, "string") {
        out.bulk(b"Hello World");
    } else if eq_ic(name, "integer") {
        out.int(12345);
    } else if eq_ic(name, "double") {
        // Redis's test value, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        out.double(3.141);
    } else if eq_ic(name, "bignum") {
        let n = b"1234567999999999999999999999999999999";
        if out.resp3 {
            out.raw(b"(1234567999999999999999999999999999999\r\n");
        } else {
            out.bulk(n);
        }
    } else if eq_ic(name, "null") {
        out.null();
    } else if eq_ic(name, "array") {
        out.array(3);
        (0..3).for_each(|j| out.int(j));
    } else if eq_ic(name, "set") {
        out.set(3);
        (0..3).for_each(|j| out.int(j));
    } else if eq_ic(name, "map") {
        out.map(3);
        for j in 0..3 {
            out.int(j);
            out.bool(j == 1);
        }
    } else if eq_ic(name, "attrib") {
        if out.resp3 {
            out.raw(b"|1\r\n");
            out.bulk(b"key-popularity");
            out.array(2);
            out.bulk(b"key:123");
            out.int(90);
        }
        out.bulk(b"Some real reply following the attribute");
    } else if eq_ic(name, "push") {
        if !out.resp3 {
            return out.error("ERR RESP2 is not supported by this command");
        }
        out.push(2);
        out.bulk(b"server-cpu-usage");
        out.int(42);
        out.bulk(b"Some real reply following the push reply");
    } else if eq_ic(name, "true") {
        out.bool(true);
    } else if eq_ic(name, "false") {
        out.bool(false);
    } else if eq_ic(name, "verbatim") {
        out.verbatim(b"This is a verbatim\nstring");
    } else {
        out.error("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
    }
}

/// DEBUG STRINGMATCH-TEST: matches random patterns against random strings, as Redis's
/// fuzzer does, to show that no pattern makes the matcher misbehave.
fn stringmatch_fuzz() {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    for _ in 0..100_000 {
        let plen = rng.gen_range(0..32);
        let slen = rng.gen_range(0..32);
        let pattern: Vec<u8> = (0..plen).map(|_| rng.gen::<u8>() % 128).collect();
        let s: Vec<u8> = (0..slen).map(|_| rng.gen::<u8>() % 128).collect();
        let _ = rustis_commands::glob::glob_match(&pattern, &s, false);
    }
}

/// DEBUG LISTPACK/QUICKLIST <key>: Redis prints the encoding's internals on its standard
/// output; Rustis answers whether the value has that encoding (which is what callers
/// check) and writes its elements to the log.
async fn inspect(w: &Worker, sess: &Session, key: &Bytes, encoding: &'static str, out: &mut Out) {
    let db = sess.db();
    let k = key.clone();
    let found = on_key_shard(w, key, move |wk| {
        let mut shard = wk.shard_now();
        let e = shard.db(db).peek(&k)?;
        Some((e.value.encoding() == encoding, e.value.type_name()))
    })
    .await
    .flatten();
    match (found, encoding) {
        (None, _) => out.error("ERR no such key"),
        (Some((false, _)), "listpack") => out.error("ERR Not a listpack encoded object."),
        (Some((false, _)), _) => out.error("ERR Not a quicklist encoded object."),
        (Some((true, ty)), "listpack") => {
            tracing::info!(
                "DEBUG LISTPACK {}: a {ty} in its listpack encoding",
                String::from_utf8_lossy(key)
            );
            out.simple("Listpack structure printed on stdout");
        }
        (Some((true, ty)), _) => {
            tracing::info!(
                "DEBUG QUICKLIST {}: a {ty} in its quicklist encoding",
                String::from_utf8_lossy(key)
            );
            out.simple("Quicklist structure printed on stdout");
        }
    }
}

/// DEBUG POPULATE <count> [<prefix>] [<size>]: creates string keys `<prefix>:<n>` holding
/// `value:<n>` (cut or zero-padded to `size` bytes when given), skipping keys that exist.
/// Each thread creates the keys it owns.
async fn populate(w: &Worker, sess: &Session, args: &[Bytes], out: &mut Out) {
    // Redis answers a negative number and a non-number alike here.
    let positive = |a: &Bytes| match rustis_commands::args::parse_i64(a) {
        Ok(n) if n >= 0 => Ok(n as u64),
        _ => Err("ERR value is out of range, must be positive"),
    };
    let count = match positive(&args[2]) {
        Ok(n) => n,
        Err(e) => return out.error(e),
    };
    let size = match args.get(4).map(positive) {
        None => 0,
        Some(Ok(n)) => n as usize,
        Some(Err(e)) => return out.error(e),
    };
    let prefix: Bytes = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| Bytes::from_static(b"key"));
    let db = sess.db();
    let mut waits = Vec::with_capacity(w.n);
    for s in 0..w.n {
        let prefix = prefix.clone();
        let call = Box::new(move |wk: &Worker| -> rustis_commands::registry::Partial {
            let mut shard = wk.shard_now();
            let n = wk.n;
            let mut key = Vec::new();
            let mut created = 0u64;
            for j in 0..count {
                key.clear();
                key.extend_from_slice(&prefix);
                key.push(b':');
                key.extend_from_slice(j.to_string().as_bytes());
                if crate::routing::shard_of(&key, n) != s {
                    continue;
                }
                let d = shard.db(db);
                if d.contains(&key) {
                    continue;
                }
                let mut val = format!("value:{j}").into_bytes();
                if size > 0 {
                    val.resize(size, 0);
                }
                d.insert(
                    &key,
                    Value::Str(rustis_storage::string::StrValue::from_bytes(&val)),
                    None,
                );
                created += 1;
            }
            wk.dirty.set(wk.dirty.get() + created);
            Box::new(())
        });
        waits.push(w.send_call(s, None, false, call));
    }
    for rx in waits {
        let _ = rx.await;
    }
    out.ok();
}

/// `xorDigest`: XORs SHA1(`data`) into `digest` (order does not matter).
fn xor_digest(digest: &mut [u8; 20], data: &[u8]) {
    let h = sha1_smol::Sha1::from(data).digest().bytes();
    for (d, h) in digest.iter_mut().zip(h) {
        *d ^= h;
    }
}

/// `mixDigest`: `digest = SHA1(digest xor SHA1(data))` (order matters).
fn mix_digest(digest: &mut [u8; 20], data: &[u8]) {
    xor_digest(digest, data);
    *digest = sha1_smol::Sha1::from(&digest[..]).digest().bytes();
}

/// Redis's `%.17g` of a score, as the digest of a sorted set element uses it.
fn score_text(score: f64) -> String {
    if score.is_infinite() {
        return if score > 0.0 { "inf" } else { "-inf" }.into();
    }
    rustis_resp::encode::fmt_g(score, 17)
}

/// `xorObjectDigest`: mixes a value's type, its contents and whether it has a TTL into
/// `digest`.
fn value_digest(digest: &mut [u8; 20], e: &Entry) {
    let ty: u32 = match &e.value {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    };
    mix_digest(digest, &ty.to_be_bytes());
    match &e.value {
        Value::Str(s) => {
            let mut scratch = rustis_storage::string::itoa_buf::Buffer::new();
            mix_digest(digest, s.as_bytes(&mut scratch));
        }
        Value::List(l) => l.iter().for_each(|el| mix_digest(digest, el)),
        Value::Set(s) => s.iter().for_each(|m| xor_digest(digest, m)),
        Value::ZSet(z) => {
            for (member, score) in z.iter_from(0, false) {
                let mut ele = [0u8; 20];
                mix_digest(&mut ele, member);
                mix_digest(&mut ele, score_text(score).as_bytes());
                xor_digest(digest, &ele);
            }
        }
        Value::Hash(h) => {
            for (field, value) in h.iter() {
                let mut ele = [0u8; 20];
                mix_digest(&mut ele, field);
                mix_digest(&mut ele, value);
                xor_digest(digest, &ele);
            }
        }
        Value::Stream(s) => {
            use rustis_storage::stream::StreamId;
            for (id, fields) in s.range(StreamId::MIN, StreamId::MAX, false) {
                mix_digest(digest, format!("{}.{}", id.ms, id.seq).as_bytes());
                fields.for_each(|f| mix_digest(digest, f));
            }
        }
    }
    if e.expire().is_some() {
        xor_digest(digest, b"!!expire!!");
    }
}

/// One shard's part of DEBUG DIGEST: per database, whether it has keys and the XOR of the
/// SHA1s of its keys' digests.
fn shard_digest(wk: &Worker) -> Vec<(bool, [u8; 20])> {
    let mut shard = wk.shard_now();
    let n_dbs = shard.dbs.len();
    (0..n_dbs)
        .map(|i| {
            let db = shard.db(i);
            let mut acc = [0u8; 20];
            let mut any = false;
            for (key, e) in db.iter() {
                any = true;
                let mut d = [0u8; 20];
                mix_digest(&mut d, key);
                value_digest(&mut d, e);
                // As Redis's `xorDigest(final, digest, 20)`: the SHA1 of the key's digest.
                xor_digest(&mut acc, &d);
            }
            (any, acc)
        })
        .collect()
}

/// DEBUG DIGEST: the dataset's digest as Redis computes it, from every shard's part taken
/// under the all-shard lock (one consistent cut). Forty zeros for an empty dataset.
async fn dataset_digest(w: &Worker) -> String {
    let Some(parts) = crate::persist::on_every_shard_locked(w, shard_digest).await else {
        return hex(&[0; 20]);
    };
    let mut fin = [0u8; 20];
    let n_dbs = parts.first().map_or(0, Vec::len);
    for j in 0..n_dbs {
        if !parts.iter().any(|p| p[j].0) {
            continue;
        }
        mix_digest(&mut fin, &(j as u32).to_be_bytes());
        for p in &parts {
            for (f, b) in fin.iter_mut().zip(p[j].1) {
                *f ^= b;
            }
        }
    }
    hex(&fin)
}

fn hex(d: &[u8; 20]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// DEBUG OBJECT's line, with what Rustis knows: the value's address, its one reference
/// (Rustis shares no values between keys), its encoding, the length of its RDB
/// serialization (0 for a stream, which Rustis cannot serialize yet), its LRU clock and idle time (Redis's LRU clock: seconds, 24 bits), and for
/// a quicklist the nodes Redis would cut it into.
fn object_line(e: &Entry, idle: u64, opts: rustis_persist::rdb::Options) -> String {
    let mut buf = Vec::new();
    let mut enc = rustis_persist::rdb::Encoder::new(opts);
    let len = match enc.value(&mut buf, &e.value) {
        // Without the type byte, as `rdbSavedObjectLen` counts.
        Ok(()) => buf.len().saturating_sub(1),
        // A type the RDB encoder does not write yet (streams): no length to show.
        Err(_) => 0,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let lru = now.saturating_sub(idle) & ((1 << 24) - 1);
    let mut extra = String::new();
    if let Value::List(l) = &e.value {
        if e.value.encoding() == "quicklist" {
            // The nodes a Redis quicklist would have (as the RDB writes them); Rustis never
            // compresses them.
            let nodes = rustis_persist::rdb::quicklist_nodes(l, opts.list_fill);
            let n = nodes.len().max(1);
            let size: usize = nodes.iter().map(|(_, b)| b.len()).sum();
            extra = format!(
                " ql_nodes:{} ql_avg_node:{:.2} ql_listpack_max:{} ql_compressed:0 ql_uncompressed_size:{size}",
                nodes.len(),
                l.len() as f64 / n as f64,
                opts.list_fill
            );
        }
    }
    format!(
        "Value at:{:p} refcount:1 encoding:{} serializedlength:{len} lru:{lru} lru_seconds_idle:{idle}{extra}",
        &e.value as *const Value,
        e.value.encoding()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_digest_depends_on_order_and_xor_digest_does_not() {
        let (mut a, mut b) = ([0u8; 20], [0u8; 20]);
        mix_digest(&mut a, b"foo");
        mix_digest(&mut a, b"bar");
        mix_digest(&mut b, b"bar");
        mix_digest(&mut b, b"foo");
        assert_ne!(a, b);
        let (mut a, mut b) = ([0u8; 20], [0u8; 20]);
        xor_digest(&mut a, b"foo");
        xor_digest(&mut a, b"bar");
        xor_digest(&mut b, b"bar");
        xor_digest(&mut b, b"foo");
        assert_eq!(a, b);
    }

    #[test]
    fn atoi_reads_like_c() {
        assert_eq!(atoi(b"1"), 1);
        assert_eq!(atoi(b" -12x"), -12);
        assert_eq!(atoi(b"x"), 0);
    }

    #[test]
    fn scores_print_as_percent_17g() {
        assert_eq!(score_text(1.5), "1.5");
        assert_eq!(score_text(0.1), "0.10000000000000001");
        assert_eq!(score_text(f64::INFINITY), "inf");
        assert_eq!(score_text(-f64::INFINITY), "-inf");
        assert_eq!(score_text(1e20), "1e+20");
    }
}
