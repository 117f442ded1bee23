//! Server commands: COMMAND, INFO, CONFIG, SHUTDOWN.
//!
//! The runtime carries them out (they read state from every thread); this module binds their
//! names to the runtime.

use crate::registry::{Binding, ConnCmd, Registry, Run};

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(Binding::new("command", Run::Conn(ConnCmd::Command)));
    r.add(Binding::new("info", Run::Conn(ConnCmd::Info)));
    r.add(Binding::new("config", Run::Conn(ConnCmd::Config)));
    r.add(Binding::new("shutdown", Run::Conn(ConnCmd::Shutdown)));
}
