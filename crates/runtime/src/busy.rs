//! A thread busy in a long script (past `lua-time-limit`) keeps answering, as Redis does.
//!
//! While a script runs, its thread runs nothing else: its connection tasks are not polled. Once
//! the script has run for `lua-time-limit` milliseconds, the thread is marked busy
//! (`Shared::busy`): every other thread then answers commands without the `allow_busy` flag
//! with `-BUSY` (in dispatch), and this thread, from the script's periodic hook, answers its
//! own connections that are waiting for a request with nothing read or unwritten
//! (`Session::idle`): it peeks their sockets, parses the complete commands there, takes
//! exactly those bytes, and replies straight to the socket. SCRIPT KILL and FUNCTION KILL
//! work from any connection, SHUTDOWN NOSAVE stops the script and the server, MULTI, DISCARD,
//! UNWATCH, RESET and QUIT do what they do, anything else gets `-BUSY` (and marks an open
//! transaction as failed).

use std::rc::Rc;
use std::sync::atomic::Ordering;

use bytes::{Bytes, BytesMut};
use rustis_commands::args::eq_ic;
use rustis_commands::registry::flags;
use rustis_commands::{CommandSpec, ConnCmd, Out, Run};
use rustis_resp::errors::{unknown_command, unknown_subcommand, wrong_args};

use crate::dispatch::REGISTRY;
use crate::session::Session;
use crate::worker::Worker;

const BUSY_SCRIPT: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// The function that keeps a thread busy, as FUNCTION STATS shows it (`running_script`).
pub(crate) struct BusyRun {
    /// The function's name, as the caller gave it.
    pub name: Bytes,
    /// The caller's command (FCALL or FCALL_RO and its arguments).
    pub command: Vec<Bytes>,
    pub started: std::time::Instant,
}

/// The `-BUSY` error for the script that keeps the server busy, if any.
pub(crate) fn busy_error(w: &Worker) -> Option<&'static str> {
    if w.shared.busy_count.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let kind = w
        .shared
        .busy
        .iter()
        .map(|b| b.load(Ordering::Relaxed))
        .max()?;
    match kind {
        0 => None,
        1 => Some(BUSY_SCRIPT),
        _ => Some(BUSY_FUNCTION),
    }
}

/// Whether a command runs even while a script keeps the server busy (`allow_busy`, on the
/// command or on its subcommand: SCRIPT KILL, FUNCTION KILL, FUNCTION STATS).
pub(crate) fn allowed(spec: &CommandSpec, args: &[Bytes]) -> bool {
    if spec.flags & flags::ALLOW_BUSY != 0 {
        return true;
    }
    !spec.subcommands.is_empty()
        && args
            .get(1)
            .and_then(|a| spec.subcommand(a))
            .is_some_and(|sub| sub.flags & flags::ALLOW_BUSY != 0)
}

/// Marks this thread busy, with `function` or else with an EVAL script.
pub(crate) fn enter(w: &Worker, function: Option<BusyRun>) {
    let kind = if function.is_some() { 2 } else { 1 };
    *lock_run(w, w.id) = function;
    if w.shared.busy[w.id].swap(kind, Ordering::Relaxed) == 0 {
        w.shared.busy_count.fetch_add(1, Ordering::Relaxed);
    }
}

/// Ends this thread's busy state.
pub(crate) fn leave(w: &Worker) {
    *lock_run(w, w.id) = None;
    if w.shared.busy[w.id].swap(0, Ordering::Relaxed) != 0 {
        w.shared.busy_count.fetch_sub(1, Ordering::Relaxed);
    }
}

fn lock_run(w: &Worker, id: usize) -> std::sync::MutexGuard<'_, Option<BusyRun>> {
    w.shared.busy_run[id]
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// FUNCTION STATS, on any thread: `running_script` is the function that keeps the server busy
/// (the only time another command can see one run, as in Redis), and an EVAL script that
/// keeps it busy makes FUNCTION STATS itself answer `-BUSY`; `engines` counts this thread's
/// libraries (every thread's engine holds the same ones).
pub(crate) fn function_stats(w: &Worker, counts: rustis_scripting::FunctionStats, out: &mut Out) {
    if busy_error(w) == Some(BUSY_SCRIPT) {
        return out.error(BUSY_SCRIPT);
    }
    out.map(2);
    out.bulk(b"running_script");
    let running = (0..w.n).find_map(|id| {
        lock_run(w, id)
            .as_ref()
            .map(|r| (r.name.clone(), r.command.clone(), r.started.elapsed()))
    });
    match running {
        None => out.null(),
        Some((name, command, took)) => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(&name);
            out.bulk(b"command");
            out.array(command.len());
            for a in &command {
                out.bulk(a);
            }
            out.bulk(b"duration_ms");
            out.int(took.as_millis() as i64);
        }
    }
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(counts.libraries as i64);
    out.bulk(b"functions_count");
    out.int(counts.functions as i64);
}

/// Answers this thread's idle connections while its script runs (the session running it is
/// never idle).
pub(crate) fn serve_idle(w: &Worker) {
    let sessions: Vec<Rc<Session>> = w.clients.borrow().iter().cloned().collect();
    for sess in sessions {
        if sess.idle.get() && !sess.closing() && sess.fd.get() >= 0 {
            serve_one(w, &sess);
        }
    }
}

