//! Sorted-set values: members ordered by (score, member), with O(log n) ranks.
//!
//! Small sorted sets are a sorted vector (`listpack`, as Redis names its compact encoding);
//! bigger ones are a skiplist with spans, as Redis has, whose nodes live in an arena and are
//! addressed by `u32` ids, together with a hash table of node ids keyed by member, so that the
//! member bytes are stored once. Every operation is expressed in ranks so the commands do not
//! care which encoding a value has.
//!
//! Scores are never NaN here: the commands reject NaN before it reaches the value.

use std::cmp::Ordering;
use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use crate::value::Value;
use crate::{Db, OpError};

/// The encoding limits of sorted sets (`zset-max-listpack-entries` / `-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZSetLimits {
    /// Most members the compact encoding may hold.
    pub max_entries: usize,
    /// Longest member the compact encoding may hold.
    pub max_value: usize,
}

impl Default for ZSetLimits {
    fn default() -> Self {
        ZSetLimits {
            max_entries: 128,
            max_value: 64,
        }
    }
}

/// A sorted-set value. Never empty while stored.
#[derive(Debug, Clone)]
pub enum ZSetValue {
    /// Few, short members: `(score, member)` pairs kept sorted.
    Pack(Vec<(f64, Box<[u8]>)>),
    /// Many or long members: a skiplist plus a member index.
    List(Box<SkipZSet>),
}

impl PartialEq for ZSetValue {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter_from(0, false).eq(other.iter_from(0, false))
    }
}

/// Orders `(score, member)` pairs as Redis does: by score, then by member bytes.
pub fn cmp_entry(sa: f64, ma: &[u8], sb: f64, mb: &[u8]) -> Ordering {
    match sa.partial_cmp(&sb) {
        Some(Ordering::Equal) | None => ma.cmp(mb),
        Some(o) => o,
    }
}

impl Default for ZSetValue {
    fn default() -> Self {
        ZSetValue::Pack(Vec::new())
    }
}

impl ZSetValue {
    /// An empty sorted set in the compact encoding.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty sorted set with the encoding Redis would pick for `n` members whose longest is
    /// `max_len` bytes (as ZADD does with its arguments).
    pub fn with_hint(n: usize, max_len: usize, limits: ZSetLimits) -> Self {
        if n > limits.max_entries || max_len > limits.max_value || limits.max_entries == 0 {
            ZSetValue::List(Box::default())
        } else {
            ZSetValue::Pack(Vec::new())
        }
    }

