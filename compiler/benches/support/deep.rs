//! Shape (d) of `decide.rs`, deep plans: each intent's route is one arm with a plan of
//! `STEPS` steps; each step targets its own agent, with a fallback agent, and the target has a
//! backup agent (candidates in that order: target, fallback, backup). `min(rules, 100)` rules
//! apply to each intent, `min(rules, 100) / STEPS` to each step (20 from 100 rules on): a
//! permit for each of the step's three agents (as in shape (a): agent, intent, a confidence
//! threshold, allowed regions), then forbids on the target (`agent.name == T and intent == I
//! and tier == "blocked-K"`), which one request in ten trips; and the GDPR-style forbid.
//! `rules / 100` intents (at least one).
//!
//! Pre-split Cedar runs as a gateway would: for each step, each candidate in order is asked
//! about with the policies of its (agent, intent) until one is allowed; a step none can take
//! denies the request. regorus (`--features rego-peer`) runs the same way, one evaluation per
//! candidate, with the rules as data (`rego_peer::DEEP_POLICY`). `decide` must choose the same
//! agent for every step, or deny the same requests, on every request timed.

use super::ShapeRow;
use crate::{agent_name, build, lit_str, measure_each, stats, Cedar, Rng, NOW_MS, REGIONS};
use cedar_policy::PolicyId;
use intent_compiler::cedar::{self, Oracle};
use intent_runtime::plan::{
    Action, CmpOp, Expr, Field, Rule, RuleKind, SourceLoc, Step, Target, Type, Value,
};
use intent_runtime::{Engine, Outcome, Request};
use serde_json::json;
use std::collections::HashMap;
use std::hint::black_box;

/// The steps of each intent's plan.
const STEPS: usize = 5;

/// The rules of one intent at most; a step has a fifth of them.
const RULES_PER_INTENT: usize = 100;

fn intent_of(i: usize) -> String {
    format!("deep{i:04}")
}

fn tier(k: usize) -> String {
    format!("blocked-{k:02}")
}

/// The agent playing `role` (0 target, 1 fallback, 2 backup) in step `s` of intent `i`.
fn agent_of(i: usize, s: usize, role: usize) -> usize {
    (i * STEPS + s) * 3 + role
}

/// One request and what a gateway needs of it.
struct Deep {
    intent: usize,
    request: Request,
    key: (u32, u16, u8, bool, u8),
}

