//! The built-in classifier (the "semantic gateway"): turns free text into an intent and a
//! confidence, offline and deterministically, from the intents' `examples`.
//!
//! Features are lowercased words and the character trigrams of each word (so "invoice" and
//! "invoices" still meet), weighted by TF-IDF over all examples. An intent's score is the best
//! cosine similarity between the text and one of its examples; the confidence is that score
//! (0..1). The runners-up go into the decision's trace.

use std::collections::HashMap;

pub struct Classifier {
    /// Feature → (index, idf).
    vocab: HashMap<String, (u32, f32)>,
    /// (intent, normalised sparse vector of one example), sorted by feature index.
    examples: Vec<(u32, Vec<(u32, f32)>)>,
}

/// One scored intent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub intent: u32,
    pub score: f64,
}

fn features(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let w = word.to_lowercase();
        let padded: Vec<char> = format!("<{w}>").chars().collect();
        for tri in padded.windows(3) {
            out.push(tri.iter().collect::<String>());
        }
        out.push(format!("w:{w}"));
    }
    out
}

fn counts(text: &str) -> HashMap<String, f32> {
    let mut m = HashMap::new();
    for f in features(text) {
        *m.entry(f).or_insert(0.0) += 1.0;
    }
    m
}

impl Classifier {
    /// Builds the classifier from (intent, example) pairs.
    pub fn new<'e>(examples: impl IntoIterator<Item = (u32, &'e str)>) -> Classifier {
        let docs: Vec<(u32, HashMap<String, f32>)> =
            examples.into_iter().map(|(i, t)| (i, counts(t))).collect();
        let mut df: HashMap<&str, f32> = HashMap::new();
        for (_, c) in &docs {
            for f in c.keys() {
                *df.entry(f.as_str()).or_insert(0.0) += 1.0;
            }
        }
        let n = docs.len() as f32;
        let mut names: Vec<&str> = df.keys().copied().collect();
        names.sort_unstable();
        let vocab: HashMap<String, (u32, f32)> = names
            .iter()
            .enumerate()
            .map(|(i, f)| {
                (
                    (*f).to_string(),
                    (
                        i as u32,
                        ((1.0 + n) / (1.0 + df.get(f).copied().unwrap_or(0.0))).ln() + 1.0,
                    ),
                )
            })
            .collect();
        let examples = docs
            .iter()
            .map(|(i, c)| (*i, vectorize(&vocab, c)))
            .collect();
        Classifier { vocab, examples }
    }

    /// Every intent that has examples, best first (ties by intent index).
    pub fn rank(&self, text: &str) -> Vec<Scored> {
        let q = vectorize(&self.vocab, &counts(text));
        let mut best: HashMap<u32, f64> = HashMap::new();
        for (intent, v) in &self.examples {
            let s = f64::from(dot(&q, v)).clamp(0.0, 1.0);
            let e = best.entry(*intent).or_insert(0.0);
            if s > *e {
                *e = s;
            }
        }
        let mut out: Vec<Scored> = best
            .into_iter()
            .map(|(intent, score)| Scored { intent, score })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.intent.cmp(&b.intent)));
        out
    }

    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }
}

fn vectorize(
    vocab: &HashMap<String, (u32, f32)>,
    counts: &HashMap<String, f32>,
) -> Vec<(u32, f32)> {
    let mut v: Vec<(u32, f32)> = counts
        .iter()
        .filter_map(|(f, tf)| vocab.get(f).map(|(i, idf)| (*i, tf * idf)))
        .collect();
    v.sort_unstable_by_key(|(i, _)| *i);
    let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|(_, x)| *x /= norm);
    }
    v
}

fn dot(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut s) = (0, 0, 0.0);
    while let (Some((ia, xa)), Some((ib, xb))) = (a.get(i), b.get(j)) {
        match ia.cmp(ib) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += xa * xb;
                i += 1;
                j += 1;
            }
        }
    }
    s
}

/// Edit distance, for "did you mean" on unknown intent names.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let cur = row.get(j + 1).copied().unwrap_or(0);
            let left = row.get(j).copied().unwrap_or(0);
            let best = (prev + usize::from(ca != *cb)).min(cur + 1).min(left + 1);
            if let Some(slot) = row.get_mut(j + 1) {
                *slot = best;
            }
            prev = cur;
        }
    }
    row.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_intent_whose_examples_are_closest() {
        let c = Classifier::new([
            (
                0,
                "summarize all overdue invoices and predict risk exposure",
            ),
            (0, "which invoices are late and how exposed are we"),
            (1, "where is my parcel"),
            (1, "track package 1Z999"),
        ]);
        let r = c.rank("which of our invoices are overdue?");
        assert_eq!(r[0].intent, 0);
        assert!(r[0].score > r[1].score && r[0].score <= 1.0);
        assert_eq!(c.rank("where's my package")[0].intent, 1);
        assert_eq!(
            c.rank("summarize all overdue invoices and predict risk exposure")[0].score,
            1.0
        );
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("fetch_ledger", "fetch_ledgr"), 1);
        assert_eq!(distance("", "abc"), 3);
    }
}
