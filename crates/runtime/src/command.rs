//! COMMAND and its subcommands (COUNT, LIST, INFO, DOCS, GETKEYS, GETKEYSANDFLAGS, HELP),
//! written from the command table's data exactly as redis-server 7.0 writes them.

use bytes::Bytes;
use rustis_commands::args::eq_ic;
use rustis_commands::glob::glob_match;
use rustis_commands::meta::{
    acl_category_bit, arg_flags, doc_flags, key_flags, Arg, BeginSearch, FindKeys, KeySpec,
    ACL_CATEGORIES,
};
use rustis_commands::registry::flags;
use rustis_commands::{CommandSpec, Out};
use rustis_resp::errors::{unknown_subcommand, wrong_args, SYNTAX};

use crate::dispatch::REGISTRY;

/// COMMAND [COUNT | LIST [FILTERBY ...] | INFO [name ...] | DOCS [name ...] | GETKEYS ... |
/// GETKEYSANDFLAGS ... | HELP]
pub(crate) fn command(args: &[Bytes], out: &mut Out) {
    if args.len() == 1 {
        out.array(REGISTRY.len());
        for spec in REGISTRY.iter() {
            info(out, spec);
        }
        return;
    }
    let Some(parent) = REGISTRY.lookup(b"command") else {
        return out.error("ERR unknown command 'command'");
    };
    let Some(sub) = parent.subcommand(&args[1]) else {
        return out.error(&unknown_subcommand(&args[1], "command"));
    };
    if !sub.arity_ok(args.len()) {
        return out.error(&wrong_args(sub.name));
    }
    match sub.name {
        "command|count" => out.int(REGISTRY.len() as i64),
        "command|list" => list(args, out),
        "command|info" => {
            if args.len() == 2 {
                out.array(REGISTRY.len());
                for spec in REGISTRY.iter() {
                    info(out, spec);
                }
                return;
            }
            out.array(args.len() - 2);
            for name in &args[2..] {
                match REGISTRY.lookup_full(name) {
                    Some(spec) => info(out, spec),
                    None => out.null(),
                }
            }
        }
        "command|docs" => {
            let specs: Vec<&CommandSpec> = if args.len() == 2 {
                REGISTRY.iter().collect()
            } else {
                args[2..]
                    .iter()
                    .filter_map(|n| REGISTRY.lookup_full(n))
                    .collect()
            };
            out.map(specs.len());
            for spec in specs {
                out.bulk(spec.name.as_bytes());
                docs(out, spec);
            }
        }
        "command|getkeys" => getkeys(&args[2..], false, out),
        "command|getkeysandflags" => getkeys(&args[2..], true, out),
        _ => help(out),
    }
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]
fn list(args: &[Bytes], out: &mut Out) {
    enum Filter<'a> {
        All,
        Module,
        AclCat(Option<u32>),
        Pattern(&'a [u8]),
    }
    let mut filter = Filter::All;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if eq_ic(&args[i], "filterby") && more == 2 {
            let arg = &args[i + 2];
            filter = if eq_ic(&args[i + 1], "module") {
                Filter::Module
            } else if eq_ic(&args[i + 1], "aclcat") {
                Filter::AclCat(acl_category_bit(arg))
            } else if eq_ic(&args[i + 1], "pattern") {
                Filter::Pattern(arg)
            } else {
                return out.error(SYNTAX);
            };
            i += 3;
        } else {
            return out.error(SYNTAX);
        }
    }
    let keep = |spec: &CommandSpec| match filter {
        Filter::All => true,
        // No modules are loaded.
        Filter::Module => false,
        Filter::AclCat(bit) => bit.is_some_and(|b| spec.meta.acl & b != 0),
        Filter::Pattern(p) => glob_match(p, spec.name.as_bytes(), true),
    };
    let mut names: Vec<&str> = Vec::new();
    for spec in REGISTRY.iter() {
        if keep(spec) {
            names.push(spec.name);
        }
        for sub in &spec.subcommands {
            if keep(sub) {
                names.push(sub.name);
            }
        }
    }
    out.array(names.len());
    for n in names {
        out.bulk(n.as_bytes());
    }
}

/// COMMAND GETKEYS / GETKEYSANDFLAGS: `line` is the whole command line to look into.
fn getkeys(line: &[Bytes], with_flags: bool, out: &mut Out) {
    let Some(spec) = REGISTRY.lookup(&line[0]).and_then(|s| s.resolve(line)) else {
        return out.error("ERR Invalid command specified");
    };
    if !spec
        .meta
        .key_specs
        .iter()
        .any(|k| k.flags & key_flags::NOT_KEY == 0)
    {
        return out.error("ERR The command has no key arguments");
    }
    if !spec.arity_ok(line.len()) {
        return out.error("ERR Invalid number of arguments specified for command");
    }
    let keys = keys_and_flags(spec, line);
    if keys.is_empty() {
        if spec.flags & flags::NO_MANDATORY_KEYS != 0 {
            return out.array(0);
        }
        return out.error("ERR Invalid arguments specified for command");
    }
    out.array(keys.len());
    for (pos, fl) in keys {
        if with_flags {
            out.array(2);
            out.bulk(&line[pos]);
            flag_set(out, fl, key_flags::NAMES);
        } else {
            out.bulk(&line[pos]);
        }
    }
}

