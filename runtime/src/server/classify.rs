//! The sidecar's HTTP classifier: for a request given as text, ask a classifier service (an
//! embedding model, an LLM behind a small server) instead of the plan's built-in one, within a
//! timeout, and fall back as the operator declared — to the built-in classifier or to a
//! `clarify` — when it is late, unreachable or answers something that does not fit the plan.
//! The JSON contract is in docs/classifier.md; a pooled hyper client (hyper-util) does the IO.

use super::store::Store;
use crate::classifier::{Classification, Scored};
use crate::decision::Decision;
use crate::engine::Engine;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The largest answer read from the classifier.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// What decides a text request when the HTTP classifier gives no usable answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// The plan's built-in classifier.
    Builtin,
    /// A `clarify` decision asking the caller to say what they need.
    Clarify,
}

/// `intent serve --classifier URL --classifier-timeout-ms N --classifier-fallback builtin|clarify`.
#[derive(Debug, Clone)]
pub struct ExternalConfig {
    /// `http://host:port/path`.
    pub url: String,
    pub timeout: Duration,
    pub fallback: Fallback,
}

/// The question a `clarify` fallback asks.
pub const CLARIFY_QUESTION: &str =
    "Sorry, what would you like to do? Please say it in other words.";

pub(crate) struct External {
    uri: http::Uri,
    timeout: Duration,
    pub(crate) fallback: Fallback,
    client: Client<HttpConnector, Full<Bytes>>,
    /// The plan's intents as the contract's JSON, keyed by plan hash: written once per plan.
    intents: Mutex<Option<(Arc<str>, Arc<str>)>>,
}

#[derive(Deserialize)]
struct Answer {
    intent: Option<String>,
    confidence: f64,
    #[serde(default)]
    runners_up: Vec<RunnerUp>,
}

#[derive(Deserialize)]
struct RunnerUp {
    intent: String,
    confidence: f64,
}

impl External {
    pub(crate) fn new(c: &ExternalConfig) -> Result<External, String> {
        let uri: http::Uri = c
            .url
            .parse()
            .map_err(|e| format!("--classifier {}: not a URL: {e}", c.url))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(format!(
                "--classifier {}: give an http:// URL with a host",
                c.url
            ));
        }
        if c.timeout.is_zero() {
            return Err("--classifier-timeout-ms must be at least 1".into());
        }
        Ok(External {
            uri,
            timeout: c.timeout,
            fallback: c.fallback,
            client: Client::builder(TokioExecutor::new()).build_http(),
            intents: Mutex::new(None),
        })
    }

    /// The plan's intents as JSON, written once per plan.
    fn intents_json(&self, engine: &Engine) -> Arc<str> {
        let hash: &str = engine.plan_hash();
        if let Ok(cache) = self.intents.lock() {
            if let Some((h, j)) = cache.as_ref().filter(|(h, _)| &**h == hash) {
                let _ = h;
                return j.clone();
            }
        }
        let list: Vec<serde_json::Value> = engine
            .plan()
            .intents
            .iter()
            .map(|i| {
                serde_json::json!({
                    "name": i.name,
                    "description": i.description,
                    "examples": i.examples,
                })
            })
            .collect();
        let json: Arc<str> = Arc::from(serde_json::Value::Array(list).to_string());
        if let Ok(mut cache) = self.intents.lock() {
            *cache = Some((Arc::from(hash), json.clone()));
        }
        json
    }

    /// Asks the classifier about `text`; an error says why there is no usable answer.
    pub(crate) async fn classify(
        &self,
        engine: &Engine,
        text: &str,
    ) -> Result<Classification, String> {
        let body = format!(
            r#"{{"text":{},"plan_hash":{},"intents":{}}}"#,
            serde_json::Value::from(text),
            serde_json::Value::from(engine.plan_hash()),
            self.intents_json(engine)
        );
        let req = http::Request::post(self.uri.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("cannot build the request: {e}"))?;
        let ask = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| format!("unreachable: {e}"))?;
            if !resp.status().is_success() {
                return Err(format!("answered {}", resp.status()));
            }
            let bytes = Limited::new(resp.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| format!("answer unreadable or over {MAX_ANSWER_BYTES} bytes: {e}"))?
                .to_bytes();
            parse(engine, &bytes)
        };
        match tokio::time::timeout(self.timeout, ask).await {
            Ok(r) => r,
            Err(_) => Err(format!("timed out after {} ms", self.timeout.as_millis())),
        }
    }
}

