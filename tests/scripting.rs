//! EVAL, EVALSHA, EVAL_RO, SCRIPT, FUNCTION and FCALL: replies byte for byte as redis-server
//! 7.0.15 gives them (conversions both ways in RESP2 and RESP3, the libraries, the sandbox,
//! the error texts), on 1 and 4 threads, and atomicity of scripts whose keys live on several
//! shards, declared or not, under concurrent clients.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rustis_tests::{check, check_all, reply_values, spread, TestServer};

#[test]
fn replies_conversions_libraries_and_errors_match_redis() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut c = server.raw();
        check_all(
            &mut c,
            &[
                (&["FLUSHALL"], b"+OK\r\n"),
                (&["SCRIPT", "FLUSH"], b"+OK\r\n"),
                (&["HSET", "h", "f", "v"], b":1\r\n"),
            ],
        );
        c.cmd(&["HELLO", "3"]);
        check_all(
            &mut c,
            &[
                (
                    &[
                        "EVAL",
                        "redis.setresp(3); return redis.call('HGETALL', KEYS[1])",
                        "1",
                        "h",
                    ],
                    b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n",
                ),
                (&["EVAL", "return {double=3.5}", "0"], b",3.5\r\n"),
                (
                    &["EVAL", "return {map={a=1,b={1,2}}}", "0"],
                    b"%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n*2\r\n:1\r\n:2\r\n",
                ),
                (
                    &["EVAL", "return {set={a=true}}", "0"],
                    b"~1\r\n$1\r\na\r\n",
                ),
                (
                    &["EVAL", "return {true, false, nil, 7}", "0"],
                    b"*2\r\n:1\r\n_\r\n",
                ),
                (
                    &[
                        "EVAL",
                        "redis.setresp(3); return redis.call('HGET', 'h', 'nosuch')",
                        "0",
                    ],
                    b"_\r\n",
                ),
            ],
        );
        c.cmd(&["HELLO", "2"]);
        check_all(
            &mut c,
            &[
                (&["EVAL", "return {double=3.5}", "0"], b"$3\r\n3.5\r\n"),
                (&["EVAL", "return 3.99", "0"], b":3\r\n"),
                (&["EVAL", "return true", "0"], b":1\r\n"),
                (&["EVAL", "return {err='My Error'}", "0"], b"-My Error\r\n"),
                (&["EVAL", "return redis.error_reply('x')", "0"], b"-ERR x\r\n"),
                (&["EVAL", "return redis.status_reply('fine')", "0"], b"+fine\r\n"),
                (&["EVAL", "return redis.pcall('INCR', KEYS[1])", "1", "h"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
                (&["EVAL", "return redis.call('INCR', KEYS[1])", "1", "h"], b"-WRONGTYPE Operation against a key holding the wrong kind of value script: 61636018f4e6b5817b89791bbed242f93fa089e3, on @user_script:1.\r\n"),
                (&["EVAL", "return 1", "-1"], b"-ERR Number of keys can't be negative\r\n"),
                (&["EVAL", "return 1", "5", "a"], b"-ERR Number of keys can't be greater than number of args\r\n"),
                (&["EVAL", "return 1", "x"], b"-ERR value is not an integer or out of range\r\n"),
                (&["EVAL", "return (", "0"], b"-ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'\r\n"),
                (&["EVAL", "return redis.call('MULTI')", "0"], b"-ERR This Redis command is not allowed from script script: ba922d924f6e7808414359ed93c37767dd0532ce, on @user_script:1.\r\n"),
                (&["EVAL_RO", "return redis.call('SET','a','b')", "0"], b"-ERR Write commands are not allowed from read-only scripts. script: 0a9f75e991483d02789696e4c90d26c10395863e, on @user_script:1.\r\n"),
                (&["EVAL", "#!lua flags=no-writes\nreturn redis.call('SET','a','b')", "0"], b"-ERR Write commands are not allowed from read-only scripts. script: 04a8c636e8d4e0d79e279421b43a78afc2683303, on @user_script:2.\r\n"),
                (&["EVAL", "#!lua flags=bogus\nreturn 1", "0"], b"-ERR Unexpected flag in script shebang: bogus\r\n"),
                (&["EVAL", "return redis.sha1hex('')", "0"], b"$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n"),
                (&["EVAL", "return redis.call('BLPOP','nolist',0)", "0"], b"-ERR This Redis command is not allowed from script script: 3698430c03b583db613ed14aa2661871b1a4e83b, on @user_script:1.\r\n"),
                (&["EVAL", "return {1,2,{3,'four'}}", "0"], b"*3\r\n:1\r\n:2\r\n*2\r\n:3\r\n$4\r\nfour\r\n"),
                (&["EVAL", "return tostring(os)", "0"], b"-ERR user_script:1: Script attempted to access nonexistent global variable 'os' script: 19abc3a3c6e39bcbd69db9d57d6fd72cc4fcc793, on @user_script:1.\r\n"),
                (&["EVAL", "return bit.band(7,3) .. struct.pack('>I2', 258) .. cmsgpack.unpack(cmsgpack.pack('z'))", "0"], b"$4\r\n3\x01\x02z\r\n"),
                (&["EVAL", "local t = cjson.decode('{\"a\":[1,2,null]}'); return {t.a[1], t.a[2], tostring(t.a[3] == cjson.null)}", "0"], b"*3\r\n:1\r\n:2\r\n$4\r\ntrue\r\n"),
            ],
        );
    }
}

