//! The decision log: one JSON object per line for each decision, written by `intent serve` and
//! read back by `intent replay`. A record holds the request exactly as decided (so it can be
//! decided again), the time it was decided at, and a summary of the answer: outcome, chosen
//! agents, person, reason, plan hash and decision id. The trace is left out: it is large, and a
//! replay recomputes it.
//!
//! The request is kept apart from the record's own fields, and its context apart from its
//! reserved keys: `"request": {"intent": .., "confidence": .., "caller": .., "text": ..,
//! "context": {..}}`. A context field named `intent` or `outcome` therefore never makes a second
//! key of that name, so every reader (jq, Python, `intent replay`) reads the record as written,
//! and every record reads back as the request it holds. Lines escape U+2028 and U+2029, which
//! some line readers take for line ends and serde_json writes raw.

use crate::decision::{Decision, Outcome};
use crate::json_write::Out;
use crate::request::{Caller, Request};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::io;

/// One line of the decision log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// When the decision was made, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    pub decision_id: String,
    pub plan_hash: String,
    #[serde(serialize_with = "write_request", deserialize_with = "read_request")]
    pub request: Request,
    pub outcome: Outcome,
    /// The intent decided on, when one was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// `step=agent` for each filled step, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a request that came as an MCP call (`intent mcp`): its method and tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<McpCall>,
}

/// The MCP call a decision was made for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpCall {
    pub method: String,
    pub tool: String,
    /// For a call forwarded after a person approved it: the id of the decision that held it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved: Option<String>,
}

impl LogRecord {
    /// The record of `decision`, made for `request` (at the time its id carries).
    pub fn new(request: Request, decision: &Decision) -> LogRecord {
        LogRecord {
            at_ms: decision.decision_id.at_ms,
            decision_id: decision.decision_id.text(),
            plan_hash: decision.plan_hash.to_string(),
            request,
            outcome: decision.outcome,
            intent: decision.intent.as_deref().map(str::to_string),
            steps: step_list(decision),
            human: decision.human.as_deref().map(str::to_string),
            reason: decision.reason.clone(),
            mcp: None,
        }
    }

    /// One line of JSON, without the newline.
    pub fn to_line(&self) -> String {
        let mut out = Vec::new();
        self.write_line(&mut out);
        // The serializer writes only UTF-8.
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends the record to `out` as one line of JSON, without the newline.
    pub fn write_line(&self, out: &mut Vec<u8>) {
        let mut ser = serde_json::Serializer::with_formatter(out, LineFormatter);
        // A record holds only strings, numbers and JSON values, written to memory: serialising
        // cannot fail.
        let _ = self.serialize(&mut ser);
    }

    /// Appends the record of `request` and its `decision` (and the MCP call it was made for)
    /// to `out`, as [`LogRecord::new`] and [`LogRecord::write_line`] would, byte for byte,
    /// without building the record: nothing is copied (the sidecar's log writer).
    pub fn write_decision(
        request: &Request,
        decision: &Decision,
        mcp: Option<&McpCall>,
        out: &mut Vec<u8>,
    ) {
        let mut o = Out {
            buf: out,
            line: true,
        };
        let mut first = true;
        o.buf.push(b'{');
        o.key(&mut first, "at_ms");
        o.u64(decision.decision_id.at_ms);
        o.key(&mut first, "decision_id");
        o.decision_id(&decision.decision_id);
        o.key(&mut first, "plan_hash");
        o.str(&decision.plan_hash);
        o.key(&mut first, "request");
        write_request_to(&mut o, request);
        o.key(&mut first, "outcome");
        o.str(decision.outcome.as_str());
        o.opt_str(&mut first, "intent", decision.intent.as_deref());
        if !decision.steps.is_empty() {
            o.key(&mut first, "steps");
            o.step_list(&decision.steps);
        }
        o.opt_str(&mut first, "human", decision.human.as_deref());
        o.opt_str(&mut first, "reason", decision.reason.as_deref());
        if let Some(call) = mcp {
            o.key(&mut first, "mcp");
            o.serde(call);
        }
        o.buf.push(b'}');
    }

    /// Reads one line of the log.
    pub fn from_line(line: &str) -> Result<LogRecord, serde_json::Error> {
        serde_json::from_str(line)
    }
}

/// The request of a record: its reserved keys, and its context as one object of its own.
#[derive(Serialize)]
struct RequestOut<'r> {
    #[serde(skip_serializing_if = "Option::is_none")]
    intent: &'r Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: &'r Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence: &'r Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    caller: &'r Option<Caller>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    context: &'r Map<String, Value>,
}

