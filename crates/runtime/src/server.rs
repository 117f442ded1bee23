//! Starting and stopping the server: one thread per core, each with its own event loop,
//! listeners (SO_REUSEPORT, so the kernel spreads connections) and shard, joined by the mesh.

use std::net::{IpAddr, SocketAddr, TcpListener as StdListener};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;

use rustis_storage::shard::Garbage;
use rustis_storage::{Clock, LazyFree, Shard, SystemClock};
use socket2::{Domain, Socket, Type};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::config::Config;
use crate::mesh::Doorbell;
use crate::shared::Shared;
use crate::worker::{serve_mesh, Msg, Worker};
use crate::{conn, StartError};

/// How to start a server.
pub struct ServerOptions {
    /// The configuration (port, bind, databases, ...).
    pub config: Config,
    /// Threads, each with one shard; 0 means one per available core.
    pub threads: usize,
    /// The clock expiry uses.
    pub clock: Arc<dyn Clock>,
    /// Bytes allocated by the process, if the allocator can tell (INFO used_memory).
    pub allocated: Option<fn() -> usize>,
    /// The config file the server was started with (INFO, CONFIG REWRITE).
    pub config_file: Option<String>,
    /// Called with the port and the thread count once every listener is bound and before the
    /// data is loaded, where redis-server logs its banner: a load that then fails is logged
    /// after it, as Redis's is.
    pub on_listening: Option<Box<dyn FnOnce(u16, usize) + Send>>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            config: Config::default(),
            threads: 0,
            clock: Arc::new(SystemClock),
            allocated: None,
            config_file: None,
            on_listening: None,
        }
    }
}

/// A running server.
pub struct ServerHandle {
    addrs: Vec<SocketAddr>,
    threads: Vec<JoinHandle<()>>,
    /// The background-freeing thread; it ends once every shard (holding its senders) is gone.
    lazyfree: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
    shutdown_rx: watch::Receiver<bool>,
    /// Each thread's control queue: work from outside the server, run on that thread.
    control: Vec<mpsc::UnboundedSender<Control>>,
}

/// Delivers SIGTERM and SIGINT to a running server (see [`ServerHandle::signaller`]).
#[derive(Clone)]
pub struct Signaller(Arc<Shared>);

impl Signaller {
    /// The process received SIGTERM (`sigint` false) or SIGINT (`sigint` true).
    pub fn signal(&self, sigint: bool) {
        self.0.signal.raise(sigint);
    }
}

/// Work sent from outside the server to run on one of its threads (see [`ServerHandle::push`]).
type Control = Box<dyn FnOnce(&Worker) + Send>;

impl ServerHandle {
    /// The first address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Every address the server listens on.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// How many threads (and shards) the server runs.
    pub fn threads(&self) -> usize {
        self.shared.n_threads
    }

    /// Asks the server to stop; [`ServerHandle::wait`] returns once it has.
    pub fn shutdown(&self) {
        self.shared.request_shutdown();
    }

    /// Blocks until the server has stopped (SHUTDOWN or [`ServerHandle::shutdown`]).
    pub fn wait(mut self) {
        self.join();
    }

    fn join(&mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        // The shard threads have stopped and dropped their shards, so the freeing thread's
        // channel is closed: it frees what is left in it and ends.
        if let Some(t) = self.lazyfree.take() {
            let _ = t.join();
        }
        // Everything the shards logged is written and fsynced.
        crate::aof::stop_writer(&self.shared.aof);
    }

    /// What the process's signal handler calls to have the server shut down as Redis does on
    /// SIGTERM or SIGINT (it may be called from any thread).
    pub fn signaller(&self) -> Signaller {
        Signaller(self.shared.clone())
    }

    /// Whether a shutdown was requested.
    pub fn is_stopping(&self) -> bool {
        *self.shutdown_rx.borrow()
    }

    /// Pushes `frames` (whole RESP frames, which the caller encodes for the client's protocol)
    /// to client `id`, wherever it is connected, the way pub/sub messages and tracking
    /// invalidations reach a connection: it writes them between its replies, at once if it is
    /// idle. False if no thread has that client (it is gone, or it was moving between threads
    /// while they were asked: then asking again finds it). Blocks until it knows; never call
    /// it from a server thread.
    ///
    /// The threads are asked one after another, stopping at the first that has the client: a
    /// client can move between two threads' answers, and asking them all at once could then
    /// deliver the frames twice.
    pub fn push(&self, id: u64, frames: impl Into<Bytes>) -> bool {
        let frames: Bytes = frames.into();
        self.control.iter().any(|c| {
            let (tx, rx) = std::sync::mpsc::channel();
            let frames = frames.clone();
            let f: Control = Box::new(move |w: &Worker| {
                let pusher = w.clients.borrow().pusher(id);
                let _ = tx.send(pusher.is_some_and(|p| p.push(frames)));
            });
            c.send(f).is_ok() && rx.recv().unwrap_or(false)
        })
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shared.request_shutdown();
        self.join();
    }
}

