//! Connection and server commands (`Run::Conn`): PING, ECHO, QUIT, HELLO, SELECT, CLIENT,
//! COMMAND, INFO, CONFIG, SHUTDOWN, RESET. They touch the session or every thread, so the
//! runtime carries them out; their metadata lives with the other commands, in the table.

use std::fmt::Write as _;
use std::rc::Rc;

use bytes::Bytes;
use rustis_commands::args::{eq_ic, parse_i64};
use rustis_commands::{ConnCmd, Out};
use rustis_resp::errors::{unknown_subcommand, wrong_args, SYNTAX};
use rustis_storage::OpError;

use crate::config::ConfigError;
use crate::dispatch::on_every_thread;
use crate::session::Session;
use crate::worker::Worker;

/// The Redis version Rustis reports, so that clients enable the features they check for.
pub const REDIS_VERSION: &str = "7.0.15";

/// Whether a connection command must wait for the commands before it to finish (it changes
/// how later replies are encoded, or reads state they may change).
pub(crate) fn is_barrier(cmd: ConnCmd) -> bool {
    !matches!(
        cmd,
        ConnCmd::Ping | ConnCmd::Echo | ConnCmd::Select | ConnCmd::Multi | ConnCmd::Discard
    )
}

/// Runs a connection command.
pub(crate) async fn run(
    w: &Rc<Worker>,
    sess: &Session,
    cmd: ConnCmd,
    args: &[Bytes],
    out: &mut Out,
) {
    match cmd {
        ConnCmd::Ping => match args.len() {
            1 => out.simple("PONG"),
            2 => out.bulk(&args[1]),
            _ => out.error(&wrong_args("ping")),
        },
        ConnCmd::Echo => out.bulk(&args[1]),
        ConnCmd::Quit => {
            out.ok();
            sess.close();
        }
        ConnCmd::Hello => hello(w, sess, args, out),
        ConnCmd::Auth => crate::acl::auth(w, sess, args, out),
        ConnCmd::Acl => crate::acl::command(w, sess, args, out).await,
        ConnCmd::Select => select(w, sess, args, out),
        ConnCmd::Reset => {
            crate::multi::reset(w, sess);
            crate::pubsub::forget(w, sess);
            crate::tracking::reset(w, sess).await;
            sess.set_db(0);
            sess.set_resp(2);
            out.resp3 = false;
            sess.name.borrow_mut().clear();
            crate::acl::reset(w, sess);
            out.simple("RESET");
        }
        ConnCmd::Client => client(w, sess, args, out).await,
        ConnCmd::Command => crate::command::command(args, out),
        ConnCmd::Info => info(w, args, out).await,
        ConnCmd::Config => config(w, sess, args, out).await,
        // EXEC and scripts are each one MULTI/EXEC block in the AOF (`aof::Block`, begun
        // where the run knows whether it stays on this thread or holds locks elsewhere).
        ConnCmd::Multi | ConnCmd::Exec | ConnCmd::Discard | ConnCmd::Watch | ConnCmd::Unwatch => {
            Box::pin(crate::multi::run(w, sess, cmd, args, out)).await
        }
        ConnCmd::Script(call) => Box::pin(crate::script::run(w, sess, call, args, out, None)).await,
        ConnCmd::ScriptAdmin | ConnCmd::Function => crate::script::admin(w, cmd, args, out).await,
        ConnCmd::PubSub(c) => crate::pubsub::run(w, sess, c, args, out).await,
        ConnCmd::Shutdown => shutdown(w, sess, args, out).await,
        ConnCmd::Debug => crate::debug::run(w, sess, args, out).await,
        ConnCmd::Lolwut => rustis_commands::lolwut::run(args, out),
        ConnCmd::Role => role(out),
        ConnCmd::Replicaof => replicaof(args, out),
        ConnCmd::Module => module(w, sess, args, out),
        ConnCmd::Save | ConnCmd::Bgsave | ConnCmd::Lastsave => {
            crate::persist::command(w, cmd, args, out).await
        }
        ConnCmd::Slowlog => crate::stats::slowlog_command(w, args, out).await,
        ConnCmd::Latency => crate::latency::command(w, args, out).await,
        ConnCmd::Memory => crate::memory::command(w, sess, args, out).await,
        ConnCmd::Bgrewriteaof => match crate::aof::bgrewriteaof(w).await {
            Ok(reply) => out.simple(reply),
            Err(e) => out.error(&e),
        },
    }
}

/// ROLE: Rustis is always a master, and has no replicas (replication is not built yet), so it
/// answers what Redis answers as a master without replicas: offset 0, no replicas.
fn role(out: &mut Out) {
    out.array(3);
    out.bulk(b"master");
    out.int(0);
    out.array(0);
}

/// REPLICAOF NO ONE (SLAVEOF NO ONE): a master stays one, +OK as Redis answers. Replicating
/// from another server is refused: replication is not supported yet.
fn replicaof(args: &[Bytes], out: &mut Out) {
    if eq_ic(&args[1], "no") && eq_ic(&args[2], "one") {
        return out.ok();
    }
    out.error("ERR REPLICAOF <host> <port> is not supported: Rustis does not replicate yet");
}

