//! Connection commands: PING, ECHO, QUIT, HELLO, SELECT, CLIENT, RESET.
//!
//! They act on the connection's own state, so the runtime carries them out; this module holds
//! their spec rows and the parts that need no connection (argument parsing, reply shapes).

use crate::registry::{flags::*, CommandSpec, ConnCmd, Registry, Run};

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(
        CommandSpec::new("ping", -1, FAST | STALE, Run::Conn(ConnCmd::Ping)).doc(
            "connection",
            "1.0.0",
            "Returns the server's liveliness response.",
        ),
    );
    r.add(
        CommandSpec::new("echo", 2, FAST | STALE, Run::Conn(ConnCmd::Echo)).doc(
            "connection",
            "1.0.0",
            "Returns the given string.",
        ),
    );
    r.add(
        CommandSpec::new(
            "quit",
            -1,
            ALLOW_BUSY | NO_AUTH | LOADING | STALE | FAST,
            Run::Conn(ConnCmd::Quit),
        )
        .doc("connection", "1.0.0", "Closes the connection."),
    );
    r.add(
        CommandSpec::new(
            "hello",
            -1,
            NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
            Run::Conn(ConnCmd::Hello),
        )
        .doc("connection", "6.0.0", "Handshakes with the Redis server."),
    );
    r.add(
        CommandSpec::new(
            "select",
            2,
            LOADING | STALE | FAST,
            Run::Conn(ConnCmd::Select),
        )
        .doc("connection", "1.0.0", "Changes the selected database."),
    );
    r.add(
        CommandSpec::new(
            "client",
            -2,
            NOSCRIPT | LOADING | STALE,
            Run::Conn(ConnCmd::Client),
        )
        .doc(
            "connection",
            "2.4.0",
            "A container for client connection commands.",
        ),
    );
    r.add(
        CommandSpec::new(
            "reset",
            1,
            NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
            Run::Conn(ConnCmd::Reset),
        )
        .doc("connection", "6.2.0", "Resets the connection."),
    );
}
