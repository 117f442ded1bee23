//! The write path: the one way a stored key changes, and what every change tells.
//!
//! Every change of a key of a [`Db`](crate::Db) — stored whole, changed in place, deleted,
//! expiry set or cleared, expired lazily or actively, evicted, flushed or swapped away — runs
//! the same post-update work in [`Book`], the part of a `Db` beside its table:
//!
//! - it wakes the clients blocked on the key (`BlockedKeys::signal`);
//! - while memory tracking is on, it keeps the database's memory estimate
//!   ([`crate::Db::used_memory`]) equal to the sum of its entries' estimates ([`entry_mem`]);
//! - it bumps the version of the key if someone watches it ([`crate::Db::watch`]);
//! - it hands a [`Change`] to every [`KeyListener`] registered on the database, after calling
//!   the listener's pre-update hook with the old entry.
//!
//! A change in place goes through a [`KeyMut`] guard, the only way to reach a stored value
//! mutably: the guard derefs to the value, and its `Drop` runs the post-update work if the
//! value was reached mutably. No `&mut Entry` of a stored key leaves this crate, so an expiry
//! time cannot be written except through [`crate::Db::set_expire`] and friends.
//!
//! When nobody watches a key, no listener is registered and memory is not tracked, the
//! post-update work is one flag test (and, for a key stored whole or created, the blocked-keys
//! emptiness check it always had): no allocation, no dynamic call.

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use foldhash::fast::RandomState;
use hashbrown::HashMap;

use crate::blocking::BlockedKeys;
use crate::db::Entry;
use crate::hash::HashValue;
use crate::list::ListValue;
use crate::set::SetValue;
use crate::string::StrValue;
use crate::value::Value;
use crate::zset::ZSetValue;
use crate::DbIndex;

/// What happened to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    /// Stored whole, replacing any old value (SET, RENAME's destination, a write-back).
    Set,
    /// Changed in place (APPEND, LPUSH, HSET, INCR, ...).
    Modified,
    /// Deleted by a command (DEL, UNLINK, the last element popped, RENAME's source).
    Deleted,
    /// Its expiry time was set or changed (EXPIRE, PEXPIREAT, GETEX EX).
    ExpireSet,
    /// Its expiry time was removed (PERSIST, GETEX PERSIST).
    ExpireCleared,
    /// Deleted because its time had passed, on access or by the active expiry cycle.
    Expired,
    /// Deleted to free memory.
    Evicted,
    /// Every key of the database was removed (FLUSHDB, FLUSHALL); `key` is empty.
    Flushed,
    /// The database's contents were exchanged with those of the given database (SWAPDB); `key`
    /// is empty.
    Swapped(DbIndex),
}

/// One change, as listeners receive it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change<'a> {
    /// The database.
    pub db: DbIndex,
    /// The key; empty for [`ChangeKind::Flushed`] and [`ChangeKind::Swapped`].
    pub key: &'a [u8],
    /// What happened.
    pub kind: ChangeKind,
    /// The command-level event name (Redis's keyspace event, e.g. `"lpush"`), where the
    /// command gave one.
    pub event: Option<&'static str>,
}

