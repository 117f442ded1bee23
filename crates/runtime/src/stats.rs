//! Per-command statistics: calls, time, rejections and failures of every command and
//! subcommand (INFO commandstats), error replies by code (INFO errorstats), latency histograms
//! (INFO latencystats, LATENCY HISTOGRAM) and the slow log (SLOWLOG).
//!
//! Every figure is counted on one thread, in a thread-local record that no other thread reads:
//! an array indexed by `CommandSpec::id`, so counting a command is a few additions with no lock
//! and no shared cache line. A reader (INFO, SLOWLOG GET, LATENCY HISTOGRAM) asks every thread
//! for a copy of its record with `dispatch::on_every_thread` and adds them up; no thread stops
//! for longer than its copy takes.
//!
//! A command is counted once, on the thread of the connection that sent it (where its reply is
//! put in order): a command run on another shard brings its run time back with its reply (see
//! `worker::BatchReply::nanos`). Commands queued in MULTI are counted when EXEC runs them, and
//! the commands a script calls when it calls them, as Redis does. The settings read on every
//! command (`slowlog-log-slower-than`, `slowlog-max-len`, `latency-tracking`) are copied into
//! atomics at startup and on CONFIG SET.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{LazyLock, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hdrhistogram::Histogram;
use rustis_commands::registry::{flags, ConnCmd, Run};
use rustis_commands::CommandSpec;

use crate::config::Config;
use crate::dispatch::{on_every_thread, REGISTRY};
use crate::session::Session;
use crate::worker::Worker;

/// The figures of one command: what INFO commandstats shows.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Figures {
    /// Times it ran (failed runs included, rejected ones not).
    pub calls: u64,
    /// Time spent running it, in nanoseconds.
    pub nanos: u64,
    /// Times it was refused before running (arity, a refused EXEC's queue, BUSY, ...).
    pub rejected: u64,
    /// Times it ran and replied with an error.
    pub failed: u64,
}

/// One slow log entry, as SLOWLOG GET shows it.
#[derive(Clone, Debug)]
pub(crate) struct SlowEntry {
    pub id: u64,
    pub time: i64,
    pub micros: u64,
    pub argv: Vec<Bytes>,
    pub peer: String,
    pub name: Bytes,
}

/// What one thread counted, or the sum over every thread.
#[derive(Clone, Default)]
pub struct Snapshot {
    /// By `CommandSpec::id`.
    pub commands: Vec<Figures>,
    /// Latency histograms (nanoseconds) by `CommandSpec::id`, for commands that ran while
    /// `latency-tracking` was on.
    pub histograms: Vec<Option<Box<Histogram<u64>>>>,
    /// Error replies by their code (the first word: `ERR`, `WRONGTYPE`, ...).
    pub errors: BTreeMap<String, u64>,
    /// Every error reply sent.
    pub error_replies: u64,
}

struct Local {
    snap: Snapshot,
    /// Newest first.
    slowlog: VecDeque<SlowEntry>,
}

thread_local! {
    /// The start of the last error reply a script's call got on this thread: a script that
    /// fails with that error was counted by its call already (Redis does not count it twice).
    static SCRIPT_CALL_ERROR: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static LOCAL: RefCell<Local> = RefCell::new(Local {
        snap: Snapshot::empty(),
        slowlog: VecDeque::new(),
    });
}

/// Slow log ids, one sequence for the process (so also for the server).
static SLOW_IDS: AtomicU64 = AtomicU64::new(0);

/// The settings read on every command, copied out of the config at startup and on CONFIG
/// SET (`Shared::load_hot_settings`), so a command reads atomics rather than the config lock.
pub(crate) struct Settings {
    /// `slowlog-log-slower-than`, in microseconds (negative: the slow log is off).
    slower_than_us: AtomicI64,
    slow_max_len: AtomicUsize,
    tracking: AtomicBool,
    percentiles: RwLock<Vec<f64>>,
    /// `latency-monitor-threshold`, in milliseconds (0: off).
    pub(crate) latency_threshold_ms: AtomicU64,
}

impl Default for Settings {
    fn default() -> Self {
        // A server's settings are made once at its start: calibrate the clock then.
        init_clock();
        Settings {
            slower_than_us: AtomicI64::new(10_000),
            slow_max_len: AtomicUsize::new(128),
            tracking: AtomicBool::new(true),
            percentiles: RwLock::new(vec![50.0, 99.0, 99.9]),
            latency_threshold_ms: AtomicU64::new(0),
        }
    }
}

