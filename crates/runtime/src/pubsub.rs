//! Pub/sub across threads: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE, their UNSUBSCRIBEs, PUBLISH,
//! SPUBLISH and PUBSUB.
//!
//! Shared nothing: each thread keeps the subscriptions of its own connections ([`Local`], in a
//! thread-local, never touched by another thread), and each connection keeps its own
//! ([`SessState`] in its `Session`). Each thread also keeps a mirror of how many subscribers
//! every channel, pattern and shard channel has on every other thread, kept up to date by
//! messages that (UN)SUBSCRIBE and disconnects send over the mesh (see "The mirror"). A
//! publish delivers to its own thread's subscribers, counts the others from its mirror, and
//! sends the message to the threads that have subscribers for it without waiting for them.
//! Messages between two threads arrive in the order they were sent, so a subscriber gets one
//! publisher's messages in publish order.
//!
//! A subscribed connection does not move to another thread (`conn.rs` checks
//! [`SessState::pinned`]): its subscriptions are registered on the thread it lives on, and
//! delivery to it always happens there. Nor does a publisher whose messages are still on their
//! way to other threads.
//!
//! Delivery is a push into the connection's inbox, so a publisher never waits on a subscriber.
//! The bytes waiting there are counted; a subscriber past `client-output-buffer-limit pubsub`
//! (its hard limit, or its soft limit for longer than the soft seconds) is disconnected, as
//! Redis does.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use hashbrown::HashMap;
use rustis_commands::args::eq_ic;
use rustis_commands::glob::glob_match;
use rustis_commands::registry::{Partial, PubSubCmd};
use rustis_commands::{CommandSpec, Out};
use rustis_resp::errors::wrong_args;

use tokio::sync::oneshot;

use crate::session::{Push, Session};
use crate::worker::{CallFn, Msg, Worker};

/// The three kinds of subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// SUBSCRIBE: a channel name.
    Channel = 0,
    /// PSUBSCRIBE: a glob pattern over channel names.
    Pattern = 1,
    /// SSUBSCRIBE: a shard channel name (SPUBLISH's).
    Shard = 2,
}

