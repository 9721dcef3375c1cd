//! Hot reload. The plan's files are polled: the SHA-256 of each file's bytes (directories
//! walked for `.intent` files, as the loader does), so any change of content is seen, whatever
//! the file's size and modification time say (a symlink swapped to a file of the same size and
//! time included). On a change the source loads the plan again, off the async threads, and the
//! engine validates it and recomputes its `plan_hash` from its content. A plan that loads and
//! validates is swapped in atomically; one that does not (a stated hash that is not its
//! content's included) is refused, logged, counted and shown by `/readyz`, and the old plan
//! keeps serving. A valid plan with the `plan_hash` now serving is not swapped at all.
//!
//! Rate-limit and breaker state is indexed by agent and human number, so it carries over to
//! the new plan only when the new plan has the same agents and humans in the same order
//! (limits and breakers then apply their new settings to the recorded history); otherwise the
//! new plan starts with empty state.

use super::app::App;
use super::PlanSource;
use crate::engine::{Engine, PlanError};
use crate::plan::Plan;
use crate::state::{MemoryState, State, Subject};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The state store and the names it is indexed by.
#[derive(Default)]
pub(crate) struct Store {
    state: Arc<MemoryState>,
    agents: Vec<String>,
    humans: Vec<String>,
}

/// The engine for `plan`, sharing `store`'s state when the plan's agents and humans are the
/// ones the state was recorded for. `store` changes only when the plan is valid.
pub(crate) fn engine_for(plan: Plan, store: &mut Store) -> Result<Engine, PlanError> {
    let agents: Vec<String> = plan.agents.iter().map(|a| a.name.clone()).collect();
    let humans: Vec<String> = plan.humans.iter().map(|h| h.name.clone()).collect();
    let same = agents == store.agents && humans == store.humans;
    let state = if same {
        store.state.clone()
    } else {
        Arc::new(MemoryState::default())
    };
    let engine = Engine::with_state(plan, Box::new(SharedState(state.clone())))?;
    *store = Store {
        state,
        agents,
        humans,
    };
    Ok(engine)
}

/// A state store shared by the engines of successive plans.
struct SharedState(Arc<MemoryState>);

impl State for SharedState {
    fn rate_wait(&self, subject: Subject, count: u64, per_ms: u64, now_ms: u64) -> Option<u64> {
        self.0.rate_wait(subject, count, per_ms, now_ms)
    }
    fn rate_take(&self, subject: Subject, per_ms: u64, now_ms: u64) {
        self.0.rate_take(subject, per_ms, now_ms)
    }
    fn breaker_open(&self, agent: u32, failures: u64, cooldown_ms: u64, now_ms: u64) -> bool {
        self.0.breaker_open(agent, failures, cooldown_ms, now_ms)
    }
    fn record_failure(&self, agent: u32, now_ms: u64) {
        self.0.record_failure(agent, now_ms)
    }
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reloaded {
    Swapped { from: String, to: String },
    Unchanged,
    Refused(String),
}

/// Loads the plan again, validates it, and swaps it in if its hash (recomputed from its
/// content, never taken from the file) differs from the one serving.
pub(crate) fn reload(app: &App, source: &PlanSource) -> Reloaded {
    let result = match (source.load)() {
        Err(e) => Reloaded::Refused(e),
        Ok(plan) => {
            let from = app.engine().plan_hash().to_string();
            // The store is touched only when the plan is valid, and a valid plan with the
            // serving hash has the same agents and humans: the store stays as it is.
            let built = match app.store.lock() {
                Ok(mut store) => engine_for(plan, &mut store).map_err(|e| e.to_string()),
                Err(_) => Err("the state store is poisoned".to_string()),
            };
            match built {
                Ok(engine) if engine.plan_hash() == from => Reloaded::Unchanged,
                Ok(engine) => {
                    let to = engine.plan_hash().to_string();
                    app.swap(engine);
                    Reloaded::Swapped { from, to }
                }
                Err(e) => Reloaded::Refused(e),
            }
        }
    };
    app.metrics.reloaded(&result);
    app.set_refusal(match &result {
        Reloaded::Refused(e) => Some(e.clone()),
        Reloaded::Swapped { .. } | Reloaded::Unchanged => None,
    });
    match &result {
        Reloaded::Swapped { from, to } => {
            eprintln!("intent serve: reloaded the plan: {from} -> {to}")
        }
        Reloaded::Unchanged => {}
        Reloaded::Refused(e) => eprintln!(
            "intent serve: refused the changed plan, still serving {}: {e}",
            app.engine().plan_hash()
        ),
    }
    result
}

/// Polls the watched files every `every` and reloads on a change from `last` (the files as
/// they were before the serving plan was loaded, so a change made while it loaded is seen).
/// Runs until aborted.
pub(crate) async fn watch(
    app: Arc<App>,
    source: Arc<PlanSource>,
    every: Duration,
    mut last: Fingerprint,
) {
    let paths = source.watch.clone();
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = fingerprint_async(paths.clone()).await;
        if now == last {
            continue;
        }
        last = now;
        let (app, source) = (app.clone(), source.clone());
        // Loading may compile sources: keep it off the threads that answer requests.
        let _ = tokio::task::spawn_blocking(move || reload(&app, &source)).await;
    }
}

/// The SHA-256 of every watched file's bytes (`None`: missing or unreadable), directories
/// walked, sorted by path.
pub(crate) type Fingerprint = Vec<(PathBuf, Option<[u8; 32]>)>;

pub(crate) async fn fingerprint_async(paths: Vec<PathBuf>) -> Fingerprint {
    tokio::task::spawn_blocking(move || fingerprint(&paths))
        .await
        .unwrap_or_default()
}

fn fingerprint(paths: &[PathBuf]) -> Fingerprint {
    let mut out = Vec::new();
    for p in paths {
        add(p, &mut out, 0, true);
    }
    out.sort();
    out
}

/// Adds `path`: a file named on the command line (`named`) whatever its name; in directories,
/// the `.intent` files the loader reads (hidden directories, `target` and `node_modules`
/// skipped, 16 levels at most).
fn add(path: &Path, out: &mut Fingerprint, depth: usize, named: bool) {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            let skipped =
                |name: &str| name.starts_with('.') || name == "target" || name == "node_modules";
            let name = path.file_name().map(|n| n.to_string_lossy());
            if depth >= 16 || (!named && name.is_some_and(|n| skipped(&n))) {
                return;
            }
            if let Ok(entries) = std::fs::read_dir(path) {
                for e in entries.flatten() {
                    add(&e.path(), out, depth + 1, false);
                }
            }
        }
        Ok(_) if !named && path.extension().is_none_or(|x| x != "intent") => {}
        Ok(_) => out.push((path.to_path_buf(), content_hash(path))),
        Err(_) => out.push((path.to_path_buf(), None)),
    }
}

fn content_hash(path: &Path) -> Option<[u8; 32]> {
    let bytes = std::fs::read(path).ok()?;
    Some(Sha256::digest(&bytes).into())
}
