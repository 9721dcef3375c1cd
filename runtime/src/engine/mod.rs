//! The engine: a validated plan plus what is precomputed from it for fast decisions (names to
//! indexes, each step's candidates in the order they are tried with what their declarations
//! already rule out, policy rules filed by agent and intent, limits per agent and human, names,
//! rule ids and source locations as shared strings), the classifier and the state store.

mod arms;
mod context;
mod decide;
mod fill;
mod index;
mod intent;
mod names;
mod records;
mod review;
mod suggest;
mod validate;

use crate::classifier::{Builtin, Classifier};
use crate::decision::{Outcome, Sources};
use crate::plan::{self, IntentId, LimitTarget, Plan, SrcId};
use crate::program::{Cond, Programs};
use crate::state::{Breaker, MemoryState, Rate, State, Subject, Take};
pub use arms::SKIPPED_RUN;
#[cfg(feature = "server")]
pub(crate) use decide::now_ms;
pub use decide::{unavailable, Attempt, Preclassified, MAX_ATTEMPTS, UNAVAILABLE_RETRY_MS};
pub(crate) use index::fault_free;
use index::RuleIndex;
use records::{step_words, Indexes, Shared};
pub(crate) use records::{ArmInfo, Candidate, IntentInfo, RuleInfo, StepInfo};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// Why a plan cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError(pub String);

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid plan: {}", self.0)
    }
}

impl std::error::Error for PlanError {}

pub struct Engine {
    pub(crate) plan: Plan,
    pub(crate) hash: Arc<str>,
    /// Names to ids; each bucket holds the shared name of `intent_names` (`names.rs`).
    pub(crate) intents_by_name: names::Names,
    pub(crate) agents_by_name: names::Names,
    pub(crate) data_by_name: names::Names,
    pub(crate) agent_names: Vec<Arc<str>>,
    pub(crate) human_names: Vec<Arc<str>>,
    pub(crate) intent_names: Vec<Arc<str>>,
    pub(crate) data_names: Vec<Arc<str>>,
    /// Per intent: what `decide` reads of it, its arms and their steps, in one place.
    pub(crate) intents: Vec<IntentInfo>,
    /// Per rule of the plan, what `decide` reads of it.
    pub(crate) rules: Vec<RuleInfo>,
    pub(crate) breaker_open: Arc<str>,
    /// `file:line:col` per source id, shared with every decision's trace.
    pub(crate) sources: Sources,
    /// Per agent and per human: the subject by name, its rate limits and (agents) breaker;
    /// what a decision that uses it claims from the state store.
    pub(crate) agent_limits: Vec<Take>,
    pub(crate) human_limits: Vec<Take>,
    /// The rules of each kind, filed by the agent and intent they can apply to.
    pub(crate) forbids: RuleIndex,
    pub(crate) permits: RuleIndex,
    pub(crate) escalations: RuleIndex,
    pub(crate) audits: RuleIndex,
    /// The plan's built-in classifier, and another that replaces it (`with_classifier`).
    pub(crate) classifier: Builtin,
    pub(crate) custom_classifier: Option<Box<dyn Classifier>>,
    pub(crate) state: Arc<dyn State>,
    /// With the `cedar` feature and [`Engine::with_cedar`]: authorize through cedar-policy.
    #[cfg(feature = "cedar")]
    pub(crate) cedar: Option<crate::cedar::Oracle>,
    pub(crate) counter: AtomicU64,
    /// Every condition a decision or a review evaluates, compiled (`program.rs`): route arms
    /// (`ArmInfo::when`), rules (`RuleInfo`), review arms (`review_arms`).
    pub(crate) progs: Programs,
    /// Per review of the plan, per arm: its condition in `progs`.
    pub(crate) review_arms: Box<[Box<[Option<Cond>]>]>,
    /// The intent names filed for "did you mean" (`suggest.rs`).
    pub(crate) suggest: suggest::Suggest,
    /// Whether routes are read through their arm index (`arms.rs`); off only to compare.
    pub(crate) arm_index: bool,
    /// Whether some condition of the plan reads the caller (`caller.*`, `has caller`): only
    /// then does a decision look its caller up in the agent table.
    pub(crate) reads_caller: bool,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("plan_hash", &self.hash)
            .field("agents", &self.plan.agents.len())
            .field("intents", &self.plan.intents.len())
            .finish()
    }
}

