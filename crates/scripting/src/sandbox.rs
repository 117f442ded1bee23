//! The Lua state as Redis 7.0 sets it up for scripts: the libraries, the `redis` API, and the
//! read-only globals.
//!
//! Redis patches its Lua to mark tables read-only. This crate runs stock Lua 5.1, so each
//! protected table is shown to scripts through an empty proxy whose metatable reads from the
//! real table and refuses writes with Redis's text (`Attempt to modify a readonly table`). The
//! base functions that bypass metatables (`rawset`, `rawget`, `setmetatable`, `next`,
//! `pairs`, `ipairs`) are wrapped to see through proxies and to refuse writes to
//! them. The thread's globals are the proxy of the real global table, whose own metatable
//! raises `Script attempted to access nonexistent global variable` for unknown names.
//!
//! Must not: hold per-run state (that is [`crate::run`]).

use std::ffi::c_int;

use crate::lua::{
    ffi, guard, push_bytes, raw_get_str, raw_set_str, set_funcs, to_bytes, ty, Fail, Refs, L,
};

/// Registry keys of the tables the sandbox keeps.
pub(crate) const REG_PROXY_TO_REAL: &[u8] = b"__rustis_proxy_to_real";
pub(crate) const REG_REAL_TO_PROXY: &[u8] = b"__rustis_real_to_proxy";
/// The real global table (scripts see its proxy).
pub(crate) const REG_REAL_GLOBALS: &[u8] = b"__rustis_real_globals";
/// The error handler every script runs under.
pub(crate) const REG_ERR_HANDLER: &[u8] = b"__rustis_err_handler";

/// `REDIS_VERSION` and `REDIS_VERSION_NUM` of the Redis this engine follows.
pub const REDIS_VERSION: &str = "7.0.15";
/// `(major << 16) | (minor << 8) | patch`.
pub const REDIS_VERSION_NUM: u32 = (7 << 16) | 15;

