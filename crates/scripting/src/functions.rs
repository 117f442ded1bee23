//! Function libraries: FUNCTION LOAD / LIST / DELETE / FLUSH / DUMP / RESTORE / STATS,
//! `redis.register_function`, and FCALL / FCALL_RO.
//!
//! Libraries live in their own Lua state, as in Redis. While a library's code runs at load
//! time its globals show only the load API (`redis.register_function`, `redis.log`, the
//! version); when its functions run they see the same globals as EVAL scripts. Both views are
//! the same proxy table with a different `__index`, so that the functions a library defines
//! keep one environment.
//!
//! Must not: run commands outside a function call (load-time code has no `redis.call`).

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::ffi::c_int;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rustis_commands::Out;

use crate::convert::write_error;
use crate::engine::{
    prepare_checks, Engine, EngineConfig, RunInfo, RunMode, RunTarget, ScriptFlags,
};
use crate::lua::{
    ffi, guard, push_bytes, push_err_table, raw_get_str, raw_set_str, to_bytes, ty, Fail, State, L,
};
use crate::{Host, Outcome};

/// FUNCTION RESTORE's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibraryMode {
    /// Replace every library by the payload's.
    Flush,
    /// Add the payload's libraries; fail if one already exists.
    Append,
    /// Add them, replacing libraries of the same name.
    Replace,
}

/// Counts for FUNCTION STATS and INFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FunctionStats {
    /// Libraries loaded.
    pub libraries: usize,
    /// Functions in them.
    pub functions: usize,
}

/// How long a library's load-time code may run (Redis's `LOAD_TIMEOUT_MS`).
const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

/// Registry key of the load-time globals.
const REG_LOAD_GLOBALS: &[u8] = b"__rustis_load_globals";

struct Function {
    name: String,
    desc: Option<Bytes>,
    flags: ScriptFlags,
    func: c_int,
}

struct Library {
    name: String,
    /// The whole payload, shebang included (what FUNCTION LIST WITHCODE and DUMP give).
    code: Bytes,
    /// By name, case-sensitive within the library.
    functions: BTreeMap<String, Function>,
}

pub(crate) struct Functions {
    lua: State,
    /// By name (case-sensitive, as Redis).
    libraries: BTreeMap<String, Library>,
    /// Lowercase function name -> its library (function names are case-insensitive).
    index: HashMap<String, String>,
}

/// A library being loaded: what `redis.register_function` adds to.
struct LoadCtx {
    functions: BTreeMap<String, Function>,
    start: Instant,
    timeout: Option<Duration>,
}

thread_local! {
    static LOADING: Cell<*mut LoadCtx> = const { Cell::new(std::ptr::null_mut()) };
}

fn new_functions_state(config: &EngineConfig) -> State {
    let st = crate::engine::new_state(config);
    // SAFETY: a fresh state of ours; the stack is left balanced.
    unsafe { setup_load_api(st.l) };
    st
}

