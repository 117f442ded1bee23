//! `rustis`: the server binary. Reads the command line (and an optional redis.conf-style file),
//! starts the thread-per-core runtime, and waits for it to stop.

use std::process::ExitCode;

use rustis_runtime::{Config, ServerOptions, StartError};

mod alloc;
mod log;

/// jemalloc, counting what it hands out for INFO's `used_memory` and `maxmemory` (alloc.rs).
#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

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

const USAGE: &str = "Usage: rustis [/path/to/redis.conf] [--port N] [--bind ADDR ...] [--threads N] [--<config-name> <value> ...]
       rustis -v or --version
       rustis -h or --help

  --threads N      threads, each owning one shard of the keyspace (default: one per core)
  --<name> <value> any parameter of the config file, as redis-server takes it: the options are
                   read as config lines after the file's (see docs/config.md)";

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
    /// The options after the file, as config lines (`name "arg" "arg"`), in order.
    lines: Vec<String>,
}

/// The `--version` line, in `redis-server --version`'s format
/// (`Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=...`) so that
/// scripts reading `v=` get the Redis version Rustis answers as (INFO's `redis_version`). It
/// says Rustis where redis-server says Redis, and its `build` is Rustis's own version; there is
/// no git sha in the binary, hence the zeros Redis also prints when built outside git.
fn version_line() -> String {
    let jemalloc = tikv_jemalloc_ctl::version::read()
        .ok()
        .and_then(|v| v.split('-').next().map(str::to_string))
        .unwrap_or_else(|| "5".into());
    format!(
        "Rustis server v={} sha=00000000:0 malloc=jemalloc-{jemalloc} bits={} build=rustis-{}",
        rustis_runtime::REDIS_VERSION,
        usize::BITS,
        env!("CARGO_PKG_VERSION")
    )
}

/// Reads the command line as redis-server does: an optional config file first, then options,
/// each `--name` starting a config line and the words after it being its arguments. A
/// `--name` right after an option that has no argument yet is taken as that option's
/// argument (so `--port --loglevel verbose` is `port "--loglevel" "verbose"`), except after
/// `--save`, which then stands for `save ""`. `--threads N` is Rustis's own.
fn parse_cli(args: &[String]) -> Result<Action, String> {
    if let Some(first) = args.first() {
        match first.as_str() {
            "-v" | "--version" => return Ok(Action::Version),
            "-h" | "--help" => return Ok(Action::Help),
            _ => {}
        }
    }
    let mut cli = Cli {
        config_file: None,
        threads: 0,
        lines: Vec::new(),
    };
    let mut i = 0;
    if let Some(first) = args.first() {
        if !first.starts_with('-') {
            cli.config_file = Some(first.clone());
            i = 1;
        }
    }
    // (name, arguments as given, each with whether it goes into the line as written)
    let mut options: Vec<(String, Vec<(String, bool)>)> = Vec::new();
    let mut has_arg = true;
    while i < args.len() {
        let a = &args[i];
        // `--threads N` is Rustis's own and not a config line: it takes exactly its one
        // argument and leaves the rest to be read as if it were not there (a wrapper may put
        // it anywhere an option may start, e.g. before `loglevel verbose`).
        if has_arg && a == "--threads" {
            let n = args.get(i + 1).map(String::as_str).unwrap_or("");
            cli.threads = match n.trim().parse::<usize>() {
                Ok(n) if n >= 1 => n,
                _ => return Err("--threads takes a number of threads, at least 1".into()),
            };
            i += 2;
            continue;
        }
        if has_arg && a.starts_with("--") {
            let body = &a[2..];
            has_arg = body.contains(' ');
            let mut words = body.splitn(2, ' ');
            let name = words.next().unwrap_or("").to_string();
            let mut values: Vec<(String, bool)> = Vec::new();
            if let Some(rest) = words.next() {
                // "--name value" in one argument goes into the line as written, as in
                // redis-server (so quotes in it are the config file's quotes).
                values.push((rest.to_string(), true));
            }
            if !has_arg && name.eq_ignore_ascii_case("save") {
                let next_is_option = args.get(i + 1).is_some_and(|n| n.starts_with("--"));
                if next_is_option || i + 1 == args.len() {
                    values.push((String::new(), false));
                    has_arg = true;
                }
            }
            options.push((name, values));
        } else if let Some((_, values)) = options.last_mut() {
            values.push((a.clone(), false));
            has_arg = true;
        } else {
            // Before any `--name`, redis-server starts the appended config line with the
            // argument itself, quoted (so `loglevel verbose` as two arguments is that line).
            options.push((rustis_runtime::config::repr(a), Vec::new()));
            has_arg = true;
        }
        i += 1;
    }
    for (name, values) in options {
        let mut line = name;
        for (v, raw) in &values {
            line.push(' ');
            if *raw {
                line.push_str(v);
            } else {
                line.push_str(&rustis_runtime::config::repr(v));
            }
        }
        cli.lines.push(line);
    }
    Ok(Action::Run(cli))
}

