//! What the server does to its own process, as Redis does: the process title
//! (`proc-title-template`, `set-proc-title`) and the kernel's OOM score (`oom-score-adj`,
//! `oom-score-adj-values`).
//!
//! The title is written over the process's argument area, which is what `/proc/<pid>/cmdline`
//! and `ps` show, the way Redis's `setproctitle` does; only the `rustis` binary turns this on
//! ([`enable_title`]), so a server embedded in another program (the tests) leaves that
//! program's command line alone. The area is the length of the original command line: a
//! longer title is cut there, as Redis cuts it at the end of the space it has.

use std::sync::Mutex;

use crate::config::Config;

/// The argument area (`arg_start`, `arg_end` of `/proc/self/stat`) and the process's first
/// argument as started, once [`enable_title`] ran.
static TITLE_AREA: Mutex<Option<(usize, usize, String)>> = Mutex::new(None);

/// Expands a title template as Redis's `sdstemplate` does: `{name}` is a variable (unknown
/// names and an unclosed `{` fail), `{{` is a literal `{`; the result is trimmed of spaces.
pub fn expand_title(template: &str, var: impl Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        if after.is_empty() {
            return None;
        }
        if let Some(quoted) = after.strip_prefix('{') {
            out.push('{');
            rest = quoted;
            continue;
        }
        let close = after.find('}')?;
        out.push_str(&var(&after[..close])?);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Some(out.trim_matches(' ').to_string())
}

/// The variables of a title template, as Redis's `redisProcTitleGetVariable` gives them.
fn variable(name: &str, cfg: &Config, title: &str, config_file: &str) -> Option<String> {
    let port = cfg.get_i64("port");
    let tls_port = cfg.get_i64("tls-port");
    Some(match name {
        "title" => title.to_string(),
        "listen-addr" => {
            let bind = cfg.get("bind").unwrap_or("").split_whitespace().next();
            let p = if port != 0 { port } else { tls_port };
            if p != 0 {
                format!("{}:{p}", bind.unwrap_or("*"))
            } else {
                "unixsocket:".to_string()
            }
        }
        // Neither cluster nor sentinel mode exists here: always standalone.
        "server-mode" | "unixsocket" => String::new(),
        "config-file" => config_file.to_string(),
        "port" => port.to_string(),
        "tls-port" => tls_port.to_string(),
        _ => return None,
    })
}

/// Whether `template` is a valid `proc-title-template` for `cfg`: it expands (known variables,
/// balanced braces) to something not empty, as Redis's `validateProcTitleTemplate` checks.
pub fn valid_title_template_for(template: &str, cfg: &Config) -> bool {
    expand_title(template, |v| variable(v, cfg, "", "")).is_some_and(|t| !t.is_empty())
}

/// Turns on process titles for this process: remembers where the argument area is. Call it
/// once, early in `main`, before anything else reads the arguments.
pub fn enable_title() {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    // Fields after the command name (which may hold spaces), from field 3 on.
    let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return;
    };
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<usize>().ok());
    let (Some(start), Some(end)) = (field(48), field(49)) else {
        return;
    };
    if end <= start + 1 {
        return;
    }
    let argv0 = std::env::args().next().unwrap_or_default();
    if let Ok(mut area) = TITLE_AREA.lock() {
        *area = Some((start, end, argv0));
    }
}

/// Sets the process title from `proc-title-template` when `set-proc-title` is `yes` and
/// [`enable_title`] ran; `config_file` is the absolute path of the config file, if any.
pub fn set_title(cfg: &Config, config_file: Option<&str>) {
    if cfg.get("set-proc-title") != Some("yes") {
        return;
    }
    let Ok(area) = TITLE_AREA.lock() else {
        return;
    };
    let Some((start, end, argv0)) = area.as_ref() else {
        return;
    };
    let template = cfg.get("proc-title-template").unwrap_or("");
    let Some(title) = expand_title(template, |v| {
        variable(v, cfg, argv0, config_file.unwrap_or(""))
    }) else {
        return;
    };
    let len = end - start;
    let n = title.len().min(len - 2);
    // SAFETY: [start, end) is this process's argument area, as the kernel reports it: memory
    // of the initial stack that stays mapped and writable for the life of the process.
    // Nothing else writes it, and the lock above keeps two titles from being written at once.
    // After the title comes a NUL, then NULs up to a last byte that is not one, which tells
    // the kernel that the title ends at the first NUL (its `setproctitle` convention).
    unsafe {
        let p = *start as *mut u8;
        std::ptr::copy_nonoverlapping(title.as_ptr(), p, n);
        std::ptr::write_bytes(p.add(n), 0, len - n - 1);
        *p.add(len - 1) = b' ';
    }
}

/// The OOM score this process had before `oom-score-adj` first changed it, once it has.
static OOM_BASE: Mutex<Option<i64>> = Mutex::new(None);

const OOM_FILE: &str = "/proc/self/oom_score_adj";

/// Applies `oom-score-adj` as Redis's `setOOMScoreAdj` does for a master (Rustis is always
/// one, and never forks a child): `yes`/`relative` adds the first of `oom-score-adj-values`
/// to the score the process started with, `absolute` sets it, `no` restores the score it had
/// before Redis-style control began. The result is clamped to -1000..=1000.
pub fn apply_oom_score(cfg: &Config) -> Result<(), String> {
    let mode = cfg.get("oom-score-adj").unwrap_or("no");
    let mut base = OOM_BASE.lock().map_err(|_| "poisoned".to_string())?;
    let val = if mode != "no" {
        let b = match *base {
            Some(b) => b,
            None => {
                let text = std::fs::read_to_string(OOM_FILE).map_err(|e| {
                    format!(
                        "Unable to read oom_score_adj: {}",
                        crate::config::io_reason(&e)
                    )
                })?;
                let b = text.trim().parse().unwrap_or(0);
                *base = Some(b);
                b
            }
        };
        let master: i64 = cfg
            .get("oom-score-adj-values")
            .and_then(|v| v.split(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let v = if mode == "absolute" {
            master
        } else {
            master + b
        };
        v.clamp(-1000, 1000)
    } else if let Some(b) = base.take() {
        b
    } else {
        return Ok(());
    };
    std::fs::write(OOM_FILE, format!("{val}\n")).map_err(|e| {
        format!(
            "Unable to write oom_score_adj: {}",
            crate::config::io_reason(&e)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand_as_redis_sdstemplate_does() {
        let cfg = Config::default();
        let v = |n: &str| variable(n, &cfg, "/bin/rustis", "/etc/redis.conf");
        assert_eq!(
            expand_title("{title} {listen-addr} {server-mode}", v).as_deref(),
            Some("/bin/rustis *:6379")
        );
        assert_eq!(
            expand_title("TEST {port} {tls-port} {{x}} {config-file}", v).as_deref(),
            Some("TEST 6379 0 {x}} /etc/redis.conf")
        );
        assert_eq!(expand_title("{invalid-var}", v), None);
        assert_eq!(expand_title("abc {", v), None);
        assert_eq!(expand_title("{title", v), None);
        assert!(valid_title_template_for("--my--title--template", &cfg));
        assert!(!valid_title_template_for("{server-mode}", &cfg));
        assert!(!valid_title_template_for("{bogus}", &cfg));
    }
}
