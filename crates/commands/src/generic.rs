//! Generic keyspace commands: DEL, UNLINK, EXISTS, TYPE, TOUCH, the EXPIRE and TTL families,
//! PERSIST, RENAME, RENAMENX, COPY, MOVE, SWAPDB, RANDOMKEY, KEYS, SCAN, OBJECT, WAIT, DBSIZE,
//! FLUSHDB, FLUSHALL.

use bytes::Bytes;
use rand::Rng;
use rustis_resp::errors::{unknown_subcommand, wrong_args, SYNTAX};
use rustis_resp::Out;
use rustis_storage::{OpError, Value};

use crate::args::{eq_ic, parse_cursor, parse_i64, INVALID_CURSOR};
use crate::ctx::ShardCtx;
use crate::glob::glob_match;
use crate::registry::{Binding, FanoutOps, MultiKeyOps, Partial, Registry, Run, ShardFn};
use crate::txn::Keys;

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(Binding::new("del", Run::MultiKey(&DEL)));
    r.add(Binding::new("exists", Run::MultiKey(&EXISTS)));
    r.add(Binding::new("type", Run::Shard(cmd_type)));
    r.add(
        Binding::new("migrate", Run::MultiKey(&MIGRATE))
            .movable_keys(migrate_keys)
            .precheck(migrate_args),
    );
    r.add(Binding::new("dbsize", Run::Fanout(&DBSIZE)));
    r.add(Binding::new("flushdb", Run::Fanout(&FLUSHDB)).precheck(flush_args));
    r.add(Binding::new("flushall", Run::Fanout(&FLUSHALL)).precheck(flush_args));
    r.add(Binding::new("unlink", Run::MultiKey(&UNLINK)));
    r.add(Binding::new("touch", Run::MultiKey(&TOUCH)));
    let rows: &[(&str, ShardFn)] = &[
        ("expire", cmd_expire),
        ("pexpire", cmd_pexpire),
        ("expireat", cmd_expireat),
        ("pexpireat", cmd_pexpireat),
        ("ttl", cmd_ttl),
        ("pttl", cmd_pttl),
        ("expiretime", cmd_expiretime),
        ("pexpiretime", cmd_pexpiretime),
        ("persist", cmd_persist),
        ("move", cmd_move),
    ];
    for &(name, f) in rows {
        r.add(Binding::new(name, Run::Shard(f)));
    }
    r.add(Binding::new("rename", Run::Txn(txn_rename)));
    r.add(Binding::new("renamenx", Run::Txn(txn_renamenx)));
    r.add(
        Binding::new("copy", Run::Txn(txn_copy))
            .precheck(copy_args)
            .key_dbs(copy_dbs),
    );
    r.add(Binding::new("swapdb", Run::Fanout(&SWAPDB)).precheck(swapdb_args));
    r.add(Binding::new("randomkey", Run::Fanout(&RANDOMKEY)));
    r.add(Binding::new("keys", Run::Fanout(&KEYS)));
    r.add(Binding::new("scan", Run::Fanout(&SCAN)).precheck(scan_args));
    r.add(Binding::new("object", Run::Shard(cmd_object)));
    r.add(Binding::new("time", Run::Shard(cmd_time)));
    r.add(Binding::new("wait", Run::Shard(cmd_wait)));
}

/// Redis's reply to MIGRATE: moving keys to another server is not built yet.
pub const MIGRATE_UNSUPPORTED: &str =
    "ERR MIGRATE is not supported yet: Rustis cannot move keys to another server";

/// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password]
/// [AUTH2 username password] [KEYS key [key ...]]
///
/// Checked as Redis checks it (options, then the timeout and database numbers); when none of
/// its keys exists there is nothing to move and it answers `+NOKEY` as Redis does, without
/// contacting the target; otherwise it is refused, as moving keys to another server is not
/// built yet.
static MIGRATE: MultiKeyOps = MultiKeyOps {
    per_shard: |ctx, args, pos| Box::new(op_exists(ctx, pos.iter().map(|&i| &args[i][..]))),
    merge: |_, parts, out| {
        let found: i64 = parts
            .into_iter()
            .filter_map(|(_, p)| p.downcast::<i64>().ok())
            .map(|b| *b)
            .sum();
        if found == 0 {
            out.simple("NOKEY");
        } else {
            out.error(MIGRATE_UNSUPPORTED);
        }
    },
};

