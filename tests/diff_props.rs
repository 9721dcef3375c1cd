//! Property test of `explore::diff`: for random pairs of small meshes (thresholds, numbers,
//! enums, optional strings, sets, the caller, a forbid, an escalate rule), every reported change is real (its example request is
//! decided as reported on both plans), and on a brute-force grid of requests every request whose
//! decision differs lies in a reported region with that very change, and no other request does.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_compiler::{compile, Source, Stage};
use intent_runtime::explore::{diff, summary, DiffOptions};
use intent_runtime::plan::Plan;
use intent_runtime::{Engine, Request};
use proptest::prelude::*;
use serde_json::json;

const ATOMS: &[&str] = &[
    "confidence < 0.3",
    "confidence >= 0.5",
    "confidence < 0.7",
    "a < 0",
    "a >= 5",
    "a == 10",
    "a > 5",
    "c == \"x\"",
    "c != \"y\"",
    "c in {\"x\", \"z\"}",
    "has s",
    "s == \"p\"",
    "s != \"q\"",
    "\"k\" in tags",
    "\"m\" not in tags",
    // The caller: `one` (trust 0.9), `two` (trust 0.7), or none.
    "has caller",
    "caller.trust > 0.8",
    "caller.name == \"two\"",
    "caller provides work.do",
    "a > caller.trust",
];

/// What a rule may first ask of the step's data (the intent handles `pii`, never `secret`).
const TOUCHES: &[&str] = &["", "data touches pii and ", "data touches secret and "];

const ACTIONS: &[&str] = &[
    "clarify \"which one?\"",
    "deny because \"no\"",
    "dispatch one",
    "dispatch two",
    "dispatch any work.do",
    "escalate boss",
];

/// A condition: one or two atoms, joined with `and` or `or`, maybe negated.
fn condition() -> impl Strategy<Value = String> {
    (
        0..ATOMS.len(),
        prop::option::of((0..ATOMS.len(), any::<bool>())),
        any::<bool>(),
    )
        .prop_map(|(a, b, negate)| {
            let mut c = ATOMS[a].to_string();
            if let Some((b, and)) = b {
                c = format!("{c} {} {}", if and { "and" } else { "or" }, ATOMS[b]);
            }
            if negate {
                c = format!("not ({c})");
            }
            c
        })
}

/// A mesh as (its route, its policies).
fn mesh() -> impl Strategy<Value = (String, String)> {
    (
        prop::collection::vec((condition(), 0..ACTIONS.len()), 0..3),
        0..ACTIONS.len(),
        prop::option::of((0..TOUCHES.len(), condition())),
        prop::option::of((0..TOUCHES.len(), condition())),
    )
        .prop_map(|(arms, otherwise, forbid, escalate)| {
            let mut src = String::from("route go {\n");
            for (cond, action) in arms {
                src += &format!("  when {cond} => {}\n", ACTIONS[action]);
            }
            src += &format!("  otherwise => {}\n}}\n", ACTIONS[otherwise]);
            let route = std::mem::take(&mut src);
            if let Some((touch, cond)) = forbid {
                src += &format!(
                    "policy keep {{\n  forbid when {}({cond}) and agent.region == \"us\" because \"kept\"\n}}\n",
                    TOUCHES[touch]
                );
            }
            if let Some((touch, cond)) = escalate {
                src += &format!(
                    "policy watch {{\n  escalate boss when {}({cond}) and agent.trust > 0.8\n}}\n",
                    TOUCHES[touch]
                );
            }
            (route, src)
        })
}

const HEADER: &str = "package p\nuse std.data.{pii}\ndata secret\ncapability work.do\n\
    context { a: number  c: \"x\" | \"y\" | \"z\"  s?: string  tags: set<string> }\n\
    agent one { provides work.do  clearance pii  trust 0.9  region \"us\" }\n\
    agent two { provides work.do  clearance pii  trust 0.7  region \"eu\" }\n\
    human boss { channel \"desk\" }\n\
    intent go { requires work.do  handles pii }\n";

fn plan(src: &str) -> Plan {
    let c = compile(&[Source::new("m.intent", src)], Stage::Check);
    assert!(
        !c.has_errors(),
        "{src}\n{}",
        intent_compiler::render::human(&c.diagnostics, &c.sources, false)
    );
    c.plan.unwrap()
}

/// Requests on a grid that holds values other than the cells' representatives.
fn grid() -> Vec<Request> {
    let mut out = Vec::new();
    for confidence in [0.0, 0.1, 0.3, 0.42, 0.5, 0.6, 0.7, 0.85, 1.0] {
        for a in [-3.0, 0.0, 0.8, 2.5, 5.0, 7.0, 10.0, 12.0] {
            for c in ["x", "y", "z"] {
                for s in [None, Some("p"), Some("q"), Some("w")] {
                    for tags in [json!([]), json!(["k"]), json!(["m", "k"]), json!(["z"])] {
                        let mut r = Request::for_intent("go", confidence)
                            .with("a", json!(a))
                            .with("c", json!(c))
                            .with("tags", tags);
                        if let Some(s) = s {
                            r = r.with("s", json!(s));
                        }
                        // No caller, each agent, and a caller the plans do not declare.
                        for caller in [None, Some("one"), Some("two"), Some("stranger")] {
                            let mut r = r.clone();
                            r.caller = caller.map(|a| intent_runtime::request::Caller {
                                agent: Some(a.to_string()),
                                lineage: Vec::new(),
                            });
                            out.push(r);
                        }
                    }
                }
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_reported_change_is_real_and_none_is_missed(
        (old_route, old_rules) in mesh(),
        (new_route, new_rules) in mesh(),
        same_route in any::<bool>(),
    ) {
        // Half the time only the policies change, which lets `diff` skip an intent whose
        // applicable rules stay the same: that shortcut is held to the grid too.
        let new_route = if same_route { &old_route } else { &new_route };
        let old = format!("{HEADER}{old_route}{old_rules}");
        let new = format!("{HEADER}{new_route}{new_rules}");
        let (a, b) = (plan(&old), plan(&new));
        let d = diff(&a, &b, DiffOptions::default()).unwrap();
        let (ea, eb) = (Engine::from_plan(a).unwrap(), Engine::from_plan(b).unwrap());
        let intent = &d.intents[0];
        prop_assert!(!intent.sampled);
        for r in &intent.regions {
            let req: Request = serde_json::from_value(r.example.clone()).unwrap();
            let (x, y) = (summary(&ea.decide_at(&req, 0)), summary(&eb.decide_at(&req, 0)));
            prop_assert!(x.same_as(&r.old) && y.same_as(&r.new), "{}: {:?} {:?}", r.condition, x, y);
            prop_assert!(!x.same_as(&y));
        }
        for req in grid() {
            let (x, y) = (summary(&ea.decide_at(&req, 0)), summary(&eb.decide_at(&req, 0)));
            match intent.region_of(&req) {
                Some(r) => prop_assert!(
                    r.old.same_as(&x) && r.new.same_as(&y),
                    "{req:?} in `{}`: reported {} -> {}, decided {} -> {}",
                    r.condition, r.old, r.new, x, y
                ),
                None => prop_assert!(x.same_as(&y), "missed {req:?}: {x} -> {y}\n{old}\n{new}"),
            }
        }
    }
}
