//! Record schemas: the `context` blocks merged into one request schema, and `input` schemas.
//! A field may be declared in several `context` blocks only with the same type.

use crate::codes::Code;
use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::hir::Workspace;
use crate::syntax::ast::*;
use intent_runtime::plan::{Field, Type};
use std::collections::BTreeMap;

const TYPE_NAMES: &[&str] = &["bool", "number", "string", "duration", "set", "list"];

/// The keys a request or a response holds besides its context fields, and what each is
/// (`runtime/src/request.rs`): a context field cannot have one of these names.
pub const REQUEST_KEYS: &[(&str, &str)] = &[
    ("intent", "the name of the intent"),
    ("text", "the text for the classifier"),
    ("confidence", "the classifier's confidence, from 0 to 1"),
    (
        "caller",
        "the agent that raised the request and its lineage",
    ),
    ("agent", "the agent that answered, in a response"),
    ("data", "the data classes a response carries"),
    ("response", "an agent's response, in a test"),
];

pub fn merge_context(ws: &Workspace<'_>, diags: &mut Vec<Diagnostic>) -> Type {
    let mut fields: Vec<Field> = Vec::new();
    let mut origin: BTreeMap<String, (usize, Span)> = BTreeMap::new();
    for (file, schema) in &ws.contexts {
        let path = ws.path(*file);
        no_marks(path, schema, diags);
        for f in schema.iter() {
            if let Some((key, what)) = REQUEST_KEYS.iter().find(|(k, _)| *k == f.name.text) {
                diags.push(
                    Diagnostic::new(
                        Code::SHADOWS_REQUEST_KEY,
                        path,
                        f.name.span,
                        format!("context field `{key}` has the name of a request key"),
                    )
                    .with_label(format!("a request's own `{key}`"))
                    .with_help(format!(
                        "a request's `{key}` is {what}, so no context field of that name could be sent; rename the field, e.g. `{key}_value`"
                    )),
                );
            }
        }
        let Type::Record { fields: these } = record_with(path, schema, true, diags) else {
            continue;
        };
        // `record_with` sorts the fields by name and drops a repeated one, so each field's
        // span is found by its name (the first declaration, as `record_with` keeps).
        for f in these {
            let Some(span) = schema
                .iter()
                .find(|a| a.name.text == f.name)
                .map(|a| a.name.span)
            else {
                continue;
            };
            match origin.get(&f.name) {
                Some((pf, ps)) => {
                    let same = fields.iter().any(|g| {
                        g.name == f.name
                            && g.ty == f.ty
                            && g.optional == f.optional
                            && g.claim == f.claim
                    });
                    if !same {
                        diags.push(
                            Diagnostic::new(Code::DUPLICATE_FIELD, path, span, format!("context field `{}` is declared again with another type", f.name))
                                .with_label("declared again here")
                                .with_secondary(ws.path(*pf), *ps, "first declared here")
                                .with_help("context fields may be spread over files only when they agree: give both the same type"),
                        );
                    }
                }
                None => {
                    origin.insert(f.name.clone(), (*file, span));
                    fields.push(f);
                }
            }
        }
    }
    fields.sort_by(|a, b| a.name.cmp(&b.name));
    Type::Record { fields }
}

/// Reports each field of `schema` (nested ones too) marked with a data class: only the fields
/// of an intent's `output` may be (`email: string (pii)`).
pub fn no_marks(file: &str, schema: &[FieldSchema], diags: &mut Vec<Diagnostic>) {
    for f in schema {
        if let Some(d) = &f.data {
            diags.push(
                Diagnostic::new(
                    Code::BAD_FIELD_VALUE,
                    file,
                    d.span,
                    format!(
                        "field `{}` is marked with a data class outside an `output`",
                        f.name.text
                    ),
                )
                .with_label("only an intent's `output` marks fields with data classes")
                .with_help("remove the mark, or say what the intent handles with `handles`"),
            );
        }
        if let TypeExpr::Record(inner, _) = &f.ty {
            no_marks(file, inner, diags);
        }
    }
}

/// Converts a list of field schemas to a record type, reporting duplicates and unknown types.
/// A field filled from a claim (`= claim "tier"`) is E0115 here: only `context` fields are.
pub fn record(file: &str, schema: &[FieldSchema], diags: &mut Vec<Diagnostic>) -> Type {
    record_with(file, schema, false, diags)
}

