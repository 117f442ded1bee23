//! Authentication, as Redis 7.0 does it for its `default` user: `requirepass` is that user's
//! password, AUTH and HELLO ... AUTH check it, and a connection that has not authenticated may
//! run only the commands flagged `no_auth` (AUTH, HELLO, QUIT, RESET).
//!
//! A connection is authenticated from the start when the default user needs no password at
//! the time it connects (Redis's `clientSetDefaultAuth`); setting `requirepass` later does not
//! log out connections already open, as in Redis. RESET logs the connection out again.
//!
//! ACL users and rules (`crates/acl`) live in a table replaced whole by ACL SETUSER/DELUSER
//! and `requirepass`; each thread reads its own snapshot, refreshed when an epoch moves, so the
//! data path takes no lock. A connection of the default user, while that user may run
//! everything, skips the rule checks. See docs/security.md.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, RwLock};

use bytes::Bytes;
use rustis_acl::{Call, Catalog, CommandInfo, Denied, User};
use rustis_commands::meta::key_flags;
use rustis_commands::registry::flags;
use rustis_commands::{CommandSpec, Out};
use rustis_resp::errors::SYNTAX;

use crate::dispatch::REGISTRY;

use crate::config::Config;
use crate::session::Session;
use crate::worker::Worker;

/// What a connection that has not authenticated gets for a command it may not run.
pub(crate) const NOAUTH: &str = "NOAUTH Authentication required.";
/// A failed AUTH or HELLO ... AUTH.
pub(crate) const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
const AUTH_WITHOUT_PASSWORD: &str = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
/// HELLO on a connection that has not authenticated, without AUTH.
pub(crate) const HELLO_NOAUTH: &str = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time";

/// The user table and the authentication settings read on the data path.
///
/// The table is replaced whole (copy on write) by ACL SETUSER/DELUSER and `requirepass`,
/// which are rare; each thread keeps the last snapshot it saw and takes the new one when
/// `epoch` moves, so a command reads one atomic and never a lock.
pub(crate) struct AuthState {
    table: RwLock<Arc<Table>>,
    epoch: AtomicU64,
    /// Whether the default user is on and needs no password.
    default_nopass: AtomicBool,
    /// Whether the default user may run everything ([`Table`]'s `default_open`), read by
    /// [`check`] before it looks at the table at all.
    default_open: AtomicBool,
    /// The `requirepass` last applied to the default user.
    requirepass: Mutex<Option<String>>,
    /// ACL LOG, newest first, and `acllog-max-len`. Written only when something is refused.
    log: Mutex<VecDeque<LogEntry>>,
    log_max: AtomicUsize,
    /// `acl-pubsub-default allchannels`.
    pubsub_all: AtomicBool,
}

/// One ACL LOG entry (Redis's `ACLLogEntry`).
struct LogEntry {
    count: u64,
    reason: &'static str,
    context: &'static str,
    object: String,
    username: String,
    /// Milliseconds since the Unix epoch.
    ctime: u64,
    client_info: String,
}

