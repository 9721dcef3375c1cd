//! OpenTelemetry traces of the sidecar (`intent serve --otlp ENDPOINT`, docs/serve.md
//! "OpenTelemetry"): one span per decision of `/v1/decide` and `/v1/authz` and per review of
//! `/v1/review`, made with the official SDK and exported over OTLP/HTTP (protobuf) by the
//! official exporter. A W3C `traceparent` on the request is the span's parent; the answer carries
//! a `traceparent` naming the span, so a proxy can pass it on to the upstream.
//!
//! Nothing here may slow or fail a decision: the span is made after the decision, in a few
//! microseconds, and handed to the SDK's `BatchSpanProcessor`, which exports batches from a
//! thread of its own. Its queue is bounded; a span that finds it full is dropped and counted
//! (`intent_otlp_spans_total{result="dropped"}`). The SDK keeps its own drop count private, so
//! `Bounded` keeps the same bound in front of it and counts what it turns away: the SDK's queue,
//! as large, is then never full. The export goes through hyper-util's client (already built for
//! bundles and the classifier) behind opentelemetry-http's `HttpClient`; each request runs on the
//! sidecar's tokio runtime, because the batch thread has none, and ends after `EXPORT_TIMEOUT`.
//! Without `--otlp` none of this exists: no provider, no thread, no header read.

use super::metrics::Metrics;
use crate::decision::{Decision, Verdict, VerdictOutcome};
use axum::body::Bytes;
use axum::http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{
    Span as _, SpanKind, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Array, Context, KeyValue, StringValue, Value};
