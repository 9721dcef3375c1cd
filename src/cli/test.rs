//! `intent test`: runs the `test` blocks of each mesh (`--run PATTERN`: those whose name
//! contains it), prints failures with the expected and actual decision and the trace, and ends
//! with `N passed, M failed`. With `--coverage`, also what no test exercised, and a suggested
//! `test` block for each route arm no test takes. `--format json` prints one JSON document
//! instead; `--format github` adds workflow annotations for failed tests and diagnostics
//! (`test_report.rs`).

use super::test_report::{self, Ran};
use super::{sources, Color, Format, OutputArgs};
use clap::ValueEnum;
use intent_compiler::analysis;
use intent_compiler::testing::{self, TestOutcome};
use intent_compiler::{compile, Compilation, Stage};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// How `intent test` prints its results.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// Text for people; diagnostics on stderr
    Human,
    /// One JSON document on stdout: every test, diagnostics, counts
    Json,
    /// The text for people, plus a GitHub Actions `::error` annotation per failed test and
    /// per diagnostic
    Github,
}

pub struct TestArgs<'a> {
    pub paths: &'a [PathBuf],
    pub run: Option<&'a str>,
    pub junit: Option<&'a Path>,
    pub coverage: bool,
    pub format: TestFormat,
    pub color: Color,
}

pub fn run(a: TestArgs<'_>) -> Result<ExitCode, String> {
    let meshes = sources::load_meshes(a.paths)?;
    let human = a.format != TestFormat::Json;
    let mut ran: Vec<Ran> = Vec::new();
    let mut compilations: Vec<Compilation> = Vec::new();
    let mut coverage = Vec::new();
    let mut broken = false;
    let mut filtered_out = 0;
    for mesh in &meshes {
        let c = compile(mesh, Stage::Check);
        if c.has_errors() {
            broken = true;
            match a.format {
                TestFormat::Human => sources::report(&c, diagnostics_args(Format::Human, a.color)),
                TestFormat::Github => {
                    sources::report(&c, diagnostics_args(Format::Github, a.color));
                }
                TestFormat::Json => {}
            }
            eprintln!("cannot run tests: {}", sources::summary([&c]));
            compilations.push(c);
            continue;
        }
        let Some(plan) = &c.plan else { continue };
        let (cases, skipped): (Vec<_>, Vec<_>) = c
            .tests
            .iter()
            .cloned()
            .partition(|t| a.run.is_none_or(|p| t.name.contains(p)));
        filtered_out += skipped.len();
        let outcomes = testing::run(plan, &cases);
        if human {
            for t in &outcomes {
                println!(
                    "test {} ... {}",
                    t.name,
                    if t.passed() { "ok" } else { "FAILED" }
                );
            }
        }
        if a.coverage {
            let report = test_report::Coverage {
                missed: testing::coverage(plan, &outcomes),
                suggested: analysis::suggest_tests(plan, &outcomes),
            };
            if human {
                report.print();
            }
            coverage.push(report);
        }
        ran.extend(cases.into_iter().zip(outcomes).map(|(case, outcome)| Ran {
            source: case.source,
            outcome,
        }));
        compilations.push(c);
    }
    let failed: Vec<&Ran> = ran.iter().filter(|r| !r.outcome.passed()).collect();
    if let Some(path) = a.junit {
        let all: Vec<TestOutcome> = ran.iter().map(|r| r.outcome.clone()).collect();
        std::fs::write(path, test_report::junit_xml(&all))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let no_match = a.run.filter(|_| ran.is_empty() && !broken);
    match a.format {
        TestFormat::Json => test_report::print_json(&ran, &compilations, &coverage, filtered_out),
        TestFormat::Human | TestFormat::Github => {
            test_report::print_failures(&failed);
            if a.format == TestFormat::Github {
                print!("{}", test_report::github(&failed));
            }
            if let Some(pattern) = a.run.filter(|_| filtered_out > 0) {
                println!(
                    "\n{} filtered out: the name does not contain `{pattern}`",
                    sources::plural(filtered_out, "test")
                );
            }
            println!(
                "\n{} passed, {} failed",
                ran.len() - failed.len(),
                failed.len()
            );
        }
    }
    if let Some(pattern) = no_match {
        // A pattern that selects nothing would make a CI step pass without testing anything.
        eprintln!("error: no test name contains `{pattern}`");
        return Ok(ExitCode::FAILURE);
    }
    Ok(if failed.is_empty() && !broken {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn diagnostics_args(format: Format, color: Color) -> OutputArgs {
    OutputArgs { format, color }
}
