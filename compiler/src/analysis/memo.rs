//! The analysis's parts kept between checks of one mesh, so that a check after an edit
//! re-analyses only the intents the edit changed.
//!
//! An intent's part is a function of the intent and of the rest of the plan (agents, rules,
//! context, ...; everything but the intents, the source map, the hash and the Cedar part,
//! which the analysis does not read). So a part is reused when both are equal to what they
//! were: an edit inside one route re-analyses that intent alone, an edit to an agent or a
//! rule re-analyses every intent, as it must. Reviews depend on the rest only.

use super::{analyze_intents, combine, merge, Finding, IntentPart};
use intent_runtime::plan::{Intent, IntentId, Plan};

/// What the last analysis of one mesh found, by intent.
#[derive(Default)]
pub struct Memo {
    /// The plan of the last analysis without its intents (see [`rest_of`]).
    rest: Option<Plan>,
    intents: Vec<Intent>,
    parts: Vec<IntentPart>,
    reviews: Vec<Finding>,
    /// How many intents the last call analysed (the others were reused).
    analysed: usize,
    /// Keep nothing ([`Memo::once`]).
    once: bool,
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
        let which: Vec<IntentId> = (0..plan.intents.len())
            .filter(|&i| !same_rest || self.intents.get(i) != plan.intents.get(i))
            .map(|i| i as IntentId)
            .collect();
        let (fresh, reviews) = analyze_intents(plan, &which, !same_rest, true);
        self.analysed = which.len();
        if !same_rest {
            self.rest = Some(rest_of(plan));
            self.reviews = reviews.unwrap_or_default();
        }
        if self.intents.len() != plan.intents.len() {
            self.intents.clone_from(&plan.intents);
            self.parts = vec![IntentPart::default(); plan.intents.len()];
        }
        for (i, part) in which.iter().zip(fresh) {
            let i = *i as usize;
            if let (Some(slot), Some(now)) = (self.intents.get_mut(i), plan.intents.get(i)) {
                // After an edit to the rest every intent is analysed again, most unchanged.
                if slot != now {
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
        let incomplete: Vec<bool> = merge(plan, &parts).iter().map(|t| t.incomplete()).collect();
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
            let (again, _) = analyze_intents(plan, &redo, false, false);
            self.analysed += redo.len();
            for (i, part) in redo.iter().zip(again) {
                if let Some(slot) = self.parts.get_mut(*i as usize) {
                    *slot = part;
                }
            }
        }
        let parts: Vec<&IntentPart> = self.parts.iter().collect();
        combine(plan, &parts, &self.reviews)
    }

    /// How many intents the last [`Memo::analyze`] analysed; the others' parts were reused.
    pub fn analysed(&self) -> usize {
        self.analysed
    }
}

/// The plan without what the memo keeps apart (its intents) and what the analysis does not
/// read (the source map, the hash, the Cedar part).
fn rest_of(plan: &Plan) -> Plan {
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
    Plan {
        format: *format,
        plan_hash: String::new(),
        capabilities: capabilities.clone(),
        data_classes: data_classes.clone(),
        context: context.clone(),
        agents: agents.clone(),
        humans: humans.clone(),
        intents: Vec::new(),
        rules: rules.clone(),
        reviews: reviews.clone(),
        limits: limits.clone(),
        classifier: classifier.clone(),
        cedar: Default::default(),
        source_map: Vec::new(),
    }
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
    rest.format == *format
        && rest.capabilities == *capabilities
        && rest.data_classes == *data_classes
        && rest.context == *context
        && rest.agents == *agents
        && rest.humans == *humans
        && rest.rules == *rules
        && rest.reviews == *reviews
        && rest.limits == *limits
        && rest.classifier == *classifier
}
