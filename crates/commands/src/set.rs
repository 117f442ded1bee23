//! Set commands: SADD, SPOP, SMEMBERS.

use bytes::Bytes;
use rustis_resp::errors::{MUST_BE_POSITIVE, SYNTAX};
use rustis_resp::Out;
use rustis_storage::OpError;

use crate::args::parse_i64;
use crate::ctx::ShardCtx;
use crate::registry::{flags::*, CommandSpec, Registry, Run};

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(
        CommandSpec::new("sadd", -3, WRITE | DENYOOM | FAST, Run::Shard(cmd_sadd))
            .keys(1, 1, 1)
            .doc(
                "set",
                "1.0.0",
                "Adds one or more members to a set. Creates the key if it doesn't exist.",
            ),
    );
    r.add(
        CommandSpec::new("spop", -2, WRITE | FAST, Run::Shard(cmd_spop))
            .keys(1, 1, 1)
            .doc("set", "1.0.0", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped."),
    );
    r.add(
        CommandSpec::new("smembers", 2, READONLY, Run::Shard(cmd_smembers))
            .keys(1, 1, 1)
            .doc("set", "1.0.0", "Returns all members of a set."),
    );
}

/// Adds members; returns how many were new.
pub fn op_sadd(ctx: &mut ShardCtx, key: &[u8], members: &[Bytes]) -> Result<i64, OpError> {
    let set = ctx.db().set_or_create(key)?;
    Ok(members.iter().filter(|m| set.insert(m)).count() as i64)
}

/// SADD key member [member ...]
fn cmd_sadd(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match op_sadd(ctx, &args[1], &args[2..]) {
        Ok(n) => out.int(n),
        Err(e) => out.error(e.message()),
    }
}

/// Pops up to `count` random members in O(count); `None` if the key does not exist.
pub fn op_spop(
    ctx: &mut ShardCtx,
    key: &[u8],
    count: usize,
) -> Result<Option<Vec<Box<[u8]>>>, OpError> {
    let shard = &mut *ctx.shard;
    let now = shard.now();
    let db = &mut shard.dbs[ctx.db];
    db.set_now(now);
    let Some(set) = db.get_set_mut(key)? else {
        return Ok(None);
    };
    let mut popped = Vec::with_capacity(count.min(set.len()));
    while popped.len() < count {
        match set.pop_random(&mut shard.rng) {
            Some(m) => popped.push(m),
            None => break,
        }
    }
    if set.is_empty() {
        db.remove(key);
    }
    Ok(Some(popped))
}

/// SPOP key [count]
fn cmd_spop(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    if args.len() > 3 {
        return out.error(SYNTAX);
    }
    let count = match args.get(2) {
        None => None,
        Some(c) => match parse_i64(c) {
            Ok(n) if n >= 0 => Some(n as usize),
            _ => return out.error(MUST_BE_POSITIVE),
        },
    };
    match op_spop(ctx, &args[1], count.unwrap_or(1)) {
        Err(e) => out.error(e.message()),
        Ok(None) => match count {
            None => out.null(),
            Some(_) => out.set(0),
        },
        Ok(Some(members)) => match count {
            None => match members.first() {
                Some(m) => out.bulk(m),
                None => out.null(),
            },
            Some(_) => {
                out.set(members.len());
                for m in &members {
                    out.bulk(m);
                }
            }
        },
    }
}

/// SMEMBERS key
fn cmd_smembers(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match ctx.db().get_set(&args[1]) {
        Err(e) => out.error(e.message()),
        Ok(None) => out.set(0),
        Ok(Some(set)) => {
            out.set(set.len());
            for m in set.iter() {
                out.bulk(m);
            }
        }
    }
}
