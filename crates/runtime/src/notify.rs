//! Keyspace notifications (`notify-keyspace-events`): every change of a key that Redis 7.0
//! announces is published as `__keyspace@<db>__:<key> <event>` and/or
//! `__keyevent@<db>__:<event> <key>`, with Redis's event names and classes.
//!
//! The changes come from the write path: while notifications are on, each thread's shard has a
//! [`KeyListener`] per database, which sees every change (`Change { db, key, kind, event }`) on
//! the thread where it happens, in order, and publishes from there (to its own subscribers at
//! once, to other threads' over the mesh, without waiting). Off, no listener is registered, so
//! writes pay nothing for it.
//!
//! Which event a change is follows from the command that made it. Whoever runs a command on a
//! shard (`worker::exec_on`, a cross-shard part, a blocked client being served) enters a
//! [`Context`] with its arguments; the listener reads the command name from it and maps the
//! change to Redis's event: `lpush` for a list LPUSH changed, `rename_from`/`rename_to` for the
//! two keys of RENAME, `del` for a key deleted, `expired` for a key whose time passed (with or
//! without a command), and so on. A key stored or changed that had no entry before also gets
//! `new` first (the write path calls `before_change` only for keys that existed).
//!
//! Classes: `g` generic, `$` string, `l` list, `s` set, `h` hash, `z` sorted set, `x` expired,
//! `e` evicted, `n` new key, `t` stream, `d` module (Rustis has no modules, so that class never
//! fires), `K`/`E` keyspace/keyevent channels, `A` = `g$lshzxetd`.
//! `m` (key misses) is refused: reads do not report misses yet.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::sync::atomic::Ordering;

use bytes::Bytes;
use rustis_commands::args::eq_ic;
use rustis_storage::{Change, ChangeKind, DbIndex, Entry, KeyListener, ListenerId};

use crate::worker::Worker;

pub(crate) const KEYSPACE: u32 = 1 << 0;
pub(crate) const KEYEVENT: u32 = 1 << 1;
const GENERIC: u32 = 1 << 2;
const STRING: u32 = 1 << 3;
const LIST: u32 = 1 << 4;
const SET: u32 = 1 << 5;
const HASH: u32 = 1 << 6;
const ZSET: u32 = 1 << 7;
const EXPIRED: u32 = 1 << 8;
const EVICTED: u32 = 1 << 9;
const STREAM: u32 = 1 << 10;
const KEY_MISS: u32 = 1 << 11;
const MODULE: u32 = 1 << 13;
const NEW: u32 = 1 << 14;
const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// Parses `notify-keyspace-events` as Redis does; `None` for a character that is no class.
pub(crate) fn parse_flags(s: &str) -> Option<u32> {
    let mut f = 0;
    for c in s.chars() {
        f |= match c {
            'A' => ALL,
            'g' => GENERIC,
            '$' => STRING,
            'l' => LIST,
            's' => SET,
            'h' => HASH,
            'z' => ZSET,
            'x' => EXPIRED,
            'e' => EVICTED,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            't' => STREAM,
            'm' => KEY_MISS,
            'd' => MODULE,
            'n' => NEW,
            _ => return None,
        };
    }
    Some(f)
}

/// Whether the flags ask for key-miss events, which are not delivered yet.
pub(crate) fn wants_key_misses(f: u32) -> bool {
    f & KEY_MISS != 0
}

/// The flags as CONFIG GET shows them (Redis's canonical order).
pub(crate) fn flags_to_string(f: u32) -> String {
    let mut s = String::new();
    if f & ALL == ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if f & bit != 0 {
                s.push(c);
            }
        }
    }
    if f & KEYSPACE != 0 {
        s.push('K');
    }
    if f & KEYEVENT != 0 {
        s.push('E');
    }
    if f & KEY_MISS != 0 {
        s.push('m');
    }
    s
}

/// Whether these flags can deliver anything at all: a channel kind and a class.
fn active(f: u32) -> bool {
    f & (KEYSPACE | KEYEVENT) != 0 && f & !(KEYSPACE | KEYEVENT) != 0
}

// ---- Per thread. ----

