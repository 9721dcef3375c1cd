//! Type checking of expressions (docs/reference/expressions.md), lowering each to a plan expression as it
//! goes. Operands are resolved by where the expression stands: `agent` and `data` only in
//! policies, `response` only in reviews; context fields and consts everywhere.

use super::schema;
use super::tables::Tables;
use crate::codes::Code;
use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::syntax::ast::{self, ExprKind, Path};
use intent_runtime::plan::{Expr, Type, Value};

/// Where an expression stands, which decides the operands it may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    Route,
    Policy,
    Review,
    Const,
}

/// The static type of an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Bool,
    Number,
    String,
    Duration,
    Enum(Vec<String>),
    Set(Box<Ty>),
    /// `data`: the data classes of the step being checked.
    Data,
    /// `response.data`: the data classes of an agent's response.
    ResponseData,
    Agent,
    /// `caller`: the request's calling agent; only before `provides`.
    Caller,
    /// `caller.name`, `agent.name`: an agent's name, compared with string literals that must
    /// name agents.
    AgentName,
    Intent,
    /// An agent label: any literal.
    Label,
    /// After an error: accepted everywhere, so one mistake is reported once.
    Unknown,
}

impl Ty {
    pub(super) fn describe(&self) -> String {
        match self {
            Ty::Bool => "a boolean".into(),
            Ty::Number => "a number".into(),
            Ty::String => "a string".into(),
            Ty::Duration => "a duration".into(),
            Ty::Enum(v) => format!("one of {}", quoted(v)),
            Ty::Set(t) => format!("a set of {}", t.describe().trim_start_matches("a ")),
            Ty::Data | Ty::ResponseData => "data classes".into(),
            Ty::Agent => "an agent".into(),
            Ty::Caller => "the caller".into(),
            Ty::AgentName => "an agent's name".into(),
            Ty::Intent => "an intent".into(),
            Ty::Label => "a label".into(),
            Ty::Unknown => "anything".into(),
        }
    }

    fn from_plan(t: &Type) -> Ty {
        match t {
            Type::Bool => Ty::Bool,
            Type::Number => Ty::Number,
            Type::String => Ty::String,
            Type::Duration => Ty::Duration,
            // An enum of no values is a field whose type was unknown (already reported).
            Type::Enum { values } if values.is_empty() => Ty::Unknown,
            Type::Enum { values } => Ty::Enum(values.clone()),
            Type::Set { of } | Type::List { of } => Ty::Set(Box::new(Ty::from_plan(of))),
            Type::Record { .. } => Ty::Unknown,
        }
    }

    /// Whether values of the two types can be compared with `==`.
    pub(super) fn comparable(&self, other: &Ty) -> bool {
        use Ty::*;
        match (self, other) {
            (Unknown, _) | (_, Unknown) | (Label, _) | (_, Label) => true,
            (Enum(_) | String | AgentName, Enum(_) | String | AgentName) => true,
            (Set(a), Set(b)) => a.comparable(b),
            (a, b) => a == b,
        }
    }

    pub(super) fn ordered(&self) -> bool {
        matches!(self, Ty::Number | Ty::Duration | Ty::Label | Ty::Unknown)
    }
}

pub(super) fn quoted(v: &[String]) -> String {
    v.iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A checked expression: its type, its lowered form, and facts the checks need.
pub struct Typed {
    pub ty: Ty,
    pub expr: Expr,
    /// The context path of an optional field this expression reads, if any.
    pub optional: Option<Vec<String>>,
    /// A literal number, for range checks.
    pub number: Option<f64>,
    /// What a threshold compares against (`confidence`, `trust`), for range checks.
    pub unit: Option<&'static str>,
}

impl Typed {
    pub(super) fn new(ty: Ty, expr: Expr) -> Typed {
        Typed {
            ty,
            expr,
            optional: None,
            number: None,
            unit: None,
        }
    }
    pub(super) fn error() -> Typed {
        Typed::new(
            Ty::Unknown,
            Expr::Lit {
                value: Value::Bool(false),
            },
        )
    }
}

pub struct ExprCx<'t, 'w, 'a> {
    pub t: &'t Tables<'w, 'a>,
    pub file: usize,
    pub site: Site,
    /// Context paths known present (from `has` on the left of an `and`).
    pub(super) guarded: Vec<Vec<String>>,
    pub diags: &'t mut Vec<Diagnostic>,
}

