//! `intent build`: compile, validate the generated Cedar with Cedar, write the plan.

use super::{sources, OutputArgs};
use intent_compiler::{compile, Stage};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(paths: &[PathBuf], output: &Path, out: OutputArgs) -> Result<ExitCode, String> {
    let files = sources::load_one(paths)?;
    let c = compile(&files, Stage::Build);
    sources::report(&c, out);
    let Some(plan) = c.plan.as_ref().filter(|_| !c.has_errors()) else {
        eprintln!("no plan written: {}", sources::summary([&c]));
        return Ok(ExitCode::FAILURE);
    };
    let json = serde_json::to_string_pretty(plan)
        .map_err(|e| format!("cannot serialise the plan: {e}"))?;
    std::fs::write(output, json + "\n")
        .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    eprintln!(
        "wrote {} ({} agents, {} intents, {} rules; Cedar validated) plan_hash {}",
        output.display(),
        plan.agents.len(),
        plan.intents.len(),
        plan.rules.len(),
        plan.plan_hash
    );
    Ok(ExitCode::SUCCESS)
}
