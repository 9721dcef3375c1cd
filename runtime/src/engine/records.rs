//! What `decide` reads of a loaded plan, built once when the engine loads it: per intent,
//! its arms, their steps and each step's candidates, with everything the plan alone decides
//! about them worked out; per rule, its condition and its words as shared strings.

use super::index::RuleIndex;
use super::{arms, IntentLimits};
use crate::decision::{Outcome, Sources, TraceEntry};
use crate::plan::{self, AgentId, CapId, DataId, IntentId, Plan, SrcId};
use crate::program::Cond;
use std::collections::HashMap;
use std::sync::Arc;

/// An intent as `decide` reads it. Kept apart from the plan's `Intent` so that a decision
/// touches few cache lines: with thousands of intents each request reads a cold part of the
/// plan, and every pointer followed there is a trip to memory.
pub(crate) struct IntentInfo {
    pub(crate) name: Arc<str>,
    /// Its route's arms by the constants they test.
    pub(crate) index: arms::ArmIndex,
    /// Per arm, its trace entry when it does not match.
    pub(crate) misses: Box<[TraceEntry]>,
    /// One per arm of the intent's route, in order.
    pub(crate) arms: Box<[ArmInfo]>,
    /// Its own rate limits; `None` when it has none (most intents), so that a decision reads
    /// no other record to learn so.
    pub(crate) limits: Option<Box<IntentLimits>>,
}

/// A route arm as `decide` reads it.
pub(crate) struct ArmInfo {
    /// Its condition in the engine's `progs`; `None` for `otherwise`.
    pub(crate) when: Option<Cond>,
    /// For `dispatch` and `plan`, one per step, in order; else empty.
    pub(crate) steps: Box<[StepInfo]>,
    /// `Dispatch` or `Plan` for an arm that serves its steps; `None` for the other actions,
    /// which `decide` reads from the plan's arm (a `dispatch` reads nothing else of it).
    pub(crate) serves: Option<Outcome>,
    /// Its `file:line:col`, for its trace entry (built from this record: the arm's entry in
    /// `IntentInfo::misses` would be one more cold read).
    pub(crate) at: Option<SrcId>,
}

/// A step of a route arm as `decide` needs it: everything the plan alone decides about it.
pub(crate) struct StepInfo {
    pub(crate) name: Arc<str>,
    pub(crate) at: Option<SrcId>,
    /// The data classes the step handles.
    pub(crate) handles: Arc<[DataId]>,
    /// The capabilities the step needs (authorized one by one in Cedar mode).
    #[cfg_attr(not(feature = "cedar"), allow(dead_code))]
    pub(crate) needs: Box<[CapId]>,
    /// The agents tried, in order and without repeats: the target (for `any CAP`, every
    /// provider, best first), the fallbacks, then the backups of the agents named, following
    /// backups of backups.
    pub(crate) candidates: Box<[Candidate]>,
}

/// The engine's shared strings, while the engine is being built.
pub(super) struct Shared<'a> {
    pub(super) at: &'a Sources,
    pub(super) agent_names: &'a [Arc<str>],
    pub(super) agent_endpoints: &'a [Option<Arc<str>>],
    /// Each distinct step name and set of data classes once (`step_words`).
    pub(super) step_names: &'a HashMap<&'a str, Arc<str>>,
    pub(super) step_handles: &'a HashMap<&'a [DataId], Arc<[DataId]>>,
}

/// Each distinct step name and each distinct set of data classes a step handles, shared by
/// every step that has it. A dispatch's step is named `dispatch` in every route, and most
/// steps handle one of a few sets: a decision that clones a shared one touches a reference
/// count that recent decisions left in the cache, where a copy per step is a cache miss with
/// thousands of routes.
pub(super) fn step_words(plan: &Plan) -> StepWords<'_> {
    let mut names = HashMap::new();
    let mut handles = HashMap::new();
    for arm in plan.intents.iter().flat_map(|i| &i.route.arms) {
        for step in arm.action.steps() {
            names
                .entry(step.name.as_str())
                .or_insert_with(|| Arc::from(step.name.as_str()));
            handles
                .entry(step.handles.as_slice())
                .or_insert_with(|| Arc::from(step.handles.as_slice()));
        }
    }
    (names, handles)
}

type StepWords<'p> = (
    HashMap<&'p str, Arc<str>>,
    HashMap<&'p [DataId], Arc<[DataId]>>,
);