impl Kind {
    fn subscribed(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    fn unsubscribed(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

// ---- Per connection. ----

/// A connection's pub/sub state, kept in its `Session`.
#[derive(Default)]
pub(crate) struct SessState {
    /// Per kind: name → the order it was subscribed in (unsubscribing from all goes in that
    /// order).
    subs: RefCell<[HashMap<Bytes, u64>; 3]>,
    seq: Cell<u64>,
    /// Bytes of pub/sub frames pushed to the inbox and not yet taken by the connection.
    queued: Cell<usize>,
    /// Bytes of output the connection is waiting to write (set while a write waits for the
    /// socket): frames taken from the inbox still count until they are sent, as Redis counts
    /// its reply buffers.
    unsent: Cell<usize>,
    /// Since when `queued` has been above the soft limit, if it is.
    soft_since: Cell<Option<Instant>>,
    /// Set when the connection must close at once, dropping what it has not written (an
    /// output buffer limit); the connection loop stops waiting on a write when it is notified.
    abort: tokio::sync::Notify,
    aborted: Cell<bool>,
    /// CLIENT REPLY's mode.
    reply: Cell<ReplyMode>,
    /// Whether the connection ran MONITOR.
    monitor: Cell<bool>,
    /// Pipelined publishes of the read being dispatched.
    pipelined: RefCell<Pipelined>,
    /// Deliveries of its last publishes that other threads may not have made yet (see
    /// [`prepare`]).
    sent: RefCell<Vec<oneshot::Receiver<Partial>>>,
}

/// CLIENT REPLY: whether the connection's replies are sent. Pub/sub frames always are, as in
/// Redis (they are pushes, even the (un)subscribe confirmations of RESP2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum ReplyMode {
    /// Replies are sent (the default; CLIENT REPLY ON).
    #[default]
    On,
    /// No reply is sent (CLIENT REPLY OFF).
    Off,
    /// The next command's reply is not sent (CLIENT REPLY SKIP).
    Skip,
}

impl SessState {
    /// Channels plus patterns: the count SUBSCRIBE and PSUBSCRIBE replies carry.
    pub fn count(&self) -> usize {
        let s = self.subs.borrow();
        s[0].len() + s[1].len()
    }

    /// Shard channels: the count SSUBSCRIBE replies carry.
    pub fn shard_count(&self) -> usize {
        self.subs.borrow()[2].len()
    }

    /// Every subscription: the connection is in subscribed mode while this is not zero.
    pub fn total(&self) -> usize {
        self.subs.borrow().iter().map(|m| m.len()).sum()
    }

    /// Whether the connection must stay on its thread: it has subscriptions or is a monitor,
    /// registered on this thread; or other threads have not yet delivered what it published
    /// (from another thread, its next publishes could overtake them).
    pub fn pinned(&self) -> bool {
        self.total() > 0 || self.monitor.get() || self.in_flight()
    }

    /// Whether deliveries of its publishes are still on their way to other threads.
    fn in_flight(&self) -> bool {
        let mut sent = self.sent.borrow_mut();
        sent.retain_mut(|rx| matches!(rx.try_recv(), Err(oneshot::error::TryRecvError::Empty)));
        !sent.is_empty()
    }

    /// Whether it ran MONITOR (CLIENT LIST flag `O`).
    pub fn monitoring(&self) -> bool {
        self.monitor.get()
    }

    /// Whether every subscription passes `ok(name, is_pattern)` (ACL rules changed).
    pub fn all_allowed(&self, ok: impl Fn(&[u8], bool) -> bool) -> bool {
        let s = self.subs.borrow();
        s.iter()
            .enumerate()
            .all(|(k, m)| m.keys().all(|n| ok(n, k == Kind::Pattern as usize)))
    }

    /// How many of one kind (CLIENT LIST `sub=`, `psub=`, `ssub=`).
    pub fn of_kind(&self, k: Kind) -> usize {
        self.subs.borrow()[k as usize].len()
    }

    fn count_for(&self, k: Kind) -> usize {
        match k {
            Kind::Shard => self.shard_count(),
            _ => self.count(),
        }
    }

    /// Bytes pushed and not yet sent: frames in the inbox and output waiting for the socket
    /// (CLIENT LIST's `omem`, what the pubsub output buffer limit counts).
    pub fn queued(&self) -> usize {
        self.queued.get() + self.unsent.get()
    }

    /// The connection waits to write `n` bytes (0: it wrote what it had).
    pub fn set_unsent(&self, n: usize) {
        self.unsent.set(n);
    }

    /// The connection took `n` bytes of frames out of its inbox.
    pub fn taken(&self, n: usize) {
        let left = self.queued.get().saturating_sub(n);
        self.queued.set(left);
    }

    /// Resolves once an output buffer limit closes the connection.
    pub async fn wait_abort(&self) {
        if self.aborted.get() {
            return;
        }
        self.abort.notified().await;
    }

    /// Closes the connection at once, dropping what it has not written.
    fn abort_now(&self) {
        self.aborted.set(true);
        self.abort.notify_one();
    }
}

/// CLIENT REPLY ON|OFF|SKIP: changes the mode; only ON replies (+OK), as in Redis.
pub(crate) fn client_reply(sess: &Session, mode: &[u8], out: &mut Out) {
    let st = &sess.pubsub;
    if eq_ic(mode, "on") {
        st.reply.set(ReplyMode::On);
        out.ok();
    } else if eq_ic(mode, "off") {
        st.reply.set(ReplyMode::Off);
    } else if eq_ic(mode, "skip") {
        if st.reply.get() != ReplyMode::Off {
            st.reply.set(ReplyMode::Skip);
        }
    } else {
        out.error(rustis_resp::errors::SYNTAX);
    }
}

/// Whether the reply of the command `args`, about to run, must be dropped (CLIENT REPLY OFF,
/// or SKIP, which this consumes). Never for the (un)subscribe commands, whose confirmations are
/// pushes, nor for CLIENT REPLY ON, which answers once replies are back on.
pub(crate) fn silence(sess: &Session, args: &[Bytes]) -> bool {
    let st = &sess.pubsub;
    let mode = st.reply.get();
    if mode == ReplyMode::On {
        return false;
    }
    if mode == ReplyMode::Skip {
        st.reply.set(ReplyMode::On);
    }
    let name = &args[0];
    let pushes = [
        "subscribe",
        "psubscribe",
        "ssubscribe",
        "unsubscribe",
        "punsubscribe",
        "sunsubscribe",
    ]
    .iter()
    .any(|n| eq_ic(name, n));
    let reply_on = eq_ic(name, "client")
        && args.get(1).is_some_and(|a| eq_ic(a, "reply"))
        && args.get(2).is_some_and(|a| eq_ic(a, "on"));
    !(pushes || reply_on)
}

// ---- Per thread. ----

/// A subscriber on this thread, and which of this thread's mirror updates (see [`Local::seq`])
/// other threads must have applied to count it: it receives a message from another thread
/// only if that thread counted it, so that every PUBLISH's reply is the number of clients that
/// received the message.
struct Sub {
    sess: Rc<Session>,
    /// The update that announced it.
    from: u64,
    /// The update that announced it was gone (`u64::MAX` while it is live).
    until: u64,
}

impl Sub {
    /// Whether a publisher that has applied this thread's updates up to `seen` counted it.
    fn seen_by(&self, seen: u64) -> bool {
        self.from <= seen && seen < self.until
    }
}

/// The subscribers of one name on one thread, by client id.
type Subscribers = HashMap<u64, Sub>;

/// Per thread, a count: how many subscribers a name has on each thread.
type PerThread = Box<[u32]>;

/// One thread's subscriptions: per kind, name → its subscribers connected to this thread; and
/// its mirror of every other thread's.
#[derive(Default)]
struct Local {
    maps: [HashMap<Bytes, Subscribers>; 3],
    /// This thread's MONITOR clients.
    monitors: HashMap<u64, Rc<Session>>,
    /// How many mirror updates this thread has sent (each SUBSCRIBE, UNSUBSCRIBE, ... that
    /// changed something is one).
    seq: u64,
    /// The mirror: per kind, name → how many subscribers it has on each other thread (this
    /// thread's own entry stays 0: `maps` has them).
    mirror: [HashMap<Bytes, PerThread>; 3],
    /// Per thread, the last of its mirror updates applied here.
    seen: Vec<u64>,
}

thread_local! {
    static LOCAL: RefCell<Local> = RefCell::default();
}

/// The settings read on every delivery and every change, without a lock: the pubsub class of
/// `client-output-buffer-limit` and `notify-keyspace-events`; and who listens where.
pub(crate) struct Limits {
    /// `client-output-buffer-limit pubsub`: hard bytes, soft bytes, soft seconds (0: none).
    hard: AtomicU64,
    soft: AtomicU64,
    soft_secs: AtomicU64,
    /// `notify-keyspace-events` as flag bits (see `notify.rs`).
    pub notify: AtomicU32,
    /// MONITOR clients on every thread: while zero, commands are not fed anywhere.
    monitors: AtomicUsize,
}

impl Limits {
    /// The settings of a server of `threads` threads, before the config is loaded.
    pub fn new() -> Self {
        Limits {
            hard: AtomicU64::new(0),
            soft: AtomicU64::new(0),
            soft_secs: AtomicU64::new(0),
            notify: AtomicU32::new(0),
            monitors: AtomicUsize::new(0),
        }
    }

    /// Copies the settings from the configuration (at startup and after CONFIG SET).
    pub fn load(&self, cfg: &crate::config::Config) {
        let (hard, soft, secs) = cfg.pubsub_limits();
        self.hard.store(hard, Ordering::Relaxed);
        self.soft.store(soft, Ordering::Relaxed);
        self.soft_secs.store(secs, Ordering::Relaxed);
        self.notify.store(cfg.notify_flags(), Ordering::Relaxed);
    }
}

/// A frame in the subscriber's protocol: `*n` (RESP2) or `>n` (RESP3) and bulk strings.
fn frame(resp3: bool, parts: &[&[u8]]) -> Bytes {
    let len: usize = parts.iter().map(|p| p.len() + 16).sum::<usize>() + 8;
    let mut b = BytesMut::with_capacity(len);
    b.put_u8(if resp3 { b'>' } else { b'*' });
    b.put_slice(itoa::Buffer::new().format(parts.len()).as_bytes());
    b.put_slice(b"\r\n");
    for p in parts {
        b.put_u8(b'$');
        b.put_slice(itoa::Buffer::new().format(p.len()).as_bytes());
        b.put_slice(b"\r\n");
        b.put_slice(p);
        b.put_slice(b"\r\n");
    }
    b.freeze()
}

/// Frames encoded once per protocol for one message.
struct Frames<'a> {
    parts: [&'a [u8]; 4],
    n: usize,
    enc: [Option<Bytes>; 2],
}

impl<'a> Frames<'a> {
    fn new(parts: &[&'a [u8]]) -> Self {
        let mut p: [&[u8]; 4] = [b""; 4];
        p[..parts.len()].copy_from_slice(parts);
        Frames {
            parts: p,
            n: parts.len(),
            enc: [None, None],
        }
    }

    fn get(&mut self, resp3: bool) -> Bytes {
        let parts = &self.parts[..self.n];
        self.enc[resp3 as usize]
            .get_or_insert_with(|| frame(resp3, parts))
            .clone()
    }
}

/// Pushes a frame to a subscriber on this thread, enforcing the pubsub output buffer limit.
fn push_to(sess: &Session, f: Bytes, limits: &Limits) {
    let st = &sess.pubsub;
    if st.aborted.get() {
        return;
    }
    st.queued.set(st.queued.get() + f.len());
    sess.pusher().push(f);
    check_limit(sess, st.queued(), limits);
}

/// Closes a subscriber whose `queued` bytes are over the pubsub output buffer limit: the
/// hard one, or the soft one for longer than its seconds (Redis's
/// `checkClientOutputBufferLimits`).
fn check_limit(sess: &Session, queued: usize, limits: &Limits) {
    let st = &sess.pubsub;
    let hard = limits.hard.load(Ordering::Relaxed) as usize;
    let soft = limits.soft.load(Ordering::Relaxed) as usize;
    let mut over = hard > 0 && queued >= hard;
    if soft > 0 && queued >= soft {
        let now = Instant::now();
        match st.soft_since.get() {
            None => st.soft_since.set(Some(now)),
            Some(t) => {
                let secs = limits.soft_secs.load(Ordering::Relaxed);
                if now.duration_since(t).as_secs() > secs {
                    over = true;
                }
            }
        }
    } else {
        st.soft_since.set(None);
    }
    if over {
        tracing::warn!(
            client = sess.id,
            "closing a pub/sub client over its output buffer limit ({queued} bytes waiting)"
        );
        st.abort_now();
        sess.close();
        sess.pusher().kill();
    }
}

/// The thread's 100 ms look at its subscribers: one that stays over the soft limit with no
/// new message is closed once its seconds are up, as Redis's `clientsCron` checks the limits
/// of clients nothing is added to.
pub(crate) fn cron(w: &Worker) {
    let limits = &w.shared.pubsub;
    for c in w.clients.borrow().iter() {
        if c.pubsub.total() > 0 && !c.pubsub.aborted.get() {
            check_limit(c, c.pubsub.queued(), limits);
        }
    }
}

/// Delivers a message to this thread's subscribers that a publisher which has applied this
/// thread's mirror updates up to `seen` counted (`l.seq` for a publish made here: all of
/// them); returns how many it reached.
fn deliver_local(
    limits: &Limits,
    l: &Local,
    seen: u64,
    kind: Kind,
    channel: &[u8],
    msg: &[u8],
) -> usize {
    let mut n = 0;
    if let Some(subs) = l.maps[kind as usize].get(channel) {
        let word: &[u8] = if kind == Kind::Shard {
            b"smessage"
        } else {
            b"message"
        };
        let mut frames = Frames::new(&[word, channel, msg]);
        for s in subs.values().filter(|s| s.seen_by(seen)) {
            push_to(&s.sess, frames.get(s.sess.resp() == 3), limits);
            n += 1;
        }
    }
    if kind == Kind::Channel {
        for (pat, subs) in &l.maps[Kind::Pattern as usize] {
            if !glob_match(pat, channel, false) {
                continue;
            }
            let mut frames = Frames::new(&[b"pmessage", pat, channel, msg]);
            for s in subs.values().filter(|s| s.seen_by(seen)) {
                push_to(&s.sess, frames.get(s.sess.resp() == 3), limits);
                n += 1;
            }
        }
    }
    n
}

/// Adds to `per` (a slot per thread) how many subscribers each other thread has for a message
/// of `kind` on `channel`, as this thread's mirror has them: the channel's, plus those of
/// every pattern that matches it.
fn remote_counts(l: &Local, kind: Kind, channel: &[u8], per: &mut [u32]) {
    let mut add = |c: &[u32]| {
        for (p, c) in per.iter_mut().zip(c) {
            *p += c;
        }
    };
    if let Some(c) = l.mirror[kind as usize].get(channel) {
        add(c);
    }
    if kind == Kind::Channel {
        for (pat, c) in &l.mirror[Kind::Pattern as usize] {
            if glob_match(pat, channel, false) {
                add(c);
            }
        }
    }
}

/// Whether this thread's mirror shows no subscriber of any kind on another thread.
fn mirror_empty(l: &Local) -> bool {
    l.mirror.iter().all(HashMap::is_empty)
}

/// Runs `f` on thread `t` (not this one) without waiting; the receiver says when it has run.
fn post_call(w: &Worker, t: usize, f: CallFn) -> oneshot::Receiver<Partial> {
    let (reply, rx) = oneshot::channel();
    w.post(
        t,
        Msg::Call {
            tx: None,
            unlock: false,
            f,
            reply,
        },
    );
    rx
}

/// Sends messages to thread `t`, for its subscribers that this thread counted: those of its
/// mirror updates up to `seen`.
fn post_delivery(
    w: &Worker,
    t: usize,
    seen: u64,
    batch: Vec<Message>,
) -> oneshot::Receiver<Partial> {
    let f: CallFn = Box::new(move |wk: &Worker| -> Partial {
        let limits = &wk.shared.pubsub;
        LOCAL.with(|l| {
            let l = l.borrow();
            for (k, c, m) in &batch {
                deliver_local(limits, &l, seen, *k, c, m);
            }
        });
        Box::new(())
    });
    post_call(w, t, f)
}

/// One message to publish: its kind, channel and payload.
type Message = (Kind, Bytes, Bytes);

/// Publishes messages, in order, and returns how many subscribers receive each: delivered to
/// this thread's subscribers at once, and sent to every other thread that has subscribers for
/// them (one mesh message per thread for all of them), without waiting. The count of another
/// thread's subscribers is this thread's mirror's, and that thread delivers to exactly the
/// subscribers counted (see [`Sub::seen_by`]). Messages from one thread to another arrive in
/// the order they were sent, so one publisher's messages reach a subscriber in publish order.
fn publish_all(w: &Worker, msgs: &[Message]) -> (Vec<usize>, Vec<oneshot::Receiver<Partial>>) {
    let limits = &w.shared.pubsub;
    LOCAL.with(|l| {
        let l = l.borrow();
        let mut counts = Vec::with_capacity(msgs.len());
        let remote = w.n > 1 && !mirror_empty(&l);
        let mut per = vec![0u32; if remote { w.n } else { 0 }];
        let mut out: Vec<Vec<Message>> = Vec::new();
        for (k, c, m) in msgs {
            let mut n = deliver_local(limits, &l, l.seq, *k, c, m);
            if remote {
                per.fill(0);
                remote_counts(&l, *k, c, &mut per);
                for (t, &cnt) in per.iter().enumerate() {
                    if cnt > 0 {
                        n += cnt as usize;
                        if out.is_empty() {
                            out.resize_with(w.n, Vec::new);
                        }
                        out[t].push((*k, c.clone(), m.clone()));
                    }
                }
            }
            counts.push(n);
        }
        let mut sent = Vec::new();
        for (t, batch) in out.into_iter().enumerate() {
            if !batch.is_empty() {
                let seen = l.seen.get(t).copied().unwrap_or(0);
                sent.push(post_delivery(w, t, seen, batch));
            }
        }
        (counts, sent)
    })
}

/// A script's PUBLISH or SPUBLISH: published on every thread; returns how many subscribers
/// receive it. Its reply waits until the other threads have delivered it, as keyspace events
/// do (see "Settling detached deliveries"), so whatever the client does next comes after it.
pub(crate) fn publish(w: &Worker, kind: Kind, channel: Bytes, msg: Bytes) -> usize {
    let (counts, sent) = publish_all(w, &[(kind, channel, msg)]);
    for ack in sent {
        SETTLE.with(|st| st.track(ack));
    }
    counts.first().copied().unwrap_or(0)
}

// ---- The mirror. ----
//
// Every thread knows how many subscribers each channel, pattern and shard channel has on every
// other thread, so that a publish counts its receivers and picks the threads to send to
// without asking them. A thread that subscribes or unsubscribes a client sends the change to
// every other thread as its next numbered update; (UN)SUBSCRIBE's confirmation goes out only
// once every thread has applied it, so a publish made anywhere after a client saw its
// confirmation counts it (or no longer does). A message a thread sends carries how many of the
// receiving thread's updates it had applied, and the receiver delivers to exactly the
// subscribers those counted: a subscriber that another thread does not count yet gets nothing
// from it, and one that has unsubscribed, but that a publisher still counted, gets the message
// before its UNSUBSCRIBE confirmation.

/// Numbers this thread's next mirror update.
fn next_seq() -> u64 {
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        l.seq += 1;
        l.seq
    })
}

/// Applies thread `src`'s update `seq`: its subscribers of `kind` changed by `changes`.
fn apply(src: usize, threads: usize, seq: u64, kind: Kind, changes: &[(Bytes, i32)]) {
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        if l.seen.len() < threads {
            l.seen.resize(threads, 0);
        }
        l.seen[src] = seq;
        let map = &mut l.mirror[kind as usize];
        for (name, d) in changes {
            let per = map
                .entry(name.clone())
                .or_insert_with(|| vec![0; threads].into_boxed_slice());
            per[src] = per[src].saturating_add_signed(*d);
            if per.iter().all(|&c| c == 0) {
                map.remove(name);
            }
        }
    });
}

