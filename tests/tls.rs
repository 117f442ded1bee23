//! TLS as Redis configures it (docs/tls.md): a TLS port beside the plain one, client
//! certificates, protocol and cipher restrictions, certificates reloaded by CONFIG SET, and
//! ordinary traffic (pipelines, large values) over TLS. The certificates are made here with
//! rcgen; the client is rustls.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustis_runtime::{Config, ServerHandle, ServerOptions, StartError};
use rustis_tests::{encode, reply_len, show, RawConn};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// A CA and what it signed, written as PEM files in a directory of their own.
struct Pki {
    dir: PathBuf,
    ca: rcgen::Certificate,
    ca_key: KeyPair,
}

/// A certificate and key signed by a [`Pki`], as files and as what a rustls client takes.
struct Leaf {
    cert: PathBuf,
    key: PathBuf,
    der: CertificateDer<'static>,
}

impl Pki {
    fn new(tag: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("rustis-tls-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the certificates' dir");
        let ca_key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("Rustis test CA {tag}"));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = params.self_signed(&ca_key).expect("CA certificate");
        std::fs::write(dir.join("ca.crt"), ca.pem()).expect("write ca.crt");
        Pki { dir, ca, ca_key }
    }

    fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// A certificate for `name` (a server's for localhost/127.0.0.1, or a client's).
    fn leaf(&self, name: &str, server: bool) -> Leaf {
        let key = KeyPair::generate().expect("key");
        let sans = if server {
            vec!["localhost".to_string(), "127.0.0.1".to_string()]
        } else {
            Vec::new()
        };
        let mut params = CertificateParams::new(sans).expect("params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![if server {
            ExtendedKeyUsagePurpose::ServerAuth
        } else {
            ExtendedKeyUsagePurpose::ClientAuth
        }];
        let cert = params
            .signed_by(&key, &self.ca, &self.ca_key)
            .expect("sign");
        let (cert_path, key_path) = (
            self.dir.join(format!("{name}.crt")),
            self.dir.join(format!("{name}.key")),
        );
        std::fs::write(&cert_path, cert.pem()).expect("write cert");
        std::fs::write(&key_path, key.serialize_pem()).expect("write key");
        Leaf {
            cert: cert_path,
            key: key_path,
            der: cert.der().clone(),
        }
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A server with a plain port and a TLS port (with `settings` on top of the certificate,
/// key and CA of `pki`).
struct Server {
    handle: Option<ServerHandle>,
    plain: SocketAddr,
    tls: SocketAddr,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.handle.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn config(pki: &Pki, server: &Leaf, settings: &[(&str, &str)]) -> (Config, PathBuf) {
    let mut c = Config::default();
    let dir = pki.dir.join(format!("data-{}", free_port()));
    std::fs::create_dir_all(&dir).expect("data dir");
    c.set("bind", "127.0.0.1", true).unwrap();
    c.set("dir", path(&dir), true).unwrap();
    c.set("tls-cert-file", path(&server.cert), true).unwrap();
    c.set("tls-key-file", path(&server.key), true).unwrap();
    c.set("tls-ca-cert-file", path(&pki.ca_file()), true)
        .unwrap();
    for (k, v) in settings {
        c.set(k, v, true).unwrap();
    }
    (c, dir)
}

fn start(threads: usize, pki: &Pki, server: &Leaf, settings: &[(&str, &str)]) -> Server {
    let (mut c, dir) = config(pki, server, settings);
    let (plain, tls) = (free_port(), free_port());
    c.set("port", &plain.to_string(), true).unwrap();
    c.set("tls-port", &tls.to_string(), true).unwrap();
    let handle = rustis_runtime::start(ServerOptions {
        config: c,
        threads,
        ..Default::default()
    })
    .expect("server starts");
    Server {
        handle: Some(handle),
        plain: SocketAddr::from(([127, 0, 0, 1], plain)),
        tls: SocketAddr::from(([127, 0, 0, 1], tls)),
        dir,
    }
}

/// How a client connects: its protocol versions, its cipher suites, its certificate.
#[derive(Default)]
struct ClientOpts<'a> {
    versions: Option<&'static [&'static rustls::SupportedProtocolVersion]>,
    suites: Option<Vec<rustls::SupportedCipherSuite>>,
    cert: Option<&'a Leaf>,
}

