//! The `Engine`'s accessors and loading, as a host (the sidecar, the Layer, `intent replay`)
//! relies on them: the hash it reports, the plan it holds, the limits it takes per agent, the
//! refusal of a plan whose stated hash is not its content. Runs on the golden plans, with the
//! runtime alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_runtime::state::{Breaker, Rate, Subject};
use intent_runtime::{Engine, Request};
use serde_json::{json, Value};
use std::path::PathBuf;

fn golden(name: &str) -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{name}.plan.json"));
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn the_engine_reports_the_plans_own_hash() {
    let text = golden("fleet");
    let stated = serde_json::from_str::<Value>(&text).unwrap()["plan_hash"]
        .as_str()
        .unwrap()
        .to_string();
    let e = Engine::from_json(&text).unwrap();
    assert_eq!(e.plan_hash(), stated);
    assert_eq!(e.plan_hash().len(), 64);
    assert_eq!(e.plan().plan_hash, stated);
    let d = e.decide_at(
        &Request::for_intent("get_quote", 0.95).with("channel", json!("web")),
        1,
    );
    assert_eq!(&*d.plan_hash, e.plan_hash());
}

#[test]
fn the_engine_holds_the_plan_it_was_given() {
    let e = Engine::from_json(&golden("fleet")).unwrap();
    let names: Vec<&str> = e.plan().agents.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["payer", "quoter", "spare_payer"]);
    assert_eq!(e.plan().intents.len(), 2);
}

#[test]
fn limits_are_known_by_agent_name() {
    let e = Engine::from_json(&golden("fleet")).unwrap();
    let quoter = e.agent_limits("quoter").unwrap();
    assert_eq!(quoter.subject, Subject::Agent("quoter".into()));
    assert_eq!(
        &*quoter.rates,
        [Rate {
            count: 30,
            per_ms: 2_000
        }]
    );
    assert_eq!(quoter.breaker, None);
    let payer = e.agent_limits("payer").unwrap();
    assert_eq!(
        payer.breaker,
        Some(Breaker {
            failures: 3,
            cooldown_ms: 3_000
        })
    );
    assert!(payer.rates.is_empty());
    assert!(
        e.agent_limits("cashier").is_none(),
        "a human is not an agent"
    );
    assert!(e.agent_limits("nobody").is_none());
    let all: Vec<&str> = e
        .all_agent_limits()
        .iter()
        .map(|t| t.subject.name())
        .collect();
    assert_eq!(all, ["payer", "quoter", "spare_payer"]);
}

#[test]
fn failure_reports_name_known_agents_only() {
    let e = Engine::from_json(&golden("fleet")).unwrap();
    assert!(!e.report_failure("nobody", 1));
    for t in 1..=3 {
        assert!(e.report_failure("payer", t));
    }
    let d = e.decide_at(
        &Request::for_intent("send_payment", 0.95).with("channel", json!("api")),
        10,
    );
    assert_eq!(
        d.steps[0].agent.as_ref(),
        "spare_payer",
        "the payer's breaker is open: {d:?}"
    );
}

#[test]
fn a_plan_whose_stated_hash_is_not_its_content_is_refused() {
    let mut plan: Value = serde_json::from_str(&golden("fleet")).unwrap();
    plan["plan_hash"] = json!("0".repeat(64));
    let refused = Engine::from_json(&plan.to_string())
        .unwrap_err()
        .to_string();
    assert!(
        refused.starts_with("invalid plan: ") && refused.contains("hash"),
        "{refused}"
    );
    plan["plan_hash"] = json!("");
    let e = Engine::from_json(&plan.to_string()).unwrap();
    assert_eq!(
        e.plan_hash().len(),
        64,
        "an empty hash is computed on loading"
    );
    assert!(Engine::from_json("{").is_err());
}

/// A hand-edited plan may name, as a step's agent, one that does not provide what the step
/// needs: the engine passes it over (the compiler never writes such a plan).
#[test]
fn an_agent_that_lacks_a_capability_is_passed_over() {
    let mut plan: Value = serde_json::from_str(&golden("fleet")).unwrap();
    let step = &mut plan["intents"][1]["route"]["arms"][0]["action"]["step"];
    assert_eq!(
        step["needs"],
        json!([1]),
        "send_payment needs payments.send"
    );
    step["target"] = json!({"kind": "agent", "id": 1});
    plan["plan_hash"] = json!("");
    let e = Engine::from_json(&plan.to_string()).unwrap();
    let d = e.decide_at(
        &Request::for_intent("send_payment", 0.95).with("channel", json!("api")),
        1,
    );
    assert_eq!(d.steps[0].agent.as_ref(), "spare_payer", "{d:?}");
    let passed_over = d
        .trace
        .iter()
        .find(|t| t.what.to_string() == "step dispatch: quoter")
        .unwrap();
    assert_eq!(
        passed_over.detail.as_deref(),
        Some("does not provide payments.send"),
        "{d:?}"
    );
}
