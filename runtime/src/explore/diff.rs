//! `diff`: for each intent of two plans, the regions of the request space where the decision
//! changes. Each intent's space is cut into cells (`space`); one representative request per cell
//! is decided on both plans, with no rate limit or breaker in the way; the cells whose decision
//! differs (outcome, filled steps or person) are grouped by their change and merged into regions
//! (`region`). When a space has more cells than allowed, a deterministic sample is decided and
//! the result says so. Intents are decided in parallel, one chunk per core, in a fixed order.

use super::constants::applicable_rules;
use super::region::{contains, merge_with_members, CellBox, Writer};
use super::space::{space, Space};
use super::{summary, DecisionSummary, NoLimits};
use crate::engine::{Engine, PlanError};
use crate::plan::{strip_src, Plan};
use crate::request::Request;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// How much work a diff may do.
#[derive(Debug, Clone, Copy)]
pub struct DiffOptions {
    /// At most this many cells are decided per intent; a larger space is sampled.
    pub max_cells: u64,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions { max_cells: 100_000 }
    }
}

/// What changed between two plans.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanDiff {
    pub old_hash: String,
    pub new_hash: String,
    /// Intents only the new plan has.
    pub added: Vec<String>,
    /// Intents only the old plan has.
    pub removed: Vec<String>,
    /// Every intent both plans have, in name order.
    pub intents: Vec<IntentDiff>,
    /// What the diff did not explore but saw change (limits, classifier examples).
    pub notes: Vec<String>,
}

impl PlanDiff {
    /// True when some decision changes or an intent was added or removed.
    pub fn changed(&self) -> bool {
        !self.added.is_empty()
            || !self.removed.is_empty()
            || self.intents.iter().any(|i| !i.regions.is_empty())
    }
}

/// The changes of one intent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentDiff {
    pub intent: String,
    /// Cells in the intent's request space (saturating).
    pub cells: u64,
    /// Cells decided: all of them, or a sample.
    pub explored: u64,
    pub sampled: bool,
    /// Nothing was decided: the intent and everything around it (agents, the rules that can
    /// apply to it, schema, limits, the other intents' names and delegations) are the same in
    /// both plans.
    pub same_definition: bool,
    pub regions: Vec<Region>,
    /// The space the regions are boxes of.
    #[serde(skip)]
    space: Space,
}

impl IntentDiff {
    /// The region holding a request of this intent, if its decision changes.
    pub fn region_of(&self, req: &Request) -> Option<&Region> {
        let cell = self.space.locate(req)?;
        self.regions.iter().find(|r| contains(&r.cells_box, &cell))
    }
}

/// Requests whose decision changes the same way.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Region {
    /// The region as a condition on the request (`confidence in [0.5, 0.8), channel = "api"`).
    pub condition: String,
    /// How many of the decided cells it holds.
    pub cells: u64,
    /// A request in the region.
    pub example: serde_json::Value,
    pub old: DecisionSummary,
    pub new: DecisionSummary,
    /// The region's cells: for each variable of the space, the cells it takes.
    #[serde(skip)]
    cells_box: CellBox,
}

/// Compares two plans intent by intent.
pub fn diff(old: &Plan, new: &Plan, opts: DiffOptions) -> Result<PlanDiff, PlanError> {
    let old_engine = Engine::with_state(old.clone(), std::sync::Arc::new(NoLimits))
        .map_err(|e| PlanError(format!("old plan: {}", e.0)))?;
    let new_engine = Engine::with_state(new.clone(), std::sync::Arc::new(NoLimits))
        .map_err(|e| PlanError(format!("new plan: {}", e.0)))?;
    let names =
        |p: &Plan| -> BTreeSet<String> { p.intents.iter().map(|i| i.name.clone()).collect() };
    let (old_names, new_names) = (names(old), names(new));
    let unchanged = unchanged_intents(old, new);
    let common: Vec<&String> = old_names.intersection(&new_names).collect();
    let one = |name: &String| {
        if unchanged.contains(name.as_str()) {
            return IntentDiff {
                intent: name.clone(),
                cells: 0,
                explored: 0,
                sampled: false,
                same_definition: true,
                regions: Vec::new(),
                space: space(name, old, new),
            };
        }
        intent_diff(space(name, old, new), &old_engine, &new_engine, opts)
    };
    // Intents are independent: spread them over the cores, keeping their order.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = common.len().div_ceil(threads).max(1);
    let chunks: Vec<Vec<IntentDiff>> = std::thread::scope(|scope| {
        let handles: Vec<_> = common
            .chunks(chunk)
            .map(|names| scope.spawn(|| names.iter().map(|n| one(n)).collect::<Vec<_>>()))
            .collect();
        // A worker that died would leave intents out: fail rather than report them unchanged.
        handles
            .into_iter()
            .map(|h| h.join())
            .collect::<Result<_, _>>()
            .map_err(|_| PlanError("a worker deciding cells failed".into()))
    })?;
    let intents: Vec<IntentDiff> = chunks.into_iter().flatten().collect();
    Ok(PlanDiff {
        old_hash: old.plan_hash.clone(),
        new_hash: new.plan_hash.clone(),
        added: new_names.difference(&old_names).cloned().collect(),
        removed: old_names.difference(&new_names).cloned().collect(),
        intents,
        notes: notes(old, new),
    })
}

