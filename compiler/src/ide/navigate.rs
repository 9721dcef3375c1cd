//! Go to definition, find references, highlight a name's occurrences in a file, and rename,
//! over the mesh's symbol index. Rename edits every file of the mesh and refuses what it cannot
//! rename safely: keywords, built-in words, names from the standard library, and new names
//! that are not identifiers.

use super::{Def, DefKind, FileRange, Snapshot, SymbolIndex, TextEdit};
use crate::syntax::ast::Span;
use crate::syntax::token::Token;
use logos::Logos;

/// One occurrence, in the file asked about, of the name at the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Highlight {
    pub span: Span,
    /// The name's declaration (the others are uses).
    pub declaration: bool,
}

/// Why a rename is refused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RenameError(pub String);

impl Snapshot {
    /// Where the name at `offset` is declared.
    pub fn goto_definition(&self, path: &str, offset: u32) -> Option<FileRange> {
        let index = self.index(path)?;
        let d = index.def(self.target(path, offset)?)?;
        Some(FileRange {
            file: d.file.clone(),
            span: d.focus,
        })
    }

    /// Every place the name at `offset` is used, its declaration first when asked for.
    pub fn references(&self, path: &str, offset: u32, include_declaration: bool) -> Vec<FileRange> {
        let Some(index) = self.index(path) else {
            return Vec::new();
        };
        let Some(def) = self.target(path, offset) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if include_declaration {
            if let Some(d) = index.def(def) {
                out.push(FileRange {
                    file: d.file.clone(),
                    span: d.focus,
                });
            }
        }
        let mut uses: Vec<FileRange> = index
            .uses
            .iter()
            .filter(|u| u.def == def)
            .map(|u| FileRange {
                file: u.file.clone(),
                span: u.span,
            })
            .collect();
        uses.sort();
        uses.dedup();
        out.extend(uses);
        out
    }

    /// Every occurrence in `path` of the name at `offset` (its declaration, when declared in
    /// this file, and its uses), in the order of the text: what an editor highlights when the
    /// cursor rests on a name.
    pub fn highlights(&self, path: &str, offset: u32) -> Vec<Highlight> {
        let Some(index) = self.index(path) else {
            return Vec::new();
        };
        let Some(def) = self.target(path, offset) else {
            return Vec::new();
        };
        let declared = index.def(def).filter(|d| d.file == path).map(|d| d.focus);
        let mut out: Vec<Highlight> = declared
            .map(|span| Highlight {
                span,
                declaration: true,
            })
            .into_iter()
            .chain(
                self.references(path, offset, false)
                    .into_iter()
                    .filter(|r| r.file == path && Some(r.span) != declared)
                    .map(|r| Highlight {
                        span: r.span,
                        declaration: false,
                    }),
            )
            .collect();
        out.sort_by_key(|h| (h.span.start, h.span.end));
        out
    }

    /// The declaration the name at `offset` means (through a route to its intent).
    fn target(&self, path: &str, offset: u32) -> Option<usize> {
        let index = self.index(path)?;
        let (def, span) = index.at(path, offset)?;
        if index.def(def)?.kind == DefKind::ROUTE {
            return index
                .uses
                .iter()
                .find(|u| u.file == path && u.span == span)
                .map(|u| u.def);
        }
        Some(def)
    }

    /// The range that a rename at `offset` would change, or why it cannot.
    pub fn prepare_rename(&self, path: &str, offset: u32) -> Result<FileRange, RenameError> {
        let (_, _, span) = self.renamable(path, offset)?;
        Ok(FileRange {
            file: path.to_string(),
            span,
        })
    }

    /// The mesh's index, the declaration named at `offset` and the name's span there, when
    /// that declaration can be renamed; otherwise why not.
    fn renamable(
        &self,
        path: &str,
        offset: u32,
    ) -> Result<(&SymbolIndex, &Def, Span), RenameError> {
        let text = self.text(path).unwrap_or("");
        if let Some((word, _)) = super::hover::word_at(text, offset as usize) {
            if is_keyword(word) {
                return Err(RenameError(format!(
                    "`{word}` is a keyword of the language"
                )));
            }
        }
        let index = self
            .index(path)
            .ok_or_else(|| RenameError("this file is not part of a mesh".into()))?;
        let def = self
            .target(path, offset)
            .ok_or_else(|| RenameError("no declared name here".into()))?;
        let d = index
            .def(def)
            .ok_or_else(|| RenameError("no declared name here".into()))?;
        if d.is_std {
            return Err(RenameError(format!(
                "`{}` is declared in the standard library and cannot be renamed",
                d.name
            )));
        }
        if matches!(
            d.kind,
            DefKind::Test | DefKind::Review | DefKind::Limits | DefKind::Package
        ) {
            return Err(RenameError(format!(
                "a {} has no name to rename",
                d.kind.word()
            )));
        }
        let (_, span) = index
            .at(path, offset)
            .ok_or_else(|| RenameError("no declared name here".into()))?;
        Ok((index, d, span))
    }

    /// The edits that rename the name at `offset` to `new_name` everywhere in its mesh.
    pub fn rename(
        &self,
        path: &str,
        offset: u32,
        new_name: &str,
    ) -> Result<Vec<TextEdit>, RenameError> {
        let (index, d, _) = self.renamable(path, offset)?;
        let dotted = matches!(d.kind, DefKind::Capability);
        if !valid_name(new_name, dotted) {
            return Err(RenameError(format!(
                "`{new_name}` is not a valid {} name",
                d.kind.word()
            )));
        }
        // A nested context field is written as its last segment where it is declared.
        let last = |s: &str| s.rsplit('.').next().unwrap_or(s).to_string();
        let replacement = if d.kind == DefKind::ContextField {
            last(new_name)
        } else {
            new_name.to_string()
        };
        let mut edits: Vec<TextEdit> = self
            .references(path, offset, true)
            .into_iter()
            .filter(|r| !self.file(&r.file).is_some_and(|f| *f.is_std(&self.db)))
            .map(|r| TextEdit {
                range: r,
                new_text: replacement.clone(),
            })
            .collect();
        // Routes are named by their intent: rename them with it.
        if d.kind == DefKind::INTENT {
            for r in index
                .defs
                .iter()
                .filter(|x| x.kind == DefKind::ROUTE && x.name == d.name)
            {
                let e = TextEdit {
                    range: FileRange {
                        file: r.file.clone(),
                        span: r.focus,
                    },
                    new_text: replacement.clone(),
                };
                if !edits.contains(&e) {
                    edits.push(e);
                }
            }
        }
        edits.sort_by(|a, b| a.range.cmp(&b.range));
        Ok(edits)
    }
}

/// Whether `word` is a keyword (or a built-in word) rather than a name.
pub(crate) fn is_keyword(word: &str) -> bool {
    const BUILTIN: &[&str] = &[
        "confidence",
        "agent",
        "data",
        "response",
        "caller",
        "bool",
        "number",
        "string",
        "duration",
        "set",
        "list",
    ];
    if BUILTIN.contains(&word) {
        return true;
    }
    let mut lex = Token::lexer(word);
    matches!(lex.next(), Some(Ok(t)) if !matches!(t, Token::Ident(_)) && lex.next().is_none())
}

fn valid_name(name: &str, dotted: bool) -> bool {
    let ident = |s: &str| {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !is_keyword(s)
    };
    if dotted {
        name.split('.').all(ident)
    } else {
        ident(name)
    }
}
