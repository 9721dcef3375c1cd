//! What `intent classify --report` tells a mesh's author, worked out from the plan alone:
//! leave-one-out accuracy per intent, the pairs of intents whose examples are confused, a
//! reliability table (confidence bins against accuracy), and per route the share of the
//! mesh's own example texts each arm would take at the confidence they get.
//!
//! Every example is classified against the evidence without itself, with the plan's fitted
//! weights: the texts stand in for requests the mesh has not seen. (The weights were fitted on
//! the same held-out pairs, so the table is a little optimistic for a mesh with few examples;
//! `docs/classifier.md` says how to read it.)

use super::calibrate::{leave_one_out, HeldOut};
use super::Builtin;
use crate::plan::{Expr, IntentId, Plan, Value};

/// The report's confidence bins: `[0, 0.2)`, `[0.2, 0.4)`, ... `[0.8, 1]`.
pub const BINS: usize = 5;

/// One example, classified without itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub intent: IntentId,
    pub example: usize,
    /// The best intent and its confidence; `None` when the text matched no intent (or fell
    /// below the plan's floor).
    pub predicted: Option<(IntentId, f64)>,
}

impl Outcome {
    pub fn correct(&self) -> bool {
        self.predicted.is_some_and(|(p, _)| p == self.intent)
    }

    pub fn confidence(&self) -> f64 {
        self.predicted.map_or(0.0, |(_, c)| c)
    }
}

/// One confidence bin of the reliability table.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bin {
    pub count: usize,
    pub mean_confidence: f64,
    pub accuracy: f64,
}

/// Where an arm of a route sends the examples classified as its intent.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmShare {
    /// Counted from 1, as in traces; `None` for texts whose arm depends on more than the
    /// confidence (the request's context), from the first such arm on.
    pub arm: Option<usize>,
    pub texts: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
    /// Per intent (plan order): (examples, correct).
    pub per_intent: Vec<(usize, usize)>,
    /// (true intent, predicted intent, count), most frequent first.
    pub confusions: Vec<(IntentId, IntentId, usize)>,
    pub bins: [Bin; BINS],
    /// Expected calibration error over `bins`.
    pub ece: f64,
    /// Per intent with a route: the texts classified as it, and the arm each takes.
    pub routes: Vec<(IntentId, Vec<ArmShare>)>,
}

/// The report for a plan's built-in classifier.
pub fn report(plan: &Plan, classifier: &Builtin) -> Report {
    report_with(plan, classifier, &leave_one_out(classifier.index()))
}

/// As [`report`], from the examples already scored without themselves (by
/// `Builtin::fit_held`, on the same intents).
pub fn report_with(plan: &Plan, classifier: &Builtin, held: &[HeldOut]) -> Report {
    let outcomes = outcomes(classifier, held, plan.classifier.floor.unwrap_or(0.0));
    let mut per_intent = vec![(0, 0); plan.intents.len()];
    for o in &outcomes {
        if let Some(slot) = per_intent.get_mut(o.intent as usize) {
            slot.0 += 1;
            slot.1 += usize::from(o.correct());
        }
    }
    let confusions = count_confusions(outcomes.iter().filter_map(|o| {
        o.predicted
            .filter(|(p, _)| *p != o.intent)
            .map(|(p, _)| (o.intent, p))
    }));
    let scored: Vec<(f64, bool)> = outcomes
        .iter()
        .map(|o| (o.confidence(), o.correct()))
        .collect();
    let (bins, ece) = reliability(&scored);
    // The confidences each intent was predicted with, in example order: one pass, not one
    // per intent.
    let mut taken: Vec<Vec<f64>> = vec![Vec::new(); plan.intents.len()];
    for (p, c) in outcomes.iter().filter_map(|o| o.predicted) {
        if let Some(t) = taken.get_mut(p as usize) {
            t.push(c);
        }
    }
    let routes = plan
        .intents
        .iter()
        .zip(&taken)
        .enumerate()
        .filter(|(_, (it, _))| !it.route.arms.is_empty())
        .map(|(i, (it, taken))| {
            let mut shares: Vec<ArmShare> = Vec::new();
            for &c in taken {
                let arm = arm_for(&it.route.arms, c);
                match shares.iter_mut().find(|s| s.arm == arm) {
                    Some(s) => s.texts += 1,
                    None => shares.push(ArmShare { arm, texts: 1 }),
                }
            }
            shares.sort_by_key(|s| s.arm.unwrap_or(usize::MAX));
            (i as IntentId, shares)
        })
        .collect();
    Report {
        outcomes,
        per_intent,
        confusions,
        bins,
        ece,
        routes,
    }
}