/// Entries this close in time with the same reason, context, object and user are one entry.
const LOG_GROUPING_MS: u64 = 60_000;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Records a refusal in ACL LOG (Redis's `addACLLogEntry`); `object` is the command, key or
/// channel refused, or for a failed AUTH the command name as typed.
pub(crate) fn log(
    w: &Worker,
    sess: &Session,
    reason: &'static str,
    context: &'static str,
    object: &[u8],
    username: &str,
) {
    let auth = &w.shared.auth;
    let e = LogEntry {
        count: 1,
        reason,
        context,
        object: String::from_utf8_lossy(object).into_owned(),
        username: username.to_string(),
        ctime: now_ms(),
        client_info: crate::clients::line(sess),
    };
    let mut log = auth.log.lock().unwrap_or_else(|e| e.into_inner());
    let found = log.iter().take(10).position(|c| {
        c.reason == e.reason
            && c.context == e.context
            && c.ctime.abs_diff(e.ctime) <= LOG_GROUPING_MS
            && c.object == e.object
            && c.username == e.username
    });
    match found {
        Some(i) => {
            let mut m = log.remove(i).expect("found");
            m.client_info = e.client_info;
            m.ctime = e.ctime;
            m.count += 1;
            log.push_front(m);
        }
        None => {
            log.push_front(e);
            log.truncate(auth.log_max.load(Ordering::Relaxed));
        }
    }
}

/// ACL LOG [count | RESET]
fn log_command(w: &Worker, args: &[Bytes], out: &mut Out) {
    let auth = &w.shared.auth;
    let mut count = 10;
    if let Some(a) = args.get(2) {
        if a.eq_ignore_ascii_case(b"reset") {
            auth.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
            return out.ok();
        }
        match rustis_commands::args::parse_i64(a) {
            Ok(n) => count = n.max(0) as usize,
            Err(_) => return out.error("ERR value is not an integer or out of range"),
        }
    }
    let log = auth.log.lock().unwrap_or_else(|e| e.into_inner());
    let now = now_ms();
    let n = count.min(log.len());
    out.array(n);
    for e in log.iter().take(n) {
        out.map(7);
        out.bulk(b"count");
        out.int(e.count as i64);
        out.bulk(b"reason");
        out.bulk(e.reason.as_bytes());
        out.bulk(b"context");
        out.bulk(e.context.as_bytes());
        out.bulk(b"object");
        out.bulk(e.object.as_bytes());
        out.bulk(b"username");
        out.bulk(e.username.as_bytes());
        out.bulk(b"age-seconds");
        out.double(now.saturating_sub(e.ctime) as f64 / 1000.0);
        out.bulk(b"client-info");
        out.bulk(e.client_info.as_bytes());
    }
}

/// Every user, by name (ACL USERS and ACL LIST list them in this order, as Redis's rax).
pub(crate) struct Table {
    users: BTreeMap<String, Arc<User>>,
    /// Whether the default user may run everything (then its connections skip the checks).
    default_open: bool,
}

impl Table {
    fn new(users: BTreeMap<String, Arc<User>>) -> Table {
        let default_open = users.get("default").is_some_and(|u| u.unrestricted());
        Table {
            users,
            default_open,
        }
    }
}

/// Every command and subcommand, by id, as the ACL rules see them.
pub(crate) static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    let n = REGISTRY
        .iter()
        .flat_map(|s| std::iter::once(s.id).chain(s.subcommands.iter().map(|c| c.id)))
        .max()
        .map_or(0, |m| m + 1);
    let mut commands: Vec<CommandInfo> = (0..n)
        .map(|_| CommandInfo {
            fullname: String::new(),
            categories: 0,
            subcommands: Vec::new(),
            is_sub: true,
        })
        .collect();
    for s in REGISTRY.iter() {
        commands[s.id] = CommandInfo {
            fullname: s.meta.name.to_string(),
            categories: s.meta.acl as u64,
            subcommands: s.subcommands.iter().map(|c| c.id).collect(),
            is_sub: false,
        };
        for c in &s.subcommands {
            commands[c.id] = CommandInfo {
                fullname: c.meta.name.to_string(),
                categories: c.meta.acl as u64,
                subcommands: Vec::new(),
                is_sub: true,
            };
        }
    }
    Catalog::new(commands)
});

impl Default for AuthState {
    fn default() -> Self {
        let mut users = BTreeMap::new();
        users.insert(
            "default".to_string(),
            Arc::new(User::default_user(&CATALOG)),
        );
        AuthState {
            table: RwLock::new(Arc::new(Table::new(users))),
            epoch: AtomicU64::new(1),
            default_nopass: AtomicBool::new(true),
            default_open: AtomicBool::new(true),
            requirepass: Mutex::new(None),
            log: Mutex::new(VecDeque::new()),
            log_max: AtomicUsize::new(128),
            pubsub_all: AtomicBool::new(false),
        }
    }
}

thread_local! {
    /// This thread's snapshot of the user table and the epoch it was taken at.
    static SNAPSHOT: RefCell<Option<(u64, Arc<Table>)>> = const { RefCell::new(None) };
}

impl AuthState {
    /// Applies `requirepass` to the default user when it changed (startup, CONFIG SET), as
    /// Redis's `ACLUpdateDefaultUserPassword`: `resetpass`, then `>password` or `nopass`.
    pub fn load(&self, cfg: &Config) {
        self.log_max.store(
            cfg.get_i64("acllog-max-len").max(0) as usize,
            Ordering::Relaxed,
        );
        self.pubsub_all.store(
            cfg.get("acl-pubsub-default") == Some("allchannels"),
            Ordering::Relaxed,
        );
        let pass = cfg.get("requirepass").unwrap_or("").to_string();
        let mut last = self.requirepass.lock().unwrap_or_else(|e| e.into_inner());
        if last.as_deref() == Some(pass.as_str()) {
            return;
        }
        *last = Some(pass.clone());
        self.update(|users| {
            if let Some(u) = users.get_mut("default") {
                let u = Arc::make_mut(u);
                let _ = u.apply(&CATALOG, b"resetpass");
                let op = if pass.is_empty() {
                    b"nopass".to_vec()
                } else {
                    [b">".as_slice(), pass.as_bytes()].concat()
                };
                let _ = u.apply(&CATALOG, &op);
            }
            Ok::<(), ()>(())
        })
        .ok();
    }

