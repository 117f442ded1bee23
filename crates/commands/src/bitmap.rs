//! Bitmap commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD,
//! BITFIELD_RO. Bit 0 is the most significant bit of the first byte, as in Redis.

use bytes::Bytes;
use rustis_resp::errors::SYNTAX;
use rustis_resp::Out;
use rustis_storage::string::{itoa_buf, StrValue};
use rustis_storage::{Entry, KeyMut, OpError, Value};

use crate::args::{eq_ic, parse_i64};
use crate::ctx::ShardCtx;
use crate::registry::{Binding, Registry, Run};
use crate::txn::Keys;

const BIT_OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";
const BITFIELD_TYPE_ERR: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(Binding::new("setbit", Run::Shard(cmd_setbit)));
    r.add(Binding::new("getbit", Run::Shard(cmd_getbit)));
    r.add(Binding::new("bitcount", Run::Shard(cmd_bitcount)));
    r.add(Binding::new("bitpos", Run::Shard(cmd_bitpos)));
    r.add(Binding::new("bitop", Run::Txn(txn_bitop)));
    r.add(Binding::new("bitfield", Run::Shard(cmd_bitfield)));
    r.add(Binding::new("bitfield_ro", Run::Shard(cmd_bitfield_ro)));
}

/// Parses a bit offset as Redis does: non-negative and within `proto-max-bulk-len` bytes.
/// With `hash` (the `#N` form), the number is multiplied by the field width `bits`.
pub fn parse_bit_offset(arg: &[u8], hash: bool, bits: u32, max_bytes: usize) -> Option<u64> {
    let (arg, hash) = if hash && arg.first() == Some(&b'#') {
        (&arg[1..], true)
    } else {
        (arg, false)
    };
    let n = parse_i64(arg).ok()?;
    let n = if hash { n.checked_mul(bits as i64)? } else { n };
    if n < 0 || (n as u64 >> 3) >= max_bytes as u64 {
        return None;
    }
    Some(n as u64)
}

fn bit_at(b: &[u8], pos: u64) -> u8 {
    let byte = (pos >> 3) as usize;
    match b.get(byte) {
        Some(v) => (v >> (7 - (pos & 7))) & 1,
        None => 0,
    }
}

fn set_bit_in(b: &mut [u8], pos: u64, on: bool) {
    let byte = (pos >> 3) as usize;
    let mask = 1u8 << (7 - (pos & 7));
    if on {
        b[byte] |= mask;
    } else {
        b[byte] &= !mask;
    }
}

/// The string at `key`, created if missing, opened for a change and turned into a growable
/// buffer at least `min_len` bytes long, for the bit commands that write. The caller reaches
/// the buffer with `make_raw`, which is then free.
fn string_for_write<'a>(
    ctx: &'a mut ShardCtx,
    key: &'a [u8],
    min_len: usize,
) -> Result<KeyMut<'a, StrValue>, OpError> {
    let db = ctx.db();
    let mut s: KeyMut<StrValue> =
        db.modify_or_insert_with(key, || Value::Str(StrValue::Raw(Vec::new())))?;
    let buf = s.make_raw();
    if buf.len() < min_len {
        buf.resize(min_len, 0);
    }
    Ok(s)
}

/// SETBIT key offset value
fn cmd_setbit(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let max = ctx.shard.config.proto_max_bulk_len;
    let Some(pos) = parse_bit_offset(&args[2], false, 1, max) else {
        return out.error(BIT_OFFSET_ERR);
    };
    let on = match &args[3][..] {
        b"1" => true,
        b"0" => false,
        _ => return out.error("ERR bit is not an integer or out of range"),
    };
    match string_for_write(ctx, &args[1], (pos >> 3) as usize + 1) {
        Ok(mut s) => {
            let buf = s.make_raw();
            let old = bit_at(buf, pos);
            set_bit_in(buf, pos, on);
            out.int(old as i64);
        }
        Err(e) => out.error(e.message()),
    }
}

