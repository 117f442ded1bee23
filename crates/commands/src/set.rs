//! Set commands: SADD, SREM, SISMEMBER, SMISMEMBER, SCARD, SMEMBERS, SPOP, SRANDMEMBER, SMOVE,
//! SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE, SSCAN.
//!
//! Single-key commands run on the shard that owns the key. Commands over several sets (SMOVE,
//! the algebra and its STORE forms) are written once against [`Keys`], so they are atomic
//! whether their keys share a shard or not.

use bytes::Bytes;
use rand::Rng;
use rustis_resp::errors::{MUST_BE_POSITIVE, SYNTAX};
use rustis_resp::Out;
use rustis_storage::elem::Elem;
use rustis_storage::set::SetValue;
use rustis_storage::string::parse_canonical_i64;
use rustis_storage::{Entry, OpError, Value};

use crate::args::{eq_ic, parse_cursor, parse_i64, INVALID_CURSOR};
use crate::ctx::ShardCtx;
use crate::glob::glob_match;
use crate::registry::{Binding, Registry, Run};
use crate::txn::{get_mut_as, Keys};

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(Binding::new("sadd", Run::Shard(cmd_sadd)));
    r.add(Binding::new("srem", Run::Shard(cmd_srem)));
    r.add(Binding::new("sismember", Run::Shard(cmd_sismember)));
    r.add(Binding::new("smismember", Run::Shard(cmd_smismember)));
    r.add(Binding::new("scard", Run::Shard(cmd_scard)));
    r.add(Binding::new("spop", Run::Shard(cmd_spop)));
    r.add(Binding::new("srandmember", Run::Shard(cmd_srandmember)));
    r.add(Binding::new("smembers", Run::Shard(cmd_smembers)));
    r.add(Binding::new("sscan", Run::Shard(cmd_sscan)));
    r.add(Binding::new("smove", Run::Txn(cmd_smove)));
    r.add(Binding::new("sinter", Run::Txn(cmd_sinter)));
    r.add(Binding::new("sintercard", Run::Txn(cmd_sintercard)).movable_keys(sintercard_keys));
    r.add(Binding::new("sinterstore", Run::Txn(cmd_sinterstore)));
    r.add(Binding::new("sunion", Run::Txn(cmd_sunion)));
    r.add(Binding::new("sunionstore", Run::Txn(cmd_sunionstore)));
    r.add(Binding::new("sdiff", Run::Txn(cmd_sdiff)));
    r.add(Binding::new("sdiffstore", Run::Txn(cmd_sdiffstore)));
}

/// SRANDMEMBER's error for `i64::MIN`, whose absolute value does not fit.
const SRANDMEMBER_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

// ---------------------------------------------------------------------------------------------
// Single-key commands.

/// Adds members; returns how many were new.
pub fn op_sadd(ctx: &mut ShardCtx, key: &[u8], members: &[Bytes]) -> Result<i64, OpError> {
    let max = ctx.shard.config.set_max_intset_entries;
    let mut set = ctx.db().set_or_create(key)?;
    set.set_event("sadd");
    let n = members.iter().filter(|m| set.insert(m, max)).count() as i64;
    if n == 0 {
        set.unchanged();
    }
    Ok(n)
}

/// SADD key member [member ...]
fn cmd_sadd(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match op_sadd(ctx, &args[1], &args[2..]) {
        Ok(n) => out.int(n),
        Err(e) => out.error(e.message()),
    }
}

/// Removes members; returns how many were there. Deletes the set when it becomes empty.
pub fn op_srem(ctx: &mut ShardCtx, key: &[u8], members: &[Bytes]) -> Result<i64, OpError> {
    let db = ctx.db();
    let Some(mut set) = db.get_set_mut(key)? else {
        return Ok(0);
    };
    let n = members.iter().filter(|m| set.remove(m)).count() as i64;
    if n == 0 {
        set.unchanged();
    }
    let empty = set.is_empty();
    drop(set);
    if empty {
        db.remove(key);
    }
    Ok(n)
}

/// SREM key member [member ...]
fn cmd_srem(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match op_srem(ctx, &args[1], &args[2..]) {
        Ok(n) => out.int(n),
        Err(e) => out.error(e.message()),
    }
}

