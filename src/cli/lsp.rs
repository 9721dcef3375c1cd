//! `intent lsp`: the language server on stdin/stdout (see the `intent-lsp` crate).

use std::process::ExitCode;

pub fn run() -> Result<ExitCode, String> {
    intent_lsp::run_stdio().map_err(|e| format!("cannot start the language server: {e}"))?;
    Ok(ExitCode::SUCCESS)
}
