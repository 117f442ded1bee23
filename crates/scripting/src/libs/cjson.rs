//! `cjson`: Lua CJSON 2.1.0 as Redis bundles it. `encode` writes numbers with `%.14g`,
//! escapes `/`, and refuses sparse arrays, NaN/Inf and nesting past 1000; `decode` turns JSON
//! `null` into `cjson.null` (a light userdata NULL) and accepts what C's `strtod` reads as a
//! number. Error texts are CJSON's.
//!
//! Encoding and decoding walk nested tables with a work list rather than recursion, using the
//! Lua stack as CJSON does, so that deep nesting fails where CJSON's stack checks fail and
//! never exhausts the native stack.

use std::cell::Cell;
use std::ffi::c_int;

use rustis_resp::encode::fmt_g;

use crate::lua::{check_bytes, ffi, guard, push_bytes, raw_set_str, to_bytes, ty, Fail, L};

/// The settings the `cjson.encode_*`/`decode_*` functions read and change.
#[derive(Clone, Copy)]
struct Config {
    sparse_convert: bool,
    sparse_ratio: i64,
    sparse_safe: i64,
    encode_max_depth: i64,
    decode_max_depth: i64,
    precision: i64,
    keep_buffer: bool,
    /// 0 off, 1 on, 2 null.
    encode_invalid: i64,
    decode_invalid: bool,
}

const DEFAULT: Config = Config {
    sparse_convert: false,
    sparse_ratio: 2,
    sparse_safe: 10,
    encode_max_depth: 1000,
    decode_max_depth: 1000,
    precision: 14,
    keep_buffer: true,
    encode_invalid: 0,
    decode_invalid: true,
};

thread_local! {
    static CONFIG: Cell<Config> = const { Cell::new(DEFAULT) };
}

fn config() -> Config {
    CONFIG.with(|c| c.get())
}

fn set_config(f: impl FnOnce(&mut Config)) {
    CONFIG.with(|c| {
        let mut v = c.get();
        f(&mut v);
        c.set(v)
    })
}

/// Resets the settings (a new engine starts from CJSON's defaults).
pub(crate) fn reset_config() {
    CONFIG.with(|c| c.set(DEFAULT));
}

/// Adds `cjson` to the globals at `g`.
pub(crate) unsafe fn open(l: L, g: c_int) {
    push_lib(l);
    raw_set_str(l, g, b"cjson");
}

unsafe fn push_lib(l: L) {
    ffi::lua_createtable(l, 0, 13);
    crate::lua::set_funcs(
        l,
        &[
            ("encode", encode as ffi::lua_CFunction),
            ("decode", decode),
            ("encode_sparse_array", cfg_encode_sparse_array),
            ("encode_max_depth", cfg_encode_max_depth),
            ("decode_max_depth", cfg_decode_max_depth),
            ("encode_number_precision", cfg_encode_number_precision),
            ("encode_keep_buffer", cfg_encode_keep_buffer),
            ("encode_invalid_numbers", cfg_encode_invalid_numbers),
            ("decode_invalid_numbers", cfg_decode_invalid_numbers),
            ("new", new),
        ],
    );
    ffi::lua_pushlightuserdata(l, std::ptr::null_mut());
    raw_set_str(l, -2, b"null");
    push_bytes(l, b"cjson");
    raw_set_str(l, -2, b"_NAME");
    push_bytes(l, b"2.1.0");
    raw_set_str(l, -2, b"_VERSION");
}

unsafe extern "C-unwind" fn new(l: L) -> c_int {
    push_lib(l);
    1
}

// ---- configuration ----

unsafe fn arg_init(l: L, args: c_int) -> Result<(), Fail> {
    if ffi::lua_gettop(l) > args {
        return Err(Fail::Arg(args + 1, "found too many arguments".into()));
    }
    while ffi::lua_gettop(l) < args {
        ffi::lua_pushnil(l);
    }
    Ok(())
}

