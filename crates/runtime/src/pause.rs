//! CLIENT PAUSE and CLIENT UNPAUSE: holding clients' commands, on every thread, until a
//! deadline or an UNPAUSE, as Redis 7.0 does.
//!
//! The pause is server-wide state in [`PauseState`] (in `Shared`): its kind and its end time
//! packed in one atomic word, so every thread reads it without a lock or a message. Dispatch asks
//! [`PauseState::active`] before each command (one relaxed load while nothing is paused); a
//! command the pause holds waits in [`wait`] on its connection's task, counted as a blocked
//! client, until the pause is over or no longer holds it, then runs the normal way. A waiting
//! client still takes pushes, CLIENT KILL and its peer closing.
//!
//! While a pause holds, the dataset stays still, as in Redis 7.0: the shards keep expired keys
//! (hidden from reads, not deleted; see `Shard::set_keep_expired`) and nothing is evicted.
//!
//! **Architecture Invariant.** Nothing here is on the data path but [`PauseState::active`]'s
//! load; the `Notify` that wakes waiters is touched only by pausing, unpausing and waiting.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use rustis_commands::registry::{flags, ConnCmd, Run, ScriptCall};
use rustis_commands::{CommandSpec, Out};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::session::{Push, Session};
use crate::worker::Worker;

/// What a pause holds (Redis's `pause_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Commands that may write or replicate (`WRITE`).
    Write = 1,
    /// Every command (`ALL`, the default).
    All = 2,
}

/// The server's pause: its kind and its end (in the server clock's milliseconds) packed in one
/// word, `end << 2 | kind` (kind 0: none), so that a pause that ran out can be cleared with one
/// compare-and-swap that never clears a newer pause.
#[derive(Default)]
pub(crate) struct PauseState {
    word: AtomicU64,
    /// Woken whenever the pause changes, so that waiters look again.
    changed: Notify,
}

/// The latest end a pause can have (some 146 million years from the epoch).
const MAX_END: u64 = (1 << 62) - 1;

fn unpack(word: u64) -> (u64, Option<Kind>) {
    let kind = match word & 3 {
        1 => Some(Kind::Write),
        2 => Some(Kind::All),
        _ => None,
    };
    (word >> 2, kind)
}

impl PauseState {
    /// Whether a pause may hold: the check dispatch makes before each command (one relaxed
    /// load). A pause that ran out is cleared by the first [`PauseState::at`] after its end.
    #[inline]
    pub fn active(&self) -> bool {
        self.word.load(Ordering::Relaxed) != 0
    }

    /// The pause's kind at `now_ms`, if one holds.
    pub fn at(&self, now_ms: u64) -> Option<Kind> {
        let word = self.word.load(Ordering::Acquire);
        let (end, kind) = unpack(word);
        let kind = kind?;
        if now_ms < end {
            return Some(kind);
        }
        // Over by time: cleared unless it changed meanwhile.
        let _ = self
            .word
            .compare_exchange(word, 0, Ordering::AcqRel, Ordering::Relaxed);
        None
    }

    /// CLIENT PAUSE: pauses `kind` until `end_ms`. As in Redis, the latest kind replaces the
    /// one before, and the end is the later of the two.
    pub fn pause(&self, end_ms: u64, kind: Kind) {
        let end_ms = end_ms.min(MAX_END);
        let _ = self
            .word
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |old| {
                let (old_end, old_kind) = unpack(old);
                let end = if old_kind.is_some() {
                    old_end.max(end_ms)
                } else {
                    end_ms
                };
                Some(end << 2 | kind as u64)
            });
        self.changed.notify_waiters();
    }

    /// CLIENT UNPAUSE: ends the pause now.
    pub fn unpause(&self) {
        self.word.store(0, Ordering::Release);
        self.changed.notify_waiters();
    }

    /// The end of the pause, in the server clock's milliseconds (0: none).
    fn end(&self) -> u64 {
        unpack(self.word.load(Ordering::Acquire)).0
    }
}

/// Whether the pause in force at `now_ms` holds this command of `sess`: every command under
/// `ALL`; under `WRITE` those that may write or replicate, as Redis's `processCommand` decides
/// (the command's flags, a script's own flags, EXEC's queued commands).
pub(crate) fn holds(
    w: &Worker,
    sess: &Session,
    spec: &'static CommandSpec,
    args: &[Bytes],
    now_ms: u64,
) -> bool {
    match w.shared.pause.at(now_ms) {
        None => false,
        Some(Kind::All) => true,
        Some(Kind::Write) => {
            if let Run::Conn(ConnCmd::Exec) = spec.run {
                return crate::multi::queued_any(sess, |spec, args| may_replicate(w, spec, args));
            }
            may_replicate(w, spec, args)
        }
    }
}

/// Redis's "may replicate" test for CLIENT PAUSE WRITE: a write command, or one of those 7.0
/// flags `may_replicate` (PUBLISH, SPUBLISH, PFCOUNT, and EVAL, EVALSHA and FCALL unless the
/// script or function declares `no-writes`).
pub(crate) fn may_replicate(w: &Worker, spec: &'static CommandSpec, args: &[Bytes]) -> bool {
    let spec = spec.resolve(args).unwrap_or(spec);
    if spec.flags & flags::WRITE != 0 {
        return true;
    }
    match spec.run {
        Run::Conn(ConnCmd::Script(call @ (ScriptCall::Eval | ScriptCall::EvalSha))) => {
            crate::script::may_write(w, call, args)
        }
        Run::Conn(ConnCmd::Script(ScriptCall::Fcall)) => {
            crate::script::may_write(w, ScriptCall::Fcall, args)
        }
        _ => matches!(spec.name, "publish" | "spublish" | "pfcount"),
    }
}

/// Waits while the pause holds the command (`still_held` says, each time the pause changes or
/// ends, whether it still does), counted as a blocked client (INFO `blocked_clients`, CLIENT
/// LIST's `b` flag). Pushes that arrive meanwhile are written to `out`. Returns false if the
/// connection is to close instead (CLIENT KILL, or its peer went away).
pub(crate) async fn wait(
    w: &Worker,
    sess: &Session,
    out: &mut Out,
    peer: Option<&TcpStream>,
    mut still_held: impl FnMut(u64) -> bool,
) -> bool {
    let state = &w.shared.pause;
    w.shared
        .blocked_clients
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    sess.paused.set(true);
    let open = loop {
        // Registered before looking, so a change between the look and the wait is not missed.
        let changed = state.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let now = w.shared.clock.now_ms();
        if !still_held(now) {
            break true;
        }
        let left = Duration::from_millis(state.end().saturating_sub(now).max(1));
        tokio::select! {
            biased;
            p = sess.next_push() => match p {
                Push::Frame(f) => out.raw(&f),
                Push::Tracking(n) => {
                    if let Some(f) = crate::tracking::frame(sess, n) {
                        out.raw(&f);
                    }
                }
                Push::Kill => break false,
            },
            _ = &mut changed => {}
            _ = tokio::time::sleep(left) => {}
            _ = crate::blocking::peer_closed(peer) => break false,
        }
    };
    sess.paused.set(false);
    w.shared
        .blocked_clients
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    if !open {
        sess.close();
    }
    open
}
