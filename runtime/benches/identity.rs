//! What the trust broker adds to a decision in the runtime (docs/identity.md, docs/performance.md):
//! on the plan of `tests/serve/trust.intent`, criterion measures
//!
//! - `decide`: `decide` alone on a request naming its intent (the peer figure);
//! - `decide_mint`: `decide` and a delegation token (EdDSA JWT) for the step it fills;
//! - `verify_delegation`: verifying such a token, as the sidecar does for every sub-request
//!   that presents one (delegation tokens are not remembered: each is checked);
//! - `establish_decide_mint`: a sub-request end to end: the presented token verified into a
//!   caller and lineage, the decision, and the token of the next step.
//!
//! Run with `cargo bench -p intent-runtime --features trust --bench identity`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_group, criterion_main, Criterion};
use intent_runtime::trust::delegation::{self, DelegationKeys};
use intent_runtime::trust::{Trust, TrustConfig, TOKEN_HEADER};
use intent_runtime::{Engine, Request};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let engine = Engine::from_json(include_str!("../tests/fixtures/trust_plan.json")).unwrap();
    let (private, _, _) = delegation::generate().unwrap();
    let keys = DelegationKeys::new(
        "intent".into(),
        private.as_bytes(),
        &[],
        Duration::from_secs(300),
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let trust = rt
        .block_on(Trust::load(TrustConfig {
            delegation: Some(Arc::new(keys)),
            ..TrustConfig::default()
        }))
        .unwrap();
    let order = Request::for_intent("order", 0.95).with("channel", "web".into());
    let pay = Request::for_intent("pay", 0.95).with("channel", "web".into());
    let first = engine.decide(&order);
    let token = trust.mint(&engine, &first, &[]).remove(0).token;
    let mut headers = http::HeaderMap::new();
    headers.insert(TOKEN_HEADER, token.parse().unwrap());

    let mut g = c.benchmark_group("identity");
    g.bench_function("decide", |b| b.iter(|| black_box(engine.decide(&order))));
    g.bench_function("decide_mint", |b| {
        b.iter(|| {
            let d = engine.decide(&order);
            black_box(trust.mint(&engine, &d, &[]))
        })
    });
    let keys = trust.delegation().unwrap();
    g.bench_function("verify_delegation", |b| {
        b.iter(|| black_box(keys.verify(&token).unwrap()))
    });
    g.bench_function("establish_decide_mint", |b| {
        b.iter(|| {
            rt.block_on(async {
                let caller = trust
                    .establish(&headers, None, &engine, false)
                    .await
                    .unwrap();
                let mut req = pay.clone();
                req.caller = caller;
                let lineage = req.caller.as_ref().map(|c| c.lineage.clone()).unwrap();
                let d = engine.decide(&req);
                black_box(trust.mint(&engine, &d, &lineage))
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
