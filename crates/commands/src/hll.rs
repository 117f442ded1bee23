//! HyperLogLog commands: PFADD, PFCOUNT (several keys, across shards), PFMERGE (across
//! shards). The sketch itself lives in `rustis_storage::hll`.

use bytes::Bytes;
use rustis_resp::Out;
use rustis_storage::hll::{self, HllError, Registers};
use rustis_storage::string::{itoa_buf, StrValue};
use rustis_storage::{Entry, OpError, Value};

use crate::ctx::ShardCtx;
use crate::registry::{Binding, Registry, Run};
use crate::txn::Keys;

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(Binding::new("pfadd", Run::Shard(cmd_pfadd)));
    r.add(Binding::new("pfcount", Run::Txn(txn_pfcount)));
    r.add(Binding::new("pfmerge", Run::Txn(txn_pfmerge)));
}

/// What a stored value is, as a HyperLogLog.
enum Hll {
    /// Its registers, whether it was dense, and its raw bytes.
    Valid(Registers, bool, Vec<u8>),
    /// The reply error text.
    Invalid(&'static str),
}

fn read_hll(v: &Value) -> Hll {
    let Value::Str(s) = v else {
        return Hll::Invalid(OpError::WrongType.message());
    };
    let mut scratch = itoa_buf::Buffer::new();
    let b = s.as_bytes(&mut scratch);
    match Registers::decode(b) {
        Ok(r) => Hll::Valid(r, b[4] == 0, b.to_vec()),
        Err(HllError::NotHll) => Hll::Invalid(NOT_HLL),
        Err(HllError::Corrupt) => Hll::Invalid(CORRUPT),
    }
}

fn hll_value(bytes: Vec<u8>) -> Value {
    // Redis keeps HLLs in raw strings whatever their length.
    Value::Str(StrValue::Raw(bytes))
}

/// Adds elements to the HLL at `key` (created if missing); true if it changed or was created.
pub fn op_pfadd(ctx: &mut ShardCtx, key: &[u8], elements: &[Bytes]) -> Result<bool, &'static str> {
    let max = hll::SPARSE_MAX_BYTES;
    let db = ctx.db();
    let (mut regs, dense, old, created) = match db.get(key) {
        None => (Registers::default(), false, Vec::new(), true),
        Some(v) => match read_hll(v) {
            Hll::Valid(r, d, b) => (r, d, b, false),
            Hll::Invalid(e) => return Err(e),
        },
    };
    let mut changed = false;
    for e in elements {
        changed |= regs.add(e);
    }
    if !changed && !created {
        return Ok(false);
    }
    // Redis marks the cache stale on every update, creation included.
    let cache = hll::stale_cache(&old);
    let bytes = regs.encode(dense, max, cache);
    db.insert_keep_ttl(key, hll_value(bytes));
    Ok(true)
}

/// PFADD key [element [element ...]]
fn cmd_pfadd(ctx: &mut ShardCtx, args: &[Bytes], out: &mut Out) {
    match op_pfadd(ctx, &args[1], &args[2..]) {
        Ok(changed) => out.int(changed as i64),
        Err(e) => out.error(e),
    }
}

/// PFCOUNT key [key ...]
fn txn_pfcount(keys: &mut dyn Keys, _args: &[Bytes], out: &mut Out) {
    if keys.len() == 1 {
        let (regs, dense, bytes) = match keys.get(0).map(|e| read_hll(&e.value)) {
            None => return out.int(0),
            Some(Hll::Invalid(e)) => return out.error(e),
            Some(Hll::Valid(r, d, b)) => (r, d, b),
        };
        if let Some(c) = hll::cached(&bytes) {
            return out.int(c as i64);
        }
        let c = regs.count();
        // Store the count in the cache, as Redis does, keeping the encoding.
        if let Some(mut v) = keys.get_mut(0) {
            let mut b = bytes;
            b[8..16].copy_from_slice(&hll::cache_bytes(Some(c)));
            debug_assert_eq!(b[4] == 0, dense);
            *v = hll_value(b);
        }
        return out.int(c as i64);
    }
    let mut all = Registers::default();
    for i in 0..keys.len() {
        match keys.get(i).map(|e| read_hll(&e.value)) {
            None => {}
            Some(Hll::Invalid(e)) => return out.error(e),
            Some(Hll::Valid(r, _, _)) => all.merge(&r),
        }
    }
    out.int(all.count() as i64);
}

/// PFMERGE destkey [sourcekey [sourcekey ...]]
fn txn_pfmerge(keys: &mut dyn Keys, _args: &[Bytes], out: &mut Out) {
    let mut all = Registers::default();
    let mut dense = false;
    for i in 0..keys.len() {
        match keys.get(i).map(|e| read_hll(&e.value)) {
            None => {}
            Some(Hll::Invalid(e)) => return out.error(e),
            Some(Hll::Valid(r, d, _)) => {
                dense |= d;
                all.merge(&r);
            }
        }
    }
    let (old, expire_at) = match keys.get(0) {
        Some(e) => match read_hll(&e.value) {
            Hll::Valid(_, _, b) => (b, e.expire()),
            Hll::Invalid(e) => return out.error(e),
        },
        None => (Vec::new(), None),
    };
    let bytes = all.encode(dense, hll::SPARSE_MAX_BYTES, hll::stale_cache(&old));
    keys.put(0, Entry::new(hll_value(bytes), expire_at));
    out.ok();
}
