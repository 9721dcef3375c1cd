//! The Rego peer of `decide.rs`: the same rules as data (`data.rules[agent][intent]`, a
//! threshold and the allowed regions; `data.agents[agent]`, its region) under one Rego policy,
//! evaluated by regorus, Microsoft's Rego engine in Rust, on its virtual machine (RVM): the
//! "rules as data" form a Rego user would write for these rules, and the fastest flat peer
//! issue 14 names.

use intent_runtime::plan::{CmpOp, Expr, Plan, RuleKind, Value};
use intent_runtime::Request;
use serde_json::{json, Map, Value as Json};

/// The policy: a request is allowed when its agent's rule for its intent holds and the
/// GDPR-style forbid does not (every intent of the bench handles personal data).
pub const POLICY: &str = r#"package bench

import rego.v1

default allow := false

allow if {
	r := data.rules[input.agent][input.intent]
	input.confidence >= r.t
	input.region in r.regions
	not forbidden
}

forbidden if {
	input.residency == "EU"
	not data.agents[input.agent] in {"eu-west-1", "eu-central-1"}
}
"#;

/// The data document: each permit rule's threshold and regions by (agent, intent), read back
/// from the plan's rules (`pairs[n]`: the agent and intent of permit rule `n`), and each
/// agent's region.
pub fn data(plan: &Plan, pairs: &[(usize, usize)]) -> Json {
    let mut rules: Map<String, Json> = Map::new();
    for (n, rule) in plan.rules.iter().enumerate() {
        if rule.kind != RuleKind::Permit {
            continue;
        }
        let Some(Expr::And { all }) = &rule.when else {
            panic!("permit {} is not an `and`", rule.id);
        };
        let mut threshold = None;
        let mut regions = Vec::new();
        for part in all {
            match part {
                Expr::Cmp {
                    cmp: CmpOp::Ge,
                    rhs,
                    ..
                } => {
                    if let Expr::Lit {
                        value: Value::Number(t),
                    } = &**rhs
                    {
                        threshold = Some(*t);
                    }
                }
                Expr::In { set, .. } => {
                    if let Expr::Lit {
                        value: Value::List(items),
                    } = &**set
                    {
                        regions.extend(items.iter().filter_map(|v| match v {
                            Value::String(s) => Some(s.clone()),
                            _ => None,
                        }));
                    }
                }
                _ => {}
            }
        }
        let (agent, intent) = pairs[n];
        let agent = &plan.agents[agent].name;
        let intent = &plan.intents[intent].name;
        let by_intent = rules
            .entry(agent.clone())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .unwrap();
        by_intent.insert(
            intent.clone(),
            json!({ "t": threshold.unwrap(), "regions": regions }),
        );
    }
    let agents: Map<String, Json> = plan
        .agents
        .iter()
        .map(|a| (a.name.clone(), json!(a.region)))
        .collect();
    json!({ "rules": rules, "agents": agents })
}

/// The policy compiled for regorus's virtual machine, with the rules as its data.
pub struct Rego {
    vm: regorus::rvm::RegoVM,
}

impl Rego {
    pub fn new(plan: &Plan, pairs: &[(usize, usize)]) -> Rego {
        use regorus::languages::rego::compiler::Compiler;
        let data = regorus::Value::from_json_str(&data(plan, pairs).to_string()).unwrap();
        let mut engine = regorus::Engine::new();
        engine
            .add_policy("bench.rego".to_string(), POLICY.to_string())
            .unwrap();
        engine.add_data(data.clone()).unwrap();
        let entry = "data.bench.allow";
        let compiled = engine
            .compile_with_entrypoint(&regorus::Rc::from(entry))
            .unwrap();
        let program = Compiler::compile_from_policy(&compiled, &[entry]).unwrap();
        let mut vm = regorus::rvm::RegoVM::new();
        vm.load_program(program);
        vm.set_data(data).unwrap();
        vm.set_max_instructions(usize::MAX);
        Rego { vm }
    }

    /// Whether the policy allows `req` served by `agent`: the input built from the request,
    /// then one run of the program.
    pub fn allows(&mut self, agent: &str, req: &Request) -> bool {
        use regorus::Value as V;
        let text = |key: &str| {
            V::from(
                req.context
                    .get(key)
                    .and_then(Json::as_str)
                    .unwrap_or_default(),
            )
        };
        let input: std::collections::BTreeMap<V, V> = [
            (V::from("agent"), V::from(agent)),
            (
                V::from("intent"),
                V::from(req.intent.as_deref().unwrap_or_default()),
            ),
            (
                V::from("confidence"),
                V::from(req.confidence.unwrap_or_default()),
            ),
            (V::from("region"), text("region")),
            (V::from("residency"), text("residency")),
        ]
        .into_iter()
        .collect();
        self.vm.set_input(V::from(input));
        self.vm.execute().unwrap() == regorus::Value::from(true)
    }
}
