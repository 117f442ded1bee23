//! The RDB value codec: how one value is written as Redis 7.0 writes it (`rdbSaveObjectType` +
//! `rdbSaveObject`) and read back (`rdbLoadObjectType` + `rdbLoadObject`), plus the primitives
//! the file format shares (lengths, strings, doubles).
//!
//! Encoding mirrors Redis's choices byte for byte where they depend only on the value: integer
//! encoding of short numeric strings, LZF for strings over 20 bytes when compression is on and
//! it saves at least 4 bytes, listpacks built as Redis builds them (integers as integers, scores
//! as `double2ll` integers or `%.17g` text), lists cut into quicklist nodes by the
//! `list-max-listpack-size` rule of a list filled from its tail, intsets of the narrowest
//! width, skiplist sorted sets from the greatest member down. Hash-table sets and hashes are
//! written in Rustis's iteration order (Redis's own order depends on its hash seed).
//!
//! Decoding trusts no length: every length is checked against the bytes that remain before
//! anything is allocated for it, an LZF string cannot claim more than its compressed size
//! could expand to, and every collection is checked for duplicates and emptiness.

use rustis_storage::hash::{HashLimits, HashValue};
use rustis_storage::list::ListValue;
use rustis_storage::set::SetValue;
use rustis_storage::string::StrValue;
use rustis_storage::zset::{ZSetLimits, ZSetValue};
use rustis_storage::{ShardConfig, Value};

use crate::listpack::{self, Builder};
use crate::lzf::{self, Compressor};
use crate::{DecodeError, EncodeError};

/// The RDB version Redis 7.0 writes.
pub const RDB_VERSION: u16 = 10;

/// Value types.
pub mod types {
    #![allow(missing_docs)]
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
}

/// File opcodes.
pub mod opcodes {
    #![allow(missing_docs)]
    pub const FUNCTION2: u8 = 245;
    pub const FUNCTION: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// Quicklist nodes' containers.
const CONTAINER_PLAIN: u64 = 1;
const CONTAINER_PACKED: u64 = 2;

/// Elements at least this long get a quicklist node of their own (`packed_threshold`).
const PACKED_THRESHOLD: usize = 1 << 30;

/// How values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// `rdbcompression`: LZF-compress strings longer than 20 bytes when it saves space.
    pub compress: bool,
    /// `list-max-listpack-size`: how lists are cut into quicklist nodes.
    pub list_fill: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            compress: true,
            list_fill: -2,
        }
    }
}

/// Writes values; keeps an LZF table to reuse across them.
pub struct Encoder {
    /// How values are written.
    pub opts: Options,
    lzf: Compressor,
}

impl Encoder {
    /// An encoder with these options.
    pub fn new(opts: Options) -> Self {
        Encoder {
            opts,
            lzf: Compressor::new(),
        }
    }

    /// Writes a value's type byte and the value, as `rdbSaveObjectType` + `rdbSaveObject`.
    pub fn value(&mut self, out: &mut Vec<u8>, v: &Value) -> Result<(), EncodeError> {
        match v {
            Value::Str(s) => {
                out.push(types::STRING);
                match s {
                    StrValue::Int(n) => write_int_string(out, *n),
                    StrValue::Emb(b) => self.string(out, b),
                    StrValue::Raw(b) => self.string(out, b),
                    StrValue::Shared(b) => self.string(out, b),
                }
            }
            Value::List(l) => {
                out.push(types::LIST_QUICKLIST_2);
                self.list(out, l);
            }
            Value::Set(s) => {
                if s.encoding() == "intset" {
                    out.push(types::SET_INTSET);
                    let blob = intset_blob(s);
                    self.string(out, &blob);
                } else {
                    out.push(types::SET);
                    write_len(out, s.len() as u64);
                    for m in s.iter() {
                        self.string(out, m);
                    }
                }
            }
            Value::Hash(h) => {
                if h.encoding() == "listpack" {
                    out.push(types::HASH_LISTPACK);
                    let mut b = Builder::new();
                    for (f, v) in h.iter() {
                        b.push(f);
                        b.push(v);
                    }
                    let lp = b.finish();
                    self.string(out, &lp);
                } else {
                    out.push(types::HASH);
                    write_len(out, h.len() as u64);
                    for (f, v) in h.iter() {
                        self.string(out, f);
                        self.string(out, v);
                    }
                }
            }
            Value::ZSet(z) => {
                if z.encoding() == "listpack" {
                    out.push(types::ZSET_LISTPACK);
                    let mut b = Builder::new();
                    for (m, s) in z.iter_from(0, false) {
                        b.push(m);
                        match double2ll(s) {
                            Some(n) => b.push_int(n),
                            None => b.push(d2string(s).as_bytes()),
                        }
                    }
                    let lp = b.finish();
                    self.string(out, &lp);
                } else {
                    out.push(types::ZSET_2);
                    write_len(out, z.len() as u64);
                    let n = z.len();
                    if n > 0 {
                        for (m, s) in z.iter_from(n - 1, true) {
                            self.string(out, m);
                            out.extend_from_slice(&s.to_le_bytes());
                        }
                    }
                }
            }
            Value::Stream(st) => {
                out.push(types::STREAM_LISTPACKS_2);
                crate::stream::encode(self, out, st);
            }
        }
        Ok(())
    }

