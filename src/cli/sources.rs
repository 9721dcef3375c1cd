//! Finding and reading `.intent` files, and printing diagnostics in the chosen format.
//!
//! A directory is walked once per real directory: symbolic links are followed, but a
//! directory reached again (a link back to an ancestor, or a second link to the same place)
//! and a file reached again are skipped with a note, so a link loop costs one visit and
//! never gives a mesh the same declarations twice.

use super::{Color, Format, OutputArgs};
use intent_compiler::{render, Compilation, Source};
use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// At most this many diagnostics are printed in human form; the rest are counted.
const MAX_SHOWN: usize = 200;

/// Reads the meshes named by the paths (the current directory when none is given). Each
/// directory is one mesh (all `.intent` files below it, compiled together); the files named
/// directly form one more mesh together. So `intent check examples/*` checks each example on
/// its own, and `intent check a.intent b.intent` checks the two files as one mesh. Among several
/// paths, files that are not `.intent` and directories without any are skipped.
pub fn load_meshes(paths: &[PathBuf]) -> Result<Vec<Vec<Source>>, String> {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut meshes = Vec::new();
    let mut loose = Vec::new();
    for p in paths {
        if p.is_dir() {
            let files = intent_files(p)?;
            if files.is_empty() {
                // A glob (`examples/*`) also names directories that hold no mesh, such as a Rust
                // example: skipped like a README, unless it is the only path given.
                if paths.len() == 1 {
                    return Err(format!("no .intent files found in {}", p.display()));
                }
                continue;
            }
            meshes.push(read(files)?);
        } else if p.exists() {
            // Shell globs (`examples/*`) also name READMEs and the like: only .intent files count.
            if p.extension().is_some_and(|x| x == "intent") {
                loose.push(p.clone());
            }
        } else {
            return Err(format!("no such file or directory: {}", p.display()));
        }
    }
    if !loose.is_empty() {
        meshes.push(read(loose)?);
    }
    if meshes.is_empty() {
        return Err("no .intent files given".into());
    }
    Ok(meshes)
}

/// Reads the one mesh the paths name (for commands that produce one plan).
pub fn load_one(paths: &[PathBuf]) -> Result<Vec<Source>, String> {
    let mut meshes = load_meshes(paths)?;
    if meshes.len() > 1 {
        return Err("name one mesh: a directory, or the files of one mesh".into());
    }
    meshes
        .pop()
        .ok_or_else(|| "no .intent files given".to_string())
}

fn read(mut files: Vec<PathBuf>) -> Result<Vec<Source>, String> {
    files.sort();
    files.dedup();
    files
        .into_iter()
        .map(|f| {
            let bytes =
                std::fs::read(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
            Ok(Source::from_bytes(display(&f), bytes))
        })
        .collect()
}

fn display(p: &Path) -> String {
    let s = p.display().to_string();
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

/// The `.intent` files below `dir`, sorted, each file once; hidden directories, `target` and
/// `node_modules` are skipped. What was skipped because it was reached twice is said on
/// stderr.
pub fn intent_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut notes = Vec::new();
    let files = walk(dir, &mut notes)?;
    for n in notes {
        eprintln!("note: {n}");
    }
    Ok(files)
}

/// [`intent_files`], with the notes returned instead of printed.
fn walk(dir: &Path, notes: &mut Vec<String>) -> Result<Vec<PathBuf>, String> {
    let cannot =
        |d: &Path, e: std::io::Error| format!("cannot read directory {}: {e}", d.display());
    // Real directories and files seen, by canonical path, with the path first seen.
    let mut dirs: HashMap<PathBuf, PathBuf> = HashMap::new();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let real = d.canonicalize().map_err(|e| cannot(&d, e))?;
        if let Some(first) = dirs.get(&real) {
            notes.push(format!(
                "skipped {}: it is {}, already read (a symbolic link loop, or two links to one directory)",
                display(&d),
                display(first)
            ));
            continue;
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
            let name = e.file_name();
            let hidden = name.to_string_lossy().starts_with('.');
            if p.is_dir() {
                if !hidden && name != "target" && name != "node_modules" {
                    below.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "intent") {
                // A file that cannot be resolved (a dangling link) is kept: reading it says why.
                let real = p.canonicalize().unwrap_or_else(|_| p.clone());
                if seen.insert(real) {
                    out.push(p);
                } else {
                    notes.push(format!(
                        "skipped {}: the same file was already read under another name",
                        display(&p)
                    ));
                }
            }
        }
        stack.extend(below.into_iter().rev());
    }
    out.sort();
    Ok(out)
}

/// Prints the diagnostics (to stdout for json/github/sarif, to stderr for people).
pub fn report(c: &Compilation, out: OutputArgs) {
    match out.format {
        Format::Json => println!("{}", render::json(&c.diagnostics, &c.sources)),
        Format::Sarif => println!(
            "{}",
            render::sarif([(&c.diagnostics[..], &c.sources[..])], super::version::LONG)
        ),
        Format::Github => print!("{}", render::github(&c.diagnostics, &c.sources)),
        Format::Human => {
            let color = match out.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            };
            let shown = &c.diagnostics[..c.diagnostics.len().min(MAX_SHOWN)];
            eprint!("{}", render::human(shown, &c.sources, color));
            if c.diagnostics.len() > MAX_SHOWN {
                eprintln!(
                    "... and {} more diagnostics not shown",
                    c.diagnostics.len() - MAX_SHOWN
                );
            }
        }
    }
}

/// "2 errors, 1 warning" style counts over compilations.
pub fn summary<'c>(cs: impl IntoIterator<Item = &'c Compilation>) -> String {
    let (mut errors, mut warnings) = (0, 0);
    for c in cs {
        let e = c.diagnostics.iter().filter(|d| d.is_error()).count();
        errors += e;
        warnings += c.diagnostics.len() - e;
    }
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

pub fn user_files(c: &Compilation) -> usize {
    c.sources
        .iter()
        .filter(|s| !s.path.starts_with("<std>/"))
        .count()
}
