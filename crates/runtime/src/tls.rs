//! TLS as Redis 7.0 configures it (`tls-port`, `tls-cert-file`, ...), with rustls and its
//! `ring` provider. docs/tls.md is the operator's view.
//!
//! The settings are checked when they are set (`check_setting`: protocol names, cipher names)
//! and turned into one rustls `ServerConfig` (`build`) at startup and whenever CONFIG SET
//! changes a `tls-*` setting; new connections take the current one, live ones keep theirs. A
//! configuration that does not build (a missing certificate, a key that does not match) stops
//! startup, and at CONFIG SET leaves the old one in place.
//!
//! A TLS connection is accepted by the thread whose TLS listener took it; the handshake runs
//! as a task of that thread (tokio-rustls), so it never holds up the thread's other
//! connections. After the handshake the connection loop (conn.rs) drives rustls itself over
//! the same readiness calls as a plain socket ([`TlsConn`]), so the two share one loop.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use rustls::crypto::ring::cipher_suite as cs;
use rustls::crypto::CryptoProvider;
use rustls::server::{NoServerSessionStorage, StoresServerSessions, WebPkiClientVerifier};
use rustls::{RootCertStore, ServerConfig, ServerConnection, SupportedCipherSuite};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpStream;

use crate::config::Config;

/// TLSv1.3 suites rustls offers, by their IANA/OpenSSL name (they are the same for 1.3).
const TLS13: &[(&str, SupportedCipherSuite)] = &[
    ("TLS_AES_256_GCM_SHA384", cs::TLS13_AES_256_GCM_SHA384),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        cs::TLS13_CHACHA20_POLY1305_SHA256,
    ),
    ("TLS_AES_128_GCM_SHA256", cs::TLS13_AES_128_GCM_SHA256),
];

/// TLSv1.2 suites rustls offers: OpenSSL name, IANA name.
const TLS12: &[(&str, &str, SupportedCipherSuite)] = &[
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ),
];

/// OpenSSL cipher-string keywords that stand for every TLSv1.2 suite rustls has (all of them
/// are ECDHE with an AEAD, which each of these classes includes).
const ALL_WORDS: &[&str] = &["DEFAULT", "ALL", "HIGH", "ECDHE", "EECDH", "kECDHE", "AEAD"];

/// Whether TLS is on: a TLS port is set (there is no TLS replication or cluster bus).
pub(crate) fn enabled(cfg: &Config) -> bool {
    cfg.get_i64("tls-port") != 0
}

/// Checks the value of a `tls-*` setting whose syntax can be judged alone; `Err` says why,
/// naming what is not supported.
pub(crate) fn check_setting(name: &str, value: &str) -> Result<(), String> {
    match name {
        "tls-protocols" => protocols(value).map(|_| ()),
        "tls-ciphersuites" => ciphersuites(value).map(|_| ()),
        "tls-ciphers" => ciphers(value).map(|_| ()),
        _ => Ok(()),
    }
}

/// `tls-protocols`: which of TLSv1.2 and TLSv1.3; empty means both.
fn protocols(value: &str) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, String> {
    let (mut v12, mut v13) = (false, false);
    for w in value.split_whitespace() {
        match w.to_ascii_lowercase().as_str() {
            "tlsv1.2" => v12 = true,
            "tlsv1.3" => v13 = true,
            "tlsv1" | "tlsv1.1" => {
                return Err(format!(
                    "{w} is not supported (rustls speaks TLSv1.2 and TLSv1.3 only)"
                ))
            }
            _ => {
                return Err(
                    "Invalid tls-protocols specified. Use a combination of 'TLSv1', \
                     'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'."
                        .into(),
                )
            }
        }
    }
    if !v12 && !v13 {
        (v12, v13) = (true, true);
    }
    let mut out = Vec::new();
    if v13 {
        out.push(&rustls::version::TLS13);
    }
    if v12 {
        out.push(&rustls::version::TLS12);
    }
    Ok(out)
}

