//! What a blocking command (BLPOP, BLMOVE, BZPOPMIN, ...) tells the runtime so that it can block
//! it: its timeout, how to try to serve it from one ready key, and what to reply on timeout.
//!
//! The runtime owns the waiting (queues per key, timers, wake-ups across shards; see
//! docs/blocking.md). This module owns the command side: [`BlockingOps`] for each blocking
//! command, and the timeout parsing shared by all of them. A command family adds blocking by
//! setting `.blocking(&OPS)` on its spec; its `run` stays the non-blocking form, which is what
//! runs when blocking is impossible (inside MULTI) and which replies as if the timeout passed.

use bytes::Bytes;
use rustis_resp::Out;

use crate::args::{long_double_to_f64, parse_long_double};
use crate::ctx::ShardCtx;
use crate::registry::CommandSpec;

/// How a blocking command is blocked and served.
pub struct BlockingOps {
    /// The argument positions of the keys to wait on, in the order they are tried (a subset of
    /// the command's keys: BLMOVE waits on its source only). Arguments are prechecked.
    pub wait_keys: fn(&[Bytes]) -> Vec<usize>,
    /// The timeout in milliseconds from the (prechecked) arguments; 0 blocks forever.
    pub timeout_ms: fn(&[Bytes]) -> u64,
    /// Tries to serve the command from the key at argument position `pos`, on the shard that
    /// owns it. It must call [`ServeCtx::claim`] after deciding it can serve and before changing
    /// anything, and give up (`Serve::Lost`) if the claim fails.
    pub serve: fn(&mut ServeCtx, &[Bytes], usize, &mut Out) -> Serve,
    /// Writes the reply for a timeout (or `CLIENT UNBLOCK ... TIMEOUT`).
    pub timeout_reply: fn(&mut Out),
    /// Whether these (prechecked) arguments block at all; `None`: always. XREAD blocks only
    /// with BLOCK; without it, it runs as any command.
    pub blocks_if: Option<fn(&[Bytes]) -> bool>,
    /// Rewrites what the arguments say about the key at `pos`, on the key's shard, right
    /// before the command is first tried there and registered: XREAD's `$` becomes the
    /// stream's last ID at that moment, which later serves compare against.
    pub prepare: Option<fn(&mut ShardCtx, &mut [Bytes], usize)>,
    /// Whether, with these arguments and several keys, to first run the non-blocking form
    /// over all of them (as one transaction) and block only if it found nothing: its reply can
    /// name several keys (XREAD), which trying keys one by one cannot give. `None`: never.
    pub whole_first: Option<fn(&[Bytes]) -> bool>,
}

impl BlockingOps {
    /// Whether `args` make the command block.
    pub fn blocks(&self, args: &[Bytes]) -> bool {
        self.blocks_if.is_none_or(|f| f(args))
    }
}

/// What trying to serve a blocked command gave.
pub enum Serve {
    /// The key cannot serve this command now (missing, empty, another type): keep waiting.
    NotReady,
    /// Someone else claimed the client first (another key, the timeout, a disconnect).
    Lost,
    /// Served: the reply is in the output.
    Done,
    /// Claimed and partly done; the client finishes by running `spec` with `args` (wherever its
    /// keys live) and replies with its reply. BLMOVE uses it when its destination lives on
    /// another shard.
    Forward {
        /// The command to run.
        spec: &'static CommandSpec,
        /// Its arguments.
        args: Vec<Bytes>,
    },
}

/// The shard a blocked command is served on, and the claim on the client.
pub struct ServeCtx<'a> {
    /// The shard owning the ready key, and the client's database.
    pub ctx: ShardCtx<'a>,
    /// True while the command is first tried, before it blocks: a key of the wrong type is
    /// then an error, as in the non-blocking form, whereas a waiting client ignores it.
    pub immediate: bool,
    claim: &'a mut dyn FnMut() -> bool,
    local: &'a dyn Fn(&[u8]) -> bool,
}

impl<'a> ServeCtx<'a> {
    /// A context; `claim` takes the client (true once, for whoever gets there first) and
    /// `local` says whether a key lives on this shard.
    pub fn new(
        ctx: ShardCtx<'a>,
        immediate: bool,
        claim: &'a mut dyn FnMut() -> bool,
        local: &'a dyn Fn(&[u8]) -> bool,
    ) -> Self {
        ServeCtx {
            ctx,
            immediate,
            claim,
            local,
        }
    }

    /// Claims the client; false if another shard, its timeout or a disconnect got it first.
    pub fn claim(&mut self) -> bool {
        (self.claim)()
    }

    /// Whether `key` lives on this shard.
    pub fn is_local(&self, key: &[u8]) -> bool {
        (self.local)(key)
    }

