//! Conditions in a plan: small typed expression trees with every name already resolved.
//!
//! Operands name what they read (`Confidence`, `AgentTrust`, a context path, ...) instead of
//! carrying strings to look up; data-class and capability tests carry pre-expanded id sets.
//! The `Caller*` operands are new variants, so plans that do not read the caller serialize (and
//! hash) exactly as before.

use super::{CapId, DataId, IntentId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A literal value (also the value of a context field at run time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Value>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "op")]
pub enum Expr {
    /// A literal. Durations are numbers of milliseconds.
    Lit {
        value: Value,
    },
    /// The classifier's (or the request's) confidence, 0..1.
    Confidence,
    /// The delegation depth: the length of the caller's lineage.
    Depth,
    /// The request's intent, compared with [`Expr::IntentIs`].
    IntentIs {
        intent: IntentId,
    },
    /// A context field, by path (`["subject", "role"]`).
    Field {
        path: Vec<String>,
    },
    /// True when the optional context field at `path` is present.
    Has {
        path: Vec<String>,
    },
    AgentTrust,
    AgentCost,
    AgentRegion,
    AgentZone,
    AgentName,
    AgentLabel {
        key: String,
    },
    /// The agent covers this capability.
    AgentProvides {
        cap: CapId,
    },
    /// The verified calling agent (`caller.name`, ...): read from the plan's agent that the
    /// request's `caller.agent` names; absent for an anonymous caller or one not in the plan.
    CallerName,
    CallerTrust,
    CallerRegion,
    CallerZone,
    CallerLabel {
        key: String,
    },
    /// The caller covers this capability (absent without a caller of the plan).
    CallerProvides {
        cap: CapId,
    },
    /// `has caller`: the request's caller is an agent of the plan.
    HasCaller,
    /// Some data class of the step is in `any` (a pre-expanded class and its descendants).
    DataTouches {
        any: Vec<DataId>,
    },
    ResponseConfidence,
    /// Some data class of the response is in `any`.
    ResponseDataTouches {
        any: Vec<DataId>,
    },
    Not {
        e: Box<Expr>,
    },
    And {
        all: Vec<Expr>,
    },
    Or {
        any: Vec<Expr>,
    },
    Cmp {
        cmp: CmpOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `item in set` (`negated`: `not in`); `set` evaluates to a list value.
    In {
        item: Box<Expr>,
        set: Box<Expr>,
        negated: bool,
    },
}
