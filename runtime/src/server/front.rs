//! The two hot endpoints answered ahead of the router. Every connection is served by a
//! [`Front`]: `POST /v1/decide` with a JSON body of a declared length within `--max-body`, and
//! `/v1/authz` (any method, any sub-path), go straight to their handlers; every other request,
//! and every request these would refuse before deciding (no JSON `content-type`, no
//! `content-length`, a body over the limit), goes to the axum router as before, with its
//! refusals, metrics and middleware.
//!
//! The answers are the router's, to the byte: the same handlers (`routes::decide_bytes`,
//! `routes::authz_headers`) under the same request timeout. What is left out is the router's
//! own work per request (matching, two middleware layers, cloning the header map, the body
//! read as an extractor): about a fifth of the sidecar's CPU per decision
//! (docs/performance.md, "The sidecar").

use super::app::App;
use super::routes::{authz_headers, decide_bytes, error, says_json, timed_out};
use crate::layer::headers::FieldHeaders;
use crate::trust::PeerCert;
use axum::response::Response;
use axum::Router;
use http::header::CONTENT_LENGTH;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// What the hot endpoints need of the configuration, shared by every connection.
pub(crate) struct Hot {
    pub app: Arc<App>,
    pub fields: FieldHeaders,
    pub strict: bool,
    pub max_body: usize,
    pub timeout: Duration,
}

/// One connection's service: the hot endpoints, then the router.
#[derive(Clone)]
pub(crate) struct Front {
    router: Router,
    hot: Arc<Hot>,
    /// What the connection's verified client certificate says (mTLS), for every request.
    peer: Option<PeerCert>,
}

/// Where a request goes.
#[derive(Debug, PartialEq)]
enum Way {
    Decide,
    Authz,
    Router,
}

impl Front {
    pub(crate) fn new(router: Router, hot: Arc<Hot>, peer: Option<PeerCert>) -> Front {
        Front { router, hot, peer }
    }
}

fn way(req: &Request<Incoming>, max_body: usize) -> Way {
    way_of(
        req.method(),
        req.uri().path(),
        says_json(req.headers()),
        declared_length(req.headers()),
        max_body,
    )
}

/// The routing decision on what it reads of a request (a function of its own, for the tests).
fn way_of(method: &Method, path: &str, json: bool, length: Option<usize>, max_body: usize) -> Way {
    // The router's `/v1/authz` and `/v1/authz/{*rest}` (a wildcard of one character or more).
    let authz = path == "/v1/authz"
        || path
            .strip_prefix("/v1/authz/")
            .is_some_and(|r| !r.is_empty());
    if authz {
        return Way::Authz;
    }
    if path == "/v1/decide"
        && method == Method::POST
        && json
        && length.is_some_and(|n| n <= max_body)
    {
        return Way::Decide;
    }
    Way::Router
}

/// The body's declared length, when there is exactly one valid `content-length`.
fn declared_length(headers: &http::HeaderMap) -> Option<usize> {
    let mut values = headers.get_all(CONTENT_LENGTH).iter();
    let (Some(v), None) = (values.next(), values.next()) else {
        return None;
    };
    v.to_str().ok()?.parse().ok()
}

impl hyper::service::Service<Request<Incoming>> for Front {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        match way(&req, self.hot.max_body) {
            hot_way @ (Way::Decide | Way::Authz) => {
                let (hot, peer) = (self.hot.clone(), self.peer.clone());
                let limit = hot.timeout;
                // One expression: a future kept in a local and then awaited is stored twice.
                Box::pin(async move {
                    let answer = tokio::time::timeout(limit, answer(hot, peer, req, hot_way)).await;
                    Ok(answer.unwrap_or_else(|_| timed_out(limit)))
                })
            }
            Way::Router => {
                if let Some(p) = &self.peer {
                    req.extensions_mut().insert(p.clone());
                }
                Box::pin(self.router.clone().oneshot(req))
            }
        }
    }
}