/// What [`RequestOut`] writes, written directly (the sidecar's log writer).
fn write_request_to(o: &mut Out<'_>, r: &Request) {
    let mut first = true;
    o.buf.push(b'{');
    o.opt_str(&mut first, "intent", r.intent.as_deref());
    o.opt_str(&mut first, "text", r.text.as_deref());
    if let Some(c) = r.confidence {
        o.key(&mut first, "confidence");
        o.f64(c);
    }
    if let Some(caller) = &r.caller {
        o.key(&mut first, "caller");
        o.serde(caller);
    }
    if !r.context.is_empty() {
        o.key(&mut first, "context");
        o.object(&r.context);
    }
    o.buf.push(b'}');
}

fn write_request<S: Serializer>(r: &Request, s: S) -> Result<S::Ok, S::Error> {
    RequestOut {
        intent: &r.intent,
        text: &r.text,
        confidence: &r.confidence,
        caller: &r.caller,
        context: &r.context,
    }
    .serialize(s)
}

/// What `RequestOut` writes; a key given twice, in the request or its context, is an error.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestIn {
    #[serde(default)]
    intent: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    confidence: Option<f64>,
    #[serde(default)]
    caller: Option<Caller>,
    #[serde(default, deserialize_with = "crate::strict_json::context")]
    context: Map<String, Value>,
}

fn read_request<'de, D: Deserializer<'de>>(d: D) -> Result<Request, D::Error> {
    let r = RequestIn::deserialize(d)?;
    Ok(Request {
        intent: r.intent,
        text: r.text,
        confidence: r.confidence,
        caller: r.caller,
        context: r.context,
    })
}

/// serde_json's compact output, with U+2028 and U+2029 escaped in strings: JSON allows them raw,
/// but JavaScript's line readers (and Python's `str.splitlines`) end a line there.
pub(crate) struct LineFormatter;

impl serde_json::ser::Formatter for LineFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some(i) = rest.find(['\u{2028}', '\u{2029}']) {
            let (head, tail) = rest.split_at(i);
            w.write_all(head.as_bytes())?;
            let escaped: &[u8] = if tail.starts_with('\u{2028}') {
                b"\\u2028"
            } else {
                b"\\u2029"
            };
            w.write_all(escaped)?;
            // Both are three bytes in UTF-8.
            rest = tail.get(3..).unwrap_or("");
        }
        w.write_all(rest.as_bytes())
    }
}

