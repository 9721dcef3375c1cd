//! `intent serve --otlp` (docs/serve.md, "OpenTelemetry") against a receiver we did not write:
//! `tests/otlp/receiver.py`, Python's http.server decoding each export with the official
//! OpenTelemetry protobuf types (PyPI `opentelemetry-proto`). The spans of a decision, an
//! authorization and a review arrive with their attributes and with the parent the request's
//! `traceparent` named, and each answer's `traceparent` names its span in the same trace. A
//! collector that is down, or that takes connections and never answers, changes no decision:
//! every answer is the one a sidecar without `--otlp` gives, and the lost spans are counted in
//! `/metrics`. An endpoint that is not an `http://` base URL stops the sidecar at start. The
//! first test needs the Python module: without it the test says it is skipped, except under
//! `CI=true`, where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "otlp/support.rs"]
mod otlp;
#[path = "serve/support.rs"]
mod support;
#[path = "common/tools.rs"]
mod tools;

use otlp::{named, Receiver, CALLER, TRACE};
use serde_json::Value as Json;
use std::net::TcpListener;
use std::time::{Duration, Instant};
use support::{request, Answer, Sidecar, MESH};

fn decide(addr: std::net::SocketAddr, headers: &[(&str, &str)], body: &str) -> Answer {
    let a = request(addr, "POST", "/v1/decide", headers, body);
    assert_eq!(a.status, 200, "{}", a.body);
    a
}

/// Checks the span the receiver got for an answer: its trace, its parent, its name, kind and
/// attributes (`expected`, a subset).
fn check(span: &Json, parent: &str, name: &str, expected: &Json) {
    assert_eq!(span["trace_id"], TRACE, "{span}");
    assert_eq!(span["parent_span_id"], parent, "{span}");
    assert_eq!(span["name"], name, "{span}");
    assert_eq!(span["kind"], "SPAN_KIND_SERVER", "{span}");
    assert_eq!(span["resource"]["service.name"], "intent", "{span}");
    assert_eq!(span["scope"], "intent-serve", "{span}");
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(&span["attributes"][k], v, "{k} in {span}");
    }
    let (start, end) = (
        span["start_time_unix_nano"].as_u64().unwrap(),
        span["end_time_unix_nano"].as_u64().unwrap(),
    );
    assert!(0 < start && start <= end, "{span}");
}

