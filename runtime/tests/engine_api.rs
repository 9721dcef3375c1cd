//! The `Engine`'s accessors and loading, as a host (the sidecar, the Layer, `intent replay`,
//! the MCP gateway) relies on them: the hash it reports, the plan it holds, its lookups by name,
//! the limits it takes per agent, person and intent, the refusal of a plan whose stated hash is
//! not its content; and the paths of `decide` and `review` no golden mesh reaches (caller
//! conditions, a claim the store refuses, requests it cannot decide, the classifier's floor,
//! reviews that combine). Runs on the golden plans (edited where a case needs it), with the
//! runtime alone. A plan that breaks what the engine assumes: `plan_validation.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_runtime::decision::VerdictOutcome;
use intent_runtime::state::{
    Block, Blocked, Breaker, Check, MemoryState, Rate, Refused, State, Subject, Take,
};
use intent_runtime::{Engine, Request, Response};
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
fn a_person_is_limited_by_name() {
    let e = Engine::from_json(&golden("fleet")).unwrap();
    let cashier = e.human_limits("cashier").unwrap();
    assert_eq!(cashier.subject, Subject::Human("cashier".into()));
    assert_eq!(
        &*cashier.rates,
        [Rate {
            count: 5,
            per_ms: 2_000
        }]
    );
    assert!(
        e.human_limits("payer").is_none(),
        "an agent is not a person"
    );
    assert!(e.human_limits("nobody").is_none());
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

/// The lookups by name a host makes (the trust broker, the MCP gateway, `intent explore`):
/// each answers for what the plan declares and nothing else.
#[test]
fn names_resolve_to_what_the_plan_declares() {
    let e = Engine::from_json(&golden("finance")).unwrap();
    assert_eq!(e.intent_id("fetch_ledger"), Some(0));
    assert_eq!(e.intent_id("summarize_overdue_invoices"), Some(1));
    assert_eq!(e.intent_id("summarize"), None);

    assert!(e.has_agent("risk_assessor"));
    assert!(!e.has_agent("finance_lead"), "a person is not an agent");
    assert!(e.has_human("finance_lead"));
    assert!(!e.has_human("risk_assessor"), "an agent is not a person");

    assert_eq!(e.data_id("confidential"), Some(0));
    assert_eq!(e.data_id("pci"), Some(4));
    assert_eq!(e.data_id("secret"), None);
    assert_eq!(e.data_name(4).map(|n| &**n), Some("pci"));
    assert_eq!(e.data_name(0).map(|n| &**n), Some("confidential"));
    assert_eq!(e.data_name(99), None);

    let (financial, pci, pii) = (3, 4, 7);
    assert!(e.covers(financial, pci), "financial is above pci");
    assert!(e.covers(pci, pci), "a class covers itself");
    assert!(
        !e.covers(pci, financial),
        "pci is below financial, not above it"
    );
    assert!(!e.covers(financial, pii));
    assert!(!e.covers(99, pci), "an unknown class covers nothing");

    let shown = format!("{e:?}");
    assert!(
        shown.contains(e.plan_hash())
            && shown.contains("agents: 5")
            && shown.contains("intents: 2"),
        "{shown}"
    );
}

/// `rate intent NAME N per T` (all callers together) and `... per caller` (each calling agent
/// on its own, anonymous callers together): the request after the last one allowed is
/// throttled with the wait, and a limit is claimed only by the intent it names.
#[test]
fn an_intents_own_rate_limits_throttle_it() {
    let mut plan: Value = serde_json::from_str(&golden("fleet")).unwrap();
    let rates = plan["limits"]["rates"].as_array_mut().unwrap();
    rates
        .push(json!({"target": {"kind": "intent", "id": 0}, "count": 2, "per_ms": 1000, "src": 4}));
    rates.push(json!({"target": {"kind": "intent", "id": 1}, "count": 1, "per_ms": 1000, "per_caller": true, "src": 4}));
    plan["plan_hash"] = json!("");
    let e = Engine::from_json(&plan.to_string()).unwrap();

    let quote = || Request::for_intent("get_quote", 0.95).with("channel", json!("web"));
    let outcomes: Vec<&str> = (0..3)
        .map(|i| e.decide_at(&quote(), 10 + i).outcome.as_str())
        .collect();
    assert_eq!(outcomes, ["dispatch", "dispatch", "throttle"]);
    let third = e.decide_at(&quote(), 20);
    assert_eq!(
        third.reason.as_deref(),
        Some("the rate limit of intent get_quote is reached")
    );
    assert!(
        third.retry_after_ms.is_some_and(|w| w > 0 && w <= 1000),
        "{third:?}"
    );
    assert_eq!(
        e.decide_at(&quote(), 2_000).outcome.as_str(),
        "dispatch",
        "the window passed"
    );

    let pay = |caller: Option<&str>| {
        let mut r = Request::for_intent("send_payment", 0.95).with("channel", json!("api"));
        r.caller = caller.map(|c| intent_runtime::request::Caller {
            agent: Some(c.to_string()),
            lineage: Vec::new(),
        });
        r
    };
    assert_eq!(
        e.decide_at(&pay(Some("quoter")), 10).outcome.as_str(),
        "dispatch"
    );
    let again = e.decide_at(&pay(Some("quoter")), 11);
    assert_eq!(again.outcome.as_str(), "throttle");
    assert_eq!(
        again.reason.as_deref(),
        Some("the rate limit of intent send_payment for `quoter` is reached")
    );
    assert_eq!(
        e.decide_at(&pay(Some("payer")), 12).outcome.as_str(),
        "dispatch",
        "each caller is counted on its own"
    );
    assert_eq!(e.decide_at(&pay(None), 13).outcome.as_str(), "dispatch");
    let anonymous = e.decide_at(&pay(None), 14);
    assert_eq!(
        anonymous.reason.as_deref(),
        Some("the rate limit of intent send_payment is reached"),
        "anonymous callers are counted together"
    );
}

/// A condition on the verified caller (`caller.name`, `caller.trust`) reads the plan's agent
/// that the request's caller names; an anonymous caller, or one the plan does not declare,
/// has none (every `caller` operand is absent, so comparisons with it are false).
#[test]
fn caller_conditions_read_the_callers_declared_agent() {
    let mut plan: Value = serde_json::from_str(&golden("fleet")).unwrap();
    let arms = plan["intents"][0]["route"]["arms"].as_array_mut().unwrap();
    arms.insert(
        0,
        json!({
            "when": {"op": "cmp", "cmp": "eq", "lhs": {"op": "caller_name"}, "rhs": {"op": "lit", "value": "payer"}},
            "action": {"kind": "deny", "because": "payers do not ask for quotes"},
            "src": 9
        }),
    );
    plan["plan_hash"] = json!("");
    let e = Engine::from_json(&plan.to_string()).unwrap();
    let quote = |caller: Option<&str>| {
        let mut r = Request::for_intent("get_quote", 0.95).with("channel", json!("web"));
        r.caller = caller.map(|c| intent_runtime::request::Caller {
            agent: Some(c.to_string()),
            lineage: Vec::new(),
        });
        r
    };
    let payer = e.decide_at(&quote(Some("payer")), 1);
    assert_eq!(payer.outcome.as_str(), "deny", "{payer:?}");
    assert_eq!(
        payer.reason.as_deref(),
        Some("payers do not ask for quotes")
    );
    for other in [Some("quoter"), Some("stranger"), None] {
        let d = e.decide_at(&quote(other), 1);
        assert_eq!(d.outcome.as_str(), "dispatch", "{other:?}: {d:?}");
    }
}

/// `decide` (without an injected time) decides at the system clock's time: the decision's id
/// carries it, and an escalation's deadline is that time plus the person's SLA.
#[test]
fn decide_uses_the_system_clock() {
    let e = Engine::from_json(&golden("fleet")).unwrap();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    };
    let before = now();
    let d = e.decide(&Request::for_intent("get_quote", 0.5).with("channel", json!("web")));
    let after = now();
    assert_eq!(d.outcome.as_str(), "escalate", "{d:?}");
    let at = d.decision_id.at_ms;
    assert!(before <= at && at <= after, "{before} <= {at} <= {after}");
    assert_eq!(d.deadline_ms, Some(at + 3_600_000), "cashier's SLA is 1h");
}

