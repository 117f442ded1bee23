//! RDB files: the header and AUX fields, the function libraries (`FUNCTION2`), databases
//! (`SELECTDB`, `RESIZEDB`), keys with their expiry, `EOF` and the CRC-64, as `rdbSaveRio`
//! writes them and `rdbLoadRio` reads them. Also FUNCTION DUMP / RESTORE payloads, which are
//! the same function records with a version and a CRC-64 after them.
//!
//! Writing is split so that each shard can encode its own keys ([`write_entry`] into a byte
//! chunk) while one place puts the file together ([`FileWriter`]), database by database.

use std::io::{self, Write};

use rustis_storage::{ShardConfig, Value};

use crate::rdb::{opcodes, write_len, Encoder, Reader, RDB_VERSION};
use crate::{DecodeError, EncodeError, CRC64};

/// Writes one key as `rdbSaveKeyValuePair` does (Rustis keeps no LRU/LFU data to save, as Redis
/// saves none under `maxmemory-policy noeviction`): its expiry, type, key and value.
pub fn write_entry(
    enc: &mut Encoder,
    out: &mut Vec<u8>,
    key: &[u8],
    value: &Value,
    expire_ms: Option<u64>,
) -> Result<(), EncodeError> {
    let start = out.len();
    if let Some(t) = expire_ms {
        out.push(opcodes::EXPIRETIME_MS);
        out.extend_from_slice(&t.to_le_bytes());
    }
    // The type byte goes before the key; the value encoder writes it, so encode the value
    // first into the tail and move the key in behind its type byte.
    let vstart = out.len();
    if let Err(e) = enc.value(out, value) {
        out.truncate(start);
        return Err(e);
    }
    let mut k = Vec::with_capacity(key.len() + 5);
    enc.string(&mut k, key);
    out.splice(vstart + 1..vstart + 1, k);
    Ok(())
}

/// What the header's AUX fields say.
#[derive(Debug, Clone)]
pub struct Aux {
    /// `redis-ver`.
    pub version: String,
    /// `ctime`, Unix seconds.
    pub ctime: i64,
    /// `used-mem`, bytes.
    pub used_mem: i64,
    /// `aof-base`: the file is the base of an append-only file.
    pub aof_base: bool,
    /// The function libraries' codes (shebang included), written after the AUX fields as
    /// `rdbSaveFunctions` writes them: one `FUNCTION2` record each.
    pub functions: Vec<Vec<u8>>,
}

/// Puts an RDB file together on `w`, keeping its CRC-64 as it goes.
pub struct FileWriter<W: Write> {
    w: W,
    digest: Option<crc::Digest<'static, u64>>,
    written: u64,
}

impl<W: Write> FileWriter<W> {
    /// Writes the magic and the AUX fields Redis 7.0 writes. With `checksum` false the
    /// trailing CRC is 0, which readers take as "not computed" (`rdbchecksum no`).
    pub fn new(w: W, aux: &Aux, checksum: bool) -> io::Result<Self> {
        let mut f = FileWriter {
            w,
            digest: checksum.then(|| CRC64.digest()),
            written: 0,
        };
        f.put(format!("REDIS{:04}", RDB_VERSION).as_bytes())?;
        let mut b = Vec::new();
        let mut enc = Encoder::new(crate::Options::default());
        let mut field = |b: &mut Vec<u8>, k: &str, v: &[u8]| {
            b.push(opcodes::AUX);
            enc.string(b, k.as_bytes());
            enc.string(b, v);
        };
        field(&mut b, "redis-ver", aux.version.as_bytes());
        field(&mut b, "redis-bits", b"64");
        field(&mut b, "ctime", aux.ctime.to_string().as_bytes());
        field(&mut b, "used-mem", aux.used_mem.to_string().as_bytes());
        field(&mut b, "aof-base", if aux.aof_base { b"1" } else { b"0" });
        for code in &aux.functions {
            b.push(opcodes::FUNCTION2);
            enc.string(&mut b, code);
        }
        f.put(&b)?;
        Ok(f)
    }