/// MIGRATE's argument checks, in Redis's order: the options after the timeout, then the
/// timeout and the database as integers.
fn migrate_args(args: &[Bytes]) -> Result<(), String> {
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let a = &args[j];
        if eq_ic(a, "copy") || eq_ic(a, "replace") {
        } else if eq_ic(a, "auth") {
            if more == 0 {
                return Err(SYNTAX.into());
            }
            j += 1;
        } else if eq_ic(a, "auth2") {
            if more < 2 {
                return Err(SYNTAX.into());
            }
            j += 2;
        } else if eq_ic(a, "keys") {
            if !args[3].is_empty() {
                return Err("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string".into());
            }
            break;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    for i in [5, 4] {
        if parse_i64(&args[i]).is_err() {
            return Err(OpError::NotInteger.message().into());
        }
    }
    Ok(())
}

/// MIGRATE's keys, as Redis's `migrateGetKeys` finds them: the key argument, or with `KEYS`
/// (after `AUTH password`, `AUTH2 username password`, `COPY`, `REPLACE`) the keys after it,
/// which need an empty key argument (none are found otherwise).
fn migrate_keys(args: &[Bytes]) -> Result<Vec<usize>, String> {
    let (mut first, mut num) = (3, 1);
    let mut i = 6;
    while i < args.len() {
        let a = &args[i];
        if eq_ic(a, "keys") {
            if !args[3].is_empty() {
                return Ok(Vec::new());
            }
            first = i + 1;
            num = args.len() - first;
            break;
        }
        if eq_ic(a, "auth") {
            i += 1;
        } else if eq_ic(a, "auth2") {
            i += 2;
        }
        i += 1;
    }
    Ok((first..first + num).collect())
}

/// DEL key [key ...]
static DEL: MultiKeyOps = MultiKeyOps {
    per_shard: |ctx, args, pos| Box::new(op_del(ctx, pos.iter().map(|&i| &args[i][..]))),
    merge: merge_sum,
};

/// EXISTS key [key ...]
static EXISTS: MultiKeyOps = MultiKeyOps {
    per_shard: |ctx, args, pos| Box::new(op_exists(ctx, pos.iter().map(|&i| &args[i][..]))),
    merge: merge_sum,
};

/// Deletes keys; returns how many existed.
pub fn op_del<'k>(ctx: &mut ShardCtx, keys: impl Iterator<Item = &'k [u8]>) -> i64 {
    let db = ctx.db();
    keys.filter(|k| db.remove(k).is_some()).count() as i64
}

/// UNLINK key [key ...]
static UNLINK: MultiKeyOps = MultiKeyOps {
    per_shard: |ctx, args, pos| Box::new(op_unlink(ctx, pos.iter().map(|&i| &args[i][..]))),
    merge: merge_sum,
};

/// TOUCH key [key ...]
static TOUCH: MultiKeyOps = MultiKeyOps {
    per_shard: |ctx, args, pos| Box::new(op_touch(ctx, pos.iter().map(|&i| &args[i][..]))),
    merge: merge_sum,
};

/// Deletes keys like DEL, but hands large values to a background thread to free, so the shard
/// does not stall on a huge collection (Redis's lazy free).
pub fn op_unlink<'k>(ctx: &mut ShardCtx, keys: impl Iterator<Item = &'k [u8]>) -> i64 {
    // A handle of our own (a reference count), as the database borrows the whole shard.
    let lazy = ctx.shard.lazyfree.clone();
    let db = ctx.db();
    let mut n = 0;
    for k in keys {
        if let Some(e) = db.remove(k) {
            n += 1;
            lazyfree::drop_value(&lazy, e.value);
        }
    }
    n
}

/// What is freed off the shard threads, and how (through the shard's `LazyFree` handle to the
/// runtime's background-freeing thread).
pub mod lazyfree {
    use rustis_storage::{LazyFree, Value};

    /// Values with more elements than this are freed in the background (Redis's
    /// `LAZYFREE_THRESHOLD`).
    pub const THRESHOLD: usize = 64;

