//! Redis 7.0's ACL rule model: users, their passwords (kept as SHA-256 hex digests), and
//! selectors saying which commands, keys and channels they may use. Pure data and rules: the
//! runtime owns the user table, authentication and enforcement.
//!
//! Commands are known through a [`Catalog`] built from the command table: every command and
//! subcommand has an id, a full name (`config|get`) and categories.

use std::collections::HashMap;

use rustis_commands::glob::glob_match;
use sha2::{Digest, Sha256};

/// Redis's ACL categories, in Redis's order (ACL CAT lists them so, and rules are described
/// by trying them in this order).
pub const CATEGORIES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// The bit of a category name in a command's category mask.
pub fn category_bit(name: &str) -> Option<u64> {
    CATEGORIES
        .iter()
        .position(|c| c.eq_ignore_ascii_case(name))
        .map(|i| 1 << i)
}

/// One command or subcommand as the rules see it.
#[derive(Debug, Clone)]
pub struct CommandInfo {
    /// `get`, or `config|get` for a subcommand.
    pub fullname: String,
    /// Category bits ([`category_bit`]).
    pub categories: u64,
    /// The ids of its subcommands.
    pub subcommands: Vec<usize>,
    /// Whether it is a subcommand.
    pub is_sub: bool,
}

/// Every command, by id (ids index `commands`), in the order rules are described.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub commands: Vec<CommandInfo>,
    by_name: HashMap<String, usize>,
    /// The top-level commands, in table order.
    pub top: Vec<usize>,
}

impl Catalog {
    /// Builds the catalog; `commands[i]` must have id `i`.
    pub fn new(commands: Vec<CommandInfo>) -> Catalog {
        let by_name = commands
            .iter()
            .enumerate()
            .map(|(i, c)| (c.fullname.to_ascii_lowercase(), i))
            .collect();
        let mut top: Vec<usize> = (0..commands.len())
            .filter(|&i| !commands[i].is_sub)
            .collect();
        top.sort_by(|&a, &b| commands[a].fullname.cmp(&commands[b].fullname));
        Catalog {
            commands,
            by_name,
            top,
        }
    }

    /// A command or `container|sub` by name, any case.
    pub fn lookup(&self, name: &str) -> Option<usize> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    /// The names of the commands in a category (ACL CAT <category>).
    pub fn in_category(&self, bit: u64) -> Vec<&str> {
        self.commands
            .iter()
            .filter(|c| c.categories & bit != 0)
            .map(|c| c.fullname.as_str())
            .collect()
    }
}

/// Read and write permissions of a key pattern (`%R~`, `%W~`, `%RW~`, `~`).
pub const READ: u8 = 1;
pub const WRITE: u8 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPattern {
    pub flags: u8,
    pub pattern: Vec<u8>,
}

/// What a rule change failed on; the texts are Redis's (`ACLSetUserStringError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    UnknownName,
    Syntax,
    KeysAfterAll,
    ChannelsAfterAll,
    NoSuchPassword,
    BadHash,
    FirstArgOfSub,
}

impl RuleError {
    pub fn message(self) -> &'static str {
        match self {
            RuleError::UnknownName => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeysAfterAll => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            RuleError::ChannelsAfterAll => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            RuleError::FirstArgOfSub => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// Which commands, keys and channels one selector allows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    /// Allowed command ids.
    allowed: Vec<bool>,
    /// Set by `+@all`, cleared when any command is denied: every command is allowed.
    all_commands: bool,
    /// Set by `+@all` only (Redis's reserved command bit): commands added later would be
    /// allowed, so the rules are described from `+@all`.
    future: bool,
    /// Per command id, the first arguments allowed for an otherwise denied command.
    first_args: HashMap<usize, Vec<String>>,
    pub all_keys: bool,
    pub keys: Vec<KeyPattern>,
    pub all_channels: bool,
    pub channels: Vec<Vec<u8>>,
}

fn has_spaces(s: &[u8]) -> bool {
    s.iter().any(|c| c.is_ascii_whitespace())
}

impl Selector {
    fn new(n: usize, all_channels: bool) -> Selector {
        Selector {
            allowed: vec![false; n],
            all_channels,
            ..Default::default()
        }
    }

    fn bit(&self, id: usize) -> bool {
        self.allowed.get(id).copied().unwrap_or(false)
    }

