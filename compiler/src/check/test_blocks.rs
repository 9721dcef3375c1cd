//! `test` blocks: the `given` request is checked against what a request may hold
//! (docs/reference/tests.md) and turned into request JSON; every name in an `expect` is
//! resolved. The result is what `intent test` runs.

use super::expr::literal;
use super::scene::SceneEvent;
use super::schema;
use super::Checker;
use crate::codes::Code;
use crate::diagnostics::{closest, did_you_mean, Diagnostic};
use crate::syntax::ast::DeclKeyword;
use crate::syntax::ast::{ExpectKind, Expr, ExprKind, Name, Span, TestDecl};
use intent_runtime::plan::{SourceLoc, Type, Value};
use serde::Serialize;
use serde_json::{json, Map, Value as Json};

/// One test, ready to run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestCase {
    pub name: String,
    pub source: SourceLoc,
    /// The request (or, for a review test, the response) as JSON.
    pub given: Json,
    /// What happened before the request: uses and failures fed to the state store first.
    pub scene: Vec<SceneEvent>,
    pub expects: Vec<Expectation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expectation {
    pub negated: bool,
    pub kind: ExpectationKind,
    /// The agent, human, intent or data class named, if any.
    pub name: Option<String>,
    /// For `plan { step: agent }`: the steps named and their agents.
    pub steps: Vec<(String, String)>,
    /// For `deny because "TEXT"`: the text the decision's (or verdict's) reason must contain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub source: SourceLoc,
}

/// What an `expect` line asks for. Serialised as its word (`"dispatch"`), as it was when it was a
/// string; `testing.rs` matches it exhaustively, so a new form is handled everywhere or fails to
/// build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpectationKind {
    Dispatch,
    Plan,
    Escalate,
    Clarify,
    Deny,
    Throttle,
    Intent,
    Audit,
    Redact,
    Pass,
}

impl ExpectationKind {
    /// The word that writes it in a test.
    pub fn word(self) -> &'static str {
        match self {
            ExpectationKind::Dispatch => "dispatch",
            ExpectationKind::Plan => "plan",
            ExpectationKind::Escalate => "escalate",
            ExpectationKind::Clarify => "clarify",
            ExpectationKind::Deny => "deny",
            ExpectationKind::Throttle => "throttle",
            ExpectationKind::Intent => "intent",
            ExpectationKind::Audit => "audit",
            ExpectationKind::Redact => "redact",
            ExpectationKind::Pass => "pass",
        }
    }
}

/// The keys of a test's `given` that are the request's own; any other names a context field
/// (the editor's walk reads them so too).
pub(crate) const REQUEST_KEYS: &[&str] = &[
    "intent",
    "text",
    "confidence",
    "caller",
    "agent",
    "response",
];

impl Checker<'_, '_> {
    pub fn test_blocks(&mut self) -> Vec<TestCase> {
        let tests = self.t.ws.tests.clone();
        let mut out = Vec::new();
        for (file, t, item) in tests {
            if let Some(tc) = self.test_block(file, t, item.span) {
                out.push(tc);
            }
        }
        out
    }

    fn bad_test(&mut self, file: usize, span: Span, message: String, help: &str) {
        self.diags.push(
            Diagnostic::new(Code::BAD_TEST, self.t.path(file), span, message)
                .with_label("invalid test")
                .with_help(help),
        );
    }

    /// `expect escalate` (or `dispatch`, `intent`, `redact`) without its name: which names it
    /// could be.
    fn unnamed_expectation(&mut self, file: usize, span: Span, word: &str) {
        let (kind, what) = match word {
            "dispatch" => (DeclKeyword::Agent, "the agent the request is dispatched to"),
            "escalate" => (DeclKeyword::Human, "the human the request escalates to"),
            "intent" => (DeclKeyword::Intent, "the intent the request is decided as"),
            _ => (DeclKeyword::Data, "the data class redacted"),
        };
        let mut names = self.t.visible(kind, file);
        names.sort();
        let shown = match names.len() {
            0 => format!("no {} is declared", kind.noun()),
            n if n > 8 => format!(
                "e.g. {}, ...",
                names.iter().take(8).cloned().collect::<Vec<_>>().join(", ")
            ),
            _ => format!("here: {}", names.join(", ")),
        };
        self.diags.push(
            Diagnostic::new(
                Code::BAD_TEST,
                self.t.path(file),
                span,
                format!("`expect {word}` must name {what}"),
            )
            .with_label(format!("no {} named", kind.noun()))
            .with_help(format!("write `expect {word} NAME`; {shown}")),
        );
    }

