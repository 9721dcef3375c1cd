//! One mistake, one diagnostic: each mistake a new user made (issue #16) gives exactly one
//! diagnostic naming its real cause, never a cascade; the words that read as field names
//! (`plan`, `route`, ...) are accepted where only a field name can stand. Each rendered
//! diagnostic is snapshotted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use intent_compiler::{compile, render, Compilation, Source, Stage};

/// The mesh around the mistakes: one agent, one human, one intent with a route.
const BASE: &str = r#"package demo
capability billing.refund
agent refunder { provides billing.refund  trust 0.9 }
human finance_lead { channel "slack:#finance"  sla 4h }
intent refund { requires billing.refund }
"#;

fn check(text: &str) -> Compilation {
    compile(&[Source::new("mesh.intent", text)], Stage::Check)
}

/// Asserts exactly one diagnostic, with `code`, and snapshots it.
fn one(name: &str, c: &Compilation, code: &str) {
    let shown = render::human(&c.diagnostics, &c.sources, false);
    let codes = common::codes(c);
    assert_eq!(
        codes,
        vec![code],
        "{name}: expected one {code}, got:\n{shown}"
    );
    insta::assert_snapshot!(name, shown);
}

fn clean(c: &Compilation) {
    assert!(
        c.diagnostics.is_empty(),
        "{}",
        render::human(&c.diagnostics, &c.sources, false)
    );
    assert!(c.plan.is_some());
}

#[test]
fn reserved_words_are_field_names_in_a_context_and_after_a_dot() {
    let c = check(&format!(
        r#"{BASE}
context {{
  plan: "free" | "pro"
  customer: {{ plan: "free" | "pro", route?: string }}
  triage: {{ route: "fast" | "slow", test: bool }}
}}
route refund {{
  when plan == "pro" and customer.plan == "pro" => dispatch refunder
  when triage.route == "slow" or triage.test => escalate finance_lead
  when has customer.route => dispatch refunder
  otherwise => deny because "free plans are refunded by hand"
}}
test "pro customers are refunded" {{
  given {{ intent: refund, confidence: 0.9, plan: "pro",
          customer: {{ plan: "pro" }}, triage: {{ route: "fast", test: false }} }}
  expect dispatch refunder
}}
"#
    ));
    clean(&c);
    let plan = c.plan.unwrap();
    let out = intent_compiler::testing::run(&plan, &c.tests);
    assert!(out.iter().all(|o| o.passed()), "{:?}", out[0].failures);
}

#[test]
fn a_broken_field_drops_that_field_not_its_block() {
    let c = check(&format!(
        r#"{BASE}
context {{
  amount: number
  tier: "free" | "pro" |
  region_code: string
}}
route refund {{
  when amount > 100 and region_code == "EU" => escalate finance_lead
  when tier == "pro" => dispatch refunder
  otherwise => dispatch refunder
}}
"#
    ));
    one("broken_field", &c, "E0001");
}

#[test]
fn a_trailing_comma_before_a_field_is_one_error() {
    let c = check(
        r#"package demo
capability billing.refund
capability billing.lookup
agent refunder { provides billing.refund, billing.lookup,  trust 0.9 }
intent refund { requires billing.refund }
route refund {
  when confidence < 0.5 => deny because "unsure"
  otherwise => dispatch refunder
}
"#,
    );
    one("trailing_comma", &c, "E0010");
    // The issue's own line: one capability, then the comma.
    let c = check(
        r#"package demo
capability billing.refund
agent refunder { provides billing.refund,  trust 0.9 }
intent refund { requires billing.refund }
route refund { otherwise => dispatch refunder }
"#,
    );
    one("trailing_comma_one_capability", &c, "E0010");
}

