//! Command definitions (clap) and dispatch to one module per command.

mod build;
mod check;
mod explain;
mod sources;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "intent", version, about = "Policy-as-code for meshes of AI agents", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse, resolve, type-check and analyse .intent files; exit 1 on errors
    Check {
        /// Files or directories (searched for *.intent); default: the current directory
        paths: Vec<PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Check, then write the routing plan (JSON) with its Cedar policies validated by Cedar
    Build {
        paths: Vec<PathBuf>,
        /// Where to write the plan
        #[arg(short, long, default_value = "plan.json")]
        output: PathBuf,
        #[command(flatten)]
        format: OutputArgs,
    },
    /// Print the long explanation of a diagnostic code, e.g. `intent explain E0101`
    Explain {
        /// The code; without one, list every code
        code: Option<String>,
    },
}

#[derive(clap::Args, Clone, Copy)]
pub struct OutputArgs {
    /// How to print diagnostics
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Colour in human output
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Github,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

pub fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Check { paths, output } => check::run(&paths, output),
        Command::Build {
            paths,
            output,
            format,
        } => build::run(&paths, &output, format),
        Command::Explain { code } => Ok(explain::run(code.as_deref())),
    }
}
