//! Protocol-free tests of the IDE layer: each fixture is one or more files (`//- path` starts a
//! file), `$0` marks the cursor, and the answer is rendered as text and snapshotted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_compiler::ide::{FileRange, Host, Snapshot};
use intent_compiler::syntax::ast::Span;

/// Loads a fixture; returns the snapshot, the cursor's file and offset.
fn fixture(text: &str) -> (Snapshot, String, u32) {
    let mut host = Host::default();
    let mut cursor = None;
    let mut files: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(path) = line.strip_prefix("//- ") {
            files.push((path.trim().to_string(), String::new()));
        } else {
            if files.is_empty() {
                files.push(("mesh/main.intent".into(), String::new()));
            }
            let (path, body) = files.last_mut().unwrap();
            if let Some(i) = line.find("$0") {
                cursor = Some((path.clone(), (body.len() + i) as u32));
            }
            body.push_str(&line.replace("$0", ""));
            body.push('\n');
        }
    }
    for (p, t) in &files {
        host.set_file(p, t.clone());
    }
    let (path, offset) = cursor.unwrap_or_else(|| (files[0].0.clone(), 0));
    (host.snapshot(), path, offset)
}

/// `path:line:col: text` of a range.
fn show(s: &Snapshot, r: &FileRange) -> String {
    let text = s.text(&r.file).unwrap_or("");
    let idx = intent_compiler::ide::LineIndex::new(text);
    let (l, c) = idx.position(text, r.span.start as usize);
    let slice = text
        .get(r.span.start as usize..r.span.end as usize)
        .unwrap_or("?");
    let slice = slice.lines().next().unwrap_or("");
    format!("{}:{}:{}: {slice}", r.file, l + 1, c + 1)
}

const MESH: &str = r#"
//- mesh/caps.intent
package acme
use std.data.{pii}

capability invoices.read
capability invoices.summarize
capability documents.parse

context {
  subject: { residency: string, role: "analyst" | "auditor" }
  channel: "web" | "api"
}

/// Reads the ledger.
agent finance_agent {
  provides  invoices.read, invoices.summarize
  clearance pii
  trust     0.92
  region    "eu-west-1"
}
agent doc_parser { provides documents.parse  clearance pii  trust 0.85  region "us-east-1" }
human finance_lead { channel "slack:#fin"  sla 4h }
//- mesh/routes.intent
package acme
use std.data.{pii}

intent summarize_invoices {
  requires invoices.read, documents.parse
  handles  pii
}

route summarize_invoices {
  when confidence < 0.5 => escalate finance_lead because "unsure"
  otherwise => plan {
    parse: any documents.parse
    sum:   finance_agent  after parse
  }
}

policy residency {
  forbid when data touches pii and subject.residency == "EU" and agent.region != "eu-west-1"
    because "GDPR"
}

test "parses first" {
  given { intent: summarize_invoices, confidence: 0.9, subject: { residency: "US", role: "analyst" }, channel: "web" }
  expect plan { parse: doc_parser, sum: finance_agent }
}
"#;

/// MESH with the cursor put at the first occurrence of `at` in file `file`, `nth` times.
fn at(file: &str, needle: &str, nth: usize) -> (Snapshot, String, u32) {
    let (s, _, _) = fixture(MESH);
    let text = s.text(file).unwrap();
    let offset = text.match_indices(needle).nth(nth).unwrap().0 as u32;
    (s, file.to_string(), offset)
}

#[test]
fn hover_shows_an_agents_doc_capabilities_and_clearance() {
    let (s, f, o) = at("mesh/routes.intent", "finance_agent", 0);
    insta::assert_snapshot!(s.hover(&f, o).unwrap().markdown);
}

#[test]
fn hover_on_any_capability_lists_the_agents_that_could_fill_it() {
    let (s, f, o) = at("mesh/routes.intent", "documents.parse", 1);
    insta::assert_snapshot!(s.hover(&f, o + 3).unwrap().markdown);
}

#[test]
fn hover_on_a_context_field_shows_its_type() {
    let (s, f, o) = at("mesh/routes.intent", "residency", 1);
    insta::assert_snapshot!(s.hover(&f, o).unwrap().markdown);
}

#[test]
fn hover_on_a_std_data_class_says_where_it_comes_from() {
    let (s, f, o) = at("mesh/routes.intent", "pii", 0);
    insta::assert_snapshot!(s.hover(&f, o).unwrap().markdown);
}

#[test]
fn hover_on_a_builtin_word() {
    let (s, f, o) = at("mesh/routes.intent", "confidence", 0);
    insta::assert_snapshot!(s.hover(&f, o).unwrap().markdown);
}