/// Something that sees every change of one database: keyspace notifications, client-side
/// caching, the replication/AOF log, a running snapshot. Called on the shard's thread, in the
/// order the changes happen; it must not block.
pub trait KeyListener: Send {
    /// Called before a stored key changes or disappears, with its entry as it is (the old
    /// value a snapshot must save first). For a flush or a swap it is called once per key of
    /// the database(s) concerned. Never called for a key that did not exist.
    fn before_change(&mut self, _db: DbIndex, _key: &[u8], _old: &Entry) {}
    /// Called after the change.
    fn on_change(&mut self, change: &Change<'_>);
}

/// The handle of a registered listener, to remove it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerId(pub u64);

/// A version of a watched key: compare two readings of [`crate::Db::version`] to know whether
/// the key was touched in between.
pub type Version = u64;

/// Bytes a stored entry is estimated to use: its table node (key inline when short), its key
/// when it is long, and [`value_mem`] for its value. An estimate, not an allocator figure: see
/// docs/write-path.md.
#[inline]
pub fn entry_mem(key: &[u8], value: &Value) -> usize {
    NODE_BYTES + if key.len() > KEY_INLINE { key.len() } else { 0 } + value_mem(value)
}

/// The table node of a key with its entry (80 bytes, see `table.rs`).
const NODE_BYTES: usize = 80;
/// Keys up to this long live inside their node.
const KEY_INLINE: usize = 18;

/// Bytes a value is estimated to use outside its table node, computed in O(1): a string's heap
/// buffer exactly, a collection as its length times a per-element cost of its type.
#[inline]
pub fn value_mem(v: &Value) -> usize {
    match v {
        Value::Str(s) => match s {
            StrValue::Int(_) => 0,
            StrValue::Emb(e) => {
                if e.len() > crate::string::EMB_INLINE_MAX {
                    e.len()
                } else {
                    0
                }
            }
            StrValue::Raw(b) => b.capacity(),
            StrValue::Shared(b) => b.len(),
        },
        Value::List(l) => 32 + l.len() * 24,
        Value::Set(s) => 64 + s.len() * 40,
        Value::Hash(h) => 32 + h.len() * 48,
        Value::ZSet(z) => 32 + z.len() * 64,
        Value::Stream(s) => s.mem_estimate(),
    }
}

/// The part of a `Db` that the write path updates besides the table.
#[derive(Default)]
pub(crate) struct Book {
    /// This database's index, for change records.
    pub(crate) idx: DbIndex,
    /// How many keys have an expiry time.
    pub(crate) expires: usize,
    /// The sum of [`entry_mem`] over the stored keys, while `track_memory` is on.
    pub(crate) used: usize,
    /// Whether `used` is kept (see [`crate::Db::set_memory_tracking`]).
    pub(crate) track_memory: bool,
    /// Whether `watched` or `listeners` is non-empty.
    observed: bool,
    /// `observed || track_memory`: the one test the hot path makes.
    slow: bool,
    watched: HashMap<Box<[u8]>, Watched, RandomState>,
    listeners: Vec<(ListenerId, Box<dyn KeyListener>)>,
    /// The next version handed to a watched key (never reused, so a key deleted and created
    /// again never shows an old version).
    next_version: Version,
}

#[derive(Debug, Clone)]
struct Watched {
    /// How many watches are registered on the key.
    count: usize,
    version: Version,
    /// The version of the last touch that ends every watch taken before it.
    dirty_at: Version,
    /// The touches since `dirty_at` that some watches outlive (see [`Effect`]), oldest first.
    events: Vec<(Version, Effect)>,
}

/// What one touch of a watched key does to a watch of it, by whether the watch is *stale*:
/// taken while the key was present but past its time, or made so by a SWAPDB (Redis's
/// `watchedKey.expired`). `Some(stale)`: the watch holds and is (or is no longer) stale;
/// `None`: it is broken.
///
/// Redis treats the removal of a key that was already past its time as no change for a stale
/// watch (the key was logically gone already), but as a change for any other watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Effect {
    pub(crate) on_stale: Option<bool>,
    pub(crate) on_fresh: Option<bool>,
}

impl Effect {
    /// Breaks every watch: the key changed.
    pub(crate) const DIRTY: Effect = Effect {
        on_stale: None,
        on_fresh: None,
    };
    /// A key past its time was removed (expiry, a flush).
    pub(crate) const GONE_STALE: Effect = Effect {
        on_stale: Some(false),
        on_fresh: None,
    };
}

/// Touches kept per watched key before they count as a change for every watch (only
/// SWAPDBs of keys past their time can pile up without a change in between; a watch broken by
/// this cap fails its EXEC where Redis's would not, which WATCH allows but is not expected).
const MAX_EVENTS: usize = 16;