impl Settings {
    /// Copies the settings out of `cfg`.
    pub(crate) fn load(&self, cfg: &Config) {
        self.slower_than_us
            .store(cfg.get_i64("slowlog-log-slower-than"), Ordering::Relaxed);
        self.slow_max_len.store(
            cfg.get_i64("slowlog-max-len").max(0) as usize,
            Ordering::Relaxed,
        );
        self.tracking
            .store(cfg.get("latency-tracking") != Some("no"), Ordering::Relaxed);
        let pcts = parse_percentiles(cfg.get("latency-tracking-info-percentiles").unwrap_or(""))
            .unwrap_or_default();
        *self.percentiles.write().unwrap_or_else(|e| e.into_inner()) = pcts;
        self.latency_threshold_ms.store(
            cfg.get_i64("latency-monitor-threshold").max(0) as u64,
            Ordering::Relaxed,
        );
    }

    fn percentiles(&self) -> Vec<f64> {
        self.percentiles
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Redis's histogram range: 1 ns to 1 s, two significant digits.
const HIST_MAX: u64 = 1_000_000_000;
/// Redis keeps at most this many arguments of a slow command, and this many bytes of each.
const SLOW_MAX_ARGC: usize = 32;
const SLOW_MAX_STRING: usize = 128;

impl Snapshot {
    fn empty() -> Snapshot {
        let n = REGISTRY.count();
        Snapshot {
            commands: vec![Figures::default(); n],
            histograms: (0..n).map(|_| None).collect(),
            errors: BTreeMap::new(),
            error_replies: 0,
        }
    }

    /// Adds `other`'s figures to these.
    fn add(&mut self, other: &Snapshot) {
        for (a, b) in self.commands.iter_mut().zip(&other.commands) {
            a.calls += b.calls;
            a.nanos += b.nanos;
            a.rejected += b.rejected;
            a.failed += b.failed;
        }
        for (a, b) in self.histograms.iter_mut().zip(&other.histograms) {
            match (a.as_mut(), b) {
                (_, None) => {}
                (None, Some(b)) => *a = Some(b.clone()),
                (Some(a), Some(b)) => {
                    let _ = a.add(&**b);
                }
            }
        }
        for (code, n) in &other.errors {
            *self.errors.entry(code.clone()).or_insert(0) += n;
        }
        self.error_replies += other.error_replies;
    }

    /// Commands run, over every command: INFO's `total_commands_processed`.
    pub fn total_calls(&self) -> u64 {
        self.commands.iter().map(|f| f.calls).sum()
    }

    /// Every command (subcommands after their container) with its figures, in name order.
    pub fn by_name(&self) -> Vec<(&'static CommandSpec, Figures)> {
        let mut all = Vec::new();
        for spec in REGISTRY.iter() {
            all.push((spec, self.commands[spec.id]));
            for sub in &spec.subcommands {
                all.push((sub, self.commands[sub.id]));
            }
        }
        all
    }
}

/// Parses `latency-tracking-info-percentiles`: numbers from 0 to 100, space separated (an
/// empty value is none). The error is Redis's text.
pub(crate) fn parse_percentiles(value: &str) -> Result<Vec<f64>, &'static str> {
    let mut all = Vec::new();
    for word in value.split_whitespace() {
        let p = rustis_commands::args::parse_f64(word.as_bytes())
            .map_err(|_| "Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&p) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
            );
        }
        all.push(p);
    }
    Ok(all)
}

/// A double as Redis's `%f` followed by `trimDoubleString` writes it: `99.9`, `50`.
pub(crate) fn trim_double(v: f64) -> String {
    let mut s = format!("{v:.6}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}

/// The entry whose figures a call of `spec` with `args` counts toward: a container's
/// subcommand, else the command itself.
#[inline]
fn real<'a>(spec: &'a CommandSpec, args: &[Bytes]) -> &'a CommandSpec {
    if spec.subcommands.is_empty() {
        spec
    } else {
        spec.resolve(args).unwrap_or(spec)
    }
}

/// The error code of an error reply line (`-WRONGTYPE ...` gives `WRONGTYPE`), as Redis takes
/// it: the first word when a space comes within the first 32 bytes, else `ERR`.
fn error_code(reply: &[u8]) -> &str {
    let head = &reply[..reply.len().min(32)];
    match memchr::memchr(b' ', head) {
        Some(i) if i > 1 => std::str::from_utf8(&reply[1..i]).unwrap_or("ERR"),
        _ => "ERR",
    }
}