/// Which of `members` belong to the set at `key`. Counts a keyspace hit or miss, as Redis's
/// read lookups do (and so do the other read-only set ops below).
pub fn op_smismember(
    ctx: &mut ShardCtx,
    key: &[u8],
    members: &[Bytes],
) -> Result<Vec<bool>, OpError> {
    let db = ctx.db();
    let (hit, found) = match db.get_set(key) {
        Err(e) => (true, Err(e)),
        Ok(None) => (false, Ok(vec![false; members.len()])),
        Ok(Some(set)) => (true, Ok(members.iter().map(|m| set.contains(m)).collect())),
    };
    db.count_lookup(hit);
    found
}

/// SISMEMBER key member
fn cmd_sismember(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match op_smismember(ctx, &args[1], &args[2..3]) {
        Ok(found) => out.int(found.first().copied().unwrap_or(false) as i64),
        Err(e) => out.error(e.message()),
    }
}

/// SMISMEMBER key member [member ...]
fn cmd_smismember(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match op_smismember(ctx, &args[1], &args[2..]) {
        Ok(found) => {
            out.array(found.len());
            for f in found {
                out.int(f as i64);
            }
        }
        Err(e) => out.error(e.message()),
    }
}

/// SCARD key
fn cmd_scard(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let db = ctx.db();
    let len = db.get_set(&args[1]).map(|s| s.map(|s| s.len() as i64));
    db.count_lookup(!matches!(len, Ok(None)));
    match len {
        Ok(n) => out.int(n.unwrap_or(0)),
        Err(e) => out.error(e.message()),
    }
}

/// When SPOP with a count leaves fewer than `count / SPOP_MOVE_STRATEGY_MUL` members, Redis
/// copies the rest into a new set (which can be an intset again); we re-encode likewise.
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

/// Pops up to `count` random members in O(count); `None` if the key does not exist.
pub fn op_spop(ctx: &mut ShardCtx, key: &[u8], count: usize) -> Result<Option<Vec<Elem>>, OpError> {
    let shard = &mut *ctx.shard;
    let now = shard.now();
    let max = shard.config.set_max_intset_entries;
    let db = &mut shard.dbs[ctx.db];
    db.set_now(now);
    let Some(mut set) = db.get_set_mut(key)? else {
        return Ok(None);
    };
    let len = set.len();
    if count >= len {
        // The whole set, in its own order (by value for an intset), as Redis replies.
        let all = set.iter().map(Elem::from).collect();
        drop(set);
        db.remove(key);
        return Ok(Some(all));
    }
    let mut popped = Vec::with_capacity(count);
    while popped.len() < count {
        match set.pop_random(&mut shard.rng) {
            Some(m) => popped.push(m),
            None => break,
        }
    }
    if (len - count) * SPOP_MOVE_STRATEGY_MUL <= count {
        set.reencode(max);
    }
    Ok(Some(popped))
}

/// SPOP key [count]
fn cmd_spop(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    if args.len() > 3 {
        return out.error(SYNTAX);
    }
    let count = match args.get(2) {
        None => None,
        Some(c) => match parse_i64(c) {
            Ok(n) if n >= 0 => Some(n as usize),
            _ => return out.error(MUST_BE_POSITIVE),
        },
    };
    match op_spop(ctx, &args[1], count.unwrap_or(1)) {
        Err(e) => out.error(e.message()),
        Ok(None) => match count {
            None => out.null(),
            Some(_) => out.set(0),
        },
        Ok(Some(members)) => match count {
            None => match members.first() {
                Some(m) => out.bulk(m),
                None => out.null(),
            },
            Some(_) => {
                out.set(members.len());
                for m in &members {
                    out.bulk(m);
                }
            }
        },
    }
}

/// Random members of the set at `key`, in O(count): `count` distinct ones (or all of them) for
/// a positive count, `-count` drawn with repeats for a negative one.
pub fn op_srandmember(ctx: &mut ShardCtx, key: &[u8], count: i64) -> Result<Vec<Elem>, OpError> {
    let shard = &mut *ctx.shard;
    let now = shard.now();
    let db = &mut shard.dbs[ctx.db];
    db.set_now(now);
    let (hit, picked) = match db.get_set(key) {
        Err(e) => (true, Err(e)),
        Ok(None) => (false, Ok(Vec::new())),
        Ok(Some(set)) => (true, Ok(pick_random(set, &mut shard.rng, count))),
    };
    db.count_lookup(hit);
    picked
}

