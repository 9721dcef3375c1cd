//! What the runtime answers: a `Decision` for a request and a `Verdict` for a response, each
//! with the trace of every arm and rule looked at and where it is written.

use crate::plan::SrcId;
pub use crate::trace::{Sources, Trace};
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

/// One thing the evaluator looked at. It is written as JSON as part of its [`Trace`], which
/// holds the text of its `at`.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceEntry {
    pub kind: TraceKind,
    /// What was looked at (an arm, a rule id, an agent); a string in JSON.
    pub what: TraceWhat,
    pub matched: bool,
    pub detail: Option<Arc<str>>,
    /// The source id of the arm, rule or step; [`Trace::at`] gives its `file:line:col`.
    pub at: Option<SrcId>,
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

impl TraceWhat {
    /// Appends the text to `out`, piece by piece: a decision's answer writes several entries,
    /// and `write!`'s formatting machinery cost more than the rest of its JSON.
    pub fn write_to(&self, out: &mut String) {
        let rule_for = |out: &mut String, what: &str, rule: &str, agent: &str, step: &str| {
            for piece in [what, rule, " for ", agent, " in step ", step] {
                out.push_str(piece);
            }
        };
        match self {
            TraceWhat::Arm {
                route,
                arm,
                otherwise,
            } => {
                out.push_str("route ");
                out.push_str(route);
                out.push_str(" arm ");
                push_decimal(out, *arm as u64);
                if *otherwise {
                    out.push_str(" (otherwise)");
                }
            }
            TraceWhat::Arms { route, first, last } => {
                out.push_str("route ");
                out.push_str(route);
                out.push_str(" arms ");
                push_decimal(out, *first as u64);
                out.push_str(" to ");
                push_decimal(out, *last as u64);
                out.push_str(" (ruled out by the index)");
            }
            TraceWhat::Candidate { step, agent } => {
                for piece in ["step ", step, ": ", agent] {
                    out.push_str(piece);
                }
            }
            TraceWhat::Forbid { rule, agent, step } => rule_for(out, "forbid ", rule, agent, step),
            TraceWhat::Permit { rule, agent, step } => rule_for(out, "permit ", rule, agent, step),
            TraceWhat::EscalateRule { rule, agent, step } => {
                rule_for(out, "escalate rule ", rule, agent, step)
            }
            TraceWhat::AuditRule { rule, agent, step } => {
                rule_for(out, "audit rule ", rule, agent, step)
            }
            TraceWhat::Text(text) => out.push_str(text),
        }
    }
}

/// Appends `n` in decimal (or, below, hexadecimal) digits.
fn push_decimal(out: &mut String, n: u64) {
    push_digits(out, n, 10);
}

fn push_digits(out: &mut String, n: u64, base: u64) {
    let (buf, start) = digits(n, base);
    out.extend(buf[start..].iter().map(|&b| char::from(b)));
}

/// The digits of `n` in `base` (2 to 16, lowercase letters), ASCII: a buffer and where they
/// start in it.
pub(crate) fn digits(mut n: u64, base: u64) -> ([u8; 64], usize) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 64];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = DIGITS[(n % base) as usize];
        n /= base;
        if n == 0 {
            break;
        }
    }
    (buf, i)
}

impl std::fmt::Display for TraceWhat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut text = String::new();
        self.write_to(&mut text);
        f.write_str(&text)
    }
}

impl Serialize for TraceWhat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut text = String::with_capacity(64);
        self.write_to(&mut text);
        s.serialize_str(&text)
    }
}

/// A decision's id: the decision time in hexadecimal milliseconds, a dash, and the engine's
/// sequence number (`18bcfe5680-42`). A string in JSON; written out only when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecisionId {
    pub at_ms: u64,
    pub seq: u64,
}

impl DecisionId {
    /// The id's text, without `write!`'s formatting machinery (every answer and log line
    /// carries one).
    pub fn text(&self) -> String {
        let mut out = String::with_capacity(24);
        push_digits(&mut out, self.at_ms, 16);
        out.push('-');
        push_decimal(&mut out, self.seq);
        out
    }
}

impl std::fmt::Display for DecisionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

impl Serialize for DecisionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
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
    pub trace: Trace,
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
    pub trace: Trace,
    pub plan_hash: Arc<str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The texts as `write!` wrote them before they were written piece by piece.
    fn formatted(w: &TraceWhat) -> String {
        match w {
            TraceWhat::Arm {
                route,
                arm,
                otherwise,
            } => format!(
                "route {route} arm {arm}{}",
                if *otherwise { " (otherwise)" } else { "" }
            ),
            TraceWhat::Arms { route, first, last } => {
                format!("route {route} arms {first} to {last} (ruled out by the index)")
            }
            TraceWhat::Candidate { step, agent } => format!("step {step}: {agent}"),
            TraceWhat::Forbid { rule, agent, step } => {
                format!("forbid {rule} for {agent} in step {step}")
            }
            TraceWhat::Permit { rule, agent, step } => {
                format!("permit {rule} for {agent} in step {step}")
            }
            TraceWhat::EscalateRule { rule, agent, step } => {
                format!("escalate rule {rule} for {agent} in step {step}")
            }
            TraceWhat::AuditRule { rule, agent, step } => {
                format!("audit rule {rule} for {agent} in step {step}")
            }
            TraceWhat::Text(text) => text.clone(),
        }
    }

    fn what() -> impl Strategy<Value = TraceWhat> {
        let name = || "[a-z_.#0-9\\\\\"é]{0,12}".prop_map(|s| Arc::<str>::from(s.as_str()));
        let n = || prop_oneof![Just(0usize), Just(usize::MAX), any::<usize>(), 0usize..1000];
        prop_oneof![
            (name(), n(), any::<bool>()).prop_map(|(route, arm, otherwise)| TraceWhat::Arm {
                route,
                arm,
                otherwise
            }),
            (name(), n(), n()).prop_map(|(route, first, last)| TraceWhat::Arms {
                route,
                first,
                last
            }),
            (name(), name()).prop_map(|(step, agent)| TraceWhat::Candidate { step, agent }),
            (0..4u8, name(), name(), name()).prop_map(|(kind, rule, agent, step)| match kind {
                0 => TraceWhat::Forbid { rule, agent, step },
                1 => TraceWhat::Permit { rule, agent, step },
                2 => TraceWhat::EscalateRule { rule, agent, step },
                _ => TraceWhat::AuditRule { rule, agent, step },
            }),
            "[ -~é]{0,20}".prop_map(TraceWhat::Text),
        ]
    }

    proptest! {
        #[test]
        fn trace_texts_read_as_they_did(w in what()) {
            let want = formatted(&w);
            prop_assert_eq!(w.to_string(), want.clone());
            prop_assert_eq!(serde_json::to_string(&w).unwrap(), serde_json::to_string(&want).unwrap());
        }

        #[test]
        fn decision_ids_read_as_they_did(at_ms in any::<u64>(), seq in any::<u64>()) {
            let id = DecisionId { at_ms, seq };
            let want = format!("{at_ms:x}-{seq}");
            prop_assert_eq!(id.to_string(), want.clone());
            prop_assert_eq!(serde_json::to_string(&id).unwrap(), serde_json::to_string(&want).unwrap());
        }
    }
}
