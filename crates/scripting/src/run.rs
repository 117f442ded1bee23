//! One script run: the context `redis.call` and friends reach, the `redis` API, the error
//! handler, the kill hook and Redis's `math.random`.
//!
//! A run's context lives on the engine's thread in [`CURRENT`] while Lua runs, so that the
//! Lua-callable functions (plain C functions) can reach the host. It is set by
//! [`Engine`](crate::Engine) around each call into Lua and cleared before the call returns.
//!
//! Must not: keep a context past the run that set it.

use std::cell::Cell;
use std::ffi::c_int;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use rustis_commands::registry::flags;
use rustis_commands::{CommandSpec, Out, Registry};
use rustis_resp::encode::SHARE_MIN;

use crate::convert::{error_text_for, number_arg, push_reply};
use crate::lua::{ffi, guard, push_bytes, push_err_table, raw_set_str, to_bytes, ty, Fail, L};
use crate::{Abort, CallOpts, Host, LogLevel};

/// What a running script shares with other threads: SCRIPT KILL / FUNCTION KILL set
/// `kill`, and read `running` and `wrote` to choose between killing and UNKILLABLE.
#[derive(Debug, Default)]
pub struct RunStatus {
    kill: AtomicBool,
    running: AtomicBool,
    wrote: AtomicBool,
    function: AtomicBool,
}

impl RunStatus {
    /// Asks the running script to stop at its next check (every 100,000 Lua instructions).
    /// The script then fails with `ERR Script killed by user with SCRIPT KILL...`.
    pub fn request_kill(&self) {
        self.kill.store(true, Ordering::Relaxed);
    }

    /// Whether a script or function is running on the engine.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }

    /// Whether the running script has called a write command (then it must not be killed:
    /// Redis answers `UNKILLABLE`).
    pub fn has_written(&self) -> bool {
        self.wrote.load(Ordering::Relaxed)
    }

    /// Whether the running script is a function (FCALL) rather than an EVAL script: SCRIPT
    /// KILL stops only scripts and FUNCTION KILL only functions.
    pub fn is_function(&self) -> bool {
        self.function.load(Ordering::Relaxed)
    }

    pub(crate) fn start(&self, function: bool) {
        self.function.store(function, Ordering::Relaxed);
        self.kill.store(false, Ordering::Relaxed);
        self.wrote.store(false, Ordering::Relaxed);
        self.running.store(true, Ordering::Relaxed);
    }

    pub(crate) fn finish(&self) {
        self.running.store(false, Ordering::Relaxed);
        self.kill.store(false, Ordering::Relaxed);
    }
}

/// Redis's lrand48 (rand.c): the same sequence on every platform.
#[derive(Debug, Clone)]
pub(crate) struct Rand48 {
    x: u64,
}

impl Rand48 {
    pub(crate) fn new() -> Self {
        Rand48 {
            x: 0x1234_ABCD_330E,
        }
    }

    pub(crate) fn seed(&mut self, s: i32) {
        let s = s as u32 as u64;
        self.x = 0x330E | ((s & 0xffff) << 16) | ((s >> 16) << 32);
    }

    pub(crate) fn next(&mut self) -> i32 {
        self.x = (0x5_DEEC_E66D_u64.wrapping_mul(self.x).wrapping_add(0xB)) & 0xffff_ffff_ffff;
        (self.x >> 17) as i32
    }
}

