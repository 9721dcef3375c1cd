//! The Cedar part of a plan, end to end through cedar-policy: generated text (snapshots and the
//! shapes that matter), Cedar's strict validator accepting a realistic plan and rejecting a broken
//! rule at the rule's source, and Cedar's authorizer answering as docs/concepts.md says.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use intent_compiler::cedar::{authorize, generate, validate};
use intent_runtime::plan::{
    Agent, Capability, CedarPart, CmpOp, DataClass, Expr, Field, Intent, Limits, Plan, Route, Rule,
    RuleKind, SourceLoc, SrcId, Type, Value,
};
use serde_json::json;
use std::collections::BTreeMap;

// Capability ids (sorted by name, as in a plan).
const DOCUMENTS: u32 = 0;
const DOCUMENTS_PARSE: u32 = 1;
const INVOICES: u32 = 2;
const INVOICES_READ: u32 = 3;
const INVOICES_SUMMARIZE: u32 = 4;
// Data class ids.
const EU_PERSONAL: u32 = 0;
const FINANCIAL: u32 = 1;
const PII: u32 = 2;
// Agent ids.
const FINANCE_AGENT: u32 = 0;
const DOC_PARSER: u32 = 1;
const RISK_ASSESSOR: u32 = 2;
// Intent ids.
const FETCH_LEDGER: u32 = 0;
const SUMMARIZE: u32 = 1;

fn cap(name: &str, parent: Option<u32>) -> Capability {
    Capability {
        name: name.to_string(),
        parent,
        group_only: parent.is_none(),
    }
}

fn field(name: &str, optional: bool, ty: Type) -> Field {
    Field {
        name: name.to_string(),
        optional,
        ty,
        data: None,
        claim: None,
    }
}

