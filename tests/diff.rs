//! End-to-end tests of `intent diff` and `intent replay` (and `intent eval --log`, which makes
//! the logs replay reads): what they report for known changes, that they report nothing for a
//! reformatted copy, the input forms, exit codes and bad log lines.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{intent, text, workdir};

/// The output with plan hashes (12 or 64 hex digits) written as `<hash>`, so snapshots do not
/// change with the plan format.
fn masked(s: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let hex = word
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
        if hex && (word.len() == 12 || word.len() == 64) {
            out.push_str("<hash>");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

const MESH: &str = r#"package demo

use std.data.{pii}

capability payments.send

context {
  region: "eu" | "us"
  channel: string
  amount?: number
}

agent payer    { provides payments.send  clearance pii  trust 0.9  region "us-east-1" }
agent payer_eu { provides payments.send  clearance pii  trust 0.7  region "eu-west-1" }

human treasurer { channel "slack:#treasury"  sla 4h }

intent pay {
  requires payments.send
  handles  pii
}

route pay {
  when confidence < 0.5 => clarify "Pay whom, and how much?"
  when has amount and amount > 10000 => escalate treasurer because "large payment"
  otherwise => dispatch any payments.send
}
"#;

/// The same mesh reordered, reformatted, commented and split over two files.
const MESH_SPLIT: [(&str, &str); 2] = [
    (
        "b/route.intent",
        r#"package demo
use std.data.{pii}
// The route first this time.
route pay {
  when confidence < 0.5
    => clarify "Pay whom, and how much?"
  when has amount and amount > 10000 => escalate treasurer because "large payment"
  otherwise => dispatch any payments.send
}
intent pay { handles pii  requires payments.send }
"#,
    ),
    (
        "b/mesh.intent",
        r#"package demo
use std.data.{pii}
human treasurer { channel "slack:#treasury"  sla 4h }
agent payer_eu { provides payments.send  clearance pii  trust 0.7  region "eu-west-1" }
agent payer    { provides payments.send  clearance pii  trust 0.9  region "us-east-1" }
capability payments.send
context { amount?: number  channel: string  region: "eu" | "us" }
"#,
    ),
];

const EU_FORBID: &str = r#"
policy residency {
  forbid when data touches pii and region == "eu" and agent.region != "eu-west-1"
    because "EU personal data stays in the EU"
}
"#;

#[test]
fn a_moved_threshold_reports_exactly_the_band_between() {
    let moved = MESH.replace("confidence < 0.5", "confidence < 0.6");
    let dir = workdir(
        "threshold",
        &[("a/m.intent", MESH), ("b/m.intent", moved.as_str())],
    );
    let out = intent(&dir, &["diff", "a", "b"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!("threshold_human", masked(&text(&out.stdout)));

    let out = intent(&dir, &["diff", "--format", "json", "a", "b"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let regions = v["intents"][0]["regions"].as_array().unwrap();
    // Two changes, both inside the band: what was dispatched and what was escalated as a large
    // payment are now both questions.
    assert_eq!(regions.len(), 2, "{v:#}");
    for (r, (condition, old)) in regions.iter().zip([
        (
            "confidence in [0.5, 0.6), (amount <= 10000 or not has amount)",
            "dispatch",
        ),
        ("confidence in [0.5, 0.6), amount > 10000", "escalate"),
    ]) {
        assert_eq!(r["condition"], condition);
        let c = r["example"]["confidence"].as_f64().unwrap();
        assert!((0.5..0.6).contains(&c), "{c}");
        assert_eq!(r["old"]["outcome"], old);
        assert_eq!(r["new"]["outcome"], "clarify");
    }
    insta::assert_json_snapshot!("threshold_json", masked_json(v));

    // A CI gate fails on it.
    let out = intent(&dir, &["diff", "--fail-on-change", "a", "b"]);
    assert_eq!(out.status.code(), Some(1));
}

fn masked_json(v: serde_json::Value) -> serde_json::Value {
    serde_json::from_str(&masked(&v.to_string())).unwrap()
}

#[test]
fn a_forbid_for_eu_data_reports_the_eu_region() {
    let with_forbid = format!("{MESH}{EU_FORBID}");
    let dir = workdir(
        "forbid",
        &[("a/m.intent", MESH), ("b/m.intent", with_forbid.as_str())],
    );
    let out = intent(&dir, &["diff", "a", "b"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    insta::assert_snapshot!("forbid_human", masked(&stdout));
    // Only EU requests that reach a dispatch change: to the EU payer.
    assert!(
        stdout.contains("confidence >= 0.5, (amount <= 10000 or not has amount), region = \"eu\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("old      dispatch dispatch=payer\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("new      dispatch dispatch=payer_eu\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("region = \"us\""), "{stdout}");
}

#[test]
fn identical_and_reformatted_meshes_report_no_change() {
    // `c` has one more person, never escalated to: every intent is decided, and none changes.
    let more = format!("{MESH}\nhuman auditor {{ channel \"mail\" }}\n");
    let mut files = vec![("a/m.intent", MESH), ("c/m.intent", more.as_str())];
    files.extend(MESH_SPLIT);
    let dir = workdir("same", &files);
    for (old, new) in [("a", "a"), ("a", "b"), ("b", "a"), ("a", "c")] {
        let out = intent(&dir, &["diff", "--fail-on-change", old, new]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(stdout.contains("\nno change in 1 intent"), "{stdout}");
        assert!(!stdout.contains("region"), "{stdout}");
        assert_eq!(
            stdout.contains("with the same definition, not decided"),
            new != "c",
            "{stdout}"
        );
    }
}

#[test]
fn plans_and_sources_are_interchangeable() {
    let with_forbid = format!("{MESH}{EU_FORBID}");
    let dir = workdir(
        "inputs",
        &[("a/m.intent", MESH), ("b/m.intent", with_forbid.as_str())],
    );
    for (src, plan) in [("a", "a.json"), ("b", "b.json")] {
        let out = intent(&dir, &["build", src, "-o", plan]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let from_sources = text(&intent(&dir, &["diff", "a", "b"]).stdout);
    for (old, new) in [
        ("a.json", "b.json"),
        ("a.json", "b/m.intent"),
        ("a", "b.json"),
    ] {
        let out = intent(&dir, &["diff", old, new]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), from_sources, "{old} {new}");
    }
}

#[test]
fn added_and_removed_intents_are_changes() {
    let more = format!(
        "{MESH}\nintent refund {{ requires payments.send }}\nroute refund {{ otherwise => dispatch payer }}\n"
    );
    let dir = workdir(
        "added",
        &[("a/m.intent", MESH), ("b/m.intent", more.as_str())],
    );
    let out = intent(&dir, &["diff", "--fail-on-change", "a", "b"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("intent refund: added\n"));
    let out = intent(&dir, &["diff", "b", "a"]);
    assert!(text(&out.stdout).contains("intent refund: removed\n"));
}

#[test]
fn bad_inputs_exit_two_with_a_message() {
    let dir = workdir(
        "bad",
        &[
            ("a/m.intent", MESH),
            (
                "broken/m.intent",
                "package demo\nagent x { provides nothing.here }\n",
            ),
            ("notaplan.json", "{\"format\": 1}"),
            ("notes.txt", "hello"),
        ],
    );
    for (new, says) in [
        ("missing", "no such file or directory: missing"),
        ("notaplan.json", "notaplan.json is not a routing plan"),
        (
            "notes.txt",
            "is neither a plan (.json) nor a source (.intent)",
        ),
        ("broken", "the sources in broken have errors"),
    ] {
        let out = intent(&dir, &["diff", "a", new]);
        assert_eq!(out.status.code(), Some(2), "{new}");
        assert!(
            text(&out.stderr).contains(says),
            "{new}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn replay_reports_what_a_new_plan_decides_differently() {
    let moved = MESH.replace("confidence < 0.5", "confidence < 0.6");
    let dir = workdir(
        "replay",
        &[("a/m.intent", MESH), ("b/m.intent", moved.as_str())],
    );
    let mut ids = Vec::new();
    for (confidence, amount) in [("0.55", "20"), ("0.9", "20"), ("0.9", "50000")] {
        let out = intent(
            &dir,
            &[
                "eval",
                "a",
                "--log",
                "decisions.jsonl",
                "--json",
                "--intent",
                "pay",
                "--confidence",
                confidence,
                "--context",
                "region=eu",
                "--context",
                "channel=web",
                "--context",
                &format!("amount={amount}"),
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        ids.push(d["decision_id"].as_str().unwrap().to_string());
    }
    let log = std::fs::read_to_string(dir.join("decisions.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 3);

    // On the plan the log was made with, nothing changes.
    let out = intent(
        &dir,
        &[
            "replay",
            "decisions.jsonl",
            "--plan",
            "a",
            "--fail-on-change",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    // On the new one, exactly the request at 0.55.
    let out = intent(
        &dir,
        &[
            "replay",
            "decisions.jsonl",
            "--plan",
            "b",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["records"], 3);
    assert_eq!(r["changed_records"], 1);
    let changed = &r["changed"][0];
    assert_eq!(changed["line"], 1);
    assert_eq!(changed["decision_id"], ids[0].as_str());
    assert_eq!(changed["old"]["outcome"], "dispatch");
    assert_eq!(changed["old"]["steps"][0], "dispatch=payer");
    assert_eq!(changed["new"]["outcome"], "clarify");
    assert_eq!(r["intents"][0]["intent"], "pay");
    assert_eq!(r["intents"][0]["changed"], 1);
    let out = intent(
        &dir,
        &[
            "replay",
            "decisions.jsonl",
            "--plan",
            "b",
            "--fail-on-change",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
}

/// A log written by hand: fixed times and ids, one change, two bad lines, a blank line.
const LOG: &str = r#"{"at_ms":1000,"decision_id":"3e8-0","plan_hash":"x","request":{"intent":"pay","confidence":0.55,"context":{"region":"eu","channel":"web"}},"outcome":"dispatch","intent":"pay","steps":["dispatch=payer"]}
this is not json
{"at_ms":2000,"decision_id":"7d0-1","plan_hash":"x","request":{"intent":"pay","confidence":0.9,"context":{"region":"us","channel":"web","amount":50000}},"outcome":"escalate","intent":"pay","human":"treasurer","reason":"large payment"}

{"at_ms":3000,"decision_id":"bb8-2","outcome":"deny"}
{"at_ms":4000,"decision_id":"fa0-3","plan_hash":"x","request":{"intent":"pay","confidence":0.3,"context":{"region":"us","channel":"api"}},"outcome":"clarify","intent":"pay"}
"#;

#[test]
fn replay_skips_bad_lines_and_says_where() {
    let moved = MESH.replace("confidence < 0.5", "confidence < 0.6");
    let dir = workdir(
        "replay-bad",
        &[("b/m.intent", moved.as_str()), ("log.jsonl", LOG)],
    );
    let out = intent(&dir, &["replay", "log.jsonl", "--plan", "b"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(
        "replay_bad_lines",
        format!(
            "stdout:\n{}stderr:\n{}",
            masked(&text(&out.stdout)),
            text(&out.stderr)
        )
    );
}

const DELEGATING: &str = r#"package demo
capability work.do
agent worker { provides work.do  trust 0.9 }
intent parent { requires work.do  delegates child }
intent child { requires work.do }
intent other { requires work.do }
route parent { otherwise => dispatch worker }
route child { otherwise => dispatch worker }
route other { otherwise => dispatch worker }
limits { delegation depth 3 }
"#;

#[test]
fn a_lower_delegation_depth_reports_the_deeper_lineages() {
    let lower = DELEGATING.replace("delegation depth 3", "delegation depth 1");
    let dir = workdir(
        "depth",
        &[("a/m.intent", DELEGATING), ("b/m.intent", lower.as_str())],
    );
    let out = intent(&dir, &["diff", "a", "b"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!("depth_human", masked(&text(&out.stdout)));
}

#[test]
fn a_space_too_large_is_sampled_and_says_so() {
    let moved = MESH.replace("confidence < 0.5", "confidence < 0.6");
    let dir = workdir(
        "sampled",
        &[("a/m.intent", MESH), ("b/m.intent", moved.as_str())],
    );
    let out = intent(&dir, &["diff", "--max-cells", "10", "a", "b"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "intent pay: sampled 10 of 28 cells; changes outside the sample are not seen"
        ),
        "{stdout}"
    );
    // The same sample every run.
    assert_eq!(
        text(&intent(&dir, &["diff", "--max-cells", "10", "a", "b"]).stdout),
        stdout
    );
}

/// A policy on the caller's trust (issue #11): raising the bar changes the decision for the
/// callers between the two bars, and only for them; anonymous requests are denied before.
const CALLERS: &str = r#"package demo
capability payments.send
agent payer { provides payments.send  trust 0.9 }
agent desk  { provides payments.send  trust 0.6 }
agent bot   { provides payments.send  trust 0.3 }
intent pay { requires payments.send }
route pay {
  when not has caller => deny because "payments are raised by agents"
  otherwise => dispatch payer
}
policy trusted {
  forbid unless has caller and caller.trust >= 0.5 because "payments need a trusted caller"
}
"#;

#[test]
fn a_raised_caller_trust_bar_reports_the_callers_between() {
    let raised = CALLERS.replace("caller.trust >= 0.5", "caller.trust >= 0.8");
    let dir = workdir(
        "caller",
        &[("a/m.intent", CALLERS), ("b/m.intent", raised.as_str())],
    );
    let out = intent(&dir, &["diff", "--format", "json", "a", "b"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let regions = v["intents"][0]["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 1, "{v:#}");
    let r = &regions[0];
    assert_eq!(r["condition"], "caller = \"desk\"", "{v:#}");
    assert_eq!(r["example"]["caller"]["agent"], "desk");
    assert_eq!(r["old"]["outcome"], "dispatch");
    assert_eq!(r["new"]["outcome"], "deny");
}
