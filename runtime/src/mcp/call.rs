//! One `tools/call`, end to end: the tool's intent and its arguments (checked against the
//! intent's `input`), a request for the intent with the arguments as context, the verified
//! caller and its lineage, decided by the plan; then as the outcome says:
//!
//! - `dispatch`/`plan`: forwarded to the MCP server of the agent that fills the step. A call the
//!   server never received is reported as that agent's failure and decided again (so a breaker
//!   that opens sends the next attempt to a backup or fallback), at most `MAX_ATTEMPTS` times;
//!   a call that may have run is reported and not repeated. The server's result passes the
//!   agent's `review` before it reaches the client.
//! - `escalate`: held for the person the decision names (`approvals`); the same call retried
//!   after that person approved it is forwarded once to the plan the escalation carries.
//! - `deny`, `clarify`, `throttle`: a tool error the model can read (the reason, the question,
//!   the retry time).
//!
//! Every decision is in the decision log with the method and the tool, and counted in
//! `/metrics` by tool and outcome.

use super::approvals::{arguments_hash, Held, State, DEFAULT_HOLD_MS};
use super::gateway::{Established, Gateway};
use super::review;
use super::upstream::Failure;
use crate::decision::{Decision, Outcome};
use crate::engine::{now_ms, Engine};
use crate::log::McpCall;
use crate::plan::{Intent, Protocol};
use crate::request::Request;
use crate::tool_schema as schema;
use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock};
use rmcp::ErrorData as McpError;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// The most decisions one call may take when servers cannot be reached.
pub const MAX_ATTEMPTS: usize = 4;

/// The `_meta` key a client states its confidence under (0 to 1; default 1).
pub const CONFIDENCE_META: &str = "intent/confidence";

pub(super) async fn call_tool(
    gw: &Gateway,
    params: CallToolRequestParams,
    who: Established,
) -> Result<CallToolResult, McpError> {
    let engine = gw.app.engine_full();
    let plan = engine.plan();
    let Some(intent) = plan
        .intents
        .iter()
        .find(|i| i.tool.as_deref() == Some(&*params.name))
    else {
        gw.app.metrics.mcp_call("unknown", "unknown_tool");
        return Err(McpError::invalid_params(
            format!("unknown tool `{}`", crate::limits::echo(&params.name)),
            None,
        ));
    };
    let tool: Arc<str> = Arc::from(&*params.name);
    let args = params.arguments.clone().unwrap_or_default();
    if let Some(input) = &intent.input {
        let problems = schema::check_arguments(input, &args);
        if !problems.is_empty() {
            gw.app.metrics.mcp_call(&tool, "invalid_arguments");
            return Ok(tool_error(
                format!("invalid arguments: {}", problems.join("; ")),
                json!({ "problems": problems }),
            ));
        }
    }
    // Fields the caller's token fills are the token's: an argument of that name is refused.
    let mut context = args.clone();
    for (k, v) in who.claimed {
        if context.contains_key(&k) {
            gw.app.metrics.mcp_call(&tool, "invalid_arguments");
            return Ok(tool_error(
                format!("argument `{k}` comes from your credentials, not from the call"),
                json!({ "problems": [format!("argument `{k}` is filled from a token claim")] }),
            ));
        }
        context.insert(k, v);
    }
    let confidence = match confidence(&params) {
        Ok(c) => c,
        Err(why) => return Err(McpError::invalid_params(why, None)),
    };
    let req = Request {
        intent: Some(intent.name.clone()),
        text: None,
        confidence: Some(confidence),
        caller: who.caller,
        context,
    };
    let call = Call {
        gw,
        trace: who.trace,
        engine: &engine,
        intent,
        tool,
        args,
        req,
    };
    Ok(call.run().await)
}

/// The confidence the client states in `_meta`, or 1.
fn confidence(params: &CallToolRequestParams) -> Result<f64, String> {
    let Some(v) = params.meta.as_ref().and_then(|m| m.0.get(CONFIDENCE_META)) else {
        return Ok(1.0);
    };
    match v.as_f64() {
        Some(c) if (0.0..=1.0).contains(&c) => Ok(c),
        _ => Err(format!(
            "`_meta.{CONFIDENCE_META}` must be a number from 0 to 1"
        )),
    }
}

/// What one decision of a call comes to.
struct Answer {
    result: CallToolResult,
    /// The held call whose approval let this forward through (for the decision log).
    approved: Option<String>,
    /// The call never reached a server: decide it again.
    again: bool,
}