    /// Builds a set from pairs with distinct members, choosing the encoding from its final size,
    /// as the STORE commands do.
    pub fn from_pairs(pairs: Vec<(Box<[u8]>, f64)>, limits: ZSetLimits) -> Self {
        let max_len = pairs.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        let mut z = Self::with_hint(pairs.len(), max_len, limits);
        match &mut z {
            ZSetValue::Pack(v) => {
                let mut v2: Vec<(f64, Box<[u8]>)> =
                    pairs.into_iter().map(|(m, s)| (s, m)).collect();
                v2.sort_by(|a, b| cmp_entry(a.0, &a.1, b.0, &b.1));
                *v = v2;
            }
            ZSetValue::List(l) => {
                for (m, s) in pairs {
                    l.insert(m, s);
                }
            }
        }
        z
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        match self {
            ZSetValue::Pack(v) => v.len(),
            ZSetValue::List(l) => l.len(),
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `listpack` or `skiplist`, as `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            ZSetValue::Pack(_) => "listpack",
            ZSetValue::List(_) => "skiplist",
        }
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSetValue::Pack(v) => v.iter().find(|(_, m)| &m[..] == member).map(|(s, _)| *s),
            ZSetValue::List(l) => l.score(member),
        }
    }

    /// The 0-based rank of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match self {
            ZSetValue::Pack(v) => v.iter().position(|(_, m)| &m[..] == member),
            ZSetValue::List(l) => l.rank(member),
        }
    }

    /// Sets the score of `member`, adding it if missing; returns its previous score. Converts
    /// to the skiplist encoding when the set outgrows `limits`.
    pub fn insert(&mut self, member: &[u8], score: f64, limits: ZSetLimits) -> Option<f64> {
        if let ZSetValue::Pack(v) = self {
            // Redis's listpack keeps scores as text, where -0 reads back as 0.
            let score = if score == 0.0 { 0.0 } else { score };
            if let Some(i) = v.iter().position(|(_, m)| &m[..] == member) {
                let old = v[i].0;
                if old != score {
                    let (_, m) = v.remove(i);
                    let at = v.partition_point(|(s, mm)| cmp_entry(*s, mm, score, &m).is_lt());
                    v.insert(at, (score, m));
                }
                return Some(old);
            }
            if v.len() < limits.max_entries && member.len() <= limits.max_value {
                let at = v.partition_point(|(s, m)| cmp_entry(*s, m, score, member).is_lt());
                v.insert(at, (score, member.into()));
                return None;
            }
            self.convert_to_list();
        }
        match self {
            ZSetValue::List(l) => l.set_score(member, score),
            ZSetValue::Pack(_) => None,
        }
    }

    fn convert_to_list(&mut self) {
        if let ZSetValue::Pack(v) = self {
            let mut l = SkipZSet::default();
            for (s, m) in std::mem::take(v) {
                l.insert(m, s);
            }
            *self = ZSetValue::List(Box::new(l));
        }
    }

    /// Removes `member`; returns its score if it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            ZSetValue::Pack(v) => {
                let i = v.iter().position(|(_, m)| &m[..] == member)?;
                Some(v.remove(i).0)
            }
            ZSetValue::List(l) => l.remove(member),
        }
    }

    /// The member and score at 0-based ascending rank `rank`.
    pub fn at(&self, rank: usize) -> Option<(&[u8], f64)> {
        match self {
            ZSetValue::Pack(v) => v.get(rank).map(|(s, m)| (&m[..], *s)),
            ZSetValue::List(l) => l.list.by_rank(rank + 1).map(|id| {
                let n = l.list.node(id);
                (&n.member[..], n.score)
            }),
        }
    }

    /// Members from ascending rank `rank` on, towards the end (`rev` false) or the start.
    pub fn iter_from(&self, rank: usize, rev: bool) -> ZIter<'_> {
        match self {
            ZSetValue::Pack(v) => ZIter::Pack {
                v,
                next: if rank < v.len() { Some(rank) } else { None },
                rev,
            },
            ZSetValue::List(l) => ZIter::List {
                list: &l.list,
                next: l.list.by_rank(rank + 1).unwrap_or(NIL),
                rev,
            },
        }
    }

    /// How many leading members (in ascending order) have a score for which `before` holds.
    /// `before` must hold for a prefix of the order (a score lower bound test).
    pub fn score_prefix(&self, before: impl Fn(f64) -> bool) -> usize {
        match self {
            ZSetValue::Pack(v) => v.partition_point(|(s, _)| before(*s)),
            ZSetValue::List(l) => l.list.prefix(|n| before(n.score)),
        }
    }

    /// The members in ascending order from the first one whose score fails `before` (which
    /// must hold on a prefix of the order): `iter_from(score_prefix(before), false)` with one
    /// walk down the skiplist instead of two (a geo search starts one per box it reads).
    pub fn iter_from_score(&self, before: impl Fn(f64) -> bool) -> ZIter<'_> {
        match self {
            ZSetValue::Pack(v) => {
                let rank = v.partition_point(|(s, _)| before(*s));
                ZIter::Pack {
                    v,
                    next: if rank < v.len() { Some(rank) } else { None },
                    rev: false,
                }
            }
            ZSetValue::List(l) => {
                let last = l.list.prefix_node(|n| before(n.score));
                ZIter::List {
                    list: &l.list,
                    next: l.list.lv(last, 0).forward,
                    rev: false,
                }
            }
        }
    }

    /// How many leading members (in ascending order) satisfy `before` on their bytes; the lex
    /// counterpart of [`ZSetValue::score_prefix`].
    pub fn lex_prefix(&self, before: impl Fn(&[u8]) -> bool) -> usize {
        match self {
            ZSetValue::Pack(v) => v.partition_point(|(_, m)| before(m)),
            ZSetValue::List(l) => l.list.prefix(|n| before(&n.member)),
        }
    }

    /// Removes the members of ascending ranks `start..=end` (already clamped); returns how many.
    pub fn remove_rank_range(&mut self, start: usize, end: usize) -> usize {
        if start > end || start >= self.len() {
            return 0;
        }
        let end = end.min(self.len() - 1);
        match self {
            ZSetValue::Pack(v) => {
                v.drain(start..=end);
            }
            ZSetValue::List(l) => {
                let members: Vec<Box<[u8]>> = ZSetValue::iter_list(&l.list, start)
                    .take(end - start + 1)
                    .map(|(m, _)| m.into())
                    .collect();
                for m in members {
                    l.remove(&m);
                }
            }
        }
        end - start + 1
    }

    fn iter_list(list: &SkipList, rank: usize) -> ZIter<'_> {
        ZIter::List {
            list,
            next: list.by_rank(rank + 1).unwrap_or(NIL),
            rev: false,
        }
    }

    /// One step of ZSCAN: calls `f` for members from `cursor` on, about `count` of them, and
    /// returns the next cursor (0 when done). The compact encoding returns everything at once.
    ///
    /// The skiplist cursor is a node slot: a node keeps its slot for its whole life, so a member
    /// present for the whole scan is returned, as Redis guarantees.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            ZSetValue::Pack(v) => {
                for (s, m) in v {
                    f(m, *s);
                }
                0
            }
            ZSetValue::List(l) => {
                let slots = &l.list.nodes;
                let mut i = cursor as usize;
                let mut seen = 0;
                while i < slots.len() && seen < count.max(1) {
                    if let Some(n) = &slots[i] {
                        f(&n.member, n.score);
                        seen += 1;
                    }
                    i += 1;
                }
                if i >= slots.len() {
                    0
                } else {
                    i as u64
                }
            }
        }
    }

    /// Checks the internal invariants (tests only).
    #[doc(hidden)]
    pub fn check(&self) {
        if let ZSetValue::List(l) = self {
            l.check();
        }
    }
}

/// Walks a sorted set in rank order.
pub enum ZIter<'a> {
    /// Over the compact encoding.
    #[doc(hidden)]
    Pack {
        v: &'a [(f64, Box<[u8]>)],
        next: Option<usize>,
        rev: bool,
    },
    /// Over the skiplist.
    #[doc(hidden)]
    List {
        list: &'a SkipList,
        next: u32,
        rev: bool,
    },
}

impl<'a> Iterator for ZIter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            ZIter::Pack { v, next, rev } => {
                let i = (*next)?;
                *next = if *rev {
                    i.checked_sub(1)
                } else if i + 1 < v.len() {
                    Some(i + 1)
                } else {
                    None
                };
                let (s, m) = &v[i];
                Some((&m[..], *s))
            }
            ZIter::List { list, next, rev } => {
                if *next == NIL {
                    return None;
                }
                let n = list.node(*next);
                *next = if *rev {
                    n.backward
                } else {
                    n.levels[0].forward
                };
                Some((&n.member[..], n.score))
            }
        }
    }
}

/// The skiplist encoding: the ordered list plus an index from member to node.
#[derive(Clone, Default)]
pub struct SkipZSet {
    list: SkipList,
    index: HashTable<u32>,
    hasher: RandomState,
}

impl std::fmt::Debug for SkipZSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SkipZSet")
            .field("len", &self.list.len)
            .finish()
    }
}

impl SkipZSet {
    /// The number of members.
    pub fn len(&self) -> usize {
        self.list.len
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.list.len == 0
    }

    fn find(&self, member: &[u8]) -> Option<u32> {
        let h = self.hasher.hash_one(member);
        let nodes = &self.list.nodes;
        self.index
            .find(h, |&id| node_of(nodes, id).member[..] == *member)
            .copied()
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|id| self.list.node(id).score)
    }

    /// The 0-based rank of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let id = self.find(member)?;
        let n = self.list.node(id);
        self.list.rank_of(n.score, &n.member).map(|r| r - 1)
    }

    /// Adds a member that is not present.
    fn insert(&mut self, member: Box<[u8]>, score: f64) {
        let h = self.hasher.hash_one(&member[..]);
        let id = self.list.insert(score, member);
        let nodes = &self.list.nodes;
        let hasher = &self.hasher;
        self.index
            .insert_unique(h, id, |&i| hasher.hash_one(&node_of(nodes, i).member[..]));
    }

    /// Sets the score of `member`, adding it if missing; returns the previous score.
    pub fn set_score(&mut self, member: &[u8], score: f64) -> Option<f64> {
        match self.find(member) {
            Some(id) => {
                let old = self.list.node(id).score;
                if old != score {
                    self.list.update_score(id, score);
                }
                Some(old)
            }
            None => {
                self.insert(member.into(), score);
                None
            }
        }
    }

    /// Removes `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let h = self.hasher.hash_one(member);
        let nodes = &self.list.nodes;
        let entry = self
            .index
            .find_entry(h, |&id| node_of(nodes, id).member[..] == *member)
            .ok()?;
        let (id, _) = entry.remove();
        let node = self.list.delete(id);
        Some(node.score)
    }

    fn check(&self) {
        self.list.check();
        assert_eq!(self.index.len(), self.list.len);
        for &id in self.index.iter() {
            assert_eq!(self.find(&self.list.node(id).member), Some(id));
        }
    }
}

/// "No node": the end of a level, or no backward link.
const NIL: u32 = u32::MAX;
/// The head of the list, which is not a node in the arena.
const HEAD: u32 = u32::MAX - 1;
/// Redis's `ZSKIPLIST_MAXLEVEL`.
const MAX_LEVEL: usize = 32;

#[derive(Debug, Clone, Copy)]
struct Level {
    forward: u32,
    /// How many ranks the forward link jumps over.
    span: u32,
}

const EMPTY_LEVEL: Level = Level {
    forward: NIL,
    span: 0,
};

#[derive(Debug, Clone)]
struct Node {
    member: Box<[u8]>,
    score: f64,
    backward: u32,
    levels: Box<[Level]>,
}

fn node_of(nodes: &[Option<Node>], id: u32) -> &Node {
    match &nodes[id as usize] {
        Some(n) => n,
        None => unreachable!("dangling skiplist node id"),
    }
}

/// Redis's skiplist with spans (`zskiplist`), with its nodes in an arena of reusable slots.
#[derive(Debug, Clone)]
pub struct SkipList {
    nodes: Vec<Option<Node>>,
    free: Vec<u32>,
    head: [Level; MAX_LEVEL],
    level: usize,
    len: usize,
    tail: u32,
    seed: u64,
}

impl Default for SkipList {
    fn default() -> Self {
        SkipList {
            nodes: Vec::new(),
            free: Vec::new(),
            head: [EMPTY_LEVEL; MAX_LEVEL],
            level: 1,
            len: 0,
            tail: NIL,
            seed: 0x9E37_79B9_7F4A_7C15,
        }
    }
}

impl SkipList {
    fn node(&self, id: u32) -> &Node {
        node_of(&self.nodes, id)
    }

