//! Dispatch: runs the commands parsed from one read of one connection, in order.
//!
//! Each command is checked once here (unknown command, arity, precheck) and routed by its spec:
//! a command whose keys live on this thread's shard runs inline; one whose keys live on another
//! shard joins that shard's batch, and each batch travels as one message when the run reaches a
//! barrier or its end (pipeline squashing). Replies are put back in request order. Commands that
//! span shards or need every shard are barriers: what came before them is finished first.
//!
//! **Architecture Invariant.** With one thread nothing here allocates per command or crosses a
//! thread: every command takes the inline path.

use std::rc::Rc;
use std::sync::{Arc, LazyLock};

use bytes::{Bytes, BytesMut};
use rand::SeedableRng;
use rustis_commands::registry::{flags, FanoutOps, MultiKeyOps, Partial, Run, TxnFn};
use rustis_commands::txn::{check_in, check_out, FetchedKeys, Returned, UNDECLARED_KEYS};
use rustis_commands::{CommandSpec, ConnCmd, Out, Registry, ShardCtx};
use rustis_resp::errors::{unknown_command, unknown_subcommand, wrong_args};
use rustis_storage::{DbIndex, Entry};

use crate::admin;
use crate::multi;
use crate::routing::shard_of;
use crate::session::Session;
use crate::worker::{BatchReply, Item, LockSet, NeededKeys, PartFn, TxId, Worker};

/// The command table, built once.
pub(crate) static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    let mut r = Registry::new();
    for (old, new) in RENAMES.get().map(Vec::as_slice).unwrap_or_default() {
        // Checked when the config was read (`Config::load_str`).
        let _ = r.rename(old, new);
    }
    r
});

/// The `rename-command` lines the process's command table is built with (`server::start`
/// sets them before anything looks a command up).
pub(crate) static RENAMES: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();

const SHUTTING_DOWN: &str = "ERR server is shutting down";

enum Seg {
    /// Bytes `start..end` of the output written after `base`.
    Local(usize, usize),
    /// Reply `idx` of the batch sent to shard `shard`.
    Remote(usize, usize),
}

/// Commands waiting to be sent to other shards, and where their replies go. A connection keeps
/// one for its life so that a read costs no allocation here: the item vectors, the reply
/// buffers and the scratch space below are reused from one read to the next.
pub(crate) struct Pending {
    batches: Vec<Vec<Item>>,
    segs: Vec<Seg>,
    /// Where the output stood when the first command was deferred; replies after it are
    /// reassembled in order at the flush.
    base: Option<usize>,
    /// Per shard: the box of its last reply, handed to its next batch to write into.
    spare: Vec<Option<Box<BatchReply>>>,
    /// Per shard: the reply to the batch in flight.
    replies: Vec<Option<Box<BatchReply>>>,
    /// The batches in flight: shard and reply receiver.
    waits: Vec<(usize, crate::mesh::BatchWait)>,
    /// The output written after `base`, set aside while the replies are put in order.
    tail: Vec<u8>,
    /// Per command of the read being run: the shard of its second argument (its first key for
    /// most commands), computed once for the prefetch pass and for routing.
    hints: Vec<usize>,
    /// The connection's last command looked up; kept across reads, so that a client sending
    /// one command at a time does not look each one up in the table.
    last_spec: LastSpec,
}

/// Reply buffers and item vectors larger than this are not kept for reuse, so that one big
/// pipeline does not pin memory on an idle connection.
const KEEP_REPLY: usize = 16 * 1024;
const KEEP_ITEMS: usize = 256;

impl Pending {
    pub(crate) fn new(n: usize) -> Self {
        Pending {
            batches: (0..n).map(|_| Vec::new()).collect(),
            segs: Vec::new(),
            base: None,
            spare: (0..n).map(|_| None).collect(),
            replies: (0..n).map(|_| None).collect(),
            waits: Vec::new(),
            tail: Vec::new(),
            hints: Vec::new(),
            last_spec: LastSpec::default(),
        }
    }

    fn has(&self, s: usize) -> bool {
        !self.batches[s].is_empty()
    }

    fn defer(&mut self, s: usize, item: Item, out: &Out) {
        if self.base.is_none() {
            self.base = Some(out.buf.len());
        }
        self.segs.push(Seg::Remote(s, self.batches[s].len()));
        self.batches[s].push(item);
    }

    /// Records that `start..` of the output was written by a local command.
    fn wrote_local(&mut self, start: usize, out: &Out) {
        if self.base.is_some() && out.buf.len() > start {
            if let Some(Seg::Local(_, end)) = self.segs.last_mut() {
                if *end == start {
                    *end = out.buf.len();
                    return;
                }
            }
            self.segs.push(Seg::Local(start, out.buf.len()));
        }
    }

