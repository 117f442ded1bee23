//! The raw Lua 5.1 layer: the state with its counting allocator, and the helpers every
//! Lua-callable function of this crate is written with.
//!
//! The Redis libraries (`redis.*`, `cjson`, `bit`, ...) are C functions in Redis and raise Lua
//! errors with `lua_error`, sometimes with a table as the error value, and their error texts
//! come from the Lua auxiliary library (`bad argument #1 to 'tohex' (number expected, got no
//! value)`, prefixed with the caller's `user_script:1:`). To give the same errors, this crate's
//! Lua functions are `lua_CFunction`s over the raw API too. A raised Lua error unwinds by
//! `longjmp`, past the Rust frames of the function that raised it, so every such function is
//! written as [`guard`] around a body that returns `Result`: the body's values are all dropped
//! before [`raise`] calls `lua_error`. The only other `longjmp` out of Rust code is Lua's own
//! "not enough memory", from an allocation inside a push; it can leak what the unwound frame
//! held, never corrupt it.
//!
//! Must not: know about commands, replies or the script cache.

use std::alloc::{self, Layout};
use std::ffi::{c_char, c_int, c_void, CStr};

pub(crate) use mlua_sys as ffi;

/// A raw Lua state pointer.
pub(crate) type L = *mut ffi::lua_State;

/// What the allocator counts: bytes in use by the state, and the cap (0: none).
pub(crate) struct MemCounter {
    pub(crate) used: usize,
    pub(crate) limit: usize,
}

const ALIGN: usize = 16;

/// Lua's allocator: the global allocator, counting bytes and refusing growth past the limit
/// (Lua then raises "not enough memory").
unsafe extern "C" fn counting_alloc(
    ud: *mut c_void,
    ptr: *mut c_void,
    osize: usize,
    nsize: usize,
) -> *mut c_void {
    let mem = &mut *(ud as *mut MemCounter);
    let old = if ptr.is_null() { 0 } else { osize };
    if nsize == 0 {
        if !ptr.is_null() {
            alloc::dealloc(
                ptr as *mut u8,
                Layout::from_size_align_unchecked(osize.max(1), ALIGN),
            );
            mem.used -= old;
        }
        return std::ptr::null_mut();
    }
    if mem.limit != 0 && nsize > old && mem.used + (nsize - old) > mem.limit {
        return std::ptr::null_mut();
    }
    let p = if ptr.is_null() {
        match Layout::from_size_align(nsize, ALIGN) {
            Ok(l) => alloc::alloc(l),
            Err(_) => return std::ptr::null_mut(),
        }
    } else {
        alloc::realloc(
            ptr as *mut u8,
            Layout::from_size_align_unchecked(osize.max(1), ALIGN),
            nsize,
        )
    };
    if !p.is_null() {
        mem.used = mem.used - old + nsize;
    }
    p as *mut c_void
}

/// An owned Lua state and its memory counter.
pub(crate) struct State {
    pub(crate) l: L,
    pub(crate) mem: Box<MemCounter>,
    /// What each run pushes, by registry reference (see [`Refs`]).
    pub(crate) refs: Refs,
}

/// Registry references (`luaL_ref`) to the values every run pushes: `lua_rawgeti` of one is a
/// direct array read, where a string key is hashed and looked up first.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Refs {
    /// The error handler runs are called under.
    pub(crate) err_handler: c_int,
    /// The real global table.
    pub(crate) real_globals: c_int,
    /// The strings `"KEYS"` and `"ARGV"`.
    pub(crate) keys_name: c_int,
    pub(crate) argv_name: c_int,
}

impl State {
    /// A new state with no libraries; `None` when Lua cannot allocate it.
    pub(crate) fn new() -> Option<State> {
        let mut mem = Box::new(MemCounter { used: 0, limit: 0 });
        let ud = &mut *mem as *mut MemCounter as *mut c_void;
        // SAFETY: the counter is boxed, so its address outlives the state (dropped after it).
        let l = unsafe { ffi::lua_newstate(counting_alloc, ud) };
        if l.is_null() {
            return None;
        }
        Some(State {
            l,
            mem,
            refs: Refs::default(),
        })
    }
}

