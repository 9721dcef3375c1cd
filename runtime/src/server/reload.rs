//! Hot reload. The plan's files are polled: the SHA-256 of each file's bytes (directories
//! walked for `.intent` files, as the loader does), so any change of content is seen, whatever
//! the file's size and modification time say (a symlink swapped to a file of the same size and
//! time included). On a change the source loads the plan again, off the async threads, and the
//! engine validates it and recomputes its `plan_hash` from its content. A plan that loads and
//! validates is swapped in atomically; one that does not (a stated hash that is not its
//! content's included) is refused, logged, counted and shown by `/readyz`, and the old plan
//! keeps serving. A valid plan with the `plan_hash` now serving is not swapped at all.
//!
//! Rate-limit and breaker state is keyed by agent and human name, so every plan the sidecar
//! serves shares one store: a reload that reorders, adds or removes declarations keeps the
//! history of every name the new plan still declares (limits and breakers apply their new
//! settings to it).

use super::app::App;
use super::LoadPlan;
use crate::engine::{Engine, PlanError};
use crate::plan::Plan;
use crate::state::State;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The engine for `plan`, deciding with the sidecar's one state store.
pub(crate) fn engine_for(mut plan: Plan, state: &Arc<dyn State>) -> Result<Engine, PlanError> {
    // Traces in answers name files relative to the mesh, not where it lives on this machine.
    plan.relative_sources();
    Engine::with_state(plan, state.clone())
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
pub(crate) fn reload(app: &App, load: &LoadPlan) -> Reloaded {
    let built = load().and_then(|plan| engine_for(plan, &app.state).map_err(|e| e.to_string()));
    match built {
        Ok(engine) => offer(app, engine),
        Err(e) => settle(app, Reloaded::Refused(e)),
    }
}

/// Swaps in `engine` (a validated plan) unless it has the `plan_hash` now serving.
pub(crate) fn offer(app: &App, engine: Engine) -> Reloaded {
    let from = app.engine().plan_hash().to_string();
    let result = if engine.plan_hash() == from {
        Reloaded::Unchanged
    } else {
        let to = engine.plan_hash().to_string();
        app.swap(engine);
        Reloaded::Swapped { from, to }
    };
    settle(app, result)
}

/// Counts and reports what a reload did.
fn settle(app: &App, result: Reloaded) -> Reloaded {
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
    load: Arc<LoadPlan>,
    paths: Vec<PathBuf>,
    every: Duration,
    mut last: Fingerprint,
) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = fingerprint_async(paths.clone()).await;
        if now == last {
            continue;
        }
        last = now;
        let (app, load) = (app.clone(), load.clone());
        // Loading may compile sources: keep it off the threads that answer requests.
        let _ = tokio::task::spawn_blocking(move || reload(&app, &*load)).await;
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
    let mut walked = HashSet::new();
    for p in paths {
        add(p, &mut out, 0, true, &mut walked);
    }
    out.sort();
    out
}

/// Adds `path`: a file named on the command line (`named`) whatever its name; in directories,
/// the `.intent` files the loader reads (hidden directories, `target` and `node_modules`
/// skipped, 16 levels at most). Each real directory is walked once (`walked`, by canonical
/// path): two links back to an ancestor would otherwise double the walk at every level.
fn add(
    path: &Path,
    out: &mut Fingerprint,
    depth: usize,
    named: bool,
    walked: &mut HashSet<PathBuf>,
) {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            let skipped =
                |name: &str| name.starts_with('.') || name == "target" || name == "node_modules";
            let name = path.file_name().map(|n| n.to_string_lossy());
            if depth >= 16 || (!named && name.is_some_and(|n| skipped(&n))) {
                return;
            }
            let first = path.canonicalize().map_or(true, |real| walked.insert(real));
            if let (true, Ok(entries)) = (first, std::fs::read_dir(path)) {
                for e in entries.flatten() {
                    add(&e.path(), out, depth + 1, false, walked);
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