impl<'t, 'w, 'a> ExprCx<'t, 'w, 'a> {
    pub fn new(
        t: &'t Tables<'w, 'a>,
        file: usize,
        site: Site,
        diags: &'t mut Vec<Diagnostic>,
    ) -> Self {
        ExprCx {
            t,
            file,
            site,
            guarded: Vec::new(),
            diags,
        }
    }

    /// The checker with `paths` known present (earlier arms of a route took every request
    /// without them).
    pub(super) fn knowing(mut self, paths: &[Vec<String>]) -> Self {
        self.guarded.extend_from_slice(paths);
        self
    }

    pub(super) fn path(&self) -> &'a str {
        self.t.path(self.file)
    }

    pub(super) fn err(
        &mut self,
        code: Code,
        span: ast::Span,
        message: String,
        label: &str,
        help: String,
    ) {
        let d = Diagnostic::new(code, self.path(), span, message)
            .with_label(label)
            .with_help(help);
        self.diags.push(d);
    }

    /// Checks a condition: it must be a boolean.
    pub fn condition(&mut self, e: &ast::Expr) -> Expr {
        let t = self.expr(e);
        if !matches!(t.ty, Ty::Bool | Ty::Unknown) {
            self.err(
                Code::TYPE_MISMATCH,
                e.span,
                format!(
                    "a condition must be a boolean, but this is {}",
                    t.ty.describe()
                ),
                "not a boolean",
                "compare it with something, e.g. `confidence < 0.8` or `channel == \"web\"`".into(),
            );
        }
        t.expr
    }

    pub fn expr(&mut self, e: &ast::Expr) -> Typed {
        match &e.kind {
            ExprKind::Number(n) => {
                let v = n.value();
                Typed {
                    number: Some(v),
                    ..Typed::new(
                        Ty::Number,
                        Expr::Lit {
                            value: Value::Number(v),
                        },
                    )
                }
            }
            ExprKind::Duration(ms) => Typed::new(
                Ty::Duration,
                Expr::Lit {
                    value: Value::Number(*ms as f64),
                },
            ),
            ExprKind::Str(s) => Typed::new(
                Ty::String,
                Expr::Lit {
                    value: Value::String(s.clone()),
                },
            ),
            ExprKind::Bool(b) => Typed::new(
                Ty::Bool,
                Expr::Lit {
                    value: Value::Bool(*b),
                },
            ),
            ExprKind::Path(p) => self.operand(p),
            ExprKind::Set(items) | ExprKind::List(items) => self.collection(items, e.span),
            ExprKind::Record(_) => {
                self.err(
                    Code::TYPE_MISMATCH,
                    e.span,
                    "a record is not allowed in a condition".into(),
                    "record",
                    "records appear only in a test's `given`".into(),
                );
                Typed::error()
            }
            ExprKind::Paren(inner) => self.expr(inner),
            ExprKind::Not(inner) => {
                let t = self.boolean(inner, "not");
                Typed::new(Ty::Bool, Expr::Not { e: Box::new(t) })
            }
            ExprKind::And(a, b) => self.junction(a, b, true),
            ExprKind::Or(a, b) => self.junction(a, b, false),
            ExprKind::Cmp(op, a, b) => self.compare(*op, a, b, e.span),
            ExprKind::In { negated, item, set } => self.membership(*negated, item, set, e.span),
            ExprKind::Has(p) => self.has(p),
            ExprKind::Touches(lhs, class) => {
                let l = self.expr(lhs);
                let any = self
                    .t
                    .resolve_data(self.file, class, self.diags)
                    .map(|d| self.t.data_closure(d).to_vec())
                    .unwrap_or_default();
                match &l.ty {
                    Ty::ResponseData => Typed::new(Ty::Bool, Expr::ResponseDataTouches { any }),
                    Ty::Data => Typed::new(Ty::Bool, Expr::DataTouches { any }),
                    Ty::Unknown => Typed::error(),
                    other => {
                        self.err(Code::TYPE_MISMATCH, lhs.span, format!("`touches` needs data classes on its left, but this is {}", other.describe()), "not data", "write `data touches pii` (in a policy) or `response.data touches pii` (in a review)".into());
                        Typed::error()
                    }
                }
            }
            ExprKind::Provides(lhs, cap) => {
                let l = self.expr(lhs);
                let cap = self.t.resolve_cap(self.file, cap, self.diags);
                match (&l.ty, cap) {
                    (Ty::Agent, Some(cap)) => Typed::new(Ty::Bool, Expr::AgentProvides { cap }),
                    (Ty::Caller, Some(cap)) => Typed::new(Ty::Bool, Expr::CallerProvides { cap }),
                    (Ty::Agent | Ty::Caller | Ty::Unknown, None) | (Ty::Unknown, _) => {
                        Typed::error()
                    }
                    (other, _) => {
                        self.err(
                            Code::TYPE_MISMATCH,
                            lhs.span,
                            format!(
                                "`provides` needs an agent on its left, but this is {}",
                                other.describe()
                            ),
                            "not an agent",
                            "write `agent provides risk.predict` or `caller provides risk.predict`"
                                .into(),
                        );
                        Typed::error()
                    }
                }
            }
            ExprKind::Error => Typed::error(),
        }
    }

    /// `a and b` / `a or b`, flattened. The left side's facts guard the right side: `has x and
    /// x > 1`, `not has x or x > 1` read `x` only when it is present.
    fn junction(&mut self, a: &ast::Expr, b: &ast::Expr, and: bool) -> Typed {
        let word = if and { "and" } else { "or" };
        let left = self.boolean(a, word);
        let facts = if and { has_facts(a) } else { absent_facts(a) };
        let n = facts.len();
        self.guarded.extend(facts);
        let right = self.boolean(b, word);
        self.guarded.truncate(self.guarded.len() - n);
        let mut parts = Vec::new();
        for x in [left, right] {
            match x {
                Expr::And { all } if and => parts.extend(all),
                Expr::Or { any } if !and => parts.extend(any),
                other => parts.push(other),
            }
        }
        Typed::new(
            Ty::Bool,
            if and {
                Expr::And { all: parts }
            } else {
                Expr::Or { any: parts }
            },
        )
    }

    fn boolean(&mut self, e: &ast::Expr, op: &str) -> Expr {
        let t = self.expr(e);
        if !matches!(t.ty, Ty::Bool | Ty::Unknown) {
            self.err(
                Code::TYPE_MISMATCH,
                e.span,
                format!("`{op}` needs booleans, but this is {}", t.ty.describe()),
                "not a boolean",
                "compare it with something first, e.g. `x == \"value\"`".into(),
            );
        }
        t.expr
    }

    fn collection(&mut self, items: &[ast::Expr], _span: ast::Span) -> Typed {
        let mut values = Vec::new();
        let mut elem = Ty::Unknown;
        for item in items {
            let t = self.expr(item);
            match t.expr {
                Expr::Lit { value } => values.push(value),
                _ => self.err(
                    Code::TYPE_MISMATCH,
                    item.span,
                    "sets and lists may hold only literals and consts".into(),
                    "not a literal",
                    "move the comparison out of the set".into(),
                ),
            }
            if elem == Ty::Unknown {
                elem = t.ty;
            } else if !elem.comparable(&t.ty) {
                self.err(
                    Code::TYPE_MISMATCH,
                    item.span,
                    format!(
                        "this set holds {}, but this member is {}",
                        elem.describe(),
                        t.ty.describe()
                    ),
                    "different type",
                    "a set's members all have one type".into(),
                );
            }
        }
        Typed::new(
            Ty::Set(Box::new(elem)),
            Expr::Lit {
                value: Value::List(values),
            },
        )
    }

    fn site_allows(&mut self, head: &ast::Name, needs: Site, what: &str) -> bool {
        if self.site == needs {
            return true;
        }
        let place = match needs {
            Site::Policy if head.text == "agent" => "a `policy` rule or a `review`",
            Site::Policy => "a `policy` rule",
            Site::Review => "a `review`",
            _ => "here",
        };
        self.err(
            Code::OPERAND_CONTEXT,
            head.span,
            format!("`{}` is only available in {place}", head.text),
            "not available here",
            format!("{what} exists only while {place} is checked"),
        );
        false
    }

    /// A name or dotted path used as a value.
    fn operand(&mut self, p: &Path) -> Typed {
        let segs: Vec<&str> = p.segments.iter().map(|s| s.text.as_str()).collect();
        let Some(head) = p.segments.first() else {
            return Typed::error();
        };
        if self.site == Site::Const {
            self.err(
                Code::TYPE_MISMATCH,
                p.span,
                format!("a const holds literals only, not `{}`", p.dotted()),
                "not a literal",
                "write the value itself: a number, a string, a duration, a set or a list".into(),
            );
            return Typed::error();
        }
        match segs.as_slice() {
            ["confidence"] => {
                return Typed {
                    unit: Some("confidence"),
                    ..Typed::new(Ty::Number, Expr::Confidence)
                }
            }
            ["depth"] => return Typed::new(Ty::Number, Expr::Depth),
            ["intent"] => {
                return Typed::new(
                    Ty::Intent,
                    Expr::Lit {
                        value: Value::Bool(false),
                    },
                )
            }
            ["agent", rest @ ..] => {
                if !(self.site == Site::Review
                    || self.site_allows(head, Site::Policy, "the agent being checked"))
                {
                    return Typed::error();
                }
                return self.agent_attr(p, rest);
            }
            ["caller", rest @ ..] => return self.caller_attr(p, rest),
            ["data"] => {
                if !self.site_allows(head, Site::Policy, "the data of the step being checked") {
                    return Typed::error();
                }
                return Typed::new(
                    Ty::Data,
                    Expr::Lit {
                        value: Value::Bool(false),
                    },
                );
            }
            ["response", rest @ ..] => {
                if !self.site_allows(head, Site::Review, "the agent's response") {
                    return Typed::error();
                }
                return match rest {
                    ["confidence"] => Typed {
                        unit: Some("response.confidence"),
                        ..Typed::new(Ty::Number, Expr::ResponseConfidence)
                    },
                    ["data"] => Typed::new(
                        Ty::ResponseData,
                        Expr::Lit {
                            value: Value::Bool(false),
                        },
                    ),
                    _ => {
                        let s = p.segments.get(1).map_or(p.span, |s| s.span);
                        let help = did_you_mean(
                            rest.first().copied().unwrap_or(""),
                            ["confidence", "data"],
                        )
                        .unwrap_or_else(|| "a response has `confidence` and `data`".into());
                        self.err(
                            Code::UNKNOWN_NAME,
                            s,
                            format!("a response has no `{}`", rest.join(".")),
                            "unknown",
                            help,
                        );
                        Typed::error()
                    }
                };
            }
            _ => {}
        }
        if schema::field(&self.t.context, head.text.as_str()).is_some() {
            return self.context_path(p);
        }
        if let Some((file, value)) = self.t.find_const(self.file, &segs) {
            return self.const_value(file, value, p);
        }
        if self.t.ws.is_broken(ast::DeclKeyword::Const, &p.dotted()) {
            return Typed::error();
        }
        let mut candidates: Vec<String> = schema::field_names(&self.t.context)
            .into_iter()
            .map(String::from)
            .collect();
        candidates.extend(
            self.t
                .visible(crate::syntax::ast::DeclKeyword::Const, self.file),
        );
        candidates.extend(["confidence", "depth", "intent", "caller"].map(String::from));
        match self.site {
            Site::Policy => candidates.extend(["agent", "data"].map(String::from)),
            Site::Review => candidates.extend(["agent", "response"].map(String::from)),
            _ => {}
        }
        let name = p.dotted();
        let help = did_you_mean(&head.text, candidates.iter().map(String::as_str))
            .unwrap_or_else(|| "declare it as a `const`, or as a field of `context { }`".into());
        self.diags.push(
            Diagnostic::new(
                Code::UNKNOWN_NAME,
                self.path(),
                p.span,
                format!("unknown name `{name}`"),
            )
            .with_label("not a const, a context field or a built-in operand")
            .with_help(help),
        );
        Typed::error()
    }

    fn agent_attr(&mut self, p: &Path, rest: &[&str]) -> Typed {
        let (ty, expr) = match rest {
            [] => (Ty::Agent, Expr::AgentName),
            ["trust"] => {
                return Typed {
                    unit: Some("trust"),
                    ..Typed::new(Ty::Number, Expr::AgentTrust)
                }
            }
            ["cost"] => (Ty::Number, Expr::AgentCost),
            ["region"] => (Ty::String, Expr::AgentRegion),
            ["zone"] => (Ty::String, Expr::AgentZone),
            ["name"] => (Ty::AgentName, Expr::AgentName),
            ["labels", key] => (
                Ty::Label,
                Expr::AgentLabel {
                    key: (*key).to_string(),
                },
            ),
            _ => {
                let s = p.segments.get(1).map_or(p.span, |s| s.span);
                let attr = rest.join(".");
                let help = did_you_mean(
                    &attr,
                    ["trust", "cost", "region", "zone", "name", "labels"],
                )
                .unwrap_or_else(|| {
                    "an agent has `trust`, `cost`, `region`, `zone`, `name` and `labels.KEY`".into()
                });
                self.err(
                    Code::UNKNOWN_NAME,
                    s,
                    format!("an agent has no attribute `{attr}`"),
                    "unknown attribute",
                    help,
                );
                return Typed::error();
            }
        };
        Typed::new(ty, expr)
    }

    /// Walks a context path through the schema, reporting an unknown field. Returns the path,
    /// the prefix that ends at its first optional field (if any), and the field's type.
    fn walk_context(&mut self, p: &Path) -> Option<ContextPath<'t>> {
        let mut ty: &'t Type = &self.t.context;
        let mut optional = None;
        let mut walked: Vec<String> = Vec::new();
        for seg in &p.segments {
            let Some(f) = schema::field(ty, &seg.text) else {
                let names = schema::field_names(ty);
                let what = if walked.is_empty() {
                    "the context".to_string()
                } else {
                    format!("`{}`", walked.join("."))
                };
                let help = did_you_mean(&seg.text, names.iter().copied()).unwrap_or_else(|| {
                    if names.is_empty() {
                        format!("{what} has no fields")
                    } else {
                        format!("{what} has: {}", names.join(", "))
                    }
                });
                self.err(
                    Code::UNKNOWN_FIELD,
                    seg.span,
                    format!("{what} has no field `{}`", seg.text),
                    "unknown field",
                    help,
                );
                return None;
            };
            walked.push(seg.text.clone());
            if f.optional && optional.is_none() {
                optional = Some(walked.clone());
            }
            ty = &f.ty;
        }
        Some(ContextPath {
            path: walked,
            optional,
            ty,
        })
    }

    fn context_path(&mut self, p: &Path) -> Typed {
        let Some(ContextPath {
            path: walked,
            optional,
            ty,
        }) = self.walk_context(p)
        else {
            return Typed::error();
        };
        if let Type::Record { .. } = ty {
            self.err(
                Code::TYPE_MISMATCH,
                p.span,
                format!("`{}` is a record; compare one of its fields", p.dotted()),
                "a record",
                format!("fields: {}", schema::field_names(ty).join(", ")),
            );
            return Typed::error();
        }
        Typed {
            optional,
            ..Typed::new(Ty::from_plan(ty), Expr::Field { path: walked })
        }
    }

    fn const_value(&mut self, file: usize, value: &'a ast::Expr, p: &Path) -> Typed {
        let mut inner = ExprCx::new(self.t, file, Site::Const, self.diags);
        let t = inner.expr(value);
        if !matches!(t.expr, Expr::Lit { .. }) {
            self.err(
                Code::TYPE_MISMATCH,
                p.span,
                format!("const `{}` is not a literal", p.dotted()),
                "not a literal",
                "a const holds a literal, a set or a list".into(),
            );
            return Typed::error();
        }
        Typed {
            number: t.number,
            ..Typed::new(t.ty, t.expr)
        }
    }

    /// `has p`: any field may be tested, records included (`has subject`); `has caller`: the
    /// request's caller is an agent of the mesh.
    fn has(&mut self, p: &Path) -> Typed {
        if p.segments.first().is_some_and(|h| h.text == "caller") {
            return self.has_caller(p);
        }
        match self.walk_context(p) {
            Some(c) => Typed::new(Ty::Bool, Expr::Has { path: c.path }),
            None => Typed::error(),
        }
    }

    pub(super) fn warn_optional(&mut self, t: &Typed, span: ast::Span) {
        let Some(path) = &t.optional else { return };
        if self
            .guarded
            .iter()
            .any(|g| g == path || (g.len() > path.len() && g.starts_with(path)))
        {
            return;
        }
        let name = path.join(".");
        let message = if name == "caller" {
            "the caller is absent for an anonymous request: this comparison is false then"
                .to_string()
        } else {
            format!("`{name}` is optional: when it is absent this comparison is false")
        };
        self.diags.push(
            Diagnostic::new(Code::OPTIONAL_WITHOUT_HAS, self.path(), span, message)
                .with_label("may be absent")
                .with_help(format!("say what you mean when it is absent: `has {name} and ...` or `not has {name} or ...`")),
        );
    }
}

