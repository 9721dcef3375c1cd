//! Client certificates checked against revocation lists that the sidecar reads again while it
//! runs (`--client-crl`, feature `mtls`, docs/identity.md).
//!
//! rustls' `WebPkiClientVerifier` holds its CRLs for life, and a list has a `nextUpdate` after
//! which it refuses every certificate it covers: without reading the files again, the sidecar
//! would have to be restarted before each list expires. [`Revocable`] is a verifier that
//! delegates to a `WebPkiClientVerifier` kept behind an atomic swap; a thread reads the files
//! every [`CRL_RELOAD_EVERY`] and, when their bytes changed and still make a verifier, swaps
//! the new one in. A handshake never waits for the files, and never sees a half-read list: a
//! set of files that cannot be read or parsed keeps the lists in force (and says so on stderr).
//! The thread ends when the verifier is dropped.

use arc_swap::ArcSwap;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, Error, RootCertStore, SignatureScheme};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How often the revocation lists are read again.
pub const CRL_RELOAD_EVERY: Duration = Duration::from_secs(5);

/// The client-certificate verifier: every client certificate must chain to `roots`; with
/// `crls`, it must not be revoked, and every certificate of its chain must be covered by a list
/// of its issuer that has not passed its `nextUpdate` (OpenSSL's rules). Connections without a
/// certificate pass (the broker refuses them with a reason).
pub(crate) fn verifier(
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
    crls: Vec<CertificateRevocationListDer<'static>>,
) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let mut builder =
        WebPkiClientVerifier::builder_with_provider(roots, provider).allow_unauthenticated();
    if !crls.is_empty() {
        // Unknown status stays an error (rustls' default); an expired list too.
        builder = builder.with_crls(crls).enforce_revocation_expiration();
    }
    builder.build().map_err(|e| e.to_string())
}

/// The CRLs of `paths` (each file at least one) and the files' bytes, to tell a change.
fn read_all(
    paths: &[PathBuf],
) -> Result<(Vec<Vec<u8>>, Vec<CertificateRevocationListDer<'static>>), String> {
    let mut bytes = Vec::with_capacity(paths.len());
    let mut crls = Vec::new();
    for path in paths {
        let b = super::mtls::read(path)?;
        crls.extend(parse(path, &b)?);
        bytes.push(b);
    }
    Ok((bytes, crls))
}

fn parse(path: &Path, pem: &[u8]) -> Result<Vec<CertificateRevocationListDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let crls = CertificateRevocationListDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if crls.is_empty() {
        return Err(format!(
            "{}: no certificate revocation list (X509 CRL) in PEM",
            path.display()
        ));
    }
    Ok(crls)
}

/// A verifier whose revocation lists are read again (see the module's comment).
pub(crate) struct Revocable {
    current: ArcSwap<Arc<dyn ClientCertVerifier>>,
    /// The CA names offered to clients: the roots', which never change.
    hints: Vec<DistinguishedName>,
}

impl std::fmt::Debug for Revocable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revocable").finish_non_exhaustive()
    }
}

impl Revocable {
    /// Reads the lists of `paths` (an error stops the sidecar) and starts the thread that
    /// reads them again every `every`.
    pub(crate) fn start(
        roots: Arc<RootCertStore>,
        provider: Arc<CryptoProvider>,
        paths: Vec<PathBuf>,
        every: Duration,
    ) -> Result<Arc<Revocable>, String> {
        let (mut last, crls) = read_all(&paths)?;
        let first = verifier(roots.clone(), provider.clone(), crls)?;
        let me = Arc::new(Revocable {
            hints: first.root_hint_subjects().to_vec(),
            current: ArcSwap::from_pointee(first),
        });
        let weak = Arc::downgrade(&me);
        let watch = move || {
            let mut complained = String::new();
            loop {
                std::thread::sleep(every);
                let Some(me) = weak.upgrade() else { return };
                let got = read_all(&paths).and_then(|(bytes, crls)| {
                    if bytes == last {
                        return Ok(None);
                    }
                    Ok(Some((
                        bytes,
                        verifier(roots.clone(), provider.clone(), crls)?,
                    )))
                });
                match got {
                    Ok(None) => {}
                    Ok(Some((bytes, v))) => {
                        me.current.store(Arc::new(v));
                        last = bytes;
                        complained.clear();
                        eprintln!("intent serve: client certificate revocation lists read again");
                    }
                    Err(e) if e != complained => {
                        eprintln!("intent serve: keeping the old revocation lists: {e}");
                        complained = e;
                    }
                    Err(_) => {}
                }
            }
        };
        std::thread::Builder::new()
            .name("intent-crl".into())
            .spawn(watch)
            .map_err(|e| format!("cannot start the thread that reads the CRLs again: {e}"))?;
        Ok(me)
    }
}

impl ClientCertVerifier for Revocable {
    fn offer_client_auth(&self) -> bool {
        self.current.load().offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.current.load().client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        self.current
            .load()
            .verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.current
            .load()
            .verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.current
            .load()
            .verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.current.load().supported_verify_schemes()
    }
}