impl Book {
    /// Whether watched keys or listeners need to hear about changes.
    #[inline(always)]
    pub(crate) fn observed(&self) -> bool {
        self.observed
    }

    /// Whether a change needs more than the blocked-keys signal: someone observes, or memory
    /// is tracked.
    #[inline(always)]
    pub(crate) fn slow(&self) -> bool {
        self.slow
    }

    pub(crate) fn refresh(&mut self) {
        self.observed = !self.watched.is_empty() || !self.listeners.is_empty();
        self.slow = self.observed || self.track_memory;
    }

    /// The slow part of unlinking `key`, which held `e`: memory, then the hooks.
    #[cold]
    pub(crate) fn unlinked(&mut self, key: &[u8], e: &Entry, kind: ChangeKind) {
        if self.track_memory {
            self.used -= entry_mem(key, &e.value);
        }
        if self.observed {
            self.before(key, e);
            self.after(key, kind, None);
        }
    }

    /// The pre-update hook: `key` holding `old` is about to change or go.
    #[cold]
    pub(crate) fn before(&mut self, key: &[u8], old: &Entry) {
        for (_, l) in &mut self.listeners {
            l.before_change(self.idx, key, old);
        }
    }

    /// The post-update work that only observers need.
    #[cold]
    pub(crate) fn after(&mut self, key: &[u8], kind: ChangeKind, event: Option<&'static str>) {
        if !key.is_empty() {
            let effect = if kind == ChangeKind::Expired {
                Effect::GONE_STALE
            } else {
                Effect::DIRTY
            };
            self.touch_with(key, effect);
        }
        let change = Change {
            db: self.idx,
            key,
            kind,
            event,
        };
        for (_, l) in &mut self.listeners {
            l.on_change(&change);
        }
    }

    /// Bumps the version of `key` if it is watched, with what the touch does to its watches.
    pub(crate) fn touch_with(&mut self, key: &[u8], effect: Effect) {
        if self.watched.is_empty() {
            return;
        }
        if let Some(w) = self.watched.get_mut(key) {
            self.next_version += 1;
            record(w, self.next_version, effect);
        }
    }

    /// Touches every watched key for which `effect` gives what its touch does (`None`: not
    /// touched).
    pub(crate) fn touch_all(&mut self, mut effect: impl FnMut(&[u8]) -> Option<Effect>) {
        for (k, w) in self.watched.iter_mut() {
            if let Some(e) = effect(k) {
                self.next_version += 1;
                record(w, self.next_version, e);
            }
        }
    }

    pub(crate) fn watch(&mut self, key: &[u8]) -> Version {
        let next = &mut self.next_version;
        let w = self.watched.entry(key.into()).or_insert_with(|| {
            *next += 1;
            Watched {
                count: 0,
                version: *next,
                dirty_at: 0,
                events: Vec::new(),
            }
        });
        w.count += 1;
        let v = w.version;
        self.refresh();
        v
    }

    /// Whether a watch of `key` taken at `version`, `stale` or not, still holds: it is broken
    /// by the touches since that break it in turn (see [`Effect`]). `None`: not watched.
    pub(crate) fn watch_holds(&self, key: &[u8], version: Version, stale: bool) -> Option<bool> {
        let w = self.watched.get(key)?;
        if w.dirty_at > version {
            return Some(false);
        }
        let mut stale = stale;
        for (_, e) in w.events.iter().filter(|(v, _)| *v > version) {
            match if stale { e.on_stale } else { e.on_fresh } {
                Some(now_stale) => stale = now_stale,
                None => return Some(false),
            }
        }
        Some(true)
    }

    pub(crate) fn unwatch(&mut self, key: &[u8]) {
        if let Some(w) = self.watched.get_mut(key) {
            w.count -= 1;
            if w.count == 0 {
                self.watched.remove(key);
            }
        }
        self.refresh();
    }