#[test]
fn import_is_told_to_be_use() {
    let c = check(&format!(
        "package demo\nimport std.data.{{pii}}\n{}\nroute refund {{\n  when confidence < 0.5 => escalate finance_lead\n  otherwise => dispatch refunder\n}}\npolicy p {{ forbid when data touches pii because \"no pii\" }}\n",
        BASE.trim_start_matches("package demo\n")
    ));
    one("import_for_use", &c, "E0011");
}

#[test]
fn a_duration_in_words_names_the_units() {
    let c = check(
        r#"package demo
capability billing.refund
agent refunder { provides billing.refund }
human finance_lead { channel "slack:#finance"  sla 1 hour }
intent refund { requires billing.refund }
route refund {
  when confidence < 0.5 => escalate finance_lead
  otherwise => dispatch refunder
}
"#,
    );
    one("sla_one_hour", &c, "E0012");
    let help = &c.diagnostics[0].help;
    assert!(
        help.as_deref().unwrap_or_default().contains("`1h`")
            && help
                .as_deref()
                .unwrap_or_default()
                .contains("`ms`, `s`, `m`, `h` and `d`"),
        "{help:?}"
    );
}

#[test]
fn and_and_or_or_are_one_error_each() {
    for (name, op, word) in [("and_and", "&&", "and"), ("or_or", "||", "or")] {
        let c = check(&format!(
            r#"{BASE}
context {{ amount: number }}
route refund {{
  when confidence < 0.5 {op} amount > 100 => escalate finance_lead
  otherwise => dispatch refunder
}}
"#
        ));
        one(name, &c, "E0013");
        assert!(c.diagnostics[0]
            .help
            .as_deref()
            .unwrap_or_default()
            .contains(&format!("`{word}`")));
    }
}

#[test]
fn a_file_without_package_is_told_it_is_in_main() {
    let billing = r#"package billing
capability billing.refund
agent refunder { provides billing.refund }
human finance_lead { channel "slack:#finance"  sla 4h }
intent refund { requires billing.refund }
intent chargeback { requires billing.refund }
"#;
    let routes = r#"route refund {
  when confidence < 0.5 => escalate finance_lead
  otherwise => dispatch refunder
}
route chargeback { otherwise => dispatch refunder }
"#;
    let c = compile(
        &[
            Source::new("billing.intent", billing),
            Source::new("routes.intent", routes),
        ],
        Stage::Check,
    );
    one("file_in_main", &c, "E0112");
    assert!(c.diagnostics[0]
        .message
        .contains("this file is in package `main`"));
}

#[test]
fn expect_escalate_without_a_human_is_one_precise_error() {
    let c = check(&format!(
        r#"{BASE}
route refund {{
  when confidence < 0.5 => escalate finance_lead
  otherwise => dispatch refunder
}}
test "unsure requests go to a person" {{
  given {{ intent: refund, confidence: 0.3 }}
  expect escalate
}}
"#
    ));
    one("expect_escalate_without_human", &c, "E0204");
    assert!(c.diagnostics[0].message.contains("must name the human"));
}

#[test]
fn expect_deny_because_without_its_text_is_one_error() {
    for (name, expect, code) in [
        (
            "expect_deny_because_without_text",
            "expect deny because",
            "E0001",
        ),
        (
            "expect_deny_because_empty",
            "expect deny because \"\"",
            "E0204",
        ),
    ] {
        let c = check(&format!(
            r#"{BASE}
context {{ amount: number }}
route refund {{
  when confidence < 0.5 => escalate finance_lead
  when amount > 1000 => deny because "refunds over 1000 need a person"
  otherwise => dispatch refunder
}}
test "large refunds are denied" {{
  given {{ intent: refund, confidence: 0.9, amount: 5000 }}
  {expect}
}}
"#
        ));
        one(name, &c, code);
    }
}

