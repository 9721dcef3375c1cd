//! Fuzz target: plan loading. The input is either raw bytes read as a plan's JSON, or edits
//! of the sidecar mesh's valid plan (a value replaced, removed or duplicated anywhere in the
//! document; the hash cleared unless the input keeps it), so the fuzzer reaches every check of
//! the engine's validation. A plan that loads is then used: every intent decided, a response
//! reviewed, a failure reported. Nothing may panic, and a loaded plan has a 64-digit hash.
#![no_main]

use intent_fuzz::{mesh_plan, Json, Word};
use intent_runtime::{Engine, Request, Response};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::sync::OnceLock;

#[derive(Arbitrary, Debug)]
enum Change {
    Set(Json),
    Remove,
    /// An array's element appended again (duplicate names, steps, rules ...).
    Duplicate,
    /// A number replaced by 0, 1 or the largest u64.
    Zero,
    One,
    Max,
}

#[derive(Arbitrary, Debug)]
struct Edit {
    /// At each level, which child to go into (modulo the number of children).
    path: Vec<u8>,
    change: Change,
}

#[derive(Arbitrary, Debug)]
enum Input {
    Raw(Vec<u8>),
    Edits { edits: Vec<Edit>, keep_hash: bool },
}

fn base() -> &'static Value {
    static V: OnceLock<Value> = OnceLock::new();
    V.get_or_init(|| serde_json::to_value(mesh_plan()).unwrap_or(Value::Null))
}

fn apply(v: &mut Value, path: &[u8], change: &Change) {
    let child = |n: usize, i: u8| usize::from(i) % n.max(1);
    match (path.split_first(), v) {
        (Some((i, rest)), Value::Object(m)) if !m.is_empty() && !rest.is_empty() => {
            let k = child(m.len(), *i);
            if let Some(x) = m.values_mut().nth(k) {
                apply(x, rest, change);
            }
        }
        (Some((i, rest)), Value::Array(a)) if !a.is_empty() && !rest.is_empty() => {
            let k = child(a.len(), *i);
            if let Some(x) = a.get_mut(k) {
                apply(x, rest, change);
            }
        }
        (Some((i, _)), Value::Object(m)) if !m.is_empty() => {
            let k = child(m.len(), *i);
            let Some(key) = m.keys().nth(k).cloned() else { return };
            match change {
                Change::Remove => {
                    m.remove(&key);
                }
                _ => {
                    if let Some(x) = m.get_mut(&key) {
                        leaf(x, change);
                    }
                }
            }
        }
        (Some((i, _)), Value::Array(a)) if !a.is_empty() => {
            let k = child(a.len(), *i);
            match change {
                Change::Remove => {
                    a.remove(k);
                }
                Change::Duplicate => {
                    if let Some(x) = a.get(k).cloned() {
                        a.push(x);
                    }
                }
                _ => {
                    if let Some(x) = a.get_mut(k) {
                        leaf(x, change);
                    }
                }
            }
        }
        (_, x) => leaf(x, change),
    }
}

fn leaf(x: &mut Value, change: &Change) {
    match change {
        Change::Set(j) => *x = j.value(),
        Change::Zero => *x = Value::from(0u64),
        Change::One => *x = Value::from(1u64),
        Change::Max => *x = Value::from(u64::MAX),
        Change::Remove | Change::Duplicate => {}
    }
}

fn use_engine(e: &Engine) {
    assert_eq!(e.plan_hash().len(), 64);
    for (i, it) in e.plan().intents.iter().enumerate() {
        let mut req = Request::for_intent(&it.name, 0.9);
        req.context
            .insert("channel".into(), Value::String(if i % 2 == 0 { "web" } else { "api" }.into()));
        req.context.insert("amount".into(), Value::from(5000));
        let _ = e.decide_at(&req, 1_000 + i as u64);
    }
    let _ = e.decide_at(&Request { text: Some("give me my money back".into()), ..Request::default() }, 2_000);
    for a in &e.plan().agents {
        let resp: Result<Response, _> = serde_json::from_value(serde_json::json!({
            "agent": a.name, "confidence": 0.5, "data": [], "channel": "web"
        }));
        if let Ok(resp) = resp {
            let _ = e.review_at(&resp, 3_000);
        }
        e.report_failure(&a.name, 3_000);
    }
}

fuzz_target!(|input: Input| {
    let text = match &input {
        Input::Raw(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Input::Edits { edits, keep_hash } => {
            let mut v = base().clone();
            for e in edits {
                apply(&mut v, &e.path, &e.change);
            }
            if !keep_hash {
                if let Some(o) = v.as_object_mut() {
                    o.insert("plan_hash".into(), Value::String(String::new()));
                }
            }
            v.to_string()
        }
    };
    if let Ok(e) = Engine::from_json(&text) {
        use_engine(&e);
    }
    // Words the mesh knows are used by the other targets; this keeps the type linked in.
    let _ = Word::Intent.text();
});
