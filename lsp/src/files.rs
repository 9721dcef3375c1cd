//! Reading a mesh from disk, for the language server and the command line alike (the rules
//! are `intent_compiler::mesh`; this is their IO). A directory is walked once per real
//! directory: symbolic links are followed, but a directory reached again (a link back to an
//! ancestor, or a second link to the same place) and a file reached again are skipped with a
//! note, so a link loop costs one visit and never gives a mesh the same declarations twice.

use intent_compiler::mesh;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// What a walk found: the `.intent` files below a directory, sorted, each real file once.
pub struct Walk {
    pub files: Vec<PathBuf>,
    /// What was skipped because it was reached twice, in words.
    pub notes: Vec<String>,
    /// Whether the walk stopped at its bound of directories before reading them all.
    pub truncated: bool,
}

/// A path as diagnostics show it (without a leading `./`).
pub fn display(p: &Path) -> String {
    let s = p.display().to_string();
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

/// The `.intent` files below `dir`, reading at most `max_dirs` directories (`usize::MAX` for
/// no bound): each real directory and file once, directories `mesh::skips_dir` names left out.
pub fn walk(dir: &Path, max_dirs: usize) -> Result<Walk, String> {
    let cannot =
        |d: &Path, e: std::io::Error| format!("cannot read directory {}: {e}", d.display());
    // Real directories and files seen, by canonical path, with the path first seen.
    let mut dirs: HashMap<PathBuf, PathBuf> = HashMap::new();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut out = Walk {
        files: Vec::new(),
        notes: Vec::new(),
        truncated: false,
    };
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let real = d.canonicalize().map_err(|e| cannot(&d, e))?;
        if let Some(first) = dirs.get(&real) {
            out.notes.push(format!(
                "skipped {}: it is {}, already read (a symbolic link loop, or two links to one directory)",
                display(&d),
                display(first)
            ));
            continue;
        }
        if dirs.len() >= max_dirs {
            out.truncated = true;
            break;
        }
        dirs.insert(real, d.clone());
        let mut entries: Vec<_> = std::fs::read_dir(&d)
            .and_then(|r| r.collect::<Result<Vec<_>, _>>())
            .map_err(|e| cannot(&d, e))?;
        entries.sort_by_key(|e| e.path());
        // Subdirectories go on the stack last first, so they are read in name order.
        let mut below = Vec::new();
        for e in entries {
            let p = e.path();
            if p.is_dir() {
                if !mesh::skips_dir(&e.file_name().to_string_lossy()) {
                    below.push(p);
                }
            } else if mesh::is_intent_file(&p.to_string_lossy()) {
                // A file that cannot be resolved (a dangling link) is kept: reading it says why.
                let real = p.canonicalize().unwrap_or_else(|_| p.clone());
                if seen.insert(real) {
                    out.files.push(p);
                } else {
                    out.notes.push(format!(
                        "skipped {}: the same file was already read under another name",
                        display(&p)
                    ));
                }
            }
        }
        stack.extend(below.into_iter().rev());
    }
    out.files.sort();
    Ok(out)
}

/// Whether a directory holds `.intent` files of its own (not counting subdirectories).
pub fn holds_intent_files(dir: &Path) -> bool {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|e| {
            let p = e.path();
            mesh::is_intent_file(&p.to_string_lossy()) && p.is_file()
        })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The bound on directories stops the walk and says so; under it nothing is left out.
    #[test]
    fn a_walk_stops_at_its_bound_and_says_so() {
        let root = std::env::temp_dir().join(format!("intent-walk-bound-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for d in ["a", "b", "c/d", ".hidden", "target"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
            std::fs::write(root.join(d).join("x.intent"), "").unwrap();
        }
        std::fs::write(root.join("top.intent"), "").unwrap();
        std::fs::write(root.join("readme.txt"), "").unwrap();
        let all = walk(&root, usize::MAX).unwrap();
        let names: Vec<String> = all
            .files
            .iter()
            .map(|p| display(p.strip_prefix(&root).unwrap()))
            .collect();
        assert_eq!(
            names,
            ["a/x.intent", "b/x.intent", "c/d/x.intent", "top.intent"]
        );
        assert!(!all.truncated);
        // The root, a and b: c and c/d are not read.
        let cut = walk(&root, 3).unwrap();
        assert!(cut.truncated);
        assert_eq!(cut.files.len(), 3);
        assert!(holds_intent_files(&root) && !holds_intent_files(&root.join("c")));
        let _ = std::fs::remove_dir_all(&root);
    }
}
