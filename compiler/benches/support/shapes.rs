//! Three more shapes of mesh for `decide.rs`, each beside pre-split Cedar and the HashMap floor
//! in the same run (bare Cedar only in shape (a): at 10,000 rules it costs milliseconds a call):
//!
//! - (b) per-requester arms: `min(rules, 100)` agents and `rules / 100` intents (at least one),
//!   each intent's route picking the agent by a context field, `when requester == "requester-K"
//!   => dispatch agent_K`, one arm per agent (100 arms per route from 100 rules on), and a permit
//!   rule per (agent, intent) pair;
//! - (d) deep plans, in `deep.rs`;
//! - (c) unknown intents: shape (a)'s plan, with one request in ten naming an intent the plan
//!   does not have (half a known name with one letter changed, half a random word), which
//!   `decide` denies with the closest known names; pre-split Cedar refuses it by a `HashMap`
//!   miss (and suggests nothing). The medians of the unknown and of the known requests of the
//!   mix are given apart.

#[path = "deep.rs"]
mod deep;

use super::{
    agent_name, build, cases, intent_name, measure_each, mesh, profile_loop, stats, Case, Cedar,
    Rng, Routes, Stats, INTENTS_PER_AGENT, NOW_MS, REGIONS,
};
use intent_compiler::cedar::{self, Oracle};
use intent_runtime::plan::{CmpOp, Expr, Field, Plan, Type, Value};
use intent_runtime::{Engine, Outcome, Request};
use serde_json::json;
use std::collections::HashMap;
use std::hint::black_box;

/// A shape: its rows for a size and a number of requests.
type Shape = fn(usize, usize) -> ShapeRow;

/// Arms per route in shape (b).
const ARMS_PER_ROUTE: usize = 100;

/// One size of one shape.
pub struct ShapeRow {
    pub rules: usize,
    pub decide: Stats,
    pub split: Stats,
    pub floor: Stats,
    /// Shape (c): `decide` on the unknown and on the known requests of the mix.
    pub unknown: Option<(Stats, Stats)>,
    /// Shape (b): `decide` evaluating every arm in turn (`Engine::without_arm_index`).
    pub linear: Option<Stats>,
    /// Shape (c): `decide` on a name too long to get suggestions (no search).
    pub long: Option<Stats>,
    /// Shapes (b), (c): regorus, the rules as data (`--features rego-peer`).
    pub rego: Option<Stats>,
}

fn requester(k: usize) -> String {
    format!("requester-{k:03}")
}

fn route_name(i: usize) -> String {
    format!("route{i:04}")
}

/// The checks every shape makes before timing: `decide` gives pre-split Cedar's answer.
fn ours(engine: &Engine, request: &Request) -> bool {
    let d = engine.decide_at(request, NOW_MS);
    match d.outcome {
        Outcome::Dispatch => true,
        Outcome::Deny => false,
        other => panic!("unexpected outcome {other:?}: {d:?}"),
    }
}