/// Reads and checks an answer against the plan (docs/classifier.md).
fn parse(engine: &Engine, bytes: &[u8]) -> Result<Classification, String> {
    let a: Answer = serde_json::from_slice(bytes)
        .map_err(|e| format!("answer does not fit the contract: {e}"))?;
    let id = |name: &str| {
        engine
            .intent_id(name)
            .ok_or_else(|| format!("answered an intent the plan does not have: `{name}`"))
    };
    let prob = |c: f64| {
        if (0.0..=1.0).contains(&c) {
            Ok(c)
        } else {
            Err(format!("answered a confidence outside 0..1: {c}"))
        }
    };
    let mut ranked = Vec::new();
    let mut none = 0.0;
    match &a.intent {
        Some(name) => ranked.push(Scored {
            intent: id(name)?,
            score: prob(a.confidence)?,
        }),
        None => none = prob(a.confidence)?,
    }
    for r in &a.runners_up {
        ranked.push(Scored {
            intent: id(&r.intent)?,
            score: prob(r.confidence)?,
        });
    }
    let total: f64 = ranked.iter().map(|s| s.score).sum::<f64>() + none;
    if total > 1.0 + 1e-6 {
        return Err(format!(
            "answered probabilities that add up to {total:.3} > 1"
        ));
    }
    if a.intent.is_some() {
        none = (1.0 - total).max(0.0);
    }
    // The chosen intent stays first; runners-up are sorted after it.
    if let Some(rest) = ranked.get_mut(usize::from(a.intent.is_some())..) {
        rest.sort_by(|x, y| y.score.total_cmp(&x.score).then(x.intent.cmp(&y.intent)));
    }
    Ok(Classification { ranked, none })
}

/// What the classifier that reads the sidecar's text requests said about one text, and the
/// name a decision would record for it (`classifier`): `Err` (why) when no classifier could
/// answer, so that a decision would `clarify` (or, for a failing in-process classifier, deny).
pub(crate) struct Answered {
    pub classification: Result<Classification, String>,
    pub by: Arc<str>,
}

/// Classifies `text` as a text request would be: through the HTTP classifier when there is
/// one, falling back as declared, else through the engine's own classifier (`POST /v1/classify`).
pub(crate) async fn classify(x: Option<&External>, engine: &Engine, text: &str) -> Answered {
    let own = |by: Option<Arc<str>>| {
        let c = engine.classifier();
        Answered {
            classification: c
                .classify(text)
                .map_err(|e| format!("the classifier failed: {e}")),
            by: by.unwrap_or_else(|| Arc::from(c.name())),
        }
    };
    let Some(x) = x else {
        return own(None);
    };
    match x.classify(engine, text).await {
        Ok(c) => Answered {
            classification: Ok(c),
            by: Arc::from("external"),
        },
        Err(why) => match x.fallback {
            Fallback::Builtin => own(Some(fell_back(&why))),
            Fallback::Clarify => Answered {
                classification: Err(no_answer(&why)),
                by: Arc::from(Engine::UNCLASSIFIED),
            },
        },
    }
}

/// Decides a text request through the HTTP classifier, falling back as declared.
pub(crate) async fn decide(
    x: &External,
    store: &Store,
    engine: &Engine,
    req: &crate::Request,
    text: &str,
) -> Decision {
    match x.classify(engine, text).await {
        Ok(c) => {
            store
                .decide(engine, req, Some((&c, Arc::from("external"))))
                .await
        }
        Err(why) => match x.fallback {
            Fallback::Builtin => {
                let mut d = store.decide(engine, req, None).await;
                d.classifier = Some(fell_back(&why));
                d
            }
            Fallback::Clarify => engine.clarify_unclassified(
                crate::engine::now_ms(),
                CLARIFY_QUESTION,
                no_answer(&why),
            ),
        },
    }
}

/// The `classifier` of a text the built-in classifier read because the HTTP one did not.
fn fell_back(why: &str) -> Arc<str> {
    Arc::from(format!("builtin (fallback: external classifier {why})"))
}

/// Why a text got no classification when the declared fallback is `clarify`.
fn no_answer(why: &str) -> String {
    format!("the external classifier gave no answer ({why})")
}