fn allocated() -> usize {
    alloc::allocated()
}

/// jemalloc's statistics report (MEMORY MALLOC-STATS), as its `malloc_stats_print` writes it.
fn malloc_stats() -> String {
    unsafe extern "C" fn append(out: *mut std::ffi::c_void, text: *const std::ffi::c_char) {
        // SAFETY: `out` is the `Vec<u8>` passed below, alive for the whole call; jemalloc
        // passes a NUL-terminated string.
        let (out, text) = unsafe { (&mut *(out as *mut Vec<u8>), std::ffi::CStr::from_ptr(text)) };
        out.extend_from_slice(text.to_bytes());
    }
    let mut out: Vec<u8> = Vec::new();
    // SAFETY: the callback only appends to `out`, which outlives the call.
    unsafe {
        tikv_jemalloc_sys::malloc_stats_print(
            Some(append),
            &mut out as *mut Vec<u8> as *mut std::ffi::c_void,
            std::ptr::null(),
        );
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Purges every arena's dirty pages (MEMORY PURGE), as Redis's `jemalloc_purge` does.
fn purge() -> bool {
    // SAFETY: a control name jemalloc knows, with no value read or written.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            c"arena.4096.purge".as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        ) == 0
    }
}

/// Where log lines go: `logfile`, or standard output when it is empty, as in Redis.
fn log_target(logfile: &str) -> std::io::Result<Box<dyn std::io::Write + Send>> {
    if logfile.is_empty() {
        return Ok(Box::new(std::io::stdout()));
    }
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(logfile)?;
    Ok(Box::new(f))
}

/// Detaches from the terminal as `daemonize yes` asks, the way redis-server does: the parent
/// exits, the child starts a new session and points its standard streams at /dev/null. Called
/// before any thread starts.
fn daemonize() {
    // SAFETY: no other thread exists yet, so fork duplicates only this one; the child goes on
    // with a consistent copy of the process.
    unsafe {
        match libc::fork() {
            -1 => return,
            0 => {}
            _ => libc::_exit(0),
        }
        libc::setsid();
        let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if fd != -1 {
            libc::dup2(fd, 0);
            libc::dup2(fd, 1);
            libc::dup2(fd, 2);
            if fd > 2 {
                libc::close(fd);
            }
        }
    }
}

/// Blocks SIGTERM and SIGINT in this thread (and so in every thread started after it) and
/// starts a thread that waits for them and hands each to the server, which shuts down as
/// `shutdown-on-sigterm`/`shutdown-on-sigint` say.
fn block_signals() -> libc::sigset_t {
    // SAFETY: plain libc calls on a sigset_t owned here.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

fn wait_for_signals(set: libc::sigset_t, server: rustis_runtime::Signaller) {
    let _ = std::thread::Builder::new()
        .name("rustis-signals".into())
        .spawn(move || loop {
            let mut sig: libc::c_int = 0;
            // SAFETY: `set` is a valid signal set; sigwait writes the signal taken into `sig`.
            if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
                return;
            }
            server.signal(sig == libc::SIGINT);
        });
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The arguments are read: from here on the process title may be written over them.
    rustis_runtime::process::enable_title();
    let cli = match parse_cli(&args) {
        Ok(Action::Run(cli)) => cli,
        Ok(Action::Help) => {
            eprintln!("{USAGE}");
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
    // The file, then the command line's options as lines after it: the last word wins.
    let mut text = String::new();
    let mut config_file = None;
    if let Some(path) = &cli.config_file {
        match std::fs::read_to_string(path) {
            Ok(t) => text = t,
            Err(e) => {
                let why = e.to_string();
                let why = why.split(" (os error").next().unwrap_or(&why);
                log::raw_line(
                    &mut std::io::stdout(),
                    'C',
                    '#',
                    &format!("Fatal error, can't open config file '{path}': {why}"),
                );
                return ExitCode::from(1);
            }
        }
        config_file = Some(
            std::fs::canonicalize(path)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| path.clone()),
        );
    }
    text.push('\n');
    text.push_str(&cli.lines.join("\n"));
    let mut config = Config::default();
    if let Err(e) = config.load_str(&text) {
        eprintln!("{e}");
        return ExitCode::from(1);
    }
    // Redis changes into `dir` and CONFIG GET shows getcwd(): the default `.` too is shown as
    // the absolute path it is.
    if config.get("dir") == Some(".") {
        if let Err(e) = config.set("dir", ".", true) {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    }
    if config.get("daemonize") == Some("yes") {
        daemonize();
    }
    let logfile = config.get("logfile").unwrap_or("").to_string();
    let target = match log_target(&logfile) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("Can't open the log file: {e}");
            return ExitCode::from(1);
        }
    };
    rustis_runtime::logging::set_level(config.get("loglevel").unwrap_or("notice"));
    log::init(target);
    let pid = std::process::id();
    tracing::warn!("oO0OoO0OoO0Oo Rustis is starting oO0OoO0OoO0Oo");
    tracing::warn!(
        "Rustis version={}, Redis version={}, bits={}, pid={pid}, just started",
        env!("CARGO_PKG_VERSION"),
        rustis_runtime::REDIS_VERSION,
        usize::BITS
    );
    if cli.config_file.is_none() && args.is_empty() {
        tracing::warn!("Warning: no config file specified, using the default config. In order to specify a config file use rustis /path/to/redis.conf");
    } else {
        tracing::warn!("Configuration loaded");
    }
    // Like redis-server: a daemon always has a pid file (Redis's default path).
    let mut pidfile = config.get("pidfile").unwrap_or("").to_string();
    if pidfile.is_empty() && config.get("daemonize") == Some("yes") {
        pidfile = "/var/run/redis.pid".into();
    }
    if !pidfile.is_empty() {
        if let Err(e) = std::fs::write(&pidfile, format!("{pid}\n")) {
            tracing::warn!("Failed to write PID file: {e}");
        }
    }
    rustis_runtime::install_allocator(rustis_runtime::AllocatorHooks {
        stats_text: malloc_stats,
        purge,
    });
    let port = config.get_i64("port");
    let show_logo = config.get("always-show-logo") == Some("yes") || log::stdout_is_tty(&logfile);
    let threads = cli.threads;
    let signals = block_signals();
    // `use-exit-on-panic yes`: a panic anywhere (a bug) ends the process with exit code 1, as
    // Redis's does instead of aborting; otherwise Rust's default handling applies.
    if config.get("use-exit-on-panic") == Some("yes") {
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            default_hook(info);
            tracing::warn!("Exiting on a panic (use-exit-on-panic yes): {info}");
            std::process::exit(1);
        }));
    }
    let title_config = config.clone();
    let title_file = config_file.clone();
    // The banner, as redis-server logs it: after the listeners are bound, before the data is
    // loaded (the test suite waits for its `PID:` line, then for a failed load's messages).
    let on_listening = Box::new(move |port: u16, threads: usize| {
        if show_logo {
            log::banner(pid, port, threads);
        } else {
            tracing::info!("Running mode=standalone, port={port}.");
        }
        tracing::warn!("Server initialized");
    });
    let opts = ServerOptions {
        config,
        threads,
        allocated: Some(allocated),
        config_file,
        on_listening: Some(on_listening),
        ..Default::default()
    };
    let server = match rustis_runtime::start(opts) {
        Ok(s) => s,
        Err(StartError::Listen(addr, e)) => {
            let why = e.to_string();
            let why = why.split(" (os error").next().unwrap_or(&why).to_string();
            // Named as `bind` names it, as Redis does: `*` and `::*` for every address.
            let ip = match addr.ip() {
                std::net::IpAddr::V4(v4) if v4.is_unspecified() => "*".to_string(),
                std::net::IpAddr::V6(v6) if v6.is_unspecified() => "::*".to_string(),
                ip => ip.to_string(),
            };
            tracing::warn!(
                "Warning: Could not create server TCP listening socket {ip}:{}: bind: {why}",
                addr.port()
            );
            tracing::warn!("Failed listening on port {port} (TCP), aborting.");
            remove_pidfile(&pidfile);
            return ExitCode::from(1);
        }
        Err(StartError::Tls(why)) => {
            // As redis-server: the cause, then its summary line, and exit code 1.
            tracing::warn!("{why}");
            tracing::warn!("Failed to configure TLS. Check logs for more info.");
            remove_pidfile(&pidfile);
            return ExitCode::from(1);
        }
        Err(StartError::Load(..)) => {
            // The loaders logged Redis's lines already (the reason, then that it stops), so
            // the pid file goes without a line of its own: theirs stays the last.
            if !pidfile.is_empty() {
                let _ = std::fs::remove_file(&pidfile);
            }
            return ExitCode::from(1);
        }
        Err(e) => {
            tracing::warn!("Could not start: {e}");
            remove_pidfile(&pidfile);
            return ExitCode::from(1);
        }
    };
    rustis_runtime::process::set_title(&title_config, title_file.as_deref());
    if let Err(e) = rustis_runtime::process::apply_oom_score(&title_config) {
        tracing::warn!("{e}");
    }
    tracing::info!("Ready to accept connections");
    wait_for_signals(signals, server.signaller());
    server.wait();
    remove_pidfile(&pidfile);
    tracing::warn!("Rustis is now ready to exit, bye bye...");
    ExitCode::SUCCESS
}