unsafe fn int_option(l: L, idx: c_int, cur: i64, min: i64, max: i64) -> Result<i64, Fail> {
    if ty(l, idx) == ffi::LUA_TNIL {
        return Ok(cur);
    }
    let v = crate::lua::check_int(l, idx)?;
    if v < min || v > max {
        return Err(Fail::Arg(
            1,
            format!("expected integer between {min} and {max}"),
        ));
    }
    Ok(v)
}

/// An on/off option (or one of `options`); returns the new setting's index.
unsafe fn enum_option(l: L, idx: c_int, cur: i64, options: &[&str]) -> Result<i64, Fail> {
    if ty(l, idx) == ffi::LUA_TNIL {
        return Ok(cur);
    }
    if ty(l, idx) == ffi::LUA_TBOOLEAN {
        return Ok(ffi::lua_toboolean(l, idx) as i64);
    }
    let s = to_bytes(l, idx).ok_or(Fail::Type(idx, "string"))?;
    match options.iter().position(|o| o.as_bytes() == s) {
        Some(i) => Ok(i as i64),
        None => Err(Fail::Arg(
            idx,
            format!("invalid option '{}'", String::from_utf8_lossy(s)),
        )),
    }
}

unsafe fn push_enum(l: L, v: i64, options: &[&str]) {
    if v == 0 || v == 1 {
        ffi::lua_pushboolean(l, v as c_int);
    } else {
        push_bytes(l, options[v as usize].as_bytes());
    }
}

const ONOFF: &[&str] = &["off", "on"];

unsafe extern "C-unwind" fn cfg_encode_sparse_array(l: L) -> c_int {
    guard(l, |l| {
        arg_init(l, 3)?;
        let c = config();
        let convert = enum_option(l, 1, c.sparse_convert as i64, ONOFF)?;
        let ratio = int_option(l, 2, c.sparse_ratio, 0, i32::MAX as i64)?;
        let safe = int_option(l, 3, c.sparse_safe, 0, i32::MAX as i64)?;
        set_config(|c| {
            c.sparse_convert = convert != 0;
            c.sparse_ratio = ratio;
            c.sparse_safe = safe;
        });
        push_enum(l, convert, ONOFF);
        ffi::lua_pushinteger(l, ratio);
        ffi::lua_pushinteger(l, safe);
        Ok(3)
    })
}

unsafe fn int_cfg(
    l: L,
    get: fn(&Config) -> i64,
    set: fn(&mut Config, i64),
    min: i64,
    max: i64,
) -> Result<c_int, Fail> {
    arg_init(l, 1)?;
    let v = int_option(l, 1, get(&config()), min, max)?;
    set_config(|c| set(c, v));
    ffi::lua_pushinteger(l, v);
    Ok(1)
}

unsafe extern "C-unwind" fn cfg_encode_max_depth(l: L) -> c_int {
    guard(l, |l| {
        int_cfg(
            l,
            |c| c.encode_max_depth,
            |c, v| c.encode_max_depth = v,
            1,
            i32::MAX as i64,
        )
    })
}

unsafe extern "C-unwind" fn cfg_decode_max_depth(l: L) -> c_int {
    guard(l, |l| {
        int_cfg(
            l,
            |c| c.decode_max_depth,
            |c, v| c.decode_max_depth = v,
            1,
            i32::MAX as i64,
        )
    })
}

unsafe extern "C-unwind" fn cfg_encode_number_precision(l: L) -> c_int {
    guard(l, |l| {
        int_cfg(l, |c| c.precision, |c, v| c.precision = v, 1, 14)
    })
}

unsafe extern "C-unwind" fn cfg_encode_keep_buffer(l: L) -> c_int {
    guard(l, |l| {
        arg_init(l, 1)?;
        let v = enum_option(l, 1, config().keep_buffer as i64, ONOFF)?;
        set_config(|c| c.keep_buffer = v != 0);
        push_enum(l, v, ONOFF);
        Ok(1)
    })
}

