//! The decision-space analysis on small meshes: what it must report (uncovered routes with a
//! counterexample, dead arms and rules, over-alignment) and what it must not (no false
//! "covered", no false "dead"), and a property test against brute-force runtime evaluation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use intent_compiler::analysis::{self, Finding};
use intent_compiler::{compile, Compilation, Stage};
use intent_runtime::decision::TraceWhat;
use intent_runtime::{Engine, Request};
use proptest::prelude::*;
use serde_json::json;

const HEAD: &str = r#"package demo
capability invoices.read
context {
  channel: "web" | "api" | "batch"
  amount?: number
  urgent?: bool
  tags: set<string>
}
agent reader { provides invoices.read  trust 0.9 }
human lead { channel "slack:#lead" }
intent read { requires invoices.read }
"#;

fn mesh(route: &str) -> Compilation {
    common::check("t.intent", &format!("{HEAD}{route}"))
}

fn messages(c: &Compilation, code: &str) -> Vec<String> {
    c.diagnostics
        .iter()
        .filter(|d| d.code.as_str() == code)
        .map(|d| format!("{} | {}", d.message, d.help.clone().unwrap_or_default()))
        .collect()
}

#[test]
fn thresholds_that_meet_cover_every_request() {
    let c = mesh(
        "route read {\n when confidence < 0.5 => clarify \"what?\"\n when confidence >= 0.5 => dispatch reader\n}",
    );
    assert!(!c.has_errors(), "{}", common::rendered(&c));
    assert!(c.plan.is_some());
}

#[test]
fn enum_values_split_over_arms_cover_every_request() {
    let c = mesh(
        "route read {\n when channel == \"web\" => dispatch reader\n when channel in {\"api\", \"batch\"} and confidence > 0.3 => dispatch reader\n when confidence <= 0.3 => clarify \"what?\"\n}",
    );
    assert!(!c.has_errors(), "{}", common::rendered(&c));
    assert!(messages(&c, "W0100").is_empty(), "{}", common::rendered(&c));
}

#[test]
fn an_optional_boolean_is_covered_only_with_its_absence() {
    let c =
        mesh("route read {\n when urgent => escalate lead\n when not urgent => dispatch reader\n}");
    assert!(common::codes(&c).is_empty(), "{}", common::rendered(&c));
    // `urgent == false` is false when `urgent` is absent: a request without it falls through.
    let c = mesh("route read {\n when urgent == true => escalate lead\n when urgent == false => dispatch reader\n}");
    let m = messages(&c, "E0300");
    assert_eq!(m.len(), 1, "{}", common::rendered(&c));
    assert!(m[0].contains("urgent absent"), "{m:?}");
}

#[test]
fn the_gap_between_thresholds_is_the_counterexample() {
    let c = mesh(
        "route read {\n when confidence < 0.5 => clarify \"what?\"\n when confidence >= 0.8 => dispatch reader\n}",
    );
    let m = messages(&c, "E0300");
    assert_eq!(m.len(), 1);
    assert!(
        m[0].contains(
            "route `read` does not cover every request: no arm matches confidence = 0.65"
        ),
        "{m:?}"
    );
    assert!(
        m[0].contains("`when confidence >= 0.5 and confidence < 0.8 => ...`"),
        "{m:?}"
    );
    assert!(c.plan.is_none(), "an error drops the plan");
}

/// A route with an arm per requester and no `otherwise`: the runtime's index rules out the
/// whole route for an unknown requester, traced as one entry for its ten arms, and the
/// analysis still confirms the counterexample on it.
#[test]
fn a_route_the_index_rules_out_whole_is_still_a_confirmed_gap() {
    let arms: String = (1..=10)
        .map(|k| format!(" when requester == \"r{k}\" => dispatch reader\n"))
        .collect();
    let text = HEAD.replace(
        "  tags: set<string>\n",
        "  tags: set<string>\n  requester: string\n",
    );
    let c = common::check("t.intent", &format!("{text}route read {{\n{arms}}}"));
    let m = messages(&c, "E0300");
    assert_eq!(m.len(), 1, "{}", common::rendered(&c));
    assert!(
        m[0].contains("route `read` does not cover every request"),
        "{m:?}"
    );
}

