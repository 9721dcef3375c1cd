//! The tokens of the Intent language, recognised by a `logos` lexer.
//!
//! Reserved words (docs/reference/language.md, "Keywords") are their own tokens. The *contextual* field words
//! (`clearance`, `trust`, `depth`, ...) are tokens too, so that the grammar can tell a field
//! from a name without lookahead; the grammar accepts them wherever a plain name is allowed,
//! which is what keeps them usable as names (a context field may be called `channel`).
//! Comments are tokens so the lexer can hand them to the formatter; the parser never sees them.

use logos::{FilterResult, Logos};

/// What went wrong while lexing; turned into a diagnostic by [`super::lexer`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LexError {
    /// A character that starts no token.
    #[default]
    UnexpectedChar,
    /// A `/*` without its matching `*/`.
    UnterminatedComment,
    /// A string literal whose closing quote is missing on its line (the slice is the string
    /// so far).
    UnterminatedString,
}

#[derive(Logos, Debug, Clone, PartialEq, Eq, Hash)]
#[logos(error = LexError)]
#[logos(skip r"[ \t\r\n\f]+")]
pub enum Token {
    // ---- comments (filtered out before parsing) ----
    #[token("///", doc_comment)]
    DocComment(String),
    #[token("//", line_comment)]
    LineComment,
    #[token("/*", block_comment)]
    BlockComment,
    /// A byte-order mark, ignored like white space. It is a token, not part of the skipped
    /// class: logos skips by calling its states again, and a long run of marks overflowed the
    /// stack of an unoptimised build.
    #[token("\u{FEFF}")]
    ByteOrderMark,

    // ---- literals ----
    #[regex(r"[0-9][0-9_]*(\.[0-9][0-9_]*)?", |lex| lex.slice().to_string())]
    Number(String),
    #[regex(r"[0-9][0-9_]*(ms|s|m|h|d)", |lex| lex.slice().to_string())]
    Duration(String),
    /// A string literal, still with its quotes and escapes (decoded by the lexer wrapper).
    #[token("\"", string_literal)]
    Str(String),

    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice().to_string())]
    Ident(String),

    // ---- reserved words ----
    #[token("package")]
    Package,
    #[token("use")]
    Use,
    #[token("capability")]
    Capability,
    #[token("data")]
    Data,
    #[token("const")]
    Const,
    #[token("context")]
    Context,
    #[token("agent")]
    Agent,
    #[token("human")]
    Human,
    #[token("intent")]
    Intent,
    #[token("route")]
    Route,
    #[token("policy")]
    Policy,
    #[token("review")]
    Review,
    #[token("limits")]
    Limits,
    #[token("test")]
    Test,
    #[token("given")]
    Given,
    #[token("expect")]
    Expect,
    #[token("when")]
    When,
    #[token("otherwise")]
    Otherwise,
    #[token("dispatch")]
    Dispatch,
    #[token("plan")]
    Plan,
    #[token("escalate")]
    Escalate,
    #[token("clarify")]
    Clarify,
    #[token("deny")]
    Deny,
    #[token("throttle")]
    Throttle,
    #[token("forbid")]
    Forbid,
    #[token("permit")]
    Permit,
    #[token("require")]
    Require,
    #[token("unless")]
    Unless,
    #[token("because")]
    Because,
    #[token("any")]
    Any,
    #[token("after")]
    After,
    #[token("fallback")]
    Fallback,
    #[token("pass")]
    Pass,
    #[token("redact")]
    Redact,
    #[token("audit")]
    Audit,
    #[token("and")]
    And,
    #[token("or")]
    Or,
    #[token("not")]
    Not,
    #[token("in")]
    In,
    #[token("has")]
    Has,
    #[token("touches")]
    Touches,
    #[token("provides")]
    Provides,
    #[token("true")]
    True,
    #[token("false")]
    False,
    /// `endpoint mcp "URL"`; reserved, so that `endpoint NAME` (a const) stays unambiguous.
    #[token("mcp")]
    Mcp,

    // ---- contextual field words (names everywhere else) ----
    #[token("clearance")]
    Clearance,
    #[token("trust")]
    Trust,
    #[token("region")]
    Region,
    #[token("zone")]
    Zone,
    #[token("endpoint")]
    Endpoint,
    #[token("backup")]
    Backup,
    #[token("cost")]
    Cost,
    #[token("labels")]
    Labels,
    #[token("channel")]
    Channel,
    #[token("sla")]
    Sla,
    #[token("description")]
    Description,
    #[token("examples")]
    Examples,
    #[token("requires")]
    Requires,
    #[token("handles")]
    Handles,
    #[token("delegates")]
    Delegates,
    #[token("input")]
    Input,
    #[token("tool")]
    Tool,
    #[token("output")]
    Output,
    #[token("needs")]
    Needs,
    #[token("delegation")]
    Delegation,
    #[token("depth")]
    Depth,
    #[token("rate")]
    Rate,
    #[token("per")]
    Per,
    #[token("breaker")]
    Breaker,
    #[token("failures")]
    Failures,
    #[token("cooldown")]
    Cooldown,
    #[token("floor")]
    Floor,

    // ---- punctuation and operators ----
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token(",")]
    Comma,
    #[token(".")]
    Dot,
    #[token(":")]
    Colon,
    #[token("?")]
    Question,
    #[token("|")]
    Pipe,
    /// `&&` and `||`, which the language spells `and` and `or`: the lexer reports them once
    /// and hands the parser the word meant, so nothing after them is reported as a consequence.
    #[token("&&")]
    AmpAmp,
    #[token("||")]
    PipePipe,
    #[token("=>")]
    FatArrow,
    #[token("=")]
    Assign,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
}

