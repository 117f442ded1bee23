//! Server configuration: the parameters CONFIG GET/SET know, their defaults and checks, and
//! the redis.conf reader.
//!
//! This is control-plane state: the table sits behind one lock that only CONFIG, INFO and
//! startup take. Settings that shards need are copied into each shard's `ShardConfig`.

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
}

impl ConfigError {
    /// The parameter the error is about.
    pub fn param(&self) -> &str {
        match self {
            ConfigError::Unknown(p)
            | ConfigError::NotInteger(p)
            | ConfigError::Invalid(p, _)
            | ConfigError::Immutable(p) => p,
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
}

const fn p(name: &'static str, kind: Kind, default: &'static str, mutable: bool) -> Param {
    Param {
        name,
        alias: None,
        kind,
        default,
        mutable,
    }
}

const fn pa(name: &'static str, alias: &'static str, kind: Kind, default: &'static str) -> Param {
    Param {
        name,
        alias: Some(alias),
        kind,
        default,
        mutable: true,
    }
}

const MAX: i64 = i64::MAX;

/// Every parameter Rustis knows. Ones that do nothing yet are absent rather than pretended.
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
    p("logfile", Kind::Text, "", false),
    p("daemonize", Kind::Bool, "no", false),
    p("protected-mode", Kind::Bool, "yes", true),
    p("save", Kind::Text, "", true),
    p("appendonly", Kind::Bool, "no", true),
    p("dir", Kind::Text, ".", true),
    p("dbfilename", Kind::Text, "dump.rdb", true),
    p("maxmemory", Kind::Memory, "0", true),
    p(
        "maxmemory-policy",
        Kind::Enum(&[
            "noeviction",
            "allkeys-lru",
            "volatile-lru",
            "allkeys-lfu",
            "volatile-lfu",
            "allkeys-random",
            "volatile-random",
            "volatile-ttl",
        ]),
        "noeviction",
        true,
    ),
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
    p("requirepass", Kind::Text, "", true),
];

/// The live configuration: one value per parameter, as text (CONFIG GET's form).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    values: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            values: PARAMS.iter().map(|p| p.default.to_string()).collect(),
        }
    }
}

fn find(name: &str) -> Option<usize> {
    let lower = name.to_ascii_lowercase();
    PARAMS
        .iter()
        .position(|p| p.name == lower || p.alias == Some(lower.as_str()))
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

impl Config {
    /// Sets a parameter from its text value, checking it. `startup` allows immutable ones.
    pub fn set(&mut self, name: &str, value: &str, startup: bool) -> Result<(), ConfigError> {
        let idx = find(name).ok_or_else(|| ConfigError::Unknown(name.to_string()))?;
        let param = &PARAMS[idx];
        if !param.mutable && !startup {
            return Err(ConfigError::Immutable(param.name.to_string()));
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
                value.to_string()
            }
        };
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
        }
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
        c.load_str("# comment\nport 6380\nbind 127.0.0.1 ::1\nmaxmemory 1mb\n")
            .unwrap();
        assert_eq!(c.get("port"), Some("6380"));
        assert_eq!(c.get("bind"), Some("127.0.0.1 ::1"));
        assert_eq!(c.get("maxmemory"), Some("1048576"));
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
        c.set("maxmemory-policy", "ALLKEYS-LRU", false).unwrap();
        assert_eq!(c.get("maxmemory-policy"), Some("allkeys-lru"));
        let m = c.matching("hash-max-*");
        assert_eq!(m.len(), 4);
        c.set("hash-max-ziplist-entries", "7", false).unwrap();
        assert_eq!(c.shard_config().hash_max_listpack_entries, 7);
    }
}
