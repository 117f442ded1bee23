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
    /// Per thread, the state of the script its Lua engine runs (set when the engine starts):
    /// SCRIPT KILL and FUNCTION KILL reach a busy thread through it, without a message.
    pub script_status: Vec<std::sync::OnceLock<Arc<rustis_scripting::RunStatus>>>,
    /// Per thread: 0, or what keeps it busy past `lua-time-limit` (1: an EVAL script, 2: a
    /// function); and how many threads are busy. While any is, commands without the
    /// `allow_busy` flag get `-BUSY` on every thread, as in Redis.
    pub busy: Vec<std::sync::atomic::AtomicU8>,
    pub busy_count: AtomicUsize,
    /// Per thread: the function that keeps it busy, for FUNCTION STATS's `running_script` on
    /// any thread. Written when the thread becomes busy and when it stops being so, read by
    /// FUNCTION STATS: never on the data path, so a lock is fine here.
    pub busy_run: Vec<std::sync::Mutex<Option<crate::busy::BusyRun>>>,
    /// `lua-time-limit` in milliseconds, copied from the config when it is set, so a script
    /// run reads it without taking the config's lock.
    pub lua_time_limit_ms: AtomicU64,
    /// `min-replicas-to-write` and `min-replicas-max-lag` both above 0: with no replica ever
    /// connected, every write is refused (NOREPLICAS), as Redis's `checkGoodReplicasStatus`.
    pub writes_need_replicas: std::sync::atomic::AtomicBool,
    /// The pubsub output buffer limits, copied from the config (see `pubsub.rs`).
    pub pubsub: crate::pubsub::Limits,
    /// Client-side caching's figures and table limit (`tracking.rs`).
    pub tracking: crate::tracking::Global,
    /// The statistics settings read on every command (see `stats`).
    pub stats: crate::stats::Settings,
    /// Snapshot state: last save, background save, counters (`persist.rs`).
    pub persist: crate::persist::PersistState,
    /// The Prometheus endpoint's listener, bound at startup, until thread 0 takes it.
    pub metrics: std::sync::Mutex<Option<std::net::TcpListener>>,
    /// A SIGTERM or SIGINT the process received, for thread 0 to shut down as
    /// `shutdown-on-sigterm`/`shutdown-on-sigint` say (`admin::on_signal`).
    pub signal: crate::admin::SignalSlot,
    /// The switches DEBUG sets (`debug.rs`).
    pub debug: crate::debug::DebugState,
    /// Authentication settings read on every command (`acl.rs`).
    pub auth: crate::acl::AuthState,
    /// The append-only file's writer and state (`aof.rs`).
    pub aof: std::sync::Arc<crate::aof::AofState>,
    /// The function libraries, as a save writes them (`functions.rs`).
    pub functions: crate::functions::Libraries,
    /// `maxmemory`'s settings and each thread's published memory figures (`evict.rs`).
    pub mem: Arc<crate::evict::MemState>,
    /// Output and query buffer limits of ordinary clients (`limits.rs`).
    pub climits: crate::limits::ClientLimits,
    /// The TLS configuration new TLS connections take (`tls.rs`).
    pub tls: crate::tls::TlsState,
    /// CLIENT PAUSE's kind and end, read by every thread's dispatch (`pause.rs`).
    pub pause: crate::pause::PauseState,
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

    /// Copies the settings that are read on the data path out of `cfg` (at startup and after
    /// CONFIG SET).
    pub fn load_hot_settings(&self, cfg: &Config) {
        self.pubsub.load(cfg);
        self.mem.load(cfg);
        self.climits.load(cfg);
        self.tracking.load(cfg);
        self.auth.load(cfg);
        self.stats.load(cfg);
        crate::logging::set_level(cfg.get("loglevel").unwrap_or("notice"));
        self.aof.load_settings(cfg);
        self.lua_time_limit_ms.store(
            cfg.get_i64("busy-reply-threshold").max(0) as u64,
            Ordering::Relaxed,
        );
        self.writes_need_replicas.store(
            cfg.get_i64("min-replicas-to-write") > 0 && cfg.get_i64("min-replicas-max-lag") > 0,
            Ordering::Relaxed,
        );
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
