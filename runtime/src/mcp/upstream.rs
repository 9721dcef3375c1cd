//! The MCP servers the plan names (`endpoint mcp "URL"`), as the gateway's clients of them:
//! one connection per endpoint through the official SDK's Streamable HTTP client, made on first
//! use and made again after a failure; each call bounded by a timeout. The tools a server
//! advertises are read when the connection is made and again every `refresh`, and each bound
//! tool's definition is compared with the mesh's (`schema::differences`): a server whose
//! definition differs is refused for that tool until it agrees again (a "rug pull" never
//! reaches the client).
//!
//! A failure says whether the call reached the server: a call that was never delivered (the
//! connection could not be made, or the request could not be sent) may be tried on another
//! server; a call that may have run (a timeout, an error the server answered) is not repeated.

use crate::tool_schema::{self as schema, Shape};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation, Tool,
};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ServiceError, ServiceExt};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Why a call to an upstream server failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The call never reached the server: another server may take it.
    NotDelivered(String),
    /// The call may have reached the server (a timeout, a protocol error): not repeated.
    Failed(String),
    /// The server's definition of the tool differs from the mesh's.
    Pin(String),
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::NotDelivered(m) | Failure::Failed(m) | Failure::Pin(m) => m,
        }
    }
}

type Client = RunningService<RoleClient, ClientConfig>;

/// One upstream connection and what it last advertised.
struct Conn {
    client: Client,
    /// When the tools were read, and each tool's shape.
    tools: Mutex<(Instant, Arc<HashMap<String, Shape>>)>,
}

/// The gateway's clients of the upstream servers.
pub struct Upstreams {
    conns: tokio::sync::Mutex<HashMap<Arc<str>, Arc<Conn>>>,
    http: reqwest::Client,
    timeout: Duration,
    refresh: Duration,
}

impl Upstreams {
    /// The clients; an error when the HTTP client cannot be made (no TLS provider).
    pub fn new(timeout: Duration, refresh: Duration) -> Result<Upstreams, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot make the upstream HTTP client: {e}"))?;
        Ok(Upstreams {
            conns: tokio::sync::Mutex::new(HashMap::new()),
            // Connections kept open between calls; no redirects (a server that moves is
            // refused, never followed to another origin with the call).
            http,
            timeout,
            refresh,
        })
    }

    /// Calls `tool` with `args` on the server at `url`, after checking that the server's
    /// definition of it has the shape the mesh declares (`declared`; `None`: no `input`).
    pub async fn call(
        &self,
        url: &str,
        tool: &str,
        args: Map<String, Value>,
        declared: Option<&Shape>,
    ) -> Result<CallToolResult, Failure> {
        let conn = self.conn(url).await?;
        if let Err(f) = self.pinned(&conn, url, tool, declared).await {
            if !matches!(f, Failure::Pin(_)) {
                self.drop_conn(url).await;
            }
            return Err(f);
        }
        let params = CallToolRequestParams::new(tool.to_string()).with_arguments(args);
        match tokio::time::timeout(self.timeout, conn.client.peer().call_tool(params)).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => {
                let f = classify(&e, url);
                if !matches!(e, ServiceError::McpError(_)) {
                    self.drop_conn(url).await;
                }
                Err(f)
            }
            Err(_) => {
                self.drop_conn(url).await;
                Err(Failure::Failed(format!(
                    "{url} did not answer within {} ms",
                    self.timeout.as_millis()
                )))
            }
        }
    }

    /// The connection to `url`, made now if there is none.
    async fn conn(&self, url: &str) -> Result<Arc<Conn>, Failure> {
        if let Some(c) = self.conns.lock().await.get(url) {
            return Ok(c.clone());
        }
        let transport = StreamableHttpClientTransport::with_client(
            self.http.clone(),
            StreamableHttpClientTransportConfig::with_uri(url.to_string()),
        );
        let info = ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("intent-mcp", env!("CARGO_PKG_VERSION")),
        );
        let client = match tokio::time::timeout(self.timeout, info.serve(transport)).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                return Err(Failure::NotDelivered(format!("cannot reach {url}: {e}")));
            }
            Err(_) => {
                return Err(Failure::NotDelivered(format!(
                    "{url} did not answer the handshake within {} ms",
                    self.timeout.as_millis()
                )))
            }
        };
        let conn = Arc::new(Conn {
            client,
            tools: Mutex::new((Instant::now(), Arc::new(HashMap::new()))),
        });
        self.read_tools(&conn, url).await?;
        let mut conns = self.conns.lock().await;
        let kept = conns.entry(Arc::from(url)).or_insert(conn).clone();
        Ok(kept)
    }

    async fn drop_conn(&self, url: &str) {
        self.conns.lock().await.remove(url);
    }

    /// Reads the server's tools into `conn`.
    async fn read_tools(&self, conn: &Conn, url: &str) -> Result<(), Failure> {
        let listed = tokio::time::timeout(self.timeout, conn.client.peer().list_all_tools())
            .await
            .map_err(|_| Failure::Failed(format!("{url} did not list its tools in time")))?
            .map_err(|e| classify(&e, url))?;
        let shapes: HashMap<String, Shape> = listed
            .iter()
            .map(|t: &Tool| (t.name.to_string(), schema::shape(&t.input_schema)))
            .collect();
        if let Ok(mut t) = conn.tools.lock() {
            *t = (Instant::now(), Arc::new(shapes));
        }
        Ok(())
    }

    /// `Ok` when the server advertises `tool` with the declared shape.
    async fn pinned(
        &self,
        conn: &Conn,
        url: &str,
        tool: &str,
        declared: Option<&Shape>,
    ) -> Result<(), Failure> {
        let stale = conn
            .tools
            .lock()
            .map(|t| t.0.elapsed() >= self.refresh)
            .unwrap_or(true);
        if stale {
            self.read_tools(conn, url).await?;
        }
        let tools = conn.tools.lock().map(|t| t.1.clone()).unwrap_or_default();
        let Some(advertised) = tools.get(tool) else {
            return Err(Failure::Pin(format!(
                "{url} does not offer the tool `{tool}`"
            )));
        };
        let empty = Shape::new();
        let diffs = schema::differences(declared.unwrap_or(&empty), advertised);
        if diffs.is_empty() {
            Ok(())
        } else {
            Err(Failure::Pin(format!(
                "{url} advertises `{tool}` differently from the mesh: {}",
                diffs.join("; ")
            )))
        }
    }
}

/// A client error as a failure: was the call delivered?
fn classify(e: &ServiceError, url: &str) -> Failure {
    match e {
        ServiceError::TransportSend(_) | ServiceError::TransportClosed => {
            Failure::NotDelivered(format!("cannot reach {url}: {e}"))
        }
        _ => Failure::Failed(format!("{url} failed: {e}")),
    }
}
