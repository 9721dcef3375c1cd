//! Printing expressions, types, paths and bracketed lists in the canonical style.
//!
//! Literals are printed as written (`1_000`, `0.80`, `"\u{1F600}"`), so formatting never
//! changes a value. A line break the source puts before `and`/`or` is kept, with the operator
//! hanging so that the operand after it lines up with the first operand of the condition.
//! Bracketed lists are either inline (`[a, b]`, `{"a", "b"}`, `{ k: v }`, breaks after commas
//! kept and aligned under the first member) or, when the source breaks the line right after the
//! opening bracket, one member a line with a trailing comma.

use super::writer::Writer;
use crate::syntax::ast::*;

/// Prints a path as `a.b.c`.
pub fn path(w: &mut Writer, p: &Path) {
    w.tok(&p.dotted(), p.span);
}

pub fn name(w: &mut Writer, n: &Name) {
    w.tok(&n.text, n.span);
}

/// Prints `a, b, c` on one line (field lists: `provides a.b, c.d`).
pub fn comma_line<T>(w: &mut Writer, items: &[T], mut each: impl FnMut(&mut Writer, &T)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            w.put(",");
            w.space();
        }
        each(w, item);
    }
}

pub fn target(w: &mut Writer, t: &Target) {
    match t {
        Target::Agent(n) => name(w, n),
        Target::Any(p, span) => {
            w.tok(
                "any",
                Span::new(span.start as usize, span.start as usize + 3),
            );
            if !p.segments.is_empty() {
                w.space();
                path(w, p);
            }
        }
    }
}

/// How a bracketed list is written.
pub struct Brackets {
    pub open: &'static str,
    pub close: &'static str,
    /// `{ a: 1 }` rather than `{a}`.
    pub padded: bool,
    /// Members end with `,` when written one a line.
    pub trailing_comma: bool,
    /// Members are separated by `,` when inline.
    pub commas: bool,
}

pub const LIST: Brackets = Brackets {
    open: "[",
    close: "]",
    padded: false,
    trailing_comma: true,
    commas: true,
};
pub const SET: Brackets = Brackets {
    open: "{",
    close: "}",
    padded: false,
    trailing_comma: true,
    commas: true,
};
pub const RECORD: Brackets = Brackets {
    open: "{",
    close: "}",
    padded: true,
    trailing_comma: true,
    commas: true,
};
pub const SCHEMA: Brackets = Brackets {
    open: "{",
    close: "}",
    padded: true,
    trailing_comma: false,
    commas: true,
};

/// Prints a bracketed list whose brackets span `span` (open bracket at `span.start`, close
/// bracket ending at `span.end`). `spans` gives each member's source span.
pub fn bracketed<T>(
    w: &mut Writer,
    b: &Brackets,
    span: Span,
    items: &[T],
    member_span: impl Fn(&T) -> Span,
    mut each: impl FnMut(&mut Writer, &T),
) {
    let open_at = span.start as usize;
    let close_at = (span.end as usize).saturating_sub(1);
    w.tok(b.open, Span::new(open_at, open_at + 1));
    let first = items
        .first()
        .map_or(close_at, |i| member_span(i).start as usize);
    let expanded = w.slice(open_at + 1, first).contains('\n')
        || (items.is_empty() && w.has_comment_in(Span::new(open_at + 1, close_at)));
    if expanded {
        let outer = w.indent;
        let hang = w.hang.take();
        w.open();
        for item in items {
            w.line(member_span(item).start as usize);
            each(w, item);
            if b.trailing_comma {
                w.put_at(",", member_span(item).end as usize);
            }
        }
        w.close(close_at, outer, b.close);
        w.hang = hang;
        return;
    }
    if items.is_empty() {
        w.tok(b.close, Span::new(close_at, close_at + 1));
        return;
    }
    if b.padded {
        w.space();
    }
    let anchor = w.col();
    let hang = w.hang.replace(anchor);
    for (i, item) in items.iter().enumerate() {
        let at = member_span(item).start as usize;
        if i > 0 {
            if b.commas {
                w.put(",");
            }
            if w.broken_before(at) {
                w.cont_line(at, anchor);
            } else {
                w.space();
            }
        }
        each(w, item);
    }
    w.hang = hang;
    if b.padded {
        w.space();
    }
    w.tok(b.close, Span::new(close_at, close_at + 1));
}

pub fn expr(w: &mut Writer, e: &Expr) {
    expr_in(w, e, None);
}

