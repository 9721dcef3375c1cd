//! Differential test: for every generated request and every (agent, capability) pair, the
//! runtime's policy verdict equals cedar-policy's on the Cedar policies the compiler emits.
//! Run over the bundled examples and over randomly generated meshes, with and without a
//! verified caller (`caller.*` conditions read `context.caller` in Cedar).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_compiler::cedar::Oracle;
use intent_compiler::{compile, Source, Stage};
use intent_runtime::plan::{Plan, Type};
use intent_runtime::Engine;
use serde_json::{json, Map, Value};

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    /// A number with at most two decimals (Cedar decimals keep four).
    fn number(&mut self, max: u64) -> f64 {
        (self.next() % (max * 100 + 1)) as f64 / 100.0
    }
}

const STRINGS: &[&str] = &["EU", "US", "eu-west-1", "us-east-1", "web", "x"];

fn value(rng: &mut Rng, ty: &Type) -> Value {
    match ty {
        Type::Bool => json!(rng.chance(50)),
        Type::Number => json!(rng.number(20_000)),
        Type::Duration => json!(rng.below(100_000)),
        Type::String => json!(STRINGS[rng.below(STRINGS.len())]),
        Type::Enum { values } => json!(values[rng.below(values.len())]),
        Type::Set { of } | Type::List { of } => {
            Value::Array((0..rng.below(3)).map(|_| value(rng, of)).collect())
        }
        Type::Record { fields } => {
            let mut m = Map::new();
            for f in fields {
                if !f.optional || rng.chance(60) {
                    m.insert(f.name.clone(), value(rng, &f.ty));
                }
            }
            Value::Object(m)
        }
    }
}

/// Compares runtime and Cedar on `requests` random requests; returns the number of
/// (request, agent, capability) verdicts compared and how many of them allowed.
fn compare(plan: &Plan, requests: usize, seed: u64) -> (usize, usize) {
    let oracle = Oracle::new(plan, &plan.cedar).unwrap();
    let engine = Engine::from_plan(plan.clone()).unwrap();
    let mut rng = Rng(seed);
    let (mut compared, mut allowed) = (0, 0);
    for _ in 0..requests {
        let Value::Object(context) = value(&mut rng, &plan.context) else {
            panic!("context is a record")
        };
        let confidence = rng.number(1);
        let depth = rng.below(4) as u32;
        let intent = rng.below(plan.intents.len()) as u32;
        let mut data: Vec<u32> = (0..plan.data_classes.len() as u32)
            .filter(|_| rng.chance(12))
            .collect();
        data.sort_unstable();
        let agent = rng.below(plan.agents.len()) as u32;
        // A quarter of the requests are anonymous: every `caller` operand is absent.
        let caller = (!rng.chance(25)).then(|| rng.below(plan.agents.len()) as u32);
        let ours = engine
            .permitted_as(caller, agent, intent, confidence, depth, &data, &context)
            .unwrap();
        for &cap in &plan.agents[agent as usize].provides {
            let cedar = oracle
                .authorize_as(
                    plan,
                    caller,
                    agent,
                    cap,
                    intent,
                    confidence,
                    depth,
                    &data,
                    &Value::Object(context.clone()),
                )
                .unwrap();
            assert_eq!(
                ours, cedar,
                "runtime and Cedar disagree for agent {} capability {} data {:?} confidence {confidence} caller {caller:?} context {}",
                plan.agents[agent as usize].name, plan.capabilities[cap as usize].name, data, Value::Object(context.clone())
            );
            compared += 1;
            allowed += usize::from(cedar);
        }
    }
    (compared, allowed)
}

fn build(path: &str, text: &str) -> Plan {
    let c = compile(&[Source::new(path, text)], Stage::Build);
    assert!(
        !c.has_errors(),
        "{}",
        intent_compiler::render::human(&c.diagnostics, &c.sources, false)
    );
    c.plan.unwrap()
}

