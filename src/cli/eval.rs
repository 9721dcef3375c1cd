//! `intent eval`: one decision, from a plan file or from sources, for a request given as a JSON
//! file or as `--text` plus `--context key=value` pairs; printed for a person or as JSON, and
//! with `--log FILE` appended to a decision log (the format `intent replay` reads).

use super::sources;
use intent_compiler::{compile, Stage};
use intent_runtime::{Engine, LogRecord, Request};
use serde_json::{Map, Value};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub struct EvalArgs<'a> {
    pub plan: Option<&'a Path>,
    pub paths: &'a [PathBuf],
    pub request: Option<&'a Path>,
    pub text: Option<&'a str>,
    pub intent: Option<&'a str>,
    pub confidence: Option<f64>,
    pub context: &'a [String],
    pub json: bool,
    pub explain: bool,
    /// Append the decision's log record here.
    pub log: Option<&'a Path>,
    /// Refuse context fields the plan does not declare instead of warning.
    pub strict: bool,
}

pub fn run(a: EvalArgs<'_>) -> Result<ExitCode, String> {
    let engine = match a.plan {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            Engine::from_json(&text).map_err(|e| e.to_string())?
        }
        None => {
            let files = sources::load_one(a.paths)?;
            let c = compile(&files, Stage::Check);
            let Some(mut plan) = c
                .plan
                .filter(|_| !c.diagnostics.iter().any(|d| d.is_error()))
            else {
                eprint!(
                    "{}",
                    intent_compiler::render::human(&c.diagnostics, &c.sources, false)
                );
                return Err("the sources have errors; fix them or pass --plan".into());
            };
            plan.plan_hash = intent_compiler::compile::plan_hash(&plan);
            Engine::from_plan(plan).map_err(|e| e.to_string())?
        }
    };
    let mut req: Request = match a.request {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            serde_json::from_str(&text)
                .map_err(|e| format!("{} is not a request: {e}", p.display()))?
        }
        None => Request::default(),
    };
    if let Some(t) = a.text {
        req.text = Some(t.to_string());
    }
    if let Some(i) = a.intent {
        req.intent = Some(i.to_string());
    }
    if let Some(c) = a.confidence {
        req.confidence = Some(c);
    }
    for kv in a.context {
        let (key, value) = kv
            .split_once('=')
            .ok_or_else(|| format!("--context takes key=value, not `{kv}`"))?;
        insert_dotted(&mut req.context, key, parse_value(value));
    }
    // A misspelt field would be ignored by the engine: say so, or refuse under --strict.
    let unknown = intent_runtime::unknown_fields(&engine.plan().context, &req.context);
    if !unknown.is_empty() {
        let text = intent_runtime::unknown::describe(&unknown);
        if a.strict {
            return Err(format!(
                "{text}\n(--strict refuses context fields the plan does not declare)"
            ));
        }
        for u in &unknown {
            eprintln!("warning: {} (it is ignored)", u.message());
        }
    }
    let d = engine.decide(&req);
    if let Some(path) = a.log {
        append_log(path, &LogRecord::new(req, &d))?;
    }
    if a.json {
        let mut shown = serde_json::to_value(&d).map_err(|e| e.to_string())?;
        if let (Some(o), false) = (shown.as_object_mut(), unknown.is_empty()) {
            let paths: Vec<&str> = unknown.iter().map(|u| u.path.as_str()).collect();
            o.insert("unknown_fields".into(), serde_json::json!(paths));
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&shown).map_err(|e| e.to_string())?
        );
    } else {
        println!(
            "{}",
            intent_compiler::testing::summary(&intent_compiler::testing::Actual::Decision(
                d.clone()
            ))
        );
        for s in &d.steps {
            println!(
                "  {}: {}{}",
                s.step,
                s.agent,
                s.endpoint
                    .as_ref()
                    .map_or(String::new(), |e| format!("  ({e})"))
            );
        }
        if let Some(q) = &d.question {
            println!("  question: {q}");
        }
        for o in &d.obligations {
            println!(
                "  obligation: {}",
                serde_json::to_string(o).unwrap_or_default()
            );
        }
        let lines = intent_compiler::testing::trace_lines(
            &intent_compiler::testing::Actual::Decision(d.clone()),
        );
        if a.explain {
            println!("trace:");
            lines.iter().for_each(|l| println!("  {l}"));
        } else {
            // The entries that decided: what matched.
            for (l, t) in lines.iter().zip(&d.trace) {
                if t.matched {
                    println!("  {l}");
                }
            }
        }
        println!(
            "plan {}  decision {}",
            d.plan_hash.get(..12).unwrap_or(&d.plan_hash),
            d.decision_id
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Appends one record (a line) to the decision log at `path`, creating it if needed.
fn append_log(path: &Path, record: &LogRecord) -> Result<(), String> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("cannot open the log {}: {e}", path.display()))?;
    writeln!(f, "{}", record.to_line())
        .map_err(|e| format!("cannot write the log {}: {e}", path.display()))
}

/// `42` → number, `true` → bool, `["a"]` → array; anything else is a string.
fn parse_value(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_string()))
}

fn insert_dotted(map: &mut Map<String, Value>, key: &str, value: Value) {
    match key.split_once('.') {
        None => {
            map.insert(key.to_string(), value);
        }
        Some((head, rest)) => {
            let entry = map
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                insert_dotted(inner, rest, value);
            }
        }
    }
}
