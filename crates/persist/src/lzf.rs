//! LZF, the compression Redis uses for long strings in RDB files and DUMP payloads.
//!
//! The compressor makes the same choices as the liblzf 3.6 that Redis 7.0 builds (`HLOG` 16,
//! `VERY_FAST`, a 3-byte hash, back references up to 8 KiB away and 264 bytes long), so it
//! produces the same bytes for the same input; the format itself does not depend on it.
//! The decompressor checks every reference against the bytes written so far and the output
//! length against the length the header promised.

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

/// A compressor with its hash table, kept between calls so that compressing many small
/// strings costs no table clearing beyond the slots a call used.
pub struct Compressor {
    /// Position + 1 of the last 3-byte sequence with each hash; 0 is empty.
    htab: Vec<u32>,
    touched: Vec<u32>,
}

impl Default for Compressor {
    fn default() -> Self {
        Self::new()
    }
}

#[inline]
fn idx(h: u32) -> usize {
    (((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5))) as usize) & (HSIZE - 1)
}

impl Compressor {
    /// A compressor with an empty table.
    pub fn new() -> Self {
        Compressor {
            htab: vec![0; HSIZE],
            touched: Vec::new(),
        }
    }

    fn set(&mut self, slot: usize, pos: usize) {
        if self.htab[slot] == 0 {
            self.touched.push(slot as u32);
        }
        self.htab[slot] = pos as u32;
    }

    /// Compresses `input` into at most `out_len` bytes, appended to `out`; returns the length
    /// written, or `None` (and `out` unchanged) when it would not fit, as `lzf_compress`
    /// returns 0. Inputs longer than `u32::MAX` bytes are not compressed.
    pub fn compress(&mut self, input: &[u8], out_len: usize, out: &mut Vec<u8>) -> Option<usize> {
        if input.is_empty() || out_len == 0 || input.len() >= u32::MAX as usize {
            return None;
        }
        let start = out.len();
        let r = self.run(input, out_len, out);
        for s in self.touched.drain(..) {
            self.htab[s as usize] = 0;
        }
        match r {
            Some(n) => Some(n),
            None => {
                out.truncate(start);
                None
            }
        }
    }

