//! JSON values read strictly, for everything a request carries (bodies, `x-intent-context`,
//! decision-log records). serde_json keeps the last of two equal keys, so
//! `{"residency":"EU","residency":"US"}` would decide as US while a proxy that read the first
//! one saw EU: here a repeated key is an error. So is nesting deeper than `limits::MAX_DEPTH`,
//! checked before descending, so reading recurses at most that deep whatever the input. The
//! values are built by serde visitors over serde_json's own parser: nothing here reads JSON text.

use crate::limits::{echo, MAX_DEPTH};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Reads one JSON value found `depth` containers deep (a context's own fields are at depth 1).
#[derive(Debug, Clone, Copy)]
pub struct ValueSeed {
    depth: usize,
}

impl ValueSeed {
    /// A value `depth` containers deep.
    pub fn at(depth: usize) -> ValueSeed {
        ValueSeed { depth }
    }

    /// The seed for what a container at this depth holds, or the error when that is too deep.
    fn inner<E: de::Error>(self) -> Result<ValueSeed, E> {
        if self.depth >= MAX_DEPTH {
            Err(E::custom(format_args!(
                "nested deeper than {MAX_DEPTH} levels"
            )))
        } else {
            Ok(ValueSeed::at(self.depth + 1))
        }
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // serde_json never hands over a NaN or an infinity.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.inner()?;
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        object_fields(map, self.inner()?).map(Value::Object)
    }
}

/// The fields of an object whose values are read with `values`; a repeated key is an error.
pub fn object_fields<'de, A: MapAccess<'de>>(
    mut map: A,
    values: ValueSeed,
) -> Result<Map<String, Value>, A::Error> {
    let mut out = Map::new();
    while let Some(key) = map.next_key::<String>()? {
        if out.contains_key(&key) {
            return Err(duplicate_key(&key));
        }
        let value = map.next_value_seed(values)?;
        out.insert(key, value);
    }
    Ok(out)
}

/// The error for a key given twice in one object.
pub fn duplicate_key<E: de::Error>(key: &str) -> E {
    E::custom(format_args!(
        "duplicate key `{}`: give each key once",
        echo(key)
    ))
}

/// Reads a JSON object whose fields form a context (depth 1), for `deserialize_with`.
pub fn context<'de, D: Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
    struct Object;
    impl<'de> Visitor<'de> for Object {
        type Value = Map<String, Value>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            object_fields(map, ValueSeed::at(1))
        }
    }
    d.deserialize_map(Object)
}

/// Reads `text` as one JSON value `depth` containers deep, strictly.
pub fn value_from_str(text: &str, depth: usize) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = ValueSeed::at(depth).deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_as_serde_json_reads_them() {
        let text = r#"{"a":[1,-2,3.5,"x",null,true,{"b":{}}],"c":"\u00e9\n"}"#;
        assert_eq!(
            value_from_str(text, 0).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
    }

    #[test]
    fn a_repeated_key_is_an_error_at_any_depth() {
        let e = value_from_str(r#"{"residency":"EU","residency":"US"}"#, 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "duplicate key `residency`: give each key once at line 1 column 29"
        );
        assert!(e.is_data());
        let e = value_from_str(r#"{"a":[{"b":1,"b":1}]}"#, 0).unwrap_err();
        assert!(e.to_string().starts_with("duplicate key `b`"), "{e}");
        // Equal keys in different objects are different fields.
        assert_eq!(
            value_from_str(r#"{"a":{"a":1}}"#, 0).unwrap(),
            json!({"a": {"a": 1}})
        );
    }

    #[test]
    fn nesting_is_bounded_before_descending() {
        let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        assert!(value_from_str(&deep(MAX_DEPTH), 0).is_ok());
        let e = value_from_str(&deep(MAX_DEPTH + 1), 0).unwrap_err();
        assert!(
            e.to_string().starts_with("nested deeper than 32 levels"),
            "{e}"
        );
        // Far past serde_json's own limit: still an error, not a stack overflow.
        let e = value_from_str(&deep(100_000), 0).unwrap_err();
        assert!(e.is_data(), "{e}");
        // A value that starts deeper has less room.
        assert!(value_from_str(&deep(MAX_DEPTH - 1), 1).is_ok());
        assert!(value_from_str(&deep(MAX_DEPTH), 1).is_err());
    }
}
