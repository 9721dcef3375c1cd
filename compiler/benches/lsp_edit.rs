//! The language server's edit loop against a full `intent check`: a benchmark, not a test.
//!
//! It takes the 10,000-line mesh of the compile benchmark (the same generator,
//! `benches/support/mesh.rs`), splits it into files of about 250 lines (one package, so one
//! mesh), and
//! measures in one run:
//!
//! - `intent check`: `compile(.., Stage::Check)` of all the files on a fresh database, as the
//!   command does (without starting a process or reading files);
//! - `lsp edit`: on a warm `ide::Host` holding the same files, one line of one file changes
//!   (an agent's `trust`), and the edited file's diagnostics are asked for again: the time from
//!   the edit to fresh diagnostics. Every run is a real change (the line alternates between
//!   two values).
//!
//! Each is repeated and the median and minimum printed. `INTENT_BENCH_QUICK=1` uses the ten
//! times smaller mesh and fewer runs (a smoke test; fixed costs dominate its ratio).
//!
//! ```text
//! cargo bench -p intent-compiler --bench lsp_edit
//! INTENT_BENCH_QUICK=1 cargo bench -p intent-compiler --bench lsp_edit
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "support/mesh.rs"]
mod mesh;

use intent_compiler::ide::Host;
use intent_compiler::{compile, Source, Stage};
use std::time::{Duration, Instant};

/// Splits the generated single-file mesh into files of about `lines` lines, each starting at
/// an item and repeating the header (`package` and `use`).
fn split(text: &str, lines: usize) -> Vec<Source> {
    let header = "package bench\nuse std.data.{pii, financial, phi}\n\n";
    let body: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("use "))
        .skip(1)
        .collect();
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

    // The edited file: the last one with agents; one of its agents' `trust` values.
    let target = sources
        .iter()
        .rposition(|s| s.text.contains(" trust 0."))
        .unwrap();
    let path = sources[target].path.clone();
    let original = sources[target].text.clone();
    let at = original.find(" trust 0.").unwrap() + " trust 0.".len();
    let mut edited = original.clone();
    let digit = &original[at..at + 1];
    edited.replace_range(at..at + 1, if digit == "5" { "6" } else { "5" });

    let mut full = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let c = compile(&sources, Stage::Check);
        full.push(start.elapsed());
        assert!(!c.has_errors());
    }

    let mut host = Host::default();
    for s in &sources {
        host.set_file(&s.path, s.text.clone());
    }
    assert!(host.snapshot().diagnostics(&path).is_empty());
    let mut edit = Vec::new();
    for i in 0..runs {
        let text = if i % 2 == 0 { &edited } else { &original };
        let start = Instant::now();
        host.set_file(&path, text.clone());
        let diags = host.snapshot().diagnostics(&path);
        edit.push(start.elapsed());
        assert!(diags.is_empty());
    }

    let (full_med, full_min) = stats(full);
    let (edit_med, edit_min) = stats(edit);
    println!(
        "workspace: {lines} lines in {} files (one mesh); edit: one line of {path}",
        sources.len()
    );
    println!("{:<34} {:>10} {:>10}", "", "median", "min");
    println!(
        "{:<34} {:>10} {:>10}",
        "intent check (fresh database)",
        ms(full_med),
        ms(full_min)
    );
    println!(
        "{:<34} {:>10} {:>10}",
        "lsp: one-line edit -> diagnostics",
        ms(edit_med),
        ms(edit_min)
    );
    let ratio = edit_med.as_secs_f64() / full_med.as_secs_f64();
    println!(
        "edit / check                        {ratio:.2}x   (goal < 0.10x: {})",
        if quick {
            "not judged in quick mode"
        } else if ratio < 0.10 {
            "ok"
        } else {
            "not met"
        }
    );
}