#[derive(Default)]
struct State {
    /// This thread's worker, which the listener has no other way to reach.
    worker: Weak<Worker>,
    /// The listener registered on this thread's shard, while notifications are on.
    listener: Option<ListenerId>,
    /// The arguments of the command running on this shard, if any.
    args: Option<Vec<Bytes>>,
    /// Keys that `before_change` announced and no `on_change` has followed yet: they existed.
    /// A record outlives its command when a transaction checked a key out and put it back
    /// unchanged (no `on_change` follows); such a record is harmless, as the key still exists,
    /// and every record of a key goes when the key does (deleted, expired, evicted, flushed).
    existed: Vec<(DbIndex, Vec<u8>)>,
    /// Events already published for a key by the running command (`(key, event)`): a pop
    /// that empties a collection may be reported as a change and a deletion, or as a deletion
    /// alone, and its event is sent once either way.
    sent: Vec<(Vec<u8>, &'static str)>,
    /// Events a list move holds back until its destination's (see `on_change`).
    deferred: Vec<(DbIndex, u32, &'static str, Vec<u8>)>,
}

/// At most this many keys are remembered between `before_change` and `on_change`.
const MAX_EXISTED: usize = 1024;

thread_local! {
    static STATE: RefCell<State> = RefCell::default();
}

/// Sets this thread up: remembers its worker, and registers the listener if notifications are
/// on.
pub(crate) fn install(w: &Rc<Worker>) {
    STATE.with(|s| s.borrow_mut().worker = Rc::downgrade(w));
    sync(w);
}

/// Registers or removes this thread's listener to match `notify-keyspace-events` (at startup
/// and after CONFIG SET, on every thread).
pub(crate) fn sync(w: &Worker) {
    let on = active(w.shared.pubsub.notify.load(Ordering::Relaxed));
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        match (on, s.listener) {
            (true, None) => {
                let id = w
                    .shard
                    .borrow_mut()
                    .add_listener(|db| Box::new(Notifier { db }));
                s.listener = Some(id);
            }
            (false, Some(id)) => {
                w.shard.borrow_mut().remove_listener(id);
                s.listener = None;
            }
            _ => {}
        }
    });
}

/// The command running on this thread's shard, for the listener; leaving it (drop) ends it.
pub(crate) struct Context {
    entered: bool,
    /// The command this one runs inside of, if any (restored on drop).
    outer: Option<Vec<Bytes>>,
}

impl Context {
    /// Enters the command `args` (`args[0]` is its name). Costs nothing while notifications are
    /// off.
    pub(crate) fn enter(args: &[Bytes]) -> Context {
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            if s.listener.is_none() {
                return Context {
                    entered: false,
                    outer: None,
                };
            }
            let outer = s.args.replace(args.to_vec());
            Context {
                entered: true,
                outer,
            }
        })
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        if self.entered {
            let outer = self.outer.take();
            if outer.is_none() {
                flush_deferred();
            }
            STATE.with(|s| {
                let mut s = s.borrow_mut();
                if outer.is_none() {
                    s.sent.clear();
                }
                s.args = outer;
            });
        }
    }
}

/// The arguments to carry to the parts of a cross-shard command, so that they can enter its
/// [`Context`] where they run; `None` while notifications are off.
pub(crate) fn command_for_parts(w: &Worker, args: &[Bytes]) -> Option<std::sync::Arc<Vec<Bytes>>> {
    active(w.shared.pubsub.notify.load(Ordering::Relaxed))
        .then(|| std::sync::Arc::new(args.to_vec()))
}

/// The listener of one database.
struct Notifier {
    db: DbIndex,
}

