//! Code actions (quick fixes) for the diagnostics in a range: add the missing `otherwise` arm
//! (E0300), declare an unknown capability (E0101), and apply a "did you mean" from a help line.

use super::{FileRange, Snapshot};
use crate::codes::Code;
use crate::db::parse_file;
use crate::diagnostics::Diagnostic;
use crate::syntax::ast::{ItemKind, Span};

/// Replace `range` with `new_text` (an insertion when the range is empty).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TextEdit {
    pub range: FileRange,
    pub new_text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CodeAction {
    pub title: String,
    /// The code of the diagnostic it fixes.
    pub fixes: String,
    pub edits: Vec<TextEdit>,
}

impl Snapshot {
    /// Quick fixes for the diagnostics of `path` that overlap `range`.
    pub fn code_actions(&self, path: &str, range: Span) -> Vec<CodeAction> {
        let overlaps = |s: Span| s.start <= range.end && range.start <= s.end;
        let mut out = Vec::new();
        for d in self
            .diagnostics(path)
            .iter()
            .filter(|d| overlaps(d.primary.span))
        {
            if d.code == Code::ROUTE_NOT_COVERED
                || d.code == Code::ROUTE_UNPROVED
                || d.code == Code::NO_OTHERWISE
            {
                out.extend(self.add_otherwise(path, d));
            }
            if d.code == Code::UNKNOWN_CAPABILITY {
                out.extend(self.declare_capability(path, d));
            }
            if let Some(name) = d.help.as_deref().and_then(suggestion) {
                out.push(CodeAction {
                    title: format!("replace with `{name}`"),
                    fixes: d.code.as_str().to_string(),
                    edits: vec![TextEdit {
                        range: d.primary.clone().into_range(),
                        new_text: name.to_string(),
                    }],
                });
            }
        }
        out
    }

    fn add_otherwise(&self, path: &str, d: &Diagnostic) -> Option<CodeAction> {
        let file = self.file(path)?;
        let text = file.text(&self.db);
        let item =
            parse_file(&self.db, file).tree.items.iter().find(|i| {
                i.span.start <= d.primary.span.start && d.primary.span.end <= i.span.end
            })?;
        let arm = match item.kind {
            ItemKind::Review(_) => "otherwise => pass",
            _ => "otherwise => deny because \"no arm matched\"",
        };
        let body = text.get(item.span.start as usize..item.span.end as usize)?;
        let brace = item.span.start as usize + body.rfind('}')?;
        let line_start = text.get(..brace)?.rfind(['\n', '\r']).map_or(0, |i| i + 1);
        let indent = text.get(line_start..brace)?;
        let (at, new_text) = if indent.trim().is_empty() {
            (line_start, format!("{indent}  {arm}\n"))
        } else {
            (brace, format!("{arm} "))
        };
        Some(CodeAction {
            title: "add the missing `otherwise` arm".into(),
            fixes: d.code.as_str().into(),
            edits: vec![TextEdit {
                range: FileRange {
                    file: path.to_string(),
                    span: Span::new(at, at),
                },
                new_text,
            }],
        })
    }

    fn declare_capability(&self, path: &str, d: &Diagnostic) -> Option<CodeAction> {
        let name = d.message.split('`').nth(1)?;
        let file = self.file(path)?;
        let text = file.text(&self.db);
        let items = &parse_file(&self.db, file).tree.items;
        // After the last `capability`, else after the `use`s, else after the package line.
        let after = items
            .iter()
            .rfind(|i| matches!(i.kind, ItemKind::Capability(_)))
            .or_else(|| items.iter().rfind(|i| matches!(i.kind, ItemKind::Use(_))))
            .map(|i| i.span.end as usize)
            .or_else(|| {
                parse_file(&self.db, file)
                    .tree
                    .package
                    .as_ref()
                    .map(|p| p.span.end as usize)
            });
        let (at, new_text) = match after {
            Some(end) => {
                let line_end = text
                    .get(end..)?
                    .find(['\n', '\r'])
                    .map_or(text.len(), |i| end + i);
                (line_end, format!("\ncapability {name}"))
            }
            None => (0, format!("capability {name}\n")),
        };
        Some(CodeAction {
            title: format!("declare `capability {name}`"),
            fixes: d.code.as_str().into(),
            edits: vec![TextEdit {
                range: FileRange {
                    file: path.to_string(),
                    span: Span::new(at, at),
                },
                new_text,
            }],
        })
    }
}

impl crate::diagnostics::Label {
    fn into_range(self) -> FileRange {
        FileRange {
            file: self.file,
            span: self.span,
        }
    }
}

/// The name in a help line "did you mean `x`?".
fn suggestion(help: &str) -> Option<&str> {
    let rest = help.split("did you mean `").nth(1)?;
    rest.split('`').next().filter(|s| !s.is_empty())
}
