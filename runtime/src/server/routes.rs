//! The sidecar's endpoints. `POST /v1/decide` (a request as JSON → the decision as JSON),
//! `POST /v1/classify` (a text → what the classifier says, `classify_endpoint`),
//! `POST /v1/review`, `POST /v1/failure`; the authorization endpoint `/v1/authz` (any method,
//! any sub-path, for Envoy `ext_authz` path prefixing and nginx `auth_request`), which reads
//! the header contract of `crate::layer::headers`; `GET /healthz`, `/readyz`, `/metrics`,
//! `/.well-known/jwks.json` (the delegation keys). With a trust broker, the caller of a decision
//! comes from its credentials (`identity`). With `--otlp`, each decision and review is a span
//! (`telemetry`) and the answer's `traceparent` names it.
//! Every refusal is JSON `{"error": .., "help": ..}` with a 4xx status; nothing here panics.
//! POST bodies must say they are JSON (415 otherwise) and are read strictly (`strict_json`:
//! no key twice, bounded nesting), like the headers (`crate::limits`).

use super::admin;
use super::app::{unknown_fields, App};
use super::classify_endpoint;
use super::identity;
use super::Config;
use crate::decision::Decision;
use crate::layer::body::json_text;
use crate::layer::headers::{self, FieldHeaders, StatusSet};
use crate::limits::echo;
use crate::request::{Request, Response as AgentResponse};
use crate::trust::PeerCert;
use crate::unknown::UnknownField;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request as HttpRequest, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Extension;
use axum::Router;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// The sidecar's routes over `app`, with the body limit and request timeout of `config`.
pub fn router(app: Arc<App>, config: &Config) -> Router {
    let fields = config.field_headers;
    let strict = config.strict;
    let authz = move |app: State<Arc<App>>, peer: Option<Extension<PeerCert>>, h: HeaderMap| {
        authz(app, peer, h, fields, strict)
    };
    let decide =
        move |app: State<Arc<App>>,
              peer: Option<Extension<PeerCert>>,
              h: HeaderMap,
              b: Result<Bytes, BytesRejection>| { decide(app, peer, h, b, strict) };
    let review = move |app: State<Arc<App>>, h: HeaderMap, b: Result<Bytes, BytesRejection>| {
        review(app, h, b, strict)
    };
    let json =
        |endpoint: &'static str| middleware::from_fn_with_state((app.clone(), endpoint), json_only);
    Router::new()
        .route("/v1/decide", post(decide).route_layer(json("decide")))
        .route("/v1/review", post(review).route_layer(json("review")))
        .route(
            "/v1/classify",
            post(classify_endpoint::classify).route_layer(json("classify")),
        )
        .route(
            "/v1/failure",
            // The content type is checked first (the outer layer): it says nothing about the
            // sidecar, and a form posted cross-origin is refused before anything else.
            post(failure)
                .route_layer(middleware::from_fn_with_state(
                    admin::Guard {
                        access: config.admin.clone(),
                        app: app.clone(),
                        endpoint: "failure",
                    },
                    admin::require,
                ))
                .route_layer(json("failure")),
        )
        .route("/v1/authz", any(authz))
        .route("/v1/authz/{*rest}", any(authz))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/.well-known/jwks.json", get(identity::jwks))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(config.max_body))
        .layer(middleware::from_fn_with_state(
            config.request_timeout,
            deadline,
        ))
        .with_state(app)
}

/// A request that takes longer than the timeout (a slow body, say) gets 408.
async fn deadline(State(limit): State<Duration>, req: HttpRequest, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => timed_out(limit),
    }
}

/// The 408 for a request that took longer than `limit`.
pub(crate) fn timed_out(limit: Duration) -> Response {
    error(
        StatusCode::REQUEST_TIMEOUT,
        format!("the request took longer than {} ms", limit.as_millis()),
        "send the whole request sooner",
    )
}

/// A POST body is JSON, and says so: any other `content-type`, or none, gets 415 before the body
/// is read (a form or a text body is not read as JSON by accident).
async fn json_only(
    State((app, endpoint)): State<(Arc<App>, &'static str)>,
    req: HttpRequest,
    next: Next,
) -> Response {
    let ty = req.headers().get(CONTENT_TYPE).map(HeaderValue::as_bytes);
    if req.method() == Method::POST && !says_json(req.headers()) {
        app.metrics.bad_request(endpoint);
        let got = ty.map_or("none".to_string(), |t| {
            format!("`{}`", echo(&String::from_utf8_lossy(t)))
        });
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("the body must be JSON; its content-type is {got}"),
            "send the body with content-type: application/json",
        );
    }
    next.run(req).await
}

