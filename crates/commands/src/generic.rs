//! Generic keyspace commands: DEL, EXISTS, TYPE, DBSIZE, FLUSHDB, FLUSHALL.

use bytes::Bytes;
use rustis_resp::errors::SYNTAX;
use rustis_resp::Out;

use crate::args::eq_ic;
use crate::ctx::ShardCtx;
use crate::registry::{flags::*, CommandSpec, FanoutOps, MultiKeyOps, Partial, Registry, Run};

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(
        CommandSpec::new("del", -2, WRITE, Run::MultiKey(&DEL))
            .keys(1, -1, 1)
            .doc("generic", "1.0.0", "Deletes one or more keys."),
    );
    r.add(
        CommandSpec::new("exists", -2, READONLY | FAST, Run::MultiKey(&EXISTS))
            .keys(1, -1, 1)
            .doc(
                "generic",
                "1.0.0",
                "Determines whether one or more keys exist.",
            ),
    );
    r.add(
        CommandSpec::new("type", 2, READONLY | FAST, Run::Shard(cmd_type))
            .keys(1, 1, 1)
            .doc(
                "generic",
                "1.0.0",
                "Determines the type of value stored at a key.",
            ),
    );
    r.add(
        CommandSpec::new("dbsize", 1, READONLY | FAST, Run::Fanout(&DBSIZE)).doc(
            "server",
            "1.0.0",
            "Returns the number of keys in the database.",
        ),
    );
    r.add(
        CommandSpec::new("flushdb", -1, WRITE, Run::Fanout(&FLUSHDB))
            .precheck(flush_args)
            .doc(
                "server",
                "1.0.0",
                "Removes all keys from the current database.",
            ),
    );
    r.add(
        CommandSpec::new("flushall", -1, WRITE, Run::Fanout(&FLUSHALL))
            .precheck(flush_args)
            .doc("server", "1.0.0", "Removes all keys from all databases."),
    );
}

/// DEL key [key ...]
static DEL: MultiKeyOps = MultiKeyOps {
    per_shard: |ctx, args, pos| Box::new(op_del(ctx, pos.iter().map(|&i| &args[i][..]))),
    merge: merge_sum,
};

/// EXISTS key [key ...]
static EXISTS: MultiKeyOps = MultiKeyOps {
    per_shard: |ctx, args, pos| Box::new(op_exists(ctx, pos.iter().map(|&i| &args[i][..]))),
    merge: merge_sum,
};

/// Deletes keys; returns how many existed.
pub fn op_del<'k>(ctx: &mut ShardCtx, keys: impl Iterator<Item = &'k [u8]>) -> i64 {
    let db = ctx.db();
    keys.filter(|k| db.remove(k).is_some()).count() as i64
}

/// Counts existing keys; a key named twice counts twice.
pub fn op_exists<'k>(ctx: &mut ShardCtx, keys: impl Iterator<Item = &'k [u8]>) -> i64 {
    let db = ctx.db();
    keys.filter(|k| db.contains(k)).count() as i64
}

fn merge_sum(_args: &[Bytes], parts: Vec<(Vec<usize>, Partial)>, out: &mut Out) {
    let total: i64 = parts
        .into_iter()
        .filter_map(|(_, p)| p.downcast::<i64>().ok())
        .map(|b| *b)
        .sum();
    out.int(total);
}

/// TYPE key
fn cmd_type(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match ctx.db().get(&args[1]) {
        Some(v) => out.simple(v.type_name()),
        None => out.simple("none"),
    }
}

/// DBSIZE
static DBSIZE: FanoutOps = FanoutOps {
    per_shard: |ctx, _| Box::new(ctx.db().len() as i64),
    merge: |args, parts, out| {
        merge_sum(
            args,
            parts.into_iter().map(|p| (Vec::new(), p)).collect(),
            out,
        )
    },
};

fn flush_args(args: &[Bytes]) -> Result<(), String> {
    match args.len() {
        1 => Ok(()),
        2 if eq_ic(&args[1], "async") || eq_ic(&args[1], "sync") => Ok(()),
        _ => Err(SYNTAX.to_string()),
    }
}

/// FLUSHDB [ASYNC|SYNC]
static FLUSHDB: FanoutOps = FanoutOps {
    per_shard: |ctx, _| {
        ctx.db().clear();
        Box::new(())
    },
    merge: |_, _, out| out.ok(),
};

/// FLUSHALL [ASYNC|SYNC]
static FLUSHALL: FanoutOps = FanoutOps {
    per_shard: |ctx, _| {
        for db in &mut ctx.shard.dbs {
            db.clear();
        }
        Box::new(())
    },
    merge: |_, _, out| out.ok(),
};