/// A store that another replica raced: it says every agent is free, but refuses the first
/// claim that uses `lost` (someone else took its last room meanwhile).
struct Raced {
    inner: MemoryState,
    lost: std::sync::Mutex<Option<Subject>>,
}

impl Check for Raced {
    fn check(&self, take: &Take, now_ms: u64) -> Option<Blocked> {
        self.inner.check(take, now_ms)
    }
}

impl State for Raced {
    fn take(&self, takes: &[Take], now_ms: u64) -> Result<(), Refused> {
        let lost = self.lost.lock().unwrap().take();
        if let Some(subject) = lost.filter(|s| takes.iter().any(|t| t.subject == *s)) {
            return Err(Refused::Blocked(vec![Block {
                subject,
                why: Blocked::Breaker { wait_ms: 700 },
            }]));
        }
        self.inner.take(takes, now_ms)
    }

    fn record_failure(&self, agent: &Subject, breaker: Option<Breaker>, now_ms: u64) {
        self.inner.record_failure(agent, breaker, now_ms);
    }
}

/// When the store refuses a claim, the decision is worked out again knowing what was refused:
/// the refused agent is passed over for its fallback, and only it.
#[test]
fn a_refused_claim_is_decided_again_without_the_refused_agent() {
    let e = Engine::from_json(&golden("fleet")).unwrap();
    let raced = Raced {
        inner: MemoryState::default(),
        lost: std::sync::Mutex::new(Some(Subject::Agent("payer".into()))),
    };
    let pay = Request::for_intent("send_payment", 0.95).with("channel", json!("api"));
    let d = e.decide_with(&pay, 1, &raced, None);
    assert_eq!(d.outcome.as_str(), "dispatch", "{d:?}");
    assert_eq!(d.steps[0].agent.as_ref(), "spare_payer", "{d:?}");
    let again = e.decide_with(&pay, 2, &raced, None);
    assert_eq!(
        again.steps[0].agent.as_ref(),
        "payer",
        "the race is over: {again:?}"
    );
}