/// A policy rule as `decide` reads it: its condition, and its words as shared strings.
pub(crate) struct RuleInfo {
    /// The rule's `when` without the conjuncts the index files it by (`index::residual`):
    /// the rule is only ever looked at for agents and intents where those hold. `None`: always.
    /// Compiled, as `unless`, in the engine's `progs`.
    pub(crate) when: Option<Cond>,
    pub(crate) unless: Option<Cond>,
    pub(crate) id: Arc<str>,
    pub(crate) because: Option<Arc<str>>,
    /// What a candidate the rule forbids is told: `forbidden by ID ("BECAUSE")`.
    pub(crate) forbidden_by: Arc<str>,
    /// Its source id, for its trace entries.
    pub(crate) at: Option<SrcId>,
}

/// One agent that may take a step, with what its declaration already says about it.
pub(crate) struct Candidate {
    pub(crate) agent: AgentId,
    pub(crate) name: Arc<str>,
    pub(crate) endpoint: Option<Arc<str>>,
    /// `does not provide ..`: it lacks a capability the step needs.
    pub(crate) lacks: Option<Arc<str>>,
    /// `not cleared for ..`: its clearance does not cover the step's data, so only a `permit`
    /// rule can let it take the step.
    pub(crate) not_cleared: Option<Arc<str>>,
    /// The rules of each kind filed for this agent and the step's intent (`RuleIndex::specific`;
    /// the global ones are walked with them).
    pub(crate) forbids: Box<[u32]>,
    pub(crate) permits: Box<[u32]>,
    pub(crate) escalations: Box<[u32]>,
    pub(crate) audits: Box<[u32]>,
}

/// The engine's four rule indexes, while the engine is being built.
pub(super) struct Indexes<'a> {
    pub(super) forbids: &'a RuleIndex,
    pub(super) permits: &'a RuleIndex,
    pub(super) escalations: &'a RuleIndex,
    pub(super) audits: &'a RuleIndex,
}

impl StepInfo {
    pub(super) fn new(
        plan: &Plan,
        providers: &[Vec<AgentId>],
        rules: &Indexes<'_>,
        shared: &Shared<'_>,
        intent: IntentId,
        step: &plan::Step,
    ) -> StepInfo {
        let order = plan::candidates::candidates(plan, providers, step);
        let candidates = order
            .into_iter()
            .map(|a| {
                let name = shared
                    .agent_names
                    .get(a as usize)
                    .cloned()
                    .unwrap_or_else(|| Arc::from("?"));
                let endpoint = shared.agent_endpoints.get(a as usize).cloned().flatten();
                let Some(agent) = plan.agents.get(a as usize) else {
                    return Candidate {
                        agent: a,
                        name,
                        endpoint,
                        lacks: Some(Arc::from("does not provide anything")),
                        not_cleared: None,
                        forbids: Box::default(),
                        permits: Box::default(),
                        escalations: Box::default(),
                        audits: Box::default(),
                    };
                };
                let lacks = (!covers(&agent.provides, &step.needs)).then(|| {
                    let missing: Vec<&str> = step
                        .needs
                        .iter()
                        .filter(|c| agent.provides.binary_search(c).is_err())
                        .filter_map(|c| plan.capabilities.get(*c as usize).map(|x| x.name.as_str()))
                        .collect();
                    Arc::from(format!("does not provide {}", missing.join(", ")))
                });
                let uncleared: Vec<&str> = step
                    .handles
                    .iter()
                    .filter(|d| agent.cleared.binary_search(d).is_err())
                    .filter_map(|d| plan.data_classes.get(*d as usize).map(|x| x.name.as_str()))
                    .collect();
                let not_cleared = (!uncleared.is_empty())
                    .then(|| Arc::from(format!("not cleared for {}", uncleared.join(", "))));
                Candidate {
                    agent: a,
                    name,
                    endpoint,
                    lacks,
                    not_cleared,
                    forbids: rules.forbids.specific(a, intent),
                    permits: rules.permits.specific(a, intent),
                    escalations: rules.escalations.specific(a, intent),
                    audits: rules.audits.specific(a, intent),
                }
            })
            .collect();
        StepInfo {
            name: shared
                .step_names
                .get(step.name.as_str())
                .cloned()
                .unwrap_or_else(|| Arc::from(step.name.as_str())),
            at: shared.at.id(step.src),
            handles: shared
                .step_handles
                .get(step.handles.as_slice())
                .cloned()
                .unwrap_or_else(|| Arc::from(step.handles.as_slice())),
            needs: step.needs.clone().into_boxed_slice(),
            candidates,
        }
    }
}

/// Whether a sorted `provides` holds every capability in `needs`.
fn covers(provides: &[CapId], needs: &[CapId]) -> bool {
    needs.iter().all(|n| provides.binary_search(n).is_ok())
}
