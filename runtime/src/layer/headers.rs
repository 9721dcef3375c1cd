//! The header contract shared by the tower Layer and the sidecar's authorization endpoint
//! (docs/serve.md): how a request to decide is read from `x-intent-*` request headers, and how
//! a decision is answered with a status and `x-intent-*` response headers that Envoy's
//! `ext_authz` (HTTP mode) and nginx's `auth_request` pass on without glue.

use crate::decision::{Decision, Obligation, Outcome};
use crate::request::{Caller, Request};
use http::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use http::StatusCode;
use serde_json::{Map, Value as Json};

/// The intent, when the caller knows it.
pub const NAME: &str = "x-intent-name";
/// The confidence that goes with `x-intent-name`, 0..1.
pub const CONFIDENCE: &str = "x-intent-confidence";
/// Free text for the built-in classifier.
pub const TEXT: &str = "x-intent-text";
/// The agent that raised the request.
pub const CALLER: &str = "x-intent-caller";
/// The intents being served, outermost first, separated by commas.
pub const LINEAGE: &str = "x-intent-lineage";
/// The context as one JSON object.
pub const CONTEXT: &str = "x-intent-context";
/// One context field per header: `x-intent-context-channel: web`.
pub const CONTEXT_FIELD: &str = "x-intent-context-";
/// Sent by the caller of the authorization endpoint: `auth-request` keeps every answer to the
/// statuses nginx `auth_request` understands (2xx, 401, 403).
pub const ANSWER: &str = "x-intent-answer";

/// The response headers that name a decision. A gateway strips them from what a client sends,
/// so a client cannot pretend a decision was made.
pub const OUTCOME: &str = "x-intent-outcome";
pub const INTENT: &str = "x-intent-intent";
pub const ROUTE: &str = "x-intent-route";
pub const AGENTS: &str = "x-intent-agents";
pub const ENDPOINT: &str = "x-intent-endpoint";
pub const HUMAN: &str = "x-intent-human";
pub const QUESTION: &str = "x-intent-question";
pub const REASON: &str = "x-intent-reason";
pub const OBLIGATIONS: &str = "x-intent-obligations";
pub const DECISION_ID: &str = "x-intent-decision-id";
pub const PLAN_HASH: &str = "x-intent-plan-hash";
pub const RETRY_AFTER_MS: &str = "x-intent-retry-after-ms";

/// Every header a decision's answer may set.
pub const ANSWER_HEADERS: [&str; 12] = [
    OUTCOME,
    INTENT,
    ROUTE,
    AGENTS,
    ENDPOINT,
    HUMAN,
    QUESTION,
    REASON,
    OBLIGATIONS,
    DECISION_ID,
    PLAN_HASH,
    RETRY_AFTER_MS,
];

/// A request header that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderError {
    pub header: String,
    pub message: String,
}

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "header `{}`: {}", self.header, self.message)
    }
}

impl std::error::Error for HeaderError {}

fn bad(header: &str, message: impl Into<String>) -> HeaderError {
    HeaderError {
        header: header.to_string(),
        message: message.into(),
    }
}

/// The one value of a header, as UTF-8. A header given twice is refused: two values for the
/// intent or the caller would let a client smuggle one past a proxy that checks the other.
fn single<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, HeaderError> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(bad(name, "given more than once; send it once"));
    }
    std::str::from_utf8(first.as_bytes())
        .map(|s| Some(s.trim()))
        .map_err(|_| bad(name, "is not UTF-8 text"))
}

