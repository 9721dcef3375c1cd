//! The Cedar part of a plan, end to end through cedar-policy: generated text (snapshots and the
//! shapes that matter), Cedar's strict validator accepting a realistic plan and rejecting a broken
//! rule at the rule's source, and Cedar's authorizer answering as docs/concepts.md says.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "cedar/plan.rs"]
mod plan;

use intent_compiler::cedar::{authorize, generate, validate};
use intent_runtime::plan::{CmpOp, Expr, Plan, RuleKind, Type, Value};
use plan::*;
use serde_json::json;

#[test]
fn generated_text_matches_snapshots() {
    let part = generate(&realistic_plan());
    insta::assert_snapshot!("schema", part.schema);
    insta::assert_snapshot!("policies", part.policies);
    insta::assert_json_snapshot!("entities", part.entities);
}

#[test]
fn forbid_with_data_touches_becomes_a_cedar_forbid() {
    let part = generate(&realistic_plan());
    let expected = r#"@id("residency#0")
@source("acme/finance.intent:16:3")
forbid (principal, action, resource)
when { context.data.containsAny([DataClass::"acme.eu_personal", DataClass::"std.data.pii"]) && context.subject.residency == "EU" && !["eu-west-1", "eu-central-1"].contains(principal.region) };"#;
    assert!(part.policies.contains(expected), "{}", part.policies);
}

#[test]
fn optional_fields_and_labels_are_guarded() {
    let part = generate(&realistic_plan());
    // An optional number: guarded, compared as a decimal.
    assert!(part
        .policies
        .contains(r#"(context has amount && context.amount.greaterThan(decimal("10000.0000")))"#));
    // An optional duration under `not`: guarded inside the negation, compared as a Long.
    assert!(part
        .policies
        .contains("!(context has timeout && context.timeout < 60000)"));
    // Labels are optional attributes.
    assert!(part
        .policies
        .contains("(principal.labels has vetted && principal.labels.vetted == true)"));
    assert!(part.policies.contains(
        r#"(principal.labels has weight && principal.labels.weight.greaterThan(decimal("100.0000")))"#
    ));
    // `has` itself needs no guard.
    assert!(part.policies.contains("&& context has amount };"));
}

#[test]
fn permits_for_agents_and_rules() {
    let part = generate(&realistic_plan());
    let agent_permit = r#"@id("agent:finance_agent")
@source("acme/finance.intent:10:3")
permit (
  principal == Agent::"finance_agent",
  action in [Action::"invoices.read", Action::"invoices.summarize"],
  resource
)
when { principal.cleared.containsAll(context.data) };"#;
    assert!(part.policies.contains(agent_permit), "{}", part.policies);
    let rule_permit = r#"@id("vetted#0")
@source("acme/finance.intent:19:3")
permit (principal, action, resource)
when { (principal.labels has vetted && principal.labels.vetted == true) && principal.trust.greaterThanOrEqual(decimal("0.7000")) && (context.confidence.greaterThanOrEqual(decimal("0.9000")) || context.tags.contains("override")) };"#;
    assert!(part.policies.contains(rule_permit), "{}", part.policies);
    // Escalate and audit rules are not Cedar policies.
    assert!(!part.policies.contains("confidence_floor"));
    assert!(!part.policies.contains("audit#0"));
}

#[test]
fn realistic_plan_passes_cedar_validation() {
    let plan = realistic_plan();
    let part = generate(&plan);
    assert_eq!(validate(&plan, &part), vec![]);
}

#[test]
fn unknown_context_field_is_reported_at_the_rule() {
    let mut plan = realistic_plan();
    plan.rules.push(rule(
        "broken#0",
        RuleKind::Forbid,
        Some(cmp(CmpOp::Eq, fld(&["nope"]), lit(text("x")))),
        None,
        5,
    ));
    let part = generate(&plan);
    let problems = validate(&plan, &part);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].src, Some(5));
    assert!(
        problems[0].message.contains("broken#0"),
        "{}",
        problems[0].message
    );
    assert!(
        problems[0].message.contains("nope"),
        "{}",
        problems[0].message
    );
}