    fn test_block(&mut self, file: usize, t: &TestDecl, span: Span) -> Option<TestCase> {
        let (line, col) = self.line_col(file, span.start as usize);
        let source = SourceLoc {
            file: self.file_path(file),
            line,
            col,
        };
        let Some(given) = &t.given else {
            self.bad_test(
                file,
                t.name.1,
                format!("test \"{}\" has no `given`", t.name.0),
                "add `given { intent: NAME, confidence: 0.9, ... }`",
            );
            return None;
        };
        if t.expects.is_empty() {
            self.bad_test(
                file,
                t.name.1,
                format!("test \"{}\" expects nothing", t.name.0),
                "add an `expect` line, e.g. `expect dispatch AGENT`",
            );
        }
        let ExprKind::Record(fields) = &given.kind else {
            self.bad_test(
                file,
                given.span,
                "`given` must be a record".into(),
                "write `given { intent: NAME, confidence: 0.9 }`",
            );
            return None;
        };
        let mut req = Map::new();
        self.suggested.clear();
        let mut seen: Vec<&Name> = Vec::new();
        for (key, value) in fields {
            if let Some(prev) = seen.iter().find(|n| n.text == key.text) {
                self.diags.push(
                    Diagnostic::new(
                        Code::DUPLICATE_FIELD,
                        self.t.path(file),
                        key.span,
                        format!("`{}` is given twice", key.text),
                    )
                    .with_label("given again here")
                    .with_secondary(self.t.path(file), prev.span, "first given here")
                    .with_help("keep one"),
                );
                continue;
            }
            seen.push(key);
            let v = self.given_field(file, key, value);
            req.insert(key.text.clone(), v);
        }
        let has = |k: &str| req.contains_key(k);
        if has("intent") && !has("confidence") {
            self.bad_test(
                file,
                given.span,
                "a test that names its `intent` must give its `confidence`".into(),
                "add `confidence: 0.9` (or give `text:` and let the classifier decide)",
            );
        }
        if !has("intent") && !has("text") && !has("response") {
            self.bad_test(
                file,
                given.span,
                "`given` names neither an `intent` nor a `text`".into(),
                "add `intent: NAME, confidence: 0.9`, or `text: \"...\"` for the classifier",
            );
        }
        let suggested = std::mem::take(&mut self.suggested);
        self.missing_fields(file, given.span, &req, &suggested);
        let scene: Vec<SceneEvent> = t
            .scene
            .iter()
            .filter_map(|line| self.scene_line(file, line))
            .collect();
        let mut expects = Vec::new();
        for e in &t.expects {
            let (line, col) = self.line_col(file, e.span.start as usize);
            let source = SourceLoc {
                file: self.file_path(file),
                line,
                col,
            };
            let mut steps = Vec::new();
            let mut reason = None;
            let (kind, name) = match &e.kind {
                ExpectKind::Dispatch(n) => (
                    ExpectationKind::Dispatch,
                    self.t
                        .resolve_agent(file, n, &mut self.diags)
                        .map(|_| n.text.clone()),
                ),
                ExpectKind::Escalate(n) => (
                    ExpectationKind::Escalate,
                    self.t
                        .resolve_human(file, n, &mut self.diags)
                        .map(|_| n.text.clone()),
                ),
                ExpectKind::Intent(n) => (
                    ExpectationKind::Intent,
                    self.t
                        .resolve_intent(file, n, &mut self.diags)
                        .map(|_| n.text.clone()),
                ),
                ExpectKind::Redact(p) => (
                    ExpectationKind::Redact,
                    self.t
                        .resolve_data(file, p, &mut self.diags)
                        .map(|d| self.t.data_name(d).to_string()),
                ),
                ExpectKind::Plan(pairs) => {
                    for (step, agent) in pairs {
                        if self.t.resolve_agent(file, agent, &mut self.diags).is_some() {
                            steps.push((step.text.clone(), agent.text.clone()));
                        }
                    }
                    (ExpectationKind::Plan, None)
                }
                ExpectKind::Unnamed(word) => {
                    self.unnamed_expectation(file, e.span, word);
                    continue;
                }
                ExpectKind::Clarify => (ExpectationKind::Clarify, None),
                ExpectKind::Deny(because) => {
                    if let Some((text, span)) = because {
                        if text.trim().is_empty() {
                            self.bad_test(
                                file,
                                *span,
                                "the reason a test expects is empty".into(),
                                "write a part of the reason the denial gives, e.g. `expect deny because \"GDPR\"`, or drop `because`",
                            );
                            continue;
                        }
                        reason = Some(text.clone());
                    }
                    (ExpectationKind::Deny, None)
                }
                ExpectKind::Throttle => (ExpectationKind::Throttle, None),
                ExpectKind::Audit => (ExpectationKind::Audit, None),
                ExpectKind::Pass => (ExpectationKind::Pass, None),
            };
            expects.push(Expectation {
                negated: e.negated,
                kind,
                name,
                steps,
                reason,
                source,
            });
        }
        Some(TestCase {
            name: t.name.0.clone(),
            source,
            given: Json::Object(req),
            scene,
            expects,
        })
    }

