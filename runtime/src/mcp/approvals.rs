//! Escalated tool calls held for a person, each bound to the exact call: who asked (the
//! verified caller), which tool, the SHA-256 of its arguments (as canonical JSON, keys sorted at
//! every level, so equal arguments hash equal whatever their order), the person the decision
//! named and the plan that would run. The person approves or rejects it through the sidecar's
//! API; the same call retried after an approval is forwarded once, and a call with other
//! arguments is a new request. Held calls are kept in memory, at most `MAX_HELD`, each until its deadline.

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The most calls held at once; past it a call that needs a person is refused.
pub const MAX_HELD: usize = 10_000;

/// How long a held call waits for a person when the human has no `sla`.
pub const DEFAULT_HOLD_MS: u64 = 24 * 60 * 60 * 1000;

/// What a person decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Pending,
    Approved,
    Rejected,
}

/// One held call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Held {
    /// The id of the decision that escalated it.
    pub id: String,
    /// The verified caller (none for an anonymous one).
    pub caller: Option<String>,
    pub tool: String,
    pub arguments_sha256: String,
    /// The person who may decide.
    pub human: String,
    pub reason: Option<String>,
    /// `step=agent` for each step the escalation carries: what runs once approved.
    pub steps: Vec<String>,
    pub plan_hash: String,
    pub at_ms: u64,
    pub deadline_ms: u64,
    pub state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
}

/// The SHA-256 of a call's arguments as canonical JSON, in hex.
pub fn arguments_hash(args: &Map<String, Value>) -> String {
    let mut canonical = Value::Object(args.clone());
    crate::plan::hash::canonical(&mut canonical);
    let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a person's answer was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// No held call has this id (never, or no longer).
    NotFound,
    /// The call is for another person.
    NotYours { human: String },
    /// The call was decided already.
    Decided(State),
}

#[derive(Default)]
pub struct Approvals {
    held: Mutex<BTreeMap<String, Held>>,
}

impl Approvals {
    /// Holds `h`, or returns the call already held for the same caller, tool and arguments
    /// (still pending). `None` when `MAX_HELD` calls are held already.
    pub fn hold(&self, h: Held, now_ms: u64) -> Option<Held> {
        let mut held = self.held.lock().ok()?;
        held.retain(|_, x| x.deadline_ms > now_ms);
        if let Some(same) = held.values().find(|x| {
            x.state == State::Pending
                && x.caller == h.caller
                && x.tool == h.tool
                && x.arguments_sha256 == h.arguments_sha256
        }) {
            return Some(same.clone());
        }
        if held.len() >= MAX_HELD {
            return None;
        }
        held.insert(h.id.clone(), h.clone());
        Some(h)
    }

    /// The calls waiting for `human` (every held call when `human` is `None`).
    pub fn pending(&self, human: Option<&str>, now_ms: u64) -> Vec<Held> {
        let Ok(held) = self.held.lock() else {
            return Vec::new();
        };
        held.values()
            .filter(|x| x.deadline_ms > now_ms && x.state == State::Pending)
            .filter(|x| human.is_none_or(|h| x.human == h))
            .cloned()
            .collect()
    }

    /// `person` approves (or rejects) the held call `id`.
    pub fn answer(
        &self,
        id: &str,
        person: &str,
        approve: bool,
        now_ms: u64,
    ) -> Result<Held, Refused> {
        let mut held = self.held.lock().map_err(|_| Refused::NotFound)?;
        let h = held
            .get_mut(id)
            .filter(|h| h.deadline_ms > now_ms)
            .ok_or(Refused::NotFound)?;
        if h.human != person {
            return Err(Refused::NotYours {
                human: h.human.clone(),
            });
        }
        if h.state != State::Pending {
            return Err(Refused::Decided(h.state));
        }
        h.state = if approve {
            State::Approved
        } else {
            State::Rejected
        };
        h.decided_by = Some(person.to_string());
        Ok(h.clone())
    }

    /// Takes the approval of this exact call, if a person gave one: it is used once.
    pub fn take_approved(
        &self,
        caller: Option<&str>,
        tool: &str,
        arguments_sha256: &str,
        now_ms: u64,
    ) -> Option<Held> {
        let mut held = self.held.lock().ok()?;
        let id = held
            .values()
            .find(|x| {
                x.state == State::Approved
                    && x.deadline_ms > now_ms
                    && x.caller.as_deref() == caller
                    && x.tool == tool
                    && x.arguments_sha256 == arguments_sha256
            })?
            .id
            .clone();
        held.remove(&id)
    }

    /// A rejection of this exact call, if a person gave one (kept until its deadline).
    pub fn rejected(
        &self,
        caller: Option<&str>,
        tool: &str,
        arguments_sha256: &str,
        now_ms: u64,
    ) -> Option<Held> {
        let held = self.held.lock().ok()?;
        held.values()
            .find(|x| {
                x.state == State::Rejected
                    && x.deadline_ms > now_ms
                    && x.caller.as_deref() == caller
                    && x.tool == tool
                    && x.arguments_sha256 == arguments_sha256
            })
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn held(id: &str, args: &Value) -> Held {
        Held {
            id: id.into(),
            caller: Some("support_bot".into()),
            tool: "refund_order".into(),
            arguments_sha256: arguments_hash(args.as_object().unwrap_or(&Map::new())),
            human: "billing_lead".into(),
            reason: None,
            steps: vec!["dispatch=billing".into()],
            plan_hash: "p".into(),
            at_ms: 0,
            deadline_ms: 1_000,
            state: State::Pending,
            decided_by: None,
        }
    }

    #[test]
    fn an_approval_is_bound_to_the_person_and_used_once() {
        let a = Approvals::default();
        let args = json!({"order_id": "o1", "amount": 300});
        assert!(a.hold(held("d1", &args), 0).is_some());
        // The same call again is the same held call.
        assert_eq!(
            a.hold(held("d2", &args), 1).map(|h| h.id),
            Some("d1".into())
        );
        assert_eq!(
            a.answer("d1", "someone_else", true, 2),
            Err(Refused::NotYours {
                human: "billing_lead".into()
            })
        );
        assert!(a.answer("d1", "billing_lead", true, 3).is_ok());
        assert_eq!(
            a.answer("d1", "billing_lead", true, 4),
            Err(Refused::Decided(State::Approved))
        );
        let other = arguments_hash(
            json!({"order_id": "o1", "amount": 301})
                .as_object()
                .unwrap_or(&Map::new()),
        );
        assert!(a
            .take_approved(Some("support_bot"), "refund_order", &other, 5)
            .is_none());
        let same = &held("x", &args).arguments_sha256;
        assert!(a
            .take_approved(Some("support_bot"), "refund_order", same, 5)
            .is_some());
        assert!(a
            .take_approved(Some("support_bot"), "refund_order", same, 6)
            .is_none());
    }

    #[test]
    fn equal_arguments_hash_equal_whatever_their_order() {
        let x = json!({"a": 1, "b": [1, 2]});
        let y: Value = serde_json::from_str(r#"{"b": [1, 2], "a": 1}"#).unwrap_or_default();
        assert_eq!(
            arguments_hash(x.as_object().unwrap_or(&Map::new())),
            arguments_hash(y.as_object().unwrap_or(&Map::new()))
        );
    }
}
