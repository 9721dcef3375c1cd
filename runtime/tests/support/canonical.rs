//! Shared by `runtime/tests/golden.rs` and the workspace's `tests/golden_corpus.rs`: the digest
//! that compares a recorded answer with today's, independent of key order.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The SHA-256 (hex) of a value's canonical JSON: the whole answer, trace included.
pub fn digest(v: &Value) -> String {
    let mut s = String::new();
    canonical(v, &mut s);
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A value's JSON with every object's keys sorted, whatever serde_json's `preserve_order`
/// feature (which a workspace build may turn on and the runtime's own build does not).
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}
