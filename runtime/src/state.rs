//! Rate limits and circuit breakers live behind `State`, so a fleet can share them through a
//! real store later without changing the evaluator. `MemoryState` is the in-process default.
//! Time is always passed in (milliseconds), so tests are deterministic.

use std::collections::HashMap;
use std::sync::Mutex;

/// What a limit counts: an agent or a human, by plan index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    Agent(u32),
    Human(u32),
}

pub trait State: Send + Sync {
    /// How long until `subject` may be used again under `count` per `per_ms` (`None`: now).
    fn rate_wait(&self, subject: Subject, count: u64, per_ms: u64, now_ms: u64) -> Option<u64>;
    /// Counts one use of `subject`.
    fn rate_take(&self, subject: Subject, per_ms: u64, now_ms: u64);
    /// Whether the agent's breaker is open (too many recent failures, cooldown not over).
    fn breaker_open(&self, agent: u32, failures: u64, cooldown_ms: u64, now_ms: u64) -> bool;
    /// Records a failure of the agent.
    fn record_failure(&self, agent: u32, now_ms: u64);
}

#[derive(Default)]
pub struct MemoryState {
    /// Use times within the longest window asked about, per subject.
    uses: Mutex<HashMap<Subject, Vec<u64>>>,
    /// Failure times per agent.
    failures: Mutex<HashMap<u32, Vec<u64>>>,
}

impl State for MemoryState {
    fn rate_wait(&self, subject: Subject, count: u64, per_ms: u64, now_ms: u64) -> Option<u64> {
        // A poisoned lock fails closed: wait a second.
        let Ok(uses) = self.uses.lock() else {
            return Some(1_000);
        };
        let times = uses.get(&subject)?;
        let recent: Vec<u64> = times
            .iter()
            .copied()
            .filter(|t| t.saturating_add(per_ms) > now_ms)
            .collect();
        if (recent.len() as u64) < count {
            return None;
        }
        // The window frees up when the oldest counted use leaves it.
        let idx = recent.len() - count as usize;
        recent
            .get(idx)
            .map(|t| (t + per_ms).saturating_sub(now_ms).max(1))
    }

    fn rate_take(&self, subject: Subject, per_ms: u64, now_ms: u64) {
        if let Ok(mut uses) = self.uses.lock() {
            let times = uses.entry(subject).or_default();
            times.retain(|t| *t + per_ms.max(3_600_000) > now_ms);
            times.push(now_ms);
        }
    }

    fn breaker_open(&self, agent: u32, failures: u64, cooldown_ms: u64, now_ms: u64) -> bool {
        let Ok(map) = self.failures.lock() else {
            return true;
        };
        let Some(times) = map.get(&agent) else {
            return false;
        };
        let recent = times.iter().filter(|t| **t + cooldown_ms > now_ms).count() as u64;
        recent >= failures
    }

    fn record_failure(&self, agent: u32, now_ms: u64) {
        if let Ok(mut map) = self.failures.lock() {
            let times = map.entry(agent).or_default();
            times.retain(|t| *t + 86_400_000 > now_ms);
            times.push(now_ms);
        }
    }
}