/// What `decide` cannot decide is denied with the reason: a confidence outside 0..1 (its ends
/// are inside), a named intent without a confidence, a request with neither intent nor text,
/// a text over `limits::MAX_TEXT`, an unknown intent (with the closest names).
#[test]
fn requests_that_cannot_be_decided_are_denied_with_why() {
    let e = Engine::from_json(&golden("fleet")).unwrap();
    let reason = |r: &Request| {
        let d = e.decide_at(r, 1);
        (d.outcome.as_str(), d.reason.unwrap_or_default())
    };
    let quote = |c: f64| Request::for_intent("get_quote", c).with("channel", json!("web"));
    for bad in [1.5, -0.1] {
        assert_eq!(
            reason(&quote(bad)),
            ("deny", format!("confidence {bad} is outside 0..1"))
        );
    }
    assert_eq!(reason(&quote(1.0)).0, "dispatch");
    assert_eq!(reason(&quote(0.0)).0, "escalate");

    let mut unsure = quote(0.9);
    unsure.confidence = None;
    assert_eq!(
        reason(&unsure),
        (
            "deny",
            "a request that names its intent must give its confidence".to_string()
        )
    );
    unsure.intent = None;
    assert_eq!(
        reason(&unsure),
        (
            "deny",
            "a request needs an `intent` (with `confidence`) or a `text`".to_string()
        )
    );

    assert_eq!(
        reason(&Request::for_intent("get_quot", 0.9)),
        (
            "deny",
            "unknown intent `get_quot`; closest known intents: `get_quote`".to_string()
        )
    );

    let max = intent_runtime::limits::MAX_TEXT;
    let text = |n: usize| {
        let mut r = quote(0.9);
        r.intent = None;
        r.confidence = None;
        r.text = Some(format!("how much would it cost{}", " ".repeat(n - 22)));
        r
    };
    assert_eq!(
        reason(&text(max + 1)),
        (
            "deny",
            format!(
                "the text is {} bytes long; the classifier reads at most {max}",
                max + 1
            )
        )
    );
    assert_eq!(reason(&text(max)).0, "dispatch", "{max} bytes are read");
}

/// `limits { confidence floor F }`: a text whose best intent is below the floor is denied,
/// naming the best intent and its confidence; a text that matches no intent at all says so.
#[test]
fn a_text_below_the_confidence_floor_is_denied() {
    let mut plan: Value = serde_json::from_str(&golden("fleet")).unwrap();
    plan["classifier"]["floor"] = json!(0.3);
    plan["plan_hash"] = json!("");
    let e = Engine::from_json(&plan.to_string()).unwrap();
    let text = |t: &str| {
        let mut r = Request::for_intent("get_quote", 0.9).with("channel", json!("web"));
        r.intent = None;
        r.confidence = None;
        r.text = Some(t.to_string());
        e.decide_at(&r, 1)
    };
    let sure = text("how much would this cost");
    assert_eq!(sure.outcome.as_str(), "dispatch", "{sure:?}");
    assert!(sure.confidence.unwrap() >= 0.3, "{sure:?}");

    let weak = text("would a zebra fit");
    let best = weak.trace[0].detail.clone().unwrap_or_default();
    assert_eq!(weak.outcome.as_str(), "deny", "{weak:?}");
    let reason = weak.reason.unwrap_or_default();
    assert!(
        reason.starts_with("the text matches no intent: the best, get_quote, has confidence 0.")
            && reason.ends_with(", below the floor 0.3"),
        "{reason} ({best})"
    );

    let none = text("zebra xylophone");
    assert_eq!(none.outcome.as_str(), "deny");
    assert_eq!(none.reason.as_deref(), Some("the text matches no intent"));
}

