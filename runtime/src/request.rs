//! What the runtime decides on: a request (an intent or a text, context fields, the caller)
//! and an agent's response (for reviews). Both deserialize from the JSON a gateway sends, with
//! context fields at the top level next to the reserved keys, read strictly (`strict_json`): a
//! key given twice, reserved or not, is an error, and so is a context nested deeper than
//! `limits::MAX_DEPTH` or a text longer than `limits::MAX_TEXT`. The readers are written out
//! because serde's `flatten` would keep the last of two equal context keys.

use crate::limits::MAX_TEXT;
use crate::strict_json::{duplicate_key, ValueSeed};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// A request to route (docs/concepts.md, "One decision, step by step").
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Response {
    /// The agent that produced the response.
    pub agent: String,
    /// How sure the agent is of its output, 0..1.
    pub confidence: Option<f64>,
    /// Data classes the response carries.
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

/// A key of a request or response object: one of the reserved names, or a context field.
enum Key {
    Intent,
    Text,
    Confidence,
    Caller,
    Agent,
    Data,
    Field(String),
}

/// Reads a key; `response` says which names are reserved (a response's, or a request's).
struct KeySeed {
    response: bool,
}

impl KeySeed {
    fn reserved(&self, k: &str) -> Option<Key> {
        match (k, self.response) {
            ("intent", false) => Some(Key::Intent),
            ("text", false) => Some(Key::Text),
            ("caller", false) => Some(Key::Caller),
            ("confidence", _) => Some(Key::Confidence),
            ("agent", true) => Some(Key::Agent),
            ("data", true) => Some(Key::Data),
            _ => None,
        }
    }
}

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E>(self, k: &str) -> Result<Key, E> {
        Ok(self
            .reserved(k)
            .unwrap_or_else(|| Key::Field(k.to_string())))
    }
    fn visit_string<E>(self, k: String) -> Result<Key, E> {
        Ok(self.reserved(&k).unwrap_or(Key::Field(k)))
    }
}