fn client_config(pki: &Pki, o: &ClientOpts) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(pki.ca_file()).expect("ca"))
        .expect("add ca");
    let mut provider = rustls::crypto::ring::default_provider();
    if let Some(s) = &o.suites {
        provider.cipher_suites = s.clone();
    }
    let b = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(o.versions.unwrap_or(rustls::ALL_VERSIONS))
        .expect("versions")
        .with_root_certificates(roots);
    Arc::new(match o.cert {
        Some(leaf) => b
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_file(&leaf.cert).expect("cert")],
                PrivateKeyDer::from_pem_file(&leaf.key).expect("key"),
            )
            .expect("client cert"),
        None => b.with_no_client_auth(),
    })
}

type Tls = StreamOwned<ClientConnection, TcpStream>;

/// A TLS client connection (the handshake runs with the first write or read).
fn connect(addr: SocketAddr, cfg: Arc<ClientConfig>) -> Tls {
    let conn = ClientConnection::new(cfg, ServerName::try_from("localhost").unwrap()).unwrap();
    let sock = TcpStream::connect(addr).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    StreamOwned::new(conn, sock)
}

/// Reads `n` whole replies.
fn read_replies(s: &mut Tls, n: usize) -> std::io::Result<Vec<Vec<u8>>> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    while out.len() < n {
        while let Some(len) = reply_len(&buf) {
            out.push(buf.drain(..len).collect());
            if out.len() == n {
                return Ok(out);
            }
        }
        let got = s.read(&mut chunk)?;
        if got == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..got]);
    }
    Ok(out)
}

fn cmd(s: &mut Tls, args: &[&str]) -> std::io::Result<Vec<u8>> {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    s.write_all(&encode(&args))?;
    s.flush()?;
    Ok(read_replies(s, 1)?.remove(0))
}

/// PING over a new connection: the reply, or the error that stopped it.
fn ping(addr: SocketAddr, cfg: Arc<ClientConfig>) -> std::io::Result<Vec<u8>> {
    let mut s = connect(addr, cfg);
    cmd(&mut s, &["PING"])
}

fn plain_cmd(addr: SocketAddr, args: &[&str]) -> String {
    let mut c = RawConn::connect(addr);
    show(&c.cmd(args))
}

#[test]
fn round_trip_over_tls_with_the_plain_port_beside_it_on_1_and_2_threads() {
    let pki = Pki::new("roundtrip");
    let server_cert = pki.leaf("server", true);
    let client_cert = pki.leaf("client", false);
    for threads in [1, 2] {
        let srv = start(threads, &pki, &server_cert, &[]);
        let cfg = client_config(
            &pki,
            &ClientOpts {
                cert: Some(&client_cert),
                ..Default::default()
            },
        );
        // Several connections, so that both threads take some.
        let mut conns: Vec<Tls> = (0..6).map(|_| connect(srv.tls, cfg.clone())).collect();
        for (i, c) in conns.iter_mut().enumerate() {
            assert_eq!(cmd(c, &["PING"]).unwrap(), b"+PONG\r\n");
            let key = format!("k{i}");
            assert_eq!(
                cmd(c, &["SET", &key, &format!("v{i}")]).unwrap(),
                b"+OK\r\n"
            );
            assert_eq!(
                cmd(c, &["GET", &key]).unwrap(),
                format!("$2\r\nv{i}\r\n").as_bytes()
            );
        }
        // The same data from the plain port, and the other way round.
        assert_eq!(plain_cmd(srv.plain, &["GET", "k3"]), show(b"$2\r\nv3\r\n"));
        assert_eq!(plain_cmd(srv.plain, &["SET", "p", "plain"]), "+OK\r\n");
        assert_eq!(
            cmd(&mut conns[0], &["GET", "p"]).unwrap(),
            b"$5\r\nplain\r\n"
        );
        // A client speaking plain RESP to the TLS port gets nothing back and is closed.
        let mut raw = TcpStream::connect(srv.tls).unwrap();
        raw.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        raw.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
        let mut buf = Vec::new();
        let _ = raw.read_to_end(&mut buf);
        assert!(!buf.starts_with(b"+PONG"), "{}", show(&buf));
        // CLIENT LIST shows the TLS connections' addresses, on the TLS port.
        let list = plain_cmd(srv.plain, &["CLIENT", "LIST"]);
        assert!(
            list.contains(&format!("laddr=127.0.0.1:{}", srv.tls.port())),
            "{list}"
        );
    }
}

