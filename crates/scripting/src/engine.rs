//! The per-thread engine: the EVAL Lua state and its script cache, the functions, and how a
//! script or function runs.
//!
//! Must not: touch the keyspace (every command goes through the [`Host`]) or decide how a run
//! is scheduled across threads (the runtime does).

use std::collections::HashMap;
use std::ffi::c_int;
use std::rc::Rc;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use rustis_commands::{Out, Registry};

use crate::convert::{write_error, write_reply};
use crate::lua::{ffi, push_bytes, to_bytes, ty, Refs, State, L};
use crate::run::{Current, Lookups, Rand48, Run, RunStatus, HOOK_EVERY};
use crate::{Host, LogLevel, Outcome};

/// Script flags, from a `#!lua flags=...` line or `redis.register_function`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScriptFlags(pub u32);

impl ScriptFlags {
    /// No shebang: the script runs as before Redis 7.0 (no flag checks before it runs).
    pub const EVAL_COMPAT_MODE: u32 = 1 << 0;
    /// `no-writes`: the script may only read.
    pub const NO_WRITES: u32 = 1 << 1;
    /// `allow-oom`: runs even when the server is over `maxmemory`.
    pub const ALLOW_OOM: u32 = 1 << 2;
    /// `allow-stale`: runs on a stale replica.
    pub const ALLOW_STALE: u32 = 1 << 3;
    /// `no-cluster`: refuses to run in cluster mode.
    pub const NO_CLUSTER: u32 = 1 << 4;
    /// `allow-cross-slot-keys`: may touch keys of several slots.
    pub const ALLOW_CROSS_SLOT: u32 = 1 << 5;

    /// The flag names Redis accepts, in its order.
    pub const NAMES: &'static [(u32, &'static str)] = &[
        (Self::NO_WRITES, "no-writes"),
        (Self::ALLOW_OOM, "allow-oom"),
        (Self::ALLOW_STALE, "allow-stale"),
        (Self::NO_CLUSTER, "no-cluster"),
        (Self::ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
    ];

    /// Whether `flag` is set.
    pub fn has(self, flag: u32) -> bool {
        self.0 & flag != 0
    }
}

/// Which of the four EVAL commands runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalKind {
    /// EVALSHA / EVALSHA_RO: the first argument is a SHA1.
    pub by_sha: bool,
    /// EVAL_RO / EVALSHA_RO.
    pub read_only: bool,
}

/// What the runtime needs to know before it runs a script or function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    /// The script's SHA1 (lowercase hex), or the function's name.
    pub name: Rc<str>,
    /// The script's or function's flags.
    pub flags: ScriptFlags,
    /// Whether write commands are refused: a `_RO` command, or a `no-writes` script.
    pub read_only: bool,
    /// Argument positions of the keys (`args[3..3 + numkeys]`).
    pub keys: std::ops::Range<usize>,
    /// EVAL compiled its body into the cache just now (it was not cached before).
    pub compiled: bool,
    /// The compiled script, as of the engine's script generation: lets
    /// [`Engine::eval_prepared`] run it without looking it up again.
    pub(crate) prepared: Option<(u64, c_int)>,
}

/// Engine settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineConfig {
    /// Cap on each Lua state's memory, in bytes (0: none). A script that needs more fails
    /// with Lua's "not enough memory".
    pub memory_limit: usize,
}

pub(crate) struct Script {
    pub(crate) body: Bytes,
    pub(crate) flags: ScriptFlags,
    func: c_int,
}

/// A Lua engine: one per thread. Not `Send`: it owns Lua states.
pub struct Engine {
    pub(crate) lua: State,
    pub(crate) registry: &'static Registry,
    pub(crate) config: EngineConfig,
    scripts: HashMap<Rc<str>, Script, foldhash::fast::RandomState>,
    /// Each cached body (the same `Bytes` as [`Script::body`]) with its SHA and what running
    /// it needs: EVAL of a cached script finds it in one lookup, without computing the body's
    /// SHA1.
    by_body: HashMap<Bytes, (Rc<str>, ScriptFlags, c_int), foldhash::fast::RandomState>,
    /// Bumped when the cache is flushed (and the Lua state replaced): a [`RunInfo`] prepared
    /// before then no longer names a compiled function.
    generation: u64,
    /// Bytes of the cached bodies and their SHAs, as Redis counts `used_memory_scripts_eval`.
    scripts_mem: usize,
    pub(crate) rand: Box<Rand48>,
    pub(crate) status: Arc<RunStatus>,
    pub(crate) functions: crate::functions::Functions,
    /// The buffer each run lends the host for the replies of its calls (see `Run::reply`).
    reply: Out,
    /// The last command lookups of the runs (see `Run::lookups`).
    lookups: Box<Lookups>,
    /// Where the arguments of the runs' calls are copied (see `Run::arena`).
    arena: BytesMut,
}

