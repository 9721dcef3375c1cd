//! Signed plan bundles (feature `bundle`; docs/deployment.md, "Signed plan bundles"): a plan
//! as `intent build` wrote it, with an Ed25519 signature and the id of the key that made it,
//! in one small JSON document. `intent build --bundle` signs, `intent serve --bundle-url`
//! verifies before it loads anything. Pure: no IO, the callers read files and fetch URLs.
//!
//! ```json
//! {"format": "intent-bundle/1", "key_id": "ed25519:…", "plan_hash": "…",
//!  "plan": "<base64 of the plan file's bytes>", "signature": "<base64 of 64 bytes>"}
//! ```
//!
//! The signature covers `intent-bundle/1\n` followed by the plan's bytes, exactly as they are
//! carried (base64 keeps them byte for byte): the prefix keeps a key that also signs other
//! things (tokens, say) from having signed a bundle by accident, and plain bytes keep the
//! signature checkable by any Ed25519 tool (`openssl pkeyutl -sign -rawin`). The key id and
//! the envelope's `plan_hash` are not signed: the id only names the key in messages, and the
//! envelope's hash must equal the signed plan's own (the engine then recomputes that one from
//! the plan's content).
//!
//! Keys are what `openssl genpkey -algorithm ed25519` writes: a PKCS#8 PEM private key, and
//! its SPKI PEM public key (`openssl pkey -pubout`).

use crate::plan::Plan;
use base64ct::{Base64, Encoding};
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `format` of a bundle this runtime reads and writes.
pub const FORMAT: &str = "intent-bundle/1";

/// What a signature covers, before the plan's bytes.
pub const SIGNED_PREFIX: &[u8] = b"intent-bundle/1\n";

/// The default bound on a bundle's size in bytes (`intent serve --bundle-max-bytes`).
pub const DEFAULT_MAX_BUNDLE: usize = 16 * 1024 * 1024;

/// The largest bound a sidecar may be given: a bundle is held in memory whole, twice (the
/// envelope and the decoded plan), while it is checked.
pub const MAX_BUNDLE_LIMIT: usize = 256 * 1024 * 1024;

/// The JSON envelope, as read and written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    format: String,
    key_id: String,
    plan_hash: String,
    plan: String,
    /// `None` (or empty) is an unsigned bundle, refused with its own message.
    #[serde(default)]
    signature: Option<String>,
}

/// A bundle whose signature was checked with the trusted key.
#[derive(Debug)]
pub struct Verified {
    pub plan: Plan,
    /// The key id the bundle names.
    pub key_id: String,
    pub plan_hash: String,
}

/// The message a signature covers: the prefix, then the plan's bytes.
pub fn signed_message(plan: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNED_PREFIX.len() + plan.len());
    m.extend_from_slice(SIGNED_PREFIX);
    m.extend_from_slice(plan);
    m
}

/// A private key from PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
pub fn signing_key(pem: &str) -> Result<SigningKey, String> {
    SigningKey::from_pkcs8_pem(pem.trim()).map_err(|e| {
        format!("not an Ed25519 private key in PKCS#8 PEM ({e}); openssl genpkey -algorithm ed25519 writes one")
    })
}

/// A public key from SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
pub fn verifying_key(pem: &str) -> Result<VerifyingKey, String> {
    VerifyingKey::from_public_key_pem(pem.trim()).map_err(|e| {
        format!("not an Ed25519 public key in SPKI PEM ({e}); openssl pkey -pubout writes one")
    })
}

/// The default id of a key: `ed25519:` and the first 16 hex digits of the SHA-256 of its
/// public key's SPKI DER (what `openssl pkey -pubout -outform DER | sha256sum` hashes).
pub fn key_id(key: &VerifyingKey) -> String {
    let der = key.to_public_key_der().map(|d| d.as_bytes().to_vec());
    let digest = Sha256::digest(der.unwrap_or_else(|_| key.as_bytes().to_vec()));
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("ed25519:{hex}")
}

/// The bundle of `plan` (a plan file's bytes, whose own `plan_hash` is `plan_hash`), signed
/// with `key` and naming `key_id`, as JSON text.
pub fn sign(plan: &[u8], plan_hash: &str, key: &SigningKey, key_id: &str) -> String {
    let signature = key.sign(&signed_message(plan));
    let envelope = Envelope {
        format: FORMAT.to_string(),
        key_id: key_id.to_string(),
        plan_hash: plan_hash.to_string(),
        plan: Base64::encode_string(plan),
        signature: Some(Base64::encode_string(&signature.to_bytes())),
    };
    // An envelope of strings always serialises.
    serde_json::to_string_pretty(&envelope).unwrap_or_default() + "\n"
}

/// A bundle whose signature checked, its plan not read yet.
#[derive(Debug, PartialEq, Eq)]
pub struct Opened {
    /// The plan's bytes, exactly as signed.
    pub plan: Vec<u8>,
    pub key_id: String,
    pub plan_hash: String,
}

