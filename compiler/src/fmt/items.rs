//! Printing items and the blocks inside them (fields, arms, steps, rules, limits, tests).
//!
//! A block is written on one line (`agent a { trust 0.9  region "eu" }`, fields two spaces
//! apart) when the source has it on one line without comments, and one entry a line otherwise.
//! In a block of fields (agent, human, intent) and in a plan, the values of consecutive
//! one-line entries line up one column past the longest key, as in LANGUAGE.md §1. Consecutive
//! one-line items of the same kind line up as a table: the `{`, then each field.

use super::expr::{self, bracketed, comma_line, name, path, target, LIST, RECORD};
use super::writer::{blank_between, Writer};
use crate::syntax::ast::*;

/// One entry of a block: an optional key (whose end may be aligned), then the rest.
pub struct Entry<'t> {
    pub span: Span,
    /// The field word, for matching the columns of a table of one-line items.
    pub word: Option<String>,
    pub key: Option<Printer<'t>>,
    pub rest: Printer<'t>,
}

pub type Printer<'t> = Box<dyn Fn(&mut Writer) + 't>;

impl Entry<'_> {
    fn print(&self, w: &mut Writer, pad_to: Option<usize>) {
        if let Some(key) = &self.key {
            key(w);
            match pad_to {
                Some(col) => w.pad_to(col),
                None => w.space(),
            }
        }
        (self.rest)(w);
    }
}

fn keyed<'t>(kw: &'static str, span: Span, rest: impl Fn(&mut Writer) + 't) -> Entry<'t> {
    let at = Span::new(span.start as usize, span.start as usize + kw.len());
    Entry {
        span,
        word: Some(kw.to_string()),
        key: Some(Box::new(move |w| w.tok(kw, at))),
        rest: Box::new(rest),
    }
}

fn plain<'t>(span: Span, rest: impl Fn(&mut Writer) + 't) -> Entry<'t> {
    Entry {
        span,
        word: None,
        key: None,
        rest: Box::new(rest),
    }
}

/// How the entries of a multi-line block line up.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Align {
    None,
    /// Runs of two or more one-line entries put their rest `gap` columns past the longest key.
    Keys {
        gap: usize,
    },
}

/// Whether a block whose braces span `body` is written on one line.
fn inline(w: &Writer, body: Span) -> bool {
    !w.spans_lines(body) && !w.has_comment_in(body)
}

/// Prints ` { entries }` after a head; `body` spans the braces.
pub fn block(w: &mut Writer, body: Span, entries: &[Entry], align: Align) {
    let open_at = body.start as usize;
    let close_at = (body.end as usize).saturating_sub(1);
    w.space();
    w.tok("{", Span::new(open_at, open_at + 1));
    if entries.is_empty() && !w.has_comment_in(body) {
        w.tok("}", Span::new(close_at, close_at + 1));
        return;
    }
    if inline(w, body) {
        for (i, e) in entries.iter().enumerate() {
            if i == 0 {
                w.space();
            } else {
                w.gap();
            }
            e.print(w, None);
        }
        w.space();
        w.tok("}", Span::new(close_at, close_at + 1));
        return;
    }
    let outer = w.indent;
    w.open();
    let widths = match align {
        Align::Keys { gap } => key_columns(w, entries)
            .into_iter()
            .map(|k| k.map(|k| k + gap))
            .collect(),
        Align::None => vec![None; entries.len()],
    };
    for (e, width) in entries.iter().zip(widths) {
        w.line(e.span.start as usize);
        e.print(w, width.map(|k| w.indent + k));
    }
    w.close(close_at, outer, "}");
}