unsafe extern "C-unwind" fn cfg_encode_invalid_numbers(l: L) -> c_int {
    guard(l, |l| {
        const OPTS: &[&str] = &["off", "on", "null"];
        arg_init(l, 1)?;
        let v = enum_option(l, 1, config().encode_invalid, OPTS)?;
        set_config(|c| c.encode_invalid = v);
        push_enum(l, v, OPTS);
        Ok(1)
    })
}

unsafe extern "C-unwind" fn cfg_decode_invalid_numbers(l: L) -> c_int {
    guard(l, |l| {
        arg_init(l, 1)?;
        let v = enum_option(l, 1, config().decode_invalid as i64, ONOFF)?;
        set_config(|c| c.decode_invalid = v != 0);
        push_enum(l, v, ONOFF);
        Ok(1)
    })
}

// ---- encoding ----

unsafe extern "C-unwind" fn encode(l: L) -> c_int {
    guard(l, |l| {
        if ffi::lua_gettop(l) != 1 {
            return Err(Fail::Arg(1, "expected 1 argument".into()));
        }
        let cfg = config();
        let mut buf = Vec::new();
        append_value(l, &cfg, &mut buf)?;
        push_bytes(l, &buf);
        Ok(1)
    })
}

fn type_name(t: c_int) -> &'static str {
    match t {
        ffi::LUA_TNIL => "nil",
        ffi::LUA_TBOOLEAN => "boolean",
        ffi::LUA_TLIGHTUSERDATA => "userdata",
        ffi::LUA_TNUMBER => "number",
        ffi::LUA_TSTRING => "string",
        ffi::LUA_TTABLE => "table",
        ffi::LUA_TFUNCTION => "function",
        ffi::LUA_TUSERDATA => "userdata",
        ffi::LUA_TTHREAD => "thread",
        _ => "no value",
    }
}

unsafe fn encode_error(l: L, idx: c_int, reason: &str) -> Fail {
    Fail::Where(format!(
        "Cannot serialise {}: {reason}",
        type_name(ty(l, idx))
    ))
}

fn append_string(buf: &mut Vec<u8>, s: &[u8]) {
    buf.push(b'"');
    for &c in s {
        match c {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'/' => buf.extend_from_slice(b"\\/"),
            b'\x08' => buf.extend_from_slice(b"\\b"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\x0c' => buf.extend_from_slice(b"\\f"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            0..=0x1f | 0x7f => buf.extend_from_slice(format!("\\u{:04x}", c).as_bytes()),
            _ => buf.push(c),
        }
    }
    buf.push(b'"');
}

unsafe fn append_number(l: L, cfg: &Config, idx: c_int, buf: &mut Vec<u8>) -> Result<(), Fail> {
    let d = ffi::lua_tonumber(l, idx);
    match cfg.encode_invalid {
        0 if d.is_nan() || d.is_infinite() => {
            return Err(encode_error(l, idx, "must not be NaN or Inf"))
        }
        1 if d.is_nan() => {
            buf.extend_from_slice(b"nan");
            return Ok(());
        }
        2 if d.is_nan() || d.is_infinite() => {
            buf.extend_from_slice(b"null");
            return Ok(());
        }
        _ => {}
    }
    if d.is_infinite() {
        buf.extend_from_slice(if d > 0.0 { b"inf" } else { b"-inf" });
        return Ok(());
    }
    buf.extend_from_slice(fmt_g(d, cfg.precision as usize).as_bytes());
    Ok(())
}

/// The array length of the table on top of the stack, or -1 when it is an object.
unsafe fn array_length(l: L, cfg: &Config) -> Result<i64, Fail> {
    let mut max: i64 = 0;
    let mut items: i64 = 0;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        if ty(l, -2) == ffi::LUA_TNUMBER {
            let k = ffi::lua_tonumber(l, -2);
            if k != 0.0 && k.floor() == k && k >= 1.0 {
                if k as i64 > max {
                    max = k as i64;
                }
                items += 1;
                ffi::lua_pop(l, 1);
                continue;
            }
        }
        ffi::lua_pop(l, 2);
        return Ok(-1);
    }
    if cfg.sparse_ratio > 0 && max > items * cfg.sparse_ratio && max > cfg.sparse_safe {
        if !cfg.sparse_convert {
            return Err(encode_error(l, -1, "excessively sparse array"));
        }
        return Ok(-1);
    }
    Ok(max)
}

