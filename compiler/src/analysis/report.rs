//! Findings as diagnostics: codes, messages naming what covers what, and help lines.

use super::Finding;
use crate::codes::Code;
use crate::diagnostics::Diagnostic;
use crate::syntax::ast::Span;
use intent_runtime::plan::{IntentId, Plan, SrcId};

/// Where plan items are in the sources: by source id, and each route's head.
pub struct Places<'a> {
    pub src: &'a dyn Fn(SrcId) -> Option<(String, Span)>,
    pub route: &'a dyn Fn(IntentId) -> Option<(String, Span)>,
}

fn ordinal(n: usize) -> String {
    format!("arm {}", n + 1)
}

/// `a`, `a and b`, `a, b and c`; past four items, the first three and how many more.
fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [a, b, c, _, _, ..] => format!("{a}, {b}, {c} and {} more", items.len() - 3),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// At most this many related places are shown under a diagnostic.
const MAX_SECONDARY: usize = 3;

pub fn diagnostics(plan: &Plan, findings: &[Finding], at: &Places<'_>) -> Vec<Diagnostic> {
    let rule = |k: usize| plan.rules.get(k);
    let rule_ids = |ks: &[usize]| -> Vec<String> {
        ks.iter()
            .filter_map(|k| rule(*k).map(|r| format!("`{}`", r.id)))
            .collect()
    };
    let intent_name = |i: IntentId| {
        plan.intents
            .get(i as usize)
            .map_or("?", |x| x.name.as_str())
    };
    let mut out = Vec::new();
    for f in findings {
        let d = match f {
            Finding::RouteUncovered {
                intent,
                example,
                arm,
                regions,
                ..
            } => {
                let Some((file, span)) = (at.route)(*intent) else {
                    continue;
                };
                let name = intent_name(*intent);
                let more = if *regions > 1 {
                    format!(" ({} uncovered regions; this is one)", regions)
                } else {
                    String::new()
                };
                let help = match arm.as_deref() {
                    Some(c) if !c.is_empty() => format!(
                        "add an arm for it, e.g. `when {c} => ...`, or end the arms with `otherwise => ...`"
                    ),
                    _ => "end the arms with `otherwise => ...`".into(),
                };
                Diagnostic::new(
                    Code::ROUTE_NOT_COVERED,
                    &file,
                    span,
                    format!(
                        "route `{name}` does not cover every request: no arm matches {example}"
                    ),
                )
                .with_label(format!("no arm matches {example}{more}"))
                .with_help(help)
            }
            Finding::RouteUnproved { intent } => {
                let Some((file, span)) = (at.route)(*intent) else {
                    continue;
                };
                Diagnostic::new(
                    Code::ROUTE_UNPROVED,
                    &file,
                    span,
                    format!(
                        "route `{}` has no `otherwise` and its arms could not be proved to cover every request",
                        intent_name(*intent)
                    ),
                )
                .with_label("the analysis cannot show that some arm always matches")
                .with_help("end the arms with `otherwise => ...`")
            }
            Finding::DeadArm {
                src,
                whose,
                arm,
                otherwise,
                covered_by,
                never,
            } => {
                let Some((file, span)) = (at.src)(*src) else {
                    continue;
                };
                let what = if *otherwise {
                    format!("`otherwise` of {whose}")
                } else {
                    format!("{} of {whose}", ordinal(*arm))
                };
                let (message, label) = if *never {
                    (
                        format!("{what} can never match: its condition never holds"),
                        "never holds".to_string(),
                    )
                } else {
                    let by: Vec<String> = covered_by.iter().map(|(j, _)| ordinal(*j)).collect();
                    (
                        format!(
                            "{what} is never taken: {} always {} first",
                            list(&by),
                            if by.len() == 1 { "matches" } else { "match" }
                        ),
                        format!("covered by {}", list(&by)),
                    )
                };
                let mut d = Diagnostic::new(Code::DEAD_ARM, &file, span, message)
                    .with_label(label)
                    .with_help(if *otherwise {
                        "the arms above cover every request: remove this `otherwise`"
                    } else {
                        "remove the arm, or narrow the earlier arms so it can be reached"
                    });
                for (j, s) in covered_by.iter().take(MAX_SECONDARY) {
                    if let Some((f2, sp)) = (at.src)(*s) {
                        d = d.with_secondary(&f2, sp, format!("{} matches first", ordinal(*j)));
                    }
                }
                d
            }
            Finding::PermitOverridden { rule: k, by } => {
                let Some((file, span)) = rule(*k).and_then(|r| (at.src)(r.src)) else {
                    continue;
                };
                let id = rule(*k).map_or("?", |r| r.id.as_str());
                let mut d = Diagnostic::new(
                    Code::PERMIT_OVERRIDDEN,
                    &file,
                    span,
                    format!(
                        "permit `{id}` never grants anything: {} always overrides it",
                        list(&rule_ids(by))
                    ),
                )
                .with_label("always overridden")
                .with_help("a forbid wins over every permit: add the exception to the forbid's `unless`, or remove this permit");
                for b in by.iter().take(MAX_SECONDARY) {
                    if let Some((f2, sp)) = rule(*b).and_then(|r| (at.src)(r.src)) {
                        d = d.with_secondary(&f2, sp, "this forbid wins");
                    }
                }
                d
            }
            Finding::PermitGrantsNothing { rule: k, by } => {
                let Some((file, span)) = rule(*k).and_then(|r| (at.src)(r.src)) else {
                    continue;
                };
                let id = rule(*k).map_or("?", |r| r.id.as_str());
                let why = if by.is_empty() {
                    "wherever it holds, the agent is already cleared for the step's data"
                        .to_string()
                } else {
                    format!(
                        "{} already {} everything it does",
                        list(&rule_ids(by)),
                        if by.len() == 1 { "grants" } else { "grant" }
                    )
                };
                let mut d = Diagnostic::new(
                    Code::PERMIT_GRANTS_NOTHING,
                    &file,
                    span,
                    format!("permit `{id}` never grants anything: {why}"),
                )
                .with_label("grants nothing new")
                .with_help(
                    "remove this permit, or widen it to the agents and data it was meant for",
                );
                for b in by.iter().take(MAX_SECONDARY) {
                    if let Some((f2, sp)) = rule(*b).and_then(|r| (at.src)(r.src)) {
                        d = d.with_secondary(&f2, sp, "covers it");
                    }
                }
                d
            }
            Finding::EscalateNeverFires { rule: k, by } => {
                let Some((file, span)) = rule(*k).and_then(|r| (at.src)(r.src)) else {
                    continue;
                };
                let id = rule(*k).map_or("?", |r| r.id.as_str());
                let why = if by.is_empty() {
                    "its condition never holds where an authorized agent takes a step".to_string()
                } else {
                    format!(
                        "{} always {} first",
                        list(&rule_ids(by)),
                        if by.len() == 1 { "fires" } else { "fire" }
                    )
                };
                let mut d = Diagnostic::new(
                    Code::ESCALATE_NEVER_FIRES,
                    &file,
                    span,
                    format!("escalation rule `{id}` never fires: {why}"),
                )
                .with_label("never fires")
                .with_help("remove the rule, or fix its condition");
                for b in by.iter().take(MAX_SECONDARY) {
                    if let Some((f2, sp)) = rule(*b).and_then(|r| (at.src)(r.src)) {
                        d = d.with_secondary(&f2, sp, "fires first");
                    }
                }
                d
            }
            Finding::OverAligned { intent, reasons } => {
                let Some((file, span)) = (at.route)(*intent) else {
                    continue;
                };
                Diagnostic::new(
                    Code::OVER_ALIGNED,
                    &file,
                    span,
                    format!(
                        "no request to intent `{}` can ever be dispatched to an agent: {}",
                        intent_name(*intent),
                        reasons.join("; ")
                    ),
                )
                .with_label("over-aligned: every path denies, clarifies or escalates")
                .with_help(
                    "relax the policies or clearances that stop it, or add an arm that dispatches",
                )
            }
            Finding::AnyUnfillable {
                src,
                step,
                cap,
                providers,
            } => {
                let Some((file, span)) = (at.src)(*src) else {
                    continue;
                };
                Diagnostic::new(
                    Code::ANY_UNFILLABLE,
                    &file,
                    span,
                    if *providers == 1 {
                        format!(
                            "no permitted agent can ever fill step `{step}`: the only agent providing `{cap}` is never authorized for it"
                        )
                    } else {
                        format!(
                            "no permitted agent can ever fill step `{step}`: none of the {providers} agents providing `{cap}` is ever authorized for it"
                        )
                    },
                )
                .with_label(format!("`any {cap}` is never filled"))
                .with_help("give a provider clearance for the step's data, or a permit, or narrow the forbid that refuses them")
            }
        };
        out.push(d);
    }
    out
}
