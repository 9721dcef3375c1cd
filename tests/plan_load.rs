//! Loading a plan into the engine: the hash the compiler writes is the hash the runtime
//! recomputes, on every example mesh, after a trip through JSON; a plan whose stated hash is
//! not its content's is refused; and hand-edited plans that break what the engine assumes
//! (a step without agents, duplicate names, a rate of 0, ...) are refused with a reason.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_compiler::{compile, Source, Stage};
use intent_runtime::plan::{self, Plan};
use intent_runtime::Engine;
use serde_json::{json, Value};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Every mesh in the repository that builds: the examples, the sidecar's and the semantics'.
const MESHES: [&str; 6] = [
    "examples/finance/finance.intent",
    "examples/healthcare/healthcare.intent",
    "examples/logistics/logistics.intent",
    "tests/serve/mesh.intent",
    "tests/semantics/guards.intent",
    "tests/semantics/filling.intent",
];

fn build(path: &str) -> Plan {
    let text = std::fs::read_to_string(format!("{ROOT}/{path}")).unwrap();
    let c = compile(&[Source::new(path, text)], Stage::Build);
    assert!(!c.has_errors(), "{path} does not build");
    c.plan.unwrap()
}

/// A change made to a plan's JSON.
type Edit = Box<dyn Fn(&mut Value)>;

/// The sidecar's mesh as plan JSON, with `edit` applied.
fn edited(edit: impl Fn(&mut Value)) -> Result<Engine, String> {
    let mut v = serde_json::to_value(build("tests/serve/mesh.intent")).unwrap();
    edit(&mut v);
    Engine::from_json(&v.to_string()).map_err(|e| e.to_string())
}

/// The sidecar's mesh with `edit` applied and its hash cleared (so the edit itself is judged).
fn refused(what: &str, edit: impl Fn(&mut Value)) -> String {
    match edited(|v| {
        edit(v);
        v["plan_hash"] = json!("");
    }) {
        Ok(_) => panic!("{what}: the edited plan was accepted"),
        Err(e) => e,
    }
}

#[test]
fn compiler_and_runtime_agree_on_the_hash_of_every_mesh() {
    for path in MESHES {
        let plan = build(path);
        assert_eq!(plan.plan_hash.len(), 64, "{path}");
        assert_eq!(plan::plan_hash(&plan), plan.plan_hash, "{path}");
        assert_eq!(
            intent_compiler::compile::plan_hash(&plan),
            plan.plan_hash,
            "{path}"
        );
        // Written as `intent build` writes it, read back as `intent serve --plan` reads it.
        let text = serde_json::to_string_pretty(&plan).unwrap();
        let engine = Engine::from_json(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(engine.plan_hash(), plan.plan_hash, "{path}");
    }
}

#[test]
fn a_stated_hash_that_is_not_the_contents_is_refused() {
    // New content under the old hash.
    let e = edited(|v| v["agents"][0]["trust"] = json!(0.1)).unwrap_err();
    assert!(e.contains("is not the hash of the plan's content"), "{e}");
    // Any string as the hash.
    let e = edited(|v| v["plan_hash"] = json!("sha256:anything")).unwrap_err();
    assert!(e.contains("the stated plan_hash sha256:anything"), "{e}");
}

#[test]
fn an_empty_hash_is_computed_from_the_content() {
    let plan = build("tests/serve/mesh.intent");
    let engine = edited(|v| v["plan_hash"] = json!("")).unwrap();
    assert_eq!(engine.plan_hash(), plan.plan_hash);
    assert_eq!(engine.plan().plan_hash, plan.plan_hash);
}

#[test]
fn the_hash_follows_meaning_not_source_locations() {
    let plan = build("tests/serve/mesh.intent");
    let mut moved = plan.clone();
    moved.source_map.iter_mut().for_each(|s| s.line += 10);
    moved.agents.iter_mut().for_each(|a| a.src = 0);
    assert_eq!(plan::plan_hash(&moved), plan.plan_hash);
    // A label named `src` is meaning, not a source reference.
    let mut labelled = plan.clone();
    labelled.agents[0]
        .labels
        .insert("src".into(), plan::Value::String("eu".into()));
    let mut relabelled = labelled.clone();
    relabelled.agents[0]
        .labels
        .insert("src".into(), plan::Value::String("us".into()));
    assert_ne!(plan::plan_hash(&labelled), plan::plan_hash(&relabelled));
}

#[test]
fn hand_edited_plans_that_break_the_engines_assumptions_are_refused() {
    // Each: the edit, and what the refusal says.
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "a step whose only target is `any` of what no agent provides",
            Box::new(|v| {
                let cap = v["capabilities"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .position(|c| c["name"] == "orders.take")
                    .unwrap();
                v["agents"][0]["provides"] = json!([]);
                v["intents"][2]["route"]["arms"][2]["action"]["step"]["target"] =
                    json!({"kind": "any", "id": cap});
            }),
            "step dispatch has no agent to try",
        ),
        (
            "a plan arm without steps",
            Box::new(|v| {
                v["intents"][2]["route"]["arms"][0]["action"] = json!({"kind": "plan", "steps": []})
            }),
            "a plan arm has no steps",
        ),
        (
            "two agents of one name",
            Box::new(|v| v["agents"][1]["name"] = v["agents"][0]["name"].clone()),
            "two agents are named `order_desk`",
        ),
        (
            "two intents of one name",
            Box::new(|v| v["intents"][1]["name"] = v["intents"][0]["name"].clone()),
            "two intents are named",
        ),
        (
            "a rate of 0",
            Box::new(|v| v["limits"]["rates"][0]["count"] = json!(0)),
            "the count and the window must be at least 1",
        ),
        (
            "a rate window of 0 ms",
            Box::new(|v| v["limits"]["rates"][0]["per_ms"] = json!(0)),
            "the count and the window must be at least 1",
        ),
        (
            "a breaker of 0 failures",
            Box::new(|v| v["limits"]["breakers"][0]["failures"] = json!(0)),
            "both must be at least 1",
        ),
        (
            "a breaker on a human",
            Box::new(|v| v["limits"]["breakers"][0]["target"] = json!({"kind": "human", "id": 0})),
            "a breaker applies to agents",
        ),
        (
            "an escalation to nobody",
            Box::new(|v| v["intents"][2]["route"]["arms"][1]["action"]["humans"] = json!([])),
            "an escalate arm names no human",
        ),
        (
            "trust above 1",
            Box::new(|v| v["agents"][0]["trust"] = json!(7.0)),
            "trust must be between 0 and 1",
        ),
        (
            "a negative cost",
            Box::new(|v| v["agents"][0]["cost"] = json!(-1.0)),
            "cost must be at least 0",
        ),
        (
            "a delegation depth of 0",
            Box::new(|v| v["limits"]["delegation_depth"] = json!(0)),
            "the delegation depth must be at least 1",
        ),
        (
            "a source reference out of range",
            Box::new(|v| v["humans"][0]["src"] = json!(9999)),
            "source index 9999 is out of range",
        ),
        (
            "a caller tested for a capability the plan does not have",
            Box::new(|v| {
                v["intents"][2]["route"]["arms"][0]["when"] =
                    json!({"op": "caller_provides", "cap": 9999})
            }),
            "capability index 9999 is out of range",
        ),
    ];
    let plan = serde_json::to_value(build("tests/serve/mesh.intent")).unwrap();
    // The indexes the edits rely on.
    assert_eq!(plan["agents"][0]["name"], "order_desk");
    assert_eq!(plan["intents"][2]["name"], "take_order");
    assert_eq!(
        plan["intents"][2]["route"]["arms"][1]["action"]["kind"],
        "escalate"
    );
    assert_eq!(
        plan["intents"][2]["route"]["arms"][2]["action"]["kind"],
        "dispatch"
    );
    for (what, edit, says) in cases {
        let e = refused(what, edit);
        assert!(e.contains(says), "{what}: {e}");
    }
}

