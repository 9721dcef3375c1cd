//! A hand-edited plan that breaks what the engine assumes of one (`engine/validate.rs`) is
//! refused with its reason, and one at the inclusive edges of its bounds loads. Runs on edited
//! copies of the finance golden plan, with the runtime alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_runtime::plan::Plan;
use intent_runtime::Engine;
use serde_json::{json, Value};
use std::path::PathBuf;

fn golden(name: &str) -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{name}.plan.json"));
    std::fs::read_to_string(path).unwrap()
}

/// The finance plan as JSON, with `edit` applied and its hash cleared (so the edit itself is
/// judged): loaded, or the reason it is refused.
fn load_edited(edit: impl Fn(&mut Value)) -> Result<Engine, String> {
    let mut v: Value = serde_json::from_str(&golden("finance")).unwrap();
    edit(&mut v);
    v["plan_hash"] = json!("");
    Engine::from_json(&v.to_string()).map_err(|e| e.to_string())
}

/// The finance plan with `edit` applied to its parsed form (for what JSON cannot write, such
/// as a NaN): loaded, or the reason it is refused.
fn load_changed(edit: impl Fn(&mut Plan)) -> Result<Engine, String> {
    let mut plan: Plan = serde_json::from_str(&golden("finance")).unwrap();
    edit(&mut plan);
    plan.plan_hash = String::new();
    Engine::from_plan(plan).map_err(|e| e.to_string())
}

/// A change made to a plan's JSON.
type Edit = Box<dyn Fn(&mut Value)>;

/// A change to the plan, what it breaks, and the words of the refusal.
type Case = (&'static str, Edit, &'static str);

