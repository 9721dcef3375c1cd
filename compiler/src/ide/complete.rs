//! Completion: what may be written at the cursor, read from the text just before it and the
//! item around it. After `subject.` the fields of that context record; after `agent.` the
//! agent fields; after `provides`, `requires`, `needs` or `any` the capabilities; after
//! `clearance`, `handles`, `touches` or `redact` the data classes; after `dispatch`,
//! `fallback` or `backup` the agents; after `escalate` the humans. At the start of a line the
//! keywords that fit there (item keywords at the top level, field keywords inside an item);
//! elsewhere, the names in scope and the expression keywords.

use super::{DefKind, Snapshot, SymbolIndex};
use crate::db::parse_file;
use crate::syntax::ast::ItemKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum CompletionKind {
    Keyword,
    Capability,
    DataClass,
    Agent,
    Human,
    Intent,
    Const,
    Field,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
}

const ITEM_KEYWORDS: &[&str] = &[
    "package",
    "use",
    "capability",
    "data",
    "const",
    "context",
    "agent",
    "human",
    "intent",
    "route",
    "policy",
    "review",
    "limits",
    "test",
];
const AGENT_FIELDS: &[&str] = &[
    "provides",
    "clearance",
    "trust",
    "region",
    "zone",
    "endpoint",
    "backup",
    "cost",
    "labels",
];
const HUMAN_FIELDS: &[&str] = &["channel", "sla"];
const INTENT_FIELDS: &[&str] = &[
    "description",
    "examples",
    "requires",
    "handles",
    "delegates",
    "input",
    "tool",
    "output",
];
const ROUTE_WORDS: &[&str] = &[
    "when",
    "otherwise",
    "dispatch",
    "plan",
    "escalate",
    "clarify",
    "deny",
    "pass",
    "redact",
    "any",
    "after",
    "fallback",
    "needs",
    "handles",
    "because",
];
const POLICY_WORDS: &[&str] = &[
    "forbid", "permit", "escalate", "require", "audit", "when", "unless", "because",
];
const LIMIT_WORDS: &[&str] = &[
    "delegation",
    "depth",
    "rate",
    "per",
    "breaker",
    "failures",
    "cooldown",
    "any",
    "confidence",
    "floor",
];
const TEST_WORDS: &[&str] = &[
    "given", "expect", "not", "dispatch", "plan", "escalate", "clarify", "deny", "throttle",
    "intent", "audit", "redact", "pass", "because",
];
const EXPR_WORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "has",
    "touches",
    "provides",
    "true",
    "false",
    "confidence",
    "intent",
    "agent",
    "data",
    "caller",
];
/// What `caller.` offers in expressions.
const CALLER_ATTRS: &[(&str, &str)] = &[
    ("name", "an agent's name"),
    ("trust", "number"),
    ("region", "string"),
    ("zone", "string"),
    ("labels", "record"),
];
/// What `agent.` offers in expressions.
const AGENT_ATTRS: &[(&str, &str)] = &[
    ("name", "string"),
    ("trust", "number"),
    ("region", "string"),
    ("zone", "string"),
    ("cost", "number"),
    ("labels", "record"),
];

