//! The trust broker over HTTP (docs/identity.md), with tokens made by another implementation:
//! PyJWT (+ cryptography) signs bearer tokens with RS256, ES256 and EdDSA keys that `intent
//! serve --jwks` verifies, and makes the bad ones it must refuse (expired, not yet valid, wrong
//! issuer, audience or signature, `alg: none`, an unknown key id, HS256 keyed with the RSA public
//! key). Key sets fetched over https from Python's `http.server` wrapped in `ssl`, with
//! certificates made by OpenSSL: verified with the operator's CA, refused from a server whose
//! certificate another CA signed, rotated by a refetch on an unknown kid. `caller` conditions
//! and context fields from claims decide on the verified caller. Delegation tokens are in
//! `tests/serve_delegation.rs`.
//!
//! The Python comes from `INTENT_TEST_PYTHON` (`.ci/run` makes a venv with PyJWT and
//! cryptography) or `python3`. Without PyJWT the tests say so and pass, except under `CI=true`,
//! where a missing tool fails them (`tests/common/tools.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "serve/certs.rs"]
mod certs;
#[path = "identity/common.rs"]
mod identity;
#[path = "serve/support.rs"]
mod support;
#[path = "common/tools.rs"]
mod tools;

use identity::{authz, bearer, metric, python, third_party_tokens, AUD, ISS, TRUST};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::{request, Sidecar, TempDir};

const HTTPS_SERVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/identity/https_server.py"
);

