//! Exploring what a plan decides, for people who change plans: `diff` compares two plans over
//! the whole request space of each intent (cut into cells by the constants the conditions
//! compare against), `replay` decides recorded requests (the decision log) again on a new plan.
//! Both only read plans and call the engine; nothing here is on the path of `decide`.

mod cells;
mod constants;
mod diff;
mod region;
mod replay;
mod space;

pub use diff::{diff, DiffOptions, IntentDiff, PlanDiff, Region};
pub use replay::{replay, BadLine, ChangedRecord, IntentCount, ReplayReport};

use crate::decision::{Decision, Outcome};
use crate::log::step_list;
use crate::state::{Blocked, Breaker, Check, Refused, State, Subject, Take};
use serde::Serialize;

/// What a decision came to: what `diff` and `replay` compare (outcome, steps, person) and
/// show (also the reason or question).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionSummary {
    pub outcome: Outcome,
    /// `step=agent` for each filled step, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub human: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
}

impl DecisionSummary {
    /// Same outcome, steps and person (reasons and questions are not compared).
    pub fn same_as(&self, other: &DecisionSummary) -> bool {
        self.outcome == other.outcome && self.steps == other.steps && self.human == other.human
    }

    /// The compared part as one string, to group equal changes.
    fn key(&self) -> String {
        format!(
            "{}|{}|{}",
            self.outcome.as_str(),
            self.steps.join(","),
            self.human.as_deref().unwrap_or("")
        )
    }
}

impl std::fmt::Display for DecisionSummary {
    /// `plan parse=doc_parser, summarize=finance_agent`, `escalate to finance_lead (why)`,
    /// `escalate to finance_lead, carrying parse=doc_parser (why)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.outcome.as_str())?;
        if let Some(h) = &self.human {
            write!(f, " to {h}")?;
        }
        match (self.outcome, self.steps.is_empty()) {
            (_, true) => {}
            (Outcome::Escalate, false) => write!(f, ", carrying {}", self.steps.join(", "))?,
            (_, false) => write!(f, " {}", self.steps.join(", "))?,
        }
        if let Some(q) = &self.question {
            write!(f, " \"{q}\"")?;
        }
        if let Some(r) = &self.reason {
            write!(f, " ({r})")?;
        }
        Ok(())
    }
}

/// The summary of a decision.
pub fn summary(d: &Decision) -> DecisionSummary {
    DecisionSummary {
        outcome: d.outcome,
        steps: step_list(d),
        human: d.human.as_deref().map(str::to_string),
        reason: d.reason.clone(),
        question: d.question.as_deref().map(str::to_string),
    }
}

/// A state store in which no rate limit is ever reached and no breaker is ever open: `diff`
/// compares what the policies decide, not how busy the agents were.
struct NoLimits;

impl Check for NoLimits {
    fn check(&self, _: &Take, _: u64) -> Option<Blocked> {
        None
    }
}

impl State for NoLimits {
    fn take(&self, _: &[Take], _: u64) -> Result<(), Refused> {
        Ok(())
    }
    fn record_failure(&self, _: &Subject, _: Option<Breaker>, _: u64) {}
}
