//! HyperLogLog: Redis's sketch (16384 six-bit registers, MurmurHash64A, Ertl's estimator),
//! stored as a string in Redis's own layout so GET/SET/DUMP round-trip.
//!
//! Layout: `HYLL`, an encoding byte (0 dense, 1 sparse), three unused bytes, and eight bytes of
//! cached cardinality (little endian; the top bit of the last byte set means "stale"). Dense:
//! 12288 bytes of packed six-bit registers. Sparse: runs of `ZERO` (`00xxxxxx`, 1-64 zero
//! registers), `XZERO` (`01xxxxxx yyyyyyyy`, 1-16384) and `VAL` (`1vvvvvxx`, value 1-32 repeated
//! 1-4 times). Registers, and so counts, are identical to Redis's; a sparse encoding is always
//! written in its canonical (greedy) form, which may differ in bytes from one Redis reached by
//! a different sequence of updates.

/// Register index bits.
pub const P: u32 = 14;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
/// Hash bits used for the run length.
pub const Q: u32 = 64 - P;
/// Header length.
pub const HDR: usize = 16;
/// Length of a dense HLL string.
pub const DENSE_LEN: usize = HDR + (REGISTERS * 6).div_ceil(8);
/// `hll-sparse-max-bytes`: beyond this a sparse HLL turns dense.
pub const SPARSE_MAX_BYTES: usize = 3000;
const SPARSE_VAL_MAX: u8 = 32;

/// The registers of one HyperLogLog.
#[derive(Clone, PartialEq, Eq)]
pub struct Registers(pub Box<[u8; REGISTERS]>);

impl Default for Registers {
    fn default() -> Self {
        Registers(Box::new([0; REGISTERS]))
    }
}

/// Why bytes are not a HyperLogLog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HllError {
    /// Not an HLL string at all (`WRONGTYPE Key is not a valid HyperLogLog string value.`).
    NotHll,
    /// The header is right but the body is damaged (`INVALIDOBJ Corrupted HLL object detected`).
    Corrupt,
}

/// MurmurHash64A, the 64-bit hash Redis's HyperLogLog uses.
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        for (i, &b) in rest.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element lands in and the run length it proposes (Redis's `hllPatLen`).
pub fn pat_len(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, 0xadc8_3b19);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

impl Registers {
    /// Adds an element; true if a register changed.
    pub fn add(&mut self, element: &[u8]) -> bool {
        let (i, n) = pat_len(element);
        if self.0[i] < n {
            self.0[i] = n;
            true
        } else {
            false
        }
    }

    /// Takes the larger of each register pair.
    pub fn merge(&mut self, other: &Registers) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            if *b > *a {
                *a = *b;
            }
        }
    }

    /// The cardinality estimate, exactly as Redis computes it (Ertl's improved estimator).
    pub fn count(&self) -> u64 {
        let mut histo = [0u32; 64];
        for &r in self.0.iter() {
            histo[r as usize] += 1;
        }
        let m = REGISTERS as f64;
        let q = Q as usize;
        let mut z = m * tau((m - histo[q + 1] as f64) / m);
        for j in (1..=q).rev() {
            z += histo[j] as f64;
            z *= 0.5;
        }
        z += m * sigma(histo[0] as f64 / m);
        const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
        (ALPHA_INF * m * m / z).round() as u64
    }

    /// Reads an HLL string.
    pub fn decode(b: &[u8]) -> Result<Registers, HllError> {
        if b.len() < HDR || &b[..4] != b"HYLL" || b[4] > 1 {
            return Err(HllError::NotHll);
        }
        let mut regs = Registers::default();
        if b[4] == 0 {
            if b.len() != DENSE_LEN {
                return Err(HllError::NotHll);
            }
            let d = &b[HDR..];
            for (i, r) in regs.0.iter_mut().enumerate() {
                *r = dense_get(d, i);
            }
            return Ok(regs);
        }
        let mut idx = 0usize;
        let mut p = HDR;
        while p < b.len() {
            let op = b[p];
            if op & 0xc0 == 0 {
                idx += (op & 0x3f) as usize + 1;
                p += 1;
            } else if op & 0xc0 == 0x40 {
                let Some(&lo) = b.get(p + 1) else {
                    return Err(HllError::Corrupt);
                };
                idx += (((op & 0x3f) as usize) << 8 | lo as usize) + 1;
                p += 2;
            } else {
                let val = ((op >> 2) & 0x1f) + 1;
                let run = (op & 3) as usize + 1;
                if idx + run > REGISTERS {
                    return Err(HllError::Corrupt);
                }
                for r in &mut regs.0[idx..idx + run] {
                    *r = val;
                }
                idx += run;
                p += 1;
            }
            if idx > REGISTERS {
                return Err(HllError::Corrupt);
            }
        }
        if idx != REGISTERS {
            return Err(HllError::Corrupt);
        }
        Ok(regs)
    }

    /// The canonical sparse body, or `None` when the registers need the dense form (a value
    /// above 32, or longer than `max_bytes`).
    pub fn sparse_body(&self, max_bytes: usize) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let r = &self.0;
        let mut i = 0;
        while i < REGISTERS {
            let v = r[i];
            let mut run = 1;
            while i + run < REGISTERS && r[i + run] == v {
                run += 1;
            }
            if v == 0 {
                let mut left = run;
                while left > 0 {
                    if left > 64 {
                        let n = left.min(16384);
                        out.push(0x40 | ((n - 1) >> 8) as u8);
                        out.push(((n - 1) & 0xff) as u8);
                        left -= n;
                    } else {
                        out.push((left - 1) as u8);
                        left = 0;
                    }
                }
            } else {
                if v > SPARSE_VAL_MAX {
                    return None;
                }
                let mut left = run;
                while left > 0 {
                    let n = left.min(4);
                    out.push(0x80 | ((v - 1) << 2) | (n - 1) as u8);
                    left -= n;
                }
            }
            if HDR + out.len() > max_bytes {
                return None;
            }
            i += run;
        }
        Some(out)
    }

    /// Writes the registers as an HLL string: sparse if it fits in `max_bytes` and `dense` is
    /// not forced, else dense. `cache` are the eight cardinality cache bytes (see
    /// [`cache_bytes`]).
    pub fn encode(&self, dense: bool, max_bytes: usize, cache: [u8; 8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(HDR + 64);
        out.extend_from_slice(b"HYLL");
        let sparse = if dense {
            None
        } else {
            self.sparse_body(max_bytes)
        };
        out.push(if sparse.is_some() { 1 } else { 0 });
        out.extend_from_slice(&[0, 0, 0]);
        out.extend_from_slice(&cache);
        match sparse {
            Some(body) => out.extend_from_slice(&body),
            None => {
                let mut d = vec![0u8; DENSE_LEN - HDR];
                for (i, &v) in self.0.iter().enumerate() {
                    dense_set(&mut d, i, v);
                }
                out.extend_from_slice(&d);
            }
        }
        out
    }
}