impl Engine {
    /// Loads a plan, checking every index in it, with in-memory state.
    pub fn from_plan(plan: Plan) -> Result<Engine, PlanError> {
        Engine::with_state(plan, Arc::new(MemoryState::default()))
    }

    /// Loads a plan from its JSON text.
    pub fn from_json(json: &str) -> Result<Engine, PlanError> {
        let plan: Plan = serde_json::from_str(json)
            .map_err(|e| PlanError(format!("not a routing plan: {e}")))?;
        Engine::from_plan(plan)
    }

    /// Loads a plan with a given state store. The plan is validated first (`validate.rs`): a
    /// plan the engine cannot act on as written, or whose stated `plan_hash` is not the hash of
    /// its content, is refused. An empty `plan_hash` is computed.
    pub fn with_state(mut plan: Plan, state: Arc<dyn State>) -> Result<Engine, PlanError> {
        plan.plan_hash = validate::validate(&plan)?;
        let arc = |s: &str| -> Arc<str> { Arc::from(s) };
        // For each capability, the agents covering it, in the order `any CAPABILITY` tries them.
        let providers = plan::candidates::providers(&plan);
        let (agent_limits, human_limits) = limits(&plan);
        let mut intent_limits = intent_limits(&plan);
        let agent_name_list: Vec<&str> = plan.agents.iter().map(|a| a.name.as_str()).collect();
        let by_kind = |k: plan::RuleKind| {
            RuleIndex::new(&plan.rules, k, &agent_name_list, plan.intents.len())
        };
        let classifier = Builtin::new(&plan.intents, &plan.classifier);
        let (forbids, permits, escalations, audits) = (
            by_kind(plan::RuleKind::Forbid),
            by_kind(plan::RuleKind::Permit),
            by_kind(plan::RuleKind::Escalate),
            by_kind(plan::RuleKind::RequireAudit),
        );
        let indexes = Indexes {
            forbids: &forbids,
            permits: &permits,
            escalations: &escalations,
            audits: &audits,
        };
        let at = Sources::new(plan.source_map.iter().map(|s| arc(&s.to_string())));
        let agent_names: Vec<Arc<str>> = plan.agents.iter().map(|a| arc(&a.name)).collect();
        let agent_endpoints: Vec<Option<Arc<str>>> = plan
            .agents
            .iter()
            .map(|a| a.endpoint.as_deref().map(arc))
            .collect();
        let intent_names: Vec<Arc<str>> = plan.intents.iter().map(|i| arc(&i.name)).collect();
        let (step_names, step_handles) = step_words(&plan);
        let shared = Shared {
            at: &at,
            agent_names: &agent_names,
            agent_endpoints: &agent_endpoints,
            step_names: &step_names,
            step_handles: &step_handles,
        };
        // The conditions, compiled in the order decisions meet them: each route's arms, then
        // the rules; review arms last.
        let mut progs = Programs::default();
        let too_large = |_| PlanError("the plan's conditions are too many to load".into());
        let mut arm_conds = Vec::with_capacity(plan.intents.len());
        for it in &plan.intents {
            let mut conds = Vec::with_capacity(it.route.arms.len());
            for arm in &it.route.arms {
                conds.push(progs.compile_opt(arm.when.as_ref()).map_err(too_large)?);
            }
            arm_conds.push(conds);
        }
        let mut rules = Vec::with_capacity(plan.rules.len());
        for r in &plan.rules {
            let residual = r.when.as_ref().and_then(index::residual);
            rules.push(RuleInfo {
                when: progs.compile_opt(residual.as_ref()).map_err(too_large)?,
                unless: progs.compile_opt(r.unless.as_ref()).map_err(too_large)?,
                id: arc(&r.id),
                because: r.because.as_deref().map(arc),
                forbidden_by: match &r.because {
                    Some(b) => arc(&format!("forbidden by {} (\"{b}\")", r.id)),
                    None => arc(&format!("forbidden by {}", r.id)),
                },
                at: at.id(r.src),
            });
        }
        let mut review_arms = Vec::with_capacity(plan.reviews.len());
        for review in &plan.reviews {
            let mut conds = Vec::with_capacity(review.arms.len());
            for arm in &review.arms {
                conds.push(progs.compile_opt(arm.when.as_ref()).map_err(too_large)?);
            }
            review_arms.push(conds.into_boxed_slice());
        }
        let intents = plan
            .intents
            .iter()
            .zip(&intent_names)
            .zip(arm_conds)
            .enumerate()
            .map(|(i, ((it, name), conds))| IntentInfo {
                name: name.clone(),
                index: arms::ArmIndex::new(&it.route.arms, i as IntentId),
                misses: arms::misses(&it.route.arms, name, &at),
                arms: it
                    .route
                    .arms
                    .iter()
                    .zip(conds)
                    .map(|(arm, when)| {
                        let (steps, serves): (&[plan::Step], _) = match &arm.action {
                            plan::Action::Dispatch { step } => {
                                (std::slice::from_ref(step), Some(Outcome::Dispatch))
                            }
                            plan::Action::Plan { steps } => (steps, Some(Outcome::Plan)),
                            // Every variant named: a new action must say whether it serves steps.
                            plan::Action::Escalate { .. }
                            | plan::Action::Clarify { .. }
                            | plan::Action::Deny { .. }
                            | plan::Action::Pass
                            | plan::Action::Redact { .. } => (&[], None),
                        };
                        ArmInfo {
                            when,
                            serves,
                            at: at.id(arm.src),
                            steps: steps
                                .iter()
                                .map(|s| {
                                    StepInfo::new(
                                        &plan,
                                        &providers,
                                        &indexes,
                                        &shared,
                                        i as IntentId,
                                        s,
                                    )
                                })
                                .collect(),
                        }
                    })
                    .collect(),
                limits: intent_limits.get_mut(i).and_then(Option::take),
            })
            .collect();
        let suggest = suggest::Suggest::new(plan.intents.iter().map(|i| i.name.as_str()));
        let data_names: Vec<Arc<str>> = plan.data_classes.iter().map(|d| arc(&d.name)).collect();
        let mut engine = Engine {
            hash: arc(&plan.plan_hash),
            intents_by_name: names::Names::new(&intent_names),
            agents_by_name: names::Names::new(&agent_names),
            data_by_name: names::Names::new(&data_names),
            agent_names,
            human_names: plan.humans.iter().map(|h| arc(&h.name)).collect(),
            intent_names,
            data_names,
            intents,
            rules,
            breaker_open: arc("breaker open"),
            sources: at,
            agent_limits,
            human_limits,
            forbids,
            permits,
            escalations,
            audits,
            classifier,
            custom_classifier: None,
            state,
            #[cfg(feature = "cedar")]
            cedar: None,
            counter: AtomicU64::new(0),
            plan,
            progs,
            review_arms: review_arms.into_boxed_slice(),
            suggest,
            arm_index: true,
            reads_caller: false,
        };
        let reads_caller = engine.conditions().any(crate::eval::reads_caller);
        engine.reads_caller = reads_caller;
        Ok(engine)
    }

