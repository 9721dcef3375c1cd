//! Finding and reading `.intent` files, and printing diagnostics in the chosen format.
//!
//! What a mesh is comes from `intent_compiler::mesh`; the directory walk (each real directory
//! and file once, symbolic links followed, a loop skipped with a note) is `intent_lsp::files`,
//! shared with the language server.

use super::{Color, Format, OutputArgs};
use intent_compiler::{render, Compilation, Source};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// At most this many diagnostics are printed in human form; the rest are counted.
const MAX_SHOWN: usize = 200;

/// Reads the meshes named by the paths (the current directory when none is given). Each
/// directory is one mesh (all `.intent` files below it, compiled together: `intent_compiler::mesh`); the files named
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
            if intent_compiler::mesh::is_intent_file(&p.to_string_lossy()) {
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
            Ok(Source::from_bytes(intent_lsp::files::display(&f), bytes))
        })
        .collect()
}

/// The `.intent` files below `dir`, sorted, each file once; the directories
/// `intent_compiler::mesh::skips_dir` names are left out (the walk is the language server's,
/// `intent_lsp::files`, so the editor reads a mesh as this does). What was skipped because it
/// was reached twice is said on stderr.
pub fn intent_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let walk = intent_lsp::files::walk(dir, usize::MAX)?;
    for n in walk.notes {
        eprintln!("note: {n}");
    }
    Ok(walk.files)
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
