//! How fast `Engine::decide` authorizes, next to cedar-policy on the same rules and requests
//! (the design goal "Cedar's meaning, our speed"; the table is in docs/performance.md).
//!
//! For 10, 100, 1,000 and 10,000 rules it builds a routing plan in code (`intent_runtime::plan`
//! values, no `.intent` text): N/10 agents with 10 intents each, one rule per (agent, intent)
//! pair — `permit when agent.name == "A" and intent == I and confidence >= t and region in {..}`
//! — plus one GDPR-style `forbid` (`data touches pii and residency == "EU" and agent.region not
//! in {EU regions}`). Every intent handles `pii`, no agent is cleared for it, so only the permit
//! rules grant. Each intent's route is `otherwise => dispatch ITS_AGENT`: one decision is one
//! authorization. The Cedar text comes from the compiler's own generator (`cedar::generate`) and
//! is checked by Cedar's validator. Over one fixed set of generated requests it times each call
//! with `Instant` and prints median and p99 of:
//!
//! - `decide`: `engine.decide_at(&request, now)`, the whole decision (intent lookup, context
//!   check, route, step filling with the policy check, trace, `Decision` built and dropped);
//! - bare Cedar: building the cedar `Request` from the request — principal, action and resource
//!   uids, a `Context` of `confidence`, `depth`, `data` and the context fields, checked against
//!   the schema, as the compiler's `Oracle` builds it but without its JSON detour — and
//!   `Authorizer::is_authorized` on every policy;
//! - pre-split Cedar: the same request construction, on a `PolicySet` holding only the policies
//!   that can apply to the request's (agent, intent) — its agent's permit, its rule, the forbid —
//!   looked up in a `HashMap`;
//! - the floor: a `HashMap<(agent, intent, bucketed inputs), bool>` lookup of the answer,
//!   precomputed for these very requests.
//!
//! All four must give the same answer on every request timed, and the Cedar requests built here
//! must get the compiler's `Oracle`'s answer; the benchmark stops if not. Building the Cedar
//! request alone is timed too, to show what it costs, and `decide` once more on the requests
//! for 10 intents only (the plan stays in the cache), to show what the plan's size costs in
//! memory traffic rather than in work.
//! That is shape (a). Shapes (b), per-requester route arms, (c), 10% unknown intents, and (d),
//! deep plans (`support/deep.rs`), are in `support/shapes.rs`, beside pre-split Cedar and the
//! floor in the same run.
//!
//! Run with `cargo bench -p intent-compiler --bench decide`; `INTENT_BENCH_QUICK=1` runs sizes 10
//! and 100 on 1,000 requests (a smoke test); `INTENT_BENCH_SHAPES=bc` runs only the shapes named;
//! `INTENT_BENCH_BUDGET_MS` caps the time spent timing one peer at one size (8,000 by default);
//! `INTENT_BENCH_SIZES=10000` (a comma-separated list) runs only the sizes named;
//! `INTENT_BENCH_PROFILE_MS=4000` calls only `decide`, in a loop for that long, on the first
//! size of the first shape named, and ends (for a profiler); `INTENT_BENCH_PROFILE_CALLS=N`
//! makes exactly N calls instead (for cachegrind). Shape (a) then builds no Cedar peer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_compiler::cedar::{self, Oracle};
use intent_runtime::plan::{
    self, Action, Agent, Arm, Capability, CmpOp, DataClass, Expr, Field, Intent, Limits, Plan,
    Route, Rule, RuleKind, SourceLoc, Step, Target, Type, Value,
};
use intent_runtime::{Engine, Outcome, Request};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::time::Instant;

#[path = "support/alloc.rs"]
mod alloc;
#[path = "support/cedar_peer.rs"]
mod cedar_peer;
#[cfg(feature = "rego-peer")]
#[path = "support/rego_peer.rs"]
mod rego_peer;
#[path = "support/shapes.rs"]
mod shapes;
#[path = "support/timing.rs"]
mod timing;

use cedar_peer::Cedar;
use timing::{
    cell, machine, measure, measure_each, measure_prepared, profile_loop, profiling, show, stats,
    Stats,
};