fn count_error(snap: &mut Snapshot, reply: &[u8]) {
    snap.error_replies += 1;
    let code = error_code(reply);
    match snap.errors.get_mut(code) {
        Some(n) => *n += 1,
        None => {
            snap.errors.insert(code.to_string(), 1);
        }
    }
}

/// A command ran for `nanos` and wrote `reply`: counts it, and logs it if it was slow.
/// `client`: the connection that sent it, for the slow log (`None` in a script's calls made
/// on behalf of a connection elsewhere).
#[inline]
pub(crate) fn ran(
    w: &Worker,
    spec: &CommandSpec,
    args: &[Bytes],
    nanos: u64,
    reply: &[u8],
    client: Option<&Session>,
) {
    let cmd = real(spec, args);
    if cmd.id >= REGISTRY.count() {
        return;
    }
    let failed = reply.first() == Some(&b'-');
    let counted_by_call = failed
        && matches!(cmd.run, Run::Conn(ConnCmd::Script(_)))
        && SCRIPT_CALL_ERROR.with(|e| {
            let e = std::mem::take(&mut *e.borrow_mut());
            let line = e.split(|&b| b == b'\r').next().unwrap_or(&[]);
            !line.is_empty() && reply.starts_with(line)
        });
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        let snap = &mut l.snap;
        let f = &mut snap.commands[cmd.id];
        f.calls += 1;
        f.nanos += nanos;
        if failed {
            f.failed += 1;
            if !counted_by_call {
                count_error(snap, reply);
            }
        }
        if w.shared.stats.tracking.load(Ordering::Relaxed) {
            record_latency(&mut snap.histograms[cmd.id], nanos);
        }
    });
    let set = &w.shared.stats;
    let micros = nanos / 1000;
    let slower = set.slower_than_us.load(Ordering::Relaxed);
    if slower >= 0 && micros >= slower as u64 && cmd.flags & flags::SKIP_SLOWLOG == 0 {
        log_slow(
            set.slow_max_len.load(Ordering::Relaxed),
            args,
            micros,
            client,
        );
    }
    let threshold = set.latency_threshold_ms.load(Ordering::Relaxed);
    if threshold != 0 && micros / 1000 >= threshold {
        crate::latency::add_sample(cmd.flags & flags::FAST != 0, micros / 1000);
    }
}

fn record_latency(h: &mut Option<Box<Histogram<u64>>>, nanos: u64) {
    if h.is_none() {
        *h = Histogram::new_with_bounds(1, HIST_MAX, 2)
            .ok()
            .map(Box::new);
    }
    if let Some(h) = h {
        h.saturating_record(nanos.clamp(1, HIST_MAX));
    }
}

/// A script's call got the error reply starting with `head` (see `SCRIPT_CALL_ERROR`).
pub(crate) fn script_call_failed(head: &[u8]) {
    SCRIPT_CALL_ERROR.with(|e| {
        let mut e = e.borrow_mut();
        e.clear();
        e.extend_from_slice(head);
    });
}

/// A command was refused before it ran, with the error `reply`.
pub(crate) fn rejected(spec: &CommandSpec, args: &[Bytes], reply: &[u8]) {
    let cmd = real(spec, args);
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        if cmd.id < REGISTRY.count() {
            l.snap.commands[cmd.id].rejected += 1;
        }
        if reply.first() == Some(&b'-') {
            count_error(&mut l.snap, reply);
        }
    });
}

/// An error reply that belongs to no command (an unknown command or subcommand).
pub(crate) fn error_reply(reply: &[u8]) {
    if reply.first() == Some(&b'-') {
        LOCAL.with(|l| count_error(&mut l.borrow_mut().snap, reply));
    }
}

/// A clock reading for timing commands: one per command on the hot path, so it must be
/// cheap. Where the CPU's time stamp counter runs at a constant rate and never stops
/// (`constant_tsc` and `nonstop_tsc`, the condition Redis's monotonic clock checks before
/// using it), a reading is the counter itself (`rdtsc`, a few nanoseconds, where a
/// `clock_gettime` can cost over a hundred in a virtual machine); elsewhere it is nanoseconds
/// since the process's first reading. Readings are only compared on the thread that took them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stamp(u64);

/// Nanoseconds per counter tick when the counter is used, measured once.
static TSC_NS_PER_TICK: LazyLock<Option<f64>> = LazyLock::new(calibrate_tsc);
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

