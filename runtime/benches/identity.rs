//! What the trust broker adds to a decision in the runtime (docs/identity.md, docs/performance.md):
//! on the plan of `tests/serve/trust.intent`, criterion measures
//!
//! - `decide`: `decide` alone on a request naming its intent (the peer figure);
//! - `decide_mint`: `decide` and a delegation token (EdDSA JWT) for the step it fills;
//! - `verify_delegation_jsonwebtoken`: verifying such a token with `jsonwebtoken`'s `decode`
//!   and a `DecodingKey` (the key's curve point decompressed for every token): how the sidecar
//!   verified before, the peer figure of the next one;
//! - `verify_delegation_first`: verifying a token not seen before, with the key parsed once
//!   (`DelegationKeys::verify_uncached`, what `verify` does on a miss);
//! - `verify_delegation_remembered`: verifying a token verified before (`verify`: a SHA-256 and
//!   a lookup);
//! - `establish_decide_mint`: a sub-request end to end: the presented (remembered) token turned
//!   into a caller and lineage, the decision, and the token of the next step.
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
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&keys.jwks_json()).unwrap();
    let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwks.keys[0]).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_issuer(&["intent"]);
    validation.set_audience(&[delegation::AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    g.bench_function("verify_delegation_jsonwebtoken", |b| {
        b.iter(|| {
            black_box(
                jsonwebtoken::decode::<delegation::DelegationClaims>(
                    &token,
                    &decoding,
                    &validation,
                )
                .unwrap(),
            )
        })
    });
    g.bench_function("verify_delegation_first", |b| {
        b.iter(|| black_box(keys.verify_uncached(&token).unwrap()))
    });
    g.bench_function("verify_delegation_remembered", |b| {
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
