//! String commands: GET, SET and its variants (SETNX, SETEX, PSETEX, GETSET, GETEX, GETDEL),
//! MGET, MSET, MSETNX, APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE, the INCR family,
//! INCRBYFLOAT and LCS.

use bytes::Bytes;
use rustis_resp::errors::wrong_args;
use rustis_resp::Out;
use rustis_storage::string::{itoa_buf, StrValue};
use rustis_storage::{Entry, KeyMut, OpError, Value};

use crate::args::{eq_ic, parse_i64, parse_long_double};
use crate::ctx::ShardCtx;
use crate::longdouble::LongDouble;
use crate::registry::{Binding, MultiKeyOps, Partial, Registry, Run, ShardFn};
use crate::txn::Keys;

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(Binding::new("get", Run::Shard(cmd_get)));
    r.add(Binding::new("set", Run::Shard(cmd_set)));
    r.add(Binding::new("mget", Run::MultiKey(&MGET)));
    r.add(Binding::new("mset", Run::MultiKey(&MSET)).precheck(even_pairs_mset));
    let rows: &[(&str, ShardFn)] = &[
        ("getex", cmd_getex),
        ("getdel", cmd_getdel),
        ("getset", cmd_getset),
        ("setnx", cmd_setnx),
        ("setex", cmd_setex),
        ("psetex", cmd_psetex),
        ("append", cmd_append),
        ("strlen", cmd_strlen),
        ("getrange", cmd_getrange),
        ("substr", cmd_getrange),
        ("setrange", cmd_setrange),
        ("incr", cmd_incr),
        ("decr", cmd_decr),
        ("incrby", cmd_incrby),
        ("decrby", cmd_decrby),
        ("incrbyfloat", cmd_incrbyfloat),
    ];
    for &(name, f) in rows {
        r.add(Binding::new(name, Run::Shard(f)));
    }
    r.add(Binding::new("msetnx", Run::Txn(txn_msetnx)).precheck(even_pairs_msetnx));
    r.add(Binding::new("lcs", Run::Txn(txn_lcs)));
}

/// Reads the string at `key`: `Ok(None)` if missing, `WrongType` for other types.
pub fn op_get(ctx: &mut ShardCtx, key: &[u8]) -> Result<Option<StrValue>, OpError> {
    let db = ctx.db();
    let r = db.get_str(key).map(|s| s.cloned());
    let hit = matches!(r, Ok(Some(_)));
    db.count_lookup(hit);
    r
}

/// Writes a string value into `out` as a bulk reply.
pub fn reply_str(out: &mut Out, v: &StrValue) {
    match v {
        StrValue::Int(n) => out.bulk_int(*n),
        StrValue::Emb(b) => out.bulk(b),
        StrValue::Raw(b) => out.bulk(b),
        StrValue::Shared(b) => out.bulk_shared(b),
    }
}

/// GET key
fn cmd_get(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    // Reply straight from the stored value: no copy on the hottest read path.
    let db = ctx.db();
    let r = db.get_str(&args[1]);
    let hit = matches!(r, Ok(Some(_)));
    match r {
        Ok(Some(StrValue::Int(n))) => {
            let mut b = itoa_buf::Buffer::new();
            out.bulk(b.format(*n));
        }
        Ok(Some(StrValue::Emb(b))) => out.bulk(b),
        Ok(Some(StrValue::Raw(b))) => out.bulk(b),
        Ok(Some(StrValue::Shared(b))) => out.bulk_shared(b),
        Ok(None) => out.null(),
        Err(e) => out.error(e.message()),
    }
    db.count_lookup(hit);
}

/// When a SET's key should expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetExpiry {
    /// Clear any expiry (the default).
    None,
    /// Keep the key's current expiry (`KEEPTTL`).
    Keep,
    /// Expire at this Unix time in milliseconds.
    At(u64),
}