/// Builds the load-time globals `{redis = {register_function, log, LOG_*, REDIS_VERSION*}}`,
/// both raising on unknown names, and keeps them in the registry.
unsafe fn setup_load_api(l: L) {
    ffi::lua_createtable(l, 0, 1);
    let lg = ffi::lua_gettop(l);
    ffi::lua_createtable(l, 0, 8);
    crate::lua::set_funcs(
        l,
        &[
            ("register_function", register_function as ffi::lua_CFunction),
            ("log", crate::run::redis_log_fn()),
        ],
    );
    for (name, v) in [
        ("LOG_DEBUG", 0.0),
        ("LOG_VERBOSE", 1.0),
        ("LOG_NOTICE", 2.0),
        ("LOG_WARNING", 3.0),
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
    crate::sandbox::set_error_metatable(l, -1);
    crate::sandbox::push_proxy(l, -1);
    ffi::lua_remove(l, -2);
    raw_set_str(l, lg, b"redis");
    crate::sandbox::set_error_metatable(l, lg);
    raw_set_str(l, ffi::LUA_REGISTRYINDEX, REG_LOAD_GLOBALS);
}

/// Points the globals' `__index` at the load API (true) or back at the real globals.
unsafe fn globals_view(l: L, load: bool) {
    ffi::lua_getmetatable(l, ffi::LUA_GLOBALSINDEX);
    if load {
        raw_get_str(l, ffi::LUA_REGISTRYINDEX, REG_LOAD_GLOBALS);
    } else {
        crate::sandbox::push_real_globals(l);
    }
    raw_set_str(l, -2, b"__index");
    ffi::lua_pop(l, 1);
}

/// Redis's `functionsVerifyName`.
fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

const BAD_NAME: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

impl Functions {
    pub(crate) fn new(config: &EngineConfig) -> Self {
        Functions {
            lua: new_functions_state(config),
            libraries: BTreeMap::new(),
            index: HashMap::new(),
        }
    }

    fn stats(&self) -> FunctionStats {
        FunctionStats {
            libraries: self.libraries.len(),
            functions: self.index.len(),
        }
    }

    fn unref_library(&mut self, lib: &Library) {
        for f in lib.functions.values() {
            // SAFETY: the reference belongs to this state.
            unsafe { ffi::luaL_unref(self.lua.l, ffi::LUA_REGISTRYINDEX, f.func) };
        }
    }

    fn unlink(&mut self, name: &str) -> Option<Library> {
        let lib = self.libraries.remove(name)?;
        for f in lib.functions.keys() {
            self.index.remove(&f.to_ascii_lowercase());
        }
        Some(lib)
    }

    fn link(&mut self, lib: Library) {
        for f in lib.functions.keys() {
            self.index.insert(f.to_ascii_lowercase(), lib.name.clone());
        }
        self.libraries.insert(lib.name.clone(), lib);
    }

    /// Compiles and runs a library's code, collecting what it registers.
    fn create(&mut self, code: &[u8], timeout: Option<Duration>) -> Result<Library, String> {
        let (name, body) = parse_metadata(code)?;
        let l = self.lua.l;
        // SAFETY: this engine's functions state; the stack is restored.
        unsafe {
            if ffi::luaL_loadbuffer(
                l,
                body.as_ptr() as *const _,
                body.len(),
                c"@user_function".as_ptr(),
            ) != 0
            {
                let msg = String::from_utf8_lossy(to_bytes(l, -1).unwrap_or_default()).into_owned();
                ffi::lua_pop(l, 1);
                return Err(format!("ERR Error compiling function: {msg}"));
            }
            let mut ctx = LoadCtx {
                functions: BTreeMap::new(),
                start: Instant::now(),
                timeout,
            };
            globals_view(l, true);
            LOADING.with(|c| c.set(&mut ctx));
            ffi::lua_sethook(
                l,
                Some(load_hook),
                ffi::LUA_MASKCOUNT,
                crate::run::HOOK_EVERY,
            );
            let rc = ffi::lua_pcall(l, 0, 0, 0);
            ffi::lua_sethook(l, None, 0, 0);
            LOADING.with(|c| c.set(std::ptr::null_mut()));
            globals_view(l, false);
            let lib = Library {
                name,
                code: Bytes::copy_from_slice(code),
                functions: std::mem::take(&mut ctx.functions),
            };
            if rc != 0 {
                let msg = error_message(l);
                ffi::lua_pop(l, 1);
                self.unref_library(&lib);
                return Err(format!("ERR Error registering functions: {msg}"));
            }
            if lib.functions.is_empty() {
                return Err("ERR No functions registered".into());
            }
            Ok(lib)
        }
    }

    /// FUNCTION LOAD [REPLACE]: the library's name, or the whole error text.
    fn load(
        &mut self,
        code: &[u8],
        replace: bool,
        timeout: Option<Duration>,
    ) -> Result<String, String> {
        let (name, _) = parse_metadata(code)?;
        if self.libraries.contains_key(&name) && !replace {
            return Err(format!("ERR Library '{name}' already exists"));
        }
        let lib = self.create(code, timeout)?;
        for f in lib.functions.keys() {
            if let Some(owner) = self.index.get(&f.to_ascii_lowercase()) {
                if *owner != lib.name {
                    let err = format!("ERR Function {f} already exists");
                    self.unref_library(&lib);
                    return Err(err);
                }
            }
        }
        if let Some(old) = self.unlink(&lib.name) {
            self.unref_library(&old);
        }
        let name = lib.name.clone();
        self.link(lib);
        Ok(name)
    }

    fn flush(&mut self) {
        let libs = std::mem::take(&mut self.libraries);
        self.index.clear();
        for lib in libs.values() {
            self.unref_library(lib);
        }
    }
}

/// Parses `#!<engine> name=<lib>` and returns the name and the code after the shebang line
/// (its newline kept, so that line numbers do not move).
fn parse_metadata(code: &[u8]) -> Result<(String, &[u8]), String> {
    if !code.starts_with(b"#!") {
        return Err("ERR Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&c| c == b'\n') else {
        return Err("ERR Invalid library metadata".into());
    };
    let parts = rustis_resp::parse::split_args(&code[..end]).unwrap_or_default();
    if parts.is_empty() {
        return Err("ERR Invalid library metadata".into());
    }
    let engine = &parts[0][2..];
    let mut name: Option<Bytes> = None;
    for p in &parts[1..] {
        if p.len() >= 5 && p[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "ERR Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(p.slice(5..));
            continue;
        }
        return Err(format!(
            "ERR Invalid metadata value given: {}",
            String::from_utf8_lossy(p)
        ));
    }
    let Some(name) = name else {
        return Err("ERR Library name was not given".into());
    };
    if !valid_name(&name) {
        return Err(format!("ERR {BAD_NAME}"));
    }
    if !engine.eq_ignore_ascii_case(b"lua") {
        return Err(format!(
            "ERR Engine '{}' not found",
            String::from_utf8_lossy(engine)
        ));
    }
    Ok((String::from_utf8_lossy(&name).into_owned(), &code[end..]))
}

/// The message Redis builds from a failed load (`luaExtractErrorInformation`).
unsafe fn error_message(l: L) -> String {
    let mut msg = String::new();
    if ffi::lua_isstring(l, -1) != 0 {
        msg = format!(
            "ERR {}",
            String::from_utf8_lossy(to_bytes(l, -1).unwrap_or_default())
        );
    }
    if ty(l, -1) == ffi::LUA_TTABLE {
        raw_get_str(l, -1, b"err");
        if ffi::lua_isstring(l, -1) != 0 {
            msg = String::from_utf8_lossy(to_bytes(l, -1).unwrap_or_default()).into_owned();
        }
        ffi::lua_pop(l, 1);
    }
    msg
}

unsafe extern "C-unwind" fn load_hook(l: L, _ar: *mut ffi::lua_Debug) {
    let p = LOADING.with(|c| c.get());
    if p.is_null() {
        return;
    }
    let ctx = &*p;
    if let Some(t) = ctx.timeout {
        if ctx.start.elapsed() > t {
            ffi::lua_sethook(l, Some(load_hook), ffi::LUA_MASKLINE, 0);
            push_err_table(l, b"ERR FUNCTION LOAD timeout");
            ffi::lua_error(l);
        }
    }
}

/// Reads a `flags` table of `redis.register_function`.
unsafe fn read_flags(l: L, idx: c_int) -> Option<u32> {
    let mut flags = 0;
    let mut j = 1;
    loop {
        ffi::lua_pushnumber(l, j as f64);
        ffi::lua_gettable_(l, idx);
        if ty(l, -1) == ffi::LUA_TNIL {
            ffi::lua_pop(l, 1);
            return Some(flags);
        }
        if ffi::lua_isstring(l, -1) == 0 {
            ffi::lua_pop(l, 1);
            return None;
        }
        let s = to_bytes(l, -1).unwrap_or_default();
        let found = ScriptFlags::NAMES
            .iter()
            .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(s));
        ffi::lua_pop(l, 1);
        flags |= found?.0;
        j += 1;
    }
}

fn err(msg: &str) -> Fail {
    Fail::ErrTable(format!("ERR {msg}").into_bytes())
}

/// `redis.register_function(name, callback)` or `redis.register_function{function_name=...,
/// callback=..., flags={...}, description=...}`.
unsafe extern "C-unwind" fn register_function(l: L) -> c_int {
    guard(l, |l| {
        let p = LOADING.with(|c| c.get());
        if p.is_null() {
            return Err(err(
                "redis.register_function can only be called on FUNCTION LOAD command",
            ));
        }
        let ctx = &mut *p;
        let argc = ffi::lua_gettop(l);
        if !(1..=2).contains(&argc) {
            return Err(err("wrong number of arguments to redis.register_function"));
        }
        let (name, desc, flags) = if argc == 1 {
            if ty(l, 1) != ffi::LUA_TTABLE {
                return Err(err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."));
            }
            let mut name = None;
            let mut desc = None;
            let mut flags = 0;
            let mut have_callback = false;
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, 1) != 0 {
                if ffi::lua_isstring(l, -2) == 0 {
                    return Err(err(
                        "named argument key given to redis.register_function is not a string",
                    ));
                }
                // Copy the key: `lua_tolstring` would turn a number key into a string in place.
                ffi::lua_pushvalue(l, -2);
                let key = to_bytes(l, -1).unwrap_or_default().to_ascii_lowercase();
                ffi::lua_pop(l, 1);
                match key.as_slice() {
                    b"function_name" => match ffi::lua_isstring(l, -1) {
                        0 => return Err(err("function_name argument given to redis.register_function must be a string")),
                        _ => name = Some(to_bytes(l, -1).unwrap_or_default().to_vec()),
                    },
                    b"description" => match ffi::lua_isstring(l, -1) {
                        0 => return Err(err("description argument given to redis.register_function must be a string")),
                        _ => desc = Some(Bytes::copy_from_slice(to_bytes(l, -1).unwrap_or_default())),
                    },
                    b"callback" => {
                        if ty(l, -1) != ffi::LUA_TFUNCTION {
                            return Err(err("callback argument given to redis.register_function must be a function"));
                        }
                        ffi::lua_pushvalue(l, -1);
                        raw_set_str(l, ffi::LUA_REGISTRYINDEX, b"__rustis_pending_callback");
                        have_callback = true;
                    }
                    b"flags" => {
                        if ty(l, -1) != ffi::LUA_TTABLE {
                            return Err(err("flags argument to redis.register_function must be a table representing function flags"));
                        }
                        let idx = ffi::lua_gettop(l);
                        match read_flags(l, idx) {
                            Some(f) => flags = f,
                            None => return Err(err("unknown flag given")),
                        }
                    }
                    _ => return Err(err("unknown argument given to redis.register_function")),
                }
                ffi::lua_pop(l, 1);
            }
            let Some(name) = name else {
                return Err(err(
                    "redis.register_function must get a function name argument",
                ));
            };
            if !have_callback {
                return Err(err("redis.register_function must get a callback argument"));
            }
            raw_get_str(l, ffi::LUA_REGISTRYINDEX, b"__rustis_pending_callback");
            (name, desc, flags)
        } else {
            if ffi::lua_isstring(l, 1) == 0 {
                return Err(err(
                    "first argument to redis.register_function must be a string",
                ));
            }
            if ty(l, 2) != ffi::LUA_TFUNCTION {
                return Err(err(
                    "second argument to redis.register_function must be a function",
                ));
            }
            let name = to_bytes(l, 1).unwrap_or_default().to_vec();
            ffi::lua_pushvalue(l, 2);
            (name, None, 0)
        };
        ffi::lua_pushnil(l);
        raw_set_str(l, ffi::LUA_REGISTRYINDEX, b"__rustis_pending_callback");
        if !valid_name(&name) {
            return Err(err(BAD_NAME));
        }
        let name = String::from_utf8_lossy(&name).into_owned();
        if ctx.functions.contains_key(&name) {
            return Err(err("Function already exists in the library"));
        }
        let func = ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX);
        ctx.functions.insert(
            name.clone(),
            Function {
                name,
                desc,
                flags: ScriptFlags(flags),
                func,
            },
        );
        Ok(0)
    })
}

