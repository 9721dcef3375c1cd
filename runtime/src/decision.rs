//! What the runtime answers: a `Decision` for a request and a `Verdict` for a response, each
//! with the trace of every arm and rule looked at and where it is written.

use serde::Serialize;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Dispatch,
    Plan,
    Escalate,
    Clarify,
    Deny,
    Throttle,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Dispatch => "dispatch",
            Outcome::Plan => "plan",
            Outcome::Escalate => "escalate",
            Outcome::Clarify => "clarify",
            Outcome::Deny => "deny",
            Outcome::Throttle => "throttle",
        }
    }
}

/// A filled step: which agent serves it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilledStep {
    pub step: Arc<str>,
    pub agent: Arc<str>,
    /// Where the agent is reached, if its declaration says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Arc<str>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Obligation {
    /// A `require audit` rule matched.
    Audit {
        rule: Arc<str>,
        because: Option<Arc<str>>,
    },
    /// A review arm asks for these data classes to be removed.
    Redact { data: Vec<Arc<str>> },
}

/// One thing the evaluator looked at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceEntry {
    /// `classifier`, `guard`, `arm`, `candidate`, `rule`, `review`.
    pub kind: &'static str,
    /// What was looked at (an arm's text, a rule id, an agent).
    pub what: String,
    pub matched: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// `file:line:col` of the arm or rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Arc<str>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub outcome: Outcome,
    /// The intent decided on, when one was found.
    pub intent: Option<Arc<str>>,
    pub confidence: Option<f64>,
    /// The filled steps: for `dispatch` and `plan`, and the plan an escalation carries.
    pub steps: Vec<FilledStep>,
    /// For `escalate`: the person chosen, and when the answer is due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub human: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// For `clarify`: the question.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<Arc<str>>,
    /// Why: the `because` of the arm or rule that decided, or what went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For `throttle`: when to try again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    pub obligations: Vec<Obligation>,
    pub trace: Vec<TraceEntry>,
    pub plan_hash: Arc<str>,
    pub decision_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictOutcome {
    Pass,
    Redact,
    Escalate,
    Deny,
}

/// The answer of `review` for an agent's response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub outcome: VerdictOutcome,
    /// For `redact`: the data classes to remove.
    pub redact: Vec<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub human: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub trace: Vec<TraceEntry>,
    pub plan_hash: Arc<str>,
}