/// A parsed SET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetOpts {
    /// `NX`: only if the key does not exist.
    pub nx: bool,
    /// `XX`: only if it exists.
    pub xx: bool,
    /// `GET`: reply with the old value.
    pub get: bool,
    /// The expiry.
    pub expiry: SetExpiry,
}

/// Parses SET's options (`args[3..]`) at time `now`, with Redis's conflict rules.
pub fn parse_set(args: &[Bytes], now: u64) -> Result<SetOpts, OpError> {
    let mut o = SetOpts {
        nx: false,
        xx: false,
        get: false,
        expiry: SetExpiry::None,
    };
    let mut unit: Option<(u8, i64)> = None;
    let mut keep = false;
    let mut i = 3;
    while i < args.len() {
        let a = &args[i];
        let has_next = i + 1 < args.len();
        if eq_ic(a, "nx") && !o.xx {
            o.nx = true;
        } else if eq_ic(a, "xx") && !o.nx {
            o.xx = true;
        } else if eq_ic(a, "get") {
            o.get = true;
        } else if eq_ic(a, "keepttl") && unit.is_none() {
            keep = true;
        } else if has_next
            && unit.is_none()
            && !keep
            && (eq_ic(a, "ex") || eq_ic(a, "px") || eq_ic(a, "exat") || eq_ic(a, "pxat"))
        {
            let kind = if eq_ic(a, "ex") {
                b'e'
            } else if eq_ic(a, "px") {
                b'p'
            } else if eq_ic(a, "exat") {
                b'E'
            } else {
                b'P'
            };
            let n = parse_i64(&args[i + 1])?;
            unit = Some((kind, n));
            i += 1;
        } else {
            return Err(OpError::Syntax);
        }
        i += 1;
    }
    if keep {
        o.expiry = SetExpiry::Keep;
    }
    if let Some((kind, n)) = unit {
        let at = expire_arg_ms(
            n,
            kind.is_ascii_lowercase(),
            kind == b'e' || kind == b'E',
            now,
        );
        o.expiry = SetExpiry::At(at.ok_or(OpError::InvalidExpire)?);
    }
    Ok(o)
}

/// Turns an `EX`/`PX`/`EXAT`/`PXAT` argument into an absolute Unix time in ms with Redis's
/// rules for SET, GETEX, SETEX and PSETEX (`getExpireMillisecondsOrReply`): the number must be
/// positive, and neither the unit conversion nor adding the current time may overflow. `None`
/// means "invalid expire time".
pub fn expire_arg_ms(n: i64, relative: bool, seconds: bool, now: u64) -> Option<u64> {
    if n <= 0 || (seconds && n > i64::MAX / 1000) {
        return None;
    }
    let ms = if seconds { n * 1000 } else { n };
    let at = if relative {
        ms.checked_add(now as i64)?
    } else {
        ms
    };
    (at > 0).then_some(at as u64)
}

fn invalid_expire(cmd: &str) -> String {
    format!("ERR invalid expire time in '{cmd}' command")
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]
fn cmd_set(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let opts = if args.len() == 3 {
        SetOpts {
            nx: false,
            xx: false,
            get: false,
            expiry: SetExpiry::None,
        }
    } else {
        match parse_set(args, ctx.shard.now()) {
            Ok(o) => o,
            Err(e) => return out.error(e.message()),
        }
    };
    match op_set(ctx, &args[1], &args[2], opts) {
        Ok((done, old)) => {
            if opts.get {
                match old {
                    Some(v) => reply_str(out, &v),
                    None => out.null(),
                }
            } else if done {
                out.ok();
            } else {
                out.null();
            }
        }
        Err(e) => out.error(e.message()),
    }
}

