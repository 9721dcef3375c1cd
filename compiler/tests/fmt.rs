//! The formatter: every bundled file is already formatted; formatting is idempotent, keeps
//! every comment and never changes the plan hash (proptest over the examples with their
//! whitespace and comments shuffled); messy inputs come out as the snapshots show; text that
//! does not parse is refused with its diagnostics.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use intent_compiler::fmt::{comment_text, format_source};
use intent_compiler::syntax::lexer::lex;
use intent_compiler::{compile, Source, Stage};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.intent` file the project ships: examples, the standard library, semantics tests.
fn bundled() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["examples", "stdlib", "tests/semantics"] {
        files.extend(common::intent_files(&root().join(dir)));
    }
    assert!(files.len() >= 8, "found only {files:?}");
    files
}

fn fmt(text: &str) -> String {
    match format_source(text) {
        Ok(s) => s,
        Err(d) => panic!("not formatted: {d:#?}\n--- input ---\n{text}"),
    }
}

fn comments(text: &str) -> Vec<String> {
    let lexed = lex(text);
    lexed
        .comments
        .iter()
        .map(|c| comment_text(&text[c.start as usize..c.end as usize]))
        .collect()
}

#[test]
fn every_bundled_file_is_formatted() {
    for path in bundled() {
        let text = std::fs::read_to_string(&path).unwrap();
        let formatted = fmt(&text);
        assert!(
            formatted == text,
            "{} is not formatted; run `intent fmt` on it. Formatted:\n{formatted}",
            path.display()
        );
    }
}

/// The example as text whose tokens and comments are the same, but every gap between them is
/// one of `seps` (chosen by `picks`), and with `extra` comments added between tokens.
fn shuffled(text: &str, picks: &[usize], extra: &[usize]) -> String {
    const SEPS: [&str; 6] = [" ", "  ", "\n", "\n\n", "\n      ", " \n\n\n "];
    let lexed = lex(text);
    let mut pieces: Vec<(usize, usize, bool)> = lexed
        .tokens
        .iter()
        .map(|(l, _, r)| (*l, *r, false))
        .chain(
            lexed
                .comments
                .iter()
                .map(|c| (c.start as usize, c.end as usize, true)),
        )
        .collect();
    pieces.sort();
    let mut out = String::new();
    for (i, (l, r, is_comment)) in pieces.iter().enumerate() {
        let piece = &text[*l..*r];
        if i > 0 {
            let sep = SEPS[picks[i % picks.len()] % SEPS.len()];
            let (pl, _, prev_comment) = pieces[i - 1];
            let after_line_comment = prev_comment && text[pl..].starts_with("//");
            if after_line_comment && !sep.contains('\n') {
                out.push('\n');
            } else {
                out.push_str(sep);
            }
        }
        if !is_comment {
            match extra.get(i % extra.len().max(1)).map(|e| e % 16) {
                Some(0) => out.push_str("/* note */ "),
                Some(1) => out.push_str("// note\n"),
                _ => {}
            }
        }
        out.push_str(piece.trim_end());
    }
    out.push('\n');
    out
}

fn cases(default: u32) -> u32 {
    std::env::var("INTENT_FMT_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn plan_hash(text: &str) -> String {
    let c = compile(&[Source::new("a.intent", text)], Stage::Build);
    assert!(!c.has_errors(), "{}", common::rendered(&c));
    c.plan.unwrap().plan_hash
}

proptest! {
    // INTENT_FMT_CASES=2000 for a longer search.
    #![proptest_config(ProptestConfig { cases: cases(48), ..ProptestConfig::default() })]

    #[test]
    fn formatting_is_idempotent_and_keeps_comments(
        which in 0usize..64,
        picks in proptest::collection::vec(0usize..6, 1..40),
        extra in proptest::collection::vec(0usize..64, 1..40),
    ) {
        // Any bundled file (examples, standard library, semantics meshes) or messy input.
        let files = bundled();
        let source = match files.get(which % (files.len() + MESSY.len())) {
            Some(path) => std::fs::read_to_string(path).unwrap(),
            None => MESSY[which % (files.len() + MESSY.len()) - files.len()].to_string(),
        };
        let text = shuffled(&source, &picks, &extra);
        let once = fmt(&text);
        let twice = fmt(&once);
        prop_assert_eq!(&once, &twice, "not idempotent on\n{}", text);
        prop_assert_eq!(comments(&text), comments(&once));
    }
}

proptest! {
    // Each case compiles two meshes with Cedar: keep it small.
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn formatting_never_changes_the_plan_hash(
        which in 0usize..3,
        picks in proptest::collection::vec(0usize..6, 1..40),
        extra in proptest::collection::vec(0usize..64, 1..40),
    ) {
        let name = ["finance", "logistics", "healthcare"][which];
        let text = shuffled(&common::example(name).text, &picks, &extra);
        prop_assert_eq!(plan_hash(&text), plan_hash(&fmt(&text)));
    }
}

#[test]
fn shuffled_examples_format_back_to_the_examples() {
    // With only spaces and line breaks moved (no comment added), the canonical layout of a
    // shuffled example is the example itself, except where the shuffle created layout choices
    // the formatter keeps (line breaks in conditions and lists, blank lines): check those away
    // by shuffling with single spaces only.
    for name in ["finance", "logistics", "healthcare"] {
        let original = common::example(name).text;
        let flat = shuffled(&original, &[0], &[2]);
        let formatted = fmt(&flat);
        assert_eq!(fmt(&formatted), formatted, "{name}");
        assert_eq!(comments(&formatted), comments(&original), "{name}");
    }
}

#[test]
fn text_that_does_not_parse_is_refused_with_its_diagnostics() {
    let err = format_source("agent a { provides }\n").unwrap_err();
    assert!(err.iter().any(|d| d.code.as_str() == "E0001"), "{err:#?}");
    let err = format_source("intent i { description \"open\n}\n").unwrap_err();
    assert!(err.iter().any(|d| d.code.as_str() == "E0003"), "{err:#?}");
}

#[test]
fn a_type_argument_the_tree_cannot_hold_is_refused_not_dropped() {
    let err = format_source("context { tags: map<string> }\n").unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!(err[0].code.as_str(), "E0109");
    assert!(err[0].message.contains("`map`"), "{}", err[0].message);
}

#[test]
fn empty_and_comment_only_files() {
    assert_eq!(fmt(""), "");
    assert_eq!(fmt("\n\n  \n"), "");
    assert_eq!(
        fmt("// just a note   \n\n\n/* and */\n"),
        "// just a note\n\n/* and */\n"
    );
}

/// Messy inputs: snapshotted, and shuffled further by the property tests.
const MESSY_ITEMS: &str =
    "package   demo.app\nuse std.data.{ pii ,financial, }\ncapability a.b   capability c\n\n\n\ndata eu : pii\nconst regions={ \"eu-west-1\",\"eu-central-1\", }\nconst big = 1_000\n";
const MESSY_BLOCKS: &str =
    "agent a {provides x.read,x.write clearance pii trust 0.80 region \"eu\" endpoint \"http://a\" backup b,c cost 3 labels {team:\"core\",tier:1}}\nagent b {\n  provides x.read\n      trust 0.5\n  labels {\n team: \"ops\",\n }\n}\nagent c {provides x.read trust 0.9}\nagent cc {provides x.write}\nhuman h { channel \"slack:#x\" sla 4h }\nintent i {\ndescription \"d\" examples [\"one\",\"two\"]\n  requires x.read handles pii delegates j\n input { amount?: number, tags: set<string> }\n}\n";
const MESSY_ROUTES_AND_POLICIES: &str =
    "route i {\nwhen confidence<0.5=>clarify \"which?\"\n when channel==\"api\" and (amount>10 or not has amount) => escalate h,g because \"big\"\n  otherwise=>plan{ a: any x.read handles pii\n b : c after a fallback d, any x.write needs x.write }\n}\nroute j { otherwise => dispatch a fallback b, any x.read }\npolicy p {\n  forbid when data touches pii\n      and agent.region not in regions\n  or depth > 2\n        because \"no\"\n permit when agent.trust >= 0.9 and agent provides x.read\n  escalate h when data touches financial\n  require audit when intent == i\n  forbid unless agent.trust > 0.5 because \"trust\"\n}\nreview any { when response.confidence < 0.7 => deny because \"low\"  when response.data touches pii => redact pii, phi otherwise => pass }\nlimits {delegation depth 3 rate a 10 per 1m rate any 100 per 1s breaker any 5 failures cooldown 30s}\n";
const MESSY_TESTS_AND_CONTEXT: &str =
    "context {\nsubject : { residency:string , role : \"a\"|\"b\" }\n   amount ? : number\n list: list<string>\n}\ntest \"a\" {given{intent:i,confidence:0.9,\n subject:{residency:\"EU\",role:\"a\"},caller: { agent: a, lineage: [i, j] }}\n expect plan{a:b,c:d} expect not deny\n expect redact pii}\ntest \"b\" {\n  given {\n    text: \"hello\",\n    channel: \"web\"\n  }\n  expect intent i\n}\n";
const COMMENTS_STAY_WHERE_THEY_WERE: &str =
    "// header\n\n/// Doc for a.\n/// Second line.\nagent a { // after brace\n  provides x.read // trailing\n\n  // own line before trust\n  trust /* inline */ 0.9\n  /* before the end */\n}\nroute i {\n  when confidence < 0.5 // low\n    and channel == \"api\" => deny\n  otherwise => /* c */ pass\n}\nconst s = [\n  \"a\", // first\n  // between\n  \"b\",\n]\n// at the end\n";
const MESSY: [&str; 5] = [
    MESSY_ITEMS,
    MESSY_BLOCKS,
    MESSY_ROUTES_AND_POLICIES,
    MESSY_TESTS_AND_CONTEXT,
    COMMENTS_STAY_WHERE_THEY_WERE,
];

fn snap(input: &str) -> String {
    format!("--- input ---\n{input}\n--- formatted ---\n{}", fmt(input))
}

#[test]
fn messy_items() {
    insta::assert_snapshot!(snap(MESSY_ITEMS));
}

#[test]
fn messy_blocks() {
    insta::assert_snapshot!(snap(MESSY_BLOCKS));
}

#[test]
fn messy_routes_and_policies() {
    insta::assert_snapshot!(snap(MESSY_ROUTES_AND_POLICIES));
}

#[test]
fn messy_tests_and_context() {
    insta::assert_snapshot!(snap(MESSY_TESTS_AND_CONTEXT));
}

#[test]
fn comments_stay_where_they_were() {
    insta::assert_snapshot!(snap(COMMENTS_STAY_WHERE_THEY_WERE));
}
