//! `intent check`: compile without Cedar and report.

use super::{sources, OutputArgs};
use intent_compiler::{compile, Stage};
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(paths: &[PathBuf], out: OutputArgs) -> Result<ExitCode, String> {
    let files = sources::load(paths)?;
    let c = compile(&files, Stage::Check);
    sources::report(&c, out);
    if out.format == super::Format::Human {
        let n = sources::user_files(&c);
        eprintln!(
            "checked {n} file{}: {}",
            if n == 1 { "" } else { "s" },
            sources::summary(&c)
        );
    }
    Ok(if c.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
