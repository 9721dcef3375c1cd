//! The analysis's parts kept between checks of one mesh, so that a check after an edit
//! re-analyses only the intents the edit changed.
//!
//! An intent's part is a function of the intent, of the agents it reads and of the rest of
//! the plan (rules, context, capabilities, ...; not the source map, the hash, the Cedar part
//! or the classifier's fitted weights, which the analysis does not read). The agents it
//! reads are the candidates of its steps (`Reader::agents_read`), or every agent when its
//! route or a rule reads the caller (the caller may be any agent). Which agents provide
//! which capability decides the candidates, so it belongs to the rest. A part is reused when
//! all three are equal to what they were (an intent's description and examples aside: the
//! analysis does not read them): an edit inside one route re-analyses that intent alone, an
//! edit to one agent the intents that may send it a step, an edit to a rule every intent, an
//! edit to an example none. Reviews read every agent.

use super::{analyze_intents, combine, merge, Finding, IntentPart, Rules};
use intent_runtime::plan::{self, AgentId, Expr, Intent, IntentId, Plan, Step};

/// What the last analysis of one mesh found, by intent.
#[derive(Default)]
pub struct Memo {
    /// The plan of the last analysis without its intents (see [`rest_of`]).
    rest: Option<Plan>,
    intents: Vec<Intent>,
    parts: Vec<IntentPart>,
    /// Per intent, the agents its part read; `None`: every agent.
    read: Vec<Option<Vec<AgentId>>>,
    reviews: Vec<Finding>,
    /// How many intents the last call analysed (the others were reused).
    analysed: usize,
    /// Keep nothing ([`Memo::once`]).
    once: bool,
    /// The plans of the last two checks, oldest first, kept alive past the database's
    /// revisions (see [`Memo::keep_plan`]).
    last_plans: Vec<std::sync::Arc<Plan>>,
}

impl Memo {
    /// A memo that keeps nothing, for a check that runs once (`intent check`): it saves
    /// copying the plan.
    pub fn once() -> Memo {
        Memo {
            once: true,
            ..Memo::default()
        }
    }

    /// Every finding on `plan`, reusing the parts of intents unchanged since the last call.
    pub fn analyze(&mut self, plan: &Plan) -> Vec<Finding> {
        if self.once {
            self.analysed = plan.intents.len();
            return super::analyze(plan);
        }
        let same_rest = self.rest.as_ref().is_some_and(|r| same_rest(r, plan));
        // Which agents changed (all, when anything else of the rest did).
        let changed: Vec<bool> = match &self.rest {
            Some(r) if same_rest => r
                .agents
                .iter()
                .zip(&plan.agents)
                .map(|(was, now)| was != now)
                .collect(),
            _ => vec![true; plan.agents.len()],
        };
        let any_agent = changed.iter().any(|c| *c);
        let fresh_all = !same_rest || self.intents.len() != plan.intents.len();
        let which: Vec<IntentId> = (0..plan.intents.len())
            .filter(|&i| {
                fresh_all
                    || !matches!(
                        (self.intents.get(i), plan.intents.get(i)),
                        (Some(was), Some(now)) if alike(was, now)
                    )
                    || match self.read.get(i) {
                        Some(Some(read)) => read
                            .iter()
                            .any(|a| changed.get(*a as usize) != Some(&false)),
                        _ => any_agent,
                    }
            })
            .map(|i| i as IntentId)
            .collect();
        // Reviews read every agent.
        let new_rest = !same_rest || any_agent;
        // After the first analysis of a mesh, the fit is remembered: the other cores are free.
        let apart = self.rest.is_some();
        let (fresh, reviews) = analyze_apart(plan, &which, new_rest, apart);
        self.analysed = which.len();
        if new_rest {
            self.rest = Some(rest_of(plan));
            self.reviews = reviews.unwrap_or_default();
        }
        if self.intents.len() != plan.intents.len() {
            self.intents.clone_from(&plan.intents);
            self.parts = vec![IntentPart::default(); plan.intents.len()];
            self.read = vec![None; plan.intents.len()];
        }
        let reader = (!which.is_empty()).then(|| Reader::new(plan));
        for (i, part) in which.iter().zip(fresh) {
            if let (Some(slot), Some(reader)) = (self.read.get_mut(*i as usize), &reader) {
                *slot = reader.agents_read(*i);
            }
            let i = *i as usize;
            if let (Some(slot), Some(now)) = (self.intents.get_mut(i), plan.intents.get(i)) {
                // After an edit to the rest every intent is analysed again, most unchanged.
                if !alike(slot, now) {
                    slot.clone_from(now);
                }
            }
            if let Some(slot) = self.parts.get_mut(i) {
                *slot = part;
            }
        }
        // A kept part may not have looked at a rule that was alive elsewhere in its batch;
        // if the edit left that rule alive nowhere, such parts are analysed again in full.
        let parts: Vec<&IntentPart> = self.parts.iter().collect();
        let mut tally = merge(plan, &parts);
        let incomplete: Vec<bool> = tally.iter().map(|t| t.incomplete()).collect();
        let redo: Vec<IntentId> = (0..self.parts.len())
            .filter(|&i| {
                self.parts[i]
                    .rules
                    .iter()
                    .any(|(k, t)| t.skipped() && incomplete.get(*k) == Some(&true))
            })
            .map(|i| i as IntentId)
            .collect();
        if !redo.is_empty() {
            let again = analyze_intents(plan, &redo, false, Rules::PerIntent { skip: false }).parts;
            self.analysed += redo.len();
            for (i, part) in redo.iter().zip(again) {
                if let Some(slot) = self.parts.get_mut(*i as usize) {
                    *slot = part;
                }
            }
            tally = merge(plan, &self.parts.iter().collect::<Vec<_>>());
        }
        let parts: Vec<&IntentPart> = self.parts.iter().collect();
        combine(plan, &parts, &self.reviews, tally)
    }

