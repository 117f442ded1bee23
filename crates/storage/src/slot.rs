//! Which shard owns a key (used by the runtime to route, and by a shard to tell its own keys).
//!
//! A key's shard is derived from its Redis Cluster hash slot (CRC16 of the key, or of its
//! `{hash tag}`, modulo 16384), then `slot % n_shards`. Using the cluster slot means keys that
//! share a hash tag always share a shard, so multi-key commands on them stay local, and the same
//! slot numbers will address machines once cluster mode exists.

/// The number of Redis Cluster hash slots.
pub const SLOTS: u16 = 16384;

/// The Redis Cluster hash slot of `key`, honouring `{hash tags}` as Redis does.
pub fn key_slot(key: &[u8]) -> u16 {
    // Keys are short: a plain scan beats memchr's vector setup.
    let open = if key.len() <= 64 {
        key.iter().position(|&c| c == b'{')
    } else {
        memchr::memchr(b'{', key)
    };
    let tagged = match open {
        Some(open) => match key[open + 1..].iter().position(|&c| c == b'}') {
            Some(len) if len > 0 => &key[open + 1..open + 1 + len],
            _ => key,
        },
        None => key,
    };
    crc16(tagged) & (SLOTS - 1)
}

/// The shard that owns `key` among `n` shards.
#[inline]
pub fn shard_of(key: &[u8], n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    key_slot(key) as usize % n
}

/// CRC16-CCITT (XModem), the checksum Redis Cluster uses for slots.
///
/// Every command is routed by it, so it takes four bytes per step (slicing-by-4 tables) rather
/// than one.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let hi = crc ^ u16::from_be_bytes([c[0], c[1]]);
        crc = TABLES[3][(hi >> 8) as usize]
            ^ TABLES[2][(hi & 0xff) as usize]
            ^ TABLES[1][c[2] as usize]
            ^ TABLES[0][c[3] as usize];
    }
    for &b in chunks.remainder() {
        crc = (crc << 8) ^ TABLES[0][(((crc >> 8) as u8) ^ b) as usize];
    }
    crc
}

/// `TABLES[k][v]`: the CRC register after the byte `v` followed by `k` zero bytes, from zero.
static TABLES: [[u16; 256]; 4] = make_tables();

/// Shifts a 16-bit CRC register by `bits` zero bits.
const fn shift(mut crc: u16, bits: u32) -> u16 {
    let mut i = 0;
    while i < bits {
        crc = if crc & 0x8000 != 0 {
            (crc << 1) ^ 0x1021
        } else {
            crc << 1
        };
        i += 1;
    }
    crc
}

const fn make_tables() -> [[u16; 256]; 4] {
    let mut t = [[0u16; 256]; 4];
    let mut v = 0;
    while v < 256 {
        // The byte enters the top of the register, then 8 bits are shifted out.
        let base = shift((v as u16) << 8, 8);
        t[0][v] = base;
        let mut k = 1;
        while k < 4 {
            t[k][v] = shift(t[k - 1][v], 8);
            k += 1;
        }
        v += 1;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_redis_cluster() {
        // Values from CLUSTER KEYSLOT on a real Redis.
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
    }

    fn crc16_bitwise(data: &[u8]) -> u16 {
        let mut crc: u16 = 0;
        for &b in data {
            crc ^= (b as u16) << 8;
            crc = shift(crc, 8);
        }
        crc
    }

    #[test]
    fn sliced_crc_matches_the_bitwise_definition() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 37 + 11) as u8).collect();
        for len in 0..data.len() {
            assert_eq!(
                crc16(&data[..len]),
                crc16_bitwise(&data[..len]),
                "len {len}"
            );
        }
    }
}
