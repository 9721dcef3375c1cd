//! Checks reused from the last check of the same mesh: after a one-line edit inside a route,
//! neither the declarations outside routes nor the other routes are checked again.
//!
//! The gate: the mesh's text *outside its routes* is what it was at the last check (each
//! file's path, whether it is std, and its text with every route item cut out, cut at the
//! same places). Behind it:
//!
//! - **The declarations outside routes** (agents, humans, policies, limits, intents) read
//!   nothing of any route, so they lower to what they lowered to, report what they reported
//!   and mark the same declarations used. Only their positions move, when a route before them
//!   in their file changed length: a position outside routes is moved by the change in
//!   length of the routes before it ([`Layout`]).
//! - **A route** reads its own text and the declarations outside routes, so a route whose
//!   text is unchanged lowers to the same arms, records the same places in the source map
//!   (relative to its start) and marks the same declarations used. A route whose check
//!   reported anything is always checked again: its diagnostics are where the check finds
//!   them.
//!
//! The check replays what was kept instead of checking again. An edit outside routes (an
//! agent, an intent, a policy, a comment between items) closes the gate: everything is
//! checked and nothing kept, so that a series of such edits costs what checking costs. The
//! next check behind an open gate (the first edit inside a route after it) checks everything
//! and keeps what it finds, as the first check of a mesh does; what it keeps is copied from
//! the plan, and what it replaces freed, while the analysis runs on the other thread. The
//! edits after it replay.

use super::tables::Mark;
use super::{Checker, Declared};
use crate::codes::Code;
use crate::diagnostics::{Diagnostic, Label};
use crate::hir::{FileInput, Workspace};
use crate::syntax::ast::{ItemKind, Span};
use intent_runtime::plan::{self, IntentId, SrcId};
use rustc_hash::FxHashMap as HashMap;

/// What the last check found outside routes and for each route, and the text outside routes
/// it was found in.
#[derive(Default)]
pub struct Reuse {
    /// Keeps nothing (`intent check`, which checks once).
    once: bool,
    /// Per file at the last check: its path, whether it is std, its text outside routes.
    outside: Vec<Outside>,
    /// Whether the mesh being checked has the same text outside routes as the last one: only
    /// then is anything replayed.
    same: bool,
    /// Whether the check being made keeps what it finds: behind an open gate, and at the
    /// first check of a mesh (an edit outside routes keeps nothing, so that a series of them
    /// costs no more than checking).
    keeping: bool,
    /// Where the routes of the mesh being checked are.
    layout: Layout,
    /// What the declarations outside routes lowered to, and where its routes were then.
    declared: Option<(Layout, KeptDeclared)>,
    /// What the gate dropped, freed by [`Reuse::keep`] (off the check's way).
    garbage: Vec<Box<dyn Send>>,
    /// Per file, by the route's text.
    entries: Vec<HashMap<Box<str>, Entry>>,
    /// The declarations routes marked used, each once: entries name them by index.
    marks: Vec<Mark>,
    mark_ids: HashMap<Mark, u32>,
    /// Per mark, whether a route replayed by the check being made marked it.
    replayed: Vec<bool>,
    /// How many routes the last check replayed.
    reused: usize,
    /// Whether the last check replayed the declarations outside routes.
    declared_reused: bool,
}

struct Outside {
    path: String,
    is_std: bool,
    text: String,
    /// The length of each piece of `text` (between routes): the same text cut elsewhere is
    /// routes moved among the other items.
    cuts: Vec<usize>,
}

/// Per file, the spans of its route items in order: two layouts of the same text outside
/// routes differ only in the routes' lengths.
#[derive(Default, Clone)]
struct Layout(Vec<Vec<Span>>);

impl Layout {
    fn of(ws: &Workspace<'_>) -> Layout {
        Layout(ws.files.iter().map(|f| route_spans(f).collect()).collect())
    }

    /// Where position `at` of `file` in this layout is in layout `to`; `None` inside a route.
    fn map(&self, to: &Layout, file: usize, at: u32) -> Option<u32> {
        let (from, to) = (self.0.get(file)?, to.0.get(file)?);
        // The routes that end at or before `at`: `at` is in the piece after the last of them.
        let k = from.partition_point(|r| r.end <= at);
        if from.get(k).is_some_and(|r| r.start < at) {
            return None;
        }
        match k.checked_sub(1) {
            None => Some(at),
            Some(before) => {
                let (old, new) = (from.get(before)?.end, to.get(before)?.end);
                (at - old).checked_add(new)
            }
        }
    }

