//! Calibration: from how a text scores against the evidence to the probability that its best
//! intent is the one it means, fitted when the plan is built.
//!
//! Two parts, multiplied (docs/classifier.md, "What the number means"):
//!
//! - **Which intent, if any of these.** `q = σ(T · w · features)`, a logistic regression on
//!   the best intent's features (its share, its margin over the runner-up, the text's coverage
//!   and length). Its weights are fitted by leave-one-out over the mesh's own examples: every
//!   example is scored against the evidence of the whole mesh without itself, and is one
//!   training pair labelled by whether its best intent is its own. The fit is a maximum a
//!   posteriori estimate: a Gaussian prior centred on [`PRIOR`] keeps a mesh with a handful of
//!   examples from fitting its noise, and weighs less as the mesh has more examples. Newton's
//!   method, a fixed number of steps, no randomness: the same mesh always gives the same
//!   weights, and they go into the plan (and its hash). Left out, an example faces weaker
//!   evidence than a request does, so the logit is sharpened by the temperature `T`
//!   ([`TEMPERATURE`]).
//! - **Whether the text is about this mesh at all.** The examples are all about the mesh, so
//!   they cannot teach what an off-topic text looks like; that signal is explicit instead:
//!   `d = DOMAIN_MIN + (1 − DOMAIN_MIN) · clamp((content − DOMAIN_START) / (DOMAIN_FULL −
//!   DOMAIN_START), 0, 1)`, where `content` is the share of the text's content words (not
//!   common words, not numbers) the mesh's evidence knows, or that are related to its best
//!   candidates (`index.rs`, `vectors.rs`). Common words are no evidence that a text is about
//!   the mesh: a text none of whose content words the mesh knows or relates to keeps at most
//!   [`DOMAIN_MIN`] of its `q`. [`TEMPERATURE`], the ramp's ends and how related a word must be
//!   ([`RELATE_LOW`], [`RELATE_HIGH`]) are constants of the runtime fitted on a development
//!   set of texts (docs/classifier.md says how; `tests/classifier_paraphrases.rs` checks it).
//!   The plan also stores the content coverage that most of the mesh's own examples reach when
//!   left out (`reference`), which `intent classify --report` prints.

use super::index::{Exclude, Features, Index, Scores, Scratch, FEATURES, RELATED_CANDIDATES};

/// The prior's centre: weights fitted (with [`fit_with`], centred on 0, precision 0.1) on the
/// pooled leave-one-out pairs of the three bundled example meshes and the support mesh in
/// `tests/classifier/` — their examples, never the paraphrase set — by the earlier per-intent
/// model, whose fourth feature was the share of the text's terms the intent matched rather than
/// the text's coverage (docs/classifier.md, "Fitting").
pub const PRIOR: Features = [-2.28, 0.58, 5.97, 0.12, 3.04];
/// The prior's precision (per weight). One pair of evidence weighs like 1/PRIOR_WEIGHT of it.
const PRIOR_WEIGHT: f64 = 2.0;
/// Newton steps; the fit stops earlier when a step moves no weight by more than 1e-9.
const STEPS: usize = 50;
/// At most this many examples take part in the fit (the first ones, in plan order).
pub const MAX_FIT_EXAMPLES: usize = 5_000;
/// The share of a mesh's own (left-out) examples whose coverage is at least the reference.
pub const REFERENCE_QUANTILE: f64 = 0.9;
/// The reference coverage of a plan that carries none.
pub const DEFAULT_REFERENCE: f64 = 0.5;
/// The temperature of `q`: the logit `w · features` is multiplied by it. Leave-one-out makes
/// each example face the evidence without itself, which is weaker than what a request faces
/// (all the evidence), so the fitted `q` may be less sure than the requests deserve. Fitted
/// once, with the ramps below, on the development set `tests/classifier/development.txt`
/// (texts written for it, never the paraphrase or held-out sets the goals are measured on) by
/// maximum likelihood on a grid; `tests/classifier_paraphrases.rs` checks that the grid's
/// best is still these numbers.
pub const TEMPERATURE: f64 = 1.0;
/// A text none of whose content words the mesh knows or relates to is about the mesh with
/// probability at most this (`d` at content coverage up to [`DOMAIN_START`]): it can still mean an intent ("order 50 boxes of
/// paper" knows only the common word "order"), but its confidence stays below it. Not fitted:
/// set under the 0.30 that issue #15 asks every off-topic text to stay below.
pub const DOMAIN_MIN: f64 = 0.25;
/// The content coverage up to which a text counts as no more about the mesh than one sharing
/// no content word with it (`d = DOMAIN_MIN`); fitted with [`TEMPERATURE`].
pub const DOMAIN_START: f64 = 0.15;
/// The content coverage from which a text counts as fully about the mesh (`d = 1`); fitted
/// with [`TEMPERATURE`].
pub const DOMAIN_FULL: f64 = 0.35;

