//! Blocks: the `{ ... }` of items, plans and actions, on one line or one entry a line.
//!
//! A block is written on one line (`agent a { trust 0.9  region "eu" }`, entries two spaces
//! apart) when the source has it on one line without comments, and one entry a line otherwise.
//! In a block of fields (agent, human, intent) and in a plan, the values of consecutive
//! one-line entries line up one column past the longest key, as in examples/finance; so do the
//! `=>` of a route's one-line `when` arms, two columns past the longest condition.

use super::items::width;
use super::writer::{blank_between, Writer};
use crate::syntax::ast::Span;

/// One entry of a block: an optional key (whose end may be aligned), then the rest.
pub struct Entry<'t> {
    pub span: Span,
    pub key: Option<Printer<'t>>,
    pub rest: Printer<'t>,
}

pub type Printer<'t> = Box<dyn Fn(&mut Writer) + 't>;

impl Entry<'_> {
    pub(super) fn print(&self, w: &mut Writer, pad_to: Option<usize>) {
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

pub(super) fn keyed<'t>(
    kw: &'static str,
    span: Span,
    rest: impl Fn(&mut Writer) + 't,
) -> Entry<'t> {
    let at = Span::new(span.start as usize, span.start as usize + kw.len());
    Entry {
        span,
        key: Some(Box::new(move |w| w.tok(kw, at))),
        rest: Box::new(rest),
    }
}

pub(super) fn plain<'t>(span: Span, rest: impl Fn(&mut Writer) + 't) -> Entry<'t> {
    Entry {
        span,
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
pub(super) fn inline(w: &Writer, body: Span) -> bool {
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
    let hang = w.hang.take();
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
    w.hang = hang;
}

/// For each entry, the key width of its alignment run (None: not aligned). A run is broken by
/// a blank line, or by an entry that takes more than one line.
pub(super) fn key_columns(w: &mut Writer, entries: &[Entry]) -> Vec<Option<usize>> {
    let single: Vec<bool> = entries
        .iter()
        .map(|e| {
            !w.trial_at(e.span.start as usize, |w| e.print(w, None))
                .contains('\n')
        })
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
pub(super) fn body(w: &Writer, from: usize, end: Span) -> Span {
    let open = w.find(from, "{").unwrap_or(end.end as usize);
    Span::new(open, end.end as usize)
}
