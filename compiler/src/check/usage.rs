//! Unused declarations (W0001) and capabilities no agent provides (W0002). Declarations of the
//! standard library are never reported: they are vocabulary, there to be used or not.

use super::Checker;
use crate::codes::Code;
use crate::diagnostics::Diagnostic;
use crate::syntax::ast::DeclKeyword;
use intent_runtime::plan;

impl Checker<'_, '_> {
    pub fn unused(
        &mut self,
        agents: &[plan::Agent],
        intents: &[plan::Intent],
        rules: &[plan::Rule],
    ) {
        let ws = self.t.ws;
        let mut found = Vec::new();
        for (pkg_name, pkg) in &ws.packages {
            let in_std = |file: usize| ws.file(file).is_some_and(|f| f.is_std);
            for (name, d) in &pkg.consts {
                if !in_std(d.file) && !self.t.is_used(DeclKeyword::Const, pkg_name, name) {
                    found.push((
                        d.file,
                        d.name.span,
                        DeclKeyword::Const.noun(),
                        name.to_string(),
                        "use it in a condition, or remove it",
                    ));
                }
            }
            for (name, d) in &pkg.humans {
                if !in_std(d.file) && !self.t.is_used(DeclKeyword::Human, pkg_name, name) {
                    found.push((
                        d.file,
                        d.name.span,
                        DeclKeyword::Human.noun(),
                        name.to_string(),
                        "escalate to them from a route, a policy or a review, or remove them",
                    ));
                }
            }
            for (name, d) in &pkg.data {
                if !in_std(d.file) && !self.t.is_used(DeclKeyword::Data, pkg_name, name) {
                    found.push((
                        d.file,
                        d.name.span,
                        DeclKeyword::Data.noun(),
                        name.to_string(),
                        "name it in an intent's `handles` or a clearance, or remove it",
                    ));
                }
            }
        }
        // An agent is used when it is named, or provides a capability some intent requires, some
        // `any` asks for or some `caller provides` condition reads (it calls, with that right).
        let mut asked = Vec::new();
        let conditions = intents
            .iter()
            .flat_map(|i| i.route.arms.iter().filter_map(|a| a.when.as_ref()))
            .chain(
                rules
                    .iter()
                    .flat_map(|r| r.when.iter().chain(r.unless.iter())),
            );
        for e in conditions {
            caller_caps(e, &mut asked);
        }
        let wanted: Vec<bool> = intents
            .iter()
            .flat_map(|i| {
                i.requires
                    .iter()
                    .copied()
                    .chain(i.route.arms.iter().flat_map(|a| match &a.action {
                        plan::Action::Dispatch { step } => step_caps(std::slice::from_ref(step)),
                        plan::Action::Plan { steps } => step_caps(steps),
                        _ => Vec::new(),
                    }))
            })
            .chain(asked)
            .fold(vec![false; self.t.caps.len()], |mut wanted, c| {
                if let Some(w) = wanted.get_mut(c as usize) {
                    *w = true;
                }
                wanted
            });
        let is_wanted = |c: &plan::CapId| wanted.get(*c as usize) == Some(&true);
        for (i, entry) in self.t.agents.iter().enumerate() {
            // An agent that provides nothing is never dispatched to: it is declared to call
            // (the caller of requests and tool calls, verified by the trust broker).
            let serves = agents
                .get(i)
                .is_some_and(|a| a.provides.is_empty() || a.provides.iter().any(is_wanted));
            let file = entry.decl.file;
            if !serves
                && !ws.file(file).is_some_and(|f| f.is_std)
                && !self
                    .t
                    .is_used(DeclKeyword::Agent, &entry.pkg, &entry.decl.name.text)
            {
                found.push((
                    file,
                    entry.decl.name.span,
                    DeclKeyword::Agent.noun(),
                    entry.display.clone(),
                    "name it in a route, or have it provide a capability an intent requires",
                ));
            }
        }
        for (file, span, kind, name, help) in found {
            self.diags.push(
                Diagnostic::new(
                    Code::UNUSED,
                    self.t.path(file),
                    span,
                    format!("{kind} `{name}` is never used"),
                )
                .with_label("declared here")
                .with_help(help),
            );
        }
        for (name, decl) in &ws.capabilities {
            let Some(&id) = self.t.cap_index.get(name) else {
                continue;
            };
            if !self.is_provided(id)
                && !is_wanted(&id)
                && !ws.file(decl.file).is_some_and(|f| f.is_std)
            {
                self.diags.push(
                    Diagnostic::new(
                        Code::CAPABILITY_NOT_PROVIDED,
                        self.t.path(decl.file),
                        decl.path.span,
                        format!("no agent provides capability `{name}`"),
                    )
                    .with_label("declared, never provided")
                    .with_help(format!(
                        "add `provides {name}` to an agent, or remove the declaration"
                    )),
                );
            }
        }
    }
}

fn step_caps(steps: &[plan::Step]) -> Vec<plan::CapId> {
    steps
        .iter()
        .flat_map(|s| {
            s.needs.iter().copied().chain(match s.target {
                plan::Target::Any(c) => Some(c),
                plan::Target::Agent(_) => None,
            })
        })
        .collect()
}

/// The capabilities `caller provides CAP` reads in `e`.
fn caller_caps(e: &plan::Expr, out: &mut Vec<plan::CapId>) {
    use plan::Expr;
    match e {
        Expr::CallerProvides { cap } => out.push(*cap),
        Expr::Not { e } => caller_caps(e, out),
        Expr::And { all: xs } | Expr::Or { any: xs } => xs.iter().for_each(|x| caller_caps(x, out)),
        Expr::Cmp { lhs, rhs, .. } => {
            caller_caps(lhs, out);
            caller_caps(rhs, out);
        }
        Expr::In { item, set, .. } => {
            caller_caps(item, out);
            caller_caps(set, out);
        }
        _ => {}
    }
}