/// The state of one run that the Lua-callable functions reach.
pub(crate) struct Run {
    /// The host, lifetime-erased: valid while the run is [`CURRENT`].
    pub(crate) host: *mut (dyn Host + 'static),
    pub(crate) registry: &'static Registry,
    pub(crate) status: Arc<RunStatus>,
    pub(crate) rand: *mut Rand48,
    /// The protocol `redis.setresp` chose.
    pub(crate) resp3: bool,
    /// EVAL_RO / FCALL_RO / a `no-writes` script: write commands are refused.
    pub(crate) read_only: bool,
    /// The script declared `allow-oom`.
    pub(crate) allow_oom: bool,
    /// A write command has run.
    pub(crate) write_dirty: bool,
    /// `redis.set_repl` flags.
    pub(crate) repl: u8,
    /// The host said to abort: every later call aborts too and the result is dropped.
    pub(crate) aborted: bool,
    /// The script was killed.
    pub(crate) killed: bool,
    /// Set while `redis.call` is inside the host, against re-entry through hooks.
    pub(crate) in_call: bool,
    /// A panic of the host, caught so that it does not unwind through Lua's C frames; the
    /// run stops as if aborted and the engine resumes the panic once Lua has returned.
    pub(crate) panic: Option<Box<dyn std::any::Any + Send>>,
    /// Where the host writes each command's reply: the engine's buffer, lent for the run so
    /// that a call allocates nothing for its reply.
    pub(crate) reply: Out,
    /// The engine's last command lookups (the engine outlives the run, as for `rand`).
    pub(crate) lookups: *mut Lookups,
    /// The engine's buffer for the arguments of calls (see `collect_args`), likewise.
    pub(crate) arena: *mut BytesMut,
}

/// The commands a script called last, by the name as it spelled them: a script calls the
/// same few commands again and again, and comparing a short name is cheaper than the
/// registry's case-folding hash lookup. The registry never changes, so an entry never goes
/// stale.
#[derive(Default)]
pub(crate) struct Lookups {
    entries: [Option<Lookup>; LOOKUPS],
    /// The entry the next new name replaces.
    next: usize,
}

const LOOKUPS: usize = 8;

/// A command name as a script spelled it, and the command it names.
type Lookup = (Box<[u8]>, &'static CommandSpec);

impl Lookups {
    /// `registry.lookup(name)`, through the cache.
    fn lookup(&mut self, registry: &'static Registry, name: &[u8]) -> Option<&'static CommandSpec> {
        for (n, spec) in self.entries.iter().flatten() {
            if **n == *name {
                return Some(spec);
            }
        }
        let spec = registry.lookup(name)?;
        self.entries[self.next] = Some((name.into(), spec));
        self.next = (self.next + 1) % LOOKUPS;
        Some(spec)
    }
}

thread_local! {
    pub(crate) static CURRENT: Cell<*mut Run> = const { Cell::new(std::ptr::null_mut()) };
}

/// The current run, if a script is running on this thread.
pub(crate) unsafe fn current<'a>() -> Option<&'a mut Run> {
    let p = CURRENT.with(|c| c.get());
    if p.is_null() {
        None
    } else {
        Some(&mut *p)
    }
}

/// Makes `run` the current run until the guard drops.
pub(crate) struct Current;

impl Current {
    pub(crate) fn set(run: &mut Run) -> Current {
        CURRENT.with(|c| c.set(run as *mut Run));
        Current
    }
}

impl Drop for Current {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(std::ptr::null_mut()));
    }
}

/// The error value that stops an aborted script; no client ever sees it.
const ABORTED: &[u8] = b"ERR script aborted by the server";

/// The error of a killed script; Redis gives the same text for SCRIPT KILL and FUNCTION KILL.
fn kill_message(_run: &Run) -> &'static [u8] {
    b"ERR Script killed by user with SCRIPT KILL..."
}

/// Adds the `redis` table and Redis's `pcall`, `math.random` and `math.randomseed` to the
/// globals at `g`.
pub(crate) unsafe fn register_api(l: L, g: c_int) {
    ffi::lua_pushcclosure(l, redis_pcall_builtin, 0);
    raw_set_str(l, g, b"pcall");

    ffi::lua_createtable(l, 0, 32);
    crate::lua::set_funcs(
        l,
        &[
            ("call", redis_call as ffi::lua_CFunction),
            ("pcall", redis_pcall),
            ("log", redis_log),
            ("setresp", redis_setresp),
            ("sha1hex", redis_sha1hex),
            ("error_reply", redis_error_reply),
            ("status_reply", redis_status_reply),
            ("set_repl", redis_set_repl),
            ("acl_check_cmd", redis_acl_check_cmd),
            ("breakpoint", redis_breakpoint),
            ("debug", redis_debug),
            ("replicate_commands", redis_replicate_commands),
        ],
    );
    for (name, v) in [
        ("LOG_DEBUG", 0.0),
        ("LOG_VERBOSE", 1.0),
        ("LOG_NOTICE", 2.0),
        ("LOG_WARNING", 3.0),
        ("REPL_NONE", 0.0),
        ("REPL_AOF", 1.0),
        ("REPL_SLAVE", 2.0),
        ("REPL_REPLICA", 2.0),
        ("REPL_ALL", 3.0),
        (
            "REDIS_VERSION_NUM",
            crate::sandbox::REDIS_VERSION_NUM as f64,
        ),
    ] {
        ffi::lua_pushnumber(l, v);
        raw_set_str(l, -2, name.as_bytes());
    }
    push_bytes(l, crate::sandbox::REDIS_VERSION.as_bytes());
    raw_set_str(l, -2, b"REDIS_VERSION");
    raw_set_str(l, g, b"redis");

    crate::lua::raw_get_str(l, g, b"math");
    crate::lua::set_funcs(
        l,
        &[
            ("random", math_random as ffi::lua_CFunction),
            ("randomseed", math_randomseed),
        ],
    );
    ffi::lua_pop(l, 1);
}