    /// The number of allocations freeing `v` costs, roughly.
    pub fn effort(v: &Value) -> usize {
        // Types added later go to the background by default, which is always safe.
        #[allow(unreachable_patterns)]
        match v {
            Value::Str(_) => 1,
            Value::List(l) => l.len(),
            Value::Set(s) => s.len(),
            // One allocation per entry, and per group its pending entries.
            Value::Stream(s) => {
                s.len() as usize + s.groups.values().map(|g| 1 + g.pel.len()).sum::<usize>()
            }
            _ => usize::MAX,
        }
    }

    /// Drops `v`, in the background when it is large.
    pub fn drop_value(lazy: &LazyFree, v: Value) {
        if effort(&v) > THRESHOLD {
            lazy.drop_later(Box::new(v));
        }
    }
}

/// Counts existing keys; a key named twice counts twice.
pub fn op_exists<'k>(ctx: &mut ShardCtx, keys: impl Iterator<Item = &'k [u8]>) -> i64 {
    let db = ctx.db();
    let mut n = 0;
    for k in keys {
        let hit = db.contains(k);
        db.count_lookup(hit);
        n += hit as i64;
    }
    n
}

/// Counts existing keys and marks them as accessed (OBJECT IDLETIME restarts from 0).
pub fn op_touch<'k>(ctx: &mut ShardCtx, keys: impl Iterator<Item = &'k [u8]>) -> i64 {
    let db = ctx.db();
    keys.filter(|k| db.entry(k).is_some()).count() as i64
}

fn merge_sum(_args: &[Bytes], parts: Vec<(Vec<usize>, Partial)>, out: &mut Out) {
    let total: i64 = parts
        .into_iter()
        .filter_map(|(_, p)| p.downcast::<i64>().ok())
        .map(|b| *b)
        .sum();
    out.int(total);
}

/// TYPE key
fn cmd_type(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let db = ctx.db();
    let hit = db.contains(&args[1]);
    db.count_lookup(hit);
    match db.peek(&args[1]).map(|e| &e.value) {
        Some(v) => out.simple(v.type_name()),
        None => out.simple("none"),
    }
}

/// DBSIZE
static DBSIZE: FanoutOps = FanoutOps {
    per_shard: |ctx, _| Box::new(ctx.db().len() as i64),
    merge: |args, parts, out| {
        merge_sum(
            args,
            parts.into_iter().map(|p| (Vec::new(), p)).collect(),
            out,
        )
    },
};

fn flush_args(args: &[Bytes]) -> Result<(), String> {
    match args.len() {
        1 => Ok(()),
        2 if eq_ic(&args[1], "async") || eq_ic(&args[1], "sync") => Ok(()),
        _ => Err(SYNTAX.to_string()),
    }
}

/// Whether a FLUSHDB/FLUSHALL asked for ASYNC: the old keys are then freed by the lazy free
/// thread, off the shard.
fn flush_async(args: &[Bytes]) -> bool {
    args.len() == 2 && eq_ic(&args[1], "async")
}

/// FLUSHDB [ASYNC|SYNC]
static FLUSHDB: FanoutOps = FanoutOps {
    per_shard: |ctx, args| {
        if flush_async(args) {
            let all = ctx.db().take_all();
            ctx.shard.lazyfree.drop_later(Box::new(all));
        } else {
            ctx.db().clear();
        }
        Box::new(())
    },
    merge: |_, _, out| out.ok(),
};

/// FLUSHALL [ASYNC|SYNC]
static FLUSHALL: FanoutOps = FanoutOps {
    per_shard: |ctx, args| {
        let lazy = flush_async(args);
        for db in &mut ctx.shard.dbs {
            if lazy {
                ctx.shard.lazyfree.drop_later(Box::new(db.take_all()));
            } else {
                db.clear();
            }
        }
        Box::new(())
    },
    merge: |_, _, out| out.ok(),
};

/// Which expire command, for its argument rules and error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpireKind {
    /// The command's name, for the error text.
    pub name: &'static str,
    /// The argument is in seconds.
    pub seconds: bool,
    /// The argument is an absolute Unix time rather than relative to now.
    pub absolute: bool,
}

