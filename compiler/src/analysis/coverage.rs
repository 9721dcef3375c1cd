//! `intent test --coverage`: for each route arm no test takes, a request that takes it — a
//! point of the arm's region (its condition minus the earlier arms'), confirmed by deciding
//! it on the runtime — written as a `test` block whose `expect` is what the runtime decided,
//! so that pasted into the mesh it parses and passes.

use super::lower::Space;
use super::policy;
use super::routes::Lazy;
use super::witness;
use crate::testing::{Actual, TestOutcome};
use intent_runtime::decision::{Outcome, TraceWhat};
use intent_runtime::plan::{IntentId, Plan};
use std::collections::HashSet;

/// A suggested regression test for an arm no test takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// `route X arm 2`.
    pub what: String,
    /// `file:line:col` of the arm.
    pub at: String,
    /// The `test "..." { given {..} expect .. }` block.
    pub test: String,
}

/// How many points of an arm's region are tried.
const MAX_TRIES: usize = 16;

pub fn suggest_tests(plan: &Plan, outcomes: &[TestOutcome]) -> Vec<Suggestion> {
    let mut hit = HashSet::new();
    for o in outcomes {
        if let Actual::Decision(d) = &o.actual {
            for t in d.trace.iter().filter(|t| t.matched) {
                if let Some(at) = d.trace.at(t) {
                    hit.insert(at.to_string());
                }
            }
        }
    }
    let at = |src: u32| plan.source(src).map(|s| s.to_string()).unwrap_or_default();
    let mut space = Space::new(plan);
    let all: Vec<IntentId> = (0..plan.intents.len() as IntentId).collect();
    let reach = policy::reaches(&mut space, &all);
    let mut engine = Lazy::new(plan);
    let mut out = Vec::new();
    for (i, it) in plan.intents.iter().enumerate() {
        for (a, arm) in it.route.arms.iter().enumerate() {
            if hit.contains(&at(arm.src)) {
                continue;
            }
            let Some(region) = reach.get(i).and_then(|r| r.get(a)) else {
                continue;
            };
            let what = format!("route {} arm {}", it.name, a + 1);
            let test = region.cubes.iter().take(MAX_TRIES).find_map(|cube| {
                let p = witness::point(cube)?;
                let req = witness::request(i as IntentId, &p, &space)?;
                let d = engine.get()?.decide_at(&req, 0);
                let taken = d.trace.iter().any(|t| {
                    t.matched && matches!(t.what, TraceWhat::Arm { arm: n, .. } if n == a + 1)
                });
                if !taken {
                    return None;
                }
                let expect = match d.outcome {
                    Outcome::Dispatch => format!("dispatch {}", d.steps.first()?.agent),
                    Outcome::Plan => format!(
                        "plan {{ {} }}",
                        d.steps
                            .iter()
                            .map(|s| format!("{}: {}", s.step, s.agent))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    Outcome::Escalate => format!("escalate {}", d.human.as_deref()?),
                    Outcome::Clarify => "clarify".into(),
                    Outcome::Deny => "deny".into(),
                    Outcome::Throttle => return None,
                };
                Some(format!(
                    "test \"{what}\" {{\n  given {}\n  expect {expect}\n}}",
                    witness::given_text(&req)
                ))
            });
            if let Some(test) = test {
                out.push(Suggestion {
                    what,
                    at: at(arm.src),
                    test,
                });
            }
        }
    }
    out
}
