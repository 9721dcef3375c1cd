//! The decision-space analysis: what the arms and rules of a lowered plan can and cannot do,
//! proved over the decidable part of the expression language (numeric intervals over
//! confidence, depth and number fields; enums, strings and booleans as finite or co-finite
//! sets; `has`; `touches` and `provides` over the finite hierarchies, evaluated per site).
//!
//! A condition becomes a region (a union of cubes of per-variable constraints, `region`,
//! `set`); anything else becomes an opaque boolean, so that every "covered" and every "dead"
//! is a proof. Counterexamples are points picked from uncovered regions (`witness`) and are
//! reported only once the runtime, deciding them on the lowered plan, agrees. The analysis
//! reads only the plan; `report` turns its findings into diagnostics.
//!
//! It works intent by intent: what it finds about one intent (its route, its steps, and what
//! each rule did at its sites) depends only on that intent, the agents it reads and the rest
//! of the plan, never on the other intents (`memo.rs` says exactly what), so a [`Memo`]
//! keeps each intent's part between checks and an edit re-analyses only the intents it
//! changed. Mesh-wide verdicts (a rule that does nothing anywhere) are combined from the
//! parts; a check that keeps nothing tallies rules over the whole plan at once.

mod coverage;
mod lower;
mod memo;
mod policy;
mod prepare;
mod reach;
mod region;
mod report;
mod routes;
mod rules;
mod set;
mod witness;

pub use coverage::{suggest_tests, Suggestion};
pub use lower::Space;
pub use memo::Memo;
pub use report::{diagnostics, Places};

use intent_runtime::plan::{IntentId, Plan, SrcId};
use intent_runtime::request::Request;

/// One thing the analysis proved (or, for counterexamples, confirmed on the runtime).
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// A route without `otherwise` misses requests; `example` was decided by the runtime and
    /// matched no arm. `arm` is the missing region as a condition, when it can be written.
    RouteUncovered {
        intent: IntentId,
        /// The request the runtime decided, matching no arm.
        request: Request,
        example: String,
        arm: Option<String>,
        regions: usize,
    },
    /// A route without `otherwise` that could not be proved to cover every request, and for
    /// which no counterexample was confirmed.
    RouteUnproved { intent: IntentId },
    /// An arm earlier arms always cover (`covered_by`), or whose condition never holds.
    DeadArm {
        src: SrcId,
        whose: String,
        arm: usize,
        otherwise: bool,
        covered_by: Vec<(usize, SrcId)>,
        never: bool,
    },
    /// A permit that only ever applies where a forbid wins (rule indexes).
    PermitOverridden { rule: usize, by: Vec<usize> },
    /// A permit that grants nothing clearance or earlier permits do not (`by`; empty: it never
    /// applies to an agent that lacks clearance).
    PermitGrantsNothing { rule: usize, by: Vec<usize> },
    /// An escalation rule that never fires (`by`: earlier escalation rules that always fire
    /// first; empty: its condition never holds where an authorized agent takes a step).
    EscalateNeverFires { rule: usize, by: Vec<usize> },
    /// No request to this intent is ever dispatched to an agent; one reason per arm.
    OverAligned {
        intent: IntentId,
        reasons: Vec<String>,
    },
    /// An `any CAPABILITY` step none of whose providers is ever authorized.
    AnyUnfillable {
        src: SrcId,
        step: String,
        cap: String,
        providers: usize,
    },
}

/// Runs every analysis on a plan that checked without errors.
pub fn analyze(plan: &Plan) -> Vec<Finding> {
    let all: Vec<IntentId> = (0..plan.intents.len() as IntentId).collect();
    let batch = analyze_intents(plan, &all, true, Rules::Whole);
    let parts: Vec<&IntentPart> = batch.parts.iter().collect();
    let tally = batch.tally.unwrap_or_default();
    combine(plan, &parts, &batch.reviews.unwrap_or_default(), tally)
}

/// The findings of each intent analysed on its own, combined: equal to [`analyze`]'s, since
/// an intent's part does not depend on the other intents (`compiler/tests/analysis_memo.rs`
/// checks it on the bench mesh and the examples).
pub fn analyze_each(plan: &Plan) -> Vec<Finding> {
    let mut parts = Vec::new();
    let mut reviews = None;
    for i in 0..plan.intents.len() as IntentId {
        let batch = analyze_intents(
            plan,
            &[i],
            reviews.is_none(),
            Rules::PerIntent { skip: false },
        );
        parts.extend(batch.parts);
        reviews = reviews.or(batch.reviews);
    }
    if reviews.is_none() {
        reviews = analyze_intents(plan, &[], true, Rules::PerIntent { skip: false }).reviews;
    }
    let parts: Vec<&IntentPart> = parts.iter().collect();
    let tally = merge(plan, &parts);
    combine(plan, &parts, &reviews.unwrap_or_default(), tally)
}

