//! Policy sites: every (step, candidate agent) pair a request can reach, with the region of
//! requests that reach it (its arm's condition minus the earlier arms'), and per site the
//! regions where each rule matches and where the agent is authorized (Cedar's meaning:
//! cleared or permitted, and no forbid).

use super::lower::Site;
use super::region::Region;
use super::routes;
use super::Space;
use intent_runtime::plan::{Action, AgentId, IntentId, Plan, RuleKind, Step, Target};

/// One step of one arm of one route.
pub struct StepAt<'p> {
    pub intent: IntentId,
    pub arm: usize,
    pub step: &'p Step,
    /// Agents that may take the step (target, fallbacks, backups) and provide what it needs.
    pub candidates: Vec<AgentId>,
    /// Each candidate's site, in the order of `candidates`.
    pub sites: Vec<SiteRegions>,
}

/// What the rules say at one (step, agent) site, within the requests that reach the step.
pub struct SiteRegions {
    pub agent: AgentId,
    pub cleared: bool,
    /// Rule index and where it matches (reach included).
    pub forbids: Vec<(usize, Region)>,
    pub permits: Vec<(usize, Region)>,
    pub escalates: Vec<(usize, Region)>,
    /// Where the agent is authorized; `None` when too large to compute (treat as possible).
    pub allowed: Option<Region>,
}

/// Per intent, the region each arm is taken in; an arm whose exact region is too large to
/// compute keeps its own condition (more than it is: sound for "never" claims).
pub fn reaches(space: &mut Space<'_>) -> Vec<Vec<Region>> {
    let plan = space.plan;
    plan.intents
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let site = Site {
                intent: i as IntentId,
                agent: None,
                data: &[],
            };
            let conds = routes::conditions(space, &it.route.arms, site);
            let mut before = Region::empty();
            conds
                .iter()
                .map(|c| {
                    let r = c
                        .subtract(&before, &space.domains)
                        .unwrap_or_else(|| c.clone());
                    before = std::mem::take(&mut before).union(c.clone());
                    r
                })
                .collect()
        })
        .collect()
}

/// Every agent that may take the step, in no particular order, that provides what it needs.
pub fn candidates(plan: &Plan, step: &Step) -> Vec<AgentId> {
    let mut out: Vec<AgentId> = Vec::new();
    let push = |a: AgentId, out: &mut Vec<AgentId>| {
        if !out.contains(&a) {
            out.push(a);
        }
    };
    for t in std::iter::once(&step.target).chain(&step.fallbacks) {
        match t {
            Target::Agent(a) => push(*a, &mut out),
            Target::Any(c) => {
                for (i, a) in plan.agents.iter().enumerate() {
                    if a.provides.binary_search(c).is_ok() {
                        push(i as AgentId, &mut out);
                    }
                }
            }
        }
    }
    let mut k = 0;
    while let Some(a) = out.get(k).copied() {
        if let Some(agent) = plan.agents.get(a as usize) {
            for b in &agent.backups {
                push(*b, &mut out);
            }
        }
        k += 1;
    }
    out.retain(|a| {
        plan.agents.get(*a as usize).is_some_and(|ag| {
            step.needs
                .iter()
                .all(|n| ag.provides.binary_search(n).is_ok())
        })
    });
    out
}

/// Every reachable step with its sites.
pub fn steps<'p>(space: &mut Space<'p>, reach: &[Vec<Region>]) -> Vec<StepAt<'p>> {
    let plan: &'p Plan = space.plan;
    let mut out = Vec::new();
    for (i, it) in plan.intents.iter().enumerate() {
        for (a, arm) in it.route.arms.iter().enumerate() {
            let steps: &[Step] = match &arm.action {
                Action::Dispatch { step } => std::slice::from_ref(step),
                Action::Plan { steps } => steps,
                _ => continue,
            };
            let Some(r) = reach.get(i).and_then(|x| x.get(a)) else {
                continue;
            };
            if r.is_empty() {
                continue;
            }
            for step in steps {
                let candidates = candidates(plan, step);
                let sites = candidates
                    .iter()
                    .map(|g| site(space, i as IntentId, step, *g, r))
                    .collect();
                out.push(StepAt {
                    intent: i as IntentId,
                    arm: a,
                    step,
                    candidates,
                    sites,
                });
            }
        }
    }
    out
}

fn site(
    space: &mut Space<'_>,
    intent: IntentId,
    step: &Step,
    g: AgentId,
    reach: &Region,
) -> SiteRegions {
    let plan = space.plan;
    let agent = plan.agents.get(g as usize);
    let cleared = agent.is_some_and(|ag| {
        step.handles
            .iter()
            .all(|d| ag.cleared.binary_search(d).is_ok())
    });
    let at = Site {
        intent,
        agent,
        data: &step.handles,
    };
    let mut s = SiteRegions {
        agent: g,
        cleared,
        forbids: Vec::new(),
        permits: Vec::new(),
        escalates: Vec::new(),
        allowed: None,
    };
    for (k, rule) in plan.rules.iter().enumerate() {
        let when = match &rule.when {
            Some(w) => space.lower(w, true, at),
            None => Region::all(),
        };
        let when = when.intersect(reach);
        if when.is_empty() {
            continue;
        }
        match rule.kind {
            RuleKind::Forbid => {
                let r = match &rule.unless {
                    Some(u) => when.intersect(&space.lower(u, false, at)),
                    None => when,
                };
                if !r.is_empty() {
                    s.forbids.push((k, r));
                }
            }
            RuleKind::Permit => s.permits.push((k, when)),
            RuleKind::Escalate => s.escalates.push((k, when)),
            RuleKind::RequireAudit => {}
        }
    }
    let granted = if cleared {
        reach.clone()
    } else {
        routes::union(&s.permits.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>())
    };
    let forbidden = routes::union(&s.forbids.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>());
    s.allowed = granted.subtract(&forbidden, &space.domains);
    s
}
