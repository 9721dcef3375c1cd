//! The mesh's trust broker (feature `trust`, docs/identity.md): who is asking, and what it is
//! serving, established from credentials instead of taken from the client. Shared by the
//! sidecar (`server`), the tower Layer (`layer`, through its builder) and any other front end.
//!
//! Three kinds of credential. A client certificate verified by mutual TLS (`mtls`) or a bearer
//! JWT from an identity provider (`jwt`, keys from `jwks`)
//! names the calling agent; it must be an agent of the plan or a declared external caller. A
//! delegation token (`delegation`), minted by a sidecar for each filled step it hands out,
//! carries the caller and the lineage of the work being served. With either, the client's own
//! `x-intent-caller`, `x-intent-lineage` (or `caller` in a JSON body) are refused, never merged.
//! A bearer token's claims fill the context fields the plan maps from them (`claims`).
//! Every failure is a [`Refusal`] (401 or 403 with a reason, 400 for a client-named caller);
//! nothing here allows on an error.

mod claims;
#[cfg(feature = "mtls")]
mod crl;
pub mod delegation;
pub mod fetch;
pub mod jwks;
pub mod jwt;
#[cfg(feature = "mtls")]
pub mod mtls;
#[cfg(test)]
mod tests;

use crate::decision::Decision;
use crate::engine::Engine;
use crate::request::{Caller, Request};
use claims::Claims;
use delegation::DelegationKeys;
use http::header::{HeaderMap, AUTHORIZATION};
use http::StatusCode;
use jwt::{Bearer, BearerConfig};
use std::sync::Arc;

/// The largest token (bearer or delegation) read, in bytes.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The most external callers that may be declared.
pub const MAX_EXTERNAL_CALLERS: usize = 256;

/// The request header that carries a delegation token, and the answer header that hands one
/// to the upstream agent.
pub const TOKEN_HEADER: &str = "x-intent-token";

/// What the broker checks.
#[derive(Debug, Clone, Default)]
pub struct TrustConfig {
    /// Require a bearer JWT on every decision.
    pub bearer: Option<BearerConfig>,
    /// Mint delegation tokens for filled steps and verify presented ones.
    pub delegation: Option<Arc<DelegationKeys>>,
    /// Callers that are not agents of the plan but may ask (a front end, a scheduler): they
    /// start a lineage, so they need no delegation token.
    pub external_callers: Vec<String>,
    /// Require a verified client certificate (mutual TLS) naming the caller. The TLS side
    /// (`mtls::TlsServer`) verifies the chain; the broker reads the [`PeerCert`] it leaves on
    /// the request. The sidecar sets it itself when its TLS configuration asks for client
    /// certificates; a gateway embedding the Layer sets it when it terminates mutual TLS.
    pub client_certificates: bool,
}

/// What the TLS layer established about a connection's client, put on each of its requests
/// (an `http` extension) for the broker to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerCert {
    /// A certificate from the operator's CA naming this agent.
    Agent(String),
    /// A certificate from the operator's CA that names no agent (why).
    NoAgent(String),
    /// No client certificate.
    Missing,
}

/// A request the broker refuses: the status, a short reason (a metric label), and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub reason: &'static str,
    pub message: String,
}

impl Refusal {
    pub(crate) fn unauthenticated(reason: &'static str, message: String) -> Refusal {
        Refusal {
            status: StatusCode::UNAUTHORIZED,
            reason,
            message,
        }
    }

    fn forbidden(reason: &'static str, message: String) -> Refusal {
        Refusal {
            status: StatusCode::FORBIDDEN,
            reason,
            message,
        }
    }

    /// The `www-authenticate` value of a 401 (RFC 6750): no error code when no credential was
    /// sent, `invalid_token` when one was and failed.
    pub fn challenge(&self) -> Option<String> {
        if self.status != StatusCode::UNAUTHORIZED || self.reason.starts_with("certificate") {
            return None;
        }
        Some(if self.reason == "missing_token" {
            r#"Bearer realm="intent""#.to_string()
        } else {
            format!(
                r#"Bearer realm="intent", error="invalid_token", error_description="{}""#,
                self.reason
            )
        })
    }

    /// What the client can do about it.
    pub fn help(&self) -> &'static str {
        match self.reason {
            "caller_from_client" => "leave out x-intent-caller, x-intent-lineage and `caller`: the caller comes from the credentials (docs/identity.md)",
            "unknown_caller" => "call as an agent of the plan, or declare the caller with --external-caller",
            "token_subject" => "present the delegation token given to you, not another agent's",
            "delegation_required" => "present the x-intent-token given with the step you serve",
            "certificate_missing" => "connect with a client certificate from the mesh's CA (docs/identity.md)",
            "certificate_names_no_agent" => "use a certificate whose URI SAN is spiffe://DOMAIN/agent/NAME (docs/identity.md)",
            "principal_mismatch" => "present a bearer token and a client certificate that name the same agent",
            "claim_from_client" => "leave the field out: it comes from your bearer token's claim (docs/identity.md)",
            "bad_claim" => "have your identity provider put a value of the field's type in the claim",
            _ => "send a valid token (docs/identity.md)",
        }
    }
}

