//! Routes and reviews: whether a route's arms cover every request (with a counterexample the
//! runtime confirms when they do not), and which arms earlier arms always cover.

use super::lower::Site;
use super::region::Region;
use super::witness;
use super::{Finding, Space};
use intent_runtime::decision::{Outcome, TraceWhat};
use intent_runtime::plan::{Arm, IntentId};
use intent_runtime::Engine;

/// How many uncovered cubes are tried before giving up on a confirmed counterexample.
const MAX_TRIES: usize = 16;

/// The region of each arm's condition (`otherwise` is everything).
pub fn conditions(space: &mut Space<'_>, arms: &[Arm], site: Site<'_>) -> Vec<Region> {
    arms.iter()
        .map(|a| match &a.when {
            Some(w) => space.lower(w, true, site),
            None => Region::all(),
        })
        .collect()
}

/// Union of regions.
pub fn union(rs: &[Region]) -> Region {
    rs.iter()
        .fold(Region::empty(), |acc, r| acc.union(r.clone()))
}

/// Arms that can never be taken: `(arm index, covering arm indexes, condition never holds)`.
pub fn dead_arms(space: &Space<'_>, conds: &[Region]) -> Vec<(usize, Vec<usize>, bool)> {
    let mut out = Vec::new();
    for (i, c) in conds.iter().enumerate() {
        if c.is_empty() {
            out.push((i, Vec::new(), true));
            continue;
        }
        let earlier = conds.get(..i).unwrap_or_default();
        if earlier.is_empty() {
            continue;
        }
        if c.within(&union(earlier), &space.domains) == Some(true) {
            let mut by: Vec<usize> = earlier
                .iter()
                .enumerate()
                .filter(|(_, e)| e.meets(c))
                .map(|(j, _)| j)
                .collect();
            // Name a minimal cover: drop every arm the others already make unnecessary.
            for j in by.clone().into_iter().rev() {
                let rest: Vec<Region> = by
                    .iter()
                    .filter(|k| **k != j)
                    .filter_map(|k| earlier.get(*k).cloned())
                    .collect();
                if c.within(&union(&rest), &space.domains) == Some(true) {
                    by.retain(|k| *k != j);
                }
            }
            out.push((i, by, false));
        }
    }
    out
}

/// The route of `intent`: dead arms, and coverage when it has no `otherwise`.
pub fn route(
    space: &mut Space<'_>,
    engine: &mut Lazy<'_>,
    intent: IntentId,
    out: &mut Vec<Finding>,
) {
    let Some(it) = space.plan.intents.get(intent as usize) else {
        return;
    };
    let arms = &it.route.arms;
    let site = Site {
        intent,
        agent: None,
        data: &[],
    };
    let conds = conditions(space, arms, site);
    for (i, by, never) in dead_arms(space, &conds) {
        if let Some(arm) = arms.get(i) {
            out.push(Finding::DeadArm {
                src: arm.src,
                whose: format!("route `{}`", it.name),
                arm: i,
                otherwise: arm.when.is_none(),
                covered_by: by
                    .iter()
                    .filter_map(|j| arms.get(*j).map(|a| (*j, a.src)))
                    .collect(),
                never,
            });
        }
    }
    if arms.iter().any(|a| a.when.is_none()) || arms.is_empty() {
        return;
    }
    match Region::all().subtract(&union(&conds), &space.domains) {
        None => out.push(Finding::RouteUnproved { intent }),
        Some(rest) if rest.is_empty() => {}
        Some(rest) => {
            let found = rest.cubes.iter().take(MAX_TRIES).find_map(|cube| {
                let p = witness::point(cube)?;
                let req = witness::request(intent, &p, space)?;
                engine.falls_through(&req, arms.len()).then(|| {
                    let arm = witness::condition(cube, &p, space);
                    let mut example = witness::describe(&p);
                    if example.is_empty() {
                        example = witness::given_text(&req);
                    }
                    (req, example, arm)
                })
            });
            match found {
                Some((request, example, arm)) => out.push(Finding::RouteUncovered {
                    intent,
                    request,
                    example,
                    arm,
                    regions: rest.cubes.len(),
                }),
                None => out.push(Finding::RouteUnproved { intent }),
            }
        }
    }
}

/// An engine built on first use: most plans never need one.
pub struct Lazy<'p> {
    plan: &'p intent_runtime::plan::Plan,
    engine: Option<Option<Engine>>,
}

impl<'p> Lazy<'p> {
    pub fn new(plan: &'p intent_runtime::plan::Plan) -> Lazy<'p> {
        Lazy { plan, engine: None }
    }

    pub fn get(&mut self) -> Option<&Engine> {
        self.engine
            .get_or_insert_with(|| Engine::from_plan(self.plan.clone()).ok())
            .as_ref()
    }

    /// Whether the runtime, on `req`, looks at all `arms` arms of its route and takes none.
    pub fn falls_through(&mut self, req: &intent_runtime::request::Request, arms: usize) -> bool {
        let Some(e) = self.get() else {
            return false;
        };
        let d = e.decide_at(req, 0);
        // An entry per arm looked at; a run the index ruled out is one entry for its arms.
        let (mut looked, mut taken) = (0, false);
        for t in &d.trace {
            match &t.what {
                TraceWhat::Arm { .. } => {
                    looked += 1;
                    taken |= t.matched;
                }
                TraceWhat::Arms { first, last, .. } => looked += (last + 1).saturating_sub(*first),
                _ => {}
            }
        }
        d.outcome == Outcome::Deny && looked == arms && !taken
    }
}

/// The reviews: arms that earlier arms of the same review always cover (for `review any`,
/// at every agent).
pub fn reviews(space: &mut Space<'_>, out: &mut Vec<Finding>) {
    let plan = space.plan;
    for rv in &plan.reviews {
        let who = rv
            .agent
            .and_then(|a| plan.agents.get(a as usize))
            .map_or("any".to_string(), |a| a.name.clone());
        let agents: Vec<_> = match rv.agent {
            Some(a) => plan.agents.get(a as usize).into_iter().collect(),
            None => plan.agents.iter().collect(),
        };
        // Per arm: dead at every site so far, and the arms that covered it.
        let mut verdict: Vec<Option<(Vec<usize>, bool)>> = vec![None; rv.arms.len()];
        for (n, agent) in agents.iter().enumerate() {
            let site = Site {
                intent: u32::MAX,
                agent: Some(agent),
                data: &[],
            };
            let conds = conditions(space, &rv.arms, site);
            let dead = dead_arms(space, &conds);
            for (i, v) in verdict.iter_mut().enumerate() {
                let here = dead.iter().find(|(j, _, _)| *j == i);
                *v = match (n, v.take(), here) {
                    (0, _, Some((_, by, never))) => Some((by.clone(), *never)),
                    (_, Some((mut by, never)), Some((_, more, nv))) => {
                        for m in more {
                            if !by.contains(m) {
                                by.push(*m);
                            }
                        }
                        by.sort_unstable();
                        Some((by, never && *nv))
                    }
                    _ => None,
                };
            }
        }
        for (i, v) in verdict.into_iter().enumerate() {
            let (Some((by, never)), Some(arm)) = (v, rv.arms.get(i)) else {
                continue;
            };
            out.push(Finding::DeadArm {
                src: arm.src,
                whose: format!("review `{who}`"),
                arm: i,
                otherwise: arm.when.is_none(),
                covered_by: by
                    .iter()
                    .filter_map(|j| rv.arms.get(*j).map(|a| (*j, a.src)))
                    .collect(),
                never,
            });
        }
    }
}
