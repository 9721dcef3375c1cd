//! Classifiers turn free text into an intent and a calibrated confidence (docs/classifier.md).
//!
//! [`Classifier`] is what `decide` asks; [`Builtin`] is the one every plan carries, offline and
//! deterministic: an evidence index over the intents' descriptions and examples (`index.rs`,
//! BM25 over stemmed terms with trigram matching for typos, from `text.rs`) and a calibration
//! fitted by leave-one-out when the plan is built (`calibrate.rs`): a logistic regression on
//! the best intent's features times an explicit "is this text about the mesh" factor. Another
//! classifier (an embedding model, an LLM, a service) plugs in through the same trait, or, in
//! the sidecar, over HTTP (`server/classify.rs`).

pub mod calibrate;
pub mod index;
pub mod report;
pub mod text;
pub mod vectors;

use crate::plan::{ClassifierParams, Intent, IntentId};
use calibrate::Calibration;
use index::{Index, Scores};
use std::sync::Arc;

/// One intent and the probability that the text means it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub intent: IntentId,
    pub score: f64,
}

/// What a classifier says about a text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Classification {
    /// The intents the text may mean, most probable first (ties by intent index). The first
    /// one's score is the probability that it is the intent the text means; the runners-up
    /// share the rest of the probability that the text is about the mesh, by their evidence.
    /// Intents left out have probability 0.
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
    index: Arc<Index>,
    calibration: Calibration,
}

/// A mesh's evidence fitted (see [`Builtin::fit_held`]): the calibration, the index it was
/// fitted on, and every example scored without itself.
pub struct Fitted {
    pub calibration: Calibration,
    pub index: Arc<Index>,
    pub held: Vec<calibrate::HeldOut>,
    /// What the fitted classifier answers for each of `held`, with no floor: worked out
    /// once per fit for the checks that read it (W0007).
    pub answers: Vec<report::Outcome>,
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builtin")
            .field("intents", &self.index.intents())
            .field("calibration", &self.calibration)
            .finish()
    }
}

/// The calibration a plan stores (the defaults for a plan that carries none).
fn calibration_of(params: &ClassifierParams) -> Calibration {
    let default = Calibration::default();
    Calibration {
        weights: params
            .weights
            .as_slice()
            .try_into()
            .unwrap_or(default.weights),
        reference: params.coverage.unwrap_or(default.reference),
        ..default
    }
}

/// Each intent's description and examples, in plan order: all the classifier reads of a plan.
pub fn evidence(intents: &[Intent]) -> impl Iterator<Item = (Option<&str>, &[String])> {
    intents
        .iter()
        .map(|i| (i.description.as_deref(), i.examples.as_slice()))
}

impl Builtin {
    /// Indexes the intents' evidence, with the plan's fitted calibration (the defaults for a
    /// plan that carries none). The engine has validated `params`.
    pub fn new(intents: &[Intent], params: &ClassifierParams) -> Builtin {
        Builtin::with_index(Arc::new(Index::new(evidence(intents))), params)
    }

    /// Fits the calibration of a plan's intents: what the compiler stores in the plan.
    pub fn fit(intents: &[Intent]) -> Calibration {
        Builtin::fit_held(evidence(intents)).calibration
    }

    /// As [`Builtin::fit`], on the intents' [`evidence`], keeping what the fit was made of:
    /// the index of the evidence and every example scored without itself, so a check of the
    /// examples (`report::report_with`) needs neither again. Build the classifier with
    /// [`Builtin::with_index`].
    pub fn fit_held<'e>(
        evidence: impl IntoIterator<Item = (Option<&'e str>, &'e [String])>,
    ) -> Fitted {
        let index = Arc::new(Index::new(evidence));
        let held = calibrate::leave_one_out(&index);
        let calibration = calibrate::fit(&held);
        let fitted = Builtin {
            index: Arc::clone(&index),
            calibration,
        };
        Fitted {
            answers: report::outcomes(&fitted, &held, 0.0),
            calibration,
            index,
            held,
        }
    }

    /// As [`Builtin::new`], on an index already built from the same intents.
    pub fn with_index(index: Arc<Index>, params: &ClassifierParams) -> Builtin {
        Builtin {
            index,
            calibration: calibration_of(params),
        }
    }

    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// True when no intent has a description or an example.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Probabilities from a text's scores (see [`Classification`]): the best intent gets the
    /// calibrated confidence `q · d`; the others share `d · (1 − q)` in proportion to their
    /// shares; `none` is the rest.
    pub fn calibrate(&self, s: &Scores) -> Classification {
        let Some(first) = s.candidates.first() else {
            return Classification {
                ranked: Vec::new(),
                none: 1.0,
            };
        };
        let best = self.calibration.confidence(s);
        let d = self.calibration.in_domain(s);
        let rest = (d - best).max(0.0);
        let others: f64 = s.candidates.iter().skip(1).map(|c| c.share).sum();
        let mut ranked = vec![Scored {
            intent: first.intent,
            score: best,
        }];
        if others > 0.0 {
            ranked.extend(s.candidates.iter().skip(1).map(|c| Scored {
                intent: c.intent,
                // Never above the best: the order is the evidence's.
                score: (rest * c.share / others).min(best),
            }));
        }
        let none = (1.0 - ranked.iter().map(|x| x.score).sum::<f64>()).clamp(0.0, 1.0);
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
mod scoring_props;

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
            tool: None,
            output: None,
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
        let fitted = Builtin::fit(&intents);
        let params = ClassifierParams {
            weights: fitted.weights.to_vec(),
            coverage: Some(fitted.reference),
            floor: None,
        };
        let c = Builtin::new(&intents, &params);
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
    fn common_words_are_no_evidence_of_the_mesh() {
        let intents = mesh();
        let fitted = Builtin::fit(&intents);
        let params = ClassifierParams {
            weights: fitted.weights.to_vec(),
            coverage: Some(fitted.reference),
            floor: None,
        };
        let c = Builtin::new(&intents, &params);
        // "which" and "are" are common words the evidence holds; "planets" and "hottest" are
        // content words it does not: an intent, at no more than the floor of `d`.
        let r = c.rank("which planets are the hottest");
        assert!(
            r.best()
                .is_some_and(|b| b.score > 0.0 && b.score <= calibrate::DOMAIN_MIN),
            "{r:?}"
        );
        // The same question about invoices knows a content word: fully about the mesh.
        let r = c.rank("which invoices are the oldest");
        assert!(r.best().is_some_and(|b| b.score > 0.5), "{r:?}");
        // "there" is a common word, not a misspelling of "where": nothing in common at all.
        let r = c.rank("hello there");
        assert!(r.ranked.is_empty() && r.none == 1.0, "{r:?}");
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
