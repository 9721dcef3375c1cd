//! The route-arm index (`runtime/src/engine/arms.rs`) against evaluating every arm in turn:
//! on random routes (equality and membership tests of fields, literal sets long enough to be
//! read as sets, `intent` tests, conjunctions, disjunctions, negations, orderings that fault on
//! the wrong type) and random requests (fields absent, null, of every type, records and lists
//! holding records, which fault), the two engines give the same decision, trace included: a run
//! of `SKIPPED_RUN` or more arms the index ruled out is one entry standing for the entries
//! arm-by-arm evaluation gives those arms.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/requests.rs"]
mod requests;

use intent_runtime::plan::{Action, Arm, CmpOp, Expr, Plan, Type, Value};
use intent_runtime::{Decision, Engine, Request, TraceEntry, TraceWhat, SKIPPED_RUN};
use proptest::prelude::*;
use requests::context;
use serde_json::{json, Value as Json};
use std::path::PathBuf;

fn base() -> Plan {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/finance.plan.json");
    let mut plan: Plan = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    plan.plan_hash = String::new();
    // No declared field: any context fits, so every value reaches the arms.
    plan.context = Type::Record { fields: vec![] };
    plan
}

fn paths() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        Just(vec!["f0".to_string()]),
        Just(vec!["f1".to_string()]),
        Just(vec!["o".to_string(), "f2".to_string()]),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop_oneof![Just("a"), Just("b"), Just("c"), Just(""), Just("é")]
            .prop_map(|s| Value::String(s.to_string())),
        prop_oneof![Just(0.0), Just(-0.0), Just(1.0), Just(1.5), Just(-2.0)]
            .prop_map(Value::Number),
        any::<bool>().prop_map(Value::Bool),
    ]
}

fn literal() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => scalar(),
        1 => proptest::collection::vec(scalar(), 0..3).prop_map(Value::List),
    ]
}

fn field(path: Vec<String>) -> Box<Expr> {
    Box::new(Expr::Field { path })
}

fn lit(value: Value) -> Box<Expr> {
    Box::new(Expr::Lit { value })
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        4 => (paths(), literal(), any::<bool>()).prop_map(|(p, v, flip)| {
            let (lhs, rhs) = if flip { (lit(v), field(p)) } else { (field(p), lit(v)) };
            Expr::Cmp { cmp: CmpOp::Eq, lhs, rhs }
        }),
        3 => (paths(), proptest::collection::vec(literal(), 0..12), prop::bool::weighted(0.2))
            .prop_map(|(p, members, negated)| Expr::In {
                item: field(p),
                set: lit(Value::List(members)),
                negated,
            }),
        1 => (0u32..2).prop_map(|intent| Expr::IntentIs { intent }),
        1 => (paths(), literal()).prop_map(|(p, v)| Expr::Cmp { cmp: CmpOp::Lt, lhs: field(p), rhs: lit(v) }),
        1 => paths().prop_map(|path| Expr::Has { path }),
        1 => any::<bool>().prop_map(|b| Expr::Lit { value: Value::Bool(b) }),
    ]
}

fn condition() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(|all| Expr::And { all }),
            proptest::collection::vec(inner.clone(), 0..3).prop_map(|any| Expr::Or { any }),
            inner.prop_map(|e| Expr::Not { e: Box::new(e) }),
        ]
    })
}