/// GETBIT key offset
fn cmd_getbit(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let max = ctx.shard.config.proto_max_bulk_len;
    let Some(pos) = parse_bit_offset(&args[2], false, 1, max) else {
        return out.error(BIT_OFFSET_ERR);
    };
    let db = ctx.db();
    let hit = db.contains(&args[1]);
    db.count_lookup(hit);
    match db.get_str(&args[1]) {
        Ok(None) => out.int(0),
        Ok(Some(s)) => {
            let mut scratch = itoa_buf::Buffer::new();
            out.int(bit_at(s.as_bytes(&mut scratch), pos) as i64)
        }
        Err(e) => out.error(e.message()),
    }
}

/// Turns a BITCOUNT/BITPOS range into an inclusive bit range over a string of `len` bytes,
/// with Redis's clamping; `None` when it is empty.
pub fn bit_range(start: i64, end: i64, is_bit: bool, len: usize) -> Option<(u64, u64)> {
    let total = if is_bit { len as i64 * 8 } else { len as i64 };
    let mut s = if start < 0 { total + start } else { start };
    let mut e = if end < 0 { total + end } else { end };
    s = s.max(0);
    e = e.max(0);
    if e >= total {
        e = total - 1;
    }
    if s > e {
        return None;
    }
    if is_bit {
        Some((s as u64, e as u64))
    } else {
        Some((s as u64 * 8, e as u64 * 8 + 7))
    }
}

fn count_bits(b: &[u8], first: u64, last: u64) -> u64 {
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let mut n: u64 = b[fb..=lb].iter().map(|x| x.count_ones() as u64).sum();
    // Take off the bits of the end bytes that lie outside the range.
    for p in fb as u64 * 8..first {
        n -= bit_at(b, p) as u64;
    }
    for p in last + 1..lb as u64 * 8 + 8 {
        n -= bit_at(b, p) as u64;
    }
    n
}

fn parse_unit(arg: &[u8]) -> Result<bool, OpError> {
    if eq_ic(arg, "bit") {
        Ok(true)
    } else if eq_ic(arg, "byte") {
        Ok(false)
    } else {
        Err(OpError::Syntax)
    }
}

/// BITCOUNT key [start end [BYTE | BIT]]
fn cmd_bitcount(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let db = ctx.db();
    let hit = db.contains(&args[1]);
    db.count_lookup(hit);
    // Redis 7.0 looks the key up before it reads the range: a missing key is 0 whatever follows.
    let s = match db.get_str(&args[1]) {
        Ok(None) => return out.int(0),
        Ok(Some(s)) => s,
        Err(e) => return out.error(e.message()),
    };
    let mut scratch = itoa_buf::Buffer::new();
    let b = s.as_bytes(&mut scratch);
    let range = match args.len() {
        2 => bit_range(0, -1, false, b.len()),
        4 | 5 => {
            let r = (|| {
                let start = parse_i64(&args[2])?;
                let end = parse_i64(&args[3])?;
                let is_bit = if args.len() == 5 {
                    parse_unit(&args[4])?
                } else {
                    false
                };
                Ok::<_, OpError>(bit_range(start, end, is_bit, b.len()))
            })();
            match r {
                Ok(r) => r,
                Err(e) => return out.error(e.message()),
            }
        }
        _ => return out.error(SYNTAX),
    };
    match range {
        Some((f, l)) => out.int(count_bits(b, f, l) as i64),
        None => out.int(0),
    }
}