#[test]
fn the_script_cache_is_the_same_on_every_thread() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut conns: Vec<_> = (0..8).map(|_| server.raw()).collect();
        let sha = "1fa00e76656cc152ad327c13fe365858fd7be306";
        check(
            &mut conns[0],
            &["SCRIPT", "LOAD", "return 42"],
            format!("$40\r\n{sha}\r\n").as_bytes(),
        );
        // Connections land on every thread: each finds the script.
        for c in conns.iter_mut() {
            check(c, &["EVALSHA", sha, "0"], b":42\r\n");
            check(
                c,
                &["SCRIPT", "EXISTS", sha, "nosuch"],
                b"*2\r\n:1\r\n:0\r\n",
            );
        }
        // EVAL caches too, everywhere.
        check(&mut conns[1], &["EVAL", "return 'x'", "0"], b"$1\r\nx\r\n");
        for c in conns.iter_mut() {
            check(
                c,
                &["EVALSHA", "573cd020e2fc941d149285df8b681959190edd09", "0"],
                b"$1\r\nx\r\n",
            );
        }
        check(&mut conns[2], &["SCRIPT", "FLUSH"], b"+OK\r\n");
        let info = String::from_utf8_lossy(&conns[3].cmd(&["INFO", "memory"])).to_string();
        assert!(info.contains("number_of_cached_scripts:0\r\n"), "{info}");
        for c in conns.iter_mut() {
            check(
                c,
                &["EVALSHA", sha, "0"],
                b"-NOSCRIPT No matching script. Please use EVAL.\r\n",
            );
        }
    }
}