/// Sets `slot` from the next value, unless the key was given already.
fn once<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    seen: &mut bool,
    name: &'static str,
) -> Result<(), A::Error> {
    if std::mem::replace(seen, true) {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = map.next_value()?;
    Ok(())
}

/// Adds the next value to `context` as field `k`, unless it is there already.
fn field<'de, A: MapAccess<'de>>(
    map: &mut A,
    context: &mut Map<String, Value>,
    k: String,
) -> Result<(), A::Error> {
    if context.contains_key(&k) {
        return Err(duplicate_key(&k));
    }
    let v = map.next_value_seed(ValueSeed::at(1))?;
    context.insert(k, v);
    Ok(())
}

impl<'de> Deserialize<'de> for Request {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Request, D::Error> {
        struct RequestVisitor;
        impl<'de> Visitor<'de> for RequestVisitor {
            type Value = Request;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a request object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Request, A::Error> {
                let mut r = Request::default();
                let mut seen = [false; 4];
                let [intent, text, confidence, caller] = &mut seen;
                while let Some(key) = map.next_key_seed(KeySeed { response: false })? {
                    match key {
                        Key::Intent => once(&mut map, &mut r.intent, intent, "intent")?,
                        Key::Text => once(&mut map, &mut r.text, text, "text")?,
                        Key::Confidence => {
                            once(&mut map, &mut r.confidence, confidence, "confidence")?
                        }
                        Key::Caller => once(&mut map, &mut r.caller, caller, "caller")?,
                        Key::Field(k) => field(&mut map, &mut r.context, k)?,
                        Key::Agent | Key::Data => {
                            return Err(de::Error::custom("not a request key"))
                        }
                    }
                }
                if let Some(t) = &r.text {
                    if t.len() > MAX_TEXT {
                        return Err(de::Error::custom(format_args!(
                            "the text has {} bytes, more than the {MAX_TEXT} the classifier reads",
                            t.len()
                        )));
                    }
                }
                Ok(r)
            }
        }
        d.deserialize_map(RequestVisitor)
    }
}

impl<'de> Deserialize<'de> for Response {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Response, D::Error> {
        struct ResponseVisitor;
        impl<'de> Visitor<'de> for ResponseVisitor {
            type Value = Response;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an agent's response object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Response, A::Error> {
                let (mut agent, mut data) = (None, None);
                let mut r = Response::default();
                let mut seen = [false; 3];
                let [a, c, d] = &mut seen;
                while let Some(key) = map.next_key_seed(KeySeed { response: true })? {
                    match key {
                        Key::Agent => once(&mut map, &mut agent, a, "agent")?,
                        Key::Confidence => once(&mut map, &mut r.confidence, c, "confidence")?,
                        Key::Data => once(&mut map, &mut data, d, "data")?,
                        Key::Field(k) => field(&mut map, &mut r.context, k)?,
                        Key::Intent | Key::Text | Key::Caller => {
                            return Err(de::Error::custom("not a response key"))
                        }
                    }
                }
                r.agent = agent.ok_or_else(|| de::Error::missing_field("agent"))?;
                r.data = data.unwrap_or_default();
                Ok(r)
            }
        }
        d.deserialize_map(ResponseVisitor)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn a_request_reads_its_keys_and_context() {
        let r: Request = serde_json::from_str(
            r#"{"intent":"pay","confidence":0.9,"caller":{"agent":"desk","lineage":["order"]},"channel":"web","subject":{"residency":"EU"}}"#,
        )
        .unwrap();
        assert_eq!(r.intent.as_deref(), Some("pay"));
        assert_eq!(r.confidence, Some(0.9));
        assert_eq!(r.caller.unwrap().lineage, ["order"]);
        assert_eq!(
            json!(r.context),
            json!({"channel": "web", "subject": {"residency": "EU"}})
        );
        let r: Request = serde_json::from_str(r#"{"intent":null,"text":"hi"}"#).unwrap();
        assert_eq!((r.intent, r.text.as_deref()), (None, Some("hi")));
    }

    /// Regression (#10): serde_json keeps the last of two equal keys, so this decided as US.
    #[test]
    fn a_key_given_twice_is_an_error() {
        for (body, error) in [
            (
                r#"{"intent":"pay","confidence":0.9,"residency":"EU","residency":"US"}"#,
                "duplicate key `residency`",
            ),
            (
                r#"{"intent":"pay","intent":"refund","confidence":0.9}"#,
                "duplicate field `intent`",
            ),
            (
                r#"{"text":"a","subject":{"residency":"EU","residency":"US"}}"#,
                "duplicate key `residency`",
            ),
            (
                r#"{"text":"a","caller":{"agent":"a","agent":"b"}}"#,
                "duplicate field `agent`",
            ),
        ] {
            let e = serde_json::from_str::<Request>(body).unwrap_err();
            assert!(e.to_string().starts_with(error), "{body}: {e}");
        }
        let e = serde_json::from_str::<Response>(r#"{"agent":"a","data":[],"data":["pii"]}"#)
            .unwrap_err();
        assert!(e.to_string().starts_with("duplicate field `data`"), "{e}");
        let e = serde_json::from_str::<Response>(r#"{"agent":"a","x":1,"x":2}"#).unwrap_err();
        assert!(e.to_string().starts_with("duplicate key `x`"), "{e}");
    }

    #[test]
    fn text_and_nesting_are_bounded() {
        let long = json!({ "text": "a".repeat(MAX_TEXT + 1) }).to_string();
        let e = serde_json::from_str::<Request>(&long).unwrap_err();
        assert!(e.to_string().starts_with("the text has 4097 bytes"), "{e}");
        let ok = json!({ "text": "a".repeat(MAX_TEXT) }).to_string();
        assert!(serde_json::from_str::<Request>(&ok).is_ok());
        let deep = |n: usize| format!(r#"{{"text":"a","f":{}1{}}}"#, "[".repeat(n), "]".repeat(n));
        assert!(serde_json::from_str::<Request>(&deep(crate::limits::MAX_DEPTH - 1)).is_ok());
        let e = serde_json::from_str::<Request>(&deep(crate::limits::MAX_DEPTH)).unwrap_err();
        assert!(e.to_string().starts_with("nested deeper than"), "{e}");
    }

    #[test]
    fn a_response_reads_its_keys_and_context() {
        let r: Response =
            serde_json::from_str(r#"{"agent":"a","confidence":0.5,"channel":"web"}"#).unwrap();
        assert_eq!((r.agent.as_str(), r.confidence), ("a", Some(0.5)));
        assert!(r.data.is_empty());
        assert_eq!(json!(r.context), json!({"channel": "web"}));
        let e = serde_json::from_str::<Response>(r#"{"data":[]}"#).unwrap_err();
        assert!(e.to_string().starts_with("missing field `agent`"), "{e}");
    }
}
