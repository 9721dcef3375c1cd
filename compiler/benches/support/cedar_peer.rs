//! The Cedar peer of `decide.rs`: cedar-policy loaded once from the plan's generated Cedar,
//! the requests a gateway would build for it, and the policy sets pre-split by (agent, intent).

use crate::agent_name;
use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityId, EntityTypeName, EntityUid, PolicyId,
    PolicySet, Request as CedarRequest, RestrictedExpression, Schema,
};
use intent_compiler::cedar::Oracle;
use intent_runtime::plan::{Plan, RuleKind};
use intent_runtime::Request;
use std::collections::HashMap;
use std::str::FromStr;

/// cedar-policy, loaded once: what every Cedar request is built from and checked against.
pub struct Cedar {
    pub schema: Schema,
    pub entities: Entities,
    pub all: PolicySet,
    /// Per (agent, intent): its agent's permit, its rule and the forbid.
    pub split: HashMap<(u32, u32), PolicySet>,
    pub agent_type: EntityTypeName,
    pub intent_type: EntityTypeName,
    pub action: EntityUid,
    /// The step's data classes: `[DataClass::"pii"]`.
    pub pii: EntityUid,
}

impl Cedar {
    /// `pairs[n]`: the (agent, intent) of permit rule `n`.
    pub fn new(plan: &Plan, oracle: &Oracle, pairs: &[(usize, usize)]) -> Cedar {
        let (schema, _) = Schema::from_cedarschema_str(&plan.cedar.schema).unwrap();
        let entities =
            Entities::from_json_value(plan.cedar.entities.clone(), Some(&schema)).unwrap();
        let policy = |id: String| {
            oracle
                .policies()
                .policy(&PolicyId::new(id))
                .unwrap()
                .clone()
        };
        let mut split = HashMap::with_capacity(plan.intents.len());
        for (n, rule) in plan.rules.iter().enumerate() {
            if rule.kind != RuleKind::Permit {
                continue;
            }
            let (agent, intent) = pairs[n];
            let mut set = PolicySet::new();
            set.add(policy(format!("agent:{}", agent_name(agent))))
                .unwrap();
            set.add(policy(rule.id.clone())).unwrap();
            set.add(policy("residency#0".to_string())).unwrap();
            split.insert((agent as u32, intent as u32), set);
        }
        let uid = |ty: &str, id: &str| {
            EntityUid::from_type_name_and_id(
                EntityTypeName::from_str(ty).unwrap(),
                EntityId::new(id),
            )
        };
        Cedar {
            schema,
            entities,
            all: oracle.policies().clone(),
            split,
            agent_type: EntityTypeName::from_str("Agent").unwrap(),
            intent_type: EntityTypeName::from_str("Intent").unwrap(),
            action: uid("Action", "work"),
            pii: uid("DataClass", "pii"),
        }
    }

    /// The Cedar request for one of our requests, served by `agent`: what a gateway that asks
    /// Cedar has to build per request (type names and fixed uids are made once).
    pub fn request(&self, agent: &str, req: &Request) -> CedarRequest {
        let text = |key: &str| {
            req.context
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let principal =
            EntityUid::from_type_name_and_id(self.agent_type.clone(), EntityId::new(agent));
        let resource = EntityUid::from_type_name_and_id(
            self.intent_type.clone(),
            EntityId::new(req.intent.as_deref().unwrap_or_default()),
        );
        let context = Context::from_pairs(
            [
                (
                    "confidence".to_string(),
                    RestrictedExpression::new_decimal(format!(
                        "{:.4}",
                        req.confidence.unwrap_or_default()
                    )),
                ),
                (
                    "depth".to_string(),
                    RestrictedExpression::new_decimal("0.0000"),
                ),
                (
                    "data".to_string(),
                    RestrictedExpression::new_set([RestrictedExpression::new_entity_uid(
                        self.pii.clone(),
                    )]),
                ),
                (
                    "region".to_string(),
                    RestrictedExpression::new_string(text("region")),
                ),
                (
                    "residency".to_string(),
                    RestrictedExpression::new_string(text("residency")),
                ),
            ]
            .into_iter()
            .chain(
                ["requester", "tier"]
                    .into_iter()
                    .filter(|field| req.context.contains_key(*field))
                    .map(|field| {
                        (
                            field.to_string(),
                            RestrictedExpression::new_string(text(field)),
                        )
                    }),
            ),
        )
        .unwrap();
        CedarRequest::new(
            principal,
            self.action.clone(),
            resource,
            context,
            Some(&self.schema),
        )
        .unwrap()
    }

    pub fn allows(&self, policies: &PolicySet, request: &CedarRequest) -> bool {
        let response = Authorizer::new().is_authorized(request, policies, &self.entities);
        assert!(
            response.diagnostics().errors().next().is_none(),
            "Cedar evaluation errors"
        );
        response.decision() == Decision::Allow
    }
}
