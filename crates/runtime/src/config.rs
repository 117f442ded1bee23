//! Server configuration: the parameters CONFIG GET/SET know, their defaults and checks, and
//! the redis.conf reader.
//!
//! This is control-plane state: the table sits behind one lock that only CONFIG, INFO and
//! startup take. Settings that shards need are copied into each shard's `ShardConfig`.
//!
//! Nothing here pretends: a parameter whose value would promise something Rustis does not do
//! yet (a password, persistence, eviction, replication, ...) accepts only the value that
//! promises nothing, and any other value is refused at startup and by CONFIG SET with
//! [`ConfigError::Unsupported`]. docs/config.md lists every parameter and what it does.

use std::net::IpAddr;

use rustis_commands::glob::glob_match;
use rustis_storage::ShardConfig;

/// A configuration error, with Redis's wording where it has one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// No such parameter.
    #[error("Bad directive or wrong number of arguments")]
    Unknown(String),
    /// The value does not parse or is out of range.
    #[error("argument couldn't be parsed into an integer")]
    NotInteger(String),
    /// The value does not parse.
    #[error("{1}")]
    Invalid(String, String),
    /// The parameter cannot change while running.
    #[error("can't set immutable config")]
    Immutable(String),
    /// The parameter is one Redis 7.0 protects from CONFIG SET by default
    /// (`enable-protected-configs no`): where files are written.
    #[error("can't set protected config")]
    Protected(String),
    /// The configuration file is malformed at a line.
    #[error("\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line {line}\n>>> '{text}'\n{reason}")]
    File {
        /// 1-based line number.
        line: usize,
        /// The line's text.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// The file could not be read.
    #[error("can't open config file '{0}': {1}")]
    Io(String, String),
    /// The value asks for something Rustis does not do yet. The value itself is not repeated,
    /// as it may be a password.
    #[error("'{0}' is not supported yet: {1} (see docs/config.md)")]
    Unsupported(String, &'static str),
}

impl ConfigError {
    /// The parameter the error is about.
    pub fn param(&self) -> &str {
        match self {
            ConfigError::Unknown(p)
            | ConfigError::NotInteger(p)
            | ConfigError::Invalid(p, _)
            | ConfigError::Immutable(p)
            | ConfigError::Protected(p)
            | ConfigError::Unsupported(p, _) => p,
            ConfigError::File { .. } | ConfigError::Io(..) => "",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An integer in `min..=max`.
    Int(i64, i64),
    /// A memory size (`1gb`, `100mb`, bytes).
    Memory,
    /// `yes` or `no`.
    Bool,
    /// One of a list of words.
    Enum(&'static [&'static str]),
    /// Free text.
    Text,
}

struct Param {
    name: &'static str,
    alias: Option<&'static str>,
    kind: Kind,
    default: &'static str,
    mutable: bool,
    /// The one value accepted (normalized, as CONFIG GET shows it) and why any other is
    /// refused; `None` when every valid value is honoured or harmless.
    only: Option<(&'static str, &'static str)>,
    /// Not listed by a CONFIG GET pattern, only when asked for by name (Redis's
    /// `HIDDEN_CONFIG`, for its test-only knobs).
    hidden: bool,
}

const fn p(name: &'static str, kind: Kind, default: &'static str, mutable: bool) -> Param {
    Param {
        name,
        alias: None,
        kind,
        default,
        mutable,
        only: None,
        hidden: false,
    }
}

const fn pa(name: &'static str, alias: &'static str, kind: Kind, default: &'static str) -> Param {
    Param {
        name,
        alias: Some(alias),
        kind,
        default,
        mutable: true,
        only: None,
        hidden: false,
    }
}

/// A parameter that accepts only its default: any other value would promise what `why` says
/// is missing.
const fn only_default(
    name: &'static str,
    kind: Kind,
    default: &'static str,
    mutable: bool,
    why: &'static str,
) -> Param {
    Param {
        name,
        alias: None,
        kind,
        default,
        mutable,
        only: Some((default, why)),
        hidden: false,
    }
}

const NO_REPLICATION: &str = "replication is not implemented yet";
const NO_OUTGOING_TLS: &str =
    "there are no outgoing TLS connections (replication and cluster are not implemented yet)";

/// Redis parameters and redis.conf directives that Rustis does not list in CONFIG GET, since
/// any value shown would claim something, and refuses to set: a clearer answer than "unknown".
/// `(name, the one value accepted (it changes nothing), why)`. The value is compared as
/// written, lowercased.
static NOT_YET: &[(&str, Option<&str>, &str)] = &[
    ("masterauth", Some(""), NO_REPLICATION),
    ("masteruser", Some(""), NO_REPLICATION),
    (
        "cluster-enabled",
        Some("no"),
        "cluster mode is not implemented yet",
    ),
    ("tls-client-cert-file", Some(""), NO_OUTGOING_TLS),
    ("tls-client-key-file", Some(""), NO_OUTGOING_TLS),
    ("tls-client-key-file-pass", Some(""), NO_OUTGOING_TLS),
    (
        "tls-dh-params-file",
        Some(""),
        "rustls negotiates only ECDHE key exchange, so DH parameters would not be used",
    ),
    (
        "unixsocket",
        Some(""),
        "Unix sockets are not implemented yet",
    ),
    ("loadmodule", None, "modules are not supported"),
    (
        "include",
        None,
        "config files cannot include other files yet",
    ),
];

const MAX: i64 = i64::MAX;

/// Parameters whose value is several words, which a config line gives as several arguments.
const MULTI_ARG: &[&str] = &[
    "bind",
    "save",
    "replicaof",
    "oom-score-adj-values",
    "client-output-buffer-limit",
    "shutdown-on-sigterm",
    "shutdown-on-sigint",
];

/// The values of `enable-protected-configs`, `enable-debug-command` and
/// `enable-module-command`: `local` allows clients connected from 127.0.0.1 or ::1.
const PROTECTED_ACTION: &[&str] = &["no", "yes", "local"];

/// Parameters CONFIG SET refuses as Redis 7.0 does by default (`enable-protected-configs no`):
/// they say where snapshots are written. They are set at startup.
const PROTECTED: &[&str] = &["dir", "dbfilename"];

/// Every parameter CONFIG GET lists. Each is enforced, or has no effect whatever its value
/// (a tuning knob with no counterpart here), or accepts only the value that promises nothing
/// (`only_default`); docs/config.md says which. Parameters whose every value would claim
/// something are absent (see [`NOT_YET`]).
static PARAMS: &[Param] = &[
    p("bind", Kind::Text, "* -::*", true),
    p("port", Kind::Int(0, 65535), "6379", true),
    p("metrics-port", Kind::Int(0, 65535), "0", true),
    p("databases", Kind::Int(1, i32::MAX as i64), "16", false),
    p("io-threads", Kind::Int(1, 128), "1", false),
    p("maxclients", Kind::Int(1, MAX), "10000", true),
    p("proto-max-bulk-len", Kind::Memory, "536870912", true),
    p(
        "client-query-buffer-limit",
        Kind::Memory,
        "1073741824",
        true,
    ),
    p("tcp-backlog", Kind::Int(0, MAX), "511", false),
    p("tcp-keepalive", Kind::Int(0, MAX), "300", true),
    p("timeout", Kind::Int(0, MAX), "0", true),
    p("hz", Kind::Int(1, 500), "10", true),
    p(
        "loglevel",
        Kind::Enum(&["debug", "verbose", "notice", "warning", "nothing"]),
        "notice",
        true,
    ),
    p("logfile", Kind::Text, "", false),
    p("daemonize", Kind::Bool, "no", false),
    p("pidfile", Kind::Text, "", false),
    p("always-show-logo", Kind::Bool, "no", false),
    p("set-proc-title", Kind::Bool, "yes", false),
    p(
        "proc-title-template",
        Kind::Text,
        "{title} {listen-addr} {server-mode}",
        true,
    ),
    p(
        "oom-score-adj",
        Kind::Enum(&["no", "yes", "relative", "absolute"]),
        "no",
        true,
    ),
    p("oom-score-adj-values", Kind::Text, "0 200 800", true),
    p(
        "enable-protected-configs",
        Kind::Enum(PROTECTED_ACTION),
        "no",
        false,
    ),
    p(
        "enable-debug-command",
        Kind::Enum(PROTECTED_ACTION),
        "no",
        false,
    ),
    p(
        "enable-module-command",
        Kind::Enum(PROTECTED_ACTION),
        "no",
        false,
    ),
    p("shutdown-on-sigterm", Kind::Text, "default", true),
    p("shutdown-on-sigint", Kind::Text, "default", true),
    p("activerehashing", Kind::Bool, "yes", true),
    p(
        "repl-diskless-sync-delay",
        Kind::Int(0, i32::MAX as i64),
        "5",
        true,
    ),
    p("repl-backlog-size", Kind::Memory, "1048576", true),
    // Enforced: Rustis has no replicas, so with both set above 0 every write is refused with
    // NOREPLICAS, as Redis refuses them with fewer good replicas than asked for.
    pa(
        "min-replicas-to-write",
        "min-slaves-to-write",
        Kind::Int(0, i32::MAX as i64),
        "0",
    ),
    pa(
        "min-replicas-max-lag",
        "min-slaves-max-lag",
        Kind::Int(0, i32::MAX as i64),
        "10",
    ),
    Param {
        name: "replicaof",
        alias: Some("slaveof"),
        kind: Kind::Text,
        default: "",
        mutable: false,
        only: Some(("", NO_REPLICATION)),
        hidden: false,
    },
    pa(
        "replica-serve-stale-data",
        "slave-serve-stale-data",
        Kind::Bool,
        "yes",
    ),
    p("no-appendfsync-on-rewrite", Kind::Bool, "no", true),
    p(
        "propagation-error-behavior",
        Kind::Enum(&["ignore", "panic", "panic-on-replicas"]),
        "ignore",
        true,
    ),
    p("latency-monitor-threshold", Kind::Int(0, MAX), "0", true),
    p("protected-mode", Kind::Bool, "yes", true),
    p("save", Kind::Text, "3600 1 300 100 60 10000", true),
    p("appendonly", Kind::Bool, "no", true),
    p("appendfilename", Kind::Text, "appendonly.aof", false),
    p("appenddirname", Kind::Text, "appendonlydir", false),
    p(
        "appendfsync",
        Kind::Enum(&["always", "everysec", "no"]),
        "everysec",
        true,
    ),
    p("aof-use-rdb-preamble", Kind::Bool, "yes", true),
    p("aof-load-truncated", Kind::Bool, "yes", true),
    p("aof-timestamp-enabled", Kind::Bool, "no", true),
    p("aof-rewrite-incremental-fsync", Kind::Bool, "yes", true),
    p(
        "auto-aof-rewrite-percentage",
        Kind::Int(0, i32::MAX as i64),
        "100",
        true,
    ),
    p("auto-aof-rewrite-min-size", Kind::Memory, "67108864", true),
    p("dir", Kind::Text, ".", true),
    p("dbfilename", Kind::Text, "dump.rdb", true),
    p("rdbcompression", Kind::Bool, "yes", true),
    p("stop-writes-on-bgsave-error", Kind::Bool, "yes", true),
    p("rdbchecksum", Kind::Bool, "yes", true),
    p(
        "sanitize-dump-payload",
        Kind::Enum(&["no", "yes", "clients"]),
        "no",
        true,
    ),
    Param {
        name: "rdb-key-save-delay",
        alias: None,
        kind: Kind::Int(i32::MIN as i64, i32::MAX as i64),
        default: "0",
        mutable: true,
        only: None,
        hidden: true,
    },
    Param {
        name: "use-exit-on-panic",
        alias: None,
        kind: Kind::Bool,
        default: "no",
        mutable: false,
        only: None,
        hidden: true,
    },
    Param {
        name: "crash-memcheck-enabled",
        alias: None,
        kind: Kind::Bool,
        default: "no",
        mutable: true,
        only: Some(("no", "there is no memory test on a crash: Rustis writes no crash report")),
        hidden: false,
    },
    Param {
        name: "key-load-delay",
        alias: None,
        kind: Kind::Int(i32::MIN as i64, i32::MAX as i64),
        default: "0",
        mutable: true,
        only: Some(("0", "loading is not slowed down for tests yet")),
        hidden: true,
    },
    p("maxmemory", Kind::Memory, "0", true),
    only_default(
        "maxmemory-clients",
        Kind::Text,
        "0",
        true,
        "the memory of all clients together is not limited yet (each client's output is, by client-output-buffer-limit)",
    ),
    Param {
        name: "maxmemory-policy",
        alias: None,
        kind: Kind::Enum(&[
            "noeviction",
            "allkeys-lru",
            "volatile-lru",
            "allkeys-lfu",
            "volatile-lfu",
            "allkeys-random",
            "volatile-random",
            "volatile-ttl",
        ]),
        default: "noeviction",
        mutable: true,
        only: None,
        hidden: false,
    },
    p(
        "maxmemory-samples",
        Kind::Int(1, i32::MAX as i64),
        "5",
        true,
    ),
    p("maxmemory-eviction-tenacity", Kind::Int(0, 100), "10", true),
    p("lfu-log-factor", Kind::Int(0, i32::MAX as i64), "10", true),
    p("lfu-decay-time", Kind::Int(0, i32::MAX as i64), "1", true),
    pa(
        "busy-reply-threshold",
        "lua-time-limit",
        Kind::Int(0, MAX),
        "5000",
    ),
    p("slowlog-log-slower-than", Kind::Int(-1, MAX), "10000", true),
    p("slowlog-max-len", Kind::Int(0, MAX), "128", true),
    p("acllog-max-len", Kind::Int(0, MAX), "128", true),
    p("latency-tracking", Kind::Bool, "yes", true),
    p(
        "latency-tracking-info-percentiles",
        Kind::Text,
        "50 99 99.9",
        true,
    ),
    p("notify-keyspace-events", Kind::Text, "", true),
    p(
        "tracking-table-max-keys",
        Kind::Int(0, u32::MAX as i64),
        "1000000",
        true,
    ),
    pa(
        "list-max-listpack-size",
        "list-max-ziplist-size",
        Kind::Int(i32::MIN as i64, i32::MAX as i64),
        "-2",
    ),
    p(
        "list-compress-depth",
        Kind::Int(0, i32::MAX as i64),
        "0",
        true,
    ),
    p("set-max-intset-entries", Kind::Int(0, MAX), "512", true),
    p("set-max-listpack-entries", Kind::Int(0, MAX), "128", true),
    p("set-max-listpack-value", Kind::Int(0, MAX), "64", true),
    pa(
        "hash-max-listpack-entries",
        "hash-max-ziplist-entries",
        Kind::Int(0, MAX),
        "512",
    ),
    pa(
        "hash-max-listpack-value",
        "hash-max-ziplist-value",
        Kind::Int(0, MAX),
        "64",
    ),
    pa(
        "zset-max-listpack-entries",
        "zset-max-ziplist-entries",
        Kind::Int(0, MAX),
        "128",
    ),
    pa(
        "zset-max-listpack-value",
        "zset-max-ziplist-value",
        Kind::Int(0, MAX),
        "64",
    ),
    p("stream-node-max-bytes", Kind::Memory, "4096", true),
    p(
        "stream-node-max-entries",
        Kind::Int(0, i64::MAX),
        "100",
        true,
    ),
    p("requirepass", Kind::Text, "", true),
    p("aclfile", Kind::Text, "", false),
    p(
        "acl-pubsub-default",
        Kind::Enum(&["allchannels", "resetchannels"]),
        "resetchannels",
        true,
    ),
    p(
        "client-output-buffer-limit",
        Kind::Text,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        true,
    ),
    // TLS (tls.rs, docs/tls.md). CONFIG SET of any of them rebuilds the TLS configuration
    // for new connections (admin.rs); the port is set at startup, like `port`.
    p("tls-port", Kind::Int(0, 65535), "0", false),
    p("tls-cert-file", Kind::Text, "", true),
    p("tls-key-file", Kind::Text, "", true),
    only_default(
        "tls-key-file-pass",
        Kind::Text,
        "",
        true,
        "encrypted private keys are not supported: give tls-key-file a decrypted key",
    ),
    p("tls-ca-cert-file", Kind::Text, "", true),
    p("tls-ca-cert-dir", Kind::Text, "", true),
    p(
        "tls-auth-clients",
        Kind::Enum(&["no", "yes", "optional"]),
        "yes",
        true,
    ),
    p("tls-protocols", Kind::Text, "", true),
    p("tls-ciphers", Kind::Text, "", true),
    p("tls-ciphersuites", Kind::Text, "", true),
    p("tls-prefer-server-ciphers", Kind::Bool, "no", true),
    p("tls-session-caching", Kind::Bool, "yes", true),
    p(
        "tls-session-cache-size",
        Kind::Int(0, i32::MAX as i64),
        "20480",
        true,
    ),
    p(
        "tls-session-cache-timeout",
        Kind::Int(0, i32::MAX as i64),
        "300",
        true,
    ),
    only_default("tls-replication", Kind::Bool, "no", true, NO_REPLICATION),
    only_default(
        "tls-cluster",
        Kind::Bool,
        "no",
        true,
        "cluster mode is not implemented yet",
    ),
];

/// Applies `client-output-buffer-limit` arguments (`<class> <hard> <soft> <seconds>`, repeated)
/// to the current value, as Redis does: classes not named keep their limits. Returns the new
/// value in CONFIG GET's form.
fn output_limits(current: &str, value: &str) -> Result<String, ConfigError> {
    let name = "client-output-buffer-limit";
    let invalid = |why: &str| ConfigError::Invalid(name.to_string(), why.to_string());
    // normal, slave, pubsub: hard, soft, seconds.
    let mut classes = [
        [0u64; 3],
        [268435456, 67108864, 60],
        [33554432, 8388608, 60],
    ];
    let cur: Vec<&str> = current.split_whitespace().collect();
    for (i, c) in cur.chunks(4).enumerate().take(3) {
        for (j, v) in classes[i].iter_mut().enumerate() {
            *v = c.get(j + 1).and_then(|v| v.parse().ok()).unwrap_or(0);
        }
    }
    let args: Vec<&str> = value.split_whitespace().collect();
    if !args.len().is_multiple_of(4) {
        return Err(invalid(
            "Wrong number of arguments in buffer limit configuration.",
        ));
    }
    for c in args.chunks(4) {
        let class = match c[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => {
                return Err(invalid(
                    "Invalid client class specified in buffer limit configuration.",
                ))
            }
        };
        let hard = parse_memory(c[1]);
        let soft = parse_memory(c[2]);
        let secs = c[3].parse::<u64>().ok();
        let (Some(hard), Some(soft), Some(secs)) = (hard, soft, secs) else {
            return Err(invalid(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
            ));
        };
        classes[class] = [hard, soft, secs];
    }
    let mut out = String::new();
    for (word, c) in ["normal", "slave", "pubsub"].iter().zip(classes) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("{word} {} {} {}", c[0], c[1], c[2]));
    }
    Ok(out)
}

