//! Items: what each declaration prints as its head and its block, and the one-line items
//! that follow each other lined up as examples/finance lines up its one-line agents (their `{`,
//! then their second field).

use super::block::{block, body, inline, Align, Entry};
use super::entries::{
    agent_field, arm, human_field, intent_field, limit, route_arm, rule, test_entries, ARROWS,
    FIELDS,
};
use super::expr::{self, bracketed, name, path};
use super::writer::Writer;
use crate::syntax::ast::*;

/// What an item prints: its head (`agent name`) and its block entries, if it is a block.
pub struct Shape<'t> {
    pub head: Box<dyn Fn(&mut Writer) + 't>,
    pub block: Option<(Span, Vec<Entry<'t>>, Align)>,
}

pub fn shape<'t>(w: &Writer, item: &'t Item) -> Shape<'t> {
    let start = item.span.start as usize;
    let kw = move |word: &'static str| Span::new(start, start + word.len());
    let head_kw = move |word: &'static str| -> Box<dyn Fn(&mut Writer) + 't> {
        Box::new(move |w: &mut Writer| w.tok(word, kw(word)))
    };
    let body_of = |w: &Writer| body(w, start, item.span);
    match &item.kind {
        ItemKind::Package(p) => Shape {
            head: Box::new(move |w| {
                w.tok("package", kw("package"));
                w.space();
                path(w, p);
            }),
            block: None,
        },
        ItemKind::Use(u) => Shape {
            head: Box::new(move |w| {
                w.tok("use", kw("use"));
                w.space();
                // The path's span covers the braces too: place it by its segments.
                let first = u.path.segments.first().map_or(u.path.span, |s| s.span);
                let last = u.path.segments.last().map_or(u.path.span, |s| s.span);
                w.tok(&u.path.dotted(), first.to(last));
                if let Some(names) = &u.names {
                    w.put(".");
                    let open = w.find(last.end as usize, "{").unwrap_or(start);
                    bracketed(
                        w,
                        &expr::SET,
                        Span::new(open, item.span.end as usize),
                        names,
                        |n| n.span,
                        name,
                    );
                }
            }),
            block: None,
        },
        ItemKind::Capability(p) => Shape {
            head: Box::new(move |w| {
                w.tok("capability", kw("capability"));
                w.space();
                path(w, p);
            }),
            block: None,
        },
        ItemKind::Data { name: n, parent } => Shape {
            head: Box::new(move |w| {
                w.tok("data", kw("data"));
                w.space();
                name(w, n);
                if let Some(p) = parent {
                    w.space();
                    w.put(":");
                    w.space();
                    path(w, p);
                }
            }),
            block: None,
        },
        ItemKind::Const { name: n, value } => Shape {
            head: Box::new(move |w| {
                w.tok("const", kw("const"));
                w.space();
                name(w, n);
                w.space();
                w.put("=");
                w.space();
                expr::expr(w, value);
            }),
            block: None,
        },
        ItemKind::Context(fields) => Shape {
            head: Box::new(move |w| {
                w.tok("context", kw("context"));
                w.space();
                expr::schema(w, body(w, start, item.span), fields);
            }),
            block: None,
        },
        ItemKind::Agent(a) => Shape {
            head: named_head(head_kw("agent"), &a.name),
            block: Some((
                body_of(w),
                a.fields.iter().map(agent_field).collect(),
                FIELDS,
            )),
        },
        ItemKind::Human(h) => Shape {
            head: named_head(head_kw("human"), &h.name),
            block: Some((
                body_of(w),
                h.fields.iter().map(human_field).collect(),
                FIELDS,
            )),
        },
        ItemKind::Intent(i) => Shape {
            head: named_head(head_kw("intent"), &i.name),
            block: Some((
                body_of(w),
                i.fields.iter().map(intent_field).collect(),
                FIELDS,
            )),
        },
        ItemKind::Route(r) => Shape {
            head: named_head(head_kw("route"), &r.intent),
            block: Some((body_of(w), r.arms.iter().map(route_arm).collect(), ARROWS)),
        },
        ItemKind::Policy(p) => Shape {
            head: named_head(head_kw("policy"), &p.name),
            block: Some((body_of(w), p.rules.iter().map(rule).collect(), Align::None)),
        },
        ItemKind::Review(r) => Shape {
            head: Box::new(move |w| {
                w.tok("review", kw("review"));
                w.space();
                match &r.agent {
                    Some(n) => name(w, n),
                    None => w.tok("any", r.span_head),
                }
            }),
            block: Some((body_of(w), r.arms.iter().map(arm).collect(), Align::None)),
        },
        ItemKind::Limits(limits) => Shape {
            head: head_kw("limits"),
            block: Some((body_of(w), limits.iter().map(limit).collect(), Align::None)),
        },
        ItemKind::Test(t) => Shape {
            head: Box::new(move |w| {
                w.tok("test", kw("test"));
                w.space();
                w.tok(w.text_of(t.name.1), t.name.1);
            }),
            block: Some((body_of(w), test_entries(w, t), Align::None)),
        },
        ItemKind::Error(_) => Shape {
            head: Box::new(move |w| w.tok(w.text_of(item.span), item.span)),
            block: None,
        },
    }
}

