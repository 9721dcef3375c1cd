//! Command definitions (clap) and dispatch to one module per command.

mod build;
mod check;
mod classify;
mod completions;
mod diff;
mod eval;
mod explain;
mod fmt;
mod graph;
mod identity;
mod lsp;
mod plan_input;
mod replay;
mod serve;
mod sources;
mod story;
mod test;
mod test_report;
mod version;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "intent", version = version::LONG, about = "Policy-as-code for meshes of AI agents", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

impl Cli {
    /// True for the commands that serve (the sidecar, the language server): they keep running
    /// when a reader goes away, so a closed pipe must stay an error they handle, never a signal
    /// that ends them.
    pub fn serves(&self) -> bool {
        matches!(
            self.command,
            Command::Serve { .. } | Command::Mcp { .. } | Command::Lsp
        )
    }
}

#[derive(Subcommand)]
enum Command {
    /// Parse, resolve, type-check and analyse .intent files; exit 1 on errors
    Check {
        /// Files or directories (searched for *.intent); default: the current directory
        paths: Vec<PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
        /// Exit 1 on warnings too, not only on errors
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Check, then write the routing plan (JSON) with its Cedar policies validated by Cedar
    Build {
        /// Files or directories of one mesh (searched for *.intent); default: the current directory
        paths: Vec<PathBuf>,
        /// Where to write the plan
        #[arg(short, long, default_value = "plan.json")]
        output: PathBuf,
        /// Also write the Cedar schema, policies and entities into DIR (created if needed)
        #[arg(long, value_name = "DIR")]
        cedar_out: Option<PathBuf>,
        #[command(flatten)]
        bundle: build::BundleArgs,
        #[command(flatten)]
        format: OutputArgs,
    },
    /// Run the `test` blocks; print failures with the trace; end with `N passed, M failed`
    Test {
        /// Files or directories (searched for *.intent); default: the current directory
        paths: Vec<PathBuf>,
        /// Run only the tests whose name contains PATTERN
        #[arg(long, value_name = "PATTERN")]
        run: Option<String>,
        /// Also write the results as JUnit XML
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Report the route arms, policy rules and review arms no test exercised, and suggest
        /// a test for each route arm no test takes
        #[arg(long)]
        coverage: bool,
        /// How to print the results: for people, one JSON document, or people's text plus
        /// GitHub annotations for failed tests and diagnostics
        #[arg(long, value_enum, default_value_t = test::TestFormat::Human)]
        format: test::TestFormat,
        /// Colour in human output
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
    /// Decide one request: from a request file, or an intent/text plus context values
    Eval {
        /// Sources to compile (ignored with --plan)
        paths: Vec<PathBuf>,
        /// A plan written by `intent build`
        #[arg(long)]
        plan: Option<PathBuf>,
        /// A request as JSON, from FILE or `-` for standard input: {"intent": .., "confidence":
        /// .., "text": .., "caller": .., <context fields>}
        #[arg(long, value_name = "FILE|-")]
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
        /// Also append the decision to this decision log (one JSON record per line)
        #[arg(long, value_name = "FILE")]
        log: Option<PathBuf>,
        /// Refuse a request with context fields the plan does not declare (an error naming
        /// each, non-zero exit) instead of warning and deciding it
        #[arg(long)]
        strict: bool,
        /// Exit 1 when the outcome is one of these (comma-separated), e.g. `deny,escalate`
        #[arg(long, value_enum, value_delimiter = ',', value_name = "OUTCOME,...")]
        fail_on: Vec<eval::OutcomeArg>,
    },
    /// What the built-in classifier makes of texts, and with --report how well it does on the
    /// mesh's own examples (leave-one-out accuracy, confusions, reliability, route shares)
    Classify {
        /// The mesh: a directory, an .intent file or a plan (.json); default: the current directory
        paths: Vec<PathBuf>,
        /// A text to classify (repeatable): every intent's probability and "none of these"
        #[arg(long)]
        text: Vec<String>,
        /// Leave-one-out accuracy per intent, confused pairs, a reliability table, and the
        /// share of the mesh's example texts each route arm would take
        #[arg(long)]
        report: bool,
    },
    /// Per intent, the regions of the request space whose decision changes between two plans
    Diff {
        /// The plan before: a plan JSON from `intent build`, a directory or an .intent file
        old: PathBuf,
        /// The plan after, in the same forms
        new: PathBuf,
        /// How to print the report
        #[arg(long, value_enum, default_value_t = diff::ReportFormat::Human)]
        format: diff::ReportFormat,
        /// Exit 1 when any decision changes or an intent is added or removed (for CI gates)
        #[arg(long)]
        fail_on_change: bool,
        /// Decide at most this many cells per intent; a larger space is sampled
        #[arg(long, default_value_t = 100_000)]
        max_cells: u64,
    },
    /// Decide the requests of a decision log again on a new plan; report what changes
    Replay {
        /// The decision log: one JSON record per line (`intent eval --log` writes them)
        log: PathBuf,
        /// The new plan: a plan JSON from `intent build`, a directory or an .intent file
        #[arg(long)]
        plan: PathBuf,
        /// How to print the report
        #[arg(long, value_enum, default_value_t = diff::ReportFormat::Human)]
        format: diff::ReportFormat,
        /// Exit 1 when any recorded decision changes
        #[arg(long)]
        fail_on_change: bool,
    },
    /// Rewrite .intent files in the canonical layout; --check lists the files it would change
    Fmt {
        /// Files or directories (searched for *.intent); default: the current directory
        paths: Vec<PathBuf>,
        /// Change nothing: list the files that are not formatted and exit 1 if there are any
        #[arg(long)]
        check: bool,
        /// Change nothing: print what formatting would change as a unified diff, and exit 1 if
        /// it would change anything
        #[arg(long, conflicts_with = "check")]
        diff: bool,
        /// Format standard input to standard output (for editors)
        #[arg(long, conflicts_with = "paths")]
        stdin: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Serve decisions over HTTP (the sidecar): /v1/decide, /v1/authz for Envoy and nginx, /metrics
    Serve {
        #[command(flatten)]
        args: Box<serve::ServeCli>,
    },
    /// Put the mesh in front of MCP tool calls: a Streamable HTTP MCP endpoint at /mcp whose
    /// tools are the intents bound to tools, forwarded to the MCP servers the plan names, plus
    /// the sidecar's endpoints and the approvals API (docs/mcp.md)
    Mcp {
        #[command(flatten)]
        args: Box<serve::ServeCli>,
        #[command(flatten)]
        mcp: serve::McpArgs,
    },
    /// Manage the keys delegation tokens are signed with (docs/identity.md)
    Keys {
        /// `generate`: write a new Ed25519 key pair, DIR/NAME.key.pem (private) and
        /// DIR/NAME.pub.pem, never over an existing file
        #[arg(value_enum)]
        action: KeysAction,
        /// The directory to write to
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
        /// The files' name
        #[arg(long, default_value = "delegation")]
        name: String,
    },
    /// Print the long explanation of a diagnostic code, e.g. `intent explain E0101`
    Explain {
        /// The code; without one, list every code
        code: Option<String>,
    },
    /// Draw the mesh: agents, capabilities, backups and fallbacks, routes and delegations
    Graph {
        /// Sources to compile (ignored with --plan); default: the current directory
        paths: Vec<PathBuf>,
        /// A plan written by `intent build`
        #[arg(long)]
        plan: Option<PathBuf>,
        /// Graphviz DOT (render with `dot -Tsvg`) or a Mermaid flowchart
        #[arg(long, value_enum, default_value_t = graph::GraphFormat::Dot)]
        format: graph::GraphFormat,
    },
    /// Print a completion script for SHELL (e.g. `intent completions bash > /etc/bash_completion.d/intent`)
    Completions {
        /// The shell to complete in
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the version and the commit it was built from
    Version,
    /// Start the language server on stdin/stdout (for editors)
    Lsp,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum KeysAction {
    Generate,
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
    /// SARIF 2.1.0, for code-scanning tools
    Sarif,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

pub fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Check {
            paths,
            output,
            deny_warnings,
        } => check::run(&paths, output, deny_warnings),
        Command::Build {
            paths,
            output,
            cedar_out,
            bundle,
            format,
        } => build::run(&paths, &output, cedar_out.as_deref(), &bundle, format),
        Command::Test {
            paths,
            run,
            junit,
            coverage,
            format,
            color,
        } => test::run(test::TestArgs {
            paths: &paths,
            run: run.as_deref(),
            junit: junit.as_deref(),
            coverage,
            format,
            color,
        }),
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
            log,
            strict,
            fail_on,
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
            log: log.as_deref(),
            strict,
            fail_on: &fail_on,
        }),
        Command::Fmt {
            paths,
            check,
            diff,
            stdin,
            output,
        } => {
            let mode = fmt::Mode::new(check, diff);
            if stdin {
                fmt::run_stdin(mode, output)
            } else {
                fmt::run(&paths, mode, output)
            }
        }
        Command::Serve { args } => serve::run(args.into_args(), None),
        Command::Mcp { args, mcp } => serve::run(args.into_args(), Some(mcp.config())),
        Command::Classify {
            paths,
            text,
            report,
        } => classify::run(&paths, &text, report),
        Command::Keys {
            action: KeysAction::Generate,
            out,
            name,
        } => identity::generate(&out, &name),
        Command::Diff {
            old,
            new,
            format,
            fail_on_change,
            max_cells,
        } => diff::run(&old, &new, format, fail_on_change, max_cells),
        Command::Replay {
            log,
            plan,
            format,
            fail_on_change,
        } => replay::run(&log, &plan, format, fail_on_change),
        Command::Explain { code } => Ok(explain::run(code.as_deref())),
        Command::Graph {
            paths,
            plan,
            format,
        } => graph::run(&paths, plan.as_deref(), format),
        Command::Completions { shell } => completions::run(shell),
        Command::Version => Ok(version::run()),
        Command::Lsp => lsp::run(),
    }
}
