//! Delegation tokens over HTTP (docs/identity.md): a three-hop chain (order -> pay -> refund)
//! decided from the tokens alone, whatever the client says about its lineage; replays and
//! expired tokens refused; PyJWT verifies a minted token from `/.well-known/jwks.json` alone; a
//! rotated sidecar still verifies the old key's tokens; `intent keys generate` never overwrites
//! a key. The callers' bearer tokens are PyJWT's (`tests/identity/tokens.py`).
//!
//! The Python comes from `INTENT_TEST_PYTHON` (`.ci/run` makes a venv with PyJWT and
//! cryptography) or `python3`. Without PyJWT the tests say so and pass, except under `CI=true`,
//! where a missing tool fails them (`tests/common/tools.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "identity/common.rs"]
mod identity;
#[path = "serve/support.rs"]
mod support;
#[path = "common/tools.rs"]
mod tools;

use identity::{authz, bearer, metric, python, run_python, third_party_tokens, AUD, ISS, TRUST};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use support::{request, Answer, Sidecar, TempDir};

/// The sidecar's delegation keys: (private key file, public key file, kid).
fn keys(dir: &Path, name: &str) -> (String, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_intent"))
        .args([
            "keys",
            "generate",
            "--out",
            dir.to_str().unwrap(),
            "--name",
            name,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let kid = text
        .lines()
        .find_map(|l| l.strip_prefix("kid "))
        .unwrap()
        .to_string();
    let key = dir.join(format!("{name}.key.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    (
        key.to_str().unwrap().into(),
        public.to_str().unwrap().into(),
        kid,
    )
}

fn chain_sidecar(jwks: &Path, signing: &str, more: &[&str]) -> Sidecar {
    let mut args = vec![
        TRUST,
        "--jwks",
        jwks.to_str().unwrap(),
        "--jwt-issuer",
        ISS,
        "--jwt-audience",
        AUD,
        "--external-caller",
        "frontend",
        "--signing-key",
        signing,
        "--token-issuer",
        "intent-test",
    ];
    args.extend_from_slice(more);
    Sidecar::start(&args)
}

/// Asks for `intent` as the agent of bearer `who` presenting delegation `token`.
fn ask(
    sidecar: &Sidecar,
    t: &HashMap<String, String>,
    who: &str,
    token: Option<&str>,
    intent: &str,
    extra: &[(&str, &str)],
) -> Answer {
    let auth = bearer(&t[who]);
    let mut h = vec![("authorization", auth.as_str())];
    if let Some(tok) = token {
        h.push(("x-intent-token", tok));
    }
    h.extend_from_slice(extra);
    authz(sidecar, intent, &h)
}

#[test]
fn delegation_tokens_carry_the_lineage_through_a_three_hop_chain() {
    let Some(py) = python("delegation_tokens_carry_the_lineage_through_a_three_hop_chain") else {
        return;
    };
    let dir = TempDir::new("identity-chain");
    let t = third_party_tokens(&py, dir.path());
    let (key, public, kid) = keys(dir.path(), "sidecar");
    let sidecar = chain_sidecar(&dir.path().join("jwks.json"), &key, &[]);

    // The front end starts the work: order goes to order_desk, with a token for it.
    let a = ask(&sidecar, &t, "frontend", None, "order", &[]);
    assert_eq!(a.status, 200, "{a:?}");
    let t1 = a.header("x-intent-token").unwrap().to_string();
    assert_eq!(a.json()["tokens"][0]["agent"], "order_desk");
    assert_eq!(a.json()["tokens"][0]["token"], t1.as_str());

    // PyJWT verifies it from the JWKS endpoint alone.
    let url = format!("http://{}/.well-known/jwks.json", sidecar.addr);
    let claims: Value =
        serde_json::from_str(&run_python(&py, &["verify", &url, &t1, "intent-test"])).unwrap();
    assert_eq!(claims["sub"], "order_desk");
    assert_eq!(claims["intent"], "order");
    assert_eq!(claims["lineage"], serde_json::json!(["order"]));
    assert_eq!(claims["data"], serde_json::json!(["pii"]));
    assert_eq!(claims["step"], "dispatch");
    assert_eq!(
        claims["decision_id"],
        a.header("x-intent-decision-id").unwrap()
    );
    assert_eq!(claims["plan_hash"], a.header("x-intent-plan-hash").unwrap());
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        300
    );

    // order_desk, serving order, raises pay; pay_bot, serving pay, raises refund.
    let a = ask(&sidecar, &t, "order_desk", Some(&t1), "pay", &[]);
    assert_eq!(a.header("x-intent-outcome"), Some("dispatch"), "{a:?}");
    let t2 = a.header("x-intent-token").unwrap().to_string();
    let a = ask(&sidecar, &t, "pay_bot", Some(&t2), "refund", &[]);
    assert_eq!(a.header("x-intent-outcome"), Some("dispatch"), "{a:?}");
    let t3 = a.header("x-intent-token").unwrap().to_string();

    // Drift: order does not delegate refund, whatever lineage the client would claim.
    let a = ask(&sidecar, &t, "order_desk", Some(&t1), "refund", &[]);
    assert_eq!(a.status, 403, "{a:?}");
    assert!(
        a.header("x-intent-reason")
            .unwrap()
            .contains("intent drift"),
        "{a:?}"
    );
    // A loop: refund may raise pay, but pay is being served.
    let a = ask(&sidecar, &t, "refund_bot", Some(&t3), "pay", &[]);
    assert_eq!(a.status, 403, "{a:?}");
    assert!(
        a.header("x-intent-reason")
            .unwrap()
            .contains("delegation loop"),
        "{a:?}"
    );
    // Too deep: order -> pay -> refund -> report is depth 3 > 2.
    let a = ask(&sidecar, &t, "refund_bot", Some(&t3), "report", &[]);
    assert_eq!(a.status, 403, "{a:?}");
    assert!(
        a.header("x-intent-reason")
            .unwrap()
            .contains("delegation depth"),
        "{a:?}"
    );
    // A forged or emptied lineage next to the token is refused, never merged.
    // An empty header names no lineage at all: the token's lineage decides (drift).
    let a = ask(
        &sidecar,
        &t,
        "order_desk",
        Some(&t1),
        "refund",
        &[("x-intent-lineage", "")],
    );
    assert_eq!(a.status, 403, "{a:?}");
    for forged in ["pay", "refund,order"] {
        let a = ask(
            &sidecar,
            &t,
            "order_desk",
            Some(&t1),
            "refund",
            &[("x-intent-lineage", forged)],
        );
        assert_eq!(a.status, 400, "lineage {forged:?}: {a:?}");
    }
    // Omitting the token does not help: an agent of the plan must present one.
    let a = ask(&sidecar, &t, "order_desk", None, "refund", &[]);
    assert_eq!(a.status, 403, "{a:?}");
    assert!(a.body.contains("delegation token"), "{a:?}");
    // Replay: the token was given to order_desk, refund_bot presents it.
    let a = ask(&sidecar, &t, "refund_bot", Some(&t1), "pay", &[]);
    assert_eq!(a.status, 403, "{a:?}");
    assert!(a.body.contains("was given to `order_desk`"), "{a:?}");
    // An expired token, signed with the sidecar's own key (by PyJWT).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let old = serde_json::json!({
        "iss": "intent-test", "aud": "intent-delegation", "sub": "order_desk",
        "intent": "order", "lineage": ["order"], "step": "dispatch", "data": [],
        "decision_id": "1-1", "plan_hash": "x", "iat": now - 700, "exp": now - 400,
    });
    let expired = run_python(&py, &["sign", &key, &kid, &old.to_string()]);
    let a = ask(&sidecar, &t, "order_desk", Some(&expired), "pay", &[]);
    assert_eq!(a.status, 401, "{a:?}");
    assert!(a
        .header("www-authenticate")
        .unwrap()
        .contains(r#"error_description="expired""#));
    // The same claims, still valid: PyJWT's token verifies like the sidecar's own.
    let fresh = serde_json::json!({
        "iss": "intent-test", "aud": "intent-delegation", "sub": "order_desk",
        "intent": "order", "lineage": ["order"], "step": "dispatch", "data": [],
        "decision_id": "1-1", "plan_hash": "x", "iat": now, "exp": now + 60,
    });
    let fresh = run_python(&py, &["sign", &key, &kid, &fresh.to_string()]);
    let a = ask(&sidecar, &t, "order_desk", Some(&fresh), "pay", &[]);
    assert_eq!(a.status, 200, "{a:?}");
    assert!(metric(
        &sidecar,
        r#"intent_identity_refusals_total{reason="token_subject"} 1"#
    ));

    // Rotation: a sidecar signing with a new key still verifies the old key's tokens.
    let (key2, _, kid2) = keys(dir.path(), "next");
    let rotated = chain_sidecar(
        &dir.path().join("jwks.json"),
        &key2,
        &["--verify-key", &public],
    );
    let a = ask(&rotated, &t, "order_desk", Some(&t1), "pay", &[]);
    assert_eq!(a.header("x-intent-outcome"), Some("dispatch"), "{a:?}");
    let jwks = request(rotated.addr, "GET", "/.well-known/jwks.json", &[], "").json();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [kid2.as_str(), kid.as_str()]);
    // The new token verifies with PyJWT from the rotated set too.
    let t2b = a.header("x-intent-token").unwrap().to_string();
    let url = format!("http://{}/.well-known/jwks.json", rotated.addr);
    let claims: Value =
        serde_json::from_str(&run_python(&py, &["verify", &url, &t2b, "intent-test"])).unwrap();
    assert_eq!(claims["lineage"], serde_json::json!(["order", "pay"]));
}

#[test]
fn a_sidecar_without_signing_keys_serves_no_key_set_and_takes_no_token() {
    let sidecar = Sidecar::start(&[TRUST]);
    let a = request(sidecar.addr, "GET", "/.well-known/jwks.json", &[], "");
    assert_eq!(a.status, 404, "{a:?}");
    // Without a broker, nothing changes: the headers are the caller's word.
    let a = authz(&sidecar, "pay", &[("x-intent-lineage", "order")]);
    assert_eq!(a.header("x-intent-outcome"), Some("dispatch"), "{a:?}");
    assert!(a.header("x-intent-token").is_none());
}

#[test]
fn keys_generate_never_overwrites() {
    let dir = TempDir::new("identity-keys");
    keys(dir.path(), "k");
    let out = Command::new(env!("CARGO_BIN_EXE_intent"))
        .args([
            "keys",
            "generate",
            "--out",
            dir.path().to_str().unwrap(),
            "--name",
            "k",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot create"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("k.key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