/// Sends this thread's update `seq` (its subscribers of `kind` changed by `changes`) to every
/// other thread; the receivers say when each has applied it.
fn announce(
    w: &Worker,
    seq: u64,
    kind: Kind,
    changes: Vec<(Bytes, i32)>,
) -> Vec<oneshot::Receiver<Partial>> {
    if w.n == 1 || changes.is_empty() {
        return Vec::new();
    }
    let changes = std::sync::Arc::new(changes);
    (0..w.n)
        .filter(|&t| t != w.id)
        .map(|t| {
            let (src, threads, changes) = (w.id, w.n, changes.clone());
            let f: CallFn = Box::new(move |_: &Worker| -> Partial {
                apply(src, threads, seq, kind, &changes);
                Box::new(())
            });
            post_call(w, t, f)
        })
        .collect()
}

/// Waits until every thread has applied an update (a thread that stopped counts as done).
async fn applied(acks: Vec<oneshot::Receiver<Partial>>) {
    for rx in acks {
        let _ = rx.await;
    }
}

// ---- Pipelined publishes. ----
//
// A pipeline of consecutive PUBLISH/SPUBLISH commands is published as one batch when its first
// command runs: by then everything before it has run, and nothing else runs before the rest of
// the batch (no other command stands between them), so publishing them together is what
// publishing them one by one would show, at one message per thread instead of one per command.
// `prepare` finds the runs when a read is dispatched; the first command of a run publishes it
// and the others take their counts. A command is matched by the identity of its arguments
// (the same `Bytes`), so a command run from anywhere else (a transaction's queue) is never
// mistaken for one of a prepared run.

