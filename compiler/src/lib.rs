//! The Intent compiler: `.intent` source text in, diagnostics and a routing plan out.
//!
//! Pipeline: `syntax` (logos lexer → lalrpop parser → tree with spans) → `db` (salsa queries
//! over source-file inputs) → `hir` (declarations gathered by package, per-file scopes) →
//! `check` (names, types and the checks of `intent check`, lowering to the plan in the same
//! pass, then `analysis` of the lowered plan: route coverage, dead arms and rules,
//! over-alignment) → `cedar` (the plan's policies as Cedar, validated by cedar-policy) → `compile`
//! (the front door). `render` turns diagnostics into text, JSON or GitHub annotations.
//! The compiler does no IO: the CLI and the language server own the filesystem.

pub mod analysis;
pub mod cedar;
pub mod check;
pub mod codes;
pub mod compile;
pub mod db;
pub mod diagnostics;
pub mod fmt;
pub mod hir;
pub mod ide;
pub mod lines;
pub mod mesh;
pub mod render;
pub mod stdlib;
pub mod syntax;
pub mod testing;

pub use compile::{compile, Compilation, Source, Stage};