/// How much a rarer content word weighs in the content coverage: a word whose most frequent
/// form is the `r`-th most frequent English word weighs `r^RARITY_EXPONENT` (a word the table
/// does not hold as the 40,000th; docs/classifier.md, "Rare words say more"). Fitted with
/// [`TEMPERATURE`]: the development set's likelihood is best at this exponent on a grid of
/// eighths, the ramp refitted at each.
pub const RARITY_EXPONENT: f64 = 0.375;

/// An unknown content word whose lift (its cosine with the nearest candidate intent's
/// direction, discounted by how generic the word is) is at most this counts as not known at
/// all (docs/classifier.md, "Related words"); fitted with [`TEMPERATURE`].
pub const RELATE_LOW: f64 = 0.0;
/// ... and at least this, as known.
pub const RELATE_HIGH: f64 = 0.8;

/// The fitted calibration of a mesh: what the plan stores, and the runtime's constants of `q`
/// and `d`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    pub weights: Features,
    /// The content coverage that [`REFERENCE_QUANTILE`] of the mesh's own examples reach when
    /// left out (0..1]; reported, so an author sees whether the examples are rich enough.
    pub reference: f64,
    /// [`TEMPERATURE`] (another value only to fit it).
    pub temperature: f64,
    /// [`DOMAIN_FULL`] (another value only to fit it).
    pub domain_full: f64,
    /// [`DOMAIN_START`] (another value only to fit it).
    pub domain_start: f64,
}

impl Default for Calibration {
    fn default() -> Calibration {
        Calibration {
            weights: PRIOR,
            reference: DEFAULT_REFERENCE,
            temperature: TEMPERATURE,
            domain_full: DOMAIN_FULL,
            domain_start: DOMAIN_START,
        }
    }
}

impl Calibration {
    /// The probability that the best intent is right, for a text scored as `s`: `q · d`.
    pub fn confidence(&self, s: &Scores) -> f64 {
        match s.features() {
            Some(x) => self.q(&x) * self.in_domain(s),
            None => 0.0,
        }
    }

    /// `q`: the probability that the best intent is right if the text is about the mesh.
    pub fn q(&self, x: &Features) -> f64 {
        let z: f64 = self.weights.iter().zip(x).map(|(a, b)| a * b).sum();
        1.0 / (1.0 + (-self.temperature * z).exp())
    }

    /// `d`: how far the text is about the mesh at all, from its content coverage: from
    /// [`DOMAIN_MIN`] up to `domain_start`, rising linearly to 1 at `domain_full`.
    pub fn in_domain(&self, s: &Scores) -> f64 {
        let width = self.domain_full - self.domain_start;
        let ramp = if width > 0.0 {
            ((s.content - self.domain_start) / width).clamp(0.0, 1.0)
        } else {
            f64::from(u8::from(s.content >= self.domain_full))
        };
        DOMAIN_MIN + (1.0 - DOMAIN_MIN) * ramp
    }
}

/// σ(w · x), the probability a pair is right.
pub fn probability(w: &Features, x: &Features) -> f64 {
    let z: f64 = w.iter().zip(x).map(|(a, b)| a * b).sum();
    1.0 / (1.0 + (-z).exp())
}

/// One example scored without itself: its intent and its scores.
pub struct HeldOut {
    pub intent: u32,
    /// Its index among the intent's examples.
    pub example: usize,
    /// Its scores, with only the best [`RELATED_CANDIDATES`] candidates (`Index::score_in`):
    /// what the fit and the report read is the best two.
    pub scores: Scores,
}

impl HeldOut {
    /// Whether its best intent is its own.
    pub fn correct(&self) -> bool {
        self.scores.candidates.first().map(|c| c.intent) == Some(self.intent)
    }
}

/// Every example (up to [`MAX_FIT_EXAMPLES`]) scored against the evidence without itself, in
/// example order. Each example is scored alone, so runs of [`FIT_RUN`] examples are scored
/// on rayon's pool, shared with whatever else the caller has running there (the compiler's
/// analysis): the answer is the same whatever thread scores which run.
pub fn leave_one_out(index: &Index) -> Vec<HeldOut> {
    use rayon::prelude::*;
    let all: Vec<(u32, usize, &[u32])> = index
        .examples
        .iter()
        .enumerate()
        .flat_map(|(i, exs)| {
            exs.iter()
                .enumerate()
                .map(move |(e, terms)| (i as u32, e, terms.as_slice()))
        })
        .take(MAX_FIT_EXAMPLES)
        .collect();
    if all.len() <= FIT_RUN {
        return held_out(index, &all);
    }
    let runs: Vec<Vec<HeldOut>> = all
        .par_chunks(FIT_RUN)
        .map(|run| held_out(index, run))
        .collect();
    runs.into_iter().flatten().collect()
}

