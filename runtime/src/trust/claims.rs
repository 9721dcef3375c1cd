//! Context fields filled from the verified bearer token's claims (`tier: string = claim
//! "tier"` in a `context` block; docs/identity.md, "Claims"). With a bearer token required,
//! such a field comes from the token alone: a request that sends it itself is refused (400),
//! never merged, as a client-named caller is. A claim the token lacks leaves the field absent
//! (so a required field fails the decision's context check, which denies). A claim whose value
//! is not a scalar or a list of scalars is refused (403) before anything reads it, so no claim
//! is walked deeper than one list.

use super::Refusal;
use crate::plan::{Plan, Type};
use http::StatusCode;
use serde_json::{Map, Value};

/// The claims of a verified bearer token (its `sub` and `exp` aside).
pub(crate) type Claims = Map<String, Value>;

/// Fills `context` from `claims` (`None`: no bearer token was verified) for every top-level
/// field of the plan's context that names a claim.
pub(crate) fn fill(
    plan: &Plan,
    claims: Option<&Claims>,
    context: &mut Map<String, Value>,
) -> Result<(), Refusal> {
    let Type::Record { fields } = &plan.context else {
        return Ok(());
    };
    for f in fields {
        let Some(claim) = &f.claim else { continue };
        if context.contains_key(&f.name) {
            return Err(Refusal {
                status: StatusCode::BAD_REQUEST,
                reason: "claim_from_client",
                message: format!(
                    "context field `{}` comes from the bearer token's claim `{}`; the request gives it itself",
                    f.name,
                    crate::limits::echo(claim)
                ),
            });
        }
        let Some(value) = claims.and_then(|c| c.get(claim)) else {
            continue;
        };
        if !shallow(value) {
            return Err(Refusal {
                status: StatusCode::FORBIDDEN,
                reason: "bad_claim",
                message: format!(
                    "the bearer token's claim `{}` for context field `{}` is neither a scalar nor a list of scalars",
                    crate::limits::echo(claim),
                    f.name
                ),
            });
        }
        if !value.is_null() {
            context.insert(f.name.clone(), value.clone());
        }
    }
    Ok(())
}

/// A scalar, or a list of scalars: what a field filled from a claim can hold.
fn shallow(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
        Value::Array(items) => items
            .iter()
            .all(|i| matches!(i, Value::Bool(_) | Value::Number(_) | Value::String(_))),
        Value::Object(_) => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::plan::Field;
    use serde_json::json;

    fn plan() -> Plan {
        let mut plan: Plan =
            serde_json::from_str(include_str!("../../tests/fixtures/trust_plan.json")).unwrap();
        plan.context = Type::Record {
            fields: vec![
                Field {
                    name: "channel".into(),
                    optional: false,
                    ty: Type::String,
                    data: None,
                    claim: None,
                },
                Field {
                    name: "tier".into(),
                    optional: true,
                    ty: Type::String,
                    data: None,
                    claim: Some("tier".into()),
                },
            ],
        };
        plan
    }

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_claim_fills_its_field_and_only_its_field() {
        let claims = object(json!({"tier": "gold", "channel": "api", "iss": "x"}));
        let mut ctx = object(json!({"channel": "web"}));
        fill(&plan(), Some(&claims), &mut ctx).unwrap();
        assert_eq!(
            Value::Object(ctx),
            json!({"channel": "web", "tier": "gold"})
        );
    }

    #[test]
    fn a_missing_claim_leaves_the_field_absent() {
        let mut ctx = object(json!({"channel": "web"}));
        fill(&plan(), Some(&Map::new()), &mut ctx).unwrap();
        fill(&plan(), None, &mut ctx).unwrap();
        assert_eq!(Value::Object(ctx), json!({"channel": "web"}));
    }

    #[test]
    fn a_field_the_client_sends_itself_is_refused() {
        let claims = object(json!({"tier": "basic"}));
        let mut ctx = object(json!({"channel": "web", "tier": "gold"}));
        let r = fill(&plan(), Some(&claims), &mut ctx).unwrap_err();
        assert_eq!(
            (r.status, r.reason),
            (StatusCode::BAD_REQUEST, "claim_from_client")
        );
        // Even when the token lacks the claim.
        let r = fill(&plan(), None, &mut ctx).unwrap_err();
        assert_eq!(r.reason, "claim_from_client");
    }

    #[test]
    fn a_nested_claim_is_refused_before_it_is_read() {
        for bad in [json!({"a": 1}), json!([["x"]]), json!([{"a": 1}])] {
            let claims = object(json!({ "tier": bad }));
            let mut ctx = object(json!({"channel": "web"}));
            let r = fill(&plan(), Some(&claims), &mut ctx).unwrap_err();
            assert_eq!((r.status, r.reason), (StatusCode::FORBIDDEN, "bad_claim"));
        }
    }
}
