//! The latency monitor (LATENCY LATEST, HISTORY, RESET, GRAPH, DOCTOR) and LATENCY HISTOGRAM.
//!
//! While `latency-monitor-threshold` is above zero, a command that ran at least that many
//! milliseconds adds a sample to the event `command` (or `fast-command` for a command flagged
//! fast), as Redis does. Samples are kept per thread, in the same shape as Redis's: for each
//! event, the last 160 seconds that had a sample, one sample per second (the largest), and the
//! largest ever. A reader merges the threads' series: per second the largest sample, the
//! latest 160 seconds, the largest maximum. Nothing is shared while commands run: a sample
//! is recorded on the thread where the command was counted (see `stats`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use rustis_commands::Out;

use crate::dispatch::{on_every_thread, REGISTRY};
use crate::worker::Worker;

/// Redis keeps this many samples per event.
const TS_LEN: usize = 160;

/// One event's samples: `(unix seconds, milliseconds)`, oldest first, and its maximum.
#[derive(Clone, Default, Debug)]
pub(crate) struct Series {
    samples: Vec<(i64, u64)>,
    max: u64,
}

thread_local! {
    static EVENTS: RefCell<BTreeMap<&'static str, Series>> = const { RefCell::new(BTreeMap::new()) };
}

/// A command ran for `ms` milliseconds, at least `latency-monitor-threshold`: a sample for
/// the event `fast-command` or `command`.
pub(crate) fn add_sample(fast: bool, ms: u64) {
    add_event(if fast { "fast-command" } else { "command" }, ms);
}

/// A sample of `ms` milliseconds for `event`, if the monitor is on and it reached the
/// threshold (the active expiry cycle's `expire-cycle`).
pub(crate) fn event_if_needed(w: &crate::worker::Worker, event: &'static str, ms: u64) {
    let threshold = w
        .shared
        .stats
        .latency_threshold_ms
        .load(std::sync::atomic::Ordering::Relaxed);
    if threshold != 0 && ms >= threshold {
        add_event(event, ms);
    }
}

fn add_event(event: &'static str, ms: u64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    EVENTS.with(|e| {
        let mut e = e.borrow_mut();
        let s = e.entry(event).or_default();
        s.max = s.max.max(ms);
        match s.samples.last_mut() {
            Some(last) if last.0 == now => last.1 = last.1.max(ms),
            _ => {
                s.samples.push((now, ms));
                if s.samples.len() > TS_LEN {
                    s.samples.remove(0);
                }
            }
        }
    });
}

fn local_copy(_: &Worker) -> Vec<(&'static str, Series)> {
    EVENTS.with(|e| e.borrow().iter().map(|(k, v)| (*k, v.clone())).collect())
}

/// Every thread's series merged, by event name.
async fn merged(w: &Worker) -> Option<BTreeMap<&'static str, Series>> {
    let mut all: BTreeMap<&'static str, Series> = BTreeMap::new();
    for thread in on_every_thread(w, local_copy).await? {
        for (name, s) in thread {
            let m = all.entry(name).or_default();
            m.max = m.max.max(s.max);
            m.samples.extend(s.samples);
        }
    }
    for s in all.values_mut() {
        s.samples.sort_unstable();
        // One sample per second, the largest (sorted, so the last of each second).
        let mut per_second: Vec<(i64, u64)> = Vec::with_capacity(s.samples.len());
        for (t, ms) in s.samples.drain(..) {
            match per_second.last_mut() {
                Some(last) if last.0 == t => last.1 = last.1.max(ms),
                _ => per_second.push((t, ms)),
            }
        }
        let skip = per_second.len().saturating_sub(TS_LEN);
        s.samples = per_second.split_off(skip);
    }
    Some(all)
}

/// Forgets the events named (all when `names` is empty) on this thread; returns how many it
/// had.
fn reset_here(names: &[Bytes]) -> usize {
    EVENTS.with(|e| {
        let mut e = e.borrow_mut();
        if names.is_empty() {
            let n = e.len();
            e.clear();
            return n;
        }
        let mut n = 0;
        for name in names {
            let key = e.keys().find(|k| k.as_bytes() == &name[..]).copied();
            if let Some(k) = key {
                e.remove(k);
                n += 1;
            }
        }
        n
    })
}

