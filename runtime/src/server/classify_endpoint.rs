//! `POST /v1/classify`: what the classifier that reads the sidecar's text requests says about a
//! text, without deciding anything. An author or an operator sees the intents a text may mean,
//! their probabilities and "none of these" as the running sidecar computes them (its HTTP
//! classifier and fallback included), and whether a decision would go on to the best intent's
//! route or deny the text as matching no intent (the plan's `confidence floor`). Under a trust
//! broker the caller must show the same credentials as for a decision: the answer names the
//! plan's intents.

use super::app::App;
use super::routes::{body, error, json, parse};
use super::{classify, identity};
use crate::classifier::{Classification, Scored};
use crate::limits::{MAX_TEXT, MAX_TOP};
use crate::request::Request;
use crate::trust::PeerCert;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How many intents an answer lists when the request does not say.
pub const DEFAULT_TOP: usize = 5;

/// The body of `POST /v1/classify`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ask {
    text: String,
    /// How many intents to list, the best included (1 to `MAX_TOP`).
    #[serde(default)]
    top: Option<usize>,
}

/// One intent and its probability.
#[derive(Serialize)]
struct Listed<'a> {
    intent: &'a str,
    confidence: f64,
}

/// The answer: the shape of the HTTP classifier contract's answer (docs/classifier.md), with
/// what the sidecar makes of it.
#[derive(Serialize)]
struct Said<'a> {
    /// The most probable intent; `null` when no classifier answered or no intent shares a
    /// word with the text.
    intent: Option<&'a str>,
    confidence: Option<f64>,
    runners_up: Vec<Listed<'a>>,
    /// The probability that the text means none of the plan's intents.
    none_of_these: Option<f64>,
    /// Whether a decision would go on to the best intent's route: it has a confidence above 0
    /// and at least the plan's floor. Otherwise the text is denied as matching no intent (or,
    /// with no classifier answer, clarified or denied as `reason` says).
    matched: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    floor: Option<f64>,
    /// The classifier that answered, as a decision records it.
    classifier: &'a str,
    /// Why no classifier answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    plan_hash: &'a str,
}

const HELP: &str = r#"send a JSON object: {"text": "..", "top": 5} (top optional: how many intents to list, 1 to 100)"#;

pub(super) async fn classify(
    State(app): State<Arc<App>>,
    peer: Option<Extension<PeerCert>>,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    let bytes = match body(&app, "classify", b) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let ask: Ask = match parse(&app, "classify", &bytes, "a text to classify", HELP) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let top = ask.top.unwrap_or(DEFAULT_TOP);
    if !(1..=MAX_TOP).contains(&top) {
        app.metrics.bad_request("classify");
        return error(
            StatusCode::BAD_REQUEST,
            format!("top is {top}; it lists 1 to {MAX_TOP} intents"),
            HELP,
        );
    }
    if ask.text.len() > MAX_TEXT {
        app.metrics.bad_request("classify");
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "the text is {} bytes long; the classifier reads at most {MAX_TEXT}",
                ask.text.len()
            ),
            "send a sentence or two: intents are told apart by what a request asks",
        );
    }
    let engine = app.engine_full();
    // Who is asking comes first, as for a decision: the answer names the plan's intents.
    let mut req = Request {
        text: Some(ask.text),
        ..Request::default()
    };
    if let Err(r) = identity::establish(
        &app,
        &headers,
        peer.as_ref().map(|p| &p.0),
        &engine,
        &mut req,
    )
    .await
    {
        return *r;
    }
    let text = req.text.as_deref().unwrap_or_default();
    let answered = classify::classify(app.external.as_ref(), &engine, text).await;
    let name = |s: &Scored| {
        engine
            .plan()
            .intents
            .get(s.intent as usize)
            .map_or("?", |i| i.name.as_str())
    };
    let c = answered.classification.as_ref();
    let best = c.ok().and_then(Classification::best);
    let said = Said {
        intent: best.as_ref().map(name),
        confidence: best.map(|b| b.score),
        runners_up: c.map_or_else(|_| Vec::new(), |c| listed(c, top, &name)),
        none_of_these: c.ok().map(|c| c.none),
        matched: best.is_some_and(|b| engine.reaches_route(b)),
        floor: engine.plan().classifier.floor,
        classifier: &answered.by,
        reason: c.err().map(String::as_str),
        plan_hash: engine.plan_hash(),
    };
    match serde_json::to_string(&said) {
        Ok(t) => json(StatusCode::OK, t),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the classification: {e}"),
            "report this",
        ),
    }
}

/// The runners-up of a classification, as many as make `top` intents with the best.
fn listed<'a>(
    c: &Classification,
    top: usize,
    name: &impl Fn(&Scored) -> &'a str,
) -> Vec<Listed<'a>> {
    c.ranked
        .iter()
        .skip(1)
        .take(top - 1)
        .map(|s| Listed {
            intent: name(s),
            confidence: s.score,
        })
        .collect()
}
