//! Replays the golden decisions of `runtime/tests/golden/` with nothing but the runtime: each
//! mesh's plan, then its sequence of decisions, reviews and failure reports, in order and at
//! their times, comparing every answer (its whole JSON, trace included, by SHA-256) with the
//! one recorded. The files are made by the compiler-side test `tests/golden_corpus.rs`, which
//! also checks that they are current. This is the test that lets a change inside the engine
//! (or a mutant of it, `cargo mutants`) be judged by the runtime crate alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_runtime::{Engine, Request, Response};
use serde_json::Value;
use std::path::PathBuf;

#[path = "support/canonical.rs"]
mod canonical;
use canonical::digest;

/// Replays one mesh; returns the first answer that differs, described.
fn replay(plan: &str, ops: &str) -> Result<usize, String> {
    let engine = Engine::from_json(plan).map_err(|e| format!("plan refused: {e}"))?;
    let mut n = 0;
    for (i, line) in ops.lines().enumerate() {
        let op: Value = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        let at = op["at"].as_u64().unwrap();
        let actual = match op["op"].as_str().unwrap() {
            "decide" => {
                let req: Request = serde_json::from_value(op["request"].clone()).unwrap();
                serde_json::to_value(engine.decide_at(&req, at)).unwrap()
            }
            "review" => {
                let resp: Response = serde_json::from_value(op["response"].clone()).unwrap();
                serde_json::to_value(engine.review_at(&resp, at)).unwrap()
            }
            "failure" => {
                let opened = engine.report_failure(op["agent"].as_str().unwrap(), at);
                if Value::Bool(opened) != op["opened"] {
                    return Err(format!(
                        "line {}: failure report opened = {opened}, recorded {}",
                        i + 1,
                        op["opened"]
                    ));
                }
                n += 1;
                continue;
            }
            other => return Err(format!("line {}: unknown op {other}", i + 1)),
        };
        if digest(&actual) != op["sha256"] {
            return Err(format!(
                "line {}: {} of {}\n  recorded: {} {}\n  now:      {} {}\n  whole answer now: {actual}",
                i + 1,
                op["op"],
                op.get("request").or(op.get("response")).unwrap_or(&Value::Null),
                op["outcome"],
                op["reason"],
                actual["outcome"],
                actual.get("reason").unwrap_or(&Value::Null),
            ));
        }
        n += 1;
    }
    Ok(n)
}

#[test]
fn the_engine_gives_the_recorded_answers() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut plans: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".plan.json"))
        .collect();
    plans.sort();
    assert!(
        plans.len() >= 7,
        "golden plans missing in {}",
        dir.display()
    );
    let mut total = 0;
    let mut failures = Vec::new();
    for plan in plans {
        let ops = PathBuf::from(plan.to_string_lossy().replace(".plan.json", ".ops.jsonl"));
        match replay(
            &std::fs::read_to_string(&plan).unwrap(),
            &std::fs::read_to_string(&ops).unwrap(),
        ) {
            Ok(n) => total += n,
            Err(e) => failures.push(format!("{}: {e}", ops.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(total >= 2_000, "only {total} answers replayed");
}

/// The same sequence twice on one engine is not the same as once: the state (limits, breakers)
/// carries over, so the replay above really exercises it.
#[test]
fn the_sequence_depends_on_the_state() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let plan = std::fs::read_to_string(dir.join("fleet.plan.json")).unwrap();
    let ops = std::fs::read_to_string(dir.join("fleet.ops.jsonl")).unwrap();
    let throttles = ops
        .lines()
        .filter(|l| l.contains(r#""outcome":"throttle""#))
        .count();
    assert!(throttles > 0, "the fleet sequence never reaches a limit");
    assert!(replay(&plan, &ops).is_ok());
}
