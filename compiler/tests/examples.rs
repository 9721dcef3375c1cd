//! The bundled examples check clean (no errors, no warnings) and build a plan.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use intent_compiler::{compile, Stage};

#[test]
fn examples_check_clean_and_build() {
    for name in ["finance", "logistics", "healthcare"] {
        let c = compile(&[common::example(name)], Stage::Build);
        assert!(
            c.diagnostics.is_empty(),
            "{name}:\n{}",
            common::rendered(&c)
        );
        let plan = c.plan.expect("a plan");
        assert!(!plan.agents.is_empty() && !plan.intents.is_empty());
        assert_eq!(plan.plan_hash.len(), 64);
        assert!(!c.tests.is_empty(), "{name} has tests");
    }
}

#[test]
fn finance_plan_has_the_routes_of_the_spec() {
    let c = compile(&[common::example("finance")], Stage::Build);
    let plan = c.plan.unwrap();
    let names: Vec<&str> = plan.agents.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "doc_parser",
            "doc_parser_eu",
            "finance_agent",
            "finance_agent_v1",
            "risk_assessor"
        ]
    );
    let summarize = plan
        .intents
        .iter()
        .find(|i| i.name == "summarize_overdue_invoices")
        .unwrap();
    assert_eq!(summarize.route.arms.len(), 3);
    let intent_runtime::plan::Action::Plan { steps } = &summarize.route.arms[2].action else {
        panic!("a plan")
    };
    let steps: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(steps, ["parse", "summarize", "risk"]);
    assert_eq!(c.tests.len(), 4);
    let loc = plan.source(summarize.route.arms[0].src).unwrap();
    assert_eq!((&*loc.file, loc.line), ("finance.intent", 61));
}

#[test]
fn plan_json_round_trips() {
    for name in ["finance", "logistics", "healthcare"] {
        let plan = compile(&[common::example(name)], Stage::Build)
            .plan
            .unwrap();
        let json = serde_json::to_string(&plan).unwrap();
        let back: intent_runtime::plan::Plan = serde_json::from_str(&json).unwrap();
        assert_eq!(back, plan);
    }
}