fn enumeration(values: &[&str]) -> Type {
    Type::Enum {
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

#[allow(clippy::too_many_arguments)]
fn agent(
    name: &str,
    provides: &[u32],
    cleared: &[u32],
    trust: f64,
    region: &str,
    labels: &[(&str, Value)],
    src: SrcId,
) -> Agent {
    Agent {
        name: name.to_string(),
        provides: provides.to_vec(),
        cleared: cleared.to_vec(),
        trust,
        cost: 0.0,
        region: region.to_string(),
        zone: String::new(),
        endpoint: None,
        protocol: None,
        backups: vec![],
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
        src,
    }
}

fn intent(name: &str, src: SrcId) -> Intent {
    Intent {
        name: name.to_string(),
        description: None,
        examples: vec![],
        requires: vec![],
        handles: vec![],
        delegates: vec![],
        input: None,
        tool: None,
        output: None,
        route: Route { arms: vec![] },
        src,
    }
}

fn rule(id: &str, kind: RuleKind, when: Option<Expr>, unless: Option<Expr>, src: SrcId) -> Rule {
    Rule {
        id: id.to_string(),
        policy: id.split('#').next().unwrap_or(id).to_string(),
        kind,
        when,
        unless,
        humans: vec![],
        because: None,
        src,
    }
}

fn lit(value: Value) -> Box<Expr> {
    Box::new(Expr::Lit { value })
}

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

fn path(p: &[&str]) -> Vec<String> {
    p.iter().map(|s| s.to_string()).collect()
}

fn fld(p: &[&str]) -> Box<Expr> {
    Box::new(Expr::Field { path: path(p) })
}

fn cmp(cmp: CmpOp, lhs: Box<Expr>, rhs: Box<Expr>) -> Expr {
    Expr::Cmp { cmp, lhs, rhs }
}

/// GDPR residency: `data touches pii and subject.residency == "EU" and agent.region not in
/// eu_regions`.
fn residency_rule(src: SrcId) -> Rule {
    let when = Expr::And {
        all: vec![
            Expr::DataTouches {
                any: vec![EU_PERSONAL, PII],
            },
            cmp(CmpOp::Eq, fld(&["subject", "residency"]), lit(text("EU"))),
            Expr::In {
                item: Box::new(Expr::AgentRegion),
                set: lit(Value::List(vec![text("eu-west-1"), text("eu-central-1")])),
                negated: true,
            },
        ],
    };
    rule("residency#0", RuleKind::Forbid, Some(when), None, src)
}

/// A small mesh: three agents, a context with a record, enums, an optional number, an optional
/// duration and a set of strings, and rules of every kind.
fn realistic_plan() -> Plan {
    let context = Type::Record {
        fields: vec![
            field(
                "subject",
                false,
                Type::Record {
                    fields: vec![
                        field("residency", false, Type::String),
                        field(
                            "role",
                            false,
                            enumeration(&["analyst", "auditor", "customer"]),
                        ),
                    ],
                },
            ),
            field("channel", false, enumeration(&["api", "batch", "web"])),
            field("amount", true, Type::Number),
            field(
                "tags",
                false,
                Type::Set {
                    of: Box::new(Type::String),
                },
            ),
            field("timeout", true, Type::Duration),
        ],
    };
    let rules = vec![
        residency_rule(6),
        // limits: forbid when intent is fetch_ledger and amount > 10000 unless subject.role == "auditor"
        rule(
            "limits#0",
            RuleKind::Forbid,
            Some(Expr::And {
                all: vec![
                    Expr::IntentIs {
                        intent: FETCH_LEDGER,
                    },
                    cmp(CmpOp::Gt, fld(&["amount"]), lit(Value::Number(10000.0))),
                ],
            }),
            Some(cmp(
                CmpOp::Eq,
                fld(&["subject", "role"]),
                lit(text("auditor")),
            )),
            7,
        ),
        // batch: forbid when channel == "batch" and not (timeout < 1m)
        rule(
            "batch#0",
            RuleKind::Forbid,
            Some(Expr::And {
                all: vec![
                    cmp(CmpOp::Eq, fld(&["channel"]), lit(text("batch"))),
                    Expr::Not {
                        e: Box::new(cmp(
                            CmpOp::Lt,
                            fld(&["timeout"]),
                            lit(Value::Number(60000.0)),
                        )),
                    },
                ],
            }),
            None,
            8,
        ),
        // vetted: permit when agent.labels.vetted == true and agent.trust >= 0.7
        //         and (confidence >= 0.9 or "override" in tags)
        rule(
            "vetted#0",
            RuleKind::Permit,
            Some(Expr::And {
                all: vec![
                    cmp(
                        CmpOp::Eq,
                        Box::new(Expr::AgentLabel {
                            key: "vetted".to_string(),
                        }),
                        lit(Value::Bool(true)),
                    ),
                    cmp(
                        CmpOp::Ge,
                        Box::new(Expr::AgentTrust),
                        lit(Value::Number(0.7)),
                    ),
                    Expr::Or {
                        any: vec![
                            cmp(
                                CmpOp::Ge,
                                Box::new(Expr::Confidence),
                                lit(Value::Number(0.9)),
                            ),
                            Expr::In {
                                item: lit(text("override")),
                                set: fld(&["tags"]),
                                negated: false,
                            },
                        ],
                    },
                ],
            }),
            None,
            9,
        ),
        // heavy: forbid when agent.labels.weight > 100 and has amount
        rule(
            "heavy#0",
            RuleKind::Forbid,
            Some(Expr::And {
                all: vec![
                    cmp(
                        CmpOp::Gt,
                        Box::new(Expr::AgentLabel {
                            key: "weight".to_string(),
                        }),
                        lit(Value::Number(100.0)),
                    ),
                    Expr::Has {
                        path: path(&["amount"]),
                    },
                ],
            }),
            None,
            10,
        ),
        // Not authorization: both stay out of Cedar.
        rule(
            "confidence_floor#0",
            RuleKind::Escalate,
            Some(cmp(
                CmpOp::Lt,
                Box::new(Expr::Confidence),
                lit(Value::Number(0.85)),
            )),
            None,
            11,
        ),
        rule("audit#0", RuleKind::RequireAudit, None, None, 12),
    ];
    Plan {
        format: 1,
        plan_hash: String::new(),
        capabilities: vec![
            cap("documents", None),
            cap("documents.parse", Some(DOCUMENTS)),
            cap("invoices", None),
            cap("invoices.read", Some(INVOICES)),
            cap("invoices.summarize", Some(INVOICES)),
        ],
        data_classes: vec![
            DataClass {
                name: "acme.eu_personal".to_string(),
                parent: Some(PII),
                covers: vec![EU_PERSONAL],
            },
            DataClass {
                name: "std.data.financial".to_string(),
                parent: None,
                covers: vec![FINANCIAL],
            },
            DataClass {
                name: "std.data.pii".to_string(),
                parent: None,
                covers: vec![EU_PERSONAL, PII],
            },
        ],
        context,
        agents: vec![
            agent(
                "finance_agent",
                &[INVOICES_READ, INVOICES_SUMMARIZE],
                &[EU_PERSONAL, FINANCIAL, PII],
                0.92,
                "eu-west-1",
                &[("tier", text("gold")), ("weight", Value::Number(2.5))],
                0,
            ),
            agent(
                "doc_parser",
                &[DOCUMENTS, DOCUMENTS_PARSE],
                &[EU_PERSONAL, PII],
                0.85,
                "us-east-1",
                &[("tier", text("silver"))],
                1,
            ),
            agent(
                "risk_assessor",
                &[INVOICES_READ],
                &[FINANCIAL],
                0.75,
                "eu-west-1",
                &[("vetted", Value::Bool(true))],
                2,
            ),
        ],
        humans: vec![],
        intents: vec![intent("fetch_ledger", 3), intent("summarize", 4)],
        rules,
        reviews: vec![],
        limits: Limits::default(),
        classifier: Default::default(),
        cedar: CedarPart::default(),
        source_map: (0..13)
            .map(|i| SourceLoc {
                file: "acme/finance.intent".to_string(),
                line: 10 + i,
                col: 3,
            })
            .collect(),
    }
}

fn context(residency: &str, role: &str, channel: &str) -> serde_json::Value {
    json!({ "subject": { "residency": residency, "role": role }, "channel": channel, "tags": [] })
}

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
