//! The keys that bearer tokens are verified with: a JSON Web Key Set read from a file or an
//! `https://` URL (`fetch.rs`; plain `http://` from this host only), kept in memory, fetched
//! again every `refresh_every` and at once (at most every `min_refetch`) when a token names a
//! key id the set does not have, so a key the identity provider has just rotated in verifies
//! without a restart, and a stream of made-up key ids cannot make the sidecar hammer the
//! provider.
//!
//! Only asymmetric keys are kept, each with the algorithms it may verify (pinned by its `alg`
//! when it has one, else by its type and curve): an RSA key never verifies an HMAC token signed
//! with its public key as the secret, and `alg: none` names no algorithm at all. Every bound is
//! checked before the set is used: at most [`MAX_JWKS_BYTES`] of JSON and [`MAX_KEYS`] keys,
//! each key's coordinates of the length its curve has (the crypto crates index them).

use super::fetch;
use arc_swap::ArcSwap;
use base64::Engine as _;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The largest key set read, in bytes.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
/// The most keys a set may hold.
pub const MAX_KEYS: usize = 32;
/// The most verified tokens remembered per key set (then the oldest are forgotten).
pub const MAX_CACHED_TOKENS: usize = 4096;

/// Where a key set comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    File(PathBuf),
    /// An `https://host[:port]/path` URL, or `http://` to a loopback host (`fetch.rs`).
    Url(String),
}

impl JwksSource {
    /// `https://...` (or `http://` to this host) is a URL, text with another `://` an error,
    /// anything else a file path.
    pub fn parse(text: &str) -> Result<JwksSource, String> {
        if text.contains("://") {
            fetch::check_url(text)?;
            return Ok(JwksSource::Url(text.to_string()));
        }
        Ok(JwksSource::File(PathBuf::from(text)))
    }

    async fn fetch(&self, tls: Option<&Arc<rustls::ClientConfig>>) -> Result<Vec<u8>, String> {
        match self {
            JwksSource::File(p) => {
                let bytes = tokio::fs::read(p)
                    .await
                    .map_err(|e| format!("cannot read the key set {}: {e}", p.display()))?;
                if bytes.len() > MAX_JWKS_BYTES {
                    return Err(format!(
                        "the key set {} has {} bytes, more than {MAX_JWKS_BYTES}",
                        p.display(),
                        bytes.len()
                    ));
                }
                Ok(bytes)
            }
            JwksSource::Url(u) => fetch::bounded_get(u, MAX_JWKS_BYTES, tls).await,
        }
    }
}

/// One key of a set: the algorithms it verifies and the key itself.
pub(crate) struct VerifyKey {
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) key: DecodingKey,
}

/// What a verified bearer token established: its subject, until when.
#[derive(Clone)]
pub(crate) struct Verified {
    pub(crate) subject: Arc<str>,
    pub(crate) exp: u64,
    /// The token's claims other than `sub` and `exp` (the registered ones included).
    pub(crate) claims: Arc<serde_json::Map<String, serde_json::Value>>,
}

/// A parsed key set, by key id, with the tokens verified with it (forgotten with the set, so a
/// key removed by a refresh stops verifying at once).
pub(crate) struct KeySet {
    keys: HashMap<String, VerifyKey>,
    verified: Mutex<HashMap<[u8; 32], Verified>>,
}

impl KeySet {
    /// Reads a JWKS document; keys that cannot sign JWTs here (symmetric, encryption, unknown
    /// curves) are left out, a key without `kid` too (a token must name its key).
    pub(crate) fn parse(bytes: &[u8]) -> Result<KeySet, String> {
        if bytes.len() > MAX_JWKS_BYTES {
            return Err(format!(
                "the key set has {} bytes, more than {MAX_JWKS_BYTES}",
                bytes.len()
            ));
        }
        let set: JwkSet =
            serde_json::from_slice(bytes).map_err(|e| format!("not a JSON Web Key Set: {e}"))?;
        if set.keys.len() > MAX_KEYS {
            return Err(format!(
                "the key set has {} keys, more than {MAX_KEYS}",
                set.keys.len()
            ));
        }
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            let Some(k) = verify_key(jwk) else { continue };
            if keys.insert(kid.clone(), k).is_some() {
                return Err(format!("the key set has two keys with kid `{kid}`"));
            }
        }
        Ok(KeySet {
            keys,
            verified: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) fn key(&self, kid: &str) -> Option<&VerifyKey> {
        self.keys.get(kid)
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// A token verified earlier with this set, still within `exp` (+ `leeway`) at `now`.
    pub(crate) fn remembered(&self, digest: &[u8; 32], now: u64, leeway: u64) -> Option<Verified> {
        let v = self.verified.lock().ok()?.get(digest).cloned()?;
        (now <= v.exp.saturating_add(leeway)).then_some(v)
    }

    pub(crate) fn remember(&self, digest: [u8; 32], v: Verified, now: u64, leeway: u64) {
        let Ok(mut m) = self.verified.lock() else {
            return;
        };
        if m.len() >= MAX_CACHED_TOKENS {
            m.retain(|_, x| now <= x.exp.saturating_add(leeway));
            if m.len() >= MAX_CACHED_TOKENS {
                m.clear();
            }
        }
        m.insert(digest, v);
    }
}

/// The algorithms `jwk` may verify, or `None` for a key that verifies no JWT here.
fn verify_key(jwk: &Jwk) -> Option<VerifyKey> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let family: Vec<Algorithm> = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::EllipticCurve(p) => {
            let (alg, len) = match p.curve {
                EllipticCurve::P256 => (Algorithm::ES256, 32),
                EllipticCurve::P384 => (Algorithm::ES384, 48),
                _ => return None,
            };
            if decoded_len(&p.x) != Some(len) || decoded_len(&p.y) != Some(len) {
                return None;
            }
            vec![alg]
        }
        AlgorithmParameters::OctetKeyPair(p) => {
            if !matches!(p.curve, EllipticCurve::Ed25519) || decoded_len(&p.x) != Some(32) {
                return None;
            }
            vec![Algorithm::EdDSA]
        }
        // Symmetric keys (`oct`) and unknown types never verify a bearer token.
        _ => return None,
    };
    let algorithms = match jwk.common.key_algorithm {
        None => family,
        Some(a) => {
            let a = pinned(a)?;
            if !family.contains(&a) {
                return None;
            }
            vec![a]
        }
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(VerifyKey { algorithms, key })
}

fn pinned(a: KeyAlgorithm) -> Option<Algorithm> {
    Algorithm::try_from(a).ok()
}

/// The length of a base64url (unpadded) value once decoded.
fn decoded_len(b64: &str) -> Option<usize> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64)
        .ok()
        .map(|v| v.len())
}