/// For each entry, the key width of its alignment run (None: not aligned). A run is broken by
/// a blank line, or by an entry that takes more than one line.
fn key_columns(w: &mut Writer, entries: &[Entry]) -> Vec<Option<usize>> {
    let single: Vec<bool> = entries
        .iter()
        .map(|e| !w.has_comment_in(e.span) && !w.trial(|w| e.print(w, None)).contains('\n'))
        .collect();
    let mut out = vec![None; entries.len()];
    let mut start = 0;
    while start < entries.len() {
        let mut end = start + 1;
        let keyed = |i: usize| {
            single.get(i) == Some(&true) && entries.get(i).is_some_and(|e| e.key.is_some())
        };
        while end < entries.len()
            && keyed(end - 1)
            && keyed(end)
            && !entries
                .get(end - 1)
                .zip(entries.get(end))
                .is_some_and(|(a, b)| {
                    blank_between(w.src, a.span.end as usize, b.span.start as usize)
                })
        {
            end += 1;
        }
        if end - start >= 2 {
            let width = entries
                .get(start..end)
                .unwrap_or_default()
                .iter()
                .filter_map(|e| e.key.as_ref().map(|k| width(&w.trial(|w| k(w)))))
                .max();
            for slot in out.iter_mut().take(end).skip(start) {
                *slot = width;
            }
        }
        start = end;
    }
    out
}

/// The braces of a block that starts with `{` somewhere after `from` and ends at `end`.
fn body(w: &Writer, from: usize, end: Span) -> Span {
    let open = w.find(from, "{").unwrap_or(end.end as usize);
    Span::new(open, end.end as usize)
}

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

/// Prints a run of consecutive one-line items of one kind as a table: heads padded so that
/// the `{` line up, then each field in the column of its word (a row without that field leaves
/// the column empty), padded to the widest field of its column. The last field of a row is
/// never padded. Arms and rules, which have no field word, are matched by position.
pub fn table(w: &mut Writer, items: &[&Item]) {
    // Each row: its head, and its cells as (column key, text).
    let rows: Vec<(String, Vec<(String, String)>)> = items
        .iter()
        .map(|item| {
            let s = shape(w, item);
            let head = w.trial(|w| (s.head)(w));
            let cells = match &s.block {
                Some((_, entries, _)) => entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let key = e.word.clone().unwrap_or_else(|| format!("#{i}"));
                        (key, w.trial(|w| e.print(w, None)))
                    })
                    .collect(),
                None => Vec::new(),
            };
            (head, cells)
        })
        .collect();
    let columns = columns(&rows).unwrap_or_else(|| {
        let n = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
        (0..n).map(|i| format!("#{i}")).collect()
    });
    let positional = columns.first().is_some_and(|c| c.starts_with('#'))
        && rows
            .iter()
            .any(|r| r.1.iter().any(|(k, _)| !k.starts_with('#')));
    // Each row's cells placed in columns.
    let placed: Vec<Vec<Option<&String>>> = rows
        .iter()
        .map(|(_, cells)| {
            columns
                .iter()
                .enumerate()
                .map(|(c, key)| {
                    if positional {
                        cells.get(c).map(|x| &x.1)
                    } else {
                        cells.iter().find(|x| &x.0 == key).map(|x| &x.1)
                    }
                })
                .collect()
        })
        .collect();
    let last = |row: &Vec<Option<&String>>| row.iter().rposition(Option::is_some);
    let widths: Vec<usize> = (0..columns.len())
        .map(|c| {
            let inner = placed
                .iter()
                .filter(|r| last(r).is_some_and(|l| c < l))
                .filter_map(|r| r.get(c).copied().flatten().map(|s| width(s)))
                .max();
            inner.unwrap_or_else(|| {
                placed
                    .iter()
                    .filter_map(|r| r.get(c).copied().flatten().map(|s| width(s)))
                    .max()
                    .unwrap_or(0)
            })
        })
        .collect();
    let head_width = rows.iter().map(|r| width(&r.0)).max().unwrap_or(0);
    for (i, (item, ((head, _), row))) in items.iter().zip(rows.iter().zip(&placed)).enumerate() {
        if i > 0 {
            w.line(item.span.start as usize);
        }
        // The head carries the item's position, so the comments before the item go first.
        w.tok(
            head,
            Span::new(item.span.start as usize, item.span.start as usize),
        );
        w.pad_to(w.col() - width(head) + head_width + 1);
        w.put("{");
        let end = last(row).unwrap_or(0);
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate().take(end + 1) {
            let text = cell.map_or("", |s| s.as_str());
            line.push_str(text);
            if c < end {
                let pad = widths.get(c).copied().unwrap_or(0) + 2 - width(text);
                line.push_str(&" ".repeat(pad));
            }
        }
        w.space();
        w.put(&line);
        w.space();
        w.put_at("}", item.span.end as usize);
    }
}

