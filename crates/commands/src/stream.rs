//! Stream commands: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XREAD, XREADGROUP, XGROUP,
//! XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO, XSETID.
//!
//! Single-key commands run on the shard that owns the key. XREAD and XREADGROUP may name
//! streams on several shards, so they are written against [`Keys`] and run wherever their keys
//! are; with BLOCK they give the runtime their [`BlockingOps`] (an XADD on any thread wakes
//! them; `$` is resolved on each stream's shard when the command blocks).

use bytes::Bytes;
use rustis_resp::errors::{wrong_args, NOT_INTEGER, SYNTAX, WRONGTYPE};
use rustis_resp::Out;
use rustis_storage::stream::{
    AddError, Fields, Group, StreamId, StreamValue, Trim, INVALID_ENTRIES_READ,
};
use rustis_storage::{Db, Value};

use crate::args::{eq_ic, parse_i64};
use crate::blocking::{BlockingOps, Serve, ServeCtx};
use crate::ctx::ShardCtx;
use crate::registry::{Binding, Registry, Run};
use crate::txn::Keys;

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(Binding::new("xadd", Run::Shard(cmd_xadd)));
    r.add(Binding::new("xrange", Run::Shard(cmd_xrange)));
    r.add(Binding::new("xrevrange", Run::Shard(cmd_xrevrange)));
    r.add(Binding::new("xlen", Run::Shard(cmd_xlen)));
    r.add(Binding::new("xdel", Run::Shard(cmd_xdel)));
    r.add(Binding::new("xtrim", Run::Shard(cmd_xtrim)));
    r.add(
        Binding::new("xread", Run::Txn(cmd_xread))
            .movable_keys(|a| read_keys(a, false))
            .precheck(|a| parse_read(a, false).map(|_| ()))
            .blocking(&XREAD),
    );
    r.add(
        Binding::new("xreadgroup", Run::Txn(cmd_xreadgroup))
            .movable_keys(|a| read_keys(a, true))
            .precheck(|a| parse_read(a, true).map(|_| ()))
            .blocking(&XREADGROUP),
    );
    r.add(Binding::new("xgroup", Run::Shard(cmd_xgroup)));
    r.add(Binding::new("xack", Run::Shard(cmd_xack)));
    r.add(Binding::new("xpending", Run::Shard(cmd_xpending)));
    r.add(Binding::new("xclaim", Run::Shard(cmd_xclaim)));
    r.add(Binding::new("xautoclaim", Run::Shard(cmd_xautoclaim)));
    r.add(Binding::new("xinfo", Run::Shard(cmd_xinfo)));
    r.add(Binding::new("xsetid", Run::Shard(cmd_xsetid)));
}

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

// ---------------------------------------------------------------------------------------------
// IDs.

/// Redis's `string2ull`: a canonical `long long` that is not negative, or else what `strtoull`
/// takes whole (leading spaces, a sign, digits, no overflow).
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Ok(v) = parse_i64(s) {
        return (v >= 0).then_some(v as u64);
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    if i >= s.len() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in &s[i..] {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Parses an ID as Redis's `streamGenericParseIDOrReply`: `-`, `+` (unless `strict`),
/// `ms`, `ms-seq`, and with `seq_star` also `ms-*`. Returns the ID and whether its sequence
/// was given (false for `ms-*`).
fn parse_id_full(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    seq_star: bool,
) -> Result<(StreamId, bool), &'static str> {
    // Redis copies the argument into a 128-byte C string.
    if arg.len() > 127 {
        return Err(INVALID_ID);
    }
    let arg = match arg.iter().position(|&b| b == 0) {
        Some(n) => &arg[..n],
        None => arg,
    };
    if arg == b"-" || arg == b"+" {
        if strict {
            return Err(INVALID_ID);
        }
        return Ok((
            if arg == b"-" {
                StreamId::MIN
            } else {
                StreamId::MAX
            },
            true,
        ));
    }
    let (ms_part, seq_part) = match arg.iter().position(|&b| b == b'-') {
        Some(d) => (&arg[..d], Some(&arg[d + 1..])),
        None => (arg, None),
    };
    let ms = string2ull(ms_part).ok_or(INVALID_ID)?;
    match seq_part {
        None => Ok((StreamId::new(ms, missing_seq), true)),
        Some(b"*") if seq_star => Ok((StreamId::new(ms, 0), false)),
        Some(s) => Ok((StreamId::new(ms, string2ull(s).ok_or(INVALID_ID)?), true)),
    }
}

fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, &'static str> {
    parse_id_full(arg, missing_seq, false, false).map(|r| r.0)
}

fn parse_strict_id(arg: &[u8]) -> Result<StreamId, &'static str> {
    parse_id_full(arg, 0, true, false).map(|r| r.0)
}

/// An interval bound: `(id` excludes it (and may not be `-`/`+`).
fn parse_interval_id(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), &'static str> {
    if arg.len() > 1 && arg[0] == b'(' {
        Ok((parse_id_full(&arg[1..], missing_seq, true, false)?.0, true))
    } else {
        Ok((parse_id(arg, missing_seq)?, false))
    }
}

fn parse_start(arg: &[u8]) -> Result<StreamId, &'static str> {
    let (id, ex) = parse_interval_id(arg, 0)?;
    if ex {
        return id.incr().ok_or("ERR invalid start ID for the interval");
    }
    Ok(id)
}

fn parse_end(arg: &[u8]) -> Result<StreamId, &'static str> {
    let (id, ex) = parse_interval_id(arg, u64::MAX)?;
    if ex {
        return id.decr().ok_or("ERR invalid end ID for the interval");
    }
    Ok(id)
}

/// An ID as a bulk string, formatted on the stack (every entry of a reply has one).
fn bulk_id(out: &mut Out, id: StreamId) {
    let mut buf = [0u8; 41];
    let mut ms = itoa::Buffer::new();
    let mut seq = itoa::Buffer::new();
    let (ms, seq) = (ms.format(id.ms).as_bytes(), seq.format(id.seq).as_bytes());
    let n = ms.len() + 1 + seq.len();
    buf[..ms.len()].copy_from_slice(ms);
    buf[ms.len()] = b'-';
    buf[ms.len() + 1..n].copy_from_slice(seq);
    out.bulk(&buf[..n]);
}

// ---------------------------------------------------------------------------------------------
// Reading values.

/// The stream at `key`: `Ok(None)` if missing, `Err` if another type.
fn get_stream<'a>(db: &'a mut Db, key: &[u8]) -> Result<Option<&'a StreamValue>, &'static str> {
    match db.get(key) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(WRONGTYPE),
    }
}

fn entry(out: &mut Out, id: StreamId, fields: Fields<'_>) {
    out.array(2);
    bulk_id(out, id);
    out.array(fields.len());
    for f in fields {
        out.bulk(f);
    }
}

/// Writes the entries in `start..=end` (at most `count`, 0: all) as an array; their number.
fn reply_range(
    out: &mut Out,
    s: &StreamValue,
    start: StreamId,
    end: StreamId,
    count: usize,
    rev: bool,
) -> usize {
    let it = s.range(start, end, rev);
    let list: Vec<_> = if count == 0 {
        it.collect()
    } else {
        it.take(count).collect()
    };
    out.array(list.len());
    let n = list.len();
    for (id, f) in list {
        entry(out, id, f);
    }
    n
}