/// Checks `bytes` as a bundle signed by `key` and reads its plan. Refuses, saying why, what
/// [`open`] refuses, a plan that does not read, and an envelope whose `plan_hash` is not the
/// plan's.
pub fn verify(bytes: &[u8], key: &VerifyingKey, max: usize) -> Result<Verified, String> {
    let opened = open(bytes, key, max)?;
    let plan: Plan = serde_json::from_slice(&opened.plan)
        .map_err(|err| format!("the signed plan is not a routing plan: {err}"))?;
    if plan.plan_hash != opened.plan_hash {
        return Err(format!(
            "the bundle says plan_hash {} but its signed plan says {}",
            crate::limits::echo(&opened.plan_hash),
            plan.plan_hash
        ));
    }
    Ok(Verified {
        plan_hash: opened.plan_hash,
        key_id: opened.key_id,
        plan,
    })
}

/// Checks `bytes` as a bundle signed by `key`. Refuses, saying why, a bundle larger than `max`
/// bytes, anything that is not a bundle of this format, an unsigned one, and a signature that
/// is not `key`'s over this plan.
pub fn open(bytes: &[u8], key: &VerifyingKey, max: usize) -> Result<Opened, String> {
    if bytes.len() > max {
        return Err(format!(
            "the bundle has {} bytes, over the limit of {max} (--bundle-max-bytes)",
            bytes.len()
        ));
    }
    let e: Envelope =
        serde_json::from_slice(bytes).map_err(|e| format!("not a plan bundle ({FORMAT}): {e}"))?;
    if e.format != FORMAT {
        return Err(format!(
            "unknown bundle format `{}`; this sidecar reads {FORMAT}",
            crate::limits::echo(&e.format)
        ));
    }
    let signature = match e.signature.as_deref() {
        None | Some("") => return Err("the bundle is not signed".to_string()),
        Some(s) => s,
    };
    let signature = Base64::decode_vec(signature.trim())
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or("the bundle's signature is not 64 bytes of base64")?;
    let plan = Base64::decode_vec(e.plan.trim())
        .map_err(|err| format!("the bundle's plan is not base64: {err}"))?;
    key.verify_strict(&signed_message(&plan), &signature)
        .map_err(|_| {
            format!(
                "bad signature: the bundle (key id `{}`) is not signed by the trusted key ({})",
                crate::limits::echo(&e.key_id),
                key_id(key)
            )
        })?;
    Ok(Opened {
        plan,
        key_id: e.key_id,
        plan_hash: e.plan_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // A throwaway test key (never used for anything else), as openssl genpkey writes it.
    const PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIAKcTu0b0B8u8e3aYKZ5SQ6cIwnDjFkhNSLANhRadNxL
-----END PRIVATE KEY-----";

    fn plan_bytes() -> Vec<u8> {
        br#"{"plan_hash": "abc"}"#.to_vec()
    }

    fn keys() -> (SigningKey, VerifyingKey) {
        let Ok(k) = signing_key(PRIVATE) else {
            unreachable!("the test key reads")
        };
        let v = k.verifying_key();
        (k, v)
    }

    #[test]
    fn a_key_reads_back_from_pem_and_has_a_stable_id() {
        let (_, v) = keys();
        let id = key_id(&v);
        assert!(id.starts_with("ed25519:") && id.len() == 24, "{id}");
        assert!(signing_key("-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----").is_err());
        assert!(verifying_key(PRIVATE).is_err());
    }

    #[test]
    fn what_is_refused_and_why() {
        let (k, v) = keys();
        let plan = plan_bytes();
        let good = sign(&plan, "abc", &k, "ops");
        assert_eq!(
            open(good.as_bytes(), &v, DEFAULT_MAX_BUNDLE),
            Ok(Opened {
                plan: plan.clone(),
                key_id: "ops".into(),
                plan_hash: "abc".into()
            })
        );
        let mut env: serde_json::Value = serde_json::from_str(&good).unwrap_or_default();
        let refused = |env: &serde_json::Value| {
            open(env.to_string().as_bytes(), &v, DEFAULT_MAX_BUNDLE)
                .err()
                .unwrap_or_default()
        };
        // Another plan under the same signature.
        let mut other = env.clone();
        other["plan"] = Base64::encode_string(b"{}").into();
        assert!(
            refused(&other).starts_with("bad signature"),
            "{}",
            refused(&other)
        );
        // Signed by another key.
        let stranger = SigningKey::from_bytes(&[7; 32]);
        let theirs: serde_json::Value =
            serde_json::from_str(&sign(&plan, "abc", &stranger, "x")).unwrap_or_default();
        assert!(
            refused(&theirs).contains("key id `x`"),
            "{}",
            refused(&theirs)
        );
        // Unsigned, two ways.
        env["signature"] = "".into();
        assert_eq!(refused(&env), "the bundle is not signed");
        if let Some(o) = env.as_object_mut() {
            o.remove("signature");
        }
        assert_eq!(refused(&env), "the bundle is not signed");
        // Not a bundle at all (a bare plan), and too large.
        assert!(open(&plan, &v, DEFAULT_MAX_BUNDLE)
            .err()
            .unwrap_or_default()
            .starts_with("not a plan bundle"));
        assert!(open(good.as_bytes(), &v, 10)
            .err()
            .unwrap_or_default()
            .contains("over the limit of 10"));
    }
}
