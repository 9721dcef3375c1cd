//! The sidecar's state store (`intent serve --state`): in memory (the default), or Redis shared
//! by a fleet. Decisions go through `Store::decide`: the engine works a decision out, the store
//! takes what it claims in one step, and on a refusal the engine works it out again knowing
//! what was refused (`Engine::attempt`, at most `MAX_ATTEMPTS` times). With Redis the take is
//! one awaited script call, so no request thread blocks; when Redis is unreachable the decision
//! is a throttle naming the cause (never a 5xx), or comes from the local fallback.

use crate::decision::Decision;
use crate::engine::{unavailable, Engine, Preclassified, MAX_ATTEMPTS};
use crate::request::Request;
use crate::state::redis::{Health, RedisConfig, RedisState};
use crate::state::{MemoryState, Refused, State};
use serde_json::{json, Value as Json};
use std::sync::Arc;
use std::time::Duration;

/// Which state store the sidecar uses.
#[derive(Debug, Clone, Default)]
pub enum StateConfig {
    /// Limits and breakers counted by this process alone.
    #[default]
    Memory,
    /// Shared through Redis by every replica that names the same server and prefix.
    Redis(RedisConfig),
}

pub(crate) enum Store {
    /// A store that answers at once (in memory).
    Local(Arc<dyn State>),
    Redis(Arc<RedisState>),
}

/// How often a Redis store is pinged, which is how it is found back after an outage.
pub(crate) const PING_EVERY: Duration = Duration::from_millis(500);

impl Store {
    /// The store `config` names; Redis connects lazily (the sidecar starts while it is down).
    pub(crate) fn open(config: &StateConfig) -> Result<Store, String> {
        match config {
            StateConfig::Memory => Ok(Store::Local(Arc::new(MemoryState::default()))),
            StateConfig::Redis(r) => Ok(Store::Redis(Arc::new(RedisState::new(r)?))),
        }
    }

    /// The store the engines hold (their synchronous reads; see `RedisState`'s `State`).
    pub(crate) fn for_engines(&self) -> Arc<dyn State> {
        match self {
            Store::Local(s) => s.clone(),
            Store::Redis(r) => r.clone(),
        }
    }

    /// Decides `req` now on `engine`, taking what the decision uses from the store.
    /// `pre`: the text already classified by the HTTP classifier (`Engine::decide_with`).
    pub(crate) async fn decide(
        &self,
        engine: &Engine,
        req: &Request,
        pre: Preclassified<'_>,
    ) -> Decision {
        let now = crate::engine::now_ms();
        let redis = match self {
            Store::Local(s) => return engine.decide_with(req, now, &**s, pre),
            Store::Redis(r) => r,
        };
        let id = engine.decision_id(now);
        let mut learned = Vec::new();
        for _ in 0..MAX_ATTEMPTS {
            let a = engine.attempt(req, now, id, &**redis, &learned, pre.clone());
            if a.claim.is_empty() {
                return a.decision;
            }
            // Boxed: the shared store's future would make every request's future larger.
            match Box::pin(redis.take(&a.claim, now)).await {
                Ok(()) => return a.decision,
                Err(Refused::Blocked(blocks)) => learned.extend(blocks),
                Err(Refused::Unavailable(why)) => return unavailable(a.decision, &why),
            }
        }
        engine.contended(id, &learned)
    }

    /// Records a failure of the named agent (at `at_ms`, default now). `Ok(false)`: the plan
    /// has no such agent; `Err`: the store could not record it.
    pub(crate) async fn report_failure(
        &self,
        engine: &Engine,
        agent: &str,
        at_ms: Option<u64>,
    ) -> Result<bool, String> {
        let now = crate::engine::now_ms();
        let Some(take) = engine.agent_limits(agent) else {
            return Ok(false);
        };
        match self {
            Store::Local(s) => s.record_failure(&take.subject, take.breaker, at_ms.unwrap_or(now)),
            Store::Redis(r) => {
                r.record_failure(&take.subject, take.breaker, at_ms, now)
                    .await?
            }
        }
        Ok(true)
    }

    /// Each agent with a breaker, by name, and whether its breaker is open now; `None` when
    /// the store cannot be asked.
    pub(crate) async fn breakers(&self, engine: &Engine) -> Option<Vec<(String, bool)>> {
        let now = crate::engine::now_ms();
        match self {
            Store::Local(s) => Some(
                engine
                    .all_agent_limits()
                    .iter()
                    .filter_map(|t| {
                        let b = t.breaker?;
                        Some((
                            t.subject.name().to_string(),
                            s.breaker_open(&t.subject, b, now),
                        ))
                    })
                    .collect(),
            ),
            Store::Redis(r) => r
                .breakers_open(engine.all_agent_limits())
                .await
                .ok()
                .map(|v| {
                    v.into_iter()
                        .map(|(s, open)| (s.name().to_string(), open))
                        .collect()
                }),
        }
    }

    /// `memory` or `redis`.
    pub(crate) fn backend(&self) -> &'static str {
        match self {
            Store::Local(_) => "memory",
            Store::Redis(_) => "redis",
        }
    }

    /// The Redis store's health; `None` for a local store (always up).
    pub(crate) fn health(&self) -> Option<Health> {
        match self {
            Store::Local(_) => None,
            Store::Redis(r) => Some(r.health()),
        }
    }

    /// The store's part of `/readyz`.
    pub(crate) fn status(&self) -> Json {
        match self.health() {
            None => json!({ "backend": self.backend(), "up": true }),
            Some(h) => json!({
                "backend": self.backend(),
                "up": h.up,
                "errors": h.errors,
                "last_error": h.last_error,
                "when_down": if self.has_fallback() { "local share of each limit" } else { "fail closed (throttle)" },
            }),
        }
    }

    fn has_fallback(&self) -> bool {
        matches!(self, Store::Redis(r) if r.has_fallback())
    }

    /// Pings Redis every `PING_EVERY` until aborted (nothing to do for a local store).
    pub(crate) async fn watch(self: Arc<Self>) {
        let Store::Redis(r) = &*self else {
            return;
        };
        let mut ticker = tokio::time::interval(PING_EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut was_up = None;
        loop {
            ticker.tick().await;
            let up = r.ping().await.is_ok();
            if was_up != Some(up) {
                match up {
                    true => eprintln!("intent serve: the Redis state store is up"),
                    false => eprintln!(
                        "intent serve: the Redis state store is down: {}",
                        r.health().last_error.unwrap_or_default()
                    ),
                }
                was_up = Some(up);
            }
        }
    }
}