/// How a batch tallies what the rules did at its sites.
#[derive(Clone, Copy, PartialEq)]
enum Rules {
    /// Per intent, each part complete for the rules alive nowhere in the batch (kept in a
    /// `Memo`). With `skip`, a rule found alive at one site is not looked at again at the
    /// others (`rules::tally`).
    PerIntent { skip: bool },
    /// Across the whole batch at once (a batch of every intent, kept nowhere): cheaper, as
    /// a rule alive or covered somewhere need not be looked at again anywhere.
    Whole,
}

/// What one batch of intents found.
struct Batch {
    parts: Vec<IntentPart>,
    /// When asked for.
    reviews: Option<Vec<Finding>>,
    /// With `Rules::Whole`, what each rule did (the parts then hold no tallies).
    tally: Option<Vec<rules::Tally>>,
}

/// What the analysis found about one intent, a function of that intent and the rest of the
/// plan only.
#[derive(Debug, Clone, Default)]
struct IntentPart {
    /// Its route's dead arms and coverage.
    route: Vec<Finding>,
    /// Its `any CAPABILITY` steps no provider can fill.
    unfillable: Vec<Finding>,
    over_aligned: Option<Finding>,
    /// What each rule did at its sites.
    rules: Vec<(usize, rules::Tally)>,
    /// The rules past the limit of one of its sites: alive.
    overflow: Vec<rules::Overflow>,
}

/// Analyses the intents `which` (ascending) together, so that sites alike in several of them
/// are worked out once, and with them the reviews when `reviews` is set.
fn analyze_intents(plan: &Plan, which: &[IntentId], reviews: bool, how: Rules) -> Batch {
    let mut space = Space::new(plan);
    let mut engine = routes::Lazy::new(plan);
    let mut parts = vec![IntentPart::default(); which.len()];
    for (part, &i) in parts.iter_mut().zip(which) {
        routes::route(&mut space, &mut engine, i, &mut part.route);
    }
    let reviewed = reviews.then(|| {
        let mut out = Vec::new();
        routes::reviews(&mut space, &mut out);
        out
    });
    let reach = policy::reaches(&mut space, which);
    let steps = policy::steps(&mut space, which, &reach);
    let whole = (how == Rules::Whole).then(|| rules::tally_all(&space, &steps));
    let mut done = std::collections::HashMap::new();
    let mut overflows = std::collections::HashSet::new();
    let skip = how == Rules::PerIntent { skip: true };
    let mut alive = skip.then(|| vec![false; plan.rules.len()]);
    // The steps come in the order of `which`, each intent's together.
    let mut rest = steps.as_slice();
    let mut said = Vec::with_capacity(which.len());
    for ((part, &i), arms) in parts.iter_mut().zip(which).zip(&reach) {
        let n = rest.iter().take_while(|s| s.intent == i).count();
        let (mine, after) = rest.split_at(n);
        rest = after;
        if whole.is_none() {
            let tally = rules::tally(&space, mine, &mut done, &mut overflows, alive.as_mut());
            (part.rules, part.overflow) = (tally.rules, tally.overflow);
            said.push(tally.sites);
        }
        reach::unfillable_any(&space, mine, &mut part.unfillable);
        part.over_aligned = reach::over_aligned(&space, i, arms, mine);
    }
    // Which rules cover a rule that does nothing is worked out only for the rules alive
    // nowhere in the batch: the others cannot be reported.
    if whole.is_none() {
        let dead: Vec<bool> = merge(plan, &parts.iter().collect::<Vec<_>>())
            .iter()
            .map(|t| !t.is_alive())
            .collect();
        for (part, sites) in parts.iter_mut().zip(&said) {
            rules::resolve(&mut part.rules, sites, &dead);
        }
    }
    Batch {
        parts,
        reviews: reviewed,
        tally: whole,
    }
}

/// The findings of the whole plan from its intents' parts (in plan order), the reviews' and
/// what each rule did, in the order the analysis has always given them.
fn combine(
    plan: &Plan,
    parts: &[&IntentPart],
    reviews: &[Finding],
    tally: Vec<rules::Tally>,
) -> Vec<Finding> {
    let mut out: Vec<Finding> = parts.iter().flat_map(|p| p.route.iter().cloned()).collect();
    out.extend(reviews.iter().cloned());
    rules::report(plan, tally, &mut out);
    out.extend(parts.iter().flat_map(|p| p.unfillable.iter().cloned()));
    out.extend(parts.iter().filter_map(|p| p.over_aligned.clone()));
    out
}

/// What each rule did across the sites of every part.
fn merge(plan: &Plan, parts: &[&IntentPart]) -> Vec<rules::Tally> {
    let mut tally = vec![rules::Tally::default(); plan.rules.len()];
    // A site's overflow is shared by the intents it serves: looked at once.
    let mut seen = std::collections::HashSet::new();
    for p in parts {
        for (k, t) in &p.rules {
            if let Some(all) = tally.get_mut(*k) {
                all.merge(t);
            }
        }
        for o in p.overflow.iter().filter(|o| seen.insert(o.as_ptr())) {
            for k in o.iter() {
                if let Some(all) = tally.get_mut(*k) {
                    all.mark_alive();
                }
            }
        }
    }
    tally
}
