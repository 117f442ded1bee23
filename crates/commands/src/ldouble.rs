//! x87 `long double` arithmetic as Redis 7.0 does it for HINCRBYFLOAT (and INCRBYFLOAT).
//!
//! Redis parses both operands with `strtold`, adds them in 80-bit extended precision (a 64-bit
//! significand) and prints the sum with `%.17Lf`, trailing zeros removed. Doing the same in
//! `f64` gives other text (`10.5 + 0.1` is `10.6` in Redis, `10.59999999999999964` in `f64`
//! printed that way), so this module emulates the format exactly: correctly rounded decimal
//! parsing, correctly rounded addition, and exact decimal printing. Subnormal extended values
//! are not modelled (they are below 1e-4931).
//!
//! Hexadecimal floats, which `strtold` also accepts, are rejected here.

use std::cmp::Ordering;

/// A finite extended-precision value `(-1)^neg * mant * 2^exp`, `mant` normalised so that its
/// top bit is set (or zero for 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LongDouble {
    neg: bool,
    mant: u64,
    exp: i32,
}

/// The largest binary exponent of an extended value: values reach `2^16384` are infinite.
const MAX_EXP2: i32 = 16384;

impl LongDouble {
    const ZERO: LongDouble = LongDouble {
        neg: false,
        mant: 0,
        exp: 0,
    };

