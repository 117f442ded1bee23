//! Redis commands for Rustis, one module per command group, and the command table.
//!
//! Each command has three parts in its family's module: **parse** (arguments to a typed
//! request, pure), **op** (`op_<name>`, runs on the shard that owns the key, returns data or an
//! `OpError`, no I/O) and **reply** (encodes the result into an [`Out`]). Arity, unknown-command
//! and routing checks are done once, by dispatch in the runtime, from each command's spec (its
//! data in `commands.json`, its code bound by name in the family's `register()`).
//!
//! This crate must not do I/O or know about threads: cross-shard work is described by a
//! command's [`registry::Run`] kind and carried out by the runtime.
#![warn(missing_docs)]

pub mod args;
pub mod bitmap;
pub mod blocking;
pub mod connection;
pub mod ctx;
pub mod generic;
pub mod geo;
pub mod glob;
pub mod hash;
pub mod hll;
pub mod list;
pub mod lolwut;
pub mod longdouble;
pub mod meta;
pub mod persist;
pub mod pubsub;
pub mod registry;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod txn;
pub mod zset;

pub use ctx::ShardCtx;
pub use registry::{Binding, CommandSpec, ConnCmd, Registry, Run};
pub use rustis_resp::Out;
