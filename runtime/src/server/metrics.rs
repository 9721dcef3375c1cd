//! The sidecar's Prometheus metrics (prometheus-client, OpenMetrics text): decisions by intent
//! and outcome, decision latency, escalations, throttles, breaker state per agent (read from
//! the state store when scraped), plan reloads by result, bad requests, the `plan_hash` now
//! serving as an info-style gauge, the state store's health (up, failed calls, fallback use),
//! trust-broker refusals by reason and delegation tokens minted, and with `--bundle-url` the
//! bundle's fetches by result, its hash and ETag, and the times of its last success and last
//! error; with `--otlp` the decision spans by what became of them (exported, failed, dropped).

use super::bundle::BundleStatus;
use super::reload::Reloaded;
use super::telemetry::SpanCounts;
use crate::decision::{Decision, Outcome};
use crate::engine::Engine;
use crate::state::redis::Health;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    /// A shared string: counting a decision allocates nothing.
    intent: Arc<str>,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AgentLabels {
    agent: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PlanLabels {
    plan_hash: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackendLabels {
    backend: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BundleLabels {
    plan_hash: String,
    etag: String,
    source: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    /// A tool the plan binds, or `unknown`: the label set is bounded by the plan.
    tool: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: &'static str,
}

pub(crate) struct Metrics {
    registry: Registry,
    decisions: Family<DecisionLabels, Counter>,
    latency: Histogram,
    escalations: Counter,
    throttles: Counter,
    breaker_open: Family<AgentLabels, Gauge>,
    plan: Family<PlanLabels, Gauge>,
    reloads: Family<ResultLabels, Counter>,
    bad_requests: Family<EndpointLabels, Counter>,
    refused: Family<ReasonLabels, Counter>,
    minted: Counter,
    state_up: Family<BackendLabels, Gauge>,
    state_errors: Family<BackendLabels, Gauge>,
    state_fallback: Family<BackendLabels, Gauge>,
    bundle_fetches: Family<ResultLabels, Counter>,
    bundle: Family<BundleLabels, Gauge>,
    bundle_success: Gauge<f64, AtomicU64>,
    bundle_error: Gauge<f64, AtomicU64>,
    otlp_spans: Family<ResultLabels, Counter>,
    mcp_calls: Family<ToolLabels, Counter>,
    no_intent: Arc<str>,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        let m = Metrics {
            registry: Registry::default(),
            decisions: Family::default(),
            // 5 µs to ~160 ms.
            latency: Histogram::new(exponential_buckets(0.000_005, 2.0, 16)),
            escalations: Counter::default(),
            throttles: Counter::default(),
            breaker_open: Family::default(),
            plan: Family::default(),
            reloads: Family::default(),
            bad_requests: Family::default(),
            refused: Family::default(),
            minted: Counter::default(),
            state_up: Family::default(),
            state_errors: Family::default(),
            state_fallback: Family::default(),
            bundle_fetches: Family::default(),
            bundle: Family::default(),
            bundle_success: Gauge::default(),
            bundle_error: Gauge::default(),
            otlp_spans: Family::default(),
            mcp_calls: Family::default(),
            no_intent: Arc::from(""),
        };
        let mut r = m.registry;
        r.register(
            "intent_decisions",
            "Decisions made, by intent and outcome",
            m.decisions.clone(),
        );
        r.register(
            "intent_decision_seconds",
            "Time to decide a request and write its answer",
            m.latency.clone(),
        );
        r.register(
            "intent_escalations",
            "Decisions that escalate to a person",
            m.escalations.clone(),
        );
        r.register(
            "intent_throttles",
            "Decisions throttled by a rate limit",
            m.throttles.clone(),
        );
        r.register(
            "intent_breaker_open",
            "1 when the agent's circuit breaker is open",
            m.breaker_open.clone(),
        );
        r.register(
            "intent_plan",
            "The plan now serving (always 1), labelled by plan_hash",
            m.plan.clone(),
        );
        r.register(
            "intent_plan_reloads",
            "Plan reloads after a file change, by result (swapped, unchanged, refused)",
            m.reloads.clone(),
        );
        r.register(
            "intent_bad_requests",
            "Requests refused before a decision (bad JSON, bad headers, too large), by endpoint",
            m.bad_requests.clone(),
        );
        r.register(
            "intent_identity_refusals",
            "Requests refused by the trust broker before a decision, by reason (docs/identity.md)",
            m.refused.clone(),
        );
        r.register(
            "intent_delegation_tokens_minted",
            "Delegation tokens signed for filled steps",
            m.minted.clone(),
        );
        r.register(
            "intent_state_up",
            "1 while the state store answers (a memory store always does)",
            m.state_up.clone(),
        );
        r.register(
            "intent_state_errors",
            "Calls to the state store that failed or timed out, since start",
            m.state_errors.clone(),
        );
        r.register(
            "intent_state_fallback_decisions",
            "Decisions whose limits the local fallback took while the shared store was down",
            m.state_fallback.clone(),
        );
        r.register(
            "intent_bundle_fetches",
            "Fetches of the plan bundle, by result (swapped, unchanged, not_modified, refused, error)",
            m.bundle_fetches.clone(),
        );
        r.register(
            "intent_bundle",
            "The bundle the plan came from (always 1), labelled by plan_hash, etag and source (server or cache)",
            m.bundle.clone(),
        );
        r.register(
            "intent_bundle_last_success_timestamp_seconds",
            "When the bundle server last answered with the bundle serving (0: never)",
            m.bundle_success.clone(),
        );
        r.register(
            "intent_bundle_last_error_timestamp_seconds",
            "When fetching or checking the bundle last failed (0: never)",
            m.bundle_error.clone(),
        );
        r.register(
            "intent_otlp_spans",
            "Decision and review spans (--otlp), by result: exported, failed (the collector refused them or did not answer in time), dropped (the export queue was full)",
            m.otlp_spans.clone(),
        );
        r.register(
            "intent_mcp_calls",
            "MCP tool calls (intent mcp), by tool and outcome: the decision's outcome, or forwarded, upstream_failed, pin_refused, invalid_arguments, approved",
            m.mcp_calls.clone(),
        );
        Metrics { registry: r, ..m }
    }

    /// The counters of the spans' fates, shared with the exporter (`telemetry`); created only
    /// with `--otlp`, so without it the family has no samples.
    pub(crate) fn otlp_spans(&self) -> SpanCounts {
        let counter = |result: &'static str| {
            self.otlp_spans
                .get_or_create(&ResultLabels { result })
                .clone()
        };
        SpanCounts {
            exported: counter("exported"),
            failed: counter("failed"),
            dropped: counter("dropped"),
        }
    }

    pub(crate) fn bundle_fetched(&self, result: &'static str) {
        self.bundle_fetches
            .get_or_create(&ResultLabels { result })
            .inc();
    }

    pub(crate) fn decided(&self, d: &Decision, took: Duration) {
        let labels = DecisionLabels {
            intent: d.intent.clone().unwrap_or_else(|| self.no_intent.clone()),
            outcome: d.outcome.as_str(),
        };
        self.decisions.get_or_create(&labels).inc();
        self.latency.observe(took.as_secs_f64());
        match d.outcome {
            Outcome::Escalate => {
                self.escalations.inc();
            }
            Outcome::Throttle => {
                self.throttles.inc();
            }
            Outcome::Dispatch | Outcome::Plan | Outcome::Clarify | Outcome::Deny => {}
        }
    }

    pub(crate) fn bad_request(&self, endpoint: &'static str) {
        self.bad_requests
            .get_or_create(&EndpointLabels { endpoint })
            .inc();
    }

    pub(crate) fn refused(&self, reason: &'static str) {
        self.refused.get_or_create(&ReasonLabels { reason }).inc();
    }

    /// Counts an MCP tool call (`tool` is a tool the plan binds, or `unknown`).
    #[cfg(feature = "mcp")]
    pub(crate) fn mcp_call(&self, tool: &str, outcome: &'static str) {
        self.mcp_calls
            .get_or_create(&ToolLabels {
                tool: tool.to_string(),
                outcome,
            })
            .inc();
    }

    pub(crate) fn minted(&self, n: usize) {
        self.minted.inc_by(n as u64);
    }

    pub(crate) fn set_plan(&self, engine: &Engine) {
        self.plan.clear();
        self.plan
            .get_or_create(&PlanLabels {
                plan_hash: engine.plan_hash().to_string(),
            })
            .set(1);
        self.breaker_open.clear();
    }

    pub(crate) fn reloaded(&self, r: &Reloaded) {
        let result = match r {
            Reloaded::Swapped { .. } => "swapped",
            Reloaded::Unchanged => "unchanged",
            Reloaded::Refused(_) => "refused",
        };
        self.reloads.get_or_create(&ResultLabels { result }).inc();
    }

    /// The metrics as OpenMetrics text, with the breaker states read from the store (`None`:
    /// it could not be asked, the last states stay) and the store's health (`None`: memory).
    pub(crate) fn render(
        &self,
        breakers: Option<&[(String, bool)]>,
        backend: &'static str,
        health: Option<Health>,
        bundle: Option<&BundleStatus>,
    ) -> String {
        if let Some(b) = bundle {
            self.bundle.clear();
            self.bundle
                .get_or_create(&BundleLabels {
                    plan_hash: b.plan_hash.clone(),
                    etag: b.etag.clone().unwrap_or_default(),
                    source: b.source,
                })
                .set(1);
            let seconds = |ms: Option<u64>| ms.map_or(0.0, |ms| ms as f64 / 1000.0);
            self.bundle_success.set(seconds(b.last_success_ms));
            self.bundle_error.set(seconds(b.last_error_ms));
        }
        for (agent, open) in breakers.unwrap_or_default() {
            self.breaker_open
                .get_or_create(&AgentLabels {
                    agent: agent.clone(),
                })
                .set(i64::from(*open));
        }
        let labels = BackendLabels { backend };
        let (up, errors, fallback) =
            health.map_or((true, 0, 0), |h| (h.up, h.errors, h.fallback_takes));
        self.state_up.get_or_create(&labels).set(i64::from(up));
        self.state_errors
            .get_or_create(&labels)
            .set(i64::try_from(errors).unwrap_or(i64::MAX));
        self.state_fallback
            .get_or_create(&labels)
            .set(i64::try_from(fallback).unwrap_or(i64::MAX));
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out = "# the metrics could not be written\n".into();
        }
        out
    }
}
