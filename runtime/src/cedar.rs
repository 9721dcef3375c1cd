//! Authorization through cedar-policy itself (feature `cedar`): the plan's generated Cedar
//! part parsed once, and each (agent, capability, intent, request) question asked of
//! `cedar_policy::Authorizer`. The engine uses it instead of its own indexed rules when built
//! with [`crate::Engine::with_cedar`]; the compiler uses it as the oracle its differential
//! tests hold the runtime to. Both answer the same on every request (tests/differential.rs).

use crate::plan::{AgentId, CapId, CedarPart, DataId, IntentId, Plan, Type};
use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityId, EntityTypeName, EntityUid, PolicyId,
    PolicySet, Request, Schema,
};
use serde_json::{json, Value as Json};
use std::str::FromStr;

/// The argument of a Cedar `decimal("…")`: four fraction digits, rounded half away from zero
/// from the shortest decimal form of `x` (so `0.00005` rounds up although its binary value is
/// a hair below). Values Cedar cannot hold (non-finite, out of range) come out as text Cedar
/// rejects, so the validator reports them instead of a silent clamp.
pub fn decimal_text(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    // Rust prints floats without an exponent, shortest round-trip form.
    let shortest = format!("{}", x.abs());
    let (int, frac) = shortest.split_once('.').unwrap_or((&shortest, ""));
    let mut digits: Vec<u8> = int
        .bytes()
        .chain(frac.bytes().chain(std::iter::repeat(b'0')).take(4))
        .collect();
    if frac.as_bytes().get(4).is_some_and(|d| *d >= b'5') {
        let mut carry = true;
        for d in digits.iter_mut().rev() {
            if *d == b'9' {
                *d = b'0';
            } else {
                *d += 1;
                carry = false;
                break;
            }
        }
        if carry {
            digits.insert(0, b'1');
        }
    }
    let negative = x < 0.0 && digits.iter().any(|d| *d != b'0');
    let (int, frac) = digits.split_at(digits.len().saturating_sub(4));
    format!(
        "{}{}.{}",
        if negative { "-" } else { "" },
        String::from_utf8_lossy(int),
        String::from_utf8_lossy(frac)
    )
}

/// Cedar's JSON escape for a decimal value (entities and context).
pub fn decimal_json(x: f64) -> Json {
    json!({ "__extn": { "fn": "decimal", "arg": decimal_text(x) } })
}

/// A Cedar entity reference in JSON (`{"__entity": {"type": .., "id": ..}}`).
fn entity_json(ty: &str, id: &str) -> Json {
    json!({ "__entity": { "type": ty, "id": id } })
}