/// Where `redis.log` output goes when no script runs (a library being loaded). Dropped:
/// the runtime sees log lines only through [`Host::log`].
pub(crate) fn log_outside_run(_level: LogLevel, _msg: &[u8]) {}

/// A new sandboxed EVAL state, with the memory cap.
pub(crate) fn new_state(config: &EngineConfig) -> State {
    let mut st = State::new().expect("a new Lua state");
    // CJSON's settings live with the state in Redis: a new state starts from the defaults.
    crate::libs::cjson::reset_config();
    // SAFETY: the state is fresh and ours.
    st.refs = unsafe { crate::sandbox::setup(st.l) };
    st.mem.limit = config.memory_limit;
    st
}

impl Engine {
    /// A new engine whose scripts look commands up in `registry`.
    pub fn new(registry: &'static Registry, config: EngineConfig) -> Engine {
        Engine {
            lua: new_state(&config),
            registry,
            config,
            scripts: HashMap::default(),
            by_body: HashMap::default(),
            generation: 0,
            scripts_mem: 0,
            rand: Box::new(Rand48::new()),
            status: Arc::new(RunStatus::default()),
            functions: crate::functions::Functions::new(&config),
            reply: Out::new(false),
            lookups: Box::default(),
            arena: BytesMut::with_capacity(ARENA_CHUNK),
        }
    }

    /// The handle another thread uses for SCRIPT KILL / FUNCTION KILL and to see whether a
    /// script runs here.
    pub fn status(&self) -> Arc<RunStatus> {
        self.status.clone()
    }

    /// `used_memory_lua`: bytes the EVAL Lua state uses.
    pub fn used_memory_lua(&self) -> usize {
        self.lua.mem.used
    }

    /// `used_memory_scripts_eval`: bytes of the cached script bodies.
    pub fn used_memory_scripts(&self) -> usize {
        self.scripts_mem
    }

    /// `number_of_cached_scripts`.
    pub fn cached_scripts(&self) -> usize {
        self.scripts.len()
    }

    /// The body of a cached script (for propagating EVALSHA as EVAL).
    pub fn script_body(&self, sha: &str) -> Option<&Bytes> {
        self.find_sha(sha.as_bytes()).map(|(_, s)| &s.body)
    }

    /// Whether the script `sha` (any case) is cached.
    pub fn script_exists(&self, sha: &[u8]) -> bool {
        self.find_sha(sha).is_some()
    }

    /// The cached script named `sha` (any case), with its name as cached (lowercase).
    fn find_sha(&self, sha: &[u8]) -> Option<(&Rc<str>, &Script)> {
        // Every name in the cache is 40 lowercase hex digits.
        let mut lower = [0u8; 40];
        if sha.len() != lower.len() {
            return None;
        }
        for (l, c) in lower.iter_mut().zip(sha) {
            *l = c.to_ascii_lowercase();
        }
        let lower = std::str::from_utf8(&lower).ok()?;
        self.scripts.get_key_value(lower)
    }

