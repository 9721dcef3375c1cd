//! Hot reload. The plan's files are polled (size and modification time, directories walked);
//! on a change the source loads the plan again, off the async threads. A plan that loads and
//! validates is swapped in atomically; one that does not is refused, logged and counted, and
//! the old plan keeps serving. A plan with the same `plan_hash` is not swapped at all.
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
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The state store and the names it is indexed by.
#[derive(Default)]
pub(crate) struct Store {
    state: Arc<MemoryState>,
    agents: Vec<String>,
    humans: Vec<String>,
}

/// The engine for `plan`, sharing `store`'s state when the plan's agents and humans are the
/// ones the state was recorded for. `store` changes only when the plan is valid.
pub(crate) fn engine_for(mut plan: Plan, store: &mut Store) -> Result<Engine, PlanError> {
    // Traces in answers name files relative to the mesh, not where it lives on this machine.
    plan.relative_sources();
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

/// Loads the plan again and swaps it in if it is valid and different.
pub(crate) fn reload(app: &App, source: &PlanSource) -> Reloaded {
    let result = match (source.load)() {
        Err(e) => Reloaded::Refused(e),
        Ok(plan) if plan.plan_hash == app.engine().plan_hash() => Reloaded::Unchanged,
        Ok(plan) => {
            let from = app.engine().plan_hash().to_string();
            let built = match app.store.lock() {
                Ok(mut store) => engine_for(plan, &mut store).map_err(|e| e.to_string()),
                Err(_) => Err("the state store is poisoned".to_string()),
            };
            match built {
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

/// Polls the watched files every `every` and reloads on a change. Runs until aborted.
pub(crate) async fn watch(app: Arc<App>, source: Arc<PlanSource>, every: Duration) {
    let paths = source.watch.clone();
    let mut last = fingerprint_async(paths.clone()).await;
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

/// Size and modification time of every watched file (directories walked, sorted).
type Fingerprint = Vec<(PathBuf, Option<(u64, SystemTime)>)>;

async fn fingerprint_async(paths: Vec<PathBuf>) -> Fingerprint {
    tokio::task::spawn_blocking(move || fingerprint(&paths))
        .await
        .unwrap_or_default()
}

fn fingerprint(paths: &[PathBuf]) -> Fingerprint {
    let mut out = Vec::new();
    let mut walked = HashSet::new();
    for p in paths {
        add(p, &mut out, 0, &mut walked);
    }
    out.sort();
    out
}

/// Walks each real directory once (`walked`, by canonical path): two links back to an
/// ancestor would otherwise double the walk at every level.
fn add(path: &Path, out: &mut Fingerprint, depth: usize, walked: &mut HashSet<PathBuf>) {
    let meta = std::fs::metadata(path).ok();
    match meta {
        Some(m) if m.is_dir() && depth < 16 => {
            let first = path.canonicalize().map_or(true, |real| walked.insert(real));
            if let (true, Ok(entries)) = (first, std::fs::read_dir(path)) {
                for e in entries.flatten() {
                    add(&e.path(), out, depth + 1, walked);
                }
            }
        }
        Some(m) => out.push((
            path.to_path_buf(),
            Some((m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH))),
        )),
        None => out.push((path.to_path_buf(), None)),
    }
}
