//! String commands: GET, SET, MGET, MSET.

use bytes::Bytes;
use rustis_resp::errors::wrong_args;
use rustis_resp::Out;
use rustis_storage::string::{itoa_buf, StrValue};
use rustis_storage::{OpError, Value};

use crate::args::{eq_ic, parse_i64};
use crate::ctx::ShardCtx;
use crate::registry::{flags::*, CommandSpec, MultiKeyOps, Partial, Registry, Run};

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(
        CommandSpec::new("get", 2, READONLY | FAST, Run::Shard(cmd_get))
            .keys(1, 1, 1)
            .doc("string", "1.0.0", "Returns the string value of a key."),
    );
    r.add(
        CommandSpec::new("set", -3, WRITE | DENYOOM, Run::Shard(cmd_set))
            .keys(1, 1, 1)
            .doc(
                "string",
                "1.0.0",
                "Sets the string value of a key, ignoring its type.",
            ),
    );
    r.add(
        CommandSpec::new("mget", -2, READONLY | FAST, Run::MultiKey(&MGET))
            .keys(1, -1, 1)
            .doc(
                "string",
                "1.0.0",
                "Atomically returns the string values of one or more keys.",
            ),
    );
    r.add(
        CommandSpec::new("mset", -3, WRITE | DENYOOM, Run::MultiKey(&MSET))
            .keys(1, -1, 2)
            .precheck(even_pairs_mset)
            .doc(
                "string",
                "1.0.1",
                "Atomically creates or modifies the string values of one or more keys.",
            ),
    );
}

/// Reads the string at `key`: `Ok(None)` if missing, `WrongType` for other types.
pub fn op_get(ctx: &mut ShardCtx, key: &[u8]) -> Result<Option<StrValue>, OpError> {
    let db = ctx.db();
    let r = db.get_str(key).map(|s| s.cloned());
    let hit = matches!(r, Ok(Some(_)));
    db.count_lookup(hit);
    r
}

/// Writes a string value into `out` as a bulk reply.
pub fn reply_str(out: &mut Out, v: &StrValue) {
    match v {
        StrValue::Int(n) => out.bulk_int(*n),
        StrValue::Raw(b) => out.bulk(b),
    }
}

/// GET key
fn cmd_get(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    // Reply straight from the stored value: no copy on the hottest read path.
    let db = ctx.db();
    let r = db.get_str(&args[1]);
    let hit = matches!(r, Ok(Some(_)));
    match r {
        Ok(Some(StrValue::Int(n))) => {
            let mut b = itoa_buf::Buffer::new();
            out.bulk(b.format(*n));
        }
        Ok(Some(StrValue::Raw(b))) => out.bulk(b),
        Ok(None) => out.null(),
        Err(e) => out.error(e.message()),
    }
    db.count_lookup(hit);
}

/// When a SET's key should expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetExpiry {
    /// Clear any expiry (the default).
    None,
    /// Keep the key's current expiry (`KEEPTTL`).
    Keep,
    /// Expire at this Unix time in milliseconds.
    At(u64),
}

/// A parsed SET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetOpts {
    /// `NX`: only if the key does not exist.
    pub nx: bool,
    /// `XX`: only if it exists.
    pub xx: bool,
    /// `GET`: reply with the old value.
    pub get: bool,
    /// The expiry.
    pub expiry: SetExpiry,
}

/// Parses SET's options (`args[3..]`) at time `now`, with Redis's conflict rules.
pub fn parse_set(args: &[Bytes], now: u64) -> Result<SetOpts, OpError> {
    let mut o = SetOpts {
        nx: false,
        xx: false,
        get: false,
        expiry: SetExpiry::None,
    };
    let mut unit: Option<(u8, i64)> = None;
    let mut keep = false;
    let mut i = 3;
    while i < args.len() {
        let a = &args[i];
        let has_next = i + 1 < args.len();
        if eq_ic(a, "nx") && !o.xx {
            o.nx = true;
        } else if eq_ic(a, "xx") && !o.nx {
            o.xx = true;
        } else if eq_ic(a, "get") {
            o.get = true;
        } else if eq_ic(a, "keepttl") && unit.is_none() {
            keep = true;
        } else if has_next
            && unit.is_none()
            && !keep
            && (eq_ic(a, "ex") || eq_ic(a, "px") || eq_ic(a, "exat") || eq_ic(a, "pxat"))
        {
            let kind = if eq_ic(a, "ex") {
                b'e'
            } else if eq_ic(a, "px") {
                b'p'
            } else if eq_ic(a, "exat") {
                b'E'
            } else {
                b'P'
            };
            let n = parse_i64(&args[i + 1])?;
            unit = Some((kind, n));
            i += 1;
        } else {
            return Err(OpError::Syntax);
        }
        i += 1;
    }
    if keep {
        o.expiry = SetExpiry::Keep;
    }
    if let Some((kind, n)) = unit {
        if n <= 0 {
            return Err(OpError::InvalidExpire);
        }
        let at = match kind {
            b'e' => n
                .checked_mul(1000)
                .and_then(|ms| ms.checked_add(now as i64)),
            b'p' => n.checked_add(now as i64),
            b'E' => n.checked_mul(1000),
            _ => Some(n),
        };
        o.expiry = SetExpiry::At(at.ok_or(OpError::InvalidExpire)? as u64);
    }
    Ok(o)
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]
fn cmd_set(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    let opts = if args.len() == 3 {
        SetOpts {
            nx: false,
            xx: false,
            get: false,
            expiry: SetExpiry::None,
        }
    } else {
        match parse_set(args, ctx.shard.now()) {
            Ok(o) => o,
            Err(e) => return out.error(e.message()),
        }
    };
    match op_set(ctx, &args[1], &args[2], opts) {
        Ok((done, old)) => {
            if opts.get {
                match old {
                    Some(v) => reply_str(out, &v),
                    None => out.null(),
                }
            } else if done {
                out.ok();
            } else {
                out.null();
            }
        }
        Err(e) => out.error(e.message()),
    }
}