#[test]
fn steps_and_rules_keep_their_shape() {
    // Two steps of one plan with one name, and `after` in a cycle.
    let mesh = r#"
capability a.do
agent x { provides a.do }
intent go { requires a.do }
route go { otherwise => plan { one: x  two: x after one } }
"#;
    let c = compile(&[Source::new("m.intent", mesh)], Stage::Build);
    assert!(!c.has_errors());
    let v = serde_json::to_value(c.plan.unwrap()).unwrap();
    let steps = "/intents/0/route/arms/0/action/steps";
    assert!(v.pointer(steps).is_some(), "{v}");
    let load = |edit: &dyn Fn(&mut Value)| {
        let mut v = v.clone();
        edit(&mut v);
        v["plan_hash"] = json!("");
        Engine::from_json(&v.to_string())
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert_eq!(load(&|_| {}), Ok(()));
    let e = load(&|v| *v.pointer_mut(&format!("{steps}/1/name")).unwrap() = json!("one"));
    assert!(e
        .unwrap_err()
        .contains("two steps of one plan are named `one`"));
    let e = load(&|v| *v.pointer_mut(&format!("{steps}/0/after")).unwrap() = json!([1]));
    assert!(e.unwrap_err().contains("the steps' `after` form a cycle"));
    let e = load(&|v| *v.pointer_mut(&format!("{steps}/0/after")).unwrap() = json!([0]));
    assert!(e.unwrap_err().contains("form a cycle"));
}

#[test]
fn rules_have_the_parts_their_kind_has() {
    let v = serde_json::to_value(build("tests/semantics/filling.intent")).unwrap();
    let load = |edit: &dyn Fn(&mut Value)| {
        let mut v = v.clone();
        edit(&mut v);
        v["plan_hash"] = json!("");
        Engine::from_json(&v.to_string())
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert_eq!(load(&|_| {}), Ok(()));
    let rule = |v: &Value, kind: &str| {
        v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .position(|r| r["kind"] == kind)
            .unwrap()
    };
    let permit = rule(&v, "permit");
    let escalate = rule(&v, "escalate");
    let e = load(&|v| v["rules"][permit]["when"] = Value::Null).unwrap_err();
    assert!(e.contains("only a forbid may omit `when`"), "{e}");
    let e = load(&|v| v["rules"][escalate]["humans"] = json!([])).unwrap_err();
    assert!(
        e.contains("an escalate rule names at least one human"),
        "{e}"
    );
    let e = load(&|v| v["rules"][permit]["id"] = v["rules"][escalate]["id"].clone());
    assert!(e.unwrap_err().contains("two rules are named"));
}
