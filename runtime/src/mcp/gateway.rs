//! The MCP server the clients talk to (an `rmcp` `ServerHandler`): `tools/list` answers the
//! tools the plan binds that this caller could ask for, with the mesh's descriptions and input
//! schemas; `tools/call` is a request for the tool's intent, decided by the plan and answered
//! as the outcome says (`call`).

use super::{call, Shared};
use crate::request::Caller;
use crate::server::App;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use std::sync::Arc;

/// What the HTTP layer established about the caller of an MCP request (`super::identify`),
/// carried to the handler in the request's extensions: the caller, and the context fields
/// its bearer token's claims fill (`tier: string = claim "tier"`).
#[derive(Debug, Clone, Default)]
pub struct Established {
    pub caller: Option<Caller>,
    pub claimed: serde_json::Map<String, serde_json::Value>,
    /// The request's `traceparent` and `tracestate`, which the decisions' spans continue.
    pub trace: http::HeaderMap,
}

/// One MCP server instance per request (the SDK's service factory); all share `app` and
/// `shared`.
#[derive(Clone)]
pub struct Gateway {
    pub(super) app: Arc<App>,
    pub(super) shared: Arc<Shared>,
}

/// What the HTTP layer established for this request.
fn established(ctx: &RequestContext<RoleServer>) -> Established {
    ctx.extensions
        .get::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<Established>())
        .cloned()
        .unwrap_or_default()
}

impl ServerHandler for Gateway {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("intent-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Tools governed by an Intent mesh: each call is decided by the mesh's routes and policies before it reaches a server.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let caller = established(&ctx).caller;
        let engine = self.app.engine();
        let plan = engine.plan();
        let tools = plan
            .intents
            .iter()
            .enumerate()
            .filter_map(|(i, it)| Some((i, it, it.tool.as_deref()?)))
            .filter(|(i, _, _)| super::visible(plan, *i, caller.as_ref()))
            .map(|(_, it, name)| {
                let schema = it
                    .input
                    .as_ref()
                    .map(crate::tool_schema::json_schema)
                    .unwrap_or_else(crate::tool_schema::empty_object);
                let description = it.description.clone().unwrap_or_default();
                Tool::new(name.to_string(), description, Arc::new(schema))
            })
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        call::call_tool(self, request, established(&ctx))
            .await
            .map(CallToolResponse::Complete)
    }
}
