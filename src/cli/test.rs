//! `intent test`: runs the `test` blocks of each mesh, prints failures with the expected and
//! actual decision and the trace, and ends with `N passed, M failed`. With `--coverage`, also
//! what no test exercised, and a suggested `test` block for each route arm no test takes.

use super::{sources, OutputArgs};
use intent_compiler::analysis;
use intent_compiler::testing::{self, TestOutcome};
use intent_compiler::{compile, Stage};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(
    paths: &[PathBuf],
    junit: Option<&Path>,
    coverage: bool,
    out: OutputArgs,
) -> Result<ExitCode, String> {
    let meshes = sources::load_meshes(paths)?;
    let mut all: Vec<TestOutcome> = Vec::new();
    let mut broken = false;
    for mesh in &meshes {
        let c = compile(mesh, Stage::Check);
        if c.has_errors() {
            sources::report(&c, out);
            eprintln!("cannot run tests: {}", sources::summary([&c]));
            broken = true;
            continue;
        }
        let Some(plan) = &c.plan else { continue };
        let outcomes = testing::run(plan, &c.tests);
        for t in &outcomes {
            println!(
                "test {} ... {}",
                t.name,
                if t.passed() { "ok" } else { "FAILED" }
            );
        }
        if coverage {
            let missed = testing::coverage(plan, &outcomes);
            if missed.is_empty() {
                println!("coverage: every route arm, policy rule and review arm was exercised");
            } else {
                let n = missed.len();
                println!(
                    "coverage: {n} {} not exercised by any test:",
                    if n == 1 {
                        "arm or rule"
                    } else {
                        "arms and rules"
                    }
                );
                for m in &missed {
                    println!("  {}  ({})", m.what, m.at);
                }
            }
            // For each route arm no test takes: a request that takes it, confirmed on the
            // runtime, as a test block that passes when pasted into the mesh.
            let suggested = analysis::suggest_tests(plan, &outcomes);
            if !suggested.is_empty() {
                println!(
                    "coverage: {} to cover the rest (paste into the mesh):",
                    if suggested.len() == 1 {
                        "a suggested test"
                    } else {
                        "suggested tests"
                    }
                );
                for s in &suggested {
                    println!("\n// {} ({})", s.what, s.at);
                    println!("{}", s.test);
                }
            }
        }
        all.extend(outcomes);
    }
    let failed: Vec<&TestOutcome> = all.iter().filter(|t| !t.passed()).collect();
    if !failed.is_empty() {
        println!("\nfailures:");
        for t in &failed {
            println!("\n---- {} ({}) ----", t.name, t.location);
            for f in &t.failures {
                println!("  {f}");
            }
            println!("  actual: {}", testing::summary(&t.actual));
            println!("  trace:");
            for line in testing::trace_lines(&t.actual) {
                println!("    {line}");
            }
        }
    }
    if let Some(path) = junit {
        std::fs::write(path, junit_xml(&all))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    println!(
        "\n{} passed, {} failed",
        all.len() - failed.len(),
        failed.len()
    );
    Ok(if failed.is_empty() && !broken {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn junit_xml(tests: &[TestOutcome]) -> String {
    let failures = tests.iter().filter(|t| !t.passed()).count();
    let mut s = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"intent\" tests=\"{}\" failures=\"{failures}\">\n", tests.len());
    for t in tests {
        s.push_str(&format!(
            "  <testcase name=\"{}\" classname=\"{}\"",
            xml(&t.name),
            xml(&t.location)
        ));
        if t.passed() {
            s.push_str("/>\n");
        } else {
            s.push_str(&format!(
                ">\n    <failure message=\"{}\">{}</failure>\n  </testcase>\n",
                xml(&t.failures.join("; ")),
                xml(&testing::summary(&t.actual))
            ));
        }
    }
    s.push_str("</testsuite>\n");
    s
}
