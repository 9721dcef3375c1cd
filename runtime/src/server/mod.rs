//! The HTTP sidecar behind `intent serve` (feature `server`): axum on tokio. `app` holds what
//! every request shares (the engine behind an `ArcSwap`, metrics, the decision log), `routes`
//! the endpoints, `admin` who may call the ones that change state, `reload` the plan watcher,
//! `listen` the accept loop with its connection cap, timeouts and graceful shutdown, `front`
//! the service of each connection (the two hot endpoints ahead of the router), `metrics`
//! the Prometheus registry, `decision_log` the log writer, `store` the state store (memory or
//! Redis), `classify` the optional HTTP classifier for text requests, `bundle` the poller of
//! signed plan bundles, `identity` the trust broker's checks and tokens (`crate::trust`),
//! `telemetry` the OpenTelemetry spans of decisions (`--otlp`).
//! The plan comes from a `PlanSource`: files read through a closure, so the runtime never needs
//! the compiler (the `intent` program passes one that compiles sources when it is given
//! sources), or a signed bundle polled from a URL.

mod admin;
mod app;
mod bundle;
mod classify;
mod classify_endpoint;
mod decision_log;
mod front;
mod identity;
mod listen;
mod metrics;
mod reload;
mod routes;
mod store;
mod telemetry;

#[cfg(feature = "mcp")]
pub use crate::mcp::McpConfig;
pub use crate::state::redis::RedisConfig;
pub use admin::{AdminAccess, AdminToken};
pub use app::App;
pub use bundle::BundleConfig;
pub use classify::{ExternalConfig, Fallback, CLARIFY_QUESTION, MAX_ANSWER_BYTES};
#[cfg(feature = "mcp")]
pub(crate) use routes::error;
pub use routes::{router, FAILURE_SKEW_MS};
pub use store::StateConfig;

/// What a request's credentials establish, as a request without an intent: its caller (none:
/// no trust broker, or none needed and none given) and the context fields filled from the
/// bearer token's claims; or the refusal to answer it with. For endpoints outside the
/// sidecar's own (the MCP gateway), where the client never names a caller itself.
pub async fn establish(
    app: &App,
    headers: &axum::http::HeaderMap,
    peer: Option<&crate::trust::PeerCert>,
    engine: &crate::engine::Engine,
) -> Result<crate::request::Request, Box<axum::response::Response>> {
    let mut req = crate::request::Request::default();
    identity::establish(app, headers, peer, engine, &mut req).await?;
    Ok(req)
}

/// The person a request comes from (a human of the plan, by bearer token), or the refusal.
pub async fn person(
    app: &App,
    headers: &axum::http::HeaderMap,
    engine: &crate::engine::Engine,
) -> Result<String, Box<axum::response::Response>> {
    identity::person(app, headers, engine).await
}

use crate::layer::headers::FieldHeaders;
use crate::limits::MAX_BODY_LIMIT;
use crate::plan::Plan;
use crate::trust::{Trust, TrustConfig};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The default of [`Config::max_connections`]: well under the usual limit of 1024 open files,
/// which the listener, the plan and the decision log share with the connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// Where the decision log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    None,
    Stdout,
    File(PathBuf),
}

/// How the sidecar runs.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    /// The largest request body accepted (413 beyond it); at most `limits::MAX_BODY_LIMIT`.
    pub max_body: usize,
    /// The longest a request may take, body included (408 beyond it).
    pub request_timeout: Duration,
    /// The longest a client may take to send a request's headers (the connection is closed).
    pub header_timeout: Duration,
    /// How often the plan's files are looked at for changes; zero: never.
    pub reload_every: Duration,
    /// On shutdown, how long in-flight requests may take to finish.
    pub drain_timeout: Duration,
    pub log: LogTarget,
    /// What `/v1/authz` does with `x-intent-context-<field>` headers.
    pub field_headers: FieldHeaders,
    /// Where rate limits and breakers are counted.
    pub state: StateConfig,
    /// Who may call the endpoints that change state (`POST /v1/failure`); default: nobody.
    pub admin: AdminAccess,
    /// The most connections served at once; beyond it the sidecar stops accepting until one
    /// closes (the others wait in the listen backlog).
    pub max_connections: usize,
    /// Refuse (400) a request with context fields the plan does not declare, naming them,
    /// instead of deciding it and listing them in `unknown_fields`.
    pub strict: bool,
    /// An HTTP classifier for text requests instead of the plan's built-in one.
    pub classifier: Option<ExternalConfig>,
    /// Verified callers and delegation tokens (docs/identity.md); default: neither.
    pub trust: TrustConfig,
    /// Serve HTTPS, and with client certificates verify who is calling (`--tls-cert`).
    pub tls: Option<crate::trust::mtls::TlsConfig>,
    /// The OTLP/HTTP collector (its `http://` base URL) to export a span per decision to;
    /// default: none, and no exporter at all.
    pub otlp: Option<String>,
    /// Serve the MCP gateway too (`intent mcp`: `/mcp` and the approvals API).
    #[cfg(feature = "mcp")]
    pub mcp: Option<McpConfig>,
}

impl Config {
    /// The defaults, listening on `addr`.
    pub fn new(addr: SocketAddr) -> Config {
        Config {
            addr,
            max_body: 64 * 1024,
            request_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            reload_every: Duration::from_secs(1),
            drain_timeout: Duration::from_secs(30),
            log: LogTarget::None,
            field_headers: FieldHeaders::Merge,
            state: StateConfig::Memory,
            admin: AdminAccess::Closed,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            strict: false,
            classifier: None,
            trust: TrustConfig::default(),
            tls: None,
            otlp: None,
            #[cfg(feature = "mcp")]
            mcp: None,
        }
    }
}