/// Whether a request's `content-type` is JSON (`application/json`, parameters allowed).
pub(crate) fn says_json(headers: &HeaderMap) -> bool {
    let ty = headers.get(CONTENT_TYPE).map(HeaderValue::as_bytes);
    let essence = ty.map(|t| t.split(|b| *b == b';').next().unwrap_or(t).trim_ascii());
    essence.is_some_and(|e| e.eq_ignore_ascii_case(b"application/json"))
}

pub(super) fn json(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

pub(crate) fn error(status: StatusCode, message: String, help: &str) -> Response {
    json(
        status,
        serde_json::json!({ "error": message, "help": help }).to_string(),
    )
}

/// The body, or the refusal to give when it cannot be read (too large: 413).
pub(super) fn body(
    app: &App,
    endpoint: &'static str,
    b: Result<Bytes, BytesRejection>,
) -> Result<Bytes, Box<Response>> {
    b.map_err(|e| {
        app.metrics.bad_request(endpoint);
        Box::new(error(
            e.status(),
            format!("cannot read the request body: {}", e.body_text()),
            "send at most the configured number of bytes (intent serve --max-body)",
        ))
    })
}

/// Parses a JSON body, or says where it is wrong (400). Every body is a JSON object: serde
/// would also read a derived struct from an array (`["hi", 3]` as `{"text": "hi", "top": 3}`).
pub(super) fn parse<T: for<'de> Deserialize<'de>>(
    app: &App,
    endpoint: &'static str,
    bytes: &[u8],
    what: &str,
    help: &str,
) -> Result<T, Box<Response>> {
    if let Some(at) = bytes.iter().position(|b| !b.is_ascii_whitespace()) {
        if bytes.get(at) == Some(&b'[') {
            app.metrics.bad_request(endpoint);
            let before = bytes.get(..at).unwrap_or_default();
            let line = 1 + before.iter().filter(|b| **b == b'\n').count();
            let column = at
                - before
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |n| n + 1)
                + 1;
            let msg = format!(
                "the body is not {what}: a JSON array at line {line}, column {column}; send a JSON object"
            );
            return Err(Box::new(error(StatusCode::BAD_REQUEST, msg, help)));
        }
    }
    serde_json::from_slice(bytes).map_err(|e| {
        app.metrics.bad_request(endpoint);
        // serde_json's message ends with where it went wrong ("at line 1 column 11").
        let msg = format!("the body is not {what}: {e}");
        Box::new(error(StatusCode::BAD_REQUEST, msg, help))
    })
}

/// Room for a decision's JSON with its trace (a few hundred bytes in the examples).
const DECISION_BYTES: usize = 1024;

/// A decision with the context fields the plan does not declare and its delegation tokens.
#[derive(Serialize)]
struct DecisionAnswer<'a> {
    #[serde(flatten)]
    decision: &'a Decision,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    unknown_fields: Vec<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tokens: &'a [crate::trust::StepToken],
}

/// Under `--strict`, the 400 for a request with context fields the plan does not declare,
/// naming each (with the field meant, when one is close).
fn refuse_unknown(app: &App, endpoint: &'static str, unknown: &[UnknownField]) -> Response {
    app.metrics.bad_request(endpoint);
    let message = unknown
        .iter()
        .map(UnknownField::message)
        .collect::<Vec<_>>()
        .join("; ");
    let mut body = serde_json::json!({
        "error": message,
        "help": "the sidecar runs with --strict: send only the context fields the plan declares",
    });
    if let Some(o) = body.as_object_mut() {
        o.insert("unknown_fields".into(), serde_json::json!(unknown));
    }
    json(StatusCode::BAD_REQUEST, body.to_string())
}

async fn decide(
    State(app): State<Arc<App>>,
    peer: Option<Extension<PeerCert>>,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
    strict: bool,
) -> Response {
    let bytes = match body(&app, "decide", b) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    decide_bytes(&app, peer.as_ref().map(|p| &p.0), &headers, &bytes, strict).await
}

