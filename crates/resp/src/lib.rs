//! RESP2/RESP3 for Rustis: an incremental, zero-copy request parser and a reply encoder.
//!
//! **API Boundary.** This crate knows bytes and frames only. It has no I/O, no async and no
//! server types, so the runtime can feed it from any read loop and fuzzers can drive it alone.
#![warn(missing_docs)]

pub mod encode;
pub mod errors;
pub mod parse;

pub use encode::Out;
pub use parse::{Parser, ProtoError, MAX_BULK_LEN, MAX_MULTIBULK_LEN};
