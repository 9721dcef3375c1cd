//! Whether a decision's cost stays flat over a long run (issue 12: the sidecar fell from 16.7k
//! to 1.1k decisions per second after 540k decisions, because every decision copied and
//! scanned up to an hour of use history under one lock). A mesh whose agents and person all
//! have generous limits (`rate any 1000000 per 1h`: nothing is ever throttled, so every use
//! stays in the window) is decided 500,000 times, one millisecond apart on the injected clock,
//! with `MemoryState`; decisions per second are printed per 50,000. Beside it, in the same run,
//! the history-scanning store it replaced (`ScanState`, the old algorithm behind the new trait)
//! for 100,000 decisions, per 20,000. Run with `cargo bench -p intent-compiler --bench state`;
//! `INTENT_BENCH_QUICK=1` runs a tenth.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_compiler::{compile, Source, Stage};
use intent_runtime::state::{
    Block, Blocked, Breaker, Check, MemoryState, Refused, State, Subject, Take,
};
use intent_runtime::{Engine, Outcome, Request};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[path = "support/alloc.rs"]
mod alloc;

const MESH: &str = r#"
package bench.state
capability quotes.give
capability payments.send
context { channel: "web" | "api" }
agent quoter { provides quotes.give trust 0.9 }
agent payer  { provides payments.send trust 0.9 }
agent spare  { provides payments.send trust 0.5 }
human cashier { channel "slack:#cash" }
intent get_quote { requires quotes.give }
intent send_payment { requires payments.send }
route get_quote {
  when confidence < 0.8 => escalate cashier
  otherwise => dispatch quoter
}
route send_payment { otherwise => dispatch payer fallback spare }
limits {
  rate any 1000000 per 1h
  breaker payer 3 failures cooldown 30s
}
"#;

/// The store `MemoryState` replaced: every use kept for an hour, every check a scan of them.
#[derive(Default)]
struct ScanState {
    uses: Mutex<HashMap<Subject, Vec<u64>>>,
}

impl Check for ScanState {
    fn check(&self, take: &Take, now: u64) -> Option<Blocked> {
        let uses = self.uses.lock().unwrap();
        let times = uses.get(&take.subject)?;
        take.rates
            .iter()
            .filter_map(|r| {
                let recent: Vec<u64> = times
                    .iter()
                    .copied()
                    .filter(|t| t + r.per_ms > now)
                    .collect();
                let idx = (recent.len() as u64).checked_sub(r.count)? as usize;
                recent
                    .get(idx)
                    .map(|t| (t + r.per_ms).saturating_sub(now).max(1))
            })
            .max()
            .map(|wait_ms| Blocked::Rate { wait_ms })
    }
}

impl State for ScanState {
    fn take(&self, takes: &[Take], now: u64) -> Result<(), Refused> {
        let blocks: Vec<Block> = takes
            .iter()
            .filter_map(|t| {
                self.check(t, now).map(|why| Block {
                    subject: t.subject.clone(),
                    why,
                })
            })
            .collect();
        if !blocks.is_empty() {
            return Err(Refused::Blocked(blocks));
        }
        let mut uses = self.uses.lock().unwrap();
        for t in takes {
            let times = uses.entry(t.subject.clone()).or_default();
            times.retain(|x| *x + 3_600_000 > now);
            times.push(now);
        }
        Ok(())
    }

    fn record_failure(&self, _: &Subject, _: Option<Breaker>, _: u64) {}
}

fn requests() -> Vec<Request> {
    let mut quote = Request::for_intent("get_quote", 0.95);
    quote.context.insert("channel".into(), "web".into());
    let mut unsure = Request::for_intent("get_quote", 0.6);
    unsure.context.insert("channel".into(), "web".into());
    let mut pay = Request::for_intent("send_payment", 0.95);
    pay.context.insert("channel".into(), "api".into());
    vec![quote, pay.clone(), unsure, pay]
}

/// Decides `n` requests one millisecond apart, printing decisions per second per `chunk`.
fn run(name: &str, engine: &Engine, n: u64, chunk: u64) {
    let reqs = requests();
    let start_ms = 1_700_000_000_000;
    let mut rates = Vec::new();
    let mut t = Instant::now();
    for i in 0..n {
        let req = &reqs[(i % reqs.len() as u64) as usize];
        let d = engine.decide_at(black_box(req), start_ms + i);
        assert_ne!(d.outcome, Outcome::Throttle, "{d:?}");
        if (i + 1) % chunk == 0 {
            let per_s = chunk as f64 / t.elapsed().as_secs_f64();
            rates.push(per_s);
            println!("{name:>12}: decisions {:>7}: {per_s:>9.0} /s", i + 1);
            t = Instant::now();
        }
    }
    if let (Some(first), Some(last)) = (rates.first(), rates.last()) {
        println!("{name:>12}: last chunk / first chunk = {:.2}", last / first);
    }
}

fn main() {
    let quick = std::env::var_os("INTENT_BENCH_QUICK").is_some();
    let scale = if quick { 10 } else { 1 };
    let c = compile(
        &[Source::new("state.intent", MESH.to_string())],
        Stage::Build,
    );
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let plan = c.plan.unwrap();
    println!(
        "load average {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    let memory = Engine::with_state(plan.clone(), Arc::new(MemoryState::default())).unwrap();
    run("MemoryState", &memory, 500_000 / scale, 50_000 / scale);
    let scan = Engine::with_state(plan, Arc::new(ScanState::default())).unwrap();
    run("ScanState", &scan, 100_000 / scale, 20_000 / scale);
}