/// Reads the request to decide from the `x-intent-*` headers (docs/serve.md).
pub fn request_from_headers(headers: &HeaderMap) -> Result<Request, HeaderError> {
    let mut req = Request {
        intent: single(headers, NAME)?.map(str::to_string),
        text: single(headers, TEXT)?.map(str::to_string),
        ..Request::default()
    };
    if let Some(c) = single(headers, CONFIDENCE)? {
        let x: f64 = c
            .parse()
            .ok()
            .filter(|x: &f64| (0.0..=1.0).contains(x))
            .ok_or_else(|| bad(CONFIDENCE, format!("`{c}` is not a number from 0 to 1")))?;
        req.confidence = Some(x);
    }
    let agent = single(headers, CALLER)?.map(str::to_string);
    let lineage: Vec<String> = single(headers, LINEAGE)?
        .map(|l| {
            l.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if agent.is_some() || !lineage.is_empty() {
        req.caller = Some(Caller { agent, lineage });
    }
    if let Some(c) = single(headers, CONTEXT)? {
        match serde_json::from_str::<Json>(c) {
            Ok(Json::Object(map)) => req.context = map,
            Ok(_) => return Err(bad(CONTEXT, "should be a JSON object")),
            Err(e) => return Err(bad(CONTEXT, format!("is not JSON: {e}"))),
        }
    }
    for name in headers.keys() {
        let Some(field) = name.as_str().strip_prefix(CONTEXT_FIELD) else {
            continue;
        };
        let Some(text) = single(headers, name.as_str())? else {
            continue;
        };
        if field.is_empty() || field.split('.').any(str::is_empty) {
            return Err(bad(name.as_str(), "names no context field"));
        }
        // JSON when it reads as JSON (numbers, booleans, quoted strings, objects), else a string.
        let value = serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.into()));
        insert_dotted(&mut req.context, field, value);
    }
    Ok(req)
}

/// Sets `a.b.c` in a JSON object, making the objects on the way.
fn insert_dotted(map: &mut Map<String, Json>, path: &str, value: Json) {
    match path.split_once('.') {
        None => {
            map.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let entry = map
                .entry(head.to_string())
                .or_insert_with(|| Json::Object(Map::new()));
            if !entry.is_object() {
                *entry = Json::Object(Map::new());
            }
            if let Json::Object(inner) = entry {
                insert_dotted(inner, rest, value);
            }
        }
    }
}

/// Which statuses an answer may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusSet {
    /// 200, 401, 403 and 429 (Envoy `ext_authz`, the tower Layer, anything else).
    Full,
    /// 200, 401 and 403 only: nginx `auth_request` turns every other status into a 500.
    AuthRequest,
}

impl StatusSet {
    /// The status set the caller asks for with `x-intent-answer`.
    pub fn of(headers: &HeaderMap) -> StatusSet {
        match headers.get(ANSWER).map(HeaderValue::as_bytes) {
            Some(b"auth-request") => StatusSet::AuthRequest,
            _ => StatusSet::Full,
        }
    }
}

/// Whether a decision lets the request through to the agents it names.
pub fn allows(outcome: Outcome) -> bool {
    matches!(outcome, Outcome::Dispatch | Outcome::Plan)
}

/// The status that answers a decision: 200 for `dispatch` and `plan`, 403 for `deny`, 401 for
/// `escalate` and `clarify` (not now: a person or the caller must act first), 429 for
/// `throttle` (401 in the `auth-request` set).
pub fn status_of(outcome: Outcome, set: StatusSet) -> StatusCode {
    match outcome {
        Outcome::Dispatch | Outcome::Plan => StatusCode::OK,
        Outcome::Deny => StatusCode::FORBIDDEN,
        Outcome::Escalate | Outcome::Clarify => StatusCode::UNAUTHORIZED,
        Outcome::Throttle => match set {
            StatusSet::Full => StatusCode::TOO_MANY_REQUESTS,
            StatusSet::AuthRequest => StatusCode::UNAUTHORIZED,
        },
    }
}

/// A header value from any text: bytes outside visible ASCII (and `%`) are percent-encoded, so
/// a reason in any language survives the trip through a header.
pub fn header_text(text: &str) -> HeaderValue {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&out).unwrap_or_else(|_| HeaderValue::from_static("?"))
}

