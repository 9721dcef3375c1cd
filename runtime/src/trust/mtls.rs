//! Mutual TLS (feature `mtls`, docs/identity.md): the sidecar's rustls server configuration,
//! which verifies client certificates against the operator's CA, and the agent a verified
//! certificate names.
//!
//! A certificate names agent `NAME` of trust domain `DOMAIN` by a SPIFFE ID in a URI SAN,
//! `spiffe://DOMAIN/agent/NAME`, or else by a DNS SAN `NAME.DOMAIN`. Exactly one agent may be
//! named: a certificate naming two is refused, never read as either. Certificates from another
//! CA fail the handshake; a connection without a certificate is accepted by TLS and refused by
//! the broker (401, so the client reads why), as is a certificate that names no agent.
//!
//! With certificate revocation lists (`--client-crl`), a revoked certificate fails the
//! handshake too. Every certificate of a client's chain below the trust anchor must be covered
//! by a CRL of its issuer that has not passed its `nextUpdate`: a certificate whose status the
//! lists cannot tell, or a list out of date, is refused, as OpenSSL (and so nginx) refuses it.
//! The lists are read again while the sidecar runs (`crl.rs`).

use super::PeerCert;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{RootCertStore, ServerConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The largest certificate or key file read, in bytes.
pub const MAX_PEM_BYTES: u64 = 1024 * 1024;
/// The most SANs of a client certificate looked at; a certificate with more names no agent.
pub const MAX_SANS: usize = 64;
/// The longest agent name a certificate may carry, in bytes (as for any caller name).
pub const MAX_NAME_BYTES: usize = 256;

/// What `intent serve --tls-cert/--tls-key/--client-ca/--trust-domain` asks for.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// The sidecar's own certificate chain (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// Verify client certificates against these CA certificates (PEM); the verified
    /// certificate names the caller.
    pub client_ca: Option<PathBuf>,
    /// The SPIFFE trust domain certificates name agents in (needed with `client_ca`).
    pub trust_domain: Option<String>,
    /// Certificate revocation lists (PEM files, each with one list or more) client
    /// certificates are checked against (needs `client_ca`).
    pub client_crls: Vec<PathBuf>,
}

/// The sidecar's TLS: the rustls configuration and the trust domain client names are read in.
#[derive(Clone)]
pub struct TlsServer {
    pub config: Arc<ServerConfig>,
    pub trust_domain: Option<String>,
}

impl std::fmt::Debug for TlsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsServer")
            .field("client_certificates", &self.trust_domain.is_some())
            .finish()
    }
}