#[test]
fn response_operands_are_reported_and_never_match() {
    let mut plan = realistic_plan();
    plan.rules.push(rule(
        "late#0",
        RuleKind::Forbid,
        Some(cmp(
            CmpOp::Lt,
            Box::new(Expr::ResponseConfidence),
            lit(Value::Number(0.5)),
        )),
        None,
        5,
    ));
    let part = generate(&plan);
    assert!(
        part.policies
            .contains(r#"when { false < decimal("0.5000") }"#),
        "{}",
        part.policies
    );
    let problems = validate(&plan, &part);
    assert!(
        problems
            .iter()
            .any(|p| p.src == Some(5) && p.message.contains("response")),
        "{problems:#?}"
    );
}

#[test]
fn label_types_that_disagree_are_reported_at_the_agent() {
    let mut plan = realistic_plan();
    plan.agents[DOC_PARSER as usize]
        .labels
        .insert("weight".to_string(), text("heavy"));
    let part = generate(&plan);
    let problems = validate(&plan, &part);
    assert!(
        problems
            .iter()
            .any(|p| p.src == Some(1) && p.message.contains("label `weight`")),
        "{problems:#?}"
    );
}

#[test]
fn malformed_schema_and_entities_belong_to_no_rule() {
    let plan = realistic_plan();
    let mut part = generate(&plan);
    part.entities =
        json!([{ "uid": { "type": "Agent", "id": "ghost" }, "attrs": {}, "parents": [] }]);
    let problems = validate(&plan, &part);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].src, None);
    assert!(problems[0].message.starts_with("cedar entities:"));

    part.schema.push_str("entity ;");
    let problems = validate(&plan, &part);
    assert!(problems
        .iter()
        .any(|p| p.src.is_none() && p.message.starts_with("cedar schema:")));
}

#[test]
fn policy_syntax_errors_are_reported_at_the_rule() {
    let plan = realistic_plan();
    let mut part = generate(&plan);
    part.policies = part.policies.replace(
        "context.subject.residency == \"EU\"",
        "context.subject.residency == == \"EU\"",
    );
    let problems = validate(&plan, &part);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].src, Some(6));
}

/// `authorize` with the plan's own part.
fn ask(
    plan: &Plan,
    agent: u32,
    cap: u32,
    intent: u32,
    confidence: f64,
    data: &[u32],
    context: serde_json::Value,
) -> Result<bool, String> {
    let part = generate(plan);
    authorize(
        plan, &part, agent, cap, intent, confidence, 0, data, &context,
    )
}

#[test]
fn agents_are_permitted_what_they_provide_and_are_cleared_for() {
    let plan = realistic_plan();
    let us = context("US", "analyst", "web");
    assert_eq!(
        ask(
            &plan,
            FINANCE_AGENT,
            INVOICES_READ,
            SUMMARIZE,
            0.95,
            &[FINANCIAL],
            us.clone()
        ),
        Ok(true)
    );
    // The group action covers its members.
    assert_eq!(
        ask(
            &plan,
            DOC_PARSER,
            DOCUMENTS_PARSE,
            SUMMARIZE,
            0.95,
            &[PII],
            us.clone()
        ),
        Ok(true)
    );
    // Not provided.
    assert_eq!(
        ask(
            &plan,
            DOC_PARSER,
            INVOICES_READ,
            SUMMARIZE,
            0.95,
            &[],
            us.clone()
        ),
        Ok(false)
    );
    // Clearance expands downwards: pii covers eu_personal.
    assert_eq!(
        ask(
            &plan,
            DOC_PARSER,
            DOCUMENTS_PARSE,
            SUMMARIZE,
            0.95,
            &[EU_PERSONAL],
            us
        ),
        Ok(true)
    );
}

