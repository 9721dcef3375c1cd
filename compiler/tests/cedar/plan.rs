//! The plan the Cedar tests (`../cedar.rs`) generate policies from: a realistic mesh built in
//! code (capabilities, data classes, agents with labels, intents, rules over a context with
//! optional fields), and the small builders it is written with.

use intent_runtime::plan::{
    Agent, Capability, CedarPart, CmpOp, DataClass, Expr, Field, Intent, Limits, Plan, Route, Rule,
    RuleKind, SourceLoc, SrcId, Type, Value,
};
use serde_json::json;
use std::collections::BTreeMap;

// Capability ids (sorted by name, as in a plan).
pub const DOCUMENTS: u32 = 0;
pub const DOCUMENTS_PARSE: u32 = 1;
pub const INVOICES: u32 = 2;
pub const INVOICES_READ: u32 = 3;
pub const INVOICES_SUMMARIZE: u32 = 4;
// Data class ids.
pub const EU_PERSONAL: u32 = 0;
pub const FINANCIAL: u32 = 1;
pub const PII: u32 = 2;
// Agent ids.
pub const FINANCE_AGENT: u32 = 0;
pub const DOC_PARSER: u32 = 1;
pub const RISK_ASSESSOR: u32 = 2;
// Intent ids.
pub const FETCH_LEDGER: u32 = 0;
pub const SUMMARIZE: u32 = 1;

pub fn cap(name: &str, parent: Option<u32>) -> Capability {
    Capability {
        name: name.to_string(),
        parent,
        group_only: parent.is_none(),
    }
}

pub fn field(name: &str, optional: bool, ty: Type) -> Field {
    Field {
        name: name.to_string(),
        optional,
        ty,
        data: None,
        claim: None,
    }
}

pub fn enumeration(values: &[&str]) -> Type {
    Type::Enum {
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

#[allow(clippy::too_many_arguments)]
pub fn agent(
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

pub fn intent(name: &str, src: SrcId) -> Intent {
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

pub fn rule(
    id: &str,
    kind: RuleKind,
    when: Option<Expr>,
    unless: Option<Expr>,
    src: SrcId,
) -> Rule {
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

pub fn lit(value: Value) -> Box<Expr> {
    Box::new(Expr::Lit { value })
}

pub fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

pub fn path(p: &[&str]) -> Vec<String> {
    p.iter().map(|s| s.to_string()).collect()
}

pub fn fld(p: &[&str]) -> Box<Expr> {
    Box::new(Expr::Field { path: path(p) })
}

pub fn cmp(cmp: CmpOp, lhs: Box<Expr>, rhs: Box<Expr>) -> Expr {
    Expr::Cmp { cmp, lhs, rhs }
}

/// GDPR residency: `data touches pii and subject.residency == "EU" and agent.region not in
/// eu_regions`.
pub fn residency_rule(src: SrcId) -> Rule {
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
pub fn realistic_plan() -> Plan {
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
                file: "acme/finance.intent".into(),
                line: 10 + i,
                col: 3,
            })
            .collect(),
    }
}

pub fn context(residency: &str, role: &str, channel: &str) -> serde_json::Value {
    json!({ "subject": { "residency": residency, "role": role }, "channel": channel, "tags": [] })
}
