//! Over-alignment: an intent no request can ever get dispatched to an agent, because every
//! arm that can be taken denies, clarifies or escalates, or has a step no candidate can take
//! (none is authorized for any request reaching it), or a step whose every authorized agent
//! triggers an escalation rule. And per step, an `any CAPABILITY` no permitted agent fills.

use super::policy::StepAt;
use super::region::Region;
use super::{Finding, Space};
use intent_runtime::plan::{Action, IntentId, Target};

fn agent_name(space: &Space<'_>, a: u32) -> String {
    space
        .plan
        .agents
        .get(a as usize)
        .map_or("?".into(), |x| x.name.clone())
}

fn rule_id(space: &Space<'_>, k: usize) -> String {
    space.plan.rules.get(k).map_or("?".into(), |r| r.id.clone())
}

/// Why no candidate of a step is ever authorized, or `None` when one may be.
fn unfillable(space: &Space<'_>, st: &StepAt<'_>) -> Option<Vec<String>> {
    if st.candidates.is_empty() {
        return Some(vec!["no agent provides what it needs".into()]);
    }
    let mut why = Vec::new();
    for s in &st.sites {
        match &s.allowed {
            Some(r) if r.is_empty() => {}
            _ => return None,
        }
        let name = agent_name(space, s.agent);
        if !s.cleared && s.permits.is_empty() {
            why.push(format!(
                "{name} is not cleared for its data and no permit applies"
            ));
        } else {
            let ids: Vec<String> = s
                .forbids
                .iter()
                .take(3)
                .map(|(k, _)| rule_id(space, *k))
                .collect();
            let more = match s.forbids.len() {
                n if n > 3 => format!(" and {} more", n - 3),
                _ => String::new(),
            };
            why.push(format!(
                "{name} is always forbidden ({}{more})",
                ids.join(", ")
            ));
        }
    }
    if why.len() > 4 {
        let n = why.len() - 3;
        why.truncate(3);
        why.push(format!("{n} more agents likewise"));
    }
    Some(why)
}

/// The escalation rules that fire whenever any authorized candidate takes the step.
fn always_escalates(space: &Space<'_>, st: &StepAt<'_>) -> Option<Vec<String>> {
    let mut ids = Vec::new();
    for s in &st.sites {
        let allowed = s.allowed.as_ref()?;
        if allowed.is_empty() {
            continue;
        }
        // Many rules at once: too costly to prove, so the step may dispatch (no claim).
        if s.escalates.is_empty() || !s.overflow.is_empty() {
            return None;
        }
        let esc = Region::union_of(s.escalates.iter().map(|(_, r)| &**r));
        if allowed.within(&esc, &space.domains) != Some(true) {
            return None;
        }
        for (k, r) in &s.escalates {
            let id = rule_id(space, *k);
            if r.meets(allowed) && !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    (!ids.is_empty()).then_some(ids)
}

/// The `any CAPABILITY` steps among `steps` whose providers are never authorized.
pub fn unfillable_any(space: &Space<'_>, steps: &[StepAt<'_>], out: &mut Vec<Finding>) {
    let plan = space.plan;
    for st in steps {
        if let Target::Any(cap) = st.step.target {
            let takers: Vec<_> = st
                .sites
                .iter()
                .filter(|s| {
                    plan.agents
                        .get(s.agent as usize)
                        .is_some_and(|a| a.provides.binary_search(&cap).is_ok())
                })
                .collect();
            let none = takers
                .iter()
                .all(|s| s.allowed.as_ref().is_some_and(Region::is_empty));
            if none && !takers.is_empty() {
                out.push(Finding::AnyUnfillable {
                    src: st.step.src,
                    step: st.step.name.clone(),
                    cap: plan
                        .capabilities
                        .get(cap as usize)
                        .map_or("?".into(), |c| c.name.clone()),
                    providers: takers.len(),
                });
            }
        }
    }
}

/// Whether intent `i` is over-aligned, given the region each of its arms is taken in
/// (`reach`) and its steps.
pub fn over_aligned(
    space: &Space<'_>,
    i: IntentId,
    reach: &[Region],
    steps: &[StepAt<'_>],
) -> Option<Finding> {
    let plan = space.plan;
    let it = plan.intents.get(i as usize)?;
    let mut reasons = Vec::new();
    let mut dispatches = false;
    for (a, arm) in it.route.arms.iter().enumerate() {
        let n = a + 1;
        if reach.get(a).is_none_or(Region::is_empty) {
            reasons.push(format!("arm {n} is never taken"));
            continue;
        }
        match &arm.action {
            Action::Deny { .. } => reasons.push(format!("arm {n} denies")),
            Action::Clarify { .. } => reasons.push(format!("arm {n} asks to clarify")),
            Action::Escalate { humans, .. } => {
                let who: Vec<String> = humans
                    .iter()
                    .filter_map(|h| plan.humans.get(*h as usize).map(|x| x.name.clone()))
                    .collect();
                reasons.push(format!("arm {n} escalates to {}", who.join(", ")));
            }
            Action::Pass | Action::Redact { .. } => {
                reasons.push(format!("arm {n} is not a route action"))
            }
            Action::Dispatch { .. } | Action::Plan { .. } => {
                let mine: Vec<&StepAt<'_>> = steps
                    .iter()
                    .filter(|s| s.intent == i && s.arm == a)
                    .collect();
                if let Some((st, why)) = mine
                    .iter()
                    .find_map(|s| unfillable(space, s).map(|w| (s, w)))
                {
                    reasons.push(format!(
                        "arm {n}: no agent can take step `{}` ({})",
                        st.step.name,
                        why.join("; ")
                    ));
                } else if let Some((st, ids)) = mine
                    .iter()
                    .find_map(|s| always_escalates(space, s).map(|w| (s, w)))
                {
                    reasons.push(format!(
                        "arm {n}: every agent that can take step `{}` triggers {}",
                        st.step.name,
                        ids.join(", ")
                    ));
                } else {
                    dispatches = true;
                    break;
                }
            }
        }
    }
    (!dispatches && !it.route.arms.is_empty())
        .then_some(Finding::OverAligned { intent: i, reasons })
}