    /// Compiles `body` into the cache (SCRIPT LOAD, and what EVAL does first) and returns its
    /// SHA1. The same body gives the same SHA and the same error on every engine. `Err` holds
    /// the whole error text (`ERR Error compiling script ...`).
    pub fn load_script(&mut self, body: &[u8]) -> Result<String, String> {
        let sha = crate::sha1_hex(body);
        if self.scripts.contains_key(sha.as_str()) {
            return Ok(sha);
        }
        let (flags, shebang_len) = parse_shebang(body)?;
        let l = self.lua.l;
        // SAFETY: the engine's own state; the stack is left as it was.
        let func = unsafe {
            let code = &body[shebang_len..];
            if ffi::luaL_loadbuffer(
                l,
                code.as_ptr() as *const _,
                code.len(),
                c"@user_script".as_ptr(),
            ) != 0
            {
                let msg = String::from_utf8_lossy(to_bytes(l, -1).unwrap_or_default()).into_owned();
                ffi::lua_pop(l, 1);
                return Err(format!("ERR Error compiling script (new function): {msg}"));
            }
            ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX)
        };
        self.scripts_mem += sha.len() + body.len();
        let body = Bytes::copy_from_slice(body);
        let name: Rc<str> = Rc::from(sha.as_str());
        self.by_body
            .insert(body.clone(), (name.clone(), flags, func));
        self.scripts.insert(name, Script { body, flags, func });
        Ok(sha)
    }

    /// SCRIPT FLUSH: drops every cached script and starts a new Lua state, as Redis does.
    pub fn flush_scripts(&mut self) {
        self.scripts.clear();
        self.by_body.clear();
        self.generation += 1;
        self.scripts_mem = 0;
        self.lua = new_state(&self.config);
    }

    /// What an EVAL-family command will run, checked as Redis checks it before running:
    /// `numkeys`, NOSCRIPT, compilation (EVAL caches the body), the shebang flags against a
    /// `_RO` command. `Err` holds the whole error text.
    pub fn eval_info(
        &mut self,
        args: &[Bytes],
        kind: EvalKind,
        host: &mut dyn Host,
    ) -> Result<RunInfo, String> {
        let keys = numkeys_range(args)?;
        let mut compiled = false;
        let found = if kind.by_sha {
            self.find_sha(&args[1])
                .map(|(name, s)| (name.clone(), s.flags, s.func))
        } else {
            // A cached body is found by its bytes; only a new one is hashed (and compiled).
            self.by_body.get(&args[1][..]).cloned()
        };
        let (name, flags, func) = match found {
            Some(f) => f,
            None if kind.by_sha => {
                return Err("NOSCRIPT No matching script. Please use EVAL.".into());
            }
            None => {
                let sha = self.load_script(&args[1])?;
                compiled = true;
                let (name, s) = self
                    .scripts
                    .get_key_value(sha.as_str())
                    .ok_or("ERR the script cache lost a script it just compiled")?;
                (name.clone(), s.flags, s.func)
            }
        };
        let read_only = prepare_checks(flags, kind.read_only, host)?;
        Ok(RunInfo {
            name,
            flags,
            read_only,
            keys,
            compiled,
            prepared: Some((self.generation, func)),
        })
    }

    /// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO: `args` is the whole command line. Writes the
    /// reply (or error) into `out`, or nothing when the host aborted the script.
    pub fn eval(
        &mut self,
        args: &[Bytes],
        kind: EvalKind,
        host: &mut dyn Host,
        out: &mut Out,
    ) -> Outcome {
        let info = match self.eval_info(args, kind, host) {
            Ok(i) => i,
            Err(e) => {
                write_error(out, e.as_bytes());
                return Outcome::Done;
            }
        };
        self.run_eval(&info, info.read_only, args, host, out)
    }

    /// [`Engine::eval`] of a command line `info` was made for by [`Engine::eval_info`] on this
    /// engine (with whatever host): the script is not looked up again, unless the cache was
    /// flushed since. The checks that ask the host run again, with this one.
    pub fn eval_prepared(
        &mut self,
        info: &RunInfo,
        args: &[Bytes],
        kind: EvalKind,
        host: &mut dyn Host,
        out: &mut Out,
    ) -> Outcome {
        if !matches!(info.prepared, Some((g, _)) if g == self.generation) {
            return self.eval(args, kind, host, out);
        }
        let read_only = match prepare_checks(info.flags, kind.read_only, host) {
            Ok(r) => r,
            Err(e) => {
                write_error(out, e.as_bytes());
                return Outcome::Done;
            }
        };
        self.run_eval(info, read_only, args, host, out)
    }

    /// Runs the script `info` names (prepared on this generation).
    fn run_eval(
        &mut self,
        info: &RunInfo,
        read_only: bool,
        args: &[Bytes],
        host: &mut dyn Host,
        out: &mut Out,
    ) -> Outcome {
        let Some((_, func)) = info.prepared else {
            write_error(out, b"NOSCRIPT No matching script. Please use EVAL.");
            return Outcome::Done;
        };
        let keys = &args[info.keys.clone()];
        let argv = &args[info.keys.end..];
        let lua = (self.lua.l, self.lua.refs);
        let allow_oom = !info.flags.has(ScriptFlags::EVAL_COMPAT_MODE)
            && info.flags.has(ScriptFlags::ALLOW_OOM);
        self.run(
            lua,
            RunTarget::Eval(func),
            &info.name,
            keys,
            argv,
            RunMode {
                read_only,
                allow_oom,
            },
            host,
            out,
        )
    }

    /// SCRIPT LOAD | EXISTS | FLUSH [ASYNC|SYNC] | HELP, and the subcommand errors. KILL and
    /// DEBUG need the runtime: for them this returns [`Outcome::NotHandled`] and writes
    /// nothing.
    pub fn script_cmd(&mut self, args: &[Bytes], out: &mut Out) -> Outcome {
        let sub = args
            .get(1)
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default();
        match (sub.as_slice(), args.len()) {
            (b"help", 2) => {
                let help = [
                    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "DEBUG (YES|SYNC|NO)",
                    "    Set the debug mode for subsequent scripts executed.",
                    "EXISTS <sha1> [<sha1> ...]",
                    "    Return information about the existence of the scripts in the script cache.",
                    "FLUSH [ASYNC|SYNC]",
                    "    Flush the Lua scripts cache. Very dangerous on replicas.",
                    "    When called without the optional mode argument, the behavior is determined by the",
                    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
                    "    * ASYNC: Asynchronously flush the scripts cache.",
                    "    * SYNC: Synchronously flush the scripts cache.",
                    "KILL",
                    "    Kill the currently executing Lua script.",
                    "LOAD <script>",
                    "    Load a script into the scripts cache without executing it.",
                    "HELP",
                    "    Prints this help.",
                ];
                out.array(help.len());
                for h in help {
                    out.simple(h);
                }
            }
            (b"flush", n) if n >= 2 => {
                let ok = n == 2
                    || (n == 3
                        && (args[2].eq_ignore_ascii_case(b"sync")
                            || args[2].eq_ignore_ascii_case(b"async")));
                if !ok {
                    out.error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
                } else {
                    self.flush_scripts();
                    out.ok();
                }
            }
            (b"exists", n) if n >= 2 => {
                out.array(n - 2);
                for sha in &args[2..] {
                    out.int(self.script_exists(sha) as i64);
                }
            }
            (b"load", 3) => match self.load_script(&args[2]) {
                Ok(sha) => out.bulk(sha.as_bytes()),
                Err(e) => write_error(out, e.as_bytes()),
            },
            (b"kill", 2) | (b"debug", 3) => return Outcome::NotHandled,
            _ => {
                let name = String::from_utf8_lossy(args.get(1).map(|b| &b[..]).unwrap_or(b""))
                    .into_owned();
                out.error(&format!(
                    "ERR unknown subcommand or wrong number of arguments for '{}'. Try SCRIPT HELP.",
                    crate::abbrev(&name)
                ));
            }
        }
        Outcome::Done
    }

    /// Runs a compiled script or a function under Redis's error handler and writes its reply.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run(
        &mut self,
        (l, refs): (L, Refs),
        target: RunTarget,
        name: &str,
        keys: &[Bytes],
        argv: &[Bytes],
        mode: RunMode,
        host: &mut dyn Host,
        out: &mut Out,
    ) -> Outcome {
        // SAFETY: the host reference is only reached through `run` while `Current` is set,
        // inside this function, so it never outlives the borrow.
        let host: *mut (dyn Host + '_) = host;
        let host: *mut (dyn Host + 'static) = unsafe { std::mem::transmute(host) };
        let mut run = Run {
            host,
            registry: self.registry,
            status: self.status.clone(),
            rand: &mut *self.rand,
            resp3: false,
            read_only: mode.read_only,
            allow_oom: mode.allow_oom,
            write_dirty: false,
            repl: 3,
            aborted: false,
            killed: false,
            in_call: false,
            panic: None,
            reply: std::mem::replace(&mut self.reply, Out::new(false)),
            lookups: &mut *self.lookups,
            arena: &mut self.arena,
        };
        // SAFETY: `l` is one of this engine's states; the stack is restored to `base`.
        unsafe {
            let base = ffi::lua_gettop(l);
            ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, refs.err_handler);
            let handler = ffi::lua_gettop(l);
            let nargs = match target {
                RunTarget::Eval(func) => {
                    ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, func);
                    ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, refs.real_globals);
                    for (name, items) in [(refs.keys_name, keys), (refs.argv_name, argv)] {
                        ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, name);
                        push_array(l, items);
                        ffi::lua_rawset(l, -3);
                    }
                    ffi::lua_pop(l, 1);
                    0
                }
                RunTarget::Function(func) => {
                    ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, func);
                    push_array(l, keys);
                    push_array(l, argv);
                    2
                }
            };
            ffi::lua_sethook(l, Some(crate::run::hook), ffi::LUA_MASKCOUNT, HOOK_EVERY);
            self.status.start(matches!(target, RunTarget::Function(_)));
            let rc = {
                let _current = Current::set(&mut run);
                ffi::lua_pcall(l, nargs, 1, handler)
            };
            self.status.finish();
            ffi::lua_sethook(l, None, 0, 0);
            let outcome = if run.aborted {
                Outcome::Aborted
            } else {
                if rc != 0 {
                    write_run_error(l, name, out);
                } else {
                    write_reply(l, out, run.resp3);
                }
                Outcome::Done
            };
            ffi::lua_settop(l, base);
            // Kept for the next run, unless a big reply made it big.
            if run.reply.buf.capacity() <= REPLY_BUF_KEEP {
                run.reply.clear();
                self.reply = std::mem::replace(&mut run.reply, Out::new(false));
            }
            if let Some(p) = run.panic.take() {
                std::panic::resume_unwind(p);
            }
            // Redis forces a collection step of 50 KB every 50 runs. On a state of a few tens of
            // KB that step finishes a whole cycle each time, which cost a short script more
            // than the rest of its run in Lua; Lua 5.1's own collector is incremental too, and
            // paced by what the runs allocate (a cycle each time the heap doubles), so it is
            // left to it. The memory cap still applies, and an allocation past it collects
            // first.
            outcome
        }
    }
}

