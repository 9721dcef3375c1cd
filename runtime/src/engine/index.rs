//! Policy rules filed by the agent and the intent they can apply to, so that checking one
//! candidate looks only at the rules that can match it and `decide` stays flat in the number of
//! rules.
//!
//! A rule whose `when` is, or is an `and` containing, `agent.name == "A"` (or `agent.name in
//! {..}`, or the reverse comparison) and/or `intent == I` (or `intent in {..}`) can only match
//! that agent and/or intent; every other rule is global. Skipping a filed rule for another agent
//! or intent must not change a decision, faults included: `and` evaluates its conjuncts in order
//! and stops at the first false one or the first fault, so a key conjunct is only used when every
//! conjunct before it cannot fault (see [`fault_free`]). Then, for any other agent or intent, the
//! rule's `when` is false without a fault, exactly what skipping it gives.
//!
//! The rules for one (agent, intent) are the global ones, the agent's, the intent's and the
//! pair's; [`Applicable`] walks them merged in plan order, so traces and "first matching rule"
//! answers are the same as a walk over every rule. The engine also keeps, with each candidate of
//! each step, the merged non-global rules for that agent and the step's intent
//! ([`RuleIndex::specific`]), so `decide` walks the global list and that one and looks up
//! nothing.

use crate::plan::{AgentId, CmpOp, Expr, IntentId, Rule, RuleKind, Value};
use std::collections::HashMap;

/// The rules of one kind (forbid, permit, escalate, audit), filed by what they can apply to.
/// Every list holds indexes into `plan.rules`, ascending.
#[derive(Debug, Default)]
pub(crate) struct RuleIndex {
    global: Vec<u32>,
    by_agent: Vec<Vec<u32>>,
    by_intent: Vec<Vec<u32>>,
    /// Per agent: (intent, rules), sorted by intent.
    by_pair: Vec<Vec<(IntentId, Vec<u32>)>>,
}

impl RuleIndex {
    /// Files the rules of `kind`. `agent_names` are the plan's agent names by id.
    pub(crate) fn new(
        rules: &[Rule],
        kind: RuleKind,
        agent_names: &[&str],
        intents: usize,
    ) -> Self {
        let mut ids_by_name: HashMap<&str, Vec<AgentId>> = HashMap::new();
        for (i, n) in agent_names.iter().enumerate() {
            ids_by_name.entry(n).or_default().push(i as AgentId);
        }
        let mut index = RuleIndex {
            global: Vec::new(),
            by_agent: vec![Vec::new(); agent_names.len()],
            by_intent: vec![Vec::new(); intents],
            by_pair: vec![Vec::new(); agent_names.len()],
        };
        for (r, rule) in rules.iter().enumerate().filter(|(_, x)| x.kind == kind) {
            let r = r as u32;
            let keys = rule
                .when
                .as_ref()
                .map_or_else(Keys::default, |w| Keys::of(w, &ids_by_name));
            match (keys.agents, keys.intents) {
                (None, None) => index.global.push(r),
                (Some(agents), None) => {
                    for a in agents {
                        if let Some(v) = index.by_agent.get_mut(a as usize) {
                            v.push(r);
                        }
                    }
                }
                (None, Some(intents)) => {
                    for i in intents {
                        if let Some(v) = index.by_intent.get_mut(i as usize) {
                            v.push(r);
                        }
                    }
                }
                (Some(agents), Some(intents)) => {
                    for a in agents {
                        let Some(pairs) = index.by_pair.get_mut(a as usize) else {
                            continue;
                        };
                        for &i in &intents {
                            match pairs.binary_search_by_key(&i, |(x, _)| *x) {
                                Ok(at) => {
                                    if let Some((_, v)) = pairs.get_mut(at) {
                                        v.push(r);
                                    }
                                }
                                Err(at) => pairs.insert(at, (i, vec![r])),
                            }
                        }
                    }
                }
            }
        }
        index
    }

