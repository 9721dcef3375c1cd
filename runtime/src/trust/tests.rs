//! Unit tests of the trust broker's pieces: key sets read within their bounds (symmetric and
//! malformed keys left out), the unknown-kid refetch and its rate limit, delegation tokens
//! minted, verified, rotated and refused, and `establish`'s rules without HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::delegation::{generate, DelegationKeys};
use super::jwks::{Jwks, JwksSource, KeySet, Lookup, MAX_KEYS};
use super::*;
use crate::request::Request;
use std::time::Duration;

fn ed_jwk(kid: &str, x: &str) -> serde_json::Value {
    serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid})
}

const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

#[test]
fn key_sets_keep_only_asymmetric_keys_of_the_right_size() {
    let set = serde_json::json!({"keys": [
        ed_jwk("ed", X),
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
        ed_jwk("short", "AAAA"),
        {"kty": "OKP", "crv": "Ed25519", "x": X},
        {"kty": "OKP", "crv": "Ed25519", "x": X, "kid": "enc", "use": "enc"},
        {"kty": "OKP", "crv": "Ed25519", "x": X, "kid": "pinned-wrong", "alg": "RS256"},
    ]});
    let s = KeySet::parse(set.to_string().as_bytes()).unwrap();
    assert_eq!(s.len(), 1);
    assert!(s.key("ed").is_some());
    assert!(s.key("hmac").is_none());
    assert!(s.key("short").is_none());
}

#[test]
fn key_sets_past_their_bounds_are_refused() {
    let many: Vec<_> = (0..=MAX_KEYS)
        .map(|i| ed_jwk(&format!("k{i}"), X))
        .collect();
    let e = KeySet::parse(serde_json::json!({ "keys": many }).to_string().as_bytes());
    assert!(e.err().unwrap().contains("more than 32"));
    let twice = serde_json::json!({"keys": [ed_jwk("a", X), ed_jwk("a", X)]});
    assert!(KeySet::parse(twice.to_string().as_bytes())
        .err()
        .unwrap()
        .contains("two keys"));
    let big = vec![b' '; jwks::MAX_JWKS_BYTES + 1];
    assert!(KeySet::parse(&big).is_err());
    assert!(KeySet::parse(b"{\"keys\": 3}").is_err());
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("intent-trust-{}-{name}", std::process::id()));
    std::fs::write(&p, text).unwrap();
    p
}