/// `POST /v1/decide` once its body is read (by the router, or by `front` ahead of it).
pub(crate) async fn decide_bytes(
    app: &App,
    peer: Option<&PeerCert>,
    headers: &HeaderMap,
    bytes: &[u8],
    strict: bool,
) -> Response {
    let mut req: Request = match parse(
        app,
        "decide",
        bytes,
        "a request",
        r#"send a JSON object: {"intent": "..", "confidence": 0.9, <context fields>} or {"text": ".."}"#,
    ) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let start = Instant::now();
    let started = app.telemetry.as_ref().map(|_| SystemTime::now());
    let engine = app.engine_full();
    // Who is asking comes first: an unverified client learns nothing about the plan's fields.
    if let Err(r) = identity::establish(app, headers, peer, &engine, &mut req).await {
        return *r;
    }
    let unknown = unknown_fields(&engine, &req.context);
    if strict && !unknown.is_empty() {
        return refuse_unknown(app, "decide", &unknown);
    }
    let d = app.decide(&engine, &req).await;
    let lineage = req.caller.as_ref().map_or(&[][..], |c| &c.lineage[..]);
    let tokens = identity::mint(app, &engine, &d, lineage);
    let text = if unknown.is_empty() && tokens.is_empty() {
        Ok(crate::json_write::decision_text(&d, DECISION_BYTES))
    } else {
        json_text(
            &DecisionAnswer {
                decision: &d,
                unknown_fields: unknown.iter().map(|u| u.path.as_str()).collect(),
                tokens: &tokens,
            },
            DECISION_BYTES,
        )
    };
    drop(engine);
    let took = start.elapsed();
    let r = match text {
        Ok(t) => {
            let mut r = json(StatusCode::OK, t);
            identity::token_header(r.headers_mut(), &tokens);
            r.headers_mut()
                .extend(traced(app, headers, "decide", started, &d));
            r
        }
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the decision: {e}"),
            "report this",
        ),
    };
    app.record(req, d, took).await;
    r
}

async fn review(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
    strict: bool,
) -> Response {
    let bytes = match body(&app, "review", b) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let resp: AgentResponse = match parse(
        &app,
        "review",
        &bytes,
        "an agent's response",
        r#"send a JSON object: {"agent": "..", "confidence": 0.9, "data": ["pii"], <context fields>}"#,
    ) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let started = app.telemetry.as_ref().map(|_| SystemTime::now());
    let engine = app.engine();
    if strict {
        let unknown = unknown_fields(&engine, &resp.context);
        if !unknown.is_empty() {
            return refuse_unknown(&app, "review", &unknown);
        }
    }
    let verdict = engine.review(&resp);
    // Only a declared agent is named in a span (`telemetry`).
    let declared = app.telemetry.is_some() && engine.has_agent(&resp.agent);
    drop(engine);
    match serde_json::to_string(&verdict) {
        Ok(t) => {
            let mut r = json(StatusCode::OK, t);
            if let (Some(tel), Some(started)) = (&app.telemetry, started) {
                let agent = declared.then_some(resp.agent.as_str());
                let named = tel.reviewed(&headers, agent, started, &verdict);
                r.headers_mut().extend(named);
            }
            r
        }
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the verdict: {e}"),
            "report this",
        ),
    }
}

/// How far in the future a reported failure may be (clock skew between hosts): a failure
/// later than that would keep its breaker open until then.
pub const FAILURE_SKEW_MS: u64 = 10_000;

/// The body of `POST /v1/failure`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Failure {
    agent: String,
    /// When it failed (ms since the epoch); default: now.
    #[serde(default)]
    at_ms: Option<u64>,
}

async fn failure(State(app): State<Arc<App>>, b: Result<Bytes, BytesRejection>) -> Response {
    let bytes = match body(&app, "failure", b) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let f: Failure = match parse(
        &app,
        "failure",
        &bytes,
        "a failure report",
        r#"send a JSON object: {"agent": "..", "at_ms": 1700000000000} (at_ms optional)"#,
    ) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let now = crate::engine::now_ms();
    let at = f.at_ms.unwrap_or(now);
    if at > now.saturating_add(FAILURE_SKEW_MS) {
        app.metrics.bad_request("failure");
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "at_ms {at} is {} ms in the future; at most {FAILURE_SKEW_MS} ms of clock skew is accepted",
                at - now
            ),
            "send when the failure happened, in ms since the Unix epoch, or leave at_ms out (now)",
        );
    }
    let engine = app.engine_full();
    let recorded = app.store.report_failure(&engine, &f.agent, f.at_ms).await;
    if let Err(e) = recorded {
        // Not recorded: the reporter should retry once the store is back.
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the failure could not be recorded: the state store is unavailable: {e}"),
            "report it again later",
        );
    }
    if recorded == Ok(true) {
        json(
            StatusCode::OK,
            serde_json::json!({ "agent": f.agent, "recorded": true, "plan_hash": engine.plan_hash() })
                .to_string(),
        )
    } else {
        app.metrics.bad_request("failure");
        error(
            StatusCode::NOT_FOUND,
            format!("no agent `{}` in the plan", echo(&f.agent)),
            "name an agent the plan declares",
        )
    }
}

