//! MEMORY USAGE | STATS | DOCTOR | MALLOC-STATS | PURGE | HELP.
//!
//! USAGE runs on the key's shard (a message like any keyed command's part) and answers the
//! storage's estimate of the entry (`write::entry_mem`: its table node, a long key, its value),
//! the same estimate that memory tracking keeps; it is computed in O(1), so `SAMPLES` is
//! checked and needs no sampling. STATS and DOCTOR use the allocator's figures (INFO
//! `used_memory`) and the process's RSS; figures for parts Rustis does not have (replication
//! backlog, AOF buffer, cluster links) are zero. MALLOC-STATS and PURGE reach the allocator
//! through hooks the binary installs ([`install_allocator`]); without them (a server run
//! inside tests on the system allocator) they answer as Redis built without jemalloc does.

use std::sync::OnceLock;

use bytes::Bytes;
use rustis_commands::args::parse_i64;
use rustis_commands::registry::Partial;
use rustis_commands::Out;
use rustis_resp::errors::OpError;

use crate::routing::shard_of;
use crate::session::Session;
use crate::worker::Worker;

/// What the binary's allocator can do for MEMORY MALLOC-STATS and MEMORY PURGE.
#[derive(Clone, Copy)]
pub struct AllocatorHooks {
    /// The allocator's statistics report, as text.
    pub stats_text: fn() -> String,
    /// Returns unused dirty pages to the system; false if the allocator refused.
    pub purge: fn() -> bool,
}

static ALLOCATOR: OnceLock<AllocatorHooks> = OnceLock::new();

/// Installs the allocator's hooks (once, at startup; later calls are ignored).
pub fn install_allocator(hooks: AllocatorHooks) {
    let _ = ALLOCATOR.set(hooks);
}

const GONE: &str = "ERR server is shutting down";

/// Runs a MEMORY subcommand.
pub(crate) async fn command(w: &Worker, sess: &Session, args: &[Bytes], out: &mut Out) {
    let sub = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
    match (sub.as_str(), args.len()) {
        ("help", 2) => crate::admin::help(
            out,
            "MEMORY",
            &[
                "DOCTOR",
                "    Return memory problems reports.",
                "MALLOC-STATS",
                "    Return internal statistics report from the memory allocator.",
                "PURGE",
                "    Attempt to purge dirty pages for reclamation by the allocator.",
                "STATS",
                "    Return information about the memory usage of the server.",
                "USAGE <key> [SAMPLES <count>]",
                "    Return memory in bytes used by <key> and its value. Nested values are",
                "    sampled up to <count> times (default: 5, 0 means sample all).",
            ],
        ),
        ("usage", n) if n >= 3 => usage(w, sess, args, out).await,
        ("stats", 2) => stats(w, out).await,
        ("doctor", 2) => {
            let f = Figures::now(w);
            out.verbatim(doctor(&f).as_bytes());
        }
        ("malloc-stats", 2) => match ALLOCATOR.get() {
            Some(a) => out.verbatim((a.stats_text)().as_bytes()),
            None => out.bulk(b"Stats not supported for the current allocator"),
        },
        ("purge", 2) => match ALLOCATOR.get() {
            Some(a) if !(a.purge)() => out.error("ERR Error purging dirty pages"),
            _ => out.ok(),
        },
        _ => out.error(&crate::stats::subcommand_syntax_error(args)),
    }
}

/// MEMORY USAGE key [SAMPLES count]
async fn usage(w: &Worker, sess: &Session, args: &[Bytes], out: &mut Out) {
    let mut j = 3;
    while j < args.len() {
        if args[j].eq_ignore_ascii_case(b"samples") && j + 1 < args.len() {
            match parse_i64(&args[j + 1]) {
                Ok(n) if n >= 0 => {}
                Ok(_) => return out.error(OpError::Syntax.message()),
                Err(_) => return out.error(OpError::NotInteger.message()),
            }
            j += 2;
        } else {
            return out.error(OpError::Syntax.message());
        }
    }
    let key = args[2].clone();
    let db = sess.db();
    let s = shard_of(&key, w.n);
    let call = Box::new(move |wk: &Worker| -> Partial {
        let mut shard = wk.shard_now();
        let size = shard.dbs.get_mut(db).and_then(|d| {
            d.peek(&key)
                .map(|e| rustis_storage::write::entry_mem(&key, &e.value))
        });
        Box::new(size)
    });
    let Ok(part) = w.send_call(s, None, false, call).await else {
        return out.error(GONE);
    };
    match part.downcast::<Option<usize>>().map(|b| *b) {
        Ok(Some(n)) => out.int(n as i64),
        Ok(None) => out.null(),
        Err(_) => out.error("ERR internal routing error"),
    }
}

