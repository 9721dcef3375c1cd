//! One step of an action (`dispatch`, or a step of a `plan`): its target, fallbacks and the
//! backups of the agents named, what it needs and handles, and whether each of its agents
//! provides and is cleared for that.

use super::items::backup_chain;
use super::routes::tick_list;
use super::Checker;
use crate::codes::Code;
use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::syntax::ast::{self, Span, StepModifier, Target};
use intent_runtime::plan::{self, AgentId, CapId, DataId};

impl Checker<'_, '_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn step(
        &mut self,
        file: usize,
        s: &ast::Step,
        of: StepOf<'_>,
        it: &plan::Intent,
        agents: &[plan::Agent],
        has_permit: bool,
        step_names: &[&str],
    ) -> Option<plan::Step> {
        let mut ok = true;
        let target = self.target(file, &s.target, agents);
        ok &= target.is_some();
        let mut fallbacks = Vec::new();
        let mut after = Vec::new();
        let mut needs: Option<Vec<CapId>> = None;
        let mut handles: Option<(Vec<DataId>, Span)> = None;
        let mut fallback_spans = Vec::new();
        for m in &s.modifiers {
            match m {
                StepModifier::Fallback(targets, _) => {
                    for t in targets {
                        match self.target(file, t, agents) {
                            Some(x) => {
                                fallbacks.push(x);
                                fallback_spans.push(t.span());
                            }
                            None => ok = false,
                        }
                    }
                }
                StepModifier::After(names, _) => {
                    for n in names {
                        match step_names.iter().position(|x| *x == n.text) {
                            Some(i) => after.push(i as u32),
                            None => {
                                let help = did_you_mean(&n.text, step_names.iter().copied())
                                    .unwrap_or_else(|| {
                                        format!("the steps are: {}", step_names.join(", "))
                                    });
                                self.diags.push(
                                    Diagnostic::new(
                                        Code::UNKNOWN_STEP,
                                        self.t.path(file),
                                        n.span,
                                        format!("no step `{}` in this plan", n.text),
                                    )
                                    .with_label("unknown step")
                                    .with_help(help),
                                );
                                ok = false;
                            }
                        }
                    }
                }
                StepModifier::Needs(paths, _) => {
                    let caps: Vec<CapId> = paths
                        .iter()
                        .filter_map(|p| self.t.resolve_cap(file, p, &mut self.diags))
                        .collect();
                    ok &= caps.len() == paths.len();
                    needs.get_or_insert_with(Vec::new).extend(caps);
                }
                StepModifier::Handles(paths, span) => {
                    let mut ids = Vec::new();
                    for p in paths {
                        let Some(d) = self.t.resolve_data(file, p, &mut self.diags) else {
                            ok = false;
                            continue;
                        };
                        // Data minimisation: each class must be one the intent handles, or below one.
                        if !it
                            .handles
                            .iter()
                            .any(|h| self.t.data_closure(*h).contains(&d))
                        {
                            let handled: Vec<&str> =
                                it.handles.iter().map(|h| self.t.data_name(*h)).collect();
                            self.diags.push(
                                Diagnostic::new(
                                    Code::HANDLES_NOT_SUBSET,
                                    self.t.path(file),
                                    p.span,
                                    format!(
                                        "{} handles `{}`, which intent `{}` does not",
                                        of.subject(),
                                        p.dotted(),
                                        it.name
                                    ),
                                )
                                .with_label("not handled by the intent")
                                .with_help(if handled.is_empty() {
                                    format!(
                                        "intent `{}` handles no data; add `handles {}` to it",
                                        it.name,
                                        p.dotted()
                                    )
                                } else {
                                    format!(
                                        "a step handles a subset of the intent's data: {}",
                                        handled.join(", ")
                                    )
                                }),
                            );
                            ok = false;
                        }
                        ids.push(d);
                    }
                    handles = Some((ids, *span));
                }
            }
        }
        let target = target?;
        if let Some((_, span)) = fallbacks
            .iter()
            .zip(&fallback_spans)
            .find(|(f, _)| **f == target)
        {
            self.diags.push(
                Diagnostic::new(
                    Code::BACKUP_CYCLE,
                    self.t.path(file),
                    *span,
                    format!("{} falls back to its own target", of.subject()),
                )
                .with_label("the same as the target")
                .with_help(
                    "a fallback is tried when the target cannot serve: name a different agent",
                ),
            );
            ok = false;
        }
        // What the step needs: `needs`, else the `any` capability, else what the intent
        // requires (a dispatch) or what the agent provides of it (a plan step).
        let needs = match (needs, &target) {
            (Some(n), _) => n,
            (None, plan::Target::Any(c)) => vec![*c],
            (None, plan::Target::Agent(_)) if of == StepOf::Dispatch => it.requires.clone(),
            (None, plan::Target::Agent(a)) => {
                let provided = agents
                    .get(*a as usize)
                    .map(|x| x.provides.as_slice())
                    .unwrap_or(&[]);
                it.requires
                    .iter()
                    .copied()
                    .filter(|r| provided.contains(r))
                    .collect()
            }
        };
        if needs.is_empty() && !it.requires.is_empty() {
            let name = agent_name(agents, &target);
            self.diags.push(
                Diagnostic::new(Code::STEP_LACKS_CAPABILITY, self.t.path(file), s.target.span(), format!("{}`{name}` provides nothing intent `{}` requires", of.prefix(), it.name))
                    .with_label("serves no required capability")
                    .with_help("name an agent that provides one of the intent's `requires`, or say what the step does with `needs`"),
            );
            return None;
        }
        let mut needs = needs;
        needs.sort_unstable();
        needs.dedup();
        let handles = handles.map_or_else(|| it.handles.clone(), |(h, _)| h);
        let named: Vec<(plan::Target, Span)> = std::iter::once((target.clone(), s.target.span()))
            .chain(fallbacks.iter().cloned().zip(fallback_spans))
            .collect();
        for (t, span) in &named {
            match t {
                plan::Target::Agent(a) => {
                    ok &= self.agent_fits(
                        file, *span, of, *a, None, &needs, &handles, agents, has_permit,
                    );
                    for b in backup_chain(agents, *a) {
                        ok &= self.agent_fits(
                            file,
                            *span,
                            of,
                            b,
                            Some(*a),
                            &needs,
                            &handles,
                            agents,
                            has_permit,
                        );
                    }
                }
                plan::Target::Any(c) => {
                    let broken_agent = self.t.ws.any_broken(ast::DeclKeyword::Agent);
                    if !broken_agent && !self.is_provided(*c) {
                        self.diags.push(
                            Diagnostic::new(
                                Code::UNPROVIDED_CAPABILITY,
                                self.t.path(file),
                                *span,
                                format!(
                                    "no agent provides `{}`, so `any {}` can never be filled",
                                    self.t.cap_name(*c),
                                    self.t.cap_name(*c)
                                ),
                            )
                            .with_label("no provider")
                            .with_help(format!(
                                "add `provides {}` to an agent",
                                self.t.cap_name(*c)
                            )),
                        );
                        ok = false;
                    }
                }
            }
        }
        let src = self.src(file, s.span);
        ok.then_some(plan::Step {
            name: s.name.text.clone(),
            target,
            fallbacks,
            after,
            needs,
            handles,
            src,
        })
    }

    pub(super) fn target(
        &mut self,
        file: usize,
        t: &Target,
        _agents: &[plan::Agent],
    ) -> Option<plan::Target> {
        match t {
            Target::Agent(n) => self
                .t
                .resolve_agent(file, n, &mut self.diags)
                .map(plan::Target::Agent),
            Target::Any(p, _) => self
                .t
                .resolve_cap(file, p, &mut self.diags)
                .map(plan::Target::Any),
        }
    }

    /// Whether agent `a` (named at `span`, or reached as a backup of `via`) provides what the
    /// step needs and is cleared for what it handles; reports what is missing.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn agent_fits(
        &mut self,
        file: usize,
        span: Span,
        of: StepOf<'_>,
        a: AgentId,
        via: Option<AgentId>,
        needs: &[CapId],
        handles: &[DataId],
        agents: &[plan::Agent],
        has_permit: bool,
    ) -> bool {
        let Some(agent) = agents.get(a as usize) else {
            return false;
        };
        let who = match via.and_then(|v| agents.get(v as usize)) {
            Some(v) => format!("`{}` (a backup of `{}`)", agent.name, v.name),
            None => format!("`{}`", agent.name),
        };
        let missing: Vec<&str> = needs
            .iter()
            .filter(|c| !agent.provides.contains(c))
            .map(|c| self.t.cap_name(*c))
            .collect();
        let mut ok = true;
        if !missing.is_empty() {
            self.diags.push(
                Diagnostic::new(
                    Code::STEP_LACKS_CAPABILITY,
                    self.t.path(file),
                    span,
                    format!(
                        "{}{who} does not provide {}",
                        of.prefix(),
                        tick_list(&missing)
                    ),
                )
                .with_label(format!("lacks {}", tick_list(&missing)))
                .with_help(format!(
                    "add `provides {}` to agent `{}`, or pick an agent that does",
                    missing.join(", "),
                    agent.name
                )),
            );
            ok = false;
        }
        let uncleared: Vec<&str> = handles
            .iter()
            .filter(|d| !agent.cleared.contains(d))
            .map(|d| self.t.data_name(*d))
            .collect();
        if !uncleared.is_empty() {
            let code = if has_permit {
                Code::CLEARANCE_BY_PERMIT
            } else {
                Code::MISSING_CLEARANCE
            };
            let help = if has_permit {
                "this step works only when a `permit` rule grants the data; add the clearance to make it unconditional".to_string()
            } else {
                format!(
                    "add `clearance {}` to agent `{}`, or narrow the step with `handles`",
                    uncleared.join(", "),
                    agent.name
                )
            };
            self.diags.push(
                Diagnostic::new(
                    code,
                    self.t.path(file),
                    span,
                    format!(
                        "{}{who} has no clearance for {}{}",
                        of.prefix(),
                        tick_list(&uncleared),
                        if has_permit {
                            " (only a `permit` rule can grant it)"
                        } else {
                            ""
                        }
                    ),
                )
                .with_label(format!("not cleared for {}", tick_list(&uncleared)))
                .with_help(help),
            );
            ok &= has_permit;
        }
        ok
    }
}

fn agent_name<'p>(agents: &'p [plan::Agent], t: &plan::Target) -> &'p str {
    match t {
        plan::Target::Agent(a) => agents.get(*a as usize).map_or("?", |x| x.name.as_str()),
        plan::Target::Any(_) => "any",
    }
}

/// What a step being checked came from: a route's `dispatch` (one step, unnamed in the
/// source) or a named step of a `plan`. Messages name a plan step and not a dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StepOf<'a> {
    Dispatch,
    Plan(&'a str),
}

impl StepOf<'_> {
    /// "step `x`: " before a message about a plan step; nothing for a dispatch.
    pub(super) fn prefix(self) -> String {
        match self {
            StepOf::Dispatch => String::new(),
            StepOf::Plan(name) => format!("step `{name}`: "),
        }
    }

    /// The step as a message's subject.
    pub(super) fn subject(self) -> String {
        match self {
            StepOf::Dispatch => "the dispatch".to_string(),
            StepOf::Plan(name) => format!("step `{name}`"),
        }
    }
}