/// EXPIRE's `NX | XX | GT | LT` condition.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExpireCond {
    /// Only if the key has no expiry.
    pub nx: bool,
    /// Only if it has one.
    pub xx: bool,
    /// Only if the new expiry is later.
    pub gt: bool,
    /// Only if the new expiry is earlier.
    pub lt: bool,
}

/// Parses the EXPIRE family's options (`args[3..]`); the error is the full reply text.
pub fn parse_expire_cond(args: &[Bytes]) -> Result<ExpireCond, String> {
    let mut c = ExpireCond::default();
    for a in &args[3..] {
        if eq_ic(a, "nx") {
            c.nx = true;
        } else if eq_ic(a, "xx") {
            c.xx = true;
        } else if eq_ic(a, "gt") {
            c.gt = true;
        } else if eq_ic(a, "lt") {
            c.lt = true;
        } else {
            return Err(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(a)
            ));
        }
    }
    if c.nx && (c.xx || c.gt || c.lt) {
        return Err("ERR NX and XX, GT or LT options at the same time are not compatible".into());
    }
    if c.gt && c.lt {
        return Err("ERR GT and LT options at the same time are not compatible".into());
    }
    Ok(c)
}

/// Sets the expiry of `key` to `when` (absolute ms) under `cond`; returns whether it was set.
/// A time already passed deletes the key, as Redis does.
pub fn op_expire(ctx: &mut ShardCtx, key: &[u8], when: i64, cond: ExpireCond) -> bool {
    let db = ctx.db();
    let Some(e) = db.entry(key) else {
        return false;
    };
    let current = e.expire();
    if cond.nx && current.is_some() {
        return false;
    }
    if cond.xx && current.is_none() {
        return false;
    }
    if cond.gt && current.is_none_or(|c| when <= c as i64) {
        return false;
    }
    if cond.lt && current.is_some_and(|c| when >= c as i64) {
        return false;
    }
    if when <= db.now() as i64 {
        db.remove(key);
        return true;
    }
    db.set_expire(key, Some(when as u64))
}

fn expire_generic(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out, kind: ExpireKind) {
    let cond = match parse_expire_cond(args) {
        Ok(c) => c,
        Err(e) => return out.error(&e),
    };
    let mut when = match parse_i64(&args[2]) {
        Ok(n) => n,
        Err(e) => return out.error(e.message()),
    };
    let invalid = format!("ERR invalid expire time in '{}' command", kind.name);
    if kind.seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return out.error(&invalid);
        }
        when *= 1000;
    }
    let base = if kind.absolute {
        0
    } else {
        ctx.shard.now() as i64
    };
    if when > i64::MAX - base {
        return out.error(&invalid);
    }
    when += base;
    out.int(op_expire(ctx, &args[1], when, cond) as i64);
}

/// EXPIRE key seconds [NX | XX | GT | LT]
fn cmd_expire(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let kind = ExpireKind {
        name: "expire",
        seconds: true,
        absolute: false,
    };
    expire_generic(ctx, args, out, kind);
}

/// PEXPIRE key milliseconds [NX | XX | GT | LT]
fn cmd_pexpire(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let kind = ExpireKind {
        name: "pexpire",
        seconds: false,
        absolute: false,
    };
    expire_generic(ctx, args, out, kind);
}

/// EXPIREAT key unix-time-seconds [NX | XX | GT | LT]
fn cmd_expireat(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let kind = ExpireKind {
        name: "expireat",
        seconds: true,
        absolute: true,
    };
    expire_generic(ctx, args, out, kind);
}

/// PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]
fn cmd_pexpireat(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let kind = ExpireKind {
        name: "pexpireat",
        seconds: false,
        absolute: true,
    };
    expire_generic(ctx, args, out, kind);
}

/// The TTL family's answer: -2 for a missing key, -1 for no expiry, else the remaining time (or
/// the absolute expiry with `absolute`), in ms or rounded to seconds.
pub fn op_ttl(ctx: &mut ShardCtx, key: &[u8], ms: bool, absolute: bool) -> i64 {
    let db = ctx.db();
    let now = db.now() as i64;
    let hit = db.contains(key);
    db.count_lookup(hit);
    let Some(e) = db.peek(key) else {
        return -2;
    };
    let Some(at) = e.expire() else {
        return -1;
    };
    let t = if absolute { at as i64 } else { at as i64 - now }.max(0);
    if ms {
        t
    } else {
        (t + 500) / 1000
    }
}