fn serve_one(w: &Worker, sess: &Session) {
    let fd = sess.fd.get();
    let mut peek = vec![0u8; 64 * 1024];
    // SAFETY: `fd` is the session's open socket (its task holds it open while the session is
    // registered on this thread) and `peek` is a writable buffer of the length given.
    let n = unsafe {
        libc::recv(
            fd,
            peek.as_mut_ptr().cast(),
            peek.len(),
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    if n <= 0 {
        return;
    }
    let mut buf = BytesMut::from(&peek[..n as usize]);
    let before = buf.len();
    let max_bulk = w.shared.config().get_i64("proto-max-bulk-len").max(1) as usize;
    let mut parser = rustis_resp::Parser::with_max_bulk(max_bulk);
    let mut cmds = Vec::new();
    if parser.parse_batch(&mut buf, &mut cmds).is_err() || cmds.is_empty() {
        // A protocol error or an incomplete command: the connection's own task deals with it
        // when the script is over.
        return;
    }
    let consumed = before - buf.len();
    // SAFETY: as above; the bytes taken are exactly those of the complete commands parsed.
    let taken = unsafe { libc::recv(fd, peek.as_mut_ptr().cast(), consumed, libc::MSG_DONTWAIT) };
    if taken != consumed as isize {
        return;
    }
    let mut out = Out::new(sess.resp() == 3);
    let mut close = false;
    for args in cmds {
        if close {
            break;
        }
        run_busy(w, sess, &args, &mut out, &mut close);
    }
    send_all(fd, &out.buf);
    if close {
        // SAFETY: `fd` is open; shutting it down makes its task see the end and clean up.
        unsafe {
            libc::shutdown(fd, libc::SHUT_RDWR);
        }
    }
}

fn send_all(fd: i32, mut data: &[u8]) {
    let mut tries = 0;
    while !data.is_empty() && tries < 1000 {
        // SAFETY: `fd` is open and `data` is a valid slice.
        let n = unsafe {
            libc::send(
                fd,
                data.as_ptr().cast(),
                data.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        if n > 0 {
            data = &data[n as usize..];
        } else {
            tries += 1;
            std::thread::yield_now();
        }
    }
}

/// One command from an idle connection while the thread is busy.
fn run_busy(w: &Worker, sess: &Session, args: &[Bytes], out: &mut Out, close: &mut bool) {
    let Some(spec) = REGISTRY.lookup(&args[0]) else {
        crate::multi::flag_error(sess);
        return out.error(&unknown_command(&args[0], &args[1..]));
    };
    if !spec.arity_ok(args.len()) {
        return crate::multi::reject(w, sess, spec, &wrong_args(spec.name), out);
    }
    if !spec.subcommands.is_empty() && args.len() >= 2 {
        match spec.subcommand(&args[1]) {
            None => {
                crate::multi::flag_error(sess);
                return out.error(&unknown_subcommand(&args[1], spec.name));
            }
            Some(sub) if !sub.arity_ok(args.len()) => {
                crate::multi::flag_error(sess);
                return out.error(&wrong_args(sub.name));
            }
            Some(_) => {}
        }
    }
    if let Some(e) = crate::acl::check(w, sess, spec, args) {
        return crate::multi::reject(w, sess, spec, &e, out);
    }
    if !allowed(spec, args) {
        return crate::multi::reject(w, sess, spec, busy_error(w).unwrap_or(BUSY_SCRIPT), out);
    }
    match spec.run {
        Run::Conn(ConnCmd::ScriptAdmin) | Run::Conn(ConnCmd::Function) => {
            let sub = args[1].to_ascii_lowercase();
            let cmd = if let Run::Conn(c) = spec.run {
                c
            } else {
                ConnCmd::ScriptAdmin
            };
            if sub == b"stats" && cmd == ConnCmd::Function {
                // The engine is the script's now: the counts are those it had when it started.
                return function_stats(w, crate::script::function_counts(w), out);
            }
            crate::script::kill(w, cmd, &sub, out);
        }
        Run::Conn(ConnCmd::Shutdown) => {
            if args[1..].iter().any(|a| eq_ic(a, "nosave")) {
                for s in w.shared.script_status.iter().filter_map(|s| s.get()) {
                    s.request_kill();
                }
                tracing::warn!("User requested shutdown...");
                w.shared.request_shutdown();
                *close = true;
            } else {
                out.error(busy_error(w).unwrap_or(BUSY_SCRIPT));
            }
        }
        Run::Conn(ConnCmd::Quit) => {
            out.ok();
            *close = true;
        }
        Run::Conn(ConnCmd::Multi) => {
            let mut m = sess.multi.borrow_mut();
            if m.is_some() {
                return out.error("ERR MULTI calls can not be nested");
            }
            *m = Some(Default::default());
            out.ok();
        }
        Run::Conn(ConnCmd::Discard) => {
            if sess.multi.borrow_mut().take().is_none() {
                return out.error("ERR DISCARD without MULTI");
            }
            crate::multi::reset(w, sess);
            out.ok();
        }
        Run::Conn(ConnCmd::Unwatch) => {
            crate::multi::reset_watches(w, sess);
            out.ok();
        }
        Run::Conn(ConnCmd::Reset) => {
            crate::multi::reset(w, sess);
            sess.set_db(0);
            sess.set_resp(2);
            out.resp3 = false;
            sess.name.borrow_mut().clear();
            crate::acl::reset(w, sess);
            out.simple("RESET");
        }
        _ => {
            // WATCH and HELLO/AUTH need what the busy thread cannot do now (other threads'
            // replies, the engine): Redis would run them, Rustis answers BUSY.
            crate::multi::flag_error(sess);
            out.error(busy_error(w).unwrap_or(BUSY_SCRIPT));
        }
    }
}
