//! Argument parsing shared by every family: one parser per number kind, each with Redis's exact
//! acceptance rules, and option keywords.
//!
//! Redis reads numbers with a handful of rules, and each has one function here:
//! - integers: [`parse_i64`] (`string2ll`), [`parse_cursor`] (SCAN's `strtoul`);
//! - doubles: [`parse_f64`] (`string2d`: scores, weights), [`parse_range_f64`] (a ZRANGEBYSCORE
//!   bound), [`parse_sort_weight`] (SORT's `strtod` check), all on top of one C [`strtod`];
//! - long doubles: [`parse_long_double`] (`string2ld`: INCRBYFLOAT, HINCRBYFLOAT, timeouts).

use rustis_storage::string::parse_canonical_i64;
use rustis_storage::OpError;

use crate::longdouble::LongDouble;

/// What C's `strtod` returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Strtod {
    /// The value (0 when nothing was read).
    pub value: f64,
    /// How many bytes were read; 0 when no number was found.
    pub used: usize,
    /// Whether `errno` would be ERANGE: overflow, or a nonzero number rounded to a subnormal or 0.
    pub erange: bool,
}

/// Parses an integer argument as Redis's `string2ll` does; `NotInteger` otherwise.
pub fn parse_i64(arg: &[u8]) -> Result<i64, OpError> {
    parse_canonical_i64(arg).ok_or(OpError::NotInteger)
}

/// Redis's reply to a cursor that [`parse_cursor`] refuses.
pub const INVALID_CURSOR: &str = "ERR invalid cursor";

/// Parses a SCAN cursor as Redis's `parseScanCursorOrReply` does with `strtoul`: no leading
/// space, an optional sign (a negative cursor wraps around, as in C), decimal digits up to the
/// end of the argument or a NUL, and no overflow. An empty cursor is 0. `None`: "invalid cursor".
pub fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let arg = c_string(arg);
    let (neg, digits) = match arg.first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() {
        // No digits: strtoul reads nothing, which is the whole argument only when it is empty.
        return arg.is_empty().then_some(0);
    }
    let mut n: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { n.wrapping_neg() } else { n })
}

/// Parses a double as Redis's `string2d` (`getDoubleFromObject`) does, for ZADD and ZINCRBY
/// scores, WEIGHTS and the like: `strtod` must read the whole argument, which may not start with
/// white space; NaN, overflow and underflow to zero are refused. `NotFloat` otherwise.
pub fn parse_f64(arg: &[u8]) -> Result<f64, OpError> {
    if arg.is_empty() || is_c_space(arg[0]) {
        return Err(OpError::NotFloat);
    }
    let r = strtod(arg);
    if r.used != arg.len()
        || r.value.is_nan()
        || (r.erange && (r.value.is_infinite() || r.value == 0.0))
    {
        return Err(OpError::NotFloat);
    }
    Ok(r.value)
}

/// Parses a score range bound's number (after any `(`) as Redis's `zslParseRange` does: `strtod`
/// must read the argument up to its end or a NUL (leading white space allowed, an empty text
/// is 0), and NaN is refused; overflow and underflow are not checked.
pub fn parse_range_f64(arg: &[u8]) -> Option<f64> {
    strtod_c_string(arg)
        .filter(|r| !r.value.is_nan())
        .map(|r| r.value)
}

/// Parses a SORT weight as Redis's `sortCommand` does: like [`parse_range_f64`], but any ERANGE
/// (overflow, or underflow to a subnormal or zero) is refused too.
pub fn parse_sort_weight(arg: &[u8]) -> Option<f64> {
    strtod_c_string(arg)
        .filter(|r| !r.value.is_nan() && !r.erange)
        .map(|r| r.value)
}

/// Parses a long double as Redis's `string2ld` does, for INCRBYFLOAT, HINCRBYFLOAT (argument and
/// stored value) and blocking timeouts: at most 5119 bytes, no leading white space, `strtold`
/// must read the whole argument (a NUL stops it short), and NaN, overflow and underflow to zero
/// are refused. `NotFloat` otherwise.
pub fn parse_long_double(arg: &[u8]) -> Result<LongDouble, OpError> {
    if arg.first().is_some_and(|&c| is_c_space(c)) {
        return Err(OpError::NotFloat);
    }
    LongDouble::parse(arg).ok_or(OpError::NotFloat)
}

