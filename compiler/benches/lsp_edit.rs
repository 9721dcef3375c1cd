//! The language server's edit loop against a full `intent check`: a benchmark, not a test.
//!
//! It takes the 10,000-line mesh of the compile benchmark (the same generator,
//! `benches/support/mesh.rs`), splits it into files of about 250 lines (one package, so one
//! mesh), and
//! measures in one run:
//!
//! - `intent check`: `compile(.., Stage::Check)` of all the files on a fresh database, as the
//!   command does (without starting a process or reading files);
//! - `edit -> diagnostics`: on a warm `ide::Host` holding the same files, one line of one file
//!   changes and the edited file's diagnostics are asked for again: the time from the edit to
//!   fresh diagnostics. Four edits, each timed on its own: an escalation threshold inside one
//!   route; the `trust` of an agent that many routes may dispatch to; the text of one intent's
//!   example (which the classifier's fit reads); the reason of a policy rule (every intent's
//!   analysis reads the rules). Every run is a real change (the line alternates between two
//!   values).
//!
//! Each is repeated and the median and minimum printed, with how many of the mesh's intents
//! the analysis ran for again after the edit (the others' findings were reused) and how many
//! routes the check replayed from the check before (`check/reuse.rs`: only behind an edit
//! inside a route). `INTENT_BENCH_QUICK=1` uses the ten times smaller mesh and fewer runs (a
//! smoke test; fixed costs dominate its ratio).
//!
//! ```text
//! cargo bench -p intent-compiler --bench lsp_edit
//! INTENT_BENCH_QUICK=1 cargo bench -p intent-compiler --bench lsp_edit
//! INTENT_BENCH_PROFILE_MS=5000 target/release/deps/lsp_edit-*   # the route edit alone, for perf
//! INTENT_BENCH_PROFILE_EDITS=20 valgrind --tool=callgrind target/release/deps/lsp_edit-*  # N edits
//! INTENT_BENCH_PROFILE_KIND=1 ...   # the same for the agent edit (2: example, 3: rule)
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/alloc.rs"]
mod alloc;
#[allow(dead_code)]
#[path = "support/mesh.rs"]
mod mesh;

use intent_compiler::ide::Host;
use intent_compiler::{compile, Source, Stage};
use std::time::{Duration, Instant};

/// Splits the generated single-file mesh into files of about `lines` lines, each starting at
/// an item and repeating the header (`package` and `use`).
fn split(text: &str, lines: usize) -> Vec<Source> {
    let header = mesh::SPLIT_HEADER;
    let body = mesh::item_lines(text);
    let mut files = Vec::new();
    let mut current = String::from(header);
    let mut count = 0;
    for line in body {
        let starts_item = line
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '/');
        if count >= lines && starts_item {
            files.push(std::mem::replace(&mut current, String::from(header)));
            count = 0;
        }
        current.push_str(line);
        current.push('\n');
        count += 1;
    }
    files.push(current);
    files
        .into_iter()
        .enumerate()
        .map(|(i, t)| Source::new(format!("bench/part{i:03}.intent"), t))
        .collect()
}

