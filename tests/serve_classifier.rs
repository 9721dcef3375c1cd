//! The sidecar's HTTP classifier (docs/classifier.md) against a real classifier service: the
//! Python http.server script `tests/classifier/server.py`, started by the test. Checks the
//! contract both ways (the service answers 400 to a request that does not fit it; the
//! sidecar falls back on an answer that does not fit the plan), the timeout, and both declared
//! fallbacks; every decision records which classifier answered, and `POST /v1/classify`
//! answers what a decision would have been told. Needs `python3`: without it
//! the test says it is skipped, except under `CI=true`, where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "serve/support.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use support::{request, Sidecar, MESH};

struct Service(Child, u16);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn service() -> Option<Service> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/classifier/server.py");
    let child = Command::new("python3")
        .arg(script)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "python3 is needed under CI: {e}"
            );
            eprintln!("skipped: cannot run python3 ({e})");
            return None;
        }
    };
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let port = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
        .parse()
        .unwrap();
    Some(Service(child, port))
}

/// POSTs `body` as JSON to `path`; the answer must be a 200.
fn post(s: &Sidecar, path: &str, body: serde_json::Value) -> serde_json::Value {
    let a = request(
        s.addr,
        "POST",
        path,
        &[("content-type", "application/json")],
        &body.to_string(),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()
}

/// The decision on `text`.
fn decide(s: &Sidecar, text: &str) -> serde_json::Value {
    post(
        s,
        "/v1/decide",
        serde_json::json!({ "text": text, "channel": "web" }),
    )
}

/// `POST /v1/classify`: what the sidecar's classifier says about `text`.
fn classify(s: &Sidecar, text: &str) -> serde_json::Value {
    post(s, "/v1/classify", serde_json::json!({ "text": text }))
}

#[test]
fn the_sidecar_asks_the_http_classifier_and_falls_back_as_declared() {
    let Some(svc) = service() else {
        return;
    };
    let url = format!("http://127.0.0.1:{}/classify", svc.1);
    let s = Sidecar::start(&[MESH, "--classifier", &url, "--classifier-timeout-ms", "500"]);

    // The service answers: its intent and confidence decide, and the decision says who.
    let d = decide(&s, "please place an order for a pizza");
    assert_eq!(d["classifier"], "external", "{d}");
    assert_eq!(d["intent"], "take_order", "{d}");
    assert_eq!(d["confidence"], 0.9, "{d}");
    assert_eq!(d["outcome"], "dispatch", "{d}");
    let none = d["none_of_these"].as_f64().unwrap();
    assert!((0.0..=0.1).contains(&none), "{d}");

    // `/v1/classify` asks the same service.
    let c = classify(&s, "please place an order for a pizza");
    assert_eq!(c["classifier"], "external", "{c}");
    assert_eq!(c["intent"], "take_order", "{c}");
    assert_eq!(c["confidence"], 0.9, "{c}");
    assert_eq!(c["none_of_these"], d["none_of_these"], "{c}");
    assert_eq!(c["matched"], true, "{c}");

    // The service says "none of these": the text matches no intent, and is denied.
    let d = decide(&s, "what's the weather like");
    assert_eq!(d["classifier"], "external", "{d}");
    assert_eq!(d["outcome"], "deny", "{d}");
    assert_eq!(d["none_of_these"], 0.95, "{d}");

    // Too slow: the built-in classifier decides, and the decision says why.
    let d = decide(&s, "slowly, place an order for a pizza");
    assert_eq!(
        d["classifier"], "builtin (fallback: external classifier timed out after 500 ms)",
        "{d}"
    );
    assert_eq!(d["intent"], "take_order", "{d}");
    let c = classify(&s, "slowly, place an order for a pizza");
    assert_eq!(c["classifier"], d["classifier"], "{c}");
    assert_eq!(c["confidence"], d["confidence"], "{c}");

    // An intent the plan does not have, or a 500: the built-in classifier again.
    let d = decide(&s, "nonsense order");
    let by = d["classifier"].as_str().unwrap();
    assert!(
        by.starts_with(
            "builtin (fallback: external classifier answered an intent the plan does not have"
        ),
        "{d}"
    );
    let d = decide(&s, "broken order");
    assert_eq!(
        d["classifier"],
        "builtin (fallback: external classifier answered 500 Internal Server Error)",
        "{d}"
    );

    // Requests that name their intent never reach the classifier.
    let body = r#"{"intent": "take_order", "confidence": 0.95, "channel": "web"}"#;
    let d = request(s.addr, "POST", "/v1/decide", &[], body).json();
    assert!(d.get("classifier").is_none(), "{d}");
    drop(s);

    // Declared fallback `clarify`: a late service makes a clarify without an intent.
    let s = Sidecar::start(&[
        MESH,
        "--classifier",
        &url,
        "--classifier-timeout-ms",
        "300",
        "--classifier-fallback",
        "clarify",
    ]);
    let d = decide(&s, "slowly, place an order");
    assert_eq!(d["outcome"], "clarify", "{d}");
    assert_eq!(d["classifier"], "none (fallback: clarify)", "{d}");
    assert!(d["intent"].is_null(), "{d}");
    assert_eq!(
        d["reason"], "the external classifier gave no answer (timed out after 300 ms)",
        "{d}"
    );
    let c = classify(&s, "slowly, place an order");
    assert_eq!(c["classifier"], "none (fallback: clarify)", "{c}");
    assert!(c["intent"].is_null() && c["none_of_these"].is_null(), "{c}");
    assert_eq!(c["matched"], false, "{c}");
    assert_eq!(c["reason"], d["reason"], "{c}");
    drop(s);

    // The service is gone: unreachable, the fallback decides.
    drop(svc);
    let s = Sidecar::start(&[MESH, "--classifier", &url]);
    let d = decide(&s, "place an order for me");
    let by = d["classifier"].as_str().unwrap();
    assert!(
        by.starts_with("builtin (fallback: external classifier unreachable"),
        "{d}"
    );
}
