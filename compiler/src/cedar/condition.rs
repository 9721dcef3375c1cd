//! Plan expressions to Cedar conditions.
//!
//! The translation tracks two things Cedar is strict about and Intent is not: which numbers are
//! `decimal` and which are `Long` (a number literal takes the kind of what it is compared with,
//! so a literal compared with a `duration` field is a `Long`), and which reads may hit an absent
//! optional attribute (those are guarded with `has`, so that a comparison on an absent field is
//! false, as docs/reference/expressions.md says, instead of a Cedar error). Operator precedence is tracked too,
//! so the text carries only the parentheses it needs, plus those around nested `&&`/`||` groups
//! for the reader. The caller (`caller.*`) is read from `context.caller`, an `Agent` entity
//! that is absent for an anonymous caller, so every read of it is guarded with
//! `context has caller`.

use super::schema::{labels, LabelType};
use super::{attr_access, decimal_literal, entity_ref, has_attr_name, long_text, quote};
use intent_runtime::plan::{CmpOp, Expr, Plan, Type, Value};
use std::collections::BTreeMap;

/// The request's caller: an `Agent` entity in the context, absent for an anonymous caller.
const CALLER: &str = "context.caller";
/// What every read of the caller is guarded with, so that it is false without one.
const CALLER_GUARD: &str = "context has caller";

/// How tightly a piece of Cedar text binds, loosest first (Cedar's grammar levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Or,
    And,
    /// `==`, `<`, `has`, `in`.
    Rel,
    /// `!x`.
    Unary,
    /// Literals, attribute access, method calls, parenthesized text.
    Primary,
}

/// A piece of Cedar text and how tightly it binds.
struct Cedar {
    text: String,
    prec: Prec,
}

impl Cedar {
    fn new(text: String, prec: Prec) -> Self {
        Cedar { text, prec }
    }

    fn primary(text: impl Into<String>) -> Self {
        Cedar::new(text.into(), Prec::Primary)
    }

    /// The text, parenthesized when it binds looser than `min`.
    fn at_least(&self, min: Prec) -> String {
        if self.prec < min {
            format!("({})", self.text)
        } else {
            self.text.clone()
        }
    }
}

/// What an operand holds, as far as numbers are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Decimal,
    Long,
    /// A number literal: it becomes whatever it is compared with.
    NumberLiteral,
    Other,
}

/// How number literals are written in one comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    Decimal,
    Long,
}

fn kind_of_type(ty: Option<&Type>) -> Kind {
    match ty {
        Some(Type::Number) => Kind::Decimal,
        Some(Type::Duration) => Kind::Long,
        _ => Kind::Other,
    }
}

fn num_for(a: Kind, b: Kind) -> Num {
    if a == Kind::Long || b == Kind::Long {
        Num::Long
    } else {
        Num::Decimal
    }
}

/// `context.a.b` for the path `[a, b]`.
fn context_path(path: &[String]) -> String {
    path.iter()
        .fold("context".to_string(), |base, name| attr_access(&base, name))
}

fn literal(value: &Value, num: Num) -> String {
    match value {
        Value::Bool(b) => b.to_string(),
        Value::Number(x) => match num {
            Num::Decimal => decimal_literal(*x),
            Num::Long => long_text(*x),
        },
        Value::String(s) => quote(s),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(|v| literal(v, num)).collect();
            format!("[{}]", items.join(", "))
        }
    }
}

/// Translates expressions of one plan; collects what it cannot express.
pub(super) struct Translator<'p> {
    plan: &'p Plan,
    labels: BTreeMap<String, LabelType>,
    /// What could not be expressed since the caller last drained this (each stood in `false`).
    pub(super) problems: Vec<String>,
}

impl<'p> Translator<'p> {
    pub(super) fn new(plan: &'p Plan) -> Self {
        Translator {
            plan,
            labels: labels(plan).types,
            problems: Vec::new(),
        }
    }

