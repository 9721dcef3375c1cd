//! Repairs of items that did not parse: a mistake with one evident meaning (a trailing comma,
//! `import` for `use`, `1 hour` for `1h`) is reported once and the item parsed again as
//! meant; a `context` block is read field by field so one broken field does not take the
//! others with it. Bounded: at most `MAX_REPAIRS` parses again per item.

use super::ast::*;
use super::parser::{chunk_span, describe, expected_help, Errors, Extra, Spanned, SyntaxProblem};
use super::token::Token;
use crate::codes::Code;
use lalrpop_util::ParseError;

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
pub(super) fn parse_repairing(
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
pub(super) fn recover_context(
    chunk: &[Spanned],
    e: Failure,
) -> Result<(Item, Vec<SyntaxProblem>), Failure> {
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
