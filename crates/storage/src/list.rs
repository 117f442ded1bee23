//! List values: a double-ended queue of byte strings.

use std::collections::VecDeque;

use crate::value::Value;
use crate::{Db, OpError};

/// A list value. Never empty while stored: a list that loses its last element is deleted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListValue {
    items: VecDeque<Box<[u8]>>,
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
        self.items.push_front(v.into());
    }

    /// Adds an element at the tail.
    pub fn push_back(&mut self, v: &[u8]) {
        self.items.push_back(v.into());
    }

    /// Removes the head element.
    pub fn pop_front(&mut self) -> Option<Box<[u8]>> {
        self.items.pop_front()
    }

    /// Removes the tail element.
    pub fn pop_back(&mut self) -> Option<Box<[u8]>> {
        self.items.pop_back()
    }

    /// The element at `idx` from the head.
    pub fn get(&self, idx: usize) -> Option<&[u8]> {
        self.items.get(idx).map(|b| &b[..])
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

    /// The list at `key`, mutable; `WrongType` if it holds another type.
    pub fn get_list_mut(&mut self, key: &[u8]) -> Result<Option<&mut ListValue>, OpError> {
        match self.get_mut(key) {
            None => Ok(None),
            Some(Value::List(l)) => Ok(Some(l)),
            Some(_) => Err(OpError::WrongType),
        }
    }

    /// The list at `key`, created empty if missing; `WrongType` if it holds another type. The
    /// caller must leave it non-empty or delete it.
    pub fn list_or_create(&mut self, key: &[u8]) -> Result<&mut ListValue, OpError> {
        if !self.contains(key) {
            self.insert(key, Value::List(ListValue::new()), None);
        }
        match self.get_mut(key) {
            Some(Value::List(l)) => Ok(l),
            _ => Err(OpError::WrongType),
        }
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
}