fn stats(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (times[times.len() / 2], times[0])
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let quick = std::env::var("INTENT_BENCH_QUICK").is_ok_and(|v| v == "1");
    let (size, runs) = if quick {
        (&mesh::QUICK, 5)
    } else {
        (&mesh::FULL, 21)
    };
    let text = mesh::intent_source(&mesh::generate(size));
    let sources = split(&text, 250);
    let lines: usize = sources.iter().map(|s| s.text.lines().count()).sum();
    let checked = compile(&sources, Stage::Check);
    assert!(!checked.has_errors(), "the split mesh must check cleanly");

    // A profile of the edit alone times no fresh check.
    let profiling = ["INTENT_BENCH_PROFILE_MS", "INTENT_BENCH_PROFILE_EDITS"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    let mut full = Vec::new();
    for _ in 0..if profiling { 1 } else { runs } {
        let start = Instant::now();
        let c = compile(&sources, Stage::Check);
        full.push(start.elapsed());
        assert!(!c.has_errors());
    }

    let mut host = Host::default();
    for s in &sources {
        host.set_file(&s.path, s.text.clone());
    }
    // Four one-line edits, each in the last file holding its kind of line; every run is a
    // real change (the line alternates between two values; an example's first word is a new
    // word each run, since the fits of texts seen before are remembered).
    let edits = [
        (
            "route arm: an escalation threshold",
            "< 0.8 => escalate h_",
            "< 0.8 ",
            "< 0.75 ",
        ),
        (
            "agent used by many routes: trust",
            " trust 0.5",
            " trust 0.5",
            " trust 0.6",
        ),
        (
            "intent example: a word",
            "  examples [\"please ",
            "[\"please",
            "[\"kindly",
        ),
        (
            "policy rule: its reason",
            "  forbid when agent.trust < ",
            "because \"trust floor",
            "because \"the trust floor",
        ),
    ];
    let mut rows = Vec::new();
    // The route edit's and the agent edit's file, as it was and as edited, for the last row.
    let mut made: Vec<(String, String, String)> = Vec::new();
    for (k, (what, marker, a, b)) in edits.into_iter().enumerate() {
        let target = sources
            .iter()
            .rposition(|s| s.text.contains(marker))
            .unwrap();
        let path = sources[target].path.clone();
        let original = sources[target].text.clone();
        let line_at = original.rfind(marker).unwrap();
        let line_start = original[..line_at].rfind('\n').map_or(0, |i| i + 1);
        let line_end = line_at + original[line_at..].find('\n').unwrap();
        let line = &original[line_start..line_end];
        let (from, to) = if line.contains(a) { (a, b) } else { (b, a) };
        assert!(line.contains(from), "{what}: the line holds {from:?}");
        let edited = |i: usize| {
            let to = if k == 2 {
                format!("{to}{}", (b'a' + i as u8) as char)
            } else {
                to.to_string()
            };
            let mut text = original.clone();
            text.replace_range(line_start..line_end, &line.replacen(from, &to, 1));
            text
        };
        if k < 2 {
            made.push((path.clone(), original.clone(), edited(0)));
        }
        let clean =
            |d: &[intent_compiler::diagnostics::Diagnostic]| !d.iter().any(|d| d.is_error());
        assert!(
            clean(&host.snapshot().diagnostics(&path)),
            "{what}: errors before"
        );
        // With INTENT_BENCH_PROFILE_MS=N, the first edit (the route arm) is made and answered
        // in a loop for N milliseconds and the bench ends, for a profiler; with
        // INTENT_BENCH_PROFILE_EDITS=N, exactly N times, for a simulator whose counts must
        // not depend on how fast it runs (callgrind: two runs with different N give an edit's
        // instructions, the setup aside).
        let env_number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        let edits = env_number("INTENT_BENCH_PROFILE_EDITS");
        // INTENT_BENCH_PROFILE_KIND=K profiles the K-th edit instead (0: the route arm, 1:
        // the agent, 2: the example, 3: the rule).
        let kind = env_number("INTENT_BENCH_PROFILE_KIND").unwrap_or(0);
        let profile = env_number("INTENT_BENCH_PROFILE_MS").or(edits.map(|_| u64::MAX));
        if profile.is_some() && (k as u64) < kind {
            continue;
        }
        if let Some(ms) = profile {
            let start = Instant::now();
            let mut n = 0usize;
            while start.elapsed() < Duration::from_millis(ms)
                && edits.is_none_or(|e| (n as u64) < e)
            {
                let text = if n.is_multiple_of(2) {
                    edited(n)
                } else {
                    original.clone()
                };
                host.set_file(&path, text);
                let diags = host.snapshot().diagnostics(&path);
                assert!(clean(&diags), "{what}: {diags:?}");
                n += 1;
            }
            println!(
                "profile loop, {what}: {n} edits, {:.2} ms each",
                start.elapsed().as_secs_f64() * 1000.0 / n.max(1) as f64
            );
            return;
        }
        let mut edit = Vec::new();
        for i in 0..runs {
            let text = if i % 2 == 0 || k == 2 {
                edited(i)
            } else {
                original.clone()
            };
            let start = Instant::now();
            host.set_file(&path, text);
            let diags = host.snapshot().diagnostics(&path);
            edit.push(start.elapsed());
            assert!(clean(&diags), "{what}: {diags:?}");
        }
        // How many of the mesh's intents the analysis ran for again after the last edit.
        let analysed = host.snapshot().intents_analysed(&path).unwrap_or(0);
        // And how many routes were replayed from the check before rather than checked.
        let replayed = host.snapshot().reused(&path).map_or(0, |r| r.0);
        rows.push((what, path, stats(edit), (analysed, replayed)));
    }
    // The first route edit after an edit outside routes: an agent edit (not timed), then the
    // route edit (timed). Its check finds nothing kept (the agent edit kept nothing) and keeps
    // what it finds for the route edits after it (`check/reuse.rs`).
    if let [(route_path, route_was, route_edited), (agent_path, agent_was, agent_edited)] =
        made.as_slice()
    {
        let mut edit = Vec::new();
        for i in 0..runs {
            let pick =
                |was: &String, edited: &String| if i % 2 == 0 { edited } else { was }.clone();
            host.set_file(agent_path, pick(agent_was, agent_edited));
            let _ = host.snapshot().diagnostics(agent_path);
            let start = Instant::now();
            host.set_file(route_path, pick(route_was, route_edited));
            let diags = host.snapshot().diagnostics(route_path);
            edit.push(start.elapsed());
            assert!(!diags.iter().any(|d| d.is_error()), "{diags:?}");
        }
        let analysed = host.snapshot().intents_analysed(route_path).unwrap_or(0);
        let replayed = host.snapshot().reused(route_path).map_or(0, |r| r.0);
        rows.push((
            "route arm, the first after an agent edit",
            route_path.clone(),
            stats(edit),
            (analysed, replayed),
        ));
    }

    let (full_med, full_min) = stats(full);
    println!(
        "workspace: {lines} lines in {} files (one mesh); each edit changes one line",
        sources.len()
    );
    println!("{:<44} {:>10} {:>10} {:>8}", "", "median", "min", "/check");
    println!(
        "{:<44} {:>10} {:>10}",
        "intent check (fresh database)",
        ms(full_med),
        ms(full_min)
    );
    let intents = checked.plan.as_ref().map_or(0, |p| p.intents.len());
    for (what, path, (med, min), (analysed, replayed)) in &rows {
        let ratio = med.as_secs_f64() / full_med.as_secs_f64();
        println!(
            "{:<44} {:>10} {:>10} {:>7.2}x   ({path}; intents analysed again: {analysed} of {intents}; routes replayed: {replayed})",
            format!("edit -> diagnostics, {what}"),
            ms(*med),
            ms(*min),
            ratio
        );
    }
    let route = rows[0].2 .0.as_secs_f64() / full_med.as_secs_f64();
    println!(
        "goal: a route edit in at most 0.10x of a check: {}",
        if quick {
            "not judged in quick mode"
        } else if route <= 0.10 {
            "met"
        } else {
            "not met"
        }
    );
}
