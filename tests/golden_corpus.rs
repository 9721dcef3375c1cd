//! The golden decisions of the runtime (`runtime/tests/golden/`): for each mesh below, its
//! plan and a long, deterministic sequence of decisions, reviews and failure reports made from
//! the mesh's own `test` blocks and variations of them (every confidence band, every intent,
//! each context field removed, changed or mistyped, lineages, free text, time passing, limits
//! exhausted, breakers opened and closed). `runtime/tests/golden.rs` replays them with nothing
//! but the runtime, so the runtime's own tests (and cargo-mutants on it) see the whole
//! behaviour of the engine without rebuilding the compiler.
//!
//! This test fails when the files are not what the engine answers today; after a deliberate
//! change of behaviour, `INTENT_BLESS=1 cargo test --test golden_corpus` rewrites them (review
//! the diff of the `outcome`/`reason` columns before committing).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_compiler::{compile, Source, Stage};
use intent_runtime::{Engine, Request, Response};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[path = "../runtime/tests/support/canonical.rs"]
mod canonical;
use canonical::digest;

const MESHES: [(&str, &str); 7] = [
    ("guards", "tests/semantics/guards.intent"),
    ("filling", "tests/semantics/filling.intent"),
    ("finance", "examples/finance/finance.intent"),
    ("logistics", "examples/logistics/logistics.intent"),
    ("healthcare", "examples/healthcare/healthcare.intent"),
    ("serve", "tests/serve/mesh.intent"),
    ("fleet", "tests/serve/fleet.intent"),
];

const CONFIDENCES: [f64; 12] = [
    0.0, 0.3, 0.5, 0.59, 0.6, 0.7, 0.75, 0.79, 0.8, 0.85, 0.95, 1.0,
];
const RESERVED: [&str; 6] = [
    "intent",
    "confidence",
    "text",
    "caller",
    "agent",
    "response",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One step of the sequence, with the engine's answer to it.
struct Recorder {
    engine: Engine,
    now: u64,
    lines: Vec<String>,
}

impl Recorder {
    fn decide(&mut self, request: &Value) {
        self.now += 37;
        let Ok(req) = serde_json::from_value::<Request>(request.clone()) else {
            return;
        };
        let d = serde_json::to_value(self.engine.decide_at(&req, self.now)).unwrap();
        self.push(json!({
            "op": "decide", "at": self.now, "request": request,
            "outcome": d["outcome"], "reason": d.get("reason"), "sha256": digest(&d),
        }));
    }

    fn review(&mut self, response: &Value) {
        self.now += 37;
        let Ok(resp) = serde_json::from_value::<Response>(response.clone()) else {
            return;
        };
        let v = serde_json::to_value(self.engine.review_at(&resp, self.now)).unwrap();
        self.push(json!({
            "op": "review", "at": self.now, "response": response,
            "outcome": v["outcome"], "reason": v.get("reason"), "sha256": digest(&v),
        }));
    }

    fn failure(&mut self, agent: &str) {
        self.now += 37;
        let opened = self.engine.report_failure(agent, self.now);
        self.push(json!({"op": "failure", "at": self.now, "agent": agent, "opened": opened}));
    }

    fn wait(&mut self, ms: u64) {
        self.now += ms;
    }

    fn push(&mut self, v: Value) {
        self.lines.push(serde_json::to_string(&v).unwrap());
    }
}

/// Every value a context field takes in the mesh's tests, by field name.
fn values_seen(givens: &[Map<String, Value>]) -> Vec<(String, Vec<Value>)> {
    let mut keys = BTreeSet::new();
    for g in givens {
        keys.extend(
            g.keys()
                .filter(|k| !RESERVED.contains(&k.as_str()))
                .cloned(),
        );
    }
    keys.into_iter()
        .map(|k| {
            let mut vals: Vec<Value> = Vec::new();
            for g in givens {
                if let Some(v) = g.get(&k) {
                    if !vals.contains(v) {
                        vals.push(v.clone());
                    }
                }
            }
            (k, vals)
        })
        .collect()
}

/// A field's value changed in the ways that cross conditions: other values seen, edges of
/// numbers, wrong types.
fn variations(v: &Value, seen: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = seen.iter().filter(|s| *s != v).cloned().collect();
    match v {
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            for y in [0.0, x - 1.0, x + 1.0, x * 10.0, -1.0, 1e12] {
                out.push(json!(y));
            }
            out.push(json!("12"));
        }
        Value::String(_) => {
            out.push(json!("zz-unknown"));
            out.push(json!(7));
        }
        Value::Bool(b) => {
            out.push(json!(!b));
            out.push(json!("true"));
        }
        Value::Array(a) => {
            out.push(json!([]));
            if let Some(first) = a.first() {
                out.push(json!([first]));
            }
            out.push(json!("x"));
        }
        Value::Object(_) => {
            out.push(json!({}));
            out.push(json!(1));
        }
        Value::Null => out.push(json!(0)),
    }
    out
}

