//! Hash commands: HSET, HSETNX, HMSET, HGET, HMGET, HDEL, HLEN, HSTRLEN, HEXISTS, HKEYS, HVALS,
//! HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD, HSCAN.
//!
//! Every hash command has one key and runs on the shard that owns it. The SCAN option parsing
//! here is shared with ZSCAN.

use bytes::Bytes;
use rand::Rng;
use rustis_resp::errors::{wrong_args, SYNTAX};
use rustis_resp::Out;
use rustis_storage::hash::{HashLimits, HashValue};
use rustis_storage::{Db, OpError, ShardConfig};

use crate::args::{eq_ic, parse_cursor, parse_i64, parse_long_double, INVALID_CURSOR};
use crate::ctx::ShardCtx;
use crate::glob::glob_match;
use crate::longdouble::LongDouble;
use crate::registry::{Binding, Registry, Run};

/// Registers the family.
pub fn register(r: &mut Registry) {
    let rows = [
        Binding::new("hset", Run::Shard(cmd_hset)).precheck(pairs_check),
        Binding::new("hsetnx", Run::Shard(cmd_hsetnx)),
        Binding::new("hmset", Run::Shard(cmd_hmset)).precheck(pairs_check),
        Binding::new("hget", Run::Shard(cmd_hget)),
        Binding::new("hmget", Run::Shard(cmd_hmget)),
        Binding::new("hdel", Run::Shard(cmd_hdel)),
        Binding::new("hlen", Run::Shard(cmd_hlen)),
        Binding::new("hstrlen", Run::Shard(cmd_hstrlen)),
        Binding::new("hexists", Run::Shard(cmd_hexists)),
        Binding::new("hkeys", Run::Shard(cmd_hkeys)),
        Binding::new("hvals", Run::Shard(cmd_hvals)),
        Binding::new("hgetall", Run::Shard(cmd_hgetall)),
        Binding::new("hincrby", Run::Shard(cmd_hincrby)),
        Binding::new("hincrbyfloat", Run::Shard(cmd_hincrbyfloat)),
        Binding::new("hrandfield", Run::Shard(cmd_hrandfield)),
        Binding::new("hscan", Run::Shard(cmd_hscan)),
    ];
    for row in rows {
        r.add(row);
    }
}

/// HSET and HMSET take field-value pairs: an odd count is an arity error.
fn pairs_check(args: &[Bytes]) -> Result<(), String> {
    if args.len().is_multiple_of(2) {
        return Ok(());
    }
    let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
    Err(wrong_args(&name))
}

/// The hash encoding limits of a shard's config.
pub fn hash_limits(cfg: &ShardConfig) -> HashLimits {
    HashLimits {
        max_entries: cfg.hash_max_listpack_entries,
        max_value: cfg.hash_max_listpack_value,
    }
}

/// The errors of the hash commands that have no [`OpError`] of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashError {
    /// A shared error.
    Op(OpError),
    /// HINCRBY on a field that is not an integer.
    ValueNotInteger,
    /// HINCRBYFLOAT on a field that is not a float.
    ValueNotFloat,
    /// HINCRBYFLOAT with an infinite increment.
    IncrNanOrInfinity,
}

impl HashError {
    /// Redis's text for the error.
    pub fn message(self) -> &'static str {
        match self {
            HashError::Op(e) => e.message(),
            HashError::ValueNotInteger => "ERR hash value is not an integer",
            HashError::ValueNotFloat => "ERR hash value is not a float",
            HashError::IncrNanOrInfinity => "ERR value is NaN or Infinity",
        }
    }
}

impl From<OpError> for HashError {
    fn from(e: OpError) -> Self {
        HashError::Op(e)
    }
}

fn split_ctx<'a>(ctx: &'a mut ShardCtx) -> (&'a mut Db, HashLimits) {
    let limits = hash_limits(&ctx.shard.config);
    (ctx.db(), limits)
}

/// Looks a hash up for a read command, counting a keyspace hit or miss for INFO as Redis's
/// `lookupKeyRead` does (write commands do not count).
pub fn read_hash<'a>(db: &'a mut Db, key: &[u8]) -> Result<Option<&'a HashValue>, OpError> {
    let hit = db.contains(key);
    db.count_lookup(hit);
    db.get_hash(key)
}

