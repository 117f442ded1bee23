//! `Keys`: the view a read-modify-write command has of its keys, wherever they live.
//!
//! A [`crate::registry::TxnFn`] is written once against this trait. When all its keys live on
//! one shard it runs there on [`LocalKeys`], straight on the database. When they span shards,
//! the runtime locks them, moves their entries out of their shards ([`check_out`]) into
//! [`FetchedKeys`], runs the command on them, and moves every entry back ([`check_in`]).
//!
//! A command may also read keys it could not declare, because their names come from the data
//! (SORT's `BY weight_*` / `GET data_*`, later Lua scripts): [`Keys::get_extra`]. When the view
//! cannot see such a key it answers [`Extra::Unavailable`] and records it in [`Keys::needed`];
//! the command then stops before changing anything or writing a reply, and the runtime runs it
//! again on the cross-shard path with those keys locked and fetched (docs/transactions.md).

use bytes::Bytes;
use rand::rngs::SmallRng;
use rustis_storage::slot::shard_of;
use rustis_storage::write::Kind;
use rustis_storage::{Entry, KeyMut, Shard, ShardConfig, Value};

pub use crate::registry::flags::UNDECLARED_KEYS;

/// What [`Keys::get_extra`] finds at a key the command did not declare.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Extra<'a> {
    /// The key holds this entry.
    Found(&'a Entry),
    /// The key does not exist.
    Absent,
    /// This view cannot see the key (it lives on another shard, or another transaction holds
    /// it locked). It has been added to [`Keys::needed`]: the command must stop before it
    /// changes anything or writes a reply, and the runtime runs it again with the key fetched.
    Unavailable,
}

/// A key's value opened for a change in place: a stored key through its write-path guard, or a
/// checked-out entry that [`check_in`] brings back.
pub enum ValueMut<'a> {
    /// A key of the shard the command runs on.
    Stored(KeyMut<'a, Value>),
    /// An entry checked out of another shard.
    Copy(&'a mut Value),
}

impl ValueMut<'_> {
    /// Declares that nothing changed after all, on a stored key (see [`KeyMut::unchanged`]).
    pub fn unchanged(&mut self) {
        if let ValueMut::Stored(g) = self {
            g.unchanged();
        }
    }

    /// Names the change's event for a stored key (see [`KeyMut::set_event`]). An entry
    /// checked out of another shard carries no event: its check-in is announced by the
    /// command's name alone.
    pub fn set_event(&mut self, event: &'static str) {
        if let ValueMut::Stored(g) = self {
            g.set_event(event);
        }
    }
}

impl std::ops::Deref for ValueMut<'_> {
    type Target = Value;
    fn deref(&self) -> &Value {
        match self {
            ValueMut::Stored(g) => g,
            ValueMut::Copy(v) => v,
        }
    }
}

impl std::ops::DerefMut for ValueMut<'_> {
    fn deref_mut(&mut self) -> &mut Value {
        match self {
            ValueMut::Stored(g) => g,
            ValueMut::Copy(v) => v,
        }
    }
}

/// A key's value opened for a change in place as a `T` (a list, a set, ...); see
/// [`get_mut_as`].
pub struct TypedMut<'a, T: Kind> {
    inner: ValueMut<'a>,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<T: Kind> std::ops::Deref for TypedMut<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match T::of(&self.inner) {
            Some(t) => t,
            None => unreachable!("checked by get_mut_as, and a T cannot change type"),
        }
    }
}

impl<T: Kind> std::ops::DerefMut for TypedMut<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match T::of_mut(&mut self.inner) {
            Some(t) => t,
            None => unreachable!("checked by get_mut_as, and a T cannot change type"),
        }
    }
}

impl<T: Kind> TypedMut<'_, T> {
    /// Declares that nothing changed after all (see [`KeyMut::unchanged`]).
    pub fn unchanged(&mut self) {
        self.inner.unchanged();
    }

    /// Names the change's event (see [`ValueMut::set_event`]).
    pub fn set_event(&mut self, event: &'static str) {
        self.inner.set_event(event);
    }
}

/// Key `i` opened for a change in place as a `T`; `None` if it is missing or holds another
/// type.
pub fn get_mut_as<T: Kind>(keys: &mut dyn Keys, i: usize) -> Option<TypedMut<'_, T>> {
    let inner = keys.get_mut(i)?;
    T::of(&inner)?;
    Some(TypedMut {
        inner,
        _t: std::marker::PhantomData,
    })
}

/// Tells [`LocalKeys`] which undeclared keys it must not read although they live on its shard
/// (the runtime passes "locked by another transaction").
pub type HiddenFn<'a> = &'a dyn Fn(usize, &[u8]) -> bool;