    /// A `when`/`unless` body.
    pub(super) fn condition(&mut self, e: &Expr) -> String {
        self.boolean(e).text
    }

    /// The optional flags along `path` and the type at its end (`None` when the path leaves the
    /// context schema; Cedar's validator then reports the rule).
    fn field(&self, path: &[String]) -> (Vec<bool>, Option<&'p Type>) {
        let mut optional = Vec::with_capacity(path.len());
        let mut ty = Some(&self.plan.context);
        for name in path {
            let field = match ty {
                Some(Type::Record { fields }) => fields.iter().find(|f| f.name == *name),
                _ => None,
            };
            match field {
                Some(f) => {
                    optional.push(f.optional);
                    ty = Some(&f.ty);
                }
                None => return (optional, None),
            }
        }
        (optional, ty)
    }

    /// Pushes `context.a has b` for each optional segment `b` of `path`, outermost first.
    fn field_guards(&self, path: &[String], guards: &mut Vec<String>) {
        let (optional, _) = self.field(path);
        for (i, (&opt, name)) in optional.iter().zip(path).enumerate() {
            if opt {
                let prefix = path.get(..i).unwrap_or_default();
                push_unique(
                    guards,
                    format!("{} has {}", context_path(prefix), has_attr_name(name)),
                );
            }
        }
    }

    /// The guards an operand needs before it may be read.
    fn operand_guards(&self, e: &Expr, guards: &mut Vec<String>) {
        match e {
            Expr::Field { path } => self.field_guards(path, guards),
            Expr::AgentLabel { key } => {
                push_unique(
                    guards,
                    format!("principal.labels has {}", has_attr_name(key)),
                );
            }
            Expr::CallerName
            | Expr::CallerTrust
            | Expr::CallerRegion
            | Expr::CallerZone
            | Expr::CallerProvides { .. } => {
                push_unique(guards, CALLER_GUARD.to_string());
            }
            Expr::CallerLabel { key } => {
                push_unique(guards, CALLER_GUARD.to_string());
                push_unique(
                    guards,
                    format!("{CALLER}.labels has {}", has_attr_name(key)),
                );
            }
            // Everything else either reads nothing optional or guards itself.
            _ => {}
        }
    }

    /// `guards && body`, or the body alone.
    fn guarded(&self, operands: &[&Expr], body: Cedar) -> Cedar {
        let mut guards = Vec::new();
        for e in operands {
            self.operand_guards(e, &mut guards);
        }
        if guards.is_empty() {
            return body;
        }
        guards.push(body.at_least(Prec::Rel));
        Cedar::new(guards.join(" && "), Prec::And)
    }

    fn kind(&self, e: &Expr) -> Kind {
        match e {
            Expr::Lit {
                value: Value::Number(_),
            } => Kind::NumberLiteral,
            Expr::Confidence
            | Expr::Depth
            | Expr::AgentTrust
            | Expr::AgentCost
            | Expr::CallerTrust => Kind::Decimal,
            Expr::Field { path } => kind_of_type(self.field(path).1),
            Expr::AgentLabel { key } | Expr::CallerLabel { key } => match self.labels.get(key) {
                Some(LabelType::Decimal) => Kind::Decimal,
                _ => Kind::Other,
            },
            _ => Kind::Other,
        }
    }

    /// The kind of the members of a set operand.
    fn member_kind(&self, e: &Expr) -> Kind {
        match e {
            Expr::Lit {
                value: Value::List(items),
            } if items.iter().any(|v| matches!(v, Value::Number(_))) => Kind::NumberLiteral,
            Expr::Field { path } => match self.field(path).1 {
                Some(Type::Set { of } | Type::List { of }) => kind_of_type(Some(of)),
                _ => Kind::Other,
            },
            Expr::AgentLabel { key } | Expr::CallerLabel { key } => match self.labels.get(key) {
                Some(LabelType::Set(of)) if **of == LabelType::Decimal => Kind::Decimal,
                _ => Kind::Other,
            },
            _ => Kind::Other,
        }
    }