/// The size of the chunks the arguments of calls are copied into (see `Run::arena`).
const ARENA_CHUNK: usize = 4096;

/// The largest reply buffer a run hands back to the engine for the next one.
const REPLY_BUF_KEEP: usize = 64 * 1024;

/// How a run is restricted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunMode {
    pub(crate) read_only: bool,
    pub(crate) allow_oom: bool,
}

/// What a run calls: a script (no arguments; KEYS and ARGV are globals) or a function
/// (called with the keys and arguments tables).
#[derive(Debug, Clone, Copy)]
pub(crate) enum RunTarget {
    Eval(c_int),
    Function(c_int),
}

/// Pushes a Lua array of the strings.
unsafe fn push_array(l: L, items: &[Bytes]) {
    ffi::lua_createtable(l, items.len() as c_int, 0);
    for (i, it) in items.iter().enumerate() {
        push_bytes(l, it);
        ffi::lua_rawseti_(l, -2, (i + 1) as c_int);
    }
}

/// Writes the error of a failed run (on top of the stack) as Redis does.
unsafe fn write_run_error(l: L, name: &str, out: &mut Out) {
    if ty(l, -1) != ffi::LUA_TTABLE {
        let msg = to_bytes(l, -1).unwrap_or(b"execution failure");
        let msg = &msg[..msg.len().min(100)];
        let text = format!(
            "ERR Error running script {name}, {}\n",
            String::from_utf8_lossy(msg)
        );
        write_error(out, text.as_bytes());
        return;
    }
    let field = |k: &[u8]| -> Option<Vec<u8>> {
        push_bytes(l, k);
        ffi::lua_gettable_(l, -2);
        let v = if ffi::lua_isstring(l, -1) != 0 {
            to_bytes(l, -1).map(|s| s.to_vec())
        } else {
            None
        };
        ffi::lua_pop(l, 1);
        v
    };
    let mut text = field(b"err").unwrap_or_default();
    if let (Some(source), Some(line)) = (field(b"source"), field(b"line")) {
        text.extend_from_slice(b" script: ");
        text.extend_from_slice(name.as_bytes());
        text.extend_from_slice(b", on ");
        text.extend_from_slice(&source);
        text.push(b':');
        text.extend_from_slice(&line);
        text.push(b'.');
    }
    write_error(out, &text);
}