/// Sets field-value pairs; returns how many fields were new.
pub fn op_hset(ctx: &mut ShardCtx, key: &[u8], pairs: &[Bytes]) -> Result<i64, OpError> {
    let (db, limits) = split_ctx(ctx);
    let mut h = db.hash_or_create(key)?;
    h.set_event("hset");
    let mut added = 0;
    for p in pairs.chunks_exact(2) {
        added += h.set(&p[0], &p[1], limits) as i64;
    }
    Ok(added)
}

/// HSET key field value [field value ...]
fn cmd_hset(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match op_hset(ctx, &args[1], &args[2..]) {
        Ok(n) => out.int(n),
        Err(e) => out.error(e.message()),
    }
}

/// HMSET key field value [field value ...]
fn cmd_hmset(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match op_hset(ctx, &args[1], &args[2..]) {
        Ok(_) => out.ok(),
        Err(e) => out.error(e.message()),
    }
}

/// Sets a field only if it does not exist; true if it was set.
pub fn op_hsetnx(
    ctx: &mut ShardCtx,
    key: &[u8],
    field: &[u8],
    value: &[u8],
) -> Result<bool, OpError> {
    let (db, limits) = split_ctx(ctx);
    if let Some(h) = db.get_hash(key)? {
        if h.contains(field) {
            return Ok(false);
        }
    }
    Ok(db.hash_or_create(key)?.set(field, value, limits))
}

/// HSETNX key field value
fn cmd_hsetnx(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match op_hsetnx(ctx, &args[1], &args[2], &args[3]) {
        Ok(b) => out.int(b as i64),
        Err(e) => out.error(e.message()),
    }
}

/// HGET key field
fn cmd_hget(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match read_hash(ctx.db(), &args[1]) {
        Err(e) => out.error(e.message()),
        Ok(h) => match h.and_then(|h| h.get(&args[2])) {
            Some(v) => out.bulk(v),
            None => out.null(),
        },
    }
}

/// HMGET key field [field ...]
fn cmd_hmget(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match read_hash(ctx.db(), &args[1]) {
        Err(e) => out.error(e.message()),
        Ok(h) => {
            out.array(args.len() - 2);
            for f in &args[2..] {
                match h.and_then(|h| h.get(f)) {
                    Some(v) => out.bulk(v),
                    None => out.null(),
                }
            }
        }
    }
}

/// Deletes fields; returns how many existed. Deletes the key when the hash becomes empty.
pub fn op_hdel(ctx: &mut ShardCtx, key: &[u8], fields: &[Bytes]) -> Result<i64, OpError> {
    let db = ctx.db();
    let Some(mut h) = db.get_hash_mut(key)? else {
        return Ok(0);
    };
    let mut n = 0;
    for f in fields {
        n += h.remove(f) as i64;
        if h.is_empty() {
            break;
        }
    }
    if n == 0 {
        h.unchanged();
    }
    let empty = h.is_empty();
    drop(h);
    if empty {
        db.remove(key);
    }
    Ok(n)
}

/// HDEL key field [field ...]
fn cmd_hdel(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match op_hdel(ctx, &args[1], &args[2..]) {
        Ok(n) => out.int(n),
        Err(e) => out.error(e.message()),
    }
}

/// HLEN key
fn cmd_hlen(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match read_hash(ctx.db(), &args[1]) {
        Err(e) => out.error(e.message()),
        Ok(h) => out.int(h.map_or(0, |h| h.len() as i64)),
    }
}

/// HSTRLEN key field
fn cmd_hstrlen(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match read_hash(ctx.db(), &args[1]) {
        Err(e) => out.error(e.message()),
        Ok(h) => out.int(
            h.and_then(|h| h.get(&args[2]))
                .map_or(0, |v| v.len() as i64),
        ),
    }
}

/// HEXISTS key field
fn cmd_hexists(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match read_hash(ctx.db(), &args[1]) {
        Err(e) => out.error(e.message()),
        Ok(h) => out.int(h.is_some_and(|h| h.contains(&args[2])) as i64),
    }
}

/// What HKEYS, HVALS and HGETALL return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Keys,
    Vals,
    All,
}