/// A command's keys, addressed by their position in the command's key list.
pub trait Keys {
    /// How many keys the command has (positions `0..len`).
    fn len(&self) -> usize;
    /// Whether the command has no keys.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The name of key `i`.
    fn key(&self, i: usize) -> &[u8];
    /// The database of key `i`.
    fn db_of(&self, i: usize) -> usize;
    /// Reads key `i`.
    fn get(&mut self, i: usize) -> Option<&Entry>;
    /// Key `i`, to be changed in place.
    fn get_mut(&mut self, i: usize) -> Option<ValueMut<'_>>;
    /// Deletes key `i` and hands over its entry, moved rather than copied (RENAME, MOVE).
    fn take(&mut self, i: usize) -> Option<Entry>;
    /// Replaces key `i`.
    fn put(&mut self, i: usize, entry: Entry);
    /// Deletes key `i`; true if it existed.
    fn delete(&mut self, i: usize) -> bool;
    /// The time of this command, in Unix milliseconds.
    fn now(&self) -> u64;
    /// Randomness.
    fn rng(&mut self) -> &mut SmallRng;
    /// Encoding limits.
    fn config(&self) -> &ShardConfig;
    /// Reads key `key` of database `db`, which the command did not declare. Read-only: a
    /// command never changes an undeclared key.
    fn get_extra(&mut self, db: usize, key: &[u8]) -> Extra<'_>;
    /// The undeclared keys this run asked for and could not see, as `(db, key)` (may repeat).
    fn needed(&self) -> &[(usize, Bytes)];
    /// Whether some undeclared key was unavailable: the command must stop without a reply.
    fn missing(&self) -> bool {
        !self.needed().is_empty()
    }
}

/// Keys that all live on the shard the command runs on.
pub struct LocalKeys<'a> {
    shard: &'a mut Shard,
    /// The database of each key (most commands: all the selected one).
    dbs: Vec<usize>,
    keys: Vec<Bytes>,
    hidden: Option<HiddenFn<'a>>,
    needed: Vec<(usize, Bytes)>,
}

impl<'a> LocalKeys<'a> {
    /// The keys `keys` of database `db` of `shard`.
    pub fn new(shard: &'a mut Shard, db: usize, keys: Vec<Bytes>) -> Self {
        let dbs = vec![db; keys.len()];
        Self::with_dbs(shard, dbs, keys)
    }

    /// The keys `keys` of `shard`, key `i` in database `dbs[i]` (COPY ... DB n).
    pub fn with_dbs(shard: &'a mut Shard, dbs: Vec<usize>, keys: Vec<Bytes>) -> Self {
        debug_assert_eq!(dbs.len(), keys.len());
        LocalKeys {
            shard,
            dbs,
            keys,
            hidden: None,
            needed: Vec::new(),
        }
    }

    /// Treats the undeclared keys for which `hidden` is true as unavailable.
    pub fn hiding(mut self, hidden: HiddenFn<'a>) -> Self {
        self.hidden = Some(hidden);
        self
    }

    /// Consumes the view, giving back the undeclared keys it could not see.
    pub fn into_needed(self) -> Vec<(usize, Bytes)> {
        self.needed
    }
}

impl Keys for LocalKeys<'_> {
    fn len(&self) -> usize {
        self.keys.len()
    }
    fn db_of(&self, i: usize) -> usize {
        self.dbs[i]
    }
    fn key(&self, i: usize) -> &[u8] {
        &self.keys[i]
    }
    fn get(&mut self, i: usize) -> Option<&Entry> {
        let db = self.shard.db(self.dbs[i]);
        db.entry(&self.keys[i])
    }
    fn get_mut(&mut self, i: usize) -> Option<ValueMut<'_>> {
        let db = self.shard.db(self.dbs[i]);
        db.modify(&self.keys[i]).map(ValueMut::Stored)
    }
    fn take(&mut self, i: usize) -> Option<Entry> {
        let db = self.shard.db(self.dbs[i]);
        db.remove(&self.keys[i])
    }
    fn put(&mut self, i: usize, entry: Entry) {
        let db = self.shard.db(self.dbs[i]);
        db.insert_entry(&self.keys[i], entry);
    }
    fn delete(&mut self, i: usize) -> bool {
        let db = self.shard.db(self.dbs[i]);
        db.remove(&self.keys[i]).is_some()
    }
    fn now(&self) -> u64 {
        self.shard.now()
    }
    fn rng(&mut self) -> &mut SmallRng {
        &mut self.shard.rng
    }
    fn config(&self) -> &ShardConfig {
        &self.shard.config
    }
    fn get_extra(&mut self, db: usize, key: &[u8]) -> Extra<'_> {
        let shard = &*self.shard;
        if db >= shard.dbs.len() {
            return Extra::Absent;
        }
        let visible =
            shard_of(key, shard.n_shards) == shard.id && !self.hidden.is_some_and(|h| h(db, key));
        if !visible {
            self.needed.push((db, Bytes::copy_from_slice(key)));
            return Extra::Unavailable;
        }
        match self.shard.db(db).entry(key) {
            Some(e) => Extra::Found(e),
            None => Extra::Absent,
        }
    }
    fn needed(&self) -> &[(usize, Bytes)] {
        &self.needed
    }
}

