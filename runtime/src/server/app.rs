//! What every request of the sidecar shares: the engine (behind an `ArcSwap`, so a reload
//! swaps it in one atomic store while requests that already hold the old one finish with it),
//! the state store every plan decides with (`store`), metrics, the decision log, the span
//! exporter (`--otlp`), and the draining flag.

use super::bundle::BundleStatus;
use super::classify::{External, ExternalConfig};
use super::decision_log::DecisionLog;
use super::metrics::Metrics;
use super::reload;
use super::store::Store;
use super::telemetry::Telemetry;
use super::LoadPlan;
use crate::decision::Decision;
use crate::engine::Engine;
use crate::request::Request;
use crate::state::State;
use crate::trust::Trust;
use crate::unknown::UnknownField;
use arc_swap::{ArcSwap, Guard};
use serde_json::{Map, Value as Json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct App {
    engine: ArcSwap<Engine>,
    /// The rate-limit and breaker store every engine decides with (keyed by name), and the
    /// same store as the engines hold it.
    pub(crate) store: Arc<Store>,
    pub(crate) state: Arc<dyn State>,
    pub(crate) metrics: Metrics,
    log: Option<DecisionLog>,
    draining: AtomicBool,
    /// Why the latest reload was refused, while the plan it tried to load is still there.
    refusal: Mutex<Option<String>>,
    /// The trust broker: verified callers and delegation tokens (docs/identity.md).
    pub(crate) trust: Option<Arc<Trust>>,
    /// The HTTP classifier for text requests, if the operator set one.
    pub(crate) external: Option<External>,
    /// Where the plan's bundle comes from and how fetching it goes (`--bundle-url` only).
    bundle: Mutex<Option<BundleStatus>>,
    /// One span per decision and review, exported over OTLP (`--otlp` only).
    pub(crate) telemetry: Option<Telemetry>,
}

impl App {
    /// Loads the plan `load` gives; an error if it cannot be loaded.
    pub(crate) fn load(
        load: &LoadPlan,
        store: Store,
        log: Option<DecisionLog>,
    ) -> Result<App, String> {
        let plan = load()?;
        let engine = reload::engine_for(plan, &store.for_engines()).map_err(|e| e.to_string())?;
        Ok(App::start(engine, store, log))
    }

    /// An app serving `engine` (built on `store`'s state).
    pub(crate) fn start(engine: Engine, store: Store, log: Option<DecisionLog>) -> App {
        let metrics = Metrics::new();
        metrics.set_plan(&engine);
        App::with_engine(engine, store, metrics, log)
    }

    fn with_engine(
        engine: Engine,
        store: Store,
        metrics: Metrics,
        log: Option<DecisionLog>,
    ) -> App {
        App {
            engine: ArcSwap::from_pointee(engine),
            state: store.for_engines(),
            store: Arc::new(store),
            metrics,
            log,
            draining: AtomicBool::new(false),
            refusal: Mutex::new(None),
            trust: None,
            external: None,
            bundle: Mutex::new(None),
            telemetry: None,
        }
    }

    /// An app serving `engine`, without a decision log (for embedding and tests).
    pub fn new(engine: Engine) -> App {
        let metrics = Metrics::new();
        metrics.set_plan(&engine);
        let store = Store::Local(engine.state().clone());
        App::with_engine(engine, store, metrics, None)
    }

    /// The app with a trust broker: every decision's caller comes from credentials.
    pub fn with_trust(mut self, trust: Arc<Trust>) -> App {
        self.trust = Some(trust);
        self
    }

    /// Sends text requests to an HTTP classifier (docs/classifier.md); an error for a bad URL.
    pub fn set_classifier(&mut self, c: &ExternalConfig) -> Result<(), String> {
        self.external = Some(External::new(c)?);
        Ok(())
    }

    /// Exports a span per decision and review to the OTLP/HTTP collector at `endpoint`
    /// (docs/serve.md, "OpenTelemetry"); an error for a bad endpoint. On the async runtime.
    pub fn set_otlp(&mut self, endpoint: &str) -> Result<(), String> {
        self.telemetry = Some(Telemetry::start(endpoint, &self.metrics)?);
        Ok(())
    }

    /// Decides a request on `engine`, taking what it uses from the store: through the HTTP
    /// classifier when one is set and the request is text, else with the engine's own.
    pub(crate) async fn decide(&self, engine: &Engine, req: &Request) -> Decision {
        match (&self.external, &req.intent, &req.text) {
            // Boxed: the HTTP call's future would make every request's future larger.
            (Some(x), None, Some(text)) => {
                Box::pin(super::classify::decide(x, &self.store, engine, req, text)).await
            }
            _ => self.store.decide(engine, req, None).await,
        }
    }

    /// The engine now serving; a request holds it for as long as it needs it.
    pub fn engine(&self) -> Guard<Arc<Engine>> {
        self.engine.load()
    }

    /// The engine now serving, held as long as needed (across an await on the store).
    pub(crate) fn engine_full(&self) -> Arc<Engine> {
        self.engine.load_full()
    }

    pub(crate) fn swap(&self, engine: Engine) {
        self.metrics.set_plan(&engine);
        self.engine.store(Arc::new(engine));
    }

    pub(crate) fn set_refusal(&self, why: Option<String>) {
        if let Ok(mut r) = self.refusal.lock() {
            *r = why;
        }
    }

    /// Why the latest reload was refused, if it was.
    pub(crate) fn refusal(&self) -> Option<String> {
        self.refusal.lock().ok().and_then(|r| r.clone())
    }

    /// The bundle's status now; `None` when the plan does not come from a bundle.
    pub(crate) fn bundle_status(&self) -> Option<BundleStatus> {
        self.bundle.lock().ok().and_then(|b| b.clone())
    }

    pub(crate) fn set_bundle_status(&self, status: BundleStatus) {
        if let Ok(mut b) = self.bundle.lock() {
            *b = Some(status);
        }
    }

    /// Changes the bundle's status, if there is one.
    pub(crate) fn update_bundle(&self, change: impl FnOnce(&mut BundleStatus)) {
        if let Ok(mut b) = self.bundle.lock() {
            if let Some(s) = b.as_mut() {
                change(s);
            }
        }
    }

    pub(crate) fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    pub(crate) fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    pub(crate) fn close_log(&self) {
        if let Some(log) = &self.log {
            log.close();
        }
    }

    /// Counts a decision and queues its log line (off the hot path: the writer task formats
    /// and writes it). Waits only when the log's queue is full.
    pub(crate) async fn record(&self, req: Request, d: Decision, took: Duration) {
        self.record_call(req, d, took, None).await;
    }

    /// `record`, for a decision made for an MCP call (`intent mcp`).
    pub(crate) async fn record_call(
        &self,
        req: Request,
        d: Decision,
        took: Duration,
        mcp: Option<crate::log::McpCall>,
    ) {
        self.metrics.decided(&d, took);
        if let Some(log) = &self.log {
            log.send(req, d, mcp).await;
        }
    }
}

/// The fields of a request that the plan's context schema does not declare (dotted paths for
/// nested ones): the engine ignores them, the sidecar says so, and refuses them under
/// `--strict`.
pub(crate) fn unknown_fields(engine: &Engine, context: &Map<String, Json>) -> Vec<UnknownField> {
    crate::unknown::unknown_fields(&engine.plan().context, context)
}
