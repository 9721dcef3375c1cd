//! The built-in classifier on texts a user would type: `tests/classifier/paraphrases.txt`, a
//! set written for this test (never copying a mesh's example), over the three bundled meshes
//! and the support mesh of `tests/classifier/`, with off-topic texts checked against every
//! mesh. Prints top-1 accuracy, expected calibration error (5 bins), the median confidence of
//! correct answers and the highest off-topic confidence. It fails below the goals of
//! docs/classifier.md that the classifier meets (top-1 ≥ 95%, ECE ≤ 0.10, median correct
//! confidence ≥ 0.75). One goal is not met yet (every off-topic text below 0.30 or refused;
//! docs/classifier.md, "Measured", says why): the test prints how far off it is and fails if
//! the classifier gets worse than when it was last measured (1 off-topic check at 0.30 or
//! more, the highest 0.332), so the gap can only close. Tighten the ratchet as it does.
//!
//! A second test measures the same on a held-out set, `tests/classifier/holdout.txt`, written
//! after the model's choices were made: its figures are reported, never fitted or chosen on.
//!
//! A third test checks that the runtime's calibration constants no plan carries (the
//! temperature, the in-domain ramp, the relatedness ramp and the rarity exponent) are the fit
//! on the development set `tests/classifier/development.txt` (written for that, disjoint from
//! the other two sets), so they are reproducible and not chosen on a test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_compiler::{compile, Source, Stage};
use intent_runtime::classifier::report::reliability;
use intent_runtime::Engine;
use std::path::Path;

fn engine(mesh: &str) -> Engine {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join(mesh);
    let files: Vec<std::path::PathBuf> = if path.is_dir() {
        std::fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "intent"))
            .collect()
    } else {
        vec![path]
    };
    let sources: Vec<Source> = files
        .iter()
        .map(|p| Source::new(p.display().to_string(), std::fs::read_to_string(p).unwrap()))
        .collect();
    let c = compile(&sources, Stage::Build);
    Engine::from_plan(c.plan.unwrap_or_else(|| panic!("{mesh} does not build"))).unwrap()
}

/// The engine of every mesh a set of cases names (in the set's order).
fn engines(cases: &[(String, Option<String>, String)]) -> Vec<(String, Engine)> {
    let mut meshes: Vec<&String> = cases
        .iter()
        .filter(|c| c.1.is_some())
        .map(|c| &c.0)
        .collect();
    meshes.dedup();
    meshes.into_iter().map(|m| (m.clone(), engine(m))).collect()
}

/// (mesh, expected intent or `None` for off-topic, text) of the paraphrase set.
fn cases() -> Vec<(String, Option<String>, String)> {
    read_cases(include_str!("classifier/paraphrases.txt"))
}

/// The cases of a set in the paraphrase set's format.
fn read_cases(text: &str) -> Vec<(String, Option<String>, String)> {
    let mut mesh = String::new();
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(m) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            mesh = m.to_string();
            continue;
        }
        let (intent, t) = line.split_once(": ").unwrap();
        let intent = (intent != "none").then(|| intent.to_string());
        out.push((mesh.clone(), intent, t.to_string()));
    }
    out
}

/// The intent `decide` would take for a text and its confidence; `None` when refused (no
/// intent matched, or the best is below the plan's floor).
fn classify(e: &Engine, text: &str) -> Option<(String, f64)> {
    let c = e.builtin_classifier().rank(text);
    let floor = e.plan().classifier.floor.unwrap_or(0.0);
    c.best()
        .filter(|b| b.score > 0.0 && b.score >= floor)
        .map(|b| (e.plan().intents[b.intent as usize].name.clone(), b.score))
}

/// The best intent's features `[1, share, margin, coverage, ln(1 + length)]` and the text's
/// content coverage, for the log.
fn features(e: &Engine, text: &str) -> String {
    let s = e.builtin_classifier().index().candidates(text, None);
    s.features().map_or("(no candidate)".into(), |f| {
        format!("{:.2?} content {:.2}", &f[1..], s.content)
    })
}