/// The keys of a command line and how each is accessed, found as Redis finds them: from the
/// key specs when they describe the call and their flags do not depend on the arguments,
/// else as the command's own key finder does.
pub(crate) fn keys_and_flags(spec: &CommandSpec, line: &[Bytes]) -> Vec<(usize, u32)> {
    let specs = spec.meta.key_specs;
    let variable = specs
        .iter()
        .any(|k| k.flags & key_flags::VARIABLE_FLAGS != 0);
    if !variable {
        if let Some(keys) = spec.keys_from_specs(line) {
            return keys;
        }
    }
    match spec.name {
        // SET's key is read only with GET.
        "set" => {
            let get = line.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get"));
            let fl = if get {
                key_flags::RW | key_flags::ACCESS | key_flags::UPDATE
            } else {
                key_flags::OW | key_flags::UPDATE
            };
            vec![(1, fl)]
        }
        // BITFIELD's key is only read when every operation is a GET.
        "bitfield" => {
            let mut readonly = true;
            let mut i = 2;
            while i < line.len() {
                let rem = line.len() - i - 1;
                if eq_ic(&line[i], "get") && rem >= 2 {
                    i += 3;
                } else if (eq_ic(&line[i], "set") || eq_ic(&line[i], "incrby")) && rem >= 3 {
                    readonly = false;
                    break;
                } else if eq_ic(&line[i], "overflow") && rem >= 1 {
                    i += 2;
                } else {
                    readonly = false;
                    break;
                }
            }
            let fl = if readonly {
                key_flags::RO | key_flags::ACCESS
            } else {
                key_flags::RW | key_flags::ACCESS | key_flags::UPDATE
            };
            vec![(1, fl)]
        }
        // MIGRATE's key finder gives every key the same flags (Redis's `migrateGetKeys`).
        "migrate" => {
            let fl = key_flags::RW | key_flags::ACCESS | key_flags::DELETE;
            let positions = spec
                .keys
                .map_or(Vec::new(), |f| f(line).unwrap_or_default());
            positions.into_iter().map(|p| (p, fl)).collect()
        }
        _ => {
            let positions = match spec.keys {
                Some(f) => f(line).unwrap_or_default(),
                None => spec.legacy_range(line),
            };
            // A key at a spec's fixed index takes that spec's flags (SORT's sorted key);
            // the others, the last spec's (SORT's STORE destination).
            positions
                .into_iter()
                .map(|p| {
                    let fl = specs
                        .iter()
                        .find(|k| k.begin == BeginSearch::Index(p as i32))
                        .or(specs.last())
                        .map_or(0, |k| k.flags);
                    (p, fl)
                })
                .collect()
        }
    }
}

/// A set of flag names: those of `names` whose bit is in `bits`, in that order.
fn flag_set<T: Copy + std::ops::BitAnd<Output = T> + PartialEq + Default>(
    out: &mut Out,
    bits: T,
    names: &[(T, &str)],
) {
    let on: Vec<&str> = names
        .iter()
        .filter(|(b, _)| bits & *b != T::default())
        .map(|(_, n)| *n)
        .collect();
    out.set(on.len());
    for n in on {
        out.simple(n);
    }
}

/// One command's COMMAND INFO entry: Redis 7's ten-element form, subcommands nested.
fn info(out: &mut Out, spec: &CommandSpec) {
    let m = spec.meta;
    out.array(10);
    out.bulk(spec.name.as_bytes());
    out.int(m.arity as i64);
    flag_set(out, m.flags, flags::NAMES);
    out.int(m.first_key as i64);
    out.int(m.last_key as i64);
    out.int(m.step as i64);
    let cats: Vec<&str> = ACL_CATEGORIES
        .iter()
        .enumerate()
        .filter(|(i, _)| m.acl & (1 << i) != 0)
        .map(|(_, c)| *c)
        .collect();
    out.set(cats.len());
    for c in cats {
        out.simple(&format!("@{c}"));
    }
    out.set(m.tips.len());
    for t in m.tips {
        out.bulk(t.as_bytes());
    }
    out.set(m.key_specs.len());
    for ks in m.key_specs {
        key_spec(out, ks);
    }
    if spec.subcommands.is_empty() {
        out.set(0);
    } else {
        out.array(spec.subcommands.len());
        for sub in &spec.subcommands {
            info(out, sub);
        }
    }
}

