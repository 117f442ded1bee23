//! FUNCTION DUMP / RESTORE payloads, byte for byte as redis-server 7.0 writes and reads them:
//! for each library the RDB function opcode (245) and its code as an RDB string (LZF
//! compressed when that saves at least four bytes, as `rdbcompression yes` does), then the
//! RDB version (10, two bytes little-endian) and the CRC64 (Jones, as Redis's `crc64`) of all
//! that, eight bytes little-endian.
//!
//! Must not: know about Lua; the caller loads the codes it returns.

use crc::{Crc, CRC_64_REDIS};

const RDB_VERSION: u16 = 10;
const OPCODE_FUNCTION2: u8 = 245;
const OPCODE_FUNCTION: u8 = 246;
const CRC64: Crc<u64> = Crc::<u64>::new(&CRC_64_REDIS);

/// The payload for these library codes, in this order.
pub(crate) fn dump_payload(codes: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        out.push(OPCODE_FUNCTION2);
        save_raw_string(&mut out, code);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = CRC64.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The library codes in a payload, or the whole error text Redis gives.
pub(crate) fn parse_payload(p: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let bad = || "ERR DUMP payload version or checksum are wrong".to_string();
    if p.len() < 10 {
        return Err(bad());
    }
    let footer = &p[p.len() - 10..];
    let ver = u16::from_le_bytes([footer[0], footer[1]]);
    if ver > RDB_VERSION {
        return Err(bad());
    }
    let crc = CRC64.checksum(&p[..p.len() - 8]);
    if crc.to_le_bytes() != footer[2..] {
        return Err(bad());
    }
    let body = &p[..p.len() - 10];
    let mut r = Reader { p: body, at: 0 };
    let mut codes = Vec::new();
    while r.at < body.len() {
        let t = r.byte().ok_or("ERR can not read data type")?;
        match t {
            OPCODE_FUNCTION2 => {
                let code = r.string().ok_or("ERR Failed loading library payload")?;
                codes.push(code);
            }
            OPCODE_FUNCTION => {
                let name = r.string().ok_or("ERR Failed loading library name")?;
                let engine = r.string().ok_or("ERR Failed loading engine name")?;
                let has_desc = r
                    .len()
                    .ok_or("ERR Failed loading library description indicator")?;
                if has_desc != 0 {
                    r.string().ok_or("ERR Failed loading library description")?;
                }
                let blob = r.string().ok_or("ERR Failed loading library blob")?;
                let mut code = b"#!".to_vec();
                code.extend_from_slice(&engine);
                code.extend_from_slice(b" name=");
                code.extend_from_slice(&name);
                code.push(b'\n');
                code.extend_from_slice(&blob);
                codes.push(code);
            }
            _ => return Err("ERR given type is not a function".into()),
        }
    }
    Ok(codes)
}

fn save_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(0x40 | (len >> 8) as u8);
        out.push(len as u8);
    } else if len <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// `rdbSaveRawString`: an integer form for short decimal strings, LZF when it pays, else the