/// LATENCY DOCTOR|GRAPH event|HISTORY event|LATEST|RESET [event ...]|HISTOGRAM [cmd ...]|HELP
pub(crate) async fn command(w: &Rc<Worker>, args: &[Bytes], out: &mut Out) {
    let sub = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
    const GONE: &str = "ERR server is shutting down";
    match (sub.as_str(), args.len()) {
        ("history", 3) => {
            let Some(all) = merged(w).await else {
                return out.error(GONE);
            };
            let Some(s) = find(&all, &args[2]) else {
                return out.array(0);
            };
            out.array(s.samples.len());
            for (t, ms) in &s.samples {
                out.array(2);
                out.int(*t);
                out.int(*ms as i64);
            }
        }
        ("graph", 3) => {
            let Some(all) = merged(w).await else {
                return out.error(GONE);
            };
            match find(&all, &args[2]) {
                Some(s) => {
                    let name = String::from_utf8_lossy(&args[2]);
                    out.verbatim(graph(&name, s).as_bytes());
                }
                None => out.error(&format!(
                    "ERR No samples available for event '{}'",
                    String::from_utf8_lossy(&args[2])
                )),
            }
        }
        ("latest", 2) => {
            let Some(all) = merged(w).await else {
                return out.error(GONE);
            };
            out.array(all.len());
            for (name, s) in &all {
                let (t, ms) = s.samples.last().copied().unwrap_or((0, 0));
                out.array(4);
                out.bulk(name.as_bytes());
                out.int(t);
                out.int(ms as i64);
                out.int(s.max as i64);
            }
        }
        ("doctor", 2) => {
            let Some(all) = merged(w).await else {
                return out.error(GONE);
            };
            out.verbatim(doctor(&all).as_bytes());
        }
        ("reset", _) => {
            // An event counts once however many threads had it.
            let names: Vec<Bytes> = args[2..].to_vec();
            let Some(before) = merged(w).await else {
                return out.error(GONE);
            };
            let n = if names.is_empty() {
                before.len()
            } else {
                names.iter().filter(|n| find(&before, n).is_some()).count()
            };
            for s in 0..w.n {
                let names = names.clone();
                let call = Box::new(move |_: &Worker| -> rustis_commands::registry::Partial {
                    Box::new(reset_here(&names))
                });
                let _ = w.send_call(s, None, false, call).await;
            }
            out.int(n as i64);
        }
        ("histogram", _) => {
            let Some(snap) = crate::stats::snapshot(w).await else {
                return out.error(GONE);
            };
            let all = crate::stats::histograms(&snap);
            let chosen: Vec<_> = if args.len() == 2 {
                all
            } else {
                let mut chosen = Vec::new();
                for name in &args[2..] {
                    let Some(cmd) = REGISTRY.lookup_full(name) else {
                        continue;
                    };
                    for (spec, h) in &all {
                        let under = spec.name.len() > cmd.name.len()
                            && spec.name.starts_with(cmd.name)
                            && spec.name.as_bytes()[cmd.name.len()] == b'|';
                        if std::ptr::eq(*spec, cmd) || under {
                            chosen.push((*spec, *h));
                        }
                    }
                }
                chosen
            };
            out.map(chosen.len());
            for (spec, h) in chosen {
                out.bulk(spec.name.as_bytes());
                out.map(2);
                out.bulk(b"calls");
                out.int(h.len() as i64);
                out.bulk(b"histogram_usec");
                let mut buckets: Vec<(u64, u64)> = Vec::new();
                let mut cumulative = 0u64;
                for v in h.iter_log(1024, 2.0) {
                    let before = cumulative;
                    cumulative += v.count_since_last_iteration();
                    if cumulative > before {
                        buckets.push((v.value_iterated_to() / 1000, cumulative));
                    }
                }
                out.map(buckets.len());
                for (usec, n) in buckets {
                    out.int(usec as i64);
                    out.int(n as i64);
                }
            }
        }
        ("help", 2) => crate::admin::help(
            out,
            "LATENCY",
            &[
                "DOCTOR",
                "    Return a human readable latency analysis report.",
                "GRAPH <event>",
                "    Return an ASCII latency graph for the <event> class.",
                "HISTORY <event>",
                "    Return time-latency samples for the <event> class.",
                "LATEST",
                "    Return the latest latency samples for all events.",
                "RESET [<event> ...]",
                "    Reset latency data of one or more <event> classes.",
                "    (default: reset all data for all event classes)",
                "HISTOGRAM [COMMAND ...]",
                "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
                "    If no commands are specified then all histograms are replied.",
            ],
        ),
        _ => out.error(&crate::stats::subcommand_syntax_error(args)),
    }
}