/// Encodes the value on top of the stack (left there). Tables are walked with a work list,
/// not recursion, using the Lua stack as CJSON does (one slot per array level, two per object
/// level), so that nesting fails where CJSON's `lua_checkstack` does.
unsafe fn append_value(l: L, cfg: &Config, buf: &mut Vec<u8>) -> Result<(), Fail> {
    ffi::lua_pushvalue(l, -1);
    let mut tasks = vec![Enc::Value(0)];
    while let Some(t) = tasks.pop() {
        match t {
            Enc::Value(depth) => {
                match ty(l, -1) {
                    ffi::LUA_TSTRING => append_string(buf, to_bytes(l, -1).unwrap_or_default()),
                    ffi::LUA_TNUMBER => append_number(l, cfg, -1, buf)?,
                    ffi::LUA_TBOOLEAN => buf.extend_from_slice(if ffi::lua_toboolean(l, -1) != 0 {
                        b"true"
                    } else {
                        b"false"
                    }),
                    ffi::LUA_TTABLE => {
                        let depth = depth + 1;
                        if depth > cfg.encode_max_depth || ffi::lua_checkstack(l, 3) == 0 {
                            return Err(Fail::Where(format!(
                                "Cannot serialise, excessive nesting ({depth})"
                            )));
                        }
                        let len = array_length(l, cfg)?;
                        if len > 0 {
                            buf.push(b'[');
                            tasks.push(Enc::Array {
                                next: 1,
                                len,
                                depth,
                            });
                        } else {
                            buf.push(b'{');
                            ffi::lua_pushnil(l);
                            tasks.push(Enc::Object { first: true, depth });
                        }
                        continue;
                    }
                    ffi::LUA_TNIL => buf.extend_from_slice(b"null"),
                    ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, -1).is_null() => {
                        buf.extend_from_slice(b"null")
                    }
                    _ => return Err(encode_error(l, -1, "type not supported")),
                }
                ffi::lua_pop(l, 1);
            }
            Enc::Array { next, len, depth } => {
                if next > len {
                    buf.push(b']');
                    ffi::lua_pop(l, 1);
                    continue;
                }
                if next > 1 {
                    buf.push(b',');
                }
                tasks.push(Enc::Array {
                    next: next + 1,
                    len,
                    depth,
                });
                ffi::lua_rawgeti_(l, -1, next as c_int);
                tasks.push(Enc::Value(depth));
            }
            Enc::Object { first, depth } => {
                // Stack: table, previous key.
                if ffi::lua_next(l, -2) == 0 {
                    buf.push(b'}');
                    ffi::lua_pop(l, 1);
                    continue;
                }
                if !first {
                    buf.push(b',');
                }
                match ty(l, -2) {
                    ffi::LUA_TNUMBER => {
                        buf.push(b'"');
                        append_number(l, cfg, -2, buf)?;
                        buf.extend_from_slice(b"\":");
                    }
                    ffi::LUA_TSTRING => {
                        append_string(buf, to_bytes(l, -2).unwrap_or_default());
                        buf.push(b':');
                    }
                    _ => return Err(encode_error(l, -2, "table key must be a number or string")),
                }
                tasks.push(Enc::Object {
                    first: false,
                    depth,
                });
                tasks.push(Enc::Value(depth));
            }
        }
    }
    Ok(())
}

