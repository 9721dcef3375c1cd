//! Plan validation: everything the engine assumes of a plan, checked once when it is loaded, so
//! that a plan written by hand (or edited after `intent build`) is refused with a reason instead
//! of being read in a way nobody wrote. The compiler never emits a plan that fails here.
//!
//! What is checked: the format; the stated `plan_hash` against the hash of the content (empty:
//! not stated, computed here); every index in range and every id set sorted; names unique in
//! each table, rule ids unique, step names unique in an arm; the numbers the compiler bounds
//! (trust 0..1, cost at least 0, counts, windows, failures, cooldowns and the delegation depth
//! at least 1); a `plan` arm with at least one step, each step with at least one agent to try,
//! `after` a DAG; an `escalate` with at least one person; a review arm that never dispatches;
//! rules shaped as their kind says (only a `forbid` may omit `when` or have `unless`, exactly the
//! `escalate` rules name people); breakers on agents only; the classifier's calibration (one
//! finite weight per feature, or none; a reference coverage in (0, 1]) and a confidence floor
//! within 0..1.

use super::PlanError;
use crate::plan::{self, Action, Expr, LimitTarget, Plan, RuleKind, Step, Target};
use std::collections::HashSet;

/// Checks the plan; its hash, recomputed from its content, when it is valid.
pub(crate) fn validate(plan: &Plan) -> Result<String, PlanError> {
    if plan.format != plan::FORMAT {
        return Err(PlanError(format!(
            "format {} is not supported (this runtime reads format {})",
            plan.format,
            plan::FORMAT
        )));
    }
    let hash = plan::plan_hash(plan);
    if !plan.plan_hash.is_empty() && plan.plan_hash != hash {
        return Err(PlanError(format!(
            "the stated plan_hash {} is not the hash of the plan's content ({hash}): the plan was \
             changed after it was built; build it again with `intent build`",
            plan.plan_hash
        )));
    }
    names(plan)?;
    numbers(plan)?;
    classifier(&plan.classifier)?;
    indexes(plan)?;
    Ok(hash)
}

fn err<T>(message: String) -> Result<T, PlanError> {
    Err(PlanError(message))
}

/// The first name seen twice in `names`, if any.
fn duplicate<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut seen = HashSet::new();
    names.into_iter().find(|n| !seen.insert(*n))
}

fn unique<'a>(what: &str, names: impl IntoIterator<Item = &'a str>) -> Result<(), PlanError> {
    match duplicate(names) {
        Some(n) => err(format!("two {what} are named `{n}`")),
        None => Ok(()),
    }
}

