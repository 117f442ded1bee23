//! Generates the command table (`meta::COMMANDS`) from `commands.json`.
//!
//! The data file is committed; `tools/gen_commands.py` regenerates it from redis-server
//! 7.0.15's replies. This script needs neither the server nor the network. An unknown flag,
//! category or field in the data fails the build.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use serde_json::{Map, Value};

const COMMAND_FLAGS: &[(&str, &str)] = &[
    ("write", "WRITE"),
    ("readonly", "READONLY"),
    ("denyoom", "DENYOOM"),
    ("module", "MODULE"),
    ("admin", "ADMIN"),
    ("pubsub", "PUBSUB"),
    ("noscript", "NOSCRIPT"),
    ("blocking", "BLOCKING"),
    ("loading", "LOADING"),
    ("stale", "STALE"),
    ("skip_monitor", "SKIP_MONITOR"),
    ("skip_slowlog", "SKIP_SLOWLOG"),
    ("asking", "ASKING"),
    ("fast", "FAST"),
    ("no_auth", "NO_AUTH"),
    ("no_mandatory_keys", "NO_MANDATORY_KEYS"),
    ("no_async_loading", "NO_ASYNC_LOADING"),
    ("no_multi", "NO_MULTI"),
    ("movablekeys", "MOVABLE_KEYS"),
    ("allow_busy", "ALLOW_BUSY"),
];

const KEY_FLAGS: &[&str] = &[
    "RO",
    "RW",
    "OW",
    "RM",
    "access",
    "update",
    "insert",
    "delete",
    "not_key",
    "incomplete",
    "variable_flags",
];

const ACL: &[&str] = include!("src/acl_categories.in");

const ROW_FIELDS: &[&str] = &[
    "name",
    "summary",
    "reference",
    "arity",
    "flags",
    "acl_categories",
    "first_key",
    "last_key",
    "step",
    "tips",
    "key_specs",
    "since",
    "group",
    "complexity",
    "doc_flags",
    "deprecated_since",
    "replaced_by",
    "history",
    "arguments",
    "subcommands",
    "later",
];

/// The fields a row's "later" object may override.
const LATER_FIELDS: &[&str] = &["version", "arity", "history", "arguments"];

fn main() {
    let manifest = env::var("CARGO_MANIFEST_DIR").unwrap();
    let path = Path::new(&manifest).join("commands.json");
    println!("cargo:rerun-if-changed={}", path.display());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/acl_categories.in");
    let text = fs::read_to_string(&path).expect("read commands.json");
    let rows: Value = serde_json::from_str(&text).expect("commands.json is JSON");
    let rows = rows
        .as_array()
        .expect("commands.json is an array of commands");
    let mut out = String::from(
        "/// Every command Rustis serves, sorted by name.\npub static COMMANDS: &[Meta] = &[\n",
    );
    for row in rows {
        meta(&mut out, row, 1);
    }
    out.push_str("];\n");
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("command_table.rs");
    fs::write(dest, out).expect("write command_table.rs");
}

fn obj(v: &Value) -> &Map<String, Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("expected an object: {v}"))
}

fn s(v: &Value) -> String {
    format!(
        "{:?}",
        v.as_str()
            .unwrap_or_else(|| panic!("expected a string: {v}"))
    )
}

fn int(v: &Value) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("expected an integer: {v}"))
}

fn opt_s(m: &Map<String, Value>, k: &str) -> String {
    match m.get(k) {
        Some(v) => format!("Some({})", s(v)),
        None => "None".into(),
    }
}

fn names(v: Option<&Value>) -> Vec<&str> {
    v.map(|v| {
        v.as_array()
            .unwrap_or_else(|| panic!("expected a list: {v}"))
            .iter()
            .map(|x| {
                x.as_str()
                    .unwrap_or_else(|| panic!("expected a string: {x}"))
            })
            .collect()
    })
    .unwrap_or_default()
}

/// `a | b | c` of the constants in `module` named by `list`, or 0.
fn bits(list: &[&str], module: &str, table: &[(&str, &str)], what: &str) -> String {
    let mut parts = Vec::new();
    for n in list {
        let c = table
            .iter()
            .find(|(name, _)| name == n)
            .unwrap_or_else(|| panic!("unknown {what} {n:?}"))
            .1;
        parts.push(format!("{module}::{c}"));
    }
    if parts.is_empty() {
        "0".into()
    } else {
        parts.join(" | ")
    }
}