    fn node_mut(&mut self, id: u32) -> &mut Node {
        match &mut self.nodes[id as usize] {
            Some(n) => n,
            None => unreachable!("dangling skiplist node id"),
        }
    }

    fn lv(&self, x: u32, i: usize) -> Level {
        if x == HEAD {
            self.head[i]
        } else {
            self.node(x).levels[i]
        }
    }

    fn lv_mut(&mut self, x: u32, i: usize) -> &mut Level {
        if x == HEAD {
            &mut self.head[i]
        } else {
            &mut self.node_mut(x).levels[i]
        }
    }

    /// Redis's random level: each level with probability 1/4.
    fn random_level(&mut self) -> usize {
        let mut level = 1;
        loop {
            // xorshift64*: cheap and good enough for level choice.
            self.seed ^= self.seed >> 12;
            self.seed ^= self.seed << 25;
            self.seed ^= self.seed >> 27;
            let r = self.seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32;
            if (r & 0xFFFF) < 0xFFFF / 4 && level < MAX_LEVEL {
                level += 1;
            } else {
                return level;
            }
        }
    }

    /// Adds a node for a member that is not present; returns its id.
    fn insert(&mut self, score: f64, member: Box<[u8]>) -> u32 {
        let lvl = self.random_level();
        let node = Node {
            member,
            score,
            backward: NIL,
            levels: vec![EMPTY_LEVEL; lvl].into_boxed_slice(),
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.nodes[id as usize] = Some(node);
                id
            }
            None => {
                self.nodes.push(Some(node));
                (self.nodes.len() - 1) as u32
            }
        };
        self.link(id);
        id
    }

