//! Plans from signed bundles (`intent serve --bundle-url URL --bundle-key FILE`;
//! docs/deployment.md, "Signed plan bundles"). The sidecar polls the URL with `If-None-Match`
//! (the ETag of the last bundle it looked at), so an unchanged bundle costs a 304 and no body.
//! A new bundle is checked (`crate::bundle::verify`: size, format, signature by the trusted
//! key, the envelope's hash against the plan's) before anything is swapped; the plan then goes
//! through the same validation as a file reload (the engine recomputes its `plan_hash`). A
//! bundle that fails any check is refused and the old plan keeps serving; its ETag is kept, so
//! the same bad bundle is not downloaded again (a 304 leaves it refused).
//!
//! The last bundle that was loaded is written to a cache file (atomically: a temporary file
//! renamed over it). At start the sidecar asks the server first and falls back to the cache
//! (checked again: a cache file is no more trusted than the network), so a sidecar started
//! while the bundle server is down serves the last good plan.
//!
//! Bounds: each fetch (connect, headers and body) ends after `timeout`; a body over
//! `max_bytes` is refused (by its `content-length`, or while it is read). After a failed fetch
//! the next one waits twice as long as the last, from the poll interval up to 32 times it (and
//! at most 5 minutes); a fetch that answers resets the wait.

use super::app::App;
use super::reload::{self, Reloaded};
use crate::bundle::{self, Verified};
use crate::engine::{now_ms, Engine};
use crate::state::State;
use ed25519_dalek::VerifyingKey;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::header::{CONTENT_LENGTH, ETAG, IF_NONE_MATCH, USER_AGENT};
use hyper::{StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The longest wait between two fetches after failures.
const BACKOFF_CAP: Duration = Duration::from_secs(300);
/// The most the wait grows after failures, as a multiple of the poll interval.
const BACKOFF_FACTOR_MAX: u32 = 32;

/// Where the sidecar's plan comes from when it comes from a bundle server.
#[derive(Debug, Clone)]
pub struct BundleConfig {
    /// An `http://` URL (the signature, not the transport, says where a plan came from).
    pub url: Uri,
    /// The public key bundles must be signed with.
    pub key: VerifyingKey,
    /// Where the last good bundle is kept, to start from when the server is down.
    pub cache: PathBuf,
    pub poll_every: Duration,
    /// The longest one fetch may take, body included.
    pub timeout: Duration,
    /// The largest bundle accepted, in bytes.
    pub max_bytes: usize,
}

impl BundleConfig {
    /// Checks what `intent serve` was given: an `http://` URL with a host, and bounds in range.
    pub fn new(
        url: &str,
        key: VerifyingKey,
        cache: PathBuf,
        poll_every: Duration,
        timeout: Duration,
        max_bytes: usize,
    ) -> Result<BundleConfig, String> {
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("--bundle-url {url}: not a URL: {e}"))?;
        match uri.scheme_str() {
            Some("http") if uri.host().is_some() => {}
            Some("https") => {
                return Err(format!(
                    "--bundle-url {url}: https is not supported; serve the bundle over http (its signature proves where it came from) or through a local TLS proxy"
                ))
            }
            _ => return Err(format!("--bundle-url {url}: expected http://HOST[:PORT]/PATH")),
        }
        if poll_every.is_zero() || timeout.is_zero() {
            return Err("--bundle-poll-ms and --bundle-timeout-ms must be at least 1".into());
        }
        if max_bytes == 0 || max_bytes > bundle::MAX_BUNDLE_LIMIT {
            return Err(format!(
                "--bundle-max-bytes {max_bytes}: between 1 and {} (docs/deployment.md)",
                bundle::MAX_BUNDLE_LIMIT
            ));
        }
        Ok(BundleConfig {
            url: uri,
            key,
            cache,
            poll_every,
            timeout,
            max_bytes,
        })
    }
}

/// The bundle's part of `/readyz` (and of `/metrics`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BundleStatus {
    pub(crate) url: String,
    /// The id of the trusted key.
    pub(crate) key: String,
    /// `server` once a fetch succeeded, `cache` while the plan is the one read from the cache.
    pub(crate) source: &'static str,
    /// The `plan_hash` of the last bundle loaded.
    pub(crate) plan_hash: String,
    /// The ETag of the bundle loaded (`None` when it came from the cache).
    pub(crate) etag: Option<String>,
    /// When the server last answered with a bundle that was loaded, or a 304 for it (ms since
    /// the epoch).
    pub(crate) last_success_ms: Option<u64>,
    pub(crate) last_error: Option<String>,
    pub(crate) last_error_ms: Option<u64>,
    pub(crate) cache: String,
}