/// Parses `numkeys` (args[2]) and returns the key positions.
pub(crate) fn numkeys_range(args: &[Bytes]) -> Result<std::ops::Range<usize>, String> {
    let n = std::str::from_utf8(&args[2])
        .ok()
        .and_then(parse_ll)
        .ok_or_else(|| "ERR value is not an integer or out of range".to_string())?;
    if n > args.len() as i64 - 3 {
        return Err("ERR Number of keys can't be greater than number of args".into());
    }
    if n < 0 {
        return Err("ERR Number of keys can't be negative".into());
    }
    Ok(3..3 + n as usize)
}

/// Redis's `string2ll`: an optional `-`, digits, no leading zeros, no spaces.
fn parse_ll(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if digits.is_empty()
        || !digits.iter().all(u8::is_ascii_digit)
        || (digits[0] == b'0' && (digits.len() > 1 || b.len() != digits.len()))
    {
        return None;
    }
    s.parse().ok()
}

/// Redis's checks before a run (`scriptPrepareForRun`) that the engine can make; the
/// server-state ones are asked of the host. Returns whether the run is read-only.
pub(crate) fn prepare_checks(
    flags: ScriptFlags,
    ro_command: bool,
    host: &mut dyn Host,
) -> Result<bool, String> {
    if !flags.has(ScriptFlags::EVAL_COMPAT_MODE) {
        if flags.has(ScriptFlags::NO_CLUSTER) && host.cluster_enabled() {
            return Err("ERR Can not run script on cluster, 'no-cluster' flag is set.".into());
        }
        if !flags.has(ScriptFlags::NO_WRITES) {
            if let Some(e) = host.write_denied() {
                return Err(e);
            }
            if ro_command {
                return Err(
                    "ERR Can not execute a script with write flag using *_ro command.".into(),
                );
            }
        }
        if host.oom() && !flags.has(ScriptFlags::ALLOW_OOM) && !flags.has(ScriptFlags::NO_WRITES) {
            return Err("OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'".into());
        }
    }
    Ok(ro_command
        || (!flags.has(ScriptFlags::EVAL_COMPAT_MODE) && flags.has(ScriptFlags::NO_WRITES)))
}

