//! Pub/sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, SSUBSCRIBE,
//! SUNSUBSCRIBE, SPUBLISH and PUBSUB, and MONITOR (whose feed reaches a connection the way
//! messages do).
//!
//! Subscriptions belong to connections and messages cross every thread, so the runtime
//! carries these commands out (`rustis_runtime`'s `pubsub` module); this module binds them.

use crate::registry::{Binding, ConnCmd, PubSubCmd, Registry, Run};

/// Registers the family.
pub fn register(r: &mut Registry) {
    let bind = |r: &mut Registry, name: &'static str, cmd: PubSubCmd| {
        r.add(Binding::new(name, Run::Conn(ConnCmd::PubSub(cmd))));
    };
    bind(r, "subscribe", PubSubCmd::Subscribe);
    bind(r, "unsubscribe", PubSubCmd::Unsubscribe);
    bind(r, "psubscribe", PubSubCmd::Psubscribe);
    bind(r, "punsubscribe", PubSubCmd::Punsubscribe);
    bind(r, "publish", PubSubCmd::Publish);
    bind(r, "ssubscribe", PubSubCmd::Ssubscribe);
    bind(r, "sunsubscribe", PubSubCmd::Sunsubscribe);
    bind(r, "spublish", PubSubCmd::Spublish);
    bind(r, "pubsub", PubSubCmd::Pubsub);
    bind(r, "monitor", PubSubCmd::Monitor);
}