#[test]
fn an_absent_optional_number_is_not_covered_by_comparisons() {
    let c = mesh("route read {\n when amount > 100 => escalate lead\n when amount <= 100 => dispatch reader\n}");
    let m = messages(&c, "E0300");
    assert!(m[0].contains("amount absent"), "{m:?}");
    assert!(m[0].contains("not has amount"), "{m:?}");
}

#[test]
fn conditions_it_cannot_see_into_are_never_called_covered() {
    // `"a" not in tags` compares with a set-valued field: the analysis does not look into it.
    // Its own witness (tags empty) takes the arm on the runtime, so no counterexample is
    // confirmed; and it does not claim coverage either.
    let c = mesh("route read {\n when \"a\" not in tags => dispatch reader\n}");
    assert!(messages(&c, "E0300").is_empty(), "{}", common::rendered(&c));
    let m = messages(&c, "E0316");
    assert_eq!(m.len(), 1, "{}", common::rendered(&c));
    assert!(m[0].contains("could not be proved"), "{m:?}");
    assert!(!m[0].contains("no arm matches"), "{m:?}");
}

#[test]
fn opaque_conditions_still_show_a_confirmed_counterexample() {
    // Here the runtime agrees with the witness (tags empty: `"a" in tags` is false).
    let c = mesh("route read {\n when \"a\" in tags => dispatch reader\n}");
    let m = messages(&c, "E0300");
    assert!(m[0].contains("no arm matches"), "{m:?}");
}

#[test]
fn every_reported_counterexample_falls_through_on_the_runtime() {
    // The counterexample comes with the request the runtime decided; decide it again on the
    // plan with a sentinel `otherwise`, and it must reach exactly that sentinel.
    let routes = [
        "when confidence < 0.5 => clarify \"what?\"\n when confidence >= 0.8 => dispatch reader",
        "when channel == \"web\" and confidence > 0.2 => dispatch reader\n when channel == \"api\" => escalate lead",
        "when amount > 100 => escalate lead\n when has amount and amount <= 100 => dispatch reader",
        "when urgent => escalate lead\n when confidence > 0.9 and not urgent => dispatch reader",
    ];
    for r in routes {
        let sentinel = mesh(&format!(
            "route read {{\n {r}\n otherwise => deny because \"sentinel\"\n}}"
        ));
        let engine = Engine::from_plan(sentinel.plan.clone().expect("plan")).unwrap();
        let plan = sentinel.plan.unwrap();
        let open = {
            let mut p = plan.clone();
            p.intents[0].route.arms.pop();
            p
        };
        let findings = analysis::analyze(&open);
        let uncovered: Vec<&Request> = findings
            .iter()
            .filter_map(|f| match f {
                Finding::RouteUncovered { request, .. } => Some(request),
                _ => None,
            })
            .collect();
        assert_eq!(uncovered.len(), 1, "{r}: {findings:?}");
        let d = engine.decide_at(uncovered[0], 0);
        assert_eq!(d.reason.as_deref(), Some("sentinel"), "{r}: {d:?}");
    }
}

#[test]
fn a_covered_arm_is_dead_and_names_its_cover() {
    let c = mesh(
        "route read {\n when confidence < 0.5 => clarify \"what?\"\n when confidence < 0.8 => escalate lead\n when confidence < 0.3 and channel == \"web\" => deny\n otherwise => dispatch reader\n}",
    );
    let m = messages(&c, "W0100");
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(
        m[0].starts_with("arm 3 of route `read` is never taken: arm 1 always matches first"),
        "{m:?}"
    );
}

#[test]
fn narrower_earlier_arms_do_not_make_a_later_arm_dead() {
    let c = mesh(
        "route read {\n when confidence < 0.5 and channel == \"web\" => clarify \"what?\"\n when confidence < 0.5 => escalate lead\n when \"a\" in tags => deny\n when \"b\" in tags => deny\n otherwise => dispatch reader\n}",
    );
    assert!(messages(&c, "W0100").is_empty(), "{}", common::rendered(&c));
}

#[test]
fn the_same_opaque_condition_twice_is_dead() {
    let c = mesh(
        "route read {\n when \"a\" in tags => deny\n when \"a\" in tags => escalate lead\n otherwise => dispatch reader\n}",
    );
    assert_eq!(messages(&c, "W0100").len(), 1, "{}", common::rendered(&c));
}

