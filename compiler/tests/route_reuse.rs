//! Route checks reused between checks of the same mesh (`check/reuse.rs`): after an edit
//! inside a route, the other routes are replayed from the check before, and the check finds
//! exactly what a fresh `compile` finds (diagnostics, plan with its source map, tests), after
//! any sequence of edits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "../benches/support/mesh.rs"]
mod mesh;

use intent_compiler::db::{analyze, Database, SourceFile, SourceSet};
use intent_compiler::{compile, Source, Stage};
use salsa::Setter;

/// A mesh held in a database across edits, as the language server holds it.
struct Held {
    db: Database,
    set: SourceSet,
    /// The user's files (after the standard modules), with their texts.
    files: Vec<(SourceFile, String, String)>,
}

impl Held {
    fn new(texts: &[(String, String)]) -> Held {
        let db = Database::default();
        let mut all: Vec<SourceFile> =
            intent_compiler::mesh::kept_std(texts.iter().map(|(p, _)| p.as_str()))
                .into_iter()
                .map(|(p, t)| SourceFile::new(&db, p.to_string(), t.to_string(), true))
                .collect();
        let files: Vec<(SourceFile, String, String)> = texts
            .iter()
            .map(|(p, t)| {
                (
                    SourceFile::new(&db, p.clone(), t.clone(), false),
                    p.clone(),
                    t.clone(),
                )
            })
            .collect();
        all.extend(files.iter().map(|f| f.0));
        let set = SourceSet::with_files(&db, all);
        Held { db, set, files }
    }

    fn set_text(&mut self, file: usize, text: String) {
        let f = self.files[file].0;
        f.set_text(&mut self.db).to(text.clone());
        self.files[file].2 = text;
    }

    /// Checks the held mesh and compares it with a fresh compile of the same texts; how many
    /// routes were replayed, and whether the declarations outside routes were.
    fn check_against_fresh(&self, after: &str) -> (usize, bool) {
        let got = analyze(&self.db, self.set);
        let sources: Vec<Source> = self
            .files
            .iter()
            .map(|(_, p, t)| Source::new(p.clone(), t.clone()))
            .collect();
        let fresh = compile(&sources, Stage::Check);
        assert_eq!(
            got.diagnostics, fresh.diagnostics,
            "diagnostics after {after}"
        );
        assert_eq!(
            got.plan.as_deref(),
            fresh.plan.as_ref(),
            "plan after {after}"
        );
        assert_eq!(got.tests, fresh.tests, "tests after {after}");
        self.set.memo(&self.db).0.lock().unwrap().reused()
    }
}

/// The small bench mesh in three files of one package.
fn three_files() -> Vec<(String, String)> {
    let text = mesh::intent_source(&mesh::generate(&mesh::QUICK));
    let header = mesh::SPLIT_HEADER;
    let body = mesh::item_lines(&text);
    let third = body.len() / 3;
    let mut files = vec![
        String::from(header),
        String::from(header),
        String::from(header),
    ];
    let mut part = 0;
    for (i, line) in body.iter().enumerate() {
        // A new part starts at an item.
        if i >= third * (part + 1) && part < 2 && line.starts_with(|c: char| c.is_ascii_lowercase())
        {
            part += 1;
        }
        files[part].push_str(line);
        files[part].push('\n');
    }
    files
        .into_iter()
        .enumerate()
        .map(|(i, t)| (format!("bench/part{i}.intent"), t))
        .collect()
}

/// The routes (`route NAME {` .. `}` lines) of a text, as byte ranges.
fn routes(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = text[at..].find("\nroute ").map(|i| at + i + 1) {
        let end = start + text[start..].find("\n}\n").unwrap() + 2;
        out.push((start, end));
        at = end;
    }
    out
}

/// `text` with the two ranges `a` and `b` (which do not overlap) trading places.
fn swapped(text: &str, a: (usize, usize), b: (usize, usize)) -> String {
    let ((a0, a1), (b0, b1)) = if a.0 < b.0 { (a, b) } else { (b, a) };
    format!(
        "{}{}{}{}{}",
        &text[..a0],
        &text[b0..b1],
        &text[a1..b0],
        &text[a0..a1],
        &text[b1..]
    )
}

fn count_routes(files: &[(String, String)]) -> usize {
    files.iter().map(|(_, t)| routes(t).len()).sum()
}

