//! Turns source text into the token stream the parser reads, and reports lexical errors.
//!
//! Lexical errors never stop the lexer: a bad character is reported and skipped, an
//! unterminated string becomes a string token (so the parser does not report it again), and
//! comments are set aside (doc comments are kept for the items they document). Brackets nested
//! deeper than [`MAX_NESTING`] stop the lexer with one clear error, which keeps every later
//! phase free of deep recursion. Characters that hide or reorder text (`hidden`) are refused
//! wherever they stand, once per string, comment or stretch of code that holds them.

use super::ast::Span;
use super::hidden;
use super::token::{LexError, Token};
use crate::codes::Code;
use logos::Logos;

/// How deep brackets may nest before the file is refused.
pub const MAX_NESTING: usize = 128;

/// How many lexical errors a file may have before the lexer gives up on it (binary files).
pub const MAX_PROBLEMS: usize = 50;

/// A problem found while lexing, before it is given a file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexProblem {
    pub code: Code,
    pub span: Span,
    pub message: String,
    pub help: String,
}

/// The lexed file: tokens for the parser, doc comments by position, and problems.
#[derive(Debug, Default)]
pub struct Lexed {
    pub tokens: Vec<(usize, Token, usize)>,
    /// `///` comments: (span, text after the slashes).
    pub docs: Vec<(Span, String)>,
    /// Every comment (line, block and doc), for the formatter.
    pub comments: Vec<Span>,
    pub problems: Vec<LexProblem>,
    /// True when lexing stopped early (nesting too deep): parse errors after that are noise.
    pub truncated: bool,
}

pub fn lex(text: &str) -> Lexed {
    let mut out = Lexed::default();
    let mut depth = 0usize;
    let mut lexer = Token::lexer(text);
    // The last hidden character reported outside strings and comments: (its problem, where
    // the run of them ends, how many); a run is one mistake, reported once.
    let mut run: Option<(usize, usize, usize)> = None;
    while let Some(result) = lexer.next() {
        if out.problems.len() >= MAX_PROBLEMS {
            let at = lexer.span().start;
            out.problems.push(LexProblem {
                code: Code::BAD_CHAR,
                span: Span::new(at, at),
                message: format!(
                    "more than {MAX_PROBLEMS} invalid characters; the rest of the file is skipped"
                ),
                help: "is this a text file? .intent files are UTF-8 text".into(),
            });
            out.truncated = true;
            return out;
        }
        let range = lexer.span();
        let span = Span::new(range.start, range.end);
        let what = match &result {
            Ok(Token::Str(_)) | Err(LexError::UnterminatedString) => Some(Holder::String),
            Ok(Token::DocComment(_) | Token::LineComment | Token::BlockComment)
            | Err(LexError::UnterminatedComment) => Some(Holder::Comment),
            // A mark at the very start is the file's encoding signature; anywhere else it
            // is an invisible character like any other.
            Ok(Token::ByteOrderMark) if range.start > 0 => Some(Holder::Code),
            Err(LexError::UnexpectedChar) => Some(Holder::Code),
            _ => None,
        };
        let outside = matches!(what, Some(Holder::Code));
        match (run, outside) {
            (Some((k, end, n)), true) if end == range.start && hidden_at(text, end) => {
                run = Some((k, range.end, n + 1));
                if let Some(p) = out.problems.get_mut(k) {
                    p.message = run_message(&p.message, n + 1);
                }
                continue;
            }
            _ => {}
        }
        if let Some(h) = what.and_then(|w| hidden_problem(text, range.clone(), w)) {
            out.problems.push(h);
            if outside {
                run = Some((out.problems.len() - 1, range.end, 1));
                continue;
            }
        }
        match result {
            Ok(Token::DocComment(doc)) => {
                out.comments.push(span);
                out.docs.push((span, doc));
            }
            Ok(Token::LineComment | Token::BlockComment) => out.comments.push(span),
            Ok(Token::ByteOrderMark) => {}
            Ok(op @ (Token::AmpAmp | Token::PipePipe)) => {
                let (word, meant) = match op {
                    Token::AmpAmp => ("and", Token::And),
                    _ => ("or", Token::Or),
                };
                out.problems.push(LexProblem {
                    code: Code::SYMBOL_OPERATOR,
                    span,
                    message: format!("`{}` is not an operator of this language", op.text()),
                    help: format!("write `{word}`: `a {word} b`"),
                });
                out.tokens.push((range.start, meant, range.end));
            }
            Err(LexError::UnterminatedString) => {
                let s = lexer.slice();
                out.problems.push(LexProblem {
                    code: Code::UNTERMINATED_STRING,
                    span,
                    message: "unterminated string".into(),
                    help:
                        "close the string with `\"` on the same line (use `\\n` for a line break)"
                            .into(),
                });
                out.tokens
                    .push((range.start, Token::Str(format!("{s}\"")), range.end));
            }
            Ok(tok) => {
                match tok {
                    Token::LParen | Token::LBracket | Token::LBrace => depth += 1,
                    Token::RParen | Token::RBracket | Token::RBrace => {
                        depth = depth.saturating_sub(1)
                    }
                    _ => {}
                }
                if depth > MAX_NESTING {
                    out.problems.push(LexProblem {
                        code: Code::TOO_DEEP,
                        span,
                        message: format!("brackets nest more than {MAX_NESTING} levels deep"),
                        help:
                            "flatten the expression: split the condition over several rules or arms"
                                .into(),
                    });
                    out.truncated = true;
                    return out;
                }
                out.tokens.push((range.start, tok, range.end));
            }
            Err(LexError::UnterminatedComment) => {
                out.comments.push(span);
                out.problems.push(LexProblem {
                    code: Code::UNTERMINATED_COMMENT,
                    span: Span::new(range.start, range.start + 2),
                    message: "unterminated block comment".into(),
                    help: "close it with `*/` (block comments nest: every `/*` needs its own `*/`)"
                        .into(),
                });
            }
            Err(LexError::UnexpectedChar) => {
                let ch = text.get(range.clone()).unwrap_or("?");
                let shown = if ch.chars().all(|c| !c.is_control()) {
                    ch.to_string()
                } else {
                    ch.escape_debug().to_string()
                };
                out.problems.push(LexProblem {
                    code: Code::BAD_CHAR,
                    span,
                    message: format!("unexpected character `{shown}`"),
                    help: help_for_char(ch),
                });
            }
        }
    }
    out
}

