//! The JSON body of an authorization answer (`/v1/authz`, the tower Layer): the decision
//! without its trace, written straight from the decision (`json_write.rs`: no JSON value is
//! built, and serde writes only what is rare). Its keys are the decision's in the order these
//! answers have always had them: `decision_id` where `trace` stands in the decision, then
//! `plan_hash`, then any extra key (the delegation tokens).

use crate::decision::Decision;
use crate::json_write::{into_string, Out};
use serde::Serialize;

/// The JSON body of an answer: the decision without its trace.
pub fn answer_body(d: &Decision) -> String {
    answer_body_with::<()>(d, None)
}

/// The answer's body, with one more key (`tokens`, say) when `extra` is given.
pub fn answer_body_with<T: Serialize + ?Sized>(d: &Decision, extra: Option<(&str, &T)>) -> String {
    let mut buf = Vec::with_capacity(512);
    Out {
        buf: &mut buf,
        line: false,
    }
    .answer(d, extra);
    into_string(buf)
}

/// `value` as JSON text, written into a buffer of `capacity` bytes to start with: one
/// allocation for an answer of about that size, where growing from empty takes several.
pub(crate) fn json_text(value: &impl Serialize, capacity: usize) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut out, value)?;
    // serde_json writes only UTF-8.
    String::from_utf8(out).map_err(serde::ser::Error::custom)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::decision::{
        DecisionId, FilledStep, Obligation, Outcome, TraceEntry, TraceKind, TraceWhat,
    };
    use serde_json::Value as Json;
    use std::sync::Arc;

    /// How the body was made before it was written straight: the decision as a JSON value,
    /// its trace removed, the extra key added.
    fn through_a_value(d: &Decision, extra: Option<(&str, Json)>) -> String {
        let mut v = serde_json::to_value(d).unwrap();
        if let Json::Object(map) = &mut v {
            map.remove("trace");
            if let Some((k, x)) = extra {
                map.insert(k.into(), x);
            }
        }
        v.to_string()
    }

    fn every_field() -> Decision {
        // A struct literal without `..`: a field added to `Decision` fails to compile here,
        // until the body above writes it too.
        Decision {
            outcome: Outcome::Throttle,
            intent: Some("pay \"now\"".into()),
            confidence: Some(0.25),
            classifier: Some("builtin".into()),
            none_of_these: Some(0.125),
            steps: vec![FilledStep {
                step: "dispatch".into(),
                agent: "pay_bot".into(),
                endpoint: Some("http://pay:80".into()),
                handles: Arc::from(vec![]),
            }],
            human: Some("finance_lead".into()),
            deadline_ms: Some(3_600_000),
            question: Some("which one?".into()),
            reason: Some("over the limit – wait".into()),
            retry_after_ms: Some(1500),
            obligations: vec![
                Obligation::Audit {
                    rule: "audit#1".into(),
                    because: None,
                },
                Obligation::Redact {
                    data: vec!["pii".into()],
                },
            ],
            trace: vec![TraceEntry {
                kind: TraceKind::Guard,
                what: TraceWhat::Text("limit".into()),
                matched: true,
                detail: None,
                at: None,
            }]
            .into(),
            plan_hash: "ab12".into(),
            decision_id: DecisionId { at_ms: 7, seq: 9 },
        }
    }

    #[test]
    fn the_body_is_the_decision_without_its_trace_as_it_always_was() {
        let full = every_field();
        let bare = Decision {
            classifier: None,
            none_of_these: None,
            intent: None,
            confidence: None,
            steps: vec![],
            human: None,
            deadline_ms: None,
            question: None,
            reason: None,
            retry_after_ms: None,
            obligations: vec![],
            ..full.clone()
        };
        let parsed = |text: &str| serde_json::from_str::<Json>(text).unwrap();
        for d in [&full, &bare] {
            assert_eq!(parsed(&answer_body(d)), parsed(&through_a_value(d, None)));
            let tokens = serde_json::json!([{"step": "dispatch", "token": "a.b.c"}]);
            assert_eq!(
                parsed(&answer_body_with(d, Some(("tokens", &tokens)))),
                parsed(&through_a_value(d, Some(("tokens", tokens.clone()))))
            );
        }
        // The keys in the order the answers have in the sidecar (where serde_json keeps the
        // order of a map; a build without that feature used to sort them).
        let body = answer_body_with(&full, Some(("tokens", &[0])));
        let at = |key: &str| body.find(&format!("\"{key}\":")).unwrap();
        let order = [
            "outcome",
            "intent",
            "confidence",
            "classifier",
            "none_of_these",
            "steps",
            "human",
            "deadline_ms",
            "question",
            "reason",
            "retry_after_ms",
            "obligations",
            "decision_id",
            "plan_hash",
            "tokens",
        ];
        assert!(order.windows(2).all(|w| at(w[0]) < at(w[1])), "{body}");
    }
}
