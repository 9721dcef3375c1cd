//! The Intent runtime: loads a routing plan and decides requests against it.
//!
//! `plan` holds the plan types (the one contract with the compiler); `Engine` validates a plan
//! and precomputes what makes decisions cheap; `decide` routes a request (docs/concepts.md),
//! `review` checks an agent's response, `report_failure` feeds circuit breakers. Evaluation
//! is total and fails closed. Never a dependency on the compiler; no async and no IO in the
//! default build — the feature `tower` adds `layer` (a tower Layer), `server` adds `server`
//! (the HTTP sidecar on tokio) and `bundle` adds `bundle` (signed plan bundles).

#[cfg(feature = "bundle")]
pub mod bundle;
#[cfg(feature = "cedar")]
pub mod cedar;
pub mod classifier;
pub mod decision;
mod engine;
pub mod eval;
pub mod explore;
mod json_write;
#[cfg(feature = "tower")]
pub mod layer;
pub mod limits;
pub mod litset;
pub mod log;
#[cfg(feature = "mcp")]
pub mod mcp;
pub mod plan;
pub mod program;
pub mod request;
#[cfg(feature = "server")]
pub mod server;
pub mod state;
pub mod strict_json;
pub mod tool_schema;
mod trace;
#[cfg(feature = "trust")]
pub mod trust;
pub mod unknown;

pub use decision::{
    Decision, DecisionId, FilledStep, Obligation, Outcome, Sources, Trace, TraceEntry, TraceKind,
    TraceWhat, Verdict, VerdictOutcome,
};
pub use engine::{
    unavailable, Attempt, Engine, PlanError, Preclassified, MAX_ATTEMPTS, SKIPPED_RUN,
    UNAVAILABLE_RETRY_MS,
};
pub use log::LogRecord;
pub use request::{Caller, Request, Response};
pub use unknown::{unknown_fields, UnknownField};
