//! `LongDouble`: just enough of the x87 80-bit extended float (C's `long double` on x86-64
//! Linux) to give INCRBYFLOAT Redis's exact results.
//!
//! Redis 7.0 parses both operands with `strtold`, adds them as `long double` and prints the sum
//! with `%.17Lf`, trimming trailing zeros. A 64-bit significand is what makes `0.1 + 0.2` print
//! as `0.3` there, so an `f64` cannot reproduce it. This module parses decimal text with
//! correct rounding to a 64-bit significand, adds with round-half-even, and formats exactly,
//! using a small big-integer helper. C99 hexadecimal floats (`0x1.8p3`) are read too, as
//! `strtold` reads them.

/// Lowest exponent of the last significand bit (the smallest denormal is 2^-16445).
const MIN_LSB_EXP: i64 = -16445;
/// Highest exponent of the leading significand bit (the largest value is just below 2^16384).
const MAX_MSB_EXP: i64 = 16383;
/// Redis refuses to parse strings this long as numbers (`MAX_LONG_DOUBLE_CHARS`).
const MAX_CHARS: usize = 5 * 1024;

/// An 80-bit extended float: finite (`mant * 2^exp`) or infinite. NaN never gets in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongDouble {
    /// A finite value; `mant` is 0 for zero.
    Finite {
        /// The sign.
        neg: bool,
        /// The significand.
        mant: u64,
        /// The power of two it is scaled by.
        exp: i32,
    },
    /// An infinity.
    Inf {
        /// The sign.
        neg: bool,
    },
}

impl LongDouble {
    /// Zero.
    pub const ZERO: LongDouble = LongDouble::Finite {
        neg: false,
        mant: 0,
        exp: 0,
    };

    /// Whether the value is finite.
    pub fn is_finite(&self) -> bool {
        matches!(self, LongDouble::Finite { .. })
    }

