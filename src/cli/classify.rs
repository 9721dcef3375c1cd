//! `intent classify`: what the built-in classifier makes of texts (every intent's probability
//! and "none of these"), and with `--report` how well it does on the mesh's own examples:
//! leave-one-out accuracy per intent, confused pairs, a reliability table and where each
//! route's arms would send the mesh's example texts (docs/classifier.md).

use super::plan_input;
use intent_runtime::classifier::report::{self, Report, BINS};
use intent_runtime::plan::{Action, Plan};
use intent_runtime::Engine;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(paths: &[PathBuf], texts: &[String], report: bool) -> Result<ExitCode, String> {
    let path =
        match paths {
            [] => PathBuf::from("."),
            [one] => one.clone(),
            _ => return Err(
                "intent classify takes one mesh: a directory, an .intent file or a plan (.json)"
                    .into(),
            ),
        };
    let plan = plan_input::load(&path)?;
    let engine = Engine::from_plan(plan).map_err(|e| e.to_string())?;
    if texts.is_empty() && !report {
        return Err("give --text TEXT (any number of times), --report, or both".into());
    }
    let mut out = String::new();
    for t in texts {
        scores(&engine, t, &mut out);
    }
    if report {
        let r = report::report(engine.plan(), engine.builtin_classifier());
        print_report(&engine, &r, &mut out);
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn name(plan: &Plan, i: u32) -> &str {
    plan.intents
        .get(i as usize)
        .map_or("?", |it| it.name.as_str())
}

/// Every intent's probability for one text, best first; then "none of these".
fn scores(engine: &Engine, text: &str, out: &mut String) {
    let plan = engine.plan();
    let c = engine.builtin_classifier().rank(text);
    let width = plan
        .intents
        .iter()
        .map(|i| i.name.len())
        .max()
        .unwrap_or(0)
        .max(13);
    let _ = writeln!(out, "{text:?}");
    for s in &c.ranked {
        let _ = writeln!(out, "  {:<width$}  {:.3}", name(plan, s.intent), s.score);
    }
    for (i, it) in plan.intents.iter().enumerate() {
        if !c.ranked.iter().any(|s| s.intent as usize == i) {
            let _ = writeln!(out, "  {:<width$}  0.000", it.name);
        }
    }
    let _ = writeln!(out, "  {:<width$}  {:.3}", "none of these", c.none);
    if let Some(f) = plan.classifier.floor {
        let refused = c.best().is_none_or(|b| b.score < f);
        let _ = writeln!(
            out,
            "  (floor {f}: {})",
            if refused {
                "refused as matching no intent"
            } else {
                "above the floor"
            }
        );
    }
}

fn pct(n: usize, of: usize) -> String {
    if of == 0 {
        "-".into()
    } else {
        format!("{:.0}%", 100.0 * n as f64 / of as f64)
    }
}

fn print_report(engine: &Engine, r: &Report, out: &mut String) {
    let plan = engine.plan();
    let calibration = engine.builtin_classifier().calibration();
    let weights: Vec<String> = calibration
        .weights
        .iter()
        .map(|w| format!("{w:.3}"))
        .collect();
    let _ = writeln!(
        out,
        "leave-one-out over {} examples of {} intents; calibration weights [{}], reference \
         coverage {:.3}{}",
        r.outcomes.len(),
        plan.intents.len(),
        weights.join(", "),
        calibration.reference,
        plan.classifier
            .floor
            .map_or(String::new(), |f| format!("; confidence floor {f}"))
    );
    let width = plan
        .intents
        .iter()
        .map(|i| i.name.len())
        .max()
        .unwrap_or(0)
        .max(7);
    let _ = writeln!(out, "\naccuracy per intent");
    let _ = writeln!(out, "  {:<width$}  examples  correct  accuracy", "intent");
    let (mut all, mut ok) = (0, 0);
    for (i, (n, c)) in r.per_intent.iter().enumerate() {
        all += n;
        ok += c;
        let shown = if *n == 0 {
            "no examples".to_string()
        } else {
            pct(*c, *n)
        };
        let _ = writeln!(
            out,
            "  {:<width$}  {n:>8}  {c:>7}  {shown:>8}",
            name(plan, i as u32)
        );
    }
    let _ = writeln!(
        out,
        "  {:<width$}  {all:>8}  {ok:>7}  {:>8}",
        "overall",
        pct(ok, all)
    );
    let _ = writeln!(
        out,
        "\nconfused pairs (an example of the first taken for the second)"
    );
    if r.confusions.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for (a, b, n) in &r.confusions {
        let _ = writeln!(out, "  {} -> {}: {n}", name(plan, *a), name(plan, *b));
    }
    let refused = r.outcomes.iter().filter(|o| o.predicted.is_none()).count();
    if refused > 0 {
        let _ = writeln!(out, "  matched no intent: {refused}");
    }
    let _ = writeln!(out, "\nreliability ({BINS} bins)");
    let _ = writeln!(out, "  confidence  texts  mean confidence  accuracy");
    for (b, bin) in r.bins.iter().enumerate() {
        let lo = b as f64 / BINS as f64;
        let hi = (b + 1) as f64 / BINS as f64;
        let (m, a) = if bin.count == 0 {
            ("-".to_string(), "-".to_string())
        } else {
            (
                format!("{:.2}", bin.mean_confidence),
                format!("{:.2}", bin.accuracy),
            )
        };
        let _ = writeln!(
            out,
            "  {lo:.1}-{hi:.1}     {:>5}  {m:>15}  {a:>8}",
            bin.count
        );
    }
    let _ = writeln!(out, "  expected calibration error: {:.3}", r.ece);
    let _ = writeln!(
        out,
        "\nroutes: the arm each example text classified as the intent would take"
    );
    for (i, shares) in &r.routes {
        let total: usize = shares.iter().map(|s| s.texts).sum();
        let _ = writeln!(out, "  {} ({total} texts)", name(plan, *i));
        let Some(it) = plan.intents.get(*i as usize) else {
            continue;
        };
        for (a, arm) in it.route.arms.iter().enumerate() {
            let n = shares
                .iter()
                .find(|s| s.arm == Some(a + 1))
                .map_or(0, |s| s.texts);
            let at = plan
                .source(arm.src)
                .map_or(String::new(), |s| format!(" ({s})"));
            let _ = writeln!(
                out,
                "    arm {} {:<9}{:>5}{at}",
                a + 1,
                action(&arm.action),
                pct(n, total)
            );
        }
        if let Some(s) = shares.iter().find(|s| s.arm.is_none()) {
            let _ = writeln!(
                out,
                "    depends on more than the confidence: {}",
                pct(s.texts, total)
            );
        }
    }
}

fn action(a: &Action) -> &'static str {
    match a {
        Action::Dispatch { .. } => "dispatch",
        Action::Plan { .. } => "plan",
        Action::Escalate { .. } => "escalate",
        Action::Clarify { .. } => "clarify",
        Action::Deny { .. } => "deny",
        Action::Pass => "pass",
        Action::Redact { .. } => "redact",
    }
}
