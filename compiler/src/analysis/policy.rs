//! Policy sites: every (step, candidate agent) pair a request can reach, with the region of
//! requests that reach it (its arm's condition minus the earlier arms'), and per site the
//! regions where each rule matches and where the agent is authorized (Cedar's meaning:
//! cleared or permitted, and no forbid).

use super::lower::Site;
use super::prepare::{prepare, reads, Rules};
use super::region::{Exact, Region};
use super::routes;
use super::Space;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// How many permits, and how many escalation rules, a site keeps with their regions.
pub const MAX_PER_SITE: usize = 16;
use intent_runtime::plan::{self, Action, AgentId, IntentId, Plan, RuleKind, Step};

/// One step of one arm of one route.
pub struct StepAt<'p> {
    pub intent: IntentId,
    pub arm: usize,
    pub step: &'p Step,
    /// Agents that may take the step (target, fallbacks, backups) and provide what it needs.
    pub candidates: Vec<AgentId>,
    /// Each candidate's site, in the order of `candidates`; sites alike in everything the
    /// rules can see are one shared value.
    pub sites: Vec<Rc<SiteRegions>>,
}

/// What the rules say at one (step, agent) site, within the requests that reach the step.
pub struct SiteRegions {
    pub agent: AgentId,
    pub cleared: bool,
    /// Rule index and where it matches (reach included). Shared: most sites of an arm hold
    /// the same region for a rule, and copying (then freeing) it per site dominated the cost.
    pub forbids: Vec<(usize, Rc<Region>)>,
    /// The forbids' regions, each once: forbids whose regions are equal share one value, and
    /// subtracting a region a second time changes nothing, so only these are subtracted.
    pub forbidden: Vec<Rc<Region>>,
    pub permits: Vec<(usize, Rc<Region>)>,
    pub escalates: Vec<(usize, Rc<Region>)>,
    /// Permits and escalation rules that also apply here beyond the first
    /// [`MAX_PER_SITE`] of each kind, kept without their regions: the site makes no claim
    /// about them (they count as alive, and the agent as possibly permitted).
    pub overflow: Vec<usize>,
    /// Where the agent is authorized; `None` when too large to compute (treat as possible).
    pub allowed: Option<Region>,
    /// Some forbid holds for every request reaching the site: the agent is never authorized
    /// here, whatever the permits say, and no region work is needed to know it.
    pub closed: bool,
}