/// TTL key
fn cmd_ttl(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    out.int(op_ttl(ctx, &args[1], false, false));
}

/// PTTL key
fn cmd_pttl(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    out.int(op_ttl(ctx, &args[1], true, false));
}

/// EXPIRETIME key
fn cmd_expiretime(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    out.int(op_ttl(ctx, &args[1], false, true));
}

/// PEXPIRETIME key
fn cmd_pexpiretime(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    out.int(op_ttl(ctx, &args[1], true, true));
}

/// PERSIST key
fn cmd_persist(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let db = ctx.db();
    let had = db.entry(&args[1]).is_some_and(|e| e.expire().is_some());
    if had {
        db.set_expire(&args[1], None);
    }
    out.int(had as i64);
}

/// Parses a DB index argument against `n_dbs`.
fn parse_db_index(arg: &[u8], n_dbs: usize) -> Result<usize, OpError> {
    let n = parse_i64(arg)?;
    if n < 0 || n >= n_dbs as i64 {
        return Err(OpError::DbIndexOutOfRange);
    }
    Ok(n as usize)
}

/// MOVE key db: the key stays on its shard (the shard depends only on the key), so this runs on
/// one shard across two of its databases.
fn cmd_move(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let dst = match parse_db_index(&args[2], ctx.shard.dbs.len()) {
        Ok(d) => d,
        Err(e) => return out.error(e.message()),
    };
    if dst == ctx.db {
        return out.error("ERR source and destination objects are the same");
    }
    match op_move(ctx, &args[1], dst) {
        Ok(moved) => out.int(moved as i64),
        Err(e) => out.error(e.message()),
    }
}

/// Moves `key` from the selected database to `dst`; false if it is missing there or already
/// exists in `dst`.
pub fn op_move(ctx: &mut ShardCtx, key: &[u8], dst: usize) -> Result<bool, OpError> {
    if ctx.db().entry(key).is_none() || ctx.shard.db(dst).contains(key) {
        return Ok(false);
    }
    let Some(e) = ctx.db().remove(key) else {
        return Ok(false);
    };
    ctx.shard.db(dst).insert_entry(key, e);
    Ok(true)
}

/// RENAME key newkey
fn txn_rename(keys: &mut dyn Keys, _args: &[Bytes], out: &mut Out) {
    match op_rename(keys, false) {
        Ok(_) => out.ok(),
        Err(e) => out.error(e.message()),
    }
}

/// RENAMENX key newkey
fn txn_renamenx(keys: &mut dyn Keys, _args: &[Bytes], out: &mut Out) {
    match op_rename(keys, true) {
        Ok(done) => out.int(done as i64),
        Err(e) => out.error(e.message()),
    }
}

/// Renames key 0 to key 1 (keeping the TTL); with `nx`, only if key 1 does not exist. Renaming
/// a key onto itself succeeds without change (RENAMENX: does nothing and returns false).
pub fn op_rename(keys: &mut dyn Keys, nx: bool) -> Result<bool, OpError> {
    if keys.get(0).is_none() {
        return Err(OpError::NoSuchKey);
    }
    if keys.key(0) == keys.key(1) {
        return Ok(!nx);
    }
    if nx && keys.get(1).is_some() {
        return Ok(false);
    }
    // The entry moves: taken out of the source (a deletion) and stored at the destination.
    let Some(e) = keys.take(0) else {
        return Err(OpError::NoSuchKey);
    };
    keys.put(1, e);
    Ok(true)
}

fn copy_args(args: &[Bytes]) -> Result<(), String> {
    parse_copy(args).map(|_| ())
}