const REGIONS: &[&str] = &[
    "eu-west-1",
    "eu-central-1",
    "us-east-1",
    "us-west-2",
    "ap-south-1",
    "sa-east-1",
];
const EU_REGIONS: &[&str] = &["eu-west-1", "eu-central-1"];
const INTENTS_PER_AGENT: usize = 10;
/// The clock passed to `decide_at`: the plan has no limits, so it does not matter.
const NOW_MS: u64 = 1_700_000_000_000;

/// A small deterministic generator (xorshift), as in the differential tests.
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
    /// Hundredths in `lo..=hi` (both in hundredths).
    fn hundredths(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

fn string_list(items: &[&str]) -> Expr {
    Expr::Lit {
        value: Value::List(items.iter().map(|s| Value::String(s.to_string())).collect()),
    }
}

fn lit_str(s: &str) -> Box<Expr> {
    Box::new(Expr::Lit {
        value: Value::String(s.to_string()),
    })
}

fn agent_name(k: usize) -> String {
    format!("agent{k:04}")
}

fn intent_name(k: usize, j: usize) -> String {
    format!("agent{k:04}_task{j}")
}

/// Each route of a plan: its intent's name and its arms, a condition and the agent dispatched.
type Routes = Vec<(String, Vec<(Option<Expr>, u32)>)>;

/// The plan with `rules` permit rules (and the forbid), with its Cedar part generated: shape
/// (a), one rule per (agent, intent) pair and a one-arm route per intent.
fn mesh(rules: usize, rng: &mut Rng) -> Plan {
    let agents = rules / INTENTS_PER_AGENT;
    let routes: Routes = (0..agents)
        .flat_map(|k| (0..INTENTS_PER_AGENT).map(move |j| (k, j)))
        .map(|(k, j)| (intent_name(k, j), vec![(None, k as u32)]))
        .collect();
    let pairs: Vec<(usize, usize)> = (0..rules).map(|n| (n / INTENTS_PER_AGENT, n)).collect();
    build(agents, routes, &pairs, vec![], rng)
}

/// A plan of `agents` agents and one intent per route (its name and arms: a condition and the
/// agent dispatched), a permit rule per (agent, intent) pair of `pairs` in order — `agent.name
/// == A and intent == I and confidence >= t and region in {..}` — and the GDPR-style forbid;
/// the context has `region`, `residency` and `extra`.
fn build(
    agents: usize,
    routes: Routes,
    pairs: &[(usize, usize)],
    extra: Vec<Field>,
    rng: &mut Rng,
) -> Plan {
    let mut source_map = Vec::new();
    let mut src = |line: usize| {
        source_map.push(SourceLoc {
            file: "bench.intent".into(),
            line: line as u32 + 1,
            col: 1,
        });
        (source_map.len() - 1) as u32
    };
    let mut plan_agents = Vec::with_capacity(agents);
    let mut intents = Vec::with_capacity(routes.len());
    let mut plan_rules = Vec::with_capacity(pairs.len() + 1);
    let mut line = 10;
    for k in 0..agents {
        line += 1;
        plan_agents.push(Agent {
            name: agent_name(k),
            provides: vec![0],
            cleared: vec![],
            trust: 0.5,
            cost: 0.0,
            region: REGIONS[rng.below(REGIONS.len())].to_string(),
            zone: String::new(),
            endpoint: None,
            protocol: None,
            backups: vec![],
            labels: BTreeMap::new(),
            src: src(line),
        });
    }
    for (name, arms) in routes {
        line += 1;
        let intent_src = src(line);
        let arms = arms
            .into_iter()
            .map(|(when, agent)| {
                line += 1;
                let arm_src = src(line);
                Arm {
                    when,
                    action: Action::Dispatch {
                        step: Step {
                            name: "dispatch".to_string(),
                            target: Target::Agent(agent),
                            fallbacks: vec![],
                            after: vec![],
                            needs: vec![0],
                            handles: vec![0],
                            src: arm_src,
                        },
                    },
                    src: arm_src,
                }
            })
            .collect();
        intents.push(Intent {
            name,
            description: None,
            examples: vec![],
            requires: vec![0],
            handles: vec![0],
            delegates: vec![],
            input: None,
            tool: None,
            output: None,
            route: Route { arms },
            src: intent_src,
        });
    }
    // `policy grants` sorts before `policy residency`: the permits come first, as the compiler
    // orders rules (by policy name, then source order).
    for &(k, intent) in pairs {
        line += 1;
        let n = plan_rules.len();
        let threshold = rng.hundredths(30, 90) as f64 / 100.0;
        let mut regions: Vec<&str> = REGIONS.to_vec();
        for _ in 0..(1 + rng.below(3)) {
            regions.remove(rng.below(regions.len()));
        }
        plan_rules.push(Rule {
            id: format!("grants#{n}"),
            policy: "grants".to_string(),
            kind: RuleKind::Permit,
            when: Some(Expr::And {
                all: vec![
                    Expr::Cmp {
                        cmp: CmpOp::Eq,
                        lhs: Box::new(Expr::AgentName),
                        rhs: lit_str(&agent_name(k)),
                    },
                    Expr::IntentIs {
                        intent: intent as u32,
                    },
                    Expr::Cmp {
                        cmp: CmpOp::Ge,
                        lhs: Box::new(Expr::Confidence),
                        rhs: Box::new(Expr::Lit {
                            value: Value::Number(threshold),
                        }),
                    },
                    Expr::In {
                        item: Box::new(Expr::Field {
                            path: vec!["region".to_string()],
                        }),
                        set: Box::new(string_list(&regions)),
                        negated: false,
                    },
                ],
            }),
            unless: None,
            humans: vec![],
            because: None,
            src: src(line),
        });
    }
    line += 1;
    plan_rules.push(Rule {
        id: "residency#0".to_string(),
        policy: "residency".to_string(),
        kind: RuleKind::Forbid,
        when: Some(Expr::And {
            all: vec![
                Expr::DataTouches { any: vec![0] },
                Expr::Cmp {
                    cmp: CmpOp::Eq,
                    lhs: Box::new(Expr::Field {
                        path: vec!["residency".to_string()],
                    }),
                    rhs: lit_str("EU"),
                },
                Expr::In {
                    item: Box::new(Expr::AgentRegion),
                    set: Box::new(string_list(EU_REGIONS)),
                    negated: true,
                },
            ],
        }),
        unless: None,
        humans: vec![],
        because: Some("GDPR Art. 44: EU personal data stays in the EU".to_string()),
        src: src(line),
    });
    let mut plan = Plan {
        format: plan::FORMAT,
        plan_hash: String::new(),
        capabilities: vec![Capability {
            name: "work".to_string(),
            parent: None,
            group_only: false,
        }],
        data_classes: vec![DataClass {
            name: "pii".to_string(),
            parent: None,
            covers: vec![0],
        }],
        context: Type::Record {
            fields: vec![
                Field {
                    name: "region".to_string(),
                    optional: false,
                    ty: Type::String,
                    data: None,
                    claim: None,
                },
                Field {
                    name: "residency".to_string(),
                    optional: false,
                    ty: Type::Enum {
                        values: vec!["EU".to_string(), "US".to_string()],
                    },
                    data: None,
                    claim: None,
                },
            ]
            .into_iter()
            .chain(extra)
            .collect(),
        },
        agents: plan_agents,
        humans: vec![],
        intents,
        rules: plan_rules,
        reviews: vec![],
        limits: Limits::default(),
        classifier: Default::default(),
        cedar: Default::default(),
        source_map,
    };
    plan.cedar = cedar::generate(&plan);
    plan
}

/// One generated request, in every form the peers take it.
struct Case {
    agent: u32,
    intent: u32,
    confidence: f64,
    region: u8,
    eu: bool,
    request: Request,
    context: serde_json::Value,
}

impl Case {
    /// The floor's key: the request's ids and its inputs, bucketed as the rules read them
    /// (confidences are generated in hundredths, like the thresholds).
    fn key(&self) -> (u32, u32, u16, u8, bool) {
        (
            self.agent,
            self.intent,
            (self.confidence * 100.0).round() as u16,
            self.region,
            self.eu,
        )
    }
}

fn cases(plan: &Plan, n: usize, rng: &mut Rng) -> Vec<Case> {
    (0..n)
        .map(|_| {
            let intent = rng.below(plan.intents.len());
            let agent = intent / INTENTS_PER_AGENT;
            let confidence = rng.hundredths(0, 100) as f64 / 100.0;
            let region = rng.below(REGIONS.len());
            let eu = rng.below(2) == 0;
            let residency = if eu { "EU" } else { "US" };
            let request = Request::for_intent(&plan.intents[intent].name, confidence)
                .with("region", json!(REGIONS[region]))
                .with("residency", json!(residency));
            Case {
                agent: agent as u32,
                intent: intent as u32,
                confidence,
                region: region as u8,
                eu,
                context: serde_json::Value::Object(request.context.clone()),
                request,
            }
        })
        .collect()
}

struct Row {
    rules: usize,
    decide: Stats,
    bare: Stats,
    split: Stats,
    floor: Stats,
    build: Stats,
    /// `decide` on requests for the first 10 intents only: the same work on a plan that stays
    /// in the cache, to tell what the plan's size costs in memory traffic from what it costs
    /// in work.
    hot: Stats,
    /// regorus on its virtual machine, the rules as data (`--features rego-peer`).
    rego: Option<Stats>,
    /// `decide` on a copy of each request made just before the call (untimed), as the
    /// sidecar's `decide` reads a request it has just parsed: the request in the cache, the
    /// plan as cold as in `decide`.
    fresh: Stats,
    allowed: usize,
    requests: usize,
}

fn run(rules: usize, requests: usize) -> Row {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ rules as u64);
    let setup = Instant::now();
    let plan = mesh(rules, &mut rng);
    if profiling() {
        // The loop alone: the Cedar peers and their cross-checks are most of the setup
        // (7.8 s at 10,000 rules), which a simulator would run 50 times slower.
        let engine = Engine::from_plan(plan.clone()).unwrap();
        let cases = cases(&plan, requests, &mut rng);
        profile_loop(rules, cases.len(), |i| {
            black_box(engine.decide_at(black_box(&cases[i].request), NOW_MS));
        });
    }
    let problems = cedar::validate(&plan, &plan.cedar);
    assert!(problems.is_empty(), "Cedar rejects the plan: {problems:?}");
    let engine = Engine::from_plan(plan.clone()).unwrap();
    let oracle = Oracle::new(&plan, &plan.cedar).unwrap();
    let pairs: Vec<(usize, usize)> = (0..rules).map(|n| (n / INTENTS_PER_AGENT, n)).collect();
    let cedar = Cedar::new(&plan, &oracle, &pairs);
    let cases = cases(&plan, requests, &mut rng);
    let agent_of = |c: &Case| plan.agents[c.agent as usize].name.as_str();
    // The answers, from the engine, checked against pre-split Cedar on every request (and the
    // requests built here against the compiler's oracle on some); the floor holds them.
    let mut floor: HashMap<(u32, u32, u16, u8, bool), bool> = HashMap::with_capacity(requests);
    let mut allowed = 0;
    for (i, c) in cases.iter().enumerate() {
        let d = engine.decide_at(&c.request, NOW_MS);
        let ours = match d.outcome {
            Outcome::Dispatch => true,
            Outcome::Deny => false,
            other => panic!("unexpected outcome {other:?}: {d:?}"),
        };
        let request = cedar.request(agent_of(c), &c.request);
        let theirs = cedar.allows(&cedar.split[&(c.agent, c.intent)], &request);
        assert_eq!(ours, theirs, "decide and pre-split Cedar disagree: {d:?}");
        if i % 50 == 0 {
            let oracle_says = oracle
                .authorize(
                    &plan,
                    c.agent,
                    0,
                    c.intent,
                    c.confidence,
                    0,
                    &[0],
                    &c.context,
                )
                .unwrap();
            assert_eq!(
                ours, oracle_says,
                "decide and the compiler's oracle disagree"
            );
        }
        floor.insert(c.key(), ours);
        allowed += usize::from(ours);
    }
    let keys: Vec<_> = cases.iter().map(Case::key).collect();
    eprintln!(
        "  {rules} rules: setup {:.1} s ({} Cedar policies, {allowed} of {requests} requests allowed)",
        setup.elapsed().as_secs_f64(),
        cedar.all.policies().count()
    );

    profile_loop(rules, cases.len(), |i| {
        black_box(engine.decide_at(black_box(&cases[i].request), NOW_MS));
    });
    let decide = measure(cases.len(), |i| {
        let d = engine.decide_at(black_box(&cases[i].request), NOW_MS);
        black_box(&d);
    });
    let mut hot_cases: Vec<&Case> = cases
        .iter()
        .filter(|c| (c.intent as usize) < INTENTS_PER_AGENT)
        .collect();
    if hot_cases.is_empty() {
        hot_cases.extend(cases.first());
    }
    let hot = measure(cases.len(), |i| {
        let c = hot_cases[i % hot_cases.len()];
        black_box(engine.decide_at(black_box(&c.request), NOW_MS));
    });
    let fresh = stats(
        measure_prepared(
            cases.len(),
            |i| cases[i].request.clone(),
            |request| {
                black_box(engine.decide_at(black_box(request), NOW_MS));
            },
        )
        .into_iter()
        .map(|t| t.1)
        .collect(),
    );
    let build = measure(cases.len(), |i| {
        let c = &cases[i];
        black_box(cedar.request(agent_of(c), black_box(&c.request)));
    });
    let mut bare_answers = Vec::with_capacity(cases.len());
    let bare = measure(cases.len(), |i| {
        let c = &cases[i];
        let request = cedar.request(agent_of(c), black_box(&c.request));
        bare_answers.push((i, cedar.allows(&cedar.all, &request)));
    });
    for (i, a) in bare_answers {
        assert_eq!(a, floor[&keys[i]], "bare Cedar disagrees on request {i}");
    }
    let split = measure(cases.len(), |i| {
        let c = &cases[i];
        let request = cedar.request(agent_of(c), black_box(&c.request));
        let set = &cedar.split[&(c.agent, c.intent)];
        black_box(cedar.allows(set, &request));
    });
    let floor_stats = measure(cases.len(), |i| {
        black_box(floor.get(black_box(&keys[i])));
    });
    let rego = rego_peer(&plan, &pairs, &cases, |i| floor[&keys[i]]);
    Row {
        rules,
        decide,
        bare,
        split,
        floor: floor_stats,
        build,
        hot,
        rego,
        fresh,
        allowed,
        requests,
    }
}

