//! Evaluation of plan expressions. Total: every expression yields a boolean or a fault, and a
//! fault is never read as "allowed" by the caller. Comparisons with an absent optional field
//! are false (docs/reference/expressions.md), exactly as the generated Cedar guards them with `has`.

use crate::litset::{Probe, Sets, SET_MIN};
use crate::plan::{Agent, CmpOp, DataId, Expr, IntentId, Plan, Value};
use serde_json::{Map, Value as Json};

/// What an expression can read.
pub struct Env<'r> {
    pub context: &'r Map<String, Json>,
    pub confidence: f64,
    pub depth: u32,
    pub intent: IntentId,
    /// The agent being checked (policies, reviews).
    pub agent: Option<&'r Agent>,
    /// The verified calling agent, resolved once per decision from the request's caller: `None`
    /// for an anonymous caller or one that is not an agent of the plan, and then every `caller`
    /// operand is absent (docs/reference/expressions.md, "The caller").
    pub caller: Option<&'r Agent>,
    /// The data classes of the step being checked (policies).
    pub data: &'r [DataId],
    /// The response being reviewed: its confidence (if it gave one) and data classes.
    pub response: Option<(Option<f64>, &'r [DataId])>,
}

/// A runtime fault: the request does not fit the plan (a missing field, a wrong type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault(pub String);

/// An evaluated operand.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum V<'r> {
    Bool(bool),
    Num(f64),
    Str(&'r str),
    List(Vec<V<'r>>),
    /// An optional field that is not there.
    Absent,
}

pub(crate) fn from_json(j: &Json) -> Result<V<'_>, Fault> {
    Ok(match j {
        Json::Bool(b) => V::Bool(*b),
        Json::Number(n) => V::Num(n.as_f64().unwrap_or(f64::NAN)),
        Json::String(s) => V::Str(s),
        Json::Array(a) => V::List(a.iter().map(from_json).collect::<Result<_, _>>()?),
        Json::Null => V::Absent,
        Json::Object(_) => return Err(Fault("a record cannot be compared".into())),
    })
}

pub(crate) fn from_value(v: &Value) -> V<'_> {
    match v {
        Value::Bool(b) => V::Bool(*b),
        Value::Number(n) => V::Num(*n),
        Value::String(s) => V::Str(s),
        Value::List(l) => V::List(l.iter().map(from_value).collect()),
    }
}

/// Looks a context path up; `None` when a segment is absent.
pub fn lookup<'r>(context: &'r Map<String, Json>, path: &[String]) -> Option<&'r Json> {
    lookup_segments(context, path.iter().map(String::as_str))
}

/// `lookup`, for a path given segment by segment (`program.rs` keeps them in its text).
pub(crate) fn lookup_segments<'r, 's>(
    context: &'r Map<String, Json>,
    mut path: impl Iterator<Item = &'s str>,
) -> Option<&'r Json> {
    let mut cur = get(context, path.next()?)?;
    for seg in path {
        cur = get(cur.as_object()?, seg)?;
    }
    (!cur.is_null()).then_some(cur)
}

/// Up to this many keys, a request's object is searched key by key: cheaper than hashing the
/// key (serde_json's map hashes with SipHash when `preserve_order` is on, as cedar-policy
/// turns it on) and it reads the keys where they lie.
const SCANNED: usize = 8;

/// `map.get(key)`, without hashing for a small map (a request's context usually is).
pub(crate) fn get<'m>(map: &'m Map<String, Json>, key: &str) -> Option<&'m Json> {
    if map.len() > SCANNED {
        return map.get(key);
    }
    map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
}

/// Whether a condition reads nothing but literals and the request's caller: its value is known
/// once the caller is (`intent mcp` lists a caller's tools by such conditions).
pub fn only_caller(e: &Expr) -> bool {
    match e {
        Expr::Lit { .. }
        | Expr::CallerName
        | Expr::CallerTrust
        | Expr::CallerRegion
        | Expr::CallerZone
        | Expr::CallerLabel { .. }
        | Expr::CallerProvides { .. }
        | Expr::HasCaller => true,
        Expr::Not { e } => only_caller(e),
        Expr::And { all: xs } | Expr::Or { any: xs } => xs.iter().all(only_caller),
        Expr::Cmp { lhs, rhs, .. } => only_caller(lhs) && only_caller(rhs),
        Expr::In { item, set, .. } => only_caller(item) && only_caller(set),
        _ => false,
    }
}

