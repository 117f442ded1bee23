//! Bitmap commands over TCP (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP across shards, BITFIELD,
//! BITFIELD_RO), on 1 and 4 threads, against replies recorded from redis-server 7.0.15.

use rustis_tests::{show, TestServer};

#[test]
fn bitmap_commands_match_redis_reply_for_reply() {
    for threads in [1, 4] {
        let server = TestServer::start(threads);
        let mut raw = server.raw();
        for (args, want) in BITMAP_CASES {
            let got = raw.cmd(args);
            assert_eq!(show(&got), show(want), "threads={threads} command={args:?}");
        }
    }
}

#[test]
fn binary_bitmaps() {
    let server = TestServer::start(4);
    let mut raw = server.raw();
    raw.cmd_bytes(&[b"set", b"a", b"\xff\xff"]);
    assert_eq!(raw.cmd(&["bitpos", "a", "0"]), b":16\r\n");
    assert_eq!(raw.cmd(&["bitpos", "a", "0", "0", "-1"]), b":-1\r\n");
    assert_eq!(raw.cmd(&["bitcount", "a", "3", "5", "bit"]), b":3\r\n");
    raw.cmd_bytes(&[b"set", b"b", b"\x00\x0f"]);
    assert_eq!(raw.cmd(&["bitop", "xor", "c", "a", "b"]), b":2\r\n");
    assert_eq!(raw.cmd(&["get", "c"]), b"$2\r\n\xff\xf0\r\n");
    assert_eq!(raw.cmd(&["bitpos", "c", "0"]), b":12\r\n");
    assert_eq!(
        raw.cmd(&["bitfield", "c", "get", "u4", "#2"]),
        b"*1\r\n:15\r\n"
    );
}

