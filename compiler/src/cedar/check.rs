//! The generated Cedar part put through cedar-policy itself: `validate` parses the schema,
//! policies and entities and runs Cedar's validator in strict mode; `authorize` asks Cedar's
//! authorizer one question, so differential tests can hold the runtime's evaluator to Cedar's
//! meaning.
//!
//! Policies are re-keyed by their `@id` annotation (the rule id, or `agent:<name>`) before they
//! are validated, so Cedar's messages name the rule and each problem finds its way back to the
//! rule's source location. Cedar's help lines ("did you mean `amount`?") are kept.
//!
//! Cedar's validator type-checks every policy once per action of the schema, which made a plan
//! with thousands of capabilities (an agent permit each) quadratic to build. Every action of a
//! plan's schema has the same principal, resource and context, and no condition reads the
//! action, so a policy type-checks alike for every action it applies to: each policy is
//! validated against a schema holding only the actions it names (rules name none: one
//! action stands for all), agent permits in batches of about [`ACTIONS_PER_BATCH`] actions.
//! Same verdicts, linear work.

use super::{entity_ref, policies, schema, CedarProblem};
use cedar_policy::{Entities, PolicySet, Schema, ValidationMode, Validator};
use intent_runtime::plan::{Agent, AgentId, CapId, CedarPart, DataId, IntentId, Plan, SrcId, Type};
use std::collections::{BTreeSet, HashMap, HashSet};
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

/// About how many actions a schema holds when agent permits are validated (an agent that
/// provides more is validated alone, with all of its own).
pub const ACTIONS_PER_BATCH: usize = 64;

fn validate_policies(
    plan: &Plan,
    part: &CedarPart,
    schema: Option<&Schema>,
    problems: &mut Vec<CedarProblem>,
) {
    let sources = policies::policy_sources(plan);
    let set = match load_policies(&part.policies, &sources) {
        Ok(set) => set,
        Err(errors) => {
            problems.extend(errors);
            return;
        }
    };
    // A schema that does not parse is reported already; nothing can be validated against it.
    let Some(full) = schema else { return };
    let per_action: Vec<String> = plan
        .capabilities
        .iter()
        .map(|c| format!(" for {}", entity_ref("Action", &c.name)))
        .collect();
    let mut seen: HashSet<CedarProblem> = problems.iter().cloned().collect();
    for (caps, batch) in batches(plan, &set) {
        // The batch's schema; should it not parse, the whole schema does the job (slowly).
        let small = caps.and_then(|caps| {
            let mut actions = caps
                .iter()
                .filter_map(|c| plan.capabilities.get(*c as usize));
            let text = schema::render_actions(plan, &mut actions);
            Schema::from_cedarschema_str(&text).ok().map(|(s, _)| s)
        });
        let schema = small.unwrap_or_else(|| full.clone());
        let result = Validator::new(schema).validate(&batch, ValidationMode::Strict);
        for e in result.validation_errors() {
            let id = batch.policy(e.policy_id()).and_then(|p| p.annotation("id"));
            let src = id.and_then(|id| sources.get(id)).copied();
            let mut p = problem(src, "cedar", e);
            // Name the rule, not Cedar's positional id.
            if let Some(id) = id {
                p.message = p
                    .message
                    .replace(&format!("`{}`", e.policy_id()), &format!("`{id}`"));
            }
            // Cedar checks a policy once per action it applies to, and every action has the
            // same context: say it once, without naming an action.
            if p.message.contains(" for Action::") {
                for noise in &per_action {
                    p.message = p.message.replace(noise, "");
                }
            }
            if seen.insert(p.clone()) {
                problems.push(p);
            }
        }
    }
}

/// The policies in groups to validate together, each with the capabilities its schema must
/// hold (their groups added; `None`: the whole schema).
fn batches(plan: &Plan, set: &PolicySet) -> Vec<(Option<BTreeSet<CapId>>, PolicySet)> {
    let agents: HashMap<String, &Agent> = plan
        .agents
        .iter()
        .map(|a| (policies::agent_policy_id(&a.name), a))
        .collect();
    let mut rules = PolicySet::new();
    let mut out: Vec<(Option<BTreeSet<CapId>>, PolicySet)> = Vec::new();
    let mut caps: BTreeSet<CapId> = BTreeSet::new();
    let mut batch = PolicySet::new();
    for p in set.policies() {
        let agent = p.annotation("id").and_then(|id| agents.get(id));
        let Some(agent) = agent else {
            // A rule (it names no action) or anything unexpected: with the rules.
            let _ = rules.add(p.clone());
            continue;
        };
        let mine = with_groups(plan, agent.provides.iter().copied());
        let fits = caps.union(&mine).count() <= ACTIONS_PER_BATCH;
        if !fits && !caps.is_empty() {
            out.push((Some(std::mem::take(&mut caps)), std::mem::take(&mut batch)));
        }
        caps.extend(mine);
        let _ = batch.add(p.clone());
    }
    if !caps.is_empty() {
        out.push((Some(caps), batch));
    }
    // Rules apply to every action alike: one action (the first capability) stands for all.
    // A plan without capabilities has no action at all: its whole schema is as small.
    let first: Option<BTreeSet<CapId>> =
        (!plan.capabilities.is_empty()).then(|| with_groups(plan, std::iter::once(0)));
    out.push((first, rules));
    out
}

/// The capabilities with every group above them.
fn with_groups(plan: &Plan, caps: impl Iterator<Item = CapId>) -> BTreeSet<CapId> {
    let mut out = BTreeSet::new();
    for c in caps {
        let mut at = Some(c);
        // A group is above its members in a tree: the walk ends at a root, or at a
        // capability already taken (whose groups are taken too).
        while let Some(c) = at.filter(|c| out.insert(*c)) {
            at = plan.capabilities.get(c as usize).and_then(|x| x.parent);
        }
    }
    out
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