    /// Parses text as Redis's `string2ld` does: `strtold` on the whole string, no leading
    /// space, no trailing garbage, no NaN, and no overflow or underflow to zero.
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() >= MAX_CHARS || s[0].is_ascii_whitespace() {
            return None;
        }
        let (neg, body) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(LongDouble::Inf { neg });
        }
        if body.len() > 2 && body[0] == b'0' && (body[1] == b'x' || body[1] == b'X') {
            return parse_hex(neg, &body[2..]);
        }
        let mut digits = Big::zero();
        let mut n_digits = 0i64; // significant digits taken into `digits`
        let mut exp10 = 0i64;
        let mut i = 0;
        let mut any = false;
        while i < body.len() && body[i].is_ascii_digit() {
            any = true;
            if n_digits > 0 || body[i] != b'0' {
                digits.mul_add(10, (body[i] - b'0') as u32);
                n_digits += 1;
            }
            i += 1;
        }
        if i < body.len() && body[i] == b'.' {
            i += 1;
            while i < body.len() && body[i].is_ascii_digit() {
                any = true;
                if n_digits > 0 || body[i] != b'0' {
                    digits.mul_add(10, (body[i] - b'0') as u32);
                    n_digits += 1;
                }
                exp10 -= 1;
                i += 1;
            }
        }
        if !any {
            return None;
        }
        if i < body.len() && (body[i] == b'e' || body[i] == b'E') {
            // "1e" or "1e+": strtold stops before the 'e', which leaves garbage here.
            let (e, j) = parse_exponent(body, i + 1)?;
            exp10 += e;
            i = j;
        }
        if i != body.len() {
            return None;
        }
        if digits.is_zero() {
            return Some(LongDouble::Finite {
                neg,
                mant: 0,
                exp: 0,
            });
        }
        // Quick range checks so that absurd exponents never build huge numbers.
        let magnitude = n_digits + exp10; // value < 10^magnitude, >= 10^(magnitude-1)
        if magnitude - 1 > 4933 {
            return None;
        }
        if magnitude < -4952 {
            return None;
        }
        let r = if exp10 >= 0 {
            for _ in 0..exp10 {
                digits.mul_add(10, 0);
            }
            round_big(&digits, false, 0)
        } else {
            let k = -exp10;
            // Enough extra bits that the quotient has well over 64 significant bits.
            let shift = 70 + (k * 3322 / 1000 + 1);
            digits.shl(shift as usize);
            let mut sticky = false;
            for _ in 0..k {
                sticky |= digits.div_small(10) != 0;
            }
            round_big(&digits, sticky, -shift)
        };
        match r {
            Rounded::Value(mant, exp) if mant != 0 => Some(LongDouble::Finite { neg, mant, exp }),
            // Underflow to zero or overflow: strtold sets ERANGE and Redis refuses the value.
            _ => None,
        }
    }

    /// The sum, rounded to nearest-even as the x87 unit does.
    pub fn sum(self, other: LongDouble) -> LongDouble {
        let (an, am, ae, bn, bm, be) = match (self, other) {
            (LongDouble::Inf { neg: a }, LongDouble::Inf { neg: b }) if a != b => {
                // inf - inf is NaN; report it as not finite all the same.
                return LongDouble::Inf { neg: false };
            }
            (LongDouble::Inf { neg }, _) | (_, LongDouble::Inf { neg }) => {
                return LongDouble::Inf { neg };
            }
            (
                LongDouble::Finite {
                    neg: an,
                    mant: am,
                    exp: ae,
                },
                LongDouble::Finite {
                    neg: bn,
                    mant: bm,
                    exp: be,
                },
            ) => (an, am, ae as i64, bn, bm, be as i64),
        };
        if am == 0 {
            return if bm == 0 {
                LongDouble::Finite {
                    neg: an && bn,
                    mant: 0,
                    exp: 0,
                }
            } else {
                other
            };
        }
        if bm == 0 {
            return self;
        }
        // Normalize both so the top bit of the significand is set.
        let (am, ae) = (am << am.leading_zeros(), ae - am.leading_zeros() as i64);
        let (bm, be) = (bm << bm.leading_zeros(), be - bm.leading_zeros() as i64);
        // Let `a` be the one with the larger exponent.
        let ((an, am, ae), (bn, bm, be)) = if ae >= be {
            ((an, am, ae), (bn, bm, be))
        } else {
            ((bn, bm, be), (an, am, ae))
        };
        let a = (am as u128) << 62;
        let base = ae - 62;
        let d = (ae - be) as u128;
        let bfull = (bm as u128) << 62;
        let (b, mut sticky) = if d >= 126 {
            (0u128, true)
        } else {
            let b = bfull >> d;
            (b, (b << d) != bfull)
        };
        let (neg, r) = if an == bn {
            (an, a + b)
        } else if a > b || (a == b && sticky) {
            // The true `b` is a little more than `b` when bits fell off: take one more off and
            // keep the sticky bit for the fraction that remains.
            (an, a - b - sticky as u128)
        } else if a == b {
            sticky = false;
            (false, 0)
        } else {
            (bn, b - a)
        };
        if r == 0 && !sticky {
            return LongDouble::ZERO;
        }
        let big = Big::from_u128(r);
        match round_big(&big, sticky, base) {
            Rounded::Value(mant, exp) => LongDouble::Finite { neg, mant, exp },
            Rounded::Overflow => LongDouble::Inf { neg },
        }
    }

    /// The text Redis 7.0 stores for an INCRBYFLOAT result: `%.17Lf`, trailing zeros and a
    /// trailing point removed, and `-0` written as `0`.
    pub fn to_human(&self) -> Vec<u8> {
        let (neg, mant, exp) = match *self {
            LongDouble::Inf { neg } => {
                return if neg {
                    b"-inf".to_vec()
                } else {
                    b"inf".to_vec()
                }
            }
            LongDouble::Finite { neg, mant, exp } => (neg, mant, exp as i64),
        };
        // N = round(|value| * 10^17), exactly, half to even.
        let scaled = if exp >= 0 {
            let mut n = Big::from_u128(mant as u128);
            n.shl(exp as usize);
            for _ in 0..17 {
                n.mul_add(10, 0);
            }
            n
        } else {
            let m = mant as u128 * 100_000_000_000_000_000u128;
            let k = (-exp) as u32;
            let q = if k >= 128 {
                0
            } else {
                let q = m >> k;
                let rem = m - (q << k);
                let half = 1u128 << (k - 1);
                if rem > half || (rem == half && q & 1 == 1) {
                    q + 1
                } else {
                    q
                }
            };
            Big::from_u128(q)
        };
        let mut digits = scaled.to_decimal();
        while digits.len() < 18 {
            digits.insert(0, b'0');
        }
        let point = digits.len() - 17;
        let mut text = Vec::with_capacity(digits.len() + 2);
        if neg {
            text.push(b'-');
        }
        text.extend_from_slice(&digits[..point]);
        text.push(b'.');
        text.extend_from_slice(&digits[point..]);
        while text.last() == Some(&b'0') {
            text.pop();
        }
        if text.last() == Some(&b'.') {
            text.pop();
        }
        if text == b"-0" {
            text = b"0".to_vec();
        }
        text
    }
}

