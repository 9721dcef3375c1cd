//! The resolved tables of a compilation: capabilities (with implied groups), data classes,
//! agents, humans, intents and the context schema, each numbered in a canonical (sorted) order
//! so that the plan does not depend on declaration order. Name lookups that report unknown
//! names with a "did you mean" live here too, as does the record of what was used.

use crate::codes::Code;
use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::hir::{Decl, Package, Workspace};
use crate::syntax::ast::*;
use intent_runtime::plan::{self, AgentId, CapId, DataId, HumanId, IntentId};
use std::cell::RefCell;
// Names are hashed thousands of times a check: FxHash, not SipHash (no key here comes from a
// request, and a check's cost is bounded by its text).
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::{BTreeMap, BTreeSet};

/// How deep a data hierarchy may be.
const MAX_DATA_DEPTH: usize = 32;

/// The diagnostic code of an unknown name of `kind`. Policies and routes are never looked
/// up by name: an unknown name of theirs is E0100.
fn unknown_code(kind: DeclKeyword) -> Code {
    match kind {
        DeclKeyword::Agent => Code::UNKNOWN_AGENT,
        DeclKeyword::Human => Code::UNKNOWN_HUMAN,
        DeclKeyword::Intent => Code::UNKNOWN_INTENT,
        DeclKeyword::Data => Code::UNKNOWN_DATA,
        DeclKeyword::Const | DeclKeyword::Policy | DeclKeyword::Route => Code::UNKNOWN_NAME,
    }
}

/// A numbered declaration: its package, its name, and the plan name (qualified only on a clash).
pub struct Entry<'a, T> {
    pub pkg: String,
    pub decl: Decl<'a, T>,
    pub display: String,
}

pub struct Tables<'w, 'a> {
    pub ws: &'w Workspace<'a>,
    pub caps: Vec<plan::Capability>,
    pub cap_index: HashMap<String, CapId>,
    /// Each capability and every capability below it, sorted (see `cap_closure`).
    cap_covers: Vec<Vec<CapId>>,
    pub data: Vec<Entry<'a, Option<Path>>>,
    pub data_parent: Vec<Option<DataId>>,
    pub data_covers: Vec<Vec<DataId>>,
    pub agents: Vec<Entry<'a, AgentDecl>>,
    pub humans: Vec<Entry<'a, HumanDecl>>,
    pub intents: Vec<Entry<'a, IntentDecl>>,
    /// DeclKeyword → package → name → number.
    index: HashMap<DeclKeyword, HashMap<String, HashMap<String, u32>>>,
    /// The merged context schema (a record type).
    pub context: plan::Type,
    /// DeclKeyword → package → names used.
    used: RefCell<HashMap<DeclKeyword, HashMap<String, HashSet<String>>>>,
    /// Files without `package` already told they are in `main` (E0112, once a file).
    told_main: RefCell<BTreeSet<usize>>,
    /// While a route is checked: every declaration marked used, for `reuse` to replay.
    recording: RefCell<Option<Vec<Mark>>>,
}

/// A declaration marked used: its kind, package and name.
pub type Mark = (DeclKeyword, String, String);

fn number<'w, 'a: 'w, T: 'a>(
    ws: &'w Workspace<'a>,
    pick: impl Fn(&'w Package<'a>) -> &'w BTreeMap<&'a str, Decl<'a, T>>,
) -> Vec<Entry<'a, T>> {
    let mut count: HashMap<&str, usize> = HashMap::default();
    for pkg in ws.packages.values() {
        for name in pick(pkg).keys() {
            *count.entry(name).or_default() += 1;
        }
    }
    let mut out: Vec<Entry<'a, T>> = Vec::new();
    for (pkg_name, pkg) in &ws.packages {
        for (name, decl) in pick(pkg) {
            let display =
                crate::hir::plan_name(pkg_name, name, count.get(name).copied().unwrap_or(0));
            out.push(Entry {
                pkg: pkg_name.clone(),
                decl: *decl,
                display,
            });
        }
    }
    out.sort_by(|a, b| a.display.cmp(&b.display));
    out
}

