//! `rename-command`, compared with redis-server 7.0.15 byte for byte. The command table is one
//! per process, so this file holds the one server that renames (its own test process).

use rustis_runtime::Config;
use rustis_tests::{Reference, TestServer};

#[test]
fn renamed_commands_answer_to_the_new_name_only_everywhere() {
    let mut cfg = Config::default();
    cfg.load_str("rename-command flushdb badger\nrename-command lastsave \"\"\n")
        .expect("renames");
    let server = TestServer::start_opts(1, None, cfg);
    let reference = Reference::start_with(
        None,
        &[
            "--rename-command",
            "flushdb",
            "badger",
            "--rename-command",
            "lastsave",
            "",
        ],
    );
    let (mut ours, mut theirs) = (server.raw(), reference.conn());
    for cmd in [
        &["SET", "k", "v"][..],
        &["FLUSHDB"],
        &["flushdb", "async"],
        &["LASTSAVE"],
        &["DBSIZE"],
        &["BADGER"],
        &["DBSIZE"],
        &["MULTI"],
        &["FLUSHDB"],
        &["EXEC"],
        &["MULTI"],
        &["badger"],
        &["EXEC"],
        &["EVAL", "return redis.pcall('flushdb')", "0"],
        &["EVAL", "return redis.pcall('badger')", "0"],
        &["COMMAND", "INFO", "badger"],
        &["COMMAND", "INFO", "flushdb"],
        &["CONFIG", "SET", "rename-command", "get"],
    ] {
        let (a, b) = (ours.cmd(cmd), theirs.cmd(cmd));
        assert_eq!(
            String::from_utf8_lossy(&a),
            String::from_utf8_lossy(&b),
            "{cmd:?}"
        );
    }
}

#[test]
fn rename_command_lines_are_checked_as_redis_checks_them() {
    for (text, why) in [
        (
            "rename-command nosuch x",
            "No such command in rename-command",
        ),
        (
            "rename-command get set",
            "Target command name already exists",
        ),
        ("rename-command get", "wrong number of arguments"),
    ] {
        let e = Config::default()
            .load_str(&format!("port 7000\n{text}\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with(&format!("at line 2\n>>> '{text}'\n{why}")),
            "{e}"
        );
    }
}