#[tokio::test]
async fn an_unknown_kid_refetches_at_most_every_min_refetch() {
    let one = serde_json::json!({"keys": [ed_jwk("a", X)]}).to_string();
    let two = serde_json::json!({"keys": [ed_jwk("a", X), ed_jwk("b", X)]}).to_string();
    let path = temp_file("refetch", &one);
    let source = JwksSource::File(path.clone());
    let slow = Jwks::load(
        source.clone(),
        None,
        Duration::from_secs(3600),
        Duration::from_secs(3600),
    )
    .await
    .unwrap();
    let eager = Jwks::load(source, None, Duration::from_secs(3600), Duration::ZERO)
        .await
        .unwrap();
    std::fs::write(&path, &two).unwrap();
    // Fetched just now: the rate limit holds the unknown kid off.
    assert!(matches!(slow.lookup("b").await, Lookup::Unknown));
    // Without the limit, the unknown kid reads the set again and finds the key.
    assert!(matches!(eager.lookup("b").await, Lookup::Found(_)));
    // A set that cannot be read keeps the old keys.
    std::fs::write(&path, "not json").unwrap();
    assert!(matches!(eager.lookup("c").await, Lookup::Unknown));
    assert!(matches!(eager.lookup("b").await, Lookup::Found(_)));
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_ca_is_only_for_an_https_key_set() {
    let path = temp_file(
        "ca-for-file",
        &serde_json::json!({"keys": [ed_jwk("a", X)]}).to_string(),
    );
    let ca = std::path::Path::new("/etc/intent/ca.pem");
    let e = Jwks::load(
        JwksSource::File(path.clone()),
        Some(ca),
        Duration::from_secs(60),
        Duration::from_secs(10),
    )
    .await
    .err()
    .unwrap();
    assert!(e.contains("a CA is for an https:// key set"), "{e}");
    let _ = std::fs::remove_file(&path);
}

fn keys(ttl: Duration) -> (DelegationKeys, String) {
    let (private, public, _) = generate().unwrap();
    let k = DelegationKeys::new("test".into(), private.as_bytes(), &[], ttl).unwrap();
    (k, public)
}

fn claims(k: &DelegationKeys, sub: &str) -> delegation::DelegationClaims {
    k.claims(
        sub,
        "pay",
        vec!["order".into(), "pay".into()],
        "dispatch",
        vec!["financial".into()],
        "1-1".into(),
        "abc",
    )
}

#[test]
fn delegation_tokens_round_trip_and_rotate() {
    let (old, old_public) = keys(Duration::from_secs(60));
    let t = old.mint(&claims(&old, "pay_bot")).unwrap();
    let c = old.verify(&t).unwrap();
    assert_eq!(c.sub, "pay_bot");
    assert_eq!(c.lineage, ["order", "pay"]);
    assert_eq!(c.exp - c.iat, 60);
    // A new signing key with the old public key: old tokens verify, new ones are signed anew.
    let (private, _, _) = generate().unwrap();
    let new = DelegationKeys::new(
        "test".into(),
        private.as_bytes(),
        &[old_public.into_bytes()],
        Duration::from_secs(60),
    )
    .unwrap();
    assert_eq!(new.verify(&t).unwrap().sub, "pay_bot");
    assert_ne!(new.kid(), old.kid());
    let jwks: serde_json::Value = serde_json::from_str(&new.jwks_json()).unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    // The old sidecar does not know the new key.
    let t2 = new.mint(&claims(&new, "pay_bot")).unwrap();
    assert_eq!(old.verify(&t2).unwrap_err().reason, "unknown_kid");
}

#[test]
fn bad_delegation_tokens_are_refused() {
    let (k, _) = keys(Duration::from_secs(60));
    let t = k.mint(&claims(&k, "pay_bot")).unwrap();
    // A changed payload breaks the signature.
    let mut parts: Vec<&str> = t.split('.').collect();
    let forged_claims = {
        let mut c = claims(&k, "refund_bot");
        c.lineage.clear();
        c
    };
    let forged = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        serde_json::to_vec(&forged_claims).unwrap(),
    );
    parts[1] = &forged;
    assert_eq!(
        k.verify(&parts.join(".")).unwrap_err().reason,
        "bad_signature"
    );
    assert_eq!(k.verify("not a token").unwrap_err().reason, "malformed");
    assert_eq!(
        k.verify(&"a".repeat(MAX_TOKEN_BYTES + 1))
            .unwrap_err()
            .reason,
        "too_large"
    );
    // Expired beyond the leeway.
    let mut old = claims(&k, "pay_bot");
    old.exp = old.iat - 60;
    assert_eq!(
        k.verify(&k.mint(&old).unwrap()).unwrap_err().reason,
        "expired"
    );
    // Another issuer's token, with the same key.
    let mut other = claims(&k, "pay_bot");
    other.iss = "elsewhere".into();
    assert_eq!(
        k.verify(&k.mint(&other).unwrap()).unwrap_err().reason,
        "wrong_issuer"
    );
}

#[test]
fn key_files_are_checked() {
    let (_, public, _) = generate().unwrap();
    let e = DelegationKeys::new("t".into(), public.as_bytes(), &[], Duration::from_secs(1));
    assert!(e.is_err(), "a public key cannot sign");
    let (private, _, _) = generate().unwrap();
    let e = DelegationKeys::new(
        "t".into(),
        private.as_bytes(),
        &[b"garbage".to_vec()],
        Duration::from_secs(1),
    );
    assert!(e.is_err());
    let e = DelegationKeys::new("t".into(), private.as_bytes(), &[], Duration::ZERO);
    assert!(e.is_err());
}

