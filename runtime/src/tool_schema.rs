//! A tool's arguments and the intent's `input` type, for `intent mcp` (`crate::mcp`; here outside
//! that feature because it is pure, and fuzzed on its own, `fuzz/fuzz_targets/tool_schema.rs`):
//! the JSON Schema the gateway advertises for the tool (from the mesh, never from the upstream
//! server), the check of a call's arguments against it (what a model gets back when it sends a
//! wrong one), and the *shape* of a schema
//! (property names, JSON types, required names) that pins an upstream's definition of a tool:
//! a server whose shape differs from the mesh's is refused for that tool.

use crate::plan::{Field, Type};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The JSON Schema of a record type (an object schema, `additionalProperties: false`).
pub fn json_schema(ty: &Type) -> Map<String, Value> {
    match schema_of(ty) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn schema_of(ty: &Type) -> Value {
    match ty {
        Type::Bool => json!({"type": "boolean"}),
        Type::Number => json!({"type": "number"}),
        Type::String => json!({"type": "string"}),
        Type::Duration => json!({"type": "string", "description": "a duration such as 30s or 5m"}),
        Type::Enum { values } => json!({"type": "string", "enum": values}),
        Type::Set { of } | Type::List { of } => json!({"type": "array", "items": schema_of(of)}),
        Type::Record { fields } => {
            let props: Map<String, Value> = fields
                .iter()
                .map(|f| (f.name.clone(), schema_of(&f.ty)))
                .collect();
            let required: Vec<&str> = fields
                .iter()
                .filter(|f| !f.optional)
                .map(|f| f.name.as_str())
                .collect();
            json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
        }
    }
}

/// The schema of a tool without an `input`: an object with no properties.
pub fn empty_object() -> Map<String, Value> {
    json_schema(&Type::Record { fields: Vec::new() })
}

/// Why `args` do not fit record type `ty`: every problem, one per line, or none.
pub fn check_arguments(ty: &Type, args: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    if let Type::Record { fields } = ty {
        record(fields, args, "", &mut out);
    }
    out
}

/// At most this many problems are listed for one call.
const MAX_PROBLEMS: usize = 16;

fn record(fields: &[Field], obj: &Map<String, Value>, at: &str, out: &mut Vec<String>) {
    for f in fields {
        let path = format!("{at}{}", f.name);
        match obj.get(&f.name) {
            None | Some(Value::Null) if !f.optional => {
                push(out, format!("argument `{path}` is missing"))
            }
            None | Some(Value::Null) => {}
            Some(v) => value(&f.ty, v, &path, out),
        }
    }
    for k in obj.keys() {
        if !fields.iter().any(|f| &f.name == k) {
            let known: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            push(
                out,
                format!(
                    "argument `{at}{}` is not one of this tool's ({})",
                    crate::limits::echo(k),
                    known.join(", ")
                ),
            );
        }
    }
}

fn value(ty: &Type, v: &Value, path: &str, out: &mut Vec<String>) {
    let ok = match (ty, v) {
        (Type::Bool, Value::Bool(_)) | (Type::Number, Value::Number(_)) => true,
        (Type::String | Type::Duration, Value::String(_)) => true,
        (Type::Enum { values }, Value::String(s)) => {
            if !values.contains(s) {
                push(
                    out,
                    format!("argument `{path}` must be one of {}", values.join(", ")),
                );
            }
            true
        }
        (Type::Set { of } | Type::List { of }, Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                value(of, item, &format!("{path}[{i}]"), out);
            }
            true
        }
        (Type::Record { fields }, Value::Object(obj)) => {
            record(fields, obj, &format!("{path}."), out);
            true
        }
        _ => false,
    };
    if !ok {
        push(out, format!("argument `{path}` must be {}", describe(ty)));
    }
}

fn push(out: &mut Vec<String>, problem: String) {
    if out.len() < MAX_PROBLEMS {
        out.push(problem);
    }
}

fn describe(ty: &Type) -> &'static str {
    match ty {
        Type::Bool => "a boolean",
        Type::Number => "a number",
        Type::String => "a string",
        Type::Duration => "a duration string",
        Type::Enum { .. } => "a string",
        Type::Set { .. } | Type::List { .. } => "an array",
        Type::Record { .. } => "an object",
    }
}

/// The shape of a schema: each property's dotted path with its JSON type, and whether it is
/// required. Titles, descriptions, defaults and formats are left out: servers' SDKs add them
/// freely, and they do not change what a call may carry.
pub type Shape = BTreeMap<String, (String, bool)>;

