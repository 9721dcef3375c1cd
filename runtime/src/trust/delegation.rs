//! Delegation tokens: the sidecar's own short-lived JWTs (EdDSA over Ed25519, so any JWT library
//! verifies them from `/.well-known/jwks.json`). Each filled step of a `dispatch` or `plan` gets
//! one naming the step's agent (`sub`), the intent, the lineage it serves (outermost first, the
//! intent last), the data classes the step handles, the decision and the plan. The agent shows
//! it on the requests it raises while serving the step, and the sidecar takes the caller and
//! the lineage from it, not from the client.
//!
//! Keys: one signing key (a PKCS#8 PEM, as `intent keys generate` writes and OpenSSL reads) and
//! any number of older public keys that still verify (rotation); each key's id is its RFC 7638
//! thumbprint, so it needs no name of its own.
//!
//! Verification is done once per token: a token that verified is remembered by its SHA-256
//! until it expires (at most [`MAX_REMEMBERED`]), as bearer tokens are (`jwt.rs`), so an agent
//! raising several sub-requests for one step pays one signature check. The memory belongs to
//! the keys: a sidecar started with other keys (rotation) remembers nothing of the old ones.
//! The signature is checked with each public key parsed once (`jsonwebtoken`'s `decode`
//! decompresses the key's curve point again for every token), then the claims as `decode`
//! checks them (`tests.rs` compares the two on every kind of token).

use super::{Refusal, MAX_TOKEN_BYTES};
use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{decode_header, Algorithm, DecodingKey, EncodingKey};
use jsonwebtoken::{get_current_timestamp, Header};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The most keys (signing and verifying) one sidecar holds.
pub const MAX_KEYS: usize = 16;
/// The clock skew allowed on a delegation token's `exp`, in seconds.
pub const LEEWAY_S: u64 = 5;
/// The default lifetime of a delegation token.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);
/// The `aud` of every delegation token: the sidecars of the mesh.
pub const AUDIENCE: &str = "intent-delegation";
/// The most verified delegation tokens remembered (then the expired ones are forgotten, and if
/// that is not enough, all).
pub const MAX_REMEMBERED: usize = 4096;

/// What a delegation token says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DelegationClaims {
    pub iss: String,
    pub aud: String,
    /// The agent the step was given to.
    pub sub: String,
    /// The intent the step serves.
    pub intent: String,
    /// The intents being served, outermost first; the last is `intent`.
    pub lineage: Vec<String>,
    /// The step's name.
    pub step: String,
    /// The data classes the step handles.
    pub data: Vec<String>,
    pub decision_id: String,
    pub plan_hash: String,
    pub iat: u64,
    pub exp: u64,
}

struct PublicKey {
    kid: String,
    /// Parsed once (a decompressed curve point): what signatures are checked with.
    key: ed25519_dalek::VerifyingKey,
    jwk: Jwk,
}

/// The sidecar's delegation keys: one to sign with, every one to verify with.
pub struct DelegationKeys {
    issuer: String,
    ttl: Duration,
    /// The signing key, parsed once: minting signs with it directly (jsonwebtoken's `encode`
    /// parses the PKCS#8 key and derives its public half again on every call).
    signer: ed25519_dalek::SigningKey,
    /// The token header (`typ`, `alg`, `kid`), base64url, the same for every token.
    header_b64: String,
    signing_kid: String,
    /// The signing key's public half first, then the older keys.
    public: Vec<PublicKey>,
    /// Tokens verified with these keys, by SHA-256, until they expire.
    verified: Mutex<HashMap<[u8; 32], Arc<DelegationClaims>>>,
}

impl std::fmt::Debug for DelegationKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelegationKeys")
            .field("issuer", &self.issuer)
            .field("kid", &self.signing_kid)
            .field("keys", &self.public.len())
            .finish()
    }
}