/// COPY's options: the destination database (if given) and REPLACE.
pub fn parse_copy(args: &[Bytes]) -> Result<(Option<i64>, bool), String> {
    let mut db = None;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if eq_ic(&args[i], "replace") {
            replace = true;
        } else if eq_ic(&args[i], "db") && i + 1 < args.len() {
            db = Some(parse_i64(&args[i + 1]).map_err(|e| e.message().to_string())?);
            i += 1;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    Ok((db, replace))
}

/// The databases of COPY's keys: the source in the selected one, the destination in `DB n`.
fn copy_dbs(args: &[Bytes], selected: usize) -> Result<Vec<usize>, String> {
    match parse_copy(args)? {
        (Some(n), _) if n < 0 => Err(OpError::DbIndexOutOfRange.message().into()),
        (Some(n), _) => Ok(vec![selected, n as usize]),
        (None, _) => Ok(vec![selected, selected]),
    }
}

/// COPY source destination [DB destination-db] [REPLACE]
fn txn_copy(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    let replace = match parse_copy(args) {
        Ok((_, r)) => r,
        Err(e) => return out.error(&e),
    };
    if keys.db_of(0) == keys.db_of(1) && keys.key(0) == keys.key(1) {
        return out.error("ERR source and destination objects are the same");
    }
    if keys.get(0).is_none() || (keys.get(1).is_some() && !replace) {
        return out.int(0);
    }
    // COPY keeps its source, so here, and only here, the value is copied.
    let Some(src) = keys.get(0).cloned() else {
        return out.int(0);
    };
    keys.put(1, src);
    out.int(1);
}

fn swapdb_args(args: &[Bytes]) -> Result<(), String> {
    let a = parse_i64(&args[1]).map_err(|_| "ERR invalid first DB index".to_string())?;
    let b = parse_i64(&args[2]).map_err(|_| "ERR invalid second DB index".to_string())?;
    if a < 0 || b < 0 {
        return Err(OpError::DbIndexOutOfRange.message().into());
    }
    Ok(())
}

/// SWAPDB index1 index2: swaps the two databases on every shard.
static SWAPDB: FanoutOps = FanoutOps {
    per_shard: |ctx, args| {
        let n = ctx.shard.dbs.len();
        let r = match (parse_db_index(&args[1], n), parse_db_index(&args[2], n)) {
            (Ok(a), Ok(b)) => {
                ctx.shard.swap_dbs(a, b);
                Ok(())
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        Box::new(r)
    },
    merge: |_, parts, out| {
        for p in parts {
            if let Ok(r) = p.downcast::<Result<(), OpError>>() {
                if let Err(e) = *r {
                    return out.error(e.message());
                }
            }
        }
        out.ok()
    },
};

/// RANDOMKEY: each shard offers a random key and its size; the merge picks a shard with a
/// chance proportional to its size, so every key is about equally likely.
static RANDOMKEY: FanoutOps = FanoutOps {
    per_shard: |ctx, _| {
        let shard = &mut *ctx.shard;
        let now = shard.now();
        let db = &mut shard.dbs[ctx.db];
        db.set_now(now);
        let key = db.random_key(&mut shard.rng);
        let n = if key.is_some() { db.len() } else { 0 };
        Box::new((n, key))
    },
    merge: |_, parts, out| {
        let offers: Vec<(usize, Vec<u8>)> = parts
            .into_iter()
            .filter_map(|p| p.downcast::<(usize, Option<Vec<u8>>)>().ok())
            .filter_map(|b| {
                let (n, k) = *b;
                k.map(|k| (n, k))
            })
            .collect();
        let total: usize = offers.iter().map(|(n, _)| n).sum();
        if total == 0 {
            return out.null();
        }
        let mut pick = rand::thread_rng().gen_range(0..total);
        for (n, k) in &offers {
            if pick < *n {
                return out.bulk(k);
            }
            pick -= n;
        }
        out.null()
    },
};

/// KEYS pattern
static KEYS: FanoutOps = FanoutOps {
    per_shard: |ctx, args| {
        let pat = &args[1][..];
        let all = pat == b"*";
        let keys: Vec<Vec<u8>> = ctx
            .db()
            .iter()
            .filter(|(k, _)| all || glob_match(pat, k, false))
            .map(|(k, _)| k.to_vec())
            .collect();
        Box::new(keys)
    },
    merge: |_, parts, out| {
        let lists: Vec<Vec<Vec<u8>>> = parts
            .into_iter()
            .filter_map(|p| p.downcast::<Vec<Vec<u8>>>().ok())
            .map(|b| *b)
            .collect();
        out.array(lists.iter().map(|l| l.len()).sum());
        for k in lists.iter().flatten() {
            out.bulk(k);
        }
    },
};

/// Bits of a SCAN cursor that hold the shard number; the table position sits above them.
pub const SCAN_SHARD_BITS: u32 = 10;

/// A parsed SCAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanArgs {
    /// The cursor.
    pub cursor: u64,
    /// `MATCH pattern`.
    pub pattern: Option<Vec<u8>>,
    /// `COUNT n`.
    pub count: usize,
    /// `TYPE type`.
    pub type_name: Option<Vec<u8>>,
}

/// Parses SCAN's arguments (starting at `args[1]`, the cursor).
pub fn parse_scan(args: &[Bytes], first: usize) -> Result<ScanArgs, String> {
    let cursor = parse_cursor(&args[first]).ok_or(INVALID_CURSOR)?;
    let mut a = ScanArgs {
        cursor,
        pattern: None,
        count: 10,
        type_name: None,
    };
    let mut i = first + 1;
    while i < args.len() {
        let has = i + 1 < args.len();
        if eq_ic(&args[i], "count") && has {
            let n = parse_i64(&args[i + 1]).map_err(|e| e.message().to_string())?;
            if n < 1 {
                return Err(SYNTAX.into());
            }
            a.count = n as usize;
        } else if eq_ic(&args[i], "match") && has {
            a.pattern = Some(args[i + 1].to_vec());
        } else if eq_ic(&args[i], "type") && has {
            a.type_name = Some(args[i + 1].to_vec());
        } else {
            return Err(SYNTAX.into());
        }
        i += 2;
    }
    Ok(a)
}

fn scan_args(args: &[Bytes]) -> Result<(), String> {
    parse_scan(args, 1).map(|_| ())
}

/// One shard's SCAN: from table position `pos`, until `count` keys are collected or ten times
/// as many buckets were visited; then filters them. Returns the next position and the keys.
pub fn op_scan(ctx: &mut ShardCtx, pos: u64, a: &ScanArgs) -> (u64, Vec<Vec<u8>>) {
    let db = ctx.db();
    let mut keys: Vec<(Vec<u8>, &'static str)> = Vec::new();
    let mut cursor = pos;
    let mut budget = a.count.saturating_mul(10);
    loop {
        cursor = db.scan(cursor, |k, e| keys.push((k.to_vec(), e.value.type_name())));
        budget = budget.saturating_sub(1);
        if cursor == 0 || budget == 0 || keys.len() >= a.count {
            break;
        }
    }
    let keys = keys
        .into_iter()
        .filter(|(k, t)| {
            a.pattern.as_ref().is_none_or(|p| glob_match(p, k, false))
                && a.type_name
                    .as_ref()
                    .is_none_or(|want| want.eq_ignore_ascii_case(t.as_bytes()))
        })
        .map(|(k, _)| k)
        .collect();
    (cursor, keys)
}

/// One shard's part of a SCAN call: the next position in its table (0: walked to the end)
/// and the keys found, or `None` for a shard before the one the cursor names.
type ScanPart = Option<(u64, Vec<Vec<u8>>)>;

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
///
/// The cursor walks the shards in order: its low [`SCAN_SHARD_BITS`] bits name the shard, the
/// rest is that shard's table cursor (Redis's reverse-binary bucket cursor, which keeps the
/// guarantee while the table grows). The shard the cursor names continues its walk; every later
/// shard walks from its start too, so that when a shard finishes with room left under COUNT the
/// reply goes on with the next shards, as one Redis table would (a small keyspace comes back
/// whole with cursor 0). The merge keeps the parts it uses, in shard order.
static SCAN: FanoutOps = FanoutOps {
    per_shard: |ctx, args| {
        let Ok(a) = parse_scan(args, 1) else {
            return Box::new(None::<(u64, Vec<Vec<u8>>)>);
        };
        let shard = (a.cursor & ((1 << SCAN_SHARD_BITS) - 1)) as usize;
        let id = ctx.shard.id;
        let part: ScanPart = match id.cmp(&shard) {
            std::cmp::Ordering::Less => None,
            std::cmp::Ordering::Equal => Some(op_scan(ctx, a.cursor >> SCAN_SHARD_BITS, &a)),
            std::cmp::Ordering::Greater => Some(op_scan(ctx, 0, &a)),
        };
        Box::new(part)
    },
    merge: |args, parts, out| {
        let (cursor, count) = match parse_scan(args, 1) {
            Ok(a) => (a.cursor, a.count),
            Err(e) => return out.error(&e),
        };
        let first = (cursor & ((1 << SCAN_SHARD_BITS) - 1)) as usize;
        let parts: Vec<ScanPart> = parts
            .into_iter()
            .map(|p| p.downcast::<ScanPart>().map(|b| *b).unwrap_or(None))
            .collect();
        let mut keys: Vec<Vec<u8>> = Vec::new();
        let mut next = 0u64;
        let mut s = first;
        while s < parts.len() {
            let Some((pos, k)) = &parts[s] else {
                break;
            };
            keys.extend(k.iter().cloned());
            if *pos != 0 {
                next = (pos << SCAN_SHARD_BITS) | s as u64;
                break;
            }
            s += 1;
            if keys.len() >= count {
                // Resume at the next shard that has anything left to give.
                next = (s..parts.len())
                    .find(|&t| !matches!(&parts[t], Some((0, k)) if k.is_empty()))
                    .map_or(0, |t| t as u64);
                break;
            }
        }
        out.array(2);
        out.bulk(next.to_string().as_bytes());
        out.array(keys.len());
        for k in &keys {
            out.bulk(k);
        }
    },
};

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT key, OBJECT HELP
fn cmd_object(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let sub = &args[1];
    let lower = String::from_utf8_lossy(sub).to_ascii_lowercase();
    let arity = match lower.as_str() {
        "help" => 2,
        "encoding" | "freq" | "idletime" | "refcount" => 3,
        _ => return out.error(&unknown_subcommand(sub, "object")),
    };
    if args.len() != arity {
        return out.error(&wrong_args(&format!("object|{lower}")));
    }
    if lower == "help" {
        out.array(OBJECT_HELP.len());
        for l in OBJECT_HELP {
            out.simple(l);
        }
        return;
    }
    let shared_ints = !ctx.shard.config.evict.no_shared_integers;
    let db = ctx.db();
    let lfu = db.access() != rustis_storage::table::Access::Lru;
    // Redis looks the key up without touching it, so IDLETIME reads the time before this call.
    let Some(idle) = db.idle_secs(&args[2]) else {
        return out.null();
    };
    let freq = db.freq(&args[2]).unwrap_or(0);
    let Some(e) = db.peek(&args[2]) else {
        return out.null();
    };
    match lower.as_str() {
        "encoding" => out.bulk(e.value.encoding().as_bytes()),
        "refcount" if shared_ints => out.int(object_refcount(&e.value)),
        "refcount" => out.int(1),
        "idletime" if !lfu => out.int(idle as i64),
        "idletime" => out.error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."),
        _ if lfu => out.int(freq as i64),
        _ => out.error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."),
    }
}

/// Redis shares the objects of the integers 0..10000, which report a huge refcount.
fn object_refcount(v: &Value) -> i64 {
    match v {
        Value::Str(rustis_storage::string::StrValue::Int(n)) if (0..10000).contains(n) => {
            i32::MAX as i64
        }
        _ => 1,
    }
}

/// WAIT numreplicas timeout: there are no replicas, so it returns 0 at once.
fn cmd_wait(_ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    if let Err(e) = parse_i64(&args[1]) {
        return out.error(e.message());
    }
    match parse_i64(&args[2]) {
        Err(_) => out.error("ERR timeout is not an integer or out of range"),
        Ok(t) if t < 0 => out.error("ERR timeout is negative"),
        Ok(_) => out.int(0),
    }
}

/// TIME: the server clock, as Unix seconds and microseconds. It reads the same clock as
/// expiry (so tests with a manual clock see one time), at millisecond precision.
fn cmd_time(ctx: &mut ShardCtx, _args: &[Bytes], out: &mut Out) {
    let ms = ctx.shard.now();
    out.array(2);
    out.bulk((ms / 1000).to_string().as_bytes());
    out.bulk(((ms % 1000) * 1000).to_string().as_bytes());
}
