//! The sidecar's router in process (no sockets): each endpoint's answers and refusals, and a
//! property: no bytes sent to any endpoint make it panic or answer 5xx; a stalled body gets 408.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use intent_compiler::{compile, Source, Stage};
use intent_runtime::server::{router, AdminAccess, App, Config};
use intent_runtime::Engine;
use proptest::prelude::*;
use std::sync::Arc;
use tower::ServiceExt;

const MESH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/serve/mesh.intent");

fn app() -> axum::Router {
    static APP: std::sync::OnceLock<axum::Router> = std::sync::OnceLock::new();
    APP.get_or_init(build).clone()
}

fn build() -> axum::Router {
    let mut config = Config::new("127.0.0.1:0".parse().unwrap());
    config.max_body = 1024;
    // The failure endpoint's own answers are tested here; who may call it, in serve_ops.rs.
    config.admin = AdminAccess::Open;
    build_with(&config)
}

fn build_with(config: &Config) -> axum::Router {
    let src = std::fs::read_to_string(MESH).unwrap();
    let c = compile(&[Source::new("mesh.intent", src)], Stage::Build);
    let engine = Engine::from_plan(c.plan.unwrap()).unwrap();
    router(Arc::new(App::new(engine)), config)
}

/// A request body whose bytes never come.
struct Stalled;

