//! Streams: entries ordered by ID, consumer groups, their pending entries lists and consumers.
//!
//! **Representation.** Entries live in *nodes* of up to `stream-node-max-entries` entries (and
//! about `stream-node-max-bytes` bytes), kept in a `BTreeMap` keyed by the ID of each node's
//! first entry, as Redis keeps listpacks in a radix tree. A node is one packed byte buffer, like
//! Redis's listpack: the field names of its first entry are kept once (the *master* fields),
//! and each entry is a flags byte (deleted, same fields as the master), its ID as varint deltas
//! from the node's first ID, then its values alone (when its field names are the master's) or
//! its field/value pairs, each string preceded by its varint length; a `u32` offset per entry
//! gives binary search by ID. An entry costs its strings, one or two bytes per string, about
//! three bytes of flags and ID, and four of offset (about 30 bytes for a typical 3-field job
//! event, against 32 in Redis 7.0). Nodes are what approximate trimming (`MAXLEN ~`,
//! `MINID ~`) removes whole, and deletion only marks an entry until its node is empty, so `~`
//! trims exactly the entries Redis 7.0 trims.
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

const FLAG_DELETED: u8 = 1;
const FLAG_SAME_FIELDS: u8 = 2;

#[derive(Debug, Clone, PartialEq)]
struct Node {
    /// The first entry's field names, packed (a varint count, then each name).
    master: Box<[u8]>,
    /// The entries, packed one after the other.
    data: Vec<u8>,
    /// Where each entry starts in `data`.
    offsets: Vec<u32>,
    /// Entries not marked deleted.
    live: usize,
    /// Entries marked deleted.
    deleted: usize,
    /// The size Redis's listpack for this node would have, without its two counters (live and
    /// deleted entries), whose size depends on their values: `stream-node-max-bytes` is
    /// checked against it, so nodes end where Redis's do.
    lp_rest: usize,
}

/// Bytes of a listpack integer element (encoding, value and back length).
fn lp_int(v: i64) -> usize {
    1 + match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8_388_608..=8_388_607 => 4,
        -2_147_483_648..=2_147_483_647 => 5,
        _ => 9,
    }
}

