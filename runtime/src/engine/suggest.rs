//! "Did you mean": the known intents nearest to a name the plan does not have, for the reason of
//! the `deny`. Any client can name an unknown intent, so this is on the hot path and bounded:
//! the names are filed at load by length in characters; a name is compared only with names
//! whose length is within the best distance found so far (the length difference is a lower
//! bound of the edit distance), nearest in sorted order first (names sharing its prefix), each
//! by a bit-parallel edit distance (Myers) that gives up past that bound, and at most
//! `MAX_COMPARED` names are compared at all. When no more than `MAX_COMPARED` names are
//! within reach the answer is exactly the exhaustive search's: the three nearest by
//! (distance, name), each at most the name's length in bytes (at least 3) away. Past that, the
//! nearest names may be missed for others as near, or nearer in sorted order
//! (docs/performance.md, "Unknown intents").

use crate::limits::MAX_ECHO;
use std::collections::BTreeMap;

/// At most this many known names are compared with one unknown name.
pub const MAX_COMPARED: usize = 8;

/// How many names a suggestion lists.
const SHOWN: usize = 3;

/// The intent names by length in characters, each bucket sorted.
#[derive(Debug, Default)]
pub(crate) struct Suggest {
    /// Sorted by length.
    by_len: Vec<(usize, Bucket)>,
}

/// The names of one length, sorted, in one string (the names near in sorted order are near
/// in memory), with their first 16 bytes as numbers to bisect without touching the text.
#[derive(Debug, Default)]
struct Bucket {
    text: String,
    /// Name `k` is `text[ends[k - 1]..ends[k]]` (from 0 for the first).
    ends: Vec<usize>,
    keys: Vec<u128>,
}

/// The first 16 bytes of a name as a number ordered as the names are (zero-padded).
fn key(name: &str) -> u128 {
    let mut b = [0u8; 16];
    for (slot, c) in b.iter_mut().zip(name.bytes()) {
        *slot = c;
    }
    u128::from_be_bytes(b)
}

impl Bucket {
    fn new(mut names: Vec<&str>) -> Bucket {
        names.sort_unstable();
        let mut b = Bucket::default();
        for n in names {
            b.text.push_str(n);
            b.ends.push(b.text.len());
            b.keys.push(key(n));
        }
        b
    }

    fn name(&self, k: usize) -> &str {
        let start = k.checked_sub(1).and_then(|j| self.ends.get(j)).copied();
        let end = self.ends.get(k).copied().unwrap_or(0);
        self.text.get(start.unwrap_or(0)..end).unwrap_or_default()
    }
}

