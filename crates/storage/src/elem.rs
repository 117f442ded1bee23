//! `Elem`: one list element or set member, kept inside the collection's own storage when it
//! is short (most are), so that a small element costs no allocation of its own.
//!
//! This is what stands in for Redis's compact encodings (listpack, intset): a short element
//! takes 24 bytes in place, where a boxed one took a 16-byte pointer plus a heap block.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

/// Elements up to this long are stored inline; 22 keeps `Elem` at 24 bytes.
pub const INLINE_MAX: usize = 22;

/// A byte string stored inline when short.
#[derive(Clone)]
pub enum Elem {
    /// Up to [`INLINE_MAX`] bytes, in place.
    Inline {
        /// How many bytes of `buf` are used.
        len: u8,
        /// The bytes.
        buf: [u8; INLINE_MAX],
    },
    /// Longer ones, on the heap.
    Heap(Box<[u8]>),
}

impl Elem {
    /// Copies `b` into a new element.
    #[inline]
    pub fn new(b: &[u8]) -> Elem {
        if b.len() <= INLINE_MAX {
            let mut buf = [0u8; INLINE_MAX];
            buf[..b.len()].copy_from_slice(b);
            Elem::Inline {
                len: b.len() as u8,
                buf,
            }
        } else {
            Elem::Heap(b.into())
        }
    }
}

impl std::ops::Deref for Elem {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            Elem::Inline { len, buf } => &buf[..*len as usize],
            Elem::Heap(b) => b,
        }
    }
}

impl AsRef<[u8]> for Elem {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl Borrow<[u8]> for Elem {
    fn borrow(&self) -> &[u8] {
        self
    }
}

/// Hashes as the bytes do, so that a set of `Elem`s can be searched with a `&[u8]`.
impl Hash for Elem {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

impl PartialEq for Elem {
    fn eq(&self, other: &Elem) -> bool {
        **self == **other
    }
}

impl Eq for Elem {}

impl PartialEq<[u8]> for Elem {
    fn eq(&self, other: &[u8]) -> bool {
        **self == *other
    }
}

impl std::fmt::Debug for Elem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
    }
}

impl From<&[u8]> for Elem {
    fn from(b: &[u8]) -> Elem {
        Elem::new(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn short_inline_long_heap_same_bytes_and_hash() {
        assert_eq!(std::mem::size_of::<Elem>(), 24);
        let short = Elem::new(b"abc");
        assert!(matches!(short, Elem::Inline { .. }));
        assert_eq!(&*short, b"abc");
        let long = Elem::new(&[7u8; 23]);
        assert!(matches!(long, Elem::Heap(_)));
        assert_eq!(long.len(), 23);
        assert_eq!(&*Elem::new(b""), b"");
        let s = foldhash::fast::RandomState::default();
        assert_eq!(s.hash_one(&short), s.hash_one(&b"abc"[..]));
        assert_eq!(Elem::new(&[1u8; 22]), Elem::new(&[1u8; 22]));
    }
}
