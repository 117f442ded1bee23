//! Argument parsing shared by every family: integers, floats and option keywords, with Redis's
//! exact rules and errors.

use rustis_storage::string::parse_canonical_i64;
use rustis_storage::OpError;

/// Parses an integer argument as Redis's `string2ll` does; `NotInteger` otherwise.
pub fn parse_i64(arg: &[u8]) -> Result<i64, OpError> {
    parse_canonical_i64(arg).ok_or(OpError::NotInteger)
}

/// Parses a float argument as Redis's `strtod`-based parsing does (`inf`, `-inf` accepted; `nan`,
/// spaces and trailing garbage rejected); `NotFloat` otherwise.
pub fn parse_f64(arg: &[u8]) -> Result<f64, OpError> {
    let s = std::str::from_utf8(arg).map_err(|_| OpError::NotFloat)?;
    if s.is_empty()
        || s.starts_with(|c: char| c.is_whitespace())
        || s.ends_with(|c: char| c.is_whitespace())
    {
        return Err(OpError::NotFloat);
    }
    let v: f64 = match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => s.parse().map_err(|_| OpError::NotFloat)?,
    };
    if v.is_nan() {
        return Err(OpError::NotFloat);
    }
    Ok(v)
}

/// Case-insensitive comparison of an argument with an ASCII keyword.
pub fn eq_ic(arg: &[u8], keyword: &str) -> bool {
    arg.eq_ignore_ascii_case(keyword.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_string2ll() {
        assert_eq!(parse_i64(b"-12"), Ok(-12));
        assert_eq!(parse_i64(b"+1"), Err(OpError::NotInteger));
        assert_eq!(parse_i64(b" 1"), Err(OpError::NotInteger));
        assert_eq!(parse_i64(b"9223372036854775808"), Err(OpError::NotInteger));
    }

    #[test]
    fn floats_accept_inf_and_reject_nan() {
        assert_eq!(parse_f64(b"1.5"), Ok(1.5));
        assert_eq!(parse_f64(b"-inf"), Ok(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"nan"), Err(OpError::NotFloat));
        assert_eq!(parse_f64(b"1x"), Err(OpError::NotFloat));
    }
}
