//! `intent replay LOG --plan NEW`: the recorded requests of a decision log decided again on a
//! new plan (a plan file, a directory or `.intent` files), each at its recorded time; reports the
//! records whose decision changes and counts per intent. Lines that are not records are reported
//! with their number and skipped, and make the exit code 2.

use super::diff::ReportFormat;
use super::plan_input::{load, short};
use super::sources::plural;
use intent_runtime::explore::{replay, ReplayReport};
use intent_runtime::Engine;
use std::path::Path;
use std::process::ExitCode;

pub fn run(
    log: &Path,
    plan: &Path,
    format: ReportFormat,
    fail_on_change: bool,
) -> Result<ExitCode, String> {
    let bytes = std::fs::read(log).map_err(|e| format!("cannot read {}: {e}", log.display()))?;
    let engine = Engine::from_plan(load(plan)?).map_err(|e| e.to_string())?;
    let r = replay(&engine, &bytes);
    match format {
        ReportFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?
        ),
        ReportFormat::Human => print!("{}", human(&r)),
    }
    for b in &r.bad_lines {
        eprintln!(
            "error: {}:{}: {} (line skipped)",
            log.display(),
            b.line,
            b.error
        );
    }
    Ok(if !r.bad_lines.is_empty() {
        if format == ReportFormat::Human {
            eprintln!("help: each line must be one decision record as `intent eval --log` writes");
        }
        ExitCode::from(2)
    } else if fail_on_change && r.changed_records > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn human(r: &ReplayReport) -> String {
    let mut out = format!(
        "replay of {} on plan {}\n",
        plural(r.records as usize, "record"),
        short(&r.plan_hash)
    );
    for c in &r.changed {
        out += &format!(
            "  line {}  decision {}  {}\n",
            c.line,
            c.decision_id,
            c.intent.as_deref().unwrap_or("-")
        );
        out += &format!("    old  {}\n", c.old);
        out += &format!("    new  {}\n", c.new);
    }
    for i in &r.intents {
        out += &format!(
            "intent {}: {}, {} changed\n",
            i.intent,
            plural(i.records as usize, "record"),
            i.changed
        );
    }
    out += &format!(
        "{} of {} changed; {}\n",
        r.changed_records,
        plural(r.records as usize, "record"),
        plural(r.bad_lines.len(), "bad line")
    );
    out
}
