//! The Cedar part of a routing plan: a Cedar schema, Cedar policies and Cedar entities generated
//! from the plan, checked with cedar-policy's own validator, and an authorization oracle that asks
//! cedar-policy itself (docs/concepts.md, "Policies, with Cedar's meaning").
//!
//! The runtime never evaluates this text on its hot path; it evaluates the plan's indexed rules.
//! Cedar is the oracle those rules must agree with, so the encoding below is the *meaning* of
//! `forbid`/`permit` rules, written down once:
//!
//! - **Entities.** `Agent::"name"` with attributes `name: String`, `trust: decimal`,
//!   `cost: decimal`, `region: String`, `zone: String`, `labels: { key?: T, .. }` (every label
//!   key used by any agent, all optional; a string label stays `String`, a number becomes
//!   `decimal`, a bool stays `Bool`, a list becomes a `Set`), `cleared: Set<DataClass>` (the
//!   plan's pre-expanded clearance) and `provides: Set<String>` (the pre-expanded capability
//!   names). `DataClass::"name" in [DataClass]`, whose parent is the class's parent in the plan.
//!   `Intent::"name"`, without attributes. Ids are the plan's names, quoted, so dots are fine.
//! - **Actions.** One action per capability, groups included, named by the capability
//!   (`Action::"invoices.read"`) and member of its group's action (`in ["invoices"]`). Every action
//!   `appliesTo { principal: Agent, resource: Intent, context: Context }`.
//! - **Context.** `type Context = { confidence: decimal, depth: decimal, data: Set<DataClass>,
//!   <the plan's context fields> }`, where `bool` → `Bool`, `number` → `decimal`, `string` and
//!   enums → `String`, `duration` → `Long` (milliseconds), `set<T>`/`list<T>` → `Set<T>`, records
//!   → records, and optional fields stay optional. `data` holds the step's data classes. A plan
//!   with a condition on the caller also has `caller?: Agent`: the request's verified caller as
//!   an entity reference, absent for an anonymous caller, so `caller.trust` is
//!   `context.caller.trust` and every read of it is guarded with `context has caller`.
//! - **Numbers** are `decimal("…")` with four fraction digits, rounded half away from zero from
//!   the number's shortest decimal form. Ordering uses `.lessThan` and friends; `==`/`!=` compare
//!   decimal values. A number compared with a `duration` field is written as a `Long` instead.
//! - **Policies.** Each carries `@id("…")` and `@source("file:line:col")`. Per agent that provides
//!   anything, `agent:<name>`: `permit(principal == Agent::"a", action in [<its provides>],
//!   resource) when { principal.cleared.containsAll(context.data) };`. Each `forbid` rule becomes
//!   `forbid(principal, action, resource) when {…} unless {…};` and each `permit` rule
//!   `permit(principal, action, resource) when {…};`, with the rule's id. `escalate` and
//!   `require audit` rules are not authorization and stay out of Cedar.
//! - **Absent optional fields.** Intent says a comparison that reads an absent optional field is
//!   false; Cedar would raise an error instead. So every comparison, `in`, or bare boolean read
//!   of an optional context field (at any level of its path) or of an agent label is guarded:
//!   `(context has amount && context.amount.greaterThan(decimal("5.0000")))`. `not (amount > 5)`
//!   is therefore true when `amount` is absent, and `amount not in S` is false.
//!
//! `validate` attributes Cedar's complaints about a policy to the rule (or agent) it came from,
//! through the policy's `@id`; problems with the schema or the entities belong to no rule.

mod check;
mod condition;
mod entities;
mod policies;
mod schema;

use intent_runtime::plan::{CedarPart, Plan, SrcId};
use std::fmt::Write as _;

pub use check::{authorize, validate, Oracle};
use intent_runtime::cedar::{decimal_json, decimal_text};

/// A problem Cedar found in the generated part, attributed to a plan source location when the
/// policy came from a rule (`src` is the rule's `src`, or the agent's for an `agent:` permit) or
/// to nothing (schema, entities).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CedarProblem {
    pub src: Option<SrcId>,
    pub message: String,
}

/// Cedar text for a plan whose `cedar` field is still empty.
pub fn generate(plan: &Plan) -> CedarPart {
    CedarPart {
        schema: schema::render(plan),
        policies: policies::render(plan).text,
        entities: entities::render(plan),
    }
}

