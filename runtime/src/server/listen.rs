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

use super::app::App;
use super::Config;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
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
    shutdown: impl Future<Output = ()> + Send,
    app: &App,
) {
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
        let service = TowerToHyperService::new(router.clone());
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            // The slot frees when the connection ends.
            drop(slot);
        });
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
