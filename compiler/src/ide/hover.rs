//! Hover: what the name under the cursor is. Its declaration line and doc comment always; for
//! an agent what it provides, its clearance and trust; for a capability (so for `any CAP`)
//! the agents that could fill it; for a context field its type; for a const its value.

use super::{DefKind, FileRange, Snapshot, SymbolIndex};
use crate::syntax::ast::Span;

/// What to show, as Markdown, and the range it is about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Hover {
    pub range: FileRange,
    pub markdown: String,
}

/// Words the language defines whose meaning is worth a hover.
const BUILTINS: &[(&str, &str)] = &[
    ("confidence", "`confidence: number` — the classifier's confidence in the intent, 0..1"),
    ("intent", "`intent` — the intent the request was classified as"),
    ("agent", "`agent` — the agent a step would go to: `agent.name`, `agent.trust`, `agent.region`, `agent.zone`, `agent.cost`, `agent.labels`"),
    ("data", "`data` — the data classes the step handles (`data touches pii`)"),
    ("response", "`response` — in a `review`: the agent's response (`response.confidence`, `response.data`)"),
    ("caller", "`caller` — the verified agent that raised the request, in routes and policies: `caller.name`, `caller.trust`, `caller.region`, `caller.zone`, `caller.labels`, `caller provides CAP`; absent for an anonymous caller (`has caller`)"),
];

impl Snapshot {
    /// The hover at `offset` in `path`, if there is anything there.
    pub fn hover(&self, path: &str, offset: u32) -> Option<Hover> {
        let index = self.index(path)?;
        if let Some((def, span)) = index.at(path, offset) {
            let markdown = describe(index, def)?;
            return Some(Hover {
                range: FileRange {
                    file: path.to_string(),
                    span,
                },
                markdown,
            });
        }
        // A built-in word of expressions.
        let text = self.text(path)?;
        let (word, span) = word_at(text, offset as usize)?;
        let (_, doc) = BUILTINS.iter().find(|(w, _)| *w == word)?;
        Some(Hover {
            range: FileRange {
                file: path.to_string(),
                span,
            },
            markdown: (*doc).to_string(),
        })
    }
}

/// The identifier around `offset`.
pub(crate) fn word_at(text: &str, offset: usize) -> Option<(&str, Span)> {
    let offset = super::text::floor_char(text, offset);
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let start = text
        .get(..offset)?
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text
        .get(offset..)?
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(text.len(), |(i, _)| offset + i);
    (start < end).then(|| (&text[start..end], Span::new(start, end)))
}

fn describe(index: &SymbolIndex, i: usize) -> Option<String> {
    let d = index.def(i)?;
    let mut out = String::new();
    let head = match d.kind {
        DefKind::Test => format!("test \"{}\"", d.name),
        DefKind::ContextField => {
            let first = d
                .source
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .trim_end_matches(',');
            format!(
                "context {}: {}",
                d.name,
                first.split_once(':').map_or("", |(_, t)| t.trim())
            )
        }
        DefKind::CONST | DefKind::DATA_CLASS | DefKind::Capability | DefKind::Step => {
            d.source.lines().next().unwrap_or("").trim().to_string()
        }
        _ => format!("{} {}", d.kind.word(), d.name),
    };
    let location = if d.package.is_empty() {
        String::new()
    } else {
        format!("{}\n", d.package)
    };
    out.push_str(&format!("```intent\n{location}{head}\n```\n"));
    if let Some(doc) = &d.doc {
        out.push_str(&format!("\n{}\n", doc.trim()));
    }
    match d.kind {
        DefKind::AGENT | DefKind::INTENT | DefKind::HUMAN => {
            let fields: Vec<&str> = d
                .source
                .lines()
                .skip(1)
                .map(str::trim)
                .filter(|l| !l.is_empty() && *l != "}")
                .collect();
            let body = if fields.is_empty() {
                // A one-line declaration: what is between the braces.
                d.source
                    .split_once('{')
                    .map_or("", |(_, b)| b.trim_end().trim_end_matches('}').trim())
                    .to_string()
            } else {
                fields.join("\n")
            };
            if !body.is_empty() {
                out.push_str(&format!("\n```intent\n{body}\n```\n"));
            }
        }
        DefKind::Capability => {
            let agents = providers(index, &d.name);
            if agents.is_empty() {
                out.push_str("\nno agent provides it\n");
            } else {
                out.push_str(&format!(
                    "\nprovided by: {}\n",
                    agents
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        _ => {}
    }
    if d.is_std {
        out.push_str(&format!("\nfrom the standard library (`{}`)\n", d.file));
    }
    Some(out)
}

/// The agents whose `provides` covers capability `cap` (a provided `a` covers `a.b`).
pub(crate) fn providers(index: &SymbolIndex, cap: &str) -> Vec<String> {
    let mut out: Vec<String> = index
        .provided_by
        .iter()
        .filter(|(c, _)| {
            index
                .def(**c)
                .is_some_and(|d| cap == d.name || cap.starts_with(&format!("{}.", d.name)))
        })
        .flat_map(|(_, agents)| agents.iter().filter_map(|a| index.def(*a)))
        .map(|a| a.name.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}
