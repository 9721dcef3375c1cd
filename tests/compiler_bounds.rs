//! Inputs that once cost the `intent` program exponential memory or unbounded work, run as a
//! child process under an address-space cap (`ulimit -v`), so that a regression fails the
//! test (the child dies) instead of taking the machine down.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{text, workdir};
use std::path::Path;
use std::process::{Command, Output};

/// The address space the child may use, in KiB: far more than any of these inputs needs
/// once bounded, far less than the unbounded analysis took (2 GB at 20 pairs, doubling).
const CAP_KIB: u64 = 1_500_000;

/// Runs `intent ARGS` in `dir` under [`CAP_KIB`].
fn capped(dir: &Path, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {CAP_KIB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_intent"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

const HEAD: &str = r#"package demo
capability invoices.read
data pii
context {
  amount?: number
}
agent reader { provides invoices.read  clearance pii }
human lead { channel "slack:#lead" }
intent read { requires invoices.read  handles pii }
"#;

/// `(confidence < 0.001 or amount > 1) and (confidence < 0.002 or amount > 2) and ...`:
/// 2^n cubes in disjunctive form.
fn pairs(n: usize) -> String {
    pairs_from(n, 0)
}

/// [`pairs`] with every amount raised by `k`: another condition of the same shape.
fn pairs_from(n: usize, k: usize) -> String {
    (1..=n)
        .map(|i| format!("(confidence < {} or amount > {})", i as f64 / 1000.0, i + k))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// `(confidence < 0.001 and amount > 1) or ...`: the same blow-up once negated.
fn negated_pairs(n: usize) -> String {
    (1..=n)
        .map(|i| format!("(confidence < {} and amount > {i})", i as f64 / 1000.0))
        .collect::<Vec<_>>()
        .join(" or ")
}

#[test]
fn a_forbid_with_forty_or_pairs_checks_in_bounded_memory() {
    // The agent lacks clearance: only the permit lets it take the step, so whether the rules
    // do anything depends on exactly where their conditions hold.
    let head = HEAD.replace("  clearance pii", "");
    let mesh = format!(
        "{head}route read {{ otherwise => dispatch reader }}\n\
         policy p {{\n  forbid when {} unless {} because \"too much\"\n  permit when {}\n  escalate lead when {}\n}}\n",
        pairs(40),
        negated_pairs(40),
        pairs_from(40, 100),
        pairs_from(40, 200),
    );
    let dir = workdir("forbid-pairs", &[("m.intent", &mesh)]);
    let out = capped(&dir, &["check", "."]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    // No claim about rules the analysis could not look into.
    for code in ["W0101", "W0102", "W0103", "W0104"] {
        assert!(!err.contains(code), "{code}: {err}");
    }
}

#[test]
fn a_route_arm_with_forty_or_pairs_makes_no_claim() {
    // The second arm is exactly the rest: the route does cover every request, but the first
    // arm is too large to look into, so coverage is "not proved", with no counterexample
    // (the runtime refuses every candidate: each takes an arm).
    let mesh = format!(
        "{HEAD}route read {{\n  when {} => dispatch reader\n  when not ({}) => deny because \"no\"\n}}\n",
        pairs(40),
        pairs(40),
    );
    let dir = workdir("route-pairs", &[("m.intent", &mesh)]);
    let out = capped(&dir, &["check", "."]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("E0300"), "{err}");
    assert!(err.contains("could not be proved"), "{err}");
    assert!(!err.contains("no arm matches"), "{err}");
    assert!(!err.contains("W0100"), "{err}");

    // With `otherwise`, no arm is called dead.
    let mesh = format!(
        "{HEAD}route read {{\n  when {} => dispatch reader\n  when ({}) or amount > 5 => escalate lead\n  otherwise => deny because \"no\"\n}}\n",
        pairs(40),
        negated_pairs(40),
    );
    let dir = workdir("route-pairs-otherwise", &[("m.intent", &mesh)]);
    let out = capped(&dir, &["check", "."]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("W0100"), "{err}");
}