    fn run(&mut self, inp: &[u8], out_len: usize, out: &mut Vec<u8>) -> Option<usize> {
        let base = out.len();
        let in_end = inp.len();
        // `op` is the output position relative to `base`; bytes are written by index into a
        // buffer sized for the worst case and cut to `op` at the end.
        out.resize(base + out_len + 1, 0);
        let o = &mut out[base..];
        let out_end = out_len;
        let mut ip = 0usize;
        let mut op = 0usize;
        let mut lit: usize = 0;
        op += 1; // start run
        let mut hval: u32 = if in_end >= 2 {
            ((inp[0] as u32) << 8) | inp[1] as u32
        } else {
            0
        };
        while in_end >= 3 && ip < in_end - 2 {
            hval = (hval << 8) | inp[ip + 2] as u32;
            let slot = idx(hval);
            let prev = self.htab[slot] as usize;
            self.set(slot, ip);
            // A slot holds a position; 0 (the first byte) never matches (`ref > in_data`).
            let matched = prev != 0
                && prev < ip
                && ip - prev - 1 < MAX_OFF
                && inp[prev + 2] == inp[ip + 2]
                && inp[prev] == inp[ip]
                && inp[prev + 1] == inp[ip + 1];
            if matched {
                let r = prev;
                let off = ip - r - 1;
                let mut len: usize = 2;
                let maxlen = (in_end - ip - len).min(MAX_REF);
                if op + 3 + 1 >= out_end && op - usize::from(lit == 0) + 3 + 1 >= out_end {
                    return None;
                }
                o[op - lit - 1] = (lit as u8).wrapping_sub(1);
                op -= usize::from(lit == 0);
                'outer: {
                    if maxlen > 16 {
                        for _ in 0..16 {
                            len += 1;
                            if inp[r + len] != inp[ip + len] {
                                break 'outer;
                            }
                        }
                    }
                    loop {
                        len += 1;
                        if !(len < maxlen && inp[r + len] == inp[ip + len]) {
                            break;
                        }
                    }
                }
                len -= 2;
                ip += 1;
                if len < 7 {
                    o[op] = ((off >> 8) + (len << 5)) as u8;
                    op += 1;
                } else {
                    o[op] = ((off >> 8) + (7 << 5)) as u8;
                    o[op + 1] = (len - 7) as u8;
                    op += 2;
                }
                o[op] = off as u8;
                op += 1;
                lit = 0;
                op += 1; // start run
                ip += len + 1;
                if ip >= in_end - 2 {
                    break;
                }
                ip -= 2;
                hval = ((inp[ip] as u32) << 8) | inp[ip + 1] as u32;
                hval = (hval << 8) | inp[ip + 2] as u32;
                self.set(idx(hval), ip);
                ip += 1;
                hval = (hval << 8) | inp[ip + 2] as u32;
                self.set(idx(hval), ip);
                ip += 1;
            } else {
                if op >= out_end {
                    return None;
                }
                lit += 1;
                o[op] = inp[ip];
                op += 1;
                ip += 1;
                if lit == MAX_LIT {
                    o[op - lit - 1] = (lit - 1) as u8;
                    lit = 0;
                    op += 1;
                }
            }
        }
        if op + 3 > out_end {
            return None;
        }
        while ip < in_end {
            lit += 1;
            o[op] = inp[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                o[op - lit - 1] = (lit - 1) as u8;
                lit = 0;
                op += 1;
            }
        }
        o[op - lit - 1] = (lit as u8).wrapping_sub(1);
        op -= usize::from(lit == 0);
        out.truncate(base + op);
        Some(op)
    }
}

/// Decompresses `input`, which must expand to exactly `out_len` bytes; `None` if it is
/// malformed (a reference before the start, a run past the end, a different length).
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(out_len);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < (1 << 5) {
            let n = ctrl + 1;
            if ip + n > input.len() || out.len() + n > out_len {
                return None;
            }
            out.extend_from_slice(&input[ip..ip + n]);
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(ip)? as usize;
                ip += 1;
            }
            let off = ((ctrl & 0x1f) << 8) + *input.get(ip)? as usize + 1;
            ip += 1;
            let n = len + 2;
            if off > out.len() || out.len() + n > out_len {
                return None;
            }
            let from = out.len() - off;
            for i in 0..n {
                let b = out[from + i];
                out.push(b);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn repetitive_input_compresses_and_round_trips() {
        let mut c = Compressor::new();
        let input =
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let mut out = Vec::new();
        let n = c
            .compress(input, input.len() - 4, &mut out)
            .expect("compresses");
        assert_eq!(n, out.len());
        assert!(n < 10);
        assert_eq!(decompress(&out, input.len()).as_deref(), Some(&input[..]));
    }

    #[test]
    fn incompressible_input_does_not_fit() {
        let mut c = Compressor::new();
        let input: Vec<u8> = (0..64u8).collect();
        let mut out = vec![7];
        assert_eq!(c.compress(&input, input.len() - 4, &mut out), None);
        assert_eq!(out, vec![7]);
    }

    #[test]
    fn malformed_input_is_refused() {
        assert_eq!(decompress(&[0x20, 0x00], 3), None); // reference before the start
        assert_eq!(decompress(&[0x05, b'a'], 6), None); // literal past the input
        assert_eq!(decompress(&[0x00, b'a'], 2), None); // shorter than promised
    }

    proptest! {
        #[test]
        fn round_trips(input in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 1..3000)) {
            let mut c = Compressor::new();
            let mut out = Vec::new();
            if c.compress(&input, input.len() + 64, &mut out).is_some() {
                prop_assert_eq!(decompress(&out, input.len()), Some(input.clone()));
            }
        }
    }
}
