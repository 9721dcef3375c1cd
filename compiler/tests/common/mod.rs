//! Helpers shared by the compiler's integration tests.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_compiler::{compile, render, Compilation, Source, Stage};
use std::path::{Path, PathBuf};

pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// Every `.intent` file under `dir`, sorted.
pub fn intent_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(intent_files(&p));
        } else if p.extension().is_some_and(|x| x == "intent") {
            out.push(p);
        }
    }
    out.sort();
    out
}

pub fn example(name: &str) -> Source {
    let path = examples_dir().join(name).join(format!("{name}.intent"));
    Source::new(
        format!("{name}.intent"),
        std::fs::read_to_string(path).unwrap(),
    )
}

pub fn check(path: &str, text: &str) -> Compilation {
    compile(&[Source::new(path, text)], Stage::Check)
}

pub fn codes(c: &Compilation) -> Vec<&'static str> {
    c.diagnostics.iter().map(|d| d.code.as_str()).collect()
}

pub fn rendered(c: &Compilation) -> String {
    render::human(&c.diagnostics, &c.sources, false)
}
