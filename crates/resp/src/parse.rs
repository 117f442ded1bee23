//! Incremental request parser: RESP multibulk frames and inline commands.
//!
//! It owns the state of the frame in progress, so a frame split across reads resumes where it
//! stopped instead of being scanned again from its start. Arguments come out as `Bytes` slices of
//! the read buffer (zero-copy); only inline commands, which need unquoting, are copied.
//! It must not allocate in proportion to a length the client claims before the bytes arrive.

use bytes::{Bytes, BytesMut};

/// Redis's `proto-max-bulk-len` default: the largest bulk argument accepted (512 MB).
pub const MAX_BULK_LEN: usize = 512 * 1024 * 1024;
/// The largest multibulk element count accepted.
pub const MAX_MULTIBULK_LEN: i64 = 1024 * 1024;
/// Redis's `PROTO_INLINE_MAX_SIZE`: an inline command or a header line may not exceed this.
pub const MAX_INLINE_LEN: usize = 64 * 1024;

/// A protocol violation. The connection replies with [`ProtoError::reply`] and is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtoError {
    /// An inline command longer than 64 KB without a newline.
    TooBigInline,
    /// Quotes in an inline command that do not close.
    UnbalancedQuotes,
    /// A `*<count>` header line longer than 64 KB.
    TooBigMbulkCount,
    /// A multibulk count that is not a number or is too large.
    InvalidMultibulkLength,
    /// A `$<len>` header line longer than 64 KB.
    TooBigBulkCount,
    /// A bulk length that is not a number, is negative, or is over `proto-max-bulk-len`.
    InvalidBulkLength,
    /// Something other than `$` where a bulk header was expected.
    ExpectedDollar(u8),
    /// Before authentication: more than 10 arguments (Redis's limit for such clients).
    UnauthenticatedMultibulk,
    /// Before authentication: a bulk longer than 16384 bytes.
    UnauthenticatedBulk,
}

impl ProtoError {
    /// The error line Redis sends before it closes the connection, without the CRLF.
    pub fn reply(&self) -> String {
        let what = match self {
            ProtoError::TooBigInline => "too big inline request".to_string(),
            ProtoError::UnbalancedQuotes => "unbalanced quotes in request".to_string(),
            ProtoError::TooBigMbulkCount => "too big mbulk count string".to_string(),
            ProtoError::InvalidMultibulkLength => "invalid multibulk length".to_string(),
            ProtoError::TooBigBulkCount => "too big bulk count string".to_string(),
            ProtoError::InvalidBulkLength => "invalid bulk length".to_string(),
            ProtoError::ExpectedDollar(c) => format!("expected '$', got '{}'", *c as char),
            ProtoError::UnauthenticatedMultibulk => "unauthenticated multibulk length".to_string(),
            ProtoError::UnauthenticatedBulk => "unauthenticated bulk length".to_string(),
        };
        format!("-ERR Protocol error: {what}")
    }
}

/// One parsed command: its arguments, the name first.
pub type Args = Vec<Bytes>;

enum Done {
    /// A multibulk frame whose arguments are `done_offsets[from..to]`.
    Multi { from: usize, to: usize },
    /// An inline command, already unquoted into owned bytes.
    Inline(Args),
}

/// The parser of one connection. Feed it the connection's read buffer after every read.
#[derive(Default)]
pub struct Parser {
    /// Arguments as `(start, end)` in the buffer: those of the frames completed in this call,
    /// referenced by `done`, then those already seen of the frame in progress.
    done_offsets: Vec<(usize, usize)>,
    /// Where the frame in progress's arguments begin in `done_offsets`.
    frame_from: usize,
    done: Vec<Done>,
    /// Where scanning resumes, relative to the start of the buffer.
    pos: usize,
    /// Whether a multibulk header was read and its arguments are being read.
    in_frame: bool,
    /// Arguments still to read in the frame in progress.
    remaining: usize,
    /// The length of the bulk whose header was read but whose data has not fully arrived.
    pending_bulk: Option<usize>,
    /// Where the frame in progress begins: everything before it is complete.
    frame_begin: usize,
    /// Bytes the buffer must hold before the frame in progress can advance.
    need: usize,
    max_bulk: usize,
    /// Whether the connection still has to authenticate: then frames are limited to 10
    /// arguments of at most 16384 bytes, as Redis limits them.
    unauthenticated: bool,
    /// Emptied argument vectors handed back by the caller ([`Parser::recycle`]), reused for the
    /// next commands so that a command costs no vector allocation.
    spare: Vec<Args>,
}

/// How many emptied argument vectors a parser keeps, and the largest capacity it keeps.
const SPARE_MAX: usize = 64;
const SPARE_CAP_MAX: usize = 16;

