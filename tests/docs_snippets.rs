//! The documentation is tested like code: every `intent` code block in `docs/` and the READMEs
//! is compiled, every relative link points at a file (and heading) that exists, every page of
//! the site is listed in `docs/SUMMARY.md`, no file cites a document that is not in the
//! repository, the CLI reference names exactly the subcommands and options `intent --help`
//! shows, and the language reference lists exactly the lexer's keywords.
//!
//! A code block's info string says what it is (`docs/introduction.md` explains it to writers):
//! - ```` ```intent ```` — a complete mesh: it must check without any diagnostic, and its `test`
//!   blocks must pass;
//! - ```` ```intent,fragment ```` — a piece of a mesh: it must parse, as items, as the arms of a
//!   route or as the rules of a policy (names are not resolved);
//! - ```` ```intent,error=E0200 ```` — a mistake shown on purpose: checking it must give errors
//!   with exactly this code;
//! - ```` ```intent,warning=W0003 ```` — a complete mesh that must give this warning (and no
//!   other diagnostic);
//! - ```` ```intent,mesh=NAME ```` — the blocks of one page with the same NAME are joined, in
//!   order, into one file that is checked (and tested) as a complete mesh.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use intent_compiler::syntax::parse;
use intent_compiler::{compile, Source, Stage};
use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

/// The Markdown files whose links and snippets are checked, relative to the repository root.
fn markdown_files() -> Vec<PathBuf> {
    let root = common::root();
    let mut files = vec![
        PathBuf::from("README.md"),
        PathBuf::from("ARCHITECTURE.md"),
        PathBuf::from("examples/README.md"),
        PathBuf::from("stdlib/README.md"),
    ];
    let mut pages = Vec::new();
    walk(&root, Path::new("docs"), &mut |p| {
        if p.extension().is_some_and(|e| e == "md") {
            pages.push(p.to_path_buf());
        }
    });
    pages.sort();
    files.extend(pages);
    files
}

/// Calls `f` with every file under `dir` (relative to `root`), skipping build output.
fn walk(root: &Path, dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let rel = dir.join(&name);
        if matches!(
            name.to_str(),
            Some("target" | ".git" | "node_modules" | ".vscode-test")
        ) {
            continue;
        }
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            walk(root, &rel, f);
        } else {
            f(&rel);
        }
    }
}

fn read(rel: &Path) -> String {
    std::fs::read_to_string(common::root().join(rel))
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", rel.display()))
}

/// One fenced `intent` block: where it is, its attributes and its text.
struct Block {
    page: PathBuf,
    line: usize,
    attrs: Vec<String>,
    text: String,
}

impl Block {
    fn at(&self) -> String {
        format!("{}:{}", self.page.display(), self.line)
    }
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find_map(|a| a.strip_prefix(key))
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(0, |t| t.matches('\n').count()) + 1
}

fn intent_blocks(page: &Path) -> Vec<Block> {
    let text = read(page);
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    for (event, range) in Parser::new(&text).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let mut parts = info.split(',').map(|s| s.trim().to_string());
                if parts.next().as_deref() == Some("intent") {
                    current = Some(Block {
                        page: page.to_path_buf(),
                        line: line_of(&text, range.start),
                        attrs: parts.collect(),
                        text: String::new(),
                    });
                }
            }
            Event::Text(t) => {
                if let Some(b) = current.as_mut() {
                    b.text.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => blocks.extend(current.take()),
            _ => {}
        }
    }
    blocks
}