/// Wrong answers as (true intent, predicted intent) counted by pair, most frequent first
/// (ties by pair).
pub fn count_confusions(
    wrong: impl Iterator<Item = (IntentId, IntentId)>,
) -> Vec<(IntentId, IntentId, usize)> {
    let mut wrong: Vec<(IntentId, IntentId)> = wrong.collect();
    wrong.sort_unstable();
    let mut out: Vec<(IntentId, IntentId, usize)> = Vec::new();
    for (a, b) in wrong {
        match out.last_mut() {
            Some(x) if (x.0, x.1) == (a, b) => x.2 += 1,
            _ => out.push((a, b, 1)),
        }
    }
    out.sort_by(|a, b| b.2.cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
    out
}

/// What `classifier` answers for each held-out example (`Builtin::fit_held`), an answer
/// below `floor` counting as none.
pub fn outcomes(classifier: &Builtin, held: &[HeldOut], floor: f64) -> Vec<Outcome> {
    held.iter()
        .map(|h| {
            let c = classifier.calibrate(&h.scores);
            Outcome {
                intent: h.intent,
                example: h.example,
                predicted: c
                    .best()
                    .filter(|b| b.score > 0.0 && b.score >= floor)
                    .map(|b| (b.intent, b.score)),
            }
        })
        .collect()
}

/// The reliability table of (confidence, correct) pairs and its expected calibration error:
/// the count-weighted mean of |accuracy − mean confidence| over [`BINS`] equal-width bins.
pub fn reliability(scored: &[(f64, bool)]) -> ([Bin; BINS], f64) {
    let mut sums = [(0usize, 0.0f64, 0usize); BINS];
    for (c, ok) in scored {
        let b = ((c * BINS as f64) as usize).min(BINS - 1);
        if let Some(s) = sums.get_mut(b) {
            s.0 += 1;
            s.1 += c;
            s.2 += usize::from(*ok);
        }
    }
    let mut bins = [Bin::default(); BINS];
    let mut ece = 0.0;
    for (bin, (n, conf, ok)) in bins.iter_mut().zip(sums) {
        if n > 0 {
            let n_f = n as f64;
            *bin = Bin {
                count: n,
                mean_confidence: conf / n_f,
                accuracy: ok as f64 / n_f,
            };
            ece += n_f * (bin.accuracy - bin.mean_confidence).abs();
        }
    }
    let total = scored.len().max(1) as f64;
    (bins, ece / total)
}

/// The arm (from 1) a request with this confidence takes, when the arms up to it read only
/// the confidence; `None` as soon as an arm's condition depends on anything else.
fn arm_for(arms: &[crate::plan::Arm], confidence: f64) -> Option<usize> {
    for (a, arm) in arms.iter().enumerate() {
        let holds = match &arm.when {
            None => Some(true),
            Some(w) => known(w, confidence, 0),
        };
        match holds {
            Some(true) => return Some(a + 1),
            Some(false) => {}
            None => return None,
        }
    }
    None
}

/// Three-valued evaluation of a condition knowing only the confidence: `None` is unknown.
/// Depth-bounded (plans nest at most 512 levels; deeper is unknown).
fn known(e: &Expr, confidence: f64, depth: usize) -> Option<bool> {
    if depth > 600 {
        return None;
    }
    let num = |e: &Expr| match e {
        Expr::Confidence => Some(confidence),
        Expr::Lit {
            value: Value::Number(n),
        } => Some(*n),
        // Anything else is not a number known from the confidence alone.
        Expr::Lit { .. }
        | Expr::Depth
        | Expr::IntentIs { .. }
        | Expr::Field { .. }
        | Expr::Has { .. }
        | Expr::AgentTrust
        | Expr::AgentCost
        | Expr::AgentRegion
        | Expr::AgentZone
        | Expr::AgentName
        | Expr::AgentLabel { .. }
        | Expr::AgentProvides { .. }
        | Expr::CallerName
        | Expr::CallerTrust
        | Expr::CallerRegion
        | Expr::CallerZone
        | Expr::CallerLabel { .. }
        | Expr::CallerProvides { .. }
        | Expr::HasCaller
        | Expr::DataTouches { .. }
        | Expr::ResponseConfidence
        | Expr::ResponseDataTouches { .. }
        | Expr::Not { .. }
        | Expr::And { .. }
        | Expr::Or { .. }
        | Expr::Cmp { .. }
        | Expr::In { .. } => None,
    };
    match e {
        Expr::Lit {
            value: Value::Bool(b),
        } => Some(*b),
        Expr::Not { e } => known(e, confidence, depth + 1).map(|b| !b),
        Expr::And { all } => {
            let mut unknown = false;
            for x in all {
                match known(x, confidence, depth + 1) {
                    Some(false) => return Some(false),
                    Some(true) => {}
                    None => unknown = true,
                }
            }
            (!unknown).then_some(true)
        }
        Expr::Or { any } => {
            let mut unknown = false;
            for x in any {
                match known(x, confidence, depth + 1) {
                    Some(true) => return Some(true),
                    Some(false) => {}
                    None => unknown = true,
                }
            }
            (!unknown).then_some(false)
        }
        Expr::Cmp { cmp, lhs, rhs } => {
            let (a, b) = (num(lhs)?, num(rhs)?);
            Some(match cmp {
                crate::plan::CmpOp::Eq => a == b,
                crate::plan::CmpOp::Ne => a != b,
                crate::plan::CmpOp::Lt => a < b,
                crate::plan::CmpOp::Le => a <= b,
                crate::plan::CmpOp::Gt => a > b,
                crate::plan::CmpOp::Ge => a >= b,
            })
        }
        // What the request, the agent or the response says is unknown here.
        Expr::Lit { .. }
        | Expr::Confidence
        | Expr::Depth
        | Expr::IntentIs { .. }
        | Expr::Field { .. }
        | Expr::Has { .. }
        | Expr::AgentTrust
        | Expr::AgentCost
        | Expr::AgentRegion
        | Expr::AgentZone
        | Expr::AgentName
        | Expr::AgentLabel { .. }
        | Expr::AgentProvides { .. }
        | Expr::CallerName
        | Expr::CallerTrust
        | Expr::CallerRegion
        | Expr::CallerZone
        | Expr::CallerLabel { .. }
        | Expr::CallerProvides { .. }
        | Expr::HasCaller
        | Expr::DataTouches { .. }
        | Expr::ResponseConfidence
        | Expr::ResponseDataTouches { .. }
        | Expr::In { .. } => None,
    }
}