/// Reads the arguments of a `redis.call` as Redis does: numbers as `%.17g`, strings as they
/// are, anything else refused.
///
/// The short arguments of a call of up to [`PACK_MAX_ARGS`] arguments are copied into
/// `arena` and handed out as slices of it, as the connection's parser hands out slices of its
/// read buffer: the arena's chunk is reused once the arguments of earlier calls are gone, so a
/// call makes no allocation for them. An argument of [`SHARE_MIN`] bytes or more gets its own
/// copy, so that the arena stays small.
unsafe fn collect_args(l: L, arena: &mut BytesMut) -> Result<Vec<Bytes>, &'static [u8]> {
    let argc = ffi::lua_gettop(l);
    if argc == 0 {
        return Err(b"ERR Please specify at least one argument for this redis lib call");
    }
    let n = argc as usize;
    // A number's `%.17g` is at most 24 bytes.
    let mut packed = 0;
    for i in 1..=argc {
        packed += match ty(l, i) {
            ffi::LUA_TNUMBER => 24,
            ffi::LUA_TSTRING => match ffi::lua_objlen(l, i) {
                len if len >= SHARE_MIN => 0,
                len => len,
            },
            _ => return Err(b"ERR Lua redis lib command arguments must be strings or integers"),
        };
    }
    let mut args = Vec::with_capacity(n);
    if n > PACK_MAX_ARGS {
        for i in 1..=argc {
            args.push(match ty(l, i) {
                ffi::LUA_TNUMBER => Bytes::from(number_arg(ffi::lua_tonumber(l, i))),
                _ => Bytes::copy_from_slice(to_bytes(l, i).unwrap_or_default()),
            });
        }
        return Ok(args);
    }
    // Reclaims the chunk when nothing holds it any more, else starts a new one (of the
    // arena's first capacity, when that is enough).
    arena.reserve(packed);
    // Where each packed argument ends in the arena; `None` for one with its own copy (in
    // `args`).
    let mut ends = [None; PACK_MAX_ARGS];
    for (i, end) in (1..=argc).zip(ends.iter_mut()) {
        if ty(l, i) == ffi::LUA_TNUMBER {
            arena.extend_from_slice(number_arg(ffi::lua_tonumber(l, i)).as_bytes());
        } else {
            let s = to_bytes(l, i).unwrap_or_default();
            if s.len() >= SHARE_MIN {
                args.push(Bytes::copy_from_slice(s));
                continue;
            }
            arena.extend_from_slice(s);
        }
        *end = Some(arena.len());
    }
    let buf = arena.split().freeze();
    if args.is_empty() {
        let mut start = 0;
        for end in ends[..n].iter().flatten() {
            args.push(buf.slice(start..*end));
            start = *end;
        }
        return Ok(args);
    }
    // Some have their own copies: put the packed ones in place among them.
    let mut own = std::mem::take(&mut args).into_iter();
    let mut start = 0;
    for end in &ends[..n] {
        match end {
            Some(end) => {
                args.push(buf.slice(start..*end));
                start = *end;
            }
            None => args.push(own.next().unwrap_or_default()),
        }
    }
    Ok(args)
}

/// The most arguments [`collect_args`] packs into one buffer.
const PACK_MAX_ARGS: usize = 32;

