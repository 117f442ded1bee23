//! The Lua libraries Redis adds: `cjson`, `cmsgpack`, `bit` and `struct`.

use std::ffi::c_int;

use crate::lua::L;

pub(crate) mod bit;
pub(crate) mod cjson;
pub(crate) mod cmsgpack;
pub(crate) mod structlib;

/// Adds the libraries to the globals table at `g`.
pub(crate) unsafe fn open_all(l: L, g: c_int) {
    cjson::open(l, g);
    structlib::open(l, g);
    cmsgpack::open(l, g);
    bit::open(l, g);
}
