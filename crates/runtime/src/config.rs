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
    #[error("\n*** FATAL CONFIG FILE ERROR ***\nReading the configuration file, at line {line}\n>>> '{text}'\n{reason}")]
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
}

const fn p(name: &'static str, kind: Kind, default: &'static str, mutable: bool) -> Param {
    Param {
        name,
        alias: None,
        kind,
        default,
        mutable,
        only: None,
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
    }
}

const NO_AUTH: &str = "there is no AUTH or ACL yet, so a password would not be checked";
const NO_AOF: &str = "the append-only file is not implemented yet, so nothing would be written";
const NO_EVICTION: &str =
    "memory limits and eviction are not implemented yet, so memory use would not be bounded";
const NO_REPLICATION: &str = "replication is not implemented yet";

/// Redis parameters and redis.conf directives that Rustis does not list in CONFIG GET, since
/// any value shown would claim something, and refuses to set: a clearer answer than "unknown".
/// `(name, the one value accepted (it changes nothing), why)`. The value is compared as
/// written, lowercased.
static NOT_YET: &[(&str, Option<&str>, &str)] = &[
    ("masterauth", Some(""), NO_REPLICATION),
    ("masteruser", Some(""), NO_REPLICATION),
    ("replicaof", Some(""), NO_REPLICATION),
    ("slaveof", Some(""), NO_REPLICATION),
    (
        "cluster-enabled",
        Some("no"),
        "cluster mode is not implemented yet",
    ),
    ("aclfile", Some(""), NO_AUTH),
    ("user", None, NO_AUTH),
    ("appendfsync", None, NO_AOF),
    ("appendfilename", None, NO_AOF),
    (
        "client-query-buffer-limit",
        None,
        "client query buffers are limited only by proto-max-bulk-len yet",
    ),
    ("tls-port", Some("0"), "TLS is not implemented yet"),
    ("tls-cert-file", Some(""), "TLS is not implemented yet"),
    ("tls-key-file", Some(""), "TLS is not implemented yet"),
    ("tls-ca-cert-file", Some(""), "TLS is not implemented yet"),
    (
        "unixsocket",
        Some(""),
        "Unix sockets are not implemented yet",
    ),
    (
        "rename-command",
        None,
        "commands cannot be renamed yet, so a renamed command would stay callable",
    ),
    ("loadmodule", None, "modules are not supported"),
    (
        "include",
        None,
        "config files cannot include other files yet",
    ),
];

const MAX: i64 = i64::MAX;

/// Parameters CONFIG SET refuses as Redis 7.0 does by default (`enable-protected-configs no`):
/// they say where snapshots are written. They are set at startup.
const PROTECTED: &[&str] = &["dir", "dbfilename"];

/// Every parameter CONFIG GET lists. Each is enforced, or has no effect whatever its value
/// (a tuning knob with no counterpart here), or accepts only the value that promises nothing
/// (`only_default`); docs/config.md says which. Parameters whose every value would claim
/// something are absent (see [`NOT_YET`]).
static PARAMS: &[Param] = &[
    p("bind", Kind::Text, "127.0.0.1", false),
    p("port", Kind::Int(0, 65535), "6379", false),
    p("databases", Kind::Int(1, i32::MAX as i64), "16", false),
    p("io-threads", Kind::Int(1, 128), "1", false),
    p("maxclients", Kind::Int(1, MAX), "10000", true),
    p("proto-max-bulk-len", Kind::Memory, "536870912", true),
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
    only_default(
        "logfile",
        Kind::Text,
        "",
        false,
        "logs go to standard error only",
    ),
    only_default(
        "daemonize",
        Kind::Bool,
        "no",
        false,
        "Rustis does not detach into the background; run it under a supervisor",
    ),
    p("protected-mode", Kind::Bool, "yes", true),
    p("save", Kind::Text, "", true),
    only_default("appendonly", Kind::Bool, "no", true, NO_AOF),
    p("dir", Kind::Text, ".", true),
    p("dbfilename", Kind::Text, "dump.rdb", true),
    p("rdbcompression", Kind::Bool, "yes", true),
    p("rdbchecksum", Kind::Bool, "yes", true),
    only_default("maxmemory", Kind::Memory, "0", true, NO_EVICTION),
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
        only: Some(("noeviction", NO_EVICTION)),
    },
    p("lua-time-limit", Kind::Int(0, MAX), "5000", true),
    p("slowlog-log-slower-than", Kind::Int(-1, MAX), "10000", true),
    p("slowlog-max-len", Kind::Int(0, MAX), "128", true),
    p("notify-keyspace-events", Kind::Text, "", true),
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
        "128",
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
    only_default("requirepass", Kind::Text, "", true, NO_AUTH),
    p(
        "client-output-buffer-limit",
        Kind::Text,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        true,
    ),
];

