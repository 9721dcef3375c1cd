//! The syntax tree: what the parser builds, with a byte span on every node.
//!
//! The tree is plain data (no salsa, no IO) and keeps every field of every item as written,
//! in order, so that later phases can report duplicates and the formatter can print it back.
//! Parse errors leave `Error` nodes behind instead of stopping the parse.

use std::fmt;

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord, serde::Serialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A name as written: an identifier or a contextual word.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

/// A dotted path such as `invoices.read` or `subject.role`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Path {
    pub segments: Vec<Name>,
    pub span: Span,
}

impl Path {
    /// The path as written, segments joined with dots.
    pub fn dotted(&self) -> String {
        let mut s = String::new();
        for (i, seg) in self.segments.iter().enumerate() {
            if i > 0 {
                s.push('.');
            }
            s.push_str(&seg.text);
        }
        s
    }

    /// Calls `f` with the path as written (segments joined with dots) without allocating when
    /// it is short: the checker looks every capability and data class up by its dotted name,
    /// and building a string per lookup was about 6% of a one-line edit's check.
    pub fn with_dotted<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        const ON_STACK: usize = 128;
        if let [one] = self.segments.as_slice() {
            return f(&one.text);
        }
        let mut buf = [0u8; ON_STACK];
        let mut len = 0;
        for (i, seg) in self.segments.iter().enumerate() {
            let dot = usize::from(i > 0);
            let end = len + dot + seg.text.len();
            let Some(room) = buf.get_mut(len..end) else {
                return f(&self.dotted());
            };
            if dot == 1 {
                room[0] = b'.';
            }
            room[dot..].copy_from_slice(seg.text.as_bytes());
            len = end;
        }
        match std::str::from_utf8(&buf[..len]) {
            Ok(joined) => f(joined),
            Err(_) => f(&self.dotted()),
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.dotted())
    }
}

/// A number literal, kept exactly as its decimal value so that the tree is `Eq` and hashable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Number(pub u64);

impl Number {
    pub fn from_f64(v: f64) -> Number {
        Number(v.to_bits())
    }
    pub fn value(self) -> f64 {
        f64::from_bits(self.0)
    }
}

/// A whole source file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SourceTree {
    pub package: Option<Path>,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Item {
    /// The `///` lines just above the item, joined with newlines.
    pub doc: Option<String>,
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// `package a.b` found after the first item (only the first one is the file's package).
    Package(Path),
    Use(UseDecl),
    Capability(Path),
    Data {
        name: Name,
        parent: Option<Path>,
    },
    Const {
        name: Name,
        value: Expr,
    },
    Context(Vec<FieldSchema>),
    Agent(AgentDecl),
    Human(HumanDecl),
    Intent(IntentDecl),
    Route(RouteDecl),
    Policy(PolicyDecl),
    Review(ReviewDecl),
    Limits(Vec<Limit>),
    Test(TestDecl),
    /// Text the parser could not make sense of; a diagnostic was already reported. When the
    /// broken text still shows what it declares (`agent reader { ...typo... }`), that word and
    /// name are kept, so that uses of the name elsewhere are not reported as unknown.
    Error(Option<(DeclKeyword, Name)>),
}

/// A keyword that declares a name: the compiler's one list of named declarations' kinds. The
/// parser keeps it for a declaration that did not parse, the package model (`hir`) files
/// declarations by it, the checker's tables look names up by it, and the editor's index wraps
/// it (`ide::DefKind::Decl`) beside what the editor shows that declares no name of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeclKeyword {
    Agent,
    Human,
    Intent,
    Data,
    Const,
    Policy,
    Route,
}

