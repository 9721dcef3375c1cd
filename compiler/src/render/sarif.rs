//! The SARIF 2.1.0 renderer: one log with one run of the `intent` tool, a reporting descriptor
//! (rule) per diagnostic code that occurs, with its title and explanation, and one result per
//! diagnostic with its primary place and related places. Columns count characters
//! (`unicodeCodePoints`), as every other renderer does. The types are serde-sarif's, generated
//! from the SARIF schema; `tests/sarif.rs` validates the output against that schema.

use super::Positions;
use crate::compile::Source;
use crate::diagnostics::{Diagnostic, Label, Severity};
use serde_sarif::sarif;
use std::collections::BTreeMap;

/// One SARIF log over the diagnostics of several meshes (each with its sources); `version` is
/// the tool's version.
pub fn sarif<'a>(
    meshes: impl IntoIterator<Item = (&'a [Diagnostic], &'a [Source])>,
    version: &str,
) -> String {
    // Rules in code order, so the output is stable; results point at them by index.
    let meshes: Vec<_> = meshes.into_iter().collect();
    let mut codes: BTreeMap<&str, i64> = BTreeMap::new();
    for (diags, _) in &meshes {
        for d in diags.iter() {
            codes.insert(d.code.as_str(), 0);
        }
    }
    for (i, index) in codes.values_mut().enumerate() {
        *index = i64::try_from(i).unwrap_or(i64::MAX);
    }
    let rules: Vec<sarif::ReportingDescriptor> = codes
        .keys()
        .map(|code| {
            let info = crate::codes::Code::parse(code).and_then(|c| c.info());
            let builder = sarif::ReportingDescriptor::builder().id(code.to_string());
            match info {
                Some(info) => builder
                    .short_description(&info.title.to_string())
                    .full_description(&info.explanation.to_string())
                    .build(),
                None => builder.build(),
            }
        })
        .collect();
    let mut results = Vec::new();
    for (diags, sources) in &meshes {
        let mut at = Positions::new(sources);
        for d in diags.iter() {
            let mut text = d.message.clone();
            if let Some(h) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(h);
            }
            let related: Vec<sarif::Location> = d
                .secondary
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let mut loc = location(&mut at, l);
                    loc.id = Some(i64::try_from(i).unwrap_or(i64::MAX));
                    if !l.message.is_empty() {
                        loc.message = Some(sarif::Message::from(l.message.as_str()));
                    }
                    loc
                })
                .collect();
            let level = match d.severity {
                Severity::Error => sarif::ResultLevel::Error,
                Severity::Warning => sarif::ResultLevel::Warning,
            };
            let mut result = sarif::Result::builder()
                .rule_id(d.code.as_str().to_string())
                .rule_index(codes.get(d.code.as_str()).copied().unwrap_or(0))
                .level(level)
                .message(text.as_str())
                .locations(vec![location(&mut at, &d.primary)])
                .build();
            if !related.is_empty() {
                result.related_locations = Some(related);
            }
            results.push(result);
        }
    }
    let driver = sarif::ToolComponent::builder()
        .name("intent")
        .version(version.to_string())
        .rules(rules)
        .build();
    let run = sarif::Run::builder()
        .tool(driver)
        .results(results)
        .column_kind(sarif::ResultColumnKind::UnicodeCodePoints.to_string())
        .build();
    let log = sarif::Sarif::builder()
        .schema(SCHEMA.to_string())
        .version(sarif::Version::V2_1_0.to_string())
        .runs(vec![run])
        .build();
    serde_json::to_string_pretty(&log).unwrap_or_else(|_| "{}".into())
}

/// The schema the log names in `$schema`: the OASIS 2.1.0 schema.
pub const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

fn location<'s>(at: &mut Positions<'s>, l: &'s Label) -> sarif::Location {
    let (line, col) = at.line_col(&l.file, l.span.start);
    let (end_line, end_col) = at.line_col(&l.file, l.span.end);
    let n = |x: usize| i64::try_from(x).unwrap_or(i64::MAX);
    let region = sarif::Region::builder()
        .start_line(n(line))
        .start_column(n(col))
        .end_line(n(end_line))
        .end_column(n(end_col))
        .build();
    sarif::Location::builder()
        .physical_location(
            sarif::PhysicalLocation::builder()
                .artifact_location(sarif::ArtifactLocation::builder().uri(uri(&l.file)).build())
                .region(region)
                .build(),
        )
        .build()
}

/// A file path as a relative URI reference: characters a URI may not hold are percent-encoded
/// (`<std>/time.intent` becomes `%3Cstd%3E/time.intent`).
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b);
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
