//! What Redis 7.0 knows about each command, as data: the table `build.rs` generates from
//! `commands.json` (see `tools/gen_commands.py`), one [`Meta`] per command with its
//! subcommands nested. COMMAND INFO and COMMAND DOCS are written from it, dispatch reads
//! arity and flags from it, and key positions are found from its key specs.

/// Key-spec flags, as COMMAND INFO lists them.
pub mod key_flags {
    /// Read-only access to the key's value.
    pub const RO: u32 = 1 << 0;
    /// Read and write.
    pub const RW: u32 = 1 << 1;
    /// Overwrite: the old value is not read.
    pub const OW: u32 = 1 << 2;
    /// The key is removed.
    pub const RM: u32 = 1 << 3;
    /// User data is returned.
    pub const ACCESS: u32 = 1 << 4;
    /// Data is updated.
    pub const UPDATE: u32 = 1 << 5;
    /// Data is added.
    pub const INSERT: u32 = 1 << 6;
    /// Data is deleted.
    pub const DELETE: u32 = 1 << 7;
    /// Not a key: a name in the key position that names no key.
    pub const NOT_KEY: u32 = 1 << 8;
    /// The spec may miss keys.
    pub const INCOMPLETE: u32 = 1 << 9;
    /// The flags depend on the arguments.
    pub const VARIABLE_FLAGS: u32 = 1 << 10;