/// Copies of keys that live on several shards, taken while they are locked.
pub struct FetchedKeys {
    keys: Vec<Bytes>,
    /// The database of each key.
    dbs: Vec<usize>,
    /// For each key position, its slot in `entries` (a key named twice has one slot).
    slot_of: Vec<usize>,
    entries: Vec<Option<Entry>>,
    dirty: Vec<bool>,
    /// Undeclared keys fetched for [`Keys::get_extra`]: name -> (db, slot in `entries`).
    extra: hashbrown::HashMap<Bytes, Vec<(usize, usize)>>,
    needed: Vec<(usize, Bytes)>,
    now: u64,
    rng: SmallRng,
    config: ShardConfig,
}

impl FetchedKeys {
    /// Builds the view from the fetched entry of every distinct key. `keys` is the command's
    /// key list and `slot_of[i]` the index in `entries` of key `i` (a key named twice, in the
    /// same database, has one slot).
    pub fn new(
        keys: Vec<Bytes>,
        dbs: Vec<usize>,
        slot_of: Vec<usize>,
        entries: Vec<Option<Entry>>,
        now: u64,
        rng: SmallRng,
        config: ShardConfig,
    ) -> Self {
        let dirty = vec![false; entries.len()];
        FetchedKeys {
            keys,
            dbs,
            slot_of,
            entries,
            dirty,
            extra: hashbrown::HashMap::new(),
            needed: Vec::new(),
            now,
            rng,
            config,
        }
    }

    /// Makes the undeclared keys `extra`, given as `(db, key, slot in entries)`, readable
    /// through [`Keys::get_extra`].
    pub fn with_extra(mut self, extra: Vec<(usize, Bytes, usize)>) -> Self {
        for (db, key, slot) in extra {
            self.extra.entry(key).or_default().push((db, slot));
        }
        self
    }

    /// The undeclared keys this run asked for and could not see.
    pub fn take_needed(&mut self) -> Vec<(usize, Bytes)> {
        std::mem::take(&mut self.needed)
    }

    /// Every distinct key slot's entry as the command left it, and whether it changed it.
    pub fn into_entries(self) -> Vec<(Option<Entry>, bool)> {
        self.entries.into_iter().zip(self.dirty).collect()
    }
}

impl Keys for FetchedKeys {
    fn len(&self) -> usize {
        self.keys.len()
    }
    fn db_of(&self, i: usize) -> usize {
        self.dbs[i]
    }
    fn key(&self, i: usize) -> &[u8] {
        &self.keys[i]
    }
    fn get(&mut self, i: usize) -> Option<&Entry> {
        self.entries[self.slot_of[i]].as_ref()
    }
    fn get_mut(&mut self, i: usize) -> Option<ValueMut<'_>> {
        let s = self.slot_of[i];
        self.dirty[s] = true;
        self.entries[s]
            .as_mut()
            .map(|e| ValueMut::Copy(&mut e.value))
    }
    fn take(&mut self, i: usize) -> Option<Entry> {
        let s = self.slot_of[i];
        self.dirty[s] = true;
        self.entries[s].take()
    }
    fn put(&mut self, i: usize, entry: Entry) {
        let s = self.slot_of[i];
        self.dirty[s] = true;
        self.entries[s] = Some(entry);
    }
    fn delete(&mut self, i: usize) -> bool {
        let s = self.slot_of[i];
        self.dirty[s] = true;
        self.entries[s].take().is_some()
    }
    fn now(&self) -> u64 {
        self.now
    }
    fn rng(&mut self) -> &mut SmallRng {
        &mut self.rng
    }
    fn config(&self) -> &ShardConfig {
        &self.config
    }
    fn get_extra(&mut self, db: usize, key: &[u8]) -> Extra<'_> {
        // A declared key is read through its own slot, so the command sees its own changes.
        let declared = (0..self.keys.len())
            .find(|&i| self.dbs[i] == db && self.keys[i] == key)
            .map(|i| self.slot_of[i]);
        let slot = declared.or_else(|| {
            self.extra
                .get(key)
                .and_then(|v| v.iter().find(|(d, _)| *d == db).map(|(_, s)| *s))
        });
        match slot {
            Some(s) => match &self.entries[s] {
                Some(e) => Extra::Found(e),
                None => Extra::Absent,
            },
            None => {
                self.needed.push((db, Bytes::copy_from_slice(key)));
                Extra::Unavailable
            }
        }
    }
    fn needed(&self) -> &[(usize, Bytes)] {
        &self.needed
    }
}