fn find<'a>(all: &'a BTreeMap<&'static str, Series>, name: &[u8]) -> Option<&'a Series> {
    all.iter()
        .find(|(k, _)| k.as_bytes() == name)
        .map(|(_, s)| s)
}

/// LATENCY GRAPH: Redis's sparkline of an event's samples, 80 columns per row, each sample a
/// column whose height says its latency between the smallest and the largest, under a header
/// and over the age of each sample.
fn graph(event: &str, s: &Series) -> String {
    let min = s.samples.iter().map(|x| x.1).min().unwrap_or(0);
    let max = s.samples.iter().map(|x| x.1).max().unwrap_or(0);
    let mut text = format!(
        "{event} - high {max} ms, low {min} ms (all time high {} ms)\n",
        s.max
    );
    text.push_str(&"-".repeat(80));
    text.push('\n');
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    // Labels: the sample's age, as Redis writes it ("12s", "3m", "2h", "1d").
    let labels: Vec<String> = s
        .samples
        .iter()
        .map(|(t, _)| {
            let age = (now - t).max(0);
            if age < 60 {
                format!("{age}s")
            } else if age < 3600 {
                format!("{}m", age / 60)
            } else if age < 3600 * 24 {
                format!("{}h", age / 3600)
            } else {
                format!("{}d", age / (3600 * 24))
            }
        })
        .collect();
    let values: Vec<f64> = s.samples.iter().map(|x| x.1 as f64).collect();
    text.push_str(&sparkline(&values, &labels, min as f64, max as f64));
    text
}

/// Redis's sparkline rendering (`sparkline.c`): four rows of height, characters `_-` and `` ` ``
/// with `|` for a sample's column, and its label written vertically below.
fn sparkline(values: &[f64], labels: &[String], min: f64, max: f64) -> String {
    const ROWS: usize = 4;
    const CHARSET: &[u8] = b"_-`";
    let columns = 80;
    let relmax = max - min;
    let steps = (CHARSET.len() * ROWS) as f64;
    let mut text = String::new();
    let mut j = 0;
    while j < values.len() {
        let len = (values.len() - j).min(columns);
        let mut rows = vec![vec![b' '; len]; ROWS];
        let mut lab_rows: Vec<Vec<u8>> = Vec::new();
        for k in 0..len {
            let v = values[j + k];
            let step = if relmax == 0.0 {
                0
            } else {
                (((v - min) / relmax) * steps) as usize
            };
            let step = step.min(CHARSET.len() * ROWS - 1);
            let row = ROWS - 1 - step / CHARSET.len();
            let ch = CHARSET[step % CHARSET.len()];
            rows[row][k] = ch;
            for r in rows.iter_mut().skip(row + 1) {
                r[k] = b'|';
            }
            let label = labels[j + k].as_bytes();
            for (li, &c) in label.iter().enumerate() {
                if lab_rows.len() <= li {
                    lab_rows.push(vec![b' '; len]);
                }
                lab_rows[li][k] = c;
            }
        }
        for r in rows.iter().chain(lab_rows.iter()) {
            text.push_str(String::from_utf8_lossy(r).trim_end());
            text.push('\n');
        }
        text.push('\n');
        j += len;
    }
    text
}

/// LATENCY DOCTOR's report: Redis's text when there is nothing to report, else the figures of
/// each event and the advice that applies to the command events.
fn doctor(all: &BTreeMap<&'static str, Series>) -> String {
    if all.is_empty() {
        return "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n".to_string();
    }
    let mut text = String::from(
        "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n",
    );
    for (i, (name, s)) in all.iter().enumerate() {
        let n = s.samples.len().max(1) as u64;
        let avg = s.samples.iter().map(|x| x.1).sum::<u64>() / n;
        let first = s.samples.first().map_or(0, |x| x.0);
        let last = s.samples.last().map_or(0, |x| x.0);
        let period = (last - first).max(0) as u64;
        let _ = writeln!(
            text,
            "{}. {name}: {} latency spikes (average {avg}ms, mean deviation {}ms, period {} sec). Worst all time event {}ms.",
            i + 1,
            s.samples.len(),
            mean_deviation(s, avg),
            period / n,
            s.max
        );
    }
    text.push_str("\nI have a few advices for you:\n\n");
    text.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
    text.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
    text
}

fn mean_deviation(s: &Series, avg: u64) -> u64 {
    let n = s.samples.len().max(1) as u64;
    s.samples.iter().map(|x| x.1.abs_diff(avg)).sum::<u64>() / n
}
