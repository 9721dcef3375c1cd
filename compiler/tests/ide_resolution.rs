//! The editor and the checker read names the same way: renaming any declaration through the
//! editor (`Snapshot::rename`) must leave the mesh meaning what it meant. After every rename the
//! mesh is checked again and must give the same diagnostics (code, message with the old name put
//! back, place) as before: a use the editor resolved to another declaration than the checker
//! does is renamed with the wrong one, and the check then says something else (a name unknown, a
//! const no longer or newly unused).
//!
//! Run on the bundled example meshes and on fixtures where names of different kinds collide
//! (a const and a context field, an intent and a context field, imports of both forms).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_compiler::ide::{FileRange, Host, TextEdit};
use intent_compiler::{compile, Source, Stage};
use std::collections::BTreeSet;

/// Every diagnostic of a check of `files`, as `code path:start message`, with `new` written
/// back as `old` in the message (a rename changes the words, never the meaning).
fn diagnostics(files: &[(String, String)], rename: Option<(&str, &str)>) -> Vec<String> {
    let sources: Vec<Source> = files
        .iter()
        .map(|(p, t)| Source::new(p.clone(), t.clone()))
        .collect();
    let c = compile(&sources, Stage::Check);
    let mut out: Vec<String> = c
        .diagnostics
        .iter()
        .map(|d| {
            let mut message = d.message.clone();
            if let Some((old, new)) = rename {
                message = message.replace(new, old);
            }
            format!("{} {} {}", d.code.as_str(), d.primary.file, message)
        })
        .collect();
    out.sort();
    out
}

/// The files after applying `edits`.
fn apply(files: &[(String, String)], edits: &[TextEdit]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(path, text)| {
            let mut mine: Vec<&TextEdit> = edits.iter().filter(|e| e.range.file == *path).collect();
            mine.sort_by_key(|e| std::cmp::Reverse(e.range.span.start));
            let mut text = text.clone();
            for e in mine {
                text.replace_range(
                    e.range.span.start as usize..e.range.span.end as usize,
                    &e.new_text,
                );
            }
            (path.clone(), text)
        })
        .collect()
}

