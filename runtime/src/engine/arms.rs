//! Route arms filed by the constants they test, built when a plan is loaded, so a decision
//! evaluates only the arms that can match its request, in arm order, with the first-match
//! meaning of evaluating every arm in turn (docs/performance.md, "Route arms").
//!
//! An arm is *keyed* when its condition is (or begins, as a conjunction, with) a test that a
//! context field equals a constant or is in a literal list of constants (`requester ==
//! "agent-7"`, `region in ["eu", "uk"]`, or a disjunction of such tests of one field): such a
//! test is false without a fault for every value of the field but its constants, so the arm is
//! filed under them. Arms that test `intent` against another intent (or are `false`) can never
//! match and are never evaluated; every other arm is evaluated whatever the request.
//!
//! At a decision each keyed field is read once. Absent, or a value no constant equals (a list),
//! its keyed arms are all false; when its value would make the comparison fault (a record, or a
//! list holding one), the route is evaluated arm by arm instead, so the fault is the one it
//! always was. The arms skipped get the trace entry an arm that did not match gets, except a
//! run of [`SKIPPED_RUN`] or more, which is one entry (`TraceWhat::Arms`): a route of hundreds
//! of arms then costs a decision the arms that can match, not a trace entry per arm.

use super::{ArmInfo, Engine};
use crate::decision::{Sources, TraceEntry, TraceKind, TraceWhat};
use crate::eval::{lookup, Env, Fault};
use crate::litset::{Probe, Scalars, ScalarsBuilder};
use crate::plan::{Arm, Expr, IntentId, SrcId, Value};
use crate::program::Programs;
use serde_json::{Map, Value as Json};
use std::sync::Arc;

/// At most this many fields key the arms of one route; arms testing others are evaluated.
pub const MAX_FIELDS: usize = 4;

/// A run of at least this many consecutive arms the index rules out is traced as one entry
/// (`TraceWhat::Arms`); shorter runs get an entry per arm, as arm-by-arm evaluation gives.
pub const SKIPPED_RUN: usize = 8;

/// A keyed field's path and, per constant, the range of `ArmIndex::arms` it can match.
type Keyed = (Vec<String>, Scalars<(u32, u32)>);

/// The arms of one route by what can make them match.
#[derive(Debug, Default)]
pub(crate) struct ArmIndex {
    /// Per keyed field: its path and, per constant, the arms it can match (in order), as a
    /// range of `arms`.
    fields: Vec<Keyed>,
    /// The arm lists of every keyed constant, one after the other (one allocation, not one
    /// per constant: at 10,000 rules each would be a cold read).
    arms: Vec<u32>,
    /// The arms evaluated for every request, in order.
    always: Vec<u32>,
    /// No arm is keyed or ruled out: every arm is evaluated in order, so `first_match` does
    /// so without reading the lists (one cold read less per decision at thousands of routes).
    plain: bool,
}

/// What an arm's condition says of when it can match.
enum Class<'e> {
    /// Only when the field at the path equals one of the values.
    Keyed(&'e [String], Vec<&'e Value>),
    /// Never, and evaluating it never faults.
    Never,
    /// Unknown: evaluate it.
    Always,
}

/// True without a fault on every request to `intent`'s route.
fn always_true(e: &Expr, intent: IntentId) -> bool {
    match e {
        Expr::IntentIs { intent: i } => *i == intent,
        Expr::Lit {
            value: Value::Bool(true),
        } => true,
        Expr::And { all } => all.iter().all(|x| always_true(x, intent)),
        _ => false,
    }
}

