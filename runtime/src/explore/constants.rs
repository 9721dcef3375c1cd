//! What the conditions of two plans compare each request variable against: the constants that
//! cut its cells. Operands that do not come from the request (literals, every agent's trust,
//! cost, region, zone, name and labels, the caller's included) give constants; a rule that can
//! never apply to the intent's steps (it needs data they do not handle) gives none.

use crate::engine::fault_free;
use crate::plan::{DataId, Expr, Plan, Rule, Value};
use std::collections::{BTreeMap, BTreeSet};

/// What the conditions of two plans say about the request variables of one intent.
#[derive(Default)]
pub(super) struct Constants {
    pub(super) confidence: Vec<f64>,
    pub(super) depth: Vec<f64>,
    pub(super) depth_read: bool,
    /// Per context path: the numbers and strings compared with it, and the list members
    /// looked for in it.
    pub(super) numbers: BTreeMap<Vec<String>, Vec<f64>>,
    pub(super) strings: BTreeMap<Vec<String>, BTreeSet<String>>,
    /// Paths read by a condition (`has` included).
    pub(super) read: BTreeSet<Vec<String>>,
    /// Whether a condition reads the caller (`caller.*`, `has caller`).
    pub(super) caller_read: bool,
}

/// The rules of `plan` that can apply to a step of `intent`, in plan order: a rule that needs
/// `data touches` classes no step of the intent handles never does.
pub fn applicable_rules<'p>(plan: &'p Plan, intent: &str) -> Vec<&'p Rule> {
    let handled: BTreeSet<DataId> = plan
        .intents
        .iter()
        .filter(|i| i.name == intent)
        .flat_map(|i| &i.route.arms)
        .flat_map(|arm| arm.action.steps())
        .flat_map(|step| step.handles.iter().copied())
        .collect();
    plan.rules
        .iter()
        .filter(|r| can_apply(r, &handled))
        .collect()
}

/// False when the rule can never match (nor fault) on a step handling only `handled`: its
/// `when` is a conjunction in which `data touches ..` of other classes comes after conjuncts
/// that cannot fault. (`decide` evaluates `unless` only when `when` holds.)
fn can_apply(rule: &Rule, handled: &BTreeSet<DataId>) -> bool {
    fn conjuncts<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
        match e {
            Expr::And { all } => all.iter().for_each(|x| conjuncts(x, out)),
            other => out.push(other),
        }
    }
    let Some(when) = &rule.when else {
        return true;
    };
    let mut all = Vec::new();
    conjuncts(when, &mut all);
    for c in all {
        if let Expr::DataTouches { any } = c {
            if !handled.iter().any(|d| any.binary_search(d).is_ok()) {
                return false;
            }
        }
        if !fault_free(c) {
            return true;
        }
    }
    true
}

/// The constants an operand can take in `plan` that do not come from the request.
fn operand_values(e: &Expr, plan: &Plan) -> Vec<Value> {
    match e {
        Expr::Lit { value } => vec![value.clone()],
        // The caller is one of the agents (its cells are cut apart in `space`): a field
        // compared with one of its attributes is cut at every agent's value, as for `agent`.
        Expr::AgentTrust | Expr::CallerTrust => {
            plan.agents.iter().map(|a| Value::Number(a.trust)).collect()
        }
        Expr::AgentCost => plan.agents.iter().map(|a| Value::Number(a.cost)).collect(),
        Expr::AgentRegion | Expr::CallerRegion => plan
            .agents
            .iter()
            .map(|a| Value::String(a.region.clone()))
            .collect(),
        Expr::AgentZone | Expr::CallerZone => plan
            .agents
            .iter()
            .map(|a| Value::String(a.zone.clone()))
            .collect(),
        Expr::AgentName | Expr::CallerName => plan
            .agents
            .iter()
            .map(|a| Value::String(a.name.clone()))
            .collect(),
        Expr::AgentLabel { key } | Expr::CallerLabel { key } => plan
            .agents
            .iter()
            .filter_map(|a| a.labels.get(key).cloned())
            .collect(),
        _ => Vec::new(),
    }
}

/// Adds `v` (and a list's members) to what `var` is compared with.
fn add(var: &Expr, v: &Value, k: &mut Constants) {
    match (var, v) {
        (_, Value::List(items)) => items.iter().for_each(|i| add(var, i, k)),
        (Expr::Confidence, Value::Number(n)) => k.confidence.push(*n),
        (Expr::Depth, Value::Number(n)) => k.depth.push(*n),
        (Expr::Field { path }, Value::Number(n)) => {
            k.numbers.entry(path.clone()).or_default().push(*n)
        }
        (Expr::Field { path }, Value::String(s)) => {
            k.strings.entry(path.clone()).or_default().insert(s.clone());
        }
        _ => {}
    }
}

fn is_var(e: &Expr) -> bool {
    matches!(e, Expr::Confidence | Expr::Depth | Expr::Field { .. })
}

pub(super) fn collect(e: &Expr, plan: &Plan, k: &mut Constants) {
    match e {
        Expr::Field { path } | Expr::Has { path } => {
            k.read.insert(path.clone());
        }
        Expr::Depth => k.depth_read = true,
        Expr::CallerName
        | Expr::CallerTrust
        | Expr::CallerRegion
        | Expr::CallerZone
        | Expr::CallerLabel { .. }
        | Expr::CallerProvides { .. }
        | Expr::HasCaller => k.caller_read = true,
        _ => {}
    }
    match e {
        Expr::Not { e } => collect(e, plan, k),
        Expr::And { all: xs } | Expr::Or { any: xs } => xs.iter().for_each(|x| collect(x, plan, k)),
        Expr::Cmp { lhs, rhs, .. }
        | Expr::In {
            item: lhs,
            set: rhs,
            ..
        } => {
            collect(lhs, plan, k);
            collect(rhs, plan, k);
            for (var, other) in [(&**lhs, &**rhs), (&**rhs, &**lhs)] {
                if is_var(var) {
                    for v in operand_values(other, plan) {
                        add(var, &v, k);
                    }
                }
            }
        }
        _ => {}
    }
}
