//! `intent build --cedar-out DIR` writes the Cedar schema, policies and entities of each
//! example as files, and cedar-policy (Cedar's own library, not our code) reads every one back:
//! the schema parses, the policies validate against it in strict mode, the entities conform.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cedar_policy::{Entities, PolicySet, Schema, ValidationMode, Validator};
use common::{intent, root, text, workdir};
use std::str::FromStr;

#[test]
fn cedar_policy_accepts_the_files_of_every_example() {
    for example in [
        "examples/finance",
        "examples/logistics",
        "examples/healthcare",
    ] {
        let dir = workdir("cedar-out", &[]);
        let cedar = dir.join("cedar");
        let out = intent(
            &root(),
            &[
                "build",
                example,
                "-o",
                dir.join("plan.json").to_str().unwrap(),
                "--cedar-out",
                cedar.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{example}: {}", text(&out.stderr));
        let read = |name: &str| std::fs::read_to_string(cedar.join(name)).unwrap();
        let (schema, _warnings) = Schema::from_cedarschema_str(&read("schema.cedarschema"))
            .unwrap_or_else(|e| panic!("{example}: the schema: {e:?}"));
        let policies = PolicySet::from_str(&read("policies.cedar"))
            .unwrap_or_else(|e| panic!("{example}: the policies: {e:?}"));
        assert!(policies.policies().count() > 0, "{example}: no policies");
        let result = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
        assert!(
            result.validation_passed(),
            "{example}: {:?}",
            result.validation_errors().collect::<Vec<_>>()
        );
        let entities = Entities::from_json_str(&read("entities.json"), Some(&schema))
            .unwrap_or_else(|e| panic!("{example}: the entities: {e:?}"));
        assert!(entities.iter().count() > 0, "{example}: no entities");
        // The same text as the plan carries.
        let plan: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap();
        assert_eq!(
            plan["cedar"]["policies"].as_str().unwrap(),
            read("policies.cedar")
        );
    }
}
