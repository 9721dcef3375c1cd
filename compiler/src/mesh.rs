//! What a mesh is, in one place for the command line, [`crate::compile`], the IDE host and the
//! language server: which `.intent` files belong together, and which standard modules a mesh
//! keeps when it holds a user copy of one. Pure: paths (and texts) in, meshes out. The callers
//! read the disk (`src/cli/sources.rs`, `lsp/src/files.rs`) following these rules.
//!
//! - A mesh is a directory and every `.intent` file below it, at any depth. Walking it skips
//!   hidden directories, `target` and `node_modules` ([`skips_dir`]).
//! - On the command line the directory is the one named (`intent check DIR`; the current
//!   directory when none is). In the editor, where no directory is named, a file's mesh is
//!   [`root_of`]: from the file's directory, up while the directory above holds `.intent` files
//!   of its own. So a mesh with subdirectories is one mesh in both, as long as its top
//!   directory holds a file (docs/language-decisions.md).
//! - A user file whose path ends with a standard module's (`std/data.intent`,
//!   `std/compliance/gdpr.intent`) is a copy of it and replaces it in its mesh ([`std_copy_of`]):
//!   that is how `stdlib/` itself is checked, and how a mesh adapts a module.

use crate::stdlib;
use std::collections::BTreeMap;

/// Whether a directory met while walking a mesh is left out: hidden directories (`.git`),
/// build output (`target`) and JavaScript dependencies (`node_modules`).
pub fn skips_dir(name: &str) -> bool {
    name.starts_with('.') || name == "target" || name == "node_modules"
}

/// Whether a path names an `.intent` file (by its extension).
pub fn is_intent_file(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    name.len() > ".intent".len() && name.ends_with(".intent")
}

/// The directory that holds `path` ("" for a bare file name, "/" for a file at the root);
/// `None` for "" and "/", which have no parent.
pub fn parent(path: &str) -> Option<&str> {
    if path.is_empty() || path == "/" || path == "\\" {
        return None;
    }
    match path.rfind(['/', '\\']) {
        Some(0) => path.get(..1),
        Some(i) => path.get(..i),
        None => Some(""),
    }
}

/// The directory naming the mesh of the file at `path` when no directory is named (the
/// editor): from the file's directory, up while the directory above holds `.intent` files of
/// its own, as `holds(dir)` says. It is the directory to name to `intent check` for the same
/// mesh. At most one step per component of the path.
pub fn root_of(path: &str, mut holds: impl FnMut(&str) -> bool) -> String {
    let Some(mut dir) = parent(path) else {
        return String::new();
    };
    while let Some(up) = parent(dir) {
        if !holds(up) {
            break;
        }
        dir = up;
    }
    dir.to_string()
}

/// The meshes the given files form by [`root_of`], a directory holding files when one of
/// `paths` is directly in it: each mesh's directory with its files, in path order. The
/// editor's files are grouped with this; a caller that has read each file's directory and
/// the directories above (as the language server does) gets the meshes the disk holds.
pub fn group<'p>(paths: impl IntoIterator<Item = &'p str>) -> BTreeMap<String, Vec<&'p str>> {
    let mut paths: Vec<&str> = paths.into_iter().collect();
    paths.sort_unstable();
    paths.dedup();
    let dirs: std::collections::BTreeSet<&str> = paths.iter().filter_map(|p| parent(p)).collect();
    let mut meshes: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for p in paths {
        meshes
            .entry(root_of(p, |d| dirs.contains(d)))
            .or_default()
            .push(p);
    }
    meshes
}

/// The standard module (its `<std>/` path) a user file is a copy of: the file's path ends with
/// the module's path below `<std>/` (`std/data.intent`), at a directory boundary.
pub fn std_copy_of(path: &str) -> Option<&'static str> {
    let path = path.replace('\\', "/");
    stdlib::MODULES.iter().map(|(p, _)| *p).find(|module| {
        let rel = module.trim_start_matches("<std>/");
        path == rel
            || path
                .strip_suffix(rel)
                .is_some_and(|before| before.ends_with('/'))
    })
}