/// Checks a complete mesh: no diagnostic but the warning allowed, and every test passing.
fn check_complete(at: &str, text: &str, warning: Option<&str>, problems: &mut Vec<String>) {
    let sources = [Source::new(format!("{at}.intent"), text)];
    let c = compile(&sources, Stage::Check);
    let codes: BTreeSet<&str> = c.diagnostics.iter().map(|d| d.code.as_str()).collect();
    let wanted: BTreeSet<&str> = warning.into_iter().collect();
    if codes != wanted {
        problems.push(format!(
            "{at}: expected {} but got:\n{}",
            warning.map_or("no diagnostic".to_string(), |w| format!("exactly {w}")),
            intent_compiler::render::human(&c.diagnostics, &c.sources, false)
        ));
        return;
    }
    let Some(plan) = c.plan else {
        problems.push(format!("{at}: no plan although there is no error"));
        return;
    };
    for outcome in intent_compiler::testing::run(&plan, &c.tests) {
        if !outcome.passed() {
            problems.push(format!(
                "{at}: test \"{}\" fails: {:?}",
                outcome.name, outcome.failures
            ));
        }
    }
}

/// A fragment must parse as items, as the arms of a route or as the rules of a policy.
fn check_fragment(block: &Block, problems: &mut Vec<String>) {
    let as_items = parse(&block.text);
    if as_items.problems.is_empty() {
        return;
    }
    for wrap in ["route r", "policy p"] {
        if parse(&format!("{wrap} {{\n{}\n}}", block.text))
            .problems
            .is_empty()
        {
            return;
        }
    }
    let listed: Vec<String> = as_items
        .problems
        .iter()
        .map(|p| format!("  [{}] {} ({})", p.code, p.message, p.help))
        .collect();
    problems.push(format!(
        "{}: the fragment does not parse:\n{}",
        block.at(),
        listed.join("\n")
    ));
}

fn check_error(block: &Block, code: &str, problems: &mut Vec<String>) {
    let sources = [Source::new(
        format!("{}.intent", block.at()),
        block.text.as_str(),
    )];
    let c = compile(&sources, Stage::Check);
    let errors: BTreeSet<&str> = c
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code.as_str())
        .collect();
    if errors != BTreeSet::from([code]) {
        problems.push(format!(
            "{}: expected errors with code {code} only, got:\n{}",
            block.at(),
            intent_compiler::render::human(&c.diagnostics, &c.sources, false)
        ));
    }
}

#[test]
fn every_intent_block_in_the_docs_compiles() {
    let mut problems = Vec::new();
    let mut meshes: BTreeMap<(PathBuf, String), (String, String)> = BTreeMap::new();
    let mut count = 0;
    for page in markdown_files() {
        for block in intent_blocks(&page) {
            count += 1;
            for a in &block.attrs {
                let known = a == "fragment"
                    || ["error=", "warning=", "mesh="]
                        .iter()
                        .any(|p| a.starts_with(p));
                if !known {
                    problems.push(format!("{}: unknown attribute `{a}`", block.at()));
                }
            }
            if let Some(name) = block.attr("mesh=") {
                let entry = meshes
                    .entry((block.page.clone(), name.to_string()))
                    .or_insert_with(|| (block.at(), String::new()));
                entry.1.push_str(&block.text);
                entry.1.push('\n');
            } else if let Some(code) = block.attr("error=") {
                check_error(&block, code, &mut problems);
            } else if block.attrs.iter().any(|a| a == "fragment") {
                check_fragment(&block, &mut problems);
            } else {
                check_complete(
                    &block.at(),
                    &block.text,
                    block.attr("warning="),
                    &mut problems,
                );
            }
        }
    }
    for (at, text) in meshes.values() {
        check_complete(at, text, None, &mut problems);
    }
    assert!(
        count > 40,
        "only {count} intent blocks found: is the walk broken?"
    );
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}

/// Heading ids as mdBook (and GitHub) make them: lowercase; letters, digits, `-` and `_` kept;
/// white space becomes `-`; anything else is dropped; repeats get `-1`, `-2`, ...
fn heading_ids(text: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut heading: Option<String> = None;
    for event in Parser::new(text) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let Some(h) = heading.take() else { continue };
                let id: String = h
                    .chars()
                    .filter_map(|c| {
                        if c.is_alphanumeric() || c == '_' || c == '-' {
                            Some(c.to_ascii_lowercase())
                        } else if c.is_whitespace() {
                            Some('-')
                        } else {
                            None
                        }
                    })
                    .collect();
                let n = seen.entry(id.clone()).or_insert(0);
                ids.insert(if *n == 0 { id } else { format!("{id}-{n}") });
                *n += 1;
            }
            _ => {}
        }
    }
    ids
}

