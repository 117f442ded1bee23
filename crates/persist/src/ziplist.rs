//! The encodings of RDB 9 and older that Redis 7.0 still loads (and converts): ziplists (small
//! lists, hashes and sorted sets, and the nodes of version-1 quicklists) and zipmaps (small
//! hashes before Redis 2.6). Only reading: Rustis writes listpacks, as Redis 7.0 does.
//!
//! Both are untrusted bytes. Each is walked whole, as Redis's deep integrity checks
//! (`ziplistValidateIntegrity`, `zipmapValidateIntegrity`) walk it: every entry's bounds, every
//! `prevlen` against the entry before it, the tail offset, the count and the terminator are
//! checked, and nothing is allocated for a length the bytes cannot back.

use crate::listpack::Entry;
use crate::DecodeError;

/// Ziplist header: total bytes (u32), tail offset (u32), entry count (u16).
const ZL_HEADER: usize = 10;
/// The terminator of both formats.
const END: u8 = 0xFF;

fn bad(what: &'static str) -> DecodeError {
    DecodeError::Format(what)
}

fn u32_le(b: &[u8]) -> usize {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
}

/// The entries of a ziplist, after checking all of it.
pub fn entries(zl: &[u8]) -> Result<Vec<Entry<'_>>, DecodeError> {
    let err = bad("ziplist");
    if zl.len() < ZL_HEADER + 1 {
        return Err(err);
    }
    let total = u32_le(&zl[0..4]);
    let tail = u32_le(&zl[4..8]);
    let count = u16::from_le_bytes([zl[8], zl[9]]) as usize;
    if total != zl.len() || zl[total - 1] != END {
        return Err(err);
    }
    let mut out = Vec::new();
    let mut p = ZL_HEADER;
    let mut prev_raw = 0usize;
    let mut last_start = None;
    while zl[p] != END {
        let start = p;
        // prevlen: one byte below 254, else 0xFE and four bytes.
        let prevlen = if zl[p] < 254 {
            p += 1;
            zl[start] as usize
        } else {
            if zl[p] != 254 || p + 5 > total - 1 {
                return Err(err);
            }
            p += 5;
            u32_le(&zl[start + 1..start + 5])
        };
        if prevlen != prev_raw {
            return Err(err);
        }
        let enc = *zl.get(p).ok_or(bad("ziplist"))?;
        let need = |p: usize, n: usize| -> Result<(), DecodeError> {
            if p + n > total - 1 {
                Err(bad("ziplist"))
            } else {
                Ok(())
            }
        };
        let entry = match enc >> 6 {
            0 => {
                let len = (enc & 0x3F) as usize;
                need(p + 1, len)?;
                let s = &zl[p + 1..p + 1 + len];
                p += 1 + len;
                Entry::Str(s)
            }
            1 => {
                need(p, 2)?;
                let len = (((enc & 0x3F) as usize) << 8) | zl[p + 1] as usize;
                need(p + 2, len)?;
                let s = &zl[p + 2..p + 2 + len];
                p += 2 + len;
                Entry::Str(s)
            }
            2 => {
                // The low bits of a 32-bit length's first byte are not read, as in Redis.
                need(p, 5)?;
                let len = u32::from_be_bytes([zl[p + 1], zl[p + 2], zl[p + 3], zl[p + 4]]) as usize;
                need(p + 5, len)?;
                let s = &zl[p + 5..p + 5 + len];
                p += 5 + len;
                Entry::Str(s)
            }
            _ => {
                let (width, v) = match enc {
                    0xC0 => (2, None),
                    0xD0 => (4, None),
                    0xE0 => (8, None),
                    0xF0 => (3, None),
                    0xFE => (1, None),
                    0xF1..=0xFD => (0, Some((enc & 0x0F) as i64 - 1)),
                    _ => return Err(err),
                };
                need(p + 1, width)?;
                let b = &zl[p + 1..p + 1 + width];
                let v = v.unwrap_or_else(|| match width {
                    1 => b[0] as i8 as i64,
                    2 => i16::from_le_bytes([b[0], b[1]]) as i64,
                    // 24 bits, sign-extended.
                    3 => (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as i64,
                    4 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
                    _ => i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
                });
                p += 1 + width;
                Entry::Int(v)
            }
        };
        prev_raw = p - start;
        last_start = Some(start);
        out.push(entry);
        if p >= total {
            return Err(err);
        }
    }
    if p != total - 1 {
        return Err(err);
    }
    // The tail offset names the last entry (the terminator's offset when there is none).
    if tail != last_start.unwrap_or(ZL_HEADER) {
        return Err(err);
    }
    // A count of 65535 means "count them".
    if count != u16::MAX as usize && count != out.len() {
        return Err(err);
    }
    Ok(out)
}

