//! The direct writers against serde_json on random decisions: the same text, byte for byte.

#![allow(clippy::unwrap_used)]
use super::*;
use crate::decision::{Obligation, Outcome, Sources, Trace, TraceEntry, TraceKind, TraceWhat};
use proptest::prelude::*;
use serde::ser::{SerializeMap, Serializer};
use std::sync::Arc;

/// The authorization answer as serde wrote it before it was written directly.
struct SerdeBody<'a> {
    d: &'a Decision,
    extra: Option<(&'a str, &'a serde_json::Value)>,
}

impl Serialize for SerdeBody<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.d;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("outcome", &d.outcome)?;
        m.serialize_entry("intent", &d.intent)?;
        m.serialize_entry("confidence", &d.confidence)?;
        if let Some(c) = &d.classifier {
            m.serialize_entry("classifier", c)?;
        }
        if let Some(n) = &d.none_of_these {
            m.serialize_entry("none_of_these", n)?;
        }
        m.serialize_entry("steps", &d.steps)?;
        if let Some(h) = &d.human {
            m.serialize_entry("human", h)?;
        }
        if let Some(ms) = &d.deadline_ms {
            m.serialize_entry("deadline_ms", ms)?;
        }
        if let Some(q) = &d.question {
            m.serialize_entry("question", q)?;
        }
        if let Some(r) = &d.reason {
            m.serialize_entry("reason", r)?;
        }
        if let Some(ms) = &d.retry_after_ms {
            m.serialize_entry("retry_after_ms", ms)?;
        }
        m.serialize_entry("obligations", &d.obligations)?;
        m.serialize_entry("decision_id", &d.decision_id)?;
        m.serialize_entry("plan_hash", &d.plan_hash)?;
        if let Some((k, v)) = self.extra {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Strings that need every kind of escape, or none, or are not ASCII; and names with one
/// character that needs an escape anywhere in them (the scan reads eight bytes at a time).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_.#0-9:]{0,16}",
        (
            "[a-z]{0,40}",
            "[\"\\\\\u{0}\u{1f}\u{2028}\u{2029}]",
            "[a-z]{0,40}"
        )
            .prop_map(|(a, bad, b)| format!("{a}{bad}{b}")),
        "[a-z\"\\\\\n\t\u{1}\u{7f}é\u{2028}\u{2029}\u{e000}]{0,8}",
        any::<String>(),
    ]
}

fn shared() -> impl Strategy<Value = Arc<str>> {
    text().prop_map(|s| Arc::from(s.as_str()))
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        0.0..=1.0f64,
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-0.0),
        Just(1.0),
        Just(1e21),
    ]
}

fn what() -> impl Strategy<Value = TraceWhat> {
    prop_oneof![
        (shared(), any::<usize>(), any::<bool>()).prop_map(|(route, arm, otherwise)| {
            TraceWhat::Arm {
                route,
                arm,
                otherwise,
            }
        }),
        (shared(), 0..100usize, 0..100usize).prop_map(|(route, first, last)| TraceWhat::Arms {
            route,
            first,
            last
        }),
        (shared(), shared()).prop_map(|(step, agent)| TraceWhat::Candidate { step, agent }),
        (shared(), shared(), shared()).prop_map(|(rule, agent, step)| TraceWhat::Forbid {
            rule,
            agent,
            step
        }),
        text().prop_map(TraceWhat::Text),
    ]
}

fn kind() -> impl Strategy<Value = TraceKind> {
    prop_oneof![
        Just(TraceKind::Classifier),
        Just(TraceKind::Guard),
        Just(TraceKind::Limit),
        Just(TraceKind::Arm),
        Just(TraceKind::Candidate),
        Just(TraceKind::Rule),
        Just(TraceKind::Review),
    ]
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        Just(Outcome::Dispatch),
        Just(Outcome::Plan),
        Just(Outcome::Escalate),
        Just(Outcome::Clarify),
        Just(Outcome::Deny),
        Just(Outcome::Throttle),
    ]
}

fn step() -> impl Strategy<Value = FilledStep> {
    (shared(), shared(), proptest::option::of(shared())).prop_map(|(step, agent, endpoint)| {
        FilledStep {
            step,
            agent,
            endpoint,
            handles: Arc::from(vec![]),
        }
    })
}

fn obligation() -> impl Strategy<Value = Obligation> {
    prop_oneof![
        (shared(), proptest::option::of(shared()))
            .prop_map(|(rule, because)| Obligation::Audit { rule, because }),
        proptest::collection::vec(shared(), 0..3).prop_map(|data| Obligation::Redact { data }),
    ]
}

/// A decision with any of its optional parts, and a trace whose entries name locations of a
/// table of three (some past its end).
pub(crate) fn decision() -> impl Strategy<Value = Decision> {
    let entry = (
        kind(),
        what(),
        any::<bool>(),
        proptest::option::of(shared()),
        proptest::option::of(0..4u32),
    );
    (
        (
            outcome(),
            proptest::option::of(shared()),
            proptest::option::of(number()),
            proptest::option::of(shared()),
            proptest::option::of(number()),
            proptest::collection::vec(step(), 0..3),
            proptest::option::of(shared()),
            proptest::option::of(any::<u64>()),
        ),
        (
            proptest::option::of(shared()),
            proptest::option::of(text()),
            proptest::option::of(any::<u64>()),
            proptest::collection::vec(obligation(), 0..2),
            proptest::collection::vec(entry, 0..4),
            shared(),
            any::<(u64, u64)>(),
            proptest::collection::vec(shared(), 3),
        ),
    )
        .prop_map(|(a, b)| {
            let (outcome, intent, confidence, classifier, none_of_these, steps, human, deadline) =
                a;
            let (question, reason, retry, obligations, entries, plan_hash, (at_ms, seq), srcs) = b;
            let mut trace = Trace::new(Sources::new(srcs));
            for (kind, what, matched, detail, at) in entries {
                trace.push(TraceEntry {
                    kind,
                    what,
                    matched,
                    detail,
                    at,
                });
            }
            Decision {
                outcome,
                intent,
                confidence,
                classifier,
                none_of_these,
                steps,
                human,
                deadline_ms: deadline,
                question,
                reason,
                retry_after_ms: retry,
                obligations,
                trace,
                plan_hash,
                decision_id: DecisionId { at_ms, seq },
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A decision written directly is its `Serialize`, byte for byte.
    #[test]
    fn a_decision_written_directly_is_its_json(d in decision()) {
        prop_assert_eq!(decision_text(&d, 16), serde_json::to_string(&d).unwrap());
    }

    /// An authorization answer written directly is what serde wrote, with or without an
    /// extra key.
    #[test]
    fn an_answer_written_directly_is_what_serde_wrote(
        d in decision(),
        key in text(),
        extra in any::<bool>(),
    ) {
        let value = serde_json::json!([{"step": key.clone(), "token": "a.b"}]);
        let extra = extra.then_some((key.as_str(), &value));
        let mut direct = Vec::new();
        Out { buf: &mut direct, line: false }.answer(&d, extra);
        let via = serde_json::to_string(&SerdeBody { d: &d, extra }).unwrap();
        prop_assert_eq!(into_string(direct), via);
    }

    /// A string of a log line is what the log's formatter writes.
    #[test]
    fn a_line_string_is_what_the_log_formatter_writes(s in text()) {
        let mut direct = Vec::new();
        Out { buf: &mut direct, line: true }.str(&s);
        let mut via = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut via, LineFormatter);
        s.serialize(&mut ser).unwrap();
        prop_assert_eq!(direct, via);
    }
}