fn write_flags(out: &mut Out, flags: ScriptFlags) {
    let names: Vec<&str> = ScriptFlags::NAMES
        .iter()
        .filter(|(b, _)| flags.has(*b))
        .map(|(_, n)| *n)
        .collect();
    out.set(names.len());
    for n in names {
        out.simple(n);
    }
}

impl Engine {
    /// FUNCTION LOAD [REPLACE] code, as a plain call: returns the library name, or the whole
    /// error text. Deterministic, so that every thread's engine can be given the same call.
    /// `timeout` bounds the library's load-time code (Redis gives clients 500 ms, none to
    /// its master and to the AOF).
    pub fn load_library(
        &mut self,
        code: &[u8],
        replace: bool,
        timeout: Option<Duration>,
    ) -> Result<String, String> {
        self.functions.load(code, replace, timeout)
    }

    /// FUNCTION DELETE: false when there is no such library.
    pub fn delete_library(&mut self, name: &[u8]) -> bool {
        let name = String::from_utf8_lossy(name).into_owned();
        match self.functions.unlink(&name) {
            Some(lib) => {
                self.functions.unref_library(&lib);
                true
            }
            None => false,
        }
    }

    /// FUNCTION FLUSH.
    pub fn flush_functions(&mut self) {
        self.functions.flush();
    }

