//! Policies and reviews: each rule's condition in its site (`agent`, `data` in policies;
//! `response` in reviews), reasons for `forbid`, humans for `escalate`, review targets.

use super::expr::{ExprCx, Site};
use super::routes::ArmsOf;
use super::Checker;
use crate::codes::Code;
use crate::diagnostics::Diagnostic;
use crate::syntax::ast::{RuleKind, Span};
use intent_runtime::plan;

impl Checker<'_, '_> {
    /// Rules of every policy, sorted by policy name, then in source order.
    pub fn rules(&mut self) -> Vec<plan::Rule> {
        let mut policies: Vec<(String, usize, &crate::syntax::ast::PolicyDecl)> = Vec::new();
        for (pkg_name, pkg) in &self.t.ws.packages {
            for (name, d) in &pkg.policies {
                let key = if pkg_name == "main" {
                    (*name).to_string()
                } else {
                    format!("{pkg_name}.{name}")
                };
                policies.push((key, d.file, d.node));
            }
        }
        policies.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = Vec::new();
        for (policy, file, decl) in policies {
            for (i, rule) in decl.rules.iter().enumerate() {
                let mut cx = ExprCx::new(&self.t, file, Site::Policy, &mut self.diags);
                let (kind, when, unless, humans) = match &rule.kind {
                    RuleKind::Forbid { when, unless } => {
                        let w = when.as_ref().map(|e| cx.condition(e));
                        let u = unless.as_ref().map(|e| cx.condition(e));
                        (plan::RuleKind::Forbid, w, u, Vec::new())
                    }
                    RuleKind::Permit { when } => (
                        plan::RuleKind::Permit,
                        Some(cx.condition(when)),
                        None,
                        Vec::new(),
                    ),
                    RuleKind::RequireAudit { when } => (
                        plan::RuleKind::RequireAudit,
                        Some(cx.condition(when)),
                        None,
                        Vec::new(),
                    ),
                    RuleKind::Escalate { humans, when } => {
                        let w = cx.condition(when);
                        let hs = humans
                            .iter()
                            .filter_map(|h| self.t.resolve_human(file, h, &mut self.diags))
                            .collect();
                        (plan::RuleKind::Escalate, Some(w), None, hs)
                    }
                    RuleKind::Error => continue,
                };
                if kind == plan::RuleKind::Forbid && rule.because.is_none() {
                    self.diags.push(
                        Diagnostic::new(Code::MISSING_REASON, self.t.path(file), Span { start: rule.span.start, end: rule.span.start + 6 }, "this `forbid` gives no reason")
                            .with_label("needs `because \"...\"`")
                            .with_help("add `because \"...\"`: it is what the denied requester is told and what the audit log records"),
                    );
                }
                let src = self.src(file, rule.span);
                out.push(plan::Rule {
                    id: format!("{policy}#{i}"),
                    policy: policy.clone(),
                    kind,
                    when,
                    unless,
                    humans,
                    because: rule.because.as_ref().map(|b| b.0.clone()),
                    src,
                });
            }
        }
        out
    }

    /// Reviews, sorted by agent (`review any` first).
    pub fn reviews(&mut self) -> Vec<plan::Review> {
        let mut out = Vec::new();
        let mut seen: Vec<(Option<plan::AgentId>, usize, Span)> = Vec::new();
        let reviews = self.t.ws.reviews.clone();
        for (file, r, item) in reviews {
            let agent = match &r.agent {
                Some(n) => match self.t.resolve_agent(file, n, &mut self.diags) {
                    Some(a) => Some(a),
                    None => continue,
                },
                None => None,
            };
            if let Some((_, pf, ps)) = seen.iter().find(|(a, _, _)| *a == agent) {
                let who = r
                    .agent
                    .as_ref()
                    .map_or_else(|| "any".to_string(), |n| n.text.clone());
                self.diags.push(
                    Diagnostic::new(
                        Code::DUPLICATE,
                        self.t.path(file),
                        r.span_head,
                        format!("`{who}` is reviewed twice"),
                    )
                    .with_label("second review")
                    .with_secondary(self.t.path(*pf), *ps, "first review")
                    .with_help("merge the arms into one review"),
                );
                continue;
            }
            seen.push((agent, file, r.span_head));
            let arms = self.arms(file, &r.arms, r.span_head, ArmsOf::Review, &[]);
            let src = self.src(file, item.span);
            out.push(plan::Review { agent, arms, src });
        }
        out.sort_by_key(|r| r.agent.map_or(0, |a| a as u64 + 1));
        out
    }
}