/// Sets `key` to `value` under `opts`. Returns whether it was set and, with `GET`, the old value.
pub fn op_set(
    ctx: &mut ShardCtx,
    key: &[u8],
    value: &[u8],
    opts: SetOpts,
) -> Result<(bool, Option<StrValue>), OpError> {
    let db = ctx.db();
    let old = if opts.get {
        db.get_str(key)?.cloned()
    } else {
        None
    };
    if opts.nx || opts.xx {
        let exists = db.contains(key);
        if (opts.nx && exists) || (opts.xx && !exists) {
            return Ok((false, old));
        }
    }
    let v = Value::Str(StrValue::from_bytes(value));
    match opts.expiry {
        SetExpiry::None => db.insert(key, v, None),
        SetExpiry::Keep => db.insert_keep_ttl(key, v),
        SetExpiry::At(t) => db.insert(key, v, Some(t)),
    }
    Ok((true, old))
}

/// What GETEX does to the key's expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetExExpiry {
    /// Leave it.
    Keep,
    /// Remove it (`PERSIST`).
    Persist,
    /// Set it to this Unix time in ms.
    At(u64),
}

/// Parses GETEX's options (`args[2..]`) at time `now`; the error is the full reply text.
pub fn parse_getex(args: &[Bytes], now: u64) -> Result<GetExExpiry, String> {
    let mut r = GetExExpiry::Keep;
    let mut seen = false;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        let unit = [
            ("ex", true, true),
            ("px", true, false),
            ("exat", false, true),
            ("pxat", false, false),
        ]
        .into_iter()
        .find(|(n, _, _)| eq_ic(a, n));
        if eq_ic(a, "persist") && !seen {
            r = GetExExpiry::Persist;
            seen = true;
        } else if let (Some((_, relative, seconds)), false, true) = (unit, seen, i + 1 < args.len())
        {
            let n = parse_i64(&args[i + 1]).map_err(|e| e.message().to_string())?;
            let at =
                expire_arg_ms(n, relative, seconds, now).ok_or_else(|| invalid_expire("getex"))?;
            r = GetExExpiry::At(at);
            seen = true;
            i += 1;
        } else {
            return Err(OpError::Syntax.message().to_string());
        }
        i += 1;
    }
    Ok(r)
}

/// Reads the string at `key` and changes its expiry; a time in the past deletes the key (the
/// value is still returned), as Redis does.
pub fn op_getex(
    ctx: &mut ShardCtx,
    key: &[u8],
    exp: GetExExpiry,
) -> Result<Option<StrValue>, OpError> {
    let db = ctx.db();
    let v = db.get_str(key)?.cloned();
    let hit = v.is_some();
    db.count_lookup(hit);
    if v.is_some() {
        match exp {
            GetExExpiry::Keep => {}
            GetExExpiry::Persist => {
                db.set_expire(key, None);
            }
            GetExExpiry::At(t) if t <= db.now() => {
                db.remove(key);
            }
            GetExExpiry::At(t) => {
                db.set_expire(key, Some(t));
            }
        }
    }
    Ok(v)
}

fn reply_opt_str(out: &mut Out, r: Result<Option<StrValue>, OpError>) {
    match r {
        Ok(Some(v)) => reply_str(out, &v),
        Ok(None) => out.null(),
        Err(e) => out.error(e.message()),
    }
}

/// GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]
fn cmd_getex(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let exp = match parse_getex(args, ctx.shard.now()) {
        Ok(e) => e,
        Err(e) => return out.error(&e),
    };
    reply_opt_str(out, op_getex(ctx, &args[1], exp));
}

/// Reads and deletes the string at `key`.
pub fn op_getdel(ctx: &mut ShardCtx, key: &[u8]) -> Result<Option<StrValue>, OpError> {
    let db = ctx.db();
    let v = db.get_str(key)?.cloned();
    db.count_lookup(v.is_some());
    if v.is_some() {
        db.remove(key);
    }
    Ok(v)
}

/// GETDEL key
fn cmd_getdel(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    reply_opt_str(out, op_getdel(ctx, &args[1]));
}