/// Identity of a publish command's arguments.
type Ident = (usize, usize, usize, usize);

fn ident(channel: &Bytes, msg: &Bytes) -> Ident {
    (
        channel.as_ptr() as usize,
        channel.len(),
        msg.as_ptr() as usize,
        msg.len(),
    )
}

/// Runs of consecutive publishes in the read being dispatched, and the counts of a published
/// run's commands that have not replied yet.
#[derive(Default)]
pub(crate) struct Pipelined {
    runs: Vec<Vec<Message>>,
    ready: std::collections::VecDeque<(Ident, usize)>,
    /// The first of the publishes that end the read, which need not wait for their deliveries.
    last: Option<Ident>,
}

/// How many deliveries of a connection's publishes may be on their way to other threads
/// before its next read waits for them: a publisher that outruns a busy subscriber's thread
/// slows down instead of growing that thread's queue without bound.
const MAX_IN_FLIGHT: usize = 64;

/// The kind of message `args` publishes, if it is a well-formed PUBLISH or SPUBLISH.
fn publishes(args: &[Bytes]) -> Option<Kind> {
    match args.first() {
        Some(n) if args.len() == 3 && eq_ic(n, "publish") => Some(Kind::Channel),
        Some(n) if args.len() == 3 && eq_ic(n, "spublish") => Some(Kind::Shard),
        _ => None,
    }
}