#[test]
fn an_otherwise_after_covering_arms_is_dead() {
    let c = mesh(
        "route read {\n when confidence < 0.5 => clarify \"what?\"\n when confidence >= 0.5 => dispatch reader\n otherwise => deny\n}",
    );
    let m = messages(&c, "W0100");
    assert_eq!(m.len(), 1);
    assert!(
        m[0].starts_with("`otherwise` of route `read` is never taken"),
        "{m:?}"
    );
}

#[test]
fn a_review_arm_covered_for_every_agent_is_dead_and_only_then() {
    let policy = r#"
route read { otherwise => dispatch reader }
agent other { provides invoices.read  trust 0.4 }
review any {
  when response.confidence < 0.5 => deny
  when agent.trust > 0.5 and response.confidence < 0.3 => escalate lead
  when agent.trust > 0.95 and response.confidence < 0.9 => escalate lead
  otherwise => pass
}
"#;
    let c = mesh(policy);
    let m = messages(&c, "W0100");
    // Arm 2 is covered by arm 1 at every agent; arm 3 never holds (no agent has trust > 0.95).
    assert_eq!(m.len(), 2, "{}", common::rendered(&c));
    assert!(
        m[0].contains("arm 2 of review `any` is never taken"),
        "{m:?}"
    );
    assert!(
        m[1].contains("arm 3 of review `any` can never match"),
        "{m:?}"
    );
}

const POLICY_HEAD: &str = r#"package demo
capability documents.parse
data pii
context { subject: { residency: string } }
human lead { channel "slack:#lead" }
intent parse { requires documents.parse  handles pii }
"#;

fn policy_mesh(rest: &str) -> Compilation {
    common::check("p.intent", &format!("{POLICY_HEAD}{rest}"))
}

#[test]
fn a_permit_that_fills_a_clearance_gap_is_not_reported() {
    let c = policy_mesh(
        r#"agent parser { provides documents.parse  trust 0.99 }
route parse { otherwise => dispatch any documents.parse }
policy trusted { permit when agent.trust > 0.95 and data touches pii }
"#,
    );
    for code in ["W0101", "W0102", "W0104", "W0105"] {
        assert!(
            messages(&c, code).is_empty(),
            "{code}: {}",
            common::rendered(&c)
        );
    }
}

/// Regression: the analysis counted the backups of an `any` step's providers as candidates;
/// the runtime tries only the backups of agents named. Here the only agent that could take
/// the step is such a backup, so every request is denied, and W0104 must say so.
#[test]
fn the_backups_of_an_any_steps_providers_are_not_candidates() {
    let c = common::check(
        "b.intent",
        r#"package demo
capability documents.parse
capability documents.read
data pii
agent parser { provides documents.parse, documents.read  backup reader }
agent reader { provides documents.read  clearance pii }
intent parse { requires documents.read  handles pii }
route parse {
  otherwise => plan {
    read: any documents.parse  needs documents.read
  }
}
"#,
    );
    assert_eq!(messages(&c, "W0104").len(), 1, "{}", common::rendered(&c));
    let engine = Engine::from_plan(c.plan.clone().unwrap()).unwrap();
    let d = engine.decide(&Request::for_intent("parse", 0.9));
    assert_eq!(d.outcome, intent_runtime::Outcome::Deny, "{d:?}");
}

#[test]
fn a_permit_covered_by_an_earlier_permit_names_it() {
    let c = policy_mesh(
        r#"agent parser { provides documents.parse  trust 0.99 }
route parse { otherwise => dispatch any documents.parse }
policy trusted {
  permit when agent.trust > 0.9 and data touches pii
  permit when agent.trust > 0.95
}
"#,
    );
    let m = messages(&c, "W0101");
    assert_eq!(m.len(), 1, "{}", common::rendered(&c));
    assert!(m[0].contains("permit `demo.trusted#1` never grants anything: `demo.trusted#0` already grants everything it does"), "{m:?}");
}