impl Drop for State {
    fn drop(&mut self) {
        // SAFETY: the state is ours and no Lua call is running (we hold `&mut self`).
        unsafe { ffi::lua_close(self.l) }
    }
}

/// Why a Lua-callable function fails; [`raise`] turns it into the Lua error.
pub(crate) enum Fail {
    /// `luaL_error`: the message prefixed with the calling Lua code's `source:line:`.
    Where(String),
    /// A string error with no position (what the Lua core raises from a C function).
    Plain(String),
    /// Redis's error table `{err = msg}`; `msg` already has its error code.
    ErrTable(Vec<u8>),
    /// `luaL_argerror(n, msg)`.
    Arg(c_int, String),
    /// `luaL_typerror(n, expected)`.
    Type(c_int, &'static str),
    /// The error value is already on top of the stack.
    OnStack,
}

/// Runs the body of a Lua-callable function and raises its failure as a Lua error, after
/// the body and its values are gone.
#[inline]
pub(crate) unsafe fn guard(l: L, body: impl FnOnce(L) -> Result<c_int, Fail>) -> c_int {
    let r = body(l);
    match r {
        Ok(n) => n,
        Err(f) => raise(l, f),
    }
}

/// Pushes the error value for `f` and raises it. Nothing owned is alive when it unwinds.
/// When the Lua stack is full (the failure may be that very check), the function's own
/// stack is dropped first: the error unwinds it anyway.
pub(crate) unsafe fn raise(l: L, f: Fail) -> ! {
    enum Text {
        Where(String),
        Plain(String),
        Table(Vec<u8>),
        OnStack,
    }
    let text = match f {
        Fail::Where(msg) => Text::Where(msg),
        Fail::Plain(msg) => Text::Plain(msg),
        Fail::ErrTable(msg) => Text::Table(msg),
        Fail::Arg(n, msg) => Text::Where(arg_error_text(l, n, &msg)),
        Fail::Type(n, expected) => {
            let got = CStr::from_ptr(ffi::luaL_typename(l, n)).to_string_lossy();
            let msg = format!("{expected} expected, got {got}");
            Text::Where(arg_error_text(l, n, &msg))
        }
        Fail::OnStack => Text::OnStack,
    };
    if !matches!(text, Text::OnStack) && ffi::lua_checkstack(l, 4) == 0 {
        ffi::lua_settop(l, 0);
    }
    match text {
        Text::Where(msg) => push_where(l, &msg),
        Text::Plain(msg) => push_bytes(l, msg.as_bytes()),
        Text::Table(msg) => push_err_table(l, &msg),
        Text::OnStack => {}
    }
    ffi::lua_error(l)
}

/// `luaL_where(L, 1)` followed by the message, concatenated on the stack.
unsafe fn push_where(l: L, msg: &str) {
    ffi::luaL_where(l, 1);
    push_bytes(l, msg.as_bytes());
    ffi::lua_concat(l, 2);
}

/// The text of `luaL_argerror`: names the called function as Lua's debug info does.
unsafe fn arg_error_text(l: L, mut n: c_int, msg: &str) -> String {
    let mut ar: ffi::lua_Debug = std::mem::zeroed();
    if ffi::lua_getstack(l, 0, &mut ar) == 0 {
        return format!("bad argument #{n} ({msg})");
    }
    ffi::lua_getinfo(l, c"n".as_ptr(), &mut ar);
    let namewhat = cstr_lossy(ar.namewhat);
    let name = if ar.name.is_null() {
        "?".to_string()
    } else {
        cstr_lossy(ar.name)
    };
    if namewhat == "method" {
        n -= 1;
        if n == 0 {
            return format!("calling '{name}' on bad self ({msg})");
        }
    }
    format!("bad argument #{n} to '{name}' ({msg})")
}

fn cstr_lossy(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: Lua's debug strings are NUL-terminated and live while the frame does.
    unsafe { CStr::from_ptr(p).to_string_lossy().into_owned() }
}

/// Pushes `{err = msg}`.
pub(crate) unsafe fn push_err_table(l: L, msg: &[u8]) {
    ffi::lua_createtable(l, 0, 1);
    push_bytes(l, b"err");
    push_bytes(l, msg);
    ffi::lua_rawset(l, -3);
}

/// Pushes a byte string.
#[inline]
pub(crate) unsafe fn push_bytes(l: L, s: &[u8]) {
    ffi::lua_pushlstring_(l, s.as_ptr() as *const c_char, s.len());
}

/// The bytes of the string at `idx` (numbers are converted in place, as `lua_tolstring`
/// does), or `None` for other types. The slice lives while the value stays on the stack.
#[inline]
pub(crate) unsafe fn to_bytes<'a>(l: L, idx: c_int) -> Option<&'a [u8]> {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    if p.is_null() {
        None
    } else {
        Some(std::slice::from_raw_parts(p as *const u8, len))
    }
}

/// The type of the value at `idx`.
#[inline]
pub(crate) unsafe fn ty(l: L, idx: c_int) -> c_int {
    ffi::lua_type(l, idx)
}

/// `t[k]` without metamethods, for a table at `idx` and a string key; pushes the value.
pub(crate) unsafe fn raw_get_str(l: L, idx: c_int, k: &[u8]) {
    let idx = abs_index(l, idx);
    push_bytes(l, k);
    ffi::lua_rawget_(l, idx);
}

/// Sets `t[k] = top` without metamethods (pops the value).
pub(crate) unsafe fn raw_set_str(l: L, idx: c_int, k: &[u8]) {
    let idx = abs_index(l, idx);
    push_bytes(l, k);
    ffi::lua_insert(l, -2);
    ffi::lua_rawset(l, idx);
}

/// A stack index that stays valid as the stack grows.
#[inline]
pub(crate) unsafe fn abs_index(l: L, idx: c_int) -> c_int {
    if idx > 0 || idx <= ffi::LUA_REGISTRYINDEX {
        idx
    } else {
        ffi::lua_gettop(l) + idx + 1
    }
}

/// Registers C functions into the table on top of the stack.
pub(crate) unsafe fn set_funcs(l: L, funcs: &[(&str, ffi::lua_CFunction)]) {
    for (name, f) in funcs {
        ffi::lua_pushcclosure(l, *f, 0);
        raw_set_str(l, -2, name.as_bytes());
    }
}

/// Like `luaL_checknumber`, without raising.
pub(crate) unsafe fn check_number(l: L, n: c_int) -> Result<f64, Fail> {
    let d = ffi::lua_tonumber(l, n);
    if d == 0.0 && ffi::lua_isnumber(l, n) == 0 {
        return Err(Fail::Type(n, "number"));
    }
    Ok(d)
}

/// Like `luaL_checkint`/`luaL_checkinteger` (C's truncation of the number).
pub(crate) unsafe fn check_int(l: L, n: c_int) -> Result<i64, Fail> {
    let d = check_number(l, n)?;
    Ok(d as i64)
}

/// Like `luaL_optinteger`.
pub(crate) unsafe fn opt_int(l: L, n: c_int, def: i64) -> Result<i64, Fail> {
    if ffi::lua_type(l, n) <= ffi::LUA_TNIL {
        Ok(def)
    } else {
        check_int(l, n)
    }
}

/// Like `luaL_checklstring`: strings and numbers.
pub(crate) unsafe fn check_bytes<'a>(l: L, n: c_int) -> Result<&'a [u8], Fail> {
    to_bytes(l, n).ok_or(Fail::Type(n, "string"))
}