#[test]
fn runtime_agrees_with_cedar_on_the_examples() {
    let (mut total, mut allowed) = (0, 0);
    for name in ["finance", "logistics", "healthcare"] {
        let path = format!(
            "{}/examples/{name}/{name}.intent",
            env!("CARGO_MANIFEST_DIR")
        );
        let plan = build(&path, &std::fs::read_to_string(&path).unwrap());
        let (n, a) = compare(&plan, 1_500, 0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
        total += n;
        allowed += a;
    }
    println!("examples: {total} step verdicts compared with cedar-policy ({allowed} allowed)");
    assert!(total > 3_000, "{total}");
    assert!(
        allowed > total / 10 && allowed < total * 9 / 10,
        "both answers are exercised: {allowed} of {total}"
    );
}

/// A random condition over the mesh's context and agents.
fn condition(rng: &mut Rng, depth: usize) -> String {
    let atoms = [
        "data touches pii",
        "data touches financial",
        "data touches public",
        "agent.trust >= 0.5",
        "agent.trust < 0.8",
        "agent.region == \"eu-west-1\"",
        "agent.region in {\"eu-west-1\", \"eu-central-1\"}",
        "agent.region not in {\"us-east-1\"}",
        "agent.cost > 2",
        "agent.labels.tier == \"gold\"",
        "agent provides work.read",
        "residency == \"EU\"",
        "residency != \"US\"",
        "has amount and amount > 100",
        "amount > 5000",
        "not (amount < 10)",
        "tags has_ignored",
        "\"vip\" in tags",
        "confidence < 0.7",
        "confidence >= 0.9",
        "depth > 1",
        "intent == read",
        "intent != write",
        "intent in {read, write}",
        // Conditions the runtime files rules by (agent, intent) for.
        "agent.name == \"a1\"",
        "\"a2\" == agent.name",
        "agent.name in {\"a0\", \"a3\"}",
        "(agent.name == \"a4\" and intent == write)",
        "urgent == true",
        "urgent",
        "not urgent",
        "wait > 30s",
        // The verified caller: absent for a quarter of the requests.
        "has caller",
        "not has caller",
        "has caller and caller.trust >= 0.5",
        "caller.trust < 0.5",
        "caller.name == \"a1\"",
        "caller.name in {\"a0\", \"a2\"}",
        "caller.region not in {\"us-east-1\"}",
        "caller.labels.tier == \"gold\"",
        "caller provides work.write",
        "not caller provides work.read",
        "caller.trust > agent.trust",
        "caller.region == agent.region",
    ];
    if depth == 0 || rng.chance(40) {
        let a = atoms[rng.below(atoms.len())];
        // `tags has_ignored` is not an atom: use a harmless one instead.
        return if a.contains("has_ignored") {
            "channel == \"web\"".into()
        } else {
            a.into()
        };
    }
    let l = condition(rng, depth - 1);
    let r = condition(rng, depth - 1);
    match rng.below(3) {
        0 => format!("({l} and {r})"),
        1 => format!("({l} or {r})"),
        _ => format!("not ({l})"),
    }
}

fn mesh(rng: &mut Rng) -> String {
    let mut s = String::from(
        "package gen\nuse std.data.{pii, financial, public}\ncapability work.read\ncapability work.write\n\
         context {\n  residency: \"EU\" | \"US\"\n  channel: string\n  amount?: number\n  tags: set<string>\n  urgent?: bool\n  wait: duration\n}\n",
    );
    let regions = ["eu-west-1", "eu-central-1", "us-east-1"];
    for i in 0..5 {
        let provides = ["work.read", "work.write", "work.read, work.write", "work"][rng.below(4)];
        let clearance = ["pii", "financial", "pii, financial", "public"][rng.below(4)];
        let label = if rng.chance(50) {
            format!(
                "  labels {{ tier: \"{}\" }}",
                ["gold", "basic"][rng.below(2)]
            )
        } else {
            String::new()
        };
        s.push_str(&format!(
            "agent a{i} {{ provides {provides}  clearance {clearance}  trust {}  cost {}  region \"{}\"{label} }}\n",
            rng.number(1),
            rng.below(5),
            regions[rng.below(3)]
        ));
    }
    s.push_str("intent read { requires work.read  handles pii }\nintent write { requires work.write  handles financial }\n");
    s.push_str("route read { otherwise => dispatch any work.read }\nroute write { otherwise => dispatch any work.write }\n");
    s.push_str("policy generated {\n");
    for _ in 0..(1 + rng.below(5)) {
        let c = condition(rng, 2);
        match rng.below(3) {
            0 => s.push_str(&format!("  permit when {c}\n")),
            1 => s.push_str(&format!(
                "  forbid when {c} unless {} because \"generated\"\n",
                condition(rng, 1)
            )),
            _ => s.push_str(&format!("  forbid when {c} because \"generated\"\n")),
        }
    }
    s.push_str("}\n");
    s
}

#[test]
fn runtime_agrees_with_cedar_on_generated_meshes() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut total, mut allowed, mut meshes, mut with_caller) = (0, 0, 0, 0);
    for _ in 0..40 {
        let text = mesh(&mut rng);
        let c = compile(&[Source::new("gen.intent", text.as_str())], Stage::Build);
        if c.has_errors() {
            panic!(
                "generated mesh does not compile:\n{text}\n{}",
                intent_compiler::render::human(&c.diagnostics, &c.sources, false)
            );
        }
        with_caller += usize::from(intent_runtime::eval::plan_reads_caller(
            c.plan.as_ref().unwrap(),
        ));
        let (n, a) = compare(c.plan.as_ref().unwrap(), 150, rng.next());
        total += n;
        allowed += a;
        meshes += 1;
    }
    println!("generated: {meshes} meshes ({with_caller} reading the caller), {total} step verdicts compared with cedar-policy ({allowed} allowed)");
    assert!(
        with_caller >= 10,
        "caller conditions are exercised: {with_caller}"
    );
    assert!(total > 5_000, "{total}");
    assert!(
        allowed > total / 10 && allowed < total * 9 / 10,
        "both answers are exercised: {allowed} of {total}"
    );
}