    /// The common start of every `serve`: `ready` says whether the key holds data this command
    /// can take (`Err`: a value of another type). Returns what `serve` must return at once, or
    /// `None` once the client is claimed and the caller should serve it. A key of another type
    /// fails the command only when it is first tried (`immediate`); a waiter keeps waiting.
    pub fn claim_if_ready(
        &mut self,
        ready: Result<bool, rustis_storage::OpError>,
        out: &mut Out,
    ) -> Option<Serve> {
        match ready {
            Ok(true) => {}
            Err(e) if self.immediate => {
                if !self.claim() {
                    return Some(Serve::Lost);
                }
                out.error(e.message());
                return Some(Serve::Done);
            }
            _ => return Some(Serve::NotReady),
        }
        if !self.claim() {
            return Some(Serve::Lost);
        }
        None
    }
}

/// `ERR timeout is not a float or out of range`.
pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
/// `ERR timeout is negative`.
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
/// `ERR timeout is out of range`.
pub const TIMEOUT_OUT_OF_RANGE: &str = "ERR timeout is out of range";

/// Parses a timeout in seconds into milliseconds (0: forever) exactly as Redis 7.0 does: a
/// `string2ld` long double (decimal, hex, `inf`; no spaces, no NaN), times 1000, rounded up
/// (`ceill`: any positive timeout waits at least 1 ms) into a `long long` (a value that does not fit becomes `LLONG_MIN`, hence "negative"), which
/// must not pass `LLONG_MAX` once the current time is added.
pub fn parse_timeout(arg: &[u8], now_ms: u64) -> Result<u64, &'static str> {
    let secs = long_double_to_f64(parse_long_double(arg).map_err(|_| TIMEOUT_NOT_FLOAT)?);
    let ms = secs * 1000.0;
    // 2^63: the first value the conversion to a 64-bit integer cannot represent.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !ms.is_finite() || !(-LIMIT..LIMIT).contains(&ms) {
        return Err(TIMEOUT_NEGATIVE);
    }
    let ms = ms.ceil() as i64;
    if ms < 0 {
        return Err(TIMEOUT_NEGATIVE);
    }
    if ms > 0 && ms > i64::MAX - now_ms as i64 {
        return Err(TIMEOUT_OUT_OF_RANGE);
    }
    Ok(ms as u64)
}

/// A precheck for a command whose timeout is the argument at `idx` (negative: from the end).
pub fn check_timeout_at(args: &[Bytes], idx: isize) -> Result<(), String> {
    let i = if idx < 0 {
        args.len() as isize + idx
    } else {
        idx
    };
    let Some(arg) = usize::try_from(i).ok().and_then(|i| args.get(i)) else {
        return Err(TIMEOUT_NOT_FLOAT.to_string());
    };
    parse_timeout(arg, now_ms())
        .map(|_| ())
        .map_err(str::to_string)
}

/// The timeout at argument `idx` (negative: from the end) of prechecked arguments.
pub fn timeout_at(args: &[Bytes], idx: isize) -> u64 {
    let i = if idx < 0 {
        args.len() as isize + idx
    } else {
        idx
    };
    usize::try_from(i)
        .ok()
        .and_then(|i| args.get(i))
        .and_then(|a| parse_timeout(a, now_ms()).ok())
        .unwrap_or(0)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_follow_redis_7_0() {
        let now = 1_700_000_000_000;
        let t = |s: &str| parse_timeout(s.as_bytes(), now);
        assert_eq!(t("0"), Ok(0));
        assert_eq!(t("1.5"), Ok(1500));
        // ceill: a positive timeout below 1 ms waits 1 ms rather than forever.
        assert_eq!(t("0.0001"), Ok(1));
        assert_eq!(t("1e-400"), Ok(1));
        assert_eq!(t("1.0001"), Ok(1001));
        assert_eq!(t("-0.0001"), Ok(0));
        assert_eq!(t("-0"), Ok(0));
        assert_eq!(t("0x10"), Ok(16000));
        assert_eq!(t(".5"), Ok(500));
        assert_eq!(t("-1"), Err(TIMEOUT_NEGATIVE));
        assert_eq!(t("inf"), Err(TIMEOUT_NEGATIVE));
        assert_eq!(t("1e100"), Err(TIMEOUT_NEGATIVE));
        assert_eq!(t("9.223372e15"), Err(TIMEOUT_OUT_OF_RANGE));
        assert_eq!(t("nan"), Err(TIMEOUT_NOT_FLOAT));
        assert_eq!(t("x"), Err(TIMEOUT_NOT_FLOAT));
        assert_eq!(t(" 1"), Err(TIMEOUT_NOT_FLOAT));
        assert_eq!(t("1 "), Err(TIMEOUT_NOT_FLOAT));
        assert_eq!(t(""), Err(TIMEOUT_NOT_FLOAT));
        assert_eq!(t("--1"), Err(TIMEOUT_NOT_FLOAT));
    }
}
