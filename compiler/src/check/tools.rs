//! Intents bound to MCP tools (`tool "name"`, docs/mcp.md): a tool name is valid for MCP and
//! names one intent; a tool call is one call to one MCP server, so the route of a tool's intent
//! dispatches to agents with an MCP endpoint, in one step (E0313); and a tool's arguments
//! become the request's context, so each `input` field is a context field of the same type
//! (E0314), which is what lets routes and policies read the arguments, and what the analysis
//! and Cedar see.

use super::test_blocks::describe;
use super::Checker;
use crate::codes::Code;
use crate::diagnostics::Diagnostic;
use crate::syntax::ast::{FieldSchema, IntentField, Span, TypeExpr};
use intent_runtime::plan::{self, Action, Protocol, Target, Type};
use std::collections::BTreeMap;

/// The longest tool name MCP allows.
const MAX_TOOL_NAME: usize = 128;

impl Checker<'_, '_> {
    /// `s` as a tool name, or `None` with a diagnostic: 1 to 128 ASCII letters, digits, `_`,
    /// `-` and `.` (the MCP specification's tool names).
    pub(super) fn tool_name(&mut self, file: usize, span: Span, s: String) -> Option<String> {
        let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
        if !s.is_empty() && s.len() <= MAX_TOOL_NAME && s.chars().all(ok) {
            return Some(s);
        }
        self.diags.push(
            Diagnostic::new(
                Code::BAD_FIELD_VALUE,
                self.t.path(file),
                span,
                format!(
                    "`{}` is not a tool name",
                    s.chars().take(64).collect::<String>()
                ),
            )
            .with_label("not a valid MCP tool name")
            .with_help("a tool name has 1 to 128 letters, digits, `_`, `-` or `.`"),
        );
        None
    }

    /// An intent's `output`: a record type whose fields may be marked with data classes.
    pub(super) fn output_schema(&mut self, file: usize, schema: &[FieldSchema]) -> Type {
        let mut ty = super::schema::record(self.t.path(file), schema, &mut self.diags);
        self.marks(file, schema, &mut ty);
        ty
    }

    fn marks(&mut self, file: usize, schema: &[FieldSchema], ty: &mut Type) {
        let Type::Record { fields } = ty else { return };
        for f in schema {
            let Some(field) = fields.iter_mut().find(|x| x.name == f.name.text) else {
                continue;
            };
            if let Some(p) = &f.data {
                field.data = self.t.resolve_data(file, p, &mut self.diags);
            }
            if let TypeExpr::Record(inner, _) = &f.ty {
                self.marks(file, inner, &mut field.ty);
            }
        }
    }

    /// Checks every intent bound to a tool against the agents and the context schema.
    pub(super) fn tools(&mut self, intents: &[plan::Intent], agents: &[plan::Agent]) {
        // In source order, so the second binding of a tool is the one reported.
        let mut bound = Vec::new();
        for (i, it) in intents.iter().enumerate() {
            let (Some(tool), Some(entry)) = (&it.tool, self.t.intents.get(i)) else {
                continue;
            };
            let decl = entry.decl.node;
            let tool_span = decl.fields.iter().find_map(|f| match f {
                IntentField::Tool(e, _) => Some(e.span),
                _ => None,
            });
            if let Some(span) = tool_span {
                bound.push((entry.decl.file, span, it, tool, decl));
            }
        }
        bound.sort_by_key(|(file, span, ..)| (*file, span.start));
        let mut seen: BTreeMap<String, (usize, Span, String)> = BTreeMap::new();
        for (file, tool_span, it, tool, decl) in bound {
            if let Some((pf, ps, prev)) = seen.get(tool) {
                let prev_path = self.t.path(*pf).to_string();
                self.diags.push(
                    Diagnostic::new(
                        Code::DUPLICATE,
                        self.t.path(file),
                        tool_span,
                        format!("tool `{tool}` is bound to two intents"),
                    )
                    .with_label(format!("bound again here, to `{}`", it.name))
                    .with_secondary(&prev_path, *ps, format!("bound to `{prev}` here"))
                    .with_help("a tool call asks for one intent: bind each tool once"),
                );
            } else {
                seen.insert(tool.clone(), (file, tool_span, it.name.clone()));
            }
            self.tool_route(it, agents);
            self.tool_arguments(it, file, decl);
        }
    }

