//! `cmsgpack`: lua-cmsgpack 0.4.0 as Redis bundles it (`pack`, `unpack`, `unpack_one`,
//! `unpack_limit`). Whole numbers pack as the smallest integer form, others as float32 when
//! exact, else float64; tables nest at most 16 deep (deeper ones pack as nil).
//!
//! Unpacking fills Lua tables in place as lua-cmsgpack does, walking nested containers with a
//! work list rather than recursion, so that deep input cannot exhaust the native stack and
//! fails where lua-cmsgpack's Lua stack checks fail.

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

/// Why decoding stopped: lua-cmsgpack's cursor errors, or a Lua error to raise.
enum Stop {
    Eof,
    BadFormat,
    Raise(Fail),
}

impl From<Fail> for Stop {
    fn from(f: Fail) -> Self {
        Stop::Raise(f)
    }
}

struct Cur<'a> {
    p: &'a [u8],
}

impl Cur<'_> {
    fn need(&self, n: usize) -> Result<(), Stop> {
        if self.p.len() < n {
            Err(Stop::Eof)
        } else {
            Ok(())
        }
    }

    fn take(&mut self, n: usize) -> Result<&[u8], Stop> {
        self.need(n)?;
        let (a, b) = self.p.split_at(n);
        self.p = b;
        Ok(a)
    }

    fn be(&mut self, n: usize) -> Result<u64, Stop> {
        Ok(self.take(n)?.iter().fold(0u64, |v, &b| (v << 8) | b as u64))
    }
}

/// `luaL_checkstack`, failing with its message.
unsafe fn check_stack(l: L, msg: &str) -> Result<(), Fail> {
    if ffi::lua_checkstack(l, 1) == 0 {
        return Err(Fail::Where(format!("stack overflow ({msg})")));
    }
    Ok(())
}

/// A container being filled: an array (its elements left and the index of the next), or a
/// map (its pairs left, and whether its key is read and waits on the stack for the value).
enum Open {
    Array { left: usize, next: usize },
    Map { left: usize, want_value: bool },
}

/// Decodes one value onto the Lua stack as lua-cmsgpack does (tables filled in place, the
/// same Lua stack checks), with a work list instead of recursion.
unsafe fn decode_value(l: L, c: &mut Cur<'_>) -> Result<(), Stop> {
    let mut open: Vec<Open> = Vec::new();
    loop {
        c.need(1)?;
        check_stack(
            l,
            "too many return values at once; use unpack_one or unpack_limit instead.",
        )?;
        let b0 = c.p[0];
        c.p = &c.p[1..];
        let mut finished = true;
        match b0 {
            0xcc => ffi::lua_pushnumber(l, c.be(1)? as f64),
            0xd0 => ffi::lua_pushnumber(l, c.be(1)? as u8 as i8 as f64),
            0xcd => ffi::lua_pushnumber(l, c.be(2)? as f64),
            0xd1 => ffi::lua_pushnumber(l, c.be(2)? as u16 as i16 as f64),
            0xce => ffi::lua_pushnumber(l, c.be(4)? as f64),
            0xd2 => ffi::lua_pushnumber(l, c.be(4)? as u32 as i32 as f64),
            0xcf => ffi::lua_pushnumber(l, c.be(8)? as f64),
            0xd3 => ffi::lua_pushnumber(l, c.be(8)? as i64 as f64),
            0xca => ffi::lua_pushnumber(l, f32::from_bits(c.be(4)? as u32) as f64),
            0xcb => ffi::lua_pushnumber(l, f64::from_bits(c.be(8)?)),
            0xc0 => ffi::lua_pushnil(l),
            0xc3 | 0xc2 => ffi::lua_pushboolean(l, (b0 == 0xc3) as c_int),
            0xd9..=0xdb => {
                let n = c.be(match b0 {
                    0xd9 => 1,
                    0xda => 2,
                    _ => 4,
                })? as usize;
                push_bytes(l, c.take(n)?);
            }
            b if b & 0x80 == 0 => ffi::lua_pushnumber(l, b as f64),
            b if b & 0xe0 == 0xe0 => ffi::lua_pushnumber(l, b as i8 as f64),
            b if b & 0xe0 == 0xa0 => push_bytes(l, c.take((b & 0x1f) as usize)?),
            _ => {
                let (is_array, n) = match b0 {
                    0xdc => (true, c.be(2)? as usize),
                    0xdd => (true, c.be(4)? as usize),
                    0xde => (false, c.be(2)? as usize),
                    0xdf => (false, c.be(4)? as usize),
                    b if b & 0xf0 == 0x90 => (true, (b & 0xf) as usize),
                    b if b & 0xf0 == 0x80 => (false, (b & 0xf) as usize),
                    _ => return Err(Stop::BadFormat),
                };
                ffi::lua_createtable(l, 0, 0);
                if is_array {
                    check_stack(l, "in function mp_decode_to_lua_array")?;
                    if n > 0 {
                        ffi::lua_pushnumber(l, 1.0);
                        open.push(Open::Array {
                            left: n - 1,
                            next: 2,
                        });
                        finished = false;
                    }
                } else if n > 0 {
                    open.push(Open::Map {
                        left: n,
                        want_value: false,
                    });
                    finished = false;
                }
            }
        }
        // Store each finished value in its container; a finished container is a value too.
        while finished {
            match open.last_mut() {
                None => return Ok(()),
                Some(Open::Array { left, next }) => {
                    ffi::lua_settable(l, -3);
                    if *left == 0 {
                        open.pop();
                    } else {
                        ffi::lua_pushnumber(l, *next as f64);
                        *next += 1;
                        *left -= 1;
                        finished = false;
                    }
                }
                Some(Open::Map { left, want_value }) => {
                    if !*want_value {
                        *want_value = true;
                        finished = false;
                        continue;
                    }
                    match ty(l, -2) {
                        ffi::LUA_TNIL => {
                            return Err(Fail::Plain("table index is nil".into()).into())
                        }
                        ffi::LUA_TNUMBER if ffi::lua_tonumber(l, -2).is_nan() => {
                            return Err(Fail::Plain("table index is NaN".into()).into())
                        }
                        _ => {}
                    }
                    ffi::lua_settable(l, -3);
                    *left -= 1;
                    if *left == 0 {
                        open.pop();
                    } else {
                        *want_value = false;
                        finished = false;
                    }
                }
            }
        }
    }
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
    let mut cnt: c_int = 0;
    while !cur.p.is_empty() && (cnt as i64) < limit {
        match decode_value(l, &mut cur) {
            Ok(()) => {}
            Err(Stop::Eof) => return Err(Fail::Where("Missing bytes in input.".into())),
            Err(Stop::BadFormat) => return Err(Fail::Where("Bad data format in input.".into())),
            Err(Stop::Raise(f)) => return Err(f),
        }
        cnt += 1;
    }
    if !decode_all {
        let left = cur.p.len() as i64;
        check_stack(l, "in function mp_unpack_full")?;
        ffi::lua_pushinteger(l, if left == 0 { -1 } else { len - left });
        ffi::lua_insert(l, 2);
        cnt += 1;
    }
    Ok(cnt)
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
