//! `caller` in conditions (docs/reference/expressions.md, "The caller"): what the checker
//! refuses, with one diagnostic per mistake (snapshotted beside the source), and what it
//! accepts without a word.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

const HEAD: &str = r#"package demo
capability payments.send
capability payments.approve
context { amount: number }
agent treasury { provides payments.approve  trust 0.95  region "eu-west-1"  labels { tier: "gold" } }
agent clerk    { provides payments.approve  trust 0.85  region "eu-west-1"  zone vault }
agent payer    { provides payments.send     trust 0.9 }
intent pay { requires payments.send }
intent approve { requires payments.approve }
route approve { otherwise => dispatch treasury fallback clerk }
"#;

fn mesh(rest: &str) -> intent_compiler::Compilation {
    common::check("t.intent", &format!("{HEAD}{rest}"))
}

/// The source after the shared head and what the checker says of it.
fn report(rest: &str) -> String {
    let c = mesh(rest);
    format!("{rest}\n---\n{}", common::rendered(&c))
}

#[test]
fn the_caller_reads_cleanly_where_it_is_meant() {
    let c = mesh(
        r#"route pay {
  when caller.name == "treasury" => dispatch payer
  when caller.name in {"payer"} and caller provides payments.send => dispatch payer
  when caller.trust >= 0.8 and caller.region == "eu-west-1" and caller.zone == "vault" => dispatch payer
  otherwise => deny
}
policy p {
  forbid unless has caller and caller.labels.tier == "gold" because "gold callers only"
}
"#,
    );
    assert!(c.diagnostics.is_empty(), "{}", common::rendered(&c));
}

#[test]
fn a_caller_name_that_names_no_agent() {
    let r = report(
        "route pay {\n  when caller.name == \"tresury\" => dispatch payer\n  otherwise => deny\n}\n",
    );
    assert_eq!(r.matches("[E0102]").count(), 1, "{r}");
    insta::assert_snapshot!(r);
}

#[test]
fn a_set_of_caller_names_with_one_unknown() {
    let r = report(
        "route pay {\n  when caller.name in {\"treasury\", \"payr\"} => dispatch payer\n  otherwise => deny\n}\n",
    );
    assert_eq!(r.matches("[E0102]").count(), 1, "{r}");
    insta::assert_snapshot!(r);
}

#[test]
fn an_unknown_capability_of_the_caller() {
    let r = report(
        "route pay {\n  when caller provides payments.aprove => dispatch payer\n  otherwise => deny\n}\n",
    );
    assert_eq!(r.matches("[E0101]").count(), 1, "{r}");
    insta::assert_snapshot!(r);
}

#[test]
fn an_unknown_attribute_of_the_caller() {
    let r = report(
        "route pay {\n  when caller.trsut > 0.5 => dispatch payer\n  otherwise => deny\n}\n",
    );
    assert_eq!(r.matches("[E0114]").count(), 1, "{r}");
    insta::assert_snapshot!(r);
}

#[test]
fn labels_without_a_key() {
    let r = report(
        "route pay {\n  when caller.labels == \"gold\" => dispatch payer\n  otherwise => deny\n}\n",
    );
    assert_eq!(r.matches("[E0114]").count(), 1, "{r}");
    insta::assert_snapshot!(r);
}

#[test]
fn the_caller_compared_as_a_whole() {
    let r = report(
        "route pay {\n  when caller == \"payer\" => dispatch payer\n  otherwise => deny\n}\n",
    );
    assert_eq!(r.matches("[E0200]").count(), 1, "{r}");
    insta::assert_snapshot!(r);
}

#[test]
fn has_on_an_attribute_of_the_caller() {
    let r =
        report("route pay {\n  when has caller.trust => dispatch payer\n  otherwise => deny\n}\n");
    assert_eq!(r.matches("[E0200]").count(), 1, "{r}");
    insta::assert_snapshot!(r);
}

#[test]
fn the_caller_in_a_review() {
    let r = report(
        "route pay { otherwise => dispatch payer }\nreview payer {\n  when caller.trust < 0.5 => deny\n  otherwise => pass\n}\n",
    );
    assert_eq!(r.matches("[E0202]").count(), 1, "{r}");
    insta::assert_snapshot!(r);
}

#[test]
fn a_policy_that_reads_the_caller_without_has_caller() {
    let r = report(
        "route pay { otherwise => dispatch payer }\npolicy p {\n  forbid when caller.trust < 0.5 because \"untrusted callers\"\n}\n",
    );
    assert_eq!(r.matches("[W0003]").count(), 1, "{r}");
    insta::assert_snapshot!(r);
}
