//! List commands: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LLEN, LINDEX, LSET, LINSERT, LRANGE,
//! LREM, LTRIM, LPOS, LMOVE, RPOPLPUSH, LMPOP.
//!
//! Single-key commands run on the shard that owns the key. LMOVE, RPOPLPUSH and LMPOP touch
//! several keys that may live on different shards, so they are written against [`Keys`] and
//! run atomically wherever their keys are. The blocking forms (BLPOP, BRPOP, BLMOVE,
//! BRPOPLPUSH, BLMPOP) give the runtime their [`BlockingOps`]; their `run` is the non-blocking
//! form that MULTI uses.

use bytes::Bytes;
use rustis_resp::errors::{MUST_BE_POSITIVE, SYNTAX};
use rustis_resp::Out;
use rustis_storage::elem::Elem;
use rustis_storage::list::{clamp_range, ListValue};
use rustis_storage::{Entry, OpError, Value};

use crate::args::{eq_ic, parse_i64};
use crate::blocking::{check_timeout_at, timeout_at, BlockingOps, Serve, ServeCtx};
use crate::ctx::ShardCtx;
use crate::registry::{flags, Binding, CommandSpec, Registry, Run};
use crate::txn::{get_mut_as, Keys, TypedMut};

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(Binding::new("lpush", Run::Shard(cmd_lpush)));
    r.add(Binding::new("rpush", Run::Shard(cmd_rpush)));
    r.add(Binding::new("lpushx", Run::Shard(cmd_lpushx)));
    r.add(Binding::new("rpushx", Run::Shard(cmd_rpushx)));
    r.add(Binding::new("lpop", Run::Shard(cmd_lpop)));
    r.add(Binding::new("rpop", Run::Shard(cmd_rpop)));
    r.add(Binding::new("llen", Run::Shard(cmd_llen)));
    r.add(Binding::new("lindex", Run::Shard(cmd_lindex)));
    r.add(Binding::new("lset", Run::Shard(cmd_lset)));
    r.add(Binding::new("linsert", Run::Shard(cmd_linsert)));
    r.add(Binding::new("lrange", Run::Shard(cmd_lrange)));
    r.add(Binding::new("lrem", Run::Shard(cmd_lrem)));
    r.add(Binding::new("ltrim", Run::Shard(cmd_ltrim)));
    r.add(Binding::new("lpos", Run::Shard(cmd_lpos)));
    r.add(Binding::new("lmove", Run::Txn(cmd_lmove)));
    r.add(Binding::new("rpoplpush", Run::Txn(cmd_rpoplpush)));
    r.add(Binding::new("lmpop", Run::Txn(cmd_lmpop)).movable_keys(lmpop_keys));
    r.add(
        Binding::new("blpop", Run::Txn(cmd_blpop))
            .precheck(|a| check_timeout_at(a, -1))
            .blocking(&BLPOP),
    );
    r.add(
        Binding::new("brpop", Run::Txn(cmd_brpop))
            .precheck(|a| check_timeout_at(a, -1))
            .blocking(&BRPOP),
    );
    r.add(
        Binding::new("blmove", Run::Txn(cmd_blmove))
            .precheck(check_blmove)
            .blocking(&BLMOVE),
    );
    r.add(
        Binding::new("brpoplpush", Run::Txn(cmd_brpoplpush))
            .precheck(|a| check_timeout_at(a, -1))
            .blocking(&BLMOVE),
    );
    r.add(
        Binding::new("blmpop", Run::Txn(cmd_blmpop))
            .movable_keys(blmpop_keys)
            .precheck(check_blmpop)
            .blocking(&BLMPOP),
    );
}

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The head (left).
    Left,
    /// The tail (right).
    Right,
}

impl End {
    /// Parses `LEFT` or `RIGHT`.
    pub fn parse(arg: &[u8]) -> Result<End, OpError> {
        if eq_ic(arg, "left") {
            Ok(End::Left)
        } else if eq_ic(arg, "right") {
            Ok(End::Right)
        } else {
            Err(OpError::Syntax)
        }
    }
}

fn push(list: &mut ListValue, end: End, v: &[u8]) {
    match end {
        End::Left => list.push_front(v),
        End::Right => list.push_back(v),
    }
}

fn pop(list: &mut ListValue, end: End) -> Option<Elem> {
    match end {
        End::Left => list.pop_front(),
        End::Right => list.pop_back(),
    }
}

fn reply_int(out: &mut Out, r: Result<i64, OpError>) {
    match r {
        Ok(n) => out.int(n),
        Err(e) => out.error(e.message()),
    }
}

// ---------------------------------------------------------------------------------------------
// Pushes and pops.

/// Pushes `elems` at `end` of the list at `key`; returns the new length.
pub fn op_push(ctx: &mut ShardCtx, key: &[u8], elems: &[Bytes], end: End) -> Result<i64, OpError> {
    let mut list = ctx.db().list_or_create(key)?;
    list.set_event(match end {
        End::Left => "lpush",
        End::Right => "rpush",
    });
    for e in elems {
        push(&mut list, end, e);
    }
    Ok(list.len() as i64)
}

