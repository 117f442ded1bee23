//! Hash values: field-value pairs, with a compact encoding for small hashes.
//!
//! A small hash (`listpack`, as Redis names it) is one byte buffer of length-prefixed fields and
//! values, searched linearly: a hash of ten short fields costs one allocation. A hash that
//! outgrows `hash-max-listpack-entries` or holds a field or value longer than
//! `hash-max-listpack-value` becomes an insertion-ordered hash table (`hashtable`), which gives
//! O(1) lookups and O(1) access by position for HRANDFIELD. Like Redis, a hash never converts
//! back.

use foldhash::fast::RandomState;
use indexmap::IndexMap;

use crate::value::Value;
use crate::{Db, OpError};

/// The encoding limits of hashes (`hash-max-listpack-entries` / `-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    /// Most fields the compact encoding may hold.
    pub max_entries: usize,
    /// Longest field or value the compact encoding may hold.
    pub max_value: usize,
}

impl Default for HashLimits {
    fn default() -> Self {
        HashLimits {
            max_entries: 128,
            max_value: 64,
        }
    }
}

/// The hash-table encoding: fields to values, in insertion order (swap-removed).
pub type FieldTable = IndexMap<Box<[u8]>, Box<[u8]>, RandomState>;

/// A hash value. Never empty while stored.
#[derive(Debug, Clone)]
pub enum HashValue {
    /// Few, short fields, packed in one buffer.
    Pack(Packed),
    /// The hash table, boxed so that a small hash keeps `Value` small.
    Table(Box<FieldTable>),
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue::Pack(Packed::default())
    }
}

impl PartialEq for HashValue {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

/// Field-value pairs in one buffer: each string is a LEB128 length then its bytes. The buffer
/// is a boxed slice, exactly as long as its contents, and the count a `u32` (a packed hash holds
/// at most `hash-max-listpack-entries` pairs), so that the value is 24 bytes.
#[derive(Debug, Clone, Default)]
pub struct Packed {
    buf: Box<[u8]>,
    pairs: u32,
}

fn put_len(buf: &mut Vec<u8>, mut n: usize) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            buf.push(b);
            return;
        }
        buf.push(b | 0x80);
    }
}

fn len_size(mut n: usize) -> usize {
    let mut s = 1;
    while n >= 0x80 {
        n >>= 7;
        s += 1;
    }
    s
}

/// Reads one string at `at`; returns it and the offset after it.
fn read_str(buf: &[u8], mut at: usize) -> (&[u8], usize) {
    let mut n = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[at];
        at += 1;
        n |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (&buf[at..at + n], at + n)
}

/// The offsets of the pair whose field is `field` in `buf`: (pair start, value start, pair end).
fn locate_in(buf: &[u8], field: &[u8]) -> Option<(usize, usize, usize)> {
    let mut at = 0;
    while at < buf.len() {
        let (f, vstart) = read_str(buf, at);
        let (_, end) = read_str(buf, vstart);
        if f == field {
            return Some((at, vstart, end));
        }
        at = end;
    }
    None
}

/// Walks the pairs of a packed hash.
pub struct PackedIter<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Iterator for PackedIter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.buf.len() {
            return None;
        }
        let (f, at) = read_str(self.buf, self.at);
        let (v, at) = read_str(self.buf, at);
        self.at = at;
        Some((f, v))
    }
}