fn class(e: &Expr, intent: IntentId) -> Class<'_> {
    match e {
        Expr::IntentIs { intent: i } if *i != intent => Class::Never,
        Expr::Lit {
            value: Value::Bool(false),
        } => Class::Never,
        Expr::Cmp {
            cmp: crate::plan::CmpOp::Eq,
            lhs,
            rhs,
        } => match (&**lhs, &**rhs) {
            (Expr::Field { path }, Expr::Lit { value })
            | (Expr::Lit { value }, Expr::Field { path })
                if !matches!(value, Value::List(_)) =>
            {
                Class::Keyed(path, vec![value])
            }
            _ => Class::Always,
        },
        Expr::In {
            item,
            set,
            negated: false,
        } => match (&**item, &**set) {
            (
                Expr::Field { path },
                Expr::Lit {
                    value: Value::List(members),
                },
            ) if !members.iter().any(|m| matches!(m, Value::List(_))) => {
                Class::Keyed(path, members.iter().collect())
            }
            _ => Class::Always,
        },
        // The first conjunct that is not true whatever the request decides.
        Expr::And { all } => match all.iter().find(|x| !always_true(x, intent)) {
            Some(first) => class(first, intent),
            None => Class::Always,
        },
        // Disjuncts that never match, and tests of one field.
        Expr::Or { any } => {
            let mut keyed: Option<(&[String], Vec<&Value>)> = None;
            for x in any {
                match (class(x, intent), &mut keyed) {
                    (Class::Never, _) => {}
                    (Class::Keyed(p, vs), None) => keyed = Some((p, vs)),
                    (Class::Keyed(p, vs), Some((q, all))) if p == *q => all.extend(vs),
                    _ => return Class::Always,
                }
            }
            match keyed {
                Some((p, vs)) => Class::Keyed(p, vs),
                None => Class::Never,
            }
        }
        _ => Class::Always,
    }
}

impl ArmIndex {
    pub fn new(arms: &[Arm], intent: IntentId) -> ArmIndex {
        let arms_in = arms.len();
        let mut always = Vec::new();
        let mut fields: Vec<(Vec<String>, ScalarsBuilder<Vec<u32>>)> = Vec::new();
        for (a, arm) in arms.iter().enumerate() {
            let a = a as u32;
            let c = arm
                .when
                .as_ref()
                .map_or(Class::Always, |w| class(w, intent));
            match c {
                Class::Never => {}
                Class::Always => always.push(a),
                Class::Keyed(path, values) => {
                    let at = match fields.iter().position(|(p, _)| p == path) {
                        Some(at) => at,
                        None if fields.len() < MAX_FIELDS => {
                            fields.push((path.to_vec(), ScalarsBuilder::new()));
                            fields.len() - 1
                        }
                        None => {
                            always.push(a);
                            continue;
                        }
                    };
                    let Some((_, b)) = fields.get_mut(at) else {
                        continue;
                    };
                    for v in values {
                        if let Some(list) = b.entry(v) {
                            if list.last() != Some(&a) {
                                list.push(a);
                            }
                        }
                    }
                }
            }
        }
        let mut arms: Vec<u32> = Vec::new();
        let fields: Vec<Keyed> = fields
            .into_iter()
            .map(|(p, b)| {
                let keys = b.build().map(|list| {
                    let start = arms.len();
                    arms.extend(list);
                    // One entry per (arm, constant) of the route: fewer than the plan's
                    // condition nodes, which `Programs` refused at load past u32::MAX.
                    (start as u32, arms.len() as u32)
                });
                (p, keys)
            })
            .collect();
        let plain = fields.is_empty() && always.iter().copied().eq(0..arms_in as u32);
        ArmIndex {
            fields,
            arms,
            always,
            plain,
        }
    }

    /// The arms that can match on `context`, each list in arm order (merge them); `None` when a
    /// keyed field's value would make its test fault: evaluate every arm then.
    fn candidates<'s>(
        &'s self,
        context: &Map<String, Json>,
        out: &mut [&'s [u32]; MAX_FIELDS + 1],
    ) -> Option<()> {
        if let Some(slot) = out.first_mut() {
            *slot = &self.always;
        }
        for ((path, keys), slot) in self.fields.iter().zip(out.iter_mut().skip(1)) {
            let probe = match lookup(context, path) {
                None => None,
                Some(Json::String(s)) => Some(Probe::Str(s)),
                Some(Json::Number(n)) => Some(Probe::Num(n.as_f64().unwrap_or(f64::NAN))),
                Some(Json::Bool(b)) => Some(Probe::Bool(*b)),
                Some(j) if faults(j) => return None,
                // A list: no constant filed is a list, so it equals none of them.
                Some(_) => None,
            };
            *slot = probe
                .and_then(|p| keys.get(p))
                .and_then(|(start, end)| self.arms.get(*start as usize..*end as usize))
                .unwrap_or_default();
        }
        Some(())
    }
}

