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

mod coverage;
mod lower;
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
    let mut space = Space::new(plan);
    let mut engine = routes::Lazy::new(plan);
    let mut out = Vec::new();
    for i in 0..plan.intents.len() {
        routes::route(&mut space, &mut engine, i as IntentId, &mut out);
    }
    routes::reviews(&mut space, &mut out);
    let reach = policy::reaches(&mut space);
    let steps = policy::steps(&mut space, &reach);
    rules::check(&space, &steps, &mut out);
    reach::check(&space, &reach, &steps, &mut out);
    out
}
