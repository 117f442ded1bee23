//! Reply encoder: writes RESP2 or RESP3 straight into a connection's output buffer.
//!
//! Commands call these methods instead of building a reply tree, so a reply costs no allocation
//! beyond the output buffer itself. Where RESP2 and RESP3 differ (null, maps, sets, doubles,
//! booleans, push) the encoder picks the form for the connection's protocol.

use bytes::{BufMut, Bytes, BytesMut};

/// Values at least this long may be sent from where they are stored instead of being copied
/// into the output buffer (see [`Out::bulk_shared`]). Below it a copy is cheaper than the extra
/// reference count and `writev` entry.
pub const SHARE_MIN: usize = 1024;

/// An output buffer together with the protocol version of the connection it is for.
pub struct Out {
    /// The encoded bytes, except the shared values.
    pub buf: BytesMut,
    /// Whether the connection speaks RESP3 (`HELLO 3`).
    pub resp3: bool,
    /// Whether [`Out::bulk_shared`] may reference a value instead of copying it. Off unless the
    /// owner turns it on: one that writes the output with [`Out::pieces`] (a connection), or
    /// hands it on with [`Out::take_shared`] to one that does (a batch for another shard). Code
    /// that moves output around by offsets in `buf` carries the shared values with it
    /// ([`Out::take_shared_after`], [`Out::extend_from`], [`Out::truncate`]).
    pub share: bool,
    /// Referenced values, each with the length of `buf` when it was written: the value goes
    /// after `buf[..offset]`. In offset order.
    shared: Vec<(usize, Bytes)>,
    /// The total length of the values in `shared`.
    shared_bytes: usize,
}

impl Out {
    /// An empty RESP2 buffer.
    pub fn new(resp3: bool) -> Self {
        Out {
            buf: BytesMut::new(),
            resp3,
            share: false,
            shared: Vec::new(),
            shared_bytes: 0,
        }
    }

    /// Whether some output is held by reference, outside `buf`.
    pub fn has_shared(&self) -> bool {
        !self.shared.is_empty()
    }

    /// The output's length in bytes, shared values included (what an output buffer limit
    /// counts), in O(1).
    pub fn len(&self) -> usize {
        self.buf.len() + self.shared_bytes
    }