impl hyper::body::Body for Stalled {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

#[test]
fn a_body_that_never_comes_gets_408() {
    let mut config = Config::new("127.0.0.1:0".parse().unwrap());
    config.request_timeout = std::time::Duration::from_millis(100);
    let app = build_with(&config);
    let req = Request::builder()
        .method("POST")
        .uri("/v1/decide")
        .header("content-type", "application/json")
        .body(Body::new(Stalled))
        .unwrap();
    let resp = rt().block_on(app.oneshot(req)).unwrap();
    assert_eq!(resp.status(), StatusCode::REQUEST_TIMEOUT);
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn send(app: &axum::Router, method: &str, path: &str, body: Vec<u8>) -> (StatusCode, String) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[test]
fn decide_answers_with_the_decision_and_reports_unknown_fields() {
    let app = app();
    let (status, body) = rt().block_on(send(
        &app,
        "POST",
        "/v1/decide",
        br#"{"intent":"take_order","confidence":0.95,"channel":"web","chanel":"api"}"#.to_vec(),
    ));
    assert_eq!(status, StatusCode::OK);
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["outcome"], "dispatch");
    assert_eq!(j["steps"][0]["agent"], "order_desk");
    assert_eq!(j["unknown_fields"], serde_json::json!(["chanel"]));
}

#[test]
fn classify_answers_what_the_classifier_says_and_refuses_what_it_cannot_read() {
    let app = app();
    let rt = rt();
    let ask = |body: &str| {
        let (status, text) = rt.block_on(send(&app, "POST", "/v1/classify", body.into()));
        (
            status,
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
        )
    };
    // The same probabilities a decision on the text gets, and whether it would be routed.
    let text = "give me my money back for the pizza order";
    let (status, j) = ask(&serde_json::json!({ "text": text }).to_string());
    assert_eq!(status, StatusCode::OK, "{j}");
    let (_, d) = rt.block_on(send(
        &app,
        "POST",
        "/v1/decide",
        serde_json::json!({ "text": text, "channel": "web" })
            .to_string()
            .into(),
    ));
    let d: serde_json::Value = serde_json::from_str(&d).unwrap();
    assert_eq!(j["intent"], "issue_refund", "{j}");
    assert_eq!(j["runners_up"][0]["intent"], "take_order", "{j}");
    assert_eq!(j["intent"], d["intent"], "{j} {d}");
    assert_eq!(j["confidence"], d["confidence"], "{j} {d}");
    assert_eq!(j["none_of_these"], d["none_of_these"], "{j} {d}");
    assert_eq!(j["classifier"], "builtin", "{j}");
    assert_eq!(j["matched"], true, "{j}");
    assert_eq!(j["plan_hash"], d["plan_hash"], "{j}");
    let listed = |j: &serde_json::Value| 1 + j["runners_up"].as_array().unwrap().len();
    // `top` bounds the list.
    let (_, one) = ask(&serde_json::json!({ "text": text, "top": 1 }).to_string());
    assert_eq!(listed(&one), 1, "{one}");
    assert_eq!(one["confidence"], j["confidence"], "{one}");
    // A text that shares no word with any intent: no intent, and a decision would deny it.
    let (status, j) = ask(r#"{"text": "zzz qqq"}"#);
    assert_eq!(status, StatusCode::OK, "{j}");
    assert!(j["intent"].is_null(), "{j}");
    assert_eq!(j["none_of_these"], 1.0, "{j}");
    assert_eq!(j["matched"], false, "{j}");
    // Refusals: 400 with what is wrong, counted as bad requests of `classify`.
    for (body, says) in [
        (
            r#"{"text": "x", "top": 0}"#,
            "top is 0; it lists 1 to 100 intents",
        ),
        (r#"{"text": "x", "top": 101}"#, "top is 101"),
        (
            r#"{"text": "x", "intent": "take_order"}"#,
            "unknown field `intent`",
        ),
        (r#"{"text": "a", "text": "b"}"#, "duplicate field `text`"),
        (r#"{"top": 3}"#, "missing field `text`"),
        // serde would read a derived struct from an array too: every body is an object.
        (
            r#" ["x", 3]"#,
            "a JSON array at line 1, column 2; send a JSON object",
        ),
    ] {
        let (status, j) = ask(body);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {j}");
        assert!(j["error"].as_str().unwrap().contains(says), "{body}: {j}");
        assert!(j["help"].as_str().is_some(), "{j}");
    }
    let (_, metrics) = rt.block_on(send(&app, "GET", "/metrics", Vec::new()));
    assert!(
        metrics.contains(r#"intent_bad_requests_total{endpoint="classify"}"#),
        "{metrics}"
    );
    // A text past the classifier's bound, in a body the sidecar reads (the default limit).
    let app = build_with(&Config::new("127.0.0.1:0".parse().unwrap()));
    let max = intent_runtime::limits::MAX_TEXT;
    let at = |n: usize| {
        let body = serde_json::json!({ "text": "a".repeat(n) }).to_string();
        rt.block_on(send(&app, "POST", "/v1/classify", body.into()))
    };
    assert_eq!(at(max).0, StatusCode::OK);
    let (status, body) = at(max + 1);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("the text is 4097 bytes long; the classifier reads at most 4096"),
        "{body}"
    );
}

#[test]
fn a_strict_sidecar_refuses_undeclared_fields_by_name() {
    let mut config = Config::new("127.0.0.1:0".parse().unwrap());
    config.strict = true;
    let app = build_with(&config);
    let (status, body) = rt().block_on(send(
        &app,
        "POST",
        "/v1/decide",
        br#"{"intent":"take_order","confidence":0.95,"channel":"web","amout":5}"#.to_vec(),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        j["error"],
        "`amout` is not a context field of the plan; did you mean `amount`?"
    );
    assert_eq!(
        j["unknown_fields"],
        serde_json::json!([{"path": "amout", "suggestion": "amount"}])
    );
    // Review and the authorization endpoint refuse them too; a clean request is decided.
    let (status, body) = rt().block_on(send(
        &app,
        "POST",
        "/v1/review",
        br#"{"agent":"order_desk","confidence":0.9,"data":[],"channel":"web","zzz":1}"#.to_vec(),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body.contains("`zzz` is not a context field of the plan"),
        "{body}"
    );
    let req = Request::builder()
        .method("GET")
        .uri("/v1/authz")
        .header("x-intent-name", "take_order")
        .header("x-intent-confidence", "0.95")
        .header("x-intent-context", r#"{"channel":"web","chanel":"web"}"#)
        .body(Body::empty())
        .unwrap();
    let resp = rt().block_on(app.clone().oneshot(req)).unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let (status, body) = rt().block_on(send(
        &app,
        "POST",
        "/v1/decide",
        br#"{"intent":"take_order","confidence":0.95,"channel":"web"}"#.to_vec(),
    ));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.contains("unknown_fields"), "{body}");
}

#[test]
fn refusals_say_what_is_wrong() {
    let app = app();
    let rt = rt();
    let (status, body) = rt.block_on(send(&app, "POST", "/v1/decide", b"{\"intent\": ".to_vec()));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        j["error"],
        "the body is not a request: EOF while parsing a value at line 1 column 11"
    );
    assert!(j["help"]
        .as_str()
        .unwrap()
        .starts_with("send a JSON object"));

    let (status, _) = rt.block_on(send(&app, "POST", "/v1/decide", vec![b' '; 2000]));
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let (status, body) = rt.block_on(send(
        &app,
        "POST",
        "/v1/failure",
        br#"{"agent":"refund_bot","when":1}"#.to_vec(),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("unknown field `when`"), "{body}");
    // Not read as `{"agent": "refund_bot"}`: a body is an object, on the line it starts.
    let (status, body) = rt.block_on(send(
        &app,
        "POST",
        "/v1/failure",
        b"\n  [\"refund_bot\"]".to_vec(),
    ));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("a JSON array at line 2, column 3"), "{body}");

    let (status, body) = rt.block_on(send(
        &app,
        "POST",
        "/v1/failure",
        br#"{"agent":"nobody"}"#.to_vec(),
    ));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("no agent `nobody` in the plan"), "{body}");

    let (status, body) = rt.block_on(send(&app, "GET", "/v2/nothing", Vec::new()));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("no endpoint GET /v2/nothing"), "{body}");
    // The help names every endpoint, the MCP gateway's too.
    assert!(
        body.contains("/.well-known/jwks.json") && body.contains("/v1/approvals"),
        "{body}"
    );
}

#[test]
fn failures_open_the_breaker_shown_in_metrics() {
    // Its own app: the counts below are this test's alone.
    let app = build();
    let rt = rt();
    for _ in 0..3 {
        let (status, _) = rt.block_on(send(
            &app,
            "POST",
            "/v1/failure",
            br#"{"agent":"refund_bot"}"#.to_vec(),
        ));
        assert_eq!(status, StatusCode::OK);
    }
    let (_, body) = rt.block_on(send(
        &app,
        "POST",
        "/v1/decide",
        br#"{"intent":"issue_refund","confidence":0.9,"channel":"api"}"#.to_vec(),
    ));
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["outcome"], "deny", "{body}");
    let (status, metrics) = rt.block_on(send(&app, "GET", "/metrics", Vec::new()));
    assert_eq!(status, StatusCode::OK);
    for line in [
        r#"intent_breaker_open{agent="refund_bot"} 1"#,
        r#"intent_decisions_total{intent="issue_refund",outcome="deny"} 1"#,
        "intent_decision_seconds_count 1",
        "intent_escalations_total 0",
        "intent_plan{plan_hash=\"",
    ] {
        assert!(metrics.contains(line), "{line} not in:\n{metrics}");
    }
}

#[test]
fn review_answers_with_a_verdict() {
    let (status, body) = rt().block_on(send(
        &app(),
        "POST",
        "/v1/review",
        br#"{"agent":"order_desk","confidence":0.9,"channel":"web"}"#.to_vec(),
    ));
    assert_eq!(status, StatusCode::OK);
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["outcome"], "pass", "{body}");
}

/// Runs `f` on a thread with a 1 MiB stack (a tokio worker has 2 MiB): a parser that recurses
/// per byte of input overflows it and aborts the test binary, as it aborted the sidecar.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

/// Regression (#10): `x-intent-context-` followed by 7,500 `a.` segments made the header
/// parser recurse once per dot until the stack overflowed and the process aborted. It is
/// refused now, with a reason.
#[test]
fn a_deeply_dotted_context_header_is_refused_not_a_stack_overflow() {
    let app = app();
    let (status, body) = on_small_stack(move || {
        let name = format!("x-intent-context-{}a", "a.".repeat(7_500));
        let req = Request::builder()
            .uri("/v1/authz")
            .header("x-intent-name", "take_order")
            .header("x-intent-confidence", "0.95")
            .header(name.as_str(), "1")
            .body(Body::empty())
            .unwrap();
        rt().block_on(async {
            let resp = app.oneshot(req).await.unwrap();
            let status = resp.status();
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&bytes).into_owned())
        })
    });
    assert!(status.is_client_error(), "{status}: {body}");
    assert!(body.contains("x-intent-context-a.a.a."), "{body}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn no_bytes_make_any_endpoint_fail(
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            "\\{\"(intent|text|top|agent|confidence|caller|channel)\": ?(\"[a-z_]{0,12}\"|-?[0-9.e]{1,6}|\\[\\]|\\{\\}|null|true)\\}"
                .prop_map(String::into_bytes),
        ],
        endpoint in 0usize..6,
    ) {
        let (method, path) = [
            ("POST", "/v1/decide"),
            ("POST", "/v1/classify"),
            ("POST", "/v1/review"),
            ("POST", "/v1/failure"),
            ("POST", "/v1/authz/x"),
            ("GET", "/metrics"),
        ][endpoint];
        let (status, _) = rt().block_on(send(&app(), method, path, body));
        prop_assert!(!status.is_server_error(), "{status}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn no_header_values_make_authz_fail(
        headers in proptest::collection::vec(
            (
                prop_oneof![
                    Just("x-intent-name".to_string()),
                    Just("x-intent-confidence".to_string()),
                    Just("x-intent-text".to_string()),
                    Just("x-intent-caller".to_string()),
                    Just("x-intent-lineage".to_string()),
                    Just("x-intent-context".to_string()),
                    Just("x-intent-answer".to_string()),
                    "x-intent-context-[a-z.]{0,8}",
                ],
                // What a header value may hold: tab, visible ASCII, bytes 0x80 and up.
                proptest::collection::vec(
                    prop_oneof![Just(9u8), 0x20u8..0x7f, 0x80u8..=0xff],
                    0..40,
                ),
            ),
            0..6,
        ),
    ) {
        let mut req = Request::builder().method("GET").uri("/v1/authz/orders");
        for (name, value) in &headers {
            req = req.header(
                name.as_str(),
                axum::http::HeaderValue::from_bytes(value).unwrap(),
            );
        }
        let status = rt().block_on(async {
            app().oneshot(req.body(Body::empty()).unwrap()).await.unwrap().status()
        });
        prop_assert!(
            [200, 400, 401, 403, 429].contains(&status.as_u16()),
            "{status}"
        );
    }
}
