//! The `intent` program: parses arguments and calls the crates. It owns the filesystem
//! (reading sources, writing plans); everything else happens in `intent-compiler`.
//!
//! A closed pipe (`intent explain | head -1`) ends a command quietly, as it ends `cat`: SIGPIPE
//! is given back its default action for every command but the two that serve (`serve`, `lsp`),
//! which handle a write that fails like any other error.

mod cli;

use clap::Parser;
use std::process::ExitCode;

/// jemalloc rather than the system's malloc: see `tikv-jemallocator` in Cargo.toml.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    if !args.serves() {
        sigpipe::reset();
    }
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