/// MODULE LIST|LOAD|LOADEX|UNLOAD|HELP. Rustis loads no modules: LIST is empty, LOAD and
/// LOADEX are refused saying so, and UNLOAD finds no module by that name, as Redis's does.
/// LOAD, LOADEX and UNLOAD first need `enable-module-command` to allow the client.
fn module(w: &Worker, sess: &Session, args: &[Bytes], out: &mut Out) {
    let sub = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
    match sub.as_str() {
        "help" => help(
            out,
            "MODULE",
            &[
                "LIST",
                "    Return a list of loaded modules.",
                "LOAD <path> [<arg> ...]",
                "    Load a module library from <path>, passing to it any optional arguments.",
                "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
                "    Load a module library from <path>, while passing it module configurations and optional arguments.",
                "UNLOAD <name>",
                "    Unload a module.",
            ],
        ),
        "list" => out.array(0),
        _ => {
            let setting = w
                .shared
                .config()
                .get("enable-module-command")
                .map(str::to_string);
            let local = crate::server::is_loopback_peer(sess.addr.ip());
            if !crate::config::protected_action_allowed(setting.as_deref(), local) {
                return out.error("ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.");
            }
            if sub == "unload" {
                return out.error("ERR Error unloading module: no such module with that name");
            }
            out.error("ERR MODULE LOAD is not supported: Rustis does not load modules");
        }
    }
}

fn select(w: &Worker, sess: &Session, args: &[Bytes], out: &mut Out) {
    let Ok(idx) = parse_i64(&args[1]) else {
        return out.error(OpError::NotInteger.message());
    };
    if idx < 0 || idx as usize >= w.shared.n_dbs {
        return out.error(OpError::DbIndexOutOfRange.message());
    }
    sess.set_db(idx as usize);
    out.ok();
}

/// Whether a client name is acceptable: no spaces, newlines or other special characters.
fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

const BAD_NAME: &str = "ERR Client names cannot contain spaces, newlines or special characters.";

/// HELLO [protover [AUTH username password] [SETNAME clientname]], in Redis 7.0's order: the
/// version is checked first, then each option is applied as it comes (a name set before a
/// failed AUTH stays), and a connection still not authenticated gets no reply map.
fn hello(w: &Worker, sess: &Session, args: &[Bytes], out: &mut Out) {
    let mut proto = None;
    let mut i = 1;
    if args.len() > 1 {
        match parse_i64(&args[1]) {
            Ok(v) if (2..=3).contains(&v) => proto = Some(v),
            Ok(_) => return out.error("NOPROTO unsupported protocol version"),
            Err(_) => return out.error("ERR Protocol version is not an integer or out of range"),
        }
        i = 2;
    }
    while i < args.len() {
        let more = args.len() - i - 1;
        if eq_ic(&args[i], "auth") && more >= 2 {
            if !crate::acl::authenticate(w, sess, &args[0], &args[i + 1], &args[i + 2]) {
                return out.error(crate::acl::WRONGPASS);
            }
            i += 3;
        } else if eq_ic(&args[i], "setname") && more >= 1 {
            if !valid_name(&args[i + 1]) {
                return out.error(BAD_NAME);
            }
            *sess.name.borrow_mut() = args[i + 1].to_vec();
            i += 2;
        } else {
            return out.error(&format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&args[i])
            ));
        }
    }
    // Redis checks the connection's own flag here, not whether a password is needed now.
    if !sess.authenticated.get() {
        return out.error(crate::acl::HELLO_NOAUTH);
    }
    if let Some(p) = proto {
        out.resp3 = p == 3;
        sess.set_resp(p as u8);
    }
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(if out.resp3 { 3 } else { 2 });
    out.bulk(b"id");
    out.int(sess.id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
}