/// The trust broker.
pub struct Trust {
    bearer: Option<Bearer>,
    client_certificates: bool,
    delegation: Option<Arc<DelegationKeys>>,
    external: Vec<String>,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trust")
            .field("bearer", &self.bearer.is_some())
            .field("client_certificates", &self.client_certificates)
            .field("delegation", &self.delegation)
            .field("external", &self.external)
            .finish()
    }
}

/// A filled step's delegation token.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StepToken {
    pub step: Arc<str>,
    pub agent: Arc<str>,
    pub token: String,
}

impl Trust {
    /// Loads the bearer key set (an error if it cannot be had: the sidecar does not start).
    pub async fn load(c: TrustConfig) -> Result<Trust, String> {
        if c.external_callers.len() > MAX_EXTERNAL_CALLERS {
            return Err(format!(
                "{} external callers; at most {MAX_EXTERNAL_CALLERS}",
                c.external_callers.len()
            ));
        }
        let bearer = match c.bearer {
            Some(b) => Some(Bearer::load(b).await?),
            None => None,
        };
        Ok(Trust {
            bearer,
            client_certificates: c.client_certificates,
            delegation: c.delegation,
            external: c.external_callers,
        })
    }

    /// True when every decision needs a verified caller.
    pub fn identity_required(&self) -> bool {
        self.bearer.is_some() || self.client_certificates
    }

    /// The delegation keys, when tokens are minted.
    pub fn delegation(&self) -> Option<&DelegationKeys> {
        self.delegation.as_deref()
    }

    /// The caller of a request, from its credentials: `Ok(Some(caller))` replaces whatever the
    /// client said, `Ok(None)` (no credential needed, none given) leaves the client's caller.
    /// `peer` is what mutual TLS established about the connection (`None` without TLS client
    /// certificates); `client_caller` says whether the client named a caller or a lineage itself.
    pub async fn establish(
        &self,
        headers: &HeaderMap,
        peer: Option<&PeerCert>,
        engine: &Engine,
        client_caller: bool,
    ) -> Result<Option<Caller>, Refusal> {
        self.establish_with_claims(headers, peer, engine, client_caller)
            .await
            .map(|(caller, _)| caller)
    }

    /// Establishes a request's caller (as [`Trust::establish`]) and puts it in the request,
    /// then fills the context fields the plan takes from the bearer token's claims
    /// (`claims.rs`): the one call a front end makes before deciding.
    pub async fn establish_request(
        &self,
        headers: &HeaderMap,
        peer: Option<&PeerCert>,
        engine: &Engine,
        req: &mut Request,
    ) -> Result<(), Refusal> {
        let (caller, claims) = self
            .establish_with_claims(headers, peer, engine, req.caller.is_some())
            .await?;
        if let Some(c) = caller {
            req.caller = Some(c);
        }
        if self.bearer.is_some() {
            claims::fill(engine.plan(), claims.as_deref(), &mut req.context)?;
        }
        Ok(())
    }

    /// [`Trust::establish`], with the bearer token's claims when one was verified.
    async fn establish_with_claims(
        &self,
        headers: &HeaderMap,
        peer: Option<&PeerCert>,
        engine: &Engine,
        client_caller: bool,
    ) -> Result<(Option<Caller>, Option<Arc<Claims>>), Refusal> {
        let from_cert = match (self.client_certificates, peer) {
            (false, _) => None,
            (true, None | Some(PeerCert::Missing)) => {
                return Err(Refusal::unauthenticated(
                    "certificate_missing",
                    "a client certificate is required".into(),
                ))
            }
            (true, Some(PeerCert::NoAgent(why))) => {
                return Err(Refusal::forbidden(
                    "certificate_names_no_agent",
                    why.clone(),
                ))
            }
            (true, Some(PeerCert::Agent(name))) => Some(self.known(name.clone(), engine)?),
        };
        let mut claims = None;
        let from_bearer = match &self.bearer {
            Some(b) => {
                let token = bearer_token(headers)?;
                let verified = b.verify(token).await?;
                claims = Some(verified.claims);
                Some(self.known(verified.subject.to_string(), engine)?)
            }
            None => None,
        };
        let principal = match (from_cert, from_bearer) {
            (Some(c), Some(b)) if c != b => {
                return Err(Refusal::forbidden(
                    "principal_mismatch",
                    format!(
                        "the client certificate names `{}` but the bearer token `{}`",
                        crate::limits::echo(&c),
                        crate::limits::echo(&b)
                    ),
                ))
            }
            (c, b) => c.or(b),
        };
        let presented = match headers.get(TOKEN_HEADER) {
            None => None,
            Some(v) => Some(v.to_str().map_err(|_| {
                Refusal::unauthenticated(
                    "malformed",
                    "the delegation token is not ASCII text".into(),
                )
            })?),
        };
        if client_caller && (principal.is_some() || presented.is_some()) {
            return Err(Refusal {
                status: StatusCode::BAD_REQUEST,
                reason: "caller_from_client",
                message: "the caller and lineage come from the credentials here; the request names them itself".into(),
            });
        }
        let caller = match (presented, principal) {
            (Some(t), principal) => {
                let Some(keys) = &self.delegation else {
                    return Err(Refusal::unauthenticated(
                        "no_delegation_keys",
                        "this sidecar verifies no delegation tokens (no --signing-key)".into(),
                    ));
                };
                let claims = keys.verify(t.trim())?;
                if let Some(p) = principal {
                    if *p != *claims.sub {
                        return Err(Refusal::forbidden(
                            "token_subject",
                            format!(
                                "the delegation token was given to `{}`, not to `{}`",
                                crate::limits::echo(&claims.sub),
                                crate::limits::echo(&p)
                            ),
                        ));
                    }
                }
                Some(Caller {
                    agent: Some(claims.sub.clone()),
                    lineage: claims.lineage.clone(),
                })
            }
            (None, Some(p)) => {
                if self.delegation.is_some() && !self.is_external(&p) {
                    return Err(Refusal::forbidden(
                        "delegation_required",
                        format!(
                            "`{}` is an agent of the plan: it acts for a step it was given, and must present that step's delegation token",
                            crate::limits::echo(&p)
                        ),
                    ));
                }
                Some(Caller {
                    agent: Some(p.to_string()),
                    lineage: Vec::new(),
                })
            }
            (None, None) => None,
        };
        Ok((caller, claims))
    }

