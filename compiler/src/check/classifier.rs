//! W0007: intents whose examples the built-in classifier cannot tell apart. Each example is
//! classified against the evidence without itself (the runtime's leave-one-out report, with
//! the weights just fitted for the plan); when most examples of one intent are taken for the
//! same other intent *with a confidence of at least 0.3*, text requests for the first will
//! mostly be routed as the second, and the compiler says so at the intent's declaration. (A
//! confusion at a low confidence is two examples sharing a common word by chance: the route's
//! low-confidence arm, not the wrong intent's, takes such texts.) "Low" is at most what a text
//! that shares no content word with the mesh can get (`calibrate::DOMAIN_MIN`).

use crate::codes::Code;
use crate::diagnostics::Diagnostic;
use crate::syntax::ast::Span;
use intent_runtime::classifier::report::count_confusions;
use intent_runtime::classifier::Fitted;
use intent_runtime::plan::{Plan, SrcId};

/// The confidence above which a wrong answer counts as a confusion: more than a text that
/// shares only common words with the mesh can get.
const CONFIDENT: f64 = intent_runtime::classifier::calibrate::DOMAIN_MIN;

/// One warning per intent whose examples are mostly taken for one other intent.
/// `fitted` is the fit of the plan's intents (`Builtin::fit_held`).
pub(super) fn indistinct(
    plan: &Plan,
    fitted: &Fitted,
    place: &dyn Fn(SrcId) -> Option<(String, Span)>,
) -> Vec<Diagnostic> {
    if plan.intents.iter().all(|i| i.examples.len() < 2) {
        return Vec::new();
    }
    let floor = plan.classifier.floor.unwrap_or(0.0);
    // Examples of each intent, and the confident wrong answers by pair.
    let mut totals = vec![0usize; plan.intents.len()];
    for o in &fitted.answers {
        if let Some(t) = totals.get_mut(o.intent as usize) {
            *t += 1;
        }
    }
    let confusions = count_confusions(fitted.answers.iter().filter_map(|o| match o.predicted {
        Some((p, c)) if p != o.intent && c >= floor && c > CONFIDENT => Some((o.intent, p)),
        _ => None,
    }));
    // The worst pair of each intent: its first in `confusions` (sorted by count, then pair).
    let mut worst = vec![None; plan.intents.len()];
    for (a, b, _) in confusions.iter().rev() {
        if let Some(w) = worst.get_mut(*a as usize) {
            *w = Some(*b);
        }
    }
    let mut out = Vec::new();
    for (a, b, n) in &confusions {
        let (Some(ia), Some(ib)) = (plan.intents.get(*a as usize), plan.intents.get(*b as usize))
        else {
            continue;
        };
        let total = totals.get(*a as usize).copied().unwrap_or(0);
        // Most of at least two examples, and this pair is the worst for `a`.
        let is_worst = worst.get(*a as usize).copied().flatten() == Some(*b);
        if total < 2 || 2 * n <= total || !is_worst {
            continue;
        }
        let Some((file, span)) = place(ia.src) else {
            continue;
        };
        let mut d = Diagnostic::new(
            Code::INDISTINCT_INTENTS,
            &file,
            span,
            format!(
                "the classifier takes most examples of `{}` for `{}`",
                ia.name, ib.name
            ),
        )
        .with_label(format!(
            "{n} of {total} examples are classified as `{}` when left out",
            ib.name
        ))
        .with_help(format!(
            "give `{}` and `{}` examples in the words each one's users would use, or merge them",
            ia.name, ib.name
        ));
        if let Some((fb, sb)) = place(ib.src) {
            d = d.with_secondary(&fb, sb, "taken for this intent");
        }
        out.push(d);
    }
    out
}