    /// Sends every batch, waits for the replies and writes all deferred output in order.
    /// The items' argument vectors go back to `parser` for reuse, like those of commands run
    /// inline.
    async fn flush(
        &mut self,
        w: &Worker,
        sess: &Session,
        out: &mut Out,
        parser: &mut rustis_resp::Parser,
    ) {
        let Some(base) = self.base.take() else {
            return;
        };
        for s in 0..self.batches.len() {
            if !self.batches[s].is_empty() {
                let items = std::mem::take(&mut self.batches[s]);
                let into = self.spare[s].take().unwrap_or_default();
                self.waits
                    .push((s, w.send_batch(s, items, out.resp3, into)));
            }
        }
        let mut waits = std::mem::take(&mut self.waits);
        for (s, rx) in waits.drain(..) {
            self.replies[s] = rx.await;
        }
        self.waits = waits;
        // ---- Undeclared keys: commands a shard could not finish alone. ----
        let mut retry: Vec<(usize, usize, NeededKeys)> = Vec::new();
        for (s, r) in self.replies.iter_mut().enumerate() {
            if let Some(r) = r {
                retry.extend(r.retry.drain(..).map(|(i, need)| (s, i, need)));
            }
        }
        // ---- End of undeclared keys. ----
        self.tail.clear();
        self.tail.extend_from_slice(&out.buf[base..]);
        let tail_shared = out.take_shared_after(base);
        out.buf.truncate(base);
        let remote: usize = self.replies.iter().flatten().map(|r| r.buf.len()).sum();
        out.buf.reserve(self.tail.len() + remote);
        for seg in self.segs.drain(..) {
            match seg {
                Seg::Local(a, b) => out.extend_from(&self.tail, &tail_shared, a - base, b - base),
                Seg::Remote(s, i) => match &mut self.replies[s] {
                    Some(r) => {
                        let start = if i == 0 { 0 } else { r.ends[i - 1] };
                        out.extend_from(&r.buf, &r.shared, start, r.ends[i]);
                        let retried = retry.iter().position(|(rs, ri, _)| *rs == s && *ri == i);
                        // ---- Statistics: counted here, where the client sent it. ----
                        if let (None, Some(it)) = (retried, r.items.get(i)) {
                            let nanos = r.nanos.get(i).copied().unwrap_or(0);
                            let reply = &r.buf[start..r.ends[i]];
                            crate::stats::ran(w, it.spec, &it.args, nanos, reply, Some(sess));
                        }
                        if let Some(k) = retried {
                            // Dispatch made it the last command sent (see `UNDECLARED_KEYS`), so
                            // everything before it in the pipeline has run, and nothing after.
                            let (_, _, need) = retry.swap_remove(k);
                            if let Some(it) = r.items.get_mut(i) {
                                let (spec, db) = (it.spec, it.db);
                                let args = std::mem::take(&mut it.args);
                                if let Run::Txn(f) = spec.run {
                                    let (t0, at) = (crate::stats::now(), out.buf.len());
                                    txn_extra(w, None, db, f, spec, args.clone(), need, out).await;
                                    let nanos = crate::stats::since(t0, crate::stats::now());
                                    crate::stats::ran(
                                        w,
                                        spec,
                                        &args,
                                        nanos,
                                        &out.buf[at..],
                                        Some(sess),
                                    );
                                    w.tick_clock();
                                }
                            }
                        }
                    }
                    None => out.error(SHUTTING_DOWN),
                },
            }
        }
        // Keep the buffers for the next batches.
        for s in 0..self.replies.len() {
            if let Some(mut r) = self.replies[s].take() {
                // The arguments are freed (or reused) here, on the thread that allocated them.
                for it in r.items.drain(..) {
                    parser.recycle(it.args);
                }
                if r.items.capacity() <= KEEP_ITEMS && self.batches[s].capacity() == 0 {
                    self.batches[s] = std::mem::take(&mut r.items);
                }
                r.shared.clear();
                r.buf.clear();
                if r.buf.capacity() > KEEP_REPLY {
                    r.buf = BytesMut::new();
                }
                r.ends.clear();
                if r.ends.capacity() > KEEP_ITEMS {
                    r.ends = Vec::new();
                }
                r.nanos.clear();
                if r.nanos.capacity() > KEEP_ITEMS {
                    r.nanos = Vec::new();
                }
                r.retry.clear();
                self.spare[s] = Some(r);
            }
        }
        if self.tail.capacity() > KEEP_BUFFER {
            self.tail = Vec::new();
        }
    }
}

/// The command table, remembering the last name looked up: a pipeline mostly repeats one
/// command, and comparing a few bytes is cheaper than folding case and hashing the name.
#[derive(Default)]
struct LastSpec {
    name: [u8; 16],
    len: usize,
    spec: Option<&'static CommandSpec>,
}

impl LastSpec {
    fn lookup(&mut self, name: &[u8]) -> Option<&'static CommandSpec> {
        if let Some(spec) = self.spec {
            if name == &self.name[..self.len] {
                return Some(spec);
            }
        }
        let spec = REGISTRY.lookup(name)?;
        if name.len() <= self.name.len() {
            self.name[..name.len()].copy_from_slice(name);
            self.len = name.len();
            self.spec = Some(spec);
        }
        Some(spec)
    }
}

/// Where a data command runs.
pub(crate) enum Target {
    One(usize),
    /// Key positions grouped by shard, in ascending shard order.
    Many(Vec<(usize, Vec<usize>)>),
}

/// `hint`: the shard of `args[1]`, when the caller has computed it.
pub(crate) fn route(
    w: &Worker,
    spec: &CommandSpec,
    args: &[Bytes],
    hint: Option<usize>,
) -> Result<Target, String> {
    if let Run::Shard(_) = spec.run {
        if spec.first_key <= 0 || w.n == 1 {
            return Ok(Target::One(w.id));
        }
        let k = spec.first_key as usize;
        if let Some(s) = hint.filter(|_| k == 1 && args.len() > 1) {
            return Ok(Target::One(s));
        }
        return Ok(Target::One(
            args.get(k).map_or(w.id, |key| shard_of(key, w.n)),
        ));
    }
    let pos = spec.key_positions(args)?;
    if w.n == 1 || pos.is_empty() {
        return Ok(Target::One(w.id));
    }
    let first = shard_of(&args[pos[0]], w.n);
    if pos.iter().all(|&p| shard_of(&args[p], w.n) == first) {
        return Ok(Target::One(first));
    }
    Ok(Target::Many(by_shard(
        w.n,
        pos.iter().map(|&p| (p, &args[p][..])),
    )))
}

/// Groups `(index, key)` pairs by the shard that owns the key, in ascending shard order, each
/// group keeping its indexes in the order given.
pub(crate) fn by_shard<'a>(
    n: usize,
    keys: impl Iterator<Item = (usize, &'a [u8])>,
) -> Vec<(usize, Vec<usize>)> {
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for (i, k) in keys {
        let s = shard_of(k, n);
        match groups.iter_mut().find(|(g, _)| *g == s) {
            Some((_, v)) => v.push(i),
            None => groups.push((s, vec![i])),
        }
    }
    groups.sort_by_key(|(s, _)| *s);
    groups
}

/// Which shards the keyed commands of one run went to; the connection loop uses it to move a
/// connection to the thread that owns the keys it keeps using.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Affinity {
    /// No command had a key.
    NoKeys,
    /// Every keyed command went to this one shard: the shard, and how many commands.
    One(usize, u32),
    /// Keyed commands went to several shards.
    Mixed,
}

impl Affinity {
    fn saw(&mut self, s: usize) {
        *self = match *self {
            Affinity::NoKeys => Affinity::One(s, 1),
            Affinity::One(t, n) if t == s => Affinity::One(s, n.saturating_add(1)),
            _ => Affinity::Mixed,
        };
    }
}

