//! The plan a command compares or replays against: a plan file written by `intent build`
//! (a `.json` file), or the mesh of a directory or `.intent` file, compiled here.

use super::sources;
use intent_compiler::{compile, Stage};
use intent_runtime::plan::Plan;
use std::path::{Path, PathBuf};

/// Reads or compiles the plan `path` names. Source errors are printed (to stderr) and make an
/// error: a plan with errors is never compared.
pub fn load(path: &Path) -> Result<Plan, String> {
    if path.is_file() && path.extension().is_some_and(|x| x == "json") {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        return serde_json::from_str(&text).map_err(|e| {
            format!(
                "{} is not a routing plan: {e}\nhelp: pass a plan written by `intent build`, a directory or `.intent` files",
                path.display()
            )
        });
    }
    if path.is_file() && path.extension().is_none_or(|x| x != "intent") {
        return Err(format!(
            "{} is neither a plan (.json) nor a source (.intent)\nhelp: pass a plan written by `intent build`, a directory or `.intent` files",
            path.display()
        ));
    }
    compile_sources(
        &[path.to_path_buf()],
        &format!("the sources in {}", path.display()),
    )
}

/// Compiles the one mesh `paths` name (the current directory when none), which the error
/// calls `what`. Source errors are printed (to stderr) and make an error.
pub fn compile_sources(paths: &[PathBuf], what: &str) -> Result<Plan, String> {
    let files = sources::load_one(paths)?;
    let c = compile(&files, Stage::Check);
    let Some(mut plan) = c
        .plan
        .filter(|_| !c.diagnostics.iter().any(|d| d.is_error()))
    else {
        eprint!(
            "{}",
            intent_compiler::render::human(&c.diagnostics, &c.sources, false)
        );
        return Err(format!("{what} have errors; fix them first"));
    };
    plan.plan_hash = intent_compiler::compile::plan_hash(&plan);
    Ok(plan)
}

/// The first 12 characters of a plan hash.
pub fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}
