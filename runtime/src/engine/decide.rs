//! `decide`: one request to one decision, in the order docs/concepts.md ("One decision, step by step") gives — intent, lineage
//! guards, context check, first matching arm, filling steps, escalation rules, obligations.
//! Total and fail-closed: every early return is a `deny` (or `throttle`) that says why. The
//! intent is found in `intent.rs`, the context checked in `context.rs`, steps filled in
//! `fill.rs`.

use super::arms::{first_match, Pick};
use super::context::check_context;
use super::fill::{Fill, Filled};
use super::{Engine, StepInfo};
use crate::classifier::Classification;
use crate::decision::{
    Decision, DecisionId, FilledStep, Obligation, Outcome, Trace, TraceEntry, TraceKind, TraceWhat,
};
use crate::eval::Env;
use crate::limits::echo;
use crate::plan::{self, IntentId, SrcId};
use crate::request::Request;
use crate::state::{Block, Blocked, Check, Refused, State, Take};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A text already classified by another classifier, and the name decisions record for it.
pub type Preclassified<'c> = Option<(&'c Classification, Arc<str>)>;

/// How many times one decision is worked out again after the state store refused what it
/// claimed (each refusal names at least one subject the next attempt will not choose).
pub const MAX_ATTEMPTS: usize = 8;

/// A decision worked out but not yet committed: what it claims from the state store.
#[derive(Debug)]
pub struct Attempt {
    pub decision: Decision,
    /// The agents filling its steps or the human it escalates to, with their limits; empty
    /// when it uses nothing limited.
    pub claim: Vec<Take>,
}

/// What a decision knows of the state: the store's read, and what the store refused to
/// earlier attempts of the same decision.
#[derive(Clone, Copy)]
pub(crate) struct View<'v> {
    check: &'v dyn Check,
    learned: &'v [Block],
}

impl View<'_> {
    /// Why `take` cannot be used now, if it cannot.
    pub fn blocked(&self, take: &Take, now: u64) -> Option<Blocked> {
        if take.rates.is_empty() && take.breaker.is_none() {
            return None;
        }
        self.learned
            .iter()
            .find(|b| b.subject == take.subject)
            .map(|b| b.why)
            .or_else(|| self.check.check(take, now))
    }
}

/// A decision being built, what it claims, and what it knows of the state.
pub(crate) struct Draft<'v> {
    pub d: Decision,
    pub claim: Vec<Take>,
    /// The intent's own limits (`rate intent ...`): claimed only when the decision serves it.
    pub intent_claim: Vec<Take>,
    pub view: View<'v>,
}

impl<'v> Draft<'v> {
    /// An empty draft: a `deny` with nothing said yet (also the scratch draft of checks made
    /// outside `decide`, whose result is thrown away).
    pub fn scratch(engine: &Engine, check: &'v dyn Check) -> Draft<'v> {
        Draft {
            claim: Vec::new(),
            intent_claim: Vec::new(),
            view: View {
                check,
                learned: &[],
            },
            d: Decision {
                outcome: Outcome::Deny,
                intent: None,
                confidence: None,
                classifier: None,
                none_of_these: None,
                steps: Vec::new(),
                human: None,
                deadline_ms: None,
                question: None,
                reason: None,
                retry_after_ms: None,
                obligations: Vec::new(),
                trace: Trace::new(engine.sources.clone()),
                plan_hash: engine.hash.clone(),
                decision_id: DecisionId { at_ms: 0, seq: 0 },
            },
        }
    }

    pub fn trace(
        &mut self,
        kind: TraceKind,
        what: TraceWhat,
        matched: bool,
        detail: Option<Arc<str>>,
        at: Option<SrcId>,
    ) {
        self.d.trace.push(TraceEntry {
            kind,
            what,
            matched,
            detail,
            at,
        });
    }

    pub(super) fn end(&mut self, outcome: Outcome, reason: Option<String>) {
        self.d.outcome = outcome;
        self.d.reason = reason;
    }
}

/// Milliseconds since the Unix epoch, from the system clock.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A check that finds nothing blocked (for drafts that decide nothing).
struct NothingBlocked;

impl Check for NothingBlocked {
    fn check(&self, _: &Take, _: u64) -> Option<Blocked> {
        None
    }
}

static NOTHING_BLOCKED: NothingBlocked = NothingBlocked;

/// How long a client is asked to wait when the state store cannot be asked.
pub const UNAVAILABLE_RETRY_MS: u64 = 1_000;

/// `decision` failed closed because the state store could not take its claim: a throttle
/// naming the cause, with nothing chosen.
pub fn unavailable(mut decision: Decision, why: &str) -> Decision {
    decision.outcome = Outcome::Throttle;
    decision.steps.clear();
    decision.human = None;
    decision.deadline_ms = None;
    decision.obligations.clear();
    decision.retry_after_ms = Some(UNAVAILABLE_RETRY_MS);
    decision.reason = Some(format!("the state store is unavailable: {why}"));
    decision
}

impl Engine {
    /// Decides a request now (system clock).
    pub fn decide(&self, req: &Request) -> Decision {
        self.decide_at(req, now_ms())
    }

