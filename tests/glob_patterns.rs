//! Every command that takes a glob pattern, given patterns that make a backtracking matcher
//! take exponential time or recurse without bound: the command must answer, and the server
//! must keep answering PING from another connection while it runs.

use rustis_tests::{show, RawConn, TestServer};

/// `a*a*...*a*b` with 20 stars: exponential against a long run of `a`s for a matcher that
/// backtracks into every earlier star (CVE-2022-36021).
fn nested_stars() -> String {
    let mut p = "a*".repeat(20);
    p.push('b');
    p
}

/// Patterns that are cheap for a bounded matcher and ruinous for a naive one.
fn pathological() -> Vec<String> {
    let mut v = vec![nested_stars()];
    // More stars than a recursive matcher has stack for.
    v.push(format!("{}b", "*a".repeat(200_000)));
    // Many stars and unterminated classes.
    v.push(format!("{}[b", "*[a]".repeat(30)));
    v.push(format!("{}?b", "*?".repeat(30)));
    v
}

/// Sends `args` on `conn`, then checks that `ping` gets PONG (each read is bounded by the
/// connection's read timeout, so a server stuck in the command fails the test), then returns
/// the command's reply.
fn run_while_pinging(conn: &mut RawConn, ping: &mut RawConn, args: &[&str]) -> Vec<u8> {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    conn.send(&rustis_tests::encode(&a));
    for _ in 0..3 {
        assert_eq!(ping.cmd(&["ping"]), b"+PONG\r\n");
    }
    let reply = conn.read_reply();
    assert_eq!(ping.cmd(&["ping"]), b"+PONG\r\n");
    reply
}

fn setup(c: &mut RawConn) {
    let key = "a".repeat(40);
    c.cmd(&["set", &key, "v"]);
    // Small and large encodings of each collection, each with a 40-character member.
    let members: Vec<String> = (0..300).map(|i| format!("{}{i}", "a".repeat(40))).collect();
    for (name, n) in [("small", 3), ("large", 300)] {
        for m in &members[..n] {
            c.cmd(&["hset", &format!("h:{name}"), m, "v"]);
            c.cmd(&["sadd", &format!("s:{name}"), m]);
            c.cmd(&["zadd", &format!("z:{name}"), "1", m]);
        }
    }
}

#[test]
fn pathological_patterns_never_stall_the_server() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut conn = server.raw();
        let mut ping = server.raw();
        setup(&mut conn);
        for pat in pathological() {
            let p = pat.as_str();
            let what = format!("threads={threads} pattern of {} bytes", p.len());
            let r = run_while_pinging(&mut conn, &mut ping, &["keys", p]);
            assert_eq!(r, b"*0\r\n", "KEYS {what}: {}", show(&r));
            let mut cursor = "0".to_string();
            loop {
                let r = run_while_pinging(
                    &mut conn,
                    &mut ping,
                    &["scan", &cursor, "match", p, "count", "1000"],
                );
                let text = String::from_utf8_lossy(&r).into_owned();
                let lines: Vec<&str> = text.split("\r\n").collect();
                assert_eq!(lines[3], "*0", "SCAN {what}: {text}");
                cursor = lines[2].to_string();
                if cursor == "0" {
                    break;
                }
            }
            for (cmd, prefix) in [("hscan", "h"), ("sscan", "s"), ("zscan", "z")] {
                for size in ["small", "large"] {
                    let key = format!("{prefix}:{size}");
                    let mut cursor = "0".to_string();
                    loop {
                        let r = run_while_pinging(
                            &mut conn,
                            &mut ping,
                            &[cmd, &key, &cursor, "match", p, "count", "1000"],
                        );
                        let text = String::from_utf8_lossy(&r).into_owned();
                        let lines: Vec<&str> = text.split("\r\n").collect();
                        assert_eq!(lines[3], "*0", "{cmd} {key} {what}: {text}");
                        cursor = lines[2].to_string();
                        if cursor == "0" {
                            break;
                        }
                    }
                }
            }
            let r = run_while_pinging(&mut conn, &mut ping, &["config", "get", p]);
            assert_eq!(r, b"*0\r\n", "CONFIG GET {what}: {}", show(&r));
        }
    }
}

#[test]
fn nested_star_patterns_still_match_what_they_should() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut conn = server.raw();
        let mut ping = server.raw();
        let key = format!("{}b", "a".repeat(40));
        conn.cmd(&["set", &key, "v"]);
        let r = run_while_pinging(&mut conn, &mut ping, &["keys", &nested_stars()]);
        assert_eq!(r, format!("*1\r\n$41\r\n{key}\r\n").into_bytes());
        conn.cmd(&["sadd", "s", &key, "other"]);
        let r = run_while_pinging(
            &mut conn,
            &mut ping,
            &["sscan", "s", "0", "match", &nested_stars()],
        );
        assert_eq!(
            r,
            format!("*2\r\n$1\r\n0\r\n*1\r\n$41\r\n{key}\r\n").into_bytes()
        );
        // CONFIG GET matches without case, as Redis does.
        let r = run_while_pinging(
            &mut conn,
            &mut ping,
            &["config", "get", "*A*X*M*E*M*O*R*Y-P*L*I*C*Y"],
        );
        assert_eq!(
            r,
            b"*2\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n".to_vec(),
            "{}",
            show(&r)
        );
    }
}