// Comments and strings are scanned by hand rather than by regular expressions: logos turns a
// character class that admits any non-ASCII character into states that call one another per
// byte, which overflowed the stack on a long non-ASCII comment in an unoptimised build.

/// After `//`: the rest of the line, which ends at `\n`, `\r\n` or a lone `\r`
/// (`crate::lines`): a file saved with old Mac line endings is not one long comment.
fn line_comment(lex: &mut logos::Lexer<Token>) {
    let rest = lex.remainder();
    lex.bump(rest.find(['\n', '\r']).unwrap_or(rest.len()));
}

/// After `///`: the rest of the line, which is the doc text.
fn doc_comment(lex: &mut logos::Lexer<Token>) -> String {
    line_comment(lex);
    lex.slice().get(3..).unwrap_or_default().to_string()
}

/// After the opening `"`: up to the closing quote on the same line, with `\x` escapes skipped.
/// Without a closing quote the string runs to the end of the line (or to a `\` right before
/// it) and is an error.
fn string_literal(lex: &mut logos::Lexer<Token>) -> Result<String, LexError> {
    let rest = lex.remainder().as_bytes();
    let mut i = 0usize;
    loop {
        match (rest.get(i), rest.get(i + 1)) {
            (Some(b'"'), _) => {
                lex.bump(i + 1);
                return Ok(lex.slice().to_string());
            }
            (Some(b'\\'), Some(next)) if *next != b'\n' && *next != b'\r' => i += 2,
            (None | Some(b'\n' | b'\r' | b'\\'), _) => {
                lex.bump(i);
                return Err(LexError::UnterminatedString);
            }
            (Some(_), _) => i += 1,
        }
    }
}

/// Skips a (possibly nested) block comment; an unterminated one is an error that eats the rest.
fn block_comment(lex: &mut logos::Lexer<Token>) -> FilterResult<(), LexError> {
    let rest = lex.remainder().as_bytes();
    let mut depth = 1usize;
    let mut i = 0usize;
    while i < rest.len() {
        match (rest.get(i), rest.get(i + 1)) {
            (Some(b'/'), Some(b'*')) => {
                depth += 1;
                i += 2;
            }
            (Some(b'*'), Some(b'/')) => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    lex.bump(i);
                    return FilterResult::Emit(());
                }
            }
            _ => i += 1,
        }
    }
    lex.bump(rest.len());
    FilterResult::Error(LexError::UnterminatedComment)
}