/// Encoding work left; each acts on the top of the Lua stack.
enum Enc {
    /// Encode the value on top (a table queues its elements), then pop it.
    Value(i64),
    /// Elements `next..=len` of the array on top, then pop it.
    Array { next: i64, len: i64, depth: i64 },
    /// The next pair of the object being walked (`table, key` on the stack).
    Object { first: bool, depth: i64 },
}

// ---- decoding ----

/// A scalar token's value.
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(Vec<u8>),
}

#[derive(Clone, Copy, PartialEq)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Num,
    Bool,
    Null,
    Colon,
    Comma,
    End,
}

impl Tok {
    fn name(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str => "T_STRING",
            Tok::Num => "T_NUMBER",
            Tok::Bool => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
        }
    }
}

/// A token, or the error CJSON's tokenizer reports (its text and byte index).
enum Token {
    Ok(Tok, usize, Json),
    Err(&'static str, usize),
}

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    depth: i64,
    cfg: Config,
}

impl Parser<'_> {
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn next_token(&mut self) -> Token {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let idx = self.pos;
        let ch = self.at(idx);
        let simple = match ch {
            b'{' => Some(Tok::ObjBegin),
            b'}' => Some(Tok::ObjEnd),
            b'[' => Some(Tok::ArrBegin),
            b']' => Some(Tok::ArrEnd),
            b',' => Some(Tok::Comma),
            b':' => Some(Tok::Colon),
            0 => return Token::Ok(Tok::End, idx, Json::Null),
            _ => None,
        };
        if let Some(t) = simple {
            self.pos += 1;
            return Token::Ok(t, idx, Json::Null);
        }
        if ch == b'"' {
            return self.string_token(idx);
        }
        let rest = &self.data[idx.min(self.data.len())..];
        if ch == b'-' || ch.is_ascii_digit() {
            if !self.cfg.decode_invalid && self.is_invalid_number() {
                return Token::Err("invalid number", idx);
            }
            return self.number_token(idx);
        }
        if rest.starts_with(b"true") {
            self.pos += 4;
            return Token::Ok(Tok::Bool, idx, Json::Bool(true));
        }
        if rest.starts_with(b"false") {
            self.pos += 5;
            return Token::Ok(Tok::Bool, idx, Json::Bool(false));
        }
        if rest.starts_with(b"null") {
            self.pos += 4;
            return Token::Ok(Tok::Null, idx, Json::Null);
        }
        if self.cfg.decode_invalid && self.is_invalid_number() {
            return self.number_token(idx);
        }
        Token::Err("invalid token", idx)
    }

    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        if self.at(p) == b'0' {
            let c2 = self.at(p + 1);
            return (c2 | 0x20) == b'x' || c2.is_ascii_digit();
        } else if self.at(p) <= b'9' {
            return false;
        }
        let word: Vec<u8> = (0..3)
            .map(|i| self.at(p + i).to_ascii_lowercase())
            .collect();
        word == b"inf" || word == b"nan"
    }

    fn number_token(&mut self, idx: usize) -> Token {
        match strtod(&self.data[idx.min(self.data.len())..]) {
            Some((d, n)) => {
                self.pos = idx + n;
                Token::Ok(Tok::Num, idx, Json::Num(d))
            }
            None => Token::Err("invalid number", idx),
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let mut v = 0;
        for i in 0..4 {
            v = (v << 4) | (self.at(at + i) as char).to_digit(16)?;
        }
        Some(v)
    }

    fn string_token(&mut self, idx: usize) -> Token {
        self.pos += 1;
        let mut s = Vec::new();
        loop {
            let ch = self.at(self.pos);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return Token::Err("unexpected end of string", self.pos);
            }
            if ch == b'\\' {
                let esc = self.at(self.pos + 1);
                let c = match esc {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 8,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 12,
                    b'r' => b'\r',
                    b'u' => {
                        match self.unicode_escape() {
                            Some((cp, len)) => {
                                let mut tmp = [0u8; 4];
                                let c = char::from_u32(cp).unwrap_or('\u{fffd}');
                                s.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                                self.pos += len;
                            }
                            None => return Token::Err("invalid unicode escape code", self.pos),
                        }
                        continue;
                    }
                    _ => return Token::Err("invalid escape code", self.pos),
                };
                s.push(c);
                self.pos += 2;
                continue;
            }
            s.push(ch);
            self.pos += 1;
        }
        self.pos += 1;
        Token::Ok(Tok::Str, idx, Json::Str(s))
    }

    /// `\uXXXX` (and a following low surrogate): the code point and the escape's length.
    fn unicode_escape(&self) -> Option<(u32, usize)> {
        let cp = self.hex4(self.pos + 2)?;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 {
                return None;
            }
            if self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return None;
            }
            let low = self.hex4(self.pos + 8)?;
            if low & 0xFC00 != 0xDC00 {
                return None;
            }
            return Some(((((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000, 12));
        }
        Some((cp, 6))
    }

    fn parse_error(&self, expected: &str, tok: &Token) -> Fail {
        let (found, idx) = match tok {
            Token::Ok(t, i, _) => (t.name(), *i),
            Token::Err(e, i) => (*e, *i),
        };
        Fail::Where(format!(
            "Expected {expected} but found {found} at character {}",
            idx + 1
        ))
    }

    /// Enters an object or array, as CJSON checks it: within the depth setting and with
    /// `slots` free on the Lua stack.
    unsafe fn descend(&mut self, l: L, slots: c_int) -> Result<(), Fail> {
        self.depth += 1;
        if self.depth <= self.cfg.decode_max_depth && ffi::lua_checkstack(l, slots) != 0 {
            return Ok(());
        }
        Err(Fail::Where(format!(
            "Found too many nested data structures ({}) at character {}",
            self.depth, self.pos
        )))
    }

    /// Reads the key of an object member and its colon, and pushes the key.
    unsafe fn member_key(&mut self, l: L, tok: Token) -> Result<(), Fail> {
        match tok {
            Token::Ok(Tok::Str, _, Json::Str(k)) => push_bytes(l, &k),
            other => return Err(self.parse_error("object key string", &other)),
        }
        let colon = self.next_token();
        if !matches!(colon, Token::Ok(Tok::Colon, ..)) {
            return Err(self.parse_error("colon", &colon));
        }
        Ok(())
    }

    /// Parses one value, pushing it onto the Lua stack as CJSON does (tables filled in place),
    /// with a work list instead of recursion.
    unsafe fn value(&mut self, l: L, first: Token) -> Result<(), Fail> {
        let mut frames: Vec<Frame> = Vec::new();
        let mut tok = first;
        'value: loop {
            match tok {
                Token::Ok(Tok::ObjBegin, ..) => {
                    self.descend(l, 3)?;
                    ffi::lua_createtable(l, 0, 0);
                    let t = self.next_token();
                    if matches!(t, Token::Ok(Tok::ObjEnd, ..)) {
                        self.depth -= 1;
                    } else {
                        self.member_key(l, t)?;
                        frames.push(Frame::Object);
                        tok = self.next_token();
                        continue 'value;
                    }
                }
                Token::Ok(Tok::ArrBegin, ..) => {
                    self.descend(l, 2)?;
                    ffi::lua_createtable(l, 0, 0);
                    let t = self.next_token();
                    if matches!(t, Token::Ok(Tok::ArrEnd, ..)) {
                        self.depth -= 1;
                    } else {
                        frames.push(Frame::Array(1));
                        tok = t;
                        continue 'value;
                    }
                }
                Token::Ok(Tok::Str | Tok::Num | Tok::Bool | Tok::Null, _, v) => match v {
                    Json::Null => ffi::lua_pushlightuserdata(l, std::ptr::null_mut()),
                    Json::Bool(b) => ffi::lua_pushboolean(l, b as c_int),
                    Json::Num(d) => ffi::lua_pushnumber(l, d),
                    Json::Str(s) => push_bytes(l, &s),
                },
                other => return Err(self.parse_error("value", &other)),
            }
            // A whole value is on top: store it in its container, closing finished ones.
            loop {
                match frames.last_mut() {
                    None => return Ok(()),
                    Some(Frame::Array(i)) => {
                        ffi::lua_rawseti_(l, -2, *i);
                        *i += 1;
                        let t = self.next_token();
                        match t {
                            Token::Ok(Tok::ArrEnd, ..) => {
                                self.depth -= 1;
                                frames.pop();
                            }
                            Token::Ok(Tok::Comma, ..) => {
                                tok = self.next_token();
                                continue 'value;
                            }
                            other => return Err(self.parse_error("comma or array end", &other)),
                        }
                    }
                    Some(Frame::Object) => {
                        ffi::lua_rawset(l, -3);
                        let t = self.next_token();
                        match t {
                            Token::Ok(Tok::ObjEnd, ..) => {
                                self.depth -= 1;
                                frames.pop();
                            }
                            Token::Ok(Tok::Comma, ..) => {
                                let k = self.next_token();
                                self.member_key(l, k)?;
                                tok = self.next_token();
                                continue 'value;
                            }
                            other => return Err(self.parse_error("comma or object end", &other)),
                        }
                    }
                }
            }
        }
    }
}

