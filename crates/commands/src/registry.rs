//! The command table: one spec row per command, and how dispatch finds it.
//!
//! A spec says everything dispatch needs before running a command: its arity (Redis's sign
//! rule: negative means "at least"), its flags, where its keys are, and how it runs
//! ([`Run`]): on the one shard that owns its key, split over several shards, on every shard,
//! as a read-modify-write over keys that may live on different shards, or on the connection.

use std::any::Any;

use bytes::Bytes;
use hashbrown::HashMap;
use rustis_resp::Out;

use crate::ctx::ShardCtx;
use crate::txn::Keys;

/// The result a shard sends back for its part of a multi-shard command. Only cross-shard and
/// all-shard commands use it, so the box is not on the single-key path.
pub type Partial = Box<dyn Any + Send>;

/// A command that runs on the shard owning its key (or the local shard when it has no key).
pub type ShardFn = fn(&mut ShardCtx, &[Bytes], &mut Out);

/// A read-modify-write over several keys: it sees every key through [`Keys`], whether they
/// live on one shard or several. Dispatch locks the keys first, so it is atomic.
pub type TxnFn = fn(&mut dyn Keys, &[Bytes], &mut Out);

/// Builds a split command's reply from each shard's key positions and part.
pub type MergeFn = fn(&[Bytes], Vec<(Vec<usize>, Partial)>, &mut Out);

/// An argument check run before routing; `Err` holds the whole error text.
pub type PrecheckFn = fn(&[Bytes]) -> Result<(), String>;

/// A command whose keys are split by shard: each shard runs `per_shard` on the key positions
/// it owns, and `merge` builds the reply from the parts (in the order the positions came).
pub struct MultiKeyOps {
    /// Runs on one shard with the argument positions of the keys it owns.
    pub per_shard: fn(&mut ShardCtx, &[Bytes], &[usize]) -> Partial,
    /// Builds the reply from each shard's key positions and part.
    pub merge: MergeFn,
}

/// A command that runs on every shard (DBSIZE, FLUSHDB, KEYS): each part, then one merge.
pub struct FanoutOps {
    /// Runs on one shard.
    pub per_shard: fn(&mut ShardCtx, &[Bytes]) -> Partial,
    /// Builds the reply from every shard's part, in shard order.
    pub merge: fn(&[Bytes], Vec<Partial>, &mut Out),
}

/// Commands that act on the connection or the whole server; the runtime carries them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnCmd {
    /// `PING [message]`
    Ping,
    /// `ECHO message`
    Echo,
    /// `QUIT`
    Quit,
    /// `HELLO [protover [AUTH user pass] [SETNAME name]]`
    Hello,
    /// `SELECT index`
    Select,
    /// `CLIENT subcommand ...`
    Client,
    /// `COMMAND [subcommand ...]`
    Command,
    /// `INFO [section ...]`
    Info,
    /// `CONFIG subcommand ...`
    Config,
    /// `SHUTDOWN [NOSAVE|SAVE] ...`
    Shutdown,
    /// `RESET`
    Reset,
}