impl Parser {
    /// A parser with Redis's default limits.
    pub fn new() -> Self {
        Parser {
            max_bulk: MAX_BULK_LEN,
            ..Default::default()
        }
    }

    /// Sets whether the connection still has to authenticate (see `unauthenticated`).
    pub fn set_unauthenticated(&mut self, yes: bool) {
        self.unauthenticated = yes;
    }

    /// A parser with another `proto-max-bulk-len`.
    pub fn with_max_bulk(max_bulk: usize) -> Self {
        Parser {
            max_bulk,
            ..Default::default()
        }
    }

    /// Gives back a command's argument vector once it has run, for the next command to reuse.
    pub fn recycle(&mut self, mut args: Args) {
        if self.spare.len() < SPARE_MAX && args.capacity() <= SPARE_CAP_MAX {
            args.clear();
            self.spare.push(args);
        }
    }

    /// How many bytes the buffer should hold before parsing can advance; lets the reader reserve
    /// room for a large bulk at once instead of growing the buffer step by step.
    pub fn need(&self) -> usize {
        self.need
    }

    /// Parses every complete command in `buf`, appends them to `cmds` and removes their bytes
    /// from `buf`. A partial frame stays in `buf` and its progress is kept for the next call.
    ///
    /// On a protocol error the commands before it are still appended; the caller runs them,
    /// sends the error and closes the connection.
    pub fn parse_batch(
        &mut self,
        buf: &mut BytesMut,
        cmds: &mut Vec<Args>,
    ) -> Result<(), ProtoError> {
        let result = loop {
            match self.step(buf) {
                Ok(true) => continue,
                Ok(false) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        self.finish(buf, cmds);
        result
    }

    /// Splits off the bytes of the completed frames and turns their offsets into slices.
    fn finish(&mut self, buf: &mut BytesMut, cmds: &mut Vec<Args>) {
        let consumed = self.frame_begin;
        if consumed == 0 {
            return;
        }
        let frozen = buf.split_to(consumed).freeze();
        for done in self.done.drain(..) {
            match done {
                Done::Multi { from, to } => {
                    let spans = &self.done_offsets[from..to];
                    let mut args = self.spare.pop().unwrap_or_default();
                    args.reserve_exact(spans.len());
                    args.extend(spans.iter().map(|&(s, e)| frozen.slice(s..e)));
                    cmds.push(args);
                }
                Done::Inline(args) => cmds.push(args),
            }
        }
        // Keep what was seen of the frame in progress, moved to the start of the buffer.
        let keep_from = if self.in_frame {
            self.frame_from
        } else {
            self.done_offsets.len()
        };
        self.done_offsets.drain(..keep_from);
        self.frame_from = 0;
        self.pos -= consumed;
        self.frame_begin = 0;
        for o in &mut self.done_offsets {
            o.0 -= consumed;
            o.1 -= consumed;
        }
        self.need = self.need.saturating_sub(consumed);
    }

    /// Advances by one step. `Ok(true)`: a frame was completed or skipped; `Ok(false)`: more
    /// bytes are needed.
    fn step(&mut self, buf: &BytesMut) -> Result<bool, ProtoError> {
        if !self.in_frame {
            if self.pos >= buf.len() {
                return Ok(false);
            }
            if buf[self.pos] != b'*' {
                return self.inline(buf);
            }
            let Some(cr) = find_cr(buf, self.pos + 1) else {
                if buf.len() - self.pos > MAX_INLINE_LEN {
                    return Err(ProtoError::TooBigMbulkCount);
                }
                return Ok(false);
            };
            if cr + 1 >= buf.len() {
                return Ok(false);
            }
            let count =
                parse_len(&buf[self.pos + 1..cr]).ok_or(ProtoError::InvalidMultibulkLength)?;
            if count > MAX_MULTIBULK_LEN {
                return Err(ProtoError::InvalidMultibulkLength);
            }
            if self.unauthenticated && count > 10 {
                return Err(ProtoError::UnauthenticatedMultibulk);
            }
            self.pos = cr + 2;
            if count <= 0 {
                // Redis skips an empty multibulk without a reply.
                self.frame_begin = self.pos;
                return Ok(true);
            }
            self.in_frame = true;
            self.remaining = count as usize;
            self.frame_from = self.done_offsets.len();
        }
        while self.remaining > 0 {
            let len = match self.pending_bulk {
                Some(len) => len,
                None => {
                    if self.pos >= buf.len() {
                        return Ok(false);
                    }
                    if buf[self.pos] != b'$' {
                        return Err(ProtoError::ExpectedDollar(buf[self.pos]));
                    }
                    let Some(cr) = find_cr(buf, self.pos + 1) else {
                        if buf.len() - self.pos > MAX_INLINE_LEN {
                            return Err(ProtoError::TooBigBulkCount);
                        }
                        return Ok(false);
                    };
                    if cr + 1 >= buf.len() {
                        return Ok(false);
                    }
                    let len =
                        parse_len(&buf[self.pos + 1..cr]).ok_or(ProtoError::InvalidBulkLength)?;
                    if len < 0 || len as u64 > self.max_bulk as u64 {
                        return Err(ProtoError::InvalidBulkLength);
                    }
                    if self.unauthenticated && len > 16384 {
                        return Err(ProtoError::UnauthenticatedBulk);
                    }
                    self.pos = cr + 2;
                    self.pending_bulk = Some(len as usize);
                    len as usize
                }
            };
            let end = self.pos + len + 2;
            if buf.len() < end {
                self.need = end;
                return Ok(false);
            }
            self.done_offsets.push((self.pos, self.pos + len));
            self.pos = end;
            self.pending_bulk = None;
            self.remaining -= 1;
        }
        self.done.push(Done::Multi {
            from: self.frame_from,
            to: self.done_offsets.len(),
        });
        self.in_frame = false;
        self.frame_begin = self.pos;
        self.need = 0;
        Ok(true)
    }

    /// Reads one inline command (a line of space-separated, optionally quoted words).
    fn inline(&mut self, buf: &BytesMut) -> Result<bool, ProtoError> {
        let Some(nl) = memchr::memchr(b'\n', &buf[self.pos..]).map(|i| i + self.pos) else {
            if buf.len() - self.pos > MAX_INLINE_LEN {
                return Err(ProtoError::TooBigInline);
            }
            return Ok(false);
        };
        let mut line = &buf[self.pos..nl];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        let args = split_args(line).ok_or(ProtoError::UnbalancedQuotes)?;
        self.pos = nl + 1;
        self.frame_begin = self.pos;
        if !args.is_empty() {
            self.done.push(Done::Inline(args));
        }
        Ok(true)
    }
}

/// The position of the first `\r` at or after `from`. Length lines are a few bytes long, so a
/// plain scan of the first bytes finds it sooner than `memchr`'s setup would; longer (malformed
/// or split) lines fall back to `memchr`.
fn find_cr(buf: &[u8], from: usize) -> Option<usize> {
    const SHORT: usize = 24;
    let from = from.min(buf.len());
    let near = buf.len().min(from + SHORT);
    if let Some(i) = buf[from..near].iter().position(|&c| c == b'\r') {
        return Some(from + i);
    }
    memchr::memchr(b'\r', &buf[near..]).map(|i| i + near)
}

/// Parses a length the way Redis's `string2ll` does: an optional `-`, then digits without a
/// leading zero (a lone `0` is fine), no sign `+`, no spaces, within `i64`.
pub fn parse_len(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 19 || (digits[0] == b'0' && (digits.len() > 1 || neg)) {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as i64)?;
    }
    Some(if neg { -v } else { v })
}

/// Splits an inline command line the way `sdssplitargs` does (redis-cli and telnet users rely
/// on it): words separated by blanks; double quotes with `\n \r \t \b \a \\ \" \xHH` escapes;
/// single quotes with `\'` only. A closing quote must be followed by a blank or the end of the
/// line. Returns `None` for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Args> {
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_blank(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && is_hex(line[i + 2])
                    && is_hex(line[i + 3])
                {
                    cur.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !is_blank(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if in_sq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !is_blank(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    c if is_blank(c) => break,
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        args.push(Bytes::from(cur));
    }
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t' | 0)
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> (Vec<Args>, Result<(), ProtoError>) {
        let mut p = Parser::new();
        let mut buf = BytesMut::from(input);
        let mut cmds = Vec::new();
        let r = p.parse_batch(&mut buf, &mut cmds);
        (cmds, r)
    }

    fn strs(cmds: &[Args]) -> Vec<Vec<&[u8]>> {
        cmds.iter()
            .map(|c| c.iter().map(|a| a.as_ref()).collect())
            .collect()
    }

    #[test]
    fn parses_pipelined_multibulk() {
        let (cmds, r) = parse_all(b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$0\r\n\r\n");
        assert_eq!(r, Ok(()));
        assert_eq!(
            strs(&cmds),
            vec![vec![&b"PING"[..]], vec![b"SET", b"a", b""]]
        );
    }

    #[test]
    fn recycled_argument_vectors_are_reused_and_start_empty() {
        let mut p = Parser::new();
        let mut cmds = Vec::new();
        let mut buf = BytesMut::from(&b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n"[..]);
        p.parse_batch(&mut buf, &mut cmds).unwrap();
        let first = cmds.pop().unwrap();
        let ptr = first.as_ptr();
        p.recycle(first);
        // A huge vector is not kept.
        p.recycle(Vec::with_capacity(SPARE_CAP_MAX + 1));
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$1\r\nz\r\n*1\r\n$4\r\nPING\r\n"[..]);
        p.parse_batch(&mut buf, &mut cmds).unwrap();
        assert_eq!(strs(&cmds), vec![vec![&b"GET"[..], b"z"], vec![b"PING"]]);
        assert_eq!(cmds[0].as_ptr(), ptr, "the recycled vector is used first");
    }

    #[test]
    fn resumes_split_frames_at_every_byte() {
        let input = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\nPING\r\n";
        for split in 0..input.len() {
            let mut p = Parser::new();
            let mut buf = BytesMut::new();
            let mut cmds = Vec::new();
            buf.extend_from_slice(&input[..split]);
            p.parse_batch(&mut buf, &mut cmds).unwrap();
            buf.extend_from_slice(&input[split..]);
            p.parse_batch(&mut buf, &mut cmds).unwrap();
            assert_eq!(
                strs(&cmds),
                vec![vec![&b"SET"[..], b"key", b"value"], vec![b"PING"]],
                "split {split}"
            );
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn large_bulk_sets_need_and_does_not_rescan() {
        let mut p = Parser::new();
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nSET\r\n$100000\r\n"[..]);
        let mut cmds = Vec::new();
        p.parse_batch(&mut buf, &mut cmds).unwrap();
        assert!(cmds.is_empty());
        assert_eq!(p.need(), buf.len() + 100_002);
    }

    #[test]
    fn inline_commands_split_like_redis_cli() {
        let (cmds, r) = parse_all(b"SET a \"b c\"\r\nset 'it\\'s' \"\\x41\\n\"\n\r\n");
        assert_eq!(r, Ok(()));
        assert_eq!(
            strs(&cmds),
            vec![
                vec![&b"SET"[..], b"a", b"b c"],
                vec![b"set", b"it's", b"A\n"]
            ]
        );
    }

    #[test]
    fn protocol_errors_match_redis() {
        let cases: &[(&[u8], &str)] = &[
            (b"*x\r\n", "-ERR Protocol error: invalid multibulk length"),
            (
                b"*1048577\r\n",
                "-ERR Protocol error: invalid multibulk length",
            ),
            (b"*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length"),
            (
                b"*1\r\n$536870913\r\n",
                "-ERR Protocol error: invalid bulk length",
            ),
            (b"*1\r\n$01\r\n", "-ERR Protocol error: invalid bulk length"),
            (
                b"*1\r\n:1\r\n",
                "-ERR Protocol error: expected '$', got ':'",
            ),
            (
                b"SET \"a\r\n",
                "-ERR Protocol error: unbalanced quotes in request",
            ),
            (
                b"SET \"a\"b\r\n",
                "-ERR Protocol error: unbalanced quotes in request",
            ),
        ];
        for (input, want) in cases {
            let (_, r) = parse_all(input);
            assert_eq!(
                r.unwrap_err().reply(),
                *want,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        let (_, r) = parse_all(&vec![b'a'; MAX_INLINE_LEN + 1]);
        assert_eq!(r, Err(ProtoError::TooBigInline));
    }

    #[test]
    fn commands_before_an_error_are_kept() {
        let (cmds, r) = parse_all(b"PING\r\n*1\r\n$x\r\n");
        assert_eq!(strs(&cmds), vec![vec![&b"PING"[..]]]);
        assert_eq!(r, Err(ProtoError::InvalidBulkLength));
    }

    #[test]
    fn empty_frames_are_skipped() {
        let (cmds, r) = parse_all(b"*0\r\n*-1\r\n\r\n   \r\nPING\r\n");
        assert_eq!(r, Ok(()));
        assert_eq!(strs(&cmds), vec![vec![&b"PING"[..]]]);
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..64), 0..8)) {
            let mut p = Parser::new();
            let mut buf = BytesMut::new();
            let mut cmds = Vec::new();
            for c in chunks {
                buf.extend_from_slice(&c);
                if p.parse_batch(&mut buf, &mut cmds).is_err() {
                    break;
                }
            }
        }

        #[test]
        fn encode_then_parse_round_trips(args in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..40), 1..6), split in 0usize..400) {
            let mut wire = Vec::new();
            wire.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
            for a in &args {
                wire.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                wire.extend_from_slice(a);
                wire.extend_from_slice(b"\r\n");
            }
            let split = split.min(wire.len());
            let mut p = Parser::new();
            let mut buf = BytesMut::from(&wire[..split]);
            let mut cmds = Vec::new();
            p.parse_batch(&mut buf, &mut cmds).unwrap();
            buf.extend_from_slice(&wire[split..]);
            p.parse_batch(&mut buf, &mut cmds).unwrap();
            proptest::prop_assert_eq!(cmds.len(), 1);
            let got: Vec<Vec<u8>> = cmds[0].iter().map(|b| b.to_vec()).collect();
            proptest::prop_assert_eq!(got, args);
        }
    }
}
