//! `struct`: Roberto Ierusalimschy's struct library as Redis bundles it (`pack`, `unpack`,
//! `size`), for a 64-bit little-endian machine: `l`/`L`/`T` are 8 bytes, `i`/`I` 4 by
//! default (up to 32), maximum alignment 8.

use std::ffi::c_int;

use crate::lua::{check_bytes, check_number, ffi, guard, opt_int, push_bytes, Fail, L};

const MAXINTSIZE: usize = 32;
const MAXALIGN: usize = 8;

/// Adds `struct` to the globals at `g`.
pub(crate) unsafe fn open(l: L, g: c_int) {
    crate::sandbox::new_lib(
        l,
        g,
        "struct",
        &[
            ("pack", pack as ffi::lua_CFunction),
            ("unpack", unpack),
            ("size", size),
        ],
    );
}

#[derive(Clone, Copy)]
struct Header {
    little: bool,
    align: usize,
}

const DEFAULT: Header = Header {
    little: true,
    align: 1,
};

struct Fmt<'a> {
    f: &'a [u8],
    i: usize,
}

impl Fmt<'_> {
    fn next(&mut self) -> Option<u8> {
        let c = self.f.get(self.i).copied().filter(|&c| c != 0)?;
        self.i += 1;
        Some(c)
    }

    fn num(&mut self, df: usize) -> Result<usize, Fail> {
        if !self.f.get(self.i).is_some_and(u8::is_ascii_digit) {
            return Ok(df);
        }
        let mut a: usize = 0;
        while let Some(&c) = self.f.get(self.i).filter(|c| c.is_ascii_digit()) {
            let d = (c - b'0') as usize;
            if a > (i32::MAX as usize) / 10 || a * 10 > i32::MAX as usize - d {
                return Err(Fail::Where("integral size overflow".into()));
            }
            a = a * 10 + d;
            self.i += 1;
        }
        Ok(a)
    }

    fn optsize(&mut self, opt: u8) -> Result<usize, Fail> {
        Ok(match opt {
            b'B' | b'b' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'x' => 1,
            b'c' => self.num(1)?,
            b'i' | b'I' => {
                let sz = self.num(4)?;
                if sz > MAXINTSIZE {
                    return Err(Fail::Where(format!(
                        "integral size {sz} is larger than limit of {MAXINTSIZE}"
                    )));
                }
                sz
            }
            _ => 0,
        })
    }

    fn control(&mut self, opt: u8, h: &mut Header) -> Result<(), Fail> {
        match opt {
            b' ' => Ok(()),
            b'>' => {
                h.little = false;
                Ok(())
            }
            b'<' => {
                h.little = true;
                Ok(())
            }
            b'!' => {
                let a = self.num(MAXALIGN)?;
                if a == 0 || a & (a - 1) != 0 {
                    return Err(Fail::Where(format!("alignment {a} is not a power of 2")));
                }
                h.align = a;
                Ok(())
            }
            _ => Err(Fail::Arg(
                1,
                format!("invalid format option '{}'", opt as char),
            )),
        }
    }
}

fn to_align(len: usize, h: &Header, opt: u8, mut size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    if size > h.align {
        size = h.align;
    }
    (size - (len & (size - 1))) & (size - 1)
}

unsafe extern "C-unwind" fn pack(l: L) -> c_int {
    guard(l, |l| {
        let fmt = check_bytes(l, 1)?;
        let mut f = Fmt { f: fmt, i: 0 };
        let mut h = DEFAULT;
        let mut arg = 2;
        let mut total = 0usize;
        let mut out: Vec<u8> = Vec::new();
        while let Some(opt) = f.next() {
            let mut size = f.optsize(opt)?;
            let pad = to_align(total, &h, opt, size);
            total += pad;
            out.resize(out.len() + pad, 0);
            match opt {
                b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                    let n = check_number(l, arg)?;
                    arg += 1;
                    let mut v: u64 = if n < 0.0 { n as i64 as u64 } else { n as u64 };
                    let mut buf = vec![0u8; size];
                    if h.little {
                        for b in buf.iter_mut() {
                            *b = v as u8;
                            v = v.checked_shr(8).unwrap_or(0);
                        }
                    } else {
                        for b in buf.iter_mut().rev() {
                            *b = v as u8;
                            v = v.checked_shr(8).unwrap_or(0);
                        }
                    }
                    out.extend_from_slice(&buf);
                }
                b'x' => out.push(0),
                b'f' => {
                    let v = check_number(l, arg)? as f32;
                    arg += 1;
                    if h.little {
                        out.extend_from_slice(&v.to_le_bytes());
                    } else {
                        out.extend_from_slice(&v.to_be_bytes());
                    }
                }
                b'd' => {
                    let v = check_number(l, arg)?;
                    arg += 1;
                    if h.little {
                        out.extend_from_slice(&v.to_le_bytes());
                    } else {
                        out.extend_from_slice(&v.to_be_bytes());
                    }
                }
                b'c' | b's' => {
                    let s = check_bytes(l, arg)?;
                    arg += 1;
                    if size == 0 {
                        size = s.len();
                    }
                    if s.len() < size {
                        return Err(Fail::Arg(arg, "string too short".into()));
                    }
                    out.extend_from_slice(&s[..size]);
                    if opt == b's' {
                        out.push(0);
                        size += 1;
                    }
                }
                _ => f.control(opt, &mut h)?,
            }
            total += size;
        }
        push_bytes(l, &out);
        Ok(1)
    })
}