    /// Changes the table: `f` edits a copy, which replaces the table if it returns `Ok`.
    fn update<T, E>(
        &self,
        f: impl FnOnce(&mut BTreeMap<String, Arc<User>>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut table = self.table.write().unwrap_or_else(|e| e.into_inner());
        let mut users = table.users.clone();
        let r = f(&mut users)?;
        let open = users.get("default").is_some_and(|u| u.enabled && u.nopass);
        *table = Arc::new(Table::new(users));
        self.default_nopass.store(open, Ordering::Relaxed);
        self.default_open
            .store(table.default_open, Ordering::Relaxed);
        self.epoch.fetch_add(1, Ordering::Release);
        Ok(r)
    }

    /// Whether a user of this name exists (CLIENT KILL USER).
    pub fn user_exists(&self, name: &str) -> bool {
        self.with(|t| t.users.contains_key(name))
    }

    /// Runs `f` on this thread's snapshot of the table, refreshed if it changed.
    fn with<R>(&self, f: impl FnOnce(&Table) -> R) -> R {
        let epoch = self.epoch.load(Ordering::Acquire);
        SNAPSHOT.with(|s| {
            let mut s = s.borrow_mut();
            if s.as_ref().is_none_or(|(e, _)| *e != epoch) {
                let t = self.table.read().unwrap_or_else(|e| e.into_inner()).clone();
                *s = Some((epoch, t));
            }
            let (_, t) = s.as_ref().expect("just set");
            f(t)
        })
    }

    /// Whether the default user needs no password: a new connection is authenticated at
    /// once, and protected mode applies.
    pub fn default_nopass(&self) -> bool {
        self.default_nopass.load(Ordering::Relaxed)
    }
}

/// Checks a `user` directive (name, then rules) as Redis does when it reads the config file;
/// the error is the reason the startup error shows.
pub(crate) fn check_user_line(words: &[String]) -> Result<(), String> {
    let args: Vec<Bytes> = words[1..]
        .iter()
        .map(|w| Bytes::copy_from_slice(w.as_bytes()))
        .collect();
    let ops = merge_selectors(&args).map_err(|i| {
        format!(
            "Unmatched parenthesis in acl selector starting at '{}'.",
            words[1 + i]
        )
    })?;
    let mut u = User::new(&words[0], &CATALOG);
    for op in &ops {
        u.apply(&CATALOG, op).map_err(|e| {
            format!(
                "Error in user declaration '{}': {}",
                String::from_utf8_lossy(op),
                e.message()
            )
        })?;
    }
    Ok(())
}

impl AuthState {
    /// Creates the users of the config file's `user` directives (startup, after `requirepass`
    /// is applied): `default`, if named, is reset first (Redis's `ACLLoadConfiguredUsers`).
    pub fn load_users(&self, lines: &[Vec<String>]) {
        if lines.is_empty() {
            return;
        }
        let _ = self.update(|users| {
            for words in lines {
                let mut u = match words[0].as_str() {
                    "default" => {
                        let mut d = User::default_user(&CATALOG);
                        d.pubsub_all = self.pubsub_all.load(Ordering::Relaxed);
                        let _ = d.apply(&CATALOG, b"reset");
                        d
                    }
                    name => User::with_pubsub(
                        name,
                        &CATALOG,
                        self.pubsub_all.load(Ordering::Relaxed),
                    ),
                };
                let args: Vec<Bytes> = words[1..]
                    .iter()
                    .map(|w| Bytes::copy_from_slice(w.as_bytes()))
                    .collect();
                for op in merge_selectors(&args).unwrap_or_default() {
                    let _ = u.apply(&CATALOG, &op);
                }
                if !u.enabled {
                    tracing::info!("The user '{}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.", words[0]);
                }
                users.insert(words[0].clone(), Arc::new(u));
            }
            Ok::<(), ()>(())
        });
    }
}

/// Whether a connection starting now (or RESET now) is authenticated without AUTH.
pub(crate) fn authenticated_at_start(w: &Worker) -> bool {
    w.shared.auth.default_nopass()
}

/// Logs a connection out (RESET): it is the default user again.
pub(crate) fn reset(w: &Worker, sess: &Session) {
    sess.authenticated.set(authenticated_at_start(w));
    *sess.user.borrow_mut() = None;
}

/// Whether `sess` still has to authenticate before running commands (Redis's `authRequired`).
pub(crate) fn refuses_unauthenticated(w: &Worker, sess: &Session) -> bool {
    !sess.authenticated.get() && !w.shared.auth.default_nopass()
}

/// The error for a command `sess` may not run before it authenticates, if so (Redis's
/// `authRequired` and `CMD_NO_AUTH`).
pub(crate) fn refused(w: &Worker, sess: &Session, spec: &CommandSpec) -> Option<&'static str> {
    if sess.authenticated.get() || spec.flags & flags::NO_AUTH != 0 {
        return None;
    }
    (!w.shared.auth.default_nopass()).then_some(NOAUTH)
}

/// The error for a command `sess` may not run: NOAUTH before authentication, then the
/// user's ACL rules (Redis's `ACLCheckAllPerm`, with its `-NOPERM` texts).
pub(crate) fn check(
    w: &Worker,
    sess: &Session,
    spec: &CommandSpec,
    args: &[Bytes],
) -> Option<Cow<'static, str>> {
    if let Some(e) = refused(w, sess, spec) {
        return Some(e.into());
    }
    // The common case, a server without ACL users: the default user may run everything.
    if w.shared.auth.default_open.load(Ordering::Relaxed) && sess.user.borrow().is_none() {
        return None;
    }
    let target = spec.resolve(args).unwrap_or(spec);
    let context = if sess.in_multi() { "multi" } else { "toplevel" };
    let denied = denial(w, sess, target, args, context);
    if denied.is_none() && matches!(target.meta.name, "sort" | "sort_ro") {
        if let Some(e) = sort_patterns_denied(w, sess, target, args) {
            return Some(Cow::Borrowed(e));
        }
    }
    Some(match denied? {
        Denied::Command => Cow::Owned(format!(
            "NOPERM this user has no permissions to run the '{}' command",
            target.meta.name
        )),
        Denied::Key => Cow::Borrowed(
            "NOPERM this user has no permissions to access one of the keys used as arguments",
        ),
        Denied::Channel => Cow::Borrowed(
            "NOPERM this user has no permissions to access one of the channels used as arguments",
        ),
    })
}

