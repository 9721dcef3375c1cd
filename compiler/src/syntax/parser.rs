//! Runs the lalrpop parser over the lexed tokens and turns its errors into diagnostics.
//!
//! Parsing never fails: it returns a tree, possibly with `Error` nodes, plus diagnostics.
//! This module also holds the small pieces the grammar's actions call (literal decoding,
//! grouping plan entries into steps) and attaches `///` doc comments to their items.

use super::ast::*;
use super::lexer::{self, Lexed};
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
    let mut items = Vec::with_capacity(chunks.len());
    for (i, chunk) in chunks.iter().enumerate() {
        let operators = chunk
            .iter()
            .filter(|(_, t, _)| matches!(t, Token::And | Token::Or | Token::Not))
            .count();
        if operators > MAX_OPERATORS {
            let span = chunk_span(chunk);
            problems.push(SyntaxProblem {
                code: Code::TOO_DEEP,
                span: Span::new(span.start as usize, span.start as usize + 1),
                message: format!("this declaration has {operators} `and`/`or`/`not` operators, more than the {MAX_OPERATORS} allowed"),
                help: "split the conditions over several rules or arms".into(),
            });
            items.push(Item {
                doc: None,
                kind: ItemKind::Error(declared(chunk)),
                span,
            });
            continue;
        }
        let (result, mut recovered, repaired) = parse_repairing(&parser, chunk);
        if !truncated {
            problems.extend(repaired);
        }
        let span = chunk_span(chunk);
        let item = match result {
            Ok(item) => item,
            Err(e) => {
                // Running out of tokens inside an item means the next item's first word (or
                // the end of the file) is what was unexpected.
                let e = match (e, chunks.get(i + 1).and_then(|c| c.first())) {
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

type Spanned = (usize, Token, usize);

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

fn chunk_span(chunk: &[Spanned]) -> Span {
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

fn describe(err: ParseError<usize, Token, Extra>, eof: usize) -> SyntaxProblem {
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
fn expected_help(expected: &[String]) -> String {
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

// ---------------------------------------------------------------- repairs

type Failure = ParseError<usize, Token, Extra>;

/// How many repairs one item may have: each is a parse of the item again, so the bound keeps
/// parsing linear in the file's length.
const MAX_REPAIRS: usize = 8;

/// Where a parse stopped, as a byte offset (the end of the item for running out of tokens).
fn stopped_at(e: &Failure) -> usize {
    match e {
        ParseError::UnrecognizedToken { token, .. } | ParseError::ExtraToken { token } => token.0,
        ParseError::InvalidToken { location } => *location,
        ParseError::UnrecognizedEof { .. } => usize::MAX,
        ParseError::User { error } => error.span.start as usize,
    }
}

/// Parses an item; when it fails on a mistake with one evident meaning (a trailing comma,
/// `import` for `use`, `1 hour` for `1h`), reports that mistake once and parses the item again
/// as meant, so the item survives and nothing after it is reported as a consequence. A repair
/// is kept only when the parse then gets further.
fn parse_repairing(
    parser: &super::grammar::ItemParser,
    chunk: &[Spanned],
) -> (Result<Item, Failure>, Errors, Vec<SyntaxProblem>) {
    let run = |tokens: &[Spanned]| {
        let mut recovered: Errors = Vec::new();
        let result = parser.parse(&mut recovered, tokens.iter().cloned().map(Ok::<_, Extra>));
        (result, recovered)
    };
    let (mut result, mut recovered) = run(chunk);
    let mut tokens: Vec<Spanned> = Vec::new();
    let mut repaired = Vec::new();
    while repaired.len() < MAX_REPAIRS {
        let Err(e) = &result else { break };
        let current: &[Spanned] = if repaired.is_empty() { chunk } else { &tokens };
        let at = match e {
            ParseError::UnrecognizedToken { token, .. } => {
                current.iter().position(|t| t.0 == token.0)
            }
            ParseError::UnrecognizedEof { .. } => Some(current.len()),
            _ => None,
        };
        let Some((fixed, problem)) = at.and_then(|i| repair(current, i)) else {
            break;
        };
        let before = stopped_at(e);
        let (r, rec) = run(&fixed);
        if r.as_ref().err().is_some_and(|e2| stopped_at(e2) <= before) {
            break;
        }
        result = r;
        recovered = rec;
        tokens = fixed;
        repaired.push(problem);
    }
    (result, recovered, repaired)
}

/// A contextual field word (`trust`, `region`, ...): a name, and the start of a field.
fn is_field_word(t: &Token) -> bool {
    !t.is_reserved() && t.static_text_is_word()
}

/// Words from other languages, and the keyword meant.
const FOREIGN: &[(&str, Token)] = &[
    ("import", Token::Use),
    ("include", Token::Use),
    ("else", Token::Otherwise),
    ("default", Token::Otherwise),
    ("if", Token::When),
    ("allow", Token::Permit),
];

/// Words people write after a number for a unit, and the unit (with a multiplier for weeks).
const UNITS: &[(&str, &str, u64)] = &[
    ("ms", "ms", 1),
    ("msec", "ms", 1),
    ("msecs", "ms", 1),
    ("millisecond", "ms", 1),
    ("milliseconds", "ms", 1),
    ("s", "s", 1),
    ("sec", "s", 1),
    ("secs", "s", 1),
    ("second", "s", 1),
    ("seconds", "s", 1),
    ("m", "m", 1),
    ("min", "m", 1),
    ("mins", "m", 1),
    ("minute", "m", 1),
    ("minutes", "m", 1),
    ("h", "h", 1),
    ("hr", "h", 1),
    ("hrs", "h", 1),
    ("hour", "h", 1),
    ("hours", "h", 1),
    ("d", "d", 1),
    ("day", "d", 1),
    ("days", "d", 1),
    ("w", "d", 7),
    ("week", "d", 7),
    ("weeks", "d", 7),
];

fn problem(code: Code, l: usize, r: usize, message: String, help: String) -> SyntaxProblem {
    SyntaxProblem {
        code,
        span: Span::new(l, r),
        message,
        help,
    }
}

/// The repair for a parse that stopped at token `i` of `tokens`, if the mistake is evident.
fn repair(tokens: &[Spanned], i: usize) -> Option<(Vec<Spanned>, SyntaxProblem)> {
    let tok = |k: usize| tokens.get(k).map(|t| &t.1);
    let prev = i.checked_sub(1).and_then(tok);
    let prev2 = i.checked_sub(2).and_then(tok);
    // A comma after the last item of a list: `provides a.b,  trust 0.9` read `trust` as a
    // capability and stopped at `0.9`; `escalate lead, because "..."` stopped at `because`.
    let comma = match (prev2, prev) {
        (_, Some(Token::Comma)) => i.checked_sub(1),
        (Some(Token::Comma), Some(t)) if is_field_word(t) => i.checked_sub(2),
        _ => None,
    };
    if let Some(c) = comma {
        let (l, _, r) = tokens.get(c)?;
        let next = tokens.get(c + 1).map(|t| &t.1);
        let message = match next {
            Some(t) if is_field_word(t) || t.is_reserved() => format!(
                "trailing comma: `{}` starts the next field, it does not continue the list",
                t.text()
            ),
            Some(t) => format!("trailing comma before `{}`", t.text()),
            None => "trailing comma at the end of the declaration".to_string(),
        };
        let mut fixed = tokens.to_vec();
        fixed.remove(c);
        let p = problem(
            Code::TRAILING_COMMA,
            *l,
            *r,
            message,
            "remove the comma: a list has no comma after its last item, and fields are separated by spaces or newlines".into(),
        );
        return Some((fixed, p));
    }
    let (l, t, r) = tokens.get(i)?;
    // `import` for `use`, `else` for `otherwise`, ...
    if let Token::Ident(w) = t {
        if let Some((_, meant)) = FOREIGN.iter().find(|(f, _)| f == w) {
            let mut fixed = tokens.to_vec();
            let slot = fixed.get_mut(i)?;
            slot.1 = meant.clone();
            let p = problem(
                Code::FOREIGN_KEYWORD,
                *l,
                *r,
                format!("`{w}` is not a keyword of this language"),
                format!("did you mean `{}`?", meant.text()),
            );
            return Some((fixed, p));
        }
    }
    // `1 hour` for `1h`: the number before the unit word, or the unit word after the number.
    let (n, u) = match (prev, t, tok(i + 1)) {
        (Some(Token::Number(_)), Token::Ident(_), _) => (i.checked_sub(1)?, i),
        (_, Token::Number(_), Some(Token::Ident(_))) => (i, i + 1),
        _ => return None,
    };
    let (nl, Token::Number(digits), _) = tokens.get(n)? else {
        return None;
    };
    let (_, Token::Ident(word), ur) = tokens.get(u)? else {
        return None;
    };
    let (_, unit, times) = UNITS.iter().find(|(w, _, _)| w == word)?;
    let written = format!("{digits} {word}");
    let units = "the units are `ms`, `s`, `m`, `h` and `d`";
    let whole = digits
        .chars()
        .filter(|c| *c != '_')
        .collect::<String>()
        .parse::<u64>()
        .ok()
        .and_then(|v| v.checked_mul(*times));
    let Some(value) = whole else {
        // `1.5 hours`: no duration literal means it; say so, without a repair.
        let p = problem(
            Code::BAD_DURATION,
            *nl,
            *ur,
            format!("`{written}` is not a duration"),
            format!("a duration is a whole number glued to its unit, e.g. `90m`; {units}"),
        );
        let mut fixed = tokens.to_vec();
        fixed.drain(n..=u);
        fixed.insert(n, (*nl, Token::Duration("0s".into()), *ur));
        return Some((fixed, p));
    };
    let literal = format!("{value}{unit}");
    let p = problem(
        Code::BAD_DURATION,
        *nl,
        *ur,
        format!("`{written}` is not a duration"),
        format!("write the number and its unit together: `{literal}`; {units}"),
    );
    let mut fixed = tokens.to_vec();
    fixed.drain(n..=u);
    fixed.insert(n, (*nl, Token::Duration(literal), *ur));
    Some((fixed, p))
}

/// A `context` block that did not parse, read field by field: a broken field is reported and
/// kept with an unknown type (so its uses are not reported again), and the fields around it
/// survive. Anything else that did not parse is given back as it was.
fn recover_context(chunk: &[Spanned], e: Failure) -> Result<(Item, Vec<SyntaxProblem>), Failure> {
    let closed = matches!(chunk.last(), Some((_, Token::RBrace, _)));
    let (Some((_, Token::Context, _)), Some((_, Token::LBrace, _)), true) =
        (chunk.first(), chunk.get(1), closed)
    else {
        return Err(e);
    };
    let body = chunk.get(2..chunk.len() - 1).unwrap_or_default();
    let starts = field_starts(body);
    let mut fields = Vec::new();
    let mut problems = Vec::new();
    let parser = super::grammar::FieldSchemaParser::new();
    let mut bounds: Vec<usize> = starts.clone();
    if bounds.first() != Some(&0) {
        bounds.insert(0, 0);
    }
    bounds.push(body.len());
    for w in bounds.windows(2) {
        let (Some(&a), Some(&b)) = (w.first(), w.get(1)) else {
            continue;
        };
        let Some(part) = body.get(a..b) else { continue };
        if part.is_empty() {
            continue;
        }
        let mut recovered: Errors = Vec::new();
        match parser.parse(&mut recovered, part.iter().cloned().map(Ok::<_, Extra>)) {
            Ok(f) => {
                problems.extend(recovered.into_iter().map(|r| describe(r.error, usize::MAX)));
                fields.push(f);
            }
            Err(err) => {
                // A field that ends too early (`tier: "a" | "b" |`) is reported at its last
                // token, not at the next field's name.
                let p = match (err, part.first(), part.last()) {
                    (ParseError::UnrecognizedEof { expected, .. }, Some(first), Some(last)) => {
                        SyntaxProblem {
                            code: Code::SYNTAX,
                            span: Span::new(last.0, last.2),
                            message: format!(
                                "the field `{}` ends after `{}`: its type is incomplete",
                                first.1.text(),
                                last.1.text()
                            ),
                            help: expected_help(&expected),
                        }
                    }
                    (err, _, _) => describe(err, usize::MAX),
                };
                problems.push(p);
                if let Some(f) = broken_field(part) {
                    fields.push(f);
                }
            }
        }
    }
    if problems.is_empty() {
        return Err(e);
    }
    let item = Item {
        doc: None,
        kind: ItemKind::Context(fields),
        span: chunk_span(chunk),
    };
    Ok((item, problems))
}

/// Where the fields of a block's body start: a word before `:` or `?:`, outside brackets.
fn field_starts(body: &[Spanned]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    for (k, (_, t, _)) in body.iter().enumerate() {
        let word = matches!(t, Token::Ident(_)) || t.static_text_is_word();
        let colon = match body.get(k + 1).map(|x| &x.1) {
            Some(Token::Colon) => true,
            Some(Token::Question) => matches!(body.get(k + 2).map(|x| &x.1), Some(Token::Colon)),
            _ => false,
        };
        if depth == 0 && word && colon {
            out.push(k);
        }
        match t {
            Token::LParen | Token::LBracket | Token::LBrace => depth += 1,
            Token::RParen | Token::RBracket | Token::RBrace => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    out
}

/// A field whose type did not parse, kept by name with the type `Error`.
fn broken_field(part: &[Spanned]) -> Option<FieldSchema> {
    let (l, name, r) = part.first()?;
    let optional = matches!(part.get(1), Some((_, Token::Question, _)));
    let ty_at = if optional { 3 } else { 2 };
    let ty_start = part.get(ty_at).map_or(*r, |t| t.0);
    let end = part.last().map_or(*r, |t| t.2);
    Some(FieldSchema {
        name: Name {
            text: name.text(),
            span: Span::new(*l, *r),
        },
        optional,
        ty: TypeExpr::Error(Span::new(ty_start, end.max(ty_start))),
        data: None,
        claim: None,
        span: Span::new(*l, end),
    })
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
