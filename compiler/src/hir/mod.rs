//! The package model: every declaration of a compilation gathered by package and kind, with the
//! per-file scopes (`use` imports) needed to resolve a name written in a file.
//!
//! Building it reports what needs no types: misplaced and duplicate declarations, unknown
//! imports. Everything else (types, the checks of `intent check`, lowering) reads this model.

mod collect;
mod scope;

pub use collect::collect;
pub use scope::FileScope;

use crate::syntax::ast::*;
use std::collections::BTreeMap;

/// One source file of the compilation.
pub struct FileInput<'a> {
    pub path: &'a str,
    pub text: &'a str,
    pub tree: &'a SourceTree,
    /// Shipped inside the binary (`std.*`); never warned about for unused declarations.
    pub is_std: bool,
    /// Its lines, for the plan's source map.
    pub lines: &'a crate::lines::Lines,
}

/// A declaration: the node, where it is, and the item around it.
pub struct Decl<'a, T> {
    pub file: usize,
    pub name: &'a Name,
    pub node: &'a T,
    pub item: &'a Item,
}

impl<T> Clone for Decl<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Decl<'_, T> {}

/// The declarations of one package, by kind and name.
#[derive(Default)]
pub struct Package<'a> {
    pub agents: BTreeMap<&'a str, Decl<'a, AgentDecl>>,
    pub humans: BTreeMap<&'a str, Decl<'a, HumanDecl>>,
    pub intents: BTreeMap<&'a str, Decl<'a, IntentDecl>>,
    pub consts: BTreeMap<&'a str, Decl<'a, Expr>>,
    pub data: BTreeMap<&'a str, Decl<'a, Option<Path>>>,
    pub policies: BTreeMap<&'a str, Decl<'a, PolicyDecl>>,
    /// By the intent's name as written.
    pub routes: BTreeMap<&'a str, Decl<'a, RouteDecl>>,
}

impl<'a> Package<'a> {
    /// The names the package declares with `keyword` (routes by their intents' names), sorted.
    pub fn names(&self, keyword: DeclKeyword) -> Box<dyn Iterator<Item = &'a str> + '_> {
        match keyword {
            DeclKeyword::Agent => Box::new(self.agents.keys().copied()),
            DeclKeyword::Human => Box::new(self.humans.keys().copied()),
            DeclKeyword::Intent => Box::new(self.intents.keys().copied()),
            DeclKeyword::Data => Box::new(self.data.keys().copied()),
            DeclKeyword::Const => Box::new(self.consts.keys().copied()),
            DeclKeyword::Policy => Box::new(self.policies.keys().copied()),
            DeclKeyword::Route => Box::new(self.routes.keys().copied()),
        }
    }

    /// Whether the package declares `name` with `keyword` (a route by its intent's name).
    pub fn declares(&self, keyword: DeclKeyword, name: &str) -> bool {
        match keyword {
            DeclKeyword::Agent => self.agents.contains_key(name),
            DeclKeyword::Human => self.humans.contains_key(name),
            DeclKeyword::Intent => self.intents.contains_key(name),
            DeclKeyword::Data => self.data.contains_key(name),
            DeclKeyword::Const => self.consts.contains_key(name),
            DeclKeyword::Policy => self.policies.contains_key(name),
            DeclKeyword::Route => self.routes.contains_key(name),
        }
    }
}

/// A capability declaration (capabilities are global to a compilation).
#[derive(Clone, Copy)]
pub struct CapDecl<'a> {
    pub file: usize,
    pub path: &'a Path,
}

/// The whole compilation.
pub struct Workspace<'a> {
    pub files: Vec<FileInput<'a>>,
    pub scopes: Vec<FileScope>,
    pub packages: BTreeMap<String, Package<'a>>,
    /// Declared capabilities by dotted name.
    pub capabilities: BTreeMap<String, CapDecl<'a>>,
    /// `context` blocks, in file order.
    pub contexts: Vec<(usize, &'a [FieldSchema])>,
    pub reviews: Vec<(usize, &'a ReviewDecl, &'a Item)>,
    pub limits: Vec<(usize, &'a [Limit])>,
    pub tests: Vec<(usize, &'a TestDecl, &'a Item)>,
    /// (package, keyword, name) of declarations that did not parse: their names are known to
    /// exist, so uses of them are not reported again.
    pub broken: Vec<(String, DeclKeyword, String)>,
}

impl Workspace<'_> {
    /// Whether a declaration of this keyword and name failed to parse in a package.
    pub fn is_broken(&self, keyword: DeclKeyword, name: &str) -> bool {
        self.broken
            .iter()
            .any(|(_, k, n)| *k == keyword && n == name)
    }

    /// Whether any declaration of this keyword failed to parse.
    pub fn any_broken(&self, keyword: DeclKeyword) -> bool {
        self.broken.iter().any(|(_, k, _)| *k == keyword)
    }
}

impl<'a> Workspace<'a> {
    pub fn file(&self, file: usize) -> Option<&FileInput<'a>> {
        self.files.get(file)
    }

    pub fn path(&self, file: usize) -> &'a str {
        self.files.get(file).map_or("<unknown>", |f| f.path)
    }

    pub fn package(&self, name: &str) -> Option<&Package<'a>> {
        self.packages.get(name)
    }

    /// How many packages declare `name` with `keyword`.
    pub fn declaring(&self, keyword: DeclKeyword, name: &str) -> usize {
        self.packages
            .values()
            .filter(|p| p.declares(keyword, name))
            .count()
    }

    /// The declaration of `keyword` whose [`plan_name`] is `text`: its package and name.
    pub fn by_plan_name<'s>(
        &'s self,
        keyword: DeclKeyword,
        text: &'s str,
    ) -> Option<(&'s str, &'s str)> {
        if self.declaring(keyword, text) == 1 {
            let (pkg, _) = self
                .packages
                .iter()
                .find(|(_, p)| p.declares(keyword, text))?;
            return Some((pkg.as_str(), text));
        }
        let (pkg, name) = text.rsplit_once('.')?;
        let declared = self.package(pkg)?.declares(keyword, name);
        (declared && self.declaring(keyword, name) > 1).then_some((pkg, name))
    }

    /// The compiler's one name resolution: what `segments`, written in `file`, names is the
    /// first (package, name) of the file's scope ([`FileScope::first`]: its own package,
    /// its imports, `alias.name`, a full path) for which `hit` answers. The checker
    /// (`check/tables.rs`) and the editor (`ide/index.rs`) both resolve names through it, with
    /// the package model built here, so that they cannot disagree on what a name means.
    pub fn resolve<T>(
        &self,
        file: usize,
        segments: &[&str],
        hit: impl FnMut(&str, &str) -> Option<T>,
    ) -> Option<T> {
        let scope = self.scopes.get(file)?;
        scope.first(segments, hit)
    }
}

/// The name a declaration has in the plan, where names are unique: its own, or `package.name`
/// when `declared_in` packages (more than one) declare that name with its keyword. The
/// checker names the plan's agents, people, intents and data classes so
/// (`check/tables.rs`); [`Workspace::by_plan_name`] reads such a name back.
pub fn plan_name(pkg: &str, name: &str, declared_in: usize) -> String {
    if declared_in > 1 {
        format!("{pkg}.{name}")
    } else {
        name.to_string()
    }
}

/// The package a file declares, or `main` when it declares none.
pub fn package_name(tree: &SourceTree) -> String {
    tree.package
        .as_ref()
        .map_or_else(|| "main".to_string(), Path::dotted)
}
