//! Fuzz target: the decision-log reader of `intent replay`. The input is a log: lines of raw
//! bytes, or records shaped as `LogRecord`s (a request with words the mesh knows, a time, an
//! outcome), joined by newlines and replayed on the sidecar mesh's plan. Nothing may panic, and
//! the report accounts for every non-blank line: a record or a bad line.
#![no_main]

use intent_fuzz::{mesh_plan, Json, Word};
use intent_runtime::explore::replay;
use intent_runtime::Engine;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

#[derive(Arbitrary, Debug)]
enum Outcome {
    Dispatch,
    Plan,
    Escalate,
    Clarify,
    Deny,
    Throttle,
    Other(Word),
}

#[derive(Arbitrary, Debug)]
enum Line {
    Raw(Vec<u8>),
    Record {
        at_ms: u64,
        intent: Word,
        confidence: Json,
        context: Vec<(Word, Json)>,
        outcome: Outcome,
        steps: Vec<Word>,
        human: Option<Word>,
    },
    Blank,
}

fn record(line: &Line) -> Vec<u8> {
    match line {
        Line::Raw(b) => b.iter().copied().filter(|b| *b != b'\n').collect(),
        Line::Blank => Vec::new(),
        Line::Record { at_ms, intent, confidence, context, outcome, steps, human } => {
            let mut request = json!({ "intent": intent.text(), "confidence": confidence.value() });
            if let Some(o) = request.as_object_mut() {
                for (k, v) in context {
                    o.insert(k.text().to_string(), v.value());
                }
            }
            let outcome = match outcome {
                Outcome::Dispatch => "dispatch",
                Outcome::Plan => "plan",
                Outcome::Escalate => "escalate",
                Outcome::Clarify => "clarify",
                Outcome::Deny => "deny",
                Outcome::Throttle => "throttle",
                Outcome::Other(w) => w.text(),
            };
            let mut r = json!({
                "at_ms": at_ms,
                "decision_id": format!("{at_ms:x}-0"),
                "plan_hash": "x",
                "request": request,
                "outcome": outcome,
                "steps": steps.iter().map(Word::text).collect::<Vec<_>>(),
            });
            if let (Some(h), Some(o)) = (human, r.as_object_mut()) {
                o.insert("human".into(), Value::String(h.text().to_string()));
            }
            r.to_string().into_bytes()
        }
    }
}

fuzz_target!(|lines: Vec<Line>| {
    let mut log = Vec::new();
    for l in &lines {
        log.extend(record(l));
        log.push(b'\n');
    }
    // A fresh engine per log: a replay's rate limits count that log's traffic only.
    let engine = match Engine::from_plan(mesh_plan().clone()) {
        Ok(e) => e,
        Err(e) => panic!("the mesh's plan does not load: {e}"),
    };
    let r = replay(&engine, &log);
    // Every line is a record, a bad line or blank (whitespace only, as UTF-8).
    let counted = log
        .split(|b| *b == b'\n')
        .filter(|l| std::str::from_utf8(l).map_or(true, |t| !t.trim().is_empty()))
        .count() as u64;
    assert_eq!(r.records + r.bad_lines.len() as u64, counted);
    assert!(r.changed_records <= r.records);
});