impl Token {
    /// The reserved words, as docs/reference/language.md lists them.
    pub const RESERVED: &'static [&'static str] = &[
        "package",
        "use",
        "capability",
        "data",
        "const",
        "context",
        "agent",
        "human",
        "intent",
        "route",
        "policy",
        "review",
        "limits",
        "test",
        "given",
        "expect",
        "when",
        "otherwise",
        "dispatch",
        "plan",
        "escalate",
        "clarify",
        "deny",
        "throttle",
        "forbid",
        "permit",
        "require",
        "unless",
        "because",
        "any",
        "after",
        "fallback",
        "pass",
        "redact",
        "audit",
        "and",
        "or",
        "not",
        "in",
        "has",
        "touches",
        "provides",
        "true",
        "false",
        "mcp",
    ];

    /// Whether this token is a reserved word (it can never be a name).
    pub fn is_reserved(&self) -> bool {
        Self::RESERVED.contains(&self.text().as_str())
    }

    /// How the token reads in source, for messages ("unexpected `when`").
    pub fn text(&self) -> String {
        match self {
            Token::DocComment(s) => format!("///{s}"),
            Token::LineComment => "comment".into(),
            Token::BlockComment => "comment".into(),
            Token::Number(s) | Token::Duration(s) | Token::Str(s) => s.clone(),
            Token::Ident(s) => s.clone(),
            other => other.static_text().unwrap_or("?").to_string(),
        }
    }

    /// Whether this is a contextual word (a name outside its block).
    pub fn static_text_is_word(&self) -> bool {
        self.static_text()
            .is_some_and(|t| t.chars().all(|c| c.is_ascii_lowercase()))
    }

    fn static_text(&self) -> Option<&'static str> {
        use Token::*;
        Some(match self {
            Package => "package",
            Use => "use",
            Capability => "capability",
            Data => "data",
            Const => "const",
            Context => "context",
            Agent => "agent",
            Human => "human",
            Intent => "intent",
            Route => "route",
            Policy => "policy",
            Review => "review",
            Limits => "limits",
            Test => "test",
            Given => "given",
            Expect => "expect",
            When => "when",
            Otherwise => "otherwise",
            Dispatch => "dispatch",
            Plan => "plan",
            Escalate => "escalate",
            Clarify => "clarify",
            Deny => "deny",
            Throttle => "throttle",
            Forbid => "forbid",
            Permit => "permit",
            Require => "require",
            Unless => "unless",
            Because => "because",
            Any => "any",
            After => "after",
            Fallback => "fallback",
            Pass => "pass",
            Redact => "redact",
            Audit => "audit",
            And => "and",
            Or => "or",
            Not => "not",
            In => "in",
            Has => "has",
            Touches => "touches",
            Provides => "provides",
            True => "true",
            False => "false",
            Clearance => "clearance",
            Trust => "trust",
            Region => "region",
            Zone => "zone",
            Endpoint => "endpoint",
            Backup => "backup",
            Cost => "cost",
            Labels => "labels",
            Channel => "channel",
            Sla => "sla",
            Description => "description",
            Examples => "examples",
            Requires => "requires",
            Handles => "handles",
            Delegates => "delegates",
            Input => "input",
            Tool => "tool",
            Output => "output",
            Mcp => "mcp",
            Needs => "needs",
            Delegation => "delegation",
            Depth => "depth",
            Rate => "rate",
            Per => "per",
            Breaker => "breaker",
            Failures => "failures",
            Cooldown => "cooldown",
            Floor => "floor",
            LBrace => "{",
            RBrace => "}",
            LParen => "(",
            RParen => ")",
            LBracket => "[",
            RBracket => "]",
            Comma => ",",
            Dot => ".",
            Colon => ":",
            Question => "?",
            Pipe => "|",
            AmpAmp => "&&",
            PipePipe => "||",
            FatArrow => "=>",
            Assign => "=",
            EqEq => "==",
            NotEq => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            _ => return None,
        })
    }
}