/// Fails with `AddrInUse` if something listens on `addr` already, another Rustis included:
/// the threads' listeners share their port through SO_REUSEPORT, which would otherwise let a
/// second server bind the port of a running one and split its connections. The probe has no
/// SO_REUSEPORT, so any listener there refuses it (SO_REUSEADDR only lets it past
/// connections left in TIME_WAIT).
fn probe_free(addr: SocketAddr) -> std::io::Result<()> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())
}

fn bind_one(addr: SocketAddr, backlog: i32) -> std::io::Result<StdListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Binds `port` on every address for every thread and appends the first thread's addresses
/// to `addrs`; returns the port bound. The first listener picks the port (port 0 asks the
/// kernel for a free one); every other thread binds the same port with SO_REUSEPORT.
fn bind_all(
    ips: &[(IpAddr, bool)],
    port: u16,
    backlog: i32,
    addrs: &mut Vec<SocketAddr>,
    per_thread: &mut [Vec<(StdListener, bool)>],
    tls: bool,
) -> Result<u16, StartError> {
    let mut actual_port = port;
    'ips: for (ip, optional) in ips {
        for (t, lists) in per_thread.iter_mut().enumerate() {
            let addr = SocketAddr::new(*ip, actual_port);
            // An optional address (`-` in front) that this host does not have is skipped,
            // as Redis skips it.
            let missing = |e: &std::io::Error| {
                *optional
                    && t == 0
                    && (e.kind() == std::io::ErrorKind::AddrNotAvailable
                        || matches!(
                            e.raw_os_error(),
                            Some(libc::EAFNOSUPPORT | libc::EPROTONOSUPPORT)
                        ))
            };
            if t == 0 && actual_port != 0 {
                match probe_free(addr) {
                    Err(e) if missing(&e) => continue 'ips,
                    r => r.map_err(|e| StartError::Listen(addr, e))?,
                }
            }
            let l = match bind_one(addr, backlog) {
                Err(e) if missing(&e) => continue 'ips,
                r => r.map_err(|e| StartError::Listen(addr, e))?,
            };
            if t == 0 {
                let bound = l.local_addr().map_err(|e| StartError::Listen(addr, e))?;
                actual_port = bound.port();
                addrs.push(bound);
            }
            lists.push((l, tls));
        }
    }
    Ok(actual_port)
}

/// The addresses `bind` names, each with whether it is optional (a leading `-`: skipped if
/// the host does not have it, as in Redis). `*` is every IPv4 address, `::*` every IPv6 one.
fn bind_ips(bind: &str) -> Result<Vec<(IpAddr, bool)>, String> {
    let mut ips = Vec::new();
    for b in bind.split_whitespace() {
        let optional = b.starts_with('-');
        let ip = match b.trim_start_matches('-') {
            "*" => IpAddr::from([0, 0, 0, 0]),
            "::*" => IpAddr::from([0u16; 8]),
            "localhost" => IpAddr::from([127, 0, 0, 1]),
            other => other.parse().map_err(|_| other.to_string())?,
        };
        ips.push((ip, optional));
    }
    Ok(ips)
}

