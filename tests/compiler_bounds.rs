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
    assert!(err.contains("E0316"), "{err}");
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

#[cfg(unix)]
#[test]
fn symbolic_link_loops_in_a_mesh_are_read_once() {
    let mesh = "package demo\ncapability invoices.read\nagent reader { provides invoices.read }\n\
                intent read { requires invoices.read }\nroute read { otherwise => dispatch reader }\n";
    let dir = workdir("links", &[("mesh/m.intent", mesh)]);
    let m = dir.join("mesh");
    // Two links back to the mesh itself (a loop each) and a second name for the file.
    std::os::unix::fs::symlink(&m, m.join("again")).unwrap();
    std::os::unix::fs::symlink(&m, m.join("more")).unwrap();
    std::os::unix::fs::symlink(m.join("m.intent"), m.join("same.intent")).unwrap();
    for command in ["check", "fmt"] {
        let args: &[&str] = if command == "fmt" {
            &["fmt", "--check", "mesh"]
        } else {
            &["check", "mesh"]
        };
        let out = capped(&dir, args);
        let err = text(&out.stderr);
        assert!(out.status.success(), "{command}: {err}");
        assert!(!err.contains("E0110"), "{command}: {err}");
        assert_eq!(err.matches("note: skipped").count(), 3, "{command}: {err}");
        assert!(err.contains("note: skipped mesh/again"), "{command}: {err}");
        assert!(
            err.contains("note: skipped mesh/same.intent"),
            "{command}: {err}"
        );
    }
    let out = capped(&dir, &["check", "mesh"]);
    assert!(text(&out.stderr).contains("checked 1 file: 0 errors, 0 warnings"));
}

#[test]
fn a_file_with_carriage_return_line_ends_is_read_as_written() {
    // Once, `\r` did not end a `//` comment: this file was one comment, an empty mesh that
    // checked clean, built a plan with no agent and ran no test.
    let mesh = "// a mesh saved with old Mac line ends\rpackage demo\rcapability invoices.read\r\
                agent reader { provides invoices.read }\rintent read { requires invoices.read }\r\
                route read { otherwise => dispatch reader }\r\
                test \"reads\" { given { intent: read, confidence: 0.9 } expect dispatch reader }\r\
                human lead { channel \"slack:#lead\" }\r";
    let dir = workdir("cr", &[("m.intent", mesh)]);
    let out = capped(&dir, &["test", "."]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(all.contains("1 passed, 0 failed"), "{all}");
    // Positions count `\r` as a line end: the unused human is on line 8.
    let out = capped(&dir, &["check", "--format", "json", "."]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let unused = json
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "W0001")
        .unwrap();
    assert_eq!((&unused["line"], &unused["column"]), (&8.into(), &7.into()));
    // A mesh that declares nothing is said so.
    let dir = workdir("comments-only", &[("m.intent", "// nothing here\n")]);
    let out = capped(&dir, &["check", "."]);
    assert!(text(&out.stderr).contains("W0006"), "{}", text(&out.stderr));
}
