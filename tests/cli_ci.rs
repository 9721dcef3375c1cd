//! The `intent` program as CI uses it (issue #16): `test --format json|github` and `--run`,
//! `check --deny-warnings`, `eval --fail-on` and `--request -`, `fmt --diff`, exit 2 for every
//! misuse, shell completions, `intent version`, help text for every argument.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{intent, root, text, workdir};
use std::io::Write as _;
use std::process::{Command, Stdio};

/// The finance example with one test broken: it expects a dispatch where a person is asked.
fn failing_finance(name: &str) -> std::path::PathBuf {
    let finance = std::fs::read_to_string(root().join("examples/finance/finance.intent")).unwrap();
    let broken = finance.replace(
        "expect escalate finance_lead",
        "expect dispatch finance_agent",
    );
    workdir(name, &[("finance.intent", &broken)])
}

/// A mesh with one warning (W0100, a dead arm) and no error.
const WARNING: &str = r#"package demo

capability invoices.read

context {
  channel: "web" | "api"
}

agent reader { provides invoices.read  trust 0.9 }

intent read_invoices { requires invoices.read }

route read_invoices {
  when confidence < 0.5 => clarify "Which invoices do you mean?"
  when confidence < 0.3 and channel == "web" => clarify "Please say it again"
  otherwise => dispatch reader
}
"#;

#[test]
fn test_format_json_is_one_document_with_every_test() {
    let dir = failing_finance("test-json");
    let out = intent(&dir, &["test", "--format", "json", "finance.intent"]);
    assert_eq!(out.status.code(), Some(1));
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["passed"], 3);
    assert_eq!(v["failed"], 1);
    assert_eq!(v["tests"].as_array().unwrap().len(), 4);
    // The failed test, without its decision (as data it repeats the trace).
    let failed = v["tests"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|t| t["passed"] == false)
        .unwrap();
    assert_eq!(failed["decision"]["outcome"], "escalate");
    failed.as_object_mut().unwrap().remove("decision");
    insta::assert_json_snapshot!("test_json_failed", failed);
}

