//! Server commands: COMMAND, INFO, CONFIG, SHUTDOWN.
//!
//! The runtime carries them out (they read state from every thread); this module holds their
//! spec rows and the encoding of command metadata, which needs only the table.

use rustis_resp::Out;

use crate::registry::{flags, flags::*, CommandSpec, ConnCmd, Registry, Run};

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(
        CommandSpec::new("command", -1, LOADING | STALE, Run::Conn(ConnCmd::Command)).doc(
            "server",
            "2.8.13",
            "Returns detailed information about all commands.",
        ),
    );
    r.add(
        CommandSpec::new("info", -1, LOADING | STALE, Run::Conn(ConnCmd::Info)).doc(
            "server",
            "1.0.0",
            "Returns information and statistics about the server.",
        ),
    );
    r.add(
        CommandSpec::new("config", -2, 0, Run::Conn(ConnCmd::Config)).doc(
            "server",
            "2.0.0",
            "A container for server configuration commands.",
        ),
    );
    r.add(
        CommandSpec::new(
            "shutdown",
            -1,
            ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
            Run::Conn(ConnCmd::Shutdown),
        )
        .doc(
            "server",
            "1.0.0",
            "Synchronously saves the database(s) to disk and shuts down the Redis server.",
        ),
    );
}

/// The ACL categories Redis gives a command, derived from its flags and group: `@write` or
/// `@read`, the data type's category, `@fast` or `@slow`, and `@blocking`, `@admin`,
/// `@dangerous` where they apply.
pub fn acl_categories(spec: &CommandSpec) -> Vec<&'static str> {
    let group = match spec.group {
        "generic" => "@keyspace",
        "string" => "@string",
        "list" => "@list",
        "set" => "@set",
        "sorted-set" => "@sortedset",
        "hash" => "@hash",
        "bitmap" => "@bitmap",
        "hyperloglog" => "@hyperloglog",
        "connection" => "@connection",
        "transactions" => "@transaction",
        "scripting" => "@scripting",
        "pubsub" => "@pubsub",
        _ => "",
    };
    let f = spec.flags;
    // Redis lists categories in the order of its category bits.
    let candidates: [(&'static str, bool); 21] = [
        // Server commands that read or write data (DBSIZE, FLUSHDB) are keyspace commands.
        (
            "@keyspace",
            group == "@keyspace" || (spec.group == "server" && f & (READONLY | WRITE) != 0),
        ),
        ("@read", f & READONLY != 0),
        ("@write", f & WRITE != 0),
        ("@set", group == "@set"),
        ("@sortedset", group == "@sortedset"),
        ("@list", group == "@list"),
        ("@hash", group == "@hash"),
        ("@string", group == "@string"),
        ("@bitmap", group == "@bitmap"),
        ("@hyperloglog", group == "@hyperloglog"),
        ("@geo", false),
        ("@stream", false),
        ("@pubsub", group == "@pubsub"),
        ("@admin", f & ADMIN != 0),
        ("@fast", f & FAST != 0),
        ("@slow", f & FAST == 0),
        ("@blocking", f & BLOCKING != 0),
        ("@dangerous", f & ADMIN != 0),
        ("@connection", group == "@connection"),
        ("@transaction", group == "@transaction"),
        ("@scripting", group == "@scripting"),
    ];
    candidates
        .iter()
        .filter(|(_, on)| *on)
        .map(|(c, _)| *c)
        .collect()
}

/// Writes one command's COMMAND INFO entry (Redis 7's ten-element form).
pub fn reply_command_info(out: &mut Out, spec: &CommandSpec) {
    out.array(10);
    out.bulk(spec.name.as_bytes());
    out.int(spec.arity as i64);
    let names: Vec<&str> = flags::NAMES
        .iter()
        .filter(|(bit, _)| spec.flags & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    out.set(names.len());
    for n in names {
        out.simple(n);
    }
    out.int(spec.first_key as i64);
    out.int(spec.last_key as i64);
    out.int(spec.step as i64);
    let cats = acl_categories(spec);
    out.set(cats.len());
    for c in cats {
        out.simple(c);
    }
    out.set(0); // tips
    out.array(0); // key specs
    out.array(0); // subcommands
}

/// Writes one command's COMMAND DOCS entry: summary, since and group.
pub fn reply_command_docs(out: &mut Out, spec: &CommandSpec) {
    out.bulk(spec.name.as_bytes());
    out.map(3);
    out.bulk(b"summary");
    out.bulk(spec.summary.as_bytes());
    out.bulk(b"since");
    out.bulk(spec.since.as_bytes());
    out.bulk(b"group");
    out.bulk(spec.group.as_bytes());
}
