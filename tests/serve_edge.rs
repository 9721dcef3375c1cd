//! The request edge of `intent serve` as a process (issue #10): the header that overflowed the
//! parser's stack no longer ends the process; POST bodies must be JSON; traces name files
//! relative to the mesh; `--strict` refuses a misspelt context field by name (issue #16);
//! and a decision log written from hostile requests (context fields
//! named like the record's own keys, line separators in strings) is read back as written by
//! `intent replay` and by Python's `json` (a reader we did not write). Python is installed by
//! `.ci/run`; without it the Python check skips, saying so, except under `CI=true`, where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "serve/support.rs"]
mod support;
#[path = "common/tools.rs"]
mod tools;

use intent_runtime::LogRecord;
use std::process::Command;
use support::{request, Sidecar, TempDir, MESH};

const ORDER: &str = r#"{"intent":"take_order","confidence":0.95,"channel":"web"}"#;

/// Regression (#10): this header aborted the sidecar (a stack overflow in the header parser).
#[test]
fn the_sidecar_outlives_a_deeply_dotted_context_header() {
    let sidecar = Sidecar::start(&[MESH]);
    let name = format!("x-intent-context-{}a", "a.".repeat(7_500));
    let a = request(
        sidecar.addr,
        "GET",
        "/v1/authz",
        &[
            ("x-intent-name", "take_order"),
            ("x-intent-confidence", "0.95"),
            (name.as_str(), "1"),
        ],
        "",
    );
    assert_eq!(a.status, 431, "{}", a.body);
    assert!(a.body.contains("more than 128"), "{}", a.body);
    assert_eq!(
        request(sidecar.addr, "GET", "/healthz", &[], "").status,
        200
    );
}

/// `intent serve --strict` (issue #16): a misspelt context field is a 400 naming it and the
/// field meant, on the decision and the authorization endpoints; without `--strict` the same
/// request is decided and the field listed.
#[test]
fn a_strict_sidecar_started_from_the_cli_refuses_a_misspelt_field() {
    let typo = r#"{"intent":"take_order","confidence":0.95,"channel":"web","amout":5}"#;
    let strict = Sidecar::start(&[MESH, "--strict"]);
    let a = request(strict.addr, "POST", "/v1/decide", &[], typo);
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(
        a.json()["error"],
        "`amout` is not a context field of the plan; did you mean `amount`?"
    );
    let a = request(
        strict.addr,
        "GET",
        "/v1/authz",
        &[
            ("x-intent-name", "take_order"),
            ("x-intent-confidence", "0.95"),
            ("x-intent-context", r#"{"channel":"web","amout":5}"#),
        ],
        "",
    );
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("`amout`"), "{}", a.body);
    let lenient = Sidecar::start(&[MESH]);
    let a = request(lenient.addr, "POST", "/v1/decide", &[], typo);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["unknown_fields"], serde_json::json!(["amout"]));
}