/// The error for a queued command the user may no longer run when EXEC runs it (rules changed
/// since it was queued), as Redis's `execCommand` words it.
pub(crate) fn exec_check(
    w: &Worker,
    sess: &Session,
    spec: &CommandSpec,
    args: &[Bytes],
) -> Option<String> {
    let target = spec.resolve(args).unwrap_or(spec);
    let reason = match denial(w, sess, target, args, "multi")? {
        Denied::Command => "no permission to execute the command or subcommand",
        Denied::Key => "no permission to touch the specified keys",
        Denied::Channel => "no permission to access one of the channels used as arguments",
    };
    Some(format!("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {reason}"))
}

/// SORT's BY (with a `*` pattern) and GET read keys no key spec names: Redis allows them only
/// to a user who may read every key.
fn sort_patterns_denied(
    w: &Worker,
    sess: &Session,
    target: &CommandSpec,
    args: &[Bytes],
) -> Option<&'static str> {
    // Which option comes first decides the error, as Redis parses them in order.
    let mut first = None;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if a.eq_ignore_ascii_case(b"by") && i + 1 < args.len() {
            if first.is_none() && args[i + 1].contains(&b'*') {
                first = Some("ERR BY option of SORT denied due to insufficient ACL permissions.");
            }
            i += 2;
        } else if a.eq_ignore_ascii_case(b"get") && i + 1 < args.len() {
            if first.is_none() {
                first = Some("ERR GET option of SORT denied due to insufficient ACL permissions.");
            }
            i += 2;
        } else if a.eq_ignore_ascii_case(b"limit") {
            i += 3;
        } else if a.eq_ignore_ascii_case(b"store") {
            i += 2;
        } else {
            i += 1;
        }
    }
    let error = first?;
    let user = sess.user.borrow();
    let full = w.shared.auth.with(|t| {
        let u = match user.as_deref() {
            None if t.default_open => return true,
            None => t.users.get("default"),
            Some(name) => t.users.get(name),
        };
        u.is_some_and(|u| {
            u.unrestricted()
                || u.full_read_access(&Call {
                    id: target.id,
                    no_auth: false,
                    first_arg: args.get(1).map(|a| &a[..]),
                    keys: &[],
                    channels: &[],
                })
        })
    });
    (!full).then_some(error)
}

/// Why a script's `redis.call` may not run a command, as Redis's `getAclErrorMessage` words
/// it (the script's error is `The user executing the script <reason>`).
pub(crate) fn script_check(
    w: &Worker,
    sess: &Session,
    target: &CommandSpec,
    args: &[Bytes],
) -> Result<(), String> {
    match denial(w, sess, target, args, "lua") {
        None => Ok(()),
        Some(Denied::Command) => Err("can't run this command or subcommand".into()),
        Some(Denied::Key) => {
            Err("can't access at least one of the keys mentioned in the command arguments".into())
        }
        Some(Denied::Channel) => {
            Err("can't publish to the channel mentioned in the command".into())
        }
    }
}

/// Whether the connection's user may run everything (no check is needed).
pub(crate) fn unrestricted(w: &Worker, sess: &Session) -> bool {
    let user = sess.user.borrow();
    w.shared.auth.with(|t| match user.as_deref() {
        None => t.default_open,
        Some(name) => t.users.get(name).is_some_and(|u| u.unrestricted()),
    })
}

/// Whether the connection's user may run `target` (a command, or the subcommand called)
/// with these arguments; why not if not.
fn denial(
    w: &Worker,
    sess: &Session,
    target: &CommandSpec,
    args: &[Bytes],
    context: &'static str,
) -> Option<Denied> {
    let user = sess.user.borrow();
    w.shared.auth.with(|t| {
        let u = match user.as_deref() {
            None if t.default_open => return None,
            None => t.users.get("default"),
            Some(name) => t.users.get(name),
        };
        // A deleted user's connections are being closed.
        let Some(u) = u else {
            sess.pusher().kill();
            return Some(Denied::Command);
        };
        if u.unrestricted() {
            return None;
        }
        let (d, pos) = judge(u, target, args).err()?;
        let object: &[u8] = match d {
            Denied::Command => target.meta.name.as_bytes(),
            _ => args.get(pos).map_or(&[], |a| &a[..]),
        };
        let reason = match d {
            Denied::Command => "command",
            Denied::Key => "key",
            Denied::Channel => "channel",
        };
        log(w, sess, reason, context, object, &u.name);
        Some(d)
    })
}

