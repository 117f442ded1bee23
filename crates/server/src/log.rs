//! The server log, in redis-server's line format so that tools (and Redis's own test suite)
//! reading a Redis log read Rustis's: `<pid>:<role> <day> <month> <year> <time>.<ms> <level>
//! <message>`, the level being `.` debug, `-` verbose, `*` notice, `#` warning. Events come from
//! `tracing`; which are written is `loglevel` (`rustis_runtime::logging`), or the
//! `RUSTIS_LOG` filter when that variable is set.

use std::fmt;
use std::io::Write;
use std::sync::Mutex;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

/// Redis's level marks, by `rustis_runtime::logging::redis_level`.
const MARKS: [char; 4] = ['.', '-', '*', '#'];

/// Formats an event as a Redis log line.
struct RedisFormat;

impl<S, N> FormatEvent<S, N> for RedisFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mark = MARKS[rustis_runtime::logging::redis_level(event.metadata().level())];
        write!(writer, "{}:M {} {mark} ", std::process::id(), timestamp())?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Installs the log: every event goes to `target` (a file or standard output) as a Redis
/// line.
pub fn init(target: Box<dyn Write + Send>) {
    let writer = Mutex::new(target);
    let layer = tracing_subscriber::fmt::layer()
        .event_format(RedisFormat)
        .with_writer(writer)
        .with_ansi(false);
    match tracing_subscriber::EnvFilter::try_from_env("RUSTIS_LOG") {
        Ok(filter) => tracing_subscriber::registry()
            .with(layer.with_filter(filter))
            .init(),
        Err(_) => tracing_subscriber::registry()
            .with(
                layer.with_filter(tracing_subscriber::filter::filter_fn(|meta| {
                    rustis_runtime::logging::enabled(meta.level())
                })),
            )
            .init(),
    }
}

/// Writes one log line before the log is installed (a fatal config error), with the role
/// Redis gives the process at that point (`C`).
pub fn raw_line(out: &mut dyn Write, role: char, mark: char, msg: &str) {
    let _ = writeln!(
        out,
        "{}:{role} {} {mark} {msg}",
        std::process::id(),
        timestamp()
    );
}

/// Whether the log goes to a terminal (Redis then always shows its logo).
pub fn stdout_is_tty(logfile: &str) -> bool {
    // SAFETY: isatty only reads the descriptor's state.
    logfile.is_empty() && unsafe { libc::isatty(1) == 1 }
}

/// The startup banner, written as raw lines like Redis's logo (which `always-show-logo`
/// asks for): it carries the `PID: <pid>` that Redis's test suite waits for.
pub fn banner(pid: u32, port: u16, threads: usize) {
    tracing::info!(
        "\n\n    Rustis {} (Redis {} compatible) {} bit\n    Running mode=standalone, {threads} thread(s)\n    Port: {port}\n    PID: {pid}\n",
        env!("CARGO_PKG_VERSION"),
        rustis_runtime::REDIS_VERSION,
        usize::BITS
    );
}

/// The local time as Redis's log shows it: `02 Dec 2026 18:01:46.372`.
fn timestamp() -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    // SAFETY: localtime_r fills the zeroed `tm` it is given from a valid time_t.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&secs, &mut tm);
        tm
    };
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        now.subsec_millis()
    )
}