/// Takes the live entries of `keys` out of one shard for a transaction that holds them locked
/// (runs on that shard; see `Db::check_out`): they move to the coordinator instead of being
/// copied, and every one of them must come back through [`check_in`].
pub fn check_out(shard: &mut Shard, keys: &[(usize, Bytes)]) -> Vec<Option<Entry>> {
    keys.iter()
        .map(|(db, k)| shard.db(*db).check_out(k))
        .collect()
}

/// One key coming back from a transaction to the shard it was checked out of.
pub struct Returned {
    /// Its database.
    pub db: usize,
    /// The key.
    pub key: Bytes,
    /// What it holds now (`None`: it does not exist).
    pub entry: Option<Entry>,
    /// Whether the transaction changed it.
    pub changed: bool,
    /// Whether it existed when it was checked out.
    pub existed: bool,
}

/// Puts back on one shard the keys [`check_out`] took (runs on that shard): an unchanged key
/// as it was, without reporting anything; a changed one through the write path.
pub fn check_in(shard: &mut Shard, keys: Vec<Returned>) {
    for r in keys {
        let db = shard.db(r.db);
        match r.entry {
            Some(e) => db.check_in(&r.key, e, r.changed),
            None if r.changed && r.existed => db.checked_out_deleted(&r.key),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rustis_storage::string::StrValue;
    use rustis_storage::Value;

    fn entry(v: &str) -> Entry {
        Entry::new(Value::Str(StrValue::from_bytes(v.as_bytes())), None)
    }

    #[test]
    fn fetched_keys_share_a_slot_for_a_repeated_key() {
        let keys: Vec<Bytes> = vec!["a".into(), "b".into(), "a".into()];
        let mut f = FetchedKeys::new(
            keys,
            vec![0, 0, 0],
            vec![0, 1, 0],
            vec![Some(entry("1")), None],
            0,
            SmallRng::seed_from_u64(0),
            ShardConfig::default(),
        );
        assert!(f.delete(2));
        assert!(f.get(0).is_none());
        f.put(1, entry("2"));
        assert_eq!(
            f.into_entries(),
            vec![(None, true), (Some(entry("2")), true)]
        );
    }

    #[test]
    fn fetched_keys_see_declared_and_fetched_extra_keys_only() {
        let keys: Vec<Bytes> = vec!["l".into()];
        let mut f = FetchedKeys::new(
            keys,
            vec![0],
            vec![0],
            vec![Some(entry("x")), Some(entry("5")), None],
            0,
            SmallRng::seed_from_u64(0),
            ShardConfig::default(),
        )
        .with_extra(vec![(0, "w_1".into(), 1), (0, "w_2".into(), 2)]);
        assert_eq!(f.get_extra(0, b"l"), Extra::Found(&entry("x")));
        assert_eq!(f.get_extra(0, b"w_1"), Extra::Found(&entry("5")));
        assert_eq!(f.get_extra(0, b"w_2"), Extra::Absent);
        assert!(!f.missing());
        assert_eq!(f.get_extra(1, b"w_1"), Extra::Unavailable);
        assert_eq!(f.get_extra(0, b"w_3"), Extra::Unavailable);
        assert_eq!(f.take_needed(), vec![(1, "w_1".into()), (0, "w_3".into())]);
        // Reading undeclared keys changes nothing.
        assert!(f.into_entries().iter().all(|(_, changed)| !changed));
    }

    #[test]
    fn local_keys_see_their_own_shard_except_hidden_keys() {
        // Shard 1 of 2: one key it owns, one it does not.
        let mut shard = Shard::new(1, 2, 1);
        let mine = (0..100)
            .map(|i| format!("k{i}"))
            .find(|k| shard_of(k.as_bytes(), 2) == 1)
            .unwrap_or_default();
        let other = (0..100)
            .map(|i| format!("k{i}"))
            .find(|k| shard_of(k.as_bytes(), 2) == 0)
            .unwrap_or_default();
        shard.db(0).insert(mine.as_bytes(), entry("1").value, None);
        let hide_mine = |_: usize, k: &[u8]| k == b"never";
        let mut v = LocalKeys::new(&mut shard, 0, vec![]).hiding(&hide_mine);
        assert_eq!(v.get_extra(0, mine.as_bytes()), Extra::Found(&entry("1")));
        assert_eq!(v.get_extra(0, b"never"), Extra::Unavailable);
        assert_eq!(v.get_extra(0, other.as_bytes()), Extra::Unavailable);
        // A database that does not exist holds nothing.
        assert_eq!(v.get_extra(7, mine.as_bytes()), Extra::Absent);
        assert_eq!(
            v.into_needed(),
            vec![(0, Bytes::from("never")), (0, Bytes::from(other))]
        );
    }
}