/// Pushes `elems` at `end` only if the list exists; returns the new length (0 if missing).
pub fn op_pushx(ctx: &mut ShardCtx, key: &[u8], elems: &[Bytes], end: End) -> Result<i64, OpError> {
    let Some(mut list) = ctx.db().get_list_mut(key)? else {
        return Ok(0);
    };
    for e in elems {
        push(&mut list, end, e);
    }
    Ok(list.len() as i64)
}

/// LPUSH key element [element ...]
fn cmd_lpush(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    reply_int(out, op_push(ctx, &args[1], &args[2..], End::Left))
}

/// RPUSH key element [element ...]
fn cmd_rpush(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    reply_int(out, op_push(ctx, &args[1], &args[2..], End::Right))
}

/// LPUSHX key element [element ...]
fn cmd_lpushx(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    reply_int(out, op_pushx(ctx, &args[1], &args[2..], End::Left))
}

/// RPUSHX key element [element ...]
fn cmd_rpushx(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    reply_int(out, op_pushx(ctx, &args[1], &args[2..], End::Right))
}

/// Pops up to `count` elements from `end`; `None` if the key does not exist. Deletes the key
/// when the list becomes empty.
pub fn op_pop(
    ctx: &mut ShardCtx,
    key: &[u8],
    end: End,
    count: usize,
) -> Result<Option<Vec<Elem>>, OpError> {
    let db = ctx.db();
    let Some(mut list) = db.get_list_mut(key)? else {
        return Ok(None);
    };
    let mut popped = Vec::with_capacity(count.min(list.len()));
    while popped.len() < count {
        match pop(&mut list, end) {
            Some(i) => popped.push(i),
            None => break,
        }
    }
    let empty = list.is_empty();
    drop(list);
    if empty {
        db.remove(key);
    }
    Ok(Some(popped))
}

fn pop_command(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out, end: End) {
    if args.len() > 3 {
        return out.error(&rustis_resp::errors::wrong_args(if end == End::Left {
            "lpop"
        } else {
            "rpop"
        }));
    }
    let count = match args.get(2) {
        None => None,
        Some(c) => match parse_i64(c) {
            Ok(n) if n >= 0 => Some(n as usize),
            _ => return out.error(MUST_BE_POSITIVE),
        },
    };
    match op_pop(ctx, &args[1], end, count.unwrap_or(1)) {
        Err(e) => out.error(e.message()),
        Ok(None) => match count {
            None => out.null(),
            Some(_) => out.null_array(),
        },
        Ok(Some(items)) => match count {
            None => match items.first() {
                Some(i) => out.bulk(i),
                None => out.null(),
            },
            Some(_) => {
                out.array(items.len());
                for i in &items {
                    out.bulk(i);
                }
            }
        },
    }
}

/// LPOP key [count]
fn cmd_lpop(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    pop_command(ctx, args, out, End::Left)
}

/// RPOP key [count]
fn cmd_rpop(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    pop_command(ctx, args, out, End::Right)
}

// ---------------------------------------------------------------------------------------------
// Reads and edits in place.

/// LLEN key
fn cmd_llen(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let db = ctx.db();
    let len = db.get_list(&args[1]).map(|l| l.map(|l| l.len() as i64));
    db.count_lookup(!matches!(len, Ok(None)));
    reply_int(out, len.map(|l| l.unwrap_or(0)))
}

/// Turns a Redis index (negative counts from the tail) into a position, if it is in range.
fn position(index: i64, len: usize) -> Option<usize> {
    let idx = if index < 0 {
        (len as i64).checked_add(index)?
    } else {
        index
    };
    usize::try_from(idx).ok().filter(|&i| i < len)
}

/// LINDEX key index
fn cmd_lindex(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let db = ctx.db();
    let hit = match db.get_list(&args[1]) {
        Err(e) => {
            out.error(e.message());
            true
        }
        Ok(None) => {
            out.null();
            false
        }
        Ok(Some(list)) => {
            match parse_i64(&args[2]) {
                Err(e) => out.error(e.message()),
                Ok(index) => match position(index, list.len()).and_then(|p| list.get(p)) {
                    Some(v) => out.bulk(v),
                    None => out.null(),
                },
            }
            true
        }
    };
    db.count_lookup(hit);
}

/// Replaces the element at `index` of an existing list.
pub fn op_lset(ctx: &mut ShardCtx, key: &[u8], index: &[u8], v: &[u8]) -> Result<(), OpError> {
    let mut list = ctx.db().get_list_mut(key)?.ok_or(OpError::NoSuchKey)?;
    let index = parse_i64(index)?;
    match position(index, list.len()) {
        Some(p) if p < list.len() && list.set(p, v) => Ok(()),
        _ => Err(OpError::OutOfRange),
    }
}

/// LSET key index element
fn cmd_lset(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match op_lset(ctx, &args[1], &args[2], &args[3]) {
        Ok(()) => out.ok(),
        Err(e) => out.error(e.message()),
    }
}