/// Whether reading `j` as an operand faults (`eval.rs`: a record cannot be compared).
fn faults(j: &Json) -> bool {
    match j {
        Json::Object(_) => true,
        Json::Array(items) => items.iter().any(faults),
        _ => false,
    }
}

/// How a route's arms came out: the arm that matched, none, or the arm that faulted.
pub(crate) enum Pick {
    Matched(usize),
    NoneMatched,
    Fault(Fault),
}

/// The first arm of `arms` whose condition holds, trying only those `index` says can match
/// (every arm with `index` `None`), with a trace entry per arm before it and for it, as arm
/// by arm. `misses[a]`: the entry of arm `a` not matching.
pub(crate) fn first_match(
    arms: &[ArmInfo],
    index: Option<&ArmIndex>,
    misses: &[TraceEntry],
    route: &Arc<str>,
    env: &Env<'_>,
    progs: &Programs,
    trace: &mut Vec<TraceEntry>,
) -> Pick {
    let mut lists: [&[u32]; MAX_FIELDS + 1] = [&[]; MAX_FIELDS + 1];
    let index = index.filter(|ix| !ix.plain);
    let indexed = index.and_then(|ix| ix.candidates(env.context, &mut lists));
    if indexed.is_none() {
        for (a, arm) in arms.iter().enumerate() {
            match try_arm(arm, a, route, env, progs, trace) {
                Some(pick) => return pick,
                None => continue,
            }
        }
        return Pick::NoneMatched;
    }
    // A merge of the candidate lists, smallest arm first; the arms between were skipped.
    let mut next = 0usize;
    loop {
        let mut least: Option<u32> = None;
        for l in &lists {
            if let Some(&a) = l.first() {
                least = Some(least.map_or(a, |m| m.min(a)));
            }
        }
        let Some(a) = least else {
            break;
        };
        for l in &mut lists {
            if l.first() == Some(&a) {
                *l = l.get(1..).unwrap_or_default();
            }
        }
        let a = a as usize;
        skipped(misses, next..a, trace);
        next = a + 1;
        let Some(arm) = arms.get(a) else {
            break;
        };
        if let Some(pick) = try_arm(arm, a, route, env, progs, trace) {
            return pick;
        }
    }
    skipped(misses, next..misses.len(), trace);
    Pick::NoneMatched
}

/// Traces the arms `run` (0-based) that the index ruled out: an entry each, or one for the
/// whole run when it is [`SKIPPED_RUN`] arms or longer.
fn skipped(misses: &[TraceEntry], run: std::ops::Range<usize>, trace: &mut Vec<TraceEntry>) {
    let (first, last) = (run.start + 1, run.end);
    let entries = misses.get(run).unwrap_or_default();
    match entries.first() {
        Some(TraceEntry {
            what: TraceWhat::Arm { route, .. },
            at,
            ..
        }) if entries.len() >= SKIPPED_RUN => trace.push(TraceEntry {
            kind: TraceKind::Arm,
            what: TraceWhat::Arms {
                route: route.clone(),
                first,
                last,
            },
            matched: false,
            detail: None,
            at: *at,
        }),
        _ => trace.extend_from_slice(entries),
    }
}