/// The shape of a JSON Schema object (as an upstream advertises it), to the depth of
/// `crate::limits::MAX_DEPTH`.
pub fn shape(schema: &Map<String, Value>) -> Shape {
    let mut out = Shape::new();
    object_shape(schema, "", 0, &mut out);
    out
}

fn object_shape(schema: &Map<String, Value>, at: &str, depth: usize, out: &mut Shape) {
    if depth > crate::limits::MAX_DEPTH {
        return;
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, p) in props {
        let path = format!("{at}{name}");
        let ty = json_type(p);
        if let (Some(obj), "object") = (p.as_object(), ty.as_str()) {
            object_shape(obj, &format!("{path}."), depth + 1, out);
        }
        if let (Some(items), "array") = (p.get("items").and_then(Value::as_object), ty.as_str()) {
            out.insert(
                format!("{path}[]"),
                (json_type(&Value::Object(items.clone())), true),
            );
        }
        out.insert(path, (ty, required.contains(&name.as_str())));
    }
}

/// A property's JSON type: `type`, or the one non-null type of an `anyOf` (how Pydantic writes
/// an optional field), or `integer` read as `number` (a mesh has numbers only).
fn json_type(p: &Value) -> String {
    let t = match p.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("any")
            .to_string(),
        _ => match p.get("anyOf").and_then(Value::as_array) {
            Some(alts) => alts
                .iter()
                .map(json_type)
                .find(|t| t != "null")
                .unwrap_or_else(|| "any".into()),
            None if p.get("enum").is_some() => "string".into(),
            None => "any".into(),
        },
    };
    if t == "integer" {
        "number".into()
    } else {
        t
    }
}

/// The shape the mesh declares for a tool (its intent's `input`).
pub fn declared_shape(input: &Type) -> Shape {
    shape(&json_schema(input))
}

/// How an upstream's shape differs from the declared one, in words (empty: they agree).
pub fn differences(declared: &Shape, upstream: &Shape) -> Vec<String> {
    let mut out = Vec::new();
    for (k, (t, req)) in declared {
        match upstream.get(k) {
            None => out.push(format!("`{k}` is missing")),
            Some((ut, ureq)) => {
                if ut != t {
                    out.push(format!("`{k}` is {ut}, the mesh says {t}"));
                }
                if ureq != req {
                    let r = |b: bool| if b { "required" } else { "optional" };
                    out.push(format!("`{k}` is {}, the mesh says {}", r(*ureq), r(*req)));
                }
            }
        }
    }
    for k in upstream.keys() {
        if !declared.contains_key(k) {
            out.push(format!("`{k}` is not in the mesh"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refund() -> Type {
        Type::Record {
            fields: vec![
                Field {
                    name: "order_id".into(),
                    optional: false,
                    ty: Type::String,
                    data: None,
                    claim: None,
                },
                Field {
                    name: "amount".into(),
                    optional: false,
                    ty: Type::Number,
                    data: None,
                    claim: None,
                },
                Field {
                    name: "note".into(),
                    optional: true,
                    ty: Type::String,
                    data: None,
                    claim: None,
                },
            ],
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn arguments_are_checked_against_the_input() {
        let t = refund();
        assert!(check_arguments(&t, &obj(json!({"order_id": "o1", "amount": 3}))).is_empty());
        let p = check_arguments(&t, &obj(json!({"order_id": 4, "amout": 3})));
        assert_eq!(
            p,
            vec![
                "argument `order_id` must be a string",
                "argument `amount` is missing",
                "argument `amout` is not one of this tool's (order_id, amount, note)",
            ]
        );
    }

    #[test]
    fn a_pydantic_schema_has_the_shape_of_the_mesh() {
        // What the Python SDK advertises for `def refund_order(order_id: str, amount: float,
        // note: str | None = None)`.
        let upstream = obj(json!({
            "type": "object", "title": "refund_orderArguments",
            "properties": {
                "order_id": {"title": "Order Id", "type": "string"},
                "amount": {"title": "Amount", "type": "number"},
                "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null}
            },
            "required": ["order_id", "amount"]
        }));
        let d = declared_shape(&refund());
        assert_eq!(differences(&d, &shape(&upstream)), Vec::<String>::new());
        let changed = obj(json!({
            "type": "object",
            "properties": {"order_id": {"type": "integer"}, "amount": {"type": "number"}},
            "required": ["order_id", "amount"]
        }));
        assert_eq!(
            differences(&d, &shape(&changed)),
            vec![
                "`note` is missing",
                "`order_id` is number, the mesh says string"
            ]
        );
    }
}