impl Answer {
    fn done(result: CallToolResult) -> Answer {
        Answer {
            result,
            approved: None,
            again: false,
        }
    }
}

struct Call<'a> {
    gw: &'a Gateway,
    /// The client's `traceparent` (and `tracestate`), for the decisions' spans (`--otlp`).
    trace: http::HeaderMap,
    engine: &'a Arc<Engine>,
    intent: &'a Intent,
    tool: Arc<str>,
    args: Map<String, Value>,
    req: Request,
}

impl Call<'_> {
    async fn run(self) -> CallToolResult {
        let app = &self.gw.app;
        for _ in 0..MAX_ATTEMPTS {
            let started = Instant::now();
            let span_start = app.telemetry.as_ref().map(|_| SystemTime::now());
            let d = app.decide(self.engine, &self.req).await;
            let took = started.elapsed();
            if let (Some(t), Some(at)) = (&app.telemetry, span_start) {
                t.decided(&self.trace, "mcp", at, &d);
            }
            let outcome = d.outcome;
            let Answer {
                result,
                approved,
                again,
            } = match outcome {
                Outcome::Dispatch | Outcome::Plan => self.forward(&d).await,
                Outcome::Escalate => self.escalate(&d).await,
                Outcome::Clarify | Outcome::Deny | Outcome::Throttle => {
                    Answer::done(self.refusal(&d))
                }
            };
            self.log(d, took, approved).await;
            if !again {
                return result;
            }
        }
        app.metrics.mcp_call(&self.tool, "upstream_failed");
        tool_error(
            format!("no server could take the call after {MAX_ATTEMPTS} attempts"),
            json!({}),
        )
    }

    /// The decision's log line, with the call.
    async fn log(&self, d: Decision, took: std::time::Duration, approved: Option<String>) {
        let mcp = McpCall {
            method: "tools/call".into(),
            tool: self.tool.to_string(),
            approved,
        };
        self.gw
            .app
            .record_call(self.req.clone(), d, took, Some(mcp))
            .await;
    }

    /// Forwards the call to the first step's agent.
    async fn forward(&self, d: &Decision) -> Answer {
        let app = &self.gw.app;
        let plan = self.engine.plan();
        let Some(step) = d.steps.first() else {
            return Answer::done(tool_error("the decision named no agent".into(), json!({})));
        };
        let agent = plan.agents.iter().find(|a| *a.name == *step.agent);
        let Some((agent, url)) = agent.and_then(|a| match (&a.endpoint, a.protocol) {
            (Some(url), Some(Protocol::Mcp)) => Some((a, url)),
            _ => None,
        }) else {
            app.metrics.mcp_call(&self.tool, "upstream_failed");
            let msg = format!("agent `{}` has no MCP endpoint", step.agent);
            return Answer::done(tool_error(msg, json!({})));
        };
        let declared = self.intent.input.as_ref().map(schema::declared_shape);
        let result = self
            .gw
            .shared
            .upstreams
            .call(url, &self.tool, self.args.clone(), declared.as_ref())
            .await;
        match result {
            Ok(mut r) => {
                app.metrics.mcp_call(&self.tool, "forwarded");
                // A result read from a server that spoke an older protocol version has no
                // `resultType`; the client may speak 2026-07-28, where it is required (the
                // SDK's server clears it again for clients that speak an older version).
                r.result_type = Some(rmcp::model::ResultType::COMPLETE);
                let reviewed = review::review(self.engine, &agent.name, self.intent, &self.args, r);
                Answer::done(reviewed)
            }
            Err(f) => {
                let again = matches!(f, Failure::NotDelivered(_));
                if !matches!(f, Failure::Pin(_)) {
                    let _ = app
                        .store
                        .report_failure(self.engine, &agent.name, None)
                        .await;
                }
                let outcome = match f {
                    Failure::Pin(_) => "pin_refused",
                    _ => "upstream_failed",
                };
                app.metrics.mcp_call(&self.tool, outcome);
                if let Failure::Pin(why) = &f {
                    eprintln!(
                        "intent mcp: refused `{}` on `{}`: {why}",
                        self.tool, agent.name
                    );
                }
                let msg = format!(
                    "agent `{}` could not serve the call: {}",
                    agent.name,
                    f.message()
                );
                Answer {
                    again,
                    ..Answer::done(tool_error(msg, json!({ "agent": agent.name })))
                }
            }
        }
    }

    /// Holds an escalated call for its person, or forwards it if that person approved it.
    async fn escalate(&self, d: &Decision) -> Answer {
        let app = &self.gw.app;
        let approvals = &self.gw.shared.approvals;
        let now = now_ms();
        let caller = self.req.caller.as_ref().and_then(|c| c.agent.as_deref());
        let hash = arguments_hash(&self.args);
        if let Some(h) = approvals.take_approved(caller, &self.tool, &hash, now) {
            app.metrics.mcp_call(&self.tool, "approved");
            return Answer {
                approved: Some(h.id),
                ..self.forward(d).await
            };
        }
        if let Some(h) = approvals.rejected(caller, &self.tool, &hash, now) {
            app.metrics.mcp_call(&self.tool, "rejected");
            let msg = format!(
                "`{}` rejected this call (decision {})",
                h.decided_by.as_deref().unwrap_or(&h.human),
                h.id
            );
            return Answer::done(tool_error(msg, json!({ "decision_id": h.id })));
        }
        let human = d.human.as_deref().unwrap_or("").to_string();
        if d.steps.is_empty() {
            // An `escalate` arm of a route: a person decides, but there is no plan to run
            // once they agree, so nothing is held (an `escalate` policy rule carries one).
            app.metrics.mcp_call(&self.tool, "escalate");
            let msg = format!(
                "this call needs `{human}`{}; ask them (decision {})",
                d.reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default(),
                d.decision_id
            );
            let meta = json!({ "decision_id": d.decision_id.to_string(), "human": human, "outcome": "escalate" });
            return Answer::done(tool_error(msg, meta));
        }
        let held = Held {
            id: d.decision_id.to_string(),
            caller: caller.map(str::to_string),
            tool: self.tool.to_string(),
            arguments_sha256: hash,
            human: human.clone(),
            reason: d.reason.clone(),
            steps: crate::log::step_list(d),
            plan_hash: d.plan_hash.to_string(),
            at_ms: now,
            deadline_ms: d.deadline_ms.unwrap_or(now + DEFAULT_HOLD_MS),
            state: State::Pending,
            decided_by: None,
        };
        app.metrics.mcp_call(&self.tool, "escalate");
        let Some(h) = approvals.hold(held, now) else {
            let msg = "too many calls are waiting for a person; try again later".to_string();
            return Answer::done(tool_error(msg, json!({})));
        };
        let msg = format!(
            "this call needs the approval of `{}`{}; it is held as decision {}. Once approved, send the same call again.",
            h.human,
            h.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default(),
            h.id
        );
        let meta = json!({ "decision_id": h.id, "human": h.human, "outcome": "escalate" });
        Answer::done(tool_error(msg, meta))
    }

    /// `deny`, `clarify` and `throttle` as a tool error the model can read.
    fn refusal(&self, d: &Decision) -> CallToolResult {
        self.gw.app.metrics.mcp_call(&self.tool, d.outcome.as_str());
        let reason = d.reason.as_deref().unwrap_or("no reason given");
        let msg = match d.outcome {
            Outcome::Clarify => d.question.as_deref().unwrap_or(reason).to_string(),
            Outcome::Throttle => format!(
                "too many calls: {reason}; retry after {} ms",
                d.retry_after_ms.unwrap_or(0)
            ),
            // Only deny reaches here of the rest (the caller forwards and escalates them).
            Outcome::Deny | Outcome::Dispatch | Outcome::Plan | Outcome::Escalate => {
                format!("denied: {reason}")
            }
        };
        let mut meta =
            json!({ "outcome": d.outcome.as_str(), "decision_id": d.decision_id.to_string() });
        if let (Some(ms), Some(o)) = (d.retry_after_ms, meta.as_object_mut()) {
            o.insert("retry_after_ms".into(), json!(ms));
        }
        tool_error(msg, meta)
    }
}

/// A tool error: the message as text content, `meta` under `_meta["intent/decision"]`.
pub(super) fn tool_error(message: String, meta: Value) -> CallToolResult {
    let mut r = CallToolResult::error(vec![ContentBlock::text(message)]);
    if meta.as_object().is_some_and(|m| !m.is_empty()) {
        let mut m = rmcp::model::MetaObject::default();
        m.0.insert("intent/decision".into(), meta);
        r.meta = Some(m);
    }
    r
}