/// What Redis checks before a script's command runs (`scriptCall`); the error text on refusal.
fn check_command(
    run: &mut Run,
    args: &[Bytes],
) -> Result<&'static rustis_commands::CommandSpec, Vec<u8>> {
    // SAFETY: the engine's cache outlives the run (see `Run::lookups`), and only this
    // function reaches it.
    let lookups = unsafe { &mut *run.lookups };
    let spec = lookups
        .lookup(run.registry, &args[0])
        .and_then(|s| s.resolve(args));
    let Some(spec) = spec else {
        return Err(b"Unknown Redis command called from script".to_vec());
    };
    if !spec.arity_ok(args.len()) {
        return Err(b"Wrong number of args calling Redis command from script".to_vec());
    }
    if spec.flags & flags::NOSCRIPT != 0 {
        return Err(b"This Redis command is not allowed from script".to_vec());
    }
    // SAFETY: the host outlives the run (see `Run::host`).
    let host = unsafe { &mut *run.host };
    if let Err(why) = host.acl_check(args, spec) {
        return Err(format!("The user executing the script {why}").into_bytes());
    }
    let is_write = spec.flags & flags::WRITE != 0;
    let may_replicate = matches!(spec.name, "publish" | "spublish" | "pfcount");
    if run.read_only && (is_write || may_replicate) {
        return Err(b"Write commands are not allowed from read-only scripts.".to_vec());
    }
    if is_write && !run.write_dirty {
        if let Some(e) = host.write_denied() {
            return Err(format!("-{e}").into_bytes());
        }
    }
    if !run.allow_oom && !run.write_dirty && spec.flags & flags::DENYOOM != 0 && host.oom() {
        return Err(b"-OOM command not allowed when used memory > 'maxmemory'.".to_vec());
    }
    if is_write {
        run.write_dirty = true;
        run.status.wrote.store(true, Ordering::Relaxed);
    }
    Ok(spec)
}

/// Runs host code, keeping a panic from unwinding through Lua: the run is marked aborted and
/// the panic kept for the engine to resume.
fn catch<R>(run: &mut Run, f: impl FnOnce() -> R) -> Option<R> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => Some(r),
        Err(p) => {
            run.aborted = true;
            run.panic = Some(p);
            None
        }
    }
}

/// `redis.call` (raise = true) and `redis.pcall`.
unsafe fn generic_call(l: L, raise: bool) -> c_int {
    guard(l, |l| {
        let Some(run) = current() else {
            return Err(Fail::ErrTable(
                b"ERR redis.call/pcall can only be called inside a script invocation".to_vec(),
            ));
        };
        if run.aborted {
            return Err(Fail::ErrTable(ABORTED.to_vec()));
        }
        if run.killed {
            return Err(Fail::ErrTable(kill_message(run).to_vec()));
        }
        // SAFETY: the engine's arena outlives the run (see `Run::arena`); only this reaches it.
        let args = match collect_args(l, &mut *run.arena) {
            Ok(a) => a,
            Err(msg) => {
                ffi::lua_settop(l, 0);
                push_err_table(l, msg);
                return if raise { Err(Fail::OnStack) } else { Ok(1) };
            }
        };
        ffi::lua_settop(l, 0);
        if run.in_call {
            push_err_table(
                l,
                b"ERR luaRedisGenericCommand() recursive call detected. Are you doing funny stuff with Lua debug hooks?",
            );
            return Ok(1);
        }
        // The checks ask the host too: a panic there must not unwind through Lua either.
        let checked =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check_command(run, &args)));
        let checked = match checked {
            Ok(c) => c,
            Err(p) => {
                run.aborted = true;
                run.panic = Some(p);
                stop_on_every_line(l);
                return Err(Fail::ErrTable(ABORTED.to_vec()));
            }
        };
        let spec = match checked {
            Ok(s) => s,
            Err(msg) => {
                push_err_table(l, &error_text_for(&msg));
                ffi::lua_pushboolean(l, 1);
                raw_set_str(l, -2, b"ignore_error_stats_update");
                return if raise { Err(Fail::OnStack) } else { Ok(1) };
            }
        };
        let opts = CallOpts {
            resp3: run.resp3,
            propagate: run.repl,
        };
        run.in_call = true;
        let host = run.host;
        run.reply.clear();
        run.reply.resp3 = opts.resp3;
        let reply: *mut Out = &mut run.reply;
        // SAFETY: the host outlives the run (see `Run::host`); `reply` is the run's own buffer,
        // which nothing else touches while the host writes it.
        let done = catch(run, || (*host).call(args, spec, opts, &mut *reply)).unwrap_or(Err(Abort));
        run.in_call = false;
        match done {
            Ok(()) => {
                let bytes = &run.reply.buf[..];
                let is_err = bytes.first() == Some(&b'-');
                push_reply(l, bytes);
                if raise && is_err {
                    Err(Fail::OnStack)
                } else {
                    Ok(1)
                }
            }
            Err(Abort) => {
                run.aborted = true;
                stop_on_every_line(l);
                Err(Fail::ErrTable(ABORTED.to_vec()))
            }
        }
    })
}