/// Runs `cmds` for the connection `sess`, writing every reply into `out` in request order.
pub(crate) async fn run(
    w: &Rc<Worker>,
    sess: &Session,
    pending: &mut Pending,
    cmds: &mut Vec<Vec<Bytes>>,
    parser: &mut rustis_resp::Parser,
    out: &mut Out,
    peer: Option<&tokio::net::TcpStream>,
) -> Affinity {
    w.drain_inbox();
    w.tick_clock();
    let mut hints = std::mem::take(&mut pending.hints);
    hints.clear();
    if cmds.len() > 1 {
        if w.n > 1 {
            hints.extend(
                cmds.iter()
                    .map(|a| a.get(1).map_or(usize::MAX, |k| shard_of(k, w.n))),
            );
        }
        let owned = |i: usize| w.n == 1 || hints[i] == w.id;
        prefetch_local(
            w,
            sess.db(),
            cmds.iter()
                .enumerate()
                .filter(|&(i, _)| owned(i))
                .filter_map(|(_, a)| a.get(1)),
        );
    }
    let mut executed = 0u64;
    let mut affinity = Affinity::NoKeys;
    // ---- CLIENT REPLY OFF|SKIP: where the reply being dropped starts; MONITOR: the line of
    // the command being run, fed once it has run (see pubsub.rs). ----
    let mut silenced: Option<usize> = None;
    let mut fed: Option<Vec<u8>> = None;
    // ---- Statistics: the clock reading at the end of the last command timed, which starts
    // the next one's when nothing came between (a pipeline of inline commands reads the clock
    // once per command). ----
    let mut chain: Option<crate::stats::Stamp> = None;
    crate::pubsub::prepare(w, sess, cmds).await;
    for (i, args) in cmds.drain(..).enumerate() {
        if sess.closing() {
            break;
        }
        // The output reached the normal class's hard limit: the rest is not run (limits.rs).
        if crate::limits::over_hard(&w.shared.climits, sess, out) {
            break;
        }
        // ---- MONITOR and CLIENT REPLY: the previous command has run; its reply, complete,
        // is dropped if silenced. ----
        if let Some(line) = fed.take() {
            crate::pubsub::feed_monitors(w, sess, line);
        }
        if let Some(from) = silenced.take() {
            pending.flush(w, sess, out, parser).await;
            out.truncate(from);
        }
        if crate::pubsub::silence(sess, &args) {
            pending.flush(w, sess, out, parser).await;
            silenced = Some(out.buf.len());
        }
        // ---- End of CLIENT REPLY. ----
        executed += 1;
        let start = out.buf.len();
        let chained = chain.take();
        let Some(spec) = pending.last_spec.lookup(&args[0]) else {
            multi::flag_error(sess);
            out.error(&unknown_command(&args[0], &args[1..]));
            crate::stats::error_reply(&out.buf[start..]);
            pending.wrote_local(start, out);
            continue;
        };
        sess.set_last_cmd(spec.resolve(&args).map_or(spec.name, |sub| sub.name));
        if !spec.arity_ok(args.len()) {
            multi::reject(w, sess, spec, &wrong_args(spec.name), out);
            crate::stats::rejected(spec, &args, &out.buf[start..]);
            pending.wrote_local(start, out);
            continue;
        }
        // A container's subcommand has its own entry and arity (`config|get`); a container
        // named alone (COMMAND) is itself.
        if !spec.subcommands.is_empty() && args.len() >= 2 {
            let checked = match spec.subcommand(&args[1]) {
                None => Err(unknown_subcommand(&args[1], spec.name)),
                Some(sub) if !sub.arity_ok(args.len()) => Err(wrong_args(sub.name)),
                Some(_) => Ok(()),
            };
            if let Err(e) = checked {
                multi::flag_error(sess);
                out.error(&e);
                match spec.subcommand(&args[1]) {
                    Some(_) => crate::stats::rejected(spec, &args, &out.buf[start..]),
                    None => crate::stats::error_reply(&out.buf[start..]),
                }
                pending.wrote_local(start, out);
                continue;
            }
        }
        // Before AUTH, only the `no_auth` commands run (Redis's `authRequired`); then the
        // user's ACL rules.
        if let Some(e) = crate::acl::check(w, sess, spec, &args) {
            multi::reject(w, sess, spec, &e, out);
            crate::stats::rejected(spec, &args, &out.buf[start..]);
            pending.wrote_local(start, out);
            continue;
        }
        // ---- CLIENT PAUSE: a command the pause holds waits for its end, on whichever thread
        // its client is, then runs the normal way (pause.rs). ----
        if w.shared.pause.active() {
            let held = |now| crate::pause::holds(w, sess, spec, &args, now);
            if held(w.shared.clock.now_ms()) {
                pending.flush(w, sess, out, parser).await;
                if !crate::pause::wait(w, sess, out, peer, held).await {
                    break;
                }
                w.tick_clock();
            }
        }
        // ---- End of CLIENT PAUSE. ----
        // A long script keeps some thread busy: only `allow_busy` commands run.
        if let Some(busy) = crate::busy::busy_error(w) {
            if !crate::busy::allowed(spec, &args) {
                multi::reject(w, sess, spec, busy, out);
                crate::stats::rejected(spec, &args, &out.buf[start..]);
                pending.wrote_local(start, out);
                continue;
            }
        }
        // Writes are refused while the last BGSAVE or AOF write failed (MISCONF).
        if let Some(e) = crate::aof::disk_error(w, spec) {
            multi::reject(w, sess, spec, &e, out);
            pending.wrote_local(start, out);
            continue;
        }
        // `min-replicas-to-write` with no replicas: writes are refused (NOREPLICAS).
        if let Some(e) = multi::no_replicas(w, sess, spec) {
            multi::reject(w, sess, spec, e, out);
            crate::stats::rejected(spec, &args, &out.buf[start..]);
            pending.wrote_local(start, out);
            continue;
        }
        // Over `maxmemory` with nothing left to evict: Redis's -OOM (see evict.rs).
        if let Some(e) = crate::evict::refused(w, sess, spec, &args) {
            multi::reject(w, sess, spec, e, out);
            crate::stats::rejected(spec, &args, &out.buf[start..]);
            pending.wrote_local(start, out);
            continue;
        }
        // ---- Pub/sub: RESP2's subscribed mode (see pubsub.rs). ----
        if crate::pubsub::intercept(sess, spec, &args, out) {
            if out.buf.get(start) == Some(&b'-') {
                crate::stats::rejected(spec, &args, &out.buf[start..]);
            }
            pending.wrote_local(start, out);
            continue;
        }
        // ---- End of pub/sub. ----
        // Inside MULTI, commands are queued for EXEC (their own checks run then).
        if sess.in_multi() && !multi::runs_at_once(spec) {
            // Refused there (Redis's rejectCommand), or queued and counted when EXEC runs it.
            let refused = spec.flags & flags::NO_MULTI != 0;
            if refused {
                crate::stats::rejected(spec, &args, b"-ERR Command not allowed");
            }
            multi::queue(sess, spec, args, out);
            pending.wrote_local(start, out);
            continue;
        }
        fed = crate::pubsub::monitor_line(w, spec, &args);
        // Client-side caching: who runs it, if it tracks (`None` otherwise; see tracking.rs).
        let track = crate::tracking::begin(sess, spec, &args);
        if let Some(check) = spec.precheck {
            if let Err(e) = check(&args) {
                out.error(&e);
                crate::stats::ran(w, spec, &args, 0, &out.buf[start..], Some(sess));
                pending.wrote_local(start, out);
                continue;
            }
        }
        if spec.flags & flags::WRITE != 0 {
            w.dirty.set(w.dirty.get() + 1);
        }
        if let Some(ops) = spec.blocking.filter(|o| o.blocks(&args)) {
            pending.flush(w, sess, out, parser).await;
            // The time a blocked command waits is not its run time; Redis counts only the
            // time it runs, which here is not measured apart from the wait (counted as 0).
            let (name, at) = (args.clone(), out.buf.len());
            let blocked = crate::blocking::block(w, sess, spec, ops, args, out, peer);
            crate::tracking::tagged(track, blocked).await;
            crate::stats::ran(
                w,
                spec,
                &name,
                0,
                out.buf.get(at..).unwrap_or(&[]),
                Some(sess),
            );
            w.tick_clock();
            continue;
        }
        match &spec.run {
            Run::Conn(cmd) => {
                // A script with declared keys runs without messages on their shard's thread:
                // count it toward moving the connection there.
                if let (ConnCmd::Script(_), Some(key)) = (cmd, args.get(3)) {
                    if args.get(2).is_some_and(|n| n.as_ref() != b"0") {
                        affinity.saw(shard_of(key, w.n));
                    }
                }
                if admin::is_barrier(*cmd) {
                    pending.flush(w, sess, out, parser).await;
                }
                let start = out.buf.len();
                let t0 = crate::stats::now();
                crate::tracking::tagged(track, admin::run(w, sess, *cmd, &args, out)).await;
                let t1 = crate::stats::now();
                let reply = &out.buf[start.min(out.buf.len())..];
                crate::stats::ran(
                    w,
                    spec,
                    &args,
                    crate::stats::since(t0, t1),
                    reply,
                    Some(sess),
                );
                chain = Some(t1);
                pending.wrote_local(start, out);
            }
            Run::Fanout(ops) => {
                pending.flush(w, sess, out, parser).await;
                if spec.name == "flushall" {
                    crate::persist::before_flushall(w, &args);
                }
                let (t0, at) = (crate::stats::now(), out.buf.len());
                crate::tracking::tagged(track, fanout(w, spec, sess.db(), ops, &args, out)).await;
                if spec.name == "flushall" && out.buf[at..].starts_with(b"+OK") {
                    crate::persist::after_flushall(w).await;
                }
                let t1 = crate::stats::now();
                crate::stats::ran(
                    w,
                    spec,
                    &args,
                    crate::stats::since(t0, t1),
                    &out.buf[at..],
                    Some(sess),
                );
            }
            Run::Shard(_) | Run::MultiKey(_) | Run::Txn(_) => {
                match route(w, spec, &args, hints.get(i).copied()) {
                    Err(e) => {
                        out.error(&e);
                        crate::stats::ran(w, spec, &args, 0, &out.buf[start..], Some(sess));
                        pending.wrote_local(start, out);
                    }
                    Ok(Target::One(s)) => {
                        if spec.first_key > 0 || spec.keys.is_some() {
                            affinity.saw(s);
                        }
                        if s == w.id && !pending.has(s) && w.may_run_inline(spec, sess.db(), &args)
                        {
                            let t0 = chained.unwrap_or_else(crate::stats::now);
                            let tracked = crate::tracking::Caller::enter(
                                track.clone().map(crate::tracking::Tag::direct),
                            );
                            let ran = w.exec(spec, sess.db(), &args, out);
                            drop(tracked);
                            match ran {
                                None => {
                                    let t1 = crate::stats::now();
                                    let nanos = crate::stats::since(t0, t1);
                                    crate::stats::ran(
                                        w,
                                        spec,
                                        &args,
                                        nanos,
                                        &out.buf[start..],
                                        Some(sess),
                                    );
                                    chain = Some(t1);
                                    pending.wrote_local(start, out);
                                    parser.recycle(args);
                                }
                                // ---- Undeclared keys: it wrote nothing; finish what came before
                                // it, then run it again with those keys locked and fetched. ----
                                Some(need) => {
                                    affinity = Affinity::Mixed;
                                    pending.flush(w, sess, out, parser).await;
                                    if let Run::Txn(f) = spec.run {
                                        let (t0, at) = (crate::stats::now(), out.buf.len());
                                        let run = txn_extra(
                                            w,
                                            None,
                                            sess.db(),
                                            f,
                                            spec,
                                            args.clone(),
                                            need,
                                            out,
                                        );
                                        crate::tracking::tagged(track, run).await;
                                        let nanos = crate::stats::since(t0, crate::stats::now());
                                        let reply = &out.buf[at..];
                                        crate::stats::ran(w, spec, &args, nanos, reply, Some(sess));
                                    }
                                    w.tick_clock();
                                }
                            }
                        } else {
                            pending.defer(
                                s,
                                Item {
                                    spec,
                                    db: sess.db(),
                                    args,
                                    track: track.map(crate::tracking::Tag::direct),
                                },
                                out,
                            );
                            if spec.flags & UNDECLARED_KEYS != 0 {
                                pending.flush(w, sess, out, parser).await;
                            }
                        }
                    }
                    Ok(Target::Many(groups)) => {
                        affinity = Affinity::Mixed;
                        pending.flush(w, sess, out, parser).await;
                        let (t0, at) = (crate::stats::now(), out.buf.len());
                        let kept = args.clone();
                        let run = async {
                            match &spec.run {
                                Run::MultiKey(ops) => {
                                    multi_key(w, spec, sess.db(), ops, args, groups, out).await
                                }
                                Run::Txn(f) => txn(w, sess.db(), *f, spec, args, out).await,
                                _ => out.error("ERR internal routing error"),
                            }
                        };
                        crate::tracking::tagged(track, run).await;
                        let nanos = crate::stats::since(t0, crate::stats::now());
                        crate::stats::ran(w, spec, &kept, nanos, &out.buf[at..], Some(sess));
                        // Time moved while we waited on other shards.
                        w.tick_clock();
                    }
                }
            }
        }
    }
    if let Some(line) = fed {
        crate::pubsub::feed_monitors(w, sess, line);
    }
    pending.flush(w, sess, out, parser).await;
    // Keyspace events published to other threads are delivered before the replies go out.
    crate::pubsub::settle().await;
    // Under `appendfsync always`, what these commands logged is on disk before any reply.
    crate::aof::sync_always(w).await;
    if let Some(from) = silenced {
        out.truncate(from);
    }
    pending.hints = hints;
    w.commands.set(w.commands.get() + executed);
    affinity
}

