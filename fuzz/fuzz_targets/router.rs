//! Fuzz target: the sidecar's whole router, in process (`tower::ServiceExt::oneshot`, no
//! sockets), with an admin token configured. The input chooses the endpoint and method, the
//! `authorization` header (none, right, wrong), `x-intent-*` headers (the context ones with
//! any field name) and the body (raw bytes or JSON shaped from words the mesh knows). Nothing
//! may panic; no answer may be a 5xx; `/v1/failure` without the right token is always 401.
#![no_main]

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Request};
use intent_fuzz::{mesh_plan, Json, Word};
use intent_runtime::server::{router, AdminAccess, AdminToken, App, Config};
use intent_runtime::Engine;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

const TOKEN: &str = "fuzz-admin-token-0123456789";

#[derive(Arbitrary, Debug)]
enum Endpoint {
    Decide,
    Classify,
    Review,
    Failure,
    Authz,
    AuthzPath(String),
    Healthz,
    Readyz,
    Metrics,
    Jwks,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Method {
    Get,
    Post,
    Put,
    Delete,
    Head,
}

#[derive(Arbitrary, Debug)]
enum Auth {
    None,
    Right,
    Wrong(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Name {
    IntentName,
    Confidence,
    Text,
    Caller,
    Lineage,
    Context,
    Answer,
    /// `x-intent-context-<field>`.
    ContextField(Word),
    ContentType,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Value {
    Bytes(Vec<u8>),
    Json(Json),
    Word(Word),
}

#[derive(Arbitrary, Debug)]
enum Body_ {
    Empty,
    Raw(Vec<u8>),
    Json(Json),
}

#[derive(Arbitrary, Debug)]
struct Input {
    endpoint: Endpoint,
    method: Method,
    auth: Auth,
    headers: Vec<(Name, Value)>,
    body: Body_,
}

fn app() -> &'static axum::Router {
    static APP: OnceLock<axum::Router> = OnceLock::new();
    APP.get_or_init(|| {
        let engine = match Engine::from_plan(mesh_plan().clone()) {
            Ok(e) => e,
            Err(e) => panic!("the mesh's plan does not load: {e}"),
        };
        let mut config = Config::new(([127, 0, 0, 1], 0).into());
        config.max_body = 4096;
        config.admin = match AdminToken::new(TOKEN) {
            Ok(t) => AdminAccess::Token(t),
            Err(e) => panic!("{e}"),
        };
        router(Arc::new(App::new(engine)), &config)
    })
}

fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| match tokio::runtime::Builder::new_current_thread().enable_time().build() {
        Ok(rt) => rt,
        Err(e) => panic!("{e}"),
    })
}

fn header_name(n: &Name) -> Option<HeaderName> {
    let text = match n {
        Name::IntentName => "x-intent-name".to_string(),
        Name::Confidence => "x-intent-confidence".to_string(),
        Name::Text => "x-intent-text".to_string(),
        Name::Caller => "x-intent-caller".to_string(),
        Name::Lineage => "x-intent-lineage".to_string(),
        Name::Context => "x-intent-context".to_string(),
        Name::Answer => "x-intent-answer".to_string(),
        Name::ContextField(w) => format!("x-intent-context-{}", w.text()),
        Name::ContentType => "content-type".to_string(),
        Name::Other(s) => s.clone(),
    };
    HeaderName::from_bytes(text.as_bytes()).ok()
}

fn header_value(v: &Value) -> Option<HeaderValue> {
    match v {
        Value::Bytes(b) => HeaderValue::from_bytes(b).ok(),
        Value::Json(j) => HeaderValue::from_str(&j.value().to_string()).ok(),
        Value::Word(w) => HeaderValue::from_str(w.text()).ok(),
    }
}

fuzz_target!(|input: Input| {
    let path = match &input.endpoint {
        Endpoint::Decide => "/v1/decide".to_string(),
        Endpoint::Classify => "/v1/classify".to_string(),
        Endpoint::Review => "/v1/review".to_string(),
        Endpoint::Failure => "/v1/failure".to_string(),
        Endpoint::Authz => "/v1/authz".to_string(),
        Endpoint::AuthzPath(p) => format!("/v1/authz/{p}"),
        Endpoint::Healthz => "/healthz".to_string(),
        Endpoint::Readyz => "/readyz".to_string(),
        Endpoint::Metrics => "/metrics".to_string(),
        Endpoint::Jwks => "/.well-known/jwks.json".to_string(),
        Endpoint::Other(p) => format!("/{p}"),
    };
    let method = match input.method {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Head => "HEAD",
    };
    let mut req = Request::builder().method(method).uri(path.as_str());
    let right = match &input.auth {
        Auth::None => false,
        Auth::Right => {
            req = req.header("authorization", format!("Bearer {TOKEN}"));
            true
        }
        Auth::Wrong(b) => {
            let mut v = b"Bearer ".to_vec();
            v.extend_from_slice(b);
            if let Ok(v) = HeaderValue::from_bytes(&v) {
                req = req.header("authorization", v);
            }
            false
        }
    };
    for (n, v) in &input.headers {
        if let (Some(n), Some(v)) = (header_name(n), header_value(v)) {
            if n != "authorization" {
                req = req.header(n, v);
            }
        }
    }
    let body = match &input.body {
        Body_::Empty => Body::empty(),
        Body_::Raw(b) => Body::from(b.clone()),
        Body_::Json(j) => Body::from(j.value().to_string()),
    };
    // A path the URI grammar refuses never reaches the server.
    let Ok(req) = req.body(body) else { return };
    let status = rt().block_on(async {
        match app().clone().oneshot(req).await {
            Ok(r) => r.status(),
            Err(e) => match e {},
        }
    });
    assert!(!status.is_server_error(), "{method} {path}: {status}");
    if path == "/v1/failure" && method == "POST" && !right {
        // Refused: 401 for the token, or 415 first when the body does not say it is JSON.
        assert!(
            matches!(status.as_u16(), 401 | 415),
            "an unauthenticated failure report was not refused: {status}"
        );
    }
});