/// How a command runs.
pub enum Run {
    /// On the shard owning the key at `first_key` (the local shard if it has no key).
    Shard(ShardFn),
    /// Split by shard, atomically when it spans several.
    MultiKey(&'static MultiKeyOps),
    /// On every shard.
    Fanout(&'static FanoutOps),
    /// Read-modify-write over its keys, atomically, wherever they live.
    Txn(TxnFn),
    /// On the connection, by the runtime.
    Conn(ConnCmd),
}

/// Command flags, as COMMAND INFO lists them.
pub mod flags {
    /// May modify the keyspace.
    pub const WRITE: u32 = 1 << 0;
    /// Only reads.
    pub const READONLY: u32 = 1 << 1;
    /// May grow memory use.
    pub const DENYOOM: u32 = 1 << 2;
    /// Administrative.
    pub const ADMIN: u32 = 1 << 3;
    /// Pub/sub.
    pub const PUBSUB: u32 = 1 << 4;
    /// Not allowed in scripts.
    pub const NOSCRIPT: u32 = 1 << 5;
    /// May block the client.
    pub const BLOCKING: u32 = 1 << 6;
    /// Allowed while loading.
    pub const LOADING: u32 = 1 << 7;
    /// Allowed on a stale replica.
    pub const STALE: u32 = 1 << 8;
    /// O(1) or O(log n).
    pub const FAST: u32 = 1 << 9;
    /// Allowed before AUTH.
    pub const NO_AUTH: u32 = 1 << 10;
    /// Not allowed inside MULTI.
    pub const NO_MULTI: u32 = 1 << 11;
    /// Keys are found by parsing the arguments.
    pub const MOVABLE_KEYS: u32 = 1 << 12;
    /// Not shown to MONITOR.
    pub const SKIP_MONITOR: u32 = 1 << 13;
    /// Not recorded in the slow log.
    pub const SKIP_SLOWLOG: u32 = 1 << 14;
    /// Allowed while a script is busy.
    pub const ALLOW_BUSY: u32 = 1 << 15;
    /// Not shown by COMMAND INFO: the command may read keys it does not declare
    /// (`Keys::get_extra`, SORT's BY/GET patterns). Dispatch sends such a command to another
    /// shard only as the last of a batch, so that if it has to run again with more keys, no
    /// later command of the pipeline has run before it.
    pub const UNDECLARED_KEYS: u32 = 1 << 31;

    /// Flag names in COMMAND INFO's order.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// For a `Txn` command whose keys are not all in the selected database (COPY ... DB n): the
/// database of each key, in key-position order, given the selected one. `Err` is the reply.
pub type KeyDbsFn = fn(&[Bytes], usize) -> Result<Vec<usize>, String>;

/// Finds key positions in the arguments of a command whose keys move (`numkeys` forms).
pub type KeysFn = fn(&[Bytes]) -> Result<Vec<usize>, String>;

/// One row of the command table.
pub struct CommandSpec {
    /// Lowercase name.
    pub name: &'static str,
    /// Argument count including the name; negative: at least `-arity`.
    pub arity: i32,
    /// `flags::*` bits.
    pub flags: u32,
    /// Position of the first key (0: none).
    pub first_key: i32,
    /// Position of the last key; negative counts from the end (-1: the last argument).
    pub last_key: i32,
    /// Step between keys.
    pub step: i32,
    /// For commands whose keys move: finds them (overrides first/last/step).
    pub keys: Option<KeysFn>,
    /// Command group, as COMMAND DOCS reports it (`string`, `list`, `generic`, ...).
    pub group: &'static str,
    /// One-line summary for COMMAND DOCS.
    pub summary: &'static str,
    /// The Redis version the command appeared in.
    pub since: &'static str,
    /// Checks beyond arity that must pass before the command is routed (MSET's even count).
    /// Returns the full error text.
    pub precheck: Option<PrecheckFn>,
    /// The database of each key, for commands that reach beyond the selected one.
    pub key_dbs: Option<KeyDbsFn>,
    /// How it runs.
    pub run: Run,
    /// For blocking commands (BLPOP, BZPOPMIN, ...): how the runtime blocks and serves them.
    pub blocking: Option<&'static crate::blocking::BlockingOps>,
}

impl CommandSpec {
    /// A spec with no keys; chain the `with_*` setters for the rest.
    pub const fn new(name: &'static str, arity: i32, flags: u32, run: Run) -> Self {
        CommandSpec {
            name,
            arity,
            flags,
            first_key: 0,
            last_key: 0,
            step: 0,
            keys: None,
            group: "generic",
            summary: "",
            since: "1.0.0",
            precheck: None,
            key_dbs: None,
            run,
            blocking: None,
        }
    }

    /// Sets the key positions.
    pub const fn keys(mut self, first: i32, last: i32, step: i32) -> Self {
        self.first_key = first;
        self.last_key = last;
        self.step = step;
        self
    }

    /// Sets a key finder for commands whose keys move.
    pub const fn movable_keys(mut self, f: KeysFn) -> Self {
        self.keys = Some(f);
        self.flags |= flags::MOVABLE_KEYS;
        self
    }

    /// Sets a check that runs before routing.
    pub const fn precheck(mut self, f: PrecheckFn) -> Self {
        self.precheck = Some(f);
        self
    }

    /// Makes the command blocking: the runtime blocks it as `ops` says when `run` finds nothing.
    pub const fn blocking(mut self, ops: &'static crate::blocking::BlockingOps) -> Self {
        self.blocking = Some(ops);
        self
    }

    /// Sets the function that puts keys in other databases than the selected one.
    pub const fn key_dbs(mut self, f: KeyDbsFn) -> Self {
        self.key_dbs = Some(f);
        self
    }

    /// The database of each key position: the selected one unless the command says otherwise.
    pub fn dbs_of_keys(
        &self,
        args: &[Bytes],
        selected: usize,
        n_keys: usize,
    ) -> Result<Vec<usize>, String> {
        match self.key_dbs {
            Some(f) => f(args, selected),
            None => Ok(vec![selected; n_keys]),
        }
    }

    /// Sets the documentation fields.
    pub const fn doc(
        mut self,
        group: &'static str,
        since: &'static str,
        summary: &'static str,
    ) -> Self {
        self.group = group;
        self.since = since;
        self.summary = summary;
        self
    }

    /// Whether `argc` arguments satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        if a >= 0 {
            argc == a as usize
        } else {
            argc >= (-a) as usize
        }
    }

    /// The argument positions of the keys in `args`.
    pub fn key_positions(&self, args: &[Bytes]) -> Result<Vec<usize>, String> {
        if let Some(f) = self.keys {
            return f(args);
        }
        if self.first_key <= 0 {
            return Ok(Vec::new());
        }
        let argc = args.len() as i32;
        let last = if self.last_key < 0 {
            argc + self.last_key
        } else {
            self.last_key
        };
        let step = self.step.max(1);
        let mut out = Vec::new();
        let mut i = self.first_key;
        while i <= last && i < argc {
            out.push(i as usize);
            i += step;
        }
        Ok(out)
    }
}

/// The command table.
pub struct Registry {
    specs: Vec<CommandSpec>,
    index: HashMap<&'static str, usize>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// The table with every command family registered.
    pub fn new() -> Self {
        let mut r = Registry {
            specs: Vec::new(),
            index: HashMap::new(),
        };
        crate::connection::register(&mut r);
        crate::server::register(&mut r);
        crate::generic::register(&mut r);
        crate::string::register(&mut r);
        crate::bitmap::register(&mut r);
        crate::hll::register(&mut r);
        crate::sort::register(&mut r);
        crate::list::register(&mut r);
        crate::set::register(&mut r);
        crate::hash::register(&mut r);
        crate::zset::register(&mut r);
        r
    }