#[test]
fn functions_load_call_list_dump_and_restore() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut c = server.raw();
        let lib = "#!lua name=mylib\nredis.register_function('myincr', function(keys, args) return redis.call('INCRBY', keys[1], args[1]) end)\nredis.register_function{function_name='myget', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}";
        check_all(
            &mut c,
            &[
                (&["FUNCTION", "LOAD", lib], b"$5\r\nmylib\r\n"),
                (
                    &["FUNCTION", "LOAD", lib],
                    b"-ERR Library 'mylib' already exists\r\n",
                ),
                (&["FCALL", "myincr", "1", "n", "5"], b":5\r\n"),
                (&["FCALL_RO", "myget", "1", "n"], b"$1\r\n5\r\n"),
                (
                    &["FCALL_RO", "myincr", "1", "n", "1"],
                    b"-ERR Can not execute a script with write flag using *_ro command.\r\n",
                ),
                (&["FCALL", "nosuch", "0"], b"-ERR Function not found\r\n"),
                (
                    &["FUNCTION", "LIST"],
                    b"*1\r\n*6\r\n$12\r\nlibrary_name\r\n$5\r\nmylib\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*2\r\n*6\r\n$4\r\nname\r\n$5\r\nmyget\r\n$11\r\ndescription\r\n$-1\r\n$5\r\nflags\r\n*1\r\n+no-writes\r\n*6\r\n$4\r\nname\r\n$6\r\nmyincr\r\n$11\r\ndescription\r\n$-1\r\n$5\r\nflags\r\n*0\r\n",
                ),
            ],
        );
        let dump = c.cmd(&["FUNCTION", "DUMP"]);
        let payload = &dump[dump.iter().position(|&b| b == b'\n').unwrap() + 1..dump.len() - 2];
        check(&mut c, &["FUNCTION", "FLUSH"], b"+OK\r\n");
        // Every thread forgot it, and every thread gets it back.
        let mut others: Vec<_> = (0..6).map(|_| server.raw()).collect();
        for o in others.iter_mut() {
            check(
                o,
                &["FCALL", "myincr", "1", "n", "1"],
                b"-ERR Function not found\r\n",
            );
        }
        let mut restore = b"*3\r\n$8\r\nFUNCTION\r\n$7\r\nRESTORE\r\n".to_vec();
        restore.extend_from_slice(format!("${}\r\n", payload.len()).as_bytes());
        restore.extend_from_slice(payload);
        restore.extend_from_slice(b"\r\n");
        c.send(&restore);
        assert_eq!(c.read_reply(), b"+OK\r\n");
        for o in others.iter_mut() {
            check(o, &["FCALL_RO", "myget", "1", "n"], b"$1\r\n5\r\n");
        }
    }
}

#[test]
fn scripts_inside_multi_and_scripts_across_shards() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut c = server.raw();
        let k = spread("x", 3, threads);
        check_all(
            &mut c,
            &[
                (&["MULTI"], b"+OK\r\n"),
                (
                    &["EVAL", "return redis.call('INCR', KEYS[1])", "1", &k[0]],
                    b"+QUEUED\r\n",
                ),
                (&["SET", &k[1], "v"], b"+QUEUED\r\n"),
                (
                    &[
                        "EVAL",
                        "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('MGET', KEYS[1], KEYS[2], ARGV[2])",
                        "2",
                        &k[2],
                        &k[1],
                        "w",
                        &k[0],
                    ],
                    b"+QUEUED\r\n",
                ),
                (
                    &["EXEC"],
                    b"*3\r\n:1\r\n+OK\r\n*3\r\n$1\r\nw\r\n$1\r\nv\r\n$1\r\n1\r\n",
                ),
                // A cross-shard RENAME and a multi-key command from one script.
                (
                    &[
                        "EVAL",
                        "redis.call('RENAME', KEYS[1], KEYS[2]); return redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[3])",
                        "3",
                        &k[1],
                        &k[0],
                        &k[2],
                    ],
                    b":2\r\n",
                ),
                (&["GET", &k[0]], b"$1\r\nv\r\n"),
                (&["EVAL", "return redis.call('DBSIZE')", "0"], b":2\r\n"),
            ],
        );
    }
}

