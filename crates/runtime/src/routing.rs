//! Which shard owns a key: the slot function lives in `rustis_storage::slot` so that a shard's
//! own view of undeclared keys (`LocalKeys::get_extra`) routes exactly as dispatch does.

pub use rustis_storage::slot::{crc16, key_slot, shard_of, SLOTS};
