//! Glob-style pattern matching with Redis's exact rules (`stringmatchlen`): `*`, `?`,
//! `[abc]`, `[^a]`, `[a-z]`, and `\` to escape. Used by KEYS, SCAN MATCH, HSCAN/SSCAN/ZSCAN
//! MATCH, CONFIG GET and pub/sub patterns.
//!
//! The matcher is iterative and runs in O(pattern × string) time and O(1) space, whatever the
//! pattern: it never recurses, so no pattern can exhaust the stack or take exponential time.
//! It only ever backtracks to the most recent `*`. That gives the same answers as Redis's
//! recursive matcher: once a later `*` has been reached, letting an earlier `*` swallow more of
//! the string can only start that later `*` further right, where it has already failed (Redis
//! 7.0.9 cut its search short on exactly this argument with `skipLongerMatches`).

/// Whether `s` matches `pattern`. `nocase` compares ASCII letters without case.
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    let (mut pi, mut si) = (0, 0);
    // The most recent `*`: where the pattern resumes after it, and the first string position
    // it has not yet swallowed.
    let mut star: Option<(usize, usize)> = None;
    loop {
        let step = if pi < pattern.len() && si < s.len() {
            if pattern[pi] == b'*' {
                while pi + 1 < pattern.len() && pattern[pi + 1] == b'*' {
                    pi += 1;
                }
                if pi + 1 == pattern.len() {
                    // A trailing `*` swallows the (non-empty) rest of the string.
                    return true;
                }
                pi += 1;
                star = Some((pi, si));
                continue;
            }
            match match_one(pattern, pi, s[si], nocase) {
                Some(next) => {
                    pi = next;
                    si += 1;
                    if si == s.len() {
                        // The string is used up: only `*`s may be left of the pattern. These
                        // `*`s are skipped, not entered, so they become no backtrack point.
                        while pi < pattern.len() && pattern[pi] == b'*' {
                            pi += 1;
                        }
                        pi == pattern.len()
                    } else {
                        continue;
                    }
                }
                None => false,
            }
        } else {
            pi == pattern.len() && si == s.len()
        };
        if step {
            return true;
        }
        // A mismatch: let the most recent `*` swallow one more character. A `*` only ever
        // matches a proper prefix of what is left of the string (the rest of the pattern needs
        // at least one character), so once it reaches the last one the match has failed.
        match star {
            Some((star_pi, star_si)) if star_si + 1 < s.len() => {
                star = Some((star_pi, star_si + 1));
                pi = star_pi;
                si = star_si + 1;
            }
            _ => return false,
        }
    }
}

/// Matches the single-character pattern element at `pattern[pi]` (not a `*`) against `c`, and
/// returns where the next element starts, or `None` on a mismatch.
fn match_one(pattern: &[u8], mut pi: usize, c: u8, nocase: bool) -> Option<usize> {
    match pattern[pi] {
        b'?' => Some(pi + 1),
        b'[' => match_class(pattern, pi + 1, c, nocase),
        b'\\' if pi + 1 < pattern.len() => {
            pi += 1;
            eq(pattern[pi], c, nocase).then_some(pi + 1)
        }
        p => eq(p, c, nocase).then_some(pi + 1),
    }
}

/// Matches the class whose body starts at `pattern[pi]` (just after its `[`) against `c`.
///
/// Redis's rules, quirks included: `\x` stands for `x`; `a-z` is a range whose ends may come in
/// either order and compare as C's signed `char`s; a class with no closing `]` takes the rest of
/// the pattern, except that its last character then both belongs to the class and ends the
/// pattern.
fn match_class(pattern: &[u8], mut pi: usize, c: u8, nocase: bool) -> Option<usize> {
    let not = pi < pattern.len() && pattern[pi] == b'^';
    if not {
        pi += 1;
    }
    let mut matched = false;
    let end = loop {
        let rest = pattern.len() - pi;
        if rest >= 2 && pattern[pi] == b'\\' {
            pi += 1;
            // An escaped character is compared exactly, even under `nocase`, as Redis does.
            matched |= pattern[pi] == c;
        } else if rest >= 1 && pattern[pi] == b']' {
            break pi + 1;
        } else if rest == 0 {
            // Unterminated: the class ends the pattern.
            break pattern.len();
        } else if rest >= 3 && pattern[pi + 1] == b'-' {
            let (mut lo, mut hi) = (pattern[pi] as i8, pattern[pi + 2] as i8);
            if lo > hi {
                std::mem::swap(&mut lo, &mut hi);
            }
            let mut ch = c as i8;
            if nocase {
                lo = to_lower(lo);
                hi = to_lower(hi);
                ch = to_lower(ch);
            }
            matched |= lo <= ch && ch <= hi;
            pi += 2;
        } else {
            matched |= eq(pattern[pi], c, nocase);
        }
        pi += 1;
    };
    (matched != not).then_some(end)
}