// ---------------------------------------------------------------------------------------------
// XADD, XTRIM.

struct TrimArgs {
    how: Option<Trim>,
    approx: bool,
    limit: u64,
    nomkstream: bool,
    /// XADD: the ID and whether its sequence was given; `None` for `*`.
    id: Option<(StreamId, bool)>,
    /// XADD: where the ID argument is.
    id_pos: usize,
}

/// Parses XADD's (`xadd`) or XTRIM's options as Redis's `streamParseAddOrTrimArgsOrReply`.
fn parse_trim_args(
    args: &[Bytes],
    xadd: bool,
    node_max_entries: usize,
) -> Result<TrimArgs, String> {
    let mut t = TrimArgs {
        how: None,
        approx: false,
        limit: 0,
        nomkstream: false,
        id: None,
        id_pos: args.len(),
    };
    let mut limit_given = false;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = &args[i][..];
        if xadd && opt == b"*" {
            break;
        } else if (eq_ic(opt, "maxlen") || eq_ic(opt, "minid")) && more > 0 {
            if t.how.is_some() {
                return Err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible".into());
            }
            let maxlen = eq_ic(opt, "maxlen");
            t.approx = false;
            let next = &args[i + 1][..];
            if more >= 2 && next == b"~" {
                t.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            if maxlen {
                let n = parse_i64(&args[i + 1]).map_err(|_| NOT_INTEGER.to_string())?;
                if n < 0 {
                    return Err("ERR The MAXLEN argument must be >= 0.".into());
                }
                t.how = Some(Trim::MaxLen(n as u64));
            } else {
                t.how = Some(Trim::MinId(parse_strict_id(&args[i + 1])?));
            }
            i += 1;
        } else if eq_ic(opt, "limit") && more > 0 {
            let n = parse_i64(&args[i + 1]).map_err(|_| NOT_INTEGER.to_string())?;
            if n < 0 {
                return Err("ERR The LIMIT argument must be >= 0.".into());
            }
            t.limit = n as u64;
            limit_given = true;
            i += 1;
        } else if xadd && eq_ic(opt, "nomkstream") {
            t.nomkstream = true;
        } else if xadd {
            t.id = Some(parse_id_full(opt, 0, true, true)?);
            break;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    t.id_pos = i;
    if t.limit != 0 && t.how.is_none() {
        return Err(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy".into(),
        );
    }
    if !xadd && t.how.is_none() {
        return Err("ERR syntax error, XTRIM must be called with a trimming strategy".into());
    }
    if limit_given {
        if !t.approx {
            return Err(
                "ERR syntax error, LIMIT cannot be used without the special ~ option".into(),
            );
        }
    } else if t.approx {
        let l = 100i64.saturating_mul(node_max_entries as i64);
        t.limit = if l <= 0 {
            10000
        } else {
            l.min(1_000_000) as u64
        };
    } else {
        t.limit = 0;
    }
    Ok(t)
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value ...
fn cmd_xadd(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let (max_entries, max_bytes) = (
        ctx.shard.config.stream_node_max_entries,
        ctx.shard.config.stream_node_max_bytes,
    );
    let t = match parse_trim_args(args, true, max_entries) {
        Ok(t) => t,
        Err(e) => return out.error(&e),
    };
    let fields_at = t.id_pos + 1;
    if args.len() < fields_at + 2 || (args.len() - fields_at) % 2 == 1 {
        return out.error(&wrong_args("xadd"));
    }
    if let Some((id, true)) = t.id {
        if id.is_zero() {
            return out.error("ERR The ID specified in XADD must be greater than 0-0");
        }
    }
    let key = &args[1];
    let now = ctx.db().now();
    let db = ctx.db();
    let mut s = if t.nomkstream {
        match db.modify_as::<StreamValue>(key) {
            Ok(Some(s)) => s,
            Ok(None) => return out.null(),
            Err(e) => return out.error(e.message()),
        }
    } else {
        match db.modify_or_insert_with::<StreamValue>(key, || Value::Stream(Box::default())) {
            Ok(s) => s,
            Err(e) => return out.error(e.message()),
        }
    };
    s.set_event("xadd");
    if s.last_id == StreamId::MAX {
        return out
            .error("ERR The stream has exhausted the last possible ID, unable to add more items");
    }
    let id = match t.id {
        None => s.next_auto_id(now),
        Some((id, true)) => Some(id),
        Some((id, false)) => {
            if s.last_id.ms == id.ms {
                s.last_id.incr().filter(|n| n.ms == id.ms)
            } else {
                Some(id)
            }
        }
    };
    let added = match id {
        Some(id) => s
            .add(id, &args[fields_at..], max_entries, max_bytes)
            .map(|_| id),
        None => Err(AddError::NotGreater),
    };
    match added {
        Ok(id) => {
            // Redis fires `xtrim` after `xadd` when the trim removed entries.
            if let Some(how) = t.how {
                if s.trim(how, t.approx, t.limit) > 0 {
                    s.set_event("xtrim");
                }
            }
            drop(s);
            db.blocked.signal(key);
            bulk_id(out, id);
        }
        Err(AddError::NotGreater) => {
            s.unchanged();
            out.error(
                "ERR The ID specified in XADD is equal or smaller than the target stream top item",
            )
        }
        Err(AddError::TooLarge) => {
            s.unchanged();
            out.error("ERR Elements are too large to be stored")
        }
    }
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
fn cmd_xtrim(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let t = match parse_trim_args(args, false, ctx.shard.config.stream_node_max_entries) {
        Ok(t) => t,
        Err(e) => return out.error(&e),
    };
    let Some(how) = t.how else {
        return out.error(SYNTAX);
    };
    let mut s = match ctx.db().modify_as::<StreamValue>(&args[1]) {
        Ok(Some(s)) => s,
        Ok(None) => return out.int(0),
        Err(e) => return out.error(e.message()),
    };
    s.set_event("xtrim");
    let n = s.trim(how, t.approx, t.limit);
    if n == 0 {
        s.unchanged();
    }
    out.int(n as i64);
}

// ---------------------------------------------------------------------------------------------
// XRANGE, XREVRANGE, XLEN, XDEL.

fn range_command(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out, rev: bool) {
    let (start_arg, end_arg) = if rev {
        (&args[3], &args[2])
    } else {
        (&args[2], &args[3])
    };
    let start = match parse_start(start_arg) {
        Ok(i) => i,
        Err(e) => return out.error(e),
    };
    let end = match parse_end(end_arg) {
        Ok(i) => i,
        Err(e) => return out.error(e),
    };
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if eq_ic(&args[j], "count") && j + 1 < args.len() {
            match parse_i64(&args[j + 1]) {
                Ok(n) => count = n.max(0),
                Err(e) => return out.error(e.message()),
            }
            j += 2;
        } else {
            return out.error(SYNTAX);
        }
    }
    let s = match get_stream(ctx.db(), &args[1]) {
        Ok(Some(s)) => s,
        Ok(None) => return out.array(0),
        Err(e) => return out.error(e),
    };
    if count == 0 {
        return out.null_array();
    }
    let count = if count < 0 { 0 } else { count as usize };
    reply_range(out, s, start, end, count, rev);
}

/// XRANGE key start end [COUNT count]
fn cmd_xrange(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    range_command(ctx, args, out, false)
}

/// XREVRANGE key end start [COUNT count]
fn cmd_xrevrange(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    range_command(ctx, args, out, true)
}

/// XLEN key
fn cmd_xlen(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match get_stream(ctx.db(), &args[1]) {
        Ok(Some(s)) => out.int(s.len() as i64),
        Ok(None) => out.int(0),
        Err(e) => out.error(e),
    }
}

/// XDEL key id [id ...]
fn cmd_xdel(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let mut s = match ctx.db().modify_as::<StreamValue>(&args[1]) {
        Ok(Some(s)) => s,
        Ok(None) => return out.int(0),
        Err(e) => return out.error(e.message()),
    };
    let mut ids = Vec::with_capacity(args.len() - 2);
    for a in &args[2..] {
        match parse_strict_id(a) {
            Ok(id) => ids.push(id),
            Err(e) => return out.error(e),
        }
    }
    s.set_event("xdel");
    let mut n = 0;
    for id in ids {
        if s.contains(id) && s.delete(id) {
            n += 1;
        }
    }
    if n == 0 {
        s.unchanged();
    }
    out.int(n);
}

// ---------------------------------------------------------------------------------------------
// XREAD, XREADGROUP.

/// The options of an XREAD or XREADGROUP. It borrows the group and consumer names from the
/// arguments: a blocking XREADGROUP is parsed several times per call.
struct ReadArgs<'a> {
    /// 0: no limit.
    count: usize,
    /// BLOCK's milliseconds, if given.
    block: Option<u64>,
    group: Option<(&'a [u8], &'a [u8])>,
    noack: bool,
    /// The position of the first key.
    streams: usize,
    /// How many streams.
    n: usize,
}

fn parse_read(args: &[Bytes], group_cmd: bool) -> Result<ReadArgs<'_>, String> {
    let mut r = ReadArgs {
        count: 0,
        block: None,
        group: None,
        noack: false,
        streams: 0,
        n: 0,
    };
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let o = &args[i][..];
        if eq_ic(o, "block") && more > 0 {
            i += 1;
            let t = parse_i64(&args[i])
                .map_err(|_| "ERR timeout is not an integer or out of range".to_string())?;
            if t < 0 {
                return Err("ERR timeout is negative".into());
            }
            r.block = Some(t as u64);
        } else if eq_ic(o, "count") && more > 0 {
            i += 1;
            let c = parse_i64(&args[i]).map_err(|_| NOT_INTEGER.to_string())?;
            r.count = c.max(0) as usize;
        } else if eq_ic(o, "streams") && more > 0 {
            r.streams = i + 1;
            let left = args.len() - r.streams;
            if !left.is_multiple_of(2) {
                return Err("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.".into());
            }
            r.n = left / 2;
            break;
        } else if eq_ic(o, "group") && more >= 2 {
            if !group_cmd {
                return Err(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."
                        .into(),
                );
            }
            r.group = Some((&args[i + 1], &args[i + 2]));
            i += 2;
        } else if eq_ic(o, "noack") {
            if !group_cmd {
                return Err(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."
                        .into(),
                );
            }
            r.noack = true;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    if r.streams == 0 {
        return Err(SYNTAX.into());
    }
    if group_cmd && r.group.is_none() {
        return Err("ERR Missing GROUP option for XREADGROUP".into());
    }
    Ok(r)
}

fn read_keys(args: &[Bytes], group_cmd: bool) -> Result<Vec<usize>, String> {
    let r = parse_read(args, group_cmd)?;
    Ok((r.streams..r.streams + r.n).collect())
}

/// What one stream of an XREAD(GROUP) asks for.
#[derive(Clone, Copy)]
enum ReadId {
    /// Entries after this ID.
    After(StreamId),
    /// XREADGROUP `>`: entries never delivered to the group.
    New,
}

fn nogroup_read(key: &[u8], group: &[u8]) -> String {
    format!(
        "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    )
}

const DOLLAR_IN_GROUP: &str = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.";
const GT_IN_XREAD: &str =
    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.";

/// Checks one stream of an XREAD(GROUP) as Redis does, in key order: its type, its group,
/// then its ID (`$` is the stream's last ID).
fn check_read_key(
    s: Option<&StreamValue>,
    key: &[u8],
    id_arg: &[u8],
    group: Option<&[u8]>,
) -> Result<ReadId, String> {
    if let Some(g) = group {
        if !s.is_some_and(|s| s.groups.contains_key(g)) {
            return Err(nogroup_read(key, g));
        }
    }
    if id_arg == b"$" {
        if group.is_some() {
            return Err(DOLLAR_IN_GROUP.into());
        }
        return Ok(ReadId::After(s.map_or(StreamId::MIN, |s| s.last_id)));
    }
    if id_arg == b">" {
        if group.is_none() {
            return Err(GT_IN_XREAD.into());
        }
        return Ok(ReadId::New);
    }
    Ok(ReadId::After(parse_strict_id(id_arg)?))
}

/// Serves XREADGROUP `>` on `s`: the entries after the group's last delivered ID, which
/// advance it and (unless `noack`) become pending for `consumer`. Writes the entries array.
fn serve_group_new(
    out: &mut Out,
    s: &mut StreamValue,
    group: &[u8],
    consumer: &[u8],
    count: usize,
    noack: bool,
    now: u64,
) {
    let Some(g) = s.groups.get(group) else {
        return out.array(0);
    };
    let Some(start) = g.last_id.incr() else {
        return out.array(0);
    };
    let it = s.range(start, StreamId::MAX, false);
    let list: Vec<_> = if count == 0 {
        it.collect()
    } else {
        it.take(count).collect()
    };
    out.array(list.len());
    let ids: Vec<StreamId> = list.iter().map(|(id, _)| *id).collect();
    for (id, f) in list {
        entry(out, id, f);
    }
    for id in ids {
        s.advance_group(group, id);
        if !noack {
            if let Some(g) = s.groups.get_mut(group) {
                g.deliver(id, consumer, now);
            }
        }
    }
}

/// Serves XREADGROUP with an ID: the consumer's own pending entries after it (an entry since
/// deleted is `[id, nil]`), each counted as delivered again.
fn serve_group_history(
    out: &mut Out,
    s: &mut StreamValue,
    group: &[u8],
    consumer: &[u8],
    start: StreamId,
    count: usize,
    now: u64,
) {
    let ids: Vec<StreamId> = match s.groups.get(group).and_then(|g| g.consumers.get(consumer)) {
        Some(c) => {
            let it = c.pel.range(start..).copied();
            if count == 0 {
                it.collect()
            } else {
                it.take(count).collect()
            }
        }
        None => Vec::new(),
    };
    out.array(ids.len());
    let mut found = Vec::with_capacity(ids.len());
    for &id in &ids {
        match s.get(id) {
            Some(f) => {
                entry(out, id, f);
                found.push(id);
            }
            None => {
                out.array(2);
                bulk_id(out, id);
                out.null_array();
            }
        }
    }
    if let Some(g) = s.groups.get_mut(group) {
        for id in found {
            if let Some(n) = g.pel.get_mut(&id) {
                n.delivery_time = now;
                n.delivery_count += 1;
            }
        }
    }
}

fn stream_header(out: &mut Out, key: &[u8]) {
    if !out.resp3 {
        out.array(2);
    }
    out.bulk(key);
}

/// XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...], non-blocking: the
/// streams with entries after their IDs, or a null array.
fn cmd_xread(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    read_command(keys, args, out, false)
}

/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key ... id ...
fn cmd_xreadgroup(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    read_command(keys, args, out, true)
}

fn read_command(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out, group_cmd: bool) {
    let r = match parse_read(args, group_cmd) {
        Ok(r) => r,
        Err(e) => return out.error(&e),
    };
    let group = r.group.map(|g| g.0);
    let mut ids = Vec::with_capacity(r.n);
    for i in 0..r.n {
        let key = &args[r.streams + i];
        let s = match keys.get(i).map(|e| &e.value) {
            None => None,
            Some(Value::Stream(s)) => Some(&**s),
            Some(_) => return out.error(WRONGTYPE),
        };
        match check_read_key(s, key, &args[r.streams + r.n + i], group) {
            Ok(id) => ids.push(id),
            Err(e) => return out.error(&e),
        }
    }
    let now = keys.now();
    // One stream (the usual case) is written straight into `out`: whether it is served is known
    // before anything is written. Several go through a buffer, because the reply starts with
    // how many were served and serving one can change whether a later one is (the same key
    // named twice).
    if r.n == 1 {
        if !read_ready(keys, &r, 0, ids[0])
            || !read_serve(keys, &r, args, 0, ids[0], now, out, true)
        {
            out.null_array();
        }
        return;
    }
    let mut body = Out::new(out.resp3);
    let mut served = 0;
    for (i, id) in ids.into_iter().enumerate() {
        if read_ready(keys, &r, i, id) && read_serve(keys, &r, args, i, id, now, &mut body, false) {
            served += 1;
        }
    }
    if served == 0 {
        return out.null_array();
    }
    if out.resp3 {
        out.map(served);
    } else {
        out.array(served);
    }
    out.raw(&body.buf);
}

/// Whether stream `i` of an XREAD(GROUP) has something to reply with.
fn read_ready(keys: &mut dyn Keys, r: &ReadArgs, i: usize, id: ReadId) -> bool {
    match (&r.group, id, keys.get(i).map(|e| &e.value)) {
        (None, ReadId::After(gt), Some(Value::Stream(s))) => {
            !s.is_empty() && s.last_valid_id() > gt && gt.incr().is_some()
        }
        (Some(_), ReadId::After(_), Some(Value::Stream(_))) => true,
        (Some((g, _)), ReadId::New, Some(Value::Stream(s))) => {
            !s.is_empty()
                && s.groups
                    .get(&g[..])
                    .is_some_and(|gr| s.last_valid_id() > gr.last_id)
        }
        _ => false,
    }
}

/// Writes stream `i`'s part of an XREAD(GROUP) reply (which [`read_ready`] allowed), preceded
/// by a one-stream reply header if `outer`; false if it wrote nothing.
#[allow(clippy::too_many_arguments)]
fn read_serve(
    keys: &mut dyn Keys,
    r: &ReadArgs,
    args: &[Bytes],
    i: usize,
    id: ReadId,
    now: u64,
    out: &mut Out,
    outer: bool,
) -> bool {
    let key = &args[r.streams + i];
    let header = |out: &mut Out| {
        if outer {
            if out.resp3 {
                out.map(1);
            } else {
                out.array(1);
            }
        }
        stream_header(out, key);
    };
    match (&r.group, id) {
        (None, ReadId::After(gt)) => {
            let Some(Value::Stream(s)) = keys.get(i).map(|e| &e.value) else {
                return false;
            };
            let Some(start) = gt.incr() else {
                return false;
            };
            header(out);
            reply_range(out, s, start, StreamId::MAX, r.count, false);
            true
        }
        (Some((g, c)), id) => {
            let Some(mut v) = crate::txn::get_mut_as::<StreamValue>(keys, i) else {
                return false;
            };
            header(out);
            if touch_consumer(&mut v, g, c, now) {
                v.set_event("xgroup-createconsumer");
            }
            let s: &mut StreamValue = &mut v;
            match id {
                ReadId::New => serve_group_new(out, s, g, c, r.count, r.noack, now),
                ReadId::After(gt) => {
                    let start = gt.incr().unwrap_or(StreamId::MAX);
                    serve_group_history(out, s, g, c, start, r.count, now)
                }
            }
            true
        }
        (None, ReadId::New) => false,
    }
}

/// Touches the consumer a read group serves, creating it if missing; returns whether it was
/// created (Redis then fires `xgroup-createconsumer`).
fn touch_consumer(s: &mut StreamValue, group: &[u8], consumer: &[u8], now: u64) -> bool {
    s.groups
        .get_mut(group)
        .is_some_and(|g| g.touch_consumer(consumer, now))
}

/// XREAD with BLOCK.
static XREAD: BlockingOps = BlockingOps {
    wait_keys: |a| read_keys(a, false).unwrap_or_default(),
    timeout_ms: block_ms,
    serve: |sc, a, pos, out| serve_read(sc, a, pos, out, false),
    timeout_reply: Out::null_array,
    blocks_if: Some(has_block),
    prepare: Some(resolve_dollar),
    // Only an explicit ID can find entries at once; with `$` everywhere each stream's shard
    // resolves and registers in one step, leaving no window for an entry to be missed.
    whole_first: Some(|a| {
        let Ok(r) = parse_read(a, false) else {
            return false;
        };
        a[r.streams + r.n..].iter().any(|id| &id[..] != b"$")
    }),
};

/// XREADGROUP with BLOCK.
static XREADGROUP: BlockingOps = BlockingOps {
    wait_keys: |a| read_keys(a, true).unwrap_or_default(),
    timeout_ms: block_ms,
    serve: |sc, a, pos, out| serve_read(sc, a, pos, out, true),
    timeout_reply: Out::null_array,
    blocks_if: Some(has_block),
    prepare: None,
    whole_first: Some(|_| true),
};

fn has_block(a: &[Bytes]) -> bool {
    let g = a[0].len() == 10;
    parse_read(a, g).is_ok_and(|r| r.block.is_some())
}

fn block_ms(a: &[Bytes]) -> u64 {
    let g = a[0].len() == 10;
    parse_read(a, g).ok().and_then(|r| r.block).unwrap_or(0)
}

/// XREAD BLOCK's `$`: the stream's last ID when the command blocks (0-0 if it is missing).
fn resolve_dollar(ctx: &mut ShardCtx, args: &mut [Bytes], pos: usize) {
    let Ok(r) = parse_read(args, false) else {
        return;
    };
    let id_pos = pos + r.n;
    if id_pos < args.len() && &args[id_pos][..] == b"$" {
        let last = match ctx.db().get(&args[pos]) {
            Some(Value::Stream(s)) => s.last_id,
            _ => StreamId::MIN,
        };
        args[id_pos] = Bytes::from(last.to_bytes());
    }
}

/// Serves a blocked XREAD(GROUP) from the stream at argument `pos`: replies with that stream
/// alone, as Redis does for a client it unblocks.
fn serve_read(
    sc: &mut ServeCtx,
    args: &[Bytes],
    pos: usize,
    out: &mut Out,
    group_cmd: bool,
) -> Serve {
    let Ok(r) = parse_read(args, group_cmd) else {
        return Serve::NotReady;
    };
    let key = &args[pos];
    let id_arg = &args[pos + r.n];
    let immediate = sc.immediate;
    let count = if immediate || r.count != 0 {
        r.count
    } else {
        1000
    };
    let now = sc.ctx.db().now();
    let fail = |sc: &mut ServeCtx, out: &mut Out, msg: &str| {
        if !sc.claim() {
            return Serve::Lost;
        }
        out.error(msg);
        Serve::Done
    };
    let Some((g, c)) = r.group.as_ref() else {
        // XREAD.
        let gt = match sc.ctx.db().get(key) {
            None => return Serve::NotReady,
            Some(Value::Stream(s)) => {
                let Ok(gt) = parse_strict_id(id_arg) else {
                    return Serve::NotReady;
                };
                let has = if immediate {
                    !s.is_empty() && s.last_valid_id() > gt
                } else {
                    s.last_id > gt
                };
                if !has {
                    return Serve::NotReady;
                }
                gt
            }
            Some(_) if immediate => return fail(sc, out, WRONGTYPE),
            Some(_) => return Serve::NotReady,
        };
        if !sc.claim() {
            return Serve::Lost;
        }
        let Ok(Some(s)) = get_stream(sc.ctx.db(), key) else {
            unreachable!("checked above, in the same step");
        };
        one_stream_header(out, key);
        reply_range(
            out,
            s,
            gt.incr().unwrap_or(StreamId::MAX),
            StreamId::MAX,
            count,
            false,
        );
        return Serve::Done;
    };
    // XREADGROUP.
    let id = match sc.ctx.db().get(key) {
        None if immediate => return fail(sc, out, &nogroup_read(key, g)),
        Some(Value::Stream(s)) => {
            if !s.groups.contains_key(&g[..]) {
                return if immediate {
                    fail(sc, out, &nogroup_read(key, g))
                } else {
                    fail(
                        sc,
                        out,
                        "NOGROUP the consumer group this client was blocked on no longer exists",
                    )
                };
            }
            match check_read_key(Some(s), key, id_arg, Some(g)) {
                Err(e) if immediate => return fail(sc, out, &e),
                Err(_) => return Serve::NotReady,
                Ok(ReadId::New) => {
                    let last = s.groups.get(&g[..]).map_or(StreamId::MAX, |gr| gr.last_id);
                    let has = if immediate {
                        !s.is_empty() && s.last_valid_id() > last
                    } else {
                        s.last_id > last
                    };
                    if !has {
                        return Serve::NotReady;
                    }
                    ReadId::New
                }
                Ok(id) => id,
            }
        }
        Some(_) if immediate => return fail(sc, out, WRONGTYPE),
        _ => return fail(sc, out, "UNBLOCKED the stream key no longer exists"),
    };
    if !sc.claim() {
        return Serve::Lost;
    }
    let Ok(Some(mut guard)) = sc.ctx.db().modify_as::<StreamValue>(key) else {
        unreachable!("checked above, in the same step");
    };
    one_stream_header(out, key);
    if touch_consumer(&mut guard, g, c, now) {
        guard.set_event("xgroup-createconsumer");
    }
    let s: &mut StreamValue = &mut guard;
    match id {
        ReadId::New => serve_group_new(out, s, g, c, count, r.noack, now),
        ReadId::After(gt) => {
            serve_group_history(out, s, g, c, gt.incr().unwrap_or(StreamId::MAX), count, now)
        }
    }
    Serve::Done
}

fn one_stream_header(out: &mut Out, key: &[u8]) {
    if out.resp3 {
        out.map(1);
    } else {
        out.array(1);
        out.array(2);
    }
    out.bulk(key);
}

// ---------------------------------------------------------------------------------------------
// XGROUP, XSETID.

const XGROUP_HELP: &[&str] = &[
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
];

const XINFO_HELP: &[&str] = &[
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
];

fn help(out: &mut Out, lines: &[&str]) {
    out.array(lines.len());
    for l in lines {
        out.simple(l);
    }
}

fn subcommand_syntax(args: &[Bytes], cmd: &str) -> String {
    format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&args[1][..args[1].len().min(128)]),
        cmd
    )
}

fn nogroup_for_key(group: &[u8], key: &[u8]) -> String {
    format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        String::from_utf8_lossy(group),
        String::from_utf8_lossy(key)
    )
}

/// XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP ...
fn cmd_xgroup(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let sub = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
    let argc = args.len();
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    let now = ctx.db().now();
    let db = ctx.db();
    if argc >= 4 {
        let mut i = 5;
        while i < argc {
            if sub == "create" && eq_ic(&args[i], "mkstream") {
                mkstream = true;
                i += 1;
            } else if (sub == "create" || sub == "setid")
                && eq_ic(&args[i], "entriesread")
                && i + 1 < argc
            {
                match parse_i64(&args[i + 1]) {
                    Ok(n) if n < 0 && n != INVALID_ENTRIES_READ => {
                        return out.error("ERR value for ENTRIESREAD must be positive or -1")
                    }
                    Ok(n) => entries_read = n,
                    Err(e) => return out.error(e.message()),
                }
                i += 2;
            } else {
                return out.error(&subcommand_syntax(args, "XGROUP"));
            }
        }
        let exists = match get_stream(db, &args[2]) {
            Ok(s) => s.is_some(),
            Err(e) => return out.error(e),
        };
        if !mkstream {
            if !exists {
                return out.error("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
            }
            let has_group = matches!(get_stream(db, &args[2]), Ok(Some(s)) if s.groups.contains_key(&args[3][..]));
            if !has_group && matches!(sub.as_str(), "setid" | "createconsumer" | "delconsumer") {
                return out.error(&nogroup_for_key(&args[3], &args[2]));
            }
        }
    }
    match sub.as_str() {
        "help" if argc == 2 => help(out, XGROUP_HELP),
        "create" if (5..=8).contains(&argc) => {
            let key = &args[2];
            let id = if &args[4][..] == b"$" {
                match get_stream(db, key) {
                    Ok(Some(s)) => s.last_id,
                    _ => StreamId::MIN,
                }
            } else {
                match parse_strict_id(&args[4]) {
                    Ok(id) => id,
                    Err(e) => return out.error(e),
                }
            };
            let mut s = match db
                .modify_or_insert_with::<StreamValue>(key, || Value::Stream(Box::default()))
            {
                Ok(s) => s,
                Err(e) => return out.error(e.message()),
            };
            if s.groups.contains_key(&args[3][..]) {
                if !s.is_new() {
                    s.unchanged();
                }
                return out.error("BUSYGROUP Consumer Group name already exists");
            }
            s.set_event("xgroup-create");
            s.groups
                .insert(args[3][..].into(), Group::new(id, entries_read));
            out.ok();
        }
        "setid" if argc == 5 || argc == 7 => {
            let Ok(Some(mut s)) = db.modify_as::<StreamValue>(&args[2]) else {
                return out.error(WRONGTYPE);
            };
            let id = if &args[4][..] == b"$" {
                s.last_id
            } else {
                match parse_id(&args[4], 0) {
                    Ok(id) => id,
                    Err(e) => {
                        return out.error(e);
                    }
                }
            };
            s.set_event("xgroup-setid");
            if let Some(g) = s.groups.get_mut(&args[3][..]) {
                g.last_id = id;
                g.entries_read = entries_read;
            }
            out.ok();
        }
        "destroy" if argc == 4 => {
            let Ok(Some(mut s)) = db.modify_as::<StreamValue>(&args[2]) else {
                return out.error(WRONGTYPE);
            };
            if s.groups.contains_key(&args[3][..]) {
                s.set_event("xgroup-destroy");
                s.groups.remove(&args[3][..]);
                drop(s);
                // Clients blocked in XREADGROUP on this group get NOGROUP.
                db.blocked.signal(&args[2]);
                out.int(1);
            } else {
                out.int(0);
            }
        }
        "createconsumer" if argc == 5 => {
            let Ok(Some(mut s)) = db.modify_as::<StreamValue>(&args[2]) else {
                return out.error(WRONGTYPE);
            };
            let exists = s
                .groups
                .get(&args[3][..])
                .is_some_and(|g| g.consumers.contains_key(&args[4][..]));
            if exists {
                return out.int(0);
            }
            s.set_event("xgroup-createconsumer");
            if let Some(g) = s.groups.get_mut(&args[3][..]) {
                g.touch_consumer(&args[4], now);
            }
            out.int(1);
        }
        "delconsumer" if argc == 5 => {
            let Ok(Some(mut s)) = db.modify_as::<StreamValue>(&args[2]) else {
                return out.error(WRONGTYPE);
            };
            let exists = s
                .groups
                .get(&args[3][..])
                .is_some_and(|g| g.consumers.contains_key(&args[4][..]));
            if !exists {
                return out.int(0);
            }
            s.set_event("xgroup-delconsumer");
            let n = s
                .groups
                .get_mut(&args[3][..])
                .and_then(|g| g.delete_consumer(&args[4]))
                .unwrap_or(0);
            out.int(n as i64);
        }
        _ => out.error(&subcommand_syntax(args, "XGROUP")),
    }
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
fn cmd_xsetid(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let id = match parse_strict_id(&args[2]) {
        Ok(id) => id,
        Err(e) => return out.error(e),
    };
    let mut entries_added: i64 = -1;
    let mut max_del = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if eq_ic(&args[i], "entriesadded") && more > 0 {
            match parse_i64(&args[i + 1]) {
                Ok(n) if n < 0 => return out.error("ERR entries_added must be positive"),
                Ok(n) => entries_added = n,
                Err(e) => return out.error(e.message()),
            }
            i += 2;
        } else if eq_ic(&args[i], "maxdeletedid") && more > 0 {
            match parse_strict_id(&args[i + 1]) {
                Ok(m) if id < m => return out.error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"),
                Ok(m) => max_del = m,
                Err(e) => return out.error(e),
            }
            i += 2;
        } else {
            return out.error(SYNTAX);
        }
    }
    let mut s = match ctx.db().modify_as::<StreamValue>(&args[1]) {
        Ok(Some(s)) => s,
        Ok(None) => return out.error("ERR no such key"),
        Err(e) => return out.error(e.message()),
    };
    if !s.is_empty() {
        if id < s.last_valid_id() {
            return out.error(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            );
        }
        if entries_added != -1 && s.len() > entries_added as u64 {
            return out.error("ERR The entries_added specified in XSETID is smaller than the target stream length");
        }
    }
    s.set_event("xsetid");
    s.last_id = id;
    if entries_added != -1 {
        s.entries_added = entries_added as u64;
    }
    if !max_del.is_zero() {
        s.max_deleted = max_del;
    }
    out.ok();
}

// ---------------------------------------------------------------------------------------------
// XACK, XPENDING, XCLAIM, XAUTOCLAIM.

/// XACK key group id [id ...]
fn cmd_xack(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let db = ctx.db();
    match get_stream(db, &args[1]) {
        Err(e) => return out.error(e),
        Ok(None) => return out.int(0),
        Ok(Some(s)) if !s.groups.contains_key(&args[2][..]) => return out.int(0),
        Ok(Some(_)) => {}
    }
    let mut ids = Vec::with_capacity(args.len() - 3);
    for a in &args[3..] {
        match parse_strict_id(a) {
            Ok(id) => ids.push(id),
            Err(e) => return out.error(e),
        }
    }
    let Ok(Some(mut s)) = db.modify_as::<StreamValue>(&args[1]) else {
        return out.int(0);
    };
    let mut n = 0;
    if let Some(g) = s.groups.get_mut(&args[2][..]) {
        for id in ids {
            if g.ack(id) {
                n += 1;
            }
        }
    }
    if n == 0 {
        s.unchanged();
    }
    out.int(n);
}

fn nogroup_generic(key: &[u8], group: &[u8]) -> String {
    format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    )
}

