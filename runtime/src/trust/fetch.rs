//! Key sets fetched from a URL: one bounded `GET` (at most `limit` bytes, within
//! [`FETCH_TIMEOUT`] from the connection to the last byte, no redirect followed) over HTTPS, or
//! over plain HTTP to this host only.
//!
//! HTTPS is rustls with the *ring* provider (as the sidecar's own TLS). The server certificate
//! is verified against the system's roots by default (`rustls-platform-verifier`, the verifier
//! reqwest uses for the MCP gateway: on Linux the system store, `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` honoured), or against the CA certificates of one file only (`--jwks-ca`, for
//! a provider with a private CA, as curl's `--cacert`). A certificate that does not verify
//! fails the fetch, and the rustls error says why.
//!
//! Plain `http://` is taken only for a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`),
//! checked when the URL is read and again on the address actually connected to: a key set read
//! in clear across a network would let anyone on the path swap in keys of their own and sign
//! any caller's token.

use http::{StatusCode, Uri};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// The longest a fetch may take, connection and TLS handshake included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest CA file read (`--jwks-ca`), in bytes.
pub const MAX_CA_BYTES: u64 = 1024 * 1024;

/// A URL the key set may be fetched from: `https://`, or `http://` to a loopback host.
pub(crate) fn check_url(text: &str) -> Result<(), String> {
    let uri: Uri = text
        .parse()
        .map_err(|e| format!("{text}: not a URL: {e}"))?;
    let host = bare_host(&uri).ok_or_else(|| format!("{text}: no host"))?;
    match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => Ok(()),
        Some(s) if s.eq_ignore_ascii_case("http") && loopback_name(host) => Ok(()),
        Some(s) if s.eq_ignore_ascii_case("http") => Err(format!(
            "{text}: a key set is fetched over https (or plain http from this host only: localhost, 127.0.0.1, [::1]); anyone on the path of a plain http fetch could replace the keys (docs/identity.md)"
        )),
        _ => Err(format!("{text}: a key set URL is https:// (or http:// to localhost)")),
    }
}

/// True for an `https://` URL (in any case).
pub(crate) fn is_https(url: &str) -> bool {
    url.parse::<Uri>()
        .is_ok_and(|u| u.scheme() == Some(&http::uri::Scheme::HTTPS))
}

/// The host of `uri` without the brackets of an IPv6 literal.
fn bare_host(uri: &Uri) -> Option<&str> {
    uri.host()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
}

fn loopback_name(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|a| a.is_loopback())
}

/// The TLS client for `https://` key sets: the system's roots, or the CA certificates of `ca`.
pub(crate) fn tls_client(ca: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    // ring, not aws-lc-rs: see trust::mtls.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let builder = match ca {
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in read_certs(path)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: not a CA certificate: {e}", path.display()))?;
            }
            builder.with_root_certificates(roots)
        }
        None => {
            use rustls_platform_verifier::BuilderVerifierExt;
            builder.with_platform_verifier().map_err(|e| {
                format!("the system's CA certificates cannot be read ({e}); name the key set's CA with --jwks-ca")
            })?
        }
    };
    let mut config = builder.with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let len = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    if len > MAX_CA_BYTES {
        return Err(format!(
            "{}: {len} bytes; a CA file may have at most {MAX_CA_BYTES}",
            path.display()
        ));
    }
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in PEM", path.display()));
    }
    Ok(certs)
}

