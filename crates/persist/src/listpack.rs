//! Listpacks, the compact encoding Redis 7.0 stores small hashes and sorted sets in and every
//! quicklist node of a list, as they appear inside RDB strings.

use crate::DecodeError;

/// Listpack header: total bytes (u32) and element count (u16).
pub const HEADER: usize = 6;
/// The terminator byte.
pub const EOF: u8 = 0xFF;

/// Parses a string as Redis's `lpStringToInt64` does: canonical decimal, at most 20 bytes.
pub fn string_to_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Builds a listpack by appending entries.
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

fn backlen(buf: &mut Vec<u8>, l: u64) {
    if l <= 127 {
        buf.push(l as u8);
    } else if l < 16383 {
        buf.extend_from_slice(&[(l >> 7) as u8, ((l & 127) | 128) as u8]);
    } else if l < 2097151 {
        buf.extend_from_slice(&[
            (l >> 14) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]);
    } else if l < 268435455 {
        buf.extend_from_slice(&[
            (l >> 21) as u8,
            (((l >> 14) & 127) | 128) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]);
    } else {
        buf.extend_from_slice(&[
            (l >> 28) as u8,
            (((l >> 21) & 127) | 128) as u8,
            (((l >> 14) & 127) | 128) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]);
    }
}

/// The bytes an entry for `s` takes, backlen included (`lpEncodeGetType` + backlen size).
pub fn entry_size(s: &[u8]) -> usize {
    let enc = match string_to_i64(s) {
        Some(v) => int_enc_len(v),
        None if s.len() < 64 => 1 + s.len(),
        None if s.len() < 4096 => 2 + s.len(),
        None => 5 + s.len(),
    };
    enc + backlen_size(enc as u64)
}

fn backlen_size(l: u64) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

fn int_enc_len(v: i64) -> usize {
    if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if (-32768..=32767).contains(&v) {
        3
    } else if (-8388608..=8388607).contains(&v) {
        4
    } else if (-2147483648..=2147483647).contains(&v) {
        5
    } else {
        9
    }
}

impl Builder {
    /// An empty listpack.
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&[0; HEADER]);
        Builder { buf, count: 0 }
    }

    /// Total bytes the finished listpack will have.
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    /// Entries appended so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Appends an integer entry (`lpAppendInteger`).
    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = if v < 0 { (1i64 << 13) + v } else { v } as u64;
            self.buf
                .extend_from_slice(&[0xC0 | (u >> 8) as u8, u as u8]);
        } else if (-32768..=32767).contains(&v) {
            self.buf.push(0xF1);
            self.buf.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-8388608..=8388607).contains(&v) {
            self.buf.push(0xF2);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if (-2147483648..=2147483647).contains(&v) {
            self.buf.push(0xF3);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            self.buf.push(0xF4);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        let l = (self.buf.len() - start) as u64;
        backlen(&mut self.buf, l);
        self.count += 1;
    }

    /// Appends a string entry, as an integer when it is one (`lpAppend`).
    pub fn push(&mut self, s: &[u8]) {
        if let Some(v) = string_to_i64(s) {
            return self.push_int(v);
        }
        let start = self.buf.len();
        let n = s.len();
        if n < 64 {
            self.buf.push(0x80 | n as u8);
        } else if n < 4096 {
            self.buf
                .extend_from_slice(&[0xE0 | (n >> 8) as u8, n as u8]);
        } else {
            self.buf.push(0xF0);
            self.buf.extend_from_slice(&(n as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        let l = (self.buf.len() - start) as u64;
        backlen(&mut self.buf, l);
        self.count += 1;
    }

    /// The finished listpack.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let n = self.count.min(65535) as u16;
        self.buf[4..6].copy_from_slice(&n.to_le_bytes());
        self.buf
    }
}

/// One listpack entry as read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Entry<'a> {
    /// A string.
    Str(&'a [u8]),
    /// An integer.
    Int(i64),
}

impl Entry<'_> {
    /// The entry's bytes (an integer in decimal).
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            Entry::Str(s) => s.to_vec(),
            Entry::Int(v) => v.to_string().into_bytes(),
        }
    }
}

