//! String values: integers kept as integers (`int`), short strings in an exactly-sized box
//! (`embstr`: no spare capacity), strings that were changed in place or are long in a growable
//! buffer (`raw`), mirroring Redis's three string encodings.

use crate::value::Value;
use crate::{Db, OpError};

/// A string value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrValue {
    /// A string that is the canonical decimal form of an `i64` (Redis's `int` encoding).
    Int(i64),
    /// A string of at most [`EMBSTR_MAX`] bytes that is never changed in place (`embstr`):
    /// inline in the value when it fits, else in an exactly-sized box.
    Emb(EmbStr),
    /// Any other bytes, in a buffer that may grow in place (`raw`).
    Raw(Vec<u8>),
    /// A long string as stored by SET and friends, in a buffer replies can reference instead of
    /// copying (`raw` too: Redis does not tell them apart). Changed in place, it becomes `Raw`.
    Shared(bytes::Bytes),
}

/// Strings at least this long are stored as [`StrValue::Shared`]: the reply encoder sends
/// values this long by reference.
pub const SHARED_MIN: usize = rustis_resp::encode::SHARE_MIN;

/// Redis's limit for `embstr`: strings up to 44 bytes are embedded in their object header.
pub const EMBSTR_MAX: usize = 44;

/// The longest `embstr` kept inline: as much as fits while `Value` stays 40 bytes, which keeps
/// every key's table node in the 80-byte allocator class.
pub const EMB_INLINE_MAX: usize = 38;

/// A string of at most [`EMBSTR_MAX`] bytes. Up to [`EMB_INLINE_MAX`] bytes (nearly every short
/// value) it lives inline, costing no allocation of its own; the few longer ones are boxed.
/// Both are Redis's `embstr`: what `OBJECT ENCODING` says must not depend on how we store it.
#[derive(Clone)]
pub enum EmbStr {
    /// Inline bytes: `buf[..len]`.
    Inline {
        /// How many bytes of `buf` are used.
        len: u8,
        /// The bytes.
        buf: [u8; EMB_INLINE_MAX],
    },
    /// Longer bytes, in an exactly-sized box.
    Boxed(Box<[u8]>),
}

impl From<&[u8]> for EmbStr {
    /// Copies the bytes; callers keep them to at most [`EMBSTR_MAX`].
    #[inline]
    fn from(b: &[u8]) -> Self {
        debug_assert!(b.len() <= EMBSTR_MAX);
        if b.len() <= EMB_INLINE_MAX {
            let mut buf = [0u8; EMB_INLINE_MAX];
            buf[..b.len()].copy_from_slice(b);
            EmbStr::Inline {
                len: b.len() as u8,
                buf,
            }
        } else {
            EmbStr::Boxed(b.into())
        }
    }
}

impl std::ops::Deref for EmbStr {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            EmbStr::Inline { len, buf } => &buf[..*len as usize],
            EmbStr::Boxed(b) => b,
        }
    }
}

impl PartialEq for EmbStr {
    /// Equal bytes, however they are stored.
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for EmbStr {}

impl std::fmt::Debug for EmbStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
    }
}

impl StrValue {
    /// Stores `bytes`, as an integer when they are one in canonical form (as Redis does for
    /// strings of at most 20 characters).
    pub fn from_bytes(bytes: &[u8]) -> StrValue {
        if bytes.len() <= 20 {
            if let Some(n) = parse_canonical_i64(bytes) {
                return StrValue::Int(n);
            }
        }
        Self::from_bytes_no_int(bytes)
    }

    /// Stores `bytes` as bytes even when they spell an integer (Redis does this for results
    /// like INCRBYFLOAT's that it builds with `createStringObject`).
    #[inline]
    pub fn from_bytes_no_int(bytes: &[u8]) -> StrValue {
        if bytes.len() <= EMBSTR_MAX {
            StrValue::Emb(bytes.into())
        } else if bytes.len() >= SHARED_MIN {
            StrValue::Shared(bytes::Bytes::copy_from_slice(bytes))
        } else {
            StrValue::Raw(bytes.to_vec())
        }
    }

    /// The bytes of the value; integers are formatted into `scratch`.
    pub fn as_bytes<'a>(&'a self, scratch: &'a mut itoa_buf::Buffer) -> &'a [u8] {
        match self {
            StrValue::Int(n) => scratch.format(*n),
            StrValue::Emb(b) => b,
            StrValue::Raw(b) => b,
            StrValue::Shared(b) => b,
        }
    }