fn get_integer(buf: &[u8], little: bool, signed: bool) -> f64 {
    let mut v: u64 = 0;
    let size = buf.len();
    if !little {
        for &b in buf {
            v = v.checked_shl(8).unwrap_or(0) | b as u64;
        }
    } else {
        for &b in buf.iter().rev() {
            v = v.checked_shl(8).unwrap_or(0) | b as u64;
        }
    }
    if !signed {
        return v as f64;
    }
    let mask = if size * 8 >= 65 {
        0
    } else {
        (!0u64).checked_shl((size * 8 - 1) as u32).unwrap_or(0)
    };
    if v & mask != 0 {
        v |= mask;
    }
    v as i64 as f64
}

unsafe extern "C-unwind" fn unpack(l: L) -> c_int {
    guard(l, |l| {
        let fmt = check_bytes(l, 1)?;
        let data = check_bytes(l, 2)?;
        let ld = data.len();
        let pos = opt_int(l, 3, 1)?;
        if pos <= 0 {
            return Err(Fail::Arg(3, "offset must be 1 or greater".into()));
        }
        let mut pos = (pos - 1) as usize;
        let mut f = Fmt { f: fmt, i: 0 };
        let mut h = DEFAULT;
        let mut n: c_int = 0;
        while let Some(opt) = f.next() {
            let mut size = f.optsize(opt)?;
            pos += to_align(pos, &h, opt, size);
            if !(size <= ld && pos <= ld - size) {
                return Err(Fail::Arg(2, "data string too short".into()));
            }
            if ffi::lua_checkstack(l, 2) == 0 {
                return Err(Fail::Where("stack overflow (too many results)".into()));
            }
            match opt {
                b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                    let v = get_integer(&data[pos..pos + size], h.little, opt.is_ascii_lowercase());
                    ffi::lua_pushnumber(l, v);
                    n += 1;
                }
                b'x' => {}
                b'f' => {
                    let mut b = [0u8; 4];
                    b.copy_from_slice(&data[pos..pos + 4]);
                    let v = if h.little {
                        f32::from_le_bytes(b)
                    } else {
                        f32::from_be_bytes(b)
                    };
                    ffi::lua_pushnumber(l, v as f64);
                    n += 1;
                }
                b'd' => {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&data[pos..pos + 8]);
                    let v = if h.little {
                        f64::from_le_bytes(b)
                    } else {
                        f64::from_be_bytes(b)
                    };
                    ffi::lua_pushnumber(l, v);
                    n += 1;
                }
                b'c' => {
                    if size == 0 {
                        if n == 0 || ffi::lua_isnumber(l, -1) == 0 {
                            return Err(Fail::Where("format 'c0' needs a previous size".into()));
                        }
                        size = ffi::lua_tonumber(l, -1) as usize;
                        ffi::lua_pop(l, 1);
                        n -= 1;
                        if !(size <= ld && pos <= ld - size) {
                            return Err(Fail::Arg(2, "data string too short".into()));
                        }
                    }
                    push_bytes(l, &data[pos..pos + size]);
                    n += 1;
                }
                b's' => {
                    let Some(e) = data[pos..].iter().position(|&c| c == 0) else {
                        return Err(Fail::Where("unfinished string in data".into()));
                    };
                    size = e + 1;
                    push_bytes(l, &data[pos..pos + e]);
                    n += 1;
                }
                _ => f.control(opt, &mut h)?,
            }
            pos += size;
        }
        ffi::lua_pushinteger(l, (pos + 1) as i64);
        Ok(n + 1)
    })
}

unsafe extern "C-unwind" fn size(l: L) -> c_int {
    guard(l, |l| {
        let fmt = check_bytes(l, 1)?;
        let mut f = Fmt { f: fmt, i: 0 };
        let mut h = DEFAULT;
        let mut pos = 0usize;
        while let Some(opt) = f.next() {
            let size = f.optsize(opt)?;
            pos += to_align(pos, &h, opt, size);
            if opt == b's' {
                return Err(Fail::Arg(1, "option 's' has no fixed size".into()));
            } else if opt == b'c' && size == 0 {
                return Err(Fail::Arg(1, "option 'c0' has no fixed size".into()));
            }
            if !opt.is_ascii_alphanumeric() {
                f.control(opt, &mut h)?;
            }
            pos += size;
        }
        ffi::lua_pushinteger(l, pos as i64);
        Ok(1)
    })
}