/// A hand-written (or hand-edited) plan is checked on loading: each edit breaks one thing the
/// engine assumes of a plan, and is refused with its reason. The compiler never writes these.
#[test]
fn a_plan_that_breaks_what_the_engine_assumes_is_refused_with_its_reason() {
    let steps = "/intents/1/route/arms/2/action/steps";
    let at = |v: &mut Value, path: &str, x: Value| *v.pointer_mut(path).unwrap() = x;
    let cases: Vec<Case> = vec![
        (
            "two agents of one name",
            Box::new(|v| v["agents"][1]["name"] = json!("doc_parser")),
            "two agents are named `doc_parser`",
        ),
        (
            "two steps of one plan with one name",
            Box::new(move |v| at(v, &format!("{steps}/2/name"), json!("parse"))),
            "intent summarize_overdue_invoices: two steps of one plan are named `parse`",
        ),
        (
            "a weight short",
            Box::new(|v| v["classifier"]["weights"] = json!([1.0, 2.0, 3.0, 4.0])),
            "the classifier's weights must be 5 finite numbers (or none)",
        ),
        (
            "a confidence floor above 1",
            Box::new(|v| v["classifier"]["floor"] = json!(1.5)),
            "the confidence floor must be between 0 and 1",
        ),
        (
            "a confidence floor below 0",
            Box::new(|v| v["classifier"]["floor"] = json!(-0.1)),
            "the confidence floor must be between 0 and 1",
        ),
        (
            "a reference coverage of 0",
            Box::new(|v| v["classifier"]["coverage"] = json!(0.0)),
            "the classifier's reference coverage must be above 0 and at most 1",
        ),
        (
            "a reference coverage above 1",
            Box::new(|v| v["classifier"]["coverage"] = json!(1.5)),
            "reference coverage must be above 0",
        ),
        (
            "a negative reference coverage",
            Box::new(|v| v["classifier"]["coverage"] = json!(-0.5)),
            "reference coverage must be above 0",
        ),
        (
            "trust above 1",
            Box::new(|v| v["agents"][0]["trust"] = json!(7.0)),
            "agent doc_parser: trust must be between 0 and 1",
        ),
        (
            "a negative cost",
            Box::new(|v| v["agents"][0]["cost"] = json!(-1.0)),
            "agent doc_parser: cost must be at least 0",
        ),
        (
            "a rate of 0 uses",
            Box::new(|v| v["limits"]["rates"][0]["count"] = json!(0)),
            "a rate limit of 0 per 60000 ms: the count and the window must be at least 1",
        ),
        (
            "a rate over 0 ms",
            Box::new(|v| v["limits"]["rates"][0]["per_ms"] = json!(0)),
            "a rate limit of 100 per 0 ms",
        ),
        (
            "a breaker of 0 failures",
            Box::new(|v| v["limits"]["breakers"][0]["failures"] = json!(0)),
            "a breaker of 0 failures with a 30000 ms cooldown: both must be at least 1",
        ),
        (
            "a breaker cooling down for 0 ms",
            Box::new(|v| v["limits"]["breakers"][0]["cooldown_ms"] = json!(0)),
            "a breaker of 5 failures with a 0 ms cooldown",
        ),
        (
            "a breaker on a person",
            Box::new(|v| v["limits"]["breakers"][0]["target"] = json!({"kind": "human", "id": 0})),
            "a breaker applies to agents, not to humans",
        ),
        (
            "a delegation depth of 0",
            Box::new(|v| v["limits"]["delegation_depth"] = json!(0)),
            "the delegation depth must be at least 1",
        ),
        (
            "an sla of 0 ms",
            Box::new(|v| v["humans"][0]["sla_ms"] = json!(0)),
            "human finance_lead: the sla must be at least 1 ms",
        ),
        (
            "a source reference one past the end",
            Box::new(|v| v["humans"][0]["src"] = json!(25)),
            "source index 25 is out of range (there are 25)",
        ),
        (
            "an agent providing a capability the plan does not have",
            Box::new(|v| v["agents"][0]["provides"] = json!([7])),
            "capability index 7 is out of range (there are 7)",
        ),
        (
            "an agent's capabilities out of order",
            Box::new(|v| v["agents"][2]["provides"] = json!([4, 3])),
            "an agent's provides must be sorted",
        ),
        (
            "an agent's capability named twice",
            Box::new(|v| v["agents"][2]["provides"] = json!([3, 3])),
            "an agent's provides must be sorted",
        ),
        (
            "a condition on a capability the plan does not have",
            Box::new(|v| {
                v["intents"][1]["route"]["arms"][0]["when"] =
                    json!({"op": "caller_provides", "cap": 7})
            }),
            "intent summarize_overdue_invoices: capability index 7 is out of range",
        ),
        (
            "an escalate rule without a condition",
            Box::new(|v| v["rules"][0]["when"] = Value::Null),
            "rule acme.finance.confidence_floor#0: only a forbid may omit `when`",
        ),
        (
            "an escalate rule with an exception",
            Box::new(|v| v["rules"][0]["unless"] = json!({"op": "has_caller"})),
            "rule acme.finance.confidence_floor#0: only a forbid may have `unless`",
        ),
        (
            "an escalate rule to nobody",
            Box::new(|v| v["rules"][0]["humans"] = json!([])),
            "an escalate rule names at least one human, other rules none",
        ),
        (
            "a forbid rule naming a person",
            Box::new(|v| v["rules"][1]["humans"] = json!([0])),
            "rule acme.finance.residency#0: an escalate rule names at least one human",
        ),
        (
            "a plan arm without steps",
            Box::new(move |v| at(v, steps, json!([]))),
            "intent summarize_overdue_invoices: a plan arm has no steps",
        ),
        (
            "an escalate arm to nobody",
            Box::new(|v| v["intents"][1]["route"]["arms"][1]["action"]["humans"] = json!([])),
            "an escalate arm names no human",
        ),
        (
            "a review arm that dispatches",
            Box::new(|v| {
                v["reviews"][0]["arms"][2]["action"] =
                    v["intents"][0]["route"]["arms"][0]["action"].clone()
            }),
            "a review arm cannot dispatch",
        ),
        (
            "a step for an agent the plan does not have",
            Box::new(move |v| {
                at(
                    v,
                    &format!("{steps}/1/target"),
                    json!({"kind": "agent", "id": 5}),
                )
            }),
            "agent index 5 is out of range (there are 5)",
        ),
        (
            "a step after a step the plan does not have",
            Box::new(move |v| at(v, &format!("{steps}/1/after"), json!([3]))),
            "step index 3 is out of range (there are 3)",
        ),
        (
            "a step only for a capability no agent provides",
            Box::new(|v| {
                v["intents"][0]["route"]["arms"][0]["action"]["step"]["target"] =
                    json!({"kind": "any", "id": 0})
            }),
            "intent fetch_ledger: step dispatch has no agent to try",
        ),
        (
            "steps waiting for each other",
            Box::new(move |v| at(v, &format!("{steps}/0/after"), json!([2]))),
            "intent summarize_overdue_invoices: the steps' `after` form a cycle",
        ),
        (
            "a step waiting for itself",
            Box::new(move |v| at(v, &format!("{steps}/0/after"), json!([0]))),
            "the steps' `after` form a cycle",
        ),
    ];
    assert!(load_edited(|_| {}).is_ok(), "the plan itself loads");
    for (what, edit, says) in cases {
        match load_edited(edit) {
            Ok(_) => panic!("{what}: the edited plan was accepted"),
            Err(e) => assert!(
                e.starts_with("invalid plan: ") && e.contains(says),
                "{what}: {e}"
            ),
        }
    }
}