/// The authorization endpoint (docs/serve.md): decides from the `x-intent-*` headers and
/// answers with a status and `x-intent-*` headers.
async fn authz(
    State(app): State<Arc<App>>,
    peer: Option<Extension<PeerCert>>,
    headers: HeaderMap,
    fields: FieldHeaders,
    strict: bool,
) -> Response {
    authz_headers(&app, peer.as_ref().map(|p| &p.0), &headers, fields, strict).await
}

/// `/v1/authz` on a request's headers (through the router, or `front` ahead of it).
pub(crate) async fn authz_headers(
    app: &App,
    peer: Option<&PeerCert>,
    headers: &HeaderMap,
    fields: FieldHeaders,
    strict: bool,
) -> Response {
    let mut req = match headers::read_request(headers, fields) {
        Ok(r) => r,
        Err(e) => {
            app.metrics.bad_request("authz");
            return error(
                e.status,
                e.to_string(),
                "see docs/serve.md for the x-intent-* request headers and their limits",
            );
        }
    };
    let set = StatusSet::of(headers);
    let start = Instant::now();
    let started = app.telemetry.as_ref().map(|_| SystemTime::now());
    let engine = app.engine_full();
    if let Err(r) = identity::establish(app, headers, peer, &engine, &mut req).await {
        return *r;
    }
    if strict {
        let unknown = unknown_fields(&engine, &req.context);
        if !unknown.is_empty() {
            return refuse_unknown(app, "authz", &unknown);
        }
    }
    let d = app.decide(&engine, &req).await;
    let lineage = req.caller.as_ref().map_or(&[][..], |c| &c.lineage[..]);
    let tokens = identity::mint(app, &engine, &d, lineage);
    drop(engine);
    let tokens_key = (!tokens.is_empty()).then_some(("tokens", &tokens[..]));
    let body = headers::answer_body_with(&d, tokens_key);
    let mut r = json(headers::status_of(d.outcome, set), body);
    headers::answer_headers(&d, set, r.headers_mut());
    identity::token_header(r.headers_mut(), &tokens);
    r.headers_mut()
        .extend(traced(app, headers, "authz", started, &d));
    let took = start.elapsed();
    app.record(req, d, took).await;
    r
}

/// With `--otlp`, the span of decision `d` (made on `endpoint`, begun at `started`) and the
/// `traceparent` naming it for the answer; without, nothing.
fn traced(
    app: &App,
    headers: &HeaderMap,
    endpoint: &'static str,
    started: Option<SystemTime>,
    d: &Decision,
) -> HeaderMap {
    match (&app.telemetry, started) {
        (Some(t), Some(started)) => t.decided(headers, endpoint, started, d),
        _ => HeaderMap::new(),
    }
}

async fn healthz() -> Response {
    (StatusCode::OK, "ok\n").into_response()
}

/// Ready while a plan is loaded and the server is not draining. The state store's health is
/// reported, but a store that is down does not make the sidecar unready: it still answers
/// (failing closed, or from the local fallback), and every replica shares the same store.
/// Says why the latest reload was refused, if it was (the plan named still serves), and with
/// `--bundle-url` the bundle's status (its hash and ETag, the last success and the last error).
async fn readyz(State(app): State<Arc<App>>) -> Response {
    let hash = app.engine().plan_hash().to_string();
    let state = app.store.status();
    let mut answer = if app.draining() {
        serde_json::json!({ "ready": false, "reason": "shutting down", "plan_hash": hash, "state": state })
    } else {
        serde_json::json!({ "ready": true, "plan_hash": hash, "state": state })
    };
    if let (Some(why), Some(o)) = (app.refusal(), answer.as_object_mut()) {
        o.insert("reload_refused".into(), why.into());
    }
    if let (Some(b), Some(o)) = (app.bundle_status(), answer.as_object_mut()) {
        o.insert("bundle".into(), serde_json::to_value(b).unwrap_or_default());
    }
    let status = if app.draining() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    json(status, answer.to_string())
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let engine = app.engine_full();
    let breakers = app.store.breakers(&engine).await;
    let bundle = app.bundle_status();
    let text = app.metrics.render(
        breakers.as_deref(),
        app.store.backend(),
        app.store.health(),
        bundle.as_ref(),
    );
    let mut r = Response::new(Body::from(text));
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

async fn not_found(req: HttpRequest) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("no endpoint {} {}", req.method(), req.uri().path()),
        "the endpoints: POST /v1/decide, /v1/classify, /v1/review, /v1/failure; any /v1/authz; GET /healthz, /readyz, /metrics, /.well-known/jwks.json; with `intent mcp`, also /mcp, GET /v1/approvals and POST /v1/approvals/{id}",
    )
}
