//! `Shared`: the little state every thread can read. None of it is on the data path: it is
//! the configuration (behind a lock only CONFIG and startup take), counters bumped once per
//! connection, and the shutdown signal.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use rustis_storage::Clock;
use tokio::sync::watch;

use crate::config::Config;

/// Server-wide state.
pub(crate) struct Shared {
    pub config: RwLock<Config>,
    pub clock: Arc<dyn Clock>,
    pub n_threads: usize,
    pub n_dbs: usize,
    pub port: u16,
    pub started: Instant,
    pub run_id: String,
    pub config_file: Option<String>,
    pub next_client_id: AtomicU64,
    pub connected: AtomicUsize,
    /// Clients waiting in a blocking command (INFO `blocked_clients`).
    pub blocked_clients: AtomicUsize,
    pub total_connections: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub shutdown: watch::Sender<bool>,
    pub allocated: Option<fn() -> usize>,
    /// Snapshot state: last save, background save, counters (`persist.rs`).
    pub persist: crate::persist::PersistState,
}

impl Shared {
    /// Asks every thread to stop.
    pub fn request_shutdown(&self) {
        let _ = self.shutdown.send(true);
    }

    /// The next client id (CLIENT ID), unique for the server's life.
    pub fn client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Reads the config.
    pub fn config(&self) -> std::sync::RwLockReadGuard<'_, Config> {
        self.config.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the config.
    pub fn config_mut(&self) -> std::sync::RwLockWriteGuard<'_, Config> {
        self.config.write().unwrap_or_else(|e| e.into_inner())
    }
}