/// Prints `e`; `anchor` is the column of the first operand of the `and`/`or` chain it is in.
fn expr_in(w: &mut Writer, e: &Expr, anchor: Option<usize>) {
    match &e.kind {
        ExprKind::Number(_)
        | ExprKind::Duration(_)
        | ExprKind::Str(_)
        | ExprKind::Bool(_)
        | ExprKind::Error => w.tok(w.text_of(e.span), e.span),
        ExprKind::Path(p) => path(w, p),
        ExprKind::Set(v) => bracketed(w, &SET, e.span, v, |x| x.span, expr),
        ExprKind::List(v) => bracketed(w, &LIST, e.span, v, |x| x.span, expr),
        ExprKind::Record(v) => bracketed(
            w,
            &RECORD,
            e.span,
            v,
            |(k, v)| k.span.to(v.span),
            |w, (k, v)| {
                name(w, k);
                w.put(":");
                w.space();
                expr(w, v);
            },
        ),
        ExprKind::Not(inner) => {
            w.tok(
                "not",
                Span::new(e.span.start as usize, e.span.start as usize + 3),
            );
            w.space();
            expr_in(w, inner, None);
        }
        ExprKind::And(a, b) => chain(w, "and", a, b, anchor),
        ExprKind::Or(a, b) => chain(w, "or", a, b, anchor),
        ExprKind::Cmp(op, a, b) => {
            expr_in(w, a, None);
            w.space();
            w.put(op.symbol());
            w.space();
            expr_in(w, b, None);
        }
        ExprKind::In { negated, item, set } => {
            expr_in(w, item, None);
            w.space();
            w.put(if *negated { "not in" } else { "in" });
            w.space();
            expr_in(w, set, None);
        }
        ExprKind::Has(p) => {
            w.tok(
                "has",
                Span::new(e.span.start as usize, e.span.start as usize + 3),
            );
            w.space();
            path(w, p);
        }
        ExprKind::Touches(a, p) => {
            expr_in(w, a, None);
            w.space();
            w.put("touches");
            w.space();
            path(w, p);
        }
        ExprKind::Provides(a, p) => {
            expr_in(w, a, None);
            w.space();
            w.put("provides");
            w.space();
            path(w, p);
        }
        ExprKind::Paren(inner) => {
            w.tok(
                "(",
                Span::new(e.span.start as usize, e.span.start as usize + 1),
            );
            expr_in(w, inner, None);
            let close = (e.span.end as usize).saturating_sub(1);
            w.tok(")", Span::new(close, close + 1));
        }
    }
}

fn chain(w: &mut Writer, op: &str, a: &Expr, b: &Expr, anchor: Option<usize>) {
    let anchor = anchor.unwrap_or_else(|| w.col());
    expr_in(w, a, Some(anchor));
    let op_at = w
        .token_after(a.span.end as usize)
        .map_or(a.span.end as usize, |t| t.0);
    let min = w.indent + 2;
    let col = anchor.saturating_sub(op.len() + 1).max(min);
    if w.broken_before(op_at) {
        w.cont_line(op_at, col);
    } else {
        w.space();
    }
    // A `//` comment just before the operator breaks the line as the source would have.
    let hang = w.hang.replace(col);
    w.tok(op, Span::new(op_at, op_at + op.len()));
    w.hang = hang;
    w.space();
    expr_in(w, b, Some(anchor));
}

pub fn type_expr(w: &mut Writer, t: &TypeExpr) {
    match t {
        TypeExpr::Named(n) => {
            // `map<T>` parses as the unknown type `map`, dropping `<T>`: refuse, keep the text.
            let next = w.token_after(n.span.end as usize);
            if next.is_some_and(|(l, r)| w.slice(l, r) == "<") {
                w.refusals.push((
                    n.span,
                    format!("unknown type `{}`", n.text),
                    "only `set<T>` and `list<T>` take a type argument; fix the type before formatting"
                        .into(),
                ));
            }
            name(w, n)
        }
        TypeExpr::Set(inner, span) | TypeExpr::List(inner, span) => {
            let word = if matches!(t, TypeExpr::Set(..)) {
                "set"
            } else {
                "list"
            };
            w.tok(
                word,
                Span::new(span.start as usize, span.start as usize + word.len()),
            );
            w.put("<");
            type_expr(w, inner);
            let close = (span.end as usize).saturating_sub(1);
            w.tok(">", Span::new(close, close + 1));
        }
        TypeExpr::Record(fields, span) => schema(w, *span, fields),
        // Only in files with a syntax error, which are never formatted.
        TypeExpr::Error(span) => w.tok(w.text_of(*span), *span),
        TypeExpr::Enum(variants, _) => {
            for (i, (_, s)) in variants.iter().enumerate() {
                if i > 0 {
                    w.space();
                    w.put("|");
                    w.space();
                }
                w.tok(w.text_of(*s), *s);
            }
        }
    }
}

/// A record type or a `context`/`input` block: `{ a: T, b: T }` inline, else one field a line.
pub fn schema(w: &mut Writer, span: Span, fields: &[FieldSchema]) {
    bracketed(w, &SCHEMA, span, fields, |f| f.span, field_schema);
}

pub fn field_schema(w: &mut Writer, f: &FieldSchema) {
    name(w, &f.name);
    if f.optional {
        w.put("?");
    }
    w.put(":");
    w.space();
    type_expr(w, &f.ty);
    if let Some(d) = &f.data {
        w.space();
        w.put("(");
        path(w, d);
        w.put(")");
    }
    if let Some((_, at)) = &f.claim {
        w.space();
        w.put("=");
        w.space();
        w.put("claim");
        w.space();
        w.tok(w.text_of(*at), *at);
    }
}
