//! Streams in RDB: `RDB_TYPE_STREAM_LISTPACKS_2` (type 19), as Redis 7.0 writes it. Each node
//! is the listpack Redis would hold for it (master entry, then every entry, deleted ones
//! included, with their flags and ID deltas), keyed by its master ID as 16 big-endian bytes;
//! then the length, the last, first and greatest deleted IDs, the entries ever added, and the
//! consumer groups (name, last delivered ID, entries read, the PEL with delivery times and
//! counts, the consumers with their seen times and PEL IDs).

use rustis_storage::stream::{Consumer, Group, Nack, StreamId, StreamValue};

use crate::listpack::{self, Builder};
use crate::rdb::{write_len, Encoder, Reader};
use crate::DecodeError;

const FLAG_DELETED: i64 = 1;
const FLAG_SAME_FIELDS: i64 = 2;

fn raw_id(id: StreamId) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&id.ms.to_be_bytes());
    k[8..].copy_from_slice(&id.seq.to_be_bytes());
    k
}

fn id_from_raw(b: &[u8]) -> Result<StreamId, DecodeError> {
    if b.len() != 16 {
        return Err(DecodeError::Format("stream ID"));
    }
    let mut ms = [0u8; 8];
    let mut seq = [0u8; 8];
    ms.copy_from_slice(&b[..8]);
    seq.copy_from_slice(&b[8..]);
    Ok(StreamId {
        ms: u64::from_be_bytes(ms),
        seq: u64::from_be_bytes(seq),
    })
}

/// Writes a stream's body (after its type byte).
pub(crate) fn encode(enc: &mut Encoder, out: &mut Vec<u8>, s: &StreamValue) {
    let nodes = s.raw_nodes();
    write_len(out, nodes.len() as u64);
    for n in &nodes {
        let mut b = Builder::new();
        b.push_int(n.live as i64);
        b.push_int(n.deleted as i64);
        b.push_int(n.master_fields.len() as i64);
        for f in &n.master_fields {
            b.push(f);
        }
        b.push_int(0);
        for e in &n.entries {
            let mut flags = 0;
            if e.deleted {
                flags |= FLAG_DELETED;
            }
            if e.same_fields {
                flags |= FLAG_SAME_FIELDS;
            }
            b.push_int(flags);
            b.push_int(e.id.ms.wrapping_sub(n.master_id.ms) as i64);
            b.push_int(e.id.seq.wrapping_sub(n.master_id.seq) as i64);
            let pairs = e.fields.len() / 2;
            if e.same_fields {
                for v in e.fields.iter().skip(1).step_by(2) {
                    b.push(v);
                }
                b.push_int(pairs as i64 + 3);
            } else {
                b.push_int(pairs as i64);
                for f in &e.fields {
                    b.push(f);
                }
                b.push_int(2 * pairs as i64 + 4);
            }
        }
        enc.string(out, &raw_id(n.master_id));
        let lp = b.finish();
        enc.string(out, &lp);
    }
    write_len(out, s.len());
    for id in [s.last_id, s.first_id, s.max_deleted] {
        write_len(out, id.ms);
        write_len(out, id.seq);
    }
    write_len(out, s.entries_added);
    write_len(out, s.groups.len() as u64);
    for (name, g) in &s.groups {
        enc.string(out, name);
        write_len(out, g.last_id.ms);
        write_len(out, g.last_id.seq);
        write_len(out, g.entries_read as u64);
        write_len(out, g.pel.len() as u64);
        for (id, nack) in &g.pel {
            out.extend_from_slice(&raw_id(*id));
            out.extend_from_slice(&nack.delivery_time.to_le_bytes());
            write_len(out, nack.delivery_count);
        }
        write_len(out, g.consumers.len() as u64);
        for (cname, c) in &g.consumers {
            enc.string(out, cname);
            out.extend_from_slice(&c.seen_time.to_le_bytes());
            write_len(out, c.pel.len() as u64);
            for id in &c.pel {
                out.extend_from_slice(&raw_id(*id));
            }
        }
    }
}

fn int(e: Option<&listpack::Entry<'_>>) -> Result<i64, DecodeError> {
    match e {
        Some(listpack::Entry::Int(n)) => Ok(*n),
        Some(listpack::Entry::Str(s)) => {
            listpack::string_to_i64(s).ok_or(DecodeError::Format("stream listpack"))
        }
        None => Err(DecodeError::Format("stream listpack")),
    }
}

