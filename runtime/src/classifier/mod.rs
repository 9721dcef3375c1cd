//! Classifiers turn free text into an intent and a calibrated confidence (docs/classifier.md).
//!
//! [`Classifier`] is what `decide` asks; [`Builtin`] is the one every plan carries, offline and
//! deterministic: an evidence index over the intents' descriptions and examples (`index.rs`,
//! BM25 over stemmed terms with trigram matching for typos, from `text.rs`) and a logistic
//! calibration fitted by leave-one-out when the plan is built (`calibrate.rs`). Another
//! classifier (an embedding model, an LLM, a service) plugs in through the same trait, or, in
//! the sidecar, over HTTP (`server/classify.rs`).

pub mod calibrate;
pub mod index;
pub mod report;
pub mod text;

use crate::plan::{Intent, IntentId};
use calibrate::probability;
use index::{Features, Index};

/// One intent and the probability that the text means it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub intent: IntentId,
    pub score: f64,
}

/// What a classifier says about a text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Classification {
    /// The intents the text may mean, most probable first (ties by intent index); each score is
    /// the probability that the text means that intent. Intents left out have probability 0.
    pub ranked: Vec<Scored>,
    /// The probability that the text means none of the plan's intents: `1 - Σ scores`.
    pub none: f64,
}

impl Classification {
    /// The most probable intent.
    pub fn best(&self) -> Option<Scored> {
        self.ranked.first().copied()
    }
}

/// Why a classifier gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassifyError(pub String);

impl std::fmt::Display for ClassifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Anything that classifies text for `decide`. It must not block for long: `decide` is
/// synchronous. A classifier that fails makes `decide` deny (fail closed); the sidecar's HTTP
/// classifier has its own timeout and fallback instead (docs/classifier.md).
pub trait Classifier: Send + Sync {
    /// The name decisions record (`builtin` for [`Builtin`]).
    fn name(&self) -> &str;
    fn classify(&self, text: &str) -> Result<Classification, ClassifyError>;
}

/// The built-in classifier of a plan.
pub struct Builtin {
    index: Index,
    weights: Features,
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builtin")
            .field("intents", &self.index.intents())
            .field("weights", &self.weights)
            .finish()
    }
}

impl Builtin {
    /// Indexes the intents' evidence; `weights` are the plan's fitted ones, or `None` for the
    /// prior (a plan that carries none).
    pub fn new(intents: &[Intent], weights: Option<Features>) -> Builtin {
        Builtin {
            index: Index::new(
                intents
                    .iter()
                    .map(|i| (i.description.as_deref(), i.examples.as_slice())),
            ),
            weights: weights.unwrap_or(calibrate::PRIOR),
        }
    }

    /// Fits the calibration of a plan's intents: what the compiler stores in the plan.
    pub fn fit(intents: &[Intent]) -> Features {
        let index = Index::new(
            intents
                .iter()
                .map(|i| (i.description.as_deref(), i.examples.as_slice())),
        );
        calibrate::fit(&calibrate::leave_one_out(&index))
    }

    pub fn weights(&self) -> &Features {
        &self.weights
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// True when no intent has a description or an example.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Calibrated probabilities from candidates (see [`Classification`]).
    pub fn calibrate(&self, candidates: &[index::Candidate]) -> Classification {
        let p: Vec<(IntentId, f64)> = candidates
            .iter()
            .map(|c| (c.intent, probability(&self.weights, &c.features)))
            .collect();
        let total: f64 = p.iter().map(|(_, x)| x).sum();
        let scale = if total > 1.0 { 1.0 / total } else { 1.0 };
        let mut ranked: Vec<Scored> = p
            .into_iter()
            .map(|(intent, x)| Scored {
                intent,
                score: x * scale,
            })
            .collect();
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.intent.cmp(&b.intent)));
        let none = (1.0 - ranked.iter().map(|s| s.score).sum::<f64>()).clamp(0.0, 1.0);
        Classification { ranked, none }
    }

    /// Classifies a text; infallible.
    pub fn rank(&self, text: &str) -> Classification {
        self.calibrate(&self.index.candidates(text, None))
    }
}

impl Classifier for Builtin {
    fn name(&self) -> &str {
        "builtin"
    }

    fn classify(&self, text: &str) -> Result<Classification, ClassifyError> {
        Ok(self.rank(text))
    }
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

    fn intent(name: &str, description: Option<&str>, examples: &[&str]) -> Intent {
        Intent {
            name: name.into(),
            description: description.map(str::to_string),
            examples: examples.iter().map(|e| e.to_string()).collect(),
            requires: vec![],
            handles: vec![],
            delegates: vec![],
            input: None,
            route: crate::plan::Route { arms: vec![] },
            src: 0,
        }
    }

    fn mesh() -> Vec<Intent> {
        vec![
            intent(
                "overdue",
                Some("Summarize overdue invoices"),
                &[
                    "summarize all overdue invoices and predict risk exposure",
                    "which invoices are late and how exposed are we",
                ],
            ),
            intent(
                "track",
                Some("Tell where a parcel is"),
                &["where is my parcel", "track package 1Z999"],
            ),
        ]
    }

    #[test]
    fn picks_the_intent_whose_evidence_is_closest_and_calibrates() {
        let intents = mesh();
        let c = Builtin::new(&intents, Some(Builtin::fit(&intents)));
        let r = c.rank("which of our invoices are overdue?");
        let best = r.best().map(|s| s.intent);
        assert_eq!(best, Some(0), "{r:?}");
        let total: f64 = r.ranked.iter().map(|s| s.score).sum::<f64>() + r.none;
        assert!((total - 1.0).abs() < 1e-9, "{r:?}");
        assert_eq!(
            c.rank("where's my pakage").best().map(|s| s.intent),
            Some(1)
        );
        // Shares only the common word "tell" with a description: more likely none of these.
        let off = c.rank("tell me a joke");
        assert!(off.none > 0.5, "{off:?}");
        let nothing = c.rank("quantum entanglement");
        assert!(
            nothing.ranked.is_empty() && nothing.none == 1.0,
            "{nothing:?}"
        );
    }

    #[test]
    fn the_fit_is_deterministic() {
        let intents = mesh();
        assert_eq!(Builtin::fit(&intents), Builtin::fit(&intents));
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("fetch_ledger", "fetch_ledgr"), 1);
        assert_eq!(distance("", "abc"), 3);
    }
}