/// The address the metrics endpoint listens on: the first of `bind`.
pub(crate) fn first_bind_ip(cfg: &Config) -> IpAddr {
    bind_ips(cfg.get("bind").unwrap_or("127.0.0.1"))
        .ok()
        .and_then(|ips| ips.first().map(|(ip, _)| *ip))
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

/// CONFIG SET of `port` or `bind`: binds the plain (not TLS) port of `cfg` on its addresses,
/// one listener per thread, before anything changes; `port 0` means none, as in Redis. The
/// error is the cause, for the log.
pub(crate) fn listen_plain(cfg: &Config, threads: usize) -> Result<Vec<Vec<StdListener>>, String> {
    let port = cfg.get_i64("port") as u16;
    let backlog = cfg.get_i64("tcp-backlog").clamp(1, i32::MAX as i64) as i32;
    let ips = bind_ips(cfg.get("bind").unwrap_or("127.0.0.1"))
        .map_err(|a| format!("Invalid bind address '{a}'"))?;
    let mut per_thread: Vec<Vec<(StdListener, bool)>> = (0..threads).map(|_| Vec::new()).collect();
    if port != 0 {
        bind_all(&ips, port, backlog, &mut Vec::new(), &mut per_thread, false).map_err(
            |e| match e {
                StartError::Listen(addr, e) => format!(
                    "Could not create server TCP listening socket {}:{}: bind: {}",
                    addr.ip(),
                    addr.port(),
                    crate::config::io_reason(&e)
                ),
                other => other.to_string(),
            },
        )?;
    }
    Ok(per_thread
        .into_iter()
        .map(|l| l.into_iter().map(|(l, _)| l).collect())
        .collect())
}

/// Replaces this thread's plain accept loops with loops on `listeners` (see
/// [`listen_plain`]); connections already open stay.
pub(crate) fn replace_plain_listeners(w: &Worker, listeners: Vec<StdListener>) {
    let Some(me) = w.me.upgrade() else {
        return;
    };
    let mut accepts = w.accepts.borrow_mut();
    accepts.retain(|(task, tls)| {
        if !*tls {
            task.abort();
        }
        *tls
    });
    for l in listeners {
        match TcpListener::from_std(l) {
            Ok(l) => accepts.push((
                tokio::task::spawn_local(accept_loop(me.clone(), l, false)),
                false,
            )),
            Err(e) => tracing::warn!("Could not listen: {e}"),
        }
    }
}

/// Raises the open-file limit to its hard maximum, as Redis does for `maxclients`.
fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// Starts the server and returns once every thread is listening, with its data loaded: the
/// AOF with `appendonly yes` (see `aof.rs`), else the RDB file at `dir`/`dbfilename` if there
/// is one. Refuses to start over a file it fails to load (`StartError::Load`).
pub fn start(opts: ServerOptions) -> Result<ServerHandle, StartError> {
    let cfg = opts.config;
    // `rename-command`: the command table is the process's, built once, with the renames.
    if !cfg.renames().is_empty() {
        let _ = crate::dispatch::RENAMES.set(cfg.renames().to_vec());
        let applied = crate::dispatch::RENAMES.get().map(Vec::as_slice) == Some(cfg.renames())
            && cfg
                .renames()
                .iter()
                .all(|(old, _)| crate::dispatch::REGISTRY.lookup(old.as_bytes()).is_none());
        if !applied {
            return Err(StartError::Renames);
        }
    }
    raise_fd_limit();
    let n = if opts.threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        opts.threads
    };
    let port = cfg.get_i64("port") as u16;
    let backlog = cfg.get_i64("tcp-backlog").clamp(1, i32::MAX as i64) as i32;
    let n_dbs = cfg.get_i64("databases").max(1) as usize;
    let ips = bind_ips(cfg.get("bind").unwrap_or("127.0.0.1")).map_err(StartError::Bind)?;
    // With a TLS port, its configuration must build before anything listens (tls.rs).
    let tls_port = cfg.get_i64("tls-port") as u16;
    let tls = crate::tls::TlsState::default();
    if tls_port != 0 {
        tls.configure(&cfg).map_err(StartError::Tls)?;
    }
    let mut addrs: Vec<SocketAddr> = Vec::new();
    let mut per_thread: Vec<Vec<(StdListener, bool)>> = (0..n).map(|_| Vec::new()).collect();
    // `port 0` beside a TLS port means no plain port, as in Redis; alone, a free port.
    let mut actual_port = 0;
    if port != 0 || tls_port == 0 {
        actual_port = bind_all(&ips, port, backlog, &mut addrs, &mut per_thread, false)?;
    }
    if tls_port != 0 {
        bind_all(&ips, tls_port, backlog, &mut addrs, &mut per_thread, true)?;
    }
    let metrics_port = cfg.get_i64("metrics-port") as u16;
    let metrics_ip = ips
        .first()
        .map(|(ip, _)| *ip)
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let metrics = crate::metrics::bind(metrics_ip, metrics_port)
        .map_err(|e| StartError::Listen(SocketAddr::new(metrics_ip, metrics_port), e))?;
    if let Some(f) = opts.on_listening {
        f(actual_port, n);
    }
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let shard_cfg = cfg.shard_config();
    let mut shards: Vec<Shard> = (0..n)
        .map(|id| {
            let mut shard = Shard::new(id, n, n_dbs);
            shard.config = shard_cfg.clone();
            shard
        })
        .collect();
    let aof = crate::aof::AofState::new();
    let (loaded_keys, loaded_expired, functions) = if cfg.get("appendonly") == Some("yes") {
        let r = crate::aof::start_at_startup(&cfg, &mut shards, &aof)?;
        (r.keys, 0, r.functions)
    } else {
        crate::persist::load_at_startup(&cfg, &mut shards, opts.clock.now_ms())?
    };
    let persist = crate::persist::PersistState::new((opts.clock.now_ms() / 1000) as i64);
    persist
        .loaded_keys
        .store(loaded_keys, std::sync::atomic::Ordering::Relaxed);
    persist
        .loaded_expired
        .store(loaded_expired, std::sync::atomic::Ordering::Relaxed);
    let shared = Arc::new(Shared {
        config: RwLock::new(cfg),
        clock: opts.clock,
        n_threads: n,
        n_dbs,
        port: actual_port,
        started: Instant::now(),
        run_id: run_id(),
        config_file: opts.config_file,
        next_client_id: AtomicU64::new(1),
        connected: AtomicUsize::new(0),
        blocked_clients: AtomicUsize::new(0),
        total_connections: AtomicU64::new(0),
        rejected_connections: AtomicU64::new(0),
        shutdown: shutdown_tx,
        allocated: opts.allocated,
        script_status: (0..n).map(|_| std::sync::OnceLock::new()).collect(),
        busy: (0..n)
            .map(|_| std::sync::atomic::AtomicU8::new(0))
            .collect(),
        busy_count: AtomicUsize::new(0),
        busy_run: (0..n).map(|_| std::sync::Mutex::new(None)).collect(),
        lua_time_limit_ms: AtomicU64::new(0),
        writes_need_replicas: std::sync::atomic::AtomicBool::new(false),
        pubsub: crate::pubsub::Limits::new(),
        tracking: Default::default(),
        stats: Default::default(),
        persist,
        metrics: std::sync::Mutex::new(metrics),
        signal: crate::admin::SignalSlot::default(),
        debug: crate::debug::DebugState::default(),
        auth: Default::default(),
        aof,
        functions: Default::default(),
        mem: crate::evict::MemState::new(n, opts.allocated),
        climits: Default::default(),
        tls,
        pause: Default::default(),
    });
    shared.functions.set_startup(functions);
    shared.load_hot_settings(&shared.config());
    shared.auth.load_users(shared.config().users());
    crate::acl::load_file_at_startup(&shared).map_err(crate::StartError::Acl)?;
    // The mesh: one queue for every ordered pair of threads, built once.
    let mut senders: Vec<Vec<Option<mpsc::UnboundedSender<Msg>>>> =
        (0..n).map(|_| (0..n).map(|_| None).collect()).collect();
    let mut receivers: Vec<Vec<mpsc::UnboundedReceiver<Msg>>> =
        (0..n).map(|_| Vec::new()).collect();
    for (from, row) in senders.iter_mut().enumerate() {
        for (to, slot) in row.iter_mut().enumerate() {
            if from != to {
                let (tx, rx) = mpsc::unbounded_channel();
                *slot = Some(tx);
                receivers[to].push(rx);
            }
        }
    }
    // Each thread's doorbell, rung by the others only while it sleeps (mesh.rs).
    let bells: Vec<Arc<Doorbell>> = (0..n)
        .map(|_| crate::mesh::Doorbell::new().map(Arc::new))
        .collect::<std::io::Result<_>>()
        .map_err(|e| StartError::Runtime(format!("eventfd: {e}")))?;
    let (garbage_tx, lazyfree) = start_lazyfree()?;
    let (control, control_rx): (Vec<_>, Vec<_>) = (0..n).map(|_| mpsc::unbounded_channel()).unzip();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
    let mut threads = Vec::with_capacity(n);
    for (id, ((((listeners, peers), inbox), control), mut shard)) in per_thread
        .into_iter()
        .zip(senders)
        .zip(receivers)
        .zip(control_rx)
        .zip(shards)
        .enumerate()
    {
        let shared = shared.clone();
        let ready = ready_tx.clone();
        let bells = bells.clone();
        shard.lazyfree = LazyFree::new(garbage_tx.clone());
        let t = std::thread::Builder::new()
            .name(format!("rustis-{id}"))
            .spawn(move || {
                let mesh = Mesh {
                    peers,
                    inbox,
                    bells,
                };
                thread_main(id, shard, shared, mesh, control, listeners, ready)
            })
            .map_err(StartError::Thread)?;
        threads.push(t);
    }
    drop(ready_tx);
    // Only the shards hold senders now, so the freeing thread stops when they are all gone.
    drop(garbage_tx);
    let handle = ServerHandle {
        addrs,
        threads,
        lazyfree: Some(lazyfree),
        shared,
        shutdown_rx,
        control,
    };
    for _ in 0..n {
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(StartError::Runtime(e)),
            Err(_) => {
                return Err(StartError::Runtime(
                    "a thread stopped during startup".into(),
                ))
            }
        }
    }
    Ok(handle)
}

