//! The command table: one spec per command, and how dispatch finds it.
//!
//! A spec joins two halves. What Redis 7.0 says about the command — arity (Redis's sign rule:
//! negative means "at least"), flags, key specs, documentation — is data
//! ([`crate::meta::COMMANDS`], generated from `commands.json`). How Rustis runs it is code:
//! each family's `register()` binds a name to a [`Run`] (on the one shard that owns its key,
//! split over several shards, on every shard, as a read-modify-write over keys that may live
//! on different shards, or on the connection) and to its optional precheck, blocking and
//! key-database hooks. [`Registry::new`] joins them by name; a binding without data or a
//! served command without a binding is a programming error it reports.

use std::any::Any;

use bytes::Bytes;
use hashbrown::HashMap;
use rustis_resp::Out;

use crate::ctx::ShardCtx;
use crate::meta::{BeginSearch, FindKeys, Meta, COMMANDS};
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
    /// `AUTH [username] password`
    Auth,
    /// `ACL subcommand ...`
    Acl,
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
    /// `MULTI`
    Multi,
    /// `EXEC`
    Exec,
    /// `DISCARD`
    Discard,
    /// `WATCH key [key ...]`
    Watch,
    /// `UNWATCH`
    Unwatch,
    /// `EVAL`, `EVALSHA`, `EVAL_RO`, `EVALSHA_RO`, `FCALL`, `FCALL_RO`
    Script(ScriptCall),
    /// `SCRIPT subcommand ...`
    ScriptAdmin,
    /// `FUNCTION subcommand ...`
    Function,
    /// `SAVE`
    Save,
    /// `BGSAVE [SCHEDULE]`
    Bgsave,
    /// `BGREWRITEAOF`
    Bgrewriteaof,
    /// `LASTSAVE`
    Lastsave,
    /// `SLOWLOG subcommand ...`
    Slowlog,
    /// `LATENCY subcommand ...`
    Latency,
    /// `MEMORY subcommand ...`
    Memory,
    /// `DEBUG subcommand ...`
    Debug,
    /// `LOLWUT [VERSION version]`
    Lolwut,
    /// `ROLE`
    Role,
    /// `REPLICAOF host port` / `SLAVEOF host port`
    Replicaof,
    /// `MODULE subcommand ...`
    Module,
    /// A pub/sub command.
    PubSub(PubSubCmd),
}

/// Which of the commands that run a script or function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptCall {
    /// `EVAL script numkeys ...`
    Eval,
    /// `EVAL_RO`
    EvalRo,
    /// `EVALSHA sha1 numkeys ...`
    EvalSha,
    /// `EVALSHA_RO`
    EvalShaRo,
    /// `FCALL function numkeys ...`
    Fcall,
    /// `FCALL_RO`
    FcallRo,
}

/// The pub/sub commands, which the runtime carries out (see `crate::pubsub`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PubSubCmd {
    /// `SUBSCRIBE channel [channel ...]`
    Subscribe,
    /// `UNSUBSCRIBE [channel ...]`
    Unsubscribe,
    /// `PSUBSCRIBE pattern [pattern ...]`
    Psubscribe,
    /// `PUNSUBSCRIBE [pattern ...]`
    Punsubscribe,
    /// `PUBLISH channel message`
    Publish,
    /// `SSUBSCRIBE shardchannel [shardchannel ...]`
    Ssubscribe,
    /// `SUNSUBSCRIBE [shardchannel ...]`
    Sunsubscribe,
    /// `SPUBLISH shardchannel message`
    Spublish,
    /// `PUBSUB subcommand ...`
    Pubsub,
    /// `MONITOR`: a stream of pushed lines, one per command run, like a subscription.
    Monitor,
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