#[test]
fn goto_definition_crosses_files() {
    let mut out = String::new();
    for (needle, nth) in [
        ("finance_agent", 0),
        ("finance_lead", 0),
        ("invoices.read", 0),
        ("after parse", 0),
        ("subject.residency", 0),
        ("residency", 1),
        ("summarize_invoices", 1),
        ("pii", 2),
    ] {
        let (s, f, o) = at("mesh/routes.intent", needle, nth);
        let o = if needle == "after parse" {
            o + 7
        } else if needle == "subject.residency" {
            o + 10
        } else {
            o + 1
        };
        let target = s.goto_definition(&f, o).map(|r| show(&s, &r));
        out.push_str(&format!(
            "{needle} -> {}\n",
            target.unwrap_or_else(|| "nothing".into())
        ));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn references_list_every_use_across_files() {
    let (s, f, o) = at("mesh/caps.intent", "finance_agent", 0);
    let refs: Vec<String> = s
        .references(&f, o, true)
        .iter()
        .map(|r| show(&s, r))
        .collect();
    insta::assert_snapshot!(refs.join("\n"));
}

#[test]
fn highlights_mark_a_names_declaration_and_uses_in_one_file() {
    // On a use: the agent is declared in caps.intent, used in routes.intent.
    let mut out = String::new();
    for (file, needle) in [
        ("mesh/routes.intent", "finance_agent"),
        ("mesh/caps.intent", "finance_agent"),
        ("mesh/routes.intent", "summarize_invoices"),
    ] {
        let (s, f, o) = at(file, needle, 0);
        out.push_str(&format!("{needle} in {f}:\n"));
        for h in s.highlights(&f, o) {
            let r = FileRange {
                file: f.clone(),
                span: h.span,
            };
            let what = if h.declaration { "declaration" } else { "use" };
            out.push_str(&format!("  {what} {}\n", show(&s, &r)));
        }
    }
    insta::assert_snapshot!(out);
}

#[test]
fn rename_edits_every_file_and_the_route_of_an_intent() {
    let (s, f, o) = at("mesh/routes.intent", "summarize_invoices", 0);
    let edits = s.rename(&f, o, "summarize_all").unwrap();
    let out: Vec<String> = edits
        .iter()
        .map(|e| format!("{} -> {}", show(&s, &e.range), e.new_text))
        .collect();
    insta::assert_snapshot!(out.join("\n"));
}

#[test]
fn prepare_rename_refuses_keywords_std_names_and_bad_names() {
    let mut out = String::new();
    for (needle, nth, new) in [
        ("route", 0, "x"),
        ("pii", 1, "x"),
        ("pii", 0, "x"),
        ("confidence", 0, "x"),
        ("finance_lead", 0, "when"),
        ("finance_lead", 0, "9lives"),
    ] {
        let (s, f, o) = at("mesh/routes.intent", needle, nth);
        let r = s.rename(&f, o, new).map(|e| e.len());
        out.push_str(&format!("{needle} -> {new}: {r:?}\n"));
    }
    insta::assert_snapshot!(out);
}

fn completions(src: &str) -> String {
    let (s, f, o) = fixture(src);
    s.completions(&f, o)
        .iter()
        .map(|c| {
            format!(
                "{:?} {}{}",
                c.kind,
                c.label,
                c.detail
                    .as_ref()
                    .map(|d| format!("  ({d})"))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn completion_after_subject_dot_offers_its_fields() {
    let src = MESH.replace("subject.residency ==", "subject.$0 ==");
    insta::assert_snapshot!(completions(&src));
}

#[test]
fn completion_after_agent_dot_offers_agent_fields() {
    let src = MESH.replace("agent.region !=", "agent.$0 !=");
    insta::assert_snapshot!(completions(&src));
}

#[test]
fn completion_after_provides_offers_capabilities() {
    let src = MESH.replace(
        "provides documents.parse  clearance",
        "provides $0  clearance",
    );
    insta::assert_snapshot!(completions(&src));
}

#[test]
fn completion_after_dispatch_and_escalate_offers_agents_and_humans() {
    let src = MESH.replace("escalate finance_lead because", "escalate $0 because");
    let humans = completions(&src);
    let src = MESH.replace("sum:   finance_agent", "sum:   dispatch $0");
    insta::assert_snapshot!(format!("{humans}\n---\n{}", completions(&src)));
}

#[test]
fn completion_offers_item_keywords_at_the_top_and_field_keywords_in_an_agent() {
    let top = completions("package demo\n$0\n");
    let src = MESH.replace("  trust     0.92\n", "  trust     0.92\n  $0\n");
    insta::assert_snapshot!(format!("{top}\n---\n{}", completions(&src)));
}

#[test]
fn completion_in_an_expression_offers_names_in_scope() {
    let src = MESH.replace(
        "forbid when data touches pii and",
        "forbid when $0 data touches pii and",
    );
    insta::assert_snapshot!(completions(&src));
}

#[test]
fn document_and_workspace_symbols() {
    let (s, _, _) = fixture(MESH);
    fn render(s: &Snapshot, syms: &[intent_compiler::ide::Symbol], depth: usize, out: &mut String) {
        for sym in syms {
            out.push_str(&format!(
                "{}{:?} {} @ {}\n",
                "  ".repeat(depth),
                sym.kind,
                sym.name,
                show(s, &sym.focus)
            ));
            render(s, &sym.children, depth + 1, out);
        }
    }
    let mut out = String::new();
    render(&s, &s.document_symbols("mesh/routes.intent"), 0, &mut out);
    render(&s, &s.document_symbols("mesh/caps.intent"), 0, &mut out);
    out.push_str("--- workspace symbols for `fin`\n");
    render(&s, &s.workspace_symbols("fin"), 0, &mut out);
    insta::assert_snapshot!(out);
}

#[test]
fn semantic_tokens_colour_names_by_what_they_declare() {
    let (s, _, _) = fixture("package demo\n// note\ncapability a.b\nagent x { provides a.b  trust 0.5 }\nroute r { otherwise => dispatch x }\n");
    let text = s.text("mesh/main.intent").unwrap();
    let out: Vec<String> = s
        .semantic_tokens("mesh/main.intent")
        .iter()
        .map(|t| {
            format!(
                "{:?} {}",
                t.kind,
                &text[t.span.start as usize..t.span.end as usize]
            )
        })
        .collect();
    insta::assert_snapshot!(out.join("\n"));
}

fn actions(src: &str, path: &str) -> String {
    let (s, _, _) = fixture(src);
    let len = s.text(path).unwrap().len();
    let mut out = String::new();
    for a in s.code_actions(path, Span::new(0, len)) {
        out.push_str(&format!("[{}] {}\n", a.fixes, a.title));
        for e in &a.edits {
            // Show the file after the edit, around the change.
            let text = s.text(&e.range.file).unwrap();
            let mut new = text.to_string();
            new.replace_range(
                e.range.span.start as usize..e.range.span.end as usize,
                &e.new_text,
            );
            out.push_str(&new);
            out.push_str("---\n");
        }
    }
    out
}

#[test]
fn code_action_adds_the_missing_otherwise_arm() {
    let src = "package demo\ncapability a\nagent x { provides a }\nintent i { requires a }\nroute i {\n  when confidence > 0.5 => dispatch x\n}\n";
    insta::assert_snapshot!(actions(src, "mesh/main.intent"));
}

#[test]
fn code_action_adds_otherwise_where_coverage_could_not_be_proved() {
    // E0316 (the arm tests a set-valued field): the same fix as E0300's.
    let src = "package demo\ncapability a\ncontext { tags: set<string> }\nagent x { provides a }\nintent i { requires a }\nroute i {\n  when \"vip\" not in tags => dispatch x\n}\n";
    insta::assert_snapshot!(actions(src, "mesh/main.intent"));
}

#[test]
fn code_action_declares_an_unknown_capability_and_applies_did_you_mean() {
    let src = "package demo\ncapability documents.parse\nagent x { provides documents.prase }\nagent y { provides reports.write }\n";
    insta::assert_snapshot!(actions(src, "mesh/main.intent"));
}

#[test]
fn diagnostics_carry_codes_help_and_related_places() {
    let src = "//- m/a.intent\npackage demo\nagent x { provides a }\n//- m/b.intent\npackage demo\nagent x { provides a }\n";
    let (s, _, _) = fixture(src);
    let out: Vec<String> = s
        .diagnostics("m/b.intent")
        .iter()
        .map(|d| {
            let rel: Vec<String> = d
                .secondary
                .iter()
                .map(|l| format!("{}:{}..{} {}", l.file, l.span.start, l.span.end, l.message))
                .collect();
            format!(
                "{} {} @{}..{} help={:?} related={rel:?}",
                d.code.as_str(),
                d.message,
                d.primary.span.start,
                d.primary.span.end,
                d.help
            )
        })
        .collect();
    insta::assert_snapshot!(out.join("\n"));
}

#[test]
fn test_lenses_say_which_tests_pass() {
    let src = MESH.replace("expect plan { parse: doc_parser, sum: finance_agent }", "expect plan { parse: doc_parser, sum: finance_agent }\n}\ntest \"wrong\" {\n  given { intent: summarize_invoices, confidence: 0.9, subject: { residency: \"US\", role: \"analyst\" }, channel: \"web\" }\n  expect deny");
    let (s, _, _) = fixture(&src);
    let out: Vec<String> = s
        .test_lenses("mesh/routes.intent")
        .iter()
        .map(|l| format!("{} {:?}", l.name, l.status))
        .collect();
    insta::assert_snapshot!(out.join("\n"));
}

#[test]
fn every_feature_answers_on_any_text_and_any_offset() {
    let texts = [
        "",
        "agent",
        "route x { when",
        "agent é😀 { provides ",
        "\u{0}\u{1}\u{fffd}binary\u{7f}",
        "subject.",
        "}}}}{{{{ ((( \"unterminated",
        "/* unterminated comment",
    ];
    for text in texts {
        let mut host = Host::default();
        host.set_file("m/a.intent", text.to_string());
        let s = host.snapshot();
        for offset in [0, 1, 3, text.len() as u32, text.len() as u32 + 10, u32::MAX] {
            for f in ["m/a.intent", "m/unknown.intent"] {
                let _ = s.hover(f, offset);
                let _ = s.goto_definition(f, offset);
                let _ = s.references(f, offset, true);
                let _ = s.highlights(f, offset);
                let _ = s.prepare_rename(f, offset);
                let _ = s.rename(f, offset, "y");
                let _ = s.completions(f, offset);
                let _ = s.code_actions(f, Span::new(offset as usize, offset as usize));
            }
        }
        let _ = s.diagnostics("m/a.intent");
        let _ = s.document_symbols("m/a.intent");
        let _ = s.semantic_tokens("m/a.intent");
        let _ = s.test_lenses("m/a.intent");
        let _ = s.workspace_symbols("");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    #[test]
    fn no_feature_panics_on_arbitrary_text(text in "(agent|route|when|subject|\\.|\\{|\\}|provides|any|é|😀| |\n|[a-z]{1,4}|\"|=>|0\\.5|caller\\.name|==|intent|in|use|test|given|expect|:|,|\"a\")*", offset in 0u32..400) {
        let mut host = Host::default();
        host.set_file("m/a.intent", text);
        let s = host.snapshot();
        let _ = s.hover("m/a.intent", offset);
        let _ = s.completions("m/a.intent", offset);
        let _ = s.rename("m/a.intent", offset, "z");
        let _ = s.highlights("m/a.intent", offset);
        let _ = s.semantic_tokens("m/a.intent");
        let _ = s.document_symbols("m/a.intent");
        let _ = s.code_actions("m/a.intent", Span::new(0, offset as usize));
    }
}

/// The host's meshes are `intent check`'s (`intent_compiler::mesh`): a subdirectory and a user
/// copy of a standard module belong to the mesh of the directory above, whatever order the
/// files arrive in, and the copy replaces the bundled module. Every file then has the
/// diagnostics `compile` gives it on the same files.
#[test]
fn the_host_sees_the_meshes_the_command_line_sees() {
    use intent_compiler::compile::{compile, Source, Stage};
    let data = format!(
        "{}\ndata widgets : confidential\n",
        include_str!("../../stdlib/std/data.intent")
    );
    let files = [
        (
            "m/sub/more.intent",
            "use std.data.{widgets}\nagent b { provides x.read  clearance widgets }\n".to_string(),
        ),
        ("m/std/data.intent", data),
        (
            "m/main.intent",
            "use std.data.{widgets}\ncapability x.read\nagent a { provides x.read  clearance widgets }\n"
                .to_string(),
        ),
        ("other/x.intent", "capability y.read\n".to_string()),
    ];
    let mut host = Host::default();
    for (p, t) in &files {
        host.set_file(p, t.clone());
    }
    let s = host.snapshot();
    let mesh: Vec<Source> = files[..3]
        .iter()
        .map(|(p, t)| Source::new(*p, t.clone()))
        .collect();
    let cli = compile(&mesh, Stage::Check).diagnostics;
    let shown = |d: &intent_compiler::diagnostics::Diagnostic| {
        format!("{} {} {:?}", d.code, d.primary.file, d.primary.span)
    };
    for (p, _) in &files[..3] {
        let want: Vec<String> = cli
            .iter()
            .filter(|d| d.primary.file == *p)
            .map(shown)
            .collect();
        let got: Vec<String> = s.diagnostics(p).iter().map(shown).collect();
        assert_eq!(got, want, "{p}");
    }
    assert!(cli.iter().all(|d| !d.is_error()), "{cli:?}");
    // The other directory is a mesh of its own: its capability is unused there, not a clash.
    assert!(s
        .diagnostics("other/x.intent")
        .iter()
        .all(|d| !d.is_error()));
    // Removing the top file splits the subdirectory off again: its names are unknown there.
    host.remove_file("m/main.intent");
    let s = host.snapshot();
    assert!(s
        .diagnostics("m/sub/more.intent")
        .iter()
        .any(|d| d.is_error()));
}