#[test]
fn a_permit_a_forbid_overrides_only_sometimes_is_not_reported() {
    let c = policy_mesh(
        r#"agent parser { provides documents.parse  trust 0.99  region "us-east-1" }
route parse { otherwise => dispatch any documents.parse }
policy residency {
  forbid when data touches pii and subject.residency == "EU" and agent.region != "eu-west-1" because "EU data stays in the EU"
  permit when agent.trust > 0.95 and data touches pii
}
"#,
    );
    assert!(messages(&c, "W0102").is_empty(), "{}", common::rendered(&c));
    assert!(messages(&c, "W0104").is_empty(), "{}", common::rendered(&c));
}

#[test]
fn escalation_rules_covered_by_earlier_ones_never_fire() {
    let c = policy_mesh(
        r#"agent parser { provides documents.parse  clearance pii }
route parse { otherwise => dispatch any documents.parse }
policy care {
  escalate lead when confidence < 0.9
  escalate lead when confidence < 0.5
  escalate lead when confidence > 0.95
}
"#,
    );
    let m = messages(&c, "W0103");
    assert_eq!(m.len(), 1, "{}", common::rendered(&c));
    assert!(
        m[0].contains("`demo.care#1` never fires: `demo.care#0` always fires first"),
        "{m:?}"
    );
}

#[test]
fn over_alignment_gives_the_chain_of_reasons() {
    let c = policy_mesh(
        r#"agent parser { provides documents.parse  clearance pii }
route parse {
  when confidence < 0.5 => clarify "what?"
  otherwise => dispatch any documents.parse
}
policy care { escalate lead when confidence >= 0.5 }
"#,
    );
    let m = messages(&c, "W0104");
    assert_eq!(m.len(), 1, "{}", common::rendered(&c));
    assert!(m[0].contains("arm 1 asks to clarify; arm 2: every agent that can take step `dispatch` triggers demo.care#0"), "{m:?}");
    // One request that dispatches is enough to not be over-aligned.
    let c = policy_mesh(
        r#"agent parser { provides documents.parse  clearance pii }
route parse {
  when confidence < 0.5 => clarify "what?"
  otherwise => dispatch any documents.parse
}
policy care { escalate lead when confidence >= 0.5 and confidence < 0.99 }
"#,
    );
    assert!(messages(&c, "W0104").is_empty(), "{}", common::rendered(&c));
}

#[test]
fn the_bundled_examples_have_no_findings() {
    for name in ["finance", "healthcare", "logistics"] {
        let c = compile(&[common::example(name)], Stage::Check);
        assert!(!c.has_errors(), "{name}");
        let findings = analysis::analyze(c.plan.as_ref().unwrap());
        assert!(findings.is_empty(), "{name}: {findings:?}");
    }
}

// ---- property test: the analysis against brute force over a grid of requests ----

const THRESHOLDS: [f64; 3] = [0.2, 0.5, 0.8];
const CHANNELS: [&str; 3] = ["web", "api", "batch"];