/// SRANDMEMBER's choice from a set: `count` distinct members (all if fewer) for a positive
/// count, `-count` with repeats for a negative one.
fn pick_random(set: &SetValue, rng: &mut impl Rng, count: i64) -> Vec<Elem> {
    let len = set.len();
    if count < 0 {
        let n = count.unsigned_abs() as usize;
        return (0..n)
            .filter_map(|_| set.random(rng).map(Elem::from))
            .collect();
    }
    let n = count as usize;
    if n >= len {
        return set.iter().map(Elem::from).collect();
    }
    // A partial Fisher-Yates shuffle over positions, touching only the `n` positions it picks:
    // `swapped` remembers the positions whose content moved.
    let mut swapped: hashbrown::HashMap<usize, usize> = hashbrown::HashMap::with_capacity(2 * n);
    let mut picked = Vec::with_capacity(n);
    for i in 0..n {
        let j = rng.gen_range(i..len);
        let at_j = *swapped.get(&j).unwrap_or(&j);
        let at_i = *swapped.get(&i).unwrap_or(&i);
        swapped.insert(j, at_i);
        if let Some(m) = set.get_index(at_j) {
            picked.push(Elem::from(m));
        }
    }
    picked
}

/// SRANDMEMBER key [count]
fn cmd_srandmember(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    if args.len() > 3 {
        return out.error(SYNTAX);
    }
    let Some(c) = args.get(2) else {
        let shard = &mut *ctx.shard;
        let now = shard.now();
        let db = &mut shard.dbs[ctx.db];
        db.set_now(now);
        let hit = match db.get_set(&args[1]) {
            Err(e) => {
                out.error(e.message());
                true
            }
            Ok(None) => {
                out.null();
                false
            }
            Ok(Some(set)) => {
                match set.random(&mut shard.rng) {
                    Some(m) => out.bulk(m),
                    None => out.null(),
                }
                true
            }
        };
        return db.count_lookup(hit);
    };
    let count = match parse_i64(c) {
        Ok(i64::MIN) => return out.error(SRANDMEMBER_RANGE),
        Ok(n) if n < 0 && n.unsigned_abs() > crate::args::MAX_REPEATED_PICKS => {
            return out.error(crate::args::PICKS_OUT_OF_RANGE)
        }
        Ok(n) => n,
        Err(e) => return out.error(e.message()),
    };
    match op_srandmember(ctx, &args[1], count) {
        Err(e) => out.error(e.message()),
        Ok(members) => {
            out.array(members.len());
            for m in &members {
                out.bulk(m);
            }
        }
    }
}

/// SMEMBERS key
fn cmd_smembers(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let db = ctx.db();
    let hit = match db.get_set(&args[1]) {
        Err(e) => {
            out.error(e.message());
            true
        }
        Ok(None) => {
            out.set(0);
            false
        }
        Ok(Some(set)) => {
            out.set(set.len());
            for m in set.iter() {
                out.bulk(m);
            }
            true
        }
    };
    db.count_lookup(hit);
}

/// The options of SSCAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanArgs {
    /// Where to continue; 0 starts over.
    pub cursor: u64,
    /// `MATCH pattern`.
    pub pattern: Option<Bytes>,
    /// `COUNT n`: how much work to do per call.
    pub count: usize,
}

/// Parses `cursor [MATCH pattern] [COUNT count]` (the arguments after the key).
pub fn parse_sscan(args: &[Bytes]) -> Result<ScanArgs, &'static str> {
    let cursor = parse_cursor(&args[0]).ok_or(INVALID_CURSOR)?;
    let mut parsed = ScanArgs {
        cursor,
        pattern: None,
        count: 10,
    };
    let mut i = 1;
    while i < args.len() {
        let more = i + 1 < args.len();
        if eq_ic(&args[i], "count") && more {
            match parse_i64(&args[i + 1]) {
                Err(e) => return Err(e.message()),
                Ok(n) if n < 1 => return Err(SYNTAX),
                Ok(n) => parsed.count = usize::try_from(n).unwrap_or(usize::MAX),
            }
        } else if eq_ic(&args[i], "match") && more {
            parsed.pattern = Some(args[i + 1].clone());
        } else {
            return Err(SYNTAX);
        }
        i += 2;
    }
    Ok(parsed)
}

/// One SSCAN reply: the next cursor and the members found.
pub type ScanPage = (u64, Vec<Elem>);

