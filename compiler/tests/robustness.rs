//! Bad input of every kind gets diagnostics with locations, never a panic or a stack overflow.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use intent_compiler::{compile, Source, Stage};
use proptest::prelude::*;

fn assert_sane(c: &intent_compiler::Compilation) {
    for d in &c.diagnostics {
        let text = &c
            .sources
            .iter()
            .find(|s| s.path == d.primary.file)
            .expect("diagnostic points into a known file")
            .text;
        assert!(
            d.primary.span.start as usize <= text.len(),
            "span past the end: {d:?}"
        );
        assert!(d.primary.span.start <= d.primary.span.end);
        assert!(
            !d.message.is_empty() && d.help.is_some(),
            "every diagnostic has a message and help: {d:?}"
        );
    }
}

#[test]
fn unterminated_string_and_comment() {
    let c = common::check("a.intent", "package p\nconst x = \"abc\nconst y = 1\n");
    assert_eq!(common::codes(&c), vec!["W0001", "E0003", "W0001"]);
    let c = common::check(
        "a.intent",
        "package p\n/* open /* nested */ \nconst y = 1\n",
    );
    assert_eq!(common::codes(&c), vec!["E0004"]);
}

#[test]
fn keywords_as_names_are_explained() {
    let c = common::check("a.intent", "package p\nagent route { }\n");
    assert_eq!(common::codes(&c), vec!["E0007"]);
    assert!(common::rendered(&c).contains("a.intent:2:7"));
}

#[test]
fn one_typo_one_diagnostic_rest_still_checked() {
    let src =
        "package p\ncapability a.b\nagent x { provides a.b trust }\nagent y { provides a.c }\n";
    let c = common::check("a.intent", src);
    // The broken agent gives one syntax error; the next agent is still checked.
    assert_eq!(common::codes(&c), vec!["E0001", "E0101"]);
}

#[test]
fn ten_thousand_deep_parentheses_get_a_clear_error() {
    let src = format!(
        "package p\nconst x = {}1{}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let c = common::check("deep.intent", &src);
    assert_eq!(common::codes(&c), vec!["E0006"]);
    let src = format!(
        "package p\ncontext {{ a: bool }}\npolicy q {{ forbid when {}a because \"x\" }}\n",
        "not ".repeat(10_000)
    );
    assert_eq!(
        common::codes(&common::check("deep.intent", &src)),
        vec!["E0006"]
    );
    let src = format!(
        "package p\ncontext {{ a: bool }}\npolicy q {{ forbid when a{} because \"x\" }}\n",
        " and a".repeat(10_000)
    );
    assert_eq!(
        common::codes(&common::check("deep.intent", &src)),
        vec!["E0006"]
    );
}

/// Long runs of non-ASCII text in a comment, a doc comment or a string, and a long run of
/// byte-order marks, once overflowed the stack of the lexer in a debug build.
#[test]
fn long_non_ascii_runs_are_lexed_without_overflow() {
    let long = "é".repeat(250_000);
    for (text, codes) in [
        (
            format!("package p\n// {long}\nconst y = 1\n"),
            vec!["W0001"],
        ),
        (
            format!("package p\n/// {long}\nconst y = 1\n"),
            vec!["W0001"],
        ),
        (format!("package p\nconst y = \"{long}\"\n"), vec!["W0001"]),
        (
            format!("package p\nconst y = \"{long}\n"),
            vec!["W0001", "E0003"],
        ),
        // One mark at the start is the encoding's signature; the others are hidden
        // characters, one diagnostic for the run.
        (
            "\u{FEFF}package p\nconst y = 1\n".to_string(),
            vec!["W0001"],
        ),
        (
            format!("{}package p\nconst y = 1\n", "\u{FEFF}".repeat(250_000)),
            vec!["E0009", "W0001"],
        ),
    ] {
        let c = common::check("a.intent", &text);
        assert_eq!(common::codes(&c), codes);
        assert_sane(&c);
    }
}

#[test]
fn five_megabytes_of_random_bytes() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let bytes: Vec<u8> = (0..5 * 1024 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let c = compile(
        &[Source::from_bytes("noise.intent", bytes.clone())],
        Stage::Build,
    );
    assert!(c.has_errors());
    assert!(c.plan.is_none());
    assert!(common::rendered(&c).contains("noise.intent:"));
    // The same noise as (lossy) text: the lexer gives up after a bounded number of errors.
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let c = common::check("noise.intent", &text);
    assert!(
        c.has_errors() && c.diagnostics.len() <= 60,
        "{} diagnostics",
        c.diagnostics.len()
    );
    assert_sane(&c);
}

fn mutate(base: &str, edits: &[(usize, u8, char)]) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    for (pos, op, ch) in edits {
        if chars.is_empty() {
            break;
        }
        let i = pos % chars.len();
        match op % 3 {
            0 => {
                chars.remove(i);
            }
            1 => chars.insert(i, *ch),
            _ => chars[i] = *ch,
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_checked_without_panic(text in "\\PC{0,400}") {
        assert_sane(&compile(&[Source::new("any.intent", text)], Stage::Build));
    }

    #[test]
    fn token_soup_is_checked_without_panic(words in proptest::collection::vec(proptest::sample::select(vec![
        "package", "p", "agent", "a", "{", "}", "(", ")", "[", "]", "provides", "x.y", ",", "when", "=>",
        "dispatch", "plan", "route", "intent", "i", "otherwise", "forbid", "because", "\"s\"", "0.5",
        "4h", "and", "or", "not", "in", "has", "touches", "data", "confidence", "<", "==", ":", ".",
        "policy", "limits", "rate", "per", "test", "given", "expect", "context", "string", "|", "?",
    ]), 0..80)) {
        assert_sane(&compile(&[Source::new("soup.intent", words.join(" "))], Stage::Build));
    }

    #[test]
    fn mutated_examples_are_checked_without_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), proptest::char::any()), 1..8),
    ) {
        let name = ["finance", "logistics", "healthcare"][which];
        let base = common::example(name).text;
        assert_sane(&compile(&[Source::new("m.intent", mutate(&base, &edits))], Stage::Build));
    }
}
