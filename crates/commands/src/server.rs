//! Server commands: COMMAND, INFO, CONFIG, SHUTDOWN, ROLE, REPLICAOF, MODULE and CLUSTER.
//!
//! The runtime carries out the first four (they read state from every thread); this module
//! binds their names to the runtime. CLUSTER answers here: the server runs without cluster
//! support, and every CLUSTER subcommand says so, as redis-server's does with
//! `cluster-enabled no`.

use bytes::Bytes;

use crate::ctx::ShardCtx;
use crate::registry::{Binding, ConnCmd, Registry, Run};
use crate::Out;

/// Redis's reply to every CLUSTER subcommand when cluster support is off.
pub const CLUSTER_DISABLED: &str = "ERR This instance has cluster support disabled";

fn cluster(_: &mut ShardCtx, _: &[Bytes], out: &mut Out) {
    out.error(CLUSTER_DISABLED);
}

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(Binding::new("command", Run::Conn(ConnCmd::Command)));
    r.add(Binding::new("info", Run::Conn(ConnCmd::Info)));
    r.add(Binding::new("config", Run::Conn(ConnCmd::Config)));
    r.add(Binding::new("shutdown", Run::Conn(ConnCmd::Shutdown)));
    r.add(Binding::new("slowlog", Run::Conn(ConnCmd::Slowlog)));
    r.add(Binding::new("latency", Run::Conn(ConnCmd::Latency)));
    r.add(Binding::new("memory", Run::Conn(ConnCmd::Memory)));
    r.add(Binding::new("debug", Run::Conn(ConnCmd::Debug)));
    r.add(Binding::new("lolwut", Run::Conn(ConnCmd::Lolwut)));
    r.add(Binding::new("role", Run::Conn(ConnCmd::Role)));
    r.add(Binding::new("replicaof", Run::Conn(ConnCmd::Replicaof)));
    r.add(Binding::new("slaveof", Run::Conn(ConnCmd::Replicaof)));
    r.add(Binding::new("module", Run::Conn(ConnCmd::Module)));
    r.add(Binding::new("cluster", Run::Shard(cluster)));
}