    /// Libraries and functions loaded (FUNCTION STATS, INFO).
    pub fn function_stats(&self) -> FunctionStats {
        self.functions.stats()
    }

    /// `used_memory_vm_functions`: bytes the functions Lua state uses.
    pub fn used_memory_functions(&self) -> usize {
        self.functions.lua.mem.used
    }

    /// What an FCALL / FCALL_RO will run, checked as Redis checks it before running. `Err`
    /// holds the whole error text.
    pub fn fcall_info(
        &mut self,
        args: &[Bytes],
        read_only: bool,
        host: &mut dyn Host,
    ) -> Result<RunInfo, String> {
        let lname = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
        let Some(lib) = self.functions.index.get(&lname) else {
            return Err("ERR Function not found".into());
        };
        let lib = &self.functions.libraries[lib];
        let f = lib
            .functions
            .values()
            .find(|f| f.name.to_ascii_lowercase() == lname)
            .ok_or_else(|| "ERR Function not found".to_string())?;
        let (name, flags) = (f.name.clone(), f.flags);
        let keys = crate::fcall_keys(args)?;
        let keys = keys.first().copied().unwrap_or(3)..keys.last().map_or(3, |k| k + 1);
        let read_only = prepare_checks(flags, read_only, host)?;
        Ok(RunInfo {
            name: name.into(),
            flags,
            read_only,
            keys,
            compiled: false,
            prepared: None,
        })
    }