    /// Links node `id` (unlinked, with its levels set) at its place in the order.
    fn link(&mut self, id: u32) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let (score, lvl) = {
            let n = self.node(id);
            (n.score, n.levels.len())
        };
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let l = self.lv(x, i);
                if l.forward == NIL {
                    break;
                }
                let f = self.node(l.forward);
                let n = self.node(id);
                if cmp_entry(f.score, &f.member, score, &n.member).is_lt() {
                    rank[i] += l.span;
                    x = l.forward;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        if lvl > self.level {
            for i in self.level..lvl {
                rank[i] = 0;
                update[i] = HEAD;
                self.head[i].span = self.len as u32;
            }
            self.level = lvl;
        }
        for i in 0..lvl {
            let up = self.lv(update[i], i);
            let n = self.node_mut(id);
            n.levels[i].forward = up.forward;
            n.levels[i].span = up.span - (rank[0] - rank[i]);
            let upm = self.lv_mut(update[i], i);
            upm.forward = id;
            upm.span = rank[0] - rank[i] + 1;
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(lvl) {
            self.lv_mut(u, i).span += 1;
        }
        let back = if update[0] == HEAD { NIL } else { update[0] };
        self.node_mut(id).backward = back;
        let fwd = self.node(id).levels[0].forward;
        if fwd != NIL {
            self.node_mut(fwd).backward = id;
        } else {
            self.tail = id;
        }
        self.len += 1;
    }

    /// The update vector for node `id`: the last node before it on each level.
    fn predecessors(&self, id: u32) -> [u32; MAX_LEVEL] {
        let mut update = [HEAD; MAX_LEVEL];
        let n = self.node(id);
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.forward == NIL || l.forward == id {
                    break;
                }
                let f = self.node(l.forward);
                if cmp_entry(f.score, &f.member, n.score, &n.member).is_lt() {
                    x = l.forward;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        update
    }

    /// Unlinks node `id` from every level, keeping its slot.
    fn unlink(&mut self, id: u32) {
        let update = self.predecessors(id);
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let ul = self.lv(u, i);
            if ul.forward == id {
                let xl = self.node(id).levels[i];
                let m = self.lv_mut(u, i);
                m.span = m.span + xl.span - 1;
                m.forward = xl.forward;
            } else {
                self.lv_mut(u, i).span -= 1;
            }
        }
        let (fwd, back) = {
            let n = self.node(id);
            (n.levels[0].forward, n.backward)
        };
        if fwd != NIL {
            self.node_mut(fwd).backward = back;
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.head[self.level - 1].forward == NIL {
            self.level -= 1;
        }
        self.len -= 1;
    }

    /// Removes node `id` and frees its slot.
    fn delete(&mut self, id: u32) -> Node {
        self.unlink(id);
        self.free.push(id);
        match self.nodes[id as usize].take() {
            Some(n) => n,
            None => unreachable!("deleting a free slot"),
        }
    }

    /// Moves node `id` to its place for `score`, in place when the order allows, as Redis's
    /// `zslUpdateScore` does.
    fn update_score(&mut self, id: u32, score: f64) {
        let (back, fwd) = {
            let n = self.node(id);
            (n.backward, n.levels[0].forward)
        };
        let member = &self.node(id).member;
        let after_back = back == NIL || {
            let b = self.node(back);
            cmp_entry(b.score, &b.member, score, member).is_lt()
        };
        let before_fwd = fwd == NIL || {
            let f = self.node(fwd);
            cmp_entry(score, member, f.score, &f.member).is_lt()
        };
        if after_back && before_fwd {
            self.node_mut(id).score = score;
            return;
        }
        self.unlink(id);
        self.node_mut(id).score = score;
        let levels = self.node(id).levels.len();
        for l in self.node_mut(id).levels.iter_mut() {
            *l = EMPTY_LEVEL;
        }
        debug_assert!(levels >= 1);
        self.link(id);
    }

    /// The 1-based rank of the node with this score and member.
    fn rank_of(&self, score: f64, member: &[u8]) -> Option<usize> {
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.forward == NIL {
                    break;
                }
                let f = self.node(l.forward);
                if cmp_entry(f.score, &f.member, score, member).is_le() {
                    rank += l.span as usize;
                    x = l.forward;
                } else {
                    break;
                }
            }
            if x != HEAD && self.node(x).member[..] == *member {
                return Some(rank);
            }
        }
        None
    }