    /// A list as quicklist nodes, cut where a list pushed from its tail would be cut.
    fn list(&mut self, out: &mut Vec<u8>, l: &ListValue) {
        let nodes = quicklist_nodes(l, self.opts.list_fill);
        write_len(out, nodes.len() as u64);
        for (container, blob) in nodes {
            write_len(out, container);
            self.string(out, &blob);
        }
    }

    /// A string as `rdbSaveRawString` writes it: as an integer when it is one of at most 11
    /// characters, LZF-compressed when that is on, the string is over 20 bytes and
    /// compression saves at least 4 bytes, else verbatim.
    pub fn string(&mut self, out: &mut Vec<u8>, s: &[u8]) {
        if s.len() <= 11 {
            if let Some(n) = listpack::string_to_i64(s) {
                if encode_int(out, n) {
                    return;
                }
            }
        }
        if self.opts.compress && s.len() > 20 {
            let mut comp = Vec::new();
            if let Some(n) = self.lzf.compress(s, s.len() - 4, &mut comp) {
                out.push(0xC0 | ENC_LZF);
                write_len(out, n as u64);
                write_len(out, s.len() as u64);
                out.extend_from_slice(&comp);
                return;
            }
        }
        write_len(out, s.len() as u64);
        out.extend_from_slice(s);
    }
}

/// How a list is cut into quicklist nodes for `list-max-listpack-size` `fill`, as a list pushed
/// from its tail is cut: `(container, node)` pairs, a node being a listpack's bytes (or a plain
/// element's). DEBUG OBJECT counts them too.
pub fn quicklist_nodes(l: &ListValue, fill: i64) -> Vec<(u64, Vec<u8>)> {
    let mut nodes: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut cur: Option<Builder> = None;
    for e in l.iter() {
        if e.len() >= PACKED_THRESHOLD {
            if let Some(b) = cur.take() {
                nodes.push((CONTAINER_PACKED, b.finish()));
            }
            nodes.push((CONTAINER_PLAIN, e.to_vec()));
            continue;
        }
        let fits = cur
            .as_ref()
            .is_some_and(|b| allow_insert(b.bytes(), b.count(), fill, e.len()));
        if !fits {
            if let Some(b) = cur.take() {
                nodes.push((CONTAINER_PACKED, b.finish()));
            }
            cur = Some(Builder::new());
        }
        if let Some(b) = cur.as_mut() {
            b.push(e);
        }
    }
    if let Some(b) = cur.take() {
        nodes.push((CONTAINER_PACKED, b.finish()));
    }
    nodes
}

/// `_quicklistNodeAllowInsert` for a node of `node_bytes` bytes and `count` entries.
fn allow_insert(node_bytes: usize, count: usize, fill: i64, sz: usize) -> bool {
    let new_sz = node_bytes + sz + 8;
    if fill < 0 {
        const LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
        let offset = (-fill - 1) as usize;
        if offset < LEVELS.len() && new_sz <= LEVELS[offset] {
            return true;
        }
        // An out-of-range negative fill never meets the size requirement.
    }
    if new_sz > 8192 {
        return false;
    }
    (count as i64) < fill
}