    /// Parses a number as Redis's `string2ld` does: no leading space, no trailing garbage, no
    /// NaN. Returns `None` for anything else; infinities parse to `Some(Err(negative))`.
    pub fn parse(s: &[u8]) -> Option<Result<LongDouble, bool>> {
        if s.is_empty() || s.len() > 5 * 1024 || s[0].is_ascii_whitespace() {
            return None;
        }
        let (neg, body) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let lower = body.to_ascii_lowercase();
        if lower == b"inf" || lower == b"infinity" {
            return Some(Err(neg));
        }
        if lower.starts_with(b"0x") {
            return Self::parse_hex(&lower[2..]).map(|r| {
                r.map(|mut v| {
                    v.neg = neg;
                    v
                })
                .map_err(|_| neg)
            });
        }
        let mut digits = BigUint::zero();
        let mut any_digit = false;
        let mut frac_digits: i64 = 0;
        let mut i = 0;
        let mut seen_dot = false;
        let mut nonzero = false;
        while i < body.len() {
            let c = body[i];
            if c.is_ascii_digit() {
                any_digit = true;
                if c != b'0' || nonzero {
                    nonzero = true;
                    digits.mul_small_add(10, (c - b'0') as u32);
                }
                if seen_dot {
                    frac_digits += 1;
                }
            } else if c == b'.' && !seen_dot {
                seen_dot = true;
            } else {
                break;
            }
            i += 1;
        }
        if !any_digit {
            return None;
        }
        let mut exp10: i64 = 0;
        if i < body.len() && (body[i] == b'e' || body[i] == b'E') {
            let mut j = i + 1;
            let eneg = match body.get(j) {
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
            while j < body.len() && body[j].is_ascii_digit() {
                exp10 = (exp10 * 10 + (body[j] - b'0') as i64).min(1_000_000);
                j += 1;
            }
            if j == start {
                return None;
            }
            if eneg {
                exp10 = -exp10;
            }
            i = j;
        }
        if i != body.len() {
            return None;
        }
        if digits.is_zero() {
            return Some(Ok(LongDouble { neg, ..Self::ZERO }));
        }
        let e = exp10 - frac_digits;
        let v = if e > 5000 {
            return Some(Err(neg));
        } else if e < -(5000 + digits.bits() as i64) {
            Some(LongDouble::ZERO)
        } else if e >= 0 {
            let mut n = digits;
            n.mul_pow10(e as u32);
            from_big_int(&n, 0, false)
        } else {
            let mut den = BigUint::one();
            den.mul_pow10((-e) as u32);
            // Scale the numerator so the quotient has at least 66 bits.
            let k = (den.bits() as i64 - digits.bits() as i64 + 66).max(0) as usize;
            let mut num = digits;
            num.shl(k);
            let mut q: u128 = 0;
            for bit in (0..=70).rev() {
                let mut t = den.clone();
                t.shl(bit);
                if num.cmp(&t) != Ordering::Less {
                    num.sub(&t);
                    q |= 1u128 << bit;
                }
            }
            round_u128(q, !num.is_zero(), -(k as i64))
        };
        match v {
            Some(mut v) => {
                v.neg = neg;
                Some(Ok(v))
            }
            None => Some(Err(neg)),
        }
    }

    /// The digits of a hexadecimal float after `0x` (lowercase): `h[.h][p[+-]d]`.
    fn parse_hex(s: &[u8]) -> Option<Result<LongDouble, ()>> {
        let mut n = BigUint::zero();
        let (mut i, mut any, mut seen_dot, mut exp2) = (0, false, false, 0i64);
        let mut sticky = false;
        while i < s.len() {
            let c = s[i];
            if let Some(d) = (c as char).to_digit(16) {
                any = true;
                if n.bits() < 200 {
                    n.mul_small_add(16, d);
                    if seen_dot {
                        exp2 -= 4;
                    }
                } else {
                    // Far below the 64-bit significand: only whether it is nonzero matters.
                    sticky |= d != 0;
                    if !seen_dot {
                        exp2 += 4;
                    }
                }
            } else if c == b'.' && !seen_dot {
                seen_dot = true;
            } else {
                break;
            }
            i += 1;
        }
        if !any {
            return None;
        }
        if i < s.len() && s[i] == b'p' {
            let mut j = i + 1;
            let eneg = match s.get(j) {
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
            exp2 += if eneg { -e } else { e };
            i = j;
        }
        if i != s.len() {
            return None;
        }
        if n.is_zero() {
            return Some(Ok(LongDouble::ZERO));
        }
        Some(from_big_int(&n, exp2, sticky).ok_or(()))
    }

    /// The correctly rounded sum; `None` when it overflows to infinity.
    pub fn plus(self, other: LongDouble) -> Option<LongDouble> {
        if self.mant == 0 {
            if other.mant == 0 {
                // -0 + -0 is -0; any other zero sum is +0.
                return Some(LongDouble {
                    neg: self.neg && other.neg,
                    ..Self::ZERO
                });
            }
            return Some(other);
        }
        if other.mant == 0 {
            return Some(self);
        }
        let (a, b) = if self.exp >= other.exp {
            (self, other)
        } else {
            (other, self)
        };
        // 62 guard bits below each significand; the smaller one's lost bits become a sticky bit.
        let ma = (a.mant as u128) << 62;
        let d = (a.exp - b.exp) as u32;
        let mb_full = (b.mant as u128) << 62;
        let (mb, sticky) = if d >= 127 {
            (0u128, true)
        } else {
            let kept = mb_full >> d;
            (kept, (kept << d) != mb_full)
        };
        let mb = mb | sticky as u128;
        let base_exp = a.exp as i64 - 62;
        let (neg, sum) = if a.neg == b.neg {
            (a.neg, ma + mb)
        } else if ma >= mb {
            (a.neg, ma - mb)
        } else {
            (b.neg, mb - ma)
        };
        if sum == 0 {
            return Some(Self::ZERO);
        }
        let mut r = round_u128(sum, false, base_exp)?;
        r.neg = neg;
        Some(r)
    }

    /// `printf("%.17Lf")` with trailing zeros (and a bare point) removed, and `-0` printed as
    /// `0`, as Redis's `ld2string(LD_STR_HUMAN)` does.
    pub fn to_human(self) -> String {
        let mut s = String::new();
        if self.neg {
            s.push('-');
        }
        const SCALE: u128 = 100_000_000_000_000_000; // 10^17
        let (int_part, mut frac): (BigUint, u128) = if self.exp >= 0 {
            let mut n = BigUint::from_u64(self.mant);
            n.shl(self.exp as usize);
            (n, 0)
        } else {
            let sh = (-self.exp) as u32;
            let (ip, fp) = if sh >= 64 {
                (0u64, self.mant as u128)
            } else {
                (self.mant >> sh, (self.mant & ((1u64 << sh) - 1)) as u128)
            };
            // frac digits = round_half_even(fp * 10^17 / 2^sh); fp < 2^64 so this fits u128.
            let prod = fp * SCALE;
            let (q, half) = if sh >= 128 {
                (0u128, Ordering::Less)
            } else {
                let q = prod >> sh;
                let r = prod - (q << sh);
                (q, r.cmp(&(1u128 << (sh - 1))))
            };
            let mut q = q;
            if half == Ordering::Greater || (half == Ordering::Equal && q & 1 == 1) {
                q += 1;
            }
            let mut ip = BigUint::from_u64(ip);
            if q == SCALE {
                q = 0;
                ip.add_small(1);
            }
            (ip, q)
        };
        s.push_str(&int_part.to_decimal());
        let mut digits = String::with_capacity(17);
        for _ in 0..17 {
            digits.insert(0, char::from(b'0' + (frac % 10) as u8));
            frac /= 10;
        }
        let digits = digits.trim_end_matches('0');
        if !digits.is_empty() {
            s.push('.');
            s.push_str(digits);
        }
        if s == "-0" {
            s = "0".into();
        }
        s
    }
}

/// Rounds `q * 2^exp` (plus a sticky "something below" bit) to a 64-bit significand, half to
/// even; `None` on overflow.
fn round_u128(q: u128, sticky: bool, exp: i64) -> Option<LongDouble> {
    let bits = 128 - q.leading_zeros() as i64;
    let (mut mant, mut e) = if bits <= 64 {
        ((q << (64 - bits)) as u64, exp - (64 - bits))
    } else {
        let drop = (bits - 64) as u32;
        let kept = (q >> drop) as u64;
        let rest = q & ((1u128 << drop) - 1);
        let half = 1u128 << (drop - 1);
        let up = rest > half || (rest == half && (sticky || kept & 1 == 1));
        let mut m = kept;
        let mut e = exp + drop as i64;
        if up {
            match m.checked_add(1) {
                Some(v) => m = v,
                None => {
                    m = 1u64 << 63;
                    e += 1;
                }
            }
        }
        (m, e)
    };
    if mant == 0 {
        e = 0;
        mant = 0;
    }
    if e + 64 > MAX_EXP2 as i64 {
        return None;
    }
    if e < i32::MIN as i64 / 2 {
        return Some(LongDouble::ZERO);
    }
    Some(LongDouble {
        neg: false,
        mant,
        exp: e as i32,
    })
}

/// A big integer from an arbitrary bit position: `n` rounded to 64 bits times a power of two.
fn from_big_int(n: &BigUint, exp: i64, sticky: bool) -> Option<LongDouble> {
    let bits = n.bits();
    if bits <= 128 {
        return round_u128(n.low_u128(), sticky, exp);
    }
    let drop = bits - 128;
    let mut top = n.clone();
    let lost = top.shr_sticky(drop);
    round_u128(top.low_u128(), sticky || lost, exp + drop as i64)
}

/// A minimal unsigned big integer (little-endian 32-bit limbs), enough for exact parsing and
/// printing of extended-precision values.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BigUint {
    limbs: Vec<u32>,
}

impl BigUint {
    fn zero() -> Self {
        BigUint { limbs: Vec::new() }
    }