    /// An owned copy of the bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        match self {
            StrValue::Int(n) => n.to_string().into_bytes(),
            StrValue::Emb(b) => b.to_vec(),
            StrValue::Raw(b) => b.clone(),
            StrValue::Shared(b) => b.to_vec(),
        }
    }

    /// The bytes as a growable buffer, turning the value into the `raw` encoding (as Redis's
    /// `dbUnshareStringValue` does before an in-place change: APPEND, SETRANGE, SETBIT).
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, StrValue::Raw(_)) {
            *self = StrValue::Raw(self.to_vec());
        }
        match self {
            StrValue::Raw(v) => v,
            // Just made raw above.
            _ => unreachable!("string was made raw"),
        }
    }

    /// The value as an integer, if its bytes are one in canonical form (INCR's rule).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            StrValue::Int(n) => Some(*n),
            StrValue::Emb(b) => parse_canonical_i64(b),
            StrValue::Raw(b) => parse_canonical_i64(b),
            StrValue::Shared(b) => parse_canonical_i64(b),
        }
    }

    /// The length in bytes (`STRLEN`).
    pub fn len(&self) -> usize {
        match self {
            StrValue::Int(n) => itoa_buf::Buffer::new().format(*n).len(),
            StrValue::Emb(b) => b.len(),
            StrValue::Raw(b) => b.len(),
            StrValue::Shared(b) => b.len(),
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
            StrValue::Emb(_) => "embstr",
            StrValue::Raw(_) | StrValue::Shared(_) => "raw",
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

    /// The string at `key`, mutable; `WrongType` if it holds another type.
    pub fn get_str_mut<'a>(
        &'a mut self,
        key: &'a [u8],
    ) -> Result<Option<crate::write::KeyMut<'a, StrValue>>, OpError> {
        self.modify_as(key)
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
            StrValue::Emb(b"0123"[..].into())
        );
        assert_eq!(StrValue::from_bytes(&[b'x'; 45]).encoding(), "raw");
        let mut v = StrValue::from_bytes(b"12");
        v.make_raw().push(b'3');
        assert_eq!(v.encoding(), "raw");
        assert_eq!(v.as_i64(), Some(123));
        assert_eq!(
            StrValue::from_bytes(b"9223372036854775808").encoding(),
            "embstr"
        );
        assert_eq!(StrValue::Int(-45).len(), 3);
    }

    #[test]
    fn long_strings_are_shared_raw_until_changed_in_place() {
        let bytes = vec![b'x'; SHARED_MIN];
        let mut v = StrValue::from_bytes(&bytes);
        assert!(matches!(v, StrValue::Shared(_)));
        assert_eq!(v.encoding(), "raw");
        assert_eq!(v.len(), SHARED_MIN);
        assert_eq!(v.to_vec(), bytes);
        assert!(matches!(
            StrValue::from_bytes(&bytes[1..]),
            StrValue::Raw(_)
        ));
        v.make_raw().push(b'y');
        assert!(matches!(v, StrValue::Raw(_)));
        assert_eq!(v.len(), SHARED_MIN + 1);
        assert_eq!(v.encoding(), "raw");
    }

    #[test]
    fn embstr_is_embstr_inline_or_boxed() {
        for n in [0, 1, EMB_INLINE_MAX, EMB_INLINE_MAX + 1, EMBSTR_MAX] {
            let bytes = vec![b'a'; n];
            let v = StrValue::from_bytes(&bytes);
            assert_eq!(v.encoding(), "embstr", "{n} bytes");
            assert_eq!(v.len(), n);
            assert_eq!(v.to_vec(), bytes);
            assert_eq!(v.as_bytes(&mut itoa_buf::Buffer::new()), &bytes[..]);
            assert_eq!(v, StrValue::Emb(bytes[..].into()));
        }
        assert_eq!(
            StrValue::from_bytes(&[b'a'; EMBSTR_MAX + 1]).encoding(),
            "raw"
        );
        let mut v = StrValue::from_bytes(&[b'b'; 40]);
        v.make_raw().push(b'c');
        assert_eq!(v.encoding(), "raw");
        assert_eq!(v.len(), 41);
        assert_eq!(
            StrValue::from_bytes(b"12345678901234567890123456789012345678901").as_i64(),
            None
        );
        // A string value adds nothing to the 40 bytes `Value` takes.
        assert_eq!(std::mem::size_of::<StrValue>(), 40);
    }
}