/// An intset blob: encoding width, count, then the members ascending, little-endian.
fn intset_blob(s: &SetValue) -> Vec<u8> {
    let vals: Vec<i64> = s
        .iter()
        .filter_map(listpack::string_to_i64)
        .collect::<Vec<_>>();
    let width: usize = if vals
        .iter()
        .all(|&v| (i16::MIN as i64..=i16::MAX as i64).contains(&v))
    {
        2
    } else if vals
        .iter()
        .all(|&v| (i32::MIN as i64..=i32::MAX as i64).contains(&v))
    {
        4
    } else {
        8
    };
    let mut b = Vec::with_capacity(8 + width * vals.len());
    b.extend_from_slice(&(width as u32).to_le_bytes());
    b.extend_from_slice(&(vals.len() as u32).to_le_bytes());
    for v in vals {
        b.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    b
}

/// Redis's `double2ll`: the double as an integer when it is one within ±LLONG_MAX/2.
pub fn double2ll(d: f64) -> Option<i64> {
    let lim = (i64::MAX / 2) as f64;
    if !(d >= -lim && d <= lim) {
        return None;
    }
    let ll = d as i64;
    (ll as f64 == d).then_some(ll)
}

/// Redis's `d2string`: how a score that is not a `double2ll` integer is written in a listpack.
pub fn d2string(d: f64) -> String {
    if d == 0.0 {
        return if d.is_sign_negative() { "-0" } else { "0" }.into();
    }
    rustis_resp::encode::fmt_double(d)
}

/// `rdbSaveLen`.
pub fn write_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// `rdbEncodeInteger`: false if `v` needs more than 32 bits.
fn encode_int(out: &mut Vec<u8>, v: i64) -> bool {
    if let Ok(x) = i8::try_from(v) {
        out.extend_from_slice(&[0xC0 | ENC_INT8, x as u8]);
    } else if let Ok(x) = i16::try_from(v) {
        out.push(0xC0 | ENC_INT16);
        out.extend_from_slice(&x.to_le_bytes());
    } else if let Ok(x) = i32::try_from(v) {
        out.push(0xC0 | ENC_INT32);
        out.extend_from_slice(&x.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// `rdbSaveLongLongAsStringObject`: an `int`-encoded string.
pub fn write_int_string(out: &mut Vec<u8>, v: i64) {
    if !encode_int(out, v) {
        let s = v.to_string();
        write_len(out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }
}

// ---- Reading. ----

/// A cursor over untrusted RDB bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn truncated() -> DecodeError {
    DecodeError::Truncated
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes read so far.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(truncated());
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    /// Eight little-endian bytes.
    pub fn u64_le(&mut self) -> Result<u64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// A length or a special encoding marker (`rdbLoadLenByRef`): `(value, is_encoded)`.
    fn len_or_enc(&mut self) -> Result<(u64, bool), DecodeError> {
        let b = self.u8()?;
        match b >> 6 {
            0 => Ok(((b & 0x3f) as u64, false)),
            1 => Ok(((((b & 0x3f) as u64) << 8) | self.u8()? as u64, false)),
            2 => match b {
                0x80 => {
                    let x = self.take(4)?;
                    Ok((u32::from_be_bytes([x[0], x[1], x[2], x[3]]) as u64, false))
                }
                0x81 => {
                    let x = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(x);
                    Ok((u64::from_be_bytes(a), false))
                }
                _ => Err(DecodeError::Format("length")),
            },
            _ => Ok(((b & 0x3f) as u64, true)),
        }
    }

    /// A plain length.
    pub fn read_len(&mut self) -> Result<u64, DecodeError> {
        match self.len_or_enc()? {
            (n, false) => Ok(n),
            _ => Err(DecodeError::Format("length")),
        }
    }

    /// A length used as a count or size in memory.
    fn len_usize(&mut self) -> Result<usize, DecodeError> {
        usize::try_from(self.read_len()?).map_err(|_| DecodeError::Format("length"))
    }

    /// A string in any of its encodings (`rdbGenericLoadStringObject`).
    pub fn string(&mut self) -> Result<Vec<u8>, DecodeError> {
        let (n, enc) = self.len_or_enc()?;
        if !enc {
            let n = usize::try_from(n).map_err(|_| truncated())?;
            return Ok(self.take(n)?.to_vec());
        }
        match n as u8 {
            ENC_INT8 => Ok((self.u8()? as i8).to_string().into_bytes()),
            ENC_INT16 => {
                let b = self.take(2)?;
                Ok(i16::from_le_bytes([b[0], b[1]]).to_string().into_bytes())
            }
            ENC_INT32 => {
                let b = self.take(4)?;
                Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]])
                    .to_string()
                    .into_bytes())
            }
            ENC_LZF => {
                let clen = self.len_usize()?;
                let ulen = self.len_usize()?;
                let data = self.take(clen)?;
                // LZF expands at most 264 bytes per 3 input bytes; a claim beyond that is a lie
                // and is refused before anything is allocated for it.
                if ulen == 0 || ulen > clen.saturating_mul(90).saturating_add(64) {
                    return Err(DecodeError::Format("compressed string length"));
                }
                lzf::decompress(data, ulen).ok_or(DecodeError::Format("compressed string"))
            }
            _ => Err(DecodeError::Format("string encoding")),
        }
    }

    /// A double as `rdbLoadDoubleValue` reads it (the old text form).
    fn text_double(&mut self) -> Result<f64, DecodeError> {
        let n = self.u8()?;
        match n {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            _ => {
                let b = self.take(n as usize)?;
                std::str::from_utf8(b)
                    .ok()
                    .and_then(|s| s.trim().parse::<f64>().ok())
                    .ok_or(DecodeError::Format("double"))
            }
        }
    }

    /// A binary double (`rdbLoadBinaryDoubleValue`).
    fn binary_double(&mut self) -> Result<f64, DecodeError> {
        Ok(f64::from_bits(self.u64_le()?))
    }
}

