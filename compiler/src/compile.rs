//! The compiler's front door: sources in, diagnostics, a routing plan (with its Cedar part
//! validated by cedar-policy and its hash) and the test cases out. No IO happens here.

use crate::codes::Code;
use crate::db::{self, Database, SourceFile, SourceSet};
use crate::diagnostics::{self, Diagnostic};
use crate::{cedar, mesh};
/// The plan's hash: one definition, the runtime's, so a runtime loading a plan computes the
/// same hash the compiler wrote.
pub use intent_runtime::plan::plan_hash;
use intent_runtime::plan::Plan;
use std::sync::Arc;

/// A source file handed in by the caller.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: String,
    pub text: String,
    /// Byte offset of the first invalid UTF-8 sequence, when the file was not UTF-8 (the text
    /// is then a lossy copy, kept only to show where the problem is; it is not compiled).
    pub invalid_utf8_at: Option<usize>,
}

impl Source {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Source {
        Source {
            path: path.into(),
            text: text.into(),
            invalid_utf8_at: None,
        }
    }

    /// A source from raw bytes: text when it is UTF-8, else a lossy copy and the error offset.
    pub fn from_bytes(path: impl Into<String>, bytes: Vec<u8>) -> Source {
        match String::from_utf8(bytes) {
            Ok(text) => Source::new(path, text),
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                Source {
                    path: path.into(),
                    text,
                    invalid_utf8_at: Some(at),
                }
            }
        }
    }
}

/// The result of compiling a set of sources.
pub struct Compilation {
    pub diagnostics: Vec<Diagnostic>,
    /// Present when there were no errors.
    pub plan: Option<Plan>,
    pub tests: Vec<crate::check::TestCase>,
    /// Every file the diagnostics may point into (the standard library included).
    pub sources: Vec<Source>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// How far to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Parse, resolve, type-check, analyse (`intent check`): no Cedar, and the plan (for
    /// `intent test`) is left without its hash.
    Check,
    /// Also generate the Cedar part, validate it with Cedar, and hash the plan (`intent build`).
    Build,
}

/// Compiles the sources, one mesh, together with the standard modules they do not replace
/// ([`crate::mesh`]).
pub fn compile(sources: &[Source], stage: Stage) -> Compilation {
    let db = Database::default();
    // A user file that is a copy of a standard module (checking `stdlib/` itself) replaces it.
    let mut all: Vec<Source> = mesh::kept_std(sources.iter().map(|s| s.path.as_str()))
        .into_iter()
        .map(|(p, t)| Source::new(p, t))
        .collect();
    let std_copies: Vec<bool> = sources
        .iter()
        .map(|s| mesh::std_copy_of(&s.path).is_some())
        .collect();
    let first_user = all.len();
    all.extend(sources.iter().cloned());
    let mut diagnostics = Vec::new();
    let files: Vec<SourceFile> = all
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let is_std = i < first_user || std_copies.get(i - first_user).copied().unwrap_or(false);
            let text = match s.invalid_utf8_at {
                Some(at) => {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::BAD_CHAR,
                            &s.path,
                            crate::syntax::ast::Span::new(at, at),
                            "this file is not valid UTF-8",
                        )
                        .with_label("invalid byte sequence starts here")
                        .with_help("save the file as UTF-8; .intent files are UTF-8 text"),
                    );
                    String::new()
                }
                None => s.text.clone(),
            };
            SourceFile::new(&db, s.path.clone(), text, is_std)
        })
        .collect();
    let set = SourceSet::checked_once(&db, files);
    let analysis = db::analyze(&db, set);
    // A file that is not UTF-8 is read as empty: it already has its diagnostic, and the mesh
    // "declaring nothing" would be the same mistake said twice.
    let unreadable = !diagnostics.is_empty();
    diagnostics.extend(
        analysis
            .diagnostics
            .iter()
            .filter(|d| !(unreadable && d.code == Code::EMPTY_MESH))
            .cloned(),
    );
    let tests = analysis.tests.clone();
    // The plan is shared with the database, which goes now: then it is ours, not a copy.
    let shared = analysis.plan.clone();
    drop(db);
    let mut plan = shared.map(|p| Arc::try_unwrap(p).unwrap_or_else(|p| (*p).clone()));
    if let (Stage::Build, Some(p)) = (stage, plan.as_mut()) {
        let part = cedar::generate(p);
        let problems = cedar::validate(p, &part);
        for problem in &problems {
            let (file, span) = locate(p, problem.src, &all);
            diagnostics.push(
                Diagnostic::new(
                    Code::CEDAR_INVALID,
                    &file,
                    span,
                    format!(
                        "Cedar rejected the policy generated here: {}",
                        problem.message
                    ),
                )
                .with_label("generated from this rule")
                .with_help("this is a compiler bug: please report it with this file"),
            );
        }
        p.cedar = part;
        p.plan_hash = plan_hash(p);
        if !problems.is_empty() || diagnostics.iter().any(Diagnostic::is_error) {
            plan = None;
        }
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        plan = None;
    }
    diagnostics::sort(&mut diagnostics);
    Compilation {
        diagnostics,
        plan,
        tests,
        sources: all,
    }
}

/// The file and span of a plan source location, for mapping Cedar problems back.
fn locate(plan: &Plan, src: Option<u32>, sources: &[Source]) -> (String, crate::syntax::ast::Span) {
    let Some(loc) = src.and_then(|s| plan.source(s)) else {
        return ("<generated>".into(), Default::default());
    };
    let Some(source) = sources.iter().find(|s| *s.path == *loc.file) else {
        return (loc.file.to_string(), Default::default());
    };
    let offset = crate::lines::Lines::new(&source.text).offset(
        &source.text,
        loc.line as usize,
        loc.col as usize,
    );
    (
        loc.file.to_string(),
        crate::syntax::ast::Span::new(offset, offset + 1),
    )
}
