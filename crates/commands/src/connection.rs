//! Connection commands: PING, ECHO, QUIT, HELLO, AUTH, SELECT, CLIENT, RESET, and the transaction
//! commands MULTI, EXEC, DISCARD, WATCH, UNWATCH, and the scripting commands EVAL, EVALSHA,
//! EVAL_RO, EVALSHA_RO, FCALL, FCALL_RO, SCRIPT and FUNCTION (the runtime runs them on its
//! Lua engines).
//!
//! They act on the connection's own state, so the runtime carries them out; this module holds
//! their bindings and the parts that need no connection (argument parsing, reply shapes).

use crate::registry::{Binding, ConnCmd, Registry, Run, ScriptCall};

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(Binding::new("ping", Run::Conn(ConnCmd::Ping)));
    r.add(Binding::new("echo", Run::Conn(ConnCmd::Echo)));
    r.add(Binding::new("quit", Run::Conn(ConnCmd::Quit)));
    r.add(Binding::new("hello", Run::Conn(ConnCmd::Hello)));
    r.add(Binding::new("auth", Run::Conn(ConnCmd::Auth)));
    r.add(Binding::new("acl", Run::Conn(ConnCmd::Acl)));
    r.add(Binding::new("select", Run::Conn(ConnCmd::Select)));
    r.add(Binding::new("client", Run::Conn(ConnCmd::Client)));
    r.add(Binding::new("reset", Run::Conn(ConnCmd::Reset)));
    r.add(Binding::new("multi", Run::Conn(ConnCmd::Multi)));
    r.add(Binding::new("exec", Run::Conn(ConnCmd::Exec)));
    r.add(Binding::new("discard", Run::Conn(ConnCmd::Discard)));
    r.add(Binding::new("watch", Run::Conn(ConnCmd::Watch)));
    r.add(Binding::new("unwatch", Run::Conn(ConnCmd::Unwatch)));
    for (name, call) in [
        ("eval", ScriptCall::Eval),
        ("eval_ro", ScriptCall::EvalRo),
        ("evalsha", ScriptCall::EvalSha),
        ("evalsha_ro", ScriptCall::EvalShaRo),
        ("fcall", ScriptCall::Fcall),
        ("fcall_ro", ScriptCall::FcallRo),
    ] {
        r.add(Binding::new(name, Run::Conn(ConnCmd::Script(call))));
    }
    r.add(Binding::new("script", Run::Conn(ConnCmd::ScriptAdmin)));
    r.add(Binding::new("function", Run::Conn(ConnCmd::Function)));
}
