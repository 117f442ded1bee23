//! The server's function libraries as data, for persistence: what a snapshot and an AOF
//! rewrite's base hold, what the AOF logs, and what startup, DEBUG RELOAD and DEBUG LOADAOF
//! load. See docs/persistence.md, "Functions".
//!
//! Every thread runs its own Lua engine with its own copy of the libraries (`script.rs`); this
//! module keeps the one list a save writes, by library name, updated by each FUNCTION LOAD,
//! DELETE, FLUSH or RESTORE once the engine of the thread that ran it has accepted it (so the
//! list changes exactly as an engine's libraries do). The AOF record of such a command is sent
//! under the same lock as the list's update, and an AOF rewrite takes its copy of the list and
//! marks its place in the record stream under that lock too: the base then holds exactly the
//! libraries of the records before the mark. Function records name no key, and scripts are
//! logged by their effects, so their place among the key records does not matter.
//!
//! Must not: run Lua on the data path. Loading (startup, DEBUG) replays FUNCTION commands on a
//! scratch engine of its own, then hands every thread's engine the result.

use std::collections::BTreeMap;
use std::sync::Mutex;

use bytes::Bytes;
use rustis_commands::Out;
use rustis_scripting::{Engine, EngineConfig, LibraryMode};

/// The libraries, by name, and those the server started with.
#[derive(Default)]
pub(crate) struct Libraries {
    now: Mutex<BTreeMap<String, Vec<u8>>>,
    /// What startup loaded (from the RDB file or the AOF): every thread's engine starts with
    /// these, then applies the changes made since, in order.
    startup: Mutex<Vec<Vec<u8>>>,
}

impl Libraries {
    /// Their codes now, in name order.
    pub(crate) fn codes(&self) -> Vec<Vec<u8>> {
        lock(&self.now).values().cloned().collect()
    }

    /// What every thread's engine starts with.
    pub(crate) fn startup(&self) -> Vec<Vec<u8>> {
        lock(&self.startup).clone()
    }

    /// At startup: the libraries loaded.
    pub(crate) fn set_startup(&self, codes: Vec<Vec<u8>>) {
        self.replace(&codes);
        *lock(&self.startup) = codes;
    }

    /// The list becomes `codes` (DEBUG RELOAD, DEBUG LOADAOF), without an AOF record.
    pub(crate) fn replace(&self, codes: &[Vec<u8>]) {
        let mut now = lock(&self.now);
        now.clear();
        for c in codes {
            now.insert(library_name(c), c.clone());
        }
    }

    /// A FUNCTION LOAD, DELETE, FLUSH or RESTORE (`args`) was accepted by this thread's
    /// engine: the list changes the same way and, with the AOF on, the command is logged.
    pub(crate) fn changed(&self, aof: &crate::aof::AofState, args: &[Bytes]) {
        let mut now = lock(&self.now);
        apply(&mut now, args);
        crate::aof::log_function(aof, args);
    }