impl<'w, 'a> Tables<'w, 'a> {
    pub fn new(ws: &'w Workspace<'a>, diags: &mut Vec<Diagnostic>) -> Tables<'w, 'a> {
        let agents = number(ws, |p| &p.agents);
        let humans = number(ws, |p| &p.humans);
        let intents = number(ws, |p| &p.intents);
        let data = number(ws, |p| &p.data);
        let mut index: HashMap<DeclKeyword, HashMap<String, HashMap<String, u32>>> =
            HashMap::default();
        for (kind, entries) in [
            (
                DeclKeyword::Agent,
                agents
                    .iter()
                    .map(|e| (&e.pkg, e.decl.name))
                    .collect::<Vec<_>>(),
            ),
            (
                DeclKeyword::Human,
                humans.iter().map(|e| (&e.pkg, e.decl.name)).collect(),
            ),
            (
                DeclKeyword::Intent,
                intents.iter().map(|e| (&e.pkg, e.decl.name)).collect(),
            ),
            (
                DeclKeyword::Data,
                data.iter().map(|e| (&e.pkg, e.decl.name)).collect(),
            ),
        ] {
            for (i, (pkg, name)) in entries.into_iter().enumerate() {
                let names = index
                    .entry(kind)
                    .or_default()
                    .entry(pkg.clone())
                    .or_default();
                names.insert(name.text.clone(), i as u32);
            }
        }
        let mut t = Tables {
            ws,
            caps: Vec::new(),
            cap_index: HashMap::default(),
            cap_covers: Vec::new(),
            data,
            data_parent: Vec::new(),
            data_covers: Vec::new(),
            agents,
            humans,
            intents,
            index,
            context: plan::Type::Record { fields: Vec::new() },
            used: RefCell::new(HashMap::default()),
            told_main: RefCell::new(BTreeSet::new()),
            recording: RefCell::new(None),
        };
        t.build_caps();
        t.build_data(diags);
        t.context = super::schema::merge_context(ws, diags);
        t
    }

    fn build_caps(&mut self) {
        let mut all: BTreeMap<String, bool> = BTreeMap::new();
        for name in self.ws.capabilities.keys() {
            let parts: Vec<&str> = name.split('.').collect();
            for i in 1..parts.len() {
                all.entry(parts[..i].join(".")).or_insert(true);
            }
            all.insert(name.clone(), false);
        }
        for (i, name) in all.keys().enumerate() {
            self.cap_index.insert(name.clone(), i as u32);
        }
        self.caps = all
            .iter()
            .map(|(name, group_only)| plan::Capability {
                name: name.clone(),
                parent: name
                    .rsplit_once('.')
                    .and_then(|(p, _)| self.cap_index.get(p).copied()),
                group_only: *group_only,
            })
            .collect();
        // Every prefix of a capability is declared (above), so walking the parents of each
        // capability reaches exactly the groups that cover it.
        let mut covers: Vec<Vec<CapId>> = (0..self.caps.len() as u32).map(|i| vec![i]).collect();
        for i in 0..self.caps.len() {
            let mut cur = self.caps.get(i).and_then(|c| c.parent);
            while let Some(p) = cur {
                if let Some(c) = covers.get_mut(p as usize) {
                    c.push(i as u32);
                }
                cur = self.caps.get(p as usize).and_then(|c| c.parent);
            }
        }
        for c in &mut covers {
            c.sort_unstable();
        }
        self.cap_covers = covers;
    }

