//! The story `intent eval` tells about a decision: the trace, one line per arm, candidate and
//! rule (a forbid that fired reads as a refusal, see `testing::trace_lines`), and with
//! `--explain`, under each arm and rule, every comparison of its condition with the values it
//! was made on (`amount (9000) > 5000  ✓`); obligations in words.
//!
//! The values are worked out here, after the decision, from the plan and the request: `decide`
//! keeps no values, so explaining costs the hot path nothing. Each comparison is evaluated
//! alone by the runtime's own `holds`, so the marks are the runtime's answers.

use intent_runtime::decision::{Decision, Obligation, TraceEntry, TraceWhat};
use intent_runtime::eval::{holds, lookup, Env};
use intent_runtime::plan::{Action, Agent, CmpOp, DataId, Expr, Plan, Value};
use intent_runtime::Request;
use std::collections::HashMap;

/// At most this many comparisons are shown under one arm or rule; the rest are counted.
const MAX_LEAVES: usize = 32;

/// An obligation in words: `audit the decision: large refunds are reviewed (rule p#0)`.
pub fn obligation(o: &Obligation) -> String {
    match o {
        Obligation::Audit { rule, because } => match because {
            Some(b) => format!("audit the decision: {b} (rule {rule})"),
            None => format!("audit the decision (rule {rule})"),
        },
        Obligation::Redact { data } => format!(
            "redact {} from the response",
            data.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The conditions of one arm or rule.
struct Site<'p> {
    when: Option<&'p Expr>,
    unless: Option<&'p Expr>,
}

/// What `--explain` needs to show the values a decision was made on.
pub struct Explainer<'a> {
    plan: &'a Plan,
    request: &'a Request,
    decision: &'a Decision,
    /// Arms and rules by `file:line:col`, as the trace names them.
    sites: HashMap<String, Site<'a>>,
}

impl<'a> Explainer<'a> {
    pub fn new(plan: &'a Plan, request: &'a Request, decision: &'a Decision) -> Explainer<'a> {
        let at = |src| plan.source(src).map(|s| s.to_string()).unwrap_or_default();
        let mut sites = HashMap::new();
        for intent in &plan.intents {
            for arm in &intent.route.arms {
                let site = Site {
                    when: arm.when.as_ref(),
                    unless: None,
                };
                sites.insert(at(arm.src), site);
            }
        }
        for rule in &plan.rules {
            let site = Site {
                when: rule.when.as_ref(),
                unless: rule.unless.as_ref(),
            };
            sites.insert(at(rule.src), site);
        }
        Explainer {
            plan,
            request,
            decision,
            sites,
        }
    }

    /// The comparisons of the arm or rule `entry` looked at, with their values, one a line
    /// (empty for other entries and for an `otherwise` arm).
    pub fn compared(&self, entry: &TraceEntry) -> Vec<String> {
        let (agent, step) = match &entry.what {
            TraceWhat::Arm { .. } => (None, None),
            TraceWhat::Forbid { agent, step, .. }
            | TraceWhat::Permit { agent, step, .. }
            | TraceWhat::EscalateRule { agent, step, .. }
            | TraceWhat::AuditRule { agent, step, .. } => (Some(&**agent), Some(&**step)),
            // Arms the index ruled out were not evaluated: there is nothing to show.
            TraceWhat::Arms { .. } | TraceWhat::Candidate { .. } | TraceWhat::Text(_) => {
                return Vec::new()
            }
        };
        let Some(site) = self
            .decision
            .trace
            .at(entry)
            .and_then(|at| self.sites.get(at))
        else {
            return Vec::new();
        };
        let agent = agent.and_then(|a| self.plan.agents.iter().find(|x| x.name == a));
        let data = step.map(|s| self.step_data(s)).unwrap_or_default();
        let env = Env {
            context: &self.request.context,
            confidence: self.decision.confidence.unwrap_or(0.0),
            depth: self
                .request
                .caller
                .as_ref()
                .map_or(0, |c| u32::try_from(c.lineage.len()).unwrap_or(u32::MAX)),
            intent: self.intent_id().unwrap_or(u32::MAX),
            agent,
            caller: self
                .request
                .caller
                .as_ref()
                .and_then(|c| c.agent.as_deref())
                .and_then(|n| self.plan.agents.iter().find(|a| a.name == n)),
            data: &data,
            response: None,
        };
        let mut lines = Vec::new();
        for (word, e) in [("when", site.when), ("unless", site.unless)] {
            let Some(e) = e else { continue };
            let leaves = leaves(e);
            for leaf in leaves.iter().take(MAX_LEAVES) {
                let mark = match holds(leaf, &env) {
                    Ok(true) => "✓".to_string(),
                    Ok(false) => "✗".to_string(),
                    Err(f) => format!("fault: {}", f.0),
                };
                let prefix = if word == "unless" { "unless " } else { "" };
                lines.push(format!("{prefix}{}  {mark}", self.show(leaf, &env)));
            }
            if leaves.len() > MAX_LEAVES {
                lines.push(format!(
                    "… and {} more comparisons",
                    leaves.len() - MAX_LEAVES
                ));
            }
        }
        lines
    }

    fn intent_id(&self) -> Option<u32> {
        let name = self.decision.intent.as_deref()?;
        let i = self.plan.intents.iter().position(|x| x.name == name)?;
        u32::try_from(i).ok()
    }

    /// The data classes the step named `step` handles, in the arm that matched.
    fn step_data(&self, step: &str) -> Vec<DataId> {
        let Some(intent) = self
            .intent_id()
            .and_then(|i| self.plan.intents.get(i as usize))
        else {
            return Vec::new();
        };
        let arm = self.decision.trace.iter().find_map(|t| match &t.what {
            TraceWhat::Arm { arm, .. } if t.matched => Some(*arm),
            _ => None,
        });
        let steps = match arm
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| intent.route.arms.get(i))
            .map(|a| &a.action)
        {
            Some(Action::Dispatch { step }) => std::slice::from_ref(step),
            Some(Action::Plan { steps }) => steps.as_slice(),
            _ => &[],
        };
        steps
            .iter()
            .find(|s| s.name == step)
            .map(|s| s.handles.clone())
            .unwrap_or_default()
    }

    /// A comparison written out with the value of each operand that is not a literal.
    fn show(&self, e: &Expr, env: &Env<'_>) -> String {
        match e {
            Expr::Cmp { cmp, lhs, rhs } => format!(
                "{} {} {}",
                self.operand(lhs, env),
                op(*cmp),
                self.operand(rhs, env)
            ),
            Expr::In { item, set, negated } => format!(
                "{} {}in {}",
                self.operand(item, env),
                if *negated { "not " } else { "" },
                self.operand(set, env)
            ),
            Expr::Has { path } => format!(
                "has {} ({})",
                path.join("."),
                if lookup(env.context, path).is_some() {
                    "present"
                } else {
                    "absent"
                }
            ),
            Expr::DataTouches { any } => format!(
                "data ({}) touches {}",
                self.classes(env.data),
                self.top_class(any)
            ),
            Expr::AgentProvides { cap } => format!(
                "agent ({}) provides {}",
                env.agent.map_or("none", |a| a.name.as_str()),
                self.plan
                    .capabilities
                    .get(*cap as usize)
                    .map_or("?", |c| c.name.as_str())
            ),
            Expr::CallerProvides { cap } => format!(
                "caller ({}) provides {}",
                env.caller.map_or("none", |a| a.name.as_str()),
                self.plan
                    .capabilities
                    .get(*cap as usize)
                    .map_or("?", |c| c.name.as_str())
            ),
            Expr::HasCaller => format!(
                "has caller ({})",
                env.caller.map_or("absent", |a| a.name.as_str())
            ),
            Expr::IntentIs { intent } => format!(
                "intent ({}) is {}",
                self.decision.intent.as_deref().unwrap_or("none"),
                self.plan
                    .intents
                    .get(*intent as usize)
                    .map_or("?", |i| i.name.as_str())
            ),
            other => self.operand(other, env),
        }
    }

    /// `name (value)` for what is read, the literal itself for a literal.
    fn operand(&self, e: &Expr, env: &Env<'_>) -> String {
        let agent = |f: fn(&Agent) -> String| env.agent.map_or("no agent".to_string(), f);
        let caller = |f: fn(&Agent) -> String| env.caller.map_or("no caller".to_string(), f);
        let (name, value) = match e {
            Expr::Lit { value } => return literal(value),
            Expr::Confidence => ("confidence".to_string(), number(env.confidence)),
            Expr::Depth => ("depth".to_string(), env.depth.to_string()),
            Expr::Field { path } => (
                path.join("."),
                lookup(env.context, path).map_or("absent".to_string(), |v| v.to_string()),
            ),
            Expr::AgentTrust => ("agent.trust".into(), agent(|a| number(a.trust))),
            Expr::AgentCost => ("agent.cost".into(), agent(|a| number(a.cost))),
            Expr::AgentRegion => ("agent.region".into(), agent(|a| format!("{:?}", a.region))),
            Expr::AgentZone => ("agent.zone".into(), agent(|a| format!("{:?}", a.zone))),
            Expr::AgentName => ("agent.name".into(), agent(|a| format!("{:?}", a.name))),
            Expr::AgentLabel { key } => (
                format!("agent.labels.{key}"),
                env.agent
                    .and_then(|a| a.labels.get(key))
                    .map_or("absent".to_string(), literal),
            ),
            Expr::CallerName => ("caller.name".into(), caller(|a| format!("{:?}", a.name))),
            Expr::CallerTrust => ("caller.trust".into(), caller(|a| number(a.trust))),
            Expr::CallerRegion => (
                "caller.region".into(),
                caller(|a| format!("{:?}", a.region)),
            ),
            Expr::CallerZone => ("caller.zone".into(), caller(|a| format!("{:?}", a.zone))),
            Expr::CallerLabel { key } => (
                format!("caller.labels.{key}"),
                env.caller
                    .and_then(|a| a.labels.get(key))
                    .map_or("absent".to_string(), literal),
            ),
            Expr::ResponseConfidence => ("response.confidence".into(), "none".into()),
            Expr::CallerProvides { .. }
            | Expr::HasCaller
            | Expr::Has { .. }
            | Expr::IntentIs { .. }
            | Expr::AgentProvides { .. }
            | Expr::DataTouches { .. }
            | Expr::ResponseDataTouches { .. }
            | Expr::Not { .. }
            | Expr::And { .. }
            | Expr::Or { .. }
            | Expr::Cmp { .. }
            | Expr::In { .. } => return "(condition)".to_string(),
        };
        format!("{name} ({value})")
    }

    fn classes(&self, ids: &[DataId]) -> String {
        if ids.is_empty() {
            return "none".into();
        }
        ids.iter()
            .filter_map(|d| self.plan.data_classes.get(*d as usize))
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The class a pre-expanded set was written as: the members whose parent is not a member.
    fn top_class(&self, any: &[DataId]) -> String {
        let tops: Vec<&str> = any
            .iter()
            .filter_map(|d| self.plan.data_classes.get(*d as usize))
            .filter(|d| d.parent.is_none_or(|p| !any.contains(&p)))
            .map(|d| d.name.as_str())
            .collect();
        tops.join(" or ")
    }
}

/// The comparisons and tests of a condition, left to right, without its `and`/`or`/`not`
/// (walked with a stack: a plan from a file may nest deeply).
fn leaves(e: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Not { e } => stack.push(e),
            Expr::And { all } => stack.extend(all.iter().rev()),
            Expr::Or { any } => stack.extend(any.iter().rev()),
            Expr::Lit { .. }
            | Expr::Confidence
            | Expr::Depth
            | Expr::IntentIs { .. }
            | Expr::Field { .. }
            | Expr::Has { .. }
            | Expr::AgentTrust
            | Expr::AgentCost
            | Expr::AgentRegion
            | Expr::AgentZone
            | Expr::AgentName
            | Expr::AgentLabel { .. }
            | Expr::AgentProvides { .. }
            | Expr::CallerName
            | Expr::CallerTrust
            | Expr::CallerRegion
            | Expr::CallerZone
            | Expr::CallerLabel { .. }
            | Expr::CallerProvides { .. }
            | Expr::HasCaller
            | Expr::DataTouches { .. }
            | Expr::ResponseConfidence
            | Expr::ResponseDataTouches { .. }
            | Expr::Cmp { .. }
            | Expr::In { .. } => out.push(e),
        }
    }
    out
}

fn op(c: CmpOp) -> &'static str {
    match c {
        CmpOp::Eq => "==",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

/// A number as it is written in a mesh: `10000`, not `10000.0`.
fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        n.to_string()
    }
}

fn literal(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number(*n),
        Value::String(s) => format!("{s:?}"),
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(literal).collect::<Vec<_>>().join(", ")
        ),
    }
}
