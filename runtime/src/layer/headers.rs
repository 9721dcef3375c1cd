//! The header contract shared by the tower Layer and the sidecar's authorization endpoint
//! (docs/serve.md): how a request to decide is read from `x-intent-*` request headers, and how
//! a decision is answered with a status and `x-intent-*` response headers that Envoy's
//! `ext_authz` (HTTP mode) and nginx's `auth_request` pass on without glue.

pub use super::body::{answer_body, answer_body_with};
use crate::decision::{Decision, Obligation, Outcome};
use crate::limits::{
    echo, MAX_DEPTH, MAX_HEADERS, MAX_HEADERS_TOTAL, MAX_HEADER_NAME, MAX_HEADER_VALUE, MAX_TEXT,
};
use crate::request::{Caller, Request};
use crate::strict_json;
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

/// A request header that cannot be read, or that is past a bound (`crate::limits`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderError {
    /// The header's name (cut to `limits::MAX_ECHO` characters when it is too long).
    pub header: String,
    pub message: String,
    /// 431 for a header past a size bound, 400 for anything else.
    pub status: StatusCode,
}

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "header `{}`: {}", self.header, self.message)
    }
}

impl std::error::Error for HeaderError {}

fn bad(header: &str, message: impl Into<String>) -> HeaderError {
    HeaderError {
        header: echo(header).into_owned(),
        message: message.into(),
        status: StatusCode::BAD_REQUEST,
    }
}

fn too_large(header: &str, message: impl Into<String>) -> HeaderError {
    HeaderError {
        status: StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        ..bad(header, message)
    }
}

/// What to do with `x-intent-context-<field>` headers (docs/serve.md, "Context").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldHeaders {
    /// Read them: each adds a field that `x-intent-context` and the other headers do not give;
    /// a field given twice is refused, so neither source overrides the other.
    #[default]
    Merge,
    /// `x-intent-context` is authoritative: per-field headers are not read at all.
    Ignore,
    /// A request with any per-field header is refused.
    Refuse,
}

impl FieldHeaders {
    /// Every choice, by the name `intent serve --field-headers` takes.
    pub const ALL: [(&'static str, FieldHeaders); 3] = [
        ("merge", FieldHeaders::Merge),
        ("ignore", FieldHeaders::Ignore),
        ("refuse", FieldHeaders::Refuse),
    ];

    /// The choice named `name`.
    pub fn named(name: &str) -> Option<FieldHeaders> {
        FieldHeaders::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
    }
}

/// The `x-intent-*` request headers of one request, each at most once, found in one pass.
#[derive(Default)]
struct Found<'h> {
    name: Option<&'h HeaderValue>,
    confidence: Option<&'h HeaderValue>,
    text: Option<&'h HeaderValue>,
    caller: Option<&'h HeaderValue>,
    lineage: Option<&'h HeaderValue>,
    context: Option<&'h HeaderValue>,
    /// `x-intent-context-<field>`: the header's name and value, in the order they came.
    fields: Vec<(&'h str, &'h HeaderValue)>,
}

