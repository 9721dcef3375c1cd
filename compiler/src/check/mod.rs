//! Checking and lowering: every check of `intent check` that needs no deep analysis, done in
//! the same pass that builds the routing plan, so that what is checked is exactly what runs.
//!
//! The pass walks declarations in a canonical order (sorted by name), so the plan it builds
//! does not depend on declaration order or file names; the plan is kept only when no error
//! was found.

mod caller;
mod classifier;
mod compare;
mod expr;
mod graph;
mod items;
mod reuse;
mod routes;
mod rules;
mod scene;
mod schema;
mod steps;
mod tables;
mod test_blocks;
mod tools;
mod usage;

pub use scene::{SceneEvent, MAX_SCENE_COUNT};
pub(crate) use test_blocks::REQUEST_KEYS;
pub use test_blocks::{Expectation, ExpectationKind, TestCase};

use crate::analysis;
use crate::diagnostics::Diagnostic;
use crate::hir::Workspace;
use crate::lines::Lines;
use crate::syntax::ast::Span;
use intent_runtime::classifier::Fitted;
use intent_runtime::plan::{self, SourceLoc, SrcId};
use std::sync::Arc;
use tables::Tables;

/// What checking a workspace yields.
pub struct Checked {
    pub plan: Option<plan::Plan>,
    pub tests: Vec<TestCase>,
}

pub(crate) struct Checker<'w, 'a> {
    pub t: Tables<'w, 'a>,
    pub diags: Vec<Diagnostic>,
    pub source_map: Vec<SourceLoc>,
    /// File and span of each source-map entry, for diagnostics about the lowered plan.
    pub spans: Vec<(usize, Span)>,
    /// Where each route starts (its intent name), by intent id.
    pub route_heads: Vec<Option<(usize, Span)>>,
    /// The context fields a "did you mean" pointed at in the test being checked (dotted), so
    /// that the misspelt field is not also reported missing.
    pub suggested: Vec<String>,
    lines: Vec<&'a Lines>,
    /// Each file's path, shared by its source-map entries.
    files: Vec<Arc<str>>,
    /// `limits { confidence floor F }`, once checked.
    pub floor: Option<f64>,
    /// Per capability: whether some agent provides it (as its agents are lowered).
    provided: Vec<bool>,
    /// What the last check of this mesh found outside routes and for each route (`reuse.rs`).
    reuse: reuse::Reuse,
}

/// The declarations outside routes, lowered: what a route edit leaves as it was.
#[derive(Clone)]
pub(crate) struct Declared {
    agents: Vec<plan::Agent>,
    humans: Vec<plan::Human>,
    rules: Vec<plan::Rule>,
    limits: plan::Limits,
    /// Their routes are empty.
    intents: Vec<plan::Intent>,
}

/// What a check keeps for the next check of the same mesh: the declarations outside routes
/// and each route, checked (`reuse.rs`), and the decision-space analysis's findings per
/// intent.
#[derive(Default)]
pub struct Memo {
    pub analysis: analysis::Memo,
    reuse: reuse::Reuse,
}

impl Memo {
    /// A memo that keeps nothing, for a check that runs once (`intent check`).
    pub fn once() -> Memo {
        Memo {
            analysis: analysis::Memo::once(),
            reuse: reuse::Reuse::once(),
        }
    }

    /// How many routes the last check replayed from the check before (`reuse.rs`) rather
    /// than checked, and whether it replayed the declarations outside routes.
    pub fn reused(&self) -> (usize, bool) {
        self.reuse.reused()
    }
}

impl<'w, 'a> Checker<'w, 'a> {
    /// The declarations outside routes, lowered (`reuse.rs` replays them when it can).
    fn declare(&mut self) -> Declared {
        let agents = self.agents();
        self.provided = reuse::provided(self.t.caps.len(), &agents);
        let humans = self.humans();
        let rules = self.rules();
        let limits = self.limits();
        let intents = self.intents(&limits);
        self.unprovided_requires();
        Declared {
            agents,
            humans,
            rules,
            limits,
            intents,
        }
    }