/// The last bundle the server gave: its ETag (sent as `If-None-Match`), and whether it was
/// refused (then a 304 for it is no success).
pub(crate) struct Polled {
    etag: Option<String>,
    refused: bool,
}

/// What one fetch brought.
enum Fetched {
    NotModified,
    Bundle { bytes: Bytes, etag: Option<String> },
}

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

fn client(config: &BundleConfig) -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(config.timeout));
    Client::builder(TokioExecutor::new()).build(connector)
}

/// One GET of the bundle, bounded in time and size.
async fn fetch(
    client: &HttpClient,
    config: &BundleConfig,
    etag: Option<&str>,
) -> Result<Fetched, String> {
    let mut req = hyper::Request::get(config.url.clone()).header(
        USER_AGENT,
        concat!("intent-serve/", env!("CARGO_PKG_VERSION")),
    );
    if let Some(e) = etag {
        req = req.header(IF_NONE_MATCH, e);
    }
    let req = req
        .body(Empty::new())
        .map_err(|e| format!("cannot make the request: {e}"))?;
    let work = async {
        let resp = client.request(req).await.map_err(|e| chain(&e))?;
        match resp.status() {
            StatusCode::NOT_MODIFIED => return Ok(Fetched::NotModified),
            StatusCode::OK => {}
            s => return Err(format!("the bundle server answered {s}")),
        }
        let announced = resp
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if announced.is_some_and(|n| n > config.max_bytes as u64) {
            return Err(format!(
                "the bundle has {} bytes, over the limit of {} (--bundle-max-bytes)",
                announced.unwrap_or_default(),
                config.max_bytes
            ));
        }
        let etag = resp
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = Limited::new(resp.into_body(), config.max_bytes)
            .collect()
            .await
            .map_err(|e| {
                format!(
                    "cannot read the bundle (over {} bytes?): {e}",
                    config.max_bytes
                )
            })?;
        Ok(Fetched::Bundle {
            bytes: body.to_bytes(),
            etag,
        })
    };
    tokio::time::timeout(config.timeout, work)
        .await
        .map_err(|_| {
            format!(
                "no answer within {} ms (--bundle-timeout-ms)",
                config.timeout.as_millis()
            )
        })?
        .map_err(|e| format!("cannot fetch {}: {e}", config.url))
}

/// An error and its causes on one line (hyper's own message is only the outermost).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// Checks `bytes` and builds the engine for their plan (off the async threads: validation
/// walks the whole plan).
async fn engine_of(
    bytes: Bytes,
    key: VerifyingKey,
    max: usize,
    state: Arc<dyn State>,
) -> Result<(Engine, Verified), String> {
    tokio::task::spawn_blocking(move || {
        let v = bundle::verify(&bytes, &key, max)?;
        let engine = reload::engine_for(v.plan.clone(), &state).map_err(|e| e.to_string())?;
        Ok((engine, v))
    })
    .await
    .map_err(|e| format!("the bundle check stopped: {e}"))?
}

/// Writes `bytes` to the cache: a temporary file beside it, then renamed over it.
async fn write_cache(path: &Path, bytes: Bytes) -> Result<(), String> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut tmp = path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, &bytes)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("cannot write the bundle cache {}: {e}", path.display()))
    })
    .await
    .map_err(|e| format!("the cache writer stopped: {e}"))?
}

async fn read_cache(path: &Path, max: usize) -> Result<Bytes, String> {
    let shown = path.display();
    let len = tokio::fs::metadata(path)
        .await
        .map_err(|e| format!("cannot read the bundle cache {shown}: {e}"))?
        .len();
    if len > max as u64 {
        return Err(format!(
            "the bundle cache {shown} has {len} bytes, over the limit of {max}"
        ));
    }
    tokio::fs::read(path)
        .await
        .map(Bytes::from)
        .map_err(|e| format!("cannot read the bundle cache {shown}: {e}"))
}

