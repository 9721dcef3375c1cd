//! The request's verified caller in conditions (docs/reference/expressions.md, "The caller"):
//! `caller.name`, `caller.trust`, `caller.region`, `caller.zone`, `caller.labels.KEY`,
//! `caller provides CAP` and `has caller`. Part of the expression checker in `expr.rs`.
//!
//! Every caller operand is absent for an anonymous caller, like an optional context field:
//! a comparison with it is false, and reading it in a policy without `has caller` is W0003. A
//! string compared with `caller.name` must name an agent of the mesh (E0102), since no other
//! caller has attributes the plan knows; so must one compared with `agent.name` (the agent a
//! step would go to, always one of the mesh's).

use super::expr::{ExprCx, Site, Ty, Typed};
use crate::codes::Code;
use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::syntax::ast::{self, Path};
use intent_runtime::plan::{Expr, Value};

/// The attributes a caller has, as written after `caller.`.
const ATTRIBUTES: [&str; 5] = ["name", "trust", "region", "zone", "labels"];

/// The path `has caller` proves present (as `has` of a field does), and that every caller
/// operand is absent without.
fn caller_path() -> Vec<String> {
    vec!["caller".to_string()]
}

impl ExprCx<'_, '_, '_> {
    /// `caller` (`rest` empty) or `caller.ATTRIBUTE`.
    pub(super) fn caller_attr(&mut self, p: &Path, rest: &[&str]) -> Typed {
        if !self.caller_here(p.segments.first().map_or(p.span, |h| h.span)) {
            return Typed::error();
        }
        let (ty, expr, unit) = match rest {
            [] => (Ty::Caller, Expr::CallerName, None),
            ["name"] => (Ty::AgentName, Expr::CallerName, None),
            ["trust"] => (Ty::Number, Expr::CallerTrust, Some("caller.trust")),
            ["region"] => (Ty::String, Expr::CallerRegion, None),
            ["zone"] => (Ty::String, Expr::CallerZone, None),
            ["labels", key] => (
                Ty::Label,
                Expr::CallerLabel {
                    key: (*key).to_string(),
                },
                None,
            ),
            _ => {
                self.unknown_attribute(p, rest);
                return Typed::error();
            }
        };
        // In a policy, a comparison that is false for an anonymous caller can let it through
        // (`forbid when caller.trust < 0.5`): W0003 unless `has caller` says what is meant. In a
        // route, such an arm falls through to the next, and the analysis reports a route that
        // leaves anonymous callers uncovered (E0300), so no warning is needed there.
        Typed {
            optional: (self.site == Site::Policy).then(caller_path),
            unit,
            ..Typed::new(ty, expr)
        }
    }

    /// `has caller`: the request's caller is an agent of the mesh.
    pub(super) fn has_caller(&mut self, p: &Path) -> Typed {
        if p.segments.len() > 1 {
            self.err(
                Code::TYPE_MISMATCH,
                p.span,
                format!("`has` tests `caller` as a whole, not `{}`", p.dotted()),
                "not testable",
                "write `has caller`: a caller of the mesh has every attribute but labels, and a \
                 label it lacks makes a comparison false"
                    .into(),
            );
            return Typed::error();
        }
        if !self.caller_here(p.span) {
            return Typed::error();
        }
        Typed::new(Ty::Bool, Expr::HasCaller)
    }

    /// Whether the caller may be read here (E0202 in a review, which has no request).
    fn caller_here(&mut self, span: ast::Span) -> bool {
        if self.site != Site::Review {
            return true;
        }
        self.err(
            Code::OPERAND_CONTEXT,
            span,
            "`caller` is only available in a route arm or a `policy` rule".into(),
            "not available here",
            "a review reads the agent's response, not the request's caller".into(),
        );
        false
    }

    /// E0114: `caller.X` for an `X` a caller does not have.
    fn unknown_attribute(&mut self, p: &Path, rest: &[&str]) {
        let span = p.segments.get(1).map_or(p.span, |s| s.span);
        let attr = rest.join(".");
        let first = rest.first().copied().unwrap_or("");
        let help = if first == "labels" {
            "a label is read by its key: `caller.labels.tier`".to_string()
        } else {
            did_you_mean(first, ATTRIBUTES).unwrap_or_else(|| {
                "a caller has `name`, `trust`, `region`, `zone` and `labels.KEY`, and is \
                 tested with `caller provides CAPABILITY`"
                    .into()
            })
        };
        self.err(
            Code::UNKNOWN_CALLER_ATTRIBUTE,
            span,
            format!("the caller has no attribute `{attr}`"),
            "unknown attribute",
            help,
        );
    }

    /// `caller.name` or `agent.name` compared with a string literal: the literal must name an
    /// agent (a name no agent has would never be equal: a silent typo in a policy).
    pub(super) fn check_agent_literal(&mut self, e: &Typed, lit: &Typed, span: ast::Span) {
        if e.ty != Ty::AgentName {
            return;
        }
        let caller = matches!(e.expr, Expr::CallerName);
        match &lit.expr {
            Expr::Lit {
                value: Value::String(s),
            } => self.agent_name(s, span, caller),
            Expr::Lit {
                value: Value::List(members),
            } => {
                for m in members {
                    if let Value::String(s) = m {
                        self.agent_name(s, span, caller);
                    }
                }
            }
            _ => {}
        }
    }

    /// `name` compared with `caller.name` (`caller`) or `agent.name`.
    fn agent_name(&mut self, name: &str, span: ast::Span, caller: bool) {
        let agents = &self.t.agents;
        if let Some(a) = agents.iter().find(|a| a.display == name) {
            // Naming an agent as the caller is a use of it (no W0001 for an agent that only
            // raises requests); naming it in `agent.name` is not (a rule about an agent that
            // nothing dispatches to is still a rule about an unused agent).
            if caller {
                self.t.mark_used(
                    crate::syntax::ast::DeclKeyword::Agent,
                    &a.pkg,
                    &a.decl.name.text,
                );
            }
            return;
        }
        let (label, otherwise) = if caller {
            (
                "never the caller's name",
                "`caller.name` is compared with the name of an agent of the mesh: a caller \
                 that is not one is anonymous",
            )
        } else {
            (
                "never the agent's name",
                "`agent.name` is the name of the agent a step would go to, always an agent \
                 of the mesh: a name none of them has never equals it",
            )
        };
        let help = did_you_mean(name, agents.iter().map(|a| a.display.as_str()))
            .unwrap_or_else(|| otherwise.into());
        self.diags.push(
            Diagnostic::new(
                Code::UNKNOWN_AGENT,
                self.path(),
                span,
                format!("no agent is named \"{name}\""),
            )
            .with_label(label)
            .with_help(help),
        );
    }
}