/// The columns of a table: field words in an order every row agrees with, or None when the
/// rows disagree (or repeat a word), in which case cells are matched by position.
fn columns(rows: &[(String, Vec<(String, String)>)]) -> Option<Vec<String>> {
    let mut columns: Vec<String> = Vec::new();
    for (_, cells) in rows {
        let mut pos = 0;
        let mut seen: Vec<&String> = Vec::new();
        for (key, _) in cells {
            if seen.contains(&key) {
                return None;
            }
            seen.push(key);
            match columns.iter().position(|c| c == key) {
                Some(i) if i >= pos => pos = i + 1,
                Some(_) => return None,
                None => {
                    columns.insert(pos, key.clone());
                    pos += 1;
                }
            }
        }
    }
    Some(columns)
}

fn width(s: &str) -> usize {
    s.chars().count()
}

// ------------------------------------------------------------------ fields

fn agent_field(f: &AgentField) -> Entry<'_> {
    let span = f.span();
    let kw = f.keyword();
    match f {
        AgentField::Provides(v, _) | AgentField::Clearance(v, _) => {
            keyed(kw, span, move |w| comma_line(w, v, path))
        }
        AgentField::Trust(e, _)
        | AgentField::Region(e, _)
        | AgentField::Endpoint(e, _)
        | AgentField::Cost(e, _) => keyed(kw, span, move |w| expr::expr(w, e)),
        AgentField::Zone(n, _) => keyed(kw, span, move |w| name(w, n)),
        AgentField::Backup(v, _) => keyed(kw, span, move |w| comma_line(w, v, name)),
        AgentField::Labels(v, _) => keyed(kw, span, move |w| {
            let b = body(w, span.start as usize, span);
            bracketed(
                w,
                &RECORD,
                b,
                v,
                |(k, v)| k.span.to(v.span),
                |w, (k, v)| {
                    name(w, k);
                    w.put(":");
                    w.space();
                    expr::expr(w, v);
                },
            );
        }),
    }
}

fn human_field(f: &HumanField) -> Entry<'_> {
    match f {
        HumanField::Channel(e, span) => keyed("channel", *span, move |w| expr::expr(w, e)),
        HumanField::Sla(e, span) => keyed("sla", *span, move |w| expr::expr(w, e)),
    }
}

fn intent_field(f: &IntentField) -> Entry<'_> {
    let span = f.span();
    let kw = f.keyword();
    match f {
        IntentField::Description(e, _) => keyed(kw, span, move |w| expr::expr(w, e)),
        IntentField::Examples(v, _) => keyed(kw, span, move |w| {
            let open = w
                .find(span.start as usize, "[")
                .unwrap_or(span.start as usize);
            let b = Span::new(open, span.end as usize);
            bracketed(w, &LIST, b, v, |e| e.span, expr::expr);
        }),
        IntentField::Requires(v, _) | IntentField::Handles(v, _) => {
            keyed(kw, span, move |w| comma_line(w, v, path))
        }
        IntentField::Delegates(v, _) => keyed(kw, span, move |w| comma_line(w, v, name)),
        IntentField::Input(v, _) => keyed(kw, span, move |w| {
            expr::schema(w, body(w, span.start as usize, span), v)
        }),
    }
}

// ------------------------------------------------------------------ routes and reviews

const FIELDS: Align = Align::Keys { gap: 1 };
const ARROWS: Align = Align::Keys { gap: 2 };

/// A review arm: `when COND => ACTION`, never aligned.
fn arm(a: &Arm) -> Entry<'_> {
    plain(a.span, move |w| {
        let at = a.span.start as usize;
        match &a.condition {
            Some(c) => {
                w.tok("when", Span::new(at, at + 4));
                w.space();
                expr::expr(w, c);
            }
            None => w.tok("otherwise", Span::new(at, at + 9)),
        }
        w.space();
        arrow_action(w, a);
    })
}