/// GETSET key value
fn cmd_getset(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let opts = SetOpts {
        nx: false,
        xx: false,
        get: true,
        expiry: SetExpiry::None,
    };
    reply_opt_str(
        out,
        op_set(ctx, &args[1], &args[2], opts).map(|(_, old)| old),
    );
}

/// SETNX key value
fn cmd_setnx(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let opts = SetOpts {
        nx: true,
        xx: false,
        get: false,
        expiry: SetExpiry::None,
    };
    match op_set(ctx, &args[1], &args[2], opts) {
        Ok((done, _)) => out.int(done as i64),
        Err(e) => out.error(e.message()),
    }
}

fn setex_generic(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out, seconds: bool, name: &str) {
    let n = match parse_i64(&args[2]) {
        Ok(n) => n,
        Err(e) => return out.error(e.message()),
    };
    let Some(at) = expire_arg_ms(n, true, seconds, ctx.shard.now()) else {
        return out.error(&invalid_expire(name));
    };
    let opts = SetOpts {
        nx: false,
        xx: false,
        get: false,
        expiry: SetExpiry::At(at),
    };
    match op_set(ctx, &args[1], &args[3], opts) {
        Ok(_) => out.ok(),
        Err(e) => out.error(e.message()),
    }
}

/// SETEX key seconds value
fn cmd_setex(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    setex_generic(ctx, args, out, true, "setex");
}

/// PSETEX key milliseconds value
fn cmd_psetex(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    setex_generic(ctx, args, out, false, "psetex");
}

/// Appends `value` to the string at `key` (creating it); returns the new length.
pub fn op_append(ctx: &mut ShardCtx, key: &[u8], value: &[u8]) -> Result<usize, OpError> {
    let limit = ctx.shard.config.proto_max_bulk_len as u64;
    let db = ctx.db();
    let mut s: KeyMut<StrValue> =
        db.modify_or_insert_with(key, || Value::Str(StrValue::from_bytes(value)))?;
    s.set_event("append");
    if s.is_new() {
        return Ok(value.len());
    }
    if (s.len() + value.len()) as u64 > limit {
        return Err(OpError::StringTooLong);
    }
    let buf = s.make_raw();
    buf.extend_from_slice(value);
    Ok(buf.len())
}

/// APPEND key value
fn cmd_append(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match op_append(ctx, &args[1], &args[2]) {
        Ok(n) => out.int(n as i64),
        Err(e) => out.error(e.message()),
    }
}

/// STRLEN key
fn cmd_strlen(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let db = ctx.db();
    let hit = db.contains(&args[1]);
    db.count_lookup(hit);
    match db.get_str(&args[1]) {
        Ok(v) => out.int(v.map_or(0, |s| s.len()) as i64),
        Err(e) => out.error(e.message()),
    }
}

