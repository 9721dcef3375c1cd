//! The trust broker's options of `intent serve` (verified callers by bearer JWT or mutual TLS,
//! delegation tokens, HTTPS; see
//! docs/identity.md) and `intent keys generate`, which writes a delegation key pair.

use intent_runtime::trust::delegation::{self, DelegationKeys};
use intent_runtime::trust::jwks::JwksSource;
use intent_runtime::trust::jwt::BearerConfig;
use intent_runtime::trust::mtls::TlsConfig;
use intent_runtime::trust::TrustConfig;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Who may ask, and how the work handed out is signed.
#[derive(clap::Args, Clone, Debug)]
pub struct IdentityArgs {
    /// Require a bearer JWT on every decision, verified with this JSON Web Key Set (a file, or
    /// an https:// URL; http:// only to localhost); needs --jwt-issuer and --jwt-audience
    #[arg(long, value_name = "FILE|URL", requires_all = ["jwt_issuer", "jwt_audience"])]
    pub jwks: Option<String>,
    /// The CA certificates (PEM) the https key set's server certificate must chain to, instead
    /// of the system's
    #[arg(long, value_name = "FILE", requires = "jwks")]
    pub jwks_ca: Option<PathBuf>,
    /// The `iss` bearer tokens must have
    #[arg(long, value_name = "ISSUER", requires = "jwks")]
    pub jwt_issuer: Option<String>,
    /// An `aud` bearer tokens must have
    #[arg(long, value_name = "AUDIENCE", requires = "jwks")]
    pub jwt_audience: Option<String>,
    /// How often the key set is read again, in seconds
    #[arg(long, default_value_t = 300)]
    pub jwks_refresh_s: u64,
    /// A token naming a key id the set lacks reads the set again, at most this often, in seconds
    #[arg(long, default_value_t = 10)]
    pub jwks_min_refetch_s: u64,
    /// A caller that is not an agent of the plan but may ask (it starts a lineage); repeatable
    #[arg(long, value_name = "NAME")]
    pub external_caller: Vec<String>,
    /// Sign a delegation token for every filled step with this Ed25519 key (PKCS#8 PEM, from
    /// `intent keys generate`), and verify presented ones
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
    /// An older public key (PEM) whose tokens still verify; repeatable (key rotation)
    #[arg(long, value_name = "FILE", requires = "signing_key")]
    pub verify_key: Vec<PathBuf>,
    /// The `iss` of delegation tokens (the same on every sidecar of a mesh)
    #[arg(long, default_value = "intent")]
    pub token_issuer: String,
    /// How long a delegation token is valid, in seconds
    #[arg(long, default_value_t = 300)]
    pub token_ttl_s: u64,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require a client certificate from this CA (PEM) naming the calling agent (mutual TLS);
    /// needs --tls-cert and --trust-domain
    #[arg(long, value_name = "FILE", requires_all = ["tls_cert", "trust_domain"])]
    pub client_ca: Option<PathBuf>,
    /// Refuse client certificates revoked by these certificate revocation lists (PEM); every
    /// certificate's issuer needs an up-to-date list; repeatable
    #[arg(long, value_name = "FILE", requires = "client_ca")]
    pub client_crl: Vec<PathBuf>,
    /// The SPIFFE trust domain client certificates name agents in: a URI SAN
    /// spiffe://DOMAIN/agent/NAME, or a DNS SAN NAME.DOMAIN
    #[arg(long, value_name = "DOMAIN", requires = "client_ca")]
    pub trust_domain: Option<String>,
}

fn read_key(path: &Path) -> Result<Vec<u8>, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read the key {}: {e}", path.display()))?;
    if bytes.len() > 16 * 1024 {
        return Err(format!("{} is too large for a key", path.display()));
    }
    Ok(bytes)
}

impl IdentityArgs {
    pub fn config(&self) -> Result<TrustConfig, String> {
        let bearer = match (&self.jwks, &self.jwt_issuer, &self.jwt_audience) {
            (Some(jwks), Some(iss), Some(aud)) => {
                if self.jwks_refresh_s == 0 {
                    return Err("--jwks-refresh-s must be at least 1".into());
                }
                let mut b = BearerConfig::new(JwksSource::parse(jwks)?, iss.clone(), aud.clone());
                b.refresh_every = Duration::from_secs(self.jwks_refresh_s);
                b.min_refetch = Duration::from_secs(self.jwks_min_refetch_s);
                b.jwks_ca = self.jwks_ca.clone();
                Some(b)
            }
            _ => None,
        };
        let delegation = match &self.signing_key {
            Some(path) => {
                let signing = read_key(path)?;
                let older = self
                    .verify_key
                    .iter()
                    .map(|p| read_key(p))
                    .collect::<Result<Vec<_>, _>>()?;
                let keys = DelegationKeys::new(
                    self.token_issuer.clone(),
                    &signing,
                    &older,
                    Duration::from_secs(self.token_ttl_s),
                )
                .map_err(|e| format!("--signing-key {}: {e}", path.display()))?;
                Some(Arc::new(keys))
            }
            None => None,
        };
        Ok(TrustConfig {
            bearer,
            delegation,
            external_callers: self.external_caller.clone(),
            // `server::run` sets it from the TLS configuration (`tls()`), which it loads.
            client_certificates: false,
        })
    }

    /// HTTPS, and with `--client-ca` mutual TLS.
    pub fn tls(&self) -> Option<TlsConfig> {
        let (cert, key) = (self.tls_cert.clone()?, self.tls_key.clone()?);
        Some(TlsConfig {
            cert,
            key,
            client_ca: self.client_ca.clone(),
            trust_domain: self.trust_domain.clone(),
            client_crls: self.client_crl.clone(),
        })
    }
}

/// `intent keys generate`: writes DIR/NAME.key.pem (private, mode 0600) and DIR/NAME.pub.pem,
/// never over an existing file, and prints the key id.
pub fn generate(dir: &Path, name: &str) -> Result<ExitCode, String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!("--name {name}: letters, digits, `-` and `_` only"));
    }
    let (private, public, kid) = delegation::generate()?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let key = dir.join(format!("{name}.key.pem"));
    let pubkey = dir.join(format!("{name}.pub.pem"));
    write_new(&key, &private, true)?;
    write_new(&pubkey, &public, false)?;
    println!("wrote {} and {}", key.display(), pubkey.display());
    println!("kid {kid}");
    Ok(ExitCode::SUCCESS)
}

fn write_new(path: &Path, text: &str, secret: bool) -> Result<(), String> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut f = o
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    f.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
