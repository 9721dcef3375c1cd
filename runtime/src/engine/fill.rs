//! Filling steps (LANGUAGE.md §6 step 4): for each step, the candidates in order — the target
//! (for `any CAP`, every provider, best first), the fallbacks, then the backups of the agents
//! named — and the first that provides what the step needs, is permitted by the policies
//! (Cedar's meaning: a matching forbid wins; otherwise clearance or a matching permit grants),
//! has its breaker closed and is under its rate limit.

use super::decide::Draft;
use super::{covers, Engine};
use crate::eval::{holds, Env, Fault};
use crate::plan::{self, AgentId, DataId};
use crate::state::Subject;

/// A filled step: its index in the action and the agent chosen.
pub(crate) struct Filled {
    pub step: usize,
    pub agent: AgentId,
}

pub(crate) enum Fill {
    Filled(Vec<Filled>),
    Deny(String),
    /// Only rate limits stood in the way: retry after this many milliseconds.
    Throttle(u64, String),
    Fault(String),
}

/// Why one candidate could not take a step.
enum Refusal {
    Lacks(String),
    Forbidden(String),
    NotCleared(String),
    BreakerOpen,
    RateLimited(u64),
}

impl Engine {
    pub(crate) fn fill(
        &self,
        steps: &[plan::Step],
        env: &Env<'_>,
        now: u64,
        dr: &mut Draft,
    ) -> Fill {
        let mut out = Vec::with_capacity(steps.len());
        for (i, step) in steps.iter().enumerate() {
            let mut reasons: Vec<String> = Vec::new();
            let mut wait: Option<u64> = None;
            let mut only_rate = true;
            let mut chosen = None;
            for a in self.candidates(step) {
                let name = self
                    .agent_names
                    .get(a as usize)
                    .map_or("?", |n| n)
                    .to_string();
                match self.admit(a, step, env, now, dr) {
                    Err(f) => return Fill::Fault(f.0),
                    Ok(None) => {
                        dr.trace(
                            "candidate",
                            format!("step {}: {name}", step.name),
                            true,
                            None,
                            self.at(step.src),
                        );
                        chosen = Some(a);
                        break;
                    }
                    Ok(Some(refusal)) => {
                        let why = match refusal {
                            Refusal::Lacks(c) => {
                                only_rate = false;
                                format!("does not provide {c}")
                            }
                            Refusal::Forbidden(r) => {
                                only_rate = false;
                                format!("forbidden by {r}")
                            }
                            Refusal::NotCleared(d) => {
                                only_rate = false;
                                format!("not cleared for {d}")
                            }
                            Refusal::BreakerOpen => {
                                only_rate = false;
                                "breaker open".to_string()
                            }
                            Refusal::RateLimited(w) => {
                                wait = Some(wait.map_or(w, |x| x.min(w)));
                                format!("rate limit: free in {w} ms")
                            }
                        };
                        dr.trace(
                            "candidate",
                            format!("step {}: {name}", step.name),
                            false,
                            Some(why.clone()),
                            self.at(step.src),
                        );
                        reasons.push(format!("{name}: {why}"));
                    }
                }
            }
            match chosen {
                Some(agent) => out.push(Filled { step: i, agent }),
                None => {
                    let detail = if reasons.is_empty() {
                        "no agent can take it".to_string()
                    } else {
                        reasons.join("; ")
                    };
                    let message = format!("step `{}` cannot be filled: {detail}", step.name);
                    return match (only_rate, wait) {
                        (true, Some(w)) => Fill::Throttle(w, message),
                        _ => Fill::Deny(message),
                    };
                }
            }
        }
        Fill::Filled(out)
    }

    /// The agents that may take a step, in the order they are tried, without repeats.
    fn candidates(&self, step: &plan::Step) -> Vec<AgentId> {
        let mut out: Vec<AgentId> = Vec::new();
        let mut named: Vec<AgentId> = Vec::new();
        for t in std::iter::once(&step.target).chain(&step.fallbacks) {
            match t {
                plan::Target::Agent(a) => {
                    named.push(*a);
                    if !out.contains(a) {
                        out.push(*a);
                    }
                }
                plan::Target::Any(c) => {
                    for a in self.providers.get(*c as usize).into_iter().flatten() {
                        if !out.contains(a) {
                            out.push(*a);
                        }
                    }
                }
            }
        }
        // Then the backups of the agents named, in order, following backups of backups.
        let mut i = 0;
        while let Some(&a) = named.get(i) {
            for &b in self
                .plan
                .agents
                .get(a as usize)
                .map(|x| x.backups.as_slice())
                .unwrap_or(&[])
            {
                if !out.contains(&b) {
                    out.push(b);
                    named.push(b);
                }
            }
            i += 1;
        }
        out
    }