/// Parses the `#!lua flags=...` line of a script. Returns the flags and the length of the
/// line (without its newline, which stays so that line numbers do not move).
pub fn parse_shebang(body: &[u8]) -> Result<(ScriptFlags, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((ScriptFlags(ScriptFlags::EVAL_COMPAT_MODE), 0));
    }
    let Some(end) = body.iter().position(|&c| c == b'\n') else {
        return Err("ERR Invalid script shebang".into());
    };
    let parts = rustis_resp::parse::split_args(&body[..end]).unwrap_or_default();
    if parts.is_empty() {
        return Err("ERR Invalid engine in script shebang".into());
    }
    if &parts[0][..] != b"#!lua" {
        return Err(format!(
            "ERR Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(&parts[0])
        ));
    }
    let mut flags = 0;
    for p in &parts[1..] {
        let Some(list) = p.strip_prefix(b"flags=") else {
            return Err(format!(
                "ERR Unknown lua shebang option: {}",
                String::from_utf8_lossy(p)
            ));
        };
        if list.is_empty() {
            continue;
        }
        for f in list.split(|&c| c == b',') {
            match ScriptFlags::NAMES.iter().find(|(_, n)| n.as_bytes() == f) {
                Some((bit, _)) => flags |= bit,
                None => {
                    return Err(format!(
                        "ERR Unexpected flag in script shebang: {}",
                        String::from_utf8_lossy(f)
                    ))
                }
            }
        }
    }
    Ok((ScriptFlags(flags), end))
}