    /// Holds on to the plan a check made. The database drops a result at the start of the
    /// revision after the one that replaced it (an edit's `set_file`), before the check
    /// starts; a plan of a large mesh is hundreds of thousands of allocations. Held here too,
    /// the plan is freed by the check after next instead, while the analysis runs on another
    /// thread (`check::analyze_and_fit`). A check run once keeps nothing.
    pub fn keep_plan(&mut self, plan: &std::sync::Arc<Plan>) {
        if !self.once {
            self.last_plans.push(std::sync::Arc::clone(plan));
        }
    }

    /// The oldest plan [`Memo::keep_plan`] kept, once the database has let go of it (two
    /// checks later), for the caller to free.
    pub fn take_plan(&mut self) -> Option<std::sync::Arc<Plan>> {
        (self.last_plans.len() >= 2).then(|| self.last_plans.remove(0))
    }

    /// How many intents the last [`Memo::analyze`] analysed; the others' parts were reused.
    pub fn analysed(&self) -> usize {
        self.analysed
    }
}

/// With `apart`, at least this many intents to analyse again are split into batches on rayon's
/// pool, one a thread. An edit to a rule or to the rest re-analyses every intent, and after the
/// first analysis of a mesh the classifier's fit, which a check runs beside the analysis, is
/// remembered: the other cores are free. Fewer intents, or the first analysis, are one batch
/// (sites alike in several intents are worked out once a batch, and the fit has the cores).
const SPLIT_FROM: usize = 64;

/// The parts of the intents `which` (in order) and, with `reviews`, the reviews. Batches
/// analysed apart give the parts one batch would (`Memo::analyze` redoes a part that skipped a
/// rule alive nowhere), at the cost of sites worked out once per batch.
fn analyze_apart(
    plan: &Plan,
    which: &[IntentId],
    reviews: bool,
    apart: bool,
) -> (Vec<IntentPart>, Option<Vec<Finding>>) {
    use rayon::prelude::*;
    let how = Rules::PerIntent { skip: true };
    let threads = rayon::current_num_threads();
    if !apart || which.len() < SPLIT_FROM || threads < 2 {
        let batch = analyze_intents(plan, which, reviews, how);
        return (batch.parts, batch.reviews);
    }
    let size = which.len().div_ceil(threads);
    let batches: Vec<_> = which
        .par_chunks(size)
        .enumerate()
        .map(|(k, chunk)| analyze_intents(plan, chunk, reviews && k == 0, how))
        .collect();
    let mut parts = Vec::with_capacity(which.len());
    let mut found = None;
    for b in batches {
        parts.extend(b.parts);
        found = found.or(b.reviews);
    }
    (parts, found)
}