/// Evaluates arm `a`, tracing it; `None` when it does not match.
fn try_arm(
    arm: &ArmInfo,
    a: usize,
    route: &Arc<str>,
    env: &Env<'_>,
    progs: &Programs,
    trace: &mut Vec<TraceEntry>,
) -> Option<Pick> {
    let matched = progs.holds_or(arm.when, true, env);
    // The entry `misses` holds for this arm, built from the arm's own record.
    let mut entry = arm_entry(route, a, arm.when.is_none(), arm.at);
    match matched {
        Ok(false) => {
            trace.push(entry);
            None
        }
        Ok(true) => {
            entry.matched = true;
            trace.push(entry);
            Some(Pick::Matched(a))
        }
        Err(f) => {
            entry.detail = Some(f.0.as_str().into());
            trace.push(entry);
            Some(Pick::Fault(f))
        }
    }
}

/// Per arm of a route, its trace entry when it does not match (`at`: `file:line:col` by
/// source id).
pub(crate) fn misses(arms: &[Arm], route: &Arc<str>, at: &Sources) -> Box<[TraceEntry]> {
    arms.iter()
        .enumerate()
        .map(|(a, arm)| arm_entry(route, a, arm.when.is_none(), at.id(arm.src)))
        .collect()
}

/// The trace entry of arm `a` (0-based) of `route`, not matched.
fn arm_entry(route: &Arc<str>, a: usize, otherwise: bool, at: Option<SrcId>) -> TraceEntry {
    TraceEntry {
        kind: TraceKind::Arm,
        what: TraceWhat::Arm {
            route: route.clone(),
            arm: a + 1,
            otherwise,
        },
        matched: false,
        detail: None,
        at,
    }
}

impl Engine {
    /// Every condition of the plan a decision or a review evaluates: route arms, rules (whole,
    /// as the plan has them), review arms.
    pub(crate) fn conditions(&self) -> impl Iterator<Item = &Expr> {
        let arms = self
            .plan
            .intents
            .iter()
            .flat_map(|i| &i.route.arms)
            .filter_map(|a| a.when.as_ref());
        let rules = self
            .plan
            .rules
            .iter()
            .flat_map(|r| r.when.iter().chain(&r.unless));
        let reviews = self
            .plan
            .reviews
            .iter()
            .flat_map(|r| &r.arms)
            .filter_map(|a| a.when.as_ref());
        arms.chain(rules).chain(reviews)
    }

    /// The same engine evaluating every route arm in turn, without the arm index: the
    /// reference the index is tested against (`runtime/tests/arm_index.rs`) and measured by.
    #[doc(hidden)]
    pub fn without_arm_index(mut self) -> Engine {
        self.arm_index = false;
        self
    }
}

#[cfg(test)]
mod tests {
    //! The index's contract, independent of the decisions (which `runtime/tests/arm_index.rs`
    //! compares with evaluating every arm): which arms it files under which constant of which
    //! field, which it evaluates always, which never, and what it offers for a request.

    use super::*;
    use crate::plan::{Action, CmpOp};
    use serde_json::json;

    /// The intent whose route the arms belong to.
    const OWN: IntentId = 1;
    const OTHER: IntentId = 2;

    fn field(name: &str) -> Box<Expr> {
        Box::new(Expr::Field {
            path: vec![name.into()],
        })
    }