/// The eight cache bytes for a cardinality (`None`: stale).
pub fn cache_bytes(card: Option<u64>) -> [u8; 8] {
    match card {
        Some(c) => c.to_le_bytes(),
        None => {
            let mut b = [0u8; 8];
            b[7] = 0x80;
            b
        }
    }
}

/// The cache bytes of an HLL string, stale-marked (Redis's `HLL_INVALIDATE_CACHE` keeps the
/// other bits).
pub fn stale_cache(b: &[u8]) -> [u8; 8] {
    let mut c = [0u8; 8];
    if b.len() >= HDR {
        c.copy_from_slice(&b[8..16]);
    }
    c[7] |= 0x80;
    c
}

/// The cached cardinality of an HLL string, if valid.
pub fn cached(b: &[u8]) -> Option<u64> {
    if b.len() < HDR || b[15] & 0x80 != 0 {
        return None;
    }
    let mut c = [0u8; 8];
    c.copy_from_slice(&b[8..16]);
    Some(u64::from_le_bytes(c))
}

fn dense_get(d: &[u8], i: usize) -> u8 {
    let bit = i * 6;
    let (b, fb) = (bit / 8, bit % 8);
    let b0 = d[b] as u16;
    let b1 = d.get(b + 1).copied().unwrap_or(0) as u16;
    (((b0 >> fb) | (b1 << (8 - fb))) & 63) as u8
}

fn dense_set(d: &mut [u8], i: usize, v: u8) {
    let bit = i * 6;
    let (b, fb) = (bit / 8, bit % 8);
    let v = v as u16;
    d[b] &= !((63u16 << fb) as u8);
    d[b] |= (v << fb) as u8;
    if b + 1 < d.len() {
        d[b + 1] &= !((63u16 >> (8 - fb)) as u8);
        d[b + 1] |= (v >> (8 - fb)) as u8;
    }
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let z_prime = z;
        z += x * y;
        y += y;
        if z_prime == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let z_prime = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if z_prime == z {
            return z / 3.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_close_and_encodings_round_trip() {
        let mut r = Registers::default();
        assert_eq!(r.count(), 0);
        for i in 0..1000 {
            r.add(format!("e{i}").as_bytes());
        }
        let c = r.count();
        assert!((980..=1020).contains(&c), "{c}");
        let sparse = r.encode(false, SPARSE_MAX_BYTES, cache_bytes(Some(c)));
        assert_eq!(sparse[4], 1);
        assert_eq!(cached(&sparse), Some(c));
        assert!(Registers::decode(&sparse).unwrap() == r);
        let dense = r.encode(true, SPARSE_MAX_BYTES, cache_bytes(None));
        assert_eq!(dense.len(), DENSE_LEN);
        assert_eq!(cached(&dense), None);
        assert!(Registers::decode(&dense).unwrap() == r);
        assert!(matches!(Registers::decode(b"hello"), Err(HllError::NotHll)));
        let mut big = Registers::default();
        for i in 0..100_000 {
            big.add(format!("x{i}").as_bytes());
        }
        assert_eq!(
            big.encode(false, SPARSE_MAX_BYTES, cache_bytes(None)).len(),
            DENSE_LEN
        );
    }
}