/// The byte range GETRANGE returns for `start..=end` of a string of `len` bytes, with Redis
/// 7.0's clamping rules; `None` for the empty string.
pub fn getrange_bounds(mut start: i64, mut end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    if start < 0 && end < 0 && start > end {
        return None;
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

/// GETRANGE key start end (and SUBSTR key start end)
fn cmd_getrange(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let (start, end) = match (parse_i64(&args[2]), parse_i64(&args[3])) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return out.error(e.message()),
    };
    let db = ctx.db();
    let hit = db.contains(&args[1]);
    db.count_lookup(hit);
    match db.get_str(&args[1]) {
        Err(e) => out.error(e.message()),
        Ok(None) => out.bulk(b""),
        Ok(Some(v)) => {
            let mut scratch = itoa_buf::Buffer::new();
            let b = v.as_bytes(&mut scratch);
            match getrange_bounds(start, end, b.len()) {
                Some((s, e)) => out.bulk(&b[s..=e]),
                None => out.bulk(b""),
            }
        }
    }
}

/// Writes `value` into the string at `key` at `offset`, padding with zero bytes; returns the
/// new length. An empty `value` changes nothing (and creates nothing).
pub fn op_setrange(
    ctx: &mut ShardCtx,
    key: &[u8],
    offset: i64,
    value: &[u8],
) -> Result<usize, OpError> {
    if offset < 0 {
        return Err(OpError::OffsetOutOfRange);
    }
    let offset = offset as u64;
    let limit = ctx.shard.config.proto_max_bulk_len as u64;
    let db = ctx.db();
    let cur = db.get_str_mut(key)?;
    let old_len = cur.as_ref().map_or(0, |s| s.len());
    if value.is_empty() {
        return Ok(old_len);
    }
    if offset + value.len() as u64 > limit {
        return Err(OpError::StringTooLong);
    }
    let offset = offset as usize;
    let write = |buf: &mut Vec<u8>| {
        if buf.len() < offset + value.len() {
            buf.resize(offset + value.len(), 0);
        }
        buf[offset..offset + value.len()].copy_from_slice(value);
        buf.len()
    };
    if let Some(n) = cur.map(|mut s| write(s.make_raw())) {
        return Ok(n);
    }
    let mut buf = Vec::new();
    let n = write(&mut buf);
    db.insert(key, Value::Str(StrValue::Raw(buf)), None);
    Ok(n)
}

/// SETRANGE key offset value
fn cmd_setrange(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let offset = match parse_i64(&args[2]) {
        Ok(n) => n,
        Err(e) => return out.error(e.message()),
    };
    match op_setrange(ctx, &args[1], offset, &args[3]) {
        Ok(n) => out.int(n as i64),
        Err(e) => out.error(e.message()),
    }
}

/// Adds `by` to the integer at `key` (0 if missing), keeping its TTL; returns the new value.
pub fn op_incrby(ctx: &mut ShardCtx, key: &[u8], by: i64) -> Result<i64, OpError> {
    let db = ctx.db();
    // A missing key counts as 0: it is created as 0 and changed like any other.
    let mut s: KeyMut<StrValue> = db.modify_or_insert_with(key, || Value::Str(StrValue::Int(0)))?;
    s.set_event("incrby");
    let cur = s.as_i64().ok_or(OpError::NotInteger)?;
    let n = cur.checked_add(by).ok_or(OpError::Overflow)?;
    *s = StrValue::Int(n);
    Ok(n)
}

fn incr_generic(ctx: &mut ShardCtx, key: &[u8], by: i64, out: &mut Out) {
    match op_incrby(ctx, key, by) {
        Ok(n) => out.int(n),
        Err(e) => out.error(e.message()),
    }
}

/// INCR key
fn cmd_incr(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    incr_generic(ctx, &args[1], 1, out);
}

/// DECR key
fn cmd_decr(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    incr_generic(ctx, &args[1], -1, out);
}

/// INCRBY key increment
fn cmd_incrby(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match parse_i64(&args[2]) {
        Ok(by) => incr_generic(ctx, &args[1], by, out),
        Err(e) => out.error(e.message()),
    }
}

/// DECRBY key decrement
fn cmd_decrby(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match parse_i64(&args[2]) {
        Ok(i64::MIN) => out.error("ERR decrement would overflow"),
        Ok(by) => incr_generic(ctx, &args[1], -by, out),
        Err(e) => out.error(e.message()),
    }
}

/// Adds `by` to the number at `key` in 80-bit extended precision (Redis's `long double`),
/// keeping its TTL; returns the new value's text.
pub fn op_incrbyfloat(ctx: &mut ShardCtx, key: &[u8], by: &[u8]) -> Result<Vec<u8>, OpError> {
    let db = ctx.db();
    let cur = match db.get_str(key)? {
        None => LongDouble::ZERO,
        Some(s) => {
            let mut scratch = itoa_buf::Buffer::new();
            parse_long_double(s.as_bytes(&mut scratch))?
        }
    };
    let by = parse_long_double(by)?;
    let sum = cur.sum(by);
    if !sum.is_finite() {
        return Err(OpError::NanOrInfinity);
    }
    let text = sum.to_human();
    let v = Value::Str(StrValue::from_bytes_no_int(&text));
    db.insert_keep_ttl(key, v);
    Ok(text)
}

/// INCRBYFLOAT key increment
fn cmd_incrbyfloat(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match op_incrbyfloat(ctx, &args[1], &args[2]) {
        Ok(t) => out.bulk(&t),
        Err(e) => out.error(e.message()),
    }
}

fn even_pairs_msetnx(args: &[Bytes]) -> Result<(), String> {
    if args.len().is_multiple_of(2) {
        return Err(wrong_args("msetnx"));
    }
    Ok(())
}

/// MSETNX key value [key value ...]: all or nothing, across shards.
fn txn_msetnx(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    if (0..keys.len()).any(|i| keys.get(i).is_some()) {
        return out.int(0);
    }
    for i in 0..keys.len() {
        let value = Value::Str(StrValue::from_bytes(&args[2 + 2 * i]));
        keys.put(i, Entry::new(value, None));
    }
    out.int(1);
}

/// LCS's options.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LcsOpts {
    /// `LEN`: reply with the length only.
    pub len: bool,
    /// `IDX`: reply with the matching ranges.
    pub idx: bool,
    /// `MINMATCHLEN n`: leave out shorter ranges.
    pub min_match_len: usize,
    /// `WITHMATCHLEN`: add each range's length.
    pub with_match_len: bool,
}