/// What the checks allow, at their edges: the bounds are inclusive where the compiler's are.
#[test]
fn a_plan_at_the_edges_of_its_bounds_loads() {
    let cases: Vec<(&str, Edit)> = vec![
        (
            "no weights",
            Box::new(|v| v["classifier"]["weights"] = json!([])),
        ),
        (
            "a floor of 0",
            Box::new(|v| v["classifier"]["floor"] = json!(0.0)),
        ),
        (
            "a floor of 1",
            Box::new(|v| v["classifier"]["floor"] = json!(1.0)),
        ),
        (
            "a floor of 0.5",
            Box::new(|v| v["classifier"]["floor"] = json!(0.5)),
        ),
        (
            "a coverage of 1",
            Box::new(|v| v["classifier"]["coverage"] = json!(1.0)),
        ),
        (
            "a coverage of 0.5",
            Box::new(|v| v["classifier"]["coverage"] = json!(0.5)),
        ),
        (
            "trust 0",
            Box::new(|v| v["agents"][0]["trust"] = json!(0.0)),
        ),
        (
            "trust 1",
            Box::new(|v| v["agents"][0]["trust"] = json!(1.0)),
        ),
        (
            "a cost above 0",
            Box::new(|v| v["agents"][0]["cost"] = json!(2.5)),
        ),
        (
            "a rate of 1 per 1 ms",
            Box::new(|v| {
                v["limits"]["rates"][0]["count"] = json!(1);
                v["limits"]["rates"][0]["per_ms"] = json!(1);
            }),
        ),
        (
            "a delegation depth of 1",
            Box::new(|v| v["limits"]["delegation_depth"] = json!(1)),
        ),
        (
            "no delegation depth",
            Box::new(|v| v["limits"]["delegation_depth"] = Value::Null),
        ),
        (
            "an sla of 1 ms",
            Box::new(|v| v["humans"][0]["sla_ms"] = json!(1)),
        ),
        (
            "a forbid without a condition",
            Box::new(|v| v["rules"][1]["when"] = Value::Null),
        ),
        (
            "a forbid with an exception",
            Box::new(|v| v["rules"][1]["unless"] = json!({"op": "has_caller"})),
        ),
        (
            "a plan of one step",
            Box::new(|v| {
                let one = v
                    .pointer("/intents/1/route/arms/2/action/steps/0")
                    .unwrap()
                    .clone();
                *v.pointer_mut("/intents/1/route/arms/2/action/steps")
                    .unwrap() = json!([one]);
            }),
        ),
    ];
    for (what, edit) in cases {
        if let Err(e) = load_edited(edit) {
            panic!("{what}: {e}");
        }
    }
}

/// What JSON cannot write: a weight, a trust or a cost that is not a number.
#[test]
fn numbers_that_are_not_numbers_are_refused() {
    let e = load_changed(|p| p.classifier.weights[2] = f64::NAN).unwrap_err();
    assert!(
        e.contains("the classifier's weights must be 5 finite numbers"),
        "{e}"
    );
    let e = load_changed(|p| p.classifier.weights[4] = f64::INFINITY).unwrap_err();
    assert!(e.contains("weights must be 5 finite numbers"), "{e}");
    let e = load_changed(|p| p.agents[1].trust = f64::NAN).unwrap_err();
    assert!(
        e.contains("agent doc_parser_eu: trust must be between 0 and 1"),
        "{e}"
    );
    let e = load_changed(|p| p.agents[1].cost = f64::INFINITY).unwrap_err();
    assert!(
        e.contains("agent doc_parser_eu: cost must be at least 0"),
        "{e}"
    );
    let e = load_changed(|p| p.classifier.coverage = Some(f64::NAN)).unwrap_err();
    assert!(e.contains("reference coverage"), "{e}");
    assert!(load_changed(|_| {}).is_ok());
}
