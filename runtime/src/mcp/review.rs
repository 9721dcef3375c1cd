//! A tool's result passes the answering agent's `review` before it reaches the client (the
//! cognitive proxy). The response the review reads: the agent, the confidence the server
//! states in the result's `_meta` (`intent/confidence`, none otherwise), the data classes the
//! result carries, and the call's arguments as context. The data classes are those the
//! intent's `output` marks on fields present in the structured result, and every class the
//! intent `handles` when the result has content the gateway cannot read field by field (text,
//! images): unstructured content is taken to hold anything the intent may handle.
//!
//! The verdict: `pass` forwards the result; `deny` and `escalate` withhold it (a tool error
//! with the reason, or the person who must look at it); `redact` removes the marked fields of
//! the redacted classes from the structured result and withholds unstructured content it
//! cannot redact (fail closed).

use super::call::tool_error;
use crate::decision::VerdictOutcome;
use crate::engine::Engine;
use crate::plan::{DataId, Intent, Type};
use crate::request::Response;
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{json, Map, Value};

pub(super) fn review(
    engine: &Engine,
    agent: &str,
    intent: &Intent,
    args: &Map<String, Value>,
    mut result: CallToolResult,
) -> CallToolResult {
    let marks = intent.output.as_ref().map(marks).unwrap_or_default();
    let mut data: Vec<DataId> = marks
        .iter()
        .filter(|(path, _)| present(result.structured_content.as_ref(), path))
        .map(|(_, d)| *d)
        .collect();
    let unstructured = result
        .content
        .iter()
        .any(|c| !is_copy_of(c, result.structured_content.as_ref()));
    if unstructured {
        data.extend_from_slice(&intent.handles);
    }
    data.sort_unstable();
    data.dedup();
    let names: Vec<String> = data
        .iter()
        .filter_map(|d| engine.data_name(*d).map(|n| n.to_string()))
        .collect();
    let confidence = result
        .meta
        .as_ref()
        .and_then(|m| m.0.get(super::call::CONFIDENCE_META))
        .and_then(Value::as_f64);
    let response = Response {
        agent: agent.to_string(),
        confidence,
        data: names,
        context: args.clone(),
    };
    let verdict = engine.review(&response);
    let reason = verdict
        .reason
        .clone()
        .unwrap_or_else(|| "no reason given".into());
    match verdict.outcome {
        VerdictOutcome::Pass => result,
        VerdictOutcome::Deny => tool_error(
            format!("the result was withheld: {reason}"),
            json!({ "review": "deny" }),
        ),
        VerdictOutcome::Escalate => tool_error(
            format!(
                "the result was withheld for `{}` to look at: {reason}",
                verdict.human.as_deref().unwrap_or("a person")
            ),
            json!({ "review": "escalate", "human": verdict.human.as_deref() }),
        ),
        VerdictOutcome::Redact => {
            let redacted: Vec<DataId> = verdict
                .redact
                .iter()
                .filter_map(|n| engine.data_id(n))
                .collect();
            let covered = |d: DataId| redacted.iter().any(|r| engine.covers(*r, d));
            if let Some(s) = result.structured_content.as_mut() {
                for (path, d) in &marks {
                    if covered(*d) {
                        remove(s, path);
                    }
                }
            }
            // Text the gateway cannot read field by field is withheld; a text block that is
            // the structured result written out is written again from the redacted one.
            let structured = result.structured_content.clone();
            result.content = match &structured {
                Some(s) if !unstructured => vec![ContentBlock::text(s.to_string())],
                _ => vec![ContentBlock::text(format!(
                    "[withheld: the result holds {} that the mesh redacts]",
                    verdict.redact.join(", ")
                ))],
            };
            result
        }
    }
}

/// Each field of an `output` record marked with a data class, by path.
fn marks(ty: &Type) -> Vec<(Vec<String>, DataId)> {
    let mut out = Vec::new();
    walk(ty, &mut Vec::new(), &mut out);
    out
}

fn walk(ty: &Type, at: &mut Vec<String>, out: &mut Vec<(Vec<String>, DataId)>) {
    if let Type::Record { fields } = ty {
        for f in fields {
            at.push(f.name.clone());
            if let Some(d) = f.data {
                out.push((at.clone(), d));
            }
            walk(&f.ty, at, out);
            at.pop();
        }
    }
}

fn present(v: Option<&Value>, path: &[String]) -> bool {
    let mut cur = v;
    for k in path {
        cur = cur.and_then(|c| c.get(k));
    }
    cur.is_some_and(|c| !c.is_null())
}

fn remove(v: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = Some(v);
    for k in parents {
        cur = cur.and_then(|c| c.get_mut(k));
    }
    if let Some(Value::Object(o)) = cur {
        o.remove(last);
    }
}

/// Whether a content block is the structured result written out as JSON text (what SDKs
/// put beside a structured result for older clients).
fn is_copy_of(c: &ContentBlock, structured: Option<&Value>) -> bool {
    match (c, structured) {
        (ContentBlock::Text(t), Some(s)) => {
            serde_json::from_str::<Value>(&t.text).is_ok_and(|v| &v == s)
        }
        _ => false,
    }
}