/// Prepares a read about to be dispatched: waits until the other threads have delivered what
/// the connection's earlier reads published (unless this read only publishes: its messages
/// follow those on the same queues), then finds the runs of two or more consecutive
/// PUBLISH/SPUBLISH commands and the publishes that end the read. Those last ones reply
/// without waiting for their deliveries on other threads: nothing else of this read comes
/// after them, and the next read waits here. Any other publish waits for its deliveries
/// before the next command runs, since that command could make another thread publish for
/// this client (a keyspace event, a script run elsewhere), which must come after it.
pub(crate) async fn prepare(w: &Worker, sess: &Session, cmds: &[Vec<Bytes>]) {
    if sess.pubsub.in_flight() {
        let only_publishes = cmds.iter().all(|a| publishes(a).is_some());
        if !only_publishes || sess.pubsub.sent.borrow().len() >= MAX_IN_FLIGHT {
            let sent = std::mem::take(&mut *sess.pubsub.sent.borrow_mut());
            applied(sent).await;
        }
    }
    if w.n == 1 {
        return;
    }
    let mut p = sess.pubsub.pipelined.borrow_mut();
    p.runs.clear();
    p.ready.clear();
    let tail = cmds
        .iter()
        .rev()
        .take_while(|a| publishes(a).is_some())
        .count();
    p.last = (tail > 0).then(|| {
        let a = &cmds[cmds.len() - tail];
        ident(&a[1], &a[2])
    });
    if cmds.len() < 2 {
        return;
    }
    let mut run: Vec<Message> = Vec::new();
    for args in cmds {
        match publishes(args) {
            Some(k) => run.push((k, args[1].clone(), args[2].clone())),
            None => {
                if run.len() >= 2 {
                    p.runs.push(std::mem::take(&mut run));
                }
                run.clear();
            }
        }
    }
    if run.len() >= 2 {
        p.runs.push(run);
    }
}

/// PUBLISH/SPUBLISH: the count of a run already published, or the run published now if this
/// command starts one, or this message alone.
async fn publish_command(w: &Worker, sess: &Session, kind: Kind, args: &[Bytes]) -> usize {
    let (channel, msg) = (&args[1], &args[2]);
    let id = ident(channel, msg);
    let batch = {
        let mut p = sess.pubsub.pipelined.borrow_mut();
        if let Some(&(rid, n)) = p.ready.front() {
            if rid == id {
                p.ready.pop_front();
                return n;
            }
            // Not the run's next command: the run was interrupted (it cannot be, see above);
            // its remaining counts are stale.
            p.ready.clear();
        }
        let at = p.runs.iter().position(|r| {
            r.first()
                .is_some_and(|(k, c, m)| *k == kind && ident(c, m) == id)
        });
        at.map(|i| p.runs.swap_remove(i))
    };
    let last = sess.pubsub.pipelined.borrow().last == Some(id);
    let Some(batch) = batch else {
        let (counts, sent) = publish_all(w, &[(kind, channel.clone(), msg.clone())]);
        deliveries(sess, sent, last).await;
        return counts.first().copied().unwrap_or(0);
    };
    let ids: Vec<Ident> = batch.iter().map(|(_, c, m)| ident(c, m)).collect();
    let (counts, sent) = publish_all(w, &batch);
    sess.pubsub
        .pipelined
        .borrow_mut()
        .ready
        .extend(ids.into_iter().zip(counts.iter().copied()).skip(1));
    deliveries(sess, sent, last).await;
    counts.first().copied().unwrap_or(0)
}

/// Waits for a publish's deliveries on other threads, or, for the publishes that end a read,
/// leaves them to the next read's [`prepare`].
async fn deliveries(sess: &Session, sent: Vec<oneshot::Receiver<Partial>>, last: bool) {
    if last {
        sess.pubsub.sent.borrow_mut().extend(sent);
    } else {
        applied(sent).await;
    }
}

// ---- Commands. ----

fn header(out: &mut Out, n: usize) {
    if out.resp3 {
        out.push(n);
    } else {
        out.array(n);
    }
}

/// SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE. The confirmations are written at once but go out with
/// the rest of the read's replies, after every other thread has applied the change: a publish
/// made after the client saw them counts it, wherever it is made. A message that arrives
/// meanwhile waits in the inbox, written after the replies.
async fn subscribe(w: &Worker, sess: &Session, kind: Kind, names: &[Bytes], out: &mut Out) {
    // What was delivered to it until now goes before the confirmations.
    take_inbox(sess, out);
    let me = w.clients.borrow().get(sess.id).cloned();
    let seq = next_seq();
    let mut changes = Vec::new();
    for name in names {
        let fresh = {
            let mut subs = sess.pubsub.subs.borrow_mut();
            let map = &mut subs[kind as usize];
            if map.contains_key(name) {
                None
            } else {
                let order = sess.pubsub.seq.get() + 1;
                sess.pubsub.seq.set(order);
                // A copy: the argument is a slice of the read buffer, which it would keep
                // alive for as long as the subscription lasts.
                let stored = Bytes::copy_from_slice(name);
                map.insert(stored.clone(), order);
                Some(stored)
            }
        };
        if let (Some(stored), Some(me)) = (fresh, &me) {
            LOCAL.with(|l| {
                l.borrow_mut().maps[kind as usize]
                    .entry(stored.clone())
                    .or_default()
                    .insert(
                        sess.id,
                        Sub {
                            sess: me.clone(),
                            from: seq,
                            until: u64::MAX,
                        },
                    );
            });
            changes.push((stored, 1));
        }
        header(out, 3);
        out.bulk(kind.subscribed());
        out.bulk(name);
        out.int(sess.pubsub.count_for(kind) as i64);
    }
    applied(announce(w, seq, kind, changes)).await;
}

/// Removes subscriptions of `sess` from its state, and marks them gone as of this thread's
/// update `seq` in this thread's registry (a publisher that has not applied it still delivers
/// to them). Returns, per name, the count left after it (what its confirmation carries), and
/// the changes to announce.
fn drop_names(
    sess: &Session,
    kind: Kind,
    names: &[Bytes],
    seq: u64,
) -> (Vec<usize>, Vec<(Bytes, i32)>) {
    let mut left = Vec::with_capacity(names.len());
    let mut changes = Vec::new();
    for name in names {
        let removed = sess.pubsub.subs.borrow_mut()[kind as usize]
            .remove_entry(&name[..])
            .map(|(k, _)| k);
        left.push(sess.pubsub.count_for(kind));
        let Some(stored) = removed else { continue };
        let registered = LOCAL.with(|l| {
            let mut l = l.borrow_mut();
            let entry = l.maps[kind as usize]
                .get_mut(&stored)
                .and_then(|subs| subs.get_mut(&sess.id));
            entry.map(|e| e.until = seq).is_some()
        });
        if registered {
            changes.push((stored, -1));
        }
    }
    (left, changes)
}

/// Takes the subscriptions that [`drop_names`] marked gone out of this thread's registry.
fn remove_entries(id: u64, kind: Kind, changes: &[(Bytes, i32)]) {
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        let map = &mut l.maps[kind as usize];
        for (name, _) in changes {
            if let Some(subs) = map.get_mut(name) {
                subs.remove(&id);
                if subs.is_empty() {
                    map.remove(name);
                }
            }
        }
    });
}