    /// Whether there is no output at all.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty() && self.shared.is_empty()
    }

    /// The output's bytes in order, as the slices a vectored write sends.
    pub fn pieces(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let mut at = 0;
        self.shared
            .iter()
            .flat_map(move |(off, v)| {
                let before = &self.buf[at..*off];
                at = *off;
                [before, &v[..]]
            })
            .chain(std::iter::once_with(move || {
                let last = self.shared.last().map_or(0, |(off, _)| *off);
                &self.buf[last..]
            }))
            .filter(|p| !p.is_empty())
    }

    /// Drops all output.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.shared.clear();
        self.shared_bytes = 0;
    }

    /// Cuts the output back to its first `len` bytes of `buf`, with the shared values placed
    /// before that point.
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
        while self.shared.last().is_some_and(|(off, _)| *off >= len) {
            if let Some((_, v)) = self.shared.pop() {
                self.shared_bytes -= v.len();
            }
        }
    }

    /// Hands over the shared values placed after byte `at` of `buf`, with offsets made
    /// relative to `at`, for a caller that moves `buf[at..]` elsewhere.
    pub fn take_shared_after(&mut self, at: usize) -> Vec<(usize, Bytes)> {
        let first = self.shared.partition_point(|(off, _)| *off <= at);
        let taken: Vec<(usize, Bytes)> = self
            .shared
            .drain(first..)
            .map(|(off, v)| (off - at, v))
            .collect();
        self.shared_bytes -= taken.iter().map(|(_, v)| v.len()).sum::<usize>();
        taken
    }

    /// Hands over the shared values (with their offsets into `buf`), leaving none.
    pub fn take_shared(&mut self) -> Vec<(usize, Bytes)> {
        self.shared_bytes = 0;
        std::mem::take(&mut self.shared)
    }

    /// Appends the output that another `Out` wrote between offsets `start` and `end` of its
    /// buffer: its bytes, and the values it shared in that span (given by
    /// [`Out::take_shared`]), which stay shared when sharing is on here and are copied when not.
    pub fn extend_from(&mut self, buf: &[u8], shared: &[(usize, Bytes)], start: usize, end: usize) {
        // A shared value is always preceded by its `$len` line and followed by CRLF, so the
        // ones in this span are those strictly inside it.
        let first = shared.partition_point(|(off, _)| *off <= start);
        let mut at = start;
        for (off, v) in shared[first..].iter().take_while(|(off, _)| *off < end) {
            self.buf.extend_from_slice(&buf[at..*off]);
            if self.share {
                self.shared.push((self.buf.len(), v.clone()));
                self.shared_bytes += v.len();
            } else {
                self.buf.extend_from_slice(v);
            }
            at = *off;
        }
        self.buf.extend_from_slice(&buf[at..end]);
    }

    /// A bulk string whose bytes are shared, not copied, when the value is large and sharing
    /// is on: the reply then holds a reference to the stored value until it is written.
    pub fn bulk_shared(&mut self, data: &Bytes) {
        if !self.share || data.len() < SHARE_MIN {
            return self.bulk(data);
        }
        self.len_line(b'$', data.len() as i64);
        self.shared.push((self.buf.len(), data.clone()));
        self.shared_bytes += data.len();
        self.buf.put_slice(b"\r\n");
    }

    fn line(&mut self, prefix: u8, body: &[u8]) {
        self.buf.reserve(body.len() + 3);
        self.buf.put_u8(prefix);
        self.buf.put_slice(body);
        self.buf.put_slice(b"\r\n");
    }

    fn len_line(&mut self, prefix: u8, n: i64) {
        let mut b = itoa::Buffer::new();
        self.line(prefix, b.format(n).as_bytes());
    }

    /// `+OK`.
    pub fn ok(&mut self) {
        self.buf.put_slice(b"+OK\r\n");
    }

    /// A simple string, `+text`.
    pub fn simple(&mut self, s: &str) {
        self.line(b'+', s.as_bytes());
    }

    /// An error line. `msg` is the whole message including its code, e.g. `ERR syntax error`.
    /// CR and LF inside it are turned into spaces, as Redis does, so the reply stays one line.
    pub fn error(&mut self, msg: &str) {
        if msg.contains(['\r', '\n']) {
            let clean = msg.replace(['\r', '\n'], " ");
            self.line(b'-', clean.as_bytes());
        } else {
            self.line(b'-', msg.as_bytes());
        }
    }

    /// An integer, `:n`.
    pub fn int(&mut self, n: i64) {
        self.len_line(b':', n);
    }

    /// A bulk string.
    pub fn bulk(&mut self, data: &[u8]) {
        self.buf.reserve(data.len() + 16);
        self.len_line(b'$', data.len() as i64);
        self.buf.put_slice(data);
        self.buf.put_slice(b"\r\n");
    }

    /// A bulk string holding the decimal form of `n`.
    pub fn bulk_int(&mut self, n: i64) {
        let mut b = itoa::Buffer::new();
        self.bulk(b.format(n).as_bytes());
    }

    /// The null reply: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        if self.resp3 {
            self.buf.put_slice(b"_\r\n");
        } else {
            self.buf.put_slice(b"$-1\r\n");
        }
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        if self.resp3 {
            self.buf.put_slice(b"_\r\n");
        } else {
            self.buf.put_slice(b"*-1\r\n");
        }
    }

    /// An array header of `n` elements.
    pub fn array(&mut self, n: usize) {
        self.len_line(b'*', n as i64);
    }

    /// A map header of `n` pairs: `%n` in RESP3, an array of `2n` in RESP2.
    pub fn map(&mut self, n: usize) {
        if self.resp3 {
            self.len_line(b'%', n as i64);
        } else {
            self.len_line(b'*', 2 * n as i64);
        }
    }

    /// A set header: `~n` in RESP3, an array in RESP2.
    pub fn set(&mut self, n: usize) {
        self.len_line(if self.resp3 { b'~' } else { b'*' }, n as i64);
    }

    /// A push header (pub/sub messages): `>n` in RESP3, an array in RESP2.
    pub fn push(&mut self, n: usize) {
        self.len_line(if self.resp3 { b'>' } else { b'*' }, n as i64);
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn bool(&mut self, b: bool) {
        if self.resp3 {
            self.buf.put_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }

    /// A double as Redis 7.0 sends it: `%.17g` text, in a bulk string (RESP2) or `,` (RESP3).
    pub fn double(&mut self, d: f64) {
        let text = fmt_double(d);
        if self.resp3 {
            self.line(b',', text.as_bytes());
        } else {
            self.bulk(text.as_bytes());
        }
    }

    /// A verbatim string (`=len\r\ntxt:...` in RESP3, a bulk string in RESP2).
    pub fn verbatim(&mut self, text: &[u8]) {
        if self.resp3 {
            self.len_line(b'=', text.len() as i64 + 4);
            self.buf.put_slice(b"txt:");
            self.buf.put_slice(text);
            self.buf.put_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// Appends bytes that are already encoded.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.put_slice(bytes);
    }
}

/// Formats a double as C's `printf("%.17g")` does, with `inf`/`-inf` spelled as Redis does and
/// `nan` for not-a-number.
pub fn fmt_double(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d.is_nan() {
        return "nan".into();
    }
    // Whole numbers below 1e17 print all their digits in %.17g's fixed form, without a point:
    // exactly what an integer formatter writes (scores are often whole).
    if d.fract() == 0.0 && d.abs() < 1e17 && !(d == 0.0 && d.is_sign_negative()) {
        return itoa::Buffer::new().format(d as i64).to_string();
    }
    fmt_g(d, 17)
}

/// C's `%.<precision>g` for a finite double.
pub fn fmt_g(d: f64, precision: usize) -> String {
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let p = precision.max(1);
    // The exponent %e would print decides between the fixed and the exponent form.
    let e_form = format!("{:.*e}", p - 1, d);
    let (mantissa, exp) = e_form.split_once('e').unwrap_or((&e_form, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let m = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{:.*}", decimals, d)).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(o: &Out) -> Vec<u8> {
        o.pieces().flatten().copied().collect()
    }

    #[test]
    fn shared_values_are_sent_in_place_and_only_when_allowed() {
        let big = Bytes::from(vec![b'v'; SHARE_MIN]);
        let small = Bytes::from_static(b"abc");
        let mut expected = Vec::new();
        for v in [&big, &small, &big] {
            expected.extend_from_slice(format!("${}\r\n", v.len()).as_bytes());
            expected.extend_from_slice(v);
            expected.extend_from_slice(b"\r\n");
        }
        expected.extend_from_slice(b"+OK\r\n");

        // Off (the default): everything is copied into `buf`.
        let mut o = Out::new(false);
        for v in [&big, &small, &big] {
            o.bulk_shared(v);
        }
        o.ok();
        assert!(!o.has_shared());
        assert_eq!(&o.buf[..], &expected[..]);
        assert_eq!(joined(&o), expected);

        // On: only the large values are referenced, and the pieces give the same bytes.
        let mut o = Out::new(false);
        o.share = true;
        for v in [&big, &small, &big] {
            o.bulk_shared(v);
        }
        o.ok();
        assert!(o.has_shared());
        assert_eq!(o.buf.len(), expected.len() - 2 * SHARE_MIN);
        assert_eq!(joined(&o), expected);
        assert_eq!(o.pieces().filter(|p| p.len() == SHARE_MIN).count(), 2);
        o.clear();
        assert!(o.is_empty());
        assert_eq!(o.pieces().count(), 0);

        // A shared value last, with nothing after it but its CRLF.
        let mut o = Out::new(false);
        o.share = true;
        o.bulk_shared(&big);
        assert!(
            joined(&o) == expected[..SHARE_MIN + 9],
            "a shared value last"
        );
    }

    #[test]
    fn spans_of_another_output_keep_their_shared_values() {
        let big = Bytes::from(vec![b'v'; SHARE_MIN]);
        let mut src = Out::new(false);
        src.share = true;
        src.int(1);
        let a = src.buf.len();
        src.bulk_shared(&big);
        let b = src.buf.len();
        src.bulk_shared(&Bytes::from_static(b"x"));
        let c = src.buf.len();
        let all = joined(&src);
        let shared = src.take_shared();
        assert_eq!(shared.len(), 1);
        for share in [true, false] {
            let mut dst = Out::new(false);
            dst.share = share;
            dst.ok();
            // Out of order, as a pipeline's flush puts replies back.
            dst.extend_from(&src.buf, &shared, b, c);
            dst.extend_from(&src.buf, &shared, 0, a);
            dst.extend_from(&src.buf, &shared, a, b);
            let mut want = b"+OK\r\n".to_vec();
            want.extend_from_slice(&all[SHARE_MIN + b..]);
            want.extend_from_slice(&all[..a]);
            want.extend_from_slice(&all[a..SHARE_MIN + b]);
            assert!(joined(&dst) == want, "share {share}");
            assert_eq!(dst.has_shared(), share);
            dst.truncate(5);
            assert!(!dst.has_shared());
            assert_eq!(joined(&dst), b"+OK\r\n");
        }
    }

    #[test]
    fn shared_values_after_a_point_move_with_the_bytes_after_it() {
        let big = Bytes::from(vec![b'w'; SHARE_MIN]);
        let mut o = Out::new(false);
        o.share = true;
        o.bulk_shared(&big);
        let at = o.buf.len();
        o.int(7);
        o.bulk_shared(&big);
        let all = joined(&o);
        let tail_buf = o.buf[at..].to_vec();
        let tail_shared = o.take_shared_after(at);
        o.buf.truncate(at);
        assert_eq!(tail_shared.len(), 1);
        assert!(
            joined(&o) == all[..at + SHARE_MIN],
            "the head keeps its own value"
        );
        o.extend_from(&tail_buf, &tail_shared, 0, tail_buf.len());
        assert!(joined(&o) == all, "the tail put back gives the same bytes");
    }

    #[test]
    fn null_and_collections_follow_the_protocol() {
        let mut o2 = Out::new(false);
        o2.null();
        o2.map(1);
        o2.bool(true);
        o2.double(1.5);
        assert_eq!(&o2.buf[..], b"$-1\r\n*2\r\n:1\r\n$3\r\n1.5\r\n");
        let mut o3 = Out::new(true);
        o3.null();
        o3.map(1);
        o3.bool(true);
        o3.double(1.5);
        assert_eq!(&o3.buf[..], b"_\r\n%1\r\n#t\r\n,1.5\r\n");
    }

    #[test]
    fn doubles_print_like_printf_17g() {
        assert_eq!(fmt_double(1.1), "1.1000000000000001");
        assert_eq!(fmt_double(3.0), "3");
        assert_eq!(fmt_double(-0.0), "-0");
        // The whole-number shortcut agrees with the general %.17g path.
        let mut x = 1.0f64;
        while x < 1e18 {
            for d in [x, -x, x - 1.0, x + 1.0, (x * 0.7).round()] {
                assert_eq!(fmt_double(d), fmt_g(d, 17), "{d}");
            }
            x *= 3.0;
        }
        assert_eq!(
            fmt_double(99999999999999999.0),
            fmt_g(99999999999999999.0, 17)
        );
        assert_eq!(fmt_double(-0.5), "-0.5");
        assert_eq!(fmt_double(1e20), "1e+20");
        assert_eq!(fmt_double(123456789012345678.0), "1.2345678901234568e+17");
        assert_eq!(fmt_double(0.0001), "0.0001");
        assert_eq!(fmt_double(0.00001), "1.0000000000000001e-05");
        assert_eq!(fmt_double(f64::INFINITY), "inf");
        assert_eq!(fmt_double(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn errors_stay_on_one_line() {
        let mut o = Out::new(false);
        o.error("ERR bad\r\nthing");
        assert_eq!(&o.buf[..], b"-ERR bad  thing\r\n");
    }
}
