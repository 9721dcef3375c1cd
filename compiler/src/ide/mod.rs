//! The IDE layer: what an editor asks about `.intent` files, answered in files, byte ranges and
//! strings. It knows nothing of the Language Server Protocol (`lsp/` converts, UTF-16 columns
//! included, with [`LineIndex`]); every answer is a plain struct that tests can snapshot.
//!
//! [`Host`] owns the salsa database and the source inputs and is changed with setters;
//! [`Snapshot`] is a cheap clone of the database that answers queries on another thread. A
//! change to the host cancels the queries running on snapshots (salsa unwinds them with
//! `salsa::Cancelled`; the caller catches that and answers "content modified").
//!
//! A *mesh* is what [`crate::mesh`] says: the files below the directory [`crate::mesh::root_of`]
//! names (the directory to give `intent check` for the same mesh), compiled with the standard
//! modules none of them is a copy of; each mesh is one salsa `SourceSet`.

mod actions;
mod complete;
mod diagnostics;
mod hover;
mod index;
mod lenses;
mod navigate;
pub mod queries;
mod symbols;
mod text;
mod tokens;
mod walk;

pub use actions::{CodeAction, TextEdit};
pub use complete::{Completion, CompletionKind};
pub use diagnostics::FileDiagnostic;
pub use hover::Hover;
pub use index::{Def, DefKind, SymbolIndex};
pub use lenses::{TestLens, TestStatus};
pub use navigate::{Highlight, RenameError};
pub use symbols::Symbol;
pub use text::LineIndex;
pub use tokens::{SemanticToken, TokenKind};

use crate::db::{Database, SourceFile, SourceSet};
use crate::syntax::ast::Span;
use crate::{diagnostics::Diagnostic, mesh, stdlib};
use salsa::Setter;
use std::collections::BTreeMap;

/// A range in a named file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct FileRange {
    pub file: String,
    pub span: Span,
}

/// The mutable side: the database and its inputs.
pub struct Host {
    db: Database,
    std: Vec<SourceFile>,
    files: BTreeMap<String, SourceFile>,
    meshes: BTreeMap<String, SourceSet>,
    /// Each file's mesh, by the directory naming it.
    roots: BTreeMap<String, String>,
}

impl Default for Host {
    fn default() -> Self {
        Host::new(Database::default())
    }
}

impl Host {
    /// A host over `db` (pass `Database::with_events` to watch what salsa runs).
    pub fn new(db: Database) -> Host {
        let std = stdlib::MODULES
            .iter()
            .map(|(p, t)| SourceFile::new(&db, (*p).to_string(), (*t).to_string(), true))
            .collect();
        Host {
            db,
            std,
            files: BTreeMap::new(),
            meshes: BTreeMap::new(),
            roots: BTreeMap::new(),
        }
    }

    /// Sets the text of a file, adding it (to its mesh, which may join meshes) when it is new.
    /// An unchanged text sets nothing, so nothing is recomputed.
    pub fn set_file(&mut self, path: &str, text: String) {
        self.set_files([(path.to_string(), text)]);
    }

    /// [`Host::set_file`] for many files at once (a mesh read from disk): the meshes are
    /// worked out once, after all of them.
    pub fn set_files(&mut self, files: impl IntoIterator<Item = (String, String)>) {
        let mut added = false;
        for (path, text) in files {
            if let Some(file) = self.files.get(&path).copied() {
                if *file.text(&self.db) != text {
                    file.set_text(&mut self.db).to(text);
                }
                continue;
            }
            // A user copy of a standard module is standard, as `compile` has it.
            let is_std = mesh::std_copy_of(&path).is_some();
            let file = SourceFile::new(&self.db, path.clone(), text, is_std);
            self.files.insert(path, file);
            added = true;
        }
        if added {
            self.regroup();
        }
    }

    /// Forgets a file (deleted on disk).
    pub fn remove_file(&mut self, path: &str) {
        if self.files.remove(path).is_some() {
            self.regroup();
        }
    }

