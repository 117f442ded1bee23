//! `Value`: what a key holds, one variant per Redis type, each with its own encodings.

use crate::list::ListValue;
use crate::set::SetValue;
use crate::string::StrValue;

/// The value of a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string (`int` or raw bytes).
    Str(StrValue),
    /// A list.
    List(ListValue),
    /// A set.
    Set(SetValue),
}

impl Value {
    /// The name `TYPE` replies with.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
        }
    }

    /// The name `OBJECT ENCODING` replies with.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::List(l) => l.encoding(),
            Value::Set(s) => s.encoding(),
        }
    }
}