/// Checks a call of `target` by `u` (Redis's `ACLCheckAllUserCommandPerm`).
fn judge(u: &User, target: &CommandSpec, args: &[Bytes]) -> Result<(), (Denied, usize)> {
    let is_sub = CATALOG.commands.get(target.id).is_some_and(|c| c.is_sub);
    let need_keys = u.selectors.iter().any(|s| !s.all_keys);
    let keys: Vec<(usize, &[u8], u8)> = if need_keys {
        crate::command::keys_and_flags(target, args)
            .into_iter()
            .filter(|&(p, _)| p < args.len())
            .map(|(p, f)| {
                let mut a = 0;
                if f & key_flags::ACCESS != 0 {
                    a |= rustis_acl::READ;
                }
                if f & (key_flags::INSERT | key_flags::DELETE | key_flags::UPDATE) != 0 {
                    a |= rustis_acl::WRITE;
                }
                (p, &args[p][..], a)
            })
            .collect()
    } else {
        Vec::new()
    };
    let channels = channels_of(target.meta.name, args);
    u.check(&Call {
        id: target.id,
        no_auth: target.flags & flags::NO_AUTH != 0,
        first_arg: args.get(if is_sub { 2 } else { 1 }).map(|a| &a[..]),
        keys: &keys,
        channels: &channels,
    })
}

/// The channels a command publishes or subscribes to, with whether each is a pattern.
fn channels_of<'a>(name: &str, args: &'a [Bytes]) -> Vec<(usize, &'a [u8], bool)> {
    let all = |pattern| {
        (1..args.len())
            .map(|i| (i, &args[i][..], pattern))
            .collect::<Vec<_>>()
    };
    match name {
        "publish" | "spublish" => args
            .get(1)
            .map(|c| (1, &c[..], false))
            .into_iter()
            .collect(),
        "subscribe" | "ssubscribe" => all(false),
        "psubscribe" => all(true),
        _ => Vec::new(),
    }
}

/// Checks `user`/`pass` and, when they match, authenticates the connection as that user
/// (Redis's `ACLAuthenticateUser`).
pub(crate) fn authenticate(
    w: &Worker,
    sess: &Session,
    cmd: &[u8],
    user: &[u8],
    pass: &[u8],
) -> bool {
    let name = String::from_utf8_lossy(user);
    let ok = w.shared.auth.with(|t| {
        t.users
            .get(name.as_ref())
            .is_some_and(|u| u.password_ok(pass))
    });
    if ok {
        sess.authenticated.set(true);
        *sess.user.borrow_mut() = (name != "default").then(|| Arc::from(name.as_ref()));
    } else {
        let context = if sess.in_multi() { "multi" } else { "toplevel" };
        log(w, sess, "auth", context, cmd, &name);
    }
    ok
}

/// AUTH [username] password
pub(crate) fn auth(w: &Worker, sess: &Session, args: &[Bytes], out: &mut Out) {
    if args.len() > 3 {
        return out.error(SYNTAX);
    }
    let (user, pass): (&[u8], &[u8]) = if args.len() == 2 {
        if w.shared.auth.default_nopass() {
            return out.error(AUTH_WITHOUT_PASSWORD);
        }
        (b"default", &args[1])
    } else {
        (&args[1], &args[2])
    };
    if authenticate(w, sess, &args[0], user, pass) {
        out.ok();
    } else {
        out.error(WRONGPASS);
    }
}

const USAGE_BITS: &str = "ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096";