    /// Authorize every step through cedar-policy itself, on the plan's generated Cedar part,
    /// instead of the plan's indexed rules (the answers are the same; tests/differential.rs
    /// holds them to it). Slower by the cost of a Cedar request per capability and candidate.
    #[cfg(feature = "cedar")]
    pub fn with_cedar(mut self) -> Result<Engine, PlanError> {
        let oracle = crate::cedar::Oracle::new(&self.plan, &self.plan.cedar).map_err(PlanError)?;
        self.cedar = Some(oracle);
        Ok(self)
    }

    /// Replaces the built-in classifier for text requests (docs/classifier.md).
    pub fn with_classifier(mut self, classifier: Box<dyn Classifier>) -> Engine {
        self.custom_classifier = Some(classifier);
        self
    }

    /// The index of the intent named `name`.
    pub fn intent_id(&self, name: &str) -> Option<IntentId> {
        self.intents_by_name.get(name)
    }

    /// The classifier that reads text requests: the one given to [`Engine::with_classifier`],
    /// or the plan's built-in one.
    pub fn classifier(&self) -> &dyn Classifier {
        match &self.custom_classifier {
            Some(c) => c.as_ref(),
            None => &self.classifier,
        }
    }

    /// The plan's built-in classifier (for `intent classify`).
    pub fn builtin_classifier(&self) -> &Builtin {
        &self.classifier
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// True when the plan declares an agent named `name`.
    pub fn has_human(&self, name: &str) -> bool {
        self.plan.humans.iter().any(|h| h.name == name)
    }

    pub fn has_agent(&self, name: &str) -> bool {
        self.agents_by_name.contains(name)
    }

    /// The name of data class `id`.
    pub fn data_name(&self, id: plan::DataId) -> Option<&Arc<str>> {
        self.data_names.get(id as usize)
    }

    /// The id of the data class named `name`.
    pub fn data_id(&self, name: &str) -> Option<plan::DataId> {
        self.data_by_name.get(name)
    }

    /// Whether class `a` covers class `b` (is it, or above it).
    pub fn covers(&self, a: plan::DataId, b: plan::DataId) -> bool {
        self.plan
            .data_classes
            .get(a as usize)
            .is_some_and(|c| c.covers.binary_search(&b).is_ok())
    }

    pub fn plan_hash(&self) -> &str {
        &self.hash
    }

    /// Records a failure of the named agent at `now_ms`: its breaker may open, so the next
    /// decisions use fallbacks and backups until the cooldown passes. Unknown names are ignored.
    pub fn report_failure(&self, agent: &str, now_ms: u64) -> bool {
        match self.agent_limits(agent) {
            Some(t) => {
                self.state.record_failure(&t.subject, t.breaker, now_ms);
                true
            }
            None => false,
        }
    }

    /// The named agent as the state store knows it: its subject, rate limits and breaker.
    pub fn agent_limits(&self, agent: &str) -> Option<&Take> {
        self.agents_by_name
            .get(agent)
            .and_then(|a| self.agent_limits.get(a as usize))
    }

    /// The named human as the state store knows it: its subject and rate limits.
    pub fn human_limits(&self, human: &str) -> Option<&Take> {
        let i = self.human_names.iter().position(|n| &**n == human)?;
        self.human_limits.get(i)
    }

    /// Every agent as the state store knows it, in plan order.
    pub fn all_agent_limits(&self) -> &[Take] {
        &self.agent_limits
    }

    /// The state store this engine decides with (`decide`, `decide_at`).
    pub fn state(&self) -> &Arc<dyn State> {
        &self.state
    }

    /// `src` when the plan's source map has it, for a trace entry.
    pub(crate) fn at(&self, src: SrcId) -> Option<SrcId> {
        self.sources.id(src)
    }
}

/// An intent's rate limits (`rate intent NAME ...`).
#[derive(Debug, Clone)]
pub(crate) struct IntentLimits {
    /// Counted for all callers together (subject `intent NAME`); `None` without one.
    pub all: Option<Take>,
    /// Counted for each caller on its own (subject `intent NAME/CALLER`); empty without one.
    pub per_caller: Arc<[Rate]>,
}

impl IntentLimits {
    /// The takes a request from `caller` (none: anonymous) uses: none for an intent without
    /// limits, and no allocation unless it is limited per caller.
    pub fn takes(&self, intent: &str, caller: Option<&str>) -> Vec<Take> {
        let mut out: Vec<Take> = self.all.iter().cloned().collect();
        if !self.per_caller.is_empty() {
            out.push(Take {
                subject: Subject::Intent(Arc::from(format!("{intent}/{}", caller.unwrap_or("")))),
                rates: self.per_caller.clone(),
                breaker: None,
            });
        }
        out
    }
}

/// Per intent: its rate limits for all callers together and those counted per caller; `None`
/// for an intent with neither.
fn intent_limits(plan: &Plan) -> Vec<Option<Box<IntentLimits>>> {
    plan.intents
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let rates = |per_caller: bool| -> Vec<Rate> {
                plan.limits
                    .rates
                    .iter()
                    .filter(|r| {
                        r.target == LimitTarget::Intent(i as IntentId) && r.per_caller == per_caller
                    })
                    .map(|r| Rate {
                        count: r.count,
                        per_ms: r.per_ms,
                    })
                    .collect()
            };
            let (all, per_caller) = (rates(false), rates(true));
            (!all.is_empty() || !per_caller.is_empty()).then(|| {
                Box::new(IntentLimits {
                    all: (!all.is_empty()).then(|| Take {
                        subject: Subject::Intent(Arc::from(it.name.as_str())),
                        rates: Arc::from(all),
                        breaker: None,
                    }),
                    per_caller: Arc::from(per_caller),
                })
            })
        })
        .collect()
}