/// Sets `key` to `value` under `opts`. Returns whether it was set and, with `GET`, the old value.
pub fn op_set(
    ctx: &mut ShardCtx,
    key: &[u8],
    value: &[u8],
    opts: SetOpts,
) -> Result<(bool, Option<StrValue>), OpError> {
    let db = ctx.db();
    let old = if opts.get {
        db.get_str(key)?.cloned()
    } else {
        None
    };
    if opts.nx || opts.xx {
        let exists = db.contains(key);
        if (opts.nx && exists) || (opts.xx && !exists) {
            return Ok((false, old));
        }
    }
    let v = Value::Str(StrValue::from_bytes(value));
    match opts.expiry {
        SetExpiry::None => db.insert(key, v, None),
        SetExpiry::Keep => db.insert_keep_ttl(key, v),
        SetExpiry::At(t) => db.insert(key, v, Some(t)),
    }
    Ok((true, old))
}

/// MGET key [key ...]: values of other types read as null.
static MGET: MultiKeyOps = MultiKeyOps {
    per_shard: |ctx, args, pos| {
        let vals: Vec<Option<StrValue>> = pos
            .iter()
            .map(|&i| op_get(ctx, &args[i]).ok().flatten())
            .collect();
        Box::new(vals)
    },
    merge: |args, parts, out| {
        let mut all: Vec<Option<StrValue>> = vec![None; args.len()];
        for (pos, part) in parts {
            if let Ok(vals) = part.downcast::<Vec<Option<StrValue>>>() {
                for (p, v) in pos.into_iter().zip(*vals) {
                    all[p] = v;
                }
            }
        }
        out.array(args.len() - 1);
        for v in &all[1..] {
            match v {
                Some(v) => reply_str(out, v),
                None => out.null(),
            }
        }
    },
};

fn even_pairs_mset(args: &[Bytes]) -> Result<(), String> {
    if args.len().is_multiple_of(2) {
        return Err(wrong_args("mset"));
    }
    Ok(())
}

/// MSET key value [key value ...]
static MSET: MultiKeyOps = MultiKeyOps {
    per_shard: |ctx, args, pos| {
        let db = ctx.db();
        for &i in pos {
            db.insert(
                &args[i],
                Value::Str(StrValue::from_bytes(&args[i + 1])),
                None,
            );
        }
        Box::new(())
    },
    merge: |_, _: Vec<(Vec<usize>, Partial)>, out| out.ok(),
};

#[cfg(test)]
mod tests {
    use super::*;

    fn a(v: &[&str]) -> Vec<Bytes> {
        v.iter().map(|s| Bytes::from(s.to_string())).collect()
    }

    #[test]
    fn set_options_parse_like_redis() {
        let o = parse_set(&a(&["SET", "k", "v", "NX", "PX", "100"]), 1000).unwrap();
        assert!(o.nx);
        assert_eq!(o.expiry, SetExpiry::At(1100));
        let o = parse_set(&a(&["SET", "k", "v", "exat", "5"]), 1000).unwrap();
        assert_eq!(o.expiry, SetExpiry::At(5000));
        assert_eq!(
            parse_set(&a(&["SET", "k", "v", "NX", "XX"]), 0),
            Err(OpError::Syntax)
        );
        assert_eq!(
            parse_set(&a(&["SET", "k", "v", "EX", "1", "KEEPTTL"]), 0),
            Err(OpError::Syntax)
        );
        assert_eq!(
            parse_set(&a(&["SET", "k", "v", "EX", "0"]), 0),
            Err(OpError::InvalidExpire)
        );
        assert_eq!(
            parse_set(&a(&["SET", "k", "v", "EX", "x"]), 0),
            Err(OpError::NotInteger)
        );
        assert_eq!(
            parse_set(&a(&["SET", "k", "v", "EX"]), 0),
            Err(OpError::Syntax)
        );
        assert_eq!(
            parse_set(&a(&["SET", "k", "v", "EX", "1", "PX", "1"]), 0),
            Err(OpError::Syntax)
        );
    }
}
