//! List values: a double-ended queue of byte strings.

use std::collections::VecDeque;

use crate::elem::Elem;
use crate::value::Value;
use crate::{Db, OpError};

/// A list value. Never empty while stored: a list that loses its last element is deleted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListValue {
    items: VecDeque<Elem>,
}

impl ListValue {
    /// An empty list (to be filled before it is stored).
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds an element at the head.
    pub fn push_front(&mut self, v: &[u8]) {
        self.items.push_front(Elem::new(v));
    }

    /// Adds an element at the tail.
    pub fn push_back(&mut self, v: &[u8]) {
        self.items.push_back(Elem::new(v));
    }

    /// Removes the head element.
    pub fn pop_front(&mut self) -> Option<Elem> {
        self.items.pop_front()
    }

    /// Removes the tail element.
    pub fn pop_back(&mut self) -> Option<Elem> {
        self.items.pop_back()
    }

    /// The element at `idx` from the head.
    pub fn get(&self, idx: usize) -> Option<&[u8]> {
        self.items.get(idx).map(|b| &b[..])
    }

    /// The element at `idx` from the head, mutable access for `LSET`: replaces it; false if
    /// `idx` is out of range.
    pub fn set(&mut self, idx: usize, v: &[u8]) -> bool {
        match self.items.get_mut(idx) {
            Some(slot) => {
                *slot = Elem::new(v);
                true
            }
            None => false,
        }
    }

    /// Inserts `v` so that it ends up at `idx` (`idx == len` appends).
    pub fn insert(&mut self, idx: usize, v: &[u8]) {
        self.items.insert(idx, Elem::new(v));
    }

    /// Every element from the head.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator + '_ {
        self.items.iter().map(|b| &b[..])
    }

    /// Keeps only the elements `start..=end` (already clamped); `None` empties the list.
    pub fn trim(&mut self, range: Option<(usize, usize)>) {
        match range {
            None => self.items.clear(),
            Some((start, end)) => {
                self.items.truncate(end + 1);
                self.items.drain(..start);
            }
        }
    }

    /// Removes elements equal to `v`: the first `count` from the head when `count > 0`, the
    /// first `-count` from the tail when `count < 0`, all of them when `count == 0`. Returns how
    /// many were removed. One pass over the list.
    pub fn remove_matching(&mut self, v: &[u8], count: i64) -> usize {
        let limit = if count == 0 {
            usize::MAX
        } else {
            usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX)
        };
        let before = self.items.len();
        if count >= 0 {
            let mut removed = 0;
            self.items.retain(|e| {
                if removed < limit && &e[..] == v {
                    removed += 1;
                    false
                } else {
                    true
                }
            });
        } else {
            // The positions to drop, found from the tail, then dropped in one forward pass.
            let mut doomed: Vec<usize> = self
                .items
                .iter()
                .enumerate()
                .rev()
                .filter(|(_, e)| &e[..] == v)
                .map(|(i, _)| i)
                .take(limit)
                .collect();
            doomed.reverse();
            let mut next = doomed.iter().peekable();
            let mut idx = 0;
            self.items.retain(|_| {
                let drop = next.peek() == Some(&&idx);
                if drop {
                    next.next();
                }
                idx += 1;
                !drop
            });
        }
        before - self.items.len()
    }

    /// Elements from `start` to `end` inclusive, already clamped by the caller.
    pub fn range(&self, start: usize, end: usize) -> impl Iterator<Item = &[u8]> + '_ {
        self.items.range(start..=end).map(|b| &b[..])
    }

    /// `quicklist`, the encoding Redis 7.0 reports for every list.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }
}

/// Turns a Redis range `start..=stop` (negative counts from the end) into clamped indexes, or
/// `None` when the range is empty.
pub fn clamp_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut stop = if stop < 0 { len + stop } else { stop };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len {
        return None;
    }
    if stop >= len {
        stop = len - 1;
    }
    Some((start as usize, stop as usize))
}

impl Db {
    /// The list at `key`; `WrongType` if it holds another type.
    pub fn get_list(&mut self, key: &[u8]) -> Result<Option<&ListValue>, OpError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::List(l)) => Ok(Some(l)),
            Some(_) => Err(OpError::WrongType),
        }
    }

    /// The list at `key`, opened for a change (see [`crate::write::KeyMut`]); `WrongType` if it holds another type.
    pub fn get_list_mut<'a>(
        &'a mut self,
        key: &'a [u8],
    ) -> Result<Option<crate::write::KeyMut<'a, ListValue>>, OpError> {
        self.modify_as(key)
    }

    /// The list at `key`, created empty if missing; `WrongType` if it holds another type. The
    /// caller must leave it non-empty or delete it.
    pub fn list_or_create<'a>(
        &'a mut self,
        key: &'a [u8],
    ) -> Result<crate::write::KeyMut<'a, ListValue>, OpError> {
        self.modify_or_insert_with(key, || Value::List(ListValue::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamp_range_matches_lrange() {
        assert_eq!(clamp_range(0, -1, 3), Some((0, 2)));
        assert_eq!(clamp_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(clamp_range(5, 10, 3), None);
        assert_eq!(clamp_range(2, 1, 3), None);
        assert_eq!(clamp_range(-1, -1, 3), Some((2, 2)));
        assert_eq!(clamp_range(0, 0, 0), None);
    }

    fn list(items: &[&str]) -> ListValue {
        let mut l = ListValue::new();
        for i in items {
            l.push_back(i.as_bytes());
        }
        l
    }

    fn items(l: &ListValue) -> Vec<String> {
        l.iter()
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect()
    }

    #[test]
    fn remove_matching_counts_from_either_end() {
        let mut l = list(&["a", "b", "a", "c", "a"]);
        assert_eq!(l.remove_matching(b"a", 1), 1);
        assert_eq!(items(&l), ["b", "a", "c", "a"]);
        assert_eq!(l.remove_matching(b"a", -1), 1);
        assert_eq!(items(&l), ["b", "a", "c"]);
        let mut l = list(&["a", "b", "a", "c", "a"]);
        assert_eq!(l.remove_matching(b"a", -2), 2);
        assert_eq!(items(&l), ["a", "b", "c"]);
        let mut l = list(&["a", "b", "a"]);
        assert_eq!(l.remove_matching(b"a", 0), 2);
        assert_eq!(items(&l), ["b"]);
        assert_eq!(l.remove_matching(b"z", i64::MIN), 0);
    }

    #[test]
    fn trim_set_and_insert() {
        let mut l = list(&["a", "b", "c", "d"]);
        l.trim(clamp_range(1, -2, 4));
        assert_eq!(items(&l), ["b", "c"]);
        assert!(l.set(1, b"x"));
        assert!(!l.set(2, b"x"));
        l.insert(0, b"h");
        l.insert(3, b"t");
        assert_eq!(items(&l), ["h", "b", "x", "t"]);
        l.trim(None);
        assert!(l.is_empty());
    }
}