/// The `x-intent-*` headers that name a decision (and for 401 and 429, `www-authenticate` and
/// `retry-after`), appended to `out`.
pub fn answer_headers(d: &Decision, set: StatusSet, out: &mut HeaderMap) {
    let mut put = |name: &'static str, value: HeaderValue| {
        out.insert(HeaderName::from_static(name), value);
    };
    put(OUTCOME, HeaderValue::from_static(d.outcome.as_str()));
    if let Some(i) = &d.intent {
        put(INTENT, header_text(i));
    }
    if !d.steps.is_empty() {
        let route: Vec<String> = d
            .steps
            .iter()
            .map(|s| format!("{}={}", s.step, s.agent))
            .collect();
        put(ROUTE, header_text(&route.join(",")));
        let agents: Vec<&str> = d.steps.iter().map(|s| &*s.agent).collect();
        put(AGENTS, header_text(&agents.join(",")));
        if let Some(e) = d.steps.first().and_then(|s| s.endpoint.as_ref()) {
            put(ENDPOINT, header_text(e));
        }
    }
    if let Some(h) = &d.human {
        put(HUMAN, header_text(h));
    }
    if let Some(q) = &d.question {
        put(QUESTION, header_text(q));
    }
    if let Some(r) = &d.reason {
        put(REASON, header_text(r));
    }
    if !d.obligations.is_empty() {
        let list: Vec<String> = d
            .obligations
            .iter()
            .map(|o| match o {
                Obligation::Audit { rule, .. } => format!("audit={rule}"),
                Obligation::Redact { data } => format!(
                    "redact={}",
                    data.iter().map(|x| &**x).collect::<Vec<_>>().join("|")
                ),
            })
            .collect();
        put(OBLIGATIONS, header_text(&list.join(",")));
    }
    put(DECISION_ID, header_text(&d.decision_id.to_string()));
    put(PLAN_HASH, header_text(&d.plan_hash));
    if let Some(ms) = d.retry_after_ms {
        put(RETRY_AFTER_MS, header_text(&ms.to_string()));
        // Whole seconds, rounded up: `retry-after: 0` would invite an immediate retry.
        out.insert(
            RETRY_AFTER,
            header_text(&ms.div_ceil(1000).max(1).to_string()),
        );
    }
    if status_of(d.outcome, set) == StatusCode::UNAUTHORIZED {
        out.insert(WWW_AUTHENTICATE, www_authenticate(d));
    }
}

/// `Intent outcome="escalate", human="finance_lead", decision="..."`: what nginx passes on
/// with a 401 (it drops every other header of the authorization answer).
fn www_authenticate(d: &Decision) -> HeaderValue {
    let mut params = vec![format!("outcome=\"{}\"", d.outcome.as_str())];
    let quoted = |s: &str| s.replace(['"', '\\'], "'");
    if let Some(h) = &d.human {
        params.push(format!("human=\"{}\"", quoted(h)));
    }
    if let Some(q) = &d.question {
        params.push(format!("question=\"{}\"", quoted(q)));
    }
    if let Some(ms) = d.retry_after_ms {
        params.push(format!("retry_after_ms=\"{ms}\""));
    }
    params.push(format!("decision=\"{}\"", d.decision_id));
    header_text(&format!("Intent {}", params.join(", ")))
}

/// The JSON body of an answer: the decision without its trace.
pub fn answer_body(d: &Decision) -> String {
    let mut v = serde_json::to_value(d).unwrap_or(Json::Null);
    if let Json::Object(map) = &mut v {
        map.remove("trace");
    }
    v.to_string()
}

/// Removes the answer headers a client sent, so only a decision can set them.
pub fn strip_answer_headers(headers: &mut HeaderMap) {
    for name in ANSWER_HEADERS {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
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
            (CONTEXT, r#"{"channel":"web","amount":5}"#),
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
            json!({"channel": "web", "amount": 12000, "subject": {"residency": "EU"}, "urgent": true})
        );
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
}
