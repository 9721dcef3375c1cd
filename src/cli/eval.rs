//! `intent eval`: one decision, from a plan file or from sources, for a request given as a JSON
//! file (or standard input) or as `--text` plus `--context key=value` pairs; printed for a
//! person (`story.rs`: with `--explain`, the values each condition compared) or as JSON, and
//! with `--log FILE` appended to a decision log (the format `intent replay` reads). Exit 0
//! whatever the outcome, or 1 for an outcome listed in `--fail-on`.

use super::sources;
use super::story::{self, Explainer};
use clap::ValueEnum;
use intent_compiler::{compile, Stage};
use intent_runtime::{Engine, LogRecord, Outcome, Request};
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
    /// Exit 1 for these outcomes.
    pub fail_on: &'a [OutcomeArg],
}

/// An outcome, as `--fail-on` names it.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutcomeArg {
    Dispatch,
    Plan,
    Escalate,
    Clarify,
    Deny,
    Throttle,
}

impl From<Outcome> for OutcomeArg {
    /// The name `--fail-on` has for each outcome (a new outcome does not build until it has
    /// one).
    fn from(o: Outcome) -> OutcomeArg {
        match o {
            Outcome::Dispatch => OutcomeArg::Dispatch,
            Outcome::Plan => OutcomeArg::Plan,
            Outcome::Escalate => OutcomeArg::Escalate,
            Outcome::Clarify => OutcomeArg::Clarify,
            Outcome::Deny => OutcomeArg::Deny,
            Outcome::Throttle => OutcomeArg::Throttle,
        }
    }
}

/// The request JSON from a file, or from standard input for `-`.
fn read_request(p: &Path) -> Result<Request, String> {
    let (name, text) = if p == Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| format!("cannot read the request from standard input: {e}"))?;
        ("standard input".to_string(), text)
    } else {
        let text =
            std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        (p.display().to_string(), text)
    };
    serde_json::from_str(&text).map_err(|e| format!("{name} is not a request: {e}"))
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
        Some(p) => read_request(p)?,
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
        append_log(path, &LogRecord::new(req.clone(), &d))?;
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
        print_story(&engine, &req, &d, a.explain);
    }
    let failed = a.fail_on.contains(&OutcomeArg::from(d.outcome));
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The decision for a person: the outcome, the steps, the question, the obligations in words,
/// the trace entries that decided (all of them, with the values compared, with `--explain`).
fn print_story(engine: &Engine, req: &Request, d: &intent_runtime::Decision, explain: bool) {
    let actual = intent_compiler::testing::Actual::Decision(d.clone());
    println!("{}", intent_compiler::testing::summary(&actual));
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
        println!("  obligation: {}", story::obligation(o));
    }
    let lines = intent_compiler::testing::trace_lines(&actual);
    if explain {
        let explainer = Explainer::new(engine.plan(), req, d);
        println!("trace:");
        for (l, t) in lines.iter().zip(&d.trace) {
            println!("  {l}");
            for c in explainer.compared(t) {
                println!("        {c}");
            }
        }
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