    fn map_span(&self, to: &Layout, file: usize, s: Span) -> Option<Span> {
        Some(Span {
            start: self.map(to, file, s.start)?,
            end: self.map(to, file, s.end)?,
        })
    }
}

/// What the declarations outside routes lowered to, reported and marked used.
struct KeptDeclared {
    /// Filled in by [`Reuse::keep`].
    declared: Option<Declared>,
    floor: Option<f64>,
    /// The source-map entries they recorded (from the first), as (file, span).
    spans: Vec<(usize, Span)>,
    base: usize,
    /// What they reported, with each label's file.
    diags: Vec<(Diagnostic, usize, Vec<usize>)>,
    marks: Vec<Mark>,
}

/// What checking one route found, with its positions made relative.
pub struct Entry {
    /// The lowered arms, their source ids counted from the route's first; filled in by
    /// [`Reuse::keep`] from the intent's route.
    arms: Option<Vec<plan::Arm>>,
    intent: IntentId,
    /// The source id of the route's first entry when it was checked.
    base: SrcId,
    /// The spans the route put in the source map, in order, relative to the route's start.
    spans: Vec<Span>,
    /// The declarations the route's check marked used (indexes into `Reuse::marks`).
    marks: Vec<u32>,
    /// Read by the check being made (the others are dropped at its end).
    seen: bool,
}

/// What a reused route gives back: its arms with their source ids from 0, and the spans to
/// record, in order, relative to the route's start. The declarations it marked used are
/// marked by [`Reuse::replayed_marks`], once for all routes.
pub struct Replay<'e> {
    pub arms: &'e [plan::Arm],
    pub spans: &'e [Span],
}

impl Reuse {
    /// A memo that keeps nothing.
    pub fn once() -> Reuse {
        Reuse {
            once: true,
            ..Reuse::default()
        }
    }

    /// Whether the check being made keeps what it finds: not for `intent check`, nor when the
    /// text outside routes changed since the last check (but at a mesh's first check).
    pub fn keeps(&self) -> bool {
        self.keeping
    }

    /// Starts a check of `ws`: entries are read only if its text outside routes is the last
    /// check's.
    pub fn begin(&mut self, ws: &Workspace<'_>) {
        self.reused = 0;
        self.declared_reused = false;
        if self.once {
            return;
        }
        let first = self.outside.is_empty();
        self.same = self.outside.len() == ws.files.len()
            && self
                .outside
                .iter()
                .zip(&ws.files)
                .all(|(o, f)| o.matches(f));
        if !self.same {
            self.outside = ws.files.iter().map(Outside::of).collect();
            self.garbage
                .push(Box::new(std::mem::take(&mut self.entries)));
            self.garbage.push(Box::new(self.declared.take()));
            self.marks.clear();
            self.mark_ids.clear();
        }
        self.keeping = self.same || first;
        self.replayed.clear();
        self.replayed.resize(self.marks.len(), false);
        self.entries.resize_with(ws.files.len(), HashMap::default);
        self.layout = Layout::of(ws);
    }