    /// Writes bytes, through the checksum.
    pub fn put(&mut self, b: &[u8]) -> io::Result<()> {
        if let Some(d) = self.digest.as_mut() {
            d.update(b);
        }
        self.written += b.len() as u64;
        self.w.write_all(b)
    }

    /// Starts database `db`, which holds `keys` keys of which `expires` have an expiry.
    pub fn select_db(&mut self, db: usize, keys: u64, expires: u64) -> io::Result<()> {
        let mut b = vec![opcodes::SELECTDB];
        write_len(&mut b, db as u64);
        b.push(opcodes::RESIZEDB);
        write_len(&mut b, keys);
        write_len(&mut b, expires);
        self.put(&b)
    }

    /// Writes `EOF` and the checksum; returns the writer and the file's length.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        self.put(&[opcodes::EOF])?;
        let crc = self.digest.take().map(|d| d.finalize()).unwrap_or(0);
        self.w.write_all(&crc.to_le_bytes())?;
        self.written += 8;
        self.w.flush()?;
        Ok((self.w, self.written))
    }
}

/// Why an RDB file could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// Not an RDB file, or a version this reader does not know.
    #[error("wrong signature or RDB version: not an RDB file Rustis can read")]
    Header,
    /// The trailing CRC-64 does not match.
    #[error("wrong RDB checksum: the file is corrupt (RDB CRC error)")]
    Checksum,
    /// Malformed or truncated data at a byte offset.
    #[error("{err} at offset {offset}")]
    Decode {
        /// What went wrong.
        err: DecodeError,
        /// Where.
        offset: usize,
    },
    /// A key for a database this server does not have.
    #[error("the file has keys in database {0}, beyond the configured databases")]
    DbOutOfRange(u64),
    /// A key appears twice in one database.
    #[error("duplicate key in database {0}")]
    DuplicateKey(usize),
}

/// What a load found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// Keys loaded.
    pub keys: u64,
    /// Keys skipped because their time had passed.
    pub expired: u64,
    /// The AUX fields, in file order.
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    /// The function libraries' codes, in file order (the caller loads them into its engine).
    pub functions: Vec<Vec<u8>>,
    /// Keys skipped because their value was an empty collection (which Redis never writes
    /// but older versions could), as Redis 7.0 skips them: `(database, key)`.
    pub empty_keys: Vec<(usize, Vec<u8>)>,
    /// The bytes the RDB data took, up to and including its checksum: what follows is not
    /// the file's (an AOF with an RDB preamble goes on with commands there).
    pub len: usize,
}

/// One key read from a file.
pub struct LoadedKey {
    /// Its database.
    pub db: usize,
    /// The key.
    pub key: Vec<u8>,
    /// The value, encoded for `cfg`'s limits.
    pub value: Value,
    /// When it expires (Unix ms).
    pub expire_ms: Option<u64>,
}