/// The nearest double to a long double; a nonzero value too small for a double keeps its sign
/// as the smallest subnormal, so that it does not read as zero.
pub fn long_double_to_f64(v: LongDouble) -> f64 {
    match v {
        LongDouble::Inf { neg } => {
            if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
        LongDouble::Finite { neg, mant, exp } => {
            let mut x = scale_by_two(mant as f64, i64::from(exp));
            if x == 0.0 && mant != 0 {
                x = f64::from_bits(1);
            }
            if neg {
                -x
            } else {
                x
            }
        }
    }
}

/// Case-insensitive comparison of an argument with an ASCII keyword.
pub fn eq_ic(arg: &[u8], keyword: &str) -> bool {
    arg.eq_ignore_ascii_case(keyword.as_bytes())
}

/// C's `isspace` in the C locale.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The argument as C sees it through a `char *`: up to its first NUL.
fn c_string(arg: &[u8]) -> &[u8] {
    match arg.iter().position(|&c| c == 0) {
        Some(n) => &arg[..n],
        None => arg,
    }
}

/// `strtod` on the argument as a C string, accepted when it reads all of it (an empty text reads
/// as 0, since the end pointer then sits on the terminating NUL).
fn strtod_c_string(arg: &[u8]) -> Option<Strtod> {
    let text = c_string(arg);
    let r = strtod(text);
    (r.used == text.len() && (r.used > 0 || text.is_empty())).then_some(r)
}

/// C's `strtod` (glibc, C locale) on `s`: leading white space, a sign, then a decimal or
/// hexadecimal number, `inf`/`infinity` or `nan[(chars)]`, read as far as it goes.
pub fn strtod(s: &[u8]) -> Strtod {
    let (value, used, erange) = c_strtod(s);
    Strtod {
        value,
        used,
        erange,
    }
}

/// The value, the bytes read (0: no number), and whether it overflowed or underflowed to zero.
fn c_strtod(s: &[u8]) -> (f64, usize, bool) {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let start = i;
    let neg = match s.get(i) {
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
    let sign = if neg { -1.0 } else { 1.0 };
    let rest = &s[i..];
    let starts_ic =
        |w: &str| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w.as_bytes());
    if starts_ic("infinity") {
        return (sign * f64::INFINITY, i + 8, false);
    }
    if starts_ic("inf") {
        return (sign * f64::INFINITY, i + 3, false);
    }
    if starts_ic("nan") {
        let mut j = i + 3;
        if s.get(j) == Some(&b'(') {
            if let Some(close) = s[j..].iter().position(|&c| c == b')') {
                if s[j + 1..j + close]
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    j += close + 1;
                }
            }
        }
        return (f64::NAN, j, false);
    }
    if (starts_ic("0x"))
        && rest.get(2).is_some_and(|c| {
            c.is_ascii_hexdigit() || (*c == b'.' && rest.get(3).is_some_and(u8::is_ascii_hexdigit))
        })
    {
        let (v, used, erange) = hex_float(&rest[2..]);
        return (sign * v, i + 2 + used, erange);
    }
    // Decimal: digits [. digits] [e [sign] digits].
    let mut j = i;
    let mut digits = 0;
    let mut nonzero = false;
    while j < s.len() && s[j].is_ascii_digit() {
        nonzero |= s[j] != b'0';
        j += 1;
        digits += 1;
    }
    if j < s.len() && s[j] == b'.' {
        j += 1;
        while j < s.len() && s[j].is_ascii_digit() {
            nonzero |= s[j] != b'0';
            j += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return (0.0, 0, false);
    }
    if j < s.len() && (s[j] == b'e' || s[j] == b'E') {
        let mut k = j + 1;
        if k < s.len() && (s[k] == b'+' || s[k] == b'-') {
            k += 1;
        }
        if k < s.len() && s[k].is_ascii_digit() {
            while k < s.len() && s[k].is_ascii_digit() {
                k += 1;
            }
            j = k;
        }
    }
    let text = std::str::from_utf8(&s[start..j]).unwrap_or("0");
    let v: f64 = text.parse().unwrap_or(0.0);
    // glibc reports ERANGE for an inexact subnormal too; a decimal text is taken as never exactly
    // a subnormal (that would take hundreds of digits).
    let erange =
        v.is_infinite() || (v == 0.0 && nonzero) || (v != 0.0 && v.abs() < f64::MIN_POSITIVE);
    (v, j, erange)
}

/// The part of a hexadecimal float after `0x`: value, bytes used, ERANGE.
fn hex_float(s: &[u8]) -> (f64, usize, bool) {
    let mut mant: u128 = 0;
    let mut exp: i64 = 0;
    let mut i = 0;
    let mut sticky = false;
    let mut seen_dot = false;
    while i < s.len() {
        let c = s[i];
        if c == b'.' && !seen_dot {
            seen_dot = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            if mant >> 120 == 0 {
                mant = (mant << 4) | d as u128;
                if seen_dot {
                    exp -= 4;
                }
            } else {
                sticky |= d != 0;
                if !seen_dot {
                    exp += 4;
                }
            }
        } else {
            break;
        }
        i += 1;
    }
    if i < s.len() && (s[i] == b'p' || s[i] == b'P') {
        let mut k = i + 1;
        let eneg = match s.get(k) {
            Some(b'-') => {
                k += 1;
                true
            }
            Some(b'+') => {
                k += 1;
                false
            }
            _ => false,
        };
        if k < s.len() && s[k].is_ascii_digit() {
            let mut e: i64 = 0;
            while k < s.len() && s[k].is_ascii_digit() {
                e = (e * 10 + (s[k] - b'0') as i64).min(100_000);
                k += 1;
            }
            exp += if eneg { -e } else { e };
            i = k;
        }
    }
    let m = (mant | sticky as u128) as f64;
    let v = scale_by_two(m, exp.clamp(-2200, 2200));
    // ERANGE: overflow, or a subnormal or zero that does not hold the exact value (an exact
    // subnormal such as 0x1p-1070 is no range error for glibc).
    let exact = !sticky && (mant == 0 || exp + i64::from(mant.trailing_zeros()) >= -1074);
    let erange = v.is_infinite() || (v.abs() < f64::MIN_POSITIVE && mant != 0 && !exact);
    (v, i, erange)
}

/// `x * 2^e`, in steps so that no power of two overflows or underflows before the product does.
fn scale_by_two(mut x: f64, mut e: i64) -> f64 {
    while e > 0 && x.is_finite() {
        let step = e.min(1000);
        x *= 2f64.powi(step as i32);
        e -= step;
    }
    while e < 0 && x != 0.0 {
        let step = e.max(-1000);
        x *= 2f64.powi(step as i32);
        e -= step;
    }
    x
}

/// The most elements a random pick with repetition (SRANDMEMBER, HRANDFIELD and ZRANDMEMBER
/// with a negative count) may return. Redis 7.0 streams such a reply and grows the client's
/// output buffer until the process runs out of memory; one request must not take the server
/// down, so a larger count is refused with Redis's range error. About 67 million elements:
/// far more than any client reads in one reply.
pub const MAX_REPEATED_PICKS: u64 = 1 << 26;

/// The error for a count above [`MAX_REPEATED_PICKS`].
pub const PICKS_OUT_OF_RANGE: &str = "ERR value is out of range";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_string2ll() {
        assert_eq!(parse_i64(b"-12"), Ok(-12));
        assert_eq!(parse_i64(b"+1"), Err(OpError::NotInteger));
        assert_eq!(parse_i64(b" 1"), Err(OpError::NotInteger));
        assert_eq!(parse_i64(b"9223372036854775808"), Err(OpError::NotInteger));
    }

    #[test]
    fn cursors_follow_strtoul() {
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"+5"), Some(5));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"-"), None);
        assert_eq!(parse_cursor(b"+"), None);
        assert_eq!(parse_cursor(b"++5"), None);
        assert_eq!(parse_cursor(b"-+5"), None);
        assert_eq!(parse_cursor(b" 1"), None);
        assert_eq!(parse_cursor(b"1 "), None);
        assert_eq!(parse_cursor(b"12\0junk"), Some(12));
        assert_eq!(parse_cursor(b"\0junk"), Some(0));
    }

    #[test]
    fn doubles_follow_string2d() {
        assert_eq!(parse_f64(b"1.5"), Ok(1.5));
        assert_eq!(parse_f64(b"0x10"), Ok(16.0));
        assert_eq!(parse_f64(b"-inf"), Ok(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"+Infinity"), Ok(f64::INFINITY));
        assert_eq!(parse_f64(b"5."), Ok(5.0));
        assert_eq!(parse_f64(b".5"), Ok(0.5));
        assert_eq!(parse_f64(b"1e500"), Err(OpError::NotFloat));
        assert_eq!(parse_f64(b"1e-400"), Err(OpError::NotFloat));
        assert!(parse_f64(b"1e-310").is_ok());
        assert_eq!(parse_f64(b"nan"), Err(OpError::NotFloat));
        assert_eq!(parse_f64(b" 1"), Err(OpError::NotFloat));
        assert_eq!(parse_f64(b"\x0b1"), Err(OpError::NotFloat));
        assert_eq!(parse_f64(b""), Err(OpError::NotFloat));
        assert_eq!(parse_f64(b"1x"), Err(OpError::NotFloat));
        assert_eq!(parse_f64(b"1 "), Err(OpError::NotFloat));
        assert_eq!(parse_f64(b"7\0"), Err(OpError::NotFloat));
        assert_eq!(parse_f64(b"1e"), Err(OpError::NotFloat));
        assert_eq!(parse_f64(b"0x"), Err(OpError::NotFloat));
        // Exact subnormals are fine; hex values far outside the range are range errors.
        assert_eq!(parse_f64(b"0x1p-1070"), Ok(f64::from_bits(16)));
        assert_eq!(parse_f64(b"0x1p-1080"), Err(OpError::NotFloat));
        assert_eq!(parse_f64(b"0x1p1023"), Ok(2f64.powi(1023)));
        assert_eq!(parse_f64(b"0x1p1024"), Err(OpError::NotFloat));
    }

    #[test]
    fn range_bounds_follow_zslparserange() {
        assert_eq!(parse_range_f64(b""), Some(0.0));
        assert_eq!(parse_range_f64(b" 2"), Some(2.0));
        assert_eq!(parse_range_f64(b"1e500"), Some(f64::INFINITY));
        assert_eq!(parse_range_f64(b"3\0junk"), Some(3.0));
        assert_eq!(parse_range_f64(b"nan"), None);
        assert_eq!(parse_range_f64(b"x"), None);
        assert_eq!(parse_range_f64(b" "), None);
    }

    #[test]
    fn sort_weights_follow_sortcommand() {
        assert_eq!(parse_sort_weight(b" 1.5"), Some(1.5));
        assert_eq!(parse_sort_weight(b""), Some(0.0));
        assert_eq!(parse_sort_weight(b"1 "), None);
        assert_eq!(parse_sort_weight(b" "), None);
        assert_eq!(parse_sort_weight(b"0x10"), Some(16.0));
        assert_eq!(parse_sort_weight(b"0x1p3"), Some(8.0));
        assert_eq!(parse_sort_weight(b"-0x.8"), Some(-0.5));
        assert_eq!(parse_sort_weight(b"5."), Some(5.0));
        assert_eq!(parse_sort_weight(b".5"), Some(0.5));
        assert_eq!(parse_sort_weight(b"+5e1"), Some(50.0));
        assert_eq!(parse_sort_weight(b"-INFINITY"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_sort_weight(b"1e999"), None);
        assert_eq!(parse_sort_weight(b"1e-400"), None);
        assert_eq!(parse_sort_weight(b"1e-310"), None);
        assert_eq!(parse_sort_weight(b"0x1p-1070"), Some(f64::from_bits(16)));
        assert_eq!(parse_sort_weight(b"0x3p-1075"), None);
        assert_eq!(parse_sort_weight(b"0e-400"), Some(0.0));
        assert_eq!(parse_sort_weight(b"nan"), None);
        assert_eq!(parse_sort_weight(b"infx"), None);
        assert_eq!(parse_sort_weight(b"1e"), None);
        assert_eq!(parse_sort_weight(b"."), None);
        assert_eq!(parse_sort_weight(b"0x"), None);
        assert_eq!(parse_sort_weight(b"7\0junk"), Some(7.0));
    }

    #[test]
    fn long_doubles_follow_string2ld() {
        let f = |s: &[u8]| parse_long_double(s).map(long_double_to_f64);
        assert_eq!(f(b"1.5"), Ok(1.5));
        assert_eq!(f(b"-inf"), Ok(f64::NEG_INFINITY));
        assert_eq!(f(b"0x10"), Ok(16.0));
        assert_eq!(f(b"7\0junk"), Err(OpError::NotFloat));
        assert_eq!(f(b"\0"), Err(OpError::NotFloat));
        assert_eq!(f(b"\x0b1"), Err(OpError::NotFloat));
        assert_eq!(f(b" 1"), Err(OpError::NotFloat));
        assert_eq!(f(b"nan"), Err(OpError::NotFloat));
        assert_eq!(f(b""), Err(OpError::NotFloat));
        assert_eq!(f(b"1e5000"), Err(OpError::NotFloat));
        // In range for a long double, outside a double's.
        assert_eq!(f(b"1e400"), Ok(f64::INFINITY));
        assert_eq!(f(b"1e-400"), Ok(f64::from_bits(1)));
        assert_eq!(f(&[b'1'; 5120]), Err(OpError::NotFloat));
    }
}