/// Starts loading the keyspace memory for `keys` in database `db`, so that the lookups of a
/// pipelined batch overlap their cache misses instead of taking them one after another. Callers
/// pass the second argument of each command this shard owns: the first key of most commands,
/// and for the others a guess whose only cost is a hash and a wasted cache line.
pub(crate) fn prefetch_local<'a>(w: &Worker, db: DbIndex, keys: impl Iterator<Item = &'a Bytes>) {
    let shard = w.shard.borrow();
    if let Some(db) = shard.dbs.get(db) {
        db.prefetch(keys.map(|k| &k[..]));
    }
}

/// Locks what a cross-shard command needs on each shard (`groups` in ascending shard order).
/// Returns false only when the server is shutting down.
///
/// First one parallel round of try-locks, each granted only if nothing is queued ahead of it
/// and what it asks for is free: uncontended, that is every lock in one round trip. A try
/// never waits, so it cannot close a cycle of waits. If any shard refused, the ones granted are
/// released and the locks are taken again one shard after the other in ascending order,
/// waiting in each shard's queue (the order that makes waiting cycles impossible).
pub(crate) async fn lock_all(w: &Worker, tx: u64, groups: &[(usize, LockSet)]) -> bool {
    let mut tries = Vec::with_capacity(groups.len());
    for (s, set) in groups {
        tries.push((*s, w.send_lock(*s, tx, set.clone(), true)));
    }
    let mut granted = Vec::with_capacity(groups.len());
    for (s, rx) in tries {
        match rx.await {
            Ok(true) => granted.push(s),
            Ok(false) => {}
            Err(_) => return false,
        }
    }
    if granted.len() == groups.len() {
        return true;
    }
    for s in granted {
        w.send_unlock(s, tx);
    }
    for (s, set) in groups {
        if w.send_lock(*s, tx, set.clone(), false).await.is_err() {
            return false;
        }
    }
    true
}