    fn one() -> Self {
        BigUint { limbs: vec![1] }
    }

    fn from_u64(v: u64) -> Self {
        let mut b = BigUint {
            limbs: vec![v as u32, (v >> 32) as u32],
        };
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    fn bits(&self) -> usize {
        match self.limbs.last() {
            None => 0,
            Some(&top) => (self.limbs.len() - 1) * 32 + (32 - top.leading_zeros() as usize),
        }
    }

    fn low_u128(&self) -> u128 {
        self.limbs
            .iter()
            .take(4)
            .enumerate()
            .fold(0u128, |acc, (i, &l)| acc | (l as u128) << (32 * i))
    }

    fn mul_small_add(&mut self, m: u32, add: u32) {
        let mut carry = add as u64;
        for l in self.limbs.iter_mut() {
            let v = *l as u64 * m as u64 + carry;
            *l = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
    }

    fn add_small(&mut self, add: u32) {
        self.mul_small_add(1, add);
    }

    fn mul_pow10(&mut self, mut e: u32) {
        while e >= 9 {
            self.mul_small_add(1_000_000_000, 0);
            e -= 9;
        }
        if e > 0 {
            self.mul_small_add(10u32.pow(e), 0);
        }
    }

    fn shl(&mut self, n: usize) {
        if self.is_zero() {
            return;
        }
        let (words, bits) = (n / 32, n % 32);
        if bits != 0 {
            let mut carry = 0u32;
            for l in self.limbs.iter_mut() {
                let v = *l;
                *l = (v << bits) | carry;
                carry = v >> (32 - bits);
            }
            if carry != 0 {
                self.limbs.push(carry);
            }
        }
        if words > 0 {
            self.limbs.splice(0..0, std::iter::repeat_n(0, words));
        }
    }

    /// Shifts right by `n` bits; true if any 1 bit was shifted out.
    fn shr_sticky(&mut self, n: usize) -> bool {
        let (words, bits) = (n / 32, n % 32);
        let mut lost = self.limbs.iter().take(words).any(|&l| l != 0);
        self.limbs.drain(0..words.min(self.limbs.len()));
        if bits != 0 && !self.limbs.is_empty() {
            lost |= self.limbs[0] & ((1u32 << bits) - 1) != 0;
            for i in 0..self.limbs.len() {
                let hi = self.limbs.get(i + 1).copied().unwrap_or(0);
                self.limbs[i] = (self.limbs[i] >> bits) | (hi << (32 - bits));
            }
        }
        self.trim();
        lost
    }

    fn cmp(&self, other: &BigUint) -> Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }

    /// `self -= other`; `other` must not be larger.
    fn sub(&mut self, other: &BigUint) {
        let mut borrow = 0i64;
        for i in 0..self.limbs.len() {
            let o = other.limbs.get(i).copied().unwrap_or(0) as i64;
            let mut v = self.limbs[i] as i64 - o - borrow;
            if v < 0 {
                v += 1 << 32;
                borrow = 1;
            } else {
                borrow = 0;
            }
            self.limbs[i] = v as u32;
        }
        self.trim();
    }

    fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            let mut rem = 0u64;
            for l in n.limbs.iter_mut().rev() {
                let cur = (rem << 32) | *l as u64;
                *l = (cur / 1_000_000_000) as u32;
                rem = cur % 1_000_000_000;
            }
            n.trim();
            chunks.push(rem as u32);
        }
        let mut s = String::new();
        for (i, c) in chunks.iter().rev().enumerate() {
            if i == 0 {
                s.push_str(&c.to_string());
            } else {
                s.push_str(&format!("{c:09}"));
            }
        }
        s
    }
}