use opentelemetry_http::{HeaderExtractor, HeaderInjector, HttpClient, HttpError};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider, Span, SpanData,
    SpanExporter, SpanProcessor,
};
use opentelemetry_sdk::Resource;
use prometheus_client::metrics::counter::Counter;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The most spans waiting for export; more are dropped and counted (the SDK's default).
pub const QUEUE: usize = 2048;
/// The most spans in one export request (the SDK's default).
pub const BATCH: usize = 512;
/// How long a span waits, at most, for a batch to fill before it is exported.
pub const DELAY: Duration = Duration::from_secs(1);
/// The longest one export may take, retries included; its spans are lost after it.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);
/// On shutdown, how long the spans still queued may take to be exported.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(2);
/// The W3C header that carries vendors' trace state beside `traceparent`.
const TRACESTATE: &str = "tracestate";
/// The largest answer read from the collector (it is only checked for its status).
const MAX_ANSWER: usize = 64 * 1024;

/// What happened to the spans, counted for `/metrics`.
#[derive(Debug, Clone)]
pub(crate) struct SpanCounts {
    pub(crate) exported: Counter,
    pub(crate) failed: Counter,
    pub(crate) dropped: Counter,
}

/// The exporter of a sidecar run with `--otlp`.
pub(crate) struct Telemetry {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    propagator: TraceContextPropagator,
}

impl Telemetry {
    /// Starts exporting to the OTLP/HTTP collector at `endpoint` (its base URL: spans go to
    /// `ENDPOINT/v1/traces`); an error for an endpoint that is not `http://`. Must run on the
    /// sidecar's tokio runtime, which carries the export requests.
    pub(crate) fn start(endpoint: &str, metrics: &Metrics) -> Result<Telemetry, String> {
        let url = traces_url(endpoint)?;
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| format!("--otlp needs the async runtime: {e}"))?;
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(EXPORT_TIMEOUT));
        let client = Export {
            client: Client::builder(TokioExecutor::new()).build(connector),
            runtime,
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(url)
            .with_timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(|e| format!("--otlp {endpoint}: {e}"))?;
        let counts = metrics.otlp_spans();
        let queued = Arc::new(AtomicUsize::new(0));
        let batches = BatchSpanProcessor::builder(Counted {
            inner: exporter,
            queued: queued.clone(),
            counts: counts.clone(),
            failing: AtomicBool::new(false),
        })
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(QUEUE)
                .with_max_export_batch_size(BATCH)
                .with_scheduled_delay(DELAY)
                .build(),
        )
        .build();
        let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "intent".into());
        let provider = SdkTracerProvider::builder()
            .with_span_processor(Bounded {
                inner: batches,
                queued,
                dropped: counts.dropped,
            })
            .with_resource(
                Resource::builder()
                    .with_service_name(service)
                    .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
                    .build(),
            )
            .build();
        let tracer = provider.tracer("intent-serve");
        Ok(Telemetry {
            provider,
            tracer,
            propagator: TraceContextPropagator::new(),
        })
    }

    /// The span of decision `d`, made on `endpoint` (`decide` or `authz`) from `started`, child
    /// of the request's `traceparent` if it has a valid one; the headers naming it, for the
    /// answer.
    pub(crate) fn decided(
        &self,
        request: &HeaderMap,
        endpoint: &'static str,
        started: SystemTime,
        d: &Decision,
    ) -> HeaderMap {
        let mut agents: Vec<StringValue> = Vec::with_capacity(d.steps.len());
        for s in &d.steps {
            let a = StringValue::from(s.agent.clone());
            if !agents.contains(&a) {
                agents.push(a);
            }
        }
        let mut attributes = vec![
            KeyValue::new("gen_ai.operation.name", "decide"),
            KeyValue::new("intent.endpoint", endpoint),
            KeyValue::new("intent.outcome", d.outcome.as_str()),
            KeyValue::new("intent.plan_hash", d.plan_hash.clone()),
            KeyValue::new("intent.decision_id", d.decision_id.to_string()),
        ];
        if let [one] = &agents[..] {
            attributes.push(KeyValue::new("gen_ai.agent.name", one.clone()));
        }
        attributes.push(KeyValue::new(
            "intent.agents",
            Value::Array(Array::String(agents)),
        ));
        if let Some(i) = &d.intent {
            attributes.push(KeyValue::new("intent.intent", i.clone()));
        }
        if let Some(h) = &d.human {
            attributes.push(KeyValue::new("intent.human", h.clone()));
        }
        let name = match &d.intent {
            Some(i) => format!("decide {i}"),
            None => "decide".into(),
        };
        self.span(request, name, started, attributes)
    }

    /// The span of the review of a response of `agent` (`None` when the plan declares no such
    /// agent: a name a client made up never reaches a span or its name); the headers naming it,
    /// for the answer.
    pub(crate) fn reviewed(
        &self,
        request: &HeaderMap,
        agent: Option<&str>,
        started: SystemTime,
        v: &Verdict,
    ) -> HeaderMap {
        let outcome = match v.outcome {
            VerdictOutcome::Pass => "pass",
            VerdictOutcome::Redact => "redact",
            VerdictOutcome::Escalate => "escalate",
            VerdictOutcome::Deny => "deny",
        };
        let mut attributes = vec![
            KeyValue::new("gen_ai.operation.name", "review"),
            KeyValue::new("intent.endpoint", "review"),
            KeyValue::new("intent.outcome", outcome),
            KeyValue::new("intent.plan_hash", v.plan_hash.clone()),
        ];
        if let Some(a) = agent {
            attributes.push(KeyValue::new("gen_ai.agent.name", a.to_string()));
        }
        if let Some(h) = &v.human {
            attributes.push(KeyValue::new("intent.human", h.clone()));
        }
        if !v.redact.is_empty() {
            let redact = v.redact.iter().cloned().map(StringValue::from).collect();
            attributes.push(KeyValue::new(
                "intent.redact",
                Value::Array(Array::String(redact)),
            ));
        }
        let name = match agent {
            Some(a) => format!("review {a}"),
            None => "review".into(),
        };
        self.span(request, name, started, attributes)
    }

    /// Makes and ends one server span, child of the request's trace context.
    fn span(
        &self,
        request: &HeaderMap,
        name: String,
        started: SystemTime,
        attributes: Vec<KeyValue>,
    ) -> HeaderMap {
        let parent = self.propagator.extract(&HeaderExtractor(request));
        let mut span = self
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Server)
            .with_start_time(started)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, &parent);
        let named = Context::new().with_remote_span_context(span.span_context().clone());
        span.end();
        let mut answer = HeaderMap::new();
        self.propagator
            .inject_context(&named, &mut HeaderInjector(&mut answer));
        // The propagator writes `tracestate` even when it is empty; W3C trace context asks for
        // no header then.
        if answer.get(TRACESTATE).is_some_and(|v| v.is_empty()) {
            answer.remove(TRACESTATE);
        }
        answer
    }

    /// Exports what is queued (for at most `SHUTDOWN_WAIT`) and stops the export thread.
    pub(crate) async fn shutdown(&self) {
        let provider = self.provider.clone();
        let _ = tokio::task::spawn_blocking(move || provider.shutdown_with_timeout(SHUTDOWN_WAIT))
            .await;
    }
}