unsafe extern "C-unwind" fn redis_call(l: L) -> c_int {
    generic_call(l, true)
}

unsafe extern "C-unwind" fn redis_pcall(l: L) -> c_int {
    generic_call(l, false)
}

/// Redis's `pcall`: an error table with an `err` string comes back as that string. An
/// aborted or killed script's error is raised again, so that no `pcall` can keep it running.
unsafe extern "C-unwind" fn redis_pcall_builtin(l: L) -> c_int {
    let argc = ffi::lua_gettop(l);
    if argc == 0 {
        return guard(l, |_| Err(Fail::Arg(1, "value expected".into())));
    }
    ffi::lua_pushboolean(l, 1);
    ffi::lua_insert(l, 1);
    if ffi::lua_pcall(l, argc - 1, ffi::LUA_MULTRET, 0) != 0 {
        if let Some(run) = current() {
            if run.aborted || run.killed {
                ffi::lua_error(l);
            }
        }
        ffi::lua_remove(l, 1);
        if ty(l, -1) == ffi::LUA_TTABLE {
            push_bytes(l, b"err");
            ffi::lua_gettable_(l, -2);
            if ffi::lua_isstring(l, -1) != 0 {
                ffi::lua_replace(l, -2);
            }
        }
        ffi::lua_pushboolean(l, 0);
        ffi::lua_insert(l, 1);
    }
    ffi::lua_gettop(l)
}

unsafe extern "C-unwind" fn redis_log(l: L) -> c_int {
    guard(l, |l| {
        let argc = ffi::lua_gettop(l);
        if argc < 2 {
            return Err(Fail::ErrTable(
                b"ERR redis.log() requires two arguments or more.".to_vec(),
            ));
        }
        if ffi::lua_isnumber(l, 1) == 0 {
            return Err(Fail::ErrTable(
                b"ERR First argument must be a number (log level).".to_vec(),
            ));
        }
        let level = ffi::lua_tonumber(l, 1) as i32;
        let level = match level {
            0 => LogLevel::Debug,
            1 => LogLevel::Verbose,
            2 => LogLevel::Notice,
            3 => LogLevel::Warning,
            _ => return Err(Fail::ErrTable(b"ERR Invalid debug level.".to_vec())),
        };
        let mut msg = Vec::new();
        for j in 2..=argc {
            if let Some(s) = to_bytes(l, j) {
                if j != 2 {
                    msg.push(b' ');
                }
                msg.extend_from_slice(s);
            }
        }
        if let Some(run) = current() {
            let host = run.host;
            catch(run, || (*host).log(level, &msg));
            if run.aborted {
                stop_on_every_line(l);
                return Err(Fail::ErrTable(ABORTED.to_vec()));
            }
        } else {
            crate::engine::log_outside_run(level, &msg);
        }
        Ok(0)
    })
}

unsafe extern "C-unwind" fn redis_setresp(l: L) -> c_int {
    guard(l, |l| {
        let Some(run) = current() else {
            return Err(Fail::ErrTable(
                b"ERR redis.setresp can only be called inside a script invocation".to_vec(),
            ));
        };
        if ffi::lua_gettop(l) != 1 {
            return Err(Fail::ErrTable(
                b"ERR redis.setresp() requires one argument.".to_vec(),
            ));
        }
        match ffi::lua_tonumber(l, 1) as i32 {
            2 => run.resp3 = false,
            3 => run.resp3 = true,
            _ => return Err(Fail::ErrTable(b"ERR RESP version must be 2 or 3.".to_vec())),
        }
        Ok(0)
    })
}

unsafe extern "C-unwind" fn redis_set_repl(l: L) -> c_int {
    guard(l, |l| {
        let Some(run) = current() else {
            return Err(Fail::ErrTable(
                b"ERR redis.set_repl can only be called inside a script invocation".to_vec(),
            ));
        };
        if ffi::lua_gettop(l) != 1 {
            return Err(Fail::ErrTable(
                b"ERR redis.set_repl() requires two arguments.".to_vec(),
            ));
        }
        let flags = ffi::lua_tonumber(l, -1) as i32;
        if flags & !3 != 0 {
            return Err(Fail::ErrTable(
                b"ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."
                    .to_vec(),
            ));
        }
        run.repl = flags as u8;
        Ok(0)
    })
}

