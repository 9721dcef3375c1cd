//! What the runtime decides on: a request (an intent or a text, context fields, the caller)
//! and an agent's response (for reviews). Both deserialize from the JSON a gateway sends, with
//! context fields at the top level next to the reserved keys.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A request to route (docs/concepts.md, "One decision, step by step").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The intent, when an external classifier (or the caller) already knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// Free text for the built-in classifier, when `intent` is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// 0..1; required with `intent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// Which agent raised the request, and which intents are being served (outermost first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<Caller>,
    /// The context fields (`subject`, `channel`, ...).
    #[serde(flatten)]
    pub context: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Caller {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default)]
    pub lineage: Vec<String>,
}

/// An agent's response, checked by `review` blocks before it leaves the agent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// The agent that produced the response.
    pub agent: String,
    /// How sure the agent is of its output, 0..1.
    #[serde(default)]
    pub confidence: Option<f64>,
    /// Data classes the response carries.
    #[serde(default)]
    pub data: Vec<String>,
    /// The context fields of the request being answered.
    #[serde(flatten)]
    pub context: Map<String, Value>,
}

impl Request {
    /// A request for a known intent with a confidence.
    pub fn for_intent(intent: &str, confidence: f64) -> Request {
        Request {
            intent: Some(intent.to_string()),
            confidence: Some(confidence),
            ..Request::default()
        }
    }

    /// Adds a context field.
    pub fn with(mut self, key: &str, value: Value) -> Request {
        self.context.insert(key.to_string(), value);
        self
    }
}