/// The plan of tests/serve/trust.intent (`intent build`), so the runtime's tests need no compiler.
fn engine() -> Engine {
    Engine::from_json(include_str!("../../tests/fixtures/trust_plan.json")).unwrap()
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            http::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

#[tokio::test]
async fn establish_takes_the_caller_from_the_token_and_mints_for_each_step() {
    let (k, _) = keys(Duration::from_secs(60));
    let trust = Trust::load(TrustConfig {
        delegation: Some(Arc::new(k)),
        ..TrustConfig::default()
    })
    .await
    .unwrap();
    let e = engine();
    // No token, no identity: the client's word (as without a broker).
    assert_eq!(
        trust.establish(&headers(&[]), None, &e, true).await,
        Ok(None)
    );
    let d = e.decide(&Request::for_intent("order", 0.95).with("channel", "web".into()));
    let minted = trust.mint(&e, &d, &[]);
    assert_eq!(minted.len(), 1);
    assert_eq!(&*minted[0].agent, "order_desk");
    let h = headers(&[(TOKEN_HEADER, &minted[0].token)]);
    let caller = trust.establish(&h, None, &e, false).await.unwrap().unwrap();
    assert_eq!(caller.agent.as_deref(), Some("order_desk"));
    assert_eq!(caller.lineage, ["order"]);
    // With a token, the client's own caller or lineage is refused.
    let r = trust.establish(&h, None, &e, true).await.unwrap_err();
    assert_eq!(
        (r.status, r.reason),
        (StatusCode::BAD_REQUEST, "caller_from_client")
    );
    // A decision that hands out nothing mints nothing.
    let denied = e.decide(&Request::for_intent("nope", 0.95));
    assert!(trust.mint(&e, &denied, &[]).is_empty());
}

/// Minting signs with the parsed key directly; Ed25519 signatures are deterministic, so the
/// token must be byte for byte the one jsonwebtoken's own `encode` makes of the same claims.
#[test]
fn minted_tokens_are_what_jsonwebtoken_encodes() {
    let (private, _, kid) = generate().unwrap();
    let k = DelegationKeys::new(
        "intent".into(),
        private.as_bytes(),
        &[],
        Duration::from_secs(60),
    )
    .unwrap();
    let c = claims(&k, "order_desk");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(kid);
    let key = jsonwebtoken::EncodingKey::from_ed_pem(private.as_bytes()).unwrap();
    let theirs = jsonwebtoken::encode(&header, &c, &key).unwrap();
    assert_eq!(k.mint(&c).unwrap(), theirs);
}

/// A delegation token is verified once and remembered (by its SHA-256) until it expires: the
/// memory answers as verification would at every instant, so a remembered token is refused as
/// expired once `exp` plus the leeway has passed.
#[test]
fn a_remembered_delegation_token_still_expires() {
    let (k, _) = keys(Duration::from_secs(60));
    let c = claims(&k, "pay_bot");
    let t = k.mint(&c).unwrap();
    assert_eq!(k.remembered(), 0);
    assert_eq!(k.verify_at(&t, c.iat).unwrap().sub, "pay_bot");
    assert_eq!(k.remembered(), 1, "verified once, remembered");
    let last = c.exp + delegation::LEEWAY_S;
    assert_eq!(k.verify_at(&t, last).unwrap().lineage, ["order", "pay"]);
    assert_eq!(k.remembered(), 1);
    assert_eq!(k.verify_at(&t, last + 1).unwrap_err().reason, "expired");
    // Expired tokens are never remembered.
    let mut old = claims(&k, "pay_bot");
    old.exp = old.iat;
    let t = k.mint(&old).unwrap();
    assert!(k.verify_at(&t, old.exp + delegation::LEEWAY_S + 1).is_err());
    assert_eq!(k.remembered(), 1);
}

/// The memory belongs to the keys: a sidecar rotated to a new signing key without the old public
/// key refuses a token the old keys verified and remembered; a refused token is not remembered.
#[test]
fn a_remembered_delegation_token_does_not_outlive_its_key() {
    let (old, _) = keys(Duration::from_secs(60));
    let t = old.mint(&claims(&old, "pay_bot")).unwrap();
    old.verify(&t).unwrap();
    old.verify(&t).unwrap();
    assert_eq!(old.remembered(), 1);
    let (private, _, _) = generate().unwrap();
    let new = DelegationKeys::new(
        "test".into(),
        private.as_bytes(),
        &[],
        Duration::from_secs(60),
    )
    .unwrap();
    assert_eq!(new.verify(&t).unwrap_err().reason, "unknown_kid");
    assert_eq!(new.verify(&t).unwrap_err().reason, "unknown_kid");
    assert_eq!(new.remembered(), 0);
}

/// The memory holds at most `MAX_REMEMBERED` tokens, whatever is presented.
#[test]
fn remembered_delegation_tokens_are_bounded() {
    let (k, _) = keys(Duration::from_secs(60));
    for i in 0..delegation::MAX_REMEMBERED + 10 {
        let mut c = claims(&k, "pay_bot");
        c.decision_id = format!("1-{i}");
        k.verify(&k.mint(&c).unwrap()).unwrap();
        assert!(k.remembered() <= delegation::MAX_REMEMBERED);
    }
}

/// A remembered token is still bound to its subject: presented on a connection whose verified
/// certificate names another agent, it is refused (403 `token_subject`), before and after it
/// was remembered.
#[tokio::test]
async fn a_remembered_delegation_token_presented_by_another_agent_is_refused() {
    let (k, _) = keys(Duration::from_secs(60));
    let trust = Trust::load(TrustConfig {
        delegation: Some(Arc::new(k)),
        client_certificates: true,
        ..TrustConfig::default()
    })
    .await
    .unwrap();
    let e = engine();
    let d = e.decide(&Request::for_intent("order", 0.95).with("channel", "web".into()));
    let token = trust.mint(&e, &d, &[]).remove(0).token;
    let h = headers(&[(TOKEN_HEADER, &token)]);
    let thief = PeerCert::Agent("pay_bot".into());
    let owner = PeerCert::Agent("order_desk".into());
    let r = trust
        .establish(&h, Some(&thief), &e, false)
        .await
        .unwrap_err();
    assert_eq!(
        (r.status, r.reason),
        (StatusCode::FORBIDDEN, "token_subject")
    );
    for _ in 0..2 {
        let caller = trust
            .establish(&h, Some(&owner), &e, false)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(caller.agent.as_deref(), Some("order_desk"));
        assert_eq!(caller.lineage, ["order"]);
    }
    assert_eq!(trust.delegation().unwrap().remembered(), 1);
    let r = trust
        .establish(&h, Some(&thief), &e, false)
        .await
        .unwrap_err();
    assert_eq!(
        (r.status, r.reason),
        (StatusCode::FORBIDDEN, "token_subject")
    );
}

/// How delegation tokens were verified before the keys were parsed once: `jsonwebtoken`'s
/// `decode`, which builds the verifying key from the JWK for every token. The reference the
/// sidecar's verification must agree with, reason for reason.
fn verify_with_jsonwebtoken(
    k: &DelegationKeys,
    token: &str,
) -> Result<delegation::DelegationClaims, &'static str> {
    use jsonwebtoken::errors::ErrorKind;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    if token.len() > MAX_TOKEN_BYTES {
        return Err("too_large");
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| "malformed")?;
    if header.alg != Algorithm::EdDSA {
        return Err("wrong_alg");
    }
    let kid = header.kid.unwrap_or_default();
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&k.jwks_json()).unwrap();
    let Some(jwk) = set.find(&kid) else {
        return Err("unknown_kid");
    };
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut v = Validation::new(Algorithm::EdDSA);
    v.leeway = delegation::LEEWAY_S;
    v.set_issuer(&[k.issuer()]);
    v.set_audience(&[delegation::AUDIENCE]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<delegation::DelegationClaims>(token, &key, &v)
        .map(|d| d.claims)
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => "expired",
            ErrorKind::InvalidSignature => "bad_signature",
            ErrorKind::InvalidIssuer => "wrong_issuer",
            ErrorKind::InvalidAudience => "wrong_audience",
            _ => "malformed",
        })
}