/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
fn cmd_xpending(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let argc = args.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return out.error(SYNTAX);
    }
    let mut range = None;
    if argc >= 6 {
        let mut minidle = 0i64;
        let mut at = 3;
        if eq_ic(&args[3], "idle") {
            match parse_i64(&args[4]) {
                Ok(n) => minidle = n,
                Err(e) => return out.error(e.message()),
            }
            if argc < 8 {
                return out.error(SYNTAX);
            }
            at += 2;
        }
        let count = match parse_i64(&args[at + 2]) {
            Ok(n) => n.max(0) as usize,
            Err(e) => return out.error(e.message()),
        };
        let start = match parse_start(&args[at]) {
            Ok(i) => i,
            Err(e) => return out.error(e),
        };
        let end = match parse_end(&args[at + 1]) {
            Ok(i) => i,
            Err(e) => return out.error(e),
        };
        let consumer = args.get(at + 3).cloned();
        range = Some((minidle, start, end, count, consumer));
    }
    let now = ctx.db().now();
    let s = match get_stream(ctx.db(), &args[1]) {
        Err(e) => return out.error(e),
        Ok(s) => s,
    };
    let Some(g) = s.and_then(|s| s.groups.get(&args[2][..])) else {
        return out.error(&nogroup_generic(&args[1], &args[2]));
    };
    let Some((minidle, start, end, mut count, consumer)) = range else {
        out.array(4);
        out.int(g.pel.len() as i64);
        match (g.pel.first_key_value(), g.pel.last_key_value()) {
            (Some((a, _)), Some((b, _))) => {
                bulk_id(out, *a);
                bulk_id(out, *b);
                let cs: Vec<_> = g
                    .consumers
                    .iter()
                    .filter(|(_, c)| !c.pel.is_empty())
                    .collect();
                out.array(cs.len());
                for (name, c) in cs {
                    out.array(2);
                    out.bulk(name);
                    out.bulk_int(c.pel.len() as i64);
                }
            }
            _ => {
                out.null();
                out.null();
                out.null_array();
            }
        }
        return;
    };
    let ids: Vec<StreamId> = match &consumer {
        Some(name) => match g.consumers.get(&name[..]) {
            None => return out.array(0),
            Some(c) => c
                .pel
                .range(start..)
                .copied()
                .take_while(|i| *i <= end)
                .collect(),
        },
        None => g
            .pel
            .range(start..)
            .map(|(i, _)| *i)
            .take_while(|i| *i <= end)
            .collect(),
    };
    let mut rows = Vec::new();
    for id in ids {
        if count == 0 {
            break;
        }
        let Some(n) = g.pel.get(&id) else { continue };
        let idle = now as i64 - n.delivery_time as i64;
        if minidle != 0 && idle < minidle {
            continue;
        }
        count -= 1;
        rows.push((id, n, idle.max(0)));
    }
    out.array(rows.len());
    for (id, n, idle) in rows {
        out.array(4);
        bulk_id(out, id);
        out.bulk(&n.consumer);
        out.int(idle);
        out.int(n.delivery_count as i64);
    }
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-ms]
/// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
fn cmd_xclaim(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let now = ctx.db().now() as i64;
    let db = ctx.db();
    match get_stream(db, &args[1]) {
        Err(e) => return out.error(e),
        Ok(Some(s)) if s.groups.contains_key(&args[2][..]) => {}
        _ => return out.error(&nogroup_generic(&args[1], &args[2])),
    }
    let minidle = match parse_i64(&args[4]) {
        Ok(n) => n.max(0),
        Err(_) => return out.error("ERR Invalid min-idle-time argument for XCLAIM"),
    };
    let mut ids = Vec::new();
    let mut j = 5;
    while j < args.len() {
        match parse_strict_id(&args[j]) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let (mut force, mut justid) = (false, false);
    let mut retrycount: i64 = -1;
    let mut deliverytime: i64 = -1;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = &args[j][..];
        let num = |a: &[u8], what: &str| {
            parse_i64(a).map_err(|_| format!("ERR Invalid {what} option argument for XCLAIM"))
        };
        if eq_ic(opt, "force") {
            force = true;
        } else if eq_ic(opt, "justid") {
            justid = true;
        } else if eq_ic(opt, "idle") && more > 0 {
            j += 1;
            match num(&args[j], "IDLE") {
                Ok(n) => deliverytime = now.wrapping_sub(n),
                Err(e) => return out.error(&e),
            }
        } else if eq_ic(opt, "time") && more > 0 {
            j += 1;
            match num(&args[j], "TIME") {
                Ok(n) => deliverytime = n,
                Err(e) => return out.error(&e),
            }
        } else if eq_ic(opt, "retrycount") && more > 0 {
            j += 1;
            match num(&args[j], "RETRYCOUNT") {
                Ok(n) => retrycount = n,
                Err(e) => return out.error(&e),
            }
        } else if eq_ic(opt, "lastid") && more > 0 {
            j += 1;
            match parse_strict_id(&args[j]) {
                Ok(id) => last_id = id,
                Err(e) => return out.error(e),
            }
        } else {
            return out.error(&format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(opt)
            ));
        }
        j += 1;
    }
    if deliverytime != -1 {
        if deliverytime < 0 || deliverytime > now {
            deliverytime = now;
        }
    } else {
        deliverytime = now;
    }
    let Ok(Some(mut guard)) = db.modify_as::<StreamValue>(&args[1]) else {
        return out.error(&nogroup_generic(&args[1], &args[2]));
    };
    let s: &mut StreamValue = &mut guard;
    let gname = &args[2][..];
    let name = &args[3][..];
    if let Some(g) = s.groups.get_mut(gname) {
        if last_id > g.last_id {
            g.last_id = last_id;
        }
    }
    let mut claimed: Vec<StreamId> = Vec::new();
    let mut consumer_ready = false;
    let mut created = false;
    for id in ids {
        let exists = s.contains(id);
        let Some(g) = s.groups.get_mut(gname) else {
            break;
        };
        if !exists {
            g.ack(id);
            continue;
        }
        let mut had_owner = true;
        if !g.pel.contains_key(&id) {
            if !force {
                continue;
            }
            had_owner = false;
        }
        if had_owner && minidle != 0 {
            let n = &g.pel[&id];
            if now - (n.delivery_time as i64) < minidle {
                continue;
            }
        }
        if !consumer_ready {
            created = g.touch_consumer(name, now as u64);
            consumer_ready = true;
        }
        if had_owner {
            g.reassign(id, name);
        } else {
            // A forced NACK starts as Redis's `streamCreateNACK` makes it: delivered once.
            g.deliver(id, name, now as u64);
        }
        let Some(n) = g.pel.get_mut(&id) else {
            continue;
        };
        n.delivery_time = deliverytime as u64;
        if retrycount >= 0 {
            n.delivery_count = retrycount as u64;
        } else if !justid {
            n.delivery_count += 1;
        }
        claimed.push(id);
    }
    out.array(claimed.len());
    for id in claimed {
        if justid {
            bulk_id(out, id);
        } else if let Some(f) = s.get(id) {
            entry(out, id, f);
        }
    }
    if created {
        guard.set_event("xgroup-createconsumer");
    }
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
fn cmd_xautoclaim(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let minidle = match parse_i64(&args[4]) {
        Ok(n) => n.max(0),
        Err(_) => return out.error("ERR Invalid min-idle-time argument for XAUTOCLAIM"),
    };
    let start = match parse_start(&args[5]) {
        Ok(i) => i,
        Err(e) => return out.error(e),
    };
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if eq_ic(&args[j], "count") && more > 0 {
            let max = i64::MAX / 16;
            match parse_i64(&args[j + 1]) {
                Ok(n) if (1..=max).contains(&n) => count = n,
                _ => return out.error("ERR COUNT must be > 0"),
            }
            j += 1;
        } else if eq_ic(&args[j], "justid") {
            justid = true;
        } else {
            return out.error(SYNTAX);
        }
        j += 1;
    }
    let now = ctx.db().now() as i64;
    let db = ctx.db();
    match get_stream(db, &args[1]) {
        Err(e) => return out.error(e),
        Ok(Some(s)) if s.groups.contains_key(&args[2][..]) => {}
        _ => return out.error(&nogroup_generic(&args[1], &args[2])),
    }
    let Ok(Some(mut guard)) = db.modify_as::<StreamValue>(&args[1]) else {
        return out.error(&nogroup_generic(&args[1], &args[2]));
    };
    let s: &mut StreamValue = &mut guard;
    let gname = &args[2][..];
    let name = &args[3][..];
    let mut attempts = count.saturating_mul(10);
    let mut cursor = Some(start);
    let mut eof = false;
    let mut claimed = Vec::new();
    let mut deleted = Vec::new();
    let mut consumer_ready = false;
    let mut created = false;
    loop {
        if attempts == 0 {
            break;
        }
        attempts -= 1;
        if count == 0 {
            break;
        }
        let next = cursor.and_then(|c| {
            s.groups
                .get(gname)
                .and_then(|g| g.pel.range(c..).next().map(|(i, _)| *i))
        });
        let Some(id) = next else {
            eof = true;
            break;
        };
        cursor = id.incr();
        let exists = s.contains(id);
        let Some(g) = s.groups.get_mut(gname) else {
            break;
        };
        if !exists {
            g.ack(id);
            deleted.push(id);
            count -= 1;
            continue;
        }
        if minidle != 0 {
            let n = &g.pel[&id];
            if now - (n.delivery_time as i64) < minidle {
                continue;
            }
        }
        if !consumer_ready {
            created = g.touch_consumer(name, now as u64);
            consumer_ready = true;
        }
        g.reassign(id, name);
        if let Some(n) = g.pel.get_mut(&id) {
            n.delivery_time = now as u64;
            if !justid {
                n.delivery_count += 1;
            }
        }
        claimed.push(id);
        count -= 1;
    }
    let end = if eof {
        StreamId::MIN
    } else {
        cursor
            .and_then(|c| {
                s.groups
                    .get(gname)
                    .and_then(|g| g.pel.range(c..).next().map(|(i, _)| *i))
            })
            .unwrap_or(StreamId::MIN)
    };
    if claimed.is_empty() && deleted.is_empty() && !consumer_ready {
        guard.unchanged();
    }
    if created {
        guard.set_event("xgroup-createconsumer");
    }
    let s: &StreamValue = &guard;
    out.array(3);
    bulk_id(out, end);
    out.array(claimed.len());
    for id in claimed {
        if justid {
            bulk_id(out, id);
        } else if let Some(f) = s.get(id) {
            entry(out, id, f);
        }
    }
    out.array(deleted.len());
    for id in deleted {
        bulk_id(out, id);
    }
}

