//! One walk over a file's tree that reports every declaration and every name occurrence with
//! the role it plays (which kinds of declaration it can name). `index` resolves them.

use super::DefKind;
use crate::syntax::ast::*;

/// A declaration found by the walk.
pub struct Declared {
    pub kind: DefKind,
    pub name: String,
    pub focus: Span,
    pub full: Span,
    pub doc: Option<String>,
    /// A step: it belongs to the route declared last.
    pub parent_route: bool,
}

/// What a name occurrence can refer to.
#[derive(Debug, Clone, Copy)]
pub enum Role {
    Capability,
    /// A declaration of one of these kinds, by scope.
    Named(&'static [DefKind]),
    /// A step of the plan inside this route item.
    Step(Span),
    /// A path in an expression: a const, an intent, an agent, a human or a context field.
    Expr,
}

#[derive(Debug, Clone)]
pub struct Occurrence {
    pub role: Role,
    pub segments: Vec<Name>,
    /// For a capability in an agent's `provides`: that agent's name.
    pub provider: Option<String>,
}

const AGENT: &[DefKind] = &[DefKind::Agent];
const HUMAN: &[DefKind] = &[DefKind::Human];
const INTENT: &[DefKind] = &[DefKind::Intent];
const DATA: &[DefKind] = &[DefKind::DataClass];
const ANY: &[DefKind] = &[
    DefKind::DataClass,
    DefKind::Const,
    DefKind::Agent,
    DefKind::Human,
    DefKind::Intent,
    DefKind::Policy,
];

struct Walker<'o, F> {
    on_decl: F,
    out: &'o mut Vec<Occurrence>,
    route: Span,
}

/// Walks a file: declarations go to `on_decl` (in source order), occurrences to `out`.
pub fn walk_file(tree: &SourceTree, on_decl: &mut impl FnMut(Declared), out: &mut Vec<Occurrence>) {
    let mut w = Walker {
        on_decl,
        out,
        route: Span::default(),
    };
    for item in &tree.items {
        w.item(item);
    }
}