/// The PKCS#8 prefix of an Ed25519 private key (RFC 8410): the 32-byte seed follows.
const PKCS8_ED25519: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// The SubjectPublicKeyInfo prefix of an Ed25519 public key: the 32-byte key follows.
const SPKI_ED25519: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A new Ed25519 key pair, as PEM: (private PKCS#8, public SubjectPublicKeyInfo), and its key id.
pub fn generate() -> Result<(String, String, String), String> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("no randomness for a key: {e}"))?;
    let mut der = PKCS8_ED25519.to_vec();
    der.extend_from_slice(&seed);
    let private = pem("PRIVATE KEY", &der);
    let enc = EncodingKey::from_ed_der(&der);
    let jwk = Jwk::from_encoding_key(&enc, Algorithm::EdDSA)
        .map_err(|e| format!("cannot derive the public key: {e}"))?;
    let x = match &jwk.algorithm {
        jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(p) => {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&p.x)
                .map_err(|e| format!("cannot derive the public key: {e}"))?
        }
        _ => return Err("cannot derive the public key".into()),
    };
    let mut spki = SPKI_ED25519.to_vec();
    spki.extend_from_slice(&x);
    let kid = thumbprint(&jwk)?;
    Ok((private, pem("PUBLIC KEY", &spki), kid))
}

fn thumbprint(jwk: &Jwk) -> Result<String, String> {
    jwk.thumbprint(ThumbprintHash::SHA256)
        .map_err(|e| format!("cannot compute the key id: {e}"))
}

