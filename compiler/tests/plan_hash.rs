//! `plan_hash` follows meaning: formatting, comments, declaration order and file names leave
//! it alone; any change of behaviour changes it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use intent_compiler::{compile, Source, Stage};

fn hash(path: &str, text: &str) -> String {
    let c = compile(&[Source::new(path, text)], Stage::Build);
    assert!(!c.has_errors(), "{}", common::rendered(&c));
    c.plan.unwrap().plan_hash
}

/// The source with its declarations in reverse order (each keeps the comments above it).
fn reversed(text: &str) -> String {
    let parsed = intent_compiler::syntax::parse(text);
    let head_end = parsed
        .tree
        .package
        .as_ref()
        .map_or(0, |p| p.span.end as usize);
    let mut chunks = Vec::new();
    let mut start = head_end;
    for item in &parsed.tree.items {
        chunks.push(text[start..item.span.end as usize].trim().to_string());
        start = item.span.end as usize;
    }
    chunks.reverse();
    format!("{}\n\n{}\n", &text[..head_end], chunks.join("\n\n"))
}

/// Reformatted: every run of spaces doubled, blank lines and comments added.
fn reformatted(text: &str) -> String {
    let mut out = String::from("// a comment at the top\n");
    for line in text.lines() {
        out.push_str(&line.replace("  ", "      ").replace(" {", "   {"));
        out.push_str("   // trailing comment\n\n");
    }
    out
}

#[test]
fn hash_ignores_format_order_and_file_names() {
    for name in ["finance", "logistics", "healthcare"] {
        let text = common::example(name).text;
        let base = hash("a.intent", &text);
        assert_eq!(
            base,
            hash("renamed/elsewhere.intent", &text),
            "{name}: file name"
        );
        assert_eq!(
            base,
            hash("a.intent", &reformatted(&text)),
            "{name}: formatting"
        );
        assert_eq!(
            base,
            hash("a.intent", &reversed(&text)),
            "{name}: declaration order"
        );
    }
}

#[test]
fn hash_changes_with_behaviour() {
    let text = common::example("finance").text;
    let base = hash("a.intent", &text);
    let changes = [
        ("when confidence < 0.8", "when confidence < 0.75"),
        ("trust     0.92", "trust     0.93"),
        ("delegation depth 4", "delegation depth 5"),
        (
            "and agent.region not in eu_regions",
            "and agent.region in eu_regions",
        ),
        (
            "escalate finance_lead because \"unsure what was asked\"",
            "clarify \"unsure what was asked\"",
        ),
        (
            "rate finance_agent 100 per 1m",
            "rate finance_agent 100 per 2m",
        ),
        (
            "\"which invoices are late and how exposed are we\",",
            "\"which invoices are late\",",
        ),
    ];
    for (from, to) in changes {
        assert!(text.contains(from), "{from}");
        assert_ne!(
            base,
            hash("a.intent", &text.replacen(from, to, 1)),
            "changing `{from}` must change the hash"
        );
    }
}
