//! Authentication, as Redis 7.0 does it for its `default` user: `requirepass` is that user's
//! password, AUTH and HELLO ... AUTH check it, and a connection that has not authenticated may
//! run only the commands flagged `no_auth` (AUTH, HELLO, QUIT, RESET).
//!
//! A connection is authenticated from the start when the default user needs no password at
//! the time it connects (Redis's `clientSetDefaultAuth`); setting `requirepass` later does not
//! log out connections already open, as in Redis. RESET logs the connection out again.
//!
//! The data path reads one atomic (whether the default user needs no password), copied from
//! the config at startup and after CONFIG SET; the password itself is read from the config
//! only by AUTH and HELLO.

use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use rustis_commands::registry::flags;
use rustis_commands::{CommandSpec, Out};
use rustis_resp::errors::SYNTAX;

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

/// The authentication settings read on the data path.
#[derive(Debug)]
pub(crate) struct AuthState {
    /// Whether the default user needs no password (`requirepass` is empty).
    default_nopass: AtomicBool,
}

impl Default for AuthState {
    fn default() -> Self {
        AuthState {
            default_nopass: AtomicBool::new(true),
        }
    }
}

impl AuthState {
    /// Copies `requirepass` out of the config (startup, CONFIG SET).
    pub fn load(&self, cfg: &Config) {
        let nopass = cfg.get("requirepass").unwrap_or("").is_empty();
        self.default_nopass.store(nopass, Ordering::Relaxed);
    }

    /// Whether the default user needs no password: a new connection is authenticated at
    /// once, and protected mode applies.
    pub fn default_nopass(&self) -> bool {
        self.default_nopass.load(Ordering::Relaxed)
    }
}

/// Whether a connection starting now (or RESET now) is authenticated without AUTH.
pub(crate) fn authenticated_at_start(w: &Worker) -> bool {
    w.shared.auth.default_nopass()
}

/// The error for a command `sess` may not run before it authenticates, if so (Redis's
/// `authRequired` and `CMD_NO_AUTH`).
pub(crate) fn refused(w: &Worker, sess: &Session, spec: &CommandSpec) -> Option<&'static str> {
    if sess.authenticated.get() || spec.flags & flags::NO_AUTH != 0 {
        return None;
    }
    (!w.shared.auth.default_nopass()).then_some(NOAUTH)
}

/// Checks `user`/`pass` and, when they match, authenticates the connection
/// (Redis's `ACLAuthenticateUser`). The only user is `default`, whose password is
/// `requirepass` (none: any password is accepted).
pub(crate) fn authenticate(w: &Worker, sess: &Session, user: &[u8], pass: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    let ok = {
        let cfg = w.shared.config();
        let required = cfg.get("requirepass").unwrap_or("");
        required.is_empty() || same(required.as_bytes(), pass)
    };
    if ok {
        sess.authenticated.set(true);
    }
    ok
}

/// Compares two secrets in a time that depends only on their lengths.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
    if authenticate(w, sess, user, pass) {
        out.ok();
    } else {
        out.error(WRONGPASS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(same(b"", b""));
        assert!(same(b"hunter2", b"hunter2"));
        assert!(!same(b"hunter2", b"hunter3"));
        assert!(!same(b"hunter2", b"hunter"));
    }

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