#[test]
fn paraphrases_meet_the_goals() {
    let cases = cases();
    let engines = engines(&cases);
    let mut pooled = Vec::new();
    for (m, e) in &engines {
        println!(
            "{m}: weights {:?}, reference coverage {:?}",
            e.plan().classifier.weights,
            e.plan().classifier.coverage
        );
        pooled.extend(intent_runtime::classifier::calibrate::leave_one_out(
            e.builtin_classifier().index(),
        ));
    }
    if let Some(path) = std::env::var_os("CLASSIFIER_DUMP") {
        // The pooled held-out features and labels, for studying the calibration offline.
        let rows: Vec<String> = pooled
            .iter()
            .filter_map(|h| {
                let f = h.scores.features()?;
                Some(format!("{} {:?}", u8::from(h.correct()), f))
            })
            .collect();
        std::fs::write(path, rows.join("\n")).unwrap();
    }
    for precision in [0.01, 0.1, 1.0] {
        println!(
            "pooled fit (precision {precision}): {:?}",
            intent_runtime::classifier::calibrate::fit_with(&pooled, &[0.0; 5], precision)
        );
    }
    // No paraphrase copies an example (case and punctuation aside).
    for (_, e) in &engines {
        for it in &e.plan().intents {
            for ex in &it.examples {
                assert!(
                    !cases.iter().any(|c| norm(&c.2) == norm(ex)),
                    "the paraphrase set copies the example {ex:?}"
                );
            }
        }
    }
    let m = measure(&cases, &engines);
    assert!(m.in_domain >= 60 && engines.len() >= 4 && m.off_topic >= 10 * engines.len());
    assert!(
        m.top1 >= 0.95,
        "top-1 accuracy {:.3} < 0.95:\n{}",
        m.top1,
        m.wrong.join("\n")
    );
    assert!(
        m.ece <= 0.10,
        "expected calibration error {:.3} > 0.10",
        m.ece
    );
    assert!(
        m.median >= 0.75,
        "median correct confidence {:.3} < 0.75",
        m.median
    );
    // The goal not met yet, as a ratchet (see the module's comment).
    const OFF_TOPIC_MAX_RATCHET: f64 = 0.34;
    const OFF_TOPIC_BAD_RATCHET: usize = 1;
    if !m.off_topic_bad.is_empty() {
        println!(
            "GOAL NOT MET: {} off-topic checks at 0.30 or more",
            m.off_topic_bad.len()
        );
    }
    assert!(
        m.off_topic_max <= OFF_TOPIC_MAX_RATCHET && m.off_topic_bad.len() <= OFF_TOPIC_BAD_RATCHET,
        "off-topic texts got worse: highest {:.3} (ratchet {OFF_TOPIC_MAX_RATCHET}), {} at 0.30 or more (ratchet {OFF_TOPIC_BAD_RATCHET}):\n{}",
        m.off_topic_max,
        m.off_topic_bad.len(),
        m.off_topic_bad.join("\n")
    );
}

/// The held-out set `tests/classifier/holdout.txt`, written after the constants were chosen
/// and never used to choose anything: its figures are reported (docs/classifier.md,
/// "Measured"), and it fails only if it stops being disjoint from the examples, the
/// paraphrase set and the development set, or if its top-1 accuracy falls below 90%.
#[test]
fn the_held_out_set_is_measured() {
    let cases = read_cases(include_str!("classifier/holdout.txt"));
    let others: Vec<String> = read_cases(include_str!("classifier/development.txt"))
        .into_iter()
        .chain(self::cases())
        .map(|c| norm(&c.2))
        .collect();
    let engines = engines(&cases);
    for (_, _, text) in &cases {
        assert!(!others.contains(&norm(text)), "{text:?} is in another set");
        for (_, e) in &engines {
            for it in &e.plan().intents {
                assert!(
                    !it.examples.iter().any(|ex| norm(ex) == norm(text)),
                    "{text:?} copies an example"
                );
            }
        }
    }
    let m = measure(&cases, &engines);
    assert!(m.in_domain >= 30 && m.off_topic >= 60);
    assert!(m.top1 >= 0.90, "held-out top-1 accuracy {:.3}", m.top1);
}

/// A text with case and punctuation aside, to compare sets.
fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ')
        .collect::<String>()
        .to_lowercase()
}

/// The figures of a set of cases.
struct Measured {
    in_domain: usize,
    off_topic: usize,
    top1: f64,
    ece: f64,
    median: f64,
    wrong: Vec<String>,
    off_topic_bad: Vec<String>,
    off_topic_max: f64,
}