/// How [`run_locked`] runs the parts of a cross-shard command.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parts {
    /// The parts only read: each may run as soon as its own lock is granted, holding it, and
    /// the results of a try that did not get every shard are thrown away.
    Read,
    /// The parts write: none runs before every lock is held.
    Write,
}

/// Runs one part per shard of a cross-shard command atomically (`parts` in ascending shard
/// order), returning the parts' results in that order, or `None` if the server is shutting
/// down. Every lock is released when it returns.
///
/// The fast paths take fewer round trips than "lock everything, then run everything" while
/// keeping two-phase locking (no lock is released before every lock is held, and a part runs
/// only under its lock):
/// - The own shard and exactly one other (every cross-shard command with two threads): the
///   own shard is try-locked first (no message), then the other shard tries, runs its part and
///   unlocks in one message: once it is granted, every lock is held, so releasing right after
///   its part is two-phase. Then the own part runs and unlocks. One message each way.
/// - `Read` over more shards: every part is a try that runs under its lock as soon as it is
///   granted, all in one parallel round, and the locks are released without waiting; if a
///   shard refused, the results are discarded (they only read).
///
/// The fallback is [`lock_all`] (a try round, then the ordered round) followed by one
/// parallel round of the parts, as docs/transactions.md describes.
pub(crate) async fn run_locked(
    w: &Worker,
    tx: TxId,
    parts: &[(usize, LockSet, PartFn)],
    how: Parts,
) -> Option<Vec<Partial>> {
    let others: Vec<usize> = (0..parts.len()).filter(|&i| parts[i].0 != w.id).collect();
    let own = parts.iter().position(|p| p.0 == w.id);
    if let [other] = others[..] {
        if own.is_none_or(|i| w.try_lock(tx, parts[i].1.clone())) {
            let (s, set, f) = &parts[other];
            let theirs = w
                .send_try_run(*s, tx, set.clone(), true, f.clone())
                .await
                .ok()?;
            match theirs {
                Some(part) => {
                    let mut mine = own.map(|i| {
                        let p = (parts[i].2)(w);
                        w.unlock(tx);
                        w.serve_ready();
                        p
                    });
                    let mut out = Vec::with_capacity(parts.len());
                    let mut theirs = Some(part);
                    for (s, _, _) in parts {
                        let p = if *s == w.id {
                            mine.take()
                        } else {
                            theirs.take()
                        };
                        out.push(p?);
                    }
                    return Some(out);
                }
                None => {
                    if own.is_some() {
                        w.unlock(tx);
                    }
                }
            }
        }
    }
    if how == Parts::Read && others.len() > 1 {
        let mut tries = Vec::with_capacity(parts.len());
        for (s, set, f) in parts {
            tries.push((*s, w.send_try_run(*s, tx, set.clone(), false, f.clone())));
        }
        let mut got = Vec::with_capacity(parts.len());
        let mut refused = false;
        for (s, rx) in tries {
            match rx.await.ok()? {
                Some(p) => got.push((s, p)),
                None => refused = true,
            }
        }
        if !refused {
            for (s, _) in &got {
                w.send_unlock(*s, tx);
            }
            return Some(got.into_iter().map(|(_, p)| p).collect());
        }
        for (s, _) in got {
            w.send_unlock(s, tx);
        }
    }
    let sets: Vec<(usize, LockSet)> = parts.iter().map(|(s, set, _)| (*s, set.clone())).collect();
    if !lock_all(w, tx, &sets).await {
        return None;
    }
    let mut waits = Vec::with_capacity(parts.len());
    for (s, _, f) in parts {
        let f = f.clone();
        waits.push(w.send_call(*s, Some(tx), true, Box::new(move |wk: &Worker| f(wk))));
    }
    let mut out = Vec::with_capacity(parts.len());
    for rx in waits {
        out.push(rx.await.ok()?);
    }
    Some(out)
}