/// Counters on every shard moved by scripts, against readers that would see a half-run
/// script. `undeclared`: the script declares no key and finds them in ARGV, as BullMQ's do;
/// else it declares one key and reaches the others, so its first run stops, is undone and
/// runs again holding every shard.
fn scripts_are_atomic(undeclared: bool) {
    for threads in [2, 4] {
        let server = TestServer::start(threads);
        let k = spread(if undeclared { "u" } else { "d" }, threads.min(4), threads);
        let mut init = server.raw();
        for key in &k {
            check(&mut init, &["SET", key, "0"], b"+OK\r\n");
        }
        let stop = Arc::new(AtomicBool::new(false));
        let mut readers = Vec::new();
        for _ in 0..2 {
            let (stop, k) = (stop.clone(), k.clone());
            let mut c = server.raw();
            readers.push(std::thread::spawn(move || {
                let mut seen = 0;
                while !stop.load(Ordering::Relaxed) {
                    let mut args = vec!["MGET"];
                    args.extend(k.iter().map(String::as_str));
                    let values = reply_values(&c.cmd(&args));
                    assert!(
                        values.windows(2).all(|p| p[0] == p[1]),
                        "saw a partial script: {values:?}"
                    );
                    seen += 1;
                }
                seen
            }));
        }
        let script = "for i = 1, #KEYS do redis.call('INCR', KEYS[i]) end \
                      for i = 1, #ARGV do redis.call('INCR', ARGV[i]) end return 1";
        let mut w = server.raw();
        let runs = 200;
        for _ in 0..runs {
            let mut args: Vec<&str> = vec!["EVAL", script];
            if undeclared {
                args.push("0");
                args.extend(k.iter().map(String::as_str));
            } else {
                args.push("1");
                args.extend(k.iter().map(String::as_str));
            }
            assert_eq!(w.cmd(&args), b":1\r\n");
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            assert!(r.join().unwrap() > 0);
        }
        let want = format!("${}\r\n{runs}\r\n", runs.to_string().len());
        for key in &k {
            check(&mut init, &["GET", key], want.as_bytes());
        }
    }
}

#[test]
fn a_script_with_undeclared_keys_on_several_shards_is_atomic() {
    scripts_are_atomic(true);
}

#[test]
fn a_script_that_leaves_its_declared_shard_is_undone_and_rerun_atomically() {
    scripts_are_atomic(false);
}

/// A script that fails halfway keeps what it wrote before the error, as in Redis (scripts are
/// not rolled back); the undo that makes a run go wider is not a rollback of errors.
#[test]
fn a_failing_script_keeps_its_earlier_writes() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut c = server.raw();
        let k = spread("f", 2, threads);
        check(&mut c, &["SET", &k[1], "text"], b"+OK\r\n");
        let reply = c.cmd(&[
            "EVAL",
            "redis.call('SET', KEYS[1], 'written'); redis.call('INCR', ARGV[1]); return 1",
            "1",
            &k[0],
            &k[1],
        ]);
        assert!(
            reply.starts_with(b"-ERR value is not an integer or out of range script: "),
            "{}",
            String::from_utf8_lossy(&reply)
        );
        check(&mut c, &["GET", &k[0]], b"$7\r\nwritten\r\n");
    }
}

/// A script past `lua-time-limit` makes the server busy: every other connection, on its
/// thread or another, gets -BUSY, SCRIPT KILL stops the script, and the connection that ran
/// it gets the kill error and then the replies of what it had pipelined after it.
#[test]
fn a_long_script_makes_the_server_busy_until_script_kill() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        for _ in 0..4 {
            let mut r = server.raw();
            let mut rd = server.raw();
            check(
                &mut r,
                &["CONFIG", "SET", "lua-time-limit", "10"],
                b"+OK\r\n",
            );
            rd.send(
                b"*3\r\n$4\r\neval\r\n$33\r\nwhile 1 do redis.call('ping') end\r\n$1\r\n0\r\n*1\r\n$4\r\nping\r\n",
            );
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            let busy = loop {
                let reply = r.cmd(&["PING"]);
                if reply != b"+PONG\r\n" {
                    break reply;
                }
                assert!(std::time::Instant::now() < deadline, "never busy");
            };
            assert_eq!(
                busy,
                b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
            );
            check(&mut r, &["SCRIPT", "KILL"], b"+OK\r\n");
            let killed = rd.read_reply();
            assert!(
                killed.starts_with(b"-ERR Script killed by user with SCRIPT KILL... script: "),
                "{}",
                String::from_utf8_lossy(&killed)
            );
            assert_eq!(rd.read_reply(), b"+PONG\r\n");
            check(&mut r, &["PING"], b"+PONG\r\n");
            check(
                &mut r,
                &["SCRIPT", "KILL"],
                b"-NOTBUSY No scripts in execution right now.\r\n",
            );
        }
    }
}

