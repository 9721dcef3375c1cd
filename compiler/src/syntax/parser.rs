//! Runs the lalrpop parser over the lexed tokens and turns its errors into diagnostics.
//!
//! Parsing never fails: it returns a tree, possibly with `Error` nodes, plus diagnostics.
//! This module also holds the small pieces the grammar's actions call (literal decoding,
//! grouping plan entries into steps) and attaches `///` doc comments to their items; items
//! that did not parse are repaired in `repair.rs`.

use super::ast::*;
use super::lexer::{self, Lexed};
use super::repair::{parse_repairing, recover_context};
use super::token::Token;
use crate::codes::Code;
use lalrpop_util::{ErrorRecovery, ParseError};

/// A problem found in a grammar action (a bad literal, a modifier before any step).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extra {
    pub code: Code,
    pub span: Span,
    pub message: String,
    pub help: String,
}

/// Where grammar actions put the problems they find, so that parsing goes on.
pub type Errors = Vec<ErrorRecovery<usize, Token, Extra>>;

fn push(errors: &mut Errors, e: ParseError<usize, Token, Extra>) {
    errors.push(ErrorRecovery {
        error: e,
        dropped_tokens: Vec::new(),
    });
}

fn extra(
    code: Code,
    l: usize,
    r: usize,
    message: impl Into<String>,
    help: impl Into<String>,
) -> ParseError<usize, Token, Extra> {
    ParseError::User {
        error: Extra {
            code,
            span: Span::new(l, r),
            message: message.into(),
            help: help.into(),
        },
    }
}

/// One problem found while parsing a file, before it is given a file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxProblem {
    pub code: Code,
    pub span: Span,
    pub message: String,
    pub help: String,
}

/// The result of parsing one file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    pub tree: SourceTree,
    pub problems: Vec<SyntaxProblem>,
    /// Spans of all comments, for the formatter.
    pub comments: Vec<Span>,
}

pub fn parse(text: &str) -> Parsed {
    parse_with(text, true)
}

/// `parse`, with or without sharing a long file's items over rayon's pool (the tests compare
/// the two).
fn parse_with(text: &str, parallel: bool) -> Parsed {
    let Lexed {
        tokens,
        docs,
        comments,
        problems: lex_problems,
        truncated,
    } = lexer::lex(text);
    let mut problems: Vec<SyntaxProblem> = lex_problems
        .into_iter()
        .map(|p| SyntaxProblem {
            code: p.code,
            span: p.span,
            message: p.message,
            help: p.help,
        })
        .collect();
    let eof = text.len();
    let chunks = split_items(&tokens);
    let parser = super::grammar::ItemParser::new();
    let one = |(i, chunk): (usize, &&[Spanned])| {
        let next = chunks.get(i + 1).and_then(|c| c.first());
        parse_item(&parser, chunk, next, eof, truncated)
    };
    // Items parse apart (each chunk is its own token slice), so a long file's items are
    // shared over rayon's pool; the results come back in file order either way.
    let parsed: Vec<(Item, Vec<SyntaxProblem>)> = if parallel && chunks.len() >= PARALLEL_FROM {
        use rayon::prelude::*;
        chunks
            .par_iter()
            .enumerate()
            .with_min_len(PARALLEL_FROM / 2)
            .map(one)
            .collect()
    } else {
        chunks.iter().enumerate().map(one).collect()
    };
    let mut items = Vec::with_capacity(parsed.len());
    for (item, found) in parsed {
        problems.extend(found);
        items.push(item);
    }
    attach_docs(&mut items, &docs);
    let mut tree = SourceTree {
        package: None,
        items: Vec::new(),
    };
    for (i, item) in items.into_iter().enumerate() {
        match item.kind {
            ItemKind::Package(p) if i == 0 => tree.package = Some(p),
            ItemKind::Package(ref p) => {
                problems.push(SyntaxProblem {
                    code: Code::MISPLACED_PACKAGE,
                    span: p.span,
                    message: "`package` must be the first declaration of a file, and appear once"
                        .into(),
                    help: "move it to the top of the file, or remove it".into(),
                });
                tree.items.push(Item {
                    kind: ItemKind::Error(None),
                    ..item
                });
            }
            _ => tree.items.push(item),
        }
    }
    Parsed {
        tree,
        problems,
        comments,
    }
}

