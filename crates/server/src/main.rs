//! `rustis`: the server binary. Reads the command line (and an optional redis.conf-style file),
//! starts the thread-per-core runtime, and waits for it to stop.

use std::process::ExitCode;

use rustis_runtime::{Config, ServerOptions};

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, which it reads (as a C `const char *`) before `main`.
///
/// `oversize_threshold`: allocations of 2 MiB and more come from jemalloc's dedicated arena,
/// which returns freed pages to the kernel at once instead of keeping them dirty for reuse
/// (the default threshold is 8 MiB). The big ones are the keyspace's bucket arrays: each
/// rehash frees the old array, and with the default those pages stayed resident, about
/// 4 bytes per key after loading 1M keys. `_RJEM_MALLOC_CONF` in the environment still
/// overrides it.
// An `Option<&u8>` has the layout of a nullable `const char *`; the byte string is
// NUL-terminated and 'static, as jemalloc requires.
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
static malloc_conf: Option<&'static u8> = Some(&b"oversize_threshold:2097152\0"[0]);

const USAGE: &str = "Usage: rustis [/path/to/redis.conf] [--port N] [--bind ADDR ...] [--threads N] [--databases N] [--<config-name> <value> ...]

  --port N         TCP port (default 6379)
  --bind ADDR      addresses to listen on (default 127.0.0.1)
  --threads N      threads, each owning one shard of the keyspace (default: one per core)
  --databases N    number of databases (default 16)
  --<name> <value> any other parameter CONFIG GET knows, as redis-server accepts it
  -h, --help       this text
  -v, --version    the version";

/// What the command line asked for.
#[derive(Debug, PartialEq)]
enum Action {
    /// Start the server.
    Run(Cli),
    /// Print the usage.
    Help,
    /// Print the version line.
    Version,
}

/// The server to start.
#[derive(Debug, PartialEq)]
struct Cli {
    config_file: Option<String>,
    threads: usize,
    settings: Vec<(String, String)>,
}

/// The `--version` line, shaped like `redis-server --version`'s
/// (`Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=...`) so that
/// scripts reading the third word or `v=` get the Redis version Rustis answers as (INFO's
/// `redis_version`); it names Rustis and gives Rustis's own version last. There is no git sha
/// or build id, hence the zeros.
fn version_line() -> String {
    format!(
        "Rustis server v={} sha=00000000:0 malloc=jemalloc bits={} build=0 rustis={}",
        rustis_runtime::REDIS_VERSION,
        usize::BITS,
        env!("CARGO_PKG_VERSION")
    )
}

fn parse_cli(args: &[String]) -> Result<Action, String> {
    let mut cli = Cli {
        config_file: None,
        threads: 0,
        settings: Vec::new(),
    };
    let mut i = 0;
    if let Some(first) = args.first() {
        if !first.starts_with('-') {
            cli.config_file = Some(first.clone());
            i = 1;
        }
    }
    while i < args.len() {
        let a = &args[i];
        match a.as_str() {
            "-h" | "--help" => return Ok(Action::Help),
            "-v" | "--version" => return Ok(Action::Version),
            _ => {}
        }
        let Some(name) = a.strip_prefix("--") else {
            return Err(format!("unexpected argument '{a}'\n\n{USAGE}"));
        };
        // A parameter takes every following word up to the next `--name` (bind, save).
        let mut values = Vec::new();
        i += 1;
        while i < args.len() && !(args[i].starts_with("--") && args[i].len() > 2) {
            values.push(args[i].clone());
            i += 1;
        }
        if values.is_empty() && name != "save" {
            return Err(format!("missing value for --{name}\n\n{USAGE}"));
        }
        if name == "threads" {
            cli.threads = match values.join(" ").parse::<usize>() {
                Ok(n) if n >= 1 => n,
                _ => return Err("--threads takes a number of threads, at least 1".into()),
            };
        } else {
            cli.settings.push((name.to_string(), values.join(" ")));
        }
    }
    Ok(Action::Run(cli))
}

fn allocated() -> usize {
    let _ = tikv_jemalloc_ctl::epoch::advance();
    tikv_jemalloc_ctl::stats::allocated::read().unwrap_or(0)
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RUSTIS_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cli = match parse_cli(&args) {
        Ok(Action::Run(cli)) => cli,
        Ok(Action::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Action::Version) => {
            println!("{}", version_line());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let mut config = Config::default();
    if let Some(path) = &cli.config_file {
        if let Err(e) = config.load_file(path) {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    }
    for (name, value) in &cli.settings {
        if let Err(e) = config.set(name, value, true) {
            eprintln!("*** FATAL CONFIG ERROR *** --{name} {value}: {e}");
            return ExitCode::from(1);
        }
    }
    let opts = ServerOptions {
        config,
        threads: cli.threads,
        allocated: Some(allocated),
        config_file: cli.config_file.clone(),
        ..Default::default()
    };
    let server = match rustis_runtime::start(opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("could not start: {e}");
            return ExitCode::from(1);
        }
    };
    tracing::info!(
        "Rustis {} ready to accept connections on {:?}",
        env!("CARGO_PKG_VERSION"),
        server.addrs()
    );
    server.wait();
    tracing::info!("Rustis is now ready to exit, bye bye...");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn cli_takes_a_config_file_then_flags() {
        let Ok(Action::Run(cli)) = parse_cli(&s(&[
            "redis.conf",
            "--port",
            "7000",
            "--threads",
            "4",
            "--bind",
            "127.0.0.1",
            "::1",
        ])) else {
            panic!("a server to run")
        };
        assert_eq!(cli.config_file.as_deref(), Some("redis.conf"));
        assert_eq!(cli.threads, 4);
        assert_eq!(
            cli.settings,
            vec![
                ("port".to_string(), "7000".to_string()),
                ("bind".to_string(), "127.0.0.1 ::1".to_string())
            ]
        );
        assert!(parse_cli(&s(&["--threads", "0"])).is_err());
        assert!(parse_cli(&s(&["--port"])).is_err());
        assert_eq!(parse_cli(&s(&["--help"])), Ok(Action::Help));
        assert_eq!(parse_cli(&s(&["-v"])), Ok(Action::Version));
        assert_eq!(
            parse_cli(&s(&["--port", "1", "--version"])),
            Ok(Action::Version)
        );
    }

    #[test]
    fn version_line_is_shaped_like_redis_servers() {
        let line = version_line();
        let words: Vec<&str> = line.split(' ').collect();
        assert_eq!(words[0], "Rustis");
        assert_eq!(words[1], "server");
        assert_eq!(words[2], format!("v={}", rustis_runtime::REDIS_VERSION));
        assert!(words[3].starts_with("sha=") && words[4].starts_with("malloc="));
        assert!(line.ends_with(&format!("rustis={}", env!("CARGO_PKG_VERSION"))));
    }
}