    fn lit(value: Value) -> Box<Expr> {
        Box::new(Expr::Lit { value })
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    fn eq(name: &str, v: Value) -> Expr {
        Expr::Cmp {
            cmp: CmpOp::Eq,
            lhs: field(name),
            rhs: lit(v),
        }
    }

    fn is_in(name: &str, members: Vec<Value>, negated: bool) -> Expr {
        Expr::In {
            item: field(name),
            set: lit(Value::List(members)),
            negated,
        }
    }

    fn bool_lit(b: bool) -> Expr {
        Expr::Lit {
            value: Value::Bool(b),
        }
    }

    fn index(whens: Vec<Option<Expr>>) -> ArmIndex {
        let arms: Vec<Arm> = whens
            .into_iter()
            .map(|when| Arm {
                when,
                action: Action::Deny { because: None },
                src: 0,
            })
            .collect();
        ArmIndex::new(&arms, OWN)
    }

    /// The arms filed under `probe` for the field `name`.
    fn under(ix: &ArmIndex, name: &str, probe: Probe<'_>) -> Vec<u32> {
        ix.fields
            .iter()
            .find(|(path, _)| path.as_slice() == [name.to_string()])
            .and_then(|(_, keys)| keys.get(probe))
            .and_then(|(start, end)| ix.arms.get(*start as usize..*end as usize))
            .map(<[u32]>::to_vec)
            .unwrap_or_default()
    }

    fn keyed_fields(ix: &ArmIndex) -> Vec<String> {
        ix.fields.iter().map(|(path, _)| path.join(".")).collect()
    }

    #[test]
    fn arms_are_filed_under_the_constants_they_test() {
        let ix = index(vec![
            /* 0 */ Some(eq("f", s("a"))),
            /* 1, reversed */
            Some(Expr::Cmp {
                cmp: CmpOp::Eq,
                lhs: lit(s("b")),
                rhs: field("f"),
            }),
            /* 2 */
            Some(is_in(
                "g",
                vec![s("x"), Value::Number(2.0), Value::Bool(true)],
                false,
            )),
            /* 3, otherwise */ None,
            /* 4, a list equals no probe of the index */
            Some(eq("f", Value::List(vec![s("a")]))),
            /* 5, a set holding a list */
            Some(is_in("g", vec![s("y"), Value::List(vec![s("z")])], false)),
            /* 6, `not in` */ Some(is_in("g", vec![s("x")], true)),
            /* 7, `!=` */
            Some(Expr::Cmp {
                cmp: CmpOp::Ne,
                lhs: field("f"),
                rhs: lit(s("a")),
            }),
            /* 8 */ Some(bool_lit(false)),
            /* 9 */ Some(Expr::IntentIs { intent: OTHER }),
            /* 10 */ Some(Expr::IntentIs { intent: OWN }),
            /* 11, filed by its first conjunct that is not always true */
            Some(Expr::And {
                all: vec![
                    Expr::IntentIs { intent: OWN },
                    bool_lit(true),
                    Expr::And {
                        all: vec![bool_lit(true)],
                    },
                    eq("f", s("c")),
                    eq("g", s("q")),
                ],
            }),
            /* 12, another intent's conjunct: never */
            Some(Expr::And {
                all: vec![Expr::IntentIs { intent: OTHER }, eq("f", s("d"))],
            }),
            /* 13, every conjunct true */
            Some(Expr::And {
                all: vec![bool_lit(true), Expr::IntentIs { intent: OWN }],
            }),
            /* 14, disjuncts of one field, and ones that never match */
            Some(Expr::Or {
                any: vec![
                    bool_lit(false),
                    Expr::IntentIs { intent: OTHER },
                    eq("f", s("e")),
                    is_in("f", vec![s("a"), s("g")], false),
                ],
            }),
            /* 15, two fields */
            Some(Expr::Or {
                any: vec![eq("f", s("h")), eq("g", s("x"))],
            }),
            /* 16, nothing can match */
            Some(Expr::Or {
                any: vec![bool_lit(false)],
            }),
            /* 17, a disjunct that is not a key */
            Some(Expr::Or {
                any: vec![
                    eq("f", s("a")),
                    Expr::Has {
                        path: vec!["f".into()],
                    },
                ],
            }),
            /* 18, filed once under a constant it names twice */
            Some(Expr::Or {
                any: vec![eq("f", s("a")), is_in("f", vec![s("a")], false)],
            }),
            /* 19 */
            Some(Expr::Not {
                e: Box::new(bool_lit(false)),
            }),
        ]);
        assert_eq!(ix.always, vec![3, 4, 5, 6, 7, 10, 13, 15, 17, 19]);
        assert_eq!(keyed_fields(&ix), vec!["f", "g"]);
        assert_eq!(under(&ix, "f", Probe::Str("a")), vec![0, 14, 18]);
        assert_eq!(under(&ix, "f", Probe::Str("b")), vec![1]);
        assert_eq!(under(&ix, "f", Probe::Str("c")), vec![11]);
        assert_eq!(under(&ix, "f", Probe::Str("d")), Vec::<u32>::new());
        assert_eq!(under(&ix, "f", Probe::Str("e")), vec![14]);
        assert_eq!(under(&ix, "f", Probe::Str("g")), vec![14]);
        assert_eq!(under(&ix, "f", Probe::Str("h")), Vec::<u32>::new());
        assert_eq!(under(&ix, "g", Probe::Str("x")), vec![2]);
        assert_eq!(under(&ix, "g", Probe::Num(2.0)), vec![2]);
        assert_eq!(under(&ix, "g", Probe::Bool(true)), vec![2]);
        assert_eq!(under(&ix, "g", Probe::Bool(false)), Vec::<u32>::new());
        assert_eq!(under(&ix, "g", Probe::Str("q")), Vec::<u32>::new());
        assert_eq!(under(&ix, "g", Probe::Str("y")), Vec::<u32>::new());
    }

    #[test]
    fn arms_testing_a_field_past_the_fourth_are_evaluated_always() {
        let names = ["f0", "f1", "f2", "f3", "f4"];
        let mut whens: Vec<Option<Expr>> = names.iter().map(|n| Some(eq(n, s("a")))).collect();
        // A field already keyed is still filed once the others are full.
        whens.push(Some(eq("f0", s("b"))));
        let ix = index(whens);
        assert_eq!(keyed_fields(&ix), vec!["f0", "f1", "f2", "f3"]);
        assert_eq!(ix.always, vec![4]);
        for (k, n) in names.iter().take(MAX_FIELDS).enumerate() {
            assert_eq!(under(&ix, n, Probe::Str("a")), vec![k as u32]);
        }
        assert_eq!(under(&ix, "f0", Probe::Str("b")), vec![5]);
    }

    /// What `candidates` offers for `context`: the always-evaluated arms, then per keyed field
    /// the arms filed under its value; `None` to evaluate every arm.
    fn offered(ix: &ArmIndex, context: Json) -> Option<Vec<Vec<u32>>> {
        let Json::Object(context) = context else {
            return None;
        };
        let mut out: [&[u32]; MAX_FIELDS + 1] = [&[]; MAX_FIELDS + 1];
        ix.candidates(&context, &mut out)?;
        Some(out.iter().map(|l| l.to_vec()).collect())
    }

    #[test]
    fn a_request_is_offered_the_arms_filed_under_its_values() {
        let ix = index(vec![
            Some(eq("f", s("a"))),
            None,
            Some(is_in(
                "g",
                vec![s("x"), Value::Number(0.0), Value::Bool(false)],
                false,
            )),
            Some(eq("f", s("a"))),
        ]);
        let none: Vec<u32> = vec![];
        let lists = |f: Vec<u32>, g: Vec<u32>| Some(vec![vec![1], f, g, vec![], vec![]]);
        assert_eq!(offered(&ix, json!({})), lists(none.clone(), none.clone()));
        assert_eq!(
            offered(&ix, json!({"f": "a", "g": "x"})),
            lists(vec![0, 3], vec![2])
        );
        assert_eq!(
            offered(&ix, json!({"f": "b", "g": -0.0})),
            lists(none.clone(), vec![2])
        );
        assert_eq!(
            offered(&ix, json!({"f": null, "g": false})),
            lists(none.clone(), vec![2])
        );
        assert_eq!(
            offered(&ix, json!({"g": 1})),
            lists(none.clone(), none.clone())
        );
        // A list equals no constant filed, and comparing it does not fault.
        assert_eq!(
            offered(&ix, json!({"f": ["a"], "g": []})),
            lists(none.clone(), none.clone())
        );
        // A record, or a list holding one, faults: every arm is evaluated.
        assert_eq!(offered(&ix, json!({"f": {"x": 1}})), None);
        assert_eq!(offered(&ix, json!({"g": ["x", {"x": 1}]})), None);
        assert_eq!(offered(&ix, json!({"g": [["x"], [{"x": 1}]]})), None);
    }
}