/// Classifies every case (an off-topic text against every mesh) and prints each answer and
/// the figures.
fn measure(cases: &[(String, Option<String>, String)], engines: &[(String, Engine)]) -> Measured {
    let mut scored: Vec<(f64, bool)> = Vec::new();
    let mut correct_conf: Vec<f64> = Vec::new();
    let mut wrong: Vec<String> = Vec::new();
    let mut off_topic_max = (0.0f64, String::new());
    let mut off_topic_bad: Vec<String> = Vec::new();
    let mut off_topic = 0;
    for (mesh, want, text) in cases {
        match want {
            Some(want) => {
                let e = &engines.iter().find(|(m, _)| m == mesh).unwrap().1;
                let got = classify(e, text);
                let ok = got.as_ref().is_some_and(|(i, _)| i == want);
                let conf = got.as_ref().map_or(0.0, |g| g.1);
                scored.push((conf, ok));
                if ok {
                    correct_conf.push(conf);
                } else {
                    wrong.push(format!("{mesh}: {text:?} -> {got:?}, want {want}"));
                }
                println!(
                    "{conf:.3} {} {mesh}: {text} {}",
                    if ok { "ok   " } else { "WRONG" },
                    features(e, text)
                );
            }
            None => {
                for (m, e) in engines {
                    off_topic += 1;
                    let got = classify(e, text);
                    let conf = got.as_ref().map_or(0.0, |g| g.1);
                    println!(
                        "{conf:.3} off   {m}: {text} -> {got:?} {}",
                        features(e, text)
                    );
                    if conf > off_topic_max.0 {
                        off_topic_max = (conf, format!("{text:?} in {m}"));
                    }
                    if conf >= 0.30 {
                        off_topic_bad.push(format!("{m}: {text:?} -> {got:?}"));
                    }
                }
            }
        }
    }
    let in_domain = scored.len();
    let n_ok = scored.iter().filter(|s| s.1).count();
    let top1 = n_ok as f64 / in_domain.max(1) as f64;
    let (_, ece) = reliability(&scored);
    correct_conf.sort_by(f64::total_cmp);
    let median = correct_conf
        .get(correct_conf.len() / 2)
        .copied()
        .unwrap_or(0.0);
    println!(
        "\n{in_domain} in-domain texts over {} meshes, {off_topic} off-topic checks\n\
         top-1 accuracy {:.1}% ({n_ok}/{in_domain})\n\
         expected calibration error (5 bins) {ece:.3}\n\
         median confidence of correct answers {median:.3}\n\
         highest off-topic confidence {:.3} ({})\n\
         off-topic checks at 0.30 or more: {}",
        engines.len(),
        100.0 * top1,
        off_topic_max.0,
        off_topic_max.1,
        off_topic_bad.len()
    );
    for w in &wrong {
        println!("wrong: {w}");
    }
    for b in &off_topic_bad {
        println!("off-topic at 0.30 or more: {b}");
    }
    Measured {
        in_domain,
        off_topic,
        top1,
        ece,
        median,
        wrong,
        off_topic_bad,
        off_topic_max: off_topic_max.0,
    }
}