unsafe extern "C-unwind" fn redis_acl_check_cmd(l: L) -> c_int {
    guard(l, |l| {
        let Some(run) = current() else {
            return Err(Fail::ErrTable(
                b"ERR redis.acl_check_cmd can only be called inside a script invocation".to_vec(),
            ));
        };
        let args = collect_args(l, &mut *run.arena).map_err(|m| Fail::ErrTable(m.to_vec()))?;
        let spec = run.registry.lookup(&args[0]).and_then(|s| s.resolve(&args));
        let Some(spec) = spec else {
            return Err(Fail::ErrTable(
                b"ERR Invalid command passed to redis.acl_check_cmd()".to_vec(),
            ));
        };
        let host = run.host;
        let Some(ok) = catch(run, || (*host).acl_check(&args, spec).is_ok()) else {
            stop_on_every_line(l);
            return Err(Fail::ErrTable(ABORTED.to_vec()));
        };
        ffi::lua_pushboolean(l, ok as c_int);
        Ok(1)
    })
}

unsafe extern "C-unwind" fn redis_sha1hex(l: L) -> c_int {
    guard(l, |l| {
        if ffi::lua_gettop(l) != 1 {
            return Err(Fail::ErrTable(b"ERR wrong number of arguments".to_vec()));
        }
        let s = to_bytes(l, 1).unwrap_or_default();
        let hex = crate::sha1_hex(s);
        push_bytes(l, hex.as_bytes());
        Ok(1)
    })
}

unsafe extern "C-unwind" fn redis_error_reply(l: L) -> c_int {
    if ffi::lua_gettop(l) != 1 || ty(l, -1) != ffi::LUA_TSTRING {
        push_err_table(l, b"ERR wrong number or type of arguments");
        return 1;
    }
    let s = to_bytes(l, -1).unwrap_or_default();
    let text = if s.first() == Some(&b'-') {
        error_text_for(s)
    } else {
        let mut v = b"-".to_vec();
        v.extend_from_slice(s);
        error_text_for(&v)
    };
    push_error_table_raw(l, &text);
    1
}

unsafe fn push_error_table_raw(l: L, text: &[u8]) {
    push_err_table(l, text);
}

unsafe extern "C-unwind" fn redis_status_reply(l: L) -> c_int {
    if ffi::lua_gettop(l) != 1 || ty(l, -1) != ffi::LUA_TSTRING {
        push_err_table(l, b"ERR wrong number or type of arguments");
        return 1;
    }
    ffi::lua_createtable(l, 0, 1);
    ffi::lua_pushvalue(l, -2);
    raw_set_str(l, -2, b"ok");
    1
}

unsafe extern "C-unwind" fn redis_breakpoint(l: L) -> c_int {
    ffi::lua_pushboolean(l, 0);
    1
}

unsafe extern "C-unwind" fn redis_debug(_l: L) -> c_int {
    0
}

unsafe extern "C-unwind" fn redis_replicate_commands(l: L) -> c_int {
    ffi::lua_pushboolean(l, 1);
    1
}

const LRAND48_MAX: i32 = i32::MAX;

unsafe extern "C-unwind" fn math_random(l: L) -> c_int {
    guard(l, |l| {
        let Some(run) = current() else {
            return Err(Fail::Where(
                "math.random can only be called inside a script invocation".into(),
            ));
        };
        let rand = &mut *run.rand;
        let r = (rand.next() % LRAND48_MAX) as f64 / LRAND48_MAX as f64;
        match ffi::lua_gettop(l) {
            0 => ffi::lua_pushnumber(l, r),
            1 => {
                let u = crate::lua::check_int(l, 1)? as i32;
                if u < 1 {
                    return Err(Fail::Arg(1, "interval is empty".into()));
                }
                ffi::lua_pushnumber(l, (r * u as f64).floor() + 1.0);
            }
            2 => {
                let lo = crate::lua::check_int(l, 1)? as i32;
                let up = crate::lua::check_int(l, 2)? as i32;
                if lo > up {
                    return Err(Fail::Arg(2, "interval is empty".into()));
                }
                ffi::lua_pushnumber(l, (r * (up as f64 - lo as f64 + 1.0)).floor() + lo as f64);
            }
            _ => return Err(Fail::Where("wrong number of arguments".into())),
        }
        Ok(1)
    })
}