impl KeyListener for Notifier {
    fn before_change(&mut self, db: DbIndex, key: &[u8], _old: &Entry) {
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            if s.existed.len() >= MAX_EXISTED {
                // The oldest half goes (more keys than this checked out at once by one
                // transaction is the only way to get here outside a flush, which clears them).
                s.existed.drain(..MAX_EXISTED / 2);
            }
            s.existed.push((db, key.to_vec()));
        });
    }

    fn on_change(&mut self, change: &Change<'_>) {
        let db = change.db;
        debug_assert_eq!(db, self.db);
        if matches!(change.kind, ChangeKind::Flushed | ChangeKind::Swapped(_)) {
            STATE.with(|s| {
                let mut s = s.borrow_mut();
                s.existed.clear();
            });
            return;
        }
        let key = change.key;
        let (existed, args) = STATE.with(|s| {
            let mut s = s.borrow_mut();
            let gone = matches!(
                change.kind,
                ChangeKind::Deleted | ChangeKind::Expired | ChangeKind::Evicted
            );
            let existed = if gone {
                s.existed.retain(|(d, k)| !(*d == db && k == key));
                true
            } else {
                match s.existed.iter().position(|(d, k)| *d == db && k == key) {
                    Some(i) => {
                        s.existed.swap_remove(i);
                        true
                    }
                    None => false,
                }
            };
            (existed, s.args.clone())
        });
        let args = args.unwrap_or_default();
        let mut events: Vec<(u32, &'static str)> = Vec::with_capacity(3);
        match change.kind {
            ChangeKind::Set | ChangeKind::Modified => {
                // RENAME and COPY delete their destination and add it again: `new` even when
                // it existed, as in Redis.
                if !existed || replaces_destination(&args, key) {
                    events.push((NEW, "new"));
                }
                if let Some(e) = change_event(&args, key, change.event) {
                    events.extend(e);
                }
            }
            ChangeKind::Deleted => {
                // A collection emptied by a pop-like command: its event, unless its change
                // already sent it, then `del`.
                let first = deleted_event(&args, key);
                let sent = STATE.with(|s| {
                    let s = s.borrow();
                    first
                        .iter()
                        .map(|(_, e)| s.sent.iter().any(|(k, se)| k == key && se == e))
                        .collect::<Vec<bool>>()
                });
                events.extend(
                    first
                        .into_iter()
                        .zip(sent)
                        .filter(|(_, sent)| !sent)
                        .map(|(e, _)| e),
                );
            }
            ChangeKind::ExpireSet => events.push((GENERIC, "expire")),
            ChangeKind::ExpireCleared => events.push((GENERIC, "persist")),
            ChangeKind::Expired => events.push((EXPIRED, "expired")),
            ChangeKind::Evicted => events.push((EVICTED, "evicted")),
            ChangeKind::Flushed | ChangeKind::Swapped(_) => {}
        }
        // A list move announces the destination's `new` and push before the source's pop
        // (and its `del`), and RENAME the destination's `new`, then `rename_from`, then
        // `rename_to`, as Redis does, whichever key the command changed first.
        // MOVE's two keys have one name in two databases: its source is the one deleted.
        let (src, dst) = (arg(&args, 1), arg(&args, 2));
        let is_move = name(&args) == "move";
        let renaming = (is_rename(&args) && src != dst) || is_move;
        let moving = (is_list_move(&args) && src != dst) || renaming;
        let (at_src, at_dst) = if is_move {
            let deleted = change.kind == ChangeKind::Deleted;
            (deleted, !deleted)
        } else {
            (key == src, key == dst)
        };
        let defer = moving && at_src;
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            for (_, e) in &events {
                if s.args.is_some() {
                    s.sent.push((key.to_vec(), e));
                }
            }
            if defer && s.args.is_some() {
                for (c, e) in events.drain(..) {
                    s.deferred.push((db, c, e, key.to_vec()));
                }
            }
        });
        let mut flushed = false;
        for (class, event) in events {
            if renaming && at_dst && event != "new" && !flushed {
                flush_deferred();
                flushed = true;
            }
            emit(db, class, event, key);
        }
        if moving && at_dst && !flushed {
            flush_deferred();
        }
    }
}

fn is_rename(args: &[Bytes]) -> bool {
    matches!(name(args).as_str(), "rename" | "renamenx")
}

/// Whether `key` is the destination of a RENAME or COPY, which Redis deletes and adds again.
fn replaces_destination(args: &[Bytes], key: &[u8]) -> bool {
    matches!(name(args).as_str(), "rename" | "renamenx" | "copy") && key == arg(args, 2)
}

/// Sends the events a list move held back.
fn flush_deferred() {
    let held = STATE.with(|s| std::mem::take(&mut s.borrow_mut().deferred));
    for (db, class, event, key) in held {
        emit(db, class, event, &key);
    }
}

fn is_list_move(args: &[Bytes]) -> bool {
    matches!(
        name(args).as_str(),
        "lmove" | "blmove" | "rpoplpush" | "brpoplpush"
    )
}

/// Publishes one event on the channels the flags ask for.
fn emit(db: DbIndex, class: u32, event: &'static str, key: &[u8]) {
    let Some(w) = STATE.with(|s| s.borrow().worker.upgrade()) else {
        return;
    };
    let flags = w.shared.pubsub.notify.load(Ordering::Relaxed);
    if flags & class == 0 {
        return;
    }
    if flags & KEYSPACE != 0 {
        let mut ch = format!("__keyspace@{db}__:").into_bytes();
        ch.extend_from_slice(key);
        crate::pubsub::publish_detached(&w, Bytes::from(ch), Bytes::from_static(event.as_bytes()));
    }
    if flags & KEYEVENT != 0 {
        let ch = format!("__keyevent@{db}__:{event}");
        crate::pubsub::publish_detached(&w, Bytes::from(ch), Bytes::copy_from_slice(key));
    }
}

