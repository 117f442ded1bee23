//! Every kind of key modification a command makes reaches the shard's change listeners: the
//! commands run from the command table on a bare shard, as the runtime runs them, with a
//! listener that counts the changes per key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use rustis_commands::txn::{check_in, check_out, FetchedKeys, LocalKeys, Returned};
use rustis_commands::{Out, Registry, Run, ShardCtx};
use rustis_storage::{Change, ChangeKind, DbIndex, KeyListener, Shard};

type Counts = HashMap<(DbIndex, Vec<u8>, ChangeKind), usize>;
type Events = Vec<(Vec<u8>, &'static str)>;

/// Counts each `(db, key, kind)` it hears of, and keeps the command-level event names.
struct Counter(Arc<Mutex<Counts>>, Arc<Mutex<Events>>);

impl KeyListener for Counter {
    fn on_change(&mut self, c: &Change<'_>) {
        *self
            .0
            .lock()
            .unwrap()
            .entry((c.db, c.key.to_vec(), c.kind))
            .or_default() += 1;
        if let Some(e) = c.event {
            self.1.lock().unwrap().push((c.key.to_vec(), e));
        }
    }
}

struct World {
    reg: Registry,
    shard: Shard,
    counts: Arc<Mutex<Counts>>,
    events: Arc<Mutex<Events>>,
}

impl World {
    fn new() -> World {
        let mut shard = Shard::new(0, 1, 16);
        shard.set_now(1_000_000);
        let counts = Arc::new(Mutex::new(Counts::new()));
        let events = Arc::new(Mutex::new(Events::new()));
        let (c, e) = (counts.clone(), events.clone());
        shard.add_listener(move |_| Box::new(Counter(c.clone(), e.clone())));
        World {
            reg: Registry::new(),
            shard,
            counts,
            events,
        }
    }

    /// Runs one command on database `db` as the runtime's inline path does; returns the reply.
    fn run(&mut self, db: DbIndex, args: &[&str]) -> String {
        let args: Vec<Bytes> = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        let spec = self.reg.lookup(&args[0]).expect("known command");
        let mut out = Out::new(false);
        match spec.run {
            Run::Shard(f) => f(&mut ShardCtx::new(&mut self.shard, db), &args, &mut out),
            Run::MultiKey(ops) => {
                let pos = spec.key_positions(&args).unwrap();
                let part = (ops.per_shard)(&mut ShardCtx::new(&mut self.shard, db), &args, &pos);
                (ops.merge)(&args, vec![(pos, part)], &mut out);
            }
            Run::Fanout(ops) => {
                let part = (ops.per_shard)(&mut ShardCtx::new(&mut self.shard, db), &args);
                (ops.merge)(&args, vec![part], &mut out);
            }
            Run::Txn(f) => {
                let pos = spec.key_positions(&args).unwrap();
                let dbs = spec.dbs_of_keys(&args, db, pos.len()).unwrap();
                let keys = pos.iter().map(|&i| args[i].clone()).collect();
                let mut view = LocalKeys::with_dbs(&mut self.shard, dbs, keys);
                f(&mut view, &args, &mut out);
            }
            Run::Conn(_) => panic!("not a keyspace command"),
        }
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    /// Runs a `Txn` command on the cross-shard path: check the keys out, run on them, check them
    /// back in.
    fn run_fetched(&mut self, db: DbIndex, args: &[&str]) -> String {
        let args: Vec<Bytes> = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        let spec = self.reg.lookup(&args[0]).expect("known command");
        let Run::Txn(f) = spec.run else {
            panic!("not a Txn command");
        };
        let pos = spec.key_positions(&args).unwrap();
        let keys: Vec<Bytes> = pos.iter().map(|&i| args[i].clone()).collect();
        let dbs = vec![db; keys.len()];
        let unique: Vec<(DbIndex, Bytes)> = keys.iter().map(|k| (db, k.clone())).collect();
        let entries = check_out(&mut self.shard, &unique);
        let existed: Vec<bool> = entries.iter().map(Option::is_some).collect();
        let slot_of = (0..keys.len()).collect();
        let mut view = FetchedKeys::new(
            keys,
            dbs,
            slot_of,
            entries,
            self.shard.now(),
            SmallRng::seed_from_u64(1),
            self.shard.config.clone(),
        );
        let mut out = Out::new(false);
        f(&mut view, &args, &mut out);
        let back = view
            .into_entries()
            .into_iter()
            .enumerate()
            .map(|(slot, (entry, changed))| Returned {
                db: unique[slot].0,
                key: unique[slot].1.clone(),
                entry,
                changed,
                existed: existed[slot],
            })
            .collect();
        check_in(&mut self.shard, back);
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    /// How many changes of `kind` to `key` of `db` were heard since the last call, then forgets
    /// all counts.
    fn take(&self) -> Counts {
        std::mem::take(&mut self.counts.lock().unwrap())
    }
}

fn one(db: DbIndex, key: &str, kind: ChangeKind) -> Counts {
    Counts::from([((db, key.as_bytes().to_vec(), kind), 1)])
}

#[test]
fn every_kind_of_command_change_reaches_the_listener() {
    use ChangeKind::*;
    let mut w = World::new();
    let cases: Vec<(&[&str], Counts)> = vec![
        (&["SET", "s", "1"], one(0, "s", Set)),
        (&["APPEND", "s", "2"], one(0, "s", Modified)),
        (&["INCR", "s"], one(0, "s", Modified)),
        (&["INCR", "n"], one(0, "n", Set)),
        (&["LPUSH", "l", "a"], one(0, "l", Set)),
        (&["LPUSH", "l", "b"], one(0, "l", Modified)),
        (&["RPOP", "l"], one(0, "l", Modified)),
        (&["HSET", "h", "f", "v"], one(0, "h", Set)),
        (&["HSET", "h", "g", "v"], one(0, "h", Modified)),
        (&["SADD", "st", "m"], one(0, "st", Set)),
        (&["ZADD", "z", "1", "m"], one(0, "z", Set)),
        (&["SETBIT", "b", "7", "1"], one(0, "b", Set)),
        (&["SETBIT", "b", "7", "0"], one(0, "b", Modified)),
        (&["DEL", "b"], one(0, "b", Deleted)),
        (&["UNLINK", "n"], one(0, "n", Deleted)),
        (&["EXPIRE", "s", "100"], one(0, "s", ExpireSet)),
        (&["PERSIST", "s"], one(0, "s", ExpireCleared)),
        // A command that changes nothing tells nobody.
        (&["PERSIST", "s"], Counts::new()),
        (&["LREM", "l", "0", "nothing"], Counts::new()),
        (&["SADD", "st", "m"], Counts::new()),
        (&["SREM", "st", "nothing"], Counts::new()),
        (&["HDEL", "h", "nothing"], Counts::new()),
        (&["ZREM", "z", "nothing"], Counts::new()),
        (&["ZADD", "z", "NX", "5", "m"], Counts::new()),
        (&["GET", "s"], Counts::new()),
        // The last element popped: the change, then the deletion.
        (
            &["RPOP", "l"],
            Counts::from([
                ((0, b"l".to_vec(), Modified), 1),
                ((0, b"l".to_vec(), Deleted), 1),
            ]),
        ),
        (
            &["RENAME", "h", "h2"],
            Counts::from([
                ((0, b"h".to_vec(), Deleted), 1),
                ((0, b"h2".to_vec(), Set), 1),
            ]),
        ),
        (
            &["MOVE", "h2", "3"],
            Counts::from([
                ((0, b"h2".to_vec(), Deleted), 1),
                ((3, b"h2".to_vec(), Set), 1),
            ]),
        ),
        (&["COPY", "st", "st2"], one(0, "st2", Set)),
        (
            &["SMOVE", "st", "st3", "m"],
            Counts::from([
                ((0, b"st".to_vec(), Modified), 1),
                ((0, b"st".to_vec(), Deleted), 1),
                ((0, b"st3".to_vec(), Set), 1),
            ]),
        ),
    ];
    for (args, want) in cases {
        w.run(0, args);
        assert_eq!(w.take(), want, "{args:?}");
    }

    // Lazy expiry: a read after the TTL.
    w.run(0, &["SET", "t", "1", "PX", "100"]);
    w.take();
    w.shard.set_now(1_000_200);
    assert_eq!(w.run(0, &["GET", "t"]), "$-1\r\n");
    assert_eq!(w.take(), one(0, "t", Expired));

    // Active expiry: nobody reads the key.
    w.run(0, &["SET", "u", "1", "PX", "100"]);
    w.take();
    w.shard
        .active_expire_cycle(1_000_400, Duration::from_secs(1));
    assert_eq!(w.take(), one(0, "u", Expired));

    // FLUSHDB, FLUSHALL, SWAPDB.
    w.run(0, &["FLUSHDB"]);
    assert_eq!(w.take(), one(0, "", Flushed));
    w.run(0, &["FLUSHALL"]);
    let all = w.take();
    assert_eq!(all.len(), 16);
    assert!((0..16).all(|db| all.get(&(db, Vec::new(), Flushed)) == Some(&1)));
    w.run(0, &["SWAPDB", "0", "1"]);
    assert_eq!(
        w.take(),
        Counts::from([
            ((0, Vec::new(), Swapped(1)), 1),
            ((1, Vec::new(), Swapped(0)), 1)
        ])
    );

    // The cross-shard path: copies fetched, the command run on them, written back.
    w.run(0, &["RPUSH", "src", "a", "b"]);
    w.take();
    assert_eq!(
        w.run_fetched(0, &["LMOVE", "src", "dst", "LEFT", "RIGHT"]),
        "$1\r\na\r\n"
    );
    assert_eq!(
        w.take(),
        Counts::from([
            ((0, b"src".to_vec(), Set), 1),
            ((0, b"dst".to_vec(), Set), 1)
        ])
    );
    assert_eq!(w.run_fetched(0, &["RENAME", "src", "dst"]), "+OK\r\n");
    assert_eq!(
        w.take(),
        Counts::from([
            ((0, b"src".to_vec(), Deleted), 1),
            ((0, b"dst".to_vec(), Set), 1)
        ])
    );
}

#[test]
fn changes_carry_the_command_event_name_where_the_command_gives_one() {
    let mut w = World::new();
    for args in [
        &["LPUSH", "l", "a"][..],
        &["RPUSH", "l", "b"],
        &["HSET", "h", "f", "v"],
        &["SADD", "s", "m"],
        &["APPEND", "a", "x"],
        &["INCR", "n"],
    ] {
        w.run(0, args);
    }
    let got = std::mem::take(&mut *w.events.lock().unwrap());
    let want: Events = [
        ("l", "lpush"),
        ("l", "rpush"),
        ("h", "hset"),
        ("s", "sadd"),
        ("a", "append"),
        ("n", "incrby"),
    ]
    .iter()
    .map(|(k, e)| (k.as_bytes().to_vec(), *e))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn watched_keys_see_a_new_version_after_each_touching_command() {
    let mut w = World::new();
    let mut last = w.shard.db(0).watch(b"k");
    let mut touched = |w: &mut World, args: &[&str], want: bool| {
        w.run(0, args);
        let v = w.shard.db(0).version(b"k").unwrap();
        assert_eq!(v != last, want, "{args:?}");
        last = v;
    };
    touched(&mut w, &["SET", "other", "1"], false);
    touched(&mut w, &["SET", "k", "1"], true);
    touched(&mut w, &["GET", "k"], false);
    touched(&mut w, &["APPEND", "k", "1"], true);
    touched(&mut w, &["PEXPIRE", "k", "50"], true);
    touched(&mut w, &["DEL", "k"], true);
    touched(&mut w, &["SET", "k", "again"], true);
    touched(&mut w, &["RENAME", "k", "k2"], true);
    touched(&mut w, &["RENAME", "k2", "k"], true);
    touched(&mut w, &["FLUSHDB"], true);
    touched(&mut w, &["FLUSHDB"], false);
    touched(&mut w, &["SET", "k", "1", "PX", "10"], true);
    // Expired but not yet reclaimed: reading the version reclaims it, as EXEC must.
    w.shard.set_now(1_000_100);
    touched(&mut w, &["DBSIZE"], true);
    touched(&mut w, &["DBSIZE"], false);
}