/// Starts the thread that drops what the shards hand it (large values UNLINK removed, the
/// databases FLUSHALL ASYNC emptied), so they never stall on freeing. It runs until every
/// sender is dropped, i.e. until the shards are gone.
fn start_lazyfree() -> Result<(std::sync::mpsc::Sender<Garbage>, JoinHandle<()>), StartError> {
    let (tx, rx) = std::sync::mpsc::channel::<Garbage>();
    let t = std::thread::Builder::new()
        .name("rustis-lazyfree".into())
        .spawn(move || while rx.recv().is_ok() {})
        .map_err(StartError::Thread)?;
    Ok((tx, t))
}

fn run_id() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..40)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// One thread's ends of the mesh.
struct Mesh {
    peers: Vec<Option<mpsc::UnboundedSender<Msg>>>,
    inbox: Vec<mpsc::UnboundedReceiver<Msg>>,
    bells: Vec<Arc<Doorbell>>,
}

fn thread_main(
    id: usize,
    shard: Shard,
    shared: Arc<Shared>,
    mesh: Mesh,
    mut control: mpsc::UnboundedReceiver<Control>,
    listeners: Vec<(StdListener, bool)>,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
) {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    builder.enable_all();
    if mesh.bells.len() > 1 {
        // Other threads ring this one only while it sleeps; it checks for what they posted
        // just before it does (mesh.rs).
        let (park, unpark) = (mesh.bells[id].clone(), mesh.bells[id].clone());
        builder
            .on_thread_park(move || park.before_park())
            .on_thread_unpark(move || unpark.after_unpark());
    }
    let rt = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(e.to_string()));
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let mut stop = shared.shutdown.subscribe();
        let w = Rc::new_cyclic(|me| {
            Worker::new(
                id,
                shard,
                shared.clone(),
                mesh.peers,
                mesh.inbox,
                mesh.bells,
                me.clone(),
            )
        });
        crate::notify::install(&w);
        crate::tracking::install(&w);
        crate::aof::sync(&w);
        crate::evict::sync(&w);
        crate::script::preload_libraries(&w);
        tokio::task::spawn_local(serve_mesh(w.clone()));
        // Each thread reclaims its own shard's expired keys (Redis's active expiry).
        tokio::task::spawn_local(crate::worker::active_expiry(w.clone()));
        tokio::task::spawn_local(close_idle_clients(w.clone()));
        // Background snapshots of this shard, a slice at a time; thread 0 watches the save
        // points.
        tokio::task::spawn_local(crate::persist::snapshot_task(w.clone()));
        if id == 0 {
            tokio::task::spawn_local(crate::persist::save_points(w.clone()));
            let metrics = shared.metrics.lock().ok().and_then(|mut m| m.take());
            if let Some(l) = metrics {
                let task = tokio::task::spawn_local(crate::metrics::serve(w.clone(), l));
                *w.metrics_task.borrow_mut() = Some(task);
            }
            tokio::task::spawn_local(crate::admin::on_signal(w.clone()));
            tokio::task::spawn_local(crate::aof::cron(w.clone()));
        }
        for (l, tls) in listeners {
            match TcpListener::from_std(l) {
                Ok(l) => {
                    let task = tokio::task::spawn_local(accept_loop(w.clone(), l, tls));
                    w.accepts.borrow_mut().push((task, tls));
                }
                Err(e) => {
                    let _ = ready.send(Err(e.to_string()));
                    return;
                }
            }
        }
        let _ = ready.send(Ok(()));
        // Runs what the server's handle sends until shutdown. This queue is apart from the
        // mesh so that the connections, which drain the mesh before their own work, never
        // poll it.
        while !*stop.borrow_and_update() {
            tokio::select! {
                r = stop.changed() => if r.is_err() { break },
                Some(f) = control.recv() => f(&w),
            }
        }
    });
}

