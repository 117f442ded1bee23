//! The thread-per-core runtime of Rustis: per-core threads each running one event loop and
//! owning one shard, SO_REUSEPORT listeners, the connection loop, dispatch, the cross-shard
//! mesh and the key locks that make multi-shard commands atomic.
#![warn(missing_docs)]

mod admin;
mod blocking;
mod busy;
mod clients;
mod command;
pub mod config;
mod conn;
mod dispatch;
mod multi;
mod notify;
mod persist;
mod pubsub;
pub mod routing;
mod script;
mod server;
mod session;
mod shared;
mod worker;

pub use admin::REDIS_VERSION;
pub use config::{Config, ConfigError};
pub use server::{start, ServerHandle, ServerOptions};

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
    /// An AOF exists where Redis would load it from, and Rustis cannot load AOF files yet.
    #[error("{} exists, but Rustis cannot load AOF files yet; refusing to start with an empty dataset (move the file away, or point dir elsewhere; see docs/config.md)", .0.display())]
    DataFile(std::path::PathBuf),
    /// The RDB file at `dir`/`dbfilename` could not be read or loaded.
    #[error("could not load {}: {}; refusing to start without its data (see docs/persistence.md)", .0.display(), .1)]
    Load(std::path::PathBuf, String),
    /// An event loop could not be started.
    #[error("could not start an event loop: {0}")]
    Runtime(String),
}
