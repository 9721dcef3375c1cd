//! Routes, and the arms shared by routes and reviews: `otherwise` placement, conditions,
//! actions, `after` cycles, and whether the steps together cover what the intent requires.
//! Each step (what it needs and handles, whether its agents, with fallbacks and backups,
//! provide and are cleared for that) is checked in `steps.rs`.

use super::expr::{ExprCx, Site};
use super::graph;
use super::steps::StepOf;
use super::Checker;
use crate::codes::Code;
use crate::diagnostics::Diagnostic;
use crate::syntax::ast::{self, Action, Arm, RouteDecl, Span, StepModifier};
use intent_runtime::plan::{self, CapId, IntentId, SrcId};
use std::collections::BTreeMap;

/// What the arms being checked belong to.
#[derive(Clone, Copy)]
pub enum ArmsOf<'p> {
    Route {
        intent: IntentId,
        agents: &'p [plan::Agent],
        has_permit: bool,
    },
    Review,
}

impl Checker<'_, '_> {
    pub fn routes(
        &mut self,
        intents: &mut [plan::Intent],
        agents: &[plan::Agent],
        rules: &[plan::Rule],
    ) {
        let has_permit = rules.iter().any(|r| r.kind == plan::RuleKind::Permit);
        // Each route, resolved to its intent (by intent id: ids are dense).
        let mut by_intent: Vec<Option<(usize, &RouteDecl, Span)>> =
            vec![None; self.t.intents.len()];
        let ws = self.t.ws;
        for pkg in ws.packages.values() {
            for d in pkg.routes.values() {
                let Some(id) = self
                    .t
                    .resolve_intent(d.file, &d.node.intent, &mut self.diags)
                else {
                    continue;
                };
                if let Some(Some((pf, prev, _))) = by_intent.get(id as usize) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::DUPLICATE,
                            self.t.path(d.file),
                            d.node.intent.span,
                            format!("intent `{}` has two routes", d.node.intent.text),
                        )
                        .with_label("second route")
                        .with_secondary(self.t.path(*pf), prev.intent.span, "first route here")
                        .with_help("merge the arms into one route"),
                    );
                    continue;
                }
                if by_intent.len() <= id as usize {
                    by_intent.resize(id as usize + 1, None);
                }
                if let Some(slot) = by_intent.get_mut(id as usize) {
                    *slot = Some((d.file, d.node, d.item.span));
                }
            }
        }
        for id in 0..intents.len() as IntentId {
            let Some(entry) = self.t.intents.get(id as usize) else {
                continue;
            };
            let (ifile, idecl) = (entry.decl.file, entry.decl.node);
            let in_main = entry.pkg == "main";
            match by_intent.get(id as usize).copied().flatten() {
                None => {
                    let route_broken = self
                        .t
                        .ws
                        .is_broken(ast::DeclKeyword::Route, &idecl.name.text);
                    // A route written in a file that lacks its `package` line is reported
                    // there (E0112), not as a missing route.
                    let route_in_main = !in_main
                        && ws
                            .package("main")
                            .is_some_and(|p| p.routes.contains_key(idecl.name.text.as_str()));
                    if !route_broken
                        && !route_in_main
                        && !self.t.ws.file(ifile).is_some_and(|f| f.is_std)
                    {
                        self.diags.push(
                            Diagnostic::new(
                                Code::NO_ROUTE,
                                self.t.path(ifile),
                                idecl.name.span,
                                format!("intent `{}` has no route", idecl.name.text),
                            )
                            .with_label("no `route` serves this intent")
                            .with_help(format!(
                                "add `route {} {{ otherwise => dispatch any CAPABILITY }}`",
                                idecl.name.text
                            )),
                        );
                    }
                }
                Some((file, route, item)) => {
                    if self.route_heads.len() <= id as usize {
                        self.route_heads.resize(id as usize + 1, None);
                    }
                    if let Some(slot) = self.route_heads.get_mut(id as usize) {
                        *slot = Some((file, route.intent.span));
                    }
                    let of = ArmsOf::Route {
                        intent: id,
                        agents,
                        has_permit,
                    };
                    let arms = self.route_arms(file, route, item, of, intents);
                    if let Some(it) = intents.get_mut(id as usize) {
                        it.route.arms = arms;
                    }
                }
            }
        }
        for (kind, pkg, name) in self.reuse.replayed_marks() {
            self.t.mark_used(*kind, pkg, name);
        }
    }

    /// A route's arms, checked and lowered, or replayed from the last check when `reuse`
    /// kept them (`reuse.rs`: same route text, nothing outside routes changed).
    fn route_arms(
        &mut self,
        file: usize,
        route: &RouteDecl,
        item: Span,
        of: ArmsOf<'_>,
        intents: &[plan::Intent],
    ) -> Vec<plan::Arm> {
        let text = self
            .t
            .ws
            .file(file)
            .and_then(|f| f.text.get(item.start as usize..item.end as usize));
        let Some(text) = text.filter(|_| self.reuse.keeps()) else {
            return self.arms(file, &route.arms, route.intent.span, of, intents);
        };
        let base = self.source_map.len() as SrcId;
        if let Some(hit) = self.reuse.get(file, text) {
            let mut arms = hit.arms.to_vec();
            let spans: Vec<Span> = hit.spans.to_vec();
            for s in spans {
                let at = Span {
                    start: s.start + item.start,
                    end: s.end + item.start,
                };
                self.src(file, at);
            }
            super::reuse::shift(&mut arms, |s| s + base);
            return arms;
        }
        let diags = self.diags.len();
        self.t.record();
        let arms = self.arms(file, &route.arms, route.intent.span, of, intents);
        let marks = self.t.recorded();
        if let (true, ArmsOf::Route { intent, .. }) = (self.diags.len() == diags, of) {
            let spans = self.spans.get(base as usize..).unwrap_or_default();
            self.reuse
                .put((file, text, item.start), (intent, base), spans, marks);
        }
        arms
    }

    /// E0309 for each capability an intent requires that no agent provides: a check of the
    /// intents and agents, made with the declarations outside routes (`Checker::declare`).
    pub(super) fn unprovided_requires(&mut self) {
        for id in 0..self.t.intents.len() {
            if let Some(entry) = self.t.intents.get(id) {
                self.unprovided_by(entry.decl.file, entry.decl.node);
            }
        }
    }

    fn unprovided_by(&mut self, file: usize, decl: &ast::IntentDecl) {
        // An agent that did not parse may be the provider: its error was reported already.
        if self.t.ws.any_broken(ast::DeclKeyword::Agent) {
            return;
        }
        for f in &decl.fields {
            let ast::IntentField::Requires(paths, _) = f else {
                continue;
            };
            for p in paths {
                let Some(cap) = self.t.cap_id(p) else {
                    continue;
                };
                if !self.is_provided(cap) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::UNPROVIDED_CAPABILITY,
                            self.t.path(file),
                            p.span,
                            format!(
                                "no agent provides `{}`, which intent `{}` requires",
                                p.dotted(),
                                decl.name.text
                            ),
                        )
                        .with_label("no provider")
                        .with_help(format!(
                            "add `provides {}` to an agent that can do it",
                            p.dotted()
                        )),
                    );
                }
            }
        }
    }

    /// Checks and lowers arms; `head` is where to point when `otherwise` is missing.
    pub fn arms(
        &mut self,
        file: usize,
        arms: &[Arm],
        head: Span,
        of: ArmsOf<'_>,
        intents: &[plan::Intent],
    ) -> Vec<plan::Arm> {
        let mut out = Vec::with_capacity(arms.len());
        let mut otherwise_at: Option<Span> = None;
        let site = match of {
            ArmsOf::Route { .. } => Site::Route,
            ArmsOf::Review => Site::Review,
        };
        // Paths an earlier arm proves present for the arms after it: an arm `when not has x
        // or ...` took every request without `x`.
        let mut present: Vec<Vec<String>> = Vec::new();
        for arm in arms {
            if let Some(o) = otherwise_at {
                self.diags.push(
                    Diagnostic::new(
                        Code::ARM_AFTER_OTHERWISE,
                        self.t.path(file),
                        arm.span,
                        "this arm comes after `otherwise` and can never match",
                    )
                    .with_label("unreachable")
                    .with_secondary(
                        self.t.path(file),
                        o,
                        "`otherwise` matches everything that reaches it",
                    )
                    .with_help("move this arm above `otherwise`, or remove it"),
                );
                continue;
            }
            let when = match &arm.condition {
                Some(c) => {
                    let when = ExprCx::new(&self.t, file, site, &mut self.diags)
                        .knowing(&present)
                        .condition(c);
                    present.extend(super::expr::absent_facts(c));
                    Some(when)
                }
                None => {
                    otherwise_at = Some(arm.span);
                    None
                }
            };
            let action = self.action(file, &arm.action, of, intents);
            let src = self.src(file, arm.span);
            if let Some(action) = action {
                out.push(plan::Arm { when, action, src });
            }
        }
        if arms.is_empty() {
            self.diags.push(
                Diagnostic::new(
                    Code::NO_OTHERWISE,
                    self.t.path(file),
                    head,
                    "this block has no arms",
                )
                .with_label("nothing to match")
                .with_help(match of {
                    ArmsOf::Route { .. } => "add at least `otherwise => dispatch AGENT`",
                    ArmsOf::Review => "add at least `otherwise => pass`",
                }),
            );
            return out;
        }
        // A route may leave `otherwise` out when its arms cover every request: the analysis
        // of the lowered plan proves that, or reports E0300 with a counterexample. A review needs
        // its `otherwise` (E0315).
        if otherwise_at.is_none() && matches!(of, ArmsOf::Review) {
            let fallback = "otherwise => pass";
            self.diags.push(
                Diagnostic::new(
                    Code::NO_OTHERWISE,
                    self.t.path(file),
                    head,
                    "these arms have no `otherwise`",
                )
                .with_label("a response that matches no arm would have no verdict")
                .with_help(format!("end the arms with `{fallback}`")),
            );
        }
        out
    }

    fn action(
        &mut self,
        file: usize,
        action: &Action,
        of: ArmsOf<'_>,
        intents: &[plan::Intent],
    ) -> Option<plan::Action> {
        let review = matches!(of, ArmsOf::Review);
        let misplaced = |what: &str, wanted: &str| (what.to_string(), wanted.to_string());
        let wrong = match (action, review) {
            (Action::Dispatch { .. } | Action::Plan { .. } | Action::Clarify { .. }, true) => {
                Some(misplaced(
                    action.keyword(),
                    "a review arm ends in `pass`, `redact DATA`, `escalate HUMAN` or `deny`",
                ))
            }
            (Action::Pass { .. } | Action::Redact { .. }, false) => Some(misplaced(
                action.keyword(),
                "a route arm ends in `dispatch`, `plan`, `escalate`, `clarify` or `deny`",
            )),
            _ => None,
        };
        if let Some((what, help)) = wrong {
            let place = if review { "a review" } else { "a route" };
            self.diags.push(
                Diagnostic::new(
                    Code::MISPLACED_ACTION,
                    self.t.path(file),
                    action.span(),
                    format!("`{what}` is not an action of {place}"),
                )
                .with_label("not allowed here")
                .with_help(help),
            );
            return None;
        }
        match action {
            Action::Escalate {
                humans, because, ..
            } => {
                let hs: Vec<_> = humans
                    .iter()
                    .filter_map(|h| self.t.resolve_human(file, h, &mut self.diags))
                    .collect();
                Some(plan::Action::Escalate {
                    humans: hs,
                    because: because.as_ref().map(|b| b.0.clone()),
                })
            }
            Action::Clarify { question, .. } => Some(plan::Action::Clarify {
                question: question.0.clone(),
            }),
            Action::Deny { because, .. } => Some(plan::Action::Deny {
                because: because.as_ref().map(|b| b.0.clone()),
            }),
            Action::Pass { .. } => Some(plan::Action::Pass),
            Action::Redact { data, .. } => {
                let ids: Vec<_> = data
                    .iter()
                    .filter_map(|d| self.t.resolve_data(file, d, &mut self.diags))
                    .collect();
                Some(plan::Action::Redact { data: ids })
            }
            Action::Error { .. } => None,
            Action::Dispatch {
                target,
                fallbacks,
                span,
            } => {
                let ArmsOf::Route {
                    intent,
                    agents,
                    has_permit,
                } = of
                else {
                    return None;
                };
                let it = intents.get(intent as usize)?;
                let step = ast::Step {
                    name: ast::Name {
                        text: DISPATCH_STEP.into(),
                        span: *span,
                    },
                    target: target.clone(),
                    modifiers: if fallbacks.is_empty() {
                        Vec::new()
                    } else {
                        vec![StepModifier::Fallback(fallbacks.clone(), *span)]
                    },
                    span: *span,
                };
                let s = self.step(file, &step, StepOf::Dispatch, it, agents, has_permit, &[])?;
                self.coverage(file, *span, it, std::slice::from_ref(&s));
                Some(plan::Action::Dispatch { step: s })
            }
            Action::Plan { steps, span } => {
                let ArmsOf::Route {
                    intent,
                    agents,
                    has_permit,
                } = of
                else {
                    return None;
                };
                let it = intents.get(intent as usize)?;
                let mut names: BTreeMap<&str, Span> = BTreeMap::new();
                for s in steps {
                    if let Some(prev) = names.get(s.name.text.as_str()) {
                        self.diags.push(
                            Diagnostic::new(
                                Code::DUPLICATE,
                                self.t.path(file),
                                s.name.span,
                                format!("two steps are named `{}`", s.name.text),
                            )
                            .with_label("second step")
                            .with_secondary(self.t.path(file), *prev, "first step")
                            .with_help("give each step its own name"),
                        );
                    } else {
                        names.insert(&s.name.text, s.name.span);
                    }
                }
                let step_names: Vec<&str> = steps.iter().map(|s| s.name.text.as_str()).collect();
                let lowered: Vec<plan::Step> = steps
                    .iter()
                    .filter_map(|s| {
                        let of = StepOf::Plan(&s.name.text);
                        self.step(file, s, of, it, agents, has_permit, &step_names)
                    })
                    .collect();
                if lowered.len() != steps.len() {
                    return None;
                }
                self.after_cycles(file, steps, &lowered);
                self.coverage(file, *span, it, &lowered);
                Some(plan::Action::Plan { steps: lowered })
            }
        }
    }

    fn after_cycles(&mut self, file: usize, steps: &[ast::Step], lowered: &[plan::Step]) {
        let edges = |i: usize| -> Vec<usize> {
            lowered
                .get(i)
                .map(|s| s.after.iter().map(|a| *a as usize).collect())
                .unwrap_or_default()
        };
        for cycle in graph::cycles(lowered.len(), &edges) {
            let Some(&start) = cycle.first() else {
                continue;
            };
            let names: Vec<&str> = cycle
                .iter()
                .chain(cycle.first())
                .filter_map(|i| lowered.get(*i))
                .map(|s| s.name.as_str())
                .collect();
            if let Some(s) = steps.get(start) {
                self.diags.push(
                    Diagnostic::new(
                        Code::AFTER_CYCLE,
                        self.t.path(file),
                        s.name.span,
                        format!("steps wait for each other in a loop: {}", names.join(" → ")),
                    )
                    .with_label("part of the loop")
                    .with_help("`after` must order the steps as a DAG: remove one of the `after`s"),
                );
            }
        }
    }

    /// The steps together must cover every capability the intent requires.
    fn coverage(&mut self, file: usize, span: Span, it: &plan::Intent, steps: &[plan::Step]) {
        let covered = |r: &CapId| {
            steps
                .iter()
                .any(|s| s.needs.iter().any(|n| self.t.cap_closure(*n).contains(r)))
        };
        let missing: Vec<&str> = it
            .requires
            .iter()
            .filter(|r| !covered(r))
            .map(|r| self.t.cap_name(*r))
            .collect();
        if !missing.is_empty() {
            let one = missing.first().copied().unwrap_or_default();
            self.diags.push(
                Diagnostic::new(
                    Code::UNCOVERED_REQUIRES,
                    self.t.path(file),
                    span,
                    format!(
                        "intent `{}` requires {}, which no step covers",
                        it.name,
                        tick_list(&missing)
                    ),
                )
                .with_label("does not cover every required capability")
                .with_help(format!(
                    "add a step such as `{}: any {one}`",
                    one.rsplit('.').next().unwrap_or(one)
                )),
            );
        }
    }
}

/// The name of a dispatch's one step in the plan (the runtime's reasons and traces print it;
/// no code reads it back).
const DISPATCH_STEP: &str = "dispatch";

pub(super) fn tick_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