#[test]
fn spans_reach_a_real_otlp_receiver_as_children_of_the_callers_traceparent() {
    let Some(python) = tools::require_python_module("serve_otlp", otlp::MODULE, otlp::PACKAGE)
    else {
        return;
    };
    let rx = Receiver::start(&python);
    let s = Sidecar::start(&[MESH, "--otlp", &format!("http://127.0.0.1:{}", rx.port)]);
    s.wait_for_stderr("exporting a span per decision");
    let parent = format!("00-{TRACE}-{CALLER}-01");

    // A decision not sampled by the caller (flags 00) is not recorded: its answer continues
    // the trace, unsampled, and no span of it reaches the receiver (checked at the end: spans
    // are exported in the order they end).
    let unsampled = decide(
        s.addr,
        &[("traceparent", &format!("00-{TRACE}-{CALLER}-00"))],
        r#"{"intent": "take_order", "confidence": 0.95, "channel": "web"}"#,
    );
    let (trace, unsampled_id, flags) = named(&unsampled);
    assert_eq!((trace.as_str(), flags.as_str()), (TRACE, "00"));

    // /v1/decide: the span is a child of the caller's, and the answer names it.
    let a = decide(
        s.addr,
        &[("traceparent", &parent), ("tracestate", "vendor=1")],
        r#"{"intent": "take_order", "confidence": 0.95, "channel": "web"}"#,
    );
    let d = a.json();
    assert_eq!(d["outcome"], "dispatch", "{d}");
    let (trace, decided, flags) = named(&a);
    assert_eq!((trace.as_str(), flags.as_str()), (TRACE, "01"));
    assert_ne!(decided, CALLER);
    assert_eq!(a.header("tracestate"), Some("vendor=1"));
    check(
        &rx.span(&decided),
        CALLER,
        "decide take_order",
        &serde_json::json!({
            "gen_ai.operation.name": "decide",
            "gen_ai.agent.name": "order_desk",
            "intent.endpoint": "decide",
            "intent.intent": "take_order",
            "intent.outcome": "dispatch",
            "intent.agents": ["order_desk"],
            "intent.plan_hash": d["plan_hash"],
            "intent.decision_id": d["decision_id"],
        }),
    );

    // /v1/authz: the same for an escalation, with the person chosen.
    let a = request(
        s.addr,
        "GET",
        "/v1/authz/orders",
        &[
            ("traceparent", &parent),
            ("x-intent-name", "take_order"),
            ("x-intent-confidence", "0.6"),
            ("x-intent-context", r#"{"channel":"web"}"#),
        ],
        "",
    );
    assert_eq!(a.status, 401, "{}", a.body);
    let (trace, authorized, _) = named(&a);
    assert_eq!(trace, TRACE);
    check(
        &rx.span(&authorized),
        CALLER,
        "decide take_order",
        &serde_json::json!({
            "gen_ai.operation.name": "decide",
            "intent.endpoint": "authz",
            "intent.outcome": "escalate",
            "intent.human": "support_lead",
            "intent.plan_hash": a.header("x-intent-plan-hash").unwrap(),
            "intent.decision_id": a.header("x-intent-decision-id").unwrap(),
        }),
    );

    // /v1/review: the agent reviewed is the span's agent.
    let a = request(
        s.addr,
        "POST",
        "/v1/review",
        &[("traceparent", &parent)],
        r#"{"agent": "order_desk", "confidence": 0.9, "data": [], "channel": "web"}"#,
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let v = a.json();
    let (trace, reviewed, _) = named(&a);
    assert_eq!(trace, TRACE);
    check(
        &rx.span(&reviewed),
        CALLER,
        "review order_desk",
        &serde_json::json!({
            "gen_ai.operation.name": "review",
            "gen_ai.agent.name": "order_desk",
            "intent.endpoint": "review",
            "intent.outcome": v["outcome"],
            "intent.plan_hash": v["plan_hash"],
        }),
    );

    // A review of an agent the plan does not declare: the name a client made up is in no span.
    let a = request(
        s.addr,
        "POST",
        "/v1/review",
        &[("traceparent", &parent)],
        r#"{"agent": "made_up_agent", "confidence": 0.9, "data": [], "channel": "web"}"#,
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let span = rx.span(&named(&a).1);
    assert_eq!(span["name"], "review", "{span}");
    assert_eq!(span["attributes"]["intent.outcome"], "deny", "{span}");
    assert!(!span.to_string().contains("made_up_agent"), "{span}");

    // No traceparent, or a malformed one: the span starts a trace of its own.
    for headers in [&[][..], &[("traceparent", "00-not-a-trace-01")][..]] {
        let a = decide(
            s.addr,
            headers,
            r#"{"intent": "run_report", "confidence": 0.95, "channel": "api"}"#,
        );
        let (trace, root, _) = named(&a);
        assert_ne!(trace, TRACE);
        assert!(a.header("tracestate").is_none(), "{:?}", a.headers);
        let span = rx.span(&root);
        assert_eq!(span["trace_id"], trace.as_str(), "{span}");
        assert_eq!(span["parent_span_id"], "", "{span}");
        assert_eq!(
            span["attributes"]["gen_ai.agent.name"], "reporter",
            "{span}"
        );
    }

    // Every sampled span arrived, and the unsampled one never did.
    let spans = rx.spans.lock().unwrap().clone();
    assert!(
        spans.iter().all(|s| s["span_id"] != unsampled_id.as_str()),
        "{spans:?}"
    );
    assert_eq!(spans.len(), 6, "{spans:?}");
    let metrics = wait_for_metric(&s, r#"intent_otlp_spans_total{result="exported"} 6"#);
    assert!(
        metrics.contains(r#"intent_otlp_spans_total{result="dropped"} 0"#),
        "{metrics}"
    );
}

/// Waits (up to 30 s) until `/metrics` holds `line`; the metrics then.
fn wait_for_metric(s: &Sidecar, line: &str) -> String {
    let start = Instant::now();
    loop {
        let metrics = request(s.addr, "GET", "/metrics", &[], "").body;
        if metrics.lines().any(|l| l == line) {
            return metrics;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no `{line}` in {metrics}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The value of the sample `name` in `/metrics`.
fn sample(s: &Sidecar, name: &str) -> u64 {
    let metrics = request(s.addr, "GET", "/metrics", &[], "").body;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {metrics}"))
}

/// A decision's answer without what differs between two sidecars (its id, and an
/// escalation's deadline, counted from the time it was made).
fn essence(a: &Answer) -> Json {
    let mut d = a.json();
    let o = d.as_object_mut().unwrap();
    o.remove("decision_id");
    o.remove("deadline_ms");
    d
}

#[test]
fn a_dead_or_silent_collector_changes_no_decision_and_lost_spans_are_counted() {
    // Down: nothing listens on the port (connections are refused).
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    // Silent: connections are taken by the kernel and never answered.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();

    let plain = Sidecar::start(&[MESH]);
    let down = Sidecar::start(&[MESH, "--otlp", &format!("http://127.0.0.1:{dead_port}")]);
    let mute = Sidecar::start(&[MESH, "--otlp", &format!("http://127.0.0.1:{silent_port}")]);
    // Without --otlp there is no span, no header and no sample.
    let metrics = request(plain.addr, "GET", "/metrics", &[], "").body;
    assert!(!metrics.contains("intent_otlp_spans_total{"), "{metrics}");

    let parent = format!("00-{TRACE}-{CALLER}-01");
    let bodies = [
        r#"{"intent": "take_order", "confidence": 0.95, "channel": "web"}"#,
        r#"{"intent": "take_order", "confidence": 0.6, "channel": "web"}"#,
        r#"{"intent": "issue_refund", "confidence": 0.9, "channel": "web", "amount": 5000}"#,
        r#"{"text": "place an order for me", "channel": "web"}"#,
    ];
    for body in bodies {
        let expected = decide(plain.addr, &[("traceparent", &parent)], body);
        assert!(expected.header("traceparent").is_none());
        for s in [&down, &mute] {
            let a = decide(s.addr, &[("traceparent", &parent)], body);
            assert_eq!(essence(&a), essence(&expected), "{body}");
            assert_eq!(named(&a).0, TRACE);
        }
    }

    // The refused exports are counted as failed, and said once on stderr.
    let start = Instant::now();
    while sample(&down, r#"intent_otlp_spans_total{result="failed"}"#) < 4 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no failed export"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    down.wait_for_stderr("cannot export spans");
    assert_eq!(down.stderr_lines("cannot export spans").len(), 1);

    // The silent collector holds the export thread: spans queue up to the bound, and past it
    // they are dropped and counted, while every decision is still answered at once and alike.
    let body = bodies[0];
    let expected = essence(&decide(plain.addr, &[], body));
    let mut sent = 0;
    while sample(&mute, r#"intent_otlp_spans_total{result="dropped"}"#) == 0 {
        for _ in 0..500 {
            let a = decide(mute.addr, &[("traceparent", &parent)], body);
            assert_eq!(essence(&a), expected);
            sent += 1;
        }
        assert!(sent < 20_000, "no span dropped after {sent} decisions");
    }
    assert_eq!(
        sample(&mute, r#"intent_otlp_spans_total{result="exported"}"#),
        0
    );
    eprintln!(
        "silent collector: {sent} decisions answered alike, {} spans dropped",
        sample(&mute, r#"intent_otlp_spans_total{result="dropped"}"#)
    );
    drop(silent);
}

#[test]
fn an_endpoint_that_is_not_an_http_base_url_is_refused_at_start() {
    for bad in [
        "https://127.0.0.1:4318",
        "127.0.0.1:4318",
        "http://127.0.0.1:4318/?a=b",
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_intent"))
            .args(["serve", MESH, "--addr", "127.0.0.1:0", "--otlp", bad])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{bad}: {stderr}");
        assert!(stderr.contains(&format!("--otlp {bad}")), "{bad}: {stderr}");
        assert!(!stderr.contains("listening on"), "{bad}: {stderr}");
    }
}