/// The live configuration: one value per parameter, as text (CONFIG GET's form).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    values: Vec<String>,
    /// `notify-keyspace-events` as set: its CONFIG GET form drops `n` when `A` is there, as
    /// Redis's does, while the events of class `n` are still sent.
    notify_flags: u32,
    /// The `user` directives read at startup: name, then rules (`acl.rs` loads them).
    users: Vec<Vec<String>>,
    /// The `rename-command old new` directives read, in order (`server::start` applies them).
    renames: Vec<(String, String)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            values: PARAMS.iter().map(|p| p.default.to_string()).collect(),
            notify_flags: 0,
            users: Vec::new(),
            renames: Vec::new(),
        }
    }
}

fn find(name: &str) -> Option<usize> {
    let lower = name.to_ascii_lowercase();
    PARAMS
        .iter()
        .position(|p| p.name == lower || p.alias == Some(lower.as_str()))
}

/// A name that is not a parameter: refused as unsupported if Redis knows it (see [`NOT_YET`]),
/// else as unknown. A value that changes nothing is accepted and not recorded.
fn not_yet(name: &str, value: &str) -> Result<(), ConfigError> {
    let lower = name.to_ascii_lowercase();
    let Some((name, accepted, why)) = NOT_YET.iter().find(|(n, _, _)| *n == lower) else {
        return Err(ConfigError::Unknown(name.to_string()));
    };
    if *accepted == Some(value.trim().to_ascii_lowercase().as_str()) {
        return Ok(());
    }
    Err(ConfigError::Unsupported(name.to_string(), why))
}

