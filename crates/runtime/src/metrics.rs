//! The Prometheus endpoint (`metrics-port`, off by default): `GET /metrics` answers the
//! figures `INFO everything` has, in Prometheus's text format, plus per-thread figures (each
//! shard's keys, its memory estimate when memory is tracked, and the thread's CPU time).
//!
//! HTTP is served by hyper on thread 0's event loop, one task per connection. A scrape gathers
//! its figures the way INFO does, with one message to each thread that reads counters and
//! returns, so no shard stops for longer than that read; the text is formatted on thread 0.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::rc::Rc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Response, StatusCode};
use rustis_resp::encode::Out;

use crate::dispatch::on_every_thread;
use crate::worker::Worker;

/// Binds the metrics listener (at startup, so a port in use fails the start as the main port
/// does). `None` when `metrics-port` is 0.
pub(crate) fn bind(ip: std::net::IpAddr, port: u16) -> std::io::Result<Option<StdListener>> {
    if port == 0 {
        return Ok(None);
    }
    let l = StdListener::bind(SocketAddr::new(ip, port))?;
    l.set_nonblocking(true)?;
    Ok(Some(l))
}

/// CONFIG SET of `metrics-port` (on thread 0): stops serving the old port and serves
/// `listener` (none for port 0). Scrapes already connected finish.
pub(crate) fn replace(w: &Worker, listener: Option<StdListener>) {
    if let Some(old) = w.metrics_task.borrow_mut().take() {
        old.abort();
    }
    if let (Some(l), Some(me)) = (listener, w.me.upgrade()) {
        *w.metrics_task.borrow_mut() = Some(tokio::task::spawn_local(serve(me, l)));
    }
}

/// Accepts scrapes until the server stops (a task of thread 0).
pub(crate) async fn serve(w: Rc<Worker>, listener: StdListener) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        tracing::warn!("metrics: cannot use the listener");
        return;
    };
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let w = w.clone();
        tokio::task::spawn_local(async move {
            let service = hyper::service::service_fn(move |req| respond(w.clone(), req));
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}

async fn respond(
    w: Rc<Worker>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let reply = |status: StatusCode, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        r
    };
    if req.uri().path() != "/metrics" {
        return Ok(reply(
            StatusCode::NOT_FOUND,
            "not found: try /metrics\n".into(),
        ));
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, "use GET\n".into()));
    }
    let body = render(&w).await;
    let mut r = reply(StatusCode::OK, body);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(r)
}

/// What one thread reports for the per-thread figures.
struct ThreadFigures {
    keys: usize,
    memory: Option<usize>,
    cpu_seconds: f64,
}

/// The whole scrape: INFO's figures, then the per-thread ones.
async fn render(w: &Rc<Worker>) -> String {
    let mut out = Out::new(false);
    crate::admin::info(
        w,
        &[
            Bytes::from_static(b"INFO"),
            Bytes::from_static(b"everything"),
        ],
        &mut out,
    )
    .await;
    let info = bulk_text(&out.buf).unwrap_or_default();
    let mut text = from_info(&info);
    if let Some(threads) = on_every_thread(w, |wk| {
        let shard = wk.shard.borrow();
        ThreadFigures {
            keys: shard.dbs.iter().map(|d| d.len()).sum(),
            memory: shard
                .dbs
                .iter()
                .map(|d| d.used_memory())
                .sum::<Option<usize>>(),
            cpu_seconds: thread_cpu_seconds(),
        }
    })
    .await
    {
        per_thread(&mut text, &threads);
    }
    text
}

/// The text of a RESP2 bulk reply (INFO's), or None for anything else (an error).
fn bulk_text(buf: &[u8]) -> Option<String> {
    let rest = buf.strip_prefix(b"$")?;
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    let len: usize = std::str::from_utf8(&rest[..end]).ok()?.parse().ok()?;
    let body = rest.get(end + 2..end + 2 + len)?;
    Some(String::from_utf8_lossy(body).into_owned())
}

