//! The routing plan: the one contract between the compiler and the runtime.
//!
//! A plan is a self-contained JSON document (`format: 1`). Everything is resolved: names are
//! replaced by indexes into the plan's tables (capabilities, data classes, agents, humans,
//! intents), hierarchies are pre-expanded (an agent's `provides` and `clearance` hold every
//! capability and data class they cover), and conditions are small expression trees over typed
//! operands, so the runtime never compares strings it can avoid. `source_map` points every arm
//! and rule back to `file:line:col`; it, the Cedar text and the hash itself are left out of
//! `plan_hash`, which is why reformatting or renaming files never changes the hash.

pub mod candidates;
mod expr;
pub(crate) mod hash;

pub use expr::{CmpOp, Expr, Value};
pub use hash::plan_hash;
pub(crate) use hash::strip_src;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The plan format this runtime reads and the compiler writes.
pub const FORMAT: u32 = 1;

/// An index into one of the plan's tables.
pub type CapId = u32;
pub type DataId = u32;
pub type AgentId = u32;
pub type HumanId = u32;
pub type IntentId = u32;
/// An index into [`Plan::source_map`].
pub type SrcId = u32;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub format: u32,
    /// Hex SHA-256 of the plan's meaning (see [`plan_hash`]). A runtime loading the plan
    /// recomputes it and refuses the plan when they differ; empty: computed on loading.
    pub plan_hash: String,
    /// Every capability, groups included, sorted by name.
    pub capabilities: Vec<Capability>,
    /// Every data class, sorted by (package-qualified) name.
    pub data_classes: Vec<DataClass>,
    /// The request context schema: a record type.
    pub context: Type,
    pub agents: Vec<Agent>,
    pub humans: Vec<Human>,
    pub intents: Vec<Intent>,
    /// Policy rules, sorted by policy name, then in source order.
    pub rules: Vec<Rule>,
    pub reviews: Vec<Review>,
    pub limits: Limits,
    /// The built-in classifier's calibration and the mesh's confidence floor
    /// (docs/classifier.md). Part of the plan's meaning, so of `plan_hash`.
    #[serde(default)]
    pub classifier: ClassifierParams,
    /// The generated Cedar schema, policies and entities (docs/concepts.md, "Policies, with Cedar's meaning").
    pub cedar: CedarPart,
    /// `file:line:col` of arms, rules, steps and declarations.
    pub source_map: Vec<SourceLoc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capability {
    pub name: String,
    /// The enclosing group (`invoices` for `invoices.read`).
    pub parent: Option<CapId>,
    /// True for a capability no declaration names directly (a group implied by a prefix).
    pub group_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataClass {
    pub name: String,
    pub parent: Option<DataId>,
    /// This class and every class below it, sorted: what `touches` and clearance match.
    pub covers: Vec<DataId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    pub name: String,
    /// Every capability the agent covers: each provided one and everything below it, sorted.
    pub provides: Vec<CapId>,
    /// Every data class the agent is cleared for, expanded downwards, sorted.
    pub cleared: Vec<DataId>,
    /// 0..1; 0 when not given.
    pub trust: f64,
    /// 0 when not given.
    pub cost: f64,
    /// "" when not given.
    pub region: String,
    /// "" when not given.
    pub zone: String,
    pub endpoint: Option<String>,
    /// The protocol spoken at `endpoint` (`endpoint mcp "URL"`); none for the sidecar's own
    /// contract, where the endpoint is only returned in decisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// Ordered backups.
    pub backups: Vec<AgentId>,
    pub labels: BTreeMap<String, Value>,
    pub src: SrcId,
}

/// What an agent speaks at its endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// A Model Context Protocol server (Streamable HTTP): `intent mcp` forwards tool calls to it.
    Mcp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Human {
    pub name: String,
    pub channel: Option<String>,
    pub sla_ms: Option<u64>,
    pub src: SrcId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    pub name: String,
    pub description: Option<String>,
    /// Utterances for the built-in classifier.
    pub examples: Vec<String>,
    pub requires: Vec<CapId>,
    pub handles: Vec<DataId>,
    pub delegates: Vec<IntentId>,
    /// The schema of the intent's `input`, if declared (a record type).
    pub input: Option<Type>,
    /// The MCP tool whose calls ask for this intent (`tool "name"`): its arguments are the
    /// request's context, typed by `input` (docs/mcp.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The schema of the intent's result (`output`), whose fields may be marked with the data
    /// class they hold: what `redact` removes from an MCP tool's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Type>,
    pub route: Route,
    pub src: SrcId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Ordered; the first arm whose condition holds wins. `None` is `otherwise`.
    pub arms: Vec<Arm>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arm {
    pub when: Option<Expr>,
    pub action: Action,
    pub src: SrcId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum Action {
    /// One agent serves the intent: a plan of exactly one step.
    Dispatch {
        step: Step,
    },
    Plan {
        steps: Vec<Step>,
    },
    Escalate {
        humans: Vec<HumanId>,
        because: Option<String>,
    },
    Clarify {
        question: String,
    },
    Deny {
        because: Option<String>,
    },
    /// Review arms only.
    Pass,
    /// Review arms only: the data classes to redact.
    Redact {
        data: Vec<DataId>,
    },
}

impl Action {
    /// The steps the arm serves: one for `dispatch`, a plan's steps, none for the others.
    pub fn steps(&self) -> &[Step] {
        match self {
            Action::Dispatch { step } => std::slice::from_ref(step),
            Action::Plan { steps } => steps,
            // Every variant named: a new action must say whether it serves steps.
            Action::Escalate { .. }
            | Action::Clarify { .. }
            | Action::Deny { .. }
            | Action::Pass
            | Action::Redact { .. } => &[],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Target {
    Agent(AgentId),
    /// `any CAPABILITY`: the best permitted, healthy agent that provides it.
    Any(CapId),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The step's name (`dispatch` for a dispatch).
    pub name: String,
    pub target: Target,
    /// Tried in order after the target; then each tried agent's own backups.
    pub fallbacks: Vec<Target>,
    /// Indexes of the steps (in this plan) that must finish first.
    pub after: Vec<u32>,
    /// The capabilities the step needs; each is authorized separately.
    pub needs: Vec<CapId>,
    /// The data classes the step handles.
    pub handles: Vec<DataId>,
    pub src: SrcId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    Forbid,
    Permit,
    Escalate,
    RequireAudit,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// `policy_name#index` (index counts from 0 within the policy); also the Cedar policy id.
    pub id: String,
    pub policy: String,
    pub kind: RuleKind,
    /// `None`: always (only a `forbid` may omit `when`).
    pub when: Option<Expr>,
    /// Forbid only.
    pub unless: Option<Expr>,
    /// Escalate only.
    pub humans: Vec<HumanId>,
    pub because: Option<String>,
    pub src: SrcId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// `None` for `review any`.
    pub agent: Option<AgentId>,
    pub arms: Vec<Arm>,
    pub src: SrcId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub delegation_depth: Option<u32>,
    pub rates: Vec<RateLimit>,
    pub breakers: Vec<Breaker>,
}

/// The built-in classifier's parameters: fitted by the compiler (leave-one-out over the
/// examples), read by the runtime; nothing is fitted at run time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ClassifierParams {
    /// The calibration's logistic weights, one per feature (docs/classifier.md); empty: the
    /// runtime's prior.
    #[serde(default)]
    pub weights: Vec<f64>,
    /// The content coverage (share of a text's content words the mesh knows) that 90% of the
    /// mesh's own examples reach when left out; reported by `intent classify --report`, not
    /// used to decide; `None`: the runtime's default.
    #[serde(default)]
    pub coverage: Option<f64>,
    /// `limits { confidence floor F }`: a text whose best intent has a confidence below `F` is
    /// denied as matching no intent.
    #[serde(default)]
    pub floor: Option<f64>,
}

/// What a limit applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum LimitTarget {
    /// Every agent and human, each counted on its own.
    Any,
    Agent(AgentId),
    Human(HumanId),
    /// The requests served (dispatched or planned) for an intent: a tool's calls.
    Intent(IntentId),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub target: LimitTarget,
    pub count: u64,
    pub per_ms: u64,
    /// For an intent: counted for each calling agent on its own (`per caller`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub per_caller: bool,
    pub src: SrcId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Breaker {
    pub target: LimitTarget,
    pub failures: u64,
    pub cooldown_ms: u64,
    pub src: SrcId,
}

/// A type of the context schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Type {
    Bool,
    Number,
    String,
    Duration,
    /// A string restricted to these values (sorted).
    Enum {
        values: Vec<String>,
    },
    Set {
        of: Box<Type>,
    },
    List {
        of: Box<Type>,
    },
    Record {
        fields: Vec<Field>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    pub optional: bool,
    #[serde(rename = "of")]
    pub ty: Type,
    /// The data class the field holds (`email: string (pii)`, in an `output` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataId>,
    /// A context field filled from this claim of the verified bearer token (`tier: string =
    /// claim "tier"`, docs/identity.md); left out of the JSON when `None`, so plans without
    /// claims hash as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CedarPart {
    /// Cedar schema, in Cedar's schema syntax.
    pub schema: String,
    /// Cedar policies; each carries `@id("rule id")`.
    pub policies: String,
    /// Agents and data classes as Cedar entities (Cedar's entities JSON).
    pub entities: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceLoc {
    /// The file's path, shared by every location in that file: a mesh of thousands of lines
    /// has thousands of locations, and a string each was most of what building and freeing
    /// a plan allocated.
    pub file: std::sync::Arc<str>,
    pub line: u32,
    pub col: u32,
}

impl std::fmt::Display for SourceLoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

impl Plan {
    /// The JSON that `plan_hash` is computed over: the plan without its hash, its source map
    /// and its Cedar text (which carries source locations and is derived from the rest).
    pub fn meaning(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(obj) = v.as_object_mut() {
            obj.remove("plan_hash");
            obj.remove("source_map");
            obj.remove("cedar");
        }
        v
    }

    pub fn source(&self, src: SrcId) -> Option<&SourceLoc> {
        self.source_map.get(src as usize)
    }

    /// Writes the source map's files relative to the mesh: the directory they all share is cut
    /// off (`/srv/meshes/finance/pay.intent` → `pay.intent`), so a trace in an answer points at
    /// the arm without telling the caller where the plan lives on the server. `plan_hash` does
    /// not cover the source map, so the hash does not change.
    pub fn relative_sources(&mut self) {
        relative_files(&mut self.source_map);
    }
}

/// Cuts the directory that all `locs` share off their files.
fn relative_files(locs: &mut [SourceLoc]) {
    let mut shared: Option<&str> = None;
    for s in locs.iter() {
        let dir = s
            .file
            .rfind('/')
            .and_then(|i| s.file.get(..=i))
            .unwrap_or("");
        shared = Some(match shared {
            None => dir,
            Some(p) => {
                // The longest run of whole directories both start with.
                let len: usize = p
                    .split_inclusive('/')
                    .zip(dir.split_inclusive('/'))
                    .take_while(|(a, b)| a == b)
                    .map(|(a, _)| a.len())
                    .sum();
                p.get(..len).unwrap_or("")
            }
        });
    }
    let cut = shared.map_or(0, str::len);
    if cut == 0 {
        return;
    }
    // Locations in one file share its path: they share the shortened one too.
    let mut done: std::collections::HashMap<std::sync::Arc<str>, std::sync::Arc<str>> =
        std::collections::HashMap::new();
    for s in locs.iter_mut() {
        if let Some(short) = done.get(&s.file) {
            s.file = short.clone();
        } else if let Some(rest) = s.file.get(cut..) {
            let short: std::sync::Arc<str> = rest.into();
            done.insert(std::mem::replace(&mut s.file, short.clone()), short);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> Vec<String> {
        let mut locs: Vec<SourceLoc> = names
            .iter()
            .map(|f| SourceLoc {
                file: (*f).into(),
                line: 1,
                col: 1,
            })
            .collect();
        relative_files(&mut locs);
        locs.into_iter().map(|l| l.file.to_string()).collect()
    }

    #[test]
    fn source_files_lose_the_directory_they_share() {
        assert_eq!(
            files(&["/srv/m/a.intent", "/srv/m/a.intent"]),
            ["a.intent", "a.intent"]
        );
        assert_eq!(
            files(&[
                "/srv/m/a.intent",
                "/srv/m/sub/b.intent",
                "/srv/m/sub/b.intent"
            ]),
            ["a.intent", "sub/b.intent", "sub/b.intent"]
        );
        // Whole directories only: `/srv/ma` and `/srv/mb` share `/srv/`.
        assert_eq!(
            files(&["/srv/ma/a.intent", "/srv/mb/b.intent"]),
            ["ma/a.intent", "mb/b.intent"]
        );
        assert_eq!(
            files(&["a.intent", "d/b.intent"]),
            ["a.intent", "d/b.intent"]
        );
        assert_eq!(files(&["/é/ü/a.intent"]), ["a.intent"]);
        assert!(files(&[]).is_empty());
    }
}