/// length and the bytes.
fn save_raw_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 11 {
        if let Some(v) = std::str::from_utf8(s).ok().and_then(string2ll) {
            if (-(1 << 7)..(1 << 7)).contains(&v) {
                out.extend_from_slice(&[0xc0, v as u8]);
                return;
            } else if (-(1 << 15)..(1 << 15)).contains(&v) {
                out.push(0xc1);
                out.extend_from_slice(&(v as i16).to_le_bytes());
                return;
            } else if (-(1i64 << 31)..(1i64 << 31)).contains(&v) {
                out.push(0xc2);
                out.extend_from_slice(&(v as i32).to_le_bytes());
                return;
            }
        }
    }
    if s.len() > 20 {
        if let Some(c) = lzf_compress(s, s.len() - 4) {
            out.push(0xc3);
            save_len(out, c.len() as u64);
            save_len(out, s.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    save_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Redis's `string2ll`: canonical decimal only.
fn string2ll(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if digits.is_empty()
        || !digits.iter().all(u8::is_ascii_digit)
        || (digits[0] == b'0' && (digits.len() > 1 || digits.len() != b.len()))
    {
        return None;
    }
    s.parse().ok()
}

struct Reader<'a> {
    p: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.p.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.p.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    /// A length, or `Err(encoding)` for the special string encodings.
    fn len_or_enc(&mut self) -> Option<Result<u64, u8>> {
        let b = self.byte()?;
        Some(match b >> 6 {
            0 => Ok((b & 0x3f) as u64),
            1 => Ok((((b & 0x3f) as u64) << 8) | self.byte()? as u64),
            2 => match b {
                0x80 => Ok(u32::from_be_bytes(self.take(4)?.try_into().ok()?) as u64),
                0x81 => Ok(u64::from_be_bytes(self.take(8)?.try_into().ok()?)),
                _ => return None,
            },
            _ => Err(b & 0x3f),
        })
    }

    fn len(&mut self) -> Option<u64> {
        self.len_or_enc()?.ok()
    }

    fn string(&mut self) -> Option<Vec<u8>> {
        match self.len_or_enc()? {
            Ok(n) => Some(self.take(usize::try_from(n).ok()?)?.to_vec()),
            Err(0) => Some((self.byte()? as i8).to_string().into_bytes()),
            Err(1) => Some(
                i16::from_le_bytes(self.take(2)?.try_into().ok()?)
                    .to_string()
                    .into_bytes(),
            ),
            Err(2) => Some(
                i32::from_le_bytes(self.take(4)?.try_into().ok()?)
                    .to_string()
                    .into_bytes(),
            ),
            Err(3) => {
                let clen = usize::try_from(self.len()?).ok()?;
                let len = usize::try_from(self.len()?).ok()?;
                let c = self.take(clen)?;
                let v = lzf_decompress(c, len)?;
                (v.len() == len).then_some(v)
            }
            Err(_) => None,
        }
    }
}

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

/// liblzf 3.6's `lzf_compress` as Redis builds it (VERY_FAST, HLOG 16), starting from an
/// empty hash table. `None` when the result would not fit in `out_len` bytes.
pub(crate) fn lzf_compress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let in_len = input.len();
    if in_len == 0 || out_len == 0 {
        return None;
    }
    let at = |i: usize| input.get(i).copied().unwrap_or(0) as u32;
    let frst = |p: usize| (at(p) << 8) | at(p + 1);
    let next = |v: u32, p: usize| (v << 8) | at(p + 2);
    let idx = |h: u32| ((h >> (24 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1);
    // Positions stored; 0 means empty (as the C code's null offset).
    let mut htab = vec![0usize; HSIZE];
    let mut out = vec![0u8; out_len + 8];
    let mut op: usize = 1; // start run
    let mut ip: usize = 0;
    let mut lit: usize = 0;
    let mut hval = frst(ip);
    while ip + 2 < in_len {
        hval = next(hval, ip);
        let slot = idx(hval);
        let r = htab[slot];
        htab[slot] = ip;
        let matched = r != 0
            && ip - r - 1 < MAX_OFF
            && input[r + 2] == input[ip + 2]
            && input[r] == input[ip]
            && input[r + 1] == input[ip + 1];
        if matched {
            let off = ip - r - 1;
            let mut len: usize = 2;
            let maxlen = (in_len - ip - len).min(MAX_REF);
            if op + 3 + 1 >= out_len && op - (lit == 0) as usize + 3 + 1 >= out_len {
                return None;
            }
            out[op - lit - 1] = (lit as u8).wrapping_sub(1);
            op -= (lit == 0) as usize;
            'scan: {
                if maxlen > 16 {
                    for _ in 0..16 {
                        len += 1;
                        if input[r + len] != input[ip + len] {
                            break 'scan;
                        }
                    }
                }
                loop {
                    len += 1;
                    if !(len < maxlen && input[r + len] == input[ip + len]) {
                        break;
                    }
                }
            }
            len -= 2;
            ip += 1;
            if len < 7 {
                out[op] = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                out[op] = ((off >> 8) + (7 << 5)) as u8;
                out[op + 1] = (len - 7) as u8;
                op += 2;
            }
            out[op] = off as u8;
            op += 1;
            lit = 0;
            op += 1;
            ip += len + 1;
            if ip + 2 >= in_len {
                break;
            }
            ip -= 2;
            hval = frst(ip);
            hval = next(hval, ip);
            htab[idx(hval)] = ip;
            ip += 1;
            hval = next(hval, ip);
            htab[idx(hval)] = ip;
            ip += 1;
        } else {
            if op >= out_len {
                return None;
            }
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[op - lit - 1] = (lit - 1) as u8;
                lit = 0;
                op += 1;
            }
        }
    }
    if op + 3 > out_len {
        return None;
    }
    while ip < in_len {
        lit += 1;
        out[op] = input[ip];
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            out[op - lit - 1] = (lit - 1) as u8;
            lit = 0;
            op += 1;
        }
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
    op -= (lit == 0) as usize;
    out.truncate(op);
    Some(out)
}

/// `lzf_decompress`: `None` on corrupt input or a result longer than `max`.
pub(crate) fn lzf_decompress(input: &[u8], max: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(max);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            if out.len() + n > max {
                return None;
            }
            out.extend_from_slice(input.get(ip..ip + n)?);
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            let mut back = (ctrl & 0x1f) << 8;
            if len == 7 {
                len += *input.get(ip)? as usize;
                ip += 1;
            }
            back += *input.get(ip)? as usize;
            ip += 1;
            len += 2;
            if out.len() + len > max || back + 1 > out.len() {
                return None;
            }
            let start = out.len() - back - 1;
            for i in 0..len {
                let b = out[start + i];
                out.push(b);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_is_redis_jones() {
        assert_eq!(CRC64.checksum(b"123456789"), 0xe9c6d914c4b8d9ca);
    }

    #[test]
    fn lzf_round_trips() {
        for s in [
            &b"#!lua name=mylib\nredis.register_function('f', function() return 1 end)\nredis.register_function('g', function() return 1 end)"[..],
            &[b'a'; 1000][..],
            b"abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabc",
        ] {
            let c = lzf_compress(s, s.len() - 4).unwrap();
            assert_eq!(lzf_decompress(&c, s.len()).unwrap(), s);
        }
        assert!(lzf_compress(b"abcdefghijklmnopqrstuvwxyz", 22).is_none());
    }
}
