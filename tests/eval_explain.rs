//! `intent eval --explain` tells the story of a decision (issue #16): every arm and rule line
//! with the comparisons of its condition and the values they were made on, each rule line with
//! the step and agent it was checked for, a forbid that fired as a refusal, obligations as words.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{intent, root, text};

fn eval(args: &[&str]) -> String {
    let out = intent(&root(), args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The decision id holds the time: the rest is stable.
    let shown = text(&out.stdout);
    shown
        .lines()
        .map(|l| match l.split_once("  decision ") {
            Some((plan, _)) if l.starts_with("plan ") => format!("{plan}  decision ID"),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A forbid removes the most trusted summarizer (a refusal, with the values it compared), and
/// an audit rule adds an obligation, in words.
#[test]
fn a_refusal_and_an_audit_are_told_as_such() {
    let shown = eval(&[
        "eval",
        "examples/healthcare",
        "--intent",
        "summarize_chart",
        "--confidence",
        "0.9",
        "--context",
        "subject.role=physician",
        "--context",
        "channel=ehr",
        "--explain",
    ]);
    assert!(shown.contains("✗ refused"), "{shown}");
    assert!(shown.contains("obligation: audit the decision"), "{shown}");
    insta::assert_snapshot!("healthcare_refusal_and_audit", shown);
}

/// Each step's rules name the step and the agent; arms show the confidence compared.
#[test]
fn arms_and_rules_show_the_values_they_compared() {
    let shown = eval(&[
        "eval",
        "examples/finance",
        "--intent",
        "summarize_overdue_invoices",
        "--confidence",
        "0.9",
        "--context",
        "subject.residency=EU",
        "--context",
        "subject.role=analyst",
        "--context",
        "channel=web",
        "--context",
        "amount=20000",
        "--explain",
    ]);
    assert!(shown.contains("confidence (0.9) < 0.5  ✗"), "{shown}");
    assert!(shown.contains("amount (20000) > 10000  ✓"), "{shown}");
    insta::assert_snapshot!("finance_values_compared", shown);
}

/// Without `--explain` only what decided is shown, obligations still in words.
#[test]
fn without_explain_only_what_decided_is_shown() {
    let shown = eval(&[
        "eval",
        "examples/healthcare",
        "--intent",
        "summarize_chart",
        "--confidence",
        "0.9",
        "--context",
        "subject.role=physician",
        "--context",
        "channel=ehr",
    ]);
    assert!(!shown.contains("·"), "{shown}");
    insta::assert_snapshot!("healthcare_short", shown);
}

/// Conditions on the caller show the caller's values (issue #11): its name, label and
/// capability, read from the mesh's declaration of the agent the request names.
#[test]
fn caller_conditions_show_the_callers_values() {
    let dir = common::workdir(
        "eval-caller",
        &[(
            "req.json",
            r#"{"intent":"pay","confidence":0.9,"amount":800,"caller":{"agent":"clerk"}}"#,
        )],
    );
    let req = dir.join("req.json");
    let shown = eval(&[
        "eval",
        "tests/semantics/caller.intent",
        "--request",
        req.to_str().unwrap(),
        "--explain",
    ]);
    assert!(
        shown.contains(r#"caller.name ("clerk") == "treasury"  ✗"#),
        "{shown}"
    );
    assert!(
        shown.contains(r#"caller.labels.tier ("basic") == "basic"  ✓"#),
        "{shown}"
    );
    insta::assert_snapshot!("caller_values_compared", shown);
}