// ---------------------------------------------------------------------------------------------
// XINFO.

fn lag(out: &mut Out, s: &StreamValue, g: &Group) {
    match s.lag(g) {
        Some(n) => out.int(n),
        None => out.null(),
    }
}

fn entries_read(out: &mut Out, g: &Group) {
    if g.entries_read != INVALID_ENTRIES_READ {
        out.int(g.entries_read);
    } else {
        out.null();
    }
}

/// XINFO STREAM|GROUPS|CONSUMERS|HELP ...
fn cmd_xinfo(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    if eq_ic(&args[1], "help") {
        if args.len() != 2 {
            return out.error(&subcommand_syntax(args, "XINFO"));
        }
        return help(out, XINFO_HELP);
    }
    if args.len() < 3 {
        return out.error(&subcommand_syntax(args, "XINFO"));
    }
    let now = ctx.db().now() as i64;
    let s = match get_stream(ctx.db(), &args[2]) {
        Ok(Some(s)) => s,
        Ok(None) => return out.error("ERR no such key"),
        Err(e) => return out.error(e),
    };
    let sub = &args[1][..];
    if eq_ic(sub, "consumers") && args.len() == 4 {
        let Some(g) = s.groups.get(&args[3][..]) else {
            return out.error(&nogroup_for_key(&args[3], &args[2]));
        };
        out.array(g.consumers.len());
        for (name, c) in &g.consumers {
            out.map(3);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"pending");
            out.int(c.pel.len() as i64);
            out.bulk(b"idle");
            out.int((now - c.seen_time as i64).max(0));
        }
    } else if eq_ic(sub, "groups") && args.len() == 3 {
        out.array(s.groups.len());
        for (name, g) in &s.groups {
            out.map(6);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"consumers");
            out.int(g.consumers.len() as i64);
            out.bulk(b"pending");
            out.int(g.pel.len() as i64);
            out.bulk(b"last-delivered-id");
            bulk_id(out, g.last_id);
            out.bulk(b"entries-read");
            entries_read(out, g);
            out.bulk(b"lag");
            lag(out, s, g);
        }
    } else if eq_ic(sub, "stream") {
        xinfo_stream(s, &args[3..], args, out);
    } else {
        out.error(&subcommand_syntax(args, "XINFO"));
    }
}

