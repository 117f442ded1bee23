//! DUMP and RESTORE: a value in Redis's DUMP payload format (the RDB encoding of the value,
//! the RDB version, a CRC-64), through `rustis_persist`. SAVE, BGSAVE and LASTSAVE act on the
//! whole server and are run by the runtime (`ConnCmd`).

use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use rustis_persist::{DecodeError, Options, RestoreError};
use rustis_resp::errors::SYNTAX;
use rustis_resp::Out;
use rustis_storage::{ShardConfig, Value};

use crate::args::{eq_ic, parse_i64};
use crate::ctx::ShardCtx;
use crate::registry::{Binding, ConnCmd, Registry, Run};

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(Binding::new("dump", Run::Shard(cmd_dump)));
    r.add(Binding::new("restore", Run::Shard(cmd_restore)));
    r.add(Binding::new("save", Run::Conn(ConnCmd::Save)));
    r.add(Binding::new("bgsave", Run::Conn(ConnCmd::Bgsave)));
    r.add(Binding::new(
        "bgrewriteaof",
        Run::Conn(ConnCmd::Bgrewriteaof),
    ));
    r.add(Binding::new("lastsave", Run::Conn(ConnCmd::Lastsave)));
}

/// DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE does not check payloads' CRC-64 (their length
/// and RDB version still are). One switch per process, as Redis's is one per server.
pub static SKIP_CHECKSUM_VALIDATION: AtomicBool = AtomicBool::new(false);

/// How a shard with `cfg` writes values: `rdbcompression` and the list node size.
pub fn rdb_options(cfg: &ShardConfig) -> Options {
    Options {
        compress: cfg.rdb_compression,
        list_fill: cfg.list_max_listpack_size,
    }
}

/// The DUMP payload of `v`, or the error reply for a type the encoder does not know.
pub fn op_dump(v: &Value, cfg: &ShardConfig) -> Result<Vec<u8>, String> {
    rustis_persist::dump(v, rdb_options(cfg)).map_err(|e| format!("ERR {e}"))
}

/// DUMP key
fn cmd_dump(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let cfg = ctx.shard.config.clone();
    let db = ctx.db();
    let Some(v) = db.get(&args[1]) else {
        db.count_lookup(false);
        return out.null();
    };
    let r = op_dump(v, &cfg);
    db.count_lookup(true);
    match r {
        Ok(p) => out.bulk(&p),
        Err(e) => out.error(&e),
    }
}

/// RESTORE's options.
#[derive(Debug, Default, PartialEq, Eq)]
struct RestoreOpts {
    replace: bool,
    absttl: bool,
    idle: Option<i64>,
    freq: Option<i64>,
}

fn parse_restore_opts(args: &[Bytes]) -> Result<RestoreOpts, String> {
    let mut o = RestoreOpts::default();
    let mut j = 4;
    while j < args.len() {
        let more = args.len() - j - 1;
        let a = &args[j];
        if eq_ic(a, "replace") {
            o.replace = true;
        } else if eq_ic(a, "absttl") {
            o.absttl = true;
        } else if eq_ic(a, "idletime") && more >= 1 && o.freq.is_none() {
            let n = parse_i64(&args[j + 1]).map_err(|e| e.message().to_string())?;
            if n < 0 {
                return Err("ERR Invalid IDLETIME value, must be >= 0".into());
            }
            o.idle = Some(n);
            j += 1;
        } else if eq_ic(a, "freq") && more >= 1 && o.idle.is_none() {
            let n = parse_i64(&args[j + 1]).map_err(|e| e.message().to_string())?;
            if !(0..=255).contains(&n) {
                return Err("ERR Invalid FREQ value, must be >= 0 and <= 255".into());
            }
            o.freq = Some(n);
            j += 1;
        } else {
            return Err(SYNTAX.to_string());
        }
        j += 1;
    }
    Ok(o)
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
///
/// Checks in Redis's order: options, an existing key (BUSYKEY), the TTL, the payload's
/// version and checksum, then the value itself. A TTL already in the past stores nothing (and
/// with REPLACE deletes the old key), as Redis does. FREQ is validated and, as under Redis's
/// default `noeviction` policy, has no effect; IDLETIME sets the key's idle time.
fn cmd_restore(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let o = match parse_restore_opts(args) {
        Ok(o) => o,
        Err(e) => return out.error(&e),
    };
    let key = &args[1][..];
    let cfg = ctx.shard.config.clone();
    let now = ctx.shard.now();
    let db = ctx.db();
    if !o.replace && db.contains(key) {
        return out.error("BUSYKEY Target key name already exists.");
    }
    let ttl = match parse_i64(&args[2]) {
        Ok(n) => n,
        Err(e) => return out.error(e.message()),
    };
    if ttl < 0 {
        return out.error("ERR Invalid TTL value, must be >= 0");
    }
    let check_crc = !SKIP_CHECKSUM_VALIDATION.load(Ordering::Relaxed);
    let value = match rustis_persist::restore_with(&args[3], &cfg, check_crc) {
        Ok(v) => v,
        Err(e @ RestoreError::VersionOrChecksum) => return out.error(e.reply()),
        Err(e @ RestoreError::BadFormat(_)) => {
            // Redis logs why at `verbose`; the corruption tests look for these words.
            if let RestoreError::BadFormat(why) = &e {
                let label = rustis_persist::rdb::integrity_label(args[3][0]);
                match why {
                    DecodeError::Format("duplicate consumer") => {
                        tracing::debug!("RESTORE payload: Duplicate stream consumer detected.")
                    }
                    _ => tracing::debug!("RESTORE payload: {label} integrity check failed: {why}"),
                }
            }
            return out.error(e.reply());
        }
    };
    if o.replace {
        db.remove(key);
    }
    let when = if ttl != 0 && !o.absttl {
        ttl.saturating_add(now as i64)
    } else {
        ttl
    };
    if when != 0 && when <= now as i64 {
        return out.ok();
    }
    let expire = (when != 0).then_some(when as u64);
    db.insert(key, value, expire);
    // As Redis's `objectSetLRUOrLFU`: FREQ counts under an LFU policy, IDLETIME otherwise.
    let lfu = db.access() != rustis_storage::table::Access::Lru;
    match (o.idle, o.freq) {
        (Some(idle), _) if !lfu => {
            db.set_idle_secs(key, u32::try_from(idle).unwrap_or(u32::MAX));
        }
        (_, Some(freq)) if lfu => {
            db.set_freq(key, u8::try_from(freq).unwrap_or(255));
        }
        _ => {}
    }
    out.ok();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(v: &[&str]) -> Vec<Bytes> {
        v.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    #[test]
    fn restore_options_parse_as_redis_does() {
        let o = parse_restore_opts(&b(&["restore", "k", "0", "p", "REPLACE", "idletime", "5"]));
        assert_eq!(
            o,
            Ok(RestoreOpts {
                replace: true,
                idle: Some(5),
                ..Default::default()
            })
        );
        // IDLETIME and FREQ exclude each other: the second is a syntax error.
        let e = parse_restore_opts(&b(&[
            "restore", "k", "0", "p", "idletime", "1", "freq", "2",
        ]));
        assert_eq!(e, Err(SYNTAX.to_string()));
        let e = parse_restore_opts(&b(&["restore", "k", "0", "p", "freq", "256"]));
        assert_eq!(
            e,
            Err("ERR Invalid FREQ value, must be >= 0 and <= 255".into())
        );
        let e = parse_restore_opts(&b(&["restore", "k", "0", "p", "idletime"]));
        assert_eq!(e, Err(SYNTAX.to_string()));
    }
}
