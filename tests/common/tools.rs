//! The external tools that end-to-end tests drive (nginx, redis-server, Graphviz's `dot`,
//! Node, Neovim, Python and its packages), found in one place, and the one rule for a tool
//! that is missing: on a developer's machine the test says `SKIPPED` and passes, so `cargo
//! test` works without them; under `CI=true` (where `.ci/run` installs every one of them) the
//! test fails, so a green CI never hides a test that did not run.
//!
//! Included by path (`#[path = "common/tools.rs"] mod tools;`) by every test that needs a tool,
//! and as `common::tools` by the tests that use `common`.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// True when the tests run in CI (`CI=true`, as `.ci/run` is started).
pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// A tool the test needs is missing: under `CI=true` this fails the test; elsewhere it says
/// the test is skipped, and the caller returns. `install` says how to get the tool.
pub fn missing(test: &str, tool: &str, install: &str) {
    assert!(
        !in_ci(),
        "{test}: {tool} is missing; under CI=true a missing tool fails the test instead of \
         skipping it ({install}; .ci/run installs it)"
    );
    eprintln!("SKIPPED {test}: {tool} is missing ({install}); under CI=true this test fails");
}

/// A program on `PATH` or in one of `also` (Debian puts some in sbin directories that a test's
/// `PATH` may lack).
pub fn system_binary(name: &str, also: &[&str]) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(also.iter().map(PathBuf::from));
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// [`system_binary`], or [`missing`] (which fails under CI) and `None`.
pub fn require_binary(test: &str, name: &str, also: &[&str], install: &str) -> Option<PathBuf> {
    let found = system_binary(name, also);
    if found.is_none() {
        missing(test, &format!("`{name}`"), install);
    }
    found
}

/// True when `tool --version` runs and succeeds.
pub fn runs(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The Python that can import `module` (from the PyPI package `package`): `INTENT_TEST_PYTHON`
/// (the venv `.ci/run` makes), else `python3`; or [`missing`] (which fails under CI) and `None`.
pub fn require_python_module(test: &str, module: &str, package: &str) -> Option<String> {
    let python = std::env::var("INTENT_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Some(python)
    } else {
        missing(
            test,
            &format!("the Python module `{module}` (for `{python}`)"),
            &format!("pip install {package} in a venv and set INTENT_TEST_PYTHON to its python"),
        );
        None
    }
}