    /// E0313: each arm of a tool's route that serves it names only MCP agents, in one step.
    fn tool_route(&mut self, it: &plan::Intent, agents: &[plan::Agent]) {
        for arm in &it.route.arms {
            let steps = match &arm.action {
                Action::Dispatch { step } => std::slice::from_ref(step),
                Action::Plan { steps } => &steps[..],
                _ => continue,
            };
            let Some(&(file, span)) = self.spans.get(arm.src as usize) else {
                continue;
            };
            if steps.len() > 1 {
                self.diags.push(
                    Diagnostic::new(
                        Code::TOOL_ROUTE,
                        self.t.path(file),
                        span,
                        format!(
                            "intent `{}` is a tool, but this arm plans {} steps",
                            it.name,
                            steps.len()
                        ),
                    )
                    .with_label("a tool call is forwarded to one MCP server")
                    .with_help("dispatch the tool's intent to one agent (with fallbacks), or delegate the other steps from the MCP server"),
                );
                continue;
            }
            let mut named = Vec::new();
            for s in steps {
                for t in std::iter::once(&s.target).chain(&s.fallbacks) {
                    match t {
                        Target::Agent(a) => named.extend(backup_chain(agents, *a)),
                        Target::Any(cap) => named.extend(
                            agents
                                .iter()
                                .enumerate()
                                .filter(|(_, a)| a.provides.binary_search(cap).is_ok())
                                .map(|(i, _)| i),
                        ),
                    }
                }
            }
            named.sort_unstable();
            named.dedup();
            let not_mcp: Vec<&str> = named
                .iter()
                .filter_map(|i| agents.get(*i))
                .filter(|a| a.protocol != Some(Protocol::Mcp))
                .map(|a| a.name.as_str())
                .collect();
            if let Some(first) = not_mcp.first() {
                let others = match not_mcp.len() {
                    1 => String::new(),
                    n => format!(" (and {} other agents)", n - 1),
                };
                self.diags.push(
                    Diagnostic::new(
                        Code::TOOL_ROUTE,
                        self.t.path(file),
                        span,
                        format!(
                            "intent `{}` is a tool, but this arm may send it to `{first}`{others}, which has no MCP endpoint",
                            it.name
                        ),
                    )
                    .with_label("a tool call can only be forwarded to an MCP server")
                    .with_help(format!("give `{first}` an `endpoint mcp \"URL\"`, or dispatch to an agent that has one")),
                );
            }
        }
    }

    /// E0314: each `input` field of a tool's intent is a context field of the same type.
    fn tool_arguments(
        &mut self,
        it: &plan::Intent,
        file: usize,
        decl: &crate::syntax::ast::IntentDecl,
    ) {
        let Some(Type::Record { fields }) = &it.input else {
            return;
        };
        let Type::Record { fields: context } = &self.t.context else {
            return;
        };
        let spans: BTreeMap<&str, Span> = decl
            .fields
            .iter()
            .filter_map(|f| match f {
                IntentField::Input(schema, _) => Some(schema),
                _ => None,
            })
            .flatten()
            .map(|f| (f.name.text.as_str(), f.name.span))
            .collect();
        let mut found = Vec::new();
        for f in fields {
            let span = spans
                .get(f.name.as_str())
                .copied()
                .unwrap_or(decl.name.span);
            match context.iter().find(|c| c.name == f.name) {
                None => found.push(
                    Diagnostic::new(
                        Code::TOOL_ARGUMENT,
                        self.t.path(file),
                        span,
                        format!(
                            "argument `{}` of tool `{}` is not a context field",
                            f.name,
                            it.tool.as_deref().unwrap_or("")
                        ),
                    )
                    .with_label("a tool's arguments are the request's context")
                    .with_help(format!(
                        "declare it in the context: `context {{ {}?: {} }}`",
                        f.name,
                        type_text(&f.ty)
                    )),
                ),
                Some(c) if c.ty != f.ty => found.push(
                    Diagnostic::new(
                        Code::TOOL_ARGUMENT,
                        self.t.path(file),
                        span,
                        format!(
                            "argument `{}` is {} here but {} in the context",
                            f.name,
                            describe(&f.ty),
                            describe(&c.ty)
                        ),
                    )
                    .with_label("a tool's arguments are the request's context")
                    .with_help("give the argument the context field's type"),
                ),
                Some(_) => {}
            }
        }
        self.diags.extend(found);
    }
}

/// Agent `a` and its backups, transitively (E0307 keeps the chain acyclic; this stops anyway).
fn backup_chain(agents: &[plan::Agent], a: plan::AgentId) -> Vec<usize> {
    let mut out = vec![a as usize];
    let mut next = 0;
    while let Some(&i) = out.get(next) {
        next += 1;
        for b in agents.get(i).map(|x| &x.backups[..]).unwrap_or(&[]) {
            if !out.contains(&(*b as usize)) {
                out.push(*b as usize);
            }
        }
    }
    out
}

/// A type as the user writes it, for the help line.
fn type_text(ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::Number => "number".into(),
        Type::String => "string".into(),
        Type::Duration => "duration".into(),
        Type::Enum { values } => values
            .iter()
            .map(|v| format!("{v:?}"))
            .collect::<Vec<_>>()
            .join(" | "),
        Type::Set { of } => format!("set<{}>", type_text(of)),
        Type::List { of } => format!("list<{}>", type_text(of)),
        Type::Record { fields } => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| {
                    format!(
                        "{}{}: {}",
                        f.name,
                        if f.optional { "?" } else { "" },
                        type_text(&f.ty)
                    )
                })
                .collect();
            format!("{{ {} }}", inner.join(", "))
        }
    }
}
