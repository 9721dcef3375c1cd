//! The meaning of every plan expression, one operator at a time, against
//! docs/reference/expressions.md: comparisons of numbers, strings, booleans and lists; `in`
//! and `not in` over literal sets and over sets read from the request; `not`, `and`, `or`;
//! `intent is`; absent optional fields (every comparison with one is false, `not` of one is
//! true); and faults (wrong types) that the caller must never read as "allowed". Every
//! expression is evaluated three times, by `holds`, by `holds_in` with the literal lists of
//! eight members or more read as sets built at load (`litset.rs`), and compiled to a flat
//! program (`program.rs`), which must agree.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_runtime::eval::{holds, holds_in, Env, Fault};
use intent_runtime::litset::Sets;
use intent_runtime::plan::{Agent, Expr};
use intent_runtime::program::Programs;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn expr(v: Value) -> Expr {
    serde_json::from_value(v).unwrap()
}

fn field(name: &str) -> Value {
    json!({"op": "field", "path": [name]})
}

fn lit(v: Value) -> Value {
    json!({"op": "lit", "value": v})
}

fn cmp(op: &str, lhs: Value, rhs: Value) -> Value {
    json!({"op": "cmp", "cmp": op, "lhs": lhs, "rhs": rhs})
}

fn context() -> Map<String, Value> {
    json!({
        "amount": 120,
        "region": "EU",
        "vip": true,
        "tags": ["a", "b"],
        "allowed": ["EU", "UK"],
        "subject": {"role": "analyst"},
        "nothing": null
    })
    .as_object()
    .unwrap()
    .clone()
}

fn agent() -> Agent {
    serde_json::from_value(json!({
        "name": "doc_parser", "provides": [1, 3], "cleared": [0], "trust": 0.9, "cost": 2.5,
        "region": "eu-west", "zone": "a", "endpoint": null, "backups": [],
        "labels": {"tier": "gold"}, "src": 0
    }))
    .unwrap()
}

fn eval(e: Value) -> Result<bool, Fault> {
    let ctx = context();
    let a = agent();
    let env = Env {
        context: &ctx,
        confidence: 0.8,
        depth: 2,
        intent: 4,
        agent: Some(&a),
        caller: None,
        data: &[2, 5],
        response: Some((Some(0.4), &[7])),
    };
    let e = expr(e);
    let scanned = holds(&e, &env);
    let sets = Sets::new([&e]);
    assert_eq!(holds_in(&e, &env, &sets), scanned, "{e:?}");
    let mut progs = Programs::default();
    let c = progs.compile(&e).unwrap();
    assert_eq!(progs.holds(c, &env), scanned, "the flat program of {e:?}");
    scanned
}

fn is(e: Value, expected: bool) {
    assert_eq!(eval(e.clone()), Ok(expected), "{e}");
}

#[test]
fn numbers_compare_with_every_operator() {
    for (op, lt, eq, gt) in [
        ("eq", false, true, false),
        ("ne", true, false, true),
        ("lt", true, false, false),
        ("le", true, true, false),
        ("gt", false, false, true),
        ("ge", false, true, true),
    ] {
        // amount is 120: compared as 120 <op> 121, 120 <op> 120, 120 <op> 119.
        is(cmp(op, field("amount"), lit(json!(121))), lt);
        is(cmp(op, field("amount"), lit(json!(120))), eq);
        is(cmp(op, field("amount"), lit(json!(119))), gt);
    }
    is(
        cmp("ge", json!({"op": "confidence"}), lit(json!(0.8))),
        true,
    );
    is(
        cmp("gt", json!({"op": "confidence"}), lit(json!(0.8))),
        false,
    );
    is(cmp("eq", json!({"op": "depth"}), lit(json!(2))), true);
}

#[test]
fn strings_booleans_and_lists_compare_for_equality() {
    is(cmp("eq", field("region"), lit(json!("EU"))), true);
    is(cmp("eq", field("region"), lit(json!("US"))), false);
    is(cmp("ne", field("region"), lit(json!("US"))), true);
    is(cmp("eq", field("vip"), lit(json!(true))), true);
    is(cmp("eq", field("vip"), lit(json!(false))), false);
    is(cmp("eq", field("tags"), lit(json!(["a", "b"]))), true);
    is(cmp("eq", field("tags"), lit(json!(["a"]))), false);
    is(cmp("eq", field("tags"), lit(json!(["a", "c"]))), false);
    // Different types are never equal.
    is(cmp("eq", field("amount"), lit(json!("120"))), false);
    is(cmp("eq", field("vip"), lit(json!(1))), false);
    // Ordering needs numbers.
    assert!(eval(cmp("lt", field("region"), lit(json!("F")))).is_err());
}

