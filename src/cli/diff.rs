//! `intent diff OLD NEW`: per intent, the regions of the request space whose decision changes
//! between two plans (each a plan file, a directory or `.intent` files), with an example request
//! and both decisions; printed for a person or as JSON. `--fail-on-change` makes any change
//! exit 1, for CI gates.

use super::plan_input::{load, short};
use super::sources::plural;
use clap::ValueEnum;
use intent_runtime::explore::{diff, DiffOptions, PlanDiff};
use std::path::Path;
use std::process::ExitCode;

/// How `diff` and `replay` print their report.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Human,
    Json,
}

pub fn run(
    old: &Path,
    new: &Path,
    format: ReportFormat,
    fail_on_change: bool,
    max_cells: u64,
) -> Result<ExitCode, String> {
    let (a, b) = (load(old)?, load(new)?);
    let d = diff(&a, &b, DiffOptions { max_cells }).map_err(|e| e.to_string())?;
    match format {
        ReportFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&d).map_err(|e| e.to_string())?
        ),
        ReportFormat::Human => print!("{}", human(&d)),
    }
    Ok(if fail_on_change && d.changed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn human(d: &PlanDiff) -> String {
    let mut out = format!(
        "diff of plan {} -> {}\n",
        short(&d.old_hash),
        short(&d.new_hash)
    );
    for name in &d.removed {
        out += &format!("intent {name}: removed\n");
    }
    for name in &d.added {
        out += &format!("intent {name}: added\n");
    }
    for i in &d.intents {
        if i.sampled {
            out += &format!(
                "intent {}: sampled {} of {} cells; changes outside the sample are not seen\n",
                i.intent, i.explored, i.cells
            );
        }
        if i.regions.is_empty() {
            continue;
        }
        out += &format!(
            "intent {}: {} changed ({} explored)\n",
            i.intent,
            plural(i.regions.len(), "region"),
            plural(i.explored as usize, "cell")
        );
        for r in &i.regions {
            out += &format!("  {}\n", r.condition);
            out += &format!("    example  {}\n", r.example);
            out += &format!("    old      {}\n", r.old);
            out += &format!("    new      {}\n", r.new);
        }
    }
    for n in &d.notes {
        out += &format!("note: {n}\n");
    }
    let changed = d.intents.iter().filter(|i| !i.regions.is_empty()).count();
    let same = d.intents.iter().filter(|i| i.same_definition).count();
    let same = if same > 0 {
        format!(" ({same} with the same definition, not decided)")
    } else {
        String::new()
    };
    let regions: usize = d.intents.iter().map(|i| i.regions.len()).sum();
    if d.changed() {
        out += &format!(
            "{} in {changed} of {}{same}; {} added, {} removed\n",
            plural(regions, "changed region"),
            plural(d.intents.len(), "intent"),
            d.added.len(),
            d.removed.len()
        );
    } else {
        out += &format!("no change in {}{same}\n", plural(d.intents.len(), "intent"));
    }
    out
}