    /// An expression in a position that must be boolean: a bare optional read is guarded.
    fn boolean(&mut self, e: &Expr) -> Cedar {
        match e {
            Expr::Field { .. }
            | Expr::AgentLabel { .. }
            | Expr::CallerLabel { .. }
            | Expr::CallerProvides { .. } => {
                let value = self.value(e, Num::Decimal);
                self.guarded(&[e], value)
            }
            _ => self.value(e, Num::Decimal),
        }
    }

    fn value(&mut self, e: &Expr, num: Num) -> Cedar {
        match e {
            Expr::Lit { value } => Cedar::primary(literal(value, num)),
            Expr::Confidence => Cedar::primary("context.confidence"),
            Expr::Depth => Cedar::primary("context.depth"),
            Expr::IntentIs { intent } => match self.plan.intents.get(*intent as usize) {
                Some(i) => Cedar::new(
                    format!("resource == {}", entity_ref("Intent", &i.name)),
                    Prec::Rel,
                ),
                None => self.unsupported(format!("unknown intent id {intent}")),
            },
            Expr::Field { path } => Cedar::primary(context_path(path)),
            Expr::Has { path } => self.has(path),
            Expr::AgentTrust => Cedar::primary("principal.trust"),
            Expr::AgentCost => Cedar::primary("principal.cost"),
            Expr::AgentRegion => Cedar::primary("principal.region"),
            Expr::AgentZone => Cedar::primary("principal.zone"),
            Expr::AgentName => Cedar::primary("principal.name"),
            Expr::AgentLabel { key } => Cedar::primary(attr_access("principal.labels", key)),
            Expr::AgentProvides { cap } => match self.plan.capabilities.get(*cap as usize) {
                Some(c) => {
                    Cedar::primary(format!("principal.provides.contains({})", quote(&c.name)))
                }
                None => self.unsupported(format!("unknown capability id {cap}")),
            },
            Expr::CallerName => Cedar::primary(format!("{CALLER}.name")),
            Expr::CallerTrust => Cedar::primary(format!("{CALLER}.trust")),
            Expr::CallerRegion => Cedar::primary(format!("{CALLER}.region")),
            Expr::CallerZone => Cedar::primary(format!("{CALLER}.zone")),
            Expr::CallerLabel { key } => {
                Cedar::primary(attr_access(&format!("{CALLER}.labels"), key))
            }
            Expr::CallerProvides { cap } => match self.plan.capabilities.get(*cap as usize) {
                Some(c) => {
                    Cedar::primary(format!("{CALLER}.provides.contains({})", quote(&c.name)))
                }
                None => self.unsupported(format!("unknown capability id {cap}")),
            },
            Expr::HasCaller => Cedar::new(CALLER_GUARD.to_string(), Prec::Rel),
            Expr::DataTouches { any } => self.touches(any),
            Expr::ResponseConfidence | Expr::ResponseDataTouches { .. } => self.unsupported(
                "`response` can only be read in a review, not in a policy rule".to_string(),
            ),
            Expr::Not { e } => {
                let inner = self.boolean(e);
                Cedar::new(format!("!{}", inner.at_least(Prec::Primary)), Prec::Unary)
            }
            Expr::And { all } => self.join(all, " && ", "true", Prec::And),
            Expr::Or { any } => self.join(any, " || ", "false", Prec::Or),
            Expr::Cmp { cmp, lhs, rhs } => self.cmp(*cmp, lhs, rhs),
            Expr::In { item, set, negated } => self.member(item, set, *negated),
        }
    }

    /// Records a problem and stands in `false` for what could not be translated.
    fn unsupported(&mut self, message: String) -> Cedar {
        self.problems.push(message);
        Cedar::primary("false")
    }

