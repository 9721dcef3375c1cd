//! Document symbols (the outline of a file) and workspace symbols (every declaration of every
//! mesh, filtered by a query). A file's outline is assembled from per-item outlines
//! (`queries::item_outline`), each relative to its item, shifted by the item's start.

use super::queries::{item_count, item_outline, item_starts, OutlineEntry};
use super::{DefKind, FileRange, Snapshot};
use crate::syntax::ast::*;

/// A declaration in an outline.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Symbol {
    pub name: String,
    pub kind: DefKind,
    /// The whole declaration.
    pub full: FileRange,
    /// Its name.
    pub focus: FileRange,
    pub children: Vec<Symbol>,
}

impl Snapshot {
    /// The outline of a file.
    pub fn document_symbols(&self, path: &str) -> Vec<Symbol> {
        let Some(file) = self.file(path) else {
            return Vec::new();
        };
        let starts = item_starts(&self.db, file);
        let mut out = Vec::new();
        for i in 0..item_count(&self.db, file) {
            let at = starts.get(i as usize).copied().unwrap_or(0);
            for e in item_outline(&self.db, file, i) {
                out.push(shift(path, e, at));
            }
        }
        out
    }

    /// Declarations whose name contains `query` (case-insensitive), across all meshes; the
    /// standard library's only when the query is not empty.
    pub fn workspace_symbols(&self, query: &str) -> Vec<Symbol> {
        let q = query.to_lowercase();
        let mut out = Vec::new();
        for set in self.meshes() {
            let index = super::index::symbol_index(&self.db, set);
            for d in &index.defs {
                if matches!(d.kind, DefKind::Step | DefKind::ROUTE) || (d.is_std && q.is_empty()) {
                    continue;
                }
                if d.name.to_lowercase().contains(&q) {
                    out.push(Symbol {
                        name: d.name.clone(),
                        kind: d.kind,
                        full: FileRange {
                            file: d.file.clone(),
                            span: d.full,
                        },
                        focus: FileRange {
                            file: d.file.clone(),
                            span: d.focus,
                        },
                        children: Vec::new(),
                    });
                }
            }
        }
        out.sort_by(|a, b| (&a.name, &a.full).cmp(&(&b.name, &b.full)));
        out.dedup();
        out
    }
}

fn shift(path: &str, e: &OutlineEntry, at: u32) -> Symbol {
    let mv = |s: Span| Span {
        start: s.start + at,
        end: s.end + at,
    };
    Symbol {
        name: e.name.clone(),
        kind: e.kind,
        full: FileRange {
            file: path.to_string(),
            span: mv(e.full),
        },
        focus: FileRange {
            file: path.to_string(),
            span: mv(e.focus),
        },
        children: e.children.iter().map(|c| shift(path, c, at)).collect(),
    }
}

/// The outline of a tree (an item parsed alone), positions as in the tree.
pub(crate) fn outline(tree: &SourceTree) -> Vec<OutlineEntry> {
    let entry = |name: &str, kind, full, focus, children| OutlineEntry {
        name: name.to_string(),
        kind,
        full,
        focus,
        children,
    };
    let mut out = Vec::new();
    for item in &tree.items {
        let full = item.span;
        let e = match &item.kind {
            ItemKind::Capability(p) => {
                entry(&p.dotted(), DefKind::Capability, full, p.span, vec![])
            }
            ItemKind::Data { name, .. } => {
                entry(&name.text, DefKind::DATA_CLASS, full, name.span, vec![])
            }
            ItemKind::Const { name, .. } => {
                entry(&name.text, DefKind::CONST, full, name.span, vec![])
            }
            ItemKind::Context(fields) => {
                let head = Span::new(full.start as usize, full.start as usize + 7);
                entry(
                    "context",
                    DefKind::ContextField,
                    full,
                    head,
                    fields_outline(fields),
                )
            }
            ItemKind::Agent(a) => entry(&a.name.text, DefKind::AGENT, full, a.name.span, vec![]),
            ItemKind::Human(h) => entry(&h.name.text, DefKind::HUMAN, full, h.name.span, vec![]),
            ItemKind::Intent(i) => entry(&i.name.text, DefKind::INTENT, full, i.name.span, vec![]),
            ItemKind::Route(r) => {
                let steps = r
                    .arms
                    .iter()
                    .flat_map(|a| match &a.action {
                        Action::Plan { steps, .. } => steps.as_slice(),
                        _ => &[],
                    })
                    .map(|s| entry(&s.name.text, DefKind::Step, s.span, s.name.span, vec![]))
                    .collect();
                entry(
                    &format!("route {}", r.intent.text),
                    DefKind::ROUTE,
                    full,
                    r.intent.span,
                    steps,
                )
            }
            ItemKind::Policy(p) => entry(&p.name.text, DefKind::POLICY, full, p.name.span, vec![]),
            ItemKind::Review(r) => {
                let name = r.agent.as_ref().map_or("any", |a| a.text.as_str());
                entry(
                    &format!("review {name}"),
                    DefKind::Review,
                    full,
                    r.span_head,
                    vec![],
                )
            }
            ItemKind::Limits(_) => {
                let head = Span::new(full.start as usize, full.start as usize + 6);
                entry("limits", DefKind::Limits, full, head, vec![])
            }
            ItemKind::Test(t) => entry(
                &format!("test \"{}\"", t.name.0),
                DefKind::Test,
                full,
                t.name.1,
                vec![],
            ),
            ItemKind::Package(_) | ItemKind::Use(_) | ItemKind::Error(_) => continue,
        };
        out.push(e);
    }
    out
}

fn fields_outline(fields: &[FieldSchema]) -> Vec<OutlineEntry> {
    fields
        .iter()
        .map(|f| OutlineEntry {
            name: f.name.text.clone(),
            kind: DefKind::ContextField,
            full: f.span,
            focus: f.name.span,
            children: match &f.ty {
                TypeExpr::Record(inner, _) => fields_outline(inner),
                _ => Vec::new(),
            },
        })
        .collect()
}