/// Parses LCS's options (`args[3..]`); the error is the full reply text.
pub fn parse_lcs(args: &[Bytes]) -> Result<LcsOpts, String> {
    let mut o = LcsOpts::default();
    let mut i = 3;
    while i < args.len() {
        let a = &args[i];
        if eq_ic(a, "idx") {
            o.idx = true;
        } else if eq_ic(a, "len") {
            o.len = true;
        } else if eq_ic(a, "withmatchlen") {
            o.with_match_len = true;
        } else if eq_ic(a, "minmatchlen") && i + 1 < args.len() {
            let n = parse_i64(&args[i + 1]).map_err(|e| e.message().to_string())?;
            o.min_match_len = n.max(0) as usize;
            i += 1;
        } else {
            return Err(OpError::Syntax.message().to_string());
        }
        i += 1;
    }
    if o.len && o.idx {
        return Err("ERR If you want both the length and indexes, please just use IDX.".into());
    }
    Ok(o)
}

/// One matching range of LCS IDX: start and end in `a`, start and end in `b`.
pub type LcsRange = ((usize, usize), (usize, usize));

/// The longest common subsequence of `a` and `b` and its matching ranges (from the end
/// backwards, as Redis lists them), following Redis's table walk exactly.
pub fn op_lcs(a: &[u8], b: &[u8]) -> (Vec<u8>, Vec<LcsRange>) {
    let (alen, blen) = (a.len(), b.len());
    let w = blen + 1;
    let mut t = vec![0u32; (alen + 1) * (blen + 1)];
    for i in 1..=alen {
        for j in 1..=blen {
            t[i * w + j] = if a[i - 1] == b[j - 1] {
                t[(i - 1) * w + j - 1] + 1
            } else {
                t[(i - 1) * w + j].max(t[i * w + j - 1])
            };
        }
    }
    let mut idx = t[alen * w + blen] as usize;
    let mut result = vec![0u8; idx];
    let mut ranges = Vec::new();
    let (mut i, mut j) = (alen, blen);
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (alen, 0, 0, 0);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == alen {
                a_start = i - 1;
                a_end = i - 1;
                b_start = j - 1;
                b_end = j - 1;
            } else if a_start == i && b_start == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if t[(i - 1) * w + j] > t[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != alen {
                emit = true;
            }
        }
        if emit {
            ranges.push(((a_start, a_end), (b_start, b_end)));
            a_start = alen;
        }
    }
    (result, ranges)
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
fn txn_lcs(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    let mut strs: Vec<Vec<u8>> = Vec::with_capacity(2);
    for i in 0..2 {
        match keys.get(i).map(|e| &e.value) {
            None => strs.push(Vec::new()),
            Some(Value::Str(s)) => strs.push(s.to_vec()),
            Some(_) => return out.error("ERR The specified keys must contain string values"),
        }
    }
    let o = match parse_lcs(args) {
        Ok(o) => o,
        Err(e) => return out.error(&e),
    };
    let (a, b) = (&strs[0], &strs[1]);
    // Redis refuses tables larger than what a string may hold.
    let cells = (a.len() as u128 + 1) * (b.len() as u128 + 1) * 4;
    if cells > keys.config().proto_max_bulk_len as u128 {
        return out
            .error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
    }
    let (lcs, ranges) = op_lcs(a, b);
    if o.len {
        return out.int(lcs.len() as i64);
    }
    if !o.idx {
        return out.bulk(&lcs);
    }
    let kept: Vec<&LcsRange> = ranges
        .iter()
        .filter(|((s, e), _)| o.min_match_len == 0 || e - s + 1 >= o.min_match_len)
        .collect();
    out.map(2);
    out.bulk(b"matches");
    out.array(kept.len());
    for ((as_, ae), (bs, be)) in kept {
        out.array(2 + o.with_match_len as usize);
        out.array(2);
        out.int(*as_ as i64);
        out.int(*ae as i64);
        out.array(2);
        out.int(*bs as i64);
        out.int(*be as i64);
        if o.with_match_len {
            out.int((ae - as_ + 1) as i64);
        }
    }
    out.bulk(b"len");
    out.int(lcs.len() as i64);
}