/// `base/../x` without touching the filesystem; `None` when it climbs out of the repository.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

#[test]
fn every_relative_link_in_the_docs_points_at_something_that_exists() {
    let root = common::root();
    let mut problems = Vec::new();
    for page in markdown_files() {
        let text = read(&page);
        for (event, range) in Parser::new(&text).into_offset_iter() {
            let dest = match event {
                Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => dest_url,
                _ => continue,
            };
            let at = format!("{}:{}", page.display(), line_of(&text, range.start));
            if dest.contains("://") || dest.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = match dest.split_once('#') {
                Some((f, a)) => (f, Some(a)),
                None => (dest.as_ref(), None),
            };
            let target = if file.is_empty() {
                Some(page.clone())
            } else {
                normalize(&page.parent().unwrap_or(Path::new("")).join(file))
            };
            let Some(target) = target.filter(|t| root.join(t).exists()) else {
                problems.push(format!("{at}: `{dest}` does not exist"));
                continue;
            };
            // The site is built from docs/ alone: a page linking outside it would be a dead link.
            if page.starts_with("docs") && !target.starts_with("docs") {
                problems.push(format!(
                    "{at}: `{dest}` is outside docs/, so the site cannot show it: name the file in `code` instead"
                ));
            }
            if let Some(anchor) = anchor.filter(|_| target.extension().is_some_and(|e| e == "md")) {
                if !heading_ids(&read(&target)).contains(anchor) {
                    problems.push(format!(
                        "{at}: `{}` has no heading `#{anchor}`",
                        target.display()
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn every_page_of_the_site_is_listed_in_the_summary() {
    let summary = read(Path::new("docs/SUMMARY.md"));
    let mut listed = BTreeSet::new();
    for event in Parser::new(&summary) {
        if let Event::Start(Tag::Link { dest_url, .. }) = event {
            listed.insert(PathBuf::from("docs").join(dest_url.as_ref()));
        }
    }
    let unlisted: Vec<String> = markdown_files()
        .into_iter()
        .filter(|p| p.starts_with("docs") && !p.ends_with("SUMMARY.md") && !listed.contains(p))
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        unlisted.is_empty(),
        "pages not in docs/SUMMARY.md (the site would not show them): {unlisted:?}"
    );
    for page in &listed {
        assert!(
            common::root().join(page).is_file(),
            "docs/SUMMARY.md lists {}, which does not exist",
            page.display()
        );
    }
}

/// Every page under docs/ that a source file, comment or message names exists, and nothing
/// names the language drafts that were never part of the repository.
#[test]
fn no_file_cites_a_document_that_does_not_exist() {
    let root = common::root();
    let drafts = [concat!("LANGUAGE", ".md"), concat!("SYSTEM", ".md")];
    let mut problems = Vec::new();
    for top in [
        "src", "compiler", "runtime", "lsp", "tests", "examples", "stdlib", "docs", "editors",
        "benches", "fuzz",
    ] {
        walk(&root, Path::new(top), &mut |p| {
            let text_file = p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                matches!(
                    e,
                    "rs" | "md" | "intent" | "lalrpop" | "toml" | "json" | "sh" | "ts"
                )
            });
            if !text_file || p.components().any(|c| c.as_os_str() == "snapshots") {
                return;
            }
            let Ok(text) = std::fs::read_to_string(root.join(p)) else {
                return;
            };
            for d in drafts {
                if text.contains(d) {
                    problems.push(format!("{} cites {d}", p.display()));
                }
            }
            for (i, _) in text.match_indices("docs/") {
                let cited: String = text[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'))
                    .collect();
                let cited = cited.trim_end_matches('.');
                let starts_word =
                    i == 0 || !text[..i].ends_with(|c: char| c.is_ascii_alphanumeric());
                if starts_word && cited.ends_with(".md") && !root.join(cited).is_file() {
                    problems.push(format!(
                        "{} cites {cited}, which does not exist",
                        p.display()
                    ));
                }
            }
        });
    }
    for top in ["README.md", "ARCHITECTURE.md"] {
        let text = read(Path::new(top));
        for d in drafts {
            if text.contains(d) {
                problems.push(format!("{top} cites {d}"));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// What `intent ARGS` prints (`--help` text).
fn help_of(args: &[&str]) -> String {
    let out = common::intent(&common::root(), args);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The long options of a `--help` text (without `--help` and `--version`).
fn options_of(help: &str) -> BTreeSet<String> {
    // Option lines start with the option (`  -o, --output <OUTPUT>`, `      --json`); the
    // descriptions may name other commands' options, which do not count.
    help.lines()
        .filter(|l| l.trim_start().starts_with('-'))
        .filter_map(|l| long_options(l).into_iter().next())
        .filter(|w| !matches!(w.as_str(), "--help" | "--version"))
        .collect()
}

/// The values clap lists for the options of a `--help` text that take one of a set
/// (`[possible values: dispatch, plan, ..]`), by option.
fn possible_values(help: &str) -> Vec<(String, Vec<String>)> {
    // The list is on the option's line, or on a line of its description after it.
    let mut option = None;
    let mut found = Vec::new();
    for l in help.lines() {
        if l.trim_start().starts_with('-') {
            option = long_options(l).into_iter().next();
        }
        let (Some(o), Some((_, rest))) = (&option, l.split_once("[possible values: ")) else {
            continue;
        };
        let list = rest.split(']').next().unwrap_or_default();
        found.push((
            o.clone(),
            list.split(", ").map(|v| v.trim().to_string()).collect(),
        ));
    }
    found
}

/// The words of `text` that look like long options (`--name`).
fn long_options(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.as_bytes().get(2).is_some_and(u8::is_ascii_alphabetic))
        .map(String::from)
        .collect()
}

/// The CLI reference has a section per subcommand, and each section names exactly the options
/// that subcommand's `--help` lists: no option is undocumented and none is made up.
#[test]
fn the_cli_reference_matches_intent_help() {
    let out = common::intent(&common::root(), &["--help"]);
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let subcommands: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .filter(|s| s != "help")
        .collect();
    assert!(subcommands.len() >= 10, "{help}");
    let page = read(Path::new("docs/reference/cli.md"));
    // Sections: `## \`intent NAME\`` up to the next `## `.
    let mut sections: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in page.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            current = h
                .strip_prefix("`intent ")
                .and_then(|h| h.strip_suffix('`'))
                .map(String::from);
            continue;
        }
        if let Some(c) = &current {
            let s = sections.entry(c.clone()).or_default();
            s.push_str(line);
            s.push('\n');
        }
    }
    let mut problems = Vec::new();
    for sub in &subcommands {
        let Some(section) = sections.get(sub) else {
            problems.push(format!(
                "no section `intent {sub}` in docs/reference/cli.md"
            ));
            continue;
        };
        let help = help_of(&[sub.as_str(), "--help"]);
        let shown = options_of(&help);
        let written: BTreeSet<String> = long_options(section).into_iter().collect();
        let words: BTreeSet<&str> = section
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .collect();
        for (option, values) in possible_values(&help) {
            for v in values.iter().filter(|v| !words.contains(v.as_str())) {
                problems.push(format!(
                    "`intent {sub} {option}` takes `{v}`, which the reference does not name"
                ));
            }
        }
        for o in shown.difference(&written) {
            problems.push(format!(
                "`intent {sub}` has {o}, which the reference does not describe"
            ));
        }
        for o in written.difference(&shown) {
            problems.push(format!(
                "the reference gives `intent {sub}` the option {o}, which it does not have"
            ));
        }
    }
    for documented in sections.keys() {
        if !subcommands.contains(documented) {
            problems.push(format!(
                "docs/reference/cli.md describes `intent {documented}`, which does not exist"
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// Every `curl` in the docs that sends a body says it is JSON: the sidecar answers 415 to a
/// POST body of any other content type, and `curl -d` alone sends a form.
#[test]
fn every_curl_that_sends_a_body_says_it_is_json() {
    let mut problems = Vec::new();
    for page in markdown_files() {
        let text = read(&page);
        // A command is its line and the lines it continues onto (`\` at the end).
        let mut command = String::new();
        let mut start = 0;
        for (n, line) in text.lines().enumerate() {
            if command.is_empty() {
                start = n + 1;
            }
            command.push_str(line.trim_end_matches('\\'));
            command.push(' ');
            if line.ends_with('\\') {
                continue;
            }
            let sends = [" -d ", " --data", " --json "]
                .iter()
                .any(|f| command.contains(f));
            if command.trim_start().starts_with("curl ")
                && sends
                && !command
                    .to_ascii_lowercase()
                    .contains("content-type: application/json")
            {
                problems.push(format!(
                    "{}:{start}: add -H 'content-type: application/json' to `{}`",
                    page.display(),
                    command.trim()
                ));
            }
            command.clear();
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn headings_get_the_ids_the_site_gives_them() {
    let ids = heading_ids("# Runtime meaning (where the draft was open)\n## `intent diff` and `intent replay`\n## A b\n## A b\n");
    let expected: BTreeSet<String> = [
        "runtime-meaning-where-the-draft-was-open",
        "intent-diff-and-intent-replay",
        "a-b",
        "a-b-1",
    ]
    .map(String::from)
    .into();
    assert_eq!(ids, expected);
}

/// The words of the first ```` ```text ```` block after `marker` in `text`, without the
/// parenthesised notes at the ends of its lines.
fn listed_words(text: &str, marker: &str) -> BTreeSet<String> {
    let from = text.find(marker).unwrap_or_else(|| panic!("no {marker:?}"));
    let block = text[from..].split("```text\n").nth(1).unwrap();
    let block = block.split("```").next().unwrap();
    block
        .lines()
        .flat_map(|l| l.split('(').next().unwrap_or_default().split_whitespace())
        .map(str::to_string)
        .collect()
}

/// Every keyword the lexer has (`#[token("word")]` in `compiler/src/syntax/token.rs`) is in
/// one of the two lists of the language reference, reserved or contextual, and the reserved
/// list is the one the parser refuses as names (`Token::RESERVED`, E0007).
#[test]
fn the_keyword_lists_of_the_reference_are_the_lexers() {
    use intent_compiler::syntax::token::Token;
    let page = read(Path::new("docs/reference/language.md"));
    let reserved = listed_words(&page, "**Reserved words**");
    let contextual = listed_words(&page, "**Contextual words**");
    let refused: BTreeSet<String> = Token::RESERVED.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        reserved, refused,
        "the reserved words in the reference and in Token::RESERVED"
    );
    let source = read(Path::new("compiler/src/syntax/token.rs"));
    let words: BTreeSet<String> = source
        .split("#[token(\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .map(str::to_string)
        .collect();
    let listed: BTreeSet<String> = reserved.union(&contextual).cloned().collect();
    assert_eq!(
        words.difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "keywords of the lexer missing from the reference's lists"
    );
    assert_eq!(
        listed.difference(&words).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "words the reference lists as keywords that the lexer does not have"
    );
    assert_eq!(
        reserved.intersection(&contextual).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "words listed as both reserved and contextual"
    );
}
