//! SORT and SORT_RO: sort the elements of a list or set, with LIMIT, ASC/DESC, ALPHA, GET #,
//! BY with a constant pattern (no sorting) and STORE, across shards.
//!
//! Patterns that name other keys (`BY weight_*`, `GET data_*`) are refused with Redis's own
//! cluster-mode errors: those keys are only known once the elements are read, and a command
//! here sees only the keys declared before it runs (see the issue 5 report).

use bytes::Bytes;
use rustis_resp::errors::SYNTAX;
use rustis_resp::Out;
use rustis_storage::list::ListValue;
use rustis_storage::{Entry, OpError, Value};

use crate::args::{eq_ic, parse_i64};
use crate::registry::{flags::*, CommandSpec, Registry, Run};
use crate::txn::Keys;

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(
        CommandSpec::new("sort", -2, WRITE | DENYOOM, Run::Txn(txn_sort))
            .movable_keys(sort_keys)
            .doc(
                "generic",
                "1.0.0",
                "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.",
            ),
    );
    r.add(
        CommandSpec::new("sort_ro", -2, READONLY, Run::Txn(txn_sort_ro))
            .keys(1, 1, 1)
            .doc(
                "generic",
                "7.0.0",
                "Returns the sorted elements of a list, a set, or a sorted set.",
            ),
    );
}

/// A parsed SORT.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SortOpts {
    /// `DESC`.
    pub desc: bool,
    /// `ALPHA`.
    pub alpha: bool,
    /// `LIMIT offset count`.
    pub limit: Option<(i64, i64)>,
    /// `BY` with a pattern that has no `*` (or `nosort`): keep the native order.
    pub dont_sort: bool,
    /// How many `GET #` there are (0: reply with the elements themselves).
    pub gets: usize,
    /// Argument position of the `STORE` key.
    pub store: Option<usize>,
}

const BY_DENIED: &str =
    "ERR BY option of SORT denied in Cluster mode when keys formed by the pattern may be in different slots.";
const GET_DENIED: &str =
    "ERR GET option of SORT denied in Cluster mode when keys formed by the pattern may be in different slots.";

/// Parses SORT's options; `read_only` is SORT_RO (no STORE). The error is the full reply text.
pub fn parse_sort(args: &[Bytes], read_only: bool) -> Result<SortOpts, String> {
    let mut o = SortOpts::default();
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        let left = args.len() - i - 1;
        if eq_ic(a, "asc") {
            o.desc = false;
        } else if eq_ic(a, "desc") {
            o.desc = true;
        } else if eq_ic(a, "alpha") {
            o.alpha = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            let off = parse_i64(&args[i + 1]).map_err(|e| e.message().to_string())?;
            let cnt = parse_i64(&args[i + 2]).map_err(|e| e.message().to_string())?;
            o.limit = Some((off, cnt));
            i += 2;
        } else if eq_ic(a, "store") && left >= 1 && !read_only {
            o.store = Some(i + 1);
            i += 1;
        } else if eq_ic(a, "by") && left >= 1 {
            if args[i + 1].contains(&b'*') {
                return Err(BY_DENIED.into());
            }
            o.dont_sort = true;
            i += 1;
        } else if eq_ic(a, "get") && left >= 1 {
            if &args[i + 1][..] != b"#" {
                return Err(GET_DENIED.into());
            }
            o.gets += 1;
            i += 1;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    Ok(o)
}

/// SORT's keys: the sorted key and, with STORE, the destination.
fn sort_keys(args: &[Bytes]) -> Result<Vec<usize>, String> {
    let mut keys = vec![1];
    // Walk the options the way the parser does, so that `GET store` is not taken for STORE.
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        let skip = if eq_ic(a, "limit") {
            2
        } else if eq_ic(a, "by") || eq_ic(a, "get") {
            1
        } else if eq_ic(a, "store") {
            if i + 1 < args.len() {
                keys.truncate(1);
                keys.push(i + 1);
            }
            1
        } else {
            0
        };
        i += 1 + skip;
    }
    Ok(keys)
}

/// Parses an element as a sort weight the way `strtod` reads it: leading spaces allowed,
/// nothing after the number, no NaN, and an empty string reads as 0.
pub fn parse_weight(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?.trim_start();
    if s.is_empty() {
        return Some(0.0);
    }
    let v: f64 = match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        t if t.contains("inf") || t.contains("nan") => return None,
        _ => s.parse().ok()?,
    };
    (!v.is_nan()).then_some(v)
}

