//! Cedar's JSON for a plan's entities (data classes, intents, agents) and for a request's
//! context, with numbers written as Cedar decimals (`{"__extn": {"fn": "decimal", ..}}`) and
//! durations as whole milliseconds, as the schema declares them.

use super::decimal_json;
use intent_runtime::plan::{Plan, Value};
use serde_json::{json, Map, Value as Json};

fn uid(ty: &str, id: &str) -> Json {
    json!({ "type": ty, "id": id })
}

fn entity_json(ty: &str, id: &str) -> Json {
    json!({ "__entity": uid(ty, id) })
}

/// A label literal as a Cedar attribute value.
fn label_json(value: &Value) -> Json {
    match value {
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(x) => decimal_json(*x),
        Value::String(s) => Json::String(s.clone()),
        Value::List(items) => Json::Array(items.iter().map(label_json).collect()),
    }
}

/// The entities array: every data class (with its parent), every intent, every agent.
/// Ids the plan does not define are left out here; the schema check reports what they break.
pub(super) fn render(plan: &Plan) -> Json {
    let mut entities =
        Vec::with_capacity(plan.data_classes.len() + plan.intents.len() + plan.agents.len());
    for class in &plan.data_classes {
        let parents: Vec<Json> = class
            .parent
            .and_then(|p| plan.data_classes.get(p as usize))
            .map(|p| uid("DataClass", &p.name))
            .into_iter()
            .collect();
        entities
            .push(json!({ "uid": uid("DataClass", &class.name), "attrs": {}, "parents": parents }));
    }
    for intent in &plan.intents {
        entities.push(json!({ "uid": uid("Intent", &intent.name), "attrs": {}, "parents": [] }));
    }
    for agent in &plan.agents {
        let labels: Map<String, Json> = agent
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), label_json(v)))
            .collect();
        let cleared: Vec<Json> = agent
            .cleared
            .iter()
            .filter_map(|&d| plan.data_classes.get(d as usize))
            .map(|d| entity_json("DataClass", &d.name))
            .collect();
        let provides: Vec<Json> = agent
            .provides
            .iter()
            .filter_map(|&c| plan.capabilities.get(c as usize))
            .map(|c| Json::String(c.name.clone()))
            .collect();
        entities.push(json!({
            "uid": uid("Agent", &agent.name),
            "attrs": {
                "name": agent.name,
                "trust": decimal_json(agent.trust),
                "cost": decimal_json(agent.cost),
                "region": agent.region,
                "zone": agent.zone,
                "labels": labels,
                "cleared": cleared,
                "provides": provides,
            },
            "parents": [],
        }));
    }
    Json::Array(entities)
}
