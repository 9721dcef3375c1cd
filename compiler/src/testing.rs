//! Running `test` blocks: each test's `given` is decided (or, with a `response`, reviewed) by
//! the runtime on a fresh engine, after its scene (earlier uses and failures) was fed to the
//! engine's state store, and every `expect` line is checked against the result.
//! Protocol-free: the CLI prints the outcomes.

use crate::check::{Expectation, ExpectationKind, SceneEvent, TestCase};
use intent_runtime::decision::TraceWhat;
use intent_runtime::plan::Plan;
use intent_runtime::state::Take;
use intent_runtime::{
    Decision, Engine, Obligation, Outcome, Request, Response, Verdict, VerdictOutcome,
};
use serde_json::Value as Json;

/// What a test produced.
#[derive(Debug, Clone)]
pub enum Actual {
    Decision(Decision),
    Verdict(Verdict),
    /// The `given` could not be turned into a request.
    Invalid(String),
}

#[derive(Debug, Clone)]
pub struct TestOutcome {
    pub name: String,
    pub location: String,
    /// One line per `expect` that did not hold.
    pub failures: Vec<String>,
    pub actual: Actual,
}

impl TestOutcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs every test against the plan.
pub fn run(plan: &Plan, tests: &[TestCase]) -> Vec<TestOutcome> {
    tests.iter().map(|t| run_one(plan, t)).collect()
}

fn run_one(plan: &Plan, t: &TestCase) -> TestOutcome {
    let location = t.source.to_string();
    let actual = match Engine::from_plan(plan.clone()) {
        Err(e) => Actual::Invalid(e.to_string()),
        Ok(engine) => {
            let now = set_scene(&engine, &t.scene);
            execute_at(&engine, &t.given, now)
        }
    };
    let failures = t
        .expects
        .iter()
        .filter_map(|e| {
            let holds = check(&actual, e);
            (holds == e.negated).then(|| {
                format!(
                    "{}: expected {}{}",
                    e.source,
                    if e.negated { "not " } else { "" },
                    describe(e)
                )
            })
        })
        .collect();
    TestOutcome {
        name: t.name.clone(),
        location,
        failures,
        actual,
    }
}

/// Feeds a test's scene to the engine's state store and returns the moment to decide at: the
/// longest window of the scene, so every event falls after time 0. Each line's events happen
/// together, one millisecond after the start of its window (the oldest they can be and still
/// fall within it), in time order. Uses are recorded only up to the subject's largest rate
/// limit and failures up to its breaker's count: more could change nothing.
pub fn set_scene(engine: &Engine, scene: &[SceneEvent]) -> u64 {
    let now = scene.iter().map(|e| e.within_ms).max().unwrap_or(0);
    let mut events: Vec<&SceneEvent> = scene.iter().collect();
    events.sort_by_key(|e| std::cmp::Reverse(e.within_ms));
    let state = engine.state();
    for e in events {
        let at = now.saturating_sub(e.within_ms).saturating_add(1).min(now);
        let limits = if e.human {
            engine.human_limits(&e.subject)
        } else {
            engine.agent_limits(&e.subject)
        };
        let Some(limits) = limits else { continue };
        if e.failures {
            let keep = limits
                .breaker
                .map_or(intent_runtime::state::FAILURES_KEPT_WITHOUT_BREAKER, |b| {
                    b.failures
                });
            for _ in 0..e.count.min(keep) {
                engine.report_failure(&e.subject, at);
            }
        } else {
            let largest = limits.rates.iter().map(|r| r.count).max().unwrap_or(0);
            let take = Take {
                subject: limits.subject.clone(),
                rates: limits.rates.clone(),
                breaker: None,
            };
            for _ in 0..e.count.min(largest) {
                // A use beyond a limit is refused and changes nothing, as in production.
                let _ = state.take(std::slice::from_ref(&take), at);
            }
        }
    }
    now
}

/// Decides (or reviews) a test's `given` at time 0.
pub fn execute(engine: &Engine, given: &Json) -> Actual {
    execute_at(engine, given, 0)
}