fn hash_limits(cfg: &ShardConfig) -> HashLimits {
    HashLimits {
        max_entries: cfg.hash_max_listpack_entries,
        max_value: cfg.hash_max_listpack_value,
    }
}

fn zset_limits(cfg: &ShardConfig) -> ZSetLimits {
    ZSetLimits {
        max_entries: cfg.zset_max_listpack_entries,
        max_value: cfg.zset_max_listpack_value,
    }
}

fn parse_score(e: listpack::Entry<'_>) -> Result<f64, DecodeError> {
    match e {
        listpack::Entry::Int(n) => Ok(n as f64),
        listpack::Entry::Str(s) => {
            let t = std::str::from_utf8(s).map_err(|_| DecodeError::Format("score"))?;
            let v = match t {
                "inf" | "+inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                _ => t.parse::<f64>().map_err(|_| DecodeError::Format("score"))?,
            };
            if v.is_nan() {
                return Err(DecodeError::Format("score"));
            }
            Ok(v)
        }
    }
}

fn zset_from(pairs: Vec<(Box<[u8]>, f64)>, cfg: &ShardConfig) -> Result<Value, DecodeError> {
    if pairs.is_empty() {
        return Err(DecodeError::Empty);
    }
    let mut seen = std::collections::HashSet::with_capacity(pairs.len());
    for (m, s) in &pairs {
        if s.is_nan() {
            return Err(DecodeError::Format("NaN score"));
        }
        if !seen.insert(&m[..]) {
            return Err(DecodeError::Format("duplicate sorted set member"));
        }
    }
    Ok(Value::ZSet(ZSetValue::from_pairs(pairs, zset_limits(cfg))))
}

/// What Redis's integrity checks call a value of type `ty` when it logs that one failed
/// (`<what> integrity check failed`).
pub fn integrity_label(ty: u8) -> &'static str {
    match ty {
        types::LIST_ZIPLIST | types::LIST_QUICKLIST => "Ziplist",
        types::HASH_ZIPLIST => "Hash ziplist",
        types::ZSET_ZIPLIST => "Zset ziplist",
        types::HASH_ZIPMAP => "Zipmap",
        types::SET_INTSET => "Intset",
        types::HASH_LISTPACK => "Hash listpack",
        types::ZSET_LISTPACK => "Zset listpack",
        types::LIST_QUICKLIST_2 => "Listpack",
        types::STREAM_LISTPACKS | types::STREAM_LISTPACKS_2 => "Stream listpack",
        _ => "Value",
    }
}

/// Appends a ziplist's or listpack's entries to a list.
fn push_entries(l: &mut ListValue, es: Vec<listpack::Entry<'_>>) {
    for e in es {
        match e {
            listpack::Entry::Str(s) => l.push_back(s),
            listpack::Entry::Int(n) => l.push_back(n.to_string().as_bytes()),
        }
    }
}

