//! The decision log: one JSON object per line for each decision, written by `intent serve` and
//! read back by `intent replay`. A record holds the request exactly as decided (so it can be
//! decided again), the time it was decided at, and a summary of the answer: outcome, chosen
//! agents, person, reason, plan hash and decision id. The trace is left out: it is large, and a
//! replay recomputes it.

use crate::decision::{Decision, Outcome};
use crate::request::Request;
use serde::{Deserialize, Serialize};

/// One line of the decision log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// When the decision was made, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    pub decision_id: String,
    pub plan_hash: String,
    pub request: Request,
    pub outcome: Outcome,
    /// The intent decided on, when one was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// `step=agent` for each filled step, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl LogRecord {
    /// The record of `decision`, made for `request` (at the time its id carries).
    pub fn new(request: Request, decision: &Decision) -> LogRecord {
        LogRecord {
            at_ms: decision.decision_id.at_ms,
            decision_id: decision.decision_id.to_string(),
            plan_hash: decision.plan_hash.to_string(),
            request,
            outcome: decision.outcome,
            intent: decision.intent.as_deref().map(str::to_string),
            steps: step_list(decision),
            human: decision.human.as_deref().map(str::to_string),
            reason: decision.reason.clone(),
        }
    }

    /// One line of JSON, without the newline.
    pub fn to_line(&self) -> String {
        // A record holds only strings, numbers and JSON values: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads one line of the log.
    pub fn from_line(line: &str) -> Result<LogRecord, serde_json::Error> {
        serde_json::from_str(line)
    }
}

/// `step=agent` for each filled step of a decision, in order: the part of a decision that a
/// replay compares along with the outcome.
pub fn step_list(decision: &Decision) -> Vec<String> {
    decision
        .steps
        .iter()
        .map(|s| format!("{}={}", s.step, s.agent))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_record_reads_back_as_written() {
        let line = r#"{"at_ms":5,"decision_id":"5-1","plan_hash":"sha256:ab","request":{"intent":"pay","confidence":0.9,"region":"eu"},"outcome":"dispatch","intent":"pay","steps":["pay=ledger"]}"#;
        let record = LogRecord::from_line(line).unwrap();
        assert_eq!(record.outcome, Outcome::Dispatch);
        assert_eq!(record.request.context["region"], "eu");
        assert_eq!(LogRecord::from_line(&record.to_line()).unwrap(), record);
    }
}