unsafe extern "C-unwind" fn math_randomseed(l: L) -> c_int {
    guard(l, |l| {
        let Some(run) = current() else {
            return Err(Fail::Where(
                "math.randomseed can only be called inside a script invocation".into(),
            ));
        };
        let s = crate::lua::check_int(l, 1)? as i32;
        (*run.rand).seed(s);
        Ok(0)
    })
}

/// The message handler of every run, as Redis's `__redis__err__handler`: turns the error into
/// a table `{err = ..., source = ..., line = ...}` naming where the script failed.
pub(crate) unsafe extern "C-unwind" fn err_handler(l: L) -> c_int {
    let mut ar: ffi::lua_Debug = std::mem::zeroed();
    let mut have = ffi::lua_getstack(l, 1, &mut ar) != 0;
    if have {
        ffi::lua_getinfo(l, c"nSl".as_ptr(), &mut ar);
        if !ar.what.is_null() && std::ffi::CStr::from_ptr(ar.what).to_bytes() == b"C" {
            have = ffi::lua_getstack(l, 2, &mut ar) != 0;
            if have {
                ffi::lua_getinfo(l, c"nSl".as_ptr(), &mut ar);
            }
        }
    }
    if ty(l, 1) != ffi::LUA_TTABLE {
        let text = lua_tostring_like(l, 1);
        let mut msg = b"ERR ".to_vec();
        msg.extend_from_slice(&text);
        drop(text);
        ffi::lua_settop(l, 0);
        push_err_table(l, &msg);
        drop(msg);
    } else {
        ffi::lua_settop(l, 1);
    }
    if have {
        if !ar.source.is_null() {
            let src = std::ffi::CStr::from_ptr(ar.source).to_bytes();
            push_bytes(l, src);
            raw_set_str(l, 1, b"source");
        }
        ffi::lua_pushnumber(l, ar.currentline as f64);
        raw_set_str(l, 1, b"line");
    }
    1
}

/// `tostring(v)` for an error value.
unsafe fn lua_tostring_like(l: L, idx: c_int) -> Vec<u8> {
    match ty(l, idx) {
        ffi::LUA_TSTRING | ffi::LUA_TNUMBER => {
            ffi::lua_pushvalue(l, idx);
            let v = to_bytes(l, -1).unwrap_or_default().to_vec();
            ffi::lua_pop(l, 1);
            v
        }
        ffi::LUA_TNIL => b"nil".to_vec(),
        ffi::LUA_TBOOLEAN => {
            if ffi::lua_toboolean(l, idx) != 0 {
                b"true".to_vec()
            } else {
                b"false".to_vec()
            }
        }
        t => {
            let name = std::ffi::CStr::from_ptr(ffi::lua_typename(l, t)).to_bytes();
            format!(
                "{}: {:p}",
                String::from_utf8_lossy(name),
                ffi::lua_topointer(l, idx)
            )
            .into_bytes()
        }
    }
}

/// Makes the hook fire on every line, so that a script that caught the stop with `pcall`
/// meets it again at once (as Redis does after SCRIPT KILL).
pub(crate) unsafe fn stop_on_every_line(l: L) {
    ffi::lua_sethook(l, Some(hook), ffi::LUA_MASKLINE, 0);
}

/// How many Lua instructions run between two checks of the kill flag.
pub(crate) const HOOK_EVERY: c_int = 100_000;

/// The count hook: lets the host serve others, and stops a killed or aborted script.
pub(crate) unsafe extern "C-unwind" fn hook(l: L, _ar: *mut ffi::lua_Debug) {
    let Some(run) = current() else {
        return;
    };
    if !run.killed && !run.aborted {
        if !run.in_call {
            run.in_call = true;
            let host = run.host;
            catch(run, || (*host).tick());
            run.in_call = false;
        }
        if run.status.kill.load(Ordering::Relaxed) {
            run.killed = true;
        }
    }
    if run.killed || run.aborted {
        let msg: &[u8] = if run.aborted {
            ABORTED
        } else {
            kill_message(run)
        };
        stop_on_every_line(l);
        push_err_table(l, msg);
        ffi::lua_error(l);
    }
}

/// `redis.log`, for the load-time API of function libraries.
pub(crate) fn redis_log_fn() -> ffi::lua_CFunction {
    redis_log
}
