//! Random request contexts for the property tests that compare two evaluations
//! (`arm_index.rs`, `program.rs`): fields `f0`, `f1` and `o.f2`, each absent, null, a scalar, a
//! list, a record or a list holding a record (which fault when compared); `o` itself sometimes
//! a scalar instead of a record.

use proptest::prelude::*;
use serde_json::{json, Map, Value as Json};

fn json_scalar() -> impl Strategy<Value = Json> {
    prop_oneof![
        prop_oneof![
            Just("a"),
            Just("b"),
            Just("c"),
            Just(""),
            Just("é"),
            Just("zz"),
            Just("eu")
        ]
        .prop_map(|s| json!(s)),
        prop_oneof![
            Just(json!(0)),
            Just(json!(-0.0)),
            Just(json!(1)),
            Just(json!(0.5)),
            Just(json!(1.5)),
            Just(json!(7))
        ],
        any::<bool>().prop_map(|b| json!(b)),
    ]
}

/// A context value: absent (`None`), null, scalars, lists, records, lists holding records.
fn json_value() -> impl Strategy<Value = Option<Json>> {
    prop_oneof![
        2 => Just(None),
        1 => Just(Some(Json::Null)),
        6 => json_scalar().prop_map(Some),
        2 => proptest::collection::vec(json_scalar(), 0..3).prop_map(|v| Some(Json::Array(v))),
        1 => Just(Some(json!({"x": 1}))),
        1 => Just(Some(json!(["a", {"x": 1}]))),
    ]
}

pub fn context() -> impl Strategy<Value = Map<String, Json>> {
    (
        json_value(),
        json_value(),
        json_value(),
        prop::bool::weighted(0.7),
    )
        .prop_map(|(f0, f1, f2, o_is_record)| {
            let mut m = Map::new();
            if let Some(v) = f0 {
                m.insert("f0".into(), v);
            }
            if let Some(v) = f1 {
                m.insert("f1".into(), v);
            }
            if o_is_record {
                let mut o = Map::new();
                if let Some(v) = f2 {
                    o.insert("f2".into(), v);
                }
                m.insert("o".into(), Json::Object(o));
            } else if let Some(v) = f2 {
                m.insert("o".into(), v);
            }
            m
        })
}
