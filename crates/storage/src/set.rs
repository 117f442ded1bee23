//! Set values: unique byte strings with O(1) random access for SPOP and SRANDMEMBER.

use foldhash::fast::RandomState;
use indexmap::IndexSet;
use rand::Rng;

use crate::value::Value;
use crate::{Db, OpError};

/// A set value. Never empty while stored.
#[derive(Debug, Clone, Default)]
pub struct SetValue {
    members: IndexSet<Box<[u8]>, RandomState>,
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

    /// The number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Adds a member; true if it was new.
    pub fn insert(&mut self, m: &[u8]) -> bool {
        if self.members.contains(m) {
            return false;
        }
        self.members.insert(m.into())
    }

    /// Removes a member; true if it was there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        self.members.swap_remove(m)
    }

    /// Whether `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        self.members.contains(m)
    }

    /// Every member, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.members.iter().map(|b| &b[..])
    }

    /// Removes and returns a uniformly random member, in O(1).
    pub fn pop_random(&mut self, rng: &mut impl Rng) -> Option<Box<[u8]>> {
        if self.members.is_empty() {
            return None;
        }
        let i = rng.gen_range(0..self.members.len());
        self.members.swap_remove_index(i)
    }

    /// A uniformly random member, in O(1).
    pub fn random(&self, rng: &mut impl Rng) -> Option<&[u8]> {
        if self.members.is_empty() {
            return None;
        }
        let i = rng.gen_range(0..self.members.len());
        self.members.get_index(i).map(|b| &b[..])
    }

    /// `intset` when every member is an integer and there are few, else `hashtable`, as Redis
    /// 7.0 reports.
    pub fn encoding(&self) -> &'static str {
        if self.members.len() <= SET_MAX_INTSET_ENTRIES
            && self
                .members
                .iter()
                .all(|m| crate::string::parse_canonical_i64(m).is_some())
        {
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
    pub fn get_set_mut(&mut self, key: &[u8]) -> Result<Option<&mut SetValue>, OpError> {
        match self.get_mut(key) {
            None => Ok(None),
            Some(Value::Set(s)) => Ok(Some(s)),
            Some(_) => Err(OpError::WrongType),
        }
    }

    /// The set at `key`, created empty if missing. The caller must leave it non-empty or
    /// delete it.
    pub fn set_or_create(&mut self, key: &[u8]) -> Result<&mut SetValue, OpError> {
        if !self.contains(key) {
            self.insert(key, Value::Set(SetValue::new()), None);
        }
        match self.get_mut(key) {
            Some(Value::Set(s)) => Ok(s),
            _ => Err(OpError::WrongType),
        }
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
            assert!(s.insert(format!("m{i}").as_bytes()));
        }
        assert!(!s.insert(b"m1"));
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
        s.insert(b"1");
        assert_eq!(s.encoding(), "intset");
        s.insert(b"a");
        assert_eq!(s.encoding(), "hashtable");
    }
}
