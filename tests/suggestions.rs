//! The "closest known intents" a request naming an unknown intent is told, pinned for the
//! bundled example meshes and the golden plans: typos of every intent (a letter dropped, two
//! swapped, one replaced, one added) and names near none. The suggestions are found through an
//! index built at load (`runtime/src/engine/suggest.rs`); this snapshot was taken with the
//! exhaustive search it replaced, so any change of suggestion shows here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_compiler::{compile, Source, Stage};
use intent_runtime::{Engine, Request};
use std::fmt::Write as _;
use std::path::Path;

fn root(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn example(path: &str) -> Engine {
    let text = std::fs::read_to_string(root(path)).unwrap();
    let c = compile(&[Source::new(path, text)], Stage::Build);
    assert!(!c.has_errors(), "{path}");
    Engine::from_plan(c.plan.unwrap()).unwrap()
}

/// Typos of `name`, deterministic: each a plausible mistake.
fn typos(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let n = chars.len();
    let mut out = Vec::new();
    let at = |v: Vec<char>| v.into_iter().collect::<String>();
    if n > 1 {
        out.push(at(chars[..n - 1].to_vec()));
        let mut swapped = chars.clone();
        swapped.swap(0, 1);
        out.push(at(swapped));
        let mut dropped = chars.clone();
        dropped.remove(n / 2);
        out.push(at(dropped));
    }
    let mut replaced = chars.clone();
    replaced[n / 2] = 'x';
    out.push(at(replaced));
    out.push(format!("{name}s"));
    out.push(name.to_uppercase());
    out
}

const FAR: &[&str] = &[
    "",
    "a",
    "xyz",
    "order",
    "refund",
    "help",
    "summarize",
    "get_status",
    "delete_everything_now",
    "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
    "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
    "ordre_de_paiement",
    "é",
    "naïve_intént",
];

/// What the engine says to each unknown name, one line each.
fn suggestions(engine: &Engine) -> String {
    let mut names: Vec<String> = FAR.iter().map(|s| s.to_string()).collect();
    for it in &engine.plan().intents {
        names.extend(typos(&it.name));
    }
    let mut out = String::new();
    for name in names {
        if engine.plan().intents.iter().any(|i| i.name == name) {
            continue;
        }
        let d = engine.decide_at(&Request::for_intent(&name, 0.9), 0);
        let reason = d.reason.unwrap_or_default();
        let near = reason
            .split_once("; closest known intents: ")
            .map_or("(none)", |(_, n)| n);
        writeln!(out, "{name:?} -> {near}").unwrap();
    }
    out
}

#[test]
fn suggestions_for_the_examples_are_pinned() {
    let mut all = String::new();
    for path in [
        "examples/finance/finance.intent",
        "examples/healthcare/healthcare.intent",
        "examples/logistics/logistics.intent",
        "tests/semantics/guards.intent",
        "tests/semantics/filling.intent",
    ] {
        writeln!(all, "## {path}").unwrap();
        all.push_str(&suggestions(&example(path)));
    }
    let mut plans: Vec<_> = std::fs::read_dir(root("runtime/tests/golden"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".plan.json"))
        .collect();
    plans.sort();
    for plan in plans {
        let engine = Engine::from_json(&std::fs::read_to_string(&plan).unwrap()).unwrap();
        writeln!(all, "## {}", plan.file_name().unwrap().to_string_lossy()).unwrap();
        all.push_str(&suggestions(&engine));
    }
    insta::assert_snapshot!(all);
}