    /// Allows or denies a command and, for a container, its subcommands.
    fn change(&mut self, cat: &Catalog, id: usize, allow: bool) {
        self.allowed[id] = allow;
        if !allow {
            self.all_commands = false;
        }
        self.first_args.remove(&id);
        for &s in &cat.commands[id].subcommands {
            self.allowed[s] = allow;
        }
    }

    fn set_category(&mut self, cat: &Catalog, bit: u64, allow: bool) {
        for id in 0..cat.commands.len() {
            if cat.commands[id].categories & bit != 0 {
                self.change(cat, id, allow);
            }
        }
    }

    /// Applies one selector rule (Redis's `ACLSetSelector`).
    pub fn apply(&mut self, cat: &Catalog, op: &[u8]) -> Result<(), RuleError> {
        let text = String::from_utf8_lossy(op);
        let is = |w: &str| text.eq_ignore_ascii_case(w);
        if is("allkeys") || is("~*") {
            self.all_keys = true;
            self.keys.clear();
        } else if is("resetkeys") {
            self.all_keys = false;
            self.keys.clear();
        } else if is("allchannels") || is("&*") {
            self.all_channels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.all_channels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.allowed.iter_mut().for_each(|b| *b = true);
            self.all_commands = true;
            self.future = true;
            self.first_args.clear();
        } else if is("nocommands") || is("-@all") {
            self.allowed.iter_mut().for_each(|b| *b = false);
            self.all_commands = false;
            self.future = false;
            self.first_args.clear();
        } else if op.first() == Some(&b'~') || op.first() == Some(&b'%') {
            if self.all_keys {
                return Err(RuleError::KeysAfterAll);
            }
            let mut flags = 0;
            let mut offset = 1;
            if op[0] == b'%' {
                loop {
                    match op.get(offset).map(u8::to_ascii_uppercase) {
                        Some(b'R') if flags & READ == 0 => flags |= READ,
                        Some(b'W') if flags & WRITE == 0 => flags |= WRITE,
                        Some(b'~') => {
                            offset += 1;
                            break;
                        }
                        None => break,
                        _ => return Err(RuleError::Syntax),
                    }
                    offset += 1;
                }
            } else {
                flags = READ | WRITE;
            }
            let pattern = op.get(offset..).unwrap_or(&[]);
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            match self.keys.iter_mut().find(|k| k.pattern == pattern) {
                Some(k) => k.flags |= flags,
                None => self.keys.push(KeyPattern {
                    flags,
                    pattern: pattern.to_vec(),
                }),
            }
            self.all_keys = false;
        } else if op.first() == Some(&b'&') {
            if self.all_channels {
                return Err(RuleError::ChannelsAfterAll);
            }
            let pattern = &op[1..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pattern) {
                self.channels.push(pattern.to_vec());
            }
            self.all_channels = false;
        } else if op.len() >= 2 && op[1] == b'@' && (op[0] == b'+' || op[0] == b'-') {
            let bit = category_bit(&text[2..]).ok_or(RuleError::UnknownName)?;
            self.set_category(cat, bit, op[0] == b'+');
        } else if op.first() == Some(&b'+') {
            let name = &text[1..];
            match name.rfind('|') {
                None => {
                    let id = cat.lookup(name).ok_or(RuleError::UnknownName)?;
                    self.change(cat, id, true);
                }
                Some(bar) => {
                    let (parent, sub) = (&name[..bar], &name[bar + 1..]);
                    let id = cat.lookup(parent).ok_or(RuleError::UnknownName)?;
                    if cat.commands[id].is_sub {
                        return Err(RuleError::FirstArgOfSub);
                    }
                    if sub.is_empty() {
                        return Err(RuleError::Syntax);
                    }
                    if !cat.commands[id].subcommands.is_empty() {
                        let sid = cat.lookup(name).ok_or(RuleError::UnknownName)?;
                        self.change(cat, sid, true);
                    } else {
                        let list = self.first_args.entry(id).or_default();
                        if !list.iter().any(|a| a.eq_ignore_ascii_case(sub)) {
                            list.push(sub.to_string());
                        }
                    }
                }
            }
        } else if op.first() == Some(&b'-') {
            let id = cat.lookup(&text[1..]).ok_or(RuleError::UnknownName)?;
            self.change(cat, id, false);
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    /// Whether a command is allowed (by its bit, or by an allowed first argument).
    fn command_allowed(&self, id: usize, first_arg: Option<&[u8]>) -> bool {
        if self.all_commands || self.bit(id) {
            return true;
        }
        match (first_arg, self.first_args.get(&id)) {
            (Some(a), Some(list)) => list.iter().any(|s| s.as_bytes().eq_ignore_ascii_case(a)),
            _ => false,
        }
    }

    /// Whether a key may be used with the given access ([`READ`], [`WRITE`], both, or none:
    /// a key the command neither reads nor writes needs only to match a pattern).
    pub fn key_allowed(&self, key: &[u8], access: u8) -> bool {
        self.all_keys
            || self
                .keys
                .iter()
                .any(|p| p.flags & access == access && glob_match(&p.pattern, key, false))
    }

    /// Whether a channel (or, for PSUBSCRIBE and the like, a pattern taken literally) is
    /// allowed.
    pub fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.all_channels
            || self.channels.iter().any(|p| {
                if is_pattern {
                    p == channel
                } else {
                    glob_match(p, channel, false)
                }
            })
    }

    fn count(&self, cat: &Catalog, bit: u64) -> (usize, usize) {
        let (mut on, mut off) = (0, 0);
        for (id, c) in cat.commands.iter().enumerate() {
            if c.categories & bit != 0 {
                if self.bit(id) {
                    on += 1;
                } else {
                    off += 1;
                }
            }
        }
        (on, off)
    }

    /// The command rules, as Redis's `ACLDescribeSelectorCommandRules` writes them: `+@all`
    /// or `-@all`, the categories that fit best, then single commands to make up the rest.
    pub fn describe_commands(&self, cat: &Catalog) -> String {
        let additive = !self.future;
        let mut rules = String::from(if additive { "-@all " } else { "+@all " });
        let mut fake = Selector::new(cat.commands.len(), false);
        let _ = fake.apply(cat, if additive { b"-@all" } else { b"+@all" });
        let mut temp = self.clone();
        let mut applied = vec![false; CATEGORIES.len()];
        loop {
            let mut best = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0);
            for (j, name) in CATEGORIES.iter().enumerate() {
                if applied[j] {
                    continue;
                }
                let (on, off) = temp.count(cat, category_bit(name).unwrap_or(0));
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(j);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(j) = best else { break };
            let bit = category_bit(CATEGORIES[j]).unwrap_or(0);
            fake.set_category(cat, bit, additive);
            temp.set_category(cat, bit, !additive);
            rules.push_str(if additive { "+@" } else { "-@" });
            rules.push_str(CATEGORIES[j]);
            rules.push(' ');
            applied[j] = true;
        }
        self.single_commands(cat, &mut fake, &mut rules, &cat.top);
        rules.pop();
        rules
    }

    fn single_commands(
        &self,
        cat: &Catalog,
        fake: &mut Selector,
        rules: &mut String,
        ids: &[usize],
    ) {
        for &id in ids {
            let user = self.bit(id);
            if user != fake.bit(id) {
                rules.push(if user { '+' } else { '-' });
                rules.push_str(&cat.commands[id].fullname);
                rules.push(' ');
                fake.change(cat, id, user);
            }
            self.single_commands(cat, fake, rules, &cat.commands[id].subcommands);
            if !user {
                for a in self.first_args.get(&id).into_iter().flatten() {
                    rules.push('+');
                    rules.push_str(&cat.commands[id].fullname);
                    rules.push('|');
                    rules.push_str(a);
                    rules.push(' ');
                }
            }
        }
    }

    /// The key patterns as ACL GETUSER shows them (`~*`, `%R~x`, ...), space separated.
    pub fn describe_keys(&self) -> String {
        if self.all_keys {
            return "~*".into();
        }
        let parts: Vec<String> = self.keys.iter().map(pattern_string).collect();
        parts.join(" ")
    }

    /// The channel patterns as ACL GETUSER shows them.
    pub fn describe_channels(&self) -> String {
        if self.all_channels {
            return "&*".into();
        }
        let parts: Vec<String> = self
            .channels
            .iter()
            .map(|c| format!("&{}", String::from_utf8_lossy(c)))
            .collect();
        parts.join(" ")
    }

    /// The whole selector as ACL LIST writes it (Redis's `ACLDescribeSelector`).
    pub fn describe(&self, cat: &Catalog) -> String {
        let mut res = String::new();
        if self.all_keys {
            res.push_str("~* ");
        } else {
            for k in &self.keys {
                res.push_str(&pattern_string(k));
                res.push(' ');
            }
        }
        if self.all_channels {
            res.push_str("&* ");
        } else {
            res.push_str("resetchannels ");
            for c in &self.channels {
                res.push('&');
                res.push_str(&String::from_utf8_lossy(c));
                res.push(' ');
            }
        }
        res.push_str(&self.describe_commands(cat));
        res
    }
}

fn pattern_string(k: &KeyPattern) -> String {
    let p = String::from_utf8_lossy(&k.pattern);
    match k.flags {
        f if f == READ | WRITE => format!("~{p}"),
        READ => format!("%R~{p}"),
        WRITE => format!("%W~{p}"),
        _ => format!("~{p}"),
    }
}

/// Why a command was refused, in Redis's order of precedence (a later kind wins when no
/// selector allows the command).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denied {
    Command,
    Key,
    Channel,
}

/// What a permission check needs to know of one command call.
pub struct Call<'a> {
    pub id: usize,
    /// The `no_auth` flag: such commands are always allowed.
    pub no_auth: bool,
    /// The argument after the command name (after the subcommand for a subcommand).
    pub first_arg: Option<&'a [u8]>,
    /// `(argument position, key, access)` of every key.
    pub keys: &'a [(usize, &'a [u8], u8)],
    /// `(argument position, channel, is a pattern)` of every channel published or
    /// subscribed to.
    pub channels: &'a [(usize, &'a [u8], bool)],
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub enabled: bool,
    pub nopass: bool,
    /// `sanitize-payload` (true) or `skip-sanitize-payload` (false), once either is set.
    pub sanitize: Option<bool>,
    /// SHA-256 hex digests, in the order added.
    pub passwords: Vec<String>,
    /// The root selector first, then the `(...)` ones.
    pub selectors: Vec<Selector>,
    /// `acl-pubsub-default allchannels`: new selectors and `reset` allow every channel
    /// (set by the caller to the setting in force before rules are applied).
    pub pubsub_all: bool,
}