/// Renames every declaration of the mesh `files` in turn (found as the words the editor goes
/// to the definition of, at that definition) and checks that the mesh means the same after
/// each. Returns how many declarations were renamed.
fn every_rename_keeps_the_meaning(files: &[(String, String)]) -> usize {
    let mut host = Host::default();
    for (p, t) in files {
        host.set_file(p, t.clone());
    }
    let snap = host.snapshot();
    let before = diagnostics(files, None);
    let mut seen: BTreeSet<FileRange> = BTreeSet::new();
    let mut failures = Vec::new();
    for (path, text) in files {
        let words = text
            .char_indices()
            .filter(|(i, c)| {
                (c.is_ascii_alphabetic() || *c == '_')
                    && !text[..*i]
                        .chars()
                        .next_back()
                        .is_some_and(|p| p.is_ascii_alphanumeric() || p == '_' || p == '.')
            })
            .map(|(i, _)| i as u32);
        for offset in words {
            let Some(def) = snap.goto_definition(path, offset) else {
                continue;
            };
            // Only at the declaration itself, once per declaration.
            if def.file != *path || def.span.start != offset || !seen.insert(def.clone()) {
                continue;
            }
            if snap.prepare_rename(path, offset).is_err() {
                continue;
            }
            let old = text[def.span.start as usize..def.span.end as usize].to_string();
            let new = format!("{}_renamed", old.replace('.', "_"));
            let new = if old.contains('.') {
                // A capability keeps its dots.
                format!("{old}_renamed")
            } else {
                new
            };
            let edits = match snap.rename(path, offset, &new) {
                Ok(e) => e,
                Err(_) => continue,
            };
            let last = |s: &str| s.rsplit('.').next().unwrap_or(s).to_string();
            let after = diagnostics(&apply(files, &edits), Some((&last(&old), &last(&new))));
            if after != before {
                failures.push(format!(
                    "renaming `{old}` ({path}:{offset}) changed the check:\nbefore: {before:#?}\nafter: {after:#?}\nedits: {:#?}",
                    edits
                        .iter()
                        .map(|e| format!("{}:{}", e.range.file, e.range.span.start))
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    seen.len()
}

fn read_mesh(dir: &str) -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files: Vec<(String, String)> = std::fs::read_dir(root.join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "intent"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            (
                format!("{dir}/{name}"),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// One file as a mesh of its own.
fn read_file(path: &str) -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    vec![(
        path.to_string(),
        std::fs::read_to_string(root.join(path)).unwrap(),
    )]
}

/// The test meshes of the runtime's semantics, the sidecar and the classifier: callers,
/// delegation guards, scenes, reviews, limits on people, tools.
#[test]
fn renaming_any_declaration_of_the_test_meshes_keeps_their_meaning() {
    for path in [
        "tests/semantics/caller.intent",
        "tests/semantics/filling.intent",
        "tests/semantics/guards.intent",
        "tests/serve/fleet.intent",
        "tests/serve/callers.intent",
        "tests/serve/mesh.intent",
        "tests/serve/trust.intent",
        "tests/classifier/support.intent",
    ] {
        let n = every_rename_keeps_the_meaning(&read_file(path));
        assert!(n >= 3, "{path}: only {n} declarations renamed");
    }
}

#[test]
fn renaming_any_declaration_of_the_examples_keeps_their_meaning() {
    for dir in [
        "examples/finance",
        "examples/healthcare",
        "examples/logistics",
        "examples/support-mcp",
    ] {
        let n = every_rename_keeps_the_meaning(&read_mesh(dir));
        assert!(n >= 10, "{dir}: only {n} declarations renamed");
    }
}

const COLLIDING: &str = r#"package demo

capability work

const tier = "gold"
const limit = 3

context {
  tier: string
  shipping: string
  count: number
}

agent worker { provides work  trust 0.9 }

intent shipping {
  description "ship a parcel"
}

intent do_work {
  description "do the work"
}

route shipping {
  when intent == shipping and shipping == "express" => deny because "no express"
  otherwise => dispatch worker
}

route do_work {
  when tier == "free" => deny because "not for the free tier"
  when count > limit => deny because "too many"
  otherwise => dispatch worker
}
"#;

/// A const and a context field of one name (`tier`), an intent and a context field of one
/// name (`shipping`): in a condition, the name is the context field (the checker reads it so,
/// and warns that the const is never used); `intent == shipping` names the intent.
#[test]
fn renaming_names_that_collide_keeps_the_meaning() {
    let files = vec![("mesh/demo.intent".to_string(), COLLIDING.to_string())];
    assert!(
        diagnostics(&files, None)
            .iter()
            .any(|d| d.contains("const `tier` is never used")),
        "{:#?}",
        diagnostics(&files, None)
    );
    every_rename_keeps_the_meaning(&files);
}

/// Names imported by `use p.x`, `use p.{x}` and `use p` (an alias), across packages.
#[test]
fn renaming_imported_names_keeps_the_meaning() {
    let files = vec![
        (
            "mesh/base.intent".to_string(),
            "package acme.base\n\ncapability work\n\nagent worker { provides work  trust 0.9 }\n\nhuman lead { channel \"slack\"  sla 4h }\n\nconst floor = 0.5\n"
                .to_string(),
        ),
        (
            "mesh/app.intent".to_string(),
            "package acme.app\nuse acme.base.worker\nuse acme.base.{lead}\nuse acme.base\n\nintent go {\n  description \"go\"\n}\n\nroute go {\n  when confidence < base.floor => escalate lead\n  otherwise => dispatch worker\n}\n"
                .to_string(),
        ),
    ];
    let n = every_rename_keeps_the_meaning(&files);
    assert!(n >= 4, "only {n} declarations renamed");
}

/// Go to definition answers what the checker reads: in a condition the context field `tier`
/// (not the const of the same name), after `intent ==` the intent `shipping` (not the context
/// field), elsewhere in a condition the context field `shipping`; the built-in `intent` is no
/// declaration.
#[test]
fn go_to_definition_goes_where_the_checker_reads() {
    let mut host = Host::default();
    host.set_file("mesh/demo.intent", COLLIDING.to_string());
    let snap = host.snapshot();
    // The declaration's line for the cursor at the start of `needle` plus `skip` bytes.
    let goto = |needle: &str, skip: usize| -> Option<String> {
        let at = COLLIDING.find(needle).unwrap() + skip;
        let def = snap.goto_definition("mesh/demo.intent", at as u32)?;
        let start = COLLIDING[..def.span.start as usize]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let end = start + COLLIDING[start..].find('\n').unwrap();
        Some(COLLIDING[start..end].trim().to_string())
    };
    assert_eq!(goto("tier == \"free\"", 0).as_deref(), Some("tier: string"));
    assert_eq!(goto("intent == shipping", 0), None);
    assert_eq!(
        goto("intent == shipping", "intent == ".len()).as_deref(),
        Some("intent shipping {")
    );
    assert_eq!(
        goto("shipping == \"express\"", 0).as_deref(),
        Some("shipping: string")
    );
    assert_eq!(goto("count > limit", 0).as_deref(), Some("count: number"));
    assert_eq!(
        goto("count > limit", "count > ".len()).as_deref(),
        Some("const limit = 3")
    );
}

/// Agents of two packages sharing a name are `package.name` in the plan, and in a string
/// compared with `caller.name`: go to definition on the name part reaches that package's
/// agent; a plain string reaches the one agent of that name.
#[test]
fn a_string_compared_with_the_callers_name_names_an_agent() {
    let a = "package acme.a\n\ncapability work\n\nagent worker { provides work  trust 0.9 }\nagent solo { provides work  trust 0.8 }\n\nintent go {\n  description \"go\"\n}\n\nroute go {\n  when caller.name == \"acme.b.worker\" => deny because \"not b\"\n  when caller.name in {\"solo\"} => dispatch solo\n  otherwise => dispatch worker\n}\n";
    let b = "package acme.b\n\nagent worker { provides work  trust 0.5 }\n";
    let mut host = Host::default();
    host.set_file("mesh/a.intent", a.to_string());
    host.set_file("mesh/b.intent", b.to_string());
    let snap = host.snapshot();
    let at = |needle: &str| (a.find(needle).unwrap()) as u32;
    let def = snap
        .goto_definition(
            "mesh/a.intent",
            at("acme.b.worker\"") + "acme.b.".len() as u32,
        )
        .unwrap();
    assert_eq!(def.file, "mesh/b.intent");
    assert!(snap
        .goto_definition("mesh/a.intent", at("acme.b.worker\""))
        .is_none());
    let def = snap
        .goto_definition("mesh/a.intent", at("solo\"}"))
        .unwrap();
    assert_eq!(
        (
            def.file.as_str(),
            &a[def.span.start as usize..def.span.end as usize]
        ),
        ("mesh/a.intent", "solo")
    );
}
