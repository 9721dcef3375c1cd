//! The sidecar's side of the trust broker (`crate::trust`, docs/identity.md): a request's
//! caller (and the context fields filled from its token's claims) established from its
//! credentials before it is decided (or the request refused, with
//! the reason counted in `/metrics`), the delegation tokens of a decision written into its
//! answer (JSON `tokens` and the `x-intent-token` header), and `GET /.well-known/jwks.json`.

use super::app::App;
use super::routes::error;
use crate::decision::Decision;
use crate::engine::Engine;
use crate::request::Request;
use crate::trust::{PeerCert, Refusal, StepToken, TOKEN_HEADER};
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use std::sync::Arc;

/// Puts the caller the credentials establish into `req` (nothing without a broker, or when
/// none is needed and none given), with the context fields taken from the bearer token's
/// claims; or the refusal to answer.
pub(super) async fn establish(
    app: &App,
    headers: &HeaderMap,
    peer: Option<&PeerCert>,
    engine: &Engine,
    req: &mut Request,
) -> Result<(), Box<Response>> {
    let Some(trust) = &app.trust else {
        return Ok(());
    };
    // Boxed: verifying credentials is a future of kilobytes that every request's future would
    // otherwise carry, and move, without a broker too.
    Box::pin(trust.establish_request(headers, peer, engine, req))
        .await
        .map_err(|r| Box::new(refuse(app, &r)))
}

/// The person a request comes from (a human of the plan, from a bearer token), or the refusal.
pub(crate) async fn person(
    app: &App,
    headers: &HeaderMap,
    engine: &Engine,
) -> Result<String, Box<Response>> {
    let Some(trust) = &app.trust else {
        return Err(Box::new(error(
            axum::http::StatusCode::FORBIDDEN,
            "people are identified by bearer tokens, and this sidecar verifies none".into(),
            "start it with --jwks (docs/identity.md)",
        )));
    };
    trust
        .person(headers, engine)
        .await
        .map_err(|r| Box::new(refuse(app, &r)))
}

/// The answer to a refused request: its status, the reason, and for a 401 the challenge.
fn refuse(app: &App, r: &Refusal) -> Response {
    app.metrics.refused(r.reason);
    let mut resp = error(r.status, r.message.clone(), r.help());
    if let Some(c) = r.challenge().and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().insert(WWW_AUTHENTICATE, c);
    }
    resp
}

/// The delegation tokens of decision `d` (none without a broker that mints them).
pub(super) fn mint(app: &App, engine: &Engine, d: &Decision, lineage: &[String]) -> Vec<StepToken> {
    let Some(trust) = &app.trust else {
        return Vec::new();
    };
    let tokens = trust.mint(engine, d, lineage);
    if !tokens.is_empty() {
        app.metrics.minted(tokens.len());
    }
    tokens
}

/// Sets `x-intent-token`: the tokens in step order, separated by commas.
pub(super) fn token_header(headers: &mut HeaderMap, tokens: &[StepToken]) {
    if tokens.is_empty() {
        return;
    }
    let list: Vec<&str> = tokens.iter().map(|t| t.token.as_str()).collect();
    if let Ok(v) = HeaderValue::from_str(&list.join(",")) {
        headers.insert(HeaderName::from_static(TOKEN_HEADER), v);
    }
}

/// `GET /.well-known/jwks.json`: the public keys delegation tokens verify with (404 when the
/// sidecar mints none).
pub(super) async fn jwks(State(app): State<Arc<App>>) -> Response {
    let Some(keys) = app.trust.as_ref().and_then(|t| t.delegation()) else {
        return error(
            StatusCode::NOT_FOUND,
            "this sidecar signs no delegation tokens".into(),
            "start it with --signing-key (docs/identity.md)",
        );
    };
    let mut r = Response::new(Body::from(keys.jwks_json()));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("max-age=60"));
    r
}