    /// Adds a command. Names are unique; a duplicate is a programming error.
    pub fn add(&mut self, spec: CommandSpec) {
        debug_assert!(
            !self.index.contains_key(spec.name),
            "duplicate command {}",
            spec.name
        );
        debug_assert_eq!(spec.name, spec.name.to_ascii_lowercase());
        self.index.insert(spec.name, self.specs.len());
        self.specs.push(spec);
    }

    /// Finds a command by name, ignoring ASCII case, without allocating.
    pub fn lookup(&self, name: &[u8]) -> Option<&CommandSpec> {
        let mut buf = [0u8; 32];
        if name.len() > buf.len() {
            return None;
        }
        for (d, s) in buf.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        let lower = std::str::from_utf8(&buf[..name.len()]).ok()?;
        self.index.get(lower).map(|&i| &self.specs[i])
    }

    /// Every command, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &CommandSpec> {
        self.specs.iter()
    }

    /// How many commands there are.
    pub fn len(&self) -> usize {
        self.specs.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_ignores_case_and_checks_arity() {
        let r = Registry::new();
        let get = r.lookup(b"GeT").unwrap();
        assert_eq!(get.name, "get");
        assert!(get.arity_ok(2));
        assert!(!get.arity_ok(3));
        assert!(r.lookup(b"nosuchcommand").is_none());
        let mset = r.lookup(b"mset").unwrap();
        assert!(mset.arity_ok(5));
        assert!(!mset.arity_ok(2));
    }

    #[test]
    fn key_positions_follow_first_last_step() {
        let r = Registry::new();
        let args: Vec<Bytes> = ["MSET", "a", "1", "b", "2"]
            .iter()
            .map(|s| Bytes::from(*s))
            .collect();
        assert_eq!(
            r.lookup(b"mset").unwrap().key_positions(&args),
            Ok(vec![1, 3])
        );
        let args: Vec<Bytes> = ["DEL", "a", "b", "c"]
            .iter()
            .map(|s| Bytes::from(*s))
            .collect();
        assert_eq!(
            r.lookup(b"del").unwrap().key_positions(&args),
            Ok(vec![1, 2, 3])
        );
    }
}