/// Accepts the connections of one listener; `tls`: a TLS port's, whose connections start
/// with a handshake.
async fn accept_loop(w: Rc<Worker>, listener: TcpListener, tls: bool) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let shared = &w.shared;
                let (max, protected, keepalive) = {
                    let cfg = shared.config();
                    (
                        cfg.get_i64("maxclients").max(1) as usize,
                        cfg.get("protected-mode") == Some("yes"),
                        cfg.get_i64("tcp-keepalive"),
                    )
                };
                // Like Redis: a refused client is told why, then closed, and counts as
                // rejected rather than received. The client limit is checked first.
                if shared.connected.fetch_add(1, Ordering::Relaxed) >= max {
                    shared.connected.fetch_sub(1, Ordering::Relaxed);
                    shared.rejected_connections.fetch_add(1, Ordering::Relaxed);
                    let _ = stream.try_write(b"-ERR max number of clients reached\r\n");
                    continue;
                }
                // Protected mode applies while the default user needs no password.
                if protected && shared.auth.default_nopass() && !is_loopback_peer(peer.ip()) {
                    shared.connected.fetch_sub(1, Ordering::Relaxed);
                    shared.rejected_connections.fetch_add(1, Ordering::Relaxed);
                    let _ = stream.try_write(DENIED);
                    continue;
                }
                shared.total_connections.fetch_add(1, Ordering::Relaxed);
                if keepalive > 0 {
                    set_keepalive(&stream, keepalive as u64);
                }
                if !tls {
                    tokio::task::spawn_local(conn::serve(w.clone(), stream, peer));
                } else if let Some(config) = shared.tls.current() {
                    tokio::task::spawn_local(conn::serve_tls(w.clone(), stream, peer, config));
                } else {
                    shared.connected.fetch_sub(1, Ordering::Relaxed);
                }
            }
            Err(e) => {
                // Out of file descriptors (EMFILE/ENFILE) or another transient failure: back
                // off and keep serving the connections we have.
                tracing::warn!("accept failed: {e}; retrying shortly");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Closes this thread's clients that have been idle for more than `timeout` seconds, as Redis's
/// client cron does: each client is looked at about once a second, so one is closed between
/// `timeout` and `timeout + 1` seconds after its last command. A client blocked in a command
/// (BLPOP, ...) is left alone, as in Redis: its command has its own timeout. Closing goes
/// through the client's kill push, like CLIENT KILL, so it happens between requests.
async fn close_idle_clients(w: Rc<Worker>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let timeout = w.shared.config().get_i64("timeout");
        if timeout <= 0 {
            continue;
        }
        let limit = Duration::from_secs(timeout as u64);
        let now = Instant::now();
        for c in w.clients.borrow().iter() {
            let waiting = c.blocked.borrow().is_some() || c.paused.get();
            if !waiting && now.duration_since(c.last_active()) > limit {
                c.pusher().kill();
            }
        }
    }
}