/// Reads the part of a hexadecimal float after `0x`: hex digits with an optional point, then
/// an optional binary exponent `p[+-]digits`.
fn parse_hex(neg: bool, s: &[u8]) -> Option<LongDouble> {
    let mut digits = Big::zero();
    let mut shift: i64 = 0;
    let mut any = false;
    let mut i = 0;
    let mut seen_point = false;
    while i < s.len() {
        let c = s[i];
        if c == b'.' && !seen_point {
            seen_point = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            any = true;
            // Digits beyond what can matter only decide rounding: keep them all, they are few.
            digits.mul_add(16, d);
            if seen_point {
                shift -= 4;
            }
        } else {
            break;
        }
        i += 1;
    }
    if !any {
        return None;
    }
    if i < s.len() && (s[i] == b'p' || s[i] == b'P') {
        let (e, j) = parse_exponent(s, i + 1)?;
        shift += e;
        i = j;
    }
    if i != s.len() {
        return None;
    }
    if digits.is_zero() {
        return Some(LongDouble::Finite {
            neg,
            mant: 0,
            exp: 0,
        });
    }
    match round_big(&digits, false, shift) {
        Rounded::Value(mant, exp) if mant != 0 => Some(LongDouble::Finite { neg, mant, exp }),
        _ => None,
    }
}

enum Rounded {
    Value(u64, i32),
    Overflow,
}

/// Rounds `(q + f) * 2^shift` (with `0 < f < 1` when `sticky`) to a 64-bit significand, or
/// fewer bits in the denormal range, half to even.
fn round_big(q: &Big, sticky: bool, shift: i64) -> Rounded {
    let bl = q.bitlen() as i64;
    if bl == 0 {
        return Rounded::Value(0, 0);
    }
    let msb = bl - 1 + shift;
    let lsb = (msb - 63).max(MIN_LSB_EXP);
    let drop = lsb - shift;
    let (mant, exp) = if drop <= 0 {
        (q.low_u64() << (-drop) as u32, lsb)
    } else {
        let m = q.bits_from(drop as usize);
        let guard = q.bit(drop as usize - 1);
        let rest = sticky || q.any_below(drop as usize - 1);
        if guard && (rest || m & 1 == 1) {
            match m.checked_add(1) {
                Some(m) => (m, lsb),
                None => (1u64 << 63, lsb + 1),
            }
        } else {
            (m, lsb)
        }
    };
    if mant == 0 {
        return Rounded::Value(0, 0);
    }
    if exp + 63 - mant.leading_zeros() as i64 > MAX_MSB_EXP {
        return Rounded::Overflow;
    }
    Rounded::Value(mant, exp as i32)
}

/// A little-endian unsigned big integer in 32-bit limbs, only as much as parsing and printing
/// need.
#[derive(Debug, Clone)]
struct Big(Vec<u32>);

impl Big {
    fn zero() -> Big {
        Big(Vec::new())
    }

    fn from_u128(mut v: u128) -> Big {
        let mut limbs = Vec::new();
        while v != 0 {
            limbs.push(v as u32);
            v >>= 32;
        }
        Big(limbs)
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    /// `self = self * m + a`.
    fn mul_add(&mut self, m: u32, a: u32) {
        let mut carry = a as u64;
        for limb in &mut self.0 {
            let v = *limb as u64 * m as u64 + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }

    /// `self /= d`, returning the remainder.
    fn div_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for limb in self.0.iter_mut().rev() {
            let cur = (rem << 32) | *limb as u64;
            *limb = (cur / d as u64) as u32;
            rem = cur % d as u64;
        }
        self.trim();
        rem as u32
    }

    fn shl(&mut self, bits: usize) {
        if self.is_zero() {
            return;
        }
        let (words, rest) = (bits / 32, bits % 32);
        if rest != 0 {
            let mut carry = 0u32;
            for limb in &mut self.0 {
                let v = ((*limb as u64) << rest) | carry as u64;
                *limb = v as u32;
                carry = (v >> 32) as u32;
            }
            if carry != 0 {
                self.0.push(carry);
            }
        }
        let mut v = vec![0u32; words];
        v.extend_from_slice(&self.0);
        self.0 = v;
    }

    fn bitlen(&self) -> usize {
        match self.0.last() {
            None => 0,
            Some(top) => self.0.len() * 32 - top.leading_zeros() as usize,
        }
    }

    fn bit(&self, i: usize) -> bool {
        self.0.get(i / 32).is_some_and(|l| (l >> (i % 32)) & 1 == 1)
    }

    /// Whether any bit below position `i` is set.
    fn any_below(&self, i: usize) -> bool {
        let (w, b) = (i / 32, i % 32);
        self.0.iter().take(w).any(|&l| l != 0)
            || (b > 0 && self.0.get(w).is_some_and(|&l| l & ((1u32 << b) - 1) != 0))
    }

    /// The (at most 64) bits from position `from` up.
    fn bits_from(&self, from: usize) -> u64 {
        let mut v = 0u64;
        for k in 0..64 {
            if self.bit(from + k) {
                v |= 1 << k;
            }
        }
        v
    }

    fn low_u64(&self) -> u64 {
        self.0.first().copied().unwrap_or(0) as u64
            | (self.0.get(1).copied().unwrap_or(0) as u64) << 32
    }

    fn to_decimal(&self) -> Vec<u8> {
        if self.is_zero() {
            return b"0".to_vec();
        }
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.div_small(1_000_000_000));
        }
        let mut s = Vec::new();
        for (i, c) in chunks.iter().rev().enumerate() {
            if i == 0 {
                s.extend_from_slice(c.to_string().as_bytes());
            } else {
                s.extend_from_slice(format!("{c:09}").as_bytes());
            }
        }
        s
    }
}