/// A public key (PEM) as a verifying key with its JWK and key id.
fn public_key(pem: &[u8]) -> Result<PublicKey, String> {
    let key = DecodingKey::from_ed_pem(pem)
        .map_err(|e| format!("not an Ed25519 public key (PEM): {e}"))?;
    let bytes: [u8; 32] = key
        .try_get_as_bytes()
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("not an Ed25519 public key (PEM): the key is not 32 bytes")?;
    let parsed = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map_err(|e| format!("not an Ed25519 public key: {e}"))?;
    let mut jwk = Jwk::from_decoding_key(&key, Some(Algorithm::EdDSA))
        .map_err(|e| format!("not an Ed25519 public key: {e}"))?;
    let kid = thumbprint(&jwk)?;
    jwk.common.key_id = Some(kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_algorithm = Some(KeyAlgorithm::EdDSA);
    Ok(PublicKey {
        kid,
        key: parsed,
        jwk,
    })
}

impl DelegationKeys {
    /// Keys from PEM text: the private signing key, and older public keys that still verify.
    pub fn new(
        issuer: String,
        signing_pem: &[u8],
        older_pems: &[Vec<u8>],
        ttl: Duration,
    ) -> Result<DelegationKeys, String> {
        if older_pems.len() + 1 > MAX_KEYS {
            return Err(format!(
                "{} keys; a sidecar holds at most {MAX_KEYS}",
                older_pems.len() + 1
            ));
        }
        if ttl.is_zero() || ttl > Duration::from_secs(24 * 3600) {
            return Err("the token lifetime must be from 1 s to 24 h".into());
        }
        let signing = EncodingKey::from_ed_pem(signing_pem)
            .map_err(|e| format!("not an Ed25519 private key (PKCS#8 PEM): {e}"))?;
        let jwk = Jwk::from_encoding_key(&signing, Algorithm::EdDSA)
            .map_err(|e| format!("not an Ed25519 private key: {e}"))?;
        let x = match &jwk.algorithm {
            jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(p) => p.x.clone(),
            _ => return Err("not an Ed25519 private key".into()),
        };
        let own = DecodingKey::from_ed_components(&x)
            .map_err(|e| format!("not an Ed25519 private key: {e}"))?;
        let mut own_jwk = Jwk::from_decoding_key(&own, Some(Algorithm::EdDSA))
            .map_err(|e| format!("not an Ed25519 private key: {e}"))?;
        let signing_kid = thumbprint(&own_jwk)?;
        own_jwk.common.key_id = Some(signing_kid.clone());
        own_jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        own_jwk.common.key_algorithm = Some(KeyAlgorithm::EdDSA);
        let signer = {
            use ed25519_dalek::pkcs8::DecodePrivateKey;
            let text = std::str::from_utf8(signing_pem)
                .map_err(|_| "not an Ed25519 private key (PKCS#8 PEM): not text".to_string())?;
            ed25519_dalek::SigningKey::from_pkcs8_pem(text)
                .map_err(|e| format!("not an Ed25519 private key (PKCS#8 PEM): {e}"))?
        };
        let mut public = vec![PublicKey {
            kid: signing_kid.clone(),
            key: signer.verifying_key(),
            jwk: own_jwk,
        }];
        for p in older_pems {
            let k = public_key(p)?;
            if !public.iter().any(|q| q.kid == k.kid) {
                public.push(k);
            }
        }
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(signing_kid.clone());
        let header = serde_json::to_vec(&header)
            .map_err(|e| format!("cannot write the token header: {e}"))?;
        Ok(DelegationKeys {
            issuer,
            ttl,
            signer,
            header_b64: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header),
            signing_kid,
            public,
            verified: Mutex::new(HashMap::new()),
        })
    }

    /// The key id tokens are signed with now.
    pub fn kid(&self) -> &str {
        &self.signing_kid
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The public keys as a JWKS document (`/.well-known/jwks.json`).
    pub fn jwks_json(&self) -> String {
        let set = JwkSet {
            keys: self.public.iter().map(|k| k.jwk.clone()).collect(),
        };
        serde_json::to_string(&set).unwrap_or_else(|_| r#"{"keys":[]}"#.into())
    }

    /// The claims of a token for `sub` issued now.
    #[allow(clippy::too_many_arguments)]
    pub fn claims(
        &self,
        sub: &str,
        intent: &str,
        lineage: Vec<String>,
        step: &str,
        data: Vec<String>,
        decision_id: String,
        plan_hash: &str,
    ) -> DelegationClaims {
        let iat = get_current_timestamp();
        DelegationClaims {
            iss: self.issuer.clone(),
            aud: AUDIENCE.into(),
            sub: sub.into(),
            intent: intent.into(),
            lineage,
            step: step.into(),
            data,
            decision_id,
            plan_hash: plan_hash.into(),
            iat,
            exp: iat.saturating_add(self.ttl.as_secs()),
        }
    }

    /// Signs `claims`.
    /// A compact JWS (RFC 7515): header, claims and the Ed25519 signature of the two, each
    /// base64url without padding, as any JWT library reads it.
    pub fn mint(&self, claims: &DelegationClaims) -> Result<String, String> {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use ed25519_dalek::Signer;
        let claims = serde_json::to_vec(claims).map_err(|e| format!("cannot sign a token: {e}"))?;
        let mut token = String::with_capacity(self.header_b64.len() + claims.len() * 4 / 3 + 92);
        token.push_str(&self.header_b64);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&claims, &mut token);
        let signature = self.signer.sign(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);
        Ok(token)
    }

    /// The claims of a valid token of this sidecar (signed by one of its keys, not expired),
    /// or why it is refused (401). A token verified before is answered from memory.
    pub fn verify(&self, token: &str) -> Result<Arc<DelegationClaims>, Refusal> {
        self.verify_at(token, get_current_timestamp())
    }

    /// [`DelegationKeys::verify`] at `now` (seconds since the epoch).
    pub fn verify_at(&self, token: &str, now: u64) -> Result<Arc<DelegationClaims>, Refusal> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(bad(
                "too_large",
                format!("has {} bytes, more than {MAX_TOKEN_BYTES}", token.len()),
            ));
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(c) = self.remembered_at(&digest, now) {
            return Ok(c);
        }
        let claims = Arc::new(self.verify_uncached_at(token, now)?);
        self.remember(digest, claims.clone(), now);
        Ok(claims)
    }

    /// How many verified tokens are remembered now.
    pub fn remembered(&self) -> usize {
        self.verified.lock().map_or(0, |m| m.len())
    }

    fn remembered_at(&self, digest: &[u8; 32], now: u64) -> Option<Arc<DelegationClaims>> {
        let c = self.verified.lock().ok()?.get(digest).cloned()?;
        // The same test as verification's: not expired beyond the leeway.
        (c.exp >= now.saturating_sub(LEEWAY_S)).then_some(c)
    }

    fn remember(&self, digest: [u8; 32], claims: Arc<DelegationClaims>, now: u64) {
        let Ok(mut m) = self.verified.lock() else {
            return;
        };
        if m.len() >= MAX_REMEMBERED {
            m.retain(|_, c| c.exp >= now.saturating_sub(LEEWAY_S));
            if m.len() >= MAX_REMEMBERED {
                m.clear();
            }
        }
        m.insert(digest, claims);
    }

    /// Verifies `token` without the memory (what [`DelegationKeys::verify`] does for a token it
    /// has not seen): the header names EdDSA and a key of this sidecar, the Ed25519 signature
    /// holds under that key, and the claims are this sidecar's (`iss`), for the mesh's sidecars
    /// (`aud`) and not expired beyond [`LEEWAY_S`]; checked in `jsonwebtoken`'s order, with its
    /// reasons.
    pub fn verify_uncached(&self, token: &str) -> Result<DelegationClaims, Refusal> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(bad(
                "too_large",
                format!("has {} bytes, more than {MAX_TOKEN_BYTES}", token.len()),
            ));
        }
        self.verify_uncached_at(token, get_current_timestamp())
    }

    fn verify_uncached_at(&self, token: &str, now: u64) -> Result<DelegationClaims, Refusal> {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header =
            decode_header(token).map_err(|e| bad("malformed", format!("cannot be read: {e}")))?;
        if header.alg != Algorithm::EdDSA {
            return Err(bad("wrong_alg", format!("is signed with {:?}", header.alg)));
        }
        let kid = header.kid.as_deref().unwrap_or_default();
        let Some(k) = self.public.iter().find(|k| k.kid == kid) else {
            return Err(bad(
                "unknown_kid",
                format!(
                    "names key `{}`, which this sidecar does not have",
                    crate::limits::echo(kid)
                ),
            ));
        };
        if !plain_header(&header) {
            return Err(bad(
                "malformed",
                "cannot be verified: its header has `crit` or `b64` as JWT does not allow".into(),
            ));
        }
        // `decode_header` read three parts, so there are two dots (and no more).
        let (message, signature) = token
            .rsplit_once('.')
            .ok_or_else(|| bad("malformed", "is not three parts".into()))?;
        let (_, payload) = message
            .rsplit_once('.')
            .ok_or_else(|| bad("malformed", "is not three parts".into()))?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|e| bad("malformed", format!("cannot be verified: {e}")))?;
        let verified = ed25519_dalek::Signature::from_slice(&signature)
            .and_then(|s| {
                use ed25519_dalek::Verifier;
                k.key.verify(message.as_bytes(), &s)
            })
            .is_ok();
        if !verified {
            return Err(bad(
                "bad_signature",
                "has a signature that does not verify".into(),
            ));
        }
        let claims: DelegationClaims = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|e| e.to_string())
            .and_then(|json| serde_json::from_slice(&json).map_err(|e| e.to_string()))
            .map_err(|e| bad("malformed", format!("cannot be verified: {e}")))?;
        if claims.exp < now.saturating_sub(LEEWAY_S) {
            return Err(bad("expired", "has expired".into()));
        }
        if claims.iss != self.issuer {
            return Err(bad("wrong_issuer", "has another issuer".into()));
        }
        if claims.aud != AUDIENCE {
            return Err(bad("wrong_audience", "is not a delegation token".into()));
        }
        Ok(claims)
    }
}

/// A refusal of a delegation token: `what` completes "the delegation token ...".
fn bad(reason: &'static str, what: String) -> Refusal {
    Refusal::unauthenticated(reason, format!("the delegation token {what}"))
}

/// The header rules of `jsonwebtoken`'s `decode` (RFC 7515, RFC 7797): `b64`, when present,
/// is `true`; `crit`, when present, is exactly `["b64"]` with `b64` present.
fn plain_header(h: &Header) -> bool {
    let Ok(b64) = h.extras.get::<bool>("b64") else {
        return false;
    };
    if b64 == Some(false) {
        return false;
    }
    match &h.crit {
        None => true,
        Some(crit) => crit.len() == 1 && crit.iter().all(|p| p == "b64") && b64.is_some(),
    }
}
