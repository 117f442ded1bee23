//! Redis's RDB format for Rustis: the value codec ([`rdb`]), DUMP/RESTORE payloads
//! ([`dump`], [`restore`]) and snapshot files ([`file`]).
//!
//! Everything here is a pure function over `rustis_storage` values and bytes: no I/O besides
//! what a caller hands in, no threads, no server state. See docs/persistence.md.
#![warn(missing_docs)]

pub mod file;
pub mod listpack;
pub mod lzf;
pub mod rdb;
mod stream;
pub mod ziplist;

use rustis_storage::{ShardConfig, Value};

pub use rdb::{Encoder, Options, RDB_VERSION};

/// The CRC-64 Redis puts at the end of RDB files and DUMP payloads (Jones polynomial,
/// reflected, no final xor).
pub static CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// Why bytes could not be read as RDB data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ends before the value does.
    #[error("unexpected end of data")]
    Truncated,
    /// Something is malformed; says what.
    #[error("{0}: integrity check failed")]
    Format(&'static str),
    /// A collection with no elements, which Redis never stores.
    #[error("empty collection")]
    Empty,
    /// A type or encoding Rustis does not read.
    #[error("unsupported value type: {0}")]
    Unsupported(&'static str),
}

/// Why a value could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A value type this codec has no RDB form for yet.
    #[error("the RDB encoder does not know the '{0}' type")]
    UnknownType(&'static str),
}

/// A DUMP payload: the value as RDB writes it, the RDB version (2 bytes, little-endian) and
/// the CRC-64 of all that (8 bytes, little-endian), as Redis's `createDumpPayload` makes it.
pub fn dump(v: &Value, opts: Options) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    Encoder::new(opts).value(&mut out, v)?;
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = CRC64.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// Why RESTORE refused a payload; each has Redis's reply text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreError {
    /// Too short, a newer RDB version, or a checksum that does not match.
    VersionOrChecksum,
    /// The value inside does not parse.
    BadFormat(DecodeError),
}

impl RestoreError {
    /// The error reply, as Redis words it.
    pub fn reply(&self) -> &'static str {
        match self {
            RestoreError::VersionOrChecksum => "ERR DUMP payload version or checksum are wrong",
            RestoreError::BadFormat(_) => "ERR Bad data format",
        }
    }
}

/// Checks a DUMP payload's footer as `verifyDumpPayload` does: at least 10 bytes, an RDB
/// version no newer than ours, and a matching CRC-64.
pub fn verify_payload(p: &[u8]) -> Result<(), RestoreError> {
    verify_payload_with(p, true)
}

/// [`verify_payload`], with the CRC-64 checked only when `check_crc` (DEBUG
/// SET-SKIP-CHECKSUM-VALIDATION turns it off, as Redis's `skip_checksum_validation` does; the
/// length and version are always checked).
pub fn verify_payload_with(p: &[u8], check_crc: bool) -> Result<(), RestoreError> {
    if p.len() < 10 {
        return Err(RestoreError::VersionOrChecksum);
    }
    let footer = &p[p.len() - 10..];
    let ver = u16::from_le_bytes([footer[0], footer[1]]);
    if ver > RDB_VERSION {
        return Err(RestoreError::VersionOrChecksum);
    }
    if !check_crc {
        return Ok(());
    }
    let crc = CRC64.checksum(&p[..p.len() - 8]);
    if crc.to_le_bytes() != footer[2..] {
        return Err(RestoreError::VersionOrChecksum);
    }
    Ok(())
}

/// Reads the value of a DUMP payload, encoded for a shard with `cfg`'s limits.
pub fn restore(p: &[u8], cfg: &ShardConfig) -> Result<Value, RestoreError> {
    restore_with(p, cfg, true)
}

/// [`restore`], with the CRC-64 checked only when `check_crc`.
pub fn restore_with(p: &[u8], cfg: &ShardConfig, check_crc: bool) -> Result<Value, RestoreError> {
    verify_payload_with(p, check_crc)?;
    let body = &p[..p.len() - 10];
    let mut r = rdb::Reader::new(body);
    let ty = r.u8().map_err(RestoreError::BadFormat)?;
    rdb::read_value(&mut r, ty, cfg).map_err(RestoreError::BadFormat)
}