fn reply_all(ctx: &mut ShardCtx, key: &[u8], part: Part, out: &mut Out) {
    let h = match read_hash(ctx.db(), key) {
        Err(e) => return out.error(e.message()),
        Ok(h) => h,
    };
    let n = h.map_or(0, HashValue::len);
    match part {
        Part::All => out.map(n),
        _ => out.array(n),
    }
    for (f, v) in h.into_iter().flat_map(HashValue::iter) {
        if part != Part::Vals {
            out.bulk(f);
        }
        if part != Part::Keys {
            out.bulk(v);
        }
    }
}

/// HKEYS key
fn cmd_hkeys(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    reply_all(ctx, &args[1], Part::Keys, out)
}

/// HVALS key
fn cmd_hvals(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    reply_all(ctx, &args[1], Part::Vals, out)
}

/// HGETALL key
fn cmd_hgetall(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    reply_all(ctx, &args[1], Part::All, out)
}

/// Adds `incr` to an integer field (0 if missing); returns the new value.
pub fn op_hincrby(
    ctx: &mut ShardCtx,
    key: &[u8],
    field: &[u8],
    incr: i64,
) -> Result<i64, HashError> {
    let (db, limits) = split_ctx(ctx);
    let cur = match db.get_hash(key)?.and_then(|h| h.get(field)) {
        None => 0,
        Some(v) => {
            rustis_storage::string::parse_canonical_i64(v).ok_or(HashError::ValueNotInteger)?
        }
    };
    let new = cur
        .checked_add(incr)
        .ok_or(HashError::Op(OpError::Overflow))?;
    let mut buf = itoa::Buffer::new();
    db.hash_or_create(key)?
        .set(field, buf.format(new).as_bytes(), limits);
    Ok(new)
}

/// HINCRBY key field increment
fn cmd_hincrby(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let incr = match parse_i64(&args[3]) {
        Ok(n) => n,
        Err(e) => return out.error(e.message()),
    };
    match op_hincrby(ctx, &args[1], &args[2], incr) {
        Ok(n) => out.int(n),
        Err(e) => out.error(e.message()),
    }
}

/// Adds `incr` to a float field (0 if missing) in 80-bit long double precision, as Redis 7.0
/// does; returns the new text.
pub fn op_hincrbyfloat(
    ctx: &mut ShardCtx,
    key: &[u8],
    field: &[u8],
    incr: &[u8],
) -> Result<Vec<u8>, HashError> {
    let by = parse_long_double(incr).map_err(HashError::Op)?;
    if !by.is_finite() {
        return Err(HashError::IncrNanOrInfinity);
    }
    let (db, limits) = split_ctx(ctx);
    let cur = match db.get_hash(key)?.and_then(|h| h.get(field)) {
        None => LongDouble::ZERO,
        Some(v) => parse_long_double(v).map_err(|_| HashError::ValueNotFloat)?,
    };
    let sum = cur.sum(by);
    if !sum.is_finite() {
        return Err(HashError::Op(OpError::NanOrInfinity));
    }
    let text = sum.to_human();
    db.hash_or_create(key)?.set(field, &text, limits);
    Ok(text)
}

/// HINCRBYFLOAT key field increment
fn cmd_hincrbyfloat(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match op_hincrbyfloat(ctx, &args[1], &args[2], &args[3]) {
        Ok(s) => out.bulk(&s),
        Err(e) => out.error(e.message()),
    }
}

/// Picks the positions of HRANDFIELD's reply: `count` distinct positions of `0..len` when
/// `unique`, else `count` positions with repetition. Distinct picks of at least the whole hash
/// return every position in order.
pub fn random_positions(rng: &mut impl Rng, len: usize, count: usize, unique: bool) -> Vec<usize> {
    if !unique {
        return (0..count).map(|_| rng.gen_range(0..len)).collect();
    }
    if count >= len {
        return (0..len).collect();
    }
    if count * 3 > len {
        // Many of them: start from everything and drop random ones, as Redis does.
        let mut all: Vec<usize> = (0..len).collect();
        while all.len() > count {
            let i = rng.gen_range(0..all.len());
            all.swap_remove(i);
        }
        return all;
    }
    let mut picked = hashbrown::HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let i = rng.gen_range(0..len);
        if picked.insert(i) {
            out.push(i);
        }
    }
    out
}