/// Names are looked up in maps: a second one of the same name would be silently unreachable.
fn names(plan: &Plan) -> Result<(), PlanError> {
    unique(
        "capabilities",
        plan.capabilities.iter().map(|c| c.name.as_str()),
    )?;
    unique(
        "data classes",
        plan.data_classes.iter().map(|d| d.name.as_str()),
    )?;
    unique("agents", plan.agents.iter().map(|a| a.name.as_str()))?;
    unique("humans", plan.humans.iter().map(|h| h.name.as_str()))?;
    unique("intents", plan.intents.iter().map(|i| i.name.as_str()))?;
    unique("rules", plan.rules.iter().map(|r| r.id.as_str()))?;
    for it in &plan.intents {
        for arm in &it.route.arms {
            if let Action::Plan { steps } = &arm.action {
                if let Some(n) = duplicate(steps.iter().map(|s| s.name.as_str())) {
                    return err(format!(
                        "intent {}: two steps of one plan are named `{n}`",
                        it.name
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The bounds the compiler puts on numbers. A rate of 0 or a window of 0 ms would read as no
/// limit at all, a breaker of 0 failures as always open.
/// The calibration the compiler fitted: none (the runtime's prior) or one finite weight per
/// feature; the floor a probability.
fn classifier(c: &plan::ClassifierParams) -> Result<(), PlanError> {
    let n = crate::classifier::index::FEATURES;
    if !(c.weights.is_empty() || c.weights.len() == n) || c.weights.iter().any(|w| !w.is_finite()) {
        return err(format!(
            "the classifier's weights must be {n} finite numbers (or none)"
        ));
    }
    if c.floor.is_some_and(|f| !(0.0..=1.0).contains(&f)) {
        return err("the confidence floor must be between 0 and 1".into());
    }
    if c.coverage.is_some_and(|r| !(r > 0.0 && r <= 1.0)) {
        return err("the classifier's reference coverage must be above 0 and at most 1".into());
    }
    Ok(())
}

fn numbers(plan: &Plan) -> Result<(), PlanError> {
    for a in &plan.agents {
        if !(a.trust.is_finite() && (0.0..=1.0).contains(&a.trust)) {
            return err(format!("agent {}: trust must be between 0 and 1", a.name));
        }
        if !(a.cost.is_finite() && a.cost >= 0.0) {
            return err(format!("agent {}: cost must be at least 0", a.name));
        }
    }
    for r in &plan.limits.rates {
        if r.count == 0 || r.per_ms == 0 {
            return err(format!(
                "a rate limit of {} per {} ms: the count and the window must be at least 1",
                r.count, r.per_ms
            ));
        }
    }
    for b in &plan.limits.breakers {
        if b.failures == 0 || b.cooldown_ms == 0 {
            return err(format!(
                "a breaker of {} failures with a {} ms cooldown: both must be at least 1",
                b.failures, b.cooldown_ms
            ));
        }
        if let LimitTarget::Human(_) = b.target {
            return err("a breaker applies to agents, not to humans".into());
        }
    }
    if plan.limits.delegation_depth == Some(0) {
        return err("the delegation depth must be at least 1".into());
    }
    for h in &plan.humans {
        if h.sla_ms == Some(0) {
            return err(format!("human {}: the sla must be at least 1 ms", h.name));
        }
    }
    Ok(())
}

/// The sizes of the plan's tables, which every index must stay under.
struct Sizes {
    caps: usize,
    data: usize,
    agents: usize,
    humans: usize,
    intents: usize,
    sources: usize,
    /// Per capability: whether some agent provides it.
    provided: Vec<bool>,
}

fn in_range(what: &str, i: u32, n: usize) -> Result<(), PlanError> {
    if (i as usize) < n {
        Ok(())
    } else {
        err(format!("{what} index {i} is out of range (there are {n})"))
    }
}

fn all_in_range(what: &str, v: &[u32], n: usize) -> Result<(), PlanError> {
    v.iter().try_for_each(|i| in_range(what, *i, n))
}

fn sorted(what: &str, v: &[u32]) -> Result<(), PlanError> {
    if v.windows(2).all(|w| w.first() < w.get(1)) {
        Ok(())
    } else {
        err(format!("{what} must be sorted"))
    }
}

/// Every index points into its table, so evaluation never goes out of bounds; and every arm is
/// one the engine can act on.
fn indexes(plan: &Plan) -> Result<(), PlanError> {
    let n = Sizes {
        caps: plan.capabilities.len(),
        data: plan.data_classes.len(),
        agents: plan.agents.len(),
        humans: plan.humans.len(),
        intents: plan.intents.len(),
        sources: plan.source_map.len(),
        provided: {
            let mut p = vec![false; plan.capabilities.len()];
            for c in plan.agents.iter().flat_map(|a| &a.provides) {
                if let Some(x) = p.get_mut(*c as usize) {
                    *x = true;
                }
            }
            p
        },
    };
    for c in &plan.capabilities {
        if let Some(p) = c.parent {
            in_range("capability", p, n.caps)?;
        }
    }
    for d in &plan.data_classes {
        if let Some(p) = d.parent {
            in_range("data class", p, n.data)?;
        }
        all_in_range("data class", &d.covers, n.data)?;
    }
    for a in &plan.agents {
        all_in_range("capability", &a.provides, n.caps)?;
        sorted("an agent's provides", &a.provides)?;
        all_in_range("data class", &a.cleared, n.data)?;
        sorted("an agent's clearance", &a.cleared)?;
        all_in_range("agent", &a.backups, n.agents)?;
        in_range("source", a.src, n.sources)?;
    }
    for h in &plan.humans {
        in_range("source", h.src, n.sources)?;
    }
    for it in &plan.intents {
        all_in_range("capability", &it.requires, n.caps)?;
        all_in_range("data class", &it.handles, n.data)?;
        all_in_range("intent", &it.delegates, n.intents)?;
        in_range("source", it.src, n.sources)?;
        arms(&n, &it.route.arms, true)
            .map_err(|e| PlanError(format!("intent {}: {}", it.name, e.0)))?;
    }
    for r in &plan.rules {
        r.when.as_ref().map_or(Ok(()), |e| expr(e, &n))?;
        r.unless.as_ref().map_or(Ok(()), |e| expr(e, &n))?;
        all_in_range("human", &r.humans, n.humans)?;
        in_range("source", r.src, n.sources)?;
        rule_shape(r)?;
    }
    for r in &plan.reviews {
        if let Some(a) = r.agent {
            in_range("agent", a, n.agents)?;
        }
        in_range("source", r.src, n.sources)?;
        arms(&n, &r.arms, false)?;
    }
    for (target, src) in plan
        .limits
        .rates
        .iter()
        .map(|r| (&r.target, r.src))
        .chain(plan.limits.breakers.iter().map(|b| (&b.target, b.src)))
    {
        match target {
            LimitTarget::Agent(a) => in_range("agent", *a, n.agents)?,
            LimitTarget::Human(h) => in_range("human", *h, n.humans)?,
            LimitTarget::Intent(i) => in_range("intent", *i, n.intents)?,
            LimitTarget::Any => {}
        }
        in_range("source", src, n.sources)?;
    }
    Ok(())
}

/// A rule has the parts its kind has, and only those.
fn rule_shape(r: &plan::Rule) -> Result<(), PlanError> {
    let forbid = r.kind == RuleKind::Forbid;
    if r.when.is_none() && !forbid {
        return err(format!("rule {}: only a forbid may omit `when`", r.id));
    }
    if r.unless.is_some() && !forbid {
        return err(format!("rule {}: only a forbid may have `unless`", r.id));
    }
    if (r.kind == RuleKind::Escalate) == r.humans.is_empty() {
        return err(format!(
            "rule {}: an escalate rule names at least one human, other rules none",
            r.id
        ));
    }
    Ok(())
}

/// The arms of a route (`route`) or a review: conditions, actions and steps.
fn arms(n: &Sizes, arms: &[plan::Arm], route: bool) -> Result<(), PlanError> {
    for arm in arms {
        in_range("source", arm.src, n.sources)?;
        if let Some(w) = &arm.when {
            expr(w, n)?;
        }
        let steps: &[Step] = match &arm.action {
            Action::Dispatch { step } => std::slice::from_ref(step),
            Action::Plan { steps } if steps.is_empty() => {
                return err("a plan arm has no steps".into());
            }
            Action::Plan { steps } => steps,
            Action::Escalate { humans, .. } => {
                if humans.is_empty() {
                    return err("an escalate arm names no human".into());
                }
                all_in_range("human", humans, n.humans)?;
                &[]
            }
            Action::Redact { data } => {
                all_in_range("data class", data, n.data)?;
                &[]
            }
            Action::Clarify { .. } | Action::Deny { .. } | Action::Pass => &[],
        };
        if !route && !steps.is_empty() {
            return err("a review arm cannot dispatch".into());
        }
        for s in steps {
            step(n, s, steps.len())?;
        }
        after_is_a_dag(steps)?;
    }
    Ok(())
}

fn step(n: &Sizes, s: &Step, nsteps: usize) -> Result<(), PlanError> {
    for t in std::iter::once(&s.target).chain(&s.fallbacks) {
        match t {
            Target::Agent(a) => in_range("agent", *a, n.agents)?,
            Target::Any(c) => in_range("capability", *c, n.caps)?,
        }
    }
    all_in_range("step", &s.after, nsteps)?;
    all_in_range("capability", &s.needs, n.caps)?;
    all_in_range("data class", &s.handles, n.data)?;
    in_range("source", s.src, n.sources)?;
    // A step no agent can ever be tried for: its target and fallbacks are all `any CAP` that
    // no agent provides.
    let has_agent = std::iter::once(&s.target)
        .chain(&s.fallbacks)
        .any(|t| match t {
            Target::Agent(_) => true,
            Target::Any(c) => n.provided.get(*c as usize) == Some(&true),
        });
    if !has_agent {
        return err(format!("step {} has no agent to try", s.name));
    }
    Ok(())
}

/// `after` orders the steps of one plan without a cycle (a step waiting for itself, directly
/// or not, could never run). Kahn's algorithm: linear in steps and edges.
fn after_is_a_dag(steps: &[Step]) -> Result<(), PlanError> {
    let mut waiting: Vec<usize> = steps.iter().map(|s| s.after.len()).collect();
    let mut unblocks: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
    for (i, s) in steps.iter().enumerate() {
        for &a in &s.after {
            if let Some(u) = unblocks.get_mut(a as usize) {
                u.push(i);
            }
        }
    }
    let mut ready: Vec<usize> = (0..steps.len())
        .filter(|i| waiting.get(*i) == Some(&0))
        .collect();
    let mut done = 0;
    while let Some(i) = ready.pop() {
        done += 1;
        for &j in unblocks.get(i).into_iter().flatten() {
            if let Some(w) = waiting.get_mut(j) {
                *w = w.saturating_sub(1);
                if *w == 0 {
                    ready.push(j);
                }
            }
        }
    }
    if done == steps.len() {
        Ok(())
    } else {
        err("the steps' `after` form a cycle".into())
    }
}

fn expr(e: &Expr, n: &Sizes) -> Result<(), PlanError> {
    let sorted_in = |v: &[u32], what: &str| {
        all_in_range(what, v, n.data)?;
        sorted(&format!("a {what} set"), v)
    };
    match e {
        Expr::IntentIs { intent } => in_range("intent", *intent, n.intents),
        Expr::AgentProvides { cap } | Expr::CallerProvides { cap } => {
            in_range("capability", *cap, n.caps)
        }
        Expr::DataTouches { any } | Expr::ResponseDataTouches { any } => {
            sorted_in(any, "data class")
        }
        Expr::Not { e } => expr(e, n),
        Expr::And { all: v } | Expr::Or { any: v } => v.iter().try_for_each(|x| expr(x, n)),
        Expr::Cmp { lhs, rhs, .. } => expr(lhs, n).and(expr(rhs, n)),
        Expr::In { item, set, .. } => expr(item, n).and(expr(set, n)),
        Expr::Lit { .. }
        | Expr::Confidence
        | Expr::Depth
        | Expr::Field { .. }
        | Expr::Has { .. }
        | Expr::AgentTrust
        | Expr::AgentCost
        | Expr::AgentRegion
        | Expr::AgentZone
        | Expr::AgentName
        | Expr::AgentLabel { .. }
        | Expr::CallerName
        | Expr::CallerTrust
        | Expr::CallerRegion
        | Expr::CallerZone
        | Expr::CallerLabel { .. }
        | Expr::HasCaller
        | Expr::ResponseConfidence => Ok(()),
    }
}