#[test]
fn a_given_without_a_required_field_fails_check() {
    let c = check(&format!(
        r#"{BASE}
context {{ amount: number  channel: "web" | "api" }}
route refund {{
  when amount > 1000 => escalate finance_lead
  otherwise => dispatch refunder
}}
test "small refunds are dispatched" {{
  given {{ intent: refund, confidence: 0.9, channel: "web" }}
  expect dispatch refunder
}}
"#
    ));
    one("given_missing_field", &c, "E0205");
    assert!(c.diagnostics[0].message.contains("`amount`"));
}

#[test]
fn a_misspelt_given_field_is_reported_once_as_a_misspelling() {
    let c = check(&format!(
        r#"{BASE}
context {{ amount: number  subject: {{ residency: "EU" | "US" }} }}
route refund {{
  when amount > 1000 => escalate finance_lead
  otherwise => dispatch refunder
}}
test "top level" {{
  given {{ intent: refund, confidence: 0.9, amout: 9000, subject: {{ residency: "EU" }} }}
  expect escalate finance_lead
}}
"#
    ));
    one("given_misspelt_field", &c, "E0204");
    assert!(c.diagnostics[0]
        .help
        .as_deref()
        .unwrap_or_default()
        .contains("did you mean `amount`?"));
    let nested = check(&format!(
        r#"{BASE}
context {{ amount: number  subject: {{ residency: "EU" | "US" }} }}
route refund {{ otherwise => dispatch refunder }}
test "nested" {{
  given {{ intent: refund, confidence: 0.9, amount: 1, subject: {{ residdency: "EU" }} }}
  expect dispatch refunder
}}
"#
    ));
    one("given_misspelt_nested_field", &nested, "E0106");
}

#[test]
fn context_fields_cannot_shadow_request_keys() {
    let c = check(&format!(
        r#"{BASE}
context {{ confidence: string  caller: number  tier: string }}
route refund {{ otherwise => dispatch refunder }}
"#
    ));
    let codes = common::codes(&c);
    assert_eq!(codes, vec!["E0113", "E0113"], "{}", common::rendered(&c));
    insta::assert_snapshot!("shadowed_request_keys", common::rendered(&c));
    for key in ["intent", "text", "agent", "data", "response"] {
        let c = check(&format!(
            "{BASE}\ncontext {{ {key}: string }}\nroute refund {{ otherwise => dispatch refunder }}\n"
        ));
        assert_eq!(
            common::codes(&c),
            vec!["E0113"],
            "{key}: {}",
            common::rendered(&c)
        );
    }
}

#[test]
fn a_given_value_of_the_wrong_type_is_one_error_naming_the_declared_type() {
    let mistyped = |given: &str| {
        check(&format!(
            r#"{BASE}
context {{ amount: number  channel: "web" | "api" }}
route refund {{
  when amount > 1000 => escalate finance_lead
  otherwise => dispatch refunder
}}
test "a large refund goes to a person" {{
  given {{ intent: refund, confidence: 0.9, {given} }}
  expect escalate finance_lead
}}
"#
        ))
    };
    let c = mistyped(r#"amount: "9000", channel: "web""#);
    one("given_wrong_type", &c, "E0200");
    assert!(c.diagnostics[0]
        .help
        .as_deref()
        .unwrap_or_default()
        .contains("`amount` is declared in the context as a number"));
    let c = mistyped(r#"amount: 9000, channel: "wbe""#);
    one("given_value_not_in_enum", &c, "E0200");
    assert!(c.diagnostics[0]
        .help
        .as_deref()
        .unwrap_or_default()
        .contains("allowed: api, web"));
}

#[test]
fn a_declaration_that_does_not_parse_is_not_unknown_where_it_is_used() {
    // The agent's own line is the one mistake: the route that dispatches to it is not told
    // of an unknown agent on top (E0102).
    let c = check(
        r#"package demo
capability billing.refund
agent refunder { provides billing.refund  trust 0.9 ) }
intent refund { requires billing.refund }
route refund {
  otherwise => dispatch refunder
}
"#,
    );
    one("broken_agent_used_by_a_route", &c, "E0001");
}
