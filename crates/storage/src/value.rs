//! `Value`: what a key holds, one variant per Redis type, each with its own encodings.

use crate::hash::HashValue;
use crate::list::ListValue;
use crate::set::SetValue;
use crate::stream::StreamValue;
use crate::string::StrValue;
use crate::zset::ZSetValue;

/// The value of a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string (`int` or raw bytes).
    Str(StrValue),
    /// A list.
    List(ListValue),
    /// A set.
    Set(SetValue),
    /// A hash.
    Hash(HashValue),
    /// A sorted set.
    ZSet(ZSetValue),
    /// A stream (boxed: it is much larger than the other variants).
    Stream(Box<StreamValue>),
}

impl Value {
    /// The name `TYPE` replies with.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Hash(_) => "hash",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// The name `OBJECT ENCODING` replies with.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::List(l) => l.encoding(),
            Value::Set(s) => s.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(s) => s.encoding(),
        }
    }
}