pub(super) type Spanned = (usize, Token, usize);

/// From how many items a file's items are parsed on rayon's pool rather than in turn: below
/// it, handing them out costs more than it saves.
const PARALLEL_FROM: usize = 128;

/// One item's tree and the problems found in it, in the order they are reported. `next` is the
/// first token of the item after it (what was unexpected when this one runs out of tokens);
/// a `truncated` file (the lexer stopped at its bound) reports only the lexer's problem.
fn parse_item(
    parser: &super::grammar::ItemParser,
    chunk: &[Spanned],
    next: Option<&Spanned>,
    eof: usize,
    truncated: bool,
) -> (Item, Vec<SyntaxProblem>) {
    let mut problems = Vec::new();
    let span = chunk_span(chunk);
    let operators = chunk
        .iter()
        .filter(|(_, t, _)| matches!(t, Token::And | Token::Or | Token::Not))
        .count();
    if operators > MAX_OPERATORS {
        problems.push(SyntaxProblem {
            code: Code::TOO_DEEP,
            span: Span::new(span.start as usize, span.start as usize + 1),
            message: format!("this declaration has {operators} `and`/`or`/`not` operators, more than the {MAX_OPERATORS} allowed"),
            help: "split the conditions over several rules or arms".into(),
        });
        let item = Item {
            doc: None,
            kind: ItemKind::Error(declared(chunk)),
            span,
        };
        return (item, problems);
    }
    let (result, mut recovered, repaired) = parse_repairing(parser, chunk);
    if !truncated {
        problems.extend(repaired);
    }
    let item = match result {
        Ok(item) => item,
        Err(e) => {
            // Running out of tokens inside an item means the next item's first word (or the
            // end of the file) is what was unexpected.
            let e = match (e, next) {
                (ParseError::UnrecognizedEof { expected, .. }, Some(next)) => {
                    ParseError::UnrecognizedToken {
                        token: next.clone(),
                        expected,
                    }
                }
                (e, _) => e,
            };
            match recover_context(chunk, e) {
                Ok((item, field_problems)) => {
                    recovered.clear();
                    if !truncated {
                        problems.extend(field_problems);
                    }
                    item
                }
                Err(e) => {
                    recovered.push(ErrorRecovery {
                        error: e,
                        dropped_tokens: Vec::new(),
                    });
                    Item {
                        doc: None,
                        kind: ItemKind::Error(declared(chunk)),
                        span,
                    }
                }
            }
        }
    };
    if !truncated {
        problems.extend(recovered.into_iter().map(|r| describe(r.error, eof)));
    }
    (item, problems)
}

/// What a broken item still shows it declares: its keyword and the name after it.
fn declared(chunk: &[Spanned]) -> Option<(DeclKeyword, Name)> {
    let (kw, rest) = chunk.split_first()?;
    let (l, name, r) = rest.first()?;
    let keyword = match kw.1 {
        Token::Agent => DeclKeyword::Agent,
        Token::Human => DeclKeyword::Human,
        Token::Intent => DeclKeyword::Intent,
        Token::Data => DeclKeyword::Data,
        Token::Const => DeclKeyword::Const,
        Token::Policy => DeclKeyword::Policy,
        Token::Route => DeclKeyword::Route,
        _ => return None,
    };
    let is_name =
        matches!(name, Token::Ident(_)) || (!name.is_reserved() && name.static_text_is_word());
    if !is_name {
        return None;
    }
    let word = name.text();
    Some((
        keyword,
        Name {
            text: word,
            span: Span::new(*l, *r),
        },
    ))
}

/// How many `and`/`or`/`not` one declaration may hold; this bounds how deep any expression
/// tree can be, so no later phase can run out of stack.
pub const MAX_OPERATORS: usize = 512;