    /// Where `span` of `file` is, as an index into the plan's source map.
    pub fn src(&mut self, file: usize, span: Span) -> SrcId {
        let (line, col) = self.line_col(file, span.start as usize);
        let loc = SourceLoc {
            file: self.file_path(file),
            line,
            col,
        };
        self.source_map.push(loc);
        self.spans.push((file, span));
        (self.source_map.len() - 1) as SrcId
    }

    /// The path of `file`, shared by the source-map entries in it.
    pub fn file_path(&self, file: usize) -> Arc<str> {
        self.files
            .get(file)
            .cloned()
            .unwrap_or_else(|| Arc::from(self.t.path(file)))
    }

    /// Whether some agent provides capability `cap` (names it in `provides`).
    pub fn is_provided(&self, cap: plan::CapId) -> bool {
        self.provided.get(cap as usize) == Some(&true)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, file: usize, offset: usize) -> (u32, u32) {
        let (line, col) = self.lines.get(file).map_or((1, 1), |l| l.line_col(offset));
        (line as u32, col as u32)
    }
}

/// The classifier's fit of a mesh's intents (`Builtin::fit_held` on their evidence), as the
/// caller provides it: `db::analyze` remembers it for as long as no description or example
/// changes.
pub type Fit<'f> = &'f dyn Fn(&[plan::Intent]) -> Arc<Fitted>;

/// Checks the workspace and lowers it to a plan (without its Cedar part and hash). The
/// decision-space analysis reuses what `memo` kept of the intents an edit did not change.
pub fn check(
    ws: &Workspace<'_>,
    diags: &mut Vec<Diagnostic>,
    fit_of: Fit<'_>,
    memo: &mut Memo,
) -> Checked {
    let mut local = Vec::new();
    let t = Tables::new(ws, &mut local);
    memo.reuse.begin(ws);
    let lines = ws.files.iter().map(|f| f.lines).collect();
    let files = ws.files.iter().map(|f| Arc::from(f.path)).collect();
    let mut c = Checker {
        t,
        diags: local,
        source_map: Vec::new(),
        spans: Vec::new(),
        route_heads: Vec::new(),
        suggested: Vec::new(),
        lines,
        files,
        floor: None,
        provided: Vec::new(),
        reuse: std::mem::take(&mut memo.reuse),
    };
    let capabilities = c.t.caps.clone();
    let data_classes = (0..c.t.data.len())
        .map(|i| plan::DataClass {
            name: c.t.data_name(i as u32).to_string(),
            parent: c.t.data_parent.get(i).copied().flatten(),
            covers: c.t.data_closure(i as u32).to_vec(),
        })
        .collect();
    let Declared {
        agents,
        humans,
        rules,
        limits,
        mut intents,
    } = c.declared();
    c.routes(&mut intents, &agents, &rules);
    memo.reuse = std::mem::take(&mut c.reuse);
    c.tools(&intents, &agents);
    let reviews = c.reviews();
    let tests = c.test_blocks();
    c.unused(&agents, &intents, &rules);
    let Checker {
        t,
        diags: found,
        source_map,
        spans,
        route_heads,
        floor: limits_floor,
        ..
    } = c;
    // Errors found before checking (syntax) count too: the analysis of a mesh with a broken
    // declaration would report its consequences (an arm on a broken field "never matches").
    let has_errors =
        found.iter().any(Diagnostic::is_error) || diags.iter().any(Diagnostic::is_error);
    diags.extend(found);
    if has_errors {
        // No plan and no analysis: what the check made for `reuse` is taken from its parts.
        memo.reuse.keep(reuse::Parts {
            agents: &agents,
            humans: &humans,
            rules: &rules,
            limits: &limits,
            intents: &intents,
        });
    }
    // The classifier's parameters are filled in below, once the fit is known.
    let classifier = plan::ClassifierParams {
        weights: Vec::new(),
        coverage: None,
        floor: limits_floor,
    };
    let mut plan = (!has_errors).then(|| plan::Plan {
        format: plan::FORMAT,
        plan_hash: String::new(),
        capabilities,
        data_classes,
        context: t.context.clone(),
        agents,
        humans,
        intents,
        rules,
        reviews,
        limits,
        classifier,
        cedar: plan::CedarPart::default(),
        source_map,
    });
    // The last check's plan, if the memo kept it, and the checker's tables (only the files'
    // paths are read from here on) are freed while the analysis runs.
    let (memo, reuse) = (&mut memo.analysis, &mut memo.reuse);
    let old_plan = memo.take_plan();
    let ws = t.ws;
    // The decision-space analysis reads the lowered plan: it runs only on a plan without
    // errors, and an error it finds (a route that does not cover every request) drops the plan.
    if let Some(p) = &mut plan {
        let place = |(file, span): (usize, Span)| (ws.path(file).to_string(), span);
        let src = |s: SrcId| spans.get(s as usize).copied().map(place);
        // The fit scores every example without itself; W0007 reads the same scores, and
        // `reuse` keeps what it needs of the plan, on this thread while the analysis still
        // runs.
        let (findings, fitted, indistinct) =
            analyze_and_fit(p, fit_of, memo, (old_plan, t), |p, fitted| {
                reuse.keep(reuse::Parts::of(p));
                classifier::indistinct(p, fitted, &src)
            });
        p.classifier.weights = fitted.calibration.weights.to_vec();
        p.classifier.coverage = Some(fitted.calibration.reference);
        let route = |i: plan::IntentId| route_heads.get(i as usize).copied().flatten().map(place);
        let places = analysis::Places {
            src: &src,
            route: &route,
        };
        let found = analysis::diagnostics(p, &findings, &places);
        diags.extend(indistinct);
        if found.iter().any(Diagnostic::is_error) {
            plan = None;
        }
        diags.extend(found);
    }
    Checked { plan, tests }
}