/// The plan without what the memo keeps apart (its intents) and what the analysis does not
/// read (the source map, the hash, the Cedar part).
fn rest_of(plan: &Plan) -> Plan {
    // Every field named (no `..`), so a new field of the plan must be decided here.
    Plan {
        format: plan.format,
        plan_hash: String::new(),
        capabilities: plan.capabilities.clone(),
        data_classes: plan.data_classes.clone(),
        context: plan.context.clone(),
        agents: plan.agents.clone(),
        humans: plan.humans.clone(),
        intents: Vec::new(),
        rules: plan.rules.clone(),
        reviews: plan.reviews.clone(),
        limits: plan.limits.clone(),
        classifier: plan.classifier.clone(),
        cedar: Default::default(),
        source_map: Vec::new(),
    }
}

/// Whether two versions of an intent are alike in all the analysis reads of them: everything
/// but the description and the examples, which only the classifier reads (an edit to an
/// example is fitted again, not analysed again). Every field is named, so a new field of
/// `Intent` must be decided here.
fn alike(was: &Intent, now: &Intent) -> bool {
    let Intent {
        name,
        description: _,
        examples: _,
        requires,
        handles,
        delegates,
        input,
        tool,
        output,
        route,
        src,
    } = now;
    was.src == *src
        && was.name == *name
        && was.route == *route
        && was.requires == *requires
        && was.handles == *handles
        && was.delegates == *delegates
        && was.input == *input
        && was.tool == *tool
        && was.output == *output
}

/// Whether `plan` has the rest `rest` (what [`rest_of`] keeps).
fn same_rest(rest: &Plan, plan: &Plan) -> bool {
    let Plan {
        format,
        plan_hash: _,
        capabilities,
        data_classes,
        context,
        agents,
        humans,
        intents: _,
        rules,
        reviews,
        limits,
        classifier,
        cedar: _,
        source_map: _,
    } = plan;
    // The agents are compared one by one (`Memo::analyze`); what decides the candidates of
    // a step (who provides what) is part of the rest.
    rest.format == *format
        && rest.capabilities == *capabilities
        && rest.data_classes == *data_classes
        && rest.context == *context
        && rest.agents.len() == agents.len()
        && rest
            .agents
            .iter()
            .zip(agents)
            .all(|(a, b)| a.provides == b.provides)
        && rest.humans == *humans
        && rest.rules == *rules
        && rest.reviews == *reviews
        && rest.limits == *limits
        // The classifier's fitted weights change with any example; the analysis decides
        // requests that name their intent, which only the floor could affect.
        && rest.classifier.floor == classifier.floor
}

/// What decides which agents an intent's analysis reads.
struct Reader<'p> {
    plan: &'p Plan,
    providers: Vec<Vec<AgentId>>,
    /// Some rule reads the caller: every site depends on every agent.
    rules_read_caller: bool,
}

impl<'p> Reader<'p> {
    fn new(plan: &'p Plan) -> Reader<'p> {
        let rules_read_caller = plan.rules.iter().any(|r| {
            r.when.as_ref().is_some_and(reads_caller) || r.unless.as_ref().is_some_and(reads_caller)
        });
        Reader {
            plan,
            providers: plan::candidates::providers(plan),
            rules_read_caller,
        }
    }

    /// The agents the analysis of intent `i` reads: the candidates of its steps, as the
    /// runtime tries them (`plan::candidates`); `None` when it reads every agent.
    fn agents_read(&self, i: IntentId) -> Option<Vec<AgentId>> {
        let it = self.plan.intents.get(i as usize)?;
        let arms = &it.route.arms;
        if self.rules_read_caller
            || arms
                .iter()
                .any(|a| a.when.as_ref().is_some_and(reads_caller))
        {
            return None;
        }
        let mut read: Vec<AgentId> = arms
            .iter()
            .flat_map(|a| a.action.steps())
            .flat_map(|step: &Step| plan::candidates::candidates(self.plan, &self.providers, step))
            .collect();
        read.sort_unstable();
        read.dedup();
        Some(read)
    }
}

/// Whether `e` reads the request's caller (an agent, which may be any of them).
fn reads_caller(e: &Expr) -> bool {
    super::prepare::reads(e).caller
}