    /// Runs `f` with the list as it is now, under its lock (an AOF rewrite takes its copy and
    /// marks its place among the records at one point).
    pub(crate) fn at_cut<T>(&self, f: impl FnOnce(Vec<Vec<u8>>) -> T) -> T {
        let now = lock(&self.now);
        f(now.values().cloned().collect())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A library's name, from its shebang (`#!lua name=<name>`); empty if it has none (an engine
/// accepted the code, so it has one).
pub(crate) fn library_name(code: &[u8]) -> String {
    let first = code.split(|&c| c == b'\n').next().unwrap_or_default();
    String::from_utf8_lossy(first)
        .split_whitespace()
        .find_map(|w| w.strip_prefix("name="))
        .unwrap_or_default()
        .to_string()
}

/// Applies an accepted FUNCTION command to the list.
fn apply(now: &mut BTreeMap<String, Vec<u8>>, args: &[Bytes]) {
    let sub = args
        .get(1)
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    match sub.as_slice() {
        b"load" => {
            if let Some(code) = args.last() {
                now.insert(library_name(code), code.to_vec());
            }
        }
        b"delete" => {
            if let Some(name) = args.get(2) {
                now.remove(String::from_utf8_lossy(name).as_ref());
            }
        }
        b"flush" => now.clear(),
        b"restore" => {
            let Some(codes) = args
                .get(2)
                .and_then(|p| rustis_persist::file::function_codes(p).ok())
            else {
                return;
            };
            if args
                .get(3)
                .is_some_and(|m| m.eq_ignore_ascii_case(b"flush"))
            {
                now.clear();
            }
            for c in codes {
                now.insert(library_name(&c), c);
            }
        }
        _ => {}
    }
}

/// A scratch engine for loading: libraries are checked by compiling them, as Redis loads them.
pub(crate) fn scratch_engine() -> Engine {
    Engine::new(
        &crate::dispatch::REGISTRY,
        EngineConfig {
            memory_limit: 1 << 30,
        },
    )
}

/// Loads the libraries of a snapshot (an RDB file, an AOF base) into `engine`; the error is
/// Redis's words for a library that does not load.
pub(crate) fn load_codes(engine: &mut Engine, codes: &[Vec<u8>]) -> Result<(), String> {
    merge_codes(engine, codes, false)
}

/// Adds the libraries `codes` to `engine`'s; with `merge`, one of the same name is replaced,
/// else that is an error.
pub(crate) fn merge_codes(
    engine: &mut Engine,
    codes: &[Vec<u8>],
    merge: bool,
) -> Result<(), String> {
    if codes.is_empty() {
        return Ok(());
    }
    let payload = rustis_persist::file::function_payload(codes);
    let mode = if merge {
        LibraryMode::Replace
    } else {
        LibraryMode::Append
    };
    engine
        .restore_functions(&payload, mode)
        .map_err(|e| format!("Failed loading library: {e}"))
}

/// Replays a FUNCTION command read from an AOF on `engine`. As when Redis loads an AOF, a
/// command that fails changes nothing and does not stop the load.
pub(crate) fn replay(engine: &mut Engine, args: &[Bytes]) {
    let _ = engine.function_cmd(args, &mut Out::new(false));
}

/// The libraries `engine` holds, as codes.
pub(crate) fn codes_of(engine: &Engine) -> Vec<Vec<u8>> {
    rustis_persist::file::function_codes(&engine.dump_functions()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_follows_load_delete_flush_and_restore() {
        let a = b"#!lua name=liba\nredis.register_function('fa', function() return 1 end)";
        let b = b"#!lua  name=libb  \nredis.register_function('fb', function() return 2 end)";
        assert_eq!(library_name(a), "liba");
        assert_eq!(library_name(b), "libb");
        let args = |v: &[&[u8]]| {
            v.iter()
                .map(|s| Bytes::copy_from_slice(s))
                .collect::<Vec<_>>()
        };
        let mut now = BTreeMap::new();
        apply(&mut now, &args(&[b"FUNCTION", b"LOAD", a]));
        apply(&mut now, &args(&[b"FUNCTION", b"LOAD", b"REPLACE", b]));
        assert_eq!(now.len(), 2);
        apply(&mut now, &args(&[b"FUNCTION", b"DELETE", b"liba"]));
        assert_eq!(now.keys().collect::<Vec<_>>(), ["libb"]);
        let payload = rustis_persist::file::function_payload(&[a.to_vec()]);
        apply(&mut now, &args(&[b"FUNCTION", b"RESTORE", &payload]));
        assert_eq!(now.len(), 2);
        apply(
            &mut now,
            &args(&[b"FUNCTION", b"RESTORE", &payload, b"FLUSH"]),
        );
        assert_eq!(now.keys().collect::<Vec<_>>(), ["liba"]);
        apply(&mut now, &args(&[b"FUNCTION", b"FLUSH", b"ASYNC"]));
        assert!(now.is_empty());
    }
}