fn key_spec(out: &mut Out, ks: &KeySpec) {
    out.map(3 + usize::from(ks.notes.is_some()));
    if let Some(n) = ks.notes {
        out.bulk(b"notes");
        out.bulk(n.as_bytes());
    }
    out.bulk(b"flags");
    flag_set(out, ks.flags, key_flags::NAMES);
    out.bulk(b"begin_search");
    out.map(2);
    out.bulk(b"type");
    match ks.begin {
        BeginSearch::Unknown => {
            out.bulk(b"unknown");
            out.bulk(b"spec");
            out.map(0);
        }
        BeginSearch::Index(i) => {
            out.bulk(b"index");
            out.bulk(b"spec");
            out.map(1);
            out.bulk(b"index");
            out.int(i as i64);
        }
        BeginSearch::Keyword { keyword, startfrom } => {
            out.bulk(b"keyword");
            out.bulk(b"spec");
            out.map(2);
            out.bulk(b"keyword");
            out.bulk(keyword.as_bytes());
            out.bulk(b"startfrom");
            out.int(startfrom as i64);
        }
    }
    out.bulk(b"find_keys");
    out.map(2);
    out.bulk(b"type");
    match ks.find {
        FindKeys::Unknown => {
            out.bulk(b"unknown");
            out.bulk(b"spec");
            out.map(0);
        }
        FindKeys::Range {
            lastkey,
            keystep,
            limit,
        } => {
            out.bulk(b"range");
            out.bulk(b"spec");
            out.map(3);
            out.bulk(b"lastkey");
            out.int(lastkey as i64);
            out.bulk(b"keystep");
            out.int(keystep as i64);
            out.bulk(b"limit");
            out.int(limit as i64);
        }
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            keystep,
        } => {
            out.bulk(b"keynum");
            out.bulk(b"spec");
            out.map(3);
            out.bulk(b"keynumidx");
            out.int(keynumidx as i64);
            out.bulk(b"firstkey");
            out.int(firstkey as i64);
            out.bulk(b"keystep");
            out.int(keystep as i64);
        }
    }
}

/// One command's COMMAND DOCS map (its name is written by the caller).
fn docs(out: &mut Out, spec: &CommandSpec) {
    let m = spec.meta;
    let len = 2
        + usize::from(m.since.is_some())
        + usize::from(m.complexity.is_some())
        + usize::from(m.doc_flags != 0)
        + usize::from(m.deprecated_since.is_some())
        + usize::from(m.replaced_by.is_some())
        + usize::from(m.history.is_some())
        + usize::from(m.args.is_some())
        + usize::from(!spec.subcommands.is_empty());
    out.map(len);
    out.bulk(b"summary");
    out.bulk(m.summary.as_bytes());
    if let Some(s) = m.since {
        out.bulk(b"since");
        out.bulk(s.as_bytes());
    }
    out.bulk(b"group");
    out.bulk(m.group.as_bytes());
    if let Some(c) = m.complexity {
        out.bulk(b"complexity");
        out.bulk(c.as_bytes());
    }
    if m.doc_flags != 0 {
        out.bulk(b"doc_flags");
        flag_set(out, m.doc_flags, doc_flags::NAMES);
    }
    if let Some(d) = m.deprecated_since {
        out.bulk(b"deprecated_since");
        out.bulk(d.as_bytes());
    }
    if let Some(r) = m.replaced_by {
        out.bulk(b"replaced_by");
        out.bulk(r.as_bytes());
    }
    if let Some(h) = m.history {
        out.bulk(b"history");
        out.set(h.len());
        for (v, what) in h {
            out.array(2);
            out.bulk(v.as_bytes());
            out.bulk(what.as_bytes());
        }
    }
    if let Some(a) = m.args {
        out.bulk(b"arguments");
        arg_list(out, a);
    }
    if !spec.subcommands.is_empty() {
        out.bulk(b"subcommands");
        out.map(spec.subcommands.len());
        for sub in &spec.subcommands {
            out.bulk(sub.name.as_bytes());
            docs(out, sub);
        }
    }
}

fn arg_list(out: &mut Out, args: &[Arg]) {
    out.array(args.len());
    for a in args {
        let nested = matches!(a.kind, "oneof" | "block");
        let len = 2
            + usize::from(a.key_spec_index.is_some())
            + usize::from(a.token.is_some())
            + usize::from(a.summary.is_some())
            + usize::from(a.since.is_some())
            + usize::from(a.deprecated_since.is_some())
            + usize::from(a.flags != 0)
            + usize::from(nested);
        out.map(len);
        out.bulk(b"name");
        out.bulk(a.name.as_bytes());
        out.bulk(b"type");
        out.bulk(a.kind.as_bytes());
        if let Some(i) = a.key_spec_index {
            out.bulk(b"key_spec_index");
            out.int(i);
        }
        for (k, v) in [
            ("token", a.token),
            ("summary", a.summary),
            ("since", a.since),
            ("deprecated_since", a.deprecated_since),
        ] {
            if let Some(v) = v {
                out.bulk(k.as_bytes());
                out.bulk(v.as_bytes());
            }
        }
        if a.flags != 0 {
            out.bulk(b"flags");
            flag_set(out, a.flags, arg_flags::NAMES);
        }
        if nested {
            out.bulk(b"arguments");
            arg_list(out, a.args.unwrap_or(&[]));
        }
    }
}

fn help(out: &mut Out) {
    crate::admin::help(
        out,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    );
}
