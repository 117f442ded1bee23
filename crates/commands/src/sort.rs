//! SORT and SORT_RO: sort the elements of a list, set or sorted set, with LIMIT, ASC/DESC, ALPHA, BY and
//! GET patterns (`weight_*`, `data_*->field`, `#`) and STORE, across shards.
//!
//! The keys a pattern names are known only once the elements are read, so SORT cannot declare
//! them: it reads them with [`Keys::get_extra`]. When one of them is out of the view's reach
//! (another shard's, or locked), SORT stops before writing anything and the runtime runs it
//! again with those keys locked and fetched (docs/transactions.md, "Undeclared keys").

use bytes::Bytes;
use rustis_resp::errors::SYNTAX;
use rustis_resp::Out;
use rustis_storage::list::ListValue;
use rustis_storage::zset::{ZSetLimits, ZSetValue};
use rustis_storage::{Entry, OpError, Value};

use crate::args::{eq_ic, parse_i64, parse_sort_weight};
use crate::registry::{Binding, Registry, Run};
use crate::txn::{get_mut_as, Extra, Keys};

/// Registers the family.
pub fn register(r: &mut Registry) {
    r.add(
        Binding::new("sort", Run::Txn(txn_sort))
            .movable_keys(sort_keys)
            .undeclared_keys(),
    );
    r.add(Binding::new("sort_ro", Run::Txn(txn_sort_ro)).undeclared_keys());
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
    /// Some `BY` had a pattern without `*` (e.g. `nosort`): keep the native order. Like Redis,
    /// a later `BY weight_*` does not undo it.
    pub dont_sort: bool,
    /// Argument position of the last `BY` pattern.
    pub by: Option<usize>,
    /// Argument positions of the `GET` patterns, in order (none: reply with the elements).
    pub gets: Vec<usize>,
    /// Argument position of the `STORE` key.
    pub store: Option<usize>,
}

const SCORE_ERR: &str = "ERR One or more scores can't be converted into double";

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
            o.by = Some(i + 1);
            if !c_str(&args[i + 1]).contains(&b'*') {
                o.dont_sort = true;
            }
            i += 1;
        } else if eq_ic(a, "get") && left >= 1 {
            o.gets.push(i + 1);
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

/// The part of `b` that C string functions see: up to the first NUL byte. Redis reads patterns
/// and weights with `strchr`/`strtod`, so a NUL ends them.
fn c_str(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(n) => &b[..n],
        None => b,
    }
}

/// What a pattern names for one element.
#[derive(Debug, PartialEq)]
pub enum PatternTarget<'p> {
    /// `#`: the element itself.
    Itself,
    /// A pattern without `*`: nothing (GET replies nil).
    Nothing,
    /// The key `prefix element postfix`, and with `->field`, that field of the hash there.
    Key(Vec<u8>, Option<&'p [u8]>),
}

