//! How the decide bench times a call, summarises the times and prints them, shared by every
//! shape (`decide.rs`, `shapes.rs`, `deep.rs`); and the loop a profiler attaches to.

use std::time::{Duration, Instant};

/// Most time spent timing one peer at one size; bare Cedar at 10,000 rules takes milliseconds a
/// call, so it gets fewer requests (the count is printed).
const BUDGET: Duration = Duration::from_secs(8);
const MIN_SAMPLES: usize = 200;

/// With `INTENT_BENCH_PROFILE_MS=N`: calls `f` on case 0, 1, 2, ... (round and round) for N
/// milliseconds, prints the mean per call and ends the process, so that a profiler attached to
/// the bench sees `decide` alone (`perf record ... decide-*` with `INTENT_BENCH_SHAPES` and
/// `INTENT_BENCH_SIZES` naming one shape and one size).
///
/// With `INTENT_BENCH_PROFILE_CALLS=N` instead: exactly N calls, for a simulator whose counts
/// must not depend on how fast it runs (`valgrind --tool=cachegrind --cache-sim=yes`; two
/// runs with different N give the misses per call, setup aside).
pub fn profile_loop(rules: usize, n: usize, mut f: impl FnMut(usize)) {
    if let Some(calls) = env_number("INTENT_BENCH_PROFILE_CALLS") {
        for i in 0..calls as usize {
            f(i % n.max(1));
        }
        println!("profile calls at {rules} rules: {calls} calls");
        std::process::exit(0);
    }
    let Some(ms) = env_number("INTENT_BENCH_PROFILE_MS") else {
        return;
    };
    let start = Instant::now();
    let mut calls = 0usize;
    while start.elapsed() < Duration::from_millis(ms) {
        for i in 0..n.min(1_000) {
            f((calls + i) % n.max(1));
        }
        calls += n.min(1_000);
    }
    let mean = start.elapsed().as_nanos() as f64 / calls.max(1) as f64;
    println!(
        "profile loop at {rules} rules: {calls} calls, {} per call",
        show(mean)
    );
    std::process::exit(0);
}

/// Whether a profile loop will run (`INTENT_BENCH_PROFILE_MS` or `INTENT_BENCH_PROFILE_CALLS`):
/// a shape may then skip what only its table needs.
pub fn profiling() -> bool {
    env_number("INTENT_BENCH_PROFILE_MS").is_some()
        || env_number("INTENT_BENCH_PROFILE_CALLS").is_some()
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok())
}

/// Per-call times in nanoseconds, and how many calls were timed.
pub struct Stats {
    pub median: f64,
    pub p99: f64,
    pub samples: usize,
}

/// Most time spent timing one peer at one size: `BUDGET`, or `INTENT_BENCH_BUDGET_MS`.
fn budget() -> Duration {
    std::env::var("INTENT_BENCH_BUDGET_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(BUDGET, Duration::from_millis)
}

/// Calls `f` on case 0, 1, 2, ... (after a short untimed warm-up), timing each call, until every
/// case was timed or the budget is spent (but at least `MIN_SAMPLES` calls).
pub fn measure(n: usize, f: impl FnMut(usize)) -> Stats {
    stats(measure_each(n, f).into_iter().map(|t| t.1).collect())
}

/// `measure`'s calls: each case timed, in nanoseconds.
pub fn measure_each(n: usize, mut f: impl FnMut(usize)) -> Vec<(usize, f64)> {
    measure_prepared(n, |i| i, |&i| f(i))
}

/// `measure_each` with an untimed `prepare` before each call, whose result the call reads and
/// which is dropped untimed after it: what the sidecar's `decide` reads of a request is what
/// it has just parsed, in the cache, while the plan is as cold as the requests before left it.
pub fn measure_prepared<T>(
    n: usize,
    mut prepare: impl FnMut(usize) -> T,
    mut f: impl FnMut(&T),
) -> Vec<(usize, f64)> {
    let warm = Instant::now();
    for i in 0..n.min(1_000) {
        f(&prepare(i));
        if warm.elapsed() > Duration::from_millis(300) {
            break;
        }
    }
    let budget = budget();
    let start = Instant::now();
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let input = prepare(i);
        let t = Instant::now();
        f(&input);
        times.push((i, t.elapsed().as_nanos() as f64));
        drop(input);
        if times.len() >= MIN_SAMPLES && start.elapsed() > budget {
            break;
        }
    }
    times
}

pub fn stats(mut times: Vec<f64>) -> Stats {
    if times.is_empty() {
        times.push(f64::NAN);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    Stats {
        median: at(0.5),
        p99: at(0.99),
        samples: times.len(),
    }
}

pub fn show(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

pub fn cell(s: &Stats) -> String {
    format!("{} / {}", show(s.median), show(s.p99))
}

pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    format!("{cores} cores, {model}")
}
