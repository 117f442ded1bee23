//! Streams: entries ordered by ID, consumer groups, their pending entries lists and consumers.
//!
//! **Representation.** Entries live in *nodes* of up to `stream-node-max-entries` entries (and
//! about `stream-node-max-bytes` bytes), kept in a `BTreeMap` keyed by the ID of each node's
//! first entry, as Redis keeps listpacks in a radix tree. Inside a node, entries are a vector
//! sorted by ID; each holds its ID (16 bytes), a deleted flag and its fields and values packed
//! into one boxed buffer (a varint count, then a varint length before each string): 40 bytes
//! plus the packed strings (one or two bytes of length each) and one allocation per entry,
//! against roughly 10 to 20 bytes of listpack overhead per entry in Redis. Nodes are what
//! approximate trimming (`MAXLEN ~`, `MINID ~`) removes whole, and deletion only marks an entry
//! until its node is empty, so `~` trims exactly the entries Redis 7.0 trims.
//!
//! Consumer groups are ordered by name (as Redis's radix tree orders them); each has its
//! pending entries list (PEL: ID → consumer, delivery time and count) and its consumers, each
//! with the set of IDs pending for it. The two views are kept consistent by the methods here.

use std::collections::{BTreeMap, BTreeSet};

use crate::value::Value;
use crate::write::Kind;

/// A stream entry ID: milliseconds and sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct StreamId {
    /// The millisecond part.
    pub ms: u64,
    /// The sequence part.
    pub seq: u64,
}

impl StreamId {
    /// `0-0`.
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// `18446744073709551615-18446744073709551615`.
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// An ID.
    pub const fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    /// The next ID; `None` past the last possible one.
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                return None;
            }
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous ID; `None` before `0-0`.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                return None;
            }
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    /// Whether this is `0-0`.
    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// The `ms-seq` text form.
    pub fn to_bytes(self) -> Vec<u8> {
        format!("{}-{}", self.ms, self.seq).into_bytes()
    }
}

/// A consumer group's entries_read when it is not known (Redis's `SCG_INVALID_ENTRIES_READ`).
pub const INVALID_ENTRIES_READ: i64 = -1;

/// Where a node is full: Redis's largest listpack.
const LISTPACK_MAX_SIZE: usize = 1 << 30;

#[derive(Debug, Clone, PartialEq)]
struct Item {
    id: StreamId,
    deleted: bool,
    fields: Box<[u8]>,
}

#[derive(Debug, Clone, PartialEq)]
struct Node {
    items: Vec<Item>,
    /// Entries not marked deleted.
    live: usize,
    /// An estimate of the listpack bytes Redis would use for this node (for
    /// `stream-node-max-bytes`).
    bytes: usize,
}

