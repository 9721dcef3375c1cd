//! The `intent` command-line program: parses arguments and calls the crates. It owns the
//! filesystem (reading sources, writing plans); everything else happens in `intent-compiler`.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
