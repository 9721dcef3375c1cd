//! Who may take a step, in the order `decide` tries them (docs/concepts.md, "`fallback` and
//! `backup`"): the target (for `any CAP`, every provider of the capability, best first), the
//! fallbacks in order, then the backups of the agents named so far, backups of backups too.
//! One definition for the engine and for the compiler's decision-space analysis.

use super::{AgentId, Plan, Step, Target};
use std::collections::HashSet;

/// For each capability (by id), the agents providing it, best first: the order `any CAP`
/// tries them in (trust descending, then cost ascending, then name).
pub fn providers(plan: &Plan) -> Vec<Vec<AgentId>> {
    let mut providers: Vec<Vec<AgentId>> = vec![Vec::new(); plan.capabilities.len()];
    for (i, a) in plan.agents.iter().enumerate() {
        for c in &a.provides {
            if let Some(p) = providers.get_mut(*c as usize) {
                p.push(i as AgentId);
            }
        }
    }
    for p in &mut providers {
        p.sort_by(|x, y| {
            let (a, b) = (&plan.agents[*x as usize], &plan.agents[*y as usize]);
            b.trust
                .total_cmp(&a.trust)
                .then(a.cost.total_cmp(&b.cost))
                .then(a.name.cmp(&b.name))
        });
    }
    providers
}

/// The agents that may take `step`, each once, in the order they are tried ([`providers`]
/// gives `providers`). Only agents named (as the target, a fallback or a backup) bring their
/// backups; the providers of an `any` target do not. Whether each provides what the step needs
/// is left to the caller.
pub fn candidates(plan: &Plan, providers: &[Vec<AgentId>], step: &Step) -> Vec<AgentId> {
    let mut order: Vec<AgentId> = Vec::new();
    let mut named: Vec<AgentId> = Vec::new();
    // Each agent once, in the order first met; the set keeps this linear in the providers of
    // a capability.
    let mut seen: HashSet<AgentId> = HashSet::new();
    for t in std::iter::once(&step.target).chain(&step.fallbacks) {
        match t {
            Target::Agent(a) => {
                named.push(*a);
                if seen.insert(*a) {
                    order.push(*a);
                }
            }
            Target::Any(c) => {
                for a in providers.get(*c as usize).into_iter().flatten() {
                    if seen.insert(*a) {
                        order.push(*a);
                    }
                }
            }
        }
    }
    let mut i = 0;
    while let Some(&a) = named.get(i) {
        for &b in plan
            .agents
            .get(a as usize)
            .map(|x| x.backups.as_slice())
            .unwrap_or(&[])
        {
            if seen.insert(b) {
                order.push(b);
                named.push(b);
            }
        }
        i += 1;
    }
    order
}
