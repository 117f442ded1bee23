//! Connection commands: PING, ECHO, QUIT, HELLO, SELECT, CLIENT, RESET.
//!
//! They act on the connection's own state, so the runtime carries them out; this module holds
//! their bindings and the parts that need no connection (argument parsing, reply shapes).

use crate::registry::{Binding, ConnCmd, Registry, Run};

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(Binding::new("ping", Run::Conn(ConnCmd::Ping)));
    r.add(Binding::new("echo", Run::Conn(ConnCmd::Echo)));
    r.add(Binding::new("quit", Run::Conn(ConnCmd::Quit)));
    r.add(Binding::new("hello", Run::Conn(ConnCmd::Hello)));
    r.add(Binding::new("select", Run::Conn(ConnCmd::Select)));
    r.add(Binding::new("client", Run::Conn(ConnCmd::Client)));
    r.add(Binding::new("reset", Run::Conn(ConnCmd::Reset)));
}
