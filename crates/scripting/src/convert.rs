//! Conversions between Redis replies and Lua values, both ways, as Redis 7.0 does them.
//!
//! A command's reply (RESP2 or RESP3 bytes, in the protocol the script chose with
//! `redis.setresp`) becomes a Lua value for `redis.call`; the script's return value becomes
//! the reply to the calling client, in the client's protocol.
//!
//! Must not: run commands or Lua code.

use std::ffi::c_int;

use rustis_resp::encode::fmt_double;
use rustis_resp::Out;

use crate::lua::{ffi, push_bytes, raw_get_str, to_bytes, ty, L};

/// Pushes the Lua value of the first reply in `reply`. A malformed reply (which a host never
/// sends) pushes nil rather than failing.
pub(crate) unsafe fn push_reply(l: L, reply: &[u8]) {
    let mut at = 0;
    if !push_one(l, reply, &mut at) {
        ffi::lua_pushnil(l);
    }
}

fn line<'a>(buf: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let start = *at;
    let rel = memchr_crlf(&buf[start..])?;
    *at = start + rel + 2;
    Some(&buf[start..start + rel])
}

fn memchr_crlf(b: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = b[from..].iter().position(|&c| c == b'\r') {
        let at = from + i;
        if b.get(at + 1) == Some(&b'\n') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// A reply's length or integer, as `str::parse::<i64>` reads it; plain digits (the case of
/// every reply the host writes) without the UTF-8 check.
fn parse_i64(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, b),
    };
    if !digits.is_empty() && digits.len() <= 18 && digits.iter().all(u8::is_ascii_digit) {
        // At most 18 digits: no overflow.
        let n = digits.iter().fold(0i64, |n, &c| n * 10 + (c - b'0') as i64);
        return Some(if neg { -n } else { n });
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Pushes one reply element; false (with nothing pushed) when the bytes are malformed.
unsafe fn push_one(l: L, buf: &[u8], at: &mut usize) -> bool {
    if *at >= buf.len() || ffi::lua_checkstack(l, 4) == 0 {
        return false;
    }
    let kind = buf[*at];
    *at += 1;
    let Some(head) = line(buf, at) else {
        return false;
    };
    match kind {
        b':' => {
            let Some(n) = parse_i64(head) else {
                return false;
            };
            ffi::lua_pushnumber(l, n as f64);
        }
        b'$' | b'=' => {
            let Some(n) = parse_i64(head) else {
                return false;
            };
            if n < 0 {
                ffi::lua_pushboolean(l, 0);
                return true;
            }
            let n = n as usize;
            if *at + n + 2 > buf.len() {
                return false;
            }
            let data = &buf[*at..*at + n];
            *at += n + 2;
            if kind == b'$' {
                push_bytes(l, data);
            } else {
                if data.len() < 4 {
                    return false;
                }
                ffi::lua_createtable(l, 0, 1);
                ffi::lua_createtable(l, 0, 2);
                push_bytes(l, &data[4..]);
                crate::lua::raw_set_str(l, -2, b"string");
                push_bytes(l, &data[..3]);
                crate::lua::raw_set_str(l, -2, b"format");
                crate::lua::raw_set_str(l, -2, b"verbatim_string");
            }
        }
        b'+' => {
            ffi::lua_createtable(l, 0, 1);
            push_bytes(l, head);
            crate::lua::raw_set_str(l, -2, b"ok");
        }
        b'-' => {
            push_error_table(l, head);
            ffi::lua_pushboolean(l, 1);
            crate::lua::raw_set_str(l, -2, b"ignore_error_stats_update");
        }
        b'*' | b'~' | b'%' | b'|' | b'>' => {
            let Some(n) = parse_i64(head) else {
                return false;
            };
            if n < 0 {
                ffi::lua_pushboolean(l, 0);
                return true;
            }
            match kind {
                b'*' | b'>' => {
                    ffi::lua_createtable(l, 0, 0);
                    for j in 0..n {
                        ffi::lua_pushnumber(l, (j + 1) as f64);
                        if !push_one(l, buf, at) {
                            ffi::lua_pop(l, 2);
                            return false;
                        }
                        ffi::lua_settable(l, -3);
                    }
                }
                b'~' => {
                    ffi::lua_createtable(l, 0, 1);
                    push_bytes(l, b"set");
                    ffi::lua_createtable(l, 0, 0);
                    for _ in 0..n {
                        if !push_one(l, buf, at) {
                            ffi::lua_pop(l, 3);
                            return false;
                        }
                        ffi::lua_pushboolean(l, 1);
                        ffi::lua_settable(l, -3);
                    }
                    ffi::lua_settable(l, -3);
                }
                b'%' => {
                    ffi::lua_createtable(l, 0, 1);
                    push_bytes(l, b"map");
                    ffi::lua_createtable(l, 0, 0);
                    for _ in 0..n {
                        if !push_one(l, buf, at) {
                            ffi::lua_pop(l, 3);
                            return false;
                        }
                        if !push_one(l, buf, at) {
                            ffi::lua_pop(l, 4);
                            return false;
                        }
                        ffi::lua_settable(l, -3);
                    }
                    ffi::lua_settable(l, -3);
                }
                _ => {
                    // An attribute: skipped, then the value it annotates.
                    for _ in 0..2 * n {
                        if !push_one(l, buf, at) {
                            return false;
                        }
                        ffi::lua_pop(l, 1);
                    }
                    return push_one(l, buf, at);
                }
            }
        }
        b'_' => ffi::lua_pushnil(l),
        b'#' => ffi::lua_pushboolean(l, (head == b"t") as c_int),
        b',' => {
            let d = parse_double(head);
            ffi::lua_createtable(l, 0, 1);
            ffi::lua_pushnumber(l, d);
            crate::lua::raw_set_str(l, -2, b"double");
        }
        b'(' => {
            ffi::lua_createtable(l, 0, 1);
            push_bytes(l, head);
            crate::lua::raw_set_str(l, -2, b"big_number");
        }
        _ => return false,
    }
    true
}

fn parse_double(b: &[u8]) -> f64 {
    match b {
        b"inf" | b"+inf" => f64::INFINITY,
        b"-inf" => f64::NEG_INFINITY,
        _ => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0.0),
    }
}

/// The text of an error reply as Redis stores it in an error table: the error code kept
/// from `-CODE msg` (`ERR` when the text has no space), trailing CR/LF trimmed.
pub(crate) fn error_text(err: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = match err.iter().position(|&c| c == b' ') {
        Some(sp) => (&err[..sp], &err[sp + 1..]),
        None => (b"ERR", err),
    };
    let msg = trim_crlf(msg);
    let mut v = Vec::with_capacity(code.len() + 1 + msg.len());
    v.extend_from_slice(code);
    v.push(b' ');
    v.extend_from_slice(msg);
    v
}

fn trim_crlf(mut s: &[u8]) -> &[u8] {
    while let [b'\r' | b'\n', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b'\r' | b'\n'] = s {
        s = rest;
    }
    s
}

/// Pushes the error table for an error reply's text (without its `-`).
pub(crate) unsafe fn push_error_table(l: L, err: &[u8]) {
    crate::lua::push_err_table(l, &error_text(err));
}

/// The error text for a message that may or may not carry its own code, as Redis's
/// `luaPushError` takes it: `-CODE msg` keeps the code, anything else gets `ERR`.
pub(crate) fn error_text_for(msg: &[u8]) -> Vec<u8> {
    match msg.strip_prefix(b"-") {
        Some(rest) => error_text(rest),
        None => {
            let msg = trim_crlf(msg);
            let mut v = b"ERR ".to_vec();
            v.extend_from_slice(msg);
            v
        }
    }
}

/// Writes an error reply whose text is `msg` (its code included), with CR and LF turned into
/// spaces so that it stays one line.
pub(crate) fn write_error(out: &mut Out, msg: &[u8]) {
    out.raw(b"-");
    write_line(out, msg);
}

/// Writes `s` with CR and LF turned into spaces, then CRLF.
fn write_line(out: &mut Out, s: &[u8]) {
    if s.iter().any(|&c| c == b'\r' || c == b'\n') {
        let clean: Vec<u8> = s
            .iter()
            .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
            .collect();
        out.raw(&clean);
    } else {
        out.raw(s);
    }
    out.raw(b"\r\n");
}

/// A Lua number as Redis replies it: C's conversion of the double to `long long`.
pub(crate) fn lua_number_to_i64(d: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if d.is_nan() || !(-TWO_63..TWO_63).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

/// Writes the value at the top of the stack as a reply and pops it. `script_resp3` is the
/// protocol the script set with `redis.setresp` (it decides how booleans are sent).
///
/// Nested tables are walked with an explicit work list, not recursion, so that a deep (or
/// self-referencing) table costs no native stack: the Lua stack holds one slot per level as
/// in Redis, and where Redis's `lua_checkstack` fails the element becomes its error.
pub(crate) unsafe fn write_reply(l: L, out: &mut Out, script_resp3: bool) {
    // Empty (no allocation) until a table with elements is met.
    let mut tasks = Vec::new();
    write_value(l, out, script_resp3, &mut tasks);
    while let Some(t) = tasks.pop() {
        match t {
            Task::Value => write_value(l, out, script_resp3, &mut tasks),
            Task::Array { next, len } => {
                if next > len {
                    ffi::lua_pop(l, 1);
                } else {
                    tasks.push(Task::Array {
                        next: next + 1,
                        len,
                    });
                    ffi::lua_rawgeti_(l, -1, next as c_int);
                    tasks.push(Task::Value);
                }
            }
            Task::Map => {
                // Stack: outer, inner, key.
                if ffi::lua_next(l, -2) != 0 {
                    ffi::lua_pushvalue(l, -2);
                    tasks.push(Task::Map);
                    tasks.push(Task::Value);
                    tasks.push(Task::Value);
                } else {
                    ffi::lua_pop(l, 2);
                }
            }
            Task::Set => {
                // Stack: outer, inner, key.
                if ffi::lua_next(l, -2) != 0 {
                    ffi::lua_pop(l, 1);
                    ffi::lua_pushvalue(l, -1);
                    tasks.push(Task::Set);
                    tasks.push(Task::Value);
                } else {
                    ffi::lua_pop(l, 2);
                }
            }
        }
    }
}

/// Work left in writing a reply; each acts on the top of the Lua stack.
enum Task {
    /// Write the value on top and pop it (a table may push more work).
    Value,
    /// Write elements `next..=len` of the array on top, then pop it.
    Array { next: usize, len: usize },
    /// Write the next pair of the map being walked (`outer, inner, key` on the stack).
    Map,
    /// Write the next member of the set being walked (`outer, inner, key` on the stack).
    Set,
}

unsafe fn write_value(l: L, out: &mut Out, script_resp3: bool, tasks: &mut Vec<Task>) {
    if ffi::lua_checkstack(l, 4) == 0 {
        write_error(out, b"ERR reached lua stack limit");
        ffi::lua_pop(l, 1);
        return;
    }
    match ty(l, -1) {
        ffi::LUA_TSTRING => {
            out.bulk(to_bytes(l, -1).unwrap_or_default());
        }
        ffi::LUA_TBOOLEAN => {
            let b = ffi::lua_toboolean(l, -1) != 0;
            if !script_resp3 {
                if b {
                    out.int(1);
                } else {
                    out.null();
                }
            } else {
                out.bool(b);
            }
        }
        ffi::LUA_TNUMBER => out.int(lua_number_to_i64(ffi::lua_tonumber(l, -1))),
        ffi::LUA_TTABLE => {
            write_table(l, out, tasks);
            return;
        }
        _ => out.null(),
    }
    ffi::lua_pop(l, 1);
}

/// Writes the table at the top of the stack (or queues its elements) and pops it when done.
unsafe fn write_table(l: L, out: &mut Out, tasks: &mut Vec<Task>) {
    raw_get_str(l, -1, b"err");
    if ty(l, -1) == ffi::LUA_TSTRING {
        let msg = to_bytes(l, -1).unwrap_or_default().to_vec();
        ffi::lua_pop(l, 2);
        write_error(out, &msg);
        return;
    }
    ffi::lua_pop(l, 1);

    raw_get_str(l, -1, b"ok");
    if ty(l, -1) == ffi::LUA_TSTRING {
        let s = to_bytes(l, -1).unwrap_or_default();
        out.raw(b"+");
        write_line(out, s);
        ffi::lua_pop(l, 2);
        return;
    }
    ffi::lua_pop(l, 1);

    raw_get_str(l, -1, b"double");
    if ty(l, -1) == ffi::LUA_TNUMBER {
        out.double(ffi::lua_tonumber(l, -1));
        ffi::lua_pop(l, 2);
        return;
    }
    ffi::lua_pop(l, 1);

    raw_get_str(l, -1, b"big_number");
    if ty(l, -1) == ffi::LUA_TSTRING {
        let s: Vec<u8> = to_bytes(l, -1)
            .unwrap_or_default()
            .iter()
            .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
            .collect();
        if out.resp3 {
            out.raw(b"(");
            out.raw(&s);
            out.raw(b"\r\n");
        } else {
            out.bulk(&s);
        }
        ffi::lua_pop(l, 2);
        return;
    }
    ffi::lua_pop(l, 1);

    raw_get_str(l, -1, b"verbatim_string");
    if ty(l, -1) == ffi::LUA_TTABLE {
        raw_get_str(l, -1, b"format");
        if ty(l, -1) == ffi::LUA_TSTRING {
            raw_get_str(l, -2, b"string");
            if ty(l, -1) == ffi::LUA_TSTRING {
                let format = to_bytes(l, -2).unwrap_or_default();
                let s = to_bytes(l, -1).unwrap_or_default();
                write_verbatim(out, s, format);
                ffi::lua_pop(l, 4);
                return;
            }
            ffi::lua_pop(l, 1);
        }
        ffi::lua_pop(l, 1);
    }
    ffi::lua_pop(l, 1);

    raw_get_str(l, -1, b"map");
    if ty(l, -1) == ffi::LUA_TTABLE {
        out.map(count_pairs(l));
        ffi::lua_pushnil(l);
        tasks.push(Task::Map);
        return;
    }
    ffi::lua_pop(l, 1);

    raw_get_str(l, -1, b"set");
    if ty(l, -1) == ffi::LUA_TTABLE {
        out.set(count_pairs(l));
        ffi::lua_pushnil(l);
        tasks.push(Task::Set);
        return;
    }
    ffi::lua_pop(l, 1);

    // An array: elements 1, 2, ... up to the first nil.
    let mut n = 0usize;
    loop {
        ffi::lua_rawgeti_(l, -1, (n + 1) as c_int);
        let end = ty(l, -1) == ffi::LUA_TNIL;
        ffi::lua_pop(l, 1);
        if end {
            break;
        }
        n += 1;
    }
    out.array(n);
    tasks.push(Task::Array { next: 1, len: n });
}

/// The number of pairs in the table at the top of the stack.
unsafe fn count_pairs(l: L) -> usize {
    let mut n = 0;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        ffi::lua_pop(l, 1);
        n += 1;
    }
    n
}

/// `addReplyVerbatim`: `=len\r\nfmt:text` in RESP3, a bulk string in RESP2.
fn write_verbatim(out: &mut Out, s: &[u8], format: &[u8]) {
    if out.resp3 {
        let mut fmt = [b' '; 3];
        for (d, c) in fmt.iter_mut().zip(format.iter()) {
            *d = *c;
        }
        out.raw(b"=");
        out.raw(itoa::Buffer::new().format(s.len() + 4).as_bytes());
        out.raw(b"\r\n");
        out.raw(&fmt);
        out.raw(b":");
        out.raw(s);
        out.raw(b"\r\n");
    } else {
        out.bulk(s);
    }
}

/// A Lua number as a command argument: C's `%.17g`.
pub(crate) fn number_arg(d: f64) -> String {
    if d.is_nan() {
        return if d.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    fmt_double(d)
}
