//! The Prometheus endpoint: `GET /metrics` on `metrics-port` answers INFO's figures and the
//! per-thread ones in Prometheus's text format; other paths get 404; the port is off by default.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use rustis_runtime::Config;
use rustis_tests::{spread, TestServer, THREADS};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// One HTTP/1.1 request; returns the status line and the body.
fn get(port: u16, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the metrics port");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut all = String::new();
    s.read_to_string(&mut all).expect("read");
    let (head, body) = all.split_once("\r\n\r\n").expect("a header and a body");
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

/// The value of an unlabelled or labelled sample line `name value`.
fn sample(body: &str, name: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn metrics_endpoint_reports_info_and_per_thread_figures() {
    for threads in THREADS {
        let port = free_port();
        let mut cfg = Config::default();
        cfg.set("metrics-port", &port.to_string(), true)
            .expect("metrics-port");
        let server = TestServer::start_opts(threads, None, cfg);
        let mut c = server.raw();
        let keys = spread("k", 8, threads);
        for k in &keys {
            assert_eq!(c.cmd(&["SET", k, "v"]), b"+OK\r\n");
        }
        assert_eq!(c.cmd(&["GET", &keys[0]]), b"$1\r\nv\r\n");

        let (status, body) = get(port, "/metrics");
        assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
        assert!(
            body.contains("# TYPE redis_connected_clients gauge\n"),
            "{body}"
        );
        assert_eq!(
            sample(&body, "redis_connected_clients"),
            Some(1.0),
            "{body}"
        );
        assert_eq!(
            sample(&body, "redis_db_keys{db=\"db0\"}"),
            Some(8.0),
            "{body}"
        );
        let per_thread: f64 = (0..threads)
            .map(|t| {
                sample(&body, &format!("rustis_thread_keys{{thread=\"{t}\"}}"))
                    .unwrap_or_else(|| panic!("no keys figure for thread {t}:\n{body}"))
            })
            .sum();
        assert_eq!(per_thread, 8.0, "{body}");
        // Per-command figures, counted on every thread and summed.
        assert_eq!(
            sample(&body, "redis_commands_total{cmd=\"set\"}"),
            Some(8.0),
            "{body}"
        );
        assert_eq!(
            sample(&body, "redis_commands_total{cmd=\"get\"}"),
            Some(1.0),
            "{body}"
        );
        assert!(
            body.contains("redis_latency_percentiles_usec{cmd=\"set\",quantile=\"0.99\"} "),
            "{body}"
        );
        for t in 0..threads {
            assert!(
                sample(
                    &body,
                    &format!("rustis_thread_cpu_seconds_total{{thread=\"{t}\"}}")
                )
                .is_some(),
                "{body}"
            );
        }
        // Every sample line is `name[{labels}] number`.
        for line in body.lines().filter(|l| !l.starts_with('#')) {
            let (_, v) = line.rsplit_once(' ').expect(line);
            assert!(v.parse::<f64>().is_ok(), "not a sample: {line:?}");
        }

        let (status, _) = get(port, "/other");
        assert_eq!(status, "HTTP/1.1 404 Not Found");
    }
}

#[test]
fn metrics_port_is_off_by_default_and_moves_with_config_set() {
    let server = TestServer::start(1);
    let mut c = server.raw();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "metrics-port"]),
        b"*2\r\n$12\r\nmetrics-port\r\n$1\r\n0\r\n"
    );
    // A port something else listens on is refused, and nothing changes.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let busy_port = busy.local_addr().expect("addr").port().to_string();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "metrics-port", &busy_port]),
        b"-ERR CONFIG SET failed (possibly related to argument 'metrics-port') - Unable to listen on this port. Check server logs.\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "metrics-port"]),
        b"*2\r\n$12\r\nmetrics-port\r\n$1\r\n0\r\n"
    );
    // A free one is served as soon as CONFIG SET answers, and 0 turns it off again.
    let port = free_port();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "metrics-port", &port.to_string()]),
        b"+OK\r\n"
    );
    let (status, _) = get(port, "/metrics");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(c.cmd(&["CONFIG", "SET", "metrics-port", "0"]), b"+OK\r\n");
    // The old listener closes when thread 0 next runs its cancelled task.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "port {port} still open"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
