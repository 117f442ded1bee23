//! `ShardCtx`: what a command running on a shard may touch.

use rustis_storage::{Db, DbIndex, Shard};

/// The shard a command runs on and the database its connection has selected.
pub struct ShardCtx<'a> {
    /// The shard that owns the command's keys.
    pub shard: &'a mut Shard,
    /// The selected database.
    pub db: DbIndex,
}

impl<'a> ShardCtx<'a> {
    /// A context for database `db` of `shard`.
    pub fn new(shard: &'a mut Shard, db: DbIndex) -> Self {
        ShardCtx { shard, db }
    }

    /// The selected database, with its clock set to this batch's time.
    pub fn db(&mut self) -> &mut Db {
        self.shard.db(self.db)
    }
}
