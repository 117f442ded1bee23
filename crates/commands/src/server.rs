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
    let cat = format!("@{}", spec.group);
    out.set(1);
    out.simple(&cat);
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
