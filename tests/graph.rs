//! `intent graph`: the DOT of every example is rendered by Graphviz's own `dot -Tsvg` (a
//! reader we did not write; `.ci/run` installs graphviz, and under `CI=true` a missing `dot`
//! fails the test), and the DOT and Mermaid of the finance example are pinned by snapshots.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{intent, root, text};
use std::io::Write as _;
use std::process::{Command, Stdio};

/// The example meshes (directories of `examples/` that hold `.intent` files).
fn examples() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_dir()
                && std::fs::read_dir(p)
                    .unwrap()
                    .any(|f| f.unwrap().path().extension().is_some_and(|x| x == "intent"))
        })
        .map(|p| format!("examples/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    out.sort();
    out
}

#[test]
fn graphviz_renders_the_dot_of_every_example() {
    let Some(dot) = common::tools::require_binary(
        "graphviz_renders_the_dot_of_every_example",
        "dot",
        &["/usr/bin", "/usr/local/bin"],
        "apt-get install graphviz",
    ) else {
        return;
    };
    let examples = examples();
    assert!(examples.len() >= 3, "{examples:?}");
    for example in &examples {
        let out = intent(&root(), &["graph", example]);
        assert!(out.status.success(), "{example}: {}", text(&out.stderr));
        let mut child = Command::new(&dot)
            .arg("-Tsvg")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&out.stdout).unwrap();
        let svg = child.wait_with_output().unwrap();
        let stderr = text(&svg.stderr);
        // `dot` exits 0 on some syntax errors, but says so on stderr.
        assert!(
            svg.status.success() && !stderr.contains("Error") && !stderr.contains("Warning"),
            "{example}: dot -Tsvg failed:\n{stderr}\n{}",
            text(&out.stdout)
        );
        let svg = text(&svg.stdout);
        assert!(svg.contains("<svg"), "{example}: {svg}");
        // Every agent of the mesh is drawn.
        let plan = common::workdir("graph-plan", &[]).join("plan.json");
        assert!(
            intent(&root(), &["build", example, "-o", plan.to_str().unwrap()])
                .status
                .success()
        );
        let plan: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
        for agent in plan["agents"].as_array().unwrap() {
            let name = agent["name"].as_str().unwrap();
            assert!(
                svg.contains(&format!(">{name}</text>")),
                "{example}: {name} not drawn"
            );
        }
    }
}

#[test]
fn graph_of_the_finance_example_as_dot_and_mermaid() {
    let out = intent(&root(), &["graph", "examples/finance"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    insta::assert_snapshot!("finance_dot", text(&out.stdout));
    let out = intent(
        &root(),
        &["graph", "--format", "mermaid", "examples/finance"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    insta::assert_snapshot!("finance_mermaid", text(&out.stdout));
}

#[test]
fn graph_reads_a_built_plan_too() {
    let plan = common::workdir("graph-from-plan", &[]).join("plan.json");
    assert!(intent(
        &root(),
        &["build", "examples/finance", "-o", plan.to_str().unwrap()]
    )
    .status
    .success());
    let from_plan = intent(&root(), &["graph", "--plan", plan.to_str().unwrap()]);
    let from_sources = intent(&root(), &["graph", "examples/finance"]);
    assert!(from_plan.status.success());
    assert_eq!(text(&from_plan.stdout), text(&from_sources.stdout));
}
