//! Unit tests of the rule index (`index.rs`): which rules it files under which agent and
//! intent, what it leaves of a rule's `when` once filed, and which conditions it counts as
//! unable to fault (a key conjunct after them may file the rule).

use super::*;

fn rule(kind: RuleKind, when: Option<Expr>) -> Rule {
    Rule {
        id: "p#0".into(),
        policy: "p".into(),
        kind,
        when,
        unless: None,
        humans: vec![],
        because: None,
        src: 0,
    }
}

fn name_is(n: &str) -> Expr {
    Expr::Cmp {
        cmp: CmpOp::Eq,
        lhs: Box::new(Expr::AgentName),
        rhs: Box::new(Expr::Lit {
            value: Value::String(n.into()),
        }),
    }
}

fn field_gt() -> Expr {
    Expr::Cmp {
        cmp: CmpOp::Gt,
        lhs: Box::new(Expr::Field {
            path: vec!["amount".into()],
        }),
        rhs: Box::new(Expr::Lit {
            value: Value::Number(1.0),
        }),
    }
}

fn all(v: Vec<Expr>) -> Option<Expr> {
    Some(Expr::And { all: v })
}

fn applicable(rules: &[Rule], agent: u32, intent: u32) -> Vec<usize> {
    RuleIndex::new(rules, RuleKind::Permit, &["a", "b", "c"], 3)
        .applicable(agent, intent)
        .collect()
}

#[test]
fn rules_are_filed_by_agent_and_intent_and_come_back_in_plan_order() {
    let rules = vec![
        rule(RuleKind::Permit, all(vec![name_is("a"), field_gt()])),
        rule(RuleKind::Permit, None),
        rule(
            RuleKind::Permit,
            all(vec![Expr::IntentIs { intent: 2 }, name_is("b")]),
        ),
        rule(RuleKind::Forbid, Some(name_is("b"))),
        rule(
            RuleKind::Permit,
            Some(Expr::Or {
                any: vec![Expr::IntentIs { intent: 0 }, Expr::IntentIs { intent: 2 }],
            }),
        ),
        // Nested `and`, reversed comparison, a set of names.
        rule(
            RuleKind::Permit,
            all(vec![
                Expr::Cmp {
                    cmp: CmpOp::Ge,
                    lhs: Box::new(Expr::Confidence),
                    rhs: Box::new(Expr::Lit {
                        value: Value::Number(0.5),
                    }),
                },
                Expr::And {
                    all: vec![Expr::In {
                        item: Box::new(Expr::AgentName),
                        set: Box::new(Expr::Lit {
                            value: Value::List(vec![
                                Value::String("a".into()),
                                Value::String("c".into()),
                                Value::String("nobody".into()),
                            ]),
                        }),
                        negated: false,
                    }],
                },
            ]),
        ),
        // A key after a conjunct that may fault is not used.
        rule(RuleKind::Permit, all(vec![field_gt(), name_is("c")])),
        // Two names that cannot both hold: the rule applies to nobody.
        rule(RuleKind::Permit, all(vec![name_is("a"), name_is("b")])),
    ];
    assert_eq!(applicable(&rules, 0, 0), vec![0, 1, 4, 5, 6]);
    assert_eq!(applicable(&rules, 1, 2), vec![1, 2, 4, 6]);
    assert_eq!(applicable(&rules, 1, 1), vec![1, 6]);
    assert_eq!(applicable(&rules, 2, 1), vec![1, 5, 6]);
}

#[test]
fn specific_and_global_rules_merge_to_the_applicable_ones() {
    let rules = vec![
        rule(RuleKind::Permit, Some(name_is("b"))),
        rule(RuleKind::Permit, None),
        rule(RuleKind::Permit, Some(Expr::IntentIs { intent: 1 })),
        rule(
            RuleKind::Permit,
            all(vec![name_is("b"), Expr::IntentIs { intent: 1 }]),
        ),
    ];
    let index = RuleIndex::new(&rules, RuleKind::Permit, &["a", "b", "c"], 3);
    for agent in 0..3 {
        for intent in 0..3 {
            let specific = index.specific(agent, intent);
            assert_eq!(
                index.with(&specific).collect::<Vec<_>>(),
                index.applicable(agent, intent).collect::<Vec<_>>()
            );
        }
    }
    assert_eq!(&*index.specific(1, 1), &[0, 2, 3]);
}

