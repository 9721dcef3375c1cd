//! `intent check`: compile each mesh without Cedar and report, for people (stderr) or as one
//! JSON array, GitHub annotations or one SARIF 2.1.0 log (stdout). Exit 1 on errors, and with
//! `--deny-warnings` on warnings too.

use super::{sources, Format, OutputArgs};
use intent_compiler::{compile, render, Stage};
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(paths: &[PathBuf], out: OutputArgs, deny_warnings: bool) -> Result<ExitCode, String> {
    let meshes = sources::load_meshes(paths)?;
    let results: Vec<_> = meshes.iter().map(|m| compile(m, Stage::Check)).collect();
    match out.format {
        Format::Json => {
            // One JSON array over all meshes.
            let all: Vec<serde_json::Value> = results
                .iter()
                .flat_map(|c| {
                    match serde_json::from_str::<serde_json::Value>(&render::json(
                        &c.diagnostics,
                        &c.sources,
                    )) {
                        Ok(serde_json::Value::Array(a)) => a,
                        _ => Vec::new(),
                    }
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&all).unwrap_or_default());
        }
        // One SARIF log with one run over all meshes.
        Format::Sarif => println!(
            "{}",
            render::sarif(
                results.iter().map(|c| (&c.diagnostics[..], &c.sources[..])),
                super::version::LONG
            )
        ),
        Format::Human | Format::Github => {
            for c in &results {
                sources::report(c, out);
            }
        }
    }
    if out.format == Format::Human {
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
    let failed = results.iter().any(|c| c.has_errors())
        || (deny_warnings && results.iter().any(|c| !c.diagnostics.is_empty()));
    if deny_warnings
        && out.format == Format::Human
        && !results.iter().any(|c| c.has_errors())
        && failed
    {
        eprintln!("error: warnings are denied (--deny-warnings)");
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
