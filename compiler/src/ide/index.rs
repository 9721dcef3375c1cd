//! The symbol index of one mesh: every declaration (`Def`) and every use of a name that
//! resolves to one (`Use`), with byte ranges. Go to definition, references, rename, hover and
//! the identifier colours all read it.
//!
//! Names are resolved by the checker's own resolution, on the checker's package model
//! (`hir::collect`, `Workspace::resolve`: the file's own package, then its imports, then
//! `alias.name` and fully qualified names), in the role the checker reads each place in
//! (`walk::Role`: in a condition a context field before a const, after `intent ==` an intent);
//! capabilities are global by dotted name; steps are local to their `plan`.
//! `compiler/tests/ide_rename.rs` renames every declaration of the example meshes and checks
//! that the mesh means the same after. The index is one salsa query per mesh and backdates: an
//! edit that moves nothing and renames nothing does not re-run what reads it.

use super::walk::{walk_file, Occurrence, Role, IMPORTABLE};
use crate::db::{file_input, parse_file, SourceSet};
use crate::hir::{self, Workspace};
use crate::syntax::ast::*;
use std::collections::BTreeMap;

/// What the editor shows: a declaration of a name (`Decl`, by the keyword that declares it,
/// the compiler's one list of those), or a thing that declares no name of its own kind.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DefKind {
    Decl(DeclKeyword),
    Package,
    Capability,
    ContextField,
    Review,
    Limits,
    Test,
    Step,
}

impl DefKind {
    pub const AGENT: DefKind = DefKind::Decl(DeclKeyword::Agent);
    pub const HUMAN: DefKind = DefKind::Decl(DeclKeyword::Human);
    pub const INTENT: DefKind = DefKind::Decl(DeclKeyword::Intent);
    pub const DATA_CLASS: DefKind = DefKind::Decl(DeclKeyword::Data);
    pub const CONST: DefKind = DefKind::Decl(DeclKeyword::Const);
    pub const POLICY: DefKind = DefKind::Decl(DeclKeyword::Policy);
    pub const ROUTE: DefKind = DefKind::Decl(DeclKeyword::Route);

    /// The keyword that declares it, as shown in hovers.
    pub fn word(self) -> &'static str {
        match self {
            DefKind::Decl(k) => k.word(),
            DefKind::Package => "package",
            DefKind::Capability => "capability",
            DefKind::ContextField => "context field",
            DefKind::Review => "review",
            DefKind::Limits => "limits",
            DefKind::Test => "test",
            DefKind::Step => "step",
        }
    }
}

/// The kinds' names as the editor's tests print them (`DataClass` for a data class).
impl std::fmt::Debug for DefKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DefKind::Decl(DeclKeyword::Agent) => "Agent",
            DefKind::Decl(DeclKeyword::Human) => "Human",
            DefKind::Decl(DeclKeyword::Intent) => "Intent",
            DefKind::Decl(DeclKeyword::Data) => "DataClass",
            DefKind::Decl(DeclKeyword::Const) => "Const",
            DefKind::Decl(DeclKeyword::Policy) => "Policy",
            DefKind::Decl(DeclKeyword::Route) => "Route",
            DefKind::Package => "Package",
            DefKind::Capability => "Capability",
            DefKind::ContextField => "ContextField",
            DefKind::Review => "Review",
            DefKind::Limits => "Limits",
            DefKind::Test => "Test",
            DefKind::Step => "Step",
        })
    }
}

impl serde::Serialize for DefKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{self:?}"))
    }
}

/// A declaration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Def {
    pub kind: DefKind,
    /// Its package (empty for capabilities, context fields and steps).
    pub package: String,
    /// The name (dotted for capabilities and nested context fields).
    pub name: String,
    pub file: String,
    /// The name as written in the declaration.
    pub focus: Span,
    /// The whole declaration.
    pub full: Span,
    pub doc: Option<String>,
    pub is_std: bool,
    /// The declaration's own text, for hovers (first lines only).
    pub source: String,
    /// For a step: the index of its route's `Def`.
    pub parent: Option<usize>,
}

/// A resolved use of a name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Use {
    pub file: String,
    pub span: Span,
    pub def: usize,
}

/// Everything declared and used in a mesh.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SymbolIndex {
    pub defs: Vec<Def>,
    pub uses: Vec<Use>,
    /// Each file's scope, by path.
    pub scopes: BTreeMap<String, ScopeData>,
    /// (kind, package, name) → the first such declaration.
    by_key: BTreeMap<(DefKind, String, String), usize>,
    /// (file, step name) → the steps of that name.
    steps: BTreeMap<(String, String), Vec<usize>>,
    /// Capability → the agents whose `provides` names it (declaration indices).
    pub provided_by: BTreeMap<usize, Vec<usize>>,
}

/// A file's scope, in a form that can be compared.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopeData {
    pub package: String,
    pub imports: BTreeMap<String, (String, String)>,
    pub aliases: BTreeMap<String, String>,
}

