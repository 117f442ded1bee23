//! `cmsgpack`: lua-cmsgpack 0.4.0 as Redis bundles it (`pack`, `unpack`, `unpack_one`,
//! `unpack_limit`). Whole numbers pack as the smallest integer form, others as float32 when
//! exact, else float64; tables nest at most 16 deep (deeper ones pack as nil).
//!
//! Unpacking decodes into a Rust list first and pushes it only when the input decoded, so an
//! error raises with nothing of ours left to drop.

use std::ffi::c_int;

use crate::lua::{
    check_bytes, check_int, ffi, guard, opt_int, push_bytes, raw_set_str, to_bytes, ty, Fail, L,
};

const MAX_NESTING: u32 = 16;

/// Adds `cmsgpack` to the globals at `g`.
pub(crate) unsafe fn open(l: L, g: c_int) {
    ffi::lua_createtable(l, 0, 8);
    crate::lua::set_funcs(
        l,
        &[
            ("pack", pack as ffi::lua_CFunction),
            ("unpack", unpack),
            ("unpack_one", unpack_one),
            ("unpack_limit", unpack_limit),
        ],
    );
    for (k, v) in [
        ("_NAME", "cmsgpack"),
        ("_VERSION", "lua-cmsgpack 0.4.0"),
        ("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo"),
        ("_DESCRIPTION", "MessagePack C implementation for Lua"),
    ] {
        push_bytes(l, v.as_bytes());
        raw_set_str(l, -2, k.as_bytes());
    }
    raw_set_str(l, g, b"cmsgpack");
}

// ---- packing ----

fn encode_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        buf.push(0xa0 | len as u8);
    } else if len <= 0xff {
        buf.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        buf.push(0xda);
        buf.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        buf.push(0xdb);
        buf.extend_from_slice(&(len as u32).to_be_bytes());
    }
    buf.extend_from_slice(s);
}

fn encode_int(buf: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            buf.push(n as u8);
        } else if n <= 0xff {
            buf.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            buf.push(0xcd);
            buf.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            buf.push(0xce);
            buf.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            buf.push(0xcf);
            buf.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        buf.push(n as i8 as u8);
    } else if n >= -128 {
        buf.extend_from_slice(&[0xd0, n as u8]);
    } else if n >= -32768 {
        buf.push(0xd1);
        buf.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        buf.push(0xd2);
        buf.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        buf.push(0xd3);
        buf.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_header(buf: &mut Vec<u8>, n: usize, fix: u8, b16: u8, b32: u8) {
    if n <= 15 {
        buf.push(fix | n as u8);
    } else if n <= 65535 {
        buf.push(b16);
        buf.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        buf.push(b32);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// Whether C's `(int64_t)d == d` holds for a finite `d` (out of range converts to
/// `INT64_MIN` on the machines Redis runs on).
fn is_int64(d: f64) -> bool {
    d.is_finite()
        && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&d)
        && (d as i64) as f64 == d
}

fn is_int32(d: f64) -> bool {
    d.is_finite() && (-2_147_483_648.0..2_147_483_648.0).contains(&d) && (d as i32) as f64 == d
}

unsafe fn encode_number(buf: &mut Vec<u8>, d: f64) {
    if is_int64(d) {
        encode_int(buf, d as i64);
        return;
    }
    let f = d as f32;
    if d == f as f64 {
        buf.push(0xca);
        buf.extend_from_slice(&f.to_be_bytes());
    } else {
        buf.push(0xcb);
        buf.extend_from_slice(&d.to_be_bytes());
    }
}

/// Whether the table on top of the stack has only the keys 1..n.
unsafe fn is_array(l: L) -> bool {
    let top = ffi::lua_gettop(l);
    let mut count: i64 = 0;
    let mut max: i64 = 0;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        ffi::lua_pop(l, 1);
        let ok = ty(l, -1) == ffi::LUA_TNUMBER && {
            let n = ffi::lua_tonumber(l, -1);
            n > 0.0 && is_int32(n) && {
                max = max.max(n as i64);
                true
            }
        };
        if !ok {
            ffi::lua_settop(l, top);
            return false;
        }
        count += 1;
    }
    ffi::lua_settop(l, top);
    max == count
}

/// Packs the value on top of the stack and pops it.
unsafe fn encode_value(l: L, buf: &mut Vec<u8>, level: u32) {
    let mut t = ty(l, -1);
    if t == ffi::LUA_TTABLE && level == MAX_NESTING {
        t = ffi::LUA_TNIL;
    }
    match t {
        ffi::LUA_TSTRING => encode_bytes(buf, to_bytes(l, -1).unwrap_or_default()),
        ffi::LUA_TBOOLEAN => buf.push(if ffi::lua_toboolean(l, -1) != 0 {
            0xc3
        } else {
            0xc2
        }),
        ffi::LUA_TNUMBER => encode_number(buf, ffi::lua_tonumber(l, -1)),
        ffi::LUA_TTABLE => {
            ffi::lua_checkstack(l, 3);
            if is_array(l) {
                let len = ffi::lua_objlen(l, -1);
                encode_header(buf, len, 0x90, 0xdc, 0xdd);
                for j in 1..=len {
                    ffi::lua_pushnumber(l, j as f64);
                    ffi::lua_gettable_(l, -2);
                    encode_value(l, buf, level + 1);
                }
            } else {
                let mut len = 0;
                ffi::lua_pushnil(l);
                while ffi::lua_next(l, -2) != 0 {
                    ffi::lua_pop(l, 1);
                    len += 1;
                }
                encode_header(buf, len, 0x80, 0xde, 0xdf);
                ffi::lua_pushnil(l);
                while ffi::lua_next(l, -2) != 0 {
                    ffi::lua_pushvalue(l, -2);
                    encode_value(l, buf, level + 1);
                    encode_value(l, buf, level + 1);
                }
            }
        }
        _ => buf.push(0xc0),
    }
    ffi::lua_pop(l, 1);
}

unsafe extern "C-unwind" fn pack(l: L) -> c_int {
    guard(l, |l| {
        let n = ffi::lua_gettop(l);
        if n == 0 {
            return Err(Fail::Arg(0, "MessagePack pack needs input.".into()));
        }
        let mut buf = Vec::new();
        for i in 1..=n {
            ffi::lua_pushvalue(l, i);
            encode_value(l, &mut buf, 0);
        }
        push_bytes(l, &buf);
        Ok(1)
    })
}

// ---- unpacking ----

enum Mp {
    Nil,
    Bool(bool),
    Num(f64),
    Str(Vec<u8>),
    Arr(Vec<Mp>),
    Map(Vec<(Mp, Mp)>),
}

enum DecodeError {
    Eof,
    BadFormat,
}

struct Cur<'a> {
    p: &'a [u8],
}

