//! The core server over TCP: protocol edges, the first commands, connection commands, each
//! reply compared byte for byte with what redis-server 7.0.15 sends. Every case runs on one
//! thread and on four, so that cross-shard paths are exercised too.

use std::io::Write;
use std::net::TcpStream;

use rustis_tests::{check, check_all, each, encode, TestServer};

#[test]
fn first_commands_reply_like_redis() {
    each(|s| {
        let mut c = s.raw();
        let cases: &[(&[&str], &[u8])] = &[
            (&["PING"], b"+PONG\r\n"),
            (&["ping", "hi"], b"$2\r\nhi\r\n"),
            (
                &["ping", "a", "b"],
                b"-ERR wrong number of arguments for 'ping' command\r\n",
            ),
            (&["ECHO", "x y"], b"$3\r\nx y\r\n"),
            (
                &["echo"],
                b"-ERR wrong number of arguments for 'echo' command\r\n",
            ),
            (&["GET", "nokey"], b"$-1\r\n"),
            (
                &["get"],
                b"-ERR wrong number of arguments for 'get' command\r\n",
            ),
            (&["SET", "k", "v"], b"+OK\r\n"),
            (&["GET", "k"], b"$1\r\nv\r\n"),
            (&["SET", "n", "123"], b"+OK\r\n"),
            (&["GET", "n"], b"$3\r\n123\r\n"),
            (
                &["SET", "k", "v", "EX", "0"],
                b"-ERR invalid expire time in 'set' command\r\n",
            ),
            (
                &["SET", "k", "v", "px", "-1"],
                b"-ERR invalid expire time in 'set' command\r\n",
            ),
            (
                &["SET", "k", "v", "ex", "9223372036854775807"],
                b"-ERR invalid expire time in 'set' command\r\n",
            ),
            (
                &["SET", "k", "v", "keepttl", "ex", "1"],
                b"-ERR syntax error\r\n",
            ),
            (&["SET", "k", "v", "NX"], b"$-1\r\n"),
            (&["SET", "k", "w", "XX", "GET"], b"$1\r\nv\r\n"),
            (&["SET", "newkey", "v", "GET"], b"$-1\r\n"),
            (&["RPUSH", "l", "a", "b", "c"], b":3\r\n"),
            (
                &["SET", "l", "v", "GET"],
                b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            ),
            (
                &["GET", "l"],
                b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            ),
            (&["LPUSH", "l", "z"], b":4\r\n"),
            (
                &["LRANGE", "l", "0", "-1"],
                b"*4\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
            ),
            (
                &["LRANGE", "l", "-100", "1"],
                b"*2\r\n$1\r\nz\r\n$1\r\na\r\n",
            ),
            (&["LRANGE", "l", "5", "10"], b"*0\r\n"),
            (
                &["LRANGE", "l", "a", "b"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (&["LRANGE", "nolist", "0", "-1"], b"*0\r\n"),
            (&["LPOP", "l"], b"$1\r\nz\r\n"),
            (&["RPOP", "l", "2"], b"*2\r\n$1\r\nc\r\n$1\r\nb\r\n"),
            (&["LPOP", "l", "0"], b"*0\r\n"),
            (
                &["LPOP", "l", "-1"],
                b"-ERR value is out of range, must be positive\r\n",
            ),
            (
                &["LPOP", "l", "x"],
                b"-ERR value is out of range, must be positive\r\n",
            ),
            (
                &["LPOP", "l", "1", "2"],
                b"-ERR wrong number of arguments for 'lpop' command\r\n",
            ),
            (&["LPOP", "nolist", "2"], b"*-1\r\n"),
            (&["LPOP", "nolist"], b"$-1\r\n"),
            (&["RPOP", "l"], b"$1\r\na\r\n"),
            (&["EXISTS", "l"], b":0\r\n"),
            (&["SADD", "s", "a", "b", "a"], b":2\r\n"),
            (
                &["SADD", "k", "a"],
                b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            ),
            (&["SPOP", "nos"], b"$-1\r\n"),
            (&["SPOP", "nos", "2"], b"*0\r\n"),
            (
                &["SPOP", "s", "-1"],
                b"-ERR value is out of range, must be positive\r\n",
            ),
            (&["SPOP", "s", "0"], b"*0\r\n"),
            (&["SPOP", "s", "1", "2"], b"-ERR syntax error\r\n"),
            (&["SMEMBERS", "nos"], b"*0\r\n"),
            (&["TYPE", "s"], b"+set\r\n"),
            (&["TYPE", "k"], b"+string\r\n"),
            (&["TYPE", "nokey"], b"+none\r\n"),
            (
                &["MSET", "a"],
                b"-ERR wrong number of arguments for 'mset' command\r\n",
            ),
            (
                &["MSET", "a", "b", "c"],
                b"-ERR wrong number of arguments for 'mset' command\r\n",
            ),
            (&["FLUSHDB", "x"], b"-ERR syntax error\r\n"),
            (
                &["DEL"],
                b"-ERR wrong number of arguments for 'del' command\r\n",
            ),
            (&["SELECT", "16"], b"-ERR DB index is out of range\r\n"),
            (
                &["SELECT", "x"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                &["NOSUCH", "a", "b"],
                b"-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n",
            ),
            (
                &["NOSUCH"],
                b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n",
            ),
        ];
        for (args, want) in cases {
            check(&mut c, args, want);
        }
        let two = c.cmd(&["SPOP", "s", "5"]);
        assert!(
            two.starts_with(b"*2\r\n"),
            "{:?}",
            String::from_utf8_lossy(&two)
        );
        check(&mut c, &["EXISTS", "s"], b":0\r\n");
    });
}

#[test]
fn multi_key_commands_span_shards() {
    each(|s| {
        let mut c = s.raw();
        check(
            &mut c,
            &["MSET", "a", "1", "b", "2", "c", "3", "d", "4"],
            b"+OK\r\n",
        );
        check(
            &mut c,
            &["MGET", "a", "b", "nokey", "c", "d", "a"],
            b"*6\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n1\r\n",
        );
        check(&mut c, &["RPUSH", "list", "x"], b":1\r\n");
        check(&mut c, &["MGET", "list", "a"], b"*2\r\n$-1\r\n$1\r\n1\r\n");
        check(&mut c, &["EXISTS", "a", "a", "zz", "b"], b":3\r\n");
        check(&mut c, &["DBSIZE"], b":5\r\n");
        check(&mut c, &["DEL", "a", "b", "zz", "a"], b":2\r\n");
        check(&mut c, &["DBSIZE"], b":3\r\n");
        check(&mut c, &["FLUSHDB"], b"+OK\r\n");
        check(&mut c, &["DBSIZE"], b":0\r\n");
    });
}

#[test]
fn databases_are_separate_and_flushall_clears_them_all() {
    each(|s| {
        let mut c = s.raw();
        check(&mut c, &["SET", "k", "zero"], b"+OK\r\n");
        check(&mut c, &["SELECT", "3"], b"+OK\r\n");
        check(&mut c, &["GET", "k"], b"$-1\r\n");
        check(&mut c, &["MSET", "k", "three", "other", "x"], b"+OK\r\n");
        check(&mut c, &["DBSIZE"], b":2\r\n");
        check(&mut c, &["SELECT", "0"], b"+OK\r\n");
        check(&mut c, &["GET", "k"], b"$4\r\nzero\r\n");
        let info = c.cmd(&["INFO", "keyspace"]);
        let text = String::from_utf8_lossy(&info);
        assert!(text.contains("db0:keys=1,expires=0"), "{text}");
        assert!(text.contains("db3:keys=2,expires=0"), "{text}");
        check(&mut c, &["FLUSHALL"], b"+OK\r\n");
        check(&mut c, &["SELECT", "3"], b"+OK\r\n");
        check(&mut c, &["DBSIZE"], b":0\r\n");
    });
}

#[test]
fn ten_thousand_pipelined_commands_reply_in_order() {
    each(|s| {
        let mut c = s.raw();
        let mut wire = Vec::new();
        for i in 0..5000 {
            let k = format!("key:{i}");
            let v = format!("v{i}");
            wire.extend(encode(&[b"SET", k.as_bytes(), v.as_bytes()]));
            wire.extend(encode(&[b"GET", k.as_bytes()]));
        }
        c.send(&wire);
        for i in 0..5000 {
            assert_eq!(c.read_reply(), b"+OK\r\n");
            let v = format!("v{i}");
            assert_eq!(
                c.read_reply(),
                format!("${}\r\n{v}\r\n", v.len()).into_bytes()
            );
        }
        check(&mut c, &["DBSIZE"], b":5000\r\n");
    });
}

#[test]
fn pipelines_mixing_local_remote_and_barrier_commands_keep_order() {
    each(|s| {
        let mut c = s.raw();
        let mut wire = Vec::new();
        wire.extend(encode(&[b"SET", b"a", b"1"]));
        wire.extend(encode(&[b"PING"]));
        wire.extend(encode(&[b"SET", b"b", b"2"]));
        wire.extend(encode(&[b"DBSIZE"]));
        wire.extend(encode(&[b"MGET", b"a", b"b"]));
        wire.extend(encode(&[b"SELECT", b"1"]));
        wire.extend(encode(&[b"GET", b"a"]));
        wire.extend(encode(&[b"SELECT", b"0"]));
        wire.extend(encode(&[b"GET", b"b"]));
        wire.extend(encode(&[b"NOPE"]));
        wire.extend(encode(&[b"DEL", b"a", b"b"]));
        c.send(&wire);
        let want: &[&[u8]] = &[
            b"+OK\r\n",
            b"+PONG\r\n",
            b"+OK\r\n",
            b":2\r\n",
            b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n",
            b"+OK\r\n",
            b"$-1\r\n",
            b"+OK\r\n",
            b"$1\r\n2\r\n",
            b"-ERR unknown command 'NOPE', with args beginning with: \r\n",
            b":2\r\n",
        ];
        for w in want {
            assert_eq!(
                String::from_utf8_lossy(&c.read_reply()),
                String::from_utf8_lossy(w)
            );
        }
    });
}

#[test]
fn frames_split_at_every_byte_boundary() {
    each(|s| {
        let mut c = s.raw();
        let mut wire = encode(&[b"SET", b"split", b"hello world"]);
        wire.extend(encode(&[b"GET", b"split"]));
        for cut in 1..wire.len() {
            c.send(&wire[..cut]);
            c.send(&wire[cut..]);
            assert_eq!(c.read_reply(), b"+OK\r\n", "cut {cut}");
            assert_eq!(c.read_reply(), b"$11\r\nhello world\r\n", "cut {cut}");
        }
    });
}

#[test]
fn large_bulk_arrives_in_pieces() {
    each(|s| {
        let mut c = s.raw();
        let value = vec![b'x'; 3 * 1024 * 1024 + 7];
        let wire = encode(&[b"SET", b"big", &value]);
        for chunk in wire.chunks(64 * 1024) {
            c.send(chunk);
        }
        assert_eq!(c.read_reply(), b"+OK\r\n");
        let got = c.cmd(&["GET", "big"]);
        assert_eq!(
            got.len(),
            value.len() + format!("${}\r\n\r\n", value.len()).len()
        );
        assert!(got.starts_with(format!("${}\r\n", value.len()).as_bytes()));
    });
}

#[test]
fn inline_commands_are_split_like_redis_cli() {
    each(|s| {
        let mut c = s.raw();
        c.send(b"SET a \"b c\"\r\nGET a\r\n\r\n   \r\nECHO \"a\\x41\\n\"\nset 'it\\'s' x\r\nget \"it's\"\r\n");
        assert_eq!(c.read_reply(), b"+OK\r\n");
        assert_eq!(c.read_reply(), b"$3\r\nb c\r\n");
        assert_eq!(c.read_reply(), b"$3\r\naA\n\r\n");
        assert_eq!(c.read_reply(), b"+OK\r\n");
        assert_eq!(c.read_reply(), b"$1\r\nx\r\n");
    });
}

#[test]
fn protocol_errors_close_only_that_connection() {
    let cases: &[(&[u8], &[u8])] = &[
        (
            b"*1\r\n$4\r\nPING\r\n*x\r\n",
            b"+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1048577\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"set a \"b\r\n",
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            b"*1\r\n:1\r\n",
            b"-ERR Protocol error: expected '$', got ':'\r\n",
        ),
        (
            b"*1\r\n$600000000\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$-5\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$abc\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
    ];
    each(|s| {
        let mut bystander = s.raw();
        check(&mut bystander, &["SET", "keep", "me"], b"+OK\r\n");
        for (input, want) in cases {
            let mut c = s.raw();
            c.send(input);
            assert_eq!(
                String::from_utf8_lossy(&c.read_to_close()),
                String::from_utf8_lossy(want)
            );
            check(&mut bystander, &["GET", "keep"], b"$2\r\nme\r\n");
        }
        let mut c = s.raw();
        c.send(&vec![b'a'; 70 * 1024]);
        assert_eq!(
            c.read_to_close(),
            b"-ERR Protocol error: too big inline request\r\n"
        );
    });
}

#[test]
fn a_client_leaving_mid_pipeline_disturbs_no_one() {
    each(|s| {
        let mut other = s.raw();
        {
            let mut stream = TcpStream::connect(s.addr).unwrap();
            let mut wire = Vec::new();
            for i in 0..2000 {
                wire.extend(encode(&[b"SET", format!("gone{i}").as_bytes(), b"v"]));
            }
            wire.extend(b"*3\r\n$3\r\nSET\r\n$4\r\nhalf");
            stream.write_all(&wire).unwrap();
        }
        check(&mut other, &["PING"], b"+PONG\r\n");
        check(&mut other, &["SET", "x", "1"], b"+OK\r\n");
        check(&mut other, &["GET", "x"], b"$1\r\n1\r\n");
    });
}

#[test]
fn hello_switches_protocols() {
    each(|s| {
        let mut c = s.raw();
        check(
            &mut c,
            &["HELLO", "4"],
            b"-NOPROTO unsupported protocol version\r\n",
        );
        check(
            &mut c,
            &["HELLO", "x"],
            b"-ERR Protocol version is not an integer or out of range\r\n",
        );
        check(
            &mut c,
            &["HELLO", "3", "foo"],
            b"-ERR Syntax error in HELLO option 'foo'\r\n",
        );
        check(
            &mut c,
            &["HELLO", "2", "SETNAME", "a b"],
            b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
        );
        let hello = c.cmd(&["HELLO", "3", "AUTH", "default", "pw", "SETNAME", "me"]);
        let text = String::from_utf8_lossy(&hello);
        assert!(
            text.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:"),
            "{text}"
        );
        assert!(
            text.ends_with("$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"),
            "{text}"
        );
        check(&mut c, &["GET", "nokey"], b"_\r\n");
        check(&mut c, &["SPOP", "nos", "2"], b"~0\r\n");
        check(&mut c, &["LPOP", "nol", "2"], b"_\r\n");
        check(
            &mut c,
            &["CONFIG", "GET", "hz"],
            b"%1\r\n$2\r\nhz\r\n$2\r\n10\r\n",
        );
        check(&mut c, &["CLIENT", "GETNAME"], b"$2\r\nme\r\n");
        let hello2 = c.cmd(&["HELLO", "2"]);
        assert!(
            hello2.starts_with(b"*14\r\n$6\r\nserver\r\n"),
            "{:?}",
            String::from_utf8_lossy(&hello2)
        );
        check(&mut c, &["GET", "nokey"], b"$-1\r\n");
    });
}

#[test]
fn client_and_config_commands() {
    each(|s| {
        let mut c = s.raw();
        check(&mut c, &["CLIENT", "GETNAME"], b"$-1\r\n");
        check(
            &mut c,
            &["CLIENT", "SETNAME", "a b"],
            b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
        );
        check(&mut c, &["CLIENT", "SETNAME", "worker-1"], b"+OK\r\n");
        check(&mut c, &["CLIENT", "GETNAME"], b"$8\r\nworker-1\r\n");
        check(
            &mut c,
            &["CLIENT", "SETNAME"],
            b"-ERR wrong number of arguments for 'client|setname' command\r\n",
        );
        check(
            &mut c,
            &["CLIENT", "FOO"],
            b"-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n",
        );
        check(
            &mut c,
            &["CLIENT", "SETINFO", "lib-name", "redis-py"],
            b"+OK\r\n",
        );
        let id = c.cmd(&["CLIENT", "ID"]);
        let id = String::from_utf8_lossy(&id[1..id.len() - 2]).to_string();
        let mut other = s.raw();
        check(&mut other, &["CLIENT", "SETNAME", "other"], b"+OK\r\n");
        let list = String::from_utf8_lossy(&c.cmd(&["CLIENT", "LIST"])).to_string();
        assert!(list.contains(&format!("id={id} ")), "{list}");
        assert!(list.contains("name=worker-1 "), "{list}");
        assert!(list.contains("name=other "), "{list}");
        assert!(list.contains("lib-name=redis-py"), "{list}");
        let info = String::from_utf8_lossy(&c.cmd(&["CLIENT", "INFO"])).to_string();
        assert!(
            info.contains("name=worker-1 ") && !info.contains("name=other"),
            "{info}"
        );
        // CLIENT KILL by id closes that connection, wherever its thread is.
        let other_id = other.cmd(&["CLIENT", "ID"]);
        let other_id = String::from_utf8_lossy(&other_id[1..other_id.len() - 2]).to_string();
        check(&mut c, &["CLIENT", "KILL", "ID", &other_id], b":1\r\n");
        assert_eq!(other.read_to_close(), b"");
        check(&mut c, &["CLIENT", "KILL", "ID", "999999"], b":0\r\n");
        // TYPE pubsub kills the subscribed clients only, on whichever thread they are; the
        // filters Redis 7.0 does not have, or bad values, get its errors.
        let mut sub = s.raw();
        let mut plain = s.raw();
        sub.send_cmd(&["SUBSCRIBE", "ch"]);
        sub.read_reply();
        check(&mut c, &["CLIENT", "KILL", "TYPE", "master"], b":0\r\n");
        check(&mut c, &["CLIENT", "KILL", "TYPE", "PUBSUB"], b":1\r\n");
        assert_eq!(sub.read_to_close(), b"");
        check(&mut plain, &["PING"], b"+PONG\r\n");
        check_all(
            &mut c,
            &[
                (
                    &["CLIENT", "KILL", "TYPE", "wrong_type"],
                    b"-ERR Unknown client type 'wrong_type'\r\n",
                ),
                (
                    &["CLIENT", "KILL", "USER", "nosuch"],
                    b"-ERR No such user 'nosuch'\r\n",
                ),
                (
                    &["CLIENT", "KILL", "MAXAGE", "10"],
                    b"-ERR syntax error\r\n",
                ),
                (
                    &["CLIENT", "KILL", "ID", "abc"],
                    b"-ERR client-id should be greater than 0\r\n",
                ),
                (&["CLIENT", "KILL", "TYPE"], b"-ERR No such client\r\n"),
            ],
        );
        // SKIPME NO kills the caller too: it gets the count, then its connection closes.
        let mut me = s.raw();
        let my_id = me.cmd(&["CLIENT", "ID"]);
        let my_id = String::from_utf8_lossy(&my_id[1..my_id.len() - 2]).to_string();
        check(&mut me, &["CLIENT", "KILL", "ID", &my_id], b":0\r\n");
        me.send_cmd(&["CLIENT", "KILL", "ID", &my_id, "SKIPME", "NO"]);
        assert_eq!(me.read_to_close(), b":1\r\n");
        check(&mut plain, &["PING"], b"+PONG\r\n");

        check(
            &mut c,
            &["CONFIG", "GET"],
            b"-ERR wrong number of arguments for 'config|get' command\r\n",
        );
        check(
            &mut c,
            &["CONFIG", "FOO"],
            b"-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n",
        );
        check(
            &mut c,
            &["CONFIG", "SET", "hz", "x"],
            b"-ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer\r\n",
        );
        check(
            &mut c,
            &["CONFIG", "SET", "foo", "1"],
            b"-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n",
        );
        check(
            &mut c,
            &["CONFIG", "SET", "loglevel", "WARNING", "hz", "20"],
            b"+OK\r\n",
        );
        check(
            &mut c,
            &["CONFIG", "GET", "loglevel", "hz"],
            b"*4\r\n$8\r\nloglevel\r\n$7\r\nwarning\r\n$2\r\nhz\r\n$2\r\n20\r\n",
        );
        check(&mut c, &["CONFIG", "GET", "nosuch*"], b"*0\r\n");
        check(&mut c, &["QUIT"], b"+OK\r\n");
        assert_eq!(c.read_to_close(), b"");
    });
}

#[test]
fn command_and_info_describe_the_server() {
    each(|s| {
        let mut c = s.raw();
        let count = String::from_utf8_lossy(&c.cmd(&["COMMAND", "COUNT"])).to_string();
        let n: usize = count.trim_start_matches(':').trim().parse().unwrap();
        assert!(n >= 25, "{count}");
        let info = c.cmd(&["COMMAND", "INFO", "get", "nosuch"]);
        assert!(
            info.starts_with(
                b"*2\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n"
            ),
            "{:?}",
            String::from_utf8_lossy(&info)
        );
        assert!(info.ends_with(b"$-1\r\n"));
        check(
            &mut c,
            &["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"],
            b"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        );
        let docs = String::from_utf8_lossy(&c.cmd(&["COMMAND", "DOCS", "set"])).to_string();
        assert!(
            docs.starts_with("*2\r\n$3\r\nset\r\n*12\r\n$7\r\nsummary\r\n"),
            "{docs}"
        );
        let info = String::from_utf8_lossy(&c.cmd(&["INFO"])).to_string();
        for field in [
            "redis_version:7.0.15",
            "rustis_version:",
            "arch_bits:64",
            "connected_clients:",
            "used_memory:",
            "total_commands_processed:",
            "cluster_enabled:0",
            "# Keyspace",
        ] {
            assert!(info.contains(field), "INFO lacks {field}: {info}");
        }
        let server = String::from_utf8_lossy(&c.cmd(&["INFO", "server"])).to_string();
        assert!(!server.contains("# Clients"), "{server}");
    });
}

#[test]
fn shutdown_stops_the_server() {
    let mut s = TestServer::start(2);
    let mut c = s.raw();
    check(&mut c, &["SHUTDOWN", "BOGUS"], b"-ERR syntax error\r\n");
    check(
        &mut c,
        &["SHUTDOWN", "ABORT"],
        b"-ERR No shutdown in progress.\r\n",
    );
    c.send(&encode(&[b"SHUTDOWN", b"NOSAVE"]));
    assert_eq!(c.read_to_close(), b"");
    s.stop();
    assert!(TcpStream::connect(s.addr).is_err());
}

#[test]
fn many_idle_connections_are_held() {
    let s = TestServer::start(2);
    let conns: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(s.addr).unwrap())
        .collect();
    let mut c = s.raw();
    // The kernel completes connections before the server accepts them: poll until all are in.
    let mut seen = 0;
    for _ in 0..2000 {
        let list = String::from_utf8_lossy(&c.cmd(&["CLIENT", "LIST"])).to_string();
        seen = list.matches(" addr=").count();
        if seen == 1001 {
            break;
        }
        std::thread::yield_now();
    }
    assert_eq!(seen, 1001);
    check(&mut c, &["PING"], b"+PONG\r\n");
    drop(conns);
}

#[test]
fn a_connection_keeps_its_state_when_it_moves_to_its_keys_thread() {
    // With four threads, a connection that keeps using one key soon moves to the thread that
    // owns it; nothing about the connection may change when it does.
    let s = TestServer::start(4);
    let mut c = s.raw();
    let id = c.cmd(&["CLIENT", "ID"]);
    check(&mut c, &["CLIENT", "SETNAME", "mover"], b"+OK\r\n");
    check(&mut c, &["SELECT", "2"], b"+OK\r\n");
    assert!(c.cmd(&["HELLO", "3"]).starts_with(b"%7\r\n"));
    for key in ["a", "b", "c", "d", "e", "f"] {
        check(&mut c, &["SET", key, "v"], b"+OK\r\n");
        for _ in 0..40 {
            check(&mut c, &["GET", key], b"$1\r\nv\r\n");
        }
        check(&mut c, &["GET", "missing"], b"_\r\n");
        assert_eq!(c.cmd(&["CLIENT", "ID"]), id);
        let info = String::from_utf8_lossy(&c.cmd(&["CLIENT", "INFO"])).to_string();
        assert!(
            info.contains("name=mover ") && info.contains(" db=2 ") && info.contains(" resp=3"),
            "{info}"
        );
        let list = String::from_utf8_lossy(&c.cmd(&["CLIENT", "LIST"])).to_string();
        assert_eq!(list.matches(" addr=").count(), 1, "{list}");
    }
    check(&mut c, &["DBSIZE"], b":6\r\n");
}

#[test]
fn command_info_lists_acl_categories_in_redis_order() {
    // Recorded from redis-server 7.0.15.
    let s = TestServer::start(1);
    let mut c = s.raw();
    for (cmd, cats) in [
        ("get", "*3\r\n+@read\r\n+@string\r\n+@fast\r\n"),
        ("set", "*3\r\n+@write\r\n+@string\r\n+@slow\r\n"),
        ("zadd", "*3\r\n+@write\r\n+@sortedset\r\n+@fast\r\n"),
        (
            "blpop",
            "*4\r\n+@write\r\n+@list\r\n+@slow\r\n+@blocking\r\n",
        ),
        ("dbsize", "*3\r\n+@keyspace\r\n+@read\r\n+@fast\r\n"),
        ("ping", "*2\r\n+@fast\r\n+@connection\r\n"),
    ] {
        let info = String::from_utf8_lossy(&c.cmd(&["COMMAND", "INFO", cmd])).to_string();
        assert!(info.contains(cats), "{cmd}: {info}");
    }
}

/// A long pipeline of single-key commands over keys of every shard, a command whose key is not
/// its first argument, and SELECTs: each key sees its commands in order, SELECT applies to
/// what follows it, and replies come back in request order.
#[test]
fn long_mixed_pipelines_keep_per_key_order_and_reply_order() {
    each(|s| {
        let mut c = s.raw();
        let mut wire = Vec::new();
        let mut want: Vec<Vec<u8>> = Vec::new();
        for i in 0..24 {
            let k = format!("k{i}");
            wire.extend(encode(&[b"SET", k.as_bytes(), i.to_string().as_bytes()]));
            want.push(b"+OK\r\n".to_vec());
            wire.extend(encode(&[b"INCR", k.as_bytes()]));
            want.push(format!(":{}\r\n", i + 1).into_bytes());
            wire.extend(encode(&[b"APPEND", k.as_bytes(), b"x"]));
            want.push(format!(":{}\r\n", (i + 1).to_string().len() + 1).into_bytes());
        }
        // Its key is its third argument.
        wire.extend(encode(&[b"OBJECT", b"ENCODING", b"k3"]));
        want.push(b"$3\r\nraw\r\n".to_vec());
        wire.extend(encode(&[b"GET", b"k3"]));
        want.push(b"$2\r\n4x\r\n".to_vec());
        wire.extend(encode(&[b"SELECT", b"1"]));
        want.push(b"+OK\r\n".to_vec());
        for i in 0..24 {
            wire.extend(encode(&[b"GET", format!("k{i}").as_bytes()]));
            want.push(b"$-1\r\n".to_vec());
        }
        wire.extend(encode(&[b"SELECT", b"0"]));
        want.push(b"+OK\r\n".to_vec());
        for i in 0..24 {
            wire.extend(encode(&[b"GET", format!("k{i}").as_bytes()]));
            let v = format!("{}x", i + 1);
            want.push(format!("${}\r\n{v}\r\n", v.len()).into_bytes());
        }
        c.send(&wire);
        for (n, w) in want.iter().enumerate() {
            assert_eq!(
                String::from_utf8_lossy(&c.read_reply()),
                String::from_utf8_lossy(w),
                "reply {n}"
            );
        }
    });
}

/// A connection whose commands all go to one other shard moves to that shard's thread (after
/// 32 such commands); its session goes with it: the database, the name, the protocol, the id,
/// and nothing of a pipeline is lost or reordered on the way.
#[test]
fn connections_keep_their_session_when_they_move_to_their_keys_thread() {
    let server = TestServer::start(4);
    for i in 0..8 {
        let mut c = server.raw();
        let id = c.cmd(&["CLIENT", "ID"]);
        assert_eq!(c.cmd(&["HELLO", "3"])[..1], *b"%");
        check(&mut c, &["SELECT", "2"], b"+OK\r\n");
        let name = format!("conn{i}");
        check(&mut c, &["CLIENT", "SETNAME", &name], b"+OK\r\n");
        let key = format!("counter{i}");
        // One by one, then pipelined: either way well past the move.
        for n in 1..=40 {
            check(&mut c, &["INCR", &key], format!(":{n}\r\n").as_bytes());
        }
        let mut wire = Vec::new();
        for _ in 0..100 {
            wire.extend(encode(&[b"INCR", key.as_bytes()]));
        }
        c.send(&wire);
        for n in 41..=140 {
            assert_eq!(c.read_reply(), format!(":{n}\r\n").into_bytes());
        }
        assert_eq!(c.cmd(&["CLIENT", "ID"]), id);
        check(
            &mut c,
            &["CLIENT", "GETNAME"],
            format!("${}\r\n{name}\r\n", name.len()).as_bytes(),
        );
        // RESP3 still: a missing key is `_`, and database 2 is still selected.
        check(&mut c, &["GET", "nothing"], b"_\r\n");
        check(&mut c, &["GET", &key], b"$3\r\n140\r\n");
        check(&mut c, &["SELECT", "0"], b"+OK\r\n");
        check(&mut c, &["GET", &key], b"_\r\n");
    }
}
