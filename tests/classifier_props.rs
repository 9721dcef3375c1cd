//! Invariants of the built-in classifier on any text: it never panics, every probability is in
//! 0..1 and they add up (with "none of these") to 1, the most probable comes first, the same
//! text always gets the same answer, and a plan's hash covers the calibration and the floor.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_compiler::{compile, Source, Stage};
use intent_runtime::Engine;
use proptest::prelude::*;
use std::sync::OnceLock;

const SUPPORT: &str = include_str!("classifier/support.intent");

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        let c = compile(&[Source::new("support.intent", SUPPORT)], Stage::Build);
        Engine::from_plan(c.plan.unwrap()).unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn probabilities_are_a_distribution(text in "\\PC{0,200}", words in prop::collection::vec(
        prop::sample::select(vec!["password", "refund", "card", "cancel", "bug", "app", "the",
            "my", "money", "passwrod", "12", "subscription", "weather", "é", "ß"]), 0..12)) {
        let c = engine().builtin_classifier();
        for t in [text.clone(), words.join(" "), format!("{text} {}", words.join(" "))] {
            let r = c.rank(&t);
            let sum: f64 = r.ranked.iter().map(|s| s.score).sum::<f64>() + r.none;
            prop_assert!((sum - 1.0).abs() < 1e-9, "{t:?}: {r:?}");
            prop_assert!(r.ranked.iter().all(|s| (0.0..=1.0).contains(&s.score)));
            prop_assert!((0.0..=1.0).contains(&r.none));
            prop_assert!(r.ranked.windows(2).all(|w| w[0].score >= w[1].score));
            prop_assert_eq!(&r, &c.rank(&t));
        }
    }
}

#[test]
fn the_plan_hash_covers_the_calibration_and_the_floor() {
    let plain = compile(&[Source::new("s.intent", SUPPORT)], Stage::Build)
        .plan
        .unwrap();
    let floored = SUPPORT.replace(
        "route report_bug {",
        "limits {\n  confidence floor 0.3\n}\n\nroute report_bug {",
    );
    let floored = compile(&[Source::new("s.intent", floored.as_str())], Stage::Build);
    let floored = floored
        .plan
        .unwrap_or_else(|| panic!("{:?}", floored.diagnostics));
    assert_eq!(floored.classifier.floor, Some(0.3));
    assert_ne!(plain.plan_hash, floored.plan_hash);
    assert_eq!(plain.classifier.weights.len(), 5);
    let mut reweighted = plain.clone();
    reweighted.classifier.weights[1] += 0.5;
    assert_ne!(
        intent_runtime::plan::plan_hash(&plain),
        intent_runtime::plan::plan_hash(&reweighted)
    );
    // The runtime checks the stated hash: a plan whose calibration was edited after it was
    // built is refused, and so is one whose reference coverage was.
    let refused = Engine::from_plan(reweighted).unwrap_err().to_string();
    assert!(refused.contains("plan_hash"), "{refused}");
    let mut recovered = plain.clone();
    recovered.classifier.coverage = Some(0.99);
    assert!(Engine::from_plan(recovered).is_err());
    // Weights that are not one finite number per feature are refused even without a hash.
    let mut bad = plain.clone();
    bad.plan_hash.clear();
    bad.classifier.weights.push(1.0);
    let why = Engine::from_plan(bad).unwrap_err().to_string();
    assert!(why.contains("weights"), "{why}");
    // Another example changes the fit, so the weights and the hash.
    let more = SUPPORT.replace(
        "\"I forgot my password\",",
        "\"I forgot my password\",\n    \"my password stopped working\",",
    );
    let more = compile(&[Source::new("s.intent", more.as_str())], Stage::Build)
        .plan
        .unwrap();
    assert_ne!(plain.classifier.weights, more.classifier.weights);
}

#[test]
fn below_the_floor_a_text_matches_no_intent() {
    let floored = SUPPORT.replace(
        "route report_bug {",
        "limits {\n  confidence floor 1\n}\n\nroute report_bug {",
    );
    let plan = compile(&[Source::new("s.intent", floored.as_str())], Stage::Build)
        .plan
        .unwrap();
    let e = Engine::from_plan(plan).unwrap();
    let req = intent_runtime::Request {
        text: Some("my card".into()),
        ..Default::default()
    };
    let d = e.decide(&req);
    assert_eq!(d.outcome, intent_runtime::Outcome::Deny, "{d:?}");
    let reason = d.reason.unwrap();
    assert!(
        reason.starts_with("the text matches no intent: the best, "),
        "{reason}"
    );
    assert!(reason.ends_with("below the floor 1"), "{reason}");
    assert_eq!(d.classifier.as_deref(), Some("builtin"));
    assert!(d.none_of_these.is_some());
}
