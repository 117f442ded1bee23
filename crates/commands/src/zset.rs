//! Sorted-set commands: ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK, ZCOUNT,
//! ZLEXCOUNT, the ZRANGE family (and ZRANGESTORE), the ZREMRANGEBY family, ZPOPMIN/ZPOPMAX,
//! ZMPOP, ZRANDMEMBER, ZSCAN and the set operations ZUNION/ZINTER/ZDIFF(+STORE)/ZINTERCARD.
//!
//! Single-key commands run on the key's shard. Commands over several keys (the set operations,
//! ZRANGESTORE, ZMPOP) are `Run::Txn`: written once against [`Keys`], they run locally when
//! their keys share a shard and on locked copies when they do not, so they stay atomic.

use bytes::Bytes;
use rand::Rng;
use rustis_resp::errors::{MUST_BE_POSITIVE, SYNTAX};
use rustis_resp::Out;
use rustis_storage::set::SetValue;
use rustis_storage::zset::{ZSetLimits, ZSetValue};
use rustis_storage::{Db, Entry, OpError, ShardConfig, Value};

use crate::args::{eq_ic, parse_cursor, parse_f64, parse_i64, parse_range_f64, INVALID_CURSOR};
use crate::blocking::{check_timeout_at, timeout_at, BlockingOps, Serve, ServeCtx};
use crate::ctx::ShardCtx;
use crate::glob::glob_match;
use crate::hash::{parse_rand_args, parse_scan_opts, random_positions, reply_scan};
use crate::registry::{Binding, Registry, Run};
use crate::txn::{get_mut_as, Keys};

/// Registers the family.
pub fn register(r: &mut Registry) {
    let one_key = [
        Binding::new("zadd", Run::Shard(cmd_zadd)),
        Binding::new("zincrby", Run::Shard(cmd_zincrby)),
        Binding::new("zrem", Run::Shard(cmd_zrem)),
        Binding::new("zcard", Run::Shard(cmd_zcard)),
        Binding::new("zscore", Run::Shard(cmd_zscore)),
        Binding::new("zmscore", Run::Shard(cmd_zmscore)),
        Binding::new("zrank", Run::Shard(cmd_zrank)),
        Binding::new("zrevrank", Run::Shard(cmd_zrevrank)),
        Binding::new("zcount", Run::Shard(cmd_zcount)),
        Binding::new("zlexcount", Run::Shard(cmd_zlexcount)),
        Binding::new("zrange", Run::Shard(cmd_zrange)),
        Binding::new("zrevrange", Run::Shard(cmd_zrevrange)),
        Binding::new("zrangebyscore", Run::Shard(cmd_zrangebyscore)),
        Binding::new("zrevrangebyscore", Run::Shard(cmd_zrevrangebyscore)),
        Binding::new("zrangebylex", Run::Shard(cmd_zrangebylex)),
        Binding::new("zrevrangebylex", Run::Shard(cmd_zrevrangebylex)),
        Binding::new("zremrangebyrank", Run::Shard(cmd_zremrangebyrank)),
        Binding::new("zremrangebyscore", Run::Shard(cmd_zremrangebyscore)),
        Binding::new("zremrangebylex", Run::Shard(cmd_zremrangebylex)),
        Binding::new("zpopmin", Run::Shard(cmd_zpopmin)),
        Binding::new("zpopmax", Run::Shard(cmd_zpopmax)),
        Binding::new("zrandmember", Run::Shard(cmd_zrandmember)),
        Binding::new("zscan", Run::Shard(cmd_zscan)),
    ];
    for row in one_key {
        r.add(row);
    }
    r.add(Binding::new("zrangestore", Run::Txn(txn_zrangestore)));
    let setops = [
        Binding::new("zunion", Run::Txn(txn_zunion)).movable_keys(keys_numkeys_at_1),
        Binding::new("zinter", Run::Txn(txn_zinter)).movable_keys(keys_numkeys_at_1),
        Binding::new("zdiff", Run::Txn(txn_zdiff)).movable_keys(keys_numkeys_at_1),
        Binding::new("zintercard", Run::Txn(txn_zintercard)).movable_keys(keys_numkeys_at_1),
        Binding::new("zunionstore", Run::Txn(txn_zunionstore)).movable_keys(keys_dst_numkeys),
        Binding::new("zinterstore", Run::Txn(txn_zinterstore)).movable_keys(keys_dst_numkeys),
        Binding::new("zdiffstore", Run::Txn(txn_zdiffstore)).movable_keys(keys_dst_numkeys),
        Binding::new("zmpop", Run::Txn(txn_zmpop)).movable_keys(keys_zmpop),
    ];
    for row in setops {
        r.add(row);
    }
    r.add(
        Binding::new("bzpopmin", Run::Txn(txn_bzpopmin))
            .precheck(|a| check_timeout_at(a, -1))
            .blocking(&BZPOPMIN),
    );
    r.add(
        Binding::new("bzpopmax", Run::Txn(txn_bzpopmax))
            .precheck(|a| check_timeout_at(a, -1))
            .blocking(&BZPOPMAX),
    );
    r.add(
        Binding::new("bzmpop", Run::Txn(txn_bzmpop))
            .movable_keys(|a| parse_mpop(a, 2).map(|p| p.keys))
            .precheck(|a| check_timeout_at(a, 1))
            .blocking(&BZMPOP),
    );
}

// ---------------------------------------------------------------------------------------------
// Parsing of scores and ranges.

/// Looks a sorted set up for a read command, counting a keyspace hit or miss for INFO as
/// Redis's `lookupKeyRead` does (write commands do not count).
pub fn read_zset<'a>(db: &'a mut Db, key: &[u8]) -> Result<Option<&'a ZSetValue>, OpError> {
    let hit = db.contains(key);
    db.count_lookup(hit);
    db.get_zset(key)
}

/// The sorted-set encoding limits of a shard's config.
pub fn zset_limits(cfg: &ShardConfig) -> ZSetLimits {
    ZSetLimits {
        max_entries: cfg.zset_max_listpack_entries,
        max_value: cfg.zset_max_listpack_value,
    }
}

/// One end of a score range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreBound {
    /// The score.
    pub value: f64,
    /// Whether the end is exclusive (`(`).
    pub exclusive: bool,
}

/// A score range `min..max`, as ZRANGEBYSCORE takes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    /// The lower end.
    pub min: ScoreBound,
    /// The upper end.
    pub max: ScoreBound,
}

/// Parses one end of a score range as Redis's `zslParseRange` does: an optional `(`, then a
/// number that `strtod` reads to the end of the argument (or to a NUL); NaN is rejected.
fn parse_score_bound(arg: &[u8]) -> Option<ScoreBound> {
    let (exclusive, body) = match arg.first() {
        Some(b'(') => (true, &arg[1..]),
        _ => (false, arg),
    };
    let value = parse_range_f64(body)?;
    Some(ScoreBound { value, exclusive })
}

/// Parses a score range; the error is Redis's text.
pub fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, &'static str> {
    match (parse_score_bound(min), parse_score_bound(max)) {
        (Some(min), Some(max)) => Ok(ScoreRange { min, max }),
        _ => Err("ERR min or max is not a float"),
    }
}