/// A route arm: consecutive one-line `when` arms line up their `=>`.
fn route_arm(a: &Arm) -> Entry<'_> {
    match &a.condition {
        Some(c) => Entry {
            span: a.span,
            word: None,
            key: Some(Box::new(move |w| {
                let at = a.span.start as usize;
                w.tok("when", Span::new(at, at + 4));
                w.space();
                expr::expr(w, c);
            })),
            rest: Box::new(move |w| arrow_action(w, a)),
        },
        None => arm(a),
    }
}

fn arrow_action(w: &mut Writer, a: &Arm) {
    w.put("=>");
    w.space();
    action(w, &a.action);
}

/// Puts a space, or the line break the source has before the keyword at `at`.
fn keyword(w: &mut Writer, text: &str, at: usize) {
    if w.broken_before(at) {
        let col = w.indent + 2;
        w.cont_line(at, col);
    } else {
        w.space();
    }
    w.tok(text, Span::new(at, at + text.len()));
}

fn because(w: &mut Writer, b: &Option<(String, Span)>) {
    if let Some((_, s)) = b {
        let at = w.token_before(s.start as usize).map_or(0, |t| t.0);
        keyword(w, "because", at);
        w.space();
        w.tok(w.text_of(*s), *s);
    }
}

fn action(w: &mut Writer, a: &Action) {
    let at = a.span().start as usize;
    let kw = a.keyword();
    let span = a.span();
    if !matches!(a, Action::Error { .. }) {
        w.tok(kw, Span::new(at, at + kw.len()));
    }
    match a {
        Action::Dispatch {
            target: t,
            fallbacks,
            ..
        } => {
            w.space();
            target(w, t);
            if let Some(first) = fallbacks.first() {
                let at = w
                    .token_before(first.span().start as usize)
                    .map_or(0, |t| t.0);
                keyword(w, "fallback", at);
                w.space();
                comma_line(w, fallbacks, target);
            }
        }
        Action::Plan { steps, .. } => {
            let entries: Vec<Entry> = steps.iter().map(step).collect();
            block(w, body(w, at, span), &entries, FIELDS);
        }
        Action::Escalate {
            humans, because: b, ..
        } => {
            w.space();
            comma_line(w, humans, name);
            because(w, b);
        }
        Action::Clarify { question, .. } => {
            w.space();
            w.tok(w.text_of(question.1), question.1);
        }
        Action::Deny { because: b, .. } => because(w, b),
        Action::Pass { .. } => {}
        Action::Redact { data, .. } => {
            w.space();
            comma_line(w, data, path);
        }
        Action::Error { span } => w.tok(w.text_of(*span), *span),
    }
}

fn step(s: &Step) -> Entry<'_> {
    Entry {
        span: s.span,
        word: None,
        key: Some(Box::new(move |w| {
            name(w, &s.name);
            w.put(":");
        })),
        rest: Box::new(move |w| {
            target(w, &s.target);
            for m in &s.modifiers {
                w.gap();
                match m {
                    StepModifier::After(v, sp) => {
                        w.tok("after", *sp);
                        w.space();
                        comma_line(w, v, name);
                    }
                    StepModifier::Fallback(v, sp) => {
                        w.tok("fallback", *sp);
                        w.space();
                        comma_line(w, v, target);
                    }
                    StepModifier::Needs(v, sp) => {
                        w.tok("needs", *sp);
                        w.space();
                        comma_line(w, v, path);
                    }
                    StepModifier::Handles(v, sp) => {
                        w.tok("handles", *sp);
                        w.space();
                        comma_line(w, v, path);
                    }
                }
            }
        }),
    }
}

// ------------------------------------------------------------------ policies

