//! `intent fmt`: rewrite `.intent` files in the canonical layout, or (`--check`) list the files
//! that are not in it. Files that do not parse are never rewritten: their diagnostics are
//! printed and the command exits 1.

use super::{Color, OutputArgs};
use intent_compiler::diagnostics::Diagnostic;
use intent_compiler::{compile, fmt::format_file, render, Source, Stage};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(paths: &[PathBuf], check: bool, out: OutputArgs) -> Result<ExitCode, String> {
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
                if !check {
                    std::fs::write(file, formatted)
                        .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
                }
            }
            Err(diags) => {
                failed = true;
                report(&diags, &source, out);
            }
        }
    }
    if check {
        for f in &changed {
            println!("{f}");
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
    Ok(if failed || (check && !changed.is_empty()) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `intent fmt --stdin`: formatted text on stdout; with `--check`, only the exit code.
pub fn run_stdin(check: bool, out: OutputArgs) -> Result<ExitCode, String> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    let source = Source::from_bytes("<stdin>".to_string(), bytes);
    let result = format_one(&source);
    match result {
        Ok(formatted) => {
            if !check {
                print!("{formatted}");
            }
            Ok(if check && formatted != source.text {
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
