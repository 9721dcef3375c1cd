//! `intent build`: compile, validate the generated Cedar with Cedar, write the plan; with
//! `--cedar-out DIR`, also the Cedar schema, policies and entities as the files the `cedar` CLI
//! and cedar-policy take (`schema.cedarschema`, `policies.cedar`, `entities.json`); with
//! `--bundle`, also a signed plan bundle (`intent_runtime::bundle`, docs/deployment.md) that
//! `intent serve --bundle-url` verifies before it serves it.

use super::{sources, OutputArgs};
use intent_compiler::{compile, Stage};
use intent_runtime::bundle;
use intent_runtime::plan::CedarPart;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The signed bundle to write beside the plan.
#[derive(clap::Args, Clone, Debug)]
pub struct BundleArgs {
    /// Also write a signed plan bundle (the plan, an Ed25519 signature and a key id) to FILE
    #[arg(long, value_name = "FILE", requires = "bundle_key")]
    pub bundle: Option<PathBuf>,
    /// The Ed25519 private key (PKCS#8 PEM, as `openssl genpkey -algorithm ed25519` writes) to sign with
    #[arg(long, value_name = "FILE", requires = "bundle")]
    pub bundle_key: Option<PathBuf>,
    /// The key id the bundle names (default: `ed25519:` and 16 hex digits of the public key's SHA-256)
    #[arg(long, value_name = "ID", requires = "bundle")]
    pub bundle_key_id: Option<String>,
}

pub fn run(
    paths: &[PathBuf],
    output: &Path,
    cedar_out: Option<&Path>,
    bundle: &BundleArgs,
    out: OutputArgs,
) -> Result<ExitCode, String> {
    // A key that cannot be read fails before anything is compiled or written.
    let key = match &bundle.bundle_key {
        Some(file) => {
            let pem = std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            Some(
                bundle::signing_key(&pem)
                    .map_err(|e| format!("--bundle-key {}: {e}", file.display()))?,
            )
        }
        None => None,
    };
    let files = sources::load_one(paths)?;
    let c = compile(&files, Stage::Build);
    sources::report(&c, out);
    let Some(plan) = c.plan.as_ref().filter(|_| !c.has_errors()) else {
        eprintln!("no plan written: {}", sources::summary([&c]));
        return Ok(ExitCode::FAILURE);
    };
    let json = serde_json::to_string_pretty(plan)
        .map_err(|e| format!("cannot serialise the plan: {e}"))?
        + "\n";
    std::fs::write(output, &json).map_err(|e| format!("cannot write {}: {e}", output.display()))?;
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
    if let (Some(path), Some(key)) = (&bundle.bundle, key) {
        let id = bundle
            .bundle_key_id
            .clone()
            .unwrap_or_else(|| bundle::key_id(&key.verifying_key()));
        let signed = bundle::sign(json.as_bytes(), &plan.plan_hash, &key, &id);
        std::fs::write(path, signed)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("wrote {} (signed by key {id})", path.display());
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