#[test]
fn nested_fields_are_read_by_path() {
    is(
        cmp(
            "eq",
            json!({"op": "field", "path": ["subject", "role"]}),
            lit(json!("analyst")),
        ),
        true,
    );
    is(json!({"op": "has", "path": ["subject", "role"]}), true);
    is(json!({"op": "has", "path": ["subject", "team"]}), false);
    is(json!({"op": "has", "path": ["nothing"]}), false);
    assert!(
        eval(cmp("eq", field("subject"), lit(json!("x")))).is_err(),
        "a record cannot be compared"
    );
}

#[test]
fn absent_fields_make_comparisons_false_and_not_true() {
    for op in ["eq", "ne", "lt", "le", "gt", "ge"] {
        is(cmp(op, field("missing"), lit(json!(1))), false);
        is(cmp(op, lit(json!(1)), field("nothing")), false);
    }
    is(json!({"op": "not", "e": field("missing")}), true);
    is(
        json!({"op": "in", "item": field("missing"), "set": lit(json!(["EU"])), "negated": false}),
        false,
    );
    is(
        json!({"op": "in", "item": field("missing"), "set": lit(json!(["EU"])), "negated": true}),
        false,
    );
    is(
        json!({"op": "in", "item": field("region"), "set": field("missing"), "negated": false}),
        false,
    );
    is(
        json!({"op": "in", "item": field("region"), "set": field("missing"), "negated": true}),
        false,
    );
    is(field("missing"), false);
}

#[test]
fn in_reads_literal_sets_and_sets_from_the_request() {
    for (set, found) in [
        (lit(json!(["US", "EU"])), true),
        (lit(json!(["US"])), false),
        (field("allowed"), true),
        (field("tags"), false),
    ] {
        is(
            json!({"op": "in", "item": field("region"), "set": set, "negated": false}),
            found,
        );
        is(
            json!({"op": "in", "item": field("region"), "set": set, "negated": true}),
            !found,
        );
    }
    is(
        json!({"op": "in", "item": field("amount"), "set": lit(json!([1, 120])), "negated": false}),
        true,
    );
    is(
        json!({"op": "in", "item": field("vip"), "set": lit(json!([false])), "negated": false}),
        false,
    );
    is(
        json!({"op": "in", "item": field("tags"), "set": lit(json!([["a", "b"]])), "negated": false}),
        true,
    );
    is(
        json!({"op": "in", "item": field("amount"), "set": lit(json!([[120]])), "negated": false}),
        false,
    );
    assert!(eval(
        json!({"op": "in", "item": field("region"), "set": field("amount"), "negated": false})
    )
    .is_err());
}

#[test]
fn not_and_or_combine() {
    let t = cmp("eq", field("region"), lit(json!("EU")));
    let f = cmp("eq", field("region"), lit(json!("US")));
    is(json!({"op": "not", "e": t}), false);
    is(json!({"op": "not", "e": f}), true);
    for (a, b) in [(false, false), (false, true), (true, false), (true, true)] {
        let (x, y) = (if a { &t } else { &f }, if b { &t } else { &f });
        is(json!({"op": "and", "all": [x, y]}), a && b);
        is(json!({"op": "or", "any": [x, y]}), a || b);
    }
    is(json!({"op": "and", "all": []}), true);
    is(json!({"op": "or", "any": []}), false);
    // A fault in a branch that is read is a fault, never a "true".
    let fault = cmp("lt", field("region"), lit(json!(1)));
    assert!(eval(json!({"op": "and", "all": [t, fault]})).is_err());
    assert!(eval(json!({"op": "or", "any": [f, fault]})).is_err());
    assert!(eval(json!({"op": "not", "e": lit(json!(3))})).is_err());
    assert!(
        eval(lit(json!("yes"))).is_err(),
        "a condition must be a boolean"
    );
}