/// `tls-ciphersuites`: TLSv1.3 suites, colon-separated, in preference order; empty means all.
fn ciphersuites(value: &str) -> Result<Vec<SupportedCipherSuite>, String> {
    if value.trim().is_empty() {
        return Ok(TLS13.iter().map(|(_, s)| *s).collect());
    }
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for w in value.split([':', ',', ' ']).filter(|w| !w.is_empty()) {
        match TLS13.iter().find(|(n, _)| n.eq_ignore_ascii_case(w)) {
            Some((_, s)) if !out.contains(s) => out.push(*s),
            Some(_) => {}
            None => bad.push(w),
        }
    }
    if !bad.is_empty() {
        return Err(format!(
            "unsupported TLSv1.3 ciphersuite(s): {} (supported: {})",
            bad.join(", "),
            TLS13.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(out)
}

/// `tls-ciphers`: an OpenSSL cipher string for TLSv1.2. Understood: the names of the suites
/// rustls has (OpenSSL's or IANA's), the keywords in [`ALL_WORDS`], and `!X` / `-X`, which take
/// X out (X not offered anyway, e.g. `!aNULL`, is fine). Empty means all.
fn ciphers(value: &str) -> Result<Vec<SupportedCipherSuite>, String> {
    let all = || TLS12.iter().map(|(_, _, s)| *s);
    if value.trim().is_empty() {
        return Ok(all().collect());
    }
    let named = |w: &str| {
        TLS12
            .iter()
            .find(|(o, i, _)| o.eq_ignore_ascii_case(w) || i.eq_ignore_ascii_case(w))
            .map(|(_, _, s)| *s)
    };
    let mut out: Vec<SupportedCipherSuite> = Vec::new();
    let mut removed: Vec<SupportedCipherSuite> = Vec::new();
    let mut bad = Vec::new();
    for w in value.split([':', ',', ' ']).filter(|w| !w.is_empty()) {
        if let Some(x) = w.strip_prefix('!').or_else(|| w.strip_prefix('-')) {
            let gone: Vec<SupportedCipherSuite> = if ALL_WORDS.contains(&x) {
                all().collect()
            } else {
                named(x).into_iter().collect()
            };
            out.retain(|s| !gone.contains(s));
            if w.starts_with('!') {
                removed.extend(gone);
            }
            continue;
        }
        let add: Vec<SupportedCipherSuite> = if ALL_WORDS.contains(&w) {
            all().collect()
        } else if let Some(s) = named(w) {
            vec![s]
        } else {
            bad.push(w);
            continue;
        };
        for s in add {
            if !out.contains(&s) && !removed.contains(&s) {
                out.push(s);
            }
        }
    }
    if !bad.is_empty() {
        return Err(format!(
            "unsupported TLSv1.2 cipher(s): {} (supported: {}, the keywords {}, and !X or -X \
             to exclude)",
            bad.join(", "),
            TLS12
                .iter()
                .map(|(o, _, _)| *o)
                .collect::<Vec<_>>()
                .join(", "),
            ALL_WORDS.join(", ")
        ));
    }
    if out.is_empty() {
        return Err(format!("'{value}' leaves no TLSv1.2 cipher"));
    }
    Ok(out)
}

fn read_file(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| {
        let t = e.to_string();
        t.split(" (os error").next().unwrap_or(&t).to_string()
    })
}

fn load_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let text = read_file(path).map_err(|e| format!("Failed to load certificate: {path}: {e}"))?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("Failed to load certificate: {path}: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "Failed to load certificate: {path}: no PEM certificate in it"
        ));
    }
    Ok(certs)
}

fn load_key(path: &str) -> Result<PrivateKeyDer<'static>, String> {
    let text = read_file(path).map_err(|e| format!("Failed to load private key: {path}: {e}"))?;
    if memchr::memmem::find(&text, b"ENCRYPTED").is_some() {
        return Err(format!(
            "Failed to load private key: {path}: the key is encrypted, and encrypted keys \
             (tls-key-file-pass) are not supported: store it decrypted (openssl pkey -in \
             {path} -out plain.key) with file permissions protecting it"
        ));
    }
    PrivateKeyDer::from_pem_slice(&text)
        .map_err(|e| format!("Failed to load private key: {path}: {e}"))
}

/// The CA certificates of `tls-ca-cert-file` and every file of `tls-ca-cert-dir`.
fn load_roots(file: &str, dir: &str) -> Result<RootCertStore, String> {
    let err = |e: String| format!("Failed to configure CA certificate(s) file/directory: {e}");
    let mut roots = RootCertStore::empty();
    if !file.is_empty() {
        for c in load_certs(file).map_err(err)? {
            roots.add(c).map_err(|e| err(format!("{file}: {e}")))?;
        }
    }
    if !dir.is_empty() {
        let entries = std::fs::read_dir(dir).map_err(|e| err(format!("{dir}: {e}")))?;
        for entry in entries.flatten() {
            let Ok(text) = std::fs::read(entry.path()) else {
                continue;
            };
            // Like OpenSSL's hashed directories, files that hold no certificate are skipped.
            for c in CertificateDer::pem_slice_iter(&text).flatten() {
                roots
                    .add(c)
                    .map_err(|e| err(format!("{}: {e}", entry.path().display())))?;
            }
        }
    }
    Ok(roots)
}