/// A context path found in the schema.
struct ContextPath<'t> {
    path: Vec<String>,
    /// The prefix ending at the path's first optional field.
    optional: Option<Vec<String>>,
    ty: &'t Type,
}

/// The context paths that `e`, as the left of an `and`, proves present.
fn has_facts(e: &ast::Expr) -> Vec<Vec<String>> {
    match &e.kind {
        ExprKind::Has(p) => vec![p.segments.iter().map(|s| s.text.clone()).collect()],
        ExprKind::And(a, b) => {
            let mut v = has_facts(a);
            v.extend(has_facts(b));
            v
        }
        ExprKind::Paren(inner) => has_facts(inner),
        _ => Vec::new(),
    }
}

/// The context paths that `e`, as the left of an `or`, proves present on the right
/// (`not has x or ...`).
pub(super) fn absent_facts(e: &ast::Expr) -> Vec<Vec<String>> {
    match &e.kind {
        ExprKind::Not(inner) => match &inner.kind {
            ExprKind::Has(p) => vec![p.segments.iter().map(|s| s.text.clone()).collect()],
            ExprKind::Paren(x) => absent_facts(&ast::Expr {
                kind: ExprKind::Not(x.clone()),
                span: e.span,
            }),
            _ => Vec::new(),
        },
        ExprKind::Or(a, b) => {
            let mut v = absent_facts(a);
            v.extend(absent_facts(b));
            v
        }
        ExprKind::Paren(inner) => absent_facts(inner),
        _ => Vec::new(),
    }
}

/// A literal (or a set of literals) as a plan value, for consts, labels and field values.
pub fn literal(e: &ast::Expr) -> Option<Value> {
    match &e.kind {
        ExprKind::Number(n) => Some(Value::Number(n.value())),
        ExprKind::Duration(ms) => Some(Value::Number(*ms as f64)),
        ExprKind::Str(s) => Some(Value::String(s.clone())),
        ExprKind::Bool(b) => Some(Value::Bool(*b)),
        ExprKind::Set(v) | ExprKind::List(v) => v
            .iter()
            .map(literal)
            .collect::<Option<Vec<_>>>()
            .map(Value::List),
        ExprKind::Paren(inner) => literal(inner),
        _ => None,
    }
}