#[test]
fn bearer_tokens_from_pyjwt_are_verified_and_bad_ones_refused() {
    let Some(py) = python("bearer_tokens_from_pyjwt_are_verified_and_bad_ones_refused") else {
        return;
    };
    let dir = TempDir::new("identity-bearer");
    let t = third_party_tokens(&py, dir.path());
    let jwks = dir.path().join("jwks.json");
    let sidecar = Sidecar::start(&[
        TRUST,
        "--jwks",
        jwks.to_str().unwrap(),
        "--jwt-issuer",
        ISS,
        "--jwt-audience",
        AUD,
        "--external-caller",
        "frontend",
    ]);
    for good in ["rs256", "es256", "eddsa", "frontend"] {
        let auth = bearer(&t[good]);
        let a = authz(&sidecar, "order", &[("authorization", &auth)]);
        assert_eq!(a.status, 200, "{good}: {a:?}");
        assert_eq!(a.header("x-intent-outcome"), Some("dispatch"), "{good}");
        // Verified once, remembered: the second request decides the same.
        let a = authz(&sidecar, "order", &[("authorization", &auth)]);
        assert_eq!(a.status, 200, "{good} again: {a:?}");
    }
    for (bad, reason) in [
        ("expired", "expired"),
        ("not_yet_valid", "not_yet_valid"),
        ("wrong_issuer", "wrong_issuer"),
        ("wrong_audience", "wrong_audience"),
        ("wrong_signature", "bad_signature"),
        ("unknown_kid", "unknown_kid"),
        ("no_exp", "missing_claim"),
        ("alg_none", "malformed"),
        ("hs256_public_key", "wrong_alg"),
        ("rs256_on_ec_kid", "wrong_alg"),
    ] {
        let a = authz(&sidecar, "order", &[("authorization", &bearer(&t[bad]))]);
        assert_eq!(a.status, 401, "{bad} was not refused: {a:?}");
        assert_eq!(
            a.header("www-authenticate"),
            Some(
                format!(
                    r#"Bearer realm="intent", error="invalid_token", error_description="{reason}""#
                )
                .as_str()
            ),
            "{bad}"
        );
        assert!(a.header("x-intent-outcome").is_none(), "{bad} was decided");
        assert!(
            metric(
                &sidecar,
                &format!(
                    r#"intent_identity_refusals_total{{reason="{reason}"}} {}"#,
                    {
                        // Two tokens are refused for a wrong algorithm.
                        if bad == "rs256_on_ec_kid" {
                            2
                        } else {
                            1
                        }
                    }
                )
            ),
            "{bad}: not counted as {reason}"
        );
    }
    // No token at all: a bare challenge.
    let a = authz(&sidecar, "order", &[]);
    assert_eq!(a.status, 401, "{a:?}");
    assert_eq!(
        a.header("www-authenticate"),
        Some(r#"Bearer realm="intent""#)
    );
    let a = authz(
        &sidecar,
        "order",
        &[("authorization", "Basic b3JkZXI6ZGVzaw==")],
    );
    assert_eq!(a.status, 401, "{a:?}");
    // A valid token for someone the plan does not know.
    let a = authz(
        &sidecar,
        "order",
        &[("authorization", &bearer(&t["stranger_sub"]))],
    );
    assert_eq!(a.status, 403, "{a:?}");
    assert!(a.body.contains("mallory"), "{a:?}");
    // With identity required, the client never names its caller or lineage.
    let auth = bearer(&t["eddsa"]);
    for (h, v) in [
        ("x-intent-caller", "refund_bot"),
        ("x-intent-lineage", "order"),
    ] {
        let a = authz(&sidecar, "pay", &[("authorization", &auth), (h, v)]);
        assert_eq!(a.status, 400, "{h}: {a:?}");
        assert!(a.body.contains("come from the credentials"), "{a:?}");
    }
    let a = request(
        sidecar.addr,
        "POST",
        "/v1/decide",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        r#"{"intent":"pay","confidence":0.9,"channel":"web","caller":{"agent":"order_desk","lineage":["order"]}}"#,
    );
    assert_eq!(a.status, 400, "{a:?}");
    let a = request(
        sidecar.addr,
        "POST",
        "/v1/decide",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        r#"{"intent":"order","confidence":0.9,"channel":"web"}"#,
    );
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.json()["outcome"], "dispatch");
    assert!(metric(
        &sidecar,
        r#"intent_identity_refusals_total{reason="caller_from_client"} 3"#
    ));
    // `/v1/classify` names the plan's intents: it asks for the credentials a decision needs.
    let classify = |extra: &[(&str, &str)]| {
        let mut h = vec![("content-type", "application/json")];
        h.extend_from_slice(extra);
        request(
            sidecar.addr,
            "POST",
            "/v1/classify",
            &h,
            r#"{"text":"order"}"#,
        )
    };
    let a = classify(&[]);
    assert_eq!(a.status, 401, "{a:?}");
    assert!(a.json().get("intent").is_none(), "{a:?}");
    let a = classify(&[("authorization", &bearer(&t["wrong_signature"]))]);
    assert_eq!(a.status, 401, "{a:?}");
    let a = classify(&[("authorization", &auth)]);
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.json()["classifier"], "builtin", "{a:?}");
}

#[test]
fn an_unknown_key_id_reads_the_key_set_again() {
    let Some(py) = python("an_unknown_key_id_reads_the_key_set_again") else {
        return;
    };
    let dir = TempDir::new("identity-refresh");
    let first = TempDir::new("identity-refresh-first");
    // The sidecar starts with another set (PyJWT's first run), then the file is replaced.
    third_party_tokens(&py, first.path());
    let jwks = dir.path().join("jwks.json");
    std::fs::copy(first.path().join("jwks.json"), &jwks).unwrap();
    let sidecar = Sidecar::start(&[
        TRUST,
        "--jwks",
        jwks.to_str().unwrap(),
        "--jwt-issuer",
        ISS,
        "--jwt-audience",
        AUD,
        "--jwks-min-refetch-s",
        "0",
    ]);
    let t = third_party_tokens(&py, dir.path());
    let a = authz(
        &sidecar,
        "order",
        &[("authorization", &bearer(&t["rs256"]))],
    );
    // Same kid (`rsa-1`), new key: the kid is known, so the set is not read again and the
    // signature does not verify with the old key.
    assert_eq!(a.status, 401, "{a:?}");
    // A kid the set does not have (`ec-1` is in both; `rsa-9` in neither) reads it again: the
    // new `rsa-1` then verifies.
    let a = authz(
        &sidecar,
        "order",
        &[("authorization", &bearer(&t["unknown_kid"]))],
    );
    assert_eq!(a.status, 401, "{a:?}");
    let a = authz(
        &sidecar,
        "order",
        &[("authorization", &bearer(&t["rs256"]))],
    );
    assert_eq!(a.status, 200, "after the refresh: {a:?}");
}

