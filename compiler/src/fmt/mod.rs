//! `intent fmt`: one canonical layout for `.intent` source, comments kept in place.
//!
//! The formatter prints the syntax tree back (`items.rs`, `block.rs`, `entries.rs`,
//! `expr.rs`) through a writer that puts every comment back where it was and keeps blank
//! lines (`writer.rs`). Text that does not parse is refused with its diagnostics, never
//! rewritten. Before answering, the result is
//! lexed again and compared with the input: the same tokens (commas aside, since trailing
//! commas are canonicalised) and the same comments, or the file is refused. So the formatter
//! can lay text out differently, but never change what it says.

mod block;
mod entries;
mod expr;
mod items;
mod writer;

use crate::codes::Code;
use crate::diagnostics::Diagnostic;
use crate::syntax::ast::{Item, ItemKind, Span};
use crate::syntax::lexer::lex;
use crate::syntax::parse;
use crate::syntax::token::Token;
use writer::{blank_between, Writer};

/// Formats one file's text. Diagnostics (with an empty file name) if it does not parse.
pub fn format_source(text: &str) -> Result<String, Vec<Diagnostic>> {
    format_file("", text)
}

/// Formats one file's text; diagnostics name `file`.
pub fn format_file(file: &str, text: &str) -> Result<String, Vec<Diagnostic>> {
    // Lone `\r` line ends become `\n` (same offsets): the writer looks for `\n` only.
    let text = &*crate::lines::with_line_feeds(text);
    let parsed = parse(text);
    if !parsed.problems.is_empty() {
        return Err(parsed
            .problems
            .iter()
            .map(|p| {
                Diagnostic::new(p.code, file, p.span, p.message.clone())
                    .with_label("here")
                    .with_help(p.help.clone())
            })
            .collect());
    }
    let lexed = lex(text);
    let tokens: Vec<(usize, usize)> = lexed.tokens.iter().map(|(l, _, r)| (*l, *r)).collect();
    let mut w = Writer::new(text, &parsed.comments, &tokens);
    print_file(&mut w, &parsed.tree.package, &parsed.tree.items);
    let refusals = std::mem::take(&mut w.refusals);
    if let Some((span, message, help)) = refusals.into_iter().next() {
        return Err(vec![Diagnostic::new(
            Code::UNKNOWN_TYPE,
            file,
            span,
            message,
        )
        .with_label("here")
        .with_help(help)]);
    }
    let out = w.finish();
    match first_difference(text, &out) {
        None => Ok(out),
        Some(at) => Err(vec![Diagnostic::new(
            Code::SYNTAX,
            file,
            Span::new(at, at),
            "this file cannot be formatted without changing its text here",
        )
        .with_label("here")
        .with_help(
            "the file is left as it is; please report this as a bug of `intent fmt`",
        )]),
    }
}

fn print_file(w: &mut Writer, package: &Option<crate::syntax::ast::Path>, items: &[Item]) {
    let first_token = w.token_after(0).map_or(w.src.len(), |t| t.0);
    w.start(first_token);
    let mut first = true;
    if let Some(p) = package {
        let at = w.token_before(p.span.start as usize).map_or(0, |t| t.0);
        w.tok("package", Span::new(at, at + 7));
        w.space();
        expr::path(w, p);
        first = false;
    }
    let mut i = 0;
    while let Some(item) = items.get(i) {
        if !first {
            w.line(item.span.start as usize);
        }
        first = false;
        let run = table_run(w, items.get(i..).unwrap_or_default());
        if run.len() > 1 {
            items::table(w, &run);
            i += run.len();
        } else {
            items::item(w, item);
            i += 1;
        }
    }
}

/// The one-line block items of one kind that follow each other from the first of `items`,
/// with no blank line between them (comments may be).
fn table_run<'t>(w: &Writer, items: &'t [Item]) -> Vec<&'t Item> {
    let mut run: Vec<&Item> = Vec::new();
    for item in items {
        if !items::is_inline_block(w, item) {
            break;
        }
        if let Some(prev) = run.last() {
            let gap = Span::new(prev.span.end as usize, item.span.start as usize);
            let same_kind =
                std::mem::discriminant(&prev.kind) == std::mem::discriminant(&item.kind);
            if !same_kind
                || blank_between(w.src, gap.start as usize, gap.end as usize)
                || matches!(item.kind, ItemKind::Error(_))
            {
                break;
            }
        }
        run.push(item);
    }
    run
}

/// Where the formatted text stops saying what the source says: the offset in the source of
/// the first token (commas aside) or comment that differs, if any.
fn first_difference(source: &str, formatted: &str) -> Option<usize> {
    let a = lex(source);
    let b = lex(formatted);
    let not_comma = |t: &&(usize, Token, usize)| t.1 != Token::Comma;
    let mut bt = b.tokens.iter().filter(not_comma);
    for ta in a.tokens.iter().filter(not_comma) {
        match bt.next() {
            Some(tb) if tb.1 == ta.1 => {}
            _ => return Some(ta.0),
        }
    }
    if bt.next().is_some() {
        return Some(source.len());
    }
    let text =
        |src: &str, s: &Span| comment_text(src.get(s.start as usize..s.end as usize).unwrap_or(""));
    if a.comments.len() != b.comments.len() {
        return Some(a.comments.first().map_or(0, |c| c.start as usize));
    }
    for (ca, cb) in a.comments.iter().zip(&b.comments) {
        if text(source, ca) != text(formatted, cb) {
            return Some(ca.start as usize);
        }
    }
    None
}

/// A comment's text as the formatter keeps it: each line without trailing whitespace.
pub fn comment_text(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}