#[test]
fn forbid_wins_over_the_agent_permit() {
    let plan = realistic_plan();
    // GDPR residency: a US parser may not see EU personal data.
    let eu = context("EU", "analyst", "web");
    assert_eq!(
        ask(
            &plan,
            DOC_PARSER,
            DOCUMENTS_PARSE,
            SUMMARIZE,
            0.95,
            &[PII],
            eu.clone()
        ),
        Ok(false)
    );
    assert_eq!(
        ask(
            &plan,
            DOC_PARSER,
            DOCUMENTS_PARSE,
            SUMMARIZE,
            0.95,
            &[],
            eu.clone()
        ),
        Ok(true)
    );
    assert_eq!(
        ask(
            &plan,
            FINANCE_AGENT,
            INVOICES_READ,
            SUMMARIZE,
            0.95,
            &[PII],
            eu
        ),
        Ok(true)
    );
    // The limit applies to fetch_ledger only, and not to auditors.
    let mut big = context("US", "analyst", "web");
    big["amount"] = json!(20000);
    assert_eq!(
        ask(
            &plan,
            FINANCE_AGENT,
            INVOICES_READ,
            FETCH_LEDGER,
            0.95,
            &[],
            big.clone()
        ),
        Ok(false)
    );
    assert_eq!(
        ask(
            &plan,
            FINANCE_AGENT,
            INVOICES_READ,
            SUMMARIZE,
            0.95,
            &[],
            big.clone()
        ),
        Ok(true)
    );
    big["subject"]["role"] = json!("auditor");
    assert_eq!(
        ask(
            &plan,
            FINANCE_AGENT,
            INVOICES_READ,
            FETCH_LEDGER,
            0.95,
            &[],
            big
        ),
        Ok(true)
    );
}

#[test]
fn a_permit_rule_grants_what_clearance_does_not_but_a_forbid_still_wins() {
    let plan = realistic_plan();
    let us = context("US", "analyst", "web");
    // risk_assessor is not cleared for pii: denied at low confidence, granted by `vetted` at high.
    assert_eq!(
        ask(
            &plan,
            RISK_ASSESSOR,
            INVOICES_READ,
            SUMMARIZE,
            0.5,
            &[PII],
            us.clone()
        ),
        Ok(false)
    );
    assert_eq!(
        ask(
            &plan,
            RISK_ASSESSOR,
            INVOICES_READ,
            SUMMARIZE,
            0.95,
            &[PII],
            us.clone()
        ),
        Ok(true)
    );
    let mut tagged = us.clone();
    tagged["tags"] = json!(["override"]);
    assert_eq!(
        ask(
            &plan,
            RISK_ASSESSOR,
            INVOICES_READ,
            SUMMARIZE,
            0.5,
            &[PII],
            tagged
        ),
        Ok(true)
    );
    // doc_parser has no `vetted` label: the guarded permit does not apply, and no error.
    assert_eq!(
        ask(
            &plan,
            DOC_PARSER,
            INVOICES_READ,
            SUMMARIZE,
            0.95,
            &[PII],
            us.clone()
        ),
        Ok(false)
    );
    // The limit forbids even what the permit rule grants.
    let mut big = us;
    big["amount"] = json!(20000.5);
    assert_eq!(
        ask(
            &plan,
            RISK_ASSESSOR,
            INVOICES_READ,
            FETCH_LEDGER,
            0.95,
            &[PII],
            big
        ),
        Ok(false)
    );
}

#[test]
fn absent_optional_fields_compare_false() {
    let plan = realistic_plan();
    // No `amount`: `amount > 10000` is false, so the limit does not forbid.
    let us = context("US", "analyst", "web");
    assert_eq!(
        ask(
            &plan,
            FINANCE_AGENT,
            INVOICES_READ,
            FETCH_LEDGER,
            0.95,
            &[],
            us
        ),
        Ok(true)
    );
    // No `timeout`: `timeout < 1m` is false, so `not (...)` is true and batch work is forbidden.
    let batch = context("US", "analyst", "batch");
    assert_eq!(
        ask(
            &plan,
            FINANCE_AGENT,
            INVOICES_READ,
            SUMMARIZE,
            0.95,
            &[],
            batch.clone()
        ),
        Ok(false)
    );
    let mut quick = batch;
    quick["timeout"] = json!(30000);
    assert_eq!(
        ask(
            &plan,
            FINANCE_AGENT,
            INVOICES_READ,
            SUMMARIZE,
            0.95,
            &[],
            quick
        ),
        Ok(true)
    );
}

#[test]
fn bad_requests_are_errors_not_answers() {
    let plan = realistic_plan();
    let mut wrong = context("US", "analyst", "web");
    wrong["amount"] = json!("lots");
    assert!(ask(
        &plan,
        FINANCE_AGENT,
        INVOICES_READ,
        SUMMARIZE,
        0.95,
        &[],
        wrong
    )
    .is_err());
    let missing = json!({ "channel": "web", "tags": [] });
    assert!(ask(
        &plan,
        FINANCE_AGENT,
        INVOICES_READ,
        SUMMARIZE,
        0.95,
        &[],
        missing
    )
    .is_err());
    let us = context("US", "analyst", "web");
    assert!(ask(&plan, 99, INVOICES_READ, SUMMARIZE, 0.95, &[], us).is_err());
}

