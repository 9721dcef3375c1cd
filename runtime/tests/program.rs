//! Conditions compiled to flat programs (`runtime/src/program.rs`) against the expression trees
//! they come from: on random conditions over every operand (context fields absent, null, of
//! every type, records that fault; the agent, the caller, the step's data classes, a response
//! or none of them; `intent`; literal lists long enough to be read as sets) and random
//! requests, `Programs::holds` gives `eval::holds`'s answer, faults and their words included,
//! whatever was compiled before the condition in the same `Programs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/requests.rs"]
mod requests;

use intent_runtime::eval::{holds, Env};
use intent_runtime::plan::{Agent, CmpOp, Expr, Value};
use intent_runtime::program::Programs;
use proptest::prelude::*;
use requests::context;
use std::collections::BTreeMap;

fn paths() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        Just(vec!["f0".to_string()]),
        Just(vec!["f1".to_string()]),
        Just(vec!["o".to_string(), "f2".to_string()]),
        Just(vec![
            "o".to_string(),
            "f2".to_string(),
            "deeper".to_string()
        ]),
        Just(vec!["missing".to_string()]),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop_oneof![Just("a"), Just("b"), Just(""), Just("é"), Just("eu")]
            .prop_map(|s| Value::String(s.to_string())),
        prop_oneof![Just(0.0), Just(-0.0), Just(1.0), Just(0.5), Just(f64::NAN)]
            .prop_map(Value::Number),
        any::<bool>().prop_map(Value::Bool),
    ]
}

fn literal() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(2, 8, 4, |inner| {
        proptest::collection::vec(inner, 0..4).prop_map(Value::List)
    })
}

fn operand() -> impl Strategy<Value = Expr> {
    prop_oneof![
        3 => literal().prop_map(|value| Expr::Lit { value }),
        3 => paths().prop_map(|path| Expr::Field { path }),
        1 => Just(Expr::Confidence),
        1 => Just(Expr::Depth),
        1 => Just(Expr::AgentTrust),
        1 => Just(Expr::AgentCost),
        1 => Just(Expr::AgentRegion),
        1 => Just(Expr::AgentZone),
        1 => Just(Expr::AgentName),
        1 => prop_oneof![Just("tier"), Just("none")].prop_map(|k| Expr::AgentLabel { key: k.into() }),
        1 => Just(Expr::CallerName),
        1 => Just(Expr::CallerTrust),
        1 => Just(Expr::CallerRegion),
        1 => Just(Expr::CallerZone),
        1 => prop_oneof![Just("tier"), Just("none")].prop_map(|k| Expr::CallerLabel { key: k.into() }),
        1 => Just(Expr::ResponseConfidence),
    ]
}

fn cmp_op() -> impl Strategy<Value = CmpOp> {
    prop_oneof![
        Just(CmpOp::Eq),
        Just(CmpOp::Ne),
        Just(CmpOp::Lt),
        Just(CmpOp::Le),
        Just(CmpOp::Gt),
        Just(CmpOp::Ge),
    ]
}

fn ids() -> impl Strategy<Value = Vec<u32>> {
    proptest::collection::btree_set(0u32..6, 0..4).prop_map(|s| s.into_iter().collect())
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        4 => (cmp_op(), operand(), operand()).prop_map(|(cmp, l, r)| Expr::Cmp {
            cmp,
            lhs: Box::new(l),
            rhs: Box::new(r),
        }),
        3 => (operand(), proptest::collection::vec(literal(), 0..12), any::<bool>())
            .prop_map(|(item, members, negated)| Expr::In {
                item: Box::new(item),
                set: Box::new(Expr::Lit { value: Value::List(members) }),
                negated,
            }),
        1 => (operand(), operand(), any::<bool>()).prop_map(|(item, set, negated)| Expr::In {
            item: Box::new(item),
            set: Box::new(set),
            negated,
        }),
        1 => (0u32..3).prop_map(|intent| Expr::IntentIs { intent }),
        1 => paths().prop_map(|path| Expr::Has { path }),
        1 => (0u32..4).prop_map(|cap| Expr::AgentProvides { cap }),
        1 => (0u32..4).prop_map(|cap| Expr::CallerProvides { cap }),
        1 => Just(Expr::HasCaller),
        1 => ids().prop_map(|any| Expr::DataTouches { any }),
        1 => ids().prop_map(|any| Expr::ResponseDataTouches { any }),
        1 => operand(),
    ]
}

fn condition() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|all| Expr::And { all }),
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|any| Expr::Or { any }),
            inner.prop_map(|e| Expr::Not { e: Box::new(e) }),
        ]
    })
}

fn agent() -> impl Strategy<Value = Agent> {
    (
        prop_oneof![Just("a"), Just("eu"), Just("doc_parser")],
        prop_oneof![Just(0.0), Just(0.5), Just(1.0)],
        ids(),
        prop::option::of(literal()),
    )
        .prop_map(|(name, trust, provides, tier)| Agent {
            name: name.into(),
            provides,
            cleared: vec![],
            trust,
            cost: 2.5,
            region: "eu".into(),
            zone: String::new(),
            endpoint: None,
            protocol: None,
            backups: vec![],
            labels: tier
                .map(|t| ("tier".to_string(), t))
                .into_iter()
                .collect::<BTreeMap<_, _>>(),
            src: 0,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn a_program_answers_as_its_expression(
        before in proptest::collection::vec(condition(), 0..3),
        e in condition(),
        ctx in context(),
        agent in prop::option::of(agent()),
        caller in prop::option::of(agent()),
        data in ids(),
        response in prop::option::of((prop::option::of(Just(0.4)), ids())),
        intent in 0u32..3,
        confidence in prop_oneof![Just(0.0), Just(0.5), Just(1.0)],
    ) {
        let mut progs = Programs::default();
        for b in &before {
            progs.compile(b).unwrap();
        }
        let c = progs.compile(&e).unwrap();
        let env = Env {
            context: &ctx,
            confidence,
            depth: 1,
            intent,
            agent: agent.as_ref(),
            caller: caller.as_ref(),
            data: &data,
            response: response.as_ref().map(|(c, d)| (*c, d.as_slice())),
        };
        prop_assert_eq!(progs.holds(c, &env), holds(&e, &env), "{:?}", e);
    }
}
