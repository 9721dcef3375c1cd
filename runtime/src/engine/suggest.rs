//! "Did you mean": the known intents nearest to a name the plan does not have, for the reason of
//! the `deny`. Any client can name an unknown intent, so this is on the hot path and bounded:
//! the names are filed at load by length in characters, a name is compared only with names
//! whose length is within the best distance found so far (the length difference is a lower
//! bound of the edit distance), nearest in sorted order first, each with an edit distance
//! that stops at that bound, and at most `MAX_COMPARED` names are compared at all.
//! When fewer than `MAX_COMPARED` names are within reach the answer is exactly the
//! exhaustive search's: the three nearest by (distance, name), each at most the name's length
//! in bytes (at least 3) away (docs/performance.md, "Unknown intents").

use crate::limits::MAX_ECHO;
use std::collections::BTreeMap;

/// At most this many known names are compared with one unknown name.
pub const MAX_COMPARED: usize = 24;

/// How many names a suggestion lists.
const SHOWN: usize = 3;

/// The intent names by length in characters, each bucket sorted.
#[derive(Debug, Default)]
pub(crate) struct Suggest {
    by_len: BTreeMap<usize, Vec<Box<str>>>,
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
        let mut by_len: BTreeMap<usize, Vec<Box<str>>> = BTreeMap::new();
        for n in names {
            by_len.entry(n.chars().count()).or_default().push(n.into());
        }
        for bucket in by_len.values_mut() {
            bucket.sort();
        }
        Suggest { by_len }
    }

    /// The nearest known names to `name`, nearest first (at most three); none for a name
    /// longer than an answer repeats (`MAX_ECHO`): a name that long is no typo.
    pub fn nearest(&self, name: &str) -> Vec<&str> {
        if name.len() > MAX_ECHO {
            return Vec::new();
        }
        let mut query = ['\0'; MAX_ECHO];
        let mut n = 0;
        for (slot, c) in query.iter_mut().zip(name.chars()) {
            *slot = c;
            n += 1;
        }
        let query = query.get(..n).unwrap_or_default();
        let mut best = Best {
            found: [(0, ""); SHOWN],
            len: 0,
            limit: name.len().max(3),
        };
        let mut compared = 0;
        let mut delta = 0;
        'search: while delta <= best.bound() {
            let lens = [n.checked_sub(delta), (delta > 0).then_some(n + delta)];
            for len in lens.into_iter().flatten() {
                let Some(bucket) = self.by_len.get(&len) else {
                    continue;
                };
                // Nearest in sorted order first: names sharing the longest prefix.
                let pos = bucket.partition_point(|b| &**b < name);
                let (before, after) = bucket.split_at(pos);
                let mut left = before.iter().rev();
                let mut right = after.iter();
                loop {
                    let next = [right.next(), left.next()];
                    if next.iter().all(Option::is_none) {
                        break;
                    }
                    for cand in next.into_iter().flatten() {
                        if compared == MAX_COMPARED {
                            break 'search;
                        }
                        compared += 1;
                        let bound = best.bound();
                        if let Some(d) = bounded_distance(query, cand, bound) {
                            best.offer(d, cand);
                        }
                    }
                }
            }
            delta += 1;
        }
        best.found
            .iter()
            .take(best.len)
            .map(|&(_, name)| name)
            .collect()
    }
}

/// The edit distance (Levenshtein, in characters) between `a` and `b` if it is at most `bound`.
/// Only the cells within `bound` of the diagonal are computed: the others exceed it.
fn bounded_distance(a: &[char], b: &str, bound: usize) -> Option<usize> {
    const FAR: usize = usize::MAX / 2;
    // row[i]: the distance between a[..i] and the part of b read so far.
    let mut row = [FAR; MAX_ECHO + 1];
    for (i, slot) in row.iter_mut().enumerate().take(a.len() + 1) {
        *slot = if i <= bound { i } else { FAR };
    }
    for (j, cb) in b.chars().enumerate() {
        let j = j + 1;
        let lo = j.saturating_sub(bound);
        let hi = (j + bound).min(a.len());
        // `diag`: row[i - 1] before this column; row[0] becomes j.
        let mut diag = row.first().copied().unwrap_or(FAR);
        if let Some(first) = row.first_mut() {
            *first = if j <= bound { j } else { FAR };
        }
        let mut least = row.first().copied().unwrap_or(FAR);
        for i in 1..=a.len() {
            let up = row.get(i).copied().unwrap_or(FAR);
            let cell = if i < lo || i > hi {
                FAR
            } else {
                let left = row.get(i - 1).copied().unwrap_or(FAR);
                let same = a.get(i - 1) == Some(&cb);
                (diag + usize::from(!same)).min(up + 1).min(left + 1)
            };
            diag = up;
            if let Some(slot) = row.get_mut(i) {
                *slot = cell;
            }
            least = least.min(cell);
        }
        if least > bound {
            return None;
        }
    }
    row.get(a.len()).copied().filter(|&d| d <= bound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classifier::distance;
    use proptest::prelude::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

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

    proptest! {
        #[test]
        fn bounded_distance_is_the_distance_within_the_bound(
            a in "[abc]{0,12}", b in "[abcé]{0,14}", bound in 0usize..16,
        ) {
            let d = distance(&a, &b);
            let got = bounded_distance(&chars(&a), &b, bound);
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
