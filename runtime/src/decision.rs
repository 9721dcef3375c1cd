//! What the runtime answers: a `Decision` for a request and a `Verdict` for a response, each
//! with the trace of every arm and rule looked at and where it is written.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Whether the decision sends the request on to agents (`dispatch`, `plan`): what a
    /// delegation token is minted for.
    pub fn sends(self) -> bool {
        match self {
            Outcome::Dispatch | Outcome::Plan => true,
            Outcome::Escalate | Outcome::Clarify | Outcome::Deny | Outcome::Throttle => false,
        }
    }

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
    /// The data classes the step handles (ids into the plan's `data_classes`): what its
    /// delegation token lists. Not in the decision's JSON: the plan says it.
    #[serde(skip)]
    pub handles: Arc<[crate::plan::DataId]>,
}

/// `step=agent`: how the decision log, `intent replay` and the `x-intent-route` header name a
/// filled step.
impl std::fmt::Display for FilledStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.step, self.agent)
    }
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

/// What kind of thing a trace entry looked at; a lowercase word in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceKind {
    /// The classifier's reading of a text request.
    Classifier,
    /// A guard before the route: lineage, depth, an unknown intent, confidence.
    Guard,
    /// A rate limit or breaker taken for the decision.
    Limit,
    /// An arm of the intent's route.
    Arm,
    /// An agent tried for a step.
    Candidate,
    /// A policy rule that applied to an agent.
    Rule,
    /// An arm of a review.
    Review,
}

impl TraceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TraceKind::Classifier => "classifier",
            TraceKind::Guard => "guard",
            TraceKind::Limit => "limit",
            TraceKind::Arm => "arm",
            TraceKind::Candidate => "candidate",
            TraceKind::Rule => "rule",
            TraceKind::Review => "review",
        }
    }
}

impl std::fmt::Display for TraceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing the evaluator looked at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceEntry {
    pub kind: TraceKind,
    /// What was looked at (an arm, a rule id, an agent); a string in JSON.
    pub what: TraceWhat,
    pub matched: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Arc<str>>,
    /// `file:line:col` of the arm or rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Arc<str>>,
}

/// What a trace entry looked at. It reads (`Display`) and serialises as one string —
/// `route pay arm 2 (otherwise)`, `route pay arms 3 to 56 (ruled out by the index)`,
/// `step parse: doc_parser`, `permit grants#3 for doc_parser in
/// step parse`, `forbid residency#0 for doc_parser in step parse`, `escalate rule p#1 for
/// finance_agent in step summarize`, `audit rule p#2 for ... in step ...` — but `decide`
/// keeps only its pieces, names the engine already shares, so tracing formats nothing on the
/// hot path; the text is written when someone reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceWhat {
    /// Arm `arm` (counted from 1) of the route of an intent.
    Arm {
        route: Arc<str>,
        arm: usize,
        otherwise: bool,
    },
    /// Arms `first` to `last` (counted from 1) of the route of an intent, none of which can
    /// match the request: the route's index ruled them out without evaluating them. Only a
    /// run of [`crate::SKIPPED_RUN`] arms or more is one entry; `at` is the first arm's.
    Arms {
        route: Arc<str>,
        first: usize,
        last: usize,
    },
    /// An agent tried for a step.
    Candidate { step: Arc<str>, agent: Arc<str> },
    /// A `forbid` rule that matched an agent tried for a step: a refusal.
    Forbid {
        rule: Arc<str>,
        agent: Arc<str>,
        step: Arc<str>,
    },
    /// A `permit` rule that granted an agent, for a step, what its clearance does not.
    Permit {
        rule: Arc<str>,
        agent: Arc<str>,
        step: Arc<str>,
    },
    /// An `escalate` rule checked against a filled step and its agent.
    EscalateRule {
        rule: Arc<str>,
        agent: Arc<str>,
        step: Arc<str>,
    },
    /// A `require audit` rule checked against a filled step and its agent.
    AuditRule {
        rule: Arc<str>,
        agent: Arc<str>,
        step: Arc<str>,
    },
    /// Anything else, already written out.
    Text(String),
}

impl std::fmt::Display for TraceWhat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TraceWhat::Arm {
                route,
                arm,
                otherwise,
            } => write!(
                f,
                "route {route} arm {arm}{}",
                if *otherwise { " (otherwise)" } else { "" }
            ),
            TraceWhat::Arms { route, first, last } => {
                write!(
                    f,
                    "route {route} arms {first} to {last} (ruled out by the index)"
                )
            }
            TraceWhat::Candidate { step, agent } => write!(f, "step {step}: {agent}"),
            TraceWhat::Forbid { rule, agent, step } => {
                write!(f, "forbid {rule} for {agent} in step {step}")
            }
            TraceWhat::Permit { rule, agent, step } => {
                write!(f, "permit {rule} for {agent} in step {step}")
            }
            TraceWhat::EscalateRule { rule, agent, step } => {
                write!(f, "escalate rule {rule} for {agent} in step {step}")
            }
            TraceWhat::AuditRule { rule, agent, step } => {
                write!(f, "audit rule {rule} for {agent} in step {step}")
            }
            TraceWhat::Text(text) => f.write_str(text),
        }
    }
}

impl Serialize for TraceWhat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A decision's id: the decision time in hexadecimal milliseconds, a dash, and the engine's
/// sequence number (`18bcfe5680-42`). A string in JSON; written out only when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecisionId {
    pub at_ms: u64,
    pub seq: u64,
}

impl std::fmt::Display for DecisionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:x}-{}", self.at_ms, self.seq)
    }
}

impl Serialize for DecisionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub outcome: Outcome,
    /// The intent decided on, when one was found.
    pub intent: Option<Arc<str>>,
    pub confidence: Option<f64>,
    /// For a request given as text: the classifier that answered (`builtin`, `external`, or
    /// `builtin (fallback: ...)`), and the probability it gave that the text means none of the
    /// plan's intents (docs/classifier.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classifier: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub none_of_these: Option<f64>,
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
    pub decision_id: DecisionId,
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