/// The intents whose decisions cannot differ: when the plans differ only in some intents'
/// definitions and rules (same tables, agents, schema and limits, the same intents in the same
/// order), an intent with the same definition, the same delegators and the same rules that can
/// apply to it (in order) decides alike. Source locations are left out of the comparison.
fn unchanged_intents<'p>(old: &'p Plan, new: &Plan) -> BTreeSet<&'p str> {
    let mut out = BTreeSet::new();
    let around = |p: &Plan| {
        let mut v = p.meaning();
        if let Some(o) = v.as_object_mut() {
            o.remove("intents");
            o.remove("rules");
        }
        strip_src(&mut v);
        v
    };
    let names = |p: &Plan| -> Vec<String> { p.intents.iter().map(|i| i.name.clone()).collect() };
    if names(old) != names(new) || around(old) != around(new) {
        return out;
    }
    let delegators = |p: &Plan, i: usize| -> Vec<usize> {
        p.intents
            .iter()
            .enumerate()
            .filter(|(_, x)| x.delegates.contains(&(i as u32)))
            .map(|(j, _)| j)
            .collect()
    };
    for (i, (a, b)) in old.intents.iter().zip(&new.intents).enumerate() {
        let own = |x: &crate::plan::Intent| {
            let mut v = serde_json::to_value(x).unwrap_or_default();
            strip_src(&mut v);
            v
        };
        let rules = |p: &Plan| -> Vec<serde_json::Value> {
            applicable_rules(p, &a.name)
                .into_iter()
                .map(|r| {
                    let mut v = serde_json::to_value(r).unwrap_or_default();
                    strip_src(&mut v);
                    v
                })
                .collect()
        };
        if own(a) == own(b) && delegators(old, i) == delegators(new, i) && rules(old) == rules(new)
        {
            out.insert(a.name.as_str());
        }
    }
    out
}

/// Removes every `src` (a source-map index) from a plan's JSON.
fn notes(old: &Plan, new: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    if old.limits.rates != new.limits.rates || old.limits.breakers != new.limits.breakers {
        out.push(
            "rate limits or breakers changed: the diff decides with no limit reached, so it does \
             not show their effect (`intent replay` does)"
                .into(),
        );
    }
    let examples = |p: &Plan| -> Vec<(String, Vec<String>)> {
        let mut v: Vec<_> = p
            .intents
            .iter()
            .map(|i| (i.name.clone(), i.examples.clone()))
            .collect();
        v.sort();
        v
    };
    if examples(old) != examples(new) {
        out.push(
            "classifier examples changed: requests given as text may be classified differently \
             (the diff explores requests that name their intent)"
                .into(),
        );
    }
    out
}

/// The cells decided for a space: all of them, or `max` picked deterministically.
fn cells_to_decide(s: &Space, max: u64) -> (Vec<u128>, bool) {
    let size = s.size();
    if size <= u128::from(max) {
        return ((0..size).collect(), false);
    }
    // splitmix64, seeded by the intent's name: the same sample every run.
    let mut state = s.intent.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut picked = BTreeSet::new();
    let mut tries = 0u64;
    while (picked.len() as u64) < max && tries < max.saturating_mul(4) {
        let r = (u128::from(next()) << 64) | u128::from(next());
        picked.insert(r % size);
        tries += 1;
    }
    (picked.into_iter().collect(), true)
}

fn intent_diff(space: Space, old: &Engine, new: &Engine, opts: DiffOptions) -> IntentDiff {
    let s = &space;
    let (indexes, sampled) = cells_to_decide(s, opts.max_cells);
    // Changed cells, grouped by their change, in the order first seen.
    let mut groups: Vec<Vec<Vec<usize>>> = Vec::new();
    let mut by_change: HashMap<String, usize> = HashMap::new();
    for n in &indexes {
        let cell = s.cell(*n);
        let req = s.request(&cell);
        let (a, b) = (
            summary(&old.decide_at(&req, 0)),
            summary(&new.decide_at(&req, 0)),
        );
        if a.same_as(&b) {
            continue;
        }
        let key = format!("{}\u{0}{}", a.key(), b.key());
        match by_change.get(&key) {
            Some(&g) => {
                if let Some(group) = groups.get_mut(g) {
                    group.push(cell);
                }
            }
            None => {
                by_change.insert(key, groups.len());
                groups.push(vec![cell]);
            }
        }
    }
    let mut regions: Vec<(Vec<usize>, Region)> = Vec::new();
    let writer = Writer::new(&s.vars);
    for cells in groups {
        for (bx, members) in merge_with_members(&cells) {
            let Some(first) = members.first().and_then(|n| cells.get(*n)) else {
                continue;
            };
            let req = s.request(first);
            // The example's own decisions: reasons may differ within a region.
            let (ea, eb) = (
                summary(&old.decide_at(&req, 0)),
                summary(&new.decide_at(&req, 0)),
            );
            regions.push((
                (*first).clone(),
                Region {
                    condition: writer.describe(&bx),
                    cells: members.len() as u64,
                    example: serde_json::to_value(&req).unwrap_or_default(),
                    old: ea,
                    new: eb,
                    cells_box: bx,
                },
            ));
        }
    }
    regions.sort_by(|x, y| x.0.cmp(&y.0));
    IntentDiff {
        intent: s.intent.clone(),
        cells: u64::try_from(s.size()).unwrap_or(u64::MAX),
        explored: indexes.len() as u64,
        sampled,
        same_definition: false,
        regions: regions.into_iter().map(|(_, r)| r).collect(),
        space,
    }
}
