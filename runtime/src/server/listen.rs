//! The accept loop: HTTP/1.1 through hyper with a header read timeout (a client that never
//! finishes its headers is cut off), each connection watched for graceful shutdown. When the
//! shutdown future completes the listener closes, `/readyz` turns 503, idle keep-alive
//! connections close, and in-flight requests finish (up to the drain timeout).
//!
//! At most `max_connections` connections are served at once: each holds a semaphore permit
//! from before it is accepted until it closes, so at the cap the loop stops accepting and new
//! clients wait in the kernel's listen backlog instead of costing a file descriptor each. An
//! accept that fails (out of file descriptors: EMFILE, ENFILE; or a connection reset before it
//! was accepted) waits before the next try, doubling from 10 ms to 1 s while failures repeat,
//! and is reported once per run of failures, not once per try.
//!
//! With TLS (`--tls-cert`), each connection's handshake runs in its own task within the header
//! timeout; with client certificates, what the verified certificate says (`trust::PeerCert`) is
//! put on every request of the connection for the trust broker.

use super::app::App;
use super::front::{Front, Hot};
use super::Config;
use crate::trust::mtls::TlsServer;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// The first wait after a failed accept, and the longest.
const BACKOFF_FIRST: Duration = Duration::from_millis(10);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

pub(crate) async fn serve_http(
    listener: TcpListener,
    router: Router,
    config: &Config,
    tls: Option<TlsServer>,
    shutdown: impl Future<Output = ()> + Send,
    app: &Arc<App>,
) {
    let hot = Arc::new(Hot {
        app: app.clone(),
        fields: config.field_headers,
        strict: config.strict,
        max_body: config.max_body,
        timeout: config.request_timeout,
    });
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let mut shutdown = pin!(shutdown);
    let mut backoff = BACKOFF_FIRST;
    let mut failed_in_a_row: u64 = 0;
    loop {
        // Wait for a free slot first: at the cap nothing is accepted.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(s) => s,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    if failed_in_a_row == 0 {
                        eprintln!("intent serve: accept failed, backing off: {e}");
                    }
                    failed_in_a_row += 1;
                    drop(slot);
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = &mut shutdown => break,
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        if failed_in_a_row > 0 {
            eprintln!("intent serve: accepting again after {failed_in_a_row} failed accepts");
            failed_in_a_row = 0;
            backoff = BACKOFF_FIRST;
        }
        let _ = stream.set_nodelay(true);
        let http = http1_builder(config);
        let watcher = graceful.watcher();
        let router = router.clone();
        match &tls {
            None => {
                let service = Front::new(router, hot.clone(), None);
                let conn = watcher.watch(http.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    let _ = conn.await;
                    // The slot frees when the connection ends.
                    drop(slot);
                });
            }
            Some(tls) => {
                let tls = tls.clone();
                let hot = hot.clone();
                let acceptor = tokio_rustls::TlsAcceptor::from(tls.config.clone());
                let handshake = config.header_timeout;
                tokio::spawn(async move {
                    // A client that never finishes its handshake is cut off like one that never
                    // finishes its headers; a failed handshake (a certificate from another CA)
                    // ends the connection.
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(handshake, acceptor.accept(stream)).await
                    else {
                        drop(slot);
                        return;
                    };
                    let peer = tls.peer(stream.get_ref().1.peer_certificates());
                    let service = Front::new(router, hot, peer);
                    let _ = watcher
                        .watch(http.serve_connection(TokioIo::new(stream), service))
                        .await;
                    drop(slot);
                });
            }
        }
    }
    app.set_draining();
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(config.drain_timeout) => {
            eprintln!("intent serve: some requests were still running after the drain timeout");
        }
    }
}

/// HTTP/1.1 with the header read timeout.
fn http1_builder(config: &Config) -> hyper::server::conn::http1::Builder {
    let mut b = hyper::server::conn::http1::Builder::new();
    b.timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout);
    b
}