    fn given_field(&mut self, file: usize, key: &Name, value: &Expr) -> Json {
        match key.text.as_str() {
            "intent" => self.name_value(file, value, |c, f, n| {
                c.t.resolve_intent(f, n, &mut c.diags).is_some()
            }),
            "agent" => self.name_value(file, value, |c, f, n| {
                c.t.resolve_agent(f, n, &mut c.diags).is_some()
            }),
            "text" => match literal(value) {
                Some(Value::String(s)) => json!(s),
                _ => {
                    self.bad_test(
                        file,
                        value.span,
                        "`text` must be a string".into(),
                        "write `text: \"what the user said\"`",
                    );
                    Json::Null
                }
            },
            "confidence" => match literal(value) {
                Some(Value::Number(n)) if (0.0..=1.0).contains(&n) => json!(n),
                Some(Value::Number(_)) => {
                    self.diags.push(
                        Diagnostic::new(
                            Code::THRESHOLD_RANGE,
                            self.t.path(file),
                            value.span,
                            "`confidence` must be a number between 0 and 1",
                        )
                        .with_label("outside 0..1")
                        .with_help("write `confidence: 0.9`"),
                    );
                    Json::Null
                }
                _ => {
                    self.diags.push(
                        Diagnostic::new(
                            Code::TYPE_MISMATCH,
                            self.t.path(file),
                            value.span,
                            "`confidence` is a number",
                        )
                        .with_label("not a number")
                        .with_help("write `confidence: 0.9`"),
                    );
                    Json::Null
                }
            },
            "caller" => {
                let ExprKind::Record(fields) = &value.kind else {
                    self.bad_test(
                        file,
                        value.span,
                        "`caller` must be a record".into(),
                        "write `caller: { agent: NAME, lineage: [INTENT, ...] }`",
                    );
                    return Json::Null;
                };
                let mut m = Map::new();
                for (k, v) in fields {
                    let j = match k.text.as_str() {
                        "agent" => self.name_value(file, v, |c, f, n| {
                            c.t.resolve_agent(f, n, &mut c.diags).is_some()
                        }),
                        "lineage" => match &v.kind {
                            ExprKind::List(items) => Json::Array(
                                items
                                    .iter()
                                    .map(|i| {
                                        self.name_value(file, i, |c, f, n| {
                                            c.t.resolve_intent(f, n, &mut c.diags).is_some()
                                        })
                                    })
                                    .collect(),
                            ),
                            _ => {
                                self.bad_test(
                                    file,
                                    v.span,
                                    "`lineage` must be a list of intents".into(),
                                    "write `lineage: [summarize_overdue_invoices]`",
                                );
                                Json::Null
                            }
                        },
                        other => {
                            self.bad_test(
                                file,
                                k.span,
                                format!("a caller has no `{other}`"),
                                "a caller has `agent` and `lineage`",
                            );
                            Json::Null
                        }
                    };
                    m.insert(k.text.clone(), j);
                }
                Json::Object(m)
            }
            "response" => {
                let ExprKind::Record(fields) = &value.kind else {
                    self.bad_test(
                        file,
                        value.span,
                        "`response` must be a record".into(),
                        "write `response: { confidence: 0.9, data: {pii} }`",
                    );
                    return Json::Null;
                };
                let mut m = Map::new();
                for (k, v) in fields {
                    let j = match (k.text.as_str(), &v.kind) {
                        ("confidence", _) => match literal(v) {
                            Some(Value::Number(n)) if (0.0..=1.0).contains(&n) => json!(n),
                            _ => {
                                self.bad_test(
                                    file,
                                    v.span,
                                    "a response's `confidence` is a number between 0 and 1".into(),
                                    "write `confidence: 0.9`",
                                );
                                Json::Null
                            }
                        },
                        ("data", ExprKind::Set(items) | ExprKind::List(items)) => Json::Array(
                            items
                                .iter()
                                .filter_map(|i| match &i.kind {
                                    ExprKind::Path(p) => self
                                        .t
                                        .resolve_data(file, p, &mut self.diags)
                                        .map(|d| json!(self.t.data_name(d))),
                                    _ => None,
                                })
                                .collect(),
                        ),
                        (other, _) => {
                            self.bad_test(
                                file,
                                k.span,
                                format!("a response has no `{other}` here"),
                                "a response has `confidence` and `data: {CLASS, ..}`",
                            );
                            Json::Null
                        }
                    };
                    m.insert(k.text.clone(), j);
                }
                Json::Object(m)
            }
            other => {
                let Some(field) = schema::field(&self.t.context, other).cloned() else {
                    let mut names: Vec<&str> = REQUEST_KEYS.to_vec();
                    names.extend(schema::field_names(&self.t.context));
                    if let Some(c) = closest(other, schema::field_names(&self.t.context)) {
                        self.suggested.push(c.to_string());
                    }
                    let help = did_you_mean(other, names.iter().copied())
                        .unwrap_or_else(|| format!("a request has {}", names.join(", ")));
                    self.bad_test(
                        file,
                        key.span,
                        format!("`{other}` is not part of a request"),
                        &help,
                    );
                    return Json::Null;
                };
                self.context_value(file, &field.ty, value, other)
            }
        }
    }

