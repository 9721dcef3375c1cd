//! The VS Code grammar against its sample files (`editors/vscode/tests/*.intent`, scope
//! assertions checked by vscode-tmgrammar-test), so `cargo test` covers the editor support.
//! Needs Node: without `npx` on PATH the test says it is skipped (CI installs Node in
//! `.ci/run`). Without `node_modules` it runs `npm ci` first (the lock file pins the tools).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

fn available(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn vscode_grammar_passes_its_scope_assertions() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("editors/vscode");
    if !available("npx") || !available("npm") {
        eprintln!(
            "SKIPPED vscode_grammar_passes_its_scope_assertions: `npx`/`npm` not found \
             (install Node.js to run the TextMate grammar tests)"
        );
        return;
    }
    if !dir.join("node_modules/.bin/vscode-tmgrammar-test").exists() {
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`npm ci` in editors/vscode failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = Command::new("npx")
        .args([
            "--no-install",
            "vscode-tmgrammar-test",
            "-g",
            "syntaxes/intent.tmLanguage.json",
            "tests/*.intent",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "grammar assertions failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Both sample files ran (a glob that matched nothing would also exit 0).
    assert_eq!(stdout.matches("run successfuly").count(), 2, "{stdout}");
}