    /// The node at 1-based rank `rank`.
    fn by_rank(&self, rank: usize) -> Option<u32> {
        if rank == 0 || rank > self.len {
            return None;
        }
        let mut x = HEAD;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.forward != NIL && traversed + l.span as usize <= rank {
                    traversed += l.span as usize;
                    x = l.forward;
                } else {
                    break;
                }
            }
            if traversed == rank {
                return Some(x);
            }
        }
        None
    }

    /// How many leading nodes satisfy `before` (which must hold on a prefix of the order).
    fn prefix(&self, before: impl Fn(&Node) -> bool) -> usize {
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.forward != NIL && before(self.node(l.forward)) {
                    rank += l.span as usize;
                    x = l.forward;
                } else {
                    break;
                }
            }
        }
        rank
    }

    /// The last node that satisfies `before` (which must hold on a prefix of the order), or
    /// `HEAD` if none does.
    fn prefix_node(&self, before: impl Fn(&Node) -> bool) -> u32 {
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.forward != NIL && before(self.node(l.forward)) {
                    x = l.forward;
                } else {
                    break;
                }
            }
        }
        x
    }

    /// Checks spans, order and links (tests only).
    fn check(&self) {
        // Level 0 walk gives ranks.
        let mut order = Vec::new();
        let mut x = self.head[0].forward;
        let mut prev = NIL;
        while x != NIL {
            let n = self.node(x);
            assert_eq!(n.backward, prev);
            order.push(x);
            prev = x;
            x = n.levels[0].forward;
        }
        assert_eq!(order.len(), self.len);
        assert_eq!(self.tail, prev);
        for w in order.windows(2) {
            let (a, b) = (self.node(w[0]), self.node(w[1]));
            assert!(cmp_entry(a.score, &a.member, b.score, &b.member).is_lt());
        }
        let rank_of = |id: u32| order.iter().position(|&o| o == id).map(|p| p + 1);
        for i in 0..self.level {
            let mut x = HEAD;
            let mut r = 0usize;
            loop {
                let l = self.lv(x, i);
                if l.forward == NIL {
                    break;
                }
                let fr = rank_of(l.forward).unwrap_or(0);
                assert_eq!(fr - r, l.span as usize, "span at level {i}");
                r = fr;
                x = l.forward;
            }
        }
    }
}