impl Cur<'_> {
    fn need(&self, n: usize) -> Result<(), DecodeError> {
        if self.p.len() < n {
            Err(DecodeError::Eof)
        } else {
            Ok(())
        }
    }

    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        self.need(n)?;
        let (a, b) = self.p.split_at(n);
        self.p = b;
        Ok(a)
    }

    fn be(&mut self, n: usize) -> Result<u64, DecodeError> {
        Ok(self.take(n)?.iter().fold(0u64, |v, &b| (v << 8) | b as u64))
    }

    fn value(&mut self) -> Result<Mp, DecodeError> {
        self.need(1)?;
        let b0 = self.p[0];
        self.p = &self.p[1..];
        Ok(match b0 {
            0xcc => Mp::Num(self.be(1)? as f64),
            0xd0 => Mp::Num(self.be(1)? as u8 as i8 as f64),
            0xcd => Mp::Num(self.be(2)? as f64),
            0xd1 => Mp::Num(self.be(2)? as u16 as i16 as f64),
            0xce => Mp::Num(self.be(4)? as f64),
            0xd2 => Mp::Num(self.be(4)? as u32 as i32 as f64),
            0xcf => Mp::Num(self.be(8)? as f64),
            0xd3 => Mp::Num(self.be(8)? as i64 as f64),
            0xc0 => Mp::Nil,
            0xc3 => Mp::Bool(true),
            0xc2 => Mp::Bool(false),
            0xca => Mp::Num(f32::from_bits(self.be(4)? as u32) as f64),
            0xcb => Mp::Num(f64::from_bits(self.be(8)?)),
            0xd9 => {
                let n = self.be(1)? as usize;
                Mp::Str(self.take(n)?.to_vec())
            }
            0xda => {
                let n = self.be(2)? as usize;
                Mp::Str(self.take(n)?.to_vec())
            }
            0xdb => {
                let n = self.be(4)? as usize;
                Mp::Str(self.take(n)?.to_vec())
            }
            0xdc => {
                let n = self.be(2)? as usize;
                self.array(n)?
            }
            0xdd => {
                let n = self.be(4)? as usize;
                self.array(n)?
            }
            0xde => {
                let n = self.be(2)? as usize;
                self.map(n)?
            }
            0xdf => {
                let n = self.be(4)? as usize;
                self.map(n)?
            }
            b if b & 0x80 == 0 => Mp::Num(b as f64),
            b if b & 0xe0 == 0xe0 => Mp::Num(b as i8 as f64),
            b if b & 0xe0 == 0xa0 => Mp::Str(self.take((b & 0x1f) as usize)?.to_vec()),
            b if b & 0xf0 == 0x90 => self.array((b & 0xf) as usize)?,
            b if b & 0xf0 == 0x80 => self.map((b & 0xf) as usize)?,
            _ => return Err(DecodeError::BadFormat),
        })
    }

    fn array(&mut self, n: usize) -> Result<Mp, DecodeError> {
        let mut v = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            v.push(self.value()?);
        }
        Ok(Mp::Arr(v))
    }

    fn map(&mut self, n: usize) -> Result<Mp, DecodeError> {
        let mut v = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let k = self.value()?;
            let val = self.value()?;
            v.push((k, val));
        }
        Ok(Mp::Map(v))
    }
}