/// Reads every entry of a listpack, checking its header, each entry's bounds and backlen, the
/// terminator and the count. Nothing is allocated from an untrusted length.
pub fn entries(lp: &[u8]) -> Result<Vec<Entry<'_>>, DecodeError> {
    let bad = || DecodeError::Format("listpack");
    if lp.len() < HEADER + 1 {
        return Err(bad());
    }
    let total = u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize;
    if total != lp.len() || lp[total - 1] != EOF {
        return Err(bad());
    }
    let declared = u16::from_le_bytes([lp[4], lp[5]]) as usize;
    let mut out = Vec::new();
    let mut p = HEADER;
    let end = total - 1;
    while p < end {
        let b = lp[p];
        let take = |from: usize, n: usize| -> Result<&[u8], DecodeError> {
            lp.get(from..from.checked_add(n).ok_or_else(bad)?)
                .filter(|_| from + n <= end)
                .ok_or_else(bad)
        };
        let (entry, enc_len) = if b & 0x80 == 0 {
            (Entry::Int((b & 0x7f) as i64), 1)
        } else if b & 0xC0 == 0x80 {
            let n = (b & 0x3f) as usize;
            (Entry::Str(take(p + 1, n)?), 1 + n)
        } else if b & 0xE0 == 0xC0 {
            let x = take(p + 1, 1)?;
            let u = (((b & 0x1f) as i64) << 8) | x[0] as i64;
            let v = if u >= 1 << 12 { u - (1 << 13) } else { u };
            (Entry::Int(v), 2)
        } else if b & 0xF0 == 0xE0 {
            let x = take(p + 1, 1)?;
            let n = (((b & 0x0f) as usize) << 8) | x[0] as usize;
            (Entry::Str(take(p + 2, n)?), 2 + n)
        } else {
            match b {
                0xF0 => {
                    let x = take(p + 1, 4)?;
                    let n = u32::from_le_bytes([x[0], x[1], x[2], x[3]]) as usize;
                    (Entry::Str(take(p + 5, n)?), 5 + n)
                }
                0xF1 => {
                    let x = take(p + 1, 2)?;
                    (Entry::Int(i16::from_le_bytes([x[0], x[1]]) as i64), 3)
                }
                0xF2 => {
                    let x = take(p + 1, 3)?;
                    let v = i32::from_le_bytes([0, x[0], x[1], x[2]]) >> 8;
                    (Entry::Int(v as i64), 4)
                }
                0xF3 => {
                    let x = take(p + 1, 4)?;
                    (
                        Entry::Int(i32::from_le_bytes([x[0], x[1], x[2], x[3]]) as i64),
                        5,
                    )
                }
                0xF4 => {
                    let x = take(p + 1, 8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(x);
                    (Entry::Int(i64::from_le_bytes(a)), 9)
                }
                _ => return Err(bad()),
            }
        };
        let mut expect = Vec::with_capacity(5);
        backlen(&mut expect, enc_len as u64);
        let bl = take(p + enc_len, expect.len())?;
        if bl != &expect[..] {
            return Err(bad());
        }
        p += enc_len + expect.len();
        out.push(entry);
    }
    if p != end || (declared != 65535 && declared != out.len()) {
        return Err(bad());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_round_trips_and_sizes_agree() {
        let mut b = Builder::new();
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 100];
        let items: Vec<Vec<u8>> = vec![
            b"0".to_vec(),
            b"127".to_vec(),
            b"-1".to_vec(),
            b"4095".to_vec(),
            b"-4096".to_vec(),
            b"30000".to_vec(),
            b"-8000000".to_vec(),
            b"2000000000".to_vec(),
            b"-9223372036854775808".to_vec(),
            b"9223372036854775807".to_vec(),
            b"007".to_vec(),
            b"abc".to_vec(),
            b"".to_vec(),
            mid.clone(),
            long.clone(),
        ];
        let mut size = HEADER + 1;
        for i in &items {
            b.push(i);
            size += entry_size(i);
        }
        let lp = b.finish();
        assert_eq!(lp.len(), size);
        let got: Vec<Vec<u8>> = entries(&lp)
            .unwrap()
            .into_iter()
            .map(Entry::to_vec)
            .collect();
        assert_eq!(got, items);
    }

    #[test]
    fn damaged_listpacks_are_refused() {
        let mut b = Builder::new();
        b.push(b"hello");
        b.push(b"12");
        let lp = b.finish();
        for cut in 0..lp.len() {
            assert!(entries(&lp[..cut]).is_err());
        }
        let mut wrong_count = lp.clone();
        wrong_count[4] = 3;
        assert!(entries(&wrong_count).is_err());
        let mut wrong_len = lp.clone();
        wrong_len[6] = 0x80 | 40;
        assert!(entries(&wrong_len).is_err());
    }
}