/// Redis 7.0's HINCRBYFLOAT/INCRBYFLOAT arithmetic on text: parses `current` and `incr` as
/// long doubles, adds them, and returns the new text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncrError {
    /// The stored value is not a float.
    CurrentNotFloat,
    /// The increment is not a float.
    IncrNotFloat,
    /// The increment is infinite.
    IncrInfinite,
    /// The sum is infinite.
    ResultInfinite,
}

/// Adds `incr` to `current` (`None`: a missing value, i.e. 0) in long double precision.
pub fn incr_by_float(current: Option<&[u8]>, incr: &[u8]) -> Result<String, IncrError> {
    let cur = match current {
        None => LongDouble::ZERO,
        Some(c) => match LongDouble::parse(c) {
            None => return Err(IncrError::CurrentNotFloat),
            Some(Ok(v)) => v,
            // A stored infinity plus any finite increment stays infinite.
            Some(Err(_)) => {
                return match LongDouble::parse(incr) {
                    None => Err(IncrError::IncrNotFloat),
                    Some(Err(_)) => Err(IncrError::IncrInfinite),
                    Some(Ok(_)) => Err(IncrError::ResultInfinite),
                }
            }
        },
    };
    let inc = match LongDouble::parse(incr) {
        None => return Err(IncrError::IncrNotFloat),
        Some(Err(_)) => return Err(IncrError::IncrInfinite),
        Some(Ok(v)) => v,
    };
    cur.plus(inc)
        .map(LongDouble::to_human)
        .ok_or(IncrError::ResultInfinite)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(a: &str, b: &str) -> String {
        incr_by_float(Some(a.as_bytes()), b.as_bytes()).unwrap()
    }

    #[test]
    fn sums_print_as_redis_7_0_does() {
        assert_eq!(add("10.5", "0.1"), "10.6");
        assert_eq!(add("1", "10.5"), "11.5");
        assert_eq!(add("5000", "1.23456789012345678"), "5001.23456789012345691");
        assert_eq!(add("3.0e3", "200"), "3200");
        assert_eq!(add("0", "-0"), "0");
        assert_eq!(add("1", "-1"), "0");
        assert_eq!(add("0.1", "0.2"), "0.3");
        assert_eq!(add("-5", "2.5"), "-2.5");
        assert_eq!(add("1e-20", "0"), "0");
        assert_eq!(add("-0", "-0"), "0");
        assert_eq!(
            add("123456789.123456789", "0.000000001"),
            "123456789.12345678999554366"
        );
        assert_eq!(add("0.000001", "0.0000001"), "0.0000011");
        assert_eq!(add("1", "1e-17"), "1.00000000000000001");
        assert_eq!(add("1", "5e-18"), "1");
        assert_eq!(add("1", "1.5e-17"), "1.00000000000000001");
        assert_eq!(add("3", ".5"), "3.5");
        assert_eq!(add("3", "5."), "8");
        assert_eq!(add("3", "+.5e1"), "8");
        assert_eq!(add("3", "1e+2"), "103");
        assert_eq!(add("18446744073709551615", "1"), "18446744073709551616");
        assert_eq!(add("9007199254740993", "0"), "9007199254740993");
        assert_eq!(add("3", "0x10"), "19");
        assert_eq!(add("0x1p3", "0x.8"), "8.5");
        assert_eq!(add("-0X1P-2", "0"), "-0.25");
        assert!(add("1.1e4932", "0").starts_with("10999999999999999999743731075282418176590308692790434077349880018170241451065131125042475079893348785202483"));
        assert!(add("1.1e4932", "0").ends_with("267178522323242088136704"));
        assert_eq!(
            add("1e300", "0"),
            "1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144"
        );
        assert_eq!(add("1e400", "1"), "10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880");
    }

    #[test]
    fn errors_match_redis() {
        assert_eq!(
            incr_by_float(Some(b"abc"), b"1"),
            Err(IncrError::CurrentNotFloat)
        );
        assert_eq!(
            incr_by_float(Some(b" 1"), b"1"),
            Err(IncrError::CurrentNotFloat)
        );
        assert_eq!(
            incr_by_float(Some(b"1"), b"x"),
            Err(IncrError::IncrNotFloat)
        );
        assert_eq!(
            incr_by_float(Some(b"1"), b"nan"),
            Err(IncrError::IncrNotFloat)
        );
        assert_eq!(
            incr_by_float(Some(b"1"), b"inf"),
            Err(IncrError::IncrInfinite)
        );
        assert_eq!(
            incr_by_float(Some(b"1e4932"), b"1e4932"),
            Err(IncrError::ResultInfinite)
        );
        assert_eq!(incr_by_float(None, b"1.5"), Ok("1.5".into()));
    }
}
