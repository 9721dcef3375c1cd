//! `intent serve`: the HTTP sidecar (intent_runtime::server). Turns the arguments into a
//! server config and a plan source — a plan file read as JSON, or sources compiled at start
//! and again on every change — and runs until ctrl-c or SIGTERM.

use super::sources;
use intent_compiler::{compile, Stage};
use intent_runtime::plan::Plan;
use intent_runtime::server::{self, Config, LogTarget, PlanSource};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

pub struct ServeArgs {
    pub paths: Vec<PathBuf>,
    pub plan: Option<PathBuf>,
    pub addr: SocketAddr,
    pub log: Option<String>,
    pub max_body: usize,
    pub timeout_ms: u64,
    pub reload_ms: u64,
    pub classifier: Option<server::ExternalConfig>,
}

/// `--classifier-fallback`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
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

pub fn run(a: ServeArgs) -> Result<ExitCode, String> {
    let source = match a.plan {
        Some(p) => PlanSource {
            watch: vec![p.clone()],
            load: Box::new(move || read_plan(&p)),
        },
        None => {
            // Fail at start on a missing path, not at the first reload.
            sources::load_one(&a.paths)?;
            let paths = a.paths.clone();
            PlanSource {
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
    config.max_body = a.max_body;
    config.request_timeout = Duration::from_millis(a.timeout_ms);
    config.header_timeout = Duration::from_millis(a.timeout_ms);
    config.reload_every = Duration::from_millis(a.reload_ms);
    config.classifier = a.classifier;
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
