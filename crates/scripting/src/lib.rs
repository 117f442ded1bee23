//! Lua scripting and functions for Rustis, as Redis 7.0 has them: EVAL and its variants,
//! SCRIPT, FUNCTION, FCALL and FCALL_RO.
//!
//! # Shape
//!
//! An [`Engine`] is one thread's Lua: a sandboxed Lua 5.1 state for EVAL scripts and their
//! cache, and a second state for function libraries (Redis keeps the two apart too). It knows
//! nothing of the keyspace: every `redis.call` from a script goes to a [`Host`], which the
//! runtime implements, after the engine has checked what Redis checks for a command called
//! from a script (unknown command, arity, `noscript`, writes from a read-only script, OOM).
//!
//! The runtime calls, with the parsed command line:
//! - [`Engine::eval`] for EVAL / EVALSHA / EVAL_RO / EVALSHA_RO, [`Engine::fcall`] for FCALL /
//!   FCALL_RO; before running, [`Engine::eval_info`] / [`Engine::fcall_info`] say what the
//!   run needs (its keys, whether it may write, its flags) or the error to reply at once;
//! - [`Engine::script_cmd`] and [`Engine::function_cmd`] for SCRIPT and FUNCTION; KILL is the
//!   runtime's, through the [`RunStatus`] handle from [`Engine::status`];
//! - [`Engine::load_script`], [`Engine::flush_scripts`] and the function-library methods to
//!   keep every thread's engine the same: they are deterministic, so broadcasting the same
//!   call gives the same SHA, the same library and the same error everywhere.
//!
//! A run ends with a reply written into the caller's [`rustis_commands::Out`], or with
//! [`Outcome::Aborted`] when the host returned [`Abort`] from a call: then nothing is written,
//! and the script could not catch the abort (every later `redis.call` aborts too).
//!
//! # Lua
//!
//! The Lua-callable functions (the `redis` table, `cjson`, `cmsgpack`, `bit`, `struct`) are
//! written against Lua's C API, so that their errors are Lua errors exactly as Redis raises
//! them (see the `lua` module). The sandbox (the `sandbox` module) reproduces Redis's
//! read-only globals on stock Lua 5.1.
//!
//! Must not: touch the keyspace, sockets or other threads.

#![warn(missing_docs)]

mod convert;
mod dump;
mod engine;
mod functions;
mod libs;
mod lua;
mod run;
mod sandbox;

use bytes::Bytes;
use rustis_commands::{CommandSpec, Out};

pub use engine::{parse_shebang, Engine, EngineConfig, EvalKind, RunInfo, ScriptFlags};
pub use functions::{FunctionStats, LibraryMode};
pub use run::RunStatus;
pub use sandbox::{REDIS_VERSION, REDIS_VERSION_NUM};

/// The host said to stop the script now, without a reply (the client is gone, the server
/// shuts down, ...). Returned by [`Host::call`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abort;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The reply (or error) is in the output.
    Done,
    /// The host aborted the run: nothing was written, and the script's effects so far are the
    /// host's to deal with.
    Aborted,
    /// The subcommand is the runtime's (SCRIPT KILL, SCRIPT DEBUG, FUNCTION KILL): nothing was
    /// written.
    NotHandled,
}

/// How a command from a script is to be run and answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallOpts {
    /// Encode the reply in RESP3 (the script called `redis.setresp(3)`), else RESP2.
    pub resp3: bool,
    /// `redis.set_repl` flags: bit 0 propagate to the AOF, bit 1 to replicas (both by default).
    pub propagate: u8,
}

/// `redis.log` levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// `redis.LOG_DEBUG`
    Debug,
    /// `redis.LOG_VERBOSE`
    Verbose,
    /// `redis.LOG_NOTICE`
    Notice,
    /// `redis.LOG_WARNING`
    Warning,
}

/// What a script needs from the server. The runtime implements it for one run.
pub trait Host {
    /// Runs one command of the script and writes its whole reply into `reply` (empty, with
    /// `reply.resp3 == opts.resp3`), encoded in RESP3 when `opts.resp3`, else RESP2. `args[0]`
    /// is the name as the script wrote it; `spec` is the command (or subcommand) it resolved
    /// to, already checked for existence, arity, `noscript`, ACL (via [`Host::acl_check`]),
    /// read-only scripts and OOM. The host runs whatever else dispatch checks (prechecks, key
    /// checks) and replies with the error if they fail. An error reply is a reply (`Ok` with
    /// `-ERR ...` written); `Err(Abort)` stops the script, and what was written is ignored.
    ///
    /// As Redis's script client, the host never blocks a command (XREAD BLOCK, WAIT and the
    /// like answer at once), starts each run in the caller's database, and keeps a SELECT
    /// made by the script for that run only.
    fn call(
        &mut self,
        args: Vec<Bytes>,
        spec: &'static CommandSpec,
        opts: CallOpts,
        reply: &mut Out,
    ) -> Result<(), Abort>;

    /// Called every 100,000 Lua instructions of a run: a long script lets the runtime serve
    /// others (with BUSY) and notice SCRIPT KILL here.
    fn tick(&mut self) {}

    /// `redis.log`.
    fn log(&mut self, _level: LogLevel, _msg: &[u8]) {}

    /// Whether the server is over `maxmemory` (Redis's state before the command ran).
    fn oom(&mut self) -> bool {
        false
    }

    /// Why writes are refused now (readonly replica, MISCONF, NOREPLICAS), as the whole error
    /// text, or `None`.
    fn write_denied(&mut self) -> Option<String> {
        None
    }

    /// Whether the calling user may run the command (ACL): `Err` holds why not, as Redis's
    /// `getAclErrorMessage` words it (`can't run this command or subcommand`, `no
    /// permissions to access one of the keys used as arguments`, ...); the script's error is
    /// `The user executing the script <reason>`.
    fn acl_check(&mut self, _args: &[Bytes], _spec: &'static CommandSpec) -> Result<(), String> {
        Ok(())
    }

    /// Whether the server runs in cluster mode (for the `no-cluster` flag).
    fn cluster_enabled(&mut self) -> bool {
        false
    }
}

/// The key positions of an EVAL-family command line (`args[3..3 + numkeys]`), for
/// `Binding::movable_keys`; `Err` holds the error EVAL gives for a bad `numkeys`.
pub fn eval_keys(args: &[Bytes]) -> Result<Vec<usize>, String> {
    if args.len() < 3 {
        return Ok(Vec::new());
    }
    engine::numkeys_range(args).map(|r| r.collect())
}

/// The key positions of an FCALL / FCALL_RO command line; `Err` holds the error FCALL gives
/// for a bad `numkeys`.
pub fn fcall_keys(args: &[Bytes]) -> Result<Vec<usize>, String> {
    if args.len() < 3 {
        return Ok(Vec::new());
    }
    engine::numkeys_range(args)
        .map(|r| r.collect())
        .map_err(|e| {
            if e.starts_with("ERR value is not") {
                "ERR Bad number of keys provided".into()
            } else {
                e
            }
        })
}

/// Lowercase hex SHA1, as Redis names scripts.
pub fn sha1_hex(data: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = sha1_smol::Sha1::from(data).digest().bytes();
    let mut out = String::with_capacity(40);
    for b in digest {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out
}

/// A user-given name cut as Redis's `addReplySubcommandSyntaxError` cuts it (128 bytes).
pub(crate) fn abbrev(s: &str) -> String {
    if s.len() <= 128 {
        s.to_string()
    } else {
        let mut end = 128;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s[..end].to_string()
    }
}

#[cfg(test)]
mod tests;