/// One SSCAN step: the next cursor and the members found.
///
/// An intset is returned whole, as Redis does for its compact encodings. A hashtable is walked
/// from its last position down: removals move the last member into the hole, which is a
/// position already visited, so every member present for the whole scan is returned once or
/// more, and members added during the scan land above the cursor and may be missed, as SCAN
/// promises. The cursor is the position to continue below.
pub fn op_sscan(ctx: &mut ShardCtx, key: &[u8], scan: &ScanArgs) -> Result<ScanPage, OpError> {
    let Some(set) = ctx.db().get_set(key)? else {
        return Ok((0, Vec::new()));
    };
    let keep = |m: &[u8]| {
        scan.pattern
            .as_ref()
            .is_none_or(|p| glob_match(p, m, false))
    };
    if set.encoding() == "intset" {
        return Ok((0, set.iter().filter(|m| keep(m)).map(Elem::from).collect()));
    }
    let len = set.len();
    let top = match scan.cursor {
        0 => len,
        c => usize::try_from(c).unwrap_or(usize::MAX).min(len),
    };
    let bottom = top.saturating_sub(scan.count);
    let found = (bottom..top)
        .rev()
        .filter_map(|i| set.get_index(i))
        .filter(|m| keep(m))
        .map(Elem::from)
        .collect();
    Ok((bottom as u64, found))
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
fn cmd_sscan(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let scan = match parse_sscan(&args[2..]) {
        Ok(s) => s,
        Err(e) => return out.error(e),
    };
    let page = op_sscan(ctx, &args[1], &scan);
    // Only an empty last page can come from a missing key; only then look again to tell.
    let hit = !matches!(&page, Ok((0, f)) if f.is_empty()) || ctx.db().contains(&args[1]);
    ctx.db().count_lookup(hit);
    match page {
        Err(e) => out.error(e.message()),
        Ok((cursor, found)) => {
            out.array(2);
            out.bulk(itoa::Buffer::new().format(cursor).as_bytes());
            out.array(found.len());
            for m in &found {
                out.bulk(m);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Commands over several sets, written against `Keys`.

/// The set at key position `i`: `None` if missing, `WrongType` if it is not a set.
fn txn_set(keys: &mut dyn Keys, i: usize) -> Result<Option<&SetValue>, OpError> {
    match keys.get(i) {
        None => Ok(None),
        Some(Entry {
            value: Value::Set(s),
            ..
        }) => Ok(Some(s)),
        Some(_) => Err(OpError::WrongType),
    }
}

/// Moves `member` from the set at position 0 to the set at position 1; true if it was in the
/// source. Both keys are type-checked first when the source exists, as Redis does.
pub fn op_smove(keys: &mut dyn Keys, member: &[u8]) -> Result<bool, OpError> {
    let max = keys.config().set_max_intset_entries;
    // As in Redis, a missing source answers 0 before the destination's type is looked at.
    let in_src = match txn_set(keys, 0)? {
        None => return Ok(false),
        Some(src) => src.contains(member),
    };
    let in_dst = txn_set(keys, 1)?.is_some_and(|dst| dst.contains(member));
    if keys.key(0) == keys.key(1) || !in_src {
        return Ok(in_src);
    }
    let emptied = get_mut_as::<SetValue>(keys, 0).map(|mut src| {
        src.remove(member);
        src.is_empty()
    });
    if emptied == Some(true) {
        keys.delete(0);
    }
    if in_dst {
        // The destination does not change: as in Redis, it is not touched (a WATCH on it
        // holds, and no event is fired for it).
        return Ok(true);
    }
    let added = get_mut_as::<SetValue>(keys, 1)
        .map(|mut dst| dst.insert(member, max))
        .is_some();
    if !added {
        keys.put(
            1,
            Entry::new(Value::Set(SetValue::from_members([member], max)), None),
        );
    }
    Ok(true)
}

/// SMOVE source destination member
fn cmd_smove(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    match op_smove(keys, &args[3]) {
        Ok(moved) => out.int(moved as i64),
        Err(e) => out.error(e.message()),
    }
}

/// A set operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    /// Members in every set.
    Inter,
    /// Members in any set.
    Union,
    /// Members of the first set in none of the others.
    Diff,
}

/// Computes `op` over the sets at key positions `from..keys.len()` (missing keys are empty
/// sets), after checking that every key holds a set. Intersections stop after `limit` members
/// (0: no limit).
pub fn op_setop(
    keys: &mut dyn Keys,
    from: usize,
    op: SetOp,
    limit: usize,
) -> Result<Vec<Elem>, OpError> {
    // Every key is type-checked before anything is computed, as Redis does. The sets are then
    // read one at a time (a `Keys` view lends one entry at a time) and never copied whole:
    // only the members that can be in the result are.
    let mut sizes = Vec::with_capacity(keys.len() - from);
    for i in from..keys.len() {
        sizes.push(txn_set(keys, i)?.map(|s| s.len()));
    }
    let mut found: Vec<Elem> = Vec::new();
    match op {
        SetOp::Inter => {
            if sizes.iter().any(|s| s.is_none()) {
                return Ok(found);
            }
            // Start from the smallest set, as Redis does, and keep what every other set has.
            let smallest = (from..keys.len())
                .min_by_key(|&i| sizes[i - from])
                .unwrap_or(from);
            if let Some(s) = txn_set(keys, smallest)? {
                found = s.iter().map(Elem::from).collect();
            }
            for i in (from..keys.len()).filter(|&i| i != smallest) {
                if let Some(s) = txn_set(keys, i)? {
                    found.retain(|m| s.contains(m));
                }
            }
            if limit != 0 {
                found.truncate(limit);
            }
        }
        SetOp::Union => {
            let mut seen: hashbrown::HashSet<Elem> = hashbrown::HashSet::new();
            for i in from..keys.len() {
                if let Some(s) = txn_set(keys, i)? {
                    for m in s.iter() {
                        if !seen.contains(m) {
                            seen.insert(Elem::from(m));
                            found.push(Elem::from(m));
                        }
                    }
                }
            }
        }
        SetOp::Diff => {
            if let Some(first) = txn_set(keys, from)? {
                found = first.iter().map(Elem::from).collect();
            }
            for i in from + 1..keys.len() {
                if found.is_empty() {
                    break;
                }
                if let Some(s) = txn_set(keys, i)? {
                    found.retain(|m| !s.contains(m));
                }
            }
        }
    }
    Ok(found)
}

/// Writes a set-algebra result in the order Redis's result set would list it: by value when it
/// would be an intset (few members, all integers), else as computed.
fn reply_members(out: &mut Out, mut members: Vec<Elem>, max_intset_entries: usize) {
    if members.len() <= max_intset_entries {
        let ints: Option<Vec<i64>> = members.iter().map(|m| parse_canonical_i64(m)).collect();
        if let Some(ints) = ints {
            let mut pairs: Vec<(i64, Elem)> = ints.into_iter().zip(members).collect();
            pairs.sort_unstable_by_key(|(v, _)| *v);
            members = pairs.into_iter().map(|(_, m)| m).collect();
        }
    }
    out.set(members.len());
    for m in &members {
        out.bulk(m);
    }
}

fn reply_setop(keys: &mut dyn Keys, op: SetOp, out: &mut Out) {
    match op_setop(keys, 0, op, 0) {
        Err(e) => out.error(e.message()),
        Ok(members) => reply_members(out, members, keys.config().set_max_intset_entries),
    }
}

/// Stores the result of `op` over positions `1..` at position 0; returns its size. An empty
/// result deletes the destination.
pub fn op_setop_store(keys: &mut dyn Keys, op: SetOp) -> Result<i64, OpError> {
    let members = op_setop(keys, 1, op, 0)?;
    if members.is_empty() {
        keys.delete(0);
        return Ok(0);
    }
    let max = keys.config().set_max_intset_entries;
    let set = SetValue::from_members(members.iter().map(|m| &m[..]), max);
    let n = set.len() as i64;
    keys.put(0, Entry::new(Value::Set(set), None));
    Ok(n)
}

fn reply_store(keys: &mut dyn Keys, op: SetOp, out: &mut Out) {
    match op_setop_store(keys, op) {
        Ok(n) => out.int(n),
        Err(e) => out.error(e.message()),
    }
}

/// SINTER key [key ...]
fn cmd_sinter(keys: &mut dyn Keys, _args: &[Bytes], out: &mut Out) {
    reply_setop(keys, SetOp::Inter, out)
}

/// SUNION key [key ...]
fn cmd_sunion(keys: &mut dyn Keys, _args: &[Bytes], out: &mut Out) {
    reply_setop(keys, SetOp::Union, out)
}

/// SDIFF key [key ...]
fn cmd_sdiff(keys: &mut dyn Keys, _args: &[Bytes], out: &mut Out) {
    reply_setop(keys, SetOp::Diff, out)
}

/// SINTERSTORE destination key [key ...]
fn cmd_sinterstore(keys: &mut dyn Keys, _args: &[Bytes], out: &mut Out) {
    reply_store(keys, SetOp::Inter, out)
}

/// SUNIONSTORE destination key [key ...]
fn cmd_sunionstore(keys: &mut dyn Keys, _args: &[Bytes], out: &mut Out) {
    reply_store(keys, SetOp::Union, out)
}

/// SDIFFSTORE destination key [key ...]
fn cmd_sdiffstore(keys: &mut dyn Keys, _args: &[Bytes], out: &mut Out) {
    reply_store(keys, SetOp::Diff, out)
}

/// The parsed arguments of SINTERCARD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinterCardArgs {
    /// Argument positions of the keys.
    pub keys: Vec<usize>,
    /// `LIMIT n` (0: none).
    pub limit: usize,
}

/// Parses `SINTERCARD numkeys key [key ...] [LIMIT limit]` with Redis's errors and their order.
pub fn parse_sintercard(args: &[Bytes]) -> Result<SinterCardArgs, &'static str> {
    let numkeys = match parse_i64(&args[1]) {
        Ok(n) if n > 0 => n as usize,
        _ => return Err("ERR numkeys should be greater than 0"),
    };
    if numkeys > args.len() - 2 {
        return Err("ERR Number of keys can't be greater than number of args");
    }
    let mut limit = 0;
    let mut i = 2 + numkeys;
    while i < args.len() {
        if eq_ic(&args[i], "limit") && i + 1 < args.len() {
            limit = match parse_i64(&args[i + 1]) {
                Ok(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
                _ => return Err("ERR LIMIT can't be negative"),
            };
            i += 2;
        } else {
            return Err(SYNTAX);
        }
    }
    Ok(SinterCardArgs {
        keys: (2..2 + numkeys).collect(),
        limit,
    })
}

fn sintercard_keys(args: &[Bytes]) -> Result<Vec<usize>, String> {
    parse_sintercard(args)
        .map(|a| a.keys)
        .map_err(str::to_string)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn cmd_sintercard(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    let parsed = match parse_sintercard(args) {
        Ok(p) => p,
        Err(e) => return out.error(e),
    };
    match op_setop(keys, 0, SetOp::Inter, parsed.limit) {
        Ok(m) => out.int(m.len() as i64),
        Err(e) => out.error(e.message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::txn::LocalKeys;
    use rustis_storage::Shard;

    fn b(args: &[&str]) -> Vec<Bytes> {
        args.iter().map(|s| Bytes::from(s.to_string())).collect()
    }

    fn sadd(shard: &mut Shard, key: &str, members: &[&str]) {
        op_sadd(&mut ShardCtx::new(shard, 0), key.as_bytes(), &b(members)).unwrap();
    }

    fn sorted(v: Vec<Elem>) -> Vec<String> {
        let mut v: Vec<String> = v
            .into_iter()
            .map(|m| String::from_utf8_lossy(&m).into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn srem_deletes_the_emptied_set() {
        let mut shard = Shard::new(0, 1, 1);
        sadd(&mut shard, "s", &["a", "b"]);
        let mut ctx = ShardCtx::new(&mut shard, 0);
        assert_eq!(op_srem(&mut ctx, b"s", &b(&["a", "a", "z"])), Ok(1));
        assert_eq!(op_srem(&mut ctx, b"s", &b(&["b"])), Ok(1));
        assert!(!ctx.db().contains(b"s"));
        assert_eq!(op_srem(&mut ctx, b"s", &b(&["b"])), Ok(0));
    }

    #[test]
    fn srandmember_counts() {
        let mut shard = Shard::new(0, 1, 1);
        let members: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
        let refs: Vec<&str> = members.iter().map(|s| s.as_str()).collect();
        sadd(&mut shard, "s", &refs);
        let mut ctx = ShardCtx::new(&mut shard, 0);
        for n in [1, 10, 49] {
            let got = sorted(op_srandmember(&mut ctx, b"s", n).unwrap());
            let mut dedup = got.clone();
            dedup.dedup();
            assert_eq!(dedup.len(), n as usize, "distinct for {n}");
        }
        assert_eq!(op_srandmember(&mut ctx, b"s", 100).unwrap().len(), 50);
        assert_eq!(op_srandmember(&mut ctx, b"s", -200).unwrap().len(), 200);
        assert_eq!(op_srandmember(&mut ctx, b"nokey", -3).unwrap().len(), 0);
    }

    #[test]
    fn spop_with_a_big_count_reencodes_the_rest() {
        let mut shard = Shard::new(0, 1, 1);
        sadd(&mut shard, "s", &["1", "2", "3", "4", "5", "6", "a"]);
        let mut ctx = ShardCtx::new(&mut shard, 0);
        assert_eq!(op_srem(&mut ctx, b"s", &b(&["a"])), Ok(1));
        assert_eq!(ctx.db().get(b"s").unwrap().encoding(), "hashtable");
        op_spop(&mut ctx, b"s", 5).unwrap();
        assert_eq!(ctx.db().get(b"s").unwrap().encoding(), "intset");
    }

    #[test]
    fn sscan_walks_a_hashtable_down_to_zero() {
        let mut shard = Shard::new(0, 1, 1);
        let members: Vec<String> = (0..25).map(|i| format!("m{i}")).collect();
        let refs: Vec<&str> = members.iter().map(|s| s.as_str()).collect();
        sadd(&mut shard, "s", &refs);
        let mut ctx = ShardCtx::new(&mut shard, 0);
        let mut scan = parse_sscan(&b(&["0", "count", "7"])).unwrap();
        let mut all = Vec::new();
        loop {
            let (next, found) = op_sscan(&mut ctx, b"s", &scan).unwrap();
            all.extend(found);
            if next == 0 {
                break;
            }
            scan.cursor = next;
        }
        assert_eq!(sorted(all).len(), 25);
        assert_eq!(parse_sscan(&b(&["x"])), Err("ERR invalid cursor"));
        assert_eq!(parse_sscan(&b(&["0", "count", "0"])), Err(SYNTAX));
        assert_eq!(parse_sscan(&b(&["0", "match"])), Err(SYNTAX));
    }

    #[test]
    fn setops_and_store() {
        let mut shard = Shard::new(0, 1, 1);
        sadd(&mut shard, "a", &["1", "2", "3"]);
        sadd(&mut shard, "b", &["2", "3", "x"]);
        let mut k = LocalKeys::new(&mut shard, 0, b(&["a", "b"]));
        assert_eq!(
            sorted(op_setop(&mut k, 0, SetOp::Inter, 0).unwrap()),
            ["2", "3"]
        );
        assert_eq!(op_setop(&mut k, 0, SetOp::Inter, 1).unwrap().len(), 1);
        assert_eq!(
            sorted(op_setop(&mut k, 0, SetOp::Union, 0).unwrap()),
            ["1", "2", "3", "x"]
        );
        assert_eq!(sorted(op_setop(&mut k, 0, SetOp::Diff, 0).unwrap()), ["1"]);
        let mut k = LocalKeys::new(&mut shard, 0, b(&["d", "a", "b"]));
        assert_eq!(op_setop_store(&mut k, SetOp::Inter), Ok(2));
        assert_eq!(shard.db(0).get(b"d").unwrap().encoding(), "intset");
        let mut k = LocalKeys::new(&mut shard, 0, b(&["d", "a", "nokey"]));
        assert_eq!(op_setop_store(&mut k, SetOp::Inter), Ok(0));
        assert!(!shard.db(0).contains(b"d"));
    }

    #[test]
    fn smove_checks_both_types() {
        let mut shard = Shard::new(0, 1, 1);
        sadd(&mut shard, "a", &["1"]);
        let mut k = LocalKeys::new(&mut shard, 0, b(&["a", "b"]));
        assert_eq!(op_smove(&mut k, b"9"), Ok(false));
        assert_eq!(op_smove(&mut k, b"1"), Ok(true));
        assert!(!shard.db(0).contains(b"a"));
        let mut k = LocalKeys::new(&mut shard, 0, b(&["b", "b"]));
        assert_eq!(op_smove(&mut k, b"1"), Ok(true));
        assert_eq!(op_smove(&mut k, b"2"), Ok(false));
        assert_eq!(
            parse_sintercard(&b(&["sintercard", "2", "a"])),
            Err("ERR Number of keys can't be greater than number of args")
        );
        assert_eq!(
            parse_sintercard(&b(&["sintercard", "1", "a", "limit", "1", "limit", "2"])),
            Ok(SinterCardArgs {
                keys: vec![2],
                limit: 2
            })
        );
    }
}