    /// FCALL / FCALL_RO: `args` is the whole command line. Writes the reply (or error) into
    /// `out`, or nothing when the host aborted the run.
    pub fn fcall(
        &mut self,
        args: &[Bytes],
        read_only: bool,
        host: &mut dyn Host,
        out: &mut Out,
    ) -> Outcome {
        let info = match self.fcall_info(args, read_only, host) {
            Ok(i) => i,
            Err(e) => {
                write_error(out, e.as_bytes());
                return Outcome::Done;
            }
        };
        let lib = &self.functions.index[&info.name.to_ascii_lowercase()];
        let func = self.functions.libraries[lib].functions[&*info.name].func;
        let keys = &args[info.keys.clone()];
        let argv = &args[info.keys.end..];
        let lua = (self.functions.lua.l, self.functions.lua.refs);
        let allow_oom = info.flags.has(ScriptFlags::ALLOW_OOM);
        self.run(
            lua,
            RunTarget::Function(func),
            &info.name,
            keys,
            argv,
            RunMode {
                read_only: info.read_only,
                allow_oom,
            },
            host,
            out,
        )
    }

    /// FUNCTION LOAD | LIST | DELETE | FLUSH | DUMP | RESTORE | STATS | HELP. KILL is the
    /// runtime's: for it this returns [`Outcome::NotHandled`] and writes nothing.
    pub fn function_cmd(&mut self, args: &[Bytes], out: &mut Out) -> Outcome {
        let sub = args
            .get(1)
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default();
        match sub.as_slice() {
            b"load" => {
                let mut replace = false;
                let mut i = 2;
                while i + 1 < args.len() {
                    if args[i].eq_ignore_ascii_case(b"replace") {
                        replace = true;
                        i += 1;
                        continue;
                    }
                    write_error(
                        out,
                        format!(
                            "ERR Unknown option given: {}",
                            String::from_utf8_lossy(&args[i])
                        )
                        .as_bytes(),
                    );
                    return Outcome::Done;
                }
                if i >= args.len() {
                    out.error("ERR Function code is missing");
                    return Outcome::Done;
                }
                match self.load_library(&args[i], replace, Some(LOAD_TIMEOUT)) {
                    Ok(name) => out.bulk(name.as_bytes()),
                    Err(e) => write_error(out, e.as_bytes()),
                }
            }
            b"delete" if args.len() == 3 => {
                if self.delete_library(&args[2]) {
                    out.ok();
                } else {
                    out.error("ERR Library not found");
                }
            }
            b"flush" if args.len() <= 3 => {
                let ok = args.len() == 2
                    || args[2].eq_ignore_ascii_case(b"sync")
                    || args[2].eq_ignore_ascii_case(b"async");
                if ok {
                    self.flush_functions();
                    out.ok();
                } else {
                    out.error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
                }
            }
            b"list" => self.function_list(args, out),
            b"stats" if args.len() == 2 => {
                let s = self.function_stats();
                out.map(2);
                out.bulk(b"running_script");
                out.null();
                out.bulk(b"engines");
                out.map(1);
                out.bulk(b"LUA");
                out.map(2);
                out.bulk(b"libraries_count");
                out.int(s.libraries as i64);
                out.bulk(b"functions_count");
                out.int(s.functions as i64);
            }
            b"dump" if args.len() == 2 => {
                let payload = self.dump_functions();
                out.bulk(&payload);
            }
            b"restore" if args.len() == 3 || args.len() == 4 => {
                let mode = match args.get(3).map(|a| a.to_ascii_lowercase()) {
                    None => LibraryMode::Append,
                    Some(m) if m == b"append" => LibraryMode::Append,
                    Some(m) if m == b"replace" => LibraryMode::Replace,
                    Some(m) if m == b"flush" => LibraryMode::Flush,
                    Some(_) => {
                        out.error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
                        return Outcome::Done;
                    }
                };
                match self.restore_functions(&args[2], mode) {
                    Ok(()) => out.ok(),
                    Err(e) => write_error(out, e.as_bytes()),
                }
            }
            b"kill" if args.len() == 2 => return Outcome::NotHandled,
            b"help" if args.len() == 2 => {
                let help = [
                    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "LOAD [REPLACE] <FUNCTION CODE>",
                    "    Create a new library with the given library name and code.",
                    "DELETE <LIBRARY NAME>",
                    "    Delete the given library.",
                    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
                    "    Return general information on all the libraries:",
                    "    * Library name",
                    "    * The engine used to run the Library",
                    "    * Library description",
                    "    * Functions list",
                    "    * Library code (if WITHCODE is given)",
                    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
                    "STATS",
                    "    Return information about the current function running:",
                    "    * Function name",
                    "    * Command used to run the function",
                    "    * Duration in MS that the function is running",
                    "    If no function is running, return nil",
                    "    In addition, returns a list of available engines.",
                    "KILL",
                    "    Kill the current running function.",
                    "FLUSH [ASYNC|SYNC]",
                    "    Delete all the libraries.",
                    "    When called without the optional mode argument, the behavior is determined by the",
                    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
                    "    * ASYNC: Asynchronously flush the libraries.",
                    "    * SYNC: Synchronously flush the libraries.",
                    "DUMP",
                    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
                    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
                    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
                    "    control how to handle existing libraries (default APPEND):",
                    "    * FLUSH: delete all existing libraries.",
                    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
                    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
                    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
                    "      in case of functions name collision with another library).",
                    "HELP",
                    "    Prints this help.",
                ];
                out.array(help.len());
                for h in help {
                    out.simple(h);
                }
            }
            _ => {
                let name = String::from_utf8_lossy(args.get(1).map(|b| &b[..]).unwrap_or(b""))
                    .into_owned();
                out.error(&format!(
                    "ERR unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP.",
                    crate::abbrev(&name)
                ));
            }
        }
        Outcome::Done
    }