/// A Cedar string literal (also used for entity ids, annotations and schema names).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `Type::"id"`, the id quoted.
fn entity_ref(ty: &str, id: &str) -> String {
    format!("{ty}::{}", quote(id))
}

/// Words Cedar's expression grammar does not take as attribute names after `.` or `has` (the
/// reserved words, and the request variables for good measure).
const EXPR_RESERVED: &[&str] = &[
    "true",
    "false",
    "if",
    "then",
    "else",
    "in",
    "is",
    "like",
    "has",
    "__cedar",
    "principal",
    "action",
    "resource",
    "context",
];

/// The schema grammar's keywords and type names, quoted as record keys to be safe.
const SCHEMA_RESERVED: &[&str] = &[
    "entity",
    "action",
    "type",
    "namespace",
    "appliesTo",
    "principal",
    "resource",
    "context",
    "tags",
    "enum",
    "in",
    "Bool",
    "Boolean",
    "Long",
    "String",
    "Set",
    "Record",
    "Entity",
    "Extension",
];

/// True when `s` is an identifier (`[A-Za-z_][A-Za-z0-9_]*`) not in `reserved`.
fn is_plain_name(s: &str, reserved: &[&str]) -> bool {
    let mut chars = s.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    starts_well && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && !reserved.contains(&s)
}

/// An attribute name as a schema record key: bare when possible, else quoted.
fn schema_attr_name(s: &str) -> String {
    if is_plain_name(s, SCHEMA_RESERVED) && !EXPR_RESERVED.contains(&s) {
        s.to_string()
    } else {
        quote(s)
    }
}

/// An attribute name as the operand of `has`: bare when possible, else quoted.
fn has_attr_name(s: &str) -> String {
    if is_plain_name(s, EXPR_RESERVED) {
        s.to_string()
    } else {
        quote(s)
    }
}

/// `base.name`, or `base["name"]` when the name cannot be written bare.
fn attr_access(base: &str, name: &str) -> String {
    if is_plain_name(name, EXPR_RESERVED) {
        format!("{base}.{name}")
    } else {
        format!("{base}[{}]", quote(name))
    }
}

/// `decimal("…")` for `x`.
fn decimal_literal(x: f64) -> String {
    format!("decimal(\"{}\")", decimal_text(x))
}

/// A whole number of milliseconds as a Cedar `Long` (rounded half away from zero, saturating).
fn long_text(x: f64) -> String {
    // `as` saturates and maps NaN to 0; a duration is never NaN after checking.
    format!("{}", x.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_text_rounds_half_away_from_zero() {
        assert_eq!(decimal_text(0.92), "0.9200");
        assert_eq!(decimal_text(10000.0), "10000.0000");
        assert_eq!(decimal_text(0.00005), "0.0001");
        assert_eq!(decimal_text(0.00004), "0.0000");
        assert_eq!(decimal_text(-0.00005), "-0.0001");
        assert_eq!(decimal_text(-0.00001), "0.0000");
        assert_eq!(decimal_text(9.99995), "10.0000");
        assert_eq!(decimal_text(0.123449), "0.1234");
        assert_eq!(decimal_text(1e20), "100000000000000000000.0000");
        assert_eq!(decimal_text(f64::NAN), "NaN");
    }

    #[test]
    fn names_are_quoted_only_when_needed() {
        assert_eq!(quote("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(attr_access("context", "amount"), "context.amount");
        assert_eq!(attr_access("context", "if"), r#"context["if"]"#);
        assert_eq!(
            attr_access("principal.labels", "x-y"),
            r#"principal.labels["x-y"]"#
        );
        assert_eq!(attr_access("context", "tags"), "context.tags");
        assert_eq!(has_attr_name("tags"), "tags");
        assert_eq!(has_attr_name("context"), r#""context""#);
        assert_eq!(schema_attr_name("tier"), "tier");
        assert_eq!(schema_attr_name("tags"), r#""tags""#);
        assert_eq!(schema_attr_name("if"), r#""if""#);
        assert_eq!(entity_ref("Agent", "a.b"), r#"Agent::"a.b""#);
    }

    #[test]
    fn long_text_rounds() {
        assert_eq!(long_text(30000.0), "30000");
        assert_eq!(long_text(2.5), "3");
    }
}