/// BITPOS key bit [start [end [BYTE | BIT]]]
fn cmd_bitpos(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let bit = match parse_i64(&args[2]) {
        Ok(b @ (0 | 1)) => b as u8,
        Ok(_) => return out.error("ERR The bit argument must be 1 or 0."),
        Err(e) => return out.error(e.message()),
    };
    let db = ctx.db();
    let hit = db.contains(&args[1]);
    db.count_lookup(hit);
    let s = match db.get_str(&args[1]) {
        Ok(None) => return out.int(if bit == 1 { -1 } else { 0 }),
        Ok(Some(s)) => s,
        Err(e) => return out.error(e.message()),
    };
    let mut scratch = itoa_buf::Buffer::new();
    let b = s.as_bytes(&mut scratch);
    let mut end_given = false;
    let range = match args.len() {
        3 => bit_range(0, -1, false, b.len()),
        4..=6 => {
            let r = (|| {
                let start = parse_i64(&args[3])?;
                let is_bit = if args.len() == 6 {
                    parse_unit(&args[5])?
                } else {
                    false
                };
                let end = if args.len() >= 5 {
                    end_given = true;
                    parse_i64(&args[4])?
                } else {
                    -1
                };
                Ok::<_, OpError>(bit_range(start, end, is_bit, b.len()))
            })();
            match r {
                Ok(r) => r,
                Err(e) => return out.error(e.message()),
            }
        }
        _ => return out.error(SYNTAX),
    };
    let Some((first, last)) = range else {
        return out.int(-1);
    };
    match (first..=last).find(|&p| bit_at(b, p) == bit) {
        Some(p) => out.int(p as i64),
        // Without an explicit end, the string counts as padded with zeros on the right.
        None if bit == 0 && !end_given => out.int(last as i64 + 1),
        None => out.int(-1),
    }
}

/// BITOP AND | OR | XOR | NOT destkey key [key ...]
fn txn_bitop(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    let op = &args[1];
    let kind = if eq_ic(op, "and") {
        b'&'
    } else if eq_ic(op, "or") {
        b'|'
    } else if eq_ic(op, "xor") {
        b'^'
    } else if eq_ic(op, "not") {
        b'~'
    } else {
        return out.error(SYNTAX);
    };
    if kind == b'~' && keys.len() != 2 {
        return out.error("ERR BITOP NOT must be called with a single source key.");
    }
    let mut srcs: Vec<Vec<u8>> = Vec::with_capacity(keys.len() - 1);
    for i in 1..keys.len() {
        match keys.get(i).map(|e| &e.value) {
            None => srcs.push(Vec::new()),
            Some(Value::Str(s)) => srcs.push(s.to_vec()),
            Some(_) => return out.error(OpError::WrongType.message()),
        }
    }
    let len = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    let byte = |s: &Vec<u8>, i: usize| s.get(i).copied().unwrap_or(0);
    let res: Vec<u8> = (0..len)
        .map(|i| match kind {
            b'~' => !byte(&srcs[0], i),
            b'&' => srcs.iter().fold(0xff, |acc, s| acc & byte(s, i)),
            b'|' => srcs.iter().fold(0, |acc, s| acc | byte(s, i)),
            _ => srcs.iter().fold(0, |acc, s| acc ^ byte(s, i)),
        })
        .collect();
    if res.is_empty() {
        keys.delete(0);
        return out.int(0);
    }
    let n = res.len();
    keys.put(0, Entry::new(Value::Str(StrValue::Raw(res)), None));
    out.int(n as i64);
}

/// How BITFIELD handles a result that does not fit its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Keep the low bits (the default).
    Wrap,
    /// Clamp to the field's minimum or maximum.
    Sat,
    /// Leave the field alone and reply null.
    Fail,
}

/// A field type: signed or not, and its width in bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldType {
    /// `i` (true) or `u`.
    pub signed: bool,
    /// 1..=64 for signed, 1..=63 for unsigned.
    pub bits: u32,
}

/// One BITFIELD operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    /// `GET type offset`.
    Get(FieldType, u64),
    /// `SET type offset value`, with the overflow rule in force.
    Set(FieldType, u64, i64, Overflow),
    /// `INCRBY type offset increment`, with the overflow rule in force.
    Incr(FieldType, u64, i64, Overflow),
}

/// Parses a field type (`i8`, `u16`, ...).
pub fn parse_field_type(arg: &[u8]) -> Option<FieldType> {
    let signed = match arg.first()? {
        b'i' => true,
        b'u' => false,
        _ => return None,
    };
    let bits = parse_i64(&arg[1..]).ok()?;
    if bits < 1 || (signed && bits > 64) || (!signed && bits > 63) {
        return None;
    }
    Some(FieldType {
        signed,
        bits: bits as u32,
    })
}