/// The standard modules (path, text) a mesh of these user files keeps: those none of them is
/// a copy of, in the library's order.
pub fn kept_std<'p>(
    user_paths: impl IntoIterator<Item = &'p str>,
) -> Vec<(&'static str, &'static str)> {
    let replaced: Vec<&str> = user_paths.into_iter().filter_map(std_copy_of).collect();
    stdlib::MODULES
        .iter()
        .filter(|(p, _)| !replaced.contains(p))
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mesh_with_subdirectories_and_a_std_copy_is_one_mesh() {
        let meshes = group([
            "/w/m/sub/more.intent",
            "/w/m/main.intent",
            "/w/m/std/data.intent",
            "/w/other/x.intent",
        ]);
        let want: BTreeMap<String, Vec<&str>> = [
            (
                "/w/m".to_string(),
                vec![
                    "/w/m/main.intent",
                    "/w/m/std/data.intent",
                    "/w/m/sub/more.intent",
                ],
            ),
            ("/w/other".to_string(), vec!["/w/other/x.intent"]),
        ]
        .into_iter()
        .collect();
        assert_eq!(meshes, want);
        let kept: Vec<&str> = kept_std(meshes.get("/w/m").into_iter().flatten().copied())
            .iter()
            .map(|(p, _)| *p)
            .collect();
        assert_eq!(
            kept,
            [
                "<std>/std/regions.intent",
                "<std>/std/compliance/gdpr.intent",
                "<std>/std/compliance/hipaa.intent"
            ]
        );
    }

    #[test]
    fn a_subdirectory_under_a_directory_without_files_is_its_own_mesh() {
        let meshes = group(["a/x.intent", "b/y.intent", "b/c/z.intent", "top.intent"]);
        let roots: Vec<&str> = meshes.keys().map(String::as_str).collect();
        // "" holds top.intent, so a/ and b/ join it: the directory `intent check .` names.
        assert_eq!(roots, [""]);
        let meshes = group(["a/x.intent", "b/y.intent", "b/c/z.intent"]);
        let roots: Vec<&str> = meshes.keys().map(String::as_str).collect();
        assert_eq!(roots, ["a", "b"]);
    }

    #[test]
    fn parents_stop_at_the_root() {
        assert_eq!(parent("/a.intent"), Some("/"));
        assert_eq!(parent("/"), None);
        assert_eq!(parent("a.intent"), Some(""));
        assert_eq!(parent(""), None);
        assert_eq!(parent(r"c:\m\a.intent"), Some(r"c:\m"));
        assert_eq!(root_of("/a.intent", |_| true), "/");
        assert_eq!(root_of("/x/y/a.intent", |_| true), "/");
        assert_eq!(root_of("a.intent", |_| true), "");
    }

    #[test]
    fn a_std_copy_is_matched_at_a_directory_boundary() {
        assert_eq!(
            std_copy_of("stdlib/std/data.intent"),
            Some("<std>/std/data.intent")
        );
        assert_eq!(
            std_copy_of("std/data.intent"),
            Some("<std>/std/data.intent")
        );
        assert_eq!(
            std_copy_of(r"m\std\compliance\gdpr.intent"),
            Some("<std>/std/compliance/gdpr.intent")
        );
        assert_eq!(std_copy_of("m/mystd/data.intent"), None);
        assert_eq!(std_copy_of("m/data.intent"), None);
    }

    #[test]
    fn skipped_directories_and_intent_files() {
        assert!(skips_dir(".git") && skips_dir("target") && skips_dir("node_modules"));
        assert!(!skips_dir("std"));
        assert!(is_intent_file("m/a.intent") && !is_intent_file("m/.intent"));
        assert!(!is_intent_file("m/a.intent.bak"));
    }
}