/// ACL SETUSER|GETUSER|DELUSER|USERS|LIST|WHOAMI|CAT|GENPASS
pub(crate) async fn command(w: &Rc<Worker>, sess: &Session, args: &[Bytes], out: &mut Out) {
    let sub = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
    let auth = &w.shared.auth;
    match sub.as_str() {
        "whoami" => {
            let name = sess
                .user
                .borrow()
                .as_deref()
                .unwrap_or("default")
                .to_string();
            out.bulk(name.as_bytes());
        }
        "users" => auth.with(|t| {
            out.array(t.users.len());
            for name in t.users.keys() {
                out.bulk(name.as_bytes());
            }
        }),
        "list" => auth.with(|t| {
            out.array(t.users.len());
            for (name, u) in &t.users {
                out.bulk(format!("user {name} {}", u.describe(&CATALOG)).as_bytes());
            }
        }),
        "getuser" => {
            let name = String::from_utf8_lossy(&args[2]);
            auth.with(|t| match t.users.get(name.as_ref()) {
                None => out.null(),
                Some(u) => getuser(u, out),
            })
        }
        "setuser" => {
            let name = String::from_utf8_lossy(&args[2]).into_owned();
            if name.bytes().any(|c| c.is_ascii_whitespace() || c == 0) {
                return out.error("ERR Usernames can't contain spaces or null characters");
            }
            let ops = match merge_selectors(&args[3..]) {
                Ok(ops) => ops,
                Err(at) => {
                    return out.error(&format!(
                        "ERR Unmatched parenthesis in acl selector starting at '{}'.",
                        String::from_utf8_lossy(&args[3 + at])
                    ))
                }
            };
            let r = auth.update(|users| {
                let all = auth.pubsub_all.load(Ordering::Relaxed);
                let mut u = match users.get(&name) {
                    Some(u) => (**u).clone(),
                    None => User::with_pubsub(&name, &CATALOG, all),
                };
                u.pubsub_all = all;
                let refs: Vec<&[u8]> = ops.iter().map(Vec::as_slice).collect();
                u.apply_all(&CATALOG, &refs).map_err(|(i, e)| {
                    format!(
                        "ERR Error in ACL SETUSER modifier '{}': {}",
                        String::from_utf8_lossy(&ops[i]),
                        e.message()
                    )
                })?;
                users.insert(name.clone(), Arc::new(u));
                Ok::<(), String>(())
            });
            match r {
                Ok(()) => {
                    sweep_everywhere(w, sess).await;
                    out.ok()
                }
                Err(e) => out.error(&e),
            }
        }
        "deluser" => {
            if args[2..].iter().any(|a| &a[..] == b"default") {
                return out.error("ERR The 'default' user cannot be removed");
            }
            let deleted = auth
                .update(|users| {
                    Ok::<usize, ()>(
                        args[2..]
                            .iter()
                            .filter(|a| users.remove(String::from_utf8_lossy(a).as_ref()).is_some())
                            .count(),
                    )
                })
                .unwrap_or(0);
            if deleted > 0 {
                sweep_everywhere(w, sess).await;
            }
            out.int(deleted as i64);
        }
        "cat" if args.len() <= 3 => match args.get(2) {
            None => {
                out.array(rustis_acl::CATEGORIES.len());
                for c in rustis_acl::CATEGORIES {
                    out.bulk(c.as_bytes());
                }
            }
            Some(c) => match rustis_acl::category_bit(&String::from_utf8_lossy(c)) {
                None => out.error(&format!(
                    "ERR Unknown category '{}'",
                    String::from_utf8_lossy(c)
                )),
                Some(bit) => {
                    let names = CATALOG.in_category(bit);
                    out.array(names.len());
                    for n in names {
                        out.bulk(n.as_bytes());
                    }
                }
            },
        },
        "genpass" if args.len() <= 3 => {
            let bits = match args.get(2) {
                None => 256,
                Some(a) => match rustis_commands::args::parse_i64(a) {
                    Ok(b) if (1..=4096).contains(&b) => b,
                    _ => return out.error(&format!("ERR {USAGE_BITS}")),
                },
            };
            let chars = (bits as usize).div_ceil(4);
            let mut rng = rand::thread_rng();
            let hex: String = (0..chars)
                .map(|_| char::from(b"0123456789abcdef"[rand::Rng::gen_range(&mut rng, 0..16)]))
                .collect();
            out.bulk(hex.as_bytes());
        }
        "log" if args.len() <= 3 => log_command(w, args, out),
        "load" | "save" if acl_file(w).is_empty() => out.error("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."),
        "load" if args.len() == 2 => match auth.load_file(&acl_file(w), &acl_name(w)) {
            Ok(()) => {
                SWEEPER.with(|s| s.set(sess.id));
                crate::dispatch::on_every_thread(w, sweep_loaded).await;
                SWEEPER.with(|s| s.set(0));
                out.ok()
            }
            Err(e) => out.error(&format!("ERR {e}")),
        },
        "save" if args.len() == 2 => match save_file(w, &acl_file(w)) {
            Ok(()) => out.ok(),
            Err(e) => {
                tracing::warn!("Failed saving ACL file: {e}");
                out.error("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
            }
        },
        "dryrun" if args.len() >= 4 => dryrun(w, &args[2], &args[3..], out),
        "help" if args.len() == 2 => {
            let help = [
                "CAT [<category>]",
                "    List all commands that belong to <category>, or all command categories",
                "    when no category is specified.",
                "DELUSER <username> [<username> ...]",
                "    Delete a list of users.",
                "DRYRUN <username> <command> [<arg> ...]",
                "    Returns whether the user can execute the given command without executing the command.",
                "GETUSER <username>",
                "    Get the user's details.",
                "GENPASS [<bits>]",
                "    Generate a secure 256-bit user password. The optional `bits` argument can",
                "    be used to specify a different size.",
                "LIST",
                "    Show users details in config file format.",
                "LOAD",
                "    Reload users from the ACL file.",
                "LOG [<count> | RESET]",
                "    Show the ACL log entries.",
                "SAVE",
                "    Save the current config to the ACL file.",
                "SETUSER <username> <attribute> [<attribute> ...]",
                "    Create or modify a user with the specified attributes.",
                "USERS",
                "    List all the registered usernames.",
                "WHOAMI",
                "    Return the current connection username.",
            ];
            crate::admin::help(out, "ACL", &help);
        }
        // A known subcommand with the wrong arguments (Redis's `addReplySubcommandSyntaxError`).
        _ => out.error(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try ACL HELP.",
            String::from_utf8_lossy(&args[1])
        )),
    }
}