    fn build_data(&mut self, diags: &mut Vec<Diagnostic>) {
        let mut parents = Vec::with_capacity(self.data.len());
        for e in &self.data {
            let parent = e
                .decl
                .node
                .as_ref()
                .and_then(|p| self.resolve_data(e.decl.file, p, diags));
            parents.push(parent);
        }
        // Break cycles so the hierarchy is a forest; report each cycle once.
        let edges = |i: usize| -> Vec<usize> {
            parents
                .get(i)
                .copied()
                .flatten()
                .map(|p| p as usize)
                .into_iter()
                .collect()
        };
        let found = super::graph::cycles(parents.len(), &edges);
        for cycle in found {
            let Some(&start) = cycle.first() else {
                continue;
            };
            let Some(e) = self.data.get(start) else {
                continue;
            };
            let chain: Vec<String> = cycle
                .iter()
                .chain(cycle.first())
                .filter_map(|i| self.data.get(*i))
                .map(|x| x.display.clone())
                .collect();
            diags.push(
                Diagnostic::new(
                    Code::DATA_CYCLE,
                    self.ws.path(e.decl.file),
                    e.decl.name.span,
                    format!(
                        "data class `{}` is its own ancestor: {}",
                        e.display,
                        chain.join(" → ")
                    ),
                )
                .with_label("part of a cycle")
                .with_help("a data hierarchy is a tree: remove one of the `:` parents"),
            );
            if let Some(p) = parents.get_mut(start) {
                *p = None;
            }
        }
        // Every class covers itself and its descendants; hierarchies deeper than the limit are
        // refused (their closures would grow quadratically).
        let mut covers: Vec<Vec<DataId>> = (0..parents.len() as u32).map(|i| vec![i]).collect();
        let mut too_deep_reported = false;
        for i in 0..parents.len() {
            let mut cur = parents.get(i).copied().flatten();
            let mut depth = 0;
            while let Some(p) = cur {
                depth += 1;
                if depth > MAX_DATA_DEPTH {
                    if let Some(e) = self.data.get(i).filter(|_| !too_deep_reported) {
                        too_deep_reported = true;
                        diags.push(
                            Diagnostic::new(Code::DATA_CYCLE, self.ws.path(e.decl.file), e.decl.name.span, format!("data class `{}` is more than {MAX_DATA_DEPTH} levels deep", e.display))
                                .with_label("too deep")
                                .with_help("flatten the data hierarchy: a few levels (public, confidential, pii, ...) are enough"),
                        );
                    }
                    break;
                }
                if let Some(c) = covers.get_mut(p as usize) {
                    c.push(i as u32);
                }
                cur = parents.get(p as usize).copied().flatten();
            }
        }
        for c in &mut covers {
            c.sort_unstable();
            c.dedup();
        }
        self.data_parent = parents;
        self.data_covers = covers;
    }

    pub fn mark_used(&self, kind: DeclKeyword, pkg: &str, name: &str) {
        if let Some(marks) = self.recording.borrow_mut().as_mut() {
            marks.push((kind, pkg.to_string(), name.to_string()));
        }
        // Names are looked up thousands of times: allocated only when first used.
        let mut used = self.used.borrow_mut();
        let by_pkg = used.entry(kind).or_default();
        match by_pkg.get_mut(pkg) {
            Some(names) if names.contains(name) => {}
            Some(names) => {
                names.insert(name.to_string());
            }
            None => {
                by_pkg.insert(pkg.to_string(), std::iter::once(name.to_string()).collect());
            }
        }
    }

    /// Starts recording the declarations marked used (see [`Tables::recorded`]).
    pub fn record(&self) {
        *self.recording.borrow_mut() = Some(Vec::new());
    }

    /// The declarations marked used since [`Tables::record`], which stops recording.
    pub fn recorded(&self) -> Vec<Mark> {
        self.recording.borrow_mut().take().unwrap_or_default()
    }

    pub fn is_used(&self, kind: DeclKeyword, pkg: &str, name: &str) -> bool {
        self.used
            .borrow()
            .get(&kind)
            .and_then(|m| m.get(pkg))
            .is_some_and(|names| names.contains(name))
    }

    /// The number of the declaration `pkg.name` of `kind`.
    fn id_of(&self, kind: DeclKeyword, pkg: &str, name: &str) -> Option<u32> {
        self.index.get(&kind)?.get(pkg)?.get(name).copied()
    }