fn put_varint(buf: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

fn get_varint(buf: &[u8], pos: &mut usize) -> usize {
    let mut n = 0usize;
    let mut shift = 0;
    while let Some(&b) = buf.get(*pos) {
        *pos += 1;
        n |= ((b & 0x7f) as usize) << shift;
        if b < 0x80 {
            break;
        }
        shift += 7;
    }
    n
}

fn pack<S: AsRef<[u8]>>(strings: &[S]) -> Box<[u8]> {
    let total: usize = strings.iter().map(|s| s.as_ref().len() + 2).sum();
    let mut buf = Vec::with_capacity(total + 4);
    put_varint(&mut buf, strings.len());
    for s in strings {
        let s = s.as_ref();
        put_varint(&mut buf, s.len());
        buf.extend_from_slice(s);
    }
    buf.into_boxed_slice()
}

/// The fields and values of one entry, in order (field, value, field, value, ...).
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    left: usize,
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8]) -> Self {
        let mut pos = 0;
        let left = get_varint(buf, &mut pos);
        Fields { buf, pos, left }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let n = get_varint(self.buf, &mut self.pos);
        let end = (self.pos + n).min(self.buf.len());
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Some(s)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Fields<'_> {}

/// One pending entry of a consumer group.
#[derive(Debug, Clone, PartialEq)]
pub struct Nack {
    /// When it was last delivered (ms since the epoch).
    pub delivery_time: u64,
    /// How many times it was delivered.
    pub delivery_count: u64,
    /// The consumer it is pending for.
    pub consumer: Box<[u8]>,
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Consumer {
    /// When it last read or claimed (ms since the epoch).
    pub seen_time: u64,
    /// The IDs pending for it.
    pub pel: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The last ID delivered to the group.
    pub last_id: StreamId,
    /// How many entries the group has read, or [`INVALID_ENTRIES_READ`].
    pub entries_read: i64,
    /// Delivered and not yet acknowledged entries.
    pub pel: BTreeMap<StreamId, Nack>,
    /// Its consumers, by name.
    pub consumers: BTreeMap<Box<[u8]>, Consumer>,
}

impl Group {
    /// A group that starts reading after `last_id`.
    pub fn new(last_id: StreamId, entries_read: i64) -> Self {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// The consumer `name`, created (seen now) if missing; its `seen_time` is set to `now`
    /// either way. Returns whether it was created.
    pub fn touch_consumer(&mut self, name: &[u8], now: u64) -> bool {
        match self.consumers.get_mut(name) {
            Some(c) => {
                c.seen_time = now;
                false
            }
            None => {
                self.consumers.insert(
                    name.into(),
                    Consumer {
                        seen_time: now,
                        pel: BTreeSet::new(),
                    },
                );
                true
            }
        }
    }

    /// Removes `id` from the PEL (and its consumer's); true if it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(n) => {
                if let Some(c) = self.consumers.get_mut(&n.consumer) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Makes `id` pending for `consumer` (which must exist), delivered at `now`: a new NACK
    /// with count 1, or, if already pending (for anyone), moved to `consumer` with its count
    /// and time reset, as XREADGROUP does for an entry it delivers again.
    pub fn deliver(&mut self, id: StreamId, consumer: &[u8], now: u64) {
        if let Some(old) = self.pel.get(&id) {
            if &*old.consumer != consumer {
                let prev = old.consumer.clone();
                if let Some(c) = self.consumers.get_mut(&prev) {
                    c.pel.remove(&id);
                }
            }
        }
        self.pel.insert(
            id,
            Nack {
                delivery_time: now,
                delivery_count: 1,
                consumer: consumer.into(),
            },
        );
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }

    /// Gives the pending `id` to `consumer` (which must exist), leaving its NACK's time and
    /// count to the caller.
    pub fn reassign(&mut self, id: StreamId, consumer: &[u8]) {
        let Some(n) = self.pel.get_mut(&id) else {
            return;
        };
        if &*n.consumer == consumer {
            return;
        }
        let prev = std::mem::replace(&mut n.consumer, consumer.into());
        if let Some(c) = self.consumers.get_mut(&prev) {
            c.pel.remove(&id);
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }

    /// Deletes consumer `name` and its pending entries; how many it had, or `None` if it did
    /// not exist.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }
}

/// How [`StreamValue::trim`] trims.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trim {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Remove entries with smaller IDs.
    MinId(StreamId),
}

/// A stream.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamValue {
    nodes: BTreeMap<StreamId, Node>,
    length: u64,
    /// The last ID ever added (or set by XSETID).
    pub last_id: StreamId,
    /// The first live entry's ID (0-0 when empty).
    pub first_id: StreamId,
    /// The greatest ID ever deleted.
    pub max_deleted: StreamId,
    /// How many entries were ever added.
    pub entries_added: u64,
    /// Consumer groups by name.
    pub groups: BTreeMap<Box<[u8]>, Group>,
}

impl Kind for StreamValue {
    #[inline(always)]
    fn of(v: &Value) -> Option<&Self> {
        match v {
            Value::Stream(s) => Some(&**s),
            _ => None,
        }
    }
    #[inline(always)]
    fn of_mut(v: &mut Value) -> Option<&mut Self> {
        match v {
            Value::Stream(s) => Some(&mut **s),
            _ => None,
        }
    }
}

/// Why [`StreamValue::add`] refused an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddError {
    /// The ID is not greater than the last one (or none is left).
    NotGreater,
    /// The fields are too large for one node.
    TooLarge,
}

impl StreamValue {
    /// An empty stream.
    pub fn new() -> Self {
        StreamValue::default()
    }

    /// The number of entries.
    pub fn len(&self) -> u64 {
        self.length
    }

    /// Whether it holds no entries.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// `OBJECT ENCODING`.
    pub fn encoding(&self) -> &'static str {
        "stream"
    }

    /// The number of nodes (XINFO's `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// How many nodes Redis's radix tree of these nodes would have (XINFO's
    /// `radix-tree-nodes`): keys are the nodes' first IDs as 16 big-endian bytes, each run of
    /// bytes shared below a point is one compressed node, each point where keys diverge is one
    /// node, and each key ends in a leaf; an empty tree is its root alone.
    pub fn rax_nodes(&self) -> usize {
        fn count(keys: &[[u8; 16]], depth: usize) -> usize {
            if depth == 16 {
                return 1;
            }
            let (first, last) = (&keys[0], &keys[keys.len() - 1]);
            let common = (depth..16).take_while(|&i| first[i] == last[i]).count();
            if common > 0 {
                return 1 + count(keys, depth + common);
            }
            let mut n = 1;
            let mut i = 0;
            while i < keys.len() {
                let b = keys[i][depth];
                let j = i + keys[i..].iter().take_while(|k| k[depth] == b).count();
                n += count(&keys[i..j], depth + 1);
                i = j;
            }
            n
        }
        let keys: Vec<[u8; 16]> = self
            .nodes
            .keys()
            .map(|id| {
                let mut k = [0u8; 16];
                k[..8].copy_from_slice(&id.ms.to_be_bytes());
                k[8..].copy_from_slice(&id.seq.to_be_bytes());
                k
            })
            .collect();
        if keys.is_empty() {
            1
        } else {
            count(&keys, 0)
        }
    }

    /// The ID an auto-generated XADD would give at `now_ms`; `None` if none is left.
    pub fn next_auto_id(&self, now_ms: u64) -> Option<StreamId> {
        if now_ms > self.last_id.ms {
            Some(StreamId::new(now_ms, 0))
        } else {
            self.last_id.incr()
        }
    }

    /// Appends an entry with `id` (which the caller computed) and `fields` (field, value,
    /// ...). Nodes hold at most `max_entries` entries (0: no limit) and about `max_bytes`
    /// bytes (0: no limit), as Redis's `stream-node-max-*` say.
    pub fn add<S: AsRef<[u8]>>(
        &mut self,
        id: StreamId,
        fields: &[S],
        max_entries: usize,
        max_bytes: usize,
    ) -> Result<(), AddError> {
        if id <= self.last_id {
            return Err(AddError::NotGreater);
        }
        let totelelen: usize = fields.iter().map(|f| f.as_ref().len()).sum();
        if totelelen > LISTPACK_MAX_SIZE {
            return Err(AddError::TooLarge);
        }
        let max_bytes = if max_bytes == 0 || max_bytes > LISTPACK_MAX_SIZE {
            LISTPACK_MAX_SIZE
        } else {
            max_bytes
        };
        let need_new = match self.nodes.last_key_value() {
            None => true,
            Some((_, n)) => {
                n.bytes + totelelen >= max_bytes
                    || (max_entries != 0 && n.items.len() >= max_entries)
            }
        };
        // An estimate of the listpack bytes: per string its bytes and two bytes of header and
        // back length, plus about six bytes of flags, ID deltas and counts per entry.
        let entry_bytes = totelelen + fields.len() * 2 + 6;
        if need_new {
            self.nodes.insert(
                id,
                Node {
                    items: Vec::with_capacity(4),
                    live: 0,
                    bytes: 12 + entry_bytes,
                },
            );
        }
        let Some(mut last) = self.nodes.last_entry() else {
            unreachable!("a node was just found or made");
        };
        let node = last.get_mut();
        node.items.push(Item {
            id,
            deleted: false,
            fields: pack(fields),
        });
        node.live += 1;
        node.bytes += entry_bytes;
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(())
    }

    fn locate(&self, id: StreamId) -> Option<(&Node, usize)> {
        let (_, node) = self.nodes.range(..=id).next_back()?;
        let i = node.items.binary_search_by(|it| it.id.cmp(&id)).ok()?;
        Some((node, i))
    }

    /// The fields of entry `id`, if it exists.
    pub fn get(&self, id: StreamId) -> Option<Fields<'_>> {
        let (node, i) = self.locate(id)?;
        let it = &node.items[i];
        (!it.deleted).then(|| Fields::new(&it.fields))
    }

    /// Whether entry `id` exists.
    pub fn contains(&self, id: StreamId) -> bool {
        self.get(id).is_some()
    }

    /// The live entries with IDs in `start..=end`, in ID order (reversed if `rev`).
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
    ) -> Box<dyn Iterator<Item = (StreamId, Fields<'_>)> + '_> {
        if start > end {
            return Box::new(std::iter::empty());
        }
        let first = self
            .nodes
            .range(..=start)
            .next_back()
            .map_or(start, |(k, _)| *k);
        let nodes = self.nodes.range(first..=end);
        let keep = move |it: &&Item| !it.deleted && it.id >= start && it.id <= end;
        if rev {
            Box::new(
                nodes
                    .rev()
                    .flat_map(|(_, n)| n.items.iter().rev())
                    .skip_while(move |it| it.id > end)
                    .take_while(move |it| it.id >= start)
                    .filter(keep)
                    .map(|it| (it.id, Fields::new(&it.fields))),
            )
        } else {
            Box::new(
                nodes
                    .flat_map(|(_, n)| n.items.iter())
                    .skip_while(move |it| it.id < start)
                    .take_while(move |it| it.id <= end)
                    .filter(keep)
                    .map(|it| (it.id, Fields::new(&it.fields))),
            )
        }
    }

    /// The last live entry's ID (0-0 when empty).
    pub fn last_valid_id(&self) -> StreamId {
        self.range(StreamId::MIN, StreamId::MAX, true)
            .next()
            .map_or(StreamId::MIN, |(id, _)| id)
    }

    fn first_valid_id(&self) -> StreamId {
        self.range(StreamId::MIN, StreamId::MAX, false)
            .next()
            .map_or(StreamId::MIN, |(id, _)| id)
    }

    /// XDEL of one ID: marks it deleted (freeing its node once all its entries are); true if
    /// it existed. Keeps `max_deleted` and `first_id` up to date.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&key, node)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        let Ok(i) = node.items.binary_search_by(|it| it.id.cmp(&id)) else {
            return false;
        };
        if node.items[i].deleted {
            return false;
        }
        node.items[i].deleted = true;
        node.live -= 1;
        if node.live == 0 {
            self.nodes.remove(&key);
        }
        self.length -= 1;
        if id > self.max_deleted {
            self.max_deleted = id;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if id == self.first_id {
            self.first_id = self.first_valid_id();
        }
        true
    }

    /// XTRIM / XADD's trimming, as Redis 7.0's `streamTrim`: whole nodes from the head while
    /// they can go; then, unless `approx`, single entries of the next node. `limit` (0: none)
    /// caps the entries removed (whole nodes only). Returns how many entries were removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        loop {
            if let Trim::MaxLen(max) = how {
                if self.length <= max {
                    break;
                }
            }
            let Some((&key, node)) = self.nodes.first_key_value() else {
                break;
            };
            let entries = node.live as u64;
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let remove_node = match how {
                Trim::MaxLen(max) => self.length - entries >= max,
                Trim::MinId(min) => node.items.last().is_some_and(|it| it.id < min),
            };
            if remove_node {
                self.nodes.remove(&key);
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let Some(node) = self.nodes.get_mut(&key) else {
                break;
            };
            for it in node.items.iter_mut() {
                let stop = match how {
                    Trim::MaxLen(max) => self.length <= max,
                    Trim::MinId(min) => it.id >= min,
                };
                if stop {
                    break;
                }
                if !it.deleted {
                    it.deleted = true;
                    node.live -= 1;
                    self.length -= 1;
                    deleted += 1;
                }
            }
            if node.live == 0 {
                self.nodes.remove(&key);
            }
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.first_valid_id();
        }
        deleted
    }

    /// The first entry's ID including deleted ones still in their node (Redis's
    /// `streamGetEdgeID(s, 1, 0)`, which approximate trimming rewrites MINID to).
    pub fn first_id_with_tombstones(&self) -> StreamId {
        self.nodes
            .first_key_value()
            .and_then(|(_, n)| n.items.first())
            .map_or(StreamId::MIN, |it| it.id)
    }

    /// Whether deleted entries may lie in `start..=end` (Redis's `streamRangeHasTombstones`).
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.length == 0 || self.max_deleted.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted {
            return false;
        }
        start <= self.max_deleted && self.max_deleted <= end
    }

    /// How many entries were added up to and including `id`, if that can be known (Redis's
    /// `streamEstimateDistanceFromFirstEverEntry`); [`INVALID_ENTRIES_READ`] otherwise.
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        if id == self.last_id {
            return self.entries_added as i64;
        } else if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        if self.max_deleted.is_zero() || self.max_deleted < self.first_id {
            if id < self.first_id {
                return (self.entries_added - self.length) as i64;
            } else if id == self.first_id {
                return (self.entries_added - self.length + 1) as i64;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag (XINFO), or `None` when it cannot be known.
    pub fn lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != INVALID_ENTRIES_READ
            && !self.range_has_tombstones(g.last_id, StreamId::MAX)
        {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let read = self.estimate_distance(g.last_id);
        (read != INVALID_ENTRIES_READ).then(|| self.entries_added as i64 - read)
    }

    /// Advances `group`'s last delivered ID to `id` (an entry just delivered past it),
    /// counting it in its entries_read as Redis does.
    pub fn advance_group(&mut self, group: &[u8], id: StreamId) {
        let has_tomb = self.range_has_tombstones(id, StreamId::MAX);
        let dist = self.estimate_distance(id);
        let added = self.entries_added;
        let Some(g) = self.groups.get_mut(group) else {
            return;
        };
        if id > g.last_id {
            if g.entries_read != INVALID_ENTRIES_READ && !has_tomb {
                g.entries_read += 1;
            } else if added != 0 {
                g.entries_read = dist;
            }
            g.last_id = id;
        }
    }

    /// An estimate of the bytes this stream uses beyond its key (for the memory figure).
    pub fn mem_estimate(&self) -> usize {
        let pel: usize = self.groups.values().map(|g| 64 + g.pel.len() * 80).sum();
        64 + self.length as usize * 56 + pel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    fn ids(s: &StreamValue) -> Vec<StreamId> {
        s.range(StreamId::MIN, StreamId::MAX, false)
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn add_range_delete() {
        let mut s = StreamValue::new();
        for i in 1..=25 {
            s.add(id(i, 0), &[b"f".as_slice(), b"v".as_slice()], 10, 4096)
                .unwrap();
        }
        assert_eq!(s.node_count(), 3);
        assert_eq!(s.len(), 25);
        assert_eq!(
            s.add(id(3, 0), &[b"f", b"v"], 10, 4096),
            Err(AddError::NotGreater)
        );
        let r: Vec<_> = s
            .range(id(5, 0), id(12, 0), true)
            .map(|(i, _)| i.ms)
            .collect();
        assert_eq!(r, (5..=12).rev().collect::<Vec<_>>());
        let f: Vec<_> = s.get(id(4, 0)).unwrap().collect();
        assert_eq!(f, vec![b"f".as_slice(), b"v".as_slice()]);
        assert!(s.delete(id(1, 0)));
        assert!(!s.delete(id(1, 0)));
        assert_eq!(s.first_id, id(2, 0));
        assert_eq!(s.max_deleted, id(1, 0));
        for i in 2..=10 {
            s.delete(id(i, 0));
        }
        assert_eq!(s.node_count(), 2);
        assert_eq!(ids(&s).len(), 15);
    }

    #[test]
    fn trims_like_redis() {
        let mut s = StreamValue::new();
        for i in 1..=25 {
            s.add(id(i, 0), &[b"f", b"v"], 10, 0).unwrap();
        }
        let mut a = s.clone();
        assert_eq!(a.trim(Trim::MaxLen(12), true, 0), 10);
        assert_eq!(a.len(), 15);
        assert_eq!(s.trim(Trim::MaxLen(12), false, 0), 13);
        assert_eq!(ids(&s).first(), Some(&id(14, 0)));
        assert_eq!(s.first_id, id(14, 0));
        assert_eq!(s.trim(Trim::MinId(id(20, 0)), false, 0), 6);
        assert_eq!(s.len(), 6);
    }
}