/// [`record`], where `claims` says whether the fields may be filled from claims (the top level
/// of a `context` block).
fn record_with(
    file: &str,
    schema: &[FieldSchema],
    claims: bool,
    diags: &mut Vec<Diagnostic>,
) -> Type {
    let mut fields: Vec<Field> = Vec::new();
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for f in schema {
        if let Some(prev) = seen.get(f.name.text.as_str()) {
            diags.push(
                Diagnostic::new(
                    Code::DUPLICATE_FIELD,
                    file,
                    f.name.span,
                    format!("field `{}` is declared twice", f.name.text),
                )
                .with_label("declared again here")
                .with_secondary(file, *prev, "first declared here")
                .with_help("remove one of the two"),
            );
            continue;
        }
        seen.insert(&f.name.text, f.name.span);
        let t = ty(file, &f.ty, diags);
        let claim = f
            .claim
            .as_ref()
            .and_then(|(name, span)| claim(file, name, *span, claims, &t, diags));
        fields.push(Field {
            name: f.name.text.clone(),
            optional: f.optional,
            ty: t,
            data: None,
            claim,
        });
    }
    fields.sort_by(|a, b| a.name.cmp(&b.name));
    Type::Record { fields }
}

/// The claims a token always has and that say nothing about the request: the issuer, audience,
/// times and id the trust broker checks, and `sub`, which names the caller.
const REGISTERED_CLAIMS: &[&str] = &["iss", "sub", "aud", "exp", "nbf", "iat", "jti"];

/// The claim a field is filled from, when it may be: a top-level `context` field of a scalar
/// type (or a set or list of strings), from a claim that is not one of the registered ones.
fn claim(
    file: &str,
    name: &str,
    span: Span,
    allowed: bool,
    ty: &Type,
    diags: &mut Vec<Diagnostic>,
) -> Option<String> {
    let scalar = |t: &Type| {
        matches!(
            t,
            Type::Bool | Type::Number | Type::String | Type::Enum { .. }
        )
    };
    let problem = if !allowed {
        Some((
            "only a top-level field of a `context` block is filled from a claim".to_string(),
            "move the field to the top of a `context` block, or remove `= claim ...`",
        ))
    } else if name.is_empty() || REGISTERED_CLAIMS.contains(&name) {
        Some((
            format!("\"{name}\" is not a claim a field can be filled from"),
            "name a claim of your identity provider's tokens; `sub` is already the caller, and `iss`, `aud`, `exp`, `nbf`, `iat` and `jti` are checked, not read",
        ))
    } else {
        match ty {
            t if scalar(t) => None,
            Type::Set { of } | Type::List { of } if matches!(**of, Type::String) => None,
            // An unknown type, already reported.
            Type::Enum { .. } => None,
            _ => Some((
                "a claim fills a field of type bool, number, string, a string enum, or a set or list of strings".to_string(),
                "give the field one of those types",
            )),
        }
    };
    match problem {
        None => Some(name.to_string()),
        Some((message, help)) => {
            diags.push(
                Diagnostic::new(Code::BAD_CLAIM, file, span, message)
                    .with_label("not filled from here")
                    .with_help(help),
            );
            None
        }
    }
}

fn ty(file: &str, t: &TypeExpr, diags: &mut Vec<Diagnostic>) -> Type {
    match t {
        TypeExpr::Named(n) => match n.text.as_str() {
            "bool" => Type::Bool,
            "number" => Type::Number,
            "string" => Type::String,
            "duration" => Type::Duration,
            other => {
                let help = did_you_mean(other, TYPE_NAMES.iter().copied())
                    .unwrap_or_else(|| "types are bool, number, string, duration, set<T>, list<T>, records `{..}` and string enums `\"a\" | \"b\"`".into());
                diags.push(
                    Diagnostic::new(
                        Code::UNKNOWN_TYPE,
                        file,
                        n.span,
                        format!("unknown type `{other}`"),
                    )
                    .with_label("not a type")
                    .with_help(help),
                );
                // Reported: an enum of no values stands for "unknown", so uses are not reported again.
                Type::Enum { values: Vec::new() }
            }
        },
        TypeExpr::Set(inner, _) => Type::Set {
            of: Box::new(ty(file, inner, diags)),
        },
        TypeExpr::List(inner, _) => Type::List {
            of: Box::new(ty(file, inner, diags)),
        },
        TypeExpr::Record(fields, _) => record(file, fields, diags),
        // Reported by the parser; an enum of no values stands for "unknown".
        TypeExpr::Error(_) => Type::Enum { values: Vec::new() },
        TypeExpr::Enum(values, _) => {
            let mut v: Vec<String> = values.iter().map(|(s, _)| s.clone()).collect();
            v.sort();
            v.dedup();
            Type::Enum { values: v }
        }
    }
}

/// The field `name` of a record type.
pub fn field<'t>(record: &'t Type, name: &str) -> Option<&'t Field> {
    match record {
        Type::Record { fields } => fields.iter().find(|f| f.name == name),
        _ => None,
    }
}

pub fn field_names(record: &Type) -> Vec<&str> {
    match record {
        Type::Record { fields } => fields.iter().map(|f| f.name.as_str()).collect(),
        _ => Vec::new(),
    }
}