impl Packed {
    fn iter(&self) -> PackedIter<'_> {
        PackedIter {
            buf: &self.buf,
            at: 0,
        }
    }

    /// The offsets of the pair whose field is `field`: (pair start, value start, pair end).
    fn locate(&self, field: &[u8]) -> Option<(usize, usize, usize)> {
        locate_in(&self.buf, field)
    }

    fn get(&self, field: &[u8]) -> Option<&[u8]> {
        let (_, vstart, _) = self.locate(field)?;
        Some(read_str(&self.buf, vstart).0)
    }

    /// Sets a field; true if it is new.
    fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        let mut enc = Vec::with_capacity(len_size(value.len()) + value.len());
        put_len(&mut enc, value.len());
        enc.extend_from_slice(value);
        let mut buf = std::mem::take(&mut self.buf).into_vec();
        let new = match locate_in(&buf, field) {
            Some((_, vstart, end)) => {
                buf.splice(vstart..end, enc);
                false
            }
            None => {
                let need = len_size(field.len()) + field.len() + enc.len();
                buf.reserve_exact(need);
                put_len(&mut buf, field.len());
                buf.extend_from_slice(field);
                buf.extend_from_slice(&enc);
                self.pairs += 1;
                true
            }
        };
        self.buf = buf.into_boxed_slice();
        new
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        match self.locate(field) {
            Some((start, _, end)) => {
                let mut buf = std::mem::take(&mut self.buf).into_vec();
                buf.drain(start..end);
                self.buf = buf.into_boxed_slice();
                self.pairs -= 1;
                true
            }
            None => false,
        }
    }
}

impl HashValue {
    /// An empty hash in the compact encoding.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        match self {
            HashValue::Pack(p) => p.pairs as usize,
            HashValue::Table(t) => t.len(),
        }
    }

    /// Whether the hash is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `listpack` or `hashtable`, as `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            HashValue::Pack(_) => "listpack",
            HashValue::Table(_) => "hashtable",
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            HashValue::Pack(p) => p.get(field),
            HashValue::Table(t) => t.get(field).map(|v| &v[..]),
        }
    }

    /// Whether `field` exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Sets `field` to `value`; true if the field is new. Converts to the hash table when the
    /// hash outgrows `limits`.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: HashLimits) -> bool {
        if let HashValue::Pack(p) = self {
            let fits = field.len() <= limits.max_value && value.len() <= limits.max_value;
            if fits && ((p.pairs as usize) < limits.max_entries || p.get(field).is_some()) {
                return p.set(field, value);
            }
            self.convert_to_table();
        }
        match self {
            HashValue::Table(t) => t.insert(field.into(), value.into()).is_none(),
            HashValue::Pack(_) => false,
        }
    }

    fn convert_to_table(&mut self) {
        if let HashValue::Pack(p) = self {
            let mut t =
                IndexMap::with_capacity_and_hasher(p.pairs as usize + 1, RandomState::default());
            for (f, v) in p.iter() {
                t.insert(f.into(), v.into());
            }
            *self = HashValue::Table(Box::new(t));
        }
    }

    /// Removes `field`; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            HashValue::Pack(p) => p.remove(field),
            HashValue::Table(t) => t.swap_remove(field).is_some(),
        }
    }

    /// Every field and value, in storage order.
    pub fn iter(&self) -> HashIter<'_> {
        match self {
            HashValue::Pack(p) => HashIter::Pack(p.iter()),
            HashValue::Table(t) => HashIter::Table(t.iter()),
        }
    }

    /// The pair at position `i` of the storage order: O(1) for the hash table, O(n) for the
    /// small encoding (at most `hash-max-listpack-entries` pairs).
    pub fn get_index(&self, i: usize) -> Option<(&[u8], &[u8])> {
        match self {
            HashValue::Pack(p) => p.iter().nth(i),
            HashValue::Table(t) => t.get_index(i).map(|(f, v)| (&f[..], &v[..])),
        }
    }

    /// One step of HSCAN: calls `f` for about `count` pairs from `cursor` and returns the next
    /// cursor (0 when done). The compact encoding returns everything at once.
    ///
    /// The hash table is walked from its last position down: a cursor `c` means positions
    /// `0..c` are still to visit. Removing a field moves the last pair into the hole, which is
    /// either still to visit or was visited already, so a field present for the whole scan is
    /// always returned, as Redis guarantees; new fields land at the end (already visited).
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match self {
            HashValue::Pack(p) => {
                for (k, v) in p.iter() {
                    f(k, v);
                }
                0
            }
            HashValue::Table(t) => {
                let mut c = if cursor == 0 {
                    t.len()
                } else {
                    (cursor as usize).min(t.len())
                };
                let mut seen = 0;
                while c > 0 && seen < count.max(1) {
                    c -= 1;
                    if let Some((k, v)) = t.get_index(c) {
                        f(k, v);
                    }
                    seen += 1;
                }
                c as u64
            }
        }
    }
}