/// Builds the server's TLS configuration from the settings (Redis's `tlsConfigure`); the
/// error is what Redis would log, naming the file or setting at fault.
pub(crate) fn build(cfg: &Config) -> Result<ServerConfig, String> {
    let get = |n: &str| cfg.get(n).unwrap_or("").to_string();
    let cert_file = get("tls-cert-file");
    let key_file = get("tls-key-file");
    if cert_file.is_empty() {
        return Err("No tls-cert-file configured!".into());
    }
    if key_file.is_empty() {
        return Err("No tls-key-file configured!".into());
    }
    let auth = get("tls-auth-clients");
    let (ca_file, ca_dir) = (get("tls-ca-cert-file"), get("tls-ca-cert-dir"));
    if auth != "no" && ca_file.is_empty() && ca_dir.is_empty() {
        return Err(
            "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when \
                    tls-cluster, tls-replication or tls-auth-clients are enabled!"
                .into(),
        );
    }
    let versions = protocols(&get("tls-protocols"))?;
    let mut suites = ciphersuites(&get("tls-ciphersuites"))
        .map_err(|e| format!("Failed to configure ciphersuites: {e}"))?;
    suites.extend(
        ciphers(&get("tls-ciphers")).map_err(|e| format!("Failed to configure ciphers: {e}"))?,
    );
    let provider = Arc::new(CryptoProvider {
        cipher_suites: suites,
        ..rustls::crypto::ring::default_provider()
    });
    let certs = load_certs(&cert_file)?;
    let key = load_key(&key_file)?;
    let verifier = if auth == "no" {
        WebPkiClientVerifier::no_client_auth()
    } else {
        let roots = Arc::new(load_roots(&ca_file, &ca_dir)?);
        let b = WebPkiClientVerifier::builder_with_provider(roots, provider.clone());
        let b = if auth == "optional" {
            b.allow_unauthenticated()
        } else {
            b
        };
        b.build()
            .map_err(|e| format!("Failed to configure CA certificate(s) file/directory: {e}"))?
    };
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| format!("Failed to load private key: {key_file}: {e}"))?;
    let certified = rustls::sign::CertifiedKey::new(certs, signing);
    match certified.keys_match() {
        Ok(()) => {}
        // An X.509 version 1 certificate (OpenSSL makes one when no extensions are asked for,
        // as Redis's utils/gen-test-certs.sh does for redis.crt) cannot be parsed by webpki to
        // compare its key; OpenSSL serves it, and so does Rustis, unchecked against the key.
        Err(rustls::Error::InvalidCertificate(e))
            if format!("{e:?}").contains("UnsupportedCertVersion") => {}
        Err(rustls::Error::InvalidCertificate(e)) => {
            return Err(format!("Failed to load certificate: {cert_file}: {e}"))
        }
        Err(e) => return Err(format!("Failed to load private key: {key_file}: {e}")),
    }
    let mut sc = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| format!("Failed to configure tls-protocols/ciphers: {e}"))?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
    sc.ignore_client_order = get("tls-prefer-server-ciphers") == "yes";
    sc.session_storage = if get("tls-session-caching") == "yes" {
        Arc::new(SessionCache::new(
            cfg.get_i64("tls-session-cache-size").max(0) as usize,
            Duration::from_secs(cfg.get_i64("tls-session-cache-timeout").max(0) as u64),
        ))
    } else {
        Arc::new(NoServerSessionStorage {})
    };
    Ok(sc)
}

/// The server's current TLS configuration; new TLS connections take it.
#[derive(Default)]
pub(crate) struct TlsState {
    current: RwLock<Option<Arc<ServerConfig>>>,
}

