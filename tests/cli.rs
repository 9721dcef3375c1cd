//! End-to-end tests of the `intent` program: exit codes, output formats, files written.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{intent, root, text, workdir};

const BAD: &str =
    "package demo\ncapability invoices.read\nagent reader { provides invoices.reed }\n";

#[test]
fn check_examples_exits_zero() {
    let out = intent(
        &root(),
        &[
            "check",
            "examples/finance",
            "examples/logistics",
            "examples/healthcare",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr).trim(),
        "checked 3 files in 3 meshes: 0 errors, 0 warnings"
    );
}

/// The README's first command passes `examples/*`: every entry of `examples/`, including the
/// README and the Rust gateway example, which hold no mesh and are skipped.
#[test]
fn readme_glob_over_examples_checks_and_tests_every_mesh() {
    let mut entries: Vec<String> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| format!("examples/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    entries.sort();
    assert!(entries.contains(&"examples/gateway".to_string()));
    for command in ["check", "test"] {
        let mut args = vec![command];
        args.extend(entries.iter().map(String::as_str));
        let out = intent(&root(), &args);
        assert!(
            out.status.success(),
            "intent {command} examples/*: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
    // Alone, a directory without a mesh is still an error.
    let out = intent(&root(), &["check", "examples/gateway"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no .intent files found in examples/gateway"));
}

#[test]
fn check_reports_errors_with_location_and_exits_one() {
    let dir = workdir("bad", &[("bad.intent", BAD)]);
    let out = intent(&dir, &["check", "bad.intent"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("check_human", text(&out.stderr));
}

#[test]
fn check_json_and_github_formats() {
    let dir = workdir("formats", &[("bad.intent", BAD)]);
    let out = intent(&dir, &["check", "--format", "json", "bad.intent"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    insta::assert_json_snapshot!("check_json", v);
    let out = intent(&dir, &["check", "--format", "github", "bad.intent"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("check_github", text(&out.stdout));
}

#[test]
fn bad_bytes_get_exit_one_and_a_location() {
    let deep = format!(
        "package q\nconst x = {}1{}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let dir = workdir("bytes", &[("deep.intent", &deep)]);
    std::fs::write(dir.join("bin.intent"), b"package p\n\xff\xfe\x00agent").unwrap();
    let out = intent(&dir, &["check", "."]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("bin.intent:2:1") && err.contains("[E0002]"),
        "{err}"
    );
    assert!(
        err.contains("deep.intent:2:") && err.contains("[E0006]"),
        "{err}"
    );
}

#[test]
fn build_writes_a_plan_and_refuses_bad_sources() {
    let dir = workdir("build", &[("bad.intent", BAD)]);
    let plan = dir.join("plan.json");
    let out = intent(
        &root(),
        &["build", "examples/finance", "-o", plan.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    assert_eq!(json["format"], 1);
    assert_eq!(json["plan_hash"].as_str().unwrap().len(), 64);
    assert!(json["cedar"]["policies"]
        .as_str()
        .unwrap()
        .contains("forbid"));
    let bad_plan = dir.join("bad-plan.json");
    let out = intent(
        &dir,
        &["build", "bad.intent", "-o", bad_plan.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!bad_plan.exists());
}

#[test]
fn explain_prints_codes() {
    let out = intent(&root(), &["explain", "e0101"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).starts_with("# E0101"));
    // An unknown code is a bad argument: exit 2, as for any misuse.
    let out = intent(&root(), &["explain", "E9999"]);
    assert_eq!(out.status.code(), Some(2));
    let out = intent(&root(), &["explain"]);
    assert!(text(&out.stdout).lines().count() >= 40);
}

#[test]
fn missing_path_is_an_io_error() {
    let out = intent(&root(), &["check", "no/such/dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no such file or directory"));
}

#[test]
fn test_runs_every_example_and_reports_counts() {
    let out = intent(
        &root(),
        &[
            "test",
            "examples/finance",
            "examples/logistics",
            "examples/healthcare",
        ],
    );
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout)
            .trim_end()
            .ends_with("29 passed, 0 failed"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_failing_test_shows_expected_actual_and_trace() {
    let finance = std::fs::read_to_string(root().join("examples/finance/finance.intent")).unwrap();
    let broken = finance.replace(
        "expect escalate finance_lead",
        "expect dispatch finance_agent",
    );
    let dir = workdir("failing", &[("finance.intent", &broken)]);
    let junit = dir.join("junit.xml");
    let out = intent(
        &dir,
        &[
            "test",
            "--coverage",
            "--junit",
            junit.to_str().unwrap(),
            "finance.intent",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("test_failure", text(&out.stdout));
    assert!(std::fs::read_to_string(&junit)
        .unwrap()
        .contains("<failure"));
}

#[test]
fn eval_decides_from_text_and_context() {
    let out = intent(
        &root(),
        &[
            "eval",
            "examples/finance",
            "--intent",
            "summarize_overdue_invoices",
            "--confidence",
            "0.95",
            "--context",
            "subject.residency=EU",
            "--context",
            "subject.role=analyst",
            "--context",
            "channel=web",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outcome"], "plan");
    assert_eq!(v["steps"][0]["agent"], "doc_parser_eu");
    let plan = workdir("eval", &[]).join("plan.json");
    assert!(intent(
        &root(),
        &["build", "examples/finance", "-o", plan.to_str().unwrap()]
    )
    .status
    .success());
    let out = intent(
        &root(),
        &[
            "eval",
            "--plan",
            plan.to_str().unwrap(),
            "--text",
            "which invoices are late?",
            "--context",
            "subject.residency=US",
            "--context",
            "subject.role=analyst",
            "--context",
            "channel=api",
            "--explain",
        ],
    );
    assert!(out.status.success());
    let shown = text(&out.stdout);
    assert!(
        shown.contains("[intent summarize_overdue_invoices]") && shown.contains("classifier"),
        "{shown}"
    );
}
