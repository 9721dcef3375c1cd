//! Comparisons in expressions: `==` and the orderings, `in` and `not in`, and `intent == NAME`;
//! with the checks that belong to them (enum values, thresholds outside 0..1, optional fields
//! read without `has`). Part of the expression checker in `expr.rs`.

use super::expr::{quoted, ExprCx, Ty, Typed};
use crate::codes::Code;
use crate::diagnostics::did_you_mean;
use crate::syntax::ast::{self, CmpOp as AstCmp, ExprKind};
use intent_runtime::plan::{CmpOp, Expr, Value};

impl ExprCx<'_, '_, '_> {
    pub(super) fn compare(
        &mut self,
        op: AstCmp,
        a: &ast::Expr,
        b: &ast::Expr,
        span: ast::Span,
    ) -> Typed {
        let l = self.expr(a);
        if l.ty == Ty::Intent {
            return self.intent_compare(op, b, span);
        }
        let r = self.expr(b);
        self.warn_optional(&l, a.span);
        self.warn_optional(&r, b.span);
        let ok = match op {
            AstCmp::Eq | AstCmp::Ne => l.ty.comparable(&r.ty),
            _ => l.ty.ordered() && r.ty.ordered() && l.ty.comparable(&r.ty),
        };
        if !ok {
            let help = if l.ty == Ty::Caller || r.ty == Ty::Caller {
                "compare one of the caller's attributes, e.g. `caller.name == \"treasury\"`"
                    .to_string()
            } else if op == AstCmp::Eq || op == AstCmp::Ne {
                "compare values of the same type".to_string()
            } else {
                "`<`, `<=`, `>` and `>=` compare numbers or durations".to_string()
            };
            self.err(
                Code::TYPE_MISMATCH,
                span,
                format!(
                    "cannot compare {} with {} using `{}`",
                    l.ty.describe(),
                    r.ty.describe(),
                    op.symbol()
                ),
                "mismatched types",
                help,
            );
        }
        self.check_enum_literal(&l, &r, b.span);
        self.check_enum_literal(&r, &l, a.span);
        self.check_agent_literal(&l, &r, b.span);
        self.check_agent_literal(&r, &l, a.span);
        self.check_threshold(&l, &r, b.span);
        self.check_threshold(&r, &l, a.span);
        let cmp = match op {
            AstCmp::Eq => CmpOp::Eq,
            AstCmp::Ne => CmpOp::Ne,
            AstCmp::Lt => CmpOp::Lt,
            AstCmp::Le => CmpOp::Le,
            AstCmp::Gt => CmpOp::Gt,
            AstCmp::Ge => CmpOp::Ge,
        };
        Typed::new(
            Ty::Bool,
            Expr::Cmp {
                cmp,
                lhs: Box::new(l.expr),
                rhs: Box::new(r.expr),
            },
        )
    }

    /// An enum compared with a string literal: the literal must be one of its values.
    fn check_enum_literal(&mut self, e: &Typed, lit: &Typed, span: ast::Span) {
        if let (
            Ty::Enum(values),
            Expr::Lit {
                value: Value::String(s),
            },
        ) = (&e.ty, &lit.expr)
        {
            if !values.contains(s) {
                let help = did_you_mean(s, values.iter().map(String::as_str))
                    .unwrap_or_else(|| format!("the values are {}", quoted(values)));
                self.err(
                    Code::TYPE_MISMATCH,
                    span,
                    format!("\"{s}\" is not one of the values {}", quoted(values)),
                    "never equal",
                    help,
                );
            }
        }
    }

    fn check_threshold(&mut self, e: &Typed, lit: &Typed, span: ast::Span) {
        if let (Some(unit), Some(v)) = (e.unit, lit.number) {
            if !v.is_nan() && !(0.0..=1.0).contains(&v) {
                self.err(
                    Code::THRESHOLD_RANGE,
                    span,
                    format!("{unit} is between 0 and 1, so comparing it with {v} is meaningless"),
                    "outside 0..1",
                    "thresholds are written as fractions: 0.8, not 80".into(),
                );
            }
        }
    }

    /// `intent == name`, `intent != name`.
    fn intent_compare(&mut self, op: AstCmp, b: &ast::Expr, span: ast::Span) -> Typed {
        let id = match &b.kind {
            ExprKind::Path(p) if p.segments.len() == 1 => p
                .segments
                .first()
                .and_then(|n| self.t.resolve_intent(self.file, n, self.diags)),
            _ => {
                self.err(
                    Code::TYPE_MISMATCH,
                    b.span,
                    "`intent` is compared with an intent's name".into(),
                    "not an intent name",
                    "write `intent == NAME` with an intent's name, unquoted".into(),
                );
                None
            }
        };
        let Some(intent) = id else {
            return Typed::error();
        };
        let is = Expr::IntentIs { intent };
        match op {
            AstCmp::Eq => Typed::new(Ty::Bool, is),
            AstCmp::Ne => Typed::new(Ty::Bool, Expr::Not { e: Box::new(is) }),
            _ => {
                self.err(
                    Code::TYPE_MISMATCH,
                    span,
                    format!("intents cannot be ordered with `{}`", op.symbol()),
                    "not orderable",
                    "use `==`, `!=` or `in`".into(),
                );
                Typed::error()
            }
        }
    }

    pub(super) fn membership(
        &mut self,
        negated: bool,
        item: &ast::Expr,
        set: &ast::Expr,
        span: ast::Span,
    ) -> Typed {
        let i = self.expr(item);
        if i.ty == Ty::Intent {
            let names: Vec<&ast::Expr> = match &set.kind {
                ExprKind::Set(v) | ExprKind::List(v) => v.iter().collect(),
                _ => {
                    self.err(
                        Code::TYPE_MISMATCH,
                        set.span,
                        "`intent in` takes a set of intent names".into(),
                        "not a set of intents",
                        "write `intent in {a, b}`".into(),
                    );
                    return Typed::error();
                }
            };
            let mut any = Vec::new();
            for n in names {
                match &n.kind {
                    ExprKind::Path(p) if p.segments.len() == 1 => {
                        if let Some(id) = p
                            .segments
                            .first()
                            .and_then(|n| self.t.resolve_intent(self.file, n, self.diags))
                        {
                            any.push(Expr::IntentIs { intent: id });
                        }
                    }
                    _ => self.err(
                        Code::TYPE_MISMATCH,
                        n.span,
                        "expected an intent name".into(),
                        "not an intent",
                        "write `intent in {a, b}`".into(),
                    ),
                }
            }
            let e = Expr::Or { any };
            return Typed::new(
                Ty::Bool,
                if negated {
                    Expr::Not { e: Box::new(e) }
                } else {
                    e
                },
            );
        }
        let s = self.expr(set);
        self.warn_optional(&i, item.span);
        self.warn_optional(&s, set.span);
        match &s.ty {
            Ty::Set(elem) if !i.ty.comparable(elem) => self.err(
                Code::TYPE_MISMATCH,
                span,
                format!(
                    "cannot look for {} in a set of {}",
                    i.ty.describe(),
                    elem.describe().trim_start_matches("a ")
                ),
                "mismatched types",
                "the value and the set's members must have the same type".into(),
            ),
            Ty::Set(_) | Ty::Unknown => {
                // `caller.name in {"a", "b"}`: each must name an agent.
                self.check_agent_literal(&i, &s, set.span);
                // An enum looked for in literal strings: each must be one of its values.
                if let (
                    Ty::Enum(values),
                    Expr::Lit {
                        value: Value::List(members),
                    },
                ) = (&i.ty, &s.expr)
                {
                    for m in members {
                        if let Value::String(v) = m {
                            if !values.contains(v) {
                                let help = did_you_mean(v, values.iter().map(String::as_str))
                                    .unwrap_or_else(|| {
                                        format!("the values are {}", quoted(values))
                                    });
                                self.err(
                                    Code::TYPE_MISMATCH,
                                    set.span,
                                    format!("\"{v}\" is not one of the values {}", quoted(values)),
                                    "never matches",
                                    help,
                                );
                            }
                        }
                    }
                }
            }
            other => self.err(
                Code::TYPE_MISMATCH,
                set.span,
                format!(
                    "`in` needs a set on its right, but this is {}",
                    other.describe()
                ),
                "not a set",
                "write a set literal `{\"a\", \"b\"}` or name a const set".into(),
            ),
        }
        Typed::new(
            Ty::Bool,
            Expr::In {
                item: Box::new(i.expr),
                set: Box::new(s.expr),
                negated,
            },
        )
    }
}
