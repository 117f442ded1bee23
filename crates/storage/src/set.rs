//! Set values: unique byte strings with O(1) random access for SPOP and SRANDMEMBER.

use foldhash::fast::RandomState;
use indexmap::IndexSet;
use rand::Rng;

use crate::elem::Elem;
use crate::string::parse_canonical_i64;
use crate::value::Value;
use crate::{Db, OpError};

/// A set value. Never empty while stored.
///
/// Redis 7.0 keeps a set of few integers as an `intset` (sorted by value) and anything else as a
/// `hashtable`, and never turns a hashtable back into an intset except when a big `SPOP` copies
/// the rest into a new set. `intset` follows the same rules, so `OBJECT ENCODING`, and the order
/// `SMEMBERS` returns a small integer set in, match Redis.
#[derive(Debug, Clone)]
pub struct SetValue {
    /// Boxed so that a set adds nothing to the size of `Value`, which every key's table node
    /// holds inline.
    members: Box<IndexSet<Elem, RandomState>>,
    /// While true every member is a canonical integer, `members` is sorted by value and there
    /// are at most `set-max-intset-entries` of them.
    intset: bool,
}

impl Default for SetValue {
    fn default() -> Self {
        SetValue {
            members: Box::default(),
            intset: true,
        }
    }
}

impl PartialEq for SetValue {
    fn eq(&self, other: &Self) -> bool {
        self.members.len() == other.members.len()
            && self.members.iter().all(|m| other.members.contains(m))
    }
}

/// Redis's default `set-max-intset-entries`.
pub const SET_MAX_INTSET_ENTRIES: usize = 512;

impl SetValue {
    /// An empty set (to be filled before it is stored).
    pub fn new() -> Self {
        Self::default()
    }

    /// A set of `members`, encoded as Redis encodes a set built by adding them one by one.
    pub fn from_members<'a>(
        members: impl IntoIterator<Item = &'a [u8]>,
        max_intset_entries: usize,
    ) -> Self {
        let mut s = SetValue::new();
        for m in members {
            s.insert(m, max_intset_entries);
        }
        s
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Adds a member; true if it was new. `max_intset_entries` is `set-max-intset-entries`.
    pub fn insert(&mut self, m: &[u8], max_intset_entries: usize) -> bool {
        if self.intset {
            if let Some(v) = parse_canonical_i64(m) {
                let pos = self
                    .members
                    .as_slice()
                    .binary_search_by_key(&v, |e| parse_canonical_i64(e).unwrap_or(i64::MIN));
                match pos {
                    Ok(_) => return false,
                    Err(_) if self.members.len() >= max_intset_entries => self.intset = false,
                    Err(pos) => return self.members.shift_insert(pos, Elem::new(m)),
                }
            } else {
                self.intset = false;
            }
        }
        if self.members.contains(m) {
            return false;
        }
        self.members.insert(Elem::new(m))
    }

    /// Removes a member; true if it was there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        if self.intset {
            self.members.shift_remove(m)
        } else {
            self.members.swap_remove(m)
        }
    }

    /// Whether `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        self.members.contains(m)
    }

    /// Every member: by value for an intset, else in no particular order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.members.iter().map(|b| &b[..])
    }

    /// The member at position `i` of [`SetValue::iter`]'s order.
    pub fn get_index(&self, i: usize) -> Option<&[u8]> {
        self.members.get_index(i).map(|b| &b[..])
    }

    /// Removes and returns a uniformly random member, in O(1) (O(n) for an intset, which holds
    /// at most `set-max-intset-entries` members).
    pub fn pop_random(&mut self, rng: &mut impl Rng) -> Option<Elem> {
        if self.members.is_empty() {
            return None;
        }
        let i = rng.gen_range(0..self.members.len());
        if self.intset {
            self.members.shift_remove_index(i)
        } else {
            self.members.swap_remove_index(i)
        }
    }

    /// A uniformly random member, in O(1).
    pub fn random(&self, rng: &mut impl Rng) -> Option<&[u8]> {
        if self.members.is_empty() {
            return None;
        }
        let i = rng.gen_range(0..self.members.len());
        self.members.get_index(i).map(|b| &b[..])
    }

    /// Rebuilds the encoding as if the remaining members had been added to a new set, as Redis's
    /// `SPOP` with a count close to the set's size does.
    pub fn reencode(&mut self, max_intset_entries: usize) {
        let members = std::mem::take(&mut self.members);
        *self = SetValue::from_members(members.iter().map(|m| &m[..]), max_intset_entries);
    }

    /// `intset` or `hashtable`, as Redis 7.0 reports.
    pub fn encoding(&self) -> &'static str {
        if self.intset {
            "intset"
        } else {
            "hashtable"
        }
    }
}

impl Db {
    /// The set at `key`; `WrongType` if it holds another type.
    pub fn get_set(&mut self, key: &[u8]) -> Result<Option<&SetValue>, OpError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Set(s)) => Ok(Some(s)),
            Some(_) => Err(OpError::WrongType),
        }
    }

    /// The set at `key`, mutable; `WrongType` if it holds another type.
    pub fn get_set_mut<'a>(
        &'a mut self,
        key: &'a [u8],
    ) -> Result<Option<crate::write::KeyMut<'a, SetValue>>, OpError> {
        self.modify_as(key)
    }

    /// The set at `key`, created empty if missing. The caller must leave it non-empty or
    /// delete it.
    pub fn set_or_create<'a>(
        &'a mut self,
        key: &'a [u8],
    ) -> Result<crate::write::KeyMut<'a, SetValue>, OpError> {
        self.modify_or_insert_with(key, || Value::Set(SetValue::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn pop_random_drains_every_member_once() {
        let mut s = SetValue::new();
        for i in 0..100 {
            assert!(s.insert(format!("m{i}").as_bytes(), 512));
        }
        assert!(!s.insert(b"m1", 512));
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        let mut seen = std::collections::HashSet::new();
        while let Some(m) = s.pop_random(&mut rng) {
            assert!(seen.insert(m));
        }
        assert_eq!(seen.len(), 100);
    }

    #[test]
    fn encoding_follows_redis_7_0() {
        let mut s = SetValue::new();
        assert!(s.insert(b"10", 512));
        assert!(s.insert(b"-2", 512));
        assert!(!s.insert(b"10", 512));
        assert_eq!(s.encoding(), "intset");
        let order: Vec<&[u8]> = s.iter().collect();
        assert_eq!(order, [&b"-2"[..], b"10"]);
        s.insert(b"a", 512);
        assert_eq!(s.encoding(), "hashtable");
        s.remove(b"a");
        assert_eq!(s.encoding(), "hashtable");
        s.reencode(512);
        assert_eq!(s.encoding(), "intset");
        // Growing past the limit converts for good.
        let mut s = SetValue::new();
        for i in 0..3 {
            s.insert(i.to_string().as_bytes(), 2);
        }
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 3);
        // Non-canonical integers are strings.
        assert_eq!(
            SetValue::from_members([&b"01"[..]], 512).encoding(),
            "hashtable"
        );
    }
}