/// Runs `parts` with every lock held; the caller releases them (with `send_unlock` on each
/// shard) once it has done what must happen while nothing else can run (logging to the AOF).
async fn run_held(
    w: &Worker,
    tx: TxId,
    parts: &[(usize, LockSet, PartFn)],
) -> Option<Vec<Partial>> {
    let sets: Vec<(usize, LockSet)> = parts.iter().map(|(s, set, _)| (*s, set.clone())).collect();
    if !lock_all(w, tx, &sets).await {
        return None;
    }
    let mut waits = Vec::with_capacity(parts.len());
    for (s, _, f) in parts {
        let f = f.clone();
        waits.push(w.send_call(*s, Some(tx), false, Box::new(move |wk: &Worker| f(wk))));
    }
    let mut out = Vec::with_capacity(parts.len());
    for rx in waits {
        out.push(rx.await.ok());
    }
    let out: Option<Vec<Partial>> = out.into_iter().collect();
    if out.is_none() {
        for (s, _, _) in parts {
            w.send_unlock(*s, tx);
        }
    }
    out
}

async fn multi_key(
    w: &Worker,
    spec: &CommandSpec,
    db: DbIndex,
    ops: &'static MultiKeyOps,
    args: Vec<Bytes>,
    groups: Vec<(usize, Vec<usize>)>,
    out: &mut Out,
) {
    let tx = w.new_tx();
    // The parts run on other threads, so they share the arguments behind an `Arc` (one
    // reference count per part, not one per argument).
    let args = Arc::new(args);
    let parts: Vec<(usize, LockSet, PartFn)> = groups
        .iter()
        .map(|(s, pos)| {
            let keys = pos.iter().map(|&p| (db, args[p].clone())).collect();
            let (a, p) = (args.clone(), pos.clone());
            let read = crate::tracking::reads(spec);
            let f: PartFn = Arc::new(move |wk: &Worker| -> Partial {
                let mut shard = wk.shard_now();
                let _cx = crate::notify::Context::enter(&a);
                crate::aof::begin(&mut shard);
                let part = (ops.per_shard)(&mut ShardCtx::new(&mut shard, db), &a, &p);
                if read {
                    crate::tracking::remember(&a, &p);
                }
                // The AOF logs this shard's keys as their new state.
                crate::aof::flush_pending(&mut shard);
                part
            });
            (*s, LockSet::Keys(keys), f)
        })
        .collect();
    let how = if spec.flags & flags::WRITE != 0 {
        Parts::Write
    } else {
        Parts::Read
    };
    let Some(results) = run_locked(w, tx, &parts, how).await else {
        return out.error(SHUTTING_DOWN);
    };
    let parts = groups
        .into_iter()
        .map(|(_, pos)| pos)
        .zip(results)
        .collect();
    (ops.merge)(&args, parts, out);
}

pub(crate) async fn txn(
    w: &Worker,
    db: DbIndex,
    f: TxnFn,
    spec: &CommandSpec,
    args: Vec<Bytes>,
    out: &mut Out,
) {
    txn_extra(w, None, db, f, spec, args, Vec::new(), out).await;
}

/// Runs a `Txn` command across shards for transaction `tx`, which already holds the locks of
/// its keys (and of the undeclared keys `extra`, or every shard whole): EXEC's cross-shard path.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn txn_held(
    w: &Worker,
    tx: TxId,
    db: DbIndex,
    f: TxnFn,
    spec: &CommandSpec,
    args: Vec<Bytes>,
    extra: NeededKeys,
    out: &mut Out,
) {
    txn_extra(w, Some(tx), db, f, spec, args, extra, out).await;
}

// ---- Undeclared keys (SORT BY/GET patterns): see docs/transactions.md. ----
/// How many times a command may ask for still more undeclared keys before it gives up.
const MAX_ROUNDS: usize = 8;

const TOO_MANY_ROUNDS: &str =
    "ERR the keys this command reads kept changing while it ran; try again";

/// Runs a `Txn` command across shards with its declared keys and the undeclared keys `extra`
/// locked and fetched. If a run asks for more undeclared keys, it wrote nothing and released
/// its locks: it runs again with those keys too, at most [`MAX_ROUNDS`] times. With `held`,
/// the caller's transaction already holds every lock it needs and keeps them.
#[allow(clippy::too_many_arguments)]
async fn txn_extra(
    w: &Worker,
    held: Option<TxId>,
    db: DbIndex,
    f: TxnFn,
    spec: &CommandSpec,
    args: Vec<Bytes>,
    mut extra: NeededKeys,
    out: &mut Out,
) {
    for _ in 0..MAX_ROUNDS {
        match txn_round(w, held, db, f, spec, &args, &extra, out).await {
            None => return,
            Some(more) => extra.extend(more),
        }
    }
    out.error(TOO_MANY_ROUNDS);
}
// ---- End of undeclared keys. ----

/// Locks the keys of a cross-shard `Txn` on every shard and checks them out there (see
/// `Db::check_out`): the entries move to this thread, per group in `groups`' order, and must
/// all go back through `txn::check_in`, whose call also unlocks. `None`: shutting down.
///
/// First one parallel round in which each shard that can grant the lock at once checks its
/// keys out under it. If any shard refused, the shards that granted get their entries back
/// unchanged and unlock (messages between two threads arrive in order, so this happens before
/// the next lock request), and the keys are locked by [`lock_all`] and checked out after.
async fn check_out_locked(
    w: &Worker,
    tx: TxId,
    groups: &[(usize, Vec<(DbIndex, Bytes)>)],
) -> Option<Vec<Vec<Option<Entry>>>> {
    fn take(ks: Vec<(DbIndex, Bytes)>) -> PartFn {
        Arc::new(move |wk: &Worker| -> Partial {
            let mut shard = wk.shard_now();
            Box::new(check_out(&mut shard, &ks))
        })
    }
    fn entries(part: Partial) -> Option<Vec<Option<Entry>>> {
        part.downcast::<Vec<Option<Entry>>>().ok().map(|b| *b)
    }
    let mut tries = Vec::with_capacity(groups.len());
    for (s, ks) in groups {
        let set = LockSet::Keys(ks.clone());
        tries.push(w.send_try_run(*s, tx, set, false, take(ks.clone())));
    }
    let mut got = Vec::with_capacity(groups.len());
    for rx in tries {
        got.push(match rx.await.ok()? {
            Some(part) => Some(entries(part)?),
            None => None,
        });
    }
    if got.iter().all(Option::is_some) {
        return Some(got.into_iter().flatten().collect());
    }
    for ((s, ks), taken) in groups.iter().zip(got) {
        if let Some(taken) = taken {
            let back: Vec<Returned> = ks
                .iter()
                .zip(taken)
                .map(|((db, key), entry)| Returned {
                    db: *db,
                    key: key.clone(),
                    existed: entry.is_some(),
                    entry,
                    changed: false,
                })
                .collect();
            let f = Box::new(move |wk: &Worker| -> Partial {
                let mut shard = wk.shard.borrow_mut();
                check_in(&mut shard, back);
                crate::aof::flush_pending(&mut shard);
                Box::new(())
            });
            // Not awaited: the lock requests below follow it on the same queue.
            drop(w.send_call(*s, Some(tx), true, f));
        }
    }
    let sets: Vec<(usize, LockSet)> = groups
        .iter()
        .map(|(s, ks)| (*s, LockSet::Keys(ks.clone())))
        .collect();
    if !lock_all(w, tx, &sets).await {
        return None;
    }
    let mut waits = Vec::with_capacity(groups.len());
    for (s, ks) in groups {
        let f = take(ks.clone());
        waits.push(w.send_call(*s, Some(tx), false, Box::new(move |wk: &Worker| f(wk))));
    }
    let mut out = Vec::with_capacity(groups.len());
    for rx in waits {
        out.push(entries(rx.await.ok()?)?);
    }
    Some(out)
}

