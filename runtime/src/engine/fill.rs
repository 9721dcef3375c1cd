//! Filling steps (step 4 of a decision, docs/concepts.md): for each step, the candidates in order — the target
//! (for `any CAP`, every provider, best first), the fallbacks, then the backups of the agents
//! named — and the first that provides what the step needs, is permitted by the policies
//! (Cedar's meaning: a matching forbid wins; otherwise clearance or a matching permit grants),
//! has its breaker closed and is under its rate limit.

use super::decide::Draft;
use super::index::Applicable;
use super::{Candidate, Engine, StepInfo};
use crate::decision::{TraceKind, TraceWhat};
use crate::eval::{Env, Fault};
use crate::plan::{self, AgentId, DataId};
use crate::state::Blocked;
use std::fmt::Write as _;
use std::sync::Arc;

/// A filled step: its index in the action, the agent chosen and its index among the step's
/// candidates (`StepInfo::candidates`).
pub(crate) struct Filled {
    pub step: usize,
    pub agent: AgentId,
    pub candidate: usize,
}

/// The forbid and permit rules to look at for one agent and intent, in plan order, and the
/// agent's and the step's names for the trace.
struct PolicyRules<'a> {
    forbids: Applicable<'a>,
    permits: Applicable<'a>,
    agent: &'a Arc<str>,
    step: &'a Arc<str>,
}

pub(crate) enum Fill {
    Filled(Vec<Filled>),
    Deny(String),
    /// Only rate limits stood in the way: retry after this many milliseconds.
    Throttle(u64, String),
    Fault(String),
}

/// Why one candidate could not take a step. The words are the engine's, shared (see
/// `Candidate` and `RuleInfo`), so refusing formats nothing.
enum Refusal {
    Lacks,
    /// By the rule at this index of `plan.rules`.
    Forbidden(usize),
    NotCleared,
    /// cedar-policy denied it (Cedar mode).
    #[cfg(feature = "cedar")]
    CedarDenied,
    BreakerOpen,
    RateLimited(u64),
}

impl Engine {
    /// Fills each step (as the engine worked it out: `StepInfo`) with its first candidate that
    /// can take it.
    pub(crate) fn fill(
        &self,
        steps: &[StepInfo],
        env: &Env<'_>,
        now: u64,
        dr: &mut Draft<'_>,
    ) -> Fill {
        let mut out = Vec::with_capacity(steps.len());
        for (i, step) in steps.iter().enumerate() {
            let mut wait: Option<u64> = None;
            let mut only_rate = true;
            let mut chosen = None;
            let first = dr.d.trace.len();
            for (n, c) in step.candidates.iter().enumerate() {
                let what = || TraceWhat::Candidate {
                    step: step.name.clone(),
                    agent: c.name.clone(),
                };
                match self.admit(c, step, env, now, dr) {
                    Err(f) => return Fill::Fault(f.0),
                    Ok(None) => {
                        dr.trace(TraceKind::Candidate, what(), true, None, step.at);
                        chosen = Some((n, c.agent));
                        break;
                    }
                    Ok(Some(refusal)) => {
                        let why = match refusal {
                            Refusal::Lacks => {
                                only_rate = false;
                                c.lacks.clone()
                            }
                            Refusal::Forbidden(r) => {
                                only_rate = false;
                                self.rules.get(r).map(|x| x.forbidden_by.clone())
                            }
                            Refusal::NotCleared => {
                                only_rate = false;
                                c.not_cleared.clone()
                            }
                            Refusal::BreakerOpen => {
                                only_rate = false;
                                Some(self.breaker_open.clone())
                            }
                            #[cfg(feature = "cedar")]
                            Refusal::CedarDenied => {
                                only_rate = false;
                                Some(Arc::from("denied by cedar-policy"))
                            }
                            Refusal::RateLimited(w) => {
                                wait = Some(wait.map_or(w, |x| x.min(w)));
                                Some(Arc::from(format!("rate limit: free in {w} ms")))
                            }
                        };
                        dr.trace(TraceKind::Candidate, what(), false, why, step.at);
                    }
                }
            }
            match chosen {
                Some((candidate, agent)) => out.push(Filled {
                    step: i,
                    agent,
                    candidate,
                }),
                None => {
                    let tried = dr.d.trace.get(first..).unwrap_or_default();
                    let message = unfilled(&step.name, tried);
                    return match (only_rate, wait) {
                        (true, Some(w)) => Fill::Throttle(w, message),
                        _ => Fill::Deny(message),
                    };
                }
            }
        }
        Fill::Filled(out)
    }