fn name(args: &[Bytes]) -> String {
    args.first()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .unwrap_or_default()
}

fn arg(args: &[Bytes], i: usize) -> &[u8] {
    args.get(i).map_or(&b""[..], |a| &a[..])
}

fn has_word(args: &[Bytes], from: usize, words: &[&str]) -> bool {
    args.iter()
        .skip(from)
        .any(|a| words.iter().any(|w| eq_ic(a, w)))
}

/// The pop event of a list or sorted-set command from its LEFT/RIGHT or MIN/MAX argument.
fn side(args: &[Bytes], left: &'static str, right: &'static str, lw: &str) -> &'static str {
    if args.iter().skip(1).any(|a| eq_ic(a, lw)) {
        left
    } else {
        right
    }
}

/// The events of a key stored or changed by the command `args`; `event` is the one the command
/// named on the change itself, where its events depend on what it did (see the streams).
fn change_event(
    args: &[Bytes],
    key: &[u8],
    event: Option<&'static str>,
) -> Option<Vec<(u32, &'static str)>> {
    let cmd = name(args);
    let one = |c: u32, e: &'static str| Some(vec![(c, e)]);
    match cmd.as_str() {
        "set" => {
            let mut v = vec![(STRING, "set")];
            if has_word(args, 3, &["ex", "px", "exat", "pxat"]) {
                v.push((GENERIC, "expire"));
            }
            Some(v)
        }
        "setex" | "psetex" => Some(vec![(STRING, "set"), (GENERIC, "expire")]),
        "setnx" | "getset" | "mset" | "msetnx" | "bitop" => one(STRING, "set"),
        "append" => one(STRING, "append"),
        "setrange" => one(STRING, "setrange"),
        "incr" | "decr" | "incrby" | "decrby" => one(STRING, "incrby"),
        "incrbyfloat" => one(STRING, "incrbyfloat"),
        "setbit" | "bitfield" => one(STRING, "setbit"),
        "pfadd" | "pfmerge" => one(STRING, "pfadd"),
        "lpush" | "lpushx" => one(LIST, "lpush"),
        "rpush" | "rpushx" => one(LIST, "rpush"),
        "lpop" | "blpop" => one(LIST, "lpop"),
        "rpop" | "brpop" => one(LIST, "rpop"),
        "lmpop" | "blmpop" => one(LIST, side(args, "lpop", "rpop", "left")),
        "linsert" => one(LIST, "linsert"),
        "lset" => one(LIST, "lset"),
        "ltrim" => one(LIST, "ltrim"),
        "lrem" => one(LIST, "lrem"),
        "lmove" | "blmove" | "rpoplpush" | "brpoplpush" => {
            let (from, to) = match cmd.as_str() {
                "rpoplpush" | "brpoplpush" => ("rpop", "lpush"),
                _ => (
                    if eq_ic(arg(args, 3), "left") {
                        "lpop"
                    } else {
                        "rpop"
                    },
                    if eq_ic(arg(args, 4), "left") {
                        "lpush"
                    } else {
                        "rpush"
                    },
                ),
            };
            let mut v = Vec::new();
            if key == arg(args, 1) {
                v.push((LIST, from));
            }
            if key == arg(args, 2) {
                v.push((LIST, to));
            }
            Some(v)
        }
        "sort" => one(LIST, "sortstore"),
        "sadd" => one(SET, "sadd"),
        "srem" => one(SET, "srem"),
        "spop" => one(SET, "spop"),
        "smove" => {
            if key == arg(args, 1) {
                one(SET, "srem")
            } else {
                one(SET, "sadd")
            }
        }
        "sinterstore" => one(SET, "sinterstore"),
        "sunionstore" => one(SET, "sunionstore"),
        "sdiffstore" => one(SET, "sdiffstore"),
        "hset" | "hmset" | "hsetnx" => one(HASH, "hset"),
        "hincrby" => one(HASH, "hincrby"),
        "hincrbyfloat" => one(HASH, "hincrbyfloat"),
        "hdel" => one(HASH, "hdel"),
        "zadd" => {
            // The options come before the first score.
            let incr = args
                .iter()
                .skip(2)
                .take_while(|a| {
                    ["nx", "xx", "gt", "lt", "ch", "incr"]
                        .iter()
                        .any(|w| eq_ic(a, w))
                })
                .any(|a| eq_ic(a, "incr"));
            one(ZSET, if incr { "zincr" } else { "zadd" })
        }
        "zincrby" => one(ZSET, "zincr"),
        "zrem" => one(ZSET, "zrem"),
        "zremrangebyscore" => one(ZSET, "zremrangebyscore"),
        "zremrangebyrank" => one(ZSET, "zremrangebyrank"),
        "zremrangebylex" => one(ZSET, "zremrangebylex"),
        "zpopmin" | "bzpopmin" => one(ZSET, "zpopmin"),
        "zpopmax" | "bzpopmax" => one(ZSET, "zpopmax"),
        "zmpop" | "bzmpop" => one(ZSET, side(args, "zpopmin", "zpopmax", "min")),
        "zunionstore" => one(ZSET, "zunionstore"),
        "zinterstore" => one(ZSET, "zinterstore"),
        "zdiffstore" => one(ZSET, "zdiffstore"),
        "zrangestore" => one(ZSET, "zrangestore"),
        // Streams. XADD whose MAXLEN/MINID removed entries names its change `xtrim`: both
        // events fire, as in Redis. XREADGROUP, XCLAIM and XAUTOCLAIM fire nothing of their
        // own, only `xgroup-createconsumer` when they created the consumer (the command names
        // its change so). A stream checked out to a command whose keys span threads (an
        // XREADGROUP over streams of several threads) is announced by the command's name alone,
        // so a consumer it creates there fires no event.
        "xadd" if event == Some("xtrim") => Some(vec![(STREAM, "xadd"), (STREAM, "xtrim")]),
        "xadd" => one(STREAM, "xadd"),
        "xreadgroup" | "xclaim" | "xautoclaim" => match event {
            Some("xgroup-createconsumer") => one(STREAM, "xgroup-createconsumer"),
            _ => None,
        },
        "xtrim" => one(STREAM, "xtrim"),
        "xdel" => one(STREAM, "xdel"),
        "xsetid" => one(STREAM, "xsetid"),
        "xgroup" => match arg(args, 1).to_ascii_lowercase().as_slice() {
            b"create" => one(STREAM, "xgroup-create"),
            b"setid" => one(STREAM, "xgroup-setid"),
            b"destroy" => one(STREAM, "xgroup-destroy"),
            b"createconsumer" => one(STREAM, "xgroup-createconsumer"),
            b"delconsumer" => one(STREAM, "xgroup-delconsumer"),
            _ => None,
        },
        "rename" | "renamenx" => one(GENERIC, "rename_to"),
        "move" => one(GENERIC, "move_to"),
        "copy" => one(GENERIC, "copy_to"),
        _ => None,
    }
}