/// Parses BITFIELD's operations; `read_only` is BITFIELD_RO's rule. The error is the full
/// reply text.
pub fn parse_bitfield(
    args: &[Bytes],
    read_only: bool,
    max_bytes: usize,
) -> Result<Vec<FieldOp>, String> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        let left = args.len() - i - 1;
        if eq_ic(a, "overflow") && left >= 1 {
            let v = &args[i + 1];
            overflow = if eq_ic(v, "wrap") {
                Overflow::Wrap
            } else if eq_ic(v, "sat") {
                Overflow::Sat
            } else if eq_ic(v, "fail") {
                Overflow::Fail
            } else {
                return Err("ERR Invalid OVERFLOW type specified".into());
            };
            i += 2;
            continue;
        }
        let (is_get, is_set, is_incr) = (eq_ic(a, "get"), eq_ic(a, "set"), eq_ic(a, "incrby"));
        let need = if is_get { 2 } else { 3 };
        if !(is_get || is_set || is_incr) || left < need {
            return Err(SYNTAX.into());
        }
        if read_only && !is_get {
            return Err("ERR BITFIELD_RO only supports the GET subcommand".into());
        }
        let ty = parse_field_type(&args[i + 1]).ok_or_else(|| BITFIELD_TYPE_ERR.to_string())?;
        let off = parse_bit_offset(&args[i + 2], true, ty.bits, max_bytes)
            .ok_or_else(|| BIT_OFFSET_ERR.to_string())?;
        if is_get {
            ops.push(FieldOp::Get(ty, off));
        } else {
            let v = parse_i64(&args[i + 3]).map_err(|e| e.message().to_string())?;
            ops.push(if is_set {
                FieldOp::Set(ty, off, v, overflow)
            } else {
                FieldOp::Incr(ty, off, v, overflow)
            });
        }
        i += need + 1;
    }
    Ok(ops)
}

/// Reads a field as an unsigned number of `bits` bits.
fn read_field(b: &[u8], off: u64, bits: u32) -> u64 {
    (0..bits as u64).fold(0u64, |acc, k| (acc << 1) | bit_at(b, off + k) as u64)
}

fn write_field(b: &mut [u8], off: u64, bits: u32, v: u64) {
    for k in 0..bits as u64 {
        let bit = (v >> (bits as u64 - 1 - k)) & 1;
        set_bit_in(b, off + k, bit == 1);
    }
}