impl SymbolIndex {
    /// The declaration whose name, or the use that, covers `offset` in `file`.
    pub fn at(&self, file: &str, offset: u32) -> Option<(usize, Span)> {
        let hit = |s: Span| s.start <= offset && offset <= s.end;
        self.uses
            .iter()
            .filter(|u| u.file == file && hit(u.span))
            .map(|u| (u.def, u.span))
            .chain(
                self.defs
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| d.file == file && hit(d.focus))
                    .map(|(i, d)| (i, d.focus)),
            )
            // The narrowest match wins (`subject` vs `subject.residency`).
            .min_by_key(|(_, s)| s.end - s.start)
    }

    pub fn def(&self, i: usize) -> Option<&Def> {
        self.defs.get(i)
    }

    /// Declarations of `kind` visible from `file` by the name they are written with there.
    pub fn visible(&self, file: &str, kind: DefKind) -> Vec<(String, usize)> {
        let Some(scope) = self.scopes.get(file) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, d) in self.defs.iter().enumerate() {
            if d.kind != kind {
                continue;
            }
            if d.package.is_empty() || d.package == scope.package {
                out.push((d.name.clone(), i));
            }
            for (local, (p, n)) in &scope.imports {
                if *p == d.package && *n == d.name {
                    out.push((local.clone(), i));
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    fn lookup(&self, kind: DefKind, package: &str, name: &str) -> Option<usize> {
        self.by_key
            .get(&(kind, package.to_string(), name.to_string()))
            .copied()
    }
}

/// Builds the index of a mesh.
#[salsa::tracked(returns(ref))]
pub fn symbol_index(db: &dyn salsa::Database, set: SourceSet) -> SymbolIndex {
    let files = set.files(db);
    let mut index = SymbolIndex::default();
    let mut occurrences: Vec<(usize, Occurrence)> = Vec::new();
    let mut trees = Vec::new();
    for (fi, f) in files.iter().enumerate() {
        let tree = &parse_file(db, *f).tree;
        trees.push(tree);
        let path = f.path(db).clone();
        let text = f.text(db);
        let is_std = *f.is_std(db);
        let package = hir::package_name(tree);
        let mut out = Vec::new();
        walk_file(
            tree,
            &mut |d: super::walk::Declared| {
                let source = text
                    .get(d.full.start as usize..d.full.end as usize)
                    .unwrap_or("")
                    .lines()
                    .take(12)
                    .collect::<Vec<_>>()
                    .join("\n");
                let global = matches!(
                    d.kind,
                    DefKind::Capability | DefKind::ContextField | DefKind::Step
                );
                let parent = d.parent_route.then(|| {
                    index
                        .defs
                        .iter()
                        .rposition(|x| x.kind == DefKind::ROUTE && x.file == path)
                        .unwrap_or(usize::MAX)
                });
                index.defs.push(Def {
                    kind: d.kind,
                    package: if global {
                        String::new()
                    } else {
                        package.clone()
                    },
                    name: d.name,
                    file: path.clone(),
                    focus: d.focus,
                    full: d.full,
                    doc: d.doc,
                    is_std,
                    source,
                    parent,
                });
            },
            &mut out,
        );
        occurrences.extend(out.into_iter().map(|o| (fi, o)));
    }
    for (i, d) in index.defs.iter().enumerate() {
        if d.kind == DefKind::Step {
            index
                .steps
                .entry((d.file.clone(), d.name.clone()))
                .or_default()
                .push(i);
        }
        index
            .by_key
            .entry((d.kind, d.package.clone(), d.name.clone()))
            .or_insert(i);
    }
    // The package model the checker resolves names in, from the same trees (its diagnostics
    // are the checker's to report).
    let inputs = files
        .iter()
        .zip(&trees)
        .map(|(f, tree)| file_input(db, *f, tree))
        .collect();
    let ws = hir::collect(inputs, &mut Vec::new());
    for (file, scope) in ws.files.iter().zip(&ws.scopes) {
        index.scopes.insert(
            file.path.to_string(),
            ScopeData {
                package: scope.package.clone(),
                imports: scope.imports.clone(),
                aliases: scope.aliases.clone(),
            },
        );
    }
    for (fi, occ) in occurrences {
        resolve(&mut index, &ws, fi, occ);
    }
    index
}

/// The keyword of a declaration kind the package model holds (`hir::Package`).
fn keyword(kind: DefKind) -> Option<DeclKeyword> {
    match kind {
        DefKind::Decl(k) => Some(k),
        DefKind::Package
        | DefKind::Capability
        | DefKind::ContextField
        | DefKind::Review
        | DefKind::Limits
        | DefKind::Test
        | DefKind::Step => None,
    }
}

/// The declaration that `segments` names in file `fi` as one of `kinds`, tried in order (an
/// agent anywhere in scope before a person, as `check/items.rs` and `check/scene.rs` try
/// them): the checker's resolution (`Workspace::resolve`).
fn named(
    index: &SymbolIndex,
    ws: &Workspace<'_>,
    fi: usize,
    kinds: &[DefKind],
    segments: &[&str],
) -> Option<usize> {
    kinds.iter().find_map(|k| {
        let keyword = keyword(*k)?;
        ws.resolve(fi, segments, |pkg, name| {
            let declared = ws.package(pkg)?.declares(keyword, name);
            declared.then(|| index.lookup(*k, pkg, name)).flatten()
        })
    })
}

fn resolve(index: &mut SymbolIndex, ws: &Workspace<'_>, fi: usize, occ: Occurrence) {
    let path = ws.path(fi);
    let segs: Vec<&str> = occ.segments.iter().map(|n| n.text.as_str()).collect();
    let whole = Span {
        start: occ.segments.first().map_or(0, |n| n.span.start),
        end: occ.segments.last().map_or(0, |n| n.span.end),
    };
    let push = |index: &mut SymbolIndex, def: usize, span: Span| {
        index.uses.push(Use {
            file: path.to_string(),
            span,
            def,
        });
    };
    match occ.role {
        Role::Capability => {
            if let Some(i) = index.lookup(DefKind::Capability, "", &segs.join(".")) {
                push(index, i, whole);
                if let Some(agent) = &occ.provider {
                    if let Some(a) = named(index, ws, fi, &[DefKind::AGENT], &[agent.as_str()]) {
                        index.provided_by.entry(i).or_default().push(a);
                    }
                }
            }
        }
        Role::Step(route) => {
            let key = (path.to_string(), segs.join("."));
            let found = index.steps.get(&key).and_then(|steps| {
                steps.iter().copied().find(|i| {
                    index
                        .def(*i)
                        .is_some_and(|d| d.full.start >= route.start && d.full.end <= route.end)
                })
            });
            if let Some(i) = found {
                push(index, i, whole);
            }
        }
        Role::Named(kinds) => {
            if let Some(i) = named(index, ws, fi, kinds, &segs) {
                push(index, i, whole);
            }
        }
        Role::Const => {
            if let Some(i) = named(index, ws, fi, &[DefKind::CONST], &segs) {
                push(index, i, whole);
            }
        }
        Role::Import => {
            // `use p.x` where `p.x` is a package imports the package (an alias): no name.
            let (Some(last), Some((_, init))) = (occ.segments.last(), segs.split_last()) else {
                return;
            };
            if ws.packages.contains_key(&segs.join(".")) {
                return;
            }
            let pkg = init.join(".");
            let found = IMPORTABLE.iter().find_map(|k| {
                let declared = ws.package(&pkg)?.declares(keyword(*k)?, &last.text);
                declared
                    .then(|| index.lookup(*k, &pkg, &last.text))
                    .flatten()
            });
            if let Some(i) = found {
                push(index, i, last.span);
            }
        }
        Role::AgentString => {
            // The agent of that plan name (`package.name` when packages share the name); the
            // use is the name part, which a rename rewrites.
            let Some(text) = segs.first() else {
                return;
            };
            let found = ws
                .by_plan_name(DeclKeyword::Agent, text)
                .and_then(|(pkg, name)| Some((index.lookup(DefKind::AGENT, pkg, name)?, name)));
            if let Some((i, name)) = found {
                let at = Span {
                    start: whole.end.saturating_sub(name.len() as u32),
                    end: whole.end,
                };
                push(index, i, at);
            }
        }
        Role::Field(prefix) => {
            let Some(key) = occ.segments.first() else {
                return;
            };
            let name = if prefix.is_empty() {
                key.text.clone()
            } else {
                format!("{prefix}.{}", key.text)
            };
            if let Some(i) = index.lookup(DefKind::ContextField, "", &name) {
                push(index, i, key.span);
            }
        }
        Role::Operand => {
            // The built-in operands name no declaration (`check/expr.rs`, `operand`).
            match segs.as_slice() {
                ["confidence"] | ["depth"] | ["intent"] | ["data"] => return,
                ["agent", ..] | ["caller", ..] | ["response", ..] => return,
                _ => {}
            }
            // A context field when the first segment is one, each segment that is a field.
            let is_field = segs
                .first()
                .is_some_and(|h| index.lookup(DefKind::ContextField, "", h).is_some());
            if is_field {
                let mut prefix = String::new();
                for seg in &occ.segments {
                    if !prefix.is_empty() {
                        prefix.push('.');
                    }
                    prefix.push_str(&seg.text);
                    match index.lookup(DefKind::ContextField, "", &prefix) {
                        Some(i) => push(index, i, seg.span),
                        None => break,
                    }
                }
                return;
            }
            if let Some(i) = named(index, ws, fi, &[DefKind::CONST], &segs) {
                push(index, i, whole);
            }
        }
    }
}