/// `step=agent` for each filled step of a decision, in order: the part of a decision that a
/// replay compares along with the outcome.
pub fn step_list(decision: &Decision) -> Vec<String> {
    decision.steps.iter().map(ToString::to_string).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    use crate::limits::MAX_DEPTH;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn a_record_reads_back_as_written() {
        let line = r#"{"at_ms":5,"decision_id":"5-1","plan_hash":"sha256:ab","request":{"intent":"pay","confidence":0.9,"context":{"region":"eu"}},"outcome":"dispatch","intent":"pay","steps":["pay=ledger"]}"#;
        let record = LogRecord::from_line(line).unwrap();
        assert_eq!(record.outcome, Outcome::Dispatch);
        assert_eq!(record.request.context["region"], "eu");
        assert_eq!(record.to_line(), line);
    }

    #[test]
    fn a_record_of_an_mcp_call_reads_back_as_written() {
        let line = r#"{"at_ms":5,"decision_id":"5-2","plan_hash":"sha256:ab","request":{"intent":"refund_order","confidence":1.0,"caller":{"agent":"support_bot","lineage":[]},"context":{"amount":300,"order_id":"A-9"}},"outcome":"escalate","intent":"refund_order","human":"billing_lead","mcp":{"method":"tools/call","tool":"refund_order","approved":"5-1"}}"#;
        let record = LogRecord::from_line(line).unwrap();
        let mcp = record.mcp.as_ref().unwrap();
        assert_eq!(
            (mcp.tool.as_str(), mcp.approved.as_deref()),
            ("refund_order", Some("5-1"))
        );
        assert_eq!(record.to_line(), line);
        // A record of another shape under `mcp` is refused, not half read.
        let odd = line.replace(r#""approved":"5-1""#, r#""approved":"5-1","extra":1"#);
        assert!(LogRecord::from_line(&odd).is_err());
    }

    fn record(request: Request) -> LogRecord {
        LogRecord {
            at_ms: 5,
            decision_id: "5-1".into(),
            plan_hash: "sha256:ab".into(),
            request,
            outcome: Outcome::Deny,
            intent: Some("pay".into()),
            steps: Vec::new(),
            human: None,
            reason: Some("no".into()),
            mcp: None,
        }
    }

    /// Regression (#10): context fields named like the record's or the request's own keys made
    /// a second key of that name in the line, so jq and Python read the caller's value and
    /// `intent replay` refused the line.
    #[test]
    fn context_fields_named_like_reserved_keys_stay_in_the_context() {
        let mut r = Request::for_intent("pay", 0.9);
        for k in [
            "intent",
            "confidence",
            "caller",
            "text",
            "outcome",
            "request",
            "context",
        ] {
            r.context.insert(k.into(), json!("evil"));
        }
        let line = record(r.clone()).to_line();
        let read: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(read["intent"], "pay");
        assert_eq!(read["outcome"], "deny");
        assert_eq!(read["request"]["intent"], "pay");
        assert_eq!(read["request"]["context"]["intent"], "evil");
        assert_eq!(LogRecord::from_line(&line).unwrap().request, r);
        let e = LogRecord::from_line(r#"{"at_ms":5,"decision_id":"5-1","plan_hash":"x","request":{"context":{"a":1,"a":2}},"outcome":"deny"}"#).unwrap_err();
        assert!(e.to_string().starts_with("duplicate key `a`"), "{e}");
    }

    #[test]
    fn line_separators_are_escaped() {
        let r = Request::default().with("note\u{2028}", json!("a\u{2028}b\u{2029}c"));
        let line = record(r.clone()).to_line();
        assert!(line.contains(r#""note\u2028":"a\u2028b\u2029c""#), "{line}");
        assert_eq!(line.lines().count(), 1);
        assert_eq!(LogRecord::from_line(&line).unwrap().request, r);
    }

    /// JSON values nested at most `depth` deep, with keys that collide with reserved names.
    fn json_value(depth: u32) -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("finite", |x| x.is_finite())
                .prop_map(|x| json!(x)),
            any::<String>().prop_map(Value::String),
            "[\u{2028}\u{2029}\"\\\\a\n]{0,4}".prop_map(Value::String),
        ];
        leaf.prop_recursive(depth, 64, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(key(), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("intent".to_string()),
            Just("confidence".to_string()),
            Just("caller".to_string()),
            Just("text".to_string()),
            Just("context".to_string()),
            Just("outcome".to_string()),
            any::<String>(),
        ]
    }

    fn request() -> impl Strategy<Value = Request> {
        (
            proptest::option::of(any::<String>()),
            proptest::option::of(any::<String>()),
            proptest::option::of(0.0..=1.0f64),
            proptest::option::of((
                proptest::option::of(any::<String>()),
                proptest::collection::vec(any::<String>(), 0..3),
            )),
            proptest::collection::btree_map(key(), json_value(MAX_DEPTH as u32 - 1), 0..6),
        )
            .prop_map(|(intent, text, confidence, caller, context)| Request {
                intent,
                text,
                confidence,
                caller: caller.map(|(agent, lineage)| Caller { agent, lineage }),
                context: context.into_iter().collect(),
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Every request a record can hold reads back from its line as the same request.
        #[test]
        fn every_record_round_trips(r in request()) {
            let line = record(r.clone()).to_line();
            prop_assert_eq!(line.lines().count(), 1);
            prop_assert!(!line.contains(['\u{2028}', '\u{2029}']), "raw separator");
            let back = LogRecord::from_line(&line);
            prop_assert!(back.is_ok(), "{line}: {back:?}");
            prop_assert_eq!(back.map(|b| b.request).ok(), Some(r));
        }

        /// The sidecar's writer gives the line a record gives, byte for byte.
        #[test]
        fn a_decision_written_directly_is_its_records_line(
            r in request(),
            shape in any::<(bool, u8, bool, bool, bool)>(),
            name in "[a-z\u{2028}\\\\\"]{0,6}",
        ) {
            let (intent, steps, human, reason, mcp) = shape;
            let d = decision(
                intent.then_some(name.as_str()),
                steps % 3,
                human.then_some(name.as_str()),
                reason.then_some(name.as_str()),
            );
            let call = mcp.then(|| McpCall {
                method: "tools/call".into(),
                tool: name.clone(),
                approved: reason.then(|| "5-1".to_string()),
            });
            let mut direct = Vec::new();
            LogRecord::write_decision(&r, &d, call.as_ref(), &mut direct);
            let mut via = LogRecord::new(r, &d);
            via.mcp = call;
            prop_assert_eq!(String::from_utf8(direct).unwrap(), via.to_line());
        }
    }

    fn decision(
        intent: Option<&str>,
        steps: u8,
        human: Option<&str>,
        reason: Option<&str>,
    ) -> Decision {
        use crate::decision::{DecisionId, FilledStep};
        Decision {
            outcome: Outcome::Escalate,
            intent: intent.map(Into::into),
            confidence: Some(0.5),
            classifier: None,
            none_of_these: None,
            steps: (0..steps)
                .map(|i| FilledStep {
                    step: format!("s{i}").into(),
                    agent: format!("a{i}\u{2029}").into(),
                    endpoint: None,
                    handles: Vec::new().into(),
                })
                .collect(),
            human: human.map(Into::into),
            deadline_ms: None,
            question: None,
            reason: reason.map(str::to_string),
            retry_after_ms: None,
            obligations: vec![],
            trace: crate::Trace::default(),
            plan_hash: "sha256:ab".into(),
            decision_id: DecisionId { at_ms: 7, seq: 3 },
        }
    }
}