/// The decision-space analysis of `plan` and the classifier's fit of its intents, at once:
/// the two most expensive parts of a check read different parts of the plan (the analysis
/// decides requests that name their intent and reads only the classifier's floor; the fit
/// reads the intents' descriptions and examples). The analysis is a task on rayon's pool
/// while this thread, which owns the salsa database, fits (or finds the fit remembered); the
/// fit scores its examples on the same pool, so the cores are shared without
/// oversubscribing them, and a worker that finishes the analysis goes on with the fit.
///
/// `garbage` (the last check's plan, the checker's tables) is freed on this thread after the
/// fit, while the analysis still runs: this thread allocated it, so freeing it here takes no
/// other thread's lock. Then `with_fit` runs here too, on the fit, while the analysis may
/// still be running: after an edit the analysis of one intent is the longer of the two.
fn analyze_and_fit<G, W>(
    plan: &plan::Plan,
    fit_of: Fit<'_>,
    memo: &mut analysis::Memo,
    garbage: G,
    with_fit: impl FnOnce(&plan::Plan, &Fitted) -> W,
) -> (Vec<analysis::Finding>, Arc<Fitted>, W) {
    let mut findings = None;
    let (fitted, more) = rayon::in_place_scope(|s| {
        s.spawn(|_| findings = Some(memo.analyze(plan)));
        let fitted = fit_of(&plan.intents);
        drop(garbage);
        let more = with_fit(plan, &fitted);
        (fitted, more)
    });
    // The scope waits for its task and passes a panic on, so the findings are there; were
    // they not, the analysis runs again here rather than report a plan unanalysed.
    let findings = match findings {
        Some(found) => found,
        None => memo.analyze(plan),
    };
    (findings, fitted, more)
}
