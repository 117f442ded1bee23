//! The shard-local keyspace: databases (`Db`), values (`Value`) and their encodings, expiry.
//!
//! Everything here is synchronous and owned by one thread. It never sees sockets, other shards
//! or the runtime; the runtime hands each shard's `Shard` to exactly one thread.
#![warn(missing_docs)]

pub mod blocking;
pub mod clock;
pub mod db;
pub mod elem;
pub mod evict;
pub mod expire;
pub mod hash;
pub mod hll;
pub mod list;
pub mod set;
pub mod shard;
pub mod slot;
pub mod stream;
pub mod string;
pub mod table;
pub mod value;
pub mod write;
pub mod zset;

pub use clock::{Clock, ManualClock, SystemClock};
pub use db::{Db, Entry, ExpireStats};
pub use rustis_resp::errors::OpError;
pub use shard::{LazyFree, Shard, ShardConfig};
pub use value::Value;
pub use write::{Change, ChangeKind, KeyListener, KeyMut, ListenerId, Version};

/// The index of a database (`SELECT n`).
pub type DbIndex = usize;
