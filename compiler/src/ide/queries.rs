//! The fine-grained salsa queries of the IDE layer, so that editing one item recomputes only
//! that item's results.
//!
//! `db::parse_file` parses a whole file; every edit changes it (positions move). From it,
//! [`item_text`] cuts out one item's source text: an edit to another item leaves that text
//! equal, so salsa backdates it and nothing downstream of it re-runs, even though its position
//! moved. [`item_parse`] parses that text alone, so its tree's positions are relative to the
//! item's start and its equality holds no absolute position; [`item_outline`] and
//! [`item_tokens`] read only that. Absolute positions come from [`item_starts`], read at the
//! end by whoever assembles a file's answer (adding a start offset is free).
//!
//! The whole-mesh check (`db::analyze`) still reads every file's tree: the checker numbers
//! declarations across the mesh and is one pass (see `docs/language-decisions.md`).

use crate::db::{parse_file, SourceFile};
use crate::syntax::{self, ast::Span, Parsed};

/// Where each item of a file starts (byte offsets): the only position-bearing per-item data.
#[salsa::tracked(returns(ref))]
pub fn item_starts(db: &dyn salsa::Database, file: SourceFile) -> Vec<u32> {
    parse_file(db, file)
        .tree
        .items
        .iter()
        .map(|i| i.span.start)
        .collect()
}

/// How many items a file has.
#[salsa::tracked(returns(copy))]
pub fn item_count(db: &dyn salsa::Database, file: SourceFile) -> u32 {
    parse_file(db, file).tree.items.len() as u32
}

/// The source text of item `index` of a file (its doc comment is not part of it), or empty
/// when there is no such item. Backdates when the text is unchanged.
#[salsa::tracked(returns(ref))]
pub fn item_text(db: &dyn salsa::Database, file: SourceFile, index: u32) -> String {
    let parsed = parse_file(db, file);
    let text = file.text(db);
    parsed
        .tree
        .items
        .get(index as usize)
        .and_then(|i| text.get(i.span.start as usize..i.span.end as usize))
        .unwrap_or_default()
        .to_string()
}

/// One item parsed on its own: spans are relative to the item's start.
#[salsa::tracked(returns(ref))]
pub fn item_parse(db: &dyn salsa::Database, file: SourceFile, index: u32) -> Parsed {
    syntax::parse(item_text(db, file, index))
}

/// One entry of an item's outline, with spans relative to the item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OutlineEntry {
    pub name: String,
    pub kind: super::DefKind,
    pub full: Span,
    pub focus: Span,
    /// Nested entries (the steps of a route, the fields of a context).
    pub children: Vec<OutlineEntry>,
}

/// The outline (document symbols) of one item, relative to the item.
#[salsa::tracked(returns(ref))]
pub fn item_outline(db: &dyn salsa::Database, file: SourceFile, index: u32) -> Vec<OutlineEntry> {
    super::symbols::outline(&item_parse(db, file, index).tree)
}

/// The lexical tokens of one item, relative to the item.
#[salsa::tracked(returns(ref))]
pub fn item_tokens(
    db: &dyn salsa::Database,
    file: SourceFile,
    index: u32,
) -> Vec<(Span, super::TokenKind)> {
    super::tokens::lex_item(item_text(db, file, index))
}

/// The line index of a file, built once per text (position conversions read it constantly).
#[salsa::tracked(returns(ref))]
pub fn line_index(db: &dyn salsa::Database, file: SourceFile) -> super::LineIndex {
    super::LineIndex::new(file.text(db))
}
