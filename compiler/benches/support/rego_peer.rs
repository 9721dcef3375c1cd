//! The Rego peer of `decide.rs`: the same rules as data (`data.rules[agent][intent]`, a
//! threshold and the allowed regions; `data.agents[agent]`, its region) under one Rego policy,
//! evaluated by regorus, Microsoft's Rego engine in Rust, on its virtual machine (RVM): the
//! "rules as data" form a Rego user would write for these rules, and the fastest flat peer
//! issue 14 names. Shape (d) adds the forbids on a step's target (`data.holds[agent][intent]`,
//! the tiers they block), under [`DEEP_POLICY`].

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

/// [`POLICY`] with shape (d)'s forbids: a request whose `tier` one of them blocks for the
/// agent and the intent is refused.
pub const DEEP_POLICY: &str = r#"package bench

import rego.v1

default allow := false

allow if {
	r := data.rules[input.agent][input.intent]
	input.confidence >= r.t
	input.region in r.regions
	not forbidden
	not held
}

forbidden if {
	input.residency == "EU"
	not data.agents[input.agent] in {"eu-west-1", "eu-central-1"}
}

held if input.tier in data.holds[input.agent][input.intent]
"#;

/// Shape (d) in one evaluation: for each step of `input.steps` (its candidates in order), the
/// first candidate the rules allow; a step none can take leaves the list short (a deny).
pub const DEEP_PLAN_POLICY: &str = r#"package bench

import rego.v1

chosen := [first |
	some step in input.steps
	ok := [c | some c in step; allowed(c)]
	first := ok[0]
]

allowed(c) if {
	r := data.rules[c][input.intent]
	input.confidence >= r.t
	input.region in r.regions
	not forbidden(c)
	not held(c)
}

forbidden(c) if {
	input.residency == "EU"
	not data.agents[c] in {"eu-west-1", "eu-central-1"}
}

held(c) if input.tier in data.holds[c][input.intent]
"#;

/// The data document: each permit rule's threshold and regions by (agent, intent), read back
/// from the plan's rules (`pairs[n]`: the agent and intent of permit rule `n`), each agent's
/// region, and the tiers each forbid of shape (d)'s form (`agent.name == A and intent == I and
/// tier == "K"`) blocks, by agent and intent.
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
    let mut holds: Map<String, Json> = Map::new();
    for rule in plan.rules.iter().filter(|r| r.kind == RuleKind::Forbid) {
        let Some(Expr::And { all }) = &rule.when else {
            continue;
        };
        let [Expr::Cmp {
            lhs: agent,
            rhs: name,
            ..
        }, Expr::IntentIs { intent }, Expr::Cmp { rhs: tier, .. }] = all.as_slice()
        else {
            continue;
        };
        let (
            Expr::AgentName,
            Expr::Lit {
                value: Value::String(name),
            },
            Expr::Lit {
                value: Value::String(tier),
            },
        ) = (&**agent, &**name, &**tier)
        else {
            continue;
        };
        let intent = &plan.intents[*intent as usize].name;
        let tiers = holds
            .entry(name.clone())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .unwrap()
            .entry(intent.clone())
            .or_insert_with(|| json!([]));
        tiers.as_array_mut().unwrap().push(json!(tier));
    }
    json!({ "rules": rules, "agents": agents, "holds": holds })
}

/// The policy compiled for regorus's virtual machine, with the rules as its data.
pub struct Rego {
    vm: regorus::rvm::RegoVM,
}

impl Rego {
    pub fn new(plan: &Plan, pairs: &[(usize, usize)]) -> Rego {
        Rego::with_policy(plan, pairs, POLICY)
    }

    /// The same with another policy over the same data ([`DEEP_POLICY`]).
    pub fn with_policy(plan: &Plan, pairs: &[(usize, usize)], policy: &str) -> Rego {
        Rego::with_entry(plan, pairs, policy, "data.bench.allow")
    }

    /// A policy whose `entry` rule is the answer ([`DEEP_PLAN_POLICY`]'s `data.bench.chosen`).
    pub fn with_entry(plan: &Plan, pairs: &[(usize, usize)], policy: &str, entry: &str) -> Rego {
        use regorus::languages::rego::compiler::Compiler;
        let data = regorus::Value::from_json_str(&data(plan, pairs).to_string()).unwrap();
        let mut engine = regorus::Engine::new();
        engine
            .add_policy("bench.rego".to_string(), policy.to_string())
            .unwrap();
        engine.add_data(data.clone()).unwrap();
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

    /// Under [`DEEP_PLAN_POLICY`]: the agent chosen for each step (`steps`: each step's
    /// candidates in order), or `None` when a step has none; one run of the program.
    pub fn chosen(&mut self, steps: &[Vec<String>], req: &Request) -> Option<Vec<String>> {
        use regorus::Value as V;
        let list: Vec<V> = steps
            .iter()
            .map(|c| V::from(c.iter().map(|a| V::from(a.as_str())).collect::<Vec<V>>()))
            .collect();
        self.vm.set_input(input(req, ("steps", V::from(list))));
        let out = self.vm.execute().unwrap();
        // A step no candidate can take is left out of the list, or (on the RVM) undefined.
        let chosen: Option<Vec<String>> = out
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_string().ok().map(|s| s.to_string()))
            .collect();
        chosen.filter(|c| c.len() == steps.len())
    }

    /// Whether the policy allows `req` served by `agent`: the input built from the request,
    /// then one run of the program.
    pub fn allows(&mut self, agent: &str, req: &Request) -> bool {
        self.vm
            .set_input(input(req, ("agent", regorus::Value::from(agent))));
        self.vm.execute().unwrap() == regorus::Value::from(true)
    }
}

/// The input document for `req`: `key` (the agent asked about, or the plan's steps), the
/// intent, confidence, region and residency, and the tier when the request has one (only
/// shape (d)'s do; the other shapes' inputs stay as they were).
fn input(req: &Request, (key, value): (&str, regorus::Value)) -> regorus::Value {
    use regorus::Value as V;
    let text = |key: &str| {
        V::from(
            req.context
                .get(key)
                .and_then(Json::as_str)
                .unwrap_or_default(),
        )
    };
    let mut input: std::collections::BTreeMap<V, V> = [
        (V::from(key), value),
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
    if req.context.contains_key("tier") {
        input.insert(V::from("tier"), text("tier"));
    }
    V::from(input)
}