impl<F: FnMut(Declared)> Walker<'_, F> {
    fn decl(&mut self, kind: DefKind, name: &str, focus: Span, full: Span, doc: Option<&String>) {
        (self.on_decl)(Declared {
            kind,
            name: name.to_string(),
            focus,
            full,
            doc: doc.cloned(),
            parent_route: kind == DefKind::Step,
        });
    }

    fn name(&mut self, role: Role, n: &Name) {
        self.out.push(Occurrence {
            role,
            segments: vec![n.clone()],
            provider: None,
        });
    }

    fn path(&mut self, role: Role, p: &Path) {
        self.out.push(Occurrence {
            role,
            segments: p.segments.clone(),
            provider: None,
        });
    }

    fn item(&mut self, item: &Item) {
        let doc = item.doc.as_ref();
        let full = item.span;
        match &item.kind {
            ItemKind::Package(_) | ItemKind::Error(_) => {}
            ItemKind::Use(u) => {
                for n in u.names.iter().flatten() {
                    self.name(Role::Named(ANY), n);
                }
            }
            ItemKind::Capability(p) => {
                self.decl(DefKind::Capability, &p.dotted(), p.span, full, doc);
            }
            ItemKind::Data { name, parent } => {
                self.decl(DefKind::DataClass, &name.text, name.span, full, doc);
                if let Some(p) = parent {
                    self.path(Role::Named(DATA), p);
                }
            }
            ItemKind::Const { name, value } => {
                self.decl(DefKind::Const, &name.text, name.span, full, doc);
                self.expr(value);
            }
            ItemKind::Context(fields) => self.fields("", fields),
            ItemKind::Agent(a) => {
                self.decl(DefKind::Agent, &a.name.text, a.name.span, full, doc);
                for f in &a.fields {
                    match f {
                        AgentField::Provides(ps, _) => {
                            for p in ps {
                                self.out.push(Occurrence {
                                    role: Role::Capability,
                                    segments: p.segments.clone(),
                                    provider: Some(a.name.text.clone()),
                                });
                            }
                        }
                        AgentField::Clearance(ps, _) => {
                            ps.iter().for_each(|p| self.path(Role::Named(DATA), p))
                        }
                        AgentField::Backup(ns, _) => {
                            ns.iter().for_each(|n| self.name(Role::Named(AGENT), n))
                        }
                        AgentField::Trust(e, _)
                        | AgentField::Region(e, _)
                        | AgentField::Endpoint(e, _)
                        | AgentField::ProtocolEndpoint(_, e, _)
                        | AgentField::Cost(e, _) => self.expr(e),
                        AgentField::Labels(kv, _) => kv.iter().for_each(|(_, e)| self.expr(e)),
                        AgentField::Zone(..) => {}
                    }
                }
            }
            ItemKind::Human(h) => {
                self.decl(DefKind::Human, &h.name.text, h.name.span, full, doc);
            }
            ItemKind::Intent(i) => {
                self.decl(DefKind::Intent, &i.name.text, i.name.span, full, doc);
                for f in &i.fields {
                    match f {
                        IntentField::Requires(ps, _) => {
                            ps.iter().for_each(|p| self.path(Role::Capability, p))
                        }
                        IntentField::Handles(ps, _) => {
                            ps.iter().for_each(|p| self.path(Role::Named(DATA), p))
                        }
                        IntentField::Delegates(ns, _) => {
                            ns.iter().for_each(|n| self.name(Role::Named(INTENT), n))
                        }
                        _ => {}
                    }
                }
            }
            ItemKind::Route(r) => {
                self.route = full;
                self.decl(DefKind::Route, &r.intent.text, r.intent.span, full, doc);
                self.name(Role::Named(INTENT), &r.intent);
                for arm in &r.arms {
                    self.arm(arm);
                }
            }
            ItemKind::Policy(p) => {
                self.decl(DefKind::Policy, &p.name.text, p.name.span, full, doc);
                for rule in &p.rules {
                    match &rule.kind {
                        RuleKind::Forbid { when, unless } => {
                            when.iter().chain(unless.iter()).for_each(|e| self.expr(e))
                        }
                        RuleKind::Permit { when } | RuleKind::RequireAudit { when } => {
                            self.expr(when)
                        }
                        RuleKind::Escalate { humans, when } => {
                            humans.iter().for_each(|h| self.name(Role::Named(HUMAN), h));
                            self.expr(when);
                        }
                        RuleKind::Error => {}
                    }
                }
            }
            ItemKind::Review(r) => {
                let name = r.agent.as_ref().map_or("any", |a| a.text.as_str());
                self.decl(DefKind::Review, name, r.span_head, full, doc);
                if let Some(a) = &r.agent {
                    self.name(Role::Named(AGENT), a);
                }
                for arm in &r.arms {
                    self.arm(arm);
                }
            }
            ItemKind::Limits(limits) => {
                self.decl(
                    DefKind::Limits,
                    "limits",
                    Span::new(full.start as usize, full.start as usize + 6),
                    full,
                    doc,
                );
                for l in limits {
                    match l {
                        Limit::DelegationDepth(e, _) => self.expr(e),
                        Limit::Rate {
                            target, count, per, ..
                        } => {
                            self.target(target);
                            self.expr(count);
                            self.expr(per);
                        }
                        Limit::Breaker {
                            target,
                            failures,
                            cooldown,
                            ..
                        } => {
                            self.target(target);
                            self.expr(failures);
                            self.expr(cooldown);
                        }
                        Limit::IntentRate {
                            intent, count, per, ..
                        } => {
                            self.name(Role::Named(INTENT), intent);
                            self.expr(count);
                            self.expr(per);
                        }
                        Limit::Floor { value, .. } => self.expr(value),
                        Limit::Error(_) => {}
                    }
                }
            }
            ItemKind::Test(t) => {
                self.decl(DefKind::Test, &t.name.0, t.name.1, full, doc);
                if let Some(g) = &t.given {
                    self.expr(g);
                }

                for e in &t.expects {
                    match &e.kind {
                        ExpectKind::Dispatch(n) => self.name(Role::Named(AGENT), n),
                        ExpectKind::Plan(pairs) => pairs
                            .iter()
                            .for_each(|(_, a)| self.name(Role::Named(AGENT), a)),
                        ExpectKind::Escalate(n) => self.name(Role::Named(HUMAN), n),
                        ExpectKind::Intent(n) => self.name(Role::Named(INTENT), n),
                        ExpectKind::Redact(p) => self.path(Role::Named(DATA), p),
                        ExpectKind::Clarify
                        | ExpectKind::Deny(_)
                        | ExpectKind::Throttle
                        | ExpectKind::Audit
                        | ExpectKind::Pass
                        | ExpectKind::Unnamed(_) => {}
                    }
                }
            }
        }
    }

    fn fields(&mut self, prefix: &str, fields: &[FieldSchema]) {
        for f in fields {
            let name = if prefix.is_empty() {
                f.name.text.clone()
            } else {
                format!("{prefix}.{}", f.name.text)
            };
            self.decl(DefKind::ContextField, &name, f.name.span, f.span, None);
            if let TypeExpr::Record(inner, _) = &f.ty {
                self.fields(&name, inner);
            }
        }
    }

    fn arm(&mut self, arm: &Arm) {
        if let Some(c) = &arm.condition {
            self.expr(c);
        }
        match &arm.action {
            Action::Dispatch {
                target, fallbacks, ..
            } => {
                self.target(target);
                fallbacks.iter().for_each(|t| self.target(t));
            }
            Action::Plan { steps, .. } => {
                for s in steps {
                    self.decl(DefKind::Step, &s.name.text, s.name.span, s.span, None);
                }
                for s in steps {
                    self.target(&s.target);
                    for m in &s.modifiers {
                        match m {
                            StepModifier::After(ns, _) => {
                                let route = self.route;
                                ns.iter().for_each(|n| self.name(Role::Step(route), n))
                            }
                            StepModifier::Fallback(ts, _) => ts.iter().for_each(|t| self.target(t)),
                            StepModifier::Needs(ps, _) => {
                                ps.iter().for_each(|p| self.path(Role::Capability, p))
                            }
                            StepModifier::Handles(ps, _) => {
                                ps.iter().for_each(|p| self.path(Role::Named(DATA), p))
                            }
                        }
                    }
                }
            }
            Action::Escalate { humans, .. } => {
                humans.iter().for_each(|h| self.name(Role::Named(HUMAN), h))
            }
            Action::Redact { data, .. } => {
                data.iter().for_each(|p| self.path(Role::Named(DATA), p))
            }
            _ => {}
        }
    }

    fn target(&mut self, t: &Target) {
        match t {
            Target::Agent(n) => self.name(Role::Named(AGENT), n),
            Target::Any(p, _) => self.path(Role::Capability, p),
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Path(p) | ExprKind::Has(p) => self.path(Role::Expr, p),
            ExprKind::Set(items) | ExprKind::List(items) => items.iter().for_each(|x| self.expr(x)),
            ExprKind::Record(kv) => kv.iter().for_each(|(_, x)| self.expr(x)),
            ExprKind::Not(x) | ExprKind::Paren(x) => self.expr(x),
            ExprKind::And(a, b) | ExprKind::Or(a, b) | ExprKind::Cmp(_, a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::In { item, set, .. } => {
                self.expr(item);
                self.expr(set);
            }
            ExprKind::Touches(x, p) => {
                self.expr(x);
                self.path(Role::Named(DATA), p);
            }
            ExprKind::Provides(x, p) => {
                self.expr(x);
                self.path(Role::Capability, p);
            }
            _ => {}
        }
    }
}
