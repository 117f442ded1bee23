//! The Lua libraries Redis adds: `cjson`, `cmsgpack`, `bit` and `struct`.

use std::ffi::c_int;

use crate::lua::L;

pub(crate) mod bit;

/// Adds the libraries to the globals table at `g`.
pub(crate) unsafe fn open_all(l: L, g: c_int) {
    bit::open(l, g);
}