fn to_signed(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// Fits `v` into a field of type `ty` under `ov`; `None` when it overflows under FAIL.
pub fn fit(v: i128, ty: FieldType, ov: Overflow) -> Option<i64> {
    let (min, max) = if ty.signed {
        (-(1i128 << (ty.bits - 1)), (1i128 << (ty.bits - 1)) - 1)
    } else {
        (0, (1i128 << ty.bits) - 1)
    };
    if v >= min && v <= max {
        return Some(v as i64);
    }
    match ov {
        Overflow::Fail => None,
        Overflow::Sat => Some(if v > max { max } else { min } as i64),
        Overflow::Wrap => {
            let low = (v as u128 as u64) & (u64::MAX >> (64 - ty.bits));
            Some(if ty.signed {
                to_signed(low, ty.bits)
            } else {
                low as i64
            })
        }
    }
}

/// Runs BITFIELD operations on `key`; one reply element per GET, SET and INCRBY.
pub fn op_bitfield(
    ctx: &mut ShardCtx,
    key: &[u8],
    ops: &[FieldOp],
) -> Result<Vec<Option<i64>>, OpError> {
    let highest = ops
        .iter()
        .filter_map(|op| match op {
            FieldOp::Get(..) => None,
            FieldOp::Set(t, o, ..) | FieldOp::Incr(t, o, ..) => Some(o + t.bits as u64 - 1),
        })
        .max();
    let Some(highest) = highest else {
        // Only GETs: read without creating anything.
        let db = ctx.db();
        let mut scratch = itoa_buf::Buffer::new();
        let s = db.get_str(key)?;
        let b: &[u8] = s.map_or(&[], |s| s.as_bytes(&mut scratch));
        return Ok(ops
            .iter()
            .map(|op| match op {
                FieldOp::Get(t, o) => Some(get_value(b, *t, *o)),
                _ => None,
            })
            .collect());
    };
    // Redis grows the string to fit the highest write before running any operation.
    let mut s = string_for_write(ctx, key, (highest >> 3) as usize + 1)?;
    let buf = s.make_raw();
    let mut res = Vec::with_capacity(ops.len());
    for op in ops {
        match *op {
            FieldOp::Get(t, o) => res.push(Some(get_value(buf, t, o))),
            FieldOp::Set(t, o, v, ov) => {
                let old = get_value(buf, t, o);
                let v = if t.signed {
                    v as i128
                } else {
                    v as u64 as i128
                };
                match fit(v, t, ov) {
                    Some(n) => {
                        write_field(buf, o, t.bits, n as u64);
                        res.push(Some(old));
                    }
                    None => res.push(None),
                }
            }
            FieldOp::Incr(t, o, by, ov) => {
                let old = get_value(buf, t, o);
                match fit(old as i128 + by as i128, t, ov) {
                    Some(n) => {
                        write_field(buf, o, t.bits, n as u64);
                        res.push(Some(n));
                    }
                    None => res.push(None),
                }
            }
        }
    }
    Ok(res)
}

fn get_value(b: &[u8], t: FieldType, off: u64) -> i64 {
    let v = read_field(b, off, t.bits);
    if t.signed {
        to_signed(v, t.bits)
    } else {
        v as i64
    }
}

fn bitfield_generic(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out, read_only: bool) {
    let max = ctx.shard.config.proto_max_bulk_len;
    let ops = match parse_bitfield(args, read_only, max) {
        Ok(o) => o,
        Err(e) => return out.error(&e),
    };
    match op_bitfield(ctx, &args[1], &ops) {
        Ok(res) => {
            out.array(res.len());
            for r in res {
                match r {
                    Some(n) => out.int(n),
                    None => out.null(),
                }
            }
        }
        Err(e) => out.error(e.message()),
    }
}

/// BITFIELD key [GET encoding offset | [OVERFLOW WRAP | SAT | FAIL] SET encoding offset value |
/// INCRBY encoding offset increment ...]
fn cmd_bitfield(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    bitfield_generic(ctx, args, out, false);
}

/// BITFIELD_RO key [GET encoding offset ...]
fn cmd_bitfield_ro(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    bitfield_generic(ctx, args, out, true);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_wrap_saturate_and_fail() {
        let u8t = FieldType {
            signed: false,
            bits: 8,
        };
        let i8t = FieldType {
            signed: true,
            bits: 8,
        };
        assert_eq!(fit(256, u8t, Overflow::Wrap), Some(0));
        assert_eq!(fit(-1, u8t, Overflow::Sat), Some(0));
        assert_eq!(fit(300, u8t, Overflow::Sat), Some(255));
        assert_eq!(fit(128, i8t, Overflow::Wrap), Some(-128));
        assert_eq!(fit(128, i8t, Overflow::Fail), None);
        let i64t = FieldType {
            signed: true,
            bits: 64,
        };
        assert_eq!(
            fit(i64::MAX as i128 + 1, i64t, Overflow::Wrap),
            Some(i64::MIN)
        );
        assert_eq!(parse_field_type(b"u64"), None);
        assert_eq!(parse_field_type(b"i08"), None);
    }

    #[test]
    fn bit_ranges_clamp_like_redis() {
        assert_eq!(bit_range(0, -1, false, 3), Some((0, 23)));
        assert_eq!(bit_range(1, 1, false, 3), Some((8, 15)));
        assert_eq!(bit_range(5, 30, true, 3), Some((5, 23)));
        assert_eq!(bit_range(-1, -2, false, 3), None);
        assert_eq!(bit_range(0, -1, false, 0), None);
        let b = b"foobar";
        assert_eq!(count_bits(b, 0, 47), 26);
        assert_eq!(count_bits(b, 5, 30), 17);
    }
}