#[derive(Debug, Clone)]
enum Atom {
    Conf(&'static str, usize),
    Channel(bool, usize),
    Amount(&'static str),
    HasAmount(bool),
    /// `caller.trust OP 0.5` (the one agent, `reader`, has trust 0.9).
    CallerTrust(&'static str),
    CallerIsReader(bool),
    HasCaller(bool),
}

fn atom_text(a: &Atom) -> String {
    match a {
        Atom::Conf(op, t) => format!("confidence {op} {}", THRESHOLDS[*t]),
        Atom::Channel(eq, c) => format!(
            "channel {} \"{}\"",
            if *eq { "==" } else { "!=" },
            CHANNELS[*c]
        ),
        Atom::Amount(op) => format!("amount {op} 100"),
        Atom::HasAmount(true) => "has amount".into(),
        Atom::HasAmount(false) => "not has amount".into(),
        Atom::CallerTrust(op) => format!("caller.trust {op} 0.5"),
        Atom::CallerIsReader(eq) => {
            format!("caller.name {} \"reader\"", if *eq { "==" } else { "!=" })
        }
        Atom::HasCaller(true) => "has caller".into(),
        Atom::HasCaller(false) => "not has caller".into(),
    }
}

fn atom() -> impl Strategy<Value = Atom> {
    let op = prop::sample::select(vec!["<", "<=", ">", ">=", "==", "!="]);
    prop_oneof![
        (op.clone(), 0..3usize).prop_map(|(o, t)| Atom::Conf(o, t)),
        (any::<bool>(), 0..3usize).prop_map(|(e, c)| Atom::Channel(e, c)),
        op.clone().prop_map(Atom::Amount),
        any::<bool>().prop_map(Atom::HasAmount),
        op.prop_map(Atom::CallerTrust),
        any::<bool>().prop_map(Atom::CallerIsReader),
        any::<bool>().prop_map(Atom::HasCaller),
    ]
}

/// An arm: a conjunction of one or two atoms, or a disjunction of two.
fn arm() -> impl Strategy<Value = String> {
    (prop::collection::vec(atom(), 1..3), any::<bool>()).prop_map(|(atoms, or)| {
        let parts: Vec<String> = atoms.iter().map(atom_text).collect();
        parts.join(if or { " or " } else { " and " })
    })
}

/// Every equivalence class of requests for these atoms.
fn grid() -> Vec<Request> {
    let mut out = Vec::new();
    for c in [0.0, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 1.0] {
        for ch in CHANNELS {
            for amount in [None, Some(50), Some(100), Some(150)] {
                // No caller, the one agent, and a caller the mesh does not declare.
                for caller in [None, Some("reader"), Some("stranger")] {
                    let mut r = Request::for_intent("read", c)
                        .with("channel", json!(ch))
                        .with("tags", json!([]));
                    if let Some(a) = amount {
                        r = r.with("amount", json!(a));
                    }
                    r.caller = caller.map(|a| intent_runtime::request::Caller {
                        agent: Some(a.to_string()),
                        lineage: Vec::new(),
                    });
                    out.push(r);
                }
            }
        }
    }
    out
}

/// The arm (1-based) each grid request takes on the runtime.
fn taken(engine: &Engine) -> Vec<usize> {
    grid()
        .iter()
        .map(|r| {
            let d = engine.decide_at(r, 0);
            d.trace
                .iter()
                .find_map(|t| match t.what {
                    TraceWhat::Arm { arm, .. } if t.matched => Some(arm),
                    _ => None,
                })
                .unwrap_or(0)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn verdicts_agree_with_brute_force(arms in prop::collection::vec(arm(), 1..5)) {
        let body: Vec<String> = arms.iter().map(|c| format!(" when {c} => dispatch reader")).collect();
        let open = mesh(&format!("route read {{\n{}\n}}", body.join("\n")));
        let closed = mesh(&format!(
            "route read {{\n{}\n otherwise => deny because \"sentinel\"\n}}",
            body.join("\n")
        ));
        let plan = closed.plan.clone().expect("the closed route checks");
        let engine = Engine::from_plan(plan).unwrap();
        let hits = taken(&engine);
        let sentinel = arms.len() + 1;
        let falls_through = hits.contains(&sentinel);
        let e0300 = messages(&open, "E0300");
        prop_assert_eq!(!e0300.is_empty(), falls_through, "coverage: {:?} {:?}", e0300, arms);
        if falls_through {
            prop_assert!(e0300[0].contains("no arm matches"), "{:?}", e0300);
        }
        // Dead arms, the sentinel `otherwise` included: exactly the arms no grid request takes.
        let dead: Vec<usize> = closed
            .diagnostics
            .iter()
            .filter(|d| d.code.as_str() == "W0100")
            .map(|d| {
                if d.message.starts_with("`otherwise`") {
                    sentinel
                } else {
                    d.message.trim_start_matches("arm ").split(' ').next().unwrap().parse().unwrap()
                }
            })
            .collect();
        for a in 1..=sentinel {
            prop_assert_eq!(dead.contains(&a), !hits.contains(&a), "arm {}: {:?} {:?}", a, arms, hits);
        }
    }
}

#[test]
fn suggested_tests_parse_and_pass_when_pasted() {
    let text = format!(
        "{HEAD}route read {{\n when confidence < 0.5 => clarify \"what?\"\n when channel == \"api\" and has amount and amount > 100 => escalate lead\n otherwise => dispatch reader\n}}\n"
    );
    let c = common::check("t.intent", &text);
    let plan = c.plan.clone().unwrap();
    let outcomes = intent_compiler::testing::run(&plan, &c.tests);
    let suggestions = analysis::suggest_tests(&plan, &outcomes);
    assert_eq!(suggestions.len(), 3, "{suggestions:?}");
    let pasted = format!(
        "{text}\n{}\n",
        suggestions
            .iter()
            .map(|s| s.test.clone())
            .collect::<Vec<_>>()
            .join("\n")
    );
    let c2 = common::check("t.intent", &pasted);
    assert!(!c2.has_errors(), "{}\n{pasted}", common::rendered(&c2));
    let outcomes = intent_compiler::testing::run(c2.plan.as_ref().unwrap(), &c2.tests);
    assert_eq!(outcomes.len(), 3);
    assert!(
        outcomes.iter().all(|o| o.passed()),
        "{outcomes:?}\n{pasted}"
    );
    // Now every arm is exercised: nothing left to suggest.
    assert!(analysis::suggest_tests(c2.plan.as_ref().unwrap(), &outcomes).is_empty());
    let shown: Vec<String> = suggestions
        .iter()
        .map(|s| format!("// {} ({})\n{}", s.what, s.at, s.test))
        .collect();
    insta::assert_snapshot!(shown.join("\n"));
}

const CALLERS: &str = r#"package demo
capability invoices.read
agent reader { provides invoices.read  trust 0.9 }
agent clerk  { provides invoices.read  trust 0.6 }
agent intake { provides invoices.read  trust 0.3 }
intent read { requires invoices.read }
"#;

fn callers(route: &str) -> Compilation {
    common::check("t.intent", &format!("{CALLERS}{route}"))
}

#[test]
fn arms_on_the_caller_that_cover_every_agent_and_no_caller_cover_every_request() {
    let c = callers(
        "route read {\n when not has caller => deny\n when caller.name == \"reader\" => dispatch reader\n when caller.trust < 0.7 => dispatch clerk\n}",
    );
    assert!(!c.has_errors(), "{}", common::rendered(&c));
    assert!(messages(&c, "W0100").is_empty(), "{}", common::rendered(&c));
}

#[test]
fn an_uncovered_caller_is_named_in_the_counterexample() {
    let c = callers(
        "route read {\n when not has caller => deny\n when caller.name in {\"reader\", \"intake\"} => dispatch reader\n}",
    );
    let m = messages(&c, "E0300");
    assert_eq!(m.len(), 1, "{}", common::rendered(&c));
    assert!(m[0].contains("caller.name = \"clerk\""), "{m:?}");
    assert!(m[0].contains("when caller.name == \"clerk\""), "{m:?}");
    // The counterexample is a request the runtime itself lets fall through: on the same route
    // with a sentinel `otherwise`, it reaches the sentinel.
    let sentinel = callers(
        "route read {\n when not has caller => deny\n when caller.name in {\"reader\", \"intake\"} => dispatch reader\n otherwise => deny because \"sentinel\"\n}",
    );
    let plan = sentinel.plan.expect("plan");
    let open = {
        let mut p = plan.clone();
        p.intents[0].route.arms.pop();
        p
    };
    let request = analysis::analyze(&open)
        .into_iter()
        .find_map(|f| match f {
            Finding::RouteUncovered { request, .. } => Some(request),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        request.caller.as_ref().and_then(|c| c.agent.as_deref()),
        Some("clerk")
    );
    let d = Engine::from_plan(plan).unwrap().decide_at(&request, 0);
    assert_eq!(d.reason.as_deref(), Some("sentinel"), "{d:?}");
}

#[test]
fn a_route_that_forgets_anonymous_callers_is_uncovered() {
    let c = callers("route read {\n when has caller => dispatch reader\n}");
    let m = messages(&c, "E0300");
    assert_eq!(m.len(), 1, "{}", common::rendered(&c));
    assert!(m[0].contains("an anonymous caller"), "{m:?}");
    assert!(m[0].contains("not has caller"), "{m:?}");
}

#[test]
fn an_arm_behind_an_equivalent_caller_condition_is_dead() {
    let c = callers(
        "route read {\n when caller.trust >= 0.8 => dispatch reader\n when caller.name == \"reader\" => dispatch clerk\n otherwise => deny\n}",
    );
    let m = messages(&c, "W0100");
    assert_eq!(m.len(), 1, "{}", common::rendered(&c));
}
