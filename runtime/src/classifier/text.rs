//! From text to terms: the one analysis every piece of evidence and every request goes through,
//! so an example and a request that say the same words meet on the same terms.
//!
//! Words are runs of letters and digits, lowercased, stemmed with Snowball's English stemmer
//! (`rust-stemmers`), so "invoices" and "invoice" are one term. A word holding a digit is an
//! identifier (an order number, a tracking code, a bed): it becomes the term `#`, because the
//! value says nothing about the intent but its presence does. Common English words (the
//! stopwords-iso list of the `stop-words` crate: "the", "what", but also "tell", "good",
//! "place", "order") are kept but weigh [`GENERIC_WEIGHT`] of a content word, and so does `#`:
//! a text that shares only such words with an intent is a weak match, however short it is.
//! Character trigrams of a term (`<in`, `inv`, ... `ce>`) let a misspelt word find the term
//! it was meant to be.

use rust_stemmers::{Algorithm, Stemmer};
use std::collections::{HashMap, HashSet};

/// The most bytes of text the classifier reads; a longer text is refused by `decide` with a
/// reason (docs/classifier.md).
pub const MAX_TEXT_BYTES: usize = 16 * 1024;

/// The term every word with a digit becomes.
pub const NUMBER: &str = "#";

/// What a common word (and a number) weighs next to a content word.
pub const GENERIC_WEIGHT: f64 = 0.2;

/// Turns text into terms.
pub struct Analyzer {
    stemmer: Stemmer,
    /// The stems of the common English words.
    generic: HashSet<String>,
}

impl Default for Analyzer {
    fn default() -> Analyzer {
        let stemmer = Stemmer::create(Algorithm::English);
        let generic = stop_words::get(stop_words::LANGUAGE::English)
            .iter()
            .map(|w| stemmer.stem(&w.to_lowercase()).into_owned())
            .chain(std::iter::once(NUMBER.to_string()))
            .collect();
        Analyzer { stemmer, generic }
    }
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("generic", &self.generic.len())
            .finish()
    }
}

impl Analyzer {
    /// The terms of a text, in order, repeats kept.
    pub fn terms(&self, text: &str) -> Vec<String> {
        words(text).filter_map(|w| self.term(w)).collect()
    }

    /// [`Analyzer::terms`], with the terms of the words seen before taken from `seen`: a
    /// mesh's evidence says the same words thousands of times, and stemming was most of
    /// indexing it.
    fn terms_with(&self, text: &str, seen: &mut Stems) -> Vec<String> {
        let mut out = Vec::new();
        for word in words(text) {
            if let Some(term) = seen.0.get(word) {
                out.extend(term.iter().cloned());
                continue;
            }
            let term = self.term(word);
            out.extend(term.iter().cloned());
            seen.0.insert(word.to_string(), term);
        }
        out
    }

    /// The term of one word: `#` for a word with a digit, else its stem (none when empty).
    fn term(&self, word: &str) -> Option<String> {
        if word.chars().any(|c| c.is_numeric()) {
            return Some(NUMBER.to_string());
        }
        let lower = word.to_lowercase();
        let stem = self.stemmer.stem(&lower);
        (!stem.is_empty()).then(|| stem.into_owned())
    }

    /// What a term weighs: 1, or [`GENERIC_WEIGHT`] for a common word or a number.
    pub fn weight(&self, term: &str) -> f64 {
        if self.generic.contains(term) {
            GENERIC_WEIGHT
        } else {
            1.0
        }
    }

    /// The distinct terms of a text, sorted.
    pub fn term_set(&self, text: &str) -> Vec<String> {
        distinct(self.terms(text))
    }

    /// [`Analyzer::term_set`] with the terms of words seen before (see [`Analyzer::terms_with`]).
    pub(crate) fn term_set_with(&self, text: &str, seen: &mut Stems) -> Vec<String> {
        distinct(self.terms_with(text, seen))
    }
}

/// `terms` sorted, each once.
fn distinct(mut terms: Vec<String>) -> Vec<String> {
    terms.sort_unstable();
    terms.dedup();
    terms
}

/// The words of a text: runs of letters and digits.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// The terms of words already analysed, by word as written (for one [`Analyzer`]).
#[derive(Default)]
pub(crate) struct Stems(HashMap<String, Option<String>>);

/// The character trigrams of a term, with `<` and `>` marking its ends, sorted and distinct.
pub fn trigrams(term: &str) -> Vec<[char; 3]> {
    let padded: Vec<char> = std::iter::once('<')
        .chain(term.chars())
        .chain(std::iter::once('>'))
        .collect();
    let mut out: Vec<[char; 3]> = padded
        .windows(3)
        .filter_map(|w| w.try_into().ok())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Dice similarity of two sorted trigram sets: 1 for equal sets, 0 for disjoint ones.
pub fn dice(a: &[[char; 3]], b: &[[char; 3]]) -> f64 {
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        match x.cmp(y) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let total = a.len() + b.len();
    if total == 0 {
        0.0
    } else {
        2.0 * shared as f64 / total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_weighs_common_words_less_and_folds_numbers() {
        let a = Analyzer::default();
        assert_eq!(
            a.terms("Invoices OVERDUE? Order 4471, bed 12b"),
            ["invoic", "overdu", "order", "#", "bed", "#"]
        );
        assert_eq!(a.term_set("invoice invoices"), ["invoic"]);
        assert_eq!(a.weight("invoic"), 1.0);
        for common in ["what", "tell", "#"] {
            assert_eq!(a.weight(common), GENERIC_WEIGHT, "{common}");
        }
    }

    #[test]
    fn remembered_stems_give_the_same_terms() {
        let a = Analyzer::default();
        let mut seen = Stems::default();
        let texts = [
            "Invoices OVERDUE? Order 4471, bed 12b",
            "invoices invoice INVOICES 4471",
            "",
            "ünïcode Wörter and the the the",
            "overdue invoices, again: order 4471",
        ];
        for text in texts {
            assert_eq!(a.terms_with(text, &mut seen), a.terms(text), "{text:?}");
            assert_eq!(
                a.term_set_with(text, &mut seen),
                a.term_set(text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn trigrams_find_typos() {
        let right = trigrams("invoic");
        assert!(dice(&right, &trigrams("invoci")) > 0.4);
        assert_eq!(dice(&right, &right), 1.0);
        assert_eq!(dice(&right, &trigrams("weather")), 0.0);
        assert_eq!(trigrams("a"), [['<', 'a', '>']]);
    }
}