pub fn deep(rules: usize, requests: usize) -> ShapeRow {
    let mut rng = Rng(0x6a09_e667_f3bc_c908 ^ rules as u64);
    let per_intent = rules.min(RULES_PER_INTENT);
    let per_step = (per_intent / STEPS).max(1);
    let permits = per_step.min(3);
    let holds = per_step - permits;
    let intents = (rules / RULES_PER_INTENT).max(1);
    let agents = intents * STEPS * 3;
    let pairs: Vec<(usize, usize)> = (0..intents)
        .flat_map(|i| {
            (0..STEPS).flat_map(move |s| (0..permits).map(move |r| (agent_of(i, s, r), i)))
        })
        .collect();
    let routes = (0..intents)
        .map(|i| (intent_of(i), vec![(None, agent_of(i, 0, 0) as u32)]))
        .collect();
    let tier_field = Field {
        name: "tier".to_string(),
        optional: false,
        ty: Type::String,
        data: None,
        claim: None,
    };
    let mut plan = build(agents, routes, &pairs, vec![tier_field], &mut rng);
    // Each route's one step becomes a plan of STEPS steps with fallbacks and backups.
    for (i, it) in plan.intents.iter_mut().enumerate() {
        let Some(arm) = it.route.arms.first_mut() else {
            continue;
        };
        let steps = (0..STEPS)
            .map(|s| Step {
                name: format!("step{s}"),
                target: Target::Agent(agent_of(i, s, 0) as u32),
                fallbacks: vec![Target::Agent(agent_of(i, s, 1) as u32)],
                after: if s == 0 { vec![] } else { vec![s as u32 - 1] },
                needs: vec![0],
                handles: vec![0],
                src: arm.src,
            })
            .collect();
        arm.action = Action::Plan { steps };
    }
    for i in 0..intents {
        for s in 0..STEPS {
            plan.agents[agent_of(i, s, 0)].backups = vec![agent_of(i, s, 2) as u32];
        }
    }
    // The forbids on each step's target, between the permits and the GDPR forbid (`holds`
    // sorts between `grants` and `residency`, as the compiler orders policies).
    let residency = plan.rules.pop().unwrap();
    let mut held: Vec<(usize, usize, String)> = Vec::new();
    for i in 0..intents {
        for s in 0..STEPS {
            let target = agent_of(i, s, 0);
            for k in 0..holds {
                plan.source_map.push(SourceLoc {
                    file: "bench.intent".into(),
                    line: 100_000 + plan.source_map.len() as u32,
                    col: 1,
                });
                let id = format!("holds#{}", plan.rules.len());
                held.push((target, i, id.clone()));
                plan.rules.push(Rule {
                    id,
                    policy: "holds".to_string(),
                    kind: RuleKind::Forbid,
                    when: Some(Expr::And {
                        all: vec![
                            Expr::Cmp {
                                cmp: CmpOp::Eq,
                                lhs: Box::new(Expr::AgentName),
                                rhs: lit_str(&agent_name(target)),
                            },
                            Expr::IntentIs { intent: i as u32 },
                            Expr::Cmp {
                                cmp: CmpOp::Eq,
                                lhs: Box::new(Expr::Field {
                                    path: vec!["tier".to_string()],
                                }),
                                rhs: Box::new(Expr::Lit {
                                    value: Value::String(tier(k)),
                                }),
                            },
                        ],
                    }),
                    unless: None,
                    humans: vec![],
                    because: None,
                    src: (plan.source_map.len() - 1) as u32,
                });
            }
        }
    }
    plan.rules.push(residency);
    plan.cedar = cedar::generate(&plan);
    let problems = cedar::validate(&plan, &plan.cedar);
    assert!(problems.is_empty(), "Cedar rejects the plan: {problems:?}");
    let engine = Engine::from_plan(plan.clone()).unwrap();
    let oracle = Oracle::new(&plan, &plan.cedar).unwrap();
    // The permits are the plan's first rules, in `pairs`' order (`build`), as Cedar::new wants.
    let mut cedar = Cedar::new(&plan, &oracle, &pairs);
    for (agent, intent, id) in &held {
        let policy = oracle
            .policies()
            .policy(&PolicyId::new(id))
            .unwrap()
            .clone();
        let set = cedar
            .split
            .get_mut(&(*agent as u32, *intent as u32))
            .unwrap();
        set.add(policy).unwrap();
    }
    let cases: Vec<Deep> = (0..requests)
        .map(|_| {
            let intent = rng.below(intents);
            let confidence = rng.hundredths(0, 100) as f64 / 100.0;
            let region = rng.below(REGIONS.len());
            let eu = rng.below(2) == 0;
            let blocked = holds > 0 && rng.below(10) == 0;
            let k = if blocked { rng.below(holds) } else { 99 };
            let request = Request::for_intent(&intent_of(intent), confidence)
                .with("region", json!(REGIONS[region]))
                .with("residency", json!(if eu { "EU" } else { "US" }))
                .with(
                    "tier",
                    json!(if blocked { tier(k) } else { "standard".into() }),
                );
            let key = (
                intent as u32,
                (confidence * 100.0).round() as u16,
                region as u8,
                eu,
                k as u8,
            );
            Deep {
                intent,
                request,
                key,
            }
        })
        .collect();
    // Pre-split Cedar as a gateway runs it: each step's candidates in order.
    let split = |c: &Deep| -> Option<Vec<usize>> {
        (0..STEPS)
            .map(|s| {
                (0..3).map(|r| agent_of(c.intent, s, r)).find(|&a| {
                    let Some(set) = cedar.split.get(&(a as u32, c.intent as u32)) else {
                        return false;
                    };
                    cedar.allows(set, &cedar.request(&agent_name(a), &c.request))
                })
            })
            .collect()
    };
    let ours = |c: &Deep| -> Option<Vec<String>> {
        let d = engine.decide_at(&c.request, NOW_MS);
        match d.outcome {
            Outcome::Plan | Outcome::Dispatch => {
                Some(d.steps.iter().map(|f| f.agent.to_string()).collect())
            }
            Outcome::Deny => None,
            other => panic!("unexpected outcome {other:?}: {d:?}"),
        }
    };
    let mut floor: HashMap<(u32, u16, u8, bool, u8), bool> = HashMap::new();
    let (mut allowed, mut fell_back) = (0, 0);
    for (i, c) in cases.iter().enumerate() {
        let theirs = split(c);
        let ours = ours(c);
        let named = theirs
            .as_ref()
            .map(|t| t.iter().map(|&a| agent_name(a)).collect::<Vec<_>>());
        assert_eq!(ours, named, "decide and pre-split Cedar disagree on {i}");
        allowed += usize::from(theirs.is_some());
        fell_back += theirs.iter().flatten().filter(|&&a| a % 3 != 0).count();
        floor.insert(c.key, theirs.is_some());
    }
    eprintln!(
        "  shape (d), {rules} rules: {intents} intents, {agents} agents, {per_step} rules per step; {allowed} of {requests} requests served, {fell_back} steps taken by a fallback or backup"
    );
    let timed = |f: &dyn Fn(usize)| {
        stats(
            measure_each(cases.len(), f)
                .into_iter()
                .map(|t| t.1)
                .collect(),
        )
    };
    let decide = timed(&|i| {
        black_box(engine.decide_at(black_box(&cases[i].request), NOW_MS));
    });
    let split_stats = timed(&|i| {
        black_box(split(black_box(&cases[i])));
    });
    let floor_stats = timed(&|i| {
        black_box(floor.get(black_box(&cases[i].key)));
    });
    let rego = rego_peer(&plan, &pairs, &cases, &ours, &timed);
    ShapeRow {
        rules,
        decide,
        split: split_stats,
        floor: floor_stats,
        unknown: None,
        linear: None,
        long: None,
        rego,
    }
}

