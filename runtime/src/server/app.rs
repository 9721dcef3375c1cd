//! What every request of the sidecar shares: the engine (behind an `ArcSwap`, so a reload
//! swaps it in one atomic store while requests that already hold the old one finish with it),
//! the state store carried across reloads, metrics, the decision log, and the draining flag.

use super::classify::{External, ExternalConfig};
use super::decision_log::DecisionLog;
use super::metrics::Metrics;
use super::reload::{self, Store};
use super::PlanSource;
use crate::decision::Decision;
use crate::engine::Engine;
use crate::plan::Type;
use crate::request::Request;
use arc_swap::{ArcSwap, Guard};
use serde_json::{Map, Value as Json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct App {
    engine: ArcSwap<Engine>,
    /// The rate-limit and breaker state, and the agent and human names it is indexed by.
    pub(crate) store: Mutex<Store>,
    pub(crate) metrics: Metrics,
    log: Option<DecisionLog>,
    draining: AtomicBool,
    /// The HTTP classifier for text requests, if the operator set one.
    pub(crate) external: Option<External>,
}

impl App {
    /// Loads the plan the source names; an error if it cannot be loaded.
    pub(crate) fn load(source: &PlanSource, log: Option<DecisionLog>) -> Result<App, String> {
        let mut store = Store::default();
        let plan = (source.load)()?;
        let engine = reload::engine_for(plan, &mut store).map_err(|e| e.to_string())?;
        let metrics = Metrics::new();
        metrics.set_plan(&engine);
        Ok(App::with_engine(engine, store, metrics, log))
    }

    fn with_engine(
        engine: Engine,
        store: Store,
        metrics: Metrics,
        log: Option<DecisionLog>,
    ) -> App {
        App {
            engine: ArcSwap::from_pointee(engine),
            store: Mutex::new(store),
            metrics,
            log,
            draining: AtomicBool::new(false),
            external: None,
        }
    }

    /// An app serving `engine`, without a decision log (for embedding and tests).
    pub fn new(engine: Engine) -> App {
        let metrics = Metrics::new();
        metrics.set_plan(&engine);
        App::with_engine(engine, Store::default(), metrics, None)
    }

    /// Sends text requests to an HTTP classifier (docs/classifier.md); an error for a bad URL.
    pub fn set_classifier(&mut self, c: &ExternalConfig) -> Result<(), String> {
        self.external = Some(External::new(c)?);
        Ok(())
    }

    /// Decides a request: through the HTTP classifier when one is set and the request is
    /// text, else with the engine alone.
    pub(crate) async fn decide(&self, req: &Request) -> Decision {
        match (&self.external, &req.intent, &req.text) {
            (Some(x), None, Some(text)) => {
                let engine = self.engine.load_full();
                super::classify::decide(x, &engine, req, text).await
            }
            _ => self.engine().decide(req),
        }
    }

    /// The engine now serving; a request holds it for as long as it needs it.
    pub fn engine(&self) -> Guard<Arc<Engine>> {
        self.engine.load()
    }

    pub(crate) fn swap(&self, engine: Engine) {
        self.metrics.set_plan(&engine);
        self.engine.store(Arc::new(engine));
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
        self.metrics.decided(&d, took);
        if let Some(log) = &self.log {
            log.send(req, d).await;
        }
    }
}

/// The top-level fields of a request that the plan's context schema does not declare: the
/// engine ignores them, the sidecar says so.
pub(crate) fn unknown_fields<'r>(engine: &Engine, context: &'r Map<String, Json>) -> Vec<&'r str> {
    let Type::Record { fields } = &engine.plan().context else {
        return Vec::new();
    };
    context
        .keys()
        .filter(|k| !fields.iter().any(|f| &f.name == *k))
        .map(String::as_str)
        .collect()
}