/// regorus on these rules and requests: checked against `decide`'s answer (`ours(i)`) on
/// every request, then timed. `None` unless built with `--features rego-peer`.
#[cfg(feature = "rego-peer")]
fn rego_peer(
    plan: &Plan,
    pairs: &[(usize, usize)],
    cases: &[Case],
    ours: impl Fn(usize) -> bool,
) -> Option<Stats> {
    let mut rego = rego_peer::Rego::new(plan, pairs);
    let agent_of = |c: &Case| plan.agents[c.agent as usize].name.as_str();
    for (i, c) in cases.iter().enumerate() {
        let theirs = rego.allows(agent_of(c), &c.request);
        assert_eq!(
            theirs,
            ours(i),
            "decide and regorus disagree on request {i}"
        );
    }
    Some(measure(cases.len(), |i| {
        let c = &cases[i];
        black_box(rego.allows(agent_of(c), black_box(&c.request)));
    }))
}

#[cfg(not(feature = "rego-peer"))]
fn rego_peer(
    _: &Plan,
    _: &[(usize, usize)],
    _: &[Case],
    _: impl Fn(usize) -> bool,
) -> Option<Stats> {
    None
}

/// Prints issue 14's goal against the fastest other engine: per size, `decide`'s median
/// beside the faster of pre-split Cedar and regorus (sizes without regorus are left out).
fn against_fastest<'s>(sizes: impl Iterator<Item = (&'s Stats, &'s Stats, Option<&'s Stats>)>) {
    let worst = sizes
        .filter_map(|(decide, split, rego)| {
            rego.map(|g| g.median.min(split.median) / decide.median)
        })
        .fold(f64::INFINITY, f64::min);
    println!(
        "  decide >= 2x faster than the fastest other engine (pre-split Cedar, regorus) at every size: worst {worst:.1}x — {}",
        verdict(worst >= 2.0)
    );
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    let quick = std::env::var("INTENT_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let (sizes, requests): (&[usize], usize) = if quick {
        (&[10, 100], 1_000)
    } else {
        (&[10, 100, 1_000, 10_000], 10_000)
    };
    let chosen: Vec<usize> = std::env::var("INTENT_BENCH_SIZES")
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_default();
    let sizes = if chosen.is_empty() {
        sizes
    } else {
        &chosen[..]
    };
    let timer = measure(10_000, |_| {});
    println!("decide vs cedar-policy — {}", machine());
    println!(
        "{requests} generated requests per size; each call timed with Instant (timer overhead ~{} \
         is included in every figure); median / p99",
        show(timer.median)
    );
    let only = std::env::var("INTENT_BENCH_SHAPES").unwrap_or_else(|_| "abcd".to_string());
    if only.contains('a') {
        shape_a(sizes, requests);
    }
    shapes::report(&only, sizes, requests);
}

