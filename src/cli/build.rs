//! `intent build`: compile, validate the generated Cedar with Cedar, write the plan; with
//! `--cedar-out DIR`, also the Cedar schema, policies and entities as the files the `cedar` CLI
//! and cedar-policy take (`schema.cedarschema`, `policies.cedar`, `entities.json`).

use super::{sources, OutputArgs};
use intent_compiler::{compile, Stage};
use intent_runtime::plan::CedarPart;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(
    paths: &[PathBuf],
    output: &Path,
    cedar_out: Option<&Path>,
    out: OutputArgs,
) -> Result<ExitCode, String> {
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
    if let Some(dir) = cedar_out {
        write_cedar(dir, &plan.cedar)?;
        eprintln!("wrote {}/{{{SCHEMA},{POLICIES},{ENTITIES}}}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The file names inside `--cedar-out DIR`.
pub const SCHEMA: &str = "schema.cedarschema";
pub const POLICIES: &str = "policies.cedar";
pub const ENTITIES: &str = "entities.json";

/// Writes the plan's Cedar part as three files in `dir` (created if needed).
fn write_cedar(dir: &Path, cedar: &CedarPart) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let entities = serde_json::to_string_pretty(&cedar.entities)
        .map_err(|e| format!("cannot serialise the entities: {e}"))?;
    for (name, text) in [
        (SCHEMA, cedar.schema.clone()),
        (POLICIES, cedar.policies.clone()),
        (ENTITIES, entities + "\n"),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}