/// A container being filled while decoding.
enum Frame {
    /// An array (on top of the Lua stack) and the index of its next element.
    Array(c_int),
    /// An object (below its current key on the Lua stack).
    Object,
}

/// C's `strtod` on the start of `s`: the value and how many bytes it read.
pub(crate) fn strtod(s: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    let neg = match s.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let rest = &s[i..];
    let lower = |n: usize| -> Vec<u8> {
        rest.iter()
            .take(n)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let sign = if neg { -1.0 } else { 1.0 };
    if lower(8) == b"infinity" {
        return Some((sign * f64::INFINITY, i + 8));
    }
    if lower(3) == b"inf" {
        return Some((sign * f64::INFINITY, i + 3));
    }
    if lower(3) == b"nan" {
        return Some((f64::NAN, i + 3));
    }
    if lower(2) == b"0x" {
        let digits = rest[2..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        if digits > 0 {
            let mut v = 0f64;
            for &c in &rest[2..2 + digits] {
                v = v * 16.0 + (c as char).to_digit(16).unwrap_or(0) as f64;
            }
            return Some((sign * v, i + 2 + digits));
        }
        return Some((0.0 * sign, i + 1));
    }
    let mut j = 0;
    let int_digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    j += int_digits;
    let mut frac_digits = 0;
    if rest.get(j) == Some(&b'.') {
        frac_digits = rest[j + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if int_digits > 0 || frac_digits > 0 {
            j += 1 + frac_digits;
        }
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if matches!(rest.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        if matches!(rest.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        let exp_digits = rest[k.min(rest.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if exp_digits > 0 {
            j = k + exp_digits;
        }
    }
    let text = std::str::from_utf8(&rest[..j]).ok()?;
    let v: f64 = text.parse().ok()?;
    Some((sign * v, i + j))
}

unsafe extern "C-unwind" fn decode(l: L) -> c_int {
    guard(l, |l| {
        if ffi::lua_gettop(l) != 1 {
            return Err(Fail::Arg(1, "expected 1 argument".into()));
        }
        let data = check_bytes(l, 1)?;
        if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
            return Err(Fail::Where(
                "JSON parser does not support UTF-16 or UTF-32".into(),
            ));
        }
        let mut p = Parser {
            data,
            pos: 0,
            depth: 0,
            cfg: config(),
        };
        let t = p.next_token();
        p.value(l, t)?;
        let t = p.next_token();
        if !matches!(t, Token::Ok(Tok::End, ..)) {
            return Err(p.parse_error("the end", &t));
        }
        Ok(1)
    })
}
