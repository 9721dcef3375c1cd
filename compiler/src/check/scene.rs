//! What a test states beyond its request: the scene (`given 20 uses of refund_bot within 1m`,
//! docs/reference/tests.md, "The scene"), checked and turned into the events `intent test`
//! feeds the state store before deciding, and the required context fields a `given` must hold.

use super::Checker;
use crate::codes::Code;
use crate::diagnostics::Diagnostic;
use crate::syntax::ast::{SceneLine, Span};
use intent_runtime::plan::Type;
use serde::Serialize;
use serde_json::{Map, Value as Json};

/// The most uses or failures one scene line may state (docs/reference/tests.md): each is
/// recorded in the state store before the test's decision.
pub const MAX_SCENE_COUNT: u64 = 10_000;

/// Uses or failures of one agent or human, all within a window before the decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SceneEvent {
    /// Failures (of an agent) rather than uses.
    pub failures: bool,
    /// The agent or human, by name.
    pub subject: String,
    /// True for a human.
    pub human: bool,
    pub count: u64,
    /// The window, in milliseconds: the events happened this long before the decision, plus
    /// one millisecond (the oldest they can be and still fall within it).
    pub within_ms: u64,
}

impl Checker<'_, '_> {
    fn bad_scene(&mut self, file: usize, span: Span, message: String, help: String) {
        self.diags.push(
            Diagnostic::new(Code::BAD_TEST, self.t.path(file), span, message)
                .with_label("invalid scene")
                .with_help(help),
        );
    }

    /// A scene line as an event, or `None` (reported) when it does not make sense.
    pub(super) fn scene_line(&mut self, file: usize, line: &SceneLine) -> Option<SceneEvent> {
        let (count, count_span) = line.count;
        let value = count.value();
        let whole = value.is_finite() && value.fract() == 0.0 && value >= 1.0;
        if !whole || value > MAX_SCENE_COUNT as f64 {
            if !value.is_nan() {
                self.bad_scene(
                    file,
                    count_span,
                    format!("a scene states from 1 to {MAX_SCENE_COUNT} uses or failures"),
                    "write a whole number, e.g. `given 20 uses of AGENT within 1m`".into(),
                );
            }
            return None;
        }
        let (within_ms, within_span) = line.within;
        if within_ms == 0 {
            self.bad_scene(
                file,
                within_span,
                "a window of 0 holds no uses or failures".into(),
                "give the window they fall in, e.g. `within 1m`".into(),
            );
            return None;
        }
        let name = &line.subject;
        let human = if self.t.try_agent(file, &name.text).is_some() {
            false
        } else if self.t.try_human(file, &name.text).is_some() {
            true
        } else {
            // Reported as an unknown agent, with a "did you mean".
            self.t.resolve_agent(file, name, &mut self.diags);
            return None;
        };
        if human && line.failures {
            self.bad_scene(
                file,
                name.span,
                format!(
                    "`{}` is a human: humans have no breaker, so failures of one change nothing",
                    name.text
                ),
                format!(
                    "state its earlier escalations instead: `given 3 uses of {} within 1h`",
                    name.text
                ),
            );
            return None;
        }
        Some(SceneEvent {
            failures: line.failures,
            subject: name.text.clone(),
            human,
            count: value as u64,
            within_ms,
        })
    }

    /// E0205 when the request (or response) a test gives lacks required context fields;
    /// fields a "did you mean" already pointed at are not reported again.
    pub(super) fn missing_fields(
        &mut self,
        file: usize,
        span: Span,
        given: &Map<String, Json>,
        suggested: &[String],
    ) {
        let mut missing = Vec::new();
        missing_in(&self.t.context, given, "", &mut missing);
        missing.retain(|(path, _)| !suggested.contains(path));
        let Some((first, ty)) = missing.first() else {
            return;
        };
        let names: Vec<String> = missing.iter().map(|(p, _)| format!("`{p}`")).collect();
        let message = if missing.len() == 1 {
            format!(
                "the test's request has no {}, a required context field",
                names.join("")
            )
        } else {
            format!(
                "the test's request lacks the required context fields {}",
                names.join(", ")
            )
        };
        let leaf = first.rsplit('.').next().unwrap_or(first);
        self.diags.push(
            Diagnostic::new(Code::MISSING_GIVEN_FIELD, self.t.path(file), span, message)
                .with_label("required field missing")
                .with_help(format!(
                    "give it, e.g. `{leaf}: {}`, or declare it optional in the context: `{leaf}?: ...`",
                    example(ty)
                )),
        );
    }
}

/// The required fields of `ty` that `given` lacks, as dotted paths with their types; records
/// that are given are looked into, absent ones count once.
fn missing_in(ty: &Type, given: &Map<String, Json>, prefix: &str, out: &mut Vec<(String, Type)>) {
    let Type::Record { fields } = ty else { return };
    for f in fields {
        let path = if prefix.is_empty() {
            f.name.clone()
        } else {
            format!("{prefix}.{}", f.name)
        };
        match given.get(&f.name) {
            Some(Json::Object(inner)) => missing_in(&f.ty, inner, &path, out),
            Some(_) => {}
            None if f.optional => {}
            None => out.push((path, f.ty.clone())),
        }
    }
}

/// A value of the type, for the help line.
fn example(ty: &Type) -> String {
    match ty {
        Type::Bool => "true".into(),
        Type::Number => "100".into(),
        Type::String => "\"...\"".into(),
        Type::Duration => "30m".into(),
        Type::Enum { values } => values
            .first()
            .map_or_else(|| "\"...\"".into(), |v| format!("\"{v}\"")),
        Type::Set { .. } => "{...}".into(),
        Type::List { .. } => "[...]".into(),
        Type::Record { .. } => "{ ... }".into(),
    }
}