#[test]
fn only_a_tls_port_when_port_is_0() {
    let pki = Pki::new("tlsonly");
    let server_cert = pki.leaf("server", true);
    let (mut c, dir) = config(&pki, &server_cert, &[("tls-auth-clients", "no")]);
    let tls = free_port();
    c.set("port", "0", true).unwrap();
    c.set("tls-port", &tls.to_string(), true).unwrap();
    let handle = rustis_runtime::start(ServerOptions {
        config: c,
        threads: 1,
        ..Default::default()
    })
    .expect("starts");
    assert_eq!(handle.addrs().len(), 1, "one listener: the TLS port");
    assert_eq!(handle.addr().port(), tls);
    let cfg = client_config(&pki, &ClientOpts::default());
    assert_eq!(
        ping(handle.addr(), cfg).unwrap(),
        b"+PONG\r\n",
        "tls-auth-clients no: no client certificate needed"
    );
    drop(handle);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn client_certificates_are_required_by_default_and_optional_when_set_so() {
    let pki = Pki::new("auth");
    let other = Pki::new("auth-other");
    let server_cert = pki.leaf("server", true);
    let client_cert = pki.leaf("client", false);
    let stranger = other.leaf("stranger", false);
    let srv = start(1, &pki, &server_cert, &[]);
    assert_eq!(
        plain_cmd(srv.plain, &["CONFIG", "GET", "tls-auth-clients"]),
        show(b"*2\r\n$16\r\ntls-auth-clients\r\n$3\r\nyes\r\n")
    );
    let with = |cert: Option<&Leaf>| {
        client_config(
            &pki,
            &ClientOpts {
                cert,
                ..Default::default()
            },
        )
    };
    assert_eq!(
        ping(srv.tls, with(Some(&client_cert))).unwrap(),
        b"+PONG\r\n"
    );
    // With TLSv1.3 the client finishes its handshake before the server has judged its
    // certificate, so the refusal shows on the first read.
    assert!(ping(srv.tls, with(None)).is_err(), "no certificate");
    assert!(
        ping(srv.tls, with(Some(&stranger))).is_err(),
        "a certificate the CA did not sign"
    );
    assert_eq!(
        plain_cmd(
            srv.plain,
            &["CONFIG", "SET", "tls-auth-clients", "optional"]
        ),
        "+OK\r\n"
    );
    assert_eq!(ping(srv.tls, with(None)).unwrap(), b"+PONG\r\n");
    assert_eq!(
        ping(srv.tls, with(Some(&client_cert))).unwrap(),
        b"+PONG\r\n"
    );
    assert!(
        ping(srv.tls, with(Some(&stranger))).is_err(),
        "optional still checks a certificate that is given"
    );
    assert_eq!(
        plain_cmd(srv.plain, &["CONFIG", "SET", "tls-auth-clients", "no"]),
        "+OK\r\n"
    );
    assert_eq!(ping(srv.tls, with(None)).unwrap(), b"+PONG\r\n");
    assert_eq!(
        plain_cmd(srv.plain, &["CONFIG", "SET", "tls-auth-clients", "yes"]),
        "+OK\r\n"
    );
    assert!(ping(srv.tls, with(None)).is_err());
}

#[test]
fn tls_protocols_and_ciphers_restrict_what_is_negotiated() {
    let pki = Pki::new("proto");
    let server_cert = pki.leaf("server", true);
    let srv = start(2, &pki, &server_cert, &[("tls-auth-clients", "no")]);
    let only = |v: &'static [&'static rustls::SupportedProtocolVersion]| {
        client_config(
            &pki,
            &ClientOpts {
                versions: Some(v),
                ..Default::default()
            },
        )
    };
    static V12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
    static V13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    let (v12, v13): (&'static [_], &'static [_]) = (&V12, &V13);
    assert_eq!(ping(srv.tls, only(v12)).unwrap(), b"+PONG\r\n");
    assert_eq!(ping(srv.tls, only(v13)).unwrap(), b"+PONG\r\n");
    let set = |k: &str, v: &str| plain_cmd(srv.plain, &["CONFIG", "SET", k, v]);
    assert_eq!(set("tls-protocols", "TLSv1.2"), "+OK\r\n");
    assert!(ping(srv.tls, only(v13)).is_err(), "TLSv1.3 is off");
    let mut c = connect(srv.tls, only(v12));
    assert_eq!(cmd(&mut c, &["PING"]).unwrap(), b"+PONG\r\n");
    assert_eq!(
        c.conn.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    assert_eq!(set("tls-protocols", "TLSv1.3"), "+OK\r\n");
    assert!(ping(srv.tls, only(v12)).is_err(), "TLSv1.2 is off");
    assert_eq!(ping(srv.tls, only(v13)).unwrap(), b"+PONG\r\n");
    // Versions rustls does not speak, and names nobody knows, are refused.
    let e = set("tls-protocols", "TLSv1.1 TLSv1.2");
    assert!(e.contains("TLSv1.1 is not supported"), "{e}");
    assert_eq!(set("tls-protocols", ""), "+OK\r\n");

    // TLSv1.2 ciphers, in OpenSSL's names: the one allowed is the one negotiated.
    use rustls::crypto::ring::cipher_suite as cs;
    assert_eq!(
        set("tls-ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384"),
        "+OK\r\n"
    );
    let with_suites = |s: Vec<rustls::SupportedCipherSuite>| {
        client_config(
            &pki,
            &ClientOpts {
                versions: Some(v12),
                suites: Some(s),
                ..Default::default()
            },
        )
    };
    assert!(ping(
        srv.tls,
        with_suites(vec![cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256])
    )
    .is_err());
    let mut c = connect(
        srv.tls,
        with_suites(vec![
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        ]),
    );
    assert_eq!(cmd(&mut c, &["PING"]).unwrap(), b"+PONG\r\n");
    assert_eq!(
        c.conn.negotiated_cipher_suite(),
        Some(cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384)
    );
    let e = set("tls-ciphers", "AES128-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384");
    assert!(
        e.contains("unsupported TLSv1.2 cipher(s): AES128-SHA256"),
        "{e}"
    );
    // tls-prefer-server-ciphers: the server's order wins over the client's.
    assert_eq!(
        set(
            "tls-ciphers",
            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"
        ),
        "+OK\r\n"
    );
    let client_prefers_256 = || {
        let mut c = connect(
            srv.tls,
            with_suites(vec![
                cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            ]),
        );
        assert_eq!(cmd(&mut c, &["PING"]).unwrap(), b"+PONG\r\n");
        c.conn.negotiated_cipher_suite()
    };
    assert_eq!(
        client_prefers_256(),
        Some(cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384)
    );
    assert_eq!(set("tls-prefer-server-ciphers", "yes"), "+OK\r\n");
    assert_eq!(
        client_prefers_256(),
        Some(cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
    );
    // TLSv1.3 suites by their IANA names; an unknown one is named in the error.
    assert_eq!(
        set("tls-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"),
        "+OK\r\n"
    );
    let mut c = connect(srv.tls, only(v13));
    assert_eq!(cmd(&mut c, &["PING"]).unwrap(), b"+PONG\r\n");
    assert_eq!(
        c.conn.negotiated_cipher_suite(),
        Some(cs::TLS13_CHACHA20_POLY1305_SHA256)
    );
    let e = set("tls-ciphersuites", "TLS_AES_128_CCM_8_SHA256");
    assert!(e.contains("TLS_AES_128_CCM_8_SHA256"), "{e}");
}

#[test]
fn config_set_tls_cert_file_reloads_for_new_connections_and_a_bad_one_changes_nothing() {
    let pki = Pki::new("reload");
    let first = pki.leaf("first", true);
    let second = pki.leaf("second", true);
    let srv = start(2, &pki, &first, &[("tls-auth-clients", "no")]);
    let cfg = client_config(&pki, &ClientOpts::default());
    let mut old = connect(srv.tls, cfg.clone());
    assert_eq!(cmd(&mut old, &["PING"]).unwrap(), b"+PONG\r\n");
    assert_eq!(old.conn.peer_certificates().unwrap()[0], first.der);
    let set = |args: &[&str]| plain_cmd(srv.plain, args);
    assert_eq!(
        set(&[
            "CONFIG",
            "SET",
            "tls-cert-file",
            path(&second.cert),
            "tls-key-file",
            path(&second.key)
        ]),
        "+OK\r\n"
    );
    let mut new = connect(srv.tls, cfg.clone());
    assert_eq!(cmd(&mut new, &["PING"]).unwrap(), b"+PONG\r\n");
    assert_eq!(new.conn.peer_certificates().unwrap()[0], second.der);
    // The connection made before keeps going.
    assert_eq!(
        cmd(&mut old, &["ECHO", "still"]).unwrap(),
        b"$5\r\nstill\r\n"
    );
    // A file that is not there: Redis's error, and the certificate in use stays.
    let missing = pki.dir.join("missing.crt");
    assert_eq!(
        set(&["CONFIG", "SET", "tls-cert-file", path(&missing)]),
        "-ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to update TLS configuration. Check server logs.\r\n"
    );
    assert_eq!(
        set(&["CONFIG", "GET", "tls-cert-file"]),
        show(
            format!(
                "*2\r\n$13\r\ntls-cert-file\r\n${}\r\n{}\r\n",
                path(&second.cert).len(),
                path(&second.cert)
            )
            .as_bytes()
        )
    );
    let mut after = connect(srv.tls, cfg);
    assert_eq!(cmd(&mut after, &["PING"]).unwrap(), b"+PONG\r\n");
    assert_eq!(after.conn.peer_certificates().unwrap()[0], second.der);
}

#[test]
fn pipelines_and_large_values_over_tls() {
    let pki = Pki::new("bulk");
    let server_cert = pki.leaf("server", true);
    for threads in [1, 2] {
        let srv = start(threads, &pki, &server_cert, &[("tls-auth-clients", "no")]);
        let cfg = client_config(&pki, &ClientOpts::default());
        let mut c = connect(srv.tls, cfg.clone());
        // 2,000 commands in one write.
        let mut batch = Vec::new();
        for i in 0..1000 {
            let k = format!("key:{i}");
            batch.extend(encode(&[b"SET", k.as_bytes(), i.to_string().as_bytes()]));
            batch.extend(encode(&[b"INCR", k.as_bytes()]));
        }
        c.write_all(&batch).unwrap();
        c.flush().unwrap();
        let replies = read_replies(&mut c, 2000).unwrap();
        for (i, pair) in replies.chunks(2).enumerate() {
            assert_eq!(pair[0], b"+OK\r\n");
            assert_eq!(pair[1], format!(":{}\r\n", i + 1).as_bytes());
        }
        // Rounds of commands on one key: a connection whose keys live on the other thread
        // moves there (conn.rs), TLS state and all, and keeps answering.
        for key in ["a", "b", "c", "d", "e", "f"] {
            for round in 0..5 {
                let mut batch = Vec::new();
                for _ in 0..50 {
                    batch.extend(encode(&[b"INCR", key.as_bytes()]));
                }
                c.write_all(&batch).unwrap();
                c.flush().unwrap();
                let replies = read_replies(&mut c, 50).unwrap();
                assert_eq!(replies[49], format!(":{}\r\n", (round + 1) * 50).as_bytes());
            }
        }
        // A 6 MB value, written and read back whole.
        let big: Vec<u8> = (0..6 * 1024 * 1024)
            .map(|i| b'a' + (i % 26) as u8)
            .collect();
        c.write_all(&encode(&[b"SET", b"big", &big])).unwrap();
        c.flush().unwrap();
        assert_eq!(read_replies(&mut c, 1).unwrap()[0], b"+OK\r\n");
        c.write_all(&encode(&[b"GET", b"big"])).unwrap();
        c.flush().unwrap();
        let got = read_replies(&mut c, 1).unwrap().remove(0);
        let head = format!("${}\r\n", big.len());
        assert_eq!(&got[..head.len()], head.as_bytes());
        assert!(
            got[head.len()..got.len() - 2] == big[..],
            "the value comes back intact"
        );
        // And the plain port sees it too.
        let mut p = RawConn::connect(srv.plain);
        assert_eq!(
            p.cmd(&["STRLEN", "big"]),
            format!(":{}\r\n", big.len()).as_bytes()
        );
    }
}

#[test]
fn sessions_resume_when_caching_is_on_and_not_when_off() {
    let pki = Pki::new("session");
    let server_cert = pki.leaf("server", true);
    let srv = start(1, &pki, &server_cert, &[("tls-auth-clients", "no")]);
    // One client configuration keeps its session store across connections.
    let kind = |cfg: &Arc<ClientConfig>| {
        let mut c = connect(srv.tls, cfg.clone());
        assert_eq!(cmd(&mut c, &["PING"]).unwrap(), b"+PONG\r\n");
        c.conn.handshake_kind()
    };
    let cfg = client_config(&pki, &ClientOpts::default());
    assert_eq!(kind(&cfg), Some(rustls::HandshakeKind::Full));
    assert_eq!(kind(&cfg), Some(rustls::HandshakeKind::Resumed));
    assert_eq!(
        plain_cmd(srv.plain, &["CONFIG", "SET", "tls-session-caching", "no"]),
        "+OK\r\n"
    );
    let cfg = client_config(&pki, &ClientOpts::default());
    assert_eq!(kind(&cfg), Some(rustls::HandshakeKind::Full));
    assert_eq!(kind(&cfg), Some(rustls::HandshakeKind::Full));
}

#[test]
fn startup_fails_naming_a_missing_certificate_or_a_missing_ca() {
    let pki = Pki::new("startup");
    let server_cert = pki.leaf("server", true);
    let missing = pki.dir.join("nope.crt");
    let (mut c, _dir) = config(&pki, &server_cert, &[]);
    c.set("port", "0", true).unwrap();
    c.set("tls-port", &free_port().to_string(), true).unwrap();
    let mut bad = c.clone();
    bad.set("tls-cert-file", path(&missing), true).unwrap();
    let e = rustis_runtime::start(ServerOptions {
        config: bad,
        threads: 1,
        ..Default::default()
    })
    .err()
    .expect("refused");
    assert!(matches!(e, StartError::Tls(_)), "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "Failed to configure TLS: Failed to load certificate: {}: No such file or directory",
            path(&missing)
        )
    );
    // A key that is not the certificate's.
    let other = pki.leaf("other", true);
    let mut mismatch = c.clone();
    mismatch
        .set("tls-key-file", path(&other.key), true)
        .unwrap();
    let e = rustis_runtime::start(ServerOptions {
        config: mismatch,
        threads: 1,
        ..Default::default()
    })
    .err()
    .expect("refused");
    assert!(
        e.to_string().starts_with(&format!(
            "Failed to configure TLS: Failed to load private key: {}: ",
            path(&other.key)
        )),
        "{e}"
    );
    let mut no_ca = c.clone();
    no_ca.set("tls-ca-cert-file", "", true).unwrap();
    let e = rustis_runtime::start(ServerOptions {
        config: no_ca,
        threads: 1,
        ..Default::default()
    })
    .err()
    .expect("refused");
    assert!(
        e.to_string().contains(
            "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!"
        ),
        "{e}"
    );
    // The CA may come from a directory instead.
    let mut ca_dir = c;
    let d = pki.dir.join("cas");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(pki.ca_file(), d.join("ca.pem")).unwrap();
    ca_dir.set("tls-ca-cert-file", "", true).unwrap();
    ca_dir.set("tls-ca-cert-dir", path(&d), true).unwrap();
    let handle = rustis_runtime::start(ServerOptions {
        config: ca_dir,
        threads: 1,
        ..Default::default()
    })
    .expect("starts with tls-ca-cert-dir");
    let client_cert = pki.leaf("client", false);
    let cfg = client_config(
        &pki,
        &ClientOpts {
            cert: Some(&client_cert),
            ..Default::default()
        },
    );
    assert_eq!(ping(handle.addr(), cfg).unwrap(), b"+PONG\r\n");
}

#[test]
fn timeout_closes_a_client_that_never_finishes_its_handshake() {
    let pki = Pki::new("hstimeout");
    let server_cert = pki.leaf("server", true);
    let srv = start(
        1,
        &pki,
        &server_cert,
        &[("tls-auth-clients", "no"), ("timeout", "1")],
    );
    let mut raw = TcpStream::connect(srv.tls).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    let n = raw
        .read_to_end(&mut buf)
        .expect("closed by the server, not timed out here");
    assert_eq!(n, 0);
    assert!(started.elapsed() < Duration::from_secs(10));
    // A client that does finish its handshake is served as usual.
    let cfg = client_config(&pki, &ClientOpts::default());
    assert_eq!(ping(srv.tls, cfg).unwrap(), b"+PONG\r\n");
}