/// Shape (b): per-requester arms.
pub fn requesters(rules: usize, requests: usize) -> ShapeRow {
    let mut rng = Rng(0x51_7cc1_b727_220a ^ rules as u64);
    let arms = rules.min(ARMS_PER_ROUTE);
    let intents = (rules / arms).max(1);
    let routes: Routes = (0..intents)
        .map(|i| {
            let arms = (0..arms)
                .map(|k| {
                    let when = Expr::Cmp {
                        cmp: CmpOp::Eq,
                        lhs: Box::new(Expr::Field {
                            path: vec!["requester".to_string()],
                        }),
                        rhs: Box::new(Expr::Lit {
                            value: Value::String(requester(k)),
                        }),
                    };
                    (Some(when), k as u32)
                })
                .collect();
            (route_name(i), arms)
        })
        .collect();
    let pairs: Vec<(usize, usize)> = (0..intents)
        .flat_map(|i| (0..arms).map(move |k| (k, i)))
        .collect();
    let field = Field {
        name: "requester".to_string(),
        optional: false,
        ty: Type::String,
        data: None,
        claim: None,
    };
    let plan = build(arms, routes, &pairs, vec![field], &mut rng);
    let cases: Vec<Case> = (0..requests)
        .map(|_| {
            let intent = rng.below(intents);
            let agent = rng.below(arms);
            let confidence = rng.hundredths(0, 100) as f64 / 100.0;
            let region = rng.below(REGIONS.len());
            let eu = rng.below(2) == 0;
            let request = Request::for_intent(&route_name(intent), confidence)
                .with("region", json!(REGIONS[region]))
                .with("residency", json!(if eu { "EU" } else { "US" }))
                .with("requester", json!(requester(agent)));
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
        .collect();
    let mut row = timed(rules, &plan, &pairs, &cases, None);
    let linear = Engine::from_plan(plan).unwrap().without_arm_index();
    row.linear = Some(stats(
        measure_each(cases.len(), |i| {
            black_box(linear.decide_at(black_box(&cases[i].request), NOW_MS));
        })
        .into_iter()
        .map(|t| t.1)
        .collect(),
    ));
    row
}

/// Shape (c): shape (a) with one request in ten naming an unknown intent.
pub fn unknown(rules: usize, requests: usize) -> ShapeRow {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ rules as u64);
    let plan = mesh(rules, &mut rng);
    let pairs: Vec<(usize, usize)> = (0..rules).map(|n| (n / INTENTS_PER_AGENT, n)).collect();
    let mut cases = cases(&plan, requests, &mut rng);
    let mut unknown = vec![false; cases.len()];
    for (i, c) in cases.iter_mut().enumerate() {
        if i % 10 != 9 {
            continue;
        }
        let name = if i % 20 == 9 {
            // A known name with one letter changed.
            let known = intent_name(c.agent as usize, c.intent as usize % INTENTS_PER_AGENT);
            let at = rng.below(known.len());
            let mut b = known.into_bytes();
            b[at] = if b[at] == b'x' { b'y' } else { b'x' };
            String::from_utf8(b).unwrap()
        } else {
            let len = 4 + rng.below(16);
            (0..len)
                .map(|_| (b'a' + rng.below(26) as u8) as char)
                .collect()
        };
        c.request.intent = Some(name);
        unknown[i] = true;
    }
    timed(rules, &plan, &pairs, &cases, Some(&unknown))
}

/// Checks and times `decide`, pre-split Cedar and the floor on `cases`; `unknown[i]`: case `i`
/// names an intent the plan does not have.
fn timed(
    rules: usize,
    plan: &Plan,
    pairs: &[(usize, usize)],
    cases: &[Case],
    unknown: Option<&[bool]>,
) -> ShapeRow {
    let problems = cedar::validate(plan, &plan.cedar);
    assert!(problems.is_empty(), "Cedar rejects the plan: {problems:?}");
    let engine = Engine::from_plan(plan.clone()).unwrap();
    let oracle = Oracle::new(plan, &plan.cedar).unwrap();
    let cedar = Cedar::new(plan, &oracle, pairs);
    let ids: HashMap<&str, u32> = plan
        .intents
        .iter()
        .enumerate()
        .map(|(i, it)| (it.name.as_str(), i as u32))
        .collect();
    let is_unknown = |i: usize| unknown.is_some_and(|u| u[i]);
    // Pre-split Cedar as a gateway runs it: the intent by name, the Cedar request, the
    // policies of its (agent, intent).
    let split = |c: &Case| -> bool {
        let Some(&intent) = ids.get(c.request.intent.as_deref().unwrap_or_default()) else {
            return false;
        };
        let request = cedar.request(&agent_name(c.agent as usize), &c.request);
        cedar.allows(&cedar.split[&(c.agent, intent)], &request)
    };
    let mut floor: HashMap<(u32, u32, u16, u8, bool), bool> = HashMap::new();
    let mut keys = Vec::with_capacity(cases.len());
    let mut answers = Vec::with_capacity(cases.len());
    for (i, c) in cases.iter().enumerate() {
        let ours = ours(&engine, &c.request);
        answers.push(ours);
        assert_eq!(ours, split(c), "decide and pre-split Cedar disagree on {i}");
        if is_unknown(i) {
            let d = engine.decide_at(&c.request, NOW_MS);
            let reason = d.reason.unwrap_or_default();
            assert!(reason.starts_with("unknown intent"), "{reason}");
        }
        // The floor: the answer by intent name, then by the request's ids and inputs.
        let id = ids
            .get(c.request.intent.as_deref().unwrap_or_default())
            .copied()
            .unwrap_or(u32::MAX);
        let key = (
            c.agent,
            id,
            (c.confidence * 100.0).round() as u16,
            c.region,
            c.eu,
        );
        floor.insert(key, ours);
        keys.push(key);
    }
    profile_loop(rules, cases.len(), |i| {
        black_box(engine.decide_at(black_box(&cases[i].request), NOW_MS));
    });
    let times = measure_each(cases.len(), |i| {
        black_box(engine.decide_at(black_box(&cases[i].request), NOW_MS));
    });
    let decide = stats(times.iter().map(|t| t.1).collect());
    let unknown = unknown.map(|_| {
        let of = |want: bool| {
            stats(
                times
                    .iter()
                    .filter(|t| is_unknown(t.0) == want)
                    .map(|t| t.1)
                    .collect(),
            )
        };
        (of(true), of(false))
    });
    // An unknown name too long to get suggestions: what the deny costs without the search.
    let long = unknown.as_ref().map(|_| {
        let mut r = cases[0].request.clone();
        r.intent = Some("q".repeat(65));
        stats(
            measure_each(cases.len().min(2_000), |_| {
                black_box(engine.decide_at(black_box(&r), NOW_MS));
            })
            .into_iter()
            .map(|t| t.1)
            .collect(),
        )
    });
    let split_stats = stats(
        measure_each(cases.len(), |i| {
            black_box(split(black_box(&cases[i])));
        })
        .into_iter()
        .map(|t| t.1)
        .collect(),
    );
    let floor_stats = stats(
        measure_each(cases.len(), |i| {
            let c = &cases[i];
            let id = ids
                .get(black_box(c.request.intent.as_deref().unwrap_or_default()))
                .copied()
                .unwrap_or(u32::MAX);
            black_box(floor.get(&(keys[i].0, id, keys[i].2, keys[i].3, keys[i].4)));
        })
        .into_iter()
        .map(|t| t.1)
        .collect(),
    );
    let rego = super::rego_peer(plan, pairs, cases, |i| answers[i]);
    ShapeRow {
        rules,
        decide,
        split: split_stats,
        floor: floor_stats,
        unknown,
        linear: None,
        long,
        rego,
    }
}

fn verdict(ok: bool) -> &'static str {
    super::verdict(ok)
}

