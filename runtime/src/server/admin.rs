//! Who may call the endpoints that change the sidecar's state (today `POST /v1/failure`, which
//! opens breakers). Deciding (`/v1/decide`, `/v1/authz`) is the data plane and stays open: it
//! only takes from rate limits as every decision does.
//!
//! Three settings, one per [`AdminAccess`] variant: closed (the default, with no token
//! configured: 403, so a sidecar is never open by accident), a bearer token read from a file
//! (`intent serve --admin-token-file FILE`; 401 with `www-authenticate: Bearer` without it), or
//! open to anyone who can reach the port (`--admin-open`, for a trusted network, said out loud).
//! The token is kept only as its SHA-256, and a presented token is hashed and compared in
//! constant time (`subtle`), so neither the comparison nor the token's length shows in timing.

use super::app::App;
use super::routes::error;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The shortest token accepted: 16 bytes (128 bits when random).
pub const MIN_TOKEN_LEN: usize = 16;
/// The longest token accepted (it travels in a header).
pub const MAX_TOKEN_LEN: usize = 1024;

/// Who may call the endpoints that change state.
#[derive(Clone, Debug, Default)]
pub enum AdminAccess {
    /// Nobody: they answer 403. The default, when no token is configured.
    #[default]
    Closed,
    /// Callers sending `authorization: Bearer <token>`.
    Token(AdminToken),
    /// Anyone who can reach the port (`intent serve --admin-open`).
    Open,
}

/// A bearer secret, kept as its SHA-256 only.
#[derive(Clone)]
pub struct AdminToken {
    digest: [u8; 32],
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(..)")
    }
}

impl AdminToken {
    /// A token from its text: 16 to 1024 visible ASCII characters (what a header can carry
    /// after `Bearer `).
    pub fn new(secret: &str) -> Result<AdminToken, String> {
        if secret.len() < MIN_TOKEN_LEN || secret.len() > MAX_TOKEN_LEN {
            return Err(format!(
                "the admin token has {} bytes; it must have {MIN_TOKEN_LEN} to {MAX_TOKEN_LEN} \
                 (for instance 32 random bytes in hex: `openssl rand -hex 32`)",
                secret.len()
            ));
        }
        if !secret.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(
                "the admin token must be visible ASCII without spaces (it is sent in a header)"
                    .into(),
            );
        }
        Ok(AdminToken {
            digest: Sha256::digest(secret.as_bytes()).into(),
        })
    }

    /// The token in a file: its text without the line break and spaces around it.
    pub fn read(path: &Path) -> Result<AdminToken, String> {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read the admin token file {}: {e}", path.display()))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| format!("the admin token file {} is not text", path.display()))?;
        AdminToken::new(text.trim()).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Whether `presented` is the token, in time that does not depend on either.
    fn accepts(&self, presented: &[u8]) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented).into();
        digest.ct_eq(&self.digest).into()
    }
}

/// What the admin check of one endpoint needs.
#[derive(Clone)]
pub(crate) struct Guard {
    pub(crate) access: AdminAccess,
    pub(crate) app: Arc<App>,
    pub(crate) endpoint: &'static str,
}

/// Middleware: lets the request through when `access` allows it; else 403 (closed) or 401.
pub(crate) async fn require(State(g): State<Guard>, req: Request, next: Next) -> Response {
    let refused = match &g.access {
        AdminAccess::Open => None,
        AdminAccess::Closed => Some(error(
            StatusCode::FORBIDDEN,
            "this endpoint changes the sidecar's state and no admin token is configured".into(),
            "start intent serve with --admin-token-file FILE and send `authorization: Bearer \
             <token>`, or with --admin-open on a network where every caller is trusted",
        )),
        AdminAccess::Token(t) => match bearer(req.headers()) {
            Some(presented) if t.accepts(presented) => None,
            presented => Some(unauthorized(presented.is_some())),
        },
    };
    match refused {
        None => next.run(req).await,
        Some(r) => {
            g.app.metrics.bad_request(g.endpoint);
            r
        }
    }
}

/// The token of the one `authorization: Bearer <token>` header, if there is exactly one.
fn bearer(headers: &HeaderMap) -> Option<&[u8]> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let v = value.as_bytes();
    let scheme = v.get(..7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let token = v.get(7..)?.trim_ascii();
    (!token.is_empty()).then_some(token)
}

/// 401 with the challenge RFC 6750 asks for (`error="invalid_token"` when one was sent).
fn unauthorized(presented: bool) -> Response {
    let mut r = error(
        StatusCode::UNAUTHORIZED,
        if presented {
            "the admin token is not the one configured".into()
        } else {
            "this endpoint changes the sidecar's state: it needs the admin token".into()
        },
        "send `authorization: Bearer <token>` with the token of --admin-token-file",
    );
    let challenge = if presented {
        r#"Bearer realm="intent", error="invalid_token""#
    } else {
        r#"Bearer realm="intent""#
    };
    r.headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    r
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_token_accepts_itself_only() {
        let t = AdminToken::new("0123456789abcdef-secret").unwrap();
        assert!(t.accepts(b"0123456789abcdef-secret"));
        assert!(!t.accepts(b"0123456789abcdef-secreT"));
        assert!(!t.accepts(b"0123456789abcdef-secret "));
        assert!(!t.accepts(b""));
    }

    #[test]
    fn short_spaced_or_control_tokens_are_refused() {
        assert!(AdminToken::new("short").unwrap_err().contains("5 bytes"));
        assert!(AdminToken::new("0123456789 abcdef").is_err());
        assert!(AdminToken::new("0123456789\u{7f}abcdef").is_err());
        assert!(AdminToken::new(&"x".repeat(MAX_TOKEN_LEN + 1)).is_err());
    }

    #[test]
    fn the_bearer_token_is_read_from_exactly_one_header() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(AUTHORIZATION, HeaderValue::from_static("bearer  abc "));
        assert_eq!(bearer(&h), Some(&b"abc"[..]));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        h.append(AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert_eq!(bearer(&h), None);
    }
}