/// CLIENT ID|SETNAME|GETNAME|LIST|INFO|SETINFO|KILL|PAUSE|UNPAUSE|NO-EVICT|NO-TOUCH|HELP
async fn client(w: &Rc<Worker>, sess: &Session, args: &[Bytes], out: &mut Out) {
    let sub = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
    let argc = args.len();
    let arity_err = |out: &mut Out| out.error(&wrong_args(&format!("client|{sub}")));
    // CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO (client-side caching).
    if crate::tracking::client(w, sess, &sub, args, out).await {
        return;
    }
    match sub.as_str() {
        "id" if argc == 2 => out.int(sess.id as i64),
        "getname" if argc == 2 => {
            let name = sess.name.borrow();
            if name.is_empty() {
                out.null();
            } else {
                out.bulk(&name);
            }
        }
        "setname" if argc == 3 => {
            if !valid_name(&args[2]) {
                return out.error(BAD_NAME);
            }
            *sess.name.borrow_mut() = args[2].to_vec();
            out.ok();
        }
        "setinfo" if argc == 4 => {
            let value = &args[3];
            if !valid_name(value) && !value.is_empty() {
                return out.error("ERR lib-name and lib-ver cannot contain spaces, newlines or special characters.");
            }
            if eq_ic(&args[2], "lib-name") {
                *sess.lib_name.borrow_mut() = value.to_vec();
            } else if eq_ic(&args[2], "lib-ver") {
                *sess.lib_ver.borrow_mut() = value.to_vec();
            } else {
                return out.error(&format!("ERR Unrecognized option '{}'", String::from_utf8_lossy(&args[2])));
            }
            out.ok();
        }
        "info" if argc == 2 => {
            let mut line = crate::clients::with_request(sess, crate::clients::line(sess), args);
            line.push('\n');
            out.verbatim(line.as_bytes());
        }
        "list" => {
            // CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id ...]
            let mut ids: Option<Vec<u64>> = None;
            // With TYPE: whether the clients listed are the subscribed ones (pubsub) or the
            // others (normal); there are no master or replica clients.
            let mut subscribed: Option<Option<bool>> = None;
            let mut i = 2;
            while i < argc {
                if eq_ic(&args[i], "type") && i + 1 < argc {
                    let t = String::from_utf8_lossy(&args[i + 1]).to_ascii_lowercase();
                    if !["normal", "master", "replica", "slave", "pubsub"].contains(&t.as_str()) {
                        return out.error(&format!("ERR Unknown client type '{t}'"));
                    }
                    subscribed = Some(match t.as_str() {
                        "normal" => Some(false),
                        "pubsub" => Some(true),
                        _ => None,
                    });
                    i += 2;
                } else if eq_ic(&args[i], "id") && i + 1 < argc {
                    let mut v = Vec::new();
                    for a in &args[i + 1..] {
                        match parse_i64(a) {
                            Ok(n) if n > 0 => v.push(n as u64),
                            _ => return out.error("ERR Invalid client ID"),
                        }
                    }
                    ids = Some(v);
                    i = argc;
                } else {
                    return out.error(SYNTAX);
                }
            }
            sess.set_last_cmd("client|list");
            let Some(per_thread) = on_every_thread(w, |wk| {
                wk.clients
                    .borrow()
                    .iter()
                    .map(|c| (c.id, c.pubsub.total() > 0, crate::clients::line(c)))
                    .collect::<Vec<_>>()
            })
            .await
            else {
                return out.error("ERR server is shutting down");
            };
            let mut all: Vec<(u64, bool, String)> = per_thread.into_iter().flatten().collect();
            all.sort_by_key(|(id, _, _)| *id);
            let mut text = String::new();
            for (id, sub, mut line) in all {
                let typed = subscribed.is_none_or(|t| t == Some(sub));
                if id == sess.id {
                    line = crate::clients::with_request(sess, line, args);
                }
                if typed && ids.as_ref().is_none_or(|v| v.contains(&id)) {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
            out.verbatim(text.as_bytes());
        }
        "kill" if argc >= 3 => client_kill(w, sess, args, out).await,
        "pause" if argc == 3 || argc == 4 => client_pause(w, args, out),
        // Past its arity (-3), Redis's CLIENT answers a PAUSE with too many arguments so.
        "pause" if argc > 4 => out.error(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
            String::from_utf8_lossy(&args[1])
        )),
        "unpause" if argc == 2 => {
            w.shared.pause.unpause();
            out.ok();
        }
        "reply" if argc == 3 => crate::pubsub::client_reply(sess, &args[2], out),
        "unblock" if argc == 3 || argc == 4 => {
            // CLIENT UNBLOCK client-id [TIMEOUT|ERROR]
            let id = match parse_i64(&args[2]) {
                Ok(id) => id,
                Err(e) => return out.error(e.message()),
            };
            let error = match args.get(3) {
                None => false,
                Some(r) if eq_ic(r, "timeout") => false,
                Some(r) if eq_ic(r, "error") => true,
                Some(_) => return out.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"),
            };
            let n = match u64::try_from(id) {
                Ok(id) => crate::blocking::unblock_client(w, id, error).await,
                Err(_) => 0,
            };
            out.int(n);
        }
        "no-evict" | "no-touch" if argc == 3 => {
            if eq_ic(&args[2], "on") || eq_ic(&args[2], "off") {
                out.ok();
            } else {
                out.error(SYNTAX);
            }
        }
        "help" if argc == 2 => help(
            out,
            "CLIENT",
            &[
                "CACHING (YES|NO)",
                "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
                "GETREDIR",
                "    Return the client ID we are redirecting to when tracking is enabled.",
                "GETNAME",
                "    Return the name of the current connection.",
                "ID",
                "    Return the ID of the current connection.",
                "INFO",
                "    Return information about the current client connection.",
                "KILL <ip:port>",
                "    Kill connection made from <ip:port>.",
                "KILL <option> <value> [<option> <value> [...]]",
                "    Kill connections. Options are: ID <client-id>, ADDR <ip:port>, LADDR <ip:port>, SKIPME (YES|NO).",
                "LIST [options ...]",
                "    Return information about client connections. Options: TYPE (NORMAL|MASTER|REPLICA|PUBSUB), ID id [id ...].",
                "UNPAUSE",
                "    Stop the current client pause, resuming traffic.",
                "PAUSE <timeout> [WRITE|ALL]",
                "    Suspend all, or just write, clients for <timeout> milliseconds.",
                "SETNAME <name>",
                "    Assign the name <name> to the current connection.",
                "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
                "         [OPTIN] [OPTOUT] [NOLOOP]",
                "    Control server assisted client side caching.",
                "TRACKINGINFO",
                "    Report tracking status for the current connection.",
                "UNBLOCK <clientid> [TIMEOUT|ERROR]",
                "    Unblock the specified blocked client.",
                "SETINFO <option> <value>",
                "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
            ],
        ),
        "id" | "getname" | "setname" | "setinfo" | "info" | "kill" | "unpause" | "unblock" | "no-evict" | "no-touch" | "help" | "tracking" | "caching" | "getredir" | "trackinginfo" => arity_err(out),
        _ => out.error(&unknown_subcommand(&args[1], "client")),
    }
}

/// CLIENT PAUSE timeout [WRITE|ALL]: holds every client's commands (or those that may write)
/// for `timeout` milliseconds, on every thread (pause.rs).
fn client_pause(w: &Worker, args: &[Bytes], out: &mut Out) {
    let kind = match args.get(3) {
        None => crate::pause::Kind::All,
        Some(m) if eq_ic(m, "write") => crate::pause::Kind::Write,
        Some(m) if eq_ic(m, "all") => crate::pause::Kind::All,
        Some(_) => return out.error("ERR CLIENT PAUSE mode must be WRITE or ALL"),
    };
    // Redis 7.0's `getTimeoutFromObjectOrReply` in milliseconds: 0 is "already over", and so
    // is a timeout so large that the end overflows (7.0 adds it to the time unchecked).
    let timeout = match parse_i64(&args[2]) {
        Ok(t) => t,
        Err(_) => return out.error("ERR timeout is not an integer or out of range"),
    };
    if timeout < 0 {
        return out.error("ERR timeout is negative");
    }
    let now = w.shared.clock.now_ms() as i64;
    let end = if timeout == 0 {
        0
    } else {
        timeout.wrapping_add(now).max(0) as u64
    };
    w.shared.pause.pause(end, kind);
    out.ok();
}

/// CLIENT KILL ip:port | CLIENT KILL [ID id] [ADDR ip:port] [LADDR ip:port] [SKIPME yes|no]
/// The user a connection is authenticated as (CLIENT KILL USER, CLIENT LIST `user=`).
fn user_of(sess: &Session) -> String {
    sess.user
        .borrow()
        .as_deref()
        .unwrap_or("default")
        .to_string()
}

async fn client_kill(w: &Rc<Worker>, sess: &Session, args: &[Bytes], out: &mut Out) {
    #[derive(Clone, Default)]
    struct Filter {
        id: Option<u64>,
        addr: Option<String>,
        laddr: Option<String>,
        skip: Option<u64>,
        /// TYPE: whether subscribed (pubsub) or other (normal) clients match; `Some(None)`
        /// (master, replica) matches none.
        subscribed: Option<Option<bool>>,
        /// USER: clients authenticated as this user.
        user: Option<String>,
    }
    let legacy = args.len() == 3;
    let mut f = Filter {
        skip: Some(sess.id),
        ..Default::default()
    };
    if legacy {
        f.addr = Some(String::from_utf8_lossy(&args[2]).into_owned());
        f.skip = None;
    } else {
        let mut i = 2;
        while i < args.len() {
            if i + 1 >= args.len() {
                return out.error(SYNTAX);
            }
            let v = String::from_utf8_lossy(&args[i + 1]).into_owned();
            if eq_ic(&args[i], "id") {
                match v.parse::<u64>() {
                    Ok(n) if n > 0 => f.id = Some(n),
                    _ => return out.error("ERR client-id should be greater than 0"),
                }
            } else if eq_ic(&args[i], "addr") {
                f.addr = Some(v);
            } else if eq_ic(&args[i], "laddr") {
                f.laddr = Some(v);
            } else if eq_ic(&args[i], "skipme") {
                match v.to_ascii_lowercase().as_str() {
                    "yes" => f.skip = Some(sess.id),
                    "no" => f.skip = None,
                    _ => return out.error(SYNTAX),
                }
            } else if eq_ic(&args[i], "type") {
                // Subscribed clients are of type pubsub, the others normal; there are no
                // master or replica clients, so those types match none.
                f.subscribed = Some(match v.to_ascii_lowercase().as_str() {
                    "normal" => Some(false),
                    "pubsub" => Some(true),
                    "master" | "replica" | "slave" => None,
                    _ => return out.error(&format!("ERR Unknown client type '{v}'")),
                });
            } else if eq_ic(&args[i], "user") {
                if !w.shared.auth.user_exists(&v) {
                    return out.error(&format!("ERR No such user '{v}'"));
                }
                f.user = Some(v);
            } else {
                return out.error(SYNTAX);
            }
            i += 2;
        }
    }
    // The caller itself (SKIPME NO) is closed after its reply, as Redis's
    // CLIENT_CLOSE_AFTER_REPLY does, so it is matched here rather than killed by its thread.
    let me = !legacy
        && f.skip != Some(sess.id)
        && f.id.is_none_or(|id| id == sess.id)
        && f.addr.as_ref().is_none_or(|a| *a == sess.addr.to_string())
        && f.laddr
            .as_ref()
            .is_none_or(|a| *a == sess.laddr.to_string())
        && f.subscribed
            .is_none_or(|t| t == Some(sess.pubsub.total() > 0))
        && f.user.as_deref().is_none_or(|u| u == user_of(sess));
    if !legacy {
        f.skip = Some(sess.id);
    }
    // The filter crosses threads by value; each thread kills its own matching clients.
    let mut killed = i64::from(me);
    if me {
        sess.close();
    }
    for s in 0..w.n {
        let filt = (
            f.id,
            f.addr.clone(),
            f.laddr.clone(),
            f.skip,
            f.subscribed,
            f.user.clone(),
        );
        let call = Box::new(
            move |wk: &crate::worker::Worker| -> rustis_commands::registry::Partial {
                let mut killed = Vec::new();
                for c in wk.clients.borrow().iter() {
                    let m = filt.0.is_none_or(|id| id == c.id)
                        && filt.1.as_ref().is_none_or(|a| *a == c.addr.to_string())
                        && filt.2.as_ref().is_none_or(|a| *a == c.laddr.to_string())
                        && filt.3 != Some(c.id)
                        && filt.4.is_none_or(|t| t == Some(c.pubsub.total() > 0))
                        && filt.5.as_deref().is_none_or(|u| u == user_of(c));
                    if m {
                        // It wakes wherever it waits (idle, or blocked in a command), or
                        // finds the kill when it next waits.
                        c.pusher().kill();
                        killed.push(c.id);
                    }
                }
                // Like Redis, a killed client is gone from CLIENT LIST as soon as KILL
                // replies; its connection task closes the socket when it next runs.
                let mut clients = wk.clients.borrow_mut();
                for id in &killed {
                    clients.remove(*id);
                }
                Box::new(killed.len() as i64)
            },
        );
        if let Ok(p) = w.send_call(s, None, false, call).await {
            if let Ok(n) = p.downcast::<i64>() {
                killed += *n;
            }
        }
    }
    if legacy {
        // The legacy form also kills the caller itself when its own address was given.
        if killed == 0 {
            if sess.addr.to_string() == f.addr.clone().unwrap_or_default() {
                sess.close();
                return out.ok();
            }
            return out.error("ERR No such client");
        }
        out.ok();
    } else {
        out.int(killed);
    }
}

pub(crate) fn help(out: &mut Out, cmd: &str, lines: &[&str]) {
    out.array(lines.len() + 3);
    out.simple(&format!(
        "{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for l in lines {
        out.simple(l);
    }
    out.simple("HELP");
    out.simple("    Prints this help.");
}

/// What one thread contributes to INFO.
struct ThreadStats {
    /// Per database: keys, keys with a TTL, and the shard's average TTL estimate.
    keys: Vec<(usize, usize, u64)>,
    expired: u64,
    hits: u64,
    misses: u64,
    clients: usize,
    /// The thread's Lua engine: bytes its state uses, scripts it has cached.
    lua: (usize, usize),
}

/// INFO [section ...]
pub(crate) async fn info(w: &Rc<Worker>, args: &[Bytes], out: &mut Out) {
    let wanted: Vec<String> = args[1..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    let all = wanted.is_empty()
        || wanted
            .iter()
            .any(|s| s == "all" || s == "everything" || s == "default");
    let show = |s: &str| all || wanted.iter().any(|x| x == s);
    // Read before the figures below are gathered: their copies are INFO's own, not the
    // server's memory use (Redis's figure does not count building its reply either).
    let used_now = w.shared.allocated.map(|f| f());
    let Some(stats) = on_every_thread(w, |wk| {
        let shard = wk.shard.borrow();
        ThreadStats {
            keys: shard
                .dbs
                .iter()
                .map(|d| (d.len(), d.expires_count(), d.avg_ttl()))
                .collect(),
            expired: shard.dbs.iter().map(|d| d.expired_keys).sum(),
            hits: shard.dbs.iter().map(|d| d.hits).sum(),
            misses: shard.dbs.iter().map(|d| d.misses).sum(),
            clients: wk.clients.borrow().len(),
            lua: crate::script::Scripting::figures(wk),
        }
    })
    .await
    else {
        return out.error("ERR server is shutting down");
    };
    // ---- Statistics (stats.rs): commandstats and latencystats only when named or with
    // all/everything, as in Redis; errorstats also by default. ----
    let named = |x: &str| {
        wanted
            .iter()
            .any(|s| s == "all" || s == "everything" || s == x)
    };
    let (show_cmd, show_lat, show_err) = (
        named("commandstats"),
        named("latencystats"),
        show("errorstats"),
    );
    let snap = if show("stats") || show_cmd || show_lat || show_err {
        crate::stats::snapshot(w).await
    } else {
        None
    };
    let sh = &w.shared;
    let mut s = String::new();
    let uptime = sh.started.elapsed().as_secs();
    if show("server") {
        let _ = write!(
            s,
            "# Server\r\nredis_version:{REDIS_VERSION}\r\nrustis_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_mode:standalone\r\nos:{} {}\r\narch_bits:64\r\nmultiplexing_api:epoll\r\nprocess_id:{}\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{uptime}\r\nuptime_in_days:{}\r\nhz:{}\r\nexecutable:rustis\r\nconfig_file:{}\r\nio_threads_active:0\r\nthreads:{}\r\n\r\n",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH,
            std::process::id(),
            sh.run_id,
            sh.port,
            sh.clock.now_ms() * 1000,
            uptime / 86400,
            sh.config().get("hz").unwrap_or("10"),
            sh.config_file.clone().unwrap_or_default(),
            sh.n_threads,
        );
    }
    if show("clients") {
        let clients: usize = stats.iter().map(|t| t.clients).sum();
        let _ = write!(
            s,
            "# Clients\r\nconnected_clients:{clients}\r\ncluster_connections:0\r\nmaxclients:{}\r\nblocked_clients:{}\r\ntracking_clients:{}\r\nclients_in_timeout_table:0\r\n\r\n",
            sh.config().get("maxclients").unwrap_or("10000"),
            sh.blocked_clients.load(std::sync::atomic::Ordering::Relaxed),
            sh.tracking.clients.load(std::sync::atomic::Ordering::Relaxed),
        );
    }
    if show("memory") {
        let rss = rss_bytes();
        let used = used_now.unwrap_or(rss);
        let lua: usize = stats.iter().map(|t| t.lua.0).sum();
        let _ = write!(
            s,
            "# Memory\r\nused_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{used}\r\nmaxmemory:{}\r\nmaxmemory_policy:{}\r\nmem_fragmentation_ratio:{:.2}\r\nmem_allocator:jemalloc\r\nused_memory_lua:{lua}\r\nused_memory_vm_eval:{lua}\r\nused_memory_lua_human:{}\r\nnumber_of_cached_scripts:{}\r\n\r\n",
            human(used),
            human(rss),
            sh.config().get("maxmemory").unwrap_or("0"),
            sh.config().get("maxmemory-policy").unwrap_or("noeviction"),
            if used > 0 { rss as f64 / used as f64 } else { 0.0 },
            human(lua),
            // This thread's engine: it applied every load posted before this request (the
            // other threads may not have handled a SCRIPT FLUSH posted from a third one yet
            // when they answer the gathering message).
            crate::script::Scripting::figures(w).1,
        );
    }
    if show("persistence") {
        s.push_str(&crate::persist::info(w).await);
    }
    if show("stats") {
        let commands: u64 = snap.as_ref().map_or(0, |x| x.total_calls());
        let (channels, patterns, shard_channels) = crate::pubsub::info_counts(w).await;
        // `evicted_clients` is 0: no client is evicted for memory, since `maxmemory-clients`
        // is refused (config.rs) but for its default, 0, under which Redis evicts none either.
        let _ = write!(
            s,
            "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{commands}\r\nrejected_connections:{}\r\nexpired_keys:{}\r\nevicted_keys:{}\r\nevicted_clients:0\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{channels}\r\npubsub_patterns:{patterns}\r\npubsubshard_channels:{shard_channels}\r\ntracking_total_keys:{}\r\ntracking_total_items:{}\r\ntracking_total_prefixes:{}\r\n\r\n",
            sh.total_connections.load(std::sync::atomic::Ordering::Relaxed),
            sh.rejected_connections.load(std::sync::atomic::Ordering::Relaxed),
            stats.iter().map(|t| t.expired).sum::<u64>(),
            sh.mem.evicted(),
            stats.iter().map(|t| t.hits).sum::<u64>(),
            stats.iter().map(|t| t.misses).sum::<u64>(),
            sh.tracking.keys.load(std::sync::atomic::Ordering::Relaxed),
            sh.tracking.items.load(std::sync::atomic::Ordering::Relaxed),
            sh.tracking.prefixes.load(std::sync::atomic::Ordering::Relaxed),
        );
        if let Some(snap) = &snap {
            s.truncate(s.len() - 2);
            let _ = write!(s, "total_error_replies:{}\r\n\r\n", snap.error_replies);
        }
    }
    if show("replication") {
        s.push_str("# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_repl_offset:0\r\n\r\n");
    }
    if show("cpu") {
        let (user, sys) = cpu_seconds();
        let _ = write!(
            s,
            "# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\n\r\n"
        );
    }
    if let Some(snap) = &snap {
        crate::stats::write_sections(w, snap, &mut s, (show_cmd, show_err, show_lat));
    }
    if show("cluster") {
        s.push_str("# Cluster\r\ncluster_enabled:0\r\n\r\n");
    }
    if show("keyspace") {
        s.push_str("# Keyspace\r\n");
        for db in 0..sh.n_dbs {
            let keys: usize = stats.iter().map(|t| t.keys[db].0).sum();
            let expires: usize = stats.iter().map(|t| t.keys[db].1).sum();
            // Each shard's estimate weighted by its keys with a TTL.
            let weighted: u128 = stats
                .iter()
                .map(|t| t.keys[db].2 as u128 * t.keys[db].1 as u128)
                .sum();
            let avg_ttl = weighted.checked_div(expires as u128).unwrap_or(0);
            if keys > 0 {
                let _ = write!(
                    s,
                    "db{db}:keys={keys},expires={expires},avg_ttl={avg_ttl}\r\n"
                );
            }
        }
        s.push_str("\r\n");
    }
    // Redis ends the text without the last blank line.
    while s.ends_with("\r\n\r\n") {
        s.truncate(s.len() - 2);
    }
    out.verbatim(s.as_bytes());
}

fn human(n: usize) -> String {
    let f = n as f64;
    if f >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}G", f / (1024.0 * 1024.0 * 1024.0))
    } else if f >= 1024.0 * 1024.0 {
        format!("{:.2}M", f / (1024.0 * 1024.0))
    } else if f >= 1024.0 {
        format!("{:.2}K", f / 1024.0)
    } else {
        format!("{n}B")
    }
}

/// The process's resident set size, from /proc.
pub(crate) fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<usize>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

fn cpu_seconds() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = 100.0;
    let user = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / tick;
    let sys = f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / tick;
    (user, sys)
}

