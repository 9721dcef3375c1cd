//! Conversions between the IDE layer (paths, byte ranges) and LSP types (URIs, UTF-16
//! positions). Total: offsets past the end clamp, unknown files give nothing.

use intent_compiler::diagnostics::{Diagnostic, Severity};
use intent_compiler::ide::{FileRange, Highlight, LineIndex, Snapshot, TokenKind};
use intent_compiler::syntax::ast::Span;
use std::str::FromStr;
use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::ls_types::Uri;

/// The path the IDE layer knows a document by: its file path, or the URI itself when it is
/// not a file (an unsaved buffer).
pub fn path_of(uri: &Uri) -> String {
    match uri.to_file_path() {
        Some(p) => p.to_string_lossy().into_owned(),
        None => uri.as_str().to_string(),
    }
}

/// The URI of a path (`None` for the standard library's `<std>/` modules).
pub fn uri_of(path: &str) -> Option<Uri> {
    if path.starts_with("<std>") {
        return None;
    }
    if path.contains(':') && !path.starts_with('/') {
        return Uri::from_str(path).ok();
    }
    Uri::from_file_path(path)
}

/// Byte offset of an LSP position in a file of the snapshot.
pub fn offset(snap: &Snapshot, path: &str, pos: lsp::Position) -> Option<u32> {
    let text = snap.text(path)?;
    let idx = snap.line_index(path)?;
    Some(idx.offset(text, pos.line, pos.character) as u32)
}

pub fn position(text: &str, idx: &LineIndex, offset: u32) -> lsp::Position {
    let (line, character) = idx.position(text, offset as usize);
    lsp::Position { line, character }
}

pub fn range(snap: &Snapshot, path: &str, span: Span) -> lsp::Range {
    let (Some(text), Some(idx)) = (snap.text(path), snap.line_index(path)) else {
        return lsp::Range::default();
    };
    lsp::Range {
        start: position(text, idx, span.start),
        end: position(text, idx, span.end),
    }
}

/// An occurrence of a name: its declaration as a write, its uses as reads (so an editor can
/// tell them apart).
pub fn highlight(snap: &Snapshot, path: &str, h: &Highlight) -> lsp::DocumentHighlight {
    lsp::DocumentHighlight {
        range: range(snap, path, h.span),
        kind: Some(if h.declaration {
            lsp::DocumentHighlightKind::WRITE
        } else {
            lsp::DocumentHighlightKind::READ
        }),
    }
}

pub fn location(snap: &Snapshot, r: &FileRange) -> Option<lsp::Location> {
    Some(lsp::Location {
        uri: uri_of(&r.file)?,
        range: range(snap, &r.file, r.span),
    })
}

pub fn diagnostic(snap: &Snapshot, d: &Diagnostic) -> lsp::Diagnostic {
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .filter_map(|l| {
            Some(lsp::DiagnosticRelatedInformation {
                location: location(
                    snap,
                    &FileRange {
                        file: l.file.clone(),
                        span: l.span,
                    },
                )?,
                message: l.message.clone(),
            })
        })
        .collect();
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    lsp::Diagnostic {
        range: range(snap, &d.primary.file, d.primary.span),
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.as_str().to_string())),
        source: Some("intent".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    }
}

/// The token types, in the order of the legend.
pub const TOKEN_TYPES: &[lsp::SemanticTokenType] = &[
    lsp::SemanticTokenType::KEYWORD,
    lsp::SemanticTokenType::STRING,
    lsp::SemanticTokenType::NUMBER,
    lsp::SemanticTokenType::COMMENT,
    lsp::SemanticTokenType::OPERATOR,
    lsp::SemanticTokenType::VARIABLE,
    lsp::SemanticTokenType::NAMESPACE,
    lsp::SemanticTokenType::ENUM_MEMBER,
    lsp::SemanticTokenType::PROPERTY,
    lsp::SemanticTokenType::CLASS,
    lsp::SemanticTokenType::STRUCT,
    lsp::SemanticTokenType::FUNCTION,
    lsp::SemanticTokenType::INTERFACE,
    lsp::SemanticTokenType::EVENT,
];

fn token_type(k: TokenKind) -> u32 {
    match k {
        TokenKind::Keyword => 0,
        TokenKind::String => 1,
        TokenKind::Number => 2,
        TokenKind::Comment => 3,
        TokenKind::Operator => 4,
        TokenKind::Variable | TokenKind::Const => 5,
        TokenKind::Capability => 6,
        TokenKind::DataClass => 7,
        TokenKind::Field => 8,
        TokenKind::Agent => 9,
        TokenKind::Human => 10,
        TokenKind::Intent => 11,
        TokenKind::Policy => 12,
        TokenKind::Step => 13,
    }
}

/// Semantic tokens, delta-encoded; a token over several lines is cut at its first line end.
pub fn semantic_tokens(snap: &Snapshot, path: &str) -> Vec<lsp::SemanticToken> {
    let (Some(text), Some(idx)) = (snap.text(path), snap.line_index(path)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let (mut last_line, mut last_col) = (0u32, 0u32);
    for t in snap.semantic_tokens(path) {
        let start = position(text, idx, t.span.start);
        let slice = text
            .get(t.span.start as usize..t.span.end as usize)
            .unwrap_or("");
        let first = slice.split(['\n', '\r']).next().unwrap_or("");
        let length: u32 = first.chars().map(|c| c.len_utf16() as u32).sum();
        if length == 0 {
            continue;
        }
        let delta_line = start.line - last_line;
        let delta_start = if delta_line == 0 {
            start.character - last_col
        } else {
            start.character
        };
        out.push(lsp::SemanticToken {
            delta_line,
            delta_start,
            length,
            token_type: token_type(t.kind),
            token_modifiers_bitset: 0,
        });
        last_line = start.line;
        last_col = start.character;
    }
    out
}