/// Decides (or reviews) a test's `given` at `now` (milliseconds).
pub fn execute_at(engine: &Engine, given: &Json, now: u64) -> Actual {
    let Some(obj) = given.as_object() else {
        return Actual::Invalid("`given` is not a record".into());
    };
    if let Some(resp) = obj.get("response") {
        let mut r = Response {
            agent: obj
                .get("agent")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string(),
            ..Response::default()
        };
        r.confidence = resp.get("confidence").and_then(Json::as_f64);
        r.data = resp
            .get("data")
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|d| d.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        for (k, v) in obj {
            if !matches!(
                k.as_str(),
                "agent" | "response" | "intent" | "confidence" | "text" | "caller"
            ) {
                r.context.insert(k.clone(), v.clone());
            }
        }
        return Actual::Verdict(engine.review_at(&r, now));
    }
    match serde_json::from_value::<Request>(given.clone()) {
        Ok(req) => Actual::Decision(engine.decide_at(&req, now)),
        Err(e) => Actual::Invalid(format!("`given` is not a request: {e}")),
    }
}

fn check(actual: &Actual, e: &Expectation) -> bool {
    use ExpectationKind as K;
    let (kind, name, steps) = (e.kind, e.name.as_deref(), &e.steps);
    // `deny because "TEXT"`: the reason given contains TEXT (a denial by a rule gives the
    // rule's `because`; one from filling a step gives each candidate's reason).
    let gives = |reason: Option<&str>| match &e.reason {
        None => true,
        Some(want) => reason.is_some_and(|r| r.contains(want.as_str())),
    };
    match actual {
        Actual::Invalid(_) => false,
        Actual::Decision(d) => {
            let agent_of =
                |step: &str| d.steps.iter().find(|s| &*s.step == step).map(|s| &*s.agent);
            match kind {
                K::Dispatch => d.outcome == Outcome::Dispatch && d.steps.first().map(|s| &*s.agent) == name,
                K::Plan => d.outcome == Outcome::Plan && steps.iter().all(|(s, a)| agent_of(s) == Some(a.as_str())),
                K::Escalate => d.outcome == Outcome::Escalate && d.human.as_deref() == name,
                K::Clarify => d.outcome == Outcome::Clarify,
                K::Deny => d.outcome == Outcome::Deny && gives(d.reason.as_deref()),
                K::Throttle => d.outcome == Outcome::Throttle,
                K::Intent => d.intent.as_deref() == name,
                K::Audit => d.obligations.iter().any(|o| matches!(o, Obligation::Audit { .. })),
                K::Redact => d.obligations.iter().any(|o| matches!(o, Obligation::Redact { data } if data.iter().any(|x| Some(&**x) == name))),
                // A review verdict, never a decision's.
                K::Pass => false,
            }
        }
        Actual::Verdict(v) => match kind {
            K::Pass => v.outcome == VerdictOutcome::Pass,
            K::Redact => {
                v.outcome == VerdictOutcome::Redact && v.redact.iter().any(|x| Some(&**x) == name)
            }
            K::Escalate => v.outcome == VerdictOutcome::Escalate && v.human.as_deref() == name,
            K::Deny => v.outcome == VerdictOutcome::Deny && gives(v.reason.as_deref()),
            // A decision's outcomes, never a review's.
            K::Dispatch | K::Plan | K::Clarify | K::Throttle | K::Intent | K::Audit => false,
        },
    }
}