/// HRANDFIELD key [count [WITHVALUES]]
fn cmd_hrandfield(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let (count, with_values) = match parse_rand_args(args) {
        Ok(c) => c,
        Err(e) => return out.error(e),
    };
    let shard = &mut *ctx.shard;
    let now = shard.now();
    let db = &mut shard.dbs[ctx.db];
    db.set_now(now);
    let h = match read_hash(db, &args[1]) {
        Err(e) => return out.error(e.message()),
        Ok(h) => h,
    };
    let Some((n, unique)) = count else {
        match h {
            None => out.null(),
            Some(h) => {
                let i = shard.rng.gen_range(0..h.len());
                match h.get_index(i) {
                    Some((f, _)) => out.bulk(f),
                    None => out.null(),
                }
            }
        }
        return;
    };
    let h = match h {
        Some(h) if n > 0 => h,
        _ => return out.array(0),
    };
    let picks = random_positions(&mut shard.rng, h.len(), n, unique);
    if with_values && !out.resp3 {
        out.array(picks.len() * 2);
    } else {
        out.array(picks.len());
    }
    let all_in_order = unique && picks.len() == h.len();
    let mut iter = h.iter();
    for &i in &picks {
        let pair = if all_in_order {
            iter.next()
        } else {
            h.get_index(i)
        };
        let Some((f, v)) = pair else { continue };
        if with_values {
            if out.resp3 {
                out.array(2);
            }
            out.bulk(f);
            out.bulk(v);
        } else {
            out.bulk(f);
        }
    }
}

/// HRANDFIELD/ZRANDMEMBER arguments: the count (how many, whether distinct) if given, and whether
/// values or scores are wanted.
pub type RandArgs = (Option<(usize, bool)>, bool);

/// Parses `[count [WITHVALUES|WITHSCORES]]` of HRANDFIELD and ZRANDMEMBER, in Redis's order of
/// checks: the count first, then the option, then the count's range.
pub fn parse_rand_args(args: &[Bytes]) -> Result<RandArgs, &'static str> {
    let Some(c) = args.get(2) else {
        return Ok((None, false));
    };
    parse_i64(c).map_err(OpError::message)?;
    let word = if eq_ic(&args[0], "zrandmember") {
        "withscores"
    } else {
        "withvalues"
    };
    let with_values = match args.get(3) {
        None => false,
        Some(a) if args.len() == 4 && eq_ic(a, word) => true,
        Some(_) => return Err(SYNTAX),
    };
    Ok((Some(parse_count(c, with_values)?), with_values))
}

/// Parses HRANDFIELD/ZRANDMEMBER's count: (how many, whether distinct), with Redis's range
/// errors.
pub fn parse_count(arg: &[u8], with_values: bool) -> Result<(usize, bool), &'static str> {
    let n = parse_i64(arg).map_err(OpError::message)?;
    if n == i64::MIN {
        return Err(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        );
    }
    let (count, unique) = if n < 0 {
        (n.unsigned_abs(), false)
    } else {
        (n as u64, true)
    };
    if with_values && count > (i64::MAX / 2) as u64 {
        return Err("ERR value is out of range");
    }
    if !unique && count > crate::args::MAX_REPEATED_PICKS {
        return Err(crate::args::PICKS_OUT_OF_RANGE);
    }
    Ok((count as usize, unique))
}

/// Options of the SCAN family after the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOpts {
    /// `COUNT`: roughly how many elements to look at (default 10).
    pub count: usize,
    /// `MATCH`: a glob pattern.
    pub pattern: Option<Bytes>,
}

/// Parses `[MATCH pattern] [COUNT count]` (HSCAN, SSCAN, ZSCAN).
pub fn parse_scan_opts(args: &[Bytes]) -> Result<ScanOpts, &'static str> {
    let mut opts = ScanOpts {
        count: 10,
        pattern: None,
    };
    let mut i = 0;
    while i < args.len() {
        let has_value = i + 1 < args.len();
        if eq_ic(&args[i], "count") && has_value {
            let n = parse_i64(&args[i + 1]).map_err(OpError::message)?;
            if n < 1 {
                return Err(SYNTAX);
            }
            opts.count = n as usize;
        } else if eq_ic(&args[i], "match") && has_value {
            let p = &args[i + 1];
            opts.pattern = if &p[..] == b"*" {
                None
            } else {
                Some(p.clone())
            };
        } else {
            return Err(SYNTAX);
        }
        i += 2;
    }
    Ok(opts)
}