fn xinfo_stream(s: &StreamValue, opts: &[Bytes], args: &[Bytes], out: &mut Out) {
    let mut count: i64 = 10;
    let full = !opts.is_empty();
    if full {
        if (opts.len() != 1 && opts.len() != 3) || !eq_ic(&opts[0], "full") {
            return out.error(&subcommand_syntax(args, "XINFO"));
        }
        if opts.len() == 3 {
            if !eq_ic(&opts[1], "count") {
                return out.error(&subcommand_syntax(args, "XINFO"));
            }
            match parse_i64(&opts[2]) {
                Ok(n) => count = if n < 0 { 10 } else { n },
                Err(e) => return out.error(e.message()),
            }
        }
    }
    let count = count as usize;
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(s.len() as i64);
    out.bulk(b"radix-tree-keys");
    out.int(s.node_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(s.rax_nodes() as i64);
    out.bulk(b"last-generated-id");
    bulk_id(out, s.last_id);
    out.bulk(b"max-deleted-entry-id");
    bulk_id(out, s.max_deleted);
    out.bulk(b"entries-added");
    out.int(s.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    bulk_id(out, s.first_id);
    if !full {
        out.bulk(b"groups");
        out.int(s.groups.len() as i64);
        out.bulk(b"first-entry");
        match s.range(StreamId::MIN, StreamId::MAX, false).next() {
            Some((id, f)) => entry(out, id, f),
            None => out.null(),
        }
        out.bulk(b"last-entry");
        match s.range(StreamId::MIN, StreamId::MAX, true).next() {
            Some((id, f)) => entry(out, id, f),
            None => out.null(),
        }
        return;
    }
    out.bulk(b"entries");
    reply_range(out, s, StreamId::MIN, StreamId::MAX, count, false);
    out.bulk(b"groups");
    out.array(s.groups.len());
    let lim = |n: usize| if count == 0 { n } else { n.min(count) };
    for (name, g) in &s.groups {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        bulk_id(out, g.last_id);
        out.bulk(b"entries-read");
        entries_read(out, g);
        out.bulk(b"lag");
        lag(out, s, g);
        out.bulk(b"pel-count");
        out.int(g.pel.len() as i64);
        out.bulk(b"pending");
        out.array(lim(g.pel.len()));
        for (id, n) in g.pel.iter().take(lim(g.pel.len())) {
            out.array(4);
            bulk_id(out, *id);
            out.bulk(&n.consumer);
            out.int(n.delivery_time as i64);
            out.int(n.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            out.map(4);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(c.seen_time as i64);
            out.bulk(b"pel-count");
            out.int(c.pel.len() as i64);
            out.bulk(b"pending");
            out.array(lim(c.pel.len()));
            for id in c.pel.iter().take(lim(c.pel.len())) {
                let n = &g.pel[id];
                out.array(3);
                bulk_id(out, *id);
                out.int(n.delivery_time as i64);
                out.int(n.delivery_count as i64);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_like_redis() {
        let p = |s: &str| parse_id(s.as_bytes(), 0);
        assert_eq!(p("1-2"), Ok(StreamId::new(1, 2)));
        assert_eq!(p("5"), Ok(StreamId::new(5, 0)));
        assert_eq!(p("-"), Ok(StreamId::MIN));
        assert_eq!(p("+"), Ok(StreamId::MAX));
        assert_eq!(p("18446744073709551615-1"), Ok(StreamId::new(u64::MAX, 1)));
        assert!(p("-1").is_err());
        assert!(p("1-x").is_err());
        assert!(p("").is_err());
        assert!(parse_strict_id(b"-").is_err());
        assert_eq!(
            parse_id_full(b"7-*", 0, true, true),
            Ok((StreamId::new(7, 0), false))
        );
        assert!(parse_id(b"7-*", 0).is_err());
        assert_eq!(parse_end(b"(1-0"), Ok(StreamId::new(0, u64::MAX)));
        assert!(parse_start(b"(18446744073709551615-18446744073709551615").is_err());
    }
}