/// A value as a config line quotes it (Redis's `sdscatrepr`), so that reading the line back
/// gives the value exactly (CONFIG REWRITE, and the command line's arguments).
pub fn repr(v: &str) -> String {
    let mut out = String::from("\"");
    for b in v.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

/// A byte count as CONFIG REWRITE writes it: in gb, mb or kb when it is a whole number of
/// them (Redis's `rewriteConfigFormatMemory`).
fn format_memory(n: u64) -> String {
    const KB: u64 = 1024;
    match n {
        0 => "0".into(),
        n if n % (KB * KB * KB) == 0 => format!("{}gb", n / (KB * KB * KB)),
        n if n % (KB * KB) == 0 => format!("{}mb", n / (KB * KB)),
        n if n % KB == 0 => format!("{}kb", n / KB),
        n => n.to_string(),
    }
}

/// An I/O error as `strerror` words it (without Rust's "(os error N)").
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    text.split(" (os error").next().unwrap_or(&text).to_string()
}

/// Parses a memory size as Redis's `memtoull` does: a number with an optional unit
/// (`b`, `k`, `kb`, `m`, `mb`, `g`, `gb`; `k` = 1000, `kb` = 1024).
pub fn parse_memory(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(digits_end);
    let n: u64 = num.parse().ok()?;
    let mul = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(mul)
}