    /// `None` when the agent can take the step, else why not.
    fn admit(
        &self,
        a: AgentId,
        step: &plan::Step,
        env: &Env<'_>,
        now: u64,
        dr: &mut Draft,
    ) -> Result<Option<Refusal>, Fault> {
        let Some(agent) = self.plan.agents.get(a as usize) else {
            return Ok(Some(Refusal::Lacks("anything".into())));
        };
        if !covers(&agent.provides, &step.needs) {
            let missing: Vec<&str> = step
                .needs
                .iter()
                .filter(|c| agent.provides.binary_search(c).is_err())
                .filter_map(|c| {
                    self.plan
                        .capabilities
                        .get(*c as usize)
                        .map(|x| x.name.as_str())
                })
                .collect();
            return Ok(Some(Refusal::Lacks(missing.join(", "))));
        }
        if let Some(refusal) = self.authorize(a, agent, &step.handles, env, dr)? {
            return Ok(Some(refusal));
        }
        if let Some(Some((failures, cooldown))) = self.breakers.get(a as usize) {
            if self.state.breaker_open(a, *failures, *cooldown, now) {
                return Ok(Some(Refusal::BreakerOpen));
            }
        }
        let wait = self
            .agent_rates
            .get(a as usize)
            .into_iter()
            .flatten()
            .filter_map(|(count, per)| self.state.rate_wait(Subject::Agent(a), *count, *per, now))
            .max();
        Ok(wait.map(Refusal::RateLimited))
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
            data: &[],
            response: None,
        };
        let mut scratch = Draft::scratch();
        match self.authorize(agent, a, data, &env, &mut scratch) {
            Ok(None) => Ok(true),
            Ok(Some(_)) => Ok(false),
            Err(f) => Err(f.0),
        }
    }

    /// The policy verdict for an agent handling `data` (Cedar's meaning). Only the rules filed
    /// for this agent and intent (and the global ones) are looked at; see `index`.
    fn authorize(
        &self,
        id: AgentId,
        agent: &plan::Agent,
        data: &[DataId],
        env: &Env<'_>,
        dr: &mut Draft,
    ) -> Result<Option<Refusal>, Fault> {
        let env = Env {
            agent: Some(agent),
            data,
            ..*env
        };
        for r in self.forbids.applicable(id, env.intent) {
            let Some(rule) = self.plan.rules.get(r) else {
                continue;
            };
            let when = rule.when.as_ref().map_or(Ok(true), |w| holds(w, &env))?;
            let applies = when && !rule.unless.as_ref().map_or(Ok(false), |u| holds(u, &env))?;
            if applies {
                dr.trace(
                    "rule",
                    format!("forbid {} for {}", rule.id, agent.name),
                    true,
                    rule.because.clone(),
                    self.at(rule.src),
                );
                let why = match &rule.because {
                    Some(b) => format!("{} (\"{b}\")", rule.id),
                    None => rule.id.clone(),
                };
                return Ok(Some(Refusal::Forbidden(why)));
            }
        }
        let uncleared: Vec<DataId> = data
            .iter()
            .copied()
            .filter(|d| agent.cleared.binary_search(d).is_err())
            .collect();
        if uncleared.is_empty() {
            return Ok(None);
        }
        for r in self.permits.applicable(id, env.intent) {
            let Some(rule) = self.plan.rules.get(r) else {
                continue;
            };
            if rule.when.as_ref().map_or(Ok(true), |w| holds(w, &env))? {
                dr.trace(
                    "rule",
                    format!("permit {} for {}", rule.id, agent.name),
                    true,
                    None,
                    self.at(rule.src),
                );
                return Ok(None);
            }
        }
        let names: Vec<&str> = uncleared
            .iter()
            .filter_map(|d| self.data_names.get(*d as usize).map(|n| &**n))
            .collect();
        Ok(Some(Refusal::NotCleared(names.join(", "))))
    }
}