    /// Looks up `segments` (as written in `file`) among declarations of `kind`: what `hit`
    /// gives for the first (package, name) the scope offers that it knows, marked used.
    fn find<T>(
        &self,
        kind: DeclKeyword,
        file: usize,
        segments: &[&str],
        hit: impl Fn(&str, &str) -> Option<T>,
    ) -> Option<T> {
        self.ws.resolve(file, segments, |pkg, name| {
            let found = hit(pkg, name)?;
            self.mark_used(kind, pkg, name);
            Some(found)
        })
    }

    /// The number of the declaration of `kind` that `segments` names in `file`, marked used.
    fn find_id(&self, kind: DeclKeyword, file: usize, segments: &[&str]) -> Option<u32> {
        self.find(kind, file, segments, |pkg, name| {
            self.id_of(kind, pkg, name)
        })
    }

    /// Names of `kind` visible from `file`, for "did you mean".
    pub fn visible(&self, kind: DeclKeyword, file: usize) -> Vec<String> {
        let Some(scope) = self.ws.scopes.get(file) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Some(pkg) = self.ws.package(&scope.package) {
            out.extend(pkg.names(kind).map(str::to_string));
        }
        for (local, (pkg, name)) in &scope.imports {
            if self.ws.package(pkg).is_some_and(|p| p.declares(kind, name)) {
                out.push(local.clone());
            }
        }
        out
    }

    fn unknown(&self, kind: DeclKeyword, file: usize, text: &str, span: Span) -> Diagnostic {
        let visible = self.visible(kind, file);
        let help =
            did_you_mean(text, visible.iter().map(String::as_str)).unwrap_or_else(|| match kind {
                DeclKeyword::Data
                    if self
                        .ws
                        .package("std.data")
                        .is_some_and(|p| p.data.contains_key(text)) =>
                {
                    format!("import it: `use std.data.{{{text}}}`")
                }
                DeclKeyword::Data => format!("declare it with `data {text}`"),
                DeclKeyword::Human => {
                    format!("declare it: `human {text} {{ channel \"...\"  sla 4h }}`")
                }
                _ => format!(
                    "declare it with `{} {text} {{ ... }}` or import it with `use`",
                    kind.noun()
                ),
            });
        Diagnostic::new(
            unknown_code(kind),
            self.ws.path(file),
            span,
            format!("unknown {} `{text}`", kind.noun()),
        )
        .with_label(format!("no {} of this name is in scope", kind.noun()))
        .with_help(help)
    }

    /// For a file without `package` (so in `main`), the other package that declares `name`.
    fn declared_elsewhere(&self, kind: DeclKeyword, file: usize, name: &str) -> Option<String> {
        let f = self.ws.file(file)?;
        if f.is_std || f.tree.package.is_some() || name.contains('.') {
            return None;
        }
        self.ws
            .packages
            .keys()
            .filter(|p| p.as_str() != "main" && !p.starts_with("std"))
            .find(|p| self.id_of(kind, p, name).is_some())
            .cloned()
    }

    fn file_in_main(
        &self,
        kind: DeclKeyword,
        file: usize,
        name: &str,
        pkg: &str,
        span: Span,
    ) -> Diagnostic {
        Diagnostic::new(
            Code::FILE_IN_MAIN,
            self.ws.path(file),
            span,
            format!(
                "this file is in package `main`: it has no `package` line, and {} `{name}` is declared in package `{pkg}`",
                kind.noun()
            ),
        )
        .with_label(format!("declared in package `{pkg}`, which this file does not see"))
        .with_help(format!(
            "add `package {pkg}` as the first line of this file (or `use {pkg}.{name}`)"
        ))
    }

