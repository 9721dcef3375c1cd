//! The HTTP floor for benches/serve.sh: the smallest server on the sidecar's own stack (tokio
//! multi-thread, hyper HTTP/1.1, one task per connection) that answers every request with a
//! fixed body. Whatever `intent serve` does beyond this — routing, parsing JSON, deciding,
//! metrics, the decision log — is the difference between the two in the same run.
//!
//! `cargo run --release --example http_floor -- 127.0.0.1:18090`
//!
//! It runs on the sidecar's allocator too (jemalloc, `src/main.rs`), so the two differ only in
//! what the sidecar does.

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> Result<(), String> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18090".into());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    eprintln!("http floor listening on http://{addr}");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(|_req: Request<Incoming>| async {
                Ok::<_, Infallible>(Response::new(http_body_util::Full::new(
                    hyper::body::Bytes::from_static(b"{\"outcome\":\"dispatch\"}"),
                )))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