    /// Decides a request at `now_ms` (an injected clock, for tests and replays).
    pub fn decide_at(&self, req: &Request, now_ms: u64) -> Decision {
        self.decide_with(req, now_ms, &*self.state, None)
    }

    /// Decides a request at `now_ms` with `state`: works the decision out on what the state
    /// says, then takes what it uses in one atomic step; when the store refuses (another
    /// decision took the room meanwhile), works it out again knowing that, at most
    /// `MAX_ATTEMPTS` times. A store that cannot be asked fails closed (`unavailable`).
    /// `pre`: the text already classified by another classifier (the sidecar's HTTP one) and
    /// the name decisions record; with `None` the engine's own classifier reads the text.
    pub fn decide_with(
        &self,
        req: &Request,
        now_ms: u64,
        state: &dyn State,
        pre: Preclassified<'_>,
    ) -> Decision {
        let id = self.decision_id(now_ms);
        let mut learned = Vec::new();
        for _ in 0..MAX_ATTEMPTS {
            let a = self.attempt(req, now_ms, id, state, &learned, pre.clone());
            if a.claim.is_empty() {
                return a.decision;
            }
            match state.take(&a.claim, now_ms) {
                Ok(()) => return a.decision,
                Err(Refused::Blocked(blocks)) => learned.extend(blocks),
                Err(Refused::Unavailable(why)) => return unavailable(a.decision, &why),
            }
        }
        self.contended(id, &learned)
    }

    /// The `classifier` of a decision whose text no classifier could read.
    pub const UNCLASSIFIED: &'static str = "none (fallback: clarify)";

    /// A `clarify` for a text no classifier could read (the sidecar's HTTP classifier failed
    /// and its declared fallback is `clarify`): no intent, the question, and why.
    pub fn clarify_unclassified(&self, now_ms: u64, question: &str, reason: String) -> Decision {
        let mut draft = Draft::scratch(self, &NOTHING_BLOCKED);
        draft.d.decision_id = self.decision_id(now_ms);
        draft.d.classifier = Some(Arc::from(Engine::UNCLASSIFIED));
        draft.d.question = Some(Arc::from(question));
        draft.end(Outcome::Clarify, Some(reason));
        draft.d
    }