/// The SHA-256 hex digest of a password, as Redis keeps it.
pub fn hash_password(pass: &[u8]) -> String {
    let digest = Sha256::digest(pass);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn valid_hash(h: &[u8]) -> bool {
    h.len() == 64
        && h.iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

impl User {
    /// A new user as ACL SETUSER creates it: off, no passwords, no commands, keys or channels.
    pub fn new(name: &str, cat: &Catalog) -> User {
        Self::with_pubsub(name, cat, false)
    }

    /// A new user, under `acl-pubsub-default allchannels` when `pubsub_all`.
    pub fn with_pubsub(name: &str, cat: &Catalog, pubsub_all: bool) -> User {
        User {
            name: name.to_string(),
            enabled: false,
            nopass: false,
            sanitize: None,
            passwords: Vec::new(),
            selectors: vec![Selector::new(cat.commands.len(), pubsub_all)],
            pubsub_all,
        }
    }

    /// The `default` user as Redis creates it: every command, key and channel, no password.
    pub fn default_user(cat: &Catalog) -> User {
        let mut u = User::new("default", cat);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            let _ = u.apply(cat, op.as_bytes());
        }
        u
    }

    /// Applies one rule (Redis's `ACLSetUser`).
    pub fn apply(&mut self, cat: &Catalog, op: &[u8]) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(op);
        let is = |w: &str| text.eq_ignore_ascii_case(w);
        if is("on") {
            self.enabled = true;
        } else if is("off") {
            self.enabled = false;
        } else if is("skip-sanitize-payload") {
            self.sanitize = Some(false);
        } else if is("sanitize-payload") {
            self.sanitize = Some(true);
        } else if is("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if is("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let h = if op[0] == b'>' {
                hash_password(&op[1..])
            } else {
                if !valid_hash(&op[1..]) {
                    return Err(RuleError::BadHash);
                }
                text[1..].to_string()
            };
            if !self.passwords.contains(&h) {
                self.passwords.push(h);
            }
            self.nopass = false;
        } else if op[0] == b'<' || op[0] == b'!' {
            let h = if op[0] == b'<' {
                hash_password(&op[1..])
            } else {
                if !valid_hash(&op[1..]) {
                    return Err(RuleError::BadHash);
                }
                text[1..].to_string()
            };
            let i = self
                .passwords
                .iter()
                .position(|p| *p == h)
                .ok_or(RuleError::NoSuchPassword)?;
            self.passwords.remove(i);
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let mut s = Selector::new(cat.commands.len(), self.pubsub_all);
            let inner = &text[1..text.len() - 1];
            for part in inner.split_ascii_whitespace() {
                s.apply(cat, part.as_bytes())?;
            }
            self.selectors.push(s);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            self.nopass = false;
            self.passwords.clear();
            let root = &mut self.selectors[0];
            let _ = root.apply(cat, b"resetkeys");
            let _ = root.apply(cat, b"resetchannels");
            if self.pubsub_all {
                let _ = root.apply(cat, b"allchannels");
            }
            self.enabled = false;
            self.sanitize = Some(true);
            self.selectors.truncate(1);
            let _ = self.selectors[0].apply(cat, b"-@all");
        } else {
            self.selectors[0].apply(cat, op)?;
        }
        Ok(())
    }

    /// Applies rules in order, all or nothing: on an error the user is unchanged and the
    /// index of the failing rule is returned with it.
    pub fn apply_all(&mut self, cat: &Catalog, ops: &[&[u8]]) -> Result<(), (usize, RuleError)> {
        let mut copy = self.clone();
        for (i, op) in ops.iter().enumerate() {
            copy.apply(cat, op).map_err(|e| (i, e))?;
        }
        *self = copy;
        Ok(())
    }

    /// The flags ACL GETUSER lists, in Redis's order.
    pub fn flags(&self) -> Vec<&'static str> {
        let mut f = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            f.push("nopass");
        }
        match self.sanitize {
            Some(false) => f.push("skip-sanitize-payload"),
            Some(true) => f.push("sanitize-payload"),
            None => {}
        }
        f
    }

    /// Whether `pass` authenticates this user.
    pub fn password_ok(&self, pass: &[u8]) -> bool {
        if !self.enabled {
            return false;
        }
        if self.nopass {
            return true;
        }
        let h = hash_password(pass);
        self.passwords
            .iter()
            .fold(false, |ok, p| ok | same(p.as_bytes(), h.as_bytes()))
    }

    /// Whether some selector allows the command and reading every key (all keys, or a `*`
    /// pattern with read access): what SORT's BY and GET patterns need (Redis's
    /// `ACLUserCheckCmdWithUnrestrictedKeyAccess`).
    pub fn full_read_access(&self, call: &Call) -> bool {
        self.selectors.iter().any(|s| {
            check_selector(s, call).is_ok()
                && (s.all_keys
                    || s.keys
                        .iter()
                        .any(|k| k.pattern == b"*" && k.flags & READ == READ))
        })
    }

    /// Whether every command, key and channel is allowed (no check needed).
    pub fn unrestricted(&self) -> bool {
        let r = &self.selectors[0];
        r.all_commands && r.all_keys && r.all_channels && r.allowed.iter().all(|&b| b)
    }

    /// Checks a call against every selector (Redis's `ACLCheckAllUserCommandPerm`): allowed
    /// if one selector allows it; otherwise the most relevant refusal and the argument
    /// position it concerns.
    pub fn check(&self, call: &Call) -> Result<(), (Denied, usize)> {
        if call.no_auth {
            return Ok(());
        }
        let mut worst = (Denied::Command, 0);
        for s in &self.selectors {
            match check_selector(s, call) {
                Ok(()) => return Ok(()),
                Err((d, pos)) => {
                    if d > worst.0 || (d == worst.0 && pos > worst.1) {
                        worst = (d, pos);
                    }
                }
            }
        }
        Err(worst)
    }

    /// The user as ACL LIST shows it (without the `user <name>` prefix), Redis's
    /// `ACLDescribeUser`.
    pub fn describe(&self, cat: &Catalog) -> String {
        let mut res = String::new();
        for f in self.flags() {
            res.push_str(f);
            res.push(' ');
        }
        for p in &self.passwords {
            res.push('#');
            res.push_str(p);
            res.push(' ');
        }
        for (i, s) in self.selectors.iter().enumerate() {
            if i == 0 {
                res.push_str(&s.describe(cat));
            } else {
                res.push_str(&format!(" ({})", s.describe(cat)));
            }
        }
        res
    }
}

fn check_selector(s: &Selector, call: &Call) -> Result<(), (Denied, usize)> {
    if !s.command_allowed(call.id, call.first_arg) {
        return Err((Denied::Command, 0));
    }
    if !s.all_keys {
        for &(pos, key, access) in call.keys {
            if !s.key_allowed(key, access) {
                return Err((Denied::Key, pos));
            }
        }
    }
    if !s.all_channels {
        for &(pos, ch, pattern) in call.channels {
            if !s.channel_allowed(ch, pattern) {
                return Err((Denied::Channel, pos));
            }
        }
    }
    Ok(())
}

/// Compares two secrets in a time that depends only on their lengths.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests;
