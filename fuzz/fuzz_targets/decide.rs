//! Fuzz target: any bytes, read as a JSON request (or as free text), are decided against the
//! finance example's plan without a panic; a request that is not JSON is classified as text.
#![no_main]

use intent_compiler::{compile, Source, Stage};
use intent_runtime::{Engine, Request, Response};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        let text = include_str!("../../examples/finance/finance.intent");
        let c = compile(&[Source::new("finance.intent", text)], Stage::Check);
        Engine::from_plan(c.plan.expect("the finance example compiles")).expect("its plan loads")
    })
}

fuzz_target!(|data: &[u8]| {
    let e = engine();
    match serde_json::from_slice::<Request>(data) {
        Ok(req) => {
            let _ = e.decide_at(&req, 1);
        }
        Err(_) => {
            let text = String::from_utf8_lossy(data).into_owned();
            let _ = e.decide_at(&Request { text: Some(text), ..Request::default() }, 1);
        }
    }
    if let Ok(resp) = serde_json::from_slice::<Response>(data) {
        let _ = e.review_at(&resp, 1);
    }
    if let Ok(plan) = serde_json::from_slice::<intent_runtime::plan::Plan>(data) {
        if let Ok(e2) = Engine::from_plan(plan) {
            let _ = e2.decide_at(&Request::for_intent("summarize_overdue_invoices", 0.9), 1);
        }
    }
});
