//! What the fuzz targets share: the sidecar's test mesh compiled once, and JSON values built
//! from fuzz input (`Json`), whose keys and strings are mostly words the mesh knows, so the
//! fuzzer reaches past "unknown intent" into routes, rules, limits and the failure endpoint.

use intent_compiler::{compile, Source, Stage};
use intent_runtime::plan::Plan;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use serde_json::{Map, Number, Value};
use std::sync::OnceLock;

/// The plan of `tests/serve/mesh.intent` (every outcome a gateway passes on), built once.
pub fn mesh_plan() -> &'static Plan {
    static PLAN: OnceLock<Plan> = OnceLock::new();
    PLAN.get_or_init(|| {
        let text = include_str!("../../tests/serve/mesh.intent");
        let c = compile(&[Source::new("mesh.intent", text)], Stage::Build);
        match c.plan {
            Some(p) => p,
            None => panic!("the sidecar's test mesh does not build"),
        }
    })
}

/// A word: one the mesh or the request format knows, or any string.
#[derive(Arbitrary, Debug, Clone)]
pub enum Word {
    Intent,
    Confidence,
    Text,
    Caller,
    Lineage,
    Channel,
    Amount,
    Agent,
    AtMs,
    Data,
    TakeOrder,
    IssueRefund,
    RunReport,
    OrderDesk,
    RefundBot,
    Reporter,
    Web,
    Api,
    Subject,
    Other(String),
}

impl Word {
    pub fn text(&self) -> &str {
        match self {
            Word::Intent => "intent",
            Word::Confidence => "confidence",
            Word::Text => "text",
            Word::Caller => "caller",
            Word::Lineage => "lineage",
            Word::Channel => "channel",
            Word::Amount => "amount",
            Word::Agent => "agent",
            Word::AtMs => "at_ms",
            Word::Data => "data",
            Word::TakeOrder => "take_order",
            Word::IssueRefund => "issue_refund",
            Word::RunReport => "run_report",
            Word::OrderDesk => "order_desk",
            Word::RefundBot => "refund_bot",
            Word::Reporter => "reporter",
            Word::Web => "web",
            Word::Api => "api",
            Word::Subject => "subject.residency",
            Word::Other(s) => s,
        }
    }
}

/// A JSON value shaped by the fuzzer.
#[derive(Arbitrary, Debug, Clone)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Unsigned(u64),
    /// A fraction: confidences and trusts live in 0..1.
    Fraction(u16),
    Float(f64),
    Str(Word),
    Array(Vec<Json>),
    Object(Vec<(Word, Json)>),
}

impl Json {
    pub fn value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(i) => Value::from(*i),
            Json::Unsigned(u) => Value::from(*u),
            Json::Fraction(f) => Number::from_f64(f64::from(*f) / f64::from(u16::MAX))
                .map_or(Value::Null, Value::Number),
            Json::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Json::Str(w) => Value::String(w.text().to_string()),
            Json::Array(v) => Value::Array(v.iter().map(Json::value).collect()),
            Json::Object(fields) => {
                let mut m = Map::new();
                for (k, v) in fields {
                    m.insert(k.text().to_string(), v.value());
                }
                Value::Object(m)
            }
        }
    }
}
