//! The built documentation site, as a reader gets it: `mdbook build docs` (into a scratch
//! directory) writes a page for every entry of `docs/SUMMARY.md`, every relative link and
//! every file a page loads (`href`, `src`) exists in the output, and nothing is loaded from the
//! network, so the site works offline from a `file://` URL. `tests/docs_snippets.rs` checks
//! the Markdown; this checks what mdBook made of it. Needs `mdbook` (0.5; `.ci/run` installs
//! it): SKIPPED without it on a developer's machine, a failure under `CI=true`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::tools;
use pulldown_cmark::{Event, Parser, Tag};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every `.html` file under `dir`.
fn pages(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            pages(&path, out);
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
}

/// The values of `attr="..."` in `html`.
fn attribute_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!(" {attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

#[test]
fn the_built_site_has_every_page_and_link_and_works_offline() {
    let test = "the_built_site_has_every_page_and_link_and_works_offline";
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let cargo_bin = home.map(|h| h.join(".cargo/bin").display().to_string());
    let also: Vec<&str> = cargo_bin.iter().map(String::as_str).collect();
    let Some(mdbook) = tools::require_binary(
        test,
        "mdbook",
        &also,
        "cargo install --locked mdbook --version '^0.5'",
    ) else {
        return;
    };
    let out = common::workdir("site", &[]);
    let built = Command::new(&mdbook)
        .arg("build")
        .arg(common::root().join("docs"))
        .arg("--dest-dir")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "mdbook build failed:\n{}",
        common::text(&built.stderr)
    );

    // A page for every entry of the summary.
    let summary = std::fs::read_to_string(common::root().join("docs/SUMMARY.md")).unwrap();
    let mut listed = 0;
    for event in Parser::new(&summary) {
        if let Event::Start(Tag::Link { dest_url, .. }) = event {
            let page = out.join(dest_url.as_ref()).with_extension("html");
            assert!(page.is_file(), "{dest_url} has no page in the built site");
            listed += 1;
        }
    }
    assert!(listed > 10, "docs/SUMMARY.md lists only {listed} pages");

    let mut all = Vec::new();
    pages(&out, &mut all);
    let mut problems = Vec::new();
    let mut checked = 0;
    for page in &all {
        let html = std::fs::read_to_string(page).unwrap();
        let at = page.strip_prefix(&out).unwrap().display().to_string();
        // What the page loads comes from the site itself.
        for tag in ["<script", "<link", "<img"] {
            for (i, _) in html.match_indices(tag) {
                let element = &html[i..html[i..].find('>').map_or(html.len(), |e| i + e)];
                for attr in ["src", "href"] {
                    for v in attribute_values(element, attr) {
                        if v.contains("//") {
                            problems.push(format!("{at}: loads {v} from the network"));
                        }
                    }
                }
            }
        }
        // Every relative link and loaded file exists.
        for attr in ["href", "src"] {
            for v in attribute_values(&html, attr) {
                if v.contains("://")
                    || v.starts_with("//")
                    || v.starts_with('#')
                    || v.starts_with("mailto:")
                    || v.starts_with("javascript:")
                    || v.is_empty()
                {
                    continue;
                }
                let file = v.split(['#', '?']).next().unwrap_or_default();
                // Only the 404 page (which a web server shows, never a `file://` reader) links
                // from the site's root (mdBook's `site-url`); an absolute link anywhere else
                // would break offline.
                let target = if let Some(rooted) = file.strip_prefix('/') {
                    if !at.ends_with("404.html") {
                        problems.push(format!(
                            "{at}: {attr}=\"{v}\" is absolute: offline it points outside the site"
                        ));
                    }
                    out.join(rooted)
                } else if file.is_empty() {
                    page.clone()
                } else {
                    page.parent().unwrap().join(file)
                };
                checked += 1;
                let exists = target.is_file() || target.join("index.html").is_file();
                if !exists {
                    problems.push(format!("{at}: {attr}=\"{v}\" does not exist in the site"));
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} links checked");
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    let _ = std::fs::remove_dir_all(&out);
}