/// Checks the keys of a cross-shard `Txn` out of their shards for transaction `tx`, which
/// holds their locks already. `None`: shutting down.
async fn check_out_held(
    w: &Worker,
    tx: TxId,
    groups: &[(usize, Vec<(DbIndex, Bytes)>)],
) -> Option<Vec<Vec<Option<Entry>>>> {
    let mut waits = Vec::with_capacity(groups.len());
    for (s, ks) in groups {
        let ks = ks.clone();
        let f = Box::new(move |wk: &Worker| -> Partial {
            let mut shard = wk.shard_now();
            Box::new(check_out(&mut shard, &ks))
        });
        waits.push(w.send_call(*s, Some(tx), false, f));
    }
    let mut out = Vec::with_capacity(groups.len());
    for rx in waits {
        out.push(*rx.await.ok()?.downcast::<Vec<Option<Entry>>>().ok()?);
    }
    Some(out)
}

/// The keys of one run of a cross-shard `Txn` command: distinct `(db, key)` pairs grouped
/// by shard (ascending), declared ones first and then the undeclared ones it asked for.
pub(crate) struct TxnPlan {
    keys: Vec<Bytes>,
    dbs: Vec<DbIndex>,
    slot_of: Vec<usize>,
    unique: Vec<(DbIndex, Bytes)>,
    extra_slots: Vec<(DbIndex, Bytes, usize)>,
    /// Per shard, the indexes in `unique` of its keys.
    groups: Vec<(usize, Vec<usize>)>,
    /// Per shard, its keys: what to lock and check out there.
    pub key_groups: Vec<(usize, Vec<(DbIndex, Bytes)>)>,
}

/// Plans a run of a `Txn` command over its declared keys and the undeclared keys `extra`;
/// `Err` is the reply (a bad key count, a database out of range).
pub(crate) fn txn_plan(
    w: &Worker,
    db: DbIndex,
    spec: &CommandSpec,
    args: &[Bytes],
    extra: &[(DbIndex, Bytes)],
) -> Result<TxnPlan, String> {
    let pos = spec.key_positions(args)?;
    let keys: Vec<Bytes> = pos.iter().map(|&p| args[p].clone()).collect();
    let dbs = spec.dbs_of_keys(args, db, keys.len())?;
    if dbs.iter().any(|&d| d >= w.shared.n_dbs) || extra.iter().any(|e| e.0 >= w.shared.n_dbs) {
        return Err(rustis_storage::OpError::DbIndexOutOfRange
            .message()
            .to_string());
    }
    // Distinct (database, key) pairs; `slot_of[i]` is key `i`'s index among them.
    let mut unique: Vec<(DbIndex, Bytes)> = Vec::new();
    let mut slot_of = Vec::with_capacity(keys.len());
    for (k, d) in keys.iter().zip(&dbs) {
        match unique.iter().position(|(ud, uk)| ud == d && uk == k) {
            Some(i) => slot_of.push(i),
            None => {
                slot_of.push(unique.len());
                unique.push((*d, k.clone()));
            }
        }
    }
    // Undeclared keys go after the declared ones; `extra_slots` says where each one is.
    let declared = unique.len();
    let mut extra_slots: Vec<(DbIndex, Bytes, usize)> = Vec::new();
    if !extra.is_empty() {
        let mut seen: hashbrown::HashMap<(DbIndex, Bytes), usize> = unique
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        for k in extra {
            let slot = *seen.entry(k.clone()).or_insert_with(|| {
                unique.push(k.clone());
                unique.len() - 1
            });
            if slot >= declared {
                extra_slots.push((k.0, k.1.clone(), slot));
            }
        }
        extra_slots.sort_by_key(|e| e.2);
        extra_slots.dedup_by_key(|e| e.2);
    }
    // Distinct keys grouped by shard, remembering each key's index in `unique`.
    let groups = by_shard(
        w.n,
        unique.iter().enumerate().map(|(i, (_, k))| (i, &k[..])),
    );
    let key_groups = groups
        .iter()
        .map(|(s, idx)| (*s, idx.iter().map(|&i| unique[i].clone()).collect()))
        .collect();
    Ok(TxnPlan {
        keys,
        dbs,
        slot_of,
        unique,
        extra_slots,
        groups,
        key_groups,
    })
}

