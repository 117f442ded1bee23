//! `bit`: LuaBitOp 1.0 as Redis bundles it. Numbers become 32-bit integers by rounding
//! modulo 2^32, and results are signed 32-bit numbers.

use std::ffi::c_int;

use crate::lua::{ffi, guard, push_bytes, Fail, L};

/// Adds `bit` to the globals at `g`.
pub(crate) unsafe fn open(l: L, g: c_int) {
    crate::sandbox::new_lib(
        l,
        g,
        "bit",
        &[
            ("tobit", tobit as ffi::lua_CFunction),
            ("bnot", bnot),
            ("band", band),
            ("bor", bor),
            ("bxor", bxor),
            ("lshift", lshift),
            ("rshift", rshift),
            ("arshift", arshift),
            ("rol", rol),
            ("ror", ror),
            ("bswap", bswap),
            ("tohex", tohex),
        ],
    );
}

/// LuaBitOp's `barg`: the number's low 32 bits after adding 2^52 + 2^51.
unsafe fn barg(l: L, idx: c_int) -> Result<u32, Fail> {
    let n = ffi::lua_tonumber(l, idx) + 6_755_399_441_055_744.0;
    let b = n.to_bits() as u32;
    if b == 0 && ffi::lua_isnumber(l, idx) == 0 {
        return Err(Fail::Type(idx, "number"));
    }
    Ok(b)
}

unsafe fn push_bits(l: L, b: u32) -> c_int {
    ffi::lua_pushnumber(l, b as i32 as f64);
    1
}

unsafe extern "C-unwind" fn tobit(l: L) -> c_int {
    guard(l, |l| Ok(push_bits(l, barg(l, 1)?)))
}

unsafe extern "C-unwind" fn bnot(l: L) -> c_int {
    guard(l, |l| Ok(push_bits(l, !barg(l, 1)?)))
}

unsafe fn fold(l: L, op: fn(u32, u32) -> u32) -> Result<c_int, Fail> {
    let mut b = barg(l, 1)?;
    for i in 2..=ffi::lua_gettop(l) {
        b = op(b, barg(l, i)?);
    }
    Ok(push_bits(l, b))
}

unsafe extern "C-unwind" fn band(l: L) -> c_int {
    guard(l, |l| fold(l, |a, b| a & b))
}

unsafe extern "C-unwind" fn bor(l: L) -> c_int {
    guard(l, |l| fold(l, |a, b| a | b))
}

unsafe extern "C-unwind" fn bxor(l: L) -> c_int {
    guard(l, |l| fold(l, |a, b| a ^ b))
}

unsafe fn shift(l: L, op: fn(u32, u32) -> u32) -> Result<c_int, Fail> {
    let b = barg(l, 1)?;
    let n = barg(l, 2)? & 31;
    Ok(push_bits(l, op(b, n)))
}

unsafe extern "C-unwind" fn lshift(l: L) -> c_int {
    guard(l, |l| shift(l, |b, n| b << n))
}

unsafe extern "C-unwind" fn rshift(l: L) -> c_int {
    guard(l, |l| shift(l, |b, n| b >> n))
}

unsafe extern "C-unwind" fn arshift(l: L) -> c_int {
    guard(l, |l| shift(l, |b, n| ((b as i32) >> n) as u32))
}

unsafe extern "C-unwind" fn rol(l: L) -> c_int {
    guard(l, |l| shift(l, |b, n| b.rotate_left(n)))
}

unsafe extern "C-unwind" fn ror(l: L) -> c_int {
    guard(l, |l| shift(l, |b, n| b.rotate_right(n)))
}

unsafe extern "C-unwind" fn bswap(l: L) -> c_int {
    guard(l, |l| Ok(push_bits(l, barg(l, 1)?.swap_bytes())))
}

unsafe extern "C-unwind" fn tohex(l: L) -> c_int {
    guard(l, |l| {
        let mut b = barg(l, 1)?;
        let mut n: i32 = if ffi::lua_type(l, 2) == ffi::LUA_TNONE {
            8
        } else {
            barg(l, 2)? as i32
        };
        let digits: &[u8; 16] = if n < 0 {
            n = n.wrapping_neg();
            b"0123456789ABCDEF"
        } else {
            b"0123456789abcdef"
        };
        let n = (n as u32).min(8) as usize;
        let mut buf = [0u8; 8];
        for i in (0..n).rev() {
            buf[i] = digits[(b & 15) as usize];
            b >>= 4;
        }
        push_bytes(l, &buf[..n]);
        Ok(1)
    })
}
