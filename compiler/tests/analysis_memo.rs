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

    // An example of that intent: nothing (the analysis does not read examples), and the
    // findings are still those of a fresh analysis.
    let example = plan_of(&edit_last(
        &edit_last(&text, "< 0.8 => escalate", "< 0.75 => escalate"),
        "examples [\"please ",
        "examples [\"kindly ",
    ));
    assert_ne!(example.intents, route.intents);
    assert_eq!(memo.analyze(&example), analysis::analyze(&example));
    assert_eq!(memo.analysed(), 0);

    // An agent's trust: the intents that may send it a step, not the others.
    let agent = plan_of(&edit_last(&text, " trust 0.5", " trust 0.6"));
    assert_eq!(memo.analyze(&agent), analysis::analyze(&agent));
    let n = memo.analysed();
    assert!(n > 0 && n < agent.intents.len(), "{n} intents analysed");

    // A rule: every intent.
    let rule = plan_of(&edit_last(&text, "agent.trust >= 0.", "agent.trust > 0."));
    assert_eq!(memo.analyze(&rule), analysis::analyze(&rule));
    assert_eq!(memo.analysed(), rule.intents.len());
}

/// Intents added and removed move every intent after them: the memo starts again and finds
/// what a fresh analysis finds, then reuses parts at the next edit.
#[test]
fn intents_added_or_removed_are_analysed_afresh() {
    let text = sharp_text();
    let extra = "intent late { requires c1  handles pii }\n\
                 route late { when confidence < 0.5 => escalate lead  otherwise => dispatch any c1 }\n";
    let mut memo = Memo::default();
    for version in [text.clone(), format!("{text}{extra}"), text.clone()] {
        let plan = plan_of(&version);
        assert_eq!(memo.analyze(&plan), analysis::analyze(&plan));
        assert_eq!(memo.analysed(), plan.intents.len());
    }
    let plan = plan_of(&text.replacen("confidence < 0.5 ", "confidence < 0.6 ", 1));
    assert_eq!(memo.analyze(&plan), analysis::analyze(&plan));
    assert_eq!(memo.analysed(), 1);
}

/// A small mesh where each capability has one or two providers, so that one agent's trust,
/// region or clearance decides whether a step can be taken: edits to it change findings.
fn sharp_text() -> String {
    let mut t = String::from(
        "package demo\ndata pii\nhuman lead { channel \"slack:#lead\" }\n\
         policy p {\n  forbid when agent.trust < 0.5 and data touches pii because \"low trust\"\n\
         \x20 permit when agent.region == \"eu-west-1\"\n}\n",
    );
    // A route that reads the caller, which may be any agent: its arm is dead until some
    // agent's trust passes 0.95.
    t += "intent ask { requires c0 }\n\
          route ask { when caller.trust > 0.95 => dispatch any c0  otherwise => escalate lead }\n";
    for k in 0..8 {
        let also = (k + 1) % 8;
        t += &format!(
            "capability c{k}\n\
             agent a{k} {{ provides c{k}, c{also}  clearance pii  trust 0.9  region \"eu-west-1\" }}\n\
             intent i{k} {{ requires c{k}  handles pii }}\n\
             route i{k} {{ when confidence < 0.5 => escalate lead  otherwise => dispatch any c{k} }}\n"
        );
    }
    t
}

/// Random edits to agents (trust, region, clearance) and routes, one after another, on the
/// bench mesh and on [`sharp_text`]: after each, the memo's findings are a fresh analysis's.
#[test]
fn after_any_sequence_of_edits_the_memo_finds_what_a_fresh_analysis_finds() {
    let mut changed = 0;
    for (seed, text) in [(7, bench_text()), (11, sharp_text())] {
        changed += edit_randomly(seed, text, 40);
    }
    // Edits that change what the analysis finds: a memo that missed one would be caught.
    assert!(changed >= 5, "only {changed} edits changed the findings");
}

