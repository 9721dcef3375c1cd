//! Gathers the declarations of every file into packages, builds each file's scope from its
//! `use` declarations, and reports duplicates and unknown imports.

use super::{CapDecl, Decl, FileInput, FileScope, Package, Workspace};
use crate::codes::Code;
use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::syntax::ast::*;
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

pub fn collect<'a>(files: Vec<FileInput<'a>>, diags: &mut Vec<Diagnostic>) -> Workspace<'a> {
    let mut ws = Workspace {
        files: Vec::new(),
        scopes: Vec::new(),
        packages: BTreeMap::new(),
        capabilities: BTreeMap::new(),
        contexts: Vec::new(),
        reviews: Vec::new(),
        limits: Vec::new(),
        tests: Vec::new(),
        broken: Vec::new(),
    };
    let mut tests_by_name: BTreeMap<&str, (usize, Span)> = BTreeMap::new();
    for (fi, file) in files.iter().enumerate() {
        let pkg_name = super::package_name(file.tree);
        let path = file.path;
        let pkg = ws.packages.entry(pkg_name.clone()).or_default();
        for item in &file.tree.items {
            match &item.kind {
                ItemKind::Agent(a) => insert(
                    &mut pkg.agents,
                    decl(fi, &a.name, a, item),
                    DeclKeyword::Agent,
                    &files,
                    diags,
                ),
                ItemKind::Human(h) => insert(
                    &mut pkg.humans,
                    decl(fi, &h.name, h, item),
                    DeclKeyword::Human,
                    &files,
                    diags,
                ),
                ItemKind::Intent(i) => insert(
                    &mut pkg.intents,
                    decl(fi, &i.name, i, item),
                    DeclKeyword::Intent,
                    &files,
                    diags,
                ),
                ItemKind::Const { name, value } => insert(
                    &mut pkg.consts,
                    decl(fi, name, value, item),
                    DeclKeyword::Const,
                    &files,
                    diags,
                ),
                ItemKind::Data { name, parent } => insert(
                    &mut pkg.data,
                    decl(fi, name, parent, item),
                    DeclKeyword::Data,
                    &files,
                    diags,
                ),
                ItemKind::Policy(p) => insert(
                    &mut pkg.policies,
                    decl(fi, &p.name, p, item),
                    DeclKeyword::Policy,
                    &files,
                    diags,
                ),
                ItemKind::Route(r) => match pkg.routes.entry(&r.intent.text) {
                    Entry::Occupied(prev) => {
                        let prev = prev.get();
                        diags.push(
                            Diagnostic::new(
                                Code::DUPLICATE,
                                path,
                                r.intent.span,
                                format!("intent `{}` has two routes", r.intent.text),
                            )
                            .with_label("second route")
                            .with_secondary(
                                files.get(prev.file).map_or("", |f| f.path),
                                prev.name.span,
                                "first route here",
                            )
                            .with_help("merge the arms into one route: arms are tried in order"),
                        );
                    }
                    Entry::Vacant(slot) => {
                        slot.insert(decl(fi, &r.intent, r, item));
                    }
                },
                ItemKind::Capability(p) => match ws.capabilities.entry(p.dotted()) {
                    Entry::Occupied(prev) => {
                        let (name, prev) = (prev.key(), prev.get());
                        diags.push(
                            Diagnostic::new(
                                Code::DUPLICATE,
                                path,
                                p.span,
                                format!("capability `{name}` is declared twice"),
                            )
                            .with_label("declared again here")
                            .with_secondary(
                                files.get(prev.file).map_or("", |f| f.path),
                                prev.path.span,
                                "first declared here",
                            )
                            .with_help("remove one of the declarations"),
                        );
                    }
                    Entry::Vacant(slot) => {
                        slot.insert(CapDecl { file: fi, path: p });
                    }
                },
                ItemKind::Context(fields) => ws.contexts.push((fi, fields.as_slice())),
                ItemKind::Review(r) => ws.reviews.push((fi, r, item)),
                ItemKind::Limits(l) => ws.limits.push((fi, l.as_slice())),
                ItemKind::Test(t) => {
                    let first = match tests_by_name.entry(t.name.0.as_str()) {
                        Entry::Vacant(slot) => {
                            slot.insert((fi, t.name.1));
                            None
                        }
                        Entry::Occupied(prev) => Some(*prev.get()),
                    };
                    if let Some((pf, ps)) = first {
                        diags.push(
                            Diagnostic::new(
                                Code::DUPLICATE,
                                path,
                                t.name.1,
                                format!("two tests are named \"{}\"", t.name.0),
                            )
                            .with_label("second test")
                            .with_secondary(
                                files.get(pf).map_or("", |f| f.path),
                                ps,
                                "first test here",
                            )
                            .with_help(
                                "give each test its own name, so failures can be told apart",
                            ),
                        );
                    }
                    ws.tests.push((fi, t, item));
                }
                ItemKind::Error(Some((keyword, name))) => {
                    ws.broken
                        .push((pkg_name.clone(), *keyword, name.text.clone()));
                }
                ItemKind::Use(_) | ItemKind::Package(_) | ItemKind::Error(None) => {}
            }
        }
    }
    for file in &files {
        ws.scopes
            .push(build_scope(file, &ws.packages, &files, diags));
    }
    ws.files = files;
    ws
}