/// Reads an exponent's optional sign and digits starting at `at` (after the `e` or `p`), as
/// strtold does: the value, clamped to ±1,000,000 (far past every finite long double), and
/// where it ends. `None` when no digit follows.
fn parse_exponent(s: &[u8], at: usize) -> Option<(i64, usize)> {
    let mut j = at;
    let neg = match s.get(j) {
        Some(b'-') => {
            j += 1;
            true
        }
        Some(b'+') => {
            j += 1;
            false
        }
        _ => false,
    };
    let start = j;
    let mut e: i64 = 0;
    while j < s.len() && s[j].is_ascii_digit() {
        e = (e * 10 + (s[j] - b'0') as i64).min(1_000_000);
        j += 1;
    }
    if j == start {
        return None;
    }
    Some((if neg { -e } else { e }, j))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(a: &str, b: &str) -> String {
        let a = LongDouble::parse(a.as_bytes()).unwrap();
        let b = LongDouble::parse(b.as_bytes()).unwrap();
        String::from_utf8(a.sum(b).to_human()).unwrap()
    }

    #[test]
    fn sums_match_redis_7_0() {
        // Each expectation was read from redis-server 7.0.15 on x86-64.
        assert_eq!(incr("0", "0.1"), "0.1");
        assert_eq!(incr("0.1", "0.1"), "0.2");
        assert_eq!(incr("0.2", "0.2"), "0.4");
        assert_eq!(incr("0.1", "0.2"), "0.3");
        assert_eq!(incr("10.5", "0.1"), "10.6");
        assert_eq!(incr("5.0e3", "2.0e2"), "5200");
        assert_eq!(incr("1", "1e20"), "100000000000000000000");
        assert_eq!(
            incr("100000000000000000000", "3.3e-5"),
            "100000000000000000000"
        );
        assert_eq!(incr("1.1", "1e-20"), "1.1");
        assert_eq!(incr("3", "-3"), "0");
        assert_eq!(
            incr("5200", "1e300"),
            "1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144"
        );
        assert_eq!(
            incr("0", "1e308"),
            "99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048"
        );
    }

    #[test]
    fn parsing_follows_string2ld() {
        assert!(LongDouble::parse(b" 1").is_none());
        assert!(LongDouble::parse(b"1 ").is_none());
        assert!(LongDouble::parse(b"").is_none());
        assert!(LongDouble::parse(b"nan").is_none());
        assert!(LongDouble::parse(b"1e").is_none());
        assert!(LongDouble::parse(b".").is_none());
        assert!(LongDouble::parse(b"1e99999").is_none());
        assert!(LongDouble::parse(b"1e-99999").is_none());
        assert_eq!(
            LongDouble::parse(b"inf"),
            Some(LongDouble::Inf { neg: false })
        );
        assert!(LongDouble::parse(b"1.5e400").is_some());
        assert_eq!(incr("-0", "0"), "0");
        assert_eq!(incr(".5", "5."), "5.5");
        assert_eq!(incr("-1.5", "0.25"), "-1.25");
        // Hexadecimal floats, as strtold reads them (checked against redis-server 7.0.15).
        assert_eq!(incr("0", "0x10"), "16");
        assert_eq!(incr("0", "0X1.8P1"), "3");
        assert_eq!(incr("0", "0x.8"), "0.5");
        assert_eq!(incr("0", "-0x10"), "-16");
        assert_eq!(incr("0", "0x1P-2"), "0.25");
        assert_eq!(incr("0", "0x1.fffffffffffffffffffp0"), "2");
        assert!(LongDouble::parse(b"0x").is_none());
        assert!(LongDouble::parse(b"0x1p").is_none());
        assert!(LongDouble::parse(b"0xg").is_none());
    }
}