    /// The person a request comes from: its bearer token's subject, a human of the plan (who
    /// answers escalations, `intent mcp`'s approvals). Needs bearer tokens.
    pub async fn person(&self, headers: &HeaderMap, engine: &Engine) -> Result<String, Refusal> {
        let Some(b) = &self.bearer else {
            return Err(Refusal::forbidden(
                "no_bearer_tokens",
                "people are identified by bearer tokens, and this sidecar verifies none (no --jwks)".into(),
            ));
        };
        let token = bearer_token(headers)?;
        let sub = b.verify(token).await?.subject;
        if engine.has_human(&sub) {
            Ok(sub.to_string())
        } else {
            Err(Refusal::forbidden(
                "unknown_person",
                format!("`{}` is not a human of the plan", crate::limits::echo(&sub)),
            ))
        }
    }

    /// `name` if it may ask: an agent of the plan or a declared external caller.
    fn known(&self, name: String, engine: &Engine) -> Result<String, Refusal> {
        if engine.has_agent(&name) || self.is_external(&name) {
            Ok(name)
        } else {
            Err(Refusal::forbidden(
                "unknown_caller",
                format!(
                    "`{}` is neither an agent of the plan nor a declared external caller",
                    crate::limits::echo(&name)
                ),
            ))
        }
    }

    fn is_external(&self, name: &str) -> bool {
        self.external.iter().any(|e| e == name)
    }

    /// A delegation token for each filled step of a `dispatch` or `plan` (none for any other
    /// outcome, or without delegation keys). `lineage` is the request's: the intents the caller
    /// serves. A step whose token cannot be signed gets none (and the answer says so).
    pub fn mint(&self, engine: &Engine, d: &Decision, lineage: &[String]) -> Vec<StepToken> {
        let Some(keys) = &self.delegation else {
            return Vec::new();
        };
        if !d.outcome.sends() {
            return Vec::new();
        }
        let Some(intent) = &d.intent else {
            return Vec::new();
        };
        let mut served: Vec<String> = lineage.to_vec();
        served.push(intent.to_string());
        let id = d.decision_id.to_string();
        d.steps
            .iter()
            .filter_map(|s| {
                let data = s
                    .handles
                    .iter()
                    .filter_map(|h| engine.data_name(*h))
                    .map(|n| n.to_string())
                    .collect();
                let claims = keys.claims(
                    &s.agent,
                    intent,
                    served.clone(),
                    &s.step,
                    data,
                    id.clone(),
                    &d.plan_hash,
                );
                let token = keys.mint(&claims).ok()?;
                Some(StepToken {
                    step: s.step.clone(),
                    agent: s.agent.clone(),
                    token,
                })
            })
            .collect()
    }
}

/// The bearer token of `authorization: Bearer <token>`.
fn bearer_token(headers: &HeaderMap) -> Result<&str, Refusal> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(v) = values.next() else {
        return Err(Refusal::unauthenticated(
            "missing_token",
            "a bearer token is required (authorization: Bearer <JWT>)".into(),
        ));
    };
    if values.next().is_some() {
        return Err(Refusal::unauthenticated(
            "malformed",
            "more than one authorization header".into(),
        ));
    }
    let text = v.to_str().map_err(|_| {
        Refusal::unauthenticated("malformed", "the authorization header is not ASCII".into())
    })?;
    match text.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(Refusal::unauthenticated(
            "malformed",
            "the authorization header is not `Bearer <token>`".into(),
        )),
    }
}