/// One figure of every size: `median / p99 at RULES, ...`.
fn per_size(rows: &[Row], figure: impl Fn(&Row) -> &Stats) -> String {
    rows.iter()
        .map(|r| format!("{} at {}", cell(figure(r)), r.rules))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Shape (a): one rule per (agent, intent) pair, one arm per route; every peer.
fn shape_a(sizes: &[usize], requests: usize) {
    println!();
    println!("shape (a): one rule per (agent, intent) pair, a one-arm route per intent");
    let mut rows = Vec::new();
    for &rules in sizes {
        rows.push(run(rules, requests));
    }
    println!();
    println!(
        "| rules | decide | bare Cedar | pre-split Cedar | floor (HashMap) | pre-split ÷ decide | bare ÷ decide | decide ÷ floor |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {}{} | {} | {} | {:.1}x | {:.0}x | {:.1}x |",
            r.rules,
            cell(&r.decide),
            cell(&r.bare),
            if r.bare.samples < r.requests {
                format!(" ({} req.)", r.bare.samples)
            } else {
                String::new()
            },
            cell(&r.split),
            cell(&r.floor),
            r.split.median / r.decide.median,
            r.bare.median / r.decide.median,
            r.decide.median / r.floor.median,
        );
    }
    if rows.iter().all(|r| r.rego.is_some()) {
        println!();
        println!("| rules | decide | regorus (RVM, rules as data) | regorus ÷ decide |");
        println!("|---:|---:|---:|---:|");
        for r in &rows {
            if let Some(rego) = &r.rego {
                println!(
                    "| {} | {} | {} | {:.1}x |",
                    r.rules,
                    cell(&r.decide),
                    cell(rego),
                    rego.median / r.decide.median
                );
            }
        }
        against_fastest(rows.iter().map(|r| (&r.decide, &r.split, r.rego.as_ref())));
    } else {
        println!();
        println!("regorus: not built (add --features rego-peer to time it)");
    }
    println!();
    println!(
        "building the Cedar request alone (in both Cedar figures): {}",
        per_size(&rows, |r| &r.build)
    );
    println!(
        "decide on requests for 10 intents only (a warm plan): {}",
        per_size(&rows, |r| &r.hot)
    );
    println!(
        "decide on a copy of the request made just before the call (the request in the cache, as in the sidecar): {}",
        per_size(&rows, |r| &r.fresh)
    );
    println!("allowed: {}", {
        let v: Vec<String> = rows
            .iter()
            .map(|r| format!("{} of {} at {}", r.allowed, r.requests, r.rules))
            .collect();
        v.join(", ")
    });
    println!("goals (on medians):");
    let min_split = rows
        .iter()
        .map(|r| r.split.median / r.decide.median)
        .fold(f64::INFINITY, f64::min);
    println!(
        "  decide >= 5x faster than pre-split Cedar at every size: worst {min_split:.1}x — {}",
        verdict(min_split >= 5.0)
    );
    if let Some(r) = rows.iter().find(|r| r.rules == 10_000) {
        let x = r.bare.median / r.decide.median;
        println!(
            "  decide >= 10,000x faster than bare Cedar at 10,000 rules: {x:.0}x — {}",
            verdict(x >= 10_000.0)
        );
    } else {
        println!("  decide >= 10,000x faster than bare Cedar at 10,000 rules: not run (quick)");
    }
    let max_floor = rows
        .iter()
        .map(|r| r.decide.median / r.floor.median)
        .fold(0.0, f64::max);
    println!(
        "  decide within 20x of the floor: worst {max_floor:.1}x — {}",
        verdict(max_floor <= 20.0)
    );
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        let growth = last.decide.median / first.decide.median;
        let p99_growth = last.decide.p99 / first.decide.p99;
        println!(
            "  decide flat from {} to {} rules: median x{growth:.2}, p99 x{p99_growth:.2} — {}",
            first.rules,
            last.rules,
            verdict(growth <= 1.5)
        );
        let fresh = last.fresh.median / first.fresh.median;
        println!(
            "  the same on a request just copied (the request in the cache): median x{fresh:.2} — {}",
            verdict(fresh <= 1.5)
        );
    }
}
