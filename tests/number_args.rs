//! Number arguments over TCP, on 1 and 4 threads, against replies recorded from redis-server
//! 7.0.15: each of Redis's number-reading rules (`string2d` scores and weights, score-range
//! bounds, `string2ld` increments and timeouts, `strtoul` cursors, SORT's `strtod` check) at
//! its edges: embedded NULs, leading spaces, signs, hex floats, subnormals, out-of-range values.

use rustis_tests::{run_cases, THREADS};

const CASES: &[(&[&str], &[u8])] = &[
    // string2d: the whole argument, no leading space; an exact subnormal is fine.
    (&["zadd", "z", "0x1p-1070", "m"], b":1\r\n"),
    (&["zscore", "z", "m"], b"$23\r\n7.9050503334599447e-323\r\n"),
    (
        &["zadd", "z", "7\0", "m"],
        b"-ERR value is not a valid float\r\n",
    ),
    (
        &["zadd", "z", " 1", "m"],
        b"-ERR value is not a valid float\r\n",
    ),
    (
        &["zadd", "z", "1e400", "m"],
        b"-ERR value is not a valid float\r\n",
    ),
    (&["zadd", "z", "0x10", "n"], b":1\r\n"),
    (
        &["zunionstore", "u", "1", "z", "weights", "0x1p-1080"],
        b"-ERR weight value is not a float\r\n",
    ),
    (&["zunionstore", "u", "1", "z", "weights", "2"], b":2\r\n"),
    // Range bounds: strtod up to a NUL, leading space allowed, overflow allowed, empty is 0.
    (&["zcount", "z", "(1\0junk", "+inf"], b":1\r\n"),
    (&["zcount", "z", " 1", "1e400"], b":1\r\n"),
    (
        &["zcount", "z", "nan", "1"],
        b"-ERR min or max is not a float\r\n",
    ),
    (&["zcount", "z", "", "20"], b":2\r\n"),
    // string2ld: the whole argument, no NUL, no leading space, in long double range.
    (
        &["incrbyfloat", "f", "7\0"],
        b"-ERR value is not a valid float\r\n",
    ),
    (
        &["incrbyfloat", "f", "1e5000"],
        b"-ERR value is not a valid float\r\n",
    ),
    (&["incrbyfloat", "f", "0x1p3"], b"$1\r\n8\r\n"),
    (
        &["hincrbyfloat", "h", "f", " 1"],
        b"-ERR value is not a valid float\r\n",
    ),
    (&["hincrbyfloat", "h", "f", "1.5"], b"$3\r\n1.5\r\n"),
    // strtoul cursors: one sign, digits up to a NUL, nothing around them; empty is 0.
    (&["hscan", "h", "++0"], b"-ERR invalid cursor\r\n"),
    (&["hscan", "h", "-+0"], b"-ERR invalid cursor\r\n"),
    (
        &["hscan", "h", "0\0junk"],
        b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\nf\r\n$3\r\n1.5\r\n",
    ),
    (
        &["hscan", "h", ""],
        b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\nf\r\n$3\r\n1.5\r\n",
    ),
    (&["sscan", "s", " 0"], b"-ERR invalid cursor\r\n"),
    (
        &["zscan", "z", "18446744073709551616"],
        b"-ERR invalid cursor\r\n",
    ),
    (&["scan", "+"], b"-ERR invalid cursor\r\n"),
    (&["scan", "0 "], b"-ERR invalid cursor\r\n"),
    // SORT: strtod with leading space allowed; any range error refused, an exact subnormal not.
    (&["rpush", "l", "0x1p-1070", "3", " 2"], b":3\r\n"),
    (
        &["sort", "l"],
        b"*3\r\n$9\r\n0x1p-1070\r\n$2\r\n 2\r\n$1\r\n3\r\n",
    ),
    (&["rpush", "l2", "1e-310", "3"], b":2\r\n"),
    (
        &["sort", "l2"],
        b"-ERR One or more scores can't be converted into double\r\n",
    ),
    // Timeouts: string2ld, then rounded up to whole milliseconds.
    (&["blpop", "nokey", "0.0001"], b"*-1\r\n"),
    (
        &["blpop", "nokey", "1e5000"],
        b"-ERR timeout is not a float or out of range\r\n",
    ),
    (
        &["blpop", "nokey", "1e400"],
        b"-ERR timeout is negative\r\n",
    ),
    (
        &["blpop", "nokey", " 1"],
        b"-ERR timeout is not a float or out of range\r\n",
    ),
];

#[test]
fn number_arguments_follow_redis_rule_by_rule() {
    for threads in THREADS {
        run_cases(threads, CASES);
    }
}