#[test]
fn the_intent_and_the_agent_are_read() {
    is(json!({"op": "intent_is", "intent": 4}), true);
    is(json!({"op": "intent_is", "intent": 3}), false);
    is(
        cmp("eq", json!({"op": "agent_trust"}), lit(json!(0.9))),
        true,
    );
    is(
        cmp("eq", json!({"op": "agent_cost"}), lit(json!(2.5))),
        true,
    );
    is(
        cmp("eq", json!({"op": "agent_region"}), lit(json!("eu-west"))),
        true,
    );
    is(
        cmp("eq", json!({"op": "agent_zone"}), lit(json!("a"))),
        true,
    );
    is(
        cmp("eq", json!({"op": "agent_name"}), lit(json!("doc_parser"))),
        true,
    );
    is(
        cmp(
            "eq",
            json!({"op": "agent_label", "key": "tier"}),
            lit(json!("gold")),
        ),
        true,
    );
    is(
        cmp(
            "eq",
            json!({"op": "agent_label", "key": "none"}),
            lit(json!("gold")),
        ),
        false,
    );
    is(json!({"op": "agent_provides", "cap": 3}), true);
    is(json!({"op": "agent_provides", "cap": 2}), false);
    is(json!({"op": "data_touches", "any": [1, 5]}), true);
    is(json!({"op": "data_touches", "any": [1, 3]}), false);
    is(
        cmp("lt", json!({"op": "response_confidence"}), lit(json!(0.5))),
        true,
    );
    is(json!({"op": "response_data_touches", "any": [7]}), true);
    is(json!({"op": "response_data_touches", "any": [2]}), false);
}

#[test]
fn what_is_not_there_to_read_is_a_fault() {
    let ctx = context();
    let env = Env {
        context: &ctx,
        confidence: 0.8,
        depth: 0,
        intent: 0,
        agent: None,
        caller: None,
        data: &[],
        response: None,
    };
    for e in [
        cmp("eq", json!({"op": "agent_trust"}), lit(json!(1))),
        cmp("eq", json!({"op": "response_confidence"}), lit(json!(1))),
        json!({"op": "response_data_touches", "any": [1]}),
    ] {
        assert!(holds(&expr(e.clone()), &env).is_err(), "{e}");
    }
    let a = agent();
    let no_confidence = Env {
        agent: Some(&a),
        caller: None,
        response: Some((None, &[])),
        ..env
    };
    assert!(holds(
        &expr(cmp(
            "lt",
            json!({"op": "response_confidence"}),
            lit(json!(1))
        )),
        &no_confidence
    )
    .is_err());
}

/// Membership in a literal set compares by value and by type: a number, a boolean, a list of
/// the same length and members (mutants of these comparisons survived the cases above).
#[test]
fn literal_set_members_are_compared_exactly() {
    let member = |item: &str, set: Value| json!({"op": "in", "item": field(item), "set": lit(set), "negated": false});
    is(member("vip", json!([true])), true);
    is(member("vip", json!([false])), false);
    is(member("amount", json!([120])), true);
    is(member("amount", json!([1])), false);
    is(member("tags", json!([["a", "b"]])), true);
    is(member("tags", json!([["a"]])), false);
    is(member("tags", json!([["a", "c"]])), false);
}

/// Long literal lists (read as sets): every type of member, `0` and `-0`, lists as members,
/// absent and faulting items.
#[test]
fn long_literal_sets_mean_what_short_ones_do() {
    let many = |extra: Value| {
        let mut members: Vec<Value> = (0..10).map(|i| json!(format!("r{i}"))).collect();
        members.push(extra);
        lit(Value::Array(members))
    };
    let is_in =
        |item: Value, set: Value| json!({"op": "in", "item": item, "set": set, "negated": false});
    is(is_in(field("region"), many(json!("EU"))), true);
    is(is_in(field("region"), many(json!("eu"))), false);
    is(is_in(field("amount"), many(json!(120.0))), true);
    is(is_in(field("amount"), many(json!("120"))), false);
    is(is_in(lit(json!(0)), many(json!(-0.0))), true);
    is(is_in(field("vip"), many(json!(true))), true);
    is(is_in(field("vip"), many(json!(1))), false);
    is(is_in(field("tags"), many(json!(["a", "b"]))), true);
    is(is_in(field("tags"), many(json!(["b", "a"]))), false);
    is(is_in(field("nothing"), many(json!("EU"))), false);
    is(is_in(field("missing"), many(json!("EU"))), false);
    assert!(eval(is_in(field("subject"), many(json!("EU")))).is_err());
    let not_in =
        json!({"op": "in", "item": field("region"), "set": many(json!("EU")), "negated": true});
    is(not_in, false);
}