/// Loads the libraries and the API into a fresh state and locks the globals. Returns the
/// references each run needs.
pub(crate) unsafe fn setup(l: L) -> Refs {
    for (name, open) in [
        ("", ffi::luaopen_base as ffi::lua_CFunction),
        ("table", ffi::luaopen_table),
        ("string", ffi::luaopen_string),
        ("math", ffi::luaopen_math),
    ] {
        ffi::lua_pushcclosure(l, open, 0);
        push_bytes(l, name.as_bytes());
        ffi::lua_call(l, 1, 0);
    }
    ffi::lua_pushvalue(l, ffi::LUA_GLOBALSINDEX);
    let g = ffi::lua_gettop(l);
    // Redis 7.0's globals leave these out.
    for name in [
        "print", "dofile", "loadfile", "getfenv", "setfenv", "newproxy",
    ] {
        ffi::lua_pushnil(l);
        raw_set_str(l, g, name.as_bytes());
    }
    // Redis's Lua only parses source text: a precompiled (binary) chunk must not load.
    ffi::lua_pushcclosure(l, text_loadstring, 0);
    raw_set_str(l, g, b"loadstring");
    ffi::lua_pushcclosure(l, text_load, 0);
    raw_set_str(l, g, b"load");
    crate::libs::open_all(l, g);
    crate::run::register_api(l, g);

    // Sandbox bookkeeping tables, in the registry where scripts cannot reach them.
    ffi::lua_createtable(l, 0, 16);
    raw_set_str(l, ffi::LUA_REGISTRYINDEX, REG_PROXY_TO_REAL);
    ffi::lua_createtable(l, 0, 16);
    raw_set_str(l, ffi::LUA_REGISTRYINDEX, REG_REAL_TO_PROXY);
    ffi::lua_pushvalue(l, g);
    raw_set_str(l, ffi::LUA_REGISTRYINDEX, REG_REAL_GLOBALS);
    ffi::lua_pushcclosure(l, crate::run::err_handler, 0);
    ffi::lua_pushvalue(l, -1);
    raw_set_str(l, g, b"__redis__err__handler");
    raw_set_str(l, ffi::LUA_REGISTRYINDEX, REG_ERR_HANDLER);

    // The wrapped base functions, each holding the original as an upvalue.
    for (name, f) in [
        ("rawset", w_rawset as ffi::lua_CFunction),
        ("rawget", w_see_through),
        ("next", w_see_through),
        ("pairs", w_see_through),
        ("ipairs", w_see_through),
        ("setmetatable", w_setmetatable),
    ] {
        raw_get_str(l, g, name.as_bytes());
        ffi::lua_pushcclosure(l, f, 1);
        raw_set_str(l, g, name.as_bytes());
    }

    // Library tables become read-only proxies.
    let mut libs = Vec::new();
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, g) != 0 {
        if ty(l, -1) == ffi::LUA_TTABLE && ty(l, -2) == ffi::LUA_TSTRING {
            if let Some(k) = to_bytes(l, -2) {
                if k != b"_G" {
                    libs.push(k.to_vec());
                }
            }
        }
        ffi::lua_pop(l, 1);
    }
    for name in libs {
        raw_get_str(l, g, &name);
        push_proxy(l, -1);
        raw_set_str(l, g, &name);
        ffi::lua_pop(l, 1);
    }
    // Strings index the proxy of `string`, so that `("x").upper = f` cannot reach the real one.
    push_bytes(l, b"");
    if ffi::lua_getmetatable(l, -1) != 0 {
        raw_get_str(l, g, b"string");
        raw_set_str(l, -2, b"__index");
        ffi::lua_pop(l, 1);
    }
    ffi::lua_pop(l, 1);

    // The globals: unknown names raise; the scripts' view is a proxy.
    ffi::lua_createtable(l, 0, 1);
    ffi::lua_pushcclosure(l, missing_global, 0);
    raw_set_str(l, -2, b"__index");
    ffi::lua_setmetatable(l, g);
    push_proxy(l, g);
    // `getmetatable(_G)` shows Redis's error metatable, read-only.
    ffi::lua_createtable(l, 0, 1);
    ffi::lua_pushcclosure(l, missing_global, 0);
    raw_set_str(l, -2, b"__index");
    push_proxy(l, -1);
    ffi::lua_remove(l, -2);
    ffi::lua_getmetatable(l, -2);
    ffi::lua_insert(l, -2);
    raw_set_str(l, -2, b"__metatable");
    ffi::lua_pop(l, 1);
    ffi::lua_pushvalue(l, -1);
    raw_set_str(l, g, b"_G");
    ffi::lua_replace(l, ffi::LUA_GLOBALSINDEX);
    ffi::lua_pop(l, 1);

    let reference = |push: &dyn Fn()| {
        push();
        ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX)
    };
    Refs {
        err_handler: reference(&|| raw_get_str(l, ffi::LUA_REGISTRYINDEX, REG_ERR_HANDLER)),
        real_globals: reference(&|| push_real_globals(l)),
        keys_name: reference(&|| push_bytes(l, b"KEYS")),
        argv_name: reference(&|| push_bytes(l, b"ARGV")),
    }
}

/// Pushes a read-only proxy of the table at `idx` (the same proxy each time for a table).
pub(crate) unsafe fn push_proxy(l: L, idx: c_int) {
    let idx = crate::lua::abs_index(l, idx);
    raw_get_str(l, ffi::LUA_REGISTRYINDEX, REG_REAL_TO_PROXY);
    ffi::lua_pushvalue(l, idx);
    ffi::lua_rawget_(l, -2);
    if ty(l, -1) == ffi::LUA_TTABLE {
        ffi::lua_remove(l, -2);
        return;
    }
    ffi::lua_pop(l, 1);
    // proxy, with metatable {__index = real, __newindex = refuse, __metatable = false}
    ffi::lua_createtable(l, 0, 0);
    ffi::lua_createtable(l, 0, 3);
    ffi::lua_pushvalue(l, idx);
    raw_set_str(l, -2, b"__index");
    ffi::lua_pushcclosure(l, readonly_newindex, 0);
    raw_set_str(l, -2, b"__newindex");
    ffi::lua_pushboolean(l, 0);
    raw_set_str(l, -2, b"__metatable");
    ffi::lua_setmetatable(l, -2);
    // real_to_proxy[real] = proxy
    ffi::lua_pushvalue(l, idx);
    ffi::lua_pushvalue(l, -2);
    ffi::lua_rawset(l, -4);
    ffi::lua_remove(l, -2);
    // proxy_to_real[proxy] = real
    raw_get_str(l, ffi::LUA_REGISTRYINDEX, REG_PROXY_TO_REAL);
    ffi::lua_pushvalue(l, -2);
    ffi::lua_pushvalue(l, idx);
    ffi::lua_rawset(l, -3);
    ffi::lua_pop(l, 1);
}