/// The runtime's `cedar` mode (feature `cedar`, `Engine::with_cedar`) decides exactly as its
/// own evaluator: same outcome, same agents, on random requests over the examples.
#[test]
fn cedar_mode_decides_like_the_native_evaluator() {
    let mut decisions = 0;
    for name in [
        "examples/finance/finance.intent",
        "examples/logistics/logistics.intent",
        "examples/healthcare/healthcare.intent",
        "tests/semantics/caller.intent",
    ] {
        let path = format!("{}/{name}", env!("CARGO_MANIFEST_DIR"));
        let plan = build(&path, &std::fs::read_to_string(&path).unwrap());
        let native = Engine::from_plan(plan.clone()).unwrap();
        let cedar = Engine::from_plan(plan.clone())
            .unwrap()
            .with_cedar()
            .unwrap();
        let mut rng = Rng(0x1234_5678 ^ name.len() as u64);
        for _ in 0..400 {
            let Value::Object(context) = value(&mut rng, &plan.context) else {
                panic!("context is a record")
            };
            let intent = plan.intents[rng.below(plan.intents.len())].name.clone();
            let mut req = intent_runtime::Request::for_intent(&intent, rng.number(1));
            req.context = context;
            if rng.chance(50) {
                let agent = plan.agents[rng.below(plan.agents.len())].name.clone();
                req.caller = Some(intent_runtime::request::Caller {
                    agent: Some(agent),
                    lineage: Vec::new(),
                });
            }
            let (a, b) = (native.decide_at(&req, 0), cedar.decide_at(&req, 0));
            assert_eq!(
                a.outcome, b.outcome,
                "{name}: {req:?}\nnative: {:?}\ncedar: {:?}",
                a.reason, b.reason
            );
            let agents = |d: &intent_runtime::Decision| {
                d.steps
                    .iter()
                    .map(|s| s.agent.to_string())
                    .collect::<Vec<_>>()
            };
            assert_eq!(agents(&a), agents(&b), "{name}: {req:?}");
            decisions += 1;
        }
    }
    println!("cedar mode: {decisions} decisions identical to the native evaluator");
}
