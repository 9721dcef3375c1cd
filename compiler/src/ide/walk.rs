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

/// What a name occurrence can refer to: the place the checker reads it in, so that the editor
/// resolves it as the checker does (`index::resolve`).
#[derive(Debug, Clone)]
pub enum Role {
    Capability,
    /// A declaration of one of these kinds, by scope.
    Named(&'static [DefKind]),
    /// A step of the plan inside this route item.
    Step(Span),
    /// A path in a condition, read as `check/expr.rs` (`operand`) reads it: a built-in operand
    /// (`confidence`, `agent.trust`, ...) names no declaration; else a context field when its
    /// first segment is one; else a const.
    Operand,
    /// A path where a literal is expected (an agent's `trust`, a limit's count): a const.
    Const,
    /// A key of a test's `given` that names a context field: the field `prefix.name`
    /// (`prefix` empty at the top), as `check/test_blocks.rs` reads it.
    Field(String),
    /// `use p.x` and `use p.{x}` (the segments `p.x`): `x` of package `p`, nothing when `p.x`
    /// is itself a package (`use p.x` then names the package, an alias).
    Import,
    /// A string compared with `caller.name` or `agent.name` (the one segment is its content):
    /// the agent of that name in the plan (`check/caller.rs`, `agent_name`).
    AgentString,
}

#[derive(Debug, Clone)]
pub struct Occurrence {
    pub role: Role,
    pub segments: Vec<Name>,
    /// For a capability in an agent's `provides`: that agent's name.
    pub provider: Option<String>,
}

const AGENT: &[DefKind] = &[DefKind::AGENT];
const HUMAN: &[DefKind] = &[DefKind::HUMAN];
const INTENT: &[DefKind] = &[DefKind::INTENT];
const DATA: &[DefKind] = &[DefKind::DATA_CLASS];
const AGENT_OR_HUMAN: &[DefKind] = &[DefKind::AGENT, DefKind::HUMAN];
/// What a `use` can import (`hir::collect`, `declares`).
pub const IMPORTABLE: &[DefKind] = &[
    DefKind::DATA_CLASS,
    DefKind::CONST,
    DefKind::AGENT,
    DefKind::HUMAN,
    DefKind::INTENT,
    DefKind::POLICY,
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
            ItemKind::Use(u) => match &u.names {
                Some(names) => {
                    for n in names {
                        let mut segments = u.path.segments.clone();
                        segments.push(n.clone());
                        self.out.push(Occurrence {
                            role: Role::Import,
                            segments,
                            provider: None,
                        });
                    }
                }
                None => self.path(Role::Import, &u.path),
            },
            ItemKind::Capability(p) => {
                self.decl(DefKind::Capability, &p.dotted(), p.span, full, doc);
            }
            ItemKind::Data { name, parent } => {
                self.decl(DefKind::DATA_CLASS, &name.text, name.span, full, doc);
                if let Some(p) = parent {
                    self.path(Role::Named(DATA), p);
                }
            }
            // A const holds literals only (a path there is an error): its value names nothing.
            ItemKind::Const { name, .. } => {
                self.decl(DefKind::CONST, &name.text, name.span, full, doc);
            }
            ItemKind::Context(fields) => self.fields("", fields),
            ItemKind::Agent(a) => {
                self.decl(DefKind::AGENT, &a.name.text, a.name.span, full, doc);
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
                        | AgentField::Cost(e, _) => self.value(e),
                        // Labels are literals only.
                        AgentField::Labels(..) | AgentField::Zone(..) => {}
                    }
                }
            }
            ItemKind::Human(h) => {
                self.decl(DefKind::HUMAN, &h.name.text, h.name.span, full, doc);
            }
            ItemKind::Intent(i) => {
                self.decl(DefKind::INTENT, &i.name.text, i.name.span, full, doc);
                let is_tool = i.fields.iter().any(|f| matches!(f, IntentField::Tool(..)));
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
                        // A tool's arguments are context fields of the same names
                        // (`check/tools.rs`, `tool_arguments`).
                        IntentField::Input(fields, _) if is_tool => fields
                            .iter()
                            .for_each(|f| self.name(Role::Field(String::new()), &f.name)),
                        _ => {}
                    }
                }
            }
            ItemKind::Route(r) => {
                self.route = full;
                self.decl(DefKind::ROUTE, &r.intent.text, r.intent.span, full, doc);
                self.name(Role::Named(INTENT), &r.intent);
                for arm in &r.arms {
                    self.arm(arm);
                }
            }
            ItemKind::Policy(p) => {
                self.decl(DefKind::POLICY, &p.name.text, p.name.span, full, doc);
                for rule in &p.rules {
                    match &rule.kind {
                        RuleKind::Forbid { when, unless } => {
                            when.iter().chain(unless.iter()).for_each(|e| self.cond(e))
                        }
                        RuleKind::Permit { when } | RuleKind::RequireAudit { when } => {
                            self.cond(when)
                        }
                        RuleKind::Escalate { humans, when } => {
                            humans.iter().for_each(|h| self.name(Role::Named(HUMAN), h));
                            self.cond(when);
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
                        Limit::DelegationDepth(e, _) => self.value(e),
                        // A rate limits an agent or a person (`check/items.rs`, `limit_target`).
                        Limit::Rate {
                            target, count, per, ..
                        } => {
                            match target {
                                Target::Agent(n) => self.name(Role::Named(AGENT_OR_HUMAN), n),
                                Target::Any(..) => self.target(target),
                            }
                            self.value(count);
                            self.value(per);
                        }
                        Limit::Breaker {
                            target,
                            failures,
                            cooldown,
                            ..
                        } => {
                            self.target(target);
                            self.value(failures);
                            self.value(cooldown);
                        }
                        Limit::IntentRate {
                            intent, count, per, ..
                        } => {
                            self.name(Role::Named(INTENT), intent);
                            self.value(count);
                            self.value(per);
                        }
                        Limit::Floor { value, .. } => self.value(value),
                        Limit::Error(_) => {}
                    }
                }
            }
            ItemKind::Test(t) => {
                self.decl(DefKind::Test, &t.name.0, t.name.1, full, doc);
                if let Some(g) = &t.given {
                    self.given(g);
                }
                for line in &t.scene {
                    self.name(Role::Named(AGENT_OR_HUMAN), &line.subject);
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
            self.cond(c);
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

    /// A value written as a literal or a const's name.
    fn value(&mut self, e: &Expr) {
        if let ExprKind::Path(p) = &e.kind {
            self.path(Role::Const, p);
        }
    }

    /// A condition, with the roles `check/expr.rs` and `check/compare.rs` give its paths: the
    /// other side of `intent ==` and the members of `intent in {..}` are intents.
    fn cond(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Path(p) | ExprKind::Has(p) => self.path(Role::Operand, p),
            ExprKind::Set(items) | ExprKind::List(items) => items.iter().for_each(|x| self.cond(x)),
            ExprKind::Record(kv) => kv.iter().for_each(|(_, x)| self.cond(x)),
            ExprKind::Not(x) | ExprKind::Paren(x) => self.cond(x),
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                self.cond(a);
                self.cond(b);
            }
            ExprKind::Cmp(_, a, b) => {
                self.cond(a);
                match (is_intent(a), &b.kind) {
                    (true, ExprKind::Path(p)) if p.segments.len() == 1 => {
                        self.path(Role::Named(INTENT), p)
                    }
                    _ => self.cond(b),
                }
                if is_agent_name(a) {
                    self.agent_strings(b);
                }
                if is_agent_name(b) {
                    self.agent_strings(a);
                }
            }
            ExprKind::In { item, set, .. } => {
                if is_agent_name(item) {
                    self.agent_strings(set);
                }
                self.cond(item);
                match (is_intent(item), &set.kind) {
                    (true, ExprKind::Set(v) | ExprKind::List(v)) => {
                        for n in v {
                            if let ExprKind::Path(p) = &n.kind {
                                if p.segments.len() == 1 {
                                    self.path(Role::Named(INTENT), p);
                                }
                            }
                        }
                    }
                    _ => self.cond(set),
                }
            }
            ExprKind::Touches(x, p) => {
                self.cond(x);
                self.path(Role::Named(DATA), p);
            }
            ExprKind::Provides(x, p) => {
                self.cond(x);
                self.path(Role::Capability, p);
            }
            _ => {}
        }
    }

    /// A test's `given`, with the keys `check/test_blocks.rs` reads: the request's own
    /// (`intent`, `agent`, `caller`, `response`, ...) and the context's fields, nested records
    /// by their fields.
    fn given(&mut self, g: &Expr) {
        let ExprKind::Record(kv) = &g.kind else {
            return;
        };
        for (k, v) in kv {
            match k.text.as_str() {
                "intent" => self.name_in(Role::Named(INTENT), v),
                "agent" => self.name_in(Role::Named(AGENT), v),
                "caller" => {
                    if let ExprKind::Record(fields) = &v.kind {
                        for (ck, cv) in fields {
                            match ck.text.as_str() {
                                "agent" => self.name_in(Role::Named(AGENT), cv),
                                "lineage" => self.names_in(Role::Named(INTENT), cv),
                                _ => {}
                            }
                        }
                    }
                }
                "response" => {
                    if let ExprKind::Record(fields) = &v.kind {
                        for (rk, rv) in fields {
                            if rk.text == "data" {
                                self.names_in(Role::Named(DATA), rv);
                            }
                        }
                    }
                }
                // The request's other words name nothing; every other key is a field.
                other if crate::check::REQUEST_KEYS.contains(&other) => {}
                _ => self.field_value("", k, v),
            }
        }
    }

    /// A context field's key in a `given` and, for a record, its fields' keys.
    fn field_value(&mut self, prefix: &str, key: &Name, value: &Expr) {
        self.name(Role::Field(prefix.to_string()), key);
        if let ExprKind::Record(kv) = &value.kind {
            let path = if prefix.is_empty() {
                key.text.clone()
            } else {
                format!("{prefix}.{}", key.text)
            };
            for (k, v) in kv {
                self.field_value(&path, k, v);
            }
        }
    }

    /// The strings of `e` (a string, or a set or list of them) as agent names: each as one
    /// segment spanning its content, when the content is written as is (no escapes).
    fn agent_strings(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Str(text)
                if e.span.end.saturating_sub(e.span.start) as usize == text.len() + 2 =>
            {
                self.out.push(Occurrence {
                    role: Role::AgentString,
                    segments: vec![Name {
                        text: text.clone(),
                        span: Span {
                            start: e.span.start + 1,
                            end: e.span.end - 1,
                        },
                    }],
                    provider: None,
                });
            }
            ExprKind::Set(items) | ExprKind::List(items) => {
                items.iter().for_each(|x| self.agent_strings(x))
            }
            ExprKind::Paren(x) => self.agent_strings(x),
            _ => {}
        }
    }

    /// `e` when it is a one-word name: what `check/test_blocks.rs` (`name_value`) reads.
    fn name_in(&mut self, role: Role, e: &Expr) {
        if let ExprKind::Path(p) = &e.kind {
            if p.segments.len() == 1 {
                self.path(role, p);
            }
        }
    }

    /// The members of a set or a list, each as [`Walker::name_in`] reads it (data classes by
    /// any path).
    fn names_in(&mut self, role: Role, e: &Expr) {
        if let ExprKind::Set(items) | ExprKind::List(items) = &e.kind {
            for x in items {
                match (&role, &x.kind) {
                    (Role::Named(k), ExprKind::Path(p)) if *k == DATA => self.path(role.clone(), p),
                    _ => self.name_in(role.clone(), x),
                }
            }
        }
    }
}

/// Whether `e` is `caller.name` or `agent.name` (in parentheses or not): a string compared
/// with it names an agent.
fn is_agent_name(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Paren(x) => is_agent_name(x),
        ExprKind::Path(p) => {
            let segs: Vec<&str> = p.segments.iter().map(|n| n.text.as_str()).collect();
            matches!(segs.as_slice(), ["caller" | "agent", "name"])
        }
        _ => false,
    }
}

/// Whether `e` is the built-in `intent` (in parentheses or not): what it is compared with
/// names an intent.
fn is_intent(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Paren(x) => is_intent(x),
        ExprKind::Path(p) => p.segments.len() == 1 && p.segments[0].text == "intent",
        _ => false,
    }
}
