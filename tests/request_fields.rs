//! Request fields checked against the schema, end to end: `intent eval` warns about a context
//! field the plan does not declare and, with `--strict`, refuses it by name with a "did you
//! mean" and a non-zero exit; a test whose `given` lacks a required field fails `intent check`;
//! scene lines make limits and breakers testable with `intent test` (examples/healthcare).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{intent, root, text, workdir};

const REFUND: &str = r#"package demo
capability billing.refund
agent refund_bot { provides billing.refund }
human manager { channel "slack:#refunds"  sla 4h }
context { amount: number }
intent refund { requires billing.refund }
route refund {
  when amount > 1000 => escalate manager because "large refunds need a manager"
  otherwise => dispatch refund_bot
}
test "a large refund goes to a manager" {
  given { intent: refund, confidence: 0.9, amount: 9000 }
  expect escalate manager
}
"#;

fn eval(dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "eval",
        "mesh.intent",
        "--intent",
        "refund",
        "--confidence",
        "0.9",
        "--context",
        "amout=9000",
    ];
    args.extend_from_slice(extra);
    intent(dir, &args)
}

#[test]
fn eval_warns_about_a_misspelt_field_and_strict_refuses_it() {
    let dir = workdir("eval_strict", &[("mesh.intent", REFUND)]);
    // Without --strict: decided (the amount is missing, so the engine refuses the request) and
    // the field named on stderr and in --json.
    let out = eval(&dir, &["--json"]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "warning: `amout` is not a context field of the plan; did you mean `amount`? (it is ignored)"
        ),
        "{stderr}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["unknown_fields"], serde_json::json!(["amout"]));
    // With --strict: no decision, the field named with the one meant, exit 2.
    let out = eval(&dir, &["--strict"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr
            .contains("error: `amout` is not a context field of the plan; did you mean `amount`?"),
        "{stderr}"
    );
    // Spelt right, --strict decides.
    let out = intent(
        &dir,
        &[
            "eval",
            "mesh.intent",
            "--intent",
            "refund",
            "--confidence",
            "0.9",
            "--context",
            "amount=9000",
            "--strict",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outcome"], "escalate");
    assert_eq!(v["human"], "manager");
}

#[test]
fn a_test_without_a_required_field_fails_check() {
    let broken = REFUND.replace(
        "given { intent: refund, confidence: 0.9, amount: 9000 }",
        "given { intent: refund, confidence: 0.9 }",
    );
    let dir = workdir("given_missing", &[("mesh.intent", &broken)]);
    let out = intent(&dir, &["check", "mesh.intent"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("E0205") && stderr.contains("the test's request has no `amount`"),
        "{stderr}"
    );
}

#[test]
fn scenes_make_limits_and_breakers_testable() {
    let out = intent(&root(), &["test", "examples/healthcare"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    for name in [
        "the on-call physician is paged at most 30 times an hour",
        "pages from more than an hour ago do not count",
        "a chart gateway that failed three times this minute is not called",
        "the gateway's breaker closes once its failures are a minute old",
    ] {
        assert!(stdout.contains(name), "{name} not run:\n{stdout}");
    }
}