/// One end of a lex range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: before everything.
    Min,
    /// `+`: after everything.
    Max,
    /// `[x`: inclusive.
    Incl(Bytes),
    /// `(x`: exclusive.
    Excl(Bytes),
}

fn parse_lex_bound(arg: &Bytes) -> Option<LexBound> {
    match arg.first() {
        Some(b'+') if arg.len() == 1 => Some(LexBound::Max),
        Some(b'-') if arg.len() == 1 => Some(LexBound::Min),
        Some(b'[') => Some(LexBound::Incl(arg.slice(1..))),
        Some(b'(') => Some(LexBound::Excl(arg.slice(1..))),
        _ => None,
    }
}

/// A lex range, as ZRANGEBYLEX takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    /// The lower end.
    pub min: LexBound,
    /// The upper end.
    pub max: LexBound,
}

/// Parses a lex range; the error is Redis's text.
pub fn parse_lex_range(min: &Bytes, max: &Bytes) -> Result<LexRange, &'static str> {
    match (parse_lex_bound(min), parse_lex_bound(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err("ERR min or max not valid string range item"),
    }
}

fn lex_gte_min(m: &[u8], b: &LexBound) -> bool {
    match b {
        LexBound::Min => true,
        LexBound::Max => false,
        LexBound::Incl(x) => m >= &x[..],
        LexBound::Excl(x) => m > &x[..],
    }
}

fn lex_lte_max(m: &[u8], b: &LexBound) -> bool {
    match b {
        LexBound::Min => false,
        LexBound::Max => true,
        LexBound::Incl(x) => m <= &x[..],
        LexBound::Excl(x) => m < &x[..],
    }
}

/// The ascending ranks `lo..hi` of the members with scores in `r` (empty when `hi <= lo`).
pub fn score_ranks(z: &ZSetValue, r: &ScoreRange) -> (usize, usize) {
    let (min, max) = (r.min, r.max);
    if min.value > max.value || (min.value == max.value && (min.exclusive || max.exclusive)) {
        return (0, 0);
    }
    let lo = z.score_prefix(|s| {
        if min.exclusive {
            s <= min.value
        } else {
            s < min.value
        }
    });
    let hi = z.score_prefix(|s| {
        if max.exclusive {
            s < max.value
        } else {
            s <= max.value
        }
    });
    (lo, hi.max(lo))
}

/// The ascending ranks `lo..hi` of the members in the lex range `r`.
pub fn lex_ranks(z: &ZSetValue, r: &LexRange) -> (usize, usize) {
    let lo = z.lex_prefix(|m| !lex_gte_min(m, &r.min));
    let hi = z.lex_prefix(|m| lex_lte_max(m, &r.max));
    (lo, hi.max(lo))
}

/// What a ZRANGE-family command selects.
#[derive(Debug, Clone, PartialEq)]
pub enum RangeKind {
    /// By index (`start`, `stop`; negative counts from the end).
    Rank(i64, i64),
    /// By score.
    Score(ScoreRange),
    /// By member bytes.
    Lex(LexRange),
}

/// A parsed ZRANGE-family request.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSpec {
    /// What to select.
    pub kind: RangeKind,
    /// Highest first.
    pub rev: bool,
    /// `LIMIT offset`.
    pub offset: i64,
    /// `LIMIT count`; negative means all.
    pub limit: i64,
    /// `WITHSCORES`.
    pub withscores: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KindArg {
    Auto,
    Rank,
    Score,
    Lex,
}