/// Times a call per request (its argument: the request's index) over all of them.
type Timer<'t> = &'t dyn Fn(&dyn Fn(usize)) -> crate::Stats;

/// regorus as a gateway would run it on shape (d): each step's candidates in order, one
/// evaluation each, until one is allowed. It must choose `decide`'s agents on every request.
#[cfg(feature = "rego-peer")]
fn rego_peer(
    plan: &intent_runtime::plan::Plan,
    pairs: &[(usize, usize)],
    cases: &[Deep],
    ours: &dyn Fn(&Deep) -> Option<Vec<String>>,
    timed: Timer<'_>,
) -> Option<crate::Stats> {
    use std::cell::RefCell;
    let rego = RefCell::new(crate::rego_peer::Rego::with_policy(
        plan,
        pairs,
        crate::rego_peer::DEEP_POLICY,
    ));
    let gateway = |c: &Deep| -> Option<Vec<usize>> {
        let mut rego = rego.borrow_mut();
        (0..STEPS)
            .map(|s| {
                (0..3)
                    .map(|r| agent_of(c.intent, s, r))
                    .find(|&a| rego.allows(&agent_name(a), &c.request))
            })
            .collect()
    };
    // The whole plan in one evaluation, each step's candidates in the input.
    let whole = RefCell::new(crate::rego_peer::Rego::with_entry(
        plan,
        pairs,
        crate::rego_peer::DEEP_PLAN_POLICY,
        "data.bench.chosen",
    ));
    let candidates: Vec<Vec<Vec<String>>> = (0..plan.intents.len())
        .map(|i| {
            (0..STEPS)
                .map(|s| (0..3).map(|r| agent_name(agent_of(i, s, r))).collect())
                .collect()
        })
        .collect();
    let at_once = |c: &Deep| whole.borrow_mut().chosen(&candidates[c.intent], &c.request);
    for (i, c) in cases.iter().enumerate() {
        let theirs = gateway(c).map(|t| t.iter().map(|&a| agent_name(a)).collect::<Vec<_>>());
        assert_eq!(ours(c), theirs, "decide and regorus disagree on {i}");
        assert_eq!(
            ours(c),
            at_once(c),
            "decide and regorus (one evaluation) disagree on {i}"
        );
    }
    let per_candidate = timed(&|i| {
        black_box(gateway(black_box(&cases[i])));
    });
    let one = timed(&|i| {
        black_box(at_once(black_box(&cases[i])));
    });
    eprintln!(
        "  shape (d), {} intents: regorus per candidate {:.0} ns, the whole plan in one evaluation {:.0} ns (medians; the faster is reported)",
        plan.intents.len(),
        per_candidate.median,
        one.median
    );
    Some(if one.median < per_candidate.median {
        one
    } else {
        per_candidate
    })
}

#[cfg(not(feature = "rego-peer"))]
fn rego_peer(
    _: &intent_runtime::plan::Plan,
    _: &[(usize, usize)],
    _: &[Deep],
    _: &dyn Fn(&Deep) -> Option<Vec<String>>,
    _: Timer<'_>,
) -> Option<crate::Stats> {
    None
}
