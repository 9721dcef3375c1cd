//! The incremental database: source files are salsa inputs, and parsing and checking are
//! tracked queries over them, so the CLI and the language server share one pipeline and an
//! edit re-runs only what depends on it.
//!
//! `parse_file` is per file and backdates: an edit that leaves a file's tree unchanged (a
//! comment, whitespace) does not re-run the check. `analyze` covers the whole source set; it
//! is `no_eq` because a plan holds floating-point numbers.

use crate::check::{self, Memo, TestCase};
use crate::diagnostics::{self, Diagnostic};
use crate::hir::{self, FileInput};
use crate::lines::Lines;
use crate::syntax::{self, Parsed};
use intent_runtime::classifier::{self, Builtin, Fitted};
use intent_runtime::plan::Plan;
use std::sync::{Arc, Mutex};

/// One source file: its path (as shown in diagnostics) and its text.
#[salsa::input]
pub struct SourceFile {
    #[returns(ref)]
    pub path: String,
    #[returns(ref)]
    pub text: String,
    /// Part of the standard library shipped in the binary.
    pub is_std: bool,
}

/// The files of one compilation.
#[salsa::input]
pub struct SourceSet {
    #[returns(ref)]
    pub files: Vec<SourceFile>,
    /// What the last check of these files found per route and, in the decision-space
    /// analysis, per intent (`check::Memo`): a cache of a pure function, so `analyze` stays
    /// one.
    #[returns(ref)]
    pub memo: Shared<Mutex<Memo>>,
}

impl SourceSet {
    /// A new set of files, with an empty analysis memo.
    pub fn with_files(db: &dyn salsa::Database, files: Vec<SourceFile>) -> SourceSet {
        SourceSet::new(db, files, Shared(Arc::new(Mutex::new(Memo::default()))))
    }

    /// A set of files checked once (`intent check`): its analysis keeps nothing for later.
    pub fn checked_once(db: &dyn salsa::Database, files: Vec<SourceFile>) -> SourceSet {
        SourceSet::new(db, files, Shared(Arc::new(Mutex::new(Memo::once()))))
    }
}

#[salsa::db]
#[derive(Default, Clone)]
pub struct Database {
    storage: salsa::Storage<Self>,
}

#[salsa::db]
impl salsa::Database for Database {}

impl Database {
    /// A database that reports every salsa event to `callback`: tests watch which queries
    /// re-run after an edit (`salsa::EventKind::WillExecute`).
    pub fn with_events(callback: impl Fn(salsa::Event) + Send + Sync + 'static) -> Database {
        Database {
            storage: salsa::Storage::new(Some(Box::new(callback))),
        }
    }
}

/// The tree and syntax diagnostics of one file.
#[salsa::tracked(returns(ref))]
pub fn parse_file(db: &dyn salsa::Database, file: SourceFile) -> Parsed {
    syntax::parse(file.text(db))
}

/// The lines of one file (for the plan's source map): worked out again only when it changes.
#[salsa::tracked(returns(ref))]
pub fn lines_of(db: &dyn salsa::Database, file: SourceFile) -> Lines {
    Lines::new(file.text(db))
}

/// A file of a source set, with its tree, as the package model (`hir::collect`) reads it: the
/// checker (`analyze`) and the editor's index (`ide/index.rs`) build the model alike.
pub fn file_input<'db>(
    db: &'db dyn salsa::Database,
    file: SourceFile,
    tree: &'db crate::syntax::ast::SourceTree,
) -> FileInput<'db> {
    FileInput {
        path: file.path(db),
        text: file.text(db),
        tree,
        is_std: *file.is_std(db),
        lines: lines_of(db, file),
    }
}

/// Everything the checker found, the plan when there were no errors, and the tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub diagnostics: Vec<Diagnostic>,
    /// Shared, so that `compile` takes it out of the database without copying it.
    pub plan: Option<Arc<Plan>>,
    pub tests: Vec<TestCase>,
}