/// The replies of a busy function's and a busy EVAL script's session, as any connection sees
/// them: FUNCTION STATS names the running function (its `duration_ms` masked), SCRIPT KILL
/// refuses to stop a function and FUNCTION KILL a script, each with Redis's `-BUSY` text.
fn busy_kill_session(addr: std::net::SocketAddr) -> Vec<Vec<u8>> {
    let conn = || rustis_tests::RawConn::connect(addr);
    let mut r = conn();
    let mut got = Vec::new();
    let wait_busy = |r: &mut rustis_tests::RawConn| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while r.cmd(&["PING"]) == b"+PONG\r\n" {
            assert!(std::time::Instant::now() < deadline, "never busy");
        }
    };
    got.push(r.cmd(&["CONFIG", "SET", "busy-reply-threshold", "10"]));
    got.push(r.cmd(&[
        "FUNCTION",
        "LOAD",
        "REPLACE",
        "#!lua name=spin\nredis.register_function('spin', function() while true do end end)",
    ]));
    let mut rd = conn();
    rd.send_cmd(&["FCALL", "spin", "0"]);
    wait_busy(&mut r);
    got.push(r.cmd(&["PING"]));
    let stats = r.cmd(&["FUNCTION", "STATS"]);
    let at = stats
        .windows(13)
        .position(|w| w == b"duration_ms\r\n")
        .map_or(stats.len(), |i| i + 13);
    let end = stats[at..]
        .windows(2)
        .position(|w| w == b"\r\n")
        .map_or(stats.len(), |i| at + i);
    got.push([&stats[..at], b":N", &stats[end..]].concat());
    got.push(r.cmd(&["SCRIPT", "KILL"]));
    got.push(r.cmd(&["FUNCTION", "KILL"]));
    got.push(rd.read_reply());
    let mut rd = conn();
    rd.send_cmd(&["EVAL", "while true do end", "0"]);
    wait_busy(&mut r);
    got.push(r.cmd(&["FUNCTION", "STATS"]));
    got.push(r.cmd(&["FUNCTION", "KILL"]));
    got.push(r.cmd(&["SCRIPT", "KILL"]));
    got.push(rd.read_reply());
    got.push(r.cmd(&["FUNCTION", "STATS"]));
    got
}

#[test]
fn function_stats_and_kills_while_a_function_or_a_script_keeps_the_server_busy() {
    let reference = busy_kill_session(rustis_tests::Reference::start().addr());
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        for _ in 0..3 {
            let got = busy_kill_session(server.addr);
            assert_eq!(
                got.iter()
                    .map(|r| rustis_tests::show(r))
                    .collect::<Vec<_>>(),
                reference
                    .iter()
                    .map(|r| rustis_tests::show(r))
                    .collect::<Vec<_>>(),
                "{threads} threads"
            );
        }
    }
}