/// MGET key [key ...]: values of other types read as null.
static MGET: MultiKeyOps = MultiKeyOps {
    per_shard: |ctx, args, pos| {
        let vals: Vec<Option<StrValue>> = pos
            .iter()
            .map(|&i| op_get(ctx, &args[i]).ok().flatten())
            .collect();
        Box::new(vals)
    },
    merge: |args, parts, out| {
        let mut all: Vec<Option<StrValue>> = vec![None; args.len()];
        for (pos, part) in parts {
            if let Ok(vals) = part.downcast::<Vec<Option<StrValue>>>() {
                for (p, v) in pos.into_iter().zip(*vals) {
                    all[p] = v;
                }
            }
        }
        out.array(args.len() - 1);
        for v in &all[1..] {
            match v {
                Some(v) => reply_str(out, v),
                None => out.null(),
            }
        }
    },
};

fn even_pairs_mset(args: &[Bytes]) -> Result<(), String> {
    if args.len().is_multiple_of(2) {
        return Err(wrong_args("mset"));
    }
    Ok(())
}

/// MSET key value [key value ...]
static MSET: MultiKeyOps = MultiKeyOps {
    per_shard: |ctx, args, pos| {
        let db = ctx.db();
        for &i in pos {
            db.insert(
                &args[i],
                Value::Str(StrValue::from_bytes(&args[i + 1])),
                None,
            );
        }
        Box::new(())
    },
    merge: |_, _: Vec<(Vec<usize>, Partial)>, out| out.ok(),
};

#[cfg(test)]
mod tests {
    use super::*;
    use rustis_storage::Shard;

    fn shard() -> Shard {
        let mut s = Shard::new(0, 1, 2);
        s.set_now(1_000_000);
        s
    }

