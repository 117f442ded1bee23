//! Which shard owns a key.
//!
//! A key's shard is derived from its Redis Cluster hash slot (CRC16 of the key, or of its
//! `{hash tag}`, modulo 16384), then `slot % n_shards`. Using the cluster slot means keys that
//! share a hash tag always share a shard, so multi-key commands on them stay local, and the same
//! slot numbers will address machines once cluster mode exists.

/// The number of Redis Cluster hash slots.
pub const SLOTS: u16 = 16384;

/// The Redis Cluster hash slot of `key`, honouring `{hash tags}` as Redis does.
pub fn key_slot(key: &[u8]) -> u16 {
    let tagged = match key.iter().position(|&c| c == b'{') {
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
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc = (crc << 8) ^ CRC16_TABLE[(((crc >> 8) as u8) ^ b) as usize];
    }
    crc
}

const CRC16_TABLE: [u16; 256] = make_table();

const fn make_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut j = 0;
        while j < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            j += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
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
}
