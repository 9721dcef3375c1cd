//! Bearer tokens from an identity provider (`authorization: Bearer <JWT>`), verified with
//! `jsonwebtoken` against the provider's key set (`jwks`): the header names a key (`kid`) and an
//! algorithm that key may verify, the signature holds, and `iss`, `aud`, `exp` and `nbf` are
//! checked with a small clock skew ([`LEEWAY_S`]). Its `sub` names the calling agent.
//!
//! A token that verified is remembered (by its SHA-256) with the key set it verified with,
//! until it expires: the same agent's next request costs a hash, not a signature check.

use super::jwks::{Jwks, JwksSource, Lookup, Verified};
use super::{Refusal, MAX_TOKEN_BYTES};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, decode_header, get_current_timestamp, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The clock skew allowed on `exp` and `nbf`, in seconds.
pub const LEEWAY_S: u64 = 30;

/// How bearer tokens are verified.
#[derive(Debug, Clone)]
pub struct BearerConfig {
    pub jwks: JwksSource,
    /// The CA certificates (PEM) an `https://` key set's server certificate must chain to;
    /// `None`: the system's roots.
    pub jwks_ca: Option<PathBuf>,
    /// The `iss` tokens must have.
    pub issuer: String,
    /// An `aud` tokens must have (one of theirs).
    pub audience: String,
    /// How often the key set is fetched again.
    pub refresh_every: Duration,
    /// The shortest time between two fetches caused by an unknown key id.
    pub min_refetch: Duration,
}

impl BearerConfig {
    /// Defaults: fetched again every 5 minutes, at most every 10 s for an unknown key id.
    pub fn new(jwks: JwksSource, issuer: String, audience: String) -> BearerConfig {
        BearerConfig {
            jwks,
            jwks_ca: None,
            issuer,
            audience,
            refresh_every: Duration::from_secs(300),
            min_refetch: Duration::from_secs(10),
        }
    }
}

pub(crate) struct Bearer {
    jwks: Jwks,
    issuer: String,
    audience: String,
}

/// The claims read; both are required (`set_required_spec_claims`), and the defaults only let
/// a token without them reach that check, which names the missing claim.
#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    sub: String,
    #[serde(default)]
    exp: u64,
    /// Every other claim, for the context fields filled from claims (`claims.rs`). Bounded by
    /// the token's size ([`MAX_TOKEN_BYTES`]).
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

impl Bearer {
    pub(crate) async fn load(c: BearerConfig) -> Result<Bearer, String> {
        Ok(Bearer {
            jwks: Jwks::load(c.jwks, c.jwks_ca.as_deref(), c.refresh_every, c.min_refetch).await?,
            issuer: c.issuer,
            audience: c.audience,
        })
    }

    /// The subject and claims of a valid token, or why it is refused (401).
    pub(crate) async fn verify(&self, token: &str) -> Result<Verified, Refusal> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid(
                "too_large",
                format!(
                    "the bearer token has {} bytes, more than {MAX_TOKEN_BYTES}",
                    token.len()
                ),
            ));
        }
        let now = get_current_timestamp();
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let set = self.jwks.current().await;
        if let Some(v) = set.remembered(&digest, now, LEEWAY_S) {
            return Ok(v);
        }
        let header = decode_header(token).map_err(|e| {
            invalid(
                "malformed",
                format!("the bearer token cannot be read: {e} (alg none is never accepted)"),
            )
        })?;
        let Some(kid) = header.kid else {
            return Err(invalid(
                "no_kid",
                "the bearer token names no key (kid)".into(),
            ));
        };
        let set = match self.jwks.lookup(&kid).await {
            Lookup::Found(set) => set,
            Lookup::Unknown => {
                return Err(invalid(
                    "unknown_kid",
                    format!(
                        "the bearer token names key `{}`, which the key set does not have",
                        crate::limits::echo(&kid)
                    ),
                ))
            }
        };
        let Some(key) = set.key(&kid) else {
            return Err(invalid("unknown_kid", "the key left the key set".into()));
        };
        if !key.algorithms.contains(&header.alg) {
            return Err(invalid(
                "wrong_alg",
                format!(
                    "the bearer token is signed with {:?}, which key `{}` does not verify",
                    header.alg,
                    crate::limits::echo(&kid)
                ),
            ));
        }
        let mut v = Validation::new(header.alg);
        v.leeway = LEEWAY_S;
        v.validate_nbf = true;
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = decode::<Claims>(token, &key.key, &v)
            .map_err(|e| refused(e.kind()))?
            .claims;
        let verified = Verified {
            subject: Arc::from(claims.sub),
            exp: claims.exp,
            claims: Arc::new(claims.rest),
        };
        set.remember(digest, verified.clone(), now, LEEWAY_S);
        Ok(verified)
    }
}

fn invalid(reason: &'static str, message: String) -> Refusal {
    Refusal::unauthenticated(reason, message)
}

fn refused(kind: &ErrorKind) -> Refusal {
    let (reason, what) = match kind {
        ErrorKind::ExpiredSignature => ("expired", "has expired"),
        ErrorKind::ImmatureSignature => ("not_yet_valid", "is not valid yet (nbf)"),
        ErrorKind::InvalidIssuer => ("wrong_issuer", "has another issuer"),
        ErrorKind::InvalidAudience => ("wrong_audience", "is for another audience"),
        ErrorKind::InvalidSignature => ("bad_signature", "has a signature that does not verify"),
        ErrorKind::InvalidAlgorithm => ("wrong_alg", "is signed with another algorithm"),
        ErrorKind::MissingRequiredClaim(_) => {
            ("missing_claim", "lacks a claim (exp, iss, aud, sub)")
        }
        _ => ("malformed", "cannot be verified"),
    };
    invalid(reason, format!("the bearer token {what}"))
}