fn per_thread(text: &mut String, threads: &[ThreadFigures]) {
    family(
        text,
        "rustis_thread_keys",
        "gauge",
        "Keys in the thread's shard, all databases.",
    );
    for (i, t) in threads.iter().enumerate() {
        let _ = writeln!(text, "rustis_thread_keys{{thread=\"{i}\"}} {}", t.keys);
    }
    if threads.iter().any(|t| t.memory.is_some()) {
        family(
            text,
            "rustis_thread_memory_bytes",
            "gauge",
            "The shard's estimate of its keys' memory (kept while memory is tracked).",
        );
        for (i, t) in threads.iter().enumerate() {
            if let Some(m) = t.memory {
                let _ = writeln!(text, "rustis_thread_memory_bytes{{thread=\"{i}\"}} {m}");
            }
        }
    }
    family(
        text,
        "rustis_thread_cpu_seconds_total",
        "counter",
        "CPU time (user and system) of the thread.",
    );
    for (i, t) in threads.iter().enumerate() {
        let _ = writeln!(
            text,
            "rustis_thread_cpu_seconds_total{{thread=\"{i}\"}} {}",
            t.cpu_seconds
        );
    }
}

/// The calling thread's CPU time, from /proc (0 where there is none).
fn thread_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return 0.0;
    };
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // SAFETY: sysconf has no preconditions.
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / tick
}