/// `permitted` (and `permitted_as`, for a caller) answer Cedar's question for one agent and
/// the data it would handle: the GDPR forbid of the finance example keeps EU personal data on
/// EU agents; an agent or caller id the plan does not have is an error, never an answer.
#[test]
fn permitted_answers_for_one_agent_and_its_data() {
    let e = Engine::from_json(&golden("finance")).unwrap();
    let id = |name: &str| e.plan().agents.iter().position(|a| a.name == name).unwrap() as u32;
    let (us, eu) = (id("doc_parser"), id("doc_parser_eu"));
    let pii = e.data_id("pii").unwrap();
    let parse = e.intent_id("fetch_ledger").unwrap();
    let context = |residency: &str| {
        json!({"subject": {"residency": residency, "role": "analyst"}, "channel": "web"})
            .as_object()
            .unwrap()
            .clone()
    };
    let eu_subject = context("EU");
    assert_eq!(
        e.permitted(us, parse, 0.9, 0, &[pii], &eu_subject),
        Ok(false)
    );
    assert_eq!(
        e.permitted(eu, parse, 0.9, 0, &[pii], &eu_subject),
        Ok(true)
    );
    assert_eq!(
        e.permitted(us, parse, 0.9, 0, &[pii], &context("US")),
        Ok(true)
    );
    assert_eq!(
        e.permitted_as(Some(eu), us, parse, 0.9, 0, &[pii], &eu_subject),
        Ok(false)
    );
    assert_eq!(
        e.permitted_as(Some(us), eu, parse, 0.9, 0, &[pii], &eu_subject),
        Ok(true)
    );
    assert_eq!(
        e.permitted(99, parse, 0.9, 0, &[pii], &eu_subject),
        Err("unknown agent id 99".to_string())
    );
    assert_eq!(
        e.permitted_as(Some(99), eu, parse, 0.9, 0, &[pii], &eu_subject),
        Err("unknown caller id 99".to_string())
    );
}

/// A context field that is a set of enum values is checked member by member: every member
/// must be one of the values, and the message names the first that is not.
#[test]
fn a_set_of_enum_values_is_checked_member_by_member() {
    let mut plan: Value = serde_json::from_str(&golden("fleet")).unwrap();
    plan["context"]["fields"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "tags", "optional": true, "of": {"type": "set", "of": {"type": "enum", "values": ["rush", "vip"]}}}));
    plan["plan_hash"] = json!("");
    let e = Engine::from_json(&plan.to_string()).unwrap();
    let quote = |tags: Value| {
        Request::for_intent("get_quote", 0.95)
            .with("channel", json!("web"))
            .with("tags", tags)
    };
    let ok = e.decide_at(&quote(json!(["vip", "rush"])), 1);
    assert_eq!(ok.outcome.as_str(), "dispatch", "{ok:?}");
    let bad = e.decide_at(&quote(json!(["vip", "cheap"])), 1);
    assert_eq!(bad.outcome.as_str(), "deny");
    assert!(
        bad.reason
            .as_deref()
            .is_some_and(|r| r.contains("`tags` is \"cheap\", not one of rush, vip")),
        "{bad:?}"
    );
}

