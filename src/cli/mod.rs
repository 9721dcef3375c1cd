//! Command definitions (clap) and dispatch to one module per command.

mod build;
mod check;
mod eval;
mod explain;
mod sources;
mod test;

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
    /// Run the `test` blocks; print failures with the trace; end with `N passed, M failed`
    Test {
        paths: Vec<PathBuf>,
        /// Also write the results as JUnit XML
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Report the route arms, policy rules and review arms no test exercised, and suggest
        /// a test for each route arm no test takes
        #[arg(long)]
        coverage: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Decide one request: from a request file, or an intent/text plus context values
    Eval {
        /// Sources to compile (ignored with --plan)
        paths: Vec<PathBuf>,
        /// A plan written by `intent build`
        #[arg(long)]
        plan: Option<PathBuf>,
        /// A request as JSON: {"intent": .., "confidence": .., "text": .., "caller": .., <context fields>}
        #[arg(long)]
        request: Option<PathBuf>,
        /// Free text for the built-in classifier
        #[arg(long)]
        text: Option<String>,
        /// The intent, when known
        #[arg(long)]
        intent: Option<String>,
        /// The confidence that goes with --intent
        #[arg(long)]
        confidence: Option<f64>,
        /// A context value, `key=value`; dotted keys for nested fields (subject.residency=EU)
        #[arg(long = "context", value_name = "KEY=VALUE")]
        context: Vec<String>,
        /// Print the decision as JSON
        #[arg(long)]
        json: bool,
        /// Print the whole trace
        #[arg(long)]
        explain: bool,
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
        Command::Test {
            paths,
            junit,
            coverage,
            output,
        } => test::run(&paths, junit.as_deref(), coverage, output),
        Command::Eval {
            paths,
            plan,
            request,
            text,
            intent,
            confidence,
            context,
            json,
            explain,
        } => eval::run(eval::EvalArgs {
            plan: plan.as_deref(),
            paths: &paths,
            request: request.as_deref(),
            text: text.as_deref(),
            intent: intent.as_deref(),
            confidence,
            context: &context,
            json,
            explain,
        }),
        Command::Explain { code } => Ok(explain::run(code.as_deref())),
    }
}