#[test]
fn post_bodies_must_say_they_are_json() {
    // Open admin endpoints: this test is about content types, serve_ops.rs about the token.
    let sidecar = Sidecar::start(&[MESH, "--admin-open"]);
    for (endpoint, body) in [
        ("/v1/decide", ORDER),
        ("/v1/review", r#"{"agent":"order_desk","channel":"web"}"#),
        ("/v1/failure", r#"{"agent":"order_desk"}"#),
    ] {
        for ty in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/jsonx",
        ] {
            let a = request(
                sidecar.addr,
                "POST",
                endpoint,
                &[("content-type", ty)],
                body,
            );
            assert_eq!(a.status, 415, "{endpoint} {ty}: {}", a.body);
            assert!(a.body.contains(&format!("`{ty}`")), "{}", a.body);
        }
        let a = request(
            sidecar.addr,
            "POST",
            endpoint,
            &[("content-type", "Application/JSON; charset=utf-8")],
            body,
        );
        assert_eq!(a.status, 200, "{endpoint}: {}", a.body);
    }
    let metrics = request(sidecar.addr, "GET", "/metrics", &[], "").body;
    assert!(
        metrics.contains(r#"intent_bad_requests_total{endpoint="decide"} 3"#),
        "{metrics}"
    );
}

/// The sidecar serves `MESH` by its absolute path: traces must not tell a caller where it lives.
/// `POST /v1/decide` is answered ahead of the router when its body's length is declared and
/// within the limit (`runtime/src/server/front.rs`); these reach the process on both ways and
/// get the router's answers: a body that stops coming (408, the request timeout), a body over
/// `--max-body` (413), a chunked body (the router reads it).
#[test]
fn decide_bodies_get_the_same_answers_on_both_ways() {
    use std::io::{Read, Write};
    let sidecar = Sidecar::start(&[MESH, "--timeout-ms", "300", "--max-body", "200"]);
    let exchange = |head: &str, body: &str| {
        let mut s = std::net::TcpStream::connect(sidecar.addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let req = format!(
            "POST /v1/decide HTTP/1.1\r\nhost: test\r\nconnection: close\r\ncontent-type: application/json\r\n{head}\r\n{body}"
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        support::parse(&raw).unwrap()
    };
    let a = exchange("content-length: 100\r\n", &ORDER[..10]);
    assert_eq!(a.status, 408, "{}", a.body);
    assert!(a.body.contains("longer than 300 ms"), "{}", a.body);
    let a = exchange("content-length: 201\r\n", &" ".repeat(201));
    assert_eq!(a.status, 413, "{}", a.body);
    let chunked = format!("{:x}\r\n{ORDER}\r\n0\r\n\r\n", ORDER.len());
    let a = exchange("transfer-encoding: chunked\r\n", &chunked);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["outcome"], "dispatch", "{}", a.body);
    let a = exchange(&format!("content-length: {}\r\n", ORDER.len()), ORDER);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["outcome"], "dispatch", "{}", a.body);
}

#[test]
fn traces_name_files_relative_to_the_mesh() {
    assert!(MESH.starts_with('/'));
    let sidecar = Sidecar::start(&[MESH]);
    let d = request(sidecar.addr, "POST", "/v1/decide", &[], ORDER).json();
    let v = request(
        sidecar.addr,
        "POST",
        "/v1/review",
        &[],
        r#"{"agent":"order_desk","confidence":0.9,"channel":"web"}"#,
    )
    .json();
    let mut ats = Vec::new();
    for answer in [&d, &v] {
        for t in answer["trace"].as_array().unwrap() {
            if let Some(at) = t["at"].as_str() {
                ats.push(at.to_string());
            }
        }
    }
    assert!(!ats.is_empty(), "{d}\n{v}");
    for at in &ats {
        assert!(at.starts_with("mesh.intent:"), "{at}");
    }
}

/// Regression (#10): context fields named `intent`, `outcome`... made a second key of that name
/// in the record, and U+2028 was written raw: jq and Python read the caller's value, Python's
/// `splitlines` cut the record in two, and `intent replay` refused the line.
#[test]
fn a_hostile_request_is_logged_so_every_reader_reads_it_as_written() {
    let dir = TempDir::new("serve-edge-log");
    let log = dir.path().join("decisions.jsonl");
    let mut sidecar = Sidecar::start(&[MESH, "--log", log.to_str().unwrap()]);
    let context = r#"{"channel":"web","intent":"run_report","outcome":"dispatch","confidence":1,"caller":"x","text":"y","note":"a\u2028b\u2029c"}"#;
    let a = request(
        sidecar.addr,
        "GET",
        "/v1/authz",
        &[
            ("x-intent-name", "take_order"),
            ("x-intent-confidence", "0.6"),
            ("x-intent-context", context),
        ],
        "",
    );
    assert_eq!(a.status, 401, "{}", a.body);
    let a = request(sidecar.addr, "POST", "/v1/decide", &[], ORDER);
    assert_eq!(a.status, 200, "{}", a.body);
    // SIGTERM flushes the log.
    Command::new("kill")
        .args(["-TERM", &sidecar.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sidecar.child.wait().unwrap().success());

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(['\u{2028}', '\u{2029}']), "{text}");
    let records: Vec<LogRecord> = text
        .lines()
        .map(|l| LogRecord::from_line(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    let hostile = &records[0];
    assert_eq!(hostile.intent.as_deref(), Some("take_order"));
    assert_eq!(hostile.request.intent.as_deref(), Some("take_order"));
    assert_eq!(hostile.request.context["intent"], "run_report");
    assert_eq!(hostile.request.context["note"], "a\u{2028}b\u{2029}c");

    // The same plan decides every record as recorded.
    let out = Command::new(env!("CARGO_BIN_EXE_intent"))
        .args(["replay", log.to_str().unwrap(), "--plan", MESH])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("0 of 2 records changed"), "{stdout}");

    python_reads(&log);
}

/// Python's `json`, splitting the log with `str.splitlines` (which also splits at U+2028).
fn python_reads(log: &std::path::Path) {
    let script = r#"
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert len(lines) == 2, lines
r = json.loads(lines[0])
assert r["intent"] == "take_order", r
assert r["outcome"] == "escalate", r
assert r["request"]["intent"] == "take_order", r
assert r["request"]["context"]["intent"] == "run_report", r
assert r["request"]["context"]["note"] == "a\u2028b\u2029c", r
print("ok")
"#;
    match Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(log)
        .output()
    {
        Ok(out) => assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "ok",
            "{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => tools::missing(
            "the Python reader of the decision log",
            &format!("`python3` ({e})"),
            "apt-get install python3",
        ),
    }
}

/// docs/serve.md, Limits: a record from `/v1/authz` stays under 100 KiB however its headers are
/// filled, numbers that come back longer than they were sent (`1e15`) included.
#[test]
fn a_record_is_bounded_by_the_header_limits() {
    use axum::http::{HeaderMap, HeaderName, HeaderValue};
    use intent_runtime::layer::headers::{read_request, FieldHeaders};
    let src = std::fs::read_to_string(MESH).unwrap();
    let c = intent_compiler::compile(
        &[intent_compiler::Source::new("mesh.intent", src)],
        intent_compiler::Stage::Build,
    );
    let engine = intent_runtime::Engine::from_plan(c.plan.unwrap()).unwrap();
    let numbers = |n: usize| format!("[{}]", vec!["1e15"; n].join(","));
    let mut h = HeaderMap::new();
    for (name, value) in [
        ("x-intent-context", format!(r#"{{"a":{}}}"#, numbers(1_630))),
        ("x-intent-context-b", numbers(1_630)),
    ] {
        h.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(&value).unwrap(),
        );
    }
    let size: usize = h.iter().map(|(k, v)| k.as_str().len() + v.len()).sum();
    assert!(size > 16_000, "{size}");
    let req = read_request(&h, FieldHeaders::Merge).unwrap();
    let d = engine.decide(&req);
    let line = LogRecord::new(req, &d).to_line();
    assert!(line.len() > 3 * size, "{}", line.len());
    assert!(line.len() < 100 * 1024, "{}", line.len());
}
