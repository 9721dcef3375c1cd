//! The entries of blocks: agent, human and intent fields, route and review arms with their
//! actions, plan steps, policy rules, limits, and the `given`/`expect` lines of tests.
//!
//! A line break the source puts before `when`, `unless`, `because` or `fallback` is kept, the
//! keyword two columns past the line it continues.

use super::block::{block, body, keyed, plain, Align, Entry};
use super::expr::{self, bracketed, comma_line, name, path, target, LIST, RECORD};
use super::writer::Writer;
use crate::syntax::ast::*;

pub(super) fn agent_field(f: &AgentField) -> Entry<'_> {
    let span = f.span();
    let kw = f.keyword();
    match f {
        AgentField::Provides(v, _) | AgentField::Clearance(v, _) => {
            keyed(kw, span, move |w| comma_line(w, v, path))
        }
        AgentField::Trust(e, _)
        | AgentField::Region(e, _)
        | AgentField::Endpoint(e, _)
        | AgentField::Cost(e, _) => keyed(kw, span, move |w| expr::expr(w, e)),
        AgentField::ProtocolEndpoint(p, e, _) => keyed(kw, span, move |w| {
            name(w, p);
            w.space();
            expr::expr(w, e);
        }),
        AgentField::Zone(n, _) => keyed(kw, span, move |w| name(w, n)),
        AgentField::Backup(v, _) => keyed(kw, span, move |w| comma_line(w, v, name)),
        AgentField::Labels(v, _) => keyed(kw, span, move |w| {
            let b = body(w, span.start as usize, span);
            bracketed(
                w,
                &RECORD,
                b,
                v,
                |(k, v)| k.span.to(v.span),
                |w, (k, v)| {
                    name(w, k);
                    w.put(":");
                    w.space();
                    expr::expr(w, v);
                },
            );
        }),
    }
}

pub(super) fn human_field(f: &HumanField) -> Entry<'_> {
    match f {
        HumanField::Channel(e, span) => keyed("channel", *span, move |w| expr::expr(w, e)),
        HumanField::Sla(e, span) => keyed("sla", *span, move |w| expr::expr(w, e)),
    }
}

pub(super) fn intent_field(f: &IntentField) -> Entry<'_> {
    let span = f.span();
    let kw = f.keyword();
    match f {
        IntentField::Description(e, _) | IntentField::Tool(e, _) => {
            keyed(kw, span, move |w| expr::expr(w, e))
        }
        IntentField::Examples(v, _) => keyed(kw, span, move |w| {
            let open = w
                .find(span.start as usize, "[")
                .unwrap_or(span.start as usize);
            let b = Span::new(open, span.end as usize);
            bracketed(w, &LIST, b, v, |e| e.span, expr::expr);
        }),
        IntentField::Requires(v, _) | IntentField::Handles(v, _) => {
            keyed(kw, span, move |w| comma_line(w, v, path))
        }
        IntentField::Delegates(v, _) => keyed(kw, span, move |w| comma_line(w, v, name)),
        IntentField::Input(v, _) | IntentField::Output(v, _) => keyed(kw, span, move |w| {
            expr::schema(w, body(w, span.start as usize, span), v)
        }),
    }
}

// ------------------------------------------------------------------ routes and reviews

pub(super) const FIELDS: Align = Align::Keys { gap: 1 };
pub(super) const ARROWS: Align = Align::Keys { gap: 2 };

/// A review arm: `when COND => ACTION`, never aligned.
pub(super) fn arm(a: &Arm) -> Entry<'_> {
    plain(a.span, move |w| {
        let at = a.span.start as usize;
        match &a.condition {
            Some(c) => {
                w.tok("when", Span::new(at, at + 4));
                w.space();
                expr::expr(w, c);
            }
            None => w.tok("otherwise", Span::new(at, at + 9)),
        }
        w.space();
        arrow_action(w, a);
    })
}

/// A route arm: consecutive one-line `when` arms line up their `=>`.
pub(super) fn route_arm(a: &Arm) -> Entry<'_> {
    match &a.condition {
        Some(c) => Entry {
            span: a.span,
            key: Some(Box::new(move |w| {
                let at = a.span.start as usize;
                w.tok("when", Span::new(at, at + 4));
                w.space();
                expr::expr(w, c);
            })),
            rest: Box::new(move |w| arrow_action(w, a)),
        },
        None => arm(a),
    }
}

fn arrow_action(w: &mut Writer, a: &Arm) {
    w.put("=>");
    w.space();
    action(w, &a.action);
}