/// How many held-out examples one task scores (a mesh with fewer is scored on the caller's
/// thread).
const FIT_RUN: usize = 250;

/// `examples` (intent, index among its examples, terms) each scored without itself.
fn held_out(index: &Index, examples: &[(u32, usize, &[u32])]) -> Vec<HeldOut> {
    let mut scratch = Scratch::default();
    examples
        .iter()
        .map(|&(intent, example, terms)| {
            let ex = Exclude { intent, terms };
            let looked: Vec<Result<u32, String>> = terms.iter().map(|t| Ok(*t)).collect();
            HeldOut {
                intent,
                example,
                scores: index.score_in(&looked, Some(ex), RELATED_CANDIDATES, &mut scratch),
            }
        })
        .collect()
}

/// Fits the calibration on held-out examples (see the module comment).
pub fn fit(held: &[HeldOut]) -> Calibration {
    Calibration {
        weights: fit_with(held, &PRIOR, PRIOR_WEIGHT),
        reference: reference(held),
        ..Calibration::default()
    }
}

/// The coverage that [`REFERENCE_QUANTILE`] of the held-out examples reach (the default for
/// none).
pub fn reference(held: &[HeldOut]) -> f64 {
    let mut c: Vec<f64> = held
        .iter()
        .filter(|h| !h.scores.candidates.is_empty())
        .map(|h| h.scores.content)
        .collect();
    if c.is_empty() {
        return DEFAULT_REFERENCE;
    }
    c.sort_by(f64::total_cmp);
    let at = ((1.0 - REFERENCE_QUANTILE) * c.len() as f64).floor() as usize;
    let r = c.get(at).copied().unwrap_or(DEFAULT_REFERENCE);
    // Rounded, so the plan's JSON is short and reads the same back.
    ((r * 1e4).round() / 1e4).clamp(1e-4, 1.0)
}

/// Fits the weights with a prior centred on `prior` of precision `precision` (how
/// [`PRIOR`] itself was fitted: on the pooled examples of several meshes, centred on 0).
pub fn fit_with(held: &[HeldOut], prior: &Features, precision: f64) -> Features {
    let pairs: Vec<(Features, f64)> = held
        .iter()
        .filter_map(|h| Some((h.scores.features()?, f64::from(u8::from(h.correct())))))
        .collect();
    let mut w = *prior;
    for _ in 0..STEPS {
        // Gradient and Hessian of the negative log posterior.
        let mut g = [0.0; FEATURES];
        let mut h = [[0.0; FEATURES]; FEATURES];
        for (k, slot) in g.iter_mut().enumerate() {
            *slot = precision * (w[k] - prior[k]);
            if let Some(row) = h.get_mut(k) {
                row[k] = precision;
            }
        }
        for (x, y) in &pairs {
            let p = probability(&w, x);
            for a in 0..FEATURES {
                g[a] += (p - y) * x[a];
                for b in 0..FEATURES {
                    h[a][b] += p * (1.0 - p) * x[a] * x[b];
                }
            }
        }
        let Some(step) = solve(h, g) else {
            break;
        };
        let mut moved: f64 = 0.0;
        for k in 0..FEATURES {
            w[k] -= step[k];
            moved = moved.max(step[k].abs());
        }
        if moved < 1e-9 {
            break;
        }
    }
    if w.iter().all(|x| x.is_finite()) {
        // Rounded, so the plan's JSON is short and reads the same back.
        w.map(|x| (x * 1e4).round() / 1e4)
    } else {
        *prior
    }
}

/// Solves `h · x = g` by Gaussian elimination with partial pivoting; `None` when singular
/// (never, with the prior's precision on the diagonal).
fn solve(mut h: [[f64; FEATURES]; FEATURES], mut g: [f64; FEATURES]) -> Option<[f64; FEATURES]> {
    for col in 0..FEATURES {
        let pivot = (col..FEATURES).max_by(|a, b| h[*a][col].abs().total_cmp(&h[*b][col].abs()))?;
        if h[pivot][col].abs() < 1e-12 {
            return None;
        }
        h.swap(col, pivot);
        g.swap(col, pivot);
        for row in col + 1..FEATURES {
            let f = h[row][col] / h[col][col];
            let pivot_row = h[col];
            for (x, p) in h[row].iter_mut().zip(pivot_row).skip(col) {
                *x -= f * p;
            }
            g[row] -= f * g[col];
        }
    }
    let mut x = [0.0; FEATURES];
    for row in (0..FEATURES).rev() {
        let s: f64 = (row + 1..FEATURES).map(|k| h[row][k] * x[k]).sum();
        x[row] = (g[row] - s) / h[row][row];
    }
    Some(x)
}
