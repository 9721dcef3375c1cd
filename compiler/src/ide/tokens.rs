//! Semantic tokens: keywords, strings, numbers, comments and operators from the lexer (per
//! item, relative to it, see `queries::item_tokens`), and identifiers coloured by what they
//! name, from the symbol index.

use super::queries::{item_count, item_starts, item_tokens};
use super::{DefKind, Snapshot};
use crate::syntax::ast::Span;
use crate::syntax::token::{LexError, Token};
use logos::Logos;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum TokenKind {
    Keyword,
    String,
    Number,
    Comment,
    Operator,
    /// An identifier the index does not know (a built-in word, a field of `agent`, ...).
    Variable,
    Capability,
    DataClass,
    Const,
    Field,
    Agent,
    Human,
    Intent,
    Policy,
    Step,
}

/// A token with an absolute byte range.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SemanticToken {
    pub span: Span,
    pub kind: TokenKind,
}

/// Lexes one item's text (positions relative to it).
pub(crate) fn lex_item(text: &str) -> Vec<(Span, TokenKind)> {
    let mut out = Vec::new();
    let mut lex = Token::lexer(text);
    while let Some(tok) = lex.next() {
        let r = lex.span();
        let span = Span::new(r.start, r.end);
        let kind = match tok {
            Ok(Token::Str(_)) | Err(LexError::UnterminatedString) => TokenKind::String,
            Ok(Token::Number(_) | Token::Duration(_)) => TokenKind::Number,
            Ok(Token::DocComment(_) | Token::LineComment | Token::BlockComment) => {
                TokenKind::Comment
            }
            Ok(Token::Ident(_)) => TokenKind::Variable,
            Ok(Token::ByteOrderMark) => continue,
            Ok(t) if t.static_text_is_word() => TokenKind::Keyword,
            Ok(_) => TokenKind::Operator,
            Err(_) => continue,
        };
        out.push((span, kind));
    }
    out
}

impl Snapshot {
    /// The semantic tokens of a file, in order.
    pub fn semantic_tokens(&self, path: &str) -> Vec<SemanticToken> {
        let Some(file) = self.file(path) else {
            return Vec::new();
        };
        let text = file.text(&self.db);
        let starts = item_starts(&self.db, file);
        let count = item_count(&self.db, file);
        let mut raw: Vec<(Span, TokenKind)> = Vec::new();
        // Text between items (the package line, comments) is lexed here; items come from
        // their own queries.
        let mut gap_start = 0usize;
        for i in 0..count {
            let at = starts.get(i as usize).copied().unwrap_or(0);
            let gap = text.get(gap_start..at as usize).unwrap_or("");
            raw.extend(
                lex_item(gap)
                    .into_iter()
                    .map(|(s, k)| (offset(s, gap_start as u32), k)),
            );
            let toks = item_tokens(&self.db, file, i);
            let len = toks.last().map_or(0, |(s, _)| s.end);
            raw.extend(toks.iter().map(|(s, k)| (offset(*s, at), *k)));
            gap_start = (at + len) as usize;
        }
        let tail = text.get(gap_start..).unwrap_or("");
        raw.extend(
            lex_item(tail)
                .into_iter()
                .map(|(s, k)| (offset(s, gap_start as u32), k)),
        );
        // What each named range of this file declares or refers to, by its start.
        let mut named: BTreeMap<u32, (Span, TokenKind)> = BTreeMap::new();
        if let Some(index) = self.index(path) {
            let defs = index
                .defs
                .iter()
                .filter(|d| d.file == path)
                .map(|d| (d.focus, kind_of(d.kind)));
            let uses = index
                .uses
                .iter()
                .filter(|u| u.file == path)
                .filter_map(|u| index.def(u.def).map(|d| (u.span, kind_of(d.kind))));
            for (span, kind) in defs.chain(uses) {
                named.insert(span.start, (span, kind));
            }
        }
        raw.into_iter()
            .map(|(span, kind)| {
                let kind = match kind {
                    TokenKind::Variable | TokenKind::Keyword => named
                        .range(..=span.start)
                        .next_back()
                        .filter(|(_, (s, _))| span.end <= s.end)
                        .map_or(kind, |(_, (_, k))| *k),
                    _ => kind,
                };
                SemanticToken { span, kind }
            })
            .collect()
    }
}

fn offset(s: Span, by: u32) -> Span {
    Span {
        start: s.start + by,
        end: s.end + by,
    }
}

fn kind_of(k: DefKind) -> TokenKind {
    match k {
        DefKind::Capability => TokenKind::Capability,
        DefKind::DATA_CLASS => TokenKind::DataClass,
        DefKind::CONST => TokenKind::Const,
        DefKind::ContextField => TokenKind::Field,
        DefKind::AGENT | DefKind::Review => TokenKind::Agent,
        DefKind::HUMAN => TokenKind::Human,
        DefKind::INTENT | DefKind::ROUTE => TokenKind::Intent,
        DefKind::POLICY => TokenKind::Policy,
        DefKind::Step => TokenKind::Step,
        DefKind::Package | DefKind::Limits | DefKind::Test => TokenKind::Variable,
    }
}