impl<'h> Found<'h> {
    /// Looks at every header once: counts and sizes the `x-intent-*` ones against the limits
    /// and files the ones a request is read from. A header given twice is refused: two values
    /// for the intent or the caller would let a client smuggle one past a proxy that checks
    /// the other.
    fn scan(headers: &'h HeaderMap, fields: FieldHeaders) -> Result<Found<'h>, HeaderError> {
        let mut found = Found::default();
        let (mut count, mut total) = (0usize, 0usize);
        for (name, value) in headers {
            let n = name.as_str();
            let Some(rest) = n.strip_prefix("x-intent-") else {
                continue;
            };
            count += 1;
            total += n.len() + value.len();
            if n.len() > MAX_HEADER_NAME {
                return Err(too_large(
                    n,
                    format!(
                        "the name has {} bytes, more than {MAX_HEADER_NAME}",
                        n.len()
                    ),
                ));
            }
            if value.len() > MAX_HEADER_VALUE {
                return Err(too_large(
                    n,
                    format!(
                        "the value has {} bytes, more than {MAX_HEADER_VALUE}",
                        value.len()
                    ),
                ));
            }
            if count > MAX_HEADERS {
                return Err(too_large(
                    n,
                    format!("more than {MAX_HEADERS} x-intent-* headers in one request"),
                ));
            }
            if total > MAX_HEADERS_TOTAL {
                return Err(too_large(
                    n,
                    format!(
                        "the x-intent-* headers have more than {MAX_HEADERS_TOTAL} bytes together"
                    ),
                ));
            }
            let slot = match rest {
                "name" => &mut found.name,
                "confidence" => &mut found.confidence,
                "text" => &mut found.text,
                "caller" => &mut found.caller,
                "lineage" => &mut found.lineage,
                "context" => &mut found.context,
                _ => {
                    if rest.starts_with("context-") {
                        match fields {
                            FieldHeaders::Merge => found.fields.push((n, value)),
                            FieldHeaders::Ignore => {}
                            FieldHeaders::Refuse => {
                                return Err(bad(
                                    n,
                                    "per-field context headers are refused here; send the context in x-intent-context",
                                ))
                            }
                        }
                    }
                    // Answer headers, `x-intent-answer` and the like: not part of the request.
                    continue;
                }
            };
            if slot.replace(value).is_some() {
                return Err(bad(n, "given more than once; send it once"));
            }
        }
        Ok(found)
    }
}

/// A header's value as UTF-8 text, trimmed.
fn text_of<'h>(name: &str, value: &'h HeaderValue) -> Result<&'h str, HeaderError> {
    std::str::from_utf8(value.as_bytes())
        .map(str::trim)
        .map_err(|_| bad(name, "is not UTF-8 text"))
}

fn text_in<'h>(name: &str, value: Option<&'h HeaderValue>) -> Result<Option<&'h str>, HeaderError> {
    value.map(|v| text_of(name, v)).transpose()
}

/// Reads the request to decide from the `x-intent-*` headers (docs/serve.md), reading
/// `x-intent-context-<field>` headers too (`FieldHeaders::Merge`).
pub fn request_from_headers(headers: &HeaderMap) -> Result<Request, HeaderError> {
    read_request(headers, FieldHeaders::Merge)
}

/// Reads the request to decide from the `x-intent-*` headers (docs/serve.md), with `fields`
/// saying what to do with `x-intent-context-<field>` headers. Every bound of `crate::limits`
/// is checked before anything is parsed.
pub fn read_request(headers: &HeaderMap, fields: FieldHeaders) -> Result<Request, HeaderError> {
    let found = Found::scan(headers, fields)?;
    let text = text_in(TEXT, found.text)?;
    if let Some(t) = text {
        if t.len() > MAX_TEXT {
            return Err(too_large(
                TEXT,
                format!(
                    "the text has {} bytes, more than the {MAX_TEXT} the classifier reads",
                    t.len()
                ),
            ));
        }
    }
    let mut req = Request {
        intent: text_in(NAME, found.name)?.map(str::to_string),
        text: text.map(str::to_string),
        ..Request::default()
    };
    if let Some(c) = text_in(CONFIDENCE, found.confidence)? {
        let x: f64 = c
            .parse()
            .ok()
            .filter(|x: &f64| (0.0..=1.0).contains(x))
            .ok_or_else(|| {
                bad(
                    CONFIDENCE,
                    format!("`{}` is not a number from 0 to 1", echo(c)),
                )
            })?;
        req.confidence = Some(x);
    }
    let agent = text_in(CALLER, found.caller)?.map(str::to_string);
    let lineage: Vec<String> = text_in(LINEAGE, found.lineage)?
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
    if let Some(c) = text_in(CONTEXT, found.context)? {
        match strict_json::value_from_str(c, 0) {
            Ok(Json::Object(map)) => req.context = map,
            Ok(_) => return Err(bad(CONTEXT, "should be a JSON object")),
            Err(e) if e.is_data() => return Err(bad(CONTEXT, e.to_string())),
            Err(e) => return Err(bad(CONTEXT, format!("is not JSON: {e}"))),
        }
    }
    for (name, value) in found.fields {
        let text = text_of(name, value)?;
        let path = name.get(CONTEXT_FIELD.len()..).unwrap_or("");
        add_field(&mut req.context, name, path, text)?;
    }
    Ok(req)
}

