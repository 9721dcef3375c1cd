//! Incrementality: after a one-item edit, salsa re-runs only the queries that depend on that
//! item. Watched through salsa's event callback (`EventKind::WillExecute`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_compiler::db::Database;
use intent_compiler::ide::Host;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// A host whose database logs the name of every query it executes.
fn logged_host() -> (Host, Arc<Mutex<Vec<String>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    let db = Database::with_events(move |event| {
        if let salsa::EventKind::WillExecute { database_key } = event.kind {
            let name = format!("{database_key:?}");
            let name = name.split('(').next().unwrap_or("").to_string();
            sink.lock().unwrap().push(name);
        }
    });
    (Host::new(db), log)
}

/// How many times each query ran since the last call.
fn ran(log: &Arc<Mutex<Vec<String>>>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for name in log.lock().unwrap().drain(..) {
        *out.entry(name).or_insert(0) += 1;
    }
    out
}

const A: &str = "package demo\ncapability a\ncapability b\n\nagent first { provides a  trust 0.5 }\n\nagent second { provides b  trust 0.5 }\n\nagent third { provides a  trust 0.5 }\n";
const B: &str = "package demo\nintent i { requires a }\nroute i { otherwise => dispatch first }\n";

fn ask_everything(host: &Host) {
    let s = host.snapshot();
    for f in ["m/a.intent", "m/b.intent"] {
        s.document_symbols(f);
        s.semantic_tokens(f);
        s.diagnostics(f);
    }
}

#[test]
fn editing_one_item_reruns_only_that_items_queries_and_the_mesh_check() {
    let (mut host, log) = logged_host();
    host.set_file("m/a.intent", A.into());
    host.set_file("m/b.intent", B.into());
    ask_everything(&host);
    let first = ran(&log);
    assert_eq!(first.get("item_outline"), Some(&7), "{first:?}");

    // One item changes, and grows: every item after it moves.
    host.set_file(
        "m/a.intent",
        A.replace(
            "agent second { provides b  trust 0.5 }",
            "agent second { provides b  trust 0.75  region \"eu\" }",
        ),
    );
    ask_everything(&host);
    let after = ran(&log);
    insta::assert_debug_snapshot!(after, @r#"
    {
        "analyze": 1,
        "item_count": 1,
        "item_outline": 1,
        "item_parse": 1,
        "item_starts": 1,
        "item_text": 5,
        "item_tokens": 1,
        "lines_of": 1,
        "parse_file": 1,
        "symbol_index": 1,
    }
    "#);
}

#[test]
fn an_edit_between_items_reruns_no_per_item_query() {
    let (mut host, log) = logged_host();
    host.set_file("m/a.intent", A.into());
    host.set_file("m/b.intent", B.into());
    ask_everything(&host);
    ran(&log);
    // Blank lines after the last item: every item's text is equal, so no item is parsed,
    // outlined or lexed again. (The mesh check and the index read the file's text for
    // positions and re-run.)
    host.set_file("m/a.intent", format!("{A}\n\n"));
    ask_everything(&host);
    insta::assert_debug_snapshot!(ran(&log), @r#"
    {
        "analyze": 1,
        "item_text": 5,
        "lines_of": 1,
        "parse_file": 1,
        "symbol_index": 1,
    }
    "#);
}

#[test]
fn editing_another_file_leaves_this_files_parse_alone() {
    let (mut host, log) = logged_host();
    host.set_file("m/a.intent", A.into());
    host.set_file("m/b.intent", B.into());
    ask_everything(&host);
    ran(&log);
    host.set_file("m/b.intent", B.replace("dispatch first", "dispatch third"));
    host.snapshot().document_symbols("m/a.intent");
    // Nothing of a.intent re-runs for its outline.
    insta::assert_debug_snapshot!(ran(&log), @"{}");
}

/// A mesh whose intents have examples, so the check fits the classifier.
const C: &str = r#"package demo
capability a

agent first { provides a  trust 0.5 }

intent refund {
  requires a
  examples ["give my money back", "refund the order I returned"]
}
route refund {
  when confidence < 0.5 => clarify "Which order?"
  otherwise => dispatch first
}

intent track {
  requires a
  examples ["where is my parcel", "track the delivery of my order"]
}
route track { otherwise => dispatch first }

policy p {
  forbid when agent.trust < 0.2 because "too little trust"
}
"#;

/// Which of the mesh check's queries re-run after one edit of `C`.
fn mesh_queries_after(from: &str, to: &str) -> BTreeMap<String, usize> {
    let (mut host, log) = logged_host();
    host.set_file("m/c.intent", C.into());
    let s = host.snapshot();
    assert!(!s.diagnostics("m/c.intent").iter().any(|d| d.is_error()));
    drop(s);
    let first = ran(&log);
    assert_eq!(first.get("fit"), Some(&1), "{first:?}");
    assert!(C.contains(from), "{from}");
    host.set_file("m/c.intent", C.replacen(from, to, 1));
    let diags = host.snapshot().diagnostics("m/c.intent");
    assert!(!diags.iter().any(|d| d.is_error()), "{diags:?}");
    let mut after = ran(&log);
    after.retain(|q, _| matches!(q.as_str(), "analyze" | "fit" | "parse_file"));
    // Not a query: the intents whose analysis `analyze` ran again (of 2).
    let analysed = host.snapshot().intents_analysed("m/c.intent").unwrap();
    after.insert("intents analysed".into(), analysed);
    // Nor these: the routes the check replayed from the check before, and whether it replayed
    // the declarations outside routes (`check/reuse.rs`).
    let (routes, declared) = host.snapshot().reused("m/c.intent").unwrap();
    after.insert("routes replayed".into(), routes);
    after.insert("declarations replayed".into(), usize::from(declared));
    after
}

#[test]
fn the_classifier_is_fitted_again_only_when_an_example_or_description_changes() {
    // A route arm, an agent's trust, a policy rule, a comment: the mesh is checked again, the
    // classifier's fit is not (its evidence, the examples and descriptions, is unchanged).
    // The analysis runs again for the edited route's intent; for every intent that may send a
    // step to the agent (both); for every intent after a rule changes (both); for none after a
    // comment. The check replays the other route and the declarations outside routes after
    // the route edit, and nothing after an edit outside routes (a comment between items
    // included).
    let edits = [
        ("confidence < 0.5", "confidence < 0.6", (1, 1, 1)),
        ("trust 0.5", "trust 0.7", (2, 0, 0)),
        ("agent.trust < 0.2", "agent.trust < 0.3", (2, 0, 0)),
        (
            "capability a\n",
            "capability a // what agents do\n",
            (0, 0, 0),
        ),
    ];
    for (from, to, (intents, routes, declared)) in edits {
        let mut after = mesh_queries_after(from, to);
        assert_eq!(after.remove("intents analysed"), Some(intents), "{from}");
        assert_eq!(after.remove("routes replayed"), Some(routes), "{from}");
        assert_eq!(
            after.remove("declarations replayed"),
            Some(declared),
            "{from}"
        );
        insta::allow_duplicates! {
            insta::assert_debug_snapshot!(after, @r#"
            {
                "analyze": 1,
                "parse_file": 1,
            }
            "#);
        }
    }
    // An example: fitted again; the analysis runs for no intent (it does not read examples).
    insta::assert_debug_snapshot!(mesh_queries_after("where is my parcel", "where is my box"), @r#"
    {
        "analyze": 1,
        "declarations replayed": 0,
        "fit": 1,
        "intents analysed": 0,
        "parse_file": 1,
        "routes replayed": 0,
    }
    "#);
}