fn meta(out: &mut String, v: &Value, depth: usize) {
    let mut m = obj(v).clone();
    for k in m.keys() {
        assert!(
            ROW_FIELDS.contains(&k.as_str()),
            "unknown command field {k:?}"
        );
    }
    // Where Rustis serves the command as a later Redis does, the later fields win.
    let later = m.remove("later").map(|l| obj(&l).clone());
    let later_version = match &later {
        Some(l) => {
            for (k, val) in l {
                assert!(
                    LATER_FIELDS.contains(&k.as_str()),
                    "unknown later field {k:?}"
                );
                if k != "version" {
                    m.insert(k.clone(), val.clone());
                }
            }
            format!("Some({})", s(&l["version"]))
        }
        None => "None".into(),
    };
    let m = &m;
    let name = m["name"].as_str().expect("name");
    let pad = " ".repeat(depth * 4);
    let flags = bits(
        &names(m.get("flags")),
        "crate::registry::flags",
        COMMAND_FLAGS,
        "command flag",
    );
    let mut acl = 0u32;
    for c in names(m.get("acl_categories")) {
        let c = c
            .strip_prefix('@')
            .unwrap_or_else(|| panic!("category {c:?} without @"));
        let i = ACL
            .iter()
            .position(|a| *a == c)
            .unwrap_or_else(|| panic!("unknown category {c:?}"));
        acl |= 1 << i;
    }
    let tips: Vec<String> = names(m.get("tips"))
        .iter()
        .map(|t| format!("{t:?}"))
        .collect();
    let mut specs = String::new();
    for ks in m
        .get("key_specs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        specs.push_str(&key_spec(ks, name));
    }
    let doc_flags = {
        let mut b = 0u8;
        for f in names(m.get("doc_flags")) {
            b |= match f {
                "deprecated" => 1,
                "syscmd" => 2,
                _ => panic!("unknown doc flag {f:?}"),
            };
        }
        b
    };
    let history = match m.get("history") {
        None => "None".to_string(),
        Some(h) => {
            let mut t = String::from("Some(&[");
            for e in h.as_array().expect("history list") {
                let e = e.as_array().expect("history entry");
                write!(t, "({}, {}), ", s(&e[0]), s(&e[1])).unwrap();
            }
            t.push_str("])");
            t
        }
    };
    let args = match m.get("arguments") {
        None => "None".to_string(),
        Some(a) => format!("Some({})", arg_list(a)),
    };
    let reference = m
        .get("reference")
        .map(|r| r.as_bool().expect("reference is a bool"))
        .unwrap_or(true);
    writeln!(out, "{pad}Meta {{").unwrap();
    writeln!(out, "{pad}    name: {:?},", name).unwrap();
    writeln!(out, "{pad}    summary: {},", s(&m["summary"])).unwrap();
    writeln!(out, "{pad}    arity: {},", int(&m["arity"])).unwrap();
    writeln!(out, "{pad}    flags: {flags},").unwrap();
    writeln!(out, "{pad}    acl: {acl:#x},").unwrap();
    writeln!(out, "{pad}    first_key: {},", int(&m["first_key"])).unwrap();
    writeln!(out, "{pad}    last_key: {},", int(&m["last_key"])).unwrap();
    writeln!(out, "{pad}    step: {},", int(&m["step"])).unwrap();
    writeln!(out, "{pad}    tips: &[{}],", tips.join(", ")).unwrap();
    writeln!(out, "{pad}    key_specs: &[{specs}],").unwrap();
    writeln!(out, "{pad}    since: {},", opt_s(m, "since")).unwrap();
    writeln!(out, "{pad}    group: {},", s(&m["group"])).unwrap();
    writeln!(out, "{pad}    complexity: {},", opt_s(m, "complexity")).unwrap();
    writeln!(out, "{pad}    doc_flags: {doc_flags},").unwrap();
    writeln!(
        out,
        "{pad}    deprecated_since: {},",
        opt_s(m, "deprecated_since")
    )
    .unwrap();
    writeln!(out, "{pad}    replaced_by: {},", opt_s(m, "replaced_by")).unwrap();
    writeln!(out, "{pad}    history: {history},").unwrap();
    writeln!(out, "{pad}    args: {args},").unwrap();
    writeln!(out, "{pad}    subcommands: &[").unwrap();
    for sub in m
        .get("subcommands")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let sub_name = sub["name"].as_str().expect("subcommand name");
        assert!(
            sub_name.starts_with(&format!("{name}|")),
            "subcommand {sub_name:?} is not named after {name:?}"
        );
        meta(out, sub, depth + 2);
    }
    writeln!(out, "{pad}    ],").unwrap();
    writeln!(out, "{pad}    in_reference: {reference},").unwrap();
    writeln!(out, "{pad}    later: {later_version},").unwrap();
    writeln!(out, "{pad}}},").unwrap();
}

