//! `plan_hash`: the one definition of a plan's hash, used by the compiler when it writes a plan
//! and by the runtime when it loads one (a plan whose stated hash is not the hash of its content
//! is refused), so the two always agree.
//!
//! The hash covers the plan's meaning (`Plan::meaning`: no hash, source map or Cedar text) with
//! every source reference (`src`) removed, so reformatting, comments and moving text between
//! files never change it. The JSON it hashes is canonical: object keys sorted at every level,
//! whatever serde_json's `preserve_order` feature (which another crate in a build may turn on)
//! makes of the key order, so a runtime built alone computes the same hash as the compiler.

use super::Plan;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Hex SHA-256 of the plan's meaning, without source references, as canonical JSON.
pub fn plan_hash(plan: &Plan) -> String {
    let mut meaning = plan.meaning();
    strip_src(&mut meaning);
    canonical(&mut meaning);
    // A `Value` holds only strings, finite numbers, maps and arrays: writing it cannot fail.
    let bytes = serde_json::to_vec(&meaning).unwrap_or_default();
    hex(&Sha256::digest(&bytes))
}

/// Removes the `src` field of every plan object. Agent labels are a user's map, not a plan
/// object: a label named `src` is meaning, so they are left as they are.
pub(crate) fn strip_src(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("src");
            for (k, x) in m.iter_mut() {
                if k != "labels" {
                    strip_src(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(strip_src),
        _ => {}
    }
}

/// Sorts the keys of every object (a no-op when serde_json keeps maps sorted anyway; with its
/// `preserve_order`, which some dependency may turn on, maps keep insertion order).
pub(crate) fn canonical(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.sort_keys();
            m.values_mut().for_each(canonical);
        }
        Value::Array(a) => a.iter_mut().for_each(canonical),
        _ => {}
    }
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn key_order_does_not_change_the_canonical_form() {
        let mut a: Value =
            serde_json::from_str(r#"{"b":1,"a":{"d":[{"y":1,"x":2}],"c":2}}"#).unwrap();
        let mut b: Value =
            serde_json::from_str(r#"{"a":{"c":2,"d":[{"x":2,"y":1}]},"b":1}"#).unwrap();
        canonical(&mut a);
        canonical(&mut b);
        assert_eq!(
            serde_json::to_vec(&a).unwrap(),
            serde_json::to_vec(&b).unwrap()
        );
        assert_eq!(
            String::from_utf8(serde_json::to_vec(&a).unwrap()).unwrap(),
            r#"{"a":{"c":2,"d":[{"x":2,"y":1}]},"b":1}"#
        );
    }

    #[test]
    fn source_references_go_but_a_label_named_src_stays() {
        let mut v: Value = serde_json::from_str(
            r#"{"agents":[{"name":"a","src":3,"labels":{"src":"eu"}}],"src":1}"#,
        )
        .unwrap();
        strip_src(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"agents":[{"name":"a","labels":{"src":"eu"}}]})
        );
    }

    #[test]
    fn hex_writes_two_lowercase_digits_per_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }
}