/// Resolves `pat` for element `elem` as Redis does: the first `*` is replaced by the element,
/// and a `->` after it with something behind it names a hash field.
pub fn pattern_target<'p>(pat: &'p [u8], elem: &[u8]) -> PatternTarget<'p> {
    let c = c_str(pat);
    if c == b"#" {
        return PatternTarget::Itself;
    }
    let Some(star) = c.iter().position(|&b| b == b'*') else {
        return PatternTarget::Nothing;
    };
    let arrow = c[star + 1..]
        .windows(2)
        .position(|w| w == b"->")
        .map(|i| star + 1 + i)
        .filter(|&f| f + 2 < c.len());
    let (key_end, field) = match arrow {
        Some(f) => (f, Some(&pat[f + 2..])),
        None => (pat.len(), None),
    };
    let mut key = Vec::with_capacity(key_end - 1 + elem.len());
    key.extend_from_slice(&pat[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(&pat[star + 1..key_end]);
    PatternTarget::Key(key, field)
}

/// The value `pat` names for `elem` (a string, or a hash field), or `None` when there is none
/// or it cannot be seen yet ([`Keys::missing`] then says so).
fn lookup(keys: &mut dyn Keys, db: usize, pat: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    let (key, field) = match pattern_target(pat, elem) {
        PatternTarget::Itself => return Some(elem.to_vec()),
        PatternTarget::Nothing => return None,
        PatternTarget::Key(key, field) => (key, field),
    };
    let Extra::Found(e) = keys.get_extra(db, &key) else {
        return None;
    };
    match (&e.value, field) {
        (Value::Str(s), None) => Some(s.to_vec()),
        (Value::Hash(h), Some(f)) => h.get(f).map(<[u8]>::to_vec),
        // A key of another type reads as missing.
        _ => None,
    }
}

/// One element being sorted, with what it sorts by.
#[derive(Debug, Clone, PartialEq)]
pub struct Sortable {
    /// The element.
    pub elem: Vec<u8>,
    /// Its numeric weight (0 when a BY key is missing).
    pub score: f64,
    /// With ALPHA and BY: the value it sorts by, `None` when missing (sorts first).
    pub by_value: Option<Vec<u8>>,
}

impl Sortable {
    fn new(elem: Vec<u8>) -> Self {
        Sortable {
            elem,
            score: 0.0,
            by_value: None,
        }
    }
}

/// Redis's first and last output positions for `len` elements under `LIMIT` (end < start: none).
pub fn limit_range(len: i64, limit: Option<(i64, i64)>) -> (i64, i64) {
    let (off, cnt) = limit.unwrap_or((0, -1));
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

/// Sorts `v` as Redis's `sortCompare` orders it. The sort is stable, as glibc's `qsort` (a merge
/// sort) is, so elements that compare equal (ALPHA BY with equal or missing values) keep their
/// order, in DESC too.
pub fn op_sort(v: &mut [Sortable], alpha: bool, by: bool, desc: bool) {
    v.sort_by(|a, b| {
        let c = if !alpha {
            // Equal weights fall back to comparing the bytes, so the order is deterministic.
            a.score
                .partial_cmp(&b.score)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.elem.cmp(&b.elem))
        } else if by {
            match (&a.by_value, &b.by_value) {
                (None, None) => std::cmp::Ordering::Equal,
                (None, Some(_)) => std::cmp::Ordering::Less,
                (Some(_), None) => std::cmp::Ordering::Greater,
                (Some(x), Some(y)) => x.cmp(y),
            }
        } else {
            a.elem.cmp(&b.elem)
        };
        if desc {
            c.reverse()
        } else {
            c
        }
    });
}

fn sort_generic(keys: &mut dyn Keys, args: &[Bytes], out: &mut Out, read_only: bool) {
    let mut o = match parse_sort(args, read_only) {
        Ok(o) => o,
        Err(e) => return out.error(&e),
    };
    let db = keys.db_of(0);
    let (mut v, len, ordered) = match keys.get(0).map(|e| &e.value) {
        None => (Vec::new(), 0, true),
        Some(Value::List(l)) => {
            let len = l.len() as i64;
            let (start, end) = limit_range(len, o.limit);
            let v = if o.dont_sort {
                // Without sorting, only the range is read, from the tail with DESC.
                let n = if end >= start { end - start + 1 } else { 0 } as usize;
                if o.desc {
                    l.iter()
                        .rev()
                        .skip(start.max(0) as usize)
                        .take(n)
                        .map(|b| b.to_vec())
                        .collect()
                } else {
                    l.iter()
                        .skip(start.max(0) as usize)
                        .take(n)
                        .map(|b| b.to_vec())
                        .collect()
                }
            } else {
                l.iter().map(|b| b.to_vec()).collect()
            };
            (v, len, true)
        }
        Some(Value::Set(s)) => {
            // A set has no order of its own: with STORE, Redis sorts it anyway (by the elements)
            // so that what is stored is deterministic.
            if o.dont_sort && o.store.is_some() {
                o.dont_sort = false;
                o.alpha = true;
                o.by = None;
            }
            (
                s.iter().map(|b| b.to_vec()).collect(),
                s.len() as i64,
                false,
            )
        }
        Some(Value::ZSet(z)) => {
            let len = z.len() as i64;
            let (start, end) = limit_range(len, o.limit);
            let v = if o.dont_sort {
                // Without sorting, only the range is read, in score order (from the top with
                // DESC).
                let n = if end >= start { end - start + 1 } else { 0 } as usize;
                let first = if o.desc { len - 1 - start } else { start };
                if n == 0 || first < 0 {
                    Vec::new()
                } else {
                    z.iter_from(first as usize, o.desc)
                        .take(n)
                        .map(|(m, _)| m.to_vec())
                        .collect()
                }
            } else {
                z.iter_from(0, false).map(|(m, _)| m.to_vec()).collect()
            };
            (v, len, true)
        }
        Some(_) => return out.error(OpError::WrongType.message()),
    };
    let (mut start, mut end) = limit_range(len, o.limit);
    if ordered && o.dont_sort && end >= start {
        // The list branch above already cut the range out.
        end -= start;
        start = 0;
    }
    let mut items: Vec<Sortable> = v.drain(..).map(Sortable::new).collect();
    if !o.dont_sort {
        let by = o.by.map(|p| &args[p][..]);
        let mut bad_score = false;
        for it in &mut items {
            let by_value = match by {
                Some(pat) => match lookup(keys, db, pat, &it.elem) {
                    Some(b) => Some(b),
                    None => continue,
                },
                None => None,
            };
            if o.alpha {
                it.by_value = by_value;
            } else {
                match parse_sort_weight(by_value.as_deref().unwrap_or(&it.elem)) {
                    Some(w) => it.score = w,
                    None => bad_score = true,
                }
            }
        }
        if keys.missing() {
            // Ask for the GET keys of every element now rather than in one more round, unless
            // LIMIT keeps the output small.
            if o.limit.is_none() {
                for it in &items {
                    for &g in &o.gets {
                        lookup(keys, db, &args[g], &it.elem);
                    }
                }
            }
            return;
        }
        if bad_score {
            to_skiplist(keys);
            return out.error(SCORE_ERR);
        }
        op_sort(&mut items, o.alpha, by.is_some(), o.desc);
    }
    let range: &[Sortable] = if end >= start {
        &items[start as usize..=end as usize]
    } else {
        &[]
    };
    // Every GET is looked up before anything is written, so a missing key stops it cleanly.
    let mut got: Vec<Option<Vec<u8>>> = Vec::with_capacity(range.len() * o.gets.len());
    for it in range {
        for &g in &o.gets {
            got.push(lookup(keys, db, &args[g], &it.elem));
        }
    }
    if keys.missing() {
        return;
    }
    to_skiplist(keys);
    let n = if o.gets.is_empty() {
        range.len()
    } else {
        got.len()
    };
    if o.store.is_some() {
        // The destination is key position 1 (see `sort_keys`).
        if n == 0 {
            keys.delete(1);
        } else {
            let mut l = ListValue::new();
            if o.gets.is_empty() {
                for it in range {
                    l.push_back(&it.elem);
                }
            } else {
                // A list cannot hold nil: a missing value is stored as an empty string.
                for g in &got {
                    l.push_back(g.as_deref().unwrap_or(b""));
                }
            }
            keys.put(1, Entry::new(Value::List(l), None));
        }
        return out.int(n as i64);
    }
    out.array(n);
    if o.gets.is_empty() {
        for it in range {
            out.bulk(&it.elem);
        }
    } else {
        for g in &got {
            match g {
                Some(b) => out.bulk(b),
                None => out.null(),
            }
        }
    }
}

/// Like Redis 7.0, SORT (and SORT_RO) leave a sorted set they read in the skiplist encoding.
fn to_skiplist(keys: &mut dyn Keys) {
    if !matches!(
        keys.get(0).map(|e| &e.value),
        Some(Value::ZSet(ZSetValue::Pack(_)))
    ) {
        return;
    }
    if let Some(mut z) = get_mut_as::<ZSetValue>(keys, 0) {
        let pairs = z
            .iter_from(0, false)
            .map(|(m, s)| (Box::<[u8]>::from(m), s))
            .collect();
        let limits = ZSetLimits {
            max_entries: 0,
            max_value: 0,
        };
        *z = ZSetValue::from_pairs(pairs, limits);
        // Only the encoding changed: nobody needs to hear of it, as Redis tells nobody.
        z.unchanged();
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
    use crate::txn::LocalKeys;
    use rustis_storage::string::StrValue;
    use rustis_storage::Shard;

    fn sorted(items: &[&str], alpha: bool, desc: bool) -> Vec<String> {
        let mut v: Vec<Sortable> = items
            .iter()
            .map(|s| {
                let mut it = Sortable::new(s.as_bytes().to_vec());
                it.score = parse_sort_weight(s.as_bytes()).unwrap_or(0.0);
                it
            })
            .collect();
        op_sort(&mut v, alpha, false, desc);
        v.into_iter()
            .map(|s| String::from_utf8(s.elem).unwrap_or_default())
            .collect()
    }

    #[test]
    fn numeric_alpha_limit() {
        assert_eq!(sorted(&["3", "1", "2"], false, false), ["1", "2", "3"]);
        assert_eq!(sorted(&["a", "c", "b"], true, true), ["c", "b", "a"]);
        // Equal weights (-0 and 0 included) fall back to the bytes.
        assert_eq!(
            sorted(&["1.0", "01", "-0", "0"], false, false),
            ["-0", "0", "01", "1.0"]
        );
        assert_eq!(limit_range(2, Some((5, 2))), (1, 0));
        assert_eq!(limit_range(2, Some((1, i64::MAX))), (1, 1));
        assert_eq!(limit_range(6, Some((-1, 2))), (0, 1));
        assert_eq!(limit_range(0, None), (-1, -2));
    }

    #[test]
    fn patterns_resolve_like_redis() {
        use PatternTarget::*;
        assert_eq!(pattern_target(b"#", b"x"), Itself);
        assert_eq!(pattern_target(b"nosort", b"x"), Nothing);
        assert_eq!(pattern_target(b"w_*", b"1"), Key(b"w_1".to_vec(), None));
        assert_eq!(pattern_target(b"a*b*", b"1"), Key(b"a1b*".to_vec(), None));
        assert_eq!(
            pattern_target(b"h_*->f->g", b"1"),
            Key(b"h_1".to_vec(), Some(&b"f->g"[..]))
        );
        // An arrow with nothing behind it, or before the star, is part of the key name.
        assert_eq!(pattern_target(b"h_*->", b"1"), Key(b"h_1->".to_vec(), None));
        assert_eq!(pattern_target(b"a->*", b"1"), Key(b"a->1".to_vec(), None));
        assert_eq!(pattern_target(b"a\0*", b"1"), Nothing);
    }

    #[test]
    fn store_key_is_found_past_options() {
        let a: Vec<Bytes> = ["SORT", "k", "GET", "#", "LIMIT", "0", "1", "STORE", "d"]
            .iter()
            .map(|s| Bytes::from(*s))
            .collect();
        assert_eq!(sort_keys(&a), Ok(vec![1, 8]));
    }

    fn args(a: &[&str]) -> Vec<Bytes> {
        a.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    #[test]
    fn a_key_on_another_shard_stops_sort_before_it_replies() {
        // Shard 0 of 2: find a weight key that lives on shard 1.
        let mut shard = Shard::new(0, 2, 1);
        let mut l = ListValue::new();
        for e in ["1", "2", "3", "4"] {
            l.push_back(e.as_bytes());
        }
        shard.db(0).insert(b"{t}l", Value::List(l), None);
        for e in ["1", "2", "3", "4"] {
            let k = format!("w_{e}");
            shard
                .db(0)
                .insert(k.as_bytes(), Value::Str(StrValue::from_bytes(b"5")), None);
        }
        let a = args(&["SORT", "{t}l", "BY", "w_*"]);
        let mut out = Out::new(false);
        let mut view = LocalKeys::new(&mut shard, 0, vec![a[1].clone()]);
        txn_sort(&mut view, &a, &mut out);
        let remote: Vec<&str> = ["w_1", "w_2", "w_3", "w_4"]
            .into_iter()
            .filter(|k| rustis_storage::slot::shard_of(k.as_bytes(), 2) != 0)
            .collect();
        assert!(!remote.is_empty());
        assert_eq!(view.needed().len(), remote.len());
        assert!(out.buf.is_empty());
    }
}