fn key_spec(v: &Value, cmd: &str) -> String {
    let m = obj(v);
    let consts: Vec<(&str, String)> = KEY_FLAGS
        .iter()
        .map(|n| (*n, n.to_ascii_uppercase()))
        .collect();
    let table: Vec<(&str, &str)> = consts.iter().map(|(n, c)| (*n, c.as_str())).collect();
    let fl = bits(&names(m.get("flags")), "key_flags", &table, "key flag");
    let bs = obj(&m["begin_search"]);
    let bspec = obj(&bs["spec"]);
    let begin = match bs["type"].as_str().expect("begin_search type") {
        "unknown" => "BeginSearch::Unknown".to_string(),
        "index" => format!("BeginSearch::Index({})", int(&bspec["index"])),
        "keyword" => format!(
            "BeginSearch::Keyword {{ keyword: {}, startfrom: {} }}",
            s(&bspec["keyword"]),
            int(&bspec["startfrom"])
        ),
        t => panic!("{cmd}: unknown begin_search type {t:?}"),
    };
    let fk = obj(&m["find_keys"]);
    let fspec = obj(&fk["spec"]);
    let find = match fk["type"].as_str().expect("find_keys type") {
        "unknown" => "FindKeys::Unknown".to_string(),
        "range" => format!(
            "FindKeys::Range {{ lastkey: {}, keystep: {}, limit: {} }}",
            int(&fspec["lastkey"]),
            int(&fspec["keystep"]),
            int(&fspec["limit"])
        ),
        "keynum" => format!(
            "FindKeys::Keynum {{ keynumidx: {}, firstkey: {}, keystep: {} }}",
            int(&fspec["keynumidx"]),
            int(&fspec["firstkey"]),
            int(&fspec["keystep"])
        ),
        t => panic!("{cmd}: unknown find_keys type {t:?}"),
    };
    format!(
        "KeySpec {{ notes: {}, flags: {fl}, begin: {begin}, find: {find} }}, ",
        opt_s(m, "notes")
    )
}

fn arg_list(v: &Value) -> String {
    let mut t = String::from("&[");
    for a in v.as_array().expect("argument list") {
        let m = obj(a);
        for k in m.keys() {
            assert!(
                [
                    "name",
                    "type",
                    "key_spec_index",
                    "token",
                    "summary",
                    "since",
                    "deprecated_since",
                    "flags",
                    "arguments"
                ]
                .contains(&k.as_str()),
                "unknown argument field {k:?}"
            );
        }
        let mut fl = 0u8;
        for f in names(m.get("flags")) {
            fl |= match f {
                "optional" => 1,
                "multiple" => 2,
                "multiple_token" => 4,
                _ => panic!("unknown argument flag {f:?}"),
            };
        }
        let ksi = match m.get("key_spec_index") {
            Some(i) => format!("Some({})", int(i)),
            None => "None".into(),
        };
        let sub = match m.get("arguments") {
            Some(a) => format!("Some({})", arg_list(a)),
            None => "None".into(),
        };
        write!(
            t,
            "Arg {{ name: {}, kind: {}, key_spec_index: {ksi}, token: {}, summary: {}, since: {}, deprecated_since: {}, flags: {fl}, args: {sub} }}, ",
            s(&m["name"]),
            s(&m["type"]),
            opt_s(m, "token"),
            opt_s(m, "summary"),
            opt_s(m, "since"),
            opt_s(m, "deprecated_since"),
        )
        .unwrap();
    }
    t.push(']');
    t
}