/// How the sidecar starts: the server's bundle if it answers with one that checks, else the
/// cached one (checked again); an error naming both reasons when neither can be had.
pub(crate) async fn first(
    config: &BundleConfig,
    state: &Arc<dyn State>,
) -> Result<(Engine, BundleStatus, Polled), String> {
    let mut status = BundleStatus {
        url: config.url.to_string(),
        key: bundle::key_id(&config.key),
        source: "server",
        plan_hash: String::new(),
        etag: None,
        last_success_ms: None,
        last_error: None,
        last_error_ms: None,
        cache: config.cache.display().to_string(),
    };
    let client = client(config);
    // The ETag of the server's bundle, loaded or refused: the first poll sends it.
    let mut seen = None;
    let from_server = match fetch(&client, config, None).await {
        Ok(Fetched::Bundle { bytes, etag }) => {
            seen = etag;
            match engine_of(bytes.clone(), config.key, config.max_bytes, state.clone()).await {
                Ok(ok) => {
                    if let Err(e) = write_cache(&config.cache, bytes).await {
                        eprintln!("intent serve: {e}");
                    }
                    Ok(ok)
                }
                Err(e) => Err(format!("refused the server's bundle: {e}")),
            }
        }
        Ok(Fetched::NotModified) => {
            Err("the server answered 304 to a request without an ETag".into())
        }
        Err(e) => Err(e),
    };
    let now = now_ms();
    match from_server {
        Ok((engine, v)) => {
            status.plan_hash = v.plan_hash;
            status.etag = seen.clone();
            status.last_success_ms = Some(now);
            Ok((
                engine,
                status,
                Polled {
                    etag: seen,
                    refused: false,
                },
            ))
        }
        Err(server_error) => {
            let cached = match read_cache(&config.cache, config.max_bytes).await {
                Ok(bytes) => engine_of(bytes, config.key, config.max_bytes, state.clone())
                    .await
                    .map_err(|e| {
                        format!("refused the cached bundle {}: {e}", config.cache.display())
                    }),
                Err(e) => Err(e),
            };
            let (engine, v) = cached.map_err(|cache_error| {
                format!("no plan to serve: {server_error}; and {cache_error}")
            })?;
            status.source = "cache";
            status.plan_hash = v.plan_hash;
            status.last_error = Some(server_error);
            status.last_error_ms = Some(now);
            // A refused server bundle is not downloaded again until it changes.
            let refused = seen.is_some();
            Ok((
                engine,
                status,
                Polled {
                    etag: seen,
                    refused,
                },
            ))
        }
    }
}

/// Polls the bundle server until aborted, swapping in each new bundle that checks.
pub(crate) async fn poll(app: Arc<App>, config: BundleConfig, last: Polled) {
    let client = client(&config);
    // The ETag of the last bundle looked at, and whether it was refused.
    let Polled {
        mut etag,
        mut refused,
    } = last;
    let mut wait = config.poll_every;
    let mut failures = 0u32;
    loop {
        tokio::time::sleep(wait).await;
        let fetched = fetch(&client, &config, etag.as_deref()).await;
        wait = config.poll_every;
        match fetched {
            Err(e) => {
                app.metrics.bundle_fetched("error");
                report_error(&app, e);
                wait = backoff(&config, &mut failures);
                continue;
            }
            Ok(Fetched::NotModified) => {
                app.metrics.bundle_fetched("not_modified");
                failures = 0;
                if !refused {
                    app.update_bundle(|s| s.last_success_ms = Some(now_ms()));
                }
            }
            Ok(Fetched::Bundle { bytes, etag: new }) => {
                failures = 0;
                etag = new;
                let checked = engine_of(
                    bytes.clone(),
                    config.key,
                    config.max_bytes,
                    app.state.clone(),
                )
                .await;
                let (engine, v) = match checked {
                    Ok(ok) => ok,
                    Err(e) => {
                        refused = true;
                        app.metrics.bundle_fetched("refused");
                        app.metrics.reloaded(&Reloaded::Refused(e.clone()));
                        let e = format!(
                            "refused the bundle (etag {}), still serving {}: {e}",
                            etag.as_deref().unwrap_or("none"),
                            app.engine().plan_hash()
                        );
                        app.set_refusal(Some(e.clone()));
                        report_error(&app, e);
                        continue;
                    }
                };
                refused = false;
                let result = reload::offer(&app, engine);
                app.metrics.bundle_fetched(match result {
                    Reloaded::Swapped { .. } => "swapped",
                    Reloaded::Unchanged | Reloaded::Refused(_) => "unchanged",
                });
                if let Err(e) = write_cache(&config.cache, bytes).await {
                    eprintln!("intent serve: {e}");
                }
                app.update_bundle(|s| {
                    s.source = "server";
                    s.plan_hash = v.plan_hash;
                    s.etag = etag.clone();
                    s.last_success_ms = Some(now_ms());
                });
            }
        }
    }
}

fn report_error(app: &App, e: String) {
    eprintln!("intent serve: bundle: {e}");
    app.update_bundle(|s| {
        s.last_error = Some(e);
        s.last_error_ms = Some(now_ms());
    });
}

/// The wait after another failure: the interval doubled once per failure in a row, capped.
fn backoff(config: &BundleConfig, failures: &mut u32) -> Duration {
    *failures = failures.saturating_add(1);
    let factor = 2u32
        .saturating_pow(failures.saturating_sub(1).min(5))
        .min(BACKOFF_FACTOR_MAX);
    config
        .poll_every
        .saturating_mul(factor)
        .min(BACKOFF_CAP.max(config.poll_every))
}
