//! Context fields a request gives that the plan does not declare. The engine ignores them, so a
//! misspelt field (`amout` for `amount`) would otherwise change a decision silently: callers
//! warn about them (`intent eval`, `unknown_fields` in the sidecar's answer) or refuse the
//! request (`--strict`: `intent eval` exits non-zero, the sidecar and the tower Layer answer
//! 400), naming each field with the declared field it is closest to.

use crate::plan::Type;
use serde::Serialize;
use serde_json::{Map, Value as Json};

/// A context field the plan does not declare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownField {
    /// Its dotted path: `amout`, `subject.residncy`.
    pub path: String,
    /// The declared field (its dotted path) it is closest to, when one is close.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

impl UnknownField {
    /// One line: "`amout` is not a context field of the plan; did you mean `amount`?"
    pub fn message(&self) -> String {
        match &self.suggestion {
            Some(s) => format!(
                "`{}` is not a context field of the plan; did you mean `{s}`?",
                self.path
            ),
            None => format!("`{}` is not a context field of the plan", self.path),
        }
    }
}

/// The fields of `context` that `schema` (the plan's context, a record type) does not declare,
/// in the request's order; records the schema declares are looked into. The walk goes no
/// deeper than the schema, whose nesting the compiler bounds, and the request's nesting is
/// bounded when it is read (`limits::MAX_DEPTH`).
pub fn unknown_fields(schema: &Type, context: &Map<String, Json>) -> Vec<UnknownField> {
    let mut out = Vec::new();
    walk(schema, context, "", &mut out);
    out
}

/// All the unknown fields, one a line (for an error or a warning).
pub fn describe(fields: &[UnknownField]) -> String {
    fields
        .iter()
        .map(UnknownField::message)
        .collect::<Vec<_>>()
        .join("\n")
}

fn walk(schema: &Type, context: &Map<String, Json>, prefix: &str, out: &mut Vec<UnknownField>) {
    let Type::Record { fields } = schema else {
        return;
    };
    let path = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        }
    };
    for (key, value) in context {
        match (fields.iter().find(|f| &f.name == key), value) {
            (Some(f), Json::Object(inner)) => walk(&f.ty, inner, &path(key), out),
            (Some(_), _) => {}
            (None, _) => out.push(UnknownField {
                path: path(key),
                suggestion: closest(key, fields.iter().map(|f| f.name.as_str())).map(&path),
            }),
        }
    }
}

/// The candidate closest to `name`, if one is close enough to be what was meant (the rule of
/// the compiler's "did you mean").
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(name, c);
        let close = score > 0.8 || strsim::levenshtein(name, c) <= name.len().max(2) / 3;
        if close && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Field;
    use serde_json::json;

    fn schema() -> Type {
        Type::Record {
            fields: vec![
                Field {
                    name: "amount".into(),
                    optional: false,
                    ty: Type::Number,
                    data: None,
                    claim: None,
                },
                Field {
                    name: "subject".into(),
                    optional: true,
                    ty: Type::Record {
                        fields: vec![Field {
                            name: "residency".into(),
                            optional: false,
                            ty: Type::String,
                            data: None,
                            claim: None,
                        }],
                    },
                    data: None,
                    claim: None,
                },
            ],
        }
    }

    #[test]
    fn misspelt_fields_are_named_with_the_field_meant() {
        let ctx = json!({"amout": 9000, "subject": {"residncy": "EU"}, "zzz": 1});
        let Json::Object(ctx) = ctx else { return };
        let found = unknown_fields(&schema(), &ctx);
        let paths: Vec<(&str, Option<&str>)> = found
            .iter()
            .map(|u| (u.path.as_str(), u.suggestion.as_deref()))
            .collect();
        assert_eq!(
            paths,
            vec![
                ("amout", Some("amount")),
                ("subject.residncy", Some("subject.residency")),
                ("zzz", None)
            ]
        );
        assert_eq!(
            found.first().map(UnknownField::message).as_deref(),
            Some("`amout` is not a context field of the plan; did you mean `amount`?")
        );
    }

    #[test]
    fn declared_fields_are_not_reported() {
        let ctx = json!({"amount": 1, "subject": {"residency": "EU"}});
        let Json::Object(ctx) = ctx else { return };
        assert!(unknown_fields(&schema(), &ctx).is_empty());
    }
}