/// Pushes a decoded value; `Err` when a map key cannot index a table (as Lua refuses).
unsafe fn push_mp(l: L, v: &Mp) -> Result<(), Fail> {
    if ffi::lua_checkstack(l, 3) == 0 {
        return Err(Fail::Where(
            "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"
                .into(),
        ));
    }
    match v {
        Mp::Nil => ffi::lua_pushnil(l),
        Mp::Bool(b) => ffi::lua_pushboolean(l, *b as c_int),
        Mp::Num(d) => ffi::lua_pushnumber(l, *d),
        Mp::Str(s) => push_bytes(l, s),
        Mp::Arr(items) => {
            ffi::lua_createtable(l, 0, 0);
            for (i, it) in items.iter().enumerate() {
                ffi::lua_pushnumber(l, (i + 1) as f64);
                push_mp(l, it)?;
                ffi::lua_settable(l, -3);
            }
        }
        Mp::Map(items) => {
            ffi::lua_createtable(l, 0, 0);
            for (k, it) in items {
                match k {
                    Mp::Nil => return Err(Fail::Plain("table index is nil".into())),
                    Mp::Num(d) if d.is_nan() => {
                        return Err(Fail::Plain("table index is NaN".into()))
                    }
                    _ => {}
                }
                push_mp(l, k)?;
                push_mp(l, it)?;
                ffi::lua_settable(l, -3);
            }
        }
    }
    Ok(())
}

unsafe fn unpack_full(l: L, limit: i64, offset: i64) -> Result<c_int, Fail> {
    let s = check_bytes(l, 1)?;
    let len = s.len() as i64;
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        return Err(Fail::Where(format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32, len as i32
        )));
    } else if offset > len {
        return Err(Fail::Where(format!(
            "Start offset {} greater than input length {}.",
            offset as i32, len as i32
        )));
    }
    let limit = if decode_all { i32::MAX as i64 } else { limit };
    let mut cur = Cur {
        p: &s[offset as usize..],
    };
    let mut values = Vec::new();
    let mut cnt = 0;
    while !cur.p.is_empty() && cnt < limit {
        match cur.value() {
            Ok(v) => values.push(v),
            Err(DecodeError::Eof) => return Err(Fail::Where("Missing bytes in input.".into())),
            Err(DecodeError::BadFormat) => {
                return Err(Fail::Where("Bad data format in input.".into()))
            }
        }
        cnt += 1;
    }
    let left = cur.p.len() as i64;
    let mut n = values.len() as c_int;
    if !decode_all {
        ffi::lua_pushinteger(l, if left == 0 { -1 } else { len - left });
        n += 1;
    }
    for v in &values {
        push_mp(l, v)?;
    }
    Ok(n)
}

unsafe extern "C-unwind" fn unpack(l: L) -> c_int {
    guard(l, |l| unpack_full(l, 0, 0))
}

unsafe extern "C-unwind" fn unpack_one(l: L) -> c_int {
    guard(l, |l| {
        let offset = opt_int(l, 2, 0)?;
        ffi::lua_settop(l, 1);
        unpack_full(l, 1, offset)
    })
}

unsafe extern "C-unwind" fn unpack_limit(l: L) -> c_int {
    guard(l, |l| {
        let limit = check_int(l, 2)?;
        let offset = opt_int(l, 3, 0)?;
        ffi::lua_settop(l, 1);
        unpack_full(l, limit, offset)
    })
}