/// Splits the token stream into items. A new item starts at a word that can only start an
/// item, or at `agent`, `intent` or `data` outside any brackets (inside brackets these three
/// are also operands and test fields), but never at a field name (a word before `:`) or a
/// path segment (a word after `.`). Splitting this way keeps one broken item (even one
/// missing its `}`) from swallowing the items after it.
fn split_items(tokens: &[Spanned]) -> Vec<&[Spanned]> {
    let mut chunks = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    // Whether the previous token was the keyword that began the current item (so this token is
    // its name: `agent route` is a misused name, not a new item).
    let mut after_item_word = false;
    let mut prev: Option<&Token> = None;
    for (i, (_, tok, _)) in tokens.iter().enumerate() {
        let next = tokens.get(i + 1).map(|t| &t.1);
        // A word followed by `:` (or `?:`) is a field name (`context { plan: string }`,
        // `given { route: x }`), and after a dot every word is a path segment (`triage.route`),
        // unless what follows shows it begins an item (`const x = a.` then `route r {`).
        let field_name = match next {
            // `route.x`, `test == true`: a field in a condition, never an item's start.
            Some(
                Token::Colon
                | Token::Dot
                | Token::EqEq
                | Token::NotEq
                | Token::Lt
                | Token::Le
                | Token::Gt
                | Token::Ge
                | Token::In,
            ) => true,
            Some(Token::Question) => matches!(tokens.get(i + 2).map(|t| &t.1), Some(Token::Colon)),
            _ => false,
        };
        let segment = matches!(prev, Some(Token::Dot))
            && !matches!(next, Some(Token::Ident(_) | Token::LBrace | Token::Str(_)))
            && !next.is_some_and(|n| !n.is_reserved() && n.static_text_is_word());
        // `import x.y` (for `use`) starts an item, so that it is reported once, by itself.
        let foreign_use = matches!(tok, Token::Ident(w) if w == "import" || w == "include")
            && depth == 0
            && !matches!(prev, Some(Token::Dot | Token::Assign))
            && matches!(next, Some(Token::Ident(_)));
        let starts_item = !segment
            && !field_name
            && !after_item_word
            && match tok {
                Token::Package
                | Token::Use
                | Token::Capability
                | Token::Const
                | Token::Context
                | Token::Human
                | Token::Route
                | Token::Policy
                | Token::Review
                | Token::Limits
                | Token::Test => true,
                Token::Agent | Token::Intent | Token::Data => depth == 0,
                Token::Ident(_) => foreign_use,
                _ => false,
            };
        after_item_word =
            starts_item && !matches!(tok, Token::Context | Token::Limits | Token::Test);
        prev = Some(tok);
        if starts_item && i > start {
            chunks.push(&tokens[start..i]);
            start = i;
        }
        if starts_item {
            depth = 0;
        }
        match tok {
            Token::LParen | Token::LBracket | Token::LBrace => depth += 1,
            Token::RParen | Token::RBracket | Token::RBrace => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if start < tokens.len() {
        chunks.push(&tokens[start..]);
    }
    chunks
}

pub(super) fn chunk_span(chunk: &[Spanned]) -> Span {
    match (chunk.first(), chunk.last()) {
        (Some((l, _, _)), Some((_, _, r))) => Span::new(*l, *r),
        _ => Span::default(),
    }
}

/// Gives each item the `///` lines that stand between the previous item and it.
fn attach_docs(items: &mut [Item], docs: &[(Span, String)]) {
    let mut prev_end = 0u32;
    let mut d = 0usize;
    for item in items.iter_mut() {
        let mut lines = Vec::new();
        while let Some((span, text)) = docs.get(d) {
            if span.start >= item.span.start {
                break;
            }
            if span.start >= prev_end {
                lines.push(text.strip_prefix(' ').unwrap_or(text).to_string());
            }
            d += 1;
        }
        if !lines.is_empty() {
            item.doc = Some(lines.join("\n"));
        }
        prev_end = item.span.end;
    }
}

pub(super) fn describe(err: ParseError<usize, Token, Extra>, eof: usize) -> SyntaxProblem {
    match err {
        ParseError::InvalidToken { location } => SyntaxProblem {
            code: Code::BAD_CHAR,
            span: Span::new(location, location),
            message: "invalid token".into(),
            help: "remove it".into(),
        },
        ParseError::UnrecognizedEof { location, expected } => SyntaxProblem {
            code: Code::SYNTAX,
            span: Span::new(location.min(eof), location.min(eof)),
            message: "unexpected end of file".into(),
            help: expected_help(&expected),
        },
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => {
            if tok.is_reserved() && expects_name(&expected) {
                let word = tok.text();
                return SyntaxProblem {
                    code: Code::RESERVED_NAME,
                    span: Span::new(l, r),
                    message: format!("`{word}` is a reserved word and cannot be used as a name"),
                    help: format!("rename it, for example `{word}_`, `my_{word}` or `{word}_name`"),
                };
            }
            SyntaxProblem {
                code: Code::SYNTAX,
                span: Span::new(l, r),
                message: format!("unexpected {}", describe_token(&tok)),
                help: expected_help(&expected),
            }
        }
        ParseError::ExtraToken { token: (l, tok, r) } => SyntaxProblem {
            code: Code::SYNTAX,
            span: Span::new(l, r),
            message: format!("unexpected {}", describe_token(&tok)),
            help: "remove it".into(),
        },
        ParseError::User { error } => SyntaxProblem {
            code: error.code,
            span: error.span,
            message: error.message,
            help: error.help,
        },
    }
}

fn describe_token(tok: &Token) -> String {
    match tok {
        Token::Number(n) => format!("number `{n}`"),
        Token::Duration(d) => format!("duration `{d}`"),
        Token::Str(s) => format!("string {s}"),
        Token::Ident(s) => format!("name `{s}`"),
        t if t.is_reserved() => format!("keyword `{}`", t.text()),
        t => format!("`{}`", t.text()),
    }
}

fn expects_name(expected: &[String]) -> bool {
    expected.iter().any(|e| e == "IDENT")
}

/// "expected one of `}`, `when`, `otherwise`", with the contextual words folded into "a name".
pub(super) fn expected_help(expected: &[String]) -> String {
    const NAME_WORDS: &[&str] = &[
        "\"clearance\"",
        "\"trust\"",
        "\"region\"",
        "\"zone\"",
        "\"endpoint\"",
        "\"backup\"",
        "\"cost\"",
        "\"labels\"",
        "\"channel\"",
        "\"sla\"",
        "\"description\"",
        "\"examples\"",
        "\"requires\"",
        "\"handles\"",
        "\"delegates\"",
        "\"input\"",
        "\"tool\"",
        "\"output\"",
        "\"needs\"",
        "\"delegation\"",
        "\"depth\"",
        "\"rate\"",
        "\"per\"",
        "\"breaker\"",
        "\"failures\"",
        "\"cooldown\"",
        "\"floor\"",
    ];
    let has_name = expects_name(expected);
    let mut shown: Vec<String> = Vec::new();
    for e in expected {
        if has_name && NAME_WORDS.contains(&e.as_str()) {
            continue;
        }
        let s = match e.as_str() {
            "IDENT" => "a name".to_string(),
            "NUMBER" => "a number".to_string(),
            "DURATION" => "a duration".to_string(),
            "STR" => "a string".to_string(),
            other => format!("`{}`", other.trim_matches('"')),
        };
        if !shown.contains(&s) {
            shown.push(s);
        }
    }
    match shown.len() {
        0 => "check the syntax against the language reference, docs/reference/language.md".into(),
        1 => format!("expected {}", shown.join("")),
        n if n > 12 => format!("expected one of {}, ...", shown[..12].join(", ")),
        _ => format!("expected one of {}", shown.join(", ")),
    }
}

// ---------------------------------------------------------------- grammar action helpers

/// A `plan { }` entry before grouping.
pub enum PlanEntry {
    Step(Name, Target, Span),
    Modifier(StepModifier),
}

pub fn group_steps(errors: &mut Errors, entries: Vec<PlanEntry>, span: Span) -> Action {
    let mut steps: Vec<Step> = Vec::new();
    for entry in entries {
        match entry {
            PlanEntry::Step(name, target, s) => steps.push(Step {
                name,
                target,
                modifiers: Vec::new(),
                span: s,
            }),
            PlanEntry::Modifier(m) => {
                let ms = modifier_span(&m);
                match steps.last_mut() {
                    Some(step) => {
                        step.span = step.span.to(ms);
                        step.modifiers.push(m);
                    }
                    None => push(
                        errors,
                        extra(
                            Code::SYNTAX,
                            ms.start as usize,
                            ms.end as usize,
                            "a step modifier comes before any step",
                            "start the plan with a step: `name: agent` or `name: any capability`",
                        ),
                    ),
                }
            }
        }
    }
    Action::Plan { steps, span }
}

fn modifier_span(m: &StepModifier) -> Span {
    match m {
        StepModifier::After(_, s)
        | StepModifier::Fallback(_, s)
        | StepModifier::Needs(_, s)
        | StepModifier::Handles(_, s) => *s,
    }
}

pub fn lit_number(errors: &mut Errors, text: &str, l: usize, r: usize) -> Number {
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    match clean.parse::<f64>() {
        Ok(v) if v.is_finite() && v <= 1e15 => Number::from_f64(v),
        _ => {
            push(
                errors,
                extra(
                    Code::BAD_LITERAL,
                    l,
                    r,
                    format!("number `{text}` is too large"),
                    "numbers must be at most 1e15",
                ),
            );
            // Reported here; NaN tells later checks not to report the value again.
            Number::from_f64(f64::NAN)
        }
    }
}

pub fn lit_duration(errors: &mut Errors, text: &str, l: usize, r: usize) -> u64 {
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    let (digits, unit) = match clean.strip_suffix("ms") {
        Some(d) => (d, 1u64),
        None => {
            let unit = match clean.chars().last() {
                Some('s') => 1_000,
                Some('m') => 60_000,
                Some('h') => 3_600_000,
                _ => 86_400_000,
            };
            (&clean[..clean.len().saturating_sub(1)], unit)
        }
    };
    match digits.parse::<u64>().ok().and_then(|n| n.checked_mul(unit)) {
        Some(ms) => ms,
        None => {
            push(
                errors,
                extra(
                    Code::BAD_LITERAL,
                    l,
                    r,
                    format!("duration `{text}` is too large"),
                    "use a smaller duration",
                ),
            );
            0
        }
    }
}

/// Decodes a string literal (with its quotes) into its value; a bad escape is reported and the
/// literal keeps the text decoded so far.
pub fn lit_string(errors: &mut Errors, raw: &str, l: usize, r: usize) -> String {
    match decode_string(raw, l, r) {
        Ok(s) => s,
        Err(e) => {
            push(errors, e);
            String::new()
        }
    }
}

fn decode_string(raw: &str, l: usize, r: usize) -> Result<String, ParseError<usize, Token, Extra>> {
    let inner = raw
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(raw);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let at = l + 1 + i;
        let bad = |msg: String| {
            extra(
                Code::BAD_LITERAL,
                at,
                (at + 2).min(r),
                msg,
                "valid escapes are \\n \\r \\t \\\\ \\\" \\0 and \\u{XXXX}",
            )
        };
        match chars.next() {
            Some((_, 'n')) => out.push('\n'),
            Some((_, 'r')) => out.push('\r'),
            Some((_, 't')) => out.push('\t'),
            Some((_, '0')) => out.push('\0'),
            Some((_, '\\')) => out.push('\\'),
            Some((_, '"')) => out.push('"'),
            Some((_, 'u')) => {
                let rest = &inner[i + 2..];
                let close = rest.find('}');
                let hex = match (rest.starts_with('{'), close) {
                    (true, Some(end)) => &rest[1..end],
                    _ => return Err(bad("malformed unicode escape".into())),
                };
                let ch = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
                match ch {
                    Some(ch) if !hex.is_empty() && hex.len() <= 6 => out.push(ch),
                    _ => return Err(bad(format!("`\\u{{{hex}}}` is not a unicode character"))),
                }
                for _ in 0..hex.len() + 2 {
                    chars.next();
                }
            }
            Some((_, other)) => return Err(bad(format!("unknown escape `\\{other}`"))),
            None => return Err(bad("a string cannot end with a lone `\\`".into())),
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- tests' scenes

/// `given COUNT uses|failures of NAME within DURATION`, with its words checked.
/// `= claim "NAME"` after a field's type: the claim, after checking the word is `claim`.
pub fn field_claim(
    errors: &mut Errors,
    claim: Option<(Name, (String, Span))>,
) -> Option<(String, Span)> {
    let (word, (name, at)) = claim?;
    if word.text != "claim" {
        push(
            errors,
            extra(
                Code::SYNTAX,
                word.span.start as usize,
                word.span.end as usize,
                format!("expected `claim`, found `{}`", word.text),
                "a context field filled from a token reads `tier: string = claim \"tier\"`",
            ),
        );
        return None;
    }
    Some((name, at))
}

pub fn scene_line(
    errors: &mut Errors,
    (count, cl, cr): (&str, usize, usize),
    [what, of, subject, within]: [Name; 4],
    (window, wl, wr): (&str, usize, usize),
    span: Span,
) -> SceneLine {
    let count = (lit_number(errors, count, cl, cr), Span::new(cl, cr));
    let window = (lit_duration(errors, window, wl, wr), Span::new(wl, wr));
    let mut word = |n: &Name, ok: bool, expected: &str| {
        if !ok {
            push(
                errors,
                extra(
                    Code::SYNTAX,
                    n.span.start as usize,
                    n.span.end as usize,
                    format!("expected `{expected}`, found `{}`", n.text),
                    "a scene line reads `given 20 uses of AGENT within 1m` or `given 2 failures of AGENT within 30s`",
                ),
            );
        }
    };
    let failures = what.text == "failures";
    word(&what, failures || what.text == "uses", "uses` or `failures");
    word(&of, of.text == "of", "of");
    word(&within, within.text == "within", "within");
    SceneLine {
        count,
        failures,
        subject,
        within: window,
        span,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{parse_with, split_items, PARALLEL_FROM};
    use std::path::Path;

    /// Every `.intent` file under `dir`, recursively.
    fn texts(dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                texts(&path, out);
            } else if path.extension().is_some_and(|x| x == "intent") {
                out.push(String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned());
            }
        }
    }

    /// A long file's items parsed on rayon's pool give the tree and the problems, in order,
    /// that parsing them in turn gives: each diagnostics fixture (broken items, unterminated
    /// strings and comments, a misplaced `package`) put before, between and after enough
    /// well-formed items to be parsed in parallel.
    #[test]
    fn items_parsed_in_parallel_are_the_items_parsed_in_turn() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut clean = Vec::new();
        texts(&root.join("../examples"), &mut clean);
        let clean = clean.join("\n");
        let per_copy = split_items(&crate::syntax::lexer::lex(&clean).tokens).len();
        let copies = PARALLEL_FROM.div_ceil(per_copy.max(1)) + 1;
        let filler = vec![clean.as_str(); copies].join("\n");
        let mut fixtures = Vec::new();
        texts(&root.join("tests/diagnostics"), &mut fixtures);
        assert!(fixtures.len() > 50, "the fixtures moved");
        let mut parallel_runs = 0;
        for fixture in &fixtures {
            for text in [
                format!("{fixture}\n{filler}"),
                format!("{filler}\n{fixture}\n{filler}"),
                format!("{filler}\n{fixture}"),
            ] {
                let chunks = split_items(&crate::syntax::lexer::lex(&text).tokens).len();
                parallel_runs += usize::from(chunks >= PARALLEL_FROM);
                assert_eq!(
                    parse_with(&text, true),
                    parse_with(&text, false),
                    "{fixture}"
                );
            }
        }
        // Most texts are long enough to be shared out (an unterminated comment or string
        // early in a fixture leaves too few items for some).
        assert!(parallel_runs >= fixtures.len() * 2, "{parallel_runs}");
    }
}