/// The names of one kind `sess` has, in the order it subscribed to them.
fn all_names(sess: &Session, kind: Kind) -> Vec<Bytes> {
    let mut v: Vec<(u64, Bytes)> = sess.pubsub.subs.borrow()[kind as usize]
        .iter()
        .map(|(k, s)| (*s, k.clone()))
        .collect();
    v.sort_unstable_by_key(|e| e.0);
    v.into_iter().map(|e| e.1).collect()
}

/// Moves every push waiting in the inbox of `sess` into `out` (they were sent before what
/// comes next in `out`). A CLIENT KILL among them is sent again, to close the connection once
/// `out` is written.
fn take_inbox(sess: &Session, out: &mut Out) {
    while let Some(p) = sess.try_push() {
        match p {
            Push::Frame(f) => out.raw(&f),
            Push::Tracking(n) => {
                if let Some(f) = crate::tracking::frame(sess, n) {
                    out.raw(&f);
                }
            }
            Push::Kill => {
                sess.pusher().kill();
                break;
            }
        }
    }
}

/// UNSUBSCRIBE, PUNSUBSCRIBE, SUNSUBSCRIBE: from `names`, or from every name of the kind (in
/// subscription order) when there are none; one frame per name, as Redis does. The
/// subscriber keeps receiving what publishers that still count it send, until every thread
/// has applied the change; those messages come before the confirmations.
async fn unsubscribe(w: &Worker, sess: &Session, kind: Kind, names: &[Bytes], out: &mut Out) {
    let all;
    let names = if names.is_empty() {
        all = all_names(sess, kind);
        if all.is_empty() {
            header(out, 3);
            out.bulk(kind.unsubscribed());
            out.null();
            out.int(sess.pubsub.count_for(kind) as i64);
            return;
        }
        &all[..]
    } else {
        names
    };
    let seq = next_seq();
    let (left, changes) = drop_names(sess, kind, names, seq);
    if !changes.is_empty() {
        applied(announce(w, seq, kind, changes.clone())).await;
        // What was delivered to it until now, before the confirmations.
        take_inbox(sess, out);
    }
    remove_entries(sess.id, kind, &changes);
    for (name, n) in names.iter().zip(left) {
        header(out, 3);
        out.bulk(kind.unsubscribed());
        out.bulk(name);
        out.int(n as i64);
    }
}

/// Drops every subscription of a connection, without replies: RESET, and a connection that
/// closes (whatever closed it: QUIT, CLIENT KILL, the peer, a limit). It does not wait for
/// the other threads: a publish they make before they apply the change counts the connection
/// and is not delivered to it.
pub(crate) fn forget(w: &Worker, sess: &Session) {
    if sess.pubsub.monitor.replace(false) {
        LOCAL.with(|l| l.borrow_mut().monitors.remove(&sess.id));
        w.shared.pubsub.monitors.fetch_sub(1, Ordering::Relaxed);
    }
    if sess.pubsub.total() == 0 {
        return;
    }
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        let names = all_names(sess, kind);
        if names.is_empty() {
            continue;
        }
        let seq = next_seq();
        let (_, changes) = drop_names(sess, kind, &names, seq);
        remove_entries(sess.id, kind, &changes);
        drop(announce(w, seq, kind, changes));
    }
}

/// The subscribed-mode rule of RESP2: while a RESP2 connection has subscriptions, only the
/// (un)subscribe commands, PING, QUIT and RESET run, and PING answers as a pub/sub frame.
/// Returns true when it wrote the command's reply itself (the command then does not run).
pub(crate) fn intercept(sess: &Session, spec: &CommandSpec, args: &[Bytes], out: &mut Out) -> bool {
    if sess.resp() != 2 || sess.pubsub.total() == 0 {
        return false;
    }
    match spec.name {
        "subscribe" | "ssubscribe" | "unsubscribe" | "sunsubscribe" | "psubscribe"
        | "punsubscribe" | "quit" | "reset" => false,
        "ping" if args.len() <= 2 => {
            out.array(2);
            out.bulk(b"pong");
            out.bulk(args.get(1).map_or(&b""[..], |a| &a[..]));
            true
        }
        "ping" => false,
        _ => {
            let full = match (spec.subcommands.is_empty(), args.get(1)) {
                (false, Some(sub)) => spec
                    .subcommand(sub)
                    .map_or(spec.name.to_string(), |s| s.name.to_string()),
                _ => spec.name.to_string(),
            };
            out.error(&format!("ERR Can't execute '{full}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"));
            true
        }
    }
}

/// Runs a pub/sub command.
pub(crate) async fn run(
    w: &Rc<Worker>,
    sess: &Session,
    cmd: PubSubCmd,
    args: &[Bytes],
    out: &mut Out,
) {
    match cmd {
        PubSubCmd::Subscribe => subscribe(w, sess, Kind::Channel, &args[1..], out).await,
        PubSubCmd::Psubscribe => subscribe(w, sess, Kind::Pattern, &args[1..], out).await,
        PubSubCmd::Ssubscribe => subscribe(w, sess, Kind::Shard, &args[1..], out).await,
        PubSubCmd::Unsubscribe => unsubscribe(w, sess, Kind::Channel, &args[1..], out).await,
        PubSubCmd::Punsubscribe => unsubscribe(w, sess, Kind::Pattern, &args[1..], out).await,
        PubSubCmd::Sunsubscribe => unsubscribe(w, sess, Kind::Shard, &args[1..], out).await,
        PubSubCmd::Publish => {
            let n = publish_command(w, sess, Kind::Channel, args).await;
            out.int(n as i64);
        }
        PubSubCmd::Spublish => {
            let n = publish_command(w, sess, Kind::Shard, args).await;
            out.int(n as i64);
        }
        PubSubCmd::Pubsub => introspect(w, args, out).await,
        PubSubCmd::Monitor => monitor(w, sess, out),
    }
}

// ---- MONITOR. ----

/// MONITOR: from now on the connection gets a line for every command any client runs. A
/// second MONITOR gets no reply at all, as in Redis.
fn monitor(w: &Worker, sess: &Session, out: &mut Out) {
    if sess.pubsub.monitor.get() {
        return;
    }
    let Some(me) = w.clients.borrow().get(sess.id).cloned() else {
        return out.error("ERR internal error: the client is not registered");
    };
    sess.pubsub.monitor.set(true);
    LOCAL.with(|l| l.borrow_mut().monitors.insert(sess.id, me));
    w.shared.pubsub.monitors.fetch_add(1, Ordering::Relaxed);
    out.ok();
}

