//! `intent check --format sarif` against the SARIF 2.1.0 JSON schema
//! (`tests/fixtures/sarif/`, where its source is noted), validated by the Python `jsonschema`
//! package, a validator we did not write (`.ci/run` installs it in a venv and names it with
//! INTENT_TEST_PYTHON; under `CI=true` a missing one fails the test).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{intent, root, text, workdir};
use std::process::Command;

const BAD: &str =
    "package demo\ncapability invoices.read\nagent reader { provides invoices.reed }\n";

const VALIDATE: &str = r#"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
log = json.load(open(sys.argv[2]))
jsonschema.Draft7Validator.check_schema(schema)
errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(log), key=str)
for e in errors:
    print(f"{list(e.absolute_path)}: {e.message}")
print(f"{len(errors)} errors")
"#;

/// The schema's errors about `log` (an empty list when it is valid), or `None` when no
/// validator is installed (outside CI).
fn schema_errors(log: &str) -> Option<Vec<String>> {
    let python = common::tools::require_python_module(
        "sarif_logs_are_valid_sarif_2_1_0",
        "jsonschema",
        "jsonschema",
    )?;
    let dir = workdir("sarif-validate", &[("log.sarif", log)]);
    let schema = root().join("tests/fixtures/sarif/sarif-schema-2.1.0.json");
    let out = Command::new(python)
        .arg("-c")
        .arg(VALIDATE)
        .arg(schema)
        .arg(dir.join("log.sarif"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    let mut lines: Vec<String> = shown.lines().map(String::from).collect();
    let last = lines.pop().unwrap();
    assert_eq!(last, format!("{} errors", lines.len()));
    Some(lines)
}

#[test]
fn sarif_logs_are_valid_sarif_2_1_0() {
    let dir = workdir("sarif", &[("bad.intent", BAD)]);
    let bad = intent(&dir, &["check", "--format", "sarif", "bad.intent"]);
    assert_eq!(bad.status.code(), Some(1));
    let clean = intent(
        &root(),
        &[
            "check",
            "--format",
            "sarif",
            "examples/finance",
            "examples/logistics",
        ],
    );
    assert!(clean.status.success(), "{}", text(&clean.stderr));
    for (what, out) in [("errors", &bad), ("no problems", &clean)] {
        let log = text(&out.stdout);
        let v: serde_json::Value = serde_json::from_str(&log).unwrap();
        assert_eq!(v["version"], "2.1.0");
        assert_eq!(v["runs"][0]["tool"]["driver"]["name"], "intent");
        if let Some(errors) = schema_errors(&log) {
            assert!(
                errors.is_empty(),
                "{what}: not valid SARIF 2.1.0:\n{}",
                errors.join("\n")
            );
        }
    }
    // The validator does find faults: a result without its message is refused.
    let mut broken: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    broken["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    if let Some(errors) = schema_errors(&broken.to_string()) {
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("'message' is a required property"),
            "{errors:?}"
        );
    }
}

#[test]
fn sarif_names_the_rule_place_and_help_of_each_diagnostic() {
    let dir = workdir("sarif-shape", &[("bad.intent", BAD)]);
    let out = intent(&dir, &["check", "--format", "sarif", "bad.intent"]);
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The version carries the commit, which changes with every commit.
    v["runs"][0]["tool"]["driver"]["version"] = "VERSION".into();
    // The rule's full explanation is the long text of `intent explain`: checked, not pinned.
    let rules = v["runs"][0]["tool"]["driver"]["rules"]
        .as_array_mut()
        .unwrap();
    for r in rules.iter_mut() {
        let full = r["fullDescription"]["text"].as_str().unwrap();
        assert!(
            full.starts_with(&format!("# {}", r["id"].as_str().unwrap())),
            "{full}"
        );
        r["fullDescription"]["text"] = "EXPLANATION".into();
    }
    insta::assert_json_snapshot!("sarif_bad", v);
}