/// The best names so far, nearest first by (distance, name).
struct Best<'n> {
    found: [(usize, &'n str); SHOWN],
    len: usize,
    /// The farthest a name may be to be listed at all.
    limit: usize,
}

impl<'n> Best<'n> {
    /// A name farther than this cannot enter the list.
    fn bound(&self) -> usize {
        match self.found.get(SHOWN - 1) {
            Some(&(d, _)) if self.len == SHOWN => d,
            _ => self.limit,
        }
    }

    fn offer(&mut self, d: usize, name: &'n str) {
        if d > self.bound() {
            return;
        }
        let mut at = self.len.min(SHOWN - 1);
        if self.len == SHOWN && self.found.get(at).is_some_and(|&f| f <= (d, name)) {
            return;
        }
        // Shift the farther ones one place down, dropping the last when full.
        while at > 0 {
            match self.found.get(at - 1) {
                Some(&prev) if prev > (d, name) => {
                    if let Some(slot) = self.found.get_mut(at) {
                        *slot = prev;
                    }
                    at -= 1;
                }
                _ => break,
            }
        }
        if let Some(slot) = self.found.get_mut(at) {
            *slot = (d, name);
        }
        self.len = (self.len + 1).min(SHOWN);
    }
}

impl Suggest {
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Suggest {
        let mut by_len: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
        for n in names {
            by_len.entry(n.chars().count()).or_default().push(n);
        }
        let by_len = by_len
            .into_iter()
            .map(|(len, names)| (len, Bucket::new(names)))
            .collect();
        Suggest { by_len }
    }

    /// The nearest known names to `name`, nearest first (at most three); none for a name
    /// longer than an answer repeats (`MAX_ECHO`): a name that long is no typo.
    pub fn nearest(&self, name: &str) -> Vec<&str> {
        if name.len() > MAX_ECHO {
            return Vec::new();
        }
        let Some(query) = Pattern::new(name) else {
            return Vec::new();
        };
        let n = query.len;
        let mut best = Best {
            found: [(0, ""); SHOWN],
            len: 0,
            limit: name.len().max(3),
        };
        let mut compared = 0;
        // The lengths below `n` are `..lo`, those from `n` on `hi..`: taken nearest first.
        let mut lo = self.by_len.partition_point(|(l, _)| *l < n);
        let mut hi = lo;
        'search: loop {
            let below = lo.checked_sub(1).and_then(|i| self.by_len.get(i));
            let above = self.by_len.get(hi);
            let (len, bucket) = match (below, above) {
                (Some(b), Some(a)) if n - b.0 < a.0 - n => {
                    lo -= 1;
                    b
                }
                (_, Some(a)) => {
                    hi += 1;
                    a
                }
                (Some(b), None) => {
                    lo -= 1;
                    b
                }
                (None, None) => break,
            };
            if len.abs_diff(n) > best.bound() {
                break;
            }
            // Nearest in sorted order first: names sharing the longest prefix.
            // Nearest in sorted order first (by the first 16 bytes): names sharing a prefix.
            let probe = key(name);
            let pos = bucket.keys.partition_point(|k| *k < probe);
            let mut left = (0..pos).rev();
            let mut right = pos..bucket.ends.len();
            loop {
                let next = [right.next(), left.next()];
                if next.iter().all(Option::is_none) {
                    break;
                }
                for cand in next.into_iter().flatten().map(|k| bucket.name(k)) {
                    if compared == MAX_COMPARED {
                        break 'search;
                    }
                    compared += 1;
                    if let Some(d) = query.distance_within(cand, best.bound()) {
                        best.offer(d, cand);
                    }
                }
            }
        }
        best.found
            .iter()
            .take(best.len)
            .map(|&(_, name)| name)
            .collect()
    }
}

/// A name of at most 64 characters, ready for Myers' bit-parallel edit distance (Hyyrö's
/// form for the whole string): each character of another name costs a dozen word operations,
/// whatever the lengths.
struct Pattern {
    /// Per ASCII character, the positions where the name has it.
    ascii: [u64; 128],
    /// The other characters, with their positions.
    other: [(char, u64); MAX_ECHO],
    others: usize,
    len: usize,
}

impl Pattern {
    /// `None` for a name of more than 64 characters.
    fn new(name: &str) -> Option<Pattern> {
        let mut p = Pattern {
            ascii: [0; 128],
            other: [('\0', 0); MAX_ECHO],
            others: 0,
            len: 0,
        };
        for (i, c) in name.chars().enumerate() {
            if i >= 64 {
                return None;
            }
            let bit = 1u64 << i;
            p.len = i + 1;
            if let Some(slot) = p.ascii.get_mut(c as usize) {
                *slot |= bit;
                continue;
            }
            let known = p.other.iter_mut().take(p.others).find(|(o, _)| *o == c);
            match known {
                Some((_, mask)) => *mask |= bit,
                None => {
                    if let Some(slot) = p.other.get_mut(p.others) {
                        *slot = (c, bit);
                        p.others += 1;
                    }
                }
            }
        }
        Some(p)
    }