/// A key set kept fresh from its source.
pub(crate) struct Jwks {
    source: JwksSource,
    /// The TLS client of an `https://` source.
    tls: Option<Arc<rustls::ClientConfig>>,
    keys: ArcSwap<KeySet>,
    /// When the set was last fetched (or a fetch was tried).
    fetched: Mutex<Instant>,
    /// One fetch at a time.
    fetching: tokio::sync::Mutex<()>,
    refresh_every: Duration,
    min_refetch: Duration,
}

/// How a key id was looked up.
pub(crate) enum Lookup {
    Found(Arc<KeySet>),
    /// Not in the set, even after fetching it again (or it was fetched too recently to ask).
    Unknown,
}

impl Jwks {
    /// Fetches the set once; an error if it cannot be had or read (the sidecar does not start).
    /// `ca`: the CA certificates an `https://` source's certificate must chain to (else the
    /// system's roots).
    pub(crate) async fn load(
        source: JwksSource,
        ca: Option<&Path>,
        refresh_every: Duration,
        min_refetch: Duration,
    ) -> Result<Jwks, String> {
        let tls = match (&source, ca) {
            (JwksSource::Url(u), ca) if fetch::is_https(u) => Some(fetch::tls_client(ca)?),
            (_, Some(ca)) => {
                return Err(format!(
                    "--jwks-ca {}: a CA is for an https:// key set",
                    ca.display()
                ))
            }
            (_, None) => None,
        };
        let bytes = source.fetch(tls.as_ref()).await?;
        let set = KeySet::parse(&bytes)?;
        if set.len() == 0 {
            return Err(
                "the key set has no key that verifies tokens here (RSA, P-256, P-384 or Ed25519, with a kid)"
                    .into(),
            );
        }
        Ok(Jwks {
            source,
            tls,
            keys: ArcSwap::from_pointee(set),
            fetched: Mutex::new(Instant::now()),
            fetching: tokio::sync::Mutex::new(()),
            refresh_every,
            min_refetch,
        })
    }

    /// The set now in force (fetched again first when it is older than `refresh_every`).
    pub(crate) async fn current(&self) -> Arc<KeySet> {
        if self.age() >= self.refresh_every {
            self.refresh(self.refresh_every).await;
        }
        self.keys.load_full()
    }

    /// The set that has `kid`: fetched again once when it is unknown, unless the set was
    /// fetched less than `min_refetch` ago.
    pub(crate) async fn lookup(&self, kid: &str) -> Lookup {
        let set = self.current().await;
        if set.key(kid).is_some() {
            return Lookup::Found(set);
        }
        if self.age() < self.min_refetch {
            return Lookup::Unknown;
        }
        self.refresh(self.min_refetch).await;
        let set = self.keys.load_full();
        if set.key(kid).is_some() {
            Lookup::Found(set)
        } else {
            Lookup::Unknown
        }
    }

    fn age(&self) -> Duration {
        self.fetched.lock().map_or(Duration::ZERO, |t| t.elapsed())
    }

    /// Fetches the set again, unless another request did while this one waited (its age is
    /// then under `older_than`). A set that cannot be fetched or read keeps the old one.
    async fn refresh(&self, older_than: Duration) {
        let _one = self.fetching.lock().await;
        if self.age() < older_than {
            return;
        }
        let got = match self.source.fetch(self.tls.as_ref()).await {
            Ok(bytes) => KeySet::parse(&bytes),
            Err(e) => Err(e),
        };
        if let Ok(mut t) = self.fetched.lock() {
            *t = Instant::now();
        }
        match got {
            Ok(set) => self.keys.store(Arc::new(set)),
            Err(e) => eprintln!("intent serve: keeping the old key set: {e}"),
        }
    }
}