/// A context value given as plain JSON (numbers as JSON numbers) in Cedar's JSON, following the
/// plan's type. What does not match the type is passed through for Cedar to reject.
fn context_value(ty: &Type, value: &Json) -> Json {
    match (ty, value) {
        (Type::Number, Json::Number(n)) => n.as_f64().map_or(Json::Null, decimal_json),
        (Type::Duration, Json::Number(n)) if n.is_f64() => {
            // Cedar has no fractional Long; milliseconds round half away from zero.
            n.as_f64().map_or(Json::Null, |x| json!(x.round() as i64))
        }
        (Type::Set { of } | Type::List { of }, Json::Array(items)) => {
            Json::Array(items.iter().map(|v| context_value(of, v)).collect())
        }
        (Type::Record { fields }, Json::Object(map)) => Json::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match fields.iter().find(|f| f.name == *k) {
                        Some(f) => context_value(&f.ty, v),
                        None => v.clone(),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        _ => value.clone(),
    }
}

/// The whole Cedar context of one authorization question: `confidence`, `depth`, `data` and the
/// request's own context fields.
pub fn context_json(
    plan: &Plan,
    caller: Option<AgentId>,
    confidence: f64,
    depth: u32,
    data: &[DataId],
    fields: &Json,
) -> Result<Json, String> {
    let Json::Object(_) = fields else {
        return Err(format!(
            "the request context must be a JSON object, not `{fields}`"
        ));
    };
    let Json::Object(mut map) = context_value(&plan.context, fields) else {
        return Err("the request context did not convert to an object".to_string());
    };
    let mut classes = Vec::with_capacity(data.len());
    for &id in data {
        let class = plan
            .data_classes
            .get(id as usize)
            .ok_or_else(|| format!("unknown data class id {id}"))?;
        classes.push(entity_json("DataClass", &class.name));
    }
    // The caller is an `Agent` entity in the context, left out when anonymous: `caller.*`
    // conditions are guarded with `context has caller`, so they are false without one.
    if let Some(c) = caller {
        let agent = plan
            .agents
            .get(c as usize)
            .ok_or_else(|| format!("unknown caller id {c}"))?;
        map.insert("caller".to_string(), entity_json("Agent", &agent.name));
    }
    map.insert("confidence".to_string(), decimal_json(confidence));
    map.insert("depth".to_string(), decimal_json(f64::from(depth)));
    map.insert("data".to_string(), Json::Array(classes));
    Ok(Json::Object(map))
}

fn uid(ty: &str, id: &str) -> Result<EntityUid, String> {
    let ty = EntityTypeName::from_str(ty).map_err(|e| format!("cedar entity type `{ty}`: {e}"))?;
    Ok(EntityUid::from_type_name_and_id(ty, EntityId::new(id)))
}

fn joined<T: std::fmt::Display>(what: &str, errors: impl IntoIterator<Item = T>) -> String {
    let errors: Vec<String> = errors.into_iter().map(|e| e.to_string()).collect();
    format!("{what}: {}", errors.join("; "))
}

/// The Cedar part of a plan, parsed once, ready to answer many authorization questions (the
/// oracle the runtime is tested against, and what the runtime's `cedar` mode would use).
pub struct Oracle {
    /// Whether the schema's context declares `caller` (some condition reads it).
    caller: bool,
    schema: Schema,
    policies: PolicySet,
    entities: Entities,
}

impl Oracle {
    /// Parses the schema, policies and entities; `Err` when any of them does not load.
    pub fn new(plan: &Plan, part: &CedarPart) -> Result<Oracle, String> {
        let (schema, _) =
            Schema::from_cedarschema_str(&part.schema).map_err(|e| format!("cedar schema: {e}"))?;
        let parsed =
            PolicySet::from_str(&part.policies).map_err(|e| format!("cedar policies: {e}"))?;
        // Each policy goes by the rule id its `@id` annotation names, so answers and subsets
        // can be told by rule.
        let mut policies = PolicySet::new();
        for p in parsed.policies() {
            let id = p
                .annotation("id")
                .map_or_else(|| p.id().to_string(), str::to_string);
            policies
                .add(p.new_id(PolicyId::new(id)))
                .map_err(|e| format!("cedar policies: {e}"))?;
        }
        let entities = Entities::from_json_value(part.entities.clone(), Some(&schema))
            .map_err(|e| format!("cedar entities: {e}"))?;
        Ok(Oracle {
            caller: crate::eval::plan_reads_caller(plan),
            schema,
            policies,
            entities,
        })
    }

    /// The loaded policies, each under the id its `@id` annotation names (a rule id, or
    /// `agent:<name>`), so a caller can assemble subsets of them (the decide benchmark's
    /// pre-split peer does).
    pub fn policies(&self) -> &PolicySet {
        &self.policies
    }

    /// May `agent` perform capability `cap` for `intent` with this request context? Builds a
    /// real `cedar_policy::Request` and asks `cedar_policy::Authorizer`.
    ///
    /// `context` is the request's context fields as plain JSON, shaped by `plan.context` (numbers
    /// as JSON numbers, durations as milliseconds, sets as arrays); `data` are the step's data
    /// classes. `Err` when the request does not fit the schema or a policy failed to evaluate:
    /// like the runtime, this oracle never answers "allow" past an error.
    #[allow(clippy::too_many_arguments)]
    pub fn authorize(
        &self,
        plan: &Plan,
        agent: AgentId,
        cap: CapId,
        intent: IntentId,
        confidence: f64,
        depth: u32,
        data: &[DataId],
        context: &serde_json::Value,
    ) -> Result<bool, String> {
        self.authorize_as(
            plan, None, agent, cap, intent, confidence, depth, data, context,
        )
    }

    /// [`Oracle::authorize`] for a request raised by `caller` (an agent of the plan, given to
    /// Cedar as `context.caller`; `None`: an anonymous caller).
    #[allow(clippy::too_many_arguments)]
    pub fn authorize_as(
        &self,
        plan: &Plan,
        caller: Option<AgentId>,
        agent: AgentId,
        cap: CapId,
        intent: IntentId,
        confidence: f64,
        depth: u32,
        data: &[DataId],
        context: &serde_json::Value,
    ) -> Result<bool, String> {
        let agent = plan
            .agents
            .get(agent as usize)
            .ok_or_else(|| format!("unknown agent id {agent}"))?;
        let cap = plan
            .capabilities
            .get(cap as usize)
            .ok_or_else(|| format!("unknown capability id {cap}"))?;
        let intent = plan
            .intents
            .get(intent as usize)
            .ok_or_else(|| format!("unknown intent id {intent}"))?;
        let principal = uid("Agent", &agent.name)?;
        let action = uid("Action", &cap.name)?;
        let resource = uid("Intent", &intent.name)?;

        // A plan that never reads the caller has no `caller` in its Cedar context.
        let caller = caller.filter(|_| self.caller);
        let context_json = context_json(plan, caller, confidence, depth, data, context)?;
        let context = Context::from_json_value(context_json, Some((&self.schema, &action)))
            .map_err(|e| format!("cedar context for Action::{:?}: {e}", cap.name))?;
        let request = Request::new(principal, action, resource, context, Some(&self.schema))
            .map_err(|e| format!("cedar request: {e}"))?;

        let response = Authorizer::new().is_authorized(&request, &self.policies, &self.entities);
        let errors: Vec<String> = response
            .diagnostics()
            .errors()
            .map(|e| e.to_string())
            .collect();
        if !errors.is_empty() {
            return Err(joined("cedar evaluation", errors));
        }
        Ok(response.decision() == Decision::Allow)
    }
}