/// Adds the field `path` (`a.b.c`) of header `name` to the context, making the objects on the
/// way, in a loop: the path's length is bounded by the header's, its depth by `MAX_DEPTH`. A
/// field the context already has, or a path through a value that is not an object, is refused:
/// a field is given once, so no header overrides `x-intent-context` or another header.
fn add_field(
    context: &mut Map<String, Json>,
    name: &str,
    path: &str,
    text: &str,
) -> Result<(), HeaderError> {
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(bad(name, "names no context field"));
    }
    let depth = path.split('.').count();
    if depth > MAX_DEPTH {
        return Err(bad(
            name,
            format!("nests the field deeper than {MAX_DEPTH} levels"),
        ));
    }
    // JSON when it reads as JSON (numbers, booleans, quoted strings, objects), else a string;
    // JSON that breaks a rule (a repeated key, too deep) is refused, not taken as a string.
    let value = match strict_json::value_from_str(text, depth) {
        Ok(v) => v,
        Err(e) if e.is_data() => return Err(bad(name, e.to_string())),
        Err(_) => Json::String(text.to_string()),
    };
    let twice = || {
        bad(
            name,
            format!(
                "gives the context field `{path}` a second time (in x-intent-context or another header); give each field once"
            ),
        )
    };
    let (parents, last) = path.rsplit_once('.').map_or(("", path), |(p, l)| (p, l));
    let mut map = context;
    if !parents.is_empty() {
        for segment in parents.split('.') {
            let entry = map
                .entry(segment)
                .or_insert_with(|| Json::Object(Map::new()));
            map = match entry {
                Json::Object(inner) => inner,
                _ => return Err(twice()),
            };
        }
    }
    match map.entry(last) {
        serde_json::map::Entry::Vacant(v) => {
            v.insert(value);
            Ok(())
        }
        serde_json::map::Entry::Occupied(_) => Err(twice()),
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
    // Most texts (names, ids, hashes) need no encoding.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'%') {
        if let Ok(v) = HeaderValue::from_str(text) {
            return v;
        }
    }
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
    // A dispatch sets seven: room for them at once, where growing the map took two rounds
    // (a fifth of an authorization answer's instructions went to these headers).
    out.reserve(8);
    // The names are made when compiled (`from_static` is `const`), not checked per answer.
    let mut put = |name: HeaderName, value: HeaderValue| {
        out.insert(name, value);
    };
    put(
        const { HeaderName::from_static(OUTCOME) },
        HeaderValue::from_static(d.outcome.as_str()),
    );
    if let Some(i) = &d.intent {
        put(const { HeaderName::from_static(INTENT) }, header_text(i));
    }
    if !d.steps.is_empty() {
        // `step=agent` per step (as `FilledStep` displays), and the agents, comma-separated.
        let (mut route, mut agents) = (String::with_capacity(64), String::with_capacity(32));
        for (i, s) in d.steps.iter().enumerate() {
            if i > 0 {
                route.push(',');
                agents.push(',');
            }
            for piece in [&*s.step, "=", &*s.agent] {
                route.push_str(piece);
            }
            agents.push_str(&s.agent);
        }
        put(
            const { HeaderName::from_static(ROUTE) },
            header_text(&route),
        );
        put(
            const { HeaderName::from_static(AGENTS) },
            header_text(&agents),
        );
        if let Some(e) = d.steps.first().and_then(|s| s.endpoint.as_ref()) {
            put(const { HeaderName::from_static(ENDPOINT) }, header_text(e));
        }
    }
    if let Some(h) = &d.human {
        put(const { HeaderName::from_static(HUMAN) }, header_text(h));
    }
    if let Some(q) = &d.question {
        put(const { HeaderName::from_static(QUESTION) }, header_text(q));
    }
    if let Some(r) = &d.reason {
        put(const { HeaderName::from_static(REASON) }, header_text(r));
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
        put(
            const { HeaderName::from_static(OBLIGATIONS) },
            header_text(&list.join(",")),
        );
    }
    put(
        const { HeaderName::from_static(DECISION_ID) },
        header_text(&d.decision_id.text()),
    );
    put(
        const { HeaderName::from_static(PLAN_HASH) },
        header_text(&d.plan_hash),
    );
    if let Some(ms) = d.retry_after_ms {
        put(
            const { HeaderName::from_static(RETRY_AFTER_MS) },
            header_text(&ms.to_string()),
        );
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

/// Removes the answer headers a client sent, so only a decision can set them.
pub fn strip_answer_headers(headers: &mut HeaderMap) {
    for name in ANSWER_HEADERS {
        headers.remove(name);
    }
}

#[cfg(test)]
#[path = "headers_tests.rs"]
mod tests;