/// Whether the value at `idx` is a proxy or a table behind one.
unsafe fn is_protected(l: L, idx: c_int) -> bool {
    if ty(l, idx) != ffi::LUA_TTABLE {
        return false;
    }
    let idx = crate::lua::abs_index(l, idx);
    let mut found = false;
    for reg in [REG_PROXY_TO_REAL, REG_REAL_TO_PROXY] {
        raw_get_str(l, ffi::LUA_REGISTRYINDEX, reg);
        ffi::lua_pushvalue(l, idx);
        ffi::lua_rawget_(l, -2);
        found |= ty(l, -1) != ffi::LUA_TNIL;
        ffi::lua_pop(l, 2);
    }
    found
}

/// Replaces the value at `idx` by the table behind it when it is a proxy.
unsafe fn unproxy(l: L, idx: c_int) {
    if ty(l, idx) != ffi::LUA_TTABLE {
        return;
    }
    raw_get_str(l, ffi::LUA_REGISTRYINDEX, REG_PROXY_TO_REAL);
    ffi::lua_pushvalue(l, idx);
    ffi::lua_rawget_(l, -2);
    if ty(l, -1) == ffi::LUA_TTABLE {
        ffi::lua_replace(l, idx);
        ffi::lua_pop(l, 1);
    } else {
        ffi::lua_pop(l, 2);
    }
}

/// Calls the wrapped original (upvalue 1) with the current arguments, returning all results.
unsafe fn call_original(l: L) -> c_int {
    let n = ffi::lua_gettop(l);
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    ffi::lua_insert(l, 1);
    ffi::lua_call(l, n, ffi::LUA_MULTRET);
    ffi::lua_gettop(l)
}

const READONLY: &str = "Attempt to modify a readonly table";

unsafe extern "C-unwind" fn readonly_newindex(l: L) -> c_int {
    guard(l, |_| Err(Fail::Where(READONLY.into())))
}

unsafe extern "C-unwind" fn missing_global(l: L) -> c_int {
    guard(l, |l| {
        let name = String::from_utf8_lossy(to_bytes(l, 2).unwrap_or(b"")).into_owned();
        Err(Fail::Where(format!(
            "Script attempted to access nonexistent global variable '{name}'"
        )))
    })
}

unsafe extern "C-unwind" fn w_rawset(l: L) -> c_int {
    guard(l, |l| {
        if is_protected(l, 1) {
            return Err(Fail::Plain(READONLY.into()));
        }
        Ok(call_original(l))
    })
}

unsafe extern "C-unwind" fn w_setmetatable(l: L) -> c_int {
    guard(l, |l| {
        if is_protected(l, 1) {
            return Err(Fail::Plain(READONLY.into()));
        }
        Ok(call_original(l))
    })
}

unsafe extern "C-unwind" fn w_see_through(l: L) -> c_int {
    if ffi::lua_gettop(l) >= 1 {
        unproxy(l, 1);
    }
    call_original(l)
}