    fn positions(&self, c: char) -> u64 {
        match self.ascii.get(c as usize) {
            Some(&m) => m,
            None => self
                .other
                .iter()
                .take(self.others)
                .find(|(o, _)| *o == c)
                .map_or(0, |&(_, m)| m),
        }
    }

    /// The edit distance (Levenshtein, in characters) to `b` if it is at most `bound`.
    fn distance_within(&self, b: &str, bound: usize) -> Option<usize> {
        let m = self.len;
        if m == 0 {
            let n = b.chars().count();
            return (n <= bound).then_some(n);
        }
        let last = 1u64 << (m - 1);
        let mut pv: u64 = if m == 64 { !0 } else { (1u64 << m) - 1 };
        let mut mv: u64 = 0;
        let mut score = m;
        let mut step = |eq: u64, left: usize| -> bool {
            let xv = eq | mv;
            let xh = ((eq & pv).wrapping_add(pv) ^ pv) | eq;
            let ph = mv | !(xh | pv);
            let mh = pv & xh;
            // Branch-free: the last row's horizontal delta is +1, -1 or 0.
            score = score + usize::from(ph & last != 0) - usize::from(mh & last != 0);
            let ph = (ph << 1) | 1;
            let mh = mh << 1;
            pv = mh | !(xv | ph);
            mv = ph & xv;
            // Each character left lowers the distance by one at most.
            score <= bound.saturating_add(left)
        };
        if b.is_ascii() {
            let bytes = b.as_bytes();
            for (i, &c) in bytes.iter().enumerate() {
                let eq = self.ascii.get(usize::from(c)).copied().unwrap_or(0);
                if !step(eq, bytes.len() - i - 1) {
                    return None;
                }
            }
        } else {
            for (at, c) in b.char_indices() {
                // At most one character per byte left.
                if !step(self.positions(c), b.len().saturating_sub(at + c.len_utf8())) {
                    return None;
                }
            }
        }
        (score <= bound).then_some(score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classifier::distance;
    use proptest::prelude::*;

    /// The exhaustive search the index replaced.
    fn exhaustive<'a>(names: &[&'a str], name: &str) -> Vec<&'a str> {
        if name.len() > MAX_ECHO {
            return Vec::new();
        }
        let mut all: Vec<(usize, &str)> = names.iter().map(|n| (distance(name, n), *n)).collect();
        all.sort();
        all.iter()
            .take(3)
            .filter(|(d, _)| *d <= name.len().max(3))
            .map(|(_, n)| *n)
            .collect()
    }

    fn nearest(names: &[&str], name: &str) -> Vec<String> {
        let s = Suggest::new(names.iter().copied());
        s.nearest(name).into_iter().map(String::from).collect()
    }

    /// A name as long as an answer repeats (64 bytes) is looked up; one byte more is not, even
    /// when its characters are fewer; and a 64-character pattern reads its last character.
    #[test]
    fn names_up_to_max_echo_bytes_are_looked_up() {
        let known = format!("{}b", "a".repeat(MAX_ECHO - 1));
        let longest = "a".repeat(MAX_ECHO);
        assert_eq!(nearest(&[&known], &longest), [known.as_str()]);
        assert_eq!(
            nearest(&[&longest], &known),
            [longest.as_str()],
            "one edit away"
        );
        let wide = format!("é{}", "a".repeat(MAX_ECHO - 1));
        assert_eq!(wide.chars().count(), MAX_ECHO);
        assert_eq!(nearest(&[&longest], &wide), Vec::<String>::new());
    }

    /// A name exactly as far as the limit (its length, at least 3) is listed, even from
    /// another length; one edit farther is not.
    #[test]
    fn the_limit_is_the_names_length() {
        assert_eq!(nearest(&["abcdwxyz"], "abcd"), ["abcdwxyz"]);
        assert_eq!(nearest(&["abcdvwxyz"], "abcd"), Vec::<String>::new());
        assert_eq!(nearest(&["wxyz"], "a"), Vec::<String>::new());
        assert_eq!(nearest(&["xyz"], "a"), ["xyz"], "at least 3");
    }

    /// Past `MAX_COMPARED` names, those compared are the nearest in sorted order, alternately
    /// after and before the name: here n, l, o, k, p, j, q, i, all one edit away, of which the
    /// first three by name are listed (not a, b, c, which the exhaustive search would list).
    #[test]
    fn past_the_cap_the_names_compared_are_the_nearest_in_sorted_order() {
        let letters: Vec<String> = ('a'..='z')
            .filter(|c| *c != 'm')
            .map(String::from)
            .collect();
        let names: Vec<&str> = letters.iter().map(String::as_str).collect();
        assert_eq!(nearest(&names, "m"), ["i", "j", "k"]);
        assert_eq!(exhaustive(&names, "m"), ["a", "b", "c"]);
    }

    /// The index bisects on the first 16 bytes: names that share them with the unknown name
    /// are compared from the first in sorted order (a..h of 25, all one edit away), not from
    /// the last.
    #[test]
    fn past_16_bytes_the_names_compared_are_the_first_in_sorted_order() {
        let prefix = "abcdefghijklmnop";
        let names: Vec<String> = ('a'..='z')
            .filter(|c| *c != 'm')
            .map(|c| format!("{prefix}{c}"))
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let first: Vec<String> = ["a", "b", "c"].map(|c| format!("{prefix}{c}")).into();
        assert_eq!(nearest(&names, &format!("{prefix}m")), first);
    }

    /// Lengths are searched nearest first, the longer first when two are as near: a 5-letter
    /// name meets the 6-letter names before the 4-letter ones, the 4-letter ones before the
    /// 7-letter ones, and the 7-letter ones before the 3-letter ones.
    #[test]
    fn lengths_are_searched_nearest_first() {
        let shorter = [
            "abca", "abcb", "abcc", "abcd", "abce", "abde", "acde", "bcde",
        ];
        let longer: Vec<String> = ('a'..='h').map(|c| format!("abcde{c}")).collect();
        let mut names: Vec<&str> = shorter.to_vec();
        names.extend(longer.iter().map(String::as_str));
        assert_eq!(nearest(&names, "abcde"), ["abcdea", "abcdeb", "abcdec"]);

        let farther: Vec<String> = ('a'..='h').map(|c| format!("abcdea{c}")).collect();
        let mut names = vec!["abcd", "abcdez"];
        names.extend(farther.iter().map(String::as_str));
        assert_eq!(nearest(&names, "abcde"), ["abcd", "abcdez", "abcdeaa"]);

        // Two lengths as near (3 and 7, both two away): the longer first, and it fills the cap.
        let mut names = vec!["abc"];
        names.extend(farther.iter().map(String::as_str));
        assert_eq!(nearest(&names, "abcde"), ["abcdeaa", "abcdeab", "abcdeac"]);
        assert_eq!(exhaustive(&names, "abcde"), ["abc", "abcdeaa", "abcdeab"]);
    }

    proptest! {
        #[test]
        fn the_bit_parallel_distance_is_the_distance(
            a in "[abcé]{0,64}", b in "[abcéü]{0,70}|[abc_]{0,70}", bound in 0usize..80,
        ) {
            let d = distance(&a, &b);
            let got = Pattern::new(&a).unwrap().distance_within(&b, bound);
            prop_assert_eq!(got, (d <= bound).then_some(d));
        }

        /// With fewer names than the cap, the index answers what the exhaustive search does.
        #[test]
        fn few_names_give_the_exhaustive_answer(
            names in proptest::collection::btree_set("[ab_é]{0,8}", 0..MAX_COMPARED),
            name in "[ab_é]{0,9}",
        ) {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let s = Suggest::new(names.iter().copied());
            prop_assert_eq!(s.nearest(&name), exhaustive(&names, &name));
        }
    }
}