/// Loads the plan to serve: at start, and again whenever a watched file changes.
pub type LoadPlan = dyn Fn() -> Result<Plan, String> + Send + Sync;

/// Where the plan comes from.
pub enum PlanSource {
    /// Loaded by `load` at start, and again when one of the `watch` files changes.
    Files {
        load: Box<LoadPlan>,
        watch: Vec<PathBuf>,
    },
    /// A signed bundle polled from a URL, the last good one cached on disk.
    Bundle(Box<BundleConfig>),
}

/// Starts what keeps the plan current (a file watcher or a bundle poller), if anything does.
type StartWatcher = dyn FnOnce(Arc<App>) -> Option<tokio::task::JoinHandle<()>> + Send;

/// Serves until ctrl-c or SIGTERM, on a tokio runtime of its own.
pub fn run(config: Config, source: PlanSource) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    rt.block_on(serve(config, source, shutdown_signal()))
}

/// Serves until `shutdown` completes, then stops accepting, lets in-flight requests finish
/// (up to `drain_timeout`) and flushes the decision log.
pub async fn serve(
    config: Config,
    source: PlanSource,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), String> {
    if config.max_body > MAX_BODY_LIMIT {
        return Err(format!(
            "--max-body {} is over the limit of {MAX_BODY_LIMIT} bytes (docs/serve.md, Limits)",
            config.max_body
        ));
    }
    let (log, writer) = decision_log::start(&config.log).await?;
    let store = store::Store::open(&config.state)?;
    let (mut app, watcher): (App, Box<StartWatcher>) = match source {
        PlanSource::Files { load, watch } => {
            let load: Arc<LoadPlan> = Arc::from(load);
            // The files as they are before the plan is read: the watcher's first comparison.
            let files = reload::fingerprint_async(watch.clone()).await;
            let app = App::load(&*load, store, log)?;
            let every = config.reload_every;
            let watcher = move |app| {
                (!every.is_zero())
                    .then(|| tokio::spawn(reload::watch(app, load, watch, every, files)))
            };
            (app, Box::new(watcher))
        }
        PlanSource::Bundle(b) => {
            let (engine, status, last) = bundle::first(&b, &store.for_engines()).await?;
            let app = App::start(engine, store, log);
            app.set_bundle_status(status);
            (
                app,
                Box::new(move |app| Some(tokio::spawn(bundle::poll(app, *b, last)))),
            )
        }
    };
    if let Some(c) = &config.classifier {
        app.set_classifier(c)?;
    }
    let tls = config
        .tls
        .as_ref()
        .map(crate::trust::mtls::TlsServer::load)
        .transpose()?;
    if let Some(endpoint) = &config.otlp {
        app.set_otlp(endpoint)?;
    }
    let mut trust = config.trust.clone();
    trust.client_certificates = tls.as_ref().is_some_and(|t| t.trust_domain.is_some());
    let trusted = trust.bearer.is_some() || trust.delegation.is_some() || trust.client_certificates;
    if trusted {
        app = app.with_trust(Arc::new(Trust::load(trust).await?));
    }
    let app = Arc::new(app);
    let pinger = tokio::spawn(app.store.clone().watch());
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    eprintln!(
        "intent serve: listening on {}://{local} (plan {}, state in {})",
        if tls.is_some() { "https" } else { "http" },
        app.engine().plan_hash(),
        app.store.backend()
    );
    if let Some(endpoint) = &config.otlp {
        eprintln!("intent serve: exporting a span per decision to {endpoint} (OTLP/HTTP)");
    }
    if let AdminAccess::Open = config.admin {
        eprintln!(
            "intent serve: warning: admin endpoints are open: anyone who can reach the port may report failures and open breakers"
        );
    }
    if let Some(s) = app.bundle_status() {
        match (&s.last_error, s.source) {
            (Some(why), "cache") => eprintln!(
                "intent serve: serving the cached bundle {} (plan {}): {why}",
                s.cache, s.plan_hash
            ),
            _ => eprintln!(
                "intent serve: serving the bundle from {} (plan {}, etag {})",
                s.url,
                s.plan_hash,
                s.etag.as_deref().unwrap_or("none")
            ),
        }
    }
    let watcher = watcher(app.clone());
    #[allow(unused_mut)]
    let mut routes = router(app.clone(), &config);
    #[cfg(feature = "mcp")]
    if let Some(m) = &config.mcp {
        // The upstream clients' TLS (rustls without a provider of its own) uses ring, as the
        // sidecar's TLS does; installed once per process, so an error means it already is.
        #[allow(deprecated)] // see trust::mtls: ring, not aws-lc (no C toolchain in CI)
        let _ = rustls::crypto::ring::default_provider().install_default();
        routes = crate::mcp::router(app.clone(), m, config.max_body)?.merge(routes);
        eprintln!("intent mcp: MCP endpoint at /mcp (Streamable HTTP), approvals at /v1/approvals");
    }
    listen::serve_http(listener, routes, &config, tls, shutdown, &app).await;
    if let Some(w) = watcher {
        w.abort();
    }
    pinger.abort();
    if let Some(t) = &app.telemetry {
        t.shutdown().await;
    }
    // The writer writes what is queued, flushes and ends.
    app.close_log();
    if let Some(w) = writer {
        let _ = w.await;
    }
    eprintln!("intent serve: stopped");
    Ok(())
}

/// Completes on ctrl-c or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    eprintln!("intent serve: shutting down, draining in-flight requests");
}
