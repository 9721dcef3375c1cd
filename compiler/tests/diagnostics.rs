//! Every diagnostic code is triggered by a fixture in `tests/diagnostics/` (named after its
//! code), and its rendered message is snapshotted next to the source that caused it. A fixture
//! is a file, or a directory whose files are compiled together (for mistakes between files).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use intent_compiler::codes::ALL;
use intent_compiler::{compile, Source, Stage};
use std::path::Path;

fn fixtures() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics");
    let mut out: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|x| x == "intent"))
        .collect();
    out.sort();
    out
}

/// The sources of a fixture: the file, or every file of the directory.
fn sources(path: &Path) -> Vec<Source> {
    let files = if path.is_dir() {
        common::intent_files(path)
    } else {
        vec![path.to_path_buf()]
    };
    files
        .iter()
        .map(|f| {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            Source::from_bytes(name, std::fs::read(f).unwrap())
        })
        .collect()
}

#[test]
fn each_fixture_reports_its_code() {
    let files = fixtures();
    assert!(
        files.len() >= 40,
        "expected a fixture per code, found {}",
        files.len()
    );
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let code = name.split('_').next().unwrap().to_string();
        let mut srcs = sources(&path);
        if !path.is_dir() {
            srcs = vec![Source::from_bytes(
                format!("{name}.intent"),
                std::fs::read(&path).unwrap(),
            )];
        }
        let c = compile(&srcs, Stage::Check);
        let codes = common::codes(&c);
        assert!(
            codes.contains(&code.as_str()),
            "{name}: expected {code}, got {codes:?}\n{}",
            common::rendered(&c)
        );
        let shown = if path.to_string_lossy().contains("E0006")
            || path.to_string_lossy().contains("invalid_utf8")
        {
            common::rendered(&c)
        } else if path.is_dir() {
            let texts: Vec<String> = c
                .sources
                .iter()
                .filter(|s| !s.path.starts_with("<std>"))
                .map(|s| format!("== {}\n{}", s.path, s.text))
                .collect();
            format!("{}\n---\n{}", texts.join("\n"), common::rendered(&c))
        } else {
            format!(
                "{}\n---\n{}",
                c.sources.last().unwrap().text,
                common::rendered(&c)
            )
        };
        insta::assert_snapshot!(name, shown);
    }
}

#[test]
fn every_code_has_a_fixture_and_an_explanation() {
    let names: Vec<String> = fixtures()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    for info in ALL {
        let code = info.code.as_str();
        let text = info.explanation;
        assert!(
            text.starts_with(&format!("# {code}")),
            "{code}: explanation must start with its code"
        );
        assert!(
            text.len() > 200 && text.contains("```intent"),
            "{code}: explanation needs prose and an example"
        );
        // E0400 (Cedar rejecting what we generate) cannot come from source; the Cedar tests cover it.
        if code != "E0400" {
            assert!(
                names.iter().any(|n| n.starts_with(code)),
                "no fixture triggers {code}"
            );
        }
    }
}

#[test]
fn explanation_examples_of_problems_trigger_their_code() {
    // The first ```intent block of each explanation shows the problem; it must report the code.
    for info in ALL {
        let code = info.code.as_str();
        // E0009's example would have to hold the hidden character it warns about: its fixture
        // does, the explanation stays readable.
        // E0112 needs two files, which its fixture has.
        if matches!(code, "E0400" | "E0006" | "E0002" | "E0009" | "E0112") {
            continue;
        }
        let text = info.explanation;
        let Some(start) = text.find("```intent\n") else {
            continue;
        };
        let rest = &text[start + 10..];
        let block = &rest[..rest.find("```").unwrap()];
        let c = common::check("example.intent", block);
        assert!(
            common::codes(&c).contains(&code),
            "{code}: the explanation's example does not report it:\n{block}\n{}",
            common::rendered(&c)
        );
    }
}