#[test]
fn an_edit_inside_a_route_replays_every_other_route() {
    let files = three_files();
    let n = count_routes(&files);
    assert!(n > 50, "{n} routes");
    let mut held = Held::new(&files);
    assert_eq!(held.check_against_fresh("the first check"), (0, false));

    // A threshold inside one route, made longer: the routes and intents after it in its file
    // move.
    let edit_route = |held: &mut Held, file: usize, from: &str, to: &str| {
        let text = held.files[file].2.clone();
        let (start, end) = routes(&text)[2];
        let route = &text[start..end];
        let edited = route.replacen(from, to, 1);
        assert_ne!(route, edited);
        held.set_text(file, format!("{}{edited}{}", &text[..start], &text[end..]));
    };
    edit_route(
        &mut held,
        1,
        "when confidence < 0.",
        "when confidence < 0.0",
    );
    assert_eq!(held.check_against_fresh("a threshold"), (n - 1, true));

    // An agent's trust: outside every route, so everything is checked again, and nothing is
    // kept; the next route edit keeps, and the one after it replays.
    let text = held.files[0].2.clone();
    let at = text.find(" trust 0.").unwrap() + " trust 0.".len();
    held.set_text(0, format!("{}7{}", &text[..at], &text[at + 1..]));
    assert_eq!(held.check_against_fresh("an agent's trust"), (0, false));
    let (less, more) = ("when confidence < 0.", "when confidence < 0.0");
    edit_route(&mut held, 1, more, less);
    assert_eq!(held.check_against_fresh("a threshold"), (0, false));
    edit_route(&mut held, 1, less, more);
    assert_eq!(held.check_against_fresh("a threshold"), (n - 1, true));

    // A policy at the end of a file whose rule is warned about (an optional field read
    // without `has`): after a route edit before it, the warning is replayed where it now is.
    let text = held.files[1].2.clone();
    let warned = "policy late {\n  forbid when amount > 1000 because \"too much\"\n}\n";
    held.set_text(1, format!("{text}{warned}"));
    held.check_against_fresh("a policy added");
    edit_route(&mut held, 1, more, less);
    held.check_against_fresh("a threshold");
    edit_route(&mut held, 1, less, more);
    assert_eq!(held.check_against_fresh("a threshold"), (n - 1, true));
    let got = analyze(&held.db, held.set);
    assert!(
        got.diagnostics.iter().any(|d| d.code.as_str() == "W0003"),
        "{:?}",
        got.diagnostics
    );

    // Two routes of one file trade places: both are replayed where they now are.
    let text = held.files[2].2.clone();
    let r = routes(&text);
    held.set_text(2, swapped(&text, r[0], r[1]));
    assert_eq!(held.check_against_fresh("two routes swapped"), (n, true));
}

/// Random edits, one after another: thresholds (which change a route's length), arms added
/// and removed, routes broken (an unknown agent) and mended, routes swapped, agents' trust,
/// comments between items. After each, the held check is a fresh compile's.
#[test]
fn after_any_sequence_of_edits_the_reused_check_is_a_fresh_one() {
    let mut held = Held::new(&three_files());
    held.check_against_fresh("the first check");
    let mut rng = mesh::Rng(5);
    let (mut replayed, mut broken) = (0, 0);
    for step in 0..60 {
        let file = rng.below(3);
        let text = held.files[file].2.clone();
        let r = routes(&text);
        let (start, end) = r[rng.below(r.len())];
        let route = &text[start..end];
        let kind = rng.below(7);
        let (what, new_route) = match kind {
            0 if route.contains("< 0.0") => ("a threshold", route.replacen("< 0.0", "< 0.", 1)),
            0 => ("a threshold", route.replacen("< 0.", "< 0.0", 1)),
            1 if route.contains("=> deny") => (
                "an arm removed",
                route.replacen(
                    "  when channel == \"batch\" => deny because \"not in batch\"\n",
                    "",
                    1,
                ),
            ),
            1 => (
                "an arm added",
                route.replacen(
                    "{\n",
                    "{\n  when channel == \"batch\" => deny because \"not in batch\"\n",
                    1,
                ),
            ),
            2 => {
                // Broken (an unknown agent), checked, and mended at once.
                let Some(at) = route.find("dispatch any ") else {
                    continue;
                };
                let cap_end = at + route[at..].find('\n').unwrap();
                let bad = format!("{}dispatch ghost{}", &route[..at], &route[cap_end..]);
                held.set_text(file, format!("{}{bad}{}", &text[..start], &text[end..]));
                let reused = held.check_against_fresh("a route broken").0;
                broken += usize::from(reused > 0);
                held.set_text(file, text);
                replayed += held.check_against_fresh("a route mended").0;
                continue;
            }
            3 => (
                "a comment before a route",
                format!("// looked at in step {step}\n{route}"),
            ),
            4 if r.len() > 1 => {
                let next = r[(r.iter().position(|x| x.0 == start).unwrap() + 1) % r.len()];
                held.set_text(file, swapped(&text, (start, end), next));
                replayed += held.check_against_fresh("two routes swapped").0;
                continue;
            }
            5 => {
                let Some(at) = text.find(" trust 0.").map(|i| i + " trust 0.".len()) else {
                    continue;
                };
                let digit = (b'1' + rng.below(9) as u8) as char;
                held.set_text(file, format!("{}{digit}{}", &text[..at], &text[at + 1..]));
                held.check_against_fresh("an agent's trust");
                continue;
            }
            _ => ("a threshold elsewhere", route.replacen("< 0.", "< 0.0", 1)),
        };
        held.set_text(
            file,
            format!("{}{new_route}{}", &text[..start], &text[end..]),
        );
        replayed += held.check_against_fresh(what).0;
    }
    assert!(replayed > 500, "only {replayed} routes replayed");
    assert!(broken > 0, "no route was replayed beside a broken one");
}