impl TlsState {
    /// Builds the configuration from `cfg` and makes it current; on error the old one stays.
    pub(crate) fn configure(&self, cfg: &Config) -> Result<(), String> {
        let sc = Arc::new(build(cfg)?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(sc);
        Ok(())
    }

    /// The configuration for a new connection.
    pub(crate) fn current(&self) -> Option<Arc<ServerConfig>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The server-side session cache (`tls-session-cache-size` sessions at most, 0 for no
/// limit, as OpenSSL's; each kept `tls-session-cache-timeout` seconds), used for TLSv1.2
/// session-id resumption and TLSv1.3 (stateful) tickets.
#[derive(Debug)]
struct SessionCache {
    limit: usize,
    timeout: Duration,
    inner: Mutex<Sessions>,
}

#[derive(Debug, Default)]
struct Sessions {
    map: HashMap<Vec<u8>, (Vec<u8>, Instant)>,
    /// Keys in insertion order, for evicting the oldest (may hold keys already gone).
    order: VecDeque<Vec<u8>>,
}

impl SessionCache {
    fn new(limit: usize, timeout: Duration) -> Self {
        SessionCache {
            limit,
            timeout,
            inner: Mutex::new(Sessions::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Sessions> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl StoresServerSessions for SessionCache {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        let mut s = self.lock();
        s.order.push_back(key.clone());
        s.map.insert(key, (value, Instant::now()));
        while self.limit > 0 && s.map.len() > self.limit {
            let Some(old) = s.order.pop_front() else {
                break;
            };
            s.map.remove(&old);
        }
        if s.order.len() > 2 * s.map.len() + 64 {
            let Sessions { map, order } = &mut *s;
            order.retain(|k| map.contains_key(k));
        }
        true
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let mut s = self.lock();
        let (v, at) = s.map.get(key)?;
        if at.elapsed() >= self.timeout {
            s.map.remove(key);
            return None;
        }
        Some(v.clone())
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        let (v, at) = self.lock().map.remove(key)?;
        (at.elapsed() < self.timeout).then_some(v)
    }

    fn can_cache(&self) -> bool {
        true
    }
}

/// Reads from a Tokio socket without waiting (a `WouldBlock` error when it has nothing).
struct TryIo<'a>(&'a TcpStream);

impl Read for TryIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl Write for TryIo<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.0.try_write_vectored(bufs)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A TLS connection after its handshake: the socket and rustls's state, driven by the
/// connection loop through [`crate::conn::Transport`].
pub(crate) struct TlsConn {
    pub(crate) tcp: TcpStream,
    pub(crate) tls: Box<ServerConnection>,
    /// rustls may hold decrypted bytes (or records read but not yet decrypted) that no socket
    /// event will announce: set after every read that returned data, cleared when a read found
    /// nothing.
    pending: bool,
    /// The socket reached its end.
    eof: bool,
}

impl TlsConn {
    pub(crate) fn new(tcp: TcpStream, tls: Box<ServerConnection>) -> TlsConn {
        TlsConn {
            tcp,
            tls,
            pending: true,
            eof: false,
        }
    }

    /// Waits until a read may find something.
    pub(crate) async fn ready(&self) -> io::Result<()> {
        if self.pending {
            return Ok(());
        }
        self.tcp.readable().await
    }

    /// Reads decrypted bytes into the spare room of `rbuf` (at least 1 byte of room is
    /// reserved by the caller); `(0, _)` when the peer closed.
    pub(crate) fn read_some(&mut self, rbuf: &mut BytesMut) -> io::Result<(usize, bool)> {
        loop {
            let len = rbuf.len();
            let room = (rbuf.capacity() - len).max(4096);
            rbuf.resize(len + room, 0);
            let r = self.tls.reader().read(&mut rbuf[len..]);
            rbuf.truncate(len + *r.as_ref().unwrap_or(&0));
            match r {
                Ok(0) => return Ok((0, true)),
                Ok(n) => {
                    self.pending = true;
                    return Ok((n, false));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The socket closed without close_notify.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok((0, true)),
                Err(e) => return Err(e),
            }
            // Nothing decrypted is waiting: take in more records.
            match self.tls.read_tls(&mut TryIo(&self.tcp)) {
                Ok(0) => {
                    // EOF: what was read before it is decrypted on the next turn, then the
                    // reader reports the close.
                    if self.eof {
                        return Ok((0, true));
                    }
                    self.eof = true;
                    if self.tls.process_new_packets().is_err() {
                        return Ok((0, true));
                    }
                }
                Ok(_) => {
                    if let Err(e) = self.tls.process_new_packets() {
                        // Send the alert saying why, if the socket takes it now.
                        let _ = self.tls.write_tls(&mut TryIo(&self.tcp));
                        return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                    }
                    // A key update or an alert to answer goes out if the socket takes it
                    // now; otherwise with the next reply.
                    if self.tls.wants_write() {
                        let _ = self.tls.write_tls(&mut TryIo(&self.tcp));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.pending = false;
                    return Err(e);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends everything rustls has to send.
    pub(crate) async fn flush(&mut self) -> io::Result<()> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut TryIo(&self.tcp)) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.tcp.writable().await?,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Encrypts and sends all of `pieces`.
    pub(crate) async fn write_all<'a>(
        &mut self,
        pieces: impl Iterator<Item = &'a [u8]>,
    ) -> io::Result<()> {
        for mut p in pieces {
            while !p.is_empty() {
                let n = self.tls.writer().write(p)?;
                p = &p[n..];
                if !p.is_empty() {
                    // rustls's send buffer is full: drain it to the socket first.
                    self.flush().await?;
                }
            }
        }
        self.flush().await
    }
}

/// The content type of a TLS handshake record, which every TLS client's first bytes are.
const HANDSHAKE_RECORD: u8 = 0x16;

/// The handshake of a connection accepted on a TLS port, run as a task of its thread.
pub(crate) async fn handshake(config: Arc<ServerConfig>, tcp: TcpStream) -> io::Result<TlsConn> {
    // A client that does not start with a TLS handshake record (one speaking plain RESP to
    // the TLS port) is closed at once, unanswered, as OpenSSL leaves it in Redis: rustls would
    // answer it with an alert, which such a client reads as a malformed reply.
    let mut first = [0u8; 1];
    if tcp.peek(&mut first).await? == 0 || first[0] != HANDSHAKE_RECORD {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a TLS handshake (a plain-text client on the TLS port?)",
        ));
    }
    let stream = tokio_rustls::TlsAcceptor::from(config).accept(tcp).await?;
    let (tcp, tls) = stream.into_inner();
    let mut conn = TlsConn::new(tcp, Box::new(tls));
    conn.flush().await?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_and_cipher_settings_are_checked_naming_what_is_unsupported() {
        assert!(check_setting("tls-protocols", "TLSv1.2 TLSv1.3").is_ok());
        assert!(check_setting("tls-protocols", "").is_ok());
        assert!(check_setting("tls-protocols", "TLSv1.1")
            .unwrap_err()
            .contains("TLSv1.1 is not supported"));
        assert!(check_setting("tls-protocols", "SSLv3")
            .unwrap_err()
            .contains("Invalid tls-protocols"));
        assert!(check_setting("tls-ciphersuites", "TLS_AES_128_GCM_SHA256").is_ok());
        let e = check_setting(
            "tls-ciphersuites",
            "TLS_AES_128_CCM_SHA256:TLS_AES_128_GCM_SHA256",
        )
        .unwrap_err();
        assert!(e.contains("TLS_AES_128_CCM_SHA256"), "{e}");
        assert_eq!(ciphers("DEFAULT:!aNULL:-MD5").unwrap().len(), TLS12.len());
        assert_eq!(
            ciphers("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384").unwrap(),
            vec![
                cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
            ]
        );
        assert_eq!(
            ciphers("DEFAULT:-ECDHE-RSA-AES128-GCM-SHA256")
                .unwrap()
                .len(),
            TLS12.len() - 1
        );
        let e = ciphers("AES128-SHA256:ECDHE-RSA-AES128-GCM-SHA256").unwrap_err();
        assert!(
            e.contains("unsupported TLSv1.2 cipher(s): AES128-SHA256"),
            "{e}"
        );
        assert!(ciphers("!ALL").is_err());
    }

    #[test]
    fn session_cache_keeps_the_newest_and_forgets_expired_ones() {
        let c = SessionCache::new(2, Duration::from_secs(60));
        for k in 0..3u8 {
            c.put(vec![k], vec![k]);
        }
        assert_eq!(c.get(&[0]), None);
        assert_eq!(c.get(&[2]), Some(vec![2]));
        assert_eq!(c.take(&[1]), Some(vec![1]));
        assert_eq!(c.take(&[1]), None);
        let expired = SessionCache::new(0, Duration::ZERO);
        expired.put(vec![1], vec![1]);
        assert_eq!(expired.get(&[1]), None);
    }
}