impl DeclKeyword {
    /// The keyword as written.
    pub fn word(self) -> &'static str {
        match self {
            DeclKeyword::Agent => "agent",
            DeclKeyword::Human => "human",
            DeclKeyword::Intent => "intent",
            DeclKeyword::Data => "data",
            DeclKeyword::Const => "const",
            DeclKeyword::Policy => "policy",
            DeclKeyword::Route => "route",
        }
    }

    /// What it declares, as messages name it ("unknown data class `x`").
    pub fn noun(self) -> &'static str {
        match self {
            DeclKeyword::Data => "data class",
            other => other.word(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UseDecl {
    /// The package path (for `use p.{x, y}`) or the whole path (for `use p.x` / `use p`).
    pub path: Path,
    /// `Some` for the braced form.
    pub names: Option<Vec<Name>>,
}

/// A field of a record type: `name?: type`, and in a `context`, `= claim "NAME"` (filled from
/// the verified bearer token's claim).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldSchema {
    pub name: Name,
    pub optional: bool,
    pub ty: TypeExpr,
    /// `email: string (pii)`: the data class the field holds (an `output` field only).
    pub data: Option<Path>,
    /// The claim's name and the span of its string.
    pub claim: Option<(String, Span)>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeExpr {
    /// `bool`, `number`, `string`, `duration` or an unknown name (reported later).
    Named(Name),
    Set(Box<TypeExpr>, Span),
    List(Box<TypeExpr>, Span),
    Record(Vec<FieldSchema>, Span),
    /// `"a" | "b"`.
    Enum(Vec<(String, Span)>, Span),
    /// A type that did not parse (reported): the field is kept, so its uses are not reported
    /// again, and it accepts anything.
    Error(Span),
}

impl TypeExpr {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named(n) => n.span,
            TypeExpr::Set(_, s) | TypeExpr::List(_, s) | TypeExpr::Record(_, s) => *s,
            TypeExpr::Enum(_, s) | TypeExpr::Error(s) => *s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AgentDecl {
    pub name: Name,
    pub fields: Vec<AgentField>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AgentField {
    Provides(Vec<Path>, Span),
    Clearance(Vec<Path>, Span),
    Trust(Expr, Span),
    Region(Expr, Span),
    Zone(Name, Span),
    Endpoint(Expr, Span),
    /// `endpoint PROTOCOL "URL"` (`endpoint mcp "http://..."`).
    ProtocolEndpoint(Name, Expr, Span),
    Backup(Vec<Name>, Span),
    Cost(Expr, Span),
    Labels(Vec<(Name, Expr)>, Span),
}

impl AgentField {
    pub fn keyword(&self) -> &'static str {
        match self {
            AgentField::Provides(..) => "provides",
            AgentField::Clearance(..) => "clearance",
            AgentField::Trust(..) => "trust",
            AgentField::Region(..) => "region",
            AgentField::Zone(..) => "zone",
            AgentField::Endpoint(..) | AgentField::ProtocolEndpoint(..) => "endpoint",
            AgentField::Backup(..) => "backup",
            AgentField::Cost(..) => "cost",
            AgentField::Labels(..) => "labels",
        }
    }
    pub fn span(&self) -> Span {
        match self {
            AgentField::Provides(_, s)
            | AgentField::Clearance(_, s)
            | AgentField::Trust(_, s)
            | AgentField::Region(_, s)
            | AgentField::Zone(_, s)
            | AgentField::Endpoint(_, s)
            | AgentField::ProtocolEndpoint(_, _, s)
            | AgentField::Backup(_, s)
            | AgentField::Cost(_, s)
            | AgentField::Labels(_, s) => *s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HumanDecl {
    pub name: Name,
    pub fields: Vec<HumanField>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HumanField {
    Channel(Expr, Span),
    Sla(Expr, Span),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IntentDecl {
    pub name: Name,
    pub fields: Vec<IntentField>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IntentField {
    Description(Expr, Span),
    Examples(Vec<Expr>, Span),
    Requires(Vec<Path>, Span),
    Handles(Vec<Path>, Span),
    Delegates(Vec<Name>, Span),
    Input(Vec<FieldSchema>, Span),
    /// `tool NAME`: the MCP tool that asks for this intent.
    Tool(Expr, Span),
    /// `output { ... }`: the schema of the intent's result, fields marked with data classes.
    Output(Vec<FieldSchema>, Span),
}

impl IntentField {
    pub fn keyword(&self) -> &'static str {
        match self {
            IntentField::Description(..) => "description",
            IntentField::Examples(..) => "examples",
            IntentField::Requires(..) => "requires",
            IntentField::Handles(..) => "handles",
            IntentField::Delegates(..) => "delegates",
            IntentField::Input(..) => "input",
            IntentField::Tool(..) => "tool",
            IntentField::Output(..) => "output",
        }
    }
    pub fn span(&self) -> Span {
        match self {
            IntentField::Description(_, s)
            | IntentField::Examples(_, s)
            | IntentField::Requires(_, s)
            | IntentField::Handles(_, s)
            | IntentField::Delegates(_, s)
            | IntentField::Input(_, s)
            | IntentField::Tool(_, s)
            | IntentField::Output(_, s) => *s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteDecl {
    pub intent: Name,
    pub arms: Vec<Arm>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arm {
    /// `None` for `otherwise`.
    pub condition: Option<Expr>,
    pub action: Action,
    pub span: Span,
}

/// A dispatch target: an agent by name, or `any CAPABILITY`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Agent(Name),
    Any(Path, Span),
}

impl Target {
    pub fn span(&self) -> Span {
        match self {
            Target::Agent(n) => n.span,
            Target::Any(_, s) => *s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    Dispatch {
        target: Target,
        fallbacks: Vec<Target>,
        span: Span,
    },
    Plan {
        steps: Vec<Step>,
        span: Span,
    },
    Escalate {
        humans: Vec<Name>,
        because: Option<(String, Span)>,
        span: Span,
    },
    Clarify {
        question: (String, Span),
        span: Span,
    },
    Deny {
        because: Option<(String, Span)>,
        span: Span,
    },
    Pass {
        span: Span,
    },
    Redact {
        data: Vec<Path>,
        span: Span,
    },
    Error {
        span: Span,
    },
}

impl Action {
    pub fn span(&self) -> Span {
        match self {
            Action::Dispatch { span, .. }
            | Action::Plan { span, .. }
            | Action::Escalate { span, .. }
            | Action::Clarify { span, .. }
            | Action::Deny { span, .. }
            | Action::Pass { span }
            | Action::Redact { span, .. }
            | Action::Error { span } => *span,
        }
    }
    pub fn keyword(&self) -> &'static str {
        match self {
            Action::Dispatch { .. } => "dispatch",
            Action::Plan { .. } => "plan",
            Action::Escalate { .. } => "escalate",
            Action::Clarify { .. } => "clarify",
            Action::Deny { .. } => "deny",
            Action::Pass { .. } => "pass",
            Action::Redact { .. } => "redact",
            Action::Error { .. } => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Step {
    pub name: Name,
    pub target: Target,
    pub modifiers: Vec<StepModifier>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StepModifier {
    After(Vec<Name>, Span),
    Fallback(Vec<Target>, Span),
    Needs(Vec<Path>, Span),
    Handles(Vec<Path>, Span),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PolicyDecl {
    pub name: Name,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RuleKind {
    Forbid {
        when: Option<Expr>,
        unless: Option<Expr>,
    },
    Permit {
        when: Expr,
    },
    Escalate {
        humans: Vec<Name>,
        when: Expr,
    },
    RequireAudit {
        when: Expr,
    },
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    pub kind: RuleKind,
    pub because: Option<(String, Span)>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReviewDecl {
    /// `None` for `review any`.
    pub agent: Option<Name>,
    pub arms: Vec<Arm>,
    pub span_head: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Limit {
    DelegationDepth(Expr, Span),
    Rate {
        target: Target,
        count: Expr,
        per: Expr,
        span: Span,
    },
    Breaker {
        target: Target,
        failures: Expr,
        cooldown: Expr,
        span: Span,
    },
    /// `rate intent NAME COUNT per DURATION [per caller]`: requests served for an intent (a
    /// tool's calls), all together or counted for each calling agent on its own.
    IntentRate {
        intent: Name,
        count: Expr,
        per: Expr,
        /// The word after the second `per` (`caller`), when given.
        each: Option<Name>,
        span: Span,
    },
    /// `confidence floor VALUE`: text whose best intent scores below it matches no intent.
    Floor {
        subject: Name,
        value: Expr,
        span: Span,
    },
    Error(Span),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TestDecl {
    pub name: (String, Span),
    pub given: Option<Expr>,
    /// `given 20 uses of refund_bot within 1m`: what happened before the request.
    pub scene: Vec<SceneLine>,
    pub expects: Vec<Expectation>,
}

/// One line of a test's scene: `given COUNT uses|failures of NAME within DURATION`
/// (docs/reference/tests.md, "The scene").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SceneLine {
    /// How many uses or failures, with the literal's span.
    pub count: (Number, Span),
    /// `failures` rather than `uses`.
    pub failures: bool,
    /// The agent (or human) they were uses or failures of.
    pub subject: Name,
    /// The window they all fall in, in milliseconds, with the literal's span.
    pub within: (u64, Span),
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Expectation {
    pub negated: bool,
    pub kind: ExpectKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExpectKind {
    Dispatch(Name),
    Plan(Vec<(Name, Name)>),
    Escalate(Name),
    Clarify,
    /// `expect deny`, or `expect deny because "TEXT"`: the reason must contain TEXT.
    Deny(Option<(String, Span)>),
    Throttle,
    Intent(Name),
    Audit,
    Redact(Path),
    Pass,
    /// `expect escalate` (or `dispatch`, `intent`, `redact`) without the name it needs: the
    /// word written, reported by the checker with the names it could be.
    Unnamed(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExprKind {
    Number(Number),
    /// Milliseconds.
    Duration(u64),
    Str(String),
    Bool(bool),
    /// A name or dotted path: a const, a context field, `confidence`, `agent.trust`, ...
    Path(Path),
    Set(Vec<Expr>),
    List(Vec<Expr>),
    /// `{ key: value, .. }` (only in `given` and `labels`).
    Record(Vec<(Name, Expr)>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    In {
        negated: bool,
        item: Box<Expr>,
        set: Box<Expr>,
    },
    Has(Path),
    Touches(Box<Expr>, Path),
    Provides(Box<Expr>, Path),
    Paren(Box<Expr>),
    Error,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// `with_dotted` sees what `dotted` builds, for short paths (joined on the stack) and
        /// long ones (past the stack buffer), in any script.
        #[test]
        fn with_dotted_sees_the_dotted_path(
            segments in proptest::collection::vec("[a-zé_]{0,40}", 1..8),
        ) {
            let path = Path {
                segments: segments
                    .iter()
                    .map(|s| Name { text: s.clone(), span: Span::new(0, 0) })
                    .collect(),
                span: Span::new(0, 0),
            };
            prop_assert_eq!(path.with_dotted(str::to_string), path.dotted());
        }
    }
}
