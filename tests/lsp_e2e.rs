//! Runs the end-to-end language server tests (`lsp/tests/e2e`, pytest-lsp) against the built
//! `intent` binary. The Python comes from `INTENT_TEST_PYTHON` (a venv with pytest-lsp; `.ci/run`
//! makes one) or `python3`; without pytest-lsp the test says it is skipped, except under
//! `CI=true`, where it fails (`tests/common/tools.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/tools.rs"]
mod tools;

use std::process::Command;

#[test]
fn pytest_lsp_suite_drives_intent_lsp_over_stdio() {
    let Some(python) = tools::require_python_module(
        "pytest_lsp_suite_drives_intent_lsp_over_stdio",
        "pytest_lsp",
        "pytest-lsp",
    ) else {
        return;
    };
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/lsp/tests/e2e");
    let out = Command::new(&python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", dir])
        .current_dir(dir)
        .env("INTENT_BIN", env!("CARGO_BIN_EXE_intent"))
        .output()
        .expect("run pytest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "pytest-lsp suite failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("passed"), "no test ran:\n{stdout}");
}
