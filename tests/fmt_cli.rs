//! `intent fmt` end to end: `--check` exit codes and the files it lists, rewriting in place,
//! refusing (exit 1, file untouched) what does not parse, and `--stdin`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{intent, text, workdir};

use std::io::Write;
use std::process::{Command, Stdio};

const FORMATTED: &str = "capability a.read\n\nagent a { provides a.read  trust 0.9 }\n";
const MESSY: &str = "capability   a.read\nagent b {provides a.read\n trust 0.9}\n";
const BROKEN: &str = "agent c { provides }\n";

#[test]
fn check_exits_zero_when_everything_is_formatted() {
    let dir = workdir("clean", &[("a.intent", FORMATTED)]);
    let out = intent(&dir, &["fmt", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn check_lists_unformatted_files_exits_one_and_changes_nothing() {
    let dir = workdir("messy", &[("a.intent", FORMATTED), ("b.intent", MESSY)]);
    let out = intent(&dir, &["fmt", "--check", "."]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(format!(
        "stdout:\n{}stderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    ));
    assert_eq!(
        std::fs::read_to_string(dir.join("b.intent")).unwrap(),
        MESSY
    );
}

#[test]
fn fmt_rewrites_in_place_then_check_passes() {
    let dir = workdir("rewrite", &[("b.intent", MESSY)]);
    let out = intent(&dir, &["fmt", "b.intent"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(dir.join("b.intent")).unwrap(),
        "capability a.read\nagent b {\n  provides a.read\n  trust    0.9\n}\n"
    );
    let out = intent(&dir, &["fmt", "--check", "b.intent"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn unparseable_files_exit_one_with_diagnostics_and_are_left_alone() {
    let dir = workdir("broken", &[("c.intent", BROKEN), ("b.intent", MESSY)]);
    let out = intent(&dir, &["fmt"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("E0001") && stderr.contains("c.intent"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("c.intent")).unwrap(),
        BROKEN
    );
    // The other file is still formatted.
    assert_ne!(
        std::fs::read_to_string(dir.join("b.intent")).unwrap(),
        MESSY
    );
    let out = intent(&dir, &["fmt", "--check"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn stdin_formats_to_stdout() {
    let dir = workdir("stdin", &[]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_intent"))
        .args(["fmt", "--stdin"])
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(MESSY.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "capability a.read\nagent b {\n  provides a.read\n  trust    0.9\n}\n"
    );
}

#[test]
fn missing_path_is_an_error() {
    let dir = workdir("missing", &[]);
    let out = intent(&dir, &["fmt", "nope.intent"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("nope.intent"));
}
