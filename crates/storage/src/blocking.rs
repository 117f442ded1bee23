//! `BlockedKeys`: which keys of one database have clients blocked on them, and which of those
//! received a value since the runtime last looked ("ready keys").
//!
//! Storage only records; it never serves anyone. The write path calls
//! [`BlockedKeys::signal`] for every key stored or changed in place, which costs one emptiness check when nobody
//! is blocked. The runtime registers waiters ([`BlockedKeys::add`]), drains the ready keys after
//! each command and serves the waiters of those keys (see docs/blocking.md).

use foldhash::fast::RandomState;
use hashbrown::HashMap;

/// The blocked-on keys of one database.
#[derive(Debug, Default)]
pub struct BlockedKeys {
    /// For each key with waiters on this shard, how many registrations wait on it.
    waited: HashMap<Box<[u8]>, usize, RandomState>,
    /// Waited keys that were stored since the last [`BlockedKeys::take_ready`], in order.
    ready: Vec<Box<[u8]>>,
}

impl BlockedKeys {
    /// Notes that `key` was stored: if someone waits on it, it becomes ready.
    #[inline]
    pub fn signal(&mut self, key: &[u8]) {
        if !self.waited.is_empty() && self.waited.contains_key(key) {
            self.mark_ready(key);
        }
    }

    /// Makes `key` ready whether or not it was stored (used when a check had to be put off).
    pub fn mark_ready(&mut self, key: &[u8]) {
        if !self.ready.iter().any(|k| &k[..] == key) {
            self.ready.push(key.into());
        }
    }

    /// Makes every waited key for which `exists` is true ready (SWAPDB brought new contents).
    pub fn signal_existing(&mut self, mut exists: impl FnMut(&[u8]) -> bool) {
        let keys: Vec<Box<[u8]>> = self.waited.keys().filter(|k| exists(k)).cloned().collect();
        for k in keys {
            self.mark_ready(&k);
        }
    }

    /// Counts one more registration waiting on `key`.
    pub fn add(&mut self, key: &[u8]) {
        *self.waited.entry(key.into()).or_insert(0) += 1;
    }

    /// Counts one registration on `key` fewer.
    pub fn remove(&mut self, key: &[u8]) {
        if let Some(n) = self.waited.get_mut(key) {
            *n -= 1;
            if *n == 0 {
                self.waited.remove(key);
            }
        }
    }

    /// Whether any key became ready.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// The keys that became ready, oldest first; the list is left empty.
    pub fn take_ready(&mut self) -> Vec<Box<[u8]>> {
        std::mem::take(&mut self.ready)
    }

    /// How many keys have waiters.
    pub fn len(&self) -> usize {
        self.waited.len()
    }

    /// Whether no key has waiters.
    pub fn is_empty(&self) -> bool {
        self.waited.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_waited_keys_become_ready_once() {
        let mut b = BlockedKeys::default();
        b.signal(b"a");
        assert!(!b.has_ready());
        b.add(b"a");
        b.add(b"a");
        b.signal(b"a");
        b.signal(b"a");
        b.signal(b"b");
        assert_eq!(b.take_ready(), vec![Box::from(&b"a"[..])]);
        b.remove(b"a");
        assert_eq!(b.len(), 1);
        b.remove(b"a");
        assert!(b.is_empty());
    }
}