/// Reads a stream's body; `v2` for type 19 (with the first and deleted IDs and the group
/// read counters).
pub(crate) fn decode(r: &mut Reader<'_>, v2: bool) -> Result<StreamValue, DecodeError> {
    let bad = || DecodeError::Format("stream");
    let mut s = StreamValue::new();
    let nodes = r.read_len()?;
    for _ in 0..nodes {
        let key = r.string()?;
        let master = id_from_raw(&key)?;
        let blob = r.string()?;
        let es = listpack::entries(&blob)?;
        let mut it = es.iter();
        let live = int(it.next())?;
        let deleted = int(it.next())?;
        let nf = int(it.next())?;
        if live < 0 || deleted < 0 || nf < 0 || nf as usize > es.len() {
            return Err(bad());
        }
        let mut master_fields = Vec::with_capacity(nf as usize);
        for _ in 0..nf {
            master_fields.push(it.next().ok_or_else(bad)?.to_vec());
        }
        if int(it.next())? != 0 {
            return Err(bad());
        }
        let mut entries: Vec<(StreamId, bool, Vec<Vec<u8>>)> = Vec::new();
        while let Some(f) = it.next() {
            let flags = int(Some(f))?;
            let ms = int(it.next())?;
            let seq = int(it.next())?;
            let id = StreamId {
                ms: master.ms.wrapping_add(ms as u64),
                seq: master.seq.wrapping_add(seq as u64),
            };
            let mut fields = Vec::new();
            if flags & FLAG_SAME_FIELDS != 0 {
                for name in &master_fields {
                    fields.push(name.clone());
                    fields.push(it.next().ok_or_else(bad)?.to_vec());
                }
            } else {
                let n = int(it.next())?;
                if n < 0 || n as usize > es.len() {
                    return Err(bad());
                }
                for _ in 0..2 * n {
                    fields.push(it.next().ok_or_else(bad)?.to_vec());
                }
            }
            // The entry's own element count (flags, ID deltas, [field count,] fields), which
            // reverse iteration steps back by: it must be exact.
            let pairs = (fields.len() / 2) as i64;
            let want = if flags & FLAG_SAME_FIELDS != 0 {
                pairs + 3
            } else {
                2 * pairs + 4
            };
            if int(it.next())? != want {
                return Err(bad());
            }
            entries.push((id, flags & FLAG_DELETED != 0, fields));
        }
        let counted_live = entries.iter().filter(|e| !e.1).count();
        if counted_live as i64 != live || (entries.len() - counted_live) as i64 != deleted {
            return Err(bad());
        }
        if !s.push_raw_node(master, &master_fields, &entries) {
            return Err(DecodeError::Format("stream node"));
        }
    }
    let length = r.read_len()?;
    let last_id = StreamId {
        ms: r.read_len()?,
        seq: r.read_len()?,
    };
    let (first_id, max_deleted, entries_added) = if v2 {
        let f = StreamId {
            ms: r.read_len()?,
            seq: r.read_len()?,
        };
        let d = StreamId {
            ms: r.read_len()?,
            seq: r.read_len()?,
        };
        (f, d, r.read_len()?)
    } else {
        // A stream from before 7.0 (RDB_TYPE_STREAM_LISTPACKS): as Redis migrates it, every
        // entry counts as added, nothing as deleted, and the first ID is the first live entry's.
        let first = s
            .range(StreamId::MIN, StreamId::MAX, false)
            .next()
            .map_or(StreamId::MIN, |(id, _)| id);
        (first, StreamId::MIN, length)
    };
    if !s.set_meta(length, last_id, first_id, max_deleted, entries_added) {
        return Err(bad());
    }
    let groups = r.read_len()?;
    for _ in 0..groups {
        let name = r.string()?;
        let last = StreamId {
            ms: r.read_len()?,
            seq: r.read_len()?,
        };
        // Before 7.0 groups had no read counter: Redis estimates it from the last delivered ID.
        let entries_read = if v2 {
            r.read_len()? as i64
        } else {
            s.estimate_distance(last)
        };
        let mut g = Group::new(last, entries_read);
        let mut owned = std::collections::BTreeSet::new();
        let pel = r.read_len()?;
        for _ in 0..pel {
            let id = id_from_raw(r.take(16)?)?;
            let delivery_time = r.u64_le()?;
            let delivery_count = r.read_len()?;
            g.pel.insert(
                id,
                Nack {
                    delivery_time,
                    delivery_count,
                    consumer: Box::from(&b""[..]),
                },
            );
        }
        let consumers = r.read_len()?;
        for _ in 0..consumers {
            let cname = r.string()?;
            let seen_time = r.u64_le()?;
            let n = r.read_len()?;
            let mut c = Consumer {
                seen_time,
                pel: Default::default(),
            };
            for _ in 0..n {
                let id = id_from_raw(r.take(16)?)?;
                let nack = g
                    .pel
                    .get_mut(&id)
                    .ok_or(DecodeError::Format("consumer PEL"))?;
                if !owned.insert(id) {
                    return Err(DecodeError::Format("consumer PEL"));
                }
                nack.consumer = cname.clone().into_boxed_slice();
                c.pel.insert(id);
            }
            if g.consumers.insert(cname.into_boxed_slice(), c).is_some() {
                return Err(DecodeError::Format("duplicate consumer"));
            }
        }
        if owned.len() != g.pel.len() {
            return Err(DecodeError::Format("PEL entry without a consumer"));
        }
        if s.groups.insert(name.into_boxed_slice(), g).is_some() {
            return Err(DecodeError::Format("duplicate consumer group"));
        }
    }
    Ok(s)
}