fn to_lower(c: i8) -> i8 {
    (c as u8).to_ascii_lowercase() as i8
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match as m;

    #[test]
    fn redis_glob_rules() {
        assert!(m(b"*", b"anything", false));
        // Redis: an empty string matches no pattern but the empty one (KEYS * special-cases it).
        assert!(!m(b"*", b"", false));
        assert!(m(b"", b"", false));
        assert!(!m(b"", b"a", false));
        assert!(m(b"h?llo", b"hello", false));
        assert!(!m(b"h?llo", b"hllo", false));
        assert!(m(b"h*llo", b"heeeello", false));
        assert!(m(b"h*llo", b"hllo", false));
        assert!(m(b"h[ae]llo", b"hallo", false));
        assert!(!m(b"h[ae]llo", b"hillo", false));
        assert!(m(b"h[^e]llo", b"hallo", false));
        assert!(!m(b"h[^e]llo", b"hello", false));
        assert!(m(b"h[a-b]llo", b"hbllo", false));
        assert!(m(b"h[b-a]llo", b"hbllo", false));
        assert!(m(b"h\\*llo", b"h*llo", false));
        assert!(!m(b"h\\*llo", b"hello", false));
        assert!(m(b"max*", b"maxmemory", false));
        assert!(m(b"MAX*", b"maxmemory", true));
        assert!(!m(b"MAX*", b"maxmemory", false));
        assert!(m(b"a*b*", b"ab", false));
        assert!(!m(b"abc", b"ab", false));
        assert!(!m(b"ab", b"abc", false));
        assert!(m(b"*a*b", b"xaxxb", false));
        assert!(!m(b"*a*b", b"xaxxbc", false));
        assert!(m(b"*ab", b"aab", false));
        assert!(m(b"a*", b"a", false));
        assert!(!m(b"a**b", b"a", false));
    }

    #[test]
    fn classes_follow_redis_quirks() {
        // An unterminated class takes the rest of the pattern, and ends it.
        assert!(m(b"a[bc", b"ab", false));
        assert!(m(b"a[bc", b"ac", false));
        assert!(!m(b"a[bc", b"acx", false));
        assert!(!m(b"a[", b"a", false));
        // A `]` first in the class closes it: `[]` matches nothing and `[^]` everything.
        assert!(!m(b"[]a", b"a", false));
        assert!(m(b"[^]a", b"xa", false));
        // Escapes inside a class, and a lone trailing backslash is literal.
        assert!(m(b"[\\]]", b"]", false));
        assert!(m(b"[\\-]", b"-", false));
        assert!(m(b"a\\", b"a\\", false));
        // `[a-]` is the range `a`..`]` (ends swapped), left unterminated.
        assert!(m(b"[a-]", b"a", false));
        assert!(m(b"[a-]", b"_", false));
        assert!(!m(b"[a-]", b"-", false));
        assert!(m(b"[-a]", b"-", false));
        // Ranges compare as signed chars: 0x80..=0xff sort below ASCII.
        assert!(m(b"[\x80-a]", b"\xff", false));
        assert!(m(b"[\x80-a]", b"A", false));
        assert!(!m(b"[a-\xff]", b"b", false));
        assert!(m(b"[a-\xff]", b"a", false));
        assert!(m(b"[a-\xff]", b"\x00", false));
        // nocase in classes and ranges.
        assert!(m(b"[A-C]x", b"bX", true));
        assert!(m(b"[abc]", b"B", true));
        assert!(!m(b"[abc]", b"B", false));
        // An escaped class member compares exactly, even under nocase.
        assert!(!m(b"[\\a]", b"A", true));
    }

    /// A plain exponential backtracking matcher: the meaning of a Redis glob, with no pruning.
    fn reference(p: &[u8], s: &[u8], nocase: bool) -> bool {
        if p.is_empty() || s.is_empty() {
            return p.is_empty() && s.is_empty();
        }
        if p[0] == b'*' {
            let mut q = 0;
            while q + 1 < p.len() && p[q + 1] == b'*' {
                q += 1;
            }
            if q + 1 == p.len() {
                return true;
            }
            return (0..s.len()).any(|i| reference(&p[q + 1..], &s[i..], nocase));
        }
        let Some(next) = super::match_one(p, 0, s[0], nocase) else {
            return false;
        };
        let (p, s) = (&p[next..], &s[1..]);
        if s.is_empty() {
            let skip = p.iter().take_while(|&&c| c == b'*').count();
            return skip == p.len();
        }
        reference(p, s, nocase)
    }

    #[test]
    fn agrees_with_plain_backtracking_on_random_inputs() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let pat_alphabet = b"ab*?[]^-\\A";
        let str_alphabet = b"abAB-]";
        for _ in 0..200_000 {
            let plen = rng.gen_range(0..9);
            let slen = rng.gen_range(0..9);
            let p: Vec<u8> = (0..plen)
                .map(|_| pat_alphabet[rng.gen_range(0..pat_alphabet.len())])
                .collect();
            let s: Vec<u8> = (0..slen)
                .map(|_| str_alphabet[rng.gen_range(0..str_alphabet.len())])
                .collect();
            let nocase = rng.gen_bool(0.3);
            assert_eq!(
                m(&p, &s, nocase),
                reference(&p, &s, nocase),
                "pattern {:?} string {:?} nocase {nocase}",
                String::from_utf8_lossy(&p),
                String::from_utf8_lossy(&s)
            );
        }
    }

    #[test]
    fn pathological_patterns_finish() {
        let key = vec![b'a'; 40];
        let mut pat = b"a*".repeat(20);
        pat.push(b'b');
        assert!(!m(&pat, &key, false));
        // Many stars against a long string: quadratic at worst.
        let long = vec![b'a'; 100_000];
        let mut pat = b"*a".repeat(1000);
        pat.extend_from_slice(b"*b");
        assert!(!m(&pat, &long, false));
        // A pattern far longer than any stack could recurse on.
        let deep = b"*a".repeat(1_000_000);
        assert!(!m(&deep, b"aaaa", false));
        assert!(m(&deep, &vec![b'a'; 1_000_001], false));
    }
}