    /// The rules that can apply to `agent` serving `intent`, in plan order.
    pub(crate) fn applicable(&self, agent: AgentId, intent: IntentId) -> Applicable<'_> {
        let [by_agent, by_intent, by_pair] = self.filed(agent, intent);
        Applicable {
            lists: [&self.global, by_agent, by_intent, by_pair],
        }
    }

    /// The rules filed for `agent`, for `intent` or for the pair — not the global ones — in
    /// plan order: what the engine keeps with each candidate of each step, so that `decide`
    /// looks nothing up.
    pub(crate) fn specific(&self, agent: AgentId, intent: IntentId) -> Box<[u32]> {
        let [by_agent, by_intent, by_pair] = self.filed(agent, intent);
        Applicable {
            lists: [by_agent, by_intent, by_pair, &[]],
        }
        .map(|r| r as u32)
        .collect()
    }

    /// The global rules and `specific` ones (from [`RuleIndex::specific`]), in plan order.
    pub(crate) fn with<'a>(&'a self, specific: &'a [u32]) -> Applicable<'a> {
        Applicable {
            lists: [&self.global, specific, &[], &[]],
        }
    }

    fn filed(&self, agent: AgentId, intent: IntentId) -> [&[u32]; 3] {
        fn slice(v: Option<&Vec<u32>>) -> &[u32] {
            v.map_or(&[], |v| v.as_slice())
        }
        let pair = self.by_pair.get(agent as usize).and_then(|pairs| {
            pairs
                .binary_search_by_key(&intent, |(i, _)| *i)
                .ok()
                .and_then(|at| pairs.get(at))
                .map(|(_, v)| v)
        });
        [
            slice(self.by_agent.get(agent as usize)),
            slice(self.by_intent.get(intent as usize)),
            slice(pair),
        ]
    }
}

/// The merge of up to four ascending rule lists, ascending (each rule is in at most one of them).
pub(crate) struct Applicable<'a> {
    lists: [&'a [u32]; 4],
}

impl Iterator for Applicable<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let mut best: Option<(usize, u32)> = None;
        for (k, list) in self.lists.iter().enumerate() {
            if let Some(&r) = list.first() {
                if best.is_none_or(|(_, b)| r < b) {
                    best = Some((k, r));
                }
            }
        }
        let (k, r) = best?;
        if let Some(list) = self.lists.get_mut(k) {
            *list = list.get(1..).unwrap_or_default();
        }
        Some(r as usize)
    }
}

/// A rule's `when` without the conjuncts the index files it by: what is left to evaluate
/// once the rule is looked at for an agent and intent it is filed under, where those
/// conjuncts are true and cannot fault. `None`: nothing is left, the rule matches.
pub(crate) fn residual(when: &Expr) -> Option<Expr> {
    let mut conjuncts = Vec::new();
    flatten(when, &mut conjuncts);
    let keys = key_positions(&conjuncts);
    let mut rest: Vec<Expr> = conjuncts
        .iter()
        .enumerate()
        .filter(|(i, _)| !keys.contains(i))
        .map(|(_, c)| (*c).clone())
        .collect();
    match rest.len() {
        0 => None,
        1 => rest.pop(),
        _ => Some(Expr::And { all: rest }),
    }
}

/// The positions of the conjuncts a rule is filed by: agent and intent tests before the first
/// conjunct that might fault (a key after it would skip a rule whose evaluation could fault).
fn key_positions(conjuncts: &[&Expr]) -> Vec<usize> {
    let mut keys = Vec::new();
    for (i, c) in conjuncts.iter().enumerate() {
        if agent_key(c).is_some() || intent_key(c).is_some() {
            keys.push(i);
        } else if !fault_free(c) {
            break;
        }
    }
    keys
}

/// The agents and intents a condition restricts a rule to (`None`: any).
#[derive(Debug, Default)]
struct Keys {
    agents: Option<Vec<AgentId>>,
    intents: Option<Vec<IntentId>>,
}