    #[test]
    fn ops_on_a_bare_shard() {
        let mut sh = shard();
        let mut ctx = ShardCtx::new(&mut sh, 0);
        assert_eq!(op_incrby(&mut ctx, b"n", 5), Ok(5));
        assert_eq!(op_incrby(&mut ctx, b"n", i64::MAX), Err(OpError::Overflow));
        assert_eq!(op_append(&mut ctx, b"n", b"0"), Ok(2));
        assert_eq!(op_incrby(&mut ctx, b"n", 1), Ok(51));
        assert_eq!(op_setrange(&mut ctx, b"s", 3, b"ab"), Ok(5));
        assert_eq!(
            op_get(&mut ctx, b"s"),
            Ok(Some(StrValue::Raw(b"\0\0\0ab".to_vec())))
        );
        assert_eq!(
            op_setrange(&mut ctx, b"s", -1, b"x"),
            Err(OpError::OffsetOutOfRange)
        );
        assert_eq!(op_setrange(&mut ctx, b"none", 10, b""), Ok(0));
        assert_eq!(op_incrbyfloat(&mut ctx, b"f", b"0.1"), Ok(b"0.1".to_vec()));
        assert_eq!(op_incrbyfloat(&mut ctx, b"f", b"0.2"), Ok(b"0.3".to_vec()));
        assert_eq!(op_incrbyfloat(&mut ctx, b"s", b"1"), Err(OpError::NotFloat));
        let ex = GetExExpiry::At(1_000_500);
        assert_eq!(
            op_getex(&mut ctx, b"f", ex),
            Ok(Some(StrValue::from_bytes(b"0.3")))
        );
        assert_eq!(
            ctx.db().entry(b"f").and_then(|e| e.expire()),
            Some(1_000_500)
        );
        assert_eq!(
            op_getdel(&mut ctx, b"f"),
            Ok(Some(StrValue::from_bytes(b"0.3")))
        );
        assert_eq!(op_getdel(&mut ctx, b"f"), Ok(None));
    }

    #[test]
    fn lcs_ranges_follow_redis() {
        let (lcs, ranges) = op_lcs(b"ohmytext", b"mynewtext");
        assert_eq!(lcs, b"mytext");
        assert_eq!(ranges, vec![((4, 7), (5, 8)), ((2, 3), (0, 1))]);
        assert_eq!(getrange_bounds(0, -1, 5), Some((0, 4)));
        assert_eq!(getrange_bounds(-1, -5, 5), None);
        assert_eq!(getrange_bounds(1, 100, 5), Some((1, 4)));
        assert_eq!(expire_arg_ms(1, true, true, 10), Some(1010));
        assert_eq!(expire_arg_ms(0, true, true, 10), None);
        assert_eq!(expire_arg_ms(i64::MAX / 1000 + 1, false, true, 0), None);
    }

    fn a(v: &[&str]) -> Vec<Bytes> {
        v.iter().map(|s| Bytes::from(s.to_string())).collect()
    }

    #[test]
    fn set_options_parse_like_redis() {
        let o = parse_set(&a(&["SET", "k", "v", "NX", "PX", "100"]), 1000).unwrap();
        assert!(o.nx);
        assert_eq!(o.expiry, SetExpiry::At(1100));
        let o = parse_set(&a(&["SET", "k", "v", "exat", "5"]), 1000).unwrap();
        assert_eq!(o.expiry, SetExpiry::At(5000));
        assert_eq!(
            parse_set(&a(&["SET", "k", "v", "NX", "XX"]), 0),
            Err(OpError::Syntax)
        );
        assert_eq!(
            parse_set(&a(&["SET", "k", "v", "EX", "1", "KEEPTTL"]), 0),
            Err(OpError::Syntax)
        );
        assert_eq!(
            parse_set(&a(&["SET", "k", "v", "EX", "0"]), 0),
            Err(OpError::InvalidExpire)
        );
        assert_eq!(
            parse_set(&a(&["SET", "k", "v", "EX", "x"]), 0),
            Err(OpError::NotInteger)
        );
        assert_eq!(
            parse_set(&a(&["SET", "k", "v", "EX"]), 0),
            Err(OpError::Syntax)
        );
        assert_eq!(
            parse_set(&a(&["SET", "k", "v", "EX", "1", "PX", "1"]), 0),
            Err(OpError::Syntax)
        );
    }
}