/// Runs and prints shapes (b) and (c) (those named in `only`), with the goals of issue 14:
/// `decide` at least 2x faster than pre-split Cedar at every size, its 10,000-rule median at
/// most 1.5x its 10-rule one, and (c) an unknown intent at most 2 µs at 10,000 rules.
pub fn report(only: &str, sizes: &[usize], requests: usize) {
    let shapes: [(char, &str, Shape); 3] = [
        (
            'b',
            "shape (b): per-requester arms (100 arms per route from 100 rules on)",
            requesters,
        ),
        (
            'c',
            "shape (c): shape (a) with 10% unknown intents",
            unknown,
        ),
        (
            'd',
            "shape (d): deep plans (5 steps, each with a fallback and a backup, 20 rules per step from 100 rules on)",
            deep::deep,
        ),
    ];
    for (letter, title, shape) in shapes {
        if !only.contains(letter) {
            continue;
        }
        println!();
        println!("{title}");
        let rows: Vec<ShapeRow> = sizes.iter().map(|&r| shape(r, requests)).collect();
        let (extra, rule) = match letter {
            'c' => (" decide, unknown only | decide, known only |", "---:|---:|"),
            'b' => (" decide, arm by arm (no index) |", "---:|"),
            _ => ("", ""),
        };
        println!(
            "| rules | decide | pre-split Cedar | floor (HashMap) | pre-split ÷ decide |{extra}"
        );
        println!("|---:|---:|---:|---:|---:|{rule}");
        for r in &rows {
            let more = match (&r.unknown, &r.linear) {
                (Some((u, k)), _) => format!(" {} | {} |", super::cell(u), super::cell(k)),
                (None, Some(l)) => format!(" {} |", super::cell(l)),
                (None, None) => String::new(),
            };
            println!(
                "| {} | {} | {} | {} | {:.1}x |{more}",
                r.rules,
                super::cell(&r.decide),
                super::cell(&r.split),
                super::cell(&r.floor),
                r.split.median / r.decide.median,
            );
        }
        let worst = rows
            .iter()
            .map(|r| r.split.median / r.decide.median)
            .fold(f64::INFINITY, f64::min);
        println!(
            "  decide >= 2x faster than pre-split Cedar at every size: worst {worst:.1}x — {}",
            verdict(worst >= 2.0)
        );
        if rows.iter().all(|r| r.rego.is_some()) {
            let times: Vec<String> = rows
                .iter()
                .filter_map(|r| {
                    let g = r.rego.as_ref()?;
                    Some(format!(
                        "{} at {} ({:.1}x)",
                        super::cell(g),
                        r.rules,
                        g.median / r.decide.median
                    ))
                })
                .collect();
            println!("  regorus (RVM, rules as data): {}", times.join(", "));
            super::against_fastest(rows.iter().map(|r| (&r.decide, &r.split, r.rego.as_ref())));
        }
        if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
            let growth = last.decide.median / first.decide.median;
            println!(
                "  decide flat from {} to {} rules: median x{growth:.2} — {}",
                first.rules,
                last.rules,
                verdict(growth <= 1.5)
            );
        }
        if let Some(r) = rows.last() {
            if let Some((u, _)) = &r.unknown {
                println!(
                    "  an unknown intent at {} rules ({} intents) <= 2 µs: median {} — {}",
                    r.rules,
                    r.rules,
                    super::show(u.median),
                    verdict(u.median <= 2_000.0)
                );
            }
            if let Some(l) = &r.long {
                println!(
                    "  the same deny without the search (a 65-byte name): {}",
                    super::cell(l)
                );
            }
        }
    }
}
