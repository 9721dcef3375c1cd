//! The runtime API against docs/concepts.md ("One decision, step by step"): the `.intent` semantics tests, and what `.intent`
//! tests cannot express (time, state, reasons, JSON shape, robustness).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_compiler::{compile, testing, Source, Stage};
use intent_runtime::{Decision, Engine, Outcome, Request, TraceKind};
use proptest::prelude::*;
use serde_json::json;

fn engine(src: &str) -> Engine {
    let c = compile(&[Source::new("t.intent", src)], Stage::Build);
    assert!(
        !c.has_errors(),
        "{}",
        intent_compiler::render::human(&c.diagnostics, &c.sources, false)
    );
    Engine::from_plan(c.plan.unwrap()).unwrap()
}

fn file(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn intent_test_blocks_pass() {
    let mut total = 0;
    for path in [
        "tests/semantics/guards.intent",
        "tests/semantics/filling.intent",
        "tests/semantics/caller.intent",
        "examples/finance/finance.intent",
        "examples/logistics/logistics.intent",
        "examples/healthcare/healthcare.intent",
    ] {
        let c = compile(&[Source::new(path, file(path))], Stage::Check);
        assert!(!c.has_errors(), "{path}");
        for t in testing::run(c.plan.as_ref().unwrap(), &c.tests) {
            assert!(
                t.passed(),
                "{path}: {}: {:?}\n{}",
                t.name,
                t.failures,
                testing::trace_lines(&t.actual).join("\n")
            );
            total += 1;
        }
    }
    assert!(total >= 38, "{total} tests ran");
}

fn guards() -> Engine {
    engine(&file("tests/semantics/guards.intent"))
}

fn with_lineage(intent: &str, lineage: &[&str]) -> Request {
    let mut r = Request::for_intent(intent, 0.9).with("channel", json!("web"));
    r.caller = Some(intent_runtime::Caller {
        agent: Some("desk".into()),
        lineage: lineage.iter().map(|s| s.to_string()).collect(),
    });
    r
}

fn reason(d: &Decision) -> &str {
    d.reason.as_deref().unwrap_or("")
}

#[test]
fn guards_say_why_they_deny() {
    let e = guards();
    let d = e.decide_at(&with_lineage("send_invoice", &["take_order"]), 0);
    assert_eq!(
        (d.outcome, reason(&d)),
        (
            Outcome::Deny,
            "intent drift: take_order does not delegate send_invoice"
        )
    );
    let d = e.decide_at(
        &with_lineage("take_order", &["take_order", "check_stock"]),
        0,
    );
    assert!(reason(&d).starts_with("delegation loop"), "{d:?}");
    let d = e.decide_at(
        &with_lineage(
            "send_invoice",
            &["open_account", "take_order", "check_stock"],
        ),
        0,
    );
    assert_eq!(reason(&d), "delegation depth 3 is over the limit of 2");
    let d = e.decide_at(&with_lineage("check_stock", &["take_order", "nope"]), 0);
    assert!(reason(&d).contains("unknown intent `nope`"));
}

/// Regression (#10): an unknown intent name was repeated whole in the reason, so a 60 KB name
/// made a 60 KB answer (and log record), after an edit distance over every intent.
#[test]
fn unknown_names_are_cut_in_the_reason() {
    let e = guards();
    let long = "x".repeat(60_000);
    let d = e.decide_at(
        &Request::for_intent(&long, 0.9).with("channel", json!("web")),
        0,
    );
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(reason(&d), format!("unknown intent `{}…`", "x".repeat(64)));
    let d = e.decide_at(&with_lineage("check_stock", &["take_order", &long]), 0);
    assert_eq!(
        reason(&d),
        format!(
            "the caller's lineage names an unknown intent `{}…`",
            "x".repeat(64)
        )
    );
}

#[test]
fn unknown_intents_and_faults_deny_with_the_reason() {
    let e = guards();
    let d = e.decide_at(
        &Request::for_intent("take_ordr", 0.9).with("channel", json!("web")),
        0,
    );
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(
        reason(&d).contains("closest known intents: `take_order`"),
        "{}",
        reason(&d)
    );
    let d = e.decide_at(&Request::for_intent("take_order", 0.9), 0);
    assert!(
        reason(&d).contains("required field `channel` is missing"),
        "{}",
        reason(&d)
    );
    let d = e.decide_at(
        &Request::for_intent("take_order", 0.9).with("channel", json!("fax")),
        0,
    );
    assert!(reason(&d).contains("not one of"), "{}", reason(&d));
    let d = e.decide_at(
        &Request::for_intent("take_order", 0.9).with("channel", json!(3)),
        0,
    );
    assert_eq!(d.outcome, Outcome::Deny);
    let mut r = Request::for_intent("take_order", 0.9).with("channel", json!("web"));
    r.confidence = None;
    assert!(reason(&e.decide_at(&r, 0)).contains("must give its confidence"));
    assert_eq!(
        e.decide_at(
            &Request::for_intent("take_order", 1.5).with("channel", json!("web")),
            0
        )
        .outcome,
        Outcome::Deny
    );
    assert_eq!(e.decide_at(&Request::default(), 0).outcome, Outcome::Deny);
}

const LIMITED: &str = r#"
package limited
capability work.do
context { channel: "web" | "api" }
agent main_worker { provides work.do  trust 0.9  backup spare }
agent spare       { provides work.do  trust 0.5 }
human lead { channel "pager" sla 30m }
intent work { requires work.do }
route work {
  when channel == "api" => escalate lead because "api work is checked by a person"
  otherwise => dispatch main_worker
}
limits {
  rate main_worker 2 per 1m
  rate spare 1 per 1m
  rate lead 1 per 1h
  breaker main_worker 2 failures cooldown 30s
}
"#;

fn work(channel: &str) -> Request {
    Request::for_intent("work", 0.9).with("channel", json!(channel))
}

fn agent_of(d: &Decision) -> &str {
    d.steps.first().map_or("", |s| &*s.agent)
}

#[test]
fn rate_limits_fall_back_then_throttle_with_retry_after() {
    let e = engine(LIMITED);
    assert_eq!(agent_of(&e.decide_at(&work("web"), 0)), "main_worker");
    assert_eq!(agent_of(&e.decide_at(&work("web"), 1_000)), "main_worker");
    // main_worker is at its limit: its backup serves.
    assert_eq!(agent_of(&e.decide_at(&work("web"), 2_000)), "spare");
    // Both at their limits: throttle, retry when main_worker's first use leaves the window.
    let d = e.decide_at(&work("web"), 3_000);
    assert_eq!(d.outcome, Outcome::Throttle);
    assert_eq!(d.retry_after_ms, Some(57_000));
    assert_eq!(agent_of(&e.decide_at(&work("web"), 60_001)), "main_worker");
}

#[test]
fn humans_have_capacity_too() {
    let e = engine(LIMITED);
    let d = e.decide_at(&work("api"), 0);
    assert_eq!(
        (d.outcome, d.human.as_deref(), d.deadline_ms),
        (Outcome::Escalate, Some("lead"), Some(30 * 60_000))
    );
    let d = e.decide_at(&work("api"), 1_000);
    assert_eq!(d.outcome, Outcome::Throttle);
    assert_eq!(d.retry_after_ms, Some(3_599_000));
}

#[test]
fn breaker_opens_after_failures_and_closes_after_cooldown() {
    let e = engine(LIMITED);
    assert!(e.report_failure("main_worker", 0));
    assert_eq!(agent_of(&e.decide_at(&work("web"), 100)), "main_worker");
    assert!(e.report_failure("main_worker", 200));
    let d = e.decide_at(&work("web"), 300);
    assert_eq!(agent_of(&d), "spare");
    assert!(d
        .trace
        .iter()
        .any(|t| t.detail.as_deref() == Some("breaker open")));
    // 30 s after the failures the breaker closes again.
    assert_eq!(agent_of(&e.decide_at(&work("web"), 30_201)), "main_worker");
    assert!(!e.report_failure("nobody", 0));
}

#[test]
fn escalation_rules_carry_the_filled_plan() {
    let e = engine(&file("tests/semantics/filling.intent"));
    let r = Request::for_intent("read_ledger", 0.9)
        .with("residency", json!("US"))
        .with("tier", json!("gold"));
    let d = e.decide_at(&r, 1_000);
    assert_eq!(d.outcome, Outcome::Escalate);
    assert_eq!(d.human.as_deref(), Some("reviewer"));
    assert_eq!(agent_of(&d), "ledger_main", "the plan that would have run");
    assert_eq!(d.deadline_ms, Some(1_000 + 3_600_000));
}

#[test]
fn decision_json_has_the_documented_shape() {
    let e = engine(&file("examples/finance/finance.intent"));
    let r = Request::for_intent("summarize_overdue_invoices", 0.95)
        .with("subject", json!({"residency": "EU", "role": "analyst"}))
        .with("channel", json!("web"));
    let d = e.decide_at(&r, 0);
    let v = serde_json::to_value(&d).unwrap();
    for key in [
        "outcome",
        "steps",
        "obligations",
        "trace",
        "plan_hash",
        "decision_id",
    ] {
        assert!(v.get(key).is_some(), "{key} missing from {v}");
    }
    assert_eq!(v["outcome"], "plan");
    assert_eq!(
        v["steps"][0],
        json!({"step": "parse", "agent": "doc_parser_eu"})
    );
    let forbid = d.trace.iter().find(|t| t.kind == TraceKind::Rule).unwrap();
    assert!(
        d.trace.at(forbid).unwrap().starts_with("t.intent:"),
        "{forbid:?}"
    );
    assert_ne!(e.decide_at(&r, 0).decision_id, d.decision_id);
}

#[test]
fn a_bad_plan_is_refused_not_panicked_on() {
    let c = compile(
        &[Source::new(
            "f.intent",
            file("examples/finance/finance.intent"),
        )],
        Stage::Build,
    );
    let mut plan = c.plan.unwrap();
    plan.agents[0].backups.push(99);
    // An edited plan no longer has the hash it states: with the hash kept, that is the refusal.
    assert!(Engine::from_plan(plan.clone())
        .unwrap_err()
        .to_string()
        .contains("is not the hash of the plan's content"));
    plan.plan_hash.clear();
    assert!(Engine::from_plan(plan.clone())
        .unwrap_err()
        .to_string()
        .contains("agent index 99"));
    plan.format = 2;
    assert!(Engine::from_plan(plan).is_err());
    assert!(Engine::from_json("{\"format\": 1}").is_err());
    assert!(Engine::from_json("not json").is_err());
}

fn finance() -> &'static Engine {
    static E: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    E.get_or_init(|| engine(&file("examples/finance/finance.intent")))
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(json!(null)),
        any::<bool>().prop_map(|b| json!(b)),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(vec![
            "EU",
            "US",
            "web",
            "api",
            "analyst",
            "auditor",
            "summarize_overdue_invoices",
            "fetch_ledger",
            "x"
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "intent",
                    "confidence",
                    "text",
                    "caller",
                    "subject",
                    "residency",
                    "role",
                    "channel",
                    "amount",
                    "lineage",
                    "agent"
                ])
                .prop_map(String::from),
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decide_is_total_on_any_json(v in arb_json()) {
        if let Ok(req) = serde_json::from_value::<Request>(v) {
            let d = finance().decide_at(&req, 0);
            // Fail closed: anything that is not a well-formed request for a known intent denies.
            if req.intent.is_none() && req.text.is_none() {
                prop_assert_eq!(d.outcome, Outcome::Deny);
            }
        }
    }

    #[test]
    fn decide_is_total_on_requests_built_from_the_plan(
        intent in prop::sample::select(vec!["summarize_overdue_invoices", "fetch_ledger"]),
        confidence in 0.0f64..=1.0,
        residency in prop::sample::select(vec!["EU", "US", "CH"]),
        role in prop::sample::select(vec!["analyst", "auditor", "customer", "admin"]),
        channel in prop::sample::select(vec!["web", "api", "batch"]),
        amount in proptest::option::of(0.0f64..100_000.0),
        lineage in prop::collection::vec(prop::sample::select(vec!["summarize_overdue_invoices", "fetch_ledger"]), 0..3),
    ) {
        let mut r = Request::for_intent(intent, confidence)
            .with("subject", json!({"residency": residency, "role": role}))
            .with("channel", json!(channel));
        if let Some(a) = amount {
            r = r.with("amount", json!(a));
        }
        if !lineage.is_empty() {
            r.caller = Some(intent_runtime::Caller { agent: None, lineage: lineage.iter().map(|s| s.to_string()).collect() });
        }
        let d = finance().decide_at(&r, 0);
        if role == "admin" {
            prop_assert_eq!(d.outcome, Outcome::Deny, "a role outside the enum is a fault");
        }
        if matches!(d.outcome, Outcome::Dispatch | Outcome::Plan) {
            prop_assert!(!d.steps.is_empty());
            prop_assert!(confidence >= 0.8 || intent == "fetch_ledger");
        }
    }
}

