//! Runs the end-to-end language server tests (`lsp/tests/e2e`, pytest-lsp) against the built
//! `intent` binary. The Python comes from `INTENT_LSP_PYTHON` (a venv with pytest-lsp; `.ci/run`
//! makes one) or `python3`; without pytest-lsp the test says so and passes, so that `cargo
//! test` works on a machine without it. CI installs it, so there it really runs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

#[test]
fn pytest_lsp_suite_drives_intent_lsp_over_stdio() {
    let python = std::env::var("INTENT_LSP_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_pytest_lsp = Command::new(&python)
        .args(["-c", "import pytest_lsp"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_pytest_lsp {
        eprintln!(
            "SKIPPED: `{python}` cannot import pytest_lsp; install it (pip install pytest-lsp) \
             or set INTENT_LSP_PYTHON to a Python that has it, to run the LSP end-to-end tests"
        );
        return;
    }
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