    /// A fresh decision id at `now_ms`.
    pub fn decision_id(&self, now_ms: u64) -> DecisionId {
        DecisionId {
            at_ms: now_ms,
            seq: self.counter.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Works a decision out on `check` (the state as last known) and `learned` (what the store
    /// refused to earlier attempts), without taking anything: the caller commits the claim
    /// (`State::take`) and tries again on a refusal. `decide_with` is this loop; the sidecar
    /// runs it against an asynchronous store.
    pub fn attempt(
        &self,
        req: &Request,
        now_ms: u64,
        id: DecisionId,
        check: &dyn Check,
        learned: &[Block],
        pre: Preclassified<'_>,
    ) -> Attempt {
        let mut draft = Draft::scratch(self, check);
        draft.view.learned = learned;
        draft.d.decision_id = id;
        self.run(req, now_ms, pre, &mut draft);
        Attempt {
            decision: draft.d,
            claim: draft.claim,
        }
    }

    /// The answer when the store refused `MAX_ATTEMPTS` claims in a row: a throttle.
    pub fn contended(&self, id: DecisionId, learned: &[Block]) -> Decision {
        let mut draft = Draft::scratch(self, &NOTHING_BLOCKED);
        draft.d.decision_id = id;
        draft.d.retry_after_ms = learned.iter().map(|b| b.why.wait_ms()).min();
        draft.end(
            Outcome::Throttle,
            Some("the limits of the agents and humans it could use kept filling up".into()),
        );
        draft.d
    }

    fn run(&self, req: &Request, now: u64, pre: Preclassified<'_>, dr: &mut Draft<'_>) {
        let Some((intent, confidence)) = self.resolve_intent(req, pre, dr) else {
            return;
        };
        let Some(info) = self.intents.get(intent as usize) else {
            return dr.end(Outcome::Deny, Some("unknown intent id".into()));
        };
        dr.d.intent = Some(info.name.clone());
        dr.d.confidence = Some(confidence);
        let Some(depth) = self.guards(req, intent, dr) else {
            return;
        };
        if let Err(e) = check_context(&self.plan.context, &req.context) {
            dr.end(
                Outcome::Deny,
                Some(format!("the request does not fit the context schema: {e}")),
            );
            return;
        }
        if !self.intent_limited(req, intent, &info.name, now, dr) {
            return;
        }
        let env = Env {
            context: &req.context,
            confidence,
            depth,
            intent,
            agent: None,
            caller: self.caller_agent(req),
            data: &[],
            response: None,
        };
        let index = self.arm_index.then_some(&info.index);
        match first_match(
            &info.arms,
            index,
            &info.misses,
            &info.name,
            &env,
            &self.progs,
            &mut dr.d.trace,
        ) {
            Pick::Matched(a) => {
                let Some(arm_info) = info.arms.get(a) else {
                    return dr.end(Outcome::Deny, Some("unknown arm".into()));
                };
                // A dispatch or plan reads only the engine's record of the arm.
                if let Some(outcome) = arm_info.serves {
                    return self.serve(&arm_info.steps, outcome, intent, &env, now, dr);
                }
                let plan_arm = self.plan.intents.get(intent as usize);
                let Some(arm) = plan_arm.and_then(|it| it.route.arms.get(a)) else {
                    return dr.end(Outcome::Deny, Some("unknown arm".into()));
                };
                return self.act(&arm.action, intent, &arm_info.steps, &env, now, dr);
            }
            Pick::Fault(f) => {
                return dr.end(Outcome::Deny, Some(format!("evaluation error: {}", f.0)));
            }
            Pick::NoneMatched => {}
        }
        dr.end(
            Outcome::Deny,
            Some(format!("no arm of route {} matched", info.name)),
        );
    }

    /// The intent's own rate limits (`rate intent NAME ...`, all callers together or each
    /// caller on its own): `false` (and a `throttle` with the wait) when one is reached; else
    /// they are noted, to be claimed if the decision serves the intent.
    fn intent_limited(
        &self,
        req: &Request,
        intent: IntentId,
        name: &str,
        now: u64,
        dr: &mut Draft<'_>,
    ) -> bool {
        let Some(limits) = self
            .intents
            .get(intent as usize)
            .and_then(|i| i.limits.as_ref())
        else {
            return true;
        };
        let caller = req.caller.as_ref().and_then(|c| c.agent.as_deref());
        let takes = limits.takes(name, caller);
        let mut wait: Option<u64> = None;
        for t in &takes {
            if let Some(b) = dr.view.blocked(t, now) {
                let w = b.wait_ms();
                dr.trace(
                    TraceKind::Limit,
                    TraceWhat::Text(format!("rate limit of intent {}", t.subject.name())),
                    false,
                    Some(Arc::from(format!("free in {w} ms"))),
                    None,
                );
                wait = Some(wait.map_or(w, |x| x.max(w)));
            }
        }
        if let Some(w) = wait {
            dr.d.retry_after_ms = Some(w);
            let who = match (limits.per_caller.is_empty(), caller) {
                (false, Some(c)) => format!(" for `{c}`"),
                _ => String::new(),
            };
            dr.end(
                Outcome::Throttle,
                Some(format!("the rate limit of intent {name}{who} is reached")),
            );
            return false;
        }
        dr.intent_claim = takes;
        true
    }

    /// The request's caller as an agent of the plan, looked up once per decision and only
    /// when some condition reads it; `None` (every `caller` operand absent) for an anonymous
    /// caller or one the plan does not declare.
    pub(crate) fn caller_agent(&self, req: &Request) -> Option<&plan::Agent> {
        if !self.reads_caller {
            return None;
        }
        let name = req.caller.as_ref()?.agent.as_deref()?;
        let id = self.agents_by_name.get(name)?;
        self.plan.agents.get(id as usize)
    }

    /// Step 2: lineage guards. Returns the delegation depth.
    fn guards(&self, req: &Request, intent: IntentId, dr: &mut Draft<'_>) -> Option<u32> {
        let Some(caller) = &req.caller else {
            return Some(0);
        };
        let mut lineage = Vec::with_capacity(caller.lineage.len());
        for name in &caller.lineage {
            match self.intents_by_name.get(name) {
                Some(i) => lineage.push(i),
                None => {
                    dr.end(
                        Outcome::Deny,
                        Some(format!(
                            "the caller's lineage names an unknown intent `{}`",
                            echo(name)
                        )),
                    );
                    return None;
                }
            }
        }
        let depth = lineage.len() as u32;
        let name = |i: IntentId| {
            self.intent_names
                .get(i as usize)
                .map_or("?".to_string(), |n| n.to_string())
        };
        if let Some(&last) = lineage.last() {
            let allowed = self
                .plan
                .intents
                .get(last as usize)
                .is_some_and(|p| p.delegates.contains(&intent));
            dr.trace(
                TraceKind::Guard,
                TraceWhat::Text(format!("{} may delegate {}", name(last), name(intent))),
                allowed,
                None,
                self.plan
                    .intents
                    .get(last as usize)
                    .and_then(|p| self.at(p.src)),
            );
            if !allowed {
                dr.end(
                    Outcome::Deny,
                    Some(format!(
                        "intent drift: {} does not delegate {}",
                        name(last),
                        name(intent)
                    )),
                );
                return None;
            }
        }
        if lineage.contains(&intent) {
            dr.trace(
                TraceKind::Guard,
                TraceWhat::Text("delegation loop".into()),
                true,
                None,
                None,
            );
            dr.end(
                Outcome::Deny,
                Some(format!(
                    "delegation loop: {} is already being served",
                    name(intent)
                )),
            );
            return None;
        }
        if let Some(max) = self.plan.limits.delegation_depth {
            if depth > max {
                dr.trace(
                    TraceKind::Guard,
                    TraceWhat::Text(format!("delegation depth {depth} > {max}")),
                    true,
                    None,
                    None,
                );
                dr.end(
                    Outcome::Deny,
                    Some(format!(
                        "delegation depth {depth} is over the limit of {max}"
                    )),
                );
                return None;
            }
        }
        Some(depth)
    }

    fn act(
        &self,
        action: &plan::Action,
        intent: IntentId,
        steps: &[StepInfo],
        env: &Env<'_>,
        now: u64,
        dr: &mut Draft<'_>,
    ) {
        match action {
            plan::Action::Clarify { question } => {
                dr.d.question = Some(Arc::from(question.as_str()));
                dr.end(Outcome::Clarify, None);
            }
            plan::Action::Deny { because } => dr.end(Outcome::Deny, because.clone()),
            plan::Action::Escalate { humans, because } => {
                self.escalate(humans, because.clone(), now, dr)
            }
            plan::Action::Dispatch { .. } => {
                self.serve(steps, Outcome::Dispatch, intent, env, now, dr)
            }
            plan::Action::Plan { .. } => self.serve(steps, Outcome::Plan, intent, env, now, dr),
            plan::Action::Pass | plan::Action::Redact { .. } => {
                dr.end(Outcome::Deny, Some("a review action in a route".into()))
            }
        }
    }

    /// Hands the request to the first of `humans` under their rate limit; `throttle` if none is.
    /// The human is claimed (one use), not taken: the caller commits.
    fn escalate(&self, humans: &[u32], because: Option<String>, now: u64, dr: &mut Draft<'_>) {
        let mut wait = u64::MAX;
        for &h in humans {
            let Some(take) = self.human_limits.get(h as usize) else {
                continue;
            };
            match dr.view.blocked(take, now) {
                Some(blocked) => {
                    let w = blocked.wait_ms();
                    dr.trace(
                        TraceKind::Candidate,
                        TraceWhat::Text(format!("human {}", take.subject.name())),
                        false,
                        Some(Arc::from(format!("rate limit: free in {w} ms"))),
                        None,
                    );
                    wait = wait.min(w);
                }
                None => {
                    dr.claim.clear();
                    if !take.rates.is_empty() {
                        dr.claim.push(take.clone());
                    }
                    let human = self.plan.humans.get(h as usize);
                    dr.d.human = self.human_names.get(h as usize).cloned();
                    dr.d.deadline_ms = human.and_then(|x| x.sla_ms).map(|s| now.saturating_add(s));
                    dr.end(Outcome::Escalate, because);
                    return;
                }
            }
        }
        dr.d.retry_after_ms = (wait != u64::MAX).then_some(wait);
        dr.end(
            Outcome::Throttle,
            Some("every human to escalate to is at their rate limit".into()),
        );
    }

    /// Fills the arm's steps (`infos`, the engine's records of them), then applies the
    /// escalation and audit rules to each filled step.
    fn serve(
        &self,
        infos: &[StepInfo],
        outcome: Outcome,
        intent: IntentId,
        env: &Env<'_>,
        now: u64,
        dr: &mut Draft<'_>,
    ) {
        let filled: Vec<Filled> = match self.fill(infos, env, now, dr) {
            Fill::Filled(f) => f,
            Fill::Deny(reason) => return dr.end(Outcome::Deny, Some(reason)),
            Fill::Throttle(wait, reason) => {
                dr.d.retry_after_ms = Some(wait);
                return dr.end(Outcome::Throttle, Some(reason));
            }
            Fill::Fault(reason) => {
                return dr.end(Outcome::Deny, Some(format!("evaluation error: {reason}")))
            }
        };
        dr.d.steps = filled
            .iter()
            .filter_map(|f| {
                let step = infos.get(f.step)?;
                let c = step.candidates.get(f.candidate)?;
                Some(FilledStep {
                    step: step.name.clone(),
                    agent: c.name.clone(),
                    endpoint: c.endpoint.clone(),
                    handles: step.handles.clone(),
                })
            })
            .collect();
        // Step 5: policy escalation rules, and audit obligations, per filled step.
        let mut escalate_to: Option<(&[u32], Option<String>)> = None;
        for f in &filled {
            let Some(step) = infos.get(f.step) else {
                continue;
            };
            let agent = self.plan.agents.get(f.agent as usize);
            let candidate = step.candidates.get(f.candidate);
            let (escalations, audits) = match candidate {
                Some(c) => (
                    self.escalations.with(&c.escalations),
                    self.audits.with(&c.audits),
                ),
                None => (
                    self.escalations.applicable(f.agent, intent),
                    self.audits.applicable(f.agent, intent),
                ),
            };
            let senv = Env {
                agent,
                data: &step.handles,
                ..*env
            };
            let agent_name = self.agent_name(f.agent);
            for r in escalations {
                let (Some(info), Some(rule)) = (self.rules.get(r), self.plan.rules.get(r)) else {
                    continue;
                };
                let hit = self.progs.holds_or(info.when, true, &senv);
                match hit {
                    Err(fault) => {
                        return dr.end(
                            Outcome::Deny,
                            Some(format!("evaluation error in rule {}: {}", rule.id, fault.0)),
                        )
                    }
                    Ok(hit) => {
                        dr.trace(
                            TraceKind::Rule,
                            TraceWhat::EscalateRule {
                                rule: info.id.clone(),
                                agent: agent_name.clone(),
                                step: step.name.clone(),
                            },
                            hit,
                            None,
                            info.at,
                        );
                        if hit && escalate_to.is_none() {
                            escalate_to = Some((
                                &rule.humans,
                                rule.because
                                    .clone()
                                    .or_else(|| Some(format!("policy rule {}", rule.id))),
                            ));
                        }
                    }
                }
            }
            for r in audits {
                let Some(info) = self.rules.get(r) else {
                    continue;
                };
                match self.progs.holds_or(info.when, true, &senv) {
                    Err(fault) => {
                        return dr.end(
                            Outcome::Deny,
                            Some(format!("evaluation error in rule {}: {}", info.id, fault.0)),
                        )
                    }
                    Ok(hit) => {
                        dr.trace(
                            TraceKind::Rule,
                            TraceWhat::AuditRule {
                                rule: info.id.clone(),
                                agent: agent_name.clone(),
                                step: step.name.clone(),
                            },
                            hit,
                            None,
                            info.at,
                        );
                        let already = dr.d.obligations.iter().any(
                            |o| matches!(o, Obligation::Audit { rule: id, .. } if *id == info.id),
                        );
                        if hit && !already {
                            dr.d.obligations.push(Obligation::Audit {
                                rule: info.id.clone(),
                                because: info.because.clone(),
                            });
                        }
                    }
                }
            }
        }
        if let Some((humans, because)) = escalate_to {
            return self.escalate(humans, because, now, dr);
        }
        // The filled agents are claimed: the caller takes their uses (and checks their
        // breakers once more) in one step when it commits the decision.
        for f in &filled {
            if let Some(take) = self.agent_limits.get(f.agent as usize) {
                if !take.rates.is_empty() || take.breaker.is_some() {
                    dr.claim.push(take.clone());
                }
            }
        }
        let served = std::mem::take(&mut dr.intent_claim);
        dr.claim.extend(served);
        dr.end(outcome, None);
    }
}
