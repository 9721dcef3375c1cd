//! Mutual TLS in front of `intent serve` (docs/identity.md), with certificates made by OpenSSL
//! in the test and curl as the client: a certificate from the mesh's CA naming agent
//! `order_desk` (SPIFFE URI SAN) or `pay_bot` (DNS SAN) decides as that agent; no certificate,
//! a certificate naming an agent the plan lacks or naming none, and a certificate from another
//! CA are refused; a client that names its own caller is refused (400). With a revocation
//! list made by `openssl ca -revoke` and `-gencrl` (`--client-crl`), a revoked certificate
//! fails the handshake while another of the same CA still decides as its agent, a list replaced
//! while the sidecar runs is read again, and a list past its `nextUpdate` refuses every
//! certificate.
//!
//! Needs `openssl` and `curl`: without them the test says SKIPPED, except under `CI=true`,
//! where it fails (`tests/common/tools.rs`; `.ci/run` installs both).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "serve/certs.rs"]
mod certs;
#[path = "serve/support.rs"]
mod support;
#[path = "common/tools.rs"]
mod tools;

use certs::{ca, gencrl, leaf, revoke};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::{Sidecar, TempDir};

const TRUST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/serve/trust.intent");
const DOMAIN: &str = "mesh.test";

fn client_ext(san: &str) -> String {
    format!(
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=clientAuth\nsubjectAltName={san}\n"
    )
}

/// What curl got: the HTTP status (0 when the connection failed), the body and curl's error.
struct Got {
    status: u16,
    body: String,
    error: String,
}

fn curl(dir: &Path, url: &str, client: Option<&str>, headers: &[(&str, &str)]) -> Got {
    let mut c = Command::new("curl");
    c.current_dir(dir)
        .args(["-sS", "--max-time", "10", "--cacert", "ca.pem"])
        .args(["-w", "\n%{http_code}"]);
    if let Some(name) = client {
        c.args([
            "--cert",
            &format!("{name}.pem"),
            "--key",
            &format!("{name}.key"),
        ]);
    }
    for (k, v) in headers {
        c.args(["-H", &format!("{k}: {v}")]);
    }
    let out = c.arg(url).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    Got {
        status: code.trim().parse().unwrap_or(0),
        body: body.to_string(),
        error: String::from_utf8_lossy(&out.stderr).to_string(),
    }
}