fn family(text: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A metric name from an INFO field: Prometheus allows `[a-zA-Z0-9_:]`.
fn metric_name(field: &str) -> String {
    field
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// A label value, escaped as the text format requires.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The `k=v,k=v` pairs of an INFO value such as `calls=3,usec=10`.
fn pairs(v: &str) -> Vec<(&str, &str)> {
    v.split(',').filter_map(|p| p.split_once('=')).collect()
}

/// Converts INFO's text: every numeric field becomes a gauge `redis_<field>` (counters such as
/// `total_commands_processed` keep INFO's names, so dashboards built on INFO carry over), and
/// the structured lines become labelled families: `cmdstat_*` per command, `errorstat_*` per
/// error prefix, `latency_percentiles_usec_*` as a summary per command, `db*` per database.
pub(crate) fn from_info(info: &str) -> String {
    let mut plain = String::new();
    let mut commands: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut latency: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut dbs: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let owned = |v: &str| -> Vec<(String, String)> {
        pairs(v)
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    for line in info.lines() {
        let Some((field, value)) = line.split_once(':') else {
            continue;
        };
        if let Some(cmd) = field.strip_prefix("cmdstat_") {
            commands.push((cmd.to_string(), owned(value)));
        } else if let Some(cmd) = field.strip_prefix("latency_percentiles_usec_") {
            latency.push((cmd.to_string(), owned(value)));
        } else if let Some(err) = field.strip_prefix("errorstat_") {
            if let Some((_, n)) = pairs(value).into_iter().find(|(k, _)| *k == "count") {
                errors.push((err.to_string(), n.to_string()));
            }
        } else if field.starts_with("db") && field[2..].chars().all(|c| c.is_ascii_digit()) {
            dbs.push((field.to_string(), owned(value)));
        } else if value.parse::<f64>().is_ok() {
            let name = format!("redis_{}", metric_name(field));
            family(&mut plain, &name, "gauge", &format!("INFO field {field}."));
            let _ = writeln!(plain, "{name} {value}");
        }
    }
    let mut text = plain;
    let per_command = [
        (
            "calls",
            "redis_commands_total",
            "counter",
            "Calls of the command.",
        ),
        (
            "usec",
            "redis_commands_duration_seconds_total",
            "counter",
            "Time spent running the command.",
        ),
        (
            "rejected_calls",
            "redis_commands_rejected_calls_total",
            "counter",
            "Calls refused before running (arity, permissions, ...).",
        ),
        (
            "failed_calls",
            "redis_commands_failed_calls_total",
            "counter",
            "Calls that ran and replied with an error.",
        ),
    ];
    if !commands.is_empty() {
        for (key, name, kind, help) in per_command {
            family(&mut text, name, kind, help);
            for (cmd, fields) in &commands {
                if let Some((_, v)) = fields.iter().find(|(k, _)| k == key) {
                    let v = if key == "usec" {
                        (v.parse::<f64>().unwrap_or(0.0) / 1e6).to_string()
                    } else {
                        v.clone()
                    };
                    let _ = writeln!(text, "{name}{{cmd=\"{}\"}} {v}", label(cmd));
                }
            }
        }
    }
    if !latency.is_empty() {
        let name = "redis_latency_percentiles_usec";
        family(
            &mut text,
            name,
            "summary",
            "Latency percentiles of each command, in microseconds (latency-tracking).",
        );
        for (cmd, fields) in &latency {
            for (p, v) in fields {
                let q = p
                    .strip_prefix('p')
                    .and_then(|q| q.parse::<f64>().ok())
                    .map(|q| (q * 10_000.0).round() / 1_000_000.0);
                if let Some(q) = q {
                    let _ = writeln!(
                        text,
                        "{name}{{cmd=\"{}\",quantile=\"{q}\"}} {v}",
                        label(cmd)
                    );
                }
            }
        }
    }
    if !errors.is_empty() {
        family(
            &mut text,
            "redis_errors_total",
            "counter",
            "Error replies, by their first word.",
        );
        for (err, n) in &errors {
            let _ = writeln!(text, "redis_errors_total{{err=\"{}\"}} {n}", label(err));
        }
    }
    if !dbs.is_empty() {
        for (key, name, help) in [
            ("keys", "redis_db_keys", "Keys in the database."),
            (
                "expires",
                "redis_db_keys_expiring",
                "Keys with a time to live in the database.",
            ),
            (
                "avg_ttl",
                "redis_db_avg_ttl_milliseconds",
                "Average time to live of the database's keys that have one.",
            ),
        ] {
            family(&mut text, name, "gauge", help);
            for (db, fields) in &dbs {
                if let Some((_, v)) = fields.iter().find(|(k, _)| k == key) {
                    let _ = writeln!(text, "{name}{{db=\"{db}\"}} {v}");
                }
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_fields_become_metrics() {
        let info = "# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:12\r\n\r\n\
            # Stats\r\ntotal_commands_processed:40\r\ninstantaneous_input_kbps:0.50\r\n\
            # Commandstats\r\ncmdstat_get:calls=3,usec=10,usec_per_call=3.33,rejected_calls=0,failed_calls=1\r\n\
            cmdstat_config|get:calls=1,usec=5,usec_per_call=5.00,rejected_calls=2,failed_calls=0\r\n\
            # Errorstats\r\nerrorstat_ERR:count=4\r\n\
            # Latencystats\r\nlatency_percentiles_usec_get:p50=1.003,p99=2.007,p99.9=3.007\r\n\
            # Keyspace\r\ndb0:keys=5,expires=1,avg_ttl=900\r\n";
        let text = from_info(info);
        for want in [
            "# TYPE redis_uptime_in_seconds gauge\nredis_uptime_in_seconds 12\n",
            "redis_total_commands_processed 40\n",
            "redis_instantaneous_input_kbps 0.50\n",
            "redis_commands_total{cmd=\"get\"} 3\n",
            "redis_commands_total{cmd=\"config|get\"} 1\n",
            "redis_commands_duration_seconds_total{cmd=\"get\"} 0.00001\n",
            "redis_commands_rejected_calls_total{cmd=\"config|get\"} 2\n",
            "redis_commands_failed_calls_total{cmd=\"get\"} 1\n",
            "redis_errors_total{err=\"ERR\"} 4\n",
            "redis_latency_percentiles_usec{cmd=\"get\",quantile=\"0.99\"} 2.007\n",
            "redis_latency_percentiles_usec{cmd=\"get\",quantile=\"0.999\"} 3.007\n",
            "redis_db_keys{db=\"db0\"} 5\n",
            "redis_db_keys_expiring{db=\"db0\"} 1\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
        // Text fields are not metrics.
        assert!(!text.contains("redis_version"), "{text}");
    }

    #[test]
    fn bulk_text_reads_a_bulk_and_refuses_an_error() {
        assert_eq!(bulk_text(b"$5\r\nab:cd\r\n").as_deref(), Some("ab:cd"));
        assert_eq!(bulk_text(b"-ERR no\r\n"), None);
    }
}
