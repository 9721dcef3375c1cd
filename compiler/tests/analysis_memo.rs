//! The analysis intent by intent (`analysis::Memo`): what it finds about one intent depends
//! only on that intent and the rest of the plan, so a check after an edit re-analyses only
//! the intents the edit changed and finds exactly what a fresh analysis finds.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[allow(dead_code)]
#[path = "../benches/support/mesh.rs"]
mod mesh;

use intent_compiler::analysis::{self, Memo};
use intent_compiler::{compile, Source, Stage};
use intent_runtime::plan::Plan;

fn plan_of(text: &str) -> Plan {
    let c = compile(&[Source::new("m.intent", text)], Stage::Check);
    assert!(!c.has_errors(), "{}", common::rendered(&c));
    c.plan.unwrap()
}

/// The generated mesh of the benchmarks, small: a thousand lines, many rules reported.
fn bench_text() -> String {
    mesh::intent_source(&mesh::generate(&mesh::QUICK))
}

/// `text` with the last occurrence of `from` replaced by `to`.
fn edit_last(text: &str, from: &str, to: &str) -> String {
    let at = text
        .rfind(from)
        .unwrap_or_else(|| panic!("{from:?} not in the mesh"));
    format!("{}{to}{}", &text[..at], &text[at + from.len()..])
}

#[test]
fn each_intent_analysed_alone_finds_what_the_whole_analysis_finds() {
    let mut plans = vec![("bench", plan_of(&bench_text()))];
    for name in ["finance", "healthcare", "logistics"] {
        let c = compile(&[common::example(name)], Stage::Check);
        plans.push((name, c.plan.unwrap()));
    }
    for (name, plan) in &plans {
        let whole = analysis::analyze(plan);
        assert_eq!(whole, analysis::analyze_each(plan), "{name}");
        if *name == "bench" {
            assert!(
                whole.len() > 5,
                "the bench mesh has findings to compare: {}",
                whole.len()
            );
        }
    }
}

#[test]
fn an_edit_re_analyses_only_the_intents_it_changed() {
    let text = bench_text();
    let before = plan_of(&text);
    let mut memo = Memo::default();
    assert_eq!(memo.analyze(&before), analysis::analyze(&before));
    assert_eq!(memo.analysed(), before.intents.len());

    // The same plan again: nothing to do.
    assert_eq!(memo.analyze(&before), analysis::analyze(&before));
    assert_eq!(memo.analysed(), 0);

    // A threshold inside one route: that intent alone.
    let route = plan_of(&edit_last(&text, "< 0.8 => escalate", "< 0.75 => escalate"));
    assert_ne!(route.intents, before.intents);
    assert_eq!(memo.analyze(&route), analysis::analyze(&route));
    assert_eq!(memo.analysed(), 1);

    // An agent's trust (the rest of the plan): every intent.
    let agent = plan_of(&edit_last(&text, " trust 0.5", " trust 0.6"));
    assert_eq!(memo.analyze(&agent), analysis::analyze(&agent));
    assert_eq!(memo.analysed(), agent.intents.len());
}

/// A permit alive at one intent's site is not looked at again at the next intent's sites in
/// the same batch. When an edit makes it alive nowhere, the kept part of the other intent is
/// analysed again, so the rule is reported with the forbid that overrides it.
#[test]
fn a_rule_no_longer_alive_is_looked_at_again_where_it_was_skipped() {
    let mesh = |route_a: &str| {
        format!(
            r#"package demo
capability documents.parse
data pii
context {{ region: "eu" | "us" }}
agent parser {{ provides documents.parse  trust 0.99 }}
intent a_first {{ requires documents.parse  handles pii }}
intent b_second {{ requires documents.parse  handles pii }}
route a_first {{ {route_a} }}
route b_second {{ when region == "eu" => dispatch any documents.parse  otherwise => deny because "no" }}
policy p {{
  forbid when region == "eu" and data touches pii because "eu data stays"
  permit when data touches pii
}}
"#
        )
    };
    let alive = plan_of(&mesh(
        r#"when region == "us" => dispatch any documents.parse  otherwise => deny because "no""#,
    ));
    let dead = plan_of(&mesh(
        r#"when region == "eu" => dispatch any documents.parse  otherwise => deny because "no""#,
    ));
    let mut memo = Memo::default();
    let first = memo.analyze(&alive);
    assert_eq!(first, analysis::analyze(&alive));
    let after = memo.analyze(&dead);
    let fresh = analysis::analyze(&dead);
    assert_eq!(after, fresh);
    assert!(
        fresh
            .iter()
            .any(|f| matches!(f, analysis::Finding::PermitOverridden { .. })),
        "{fresh:?}"
    );
    // a_first changed, and b_second, whose part had skipped the permit, was looked at again.
    assert_eq!(memo.analysed(), 2);
}
