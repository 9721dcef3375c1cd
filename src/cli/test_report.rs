//! How `intent test` reports: the failures for people, the coverage report, one JSON document
//! (`--format json`), GitHub Actions annotations for failed tests (`--format github`) and
//! JUnit XML (`--junit`).

use intent_compiler::analysis::Suggestion;
use intent_compiler::testing::{self, TestOutcome, Uncovered};
use intent_compiler::{render, Compilation};
use intent_runtime::plan::SourceLoc;
use serde_json::{json, Value};

/// A test that ran: where its block is, and what came of it.
pub struct Ran {
    pub source: SourceLoc,
    pub outcome: TestOutcome,
}

/// What no test of one mesh exercised, and the tests suggested to cover it.
pub struct Coverage {
    pub missed: Vec<Uncovered>,
    pub suggested: Vec<Suggestion>,
}

impl Coverage {
    pub fn print(&self) {
        if self.missed.is_empty() {
            println!("coverage: every route arm, policy rule and review arm was exercised");
        } else {
            let n = self.missed.len();
            println!(
                "coverage: {n} {} not exercised by any test:",
                if n == 1 {
                    "arm or rule"
                } else {
                    "arms and rules"
                }
            );
            for m in &self.missed {
                println!("  {}  ({})", m.what, m.at);
            }
        }
        // For each route arm no test takes: a request that takes it, confirmed on the runtime,
        // as a test block that passes when pasted into the mesh.
        if !self.suggested.is_empty() {
            println!(
                "coverage: {} to cover the rest (paste into the mesh):",
                if self.suggested.len() == 1 {
                    "a suggested test"
                } else {
                    "suggested tests"
                }
            );
            for s in &self.suggested {
                println!("\n// {} ({})", s.what, s.at);
                println!("{}", s.test);
            }
        }
    }

    fn json(&self) -> Value {
        json!({
            "not_exercised": self.missed.iter().map(|m| json!({"what": m.what, "at": m.at})).collect::<Vec<_>>(),
            "suggested": self.suggested.iter().map(|s| json!({"what": s.what, "at": s.at, "test": s.test})).collect::<Vec<_>>(),
        })
    }
}

/// Each failed test with what was expected, what happened and the trace.
pub fn print_failures(failed: &[&Ran]) {
    if failed.is_empty() {
        return;
    }
    println!("\nfailures:");
    for r in failed {
        let t = &r.outcome;
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

/// One `::error` workflow command per failed test, at its `test` block, titled with its name;
/// the message holds the failed expectations and the actual result.
pub fn github(failed: &[&Ran]) -> String {
    let mut out = String::new();
    for r in failed {
        let t = &r.outcome;
        let mut message = t.failures.join("\n");
        message.push_str("\nactual: ");
        message.push_str(&testing::summary(&t.actual));
        out.push_str(&format!(
            "::error file={},line={},col={},title={}::{}\n",
            property(&r.source.file),
            r.source.line,
            r.source.col,
            property(&format!("test {} failed", t.name)),
            data(&message)
        ));
    }
    out
}

/// Escapes a workflow command's message (GitHub's `escapeData`).
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (GitHub's `escapeProperty`).
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The whole run as one JSON document on stdout: every test (name, place, passed, the failed
/// expectations, the actual result in words and as data, the trace), the diagnostics of meshes
/// that could not run, the counts and, with `--coverage`, the coverage of each mesh.
pub fn print_json(
    ran: &[Ran],
    compilations: &[Compilation],
    coverage: &[Coverage],
    filtered: usize,
) {
    let failed = ran.iter().filter(|r| !r.outcome.passed()).count();
    let tests: Vec<Value> = ran
        .iter()
        .map(|r| {
            let t = &r.outcome;
            json!({
                "name": t.name,
                "file": r.source.file,
                "line": r.source.line,
                "column": r.source.col,
                "passed": t.passed(),
                "failures": t.failures,
                "actual": testing::summary(&t.actual),
                "decision": actual_json(&t.actual),
                "trace": testing::trace_lines(&t.actual),
            })
        })
        .collect();
    let diagnostics: Vec<Value> = compilations
        .iter()
        .flat_map(|c| {
            match serde_json::from_str::<Value>(&render::json(&c.diagnostics, &c.sources)) {
                Ok(Value::Array(a)) => a,
                _ => Vec::new(),
            }
        })
        .collect();
    let mut doc = json!({
        "passed": ran.len() - failed,
        "failed": failed,
        "filtered_out": filtered,
        "tests": tests,
        "diagnostics": diagnostics,
    });
    if let (Some(obj), false) = (doc.as_object_mut(), coverage.is_empty()) {
        obj.insert(
            "coverage".into(),
            Value::Array(coverage.iter().map(Coverage::json).collect()),
        );
    }
    println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
}

fn actual_json(actual: &testing::Actual) -> Value {
    match actual {
        testing::Actual::Decision(d) => serde_json::to_value(d).unwrap_or(Value::Null),
        testing::Actual::Verdict(v) => serde_json::to_value(v).unwrap_or(Value::Null),
        testing::Actual::Invalid(e) => json!({ "invalid": e }),
    }
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn junit_xml(tests: &[TestOutcome]) -> String {
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