/// Inserts `v` before (`End::Left`) or after (`End::Right`) the first `pivot`; returns the new
/// length, -1 if the pivot is missing, 0 if the key is.
pub fn op_linsert(
    ctx: &mut ShardCtx,
    key: &[u8],
    side: End,
    pivot: &[u8],
    v: &[u8],
) -> Result<i64, OpError> {
    let Some(mut list) = ctx.db().get_list_mut(key)? else {
        return Ok(0);
    };
    let Some(p) = list.iter().position(|e| e == pivot) else {
        return Ok(-1);
    };
    let at = match side {
        End::Left => p,
        End::Right => p + 1,
    };
    list.insert(at, v);
    Ok(list.len() as i64)
}

/// LINSERT key BEFORE|AFTER pivot element
fn cmd_linsert(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let side = if eq_ic(&args[2], "before") {
        End::Left
    } else if eq_ic(&args[2], "after") {
        End::Right
    } else {
        return out.error(SYNTAX);
    };
    reply_int(out, op_linsert(ctx, &args[1], side, &args[3], &args[4]))
}

/// LRANGE key start stop
fn cmd_lrange(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let (start, stop) = match (parse_i64(&args[2]), parse_i64(&args[3])) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return out.error(OpError::NotInteger.message()),
    };
    let db = ctx.db();
    let hit = match db.get_list(&args[1]) {
        Err(e) => {
            out.error(e.message());
            true
        }
        Ok(None) => {
            out.array(0);
            false
        }
        Ok(Some(list)) => {
            match clamp_range(start, stop, list.len()) {
                None => out.array(0),
                Some((s, e)) => {
                    out.array(e - s + 1);
                    for item in list.range(s, e) {
                        out.bulk(item);
                    }
                }
            }
            true
        }
    };
    db.count_lookup(hit);
}

/// Removes `count` occurrences of `v` (see [`ListValue::remove_matching`]); deletes the list if
/// it becomes empty.
pub fn op_lrem(ctx: &mut ShardCtx, key: &[u8], count: i64, v: &[u8]) -> Result<i64, OpError> {
    let db = ctx.db();
    let Some(mut list) = db.get_list_mut(key)? else {
        return Ok(0);
    };
    let n = list.remove_matching(v, count);
    if n == 0 {
        list.unchanged();
    }
    let empty = list.is_empty();
    drop(list);
    if empty {
        db.remove(key);
    }
    Ok(n as i64)
}

/// LREM key count element
fn cmd_lrem(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match parse_i64(&args[2]) {
        Ok(count) => reply_int(out, op_lrem(ctx, &args[1], count, &args[3])),
        Err(e) => out.error(e.message()),
    }
}

/// Keeps only `start..=stop` of the list; deletes it if nothing is left.
pub fn op_ltrim(ctx: &mut ShardCtx, key: &[u8], start: i64, stop: i64) -> Result<(), OpError> {
    let db = ctx.db();
    let Some(mut list) = db.get_list_mut(key)? else {
        return Ok(());
    };
    let range = clamp_range(start, stop, list.len());
    list.trim(range);
    let empty = list.is_empty();
    drop(list);
    if empty {
        db.remove(key);
    }
    Ok(())
}

/// LTRIM key start stop
fn cmd_ltrim(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let (start, stop) = match (parse_i64(&args[2]), parse_i64(&args[3])) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return out.error(OpError::NotInteger.message()),
    };
    match op_ltrim(ctx, &args[1], start, stop) {
        Ok(()) => out.ok(),
        Err(e) => out.error(e.message()),
    }
}

/// The options of LPOS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LposArgs {
    /// `RANK r`: skip to the r-th match; negative searches from the tail.
    pub rank: i64,
    /// `COUNT n`: `Some(0)` means all matches; `None` replies with a single index.
    pub count: Option<usize>,
    /// `MAXLEN n`: compare at most n elements (0: all).
    pub maxlen: usize,
}

/// Parses `[RANK rank] [COUNT num-matches] [MAXLEN len]` (the arguments after the element).
pub fn parse_lpos(args: &[Bytes]) -> Result<LposArgs, &'static str> {
    let mut parsed = LposArgs {
        rank: 1,
        count: None,
        maxlen: 0,
    };
    let mut i = 0;
    while i < args.len() {
        if i + 1 >= args.len() {
            return Err(SYNTAX);
        }
        let (opt, arg) = (&args[i], &args[i + 1]);
        if eq_ic(opt, "rank") {
            let v = parse_i64(arg).map_err(|e| e.message())?;
            if v == 0 {
                return Err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
            }
            parsed.rank = v;
        } else if eq_ic(opt, "count") {
            // A count or maxlen that is not a number gets the same error as a negative one.
            match parse_i64(arg) {
                Ok(v) if v >= 0 => parsed.count = Some(usize::try_from(v).unwrap_or(usize::MAX)),
                _ => return Err("ERR COUNT can't be negative"),
            }
        } else if eq_ic(opt, "maxlen") {
            match parse_i64(arg) {
                Ok(v) if v >= 0 => parsed.maxlen = usize::try_from(v).unwrap_or(usize::MAX),
                _ => return Err("ERR MAXLEN can't be negative"),
            }
        } else {
            return Err(SYNTAX);
        }
        i += 2;
    }
    Ok(parsed)
}

