//! `intent fmt`: rewrite `.intent` files in the canonical layout, or list the files that are not
//! in it (`--check`), or show what would change as a unified diff (`--diff`). Files that do not
//! parse are never rewritten: their diagnostics are printed and the command exits 1.

use super::{Color, OutputArgs};
use intent_compiler::diagnostics::Diagnostic;
use intent_compiler::{compile, fmt::format_file, render, Source, Stage};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What `intent fmt` does with a file that is not formatted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Rewrite it.
    Write,
    /// Name it, change nothing, exit 1.
    Check,
    /// Print the change as a unified diff, change nothing, exit 1.
    Diff,
}

impl Mode {
    pub fn new(check: bool, diff: bool) -> Mode {
        match (check, diff) {
            (_, true) => Mode::Diff,
            (true, false) => Mode::Check,
            (false, false) => Mode::Write,
        }
    }
}

/// A unified diff (3 lines of context) from `before` to `after`, with `a/PATH` and `b/PATH`
/// headers as `git diff` writes them, so `patch -p1` or `git apply` can take it.
fn unified(path: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

pub fn run(paths: &[PathBuf], mode: Mode, out: OutputArgs) -> Result<ExitCode, String> {
    let files = files(paths)?;
    let mut failed = false;
    let mut changed = Vec::new();
    for file in &files {
        let shown = display(file);
        let bytes =
            std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let source = Source::from_bytes(shown.clone(), bytes);
        let result = format_one(&source);
        match result {
            Ok(formatted) if formatted == source.text => {}
            Ok(formatted) => {
                changed.push(shown.clone());
                match mode {
                    Mode::Write => std::fs::write(file, formatted)
                        .map_err(|e| format!("cannot write {}: {e}", file.display()))?,
                    Mode::Diff => print!("{}", unified(&shown, &source.text, &formatted)),
                    Mode::Check => {}
                }
            }
            Err(diags) => {
                failed = true;
                report(&diags, &source, out);
            }
        }
    }
    if mode != Mode::Write {
        if mode == Mode::Check {
            for f in &changed {
                println!("{f}");
            }
        }
        if !changed.is_empty() {
            eprintln!(
                "{} not formatted; run `intent fmt` to format {}",
                plural(changed.len()),
                if changed.len() == 1 { "it" } else { "them" }
            );
        }
    } else if !changed.is_empty() {
        eprintln!("formatted {}", plural(changed.len()));
    }
    Ok(if failed || (mode != Mode::Write && !changed.is_empty()) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `intent fmt --stdin`: formatted text on stdout; with `--check`, only the exit code; with
/// `--diff`, the diff.
pub fn run_stdin(mode: Mode, out: OutputArgs) -> Result<ExitCode, String> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    let source = Source::from_bytes("<stdin>".to_string(), bytes);
    let result = format_one(&source);
    match result {
        Ok(formatted) => {
            match mode {
                Mode::Write => print!("{formatted}"),
                Mode::Diff => print!("{}", unified(&source.path, &source.text, &formatted)),
                Mode::Check => {}
            }
            Ok(if mode != Mode::Write && formatted != source.text {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Err(diags) => {
            report(&diags, &source, out);
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The formatted text, or the diagnostics that stop it (a file that is not UTF-8 is reported
/// by the compiler, with the offset of the first bad byte, and never rewritten).
fn format_one(source: &Source) -> Result<String, Vec<Diagnostic>> {
    if source.invalid_utf8_at.is_some() {
        return Err(compile(std::slice::from_ref(source), Stage::Check)
            .diagnostics
            .into_iter()
            .filter(|d| d.primary.file == source.path)
            .collect());
    }
    format_file(&source.path, &source.text)
}

fn report(diags: &[Diagnostic], source: &Source, out: OutputArgs) {
    let sources = std::slice::from_ref(source);
    match out.format {
        super::Format::Json => println!("{}", render::json(diags, sources)),
        super::Format::Sarif => println!(
            "{}",
            render::sarif([(diags, sources)], super::version::LONG)
        ),
        super::Format::Github => print!("{}", render::github(diags, sources)),
        super::Format::Human => {
            let color = match out.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            };
            eprint!("{}", render::human(diags, sources, color));
        }
    }
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 file".into()
    } else {
        format!("{n} files")
    }
}

/// The `.intent` files the paths name (directories searched), in order, each once.
fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            out.extend(super::sources::intent_files(p)?);
        } else if p.exists() {
            if p.extension().is_some_and(|x| x == "intent") {
                out.push(p.clone());
            }
        } else {
            return Err(format!("no such file or directory: {}", p.display()));
        }
    }
    if out.is_empty() {
        return Err("no .intent files found".into());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn display(p: &Path) -> String {
    let s = p.display().to_string();
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}
