//! The generated Cedar part put through cedar-policy itself: `validate` parses the schema,
//! policies and entities and runs Cedar's validator in strict mode; `authorize` asks Cedar's
//! authorizer one question, so differential tests can hold the runtime's evaluator to Cedar's
//! meaning.
//!
//! Policies are re-keyed by their `@id` annotation (the rule id, or `agent:<name>`) before they
//! are validated, so Cedar's messages name the rule and each problem finds its way back to the
//! rule's source location. Cedar's help lines ("did you mean `amount`?") are kept.

use super::{entity_ref, policies, schema, CedarProblem};
use cedar_policy::{Entities, PolicySet, Schema, ValidationMode, Validator};
use intent_runtime::plan::{AgentId, CapId, CedarPart, DataId, IntentId, Plan, SrcId, Type};
use std::collections::HashMap;
use std::str::FromStr;

/// Parses schema, policies and entities with cedar-policy and runs Cedar's validator (strict
/// mode). Problems in a policy carry the source of the rule (or agent) it came from; problems in
/// the schema or the entities carry none. Validator warnings are not reported.
pub fn validate(plan: &Plan, part: &CedarPart) -> Vec<CedarProblem> {
    let mut problems = plan_problems(plan);
    let schema = match Schema::from_cedarschema_str(&part.schema) {
        Ok((schema, warnings)) => {
            problems.extend(warnings.map(|w| problem(None, "cedar schema", &w)));
            Some(schema)
        }
        Err(e) => {
            problems.push(problem(None, "cedar schema", &e));
            None
        }
    };
    // Checking the entities against the schema is independent of validating the policies:
    // do it on a second thread while the validator runs.
    std::thread::scope(|scope| {
        let entities = scope.spawn(|| {
            Entities::from_json_value(part.entities.clone(), schema.as_ref())
                .err()
                .map(|e| problem(None, "cedar entities", &e))
        });
        validate_policies(plan, part, schema.as_ref(), &mut problems);
        match entities.join() {
            Ok(Some(p)) => problems.push(p),
            Ok(None) => {}
            Err(_) => problems.push(CedarProblem {
                src: None,
                message: "cedar entities: the check failed".into(),
            }),
        }
    });
    problems
}

fn validate_policies(
    plan: &Plan,
    part: &CedarPart,
    schema: Option<&Schema>,
    problems: &mut Vec<CedarProblem>,
) {
    let sources = policies::policy_sources(plan);
    match load_policies(&part.policies, &sources) {
        Ok(set) => {
            if let Some(schema) = schema {
                let result = Validator::new(schema.clone()).validate(&set, ValidationMode::Strict);
                let per_action: Vec<String> = plan
                    .capabilities
                    .iter()
                    .map(|c| format!(" for {}", entity_ref("Action", &c.name)))
                    .collect();
                for e in result.validation_errors() {
                    let id = set.policy(e.policy_id()).and_then(|p| p.annotation("id"));
                    let src = id.and_then(|id| sources.get(id)).copied();
                    let mut p = problem(src, "cedar", e);
                    // Name the rule, not Cedar's positional id.
                    if let Some(id) = id {
                        p.message = p
                            .message
                            .replace(&format!("`{}`", e.policy_id()), &format!("`{id}`"));
                    }
                    // Cedar checks a policy once per action it applies to, and every action has
                    // the same context: say it once, without naming an action.
                    for noise in &per_action {
                        p.message = p.message.replace(noise, "");
                    }
                    if !problems.contains(&p) {
                        problems.push(p);
                    }
                }
            }
        }
        Err(errors) => problems.extend(errors),
    }
}

/// What the plan asks of Cedar that Cedar cannot hold, found while generating the text.
fn plan_problems(plan: &Plan) -> Vec<CedarProblem> {
    let mut problems: Vec<CedarProblem> = policies::render(plan)
        .problems
        .into_iter()
        .map(|(src, message)| CedarProblem {
            src: Some(src),
            message,
        })
        .collect();
    problems.extend(
        schema::labels(plan)
            .conflicts
            .into_iter()
            .map(|(src, message)| CedarProblem {
                src: Some(src),
                message,
            }),
    );
    if !matches!(plan.context, Type::Record { .. }) {
        problems.push(CedarProblem {
            src: None,
            message: "the plan's context is not a record; Cedar's context must be one".to_string(),
        });
    }
    problems
}

/// `what: message`, with Cedar's help line when it has one.
fn problem(
    src: Option<SrcId>,
    what: &str,
    error: &(impl miette::Diagnostic + ?Sized),
) -> CedarProblem {
    let mut message = format!("{what}: {error}");
    if let Some(help) = error.help() {
        message.push_str(&format!(" (help: {help})"));
    }
    CedarProblem { src, message }
}

/// Parses the policies; each carries its rule id in an `@id` annotation, which is how a
/// problem finds its rule (re-keying the set by those ids would copy every policy).
fn load_policies(
    text: &str,
    sources: &HashMap<String, SrcId>,
) -> Result<PolicySet, Vec<CedarProblem>> {
    let parsed = PolicySet::from_str(text).map_err(|e| parse_problems(text, sources, &e))?;
    let unnamed: Vec<CedarProblem> = parsed
        .policies()
        .filter(|p| p.annotation("id").is_none())
        .map(|p| CedarProblem {
            src: None,
            message: format!("cedar: a policy without an `@id` annotation: {p}"),
        })
        .collect();
    if unnamed.is_empty() {
        Ok(parsed)
    } else {
        Err(unnamed)
    }
}

/// Cedar reports a syntax error for the whole text; find the policies it is in by parsing each
/// one on its own (every generated policy starts on an `@id(..)` line).
fn parse_problems(
    text: &str,
    sources: &HashMap<String, SrcId>,
    whole: &cedar_policy::ParseErrors,
) -> Vec<CedarProblem> {
    let mut chunks: Vec<String> = vec![String::new()];
    for line in text.lines() {
        if line.starts_with("@id(") {
            chunks.push(String::new());
        }
        if let Some(chunk) = chunks.last_mut() {
            chunk.push_str(line);
            chunk.push('\n');
        }
    }
    let by_annotation: HashMap<String, SrcId> = sources
        .iter()
        .map(|(id, src)| (policies::id_annotation(id), *src))
        .collect();
    let problems: Vec<CedarProblem> = chunks
        .iter()
        .filter_map(|chunk| {
            let e = PolicySet::from_str(chunk).err()?;
            let src = chunk
                .lines()
                .next()
                .and_then(|first| by_annotation.get(first.trim_end()))
                .copied();
            Some(problem(src, "cedar policy syntax", &e))
        })
        .collect();
    if problems.is_empty() {
        vec![problem(None, "cedar policy syntax", whole)]
    } else {
        problems
    }
}

pub use intent_runtime::cedar::Oracle;

/// One authorization question, parsing the Cedar part first (see [`Oracle::authorize`]; build
/// an [`Oracle`] once to ask many).
#[allow(clippy::too_many_arguments)] // the signature is the lead's contract
pub fn authorize(
    plan: &Plan,
    part: &CedarPart,
    agent: AgentId,
    cap: CapId,
    intent: IntentId,
    confidence: f64,
    depth: u32,
    data: &[DataId],
    context: &serde_json::Value,
) -> Result<bool, String> {
    Oracle::new(plan, part)?.authorize(plan, agent, cap, intent, confidence, depth, data, context)
}