    /// Flag names in COMMAND INFO's order.
    pub const NAMES: &[(u32, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

/// Argument flags, as COMMAND DOCS lists them.
pub mod arg_flags {
    /// The argument may be left out.
    pub const OPTIONAL: u8 = 1 << 0;
    /// The argument may repeat.
    pub const MULTIPLE: u8 = 1 << 1;
    /// The argument repeats with its token before each one.
    pub const MULTIPLE_TOKEN: u8 = 1 << 2;

    /// Flag names in COMMAND DOCS's order.
    pub const NAMES: &[(u8, &str)] = &[
        (OPTIONAL, "optional"),
        (MULTIPLE, "multiple"),
        (MULTIPLE_TOKEN, "multiple_token"),
    ];
}

/// Documentation flags of a command.
pub mod doc_flags {
    /// The command is deprecated.
    pub const DEPRECATED: u8 = 1 << 0;
    /// A system command, not meant for users.
    pub const SYSCMD: u8 = 1 << 1;

    /// Flag names in COMMAND DOCS's order.
    pub const NAMES: &[(u8, &str)] = &[(DEPRECATED, "deprecated"), (SYSCMD, "syscmd")];
}

/// ACL categories, in the order Redis lists them (its category bits).
pub const ACL_CATEGORIES: &[&str] = include!("acl_categories.in");

/// The bit of an ACL category (`ACL_CATEGORIES[i]` is bit `i`), by name, ignoring case.
pub fn acl_category_bit(name: &[u8]) -> Option<u32> {
    ACL_CATEGORIES
        .iter()
        .position(|c| c.as_bytes().eq_ignore_ascii_case(name))
        .map(|i| 1 << i)
}

/// Where a key spec starts looking for keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// Not describable: the command finds its keys itself.
    Unknown,
    /// At this argument index.
    Index(i32),
    /// After the first (or, searching backwards, last) occurrence of `keyword`, searching from
    /// `startfrom` (negative: from the end, backwards).
    Keyword {
        /// The keyword, uppercase.
        keyword: &'static str,
        /// Where the search starts.
        startfrom: i32,
    },
}

/// How a key spec finds its keys from where the search began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// Not describable.
    Unknown,
    /// From the start to `lastkey` (negative: from the end; with `limit`, a fraction of the
    /// rest), every `keystep` arguments.
    Range {
        /// The last key, relative to the start (negative: to the end).
        lastkey: i32,
        /// Step between keys.
        keystep: i32,
        /// With `lastkey` -1: only the first 1/limit of the remaining arguments.
        limit: i32,
    },
    /// A key count at `keynumidx`, the keys from `firstkey`, every `keystep`.
    Keynum {
        /// Index of the count, relative to the start.
        keynumidx: i32,
        /// Index of the first key, relative to the start.
        firstkey: i32,
        /// Step between keys.
        keystep: i32,
    },
}

/// One key spec of a command.
#[derive(Debug)]
pub struct KeySpec {
    /// Remarks, when Redis has some.
    pub notes: Option<&'static str>,
    /// `key_flags::*` bits.
    pub flags: u32,
    /// Where the search starts.
    pub begin: BeginSearch,
    /// How keys are found from there.
    pub find: FindKeys,
}

/// One argument, for COMMAND DOCS.
#[derive(Debug)]
pub struct Arg {
    /// Name.
    pub name: &'static str,
    /// Type (`string`, `integer`, `key`, `oneof`, `block`, ...).
    pub kind: &'static str,
    /// The key spec a key argument belongs to.
    pub key_spec_index: Option<i64>,
    /// The literal that introduces it.
    pub token: Option<&'static str>,
    /// A remark.
    pub summary: Option<&'static str>,
    /// The version that added it.
    pub since: Option<&'static str>,
    /// The version that deprecated it.
    pub deprecated_since: Option<&'static str>,
    /// `arg_flags::*` bits.
    pub flags: u8,
    /// The parts of a `oneof` or `block`.
    pub args: Option<&'static [Arg]>,
}

/// Everything COMMAND INFO and COMMAND DOCS say about one command or subcommand.
#[derive(Debug)]
pub struct Meta {
    /// Full lowercase name (`get`, `config|get`).
    pub name: &'static str,
    /// Our one-line summary.
    pub summary: &'static str,
    /// Argument count including the name (and subcommand); negative: at least `-arity`.
    pub arity: i32,
    /// `registry::flags::*` bits.
    pub flags: u32,
    /// ACL category bits (`ACL_CATEGORIES` order).
    pub acl: u32,
    /// The legacy first key position COMMAND INFO shows.
    pub first_key: i32,
    /// The legacy last key position.
    pub last_key: i32,
    /// The legacy key step.
    pub step: i32,
    /// Tips for clients (`nondeterministic_output`, ...).
    pub tips: &'static [&'static str],
    /// Key specs.
    pub key_specs: &'static [KeySpec],
    /// The version it appeared in.
    pub since: Option<&'static str>,
    /// Its group (`string`, `generic`, `server`, ...).
    pub group: &'static str,
    /// Its time complexity.
    pub complexity: Option<&'static str>,
    /// `doc_flags::*` bits.
    pub doc_flags: u8,
    /// The version that deprecated it.
    pub deprecated_since: Option<&'static str>,
    /// What replaces it.
    pub replaced_by: Option<&'static str>,
    /// Changes by version.
    pub history: Option<&'static [(&'static str, &'static str)]>,
    /// Its arguments.
    pub args: Option<&'static [Arg]>,
    /// Its subcommands, by full name.
    pub subcommands: &'static [Meta],
    /// Whether redis-server 7.0.15 has it (the others come from a later Redis).
    pub in_reference: bool,
    /// The later Redis version whose arity, arguments and history it follows instead of
    /// 7.0's (ZRANK's WITHSCORE), if any.
    pub later: Option<&'static str>,
}

/// The metadata of a spec outside the table (the runtime's internal commands).
pub static INTERNAL: Meta = Meta {
    name: "",
    summary: "",
    arity: 0,
    flags: 0,
    acl: 0,
    first_key: 0,
    last_key: 0,
    step: 0,
    tips: &[],
    key_specs: &[],
    since: None,
    group: "",
    complexity: None,
    doc_flags: 0,
    deprecated_since: None,
    replaced_by: None,
    history: None,
    args: None,
    subcommands: &[],
    in_reference: false,
    later: None,
};

include!(concat!(env!("OUT_DIR"), "/command_table.rs"));
