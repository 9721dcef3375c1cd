//! A Rust gateway that embeds decisions in process: an axum app behind the runtime's tower
//! `IntentLayer`. Each request names its intent in `x-intent-*` headers (docs/serve.md); the
//! layer decides it, answers 403/401/429 itself when the decision does not let it through, and
//! otherwise hands the handler the request with `x-intent-route` and the `Decision`.
//!
//! Run it: `cargo run --example gateway -- tests/serve/mesh.intent` then
//! `curl -i localhost:8282/orders -H 'x-intent-name: take_order' -H 'x-intent-confidence: 0.95' -H 'x-intent-context-channel: web'`.

use axum::extract::Extension;
use axum::http::HeaderMap;
use axum::routing::any;
use axum::Router;
use intent_compiler::{compile, Source, Stage};
use intent_runtime::layer::IntentLayer;
use intent_runtime::{Decision, Engine};

/// The gateway's routes: every path reaches `forward` once the layer lets it through.
fn app(engine: Engine) -> Router {
    Router::new()
        .route("/{*path}", any(forward))
        .layer(IntentLayer::new(engine))
}

/// Where a real gateway would proxy to the chosen agent; here it says where it would go.
async fn forward(Extension(decision): Extension<Decision>, headers: HeaderMap) -> String {
    let route = headers
        .get("x-intent-route")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let endpoint = decision
        .steps
        .first()
        .and_then(|s| s.endpoint.as_deref())
        .unwrap_or("(no endpoint declared)");
    format!("{} via {route} to {endpoint}\n", decision.outcome.as_str())
}

/// Compiles the mesh at `path` (a file or directory of .intent sources).
fn engine(path: &str) -> Result<Engine, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let c = compile(&[Source::new(path, text)], Stage::Build);
    let errors = c.has_errors();
    let plan = c
        .plan
        .filter(|_| !errors)
        .ok_or_else(|| format!("{path} has errors: run `intent check {path}`"))?;
    Engine::from_plan(plan).map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tests/serve/mesh.intent".into());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8282")
        .await
        .map_err(|e| e.to_string())?;
    eprintln!("gateway on http://127.0.0.1:8282, deciding with {path}");
    axum::serve(listener, app(engine(&path)?))
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    fn mesh() -> Engine {
        engine(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/serve/mesh.intent"
        ))
        .unwrap()
    }

    async fn call(headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, String) {
        let mut req = Request::builder().uri("/orders/new");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = app(mesh())
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        (
            parts.status,
            parts.headers,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    #[tokio::test]
    async fn a_strict_layer_refuses_an_undeclared_field_by_name() {
        let strict = Router::new()
            .route("/{*path}", any(forward))
            .layer(IntentLayer::new(mesh()).strict(true));
        let req = |channel_header: &str| {
            Request::builder()
                .uri("/orders/new")
                .header("x-intent-name", "take_order")
                .header("x-intent-confidence", "0.95")
                .header(channel_header, "web")
                .body(Body::empty())
                .unwrap()
        };
        let resp = strict
            .clone()
            .oneshot(req("x-intent-context-chanel"))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(
            body.contains("`chanel` is not a context field of the plan; did you mean `channel`?"),
            "{body}"
        );
        // The same request, spelt right, goes through; without `strict` the misspelt one is
        // decided (and, lacking its channel, denied by the engine).
        let ok = strict
            .oneshot(req("x-intent-context-channel"))
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        let (status, _, _) = call(&[
            ("x-intent-name", "take_order"),
            ("x-intent-confidence", "0.95"),
            ("x-intent-context-chanel", "web"),
        ])
        .await;
        assert_ne!(status, StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn an_allowed_request_reaches_the_handler_with_its_route() {
        let (status, _, body) = call(&[
            ("x-intent-name", "take_order"),
            ("x-intent-confidence", "0.95"),
            ("x-intent-context-channel", "web"),
            // A client cannot pretend a decision was made: the layer replaces this.
            ("x-intent-route", "forged"),
        ])
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            "dispatch via dispatch=order_desk to http://orders.svc:8080\n"
        );
    }

    #[tokio::test]
    async fn the_layer_answers_what_it_does_not_let_through() {
        let (status, headers, body) = call(&[
            ("x-intent-name", "issue_refund"),
            ("x-intent-confidence", "0.95"),
            ("x-intent-context", r#"{"channel":"api","amount":5000}"#),
        ])
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(headers["x-intent-outcome"], "deny");
        assert!(body.contains("refunds over 1000 need a person"), "{body}");

        let (status, headers, _) = call(&[
            ("x-intent-name", "take_order"),
            ("x-intent-confidence", "0.6"),
            ("x-intent-context-channel", "web"),
        ])
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers["x-intent-human"], "support_lead");

        let (status, _, body) = call(&[("x-intent-confidence", "very")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("x-intent-confidence"), "{body}");
    }

    /// Regression (#10): `x-intent-context-` followed by 7,500 `a.` segments made the header
    /// parser recurse once per dot until the stack overflowed and the process aborted. On a
    /// thread with a 1 MiB stack (a tokio worker has 2 MiB) the layer refuses it with a reason.
    #[test]
    fn a_deeply_dotted_context_header_is_refused_not_a_stack_overflow() {
        let engine = mesh();
        let (status, body) = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                let name = format!("x-intent-context-{}a", "a.".repeat(7_500));
                let req = Request::builder()
                    .uri("/orders/new")
                    .header("x-intent-name", "take_order")
                    .header("x-intent-confidence", "0.95")
                    .header(name.as_str(), "1")
                    .body(Body::empty())
                    .unwrap();
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let resp = app(engine).oneshot(req).await.unwrap();
                    let status = resp.status();
                    let body = resp.into_body().collect().await.unwrap().to_bytes();
                    (status, String::from_utf8_lossy(&body).into_owned())
                })
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(status.is_client_error(), "{status}: {body}");
        assert!(body.contains("x-intent-context-a.a.a."), "{body}");
    }
}