/// Reads a value of type `ty` (the type byte already read), encoded for a shard with `cfg`'s
/// encoding limits, as Redis converts on load.
pub fn read_value(r: &mut Reader<'_>, ty: u8, cfg: &ShardConfig) -> Result<Value, DecodeError> {
    let v = match ty {
        types::STRING => Value::Str(StrValue::from_bytes(&r.string()?)),
        types::LIST => {
            let n = r.read_len()?;
            let mut l = ListValue::new();
            for _ in 0..n {
                l.push_back(&r.string()?);
            }
            Value::List(l)
        }
        types::LIST_QUICKLIST_2 => {
            let nodes = r.read_len()?;
            let mut l = ListValue::new();
            for _ in 0..nodes {
                let container = r.read_len()?;
                let blob = r.string()?;
                // An empty node is corrupt, plain or packed, as Redis refuses it.
                if blob.is_empty() {
                    return Err(DecodeError::Format("empty quicklist node"));
                }
                match container {
                    CONTAINER_PLAIN => l.push_back(&blob),
                    CONTAINER_PACKED => {
                        for e in listpack::entries(&blob)? {
                            match e {
                                listpack::Entry::Str(s) => l.push_back(s),
                                listpack::Entry::Int(n) => l.push_back(n.to_string().as_bytes()),
                            }
                        }
                    }
                    _ => return Err(DecodeError::Format("quicklist container")),
                }
            }
            Value::List(l)
        }
        types::SET => {
            let n = r.read_len()?;
            let mut s = SetValue::new();
            for _ in 0..n {
                if !s.insert(&r.string()?, cfg.set_max_intset_entries) {
                    return Err(DecodeError::Format("duplicate set member"));
                }
            }
            Value::Set(s)
        }
        types::SET_INTSET => {
            let blob = r.string()?;
            let bad = DecodeError::Format("intset");
            if blob.len() < 8 {
                return Err(bad);
            }
            let width = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
            let count = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
            if !matches!(width, 2 | 4 | 8)
                || Some(blob.len()) != count.checked_mul(width).map(|b| b + 8)
            {
                return Err(bad);
            }
            let mut s = SetValue::new();
            let mut prev: Option<i64> = None;
            for c in blob[8..].chunks_exact(width) {
                let v = match width {
                    2 => i16::from_le_bytes([c[0], c[1]]) as i64,
                    4 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64,
                    _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
                };
                if prev.is_some_and(|p| p >= v) {
                    return Err(DecodeError::Format("intset order"));
                }
                prev = Some(v);
                s.insert(v.to_string().as_bytes(), cfg.set_max_intset_entries);
            }
            Value::Set(s)
        }
        types::HASH => {
            let n = r.read_len()?;
            let limits = hash_limits(cfg);
            let mut h = if n > limits.max_entries as u64 {
                // Start in the table encoding, as Redis does for a hash this long.
                HashValue::Table(Box::default())
            } else {
                HashValue::new()
            };
            for _ in 0..n {
                let f = r.string()?;
                let v = r.string()?;
                if !h.set(&f, &v, limits) {
                    return Err(DecodeError::Format("duplicate hash field"));
                }
            }
            Value::Hash(h)
        }
        types::HASH_LISTPACK => {
            let blob = r.string()?;
            let es = listpack::entries(&blob)?;
            if es.len() & 1 == 1 {
                return Err(DecodeError::Format("hash listpack"));
            }
            let limits = hash_limits(cfg);
            let mut h = HashValue::new();
            for pair in es.chunks_exact(2) {
                if !h.set(&pair[0].to_vec(), &pair[1].to_vec(), limits) {
                    return Err(DecodeError::Format("duplicate hash field"));
                }
            }
            Value::Hash(h)
        }
        types::ZSET | types::ZSET_2 => {
            let n = r.read_len()?;
            let mut pairs = Vec::new();
            for _ in 0..n {
                let m = r.string()?.into_boxed_slice();
                let s = if ty == types::ZSET {
                    r.text_double()?
                } else {
                    r.binary_double()?
                };
                pairs.push((m, s));
            }
            zset_from(pairs, cfg)?
        }
        types::ZSET_LISTPACK => {
            let blob = r.string()?;
            let es = listpack::entries(&blob)?;
            if es.len() & 1 == 1 {
                return Err(DecodeError::Format("sorted set listpack"));
            }
            let mut pairs = Vec::with_capacity(es.len() / 2);
            for pair in es.chunks_exact(2) {
                pairs.push((pair[0].to_vec().into_boxed_slice(), parse_score(pair[1])?));
            }
            zset_from(pairs, cfg)?
        }
        types::MODULE | types::MODULE_2 => return Err(DecodeError::Unsupported("module")),
        types::STREAM_LISTPACKS | types::STREAM_LISTPACKS_2 => Value::Stream(Box::new(
            crate::stream::decode(r, ty == types::STREAM_LISTPACKS_2)?,
        )),
        types::LIST_ZIPLIST => {
            let blob = r.string()?;
            let mut l = ListValue::new();
            push_entries(&mut l, crate::ziplist::entries(&blob)?);
            Value::List(l)
        }
        types::LIST_QUICKLIST => {
            // Version 1: every node a ziplist. Empty nodes are skipped, as Redis skips them;
            // a list left empty is refused below.
            let nodes = r.read_len()?;
            let mut l = ListValue::new();
            for _ in 0..nodes {
                let blob = r.string()?;
                if blob.is_empty() {
                    return Err(DecodeError::Format("empty quicklist node"));
                }
                push_entries(&mut l, crate::ziplist::entries(&blob)?);
            }
            Value::List(l)
        }
        types::HASH_ZIPMAP => {
            let blob = r.string()?;
            let limits = hash_limits(cfg);
            let mut h = HashValue::new();
            for (f, v) in crate::ziplist::zipmap_pairs(&blob)? {
                if !h.set(f, v, limits) {
                    return Err(DecodeError::Format("duplicate hash field"));
                }
            }
            Value::Hash(h)
        }
        types::HASH_ZIPLIST => {
            let blob = r.string()?;
            let es = crate::ziplist::entries(&blob)?;
            if es.len() & 1 == 1 {
                return Err(DecodeError::Format("hash ziplist"));
            }
            let limits = hash_limits(cfg);
            let mut h = HashValue::new();
            for pair in es.chunks_exact(2) {
                if !h.set(&pair[0].to_vec(), &pair[1].to_vec(), limits) {
                    return Err(DecodeError::Format("duplicate hash field"));
                }
            }
            Value::Hash(h)
        }
        types::ZSET_ZIPLIST => {
            let blob = r.string()?;
            let es = crate::ziplist::entries(&blob)?;
            if es.len() & 1 == 1 {
                return Err(DecodeError::Format("sorted set ziplist"));
            }
            let mut pairs = Vec::with_capacity(es.len() / 2);
            for pair in es.chunks_exact(2) {
                pairs.push((pair[0].to_vec().into_boxed_slice(), parse_score(pair[1])?));
            }
            zset_from(pairs, cfg)?
        }
        _ => return Err(DecodeError::Format("value type")),
    };
    let empty = match &v {
        Value::List(l) => l.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::Hash(h) => h.is_empty(),
        _ => false,
    };
    if empty {
        return Err(DecodeError::Empty);
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_use_redis_widths() {
        let mut o = Vec::new();
        write_len(&mut o, 63);
        write_len(&mut o, 64);
        write_len(&mut o, 16384);
        assert_eq!(o, [63, 0x40, 64, 0x80, 0, 0, 0x40, 0]);
        let mut r = Reader::new(&o);
        assert_eq!(r.read_len().unwrap(), 63);
        assert_eq!(r.read_len().unwrap(), 64);
        assert_eq!(r.read_len().unwrap(), 16384);
    }

    #[test]
    fn quicklist_nodes_are_cut_by_size_and_count() {
        // -2: 8 KiB nodes, whatever the count.
        assert!(allow_insert(100, 10_000, -2, 10));
        assert!(!allow_insert(8180, 1, -2, 10));
        // Positive fill: a count limit, within the 8 KiB safety limit.
        assert!(allow_insert(100, 4, 5, 10));
        assert!(!allow_insert(100, 5, 5, 10));
        assert!(!allow_insert(8190, 1, 100, 10));
    }

    #[test]
    fn untrusted_lengths_allocate_nothing_they_cannot_back() {
        // A string claiming 4 GiB with 3 bytes behind it.
        let mut r = Reader::new(&[0x80, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
        assert!(r.string().is_err());
        // An LZF string claiming a huge expansion.
        let mut r = Reader::new(&[0xC3, 1, 0x80, 0x7f, 0xff, 0xff, 0xff, 0]);
        assert!(r.string().is_err());
        // A set claiming a billion members.
        let mut r = Reader::new(&[0x80, 0x40, 0, 0, 0, 1, b'a']);
        assert!(read_value(&mut r, types::SET, &ShardConfig::default()).is_err());
    }
}