    fn function_list(&mut self, args: &[Bytes], out: &mut Out) {
        let mut with_code = false;
        let mut pattern: Option<&Bytes> = None;
        let mut i = 2;
        while i < args.len() {
            if !with_code && args[i].eq_ignore_ascii_case(b"withcode") {
                with_code = true;
                i += 1;
                continue;
            }
            if pattern.is_none() && args[i].eq_ignore_ascii_case(b"libraryname") {
                if i >= args.len() - 1 {
                    out.error("ERR library name argument was not given");
                    return;
                }
                pattern = Some(&args[i + 1]);
                i += 2;
                continue;
            }
            write_error(
                out,
                format!("ERR Unknown argument {}", String::from_utf8_lossy(&args[i])).as_bytes(),
            );
            return;
        }
        let libs: Vec<&Library> = self
            .functions
            .libraries
            .values()
            .filter(|lib| {
                pattern
                    .is_none_or(|p| rustis_commands::glob::glob_match(p, lib.name.as_bytes(), true))
            })
            .collect();
        out.array(libs.len());
        for lib in libs {
            out.map(if with_code { 4 } else { 3 });
            out.bulk(b"library_name");
            out.bulk(lib.name.as_bytes());
            out.bulk(b"engine");
            out.bulk(b"LUA");
            out.bulk(b"functions");
            out.array(lib.functions.len());
            for f in lib.functions.values() {
                out.map(3);
                out.bulk(b"name");
                out.bulk(f.name.as_bytes());
                out.bulk(b"description");
                match &f.desc {
                    Some(d) => out.bulk(d),
                    None => out.null(),
                }
                out.bulk(b"flags");
                write_flags(out, f.flags);
            }
            if with_code {
                out.bulk(b"library_code");
                out.bulk(&lib.code);
            }
        }
    }