/// The runtime's calibration constants that no plan carries (`calibrate::TEMPERATURE`, the
/// in-domain ramp `DOMAIN_START`..`DOMAIN_FULL`, the relatedness ramp `RELATE_LOW`..
/// `RELATE_HIGH` and `RARITY_EXPONENT`) are the maximum-likelihood fit on the development set
/// (`tests/classifier/development.txt`, never the paraphrase set), on a grid: in-domain texts
/// labelled by whether their best intent is right, off-topic ones (against every mesh) wrong.
#[test]
fn the_calibration_constants_are_the_development_sets_fit() {
    use intent_runtime::classifier::calibrate::{
        Calibration, DOMAIN_FULL, DOMAIN_START, RARITY_EXPONENT, RELATE_HIGH, RELATE_LOW,
        TEMPERATURE,
    };
    use intent_runtime::classifier::index::{Index, Relate, Scores};
    let dev = read_cases(include_str!("classifier/development.txt"));
    let test = cases();
    let engines = engines(&dev);
    // Disjoint from the test and from every example.
    for (_, want, text) in &dev {
        assert!(
            !test.iter().any(|t| norm(&t.2) == norm(text)),
            "the development set copies the paraphrase {text:?}"
        );
        for (_, e) in &engines {
            for it in &e.plan().intents {
                assert!(
                    !it.examples.iter().any(|ex| norm(ex) == norm(text)),
                    "the development set copies the example {text:?} ({want:?})"
                );
            }
        }
    }
    // Per (relate.low, relate.high) and rarity exponent: the scores of every text, against an
    // index of its mesh's evidence that weighs words with those numbers.
    let score_all = |relate: Relate, rarity: f64| {
        let mut pairs = Vec::new();
        for (m, e) in &engines {
            let mut index = Index::new(
                e.plan()
                    .intents
                    .iter()
                    .map(|i| (i.description.as_deref(), i.examples.as_slice())),
            );
            index.relate = relate;
            index.rarity = rarity;
            for (mesh, want, text) in &dev {
                if want.is_some() && m != mesh {
                    continue;
                }
                let s = index.candidates(text, None);
                let Some(best) = s.candidates.first() else {
                    continue;
                };
                let right = want
                    .as_ref()
                    .is_some_and(|w| e.plan().intents[best.intent as usize].name == *w);
                pairs.push((e, s, right, want.is_none()));
            }
        }
        pairs
    };
    // Each text weighs one: an off-topic text is checked against every mesh, each check
    // weighing a share.
    let off_weight = 1.0 / engines.len() as f64;
    let nll = |pairs: &[(&Engine, Scores, bool, bool)],
               temperature: f64,
               domain_start: f64,
               domain_full: f64|
     -> f64 {
        pairs
            .iter()
            .map(|(e, s, right, off)| {
                let c = Calibration {
                    temperature,
                    domain_start,
                    domain_full,
                    ..*e.builtin_classifier().calibration()
                };
                let p = c.confidence(s).clamp(1e-6, 1.0 - 1e-6);
                let weight = if *off { off_weight } else { 1.0 };
                -weight * if *right { p.ln() } else { (1.0 - p).ln() }
            })
            .sum()
    };
    // The ramps are at least this wide (in steps of 0.05), so that no single threshold
    // decides: a development set of this size fits a step wherever it likes.
    const RELATE_WIDTH: i32 = 6;
    const DOMAIN_WIDTH: i32 = 4;
    // The best (nll, temperature, ramp start, full-domain coverage) on the grid of the
    // temperature and the in-domain ramp, for one scoring of the texts.
    let ramp_fit = |pairs: &[(&Engine, Scores, bool, bool)]| {
        let mut best = (f64::INFINITY, 0.0, 0.0, 0.0);
        for t in 4..=16 {
            for start in 0..=8 {
                for f in (start + DOMAIN_WIDTH).max(2)..=20 {
                    let (t, st, f) = (
                        f64::from(t) * 0.25,
                        f64::from(start) * 0.05,
                        f64::from(f) * 0.05,
                    );
                    let l = nll(pairs, t, st, f);
                    if l < best.0 - 1e-9 {
                        best = (l, t, st, f);
                    }
                }
            }
        }
        best
    };
    // (nll, temperature, domain_full, low, high, domain_start)
    let mut best = (f64::INFINITY, 0.0, 0.0, 0.0, 0.0, 0.0);
    let mut at_constants = f64::NAN;
    let mut n_pairs = 0;
    for low in 0..=8 {
        for high in (low + RELATE_WIDTH)..=24 {
            let relate = Relate {
                low: f64::from(low) * 0.05,
                high: f64::from(high) * 0.05,
            };
            let pairs = score_all(relate, RARITY_EXPONENT);
            n_pairs = pairs.len();
            if (relate.low - RELATE_LOW).abs() < 1e-9 && (relate.high - RELATE_HIGH).abs() < 1e-9 {
                at_constants = nll(&pairs, TEMPERATURE, DOMAIN_START, DOMAIN_FULL);
            }
            let (l, t, st, f) = ramp_fit(&pairs);
            if l < best.0 - 1e-9 {
                best = (l, t, f, relate.low, relate.high, st);
            }
        }
    }
    println!(
        "development set: {n_pairs} pairs; best temperature {}, full-domain coverage {}, \
         relatedness from {} to {}, ramp start {} (negative log-likelihood {:.3}; the constants give {:.3})",
        best.1, best.2, best.3, best.4, best.5, best.0, at_constants
    );
    assert!(
        (best.1 - TEMPERATURE).abs() < 1e-9
            && (best.2 - DOMAIN_FULL).abs() < 1e-9
            && (best.3 - RELATE_LOW).abs() < 1e-9
            && (best.4 - RELATE_HIGH).abs() < 1e-9
            && (best.5 - DOMAIN_START).abs() < 1e-9,
        "the development set's fit is temperature {}, full-domain coverage {}, relatedness \
         from {} to {}, ramp start {}",
        best.1,
        best.2,
        best.3,
        best.4,
        best.5
    );
    // The rarity exponent, on a grid of eighths from 0 (every content word alike) to 0.75,
    // with the relatedness of the constants and the temperature and the ramp fitted again at
    // each: the constant is the best.
    let relate = Relate {
        low: RELATE_LOW,
        high: RELATE_HIGH,
    };
    let mut by_rarity = Vec::new();
    for eighths in 0..=6 {
        let rarity = f64::from(eighths) / 8.0;
        let pairs = score_all(relate, rarity);
        by_rarity.push((rarity, ramp_fit(&pairs).0));
    }
    println!("development set, negative log-likelihood by rarity exponent: {by_rarity:.3?}");
    let best_rarity = by_rarity
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|r| r.0);
    assert_eq!(
        best_rarity,
        Some(RARITY_EXPONENT),
        "the development set's best rarity exponent: {by_rarity:?}"
    );
}