    fn name_value(
        &mut self,
        file: usize,
        value: &Expr,
        resolve: impl Fn(&mut Self, usize, &Name) -> bool,
    ) -> Json {
        match &value.kind {
            ExprKind::Path(p) if p.segments.len() == 1 => match p.segments.first() {
                Some(n) if resolve(self, file, n) => json!(n.text),
                _ => Json::Null,
            },
            _ => {
                self.bad_test(
                    file,
                    value.span,
                    "expected a name".into(),
                    "write the name without quotes",
                );
                Json::Null
            }
        }
    }

    /// A context value in a test, checked against the schema.
    fn context_value(&mut self, file: usize, ty: &Type, value: &Expr, what: &str) -> Json {
        match (ty, &value.kind) {
            (Type::Record { fields }, ExprKind::Record(entries)) => {
                let mut m = Map::new();
                for (k, v) in entries {
                    match fields.iter().find(|f| f.name == k.text) {
                        Some(f) => {
                            let j =
                                self.context_value(file, &f.ty, v, &format!("{what}.{}", k.text));
                            m.insert(k.text.clone(), j);
                        }
                        None => {
                            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                            if let Some(c) = closest(&k.text, names.iter().copied()) {
                                self.suggested.push(format!("{what}.{c}"));
                            }
                            let help = did_you_mean(&k.text, names.iter().copied())
                                .unwrap_or_else(|| format!("`{what}` has: {}", names.join(", ")));
                            self.diags.push(
                                Diagnostic::new(
                                    Code::UNKNOWN_FIELD,
                                    self.t.path(file),
                                    k.span,
                                    format!("`{what}` has no field `{}`", k.text),
                                )
                                .with_label("unknown field")
                                .with_help(help),
                            );
                        }
                    }
                }
                Json::Object(m)
            }
            (Type::Enum { values }, ExprKind::Str(s)) => {
                if !values.is_empty() && !values.contains(s) {
                    let help = did_you_mean(s, values.iter().map(String::as_str))
                        .unwrap_or_else(|| format!("allowed: {}", values.join(", ")));
                    self.diags.push(
                        Diagnostic::new(
                            Code::TYPE_MISMATCH,
                            self.t.path(file),
                            value.span,
                            format!("\"{s}\" is not a value of `{what}`"),
                        )
                        .with_label("not allowed")
                        .with_help(help),
                    );
                }
                json!(s)
            }
            _ => {
                let lit = literal(value);
                let ok = matches!(
                    (ty, &lit, &value.kind),
                    (Type::String, Some(Value::String(_)), _)
                        | (Type::Bool, Some(Value::Bool(_)), _)
                        | (Type::Number, Some(Value::Number(_)), ExprKind::Number(_))
                        | (
                            Type::Duration,
                            Some(Value::Number(_)),
                            ExprKind::Duration(_)
                        )
                        | (
                            Type::Set { .. } | Type::List { .. },
                            Some(Value::List(_)),
                            _
                        )
                );
                if !ok {
                    self.diags.push(
                        Diagnostic::new(
                            Code::TYPE_MISMATCH,
                            self.t.path(file),
                            value.span,
                            format!("`{what}` does not take this value"),
                        )
                        .with_label("wrong type")
                        .with_help(format!(
                            "`{what}` is declared in the context as {}",
                            describe(ty)
                        )),
                    );
                }
                lit.map_or(Json::Null, to_json)
            }
        }
    }
}

pub(super) fn describe(ty: &Type) -> &'static str {
    match ty {
        Type::Bool => "a bool",
        Type::Number => "a number",
        Type::String => "a string",
        Type::Duration => "a duration",
        Type::Enum { .. } => "an enum",
        Type::Set { .. } => "a set",
        Type::List { .. } => "a list",
        Type::Record { .. } => "a record",
    }
}

fn to_json(v: Value) -> Json {
    match v {
        Value::Bool(b) => json!(b),
        Value::Number(n) => json!(n),
        Value::String(s) => json!(s),
        Value::List(l) => Json::Array(l.into_iter().map(to_json).collect()),
    }
}