/// Python's `http.server` in `ssl`, serving a directory over https; killed when dropped.
struct HttpsServer {
    child: std::process::Child,
    port: u16,
}

impl HttpsServer {
    fn start(python: &str, root: &Path, cert: &Path, key: &Path) -> HttpsServer {
        use std::io::BufRead;
        let mut child = Command::new(python)
            .arg(HTTPS_SERVER)
            .args([root, cert, key])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("https_server.py did not print its port: {line:?}")
        });
        HttpsServer { child, port }
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `intent serve ARGS` that must refuse to start: its stderr (it is killed, and the test
/// fails, when it is still running after 20 s).
fn refused_at_start(args: &[&str]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_intent"))
        .arg("serve")
        .args(args)
        .args(["--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    let _ = child.wait();
    assert!(
        status.is_some_and(|s| !s.success()),
        "intent serve {args:?} started: {err}"
    );
    err
}

/// Key sets over https (issue #11): PyJWT's tokens verify with keys fetched from Python's
/// `http.server` wrapped in `ssl`, whose certificate OpenSSL made; a server certificate from
/// a CA the sidecar does not trust (another CA given with --jwks-ca, or the system's roots) is
/// refused at start with the TLS error; a new key is picked up by the refetch an unknown kid
/// causes; plain http to another host is refused.
#[test]
fn key_sets_are_fetched_over_https_from_a_verified_server() {
    let test = "key_sets_are_fetched_over_https_from_a_verified_server";
    let Some(py) = python(test) else {
        return;
    };
    if tools::require_binary(test, "openssl", &[], "apt-get install openssl").is_none() {
        return;
    }
    let tmp = TempDir::new("identity-https");
    let dir = tmp.path();
    certs::ca(dir, "ca");
    certs::ca(dir, "other_ca");
    let server_ext = "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n\
                      subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    certs::leaf(dir, "ca", "server", server_ext);
    let www = dir.join("www");
    std::fs::create_dir(&www).unwrap();
    let t = third_party_tokens(&py, &www);
    let server = HttpsServer::start(&py, &www, &dir.join("server.pem"), &dir.join("server.key"));
    let url = format!("https://127.0.0.1:{}/jwks.json", server.port);
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let (ca, other_ca) = (path("ca.pem"), path("other_ca.pem"));
    let args = |ca: &str| -> Vec<String> {
        [
            TRUST,
            "--jwks",
            &url,
            "--jwks-ca",
            ca,
            "--jwt-issuer",
            ISS,
            "--jwt-audience",
            AUD,
            "--jwks-min-refetch-s",
            "0",
        ]
        .map(String::from)
        .to_vec()
    };
    let owned = args(&ca);
    let sidecar = Sidecar::start(&owned.iter().map(String::as_str).collect::<Vec<_>>());
    for good in ["rs256", "es256", "eddsa"] {
        let a = authz(&sidecar, "order", &[("authorization", &bearer(&t[good]))]);
        assert_eq!(a.status, 200, "{good}: {a:?}");
        assert_eq!(a.header("x-intent-outcome"), Some("dispatch"), "{good}");
    }
    let a = authz(
        &sidecar,
        "order",
        &[("authorization", &bearer(&t["wrong_signature"]))],
    );
    assert_eq!(a.status, 401, "{a:?}");

    // Rotation: the provider serves new keys under the same kids. A known kid does not
    // refetch; an unknown one does, over https, and the new key verifies.
    let t2 = third_party_tokens(&py, &www);
    let auth = bearer(&t2["rs256"]);
    let a = authz(&sidecar, "order", &[("authorization", &auth)]);
    assert_eq!(a.status, 401, "before the refetch: {a:?}");
    let a = authz(
        &sidecar,
        "order",
        &[("authorization", &bearer(&t2["unknown_kid"]))],
    );
    assert_eq!(a.status, 401, "{a:?}");
    let a = authz(&sidecar, "order", &[("authorization", &auth)]);
    assert_eq!(a.status, 200, "after the refetch: {a:?}");
    assert!(
        sidecar.stderr_lines("keeping the old key set").is_empty(),
        "{:?}",
        sidecar.stderr_lines("")
    );
    drop(sidecar);

    // A certificate from a CA the sidecar does not trust: it does not start, and says why.
    let owned = args(&other_ca);
    let err = refused_at_start(&owned.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        err.contains("TLS handshake failed") && err.contains("UnknownIssuer"),
        "{err}"
    );
    // Nor with the system's roots, which do not have the test's CA.
    let err = refused_at_start(&[
        TRUST,
        "--jwks",
        &url,
        "--jwt-issuer",
        ISS,
        "--jwt-audience",
        AUD,
    ]);
    assert!(
        err.contains("TLS handshake failed") || err.contains("CA certificates"),
        "{err}"
    );
    // Plain http, to another host than this one.
    let err = refused_at_start(&[
        TRUST,
        "--jwks",
        "http://idp.example.invalid/jwks.json",
        "--jwt-issuer",
        ISS,
        "--jwt-audience",
        AUD,
    ]);
    assert!(err.contains("fetched over https"), "{err}");
}

const CALLERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/serve/callers.intent");

/// `caller` conditions decide on the verified caller (issue #11): a policy on `caller.trust`
/// and `caller.labels.tier` serves one agent's PyJWT token and refuses another's; an external
/// caller (verified, but no agent of the mesh) has no attributes, like an anonymous request;
/// a client that names its caller next to its token is refused.
#[test]
fn caller_conditions_decide_on_the_verified_caller() {
    let Some(py) = python("caller_conditions_decide_on_the_verified_caller") else {
        return;
    };
    let dir = TempDir::new("identity-callers");
    let t = third_party_tokens(&py, dir.path());
    let jwks = dir.path().join("jwks.json");
    let sidecar = Sidecar::start(&[
        CALLERS,
        "--jwks",
        jwks.to_str().unwrap(),
        "--jwt-issuer",
        ISS,
        "--jwt-audience",
        AUD,
        "--external-caller",
        "frontend",
    ]);
    let auth = bearer(&t["order_desk"]);
    let a = authz(&sidecar, "order", &[("authorization", &auth)]);
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.header("x-intent-outcome"), Some("dispatch"), "{a:?}");
    assert_eq!(a.header("x-intent-agents"), Some("pay_bot"), "{a:?}");

    let auth = bearer(&t["reporter"]);
    let a = authz(&sidecar, "order", &[("authorization", &auth)]);
    assert_eq!(a.status, 403, "{a:?}");
    assert_eq!(a.header("x-intent-outcome"), Some("deny"), "{a:?}");
    assert!(
        a.header("x-intent-reason")
            .is_some_and(|r| r.contains("orders need a trusted gold-tier caller")),
        "{a:?}"
    );

    let auth = bearer(&t["frontend"]);
    let a = authz(&sidecar, "order", &[("authorization", &auth)]);
    assert_eq!(a.header("x-intent-outcome"), Some("deny"), "{a:?}");
    assert!(
        a.header("x-intent-reason")
            .is_some_and(|r| r.contains("orders are raised by agents of the mesh")),
        "{a:?}"
    );

    // The same through /v1/decide, whose JSON body may not name the caller itself.
    let body = r#"{"intent":"order","confidence":0.95,"channel":"web"}"#;
    let auth = bearer(&t["order_desk"]);
    let a = request(
        sidecar.addr,
        "POST",
        "/v1/decide",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        body,
    );
    assert_eq!(a.status, 200, "{a:?}");
    let v: Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(v["outcome"], "dispatch", "{v:#}");
    let forged =
        r#"{"intent":"order","confidence":0.95,"channel":"web","caller":{"agent":"order_desk"}}"#;
    let auth = bearer(&t["reporter"]);
    let a = request(
        sidecar.addr,
        "POST",
        "/v1/decide",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        forged,
    );
    assert_eq!(
        a.status, 400,
        "a caller named next to a token is refused: {a:?}"
    );
}

/// A context field filled from the bearer token's claim (`plan?: .. = claim "plan"`): PyJWT's
/// tokens with `plan` "pro" and "free" decide differently for the same agent, a token without
/// the claim leaves the field absent, a client that sends the field itself is refused (400),
/// and a claim that is not a scalar is refused (403) before it is read.
#[test]
fn claims_fill_the_context_fields_the_mesh_maps() {
    let Some(py) = python("claims_fill_the_context_fields_the_mesh_maps") else {
        return;
    };
    let dir = TempDir::new("identity-claims");
    let t = third_party_tokens(&py, dir.path());
    let jwks = dir.path().join("jwks.json");
    let sidecar = Sidecar::start(&[
        CALLERS,
        "--jwks",
        jwks.to_str().unwrap(),
        "--jwt-issuer",
        ISS,
        "--jwt-audience",
        AUD,
    ]);
    for (token, outcome) in [
        ("order_desk_pro", "dispatch"),
        ("order_desk", "dispatch"),
        ("order_desk_free", "deny"),
    ] {
        let auth = bearer(&t[token]);
        let a = authz(&sidecar, "order", &[("authorization", &auth)]);
        assert_eq!(
            a.header("x-intent-outcome"),
            Some(outcome),
            "{token}: {a:?}"
        );
    }
    let a = authz(
        &sidecar,
        "order",
        &[("authorization", &bearer(&t["order_desk_free"]))],
    );
    assert!(
        a.header("x-intent-reason")
            .is_some_and(|r| r.contains("free plans place no orders")),
        "{a:?}"
    );
    // The field comes from the token alone.
    for token in ["order_desk_free", "order_desk"] {
        let a = authz(
            &sidecar,
            "order",
            &[
                ("authorization", &bearer(&t[token])),
                ("x-intent-context-plan", "\"pro\""),
            ],
        );
        assert_eq!(a.status, 400, "{token}: {a:?}");
        assert!(
            a.body.contains("comes from the bearer token's claim"),
            "{a:?}"
        );
    }
    let a = authz(
        &sidecar,
        "order",
        &[("authorization", &bearer(&t["order_desk_nested"]))],
    );
    assert_eq!(a.status, 403, "{a:?}");
    assert!(a.header("x-intent-outcome").is_none(), "{a:?}");
    assert!(
        metric(
            &sidecar,
            r#"intent_identity_refusals_total{reason="claim_from_client"} 2"#
        ),
        "the refusals are counted"
    );
}

/// The runtime's unit tests read `runtime/tests/fixtures/trust_plan.json` (they have no
/// compiler): it must be the plan of `tests/serve/trust.intent` as `intent build` writes it
/// today, or a change of the plan format leaves them testing a plan nobody can build.
/// `INTENT_BLESS=1` rewrites it, as it rewrites the golden corpus.
#[test]
fn the_runtime_fixture_is_the_plan_of_trust_intent() {
    let dir = TempDir::new("trust-fixture");
    let built = dir.path().join("plan.json");
    // From the repository's root, so that the source map holds the relative path the
    // fixture has (a rewritten fixture must not hold this machine's paths).
    let out = Command::new(env!("CARGO_BIN_EXE_intent"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "build",
            "tests/serve/trust.intent",
            "-o",
            built.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/runtime/tests/fixtures/trust_plan.json"
    );
    let hash = |path: &Path| -> Value {
        let plan: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        plan["plan_hash"].clone()
    };
    if std::env::var("INTENT_BLESS").is_ok_and(|v| v == "1")
        && hash(&built) != hash(Path::new(fixture))
    {
        std::fs::copy(&built, fixture).unwrap();
        eprintln!("rewrote {fixture}");
    }
    assert_eq!(
        hash(&built),
        hash(Path::new(fixture)),
        "rebuild the fixture: INTENT_BLESS=1 cargo test --test serve_identity the_runtime_fixture \
         (or intent build tests/serve/trust.intent -o {fixture})"
    );
}