fn authz(dir: &Path, base: &str, client: Option<&str>, extra: &[(&str, &str)]) -> Got {
    let mut h = vec![
        ("x-intent-name", "order"),
        ("x-intent-confidence", "0.95"),
        ("x-intent-context", r#"{"channel":"web"}"#),
    ];
    h.extend_from_slice(extra);
    curl(dir, &format!("{base}/v1/authz"), client, &h)
}

/// Asks as `client` and expects `status` with an error that says `why`.
fn refused(dir: &Path, base: &str, client: Option<&str>, status: u16, why: &str) {
    let got = authz(dir, base, client, &[]);
    assert_eq!(got.status, status, "{client:?}: {}", got.body);
    let v: Value = serde_json::from_str(&got.body).unwrap_or(Value::Null);
    let error = v["error"].as_str().unwrap_or_default();
    assert!(error.contains(why), "{client:?}: {}", got.body);
}

#[test]
fn client_certificates_name_the_caller_and_bad_ones_are_refused() {
    let test = "client_certificates_name_the_caller_and_bad_ones_are_refused";
    let install = "apt-get install openssl curl";
    if tools::require_binary(test, "openssl", &[], install).is_none()
        || tools::require_binary(test, "curl", &[], install).is_none()
    {
        return;
    }
    let tmp = TempDir::new("mtls");
    let dir = tmp.path();
    ca(dir, "ca");
    ca(dir, "other_ca");
    leaf(
        dir,
        "ca",
        "server",
        "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
    );
    let spiffe = |agent: &str| client_ext(&format!("URI:spiffe://{DOMAIN}/agent/{agent}"));
    leaf(dir, "ca", "order_desk", &spiffe("order_desk"));
    leaf(
        dir,
        "ca",
        "pay_bot",
        &client_ext(&format!("DNS:pay_bot.{DOMAIN}")),
    );
    leaf(dir, "ca", "stranger", &spiffe("stranger"));
    leaf(
        dir,
        "ca",
        "nobody",
        &client_ext("URI:spiffe://elsewhere.test/agent/order_desk"),
    );
    leaf(
        dir,
        "ca",
        "two",
        &client_ext(&format!(
            "URI:spiffe://{DOMAIN}/agent/order_desk,URI:spiffe://{DOMAIN}/agent/pay_bot"
        )),
    );
    leaf(dir, "other_ca", "forged", &spiffe("order_desk"));
    let log = dir.join("decisions.jsonl");
    let path = |name: &str| -> String { dir.join(name).to_str().unwrap().to_string() };
    let sidecar = Sidecar::start(&[
        TRUST,
        "--tls-cert",
        &path("server.pem"),
        "--tls-key",
        &path("server.key"),
        "--client-ca",
        &path("ca.pem"),
        "--trust-domain",
        DOMAIN,
        "--log",
        log.to_str().unwrap(),
    ]);
    let base = format!("https://{}", sidecar.addr);

    // The mesh's CA, agent order_desk by its SPIFFE ID: decided, as order_desk.
    let ok = authz(dir, &base, Some("order_desk"), &[]);
    assert_eq!(ok.status, 200, "{}", ok.body);
    // Agent pay_bot by a DNS SAN in the trust domain: decided too.
    let ok = authz(dir, &base, Some("pay_bot"), &[]);
    assert_eq!(ok.status, 200, "{}", ok.body);

    // No certificate: 401 with the reason (TLS lets it through so that it can be told why).
    refused(dir, &base, None, 401, "client certificate is required");
    // A certificate naming an agent the plan lacks.
    refused(
        dir,
        &base,
        Some("stranger"),
        403,
        "`stranger` is neither an agent",
    );
    // A certificate naming no agent of this trust domain, and one naming two.
    refused(
        dir,
        &base,
        Some("nobody"),
        403,
        "names no agent of trust domain `mesh.test`",
    );
    refused(dir, &base, Some("two"), 403, "more than one agent");
    // A certificate from another CA never gets past the handshake.
    let got = authz(dir, &base, Some("forged"), &[]);
    assert_eq!(
        got.status, 0,
        "a certificate from another CA was answered: {}",
        got.body
    );
    // A verified client that names its own caller is refused, never merged.
    let got = authz(
        dir,
        &base,
        Some("order_desk"),
        &[("x-intent-caller", "pay_bot")],
    );
    assert_eq!(got.status, 400, "{}", got.body);

    // The decision log says who asked: the agents the certificates named.
    drop(sidecar);
    let callers: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["request"]["caller"]["agent"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(callers, ["order_desk", "pay_bot"], "{}", log.display());
}

/// Certificate revocation lists (`--client-crl`): OpenSSL's CA revokes one of order_desk's
/// certificates and writes its CRL; the revoked certificate fails the handshake (curl reads
/// the `certificate revoked` alert), the same agent's other certificate and pay_bot's, from the
/// same CA, still decide as their agents; a list replaced while the sidecar runs is read again
/// (a newly revoked certificate fails, a file that is no list keeps the old ones); a CRL past
/// its nextUpdate refuses every certificate; a file that holds no CRL stops the sidecar.
#[test]
fn a_revoked_client_certificate_is_refused_at_the_handshake() {
    let test = "a_revoked_client_certificate_is_refused_at_the_handshake";
    let install = "apt-get install openssl curl";
    if tools::require_binary(test, "openssl", &[], install).is_none()
        || tools::require_binary(test, "curl", &[], install).is_none()
    {
        return;
    }
    let tmp = TempDir::new("mtls-crl");
    let dir = tmp.path();
    ca(dir, "ca");
    leaf(
        dir,
        "ca",
        "server",
        "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
    );
    let spiffe = |agent: &str| client_ext(&format!("URI:spiffe://{DOMAIN}/agent/{agent}"));
    leaf(dir, "ca", "order_desk", &spiffe("order_desk"));
    leaf(dir, "ca", "order_desk_lost", &spiffe("order_desk"));
    leaf(dir, "ca", "pay_bot", &spiffe("pay_bot"));
    revoke(dir, "ca", "order_desk_lost");
    gencrl(dir, "ca", "crl.pem", &[]);
    let path = |name: &str| -> String { dir.join(name).to_str().unwrap().to_string() };
    let start = |crl: &str| {
        Sidecar::start(&[
            TRUST,
            "--tls-cert",
            &path("server.pem"),
            "--tls-key",
            &path("server.key"),
            "--client-ca",
            &path("ca.pem"),
            "--trust-domain",
            DOMAIN,
            "--client-crl",
            &path(crl),
        ])
    };
    let sidecar = start("crl.pem");
    let base = format!("https://{}", sidecar.addr);

    let got = authz(dir, &base, Some("order_desk_lost"), &[]);
    assert_eq!(
        got.status, 0,
        "a revoked certificate was answered: {}",
        got.body
    );
    assert!(got.error.contains("revoked"), "curl: {}", got.error);
    for agent in ["order_desk", "pay_bot"] {
        let got = authz(dir, &base, Some(agent), &[]);
        assert_eq!(got.status, 200, "{agent}: {} {}", got.body, got.error);
        let v: Value = serde_json::from_str(&got.body).unwrap();
        assert_eq!(v["outcome"], "dispatch", "{agent}: {v}");
    }
    // Without a certificate: still through TLS, refused by the broker with its reason.
    refused(dir, &base, None, 401, "client certificate is required");

    // The lists are read again while the sidecar runs: pay_bot revoked, the new list put in
    // place (written aside, then renamed over the old), and pay_bot's next connection fails.
    revoke(dir, "ca", "pay_bot");
    gencrl(dir, "ca", "crl.next.pem", &[]);
    std::fs::rename(dir.join("crl.next.pem"), dir.join("crl.pem")).unwrap();
    sidecar.wait_for_stderr("client certificate revocation lists read again");
    let got = authz(dir, &base, Some("pay_bot"), &[]);
    assert_eq!(got.status, 0, "pay_bot, revoked since: {}", got.body);
    let got = authz(dir, &base, Some("order_desk"), &[]);
    assert_eq!(got.status, 200, "{} {}", got.body, got.error);
    // A file that is no CRL any more keeps the lists in force, and says so.
    std::fs::write(dir.join("crl.next.pem"), "not a list\n").unwrap();
    std::fs::rename(dir.join("crl.next.pem"), dir.join("crl.pem")).unwrap();
    sidecar.wait_for_stderr("keeping the old revocation lists");
    assert_eq!(authz(dir, &base, Some("pay_bot"), &[]).status, 0);
    assert_eq!(authz(dir, &base, Some("order_desk_lost"), &[]).status, 0);
    assert_eq!(authz(dir, &base, Some("order_desk"), &[]).status, 200);
    // No TLS session is resumed (a resumed session would skip the revocation check): OpenSSL's
    // client gets no session to resume, or a full handshake when it tries.
    let s_client = |extra: &str| -> String {
        let script = format!(
            "(sleep 1; printf 'GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'; sleep 1) | \
             openssl s_client -connect {} -cert order_desk.pem -key order_desk.key \
             -CAfile ca.pem {extra}",
            sidecar.addr
        );
        let out = Command::new("sh")
            .args(["-c", &script])
            .current_dir(dir)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let first = s_client("-sess_out session.pem");
    assert!(first.lines().any(|l| l.starts_with("New, ")), "{first}");
    if dir.join("session.pem").exists() {
        let second = s_client("-sess_in session.pem");
        assert!(
            !second.lines().any(|l| l.starts_with("Reused, ")),
            "{second}"
        );
    }
    drop(sidecar);

    // A list whose nextUpdate has passed says nothing about today: every certificate fails.
    gencrl(dir, "ca", "stale.pem", &["-crlsec", "1"]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    let sidecar = start("stale.pem");
    let base = format!("https://{}", sidecar.addr);
    let got = authz(dir, &base, Some("order_desk"), &[]);
    assert_eq!(
        got.status, 0,
        "a stale CRL let a certificate through: {}",
        got.body
    );
    drop(sidecar);

    // A file without a CRL stops the sidecar at start, saying so.
    let out = Command::new(env!("CARGO_BIN_EXE_intent"))
        .args(["serve", TRUST, "--addr", "127.0.0.1:0"])
        .args([
            "--tls-cert",
            &path("server.pem"),
            "--tls-key",
            &path("server.key"),
        ])
        .args(["--client-ca", &path("ca.pem"), "--trust-domain", DOMAIN])
        .args(["--client-crl", &path("ca.pem")])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no certificate revocation list"), "{err}");
}