/// The events of a key deleted by the command `args`: `del`, except the source of a RENAME or
/// MOVE (`rename_from`, `move_from`); a collection emptied by a pop-like command (LPOP, SPOP,
/// HDEL, ZREM, a move's source, ...) gets that command's event first, as Redis sends both.
fn deleted_event(args: &[Bytes], key: &[u8]) -> Vec<(u32, &'static str)> {
    let cmd = name(args);
    match cmd.as_str() {
        "rename" | "renamenx" => vec![(GENERIC, "rename_from")],
        "move" => vec![(GENERIC, "move_from")],
        "lpop" | "rpop" | "blpop" | "brpop" | "lmpop" | "blmpop" | "lrem" | "ltrim" | "srem"
        | "spop" | "hdel" | "zrem" | "zremrangebyscore" | "zremrangebyrank" | "zremrangebylex"
        | "zpopmin" | "zpopmax" | "bzpopmin" | "bzpopmax" | "zmpop" | "bzmpop" | "lmove"
        | "blmove" | "rpoplpush" | "brpoplpush" | "smove" => {
            let mut v = change_event(args, key, None).unwrap_or_default();
            // A move's source is only popped from.
            if key == arg(args, 1) {
                v.retain(|(_, e)| !e.ends_with("push") && *e != "sadd");
            }
            v.push((GENERIC, "del"));
            v
        }
        _ => vec![(GENERIC, "del")],
    }
}
