//! The `rustis` binary itself: `--version`, and startup refusals (a setting that would promise
//! a missing feature, a data file it cannot load) that stop it with an error naming the cause
//! instead of serving.

mod common;
use common::TempDir;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_rustis");

/// Runs the binary in `dir` with `args` and waits for it to exit (a refusal exits at once;
/// a server that started instead is killed after 20 s and the test fails).
fn run_in(dir: &std::path::Path, args: &[&str]) -> Output {
    let child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rustis");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(out) => out.expect("output"),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("rustis {args:?} did not exit within 20 s");
        }
    }
}

#[test]
fn version_answers_like_redis_server_and_exits() {
    let dir = TempDir::new("version");
    for flag in ["--version", "-v"] {
        let out = run_in(&dir.0, &[flag]);
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            text.starts_with("Rustis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5."),
            "{text}"
        );
        assert!(text
            .trim_end()
            .ends_with(concat!(" bits=64 build=rustis-", env!("CARGO_PKG_VERSION"))));
    }
}

#[test]
fn a_setting_that_promises_a_missing_feature_stops_startup_naming_it() {
    let dir = TempDir::new("setting");
    let out = run_in(&dir.0, &["--port", "0", "--crash-memcheck-enabled", "yes"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            ">>> 'crash-memcheck-enabled \"yes\"'\n'crash-memcheck-enabled' is not supported yet: there is no memory test on a crash: Rustis writes no crash report"
        ),
        "{err}"
    );
    let conf = dir.0.join("redis.conf");
    std::fs::write(&conf, "port 0\nmasterauth hunter2\n").expect("write redis.conf");
    let out = run_in(&dir.0, &[conf.to_str().expect("UTF-8 path")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at line 2"), "{err}");
    assert!(err.contains("'masterauth' is not supported yet"), "{err}");
}

#[test]
fn a_dump_rdb_in_the_working_directory_that_cannot_be_loaded_stops_startup_naming_it() {
    let dir = TempDir::new("rdb");
    std::fs::write(dir.0.join("dump.rdb"), b"REDIS0010").expect("write dump.rdb");
    let out = run_in(&dir.0, &["--port", "0"]);
    assert_eq!(out.status.code(), Some(1));
    // Like redis-server's, the reason is in the log, which is standard output here, and the
    // server says it stops, as Redis does, after its banner.
    let err = String::from_utf8_lossy(&out.stdout);
    // `dir` is the working directory, shown (as CONFIG GET dir shows it) as its absolute path.
    let abs = std::fs::canonicalize(&dir.0).expect("the directory");
    assert!(
        err.contains(&format!(
            "Internal error in RDB reading {}/dump.rdb -> unexpected end of data at offset 9",
            abs.display()
        )),
        "{err}"
    );
    assert!(
        err.trim_end()
            .ends_with("Terminating server after rdb file reading failure."),
        "{err}"
    );
}

#[test]
fn a_tls_certificate_that_cannot_be_loaded_stops_startup_naming_it() {
    let dir = TempDir::new("tls");
    let missing = dir.0.join("missing.crt");
    let missing = missing.to_str().expect("UTF-8 path");
    let out = run_in(
        &dir.0,
        &[
            "--port",
            "0",
            "--tls-port",
            "0",
            "--tls-port",
            "46379",
            "--tls-cert-file",
            missing,
            "--tls-key-file",
            missing,
            "--tls-auth-clients",
            "no",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains(&format!(
            "Failed to load certificate: {missing}: No such file or directory"
        )),
        "{log}"
    );
    assert!(
        log.contains("Failed to configure TLS. Check logs for more info."),
        "{log}"
    );
}