    fn resolve_id(
        &self,
        kind: DeclKeyword,
        file: usize,
        path_text: &str,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<u32> {
        let one = [path_text];
        let dotted: Vec<&str>;
        let segments: &[&str] = if path_text.contains('.') {
            dotted = path_text.split('.').collect();
            &dotted
        } else {
            &one
        };
        match self.find_id(kind, file, segments) {
            Some(id) => Some(id),
            // A declaration of that name failed to parse: it was reported already.
            None if self.ws.is_broken(kind, path_text) => None,
            None => match self.declared_elsewhere(kind, file, path_text) {
                // One mistake, the missing `package` line: said once a file, at its first
                // consequence, and the file's other names of that package are not reported.
                Some(pkg) => {
                    if self.told_main.borrow_mut().insert(file) {
                        diags.push(self.file_in_main(kind, file, path_text, &pkg, span));
                    }
                    None
                }
                None => {
                    diags.push(self.unknown(kind, file, path_text, span));
                    None
                }
            },
        }
    }

    pub fn resolve_agent(
        &self,
        file: usize,
        name: &Name,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<AgentId> {
        self.resolve_id(DeclKeyword::Agent, file, &name.text, name.span, diags)
    }

    /// An agent if there is one of that name, without reporting anything.
    pub fn try_agent(&self, file: usize, name: &str) -> Option<AgentId> {
        self.find_id(DeclKeyword::Agent, file, &[name])
    }

    pub fn try_human(&self, file: usize, name: &str) -> Option<HumanId> {
        self.find_id(DeclKeyword::Human, file, &[name])
    }

    pub fn resolve_human(
        &self,
        file: usize,
        name: &Name,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<HumanId> {
        self.resolve_id(DeclKeyword::Human, file, &name.text, name.span, diags)
    }

    pub fn resolve_intent(
        &self,
        file: usize,
        name: &Name,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<IntentId> {
        self.resolve_id(DeclKeyword::Intent, file, &name.text, name.span, diags)
    }

    pub fn resolve_data(
        &self,
        file: usize,
        path: &Path,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<DataId> {
        path.with_dotted(|name| self.resolve_id(DeclKeyword::Data, file, name, path.span, diags))
    }

    /// A const visible from `file` (marking it used), or `None`.
    pub fn find_const(&self, file: usize, segments: &[&str]) -> Option<(usize, &'a Expr)> {
        self.find(DeclKeyword::Const, file, segments, |pkg, name| {
            let d = self.ws.package(pkg)?.consts.get(name)?;
            Some((d.file, d.node))
        })
    }

    pub fn resolve_cap(
        &self,
        file: usize,
        path: &Path,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<CapId> {
        if let Some(id) = self.cap_id(path) {
            return Some(id);
        }
        let name = path.dotted();
        let help = did_you_mean(&name, self.caps.iter().map(|c| c.name.as_str()))
            .unwrap_or_else(|| format!("declare it: `capability {name}`"));
        diags.push(
            Diagnostic::new(
                Code::UNKNOWN_CAPABILITY,
                self.ws.path(file),
                path.span,
                format!("unknown capability `{name}`"),
            )
            .with_label("not declared by any `capability`")
            .with_help(help),
        );
        None
    }

    /// The capability `path` names, if one is declared.
    pub fn cap_id(&self, path: &Path) -> Option<CapId> {
        path.with_dotted(|name| self.cap_index.get(name).copied())
    }

    /// Every capability `cap` covers: itself and all below it, sorted. Computed once in
    /// `build_caps`: it is asked for every `provides` and every step of every route.
    pub fn cap_closure(&self, cap: CapId) -> &[CapId] {
        self.cap_covers.get(cap as usize).map_or(&[], Vec::as_slice)
    }

    pub fn cap_name(&self, cap: CapId) -> &str {
        self.caps.get(cap as usize).map_or("?", |c| c.name.as_str())
    }

    pub fn data_name(&self, d: DataId) -> &str {
        self.data
            .get(d as usize)
            .map_or("?", |e| e.display.as_str())
    }

    /// The data class itself and every class below it.
    pub fn data_closure(&self, d: DataId) -> &[DataId] {
        self.data_covers.get(d as usize).map_or(&[], Vec::as_slice)
    }

    pub fn path(&self, file: usize) -> &'a str {
        self.ws.path(file)
    }
}