fn corpus(path: &str) -> (String, String) {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    let c = compile(&[Source::new(path, text)], Stage::Build);
    assert!(!c.has_errors(), "{path} does not build");
    let plan = c.plan.clone().unwrap();
    let plan_json = serde_json::to_string_pretty(&plan).unwrap();
    let intents: Vec<String> = plan.intents.iter().map(|i| i.name.clone()).collect();
    let agents: Vec<String> = plan.agents.iter().map(|a| a.name.clone()).collect();
    let humans: Vec<String> = plan.humans.iter().map(|h| h.name.clone()).collect();
    let classes: Vec<String> = plan.data_classes.iter().map(|d| d.name.clone()).collect();
    let examples: Vec<String> = plan
        .intents
        .iter()
        .flat_map(|i| i.examples.iter().take(2).cloned())
        .collect();
    let mut rec = Recorder {
        engine: Engine::from_plan(plan).unwrap(),
        now: 1_000_000,
        lines: Vec::new(),
    };
    let givens: Vec<Map<String, Value>> = c
        .tests
        .iter()
        .filter_map(|t| t.given.as_object().cloned())
        .collect();
    let (reviews, decisions): (Vec<_>, Vec<_>) = givens
        .iter()
        .cloned()
        .partition(|g| g.contains_key("response"));
    let seen = values_seen(&decisions);

    for g in &decisions {
        let base = Value::Object(g.clone());
        rec.decide(&base);
        for c in CONFIDENCES {
            let mut r = g.clone();
            r.insert("confidence".into(), json!(c));
            rec.decide(&Value::Object(r));
        }
        for i in &intents {
            let mut r = g.clone();
            r.insert("intent".into(), json!(i));
            r.insert("confidence".into(), json!(0.9));
            rec.decide(&Value::Object(r));
        }
        for (k, vals) in &seen {
            let mut r = g.clone();
            if r.remove(k).is_some() {
                rec.decide(&Value::Object(r.clone()));
            }
            let current = g.get(k).cloned().unwrap_or_else(|| vals[0].clone());
            for v in variations(&current, vals) {
                r.insert(k.clone(), v);
                rec.decide(&Value::Object(r.clone()));
            }
        }
        let intent = g
            .get("intent")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut lineages: Vec<Vec<String>> =
            vec![vec![], vec![intent.clone()], vec!["no_such_intent".into()]];
        lineages.extend(intents.iter().map(|i| vec![i.clone()]));
        lineages.push(intents.iter().take(4).cloned().collect());
        for lineage in lineages {
            for agent in [None, agents.first().cloned(), Some("stranger".to_string())] {
                let mut r = g.clone();
                r.insert("caller".into(), json!({"agent": agent, "lineage": lineage}));
                rec.decide(&Value::Object(r));
            }
        }
    }
    // Free text through the built-in classifier: the examples, a typo, and off-topic text.
    let context: Map<String, Value> = decisions
        .first()
        .map(|g| {
            g.iter()
                .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    for text in examples
        .iter()
        .cloned()
        .chain(["what is the weather in paris".to_string(), String::new()])
    {
        let mut r = context.clone();
        r.insert("text".into(), json!(text));
        rec.decide(&Value::Object(r));
    }
    // Limits: the sure requests again and again, then time passing, then again.
    for _ in 0..3 {
        for _ in 0..40 {
            for g in &decisions {
                rec.decide(&Value::Object(g.clone()));
            }
        }
        rec.wait(2_500);
        for g in &decisions {
            rec.decide(&Value::Object(g.clone()));
        }
        rec.wait(61_000);
    }
    // Breakers: failures on every agent, decisions, then the cooldown passing.
    for a in &agents {
        for _ in 0..4 {
            rec.failure(a);
        }
    }
    rec.failure("stranger");
    for g in &decisions {
        rec.decide(&Value::Object(g.clone()));
    }
    rec.wait(3_700_000);
    for g in &decisions {
        rec.decide(&Value::Object(g.clone()));
    }
    // Reviews: the tests' responses, each confidence, each data class alone, each agent.
    for g in &reviews {
        rec.review(&review_value(g, None, None, None));
        for c in CONFIDENCES {
            rec.review(&review_value(g, Some(c), None, None));
        }
        for d in &classes {
            rec.review(&review_value(g, None, Some(vec![d.clone()]), None));
        }
        rec.review(&review_value(g, None, Some(vec![]), None));
        for a in agents.iter().chain(humans.iter()) {
            rec.review(&review_value(g, None, None, Some(a)));
        }
    }
    (plan_json, rec.lines.join("\n") + "\n")
}

/// A review test's `given` as the runtime's `Response` JSON, with one thing changed.
fn review_value(
    g: &Map<String, Value>,
    confidence: Option<f64>,
    data: Option<Vec<String>>,
    agent: Option<&String>,
) -> Value {
    let resp = g.get("response").cloned().unwrap_or(json!({}));
    let mut out: Map<String, Value> = g
        .iter()
        .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    out.insert(
        "agent".into(),
        agent
            .map(|a| json!(a))
            .or_else(|| g.get("agent").cloned())
            .unwrap_or(json!("")),
    );
    if let Some(c) = confidence
        .map(|c| json!(c))
        .or_else(|| resp.get("confidence").cloned())
    {
        out.insert("confidence".into(), c);
    }
    out.insert(
        "data".into(),
        data.map(|d| json!(d))
            .or_else(|| resp.get("data").cloned())
            .unwrap_or(json!([])),
    );
    Value::Object(out)
}

#[test]
fn golden_decisions_are_what_the_engine_answers() {
    let dir = root().join("runtime/tests/golden");
    let bless = std::env::var("INTENT_BLESS").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for (name, path) in MESHES {
        let (plan, ops) = corpus(path);
        for (file, content) in [
            (format!("{name}.plan.json"), plan + "\n"),
            (format!("{name}.ops.jsonl"), ops),
        ] {
            let at: &Path = &dir.join(&file);
            if bless {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(at, &content).unwrap();
            } else if std::fs::read_to_string(at).ok().as_deref() != Some(content.as_str()) {
                stale.push(file);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "runtime/tests/golden/ is not what the engine answers today: {stale:?}\n\
         after a deliberate change, run INTENT_BLESS=1 cargo test --test golden_corpus and review the diff"
    );
}