#[test]
fn the_residual_drops_exactly_the_filing_conjuncts() {
    let conf = Expr::Cmp {
        cmp: CmpOp::Ge,
        lhs: Box::new(Expr::Confidence),
        rhs: Box::new(Expr::Lit {
            value: Value::Number(0.5),
        }),
    };
    let when = Expr::And {
        all: vec![
            name_is("a"),
            Expr::And {
                all: vec![conf.clone(), Expr::IntentIs { intent: 1 }],
            },
            field_gt(),
            name_is("b"),
        ],
    };
    assert_eq!(
        residual(&when),
        Some(Expr::And {
            all: vec![conf.clone(), field_gt(), name_is("b")]
        })
    );
    assert_eq!(residual(&name_is("a")), None);
    assert_eq!(
        residual(&Expr::And {
            all: vec![Expr::IntentIs { intent: 0 }, conf.clone()]
        }),
        Some(conf)
    );
    assert_eq!(residual(&field_gt()), Some(field_gt()));
}

#[test]
fn out_of_range_ids_find_nothing_extra() {
    let rules = vec![rule(RuleKind::Permit, Some(name_is("a")))];
    assert_eq!(applicable(&rules, 7, 9), Vec::<usize>::new());
}

fn e(v: serde_json::Value) -> Expr {
    serde_json::from_value(v).unwrap()
}

/// Which conditions can never fault, operator by operator: what decides whether a key
/// conjunct after them may file a rule (and `intent explore` may fold them).
#[test]
fn fault_free_is_exactly_the_conditions_that_cannot_fault() {
    use serde_json::json;
    let lit = |v: serde_json::Value| json!({"op": "lit", "value": v});
    let field = json!({"op": "field", "path": ["amount"]});
    let cmp = |op: &str, l: &serde_json::Value, r: &serde_json::Value| json!({"op": "cmp", "cmp": op, "lhs": l, "rhs": r});
    let set = |item: &serde_json::Value, set: serde_json::Value| json!({"op": "in", "item": item, "set": set, "negated": true});
    let name = json!({"op": "agent_name"});
    let has_caller = json!({"op": "has_caller"});
    let cases = [
        (lit(json!(true)), true),
        (lit(json!(false)), true),
        (json!({"op": "intent_is", "intent": 1}), true),
        (json!({"op": "has", "path": ["amount"]}), true),
        (json!({"op": "data_touches", "any": [1]}), true),
        (json!({"op": "agent_provides", "cap": 1}), true),
        (json!({"op": "caller_provides", "cap": 1}), true),
        (has_caller.clone(), true),
        // Not booleans: evaluated as a condition, they fault.
        (lit(json!(1)), false),
        (lit(json!("a")), false),
        (field.clone(), false),
        (json!({"op": "agent_trust"}), false),
        (json!({"op": "response_confidence"}), false),
        (json!({"op": "not", "e": has_caller}), true),
        (json!({"op": "not", "e": field}), false),
        (
            json!({"op": "and", "all": [has_caller, lit(json!(true))]}),
            true,
        ),
        (json!({"op": "and", "all": [has_caller, field]}), false),
        (
            json!({"op": "or", "any": [lit(json!(false)), has_caller]}),
            true,
        ),
        (json!({"op": "or", "any": [has_caller, field]}), false),
        (cmp("eq", &name, &lit(json!("a"))), true),
        (
            cmp("ne", &json!({"op": "caller_trust"}), &lit(json!(1))),
            true,
        ),
        (cmp("eq", &has_caller, &lit(json!(true))), true),
        (cmp("eq", &name, &field), false),
        (cmp("eq", &field, &name), false),
        (
            cmp("gt", &json!({"op": "confidence"}), &lit(json!(1))),
            true,
        ),
        (
            cmp(
                "lt",
                &json!({"op": "caller_trust"}),
                &json!({"op": "depth"}),
            ),
            true,
        ),
        (
            cmp(
                "le",
                &json!({"op": "agent_trust"}),
                &json!({"op": "agent_cost"}),
            ),
            true,
        ),
        // Ordering a string, or a field that may be one, faults.
        (cmp("gt", &name, &lit(json!(1))), false),
        (cmp("gt", &json!({"op": "confidence"}), &field), false),
        (cmp("gt", &field, &json!({"op": "confidence"})), false),
        (set(&name, lit(json!(["a", "b"]))), true),
        (set(&field, lit(json!(["a", "b"]))), false),
        (set(&name, field.clone()), false),
        (set(&name, lit(json!("a"))), false),
    ];
    for (c, expected) in cases {
        assert_eq!(fault_free(&e(c.clone())), expected, "{c}");
    }
}

/// `x in [..]` files a rule by agent only when `x` is the agent's name.
#[test]
fn a_set_of_names_files_by_agent_only_when_it_tests_the_agent_name() {
    let region_in = e(serde_json::json!({
        "op": "in",
        "item": {"op": "field", "path": ["region"]},
        "set": {"op": "lit", "value": ["a", "b"]},
        "negated": false
    }));
    let rules = vec![rule(RuleKind::Permit, Some(region_in))];
    for agent in 0..3 {
        assert_eq!(applicable(&rules, agent, 0), vec![0]);
    }
}