/// Walks a hash's pairs.
pub enum HashIter<'a> {
    /// Over the compact encoding.
    Pack(PackedIter<'a>),
    /// Over the hash table.
    Table(indexmap::map::Iter<'a, Box<[u8]>, Box<[u8]>>),
}

impl<'a> Iterator for HashIter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            HashIter::Pack(p) => p.next(),
            HashIter::Table(t) => t.next().map(|(f, v)| (&f[..], &v[..])),
        }
    }
}

impl Db {
    /// The hash at `key`; `WrongType` if it holds another type.
    pub fn get_hash(&mut self, key: &[u8]) -> Result<Option<&HashValue>, OpError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Hash(h)) => Ok(Some(h)),
            Some(_) => Err(OpError::WrongType),
        }
    }

    /// The hash at `key`, mutable; `WrongType` if it holds another type.
    pub fn get_hash_mut<'a>(
        &'a mut self,
        key: &'a [u8],
    ) -> Result<Option<crate::write::KeyMut<'a, HashValue>>, OpError> {
        self.modify_as(key)
    }

    /// The hash at `key`, created empty if missing. The caller must leave it non-empty or
    /// delete it.
    pub fn hash_or_create<'a>(
        &'a mut self,
        key: &'a [u8],
    ) -> Result<crate::write::KeyMut<'a, HashValue>, OpError> {
        self.modify_or_insert_with(key, || Value::Hash(HashValue::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SMALL: HashLimits = HashLimits {
        max_entries: 8,
        max_value: 16,
    };

    proptest! {
        #[test]
        fn hash_agrees_with_a_map(ops in proptest::collection::vec((any::<u8>(), any::<u8>(), any::<bool>()), 1..200)) {
            let mut h = HashValue::new();
            let mut model = std::collections::HashMap::new();
            for (f, v, del) in ops {
                let field = format!("f{}", f % 24).into_bytes();
                let value = vec![b'v'; (v % 200) as usize];
                if del {
                    prop_assert_eq!(h.remove(&field), model.remove(&field).is_some());
                } else {
                    prop_assert_eq!(h.set(&field, &value, SMALL), model.insert(field.clone(), value).is_none());
                }
                prop_assert_eq!(h.len(), model.len());
                for (f, v) in &model {
                    prop_assert_eq!(h.get(f), Some(&v[..]));
                }
                prop_assert_eq!(h.iter().count(), model.len());
            }
        }
    }

    #[test]
    fn encoding_follows_the_limits() {
        let mut h = HashValue::new();
        for i in 0..8 {
            h.set(format!("f{i}").as_bytes(), b"v", SMALL);
        }
        assert_eq!(h.encoding(), "listpack");
        h.set(b"f0", b"w", SMALL);
        assert_eq!(h.encoding(), "listpack");
        h.set(b"f8", b"v", SMALL);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = HashValue::new();
        h.set(b"f", &[b'x'; 17], SMALL);
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn scan_survives_removals() {
        let mut h = HashValue::new();
        for i in 0..100 {
            h.set(format!("f{i}").as_bytes(), b"v", SMALL);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            cursor = h.scan(cursor, 7, |f, _| {
                seen.insert(f.to_vec());
            });
            // Remove a field that was already returned: no field still present may be missed.
            round += 1;
            h.remove(format!("f{}", 99 - round).as_bytes());
            if cursor == 0 {
                break;
            }
        }
        for (f, _) in h.iter() {
            assert!(seen.contains(f));
        }
    }
}