#[cfg(target_arch = "x86_64")]
fn calibrate_tsc() -> Option<f64> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let flags = cpuinfo.lines().find(|l| l.starts_with("flags"))?;
    let has = |f: &str| flags.split_whitespace().any(|w| w == f);
    if !(has("constant_tsc") && has("nonstop_tsc")) {
        return None;
    }
    // SAFETY: `rdtsc` has no preconditions on x86_64.
    let read = || unsafe { core::arch::x86_64::_rdtsc() };
    let (t0, c0) = (Instant::now(), read());
    while t0.elapsed() < std::time::Duration::from_millis(5) {
        std::hint::spin_loop();
    }
    let (ns, ticks) = (t0.elapsed().as_nanos() as f64, read().wrapping_sub(c0));
    (ticks > 0).then(|| ns / ticks as f64)
}

#[cfg(not(target_arch = "x86_64"))]
fn calibrate_tsc() -> Option<f64> {
    None
}

/// Takes the calibration (5 ms, once per process) before the first command needs it.
pub(crate) fn init_clock() {
    LazyLock::force(&TSC_NS_PER_TICK);
    LazyLock::force(&EPOCH);
}

/// A clock reading (see [`Stamp`]).
#[inline]
pub(crate) fn now() -> Stamp {
    #[cfg(target_arch = "x86_64")]
    if TSC_NS_PER_TICK.is_some() {
        // SAFETY: `rdtsc` has no preconditions on x86_64.
        return Stamp(unsafe { core::arch::x86_64::_rdtsc() });
    }
    Stamp(EPOCH.elapsed().as_nanos() as u64)
}

/// The nanoseconds from `start` to `end`.
#[inline]
pub(crate) fn since(start: Stamp, end: Stamp) -> u64 {
    let d = end.0.saturating_sub(start.0);
    match *TSC_NS_PER_TICK {
        Some(k) => (d as f64 * k) as u64,
        None => d,
    }
}

fn log_slow(max_len: usize, args: &[Bytes], micros: u64, client: Option<&Session>) {
    if max_len == 0 {
        return;
    }
    let mut argv: Vec<Bytes> = Vec::with_capacity(args.len().min(SLOW_MAX_ARGC));
    let hidden = redacted(args);
    for (j, a) in args.iter().enumerate() {
        if j == SLOW_MAX_ARGC - 1 && args.len() > SLOW_MAX_ARGC {
            argv.push(Bytes::from(format!(
                "... ({} more arguments)",
                args.len() - SLOW_MAX_ARGC + 1
            )));
            break;
        }
        if hidden.contains(&j) {
            argv.push(Bytes::from_static(b"(redacted)"));
            continue;
        }
        if a.len() > SLOW_MAX_STRING {
            let mut s = a[..SLOW_MAX_STRING].to_vec();
            let _ = write!(
                Utf8Sink(&mut s),
                "... ({} more bytes)",
                a.len() - SLOW_MAX_STRING
            );
            argv.push(Bytes::from(s));
        } else {
            // A copy, not a slice: a slice would pin the whole read buffer it came from.
            argv.push(Bytes::copy_from_slice(a));
        }
    }
    let entry = SlowEntry {
        id: SLOW_IDS.fetch_add(1, Ordering::Relaxed),
        time: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
        micros,
        argv,
        peer: client.map(|c| c.addr.to_string()).unwrap_or_default(),
        name: client.map_or_else(Bytes::new, |c| Bytes::from(c.name.borrow().clone())),
    };
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        l.slowlog.push_front(entry);
        l.slowlog.truncate(max_len);
    });
}

/// The positions of `args` that the slow log hides, as Redis redacts them: passwords and ACL
/// rules (AUTH, HELLO ... AUTH, ACL SETUSER, CONFIG SET of `masterauth`/`requirepass`,
/// MIGRATE ... AUTH/AUTH2).
fn redacted(args: &[Bytes]) -> Vec<usize> {
    let is = |i: usize, w: &str| {
        args.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(w.as_bytes()))
    };
    let mut hide = Vec::new();
    if is(0, "auth") || (is(0, "acl") && is(1, "setuser")) {
        let from = if is(0, "auth") { 1 } else { 2 };
        hide.extend(from..args.len());
    } else if is(0, "hello") {
        if let Some(i) = (2..args.len()).find(|&i| is(i, "auth")) {
            hide.extend([i + 1, i + 2]);
        }
    } else if is(0, "config") && is(1, "set") {
        for i in (2..args.len()).step_by(2) {
            if is(i, "masterauth") || is(i, "requirepass") {
                hide.push(i + 1);
            }
        }
    } else if is(0, "migrate") {
        for i in 6..args.len() {
            if is(i, "auth") {
                hide.push(i + 1);
            } else if is(i, "auth2") {
                hide.extend([i + 1, i + 2]);
            }
        }
    }
    hide
}