/// What protected mode tells a client it refuses (Redis 7.0's text).
const DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Whether protected mode lets a peer in. Like Redis, exactly 127.0.0.1 and ::1 count: other
/// 127.x addresses and IPv4-mapped IPv6 addresses are remote.
pub(crate) fn is_loopback_peer(ip: IpAddr) -> bool {
    ip == IpAddr::from([127, 0, 0, 1]) || ip == IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
}

/// TCP keepalive as Redis sets it for `tcp-keepalive N`: probes after N idle seconds, every
/// N/3 seconds, and the peer is dropped after 3 unanswered ones.
fn set_keepalive(stream: &tokio::net::TcpStream, secs: u64) {
    let ka = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(secs))
        .with_interval(Duration::from_secs((secs / 3).max(1)))
        .with_retries(3);
    if let Err(e) = socket2::SockRef::from(stream).set_tcp_keepalive(&ka) {
        tracing::debug!("could not set TCP keepalive: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_127_0_0_1_and_ipv6_loopback_are_local_to_protected_mode() {
        assert!(is_loopback_peer("127.0.0.1".parse().unwrap()));
        assert!(is_loopback_peer("::1".parse().unwrap()));
        assert!(!is_loopback_peer("127.0.0.2".parse().unwrap()));
        assert!(!is_loopback_peer("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!is_loopback_peer("10.0.0.1".parse().unwrap()));
    }
}