    pub(super) fn agent_name(&self, a: AgentId) -> Arc<str> {
        self.agent_names
            .get(a as usize)
            .cloned()
            .unwrap_or_else(|| Arc::from("?"))
    }

    /// `None` when the agent can take the step, else why not.
    fn admit(
        &self,
        c: &Candidate,
        step: &StepInfo,
        env: &Env<'_>,
        now: u64,
        dr: &mut Draft<'_>,
    ) -> Result<Option<Refusal>, Fault> {
        let a = c.agent;
        let Some(agent) = self.plan.agents.get(a as usize) else {
            return Ok(Some(Refusal::Lacks));
        };
        if c.lacks.is_some() {
            return Ok(Some(Refusal::Lacks));
        }
        let rules = PolicyRules {
            forbids: self.forbids.with(&c.forbids),
            permits: self.permits.with(&c.permits),
            agent: &c.name,
            step: &step.name,
        };
        #[cfg(feature = "cedar")]
        if let Some(oracle) = &self.cedar {
            let context = serde_json::Value::Object(env.context.clone());
            let caller = env
                .caller
                .and_then(|c| self.agents_by_name.get(c.name.as_str()));
            for &cap in step.needs.iter() {
                let allowed = oracle
                    .authorize_as(
                        &self.plan,
                        caller,
                        a,
                        cap,
                        env.intent,
                        env.confidence,
                        env.depth,
                        &step.handles,
                        &context,
                    )
                    .map_err(Fault)?;
                if !allowed {
                    return Ok(Some(Refusal::CedarDenied));
                }
            }
            return Ok(self.limits_refusal(a, now, dr));
        }
        let needs_permit = c.not_cleared.is_some();
        if let Some(refusal) = self.authorize(agent, &step.handles, needs_permit, rules, env, dr)? {
            return Ok(Some(refusal));
        }
        Ok(self.limits_refusal(a, now, dr))
    }

    /// The breaker and rate-limit checks of a candidate that policies permit, on what the
    /// draft knows of the state.
    fn limits_refusal(&self, a: AgentId, now: u64, dr: &Draft<'_>) -> Option<Refusal> {
        let take = self.agent_limits.get(a as usize)?;
        match dr.view.blocked(take, now)? {
            Blocked::Breaker { .. } => Some(Refusal::BreakerOpen),
            Blocked::Rate { wait_ms } => Some(Refusal::RateLimited(wait_ms)),
        }
    }