/// The line a command about to run will show to MONITOR clients, without its time and
/// database (see [`feed_monitors`]); `None` while nobody monitors, and for administrative
/// commands, which Redis does not show. Costs one atomic load while nobody monitors.
pub(crate) fn monitor_line(w: &Worker, spec: &CommandSpec, args: &[Bytes]) -> Option<Vec<u8>> {
    if w.shared.pubsub.monitors.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let run = match (spec.subcommands.is_empty(), args.get(1)) {
        (false, Some(sub)) => spec.subcommand(sub).unwrap_or(spec),
        _ => spec,
    };
    use rustis_commands::registry::flags;
    if run.flags & (flags::ADMIN | flags::SKIP_MONITOR) != 0 {
        return None;
    }
    Some(monitor_repr(args))
}

/// Whether any client runs MONITOR, on any thread (one atomic load).
pub(crate) fn anyone_monitors(w: &Worker) -> bool {
    w.shared.pubsub.monitors.load(Ordering::Relaxed) > 0
}

/// The arguments as a MONITOR line shows them (passwords hidden), without time and client.
/// EVAL, EVALSHA and FCALL (flagged `skip_monitor`) are fed with it before they run, as
/// Redis's eval.c does, so that the commands the script calls come after them.
pub(crate) fn monitor_repr(args: &[Bytes]) -> Vec<u8> {
    // Passwords are not shown: HELLO's AUTH pair, every argument of AUTH, and MIGRATE's AUTH
    // and AUTH2 values, as in Redis.
    let migrate = eq_ic(&args[0], "migrate").then(|| migrate_secrets(args));
    let hidden = |i: usize| {
        if eq_ic(&args[0], "auth") {
            return i > 0;
        }
        if let Some(secrets) = &migrate {
            return secrets.contains(&i);
        }
        eq_ic(&args[0], "hello")
            && i >= 3
            && (eq_ic(&args[i - 1], "auth") || (i >= 4 && eq_ic(&args[i - 2], "auth")))
    };
    let mut line = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            line.push(b' ');
        }
        if hidden(i) {
            line.extend_from_slice(b"\"(redacted)\"");
        } else {
            repr(&mut line, a);
        }
    }
    line.extend_from_slice(b"\r\n");
    line
}

/// The positions of MIGRATE's AUTH password and AUTH2 username and password, found as
/// Redis's `migrateCommand` walks its options (it stops at KEYS or an unknown option).
fn migrate_secrets(args: &[Bytes]) -> Vec<usize> {
    let mut secrets = Vec::new();
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if eq_ic(&args[j], "auth") && more >= 1 {
            secrets.push(j + 1);
            j += 1;
        } else if eq_ic(&args[j], "auth2") && more >= 2 {
            secrets.extend([j + 1, j + 2]);
            j += 2;
        } else if !(eq_ic(&args[j], "copy") || eq_ic(&args[j], "replace")) {
            break;
        }
        j += 1;
    }
    secrets
}

/// Feeds a command that has run to every MONITOR client, on every thread, as Redis's
/// `+<seconds>.<micros> [<db> <addr>] "arg" ...` line: after it ran, as Redis does, so the
/// database is the one it left selected and a client that RESET is no longer fed.
pub(crate) fn feed_monitors(w: &Worker, sess: &Session, args_line: Vec<u8>) {
    feed_monitors_as(w, sess.db(), &sess.addr, args_line);
}

/// [`feed_monitors`] for a command of database `db` run by `who`: a client's address, or
/// `lua` for a command a script called.
pub(crate) fn feed_monitors_as(
    w: &Worker,
    db: impl std::fmt::Display,
    who: &dyn std::fmt::Display,
    args_line: Vec<u8>,
) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut line = format!(
        "+{}.{:06} [{} {}] ",
        now.as_secs(),
        now.subsec_micros(),
        db,
        who
    )
    .into_bytes();
    line.extend_from_slice(&args_line);
    let line = Bytes::from(line);
    feed_local(&line);
    for s in (0..w.n).filter(|&s| s != w.id) {
        let l = line.clone();
        let f = Box::new(move |_: &Worker| -> Partial {
            feed_local(&l);
            Box::new(())
        });
        drop(w.send_call(s, None, false, f));
    }
}

fn feed_local(line: &Bytes) {
    LOCAL.with(|l| {
        for m in l.borrow().monitors.values() {
            m.pusher().push(line.clone());
        }
    });
}

/// Redis's `sdscatrepr`: a quoted string with `\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b`
/// escaped and other unprintable bytes as `\xHH`.
fn repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// Runs `f` on every thread (this one included) and collects the results in thread order.
async fn gather<T: Send + 'static>(
    w: &Worker,
    f: impl Fn() -> T + Send + Sync + Clone + 'static,
) -> Vec<T> {
    let mut waits = Vec::with_capacity(w.n);
    for s in 0..w.n {
        let f = f.clone();
        let call = Box::new(move |_: &Worker| -> Partial { Box::new(f()) });
        waits.push(w.send_call(s, None, false, call));
    }
    let mut all = Vec::with_capacity(w.n);
    for rx in waits {
        if let Ok(p) = rx.await {
            if let Ok(v) = p.downcast::<T>() {
                all.push(*v);
            }
        }
    }
    all
}

/// How many of a name's subscribers on this thread have not unsubscribed.
fn live(subs: &Subscribers) -> usize {
    subs.values().filter(|s| s.until == u64::MAX).count()
}

/// The names of one kind with subscribers on this thread, those matching `pat` if given.
fn names_here(kind: Kind, pat: Option<&[u8]>) -> Vec<Bytes> {
    LOCAL.with(|l| {
        l.borrow().maps[kind as usize]
            .iter()
            .filter(|(k, subs)| live(subs) > 0 && pat.is_none_or(|p| glob_match(p, k, false)))
            .map(|(k, _)| k.clone())
            .collect()
    })
}

/// Publishes without waiting for the count (keyspace events): delivered to this thread's
/// subscribers at once, and on every other thread that has subscribers for it when its message
/// arrives there. Messages from one thread to another keep their order, so one thread's events
/// reach a subscriber in the order they happened.
pub(crate) fn publish_detached(w: &Worker, channel: Bytes, msg: Bytes) {
    let limits = &w.shared.pubsub;
    let posts: Vec<(usize, u64)> = LOCAL.with(|l| {
        let l = l.borrow();
        deliver_local(limits, &l, l.seq, Kind::Channel, &channel, &msg);
        if w.n == 1 || mirror_empty(&l) {
            return Vec::new();
        }
        let mut per = vec![0u32; w.n];
        remote_counts(&l, Kind::Channel, &channel, &mut per);
        per.iter()
            .enumerate()
            .filter(|&(_, &c)| c > 0)
            .map(|(t, _)| (t, l.seen.get(t).copied().unwrap_or(0)))
            .collect()
    });
    for (t, seen) in posts {
        let batch = vec![(Kind::Channel, channel.clone(), msg.clone())];
        let ack = post_delivery(w, t, seen, batch);
        SETTLE.with(|st| st.track(ack));
    }
}