/// Where a hidden character stands: what the diagnostic calls it and what it suggests.
#[derive(Clone, Copy)]
enum Holder {
    String,
    Comment,
    Code,
}

/// E0009 for the first hidden character of the token at `range`, if it holds any.
fn hidden_problem(text: &str, range: std::ops::Range<usize>, holder: Holder) -> Option<LexProblem> {
    let h = hidden::find(text.get(range.clone())?)?;
    let at = range.start + h.at;
    let what = h.describe();
    let more = h.more();
    let (place, help) = match holder {
        Holder::String => (
            "a string",
            format!(
                "if the string needs it, write it as the escape `\\u{{{:X}}}`; otherwise delete it: \
                 it makes the text display differently from what it says",
                u32::from(h.ch)
            ),
        ),
        Holder::Comment => (
            "a comment",
            "delete it: it makes the text around it display differently from what it says"
                .to_string(),
        ),
        Holder::Code => (
            "the source",
            "delete it: it is not shown, and can make the code display differently from what it says"
                .to_string(),
        ),
    };
    Some(LexProblem {
        code: Code::HIDDEN_CHAR,
        span: Span::new(at, at + h.width()),
        message: format!("hidden character {what} in {place}{more}"),
        help,
    })
}

/// Whether a hidden character starts at `at`.
fn hidden_at(text: &str, at: usize) -> bool {
    text.get(at..)
        .and_then(|t| t.chars().next())
        .is_some_and(hidden::is_hidden)
}

/// The message of a run of `n` hidden characters outside strings and comments.
fn run_message(first: &str, n: usize) -> String {
    let base = first.split(" and ").next().unwrap_or(first);
    format!("{base} and {} more", n - 1)
}

fn help_for_char(ch: &str) -> String {
    match ch {
        "&" => "use `and` for a conjunction".into(),
        "!" => "use `not` for negation, or `!=` for inequality".into(),
        "'" => "strings use double quotes: \"...\"".into(),
        "#" => "comments start with `//`".into(),
        ";" => "no semicolons are needed: fields are separated by spaces or newlines".into(),
        "-" => "numbers here are never negative: trust, cost, confidence and limits are at least 0"
            .into(),
        _ => "remove this character".into(),
    }
}