/// `aclfile`, a relative path taken from `dir` (Redis works in `dir`); empty if unset.
fn acl_file(w: &Worker) -> String {
    acl_path(&w.shared.config())
}

/// `aclfile` as written.
fn acl_name(w: &Worker) -> String {
    w.shared.config().get("aclfile").unwrap_or("").to_string()
}

fn acl_path(cfg: &Config) -> String {
    let file = cfg.get("aclfile").unwrap_or("");
    if file.is_empty() || std::path::Path::new(file).is_absolute() {
        return file.to_string();
    }
    std::path::Path::new(cfg.get("dir").unwrap_or("."))
        .join(file)
        .to_string_lossy()
        .into_owned()
}

/// Loads `aclfile` at startup; refuses it together with `user` directives, as Redis does.
pub(crate) fn load_file_at_startup(shared: &crate::shared::Shared) -> Result<(), String> {
    let (path, has_users) = {
        let cfg = shared.config();
        (acl_path(&cfg), !cfg.users().is_empty())
    };
    if path.is_empty() {
        return Ok(());
    }
    if has_users {
        return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
    }
    let name = shared.config().get("aclfile").unwrap_or("").to_string();
    shared.auth.load_file(&path, &name)
}

impl AuthState {
    /// Replaces every user with those of an ACL file, all or nothing (Redis's
    /// `ACLLoadFromFile`, with its error texts); `default` keeps its defaults when the file
    /// does not name it.
    /// `path` is read; `shown` (the setting as written) is what the errors show.
    pub fn load_file(&self, path: &str, shown: &str) -> Result<(), String> {
        let text = std::fs::read(path).map_err(|e| {
            format!(
                "Error loading ACLs, opening file '{shown}': {}",
                crate::config::io_reason(&e)
            )
        })?;
        let text = String::from_utf8_lossy(&text);
        let mut errors = String::new();
        let mut users: BTreeMap<String, Arc<User>> = BTreeMap::new();
        for (i, line) in text.split('\n').enumerate() {
            let n = i + 1;
            let line = line.trim_matches([' ', '\t', '\r', '\n']);
            if line.is_empty() {
                continue;
            }
            let words: Vec<&str> = line.split(' ').filter(|w| !w.is_empty()).collect();
            if words.first() != Some(&"user") || words.len() < 2 {
                errors.push_str(&format!(
                    "{shown}:{n} should start with user keyword followed by the username. "
                ));
                continue;
            }
            let name = words[1];
            if users.contains_key(name) {
                errors.push_str(&format!(
                    "WARNING: Duplicate user '{name}' found on line {n}. "
                ));
                continue;
            }
            let mut u = User::with_pubsub(name, &CATALOG, self.pubsub_all.load(Ordering::Relaxed));
            let args: Vec<Bytes> = words[2..]
                .iter()
                .map(|w| Bytes::copy_from_slice(w.as_bytes()))
                .collect();
            let Ok(ops) = merge_selectors(&args) else {
                errors.push_str(&format!(
                    "{shown}:{n}: Unmatched parenthesis in selector definition."
                ));
                continue;
            };
            let mut syntax = false;
            for op in &ops {
                if let Err(e) = u.apply(&CATALOG, op) {
                    if e == rustis_acl::RuleError::UnknownName {
                        errors.push_str(&format!(
                            "{shown}:{n}: Error in applying operation '{}': {}. ",
                            String::from_utf8_lossy(op),
                            e.message()
                        ));
                    } else if !syntax {
                        errors.push_str(&format!("{shown}:{n}: {}. ", e.message()));
                        syntax = true;
                    }
                }
            }
            users.insert(name.to_string(), Arc::new(u));
        }
        if !errors.is_empty() {
            errors.push_str(
                "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
            );
            return Err(errors);
        }
        users
            .entry("default".to_string())
            .or_insert_with(|| Arc::new(User::default_user(&CATALOG)));
        let _ = self.update(|all| {
            *all = users;
            Ok::<(), ()>(())
        });
        Ok(())
    }
}