/// Reads a whole RDB file (`data`), handing each live key to `put` (which returns false for a
/// key it already has). Keys whose expiry is before `now_ms` are skipped, as a Redis master
/// skips them. With `verify` the trailing CRC-64 is checked unless it is 0.
pub fn load(
    data: &[u8],
    cfg: &ShardConfig,
    databases: usize,
    now_ms: u64,
    verify: bool,
    mut put: impl FnMut(LoadedKey) -> bool,
) -> Result<Loaded, LoadError> {
    if data.len() < 9 || &data[..5] != b"REDIS" {
        return Err(LoadError::Header);
    }
    let ver: u16 = std::str::from_utf8(&data[5..9])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(LoadError::Header)?;
    if !(1..=RDB_VERSION).contains(&ver) {
        return Err(LoadError::Header);
    }
    let mut r = Reader::new(&data[9..]);
    let at = |r: &Reader<'_>, err| LoadError::Decode {
        err,
        offset: 9 + r.pos(),
    };
    let mut loaded = Loaded::default();
    let mut db = 0usize;
    let mut expire: Option<u64> = None;
    loop {
        let op = r.u8().map_err(|e| at(&r, e))?;
        match op {
            opcodes::EXPIRETIME_MS => expire = Some(r.u64_le().map_err(|e| at(&r, e))?),
            opcodes::EXPIRETIME => {
                let b = r.take(4).map_err(|e| at(&r, e))?;
                let secs = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64;
                expire = Some(secs * 1000);
            }
            opcodes::FREQ => {
                r.u8().map_err(|e| at(&r, e))?;
            }
            opcodes::IDLE => {
                r.read_len().map_err(|e| at(&r, e))?;
            }
            opcodes::EOF => break,
            opcodes::SELECTDB => {
                let n = r.read_len().map_err(|e| at(&r, e))?;
                if n >= databases as u64 {
                    return Err(LoadError::DbOutOfRange(n));
                }
                db = n as usize;
            }
            opcodes::RESIZEDB => {
                r.read_len().map_err(|e| at(&r, e))?;
                r.read_len().map_err(|e| at(&r, e))?;
            }
            opcodes::AUX => {
                let k = r.string().map_err(|e| at(&r, e))?;
                let v = r.string().map_err(|e| at(&r, e))?;
                loaded.aux.push((k, v));
            }
            opcodes::MODULE_AUX => {
                return Err(at(&r, DecodeError::Unsupported("module data")));
            }
            opcodes::FUNCTION2 => {
                loaded.functions.push(r.string().map_err(|e| at(&r, e))?);
            }
            opcodes::FUNCTION => {
                loaded
                    .functions
                    .push(old_function(&mut r).map_err(|e| at(&r, e))?);
            }
            ty => {
                let key = r.string().map_err(|e| at(&r, e))?;
                let value = match crate::rdb::read_value(&mut r, ty, cfg) {
                    Ok(v) => v,
                    Err(DecodeError::Empty) => {
                        expire = None;
                        loaded.empty_keys.push((db, key));
                        continue;
                    }
                    Err(e) => return Err(at(&r, e)),
                };
                let exp = expire.take();
                if exp.is_some_and(|t| t < now_ms) {
                    loaded.expired += 1;
                    continue;
                }
                if !put(LoadedKey {
                    db,
                    key,
                    value,
                    expire_ms: exp,
                }) {
                    return Err(LoadError::DuplicateKey(db));
                }
                loaded.keys += 1;
            }
        }
    }
    if ver >= 5 {
        let body_len = 9 + r.pos();
        let stored = r.u64_le().map_err(|e| at(&r, e))?;
        if verify && stored != 0 && CRC64.checksum(&data[..body_len]) != stored {
            return Err(LoadError::Checksum);
        }
    }
    loaded.len = 9 + r.pos();
    Ok(loaded)
}

/// A library in the `FUNCTION` (246) form of Redis 7.0's release candidates (name, engine,
/// optional description, code without shebang), as the code with the shebang it implies.
fn old_function(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
    let name = r.string()?;
    let engine = r.string()?;
    if r.read_len()? != 0 {
        r.string()?;
    }
    let blob = r.string()?;
    let mut code = b"#!".to_vec();
    code.extend_from_slice(&engine);
    code.extend_from_slice(b" name=");
    code.extend_from_slice(&name);
    code.push(b'\n');
    code.extend_from_slice(&blob);
    Ok(code)
}

