//! What the identity tests share (`tests/serve_identity.rs`, `tests/serve_delegation.rs`): the
//! mesh they serve, PyJWT's tokens made by `tokens.py`, and small requests to a sidecar.

#![allow(dead_code)]

use crate::support::{request, Answer, Sidecar};
use crate::tools;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

pub const TRUST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/serve/trust.intent");
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/identity/tokens.py");
pub const ISS: &str = "https://idp.test.invalid";
pub const AUD: &str = "intent-mesh";

/// The Python with PyJWT and cryptography (`INTENT_TEST_PYTHON`), or `None`: the test passes
/// saying why, except under `CI=true`, where it fails (`tests/common/tools.rs`).
pub fn python(test: &str) -> Option<String> {
    tools::require_python_module(test, "jwt, cryptography", "pyjwt cryptography")
}

pub fn run_python(python: &str, args: &[&str]) -> String {
    let out = Command::new(python)
        .arg(SCRIPT)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tokens.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// PyJWT's tokens by name, with their key set written to `dir/jwks.json`.
pub fn third_party_tokens(python: &str, dir: &Path) -> HashMap<String, String> {
    let text = run_python(python, &["make", dir.to_str().unwrap(), ISS, AUD]);
    serde_json::from_str(&text).unwrap()
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// `/v1/authz` for `intent` with these headers.
pub fn authz(sidecar: &Sidecar, intent: &str, extra: &[(&str, &str)]) -> Answer {
    let mut h = vec![("x-intent-name", intent), ("x-intent-confidence", "0.95")];
    h.extend_from_slice(extra);
    h.push(("x-intent-context", r#"{"channel":"web"}"#));
    request(sidecar.addr, "GET", "/v1/authz", &h, "")
}

pub fn metric(sidecar: &Sidecar, line: &str) -> bool {
    request(sidecar.addr, "GET", "/metrics", &[], "")
        .body
        .lines()
        .any(|l| l == line)
}