impl Db {
    /// The sorted set at `key`; `WrongType` if it holds another type.
    pub fn get_zset(&mut self, key: &[u8]) -> Result<Option<&ZSetValue>, OpError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::ZSet(z)) => Ok(Some(z)),
            Some(_) => Err(OpError::WrongType),
        }
    }

    /// The sorted set at `key`, mutable; `WrongType` if it holds another type.
    pub fn get_zset_mut<'a>(
        &'a mut self,
        key: &'a [u8],
    ) -> Result<Option<crate::write::KeyMut<'a, ZSetValue>>, OpError> {
        self.modify_as(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SMALL: ZSetLimits = ZSetLimits {
        max_entries: 4,
        max_value: 64,
    };

    #[derive(Debug, Clone)]
    enum Op {
        Add(u8, i8),
        Rem(u8),
        RemRanks(u8, u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<u8>(), any::<i8>()).prop_map(|(m, s)| Op::Add(m % 64, s % 8)),
            2 => any::<u8>().prop_map(|m| Op::Rem(m % 64)),
            1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::RemRanks(a % 40, b % 40)),
        ]
    }

    fn name(m: u8) -> Vec<u8> {
        format!("m{m:02}").into_bytes()
    }

    /// The naive model: a vector sorted by (score, member).
    fn sorted(model: &[(Vec<u8>, f64)]) -> Vec<(Vec<u8>, f64)> {
        let mut v = model.to_vec();
        v.sort_by(|a, b| cmp_entry(a.1, &a.0, b.1, &b.0));
        v
    }

    proptest! {
        #[test]
        fn zset_agrees_with_a_sorted_vector(ops in proptest::collection::vec(op(), 1..300)) {
            for limits in [SMALL, ZSetLimits::default()] {
                let mut z = ZSetValue::new();
                let mut model: Vec<(Vec<u8>, f64)> = Vec::new();
                for o in &ops {
                    match *o {
                        Op::Add(m, s) => {
                            let old = z.insert(&name(m), s as f64, limits);
                            let pos = model.iter().position(|(mm, _)| *mm == name(m));
                            prop_assert_eq!(old, pos.map(|p| model[p].1));
                            match pos {
                                Some(p) => model[p].1 = s as f64,
                                None => model.push((name(m), s as f64)),
                            }
                        }
                        Op::Rem(m) => {
                            let pos = model.iter().position(|(mm, _)| *mm == name(m));
                            prop_assert_eq!(z.remove(&name(m)), pos.map(|p| model.remove(p).1));
                        }
                        Op::RemRanks(a, b) => {
                            let s = sorted(&model);
                            let (a, b) = (a as usize, b as usize);
                            let n = z.remove_rank_range(a, b);
                            let expect: Vec<_> = if a <= b && a < s.len() {
                                s[a..=b.min(s.len() - 1)].to_vec()
                            } else {
                                vec![]
                            };
                            prop_assert_eq!(n, expect.len());
                            model.retain(|e| !expect.contains(e));
                        }
                    }
                    z.check();
                    let s = sorted(&model);
                    prop_assert_eq!(z.len(), s.len());
                    let got: Vec<(Vec<u8>, f64)> =
                        z.iter_from(0, false).map(|(m, s)| (m.to_vec(), s)).collect();
                    prop_assert_eq!(&got, &s);
                    let back: Vec<(Vec<u8>, f64)> = if s.is_empty() {
                        vec![]
                    } else {
                        z.iter_from(s.len() - 1, true).map(|(m, s)| (m.to_vec(), s)).collect()
                    };
                    let mut rs = s.clone();
                    rs.reverse();
                    prop_assert_eq!(&back, &rs);
                    for (i, (m, sc)) in s.iter().enumerate() {
                        prop_assert_eq!(z.rank(m), Some(i));
                        prop_assert_eq!(z.score(m), Some(*sc));
                        prop_assert_eq!(z.at(i), Some((&m[..], *sc)));
                    }
                    for bound in -9..9 {
                        let b = bound as f64;
                        prop_assert_eq!(z.score_prefix(|x| x < b), s.iter().filter(|e| e.1 < b).count());
                        prop_assert_eq!(z.score_prefix(|x| x <= b), s.iter().filter(|e| e.1 <= b).count());
                        let from: Vec<(Vec<u8>, f64)> =
                            z.iter_from_score(|x| x < b).map(|(m, s)| (m.to_vec(), s)).collect();
                        let want: Vec<(Vec<u8>, f64)> =
                            s.iter().filter(|e| e.1 >= b).cloned().collect();
                        prop_assert_eq!(from, want);
                    }
                }
            }
        }

        #[test]
        fn lex_prefix_counts_members_below(members in proptest::collection::btree_set(any::<u8>(), 0..200), probe in any::<u8>()) {
            let mut z = ZSetValue::new();
            for &m in &members {
                z.insert(&name(m), 0.0, SMALL);
            }
            let p = name(probe);
            prop_assert_eq!(z.lex_prefix(|m| m < &p[..]), members.iter().filter(|&&m| name(m) < p).count());
        }
    }

    #[test]
    fn encoding_follows_the_limits() {
        let mut z = ZSetValue::new();
        z.insert(b"a", 1.0, SMALL);
        assert_eq!(z.encoding(), "listpack");
        z.insert(&[b'x'; 65], 1.0, SMALL);
        assert_eq!(z.encoding(), "skiplist");
        let z = ZSetValue::from_pairs(vec![(b"a"[..].into(), 1.0)], SMALL);
        assert_eq!(z.encoding(), "listpack");
    }

    #[test]
    fn scan_returns_every_member_once_over_many_calls() {
        let mut z = ZSetValue::new();
        for i in 0..1000 {
            z.insert(format!("{i}").as_bytes(), i as f64, SMALL);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = z.scan(cursor, 10, |m, _| {
                assert!(seen.insert(m.to_vec()));
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
    }
}
