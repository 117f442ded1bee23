//! Per-client limits on ordinary connections: `client-output-buffer-limit normal` and
//! `client-query-buffer-limit` (the pubsub class is `pubsub.rs`'s; `maxclients` is the accept
//! loop's, `proto-max-bulk-len` the parser's).
//!
//! A connection's output is what one round of its commands produced and has not been written
//! yet (`Out`, shared values counted); it is written whole before the next round is read, so
//! a client that stops reading stops being read and its output cannot grow past one round.
//! The limits apply as Redis applies them when a reply is added:
//!
//! - **hard**: as soon as a command leaves the round's output at or over the hard limit, the
//!   connection runs no more of the round and is closed without writing any of it, as Redis
//!   frees a client "scheduled to be closed ASAP" before its replies leave;
//! - **soft**: a round whose output is at or over the soft limit starts (or continues) the
//!   client's time over it, and a round that ends more than `soft seconds` after that start
//!   with output still over it closes the connection; a round under the soft limit resets it.
//!
//! The query buffer (read and not yet run) over `client-query-buffer-limit` closes the
//! connection, as Redis's `readQueryFromClient` does. Nothing here takes a lock: the settings
//! are relaxed atomics copied from the config.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use rustis_commands::Out;

use crate::config::Config;
use crate::session::Session;

/// The limits of ordinary (not subscribed) clients.
#[derive(Default)]
pub(crate) struct ClientLimits {
    hard: AtomicU64,
    soft: AtomicU64,
    soft_secs: AtomicU64,
    query_max: AtomicU64,
}

impl ClientLimits {
    /// Copies the settings from the config (startup and CONFIG SET).
    pub(crate) fn load(&self, cfg: &Config) {
        let (hard, soft, secs) = cfg.normal_limits();
        self.hard.store(hard, Relaxed);
        self.soft.store(soft, Relaxed);
        self.soft_secs.store(secs, Relaxed);
        let q = cfg
            .get("client-query-buffer-limit")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1 << 30);
        self.query_max.store(q, Relaxed);
    }
}

/// Whether `sess` is of the normal class (Redis's `getClientType`: a subscribed client is of
/// the pubsub class, whose limit `pubsub.rs` enforces).
fn normal(sess: &Session) -> bool {
    sess.pubsub.total() == 0
}

/// Whether the output produced so far reaches the hard limit: the rest of the round is not
/// run, and the connection closes without writing.
#[inline]
pub(crate) fn over_hard(limits: &ClientLimits, sess: &Session, out: &Out) -> bool {
    let hard = limits.hard.load(Relaxed);
    hard != 0 && out.len() as u64 >= hard && normal(sess)
}

/// A connection's time over the soft limit.
#[derive(Default)]
pub(crate) struct SoftState {
    since: Option<Instant>,
}

/// Checks a round's output before it is written; true if the connection must close without
/// writing it (hard limit, or soft limit for too long), which is logged as Redis logs it.
pub(crate) fn output_refused(
    limits: &ClientLimits,
    sess: &Session,
    out: &Out,
    soft: &mut SoftState,
) -> bool {
    if !normal(sess) {
        return false;
    }
    let len = out.len() as u64;
    let mut over = over_hard(limits, sess, out);
    let soft_limit = limits.soft.load(Relaxed);
    if soft_limit != 0 && len >= soft_limit {
        match soft.since {
            None => soft.since = Some(Instant::now()),
            Some(t) => {
                if t.elapsed().as_secs() > limits.soft_secs.load(Relaxed) {
                    over = true;
                }
            }
        }
    } else {
        soft.since = None;
    }
    if over {
        tracing::warn!(
            "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
            sess.id,
            sess.addr
        );
    }
    over
}

/// Whether the query buffer (`len` bytes read and not yet run) is over
/// `client-query-buffer-limit`; logged as Redis logs it.
pub(crate) fn query_refused(limits: &ClientLimits, sess: &Session, buf: &[u8]) -> bool {
    if buf.len() as u64 <= limits.query_max.load(Relaxed) {
        return false;
    }
    let head: String = buf
        .iter()
        .take(64)
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect();
    tracing::warn!(
        "Closing client that reached max query buffer length: id={} addr={} (qbuf initial bytes: \"{head}\")",
        sess.id,
        sess.addr
    );
    true
}
