//! `intent serve`: the HTTP sidecar (intent_runtime::server). Turns the arguments into a
//! server config and a plan source — a plan file read as JSON, or sources compiled at start
//! and again on every change, or a signed bundle polled from a URL (docs/deployment.md, "Signed
//! plan bundles") — and runs until ctrl-c or SIGTERM. `--state` chooses where rate limits and
//! breakers are counted (docs/serve.md, "State").

use super::sources;
use intent_compiler::{compile, Stage};
use intent_runtime::layer::headers::FieldHeaders;
use intent_runtime::plan::Plan;
use intent_runtime::server::{
    self, AdminAccess, AdminToken, BundleConfig, Config, LogTarget, PlanSource, RedisConfig,
    StateConfig,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The arguments `intent serve` and `intent mcp` share.
#[derive(clap::Args, Debug)]
pub struct ServeCli {
    /// Sources to compile at start and on every change (ignored with --plan)
    pub paths: Vec<PathBuf>,
    /// A plan written by `intent build`; reloaded when the file changes
    #[arg(long)]
    pub plan: Option<PathBuf>,
    /// Where to listen
    #[arg(long, default_value = "127.0.0.1:8181")]
    pub addr: std::net::SocketAddr,
    /// Write one JSON line per decision to FILE (appended), or `-` for stdout
    #[arg(long, value_name = "FILE|-")]
    pub log: Option<String>,
    /// The largest request body accepted, in bytes
    #[arg(long, default_value_t = 65536)]
    pub max_body: usize,
    /// The longest a request may take, headers and body included, in milliseconds
    #[arg(long, default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// How often to look for a changed plan, in milliseconds; 0: never reload
    #[arg(long, default_value_t = 1000)]
    pub reload_ms: u64,
    /// What /v1/authz does with x-intent-context-<field> headers: merge them with
    /// x-intent-context (a field given twice is refused), ignore them (x-intent-context is
    /// authoritative), or refuse requests that send them
    #[arg(long, default_value = "merge", value_parser = ["merge", "ignore", "refuse"])]
    pub field_headers: String,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub bundle: Box<BundleArgs>,
    /// The most connections served at once; beyond it new clients wait to be accepted
    #[arg(long, default_value_t = intent_runtime::server::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// A file holding the bearer token that POST /v1/failure (which changes state) requires
    #[arg(long, value_name = "FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// Let anyone who can reach the port call POST /v1/failure, without a token (INSECURE:
    /// only on a network where every caller is trusted)
    #[arg(long, conflicts_with = "admin_token_file")]
    pub admin_open: bool,
    /// Answer 400, naming the field, to a request with context fields the plan does not
    /// declare (default: decide it and list them in `unknown_fields`)
    #[arg(long)]
    pub strict: bool,
    /// Classify text requests with this HTTP classifier (docs/classifier.md) instead of the
    /// plan's built-in one
    #[arg(long, value_name = "URL")]
    pub classifier: Option<String>,
    /// How long to wait for the HTTP classifier, in milliseconds
    #[arg(long, default_value_t = 200, requires = "classifier")]
    pub classifier_timeout_ms: u64,
    /// What decides when the HTTP classifier is late, unreachable or answers nonsense
    #[arg(long, value_enum, default_value_t = FallbackArg::Builtin, requires = "classifier")]
    pub classifier_fallback: FallbackArg,
    #[command(flatten)]
    pub identity: Box<super::identity::IdentityArgs>,
    /// Export one OpenTelemetry span per decision and review over OTLP/HTTP (protobuf) to
    /// the collector at this http:// base URL (spans go to ENDPOINT/v1/traces)
    #[arg(long, value_name = "ENDPOINT")]
    pub otlp: Option<String>,
}

/// What `intent mcp` adds to the sidecar's arguments.
#[derive(clap::Args, Debug)]
pub struct McpArgs {
    /// The longest a call to an upstream MCP server may take (its handshake included), in
    /// milliseconds
    #[arg(long, default_value_t = 10_000)]
    pub upstream_timeout_ms: u64,
    /// How often to read the upstream servers' tool definitions again (to refuse a tool whose
    /// definition changed), in milliseconds
    #[arg(long, default_value_t = 10_000)]
    pub tools_refresh_ms: u64,
    /// A host name (or host:port) the MCP endpoint answers for, besides the loopback names
    /// (DNS-rebinding protection); repeat for several
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,
}

impl McpArgs {
    pub fn config(&self) -> server::McpConfig {
        let mut hosts = self.allowed_hosts.clone();
        if !hosts.is_empty() {
            hosts.extend(["localhost", "127.0.0.1", "::1"].map(String::from));
        }
        server::McpConfig {
            upstream_timeout: Duration::from_millis(self.upstream_timeout_ms.max(1)),
            tools_refresh: Duration::from_millis(self.tools_refresh_ms),
            allowed_hosts: hosts,
        }
    }
}

impl ServeCli {
    pub fn into_args(self) -> ServeArgs {
        let classifier = self.classifier.map(|url| server::ExternalConfig {
            url,
            timeout: Duration::from_millis(self.classifier_timeout_ms),
            fallback: self.classifier_fallback.into(),
        });
        ServeArgs {
            paths: self.paths,
            plan: self.plan,
            addr: self.addr,
            log: self.log,
            max_body: self.max_body,
            timeout_ms: self.timeout_ms,
            reload_ms: self.reload_ms,
            field_headers: self.field_headers,
            state: self.state,
            bundle: *self.bundle,
            max_connections: self.max_connections,
            admin_token_file: self.admin_token_file,
            admin_open: self.admin_open,
            strict: self.strict,
            classifier,
            identity: self.identity,
            otlp: self.otlp,
        }
    }
}

pub struct ServeArgs {
    pub paths: Vec<PathBuf>,
    pub plan: Option<PathBuf>,
    pub addr: SocketAddr,
    pub log: Option<String>,
    pub max_body: usize,
    pub timeout_ms: u64,
    pub reload_ms: u64,
    /// `merge`, `ignore` or `refuse` (clap allows no other).
    pub field_headers: String,
    pub state: StateArgs,
    pub bundle: BundleArgs,
    pub max_connections: usize,
    pub admin_token_file: Option<PathBuf>,
    pub admin_open: bool,
    /// Refuse requests with undeclared context fields (400).
    pub strict: bool,
    pub classifier: Option<server::ExternalConfig>,
    pub identity: Box<super::identity::IdentityArgs>,
    /// The OTLP/HTTP collector to export a span per decision to.
    pub otlp: Option<String>,
}

/// Where rate limits and breakers are counted.
#[derive(clap::Args, Clone, Debug)]
pub struct StateArgs {
    /// `memory` (this process alone), or a Redis URL (`redis://127.0.0.1:6379/0`) shared by a fleet
    #[arg(long, value_name = "memory|redis://..", default_value = "memory")]
    pub state: String,
    /// Put before every Redis key, so several fleets can share one Redis
    #[arg(long, default_value = "intent:")]
    pub state_prefix: String,
    /// The longest one call to Redis may take, in milliseconds, before the store counts as down
    #[arg(long, default_value_t = 200)]
    pub state_timeout_ms: u64,
    /// While Redis is down: `closed` throttles every decision that uses a limit or breaker;
    /// `local` enforces each limit's share (count / --replicas) in this process
    #[arg(long, value_enum, default_value_t = Fallback::Closed)]
    pub state_fallback: Fallback,
    /// How many replicas share the limits (for --state-fallback local)
    #[arg(long, default_value_t = 1)]
    pub replicas: u64,
}

/// Where the plan comes from when it comes from a bundle server.
#[derive(clap::Args, Clone, Debug)]
pub struct BundleArgs {
    /// Poll this URL (http://) for a signed plan bundle (`intent build --bundle`) and serve it
    #[arg(long, value_name = "URL", requires = "bundle_key", conflicts_with_all = ["plan", "paths"])]
    pub bundle_url: Option<String>,
    /// The public key (SPKI PEM) bundles must be signed with
    #[arg(long, value_name = "FILE", requires = "bundle_url")]
    pub bundle_key: Option<PathBuf>,
    /// Where to keep the last good bundle, served at start when the bundle server is down
    #[arg(long, value_name = "FILE", default_value = "intent-bundle.cache.json")]
    pub bundle_cache: PathBuf,
    /// How often to ask the bundle server for a new bundle, in milliseconds
    #[arg(long, default_value_t = 10_000)]
    pub bundle_poll_ms: u64,
    /// The longest one fetch of the bundle may take, in milliseconds
    #[arg(long, default_value_t = 5_000)]
    pub bundle_timeout_ms: u64,
    /// The largest bundle accepted, in bytes
    #[arg(long, default_value_t = intent_runtime::bundle::DEFAULT_MAX_BUNDLE)]
    pub bundle_max_bytes: usize,
}

impl BundleArgs {
    /// The bundle source, when `--bundle-url` is given.
    fn source(&self) -> Result<Option<PlanSource>, String> {
        let (Some(url), Some(key_file)) = (&self.bundle_url, &self.bundle_key) else {
            return Ok(None);
        };
        let pem = std::fs::read_to_string(key_file)
            .map_err(|e| format!("cannot read {}: {e}", key_file.display()))?;
        let key = intent_runtime::bundle::verifying_key(&pem)
            .map_err(|e| format!("--bundle-key {}: {e}", key_file.display()))?;
        let config = BundleConfig::new(
            url,
            key,
            self.bundle_cache.clone(),
            Duration::from_millis(self.bundle_poll_ms),
            Duration::from_millis(self.bundle_timeout_ms),
            self.bundle_max_bytes,
        )?;
        Ok(Some(PlanSource::Bundle(Box::new(config))))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Fallback {
    Closed,
    Local,
}

impl StateArgs {
    fn config(&self) -> Result<StateConfig, String> {
        if self.state == "memory" {
            if self.state_fallback == Fallback::Local {
                return Err("--state-fallback local needs --state redis://..".into());
            }
            return Ok(StateConfig::Memory);
        }
        if !["redis://", "rediss://", "unix://", "redis+unix://"]
            .iter()
            .any(|p| self.state.starts_with(p))
        {
            return Err(format!(
                "--state {}: expected `memory` or a Redis URL (redis://host:port/db)",
                self.state
            ));
        }
        if self.replicas == 0 {
            return Err("--replicas must be at least 1".into());
        }
        if self.state_timeout_ms == 0 {
            return Err("--state-timeout-ms must be at least 1".into());
        }
        Ok(StateConfig::Redis(RedisConfig {
            url: self.state.clone(),
            prefix: self.state_prefix.clone(),
            timeout: Duration::from_millis(self.state_timeout_ms),
            fallback_replicas: (self.state_fallback == Fallback::Local).then_some(self.replicas),
        }))
    }
}

/// `--classifier-fallback`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FallbackArg {
    /// The plan's built-in classifier
    Builtin,
    /// A `clarify` asking the caller to say it in other words
    Clarify,
}

impl From<FallbackArg> for server::Fallback {
    fn from(f: FallbackArg) -> server::Fallback {
        match f {
            FallbackArg::Builtin => server::Fallback::Builtin,
            FallbackArg::Clarify => server::Fallback::Clarify,
        }
    }
}

pub fn run(a: ServeArgs, mcp: Option<server::McpConfig>) -> Result<ExitCode, String> {
    let source = match (a.bundle.source()?, a.plan) {
        (Some(bundle), _) => bundle,
        (None, Some(p)) => PlanSource::Files {
            watch: vec![p.clone()],
            load: Box::new(move || read_plan(&p)),
        },
        (None, None) => {
            // Fail at start on a missing path, not at the first reload.
            sources::load_one(&a.paths)?;
            let paths = a.paths.clone();
            PlanSource::Files {
                watch: if paths.is_empty() {
                    vec![PathBuf::from(".")]
                } else {
                    paths.clone()
                },
                load: Box::new(move || compile_plan(&paths)),
            }
        }
    };
    let mut config = Config::new(a.addr);
    config.state = a.state.config()?;
    config.max_body = a.max_body;
    config.request_timeout = Duration::from_millis(a.timeout_ms);
    config.header_timeout = Duration::from_millis(a.timeout_ms);
    config.reload_every = Duration::from_millis(a.reload_ms);
    config.field_headers = FieldHeaders::named(&a.field_headers).ok_or_else(|| {
        format!(
            "--field-headers {}: merge, ignore or refuse",
            a.field_headers
        )
    })?;
    if a.max_connections == 0 {
        return Err("--max-connections must be at least 1".into());
    }
    config.max_connections = a.max_connections;
    config.strict = a.strict;
    config.admin = match (a.admin_token_file, a.admin_open) {
        (Some(file), _) => AdminAccess::Token(AdminToken::read(&file)?),
        (None, true) => AdminAccess::Open,
        (None, false) => AdminAccess::Closed,
    };
    config.classifier = a.classifier;
    config.trust = a.identity.config()?;
    config.tls = a.identity.tls();
    config.otlp = a.otlp;
    config.mcp = mcp;
    config.log = match a.log.as_deref() {
        None => LogTarget::None,
        Some("-") => LogTarget::Stdout,
        Some(path) => LogTarget::File(PathBuf::from(path)),
    };
    server::run(config, source)?;
    Ok(ExitCode::SUCCESS)
}

fn read_plan(path: &std::path::Path) -> Result<Plan, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a routing plan: {e}", path.display()))
}

fn compile_plan(paths: &[PathBuf]) -> Result<Plan, String> {
    let files = sources::load_one(paths)?;
    let c = compile(&files, Stage::Build);
    match c.plan {
        Some(plan) if !c.has_errors() => Ok(plan),
        _ => Err(format!(
            "the sources have errors:\n{}",
            intent_compiler::render::human(&c.diagnostics, &c.sources, false)
        )),
    }
}