fn remove_pidfile(path: &str) {
    if !path.is_empty() {
        tracing::info!("Removing the pid file.");
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn lines(v: &[&str]) -> Vec<String> {
        match parse_cli(&s(v)) {
            Ok(Action::Run(cli)) => cli.lines,
            other => panic!("a server to run, not {other:?}"),
        }
    }

    #[test]
    fn cli_takes_a_config_file_then_options_as_config_lines() {
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
            cli.lines,
            vec!["port \"7000\"", "bind \"127.0.0.1\" \"::1\""]
        );
        assert!(parse_cli(&s(&["--threads", "0"])).is_err());
        assert!(parse_cli(&s(&["--threads"])).is_err());
        // `--threads N` takes one argument; what follows reads as if it were not there.
        let Ok(Action::Run(cli)) = parse_cli(&s(&[
            "redis.conf",
            "--threads",
            "2",
            "loglevel",
            "verbose",
            "--maxmemory '7mb'",
        ])) else {
            panic!("a server to run")
        };
        assert_eq!(cli.threads, 2);
        assert_eq!(
            cli.lines,
            vec!["\"loglevel\" \"verbose\"", "maxmemory '7mb'"]
        );
        let Ok(Action::Run(cli)) = parse_cli(&s(&["--save", "--threads", "3"])) else {
            panic!("a server to run")
        };
        assert_eq!((cli.threads, cli.lines), (3, vec!["save \"\"".to_string()]));
        assert_eq!(parse_cli(&s(&["--help"])), Ok(Action::Help));
        assert_eq!(parse_cli(&s(&["-v"])), Ok(Action::Version));
    }

    #[test]
    fn an_option_without_argument_takes_the_next_one_as_redis_server_does() {
        assert_eq!(lines(&["--port"]), vec!["port"]);
        assert_eq!(
            lines(&["--port", "--loglevel", "verbose"]),
            vec!["port \"--loglevel\" \"verbose\""]
        );
        assert_eq!(
            lines(&["--save", "--loglevel", "verbose"]),
            vec!["save \"\"", "loglevel \"verbose\""]
        );
        assert_eq!(
            lines(&["--loglevel", "verbose", "--save"]),
            vec!["loglevel \"verbose\"", "save \"\""]
        );
        // Name and value in one argument: the value as written, as redis-server appends it.
        assert_eq!(lines(&["--port 6380"]), vec!["port 6380"]);
        assert_eq!(lines(&["--maxmemory '7mb'"]), vec!["maxmemory '7mb'"]);
        // A bare word after the config file, before any option, starts the line, quoted.
        assert_eq!(
            lines(&["redis.conf", "loglevel", "verbose"]),
            vec!["\"loglevel\" \"verbose\""]
        );
        assert_eq!(lines(&["--x", "a\"b\n"]), vec!["x \"a\\\"b\\n\""]);
    }

    #[test]
    fn command_line_errors_name_the_line_as_redis_server_does() {
        let load = |v: &[&str]| {
            let Ok(Action::Run(cli)) = parse_cli(&s(v)) else {
                panic!()
            };
            let mut c = Config::default();
            c.load_str(&format!("\n{}", cli.lines.join("\n")))
                .unwrap_err()
                .to_string()
        };
        let e = load(&["--port", "6379", "6380"]);
        assert!(
            e.contains(">>> 'port \"6379\" \"6380\"'\nwrong number of arguments"),
            "{e}"
        );
        assert!(e.contains("at line 2"), "{e}");
        let e = load(&["--port", "--bla", "--loglevel", "verbose"]);
        assert!(e.contains("'port \"--bla\"'\nargument couldn't be parsed into an integer"));
        let e = load(&["--shutdown-on-sigint"]);
        assert!(e.contains("'shutdown-on-sigint'\nargument(s) must be one of the following"));
    }

    #[test]
    fn version_line_has_redis_servers_fields() {
        let line = version_line();
        let words: Vec<&str> = line.split(' ').collect();
        assert_eq!(words[0], "Rustis");
        assert_eq!(words[1], "server");
        assert_eq!(words[2], format!("v={}", rustis_runtime::REDIS_VERSION));
        assert_eq!(words[3], "sha=00000000:0");
        assert!(words[4].starts_with("malloc=jemalloc-5."), "{line}");
        assert_eq!(words[5], format!("bits={}", usize::BITS));
        assert_eq!(
            words[6],
            format!("build=rustis-{}", env!("CARGO_PKG_VERSION"))
        );
    }
}