/// The trace and the reasons read the same whichever way the engine keeps them: these strings
/// are what `intent eval --explain`, decision logs and users' tooling see.
#[test]
fn trace_and_reasons_keep_their_words() {
    let e = engine(&file("tests/semantics/filling.intent"));
    let lines = |d: &Decision| -> Vec<String> {
        d.trace
            .iter()
            .map(|t| {
                format!(
                    "{} {} {} {}",
                    t.kind,
                    t.what,
                    t.matched,
                    t.detail.as_deref().unwrap_or("-")
                )
            })
            .collect()
    };
    // EU data: every parser outside eu-west-1 is forbidden, parse_d gets no permit.
    let r = Request::for_intent("parse_docs", 0.9)
        .with("residency", json!("EU"))
        .with("tier", json!("basic"));
    let d = e.decide_at(&r, 0x2a);
    assert_eq!(
        lines(&d),
        [
            "arm route parse_docs arm 1 (otherwise) true -",
            "rule forbid semantics.filling.residency#0 for parse_e in step dispatch true EU data stays in eu-west-1",
            "candidate step dispatch: parse_e false forbidden by semantics.filling.residency#0 (\"EU data stays in eu-west-1\")",
            "candidate step dispatch: parse_d false not cleared for pii",
            "rule forbid semantics.filling.residency#0 for parse_b in step dispatch true EU data stays in eu-west-1",
            "candidate step dispatch: parse_b false forbidden by semantics.filling.residency#0 (\"EU data stays in eu-west-1\")",
            "candidate step dispatch: parse_c true -",
            "rule escalate rule semantics.filling.gold_review#0 for parse_c in step dispatch false -",
        ]
    );
    let d = e.decide_at(&r.clone().with("tier", json!("gold")), 0x2a);
    assert!(
        lines(&d).contains(
            &"rule permit semantics.filling.residency#1 for parse_d in step dispatch true -"
                .to_string()
        ),
        "{:?}",
        lines(&d)
    );
    // A gold ledger read escalates; the rule is in the trace, the id in JSON is a string.
    let d = e.decide_at(
        &Request::for_intent("read_ledger", 0.9)
            .with("residency", json!("EU"))
            .with("tier", json!("gold")),
        0x2a,
    );
    let v = serde_json::to_value(&d).unwrap();
    assert!(
        v["trace"].as_array().unwrap().iter().any(|t| t["what"]
            .as_str()
            .unwrap()
            .starts_with("escalate rule semantics.filling.gold_review#0 for ")
            && t["matched"] == true),
        "{v}"
    );
    assert!(v["decision_id"].as_str().unwrap().starts_with("2a-"), "{v}");
    // No candidate can take the step: the reason lists each with why.
    let strict = r#"
package strict
use std.data.{pii}
capability work.do
context { residency: "EU" | "US" }
agent us { provides work.do  region "us-east-1"  clearance pii }
agent nope { provides work.do  region "eu-west-1" }
intent work { requires work.do  handles pii }
route work { otherwise => dispatch us fallback nope }
policy eu {
  forbid when residency == "EU" and agent.region != "eu-west-1" because "stay in the EU"
  permit when residency == "US"
}
"#;
    let d = engine(strict).decide_at(
        &Request::for_intent("work", 0.9).with("residency", json!("EU")),
        0,
    );
    assert_eq!(
        reason(&d),
        "step `dispatch` cannot be filled: us: forbidden by strict.eu#0 (\"stay in the EU\"); nope: not cleared for pii"
    );
}