/// Names Cedar reserves, nested optional records, sets of durations, empty lists, bare optional
/// booleans and odd label keys: the text is still valid Cedar and means what Intent says.
#[test]
fn awkward_names_and_shapes_still_validate() {
    let mut plan = realistic_plan();
    if let Type::Record { fields } = &mut plan.context {
        fields.push(field(
            "if",
            true,
            Type::Record {
                fields: vec![field("then", true, Type::Number)],
            },
        ));
        fields.push(field(
            "waits",
            false,
            Type::List {
                of: Box::new(Type::Duration),
            },
        ));
        fields.push(field("flag", true, Type::Bool));
    }
    plan.agents[FINANCE_AGENT as usize]
        .labels
        .insert("x-y".to_string(), text("a"));
    let when = Expr::Or {
        any: vec![
            cmp(CmpOp::Gt, fld(&["if", "then"]), lit(Value::Number(5.0))),
            Expr::In {
                item: lit(Value::Number(500.0)),
                set: fld(&["waits"]),
                negated: false,
            },
            Expr::In {
                item: Box::new(Expr::AgentName),
                set: lit(Value::List(vec![])),
                negated: false,
            },
            cmp(
                CmpOp::Eq,
                Box::new(Expr::AgentLabel {
                    key: "x-y".to_string(),
                }),
                lit(text("a")),
            ),
            cmp(CmpOp::Ge, Box::new(Expr::Depth), lit(Value::Number(3.0))),
            Expr::Field {
                path: path(&["flag"]),
            },
        ],
    };
    let unless = Expr::Or {
        any: vec![
            Expr::Has {
                path: path(&["if", "then"]),
            },
            Expr::AgentProvides { cap: INVOICES },
            Expr::In {
                item: fld(&["amount"]),
                set: lit(Value::List(vec![])),
                negated: true,
            },
        ],
    };
    plan.rules
        .push(rule("odd#0", RuleKind::Forbid, Some(when), Some(unless), 5));
    let part = generate(&plan);
    let odd = part
        .policies
        .split("\n\n")
        .find(|p| p.contains("odd#0"))
        .unwrap();
    insta::assert_snapshot!("odd_policy", odd);
    assert_eq!(validate(&plan, &part), vec![]);

    let ctx = |extra: serde_json::Value| {
        let mut c = context("US", "analyst", "web");
        c["waits"] = json!([]);
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let doc = |c| {
        authorize(
            &plan,
            &part,
            DOC_PARSER,
            DOCUMENTS_PARSE,
            SUMMARIZE,
            0.95,
            0,
            &[],
            &c,
        )
    };
    assert_eq!(doc(ctx(json!({}))), Ok(true));
    assert_eq!(doc(ctx(json!({ "flag": true }))), Ok(false));
    assert_eq!(doc(ctx(json!({ "flag": false }))), Ok(true));
    assert_eq!(doc(ctx(json!({ "waits": [250, 500] }))), Ok(false));
    assert_eq!(doc(ctx(json!({ "if": {} }))), Ok(true));
    // `if.then` present: `if.then > 5` holds, but `has if.then` is the exception.
    assert_eq!(doc(ctx(json!({ "if": { "then": 9 } }))), Ok(true));
    // `amount not in []` is true once amount is present: that is an exception too.
    assert_eq!(doc(ctx(json!({ "flag": true, "amount": 1 }))), Ok(true));
    // Depth 3 is forbidden.
    let deep = authorize(
        &plan,
        &part,
        DOC_PARSER,
        DOCUMENTS_PARSE,
        SUMMARIZE,
        0.95,
        3,
        &[],
        &ctx(json!({})),
    );
    assert_eq!(deep, Ok(false));
    // The label is finance_agent's, and finance_agent provides no group, so it is forbidden.
    let fin = authorize(
        &plan,
        &part,
        FINANCE_AGENT,
        INVOICES_READ,
        SUMMARIZE,
        0.95,
        0,
        &[],
        &ctx(json!({})),
    );
    assert_eq!(fin, Ok(false));
}
