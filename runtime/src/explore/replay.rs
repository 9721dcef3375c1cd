//! `replay`: the records of a decision log (`LogRecord`, one JSON object per line) decided again
//! on a plan, each at the time it was recorded, in the order of the log (so rate limits count
//! the log's traffic as it came). A record whose outcome, filled steps or person differ from
//! what was recorded is a change; a line that is not a record is reported with its number and
//! skipped.

use super::{summary, DecisionSummary};
use crate::engine::Engine;
use crate::log::LogRecord;
use serde::Serialize;
use std::collections::BTreeMap;

/// What a replay found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayReport {
    pub plan_hash: String,
    /// Records read.
    pub records: u64,
    /// Records whose decision changes.
    pub changed_records: u64,
    /// Per intent (the recorded one; `-` when none was found), in name order.
    pub intents: Vec<IntentCount>,
    pub changed: Vec<ChangedRecord>,
    pub bad_lines: Vec<BadLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentCount {
    pub intent: String,
    pub records: u64,
    pub changed: u64,
}

/// A record decided differently now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangedRecord {
    /// Line number in the log, from 1.
    pub line: usize,
    pub decision_id: String,
    pub intent: Option<String>,
    /// As recorded.
    pub old: DecisionSummary,
    /// On the new plan.
    pub new: DecisionSummary,
}

/// A line that is not a log record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BadLine {
    pub line: usize,
    pub error: String,
}

/// Decides every record of `log` again with `engine`. Blank lines are skipped silently.
pub fn replay(engine: &Engine, log: &[u8]) -> ReplayReport {
    let mut report = ReplayReport {
        plan_hash: engine.plan_hash().to_string(),
        records: 0,
        changed_records: 0,
        intents: Vec::new(),
        changed: Vec::new(),
        bad_lines: Vec::new(),
    };
    let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (i, raw) in log.split(|b| *b == b'\n').enumerate() {
        let line = i + 1;
        let Ok(text) = std::str::from_utf8(raw) else {
            report.bad_lines.push(BadLine {
                line,
                error: "not UTF-8".into(),
            });
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let record = match LogRecord::from_line(text) {
            Ok(r) => r,
            Err(e) => {
                report.bad_lines.push(BadLine {
                    line,
                    error: format!("not a decision record: {e}"),
                });
                continue;
            }
        };
        let old = DecisionSummary {
            outcome: record.outcome,
            steps: record.steps.clone(),
            human: record.human.clone(),
            reason: record.reason.clone(),
            question: None,
        };
        let new = summary(&engine.decide_at(&record.request, record.at_ms));
        report.records += 1;
        let count = counts
            .entry(record.intent.clone().unwrap_or_else(|| "-".into()))
            .or_default();
        count.0 += 1;
        if !old.same_as(&new) {
            count.1 += 1;
            report.changed_records += 1;
            report.changed.push(ChangedRecord {
                line,
                decision_id: record.decision_id,
                intent: record.intent,
                old,
                new,
            });
        }
    }
    report.intents = counts
        .into_iter()
        .map(|(intent, (records, changed))| IntentCount {
            intent,
            records,
            changed,
        })
        .collect();
    report
}