#[test]
fn test_format_github_annotates_each_failed_test_at_its_block() {
    let dir = failing_finance("test-github");
    let out = intent(&dir, &["test", "--format", "github", "finance.intent"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let annotations: Vec<&str> = stdout.lines().filter(|l| l.starts_with("::")).collect();
    insta::assert_snapshot!("test_github_annotations", annotations.join("\n"));
    assert!(
        stdout.trim_end().ends_with("3 passed, 1 failed"),
        "{stdout}"
    );
}

#[test]
fn test_run_selects_tests_by_name_and_refuses_a_pattern_that_selects_none() {
    let dir = failing_finance("test-run");
    let out = intent(&dir, &["test", "--run", "EU personal", "finance.intent"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    insta::assert_snapshot!("test_run", text(&out.stdout));
    // A pattern that matches nothing would let CI pass without testing anything.
    let out = intent(&dir, &["test", "--run", "no such test", "finance.intent"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no test name contains `no such test`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_deny_warnings_fails_on_a_warning() {
    let dir = workdir("deny-warnings", &[("warn.intent", WARNING)]);
    let out = intent(&dir, &["check", "warn.intent"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("W0100"));
    let out = intent(&dir, &["check", "--deny-warnings", "warn.intent"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("warnings are denied"));
    let out = intent(&root(), &["check", "--deny-warnings", "examples/finance"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn eval_finance(extra: &[&str]) -> std::process::Output {
    let mut args = vec![
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
    ];
    args.extend_from_slice(extra);
    intent(&root(), &args)
}

#[test]
fn eval_fail_on_exits_one_for_a_listed_outcome_only() {
    // The request is planned: `plan` is listed, so exit 1; `deny,escalate` are not.
    let out = eval_finance(&["--fail-on", "deny,plan"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).starts_with("plan {"));
    let out = eval_finance(&["--fail-on", "deny,escalate"]);
    assert_eq!(out.status.code(), Some(0));
    let out = eval_finance(&["--fail-on", "deny", "--fail-on", "plan", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let out = eval_finance(&["--fail-on", "maybe"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("possible values"));
}

#[test]
fn eval_reads_the_request_from_standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_intent"))
        .args(["eval", "examples/finance", "--request", "-", "--json"])
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            br#"{"intent": "summarize_overdue_invoices", "confidence": 0.95, "channel": "web",
                 "subject": {"residency": "EU", "role": "analyst"}}"#,
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outcome"], "plan");
    assert_eq!(v["steps"][0]["agent"], "doc_parser_eu");
}

#[test]
fn fmt_diff_prints_a_unified_diff_and_changes_nothing() {
    let messy = "package demo\ncapability  invoices.read\nagent reader {provides invoices.read trust 0.9}\n";
    let dir = workdir("fmt-diff", &[("messy.intent", messy)]);
    let out = intent(&dir, &["fmt", "--diff", "messy.intent"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("fmt_diff", text(&out.stdout));
    assert_eq!(
        std::fs::read_to_string(dir.join("messy.intent")).unwrap(),
        messy
    );
    // The diff applies: after `intent fmt` there is nothing left to show.
    assert!(intent(&dir, &["fmt", "messy.intent"]).status.success());
    let out = intent(&dir, &["fmt", "--diff", "messy.intent"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "");
}

/// Every subcommand and the program itself exit 2 when used wrongly, as clap does.
#[test]
fn misuse_exits_two_for_every_command() {
    let mut problems = Vec::new();
    for sub in subcommands() {
        let out = intent(&root(), &[sub.as_str(), "--no-such-option"]);
        if out.status.code() != Some(2) {
            problems.push(format!("intent {sub} --no-such-option: {:?}", out.status));
        }
    }
    for args in [
        &[][..],
        &["no-such-command"][..],
        &["explain", "E9999"][..],
        &["eval", "--confidence", "high"][..],
        &["completions", "tcsh"][..],
        &["graph", "--format", "png"][..],
        &["fmt", "--check", "--diff"][..],
    ] {
        let out = intent(&root(), args);
        if out.status.code() != Some(2) {
            problems.push(format!("intent {}: {:?}", args.join(" "), out.status));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn completions_are_printed_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = intent(&root(), &["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        // Fish writes long options without their dashes (`-l deny-warnings`).
        for word in ["graph", "completions", "deny-warnings", "fail-on"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
}

#[test]
fn bash_completes_a_subcommand_with_the_generated_script() {
    let Some(bash) = common::tools::require_binary(
        "bash_completes_a_subcommand_with_the_generated_script",
        "bash",
        &["/bin", "/usr/bin"],
        "apt-get install bash",
    ) else {
        return;
    };
    let out = intent(&root(), &["completions", "bash"]);
    let dir = workdir("completions", &[("intent.bash", &text(&out.stdout))]);
    // What bash offers after `intent gr<TAB>`.
    let script = "source ./intent.bash; COMP_WORDS=(intent gr); COMP_CWORD=1; \
                  _intent intent gr intent; printf '%s\\n' \"${COMPREPLY[@]}\"";
    let out = Command::new(bash)
        .args(["-c", script])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout).trim(), "graph", "{}", text(&out.stderr));
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let out = intent(&root(), &["version"]);
    assert!(out.status.success());
    let shown = text(&out.stdout);
    let expected_commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| text(&o.stdout).trim().to_string());
    // From a source tarball (no git) the commit is `unknown` unless INTENT_COMMIT was set.
    let commit = expected_commit.unwrap_or_else(|| {
        std::env::var("INTENT_COMMIT").unwrap_or_else(|_| "unknown".to_string())
    });
    assert_eq!(
        shown.trim(),
        format!("intent {} (commit {commit})", env!("CARGO_PKG_VERSION"))
    );
    let out = intent(&root(), &["--version"]);
    assert_eq!(text(&out.stdout).trim(), shown.trim());
}

/// The subcommands `intent --help` lists.
fn subcommands() -> Vec<String> {
    let out = intent(&root(), &["--help"]);
    let help = text(&out.stdout);
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .filter(|s| s != "help")
        .collect()
}

/// Every argument and option of every subcommand says what it is for in `--help`.
#[test]
fn every_argument_has_help_text() {
    let mut problems = Vec::new();
    let subs = subcommands();
    assert!(subs.len() >= 13, "{subs:?}");
    for sub in &subs {
        let out = intent(&root(), &[sub.as_str(), "--help"]);
        let help = text(&out.stdout);
        let lines: Vec<&str> = help.lines().collect();
        let mut section = "";
        for (i, line) in lines.iter().enumerate() {
            if !line.starts_with(' ') && line.ends_with(':') {
                section = line;
                continue;
            }
            if !matches!(section, "Arguments:" | "Options:") {
                continue;
            }
            // An entry starts two spaces in; its help follows on the same line after two
            // spaces, or on the next, indented further.
            let entry = line.strip_prefix("  ").unwrap_or(line);
            if entry.starts_with(' ') || entry.is_empty() {
                continue;
            }
            let same_line = entry.trim_end().contains("  ");
            let next_line = lines
                .get(i + 1)
                .is_some_and(|n| n.starts_with("          ") && !n.trim().is_empty());
            if !same_line && !next_line {
                problems.push(format!("intent {sub}: `{}` has no help", entry.trim()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