/// CONFIG GET pattern [pattern ...] | SET name value [name value ...] | RESETSTAT | REWRITE | HELP
async fn config(w: &Rc<Worker>, sess: &Session, args: &[Bytes], out: &mut Out) {
    let sub = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
    match sub.as_str() {
        "get" if args.len() >= 3 => {
            let cfg = w.shared.config();
            let mut found: Vec<(&str, String)> = Vec::new();
            for p in &args[2..] {
                for (name, value) in cfg.matching(&String::from_utf8_lossy(p)) {
                    if !found.iter().any(|(n, _)| *n == name) {
                        found.push((name, value.to_string()));
                    }
                }
            }
            out.map(found.len());
            for (n, v) in found {
                out.bulk(n.as_bytes());
                out.bulk(v.as_bytes());
            }
        }
        "set" if args.len() >= 4 && args.len().is_multiple_of(2) => {
            let mut cfg = w.shared.config().clone();
            let local = crate::server::is_loopback_peer(sess.addr.ip());
            let mut seen: Vec<String> = Vec::new();
            for pair in args[2..].chunks(2) {
                let name = String::from_utf8_lossy(&pair[0]).to_ascii_lowercase();
                let value = String::from_utf8_lossy(&pair[1]).into_owned();
                if seen.contains(&name) {
                    return out.error(&format!("ERR CONFIG SET failed (possibly related to argument '{name}') - duplicate parameter"));
                }
                seen.push(name.clone());
                if let Err(e) = cfg.set_by_client(&name, &value, local) {
                    return match &e {
                        ConfigError::Unknown(_) => out.error(&format!(
                            "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                            String::from_utf8_lossy(&pair[0])
                        )),
                        other => out.error(&format!(
                            "ERR CONFIG SET failed (possibly related to argument '{}') - {other}",
                            e.param()
                        )),
                    };
                }
            }
            // A TLS setting rebuilds TLS for new connections; if it does not build, nothing
            // changes (Redis's applyTlsCfg).
            if let Some(name) = seen.iter().find(|n| n.starts_with("tls-")) {
                if crate::tls::enabled(&cfg) {
                    if let Err(e) = w.shared.tls.configure(&cfg) {
                        tracing::warn!("{e}");
                        return out.error(&format!("ERR CONFIG SET failed (possibly related to argument '{name}') - Unable to update TLS configuration. Check server logs."));
                    }
                }
            }
            // A new port or bind address is listened on before anything changes; if it
            // cannot be, nothing does (Redis's updatePort / updateBind).
            let mut new_listeners = None;
            {
                let old = w.shared.config();
                let moved = |n: &str| cfg.get(n) != old.get(n);
                if moved("port") || moved("bind") {
                    drop(old);
                    match crate::server::listen_plain(&cfg, w.n) {
                        Ok(l) => new_listeners = Some(l),
                        Err(e) => {
                            tracing::warn!("{e}");
                            let (name, why) = if seen.iter().any(|n| n == "port") {
                                ("port", "Unable to listen on this port. Check server logs.")
                            } else {
                                ("bind", "Failed to bind to specified addresses.")
                            };
                            return out.error(&format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"));
                        }
                    }
                }
            }
            // So is a new metrics port (thread 0 serves it).
            let mut new_metrics = None;
            if cfg.get("metrics-port") != w.shared.config().get("metrics-port") {
                let port = cfg.get_i64("metrics-port") as u16;
                let ip = crate::server::first_bind_ip(&cfg);
                match crate::metrics::bind(ip, port) {
                    Ok(l) => new_metrics = Some(l),
                    Err(e) => {
                        tracing::warn!("Could not listen on the metrics port {port}: {e}");
                        return out.error("ERR CONFIG SET failed (possibly related to argument 'metrics-port') - Unable to listen on this port. Check server logs.");
                    }
                }
            }
            // The OOM score follows its settings; if it cannot be written, the old settings'
            // score is put back and nothing changes (Redis's updateOOMScoreAdj).
            if let Some(name) = seen.iter().find(|n| n.starts_with("oom-score-adj")) {
                if let Err(e) = crate::process::apply_oom_score(&cfg) {
                    tracing::warn!("{e}");
                    let _ = crate::process::apply_oom_score(&w.shared.config());
                    return out.error(&format!("ERR CONFIG SET failed (possibly related to argument '{name}') - Failed to set current oom_score_adj. Check server logs."));
                }
            }
            if seen.iter().any(|n| n == "proc-title-template") {
                crate::process::set_title(&cfg, w.shared.config_file.as_deref());
            }
            let shard_cfg = cfg.shard_config();
            let aof_was = w.shared.config().get("appendonly") == Some("yes");
            let aof_now = cfg.get("appendonly") == Some("yes");
            w.shared.load_hot_settings(&cfg);
            *w.shared.config_mut() = cfg;
            // Every shard gets its own copy of the settings it uses.
            for s in 0..w.n {
                let c = shard_cfg.clone();
                let call = Box::new(move |wk: &Worker| -> rustis_commands::registry::Partial {
                    wk.shard.borrow_mut().config = c;
                    crate::notify::sync(wk);
                    crate::evict::sync(wk);
                    Box::new(())
                });
                let _ = w.send_call(s, None, false, call).await;
            }
            if let Some(per_thread) = new_listeners {
                for (s, listeners) in per_thread.into_iter().enumerate() {
                    let call = Box::new(move |wk: &Worker| -> rustis_commands::registry::Partial {
                        crate::server::replace_plain_listeners(wk, listeners);
                        Box::new(())
                    });
                    let _ = w.send_call(s, None, false, call).await;
                }
            }
            if let Some(l) = new_metrics {
                let call = Box::new(move |wk: &Worker| -> rustis_commands::registry::Partial {
                    crate::metrics::replace(wk, l);
                    Box::new(())
                });
                let _ = w.send_call(0, None, false, call).await;
            }
            crate::aof::refresh_rdb_error(&w.shared);
            if aof_was != aof_now {
                if let Err(e) = crate::aof::set_enabled(w, aof_now).await {
                    tracing::warn!(
                        "Could not turn the append only file {}: {e}",
                        if aof_now { "on" } else { "off" }
                    );
                }
            }
            out.ok();
        }
        "resetstat" if args.len() == 2 => {
            for s in 0..w.n {
                let call = Box::new(|wk: &Worker| -> rustis_commands::registry::Partial {
                    for db in wk.shard.borrow_mut().dbs.iter_mut() {
                        db.hits = 0;
                        db.misses = 0;
                        db.expired_keys = 0;
                    }
                    wk.commands.set(0);
                    crate::stats::reset_local();
                    Box::new(())
                });
                let _ = w.send_call(s, None, false, call).await;
            }
            out.ok();
        }
        "rewrite" if args.len() == 2 => match &w.shared.config_file {
            None => out.error("ERR The server is running without a config file"),
            Some(path) => {
                let result = w.shared.config().rewrite_file(path, false);
                match result {
                    Ok(()) => {
                        tracing::info!("CONFIG REWRITE executed with success.");
                        out.ok()
                    }
                    Err(e) => {
                        tracing::warn!("CONFIG REWRITE failed: {e}");
                        out.error(&format!("ERR Rewriting config file: {e}"))
                    }
                }
            }
        },
        "help" if args.len() == 2 => help(
            out,
            "CONFIG",
            &[
                "GET <pattern>",
                "    Return parameters matching the glob-like <pattern> and their values.",
                "SET <directive> <value>",
                "    Set the configuration <directive> to <value>.",
                "RESETSTAT",
                "    Reset statistics reported by the INFO command.",
                "REWRITE",
                "    Rewrite the configuration file.",
            ],
        ),
        "get" | "set" | "resetstat" | "rewrite" | "help" => {
            out.error(&wrong_args(&format!("config|{sub}")))
        }
        _ => out.error(&unknown_subcommand(&args[1], "config")),
    }
}

/// Where a received SIGTERM or SIGINT waits for thread 0: a signal handler's thread raises
/// it, [`on_signal`] acts on it.
#[derive(Default)]
pub(crate) struct SignalSlot {
    /// 1: SIGTERM, 2: SIGINT.
    which: std::sync::atomic::AtomicU8,
    wake: tokio::sync::Notify,
}

impl SignalSlot {
    /// Records the signal and wakes thread 0 (a signal before it waits is kept).
    pub(crate) fn raise(&self, sigint: bool) {
        self.which.store(
            if sigint { 2 } else { 1 },
            std::sync::atomic::Ordering::Relaxed,
        );
        self.wake.notify_one();
    }
}

/// Shuts the server down when the process gets SIGTERM or SIGINT, as Redis does:
/// `shutdown-on-sigterm`/`shutdown-on-sigint` say whether to save (`default`: when save points
/// are set; `save`; `nosave`) and whether a failed save still exits (`force`). A save that
/// fails without `force` leaves the server running, as in Redis.
pub(crate) async fn on_signal(w: Rc<Worker>) {
    loop {
        w.shared.signal.wake.notified().await;
        let sigint = w
            .shared
            .signal
            .which
            .load(std::sync::atomic::Ordering::Relaxed)
            == 2;
        let (name, param) = if sigint {
            ("SIGINT", "shutdown-on-sigint")
        } else {
            ("SIGTERM", "shutdown-on-sigterm")
        };
        let flags = w
            .shared
            .config()
            .get(param)
            .unwrap_or("default")
            .to_string();
        let has = |f: &str| flags.split(' ').any(|x| x == f);
        tracing::warn!("Received {name} scheduling shutdown...");
        if crate::persist::shutdown_saves(&w, has("save"), has("nosave")) {
            tracing::warn!("Saving the final RDB snapshot before exiting.");
            if crate::persist::save(&w).await.is_err() {
                if !has("force") {
                    tracing::warn!("Error trying to save the DB, can't exit.");
                    tracing::warn!(
                        "Errors trying to shut down the server. Check the logs for more information."
                    );
                    continue;
                }
                tracing::warn!("Error trying to save the DB. Exit anyway.");
            }
        }
        w.shared.request_shutdown();
        return;
    }
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
async fn shutdown(w: &Worker, sess: &Session, args: &[Bytes], out: &mut Out) {
    let mut abort = false;
    let (mut save, mut nosave, mut force) = (false, false, false);
    for a in &args[1..] {
        if eq_ic(a, "abort") {
            abort = true;
        } else if eq_ic(a, "nosave") {
            nosave = true;
        } else if eq_ic(a, "save") {
            save = true;
        } else if eq_ic(a, "force") {
            force = true;
        } else if !eq_ic(a, "now") {
            return out.error(SYNTAX);
        }
    }
    if save && nosave {
        return out.error(SYNTAX);
    }
    if abort {
        if args.len() > 2 {
            return out.error(SYNTAX);
        }
        return out.error("ERR No shutdown in progress.");
    }
    // While a script keeps the server busy only SHUTDOWN NOSAVE stops it, as in Redis; the
    // script (on whichever thread runs it) is stopped at its next hook so that thread exits too.
    if let Some(busy) = crate::busy::busy_error(w) {
        if !nosave {
            return out.error(busy);
        }
        for s in w.shared.script_status.iter().filter_map(|s| s.get()) {
            s.request_kill();
        }
    }
    // SAVE, or save points without NOSAVE, write a snapshot first; if that fails the server
    // stays up (unless FORCE), as in Redis. Then every thread stops, and like Redis the
    // connection closes without a reply.
    if crate::persist::shutdown_saves(w, save, nosave) {
        tracing::warn!("Saving the final RDB snapshot before exiting.");
        if crate::persist::save(w).await.is_err() && !force {
            return out.error("ERR Errors trying to SHUTDOWN. Check logs.");
        }
    }
    tracing::warn!("User requested shutdown...");
    sess.close();
    w.shared.request_shutdown();
}