/// `ENDPOINT/v1/traces`, as `OTEL_EXPORTER_OTLP_ENDPOINT` is read; only `http://`.
fn traces_url(endpoint: &str) -> Result<String, String> {
    let uri: axum::http::Uri = endpoint
        .parse()
        .map_err(|e| format!("--otlp {endpoint}: not a URL: {e}"))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(format!(
            "--otlp {endpoint}: give the collector's http:// base URL, like http://127.0.0.1:4318"
        ));
    }
    if uri.query().is_some() {
        return Err(format!("--otlp {endpoint}: a base URL has no query"));
    }
    Ok(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
}

/// The SDK's batch processor behind the same bound, counting the spans it turns away.
#[derive(Debug)]
struct Bounded {
    inner: BatchSpanProcessor,
    /// Spans handed to `inner` and not yet handed to the exporter.
    queued: Arc<AtomicUsize>,
    dropped: Counter,
}

impl SpanProcessor for Bounded {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        if self.queued.fetch_add(1, Ordering::AcqRel) >= QUEUE {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            self.dropped.inc();
            return;
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// The OTLP exporter, counting what it exports and what it fails to, and saying on stderr when
/// exports start failing and when they work again (once each time, not per export).
#[derive(Debug)]
struct Counted {
    inner: opentelemetry_otlp::SpanExporter,
    queued: Arc<AtomicUsize>,
    counts: SpanCounts,
    failing: AtomicBool,
}

impl SpanExporter for Counted {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        let n = batch.len();
        self.queued.fetch_sub(n, Ordering::AcqRel);
        let done = self.inner.export(batch);
        async move {
            let result = done.await;
            match &result {
                Ok(()) => {
                    self.counts.exported.inc_by(n as u64);
                    if self.failing.swap(false, Ordering::Relaxed) {
                        eprintln!("intent serve: exporting spans again");
                    }
                }
                Err(e) => {
                    self.counts.failed.inc_by(n as u64);
                    if !self.failing.swap(true, Ordering::Relaxed) {
                        eprintln!(
                            "intent serve: cannot export spans ({e}); decisions go on, the lost spans are counted in intent_otlp_spans_total"
                        );
                    }
                }
            }
            result
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// hyper-util's pooled client as opentelemetry-http's `HttpClient`. Each request runs as a task
/// of the sidecar's runtime (the SDK's batch thread has none and waits on the task's handle) and
/// ends after `EXPORT_TIMEOUT`, answer included.
#[derive(Debug, Clone)]
struct Export {
    client: Client<HttpConnector, Full<Bytes>>,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for Export {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let work = async move {
            let (parts, body) = request.into_parts();
            let answer = client
                .request(Request::from_parts(parts, Full::new(body)))
                .await?;
            let (parts, body) = answer.into_parts();
            let body = Limited::new(body, MAX_ANSWER).collect().await?.to_bytes();
            Ok::<_, HttpError>(Response::from_parts(parts, body))
        };
        let task = self.runtime.spawn(async move {
            match tokio::time::timeout(EXPORT_TIMEOUT, work).await {
                Ok(r) => r,
                Err(_) => Err(format!(
                    "the collector did not answer within {} ms",
                    EXPORT_TIMEOUT.as_millis()
                )
                .into()),
            }
        });
        task.await?
    }
}

#[cfg(test)]
mod tests {
    use super::traces_url;

    #[test]
    fn the_endpoint_is_a_base_url_like_the_standard_variable() {
        assert_eq!(
            traces_url("http://127.0.0.1:4318").as_deref(),
            Ok("http://127.0.0.1:4318/v1/traces")
        );
        assert_eq!(
            traces_url("http://collector:4318/otlp/").as_deref(),
            Ok("http://collector:4318/otlp/v1/traces")
        );
        for bad in [
            "https://x:4318",
            "127.0.0.1:4318",
            "http://x:4318/?a=b",
            "not a url",
        ] {
            assert!(traces_url(bad).is_err(), "{bad}");
        }
    }
}