fn same_as_jsonwebtoken(k: &DelegationKeys, token: &str) {
    let ours = k.verify_uncached(token).map_err(|r| r.reason);
    assert_eq!(ours, verify_with_jsonwebtoken(k, token), "{token}");
}

/// A token with any header and claims, signed with `private` (PKCS#8 PEM) by jsonwebtoken.
fn signed(private: &str, header: serde_json::Value, claims: serde_json::Value) -> String {
    use base64::Engine as _;
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    let message = format!("{}.{}", b64(&header), b64(&claims));
    let key = jsonwebtoken::EncodingKey::from_ed_pem(private.as_bytes()).unwrap();
    let sig = jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::EdDSA)
        .unwrap();
    format!("{message}.{sig}")
}

/// Verifying with the keys parsed once answers exactly what jsonwebtoken's `decode` answers:
/// the same claims for a good token, the same reason for every bad one (headers with `crit` or
/// `b64`, other algorithms, unknown or missing kids, tampered parts, claims missing, of the
/// wrong type or out of date).
#[test]
fn parsed_key_verification_answers_as_jsonwebtoken() {
    let (private, _, kid) = generate().unwrap();
    let k = DelegationKeys::new(
        "test".into(),
        private.as_bytes(),
        &[],
        Duration::from_secs(60),
    )
    .unwrap();
    let now = jsonwebtoken::get_current_timestamp();
    let good = serde_json::to_value(claims(&k, "pay_bot")).unwrap();
    let with = |key: &str, v: serde_json::Value| {
        let mut c = good.clone();
        c[key] = v;
        c
    };
    let without = |key: &str| {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(key);
        c
    };
    let h = serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": kid});
    let h_with = |key: &str, v: serde_json::Value| {
        let mut x = h.clone();
        x[key] = v;
        x
    };
    let mut tokens = vec![
        k.mint(&claims(&k, "pay_bot")).unwrap(),
        signed(&private, h.clone(), good.clone()),
        signed(&private, h.clone(), with("exp", (now - 2).into())),
        signed(&private, h.clone(), with("exp", (now - 600).into())),
        signed(&private, h.clone(), with("exp", "soon".into())),
        signed(&private, h.clone(), with("iss", "elsewhere".into())),
        signed(&private, h.clone(), with("aud", "another".into())),
        signed(
            &private,
            h.clone(),
            with("aud", serde_json::json!(["intent-delegation"])),
        ),
        signed(&private, h.clone(), with("sub", 7.into())),
        signed(&private, h.clone(), with("extra", true.into())),
        signed(&private, h.clone(), without("exp")),
        signed(&private, h.clone(), without("aud")),
        signed(&private, h.clone(), serde_json::json!([1, 2])),
        signed(&private, h_with("kid", "nope".into()), good.clone()),
        signed(&private, h_with("alg", "ES256".into()), good.clone()),
        signed(&private, h_with("alg", "none".into()), good.clone()),
        signed(&private, h_with("b64", false.into()), good.clone()),
        signed(&private, h_with("b64", true.into()), good.clone()),
        signed(&private, h_with("b64", "yes".into()), good.clone()),
        signed(
            &private,
            h_with("crit", serde_json::json!(["b64"])),
            good.clone(),
        ),
        signed(
            &private,
            h_with("crit", serde_json::json!(["exp"])),
            good.clone(),
        ),
        signed(
            &private,
            h_with("crit", serde_json::json!([])),
            good.clone(),
        ),
        "".into(),
        "a.b.c".into(),
        "..".into(),
        "a.b.c.d".into(),
    ];
    let b64_crit = {
        let mut x = h_with("crit", serde_json::json!(["b64"]));
        x["b64"] = true.into();
        x
    };
    tokens.push(signed(&private, b64_crit, good.clone()));
    let (other, _, _) = generate().unwrap();
    tokens.push(signed(&other, h.clone(), good.clone()));
    let t = tokens[0].clone();
    tokens.push(format!("{t}."));
    tokens.push(format!("{t}=="));
    tokens.push(t[..t.len() - 2].to_string());
    tokens.push(format!("{}.{}", t, "A"));
    for token in &tokens {
        same_as_jsonwebtoken(&k, token);
    }
    assert!(k.verify_uncached(&tokens[0]).is_ok());
    assert_eq!(
        k.verify_uncached(&tokens[0]).unwrap(),
        verify_with_jsonwebtoken(&k, &tokens[0]).unwrap()
    );
}

proptest::proptest! {
    /// Any one character of a good token changed (or a dot put in): the same answer as
    /// jsonwebtoken's `decode`.
    #[test]
    fn changed_tokens_are_answered_as_jsonwebtoken_answers(at in 0usize..400, c in proptest::sample::select(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/".chars().collect::<Vec<_>>()
    )) {
        let (k, _) = keys(Duration::from_secs(60));
        let t = k.mint(&claims(&k, "pay_bot")).unwrap();
        let at = at % t.len();
        let mut changed: Vec<char> = t.chars().collect();
        changed[at] = c;
        let changed: String = changed.into_iter().collect();
        same_as_jsonwebtoken(&k, &changed);
    }
}
