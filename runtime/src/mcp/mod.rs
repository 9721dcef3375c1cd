//! The MCP gateway behind `intent mcp` (feature `mcp`, docs/mcp.md): the mesh between MCP
//! clients (agents calling tools) and MCP servers (agents serving them). It is the sidecar of
//! `crate::server` with one more endpoint, so hot reload, identity, limits, metrics, the
//! decision log and graceful shutdown are the sidecar's own:
//!
//! - `POST /mcp` (and `GET`/`DELETE` for the protocol's streams): a Streamable HTTP MCP server
//!   made with the official Rust SDK (`rmcp`), which speaks the protocol versions with a
//!   handshake and the stateless 2026-07-28 one. Its tools are the intents the plan binds to
//!   tools (`gateway`); a call is decided by the plan and forwarded to the MCP server of the
//!   agent that serves it (`call`, `upstream`), whose result passes the agent's review
//!   (`review`). Arguments are checked against the intent's `input` (`crate::tool_schema`).
//! - `GET /v1/approvals`, `POST /v1/approvals/{id}`: escalated calls held for a person, and that
//!   person's answer (`approvals`, `api`).
//!
//! Who is calling is established before the MCP server sees the request (`identify`), by the
//! sidecar's trust broker: bearer JWT, client certificate, delegation token (docs/identity.md).

mod api;
mod approvals;
mod call;
mod gateway;
mod review;
mod upstream;

pub use approvals::{Held, MAX_HELD};
pub use call::{CONFIDENCE_META, MAX_ATTEMPTS};
pub use gateway::Established;

use crate::plan::Plan;
use crate::request::Caller;
use crate::server::App;
use crate::trust::PeerCert;
use axum::extract::{Request as HttpRequest, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::tower::StreamableHttpService;
use rmcp::transport::StreamableHttpServerConfig;
use std::sync::Arc;
use std::time::Duration;

/// How the gateway runs, besides the sidecar's own `Config`.
#[derive(Debug, Clone)]
pub struct McpConfig {
    /// The longest a call to an upstream server may take (its handshake included).
    pub upstream_timeout: Duration,
    /// How often an upstream's tool definitions are read again (to see them change).
    pub tools_refresh: Duration,
    /// Host names the MCP endpoint answers for (DNS-rebinding protection); empty: loopback
    /// names only.
    pub allowed_hosts: Vec<String>,
}

impl Default for McpConfig {
    fn default() -> McpConfig {
        McpConfig {
            upstream_timeout: Duration::from_secs(10),
            tools_refresh: Duration::from_secs(10),
            allowed_hosts: Vec::new(),
        }
    }
}

/// What every MCP request shares besides the sidecar's `App`.
pub(crate) struct Shared {
    upstreams: upstream::Upstreams,
    approvals: approvals::Approvals,
}

/// The gateway's routes: `/mcp` and the approvals API, over the sidecar's `app`.
pub fn router(app: Arc<App>, config: &McpConfig, max_body: usize) -> Result<Router, String> {
    let shared = Arc::new(Shared {
        upstreams: upstream::Upstreams::new(config.upstream_timeout, config.tools_refresh)?,
        approvals: approvals::Approvals::default(),
    });
    let gw = gateway::Gateway {
        app: app.clone(),
        shared: shared.clone(),
    };
    let mut mcp_config = StreamableHttpServerConfig::default()
        .with_json_response(true)
        .with_legacy_session_mode(false)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(max_body);
    if !config.allowed_hosts.is_empty() {
        mcp_config = mcp_config.with_allowed_hosts(config.allowed_hosts.clone());
    }
    let service = StreamableHttpService::new(
        move || Ok(gw.clone()),
        Arc::new(NeverSessionManager::default()),
        mcp_config,
    );
    Ok(Router::new()
        .route_service("/mcp", service)
        .route_layer(middleware::from_fn_with_state(app.clone(), identify))
        .route("/v1/approvals", get(api::list))
        .route("/v1/approvals/{id}", post(api::answer))
        .layer(Extension(shared))
        .with_state(app))
}

/// Establishes the caller of an MCP request before the MCP server reads it: a request the
/// trust broker refuses gets its 4xx here, and never reaches a tool.
async fn identify(State(app): State<Arc<App>>, mut req: HttpRequest, next: Next) -> Response {
    let engine = app.engine_full();
    let peer = req.extensions().get::<PeerCert>().cloned();
    match crate::server::establish(&app, req.headers(), peer.as_ref(), &engine).await {
        Ok(r) => {
            let mut trace = axum::http::HeaderMap::new();
            for name in ["traceparent", "tracestate"] {
                if let Some(v) = req.headers().get(name) {
                    trace.insert(name, v.clone());
                }
            }
            req.extensions_mut().insert(Established {
                caller: r.caller,
                claimed: r.context,
                trace,
            });
            next.run(req).await
        }
        Err(r) => (*r).into_response(),
    }
}

/// Whether `caller` (serving `lineage`) could be served intent `i`: a caller that serves an
/// intent may only raise the intents it delegates (anything else is intent drift, and denied),
/// none past the plan's delegation depth; and the route must not refuse this caller whatever
/// the call says — an arm whose condition reads only the caller, holds for it, and denies,
/// before any arm that could serve it. Sound, not complete: a tool is hidden only when a call
/// from this caller is certainly refused (policies are not read).
pub(crate) fn visible(plan: &Plan, i: usize, caller: Option<&Caller>) -> bool {
    let lineage = caller.map_or(&[][..], |c| &c.lineage[..]);
    if !lineage_allows(plan, i, lineage) {
        return false;
    }
    let Some(it) = plan.intents.get(i) else {
        return false;
    };
    let agent = caller
        .and_then(|c| c.agent.as_deref())
        .and_then(|n| plan.agents.iter().find(|a| a.name == n));
    let empty = serde_json::Map::new();
    let env = crate::eval::Env {
        context: &empty,
        confidence: 1.0,
        depth: lineage.len() as u32,
        intent: i as crate::plan::IntentId,
        agent: None,
        caller: agent,
        data: &[],
        response: None,
    };
    for arm in &it.route.arms {
        let taken = match &arm.when {
            None => true,
            Some(e) if crate::eval::only_caller(e) => {
                match crate::eval::holds(e, &env) {
                    Ok(b) => b,
                    // A fault refuses every call alike.
                    Err(_) => return false,
                }
            }
            // Depends on the call: it could be served.
            Some(_) => return true,
        };
        if taken {
            return !matches!(arm.action, crate::plan::Action::Deny { .. });
        }
    }
    false
}

/// The lineage guards of `decide`, for intent `i`.
fn lineage_allows(plan: &Plan, i: usize, lineage: &[String]) -> bool {
    if let Some(max) = plan.limits.delegation_depth {
        if lineage.len() > max as usize {
            return false;
        }
    }
    let Some(name) = plan.intents.get(i).map(|x| &x.name) else {
        return false;
    };
    if lineage.contains(name) {
        return false;
    }
    let Some(serving) = lineage.last() else {
        return true;
    };
    plan.intents
        .iter()
        .find(|x| &x.name == serving)
        .is_some_and(|x| x.delegates.contains(&(i as crate::plan::IntentId)))
}