/// Loads the string at the top of the stack as source text under `name`, as `loadstring`
/// does, and returns its results (the function, or nil and the message). A chunk that starts
/// with Lua's binary signature is parsed as text too (a leading blank keeps its first line),
/// so it fails as it does in Redis's Lua, which has no bytecode loader.
unsafe fn load_text(l: L, name_idx: c_int) -> c_int {
    let code_idx = ffi::lua_gettop(l);
    if to_bytes(l, code_idx).is_some_and(|c| c.first() == Some(&0x1b)) {
        push_bytes(l, b" ");
        ffi::lua_pushvalue(l, code_idx);
        ffi::lua_concat(l, 2);
        ffi::lua_replace(l, code_idx);
    }
    let code = to_bytes(l, code_idx).unwrap_or_default();
    let status = ffi::luaL_loadbuffer(
        l,
        code.as_ptr() as *const _,
        code.len(),
        ffi::lua_tolstring(l, name_idx, std::ptr::null_mut()),
    );
    if status == 0 {
        return 1;
    }
    ffi::lua_pushnil(l);
    ffi::lua_insert(l, -2);
    2
}

/// `loadstring(s [, chunkname])`, source text only.
unsafe extern "C-unwind" fn text_loadstring(l: L) -> c_int {
    guard(l, |l| {
        crate::lua::check_bytes(l, 1)?;
        if ty(l, 2) <= ffi::LUA_TNIL {
            ffi::lua_settop(l, 1);
            ffi::lua_pushvalue(l, 1);
        } else {
            crate::lua::check_bytes(l, 2)?;
            ffi::lua_settop(l, 2);
        }
        // Stack: s, name; load_text wants the code on top.
        ffi::lua_pushvalue(l, 1);
        Ok(load_text(l, 2))
    })
}

/// `load(func [, chunkname])`: the pieces the reader returns, joined, then as `loadstring`.
unsafe extern "C-unwind" fn text_load(l: L) -> c_int {
    guard(l, |l| {
        if ty(l, 1) != ffi::LUA_TFUNCTION {
            return Err(Fail::Type(1, "function"));
        }
        if ty(l, 2) <= ffi::LUA_TNIL {
            ffi::lua_settop(l, 1);
            push_bytes(l, b"=(load)");
        } else {
            crate::lua::check_bytes(l, 2)?;
            ffi::lua_settop(l, 2);
        }
        push_bytes(l, b"");
        loop {
            ffi::lua_pushvalue(l, 1);
            ffi::lua_call(l, 0, 1);
            match ty(l, -1) {
                ffi::LUA_TNIL => {
                    ffi::lua_pop(l, 1);
                    break;
                }
                // Numbers are strings to Lua's reader too.
                ffi::LUA_TSTRING | ffi::LUA_TNUMBER => {
                    if ffi::lua_objlen(l, -1) == 0 {
                        ffi::lua_pop(l, 1);
                        break;
                    }
                    ffi::lua_concat(l, 2);
                }
                _ => {
                    // Lua's reader error ends the load, which returns it.
                    ffi::lua_pushnil(l);
                    ffi::luaL_where(l, 1);
                    push_bytes(l, b"reader function must return a string");
                    ffi::lua_concat(l, 2);
                    return Ok(2);
                }
            }
        }
        Ok(load_text(l, 2))
    })
}

/// Pushes the real global table.
pub(crate) unsafe fn push_real_globals(l: L) {
    raw_get_str(l, ffi::LUA_REGISTRYINDEX, REG_REAL_GLOBALS);
}

/// Registers `funcs` in a new table stored as the global `name` of the table at `g`.
pub(crate) unsafe fn new_lib(l: L, g: c_int, name: &str, funcs: &[(&str, ffi::lua_CFunction)]) {
    ffi::lua_createtable(l, 0, funcs.len() as c_int);
    set_funcs(l, funcs);
    raw_set_str(l, g, name.as_bytes());
}

/// Gives the table at `idx` Redis's error metatable: reading a missing name raises
/// `Script attempted to access nonexistent global variable`.
pub(crate) unsafe fn set_error_metatable(l: L, idx: c_int) {
    let idx = crate::lua::abs_index(l, idx);
    ffi::lua_createtable(l, 0, 1);
    ffi::lua_pushcclosure(l, missing_global, 0);
    raw_set_str(l, -2, b"__index");
    ffi::lua_setmetatable(l, idx);
}