/// The figures STATS and DOCTOR are made of.
struct Figures {
    allocated: usize,
    rss: usize,
}

impl Figures {
    fn now(w: &Worker) -> Figures {
        let rss = crate::admin::rss_bytes();
        Figures {
            allocated: w.shared.allocated.map(|f| f()).unwrap_or(rss),
            rss,
        }
    }
}

/// MEMORY STATS
async fn stats(w: &Worker, out: &mut Out) {
    let f = Figures::now(w);
    let Some(keys) = crate::dispatch::on_every_thread(w, |wk| {
        let shard = wk.shard.borrow();
        shard.dbs.iter().map(|d| d.len()).collect::<Vec<usize>>()
    })
    .await
    else {
        return out.error(GONE);
    };
    let n_dbs = w.shared.n_dbs;
    let per_db: Vec<usize> = (0..n_dbs)
        .map(|d| keys.iter().map(|t| t.get(d).copied().unwrap_or(0)).sum())
        .collect();
    let total_keys: usize = per_db.iter().sum();
    let with_keys: Vec<(usize, usize)> = per_db
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, k)| *k > 0)
        .collect();
    let net = f.allocated.max(1);
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    out.map(27 + with_keys.len());
    let int = |out: &mut Out, name: &str, v: usize| {
        out.bulk(name.as_bytes());
        out.int(v as i64);
    };
    int(out, "peak.allocated", f.allocated);
    int(out, "total.allocated", f.allocated);
    int(out, "startup.allocated", 0);
    int(out, "replication.backlog", 0);
    int(out, "clients.slaves", 0);
    int(out, "clients.normal", 0);
    int(out, "cluster.links", 0);
    int(out, "aof.buffer", 0);
    int(out, "lua.caches", 0);
    int(out, "functions.caches", 0);
    for (db, _) in &with_keys {
        out.bulk(format!("db.{db}").as_bytes());
        out.map(3);
        int(out, "overhead.hashtable.main", 0);
        int(out, "overhead.hashtable.expires", 0);
        int(out, "overhead.hashtable.slot-to-keys", 0);
    }
    int(out, "overhead.total", 0);
    int(out, "keys.count", total_keys);
    int(
        out,
        "keys.bytes-per-key",
        net.checked_div(total_keys).unwrap_or(0),
    );
    int(out, "dataset.bytes", f.allocated);
    out.bulk(b"dataset.percentage");
    out.double(100.0);
    out.bulk(b"peak.percentage");
    out.double(100.0);
    int(out, "allocator.allocated", f.allocated);
    int(out, "allocator.active", f.allocated);
    int(out, "allocator.resident", f.rss);
    out.bulk(b"allocator-fragmentation.ratio");
    out.double(1.0);
    int(out, "allocator-fragmentation.bytes", 0);
    out.bulk(b"allocator-rss.ratio");
    out.double(ratio(f.rss, f.allocated));
    int(
        out,
        "allocator-rss.bytes",
        f.rss.saturating_sub(f.allocated),
    );
    out.bulk(b"rss-overhead.ratio");
    out.double(1.0);
    int(out, "rss-overhead.bytes", 0);
    out.bulk(b"fragmentation");
    out.double(ratio(f.rss, f.allocated));
    int(
        out,
        "fragmentation.bytes",
        f.rss.saturating_sub(f.allocated),
    );
}

/// MEMORY DOCTOR's report, with Redis's texts for the conditions Rustis can see (little
/// memory in use, a large RSS overhead).
fn doctor(f: &Figures) -> String {
    if f.allocated < 5 * 1024 * 1024 {
        return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n".to_string();
    }
    let frag = f.rss as f64 / f.allocated as f64;
    if frag > 1.4 && f.rss.saturating_sub(f.allocated) > 10 << 20 {
        let mut s = String::from(
            "Sam, I detected a few issues in this Redis instance memory implants:\n\n",
        );
        s.push_str(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"jemalloc-5.3.0\".\n\n");
        s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
        return s;
    }
    "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n".to_string()
}
