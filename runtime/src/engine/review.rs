//! `review`: an agent's response against the `review` blocks for that agent and `review any`.
//! Each block's first matching arm gives an action; the strictest action wins
//! (deny > escalate > redact > pass) and redactions add up. A fault denies.

use super::Engine;
use crate::decision::{Trace, TraceEntry, TraceKind, TraceWhat, Verdict, VerdictOutcome};
use crate::eval::Env;
use crate::plan;
use crate::request::Response;
use std::sync::Arc;

impl Engine {
    /// Reviews a response now (system clock).
    pub fn review(&self, resp: &Response) -> Verdict {
        self.review_at(resp, super::decide::now_ms())
    }

    pub fn review_at(&self, resp: &Response, now: u64) -> Verdict {
        let mut v = Verdict {
            outcome: VerdictOutcome::Pass,
            redact: Vec::new(),
            human: None,
            reason: None,
            trace: Trace::new(self.sources.clone()),
            plan_hash: self.hash.clone(),
        };
        let deny = |mut v: Verdict, why: String| {
            v.outcome = VerdictOutcome::Deny;
            v.reason = Some(why);
            v
        };
        let Some(a) = self.agents_by_name.get(&resp.agent) else {
            return deny(v, format!("unknown agent `{}`", resp.agent));
        };
        let mut data = Vec::with_capacity(resp.data.len());
        for d in &resp.data {
            match self.data_by_name.get(d) {
                Some(id) => data.push(id),
                None => return deny(v, format!("unknown data class `{d}` in the response")),
            }
        }
        data.sort_unstable();
        let env = Env {
            context: &resp.context,
            confidence: resp.confidence.unwrap_or(0.0),
            depth: 0,
            intent: u32::MAX,
            agent: self.plan.agents.get(a as usize),
            // A review reads the response, not the request's caller (the checker refuses
            // `caller` there).
            caller: None,
            data: &[],
            response: Some((resp.confidence, &data)),
        };
        let reviews = self.plan.reviews.iter().zip(self.review_arms.iter());
        let reviews = reviews
            .clone()
            .filter(|(r, _)| r.agent == Some(a))
            .chain(reviews.filter(|(r, _)| r.agent.is_none()));
        for (review, conds) in reviews {
            let who = review
                .agent
                .and_then(|x| self.agent_names.get(x as usize))
                .map_or("any".to_string(), |n| n.to_string());
            for (i, (arm, when)) in review.arms.iter().zip(conds.iter()).enumerate() {
                let matched = self.progs.holds_or(*when, true, &env);
                let what = TraceWhat::Text(format!("review {who} arm {}", i + 1));
                match matched {
                    Err(f) => {
                        v.trace.push(TraceEntry {
                            kind: TraceKind::Review,
                            what,
                            matched: false,
                            detail: Some(Arc::from(f.0.as_str())),
                            at: self.at(arm.src),
                        });
                        return deny(v, format!("evaluation error: {}", f.0));
                    }
                    Ok(false) => v.trace.push(TraceEntry {
                        kind: TraceKind::Review,
                        what,
                        matched: false,
                        detail: None,
                        at: self.at(arm.src),
                    }),
                    Ok(true) => {
                        v.trace.push(TraceEntry {
                            kind: TraceKind::Review,
                            what,
                            matched: true,
                            detail: None,
                            at: self.at(arm.src),
                        });
                        self.apply(&arm.action, &mut v, now);
                        break;
                    }
                }
            }
        }
        v
    }

    fn apply(&self, action: &plan::Action, v: &mut Verdict, now: u64) {
        let rank = |o: VerdictOutcome| match o {
            VerdictOutcome::Pass => 0,
            VerdictOutcome::Redact => 1,
            VerdictOutcome::Escalate => 2,
            VerdictOutcome::Deny => 3,
        };
        let (outcome, reason) = match action {
            plan::Action::Pass => (VerdictOutcome::Pass, None),
            plan::Action::Redact { data } => {
                for d in data {
                    if let Some(n) = self.data_names.get(*d as usize) {
                        if !v.redact.contains(n) {
                            v.redact.push(Arc::clone(n));
                        }
                    }
                }
                (VerdictOutcome::Redact, None)
            }
            plan::Action::Escalate { humans, because } => {
                // A review's escalation checks the humans' limits; it takes no use of them.
                let free = humans.iter().copied().find(|h| {
                    self.human_limits
                        .get(*h as usize)
                        .is_some_and(|t| t.rates.is_empty() || self.state.check(t, now).is_none())
                });
                match free {
                    Some(h) => {
                        if rank(VerdictOutcome::Escalate) > rank(v.outcome) {
                            v.human = self.human_names.get(h as usize).cloned();
                        }
                        (VerdictOutcome::Escalate, because.clone())
                    }
                    None => (
                        VerdictOutcome::Deny,
                        Some("every human to escalate to is at their rate limit".into()),
                    ),
                }
            }
            plan::Action::Deny { because } => (VerdictOutcome::Deny, because.clone()),
            _ => (
                VerdictOutcome::Deny,
                Some("a route action in a review".into()),
            ),
        };
        if rank(outcome) > rank(v.outcome) {
            v.outcome = outcome;
            v.reason = reason;
        }
    }
}
