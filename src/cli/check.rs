//! `intent check`: compile each mesh without Cedar and report.

use super::{sources, OutputArgs};
use intent_compiler::{compile, Stage};
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(paths: &[PathBuf], out: OutputArgs) -> Result<ExitCode, String> {
    let meshes = sources::load_meshes(paths)?;
    let results: Vec<_> = meshes.iter().map(|m| compile(m, Stage::Check)).collect();
    if out.format == super::Format::Json {
        // One JSON array over all meshes.
        let all: Vec<serde_json::Value> = results
            .iter()
            .flat_map(|c| {
                match serde_json::from_str::<serde_json::Value>(&intent_compiler::render::json(
                    &c.diagnostics,
                    &c.sources,
                )) {
                    Ok(serde_json::Value::Array(a)) => a,
                    _ => Vec::new(),
                }
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&all).unwrap_or_default());
    } else {
        for c in &results {
            sources::report(c, out);
        }
    }
    if out.format == super::Format::Human {
        let files: usize = results.iter().map(sources::user_files).sum();
        let meshes = if results.len() > 1 {
            format!(" in {} meshes", results.len())
        } else {
            String::new()
        };
        eprintln!(
            "checked {}{meshes}: {}",
            sources::plural(files, "file"),
            sources::summary(&results)
        );
    }
    Ok(if results.iter().any(|c| c.has_errors()) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
