//! The Layer's path with a trust broker (`IntentLayer::trust`): the request's caller comes from
//! its credentials (`crate::trust::Trust::establish`), refusals are answered here with their
//! status and challenge, and a request let through carries the step's delegation token to the
//! inner service in `x-intent-token`.

use super::headers::{self, FieldHeaders, StatusSet};
use super::{answer, json_response, strict_refusal};
use crate::engine::Engine;
use crate::trust::{Trust, TOKEN_HEADER};
use http::header::{HeaderName, HeaderValue, WWW_AUTHENTICATE};
use http::{Request, Response};
use std::sync::Arc;

/// Decides `req` with its established caller, then calls `inner` or answers.
pub(super) async fn call<S, ReqBody, ResBody>(
    trust: Arc<Trust>,
    engine: Arc<Engine>,
    fields: FieldHeaders,
    strict: bool,
    mut inner: S,
    mut req: Request<ReqBody>,
) -> Result<Response<ResBody>, S::Error>
where
    S: tower::Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<String>,
{
    let mut intent_req = match headers::read_request(req.headers(), fields) {
        Ok(r) => r,
        Err(e) => {
            let body = serde_json::json!({ "error": e.to_string() }).to_string();
            return Ok(json_response(e.status, body));
        }
    };
    if let Some(answer) = strict_refusal(strict, &engine, &intent_req) {
        return Ok(answer);
    }
    let peer = req.extensions().get::<crate::trust::PeerCert>();
    match trust
        .establish_request(req.headers(), peer, &engine, &mut intent_req)
        .await
    {
        Ok(()) => {}
        Err(r) => {
            let body = serde_json::json!({ "error": r.message, "help": r.help() }).to_string();
            let mut resp = json_response(r.status, body);
            if let Some(c) = r.challenge().and_then(|c| HeaderValue::from_str(&c).ok()) {
                resp.headers_mut().insert(WWW_AUTHENTICATE, c);
            }
            return Ok(resp);
        }
    }
    let d = engine.decide(&intent_req);
    if !headers::allows(d.outcome) {
        return Ok(answer(&d, StatusSet::of(req.headers())));
    }
    let lineage = intent_req
        .caller
        .as_ref()
        .map_or(&[][..], |c| &c.lineage[..]);
    let tokens = trust.mint(&engine, &d, lineage);
    let h = req.headers_mut();
    headers::strip_answer_headers(h);
    h.remove(TOKEN_HEADER);
    headers::answer_headers(&d, StatusSet::Full, h);
    if !tokens.is_empty() {
        let list: Vec<&str> = tokens.iter().map(|t| t.token.as_str()).collect();
        if let Ok(v) = HeaderValue::from_str(&list.join(",")) {
            h.insert(HeaderName::from_static(TOKEN_HEADER), v);
        }
    }
    req.extensions_mut().insert(d);
    inner.call(req).await
}