    fn join(&mut self, items: &[Expr], op: &str, empty: &str, prec: Prec) -> Cedar {
        match items {
            [] => Cedar::primary(empty),
            [only] => self.boolean(only),
            _ => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|e| self.boolean(e).at_least(Prec::Rel))
                    .collect();
                Cedar::new(parts.join(op), prec)
            }
        }
    }

    fn has(&mut self, path: &[String]) -> Cedar {
        let Some((last, prefix)) = path.split_last() else {
            return self.unsupported("`has` without a field".to_string());
        };
        let mut guards = Vec::new();
        self.field_guards(prefix, &mut guards);
        guards.push(format!(
            "{} has {}",
            context_path(prefix),
            has_attr_name(last)
        ));
        let prec = if guards.len() > 1 {
            Prec::And
        } else {
            Prec::Rel
        };
        Cedar::new(guards.join(" && "), prec)
    }

    fn touches(&mut self, any: &[u32]) -> Cedar {
        let mut classes = Vec::with_capacity(any.len());
        for &id in any {
            match self.plan.data_classes.get(id as usize) {
                Some(d) => classes.push(entity_ref("DataClass", &d.name)),
                None => return self.unsupported(format!("unknown data class id {id}")),
            }
        }
        if classes.is_empty() {
            // Cedar's strict validator rejects an empty set literal; nothing touches nothing.
            return Cedar::primary("false");
        }
        Cedar::primary(format!(
            "context.data.containsAny([{}])",
            classes.join(", ")
        ))
    }

    fn cmp(&mut self, op: CmpOp, lhs: &Expr, rhs: &Expr) -> Cedar {
        let (lk, rk) = (self.kind(lhs), self.kind(rhs));
        let num = num_for(lk, rk);
        let numeric = |k: Kind| matches!(k, Kind::Decimal | Kind::NumberLiteral);
        let decimal = num == Num::Decimal && numeric(lk) && numeric(rk);
        let l = self.value(lhs, num);
        let r = self.value(rhs, num);
        let method = match op {
            CmpOp::Lt => "lessThan",
            CmpOp::Le => "lessThanOrEqual",
            CmpOp::Gt => "greaterThan",
            CmpOp::Ge => "greaterThanOrEqual",
            CmpOp::Eq | CmpOp::Ne => "",
        };
        let body = if decimal && !method.is_empty() {
            Cedar::primary(format!(
                "{}.{method}({})",
                l.at_least(Prec::Primary),
                r.text
            ))
        } else {
            let symbol = match op {
                CmpOp::Eq => "==",
                CmpOp::Ne => "!=",
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
                CmpOp::Gt => ">",
                CmpOp::Ge => ">=",
            };
            Cedar::new(
                format!(
                    "{} {symbol} {}",
                    l.at_least(Prec::Unary),
                    r.at_least(Prec::Unary)
                ),
                Prec::Rel,
            )
        };
        self.guarded(&[lhs, rhs], body)
    }

    fn member(&mut self, item: &Expr, set: &Expr, negated: bool) -> Cedar {
        if let Expr::Lit {
            value: Value::List(items),
        } = set
        {
            if items.is_empty() {
                // Cedar's strict validator rejects an empty set literal. Nothing is in it, and
                // `x not in []` is true only when `x` can be read at all.
                let body = Cedar::primary(if negated { "true" } else { "false" });
                return if negated {
                    self.guarded(&[item], body)
                } else {
                    body
                };
            }
        }
        let num = num_for(self.kind(item), self.member_kind(set));
        let s = self.value(set, num);
        let i = self.value(item, num);
        let contains = format!("{}.contains({})", s.at_least(Prec::Primary), i.text);
        let body = if negated {
            Cedar::new(format!("!{contains}"), Prec::Unary)
        } else {
            Cedar::primary(contains)
        };
        self.guarded(&[item, set], body)
    }
}

fn push_unique(guards: &mut Vec<String>, guard: String) {
    if !guards.contains(&guard) {
        guards.push(guard);
    }
}