/// Command flags, as COMMAND INFO lists them. Dispatch reads them from the spec as one word.
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
    /// A module's command.
    pub const MODULE: u32 = 1 << 16;
    /// Allowed on a cluster node that is importing the slot (ASKING).
    pub const ASKING: u32 = 1 << 17;
    /// May run with none of its optional keys.
    pub const NO_MANDATORY_KEYS: u32 = 1 << 18;
    /// Not allowed while loading asynchronously.
    pub const NO_ASYNC_LOADING: u32 = 1 << 19;
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
        (MODULE, "module"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// For a `Txn` command whose keys are not all in the selected database (COPY ... DB n): the
/// database of each key, in key-position order, given the selected one. `Err` is the reply.
pub type KeyDbsFn = fn(&[Bytes], usize) -> Result<Vec<usize>, String>;

/// Finds key positions in the arguments of a command whose keys move, with the errors the
/// command gives for a bad key count.
pub type KeysFn = fn(&[Bytes]) -> Result<Vec<usize>, String>;

/// How a family runs one command: its name and its code. Everything else about the command
/// comes from the data.
pub struct Binding {
    name: &'static str,
    run: Run,
    keys: Option<KeysFn>,
    precheck: Option<PrecheckFn>,
    key_dbs: Option<KeyDbsFn>,
    blocking: Option<&'static crate::blocking::BlockingOps>,
    internal_flags: u32,
}

impl Binding {
    /// Binds `name` (lowercase, as in the data) to `run`.
    pub const fn new(name: &'static str, run: Run) -> Self {
        Binding {
            name,
            run,
            keys: None,
            precheck: None,
            key_dbs: None,
            blocking: None,
            internal_flags: 0,
        }
    }

    /// Finds the keys with `f` instead of the key specs: for commands whose bad key counts
    /// the key finder must report (the `numkeys` forms) or whose specs are incomplete (SORT).
    pub const fn movable_keys(mut self, f: KeysFn) -> Self {
        self.keys = Some(f);
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

    /// Marks the command as reading keys it does not declare (`flags::UNDECLARED_KEYS`).
    pub const fn undeclared_keys(mut self) -> Self {
        self.internal_flags |= flags::UNDECLARED_KEYS;
        self
    }
}

/// One command or subcommand of the table: its data and its binding.
pub struct CommandSpec {
    /// Full lowercase name (`get`, `config|get`).
    pub name: &'static str,
    /// What Redis says about it: COMMAND INFO and COMMAND DOCS are written from this.
    pub meta: &'static Meta,
    /// Argument count including the name; negative: at least `-arity`.
    pub arity: i32,
    /// `flags::*` bits: the data's, plus the internal `UNDECLARED_KEYS`.
    pub flags: u32,
    /// Position of the first key for routing (0: none). For a container whose subcommands
    /// all take their key at the same place (OBJECT), that place.
    pub first_key: i32,
    /// Position of the last key; negative counts from the end (-1: the last argument).
    pub last_key: i32,
    /// Step between keys.
    pub step: i32,
    /// For commands whose keys move: finds them (overrides the key specs).
    pub keys: Option<KeysFn>,
    /// Checks beyond arity that must pass before the command is routed (MSET's even count).
    /// Returns the full error text.
    pub precheck: Option<PrecheckFn>,
    /// The database of each key, for commands that reach beyond the selected one.
    pub key_dbs: Option<KeyDbsFn>,
    /// How it runs. A subcommand runs as its container does.
    pub run: Run,
    /// For blocking commands (BLPOP, BZPOPMIN, ...): how the runtime blocks and serves them.
    pub blocking: Option<&'static crate::blocking::BlockingOps>,
    /// Its subcommands, in the data's order.
    pub subcommands: Vec<CommandSpec>,
    /// Its place in the table, counting subcommands: `0..Registry::count()`, dense, so that
    /// per-command statistics are an array indexed by it.
    pub id: usize,
}

impl Run {
    fn copy(&self) -> Run {
        match self {
            Run::Shard(f) => Run::Shard(*f),
            Run::MultiKey(o) => Run::MultiKey(o),
            Run::Fanout(o) => Run::Fanout(o),
            Run::Txn(f) => Run::Txn(*f),
            Run::Conn(c) => Run::Conn(*c),
        }
    }
}

impl CommandSpec {
    /// A spec outside the table, for the runtime's own internal commands (BLMOVE's finishing
    /// half): it has no metadata, and its keys are the range set with [`CommandSpec::keys`].
    pub const fn internal(name: &'static str, arity: i32, flags: u32, run: Run) -> Self {
        CommandSpec {
            name,
            meta: &crate::meta::INTERNAL,
            arity,
            flags,
            first_key: 0,
            last_key: 0,
            step: 0,
            keys: None,
            precheck: None,
            key_dbs: None,
            run,
            blocking: None,
            subcommands: Vec::new(),
            // Outside the table: no statistics are kept for it.
            id: usize::MAX,
        }
    }

    /// Sets the key range of an internal spec.
    pub const fn keys(mut self, first: i32, last: i32, step: i32) -> Self {
        self.first_key = first;
        self.last_key = last;
        self.step = step;
        self
    }

    fn from_parts(meta: &'static Meta, b: &Binding) -> Self {
        let subcommands: Vec<CommandSpec> = meta
            .subcommands
            .iter()
            .map(|m| {
                CommandSpec::from_parts(
                    m,
                    &Binding {
                        name: m.name,
                        ..b.clone_hooks()
                    },
                )
            })
            .collect();
        let (mut first, mut last, mut step) = (meta.first_key, meta.last_key, meta.step);
        if first == 0 && meta.key_specs.is_empty() {
            // A container routes by where its subcommands put their key, when they agree.
            let keyed: Vec<&CommandSpec> = subcommands.iter().filter(|s| s.first_key > 0).collect();
            if let Some(s0) = keyed.first() {
                if keyed.iter().all(|s| {
                    (s.first_key, s.last_key, s.step) == (s0.first_key, s0.last_key, s0.step)
                }) {
                    (first, last, step) = (s0.first_key, s0.last_key, s0.step);
                }
            }
        }
        CommandSpec {
            name: meta.name,
            meta,
            arity: meta.arity,
            flags: meta.flags | b.internal_flags,
            first_key: first,
            last_key: last,
            step,
            keys: b.keys,
            precheck: b.precheck,
            key_dbs: b.key_dbs,
            run: b.run.copy(),
            blocking: b.blocking,
            subcommands,
            id: 0,
        }
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

    /// Whether `argc` arguments satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        if a >= 0 {
            argc == a as usize
        } else {
            argc >= (-a) as usize
        }
    }

    /// The subcommand named `name` (without its container's name), ignoring case.
    pub fn subcommand(&self, name: &[u8]) -> Option<&CommandSpec> {
        let prefix = self.name.len() + 1;
        self.subcommands
            .iter()
            .find(|s| s.name.as_bytes()[prefix..].eq_ignore_ascii_case(name))
    }

    /// The command a full command line names: its subcommand's entry for a container (None
    /// when the subcommand is unknown), else this one. Like Redis's lookup, a container named
    /// alone is itself.
    pub fn resolve(&self, args: &[Bytes]) -> Option<&CommandSpec> {
        if self.subcommands.is_empty() || args.len() < 2 {
            return Some(self);
        }
        self.subcommand(&args[1])
    }

    /// The argument positions of the keys in `args`: from the key finder when the command
    /// has one, else from the key specs (a container's from its subcommand's), else from the
    /// legacy range.
    pub fn key_positions(&self, args: &[Bytes]) -> Result<Vec<usize>, String> {
        if let Some(f) = self.keys {
            return f(args);
        }
        if !self.subcommands.is_empty() && self.meta.key_specs.is_empty() {
            return Ok(match self.resolve(args) {
                Some(sub) if !std::ptr::eq(sub, self) => sub.key_positions(args)?,
                _ => Vec::new(),
            });
        }
        if self.meta.key_specs.is_empty() {
            return Ok(self.legacy_range(args));
        }
        // A spec that cannot describe this call (SORT_RO's unknown BY/GET spec): Redis then
        // asks the command's own key finder, which for the commands without one here
        // finds the legacy range.
        let mut out = Vec::new();
        if !self.walk_specs(args, |p, _| out.push(p)) {
            out = self.legacy_range(args);
        }
        Ok(out)
    }

    /// The positions `first_key..=last_key` every `step` (an internal spec's keys).
    pub fn legacy_range(&self, args: &[Bytes]) -> Vec<usize> {
        if self.first_key <= 0 {
            return Vec::new();
        }
        let argc = args.len() as i32;
        let last = if self.last_key < 0 {
            argc + self.last_key
        } else {
            self.last_key
        };
        let mut out = Vec::new();
        let mut i = self.first_key;
        while i <= last && i < argc {
            out.push(i as usize);
            i += self.step.max(1);
        }
        out
    }

    /// Keys and their flags as the key specs find them, as Redis does; `None` when a spec
    /// cannot describe this call (an unknown or incomplete spec, a bad key count, keys out of
    /// range).
    pub fn keys_from_specs(&self, args: &[Bytes]) -> Option<Vec<(usize, u32)>> {
        let mut out = Vec::new();
        self.walk_specs(args, |p, f| out.push((p, f)))
            .then_some(out)
    }

    /// Calls `found` with each key position and its flags as the key specs find them;
    /// false when a spec cannot describe this call (then what was found is to be dropped).
    fn walk_specs(&self, args: &[Bytes], mut found: impl FnMut(usize, u32)) -> bool {
        use crate::meta::key_flags;
        let argc = args.len() as i64;
        for spec in self.meta.key_specs {
            if spec.flags & key_flags::NOT_KEY != 0 {
                continue;
            }
            let mut first: i64 = match spec.begin {
                BeginSearch::Index(i) => i as i64,
                BeginSearch::Keyword { keyword, startfrom } => {
                    let start = if startfrom > 0 {
                        startfrom as i64
                    } else {
                        argc + startfrom as i64
                    };
                    let end = if startfrom > 0 { argc - 1 } else { 1 };
                    let mut found = 0;
                    let mut i = start;
                    while i != end {
                        if i >= argc || i < 1 {
                            break;
                        }
                        if args[i as usize].eq_ignore_ascii_case(keyword.as_bytes()) {
                            found = i + 1;
                            break;
                        }
                        i = if start <= end { i + 1 } else { i - 1 };
                    }
                    if found == 0 {
                        continue;
                    }
                    found
                }
                BeginSearch::Unknown => return false,
            };
            let (last, step) = match spec.find {
                FindKeys::Range {
                    lastkey,
                    keystep,
                    limit,
                } => {
                    let last = if lastkey >= 0 {
                        first + lastkey as i64
                    } else if limit == 0 {
                        argc + lastkey as i64
                    } else {
                        first + ((argc - first) / limit as i64 + lastkey as i64)
                    };
                    (last, keystep as i64)
                }
                FindKeys::Keynum {
                    keynumidx,
                    firstkey,
                    keystep,
                } => {
                    if keynumidx as i64 >= argc {
                        return false;
                    }
                    let Some(n) = args
                        .get((first + keynumidx as i64) as usize)
                        .and_then(|a| crate::args::parse_i64(a).ok())
                        .filter(|&n| n >= 0)
                    else {
                        return false;
                    };
                    first += firstkey as i64;
                    (first + n - 1, keystep as i64)
                }
                FindKeys::Unknown => return false,
            };
            if last >= argc || last < first || first >= argc {
                return false;
            }
            let mut i = first;
            while i <= last {
                found(i as usize, spec.flags);
                i += step.max(1);
            }
            if spec.flags & key_flags::INCOMPLETE != 0 {
                return false;
            }
        }
        true
    }
}

impl Binding {
    fn clone_hooks(&self) -> Binding {
        Binding {
            name: self.name,
            run: self.run.copy(),
            keys: None,
            precheck: None,
            key_dbs: None,
            blocking: None,
            internal_flags: self.internal_flags,
        }
    }
}

/// The command table.
pub struct Registry {
    specs: Vec<CommandSpec>,
    /// Commands and subcommands counted; ids are `0..count`.
    count: usize,
    index: HashMap<&'static str, usize>,
    bindings: Vec<Binding>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// The table: every family's bindings joined with the data. Panics if a binding names a
    /// command the data lacks, or a command of the data has no binding (a build that ships a
    /// command without code, or code without metadata).
    pub fn new() -> Self {
        let mut r = Registry {
            specs: Vec::new(),
            count: 0,
            index: HashMap::new(),
            bindings: Vec::new(),
        };
        crate::connection::register(&mut r);
        crate::server::register(&mut r);
        crate::generic::register(&mut r);
        crate::persist::register(&mut r);
        crate::string::register(&mut r);
        crate::bitmap::register(&mut r);
        crate::hll::register(&mut r);
        crate::sort::register(&mut r);
        crate::list::register(&mut r);
        crate::set::register(&mut r);
        crate::hash::register(&mut r);
        crate::zset::register(&mut r);
        crate::stream::register(&mut r);
        crate::geo::register(&mut r);
        crate::pubsub::register(&mut r);
        let bindings = std::mem::take(&mut r.bindings);
        let mut unbound: Vec<&str> = Vec::new();
        for meta in COMMANDS {
            match bindings.iter().find(|b| b.name == meta.name) {
                Some(b) => {
                    r.index.insert(meta.name, r.specs.len());
                    r.specs.push(CommandSpec::from_parts(meta, b));
                }
                None => unbound.push(meta.name),
            }
        }
        let unknown: Vec<&str> = bindings
            .iter()
            .filter(|b| !r.index.contains_key(b.name))
            .map(|b| b.name)
            .collect();
        assert!(
            unbound.is_empty() && unknown.is_empty(),
            "command table mismatch: in commands.json without a binding: {unbound:?}; \
             bound without a commands.json row: {unknown:?}"
        );
        for spec in r.specs.iter_mut() {
            spec.id = r.count;
            r.count += 1;
            for sub in spec.subcommands.iter_mut() {
                sub.id = r.count;
                r.count += 1;
            }
        }
        r
    }

    /// `rename-command old new`, as Redis applies it to its command table: `old` is no longer
    /// found by [`Registry::lookup`] (so it is unknown everywhere commands are looked up:
    /// clients, MULTI, scripts, the AOF), and `new` finds its command, unless `new` is empty
    /// (the command is then gone). The command keeps its own name for COMMAND and errors, as
    /// Redis's keeps its `fullname`. Errors are Redis's.
    pub fn rename(&mut self, old: &str, new: &str) -> Result<(), &'static str> {
        let old = old.to_ascii_lowercase();
        let new = new.to_ascii_lowercase();
        let Some(i) = self.index.remove(old.as_str()) else {
            return Err("No such command in rename-command");
        };
        if !new.is_empty() {
            if self.index.contains_key(new.as_str()) {
                self.index.insert(self.specs[i].name, i);
                return Err("Target command name already exists");
            }
            // A handful of names, once at startup: kept for the life of the process.
            let name: &'static str = Box::leak(new.into_boxed_str());
            self.index.insert(name, i);
        }
        Ok(())
    }

    /// How many commands and subcommands there are: every `CommandSpec::id` is below it.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Binds a command's code to its data. Names are unique; a duplicate is a programming
    /// error.
    pub fn add(&mut self, b: Binding) {
        assert!(
            !self.bindings.iter().any(|x| x.name == b.name),
            "duplicate command {}",
            b.name
        );
        self.bindings.push(b);
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

    /// Finds a command or subcommand by its full name (`get`, `config|get`), ignoring case,
    /// as COMMAND INFO and COMMAND DOCS do.
    pub fn lookup_full(&self, name: &[u8]) -> Option<&CommandSpec> {
        match name.iter().position(|&b| b == b'|') {
            None => self.lookup(name),
            Some(i) => self.lookup(&name[..i])?.subcommand(&name[i + 1..]),
        }
    }

    /// Every command, in the data's order (by name); subcommands are inside their container.
    pub fn iter(&self) -> impl Iterator<Item = &CommandSpec> {
        self.specs.iter()
    }

    /// How many commands there are, not counting subcommands.
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

    fn args(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|s| Bytes::from(s.to_string())).collect()
    }

    #[test]
    fn every_binding_has_data_and_every_served_command_a_binding() {
        // Registry::new asserts both ways; here it must also cover every row of the data.
        let r = Registry::new();
        assert_eq!(r.len(), COMMANDS.len());
        for meta in COMMANDS {
            let spec = r.lookup(meta.name.as_bytes()).expect(meta.name);
            assert_eq!(spec.subcommands.len(), meta.subcommands.len());
            for sub in meta.subcommands {
                assert!(r.lookup_full(sub.name.as_bytes()).is_some(), "{}", sub.name);
            }
        }
    }

    #[test]
    fn rename_command_moves_or_removes_a_name_as_redis_does() {
        let mut r = Registry::new();
        r.rename("FLUSHDB", "badger").unwrap();
        assert!(r.lookup(b"flushdb").is_none());
        assert_eq!(r.lookup(b"BADGER").map(|s| s.name), Some("flushdb"));
        r.rename("get", "").unwrap();
        assert!(r.lookup(b"get").is_none());
        assert_eq!(
            r.rename("nosuch", "x"),
            Err("No such command in rename-command")
        );
        assert_eq!(
            r.rename("set", "badger"),
            Err("Target command name already exists")
        );
        assert!(r.lookup(b"set").is_some());
    }

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
        let sub = r.lookup_full(b"CONFIG|Get").unwrap();
        assert_eq!(sub.name, "config|get");
        assert!(!sub.arity_ok(2));
        assert!(r.lookup_full(b"config|nosuch").is_none());
        assert!(r.lookup_full(b"get|x").is_none());
    }

    #[test]
    fn flags_come_from_the_data_with_the_internal_ones_added() {
        let r = Registry::new();
        let get = r.lookup(b"get").unwrap();
        assert_eq!(get.flags, flags::READONLY | flags::FAST);
        let sort = r.lookup(b"sort").unwrap();
        assert_ne!(sort.flags & flags::UNDECLARED_KEYS, 0);
        assert_ne!(sort.flags & flags::MOVABLE_KEYS, 0);
        assert_eq!(sort.meta.flags & flags::UNDECLARED_KEYS, 0);
        let shutdown = r.lookup(b"shutdown").unwrap();
        assert_ne!(shutdown.flags & flags::NO_MULTI, 0);
        assert_ne!(shutdown.flags & flags::ADMIN, 0);
    }

    #[test]
    fn key_positions_follow_the_key_specs() {
        let r = Registry::new();
        let pos = |name: &str, line: &[&str]| {
            r.lookup(name.as_bytes())
                .unwrap()
                .key_positions(&args(line))
        };
        assert_eq!(pos("mset", &["MSET", "a", "1", "b", "2"]), Ok(vec![1, 3]));
        assert_eq!(pos("del", &["DEL", "a", "b", "c"]), Ok(vec![1, 2, 3]));
        assert_eq!(
            pos("bitop", &["BITOP", "AND", "d", "a", "b"]),
            Ok(vec![2, 3, 4])
        );
        assert_eq!(pos("blpop", &["BLPOP", "a", "b", "0"]), Ok(vec![1, 2]));
        assert_eq!(pos("lcs", &["LCS", "a", "b"]), Ok(vec![1, 2]));
        assert_eq!(pos("ping", &["PING"]), Ok(vec![]));
        // SORT_RO's BY/GET spec is unknown: the legacy range stands in, as Redis's own
        // key finder does.
        assert_eq!(pos("sort_ro", &["SORT_RO", "k", "BY", "x"]), Ok(vec![1]));
        // A container takes its keys from the subcommand.
        assert_eq!(pos("object", &["OBJECT", "ENCODING", "k"]), Ok(vec![2]));
        assert_eq!(pos("object", &["OBJECT", "HELP"]), Ok(vec![]));
        assert_eq!(pos("object", &["OBJECT", "NOSUCH", "k"]), Ok(vec![]));
    }

    #[test]
    fn routing_fast_path_keeps_first_key() {
        let r = Registry::new();
        assert_eq!(r.lookup(b"get").unwrap().first_key, 1);
        assert_eq!(r.lookup(b"ping").unwrap().first_key, 0);
        // OBJECT shows no keys in COMMAND INFO, but its subcommands all take theirs at 2.
        let object = r.lookup(b"object").unwrap();
        assert_eq!(object.meta.first_key, 0);
        assert_eq!(object.first_key, 2);
        // Every single-shard command with keys can be routed by its first key.
        for spec in r.iter() {
            if let Run::Shard(_) = spec.run {
                let keyed_subs = spec
                    .subcommands
                    .iter()
                    .any(|s| !s.meta.key_specs.is_empty());
                if !spec.meta.key_specs.is_empty() || keyed_subs {
                    assert!(spec.first_key > 0 || spec.name == "object", "{}", spec.name);
                }
            }
        }
    }

    #[test]
    fn keys_from_specs_handle_keynum_and_bad_counts() {
        let r = Registry::new();
        let z = r.lookup(b"zunionstore").unwrap();
        let found = z.keys_from_specs(&args(&["ZUNIONSTORE", "d", "2", "a", "b"]));
        assert_eq!(
            found.map(|v| v.into_iter().map(|(p, _)| p).collect::<Vec<_>>()),
            Some(vec![1, 3, 4])
        );
        assert!(z
            .keys_from_specs(&args(&["ZUNIONSTORE", "d", "3", "a"]))
            .is_none());
        assert!(z
            .keys_from_specs(&args(&["ZUNIONSTORE", "d", "x", "a"]))
            .is_none());
        assert!(z
            .keys_from_specs(&args(&["ZUNIONSTORE", "d", "0", "a"]))
            .is_none());
    }
}