/// Each agent's and human's limits, as the state store takes them: rate limits (a limit for
/// `any` applies to each one), and for agents the breaker (one for the agent overrides
/// `breaker any`).
fn limits(plan: &Plan) -> (Vec<Take>, Vec<Take>) {
    let mut agent_rates = vec![Vec::new(); plan.agents.len()];
    let mut human_rates = vec![Vec::new(); plan.humans.len()];
    for r in &plan.limits.rates {
        let limit = Rate {
            count: r.count,
            per_ms: r.per_ms,
        };
        let one = |v: &mut Vec<Vec<Rate>>, i: u32| {
            if let Some(x) = v.get_mut(i as usize) {
                x.push(limit);
            }
        };
        match r.target {
            LimitTarget::Any => {
                agent_rates.iter_mut().for_each(|v| v.push(limit));
                human_rates.iter_mut().for_each(|v| v.push(limit));
            }
            LimitTarget::Agent(a) => one(&mut agent_rates, a),
            LimitTarget::Human(h) => one(&mut human_rates, h),
            // `intent_limits`.
            LimitTarget::Intent(_) => {}
        }
    }
    let breaker = |b: &plan::Breaker| Breaker {
        failures: b.failures,
        cooldown_ms: b.cooldown_ms,
    };
    let any = plan
        .limits
        .breakers
        .iter()
        .rfind(|b| b.target == LimitTarget::Any)
        .map(breaker);
    let mut breakers = vec![any; plan.agents.len()];
    for b in &plan.limits.breakers {
        if let LimitTarget::Agent(a) = b.target {
            if let Some(x) = breakers.get_mut(a as usize) {
                *x = Some(breaker(b));
            }
        }
    }
    let agents = plan
        .agents
        .iter()
        .zip(agent_rates)
        .zip(breakers)
        .map(|((a, rates), breaker)| Take {
            subject: Subject::Agent(Arc::from(a.name.as_str())),
            rates: Arc::from(rates),
            breaker,
        })
        .collect();
    let humans = plan
        .humans
        .iter()
        .zip(human_rates)
        .map(|(h, rates)| Take {
            subject: Subject::Human(Arc::from(h.name.as_str())),
            rates: Arc::from(rates),
            breaker: None,
        })
        .collect();
    (agents, humans)
}
