//! `intent version` (and `intent --version`): the version and the commit the program was built
//! from. `build.rs` finds the commit with git when the sources are a git checkout, takes
//! `INTENT_COMMIT` when it is set (a source tarball has no `.git`), and says `unknown` otherwise.

use std::process::ExitCode;

/// `0.1.0 (commit 1a2b3c4d5e6f)`, for `--version`.
pub const LONG: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("INTENT_GIT_COMMIT"),
    ")"
);

pub fn run() -> ExitCode {
    println!("intent {LONG}");
    ExitCode::SUCCESS
}