struct Utf8Sink<'a>(&'a mut Vec<u8>);
impl std::fmt::Write for Utf8Sink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Forgets this thread's figures (CONFIG RESETSTAT). The slow log stays, as in Redis.
pub(crate) fn reset_local() {
    LOCAL.with(|l| l.borrow_mut().snap = Snapshot::empty());
}

fn local_copy(_: &Worker) -> Snapshot {
    LOCAL.with(|l| l.borrow().snap.clone())
}

/// Every thread's figures, summed. `None` while the server shuts down.
pub async fn snapshot(w: &Worker) -> Option<Snapshot> {
    let all = on_every_thread(w, local_copy).await?;
    let mut sum = Snapshot::empty();
    for s in &all {
        sum.add(s);
    }
    Some(sum)
}

/// Writes INFO's `commandstats`, `errorstats` and `latencystats` sections, those asked for.
pub(crate) fn write_sections(
    w: &Worker,
    snap: &Snapshot,
    s: &mut String,
    (cmd, err, lat): (bool, bool, bool),
) {
    if cmd {
        s.push_str("# Commandstats\r\n");
        for (spec, f) in snap.by_name() {
            if f.calls == 0 && f.rejected == 0 && f.failed == 0 {
                continue;
            }
            let usec = f.nanos / 1000;
            let per = if f.calls == 0 {
                0.0
            } else {
                usec as f64 / f.calls as f64
            };
            let _ = write!(
                s,
                "cmdstat_{}:calls={},usec={usec},usec_per_call={per:.2},rejected_calls={},failed_calls={}\r\n",
                spec.name, f.calls, f.rejected, f.failed
            );
        }
        s.push_str("\r\n");
    }
    if err {
        s.push_str("# Errorstats\r\n");
        for (code, n) in &snap.errors {
            let _ = write!(s, "errorstat_{code}:count={n}\r\n");
        }
        s.push_str("\r\n");
    }
    if lat {
        s.push_str("# Latencystats\r\n");
        let pcts = w.shared.stats.percentiles();
        for (spec, _) in snap.by_name() {
            let Some(h) = &snap.histograms[spec.id] else {
                continue;
            };
            if h.is_empty() {
                continue;
            }
            let _ = write!(s, "latency_percentiles_usec_{}:", spec.name);
            for (j, p) in pcts.iter().enumerate() {
                if j > 0 {
                    s.push(',');
                }
                let _ = write!(
                    s,
                    "p{}={:.3}",
                    trim_double(*p),
                    h.value_at_percentile(*p) as f64 / 1000.0
                );
            }
            s.push_str("\r\n");
        }
        s.push_str("\r\n");
    }
}

fn slowlog_copy(_: &Worker) -> Vec<SlowEntry> {
    LOCAL.with(|l| l.borrow().slowlog.iter().cloned().collect())
}

fn slowlog_reset(_: &Worker) {
    LOCAL.with(|l| l.borrow_mut().slowlog.clear());
}

/// The slow log across every thread, newest first, at most `slowlog-max-len` entries.
pub(crate) async fn slowlog(w: &Worker) -> Option<Vec<SlowEntry>> {
    let mut all: Vec<SlowEntry> = on_every_thread(w, slowlog_copy)
        .await?
        .into_iter()
        .flatten()
        .collect();
    all.sort_by_key(|e| std::cmp::Reverse(e.id));
    all.truncate(w.shared.stats.slow_max_len.load(Ordering::Relaxed));
    Some(all)
}

/// Empties the slow log on every thread.
pub(crate) async fn slowlog_clear(w: &Worker) -> bool {
    on_every_thread(w, slowlog_reset).await.is_some()
}

/// Redis's reply to a known container's subcommand it cannot parse.
pub(crate) fn subcommand_syntax_error(args: &[Bytes]) -> String {
    let sub = String::from_utf8_lossy(&args[1]);
    let sub: String = sub.chars().take(128).collect();
    format!(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {} HELP.",
        String::from_utf8_lossy(&args[0]).to_uppercase()
    )
}

