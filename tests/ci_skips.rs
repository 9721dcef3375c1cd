//! CI refuses silent skips (issue #16): an end-to-end test whose tool is missing says
//! `SKIPPED` and passes on a developer's machine, and fails under `CI=true`. The test runs
//! itself (this test binary, this one test) as a child that asks `tests/common/tools.rs` for a
//! tool no machine has, once with `CI=true` and once without.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::tools;
use std::process::Command;

const TEST: &str = "a_missing_tool_skips_on_a_laptop_and_fails_under_ci";
/// Set in the child: it is the test that needs the missing tool.
const CHILD: &str = "INTENT_CI_SKIPS_CHILD";

#[test]
fn a_missing_tool_skips_on_a_laptop_and_fails_under_ci() {
    if std::env::var_os(CHILD).is_some() {
        let found = tools::require_binary(
            TEST,
            "intent-tool-that-no-machine-has",
            &[],
            "nothing installs it",
        );
        assert!(found.is_none());
        return;
    }
    let run = |ci: Option<&str>| {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args(["--exact", TEST, "--nocapture", "--test-threads", "1"])
            .env(CHILD, "1")
            .env_remove("CI");
        if let Some(ci) = ci {
            command.env("CI", ci);
        }
        command.output().unwrap()
    };
    let laptop = run(None);
    let said = common::text(&laptop.stderr);
    assert!(laptop.status.success(), "{said}");
    assert!(
        said.contains(&format!(
            "SKIPPED {TEST}: `intent-tool-that-no-machine-has` is missing"
        )),
        "{said}"
    );
    let ci = run(Some("true"));
    let said = common::text(&ci.stderr) + &common::text(&ci.stdout);
    assert!(!ci.status.success(), "passed under CI=true:\n{said}");
    assert!(
        said.contains("under CI=true a missing tool fails the test instead of skipping it"),
        "{said}"
    );
    assert!(!said.contains("SKIPPED"), "{said}");
}
