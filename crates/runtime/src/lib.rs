//! The thread-per-core runtime of Rustis: per-core threads each running one event loop and
//! owning one shard, SO_REUSEPORT listeners, the connection loop, dispatch, the cross-shard
//! mesh and the key locks that make multi-shard commands atomic.
#![warn(missing_docs)]

mod acl;
mod admin;
mod aof;
mod blocking;
mod busy;
mod clients;
mod command;
pub mod config;
mod conn;
mod debug;
mod dispatch;
mod evict;
mod functions;
mod latency;
mod limits;
pub mod logging;
mod memory;
mod mesh;
mod metrics;
mod multi;
mod notify;
mod pause;
mod persist;
pub mod process;
mod pubsub;
mod qbuf;
pub mod routing;
mod script;
mod server;
mod session;
mod shared;
mod stats;
mod tls;
mod tracking;
mod worker;

pub use admin::REDIS_VERSION;
pub use config::{Config, ConfigError};
pub use memory::{install_allocator, AllocatorHooks};
pub use server::{start, ServerHandle, ServerOptions, Signaller};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A bind address is not an IP address.
    #[error("invalid bind address '{0}'")]
    Bind(String),
    /// Binding or listening failed.
    #[error("could not listen on {0}: {1}")]
    Listen(std::net::SocketAddr, std::io::Error),
    /// A thread could not be started.
    #[error("could not start a thread: {0}")]
    Thread(std::io::Error),
    /// The RDB file at `dir`/`dbfilename` could not be read or loaded.
    #[error("could not load {}: {}; refusing to start without its data (see docs/persistence.md)", .0.display(), .1)]
    Load(std::path::PathBuf, String),
    /// TLS is configured (a TLS port is set) but its configuration does not build: the
    /// reason, as Redis logs it.
    #[error("Failed to configure TLS: {0}")]
    Tls(String),
    /// The users could not be loaded (`aclfile`, or it together with `user` directives).
    #[error("{0}")]
    Acl(String),
    /// An event loop could not be started.
    #[error("could not start an event loop: {0}")]
    Runtime(String),
    /// `rename-command` lines that this process's command table cannot take: it is one per
    /// process, and was built already, or with other renames (a second server in the same
    /// process).
    #[error("rename-command applies to the process's one command table, which was built already without these renames")]
    Renames,
}