    pub(crate) fn version(&self, key: &[u8]) -> Option<Version> {
        self.watched.get(key).map(|w| w.version)
    }

    pub(crate) fn add_listener_with_id(&mut self, id: ListenerId, l: Box<dyn KeyListener>) {
        self.listeners.push((id, l));
        self.refresh();
    }

    pub(crate) fn remove_listener(&mut self, id: ListenerId) -> Option<Box<dyn KeyListener>> {
        let i = self.listeners.iter().position(|(l, _)| *l == id)?;
        let (_, l) = self.listeners.remove(i);
        self.refresh();
        Some(l)
    }

    pub(crate) fn has_listeners(&self) -> bool {
        !self.listeners.is_empty()
    }

    /// Exchanges what belongs to the contents (SWAPDB), keeping what belongs to the index:
    /// the watched keys, the listeners and the index itself.
    pub(crate) fn swap_contents(&mut self, other: &mut Book) {
        std::mem::swap(&mut self.expires, &mut other.expires);
        std::mem::swap(&mut self.used, &mut other.used);
    }
}

/// Records a touch of watched key `w` at version `v`.
fn record(w: &mut Watched, v: Version, effect: Effect) {
    w.version = v;
    if effect == Effect::DIRTY || w.events.len() >= MAX_EVENTS {
        w.dirty_at = v;
        w.events.clear();
    } else {
        w.events.push((v, effect));
    }
}

/// A value type that a [`KeyMut`] can be typed to: [`Value`] itself or one variant's payload.
pub trait Kind {
    /// `v` as this type, if it is one.
    fn of(v: &Value) -> Option<&Self>;
    /// `v` as this type, mutable, if it is one.
    fn of_mut(v: &mut Value) -> Option<&mut Self>;
}

impl Kind for Value {
    #[inline(always)]
    fn of(v: &Value) -> Option<&Self> {
        Some(v)
    }
    #[inline(always)]
    fn of_mut(v: &mut Value) -> Option<&mut Self> {
        Some(v)
    }
}

macro_rules! kind {
    ($t:ty, $variant:ident) => {
        impl Kind for $t {
            #[inline(always)]
            fn of(v: &Value) -> Option<&Self> {
                match v {
                    Value::$variant(x) => Some(x),
                    _ => None,
                }
            }
            #[inline(always)]
            fn of_mut(v: &mut Value) -> Option<&mut Self> {
                match v {
                    Value::$variant(x) => Some(x),
                    _ => None,
                }
            }
        }
    };
}
kind!(StrValue, Str);
kind!(ListValue, List);
kind!(SetValue, Set);
kind!(HashValue, Hash);
kind!(ZSetValue, ZSet);

/// A stored key opened for a change in place, typed to `T` (its whole [`Value`], or the payload
/// of the variant it was checked to hold).
///
/// **Invariant:** the first mutable access calls the listeners' pre-update hook with the old
/// entry; dropping the guard after a mutable access runs the post-update work once (blocked
/// clients, memory estimate, version, listeners). A guard only read from changes nothing and
/// tells nobody. The key's type cannot change through a typed guard, since only `&mut T` is
/// handed out; a `KeyMut<Value>` may replace the value with another type.
pub struct KeyMut<'a, T: Kind + ?Sized = Value> {
    entry: &'a mut Entry,
    key: &'a [u8],
    book: &'a mut Book,
    blocked: &'a mut BlockedKeys,
    mem_before: usize,
    kind: ChangeKind,
    event: Option<&'static str>,
    changed: bool,
    _t: PhantomData<fn() -> T>,
}

