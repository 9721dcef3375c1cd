//! Step 1 of a decision (docs/concepts.md, "One decision, step by step"): the intent a
//! request is for, by its name or from its text through a classifier, with its confidence; an
//! unknown name is denied with the nearest known names.

use super::decide::{Draft, Preclassified};
use super::Engine;
use crate::classifier::{Classification, Scored};
use crate::decision::{Outcome, TraceKind, TraceWhat};
use crate::limits::{echo, MAX_TEXT};
use crate::plan::IntentId;
use crate::request::Request;
use std::sync::Arc;

impl Engine {
    /// Step 1: the intent, from the request or from the classifier.
    pub(super) fn resolve_intent(
        &self,
        req: &Request,
        pre: Preclassified<'_>,
        dr: &mut Draft<'_>,
    ) -> Option<(IntentId, f64)> {
        if let Some(name) = &req.intent {
            let Some(i) = self.intents_by_name.get(name) else {
                dr.end(
                    Outcome::Deny,
                    Some(format!(
                        "unknown intent `{}`{}",
                        echo(name),
                        self.closest(name)
                    )),
                );
                return None;
            };
            return match req.confidence {
                Some(c) if (0.0..=1.0).contains(&c) => Some((i, c)),
                Some(c) => {
                    dr.end(
                        Outcome::Deny,
                        Some(format!("confidence {c} is outside 0..1")),
                    );
                    None
                }
                None => {
                    dr.end(
                        Outcome::Deny,
                        Some("a request that names its intent must give its confidence".into()),
                    );
                    None
                }
            };
        }
        let Some(text) = &req.text else {
            dr.end(
                Outcome::Deny,
                Some("a request needs an `intent` (with `confidence`) or a `text`".into()),
            );
            return None;
        };
        if text.len() > MAX_TEXT {
            dr.end(
                Outcome::Deny,
                Some(format!(
                    "the text is {} bytes long; the classifier reads at most {MAX_TEXT}",
                    text.len()
                )),
            );
            return None;
        }
        let own;
        let (classified, by) = match pre {
            Some((c, by)) => (c, by),
            None => {
                let c = self.classifier();
                own = match c.classify(text) {
                    Ok(r) => r,
                    Err(e) => {
                        dr.d.classifier = Some(Arc::from(c.name()));
                        dr.end(Outcome::Deny, Some(format!("the classifier failed: {e}")));
                        return None;
                    }
                };
                (&own, Arc::from(c.name()))
            }
        };
        dr.d.classifier = Some(by);
        dr.d.none_of_these = Some(classified.none);
        self.classified(classified, dr)
    }

    /// Whether a text whose best intent is `best` goes on to that intent's route: its
    /// confidence is above 0 and at least the plan's floor; otherwise it matches no intent.
    pub fn reaches_route(&self, best: Scored) -> bool {
        best.score > 0.0 && best.score >= self.plan.classifier.floor.unwrap_or(0.0)
    }

    /// Step 1 for text: the best intent, unless it is below the plan's floor.
    fn classified(&self, c: &Classification, dr: &mut Draft<'_>) -> Option<(IntentId, f64)> {
        let name = |i: IntentId| self.intent_names.get(i as usize).map_or("?", |n| n);
        let mut shown: Vec<String> = c
            .ranked
            .iter()
            .take(3)
            .map(|s| format!("{} {:.2}", name(s.intent), s.score))
            .collect();
        shown.push(format!("none of these {:.2}", c.none));
        let detail = Some(Arc::from(shown.join(", ")));
        let floor = self.plan.classifier.floor.unwrap_or(0.0);
        match c.best() {
            Some(best) if self.reaches_route(best) => {
                dr.trace(
                    TraceKind::Classifier,
                    TraceWhat::Text(format!("text classified as {}", name(best.intent))),
                    true,
                    detail,
                    None,
                );
                Some((best.intent, best.score))
            }
            best => {
                dr.trace(
                    TraceKind::Classifier,
                    TraceWhat::Text("text matches no intent".into()),
                    false,
                    detail,
                    None,
                );
                let why = match best {
                    Some(b) if b.score > 0.0 => format!(
                        "the text matches no intent: the best, {}, has confidence {:.2}, below the \
                         floor {floor}",
                        name(b.intent),
                        b.score
                    ),
                    _ => "the text matches no intent".to_string(),
                };
                dr.end(Outcome::Deny, Some(why));
                None
            }
        }
    }

    /// The known intents nearest to an unknown name, for the reason. A name longer than any
    /// answer repeats (`MAX_ECHO`) gets none: the edit distance costs its length times each
    /// intent's, and a name that long is no typo.
    fn closest(&self, name: &str) -> String {
        let mut out = String::new();
        for (i, n) in self.suggest.nearest(name).into_iter().enumerate() {
            out.push_str(if i == 0 {
                "; closest known intents: `"
            } else {
                ", `"
            });
            out.push_str(n);
            out.push('`');
        }
        out
    }
}