/// GET `url` and its body, at most `limit` bytes, within [`FETCH_TIMEOUT`]. `tls` is the client
/// an `https://` URL is fetched with (an error without one).
pub(crate) async fn bounded_get(
    url: &str,
    limit: usize,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Result<Vec<u8>, String> {
    tokio::time::timeout(FETCH_TIMEOUT, get(url, limit, tls))
        .await
        .map_err(|_| format!("{url}: no answer within {} s", FETCH_TIMEOUT.as_secs()))?
}

async fn get(
    url: &str,
    limit: usize,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Result<Vec<u8>, String> {
    check_url(url)?;
    let uri: Uri = url.parse().map_err(|e| format!("{url}: not a URL: {e}"))?;
    let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
    let host = bare_host(&uri).ok_or_else(|| format!("{url}: no host"))?;
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let authority = uri
        .authority()
        .map_or(host.to_string(), |a| a.as_str().to_string());
    let path = uri
        .path_and_query()
        .map_or("/".to_string(), |p| p.as_str().to_string());
    let tcp = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("{url}: cannot connect: {e}"))?;
    if !https {
        // `localhost` may resolve anywhere: the address connected to must be this host's.
        let peer = tcp
            .peer_addr()
            .map_err(|e| format!("{url}: cannot connect: {e}"))?;
        if !peer.ip().is_loopback() {
            return Err(format!(
                "{url}: connected to {peer}, not this host; plain http is for loopback addresses only"
            ));
        }
        return exchange(tcp, url, &authority, path, limit).await;
    }
    let Some(config) = tls else {
        return Err(format!("{url}: no TLS client for an https key set"));
    };
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| format!("{url}: not a server name: {e}"))?;
    let stream = tokio_rustls::TlsConnector::from(config.clone())
        .connect(name, tcp)
        .await
        .map_err(|e| format!("{url}: TLS handshake failed: {e}"))?;
    exchange(stream, url, &authority, path, limit).await
}

/// One HTTP/1.1 request on `io` and its body.
async fn exchange<I>(
    io: I,
    url: &str,
    authority: &str,
    path: String,
    limit: usize,
) -> Result<Vec<u8>, String>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    use http_body_util::{BodyExt, Empty, Limited};
    let (mut send, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let driver = tokio::spawn(conn);
    let answer = async {
        let req = http::Request::get(path)
            .header(http::header::HOST, authority)
            .body(Empty::<hyper::body::Bytes>::new())
            .map_err(|e| format!("{url}: {e}"))?;
        let resp = send
            .send_request(req)
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        if resp.status() != StatusCode::OK {
            // Redirects included: the key set's URL is the operator's, never the server's.
            return Err(format!("{url}: answered {}", resp.status()));
        }
        Ok(Limited::new(resp.into_body(), limit)
            .collect()
            .await
            .map_err(|e| format!("{url}: the body could not be read within {limit} bytes: {e}"))?
            .to_bytes()
            .to_vec())
    }
    .await;
    driver.abort();
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_for_this_host_only() {
        for ok in [
            "https://idp.example.com/.well-known/jwks.json",
            "https://10.0.0.1:8443/keys",
            "http://127.0.0.1:8080/jwks.json",
            "http://127.9.9.9/jwks.json",
            "http://localhost/jwks.json",
            "http://LOCALHOST:80/jwks.json",
            "http://[::1]:8080/jwks.json",
            "HTTPS://idp.example.com/jwks.json",
        ] {
            assert_eq!(
                is_https(ok),
                ok.to_ascii_lowercase().starts_with("https"),
                "{ok}"
            );
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://idp.example.com/jwks.json",
            "http://10.0.0.1/jwks.json",
            "http://localhost.example.com/jwks.json",
            "http://[::2]/jwks.json",
            "ftp://127.0.0.1/jwks.json",
            "http:///jwks.json",
            "HTTP://idp.example.com/jwks.json",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let p = std::env::temp_dir().join(format!("intent-fetch-{}-empty.pem", std::process::id()));
        std::fs::write(&p, "not a certificate\n").ok();
        let e = tls_client(Some(&p)).err().unwrap_or_default();
        assert!(e.contains("no certificate"), "{e}");
        std::fs::remove_file(&p).ok();
        let e = tls_client(Some(Path::new("/nonexistent/ca.pem")))
            .err()
            .unwrap_or_default();
        assert!(e.contains("cannot read"), "{e}");
    }
}