impl<'a, T: Kind + ?Sized> KeyMut<'a, T> {
    /// A guard over the stored `entry` of `key`. `created`: the entry was just put in the table
    /// (not yet accounted or announced), so dropping the guard reports a [`ChangeKind::Set`].
    #[inline(always)]
    pub(crate) fn new(
        key: &'a [u8],
        entry: &'a mut Entry,
        book: &'a mut Book,
        blocked: &'a mut BlockedKeys,
        created: bool,
    ) -> Self {
        let mem_before = if !created && book.track_memory {
            entry_mem(key, &entry.value)
        } else {
            0
        };
        KeyMut {
            entry,
            key,
            book,
            blocked,
            mem_before,
            kind: if created {
                ChangeKind::Set
            } else {
                ChangeKind::Modified
            },
            event: None,
            changed: created,
            _t: PhantomData,
        }
    }

    /// Whether the key was created by the call that opened this guard
    /// ([`crate::Db::modify_or_insert_with`]).
    pub fn is_new(&self) -> bool {
        self.kind == ChangeKind::Set
    }

    /// Names the command-level event listeners receive with this change (e.g. `"lpush"`).
    pub fn set_event(&mut self, event: &'static str) {
        self.event = Some(event);
    }

    /// Declares that the value was reached mutably but not changed after all (an LREM that
    /// matched nothing): no one is told. The memory estimate is still brought up to date.
    pub fn unchanged(&mut self) {
        if self.changed && self.kind == ChangeKind::Modified {
            if self.book.track_memory {
                let after = entry_mem(self.key, &self.entry.value);
                self.book.used = self.book.used + after - self.mem_before;
                self.mem_before = after;
            }
            self.changed = false;
        }
    }

    /// The key's expiry time, if any.
    pub fn expire(&self) -> Option<u64> {
        self.entry.expire()
    }

    /// The key's whole entry, read-only.
    pub fn entry(&self) -> &Entry {
        self.entry
    }

    /// Records the coming change: the pre-update hook runs before the first one.
    #[inline(always)]
    fn mark(&mut self) {
        if !self.changed {
            self.changed = true;
            if self.book.observed() {
                self.book.before(self.key, self.entry);
            }
        }
    }
}

impl<T: Kind + ?Sized> Deref for KeyMut<'_, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        match T::of(&self.entry.value) {
            Some(t) => t,
            None => unreachable!("a typed guard's value keeps its type"),
        }
    }
}

impl<T: Kind + ?Sized> DerefMut for KeyMut<'_, T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        self.mark();
        match T::of_mut(&mut self.entry.value) {
            Some(t) => t,
            None => unreachable!("a typed guard's value keeps its type"),
        }
    }
}

impl<T: Kind + ?Sized> Drop for KeyMut<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // Nothing to do for a change in place of an existing key that nobody observes and
        // whose memory is not tracked: no one can be blocked on a key that already holds a
        // value of its type.
        if self.changed && (self.kind == ChangeKind::Set || self.book.slow()) {
            self.finish();
        }
    }
}