/// Runs a planned `Txn` command on the entries checked out of every shard (`taken`, in
/// `key_groups`' order) and returns, per shard, what goes back there, and the undeclared
/// keys it asked for and could not see (then it wrote nothing and changed nothing).
pub(crate) fn txn_run(
    w: &Worker,
    plan: TxnPlan,
    taken: Vec<Vec<Option<Entry>>>,
    f: TxnFn,
    args: &[Bytes],
    out: &mut Out,
) -> (Vec<(usize, Vec<Returned>)>, NeededKeys) {
    let TxnPlan {
        keys,
        dbs,
        slot_of,
        unique,
        extra_slots,
        groups,
        ..
    } = plan;
    let mut entries: Vec<Option<Entry>> = (0..unique.len()).map(|_| None).collect();
    for ((_, idx), got) in groups.iter().zip(taken) {
        for (&i, e) in idx.iter().zip(got) {
            entries[i] = e;
        }
    }
    let existed: Vec<bool> = entries.iter().map(Option::is_some).collect();
    let (rng, config, now) = {
        let mut shard = w.shard.borrow_mut();
        let rng = rand::rngs::SmallRng::from_rng(&mut shard.rng)
            .unwrap_or_else(|_| rand::rngs::SmallRng::seed_from_u64(0));
        (rng, shard.config.clone(), w.shared.clock.now_ms())
    };
    let mut view =
        FetchedKeys::new(keys, dbs, slot_of, entries, now, rng, config).with_extra(extra_slots);
    let start = out.buf.len();
    f(&mut view, args, out);
    let more = view.take_needed();
    if !more.is_empty() {
        // It stopped before changing anything: drop what it wrote.
        out.truncate(start);
    }
    // Every key moves back to the shard that owns it, nothing copied: a changed one through
    // the write path, the others as they were.
    let mut back: Vec<(usize, Vec<Returned>)> =
        groups.iter().map(|(s, _)| (*s, Vec::new())).collect();
    for (i, (entry, changed)) in view.into_entries().into_iter().enumerate() {
        if let Some(g) = groups.iter().position(|(_, idx)| idx.contains(&i)) {
            back[g].1.push(Returned {
                db: unique[i].0,
                key: unique[i].1.clone(),
                entry,
                changed: changed && more.is_empty(),
                existed: existed[i],
            });
        }
    }
    (back, more)
}

/// One run of a `Txn` command across shards. Returns the undeclared keys it asked for and could
/// not see, if any: it then wrote nothing and its locks are released (with `held`, the
/// caller's transaction keeps its locks either way).
#[allow(clippy::too_many_arguments)]
async fn txn_round(
    w: &Worker,
    held: Option<TxId>,
    db: DbIndex,
    f: TxnFn,
    spec: &CommandSpec,
    args: &[Bytes],
    extra: &[(DbIndex, Bytes)],
    out: &mut Out,
) -> Option<NeededKeys> {
    let plan = match txn_plan(w, db, spec, args, extra) {
        Ok(p) => p,
        Err(e) => {
            out.error(&e);
            return None;
        }
    };
    let tx = held.unwrap_or_else(|| w.new_tx());
    let taken = match held {
        None => check_out_locked(w, tx, &plan.key_groups).await,
        Some(tx) => check_out_held(w, tx, &plan.key_groups).await,
    };
    let Some(taken) = taken else {
        out.error(SHUTTING_DOWN);
        return None;
    };
    let (back, more) = txn_run(w, plan, taken, f, args, out);
    // The last call on each shard unlocks it (unless the caller holds the locks).
    let mut waits = Vec::new();
    // Keyspace notifications name the command that changed a key.
    let named = crate::notify::command_for_parts(w, args);
    for (s, mine) in back {
        let named = named.clone();
        let f = Box::new(move |wk: &Worker| -> Partial {
            let _cx = named.as_deref().map(|a| crate::notify::Context::enter(a));
            let mut shard = wk.shard.borrow_mut();
            crate::aof::begin(&mut shard);
            check_in(&mut shard, mine);
            // The AOF logs the keys written back as their new state.
            crate::aof::flush_pending(&mut shard);
            Box::new(())
        });
        waits.push(w.send_call(s, Some(tx), held.is_none(), f));
    }
    for rx in waits {
        let _ = rx.await;
    }
    if !more.is_empty() {
        return Some(more);
    }
    None
}

/// Runs an all-shard command: it locks every shard whole (through the same queues and in the
/// same order as key locks), so it is atomic with respect to every multi-key command, and to
/// the other all-shard commands.
async fn fanout(
    w: &Worker,
    spec: &CommandSpec,
    db: DbIndex,
    ops: &'static FanoutOps,
    args: &[Bytes],
    out: &mut Out,
) {
    if w.n == 1 {
        // One shard: nothing can run between the part and the merge.
        let part = {
            let mut shard = w.shard.borrow_mut();
            crate::aof::begin(&mut shard);
            let part = (ops.per_shard)(&mut ShardCtx::new(&mut shard, db), args);
            crate::aof::log_fanout(None, spec, db, args);
            part
        };
        w.serve_ready();
        return (ops.merge)(args, vec![part], out);
    }
    let a: Arc<Vec<Bytes>> = Arc::new(args.to_vec());
    let f: PartFn = Arc::new(move |wk: &Worker| -> Partial {
        let mut shard = wk.shard_now();
        crate::aof::begin(&mut shard);
        (ops.per_shard)(&mut ShardCtx::new(&mut shard, db), &a)
    });
    let parts: Vec<(usize, LockSet, PartFn)> =
        (0..w.n).map(|s| (s, LockSet::All, f.clone())).collect();
    let how = if spec.flags & flags::WRITE != 0 {
        Parts::Write
    } else {
        Parts::Read
    };
    if how == Parts::Write
        && w.shared
            .aof
            .enabled
            .load(std::sync::atomic::Ordering::Relaxed)
    {
        // The command is logged once, after every part ran and before any shard is
        // released, so that every write logged before it ran before it on every shard, and
        // every write logged after it ran after it.
        let tx = w.new_tx();
        return match run_held(w, tx, &parts).await {
            Some(results) => {
                crate::aof::log_fanout(None, spec, db, args);
                for (s, _, _) in &parts {
                    w.send_unlock(*s, tx);
                }
                (ops.merge)(args, results, out)
            }
            None => out.error(SHUTTING_DOWN),
        };
    }
    match run_locked(w, w.new_tx(), &parts, how).await {
        Some(results) => (ops.merge)(args, results, out),
        None => out.error(SHUTTING_DOWN),
    }
}

/// Runs `f` on every thread and collects the results in thread order (INFO, CLIENT LIST).
pub(crate) async fn on_every_thread<T: Send + 'static>(
    w: &Worker,
    f: fn(&Worker) -> T,
) -> Option<Vec<T>> {
    let mut waits = Vec::with_capacity(w.n);
    for s in 0..w.n {
        let call = Box::new(move |wk: &Worker| -> Partial { Box::new(f(wk)) });
        waits.push(w.send_call(s, None, false, call));
    }
    let mut all = Vec::with_capacity(w.n);
    for rx in waits {
        let part = rx.await.ok()?;
        all.push(*part.downcast::<T>().ok()?);
    }
    Some(all)
}

/// Output buffers above this are released after a write instead of being kept for reuse.
pub(crate) const KEEP_BUFFER: usize = 1024 * 1024;

/// Shrinks a buffer that a large request or reply grew.
pub(crate) fn trim(buf: &mut BytesMut) {
    if buf.is_empty() && buf.capacity() > KEEP_BUFFER {
        *buf = BytesMut::new();
    }
}