fn decl<'a, T>(file: usize, name: &'a Name, node: &'a T, item: &'a Item) -> Decl<'a, T> {
    Decl {
        file,
        name,
        node,
        item,
    }
}

fn insert<'a, T>(
    map: &mut BTreeMap<&'a str, Decl<'a, T>>,
    d: Decl<'a, T>,
    kind: DeclKeyword,
    files: &[FileInput<'a>],
    diags: &mut Vec<Diagnostic>,
) {
    let name = d.name.text.as_str();
    let kind = kind.noun();
    // One search of the map for each declaration (`get` then `insert` was two, each a dozen
    // string comparisons of names that often share long prefixes).
    let prev = match map.entry(name) {
        Entry::Vacant(slot) => {
            slot.insert(d);
            return;
        }
        Entry::Occupied(prev) => prev,
    };
    let prev = prev.get();
    let path = files.get(d.file).map_or("", |f| f.path);
    diags.push(
        Diagnostic::new(
            Code::DUPLICATE,
            path,
            d.name.span,
            format!("{kind} `{name}` is declared twice"),
        )
        .with_label("declared again here")
        .with_secondary(
            files.get(prev.file).map_or("", |f| f.path),
            prev.name.span,
            "first declared here",
        )
        .with_help(format!("rename one of them, or remove the second {kind}")),
    );
}

fn build_scope(
    file: &FileInput<'_>,
    packages: &BTreeMap<String, Package<'_>>,
    _files: &[FileInput<'_>],
    diags: &mut Vec<Diagnostic>,
) -> FileScope {
    let mut scope = FileScope {
        package: super::package_name(file.tree),
        ..FileScope::default()
    };
    for item in &file.tree.items {
        let ItemKind::Use(u) = &item.kind else {
            continue;
        };
        let full = u.path.dotted();
        match &u.names {
            Some(names) => {
                let Some(pkg) = packages.get(&full) else {
                    unknown_package(file.path, &u.path, packages, diags);
                    continue;
                };
                for n in names {
                    if !declares(pkg, &n.text) {
                        diags.push(unknown_import_name(file.path, n, &full, pkg));
                        continue;
                    }
                    scope
                        .imports
                        .insert(n.text.clone(), (full.clone(), n.text.clone()));
                }
            }
            None => {
                if packages.contains_key(&full) {
                    let alias = u
                        .path
                        .segments
                        .last()
                        .map_or_else(String::new, |s| s.text.clone());
                    scope.aliases.insert(alias, full);
                    continue;
                }
                // `use p.x`: import one name.
                let Some((last, init)) = u.path.segments.split_last() else {
                    continue;
                };
                let pkg_name = init
                    .iter()
                    .map(|s| s.text.as_str())
                    .collect::<Vec<_>>()
                    .join(".");
                match packages.get(&pkg_name) {
                    Some(pkg) if declares(pkg, &last.text) => {
                        scope
                            .imports
                            .insert(last.text.clone(), (pkg_name, last.text.clone()));
                    }
                    Some(pkg) => diags.push(unknown_import_name(file.path, last, &pkg_name, pkg)),
                    None => unknown_package(file.path, &u.path, packages, diags),
                }
            }
        }
    }
    scope
}

fn declares(pkg: &Package<'_>, name: &str) -> bool {
    pkg.agents.contains_key(name)
        || pkg.humans.contains_key(name)
        || pkg.intents.contains_key(name)
        || pkg.consts.contains_key(name)
        || pkg.data.contains_key(name)
        || pkg.policies.contains_key(name)
}

fn names_of<'p>(pkg: &'p Package<'_>) -> impl Iterator<Item = &'p str> {
    pkg.agents
        .keys()
        .chain(pkg.humans.keys())
        .chain(pkg.intents.keys())
        .chain(pkg.consts.keys())
        .chain(pkg.data.keys())
        .copied()
}

fn unknown_import_name(file: &str, n: &Name, pkg_name: &str, pkg: &Package<'_>) -> Diagnostic {
    let help = did_you_mean(&n.text, names_of(pkg)).unwrap_or_else(|| {
        let mut all: Vec<&str> = names_of(pkg).collect();
        all.truncate(8);
        format!("`{pkg_name}` declares: {}", all.join(", "))
    });
    Diagnostic::new(
        Code::UNKNOWN_IMPORT,
        file,
        n.span,
        format!("package `{pkg_name}` has no declaration `{}`", n.text),
    )
    .with_label("not found in that package")
    .with_help(help)
}

fn unknown_package(
    file: &str,
    path: &Path,
    packages: &BTreeMap<String, Package<'_>>,
    diags: &mut Vec<Diagnostic>,
) {
    let full = path.dotted();
    let help = did_you_mean(&full, packages.keys().map(String::as_str)).unwrap_or_else(|| {
        format!(
            "known packages: {}",
            packages.keys().cloned().collect::<Vec<_>>().join(", ")
        )
    });
    diags.push(
        Diagnostic::new(
            Code::UNKNOWN_IMPORT,
            file,
            path.span,
            format!("no package `{full}` in this compilation"),
        )
        .with_label("unknown package")
        .with_help(help),
    );
}
