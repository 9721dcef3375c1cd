//! The `x-intent-*` headers read into a request, and a decision written back into them.

#![allow(clippy::unwrap_used)]
use super::*;
use serde_json::json;

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

#[test]
fn a_request_reads_from_headers() {
    let r = request_from_headers(&headers(&[
        (NAME, "pay"),
        (CONFIDENCE, "0.9"),
        (CALLER, "desk"),
        (LINEAGE, "order, pay"),
        (CONTEXT, r#"{"channel":"web","subject":{"id":7}}"#),
        ("x-intent-context-amount", "12000"),
        ("x-intent-context-subject.residency", "EU"),
        ("x-intent-context-urgent", "true"),
    ]))
    .unwrap();
    assert_eq!(r.intent.as_deref(), Some("pay"));
    assert_eq!(r.confidence, Some(0.9));
    let caller = r.caller.unwrap();
    assert_eq!(caller.agent.as_deref(), Some("desk"));
    assert_eq!(caller.lineage, ["order", "pay"]);
    assert_eq!(
        json!(r.context),
        json!({"channel": "web", "amount": 12000, "subject": {"id": 7, "residency": "EU"}, "urgent": true})
    );
}

/// Regression (#10): a per-field header overrode `x-intent-context` (and could replace a
/// whole object of it), and JSON keys given twice were last-wins: `residency` decided as US.
#[test]
fn a_context_field_given_twice_is_refused_wherever_it_comes_from() {
    let twice = |pairs: &[(&str, &str)]| {
        let e = request_from_headers(&headers(pairs)).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST, "{e}");
        e.to_string()
    };
    let e = twice(&[
        (CONTEXT, r#"{"residency":"EU"}"#),
        ("x-intent-context-residency", "US"),
    ]);
    assert_eq!(e, "header `x-intent-context-residency`: gives the context field `residency` a second time (in x-intent-context or another header); give each field once");
    // Replacing an object, or going through a value that is not one.
    twice(&[
        (CONTEXT, r#"{"subject":{"residency":"EU"}}"#),
        ("x-intent-context-subject", r#"{"residency":"US"}"#),
    ]);
    twice(&[
        (CONTEXT, r#"{"subject":"EU"}"#),
        ("x-intent-context-subject.residency", "US"),
    ]);
    twice(&[
        ("x-intent-context-subject", "EU"),
        ("x-intent-context-subject.residency", "US"),
    ]);
    let e = twice(&[
        ("x-intent-context-residency", "EU"),
        ("x-intent-context-residency", "US"),
    ]);
    assert!(e.contains("a second time"), "{e}");
    // Keys given twice inside JSON, in the context or in a field's value.
    let e = twice(&[(CONTEXT, r#"{"residency":"EU","residency":"US"}"#)]);
    assert!(e.contains("duplicate key `residency`"), "{e}");
    let e = twice(&[("x-intent-context-subject", r#"{"r":"EU","r":"US"}"#)]);
    assert!(e.contains("duplicate key `r`"), "{e}");
}

#[test]
fn a_gateway_can_ignore_or_refuse_per_field_headers() {
    let h = headers(&[
        (CONTEXT, r#"{"residency":"EU"}"#),
        ("x-intent-context-residency", "US"),
        ("x-intent-context-urgent", "true"),
    ]);
    let r = read_request(&h, FieldHeaders::Ignore).unwrap();
    assert_eq!(json!(r.context), json!({"residency": "EU"}));
    let e = read_request(&h, FieldHeaders::Refuse).unwrap_err();
    assert_eq!(e.status, StatusCode::BAD_REQUEST);
    assert!(
        e.message
            .starts_with("per-field context headers are refused"),
        "{e}"
    );
    assert_eq!(FieldHeaders::named("ignore"), Some(FieldHeaders::Ignore));
    assert_eq!(FieldHeaders::named("override"), None);
}

#[test]
fn headers_past_a_limit_are_refused_with_the_limit() {
    let refused = |h: HeaderMap| {
        let e = read_request(&h, FieldHeaders::Merge).unwrap_err();
        (e.status.as_u16(), e.message)
    };
    let (status, m) = refused(headers(&[(TEXT, &"a".repeat(MAX_TEXT + 1))]));
    assert_eq!(
        (status, m.as_str()),
        (
            431,
            "the text has 4097 bytes, more than the 4096 the classifier reads"
        )
    );
    assert!(read_request(
        &headers(&[(TEXT, &"a".repeat(MAX_TEXT))]),
        FieldHeaders::Merge
    )
    .is_ok());
    let (status, m) = refused(headers(&[(CONTEXT, &"1".repeat(MAX_HEADER_VALUE + 1))]));
    assert_eq!(
        (status, m.as_str()),
        (431, "the value has 8193 bytes, more than 8192")
    );
    let long = format!("x-intent-context-{}", "a".repeat(MAX_HEADER_NAME));
    let (status, m) = refused(headers(&[(long.as_str(), "1")]));
    assert_eq!(
        (status, m.as_str()),
        (431, "the name has 145 bytes, more than 128")
    );
    let many: Vec<(String, String)> = (0..=MAX_HEADERS)
        .map(|i| (format!("x-intent-context-f{i}"), "1".into()))
        .collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, m) = refused(headers(&many));
    assert_eq!(
        (status, m.as_str()),
        (431, "more than 64 x-intent-* headers in one request")
    );
    let big = "1".repeat(MAX_HEADER_VALUE - 100);
    let (status, m) = refused(headers(&[(CONTEXT, &big), (NAME, &big), (CALLER, &big)]));
    assert_eq!(
        (status, m.as_str()),
        (
            431,
            "the x-intent-* headers have more than 16384 bytes together"
        )
    );
    // Other headers do not count.
    let mut h = headers(&[(NAME, "pay")]);
    h.insert("x-other", HeaderValue::from_str(&big).unwrap());
    h.insert("x-other-2", HeaderValue::from_str(&big).unwrap());
    h.insert("x-other-3", HeaderValue::from_str(&big).unwrap());
    assert!(read_request(&h, FieldHeaders::Merge).is_ok());
}

#[test]
fn context_nesting_is_bounded_in_headers() {
    let path = |n: usize| format!("x-intent-context-{}", vec!["a"; n].join("."));
    let r = read_request(
        &headers(&[(path(MAX_DEPTH).as_str(), "1")]),
        FieldHeaders::Merge,
    );
    assert!(r.is_ok(), "{r:?}");
    let (status, m) = {
        let e = read_request(
            &headers(&[(path(MAX_DEPTH + 1).as_str(), "1")]),
            FieldHeaders::Merge,
        )
        .unwrap_err();
        (e.status.as_u16(), e.message)
    };
    assert_eq!(
        (status, m.as_str()),
        (400, "nests the field deeper than 32 levels")
    );
    // The value's own nesting counts from the field's depth.
    let e = read_request(
        &headers(&[(path(MAX_DEPTH).as_str(), "[1]")]),
        FieldHeaders::Merge,
    )
    .unwrap_err();
    assert!(e.message.starts_with("nested deeper than 32 levels"), "{e}");
    let deep = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    let e = read_request(
        &headers(&[(CONTEXT, &format!(r#"{{"a":{deep}}}"#))]),
        FieldHeaders::Merge,
    )
    .unwrap_err();
    assert!(e.message.starts_with("nested deeper than 32 levels"), "{e}");
}

/// A plan of several steps: each `step=agent` in `x-intent-route`, the agents in
/// `x-intent-agents`, the first step's endpoint; and a text that needs encoding.
#[test]
fn a_plan_of_steps_is_named_in_the_answer_headers() {
    use crate::decision::{DecisionId, FilledStep, Outcome, Trace};
    use std::sync::Arc;
    let step = |step: &str, agent: &str, endpoint: Option<&str>| FilledStep {
        step: step.into(),
        agent: agent.into(),
        endpoint: endpoint.map(Into::into),
        handles: Arc::from(vec![]),
    };
    let d = Decision {
        outcome: Outcome::Plan,
        intent: Some("close_books".into()),
        confidence: Some(0.9),
        classifier: None,
        none_of_these: None,
        steps: vec![
            step("parse", "doc_parser", Some("http://parse:80")),
            step("summarize", "finance_agent", None),
        ],
        human: None,
        deadline_ms: None,
        question: None,
        reason: Some("EU – only".into()),
        retry_after_ms: None,
        obligations: vec![],
        trace: Trace::default(),
        plan_hash: "ab12".into(),
        decision_id: DecisionId { at_ms: 255, seq: 7 },
    };
    let mut out = HeaderMap::new();
    answer_headers(&d, StatusSet::Full, &mut out);
    let get = |name: &str| out.get(name).and_then(|v| v.to_str().ok());
    assert_eq!(get(OUTCOME), Some("plan"));
    assert_eq!(get(INTENT), Some("close_books"));
    assert_eq!(get(ROUTE), Some("parse=doc_parser,summarize=finance_agent"));
    assert_eq!(get(AGENTS), Some("doc_parser,finance_agent"));
    assert_eq!(get(ENDPOINT), Some("http://parse:80"));
    assert_eq!(get(REASON), Some("EU %E2%80%93 only"));
    assert_eq!(get(DECISION_ID), Some("ff-7"));
    assert_eq!(get(PLAN_HASH), Some("ab12"));
    assert_eq!(out.len(), 8);
}

#[test]
fn bad_headers_are_refused_with_the_header_named() {
    let e = request_from_headers(&headers(&[(CONFIDENCE, "high")])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "header `x-intent-confidence`: `high` is not a number from 0 to 1"
    );
    let e = request_from_headers(&headers(&[(NAME, "a"), (NAME, "b")])).unwrap_err();
    assert_eq!(e.header, NAME);
    let e = request_from_headers(&headers(&[(CONTEXT, "[1]")])).unwrap_err();
    assert_eq!(e.message, "should be a JSON object");
    let e = request_from_headers(&headers(&[("x-intent-context-a..b", "1")])).unwrap_err();
    assert_eq!(e.message, "names no context field");
}

#[test]
fn statuses_stay_within_what_auth_request_understands() {
    for o in [
        Outcome::Dispatch,
        Outcome::Plan,
        Outcome::Escalate,
        Outcome::Clarify,
        Outcome::Deny,
        Outcome::Throttle,
    ] {
        let s = status_of(o, StatusSet::AuthRequest).as_u16();
        assert!([200, 401, 403].contains(&s), "{o:?}: {s}");
    }
    assert_eq!(status_of(Outcome::Throttle, StatusSet::Full).as_u16(), 429);
}

#[test]
fn header_text_escapes_what_a_header_cannot_hold() {
    assert_eq!(
        header_text("GDPR Art. 44 – EU"),
        "GDPR Art. 44 %E2%80%93 EU"
    );
    assert_eq!(header_text("100%\n"), "100%25%0A");
}