/// Resolves, type-checks and lowers the whole source set.
#[salsa::tracked(returns(ref), no_eq)]
pub fn analyze(db: &dyn salsa::Database, set: SourceSet) -> Analysis {
    let mut diags = Vec::new();
    let files = set.files(db);
    let parsed: Vec<&Parsed> = files.iter().map(|f| parse_file(db, *f)).collect();
    for (f, p) in files.iter().zip(&parsed) {
        let path = f.path(db);
        diags.extend(p.problems.iter().map(|s| {
            Diagnostic::new(s.code, path, s.span, s.message.clone())
                .with_label(label_for(s.code))
                .with_help(s.help.clone())
        }));
    }
    let inputs = files
        .iter()
        .zip(&parsed)
        .map(|(f, p)| file_input(db, *f, &p.tree))
        .collect();
    if let Some(d) = declares_nothing(db, files, &parsed) {
        diags.push(d);
    }
    let ws = hir::collect(inputs, &mut diags);
    let fit_of = |intents: &[intent_runtime::plan::Intent]| {
        let evidence: Vec<(Option<String>, Vec<String>)> = classifier::evidence(intents)
            .map(|(d, e)| (d.map(str::to_string), e.to_vec()))
            .collect();
        Arc::clone(&fit(db, Evidence::new(db, evidence)).0)
    };
    let shared = set.memo(db);
    let mut memo = shared.0.lock().unwrap_or_else(|poisoned| {
        // A check that panicked may have left the memo half-updated: start it again.
        shared.0.clear_poison();
        let mut memo = poisoned.into_inner();
        *memo = Memo::default();
        memo
    });
    let checked = check::check(&ws, &mut diags, &fit_of, &mut memo);
    let plan = checked.plan.map(Arc::new);
    if let Some(p) = &plan {
        memo.analysis.keep_plan(p);
    }
    drop(memo);
    // A declaration that did not parse, or a name that did not resolve, may be what was
    // meant to use the others: "unused" and "never provided" would then be noise.
    let broken = parsed.iter().any(|p| {
        p.tree
            .items
            .iter()
            .any(|i| matches!(i.kind, syntax::ast::ItemKind::Error(_)))
    }) || diags
        .iter()
        .any(|d| d.code.as_str().starts_with("E01") || d.code == crate::codes::Code::BAD_CHAR);
    if broken {
        diags.retain(|d| {
            !matches!(
                d.code,
                crate::codes::Code::UNUSED | crate::codes::Code::CAPABILITY_NOT_PROVIDED
            )
        });
    }
    diagnostics::sort(&mut diags);
    Analysis {
        diagnostics: diags,
        plan,
        tests: checked.tests,
    }
}

/// What the built-in classifier reads of a mesh: each intent's description and examples, in
/// plan order (`classifier::evidence`).
#[salsa::interned]
pub struct Evidence<'db> {
    #[returns(ref)]
    pub intents: Vec<(Option<String>, Vec<String>)>,
}

/// The classifier's fit of a mesh's evidence (`Builtin::fit_held`), shared: every example
/// scored without itself, the most expensive part of a check. An edit that changes no
/// description or example (a route, an agent, a policy, a test) interns the same evidence,
/// so the check re-runs without fitting again. At most 8 fits are kept (`lru`: an
/// editor's meshes, and the last texts of an example being typed); the others are dropped at
/// the next edit.
#[salsa::tracked(returns(ref), no_eq, lru = 8)]
pub fn fit<'db>(db: &'db dyn salsa::Database, evidence: Evidence<'db>) -> Shared<Fitted> {
    Shared(Arc::new(Builtin::fit_held(
        evidence
            .intents(db)
            .iter()
            .map(|(d, e)| (d.as_deref(), e.as_slice())),
    )))
}

/// A query's result held behind an `Arc` and compared by identity: salsa needs equality of
/// what a query returns, and a fit (floating point, an index) has no useful one.
#[derive(Clone)]
pub struct Shared<T>(pub Arc<T>);

impl<T> PartialEq for Shared<T> {
    fn eq(&self, other: &Shared<T>) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl<T> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared(..)")
    }
}

/// W0006 when the user's files, read without a problem, declare nothing at all: a mesh that
/// parses to nothing (once, a file with `\r` line ends was one long comment) must never pass
/// as an empty plan in silence.
fn declares_nothing(
    db: &dyn salsa::Database,
    files: &[SourceFile],
    parsed: &[&Parsed],
) -> Option<Diagnostic> {
    let user: Vec<(&SourceFile, &&Parsed)> = files
        .iter()
        .zip(parsed)
        .filter(|(f, _)| !*f.is_std(db))
        .collect();
    let (first, _) = user.first()?;
    let empty = user
        .iter()
        .all(|(_, p)| p.tree.items.is_empty() && p.problems.is_empty());
    empty.then(|| {
        let (what, help) = if user.len() == 1 {
            ("this file declares nothing", "a mesh needs declarations: capabilities, agents, intents and their routes; if the file looks full, check its encoding and line ends")
        } else {
            ("the files of this mesh declare nothing", "a mesh needs declarations: capabilities, agents, intents and their routes; if the files look full, check their encoding and line ends")
        };
        Diagnostic::new(
            crate::codes::Code::EMPTY_MESH,
            first.path(db),
            crate::syntax::ast::Span::new(0, 0),
            what,
        )
        .with_label("nothing declared")
        .with_help(help)
    })
}

fn label_for(code: crate::codes::Code) -> &'static str {
    use crate::codes::Code;
    match code {
        Code::UNTERMINATED_STRING => "string starts here",
        Code::UNTERMINATED_COMMENT => "comment starts here",
        Code::RESERVED_NAME => "reserved word",
        Code::TOO_DEEP => "too deep",
        Code::HIDDEN_CHAR => "hidden character",
        Code::TRAILING_COMMA => "remove this comma",
        Code::FOREIGN_KEYWORD => "not a keyword",
        Code::BAD_DURATION => "not a duration",
        Code::SYMBOL_OPERATOR => "not an operator",
        _ => "here",
    }
}