/// Parses the arguments of a ZRANGE-family command as Redis 7.0's `zrangeGenericCommand`
/// does. `src` is the position of the source key; `store` forbids WITHSCORES; `kind`/`rev`
/// are fixed by the legacy commands (ZREVRANGE, ZRANGEBYSCORE, ...).
fn parse_range(
    args: &[Bytes],
    src: usize,
    store: bool,
    mut kind: KindArg,
    rev: Option<bool>,
) -> Result<RangeSpec, &'static str> {
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut dir = rev;
    let mut j = src + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = &args[j];
        if !store && eq_ic(a, "withscores") {
            withscores = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            offset = parse_i64(&args[j + 1]).map_err(OpError::message)?;
            limit = parse_i64(&args[j + 2]).map_err(OpError::message)?;
            j += 2;
        } else if dir.is_none() && eq_ic(a, "rev") {
            dir = Some(true);
        } else if kind == KindArg::Auto && eq_ic(a, "bylex") {
            kind = KindArg::Lex;
        } else if kind == KindArg::Auto && eq_ic(a, "byscore") {
            kind = KindArg::Score;
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    let rev = dir.unwrap_or(false);
    if kind == KindArg::Auto {
        kind = KindArg::Rank;
    }
    if limit != -1 && kind == KindArg::Rank {
        return Err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
    }
    if withscores && kind == KindArg::Lex {
        return Err("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    }
    let (mut lo, mut hi) = (&args[src + 1], &args[src + 2]);
    if rev && kind != KindArg::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    let kind = match kind {
        KindArg::Score => RangeKind::Score(parse_score_range(lo, hi)?),
        KindArg::Lex => RangeKind::Lex(parse_lex_range(lo, hi)?),
        _ => {
            let a = parse_i64(lo).map_err(OpError::message)?;
            let b = parse_i64(hi).map_err(OpError::message)?;
            RangeKind::Rank(a, b)
        }
    };
    Ok(RangeSpec {
        kind,
        rev,
        offset,
        limit,
        withscores,
    })
}

/// The members a range selects, in reply order.
pub fn select_range<'a>(z: &'a ZSetValue, spec: &RangeSpec) -> Vec<(&'a [u8], f64)> {
    let len = z.len();
    match &spec.kind {
        RangeKind::Rank(start, end) => {
            let Some((s, e)) = rustis_storage::list::clamp_range(*start, *end, len) else {
                return Vec::new();
            };
            let n = e - s + 1;
            if spec.rev {
                z.iter_from(len - 1 - s, true).take(n).collect()
            } else {
                z.iter_from(s, false).take(n).collect()
            }
        }
        RangeKind::Score(_) | RangeKind::Lex(_) => {
            let (lo, hi) = match &spec.kind {
                RangeKind::Score(r) => score_ranks(z, r),
                RangeKind::Lex(r) => lex_ranks(z, r),
                RangeKind::Rank(..) => (0, 0),
            };
            if spec.offset < 0 || hi <= lo {
                return Vec::new();
            }
            let avail = (hi - lo).saturating_sub(spec.offset as usize);
            let n = if spec.limit < 0 {
                avail
            } else {
                avail.min(spec.limit as usize)
            };
            if n == 0 {
                return Vec::new();
            }
            let skip = spec.offset as usize;
            if spec.rev {
                z.iter_from(hi - 1 - skip, true).take(n).collect()
            } else {
                z.iter_from(lo + skip, false).take(n).collect()
            }
        }
    }
}

/// Writes members, with their scores if asked: flat in RESP2, `[member, score]` pairs in
/// RESP3, as Redis 7 does.
pub fn reply_members(out: &mut Out, items: &[(&[u8], f64)], withscores: bool) {
    if !withscores {
        out.array(items.len());
        for (m, _) in items {
            out.bulk(m);
        }
        return;
    }
    if out.resp3 {
        out.array(items.len());
        for (m, s) in items {
            out.array(2);
            out.bulk(m);
            out.double(*s);
        }
    } else {
        out.array(items.len() * 2);
        for (m, s) in items {
            out.bulk(m);
            out.double(*s);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ZADD and friends.

/// ZADD's flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZaddFlags {
    /// Only add new members.
    pub nx: bool,
    /// Only update existing members.
    pub xx: bool,
    /// Only update when the new score is greater.
    pub gt: bool,
    /// Only update when the new score is less.
    pub lt: bool,
    /// Count changed members, not only added ones.
    pub ch: bool,
    /// Increment (one pair only); reply with the new score.
    pub incr: bool,
}

/// A parsed ZADD.
#[derive(Debug, Clone, PartialEq)]
pub struct Zadd {
    /// The flags.
    pub flags: ZaddFlags,
    /// Score-member pairs.
    pub pairs: Vec<(f64, Bytes)>,
}

/// Parses ZADD (and ZINCRBY, which is ZADD with INCR) as Redis's `zaddGenericCommand` does.
pub fn parse_zadd(args: &[Bytes], incr: bool) -> Result<Zadd, &'static str> {
    let mut flags = ZaddFlags {
        incr,
        ..Default::default()
    };
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if eq_ic(a, "nx") {
            flags.nx = true;
        } else if eq_ic(a, "xx") {
            flags.xx = true;
        } else if eq_ic(a, "ch") {
            flags.ch = true;
        } else if eq_ic(a, "incr") {
            flags.incr = true;
        } else if eq_ic(a, "gt") {
            flags.gt = true;
        } else if eq_ic(a, "lt") {
            flags.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = &args[i..];
    if rest.is_empty() || rest.len() % 2 == 1 {
        return Err(SYNTAX);
    }
    if flags.nx && flags.xx {
        return Err("ERR XX and NX options at the same time are not compatible");
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Err("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if flags.incr && rest.len() > 2 {
        return Err("ERR INCR option supports a single increment-element pair");
    }
    let mut pairs = Vec::with_capacity(rest.len() / 2);
    for p in rest.chunks_exact(2) {
        let s = parse_f64(&p[0]).map_err(OpError::message)?;
        pairs.push((s, p[1].clone()));
    }
    Ok(Zadd { flags, pairs })
}

/// What ZADD did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ZaddResult {
    /// Added and changed counts.
    Count {
        /// New members.
        added: i64,
        /// Members whose score changed.
        updated: i64,
    },
    /// INCR: the new score, or `None` when the flags stopped it.
    Incr(Option<f64>),
}

/// Runs ZADD; `NaN` from INCR is the error `resulting score is not a number (NaN)`.
pub fn op_zadd(ctx: &mut ShardCtx, key: &[u8], z: &Zadd) -> Result<ZaddResult, &'static str> {
    let limits = zset_limits(&ctx.shard.config);
    let db = ctx.db();
    let f = z.flags;
    let exists = db.get_zset(key).map_err(OpError::message)?.is_some();
    if !exists && f.xx {
        return Ok(if f.incr {
            ZaddResult::Incr(None)
        } else {
            ZaddResult::Count {
                added: 0,
                updated: 0,
            }
        });
    }
    // Redis 7.0 picks the encoding from the first member alone; later members convert the set
    // as they are added.
    let first_len = z.pairs.first().map_or(0, |(_, m)| m.len());
    let make = || Value::ZSet(ZSetValue::with_hint(1, first_len, limits));
    let Ok(mut zs) = db.modify_or_insert_with::<ZSetValue>(key, make) else {
        return Err(OpError::WrongType.message());
    };
    let (mut added, mut updated) = (0, 0);
    let mut last = None;
    let mut error = None;
    for (score, member) in &z.pairs {
        let mut score = *score;
        match zs.score(member) {
            Some(cur) => {
                if f.nx {
                    continue;
                }
                if f.incr {
                    score += cur;
                    if score.is_nan() {
                        error = Some("ERR resulting score is not a number (NaN)");
                        break;
                    }
                }
                if (f.lt && score >= cur) || (f.gt && score <= cur) {
                    continue;
                }
                last = Some(score);
                if score != cur {
                    zs.insert(member, score, limits);
                    updated += 1;
                }
            }
            None => {
                if f.xx {
                    continue;
                }
                zs.insert(member, score, limits);
                added += 1;
                last = Some(score);
            }
        }
    }
    if added + updated == 0 {
        zs.unchanged();
    }
    let empty = zs.is_empty();
    drop(zs);
    if empty {
        db.remove(key);
    }
    if let Some(e) = error {
        return Err(e);
    }
    Ok(if f.incr {
        ZaddResult::Incr(last)
    } else {
        ZaddResult::Count { added, updated }
    })
}

fn zadd_command(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out, incr: bool) {
    let z = match parse_zadd(args, incr) {
        Ok(z) => z,
        Err(e) => return out.error(e),
    };
    match op_zadd(ctx, &args[1], &z) {
        Err(e) => out.error(e),
        Ok(ZaddResult::Incr(Some(s))) => out.double(s),
        Ok(ZaddResult::Incr(None)) => out.null(),
        Ok(ZaddResult::Count { added, updated }) => {
            out.int(if z.flags.ch { added + updated } else { added })
        }
    }
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
pub(crate) fn cmd_zadd(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    zadd_command(ctx, args, out, false)
}

/// ZINCRBY key increment member
fn cmd_zincrby(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    zadd_command(ctx, args, out, true)
}

/// Removes members; returns how many existed. Deletes the key when it becomes empty.
pub fn op_zrem(ctx: &mut ShardCtx, key: &[u8], members: &[Bytes]) -> Result<i64, OpError> {
    let db = ctx.db();
    let Some(mut z) = db.get_zset_mut(key)? else {
        return Ok(0);
    };
    let mut n = 0;
    for m in members {
        n += z.remove(m).is_some() as i64;
        if z.is_empty() {
            break;
        }
    }
    if n == 0 {
        z.unchanged();
    }
    let empty = z.is_empty();
    drop(z);
    if empty {
        db.remove(key);
    }
    Ok(n)
}

/// ZREM key member [member ...]
fn cmd_zrem(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match op_zrem(ctx, &args[1], &args[2..]) {
        Ok(n) => out.int(n),
        Err(e) => out.error(e.message()),
    }
}

/// ZCARD key
fn cmd_zcard(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match read_zset(ctx.db(), &args[1]) {
        Ok(z) => out.int(z.map_or(0, |z| z.len() as i64)),
        Err(e) => out.error(e.message()),
    }
}

/// ZSCORE key member
fn cmd_zscore(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match read_zset(ctx.db(), &args[1]) {
        Err(e) => out.error(e.message()),
        Ok(z) => match z.and_then(|z| z.score(&args[2])) {
            Some(s) => out.double(s),
            None => out.null(),
        },
    }
}

/// ZMSCORE key member [member ...]
fn cmd_zmscore(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match read_zset(ctx.db(), &args[1]) {
        Err(e) => out.error(e.message()),
        Ok(z) => {
            out.array(args.len() - 2);
            for m in &args[2..] {
                match z.and_then(|z| z.score(m)) {
                    Some(s) => out.double(s),
                    None => out.null(),
                }
            }
        }
    }
}

fn rank_command(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out, rev: bool) {
    if args.len() > 4 {
        return out.error(SYNTAX);
    }
    let withscore = match args.get(3) {
        None => false,
        Some(a) if eq_ic(a, "withscore") => true,
        Some(_) => return out.error(SYNTAX),
    };
    let z = match read_zset(ctx.db(), &args[1]) {
        Err(e) => return out.error(e.message()),
        Ok(z) => z,
    };
    let found = z.and_then(|z| {
        let r = z.rank(&args[2])?;
        let s = z.at(r).map_or(0.0, |(_, s)| s);
        Some((if rev { z.len() - 1 - r } else { r }, s))
    });
    match found {
        None if withscore => out.null_array(),
        None => out.null(),
        Some((r, s)) => {
            if withscore {
                out.array(2);
                out.int(r as i64);
                out.double(s);
            } else {
                out.int(r as i64);
            }
        }
    }
}

/// ZRANK key member [WITHSCORE]
fn cmd_zrank(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    rank_command(ctx, args, out, false)
}

/// ZREVRANK key member [WITHSCORE]
fn cmd_zrevrank(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    rank_command(ctx, args, out, true)
}

/// ZCOUNT key min max
fn cmd_zcount(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let r = match parse_score_range(&args[2], &args[3]) {
        Ok(r) => r,
        Err(e) => return out.error(e),
    };
    match read_zset(ctx.db(), &args[1]) {
        Err(e) => out.error(e.message()),
        Ok(z) => out.int(z.map_or(0, |z| {
            let (lo, hi) = score_ranks(z, &r);
            (hi - lo) as i64
        })),
    }
}

/// ZLEXCOUNT key min max
fn cmd_zlexcount(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let r = match parse_lex_range(&args[2], &args[3]) {
        Ok(r) => r,
        Err(e) => return out.error(e),
    };
    match read_zset(ctx.db(), &args[1]) {
        Err(e) => out.error(e.message()),
        Ok(z) => out.int(z.map_or(0, |z| {
            let (lo, hi) = lex_ranks(z, &r);
            (hi - lo) as i64
        })),
    }
}

fn range_command(
    ctx: &mut ShardCtx,
    args: &[Bytes],
    out: &mut Out,
    kind: KindArg,
    rev: Option<bool>,
) {
    let spec = match parse_range(args, 1, false, kind, rev) {
        Ok(s) => s,
        Err(e) => return out.error(e),
    };
    match read_zset(ctx.db(), &args[1]) {
        Err(e) => out.error(e.message()),
        Ok(None) => out.array(0),
        Ok(Some(z)) => reply_members(out, &select_range(z, &spec), spec.withscores),
    }
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
fn cmd_zrange(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    range_command(ctx, args, out, KindArg::Auto, None)
}

/// ZREVRANGE key start stop [WITHSCORES]
fn cmd_zrevrange(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    range_command(ctx, args, out, KindArg::Rank, Some(true))
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
fn cmd_zrangebyscore(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    range_command(ctx, args, out, KindArg::Score, Some(false))
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
fn cmd_zrevrangebyscore(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    range_command(ctx, args, out, KindArg::Score, Some(true))
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
fn cmd_zrangebylex(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    range_command(ctx, args, out, KindArg::Lex, Some(false))
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
fn cmd_zrevrangebylex(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    range_command(ctx, args, out, KindArg::Lex, Some(true))
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
fn txn_zrangestore(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    let spec = match parse_range(args, 2, true, KindArg::Auto, None) {
        Ok(s) => s,
        Err(e) => return out.error(e),
    };
    let limits = zset_limits(keys.config());
    let pairs: Vec<(Box<[u8]>, f64)> = match keys.get(1).map(|e| &e.value) {
        None => Vec::new(),
        Some(Value::ZSet(z)) => select_range(z, &spec)
            .into_iter()
            .map(|(m, s)| (Box::from(m), s))
            .collect(),
        Some(_) => return out.error(OpError::WrongType.message()),
    };
    out.int(store_result(keys, 0, pairs, limits));
}

/// Stores `pairs` (distinct members) at key position `dst`, or deletes it when empty; returns
/// the stored size.
pub(crate) fn store_result(
    keys: &mut dyn Keys,
    dst: usize,
    pairs: Vec<(Box<[u8]>, f64)>,
    limits: ZSetLimits,
) -> i64 {
    let n = pairs.len() as i64;
    if pairs.is_empty() {
        keys.delete(dst);
    } else {
        keys.put(
            dst,
            Entry::new(Value::ZSet(ZSetValue::from_pairs(pairs, limits)), None),
        );
    }
    n
}

/// Which ZREMRANGEBY command.
enum RemRange {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// Removes a range; returns how many members went. Deletes the key when it becomes empty.
fn op_zremrange(ctx: &mut ShardCtx, key: &[u8], r: &RemRange) -> Result<i64, OpError> {
    let db = ctx.db();
    let Some(mut z) = db.get_zset_mut(key)? else {
        return Ok(0);
    };
    let (lo, hi) = match r {
        RemRange::Rank(a, b) => match rustis_storage::list::clamp_range(*a, *b, z.len()) {
            Some((s, e)) => (s, e + 1),
            None => (0, 0),
        },
        RemRange::Score(r) => score_ranks(&z, r),
        RemRange::Lex(r) => lex_ranks(&z, r),
    };
    let n = if hi > lo {
        z.remove_rank_range(lo, hi - 1)
    } else {
        0
    };
    let empty = z.is_empty();
    drop(z);
    if empty {
        db.remove(key);
    }
    Ok(n as i64)
}

fn zremrange_reply(ctx: &mut ShardCtx, key: &[u8], r: Result<RemRange, &str>, out: &mut Out) {
    match r {
        Err(e) => out.error(e),
        Ok(r) => match op_zremrange(ctx, key, &r) {
            Ok(n) => out.int(n),
            Err(e) => out.error(e.message()),
        },
    }
}

/// ZREMRANGEBYRANK key start stop
fn cmd_zremrangebyrank(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let r = match (parse_i64(&args[2]), parse_i64(&args[3])) {
        (Ok(a), Ok(b)) => Ok(RemRange::Rank(a, b)),
        _ => Err(OpError::NotInteger.message()),
    };
    zremrange_reply(ctx, &args[1], r, out)
}

/// ZREMRANGEBYSCORE key min max
fn cmd_zremrangebyscore(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let r = parse_score_range(&args[2], &args[3]).map(RemRange::Score);
    zremrange_reply(ctx, &args[1], r, out)
}

/// ZREMRANGEBYLEX key min max
fn cmd_zremrangebylex(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let r = parse_lex_range(&args[2], &args[3]).map(RemRange::Lex);
    zremrange_reply(ctx, &args[1], r, out)
}

// ---------------------------------------------------------------------------------------------
// Pops and random members.

/// Pops up to `count` members from the low (`max` false) or high end of a sorted set; deletes
/// it when it becomes empty.
pub fn pop_members(z: &mut ZSetValue, count: usize, max: bool) -> Vec<(Box<[u8]>, f64)> {
    let n = count.min(z.len());
    let popped: Vec<(Box<[u8]>, f64)> = if max {
        z.iter_from(z.len().saturating_sub(1), true)
            .take(n)
            .map(|(m, s)| (Box::from(m), s))
            .collect()
    } else {
        z.iter_from(0, false)
            .take(n)
            .map(|(m, s)| (Box::from(m), s))
            .collect()
    };
    if n > 0 {
        if max {
            let len = z.len();
            z.remove_rank_range(len - n, len - 1);
        } else {
            z.remove_rank_range(0, n - 1);
        }
    }
    popped
}

fn pop_command(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out, max: bool) {
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
    let key = &args[1];
    let db = ctx.db();
    let z = match db.get_zset_mut(key) {
        Err(e) => return out.error(e.message()),
        Ok(None) => return out.array(0),
        Ok(Some(z)) => z,
    };
    let mut z = z;
    let popped = pop_members(&mut z, count.unwrap_or(1), max);
    let empty = z.is_empty();
    drop(z);
    if empty {
        db.remove(key);
    }
    let items: Vec<(&[u8], f64)> = popped.iter().map(|(m, s)| (&m[..], *s)).collect();
    if count.is_none() && out.resp3 {
        // A single pop without a count is a flat [member, score] even in RESP3.
        out.array(items.len() * 2);
        for (m, s) in &items {
            out.bulk(m);
            out.double(*s);
        }
    } else {
        reply_members(out, &items, true);
    }
}

/// ZPOPMIN key [count]
fn cmd_zpopmin(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    pop_command(ctx, args, out, false)
}

/// ZPOPMAX key [count]
fn cmd_zpopmax(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    pop_command(ctx, args, out, true)
}

/// Key positions of `ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]`.
fn keys_zmpop(args: &[Bytes]) -> Result<Vec<usize>, String> {
    numkeys_positions(args, 1, "ERR numkeys should be greater than 0", true)
}

/// The parsed tail of ZMPOP and BZMPOP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mpop {
    /// Argument positions of the keys.
    pub keys: Vec<usize>,
    /// Pop the highest scores (`MAX`) rather than the lowest.
    pub max: bool,
    /// How many to pop (1 without COUNT).
    pub count: usize,
}

/// Parses `numkeys key [key ...] MIN|MAX [COUNT count]` whose `numkeys` is at `at`, with
/// Redis 7.0's errors and order of checks.
pub fn parse_mpop(args: &[Bytes], at: usize) -> Result<Mpop, String> {
    let keys = numkeys_positions(args, at, "ERR numkeys should be greater than 0", true)?;
    let where_idx = at + 1 + keys.len();
    let max = match args.get(where_idx) {
        Some(a) if eq_ic(a, "min") => false,
        Some(a) if eq_ic(a, "max") => true,
        _ => return Err(SYNTAX.into()),
    };
    let mut count: Option<usize> = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && eq_ic(&args[j], "count") && j + 1 < args.len() {
            match parse_i64(&args[j + 1]) {
                Ok(c) if c >= 1 => count = Some(c as usize),
                _ => return Err("ERR count should be greater than 0".into()),
            }
            j += 2;
        } else {
            return Err(SYNTAX.into());
        }
    }
    Ok(Mpop {
        keys,
        max,
        count: count.unwrap_or(1),
    })
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
fn txn_zmpop(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    match parse_mpop(args, 1) {
        Ok(p) => zmpop_keys(keys, p.max, p.count, out),
        Err(e) => out.error(&e),
    }
}

/// Pops from the first non-empty sorted set among `keys` and replies `[key, [[m, s], ...]]`,
/// or a null array when all are empty. Shared with BZMPOP.
pub fn zmpop_keys(keys: &mut dyn Keys, max: bool, count: usize, out: &mut Out) {
    for i in 0..keys.len() {
        match keys.get(i).map(|e| &e.value) {
            None => continue,
            Some(Value::ZSet(_)) => {}
            Some(_) => return out.error(OpError::WrongType.message()),
        }
        let Some(mut z) = get_mut_as::<ZSetValue>(keys, i) else {
            continue;
        };
        let popped = pop_members(&mut z, count, max);
        let empty = z.is_empty();
        drop(z);
        if empty {
            keys.delete(i);
        }
        out.array(2);
        out.bulk(keys.key(i));
        out.array(popped.len());
        for (m, s) in &popped {
            out.array(2);
            out.bulk(m);
            out.double(*s);
        }
        return;
    }
    out.null_array();
}

/// ZRANDMEMBER key [count [WITHSCORES]]
fn cmd_zrandmember(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let (count, withscores) = match parse_rand_args(args) {
        Ok(c) => c,
        Err(e) => return out.error(e),
    };
    let shard = &mut *ctx.shard;
    let now = shard.now();
    let db = &mut shard.dbs[ctx.db];
    db.set_now(now);
    let z = match read_zset(db, &args[1]) {
        Err(e) => return out.error(e.message()),
        Ok(z) => z,
    };
    let Some((n, unique)) = count else {
        match z.and_then(|z| z.at(shard.rng.gen_range(0..z.len()))) {
            Some((m, _)) => out.bulk(m),
            None => out.null(),
        }
        return;
    };
    let z = match z {
        Some(z) if n > 0 => z,
        _ => return out.array(0),
    };
    let picks = random_positions(&mut shard.rng, z.len(), n, unique);
    let items: Vec<(&[u8], f64)> = if unique && picks.len() == z.len() {
        // The whole set, highest first, as Redis 7.0 replies.
        z.iter_from(z.len() - 1, true).collect()
    } else {
        picks.iter().filter_map(|&i| z.at(i)).collect()
    };
    reply_members(out, &items, withscores);
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
fn cmd_zscan(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let cursor = match parse_cursor(&args[2]) {
        Some(c) => c,
        None => return out.error(INVALID_CURSOR),
    };
    let z = match read_zset(ctx.db(), &args[1]) {
        Err(e) => return out.error(e.message()),
        Ok(None) => return reply_scan(out, 0, &[]),
        Ok(Some(z)) => z,
    };
    let opts = match parse_scan_opts(&args[3..]) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let mut items = Vec::new();
    let next = z.scan(cursor, opts.count, |m, s| {
        if opts
            .pattern
            .as_ref()
            .is_none_or(|p| glob_match(p, m, false))
        {
            items.push(m.to_vec());
            items.push(rustis_resp::encode::fmt_double(s).into_bytes());
        }
    });
    reply_scan(out, next, &items);
}

// ---------------------------------------------------------------------------------------------
// Blocking pops. The runtime blocks them (see `crate::blocking`); their `run` is the
// non-blocking form, used where blocking is impossible (MULTI), which replies as a timeout.

/// BZPOPMIN key [key ...] timeout
static BZPOPMIN: BlockingOps = BlockingOps {
    wait_keys: |a| (1..a.len() - 1).collect(),
    timeout_ms: |a| timeout_at(a, -1),
    serve: |sc, a, pos, out| serve_zpop(sc, a, pos, false, None, out),
    timeout_reply: Out::null_array,
    blocks_if: None,
    prepare: None,
    whole_first: None,
};

/// BZPOPMAX key [key ...] timeout
static BZPOPMAX: BlockingOps = BlockingOps {
    wait_keys: |a| (1..a.len() - 1).collect(),
    timeout_ms: |a| timeout_at(a, -1),
    serve: |sc, a, pos, out| serve_zpop(sc, a, pos, true, None, out),
    timeout_reply: Out::null_array,
    blocks_if: None,
    prepare: None,
    whole_first: None,
};

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
static BZMPOP: BlockingOps = BlockingOps {
    wait_keys: |a| parse_mpop(a, 2).map(|p| p.keys).unwrap_or_default(),
    timeout_ms: |a| timeout_at(a, 1),
    serve: |sc, a, pos, out| match parse_mpop(a, 2) {
        Ok(p) => serve_zpop(sc, a, pos, p.max, Some(p.count), out),
        Err(e) => {
            if !sc.claim() {
                return Serve::Lost;
            }
            out.error(&e);
            Serve::Done
        }
    },
    timeout_reply: Out::null_array,
    blocks_if: None,
    prepare: None,
    whole_first: None,
};

/// Serves a BZPOPMIN/BZPOPMAX (`count == None`: replies `[key, member, score]`) or a BZMPOP
/// (`[key, [[member, score], ...]]`) from the sorted set at argument `pos`.
fn serve_zpop(
    sc: &mut ServeCtx,
    args: &[Bytes],
    pos: usize,
    max: bool,
    count: Option<usize>,
    out: &mut Out,
) -> Serve {
    let key = &args[pos];
    let ready = sc
        .ctx
        .db()
        .get_zset(key)
        .map(|v| v.is_some_and(|v| !v.is_empty()));
    if let Some(early) = sc.claim_if_ready(ready, out) {
        return early;
    }
    let db = sc.ctx.db();
    let popped = db.get_zset_mut(key).ok().flatten().map(|mut z| {
        let p = pop_members(&mut z, count.unwrap_or(1), max);
        (p, z.is_empty())
    });
    let popped = match popped {
        Some((p, empty)) => {
            if empty {
                db.remove(key);
            }
            p
        }
        None => Vec::new(),
    };
    reply_bzpop(out, key, &popped, count.is_some());
    Serve::Done
}

/// `[key, member, score]` for BZPOPMIN/BZPOPMAX, `[key, [[member, score], ...]]` for BZMPOP.
fn reply_bzpop(out: &mut Out, key: &[u8], popped: &[(Box<[u8]>, f64)], mpop: bool) {
    if mpop {
        out.array(2);
        out.bulk(key);
        out.array(popped.len());
        for (m, s) in popped {
            out.array(2);
            out.bulk(m);
            out.double(*s);
        }
    } else if let Some((m, s)) = popped.first() {
        out.array(3);
        out.bulk(key);
        out.bulk(m);
        out.double(*s);
    } else {
        out.null_array();
    }
}

fn bzpop_now(keys: &mut dyn Keys, out: &mut Out, max: bool) {
    for i in 0..keys.len() {
        match keys.get(i).map(|e| &e.value) {
            None => continue,
            Some(Value::ZSet(_)) => {}
            Some(_) => return out.error(OpError::WrongType.message()),
        }
        let Some(mut z) = get_mut_as::<ZSetValue>(keys, i) else {
            continue;
        };
        let popped = pop_members(&mut z, 1, max);
        let empty = z.is_empty();
        drop(z);
        if empty {
            keys.delete(i);
        }
        let key = keys.key(i).to_vec();
        return reply_bzpop(out, &key, &popped, false);
    }
    out.null_array();
}

/// BZPOPMIN key [key ...] timeout, when it cannot block (MULTI): pops or replies as a timeout.
fn txn_bzpopmin(keys: &mut dyn Keys, _args: &[Bytes], out: &mut Out) {
    bzpop_now(keys, out, false)
}

/// BZPOPMAX key [key ...] timeout, when it cannot block.
fn txn_bzpopmax(keys: &mut dyn Keys, _args: &[Bytes], out: &mut Out) {
    bzpop_now(keys, out, true)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count], when it cannot block.
fn txn_bzmpop(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    match parse_mpop(args, 2) {
        Ok(p) => zmpop_keys(keys, p.max, p.count, out),
        Err(e) => out.error(&e),
    }
}

// ---------------------------------------------------------------------------------------------
// Set operations.

/// Key positions of a `numkeys key [key ...]` list whose count is at `at`; `zmpop` forms need
/// one more argument after the keys.
fn numkeys_positions(
    args: &[Bytes],
    at: usize,
    bad_count: &str,
    needs_where: bool,
) -> Result<Vec<usize>, String> {
    let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
    let Some(arg) = args.get(at) else {
        return Err(rustis_resp::errors::wrong_args(&name));
    };
    let n = match parse_i64(arg) {
        Ok(n) if n >= 1 => n as usize,
        Ok(_) if !needs_where => {
            return Err(format!(
                "ERR at least 1 input key is needed for '{name}' command"
            ))
        }
        Err(_) if !needs_where => return Err(OpError::NotInteger.message().to_string()),
        _ => return Err(bad_count.to_string()),
    };
    let avail = args.len().saturating_sub(at + 1 + needs_where as usize);
    if n > avail || (needs_where && args.len() < at + 2 + n) {
        return Err(SYNTAX.to_string());
    }
    Ok((at + 1..at + 1 + n).collect())
}

fn keys_numkeys_at_1(args: &[Bytes]) -> Result<Vec<usize>, String> {
    numkeys_positions(args, 1, "", false)
}

fn keys_dst_numkeys(args: &[Bytes]) -> Result<Vec<usize>, String> {
    let mut v = numkeys_positions(args, 2, "", false)?;
    v.insert(0, 1);
    Ok(v)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(target: &mut f64, v: f64, agg: Aggregate) {
    match agg {
        Aggregate::Sum => {
            *target += v;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => *target = target.min(v),
        Aggregate::Max => *target = target.max(v),
    }
}

/// A source of a set operation: a sorted set, or a plain set whose members score 1.
enum Source<'a> {
    Z(&'a ZSetValue),
    S(&'a SetValue),
    Empty,
}

impl Source<'_> {
    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Source::Z(z) => z.score(m),
            Source::S(s) => s.contains(m).then_some(1.0),
            Source::Empty => None,
        }
    }

    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Source::Z(z) => z.iter_from(0, false).for_each(|(m, s)| f(m, s)),
            Source::S(s) => s.iter().for_each(|m| f(m, 1.0)),
            Source::Empty => {}
        }
    }
}

/// Options after the keys of a set operation.
struct SetOpOpts {
    weights: Vec<f64>,
    agg: Aggregate,
    withscores: bool,
    limit: usize,
}

fn parse_setop_opts(
    args: &[Bytes],
    n: usize,
    op: SetOp,
    store: bool,
    card: bool,
) -> Result<SetOpOpts, &'static str> {
    let mut o = SetOpOpts {
        weights: vec![1.0; n],
        agg: Aggregate::Sum,
        withscores: false,
        limit: 0,
    };
    let mut j = 0;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = &args[j];
        if op != SetOp::Diff && !card && remaining > n && eq_ic(a, "weights") {
            for i in 0..n {
                o.weights[i] =
                    parse_f64(&args[j + 1 + i]).map_err(|_| "ERR weight value is not a float")?;
            }
            j += 1 + n;
        } else if op != SetOp::Diff && !card && remaining >= 2 && eq_ic(a, "aggregate") {
            let v = &args[j + 1];
            o.agg = if eq_ic(v, "sum") {
                Aggregate::Sum
            } else if eq_ic(v, "min") {
                Aggregate::Min
            } else if eq_ic(v, "max") {
                Aggregate::Max
            } else {
                return Err(SYNTAX);
            };
            j += 2;
        } else if !store && !card && eq_ic(a, "withscores") {
            o.withscores = true;
            j += 1;
        } else if card && remaining >= 2 && eq_ic(a, "limit") {
            match parse_i64(&args[j + 1]) {
                Ok(l) if l >= 0 => o.limit = l as usize,
                _ => return Err("ERR LIMIT can't be negative"),
            }
            j += 2;
        } else {
            return Err(SYNTAX);
        }
    }
    Ok(o)
}

/// Runs `f` on the source at key position `i` (a missing key, or one of another type, is empty;
/// types are checked beforehand). Sources are read one at a time, in place, so that no input is
/// copied: `Keys` lends one entry at a time.
fn with_source<R>(keys: &mut dyn Keys, i: usize, f: impl FnOnce(&Source) -> R) -> R {
    let src = match keys.get(i).map(|e| &e.value) {
        Some(Value::ZSet(z)) => Source::Z(z),
        Some(Value::Set(s)) => Source::S(s),
        _ => Source::Empty,
    };
    f(&src)
}

/// Computes a set operation over the sources at key positions `srcs` (with their sizes and
/// weights); the result's members are distinct, in no particular order.
fn compute(
    keys: &mut dyn Keys,
    srcs: &[usize],
    lens: &[usize],
    o: &SetOpOpts,
    op: SetOp,
) -> Vec<(Box<[u8]>, f64)> {
    let weighted = |w: f64, s: f64| {
        let v = w * s;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    // Smallest first, as Redis does, for speed (and the same summing order).
    let mut order: Vec<usize> = (0..srcs.len()).collect();
    if op != SetOp::Diff {
        order.sort_by_key(|&i| lens[i]);
    }
    let mut result: Vec<(Box<[u8]>, f64)> = Vec::new();
    match op {
        SetOp::Inter => {
            if lens[order[0]] == 0 {
                return result;
            }
            let first = order[0];
            with_source(keys, srcs[first], |s| {
                s.for_each(|m, sc| result.push((Box::from(m), weighted(o.weights[first], sc))))
            });
            for &j in &order[1..] {
                with_source(keys, srcs[j], |s| {
                    result.retain_mut(|(m, score)| match s.score(m) {
                        Some(v) => {
                            aggregate(score, weighted(o.weights[j], v), o.agg);
                            true
                        }
                        None => false,
                    })
                });
            }
        }
        SetOp::Union => {
            let mut acc: hashbrown::HashMap<Box<[u8]>, f64> = hashbrown::HashMap::new();
            for &i in &order {
                with_source(keys, srcs[i], |s| {
                    s.for_each(|m, sc| {
                        let v = weighted(o.weights[i], sc);
                        match acc.get_mut(m) {
                            Some(t) => aggregate(t, v, o.agg),
                            None => {
                                acc.insert(Box::from(m), v);
                            }
                        }
                    })
                });
            }
            result = acc.into_iter().collect();
        }
        SetOp::Diff => {
            with_source(keys, srcs[0], |s| {
                s.for_each(|m, sc| result.push((Box::from(m), sc)))
            });
            for &j in &srcs[1..] {
                if result.is_empty() {
                    break;
                }
                with_source(keys, j, |s| result.retain(|(m, _)| s.score(m).is_none()));
            }
        }
    }
    result
}

fn setop(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out, op: SetOp, store: bool, card: bool) {
    let first = store as usize;
    let srcs: Vec<usize> = (first..keys.len()).collect();
    let n = srcs.len();
    // Every input must be a sorted set or a set; this is checked before the options, as Redis.
    let mut lens = Vec::with_capacity(n);
    for &i in &srcs {
        match keys.get(i).map(|e| &e.value) {
            None => lens.push(0),
            Some(Value::ZSet(z)) => lens.push(z.len()),
            Some(Value::Set(s)) => lens.push(s.len()),
            Some(_) => return out.error(OpError::WrongType.message()),
        }
    }
    let opts_at = if store { 3 + n } else { 2 + n };
    let o = match parse_setop_opts(&args[opts_at.min(args.len())..], n, op, store, card) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let mut result = compute(keys, &srcs, &lens, &o, op);
    if card {
        let c = if o.limit > 0 {
            result.len().min(o.limit)
        } else {
            result.len()
        };
        return out.int(c as i64);
    }
    if store {
        let limits = zset_limits(keys.config());
        return out.int(store_result(keys, 0, result, limits));
    }
    result.sort_by(|a, b| rustis_storage::zset::cmp_entry(a.1, &a.0, b.1, &b.0));
    let items: Vec<(&[u8], f64)> = result.iter().map(|(m, s)| (&m[..], *s)).collect();
    reply_members(out, &items, o.withscores);
}

/// ZUNION numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
fn txn_zunion(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    setop(keys, args, out, SetOp::Union, false, false)
}

/// ZINTER numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
fn txn_zinter(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    setop(keys, args, out, SetOp::Inter, false, false)
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
fn txn_zdiff(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    setop(keys, args, out, SetOp::Diff, false, false)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
fn txn_zintercard(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    setop(keys, args, out, SetOp::Inter, false, true)
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]
fn txn_zunionstore(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    setop(keys, args, out, SetOp::Union, true, false)
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]
fn txn_zinterstore(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    setop(keys, args, out, SetOp::Inter, true, false)
}

/// ZDIFFSTORE destination numkeys key [key ...]
fn txn_zdiffstore(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    setop(keys, args, out, SetOp::Diff, true, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::txn::LocalKeys;
    use rustis_storage::Shard;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn args(s: &str) -> Vec<Bytes> {
        s.split(' ').map(b).collect()
    }

    #[test]
    fn scores_parse_like_strtod() {
        let r = parse_score_range(b"(1", b"+inf").unwrap();
        assert!(r.min.exclusive && r.min.value == 1.0 && r.max.value == f64::INFINITY);
        assert_eq!(parse_score_range(b"(", b" 2").unwrap().min.value, 0.0);
        assert!(parse_score_range(b"x", b"1").is_err());
        assert!(parse_score_range(b"nan", b"1").is_err());
        assert!(parse_lex_range(&b("a"), &b("+")).is_err());
    }

    #[test]
    fn zadd_flags_follow_redis() {
        assert!(parse_zadd(&args("ZADD z NX XX 1 a"), false).is_err());
        assert!(parse_zadd(&args("ZADD z 1 a 2"), false).is_err());
        assert_eq!(
            parse_zadd(&args("ZINCRBY z nx a"), true),
            Err(SYNTAX),
            "ZINCRBY reads options like ZADD"
        );
        let mut shard = Shard::new(0, 1, 1);
        let mut ctx = ShardCtx::new(&mut shard, 0);
        let z = parse_zadd(&args("ZADD z 1 a 2 b"), false).unwrap();
        assert_eq!(
            op_zadd(&mut ctx, b"z", &z),
            Ok(ZaddResult::Count {
                added: 2,
                updated: 0
            })
        );
        let z = parse_zadd(&args("ZADD z GT CH 0 a 5 b 1 c"), false).unwrap();
        assert_eq!(
            op_zadd(&mut ctx, b"z", &z),
            Ok(ZaddResult::Count {
                added: 1,
                updated: 1
            })
        );
        let z = parse_zadd(&args("ZADD z INCR -inf b"), false).unwrap();
        assert_eq!(
            op_zadd(&mut ctx, b"z", &z),
            Ok(ZaddResult::Incr(Some(f64::NEG_INFINITY)))
        );
        let z = parse_zadd(&args("ZADD z INCR inf b"), false).unwrap();
        assert!(op_zadd(&mut ctx, b"z", &z).is_err());
    }

    #[test]
    fn ranges_select_like_redis() {
        let mut z = ZSetValue::new();
        for (i, m) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            z.insert(m.as_bytes(), (i + 1) as f64, ZSetLimits::default());
        }
        let names = |v: Vec<(&[u8], f64)>| {
            v.into_iter()
                .map(|(m, _)| String::from_utf8_lossy(m).into_owned())
                .collect::<Vec<_>>()
                .join(",")
        };
        let spec = parse_range(
            &args("ZRANGE z (1 5 BYSCORE LIMIT 1 2"),
            1,
            false,
            KindArg::Auto,
            None,
        )
        .unwrap();
        assert_eq!(names(select_range(&z, &spec)), "c,d");
        let spec = parse_range(
            &args("ZRANGE z 5 (1 BYSCORE REV"),
            1,
            false,
            KindArg::Auto,
            None,
        )
        .unwrap();
        assert_eq!(names(select_range(&z, &spec)), "e,d,c,b");
        let spec =
            parse_range(&args("ZRANGE z [b (d BYLEX"), 1, false, KindArg::Auto, None).unwrap();
        assert_eq!(names(select_range(&z, &spec)), "b,c");
        let spec = parse_range(&args("ZRANGE z 0 1 REV"), 1, false, KindArg::Auto, None).unwrap();
        assert_eq!(names(select_range(&z, &spec)), "e,d");
        assert!(parse_range(
            &args("ZRANGE z 0 1 LIMIT 0 1"),
            1,
            false,
            KindArg::Auto,
            None
        )
        .is_err());
        let spec = parse_range(
            &args("ZRANGE z -inf +inf BYSCORE LIMIT -1 2"),
            1,
            false,
            KindArg::Auto,
            None,
        )
        .unwrap();
        assert!(select_range(&z, &spec).is_empty());
    }

    #[test]
    fn removals_and_pops_delete_the_emptied_key() {
        let mut shard = Shard::new(0, 1, 1);
        let mut ctx = ShardCtx::new(&mut shard, 0);
        let z = parse_zadd(&args("ZADD z 1 a 2 b 3 c 4 d"), false).unwrap();
        op_zadd(&mut ctx, b"z", &z).unwrap();
        assert_eq!(op_zrem(&mut ctx, b"z", &[b("a"), b("zz")]), Ok(1));
        let r = RemRange::Score(parse_score_range(b"(2", b"+inf").unwrap());
        assert_eq!(op_zremrange(&mut ctx, b"z", &r), Ok(2));
        assert_eq!(op_zremrange(&mut ctx, b"z", &RemRange::Rank(5, 9)), Ok(0));
        let mut zs = ctx.db().get_zset_mut(b"z").unwrap().unwrap();
        assert_eq!(
            pop_members(&mut zs, 5, true),
            vec![(Box::from(&b"b"[..]), 2.0)]
        );
        drop(zs);
        assert_eq!(op_zrem(&mut ctx, b"nokey", &[b("a")]), Ok(0));
        let r = RemRange::Lex(parse_lex_range(&b("-"), &b("+")).unwrap());
        assert_eq!(op_zremrange(&mut ctx, b"z", &r), Ok(0));
        op_zadd(
            &mut ctx,
            b"y",
            &parse_zadd(&args("ZADD y 0 a 0 b"), false).unwrap(),
        )
        .unwrap();
        assert_eq!(op_zremrange(&mut ctx, b"y", &r), Ok(2));
        assert!(!ctx.db().contains(b"y"));
    }

    #[test]
    fn set_operations_weigh_and_aggregate() {
        let mut shard = Shard::new(0, 1, 1);
        {
            let mut ctx = ShardCtx::new(&mut shard, 0);
            op_zadd(
                &mut ctx,
                b"a",
                &parse_zadd(&args("ZADD a 1 x 2 y"), false).unwrap(),
            )
            .unwrap();
            op_zadd(
                &mut ctx,
                b"b",
                &parse_zadd(&args("ZADD b 10 y 20 z"), false).unwrap(),
            )
            .unwrap();
        }
        let a = args("ZUNIONSTORE d 2 a b WEIGHTS 2 1 AGGREGATE MAX");
        let mut keys = LocalKeys::new(&mut shard, 0, vec![b("d"), b("a"), b("b")]);
        let mut out = Out::new(false);
        txn_zunionstore(&mut keys, &a, &mut out);
        assert_eq!(&out.buf[..], b":3\r\n");
        let mut ctx = ShardCtx::new(&mut shard, 0);
        let d = ctx.db().get_zset(b"d").unwrap().unwrap();
        assert_eq!(d.score(b"x"), Some(2.0));
        assert_eq!(d.score(b"y"), Some(10.0));
        assert_eq!(
            numkeys_positions(&args("ZUNION 0 a"), 1, "", false),
            Err("ERR at least 1 input key is needed for 'zunion' command".into())
        );
        assert_eq!(
            numkeys_positions(&args("ZUNION 3 a"), 1, "", false),
            Err(SYNTAX.into())
        );
        assert_eq!(keys_zmpop(&args("ZMPOP 2 a MIN")), Err(SYNTAX.into()));
        assert_eq!(keys_zmpop(&args("ZMPOP 1 a MIN")), Ok(vec![2]));
        // COMMAND GETKEYS may ask with too few arguments: an error, never a panic.
        assert!(keys_zmpop(&args("ZMPOP 1")).is_err());
        assert!(keys_dst_numkeys(&args("ZUNIONSTORE d")).is_err());
        assert!(keys_numkeys_at_1(&args("ZUNION")).is_err());
    }
}
