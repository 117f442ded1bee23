//! List commands: LPUSH, RPUSH, LPOP, RPOP, LRANGE.

use bytes::Bytes;
use rustis_resp::errors::MUST_BE_POSITIVE;
use rustis_resp::Out;
use rustis_storage::list::clamp_range;
use rustis_storage::OpError;

use crate::args::parse_i64;
use crate::ctx::ShardCtx;
use crate::registry::{flags::*, CommandSpec, Registry, Run};

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(
        CommandSpec::new("lpush", -3, WRITE | DENYOOM | FAST, Run::Shard(cmd_lpush))
            .keys(1, 1, 1)
            .doc(
                "list",
                "1.0.0",
                "Prepends one or more elements to a list. Creates the key if it doesn't exist.",
            ),
    );
    r.add(
        CommandSpec::new("rpush", -3, WRITE | DENYOOM | FAST, Run::Shard(cmd_rpush))
            .keys(1, 1, 1)
            .doc(
                "list",
                "1.0.0",
                "Appends one or more elements to a list. Creates the key if it doesn't exist.",
            ),
    );
    r.add(
        CommandSpec::new("lpop", -2, WRITE | FAST, Run::Shard(cmd_lpop))
            .keys(1, 1, 1)
            .doc("list", "1.0.0", "Returns the first elements in a list after removing it. Deletes the list if the last element was popped."),
    );
    r.add(
        CommandSpec::new("rpop", -2, WRITE | FAST, Run::Shard(cmd_rpop))
            .keys(1, 1, 1)
            .doc("list", "1.0.0", "Returns and removes the last elements of a list. Deletes the list if the last element was popped."),
    );
    r.add(
        CommandSpec::new("lrange", 4, READONLY, Run::Shard(cmd_lrange))
            .keys(1, 1, 1)
            .doc("list", "1.0.0", "Returns a range of elements from a list."),
    );
}

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The head (left).
    Left,
    /// The tail (right).
    Right,
}

/// Pushes `elems` at `end` of the list at `key`; returns the new length.
pub fn op_push(ctx: &mut ShardCtx, key: &[u8], elems: &[Bytes], end: End) -> Result<i64, OpError> {
    let list = ctx.db().list_or_create(key)?;
    for e in elems {
        match end {
            End::Left => list.push_front(e),
            End::Right => list.push_back(e),
        }
    }
    Ok(list.len() as i64)
}

/// LPUSH key element [element ...]
fn cmd_lpush(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match op_push(ctx, &args[1], &args[2..], End::Left) {
        Ok(n) => out.int(n),
        Err(e) => out.error(e.message()),
    }
}

/// RPUSH key element [element ...]
fn cmd_rpush(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match op_push(ctx, &args[1], &args[2..], End::Right) {
        Ok(n) => out.int(n),
        Err(e) => out.error(e.message()),
    }
}

/// Pops up to `count` elements from `end`; `None` if the key does not exist. Deletes the key
/// when the list becomes empty.
pub fn op_pop(
    ctx: &mut ShardCtx,
    key: &[u8],
    end: End,
    count: usize,
) -> Result<Option<Vec<Box<[u8]>>>, OpError> {
    let db = ctx.db();
    let Some(list) = db.get_list_mut(key)? else {
        return Ok(None);
    };
    let mut popped = Vec::with_capacity(count.min(list.len()));
    while popped.len() < count {
        let item = match end {
            End::Left => list.pop_front(),
            End::Right => list.pop_back(),
        };
        match item {
            Some(i) => popped.push(i),
            None => break,
        }
    }
    if list.is_empty() {
        db.remove(key);
    }
    Ok(Some(popped))
}

fn pop_command(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out, end: End) {
    if args.len() > 3 {
        return out.error(&rustis_resp::errors::wrong_args(if end == End::Left {
            "lpop"
        } else {
            "rpop"
        }));
    }
    let count = match args.get(2) {
        None => None,
        Some(c) => match parse_i64(c) {
            Ok(n) if n >= 0 => Some(n as usize),
            Ok(_) => return out.error(MUST_BE_POSITIVE),
            Err(_) => return out.error(MUST_BE_POSITIVE),
        },
    };
    match op_pop(ctx, &args[1], end, count.unwrap_or(1)) {
        Err(e) => out.error(e.message()),
        Ok(None) => match count {
            None => out.null(),
            Some(_) => out.null_array(),
        },
        Ok(Some(items)) => match count {
            None => match items.first() {
                Some(i) => out.bulk(i),
                None => out.null(),
            },
            Some(_) => {
                out.array(items.len());
                for i in &items {
                    out.bulk(i);
                }
            }
        },
    }
}

/// LPOP key [count]
fn cmd_lpop(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    pop_command(ctx, args, out, End::Left)
}

/// RPOP key [count]
fn cmd_rpop(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    pop_command(ctx, args, out, End::Right)
}

/// LRANGE key start stop
fn cmd_lrange(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let (start, stop) = match (parse_i64(&args[2]), parse_i64(&args[3])) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return out.error(OpError::NotInteger.message()),
    };
    match ctx.db().get_list(&args[1]) {
        Err(e) => out.error(e.message()),
        Ok(None) => out.array(0),
        Ok(Some(list)) => match clamp_range(start, stop, list.len()) {
            None => out.array(0),
            Some((s, e)) => {
                out.array(e - s + 1);
                for item in list.range(s, e) {
                    out.bulk(item);
                }
            }
        },
    }
}