fn rule(r: &Rule) -> Entry<'_> {
    plain(r.span, move |w| {
        let at = r.span.start as usize;
        let when = |w: &mut Writer, e: &Expr| {
            let kw_at = w.token_before(e.span.start as usize).map_or(0, |t| t.0);
            keyword(w, "when", kw_at);
            w.space();
            expr::expr(w, e);
        };
        match &r.kind {
            RuleKind::Forbid { when: c, unless } => {
                w.tok("forbid", Span::new(at, at + 6));
                if let Some(c) = c {
                    when(w, c);
                }
                if let Some(u) = unless {
                    let kw_at = w.token_before(u.span.start as usize).map_or(0, |t| t.0);
                    keyword(w, "unless", kw_at);
                    w.space();
                    expr::expr(w, u);
                }
            }
            RuleKind::Permit { when: c } => {
                w.tok("permit", Span::new(at, at + 6));
                when(w, c);
            }
            RuleKind::Escalate { humans, when: c } => {
                w.tok("escalate", Span::new(at, at + 8));
                w.space();
                comma_line(w, humans, name);
                when(w, c);
            }
            RuleKind::RequireAudit { when: c } => {
                w.tok("require", Span::new(at, at + 7));
                w.space();
                w.put("audit");
                when(w, c);
            }
            RuleKind::Error => w.tok(w.text_of(r.span), r.span),
        }
        because(w, &r.because);
    })
}

// ------------------------------------------------------------------ limits

fn limit(l: &Limit) -> Entry<'_> {
    match l {
        Limit::DelegationDepth(n, span) => plain(*span, move |w| {
            let at = span.start as usize;
            w.tok("delegation", Span::new(at, at + 10));
            w.space();
            w.put("depth");
            w.space();
            expr::expr(w, n);
        }),
        Limit::Rate {
            target: t,
            count,
            per,
            span,
        } => plain(*span, move |w| {
            let at = span.start as usize;
            w.tok("rate", Span::new(at, at + 4));
            w.space();
            target(w, t);
            w.space();
            expr::expr(w, count);
            w.space();
            w.put("per");
            w.space();
            expr::expr(w, per);
        }),
        Limit::Breaker {
            target: t,
            failures,
            cooldown,
            span,
        } => plain(*span, move |w| {
            let at = span.start as usize;
            w.tok("breaker", Span::new(at, at + 7));
            w.space();
            target(w, t);
            w.space();
            expr::expr(w, failures);
            w.space();
            w.put("failures");
            w.space();
            w.put("cooldown");
            w.space();
            expr::expr(w, cooldown);
        }),
        Limit::Error(span) => plain(*span, move |w| w.tok(w.text_of(*span), *span)),
    }
}

// ------------------------------------------------------------------ tests

fn test_entries<'t>(w: &Writer, t: &'t TestDecl) -> Vec<Entry<'t>> {
    let mut out = Vec::new();
    if let Some(g) = &t.given {
        let at = w.token_before(g.span.start as usize).map_or(0, |t| t.0);
        let span = Span::new(at, g.span.end as usize);
        out.push(keyed("given", span, move |w| expr::expr(w, g)));
    }
    for e in &t.expects {
        out.push(plain(e.span, move |w| expectation(w, e)));
    }
    out
}

fn expectation(w: &mut Writer, e: &Expectation) {
    let at = e.span.start as usize;
    w.tok("expect", Span::new(at, at + 6));
    w.space();
    if e.negated {
        w.put("not");
        w.space();
    }
    let word = |w: &mut Writer, text: &str| {
        let at = w.find(at + 6, text).unwrap_or(at);
        w.tok(text, Span::new(at, at + text.len()));
    };
    match &e.kind {
        ExpectKind::Dispatch(n) => {
            word(w, "dispatch");
            w.space();
            name(w, n);
        }
        ExpectKind::Plan(pairs) => {
            word(w, "plan");
            w.space();
            let b = body(w, at, e.span);
            bracketed(
                w,
                &RECORD,
                b,
                pairs,
                |(a, b)| a.span.to(b.span),
                |w, (a, b)| {
                    name(w, a);
                    w.put(":");
                    w.space();
                    name(w, b);
                },
            );
        }
        ExpectKind::Escalate(n) => {
            word(w, "escalate");
            w.space();
            name(w, n);
        }
        ExpectKind::Intent(n) => {
            word(w, "intent");
            w.space();
            name(w, n);
        }
        ExpectKind::Redact(p) => {
            word(w, "redact");
            w.space();
            path(w, p);
        }
        ExpectKind::Clarify => word(w, "clarify"),
        ExpectKind::Deny => word(w, "deny"),
        ExpectKind::Throttle => word(w, "throttle"),
        ExpectKind::Audit => word(w, "audit"),
        ExpectKind::Pass => word(w, "pass"),
    }
}
