//! String values: integers kept as integers (`int`), everything else as bytes.

use crate::value::Value;
use crate::{Db, OpError};

/// A string value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrValue {
    /// A string that is the canonical decimal form of an `i64` (Redis's `int` encoding).
    Int(i64),
    /// Any other bytes.
    Raw(Vec<u8>),
}

/// Redis's limit for `embstr`: strings up to 44 bytes are embedded in their object header.
pub const EMBSTR_MAX: usize = 44;

impl StrValue {
    /// Stores `bytes`, as an integer when they are one in canonical form (as Redis does for
    /// strings of at most 20 characters).
    pub fn from_bytes(bytes: &[u8]) -> StrValue {
        if bytes.len() <= 20 {
            if let Some(n) = parse_canonical_i64(bytes) {
                return StrValue::Int(n);
            }
        }
        StrValue::Raw(bytes.to_vec())
    }

    /// The bytes of the value; integers are formatted into `scratch`.
    pub fn as_bytes<'a>(&'a self, scratch: &'a mut itoa_buf::Buffer) -> &'a [u8] {
        match self {
            StrValue::Int(n) => scratch.format(*n),
            StrValue::Raw(b) => b,
        }
    }

    /// An owned copy of the bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        match self {
            StrValue::Int(n) => n.to_string().into_bytes(),
            StrValue::Raw(b) => b.clone(),
        }
    }

    /// The length in bytes (`STRLEN`).
    pub fn len(&self) -> usize {
        match self {
            StrValue::Int(n) => itoa_buf::Buffer::new().format(*n).len(),
            StrValue::Raw(b) => b.len(),
        }
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `int`, `embstr` or `raw`, as `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            StrValue::Int(_) => "int",
            StrValue::Raw(b) if b.len() <= EMBSTR_MAX => "embstr",
            StrValue::Raw(_) => "raw",
        }
    }
}

/// A tiny decimal formatter for `i64`, kept here so the storage crate needs no extra dependency.
pub mod itoa_buf {
    /// A stack buffer that formats one `i64` at a time.
    pub struct Buffer([u8; 20], usize);

    impl Default for Buffer {
        fn default() -> Self {
            Self::new()
        }
    }

    impl Buffer {
        /// An empty buffer.
        pub fn new() -> Self {
            Buffer([0; 20], 0)
        }

        /// Formats `n` and returns its digits.
        pub fn format(&mut self, n: i64) -> &[u8] {
            let mut v = n.unsigned_abs();
            let mut i = 20;
            loop {
                i -= 1;
                self.0[i] = b'0' + (v % 10) as u8;
                v /= 10;
                if v == 0 {
                    break;
                }
            }
            if n < 0 {
                i -= 1;
                self.0[i] = b'-';
            }
            self.1 = i;
            &self.0[i..]
        }
    }
}

/// Parses bytes that are exactly the canonical decimal form of an `i64` (no `+`, no leading
/// zeros, no spaces), as Redis's `string2ll` accepts.
pub fn parse_canonical_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 19 || (digits[0] == b'0' && (digits.len() > 1 || neg)) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

impl Db {
    /// The string at `key`; `WrongType` if it holds another type.
    pub fn get_str(&mut self, key: &[u8]) -> Result<Option<&StrValue>, OpError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s)),
            Some(_) => Err(OpError::WrongType),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_stored_as_integers() {
        assert_eq!(StrValue::from_bytes(b"123"), StrValue::Int(123));
        assert_eq!(
            StrValue::from_bytes(b"-9223372036854775808"),
            StrValue::Int(i64::MIN)
        );
        assert_eq!(
            StrValue::from_bytes(b"0123"),
            StrValue::Raw(b"0123".to_vec())
        );
        assert_eq!(StrValue::from_bytes(b"+1"), StrValue::Raw(b"+1".to_vec()));
        assert_eq!(
            StrValue::from_bytes(b"9223372036854775808").encoding(),
            "embstr"
        );
        assert_eq!(StrValue::Int(-45).len(), 3);
    }
}