/// Every review that applies to a response (the agent's, then those for `any` agent) gives its
/// first matching arm; the strongest outcome wins, and between equals the first review's
/// person and reason stay. A review may deny.
#[test]
fn reviews_combine_by_the_strongest_outcome_and_the_first_among_equals() {
    let mut plan: Value = serde_json::from_str(&golden("finance")).unwrap();
    plan["humans"].as_array_mut().unwrap().push(
        json!({"name": "second_lead", "channel": "slack:#second", "sla_ms": 60000, "src": 0}),
    );
    let low = json!({"op": "cmp", "cmp": "lt", "lhs": {"op": "response_confidence"}, "rhs": {"op": "lit", "value": 0.7}});
    let secret = json!({"op": "cmp", "cmp": "eq", "lhs": {"op": "field", "path": ["channel"]}, "rhs": {"op": "lit", "value": "batch"}});
    plan["reviews"].as_array_mut().unwrap().push(json!({
        "agent": null,
        "arms": [
            {"when": secret, "action": {"kind": "deny", "because": "no batch answers"}, "src": 24},
            {"when": low, "action": {"kind": "escalate", "humans": [1], "because": "second opinion"}, "src": 24},
            {"when": null, "action": {"kind": "pass"}, "src": 24}
        ],
        "src": 24
    }));
    plan["plan_hash"] = json!("");
    let e = Engine::from_json(&plan.to_string()).unwrap();
    let response = |confidence: f64, channel: &str| Response {
        agent: "finance_agent".into(),
        confidence: Some(confidence),
        data: Vec::new(),
        context: json!({"subject": {"residency": "US", "role": "analyst"}, "channel": channel})
            .as_object()
            .unwrap()
            .clone(),
    };
    let both = e.review_at(&response(0.5, "web"), 1);
    assert_eq!(both.outcome, VerdictOutcome::Escalate, "{both:?}");
    assert_eq!(both.human.as_deref(), Some("finance_lead"), "{both:?}");
    assert_eq!(
        both.reason.as_deref(),
        Some("low-confidence financial output")
    );

    let denied = e.review_at(&response(0.5, "batch"), 1);
    assert_eq!(denied.outcome, VerdictOutcome::Deny, "{denied:?}");
    assert_eq!(denied.reason.as_deref(), Some("no batch answers"));

    let fine = e.review_at(&response(0.9, "web"), 1);
    assert_eq!(fine.outcome, VerdictOutcome::Pass, "{fine:?}");
}

/// A classifier plugged in (`with_classifier`) that is sure of nothing: a best intent with
/// confidence 0 is no match, and the reason does not claim a best below a floor.
#[test]
fn a_plugged_in_classifier_with_no_confidence_matches_no_intent() {
    use intent_runtime::classifier::{Classification, Classifier, ClassifyError, Scored};
    struct Unsure;
    impl Classifier for Unsure {
        fn name(&self) -> &str {
            "unsure"
        }
        fn classify(&self, _: &str) -> Result<Classification, ClassifyError> {
            Ok(Classification {
                ranked: vec![Scored {
                    intent: 0,
                    score: 0.0,
                }],
                none: 1.0,
            })
        }
    }
    let e = Engine::from_json(&golden("fleet"))
        .unwrap()
        .with_classifier(Box::new(Unsure));
    let mut r = Request::for_intent("get_quote", 0.9).with("channel", json!("web"));
    r.intent = None;
    r.confidence = None;
    r.text = Some("how much would it cost".into());
    let d = e.decide_at(&r, 1);
    assert_eq!(d.outcome.as_str(), "deny", "{d:?}");
    assert_eq!(d.reason.as_deref(), Some("the text matches no intent"));
    assert_eq!(d.classifier.as_deref(), Some("unsure"));
}

/// Steps of different routes with the same name, or handling the same data classes, share
/// one string and one list: a decision clones what recent decisions left in the cache, not a
/// copy per step (docs/performance.md, "Trace entries by source id, and shared step words").
#[test]
fn steps_share_their_names_and_data_classes_across_routes() {
    let mut shared = 0;
    for name in [
        "filling",
        "finance",
        "fleet",
        "guards",
        "healthcare",
        "logistics",
        "serve",
    ] {
        let e = Engine::from_json(&golden(name)).unwrap();
        let mut seen: Vec<intent_runtime::FilledStep> = Vec::new();
        for intent in &e.plan().intents {
            let req = Request::for_intent(&intent.name, 0.99)
                .with("channel", json!("web"))
                .with("residency", json!("EU"));
            let d = e.decide_at(&req, 1);
            for s in &d.steps {
                for t in &seen {
                    if t.step == s.step {
                        assert!(
                            std::sync::Arc::ptr_eq(&t.step, &s.step),
                            "{name}: {}",
                            s.step
                        );
                        shared += 1;
                    }
                    if t.handles == s.handles {
                        assert!(std::sync::Arc::ptr_eq(&t.handles, &s.handles), "{name}");
                    }
                }
                seen.push(s.clone());
            }
        }
    }
    assert!(
        shared > 0,
        "no two routes' steps share a name: the test shows nothing"
    );
}