impl Snapshot {
    /// Completions at `offset` in `path`.
    pub fn completions(&self, path: &str, offset: u32) -> Vec<Completion> {
        let Some(file) = self.file(path) else {
            return Vec::new();
        };
        let Some(index) = self.index(path) else {
            return Vec::new();
        };
        let text = file.text(&self.db);
        let offset = super::text::floor_char(text, offset as usize);
        let before = text.get(..offset).unwrap_or("");
        // The word being typed, and what stands before it.
        let typed_start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
            .last()
            .map_or(offset, |(i, _)| i);
        let head = &before[..typed_start];
        let mut out = Vec::new();
        if let Some(owner) = head.strip_suffix('.') {
            let owner_start = owner
                .char_indices()
                .rev()
                .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
                .last()
                .map_or(owner.len(), |(i, _)| i);
            let owner = &owner[owner_start..];
            // `cap.` in a capability position continues a capability name.
            let prev = last_word(&head[..owner_start]);
            if matches!(
                prev,
                "provides" | "requires" | "needs" | "any" | "capability"
            ) || is_list_of(&head[..owner_start], &["provides", "requires", "needs"])
            {
                caps(index, &mut out, Some(owner));
            } else if owner == "agent" || owner == "caller" {
                let attrs = if owner == "agent" {
                    AGENT_ATTRS
                } else {
                    CALLER_ATTRS
                };
                out.extend(attrs.iter().map(|(n, t)| Completion {
                    label: (*n).to_string(),
                    kind: CompletionKind::Field,
                    detail: Some((*t).to_string()),
                }));
            } else {
                let prefix = format!("{owner}.");
                for d in &index.defs {
                    if d.kind == DefKind::ContextField {
                        if let Some(rest) = d.name.strip_prefix(&prefix) {
                            if !rest.contains('.') {
                                out.push(Completion {
                                    label: rest.to_string(),
                                    kind: CompletionKind::Field,
                                    detail: Some(field_type(&d.source)),
                                });
                            }
                        }
                    }
                }
            }
            return finish(out);
        }
        let prev = last_word(head);
        let list_of = |words: &[&str]| prev == "," && is_list_of(head, words);
        if matches!(prev, "provides" | "requires" | "needs" | "any")
            || list_of(&["provides", "requires", "needs"])
        {
            caps(index, &mut out, None);
        } else if matches!(prev, "clearance" | "handles" | "touches" | "redact")
            || list_of(&["clearance", "handles", "redact"])
        {
            names(index, path, DefKind::DATA_CLASS, &mut out);
        } else if matches!(prev, "dispatch" | "fallback" | "backup")
            || list_of(&["fallback", "backup"])
        {
            names(index, path, DefKind::AGENT, &mut out);
            out.push(keyword("any"));
        } else if prev == "escalate" {
            names(index, path, DefKind::HUMAN, &mut out);
        } else if matches!(prev, "route" | "delegates") || list_of(&["delegates"]) {
            names(index, path, DefKind::INTENT, &mut out);
        } else {
            let item = parse_file(&self.db, file)
                .tree
                .items
                .iter()
                .find(|i| (i.span.start as usize) < offset && offset < i.span.end as usize)
                .map(|i| &i.kind);
            let line_start = head
                .rsplit(['\n', '\r'])
                .next()
                .is_some_and(|l| l.trim().is_empty());
            match item {
                None => out.extend(ITEM_KEYWORDS.iter().map(|k| keyword(k))),
                Some(ItemKind::Agent(_)) if line_start => {
                    out.extend(AGENT_FIELDS.iter().map(|k| keyword(k)))
                }
                Some(ItemKind::Human(_)) if line_start => {
                    out.extend(HUMAN_FIELDS.iter().map(|k| keyword(k)))
                }
                Some(ItemKind::Intent(_)) if line_start => {
                    out.extend(INTENT_FIELDS.iter().map(|k| keyword(k)))
                }
                Some(ItemKind::Limits(_)) => out.extend(LIMIT_WORDS.iter().map(|k| keyword(k))),
                Some(kind) => {
                    let words = match kind {
                        ItemKind::Route(_) | ItemKind::Review(_) => ROUTE_WORDS,
                        ItemKind::Policy(_) => POLICY_WORDS,
                        ItemKind::Test(_) => TEST_WORDS,
                        _ => &[],
                    };
                    if line_start {
                        out.extend(words.iter().map(|k| keyword(k)));
                    }
                    out.extend(EXPR_WORDS.iter().map(|k| keyword(k)));
                    for kind in [
                        DefKind::CONST,
                        DefKind::INTENT,
                        DefKind::AGENT,
                        DefKind::HUMAN,
                    ] {
                        names(index, path, kind, &mut out);
                    }
                    for d in &index.defs {
                        if d.kind == DefKind::ContextField && !d.name.contains('.') {
                            out.push(Completion {
                                label: d.name.clone(),
                                kind: CompletionKind::Field,
                                detail: Some(field_type(&d.source)),
                            });
                        }
                    }
                }
            }
        }
        finish(out)
    }
}

fn finish(mut out: Vec<Completion>) -> Vec<Completion> {
    out.sort();
    out.dedup_by(|a, b| a.label == b.label);
    out
}

fn keyword(k: &str) -> Completion {
    Completion {
        label: k.to_string(),
        kind: CompletionKind::Keyword,
        detail: None,
    }
}

/// The last word (or `,`) before the cursor, skipping spaces.
fn last_word(head: &str) -> &str {
    let t = head.trim_end();
    if t.ends_with(',') {
        return ",";
    }
    let start = t
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
        .last()
        .map_or(t.len(), |(i, _)| i);
    &t[start..]
}

/// Whether the comma-separated list that `head` ends inside follows one of `words`.
fn is_list_of(head: &str, words: &[&str]) -> bool {
    let mut t = head.trim_end();
    loop {
        let Some(rest) = t.strip_suffix(',') else {
            return words.contains(&last_word(t));
        };
        // Skip `, name` backwards.
        let rest = rest.trim_end();
        let start = rest
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
            .last()
            .map_or(rest.len(), |(i, _)| i);
        if start == rest.len() {
            return false;
        }
        t = rest[..start].trim_end();
        if !t.ends_with(',') {
            return words.contains(&last_word(t));
        }
    }
}

fn caps(index: &SymbolIndex, out: &mut Vec<Completion>, under: Option<&str>) {
    for d in index.defs.iter().filter(|d| d.kind == DefKind::Capability) {
        let label = match under {
            Some(owner) => match d.name.strip_prefix(&format!("{owner}.")) {
                Some(rest) => rest.to_string(),
                None => continue,
            },
            None => d.name.clone(),
        };
        let providers = super::hover::providers(index, &d.name);
        out.push(Completion {
            label,
            kind: CompletionKind::Capability,
            detail: Some(if providers.is_empty() {
                "no agent provides it".to_string()
            } else {
                format!("provided by {}", providers.join(", "))
            }),
        });
    }
}

fn names(index: &SymbolIndex, path: &str, kind: DefKind, out: &mut Vec<Completion>) {
    let ckind = match kind {
        DefKind::DATA_CLASS => CompletionKind::DataClass,
        DefKind::AGENT => CompletionKind::Agent,
        DefKind::HUMAN => CompletionKind::Human,
        DefKind::INTENT => CompletionKind::Intent,
        _ => CompletionKind::Const,
    };
    for (label, i) in index.visible(path, kind) {
        let detail = index
            .def(i)
            .map(|d| format!("{} {}.{}", d.kind.word(), d.package, d.name));
        out.push(Completion {
            label,
            kind: ckind,
            detail,
        });
    }
}

/// The type written in a field declaration's source (`residency: string` → `string`).
fn field_type(source: &str) -> String {
    let first = source.lines().next().unwrap_or("");
    first
        .split_once(':')
        .map_or(first, |(_, t)| t)
        .trim()
        .trim_end_matches(',')
        .to_string()
}