/// SLOWLOG GET [count] | LEN | RESET | HELP
pub(crate) async fn slowlog_command(w: &Worker, args: &[Bytes], out: &mut rustis_commands::Out) {
    const GONE: &str = "ERR server is shutting down";
    let sub = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
    match (sub.as_str(), args.len()) {
        ("help", 2) => crate::admin::help(
            out,
            "SLOWLOG",
            &[
                "GET [<count>]",
                "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                "    Entries are made of:",
                "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                "    client name",
                "LEN",
                "    Return the length of the slowlog.",
                "RESET",
                "    Reset the slowlog.",
            ],
        ),
        ("reset", 2) => {
            if slowlog_clear(w).await {
                out.ok();
            } else {
                out.error(GONE);
            }
        }
        ("len", 2) => match slowlog(w).await {
            Some(all) => out.int(all.len() as i64),
            None => out.error(GONE),
        },
        ("get", 2 | 3) => {
            let mut count = 10usize;
            if let Some(arg) = args.get(2) {
                match rustis_commands::args::parse_i64(arg) {
                    Ok(-1) => count = usize::MAX,
                    Ok(n) if n >= 0 => count = n as usize,
                    _ => return out.error("ERR count should be greater than or equal to -1"),
                }
            }
            let Some(all) = slowlog(w).await else {
                return out.error(GONE);
            };
            let sent = all.len().min(count);
            out.array(sent);
            for e in all.iter().take(sent) {
                out.array(6);
                out.int(e.id as i64);
                out.int(e.time);
                out.int(e.micros as i64);
                out.array(e.argv.len());
                for a in &e.argv {
                    out.bulk(a);
                }
                out.bulk(e.peer.as_bytes());
                out.bulk(&e.name);
            }
        }
        _ => out.error(&subcommand_syntax_error(args)),
    }
}

/// The latency histograms of every command that has one, summed over the threads, by name.
pub(crate) fn histograms(snap: &Snapshot) -> Vec<(&'static CommandSpec, &Histogram<u64>)> {
    snap.by_name()
        .into_iter()
        .filter_map(|(spec, _)| {
            snap.histograms[spec.id]
                .as_deref()
                .filter(|h| !h.is_empty())
                .map(|h| (spec, h))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_clock_measures_nanoseconds() {
        // An interval of 50 ms measured by both clocks (spun, not slept: the interval is
        // the thing measured).
        let (a, t) = (now(), Instant::now());
        while t.elapsed() < std::time::Duration::from_millis(50) {
            std::hint::spin_loop();
        }
        let (b, real) = (now(), t.elapsed().as_nanos() as u64);
        let measured = since(a, b);
        assert!(measured.abs_diff(real) < real / 10, "{measured} vs {real}");
    }

    #[test]
    fn error_codes_are_the_first_word() {
        assert_eq!(error_code(b"-WRONGTYPE Operation against"), "WRONGTYPE");
        assert_eq!(error_code(b"-ERR unknown command"), "ERR");
        assert_eq!(error_code(b"-NOSCRIPT No matching script"), "NOSCRIPT");
        assert_eq!(
            error_code(b"-ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ x"),
            "ERR"
        );
        assert_eq!(error_code(b"-OOPS\r\n"), "ERR");
    }

    #[test]
    fn passwords_are_redacted_as_redis_does() {
        let args = |v: &[&str]| {
            v.iter()
                .map(|a| Bytes::from(a.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(redacted(&args(&["AUTH", "u", "p"])), [1, 2]);
        assert_eq!(
            redacted(&args(&["acl", "SETUSER", "u", "on", ">p"])),
            [2, 3, 4]
        );
        assert_eq!(redacted(&args(&["HELLO", "3", "AUTH", "u", "p"])), [3, 4]);
        assert_eq!(
            redacted(&args(&[
                "config",
                "set",
                "maxmemory",
                "1",
                "masterauth",
                "x"
            ])),
            [5]
        );
        assert_eq!(
            redacted(&args(&[
                "migrate", "h", "1", "k", "0", "5", "AUTH2", "u", "p"
            ])),
            [7, 8]
        );
        assert!(redacted(&args(&["SET", "auth", "x"])).is_empty());
    }

    #[test]
    fn percentiles_parse_and_print_as_redis() {
        assert_eq!(parse_percentiles("50 99 99.9"), Ok(vec![50.0, 99.0, 99.9]));
        assert_eq!(parse_percentiles(""), Ok(vec![]));
        assert!(parse_percentiles("10 a").is_err());
        assert!(parse_percentiles("101").is_err());
        assert_eq!(trim_double(99.9), "99.9");
        assert_eq!(trim_double(50.0), "50");
        assert_eq!(trim_double(0.0), "0");
    }
}