/// While a script that has written keeps the server busy, SHUTDOWN without NOSAVE gets -BUSY
/// and SHUTDOWN NOSAVE stops the server, the thread running the script included (Redis's
/// "SHUTDOWN NOSAVE can kill a timedout script anyway").
#[test]
fn shutdown_nosave_stops_a_server_busy_in_a_script_that_wrote() {
    for threads in [1, 4] {
        let mut server = TestServer::start(threads);
        let mut r = server.raw();
        let mut rd = server.raw();
        check(
            &mut r,
            &["CONFIG", "SET", "lua-time-limit", "10"],
            b"+OK\r\n",
        );
        rd.send_cmd(&[
            "EVAL",
            "redis.call('SET', KEYS[1], 'y'); while true do end",
            "1",
            "x",
        ]);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while r.cmd(&["PING"]) == b"+PONG\r\n" {
            assert!(std::time::Instant::now() < deadline, "never busy");
        }
        check(
            &mut r,
            &["SHUTDOWN"],
            b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n",
        );
        r.send_cmd(&["SHUTDOWN", "NOSAVE"]);
        assert_eq!(r.read_to_close(), b"");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            server.stop();
            let _ = tx.send(());
        });
        assert!(
            rx.recv_timeout(std::time::Duration::from_secs(30)).is_ok(),
            "the server did not stop ({threads} threads)"
        );
    }
}

/// MONITOR shows EVAL before the commands its script calls, those as `[db lua]`, as Redis's
/// eval.c feeds them ("MONITOR can log commands issued by the scripting engine").
#[test]
fn monitor_shows_eval_then_the_scripts_commands_as_lua() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut m = server.raw();
        check(&mut m, &["MONITOR"], b"+OK\r\n");
        let mut c = server.raw();
        let k = spread("mon", 2, threads);
        check(
            &mut c,
            &[
                "EVAL",
                "redis.call('set',KEYS[1],ARGV[1]); redis.call('select', 3); return redis.call('get', KEYS[2])",
                "2",
                &k[0],
                &k[1],
                "bar",
            ],
            b"$-1\r\n",
        );
        // Each line without its time: `[db who] "arg" ...`.
        let mut line = || {
            let l = String::from_utf8_lossy(&m.read_reply()).to_string();
            l[l.find('[').expect("a monitor line")..].to_string()
        };
        let eval = line();
        assert!(
            eval.starts_with("[0 127.0.0.1:") && eval.contains("] \"EVAL\" \"redis.call('set'"),
            "{eval}"
        );
        assert_eq!(line(), format!("[0 lua] \"set\" \"{}\" \"bar\"\r\n", k[0]));
        assert_eq!(line(), "[3 lua] \"select\" \"3\"\r\n");
        assert_eq!(line(), format!("[3 lua] \"get\" \"{}\"\r\n", k[1]));
    }
}

#[test]
fn sort_of_a_set_from_a_script_is_ordered_and_cluster_is_refused() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut c = server.raw();
        check_all(
            &mut c,
            &[
                (&["SADD", "myset", "a", "b", "c", "aa", "azz"], b":5\r\n"),
                (
                    &["EVAL", "return redis.call('sort',KEYS[1],'by','_')", "1", "myset"],
                    b"*5\r\n$1\r\na\r\n$2\r\naa\r\n$3\r\nazz\r\n$1\r\nb\r\n$1\r\nc\r\n",
                ),
                (
                    &["EVAL", "return redis.call('sort',KEYS[1],'by','_','get','#','get','_:*')", "1", "myset"],
                    b"*10\r\n$1\r\na\r\n$-1\r\n$2\r\naa\r\n$-1\r\n$3\r\nazz\r\n$-1\r\n$1\r\nb\r\n$-1\r\n$1\r\nc\r\n$-1\r\n",
                ),
                (
                    &["EVAL", "return redis.pcall('xread','BLOCK',0,'STREAMS','s','$')", "0"],
                    b"-ERR xread command is not allowed with BLOCK option from scripts\r\n",
                ),
                (
                    &["CLUSTER", "INFO"],
                    b"-ERR This instance has cluster support disabled\r\n",
                ),
                (
                    &["EVAL", "redis.call('cluster','reset','hard')", "0"],
                    b"-ERR This Redis command is not allowed from script script: 928927d19bdb459d8e6371c54498afc89c32a616, on @user_script:1.\r\n",
                ),
            ],
        );
    }
}