/// Writes a SCAN reply: the next cursor and a flat array of elements.
pub fn reply_scan(out: &mut Out, cursor: u64, items: &[Vec<u8>]) {
    out.array(2);
    let mut b = itoa::Buffer::new();
    out.bulk(b.format(cursor).as_bytes());
    out.array(items.len());
    for i in items {
        out.bulk(i);
    }
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
fn cmd_hscan(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let cursor = match parse_cursor(&args[2]) {
        Some(c) => c,
        None => return out.error(INVALID_CURSOR),
    };
    let h = match read_hash(ctx.db(), &args[1]) {
        Err(e) => return out.error(e.message()),
        Ok(None) => return reply_scan(out, 0, &[]),
        Ok(Some(h)) => h,
    };
    let opts = match parse_scan_opts(&args[3..]) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let mut items = Vec::new();
    let next = h.scan(cursor, opts.count, |f, v| {
        if opts
            .pattern
            .as_ref()
            .is_none_or(|p| glob_match(p, f, false))
        {
            items.push(f.to_vec());
            items.push(v.to_vec());
        }
    });
    reply_scan(out, next, &items);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustis_storage::Shard;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn hset_counts_new_fields_and_hdel_deletes_the_key() {
        let mut shard = Shard::new(0, 1, 1);
        let mut ctx = ShardCtx::new(&mut shard, 0);
        assert_eq!(
            op_hset(&mut ctx, b"h", &[b("a"), b("1"), b("b"), b("2")]),
            Ok(2)
        );
        assert_eq!(op_hset(&mut ctx, b"h", &[b("a"), b("3")]), Ok(0));
        assert_eq!(op_hsetnx(&mut ctx, b"h", b"a", b"9"), Ok(false));
        assert_eq!(op_hdel(&mut ctx, b"h", &[b("a"), b("b"), b("c")]), Ok(2));
        assert!(!ctx.db().contains(b"h"));
    }

    #[test]
    fn increments_follow_redis_errors() {
        let mut shard = Shard::new(0, 1, 1);
        let mut ctx = ShardCtx::new(&mut shard, 0);
        assert_eq!(op_hincrby(&mut ctx, b"h", b"n", 5), Ok(5));
        assert_eq!(
            op_hincrby(&mut ctx, b"h", b"n", i64::MAX),
            Err(HashError::Op(OpError::Overflow))
        );
        assert_eq!(
            op_hincrbyfloat(&mut ctx, b"h", b"f", b"10.5"),
            Ok(b"10.5".to_vec())
        );
        // 10.6 in long double, where an f64 sum would print 10.59999999999999964.
        assert_eq!(
            op_hincrbyfloat(&mut ctx, b"h", b"f", b"0.1"),
            Ok(b"10.6".to_vec())
        );
        assert_eq!(
            op_hincrbyfloat(&mut ctx, b"h", b"f", b"inf"),
            Err(HashError::IncrNanOrInfinity)
        );
        assert_eq!(
            op_hincrbyfloat(&mut ctx, b"h", b"f", b"x"),
            Err(HashError::Op(OpError::NotFloat))
        );
        op_hset(&mut ctx, b"h", &[b("big"), b("1e4932")]).unwrap();
        assert_eq!(
            op_hincrbyfloat(&mut ctx, b"h", b"big", b"1e4932"),
            Err(HashError::Op(OpError::NanOrInfinity))
        );
        assert_eq!(
            op_hincrby(&mut ctx, b"h", b"f", 1),
            Err(HashError::ValueNotInteger)
        );
    }

    #[test]
    fn scan_arguments_parse_like_redis() {
        assert_eq!(parse_scan_opts(&[b("COUNT"), b("0")]), Err(SYNTAX));
        assert_eq!(parse_scan_opts(&[b("MATCH")]), Err(SYNTAX));
        assert_eq!(
            parse_scan_opts(&[b("match"), b("a*"), b("count"), b("3")]),
            Ok(ScanOpts {
                count: 3,
                pattern: Some(b("a*"))
            })
        );
    }

    #[test]
    fn random_positions_are_distinct_when_asked() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        for (len, count) in [(10, 3), (10, 5), (10, 20), (100, 2)] {
            let p = random_positions(&mut rng, len, count, true);
            let set: std::collections::HashSet<_> = p.iter().collect();
            assert_eq!(set.len(), count.min(len));
            assert!(p.iter().all(|&i| i < len));
        }
        assert_eq!(random_positions(&mut rng, 3, 7, false).len(), 7);
    }
    use rand::SeedableRng;
}