/// For each intent of `which`, the region each arm is taken in; an arm whose exact region is
/// too large to compute keeps its own condition (more than it is: sound for "never" claims).
pub fn reaches(space: &mut Space<'_>, which: &[IntentId]) -> Vec<Vec<Region>> {
    let plan = space.plan;
    which
        .iter()
        .map(|&i| {
            let Some(it) = plan.intents.get(i as usize) else {
                return Vec::new();
            };
            let site = Site {
                intent: i,
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

/// Every agent that may take the step and provides what it needs: the runtime's candidates
/// (`plan::candidates`, so the analysis looks at exactly the agents `decide` tries), without
/// those that lack a capability the step needs.
fn candidates(plan: &Plan, providers: &[Vec<AgentId>], step: &Step) -> Vec<AgentId> {
    let mut out = plan::candidates::candidates(plan, providers, step);
    out.retain(|a| {
        plan.agents.get(*a as usize).is_some_and(|ag| {
            step.needs
                .iter()
                .all(|n| ag.provides.binary_search(n).is_ok())
        })
    });
    out
}

/// Every reachable step of the intents `which` (`reach` is theirs, in the same order) with
/// its sites.
///
/// What the rules say at a site depends only on the agent, the step's data classes, the
/// region of requests reaching the step and (where a rule reads it) the intent, so sites
/// alike in those are worked out once and shared: on a large mesh, the same agent takes
/// steps handling the same data in many intents whose arms are taken in the same region.
pub fn steps<'p>(
    space: &mut Space<'p>,
    which: &[IntentId],
    reach: &[Vec<Region>],
) -> Vec<StepAt<'p>> {
    let plan: &'p Plan = space.plan;
    let mut prepared = prepare(space);
    let providers = plan::candidates::providers(plan);
    let by_intent = plan.rules.iter().any(|r| {
        r.when.as_ref().is_some_and(|w| reads(w).intent)
            || r.unless.as_ref().is_some_and(|u| reads(u).intent)
    });
    // Arm regions, numbered by value.
    let mut regions: HashMap<Exact<&Region>, usize> = HashMap::new();
    // The requests a rule can match within an arm's region: the same for every step and
    // candidate of every arm taken in that region, so worked out once per rule and region.
    // Indexed by region number, then rule.
    let mut within: Vec<Within> = Vec::new();
    let mut done: HashMap<SiteKey, Rc<SiteRegions>> = HashMap::new();
    // Steps' sets of data classes, numbered.
    let mut classes: HashMap<&'p [u32], usize> = HashMap::new();
    let mut out = Vec::new();
    for (&i, arms) in which.iter().zip(reach) {
        let Some(it) = plan.intents.get(i as usize) else {
            continue;
        };
        for (a, arm) in it.route.arms.iter().enumerate() {
            let steps: &[Step] = match &arm.action {
                Action::Dispatch { step } => std::slice::from_ref(step),
                Action::Plan { steps } => steps,
                _ => continue,
            };
            let Some(r) = arms.get(a) else {
                continue;
            };
            if r.is_empty() {
                continue;
            }
            let n = regions.len();
            let region = *regions.entry(Exact(r)).or_insert(n);
            if within.len() <= region {
                within.push(Within {
                    by_rule: vec![None; plan.rules.len()],
                    by_value: HashSet::new(),
                    allowed: HashMap::new(),
                });
            }
            for step in steps {
                let n = classes.len();
                let data = *classes.entry(step.handles.as_slice()).or_insert(n);
                let candidates = candidates(plan, &providers, step);
                let sites = candidates
                    .iter()
                    .map(|g| {
                        let key = SiteKey {
                            intent: by_intent.then_some(i),
                            region,
                            agent: *g,
                            data,
                        };
                        if let Some(s) = done.get(&key) {
                            return Rc::clone(s);
                        }
                        let s = Rc::new(site(
                            space,
                            &mut prepared,
                            &mut within,
                            (region, r),
                            i,
                            step,
                            *g,
                        ));
                        done.insert(key, Rc::clone(&s));
                        s
                    })
                    .collect();
                out.push(StepAt {
                    intent: i,
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

/// Where each rule can match within one arm's region, worked out on first use; rules whose
/// regions there are equal share one value.
struct Within {
    by_rule: Vec<Option<Rc<Region>>>,
    by_value: HashSet<Exact<Rc<Region>>>,
    /// Where the agent of a site is authorized, by what that depends on.
    allowed: HashMap<AllowedKey, Option<Region>>,
}

impl Within {
    fn get(&mut self, k: usize, make: impl FnOnce() -> Region) -> Rc<Region> {
        if let Some(Some(r)) = self.by_rule.get(k) {
            return Rc::clone(r);
        }
        let key = Exact(Rc::new(make()));
        let r = match self.by_value.get(&key) {
            Some(kept) => Rc::clone(&kept.0),
            None => {
                let r = Rc::clone(&key.0);
                self.by_value.insert(key);
                r
            }
        };
        if let Some(slot) = self.by_rule.get_mut(k) {
            *slot = Some(Rc::clone(&r));
        }
        r
    }
}

/// Regions kept once each, by address: while they are few they are compared in turn, past
/// that they are hashed (a site holds ~38 forbids on the bench mesh, a handful distinct).
#[derive(Default)]
struct Distinct {
    seen: HashSet<*const Region>,
}

impl Distinct {
    /// Adds `r` to `list` unless it is there already; whether it was added.
    fn add(&mut self, list: &mut Vec<Rc<Region>>, r: &Rc<Region>) -> bool {
        const FEW: usize = 16;
        if list.len() < FEW {
            if list.iter().any(|x| Rc::ptr_eq(x, r)) {
                return false;
            }
            list.push(Rc::clone(r));
            return true;
        }
        if self.seen.is_empty() {
            self.seen.extend(list.iter().map(Rc::as_ptr));
        }
        if !self.seen.insert(Rc::as_ptr(r)) {
            return false;
        }
        list.push(Rc::clone(r));
        true
    }
}

/// Everything a site's regions depend on.
#[derive(PartialEq, Eq, Hash)]
struct SiteKey {
    /// Only when some rule reads the intent.
    intent: Option<IntentId>,
    /// The arm's region, numbered by value.
    region: usize,
    agent: AgentId,
    /// The step's data classes, numbered.
    data: usize,
}

fn site(
    space: &mut Space<'_>,
    prepared: &mut Rules<'_>,
    within: &mut [Within],
    (region, reach): (usize, &Region),
    intent: IntentId,
    step: &Step,
    g: AgentId,
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
        forbidden: Vec::new(),
        permits: Vec::new(),
        escalates: Vec::new(),
        overflow: Vec::new(),
        allowed: None,
        closed: false,
    };
    let lists = prepared.at(space, g, &step.handles, cleared);
    let mut distinct = Distinct::default();
    // Forbids and permits first, then where the agent is authorized; escalation rules only
    // matter where it is, so a site no agent is ever authorized at skips them.
    for (pass, list) in lists.iter().enumerate() {
        if pass == 1 {
            let memo = within.get_mut(region).map(|w| &mut w.allowed);
            s.allowed = allowed(plan, &s, cleared, reach, space, memo);
            if s.allowed.as_ref().is_some_and(Region::is_empty) {
                break;
            }
        }
        for &k in list {
            let (Some(rule), Some(pre)) = (plan.rules.get(k), prepared.rules.get(k)) else {
                continue;
            };
            // Parts that read the site are true or false here; one that faults is lowered (opaque).
            let mut unsure = Vec::new();
            let mut holds = true;
            for p in &pre.site_parts {
                match space.at_site(p, at) {
                    Some(true) => {}
                    Some(false) => holds = false,
                    None => unsure.push(*p),
                }
            }
            if !holds {
                continue;
            }
            let full = match rule.kind {
                RuleKind::Permit => s.permits.len() >= MAX_PER_SITE,
                RuleKind::Escalate => s.escalates.len() >= MAX_PER_SITE,
                _ => false,
            };
            if full && unsure.is_empty() && pre.mixed.is_empty() && !pre.request.is_empty() {
                // Its region is not kept: only that it may apply here.
                s.overflow.push(k);
                continue;
            }
            let base = match within.get_mut(region) {
                Some(w) => w.get(k, || matching(space, reach, &pre.request, k)),
                None => Rc::new(matching(space, reach, &pre.request, k)),
            };
            let when = if unsure.is_empty() && pre.mixed.is_empty() {
                base
            } else {
                let mut when = (*base).clone();
                for p in unsure.iter().chain(&pre.mixed) {
                    if when.is_empty() {
                        break;
                    }
                    let part = space.lower(p, true, at);
                    when = matching(space, &when, &part, k);
                }
                Rc::new(when)
            };
            if when.is_empty() {
                continue;
            }
            match rule.kind {
                RuleKind::Forbid => {
                    let r = match (&rule.unless, &pre.unless_fails) {
                        (None, _) => when,
                        (Some(_), Some(fails)) => Rc::new(matching(space, &when, fails, k)),
                        (Some(u), None) => {
                            let fails = space.lower(u, false, at);
                            Rc::new(matching(space, &when, &fails, k))
                        }
                    };
                    if !r.is_empty() {
                        if distinct.add(&mut s.forbidden, &r) {
                            s.closed = s.closed || *r == *reach;
                        }
                        s.forbids.push((k, r));
                    }
                }
                RuleKind::Permit if s.permits.len() >= MAX_PER_SITE => s.overflow.push(k),
                RuleKind::Escalate if s.escalates.len() >= MAX_PER_SITE => s.overflow.push(k),
                RuleKind::Permit => s.permits.push((k, when)),
                RuleKind::Escalate => s.escalates.push((k, when)),
                RuleKind::RequireAudit => {}
            }
        }
    }
    s
}

/// Where rule `k` matches within `reach`: `reach` and `cond` both, or, when that product is
/// too large to build, `reach` and an independent boolean standing for "rule `k` applies
/// here" (never larger than `reach`). The boolean makes the site claim nothing about the rule
/// that depends on where exactly it matches.
fn matching(space: &mut Space<'_>, reach: &Region, cond: &Region, k: usize) -> Region {
    match reach.intersect(cond) {
        Some(r) => r,
        None => reach.restrict(&space.opaque_cube(format!("rule {k}"), true)),
    }
}

/// Where the agent of a site is authorized: cleared (or granted by a permit), and no forbid.
/// Sites of one arm region granted and forbidden by the same (shared) regions are authorized
/// alike: worked out once, in `memo`.
fn allowed(
    plan: &Plan,
    s: &SiteRegions,
    cleared: bool,
    reach: &Region,
    space: &Space<'_>,
    memo: Option<&mut HashMap<AllowedKey, Option<Region>>>,
) -> Option<Region> {
    // Every region granted lies within the reach, which a forbid covers.
    if s.closed {
        return Some(Region::empty());
    }
    let permits_overflow = s.overflow.iter().any(|k| {
        plan.rules
            .get(*k)
            .is_some_and(|r| r.kind == RuleKind::Permit)
    });
    let whole = cleared || permits_overflow;
    let key: AllowedKey = (
        (!whole).then(|| {
            s.permits
                .iter()
                .map(|(_, r)| ByAddr(Rc::clone(r)))
                .collect()
        }),
        s.forbidden.iter().map(|r| ByAddr(Rc::clone(r))).collect(),
    );
    if let Some(known) = memo.as_ref().and_then(|m| m.get(&key)) {
        return known.clone();
    }
    let granted = if whole {
        reach.cubes.clone()
    } else {
        s.permits
            .iter()
            .flat_map(|(_, r)| r.cubes.iter().cloned())
            .collect()
    };
    let forbidden = s.forbidden.iter().flat_map(|r| &r.cubes);
    let out = Region::minus(granted, forbidden, &space.domains);
    if let Some(m) = memo {
        m.insert(key, out.clone());
    }
    out
}

/// A shared region named by its address; the key holds it, so the address is not reused
/// while the key exists.
#[derive(Clone)]
struct ByAddr(Rc<Region>);

impl PartialEq for ByAddr {
    fn eq(&self, o: &ByAddr) -> bool {
        Rc::ptr_eq(&self.0, &o.0)
    }
}

impl Eq for ByAddr {}

impl Hash for ByAddr {
    fn hash<H: Hasher>(&self, h: &mut H) {
        Rc::as_ptr(&self.0).hash(h);
    }
}

/// What a site's authorization depends on within one arm region: the permits' regions (none:
/// the whole reach is granted) and the distinct forbid regions, in order.
type AllowedKey = (Option<Vec<ByAddr>>, Vec<ByAddr>);