/// Parses `save`'s value as Redis does: `""` for none, else words one space apart, in pairs of
/// seconds (at least 1) and changes (at least 0).
pub fn parse_save_points(v: &str) -> Option<Vec<(u64, u64)>> {
    if v.is_empty() {
        return Some(Vec::new());
    }
    let words: Vec<&str> = v.split(' ').collect();
    if words.len() & 1 == 1 {
        return None;
    }
    // strtoll of an empty word is 0, which only a change count may be.
    let num = |w: &str| {
        if w.is_empty() {
            Some(0)
        } else {
            w.parse::<u64>().ok()
        }
    };
    words
        .chunks(2)
        .map(|p| Some((num(p[0]).filter(|&s| s >= 1)?, num(p[1])?)))
        .collect()
}

/// The words of `shutdown-on-sigterm`/`shutdown-on-sigint`, in the order CONFIG GET shows them.
const SHUTDOWN_WORDS: &[&str] = &["save", "nosave", "now", "force"];

/// Checks a `shutdown-on-sig*` value as Redis does (words one space apart, each one of
/// `default save nosave now force`, not both `save` and `nosave`) and returns it in CONFIG GET's
/// form: the flags in a fixed order, or `default` when there are none.
fn shutdown_flags(name: &str, value: &str) -> Result<String, ConfigError> {
    let mut set = [false; 4];
    for word in value.split(' ') {
        let word = word.to_ascii_lowercase();
        if word == "default" {
            continue;
        }
        let Some(i) = SHUTDOWN_WORDS.iter().position(|w| *w == word) else {
            return Err(ConfigError::Invalid(
                name.to_string(),
                "argument(s) must be one of the following: default, save, nosave, now, force"
                    .into(),
            ));
        };
        set[i] = true;
    }
    if set[0] && set[1] {
        return Err(ConfigError::Invalid(
            name.to_string(),
            "shutdown options SAVE and NOSAVE can't be used simultaneously".into(),
        ));
    }
    let words: Vec<&str> = SHUTDOWN_WORDS
        .iter()
        .zip(set)
        .filter(|(_, on)| *on)
        .map(|(w, _)| *w)
        .collect();
    Ok(if words.is_empty() {
        "default".into()
    } else {
        words.join(" ")
    })
}

/// Checks `oom-score-adj-values` as Redis does (three integers from -2000 to 2000, for a
/// master, a replica and a background child) and returns it in CONFIG GET's form.
fn oom_values(value: &str) -> Result<String, ConfigError> {
    let name = "oom-score-adj-values";
    let words: Vec<&str> = value.split(' ').collect();
    if words.len() != 3 {
        return Err(ConfigError::Invalid(
            name.into(),
            "wrong number of arguments".into(),
        ));
    }
    let mut out = Vec::new();
    for w in words {
        match w.parse::<i64>() {
            Ok(n) if (-2000..=2000).contains(&n) => out.push(n.to_string()),
            _ => {
                return Err(ConfigError::Invalid(
                    name.into(),
                    "Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into(),
                ))
            }
        }
    }
    Ok(out.join(" "))
}

/// Checks a memory-or-percent value as Redis does (`maxmemory-clients`: bytes with an optional
/// unit, or `N%` with N at most 100) and returns it in CONFIG GET's form.
fn memory_or_percent(name: &str, value: &str) -> Result<String, ConfigError> {
    if let Some(pct) = value.strip_suffix('%') {
        let n: i64 = pct.parse().map_err(|_| {
            ConfigError::Invalid(
                name.into(),
                "argument must be a memory or percent value".into(),
            )
        })?;
        if n > 100 {
            return Err(ConfigError::Invalid(
                name.into(),
                "percentage argument must be less or equal to 100".into(),
            ));
        }
        if n < 0 {
            return Err(ConfigError::Invalid(
                name.into(),
                "argument must be a memory or percent value".into(),
            ));
        }
        return Ok(if n == 0 { "0".into() } else { format!("{n}%") });
    }
    parse_memory(value).map(|n| n.to_string()).ok_or_else(|| {
        ConfigError::Invalid(
            name.into(),
            "argument must be a memory or percent value".into(),
        )
    })
}

/// Checks `replicaof <host> <port>` as Redis does and returns CONFIG GET's form: `""` for
/// `no one` (and for `""`, no master), else `<host> <port>`, which the caller refuses.
fn replica_of(value: &str) -> Result<String, ConfigError> {
    let name = "replicaof";
    if value.is_empty() {
        return Ok(String::new());
    }
    let words: Vec<&str> = value.split(' ').collect();
    let [host, port] = words[..] else {
        return Err(ConfigError::Invalid(
            name.into(),
            "wrong number of arguments".into(),
        ));
    };
    if host.eq_ignore_ascii_case("no") && port.eq_ignore_ascii_case("one") {
        return Ok(String::new());
    }
    match port.parse::<i64>() {
        Ok(p) if (0..=65535).contains(&p) => Ok(format!("{host} {p}")),
        _ => Err(ConfigError::Invalid(
            name.into(),
            "Invalid master port".into(),
        )),
    }
}

/// Whether a setting of `enable-protected-configs`, `enable-debug-command` or
/// `enable-module-command` allows a client: `yes`, or `local` for a client connected from
/// 127.0.0.1 or ::1 (Redis's `allowProtectedAction`).
pub fn protected_action_allowed(setting: Option<&str>, local_client: bool) -> bool {
    match setting {
        Some("yes") => true,
        Some("local") => local_client,
        _ => false,
    }
}

impl Config {
    /// Sets a parameter from its text value, checking it. `startup` allows immutable ones and,
    /// from a client, the protected ones are refused (see [`Config::set_by_client`]).
    pub fn set(&mut self, name: &str, value: &str, startup: bool) -> Result<(), ConfigError> {
        self.set_checked(name, value, startup, startup)
    }

    /// CONFIG SET from a client: as [`Config::set`] while running, except that the protected
    /// parameters (`dir`, `dbfilename`) may change when `enable-protected-configs` allows the
    /// client (`yes`, or `local` and the client is `local_client`).
    pub fn set_by_client(
        &mut self,
        name: &str,
        value: &str,
        local_client: bool,
    ) -> Result<(), ConfigError> {
        let allowed = protected_action_allowed(self.get("enable-protected-configs"), local_client);
        self.set_checked(name, value, false, allowed)
    }

