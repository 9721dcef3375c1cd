//! A tower `Layer` that decides each HTTP request in process, for a Rust gateway (axum, hyper)
//! that embeds the runtime instead of calling the sidecar. The request to decide is read from
//! the `x-intent-*` headers (`headers`, docs/serve.md). A request the decision lets through
//! (`dispatch`, `plan`) reaches the inner service with the decision's `x-intent-*` headers and
//! the `Decision` itself in its extensions; any other answer is written by the layer, with the
//! status the sidecar's authorization endpoint would give; a request past a bound of
//! `crate::limits` gets 431 or 400 with the reason, like a header that cannot be read; with
//! `IntentLayer::strict`, so does a request with context fields the plan does not declare. The
//! engine sits behind an `ArcSwap`, so a gateway can swap in a new plan while requests run.
//! With a trust broker (`IntentLayer::trust`, feature `trust`), the caller comes from the
//! request's credentials (docs/identity.md): a refusal is answered with its 400/401/403, and a
//! request let through reaches the inner service with the step's delegation token in
//! `x-intent-token` (the client's own token never travels on).

pub(crate) mod body;
pub mod headers;
#[cfg(feature = "trust")]
mod trusted;

use crate::decision::Decision;
use crate::engine::Engine;
use arc_swap::ArcSwap;
use headers::{FieldHeaders, StatusSet};
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Request, Response, StatusCode};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Decides every request with an engine before the inner service sees it.
#[derive(Clone)]
pub struct IntentLayer {
    engine: Arc<ArcSwap<Engine>>,
    fields: FieldHeaders,
    strict: bool,
    #[cfg(feature = "trust")]
    trust: Option<Arc<crate::trust::Trust>>,
}

impl IntentLayer {
    /// A layer deciding with `engine`.
    pub fn new(engine: Engine) -> IntentLayer {
        IntentLayer::shared(Arc::new(ArcSwap::from_pointee(engine)))
    }

    /// A layer deciding with whatever engine `engine` holds at each request: store a new one
    /// in it to reload the plan.
    pub fn shared(engine: Arc<ArcSwap<Engine>>) -> IntentLayer {
        IntentLayer {
            engine,
            fields: FieldHeaders::Merge,
            strict: false,
            #[cfg(feature = "trust")]
            trust: None,
        }
    }

    /// With `true`, a request with context fields the plan does not declare is answered 400,
    /// naming each field (and the field meant, when one is close), as `intent serve --strict`
    /// does; by default it is decided, the fields ignored.
    pub fn strict(mut self, strict: bool) -> IntentLayer {
        self.strict = strict;
        self
    }

    /// Establish every request's caller with `trust` (bearer JWT, delegation token) instead of
    /// reading it from `x-intent-caller` and `x-intent-lineage`, and hand the inner service
    /// the delegation token of the step it serves.
    #[cfg(feature = "trust")]
    pub fn trust(mut self, trust: Arc<crate::trust::Trust>) -> IntentLayer {
        self.trust = Some(trust);
        self
    }

    /// What to do with `x-intent-context-<field>` headers (default: merge them with
    /// `x-intent-context`, refusing a field given twice). A gateway that sets
    /// `x-intent-context` itself makes it authoritative with `FieldHeaders::Ignore`, or
    /// refuses per-field headers with `FieldHeaders::Refuse`.
    pub fn field_headers(mut self, fields: FieldHeaders) -> IntentLayer {
        self.fields = fields;
        self
    }
}

impl<S> tower::Layer<S> for IntentLayer {
    type Service = IntentService<S>;

    fn layer(&self, inner: S) -> IntentService<S> {
        IntentService {
            inner,
            engine: self.engine.clone(),
            fields: self.fields,
            strict: self.strict,
            #[cfg(feature = "trust")]
            trust: self.trust.clone(),
        }
    }
}

/// The service `IntentLayer` wraps around an inner service.
#[derive(Clone)]
pub struct IntentService<S> {
    inner: S,
    engine: Arc<ArcSwap<Engine>>,
    fields: FieldHeaders,
    strict: bool,
    #[cfg(feature = "trust")]
    trust: Option<Arc<crate::trust::Trust>>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, ReqBody, ResBody> tower::Service<Request<ReqBody>> for IntentService<S>
where
    S: tower::Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<ResBody>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        #[cfg(feature = "trust")]
        if let Some(trust) = self.trust.clone() {
            let engine = self.engine.load_full();
            let fields = self.fields;
            let clone = self.inner.clone();
            let inner = std::mem::replace(&mut self.inner, clone);
            let strict = self.strict;
            return Box::pin(trusted::call(trust, engine, fields, strict, inner, req));
        }
        let decided = match headers::read_request(req.headers(), self.fields) {
            Ok(intent_req) => {
                let engine = self.engine.load();
                if let Some(answer) = strict_refusal(self.strict, &engine, &intent_req) {
                    return Box::pin(async move { Ok(answer) });
                }
                Ok(engine.decide(&intent_req))
            }
            Err(e) => Err(e),
        };
        let decision = match decided {
            Ok(d) if headers::allows(d.outcome) => d,
            Ok(d) => {
                let answer = answer(&d, StatusSet::of(req.headers()));
                return Box::pin(async move { Ok(answer) });
            }
            Err(e) => {
                let body = serde_json::json!({ "error": e.to_string() }).to_string();
                let answer = json_response(e.status, body);
                return Box::pin(async move { Ok(answer) });
            }
        };
        let h = req.headers_mut();
        headers::strip_answer_headers(h);
        headers::answer_headers(&decision, StatusSet::Full, h);
        req.extensions_mut().insert(decision);
        // The service that was polled ready is the one called; a fresh clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(inner.call(req))
    }
}

/// With `strict`, the 400 answer naming the context fields of `req` the plan does not declare;
/// `None` when there are none or the layer is not strict.
fn strict_refusal<B: From<String>>(
    strict: bool,
    engine: &Engine,
    req: &crate::request::Request,
) -> Option<Response<B>> {
    if !strict {
        return None;
    }
    let unknown = crate::unknown::unknown_fields(&engine.plan().context, &req.context);
    if unknown.is_empty() {
        return None;
    }
    let body = serde_json::json!({
        "error": crate::unknown::describe(&unknown).replace('\n', "; "),
        "unknown_fields": unknown,
    })
    .to_string();
    Some(json_response(StatusCode::BAD_REQUEST, body))
}

pub(crate) fn json_response<B: From<String>>(status: StatusCode, body: String) -> Response<B> {
    let mut r = Response::new(B::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// The answer to a request a decision does not let through.
pub(crate) fn answer<B: From<String>>(d: &Decision, set: StatusSet) -> Response<B> {
    let mut r = json_response(headers::status_of(d.outcome, set), headers::answer_body(d));
    headers::answer_headers(d, set, r.headers_mut());
    r
}