/// Puts a space, or the line break the source has before the keyword at `at`.
fn keyword(w: &mut Writer, text: &str, at: usize) {
    let col = w.indent + 2;
    if w.broken_before(at) {
        w.cont_line(at, col);
    } else {
        w.space();
    }
    let hang = w.hang.replace(col);
    w.tok(text, Span::new(at, at + text.len()));
    w.hang = hang;
}

fn because(w: &mut Writer, b: &Option<(String, Span)>) {
    if let Some((_, s)) = b {
        let at = w.token_before(s.start as usize).map_or(0, |t| t.0);
        keyword(w, "because", at);
        w.space();
        w.tok(w.text_of(*s), *s);
    }
}

fn action(w: &mut Writer, a: &Action) {
    let at = a.span().start as usize;
    let kw = a.keyword();
    let span = a.span();
    if !matches!(a, Action::Error { .. }) {
        w.tok(kw, Span::new(at, at + kw.len()));
    }
    match a {
        Action::Dispatch {
            target: t,
            fallbacks,
            ..
        } => {
            w.space();
            target(w, t);
            if let Some(first) = fallbacks.first() {
                let at = w
                    .token_before(first.span().start as usize)
                    .map_or(0, |t| t.0);
                keyword(w, "fallback", at);
                w.space();
                comma_line(w, fallbacks, target);
            }
        }
        Action::Plan { steps, .. } => {
            let entries: Vec<Entry> = steps.iter().map(step).collect();
            block(w, body(w, at, span), &entries, FIELDS);
        }
        Action::Escalate {
            humans, because: b, ..
        } => {
            w.space();
            comma_line(w, humans, name);
            because(w, b);
        }
        Action::Clarify { question, .. } => {
            w.space();
            w.tok(w.text_of(question.1), question.1);
        }
        Action::Deny { because: b, .. } => because(w, b),
        Action::Pass { .. } => {}
        Action::Redact { data, .. } => {
            w.space();
            comma_line(w, data, path);
        }
        Action::Error { span } => w.tok(w.text_of(*span), *span),
    }
}

fn step(s: &Step) -> Entry<'_> {
    Entry {
        span: s.span,
        key: Some(Box::new(move |w| {
            name(w, &s.name);
            w.put(":");
        })),
        rest: Box::new(move |w| {
            target(w, &s.target);
            for m in &s.modifiers {
                w.gap();
                match m {
                    StepModifier::After(v, sp) => {
                        w.tok("after", *sp);
                        w.space();
                        comma_line(w, v, name);
                    }
                    StepModifier::Fallback(v, sp) => {
                        w.tok("fallback", *sp);
                        w.space();
                        comma_line(w, v, target);
                    }
                    StepModifier::Needs(v, sp) => {
                        w.tok("needs", *sp);
                        w.space();
                        comma_line(w, v, path);
                    }
                    StepModifier::Handles(v, sp) => {
                        w.tok("handles", *sp);
                        w.space();
                        comma_line(w, v, path);
                    }
                }
            }
        }),
    }
}

// ------------------------------------------------------------------ policies

pub(super) fn rule(r: &Rule) -> Entry<'_> {
    plain(r.span, move |w| {
        let at = r.span.start as usize;
        let when = |w: &mut Writer, e: &Expr| {
            let kw_at = w.token_before(e.span.start as usize).map_or(0, |t| t.0);
            keyword(w, "when", kw_at);
            w.space();
            expr::expr(w, e);
        };
        match &r.kind {
            RuleKind::Forbid { when: c, unless } => {
                w.tok("forbid", Span::new(at, at + 6));
                if let Some(c) = c {
                    when(w, c);
                }
                if let Some(u) = unless {
                    let kw_at = w.token_before(u.span.start as usize).map_or(0, |t| t.0);
                    keyword(w, "unless", kw_at);
                    w.space();
                    expr::expr(w, u);
                }
            }
            RuleKind::Permit { when: c } => {
                w.tok("permit", Span::new(at, at + 6));
                when(w, c);
            }
            RuleKind::Escalate { humans, when: c } => {
                w.tok("escalate", Span::new(at, at + 8));
                w.space();
                comma_line(w, humans, name);
                when(w, c);
            }
            RuleKind::RequireAudit { when: c } => {
                w.tok("require", Span::new(at, at + 7));
                w.space();
                w.put("audit");
                when(w, c);
            }
            RuleKind::Error => w.tok(w.text_of(r.span), r.span),
        }
        because(w, &r.because);
    })
}

// ------------------------------------------------------------------ limits