    /// What the last check found for the route of `file` whose text is `text`, if it can be
    /// reused.
    pub fn get(&mut self, file: usize, text: &str) -> Option<Replay<'_>> {
        if !self.same {
            return None;
        }
        let e = self.entries.get_mut(file)?.get_mut(text)?;
        let arms = e.arms.as_deref()?;
        e.seen = true;
        self.reused += 1;
        for m in &e.marks {
            if let Some(r) = self.replayed.get_mut(*m as usize) {
                *r = true;
            }
        }
        Some(Replay {
            arms,
            spans: &e.spans,
        })
    }

    /// The declarations the routes replayed so far marked used, each once.
    pub fn replayed_marks(&self) -> impl Iterator<Item = &Mark> {
        self.marks
            .iter()
            .zip(&self.replayed)
            .filter_map(|(m, r)| r.then_some(m))
    }

    /// Keeps what checking the route of `file` with text `text`, starting at `start`, for
    /// `intent` found: the `spans` it recorded (source ids from `base`), and `marks`; its arms
    /// are taken by [`Reuse::keep`]. Not kept if a span lies outside the route.
    pub fn put(
        &mut self,
        (file, text, start): (usize, &str, u32),
        (intent, base): (IntentId, SrcId),
        spans: &[(usize, Span)],
        marks: Vec<Mark>,
    ) {
        if !self.keeps() {
            return;
        }
        let end = start.saturating_add(text.len() as u32);
        let inside = |(f, s): &(usize, Span)| *f == file && s.start >= start && s.end <= end;
        let Some(map) = self.entries.get_mut(file) else {
            return;
        };
        if !spans.iter().all(inside) {
            return;
        }
        let spans = spans
            .iter()
            .map(|(_, s)| Span {
                start: s.start - start,
                end: s.end - start,
            })
            .collect();
        let mut ids = Vec::with_capacity(marks.len());
        for m in marks {
            let next = self.marks.len() as u32;
            let id = *self.mark_ids.entry(m.clone()).or_insert(next);
            if id == next {
                self.marks.push(m);
            }
            ids.push(id);
        }
        ids.sort_unstable();
        ids.dedup();
        let entry = Entry {
            arms: None,
            intent,
            base,
            spans,
            marks: ids,
            seen: true,
        };
        map.insert(text.into(), entry);
    }

    /// How many routes the last check replayed rather than checked, and whether it replayed
    /// the declarations outside routes.
    pub fn reused(&self) -> (usize, bool) {
        (self.reused, self.declared_reused)
    }

    /// Ends a check whose lowered declarations and routes are `parts`: takes the arms and
    /// declarations it checked afresh from them, and drops what it did not read or make. Run
    /// while the analysis runs, so that copying and freeing cost an edit no time.
    pub fn keep(&mut self, parts: Parts<'_>) {
        self.garbage.clear();
        for map in &mut self.entries {
            map.retain(|_, e| std::mem::take(&mut e.seen));
            for e in map.values_mut().filter(|e| e.arms.is_none()) {
                let Some(it) = parts.intents.get(e.intent as usize) else {
                    continue;
                };
                let mut arms = it.route.arms.clone();
                shift(&mut arms, |s| s.saturating_sub(e.base));
                e.arms = Some(arms);
            }
        }
        if let Some((_, kept)) = &mut self.declared {
            if kept.declared.is_none() {
                kept.declared = Some(Declared {
                    agents: parts.agents.to_vec(),
                    humans: parts.humans.to_vec(),
                    rules: parts.rules.to_vec(),
                    limits: parts.limits.clone(),
                    intents: parts.intents.iter().map(without_route).collect(),
                });
            }
        }
    }
}

impl Outside {
    fn of(f: &FileInput<'_>) -> Outside {
        Outside {
            path: f.path.to_string(),
            is_std: f.is_std,
            text: pieces(f).collect(),
            cuts: pieces(f).map(str::len).collect(),
        }
    }

    fn matches(&self, f: &FileInput<'_>) -> bool {
        if self.path != f.path || self.is_std != f.is_std {
            return false;
        }
        let mut rest = self.text.as_str();
        let mut cuts = self.cuts.iter();
        for piece in pieces(f) {
            match rest.strip_prefix(piece) {
                Some(r) if cuts.next() == Some(&piece.len()) => rest = r,
                _ => return false,
            }
        }
        rest.is_empty() && cuts.next().is_none()
    }
}

/// What a check lowered, as [`Reuse::keep`] reads it (the plan, or the check's own parts
/// when there is no plan).
pub struct Parts<'p> {
    pub agents: &'p [plan::Agent],
    pub humans: &'p [plan::Human],
    pub rules: &'p [plan::Rule],
    pub limits: &'p plan::Limits,
    pub intents: &'p [plan::Intent],
}

impl<'p> Parts<'p> {
    pub fn of(p: &'p plan::Plan) -> Parts<'p> {
        Parts {
            agents: &p.agents,
            humans: &p.humans,
            rules: &p.rules,
            limits: &p.limits,
            intents: &p.intents,
        }
    }
}

/// An intent as the declarations outside routes lower it: with an empty route.
fn without_route(i: &plan::Intent) -> plan::Intent {
    plan::Intent {
        name: i.name.clone(),
        description: i.description.clone(),
        examples: i.examples.clone(),
        requires: i.requires.clone(),
        handles: i.handles.clone(),
        delegates: i.delegates.clone(),
        input: i.input.clone(),
        tool: i.tool.clone(),
        output: i.output.clone(),
        route: plan::Route { arms: Vec::new() },
        src: i.src,
    }
}

/// The spans of a file's route items, in order.
fn route_spans<'f>(f: &'f FileInput<'_>) -> impl Iterator<Item = Span> + 'f {
    f.tree
        .items
        .iter()
        .filter(|i| matches!(i.kind, ItemKind::Route(_)))
        .map(|i| i.span)
}

/// The text of a file outside its route items, in order.
fn pieces<'f>(f: &'f FileInput<'_>) -> impl Iterator<Item = &'f str> + 'f {
    let routes = route_spans(f);
    let mut at = 0usize;
    let text = f.text;
    routes.map(Some).chain(std::iter::once(None)).map(move |r| {
        let (end, next) = match r {
            Some(s) => (s.start as usize, s.end as usize),
            None => (text.len(), text.len()),
        };
        let piece = text.get(at..end).unwrap_or_default();
        at = next.max(at);
        piece
    })
}