/// Recorded from redis-server 7.0.15: each command and its exact reply bytes.
pub const BITMAP_CASES: &[(&[&str], &[u8])] = &[
    (&["flushall"], b"+OK\r\n"),
    (&["bitcount", "nokey", "0"], b":0\r\n"),
    (&["bitcount", "nokey", "0", "1", "foo"], b":0\r\n"),
    (&["set", "bs", "foobar"], b"+OK\r\n"),
    (&["bitcount", "bs"], b":26\r\n"),
    (&["bitcount", "bs", "0"], b"-ERR syntax error\r\n"),
    (&["bitcount", "bs", "0", "1", "foo"], b"-ERR syntax error\r\n"),
    (&["bitcount", "bs", "x", "1"], b"-ERR value is not an integer or out of range\r\n"),
    (&["bitcount", "bs", "0", "0"], b":4\r\n"),
    (&["bitcount", "bs", "1", "1"], b":6\r\n"),
    (&["bitcount", "bs", "1", "1", "byte"], b":6\r\n"),
    (&["bitcount", "bs", "5", "30", "bit"], b":17\r\n"),
    (&["bitcount", "bs", "-1", "-1"], b":4\r\n"),
    (&["bitcount", "bs", "-2", "-1", "bit"], b":1\r\n"),
    (&["bitcount", "bs", "3", "1"], b":0\r\n"),
    (&["bitcount", "bs", "-100", "100"], b":26\r\n"),
    (&["bitcount", "bs", "0", "-100"], b":4\r\n"),
    (&["bitcount", "bs", "0", "1", "2"], b"-ERR syntax error\r\n"),
    (&["bitpos", "nokey", "2"], b"-ERR The bit argument must be 1 or 0.\r\n"),
    (&["bitpos", "nokey", "1"], b":-1\r\n"),
    (&["bitpos", "nokey", "0"], b":0\r\n"),
    (&["bitpos", "bs", "2"], b"-ERR The bit argument must be 1 or 0.\r\n"),
    (&["bitpos", "bs", "1", "x"], b"-ERR value is not an integer or out of range\r\n"),
    (&["bitpos", "bs", "1", "0", "1", "foo"], b"-ERR syntax error\r\n"),
    (&["bitpos", "bs", "1"], b":1\r\n"),
    (&["bitpos", "bs", "0"], b":0\r\n"),
    (&["bitpos", "bs", "1", "2"], b":17\r\n"),
    (&["bitpos", "bs", "1", "2", "-1", "byte"], b":17\r\n"),
    (&["bitpos", "bs", "1", "7", "15", "bit"], b":9\r\n"),
    (&["bitpos", "bs", "0", "7", "15", "bit"], b":7\r\n"),
    (&["bitpos", "bs", "1", "100"], b":-1\r\n"),
    (&["bitpos", "bs", "1", "-1", "-2"], b":-1\r\n"),
    (&["set", "ones", "\\xff\\xff"], b"+OK\r\n"),
    (&["bitpos", "ones", "0"], b":0\r\n"),
    (&["bitpos", "ones", "0", "0"], b":0\r\n"),
    (&["bitpos", "ones", "0", "0", "-1"], b":0\r\n"),
    (&["bitpos", "ones", "0", "0", "-1", "bit"], b":0\r\n"),
    (&["bitpos", "ones", "0", "3", "5", "bit"], b":-1\r\n"),
    (&["bitpos", "ones", "1", "3", "5", "bit"], b":3\r\n"),
    (&["set", "empty", ""], b"+OK\r\n"),
    (&["bitpos", "empty", "0"], b":-1\r\n"),
    (&["bitpos", "empty", "1"], b":-1\r\n"),
    (&["bitcount", "empty"], b":0\r\n"),
    (&["setbit", "bs", "-1", "1"], b"-ERR bit offset is not an integer or out of range\r\n"),
    (&["setbit", "bs", "4294967296", "1"], b"-ERR bit offset is not an integer or out of range\r\n"),
    (&["setbit", "bs", "0", "2"], b"-ERR bit is not an integer or out of range\r\n"),
    (&["setbit", "bs", "0", "x"], b"-ERR bit is not an integer or out of range\r\n"),
    (&["getbit", "bs", "x"], b"-ERR bit offset is not an integer or out of range\r\n"),
    (&["getbit", "bs", "4294967296"], b"-ERR bit offset is not an integer or out of range\r\n"),
    (&["getbit", "bs", "4294967295"], b":0\r\n"),
    (&["getbit", "bs", "1"], b":1\r\n"),
    (&["getbit", "bs", "2"], b":1\r\n"),
    (&["setbit", "bs", "1", "0"], b":1\r\n"),
    (&["setbit", "bs", "1", "0"], b":0\r\n"),
    (&["get", "bs"], b"$6\r\n&oobar\r\n"),
    (&["setbit", "nb", "10", "1"], b":0\r\n"),
    (&["get", "nb"], b"$2\r\n\x00 \r\n"),
    (&["getbit", "nb", "10"], b":1\r\n"),
    (&["getbit", "nb", "100"], b":0\r\n"),
    (&["getbit", "nokey", "3"], b":0\r\n"),
    (&["object", "encoding", "nb"], b"$3\r\nraw\r\n"),
    (&["lpush", "l", "a"], b":1\r\n"),
    (&["setbit", "l", "1", "1"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["getbit", "l", "1"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["bitcount", "l"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["bitpos", "l", "1"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["bitfield", "bs", "get", "i65", "0"], b"-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
    (&["bitfield", "bs", "get", "u64", "0"], b"-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
    (&["bitfield", "bs", "get", "x8", "0"], b"-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
    (&["bitfield", "bs", "get", "i8", "-1"], b"-ERR bit offset is not an integer or out of range\r\n"),
    (&["bitfield", "bs", "get", "i8", "#-1"], b"-ERR bit offset is not an integer or out of range\r\n"),
    (&["bitfield", "bs", "get", "i8", "#x"], b"-ERR bit offset is not an integer or out of range\r\n"),
    (&["bitfield", "bs", "get", "i8", "#0"], b"*1\r\n:38\r\n"),
    (&["bitfield", "bs", "get", "i8", "#1"], b"*1\r\n:111\r\n"),
    (&["bitfield", "bs", "get", "u4", "#3"], b"*1\r\n:15\r\n"),
    (&["bitfield", "bs", "get", "i8", "x"], b"-ERR bit offset is not an integer or out of range\r\n"),
    (&["bitfield", "bs", "get", "i8", "4294967296"], b"-ERR bit offset is not an integer or out of range\r\n"),
    (&["bitfield", "bs", "get", "i8", "4294967295"], b"*1\r\n:0\r\n"),
    (&["bitfield", "bs", "get", "i8", "#536870912"], b"-ERR bit offset is not an integer or out of range\r\n"),
    (&["bitfield", "bs", "get", "i8", "#536870911"], b"*1\r\n:0\r\n"),
    (&["bitfield", "bs", "get", "i8", "-"], b"-ERR bit offset is not an integer or out of range\r\n"),
    (&["bitfield", "bs", "get", "i0", "0"], b"-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
    (&["bitfield", "bs", "get", "i08", "0"], b"-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
    (&["bitfield", "bs", "get", "i+8", "0"], b"-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
    (&["bitfield", "bs", "get", "I8", "0"], b"-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"),
    (&["bitfield", "bs", "get", "u8", "0", "overflow"], b"-ERR syntax error\r\n"),
    (&["bitfield", "bs", "set", "i8"], b"-ERR syntax error\r\n"),
    (&["bitfield", "bs", "incrby", "i8", "0"], b"-ERR syntax error\r\n"),
    (&["bitfield", "bs", "overflow", "foo"], b"-ERR Invalid OVERFLOW type specified\r\n"),
    (&["bitfield", "bs", "overflow", "foo", "get", "i8", "0"], b"-ERR Invalid OVERFLOW type specified\r\n"),
    (&["bitfield", "bs", "get"], b"-ERR syntax error\r\n"),
    (&["bitfield", "bs", "foo"], b"-ERR syntax error\r\n"),
    (&["bitfield", "bs"], b"*0\r\n"),
    (&["bitfield_ro", "bs", "set", "i8", "0", "1"], b"-ERR BITFIELD_RO only supports the GET subcommand\r\n"),
    (&["bitfield_ro", "bs", "incrby", "i8", "0", "1"], b"-ERR BITFIELD_RO only supports the GET subcommand\r\n"),
    (&["bitfield_ro", "bs", "overflow", "wrap", "get", "i8", "0"], b"*1\r\n:38\r\n"),
    (&["bitfield_ro", "bs", "get", "u8", "0", "get", "i16", "8", "get", "i64", "0", "get", "i1", "1"], b"*4\r\n:38\r\n:28527\r\n:2769554764188483584\r\n:0\r\n"),
    (&["bitfield", "bs", "set", "i8", "0", "x"], b"-ERR value is not an integer or out of range\r\n"),
    (&["bitfield", "nokey", "get", "i8", "0", "overflow", "fail", "incrby", "u2", "100", "5", "get", "u2", "100"], b"*3\r\n:0\r\n$-1\r\n:0\r\n"),
    (&["exists", "nokey"], b":1\r\n"),
    (&["strlen", "nokey"], b":13\r\n"),
    (&["bitfield", "bf", "set", "u8", "0", "255", "get", "u8", "0", "incrby", "u8", "0", "1", "overflow", "sat", "incrby", "u8", "0", "-1", "incrby", "u8", "0", "-300", "overflow", "fail", "incrby", "u8", "0", "-1"], b"*6\r\n:0\r\n:255\r\n:0\r\n:0\r\n:0\r\n$-1\r\n"),
    (&["bitfield", "bf", "set", "i8", "0", "127", "incrby", "i8", "0", "1", "overflow", "sat", "incrby", "i8", "0", "100", "set", "i8", "0", "-200", "overflow", "fail", "set", "i8", "0", "128", "get", "i8", "0"], b"*6\r\n:0\r\n:-128\r\n:-28\r\n:-28\r\n$-1\r\n:-128\r\n"),
    (&["bitfield", "bf", "set", "u8", "0", "-1", "overflow", "sat", "set", "u8", "0", "-1", "set", "u4", "4", "100"], b"*3\r\n:128\r\n:255\r\n:15\r\n"),
    (&["bitfield", "bf", "set", "i64", "0", "-1", "incrby", "i64", "0", "1", "incrby", "i64", "0", "9223372036854775807", "incrby", "i64", "0", "1", "overflow", "sat", "incrby", "i64", "0", "9223372036854775807", "incrby", "i64", "0", "-9223372036854775808"], b"*6\r\n:-72057594037927936\r\n:0\r\n:9223372036854775807\r\n:-9223372036854775808\r\n:-1\r\n:-9223372036854775808\r\n"),
    (&["bitfield", "bf", "set", "u63", "0", "-1", "get", "u63", "0", "incrby", "u63", "1", "5"], b"*3\r\n:4611686018427387904\r\n:9223372036854775807\r\n:3\r\n"),
    (&["bitfield", "bf2", "overflow", "fail", "incrby", "u2", "0", "5"], b"*1\r\n$-1\r\n"),
    (&["get", "bf2"], b"$1\r\n\x00\r\n"),
    (&["bitfield", "l", "get", "i8", "0"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["bitfield_ro", "nokey", "get", "i8", "0"], b"*1\r\n:0\r\n"),
    (&["set", "a1", "\\x0f\\xf0"], b"+OK\r\n"),
    (&["set", "a2", "\\xff"], b"+OK\r\n"),
    (&["bitop", "and", "d", "a1", "a2"], b":8\r\n"),
    (&["get", "d"], b"$8\r\n\\x f\x00\x00\x00\x00\r\n"),
    (&["bitop", "or", "d", "a1", "a2", "nokey"], b":13\r\n"),
    (&["get", "d"], b"$13\r\n\\xvf\\xf0\x00\x00\x00\x00\x00\r\n"),
    (&["bitop", "xor", "d", "a1", "a2"], b":8\r\n"),
    (&["get", "d"], b"$8\r\n\x00\x00V\x00\\xf0\r\n"),
    (&["bitop", "not", "d", "a1"], b":8\r\n"),
    (&["get", "d"], b"$8\r\n\xa3\x87\xcf\x99\xa3\x87\x99\xcf\r\n"),
    (&["bitop", "foo", "d", "a1"], b"-ERR syntax error\r\n"),
    (&["bitop", "not", "d", "a1", "a2"], b"-ERR BITOP NOT must be called with a single source key.\r\n"),
    (&["bitop", "and", "d", "nokey1", "nokey2"], b":0\r\n"),
    (&["exists", "d"], b":0\r\n"),
    (&["bitop", "and", "d", "a1", "l"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (&["set", "d", "x", "ex", "100"], b"+OK\r\n"),
    (&["bitop", "or", "d", "a1"], b":8\r\n"),
    (&["ttl", "d"], b":-1\r\n"),
];