pub(super) fn limit(l: &Limit) -> Entry<'_> {
    match l {
        Limit::DelegationDepth(n, span) => plain(*span, move |w| {
            let at = span.start as usize;
            w.tok("delegation", Span::new(at, at + 10));
            w.space();
            w.put("depth");
            w.space();
            expr::expr(w, n);
        }),
        Limit::Rate {
            target: t,
            count,
            per,
            span,
        } => plain(*span, move |w| {
            let at = span.start as usize;
            w.tok("rate", Span::new(at, at + 4));
            w.space();
            target(w, t);
            w.space();
            expr::expr(w, count);
            w.space();
            w.put("per");
            w.space();
            expr::expr(w, per);
        }),
        Limit::IntentRate {
            intent,
            count,
            per,
            each,
            span,
        } => plain(*span, move |w| {
            let at = span.start as usize;
            w.tok("rate", Span::new(at, at + 4));
            w.space();
            w.put("intent");
            w.space();
            name(w, intent);
            w.space();
            expr::expr(w, count);
            w.space();
            w.put("per");
            w.space();
            expr::expr(w, per);
            if let Some(e) = each {
                w.space();
                w.put("per");
                w.space();
                name(w, e);
            }
        }),
        Limit::Breaker {
            target: t,
            failures,
            cooldown,
            span,
        } => plain(*span, move |w| {
            let at = span.start as usize;
            w.tok("breaker", Span::new(at, at + 7));
            w.space();
            target(w, t);
            w.space();
            expr::expr(w, failures);
            w.space();
            w.put("failures");
            w.space();
            w.put("cooldown");
            w.space();
            expr::expr(w, cooldown);
        }),
        Limit::Floor {
            subject,
            value,
            span,
        } => plain(*span, move |w| {
            w.tok(&subject.text, subject.span);
            w.space();
            w.put("floor");
            w.space();
            expr::expr(w, value);
        }),
        Limit::Error(span) => plain(*span, move |w| w.tok(w.text_of(*span), *span)),
    }
}

// ------------------------------------------------------------------ tests

pub(super) fn test_entries<'t>(w: &Writer, t: &'t TestDecl) -> Vec<Entry<'t>> {
    let mut out = Vec::new();
    if let Some(g) = &t.given {
        let at = w.token_before(g.span.start as usize).map_or(0, |t| t.0);
        let span = Span::new(at, g.span.end as usize);
        out.push(keyed("given", span, move |w| expr::expr(w, g)));
    }
    for line in &t.scene {
        out.push(plain(line.span, move |w| scene_line(w, line)));
    }
    for e in &t.expects {
        out.push(plain(e.span, move |w| expectation(w, e)));
    }
    out
}

/// `given 20 uses of refund_bot within 1m`, one space between words.
fn scene_line(w: &mut Writer, line: &SceneLine) {
    let at = line.span.start as usize;
    w.tok("given", Span::new(at, at + 5));
    w.space();
    w.tok(w.text_of(line.count.1), line.count.1);
    w.space();
    w.put(if line.failures { "failures" } else { "uses" });
    w.space();
    w.put("of");
    w.space();
    name(w, &line.subject);
    w.space();
    w.put("within");
    w.space();
    w.tok(w.text_of(line.within.1), line.within.1);
}

fn expectation(w: &mut Writer, e: &Expectation) {
    let at = e.span.start as usize;
    w.tok("expect", Span::new(at, at + 6));
    w.space();
    if e.negated {
        w.put("not");
        w.space();
    }
    let word = |w: &mut Writer, text: &str| {
        let at = w.find(at + 6, text).unwrap_or(at);
        w.tok(text, Span::new(at, at + text.len()));
    };
    match &e.kind {
        ExpectKind::Dispatch(n) => {
            word(w, "dispatch");
            w.space();
            name(w, n);
        }
        ExpectKind::Plan(pairs) => {
            word(w, "plan");
            w.space();
            let b = body(w, at, e.span);
            bracketed(
                w,
                &RECORD,
                b,
                pairs,
                |(a, b)| a.span.to(b.span),
                |w, (a, b)| {
                    name(w, a);
                    w.put(":");
                    w.space();
                    name(w, b);
                },
            );
        }
        ExpectKind::Escalate(n) => {
            word(w, "escalate");
            w.space();
            name(w, n);
        }
        ExpectKind::Intent(n) => {
            word(w, "intent");
            w.space();
            name(w, n);
        }
        ExpectKind::Redact(p) => {
            word(w, "redact");
            w.space();
            path(w, p);
        }
        ExpectKind::Clarify => word(w, "clarify"),
        ExpectKind::Deny(reason) => {
            word(w, "deny");
            because(w, reason);
        }
        ExpectKind::Throttle => word(w, "throttle"),
        ExpectKind::Audit => word(w, "audit"),
        ExpectKind::Pass => word(w, "pass"),
        ExpectKind::Unnamed(text) => word(w, text),
    }
}