/// ACL SAVE: every user as ACL LIST shows it, written to a temporary file renamed over
/// `path`.
fn save_file(w: &Worker, path: &str) -> std::io::Result<()> {
    let text = w.shared.auth.with(|t| {
        t.users
            .iter()
            .map(|(name, u)| format!("user {name} {}\n", u.describe(&CATALOG)))
            .collect::<String>()
    });
    let tmp = format!("{path}.tmp-{}", std::process::id());
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// After ACL LOAD every user but `default` is a new user: the connections authenticated as
/// the old ones are closed, as Redis frees the old users with their clients.
fn sweep_loaded(wk: &Worker) {
    let sweeper = SWEEPER.with(|s| s.get());
    for c in wk.clients.borrow().iter() {
        if c.user.borrow().is_some() {
            if c.id == sweeper {
                c.close();
            } else {
                c.pusher().kill();
            }
        }
    }
}

thread_local! {
    /// The connection running the ACL command that sweeps: it is closed after its reply
    /// rather than at once (Redis's `CLIENT_CLOSE_AFTER_COMMAND`).
    static SWEEPER: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Runs [`sweep`] on every thread for a change made by `sess`.
async fn sweep_everywhere(w: &Rc<Worker>, sess: &Session) {
    SWEEPER.with(|s| s.set(sess.id));
    crate::dispatch::on_every_thread(w, sweep).await;
    SWEEPER.with(|s| s.set(0));
}

/// Closes this thread's connections that the current rules no longer allow: those
/// authenticated as a deleted user (Redis's `ACLFreeUserAndKillClients`), and subscribers to
/// a channel or pattern their user may no longer use (`ACLKillPubsubClientsIfNeeded`).
fn sweep(wk: &Worker) {
    let sweeper = SWEEPER.with(|s| s.get());
    let close = |c: &Session| {
        if c.id == sweeper {
            c.close();
        } else {
            c.pusher().kill();
        }
    };
    wk.shared.auth.with(|t| {
        for c in wk.clients.borrow().iter() {
            let user = c.user.borrow();
            let Some(u) = t.users.get(user.as_deref().unwrap_or("default")) else {
                close(c);
                continue;
            };
            if c.pubsub.total() == 0 || u.selectors.iter().any(|s| s.all_channels) {
                continue;
            }
            let ok = c.pubsub.all_allowed(|name, pattern| {
                u.selectors.iter().any(|s| s.channel_allowed(name, pattern))
            });
            if !ok {
                close(c);
            }
        }
    })
}

/// ACL DRYRUN <username> <command> [<arg> ...]
fn dryrun(w: &Worker, user: &[u8], line: &[Bytes], out: &mut Out) {
    let name = String::from_utf8_lossy(user);
    let Some(u) = w.shared.auth.with(|t| t.users.get(name.as_ref()).cloned()) else {
        return out.error(&format!("ERR User '{name}' not found"));
    };
    let target = REGISTRY
        .lookup(&line[0])
        .map(|s| s.resolve(line).unwrap_or(s));
    let Some(target) = target.filter(|t| t.subcommands.is_empty() || line.len() < 2) else {
        return out.error(&format!(
            "ERR Command '{}' not found",
            String::from_utf8_lossy(&line[0])
        ));
    };
    if !target.arity_ok(line.len()) {
        return out.error(&format!(
            "ERR wrong number of arguments for '{}' command",
            target.meta.name
        ));
    }
    match judge(&u, target, line) {
        Ok(()) => out.ok(),
        Err((Denied::Command, _)) => out.bulk(
            format!(
                "This user has no permissions to run the '{}' command",
                target.meta.name
            )
            .as_bytes(),
        ),
        Err((d, pos)) => out.bulk(
            format!(
                "This user has no permissions to access the '{}' {}",
                String::from_utf8_lossy(&line[pos]),
                if d == Denied::Key { "key" } else { "channel" }
            )
            .as_bytes(),
        ),
    }
}

/// ACL GETUSER's reply: flags, passwords, the root selector's commands, keys and channels,
/// then the other selectors.
fn getuser(u: &User, out: &mut Out) {
    out.map(6);
    out.bulk(b"flags");
    let fl = u.flags();
    out.set(fl.len());
    for f in fl {
        out.bulk(f.as_bytes());
    }
    out.bulk(b"passwords");
    out.array(u.passwords.len());
    for p in &u.passwords {
        out.bulk(p.as_bytes());
    }
    selector_fields(&u.selectors[0], out);
    out.bulk(b"selectors");
    out.array(u.selectors.len() - 1);
    for s in &u.selectors[1..] {
        out.map(3);
        selector_fields(s, out);
    }
}

fn selector_fields(s: &rustis_acl::Selector, out: &mut Out) {
    out.bulk(b"commands");
    out.bulk(s.describe_commands(&CATALOG).as_bytes());
    out.bulk(b"keys");
    out.bulk(s.describe_keys().as_bytes());
    out.bulk(b"channels");
    out.bulk(s.describe_channels().as_bytes());
}

/// Joins the arguments of a selector written over several arguments (`(+get` `~k*)`), as
/// Redis's `ACLMergeSelectorArguments`; an unclosed one is an error at its first argument.
fn merge_selectors(args: &[Bytes]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (i, a) in args.iter().enumerate() {
        if let Some((_, sel)) = open.as_mut() {
            sel.push(b' ');
            sel.extend_from_slice(a);
            if a.last() == Some(&b')') {
                out.push(open.take().expect("open").1);
            }
            continue;
        }
        if a.first() == Some(&b'(') && a.last() != Some(&b')') {
            open = Some((i, a.to_vec()));
            continue;
        }
        out.push(a.to_vec());
    }
    match open {
        Some((i, _)) => Err(i),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirepass_decides_whether_the_default_user_needs_a_password() {
        let a = AuthState::default();
        assert!(a.default_nopass());
        let mut c = Config::default();
        c.set("requirepass", "pw", true).unwrap();
        a.load(&c);
        assert!(!a.default_nopass());
        c.set("requirepass", "", true).unwrap();
        a.load(&c);
        assert!(a.default_nopass());
    }
}
