//! Error replies: the one place where error kinds become Redis's exact error text.
//!
//! The strings are copied from Redis 7 so that clients which match on them keep working.

/// An error of the hot path: small, `Copy`, never boxed. Ops return it; dispatch turns it into
/// the reply text with [`OpError::message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpError {
    /// The key holds a value of another type.
    WrongType,
    /// An argument or a stored value is not an integer, or is out of range.
    NotInteger,
    /// An argument or a stored value is not a float.
    NotFloat,
    /// The options do not parse.
    Syntax,
    /// An index is out of range (`LSET`).
    OutOfRange,
    /// The key does not exist where it must (`LSET`, `RENAME`).
    NoSuchKey,
    /// An increment or decrement would overflow.
    Overflow,
    /// The result of a float increment is NaN or infinity.
    NanOrInfinity,
    /// A string would grow beyond `proto-max-bulk-len`.
    StringTooLong,
    /// The DB index is not valid.
    DbIndexOutOfRange,
    /// A timeout argument is not a valid float or is negative.
    InvalidTimeout,
    /// An expire time that is out of range for the command.
    InvalidExpire,
    /// A value is not a valid float (`ERR value is not a valid float`).
    InvalidFloat,
    /// Memory limit reached.
    Oom,
    /// A string offset is negative (`SETRANGE`).
    OffsetOutOfRange,
}

impl OpError {
    /// The error text without the leading `-` and trailing CRLF.
    pub fn message(self) -> &'static str {
        match self {
            OpError::WrongType => WRONGTYPE,
            OpError::NotInteger => NOT_INTEGER,
            OpError::NotFloat => NOT_FLOAT,
            OpError::Syntax => SYNTAX,
            OpError::OutOfRange => "ERR index out of range",
            OpError::NoSuchKey => "ERR no such key",
            OpError::Overflow => "ERR increment or decrement would overflow",
            OpError::NanOrInfinity => "ERR increment would produce NaN or Infinity",
            OpError::StringTooLong => {
                "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
            }
            OpError::DbIndexOutOfRange => "ERR DB index is out of range",
            OpError::InvalidTimeout => "ERR timeout is not a float or out of range",
            OpError::InvalidExpire => "ERR invalid expire time in 'set' command",
            OpError::InvalidFloat => "ERR value is not a valid float",
            OpError::Oom => "OOM command not allowed when used memory > 'maxmemory'.",
            OpError::OffsetOutOfRange => "ERR offset is out of range",
        }
    }
}

/// `WRONGTYPE`.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
/// An argument that must be an integer is not.
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
/// An argument that must be a float is not.
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
/// Options that do not parse.
pub const SYNTAX: &str = "ERR syntax error";
/// A count that must be positive.
pub const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";

/// `ERR wrong number of arguments for '<name>' command`; `name` is the command's full lowercase
/// name (`config|get` for a subcommand), as Redis 7 prints it.
pub fn wrong_args(name: &str) -> String {
    format!("ERR wrong number of arguments for '{name}' command")
}

/// Redis's reply to an unknown command: its name, then up to 128 bytes of its arguments.
pub fn unknown_command(name: &[u8], args: &[impl AsRef<[u8]>]) -> String {
    let mut list = String::new();
    for a in args {
        if list.len() >= 128 {
            break;
        }
        let room = 128 - list.len();
        let a = String::from_utf8_lossy(a.as_ref());
        let cut: String = truncate(&a, room);
        list.push_str(&format!("'{cut}' "));
    }
    let name = String::from_utf8_lossy(name);
    format!(
        "ERR unknown command '{}', with args beginning with: {list}",
        truncate(&name, 128)
    )
}

/// `ERR unknown subcommand '<sub>'. Try <CMD> HELP.`
pub fn unknown_subcommand(sub: &[u8], cmd: &str) -> String {
    let sub = String::from_utf8_lossy(sub);
    format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        truncate(&sub, 128),
        cmd.to_uppercase()
    )
}

fn truncate(s: &str, max_bytes: usize) -> String {
    if s.len() <= max_bytes {
        return s.to_string();
    }
    let mut end = max_bytes;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_command_lists_args_like_redis() {
        assert_eq!(
            unknown_command(b"foo", &[b"a".as_ref(), b"bc"]),
            "ERR unknown command 'foo', with args beginning with: 'a' 'bc' "
        );
        assert_eq!(
            unknown_command(b"foo", &[] as &[&[u8]]),
            "ERR unknown command 'foo', with args beginning with: "
        );
    }

    #[test]
    fn arity_and_subcommand_errors() {
        assert_eq!(
            wrong_args("get"),
            "ERR wrong number of arguments for 'get' command"
        );
        assert_eq!(
            unknown_subcommand(b"x", "client"),
            "ERR unknown subcommand 'x'. Try CLIENT HELP."
        );
    }
}