/// The positions of `v` in the list, following LPOS's options; `None` if the key is missing.
pub fn op_lpos(
    ctx: &mut ShardCtx,
    key: &[u8],
    v: &[u8],
    opts: &LposArgs,
) -> Result<Option<Vec<usize>>, OpError> {
    let Some(list) = ctx.db().get_list(key)? else {
        return Ok(None);
    };
    // Redis negates a negative rank and compares `matches >= rank`; for i64::MIN the negation
    // wraps and every match qualifies, which we keep.
    let from_tail = opts.rank < 0;
    let rank = if from_tail {
        opts.rank.wrapping_neg()
    } else {
        opts.rank
    };
    let want = match opts.count {
        None => 1,
        Some(0) => usize::MAX,
        Some(n) => n,
    };
    let limit = if opts.maxlen == 0 {
        usize::MAX
    } else {
        opts.maxlen
    };
    let len = list.len();
    let mut found = Vec::new();
    let mut matches: i64 = 0;
    let mut check = |i: usize, e: &[u8]| {
        if e == v {
            matches += 1;
            if matches >= rank {
                found.push(i);
            }
        }
        found.len() < want
    };
    if from_tail {
        for (n, e) in list.iter().rev().enumerate().take(limit) {
            if !check(len - 1 - n, e) {
                break;
            }
        }
    } else {
        for (i, e) in list.iter().enumerate().take(limit) {
            if !check(i, e) {
                break;
            }
        }
    }
    Ok(Some(found))
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
fn cmd_lpos(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let opts = match parse_lpos(&args[3..]) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let r = op_lpos(ctx, &args[1], &args[2], &opts);
    ctx.db().count_lookup(!matches!(r, Ok(None)));
    match r {
        Err(e) => out.error(e.message()),
        Ok(found) => {
            let found = found.unwrap_or_default();
            match opts.count {
                None => match found.first() {
                    Some(&i) => out.int(i as i64),
                    None => out.null(),
                },
                Some(_) => {
                    out.array(found.len());
                    for i in found {
                        out.int(i as i64);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Commands over several keys, written against `Keys`.

/// The list at key position `i`: `None` if missing, `WrongType` if it is not a list.
pub fn txn_list(keys: &mut dyn Keys, i: usize) -> Result<Option<&ListValue>, OpError> {
    match keys.get(i) {
        None => Ok(None),
        Some(Entry {
            value: Value::List(l),
            ..
        }) => Ok(Some(l)),
        Some(_) => Err(OpError::WrongType),
    }
}

fn txn_list_mut(keys: &mut dyn Keys, i: usize) -> Option<TypedMut<'_, ListValue>> {
    get_mut_as(keys, i)
}

/// Pops from `from` of the list at position 0 and pushes at `to` of the list at position 1;
/// returns the element, `None` if the source is missing. As in Redis, the destination's type is
/// only checked when there is something to move, and a list moved onto itself rotates without
/// losing its TTL.
pub fn op_lmove(keys: &mut dyn Keys, from: End, to: End) -> Result<Option<Elem>, OpError> {
    if txn_list(keys, 0)?.is_none() {
        return Ok(None);
    }
    txn_list(keys, 1)?;
    let Some(v) = txn_list_mut(keys, 0).and_then(|mut l| pop(&mut l, from)) else {
        return Ok(None);
    };
    let pushed = txn_list_mut(keys, 1)
        .map(|mut dst| push(&mut dst, to, &v))
        .is_some();
    if !pushed {
        let mut dst = ListValue::new();
        push(&mut dst, to, &v);
        keys.put(1, Entry::new(Value::List(dst), None));
    }
    if txn_list_mut(keys, 0).is_some_and(|l| l.is_empty()) {
        keys.delete(0);
    }
    Ok(Some(v))
}

fn reply_lmove(out: &mut Out, r: Result<Option<Elem>, OpError>) {
    match r {
        Ok(Some(v)) => out.bulk(&v),
        Ok(None) => out.null(),
        Err(e) => out.error(e.message()),
    }
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
fn cmd_lmove(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    match (End::parse(&args[3]), End::parse(&args[4])) {
        (Ok(from), Ok(to)) => reply_lmove(out, op_lmove(keys, from, to)),
        _ => out.error(SYNTAX),
    }
}

/// RPOPLPUSH source destination
fn cmd_rpoplpush(keys: &mut dyn Keys, _args: &[Bytes], out: &mut Out) {
    reply_lmove(out, op_lmove(keys, End::Right, End::Left))
}

/// The parsed arguments of LMPOP and BLMPOP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MpopArgs {
    /// Argument positions of the keys.
    pub keys: Vec<usize>,
    /// The end to pop from.
    pub end: End,
    /// `COUNT n` (1 when absent).
    pub count: usize,
}

/// Parses `numkeys key [key ...] LEFT|RIGHT [COUNT count]` starting at argument `at`, with
/// Redis's errors in Redis's order.
pub fn parse_mpop(args: &[Bytes], at: usize) -> Result<MpopArgs, &'static str> {
    const NUMKEYS: &str = "ERR numkeys should be greater than 0";
    let numkeys = match args.get(at).map(|a| parse_i64(a)) {
        Some(Ok(n)) if n > 0 => n as usize,
        _ => return Err(NUMKEYS),
    };
    let where_idx = match (at + 1).checked_add(numkeys) {
        Some(i) if i < args.len() => i,
        _ => return Err(SYNTAX),
    };
    let end = End::parse(&args[where_idx]).map_err(|e| e.message())?;
    let mut count = None;
    let mut i = where_idx + 1;
    while i < args.len() {
        if count.is_none() && eq_ic(&args[i], "count") && i + 1 < args.len() {
            count = match parse_i64(&args[i + 1]) {
                Ok(n) if n > 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
                _ => return Err("ERR count should be greater than 0"),
            };
            i += 2;
        } else {
            return Err(SYNTAX);
        }
    }
    Ok(MpopArgs {
        keys: (at + 1..where_idx).collect(),
        end,
        count: count.unwrap_or(1),
    })
}

fn lmpop_keys(args: &[Bytes]) -> Result<Vec<usize>, String> {
    parse_mpop(args, 1).map(|a| a.keys).map_err(str::to_string)
}

/// What LMPOP found: the key position popped from and the elements.
pub type MpopHit = (usize, Vec<Elem>);

/// Pops up to `count` elements from the first non-empty list among the keys, in key order;
/// returns its key position and the elements. A key of another type before it is an error.
pub fn op_mpop(keys: &mut dyn Keys, end: End, count: usize) -> Result<Option<MpopHit>, OpError> {
    for i in 0..keys.len() {
        if txn_list(keys, i)?.is_none() {
            continue;
        }
        let Some(mut list) = txn_list_mut(keys, i) else {
            continue;
        };
        let mut popped = Vec::with_capacity(count.min(list.len()));
        while popped.len() < count {
            match pop(&mut list, end) {
                Some(v) => popped.push(v),
                None => break,
            }
        }
        let empty = list.is_empty();
        drop(list);
        if empty {
            keys.delete(i);
        }
        return Ok(Some((i, popped)));
    }
    Ok(None)
}

/// Writes LMPOP's reply: `[key, [elements]]`, or a null array.
pub fn reply_mpop(keys: &dyn Keys, out: &mut Out, r: Result<Option<MpopHit>, OpError>) {
    match r {
        Err(e) => out.error(e.message()),
        Ok(None) => out.null_array(),
        Ok(Some((i, popped))) => {
            out.array(2);
            out.bulk(keys.key(i));
            out.array(popped.len());
            for v in &popped {
                out.bulk(v);
            }
        }
    }
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn cmd_lmpop(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    let parsed = match parse_mpop(args, 1) {
        Ok(p) => p,
        Err(e) => return out.error(e),
    };
    let r = op_mpop(keys, parsed.end, parsed.count);
    reply_mpop(keys, out, r)
}

// ---------------------------------------------------------------------------------------------
// Blocking forms.

/// BLPOP key [key ...] timeout
static BLPOP: BlockingOps = BlockingOps {
    wait_keys: |a| (1..a.len() - 1).collect(),
    timeout_ms: |a| timeout_at(a, -1),
    serve: |sc, a, pos, out| serve_pop(sc, a, pos, End::Left, None, out),
    timeout_reply: Out::null_array,
    blocks_if: None,
    prepare: None,
    whole_first: None,
};

/// BRPOP key [key ...] timeout
static BRPOP: BlockingOps = BlockingOps {
    wait_keys: |a| (1..a.len() - 1).collect(),
    timeout_ms: |a| timeout_at(a, -1),
    serve: |sc, a, pos, out| serve_pop(sc, a, pos, End::Right, None, out),
    timeout_reply: Out::null_array,
    blocks_if: None,
    prepare: None,
    whole_first: None,
};

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
static BLMPOP: BlockingOps = BlockingOps {
    wait_keys: |a| parse_mpop(a, 2).map(|p| p.keys).unwrap_or_default(),
    timeout_ms: |a| timeout_at(a, 1),
    serve: |sc, a, pos, out| match parse_mpop(a, 2) {
        Ok(p) => serve_pop(sc, a, pos, p.end, Some(p.count), out),
        Err(_) => Serve::NotReady,
    },
    timeout_reply: Out::null_array,
    blocks_if: None,
    prepare: None,
    whole_first: None,
};

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout, and BRPOPLPUSH source destination
/// timeout.
static BLMOVE: BlockingOps = BlockingOps {
    wait_keys: |_| vec![1],
    timeout_ms: |a| timeout_at(a, -1),
    serve: serve_lmove,
    // Redis 7.0 times out every list wait with a null array, BLMOVE included (its
    // non-blocking form, in MULTI, replies a null bulk).
    timeout_reply: Out::null_array,
    blocks_if: None,
    prepare: None,
    whole_first: None,
};

/// The ends of a BLMOVE or BRPOPLPUSH.
fn lmove_ends(args: &[Bytes]) -> (End, End) {
    if args.len() == 6 {
        (
            End::parse(&args[3]).unwrap_or(End::Left),
            End::parse(&args[4]).unwrap_or(End::Left),
        )
    } else {
        (End::Right, End::Left)
    }
}

fn check_blmove(args: &[Bytes]) -> Result<(), String> {
    End::parse(&args[3]).map_err(|e| e.message().to_string())?;
    End::parse(&args[4]).map_err(|e| e.message().to_string())?;
    check_timeout_at(args, -1)
}

/// BLMPOP parses its keys, end and count before its timeout.
fn check_blmpop(args: &[Bytes]) -> Result<(), String> {
    parse_mpop(args, 2).map_err(str::to_string)?;
    check_timeout_at(args, 1)
}

fn blmpop_keys(args: &[Bytes]) -> Result<Vec<usize>, String> {
    parse_mpop(args, 2).map(|a| a.keys).map_err(str::to_string)
}

/// Serves a BLPOP/BRPOP (`count == None`: replies `[key, element]`) or a BLMPOP (`[key,
/// [elements]]`) from the list at argument `pos`.
fn serve_pop(
    sc: &mut ServeCtx,
    args: &[Bytes],
    pos: usize,
    end: End,
    count: Option<usize>,
    out: &mut Out,
) -> Serve {
    let key = &args[pos];
    let ready = sc
        .ctx
        .db()
        .get_list(key)
        .map(|v| v.is_some_and(|v| !v.is_empty()));
    if let Some(early) = sc.claim_if_ready(ready, out) {
        return early;
    }
    let popped = match op_pop(&mut sc.ctx, key, end, count.unwrap_or(1)) {
        Ok(Some(p)) => p,
        _ => Vec::new(),
    };
    out.array(2);
    out.bulk(key);
    match count {
        None => out.bulk(popped.first().map_or(&b""[..], |v| &v[..])),
        Some(_) => {
            out.array(popped.len());
            for v in &popped {
                out.bulk(v);
            }
        }
    }
    Serve::Done
}

/// Serves a BLMOVE or BRPOPLPUSH from its source. When the destination lives here it is one
/// atomic LMOVE (a destination of the wrong type unblocks the client with the error, as in
/// Redis). When it lives on another shard, the element is popped here and the client finishes
/// with [`BLMOVE_FINISH`], which pushes it (or puts it back if the destination has the wrong
/// type) atomically over both keys.
fn serve_lmove(sc: &mut ServeCtx, args: &[Bytes], pos: usize, out: &mut Out) -> Serve {
    let (src, dst) = (&args[pos], &args[2]);
    let (from, to) = lmove_ends(args);
    let ready = sc
        .ctx
        .db()
        .get_list(src)
        .map(|v| v.is_some_and(|v| !v.is_empty()));
    if let Some(early) = sc.claim_if_ready(ready, out) {
        return early;
    }
    if sc.is_local(dst) {
        let db = sc.ctx.db;
        let mut keys = crate::txn::LocalKeys::new(sc.ctx.shard, db, vec![src.clone(), dst.clone()]);
        reply_lmove(out, op_lmove(&mut keys, from, to));
        return Serve::Done;
    }
    let Ok(Some(mut popped)) = op_pop(&mut sc.ctx, src, from, 1) else {
        return Serve::NotReady;
    };
    let Some(v) = popped.pop() else {
        return Serve::NotReady;
    };
    let end_name = |e: End| Bytes::from_static(if e == End::Left { b"left" } else { b"right" });
    Serve::Forward {
        spec: &BLMOVE_FINISH,
        args: vec![
            Bytes::from_static(b"blmove-finish"),
            src.clone(),
            dst.clone(),
            end_name(from),
            end_name(to),
            Bytes::copy_from_slice(&v),
        ],
    }
}

/// The second half of a BLMOVE served across shards (internal, not in the command table):
/// `blmove-finish source destination from to element`.
pub static BLMOVE_FINISH: CommandSpec = CommandSpec::internal(
    "blmove-finish",
    6,
    flags::WRITE | flags::DENYOOM,
    Run::Txn(cmd_blmove_finish),
)
.keys(1, 2, 1);

fn cmd_blmove_finish(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    let (from, to) = lmove_ends(args);
    let v = &args[5];
    let (i, end) = match txn_list(keys, 1) {
        Ok(_) => (1, to),
        // The destination changed type while the element was in flight: put it back where it
        // came from, as Redis leaves the source untouched in that case.
        Err(_) => (0, from),
    };
    let pushed = txn_list_mut(keys, i)
        .map(|mut l| push(&mut l, end, v))
        .is_some();
    if !pushed {
        if txn_list(keys, i).is_err() {
            // The source changed type too; the element has nowhere to go.
            return out.error(OpError::WrongType.message());
        }
        let mut l = ListValue::new();
        push(&mut l, end, v);
        keys.put(i, Entry::new(Value::List(l), None));
    }
    if i == 1 {
        out.bulk(v);
    } else {
        out.error(OpError::WrongType.message());
    }
}

fn reply_pop_one(keys: &dyn Keys, out: &mut Out, r: Result<Option<MpopHit>, OpError>) {
    match r {
        Err(e) => out.error(e.message()),
        Ok(Some((i, popped))) if !popped.is_empty() => {
            out.array(2);
            out.bulk(keys.key(i));
            out.bulk(&popped[0]);
        }
        Ok(_) => out.null_array(),
    }
}

/// BLPOP key [key ...] timeout, when it cannot block (MULTI): pops or replies as a timeout.
fn cmd_blpop(keys: &mut dyn Keys, _args: &[Bytes], out: &mut Out) {
    let r = op_mpop(keys, End::Left, 1);
    reply_pop_one(keys, out, r)
}

/// BRPOP key [key ...] timeout, when it cannot block.
fn cmd_brpop(keys: &mut dyn Keys, _args: &[Bytes], out: &mut Out) {
    let r = op_mpop(keys, End::Right, 1);
    reply_pop_one(keys, out, r)
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout, when it cannot block.
fn cmd_blmove(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    let (from, to) = lmove_ends(args);
    reply_lmove(out, op_lmove(keys, from, to))
}

/// BRPOPLPUSH source destination timeout, when it cannot block.
fn cmd_brpoplpush(keys: &mut dyn Keys, _args: &[Bytes], out: &mut Out) {
    reply_lmove(out, op_lmove(keys, End::Right, End::Left))
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count], when it cannot block.
fn cmd_blmpop(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    let parsed = match parse_mpop(args, 2) {
        Ok(p) => p,
        Err(e) => return out.error(e),
    };
    let r = op_mpop(keys, parsed.end, parsed.count);
    reply_mpop(keys, out, r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::txn::LocalKeys;
    use rustis_storage::Shard;

    fn b(args: &[&str]) -> Vec<Bytes> {
        args.iter().map(|s| Bytes::from(s.to_string())).collect()
    }

    fn rpush(shard: &mut Shard, key: &str, elems: &[&str]) {
        op_push(
            &mut ShardCtx::new(shard, 0),
            key.as_bytes(),
            &b(elems),
            End::Right,
        )
        .unwrap();
    }

    fn items(shard: &mut Shard, key: &str) -> Vec<String> {
        match shard.db(0).get_list(key.as_bytes()).unwrap() {
            None => Vec::new(),
            Some(l) => l
                .iter()
                .map(|e| String::from_utf8_lossy(e).into_owned())
                .collect(),
        }
    }

    #[test]
    fn pushx_needs_an_existing_list() {
        let mut shard = Shard::new(0, 1, 1);
        let mut ctx = ShardCtx::new(&mut shard, 0);
        assert_eq!(op_pushx(&mut ctx, b"l", &b(&["a"]), End::Left), Ok(0));
        assert!(!ctx.db().contains(b"l"));
        rpush(&mut shard, "l", &["a"]);
        let mut ctx = ShardCtx::new(&mut shard, 0);
        assert_eq!(op_pushx(&mut ctx, b"l", &b(&["b", "c"]), End::Left), Ok(3));
        assert_eq!(items(&mut shard, "l"), ["c", "b", "a"]);
    }

    #[test]
    fn lset_linsert_lrem_ltrim() {
        let mut shard = Shard::new(0, 1, 1);
        rpush(&mut shard, "l", &["a", "b", "c", "b"]);
        let mut ctx = ShardCtx::new(&mut shard, 0);
        assert_eq!(op_lset(&mut ctx, b"l", b"-1", b"z"), Ok(()));
        assert_eq!(
            op_lset(&mut ctx, b"l", b"4", b"z"),
            Err(OpError::OutOfRange)
        );
        assert_eq!(
            op_lset(&mut ctx, b"l", b"x", b"z"),
            Err(OpError::NotInteger)
        );
        assert_eq!(
            op_lset(&mut ctx, b"no", b"x", b"z"),
            Err(OpError::NoSuchKey)
        );
        assert_eq!(op_linsert(&mut ctx, b"l", End::Right, b"b", b"y"), Ok(5));
        assert_eq!(op_linsert(&mut ctx, b"l", End::Left, b"q", b"y"), Ok(-1));
        assert_eq!(op_linsert(&mut ctx, b"no", End::Left, b"q", b"y"), Ok(0));
        assert_eq!(items(&mut shard, "l"), ["a", "b", "y", "c", "z"]);
        let mut ctx = ShardCtx::new(&mut shard, 0);
        assert_eq!(op_lrem(&mut ctx, b"l", 0, b"y"), Ok(1));
        assert_eq!(op_ltrim(&mut ctx, b"l", 1, -2), Ok(()));
        assert_eq!(items(&mut shard, "l"), ["b", "c"]);
        let mut ctx = ShardCtx::new(&mut shard, 0);
        assert_eq!(op_ltrim(&mut ctx, b"l", 5, 10), Ok(()));
        assert!(!ctx.db().contains(b"l"));
    }

    #[test]
    fn lpos_options() {
        let mut shard = Shard::new(0, 1, 1);
        rpush(&mut shard, "l", &["a", "b", "c", "1", "2", "3", "c", "c"]);
        let mut ctx = ShardCtx::new(&mut shard, 0);
        let run = |ctx: &mut ShardCtx, opts: &[&str]| {
            let o = parse_lpos(&b(opts)).unwrap();
            op_lpos(ctx, b"l", b"c", &o).unwrap().unwrap()
        };
        assert_eq!(run(&mut ctx, &[]), [2]);
        assert_eq!(run(&mut ctx, &["rank", "2"]), [6]);
        assert_eq!(run(&mut ctx, &["rank", "-1"]), [7]);
        assert_eq!(run(&mut ctx, &["count", "0"]), [2, 6, 7]);
        assert_eq!(run(&mut ctx, &["count", "2", "rank", "-1"]), [7, 6]);
        assert_eq!(run(&mut ctx, &["count", "0", "maxlen", "7"]), [2, 6]);
        assert_eq!(run(&mut ctx, &["rank", "-9223372036854775808"]), [7]);
        assert_eq!(parse_lpos(&b(&["rank"])), Err(SYNTAX));
        assert_eq!(
            parse_lpos(&b(&["count", "-1"])),
            Err("ERR COUNT can't be negative")
        );
        assert_eq!(parse_lpos(&b(&["foo", "1"])), Err(SYNTAX));
    }

    #[test]
    fn lmove_rotates_and_moves() {
        let mut shard = Shard::new(0, 1, 1);
        rpush(&mut shard, "l", &["a", "b"]);
        let mut k = LocalKeys::new(&mut shard, 0, b(&["l", "l"]));
        assert_eq!(
            op_lmove(&mut k, End::Left, End::Right),
            Ok(Some(b"a"[..].into()))
        );
        assert_eq!(items(&mut shard, "l"), ["b", "a"]);
        let mut k = LocalKeys::new(&mut shard, 0, b(&["l", "m"]));
        op_lmove(&mut k, End::Left, End::Right).unwrap();
        op_lmove(&mut k, End::Left, End::Left).unwrap();
        assert_eq!(op_lmove(&mut k, End::Left, End::Left), Ok(None));
        assert_eq!(items(&mut shard, "m"), ["a", "b"]);
        assert!(!shard.db(0).contains(b"l"));
        // Rotating a one-element list keeps the key, and so its TTL.
        shard.set_now(1000);
        rpush(&mut shard, "t", &["x"]);
        assert!(shard.db(0).set_expire(b"t", Some(5000)));
        let mut k = LocalKeys::new(&mut shard, 0, b(&["t", "t"]));
        assert_eq!(
            op_lmove(&mut k, End::Left, End::Right),
            Ok(Some(b"x"[..].into()))
        );
        assert_eq!(shard.db(0).entry(b"t").and_then(|e| e.expire()), Some(5000));
        assert_eq!(
            shard.db(0).get(b"t").map(|v| v.encoding()),
            Some("quicklist")
        );
    }

    #[test]
    fn mpop_parses_and_pops_the_first_nonempty() {
        let a = b(&["lmpop", "2", "x", "y", "left", "count", "3"]);
        assert_eq!(
            parse_mpop(&a, 1),
            Ok(MpopArgs {
                keys: vec![2, 3],
                end: End::Left,
                count: 3
            })
        );
        let err = |v: &[&str]| parse_mpop(&b(v), 1).unwrap_err();
        assert_eq!(
            err(&["lmpop", "0", "x", "left"]),
            "ERR numkeys should be greater than 0"
        );
        assert_eq!(err(&["lmpop", "2", "x", "left"]), SYNTAX);
        assert_eq!(err(&["lmpop", "1", "x", "up"]), SYNTAX);
        assert_eq!(
            err(&["lmpop", "1", "x", "left", "count", "0"]),
            "ERR count should be greater than 0"
        );
        assert_eq!(
            err(&["lmpop", "1", "x", "left", "count", "1", "count", "1"]),
            SYNTAX
        );
        assert_eq!(err(&["lmpop", "9223372036854775807", "x", "left"]), SYNTAX);

        let mut shard = Shard::new(0, 1, 1);
        rpush(&mut shard, "y", &["1", "2"]);
        let mut k = LocalKeys::new(&mut shard, 0, b(&["x", "y"]));
        let (i, popped) = op_mpop(&mut k, End::Right, 5).unwrap().unwrap();
        assert_eq!(i, 1);
        assert_eq!(popped.len(), 2);
        assert_eq!(op_mpop(&mut k, End::Right, 5), Ok(None));
    }
}