fn route() -> impl Strategy<Value = Vec<Option<Expr>>> {
    // Mostly `f0 == ".."` arms, as a route with an arm per requester: the index rules out
    // long runs of them, which the trace then shows as one entry.
    let keyed = prop_oneof![
        Just("a"),
        Just("b"),
        Just("c"),
        Just(""),
        Just("é"),
        Just("zz")
    ]
    .prop_map(|s| {
        Some(Expr::Cmp {
            cmp: CmpOp::Eq,
            lhs: field(vec!["f0".into()]),
            rhs: lit(Value::String(s.into())),
        })
    });
    let mixed = prop_oneof![9 => keyed, 1 => prop::option::weighted(0.9, condition())];
    prop_oneof![
        proptest::collection::vec(prop::option::weighted(0.9, condition()), 0..24),
        proptest::collection::vec(mixed, 8..40),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn indexed_arms_decide_as_arm_by_arm(
        whens in route(),
        contexts in proptest::collection::vec(context(), 1..6),
    ) {
        let mut plan = base();
        let src = plan.intents[0].route.arms[0].src;
        plan.intents[0].route.arms = whens
            .into_iter()
            .enumerate()
            .map(|(k, when)| Arm {
                when,
                action: Action::Deny { because: Some(format!("arm {}", k + 1)) },
                src,
            })
            .collect();
        let name = plan.intents[0].name.clone();
        let indexed = Engine::from_plan(plan.clone()).unwrap();
        let linear = Engine::from_plan(plan).unwrap().without_arm_index();
        for context in contexts {
            let mut req = Request::for_intent(&name, 0.9);
            req.context = context;
            let (mut a, mut b) = (indexed.decide_at(&req, 5), linear.decide_at(&req, 5));
            let traces = same_trace(&a.trace, &b.trace);
            prop_assert!(traces.is_ok(), "{:?}: context {:?}", traces, req.context);
            (a.trace, b.trace) = (Default::default(), Default::default());
            let (a, b) = (serde_json::to_value(a).unwrap(), serde_json::to_value(b).unwrap());
            prop_assert_eq!(a, b, "context {:?}", req.context);
        }
    }
}

/// Whether the indexed engine's trace is the arm-by-arm one, with runs of arms the index ruled
/// out (`TraceWhat::Arms`, at least `SKIPPED_RUN` long) standing for the not-matched entries
/// of those arms.
fn same_trace(indexed: &[TraceEntry], linear: &[TraceEntry]) -> Result<(), String> {
    let mut rest = linear.iter();
    for e in indexed {
        let TraceWhat::Arms { route, first, last } = &e.what else {
            let l = rest.next();
            return match l == Some(e) {
                true => continue,
                false => Err(format!("{e:?} where arm by arm gives {l:?}")),
            };
        };
        if last + 1 - first < SKIPPED_RUN || e.matched || e.detail.is_some() {
            return Err(format!("{e:?}: a run of {} arms", last + 1 - first));
        }
        for n in *first..=*last {
            let l = rest.next().ok_or(format!("{e:?}: arm by arm ends first"))?;
            let stands_for = matches!(&l.what,
                TraceWhat::Arm { route: r, arm, .. } if r == route && *arm == n)
                && !l.matched
                && l.detail.is_none()
                && (n > *first || l.at == e.at);
            if !stands_for {
                return Err(format!("{e:?} stands for arm {n}, which gives {l:?}"));
            }
        }
    }
    match rest.next() {
        None => Ok(()),
        Some(l) => Err(format!("arm by arm goes on: {l:?}")),
    }
}

/// A route of 20 arms, each for one requester: a request for the 15th is one entry for the 14
/// arms ruled out, then the arm taken; for the 3rd, two entries and the arm.
#[test]
fn a_long_run_of_arms_ruled_out_is_one_trace_entry() {
    let mut plan = base();
    let src = plan.intents[0].route.arms[0].src;
    plan.intents[0].route.arms = (1..=20)
        .map(|k| Arm {
            when: Some(Expr::Cmp {
                cmp: CmpOp::Eq,
                lhs: field(vec!["requester".into()]),
                rhs: lit(Value::String(format!("agent-{k}"))),
            }),
            action: Action::Deny {
                because: Some(format!("arm {k}")),
            },
            src,
        })
        .collect();
    let name = plan.intents[0].name.clone();
    let e = Engine::from_plan(plan).unwrap();
    let decide = |who: &str| -> Decision {
        let mut req = Request::for_intent(&name, 0.9);
        req.context.insert("requester".into(), json!(who));
        e.decide_at(&req, 5)
    };
    let d = decide("agent-15");
    assert_eq!(d.reason.as_deref(), Some("arm 15"));
    let arms: Vec<String> = d.trace.iter().map(|t| t.what.to_string()).collect();
    let route = &plan_route(&d);
    assert_eq!(
        arms,
        [
            format!("route {route} arms 1 to 14 (ruled out by the index)"),
            format!("route {route} arm 15"),
        ]
    );
    let d = decide("agent-3");
    assert_eq!(d.trace.len(), 3, "{:?}", d.trace);
    // No requester matches: the whole route is one entry, and the decision a deny.
    let d = decide("nobody");
    assert_eq!(d.trace.len(), 1, "{:?}", d.trace);
    assert!(matches!(
        d.trace[0].what,
        TraceWhat::Arms {
            first: 1,
            last: 20,
            ..
        }
    ));
}

/// The route's name as the trace writes it.
fn plan_route(d: &Decision) -> String {
    match d.trace.last().map(|t| &t.what) {
        Some(TraceWhat::Arm { route, .. } | TraceWhat::Arms { route, .. }) => route.to_string(),
        other => panic!("no arm traced: {other:?}"),
    }
}

/// The shapes the index is for, and the faults it must keep: an arm before the match that
/// faults on the request's value still faults.
#[test]
fn a_fault_before_the_match_still_faults() {
    let mut plan = base();
    let src = plan.intents[0].route.arms[0].src;
    let eq = |v: &str| Expr::Cmp {
        cmp: CmpOp::Eq,
        lhs: field(vec!["requester".into()]),
        rhs: lit(Value::String(v.into())),
    };
    let arm = |when: Option<Expr>, k: usize| Arm {
        when,
        action: Action::Deny {
            because: Some(format!("arm {k}")),
        },
        src,
    };
    plan.intents[0].route.arms = vec![arm(Some(eq("a")), 1), arm(Some(eq("b")), 2), arm(None, 3)];
    let name = plan.intents[0].name.clone();
    let e = Engine::from_plan(plan).unwrap();
    let decide = |v: Json| {
        let req = Request::for_intent(&name, 0.9).with("requester", v);
        e.decide_at(&req, 5)
    };
    let d = decide(json!("b"));
    assert_eq!(d.reason.as_deref(), Some("arm 2"));
    assert_eq!(d.trace.len(), 2, "arm 1 is traced as not matching");
    let d = decide(json!("zz"));
    assert_eq!(d.reason.as_deref(), Some("arm 3"));
    let d = decide(json!({"x": 1}));
    assert_eq!(
        d.reason.as_deref(),
        Some("evaluation error: a record cannot be compared")
    );
    assert_eq!(d.trace.len(), 1, "the first arm faults");
}

/// A route arm that reads the caller sees the request's verified caller: the engine resolves
/// the caller because one of its conditions (`Engine::conditions`) reads it.
#[test]
fn an_arm_reading_the_caller_sees_the_verified_caller() {
    let mut plan = base();
    let src = plan.intents[0].route.arms[0].src;
    let arm = |when: Option<Expr>, why: &str| Arm {
        when,
        action: Action::Deny {
            because: Some(why.into()),
        },
        src,
    };
    plan.intents[0].route.arms = vec![arm(Some(Expr::HasCaller), "a caller"), arm(None, "anyone")];
    let name = plan.intents[0].name.clone();
    let agent = plan.agents[0].name.clone();
    for e in [
        Engine::from_plan(plan.clone()).unwrap(),
        Engine::from_plan(plan.clone()).unwrap().without_arm_index(),
    ] {
        let mut req = Request::for_intent(&name, 0.9);
        assert_eq!(e.decide_at(&req, 5).reason.as_deref(), Some("anyone"));
        req.caller = Some(intent_runtime::Caller {
            agent: Some(agent.clone()),
            lineage: vec![],
        });
        assert_eq!(e.decide_at(&req, 5).reason.as_deref(), Some("a caller"));
    }
}