impl<T: Kind + ?Sized> KeyMut<'_, T> {
    /// The post-update work: memory, blocked clients (for a key just created), observers.
    #[inline(never)]
    fn finish(&mut self) {
        if self.book.track_memory {
            let after = entry_mem(self.key, &self.entry.value);
            self.book.used = self.book.used + after - self.mem_before;
        }
        if self.kind == ChangeKind::Set {
            self.blocked.signal(self.key);
        }
        if self.book.observed() {
            self.book.after(self.key, self.kind, self.event);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::*;
    use crate::{Db, Shard};

    /// Every change a listener saw, as `(db, key, kind)`, and every pre-update call with the
    /// old value's string form.
    #[derive(Default)]
    struct Log {
        changes: Vec<(DbIndex, Vec<u8>, ChangeKind)>,
        before: Vec<(DbIndex, Vec<u8>, Vec<u8>)>,
    }

    struct Recorder(Arc<Mutex<Log>>);

    impl KeyListener for Recorder {
        fn before_change(&mut self, db: DbIndex, key: &[u8], old: &Entry) {
            let v = match &old.value {
                Value::Str(s) => s.to_vec(),
                v => v.type_name().as_bytes().to_vec(),
            };
            self.0.lock().unwrap().before.push((db, key.to_vec(), v));
        }
        fn on_change(&mut self, c: &Change<'_>) {
            self.0
                .lock()
                .unwrap()
                .changes
                .push((c.db, c.key.to_vec(), c.kind));
        }
    }

    fn s(v: &str) -> Value {
        Value::Str(StrValue::from_bytes(v.as_bytes()))
    }

    fn recorded(shard: &mut Shard) -> Arc<Mutex<Log>> {
        let log = Arc::new(Mutex::new(Log::default()));
        let l = log.clone();
        shard.add_listener(move |_| Box::new(Recorder(l.clone())));
        log
    }

    fn kinds(log: &Arc<Mutex<Log>>) -> Vec<(DbIndex, Vec<u8>, ChangeKind)> {
        std::mem::take(&mut log.lock().unwrap().changes)
    }

    fn ch(db: DbIndex, key: &str, kind: ChangeKind) -> (DbIndex, Vec<u8>, ChangeKind) {
        (db, key.as_bytes().to_vec(), kind)
    }

    #[test]
    fn every_storage_operation_reaches_the_listener_in_order() {
        use ChangeKind::*;
        let mut shard = Shard::new(0, 1, 2);
        shard.set_now(1000);
        let log = recorded(&mut shard);
        let db = shard.db(0);
        db.insert(b"a", s("1"), None);
        db.insert(b"a", s("2"), Some(5000));
        db.insert_keep_ttl(b"a", s("3"));
        {
            let mut g = db.modify_as::<StrValue>(b"a").unwrap().unwrap();
            g.make_raw().push(b'x');
        }
        // A guard only read from, or declared unchanged, tells nobody.
        assert_eq!(db.modify(b"a").map(|g| g.type_name()), Some("string"));
        {
            let mut g = db.modify(b"a").unwrap();
            let _ = &mut *g;
            g.unchanged();
        }
        assert!(db.set_expire(b"a", Some(1500)));
        assert!(db.set_expire(b"a", None));
        assert!(db.set_expire(b"a", Some(1500)));
        {
            let mut g: KeyMut<'_, crate::list::ListValue> = db
                .modify_or_insert_with(b"l", || Value::List(Default::default()))
                .unwrap();
            g.push_back(b"x");
        }
        assert!(db.remove(b"l").is_some());
        assert!(db.remove(b"l").is_none());
        db.insert(b"e", s("1"), None);
        assert!(db.evict(b"e"));
        assert_eq!(
            kinds(&log),
            vec![
                ch(0, "a", Set),
                ch(0, "a", Set),
                ch(0, "a", Set),
                ch(0, "a", Modified),
                ch(0, "a", ExpireSet),
                ch(0, "a", ExpireCleared),
                ch(0, "a", ExpireSet),
                ch(0, "l", Set),
                ch(0, "l", Deleted),
                ch(0, "e", Set),
                ch(0, "e", Evicted),
            ]
        );
        // Lazy expiry on a read.
        shard.set_now(1500);
        assert!(shard.db(0).get(b"a").is_none());
        assert_eq!(kinds(&log), vec![ch(0, "a", Expired)]);
        // Active expiry, and expiry found by SCAN.
        let db = shard.db(1);
        db.insert(b"x", s("1"), Some(1600));
        db.insert(b"y", s("1"), Some(1600));
        kinds(&log);
        shard.active_expire_cycle(1700, Duration::from_secs(1));
        let mut got = kinds(&log);
        got.sort();
        assert_eq!(got, vec![ch(1, "x", Expired), ch(1, "y", Expired)]);
        let db = shard.db(1);
        db.insert(b"z", s("1"), Some(1800));
        db.set_now(1900);
        let mut cursor = 0;
        loop {
            cursor = db.scan(cursor, |_, _| {});
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(kinds(&log)[1..], [ch(1, "z", Expired)]);
        // Flush, swap.
        shard.db(0).insert(b"f", s("1"), None);
        shard.db(0).clear();
        shard.db(1).insert(b"g", s("1"), None);
        drop(shard.db(1).take_all());
        shard.swap_dbs(0, 1);
        assert_eq!(
            kinds(&log),
            vec![
                ch(0, "f", Set),
                ch(0, "", Flushed),
                ch(1, "g", Set),
                ch(1, "", Flushed),
                ch(0, "", Swapped(1)),
                ch(1, "", Swapped(0)),
            ]
        );
    }

    #[test]
    fn the_pre_update_hook_sees_the_old_value_once_per_change() {
        let mut shard = Shard::new(0, 1, 1);
        let log = recorded(&mut shard);
        let db = shard.db(0);
        db.insert(b"a", s("old"), None);
        db.insert(b"a", s("new"), None);
        {
            let mut g = db.modify_as::<StrValue>(b"a").unwrap().unwrap();
            g.make_raw().push(b'1');
            g.make_raw().push(b'2');
        }
        db.remove(b"a");
        db.insert(b"b", s("b"), None);
        db.insert(b"c", s("c"), None);
        db.clear();
        let mut before = std::mem::take(&mut log.lock().unwrap().before);
        // Storing into a missing key has no old value; the change in place is announced once,
        // before its first mutation, with the value as it was; a flush shows every key.
        before[3..].sort();
        let want: Vec<(DbIndex, Vec<u8>, Vec<u8>)> = [
            ("a", "old"),
            ("a", "new"),
            ("a", "new12"),
            ("b", "b"),
            ("c", "c"),
        ]
        .iter()
        .map(|(k, v)| (0, k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect();
        assert_eq!(before, want);
    }

    #[test]
    fn removed_listeners_hear_nothing_more() {
        let mut shard = Shard::new(0, 1, 2);
        let log = recorded(&mut shard);
        shard.db(1).insert(b"a", s("1"), None);
        let id = ListenerId(1);
        assert_eq!(shard.remove_listener(id).len(), 2);
        shard.db(1).insert(b"a", s("2"), None);
        assert_eq!(kinds(&log), vec![ch(1, "a", ChangeKind::Set)]);
    }

    #[test]
    fn a_watched_key_gets_a_new_version_on_every_touch() {
        let mut db = Db::new();
        db.set_now(1000);
        let v0 = db.watch(b"k");
        assert_eq!(db.version(b"k"), Some(v0));
        // Unrelated keys do not touch it.
        db.insert(b"other", s("1"), None);
        db.remove(b"other");
        assert_eq!(db.version(b"k"), Some(v0));
        let mut seen = vec![v0];
        let mut step = |db: &mut Db, what: &str| {
            let v = db.version(b"k").unwrap();
            assert!(!seen.contains(&v), "{what} did not change the version");
            seen.push(v);
        };
        db.insert(b"k", s("1"), None);
        step(&mut db, "insert");
        db.modify_as::<StrValue>(b"k").unwrap().unwrap().make_raw();
        step(&mut db, "change in place");
        db.set_expire(b"k", Some(2000));
        step(&mut db, "expire");
        db.set_expire(b"k", None);
        step(&mut db, "persist");
        db.remove(b"k");
        step(&mut db, "delete");
        db.insert(b"k", s("1"), None);
        step(&mut db, "create again");
        db.set_expire(b"k", Some(1500));
        step(&mut db, "expire again");
        db.set_now(1500);
        step(&mut db, "lazy expiry (found by version itself)");
        db.insert(b"k", s("1"), None);
        step(&mut db, "create a third time");
        db.clear();
        step(&mut db, "flush");
        // A flush touches only watched keys that existed; a read changes nothing.
        db.clear();
        db.get(b"k");
        assert_eq!(db.version(b"k"), seen.last().copied());
        db.unwatch(b"k");
        assert_eq!(db.version(b"k"), None);
    }

    #[test]
    fn a_deleted_and_recreated_key_never_shows_an_old_version() {
        let mut db = Db::new();
        db.insert(b"k", s("1"), None);
        let v = db.watch(b"k");
        db.remove(b"k");
        db.insert(b"k", s("1"), None);
        assert_ne!(db.version(b"k"), Some(v));
        // Watching again after the last watch ended starts from a fresh version too.
        db.unwatch(b"k");
        let w = db.watch(b"k");
        assert_ne!(w, v);
    }

    #[test]
    fn swapdb_touches_watched_keys_of_both_sides_and_wakes_blocked_keys() {
        let mut shard = Shard::new(0, 1, 2);
        shard
            .db(1)
            .insert(b"l", Value::List(Default::default()), None);
        let v0 = shard.db(0).watch(b"l");
        let v1 = shard.db(1).watch(b"nothing");
        shard.db(0).blocked.add(b"l");
        shard.swap_dbs(0, 1);
        assert_ne!(shard.db(0).version(b"l"), Some(v0));
        assert_eq!(shard.db(1).version(b"nothing"), Some(v1));
        assert_eq!(shard.db(0).blocked.take_ready(), vec![Box::from(&b"l"[..])]);
        assert!(shard.db(0).contains(b"l"));
        assert!(!shard.db(1).contains(b"l"));
    }

    #[test]
    fn the_memory_estimate_follows_every_change() {
        let mut shard = Shard::new(0, 1, 2);
        shard.set_now(1000);
        shard.db(0).insert(b"before-tracking", s("1"), None);
        assert_eq!(shard.used_memory(), None);
        shard.set_memory_tracking(true);
        let check = |shard: &Shard| {
            for db in &shard.dbs {
                assert_eq!(db.used_memory(), Some(db.recount_memory()));
            }
        };
        check(&shard);
        let db = shard.db(0);
        db.insert(b"short", s("x"), None);
        db.insert(
            b"a-key-longer-than-the-inline-buffer",
            s(&"v".repeat(2000)),
            None,
        );
        db.insert(b"short", s(&"y".repeat(100)), Some(1100));
        {
            let mut g = db.modify_as::<StrValue>(b"short").unwrap().unwrap();
            g.make_raw().extend_from_slice(&[b'z'; 5000]);
        }
        {
            let mut g: KeyMut<'_, crate::list::ListValue> = db
                .modify_or_insert_with(b"list", || Value::List(Default::default()))
                .unwrap();
            for _ in 0..100 {
                g.push_back(b"element");
            }
        }
        check(&shard);
        assert!(shard.used_memory() > Some(7000));
        shard.db(0).remove(b"list");
        check(&shard);
        shard.db(1).insert(b"other", s("1"), Some(1050));
        shard.swap_dbs(0, 1);
        check(&shard);
        shard.active_expire_cycle(2000, Duration::from_secs(1));
        check(&shard);
        shard.db(0).clear();
        shard.db(1).clear();
        check(&shard);
        assert_eq!(shard.used_memory(), Some(0));
        shard.set_memory_tracking(false);
        assert_eq!(shard.used_memory(), None);
    }

    #[test]
    fn only_a_key_stored_or_created_wakes_blocked_clients() {
        let mut db = Db::new();
        db.blocked.add(b"l");
        db.blocked.add(b"m");
        db.insert(b"l", Value::List(Default::default()), None);
        assert_eq!(db.blocked.take_ready(), vec![Box::from(&b"l"[..])]);
        db.modify_or_insert_with::<crate::list::ListValue>(
            b"m",
            || Value::List(Default::default()),
        )
        .unwrap()
        .push_back(b"x");
        assert_eq!(db.blocked.take_ready(), vec![Box::from(&b"m"[..])]);
        // A key that already held a list cannot have had a client waiting on it.
        db.modify_as::<crate::list::ListValue>(b"m")
            .unwrap()
            .unwrap()
            .push_back(b"y");
        db.remove(b"l");
        assert!(!db.blocked.has_ready());
    }
}
