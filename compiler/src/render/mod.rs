//! Renderers for diagnostics: `human` (ariadne, with source snippets), `json` (one object per
//! diagnostic, positions as line/column), `github` (workflow annotations) and `sarif` (SARIF
//! 2.1.0, `sarif.rs`). Rendering is a leaf: nothing else in the compiler formats diagnostics.

mod sarif;

pub use sarif::sarif;

use crate::compile::Source;
use crate::diagnostics::{Diagnostic, Severity};
use crate::lines::Lines;
use ariadne::{Config, IndexType, Label, Report, ReportKind};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;

/// 1-based line and column (in characters) of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    Lines::new(text).line_col(offset)
}

/// Positions in the sources, each file's lines indexed once, when a diagnostic first points
/// into it: rendering is then linear in the number of diagnostics (a scan of the text per
/// diagnostic made 20,000 of them take minutes).
struct Positions<'s> {
    by_path: HashMap<&'s str, &'s str>,
    lines: HashMap<&'s str, Lines>,
}

impl<'s> Positions<'s> {
    fn new(sources: &'s [Source]) -> Positions<'s> {
        Positions {
            by_path: sources
                .iter()
                .map(|s| (s.path.as_str(), s.text.as_str()))
                .collect(),
            lines: HashMap::new(),
        }
    }

    /// The text of the file at `path` (empty for an unknown file).
    fn text(&self, path: &str) -> &'s str {
        self.by_path.get(path).copied().unwrap_or("")
    }

    /// 1-based line and column of `offset` in the file at `path` (1:1 for an unknown file).
    fn line_col(&mut self, path: &'s str, offset: u32) -> (usize, usize) {
        let text = self.text(path);
        self.lines
            .entry(path)
            .or_insert_with(|| Lines::new(text))
            .line_col(offset as usize)
    }
}

/// A byte range ariadne can show: inside the text and on character boundaries.
fn clamp(text: &str, start: u32, end: u32) -> std::ops::Range<usize> {
    let len = text.len();
    let mut s = (start as usize).min(len);
    while s > 0 && !text.is_char_boundary(s) {
        s -= 1;
    }
    let mut e = (end as usize).clamp(s, len);
    while e < len && !text.is_char_boundary(e) {
        e += 1;
    }
    if e == s {
        // An empty range (end of file, a missing token) is shown on the character before it.
        if s == len && s > 0 {
            let prev = text
                .get(..s)
                .and_then(|t| t.chars().last())
                .map_or(1, char::len_utf8);
            return s - prev..s;
        }
        let next = text
            .get(s..)
            .and_then(|t| t.chars().next())
            .map_or(0, char::len_utf8);
        return s..s + next;
    }
    s..e
}

/// Renders diagnostics for a person: source snippets, labels, help. No colour when `color` is off.
pub fn human(diags: &[Diagnostic], sources: &[Source], color: bool) -> String {
    let mut out = Vec::new();
    // Only the files the diagnostics point into, loaded once for all reports.
    let wanted: std::collections::BTreeSet<&str> = diags
        .iter()
        .flat_map(|d| {
            std::iter::once(d.primary.file.as_str())
                .chain(d.secondary.iter().map(|s| s.file.as_str()))
        })
        .collect();
    let mut cache = ariadne::sources(
        sources
            .iter()
            .filter(|s| wanted.contains(s.path.as_str()))
            .map(|s| (s.path.clone(), s.text.clone())),
    );
    let mut at = Positions::new(sources);
    for d in diags {
        let kind = match d.severity {
            Severity::Error => ReportKind::Error,
            Severity::Warning => ReportKind::Warning,
        };
        let file = d.primary.file.clone();
        let text = at.text(&file);
        let range = clamp(text, d.primary.span.start, d.primary.span.end);
        let mut report = Report::build(kind, (file.clone(), range.clone()))
            .with_config(
                Config::default()
                    .with_index_type(IndexType::Byte)
                    .with_color(color),
            )
            .with_code(d.code)
            .with_message(&d.message)
            .with_label(Label::new((file.clone(), range)).with_message(&d.primary.message));
        for s in &d.secondary {
            let r = clamp(at.text(&s.file), s.span.start, s.span.end);
            report = report.with_label(Label::new((s.file.clone(), r)).with_message(&s.message));
        }
        if let Some(help) = &d.help {
            report = report.with_help(help);
        }
        if report.finish().write(&mut cache, &mut out).is_err() {
            let (l, c) = at.line_col(&d.primary.file, d.primary.span.start);
            out.extend(
                format!(
                    "{}[{}]: {}\n  --> {file}:{l}:{c}\n",
                    severity_word(d.severity),
                    d.code,
                    d.message
                )
                .into_bytes(),
            );
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: Severity,
    message: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    help: Option<&'a str>,
    related: Vec<JsonLabel<'a>>,
}

/// One JSON array of diagnostics with 1-based positions.
pub fn json(diags: &[Diagnostic], sources: &[Source]) -> String {
    let mut at = Positions::new(sources);
    let items: Vec<JsonDiagnostic> = diags
        .iter()
        .map(|d| {
            let (line, column) = at.line_col(&d.primary.file, d.primary.span.start);
            let (end_line, end_column) = at.line_col(&d.primary.file, d.primary.span.end);
            JsonDiagnostic {
                code: d.code.as_str(),
                severity: d.severity,
                message: &d.message,
                file: &d.primary.file,
                line,
                column,
                end_line,
                end_column,
                help: d.help.as_deref(),
                related: d
                    .secondary
                    .iter()
                    .map(|s| {
                        let (line, column) = at.line_col(&s.file, s.span.start);
                        let (end_line, end_column) = at.line_col(&s.file, s.span.end);
                        JsonLabel {
                            file: &s.file,
                            line,
                            column,
                            end_line,
                            end_column,
                            message: &s.message,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into())
}

/// GitHub Actions workflow commands: `::error file=..,line=..,col=..,title=CODE::message`.
pub fn github(diags: &[Diagnostic], sources: &[Source]) -> String {
    let mut out = String::new();
    let mut at = Positions::new(sources);
    for d in diags {
        let (line, col) = at.line_col(&d.primary.file, d.primary.span.start);
        let (end_line, end_col) = at.line_col(&d.primary.file, d.primary.span.end);
        let mut message = d.message.clone();
        if let Some(h) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(h);
        }
        let _ = writeln!(
            out,
            "::{} file={},line={line},col={col},endLine={end_line},endColumn={end_col},title={}::{}",
            severity_word(d.severity),
            escape_property(&d.primary.file),
            d.code,
            escape_data(&message)
        );
    }
    out
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}