/// Applies `edits` random edits to `text`, checking the memo after each; how many changed
/// the findings.
fn edit_randomly(seed: u64, mut text: String, edits: usize) -> usize {
    let mut rng = mesh::Rng(seed);
    let mut memo = Memo::default();
    let mut before = memo.analyze(&plan_of(&text));
    let (mut reused, mut changed) = (0, 0);
    for _ in 0..edits {
        let lines: Vec<&str> = text.lines().collect();
        let agents: Vec<usize> = (0..lines.len())
            .filter(|i| lines[*i].starts_with("agent "))
            .collect();
        let line = lines[agents[rng.below(agents.len())]];
        let edited = match rng.below(4) {
            0 => {
                let at = line.find(" trust 0.").unwrap() + " trust 0.".len();
                // The extremes: below or above every threshold of the mesh's rules.
                let trust = if rng.chance(50) { "01" } else { "99" };
                format!("{}{trust}{}", &line[..at], &line[at + 2..])
            }
            1 => {
                let at = line.find(" region \"").unwrap() + " region \"".len();
                let end = at + line[at..].find('"').unwrap();
                let region = rng.pick(&mesh::REGIONS);
                format!("{}{region}{}", &line[..at], &line[end..])
            }
            2 => {
                let at = line.find(" clearance ").unwrap() + " clearance ".len();
                let end = at + line[at..].find("  ").unwrap();
                let class = mesh::CLASSES[rng.below(mesh::CLASSES.len())];
                format!("{}{class}{}", &line[..at], &line[end..])
            }
            _ => String::new(),
        };
        let next = if edited.is_empty() {
            let (a, b) = if rng.chance(50) {
                ("< 0.8 ", "< 0.7 ")
            } else {
                ("< 0.5 ", "< 0.6 ")
            };
            match text.find(a) {
                Some(at) => format!("{}{b}{}", &text[..at], &text[at + a.len()..]),
                None => continue,
            }
        } else {
            text.replacen(line, &edited, 1)
        };
        let c = compile(&[Source::new("m.intent", next.as_str())], Stage::Check);
        let Some(plan) = c.plan else { continue };
        text = next;
        let fresh = analysis::analyze(&plan);
        assert_eq!(memo.analyze(&plan), fresh, "after {edited:?}");
        reused += plan.intents.len() - memo.analysed();
        changed += usize::from(fresh != before);
        before = fresh;
    }
    assert!(reused > 0, "some parts were reused");
    changed
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

/// The memo holds a check's plan until the check after next, which frees it while its
/// analysis runs: never more than two plans, and none when the memo is for one check.
#[test]
fn the_memo_keeps_the_last_two_plans_and_hands_back_the_oldest() {
    let plans: Vec<std::sync::Arc<Plan>> = (0..4)
        .map(|_| std::sync::Arc::new(plan_of(&bench_text())))
        .collect();
    let mut memo = Memo::default();
    assert!(memo.take_plan().is_none());
    memo.keep_plan(&plans[0]);
    // The database still holds the plan of the check before: nothing to free yet.
    assert!(memo.take_plan().is_none());
    memo.keep_plan(&plans[1]);
    for k in 2..4 {
        let oldest = memo.take_plan().expect("the plan of the check before last");
        assert!(std::sync::Arc::ptr_eq(&oldest, &plans[k - 2]));
        memo.keep_plan(&plans[k]);
    }
    // Held: the last two plans (and this test's own copies).
    assert_eq!(std::sync::Arc::strong_count(&plans[0]), 1);
    assert_eq!(std::sync::Arc::strong_count(&plans[1]), 1);
    assert_eq!(std::sync::Arc::strong_count(&plans[2]), 2);
    assert_eq!(std::sync::Arc::strong_count(&plans[3]), 2);

    let mut once = Memo::once();
    once.keep_plan(&plans[0]);
    once.keep_plan(&plans[1]);
    assert!(once.take_plan().is_none());
    assert_eq!(std::sync::Arc::strong_count(&plans[0]), 1);
}