/// Whether a condition reads the request's caller (`caller.*`, `has caller`).
pub fn reads_caller(e: &Expr) -> bool {
    match e {
        Expr::CallerName
        | Expr::CallerTrust
        | Expr::CallerRegion
        | Expr::CallerZone
        | Expr::CallerLabel { .. }
        | Expr::CallerProvides { .. }
        | Expr::HasCaller => true,
        Expr::Not { e } => reads_caller(e),
        Expr::And { all: xs } | Expr::Or { any: xs } => xs.iter().any(reads_caller),
        Expr::Cmp { lhs, rhs, .. } => reads_caller(lhs) || reads_caller(rhs),
        Expr::In { item, set, .. } => reads_caller(item) || reads_caller(set),
        Expr::Lit { .. }
        | Expr::Confidence
        | Expr::Depth
        | Expr::IntentIs { .. }
        | Expr::Field { .. }
        | Expr::Has { .. }
        | Expr::AgentTrust
        | Expr::AgentCost
        | Expr::AgentRegion
        | Expr::AgentZone
        | Expr::AgentName
        | Expr::AgentLabel { .. }
        | Expr::AgentProvides { .. }
        | Expr::DataTouches { .. }
        | Expr::ResponseConfidence
        | Expr::ResponseDataTouches { .. } => false,
    }
}

/// Whether some route arm or policy rule of `plan` reads the caller (then its Cedar context
/// declares `caller`).
pub fn plan_reads_caller(plan: &Plan) -> bool {
    let arms = plan
        .intents
        .iter()
        .flat_map(|i| &i.route.arms)
        .filter_map(|a| a.when.as_ref());
    let rules = plan
        .rules
        .iter()
        .flat_map(|r| r.when.iter().chain(&r.unless));
    arms.chain(rules).any(reads_caller)
}

/// Evaluates a condition.
pub fn holds(e: &Expr, env: &Env<'_>) -> Result<bool, Fault> {
    holds_in(e, env, &Sets::NONE)
}

/// Evaluates a condition, reading its literal lists of `SET_MIN` members or more through
/// `sets` (the engine's, built when the plan was loaded): the same answer as `holds`.
pub fn holds_in(e: &Expr, env: &Env<'_>, sets: &Sets) -> Result<bool, Fault> {
    as_bool(value(e, env, sets)?)
}

/// A condition's value as its answer: absent is false, anything but a boolean a fault.
#[inline]
pub(crate) fn as_bool(v: V<'_>) -> Result<bool, Fault> {
    match v {
        V::Bool(b) => Ok(b),
        V::Absent => Ok(false),
        other => Err(Fault(format!("expected a boolean, found {other:?}"))),
    }
}

pub(crate) fn agent<'r>(env: &Env<'r>) -> Result<&'r Agent, Fault> {
    env.agent
        .ok_or_else(|| Fault("no agent to check here".into()))
}