/// The answer of a hot endpoint. Its future is what every hot request allocates and moves,
/// so what only some requests need (a trust broker, the shared store, an HTTP classifier, a
/// full decision log) waits in boxed futures of its own: the test below pins the size.
async fn answer(
    hot: Arc<Hot>,
    peer: Option<PeerCert>,
    req: Request<Incoming>,
    way: Way,
) -> Response {
    if way == Way::Decide {
        decide(&hot, peer.as_ref(), req).await
    } else {
        let h = req.headers();
        authz_headers(&hot.app, peer.as_ref(), h, hot.fields, hot.strict).await
    }
}

/// `POST /v1/decide`: the body read (its length is declared and within the limit), then the
/// router's handler.
async fn decide(hot: &Hot, peer: Option<&PeerCert>, req: Request<Incoming>) -> Response {
    let (parts, body) = req.into_parts();
    match body.collect().await {
        Ok(bytes) => {
            let bytes = bytes.to_bytes();
            decide_bytes(&hot.app, peer, &parts.headers, &bytes, hot.strict).await
        }
        Err(e) => {
            hot.app.metrics.bad_request("decide");
            error(
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {e}"),
                "send at most the configured number of bytes (intent serve --max-body)",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every hot request allocates its answer's future and moves it: it was 13.8 KB, most of
    /// it the futures of a trust broker's verification and of a full decision log, which most
    /// requests never poll. What only some requests need is boxed where it is awaited.
    #[test]
    fn the_hot_answers_futures_stay_small() {
        let plan = include_str!("../../tests/fixtures/trust_plan.json");
        let app = App::new(crate::Engine::from_json(plan).unwrap());
        let h = http::HeaderMap::new();
        let decide = decide_bytes(&app, None, &h, b"{}", false);
        let authz = authz_headers(&app, None, &h, FieldHeaders::Merge, false);
        for (what, size) in [
            ("decide", std::mem::size_of_val(&decide)),
            ("authz", std::mem::size_of_val(&authz)),
        ] {
            assert!(size <= 4096, "{what}'s future is {size} bytes");
        }
    }

    #[test]
    fn only_the_hot_endpoints_with_what_they_need_skip_the_router() {
        let post = Method::POST;
        assert_eq!(
            way_of(&post, "/v1/decide", true, Some(10), 100),
            Way::Decide
        );
        assert_eq!(
            way_of(&post, "/v1/decide", true, Some(100), 100),
            Way::Decide
        );
        // The router refuses these, with its own answer and metrics.
        assert_eq!(
            way_of(&post, "/v1/decide", true, Some(101), 100),
            Way::Router
        );
        assert_eq!(way_of(&post, "/v1/decide", true, None, 100), Way::Router);
        assert_eq!(
            way_of(&post, "/v1/decide", false, Some(10), 100),
            Way::Router
        );
        assert_eq!(
            way_of(&Method::GET, "/v1/decide", true, Some(10), 100),
            Way::Router
        );
        assert_eq!(
            way_of(&post, "/v1/decide/", true, Some(10), 100),
            Way::Router
        );
        assert_eq!(
            way_of(&post, "/v1/review", true, Some(10), 100),
            Way::Router
        );
        for m in [Method::GET, Method::POST, Method::HEAD] {
            assert_eq!(way_of(&m, "/v1/authz", false, None, 100), Way::Authz);
            assert_eq!(way_of(&m, "/v1/authz/x/y", false, None, 100), Way::Authz);
        }
        assert_eq!(
            way_of(&Method::GET, "/v1/authz/", false, None, 100),
            Way::Router
        );
        assert_eq!(
            way_of(&Method::GET, "/v1/authzx", false, None, 100),
            Way::Router
        );
    }

    #[test]
    fn a_length_is_read_only_when_it_is_one_number() {
        let with = |values: &[&str]| {
            let mut h = http::HeaderMap::new();
            for v in values {
                h.append(CONTENT_LENGTH, http::HeaderValue::from_str(v).unwrap());
            }
            declared_length(&h)
        };
        assert_eq!(with(&["12"]), Some(12));
        assert_eq!(with(&[]), None);
        assert_eq!(with(&["12", "12"]), None);
        assert_eq!(with(&["-1"]), None);
        assert_eq!(with(&["x"]), None);
    }
}