fn describe(e: &Expectation) -> String {
    match (e.kind, e.name.as_deref()) {
        (ExpectationKind::Plan, _) => format!(
            "plan {{ {} }}",
            e.steps
                .iter()
                .map(|(s, a)| format!("{s}: {a}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        (ExpectationKind::Deny, _) => match &e.reason {
            Some(r) => format!("deny because {r:?}"),
            None => "deny".into(),
        },
        (k, Some(n)) => format!("{} {n}", k.word()),
        (k, None) => k.word().to_string(),
    }
}

/// The actual result in one line: `plan { parse: doc_parser_eu, summarize: finance_agent }`.
pub fn summary(actual: &Actual) -> String {
    match actual {
        Actual::Invalid(e) => format!("invalid test: {e}"),
        Actual::Decision(d) => {
            let mut s = d.outcome.as_str().to_string();
            match d.outcome {
                Outcome::Dispatch => {
                    s.push_str(&format!(" {}", d.steps.first().map_or("?", |x| &*x.agent)))
                }
                Outcome::Plan => s.push_str(&format!(
                    " {{ {} }}",
                    d.steps
                        .iter()
                        .map(|x| format!("{}: {}", x.step, x.agent))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                Outcome::Escalate => s.push_str(&format!(" {}", d.human.as_deref().unwrap_or("?"))),
                Outcome::Clarify | Outcome::Deny | Outcome::Throttle => {}
            }
            if let Some(r) = &d.reason {
                s.push_str(&format!(" ({r})"));
            }
            if let Some(i) = &d.intent {
                s.push_str(&format!(" [intent {i}]"));
            }
            s
        }
        Actual::Verdict(v) => {
            let mut s = format!("{:?}", v.outcome).to_lowercase();
            if !v.redact.is_empty() {
                s.push_str(&format!(
                    " {}",
                    v.redact
                        .iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if let Some(h) = &v.human {
                s.push_str(&format!(" {h}"));
            }
            s
        }
    }
}

/// The trace of the actual result, one entry a line: `✓` what matched, `·` what did not, `✗
/// refused` a forbid that refused an agent.
pub fn trace_lines(actual: &Actual) -> Vec<String> {
    let trace = match actual {
        Actual::Decision(d) => &d.trace,
        Actual::Verdict(v) => &v.trace,
        Actual::Invalid(_) => return Vec::new(),
    };
    trace
        .iter()
        .map(|t| {
            // A forbid that fired refused the agent: it reads as a refusal, not as a match.
            let refused = t.matched && matches!(t.what, TraceWhat::Forbid { .. });
            let (mark, kind) = match (refused, t.matched) {
                (true, _) => ("✗", "refused"),
                (false, true) => ("✓", t.kind.as_str()),
                (false, false) => ("·", t.kind.as_str()),
            };
            format!(
                "{mark} {kind:<9} {}{}{}",
                t.what,
                t.detail
                    .as_ref()
                    .map_or(String::new(), |d| format!(" — {d}")),
                trace.at(t).map_or(String::new(), |a| format!("  ({a})"))
            )
        })
        .collect()
}

/// An arm or rule that no test exercised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uncovered {
    /// `route X arm 2`, `forbid rule p#0`, `review any arm 1`.
    pub what: String,
    /// `file:line:col`.
    pub at: String,
}

/// The route arms, policy rules and review arms that matched in none of the tests' traces.
pub fn coverage(plan: &Plan, outcomes: &[TestOutcome]) -> Vec<Uncovered> {
    let mut hit = std::collections::HashSet::new();
    for o in outcomes {
        let trace = match &o.actual {
            Actual::Decision(d) => &d.trace,
            Actual::Verdict(v) => &v.trace,
            Actual::Invalid(_) => continue,
        };
        for t in trace.iter().filter(|t| t.matched) {
            if let Some(at) = trace.at(t) {
                hit.insert(at.to_string());
            }
        }
    }
    let at = |src: u32| plan.source(src).map(|s| s.to_string()).unwrap_or_default();
    let mut out = Vec::new();
    for it in &plan.intents {
        for (i, arm) in it.route.arms.iter().enumerate() {
            if !hit.contains(&at(arm.src)) {
                out.push(Uncovered {
                    what: format!("route {} arm {}", it.name, i + 1),
                    at: at(arm.src),
                });
            }
        }
    }
    for r in &plan.rules {
        if !hit.contains(&at(r.src)) {
            let kind = match r.kind {
                intent_runtime::plan::RuleKind::Forbid => "forbid",
                intent_runtime::plan::RuleKind::Permit => "permit",
                intent_runtime::plan::RuleKind::Escalate => "escalate",
                intent_runtime::plan::RuleKind::RequireAudit => "require audit",
            };
            out.push(Uncovered {
                what: format!("{kind} rule {}", r.id),
                at: at(r.src),
            });
        }
    }
    for rv in &plan.reviews {
        let who = rv
            .agent
            .and_then(|a| plan.agents.get(a as usize))
            .map_or("any", |a| a.name.as_str());
        for (i, arm) in rv.arms.iter().enumerate() {
            if !hit.contains(&at(arm.src)) {
                out.push(Uncovered {
                    what: format!("review {who} arm {}", i + 1),
                    at: at(arm.src),
                });
            }
        }
    }
    out
}