impl Keys {
    fn of(when: &Expr, ids_by_name: &HashMap<&str, Vec<AgentId>>) -> Keys {
        let mut conjuncts = Vec::new();
        flatten(when, &mut conjuncts);
        let mut keys = Keys::default();
        for &i in &key_positions(&conjuncts) {
            let Some(c) = conjuncts.get(i) else {
                continue;
            };
            if let Some(names) = agent_key(c) {
                let mut ids: Vec<AgentId> = names
                    .iter()
                    .filter_map(|n| ids_by_name.get(n))
                    .flatten()
                    .copied()
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                keys.agents = Some(intersect(keys.agents, ids));
            } else if let Some(mut ids) = intent_key(c) {
                ids.sort_unstable();
                ids.dedup();
                keys.intents = Some(intersect(keys.intents, ids));
            }
        }
        keys
    }
}

fn intersect(old: Option<Vec<u32>>, new: Vec<u32>) -> Vec<u32> {
    match old {
        None => new,
        Some(old) => old.into_iter().filter(|x| new.contains(x)).collect(),
    }
}

/// The conjuncts of a condition, in evaluation order (`and`s of `and`s are one `and`).
fn flatten<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::And { all } => all.iter().for_each(|x| flatten(x, out)),
        _ => out.push(e),
    }
}

/// `agent.name == "A"`, `"A" == agent.name`, `agent.name in {"A", ..}`: the names it allows.
fn agent_key(e: &Expr) -> Option<Vec<&str>> {
    fn name(x: &Expr) -> Option<&str> {
        match x {
            Expr::Lit {
                value: Value::String(s),
            } => Some(s.as_str()),
            _ => None,
        }
    }
    match e {
        Expr::Cmp {
            cmp: CmpOp::Eq,
            lhs,
            rhs,
        } => match (&**lhs, &**rhs) {
            (Expr::AgentName, other) | (other, Expr::AgentName) => name(other).map(|n| vec![n]),
            _ => None,
        },
        Expr::In {
            item,
            set,
            negated: false,
        } if matches!(**item, Expr::AgentName) => match &**set {
            // Members that are not strings never equal a name.
            Expr::Lit {
                value: Value::List(members),
            } => Some(
                members
                    .iter()
                    .filter_map(|m| match m {
                        Value::String(s) => Some(s.as_str()),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        },
        _ => None,
    }
}

/// `intent == I`, `intent in {I, ..}` (an `or` of intent tests): the intents it allows.
fn intent_key(e: &Expr) -> Option<Vec<IntentId>> {
    match e {
        Expr::IntentIs { intent } => Some(vec![*intent]),
        Expr::Or { any } => any
            .iter()
            .map(|x| match x {
                Expr::IntentIs { intent } => Some(*intent),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// True when evaluating `e` as a condition of a rule (an agent and the step's data classes at
/// hand) can never fault, whatever the request. Conservative: context fields are not, since
/// `Engine::permitted` may be asked with a context that does not fit the schema.
pub(crate) fn fault_free(e: &Expr) -> bool {
    match e {
        Expr::Lit {
            value: Value::Bool(_),
        }
        | Expr::IntentIs { .. }
        | Expr::Has { .. }
        | Expr::DataTouches { .. }
        | Expr::AgentProvides { .. }
        | Expr::CallerProvides { .. }
        | Expr::HasCaller => true,
        Expr::Not { e } => fault_free(e),
        Expr::And { all } => all.iter().all(fault_free),
        Expr::Or { any } => any.iter().all(fault_free),
        Expr::Cmp { cmp, lhs, rhs } => match cmp {
            CmpOp::Eq | CmpOp::Ne => plain(lhs) && plain(rhs),
            _ => number(lhs) && number(rhs),
        },
        Expr::In { item, set, .. } => {
            plain(item)
                && matches!(
                    **set,
                    Expr::Lit {
                        value: Value::List(_)
                    }
                )
        }
        _ => false,
    }
}

/// An operand whose value never faults.
fn plain(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Lit { .. }
            | Expr::Confidence
            | Expr::Depth
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
    ) || fault_free(e)
}

/// An operand that is always a number, so ordering it never faults.
fn number(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Lit {
            value: Value::Number(_)
        } | Expr::Confidence
            | Expr::Depth
            | Expr::AgentTrust
            | Expr::AgentCost
            // Absent without a caller, and a comparison with absent is false, never a fault.
            | Expr::CallerTrust
    )
}

#[cfg(test)]
#[path = "index_tests.rs"]
mod tests;