fn named_head<'t>(kw: Box<dyn Fn(&mut Writer) + 't>, n: &'t Name) -> Box<dyn Fn(&mut Writer) + 't> {
    Box::new(move |w| {
        kw(w);
        w.space();
        name(w, n);
    })
}

/// Prints one item at the current position.
pub fn item(w: &mut Writer, item: &Item) {
    let s = shape(w, item);
    (s.head)(w);
    if let Some((body, entries, align)) = &s.block {
        block(w, *body, entries, *align);
    }
}

/// Whether the item is a block written on one line (a candidate for table alignment).
pub fn is_inline_block(w: &Writer, item: &Item) -> bool {
    let s = shape(w, item);
    match &s.block {
        Some((body, entries, _)) => !entries.is_empty() && inline(w, *body),
        None => false,
    }
}

/// Prints a run of consecutive one-line items of one kind as a table, as examples/finance lays
/// out its one-line agents: heads padded so that the `{` line up, and the first field padded
/// so that the second one lines up; the other fields follow two spaces apart.
pub fn table(w: &mut Writer, items: &[&Item]) {
    let rows: Vec<(String, Vec<String>)> = items
        .iter()
        .map(|item| {
            let s = shape(w, item);
            let head = w.trial(|w| (s.head)(w));
            let cells = match &s.block {
                Some((_, entries, _)) => entries
                    .iter()
                    .map(|e| w.trial(|w| e.print(w, None)))
                    .collect(),
                None => Vec::new(),
            };
            (head, cells)
        })
        .collect();
    let head_width = rows.iter().map(|r| width(&r.0)).max().unwrap_or(0);
    let first_width = rows
        .iter()
        .filter(|r| r.1.len() > 1)
        .filter_map(|r| r.1.first().map(|c| width(c)))
        .max()
        .unwrap_or(0);
    for (i, (item, (head, cells))) in items.iter().zip(&rows).enumerate() {
        if i > 0 {
            w.line(item.span.start as usize);
        }
        // The head carries the item's position, so the comments before the item go first.
        w.tok(
            head,
            Span::new(item.span.start as usize, item.span.start as usize),
        );
        w.pad_to(w.col().saturating_sub(width(head)) + head_width + 1);
        w.put("{");
        let mut line = String::new();
        for (c, cell) in cells.iter().enumerate() {
            if c == 1 {
                let pad = first_width.saturating_sub(line.chars().count()) + 2;
                line.push_str(&" ".repeat(pad));
            } else if c > 1 {
                line.push_str("  ");
            }
            line.push_str(cell);
        }
        w.space();
        w.put(&line);
        w.space();
        w.put_at("}", item.span.end as usize);
    }
}

pub(super) fn width(s: &str) -> usize {
    s.chars().count()
}