/// A field and its value, borrowed from a zipmap.
pub type Pair<'a> = (&'a [u8], &'a [u8]);

/// The field-value pairs of a zipmap, after checking all of it.
pub fn zipmap_pairs(zm: &[u8]) -> Result<Vec<Pair<'_>>, DecodeError> {
    let err = bad("zipmap");
    if zm.len() < 2 || zm[zm.len() - 1] != END {
        return Err(err);
    }
    let declared = zm[0] as usize;
    let end = zm.len() - 1;
    let mut p = 1;
    let mut pairs = Vec::new();
    // A length: one byte below 254, else 254 and four bytes (255 is the terminator).
    let len = |p: &mut usize| -> Result<usize, DecodeError> {
        let b = *zm.get(*p).ok_or(bad("zipmap"))?;
        match b {
            0..=253 => {
                *p += 1;
                Ok(b as usize)
            }
            254 => {
                if *p + 5 > end {
                    return Err(bad("zipmap"));
                }
                let l = u32_le(&zm[*p + 1..*p + 5]);
                *p += 5;
                Ok(l)
            }
            _ => Err(bad("zipmap")),
        }
    };
    while p < end {
        let klen = len(&mut p)?;
        if p + klen > end {
            return Err(err);
        }
        let key = &zm[p..p + klen];
        p += klen;
        let vlen = len(&mut p)?;
        // One byte of free space count, then the value and that much free space.
        let free = *zm.get(p).ok_or(bad("zipmap"))? as usize;
        p += 1;
        if p + vlen + free > end {
            return Err(err);
        }
        let val = &zm[p..p + vlen];
        p += vlen + free;
        pairs.push((key, val));
    }
    if p != end {
        return Err(err);
    }
    // The count byte is exact below 254 (254 and up mean "count them").
    if declared < 254 && declared != pairs.len() {
        return Err(err);
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ziplist of `a`, `bb`, 7, -300, as Redis writes it.
    fn sample() -> Vec<u8> {
        let mut body = Vec::new();
        let mut starts = Vec::new();
        let mut prev = 0u8;
        for e in [
            vec![0x01, b'a'],
            vec![0x02, b'b', b'b'],
            vec![0xF8],
            vec![0xC0, 0xD4, 0xFE],
        ] {
            starts.push(ZL_HEADER + body.len());
            let mut raw = vec![prev];
            raw.extend(e);
            prev = raw.len() as u8;
            body.extend(raw);
        }
        let total = ZL_HEADER + body.len() + 1;
        let mut zl = Vec::new();
        zl.extend((total as u32).to_le_bytes());
        zl.extend((*starts.last().unwrap() as u32).to_le_bytes());
        zl.extend(4u16.to_le_bytes());
        zl.extend(body);
        zl.push(END);
        zl
    }

    #[test]
    fn ziplist_entries_are_read() {
        let zl = sample();
        let es = entries(&zl).unwrap();
        assert_eq!(es.len(), 4);
        assert!(matches!(es[0], Entry::Str(b"a")));
        assert!(matches!(es[1], Entry::Str(b"bb")));
        assert!(matches!(es[2], Entry::Int(7)));
        assert!(matches!(es[3], Entry::Int(-300)));
    }

    #[test]
    fn every_cut_or_flipped_byte_is_an_error_or_a_valid_ziplist_never_a_panic() {
        let zl = sample();
        for cut in 0..zl.len() {
            assert!(entries(&zl[..cut]).is_err());
        }
        for i in 0..zl.len() {
            for v in [0u8, 1, 0x3F, 0x40, 0x80, 0xC0, 0xFE, 0xFF] {
                let mut z = zl.clone();
                z[i] = v;
                let _ = entries(&z);
            }
        }
    }

    #[test]
    fn zipmap_pairs_are_read_and_checked() {
        // 2 pairs: f1 => v1 (with one free byte), f2 => v2.
        let zm = [
            2, 2, b'f', b'1', 2, 1, b'v', b'1', 0, 2, b'f', b'2', 2, 0, b'v', b'2', 0xFF,
        ];
        let pairs = zipmap_pairs(&zm).unwrap();
        assert_eq!(
            pairs,
            vec![(&b"f1"[..], &b"v1"[..]), (&b"f2"[..], &b"v2"[..])]
        );
        for cut in 0..zm.len() {
            assert!(zipmap_pairs(&zm[..cut]).is_err());
        }
        let mut wrong_count = zm;
        wrong_count[0] = 3;
        assert!(zipmap_pairs(&wrong_count).is_err());
    }
}