    /// FUNCTION DUMP's payload: each library's code as an RDB function record, then the RDB
    /// version and a CRC64, as redis-server writes them.
    pub fn dump_functions(&self) -> Vec<u8> {
        let codes: Vec<&[u8]> = self
            .functions
            .libraries
            .values()
            .map(|l| &l.code[..])
            .collect();
        crate::dump::dump_payload(&codes)
    }

    /// FUNCTION RESTORE: loads the libraries of a payload from [`Engine::dump_functions`] or
    /// redis-server. All or nothing: on error no library changed. `Err` holds the whole error
    /// text.
    pub fn restore_functions(&mut self, payload: &[u8], mode: LibraryMode) -> Result<(), String> {
        let codes = crate::dump::parse_payload(payload)?;
        // Build the new libraries in a scratch set, as Redis does, then join.
        let mut fresh: BTreeMap<String, Library> = BTreeMap::new();
        let mut fresh_index: HashMap<String, String> = HashMap::new();
        let mut fail = None;
        for code in &codes {
            let lib = match self.functions.create(code, None) {
                Ok(l) => l,
                Err(e) => {
                    fail = Some(e);
                    break;
                }
            };
            if fresh.contains_key(&lib.name) {
                fail = Some(format!("ERR Library '{}' already exists", lib.name));
                self.functions.unref_library(&lib);
                break;
            }
            if let Some(f) = lib
                .functions
                .keys()
                .find(|f| fresh_index.contains_key(&f.to_ascii_lowercase()))
            {
                fail = Some(format!("ERR Function {f} already exists"));
                self.functions.unref_library(&lib);
                break;
            }
            for f in lib.functions.keys() {
                fresh_index.insert(f.to_ascii_lowercase(), lib.name.clone());
            }
            fresh.insert(lib.name.clone(), lib);
        }
        if fail.is_none() && mode != LibraryMode::Flush {
            for name in fresh.keys() {
                if mode == LibraryMode::Append && self.functions.libraries.contains_key(name) {
                    fail = Some(format!("ERR Library {name} already exists"));
                    break;
                }
            }
            if fail.is_none() {
                for (f, lib) in &fresh_index {
                    if let Some(owner) = self.functions.index.get(f) {
                        let replaced = mode == LibraryMode::Replace && fresh.contains_key(owner);
                        if !replaced {
                            let name = &fresh[lib]
                                .functions
                                .values()
                                .find(|x| x.name.to_ascii_lowercase() == *f)
                                .map(|x| x.name.clone())
                                .unwrap_or_default();
                            fail = Some(format!("ERR Function {name} already exists"));
                            break;
                        }
                    }
                }
            }
        }
        if let Some(e) = fail {
            for lib in fresh.values() {
                self.functions.unref_library(lib);
            }
            return Err(e);
        }
        if mode == LibraryMode::Flush {
            self.functions.flush();
        }
        for (name, lib) in fresh {
            if let Some(old) = self.functions.unlink(&name) {
                self.functions.unref_library(&old);
            }
            self.functions.link(lib);
        }
        Ok(())
    }
}