impl TlsServer {
    /// Reads the files of `c` and builds the server configuration (an error names the file).
    pub fn load(c: &TlsConfig) -> Result<TlsServer, String> {
        // ring, not aws-lc-rs: no C library to build for CI and the fuzz workspace. rustls
        // 0.23.48 deprecates ring's provider because it has no post-quantum key exchange;
        // inside a mesh, classical ECDHE (X25519, P-256) is what the peers offer today.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certs = read_certs(&c.cert)?;
        let key = PrivateKeyDer::from_pem_slice(&read(&c.key)?)
            .map_err(|e| format!("{}: no private key in PEM: {e}", c.key.display()))?;
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?;
        let builder = match (&c.client_ca, &c.trust_domain) {
            (Some(ca), Some(domain)) => {
                check_domain(domain)?;
                let mut roots = RootCertStore::empty();
                for cert in read_certs(ca)? {
                    roots
                        .add(cert)
                        .map_err(|e| format!("{}: not a CA certificate: {e}", ca.display()))?;
                }
                // Anonymous connections pass TLS so that the broker can answer them with a
                // reason; a certificate that does not chain to `roots` fails the handshake, and
                // with CRLs (read again while the sidecar runs, `crl.rs`) a revoked one too.
                let roots = Arc::new(roots);
                let verifier: Arc<dyn rustls::server::danger::ClientCertVerifier> =
                    if c.client_crls.is_empty() {
                        super::crl::verifier(roots, provider, Vec::new())
                            .map_err(|e| format!("{}: {e}", ca.display()))?
                    } else {
                        super::crl::Revocable::start(
                            roots,
                            provider,
                            c.client_crls.clone(),
                            super::crl::CRL_RELOAD_EVERY,
                        )
                        .map_err(|e| format!("{} (or --client-crl): {e}", ca.display()))?
                    };
                builder.with_client_cert_verifier(verifier)
            }
            (None, _) if !c.client_crls.is_empty() => {
                return Err("--client-crl needs --client-ca".into())
            }
            (Some(_), None) => return Err("--client-ca needs --trust-domain".into()),
            (None, Some(_)) => return Err("--trust-domain needs --client-ca".into()),
            (None, None) => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .map_err(|e| format!("{}: {e}", c.key.display()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        if !c.client_crls.is_empty() {
            // A resumed TLS session keeps the certificate of the handshake it resumes, and
            // skips the revocation check: with revocation lists, every connection does a full
            // handshake against the lists in force.
            config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
            config.send_tls13_tickets = 0;
        }
        Ok(TlsServer {
            config: Arc::new(config),
            trust_domain: c.client_ca.as_ref().and(c.trust_domain.clone()),
        })
    }

    /// What a connection's verified certificate chain says (`None`: no client certificates
    /// are asked for). The leaf certificate comes first.
    pub fn peer(&self, chain: Option<&[CertificateDer<'_>]>) -> Option<PeerCert> {
        let domain = self.trust_domain.as_deref()?;
        Some(match chain.and_then(|c| c.first()) {
            None => PeerCert::Missing,
            Some(leaf) => named_agent(leaf, domain),
        })
    }
}

/// The agent certificate `leaf` names in trust domain `domain`.
pub fn named_agent(leaf: &[u8], domain: &str) -> PeerCert {
    let Ok((_, cert)) = X509Certificate::from_der(leaf) else {
        return PeerCert::NoAgent("the client certificate cannot be read".into());
    };
    let sans = match cert.subject_alternative_name() {
        Ok(Some(ext)) => &ext.value.general_names,
        Ok(None) => return PeerCert::NoAgent("the client certificate has no SAN".into()),
        Err(_) => return PeerCert::NoAgent("the client certificate's SANs cannot be read".into()),
    };
    if sans.len() > MAX_SANS {
        return PeerCert::NoAgent(format!(
            "the client certificate has {} SANs; at most {MAX_SANS} are read",
            sans.len()
        ));
    }
    let spiffe_prefix = format!("spiffe://{domain}/agent/");
    let dns_suffix = format!(".{domain}");
    let mut named: Vec<&str> = sans
        .iter()
        .filter_map(|n| match n {
            GeneralName::URI(u) => u.strip_prefix(&spiffe_prefix),
            _ => None,
        })
        .collect();
    if named.is_empty() {
        named = sans
            .iter()
            .filter_map(|n| match n {
                GeneralName::DNSName(d) => d.strip_suffix(&dns_suffix),
                _ => None,
            })
            .collect();
    }
    named.sort_unstable();
    named.dedup();
    match named.as_slice() {
        [] => PeerCert::NoAgent(format!(
            "the client certificate names no agent of trust domain `{}` (a URI SAN {spiffe_prefix}NAME or a DNS SAN NAME{dns_suffix})",
            crate::limits::echo(domain)
        )),
        [one] if valid_name(one) => PeerCert::Agent((*one).to_string()),
        [one] => PeerCert::NoAgent(format!(
            "the client certificate names `{}`, which is not an agent name",
            crate::limits::echo(one)
        )),
        [..] => PeerCert::NoAgent("the client certificate names more than one agent".into()),
    }
}

/// An agent name as the language writes it: a letter or `_`, then letters, digits, `_` or `-`.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_NAME_BYTES
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn check_domain(domain: &str) -> Result<(), String> {
    let ok = !domain.is_empty()
        && domain.len() <= 255
        && domain
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--trust-domain `{}`: a SPIFFE trust domain is lowercase letters, digits, `.`, `-` and `_`",
            crate::limits::echo(domain)
        ))
    }
}

pub(super) fn read(path: &Path) -> Result<Vec<u8>, String> {
    let len = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    if len > MAX_PEM_BYTES {
        return Err(format!(
            "{}: {len} bytes; a PEM file may have at most {MAX_PEM_BYTES}",
            path.display()
        ));
    }
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(&read(path)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in PEM", path.display()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_agent_names() {
        assert!(valid_name("order_desk"));
        assert!(valid_name("pay-bot"));
        assert!(!valid_name(""));
        assert!(!valid_name("1bot"));
        assert!(!valid_name("a/b"));
        assert!(!valid_name(&"a".repeat(MAX_NAME_BYTES + 1)));
    }

    #[test]
    fn trust_domains_are_checked() {
        assert!(check_domain("mesh.example.com").is_ok());
        assert!(check_domain("").is_err());
        assert!(check_domain("Mesh/../x").is_err());
    }

    proptest! {
        /// Any bytes as a certificate: an answer, never a panic.
        #[test]
        fn any_bytes_name_no_agent_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            prop_assert!(matches!(named_agent(&bytes, "mesh.test"), PeerCert::NoAgent(_)));
        }
    }
}