fn value<'r>(e: &'r Expr, env: &Env<'r>, sets: &Sets) -> Result<V<'r>, Fault> {
    Ok(match e {
        Expr::Lit { value } => from_value(value),
        Expr::Confidence => V::Num(env.confidence),
        Expr::Depth => V::Num(f64::from(env.depth)),
        Expr::IntentIs { intent } => V::Bool(*intent == env.intent),
        Expr::Field { path } => match lookup(env.context, path) {
            Some(j) => from_json(j)?,
            None => V::Absent,
        },
        Expr::Has { path } => V::Bool(lookup(env.context, path).is_some()),
        Expr::AgentTrust => V::Num(agent(env)?.trust),
        Expr::AgentCost => V::Num(agent(env)?.cost),
        Expr::AgentRegion => V::Str(&agent(env)?.region),
        Expr::AgentZone => V::Str(&agent(env)?.zone),
        Expr::AgentName => V::Str(&agent(env)?.name),
        Expr::AgentLabel { key } => agent(env)?.labels.get(key).map_or(V::Absent, from_value),
        Expr::AgentProvides { cap } => V::Bool(agent(env)?.provides.binary_search(cap).is_ok()),
        Expr::CallerName => env.caller.map_or(V::Absent, |c| V::Str(&c.name)),
        Expr::CallerTrust => env.caller.map_or(V::Absent, |c| V::Num(c.trust)),
        Expr::CallerRegion => env.caller.map_or(V::Absent, |c| V::Str(&c.region)),
        Expr::CallerZone => env.caller.map_or(V::Absent, |c| V::Str(&c.zone)),
        Expr::CallerLabel { key } => env
            .caller
            .and_then(|c| c.labels.get(key))
            .map_or(V::Absent, from_value),
        Expr::CallerProvides { cap } => env.caller.map_or(V::Absent, |c| {
            V::Bool(c.provides.binary_search(cap).is_ok())
        }),
        Expr::HasCaller => V::Bool(env.caller.is_some()),
        Expr::DataTouches { any } => V::Bool(env.data.iter().any(|d| any.binary_search(d).is_ok())),
        Expr::ResponseConfidence => match env.response {
            Some((Some(c), _)) => V::Num(c),
            Some((None, _)) => return Err(Fault("the response gives no confidence".into())),
            None => return Err(Fault("no response to review here".into())),
        },
        Expr::ResponseDataTouches { any } => match env.response {
            Some((_, data)) => V::Bool(data.iter().any(|d| any.binary_search(d).is_ok())),
            None => return Err(Fault("no response to review here".into())),
        },
        Expr::Not { e } => match value(e, env, sets)? {
            V::Bool(b) => V::Bool(!b),
            V::Absent => V::Bool(true),
            other => return Err(Fault(format!("`not` of {other:?}"))),
        },
        Expr::And { all } => {
            for x in all {
                if !holds_in(x, env, sets)? {
                    return Ok(V::Bool(false));
                }
            }
            V::Bool(true)
        }
        Expr::Or { any } => {
            for x in any {
                if holds_in(x, env, sets)? {
                    return Ok(V::Bool(true));
                }
            }
            V::Bool(false)
        }
        Expr::Cmp { cmp, lhs, rhs } => {
            let (l, r) = (value(lhs, env, sets)?, value(rhs, env, sets)?);
            V::Bool(compare(*cmp, &l, &r)?)
        }
        Expr::In { item, set, negated } => {
            let i = value(item, env, sets)?;
            // A literal set (the usual case) is read in place, without building a list.
            if let Expr::Lit {
                value: Value::List(members),
            } = &**set
            {
                if matches!(i, V::Absent) {
                    return Ok(V::Bool(false));
                }
                let set = (members.len() >= SET_MIN).then(|| sets.get(set)).flatten();
                let found = match (set, &i) {
                    (Some(set), V::Str(x)) => set.contains(Probe::Str(x)),
                    (Some(set), V::Num(x)) => set.contains(Probe::Num(*x)),
                    (Some(set), V::Bool(x)) => set.contains(Probe::Bool(*x)),
                    (Some(set), _) => set.lists.iter().any(|m| equal_lit(&i, m)),
                    (None, _) => members.iter().any(|m| equal_lit(&i, m)),
                };
                return Ok(V::Bool(found != *negated));
            }
            let s = value(set, env, sets)?;
            match (&i, &s) {
                (V::Absent, _) | (_, V::Absent) => V::Bool(false),
                (_, V::List(members)) => {
                    let found = members.iter().any(|m| equal(&i, m));
                    V::Bool(found != *negated)
                }
                _ => return Err(Fault(format!("`in` needs a set, found {s:?}"))),
            }
        }
    })
}

pub(crate) fn equal(a: &V<'_>, b: &V<'_>) -> bool {
    match (a, b) {
        (V::Num(x), V::Num(y)) => x == y,
        (V::Str(x), V::Str(y)) => x == y,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::List(x), V::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal(p, q)),
        _ => false,
    }
}

/// `equal(a, &from_value(b))`, without converting `b`.
pub(crate) fn equal_lit(a: &V<'_>, b: &Value) -> bool {
    match (a, b) {
        (V::Num(x), Value::Number(y)) => x == y,
        (V::Str(x), Value::String(y)) => *x == y,
        (V::Bool(x), Value::Bool(y)) => x == y,
        (V::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal_lit(p, q))
        }
        _ => false,
    }
}

pub(crate) fn compare(op: CmpOp, l: &V<'_>, r: &V<'_>) -> Result<bool, Fault> {
    if matches!(l, V::Absent) || matches!(r, V::Absent) {
        return Ok(false);
    }
    Ok(match op {
        CmpOp::Eq => equal(l, r),
        CmpOp::Ne => !equal(l, r),
        _ => {
            let (V::Num(x), V::Num(y)) = (l, r) else {
                return Err(Fault(format!("cannot order {l:?} and {r:?}")));
            };
            match op {
                CmpOp::Lt => x < y,
                CmpOp::Le => x <= y,
                CmpOp::Gt => x > y,
                _ => x >= y,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `get` finds what `Map::get` finds, on both sides of the scanned size.
    #[test]
    fn get_agrees_with_the_map() {
        for n in 0..(SCANNED + 3) {
            let map: Map<String, Json> = (0..n).map(|i| (format!("k{i}"), Json::from(i))).collect();
            for key in (0..n + 2)
                .map(|i| format!("k{i}"))
                .chain(["".into(), "k".into()])
            {
                assert_eq!(get(&map, &key), map.get(&key), "{n} keys, looking up {key}");
            }
        }
    }
}