/// Applies `f` to every source id of `arms` (each arm's and each of its steps').
pub fn shift(arms: &mut [plan::Arm], f: impl Fn(SrcId) -> SrcId) {
    for arm in arms {
        arm.src = f(arm.src);
        match &mut arm.action {
            plan::Action::Dispatch { step } => step.src = f(step.src),
            plan::Action::Plan { steps } => {
                for s in steps {
                    s.src = f(s.src);
                }
            }
            plan::Action::Escalate { .. }
            | plan::Action::Clarify { .. }
            | plan::Action::Deny { .. }
            | plan::Action::Pass
            | plan::Action::Redact { .. } => {}
        }
    }
}

impl Checker<'_, '_> {
    /// The declarations outside routes, lowered, or replayed from the last check when the
    /// gate is open (see the module's comment).
    pub fn declared(&mut self) -> Declared {
        if !self.reuse.keeps() {
            return self.declare();
        }
        let (diags, base) = (self.diags.len(), self.spans.len());
        if let Some(d) = self.replay_declared(base) {
            return d;
        }
        self.t.record();
        let declared = self.declare();
        let mut marks = self.t.recorded();
        marks.sort_unstable();
        marks.dedup();
        let files: Vec<&str> = (0..self.files.len()).map(|f| self.t.path(f)).collect();
        let file_of = |l: &Label| files.iter().position(|f| *f == l.file);
        let mut kept_diags = Vec::new();
        for d in self.diags.get(diags..).unwrap_or_default() {
            // Said once a file (E0112): replaying it would not tell the tables.
            if d.code == Code::FILE_IN_MAIN {
                return declared;
            }
            let Some(primary) = file_of(&d.primary) else {
                return declared;
            };
            let Some(secondary) = d.secondary.iter().map(file_of).collect() else {
                return declared;
            };
            kept_diags.push((d.clone(), primary, secondary));
        }
        let kept = KeptDeclared {
            declared: None,
            floor: self.floor,
            spans: self.spans.get(base..).unwrap_or_default().to_vec(),
            base,
            diags: kept_diags,
            marks,
        };
        self.reuse.declared = Some((self.reuse.layout.clone(), kept));
        declared
    }

    fn replay_declared(&mut self, base: usize) -> Option<Declared> {
        if !self.reuse.same {
            return None;
        }
        let (layout, kept) = self.reuse.declared.as_ref()?;
        let now = &self.reuse.layout;
        let declared = kept.declared.as_ref()?;
        if kept.base != base {
            return None;
        }
        // Every position, moved to where it is now; nothing is replayed if one cannot be.
        let spans: Vec<(usize, Span)> = kept
            .spans
            .iter()
            .map(|(f, s)| Some((*f, layout.map_span(now, *f, *s)?)))
            .collect::<Option<_>>()?;
        let mut diags = Vec::with_capacity(kept.diags.len());
        for (d, primary, secondary) in &kept.diags {
            let mut d = d.clone();
            d.primary.span = layout.map_span(now, *primary, d.primary.span)?;
            for (l, f) in d.secondary.iter_mut().zip(secondary) {
                l.span = layout.map_span(now, *f, l.span)?;
            }
            diags.push(d);
        }
        let declared = declared.clone();
        self.floor = kept.floor;
        for (kind, pkg, name) in &kept.marks {
            self.t.mark_used(*kind, pkg, name);
        }
        for (f, s) in spans {
            self.src(f, s);
        }
        self.diags.extend(diags);
        self.provided = provided(self.t.caps.len(), &declared.agents);
        self.reuse.declared_reused = true;
        Some(declared)
    }
}

/// Per capability: whether one of `agents` provides it.
pub fn provided(caps: usize, agents: &[plan::Agent]) -> Vec<bool> {
    let mut out = vec![false; caps];
    for cap in agents.iter().flat_map(|a| &a.provides) {
        if let Some(p) = out.get_mut(*cap as usize) {
            *p = true;
        }
    }
    out
}
