//! The Intent compiler: `.intent` source text in, diagnostics and a routing plan out.
//!
//! Pipeline: `syntax` (logos lexer → lalrpop parser → tree with spans) → `db` (salsa queries
//! over source-file inputs) → `hir` (the package model with names resolved) → `check` (types
//! and the rules of LANGUAGE.md §8) → `lower` (the routing plan and its Cedar policies).
//! The compiler does no IO: the CLI and the language server own the filesystem.

pub mod cedar;
pub mod codes;
pub mod diagnostics;
pub mod syntax;