/// Sorts `items` under `o`; the error is the full reply text.
pub fn op_sort(mut items: Vec<Vec<u8>>, o: &SortOpts) -> Result<Vec<Vec<u8>>, String> {
    if !o.dont_sort {
        if o.alpha {
            items.sort();
        } else {
            let mut weighted = Vec::with_capacity(items.len());
            for it in items {
                let w = parse_weight(&it).ok_or_else(|| {
                    "ERR One or more scores can't be converted into double".to_string()
                })?;
                weighted.push((w, it));
            }
            // Equal weights fall back to comparing the bytes, as Redis does, so the order is
            // deterministic.
            weighted.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            items = weighted.into_iter().map(|(_, it)| it).collect();
        }
        if o.desc {
            items.reverse();
        }
    } else if o.desc {
        // Without sorting, DESC walks the native order backwards (Redis reads a list from its
        // tail).
        items.reverse();
    }
    let len = items.len() as i64;
    let (start, end) = match o.limit {
        None => (0, len - 1),
        Some((off, cnt)) => {
            let mut start = off.max(0);
            let mut end = if cnt < 0 {
                len - 1
            } else {
                start.saturating_add(cnt) - 1
            };
            if start >= len {
                start = len - 1;
                end = len - 2;
            }
            if end >= len {
                end = len - 1;
            }
            (start, end)
        }
    };
    if end < start || len == 0 {
        return Ok(Vec::new());
    }
    Ok(items
        .into_iter()
        .skip(start as usize)
        .take((end - start + 1) as usize)
        .collect())
}

fn sort_generic(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out, read_only: bool) {
    let mut o = match parse_sort(args, read_only) {
        Ok(o) => o,
        Err(e) => return out.error(&e),
    };
    let items: Vec<Vec<u8>> = match keys.get(0).map(|e| &e.value) {
        None => Vec::new(),
        Some(Value::List(l)) => (0..l.len())
            .filter_map(|i| l.get(i).map(|b| b.to_vec()))
            .collect(),
        Some(Value::Set(s)) => {
            // A set has no order of its own: with STORE, Redis sorts it anyway so that what
            // is stored is deterministic.
            if o.dont_sort && o.store.is_some() {
                o.dont_sort = false;
                o.alpha = true;
            }
            s.iter().map(|b| b.to_vec()).collect()
        }
        // FIXME(issue 5): sorted sets sort too once their type is in `Value`.
        Some(_) => return out.error(OpError::WrongType.message()),
    };
    let sorted = match op_sort(items, &o) {
        Ok(s) => s,
        Err(e) => return out.error(&e),
    };
    let per = o.gets.max(1);
    if o.store.is_some() {
        // The destination is key position 1 (see `sort_keys`).
        let n = sorted.len() * per;
        if n == 0 {
            keys.delete(1);
        } else {
            let mut l = ListValue::new();
            for it in &sorted {
                for _ in 0..per {
                    l.push_back(it);
                }
            }
            keys.put(
                1,
                Entry {
                    value: Value::List(l),
                    expire_at: 0,
                },
            );
        }
        return out.int(n as i64);
    }
    out.array(sorted.len() * per);
    for it in &sorted {
        for _ in 0..per {
            out.bulk(it);
        }
    }
}

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC]
/// [ALPHA] [STORE destination]
fn txn_sort(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    sort_generic(keys, args, out, false);
}

/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC]
/// [ALPHA]
fn txn_sort_ro(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out) {
    sort_generic(keys, args, out, true);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<Vec<u8>> {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn numeric_alpha_limit() {
        let o = SortOpts::default();
        assert_eq!(op_sort(v(&["3", "1", "2"]), &o), Ok(v(&["1", "2", "3"])));
        assert!(op_sort(v(&["a"]), &o).is_err());
        let o = SortOpts {
            alpha: true,
            desc: true,
            limit: Some((1, 1)),
            ..Default::default()
        };
        assert_eq!(op_sort(v(&["a", "c", "b"]), &o), Ok(v(&["b"])));
        let o = SortOpts {
            limit: Some((5, 2)),
            ..Default::default()
        };
        assert_eq!(op_sort(v(&["1", "2"]), &o), Ok(vec![]));
        let o = SortOpts {
            limit: Some((1, i64::MAX)),
            ..Default::default()
        };
        assert_eq!(op_sort(v(&["1", "2"]), &o), Ok(v(&["2"])));
        assert_eq!(parse_weight(b" 1.5"), Some(1.5));
        assert_eq!(parse_weight(b""), Some(0.0));
        assert_eq!(parse_weight(b"1 "), None);
    }

    #[test]
    fn store_key_is_found_past_options() {
        let a: Vec<Bytes> = ["SORT", "k", "GET", "#", "LIMIT", "0", "1", "STORE", "d"]
            .iter()
            .map(|s| Bytes::from(*s))
            .collect();
        assert_eq!(sort_keys(&a), Ok(vec![1, 8]));
    }
}