    /// Whether the host holds this file.
    pub fn has_file(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// The directories naming the meshes the host holds ([`mesh::root_of`]).
    pub fn roots(&self) -> impl Iterator<Item = &str> {
        self.meshes.keys().map(String::as_str)
    }

    /// Works the meshes out again after a file came or went ([`mesh::group`]); a mesh whose
    /// members did not change is left alone, so nothing of it is recomputed.
    fn regroup(&mut self) {
        let groups = mesh::group(self.files.keys().map(String::as_str));
        let mut roots = BTreeMap::new();
        let mut meshes = BTreeMap::new();
        for (root, paths) in groups {
            let kept = mesh::kept_std(paths.iter().copied());
            let mut members: Vec<SourceFile> = self
                .std
                .iter()
                .copied()
                .filter(|f| kept.iter().any(|(p, _)| f.path(&self.db) == p))
                .collect();
            members.extend(paths.iter().filter_map(|p| self.files.get(*p).copied()));
            for p in paths {
                roots.insert(p.to_string(), root.clone());
            }
            let set = match self.meshes.get(&root).copied() {
                Some(set) => {
                    if *set.files(&self.db) != members {
                        set.set_files(&mut self.db).to(members);
                    }
                    set
                }
                None => SourceSet::with_files(&self.db, members),
            };
            meshes.insert(root, set);
        }
        self.meshes = meshes;
        self.roots = roots;
    }

    /// A read-only view for answering queries, possibly on another thread.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            db: self.db.clone(),
            std: self.std.clone(),
            files: self.files.clone(),
            meshes: self.meshes.clone(),
            roots: self.roots.clone(),
        }
    }
}

/// A read-only view of the database; every IDE feature is a method here.
#[derive(Clone)]
pub struct Snapshot {
    pub(crate) db: Database,
    std: Vec<SourceFile>,
    files: BTreeMap<String, SourceFile>,
    meshes: BTreeMap<String, SourceSet>,
    roots: BTreeMap<String, String>,
}

impl Snapshot {
    pub(crate) fn file(&self, path: &str) -> Option<SourceFile> {
        self.files
            .get(path)
            .copied()
            .or_else(|| self.std.iter().copied().find(|f| f.path(&self.db) == path))
    }

    /// The mesh a file belongs to (a standard module belongs to none).
    pub(crate) fn mesh(&self, path: &str) -> Option<SourceSet> {
        self.meshes.get(self.roots.get(path)?).copied()
    }

    pub(crate) fn meshes(&self) -> impl Iterator<Item = SourceSet> + '_ {
        self.meshes.values().copied()
    }

    /// The text of a file the host holds (standard modules included).
    pub fn text(&self, path: &str) -> Option<&str> {
        self.file(path).map(|f| f.text(&self.db).as_str())
    }

    /// The line index of a file the host holds.
    pub fn line_index(&self, path: &str) -> Option<&LineIndex> {
        self.file(path).map(|f| queries::line_index(&self.db, f))
    }

    /// The paths of the files the host holds (not the standard modules).
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// The symbol index of the mesh a file belongs to.
    pub(crate) fn index(&self, path: &str) -> Option<&SymbolIndex> {
        self.mesh(path)
            .map(|set| index::symbol_index(&self.db, set))
    }

    /// How many intents the last check of the mesh of `path` analysed; the others' findings
    /// were reused from the check before (`analysis::Memo`). For tests and benchmarks.
    pub fn intents_analysed(&self, path: &str) -> Option<usize> {
        let set = self.mesh(path)?;
        let memo = set.memo(&self.db).0.lock().ok()?;
        Some(memo.analysis.analysed())
    }

    /// How many routes the last check of the mesh of `path` replayed from the check before
    /// (`check::Memo`) rather than checked, and whether it replayed the declarations outside
    /// routes. For tests and benchmarks.
    pub fn reused(&self, path: &str) -> Option<(usize, bool)> {
        let set = self.mesh(path)?;
        let memo = set.memo(&self.db).0.lock().ok()?;
        Some(memo.reused())
    }

    /// Every diagnostic of the mesh of `path` (all of `intent check`).
    pub(crate) fn mesh_diagnostics(&self, path: &str) -> &[Diagnostic] {
        match self.mesh(path) {
            Some(set) => &crate::db::analyze(&self.db, set).diagnostics,
            None => &[],
        }
    }
}