/// A FUNCTION DUMP payload of these library codes, as redis-server writes it: a `FUNCTION2`
/// record each, the RDB version (2 bytes LE) and the CRC-64 of all that (8 bytes LE).
pub fn function_payload(codes: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = Encoder::new(crate::Options::default());
    for code in codes {
        out.push(opcodes::FUNCTION2);
        enc.string(&mut out, code);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = CRC64.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The library codes of a FUNCTION DUMP payload (version and checksum checked).
pub fn function_codes(p: &[u8]) -> Result<Vec<Vec<u8>>, DecodeError> {
    if p.len() < 10 {
        return Err(DecodeError::Truncated);
    }
    let footer = &p[p.len() - 10..];
    let ver = u16::from_le_bytes([footer[0], footer[1]]);
    if ver > RDB_VERSION || CRC64.checksum(&p[..p.len() - 8]).to_le_bytes() != footer[2..] {
        return Err(DecodeError::Format("payload version or checksum"));
    }
    let mut r = Reader::new(&p[..p.len() - 10]);
    let mut codes = Vec::new();
    while r.remaining() > 0 {
        codes.push(match r.u8()? {
            opcodes::FUNCTION2 => r.string()?,
            opcodes::FUNCTION => old_function(&mut r)?,
            _ => return Err(DecodeError::Format("function payload")),
        });
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustis_storage::string::StrValue;

    fn file(entries: &[(&[u8], Value, Option<u64>)]) -> Vec<u8> {
        let aux = Aux {
            version: "7.0.15".into(),
            ctime: 1,
            used_mem: 2,
            aof_base: false,
            functions: Vec::new(),
        };
        let mut f = FileWriter::new(Vec::new(), &aux, true).unwrap();
        let mut enc = Encoder::new(crate::Options::default());
        let mut chunk = Vec::new();
        for (k, v, e) in entries {
            write_entry(&mut enc, &mut chunk, k, v, *e).unwrap();
        }
        let expires = entries.iter().filter(|e| e.2.is_some()).count() as u64;
        f.select_db(0, entries.len() as u64, expires).unwrap();
        f.put(&chunk).unwrap();
        f.finish().unwrap().0
    }

    #[test]
    fn function_libraries_round_trip_through_a_file_and_a_payload() {
        let codes = vec![
            b"#!lua name=a\nredis.register_function('fa', function() return 1 end)".to_vec(),
            b"#!lua name=b\nredis.register_function('fb', function() return 2 end)".to_vec(),
        ];
        let aux = Aux {
            version: "7.0.15".into(),
            ctime: 1,
            used_mem: 2,
            aof_base: false,
            functions: codes.clone(),
        };
        let f = FileWriter::new(Vec::new(), &aux, true).unwrap();
        let data = f.finish().unwrap().0;
        let cfg = ShardConfig::default();
        let loaded = load(&data, &cfg, 16, 0, true, |_| true).unwrap();
        assert_eq!(loaded.functions, codes);
        assert_eq!(function_codes(&function_payload(&codes)).unwrap(), codes);
        let mut bad = function_payload(&codes);
        bad[3] ^= 1;
        assert!(function_codes(&bad).is_err());
        assert!(function_codes(b"short").is_err());
    }

    #[test]
    fn a_file_round_trips_and_expired_keys_are_skipped() {
        let data = file(&[
            (b"a", Value::Str(StrValue::from_bytes(b"1")), None),
            (b"b", Value::Str(StrValue::from_bytes(b"x")), Some(5_000)),
            (b"c", Value::Str(StrValue::from_bytes(b"y")), Some(500)),
        ]);
        let mut got = Vec::new();
        let l = load(&data, &ShardConfig::default(), 16, 1_000, true, |k| {
            got.push((k.key, k.expire_ms));
            true
        })
        .unwrap();
        assert_eq!(
            got,
            vec![(b"a".to_vec(), None), (b"b".to_vec(), Some(5_000))]
        );
        assert_eq!((l.keys, l.expired), (2, 1));
        assert_eq!(l.aux[0], (b"redis-ver".to_vec(), b"7.0.15".to_vec()));
    }

    #[test]
    fn every_truncation_and_a_flipped_byte_are_errors() {
        let data = file(&[(b"k", Value::Str(StrValue::from_bytes(b"hello")), None)]);
        for cut in 0..data.len() {
            assert!(load(&data[..cut], &ShardConfig::default(), 16, 0, true, |_| true).is_err());
        }
        let mut bad = data.clone();
        let n = bad.len();
        bad[n - 12] ^= 1;
        assert!(load(&bad, &ShardConfig::default(), 16, 0, true, |_| true).is_err());
    }
}