/// Why a limit on normal clients' output buffers is refused.
const NO_NORMAL_LIMIT: &str =
    "output buffers of normal clients are not limited yet (the pubsub class is)";

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
    if classes[0] != [0, 0, 0] {
        return Err(ConfigError::Unsupported(name.to_string(), NO_NORMAL_LIMIT));
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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            values: PARAMS.iter().map(|p| p.default.to_string()).collect(),
            notify_flags: 0,
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

impl Config {
    /// Sets a parameter from its text value, checking it. `startup` allows immutable ones.
    pub fn set(&mut self, name: &str, value: &str, startup: bool) -> Result<(), ConfigError> {
        let Some(idx) = find(name) else {
            return not_yet(name, value);
        };
        let param = &PARAMS[idx];
        if !param.mutable && !startup {
            return Err(ConfigError::Immutable(param.name.to_string()));
        }
        if PROTECTED.contains(&param.name) && !startup {
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
            Kind::Memory => parse_memory(value)
                .ok_or_else(|| {
                    ConfigError::Invalid(
                        param.name.to_string(),
                        "argument must be a memory value".into(),
                    )
                })?
                .to_string(),
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
                        if a.parse::<IpAddr>().is_err() && a != "localhost" && a != "*" {
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
                if param.name == "client-output-buffer-limit" {
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
                return Err(ConfigError::Unsupported(param.name.to_string(), why));
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
        let v: Vec<u64> = self
            .get("client-output-buffer-limit")
            .unwrap_or("")
            .split_whitespace()
            .skip(9)
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
        }
    }

    /// The data files that exist where this configuration says Redis would load them from at
    /// startup and that Rustis cannot load: an AOF manifest
    /// (`dir`/appendonlydir/appendonly.aof.manifest). A server must not start over one: it
    /// would look fine while serving none of that data. (The RDB file, [`Config::rdb_path`],
    /// is loaded.)
    pub fn data_files(&self) -> Vec<std::path::PathBuf> {
        let dir = std::path::Path::new(self.get("dir").unwrap_or("."));
        let candidates = [dir.join("appendonlydir").join("appendonly.aof.manifest")];
        candidates.into_iter().filter(|p| p.exists()).collect()
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

    /// Reads redis.conf-style text: one directive per line, arguments split like redis-cli
    /// splits them, `#` comments. An unknown directive is an error naming the line.
    pub fn load_str(&mut self, text: &str) -> Result<(), ConfigError> {
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
            if rest.is_empty() {
                return Err(err("Bad directive or wrong number of arguments".into()));
            }
            // Multi-word values (bind, save) are kept as one space-separated value.
            let value = rest.join(" ");
            self.set(name, &value, true).map_err(|e| match e {
                ConfigError::Unknown(_) => err("Bad directive or wrong number of arguments".into()),
                other => err(other.to_string()),
            })?;
        }
        Ok(())
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
            c.set("port", "1", false),
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
            ("requirepass", "secret"),
            ("appendonly", "yes"),
            ("maxmemory", "1mb"),
            ("maxmemory-policy", "allkeys-lru"),
            ("notify-keyspace-events", "KEm"),
            ("logfile", "/tmp/rustis.log"),
            ("daemonize", "yes"),
            ("masterauth", "x"),
            ("replicaof", "127.0.0.1 6379"),
            ("cluster-enabled", "yes"),
            ("tls-port", "6380"),
            ("user", "alice on >pw"),
            ("client-output-buffer-limit", "normal 1mb 1mb 0"),
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
        let e = c.load_str("port 7000\nappendonly yes\n").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("at line 2") && text.contains("'appendonly yes'"));
        assert!(text.contains("'appendonly' is not supported yet"), "{text}");
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
