//! The context check of a decision (step 3 of docs/concepts.md, "One decision, step by step"):
//! a request's context fields against the plan's context schema, in place, naming the field
//! only when a message is written.

use crate::plan::{self, Type};
use serde_json::{Map, Value as Json};

/// Checks a request's context fields against the plan's context schema (a record).
pub(super) fn check_context(ty: &Type, context: &Map<String, Json>) -> Result<(), String> {
    match ty {
        Type::Record { fields } => check_record(fields, context, "context"),
        other => Err(format!(
            "`context` should be {}, not an object",
            type_word(other)
        )),
    }
}

/// True when `v` is a scalar of type `ty`: the common case, checked without naming the field.
fn scalar_fits(ty: &Type, v: &Json) -> bool {
    match (ty, v) {
        (Type::Bool, Json::Bool(_))
        | (Type::Number | Type::Duration, Json::Number(_))
        | (Type::String, Json::String(_)) => true,
        (Type::Enum { values }, Json::String(s)) => values.contains(s),
        _ => false,
    }
}

/// Checks a JSON value against a schema type (`what` names it in the message).
fn check_value(ty: &Type, v: &Json, what: &str) -> Result<(), String> {
    match (ty, v) {
        (Type::Bool, Json::Bool(_))
        | (Type::Number | Type::Duration, Json::Number(_))
        | (Type::String, Json::String(_)) => Ok(()),
        (Type::Enum { values }, Json::String(s)) if values.contains(s) => Ok(()),
        (Type::Enum { values }, Json::String(s)) => Err(format!(
            "`{what}` is \"{s}\", not one of {}",
            values.join(", ")
        )),
        (Type::Set { of } | Type::List { of }, Json::Array(items)) => {
            items.iter().try_for_each(|i| check_value(of, i, what))
        }
        (Type::Record { fields }, Json::Object(map)) => check_record(fields, map, what),
        (_, Json::Null) => Err(format!("`{what}` is null")),
        (ty, v) => Err(format!(
            "`{what}` should be {}, not {}",
            type_word(ty),
            json_word(v)
        )),
    }
}

fn check_record(fields: &[plan::Field], map: &Map<String, Json>, what: &str) -> Result<(), String> {
    for f in fields {
        // The field's name in messages, written only when needed.
        let path = || {
            if what == "context" {
                f.name.clone()
            } else {
                format!("{what}.{}", f.name)
            }
        };
        match crate::eval::get(map, &f.name) {
            None | Some(Json::Null) if f.optional => {}
            None => return Err(format!("the required field `{}` is missing", path())),
            Some(v) if scalar_fits(&f.ty, v) => {}
            Some(v) => check_value(&f.ty, v, &path())?,
        }
    }
    Ok(())
}

fn type_word(t: &Type) -> &'static str {
    match t {
        Type::Bool => "a boolean",
        Type::Number => "a number",
        Type::Duration => "a duration in milliseconds",
        Type::String | Type::Enum { .. } => "a string",
        Type::Set { .. } | Type::List { .. } => "an array",
        Type::Record { .. } => "an object",
    }
}

fn json_word(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}