fn member() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        prop_oneof![Just("a"), Just("b"), Just("EU"), Just("")].prop_map(|s| json!(s)),
        prop_oneof![
            Just(json!(0)),
            Just(json!(-0.0)),
            Just(json!(120)),
            Just(json!(1.5))
        ],
        any::<bool>().prop_map(|b| json!(b)),
    ];
    prop_oneof![
        4 => scalar.clone(),
        1 => proptest::collection::vec(scalar, 0..3).prop_map(Value::Array),
    ]
}

proptest! {
    /// A literal list read as a set answers as the list scanned, on any item.
    #[test]
    fn sets_answer_as_scans(
        members in proptest::collection::vec(member(), 0..20),
        item in prop_oneof![
            member(),
            Just(json!(null)),
            Just(json!({"x": 1})),
            Just(json!([{"x": 1}])),
        ],
        negated in any::<bool>(),
    ) {
        let mut ctx = context();
        ctx.insert("probe".into(), item);
        let a = agent();
        let env = Env {
            context: &ctx,
            confidence: 0.8,
            depth: 2,
            intent: 4,
            agent: Some(&a),
            caller: None,
            data: &[2, 5],
            response: None,
        };
        let e = expr(json!({
            "op": "in", "item": field("probe"), "set": lit(Value::Array(members)), "negated": negated
        }));
        let sets = Sets::new([&e]);
        prop_assert_eq!(holds_in(&e, &env, &sets), holds(&e, &env));
    }
}

/// The verified caller (`caller.*`, `has caller`): read from the plan's agent the request's
/// caller names; for an anonymous caller every operand is absent, so every comparison with it
/// is false, `not` of one is true, `in` and `not in` are false, and nothing faults.
#[test]
fn the_caller_is_read_from_its_agent_and_absent_without_one() {
    let ctx = context();
    let a = agent();
    let with = Env {
        context: &ctx,
        confidence: 0.8,
        depth: 0,
        intent: 0,
        agent: None,
        caller: Some(&a),
        data: &[],
        response: None,
    };
    let without = Env {
        caller: None,
        ..with
    };
    let name = json!({"op": "caller_name"});
    let trust = json!({"op": "caller_trust"});
    let tier = json!({"op": "caller_label", "key": "tier"});
    let cases = [
        // (expression, with the caller, anonymous)
        (json!({"op": "has_caller"}), true, false),
        (
            cmp("eq", name.clone(), lit(json!("doc_parser"))),
            true,
            false,
        ),
        (cmp("ne", name.clone(), lit(json!("other"))), true, false),
        (cmp("ge", trust.clone(), lit(json!(0.9))), true, false),
        (cmp("lt", trust.clone(), lit(json!(0.5))), false, false),
        (
            json!({"op": "not", "e": cmp("lt", trust.clone(), lit(json!(0.5)))}),
            true,
            true,
        ),
        (
            cmp("eq", json!({"op": "caller_region"}), lit(json!("eu-west"))),
            true,
            false,
        ),
        (
            cmp("eq", json!({"op": "caller_zone"}), lit(json!("a"))),
            true,
            false,
        ),
        (cmp("eq", tier.clone(), lit(json!("gold"))), true, false),
        (
            cmp(
                "eq",
                json!({"op": "caller_label", "key": "none"}),
                lit(json!("gold")),
            ),
            false,
            false,
        ),
        (json!({"op": "caller_provides", "cap": 3}), true, false),
        (json!({"op": "caller_provides", "cap": 2}), false, false),
        (
            json!({"op": "not", "e": {"op": "caller_provides", "cap": 2}}),
            true,
            true,
        ),
        (
            json!({"op": "in", "item": name.clone(), "set": lit(json!(["x", "doc_parser"])), "negated": false}),
            true,
            false,
        ),
        (
            json!({"op": "in", "item": name.clone(), "set": lit(json!(["x"])), "negated": true}),
            true,
            false,
        ),
        // The caller is not the agent being checked.
        (cmp("eq", trust, json!({"op": "agent_trust"})), false, false),
    ];
    let b = Agent {
        trust: 0.5,
        ..agent()
    };
    let with = Env {
        agent: Some(&b),
        ..with
    };
    let without = Env {
        agent: Some(&b),
        ..without
    };
    for (e, yes, anonymous) in cases {
        let x = expr(e.clone());
        assert_eq!(holds(&x, &with), Ok(yes), "{e} with a caller");
        assert_eq!(holds(&x, &without), Ok(anonymous), "{e} without one");
    }
}

