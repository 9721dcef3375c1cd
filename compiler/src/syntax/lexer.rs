//! Turns source text into the token stream the parser reads, and reports lexical errors.
//!
//! Lexical errors never stop the lexer: a bad character is reported and skipped, an
//! unterminated string becomes a string token (so the parser does not report it again), and
//! comments are set aside (doc comments are kept for the items they document). Brackets nested
//! deeper than [`MAX_NESTING`] stop the lexer with one clear error, which keeps every later
//! phase free of deep recursion.

use super::ast::Span;
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
        match result {
            Ok(Token::DocComment(doc)) => {
                out.comments.push(span);
                out.docs.push((span, doc));
            }
            Ok(Token::LineComment | Token::BlockComment) => out.comments.push(span),
            Ok(Token::ByteOrderMark) => {}
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