// ---- Settling detached deliveries. ----
//
// Two commands a client runs one after the other may change keys on two different threads;
// their events travel on two different mesh queues, which a subscriber's thread may drain in
// either order. So a reply is not sent before the events its command published to other
// threads have been delivered there: the connection's thread waits for them at the end of a
// read (`settle`), and a thread that ran a batch or a part for another thread sends that
// reply once they are (`reply_after_events`). Events of one read's commands on different
// threads may still arrive in another order than the commands ran. With nobody subscribed on
// another thread, nothing is posted and nothing waits.

/// This thread's detached deliveries not yet acknowledged, numbered in the order posted.
#[derive(Default)]
struct Settle {
    posted: Cell<u64>,
    outstanding: RefCell<std::collections::BTreeSet<u64>>,
    done: Rc<tokio::sync::Notify>,
}

impl Settle {
    fn track(&self, ack: tokio::sync::oneshot::Receiver<Partial>) {
        let seq = self.posted.get() + 1;
        self.posted.set(seq);
        self.outstanding.borrow_mut().insert(seq);
        tokio::task::spawn_local(async move {
            let _ = ack.await;
            SETTLE.with(|st| {
                st.outstanding.borrow_mut().remove(&seq);
                st.done.notify_waiters();
            });
        });
    }

    /// Whether every delivery posted up to `upto` is acknowledged.
    fn settled(&self, upto: u64) -> bool {
        self.outstanding
            .borrow()
            .first()
            .is_none_or(|&first| first > upto)
    }
}

thread_local! {
    static SETTLE: Settle = Settle::default();
}

/// Waits until every delivery this thread has posted so far is acknowledged.
async fn settled_upto(upto: u64) {
    let done = SETTLE.with(|st| st.done.clone());
    loop {
        let notified = done.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if SETTLE.with(|st| st.settled(upto)) {
            return;
        }
        notified.await;
    }
}

/// Waits until the events this thread has published to other threads are delivered (before
/// a read's replies are written).
pub(crate) async fn settle() {
    let upto = SETTLE.with(|st| st.posted.get());
    if SETTLE.with(|st| st.settled(upto)) {
        return;
    }
    settled_upto(upto).await;
}

/// How many deliveries this thread has posted so far: taken before running work for another
/// thread, and handed to [`reply_after_events`].
pub(crate) fn mark() -> u64 {
    SETTLE.with(|st| st.posted.get())
}

/// Sends a reply to another thread; if the work it answers published events to other threads
/// (more deliveries posted than at `mark`), once they are delivered. A delivery's own
/// acknowledgement publishes nothing, so it is never held back, and no two threads can wait
/// on each other.
pub(crate) fn reply_after_events<T: 'static>(
    mark: u64,
    reply: tokio::sync::oneshot::Sender<T>,
    value: T,
) {
    after_events(mark, move || {
        let _ = reply.send(value);
    });
}

/// Whether the events this thread published since `mark` are all delivered (or there were
/// none): then a reply may go at once.
pub(crate) fn settled_since(mark: u64) -> bool {
    let upto = SETTLE.with(|st| st.posted.get());
    upto == mark || SETTLE.with(|st| st.settled(upto))
}

/// Runs `send` once the events this thread published since `mark` are delivered: at once if
/// they are, else from a task that waits for them (see [`reply_after_events`]).
pub(crate) fn after_events(mark: u64, send: impl FnOnce() + 'static) {
    let upto = SETTLE.with(|st| st.posted.get());
    if upto == mark || SETTLE.with(|st| st.settled(upto)) {
        send();
        return;
    }
    tokio::task::spawn_local(async move {
        settled_upto(upto).await;
        send();
    });
}

/// The names of one kind with subscribers on any thread.
async fn names_everywhere(w: &Worker, kind: Kind, pat: Option<Bytes>) -> Vec<Bytes> {
    let per = gather(w, move || names_here(kind, pat.as_deref())).await;
    if per.len() == 1 {
        return per.into_iter().next().unwrap_or_default();
    }
    let mut seen = hashbrown::HashSet::new();
    per.into_iter()
        .flatten()
        .filter(|n| seen.insert(n.clone()))
        .collect()
}

/// INFO's `pubsub_channels`, `pubsub_patterns` and `pubsubshard_channels`: the distinct
/// names with subscribers on any thread.
pub(crate) async fn info_counts(w: &Worker) -> (usize, usize, usize) {
    (
        names_everywhere(w, Kind::Channel, None).await.len(),
        names_everywhere(w, Kind::Pattern, None).await.len(),
        names_everywhere(w, Kind::Shard, None).await.len(),
    )
}

async fn numsub(w: &Worker, kind: Kind, names: &[Bytes], out: &mut Out) {
    let names: Vec<Bytes> = names.to_vec();
    let ask = names.clone();
    let per = gather(w, move || {
        LOCAL.with(|l| {
            let l = l.borrow();
            ask.iter()
                .map(|n| l.maps[kind as usize].get(n).map_or(0, live))
                .collect::<Vec<usize>>()
        })
    })
    .await;
    out.array(names.len() * 2);
    for (i, n) in names.iter().enumerate() {
        out.bulk(n);
        out.int(
            per.iter()
                .map(|v| v.get(i).copied().unwrap_or(0))
                .sum::<usize>() as i64,
        );
    }
}

const HELP: &[&str] = &[
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
];

async fn introspect(w: &Worker, args: &[Bytes], out: &mut Out) {
    let sub = &args[1];
    let n = args.len();
    if n == 2 && eq_ic(sub, "help") {
        crate::admin::help(out, "PUBSUB", HELP);
    } else if (eq_ic(sub, "channels") || eq_ic(sub, "shardchannels")) && n <= 3 {
        let kind = if eq_ic(sub, "channels") {
            Kind::Channel
        } else {
            Kind::Shard
        };
        let names = names_everywhere(w, kind, args.get(2).cloned()).await;
        out.array(names.len());
        for c in names {
            out.bulk(&c);
        }
    } else if eq_ic(sub, "numsub") {
        numsub(w, Kind::Channel, &args[2..], out).await;
    } else if eq_ic(sub, "shardnumsub") {
        numsub(w, Kind::Shard, &args[2..], out).await;
    } else if eq_ic(sub, "numpat") && n == 2 {
        let pats = names_everywhere(w, Kind::Pattern, None).await;
        out.int(pats.len() as i64);
    } else if n < 2 {
        out.error(&wrong_args("pubsub"));
    } else {
        out.error(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
            String::from_utf8_lossy(sub)
        ));
    }
}