/// The integer a listpack stores a string as, if it is one (canonical decimal of an `i64`).
fn lp_string_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let digits = if s[0] == b'-' { &s[1..] } else { s };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits[0] == b'0' && (digits.len() > 1 || s[0] == b'-') {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Bytes of a listpack element holding `s`.
fn lp_str(s: &[u8]) -> usize {
    if let Some(v) = lp_string_int(s) {
        return lp_int(v);
    }
    let n = s.len();
    let enc = n + if n < 64 {
        1
    } else if n < 4096 {
        2
    } else {
        5
    };
    enc + match enc {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// One entry of a node, decoded up to its fields.
struct Slot<'a> {
    id: StreamId,
    flags: u8,
    fields: Fields<'a>,
}

impl Node {
    fn slot(&self, key: StreamId, i: usize) -> Slot<'_> {
        let mut pos = self.offsets[i] as usize;
        let flags = self.data[pos];
        pos += 1;
        let ms_delta = get_varint(&self.data, &mut pos) as u64;
        let seq = get_varint(&self.data, &mut pos) as u64;
        let id = if ms_delta == 0 {
            StreamId::new(key.ms, key.seq.wrapping_add(seq))
        } else {
            StreamId::new(key.ms.wrapping_add(ms_delta), seq)
        };
        let fields = if flags & FLAG_SAME_FIELDS != 0 {
            let mut mpos = 0;
            let n = get_varint(&self.master, &mut mpos);
            Fields {
                master: &self.master,
                mpos,
                data: &self.data,
                pos,
                left: n * 2,
                same: true,
            }
        } else {
            let n = get_varint(&self.data, &mut pos);
            Fields {
                master: &[],
                mpos: 0,
                data: &self.data,
                pos,
                left: n * 2,
                same: false,
            }
        };
        Slot { id, flags, fields }
    }

    fn id_at(&self, key: StreamId, i: usize) -> StreamId {
        self.slot(key, i).id
    }

    fn find(&self, key: StreamId, id: StreamId) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.offsets.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.id_at(key, mid).cmp(&id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The index of the first entry whose ID is at least `id`.
    fn lower_bound(&self, key: StreamId, id: StreamId) -> usize {
        let (mut lo, mut hi) = (0, self.offsets.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.id_at(key, mid) < id {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The index after the last entry whose ID is at most `id`.
    fn upper_bound(&self, key: StreamId, id: StreamId) -> usize {
        let (mut lo, mut hi) = (0, self.offsets.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.id_at(key, mid) <= id {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    fn set_deleted(&mut self, i: usize) {
        self.data[self.offsets[i] as usize] |= FLAG_DELETED;
    }

    fn is_deleted(&self, i: usize) -> bool {
        self.data[self.offsets[i] as usize] & FLAG_DELETED != 0
    }

    /// The bytes Redis's listpack for this node would have.
    fn bytes(&self) -> usize {
        self.lp_rest + lp_int(self.live as i64) + lp_int(self.deleted as i64)
    }

    fn mark_deleted(&mut self, i: usize) {
        self.set_deleted(i);
        self.live -= 1;
        self.deleted += 1;
    }
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

fn put_str(buf: &mut Vec<u8>, s: &[u8]) {
    put_varint(buf, s.len());
    buf.extend_from_slice(s);
}

/// Packs the field names of `fields` (field, value, ...).
fn pack_names<S: AsRef<[u8]>>(fields: &[S]) -> Box<[u8]> {
    let mut buf = Vec::new();
    put_varint(&mut buf, fields.len() / 2);
    for f in fields.iter().step_by(2) {
        put_str(&mut buf, f.as_ref());
    }
    buf.into_boxed_slice()
}

/// Whether `fields`' names are those packed in `master`.
fn same_names<S: AsRef<[u8]>>(master: &[u8], fields: &[S]) -> bool {
    let mut pos = 0;
    if get_varint(master, &mut pos) != fields.len() / 2 {
        return false;
    }
    for f in fields.iter().step_by(2) {
        let n = get_varint(master, &mut pos);
        let end = (pos + n).min(master.len());
        if &master[pos..end] != f.as_ref() {
            return false;
        }
        pos = end;
    }
    true
}

/// The fields and values of one entry, in order (field, value, field, value, ...).
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    master: &'a [u8],
    mpos: usize,
    data: &'a [u8],
    pos: usize,
    left: usize,
    /// Field names come from the node's master fields, values from the entry.
    same: bool,
}

fn take_str<'a>(buf: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let n = get_varint(buf, pos);
    let start = (*pos).min(buf.len());
    let end = (start + n).min(buf.len());
    *pos = end;
    &buf[start..end]
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        let is_name = self.left.is_multiple_of(2);
        self.left -= 1;
        if self.same && is_name {
            Some(take_str(self.master, &mut self.mpos))
        } else {
            Some(take_str(self.data, &mut self.pos))
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Fields<'_> {}

/// The live entries of a stream in an ID interval ([`StreamValue::range`]). Within a node it
/// finds where the interval starts (or, reversed, ends) by binary search on the entry offsets,
/// so reading one entry in the middle of a node decodes a handful of IDs, not the node.
pub struct Range<'a> {
    nodes: std::collections::btree_map::Range<'a, StreamId, Node>,
    /// The node being read; `None` before the first and after the last.
    node: Option<&'a Node>,
    key: StreamId,
    /// The entries of `node` still to read: `lo..hi`.
    lo: usize,
    hi: usize,
    start: StreamId,
    end: StreamId,
    rev: bool,
}

impl<'a> Range<'a> {
    /// Stops the iteration (an ID past the interval was met).
    fn finish(&mut self) {
        self.node = None;
        self.lo = 0;
        self.hi = 0;
        self.nodes = Default::default();
    }
}

impl<'a> Iterator for Range<'a> {
    type Item = (StreamId, Fields<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let node = match self.node {
                Some(n) if self.lo < self.hi => n,
                _ => {
                    let (&key, n) = if self.rev {
                        self.nodes.next_back()?
                    } else {
                        self.nodes.next()?
                    };
                    self.node = Some(n);
                    self.key = key;
                    if self.rev {
                        self.lo = 0;
                        self.hi = n.upper_bound(key, self.end);
                    } else {
                        self.lo = if key < self.start {
                            n.lower_bound(key, self.start)
                        } else {
                            0
                        };
                        self.hi = n.offsets.len();
                    }
                    continue;
                }
            };
            let i = if self.rev {
                self.hi -= 1;
                self.hi
            } else {
                self.lo += 1;
                self.lo - 1
            };
            let s = node.slot(self.key, i);
            if (self.rev && s.id < self.start) || (!self.rev && s.id > self.end) {
                self.finish();
                return None;
            }
            if s.flags & FLAG_DELETED == 0 {
                return Some((s.id, s.fields));
            }
        }
    }
}

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

/// A node of a stream as Redis's listpack lays it out ([`StreamValue::raw_nodes`]).
#[derive(Debug, Clone)]
pub struct RawNode<'a> {
    /// The node's first ID (its key in Redis's radix tree).
    pub master_id: StreamId,
    /// The master entry's field names.
    pub master_fields: Vec<&'a [u8]>,
    /// Entries not deleted.
    pub live: usize,
    /// Entries marked deleted.
    pub deleted: usize,
    /// Every entry, deleted ones included.
    pub entries: Vec<RawEntry<'a>>,
}

/// One entry of a [`RawNode`].
#[derive(Debug, Clone)]
pub struct RawEntry<'a> {
    /// Its ID.
    pub id: StreamId,
    /// Marked deleted.
    pub deleted: bool,
    /// Its field names are the master entry's (only its values are stored).
    pub same_fields: bool,
    /// Field, value, field, value, ...
    pub fields: Vec<&'a [u8]>,
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
                n.bytes() + totelelen >= max_bytes
                    || (max_entries != 0 && n.offsets.len() >= max_entries)
            }
        };
        if need_new {
            // The node before is complete: give back its spare capacity, as Redis shrinks
            // a listpack when it starts the next one.
            if let Some(mut prev) = self.nodes.last_entry() {
                let prev = prev.get_mut();
                prev.data.shrink_to_fit();
                prev.offsets.shrink_to_fit();
            }
            // Header and end, then the master entry: the field count, the names and a zero
            // (its two counters are counted apart).
            let names: usize = fields.iter().step_by(2).map(|f| lp_str(f.as_ref())).sum();
            self.nodes.insert(
                id,
                Node {
                    master: pack_names(fields),
                    data: Vec::with_capacity(totelelen + fields.len() + 8),
                    offsets: Vec::with_capacity(4),
                    live: 0,
                    deleted: 0,
                    lp_rest: 7 + lp_int((fields.len() / 2) as i64) + names + lp_int(0),
                },
            );
        }
        let Some(mut last) = self.nodes.last_entry() else {
            unreachable!("a node was just found or made");
        };
        let key = *last.key();
        let node = last.get_mut();
        let same = same_names(&node.master, fields);
        node.offsets.push(node.data.len() as u32);
        node.data.push(if same { FLAG_SAME_FIELDS } else { 0 });
        if id.ms == key.ms {
            put_varint(&mut node.data, 0);
            put_varint(&mut node.data, (id.seq - key.seq) as usize);
        } else {
            put_varint(&mut node.data, (id.ms - key.ms) as usize);
            put_varint(&mut node.data, id.seq as usize);
        }
        let pairs = fields.len() / 2;
        // Redis's entry: flags, ID deltas, [field count, names], values, element count.
        let mut lp = lp_int(if same { FLAG_SAME_FIELDS as i64 } else { 0 })
            + lp_int(id.ms.wrapping_sub(key.ms) as i64)
            + lp_int(id.seq.wrapping_sub(key.seq) as i64);
        if same {
            for v in fields.iter().skip(1).step_by(2) {
                put_str(&mut node.data, v.as_ref());
                lp += lp_str(v.as_ref());
            }
            lp += lp_int(pairs as i64 + 3);
        } else {
            put_varint(&mut node.data, pairs);
            for f in fields {
                put_str(&mut node.data, f.as_ref());
                lp += lp_str(f.as_ref());
            }
            lp += lp_int(pairs as i64) + lp_int(2 * pairs as i64 + 4);
        }
        node.lp_rest += lp;
        node.live += 1;
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(())
    }

    fn locate(&self, id: StreamId) -> Option<(StreamId, &Node, usize)> {
        let (&key, node) = self.nodes.range(..=id).next_back()?;
        let i = node.find(key, id)?;
        Some((key, node, i))
    }

    /// Every node as Redis's listpack lays it out (the RDB form): its master ID, the master
    /// entry's field names, its live and deleted counts, and each entry (deleted ones
    /// included) with its flags and fields.
    pub fn raw_nodes(&self) -> Vec<RawNode<'_>> {
        self.nodes
            .iter()
            .map(|(&key, node)| {
                let mut mpos = 0;
                let n = get_varint(&node.master, &mut mpos);
                let master_fields = (0..n).map(|_| take_str(&node.master, &mut mpos)).collect();
                let entries = (0..node.offsets.len())
                    .map(|i| {
                        let slot = node.slot(key, i);
                        RawEntry {
                            id: slot.id,
                            deleted: slot.flags & FLAG_DELETED != 0,
                            same_fields: slot.flags & FLAG_SAME_FIELDS != 0,
                            fields: slot.fields.collect(),
                        }
                    })
                    .collect();
                RawNode {
                    master_id: key,
                    master_fields,
                    live: node.live,
                    deleted: node.deleted,
                    entries,
                }
            })
            .collect()
    }

    /// Appends a node read from an RDB file: `master_fields` are its master entry's names,
    /// `entries` its entries in order (`(id, deleted, fields)`, fields as field, value, ...).
    /// The caller sets the stream's counters and IDs afterwards ([`StreamValue::set_meta`]).
    /// False if the node is empty, out of order, or an entry's ID is below its master's.
    pub fn push_raw_node(
        &mut self,
        master_id: StreamId,
        master_fields: &[Vec<u8>],
        entries: &[(StreamId, bool, Vec<Vec<u8>>)],
    ) -> bool {
        if entries.is_empty() {
            return false;
        }
        if let Some((&lk, last)) = self.nodes.last_key_value() {
            if last.offsets.is_empty() || master_id <= last.id_at(lk, last.offsets.len() - 1) {
                return false;
            }
        }
        let mut names = Vec::new();
        put_varint(&mut names, master_fields.len());
        for f in master_fields {
            put_str(&mut names, f);
        }
        let name_bytes: usize = master_fields.iter().map(|f| lp_str(f)).sum();
        let mut node = Node {
            master: names.into_boxed_slice(),
            data: Vec::new(),
            offsets: Vec::with_capacity(entries.len()),
            live: 0,
            deleted: 0,
            lp_rest: 7 + lp_int(master_fields.len() as i64) + name_bytes + lp_int(0),
        };
        let mut prev = None;
        for (id, deleted, fields) in entries {
            if *id < master_id || prev.is_some_and(|p| p >= *id) || fields.len() % 2 != 0 {
                return false;
            }
            prev = Some(*id);
            let same = same_names(&node.master, fields);
            node.offsets.push(node.data.len() as u32);
            let mut flags = if same { FLAG_SAME_FIELDS } else { 0 };
            if *deleted {
                flags |= FLAG_DELETED;
            }
            node.data.push(flags);
            if id.ms == master_id.ms {
                put_varint(&mut node.data, 0);
                put_varint(&mut node.data, (id.seq - master_id.seq) as usize);
            } else {
                put_varint(&mut node.data, (id.ms - master_id.ms) as usize);
                put_varint(&mut node.data, id.seq as usize);
            }
            let pairs = fields.len() / 2;
            let mut lp = lp_int(flags as i64)
                + lp_int(id.ms.wrapping_sub(master_id.ms) as i64)
                + lp_int(id.seq.wrapping_sub(master_id.seq) as i64);
            if same {
                for v in fields.iter().skip(1).step_by(2) {
                    put_str(&mut node.data, v);
                    lp += lp_str(v);
                }
                lp += lp_int(pairs as i64 + 3);
            } else {
                put_varint(&mut node.data, pairs);
                for f in fields {
                    put_str(&mut node.data, f);
                    lp += lp_str(f);
                }
                lp += lp_int(pairs as i64) + lp_int(2 * pairs as i64 + 4);
            }
            node.lp_rest += lp;
            if *deleted {
                node.deleted += 1;
            } else {
                node.live += 1;
            }
        }
        if node.live == 0 {
            return false;
        }
        self.nodes.insert(master_id, node);
        true
    }

    /// Sets what an RDB file says of the stream beside its nodes; false if the length is not
    /// the number of live entries.
    pub fn set_meta(
        &mut self,
        length: u64,
        last_id: StreamId,
        first_id: StreamId,
        max_deleted: StreamId,
        entries_added: u64,
    ) -> bool {
        let live: u64 = self.nodes.values().map(|n| n.live as u64).sum();
        if live != length {
            return false;
        }
        self.length = length;
        self.last_id = last_id;
        self.first_id = first_id;
        self.max_deleted = max_deleted;
        self.entries_added = entries_added;
        true
    }

    /// The fields of entry `id`, if it exists.
    pub fn get(&self, id: StreamId) -> Option<Fields<'_>> {
        let (key, node, i) = self.locate(id)?;
        let slot = node.slot(key, i);
        (slot.flags & FLAG_DELETED == 0).then_some(slot.fields)
    }

    /// Whether entry `id` exists.
    pub fn contains(&self, id: StreamId) -> bool {
        self.get(id).is_some()
    }

    /// The live entries with IDs in `start..=end`, in ID order (reversed if `rev`).
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool) -> Range<'_> {
        let mut r = Range {
            nodes: self.nodes.range(StreamId::MIN..StreamId::MIN),
            node: None,
            key: StreamId::MIN,
            lo: 0,
            hi: 0,
            start,
            end,
            rev,
        };
        if start > end {
            return r;
        }
        let first = self
            .nodes
            .range(..=start)
            .next_back()
            .map_or(start, |(k, _)| *k);
        r.nodes = self.nodes.range(first..=end);
        r
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
        let Some(i) = node.find(key, id) else {
            return false;
        };
        if node.is_deleted(i) {
            return false;
        }
        node.mark_deleted(i);
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
                Trim::MinId(min) => node.id_at(key, node.offsets.len() - 1) < min,
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
            for i in 0..node.offsets.len() {
                let stop = match how {
                    Trim::MaxLen(max) => self.length <= max,
                    Trim::MinId(min) => node.id_at(key, i) >= min,
                };
                if stop {
                    break;
                }
                if !node.is_deleted(i) {
                    node.mark_deleted(i);
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
            .map_or(StreamId::MIN, |(k, _)| *k)
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
        64 + self.length as usize * 32 + pel
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
    fn ranges_match_a_filter_of_every_entry() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let mut s = StreamValue::new();
        let mut all = Vec::new();
        let mut ms = 1;
        for _ in 0..400 {
            ms += rng.gen_range(0..3u64);
            let next = s.next_auto_id(ms).unwrap();
            s.add(next, &[b"f".as_slice(), b"v".as_slice()], 7, 0)
                .unwrap();
            all.push(next);
        }
        for _ in 0..150 {
            let victim = all[rng.gen_range(0..all.len())];
            s.delete(victim);
        }
        let live: Vec<StreamId> = all.iter().copied().filter(|&i| s.contains(i)).collect();
        let near = |rng: &mut rand::rngs::SmallRng| {
            let base = all[rng.gen_range(0..all.len())];
            match rng.gen_range(0..4) {
                0 => base,
                1 => base.incr().unwrap(),
                2 => base.decr().unwrap_or(base),
                _ => StreamId::new(base.ms, u64::MAX),
            }
        };
        for _ in 0..2000 {
            let (a, b) = (near(&mut rng), near(&mut rng));
            for rev in [false, true] {
                let got: Vec<StreamId> = s.range(a, b, rev).map(|(i, _)| i).collect();
                let mut want: Vec<StreamId> =
                    live.iter().copied().filter(|&i| i >= a && i <= b).collect();
                if rev {
                    want.reverse();
                }
                assert_eq!(got, want, "{a:?}..={b:?} rev={rev}");
            }
        }
        assert_eq!(s.last_valid_id(), *live.last().unwrap());
    }

    #[test]
    fn entries_keep_their_own_fields_beside_the_master_ones() {
        let mut s = StreamValue::new();
        s.add(id(5, 7), &[b"a".as_slice(), b"1", b"b", b"2"], 100, 0)
            .unwrap();
        s.add(id(5, 9), &[b"a".as_slice(), b"3", b"b", b""], 100, 0)
            .unwrap();
        s.add(id(6, 0), &[b"x".as_slice(), b"4"], 100, 0).unwrap();
        s.add(
            id(u64::MAX, 3),
            &[b"a".as_slice(), b"5", b"c", b"6"],
            100,
            0,
        )
        .unwrap();
        let all: Vec<(StreamId, Vec<&[u8]>)> = s
            .range(StreamId::MIN, StreamId::MAX, false)
            .map(|(i, f)| (i, f.collect()))
            .collect();
        assert_eq!(
            all,
            vec![
                (id(5, 7), vec![b"a".as_slice(), b"1", b"b", b"2"]),
                (id(5, 9), vec![b"a".as_slice(), b"3", b"b", b""]),
                (id(6, 0), vec![b"x".as_slice(), b"4"]),
                (id(u64::MAX, 3), vec![b"a".as_slice(), b"5", b"c", b"6"]),
            ]
        );
        assert!(s.get(id(5, 8)).is_none());
        assert_eq!(s.get(id(6, 0)).unwrap().len(), 2);
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