fn in_lit(item: Value, members: Value) -> Value {
    json!({"op": "in", "item": item, "set": lit(members), "negated": false})
}

/// `only_caller` (what `intent mcp` lists a caller's tools by) and `reads_caller` (whether a
/// decision must resolve the caller, whether the Cedar context declares it), operator by
/// operator: a condition is known from the caller alone when every operand it reads is a
/// literal or the caller, and reads the caller when one operand does.
#[test]
fn conditions_are_told_apart_by_whether_they_read_the_caller() {
    use intent_runtime::eval::{only_caller, reads_caller};
    let name = json!({"op": "caller_name"});
    let trust = json!({"op": "caller_trust"});
    // (condition, only_caller, reads_caller)
    let cases = [
        (lit(json!(true)), true, false),
        (name.clone(), true, true),
        (trust.clone(), true, true),
        (json!({"op": "caller_region"}), true, true),
        (json!({"op": "caller_zone"}), true, true),
        (json!({"op": "caller_label", "key": "tier"}), true, true),
        (json!({"op": "caller_provides", "cap": 1}), true, true),
        (json!({"op": "has_caller"}), true, true),
        (json!({"op": "not", "e": {"op": "has_caller"}}), true, true),
        (json!({"op": "not", "e": field("vip")}), false, false),
        (
            json!({"op": "and", "all": [{"op": "has_caller"}, lit(json!(true))]}),
            true,
            true,
        ),
        (
            json!({"op": "or", "any": [lit(json!(false)), {"op": "has_caller"}]}),
            true,
            true,
        ),
        (
            json!({"op": "and", "all": [{"op": "has_caller"}, field("vip")]}),
            false,
            true,
        ),
        (
            json!({"op": "or", "any": [field("vip"), lit(json!(false))]}),
            false,
            false,
        ),
        (cmp("ge", trust.clone(), lit(json!(0.5))), true, true),
        (cmp("ge", lit(json!(0.5)), trust.clone()), true, true),
        (cmp("ge", trust.clone(), field("amount")), false, true),
        (cmp("ge", field("amount"), trust.clone()), false, true),
        (cmp("ge", field("amount"), lit(json!(1))), false, false),
        (in_lit(name.clone(), json!(["a", "b"])), true, true),
        (in_lit(field("region"), json!(["EU"])), false, false),
        (
            json!({"op": "in", "item": lit(json!("a")), "set": field("tags"), "negated": false}),
            false,
            false,
        ),
        (
            json!({"op": "in", "item": name.clone(), "set": field("tags"), "negated": false}),
            false,
            true,
        ),
        (
            json!({"op": "in", "item": lit(json!("EU")), "set": {"op": "caller_label", "key": "regions"}, "negated": true}),
            true,
            true,
        ),
        (json!({"op": "confidence"}), false, false),
        (json!({"op": "agent_name"}), false, false),
        (json!({"op": "intent_is", "intent": 1}), false, false),
        (json!({"op": "has", "path": ["vip"]}), false, false),
    ];
    for (e, only, reads) in cases {
        let x = expr(e.clone());
        assert_eq!(only_caller(&x), only, "only_caller({e})");
        assert_eq!(reads_caller(&x), reads, "reads_caller({e})");
    }
}

/// A plan reads the caller when a route arm, a rule's `when` or a rule's `unless` does (then
/// its Cedar context declares `caller`); the golden plans read none.
#[test]
fn a_plan_reads_the_caller_through_an_arm_or_a_rule() {
    use intent_runtime::eval::plan_reads_caller;
    use intent_runtime::plan::Plan;
    let path =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/finance.plan.json");
    let plan: Plan = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(!plan_reads_caller(&plan));
    assert!(!plan.rules.is_empty());
    let reads = expr(json!({"op": "has_caller"}));

    let mut arm = plan.clone();
    let first = arm
        .intents
        .iter_mut()
        .find_map(|i| i.route.arms.first_mut())
        .unwrap();
    first.when = Some(reads.clone());
    assert!(plan_reads_caller(&arm));

    let mut when = plan.clone();
    when.rules[0].when = Some(reads.clone());
    assert!(plan_reads_caller(&when));

    let mut unless = plan.clone();
    unless.rules[0].unless = Some(reads);
    assert!(plan_reads_caller(&unless));
}