    /// Whether the policies let `agent` handle `data` for a request (Cedar's meaning: a
    /// matching forbid wins; else clearance or a matching permit grants). This is the check
    /// `decide` makes for every candidate of every step, without the capability, breaker and
    /// rate checks; it is public so audits and the differential tests against cedar-policy can
    /// ask it directly. A fault (a request that does not fit the plan) is an `Err`.
    #[allow(clippy::too_many_arguments)]
    pub fn permitted(
        &self,
        agent: AgentId,
        intent: plan::IntentId,
        confidence: f64,
        depth: u32,
        data: &[DataId],
        context: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<bool, String> {
        self.permitted_as(None, agent, intent, confidence, depth, data, context)
    }

    /// [`Engine::permitted`] for a request raised by `caller` (an agent of the plan; `None`:
    /// an anonymous caller), which `caller.*` conditions read.
    #[allow(clippy::too_many_arguments)]
    pub fn permitted_as(
        &self,
        caller: Option<AgentId>,
        agent: AgentId,
        intent: plan::IntentId,
        confidence: f64,
        depth: u32,
        data: &[DataId],
        context: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<bool, String> {
        let caller = match caller {
            Some(c) => Some(
                self.plan
                    .agents
                    .get(c as usize)
                    .ok_or_else(|| format!("unknown caller id {c}"))?,
            ),
            None => None,
        };
        let a = self
            .plan
            .agents
            .get(agent as usize)
            .ok_or_else(|| format!("unknown agent id {agent}"))?;
        let env = Env {
            context,
            confidence,
            depth,
            intent,
            agent: None,
            caller,
            data: &[],
            response: None,
        };
        let mut scratch = Draft::scratch(self, &*self.state);
        let needs_permit = data.iter().any(|d| a.cleared.binary_search(d).is_err());
        let name = self.agent_name(agent);
        // No step: the scratch trace is thrown away.
        let step: Arc<str> = Arc::from("");
        let rules = PolicyRules {
            forbids: self.forbids.applicable(agent, intent),
            permits: self.permits.applicable(agent, intent),
            agent: &name,
            step: &step,
        };
        match self.authorize(a, data, needs_permit, rules, &env, &mut scratch) {
            Ok(None) => Ok(true),
            Ok(Some(_)) => Ok(false),
            Err(f) => Err(f.0),
        }
    }

    /// The policy verdict for an agent handling `data` (Cedar's meaning): a matching forbid
    /// refuses; else, when its clearance does not cover `data` (`needs_permit`), a matching
    /// permit grants. Only `rules` are looked at: those filed for this agent and intent and the
    /// global ones (see `index`).
    fn authorize(
        &self,
        agent: &plan::Agent,
        data: &[DataId],
        needs_permit: bool,
        rules: PolicyRules<'_>,
        env: &Env<'_>,
        dr: &mut Draft<'_>,
    ) -> Result<Option<Refusal>, Fault> {
        let env = Env {
            agent: Some(agent),
            data,
            ..*env
        };
        for r in rules.forbids {
            let Some(rule) = self.rules.get(r) else {
                continue;
            };
            let when = self.progs.holds_or(rule.when, true, &env)?;
            let applies = when && !self.progs.holds_or(rule.unless, false, &env)?;
            if applies {
                dr.trace(
                    TraceKind::Rule,
                    TraceWhat::Forbid {
                        rule: rule.id.clone(),
                        agent: rules.agent.clone(),
                        step: rules.step.clone(),
                    },
                    true,
                    rule.because.clone(),
                    rule.at,
                );
                return Ok(Some(Refusal::Forbidden(r)));
            }
        }
        if !needs_permit {
            return Ok(None);
        }
        for r in rules.permits {
            let Some(rule) = self.rules.get(r) else {
                continue;
            };
            if self.progs.holds_or(rule.when, true, &env)? {
                dr.trace(
                    TraceKind::Rule,
                    TraceWhat::Permit {
                        rule: rule.id.clone(),
                        agent: rules.agent.clone(),
                        step: rules.step.clone(),
                    },
                    true,
                    None,
                    rule.at,
                );
                return Ok(None);
            }
        }
        Ok(Some(Refusal::NotCleared))
    }
}

/// Why a step could not be filled, from the trace entries of its candidates:
/// ``step `s` cannot be filled: a: why; b: why``.
fn unfilled(step: &str, tried: &[crate::decision::TraceEntry]) -> String {
    let mut message = format!("step `{step}` cannot be filled: ");
    let mut any = false;
    for t in tried.iter().filter(|t| t.kind == TraceKind::Candidate) {
        if let (TraceWhat::Candidate { agent, .. }, Some(why)) = (&t.what, &t.detail) {
            if any {
                message.push_str("; ");
            }
            let _ = write!(message, "{agent}: {why}");
            any = true;
        }
    }
    if !any {
        message.push_str("no agent can take it");
    }
    message
}