    fn set_checked(
        &mut self,
        name: &str,
        value: &str,
        startup: bool,
        protected_ok: bool,
    ) -> Result<(), ConfigError> {
        let Some(idx) = find(name) else {
            return not_yet(name, value);
        };
        let param = &PARAMS[idx];
        if !param.mutable && !startup {
            return Err(ConfigError::Immutable(param.name.to_string()));
        }
        if PROTECTED.contains(&param.name) && !protected_ok {
            return Err(ConfigError::Protected(param.name.to_string()));
        }
        let norm = match param.kind {
            Kind::Int(min, max) => {
                let n: i64 = value
                    .parse()
                    .map_err(|_| ConfigError::NotInteger(param.name.to_string()))?;
                if n < min || n > max {
                    return Err(ConfigError::Invalid(
                        param.name.to_string(),
                        format!("argument must be between {min} and {max} inclusive"),
                    ));
                }
                n.to_string()
            }
            Kind::Memory => {
                let n = parse_memory(value).ok_or_else(|| {
                    ConfigError::Invalid(
                        param.name.to_string(),
                        "argument must be a memory value".into(),
                    )
                })?;
                // Redis's bounds for the query buffer limit (a size_t from 1 MB).
                if param.name == "client-query-buffer-limit"
                    && !(1024 * 1024..=i64::MAX as u64).contains(&n)
                {
                    return Err(ConfigError::Invalid(
                        param.name.to_string(),
                        format!(
                            "argument must be between {} and {} inclusive",
                            1024 * 1024,
                            i64::MAX
                        ),
                    ));
                }
                n.to_string()
            }
            Kind::Bool => match value.to_ascii_lowercase().as_str() {
                "yes" => "yes".into(),
                "no" => "no".into(),
                _ => {
                    return Err(ConfigError::Invalid(
                        param.name.to_string(),
                        "argument must be 'yes' or 'no'".into(),
                    ))
                }
            },
            Kind::Enum(words) => {
                let lower = value.to_ascii_lowercase();
                if !words.contains(&lower.as_str()) {
                    return Err(ConfigError::Invalid(
                        param.name.to_string(),
                        "argument(s) must be one of the following: ".to_string()
                            + &words.join(", "),
                    ));
                }
                lower
            }
            Kind::Text => {
                if param.name == "bind" {
                    for a in value.split_whitespace() {
                        let a = a.trim_start_matches('-');
                        if a.parse::<IpAddr>().is_err() && !matches!(a, "localhost" | "*" | "::*") {
                            return Err(ConfigError::Invalid(
                                param.name.to_string(),
                                format!("Invalid bind address '{a}'"),
                            ));
                        }
                    }
                }
                if param.name == "save" && parse_save_points(value).is_none() {
                    return Err(ConfigError::Invalid(
                        param.name.to_string(),
                        "Invalid save parameters".into(),
                    ));
                }
                if param.name == "dbfilename" && (value.contains('/') || value.contains('\\')) {
                    return Err(ConfigError::Invalid(
                        param.name.to_string(),
                        "dbfilename can't be a path, just a filename".into(),
                    ));
                }
                crate::tls::check_setting(param.name, value)
                    .map_err(|why| ConfigError::Invalid(param.name.to_string(), why))?;
                if param.name == "shutdown-on-sigterm" || param.name == "shutdown-on-sigint" {
                    shutdown_flags(param.name, value)?
                } else if param.name == "client-output-buffer-limit" {
                    output_limits(&self.values[idx], value)?
                } else if param.name == "notify-keyspace-events" {
                    let flags = crate::notify::parse_flags(value).ok_or_else(|| {
                        ConfigError::Invalid(
                            param.name.to_string(),
                            "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into(),
                        )
                    })?;
                    if crate::notify::wants_key_misses(flags) {
                        return Err(ConfigError::Unsupported(
                            param.name.to_string(),
                            "key-miss events (class m) are not delivered yet",
                        ));
                    }
                    self.notify_flags = flags;
                    crate::notify::flags_to_string(flags)
                } else if param.name == "latency-tracking-info-percentiles" {
                    crate::stats::parse_percentiles(value)
                        .map_err(|why| ConfigError::Invalid(param.name.to_string(), why.into()))?
                        .iter()
                        .map(|p| crate::stats::trim_double(*p))
                        .collect::<Vec<_>>()
                        .join(" ")
                } else if param.name == "proc-title-template" {
                    if !crate::process::valid_title_template_for(value, self) {
                        return Err(ConfigError::Invalid(
                            param.name.to_string(),
                            "template format is invalid or contains unknown variables".into(),
                        ));
                    }
                    value.to_string()
                } else if param.name == "dir" {
                    // Redis changes into the directory and shows getcwd(): the absolute path,
                    // and a directory that is not there is refused.
                    let abs = std::fs::canonicalize(value)
                        .map_err(|e| ConfigError::Invalid(param.name.to_string(), io_reason(&e)))?;
                    if !abs.is_dir() {
                        return Err(ConfigError::Invalid(
                            param.name.to_string(),
                            "Not a directory".into(),
                        ));
                    }
                    abs.to_string_lossy().into_owned()
                } else if param.name == "oom-score-adj-values" {
                    oom_values(value)?
                } else if param.name == "maxmemory-clients" {
                    memory_or_percent(param.name, value)?
                } else if param.name == "replicaof" {
                    replica_of(value)?
                } else if param.name == "save" {
                    // As CONFIG GET shows it: the pairs, one space apart.
                    parse_save_points(value)
                        .unwrap_or_default()
                        .iter()
                        .map(|(s, c)| format!("{s} {c}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                } else if param.only.is_some() {
                    value.trim().to_string()
                } else {
                    value.to_string()
                }
            }
        };
        if let Some((accepted, why)) = param.only {
            if norm != accepted {
                // Named as given (an alias stays an alias, as in Redis's errors).
                return Err(ConfigError::Unsupported(name.to_ascii_lowercase(), why));
            }
        }
        self.values[idx] = norm;
        Ok(())
    }

    /// The value of a parameter by its name or alias.
    pub fn get(&self, name: &str) -> Option<&str> {
        find(name).map(|i| self.values[i].as_str())
    }

    /// An integer parameter.
    pub fn get_i64(&self, name: &str) -> i64 {
        self.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// Every `(name, value)` whose name or alias matches the glob `pattern`, as CONFIG GET lists
    /// them (an alias is listed under the alias's name when the alias matched).
    pub fn matching(&self, pattern: &str) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        for (i, p) in PARAMS.iter().enumerate() {
            // A hidden parameter is listed only when named exactly, as in Redis.
            if p.hidden && !p.name.eq_ignore_ascii_case(pattern) {
                continue;
            }
            if glob_match(pattern.as_bytes(), p.name.as_bytes(), true) {
                out.push((p.name, self.values[i].as_str()));
            }
            if let Some(alias) = p.alias {
                if glob_match(pattern.as_bytes(), alias.as_bytes(), true) {
                    out.push((alias, self.values[i].as_str()));
                }
            }
        }
        out
    }

    /// `notify-keyspace-events` as flag bits (see `notify.rs`).
    pub(crate) fn notify_flags(&self) -> u32 {
        self.notify_flags
    }

    /// `client-output-buffer-limit`'s pubsub class: hard bytes, soft bytes, soft seconds.
    pub fn pubsub_limits(&self) -> (u64, u64, u64) {
        self.output_class(9)
    }

    /// `client-output-buffer-limit`'s normal class: hard bytes, soft bytes, soft seconds.
    pub fn normal_limits(&self) -> (u64, u64, u64) {
        self.output_class(1)
    }

    /// The three numbers of one class, from their first word in CONFIG GET's form.
    fn output_class(&self, skip: usize) -> (u64, u64, u64) {
        let v: Vec<u64> = self
            .get("client-output-buffer-limit")
            .unwrap_or("")
            .split_whitespace()
            .skip(skip)
            .take(3)
            .map(|n| n.parse().unwrap_or(0))
            .collect();
        match v[..] {
            [h, s, t] => (h, s, t),
            _ => (0, 0, 0),
        }
    }

    /// The settings shards copy.
    pub fn shard_config(&self) -> ShardConfig {
        let u = |n: &str| self.get_i64(n).max(0) as usize;
        ShardConfig {
            proto_max_bulk_len: u("proto-max-bulk-len"),
            set_max_intset_entries: u("set-max-intset-entries"),
            list_max_listpack_size: self.get_i64("list-max-listpack-size"),
            hash_max_listpack_entries: u("hash-max-listpack-entries"),
            hash_max_listpack_value: u("hash-max-listpack-value"),
            zset_max_listpack_entries: u("zset-max-listpack-entries"),
            zset_max_listpack_value: u("zset-max-listpack-value"),
            set_max_listpack_entries: u("set-max-listpack-entries"),
            set_max_listpack_value: u("set-max-listpack-value"),
            stream_node_max_bytes: u("stream-node-max-bytes"),
            stream_node_max_entries: u("stream-node-max-entries"),
            rdb_compression: self.get("rdbcompression") != Some("no"),
            evict: rustis_storage::evict::EvictConfig {
                policy: rustis_storage::evict::Policy::parse(
                    self.get("maxmemory-policy").unwrap_or("noeviction"),
                )
                .unwrap_or_default(),
                samples: u("maxmemory-samples").max(1),
                lfu_log_factor: u("lfu-log-factor").min(u32::MAX as usize) as u32,
                lfu_decay_time: u("lfu-decay-time").min(u32::MAX as usize) as u32,
                no_shared_integers: u("maxmemory") != 0
                    && rustis_storage::evict::Policy::parse(
                        self.get("maxmemory-policy").unwrap_or("noeviction"),
                    )
                    .is_some_and(|p| p.tracks_access()),
            },
        }
    }

    /// Where snapshots are written and loaded from: `dir`/`dbfilename`.
    pub fn rdb_path(&self) -> std::path::PathBuf {
        std::path::Path::new(self.get("dir").unwrap_or("."))
            .join(self.get("dbfilename").unwrap_or("dump.rdb"))
    }

    /// The `save` points: `(seconds, changes)` pairs.
    pub fn save_points(&self) -> Vec<(u64, u64)> {
        parse_save_points(self.get("save").unwrap_or("")).unwrap_or_default()
    }

    /// The `user` directives read (name, then rules), in file order.
    pub fn users(&self) -> &[Vec<String>] {
        &self.users
    }

    /// The `rename-command` directives read: (old name, new name or `""`), in file order.
    pub fn renames(&self) -> &[(String, String)] {
        &self.renames
    }

    /// Reads redis.conf-style text: one directive per line, arguments split like redis-cli
    /// splits them, `#` comments. An unknown directive is an error naming the line.
    pub fn load_str(&mut self, text: &str) -> Result<(), ConfigError> {
        // As in Redis, the first `save` line replaces the default save points and the others
        // add theirs; `save ""` removes every point read so far.
        let mut save_loaded = false;
        // The renames so far, applied to a scratch command table to check each as Redis does.
        let mut table: Option<rustis_commands::registry::Registry> = None;
        for (n, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let err = |reason: String| ConfigError::File {
                line: n + 1,
                text: trimmed.to_string(),
                reason,
            };
            let words = rustis_resp::parse::split_args(trimmed.as_bytes())
                .ok_or_else(|| err("Unbalanced quotes in configuration line".into()))?;
            let words: Vec<String> = words
                .iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect();
            let Some((name, rest)) = words.split_first() else {
                continue;
            };
            // `user <name> <rules>...`: checked now, loaded at startup (`acl.rs`).
            if name.eq_ignore_ascii_case("user") && !rest.is_empty() {
                if self.users.iter().any(|u| u[0] == rest[0]) {
                    return Err(err(format!("Error in user declaration '{}': Duplicate user found. A user can only be defined once in config files", rest[0])));
                }
                crate::acl::check_user_line(rest).map_err(err)?;
                self.users.push(rest.to_vec());
                continue;
            }
            if name.eq_ignore_ascii_case("rename-command") {
                let [old, new] = rest else {
                    return Err(err("wrong number of arguments".into()));
                };
                let table = table.get_or_insert_with(|| {
                    let mut t = rustis_commands::registry::Registry::new();
                    for (o, n) in &self.renames {
                        let _ = t.rename(o, n);
                    }
                    t
                });
                table.rename(old, new).map_err(|why| err(why.into()))?;
                self.renames
                    .push((old.to_ascii_lowercase(), new.to_ascii_lowercase()));
                continue;
            }
            // A parameter of one value takes exactly one argument; the ones of several words
            // (bind, save, ...) take any number, none being an empty value, as in Redis.
            if let Some(idx) = find(name) {
                if !MULTI_ARG.contains(&PARAMS[idx].name) && rest.len() != 1 {
                    return Err(err("wrong number of arguments".into()));
                }
            } else if rest.is_empty() {
                return Err(err("Bad directive or wrong number of arguments".into()));
            }
            // Multi-word values (bind, save) are kept as one space-separated value.
            let mut value = rest.join(" ");
            if name.eq_ignore_ascii_case("save") {
                let before = if save_loaded {
                    self.get("save").unwrap_or("")
                } else {
                    ""
                };
                save_loaded = true;
                if !before.is_empty() && !value.is_empty() {
                    value = format!("{before} {value}");
                }
            }
            self.set(name, &value, true).map_err(|e| match e {
                ConfigError::Unknown(_) => err("Bad directive or wrong number of arguments".into()),
                other => err(other.to_string()),
            })?;
        }
        Ok(())
    }

    /// CONFIG REWRITE: rewrites the config file at `path` for the current values as Redis
    /// does, through a temporary file renamed over it. Comments, blank lines and the lines of
    /// settings this server does not rewrite are kept; a setting's first line in the file is
    /// replaced with its current value and its other lines are dropped; a setting at a value
    /// other than its default that the file does not name is appended after a
    /// `# Generated by CONFIG REWRITE` line; lines naming no setting are kept as `# ??? `
    /// comments. Returns the error text (`strerror`-like) on failure.
    pub fn rewrite_file(&self, path: &str, force_all: bool) -> Result<(), String> {
        let old = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(io_reason(&e)),
        };
        let text = self.rewrite_text(&old, force_all);
        let tmp = format!("{path}.rewrite.{}", std::process::id());
        std::fs::write(&tmp, text).map_err(|e| io_reason(&e))?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io_reason(&e)
        })
    }

    /// The rewritten text of a config file whose old text is `old` (see
    /// [`Config::rewrite_file`]); `force_all` writes every setting, at its default or not
    /// (DEBUG CONFIG-REWRITE-FORCE-ALL).
    pub fn rewrite_text(&self, old: &str, force_all: bool) -> String {
        const SIGNATURE: &str = "# Generated by CONFIG REWRITE";
        let mut lines: Vec<String> = Vec::new();
        let mut by_option: std::collections::HashMap<String, std::collections::VecDeque<usize>> =
            std::collections::HashMap::new();
        let mut needs_signature = true;
        if !old.is_empty() {
            for raw in old.split('\n') {
                let line = raw.trim_matches(|c| matches!(c, '\r' | '\n' | '\t' | ' '));
                if line.is_empty() || line.starts_with('#') {
                    if line == SIGNATURE {
                        needs_signature = false;
                    }
                    lines.push(line.to_string());
                    continue;
                }
                let name = rustis_resp::parse::split_args(line.as_bytes())
                    .and_then(|w| w.first().map(|n| String::from_utf8_lossy(n).to_lowercase()));
                let known = name.as_deref().and_then(|n| {
                    if let Some(i) = find(n) {
                        return Some(PARAMS[i].name.to_string());
                    }
                    let config_only = ["include", "rename-command", "user", "loadmodule"];
                    (NOT_YET.iter().any(|(x, _, _)| *x == n) || config_only.contains(&n))
                        .then(|| n.to_string())
                });
                match known {
                    Some(n) => {
                        by_option.entry(n).or_default().push_back(lines.len());
                        lines.push(line.to_string());
                    }
                    None => lines.push(format!("# ??? {line}")),
                }
            }
        }
        let mut rewritten: Vec<&str> = Vec::new();
        let mut put = |name: &'static str, line: String, force: bool, lines: &mut Vec<String>| {
            rewritten.push(name);
            match by_option.get_mut(name).and_then(|l| l.pop_front()) {
                Some(n) => lines[n] = line,
                None if force => {
                    if needs_signature {
                        lines.push(SIGNATURE.to_string());
                        needs_signature = false;
                    }
                    lines.push(line);
                }
                None => {}
            }
        };
        for (i, param) in PARAMS.iter().enumerate() {
            let (name, value) = (param.name, self.values[i].as_str());
            let force = force_all || value != param.default;
            match (name, param.kind) {
                // No master: nothing to write, and the file's old lines go (as in Redis).
                ("replicaof", _) => {}
                ("save", _) => {
                    let points = parse_save_points(value).unwrap_or_default();
                    if points.is_empty() {
                        put(name, "save \"\"".into(), true, &mut lines);
                    }
                    for (secs, changes) in points {
                        put(name, format!("save {secs} {changes}"), true, &mut lines);
                    }
                }
                ("bind", _) => put(name, format!("bind {value}"), force, &mut lines),
                ("dir", _) => {
                    let abs = std::fs::canonicalize(value)
                        .map(|p| p.to_string_lossy().into_owned())
                        .unwrap_or_else(|_| value.to_string());
                    put(name, format!("dir {}", repr(&abs)), true, &mut lines);
                }
                ("client-output-buffer-limit", _) => {
                    let defaults: Vec<&str> = param.default.split(' ').collect();
                    let words: Vec<&str> = value.split(' ').collect();
                    for (class, default) in words.chunks(4).zip(defaults.chunks(4)) {
                        let mem = |w: &str| format_memory(w.parse().unwrap_or(0));
                        let line = format!(
                            "{name} {} {} {} {}",
                            class[0],
                            mem(class[1]),
                            mem(class[2]),
                            class.get(3).unwrap_or(&"0")
                        );
                        put(name, line, force_all || class != default, &mut lines);
                    }
                }
                (_, Kind::Memory) => {
                    let n: u64 = value.parse().unwrap_or(0);
                    put(
                        name,
                        format!("{name} {}", format_memory(n)),
                        force,
                        &mut lines,
                    );
                }
                (_, Kind::Text) => put(name, format!("{name} {}", repr(value)), force, &mut lines),
                _ => put(name, format!("{name} {value}"), force, &mut lines),
            }
        }
        rewritten.push("replicaof");
        // The other lines of the settings rewritten (a second `port`, old `save` lines) go.
        for (name, rest) in by_option {
            if rewritten.contains(&name.as_str()) {
                for n in rest {
                    lines[n].clear();
                }
            }
        }
        // Every run of blank lines becomes one.
        let mut out = String::new();
        let mut was_empty = false;
        for l in &lines {
            if l.is_empty() {
                if was_empty {
                    continue;
                }
                was_empty = true;
            } else {
                was_empty = false;
            }
            out.push_str(l);
            out.push('\n');
        }
        out
    }

    /// Reads a redis.conf file.
    pub fn load_file(&mut self, path: &str) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Io(path.to_string(), e.to_string()))?;
        self.load_str(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_lines_set_values_and_unknown_ones_fail_with_the_line() {
        let mut c = Config::default();
        c.load_str("# comment\nport 6380\nbind 127.0.0.1 ::1\nproto-max-bulk-len 1mb\n")
            .unwrap();
        assert_eq!(c.get("port"), Some("6380"));
        assert_eq!(c.get("bind"), Some("127.0.0.1 ::1"));
        assert_eq!(c.get("proto-max-bulk-len"), Some("1048576"));
        let e = c.load_str("port 1\nfrobnicate yes\n").unwrap_err();
        assert!(matches!(e, ConfigError::File { line: 2, .. }), "{e:?}");
        assert!(e.to_string().contains("frobnicate yes"));
    }

    #[test]
    fn set_checks_and_get_matches_globs_and_aliases() {
        let mut c = Config::default();
        assert!(matches!(
            c.set("databases", "1", false),
            Err(ConfigError::Immutable(_))
        ));
        assert!(matches!(
            c.set("hz", "x", false),
            Err(ConfigError::NotInteger(_))
        ));
        c.set("loglevel", "WARNING", false).unwrap();
        assert_eq!(c.get("loglevel"), Some("warning"));
        let m = c.matching("hash-max-*");
        assert_eq!(m.len(), 4);
        c.set("hash-max-ziplist-entries", "7", false).unwrap();
        assert_eq!(c.shard_config().hash_max_listpack_entries, 7);
    }

    #[test]
    fn values_that_promise_missing_features_are_refused_naming_the_setting() {
        let mut c = Config::default();
        for (name, value) in [
            ("crash-memcheck-enabled", "yes"),
            ("maxmemory-clients", "10mb"),
            ("notify-keyspace-events", "KEm"),
            ("masterauth", "x"),
            ("replicaof", "127.0.0.1 6379"),
            ("cluster-enabled", "yes"),
            ("tls-dh-params-file", "redis.dh"),
            ("tls-key-file-pass", "secret"),
            ("tls-replication", "yes"),
        ] {
            let e = c.set(name, value, true).unwrap_err();
            assert!(matches!(e, ConfigError::Unsupported(..)), "{name}: {e:?}");
            assert_eq!(e.param(), name);
            let text = e.to_string();
            assert!(text.starts_with(&format!("'{name}' is not supported yet: ")));
            assert!(!text.contains(value), "the value is not echoed: {text}");
        }
        assert_eq!(c, Config::default(), "a refused value changes nothing");
        // The values that promise nothing are accepted.
        for (name, value) in [
            ("requirepass", ""),
            ("save", ""),
            ("appendonly", "NO"),
            ("maxmemory", "0"),
            ("maxmemory-policy", "noeviction"),
            ("timeout", "0"),
            ("cluster-enabled", "no"),
            ("replicaof", ""),
        ] {
            c.set(name, value, true).unwrap();
        }
        assert_eq!(c.get("save"), Some(""));
        assert_eq!(c.get("cluster-enabled"), None, "not listed, not stored");
        let e = c
            .load_str("port 7000\ncrash-memcheck-enabled yes\n")
            .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("at line 2") && text.contains("'crash-memcheck-enabled yes'"));
        assert!(
            text.contains("'crash-memcheck-enabled' is not supported yet"),
            "{text}"
        );
        assert!(matches!(
            c.set("dbfilename", "a/dump.rdb", true),
            Err(ConfigError::Invalid(..))
        ));
        assert_eq!(
            c.set("dir", "/tmp", false),
            Err(ConfigError::Protected("dir".into()))
        );
    }

    #[test]
    fn save_points_are_checked_and_normalized() {
        let mut c = Config::default();
        c.set("save", "3600 1 300 100", false).unwrap();
        assert_eq!(c.get("save"), Some("3600 1 300 100"));
        assert_eq!(c.save_points(), vec![(3600, 1), (300, 100)]);
        for bad in ["3600", "a 1", "1 -1", "3600  1 300 100", "0 1"] {
            let e = c.set("save", bad, false).unwrap_err();
            assert_eq!(e.to_string(), "Invalid save parameters");
        }
        c.set("save", "", false).unwrap();
        assert!(c.save_points().is_empty());
    }

    #[test]
    fn config_rewrite_keeps_comments_replaces_lines_and_appends_what_changed() {
        let old = "# mine\n\nport 7000\n# save points\nsave 900 1\nsave 300 10\nbogus 1\nhz 10\nport 7001\n";
        let mut c = Config::default();
        c.load_str(&old.replace("bogus 1\n", "")).unwrap();
        c.set("hz", "20", false).unwrap();
        c.set("save", "100 5", false).unwrap();
        c.set("proto-max-bulk-len", "64mb", false).unwrap();
        let text = c.rewrite_text(old, false);
        let want_start = "# mine\n\nport 7001\n# save points\nsave 100 5\n\n# ??? bogus 1\nhz 20\n\n# Generated by CONFIG REWRITE\n";
        assert!(text.starts_with(want_start), "{text}");
        assert!(text.contains("\nproto-max-bulk-len 64mb\n"), "{text}");
        assert!(text.contains("\ndir \""), "{text}");
        // As in Redis, the file's last newline makes one blank line at its end, after which
        // rewriting changes nothing.
        let again = c.rewrite_text(&text, false);
        assert_eq!(again, format!("{text}\n"));
        assert_eq!(c.rewrite_text(&again, false), again);
    }

    #[test]
    fn save_lines_replace_the_default_then_add_as_in_redis() {
        let mut c = Config::default();
        assert_eq!(c.get("save"), Some("3600 1 300 100 60 10000"));
        c.load_str("save 900 1\nport 7000\nsave 100 100\n").unwrap();
        assert_eq!(c.get("save"), Some("900 1 100 100"));
        let mut c = Config::default();
        c.load_str("save 900 1\nsave \"\"\nsave 5 5\n").unwrap();
        assert_eq!(c.get("save"), Some("5 5"));
        // CONFIG SET replaces them all.
        c.set("save", "1 1", false).unwrap();
        assert_eq!(c.get("save"), Some("1 1"));
    }

    #[test]
    fn a_forced_rewrite_writes_every_setting_and_reads_back_the_same() {
        let mut c = Config::default();
        c.set("maxmemory", "1mb", false).unwrap();
        c.set("save", "", false).unwrap();
        c.load_str("replicaof no one\n").unwrap();
        let text = c.rewrite_text("", true);
        for p in PARAMS.iter().filter(|p| p.name != "replicaof") {
            assert!(
                text.contains(&format!("\n{} ", p.name)),
                "{}: {text}",
                p.name
            );
        }
        assert!(!text.contains("replicaof"), "{text}");
        let mut back = Config::default();
        back.load_str(&text).unwrap();
        for p in PARAMS.iter().filter(|p| p.name != "dir") {
            assert_eq!(back.get(p.name), c.get(p.name), "{}", p.name);
        }
        // Unforced, only what differs from the defaults (and dir, and save) is written.
        let text = c.rewrite_text("", false);
        assert!(
            text.contains("\nmaxmemory 1mb\n") && !text.contains("hz "),
            "{text}"
        );
    }

    #[test]
    fn redis_checks_come_before_the_refusal_of_a_missing_feature() {
        let mut c = Config::default();
        let invalid = |e: ConfigError| match e {
            ConfigError::Invalid(_, why) => why,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            invalid(c.set("maxmemory-clients", "200%", false).unwrap_err()),
            "percentage argument must be less or equal to 100"
        );
        assert!(matches!(
            c.set("maxmemory-clients", "10%", false),
            Err(ConfigError::Unsupported(..))
        ));
        c.set("maxmemory-clients", "0%", false).unwrap();
        assert_eq!(c.get("maxmemory-clients"), Some("0"));
        assert_eq!(
            invalid(c.set("replicaof", "127.0.0.1 abc", true).unwrap_err()),
            "Invalid master port"
        );
        assert_eq!(
            invalid(c.set("replicaof", "--127.0.0.1", true).unwrap_err()),
            "wrong number of arguments"
        );
        assert!(matches!(
            c.set("slaveof", "127.0.0.1 6379", true),
            Err(ConfigError::Unsupported(n, _)) if n == "slaveof"
        ));
        c.set("replicaof", "no one", true).unwrap();
        assert_eq!(c.get("slaveof"), Some(""));
        assert!(c.matching("key-load*").is_empty());
        assert_eq!(c.matching("key-load-delay"), vec![("key-load-delay", "0")]);
    }

    #[test]
    fn docs_config_md_names_every_setting() {
        let doc = include_str!("../../../docs/config.md");
        for p in PARAMS {
            assert!(doc.contains(&format!("`{}`", p.name)), "{}", p.name);
        }
        for (name, _, _) in NOT_YET {
            assert!(doc.contains(&format!("`{name}`")), "{name}");
        }
    }
}
