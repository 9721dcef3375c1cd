//! Calibration: from a text's features against an intent to the probability that the text
//! means that intent, fitted when the plan is built.
//!
//! Each (text, intent) pair gets `p = σ(w · features)`, a logistic regression. Its weights are
//! fitted by leave-one-out over the mesh's own examples: every example is scored against the
//! evidence of the whole mesh without itself, and each intent it shares a term with is one
//! training pair, labelled by whether it is the example's intent. Wrong intents that share a
//! word or two with the example are the negatives; they teach the model what a chance overlap
//! looks like, which is also what an off-topic text that happens to use one of the mesh's words
//! looks like. The fit is a maximum a posteriori estimate: a Gaussian prior centred on
//! [`PRIOR`] keeps a mesh with a handful of examples from fitting its noise, and weighs less as
//! the mesh has more examples. Newton's method, a fixed number of steps, no randomness: the same
//! mesh always gives the same weights, and they go into the plan (and its hash).

use super::index::{Candidate, Exclude, Features, Index, FEATURES};

/// The prior's centre: weights fitted (with [`fit_with`], centred on 0, precision 0.1) on the
/// pooled leave-one-out pairs of the three bundled example meshes and the support mesh in
/// `tests/classifier/` — their examples, never the paraphrase set (docs/classifier.md).
pub const PRIOR: Features = [-2.28, 0.58, 5.97, 0.12, 3.04];
/// The prior's precision (per weight). One pair of evidence weighs like 1/PRIOR_WEIGHT of it.
const PRIOR_WEIGHT: f64 = 2.0;
/// Newton steps; the fit stops earlier when a step moves no weight by more than 1e-9.
const STEPS: usize = 50;
/// At most this many examples take part in the fit (the first ones, in plan order).
pub const MAX_FIT_EXAMPLES: usize = 5_000;
/// Per left-out example, the intents with the best shares that become training pairs.
const PAIRS_PER_EXAMPLE: usize = 8;

/// σ(w · x), the probability a pair is right.
pub fn probability(w: &Features, x: &Features) -> f64 {
    let z: f64 = w.iter().zip(x).map(|(a, b)| a * b).sum();
    1.0 / (1.0 + (-z).exp())
}

/// One example scored without itself: its intent and its candidates.
pub struct HeldOut {
    pub intent: u32,
    /// Its index among the intent's examples.
    pub example: usize,
    pub candidates: Vec<Candidate>,
}

/// Every example (up to [`MAX_FIT_EXAMPLES`]) scored against the evidence without itself.
pub fn leave_one_out(index: &Index) -> Vec<HeldOut> {
    let mut out = Vec::new();
    for (i, exs) in index.examples.iter().enumerate() {
        for (e, terms) in exs.iter().enumerate() {
            if out.len() >= MAX_FIT_EXAMPLES {
                return out;
            }
            let ex = Exclude {
                intent: i as u32,
                terms,
            };
            let looked: Vec<Result<u32, String>> = terms.iter().map(|t| Ok(*t)).collect();
            out.push(HeldOut {
                intent: i as u32,
                example: e,
                candidates: index.score(&looked, Some(ex)),
            });
        }
    }
    out
}

/// Fits the weights on held-out examples (see the module comment).
pub fn fit(held: &[HeldOut]) -> Features {
    fit_with(held, &PRIOR, PRIOR_WEIGHT)
}

/// Fits the weights with a prior centred on `prior` of precision `precision` (how
/// [`PRIOR`] itself was fitted: on the pooled examples of several meshes, centred on 0).
pub fn fit_with(held: &[HeldOut], prior: &Features, precision: f64) -> Features {
    let pairs: Vec<(&Features, f64)> = held
        .iter()
        .flat_map(|h| {
            h.candidates
                .iter()
                .take(PAIRS_PER_EXAMPLE)
                .map(move |c| (&c.features, if c.intent == h.intent { 1.0 } else { 0.0 }))
        })
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
        w
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
