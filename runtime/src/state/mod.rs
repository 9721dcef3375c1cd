//! Rate limits and circuit breakers live behind `State`, so a fleet can share them through a
//! store (`redis`, feature `redis`) without changing the evaluator. `MemoryState` is the
//! in-process default. Time is always passed in (milliseconds), so tests are deterministic.
//!
//! The meaning, in one place:
//! - A rate limit is "at most `count` uses in any window of `per_ms`". A subject (an agent or a
//!   human, by name) keeps a log of its recent uses, at most as long as its largest count and
//!   no older than its longest window; a new use is allowed when the `count`-th most recent
//!   use has left the window. That is exact, and costs the same however long the store runs.
//! - A breaker is open while `failures` failures of the agent fall within `cooldown_ms`.
//! - A decision is checked and taken in one operation: `State::take` gets every subject the
//!   decision uses (the agents filling its steps, or the human it escalates to), checks all
//!   their limits and breakers, and records one use of each only if all of them hold. Nothing
//!   is taken by a decision that is refused, so one limit never consumes while another throttles.
//!   `State::check` is a read the engine uses to choose candidates; it may be stale, and the
//!   engine decides again knowing what `take` refused (see `Engine::decide_with`).
//! - Subjects are keyed by name, not by plan index, so state survives reloads that reorder
//!   declarations and is shared by replicas serving different plan versions.

mod memory;
#[cfg(feature = "redis")]
pub mod redis;

pub use memory::MemoryState;

use std::sync::Arc;

/// What a limit counts: an agent or a human, by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    Agent(Arc<str>),
    Human(Arc<str>),
    /// The requests served for an intent (`rate intent NAME ...`): named `NAME`, or
    /// `NAME/CALLER` for a limit counted per caller (`NAME/` for anonymous callers).
    Intent(Arc<str>),
}

impl Subject {
    /// `agent`, `human` or `intent`.
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Agent(_) => "agent",
            Subject::Human(_) => "human",
            Subject::Intent(_) => "intent",
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Subject::Agent(n) | Subject::Human(n) | Subject::Intent(n) => n,
        }
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind(), self.name())
    }
}

/// At most `count` uses in any window of `per_ms` milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    pub count: u64,
    pub per_ms: u64,
}

/// Open while `failures` failures fall within `cooldown_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Breaker {
    pub failures: u64,
    pub cooldown_ms: u64,
}

/// One subject a decision uses, with the limits that apply to it in the plan deciding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Take {
    pub subject: Subject,
    pub rates: Arc<[Rate]>,
    /// Only agents have breakers.
    pub breaker: Option<Breaker>,
}

/// Why a subject cannot be used now, and how long until it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    /// At a rate limit; the next use is allowed in this many milliseconds.
    Rate { wait_ms: u64 },
    /// The breaker is open; it closes in this many milliseconds.
    Breaker { wait_ms: u64 },
}

impl Blocked {
    pub fn wait_ms(self) -> u64 {
        match self {
            Blocked::Rate { wait_ms } | Blocked::Breaker { wait_ms } => wait_ms,
        }
    }
}

/// A subject `take` refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub subject: Subject,
    pub why: Blocked,
}

/// Why `take` took nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Some subjects are at a limit or have their breaker open (at least one).
    Blocked(Vec<Block>),
    /// The store could not be asked (e.g. Redis unreachable): the decision fails closed.
    Unavailable(String),
}

/// A read of the state, used to choose among candidates. `MemoryState` answers exactly; a
/// remote store answers from what it last learned, never claiming a subject is blocked longer
/// than it is (uses and failures only leave the window by time).
pub trait Check: Send + Sync {
    fn check(&self, take: &Take, now_ms: u64) -> Option<Blocked>;
}

pub trait State: Check {
    /// Checks every subject of `takes` and, only if none is blocked, records one use of each
    /// (a subject named twice is used twice), all in one atomic step.
    fn take(&self, takes: &[Take], now_ms: u64) -> Result<(), Refused>;
    /// Records a failure of an agent whose breaker (in the plan reporting it) is `breaker`.
    fn record_failure(&self, agent: &Subject, breaker: Option<Breaker>, now_ms: u64);
    /// Whether the agent's breaker is open now.
    fn breaker_open(&self, agent: &Subject, breaker: Breaker, now_ms: u64) -> bool {
        let take = Take {
            subject: agent.clone(),
            rates: Arc::from([]),
            breaker: Some(breaker),
        };
        matches!(self.check(&take, now_ms), Some(Blocked::Breaker { .. }))
    }
}

/// A breaker log for an agent whose plan declares no breaker keeps this many failures, so a
/// later plan (or another replica) that declares one sees them.
pub const FAILURES_KEPT_WITHOUT_BREAKER: u64 = 64;

/// The largest log a subject keeps: counts beyond this are treated as this (a log of a million
/// uses is 8 MB per subject; a limit that high is not a limit a sidecar can keep exactly).
pub const MAX_LOG: u64 = 1_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    /// A subject is written as its kind and its name: the reason of a throttled decision and
    /// the sidecar's errors name it so.
    #[test]
    fn a_subject_is_written_as_its_kind_and_name() {
        let agent = Subject::Agent(Arc::from("ledger"));
        let human = Subject::Human(Arc::from("cfo"));
        let intent = Subject::Intent(Arc::from("pay/alice"));
        assert_eq!(
            [agent.kind(), human.kind(), intent.kind()],
            ["agent", "human", "intent"]
        );
        assert_eq!(agent.to_string(), "agent ledger");
        assert_eq!(human.to_string(), "human cfo");
        assert_eq!(intent.to_string(), "intent pay/alice");
    }
}
